/* Tests of tests/check_writers.c: disks built by hand, one per violation,
 * checked by running the real program; in the file layout (records back
 * to back) and the block layout (one record per block of a LUN, as the
 * guest writes an iscsi:// disk).  A generation may move to another host
 * by a hand-off (a live migration); every way that is not one is a
 * violation.
 *
 * The program comes from $XM_TEST_CHECK_WRITERS, else CHECK_WRITERS_BIN
 * (a -D from the build), else "tests/rig/check-writers".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest_record.h"

#ifndef CHECK_WRITERS_BIN
#define CHECK_WRITERS_BIN "tests/rig/check-writers"
#endif

#define MS          1000000ull          /* ns */
#define T0          (1700000000ull * 1000 * MS)
#define OUT_MAX     16384

struct fixture {
	char dir[64];
	char disk[128];
	char prog[PATH_MAX];
	char out[OUT_MAX];              /* stdout of the last run */
	char err[OUT_MAX];              /* stderr of the last run */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *p = getenv("XM_TEST_CHECK_WRITERS");

	if (!f)
		return -1;
	if (!realpath(p ? p : CHECK_WRITERS_BIN, f->prog)) {
		fprintf(stderr, "check-writers %s: %s\n", p ? p : CHECK_WRITERS_BIN,
			strerror(errno));
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_check_writers.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->disk, sizeof(f->disk), "%s/disk", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	(void)unlink(f->disk);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
read_all(int fd, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n;

	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
}

/* Runs check-writers with the given arguments (NULL-terminated); returns
 * its exit status, output in f->out / f->err. */
static int
run(struct fixture *f, ...)
{
	char *argv[8];
	int argc = 0, status, fd_out, fd_err;
	char path_out[160], path_err[160];
	const char *a;
	va_list ap;
	pid_t pid;

	argv[argc++] = f->prog;
	va_start(ap, f);
	while ((a = va_arg(ap, const char *)) && argc < 7)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;

	/* Files, not pipes: no deadlock whatever the output size. */
	snprintf(path_out, sizeof(path_out), "%s/out", f->dir);
	snprintf(path_err, sizeof(path_err), "%s/err", f->dir);
	fd_out = open(path_out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fd_err = open(path_err, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd_out >= 0 && fd_err >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd_out, STDOUT_FILENO);
		dup2(fd_err, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	(void)lseek(fd_out, 0, SEEK_SET);
	(void)lseek(fd_err, 0, SEEK_SET);
	read_all(fd_out, f->out, sizeof(f->out));
	read_all(fd_err, f->err, sizeof(f->err));
	close(fd_out);
	close(fd_err);
	(void)unlink(path_out);
	(void)unlink(path_err);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
assert_has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, haystack);
}

static void
put_raw(struct fixture *f, const uint8_t *buf, size_t len)
{
	int fd = open(f->disk, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void
encode(uint8_t buf[GUEST_RECORD_SIZE], const char *vm, const char *host,
       uint64_t gen, uint64_t seq, uint64_t t_ms)
{
	struct guest_record r;

	memset(&r, 0, sizeof(r));
	snprintf(r.vm, sizeof(r.vm), "%s", vm);
	snprintf(r.host, sizeof(r.host), "%s", host);
	r.generation = gen;
	r.seq = seq;
	r.time_ns = T0 + t_ms * MS;
	assert_int_equal(guest_record_encode(&r, buf), 0);
}

static void
put(struct fixture *f, const char *host, uint64_t gen, uint64_t seq,
    uint64_t t_ms)
{
	uint8_t buf[GUEST_RECORD_SIZE];

	encode(buf, "vm1", host, gen, seq, t_ms);
	put_raw(f, buf, sizeof(buf));
}

/* seq from..to of one generation, 25 ms apart from t_ms on. */
static void
put_run(struct fixture *f, const char *host, uint64_t gen, uint64_t from,
	uint64_t to, uint64_t t_ms)
{
	for (uint64_t s = from; s <= to; s++)
		put(f, host, gen, s, t_ms + (s - from) * 25);
}

/* The block layout: the record, then zeros to `stride`. */
static void
put_block(struct fixture *f, size_t stride, const char *host, uint64_t gen,
	  uint64_t seq, uint64_t t_ms)
{
	uint8_t buf[4096] = { 0 };

	assert_true(stride <= sizeof(buf));
	encode(buf, "vm1", host, gen, seq, t_ms);
	put_raw(f, buf, stride);
}

static void
put_block_run(struct fixture *f, size_t stride, const char *host, uint64_t gen,
	      uint64_t from, uint64_t to, uint64_t t_ms)
{
	for (uint64_t s = from; s <= to; s++)
		put_block(f, stride, host, gen, s, t_ms + (s - from) * 25);
}

/* The rest of a LUN: n zero blocks. */
static void
put_zero_blocks(struct fixture *f, size_t stride, unsigned n)
{
	uint8_t buf[4096] = { 0 };

	for (unsigned i = 0; i < n; i++)
		put_raw(f, buf, stride);
}

/* ---- usage and I/O errors -------------------------------------------- */

static void
test_usage(void **state)
{
	struct fixture *f = *state;
	char longname[80];

	assert_int_equal(run(f, NULL), 2);
	assert_has(f->err, "usage: check-writers [--quiet] DISK [VM]");
	assert_int_equal(run(f, "a", "b", "c", NULL), 2);
	assert_has(f->err, "usage:");
	assert_int_equal(run(f, "--bogus", f->disk, NULL), 2);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	put(f, "h1", 1, 1, 0);
	assert_int_equal(run(f, f->disk, longname, NULL), 2);
	assert_has(f->err, "bad vm name");
	assert_int_equal(run(f, "--help", NULL), 0);
	assert_has(f->out, "usage:");
	assert_has(f->out, "check-writers [--quiet] --stride N DISK [VM]\n");
	assert_int_equal(run(f, "--stride", "100", f->disk, NULL), 2);
	assert_has(f->err, "bad stride '100' (176..1048576)");
	assert_int_equal(run(f, "--stride", "512x", f->disk, NULL), 2);
	assert_has(f->err, "bad stride '512x'");
	assert_int_equal(run(f, "--stride", "-512", f->disk, NULL), 2);
}

static void
test_missing_disk(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, f->disk, NULL), 2);
	assert_has(f->err, "No such file or directory");
	assert_string_equal(f->out, "");
	/* A directory cannot be read as a disk. */
	assert_int_equal(run(f, f->dir, NULL), 2);
	assert_has(f->err, "Is a directory");
}

/* ---- violations ------------------------------------------------------ */

static void
test_bad_magic(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[GUEST_RECORD_SIZE];

	put_run(f, "h1", 1, 1, 2, 0);
	encode(buf, "vm1", "h1", 1, 3, 50);
	buf[0] = 'Y';
	put_raw(f, buf, sizeof(buf));
	put(f, "h1", 1, 4, 75);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 352: bad magic or malformed record\n");
	/* The records around it still count. */
	assert_has(f->out, "generation 1 host h1 records 3 seq 1..4\n");
	assert_has(f->out, "FAIL: 1 violations\n");
}

static void
test_bad_checksum(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[GUEST_RECORD_SIZE];

	put(f, "h1", 1, 1, 0);
	encode(buf, "vm1", "h1", 1, 2, 25);
	buf[144] ^= 0x01;       /* seq 2 -> 3 without a new checksum */
	put_raw(f, buf, sizeof(buf));
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 176: checksum mismatch\n");
}

static void
test_bad_version(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[GUEST_RECORD_SIZE];

	encode(buf, "vm1", "h1", 1, 1, 0);
	buf[4] = 2;
	assert_int_equal(guest_record_sum(buf, buf + GUEST_RECORD_SUM_OFF), 0);
	put_raw(f, buf, sizeof(buf));
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 0: unknown record version\n");
}

static void
test_truncated(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[GUEST_RECORD_SIZE];

	put_run(f, "h1", 1, 1, 5, 0);
	encode(buf, "vm1", "h1", 1, 6, 125);
	put_raw(f, buf, 100);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 880: truncated record (100 of 176 bytes)\n");
	assert_has(f->out, "records 5 seq 1..5\n");
}

/* The old instance kept writing after the new one started. */
static void
test_older_generation_after_newer(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 1, 1, 3, 0);
	put_run(f, "h2", 2, 1, 2, 1000);
	put(f, "h1", 1, 4, 1060);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 880: generation 1 (host h1) wrote "
		   "after generation 2 (host h2) started at offset 528\n");
	assert_has(f->out, "generation 1 host h1 records 4 seq 1..4\n");
	assert_has(f->out, "generation 2 host h2 records 2 seq 1..2\n");
}

static void
test_seq_not_increasing(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 1, 1, 3, 0);
	put(f, "h1", 1, 3, 100);        /* repeated */
	put(f, "h1", 1, 2, 125);        /* backwards */
	put(f, "h1", 1, 4, 150);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 528: generation 1 seq 3 after seq 3 "
		   "(not increasing)\n");
	assert_has(f->out, "violation at offset 704: generation 1 seq 2 after seq 3 "
		   "(not increasing)\n");
	assert_has(f->out, "FAIL: 2 violations\n");
}

