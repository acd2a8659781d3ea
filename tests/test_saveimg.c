/* Tests of xenmesh-saveimg (storage/saveimg.c), the program itself, on
 * files under a temporary directory: bad arguments first, then write and
 * read back (empty, small, a stream of several buffers), an image larger
 * than the room, another VM or generation, damaged data and headers, a
 * file cut short, show and clear, and stdin and stdout being one socket
 * (blocking or not) as the agent runs it, a device changed while it is
 * sent (the end says so), and a peer gone away. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#ifndef SAVEIMG_BIN
#error SAVEIMG_BIN must name the built xenmesh-saveimg
#endif

#define HDR 4096
#define DEV_LEN (8 * 1024 * 1024)
#define BIG_LEN (3 * 1024 * 1024 + 12345)      /* not a multiple of 1 MiB */

struct fx {
	char dir[64];
	char dev[128], in[128], outp[128], errp[128];
	unsigned char *data;            /* the stream in f->in */
	size_t len;
	char hex[65];                   /* its sha256 */
	unsigned char *out;             /* stdout of the last run */
	size_t out_len;
	char err[4096];                 /* stderr of the last run */
};

static unsigned char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	unsigned char *buf;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	assert_int_equal(fstat(fileno(fp), &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)sb.st_size, fp);
	assert_int_equal(*len, (size_t)sb.st_size);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static void
put(const char *path, long off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, len, off), (ssize_t)len);
	close(fd);
}

static off_t
size_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static void
make_dev(struct fx *f, size_t len)
{
	unsigned char *fill = malloc(len);
	FILE *fp = fopen(f->dev, "w");

	assert_non_null(fill);
	assert_non_null(fp);
	memset(fill, 0xaa, len);
	assert_int_equal(fwrite(fill, 1, len, fp), len);
	fclose(fp);
	free(fill);
}

/* f->in := len bytes, seeded so that two streams differ. */
static void
make_stream(struct fx *f, size_t len, unsigned seed)
{
	unsigned char md[crypto_hash_sha256_BYTES];
	FILE *fp = fopen(f->in, "w");

	free(f->data);
	f->data = malloc(len + 1);
	assert_non_null(f->data);
	for (size_t i = 0; i < len; i++)
		f->data[i] = (unsigned char)(((i + seed) * 2654435761u) >> 13);
	f->len = len;
	assert_non_null(fp);
	assert_int_equal(fwrite(f->data, 1, len, fp), len);
	fclose(fp);
	crypto_hash_sha256(md, f->data, len);
	sodium_bin2hex(f->hex, sizeof(f->hex), md, sizeof(md));
}

