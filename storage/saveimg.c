/* xenmesh-saveimg: one Xen domain save image (an opaque byte stream, such
 * as libxl's save stream) stored on a device or file, and read back
 * verified.
 *
 * The agent on the active SAN node runs it with stdin and stdout being the
 * same connected stream socket, spliced to the node that saves or restores
 * the domain.  So nothing here takes stdin for a file (no seek, no size),
 * stdout is written with write(2) only, never through stdio (whose buffer
 * would hide a failed write until exit), a socket found non-blocking is
 * waited on, and SIGPIPE is ignored: a peer gone away is EPIPE, said on
 * stderr, rather than a silent death.
 *
 * Layout on DEVICE: a 4096-byte text header at offset 0, NUL-padded,
 *   xenmesh-save 1 / vm NAME / generation G / length L / sha256 HEX
 * one a line, and the data from offset 4096.  write zeroes the header
 * first and writes it last, after the data is synced: a device holds a
 * whole image or none, never an old or partial one that looks valid.
 * read sends the image as it hashes it, and exits 1 when the hash differs
 * from the header's: its reader must take the stream as whole only when
 * read exited 0 (the agent aborts the connection otherwise, and the host
 * then destroys what it received before it ever ran).  One pass, sending
 * all the while: a first pass that only hashed would leave the peer
 * channel idle for as long (its idle timeout is 30 s), and so does a long
 * final sync, which is why write syncs every SYNC_EVERY bytes as it goes.
 * The end of stdin is the end of the image:
 * a stream the sender cut short ends like a whole one, which only the
 * caller can tell (it clears the image then).
 *
 * DEVICE (a block device or a regular file) is never created, truncated
 * or grown.  Exit 0 done, 1 failed (one line on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "devsize.h"

#define HDR_SIZE 4096
#define CHUNK (1024 * 1024)
#define SYNC_EVERY ((uint64_t)64 * CHUNK)  /* bytes written between syncs */
#define NAME_LEN_MAX 63
#define HEX_LEN (crypto_hash_sha256_BYTES * 2)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Domain errors, below any errno value. */
enum {
	SI_ENOIMAGE = -1000,    /* the header block is all zero */
	SI_EDAMAGED,            /* the header block is not a header */
	SI_ESHORT,              /* the device ends before the data does */
};

struct header {
	char vm[NAME_LEN_MAX + 1];
	uint64_t generation;
	uint64_t length;
	char sha256[HEX_LEN + 1];       /* lower-case hex */
};

/* One run: what the command line names, the open device, the buffer. */
struct saveimg {
	const char *dev;
	const char *vm;                 /* NULL for show and clear */
	uint64_t generation;
	int fd;
	uint64_t room;                  /* the device's size less the header */
	unsigned char *buf;             /* CHUNK bytes */
	struct header hdr;              /* read from the device, or to write */
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: xenmesh-saveimg write|read|check --vm NAME --generation G DEVICE\n"
		"       xenmesh-saveimg show|clear DEVICE\n"
		"Stores a domain save image (stdin) on DEVICE, an existing block "
		"device or file,\nand reads it back (stdout) only when its sha256 "
		"matches.\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xenmesh-saveimg: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The usage error's reason, then the usage: exit status 2. */
#define usage_error(...) (fail(__VA_ARGS__), usage(stderr), 2)

/* 1..63 of [A-Za-z0-9_.-], not starting with '.' or '-' (so never "." or
 * "..", nor taken for an option). */
static bool
name_valid(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789_.-");

	return n > 0 && n <= NAME_LEN_MAX && s[n] == '\0' && s[0] != '.' && s[0] != '-';
}

/* Plain decimal digits, no sign, no leading zero (so that one value has
 * one spelling and the header parses back to the bytes written). */
static int
parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}


/* len bytes through stdin or stdout (out), whatever the caller passed: a
 * socket may come non-blocking, so EAGAIN waits for it rather than fail.
 * *done < len only when a read met the end of the stream. */
static int
stream_io(int fd, unsigned char *p, size_t len, bool out, size_t *done)
{
	struct pollfd pfd = { .fd = fd, .events = out ? POLLOUT : POLLIN };

	for (*done = 0; *done < len;) {
		ssize_t n = out ? write(fd, p + *done, len - *done) :
			read(fd, p + *done, len - *done);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    poll(&pfd, 1, -1) >= 0)
			continue;
		if (n < 0 && errno == EINTR)    /* of the read, write or poll */
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return out ? -EIO : 0;
		*done += (size_t)n;
	}
	return 0;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	size_t done;

	return stream_io(fd, (unsigned char *)buf, len, true, &done);
}

