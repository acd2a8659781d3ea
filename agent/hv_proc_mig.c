/* Live migration in the `proc` driver (the contract: agent/hv.h; the
 * files: agent/hv_proc.c; the guest's side: tests/guest.c).
 *
 * A test guest's whole migration state is its continuation (VM,
 * generation, host, disk, next seq, next position), so the stream is one
 * small frame:
 *
 *   "xenmesh-proc-migration 1 VM GENERATION LENGTH\n"
 *   LENGTH bytes: the guest's state file, as the paused guest wrote it
 *   "end\n"
 *
 * The receiver takes the stream as complete at its end, not at EOF: the
 * agent keeps the source's socket open until the commit.  Bytes after the
 * end, or EOF before it, fail the transfer.
 *
 * Source (migrate_send):
 *   PAUSING   NAME.mig removed, the pause request sent; the guest writes
 *             NAME.mig anew once paused, which the inotify watch of the
 *             directory tells us;
 *   WRITING   the frame goes out as the socket takes it (EPOLLOUT);
 *             all of it written, the guest still there: MIGRATE_SENT 0.
 * Destination (migrate_receive):
 *   READING   the frame comes in (EPOLLIN) and is checked: magic,
 *             version, VM, generation, the state's own vm and generation;
 *   STARTING  the state goes to NAME.inc and the guest is started from it
 *             as create() would, --incoming: it opens its disk, checks the
 *             state against it and writes NAME.ready: MIGRATE_RECEIVED 0;
 *   KILLING   not ready in time: killed; its death ends the transfer.
 *
 * Deadlines (one timerfd): PROC_MIG_PAUSE_S for the guest to pause,
 * PROC_MIG_IO_S without progress on the socket, PROC_MIG_READY_S for an
 * incoming guest.  The socket is watched through our own dup of it, so
 * the agent's fd number can never be mistaken for another; it is let go
 * when the transfer's part on the socket ends.  A failure is the event
 * with result < 0 and a reason; a guest that was being received and
 * failed is gone without an event of its own (nothing of it is left).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hv_proc_int.h"
#include "spawn.h"

#define PROC_MIG_MAGIC      "xenmesh-proc-migration"
#define PROC_MIG_VERSION    1u
#define PROC_MIG_END        "end\n"
#define PROC_MIG_HDR_MAX    160
#define PROC_MIG_STATE_MAX  8192
#define PROC_MIG_FRAME_MAX  (PROC_MIG_HDR_MAX + PROC_MIG_STATE_MAX + 8)
#define PROC_MIG_STATE_HEAD "xenmesh-guest-state 1\n"
#define PROC_MIG_PAUSE_S    30
#define PROC_MIG_IO_S       60
#define PROC_MIG_READY_S    30

enum proc_mig_phase {
	MIG_SEND_PAUSING,
	MIG_SEND_WRITING,
	MIG_RECV_READING,
	MIG_RECV_STARTING,
	MIG_RECV_KILLING,
};

struct proc_mig {
	struct proc_mig *next;
	enum proc_mig_phase phase;
	char name[VM_NAME_MAX];
	uint64_t generation;
	uint64_t stream_gen;            /* receive: the stream's (a restore:
					 * the saved instance's, earlier) */
	pid_t pid;                      /* its guest; 0 before a receive starts it */
	int fd;                         /* our dup of the agent's socket, or -1 */
	uint64_t deadline;              /* CLOCK_MONOTONIC ms; 0 none */
	struct vm_config *cfg;          /* receive: what the guest starts from */
	int fail;                       /* KILLING: the result to report */
	char why[HV_REASON_MAX];
	size_t hdr_len;                 /* receive: 0 until the header is in */
	size_t len;                     /* the frame's length, once known */
	size_t off;                     /* bytes written / read */
	char buf[PROC_MIG_FRAME_MAX];
};

int
proc_request(int pidfd, int req)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGRTMIN;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = req;
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGRTMIN, &si, 0) < 0)
		return -errno;
	return 0;
}

/* The guest takes requests: it has its handler of SIGRTMIN (before, the
 * signal's default action would kill it; a guest that takes none is not
 * paused).  From /proc/PID/status, "SigCgt:" in hex. */
