/* Tests of agent/hv_proc.c with the real test guest (tests/guest.c).
 *
 * The guest binary comes from $XM_TEST_GUEST, else GUEST_BIN (a -D from
 * the build), else "tests/guest" under the current directory.  Every test
 * gets its own mkdtemp run dir; teardown kills whatever guests a test
 * left behind (through a fresh driver instance) and removes the dir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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
	char disk[128];
	char guest[PATH_MAX];
	struct hv_params p;
	struct hv *hv;
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
	f->p.host_name = "h1";
	f->p.run_dir = f->dir;
	f->p.host_mem_mb = HOST_MEM;
	f->p.guest_path = f->guest;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	struct hv_domain *doms;
	struct hv *hv = NULL;
	size_t n;

	hv_proc_ops.close(f->hv);
	if (hv_proc_ops.open(&hv, &f->p) == 0) {
		if (hv_proc_ops.list(hv, &doms, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				(void)hv_proc_ops.destroy(hv, doms[i].name);
			free(doms);
		}
		hv_proc_ops.close(hv);
	}
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 7), 0);
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 3), 0);
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 9), 0);
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), 0);
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), 0);
	snprintf(disk, sizeof(disk), "%s/b", f->dir);
	make_cfg(&c, "b", 425, disk, NULL);
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), -ENOMEM);
	assert_false(file_exists(f, "b.pid"));
	c.memory_mb = 424;      /* exactly what is left */
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 1), 0);
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 11), 0);
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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 4), 0);
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
	char text[128], sub[PATH_MAX];
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
	snprintf(sub, sizeof(sub), "%s/proc", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_pid_file(f, "ghost", text);
	open_hv(f);
	assert_int_equal(hv_proc_ops.event_next(f->hv, &ev), 0);
	assert_int_equal(ev.kind, HV_EVENT_CRASH);
	assert_string_equal(ev.name, "ghost");
	assert_int_equal(ev.generation, 3);
	assert_false(file_exists(f, "ghost.pid"));

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
	assert_int_equal(hv_proc_ops.create(f->hv, &c, 4), 0);
	assert_int_equal(hv_proc_ops.list(f->hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(doms[0].generation, 4);
	assert_true(doms[0].domid != (uint32_t)other);
	free(doms);
	assert_true(pid_alive(other));

	assert_int_equal(kill(other, SIGKILL), 0);
	assert_int_equal(waitpid(other, NULL, 0), other);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_exec_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbled_pid_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_reuse_guard, setup, teardown),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
