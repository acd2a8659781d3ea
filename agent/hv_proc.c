/* The `proc` hypervisor driver: a domain is a process running the test
 * guest (tests/guest.c), for the rig and the demo.
 *
 * Domains outlive the agent, as Xen domains do: the guest is spawned
 * detached (double fork + setsid), and everything needed to find it again
 * lives in RUN_DIR/proc/:
 *   NAME.pid   "PID GENERATION STARTTIME MEMORY_MB\n", written by us
 *   NAME.exit  "poweroff" | "reboot", written by the guest before a clean exit
 *   NAME.log   the guest's stdout/stderr
 * STARTTIME (field 22 of /proc/PID/stat) tells our guest from an unrelated
 * process that got the same pid after the guest died.
 *
 * Deaths come from one pidfd per domain, all in one epoll set whose fd the
 * agent polls; an eventfd in the same set keeps it readable while queued
 * events (destroys, deaths found at open) wait for event_next().  Signals
 * go through the pidfd as well, so a recycled pid is never signalled.
 *
 * The driver does not log: it returns errors and events, and the agent,
 * which decides, logs them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv.h"

#define PROC_SUBDIR           "proc"
#define PROC_DESTROY_WAIT_MS  5000      /* SIGKILL to gone; past it, -ETIMEDOUT */
#define PROC_EVFD_TAG         UINT64_MAX
#define PROC_MAX_ARGS         (14 + VM_EXTRA_MAX / 2)

struct proc_dom {
	char name[VM_NAME_MAX];
	pid_t pid;
	int pidfd;
	uint64_t generation;
	uint64_t start;                 /* /proc/PID/stat starttime */
	uint64_t memory_mb;
};

/* What a pid file says. */
struct proc_rec {
	pid_t pid;
	uint64_t generation;
	uint64_t start;
	uint64_t memory_mb;
};

struct hv {
	char host[VM_NAME_MAX];
	char dir[PATH_MAX];             /* RUN_DIR/proc */
	char guest[PATH_MAX];
	uint64_t host_mem_mb;
	int epfd;
	int evfd;
	struct proc_dom *doms;
	size_t n_doms, cap_doms;
	struct hv_event *q;             /* FIFO: q[q_head .. q_len) */
	size_t q_head, q_len, q_cap;
};

static int
proc_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int
proc_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A file name made of the VM name: nothing that leaves the directory or
 * hides from the listing. */
static bool
proc_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, VM_NAME_MAX);
	if (len == 0 || len >= VM_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

static int
proc_path(const struct hv *hv, const char *name, const char *suffix,
	  char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s%s", hv->dir, name, suffix);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Field 22 of /proc/PID/stat; -ESRCH when the process is gone or a
 * zombie (a dead guest waiting for init to reap it). */
static int
proc_stat_start(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], state;
	const char *p;
	char *end;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: start after the
	 * last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	state = *p;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	for (field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	errno = 0;
	*start = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EIO;
	return 0;
}

static int
proc_rec_read(const struct hv *hv, const char *name, struct proc_rec *rec)
{
	char path[PATH_MAX], buf[128], nl = 0;
	int pid, n, r;
	FILE *f;

	r = proc_path(hv, name, ".pid", path, sizeof(path));
	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EBADMSG;
	}
	fclose(f);
	n = sscanf(buf, "%d %" SCNu64 " %" SCNu64 " %" SCNu64 "%c", &pid,
		   &rec->generation, &rec->start, &rec->memory_mb, &nl);
	if (n != 5 || nl != '\n' || pid <= 0)
		return -EBADMSG;
	rec->pid = pid;
	return 0;
}

/* Temp file + rename: a reader sees the old file or the new, never half. */
static int
proc_rec_write(const struct hv *hv, const char *name, const struct proc_rec *rec)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int r;

	r = proc_path(hv, name, ".pid", path, sizeof(path));
	if (r < 0)
		return r;
	r = proc_path(hv, name, ".pid.tmp", tmp, sizeof(tmp));
	if (r < 0)
		return r;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", (int)rec->pid,
		rec->generation, rec->start, rec->memory_mb);
	if (fclose(f) != 0) {
		r = -EIO;
		goto out_unlink;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto out_unlink;
	}
	return 0;
