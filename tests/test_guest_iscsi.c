/* Tests of the test guest's iscsi:// disk (tests/guest.c) and of
 * check-writers' block layout against a real tgtd.
 *
 * The group starts its own `tgtd -f --control-port 12 --iscsi
 * portal=127.0.0.1:3272` (those two ports only: other tests use others);
 * every test gets target 1 (iqn.2026-11.org.xenmesh:vm1) with LUN 1 on a
 * 16 MiB file and initiator iqn.2026-11.org.xenmesh:h1 in its ACL, and
 * runs the real guest and check-writers on it.  Teardown puts tgtd back
 * (ready, portal there, targets deleted) and kills the test's guest; the
 * group teardown stops tgtd, and PR_SET_PDEATHSIG kills tgtd and the
 * guests if this process dies first.
 *
 * The ports are fixed, so two runs (make check in two build trees) take
 * turns: main() holds LOCK_PATH (flock) from before the group looks for
 * a tgtd until the process ends, after that tgtd is gone; a run that
 * cannot get it within LOCK_WAIT_MS skips.  Only a tgtd the group started
 * is ever torn down.
 *
 * Skipped (exit 77) unless root with tgtd and tgtadm installed.  The
 * programs come from $XM_TEST_GUEST / $XM_TEST_CHECK_WRITERS, else
 * GUEST_BIN / CHECK_WRITERS_BIN (-D from the build).
 *
 * What tgt 1.0.85 and libiscsi 1.19 do, as these tests pin it down:
 *   - an initiator not in the ACL, or a target deleted while another one
 *     is left: the login is answered "Target not found" (status 0x0203,
 *     class 2): the guest exits 4 at once;
 *   - no target left at all, or the system state offline: tgtd closes
 *     the connection without answering the login: a transport error, the
 *     guest keeps trying;
 *   - a deleted connection (`--op delete --mode conn`): the command in
 *     flight is cancelled; a deleted portal: connect refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest_record.h"

#ifndef GUEST_BIN
#define GUEST_BIN "tests/guest"
#endif
#ifndef CHECK_WRITERS_BIN
#define CHECK_WRITERS_BIN "tests/check-writers"
#endif

#define CONTROL_PORT    "12"
#define PORTAL          "127.0.0.1:3272"
#define PORTAL_PORT     3272
#define IQN_VM1         "iqn.2026-11.org.xenmesh:vm1"
#define IQN_VM2         "iqn.2026-11.org.xenmesh:vm2"
#define IQN_H1          "iqn.2026-11.org.xenmesh:h1"
#define IQN_H2          "iqn.2026-11.org.xenmesh:h2"
#define URL_VM1         "iscsi://" PORTAL "/" IQN_VM1 "/1"
#define URL_VM2         "iscsi://" PORTAL "/" IQN_VM2 "/1"
#define LUN_BYTES       (16 * 1024 * 1024)
#define BLOCK           512
#define OUT_MAX         16384
#define CMD_TIMEOUT_MS  10000
#define LOCK_PATH       "/tmp/xenmesh-test-guest-iscsi.lock"
#define LOCK_WAIT_MS    90000

struct fixture {
	/* the group's */
	char dir[64];
	char guest[PATH_MAX];
	char checker[PATH_MAX];
	pid_t tgtd;
	/* each test's */
	char lun[128];                  /* backing file of target 1 LUN 1 */
	char lun2[128];                 /* of target 2, when a test makes it */
	char exit_file[128];
	char guest_log[128];
	pid_t guest_pid;
	int blackhole;                  /* a listener that never answers */
	char out[OUT_MAX];              /* output of the last command */
};

/* ---- processes ------------------------------------------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	close(fd);
}

/* A child with stdout and stderr to `log`, killed if we die. */
static pid_t
spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to timeout_ms: the wait status, or -1 still running. */
static int
wait_pid(pid_t pid, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			return -1;
		sleep_ms(10);
	}
}