/* ---- hand-offs: a generation moving to another host ---------------------- */

/* A live migration: the new host goes on with the next seq.  The summary
 * lists the hand-off with its pause, and the longest pause. */
static void
test_handoff_clean(void **state)
{
	struct fixture *f = *state;
	char expect[768];

	put_run(f, "h1", 5, 1, 5, 0);           /* last at 100 ms */
	put_run(f, "h2", 5, 6, 8, 130);         /* pause 30 ms */
	assert_int_equal(run(f, f->disk, "vm1", NULL), 0);
	snprintf(expect, sizeof(expect),
		 "%s: 8 records, 1 generations, vm vm1\n"
		 "generation 5 host h1 records 8 seq 1..8 hand-offs 1 last host h2\n"
		 "hand-off generation 5 h1 -> h2 at offset 880 seq 6 pause 30 ms\n"
		 "max pause generation 5 30 ms\n"
		 "OK: 0 violations\n", f->disk);
	assert_string_equal(f->out, expect);
	assert_string_equal(f->err, "");
}

/* There and back again, and again: every change a proper hand-off. */
static void
test_handoff_back_and_forth(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 2, 1, 3, 0);           /* last at 50 */
	put_run(f, "h2", 2, 4, 6, 70);          /* 20 ms, last at 120 */
	put_run(f, "h1", 2, 7, 9, 200);         /* 80 ms, last at 250 */
	put_run(f, "h2", 2, 10, 10, 290);       /* 40 ms */
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, "generation 2 host h1 records 10 seq 1..10 hand-offs 3 "
		   "last host h2\n");
	assert_has(f->out, "hand-off generation 2 h1 -> h2 at offset 528 seq 4 "
		   "pause 20 ms\n"
		   "hand-off generation 2 h2 -> h1 at offset 1056 seq 7 pause 80 ms\n"
		   "hand-off generation 2 h1 -> h2 at offset 1584 seq 10 pause 40 ms\n"
		   "max pause generation 2 80 ms\n");
	assert_has(f->out, "OK: 0 violations\n");
}