/* Start the program: stdin := in, stdout := out, stderr := f->errp. */
static pid_t
start(struct fx *f, int in, int out, const char **argv)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int err = open(f->errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		/* what it does on a peer gone is its own, not inherited */
		signal(SIGPIPE, SIG_DFL);
		if (err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		execv(SAVEIMG_BIN, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Its exit status (it must exit, not be killed); f->err := its stderr. */
static int
finish(struct fx *f, pid_t pid)
{
	unsigned char *e;
	size_t len;
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	e = slurp(f->errp, &len);
	snprintf(f->err, sizeof(f->err), "%s", (char *)e);
	free(e);
	return WEXITSTATUS(st);
}

static void
args(const char **argv, va_list ap)
{
	size_t n = 1;

	argv[0] = SAVEIMG_BIN;
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	argv[n] = NULL;
}

/* Run it with stdin from `in` (NULL: /dev/null), stdout to f->outp: its
 * exit status, f->out its stdout. */
static int
run(struct fx *f, const char *in, ...)
{
	const char *argv[16];
	va_list ap;
	int fi, fo, rc;

	va_start(ap, in);
	args(argv, ap);
	va_end(ap);
	fi = open(in != NULL ? in : "/dev/null", O_RDONLY);
	fo = open(f->outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fi >= 0 && fo >= 0);
	rc = finish(f, start(f, fi, fo, argv));
	close(fi);
	close(fo);
	free(f->out);
	f->out = slurp(f->outp, &f->out_len);
	return rc;
}

/* Run it with stdin and stdout one socket (non-blocking or not): send
 * data into the other end, shut it for writing, read to the end. */
static int
run_socket(struct fx *f, bool nonblock, const unsigned char *data, size_t len, ...)
{
	const char *argv[16];
	size_t cap = 1 << 20;
	va_list ap;
	int sv[2], rc;
	pid_t pid;

	va_start(ap, len);
	args(argv, ap);
	va_end(ap);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (nonblock)
		assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	pid = start(f, sv[1], sv[1], argv);
	close(sv[1]);
	for (size_t done = 0; done < len;) {
		ssize_t n = send(sv[0], data + done, len - done, MSG_NOSIGNAL);

		assert_true(n > 0);
		done += (size_t)n;
	}
	assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
	free(f->out);
	f->out = malloc(cap + 1);
	f->out_len = 0;
	for (;;) {
		ssize_t n;

		if (f->out_len == cap) {
			cap *= 2;
			f->out = realloc(f->out, cap + 1);
		}
		assert_non_null(f->out);
		n = read(sv[0], f->out + f->out_len, cap - f->out_len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		f->out_len += (size_t)n;
	}
	f->out[f->out_len] = '\0';
	close(sv[0]);
	rc = finish(f, pid);
	return rc;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_saveimg.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->dev, sizeof(f->dev), "%s/dev", f->dir);
	snprintf(f->in, sizeof(f->in), "%s/in", f->dir);
	snprintf(f->outp, sizeof(f->outp), "%s/out", f->dir);
	snprintf(f->errp, sizeof(f->errp), "%s/err", f->dir);
	make_dev(f, DEV_LEN);
	make_stream(f, BIG_LEN, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->data);
	free(f->out);
	free(f);
	return 0;
}

static void
out_is(struct fx *f, const char *text)
{
	assert_int_equal(f->out_len, strlen(text));
	assert_memory_equal(f->out, text, f->out_len);
}

static void
err_has(struct fx *f, const char *text)
{
	if (strstr(f->err, text) == NULL)
		fail_msg("stderr \"%s\" does not say \"%s\"", f->err, text);
}

/* f's stream saved as web1 generation 7: the line it prints. */
static void
write_ok(struct fx *f)
{
	char line[256];

	assert_int_equal(run(f, f->in, "write", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 0);
	snprintf(line, sizeof(line), "saved web1 7 %zu %s\n", f->len, f->hex);
	out_is(f, line);
	assert_string_equal(f->err, "");
}

/* The header block holds exactly this text, then NULs. */
static void
header_is(struct fx *f, const char *text)
{
	size_t len;
	unsigned char *d = slurp(f->dev, &len);

	assert_true(len >= HDR);
	assert_memory_equal(d, text, strlen(text));
	for (size_t i = strlen(text); i < HDR; i++)
		if (d[i] != 0)
			fail_msg("header byte %zu is %#x, not NUL", i, d[i]);
	free(d);
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	char missing[160], name64[65];

	assert_int_equal(run(f, NULL, NULL), 2);
	err_has(f, "usage:");
	assert_int_equal(run(f, NULL, "store", f->dev, NULL), 2);
	assert_int_equal(run(f, NULL, "write", f->dev, NULL), 2);
	err_has(f, "needs --vm and --generation");
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", f->dev, NULL), 2);
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7", NULL), 2);
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7", f->dev,
			     f->dev, NULL), 2);
	assert_int_equal(run(f, NULL, "read", "--vm", "a", "--vm", "b", "--generation", "7",
			     f->dev, NULL), 2);
	assert_int_equal(run(f, NULL, "read", "--size", "1", f->dev, NULL), 2);
	assert_int_equal(run(f, NULL, "show", "--vm", "web1", f->dev, NULL), 2);
	assert_int_equal(run(f, NULL, "clear", "--generation", "1", f->dev, NULL), 2);
	memset(name64, 'a', 64);
	name64[64] = '\0';
	const char *bad_names[] = { "", ".web", "-web", "web/1", "web 1", "wéb", name64 };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		assert_int_equal(run(f, NULL, "check", "--vm", bad_names[i], "--generation",
				     "1", f->dev, NULL), 2);
		err_has(f, "not a VM name");
	}
	name64[63] = '\0';              /* 63 is the longest: not a usage error */
	assert_int_equal(run(f, NULL, "check", "--vm", name64, "--generation", "1", f->dev,
			     NULL), 1);
	const char *bad_gens[] = { "0", "-1", "+1", "07", "1x", "", "18446744073709551616" };
	for (size_t i = 0; i < sizeof(bad_gens) / sizeof(bad_gens[0]); i++) {
		assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation",
				     bad_gens[i], f->dev, NULL), 2);
		err_has(f, "not a generation");
	}
	assert_int_equal(run(f, NULL, "--help", NULL), 0);
	assert_non_null(strstr((char *)f->out, "usage: xenmesh-saveimg write|read|check"));
	/* a device that is not there is not made */
	snprintf(missing, sizeof(missing), "%s/nosuch", f->dir);
	assert_int_equal(run(f, f->in, "write", "--vm", "web1", "--generation", "7",
			     missing, NULL), 1);
	err_has(f, "cannot open");
	err_has(f, missing);
	assert_int_equal(access(missing, F_OK), -1);
	assert_int_equal(run(f, NULL, "clear", missing, NULL), 1);
	assert_int_equal(access(missing, F_OK), -1);
	assert_int_equal(run(f, NULL, "show", "/dev/null", NULL), 1);
	err_has(f, "neither a block device nor a regular file");
	make_dev(f, 8191);
	assert_int_equal(run(f, NULL, "clear", f->dev, NULL), 1);
	err_has(f, "too small");
	/* nothing was written on the way */
	assert_int_equal(size_of(f->dev), 8191);
	free(f->out);
	f->out = slurp(f->dev, &f->out_len);
	for (size_t i = 0; i < f->out_len; i++)
		assert_int_equal(f->out[i], 0xaa);
}

