/* Tests of fencing/watchdog.c.
 *
 * kernel: against plain files standing in for /dev/watchdog.  A plain file
 * refuses the watchdog ioctls (ENOTTY), which tests the error paths; for
 * the happy path the test links with -Wl,--wrap=ioctl and answers
 * WDIOC_SETTIMEOUT / WDIOC_GETTIMEOUT itself while `fake` is on.
 *
 * rig: against the real tests/rig/watchdogd, started per test in a temp
 * directory whose cg/NODE/cgroup.kill are plain files: a kill shows as "1".
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include <cmocka.h>

#include "watchdog.h"

#ifndef WATCHDOGD_PATH
#define WATCHDOGD_PATH "tests/rig/watchdogd"
#endif

/* ---- the fake device's ioctls ------------------------------------------- */

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

static struct {
	bool on;
	int timeout;            /* what GETTIMEOUT reports */
	int get_errno;          /* GETTIMEOUT fails with it when set */
	int set_calls, get_calls;
	int last_set;
} fake;

int
__wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake.on)
		return __real_ioctl(fd, req, arg);
	switch (req) {
	case WDIOC_SETTIMEOUT:
		fake.set_calls++;
		fake.last_set = *(int *)arg;
		/* Like hardware with a 2 s granularity: round up to even. */
		fake.timeout = (fake.last_set + 1) & ~1;
		*(int *)arg = fake.timeout;
		return 0;
	case WDIOC_GETTIMEOUT:
		fake.get_calls++;
		if (fake.get_errno) {
			errno = fake.get_errno;
			return -1;
		}
		*(int *)arg = fake.timeout;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

/* ---- fixture -------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char sock[128];
	char cg[128];
	char log[128];
	pid_t wdd;
};

static const char *const nodes[] = { "h1", "h2", "h3" };

static void
path_of(char *out, size_t len, const struct fixture *f, const char *rel)
{
	snprintf(out, len, "%s/%s", f->dir, rel);
}

static void
kill_path(char *out, size_t len, const struct fixture *f, const char *node)
{
	snprintf(out, len, "%s/%s/cgroup.kill", f->cg, node);
}

/* The whole file as a string ("" when empty). */
static void
slurp(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!fp)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void
write_file(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(s, fp);
	fclose(fp);
}

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
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[256];
	size_t i;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_watchdog.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	path_of(f->sock, sizeof(f->sock), f, "wd.sock");
	path_of(f->cg, sizeof(f->cg), f, "cg");
	path_of(f->log, sizeof(f->log), f, "watchdogd.log");
	if (mkdir(f->cg, 0755) < 0)
		return -1;
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->cg, nodes[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
		kill_path(p, sizeof(p), f, nodes[i]);
		write_file(p, "");
	}
	memset(&fake, 0, sizeof(fake));
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->wdd > 0) {
		kill(f->wdd, SIGTERM);
		waitpid(f->wdd, NULL, 0);
	}
	memset(&fake, 0, sizeof(fake));
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static const char *
watchdogd_path(void)
{
	const char *env = getenv("XM_WATCHDOGD");

	return env ? env : WATCHDOGD_PATH;
}

static pid_t
spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int
raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Start watchdogd and wait until it accepts connections. */
static int
setup_wdd(void **state)
{
	struct fixture *f;
	int i, fd;

	if (setup(state) < 0)
		return -1;
	f = *state;
	char *argv[] = { (char *)watchdogd_path(), "--socket", f->sock,
	    "--cgroup-root", f->cg, "--log", f->log, NULL };

	f->wdd = spawn(argv);
	if (f->wdd < 0)
		return -1;
	for (i = 0; i < 300; i++) {
		fd = raw_connect(f->sock);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(f->wdd, NULL, WNOHANG) == f->wdd) {
			fprintf(stderr, "watchdogd (%s) exited at start\n",
			    argv[0]);
			f->wdd = 0;
			return -1;
		}
		sleep_ms(10);
	}
	return -1;
}

/* ms after `since` when cgroup.kill of node became "1"; -1 if not within
 * max_ms. */