/* A migrated generation, then a restart elsewhere: the restart gap is from
 * the last record of the old generation, on the host it moved to. */
static void
test_handoff_then_restart(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 1, 1, 3, 0);
	put_run(f, "h2", 1, 4, 5, 60);          /* last at 85 */
	put_run(f, "h3", 2, 1, 2, 1085);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, "generation 1 host h1 records 5 seq 1..5 hand-offs 1 "
		   "last host h2\n"
		   "generation 2 host h3 records 2 seq 1..2\n");
	assert_has(f->out, "gap 1 -> 2 1000 ms\n");
	/* only generations with hand-offs have a pause line */
	assert_null(strstr(f->out, "max pause generation 2"));
}

/* A gap at the change: records lost, or not a hand-off at all. */
static void
test_handoff_seq_gap(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 5, 1, 5, 0);
	put_run(f, "h2", 5, 7, 8, 130);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 880: generation 5 written by two "
		   "hosts: h1 and h2 (seq 7 after seq 5: not a hand-off)\n");
	assert_null(strstr(f->out, "hand-off generation"));
	assert_has(f->out, "FAIL: 1 violations\n");
}

/* The new host starting from a seq already written: both wrote it. */
static void
test_handoff_seq_repeat(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 5, 1, 5, 0);
	put_run(f, "h2", 5, 5, 6, 130);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 880: generation 5 written by two "
		   "hosts: h1 and h2 (seq 5 after seq 5: not a hand-off)\n"
		   "violation at offset 880: generation 5 seq 5 after seq 5 "
		   "(not increasing)\n");
	assert_has(f->out, "FAIL: 2 violations\n");
}