static void
kill_wait(pid_t pid)
{
	if (pid <= 0)
		return;
	if (wait_pid(pid, 0) >= 0)
		return;
	(void)kill(pid, SIGKILL);
	(void)wait_pid(pid, 5000);
}

/* Runs argv to its end (killed after CMD_TIMEOUT_MS): its exit status,
 * or -1; its output in f->out. */
static int
run_argv(struct fixture *f, char *const argv[])
{
	char log[160];
	pid_t pid;
	int status;

	snprintf(log, sizeof(log), "%s/cmd.out", f->dir);
	pid = spawn(argv, log);
	if (pid < 0)
		return -1;
	status = wait_pid(pid, CMD_TIMEOUT_MS);
	if (status < 0) {
		kill_wait(pid);
		f->out[0] = '\0';
		return -1;
	}
	read_file(log, f->out, sizeof(f->out));
	(void)unlink(log);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* tgtadm -C 12 --lld iscsi ARGS... (NULL-terminated): exit status. */
static int
tgt(struct fixture *f, ...)
{
	char *argv[24] = { "tgtadm", "-C", CONTROL_PORT, "--lld", "iscsi" };
	int argc = 5;
	const char *a;
	va_list ap;

	va_start(ap, f);
	while ((a = va_arg(ap, const char *)) && argc < 23)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return run_argv(f, argv);
}

/* Delete a target (--force): tgtd may answer "busy" (22) while a session
 * is mid-command on a loaded machine; as the SAN agent does on its next
 * pass, ask again.  The exit status of the last try. */
static int
tgt_delete_target(struct fixture *f, const char *tid)
{
	int rc = -1;

	for (int i = 0; i < 20 && rc != 0; i++) {
		if (i > 0)
			usleep(100 * 1000);
		rc = tgt(f, "--op", "delete", "--mode", "target", "--tid", tid,
			 "--force", NULL);
	}
	return rc;
}

/* Fails at the caller's line. */
#define assert_has(haystack, needle) \
	assert_has_at((haystack), (needle), __FILE__, __LINE__)

static void
assert_has_at(const char *haystack, const char *needle, const char *file,
	      int line)
{
	if (strstr(haystack, needle))
		return;
	print_error("expected \"%s\" in:\n%s\n", needle, haystack);
	_fail(file, line);
}

/* ---- tgtd ------------------------------------------------------------ */

/* Until tgtadm gets an answer ("Transport endpoint is not connected" at
 * first). */
static bool
tgtd_wait_ready(struct fixture *f, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	do {
		if (tgt(f, "--op", "show", "--mode", "target", NULL) == 0)
			return true;
		sleep_ms(50);
	} while (now_ms() < end);
	return false;
}

static void
make_lun_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, LUN_BYTES), 0);
	close(fd);
}

/* Target tid IQN, LUN 1 on `file` of block size bs, ACL: initiator h1. */
static void
make_target(struct fixture *f, const char *tid, const char *iqn,
	    const char *file, const char *bs)
{
	make_lun_file(file);
	assert_int_equal(tgt(f, "--op", "new", "--mode", "target", "--tid", tid,
			     "-T", iqn, NULL), 0);
	if (bs)
		assert_int_equal(tgt(f, "--op", "new", "--mode", "logicalunit",
				     "--tid", tid, "--lun", "1", "-b", file,
				     "--blocksize", bs, NULL), 0);
	else
		assert_int_equal(tgt(f, "--op", "new", "--mode", "logicalunit",
				     "--tid", tid, "--lun", "1", "-b", file, NULL), 0);
	assert_int_equal(tgt(f, "--op", "bind", "--mode", "target", "--tid", tid,
			     "-Q", IQN_H1, NULL), 0);
}

/* Deletes the connections of target 1 (of `initiator` only, unless
 * NULL), as the storage fence does: how many. */