static void
round_trip(struct fx *f, size_t len)
{
	char text[512];
	size_t dlen;
	unsigned char *d;

	make_stream(f, len, (unsigned)len);
	write_ok(f);
	snprintf(text, sizeof(text), "xenmesh-save 1\nvm web1\ngeneration 7\nlength %zu\n"
		 "sha256 %s\n", len, f->hex);
	header_is(f, text);
	d = slurp(f->dev, &dlen);
	assert_int_equal(dlen, DEV_LEN);        /* not grown, not truncated */
	assert_memory_equal(d + HDR, f->data, len);
	free(d);
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 0);
	assert_int_equal(f->out_len, len);
	assert_memory_equal(f->out, f->data, len);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 0);
	snprintf(text, sizeof(text), "ok web1 7 %zu %s\n", len, f->hex);
	out_is(f, text);
}

static void
test_round_trip(void **state)
{
	struct fx *f = *state;

	round_trip(f, BIG_LEN);
	round_trip(f, 0);
	round_trip(f, 1);
	round_trip(f, 1024 * 1024);             /* exactly the buffer */
	/* the whole room */
	make_dev(f, DEV_LEN);
	round_trip(f, DEV_LEN - HDR);
}

static void
test_larger_than_room(void **state)
{
	struct fx *f = *state;

	make_dev(f, 2 * HDR);
	make_stream(f, HDR, 1);                 /* the room exactly: fits */
	write_ok(f);
	make_stream(f, HDR + 1, 2);
	assert_int_equal(run(f, f->in, "write", "--vm", "web1", "--generation", "8", f->dev,
			     NULL), 1);
	err_has(f, "the image of VM web1 is larger than");
	err_has(f, "4096 bytes of room");
	assert_int_equal(f->out_len, 0);
	assert_int_equal(size_of(f->dev), 2 * HDR);
	/* the old image (generation 7) is gone, not left looking valid */
	header_is(f, "");
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "holds no save image");
	assert_int_equal(f->out_len, 0);
	/* far larger, over several buffers */
	make_dev(f, 1024 * 1024 + 3 * HDR);
	make_stream(f, BIG_LEN, 3);
	assert_int_equal(run(f, f->in, "write", "--vm", "web1", "--generation", "8", f->dev,
			     NULL), 1);
	err_has(f, "larger than");
	assert_int_equal(size_of(f->dev), 1024 * 1024 + 3 * HDR);
	header_is(f, "");
}

static void
test_other_image(void **state)
{
	struct fx *f = *state;

	write_ok(f);
	assert_int_equal(run(f, NULL, "read", "--vm", "web2", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "holds VM web1 generation 7, not web2 generation 7");
	err_has(f, f->dev);
	assert_int_equal(f->out_len, 0);
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "8", f->dev,
			     NULL), 1);
	err_has(f, "holds VM web1 generation 7, not web1 generation 8");
	assert_int_equal(f->out_len, 0);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "6", f->dev,
			     NULL), 1);
	assert_int_equal(f->out_len, 0);
}

/* One byte changed in the third MiB: read sends it all, then fails (its
 * reader takes it whole only on exit 0); check fails alike. */