out_unlink:
	(void)unlink(tmp);
	return r;
}

static void
proc_unlink(const struct hv *hv, const char *name, const char *suffix)
{
	char path[PATH_MAX];

	if (proc_path(hv, name, suffix, path, sizeof(path)) == 0)
		(void)unlink(path);
}

/* The guest's word on why it left; anything else is a crash. */
static enum hv_event_kind
proc_exit_reason(const struct hv *hv, const char *name)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	if (proc_path(hv, name, ".exit", path, sizeof(path)) < 0)
		return HV_EVENT_CRASH;
	f = fopen(path, "re");
	if (!f)
		return HV_EVENT_CRASH;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (strcmp(buf, "poweroff\n") == 0)
		return HV_EVENT_POWEROFF;
	if (strcmp(buf, "reboot\n") == 0)
		return HV_EVENT_REBOOT;
	return HV_EVENT_CRASH;
}

/* Is the pid file's process our guest, still running? */
static bool
proc_rec_alive(const struct proc_rec *rec)
{
	uint64_t start;

	return proc_stat_start(rec->pid, &start) == 0 && start == rec->start;
}

static int
proc_queue(struct hv *hv, enum hv_event_kind kind, const char *name,
	   uint64_t generation)
{
	struct hv_event *ev;
	uint64_t one = 1;

	if (hv->q_head == hv->q_len)
		hv->q_head = hv->q_len = 0;
	if (hv->q_len == hv->q_cap) {
		size_t cap = hv->q_cap ? hv->q_cap * 2 : 16;
		struct hv_event *q = realloc(hv->q, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		hv->q = q;
		hv->q_cap = cap;
	}
	ev = &hv->q[hv->q_len++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ev->generation = generation;
	/* The counter only has to be non-zero; overflow cannot happen here. */
	(void)!write(hv->evfd, &one, sizeof(one));
	return 0;
}

static int
proc_track(struct hv *hv, const char *name, const struct proc_rec *rec,
	   int pidfd)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = (uint64_t)pidfd };
	struct proc_dom *d;

	if (hv->n_doms == hv->cap_doms) {
		size_t cap = hv->cap_doms ? hv->cap_doms * 2 : 8;
		struct proc_dom *p = realloc(hv->doms, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		hv->doms = p;
		hv->cap_doms = cap;
	}
	if (epoll_ctl(hv->epfd, EPOLL_CTL_ADD, pidfd, &ee) < 0)
		return -errno;
	d = &hv->doms[hv->n_doms++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->pid = rec->pid;
	d->pidfd = pidfd;
	d->generation = rec->generation;
	d->start = rec->start;
	d->memory_mb = rec->memory_mb;
	return 0;
}

static struct proc_dom *
proc_find(struct hv *hv, const char *name)
{
	for (size_t i = 0; i < hv->n_doms; i++) {
		if (strcmp(hv->doms[i].name, name) == 0)
			return &hv->doms[i];
	}
	return NULL;
}

/* The domain is gone: queue its event, drop its files (unless they now
 * describe another instance) and stop watching it. */
static int
proc_finish(struct hv *hv, struct proc_dom *d, bool destroyed)
{
	enum hv_event_kind kind;
	struct proc_rec rec;
	int r;

	kind = destroyed ? HV_EVENT_DESTROYED : proc_exit_reason(hv, d->name);
	r = proc_queue(hv, kind, d->name, d->generation);
	if (proc_rec_read(hv, d->name, &rec) == 0 && rec.pid == d->pid &&
	    rec.start == d->start) {
		proc_unlink(hv, d->name, ".pid");
		proc_unlink(hv, d->name, ".exit");
	}
	(void)epoll_ctl(hv->epfd, EPOLL_CTL_DEL, d->pidfd, NULL);
	close(d->pidfd);
	*d = hv->doms[--hv->n_doms];
	return r;
}

/* A pidfd that is readable belongs to a process that has exited. */
static bool
proc_dom_exited(const struct proc_dom *d)
{
	struct pollfd pfd = { .fd = d->pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

/* Watch the guest a pid file names, if it is still the same process.
 * 0 tracked; -ESRCH it is gone (or the pid is someone else's now). */
static int
proc_attach(struct hv *hv, const char *name, const struct proc_rec *rec)
{
	uint64_t start;
	int pidfd, r;

	pidfd = proc_pidfd_open(rec->pid);
	if (pidfd < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	/* Checked after pidfd_open: if the start time still matches, the
	 * pidfd holds our guest and not a later owner of the pid. */
	r = proc_stat_start(rec->pid, &start);
	if (r == 0 && start != rec->start)
		r = -ESRCH;
	if (r == 0)
		r = proc_track(hv, name, rec, pidfd);
	if (r < 0)
		close(pidfd);
	return r;
}

/* The tracked domain NAME, attaching to it when another instance of the
 * driver created it since our open(); NULL when it is not running. */
static struct proc_dom *
proc_lookup(struct hv *hv, const char *name)
{
	struct proc_dom *d = proc_find(hv, name);
	struct proc_rec rec;

	if (d)
		return d;
	if (proc_rec_read(hv, name, &rec) < 0)
		return NULL;
	if (proc_attach(hv, name, &rec) < 0)
		return NULL;
	return proc_find(hv, name);
}

/* Turn every exited domain into its event. */
static int
proc_collect(struct hv *hv)
{
	struct epoll_event evs[16];
	int n, handled, r = 0;

	do {
		n = epoll_wait(hv->epfd, evs, 16, 0);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		handled = 0;
		for (int i = 0; i < n; i++) {
			struct proc_dom *d = NULL;

			if (evs[i].data.u64 == PROC_EVFD_TAG)
				continue;
			for (size_t j = 0; j < hv->n_doms; j++) {
				if ((uint64_t)hv->doms[j].pidfd == evs[i].data.u64)
					d = &hv->doms[j];
			}
			if (!d)
				continue;
			handled++;
			if (proc_finish(hv, d, false) < 0)
				r = -ENOMEM;
		}
	} while (handled > 0);
	return r;
}

static int
proc_mkdir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Re-attach to the guests a previous agent left running; report those
 * that ended meanwhile, as they ended. */
static int
proc_scan_existing(struct hv *hv)
{
	struct dirent *e;
	struct proc_rec rec;
	DIR *dir;
	int r = 0;

	dir = opendir(hv->dir);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		char name[VM_NAME_MAX];
		size_t len = strlen(e->d_name);

		if (len <= 4 || strcmp(e->d_name + len - 4, ".pid") != 0 ||
		    len - 4 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, len - 4);
		name[len - 4] = '\0';
		if (!proc_name_valid(name) || proc_rec_read(hv, name, &rec) < 0)
			continue;
		r = proc_attach(hv, name, &rec);
		if (r == -ESRCH) {
			r = proc_queue(hv, proc_exit_reason(hv, name), name,
				       rec.generation);
			proc_unlink(hv, name, ".pid");
			proc_unlink(hv, name, ".exit");
		}
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

static void
proc_close(struct hv *hv)
{
	if (!hv)
		return;
	/* Only our watch ends: the guests keep running. */
	for (size_t i = 0; i < hv->n_doms; i++)
		close(hv->doms[i].pidfd);
	if (hv->epfd >= 0)
		close(hv->epfd);
	if (hv->evfd >= 0)
		close(hv->evfd);
	free(hv->doms);
	free(hv->q);
	free(hv);
}

static int
proc_open(struct hv **out, const struct hv_params *p)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = PROC_EVFD_TAG };
	struct hv *hv;
	int n, r;

	if (!out || !p || !p->run_dir || !p->guest_path ||
	    !proc_name_valid(p->host_name))
		return -EINVAL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->epfd = hv->evfd = -1;
	snprintf(hv->host, sizeof(hv->host), "%s", p->host_name);
	hv->host_mem_mb = p->host_mem_mb;
	n = snprintf(hv->guest, sizeof(hv->guest), "%s", p->guest_path);
	if (n < 0 || (size_t)n >= sizeof(hv->guest)) {
		r = -ENAMETOOLONG;
		goto out_free;
	}
	n = snprintf(hv->dir, sizeof(hv->dir), "%s/" PROC_SUBDIR, p->run_dir);
	if (n < 0 || (size_t)n >= sizeof(hv->dir) - VM_NAME_MAX - 16) {
		r = -ENAMETOOLONG;
		goto out_free;
	}
	r = proc_mkdir(p->run_dir);
	if (r == 0)
		r = proc_mkdir(hv->dir);
	if (r < 0)
		goto out_free;

	hv->epfd = epoll_create1(EPOLL_CLOEXEC);
	hv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (hv->epfd < 0 || hv->evfd < 0) {
		r = -errno;
		goto out_free;
	}
	if (epoll_ctl(hv->epfd, EPOLL_CTL_ADD, hv->evfd, &ee) < 0) {
		r = -errno;
		goto out_free;
	}
	r = proc_scan_existing(hv);
	if (r < 0)
		goto out_free;
	*out = hv;
	return 0;
out_free:
	proc_close(hv);
	return r;
}

static int
proc_dom_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hv_domain *)a)->name,
		      ((const struct hv_domain *)b)->name);
}