static int64_t
wait_kill(const struct fixture *f, const char *node, uint64_t since,
    unsigned max_ms)
{
	char p[256], buf[16];
	uint64_t end = now_ms() + max_ms;

	kill_path(p, sizeof(p), f, node);
	do {
		slurp(p, buf, sizeof(buf));
		if (strcmp(buf, "1") == 0)
			return (int64_t)(now_ms() - since);
		if (buf[0])
			fail_msg("%s holds \"%s\"", p, buf);
		sleep_ms(20);
	} while (now_ms() < end);
	return -1;
}

static void
assert_log_has(const struct fixture *f, const char *needle)
{
	char buf[16384];

	slurp(f->log, buf, sizeof(buf));
	if (!strstr(buf, needle))
		fail_msg("watchdogd log lacks \"%s\":\n%s", needle, buf);
}

static void
assert_not_killed(const struct fixture *f, const char *node)
{
	assert_int_equal(wait_kill(f, node, 0, 0), -1);
}

static struct watchdog *
rig_open(const struct fixture *f, const char *node)
{
	struct watchdog_params p = { .path = f->sock, .node_name = node,
	    .timeout_s = 1 };
	struct watchdog *wd = NULL;
	char why[256];

	if (watchdog_open(&watchdog_rig_ops, &wd, &p, why, sizeof(why)) != 0)
		fail_msg("rig open %s: %s", node, why);
	return wd;
}

/* Killed about one timeout (1 s) after t0, not before. */
static void
assert_killed_after(const struct fixture *f, const char *node, uint64_t t0)
{
	int64_t dt = wait_kill(f, node, t0, 3000);

	if (dt < 900 || dt > 1500)
		fail_msg("%s killed %lld ms after its last pet (timeout 1 s)",
		    node, (long long)dt);
}

/* Keep a rig watchdog petted for total_ms. */
static void
pet_for(struct watchdog *wd, unsigned total_ms)
{
	uint64_t end = now_ms() + total_ms;

	while (now_ms() < end) {
		assert_int_equal(watchdog_pet(wd), 0);
		sleep_ms(200);
	}
}

/* ---- lookup ------------------------------------------------------------- */

static void
test_ops_find(void **state)
{
	assert_null(watchdog_ops_find(NULL));
	assert_null(watchdog_ops_find(""));
	assert_null(watchdog_ops_find("softdog"));
	assert_ptr_equal(watchdog_ops_find("kernel"), &watchdog_kernel_ops);
	assert_ptr_equal(watchdog_ops_find("rig"), &watchdog_rig_ops);
	assert_string_equal(watchdog_kernel_ops.name, "kernel");
	assert_string_equal(watchdog_rig_ops.name, "rig");
	assert_null(watchdog_rig_ops.set_timeout);
	watchdog_close(NULL, true);
	watchdog_close(NULL, false);
}

/* ---- kernel driver ------------------------------------------------------ */

/* A fresh empty "device" file in the test directory. */
static void
dev_file(const struct fixture *f, char *path, size_t len)
{
	path_of(path, len, f, "dev");
	write_file(path, "");
}

static int
kopen(const char *path, unsigned timeout_s, struct watchdog **wd, char *why,
    size_t whylen)
{
	struct watchdog_params p = { .path = path, .timeout_s = timeout_s };

	return watchdog_open(&watchdog_kernel_ops, wd, &p, why, whylen);
}

static void
test_kernel_open_invalid(void **state)
{
	struct fixture *f = *state;
	struct watchdog *wd = (struct watchdog *)f;
	char path[256], why[256], expect[512];

	path_of(path, sizeof(path), f, "nope");
	assert_int_equal(kopen(path, 0, &wd, why, sizeof(why)), -ENOENT);
	assert_null(wd);
	snprintf(expect, sizeof(expect), "no watchdog device %s: load a "
	    "watchdog driver (e.g. softdog) or configure the device path", path);
	assert_string_equal(why, expect);

	assert_int_equal(kopen(f->dir, 0, &wd, why, sizeof(why)), -EISDIR);
	snprintf(expect, sizeof(expect), "cannot open watchdog device %s: "
	    "Is a directory", f->dir);
	assert_string_equal(why, expect);

	dev_file(f, path, sizeof(path));
	assert_int_equal(kopen(path, WATCHDOG_TIMEOUT_MAX_S + 1, &wd, why,
	    sizeof(why)), -EINVAL);
	assert_string_equal(why, "watchdog timeout 3601 s is out of range "
	    "(1..3600)");
	/* Refused before opening: nothing was written.  why may be NULL. */
	slurp(path, why, sizeof(why));
	assert_string_equal(why, "");
	assert_int_equal(kopen(path, 3601, &wd, NULL, 0), -EINVAL);
}