static int
delete_conns(struct fixture *f, const char *initiator)
{
	char list[OUT_MAX];
	char sid[32] = "", cid[32] = "";
	char *line, *save = NULL;
	int n = 0;

	assert_int_equal(tgt(f, "--op", "show", "--mode", "conn", "--tid", "1", NULL), 0);
	snprintf(list, sizeof(list), "%s", f->out);
	for (line = strtok_r(list, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ')
			line++;
		if (sscanf(line, "Session: %31s", sid) == 1)
			continue;
		if (sscanf(line, "Connection: %31s", cid) == 1)
			continue;
		if (strncmp(line, "Initiator: ", 11) != 0 || !sid[0] || !cid[0])
			continue;
		if (initiator && strcmp(line + 11, initiator) != 0)
			continue;
		assert_int_equal(tgt(f, "--op", "delete", "--mode", "conn", "--tid", "1",
				     "--sid", sid, "--cid", cid, NULL), 0);
		n++;
	}
	return n;
}

/* The ports are ours once LOCK_PATH is: -1 when another run keeps it. */
static int
lock_ports(void)
{
	uint64_t end = now_ms() + LOCK_WAIT_MS;
	int fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || now_ms() >= end) {
			close(fd);
			return -1;
		}
		sleep_ms(100);
	}
	return fd;
}

static int
group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *g = getenv("XM_TEST_GUEST");
	const char *c = getenv("XM_TEST_CHECK_WRITERS");
	char *argv[] = { "tgtd", "-f", "--control-port", CONTROL_PORT, "--iscsi",
			 "portal=" PORTAL, NULL };
	char log[128];

	if (!f)
		return -1;
	f->blackhole = -1;
	if (!realpath(g ? g : GUEST_BIN, f->guest) ||
	    !realpath(c ? c : CHECK_WRITERS_BIN, f->checker)) {
		fprintf(stderr, "test programs %s, %s: %s\n", g ? g : GUEST_BIN,
			c ? c : CHECK_WRITERS_BIN, strerror(errno));
		goto out_free;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_guest_iscsi.XXXXXX");
	if (!mkdtemp(f->dir))
		goto out_free;
	/* Not someone else's tgtd: we would tear it down. */
	if (tgt(f, "--op", "show", "--mode", "target", NULL) == 0) {
		fprintf(stderr, "a tgtd already answers on control port %s (a "
			"leftover? tgtadm -C %s --op delete --mode system)\n",
			CONTROL_PORT, CONTROL_PORT);
		goto out_rmdir;
	}
	snprintf(log, sizeof(log), "%s/tgtd.log", f->dir);
	f->tgtd = spawn(argv, log);
	if (f->tgtd < 0 || !tgtd_wait_ready(f, 5000)) {
		read_file(log, f->out, sizeof(f->out));
		fprintf(stderr, "tgtd did not come up:\n%s\n", f->out);
		kill_wait(f->tgtd);
		(void)unlink(log);
		goto out_rmdir;
	}
	*state = f;
	return 0;

out_rmdir:
	(void)rmdir(f->dir);
out_free:
	free(f);
	return -1;
}