/* The source went on after the hand-off (resumed although the destination
 * runs): its own next seq, or a later one. */
static void
test_old_host_after_handoff(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 5, 1, 5, 0);
	put_run(f, "h2", 5, 6, 8, 130);
	put(f, "h1", 5, 6, 140);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "hand-off generation 5 h1 -> h2 at offset 880 seq 6 "
		   "pause 30 ms\n");
	assert_has(f->out, "violation at offset 1408: generation 5 written by two "
		   "hosts: h2 and h1 (h1 wrote again after handing it off at "
		   "offset 880)\n"
		   "violation at offset 1408: generation 5 seq 6 after seq 8 "
		   "(not increasing)\n");
	assert_has(f->out, "FAIL: 2 violations\n");

	/* Later seq, not the next one: still not a hand-off back. */
	assert_int_equal(unlink(f->disk), 0);
	put_run(f, "h1", 5, 1, 5, 0);
	put_run(f, "h2", 5, 6, 7, 130);
	put(f, "h1", 5, 10, 200);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 1232: generation 5 written by two "
		   "hosts: h2 and h1 (h1 wrote again after handing it off at "
		   "offset 880)\n");
	assert_has(f->out, "FAIL: 1 violations\n");
}

/* What a real double start looks like: two guests of one generation
 * interleaving, each counting from 1.  Once two hosts overlapped, no
 * later change of host counts as a hand-off, even if its seq fits. */
static void
test_interleaved_writers(void **state)
{
	struct fixture *f = *state;

	put(f, "h1", 3, 1, 0);
	put(f, "h2", 3, 1, 5);
	put(f, "h1", 3, 2, 25);
	put(f, "h2", 3, 2, 30);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 176: generation 3 written by two "
		   "hosts: h1 and h2 (seq 1 after seq 1: not a hand-off)\n");
	assert_has(f->out, "violation at offset 176: generation 3 seq 1 after seq 1 "
		   "(not increasing)\n");
	assert_has(f->out, "violation at offset 352: generation 3 written by two "
		   "hosts: h2 and h1 (after an earlier overlap)\n");
	assert_has(f->out, "violation at offset 528: generation 3 written by two "
		   "hosts: h1 and h2 (after an earlier overlap)\n");
	assert_has(f->out, "violation at offset 528: generation 3 seq 2 after seq 2 "
		   "(not increasing)\n");
	assert_null(strstr(f->out, "hand-off generation"));
	assert_has(f->out, "FAIL: 5 violations\n");
}

/* A source resumed while the destination runs too: both go on from the
 * same next seq, one hand-off then overlaps. */
static void
test_split_after_handoff(void **state)
{
	struct fixture *f = *state;

	put_run(f, "h1", 4, 1, 3, 0);
	put(f, "h2", 4, 4, 80);                 /* a proper hand-off ... */
	put(f, "h1", 4, 4, 85);                 /* ... but the source goes on */
	put(f, "h2", 4, 5, 105);
	put(f, "h1", 4, 5, 110);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 704: generation 4 written by two "
		   "hosts: h2 and h1 (h1 wrote again after handing it off at "
		   "offset 528)\n");
	assert_has(f->out, "violation at offset 880: generation 4 written by two "
		   "hosts: h1 and h2 (after an earlier overlap)\n");
	assert_has(f->out, "violation at offset 1056: generation 4 written by two "
		   "hosts: h2 and h1 (after an earlier overlap)\n");
}