static void
test_damaged_data(void **state)
{
	struct fx *f = *state;
	unsigned char b = (unsigned char)~f->data[BIG_LEN - 1000];

	write_ok(f);
	put(f->dev, HDR + BIG_LEN - 1000, &b, 1);
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "save image of VM web1 damaged");
	err_has(f, "save image of VM web1 damaged (its sha256 differs) on ");
	assert_int_equal(f->out_len, f->len);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "its sha256 differs");
	assert_int_equal(f->out_len, 0);
	/* the byte back: whole again (so the failure above was that byte) */
	b = f->data[BIG_LEN - 1000];
	put(f->dev, HDR + BIG_LEN - 1000, &b, 1);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 0);
}

/* A header block from tmpl, @ and # standing for the stream's length and
 * sha256, ~ for its first 63 hex digits. */
static void
put_header(struct fx *f, const char *tmpl)
{
	char block[HDR];
	size_t o = 0;

	memset(block, 0, sizeof(block));
	for (const char *t = tmpl; *t != '\0'; t++) {
		if (*t == '@')
			o += (size_t)snprintf(block + o, sizeof(block) - o, "%zu", f->len);
		else if (*t == '#' || *t == '~')
			o += (size_t)snprintf(block + o, sizeof(block) - o, "%.*s",
					      *t == '#' ? 64 : 63, f->hex);
		else
			block[o++] = *t;
	}
	put(f->dev, 0, block, sizeof(block));
}

static void
test_damaged_header(void **state)
{
	struct fx *f = *state;
	const char *bad[] = {
		"xenmesh-save 2\nvm web1\ngeneration 7\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration 07\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration 7\nlength @\nsha256 #",
		"xenmesh-save 1\nvm web1\ngeneration 7\nlength @\nsha256 #\nmore 1\n",
		"xenmesh-save 1\nvm web1\nlength @\ngeneration 7\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration 7\nlength @\nsha256 ~\n",
		"xenmesh-save 1\nvm web1\ngeneration 7\nlength  @\nsha256 #\n",
		"xenmesh-save 1\nvm .web1\ngeneration 7\nlength @\nsha256 #\n",
		"xenmesh-save 1\r\nvm web1\ngeneration 7\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration -1\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration +7\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration 0\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration 18446744073709551623\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"generation 7\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm web1\ngeneration 7\nlength @\nsha256 #0\n",
		" xenmesh-save 1\nvm web1\ngeneration 7\nlength @\nsha256 #\n",
		"xenmesh-save 1\nvm\tweb1\ngeneration 7\nlength @\nsha256 #\n",
	};
	const char *good = "xenmesh-save 1\nvm web1\ngeneration 7\nlength @\nsha256 #\n";
	char junk = 'x';

	make_stream(f, 5000, 4);
	write_ok(f);
	/* the texts are right but for their flaw: the good one passes */
	put_header(f, good);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_header(f, bad[i]);
		assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7",
				     f->dev, NULL), 1);
		err_has(f, "holds no valid save image: its header is damaged");
		assert_int_equal(f->out_len, 0);
		assert_int_equal(run(f, NULL, "show", f->dev, NULL), 1);
		err_has(f, "header is damaged");
	}
	/* upper-case hex */
	put_header(f, good);
	for (char *p = f->hex; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	put_header(f, good);
	assert_int_equal(run(f, NULL, "show", f->dev, NULL), 1);
	/* something after the NULs */
	make_stream(f, 5000, 4);
	put_header(f, good);
	put(f->dev, 4000, &junk, 1);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "header is damaged");
	/* no NUL at all */
	make_dev(f, DEV_LEN);
	assert_int_equal(run(f, NULL, "show", f->dev, NULL), 1);
	err_has(f, "header is damaged");
}

/* A file cut short: the header's length is beyond the room. */
static void
test_truncated(void **state)
{
	struct fx *f = *state;
	char text[128];

	write_ok(f);
	assert_int_equal(truncate(f->dev, HDR + BIG_LEN - 1), 0);
	assert_int_equal(run(f, NULL, "read", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	snprintf(text, sizeof(text), "damaged (its length %d is beyond the %d bytes of "
		 "room) on ", BIG_LEN, BIG_LEN - 1);
	err_has(f, text);
	assert_int_equal(f->out_len, 0);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "is beyond");
	assert_int_equal(size_of(f->dev), HDR + BIG_LEN - 1);      /* not grown */
	/* grown back by its last byte (zero: damaged), then that byte put back */
	assert_int_equal(truncate(f->dev, HDR + BIG_LEN), 0);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "its sha256 differs");
	put(f->dev, HDR + BIG_LEN - 1, &f->data[BIG_LEN - 1], 1);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 0);
}

