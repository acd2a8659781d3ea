/* Tests of xenmesh-unpack (storage/unpack.c), the program itself: gzip
 * images made here with zlib, written onto files with and without a
 * limit; too large, corrupt and truncated images; bad arguments. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#ifndef UNPACK_BIN
#error UNPACK_BIN must name the built xenmesh-unpack
#endif

#define IMAGE_LEN (300 * 1024)
#define TARGET_LEN (512 * 1024)

struct fx {
	char dir[64];
	char gz[128], target[128];
	unsigned char *image;
	char out[4096];                 /* stdout and stderr of the last run */
};

static void
write_target(struct fx *f, size_t len)
{
	unsigned char *fill = malloc(len);
	FILE *fp = fopen(f->target, "w");

	assert_non_null(fill);
	assert_non_null(fp);
	memset(fill, 0xaa, len);
	assert_int_equal(fwrite(fill, 1, len, fp), len);
	fclose(fp);
	free(fill);
}

static void
write_gz(struct fx *f, size_t len)
{
	gzFile gz = gzopen(f->gz, "wb1");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, f->image, (unsigned)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	unsigned char *buf = malloc(TARGET_LEN * 2);

	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, TARGET_LEN * 2, fp);
	fclose(fp);
	return buf;
}

/* Run xenmesh-unpack with args (NULL-terminated); its exit status. */
static int
run(struct fx *f, ...)
{
	const char *argv[8] = { UNPACK_BIN };
	char cmd[1024], line[512];
	size_t n = 1, o = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, f);
	while (n < 7 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	cmd[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strncat(cmd, "'", sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, argv[i], sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, "' ", sizeof(cmd) - strlen(cmd) - 1);
	}
	strncat(cmd, "2>&1", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	assert_non_null(p);
	f->out[0] = '\0';
	while (fgets(line, sizeof(line), p) != NULL && o < sizeof(f->out) - 1)
		o += (size_t)snprintf(f->out + o, sizeof(f->out) - o, "%s", line);
	st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_unpack.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->gz, sizeof(f->gz), "%s/root.img.gz", f->dir);
	snprintf(f->target, sizeof(f->target), "%s/target", f->dir);
	f->image = malloc(IMAGE_LEN);
	assert_non_null(f->image);
	for (size_t i = 0; i < IMAGE_LEN; i++)
		f->image[i] = (unsigned char)((i * 2654435761u) >> 13);
	write_gz(f, IMAGE_LEN);
	write_target(f, TARGET_LEN);
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
	free(f->image);
	free(f);
	return 0;
}

/* The image, then what was there: never truncated, never grown. */
static void
target_is(struct fx *f, size_t written)
{
	size_t len;
	unsigned char *t = slurp(f->target, &len);

	assert_int_equal(len, TARGET_LEN);
	assert_memory_equal(t, f->image, written);
	for (size_t i = written; i < len; i++)
		if (t[i] != 0xaa)
			fail_msg("byte %zu after the %zu written changed", i, written);
	free(t);
}

static void
test_whole_image(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, f->gz, f->target, NULL), 0);
	assert_non_null(strstr(f->out, "307200 bytes written to"));
	target_is(f, IMAGE_LEN);
}

/* The data part only (under DRBD): what follows the limit is not written. */
static void
test_limit(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "--limit", "250000", "--", f->gz, f->target, NULL), 0);
	assert_non_null(strstr(f->out, "250000 bytes written to"));
	assert_non_null(strstr(f->out, "(the limit)"));
	target_is(f, 250000);
	/* a limit beyond the image: the whole image */
	assert_int_equal(run(f, "--limit", "400000", f->gz, f->target, NULL), 0);
	assert_non_null(strstr(f->out, "307200 bytes written to"));
}

static void
test_larger_than_target(void **state)
{
	struct fx *f = *state;
	size_t len;
	unsigned char *t;

	write_target(f, 200 * 1024);
	assert_int_equal(run(f, f->gz, f->target, NULL), 1);
	assert_non_null(strstr(f->out, "the image is larger than"));
	assert_non_null(strstr(f->out, "(204800 bytes)"));
	t = slurp(f->target, &len);
	assert_int_equal(len, 200 * 1024);     /* not grown */
	free(t);
}

static void
test_corrupt_and_truncated(void **state)
{
	struct fx *f = *state;
	size_t len;
	unsigned char *gz = slurp(f->gz, &len);
	FILE *fp;

	/* truncated: the stream ends early */
	fp = fopen(f->gz, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(gz, 1, len / 2, fp), len / 2);
	fclose(fp);
	assert_int_equal(run(f, f->gz, f->target, NULL), 1);
	assert_non_null(strstr(f->out, "root.img.gz ends early: it is truncated"));
	/* corrupt: bytes changed in the middle of the stream */
	for (size_t i = len / 3; i < len / 3 + 64; i++)
		gz[i] ^= 0x5a;
	fp = fopen(f->gz, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(gz, 1, len, fp), len);
	fclose(fp);
	assert_int_equal(run(f, f->gz, f->target, NULL), 1);
	assert_non_null(strstr(f->out, "is corrupt"));
	free(gz);
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/nosuch", f->dir);
	assert_int_equal(run(f, f->gz, missing, NULL), 1);
	assert_non_null(strstr(f->out, "cannot open"));
	assert_int_equal(run(f, f->gz, "/dev/null", NULL), 1);
	assert_non_null(strstr(f->out, "neither a block device nor a regular file"));
	assert_int_equal(run(f, missing, f->target, NULL), 1);
	assert_int_equal(run(f, f->gz, NULL), 2);
	assert_int_equal(run(f, "--limit", "-5", f->gz, f->target, NULL), 2);
	assert_int_equal(run(f, "--limit", "0", f->gz, f->target, NULL), 2);
	assert_int_equal(run(f, "--limit", "12k", f->gz, f->target, NULL), 2);
	assert_non_null(strstr(f->out, "not a byte count"));
	target_is(f, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_larger_than_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
