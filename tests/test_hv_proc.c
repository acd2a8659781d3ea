/* Tests of agent/hv_proc.c with the real test guest (tests/guest.c).
 *
 * The guest binary comes from $XM_TEST_GUEST, else GUEST_BIN (a -D from
 * the build), else "tests/guest" under the current directory; check-writers
 * from $XM_TEST_CHECK_WRITERS, else beside the guest.  Every test gets its
 * own mkdtemp run dir; teardown kills whatever guests a test left behind
 * (through fresh driver instances) and removes the dir.
 *
 * Live migration runs between two driver instances, hosts h1 and h2 with
 * run dirs DIR and DIR/h2, over a socketpair, as the agent's peer channel
 * would carry it; the disk they share is then read record by record and by
 * check-writers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest_record.h"
#include "hv.h"

#ifndef GUEST_BIN
#define GUEST_BIN "tests/guest"
#endif

#define HOST_MEM    4096
#define WAIT_MS     5000

struct fixture {
	char dir[64];
	char dir2[80];                  /* the second host's run dir */
	char disk[128];
	char guest[PATH_MAX];
	char checker[PATH_MAX];         /* check-writers */
	struct hv_params p, p2;
	struct hv *hv, *hv2;
	char out[16384];                /* check-writers' last output */
};

static void
rm_tree(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);

	if (!d) {
		(void)unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		char sub[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (e->d_type == DT_DIR)
			rm_tree(sub);
		else
			(void)unlink(sub);
	}
	closedir(d);
	(void)rmdir(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *g = getenv("XM_TEST_GUEST");

	if (!f)
		return -1;
	if (!realpath(g ? g : GUEST_BIN, f->guest)) {
		fprintf(stderr, "test guest %s: %s\n", g ? g : GUEST_BIN,
			strerror(errno));
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_hv_proc.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->disk, sizeof(f->disk), "%s/disk", f->dir);
	snprintf(f->dir2, sizeof(f->dir2), "%s/h2", f->dir);
	f->p.host_name = "h1";
	f->p.run_dir = f->dir;
	f->p.host_mem_mb = HOST_MEM;
	f->p.guest_path = f->guest;
	f->p2 = f->p;
	f->p2.host_name = "h2";
	f->p2.run_dir = f->dir2;
	g = getenv("XM_TEST_CHECK_WRITERS");
	if (g)
		snprintf(f->checker, sizeof(f->checker), "%s", g);
	else
		snprintf(f->checker, sizeof(f->checker), "%.*s/check-writers",
			 (int)(strrchr(f->guest, '/') - f->guest), f->guest);
	*state = f;
	return 0;
}

/* Every guest a driver instance on p still has: destroyed. */
static void
kill_all(const struct hv_params *p)
{
	struct hv_domain *doms;
	struct hv *hv = NULL;
	size_t n;

	if (hv_proc_ops.open(&hv, p) != 0)
		return;
	if (hv_proc_ops.list(hv, &doms, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			(void)hv_proc_ops.destroy(hv, doms[i].name);
		free(doms);
	}
	hv_proc_ops.close(hv);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	hv_proc_ops.close(f->hv);
	hv_proc_ops.close(f->hv2);
	kill_all(&f->p);
	if (stat(f->dir2, &st) == 0)
		kill_all(&f->p2);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static void
open_hv(struct fixture *f)
{
	assert_int_equal(hv_proc_ops.open(&f->hv, &f->p), 0);
	assert_non_null(f->hv);
}

static void
make_cfg(struct vm_config *c, const char *name, uint64_t mem,
	 const char *disk, const char *extra)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->type = VM_TYPE_PVH;
	c->memory_mb = mem;
	c->maxmem_mb = mem;
	c->vcpus = 1;
	c->n_disks = 1;
	snprintf(c->disks[0].target, sizeof(c->disks[0].target), "%s", disk);
	snprintf(c->extra, sizeof(c->extra), "%s", extra ? extra : "");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void create_ok(struct hv *hv, const struct vm_config *c, uint64_t gen);

/* The next event, waiting on the driver's fd as the agent's loop would. */
static int
wait_event(struct hv *hv, struct hv_event *ev, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = hv_proc_ops.event_fd(hv), .events = POLLIN };

	for (;;) {
		int r = hv_proc_ops.event_next(hv, ev);
		int64_t left = end - now_ms();

		if (r != -EAGAIN || left <= 0)
			return r;
		(void)poll(&pfd, 1, (int)left);
	}
}

static bool
fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static off_t
disk_records(const char *disk)
{
	struct stat st;

	if (stat(disk, &st) < 0)
		return 0;
	return st.st_size / GUEST_RECORD_SIZE;
}

static void
wait_records(const char *disk, off_t n)
{
	int64_t end = now_ms() + WAIT_MS;

	while (disk_records(disk) < n && now_ms() < end)
		usleep(10000);
	assert_true(disk_records(disk) >= n);
}

/* Alive and not a zombie (a dead guest may wait a moment for its reaper). */
static bool
pid_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static uint64_t
pid_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	p = strrchr(buf, ')') + 2;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	return strtoull(p, NULL, 10);
}

static bool
file_exists(const struct fixture *f, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proc/%s", f->dir, name);
	return access(path, F_OK) == 0;
}

static void
write_pid_file(const struct fixture *f, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/proc/%s.pid", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
read_record(const char *disk, size_t index, struct guest_record *r)
{
	uint8_t buf[GUEST_RECORD_SIZE];
	int fd = open(disk, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf),
			       (off_t)(index * GUEST_RECORD_SIZE)),
			 GUEST_RECORD_SIZE);
	close(fd);
	assert_int_equal(guest_record_decode(buf, r), 0);
}

/* ---- invalid input ---------------------------------------------------- */