/* Open an unusable "device": refused with why, and disarmed ("V"). */
static void
kopen_refused(const struct fixture *f, unsigned timeout_s, int rc,
    const char *why_rest)
{
	struct watchdog *wd;
	char path[256], why[256], expect[512], buf[16];

	dev_file(f, path, sizeof(path));
	assert_int_equal(kopen(path, timeout_s, &wd, why, sizeof(why)), rc);
	assert_null(wd);
	snprintf(expect, sizeof(expect), "watchdog device %s %s", path, why_rest);
	assert_string_equal(why, expect);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "V");
}

/* A plain file is not a watchdog: its ioctls fail (ENOTTY). */
static void
test_kernel_unusable_refused(void **state)
{
	struct fixture *f = *state;

	kopen_refused(f, 0, -ENOTTY, "does not report its timeout "
	    "(WDIOC_GETTIMEOUT): Inappropriate ioctl for device");
	kopen_refused(f, 5, -ENOTTY, "cannot set a timeout of 5 s "
	    "(WDIOC_SETTIMEOUT): Inappropriate ioctl for device");
	/* A device that reports a nonsense timeout cannot give W a term. */
	fake.on = true;
	fake.timeout = 0;
	kopen_refused(f, 0, -ERANGE, "reports a timeout of 0 s (usable: "
	    "1..3600)");
	assert_int_equal(fake.set_calls, 0);
	assert_int_equal(fake.get_calls, 1);
}

static void
test_kernel_pet_and_magic_close(void **state)
{
	struct fixture *f = *state;
	struct watchdog *wd;
	char path[256], why[256], buf[16];
	unsigned t = 0;

	dev_file(f, path, sizeof(path));
	fake.on = true;
	assert_int_equal(kopen(path, 7, &wd, why, sizeof(why)), 0);
	assert_non_null(wd);
	assert_string_equal(watchdog_name(wd), "kernel");
	/* Set, then read back: the device rounded 7 up to 8. */
	assert_int_equal(fake.set_calls, 1);
	assert_int_equal(fake.last_set, 7);
	assert_int_equal(fake.get_calls, 1);
	assert_int_equal(watchdog_timeout_get(wd, &t), 0);
	assert_int_equal(t, 8);
	/* Opening wrote nothing; each pet writes one byte, never 'V'. */
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(watchdog_pet(wd), 0);
	assert_int_equal(watchdog_pet(wd), 0);
	assert_int_equal(watchdog_pet(wd), 0);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "...");

	assert_int_equal(watchdog_set_timeout(wd, 0), -EINVAL);
	assert_int_equal(watchdog_set_timeout(wd, WATCHDOG_TIMEOUT_MAX_S + 1),
	    -EINVAL);
	assert_int_equal(fake.set_calls, 1);
	assert_int_equal(watchdog_set_timeout(wd, 20), 0);
	assert_int_equal(fake.last_set, 20);
	assert_int_equal(watchdog_timeout_get(wd, &t), 0);
	assert_int_equal(t, 20);
	/* The device breaks: the error comes back, t untouched. */
	fake.get_errno = EIO;
	t = 99;
	assert_int_equal(watchdog_timeout_get(wd, &t), -EIO);
	assert_int_equal(t, 99);

	watchdog_close(wd, true);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "...V");

	/* Reopened asking no timeout: the device's own (20) is kept.  A close
	 * without magic writes nothing: the device stays armed. */
	dev_file(f, path, sizeof(path));
	fake.get_errno = 0;
	assert_int_equal(kopen(path, 0, &wd, why, sizeof(why)), 0);
	assert_int_equal(fake.set_calls, 2);
	assert_int_equal(watchdog_timeout_get(wd, &t), 0);
	assert_int_equal(t, 20);
	assert_int_equal(watchdog_pet(wd), 0);
	watchdog_close(wd, false);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, ".");
}