static void
test_other_vm(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[GUEST_RECORD_SIZE];

	put(f, "h1", 1, 1, 0);
	encode(buf, "vm2", "h1", 1, 2, 25);
	put_raw(f, buf, sizeof(buf));
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 176: record of vm 'vm2' on the disk "
		   "of 'vm1'\n");
	assert_int_equal(run(f, f->disk, "web", NULL), 1);
	assert_has(f->out, "violation at offset 0: record of vm 'vm1' on the disk "
		   "of 'web'\n");
	assert_has(f->out, "violation at offset 176: record of vm 'vm2' on the disk "
		   "of 'web'\n");
}

static void
test_quiet_violation(void **state)
{
	struct fixture *f = *state;

	put(f, "h1", 1, 2, 0);
	put(f, "h1", 1, 1, 25);
	assert_int_equal(run(f, "--quiet", f->disk, NULL), 1);
	assert_string_equal(f->out, "violation at offset 176: generation 1 seq 1 "
			    "after seq 2 (not increasing)\n");
}

/* A disk of garbage: the first violations shown, the rest counted. */
static void
test_many_violations_capped(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[GUEST_RECORD_SIZE];

	memset(buf, 0xab, sizeof(buf));
	for (int i = 0; i < 60; i++)
		put_raw(f, buf, sizeof(buf));
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 8624: bad magic");   /* the 50th */
	assert_null(strstr(f->out, "offset 8800:"));                 /* the 51st */
	assert_has(f->out, "(10 more violations not shown)\n");
	assert_has(f->out, "FAIL: 60 violations\n");
}

/* ---- clean disks ------------------------------------------------------ */

static void
test_empty_disk(void **state)
{
	struct fixture *f = *state;

	put_raw(f, (const uint8_t *)"", 0);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, ": 0 records, 0 generations, vm -\n");
	assert_has(f->out, "OK: 0 violations\n");
	assert_null(strstr(f->out, "max gap"));
}

static void
test_clean(void **state)
{
	struct fixture *f = *state;
	char expect[512];

	put_run(f, "h1", 1, 1, 5, 0);           /* last at 100 ms */
	put_run(f, "h2", 2, 1, 3, 1600);        /* gap 1500 ms, last at 1650 */
	put_run(f, "h1", 4, 1, 2, 1900);        /* generations may skip: 250 ms */
	assert_int_equal(run(f, f->disk, "vm1", NULL), 0);
	snprintf(expect, sizeof(expect),
		 "%s: 10 records, 3 generations, vm vm1\n"
		 "generation 1 host h1 records 5 seq 1..5\n"
		 "generation 2 host h2 records 3 seq 1..3\n"
		 "generation 4 host h1 records 2 seq 1..2\n"
		 "gap 1 -> 2 1500 ms\n"
		 "gap 2 -> 4 250 ms\n"
		 "max gap 1500 ms\n"
		 "OK: 0 violations\n", f->disk);
	assert_string_equal(f->out, expect);
	assert_string_equal(f->err, "");

	assert_int_equal(run(f, "--quiet", f->disk, NULL), 0);
	assert_string_equal(f->out, "");
}

static void
test_seq_gap_is_clean(void **state)
{
	struct fixture *f = *state;

	/* A gap in seq is not a violation: only going backwards is. */
	put(f, "h1", 1, 1, 0);
	put(f, "h1", 1, 5, 25);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, "generation 1 host h1 records 2 seq 1..5\n");
}

/* ---- the block layout --------------------------------------------------- */