static bool
mig_takes_requests(pid_t pid)
{
	char path[64], buf[2048];
	unsigned long long caught;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (proc_slurp(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strstr(buf, "\nSigCgt:");
	if (!p || sscanf(p + 8, "%llx", &caught) != 1)
		return false;
	return (caught >> (SIGRTMIN - 1)) & 1u;
}

uint64_t
proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool
mig_is_send(const struct proc_mig *m)
{
	return m->phase == MIG_SEND_PAUSING || m->phase == MIG_SEND_WRITING;
}

static struct proc_mig *
mig_find(const struct hv *hv, const char *name, int fd)
{
	for (struct proc_mig *m = hv->migs; m; m = m->next) {
		if (name ? strcmp(m->name, name) == 0 : m->fd == fd)
			return m;
	}
	return NULL;
}

/* The timer at the earliest deadline, or off. */
static void
mig_arm(struct hv *hv)
{
	struct itimerspec its = { 0 };
	uint64_t first = 0;

	for (struct proc_mig *m = hv->migs; m; m = m->next) {
		if (m->deadline && (!first || m->deadline < first))
			first = m->deadline;
	}
	its.it_value.tv_sec = (time_t)(first / 1000u);
	its.it_value.tv_nsec = (long)(first % 1000u) * 1000000L;
	(void)timerfd_settime(hv->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Stop watching the socket and let our dup of it go. */
static void
mig_release_fd(struct hv *hv, struct proc_mig *m)
{
	if (m->fd < 0)
		return;
	(void)epoll_ctl(hv->epfd, EPOLL_CTL_DEL, m->fd, NULL);
	close(m->fd);
	m->fd = -1;
}

static void
mig_free(struct hv *hv, struct proc_mig *m)
{
	for (struct proc_mig **p = &hv->migs; *p; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			break;
		}
	}
	mig_release_fd(hv, m);
	free(m->cfg);
	free(m);
}

/* The transfer ends: its event, result 0 or -errno with a reason. */
static int
mig_end(struct hv *hv, struct proc_mig *m, int result, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
mig_end(struct hv *hv, struct proc_mig *m, int result, const char *fmt, ...)
{
	char why[HV_REASON_MAX] = "";
	enum hv_event_kind kind = mig_is_send(m) ? HV_EVENT_MIGRATE_SENT :
				  HV_EVENT_MIGRATE_RECEIVED;
	va_list ap;
	int r;

	if (fmt) {
		va_start(ap, fmt);
		(void)vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	r = proc_queue_result(hv, kind, m->name, m->generation, result, why);
	mig_free(hv, m);
	mig_arm(hv);
	return r;
}

/* A transfer on a dup of fd, watched for `events` (0: errors only). */
static int
mig_new(struct hv *hv, const char *name, uint64_t generation, int fd,
	uint32_t events, struct proc_mig **out)
{
	struct epoll_event ee = { .events = events };
	struct proc_mig *m;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->generation = generation;
	m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (m->fd < 0) {
		r = -errno;
		goto out_free;
	}
	ee.data.u64 = PROC_TAG_MIG | (uint64_t)m->fd;
	if (epoll_ctl(hv->epfd, EPOLL_CTL_ADD, m->fd, &ee) < 0) {
		r = -errno;
		goto out_close;
	}
	m->next = hv->migs;
	hv->migs = m;
	*out = m;
	return 0;
out_close:
	close(m->fd);
out_free:
	free(m);
	return r;
}

/* The guest's state is this domain's: its head, vm and generation lines
 * (the guest checks the rest against its disk).  0 or -EBADMSG. */
static int
mig_state_check(const char *state, size_t len, const char *name,
		uint64_t generation, char *why, size_t whylen)
{
	char text[PROC_MIG_STATE_MAX + 1], vm[VM_NAME_MAX + 8], gen[48];

	if (len >= sizeof(text) || memchr(state, '\0', len)) {
		snprintf(why, whylen, "the guest state is not text");
		return -EBADMSG;
	}
	memcpy(text, state, len);
	text[len] = '\0';
	snprintf(vm, sizeof(vm), "\nvm %s\n", name);
	snprintf(gen, sizeof(gen), "\ngeneration %" PRIu64 "\n", generation);
	if (strncmp(text, PROC_MIG_STATE_HEAD, strlen(PROC_MIG_STATE_HEAD)) != 0 ||
	    !strstr(text, "\nnext-seq ") || !strstr(text, "\nnext-pos ")) {
		snprintf(why, whylen, "not a guest state");
		return -EBADMSG;
	}
	if (!strstr(text, vm) || !strstr(text, gen)) {
		snprintf(why, whylen, "the guest state is not of VM %s generation %"
			 PRIu64, name, generation);
		return -EBADMSG;
	}
	return 0;
}

/* ---- the source ------------------------------------------------------------- */

/* Our guest of the transfer, running. */
static bool
mig_guest_alive(struct hv *hv, const struct proc_mig *m)
{
	struct proc_dom *d = NULL;

	(void)proc_lookup(hv, m->name, &d);
	return d && d->rec.pid == m->pid && !proc_dom_exited(d);
}

/* Writes what the socket takes; the end once all is written. */
static int
mig_write(struct hv *hv, struct proc_mig *m)
{
	while (m->off < m->len) {
		ssize_t n = send(m->fd, m->buf + m->off, m->len - m->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return mig_end(hv, m, -errno, "stream: %s after %zu of %zu "
				       "bytes", strerror(errno), m->off, m->len);
		m->off += (size_t)n;
		m->deadline = proc_now_ms() + PROC_MIG_IO_S * 1000u;
	}
	if (!mig_guest_alive(hv, m))
		return mig_end(hv, m, -ESRCH, "the guest exited after pausing");
	return mig_end(hv, m, 0, NULL);
}

/* PAUSING: the guest's fresh NAME.mig, if it is there, becomes the
 * frame. */
static int
mig_send_state(struct hv *hv, struct proc_mig *m)
{
	char path[PATH_MAX], state[PROC_MIG_STATE_MAX], why[HV_REASON_MAX];
	struct epoll_event ee = { .events = EPOLLOUT,
				  .data.u64 = PROC_TAG_MIG | (uint64_t)m->fd };
	ssize_t n;
	int r, h;

	r = proc_path(hv, m->name, ".mig", path, sizeof(path));
	if (r < 0)
		return mig_end(hv, m, r, "state file: %s", strerror(-r));
	n = proc_slurp(path, state, sizeof(state));
	if (n == -ENOENT)
		return 0;                       /* not paused yet */
	if (n < 0 || (size_t)n >= sizeof(state) - 1)
		return mig_end(hv, m, n < 0 ? (int)n : -EFBIG, "state file: %s",
			       strerror(n < 0 ? (int)-n : EFBIG));
	r = mig_state_check(state, (size_t)n, m->name, m->generation, why,
			    sizeof(why));
	if (r < 0)
		return mig_end(hv, m, r, "%s", why);
	h = snprintf(m->buf, PROC_MIG_HDR_MAX, PROC_MIG_MAGIC " %u %s %" PRIu64
		     " %zu\n", PROC_MIG_VERSION, m->name, m->generation, (size_t)n);
	if (h < 0 || h >= PROC_MIG_HDR_MAX)
		return mig_end(hv, m, -ENAMETOOLONG, "stream header too long");
	memcpy(m->buf + h, state, (size_t)n);
	memcpy(m->buf + h + n, PROC_MIG_END, strlen(PROC_MIG_END));
	m->len = (size_t)h + (size_t)n + strlen(PROC_MIG_END);
	m->off = 0;
	if (epoll_ctl(hv->epfd, EPOLL_CTL_MOD, m->fd, &ee) < 0)
		return mig_end(hv, m, -errno, "epoll: %s", strerror(errno));
	m->phase = MIG_SEND_WRITING;
	m->deadline = proc_now_ms() + PROC_MIG_IO_S * 1000u;
	mig_arm(hv);
	return mig_write(hv, m);
}

int
proc_mig_send(struct hv *hv, const char *name, int fd)
{
	struct proc_mig *m;
	struct proc_dom *d;
	int r;

	if (!hv || !proc_name_valid(name) || fd < 0)
		return -EINVAL;
	r = proc_lookup(hv, name, &d);
	if (r < 0)
		return r;
	if (!d || proc_dom_exited(d))
		return -ENOENT;
	/* under way, or received and not resumed yet */
	if (mig_find(hv, name, -1) || proc_file_exists(hv, name, ".inc"))
		return -EBUSY;
	if (!mig_takes_requests(d->rec.pid))
		return -EAGAIN;                 /* just started: not yet */
	r = mig_new(hv, name, d->rec.generation, fd, 0, &m);
	if (r < 0)
		return r;
	m->pid = d->rec.pid;
	/* A paused guest writes it anew on this request: the one we read
	 * is surely from after it. */
	proc_unlink(hv, name, ".mig");
	r = proc_request(d->pidfd, PROC_REQ_PAUSE);
	if (r < 0) {
		mig_free(hv, m);
		return r == -ESRCH ? -ENOENT : r;
	}
	m->phase = MIG_SEND_PAUSING;
	m->deadline = proc_now_ms() + PROC_MIG_PAUSE_S * 1000u;
	mig_arm(hv);
	return 0;
}

/* ---- the destination ------------------------------------------------------- */

/* The header line in buf[0 .. hdr_len): 0, or -errno with the reason. */
static int
mig_parse_header(struct proc_mig *m, char *why, size_t whylen)
{
	char line[PROC_MIG_HDR_MAX], magic[32], vm[VM_NAME_MAX];
	uint64_t gen;
	unsigned ver;
	size_t len;
	int used = 0;

	memcpy(line, m->buf, m->hdr_len - 1);
	line[m->hdr_len - 1] = '\0';
	if (sscanf(line, "%31s %u", magic, &ver) != 2 ||
	    strcmp(magic, PROC_MIG_MAGIC) != 0) {
		snprintf(why, whylen, "not a proc migration stream");
		return -EBADMSG;
	}
	if (ver != PROC_MIG_VERSION) {
		snprintf(why, whylen, "stream version %u, not %u", ver,
			 PROC_MIG_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (sscanf(line, "%*s %*u %63s %" SCNu64 " %zu%n", vm, &gen, &len,
		   &used) != 3 || (size_t)used != m->hdr_len - 1 ||
	    len > PROC_MIG_STATE_MAX) {
		snprintf(why, whylen, "malformed stream header");
		return -EBADMSG;
	}
	if (strcmp(vm, m->name) != 0) {
		snprintf(why, whylen, "the stream is of VM %s, not %s", vm, m->name);
		return -EINVAL;
	}
	if (gen != m->stream_gen) {
		snprintf(why, whylen, "the stream is of generation %" PRIu64 ", not %"
			 PRIu64, gen, m->stream_gen);
		return -ESTALE;
	}
	m->len = m->hdr_len + len + strlen(PROC_MIG_END);
	return 0;
}

/* -EAGAIN more is to come, 0 the frame is complete and good, or -errno
 * with the reason. */
static int
mig_parse(struct proc_mig *m, char *why, size_t whylen)
{
	size_t end_len = strlen(PROC_MIG_END);
	char *nl;
	int r;

	if (!m->hdr_len) {
		nl = memchr(m->buf, '\n', m->off);
		if (!nl) {
			if (m->off < PROC_MIG_HDR_MAX)
				return -EAGAIN;
			snprintf(why, whylen, "not a proc migration stream");
			return -EBADMSG;
		}
		m->hdr_len = (size_t)(nl - m->buf) + 1;
		r = mig_parse_header(m, why, whylen);
		if (r < 0)
			return r;
	}
	if (m->off < m->len)
		return -EAGAIN;
	if (m->off > m->len) {
		snprintf(why, whylen, "bytes after the end of the stream");
		return -EBADMSG;
	}
	if (memcmp(m->buf + m->len - end_len, PROC_MIG_END, end_len) != 0) {
		snprintf(why, whylen, "no end of stream after the state");
		return -EBADMSG;
	}
	return mig_state_check(m->buf + m->hdr_len, m->len - m->hdr_len - end_len,
			       m->name, m->stream_gen, why, whylen);
}

/* NAME.inc, the state the guest starts from.  A restore's goes on as the
 * new instance: its generation line says so, and "resumed-from" names the
 * saved one, whose last record the guest checks against its disk. */
static int
mig_state_write(struct hv *hv, struct proc_mig *m)
{
	const char *state = m->buf + m->hdr_len;
	size_t len = m->len - m->hdr_len - strlen(PROC_MIG_END);
	char old[48], *text = NULL, *at;
	int r, n;

	if (m->stream_gen == m->generation)
		return proc_file_write(hv, m->name, ".inc", state, len);
	snprintf(old, sizeof(old), "\ngeneration %" PRIu64 "\n", m->stream_gen);
	at = memmem(state, len, old, strlen(old));
	if (at == NULL)
		return -EBADMSG;        /* mig_state_check found it */
	n = asprintf(&text, "%.*s\ngeneration %" PRIu64 "\n%.*sresumed-from %"
		     PRIu64 "\n", (int)(at - state), state, m->generation,
		     (int)(len - (size_t)(at - state) - strlen(old)),
		     at + strlen(old), m->stream_gen);
	if (n < 0)
		return -ENOMEM;
	r = proc_file_write(hv, m->name, ".inc", text, (size_t)n);
	free(text);
	return r;
}

/* The whole stream is in: start the guest from it, paused. */
static int
mig_recv_start(struct hv *hv, struct proc_mig *m)
{
	int r;

	mig_release_fd(hv, m);
	/* before the start: its memory is not promised twice */
	m->phase = MIG_RECV_STARTING;
	r = mig_state_write(hv, m);
	if (r < 0)
		return mig_end(hv, m, r, "cannot write the state: %s", strerror(-r));
	r = proc_start(hv, m->cfg, m->generation, PROC_START_INCOMING, &m->pid);
	if (r < 0) {
		proc_unlink(hv, m->name, ".inc");
		return mig_end(hv, m, r, "cannot start the guest: %s", strerror(-r));
	}
	m->deadline = proc_now_ms() + PROC_MIG_READY_S * 1000u;
	mig_arm(hv);
	return 0;
}

static int
mig_read(struct hv *hv, struct proc_mig *m)
{
	char why[HV_REASON_MAX];
	int r;

	for (;;) {
		size_t want = m->hdr_len ? m->len - m->off :
			      PROC_MIG_HDR_MAX - m->off;
		ssize_t n = recv(m->fd, m->buf + m->off, want ? want : 1,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return mig_end(hv, m, -errno, "stream: %s after %zu bytes",
				       strerror(errno), m->off);
		if (n == 0)
			return mig_end(hv, m, -EPIPE, "the stream ended after %zu "
				       "bytes", m->off);
		m->off += (size_t)n;
		m->deadline = proc_now_ms() + PROC_MIG_IO_S * 1000u;
		r = mig_parse(m, why, sizeof(why));
		if (r == 0)
			return mig_recv_start(hv, m);
		if (r != -EAGAIN)
			return mig_end(hv, m, r, "%s", why);
	}
}

int
proc_mig_receive(struct hv *hv, const struct vm_config *cfg,
		 uint64_t generation, int fd)
{
	return proc_mig_restore(hv, cfg, generation, generation, fd);
}

int
proc_mig_restore(struct hv *hv, const struct vm_config *cfg,
		 uint64_t generation, uint64_t saved_generation, int fd)
{
	struct proc_mig *m;
	int r;

	if (!hv || !cfg || fd < 0 || saved_generation == 0 ||
	    saved_generation > generation)
		return -EINVAL;
	if (proc_name_valid(cfg->name) && mig_find(hv, cfg->name, -1))
		return -EBUSY;
	/* what create() would refuse at once: arguments, name, memory */
	r = proc_start(hv, cfg, generation, PROC_START_CHECK, NULL);
	if (r < 0)
		return r;
	r = mig_new(hv, cfg->name, generation, fd, EPOLLIN, &m);
	if (r < 0)
		return r;
	m->stream_gen = saved_generation;
	m->cfg = malloc(sizeof(*m->cfg));
	if (!m->cfg) {
		mig_free(hv, m);
		return -ENOMEM;
	}
	*m->cfg = *cfg;
	m->phase = MIG_RECV_READING;
	m->deadline = proc_now_ms() + PROC_MIG_IO_S * 1000u;
	mig_arm(hv);
	return 0;
}

bool
proc_mig_receiving(const struct hv *hv, const char *name)
{
	const struct proc_mig *m = name ? mig_find(hv, name, -1) : NULL;

	return m && !mig_is_send(m);
}

uint64_t
proc_mig_reserved_mb(const struct hv *hv)
{
	uint64_t mb = 0;

	for (const struct proc_mig *m = hv->migs; m; m = m->next) {
		if (m->phase == MIG_RECV_READING)
			mb += m->cfg->memory_mb;
	}
	return mb;
}

/* ---- both sides --------------------------------------------------------------- */

int
proc_mig_resume(struct hv *hv, const char *name)
{
	struct proc_mig *m;
	struct proc_dom *d;
	int r;

	if (!hv || !proc_name_valid(name))
		return -EINVAL;
	m = mig_find(hv, name, -1);
	if (m && !mig_is_send(m))
		return -EBUSY;                  /* not received yet */
	r = proc_lookup(hv, name, &d);
	if (r < 0)
		return r;
	if (!d || proc_dom_exited(d))
		return -ENOENT;
	if (m)
		(void)mig_end(hv, m, -ECANCELED, "resumed before the stream was "
			      "sent");
	if (!mig_takes_requests(d->rec.pid))
		return 0;                       /* it runs: never paused yet */
	r = proc_request(d->pidfd, PROC_REQ_RESUME);
	if (r < 0)
		return r == -ESRCH ? -ENOENT : r;
	/* Not paused any more as list() tells it (the guest removes them
	 * too when it takes the request). */
	proc_unlink(hv, name, ".mig");
	proc_unlink(hv, name, ".inc");
	proc_unlink(hv, name, ".ready");
	return 0;
}

static int
mig_on_fd(struct hv *hv, int fd, uint32_t events)
{
	struct proc_mig *m = mig_find(hv, NULL, fd);

	if (!m)
		return 0;
	switch (m->phase) {
	case MIG_SEND_PAUSING:
		if (events & (EPOLLHUP | EPOLLERR))
			return mig_end(hv, m, -EPIPE, "the stream was shut down "
				       "before the guest paused");
		return 0;
	case MIG_SEND_WRITING:
		return mig_write(hv, m);
	case MIG_RECV_READING:
		return mig_read(hv, m);
	default:
		return 0;
	}
}

static int
mig_on_files(struct hv *hv)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct proc_mig *m;
	int r = 0, rr;

	/* Which file it was matters not: each waiting transfer looks for
	 * its own (also right after an overflow of the queue). */
	while (read(hv->infd, buf, sizeof(buf)) > 0)
		;
again:
	/* Each pass after a change of phase or an end: the list changed. */
	for (m = hv->migs; m; m = m->next) {
		if (m->phase == MIG_SEND_PAUSING &&
		    proc_file_exists(hv, m->name, ".mig"))
			rr = mig_send_state(hv, m);
		else if (m->phase == MIG_RECV_STARTING &&
			 proc_file_exists(hv, m->name, ".ready") &&
			 mig_guest_alive(hv, m))
			rr = mig_end(hv, m, 0, NULL);
		else
			continue;
		if (rr < 0)
			r = rr;
		goto again;
	}
	return r;
}

static int
mig_on_timer(struct hv *hv)
{
	uint64_t now = proc_now_ms(), ticks;
	struct proc_mig *m;
	struct proc_dom *d;
	int r = 0;

	(void)!read(hv->tfd, &ticks, sizeof(ticks));
again:
	for (m = hv->migs; m; m = m->next) {
		if (!m->deadline || m->deadline > now)
			continue;
		m->deadline = 0;
		switch (m->phase) {
		case MIG_SEND_PAUSING:
			r = mig_end(hv, m, -ETIMEDOUT, "the guest did not pause "
				    "within %d s", PROC_MIG_PAUSE_S);
			goto again;
		case MIG_SEND_WRITING:
		case MIG_RECV_READING:
			r = mig_end(hv, m, -ETIMEDOUT, "the stream did not move "
				    "for %d s", PROC_MIG_IO_S);
			goto again;
		case MIG_RECV_STARTING:
			d = NULL;
			(void)proc_lookup(hv, m->name, &d);
			if (!d || d->rec.pid != m->pid ||
			    proc_pidfd_signal(d->pidfd, SIGKILL) < 0) {
				r = mig_end(hv, m, -ETIMEDOUT, "the guest was not "
					    "ready within %d s", PROC_MIG_READY_S);
				goto again;
			}
			/* its death ends the transfer */
			m->phase = MIG_RECV_KILLING;
			m->fail = -ETIMEDOUT;
			snprintf(m->why, sizeof(m->why), "the guest was not ready "
				 "within %d s", PROC_MIG_READY_S);
			break;
		default:
			break;
		}
	}
	mig_arm(hv);
	return r;
}

/* The last line the guest wrote to its log: why it stopped. */
static void
mig_log_tail(const struct hv *hv, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], buf[512];
	ssize_t n = -1;
	char *p;
	int fd;

	out[0] = '\0';
	if (proc_path(hv, name, ".log", path, sizeof(path)) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (lseek(fd, 0, SEEK_END) > (off_t)sizeof(buf) - 1)
		(void)lseek(fd, -(off_t)(sizeof(buf) - 1), SEEK_END);
	else
		(void)lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	p = strrchr(buf, '\n');
	snprintf(out, len, "%s", p ? p + 1 : buf);
}

enum proc_end
proc_mig_dom_gone(struct hv *hv, const char *name, pid_t pid, enum proc_end how)
{
	struct proc_mig *m = mig_find(hv, name, -1);
	char last[HV_REASON_MAX];

	/* another instance of the name: not the transfer's */
	if (!m || m->pid != pid)
		return how;
	if (how == PROC_END_DESTROYED) {
		(void)mig_end(hv, m, -ECANCELED, "destroyed");
		return how;
	}
	switch (m->phase) {
	case MIG_SEND_PAUSING:
	case MIG_SEND_WRITING:
		(void)mig_end(hv, m, -ESRCH, "the guest exited");
		return how;
	case MIG_RECV_STARTING:
		mig_log_tail(hv, name, last, sizeof(last));
		(void)mig_end(hv, m, -EIO, "the incoming guest exited%s%s",
			      last[0] ? ": " : "", last);
		return PROC_END_SILENT;
	case MIG_RECV_KILLING:
		(void)mig_end(hv, m, m->fail, "%s", m->why);
		return PROC_END_SILENT;
	default:
		return how;
	}
}

int
proc_mig_on_event(struct hv *hv, const struct epoll_event *e)
{
	uint64_t tag = e->data.u64;

	if (tag == PROC_TAG_INOTIFY)
		return mig_on_files(hv);
	if (tag == PROC_TAG_TIMER)
		return mig_on_timer(hv);
	if (tag != PROC_TAG_EVFD && (tag & PROC_TAG_MIG))
		return mig_on_fd(hv, (int)(tag & ~PROC_TAG_MIG), e->events);
	return -ENOENT;
}

int
proc_mig_open(struct hv *hv)
{
	struct epoll_event ee = { .events = EPOLLIN };

	hv->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	hv->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (hv->infd < 0 || hv->tfd < 0 ||
	    inotify_add_watch(hv->infd, hv->dir, IN_MOVED_TO) < 0)
		return -errno;
	ee.data.u64 = PROC_TAG_INOTIFY;
	if (epoll_ctl(hv->epfd, EPOLL_CTL_ADD, hv->infd, &ee) < 0)
		return -errno;
	ee.data.u64 = PROC_TAG_TIMER;
	if (epoll_ctl(hv->epfd, EPOLL_CTL_ADD, hv->tfd, &ee) < 0)
		return -errno;
	return 0;
}

void
proc_mig_close(struct hv *hv)
{
	while (hv->migs)
		mig_free(hv, hv->migs);
	if (hv->infd >= 0)
		close(hv->infd);
	if (hv->tfd >= 0)
		close(hv->tfd);
	hv->infd = hv->tfd = -1;
}
