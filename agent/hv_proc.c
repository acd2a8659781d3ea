/* The `proc` hypervisor driver: a domain is a process running the test
 * guest (tests/guest.c), for the rig and the demo.
 *
 * Domains outlive the agent, as Xen domains do: the guest is spawned
 * detached (double fork + setsid, agent/spawn.c), and everything needed
 * to find it again lives in RUN_DIR/proc/:
 *   NAME.pid   "PID GENERATION STARTTIME MEMORY_MB\n", written by us
 *   NAME.exit  "poweroff" | "reboot", written by the guest before a clean exit
 *   NAME.log   the guest's stdout/stderr
 *   NAME.mig   the guest's continuation state, written by a paused guest
 *   NAME.inc   the state an incoming guest starts from, written by us
 *   NAME.ready written by an incoming guest once it can run
 * A domain is paused while NAME.mig or NAME.inc is there (live migration:
 * agent/hv_proc_mig.c).
 * STARTTIME (field 22 of /proc/PID/stat) tells our guest from an unrelated
 * process that got the same pid after the guest died.
 *
 * Deaths come from one pidfd per domain, all in one epoll set whose fd the
 * agent polls; an eventfd in the same set keeps it readable while queued
 * events (destroys, deaths found at open) wait for event_next().  The
 * migration streams, an inotify watch of the directory and a timerfd for
 * their deadlines are in the set too: event_next() moves the transfers on.
 * Signals go through the pidfd as well, so a recycled pid is never
 * signalled.
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
#include <unistd.h>

#include "hv.h"
#include "hv_proc_int.h"
#include "spawn.h"

#define PROC_SUBDIR           "proc"
#define PROC_DESTROY_WAIT_MS  5000      /* SIGKILL to gone; past it, -ETIMEDOUT */
#define PROC_MAX_ARGS         (24 + VM_EXTRA_MAX / 2)
#define PROC_COLLECT_ROUNDS   64

int
proc_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Room for one more element in a doubling array; 0 or -ENOMEM. */
static int
proc_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 8;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* A file name made of the VM name: nothing that leaves the directory or
 * hides from the listing. */
bool
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