static void
test_open_invalid(void **state)
{
	struct fixture *f = *state;
	struct hv_params p = f->p;
	struct hv *hv = NULL;

	assert_int_equal(hv_proc_ops.open(NULL, &p), -EINVAL);
	assert_int_equal(hv_proc_ops.open(&hv, NULL), -EINVAL);
	p.run_dir = NULL;
	assert_int_equal(hv_proc_ops.open(&hv, &p), -EINVAL);
	p = f->p;
	p.guest_path = NULL;
	assert_int_equal(hv_proc_ops.open(&hv, &p), -EINVAL);
	p = f->p;
	p.host_name = "a/b";
	assert_int_equal(hv_proc_ops.open(&hv, &p), -EINVAL);
	p.host_name = "";
	assert_int_equal(hv_proc_ops.open(&hv, &p), -EINVAL);
	assert_null(hv);
	hv_proc_ops.close(NULL);
}

static void
test_create_invalid(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_domain *doms;
	size_t n;

	open_hv(f);
	assert_int_equal(hv_proc_ops.create(f->hv, NULL, 1), -EINVAL);
	make_cfg(&c, "../x", 128, f->disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -EINVAL);
	make_cfg(&c, ".hidden", 128, f->disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -EINVAL);
	make_cfg(&c, "a b", 128, f->disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -EINVAL);
	make_cfg(&c, "", 128, f->disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -EINVAL);
	make_cfg(&c, "vm1", 128, f->disk, NULL);
	c.n_disks = 0;
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -EINVAL);
	make_cfg(&c, "vm1", 128, "file:", NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -EINVAL);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "../x"), -EINVAL);
	assert_int_equal(hv_proc_ops.shutdown(f->hv, NULL), -EINVAL);
	assert_int_equal(hv_proc_ops.shutdown(f->hv, "nosuch"), -ENOENT);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "nosuch"), 0);
	assert_int_equal(hv_proc_ops.list(f->hv, NULL, &n), -EINVAL);
	assert_int_equal(hv_proc_ops.event_next(f->hv, NULL), -EINVAL);
	assert_int_equal(hv_proc_ops.event_fd(NULL), -EINVAL);

	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
}

/* A guest binary that is not there: the exec error, nothing left over. */
static void
test_create_exec_fails(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain *doms;
	size_t n;

	f->p.guest_path = "/nonexistent/guest";
	open_hv(f);
	make_cfg(&c, "vm1", 128, f->disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -ENOENT);
	assert_false(file_exists(f, "vm1.pid"));
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
}

/* ---- the happy path and each way a domain ends ------------------------ */

static void
test_create_list_destroy(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_domain *doms;
	struct hv_event ev;
	struct guest_record rec;
	uint64_t total, free_mb;
	pid_t pid;
	size_t n;

	open_hv(f);
	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(total, HOST_MEM);
	assert_int_equal(free_mb, HOST_MEM);

	make_cfg(&c, "vm1", 512, f->disk, "--rate 200");
	create_ok(f->hv, &c, 7);
	assert_true(file_exists(f, "vm1.pid"));

	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "vm1");
	assert_int_equal(doms[0].generation, 7);
	assert_int_equal(doms[0].memory_mb, 512);
	pid = (pid_t)doms[0].domid;
	free(doms);
	assert_true(pid_alive(pid));
	/* Detached: not our child, not in our session (the middle child of
	 * the double fork led a new one, so the guest never gets a tty). */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_true(getsid(pid) > 0);
	assert_true(getsid(pid) != getsid(0));
	assert_true(getsid(pid) != pid);

	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(free_mb, HOST_MEM - 512);

	wait_records(f->disk, 3);
	read_record(f->disk, 0, &rec);
	assert_string_equal(rec.vm, "vm1");
	assert_string_equal(rec.host, "h1");
	assert_int_equal(rec.generation, 7);
	assert_int_equal(rec.seq, 1);
	read_record(f->disk, 2, &rec);
	assert_int_equal(rec.seq, 3);

	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_false(fd_readable(hv_proc_ops.event_fd(f->hv)));

	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	assert_false(pid_alive(pid));
	assert_true(fd_readable(hv_proc_ops.event_fd(f->hv)));
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), 0);
	assert_int_equal(ev.kind, HV_EVENT_DESTROYED);
	assert_string_equal(ev.name, "vm1");
	assert_int_equal(ev.generation, 7);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_false(fd_readable(hv_proc_ops.event_fd(f->hv)));
	assert_false(file_exists(f, "vm1.pid"));

	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
	/* Already gone: 0, and no second event. */
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
}

static void
check_end(struct fixture *f, const char *extra, enum hv_event_kind kind,
	  off_t records)
{
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain *doms;
	size_t n;

	open_hv(f);
	make_cfg(&c, "vm1", 256, f->disk, extra);
	create_ok(f->hv, &c, 3);
	assert_int_equal(wait_event(f->hv, &ev, WAIT_MS), 0);
	assert_int_equal(ev.kind, kind);
	assert_string_equal(ev.name, "vm1");
	assert_int_equal(ev.generation, 3);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_int_equal(disk_records(f->disk), records);
	assert_false(file_exists(f, "vm1.pid"));
	assert_false(file_exists(f, "vm1.exit"));
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
}

static void
test_crash_after(void **state)
{
	check_end(*state, "--rate 200 --crash-after 5", HV_EVENT_CRASH, 5);
}

static void
test_poweroff_after(void **state)
{
	check_end(*state, "--rate 200 --poweroff-after 4", HV_EVENT_POWEROFF, 4);
}

static void
test_reboot_after(void **state)
{
	check_end(*state, "--rate 200 --reboot-after 6", HV_EVENT_REBOOT, 6);
}