static int
group_teardown(void **state)
{
	struct fixture *f = *state;
	char log[128];

	if (!f)
		return 0;       /* the group setup failed and cleaned up */
	(void)tgt(f, "--op", "update", "--mode", "sys", "--name", "State",
		  "-v", "offline", NULL);
	(void)tgt(f, "--op", "delete", "--mode", "target", "--tid", "1", "--force", NULL);
	(void)tgt(f, "--op", "delete", "--mode", "target", "--tid", "2", "--force", NULL);
	(void)tgt(f, "--op", "delete", "--mode", "system", NULL);
	if (wait_pid(f->tgtd, 3000) < 0)
		kill_wait(f->tgtd);     /* SIGKILL, the last resort */
	snprintf(log, sizeof(log), "%s/tgtd.log", f->dir);
	(void)unlink(log);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static int
setup(void **state)
{
	struct fixture *f = *state;

	f->guest_pid = 0;
	f->blackhole = -1;
	f->lun2[0] = '\0';
	snprintf(f->lun, sizeof(f->lun), "%s/vm1.img", f->dir);
	snprintf(f->exit_file, sizeof(f->exit_file), "%s/vm1.exit", f->dir);
	snprintf(f->guest_log, sizeof(f->guest_log), "%s/guest.log", f->dir);
	make_target(f, "1", IQN_VM1, f->lun, NULL);
	return 0;
}

/* Whatever a test left: tgtd as setup found it, no guest, no file. */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	kill_wait(f->guest_pid);
	f->guest_pid = 0;
	if (f->blackhole >= 0)
		close(f->blackhole);
	f->blackhole = -1;
	(void)tgt(f, "--op", "update", "--mode", "sys", "--name", "State",
		  "-v", "ready", NULL);
	(void)tgt(f, "--op", "new", "--mode", "portal", "--param",
		  "portal=" PORTAL, NULL);    /* fails if it is there: fine */
	(void)tgt(f, "--op", "delete", "--mode", "target", "--tid", "1", "--force", NULL);
	(void)tgt(f, "--op", "delete", "--mode", "target", "--tid", "2", "--force", NULL);
	(void)unlink(f->lun);
	if (f->lun2[0])
		(void)unlink(f->lun2);
	(void)unlink(f->exit_file);
	(void)unlink(f->guest_log);
	return 0;
}

/* ---- the guest and its disk ------------------------------------------ */

/* guest --vm vm1 --host HOST --generation GEN --disk URL --initiator IQN
 * --exit-file ... then the extra words (NULL-terminated). */