static void
test_block_clean(void **state)
{
	struct fixture *f = *state;
	char expect[512];

	put_block_run(f, 512, "h1", 1, 1, 5, 0);           /* last at 100 ms */
	put_block_run(f, 512, "h2", 2, 1, 3, 1600);        /* gap 1500 ms */
	put_zero_blocks(f, 512, 24);                        /* the rest of the LUN */
	assert_int_equal(run(f, f->disk, "vm1", NULL), 0);
	snprintf(expect, sizeof(expect),
		 "%s: 8 records, 2 generations, vm vm1\n"
		 "blocks of 512 bytes, end of data at offset 4096 (block 8)\n"
		 "generation 1 host h1 records 5 seq 1..5\n"
		 "generation 2 host h2 records 3 seq 1..3\n"
		 "gap 1 -> 2 1500 ms\n"
		 "max gap 1500 ms\n"
		 "OK: 0 violations\n", f->disk);
	assert_string_equal(f->out, expect);
	assert_string_equal(f->err, "");
	assert_int_equal(run(f, "--quiet", f->disk, NULL), 0);
	assert_string_equal(f->out, "");
}

/* A fresh LUN: all zeros, no record, nothing wrong. */
static void
test_block_empty_lun(void **state)
{
	struct fixture *f = *state;

	put_zero_blocks(f, 512, 32);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, ": 0 records, 0 generations, vm -\n");
	assert_has(f->out, " bytes, end of data at offset 0 (block 0)\n");
	assert_has(f->out, "OK: 0 violations\n");
}

/* Records to the last block: no end of data, still clean. */
static void
test_block_full(void **state)
{
	struct fixture *f = *state;

	put_block_run(f, 512, "h1", 1, 1, 4, 0);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, ": 4 records, 1 generations, vm vm1\n"
		   "blocks of 512 bytes, no end of data (the disk is full)\n");
}

static void
test_block_4096(void **state)
{
	struct fixture *f = *state;

	put_block_run(f, 4096, "h1", 7, 1, 3, 0);
	put_zero_blocks(f, 4096, 2);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, ": 3 records, 1 generations, vm vm1\n"
		   "blocks of 4096 bytes, end of data at offset 12288 (block 3)\n"
		   "generation 7 host h1 records 3 seq 1..3\n");
}

/* Any other block size must be given: blocks of 1024 are taken for 512
 * (bytes 512..1023 are zero), so the data seems to end at 512 and the
 * records after it are violations: reported, never silently lost. */
static void
test_block_stride_option(void **state)
{
	struct fixture *f = *state;

	put_block_run(f, 1024, "h1", 1, 1, 4, 0);
	put_zero_blocks(f, 1024, 2);
	assert_int_equal(run(f, "--stride", "1024", f->disk, NULL), 0);
	assert_has(f->out, ": 4 records, 1 generations, vm vm1\n"
		   "blocks of 1024 bytes, end of data at offset 4096 (block 4)\n");
	/* Without it: the records past the "end" are violations, not lost. */
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 1024: data after the end of data "
		   "at offset 512\n");
}

/* Two instances of one generation writing at once, each from seq 1. */
static void
test_block_two_writers(void **state)
{
	struct fixture *f = *state;

	put_block(f, 512, "h1", 3, 1, 0);
	put_block(f, 512, "h2", 3, 1, 5);
	put_block(f, 512, "h1", 3, 2, 25);
	put_block(f, 512, "h2", 3, 2, 30);
	put_zero_blocks(f, 512, 4);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 512: generation 3 written by two "
		   "hosts: h1 and h2 (seq 1 after seq 1: not a hand-off)\n");
	assert_has(f->out, "violation at offset 512: generation 3 seq 1 after seq 1 "
		   "(not increasing)\n");
	assert_has(f->out, "violation at offset 1024: generation 3 written by two "
		   "hosts: h2 and h1 (after an earlier overlap)\n");
	assert_has(f->out, "violation at offset 1536: generation 3 written by two "
		   "hosts: h1 and h2 (after an earlier overlap)\n");
	assert_has(f->out, "violation at offset 1536: generation 3 seq 2 after seq 2 "
		   "(not increasing)\n");
	assert_has(f->out, "FAIL: 5 violations\n");
}