/* The guest cannot write its disk: it stops without an exit file. */
static void
test_bad_disk_is_crash(void **state)
{
	struct fixture *f = *state;

	snprintf(f->disk, sizeof(f->disk), "%s/nodir/disk", f->dir);
	check_end(f, NULL, HV_EVENT_CRASH, 0);
}

/* "file:" is dropped from the target; a shutdown is a clean poweroff. */
static void
test_shutdown_is_poweroff(void **state)
{
	struct fixture *f = *state;
	char target[VM_PATH_MAX];
	struct vm_config c;
	struct hv_event ev;
	off_t before;

	open_hv(f);
	snprintf(target, sizeof(target), "file:%s", f->disk);
	make_cfg(&c, "vm1", 256, target, "--rate 200");
	create_ok(f->hv, &c, 9);
	wait_records(f->disk, 2);
	assert_int_equal(hv_proc_ops.shutdown(f->hv, "vm1"), 0);
	assert_int_equal(wait_event(f->hv, &ev, WAIT_MS), 0);
	assert_int_equal(ev.kind, HV_EVENT_POWEROFF);
	assert_int_equal(ev.generation, 9);
	before = disk_records(f->disk);
	usleep(50000);
	assert_int_equal(disk_records(f->disk), before);
	assert_int_equal(hv_proc_ops.shutdown(f->hv, "vm1"), -ENOENT);
}

static void
test_double_create(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_domain *doms;
	size_t n;

	open_hv(f);
	make_cfg(&c, "vm1", 256, f->disk, NULL);
	create_ok(f->hv, &c, 1);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 2), -EEXIST);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(doms[0].generation, 1);
	free(doms);
}

static void
test_memory_refusal(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	uint64_t total, free_mb;
	char disk[160];

	f->p.host_mem_mb = 1024;
	open_hv(f);
	snprintf(disk, sizeof(disk), "%s/a", f->dir);
	make_cfg(&c, "a", 600, disk, NULL);
	create_ok(f->hv, &c, 1);
	snprintf(disk, sizeof(disk), "%s/b", f->dir);
	make_cfg(&c, "b", 425, disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -ENOMEM);
	assert_false(file_exists(f, "b.pid"));
	c.memory_mb = 424;      /* exactly what is left */
	create_ok(f->hv, &c, 1);
	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(total, 1024);
	assert_int_equal(free_mb, 0);
	/* Freed by the destroy. */
	assert_int_equal(hv_proc_ops.destroy(f->hv, "a"), 0);
	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(free_mb, 600);
}

/* The agent restarts: the guest keeps running, the new instance sees it
 * and gets its death. */
static void
test_reattach(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_domain *doms;
	struct hv_event ev;
	pid_t pid;
	size_t n;

	open_hv(f);
	make_cfg(&c, "vm1", 256, f->disk, "--rate 200");
	create_ok(f->hv, &c, 11);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	pid = (pid_t)doms[0].domid;
	free(doms);
	hv_proc_ops.close(f->hv);
	f->hv = NULL;

	off_t before = disk_records(f->disk);
	usleep(100000);
	assert_true(pid_alive(pid));
	assert_true(disk_records(f->disk) > before);

	open_hv(f);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "vm1");
	assert_int_equal(doms[0].generation, 11);
	assert_int_equal(doms[0].domid, (uint32_t)pid);
	free(doms);
	make_cfg(&c, "vm1", 256, f->disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 12), -EEXIST);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_event(f->hv, &ev, WAIT_MS), 0);
	assert_int_equal(ev.kind, HV_EVENT_CRASH);
	assert_string_equal(ev.name, "vm1");
	assert_int_equal(ev.generation, 11);
	assert_false(file_exists(f, "vm1.pid"));
}

/* A guest that ended while no agent watched is reported at open, with
 * the reason it left. */
static void
test_died_while_away(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_domain *doms;
	struct hv_event ev;
	int64_t end;
	pid_t pid;
	size_t n;

	open_hv(f);
	make_cfg(&c, "vm1", 256, f->disk, "--rate 100 --reboot-after 10");
	create_ok(f->hv, &c, 4);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	pid = (pid_t)doms[0].domid;
	free(doms);
	hv_proc_ops.close(f->hv);
	f->hv = NULL;
	end = now_ms() + WAIT_MS;
	while (pid_alive(pid) && now_ms() < end)
		usleep(10000);
	assert_false(pid_alive(pid));

	open_hv(f);
	assert_true(fd_readable(hv_proc_ops.event_fd(f->hv)));
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), 0);
	assert_int_equal(ev.kind, HV_EVENT_REBOOT);
	assert_string_equal(ev.name, "vm1");
	assert_int_equal(ev.generation, 4);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_false(file_exists(f, "vm1.pid"));
	assert_false(file_exists(f, "vm1.exit"));
}

/* The driver opened over a pid file TEXT of NAME that names no guest of
 * ours: the domain is reported ended (generation GEN), its file dropped. */
static void
open_finds_gone(struct fixture *f, const char *name, const char *text, uint64_t gen)
{
	struct hv_event ev;
	char sub[PATH_MAX], pidf[VM_NAME_MAX + 8];

	snprintf(sub, sizeof(sub), "%s/proc", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_pid_file(f, name, text);
	open_hv(f);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), 0);
	assert_int_equal(ev.kind, HV_EVENT_CRASH);
	assert_string_equal(ev.name, name);
	assert_int_equal(ev.generation, gen);
	snprintf(pidf, sizeof(pidf), "%s.pid", name);
	assert_false(file_exists(f, pidf));
}

/* A pid file whose pid now belongs to an unrelated process (another start
 * time) names no domain: not listed, not counted, never signalled. */