static pid_t
guest_start(struct fixture *f, const char *host, const char *gen,
	    const char *url, const char *initiator, ...)
{
	char *argv[32] = { f->guest, "--vm", "vm1", "--host", (char *)host,
			   "--generation", (char *)gen, "--disk", (char *)url,
			   "--exit-file", f->exit_file };
	int argc = 11;
	const char *a;
	va_list ap;

	if (initiator) {
		argv[argc++] = "--initiator";
		argv[argc++] = (char *)initiator;
	}
	va_start(ap, initiator);
	while ((a = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	(void)unlink(f->exit_file);
	f->guest_pid = spawn(argv, f->guest_log);
	assert_true(f->guest_pid > 0);
	return f->guest_pid;
}

/* The guest's exit status, waiting up to timeout_ms; its log in f->out. */
static int
guest_wait(struct fixture *f, unsigned timeout_ms)
{
	int status = wait_pid(f->guest_pid, timeout_ms);

	read_file(f->guest_log, f->out, sizeof(f->out));
	if (status < 0)
		fail_msg("the guest did not exit within %u ms:\n%s", timeout_ms, f->out);
	f->guest_pid = 0;
	if (!WIFEXITED(status))
		fail_msg("the guest died of signal %d:\n%s", WTERMSIG(status), f->out);
	return WEXITSTATUS(status);
}

static bool
guest_alive(struct fixture *f)
{
	return f->guest_pid > 0 && waitpid(f->guest_pid, NULL, WNOHANG) == 0;
}

/* Valid records from block 0 on, to the first block that is not one. */
static uint64_t
count_records(const char *lun, unsigned block, struct guest_record *last)
{
	uint8_t buf[4096];
	struct guest_record r;
	uint64_t n = 0;
	int fd = open(lun, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	while (pread(fd, buf, block, (off_t)(n * block)) == (ssize_t)block &&
	       guest_record_decode(buf, &r) == 0) {
		if (last)
			*last = r;
		n++;
	}
	close(fd);
	return n;
}

static uint64_t
wait_records(struct fixture *f, uint64_t n, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms, have;

	while ((have = count_records(f->lun, BLOCK, NULL)) < n) {
		if (now_ms() >= end) {
			read_file(f->guest_log, f->out, sizeof(f->out));
			fail_msg("%llu of %llu records after %u ms; guest:\n%s",
				 (unsigned long long)have, (unsigned long long)n,
				 timeout_ms, f->out);
		}
		sleep_ms(20);
	}
	return have;
}

/* check-writers DISK (extra words first): its status, output in f->out. */
static int
check_writers(struct fixture *f, const char *disk, const char *opt1,
	      const char *opt2)
{
	char *argv[6] = { f->checker };
	int argc = 1;

	if (opt1)
		argv[argc++] = (char *)opt1;
	if (opt2)
		argv[argc++] = (char *)opt2;
	argv[argc++] = (char *)disk;
	argv[argc] = NULL;
	return run_argv(f, argv);
}

/* The disk holds exactly one clean generation, seq 1..n without a gap:
 * the guest went on through the outage as the same instance. */
static void
assert_one_continuous_generation(struct fixture *f, uint64_t n)
{
	char expect[160];
	struct guest_record last;

	assert_int_equal(count_records(f->lun, BLOCK, &last), n);
	assert_int_equal(last.seq, n);
	assert_int_equal(check_writers(f, f->lun, NULL, NULL), 0);
	snprintf(expect, sizeof(expect), ": %llu records, 1 generations, vm vm1\n",
		 (unsigned long long)n);
	assert_has(f->out, expect);
	snprintf(expect, sizeof(expect), "generation 1 host h1 records %llu seq 1..%llu\n",
		 (unsigned long long)n, (unsigned long long)n);
	assert_has(f->out, expect);
	assert_has(f->out, "OK: 0 violations\n");
}

/* Stops a running guest with SIGTERM: a clean poweroff. */
static void
guest_poweroff(struct fixture *f)
{
	char reason[64];

	assert_true(guest_alive(f));
	assert_int_equal(kill(f->guest_pid, SIGTERM), 0);
	assert_int_equal(guest_wait(f, 5000), 0);
	read_file(f->exit_file, reason, sizeof(reason));
	assert_string_equal(reason, "poweroff\n");
}

/* ---- usage ------------------------------------------------------------ */

static void
test_usage(void **state)
{
	struct fixture *f = *state;

	guest_start(f, "h1", "1", URL_VM1, NULL, NULL);
	assert_int_equal(guest_wait(f, 5000), 2);
	assert_has(f->out, "an iscsi:// disk needs --initiator IQN");

	guest_start(f, "h1", "1", "iscsi://" PORTAL "/" IQN_VM1, IQN_H1, NULL);
	assert_int_equal(guest_wait(f, 5000), 2);
	assert_has(f->out, "open of the disk");

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--replacement-timeout", "-1", NULL);
	assert_int_equal(guest_wait(f, 5000), 2);
	assert_has(f->out, "bad replacement timeout '-1'");

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--help", NULL);
	assert_int_equal(guest_wait(f, 5000), 0);
	assert_has(f->out, "[--initiator IQN] [--replacement-timeout S]");
	assert_int_equal(count_records(f->lun, BLOCK, NULL), 0);
}

/* ---- (a) writing, and a second instance after the first --------------- */

static void
test_append_then_next_instance(void **state)
{
	struct fixture *f = *state;
	struct guest_record last;
	uint8_t buf[BLOCK];
	char reason[64];
	int fd;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "500",
		    "--poweroff-after", "20", NULL);
	assert_int_equal(guest_wait(f, 10000), 0);
	assert_has(f->out, "32768 blocks of 512 bytes, appending at LBA 0\n");
	read_file(f->exit_file, reason, sizeof(reason));
	assert_string_equal(reason, "poweroff\n");
	assert_int_equal(count_records(f->lun, BLOCK, &last), 20);
	assert_int_equal(last.generation, 1);
	assert_int_equal(last.seq, 20);

	/* Block i: the record, then zeros. */
	fd = open(f->lun, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 19 * BLOCK), BLOCK);
	close(fd);
	for (size_t i = GUEST_RECORD_SIZE; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);

	assert_int_equal(check_writers(f, f->lun, NULL, NULL), 0);
	assert_has(f->out, ": 20 records, 1 generations, vm vm1\n"
		   "blocks of 512 bytes, end of data at offset 10240 (block 20)\n"
		   "generation 1 host h1 records 20 seq 1..20\n");

	/* A new instance continues after the old one's records. */
	guest_start(f, "h1", "2", URL_VM1, IQN_H1, "--rate", "500",
		    "--poweroff-after", "10", NULL);
	assert_int_equal(guest_wait(f, 10000), 0);
	assert_has(f->out, "appending at LBA 20\n");
	assert_int_equal(count_records(f->lun, BLOCK, &last), 30);
	assert_int_equal(last.generation, 2);
	assert_int_equal(last.seq, 10);
	assert_int_equal(check_writers(f, f->lun, NULL, NULL), 0);
	assert_has(f->out, ": 30 records, 2 generations, vm vm1\n");
	assert_has(f->out, "generation 2 host h1 records 10 seq 1..10\n");
	assert_has(f->out, "OK: 0 violations\n");
}

/* A LUN of 4096-byte blocks: one record per 4096 bytes, found as such. */
static void
test_block_size_4096(void **state)
{
	struct fixture *f = *state;

	snprintf(f->lun2, sizeof(f->lun2), "%s/vm2.img", f->dir);
	make_target(f, "2", IQN_VM2, f->lun2, "4096");
	guest_start(f, "h1", "1", URL_VM2, IQN_H1, "--rate", "500",
		    "--poweroff-after", "5", NULL);
	assert_int_equal(guest_wait(f, 10000), 0);
	assert_has(f->out, "4096 blocks of 4096 bytes, appending at LBA 0\n");
	assert_int_equal(count_records(f->lun2, 4096, NULL), 5);
	assert_int_equal(check_writers(f, f->lun2, NULL, NULL), 0);
	assert_has(f->out, ": 5 records, 1 generations, vm vm1\n"
		   "blocks of 4096 bytes, end of data at offset 20480 (block 5)\n");
}

/* ---- (b) an initiator not in the ACL ---------------------------------- */

static void
test_refused_initiator(void **state)
{
	struct fixture *f = *state;
	uint64_t t0 = now_ms();

	guest_start(f, "h2", "1", URL_VM1, IQN_H2, NULL);
	assert_int_equal(guest_wait(f, 5000), 4);
	assert_true(now_ms() - t0 < 2000);
	assert_has(f->out, "storage access refused: fenced: " URL_VM1
		   " refused initiator " IQN_H2 " (login: Failed to log in to "
		   "target. Status: Target not found(515)); stopping\n");
	assert_null(strstr(f->out, "trying again"));
	assert_int_equal(count_records(f->lun, BLOCK, NULL), 0);
	read_file(f->exit_file, f->out, sizeof(f->out));
	assert_string_equal(f->out, "fenced\n");  /* the proc driver's word */
	assert_int_equal(check_writers(f, f->lun, NULL, NULL), 0);
	assert_has(f->out, ": 0 records, 0 generations, vm -\n");
	assert_has(f->out, " bytes, end of data at offset 0 (block 0)\n");
}

/* ---- (c) the storage fence while the guest writes --------------------- */

static void
test_fence_while_writing(void **state)
{
	struct fixture *f = *state;
	uint64_t n, t0;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	wait_records(f, 10, 5000);
	assert_int_equal(tgt(f, "--op", "unbind", "--mode", "target", "--tid", "1",
			     "-Q", IQN_H1, NULL), 0);
	assert_true(delete_conns(f, IQN_H1) >= 1);
	t0 = now_ms();
	assert_int_equal(guest_wait(f, 5000), 4);
	assert_true(now_ms() - t0 < 3000);
	assert_has(f->out, "storage access refused: fenced: " URL_VM1
		   " refused initiator " IQN_H1 " (login: Failed to log in to "
		   "target. Status: Target not found(515)); stopping\n");
	/* The fence as read back: no ACL entry, no session. */
	assert_int_equal(tgt(f, "--op", "show", "--mode", "target", NULL), 0);
	assert_null(strstr(f->out, IQN_H1));
	n = count_records(f->lun, BLOCK, NULL);
	assert_true(n >= 10);
	assert_one_continuous_generation(f, n);
}

/* A target deleted while another is left is "Target not found" too. */
static void
test_target_removed(void **state)
{
	struct fixture *f = *state;

	snprintf(f->lun2, sizeof(f->lun2), "%s/vm2.img", f->dir);
	make_target(f, "2", IQN_VM2, f->lun2, NULL);
	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	wait_records(f, 5, 5000);
	assert_int_equal(tgt_delete_target(f, "1"), 0);
	assert_int_equal(guest_wait(f, 5000), 4);
	assert_has(f->out, "Target not found(515)); stopping\n");
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

/* tgt with no target at all closes the connection at login instead of
 * answering it: to the guest an outage, not a refusal.  (A fence must
 * unbind the initiator, not delete the last target.) */
static void
test_last_target_removed_is_outage(void **state)
{
	struct fixture *f = *state;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50",
		    "--replacement-timeout", "1", NULL);
	wait_records(f, 5, 5000);
	assert_int_equal(tgt_delete_target(f, "1"), 0);
	assert_int_equal(guest_wait(f, 5000), 3);
	assert_has(f->out, "no session for 1 s");
	assert_null(strstr(f->out, "fenced"));
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

/* ---- (d) transport outages: the same instance goes on ----------------- */

static void
test_connection_deleted(void **state)
{
	struct fixture *f = *state;
	uint64_t n;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	n = wait_records(f, 10, 5000);
	assert_int_equal(delete_conns(f, IQN_H1), 1);
	wait_records(f, n + 10, 5000);
	assert_true(guest_alive(f));
	guest_poweroff(f);
	assert_has(f->out, ": cancelled, the connection is gone; logging in again "
		   "for up to 120 s\n");
	assert_has(f->out, "logged in to " IQN_VM1 " at " PORTAL " again (1 tries");
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

/* The SAN node's state offline: tgtd drops new logins unanswered. */
static void
test_system_offline(void **state)
{
	struct fixture *f = *state;
	uint64_t n;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	wait_records(f, 10, 5000);
	assert_int_equal(tgt(f, "--op", "update", "--mode", "sys", "--name", "State",
			     "-v", "offline", NULL), 0);
	assert_int_equal(delete_conns(f, NULL), 1);
	sleep_ms(300);
	n = count_records(f->lun, BLOCK, NULL);
	sleep_ms(1500);
	assert_int_equal(count_records(f->lun, BLOCK, NULL), n);  /* nothing written */
	assert_true(guest_alive(f));
	assert_int_equal(tgt(f, "--op", "update", "--mode", "sys", "--name", "State",
			     "-v", "ready", NULL), 0);
	wait_records(f, n + 10, 5000);
	guest_poweroff(f);
	assert_has(f->out, "login: iscsi_service_reconnect_if_loggedin. Can not "
		   "reconnect right now.; trying again\n");
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

/* The portal gone (its address moving to the other SAN node): connect
 * refused until it is back. */
static void
test_portal_gone(void **state)
{
	struct fixture *f = *state;
	uint64_t n;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	wait_records(f, 10, 5000);
	assert_int_equal(tgt(f, "--op", "delete", "--mode", "portal", "--param",
			     "portal=" PORTAL, NULL), 0);
	assert_int_equal(delete_conns(f, NULL), 1);
	sleep_ms(300);
	n = count_records(f->lun, BLOCK, NULL);
	sleep_ms(1500);
	assert_int_equal(count_records(f->lun, BLOCK, NULL), n);
	assert_true(guest_alive(f));
	assert_int_equal(tgt(f, "--op", "new", "--mode", "portal", "--param",
			     "portal=" PORTAL, NULL), 0);
	wait_records(f, n + 10, 5000);
	guest_poweroff(f);
	assert_has(f->out, "connect: ");
	assert_has(f->out, " again (");
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

/* The portal replaced by a listener that never accepts: the kernel
 * completes the TCP handshake, nobody answers the login. */
static void
blackhole_portal(struct fixture *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORTAL_PORT) };
	int one = 1;

	assert_int_equal(tgt(f, "--op", "delete", "--mode", "portal", "--param",
			     "portal=" PORTAL, NULL), 0);
	f->blackhole = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->blackhole >= 0);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr), 1);
	assert_int_equal(setsockopt(f->blackhole, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)), 0);
	assert_int_equal(bind(f->blackhole, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->blackhole, 16), 0);
}