/* From the pid files, so that a guest is listed whatever instance of the
 * driver started it; sorted by name. */
static int
proc_list(struct hv *hv, struct hv_domain **out, size_t *n_out)
{
	struct hv_domain *doms = NULL;
	size_t n = 0, cap = 0;
	struct proc_rec rec;
	struct dirent *e;
	DIR *dir;
	int r = 0;

	if (!hv || !out || !n_out)
		return -EINVAL;
	dir = opendir(hv->dir);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		char name[VM_NAME_MAX];
		size_t len = strlen(e->d_name);

		if (len <= 4 || strcmp(e->d_name + len - 4, ".pid") != 0 ||
		    len - 4 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, len - 4);
		name[len - 4] = '\0';
		if (!proc_name_valid(name) || proc_rec_read(hv, name, &rec) < 0 ||
		    !proc_rec_alive(&rec))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 8;
			struct hv_domain *p = realloc(doms, c * sizeof(*p));

			if (!p) {
				r = -ENOMEM;
				goto out_close;
			}
			doms = p;
			cap = c;
		}
		memset(&doms[n], 0, sizeof(doms[n]));
		snprintf(doms[n].name, sizeof(doms[n].name), "%s", name);
		doms[n].domid = (uint32_t)rec.pid;
		doms[n].memory_mb = rec.memory_mb;
		doms[n].generation = rec.generation;
		n++;
	}
	if (n > 1)
		qsort(doms, n, sizeof(*doms), proc_dom_cmp);