static void
test_pid_reuse_guard(void **state)
{
	struct fixture *f = *state;
	struct hv_domain *doms;
	struct hv_event ev;
	struct vm_config c;
	uint64_t total, free_mb;
	char text[128];
	pid_t other;
	size_t n;

	other = fork();
	assert_true(other >= 0);
	if (other == 0) {
		/* Gone with us even if an assertion ends the test early. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		pause();
		_exit(0);
	}
	snprintf(text, sizeof(text), "%d 3 %llu 100\n", (int)other,
		 (unsigned long long)pid_start(other) + 1);

	/* Found at open: reported as ended (the guest is gone). */
	open_finds_gone(f, "ghost", text, 3);

	/* Appearing later: ignored by every operation. */
	write_pid_file(f, "ghost", text);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(free_mb, HOST_MEM);
	assert_int_equal(hv_proc_ops.shutdown(f->hv, "ghost"), -ENOENT);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "ghost"), 0);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_true(pid_alive(other));

	write_pid_file(f, "ghost", text);
	make_cfg(&c, "ghost", 256, f->disk, NULL);
	create_ok(f->hv, &c, 4);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(doms[0].generation, 4);
	assert_true(doms[0].domid != (uint32_t)other);
	free(doms);
	assert_true(pid_alive(other));

	assert_int_equal(kill(other, SIGKILL), 0);
	assert_int_equal(waitpid(other, NULL, 0), other);
}

/* A pid file whose pid now names a thread of another process (pidfd_open
 * refuses it: ENOENT, EINVAL on older kernels) is a guest gone, not a
 * driver that cannot open (the host then took no VMs at all). */
static void *
thread_park(void *arg)
{
	volatile pid_t *tid = arg;

	*tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static void
test_pid_reused_by_thread(void **state)
{
	struct fixture *f = *state;
	volatile pid_t tid = 0;
	char text[128];
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, thread_park, (void *)&tid), 0);
	while (tid == 0)
		usleep(1000);
	snprintf(text, sizeof(text), "%d 5 12345 100\n", (int)tid);
	open_finds_gone(f, "threaded", text, 5);
	assert_int_equal(pthread_cancel(t), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

/* A garbled pid file is no domain either. */
static void
test_garbled_pid_file(void **state)
{
	struct fixture *f = *state;
	struct hv_domain *doms;
	char text[64];
	size_t n;

	open_hv(f);
	snprintf(text, sizeof(text), "%d 3\n", (int)getpid());
	write_pid_file(f, "junk", text);
	write_pid_file(f, "junk2", "not a pid file\n");
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "junk"), 0);
	assert_true(pid_alive(getpid()));
}

/* ---- live migration ------------------------------------------------------ */

static void
open_hv2(struct fixture *f)
{
	assert_int_equal(hv_proc_ops.open(&f->hv2, &f->p2), 0);
	assert_non_null(f->hv2);
}

/* The next event of hv, which must be of that kind and domain. */
static void
expect_event(struct hv *hv, enum hv_event_kind kind, const char *name,
	     struct hv_event *ev)
{
	assert_int_equal(wait_event(hv, ev, WAIT_MS), 0);
	if (ev->kind != kind)
		fail_msg("event %d (result %d, %s), expected %d", ev->kind,
			 ev->result, ev->reason, kind);
	assert_string_equal(ev->name, name);
}

/* A create that succeeds: its end comes at once, as an event. */
static void
create_ok(struct hv *hv, const struct vm_config *c, uint64_t gen)
{
	struct hv_event ev;

	assert_int_equal(hv_proc_ops.create(hv, c, gen), 0);
	expect_event(hv, HV_EVENT_CREATED, c->name, &ev);
	assert_int_equal(ev.generation, gen);
	assert_int_equal(ev.result, 0);
}

/* NAME as hv lists it; false when it is not listed. */
static bool
find_dom(struct hv *hv, const char *name, struct hv_domain *out)
{
	struct hv_domain *doms;
	bool found = false;
	size_t n;

	assert_int_equal(hv_proc_ops.list(hv, &doms, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(doms[i].name, name) == 0) {
			*out = doms[i];
			found = true;
		}
	}
	free(doms);
	return found;
}

static bool
listed_paused(struct hv *hv, const char *name)
{
	struct hv_domain d;

	assert_true(find_dom(hv, name, &d));
	return d.paused;
}

/* Paused, it writes nothing: the disk stays as it is for a while. */
static void
assert_disk_still(const char *disk)
{
	off_t before = disk_records(disk);

	usleep(100000);         /* 20 records' time at 200 Hz */
	assert_int_equal(disk_records(disk), before);
}

/* Every record: seq 1, 2, ... without a gap or a repeat, generation gen,
 * the hosts in the order given ("h1 h2 h1").  The number of records. */
static off_t
check_records(const char *disk, uint64_t gen, const char *hosts)
{
	char seen[256] = "", last[GUEST_RECORD_NAME_LEN] = "";
	off_t n = disk_records(disk);
	struct guest_record r;

	for (off_t i = 0; i < n; i++) {
		read_record(disk, (size_t)i, &r);
		if (r.seq != (uint64_t)i + 1)
			fail_msg("record %lld has seq %llu", (long long)i,
				 (unsigned long long)r.seq);
		assert_int_equal(r.generation, gen);
		if (strcmp(r.host, last) != 0) {
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
				 "%s%s", seen[0] ? " " : "", r.host);
			snprintf(last, sizeof(last), "%s", r.host);
		}
	}
	assert_string_equal(seen, hosts);
	return n;
}