int
proc_path(const struct hv *hv, const char *name, const char *suffix,
	  char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s%s", hv->dir, name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
proc_rec_read(const struct hv *hv, const char *name, struct proc_rec *rec)
{
	char path[PATH_MAX], buf[128], nl = 0;
	ssize_t n;
	int pid, r;

	r = proc_path(hv, name, ".pid", path, sizeof(path));
	if (r < 0)
		return r;
	n = proc_slurp(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (sscanf(buf, "%d %" SCNu64 " %" SCNu64 " %" SCNu64 "%c", &pid,
		   &rec->generation, &rec->start, &rec->memory_mb, &nl) != 5 ||
	    nl != '\n' || pid <= 0)
		return -EBADMSG;
	rec->pid = pid;
	return 0;
}

/* Temp file + rename: a reader sees the old file or the new, never half. */
int
proc_file_write(const struct hv *hv, const char *name, const char *suffix,
		const char *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int r;

	r = proc_path(hv, name, suffix, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	r = fwrite(data, 1, len, f) == len ? 0 : -EIO;
	if (fclose(f) != 0)
		r = -EIO;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int
proc_rec_write(const struct hv *hv, const char *name, const struct proc_rec *rec)
{
	char text[128];
	int n = snprintf(text, sizeof(text), "%d %" PRIu64 " %" PRIu64 " %" PRIu64
			 "\n", (int)rec->pid, rec->generation, rec->start,
			 rec->memory_mb);

	return proc_file_write(hv, name, ".pid", text, (size_t)n);
}

void
proc_unlink(const struct hv *hv, const char *name, const char *suffix)
{
	char path[PATH_MAX];

	if (proc_path(hv, name, suffix, path, sizeof(path)) == 0)
		(void)unlink(path);
}

bool
proc_file_exists(const struct hv *hv, const char *name, const char *suffix)
{
	char path[PATH_MAX];

	return proc_path(hv, name, suffix, path, sizeof(path)) == 0 &&
	       access(path, F_OK) == 0;
}

/* Every file of a domain but its log. */
static void
proc_unlink_all(const struct hv *hv, const char *name)
{
	static const char *const suffixes[] = { ".pid", ".exit", ".mig", ".inc",
						".ready" };

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		proc_unlink(hv, name, suffixes[i]);
}

/* The guest's word on why it left; anything else is a crash. */
static enum hv_event_kind
proc_exit_reason(const struct hv *hv, const char *name)
{
	char path[PATH_MAX], buf[32];

	if (proc_path(hv, name, ".exit", path, sizeof(path)) < 0 ||
	    proc_slurp(path, buf, sizeof(buf)) < 0)
		return HV_EVENT_CRASH;
	if (strcmp(buf, "poweroff\n") == 0)
		return HV_EVENT_POWEROFF;
	if (strcmp(buf, "reboot\n") == 0)
		return HV_EVENT_REBOOT;
	if (strcmp(buf, "fenced\n") == 0)
		return HV_EVENT_FENCED;
	if (strcmp(buf, "storage\n") == 0)
		return HV_EVENT_STORAGE_LOST;
	return HV_EVENT_CRASH;
}

/* Is the pid file's process our guest, still running? */
static bool
proc_rec_alive(const struct proc_rec *rec)
{
	uint64_t start;

	return proc_stat_start(rec->pid, &start) == 0 && start == rec->start;
}

/* Calls fn for every well-formed pid file, stopping at its first error. */
static int
proc_each_rec(struct hv *hv, int (*fn)(struct hv *, const char *,
				       const struct proc_rec *, void *),
	      void *arg)
{
	struct proc_rec rec;
	struct dirent *e;
	DIR *dir;
	int r = 0;

	dir = opendir(hv->dir);
	if (!dir)
		return -errno;
	while (r == 0 && (e = readdir(dir))) {
		char name[VM_NAME_MAX];
		size_t len = strlen(e->d_name);

		if (len <= 4 || len - 4 >= sizeof(name) ||
		    strcmp(e->d_name + len - 4, ".pid") != 0)
			continue;
		memcpy(name, e->d_name, len - 4);
		name[len - 4] = '\0';
		if (proc_name_valid(name) && proc_rec_read(hv, name, &rec) == 0)
			r = fn(hv, name, &rec, arg);
	}
	closedir(dir);
	return r;
}

int
proc_queue_result(struct hv *hv, enum hv_event_kind kind, const char *name,
		  uint64_t generation, int result, const char *reason)
{
	struct hv_event *ev;
	uint64_t one = 1;

	if (hv->q_head == hv->q_len)
		hv->q_head = hv->q_len = 0;
	if (proc_grow((void **)&hv->q, &hv->q_cap, hv->q_len, sizeof(*ev)) < 0)
		return -ENOMEM;
	ev = &hv->q[hv->q_len++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ev->generation = generation;
	ev->result = result;
	snprintf(ev->reason, sizeof(ev->reason), "%s", reason ? reason : "");
	/* The counter only has to be non-zero; it cannot overflow here. */
	(void)!write(hv->evfd, &one, sizeof(one));
	return 0;
}

static int
proc_track(struct hv *hv, const char *name, const struct proc_rec *rec,
	   int pidfd)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = (uint64_t)pidfd };
	struct proc_dom *d;

	if (proc_grow((void **)&hv->doms, &hv->cap_doms, hv->n_doms,
		      sizeof(*d)) < 0)
		return -ENOMEM;
	if (epoll_ctl(hv->epfd, EPOLL_CTL_ADD, pidfd, &ee) < 0)
		return -errno;
	d = &hv->doms[hv->n_doms++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->rec = *rec;
	d->pidfd = pidfd;
	return 0;
}

static struct proc_dom *
proc_find(struct hv *hv, const char *name, int pidfd)
{
	for (size_t i = 0; i < hv->n_doms; i++) {
		if (name ? strcmp(hv->doms[i].name, name) == 0 :
		    hv->doms[i].pidfd == pidfd)
			return &hv->doms[i];
	}
	return NULL;
}

/* The domain is gone: end its transfer, queue its event, drop its files
 * (unless they now describe another instance) and stop watching it. */
int
proc_finish(struct hv *hv, struct proc_dom *d, enum proc_end how)
{
	struct proc_rec rec;
	int r = 0;

	how = proc_mig_dom_gone(hv, d->name, d->rec.pid, how);
	if (how != PROC_END_SILENT)
		r = proc_queue_result(hv, how == PROC_END_DESTROYED ?
				      HV_EVENT_DESTROYED :
				      proc_exit_reason(hv, d->name), d->name,
				      d->rec.generation, 0, NULL);
	if (proc_rec_read(hv, d->name, &rec) == 0 && rec.pid == d->rec.pid &&
	    rec.start == d->rec.start)
		proc_unlink_all(hv, d->name);
	(void)epoll_ctl(hv->epfd, EPOLL_CTL_DEL, d->pidfd, NULL);
	close(d->pidfd);
	*d = hv->doms[--hv->n_doms];
	return r;
}

/* A pidfd that is readable belongs to a process that has exited. */
bool
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
	/* the pid reused by a thread of another process is no guest either:
	 * pidfd_open says ENOENT for it (EINVAL before Linux 6.9) */
	if (pidfd < 0)
		return errno == ESRCH || errno == ENOENT || errno == EINVAL ? -ESRCH : -errno;
	/* Checked after pidfd_open: if the start time still matches, the
	 * pidfd holds our guest and not a later owner of the pid. */
	if (proc_stat_start(rec->pid, &start) < 0 || start != rec->start)
		r = -ESRCH;
	else
		r = proc_track(hv, name, rec, pidfd);
	if (r < 0)
		close(pidfd);
	return r;
}

/* The tracked domain NAME in *d, attaching to it when another instance
 * of the driver created it since our open(); *d NULL when it is not
 * running.  An error means we cannot tell (and must not act as if gone). */
int
proc_lookup(struct hv *hv, const char *name, struct proc_dom **d)
{
	struct proc_rec rec;
	int r;

	*d = proc_find(hv, name, -1);
	if (*d || proc_rec_read(hv, name, &rec) < 0)
		return 0;
	r = proc_attach(hv, name, &rec);
	if (r < 0)
		return r == -ESRCH ? 0 : r;
	*d = proc_find(hv, name, -1);
	return 0;
}

static int
proc_collect_one(struct hv *hv, const struct epoll_event *e)
{
	struct proc_dom *d;
	int r = proc_mig_on_event(hv, e);

	if (r != -ENOENT)
		return r;
	/* A pidfd, looked at again: a pidfd closed earlier in this batch may have
	 * been reused by a guest started since. */
	d = proc_find(hv, NULL, (int)e->data.u64);
	if (!d || !proc_dom_exited(d))
		return 0;
	return proc_finish(hv, d, PROC_END_EXITED);
}

/* Turn every exited domain into its event, move the transfers on. */
static int
proc_collect(struct hv *hv)
{
	struct epoll_event evs[16];
	int n, r = 0;

	for (int round = 0; round < PROC_COLLECT_ROUNDS; round++) {
		bool more = false;

		n = epoll_wait(hv->epfd, evs, 16, 0);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		for (int i = 0; i < n; i++) {
			int rr;

			if (evs[i].data.u64 == PROC_TAG_EVFD)
				continue;
			more = true;
			rr = proc_collect_one(hv, &evs[i]);
			if (rr < 0)
				r = rr;
		}
		if (!more)
			break;
	}
	return r;
}

/* At open: re-attach to a guest a previous agent left running, or report
 * it as it ended meanwhile. */
static int
proc_readopt(struct hv *hv, const char *name, const struct proc_rec *rec,
	     void *arg)
{
	int r = proc_attach(hv, name, rec);

	if (r != -ESRCH)
		return r;
	r = proc_queue_result(hv, proc_exit_reason(hv, name), name,
			      rec->generation, 0, NULL);
	proc_unlink_all(hv, name);
	return r;
}

static void
proc_close(struct hv *hv)
{
	if (!hv)
		return;
	/* Only our watch ends: the guests keep running, paused ones too. */
	proc_mig_close(hv);
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
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = PROC_TAG_EVFD };
	struct hv *hv;
	int n, r;

	if (!out || !p || !p->run_dir || !p->guest_path ||
	    !proc_name_valid(p->host_name))
		return -EINVAL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->epfd = hv->evfd = hv->infd = hv->tfd = -1;
	snprintf(hv->host, sizeof(hv->host), "%s", p->host_name);
	hv->host_mem_mb = p->host_mem_mb;
	snprintf(hv->initiator, sizeof(hv->initiator), "%s",
		 p->initiator ? p->initiator : "");
	snprintf(hv->replacement, sizeof(hv->replacement), "%u",
		 p->replacement_s ? p->replacement_s : 120);
	r = -ENAMETOOLONG;
	n = snprintf(hv->guest, sizeof(hv->guest), "%s", p->guest_path);
	if (n < 0 || (size_t)n >= sizeof(hv->guest))
		goto out_free;
	n = snprintf(hv->dir, sizeof(hv->dir), "%s/" PROC_SUBDIR, p->run_dir);
	if (n < 0 || (size_t)n >= sizeof(hv->dir) - VM_NAME_MAX - 16)
		goto out_free;
	if ((mkdir(p->run_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(hv->dir, 0700) < 0 && errno != EEXIST)) {
		r = -errno;
		goto out_free;
	}
	hv->epfd = epoll_create1(EPOLL_CLOEXEC);
	hv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (hv->epfd < 0 || hv->evfd < 0 ||
	    epoll_ctl(hv->epfd, EPOLL_CTL_ADD, hv->evfd, &ee) < 0) {
		r = -errno;
		goto out_free;
	}
	r = proc_mig_open(hv);
	if (r < 0)
		goto out_free;
	r = proc_each_rec(hv, proc_readopt, NULL);
	if (r < 0)
		goto out_free;
	*out = hv;
	return 0;
out_free:
	proc_close(hv);
	return r;
}

struct proc_list_acc {
	struct hv_domain *doms;
	size_t n, cap;
};

static int
proc_list_one(struct hv *hv, const char *name, const struct proc_rec *rec,
	      void *arg)
{
	struct proc_list_acc *acc = arg;
	struct hv_domain *d;

	if (!proc_rec_alive(rec))
		return 0;
	if (proc_grow((void **)&acc->doms, &acc->cap, acc->n, sizeof(*d)) < 0)
		return -ENOMEM;
	d = &acc->doms[acc->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->domid = (uint32_t)rec->pid;
	d->memory_mb = rec->memory_mb;
	d->generation = rec->generation;
	d->paused = proc_file_exists(hv, name, ".mig") ||
		    proc_file_exists(hv, name, ".inc");
	return 0;
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
	struct proc_list_acc acc = { 0 };
	int r;

	if (!hv || !out || !n_out)
		return -EINVAL;
	r = proc_each_rec(hv, proc_list_one, &acc);
	if (r < 0) {
		free(acc.doms);
		return r;
	}
	if (acc.n > 1)
		qsort(acc.doms, acc.n, sizeof(*acc.doms), proc_dom_cmp);
	*out = acc.doms;
	*n_out = acc.n;
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
	*used = proc_mig_reserved_mb(hv);
	for (size_t i = 0; i < n; i++)
		*used += doms[i].memory_mb;
	free(doms);
	return 0;
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

/* The files a guest is told about: RUN_DIR/proc/NAME + suffix. */
struct proc_files {
	char exit[PATH_MAX], log[PATH_MAX], mig[PATH_MAX], inc[PATH_MAX],
	     ready[PATH_MAX];
};

static int
proc_files_of(const struct hv *hv, const char *name, struct proc_files *f)
{
	char *const out[] = { f->exit, f->log, f->mig, f->inc, f->ready };
	static const char *const suffix[] = { ".exit", ".log", ".mig", ".inc",
					      ".ready" };
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(out) / sizeof(out[0]); i++)
		r = proc_path(hv, name, suffix[i], out[i], PATH_MAX);
	return r;
}

/* guest --vm --host --generation --disk --exit-file --mig-file [--incoming
 * --ready-file], then the words of `extra`: the guest's command line, as
 * it is a kernel's; how the rig makes a guest that crashes or reboots
 * after N records.  The words are cut in `extra`, the caller's copy. */
static int
proc_guest_argv(struct hv *hv, const struct vm_config *cfg, const char *disk,
		char *gen, struct proc_files *f, bool incoming, char *extra,
		char **argv)
{
	char *fixed[] = { hv->guest, "--vm", (char *)cfg->name, "--host",
			  hv->host, "--generation", gen, "--disk", (char *)disk,
			  "--exit-file", f->exit, "--mig-file", f->mig };
	int argc = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[argc++] = fixed[i];
	if (incoming) {
		argv[argc++] = "--incoming";
		argv[argc++] = f->inc;
		argv[argc++] = "--ready-file";
		argv[argc++] = f->ready;
	}
	/* a SAN disk: the guest logs in as this host's initiator */
	if (strncmp(disk, "iscsi://", 8) == 0) {
		if (hv->initiator[0] == '\0')
			return -EINVAL;
		argv[argc++] = "--initiator";
		argv[argc++] = hv->initiator;
		argv[argc++] = "--replacement-timeout";
		argv[argc++] = hv->replacement;
	}
	for (char *save = NULL, *w = strtok_r(extra, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (argc >= PROC_MAX_ARGS - 1)
			return -E2BIG;
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	return 0;
}

int
proc_start(struct hv *hv, const struct vm_config *cfg, uint64_t generation,
	   enum proc_start_mode mode, pid_t *pid)
{
	bool incoming = mode == PROC_START_INCOMING;
	char gen[24], extra[VM_EXTRA_MAX];
	char *argv[PROC_MAX_ARGS];
	struct proc_files f;
	struct proc_child ch;
	struct proc_dom *d;
	struct proc_rec rec;
	const char *disk;
	uint64_t used;
	int r;

	if (!hv || !cfg || !proc_name_valid(cfg->name))
		return -EINVAL;
	disk = proc_disk_target(cfg);
	if (!disk)
		return -EINVAL;
	r = proc_files_of(hv, cfg->name, &f);
	snprintf(gen, sizeof(gen), "%" PRIu64, generation);
	snprintf(extra, sizeof(extra), "%s", cfg->extra);
	if (r == 0)
		r = proc_guest_argv(hv, cfg, disk, gen, &f, incoming, extra, argv);
	if (r < 0)
		return r;

	/* A death not yet collected must become its event before the name
	 * is reused, or the old instance's cleanup would hit the new one. */
	r = proc_lookup(hv, cfg->name, &d);
	if (r < 0)
		return r;
	if (d && !proc_dom_exited(d))
		return -EEXIST;
	if (d && (r = proc_finish(hv, d, PROC_END_EXITED)) < 0)
		return r;
	r = proc_used_mb(hv, &used);
	if (r < 0)
		return r;
	if (used > hv->host_mem_mb || cfg->memory_mb > hv->host_mem_mb - used)
		return -ENOMEM;
	if (mode == PROC_START_CHECK)
		return 0;

	proc_unlink(hv, cfg->name, ".exit");
	proc_unlink(hv, cfg->name, ".mig");
	proc_unlink(hv, cfg->name, ".ready");
	if (!incoming)
		proc_unlink(hv, cfg->name, ".inc");
	r = proc_spawn(argv, f.log, &ch);
	if (r < 0)
		return r;
	rec = (struct proc_rec){ .pid = ch.pid, .start = ch.start,
				 .generation = generation,
				 .memory_mb = cfg->memory_mb };
	r = proc_rec_write(hv, cfg->name, &rec);
	if (r < 0)
		goto out_drop;          /* never released: it exits unrun */
	r = proc_child_release(&ch);
	if (r < 0)
		goto out_unlink;
	r = proc_track(hv, cfg->name, &rec, ch.pidfd);
	if (r < 0)
		goto out_kill;
	ch.pidfd = -1;
	proc_child_drop(&ch);
	if (pid)
		*pid = rec.pid;
	return 0;
out_kill:
	/* Untracked, it would run unseen: kill it rather than leak it. */
	(void)proc_pidfd_signal(ch.pidfd, SIGKILL);
out_unlink:
	proc_unlink(hv, cfg->name, ".pid");
out_drop:
	proc_child_drop(&ch);
	return r;
}

static int
proc_create(struct hv *hv, const struct vm_config *cfg, uint64_t generation)
{
	int r;

	if (hv && cfg && proc_mig_receiving(hv, cfg->name))
		return -EBUSY;
	r = proc_start(hv, cfg, generation, PROC_START_CREATE, NULL);
	/* nothing slow to wait for: the process runs, the create is done */
	if (r == 0)
		(void)proc_queue_result(hv, HV_EVENT_CREATED, cfg->name,
					generation, 0, NULL);
	return r;
}

/* A transfer of the name ends with it (a receive not started yet too). */
static int
proc_destroy(struct hv *hv, const char *name)
{
	struct proc_dom *d;
	struct pollfd pfd = { .events = POLLIN };
	int waited, r;

	if (!hv || !proc_name_valid(name))
		return -EINVAL;
	r = proc_lookup(hv, name, &d);
	if (r < 0)
		return r;
	if (!d) {
		(void)proc_mig_dom_gone(hv, name, 0, PROC_END_DESTROYED);
		/* Not running: a pid file left here names nobody. */
		proc_unlink_all(hv, name);
		return 0;
	}
	if (proc_pidfd_signal(d->pidfd, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	/* A guest stuck in D state (a hung disk) does not die at once; the
	 * caller escalates to fencing when this times out. */
	pfd.fd = d->pidfd;
	for (waited = 0; poll(&pfd, 1, 10) <= 0; waited += 10) {
		if (waited >= PROC_DESTROY_WAIT_MS)
			return -ETIMEDOUT;
	}
	return proc_finish(hv, d, PROC_END_DESTROYED);
}

static int
proc_shutdown(struct hv *hv, const char *name)
{
	struct proc_dom *d;
	int r;

	if (!hv || !proc_name_valid(name))
		return -EINVAL;
	r = proc_lookup(hv, name, &d);
	if (r < 0)
		return r;
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
		r = r < 0 ? r : -EAGAIN;
		goto out_drained;
	}
	*ev = hv->q[hv->q_head++];
	r = 0;
	if (hv->q_head < hv->q_len)
		return 0;
out_drained:
	/* The epoll fd stops being readable for the queue. */
	hv->q_head = hv->q_len = 0;
	(void)!read(hv->evfd, &cnt, sizeof(cnt));
	return r;
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
	.migrate_send = proc_mig_send,
	.save = proc_mig_send,         /* the guest pauses before it is sent */
	.migrate_receive = proc_mig_receive,
	.restore = proc_mig_restore,
	.resume = proc_mig_resume,
	.event_fd = proc_event_fd,
	.event_next = proc_event_next,
};