/* A migration on a LUN: the destination writes the next block. */
static void
test_block_handoff(void **state)
{
	struct fixture *f = *state;

	put_block_run(f, 512, "h1", 6, 1, 4, 0);           /* last at 75 */
	put_block_run(f, 512, "h2", 6, 5, 7, 120);         /* pause 45 ms */
	put_zero_blocks(f, 512, 9);
	assert_int_equal(run(f, f->disk, NULL), 0);
	assert_has(f->out, "generation 6 host h1 records 7 seq 1..7 hand-offs 1 "
		   "last host h2\n"
		   "hand-off generation 6 h1 -> h2 at offset 2048 seq 5 pause 45 ms\n"
		   "max pause generation 6 45 ms\n");
	assert_has(f->out, "OK: 0 violations\n");
}

/* The fenced instance wrote on after the new one started. */
static void
test_block_older_generation_after_newer(void **state)
{
	struct fixture *f = *state;

	put_block_run(f, 512, "h1", 1, 1, 3, 0);
	put_block_run(f, 512, "h2", 2, 1, 2, 1000);
	put_block(f, 512, "h1", 1, 4, 1060);
	put_zero_blocks(f, 512, 2);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 2560: generation 1 (host h1) wrote "
		   "after generation 2 (host h2) started at offset 1536\n");
	assert_has(f->out, "generation 1 host h1 records 4 seq 1..4\n");
	assert_has(f->out, "generation 2 host h2 records 2 seq 1..2\n");
	assert_has(f->out, "FAIL: 1 violations\n");
}

/* A block that is neither a record nor zeros, and dirt after a record. */
static void
test_block_bad_blocks(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512] = { 0 };

	put_block(f, 512, "h1", 1, 1, 0);
	memset(buf, 0xab, sizeof(buf));
	put_raw(f, buf, sizeof(buf));                   /* block 1: garbage */
	encode(buf, "vm1", "h1", 1, 2, 50);
	memset(buf + GUEST_RECORD_SIZE, 0, sizeof(buf) - GUEST_RECORD_SIZE);
	buf[300] = 1;
	put_raw(f, buf, sizeof(buf));                   /* block 2: dirty tail */
	put_block(f, 512, "h1", 1, 3, 75);
	put_zero_blocks(f, 512, 1);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 512: bad magic or malformed record\n");
	assert_has(f->out, "violation at offset 1024: bytes after the record not zero\n");
	assert_has(f->out, "generation 1 host h1 records 3 seq 1..3\n");
	assert_has(f->out, "end of data at offset 2048 (block 4)\n");
	assert_has(f->out, "FAIL: 2 violations\n");
}

/* A record after the first zero block: a writer skipped a block. */
static void
test_block_data_after_end(void **state)
{
	struct fixture *f = *state;

	put_block_run(f, 512, "h1", 1, 1, 2, 0);
	put_zero_blocks(f, 512, 1);
	put_block(f, 512, "h1", 1, 3, 50);
	put_zero_blocks(f, 512, 3);
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 1536: data after the end of data "
		   "at offset 1024\n");
	assert_has(f->out, "records 2 seq 1..2\n");
	assert_has(f->out, "FAIL: 1 violations\n");
}

static void
test_block_truncated(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[100];

	put_block_run(f, 512, "h1", 1, 1, 2, 0);
	memset(buf, 0x11, sizeof(buf));
	put_raw(f, buf, sizeof(buf));
	assert_int_equal(run(f, f->disk, NULL), 1);
	assert_has(f->out, "violation at offset 1024: truncated block (100 of 512 "
		   "bytes)\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_generation_after_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_not_increasing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleaved_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_seq_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_seq_repeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_host_after_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_after_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_violation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_violations_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_gap_is_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_back_and_forth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_then_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_empty_lun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_4096, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_stride_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_two_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_older_generation_after_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_bad_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_data_after_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_truncated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