/* check-writers over the disk: its exit status, its output in f->out. */
static int
run_checker(struct fixture *f)
{
	char path[128];
	int fd, status;
	ssize_t n;
	pid_t pid;

	if (access(f->checker, X_OK) < 0)
		fail_msg("check-writers %s: %s (build tests/check-writers)",
			 f->checker, strerror(errno));
	snprintf(path, sizeof(path), "%s/checker.out", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		execl(f->checker, f->checker, f->disk, "vm1", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = pread(fd, f->out, sizeof(f->out) - 1, 0);
	close(fd);
	f->out[n > 0 ? n : 0] = '\0';
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
assert_has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, haystack);
}

/* vm1, generation gen, writing at 200 Hz on hv; a few records first. */
static void
start_vm1(struct fixture *f, struct hv *hv, uint64_t gen, struct vm_config *c)
{
	make_cfg(c, "vm1", 512, f->disk, "--rate 200");
	create_ok(hv, c, gen);
	wait_records(f->disk, disk_records(f->disk) + 5);
}

/* The transfer from src to dst, both ends good: paused on both sides. */
static void
migrate(struct hv *src, struct hv *dst, const struct vm_config *c, uint64_t gen)
{
	struct hv_event ev;
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_receive(dst, c, gen, sp[1]), 0);
	assert_int_equal(hv_proc_ops.migrate_send(src, "vm1", sp[0]), 0);
	expect_event(src, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_int_equal(ev.result, 0);
	assert_int_equal(ev.generation, gen);
	assert_string_equal(ev.reason, "");
	/* the stream ends without EOF: the agent closes only later */
	expect_event(dst, HV_EVENT_MIGRATE_RECEIVED, "vm1", &ev);
	if (ev.result != 0)
		fail_msg("received: %d %s", ev.result, ev.reason);
	assert_int_equal(ev.generation, gen);
	close(sp[0]);
	close(sp[1]);
	assert_true(listed_paused(src, "vm1"));
	assert_true(listed_paused(dst, "vm1"));
}

static void
test_migrate_invalid(void **state)
{
	struct fixture *f = *state;
	struct vm_config c, big;
	struct hv_domain d;
	uint64_t total, free_mb;
	int sp[2], pp[2];
	off_t before;

	open_hv(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	make_cfg(&c, "vm1", 512, f->disk, "--rate 200");
	assert_int_equal(hv_proc_ops.migrate_send(NULL, "vm1", sp[0]), -EINVAL);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, NULL, sp[0]), -EINVAL);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "../x", sp[0]), -EINVAL);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", -1), -EINVAL);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), -ENOENT);
	assert_int_equal(hv_proc_ops.migrate_receive(NULL, &c, 1, sp[0]), -EINVAL);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, NULL, 1, sp[0]), -EINVAL);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &c, 1, -1), -EINVAL);
	make_cfg(&big, "a b", 512, f->disk, NULL);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &big, 1, sp[0]), -EINVAL);
	make_cfg(&big, "vm2", 512, f->disk, NULL);
	big.n_disks = 0;
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &big, 1, sp[0]), -EINVAL);
	make_cfg(&big, "vm2", HOST_MEM + 1, f->disk, NULL);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &big, 1, sp[0]), -ENOMEM);
	assert_int_equal(hv_proc_ops.resume(NULL, "vm1"), -EINVAL);
	assert_int_equal(hv_proc_ops.resume(f->hv, "../x"), -EINVAL);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), -ENOENT);

	start_vm1(f, f->hv, 3, &c);
	/* not a socket; not an fd */
	assert_int_equal(pipe(pp), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", pp[0]), -ENOTSOCK);
	close(pp[0]);
	close(pp[1]);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", 1000), -EBADF);
	/* the name runs here already */
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &c, 3, sp[0]), -EEXIST);
	/* resume of a running domain: 0, and it runs on */
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	assert_false(listed_paused(f->hv, "vm1"));
	before = disk_records(f->disk);
	wait_records(f->disk, before + 5);

	/* One receive of a name at a time; its memory is promised; no
	 * create of the name meanwhile. */
	make_cfg(&big, "vm2", 1024, f->disk, NULL);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &big, 1, sp[1]), 0);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv, &big, 1, sp[1]), -EBUSY);
	assert_int_equal(hv_proc_ops.create(f->hv, &big, 1), -EBUSY);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm2"), -EBUSY);
	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(free_mb, HOST_MEM - 512 - 1024);
	assert_false(find_dom(f->hv, "vm2", &d));
	/* destroy ends it: nothing to kill, the receive fails */
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm2"), 0);
	{
		struct hv_event ev;

		expect_event(f->hv, HV_EVENT_MIGRATE_RECEIVED, "vm2", &ev);
		assert_int_equal(ev.result, -ECANCELED);
		assert_int_equal(ev.generation, 1);
		assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	}
	assert_int_equal(hv_proc_ops.host_memory(f->hv, &total, &free_mb), 0);
	assert_int_equal(free_mb, HOST_MEM - 512);
	close(sp[0]);
	close(sp[1]);
}

/* h1 -> h2 -> h1: each destination paused until resumed after the
 * source's destroy (the commit); the records continuous throughout. */