out_close:
	closedir(dir);
	if (r < 0) {
		free(doms);
		return r;
	}
	*out = doms;
	*n_out = n;
	return 0;
}

static int
proc_used_mb(struct hv *hv, uint64_t *used)
{
	struct hv_domain *doms;
	size_t n;
	int r;

	r = proc_list(hv, &doms, &n);
	if (r < 0)
		return r;
	*used = 0;
	for (size_t i = 0; i < n; i++)
		*used += doms[i].memory_mb;
	free(doms);
	return 0;
}

/* In the grandchild, between fork and exec: only async-signal-safe calls.
 * Waits for the parent to finish its bookkeeping (EOF on go_fd) so the
 * guest cannot run, die and be reaped before it is watched. */
static void __attribute__((noreturn))
proc_child_exec(char *const argv[], int null_fd, int log_fd, int go_fd,
		int info_fd)
{
	struct sigaction sa;
	sigset_t all;
	char c;
	int err;

	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
	    dup2(log_fd, STDERR_FILENO) < 0)
		goto out_fail;
	/* Nothing of the agent's (corosync, IPC, other guests' pidfds)
	 * leaks into the guest. */
	(void)close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	/* Ignored signals and the mask survive exec: start the guest clean. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	execv(argv[0], argv);
out_fail:
	err = errno;
	(void)!write(info_fd, &err, sizeof(err));
	_exit(127);
}

/* Double fork + setsid: the guest is nobody's child in the agent, not in
 * its session, and survives its exit.  *pidfd and *start identify it. */