static void
test_show_clear(void **state)
{
	struct fx *f = *state;
	char text[256];
	unsigned char *d;
	size_t len;

	assert_int_equal(run(f, NULL, "show", f->dev, NULL), 1);   /* 0xaa */
	write_ok(f);
	assert_int_equal(run(f, NULL, "show", f->dev, NULL), 0);
	snprintf(text, sizeof(text), "vm web1\ngeneration 7\nlength %zu\nsha256 %s\n",
		 f->len, f->hex);
	out_is(f, text);
	assert_int_equal(run(f, NULL, "clear", f->dev, NULL), 0);
	out_is(f, "");
	header_is(f, "");
	d = slurp(f->dev, &len);
	assert_int_equal(len, DEV_LEN);
	assert_memory_equal(d + HDR, f->data, f->len);     /* the data is left */
	free(d);
	assert_int_equal(run(f, NULL, "show", f->dev, NULL), 1);
	err_has(f, "holds no save image");
	assert_int_equal(f->out_len, 0);
	assert_int_equal(run(f, NULL, "check", "--vm", "web1", "--generation", "7", f->dev,
			     NULL), 1);
	err_has(f, "holds no save image");
	assert_int_equal(run(f, NULL, "clear", f->dev, NULL), 0);  /* none: still 0 */
}

/* As the agent runs it: stdin and stdout are one socket. */
static void
socket_round_trip(struct fx *f, bool nonblock)
{
	char line[256];

	assert_int_equal(run_socket(f, nonblock, f->data, f->len, "write", "--vm", "web1",
				    "--generation", "9", f->dev, NULL), 0);
	snprintf(line, sizeof(line), "saved web1 9 %zu %s\n", f->len, f->hex);
	out_is(f, line);
	assert_int_equal(run_socket(f, nonblock, NULL, 0, "read", "--vm", "web1",
				    "--generation", "9", f->dev, NULL), 0);
	assert_int_equal(f->out_len, f->len);
	assert_memory_equal(f->out, f->data, f->len);
}

static void
test_socket(void **state)
{
	struct fx *f = *state;

	socket_round_trip(f, false);
	make_stream(f, BIG_LEN - 77, 5);
	socket_round_trip(f, true);
}

/* The device changes while read sends it (after the check, pass 1): the
 * output was sent, the second sha256 tells, exit 1. */
static void
test_changed_while_sent(void **state)
{
	struct fx *f = *state;
	const char *argv[] = { SAVEIMG_BIN, "read", "--vm", "web1", "--generation", "7",
			       f->dev, NULL };
	unsigned char *got = malloc(BIG_LEN + 1), b = (unsigned char)~f->data[BIG_LEN - 1];
	int pp[2], null = open("/dev/null", O_RDONLY);
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	write_ok(f);
	assert_non_null(got);
	assert_true(null >= 0);
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	pid = start(f, null, pp[1], argv);
	close(pp[1]);
	close(null);
	/* a first byte: the pass waits on the pipe in the first MiB */
	n = read(pp[0], got, 1);
	assert_int_equal(n, 1);
	len = 1;
	put(f->dev, HDR + BIG_LEN - 1, &b, 1);
	while ((n = read(pp[0], got + len, BIG_LEN + 1 - len)) > 0)
		len += (size_t)n;
	assert_int_equal(n, 0);
	close(pp[0]);
	assert_int_equal(finish(f, pid), 1);
	err_has(f, "damaged (its sha256 differs)");
	assert_int_equal(len, BIG_LEN);
	assert_memory_equal(got, f->data, BIG_LEN - 1);
	assert_int_equal(got[BIG_LEN - 1], b);
	free(got);
}

/* The peer is gone: EPIPE said on stderr, exit 1, not killed by SIGPIPE. */
static void
test_peer_gone(void **state)
{
	struct fx *f = *state;
	const char *argv[] = { SAVEIMG_BIN, "read", "--vm", "web1", "--generation", "7",
			       f->dev, NULL };
	int sv[2], null = open("/dev/null", O_RDONLY);
	pid_t pid;

	write_ok(f);
	assert_true(null >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[0]);                   /* before it starts: gone for sure */
	pid = start(f, null, sv[1], argv);
	close(sv[1]);
	close(null);
	assert_int_equal(finish(f, pid), 1);
	err_has(f, "cannot send the save image of VM web1");
	err_has(f, "to stdout: Broken pipe");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_larger_than_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_while_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