static void
test_migrate_commit_and_back(void **state)
{
	struct fixture *f = *state;
	uint64_t total, free_mb;
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain d;
	off_t n;

	open_hv(f);
	open_hv2(f);
	start_vm1(f, f->hv, 5, &c);
	migrate(f->hv, f->hv2, &c, 5);
	assert_true(find_dom(f->hv2, "vm1", &d));
	assert_int_equal(d.generation, 5);
	assert_int_equal(d.memory_mb, 512);
	assert_int_equal(hv_proc_ops.host_memory(f->hv2, &total, &free_mb), 0);
	assert_int_equal(free_mb, HOST_MEM - 512);
	assert_disk_still(f->disk);

	/* the commit: the source goes, the destination runs */
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	expect_event(f->hv, HV_EVENT_DESTROYED, "vm1", &ev);
	assert_int_equal(ev.generation, 5);
	assert_false(file_exists(f, "vm1.mig"));
	assert_disk_still(f->disk);
	n = disk_records(f->disk);
	assert_int_equal(hv_proc_ops.resume(f->hv2, "vm1"), 0);
	wait_records(f->disk, n + 5);
	assert_false(listed_paused(f->hv2, "vm1"));
	assert_int_equal(hv_proc_ops.resume(f->hv2, "vm1"), 0);

	/* and back */
	migrate(f->hv2, f->hv, &c, 5);
	assert_disk_still(f->disk);
	assert_int_equal(hv_proc_ops.destroy(f->hv2, "vm1"), 0);
	expect_event(f->hv2, HV_EVENT_DESTROYED, "vm1", &ev);
	n = disk_records(f->disk);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	wait_records(f->disk, n + 5);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	expect_event(f->hv, HV_EVENT_DESTROYED, "vm1", &ev);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_int_equal(hv_proc_ops.event_next(f->hv2, &ev), -EAGAIN);

	check_records(f->disk, 5, "h1 h2 h1");
	assert_int_equal(run_checker(f), 0);
	assert_has(f->out, "generation 5 host h1 records ");
	assert_has(f->out, " hand-offs 2 last host h1\n");
	assert_has(f->out, "hand-off generation 5 h1 -> h2 at offset ");
	assert_has(f->out, "hand-off generation 5 h2 -> h1 at offset ");
	assert_has(f->out, "max pause generation 5 ");
	assert_has(f->out, "OK: 0 violations\n");
}

/* A save image (vm save): the stream of generation 5 kept aside while no
 * guest runs, then restored on the other host as generation 7, which goes
 * on with the next seq.  A stream of another generation than said, or
 * arguments out of order, are refused. */
static void
test_restore_save_image(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain d;
	char image[8192], want[96];
	ssize_t len;
	off_t n;
	int sp[2];

	open_hv(f);
	open_hv2(f);
	start_vm1(f, f->hv, 5, &c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.save(f->hv, "vm1", sp[0]), 0);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_int_equal(ev.result, 0);
	len = recv(sp[1], image, sizeof(image), MSG_DONTWAIT);
	assert_true(len > 0 && (size_t)len < sizeof(image));
	close(sp[0]);
	close(sp[1]);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	expect_event(f->hv, HV_EVENT_DESTROYED, "vm1", &ev);
	n = disk_records(f->disk);
	assert_disk_still(f->disk);

	assert_int_equal(hv_proc_ops.restore(f->hv2, &c, 7, 8, 3), -EINVAL);
	assert_int_equal(hv_proc_ops.restore(f->hv2, &c, 7, 0, 3), -EINVAL);
	/* said to be of generation 4: refused once the header is in */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.restore(f->hv2, &c, 7, 4, sp[1]), 0);
	assert_int_equal(send(sp[0], image, (size_t)len, 0), len);
	expect_event(f->hv2, HV_EVENT_MIGRATE_RECEIVED, "vm1", &ev);
	assert_int_equal(ev.result, -ESTALE);
	assert_has(ev.reason, "the stream is of generation 5, not 4");
	close(sp[0]);
	close(sp[1]);
	assert_false(find_dom(f->hv2, "vm1", &d));

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.restore(f->hv2, &c, 7, 5, sp[1]), 0);
	assert_int_equal(send(sp[0], image, (size_t)len, 0), len);
	expect_event(f->hv2, HV_EVENT_MIGRATE_RECEIVED, "vm1", &ev);
	if (ev.result != 0)
		fail_msg("restored: %d %s", ev.result, ev.reason);
	assert_int_equal(ev.generation, 7);
	close(sp[0]);
	close(sp[1]);
	assert_true(find_dom(f->hv2, "vm1", &d));
	assert_int_equal(d.generation, 7);
	assert_true(listed_paused(f->hv2, "vm1"));
	assert_disk_still(f->disk);
	assert_int_equal(hv_proc_ops.resume(f->hv2, "vm1"), 0);
	wait_records(f->disk, n + 5);
	assert_int_equal(hv_proc_ops.destroy(f->hv2, "vm1"), 0);
	expect_event(f->hv2, HV_EVENT_DESTROYED, "vm1", &ev);

	assert_int_equal(run_checker(f), 0);
	snprintf(want, sizeof(want), "generation 5 host h1 records %lld seq 1..%lld\n",
		 (long long)n, (long long)n);
	assert_has(f->out, want);
	snprintf(want, sizeof(want), "generation 7 host h2 records ");
	assert_has(f->out, want);
	snprintf(want, sizeof(want), " seq %lld..", (long long)n + 1);
	assert_has(strstr(f->out, "generation 7 host h2"), want);
	assert_has(f->out, "OK: 0 violations\n");
}

/* The abort: the destination's copy destroyed, the source resumed. */
static void
test_migrate_abort(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	off_t n;

	open_hv(f);
	open_hv2(f);
	start_vm1(f, f->hv, 8, &c);
	migrate(f->hv, f->hv2, &c, 8);
	assert_int_equal(hv_proc_ops.destroy(f->hv2, "vm1"), 0);
	expect_event(f->hv2, HV_EVENT_DESTROYED, "vm1", &ev);
	assert_int_equal(ev.generation, 8);
	assert_false(find_dom(f->hv2, "vm1", &(struct hv_domain){ 0 }));
	n = disk_records(f->disk);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	assert_false(listed_paused(f->hv, "vm1"));
	wait_records(f->disk, n + 5);
	assert_false(file_exists(f, "vm1.mig"));
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);

	check_records(f->disk, 8, "h1");
	assert_int_equal(run_checker(f), 0);
	assert_null(strstr(f->out, "hand-off"));
}