/* Exactly len bytes at off of the device: a read ending early means the
 * file shrank under us. */
static int
dev_io(int fd, unsigned char *p, size_t len, uint64_t off, bool wr)
{
	while (len > 0) {
		ssize_t n = wr ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return wr ? -ENOSPC : SI_ESHORT;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
header_zero(int fd)
{
	static unsigned char zero[HDR_SIZE];
	int rc = dev_io(fd, zero, sizeof(zero), 0, true);

	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	return rc;
}

static void
header_format(const struct header *h, char block[HDR_SIZE])
{
	memset(block, 0, HDR_SIZE);
	snprintf(block, HDR_SIZE, "xenmesh-save 1\nvm %s\ngeneration %" PRIu64 "\n"
		 "length %" PRIu64 "\nsha256 %s\n", h->vm, h->generation, h->length,
		 h->sha256);
}

/* Strict by construction: the block must be, byte for byte, what
 * header_format makes of the values read from it (these lines in this
 * order, no sign, no leading zero, lower-case hex, NULs after), so that a
 * torn or foreign block never passes for an image. */
static int
header_parse(const unsigned char *block, struct header *h)
{
	char again[HDR_SIZE];
	size_t n = strnlen((const char *)block, HDR_SIZE);

	if (n == 0 && memcmp(block, block + 1, HDR_SIZE - 1) == 0)
		return SI_ENOIMAGE;
	if (n == HDR_SIZE)              /* sscanf needs its NUL */
		return SI_EDAMAGED;
	if (sscanf((const char *)block, "xenmesh-save 1\nvm %63[A-Za-z0-9_.-]\ngeneration %"
		   SCNu64 "\nlength %" SCNu64 "\nsha256 %64[0-9a-f]", h->vm, &h->generation,
		   &h->length, h->sha256) != 4 || !name_valid(h->vm) || h->generation == 0 ||
	    strlen(h->sha256) != HEX_LEN)
		return SI_EDAMAGED;
	header_format(h, again);
	return memcmp(again, block, HDR_SIZE) == 0 ? 0 : SI_EDAMAGED;
}

/* s->hdr := the device's header; 0, or 1 said why. */
static int
header_load(struct saveimg *s)
{
	unsigned char block[HDR_SIZE];
	int rc = dev_io(s->fd, block, HDR_SIZE, 0, false);

	if (rc == 0)
		rc = header_parse(block, &s->hdr);
	if (rc == SI_ENOIMAGE)
		return fail("%s holds no save image", s->dev);
	if (rc == SI_EDAMAGED)
		return fail("%s holds no valid save image: its header is damaged", s->dev);
	if (rc < 0)
		return fail("cannot read %s: %s", s->dev, strerror(-rc));
	return 0;
}

/* The sha256 of the data (hex), sent to out too unless it is -1.  A
 * failure on out (the peer gone) is told apart by *out_failed. */
static int
data_hash(struct saveimg *s, int out, char hex[HEX_LEN + 1], bool *out_failed)
{
	crypto_hash_sha256_state st;
	unsigned char md[crypto_hash_sha256_BYTES];
	uint64_t done = 0;
	int rc;

	*out_failed = false;
	crypto_hash_sha256_init(&st);
	while (done < s->hdr.length) {
		size_t n = s->hdr.length - done < CHUNK ? (size_t)(s->hdr.length - done) : CHUNK;

		rc = dev_io(s->fd, s->buf, n, HDR_SIZE + done, false);
		if (rc < 0)
			return rc;
		crypto_hash_sha256_update(&st, s->buf, n);
		if (out >= 0) {
			rc = write_all(out, s->buf, n);
			if (rc < 0) {
				*out_failed = true;
				return rc;
			}
		}
		done += n;
	}
	crypto_hash_sha256_final(&st, md);
	sodium_bin2hex(hex, HEX_LEN + 1, md, sizeof(md));
	return 0;
}

static int
data_fail(struct saveimg *s, int rc)
{
	if (rc == SI_ESHORT)
		return fail("%s ends before the save image of VM %s does", s->dev, s->vm);
	return fail("cannot read the save image of VM %s on %s: %s", s->vm, s->dev,
		    strerror(-rc));
}

/* The header is of s->vm at s->generation and fits: 0, or 1 said why. */
static int
header_verify(struct saveimg *s)
{
	if (header_load(s) != 0)
		return 1;
	if (strcmp(s->hdr.vm, s->vm) != 0 || s->hdr.generation != s->generation)
		return fail("%s holds VM %s generation %" PRIu64 ", not %s generation %" PRIu64,
			    s->dev, s->hdr.vm, s->hdr.generation, s->vm, s->generation);
	if (s->hdr.length > s->room)
		return fail("save image of VM %s damaged (its length %" PRIu64
			    " is beyond the %" PRIu64 " bytes of room) on %s", s->vm,
			    s->hdr.length, s->room, s->dev);
	return 0;
}

/* The data hashed (and sent to out, >= 0) against the header's sha256:
 * 0, or 1 said why. */
static int
image_pass(struct saveimg *s, int out)
{
	char hex[HEX_LEN + 1];
	bool out_failed;
	int rc = data_hash(s, out, hex, &out_failed);

	if (rc < 0 && out_failed)
		return fail("cannot send the save image of VM %s on %s to stdout: %s",
			    s->vm, s->dev, strerror(-rc));
	if (rc < 0)
		return data_fail(s, rc);
	if (strcmp(hex, s->hdr.sha256) != 0)
		return fail("save image of VM %s damaged (its sha256 differs) on %s",
			    s->vm, s->dev);
	return 0;
}

/* A line to stdout, by write(2) like the data (see the top). */
static int
say(struct saveimg *s, const char *what)
{
	char line[256];
	int len = snprintf(line, sizeof(line), "%s %s %" PRIu64 " %" PRIu64 " %s\n", what,
			   s->hdr.vm, s->hdr.generation, s->hdr.length, s->hdr.sha256);
	int rc = write_all(STDOUT_FILENO, line, (size_t)len);

	if (rc < 0)
		return fail("the save image of VM %s on %s is %s, but stdout: %s", s->vm,
			    s->dev, what, strerror(-rc));
	return 0;
}

static int
cmd_write(struct saveimg *s)
{
	crypto_hash_sha256_state st;
	unsigned char md[crypto_hash_sha256_BYTES];
	char block[HDR_SIZE];
	uint64_t done = 0;
	size_t got;
	int rc;

	/* from here on a failure leaves no image, neither the old one nor a part */
	rc = header_zero(s->fd);
	if (rc < 0)
		return fail("cannot clear the header of %s: %s", s->dev, strerror(-rc));
	crypto_hash_sha256_init(&st);
	do {
		rc = stream_io(STDIN_FILENO, s->buf, CHUNK, false, &got);
		if (rc < 0)
			return fail("cannot read the save image of VM %s from stdin: %s",
				    s->vm, strerror(-rc));
		/* before the write: a regular file must not grow */
		if (got > s->room - done)
			return fail("the image of VM %s is larger than %s's %" PRIu64
				    " bytes of room", s->vm, s->dev, s->room);
		rc = dev_io(s->fd, s->buf, got, HDR_SIZE + done, true);
		if (rc < 0)
			return fail("cannot write the save image of VM %s on %s: %s", s->vm,
				    s->dev, strerror(-rc));
		crypto_hash_sha256_update(&st, s->buf, got);
		done += got;
		/* a bounded final sync (see the top) */
		if (done % SYNC_EVERY == 0 && got == CHUNK && fdatasync(s->fd) < 0)
			return fail("cannot sync %s: %s", s->dev, strerror(errno));
	} while (got == CHUNK);
	/* the data is on disk before a header can vouch for it */
	if (fdatasync(s->fd) < 0)
		return fail("cannot sync %s: %s", s->dev, strerror(errno));
	crypto_hash_sha256_final(&st, md);
	snprintf(s->hdr.vm, sizeof(s->hdr.vm), "%s", s->vm);
	s->hdr.generation = s->generation;
	s->hdr.length = done;
	sodium_bin2hex(s->hdr.sha256, sizeof(s->hdr.sha256), md, sizeof(md));
	header_format(&s->hdr, block);
	rc = dev_io(s->fd, (unsigned char *)block, HDR_SIZE, 0, true);
	if (rc == 0 && fdatasync(s->fd) < 0)
		rc = -errno;
	if (rc < 0)
		return fail("cannot write the header of VM %s's save image on %s: %s",
			    s->vm, s->dev, strerror(-rc));
	return say(s, "saved");
}

static int
cmd_read(struct saveimg *s)
{
	return header_verify(s) != 0 ? 1 : image_pass(s, STDOUT_FILENO);
}

static int
cmd_check(struct saveimg *s)
{
	return header_verify(s) != 0 || image_pass(s, -1) != 0 ? 1 : say(s, "ok");
}

static int
cmd_show(struct saveimg *s)
{
	char text[256];
	int len, rc;

	if (header_load(s) != 0)
		return 1;
	len = snprintf(text, sizeof(text), "vm %s\ngeneration %" PRIu64 "\nlength %" PRIu64
		       "\nsha256 %s\n", s->hdr.vm, s->hdr.generation, s->hdr.length,
		       s->hdr.sha256);
	rc = write_all(STDOUT_FILENO, text, (size_t)len);
	return rc < 0 ? fail("cannot write to stdout: %s", strerror(-rc)) : 0;
}

static int
cmd_clear(struct saveimg *s)
{
	int rc = header_zero(s->fd);

	return rc < 0 ? fail("cannot clear the header of %s: %s", s->dev, strerror(-rc)) : 0;
}

struct command {
	const char *name;
	bool names_image;               /* takes --vm and --generation */
	int open_flags;
	int (*run)(struct saveimg *s);  /* the exit status, having said why */
};

static const struct command commands[] = {
	{ .name = "write", .names_image = true, .open_flags = O_RDWR, .run = cmd_write },
	{ .name = "read", .names_image = true, .open_flags = O_RDONLY, .run = cmd_read },
	{ .name = "check", .names_image = true, .open_flags = O_RDONLY, .run = cmd_check },
	{ .name = "show", .open_flags = O_RDONLY, .run = cmd_show },
	{ .name = "clear", .open_flags = O_RDWR, .run = cmd_clear },
};

int
main(int argc, char *argv[])
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct saveimg s = { .fd = -1 };
	const struct command *cmd = NULL;
	const char *gen = NULL;
	uint64_t size = 0;
	int status = 1, rc, i;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; argc > 1 && c < ARRAY_SIZE(commands); c++)
		if (strcmp(argv[1], commands[c].name) == 0)
			cmd = &commands[c];
	if (cmd == NULL && argc > 1)
		return usage_error("%s: no such command", argv[1]);
	if (cmd == NULL)
		return usage_error("no command");
	for (i = 2; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			return usage_error("%s needs a value", argv[i]);
		if (strcmp(argv[i], "--vm") == 0 && s.vm == NULL)
			s.vm = argv[i + 1];
		else if (strcmp(argv[i], "--generation") == 0 && gen == NULL)
			gen = argv[i + 1];
		else
			return usage_error("%s: unknown or repeated option", argv[i]);
	}
	if (argc - i != 1)
		return usage_error("%s takes one DEVICE", cmd->name);
	s.dev = argv[i];
	if (!cmd->names_image && (s.vm != NULL || gen != NULL))
		return usage_error("%s takes no --vm or --generation", cmd->name);
	if (cmd->names_image && (s.vm == NULL || gen == NULL))
		return usage_error("%s needs --vm and --generation", cmd->name);
	if (s.vm != NULL && !name_valid(s.vm))
		return usage_error("--vm %s: not a VM name (1 to 63 of A-Z a-z 0-9 _ . -, "
				   "not starting with . or -)", s.vm);
	if (gen != NULL && (parse_u64(gen, &s.generation) < 0 || s.generation == 0))
		return usage_error("--generation %s: not a generation (a decimal number "
				   "above 0)", gen);

	(void)sigaction(SIGPIPE, &ign, NULL);
	if (sodium_init() < 0)
		return fail("libsodium does not start");
	/* never O_CREAT nor O_TRUNC: DEVICE is the admin's, as it is */
	s.fd = open(s.dev, cmd->open_flags | O_CLOEXEC);
	if (s.fd < 0)
		return fail("cannot open %s: %s", s.dev, strerror(errno));
	rc = dev_size(s.fd, &size);
	if (rc < 0) {
		fail("%s: %s", s.dev, rc == -ENOTBLK ? "neither a block device nor a "
		     "regular file" : strerror(-rc));
		goto out;
	}
	if (size < 2 * HDR_SIZE) {
		fail("%s is too small for a save image: %" PRIu64 " bytes, not at least %d",
		     s.dev, size, 2 * HDR_SIZE);
		goto out;
	}
	s.room = size - HDR_SIZE;
	s.buf = malloc(CHUNK);
	if (s.buf == NULL) {
		fail("out of memory");
		goto out;
	}
	status = cmd->run(&s);
out:
	free(s.buf);
	if (close(s.fd) < 0 && status == 0)
		status = fail("cannot close %s: %s", s.dev, strerror(errno));
	return status;
}