/* A write that fails (here /dev/full: ENOSPC) comes back from pet. */
static void
test_kernel_pet_error(void **state)
{
	struct watchdog *wd;
	char why[256];

	fake.on = true;
	fake.timeout = 30;
	assert_int_equal(kopen("/dev/full", 0, &wd, why, sizeof(why)), 0);
	assert_int_equal(watchdog_pet(wd), -ENOSPC);
	watchdog_close(wd, false);
}

/* ---- watchdogd on its own ----------------------------------------------- */

static int
exit_status(char *const argv[])
{
	int status = -1;

	assert_true(waitpid(spawn(argv), &status, 0) > 0);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_watchdogd_usage(void **state)
{
	struct fixture *f = *state;
	char nodir[256];
	char *none[] = { (char *)watchdogd_path(), NULL };
	char *nosock[] = { (char *)watchdogd_path(), "--cgroup-root", f->cg,
	    NULL };
	char *badroot[] = { (char *)watchdogd_path(), "--socket", f->sock,
	    "--cgroup-root", nodir, NULL };

	path_of(nodir, sizeof(nodir), f, "nocg");
	assert_int_equal(exit_status(none), 2);
	assert_int_equal(exit_status(nosock), 2);
	assert_int_equal(exit_status(badroot), 1);
	assert_int_equal(access(f->sock, F_OK), -1);
}

/* ---- rig driver against watchdogd --------------------------------------- */

/* Expect rc from a rig open with these parameters; why into why. */
static void
rig_refused(const char *path, const char *node, unsigned timeout_s, int rc,
    char *why, size_t whylen)
{
	struct watchdog_params p = { .path = path, .node_name = node,
	    .timeout_s = timeout_s };
	struct watchdog *wd = (struct watchdog *)&p;

	assert_int_equal(watchdog_open(&watchdog_rig_ops, &wd, &p, why, whylen),
	    rc);
	assert_null(wd);
}

static void
test_rig_open_invalid(void **state)
{
	struct fixture *f = *state;
	char why[256], expect[512], longpath[200], longname[WATCHDOG_NODE_MAX + 1];
	static const char *const bad[] = { "", "../h1", "h1/x", ".h1", "-h1",
	    "h 1", NULL, "h1\n" };
	size_t i;

	/* No service there yet (setup, not setup_wdd). */
	rig_refused(f->sock, "h1", 1, -ENOENT, why, sizeof(why));
	snprintf(expect, sizeof(expect), "cannot connect to the rig watchdog "
	    "service at %s: No such file or directory", f->sock);
	assert_string_equal(why, expect);

	rig_refused(NULL, "h1", 1, -EINVAL, why, sizeof(why));
	assert_string_equal(why, "rig watchdog socket path is not configured");
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	rig_refused(longpath, "h1", 1, -ENAMETOOLONG, why, sizeof(why));
	assert_string_equal(why, "rig watchdog socket path is too long");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		rig_refused(f->sock, bad[i], 1, -EINVAL, why, sizeof(why));
	assert_string_equal(why, "rig watchdog needs a node name of letters, "
	    "digits, '-', '_', '.' (got \"h1\n\")");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	rig_refused(f->sock, longname, 1, -EINVAL, why, sizeof(why));
	rig_refused(f->sock, "h1", WATCHDOG_TIMEOUT_MAX_S + 1, -EINVAL, why,
	    sizeof(why));
	assert_string_equal(why, "watchdog timeout 3601 s is out of range "
	    "(1..3600)");
}

/* A second connection for a node is refused, as a second open of the
 * device is, and neither disarms nor pets the first. */
static void
test_rig_pet_keeps_alive_magic_close_disarms(void **state)
{
	struct fixture *f = *state;
	struct watchdog_params p = { .path = f->sock, .node_name = "h1",
	    .timeout_s = 1 };
	struct watchdog *wd = rig_open(f, "h1"), *wd2 = (struct watchdog *)&p;
	char why[256], expect[512];
	unsigned t = 0;

	assert_string_equal(watchdog_name(wd), "rig");
	assert_int_equal(watchdog_timeout_get(wd, &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(watchdog_set_timeout(wd, 5), -EOPNOTSUPP);
	assert_int_equal(watchdog_open(&watchdog_rig_ops, &wd2, &p, why,
	    sizeof(why)), -EBUSY);
	assert_null(wd2);
	snprintf(expect, sizeof(expect), "rig watchdog service at %s refused "
	    "node h1: \"err busy\"", f->sock);
	assert_string_equal(why, expect);
	/* Twice the timeout, petted: alive. */
	pet_for(wd, 2000);
	assert_not_killed(f, "h1");
	watchdog_close(wd, true);
	sleep_ms(1500);
	assert_not_killed(f, "h1");
	assert_log_has(f, "h1: hello: armed, timeout 1 s");
	assert_log_has(f, "h1: already connected, second hello refused");
	assert_log_has(f, "h1: magic close: disarmed");
}

static void
test_rig_stop_petting_kills(void **state)
{
	struct fixture *f = *state;
	struct watchdog *wd = rig_open(f, "h2");
	char expect[512];

	pet_for(wd, 600);
	assert_int_equal(watchdog_pet(wd), 0);
	assert_killed_after(f, "h2", now_ms());
	assert_not_killed(f, "h1");
	assert_not_killed(f, "h3");
	snprintf(expect, sizeof(expect), "(timeout 1 s): wrote 1 to "
	    "%s/h2/cgroup.kill (power loss)", f->cg);
	assert_log_has(f, expect);
	assert_log_has(f, "h2: not petted for ");
	/* The service dropped the dead node's connection (right after
	 * writing cgroup.kill: give it a moment). */
	sleep_ms(100);
	assert_int_equal(watchdog_pet(wd), -EPIPE);
	watchdog_close(wd, true);
}

/* An agent that died and came back within the timeout keeps its host. */
static void
test_rig_reconnect_in_time_readopts(void **state)
{
	struct fixture *f = *state;
	struct watchdog *wd = rig_open(f, "h3");

	watchdog_close(wd, false);
	sleep_ms(500);
	wd = rig_open(f, "h3");
	pet_for(wd, 1800);
	assert_not_killed(f, "h3");
	assert_log_has(f, "h3: hello again while armed");
	assert_log_has(f, "re-adopted, timeout 1 s");
	watchdog_close(wd, true);
	sleep_ms(1300);
	assert_not_killed(f, "h3");
}

static void
raw_send(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL),
	    (ssize_t)strlen(s));
}

static void
raw_expect_line(int fd, const char *want)
{
	char buf[128];
	size_t used = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (used + 1 < sizeof(buf)) {
		assert_int_equal(poll(&pfd, 1, 3000), 1);
		assert_int_equal(read(fd, buf + used, 1), 1);
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	assert_string_equal(buf, want);
}

/* A hand-written client: connect, send hello, expect the reply. */
static int
raw_hello(const struct fixture *f, const char *hello, const char *reply)
{
	int fd = raw_connect(f->sock);

	assert_true(fd >= 0);
	raw_send(fd, hello);
	raw_expect_line(fd, reply);
	return fd;
}

/* Malformed hellos are answered and dropped. */
static void
test_rig_malformed_hello(void **state)
{
	struct fixture *f = *state;
	char buf[8];
	int fd;

	fd = raw_hello(f, "hello ../etc 1\n", "err malformed hello");
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	close(raw_hello(f, "hello h1 0\n", "err timeout out of range"));
	close(raw_hello(f, "hello h1 5 extra\n", "err malformed hello"));
	assert_log_has(f, "h1: timeout \"0\" out of range (1..3600), refused");
	sleep_ms(200);
	assert_not_killed(f, "h1");
}

/* Garbage keeps the connection but is no pet. */
static void
test_rig_garbage_is_no_pet(void **state)
{
	struct fixture *f = *state;
	char longline[301];
	uint64_t t0, end;
	int fd;

	memset(longline, 'g', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	fd = raw_connect(f->sock);
	assert_true(fd >= 0);
	raw_send(fd, "nonsense before hello\n");
	raw_send(fd, "hello h1 1\n");
	raw_expect_line(fd, "ok 1");
	t0 = now_ms();
	end = t0 + 2500;
	while (now_ms() < end && wait_kill(f, "h1", t0, 0) < 0) {
		(void)send(fd, "garbage\n", 8, MSG_NOSIGNAL);
		(void)send(fd, "pet pet\n", 8, MSG_NOSIGNAL);
		(void)send(fd, "\x01\x02\n", 3, MSG_NOSIGNAL);
		(void)send(fd, "hello h1 1\n", 11, MSG_NOSIGNAL);
		(void)send(fd, longline, strlen(longline), MSG_NOSIGNAL);
		sleep_ms(100);
	}
	assert_killed_after(f, "h1", t0);
	assert_log_has(f, "garbage before hello \"nonsense before hello\", "
	    "ignored");
	assert_log_has(f, "h1: garbage \"garbage\", not a pet");
	assert_log_has(f, "h1: garbage \"pet pet\", not a pet");
	assert_log_has(f, "h1: garbage \"\\x01\\x02\", not a pet");
	assert_log_has(f, "h1: garbage \"hello h1 1\", not a pet");
	assert_log_has(f, "h1: garbage \"gggggggg");
	close(fd);
}

/* Like /dev/watchdog closed without 'V': the countdown runs on.  And as
 * with 'V', "close" disarms only when it is the last line. */
static void
test_rig_disconnect_without_magic_kills(void **state)
{
	struct fixture *f = *state;
	struct watchdog *wd = rig_open(f, "h2");
	uint64_t t0;
	int fd;

	fd = raw_hello(f, "hello h3 1\n", "ok 1");
	raw_send(fd, "close\n");
	raw_send(fd, "pet\n");
	assert_int_equal(watchdog_pet(wd), 0);
	t0 = now_ms();
	close(fd);
	watchdog_close(wd, false);
	assert_killed_after(f, "h2", t0);
	assert_killed_after(f, "h3", t0);
	assert_not_killed(f, "h1");
	assert_log_has(f, "h2: disconnected without magic close: stays armed");
	assert_log_has(f, "h3: disconnected without magic close: stays armed");
}

/* The rig cut the node's power: its watchdog goes with it, so a node
 * restarted within the timeout is not killed before its agent is back. */
static void
test_rig_forget_disarms(void **state)
{
	struct fixture *f = *state;
	struct watchdog *wd = rig_open(f, "h2");
	char *forget[] = { (char *)watchdogd_path(), "--socket", f->sock,
	    "--forget", "h2", NULL };

	assert_int_equal(watchdog_pet(wd), 0);
	assert_int_equal(exit_status(forget), 0);
	watchdog_close(wd, false);
	sleep_ms(1500);
	assert_not_killed(f, "h2");
	assert_log_has(f, "h2: power cut by the rig: disarmed");
	/* Idempotent, unknown nodes included; bad names refused. */
	assert_int_equal(exit_status(forget), 0);
	forget[4] = "h3";
	assert_int_equal(exit_status(forget), 0);
	forget[4] = "../h3";
	assert_int_equal(exit_status(forget), 1);
	/* The restarted node's agent arms it again. */
	wd = rig_open(f, "h2");
	watchdog_close(wd, false);
	assert_killed_after(f, "h2", now_ms());
}

#define WITH(fn, su) cmocka_unit_test_setup_teardown(fn, su, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_find),
		WITH(test_kernel_open_invalid, setup),
		WITH(test_kernel_unusable_refused, setup),
		WITH(test_kernel_pet_and_magic_close, setup),
		WITH(test_kernel_pet_error, setup),
		WITH(test_watchdogd_usage, setup),
		WITH(test_rig_open_invalid, setup),
		WITH(test_rig_malformed_hello, setup_wdd),
		WITH(test_rig_pet_keeps_alive_magic_close_disarms, setup_wdd),
		WITH(test_rig_stop_petting_kills, setup_wdd),
		WITH(test_rig_disconnect_without_magic_kills, setup_wdd),
		WITH(test_rig_reconnect_in_time_readopts, setup_wdd),
		WITH(test_rig_garbage_is_no_pet, setup_wdd),
		WITH(test_rig_forget_disarms, setup_wdd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