/* A resume while the send waits for the pause: the send ends, the guest
 * goes on (the resume may reach it before the pause is done). */
static void
test_migrate_resume_before_sent(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	int sp[2];

	open_hv(f);
	start_vm1(f, f->hv, 2, &c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	for (int i = 0; i < 3; i++) {
		off_t n;

		assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
		assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), -EBUSY);
		if (i == 1)
			usleep(20000);  /* this time the guest has paused */
		assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
		expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
		assert_int_equal(ev.result, -ECANCELED);
		assert_int_equal(ev.generation, 2);
		assert_true(ev.reason[0] != '\0');
		n = disk_records(f->disk);
		wait_records(f->disk, n + 5);
		assert_false(listed_paused(f->hv, "vm1"));
	}
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	check_records(f->disk, 2, "h1");
	close(sp[0]);
	close(sp[1]);
}

/* What the destination reads: a bad stream fails the receive, and nothing
 * of the domain is left. */
static void
recv_bad(struct fixture *f, const char *stream, size_t len, bool close_it,
	 int result, const char *reason)
{
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain d;
	int sp[2];

	make_cfg(&c, "vm1", 512, f->disk, "--rate 200");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_receive(f->hv2, &c, 5, sp[1]), 0);
	assert_int_equal(write(sp[0], stream, len), (ssize_t)len);
	if (close_it)
		close(sp[0]);
	expect_event(f->hv2, HV_EVENT_MIGRATE_RECEIVED, "vm1", &ev);
	if (ev.result != result || !strstr(ev.reason, reason))
		fail_msg("received %d \"%s\", expected %d \"%s\"", ev.result,
			 ev.reason, result, reason);
	assert_int_equal(ev.generation, 5);
	assert_int_equal(hv_proc_ops.event_next(f->hv2, &ev), -EAGAIN);
	assert_false(find_dom(f->hv2, "vm1", &d));
	if (!close_it)
		close(sp[0]);
	close(sp[1]);
}

static bool
dir2_has(const struct fixture *f, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proc/%s", f->dir2, name);
	return access(path, F_OK) == 0;
}

static void
test_migrate_receive_garbage(void **state)
{
	struct fixture *f = *state;
	char stream[512], state_text[256];
	int n;

	open_hv2(f);
	recv_bad(f, "hello, world\n", 13, false, -EBADMSG,
		 "not a proc migration stream");
	recv_bad(f, "", 0, true, -EPIPE, "ended after 0 bytes");
	recv_bad(f, "xenmesh-proc-migration 2 vm1 5 0\nend\n", 37, false,
		 -EPROTONOSUPPORT, "version 2");
	recv_bad(f, "xenmesh-proc-migration 1 vm2 5 0\nend\n", 37, false, -EINVAL,
		 "VM vm2, not vm1");
	recv_bad(f, "xenmesh-proc-migration 1 vm1 4 0\nend\n", 37, false, -ESTALE,
		 "generation 4, not 5");
	recv_bad(f, "xenmesh-proc-migration 1 vm1 5 100\nabc", 38, true, -EPIPE,
		 "ended after 38 bytes");
	recv_bad(f, "xenmesh-proc-migration 1 vm1 5 3\nabcend\n", 40, false,
		 -EBADMSG, "not a guest state");
	recv_bad(f, "xenmesh-proc-migration 1 vm1 5 3\nabcEND!", 40, false,
		 -EBADMSG, "no end of stream");

	/* Well formed, but the disk does not end where it says: the guest
	 * starts, refuses, exits; the receive fails with its words. */
	n = snprintf(state_text, sizeof(state_text), "xenmesh-guest-state 1\n"
		     "vm vm1\ngeneration 5\nhost h1\ndisk %s\nnext-seq 3\n"
		     "next-pos 352\n", f->disk);
	n = snprintf(stream, sizeof(stream), "xenmesh-proc-migration 1 vm1 5 %d\n"
		     "%send\n", n, state_text);
	recv_bad(f, stream, (size_t)n, false, -EIO, "does not fit the disk");
	/* the state of another generation than the stream says */
	n = snprintf(state_text, sizeof(state_text), "xenmesh-guest-state 1\n"
		     "vm vm1\ngeneration 6\nnext-seq 3\nnext-pos 0\n");
	n = snprintf(stream, sizeof(stream), "xenmesh-proc-migration 1 vm1 5 %d\n"
		     "%send\n", n, state_text);
	recv_bad(f, stream, (size_t)n, false, -EBADMSG,
		 "not of VM vm1 generation 5");
	assert_false(dir2_has(f, "vm1.pid"));
	assert_false(dir2_has(f, "vm1.inc"));
	assert_false(dir2_has(f, "vm1.ready"));
	assert_int_equal(disk_records(f->disk), 0);
}

/* The stream cut while the source sends: MIGRATE_SENT fails, the source
 * runs on once resumed. */