static int
proc_spawn(struct hv *hv, char *const argv[], const char *log_path,
	   struct proc_rec *rec, int *pidfd_out)
{
	int info[2], go[2], null_fd, log_fd, pidfd = -1, status, err;
	pid_t mid, pid = 0;
	ssize_t n;
	int r;

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return -errno;
	log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		r = -errno;
		goto out_null;
	}
	if (pipe2(info, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_log;
	}
	if (pipe2(go, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_info;
	}
	mid = fork();
	if (mid < 0) {
		r = -errno;
		goto out_go;
	}
	if (mid == 0) {
		pid_t g;

		close(info[0]);
		close(go[1]);
		if (setsid() < 0)
			_exit(127);
		g = fork();
		if (g == 0)
			proc_child_exec(argv, null_fd, log_fd, go[0], info[1]);
		if (g < 0)
			g = -errno;
		(void)!write(info[1], &g, sizeof(g));
		_exit(0);
	}
	close(info[1]);
	info[1] = -1;
	close(go[0]);
	go[0] = -1;
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	n = read(info[0], &pid, sizeof(pid));
	if (n != sizeof(pid) || pid <= 0) {
		r = n == sizeof(pid) ? pid : -ECHILD;
		goto out_go;
	}
	/* The guest waits on the go pipe, so it is alive and its pid is its
	 * own while we take the pidfd and start time. */
	pidfd = proc_pidfd_open(pid);
	if (pidfd < 0) {
		r = -errno;
		goto out_kill;
	}
	r = proc_stat_start(pid, &rec->start);
	if (r < 0)
		goto out_kill;
	close(go[1]);
	go[1] = -1;
	/* EOF: exec succeeded (the pipe is close-on-exec); an int: errno. */
	do {
		n = read(info[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(err)) {
		r = -err;
		goto out_pidfd;
	}
	rec->pid = pid;
	*pidfd_out = pidfd;
	pidfd = -1;
	r = 0;
	goto out_go;
out_kill:
	if (pidfd >= 0)
		(void)proc_pidfd_signal(pidfd, SIGKILL);
	else
		(void)kill(pid, SIGKILL);   /* still blocked on the go pipe: ours */
out_pidfd:
	if (pidfd >= 0)
		close(pidfd);
out_go:
	if (go[0] >= 0)
		close(go[0]);
	if (go[1] >= 0)
		close(go[1]);
out_info:
	close(info[0]);
	if (info[1] >= 0)
		close(info[1]);
out_log:
	close(log_fd);
out_null:
	close(null_fd);
	return r;
}

/* The disk of the test guest: the first disk's target, "file:" dropped. */
static const char *
proc_disk_target(const struct vm_config *cfg)
{
	const char *t;

	if (cfg->n_disks < 1)
		return NULL;
	t = cfg->disks[0].target;
	if (strncmp(t, "file:", 5) == 0)
		t += 5;
	return *t ? t : NULL;
}

static int
proc_create(struct hv *hv, const struct vm_config *cfg, uint64_t generation)
{
	char exit_path[PATH_MAX], log_path[PATH_MAX], gen[24];
	char extra[VM_EXTRA_MAX];
	char *argv[PROC_MAX_ARGS];
	struct proc_dom *d;
	struct proc_rec rec;
	const char *disk;
	uint64_t used;
	int argc = 0, pidfd, r;

	if (!hv || !cfg || !proc_name_valid(cfg->name))
		return -EINVAL;
	disk = proc_disk_target(cfg);
	if (!disk)
		return -EINVAL;
	r = proc_path(hv, cfg->name, ".exit", exit_path, sizeof(exit_path));
	if (r == 0)
		r = proc_path(hv, cfg->name, ".log", log_path, sizeof(log_path));
	if (r < 0)
		return r;

	/* A death not yet collected must become its event before the name
	 * is reused, or the old instance's cleanup would hit the new one. */
	d = proc_lookup(hv, cfg->name);
	if (d && !proc_dom_exited(d))
		return -EEXIST;
	if (d) {
		r = proc_finish(hv, d, false);
		if (r < 0)
			return r;
	}
	r = proc_used_mb(hv, &used);
	if (r < 0)
		return r;
	if (used > hv->host_mem_mb || cfg->memory_mb > hv->host_mem_mb - used)
		return -ENOMEM;

	snprintf(gen, sizeof(gen), "%" PRIu64, generation);
	argv[argc++] = hv->guest;
	argv[argc++] = "--vm";
	argv[argc++] = (char *)cfg->name;
	argv[argc++] = "--host";
	argv[argc++] = hv->host;
	argv[argc++] = "--generation";
	argv[argc++] = gen;
	argv[argc++] = "--disk";
	argv[argc++] = (char *)disk;
	argv[argc++] = "--exit-file";
	argv[argc++] = exit_path;
	/* `extra` is the guest's command line, as it is a kernel's: how the
	 * rig makes a guest that crashes or reboots after N records. */
	snprintf(extra, sizeof(extra), "%s", cfg->extra);
	for (char *save = NULL, *w = strtok_r(extra, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (argc >= PROC_MAX_ARGS - 1)
			return -E2BIG;
		argv[argc++] = w;
	}
	argv[argc] = NULL;

	proc_unlink(hv, cfg->name, ".exit");
	memset(&rec, 0, sizeof(rec));
	rec.generation = generation;
	rec.memory_mb = cfg->memory_mb;
	r = proc_spawn(hv, argv, log_path, &rec, &pidfd);
	if (r < 0)
		return r;
	r = proc_rec_write(hv, cfg->name, &rec);
	if (r < 0)
		goto out_kill;
	r = proc_track(hv, cfg->name, &rec, pidfd);
	if (r < 0)
		goto out_unlink;
	return 0;
out_unlink:
	proc_unlink(hv, cfg->name, ".pid");
out_kill:
	/* Untracked, it would run unseen: kill it rather than leak it. */
	(void)proc_pidfd_signal(pidfd, SIGKILL);
	close(pidfd);
	return r;
}

static int
proc_wait_gone(int pidfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	struct timespec t0, t;
	int left = timeout_ms, n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = poll(&pfd, 1, left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
	}
}

static int
proc_destroy(struct hv *hv, const char *name)
{
	struct proc_dom *d;
	int r;

	if (!hv || !proc_name_valid(name))
		return -EINVAL;
	d = proc_lookup(hv, name);
	if (!d) {
		/* Not running: a pid file left here names nobody. */
		proc_unlink(hv, name, ".pid");
		proc_unlink(hv, name, ".exit");
		return 0;
	}
	if (proc_pidfd_signal(d->pidfd, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	/* A guest stuck in D state (a hung disk) does not die at once; the
	 * caller escalates to fencing when this times out. */
	r = proc_wait_gone(d->pidfd, PROC_DESTROY_WAIT_MS);
	if (r < 0)
		return r;
	return proc_finish(hv, d, true);
}

static int
proc_shutdown(struct hv *hv, const char *name)
{
	struct proc_dom *d;

	if (!hv || !proc_name_valid(name))
		return -EINVAL;
	d = proc_lookup(hv, name);
	if (!d || proc_dom_exited(d))
		return -ENOENT;
	if (proc_pidfd_signal(d->pidfd, SIGTERM) < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	return 0;
}

static int
proc_host_memory(struct hv *hv, uint64_t *total_mb, uint64_t *free_mb)
{
	uint64_t used;
	int r;

	if (!hv || !total_mb || !free_mb)
		return -EINVAL;
	r = proc_used_mb(hv, &used);
	if (r < 0)
		return r;
	*total_mb = hv->host_mem_mb;
	*free_mb = used < hv->host_mem_mb ? hv->host_mem_mb - used : 0;
	return 0;
}

static int
proc_event_fd(struct hv *hv)
{
	return hv ? hv->epfd : -EINVAL;
}

static int
proc_event_next(struct hv *hv, struct hv_event *ev)
{
	uint64_t cnt;
	int r;

	if (!hv || !ev)
		return -EINVAL;
	r = proc_collect(hv);
	if (hv->q_head == hv->q_len) {
		/* Drained: the epoll fd stops being readable for the queue. */
		(void)!read(hv->evfd, &cnt, sizeof(cnt));
		return r < 0 ? r : -EAGAIN;
	}
	*ev = hv->q[hv->q_head++];
	if (hv->q_head == hv->q_len) {
		hv->q_head = hv->q_len = 0;
		(void)!read(hv->evfd, &cnt, sizeof(cnt));
	}
	return 0;
}

const struct hv_ops hv_proc_ops = {
	.name = "proc",
	.open = proc_open,
	.close = proc_close,
	.list = proc_list,
	.create = proc_create,
	.destroy = proc_destroy,
	.shutdown = proc_shutdown,
	.host_memory = proc_host_memory,
	.event_fd = proc_event_fd,
	.event_next = proc_event_next,
};