/* A portal that accepts and never answers: each try ends at its deadline,
 * and the guest gives up after --replacement-timeout (status 3). */
static void
test_blackhole_replacement_timeout(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50",
		    "--replacement-timeout", "2", NULL);
	wait_records(f, 10, 5000);
	blackhole_portal(f);
	assert_int_equal(delete_conns(f, NULL), 1);
	t0 = now_ms();
	assert_int_equal(guest_wait(f, 6000), 3);
	assert_true(now_ms() - t0 >= 1500 && now_ms() - t0 < 4000);
	assert_has(f->out, "login: no answer for ");
	assert_has(f->out, "failed: no session for 2 s (");
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
	read_file(f->exit_file, f->out, sizeof(f->out));
	assert_string_equal(f->out, "storage\n");  /* lost its path: elsewhere */
}

/* SIGTERM while the disk is away: a clean poweroff, at once. */
static void
test_stop_while_away(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	wait_records(f, 5, 5000);
	assert_int_equal(tgt(f, "--op", "delete", "--mode", "portal", "--param",
			     "portal=" PORTAL, NULL), 0);
	assert_int_equal(delete_conns(f, NULL), 1);
	sleep_ms(500);
	t0 = now_ms();
	guest_poweroff(f);
	assert_true(now_ms() - t0 < 2000);
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

/* SIGTERM while a login waits on a silent portal: not the 5 s of the
 * try, at once. */
static void
test_stop_while_blackholed(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	guest_start(f, "h1", "1", URL_VM1, IQN_H1, "--rate", "50", NULL);
	wait_records(f, 5, 5000);
	blackhole_portal(f);
	assert_int_equal(delete_conns(f, NULL), 1);
	sleep_ms(700);
	t0 = now_ms();
	guest_poweroff(f);
	assert_true(now_ms() - t0 < 1000);
	assert_one_continuous_generation(f, count_records(f->lun, BLOCK, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_then_next_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_size_4096, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_initiator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fence_while_writing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_target_removed_is_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_offline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portal_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blackhole_replacement_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_blackholed, setup, teardown),
	};
	const char *why = NULL;
	const char *path = getenv("PATH");
	char newpath[4096];

	/* tgtadm is run by name; root's PATH may lack the sbin dirs. */
	snprintf(newpath, sizeof(newpath), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	(void)setenv("PATH", newpath, 1);
	if (geteuid() != 0)
		why = "not root";
	else if (access("/usr/sbin/tgtd", X_OK) != 0 && access("/sbin/tgtd", X_OK) != 0)
		why = "tgtd is not installed";
	else if (access("/usr/sbin/tgtadm", X_OK) != 0 && access("/sbin/tgtadm", X_OK) != 0)
		why = "tgtadm is not installed";
	if (why) {
		printf("test_guest_iscsi: SKIP: %s (needs root and a real tgtd)\n", why);
		return 77;
	}
	/* Held to the end: closed by exit, after the group teardown. */
	if (lock_ports() < 0) {
		printf("test_guest_iscsi: SKIP: another run has held %s for %d s "
		       "(control port %s, portal %s)\n", LOCK_PATH, LOCK_WAIT_MS / 1000,
		       CONTROL_PORT, PORTAL);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