static void
test_migrate_send_socket_closed(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	char junk[4096];
	int sp[2];
	off_t n;

	open_hv(f);
	start_vm1(f, f->hv, 4, &c);

	/* the other end closed at once */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
	close(sp[1]);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_true(ev.result < 0);
	assert_true(ev.reason[0] != '\0');
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	n = disk_records(f->disk);
	wait_records(f->disk, n + 5);
	close(sp[0]);

	/* the agent's abort: our end shut down */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
	assert_int_equal(shutdown(sp[0], SHUT_RDWR), 0);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_true(ev.result < 0);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	n = disk_records(f->disk);
	wait_records(f->disk, n + 5);
	close(sp[0]);
	close(sp[1]);

	/* in mid-send: the socket full, the guest paused, the stream
	 * waiting for room; then the other end goes */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	memset(junk, 'x', sizeof(junk));
	while (send(sp[0], junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
	for (int64_t end = now_ms() + WAIT_MS; !file_exists(f, "vm1.mig");) {
		assert_true(now_ms() < end);
		usleep(1000);
	}
	assert_int_equal(wait_event(f->hv, &ev, 50), -EAGAIN);
	assert_true(listed_paused(f->hv, "vm1"));
	assert_disk_still(f->disk);
	close(sp[1]);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_int_equal(ev.result, -EPIPE);
	assert_has(ev.reason, "stream: ");
	assert_int_equal(ev.generation, 4);
	/* paused: resume() makes it run */
	assert_true(listed_paused(f->hv, "vm1"));
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	assert_false(listed_paused(f->hv, "vm1"));
	n = disk_records(f->disk);
	wait_records(f->disk, n + 5);
	close(sp[0]);

	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	check_records(f->disk, 4, "h1");
}

/* The guest dies while the send waits for it: the send fails, then the
 * death is reported as ever. */
static void
test_migrate_guest_dies(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain d;
	int sp[2];

	open_hv(f);
	start_vm1(f, f->hv, 6, &c);
	assert_true(find_dom(f->hv, "vm1", &d));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	/* stopped, it cannot pause before it dies */
	assert_int_equal(kill((pid_t)d.domid, SIGSTOP), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
	assert_int_equal(kill((pid_t)d.domid, SIGKILL), 0);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_int_equal(ev.result, -ESRCH);
	assert_has(ev.reason, "exited");
	expect_event(f->hv, HV_EVENT_CRASH, "vm1", &ev);
	assert_int_equal(ev.generation, 6);
	assert_false(file_exists(f, "vm1.mig"));
	assert_false(file_exists(f, "vm1.pid"));
	close(sp[0]);
	close(sp[1]);
}

/* Agents restart with domains paused on both sides: listed paused, and
 * resumed by the new instances; a paused source can be sent again. */
static void
test_migrate_restart_paused(void **state)
{
	struct fixture *f = *state;
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain d;
	int sp[2];
	off_t n;

	open_hv(f);
	open_hv2(f);
	start_vm1(f, f->hv, 9, &c);

	/* the source restarts while paused by a send that failed */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_int_equal(ev.result, 0);
	close(sp[0]);
	close(sp[1]);
	hv_proc_ops.close(f->hv);
	f->hv = NULL;
	assert_disk_still(f->disk);
	open_hv(f);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	assert_true(find_dom(f->hv, "vm1", &d));
	assert_true(d.paused);
	assert_int_equal(d.generation, 9);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	assert_false(listed_paused(f->hv, "vm1"));
	n = disk_records(f->disk);
	wait_records(f->disk, n + 5);

	/* paused again, left so by an agent gone; sent from that state */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), 0);
	expect_event(f->hv, HV_EVENT_MIGRATE_SENT, "vm1", &ev);
	assert_int_equal(ev.result, 0);
	close(sp[0]);
	close(sp[1]);
	hv_proc_ops.close(f->hv);
	f->hv = NULL;
	open_hv(f);
	assert_true(listed_paused(f->hv, "vm1"));
	migrate(f->hv, f->hv2, &c, 9);

	/* the destination restarts before the commit */
	hv_proc_ops.close(f->hv2);
	f->hv2 = NULL;
	open_hv2(f);
	assert_int_equal(hv_proc_ops.event_next(f->hv2, &ev), -EAGAIN);
	assert_true(find_dom(f->hv2, "vm1", &d));
	assert_true(d.paused);
	assert_int_equal(d.generation, 9);
	assert_disk_still(f->disk);
	assert_int_equal(hv_proc_ops.destroy(f->hv, "vm1"), 0);
	n = disk_records(f->disk);
	assert_int_equal(hv_proc_ops.resume(f->hv2, "vm1"), 0);
	assert_false(listed_paused(f->hv2, "vm1"));
	wait_records(f->disk, n + 5);
	assert_int_equal(hv_proc_ops.destroy(f->hv2, "vm1"), 0);

	check_records(f->disk, 9, "h1 h2");
	assert_int_equal(run_checker(f), 0);
	assert_has(f->out, "hand-off generation 9 h1 -> h2 at offset ");
}

/* A guest that takes no requests yet (just exec'd; here: a stand-in
 * that never does) is not sent a signal that would kill it: a send waits
 * (-EAGAIN), a resume has nothing to do. */
static void
test_migrate_guest_not_ready(void **state)
{
	struct fixture *f = *state;
	static char script[PATH_MAX];     /* f->p.guest_path until teardown */
	struct vm_config c;
	struct hv_event ev;
	struct hv_domain d;
	int sp[2];
	FILE *fp;

	snprintf(script, sizeof(script), "%s/sleeper", f->dir);
	fp = fopen(script, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\nexec sleep 30\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(script, 0755), 0);
	f->p.guest_path = script;
	open_hv(f);
	make_cfg(&c, "vm1", 256, f->disk, NULL);
	create_ok(f->hv, &c, 1);
	assert_true(find_dom(f->hv, "vm1", &d));
	usleep(50000);          /* the shell has become sleep */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(hv_proc_ops.migrate_send(f->hv, "vm1", sp[0]), -EAGAIN);
	assert_int_equal(hv_proc_ops.resume(f->hv, "vm1"), 0);
	usleep(20000);
	assert_true(pid_alive((pid_t)d.domid));
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), -EAGAIN);
	close(sp[0]);
	close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_exec_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbled_pid_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_reuse_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_reused_by_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_list_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poweroff_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_disk_is_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_is_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reattach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_died_while_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_receive_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_commit_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_save_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_resume_before_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_send_socket_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_guest_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_restart_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_guest_not_ready, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
