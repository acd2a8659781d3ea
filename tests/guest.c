/* The test guest: what a `proc` domain runs.
 *
 *   guest --vm NAME --host HOST --generation G --disk DISK
 *         [--initiator IQN] [--replacement-timeout S]
 *         [--rate HZ] [--exit-file PATH] [--mig-file PATH]
 *         [--incoming STATEFILE [--ready-file PATH]]
 *         [--reboot-after N | --poweroff-after N | --crash-after N]
 *
 * It appends one record (tests/guest_record.h) per tick to its disk, each
 * durable before the next, never over another record, so that
 * check-writers can prove afterwards that no two instances wrote at once.
 *
 * DISK is a file (O_APPEND | O_DSYNC, records back to back) or
 * iscsi://PORTAL[:PORT]/TARGET-IQN/LUN, reached with libiscsi as the
 * initiator --initiator IQN (required there; ignored for a file): the rig
 * has no kernel initiator, so the guest is its own, under its host's name.
 * On a LUN record i fills block i (LBA i: the record, then zeros to the
 * block size), written by one WRITE(16) with FUA.  At start the guest
 * scans from LBA 0 for the first all-zero block and appends from there, so
 * a restarted or failed-over instance continues after the previous one.
 *
 * Losing the iSCSI connection (the SAN node died, its portal address moves
 * to the other node) is not a failure: the guest logs in again with a fresh
 * libiscsi context, each try bounded to GUEST_ISCSI_TRY_MS, for up to
 * --replacement-timeout seconds (default 120, like open-iscsi's
 * node.session.timeo.replacement_timeout), then writes the interrupted
 * record again at the same LBA (the same bytes, whether or not they got
 * there) and goes on: same generation, seq goes on.  --replacement-timeout
 * 0: one try only.  A login the target REJECTS (iSCSI login status class
 * 2: "Target not found" once the fence took the host's initiator name off
 * the target's ACL, authorization failure, target removed) is the storage
 * fence: the guest stops at once with status 4.  (tgt 1.0.85 with no
 * target at all, or in state offline, closes the connection instead of
 * answering the login: that is an outage, not a refusal.)  libiscsi's own
 * reconnect is off: it would retry a refused login for ever.
 *
 * Live migration (the proc driver's migrate_send / migrate_receive):
 *
 *   pause    SIGUSR1, or SIGRTMIN queued with value 1 (sigqueue);
 *   resume   SIGUSR2, or SIGRTMIN queued with value 2.
 * The last request taken wins.  The proc driver sends the queued SIGRTMIN
 * form: queued, its requests are taken in the order sent.  (Two plain
 * signals pending at once are taken SIGUSR1 first, whatever the order they
 * were sent in.)
 *
 * On a pause the record in flight is finished (durable, or failed as
 * usual), then nothing more is written: the guest publishes its
 * continuation state in --mig-file (temp file + rename; again on every
 * further pause request) and waits, touching the disk no more.  A resume,
 * also one that comes before the pause was done, makes it go on where it
 * stopped: same generation, seq going on, same host.  The state file:
 *
 *   xenmesh-guest-state 1
 *   vm NAME
 *   generation G
 *   host HOST            the host that paused
 *   disk DISK
 *   next-seq N           the seq of the next record
 *   next-pos P           where it goes: a file's byte offset, a LUN's LBA
 *
 * --incoming STATEFILE starts the guest on the destination from such a
 * state: it checks that the state is this VM's, generation and disk, opens
 * the disk (an iscsi:// disk: logs in as --initiator, this host's name; the
 * target admits both hosts during a migration), checks that the disk ends
 * at next-pos and that the record before it is this generation's seq N-1,
 * writes nothing, publishes --ready-file (temp file + rename) and waits
 * for a resume.  Then it writes from seq N at next-pos, same generation,
 * the records naming this host: no gap, no overlap.  A state with
 * "resumed-from G0" (a save image resumed as a new instance: the proc
 * driver's restore) wants the record before it of generation G0 instead,
 * and goes on as --generation.  On the resume it
 * removes STATEFILE and --ready-file; a source removes --mig-file.
 * SIGTERM while paused: poweroff, as always.
 *
 * Exits, as the proc driver reads them:
 *   SIGTERM / SIGINT, --poweroff-after   exit file "poweroff", status 0
 *   --reboot-after                       exit file "reboot", status 0
 *   --crash-after                        abort(), no exit file
 *   usage error                          status 2
 *   write failure                        status 3, no exit file (a crash)
 *   disk unreachable for longer than
 *   --replacement-timeout                status 3, exit file "storage"
 *   storage access refused: fenced       status 4, exit file "fenced"
 *   --incoming state malformed, or not
 *   this VM's / generation / disk end    status 5, no exit file
 * A failed write stops it at once (status 3 or 4): a fenced guest must not
 * go on.  The exit file is written whole (temp file + rename) before
 * exiting, so the driver never reads half of it when the process-exit
 * event arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "guest_record.h"

#define GUEST_RATE_DEFAULT   40
#define GUEST_RATE_MAX       10000
#define GUEST_EXIT_USAGE     2
#define GUEST_EXIT_IO        3
#define GUEST_EXIT_FENCED    4
#define GUEST_EXIT_MIGRATION 5

/* Pause and resume requests: the value of a queued SIGRTMIN. */
#define GUEST_REQ_PAUSE      1
#define GUEST_REQ_RESUME     2
#define GUEST_STATE_MAGIC    "xenmesh-guest-state 1"
#define GUEST_STATE_MAX      8192

#define GUEST_ISCSI_PREFIX              "iscsi://"
#define GUEST_ISCSI_REPLACEMENT_DEFAULT 120     /* s */
#define GUEST_ISCSI_REPLACEMENT_MAX     86400
/* One connect, login, or command: a black-holed portal costs this long,
 * not forever. */
#define GUEST_ISCSI_TRY_MS              5000
#define GUEST_ISCSI_PAUSE_MS            500     /* between two failed tries */
#define GUEST_ISCSI_POLL_MS             100
#define GUEST_ISCSI_SCAN_BYTES          (1024 * 1024)
/* UNIT ATTENTION, BUSY, TASK SET FULL: the same command again, this often. */
#define GUEST_ISCSI_BUSY_RETRIES        8

static volatile sig_atomic_t guest_stop;
/* The last pause or resume request was a pause; and how many came. */
static volatile sig_atomic_t guest_want_pause;
static volatile sig_atomic_t guest_requests;

enum guest_end {
	GUEST_END_NONE,
	GUEST_END_POWEROFF,
	GUEST_END_REBOOT,
	GUEST_END_CRASH,
	GUEST_END_REFUSED,              /* the --incoming state does not fit */
};

struct guest_opts {
	const char *vm;
	const char *host;
	const char *disk;
	const char *exit_file;
	const char *mig_file;           /* where a pause publishes the state */
	const char *incoming;           /* the state to start from, or NULL */
	const char *ready_file;         /* incoming: published once ready */
	const char *initiator;
	unsigned replacement_timeout;   /* s, iscsi:// only */
	uint64_t generation;
	bool have_generation;
	unsigned rate;
	enum guest_end end;             /* what happens after end_after records */
	uint64_t end_after;
};

static uint64_t
guest_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What a paused guest publishes and an incoming one starts from (see the
 * header comment). */
struct guest_state {
	char vm[GUEST_RECORD_NAME_LEN];
	char host[GUEST_RECORD_NAME_LEN];
	char disk[GUEST_STATE_MAX];
	uint64_t generation;
	uint64_t next_seq;
	uint64_t next_pos;
	uint64_t resumed_from;  /* 0, or the saved instance a restore goes on from */
};

/* The disk is reached through one backend, picked by the disk's URL
 * scheme; the writer loop does not know which.
 *
 * open sets *ctx whenever it allocated one, also when it fails, so that
 * the caller can ask error() why; close takes NULL.  open and append
 * return 0, -EACCES when the storage refused access (fenced), -EINTR
 * when a stop signal came while the disk was unreachable, -EINVAL for a
 * malformed disk name (open), or another -errno. */
struct disk_backend {
	const char *prefix;             /* URL scheme this backend takes, "" any path */
	int (*open)(void **ctx, const char *target, const struct guest_opts *o);
	int (*append)(void *ctx, const uint8_t *buf, size_t len);
	/* Where the next record goes (a file: byte offset; a LUN: LBA) and,
	 * when last is not NULL, the record just before it (-ENODATA: there
	 * is none).  Without last it touches no storage. */
	int (*tail)(void *ctx, uint64_t *pos, uint8_t *last);
	/* The storage's own words on the last failure, or NULL. */
	const char *(*error)(void *ctx);
	void (*close)(void *ctx);
};

struct disk {
	const struct disk_backend *be;
	void *ctx;
};

/* ---- file ------------------------------------------------------------ */

struct file_disk {
	int fd;
};

static int
file_disk_open(void **ctx, const char *target, const struct guest_opts *o)
{
	struct file_disk *d = calloc(1, sizeof(*d));

	(void)o;
	if (!d)
		return -ENOMEM;
	/* O_APPEND: never overwrite, even when two instances share the
	 * file; O_DSYNC: a record counts once it is on the disk.  Read
	 * too: an incoming guest checks the last record. */
	d->fd = open(target, O_RDWR | O_APPEND | O_CREAT | O_DSYNC |
		     O_CLOEXEC, 0644);
	if (d->fd < 0) {
		int r = -errno;

		free(d);
		return r;
	}
	*ctx = d;
	return 0;
}

/* One write(2) per record: a short write is a failure, not retried, since
 * the rest would land after another writer's record. */
static int
file_disk_append(void *ctx, const uint8_t *buf, size_t len)
{
	struct file_disk *d = ctx;
	ssize_t n;

	do {
		n = write(d->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

static int
file_disk_tail(void *ctx, uint64_t *pos, uint8_t *last)
{
	struct file_disk *d = ctx;
	struct stat st;
	ssize_t n;

	if (fstat(d->fd, &st) < 0)
		return -errno;
	*pos = (uint64_t)st.st_size;
	if (!last)
		return 0;
	if (*pos < GUEST_RECORD_SIZE)
		return -ENODATA;
	do {
		n = pread(d->fd, last, GUEST_RECORD_SIZE,
			  st.st_size - GUEST_RECORD_SIZE);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == GUEST_RECORD_SIZE ? 0 : -EIO;
}

static void
file_disk_close(void *ctx)
{
	struct file_disk *d = ctx;

	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

static const struct disk_backend disk_backend_file = {
	.prefix = "",
	.open = file_disk_open,
	.append = file_disk_append,
	.tail = file_disk_tail,
	.close = file_disk_close,
};

/* ---- iscsi:// (libiscsi) ----------------------------------------------
 *
 * Everything runs through libiscsi's async API on our own poll loop, one
 * command at a time, each with a deadline: the sync API waits without end
 * on a portal that accepts and never answers, and libiscsi's automatic
 * reconnect (on by default) retries a refused login for ever, so it is
 * off (iscsi_set_noautoreconnect) and iscsi_disk_connect() logs in again
 * itself, with a fresh context per try.
 *
 * Errors inside: -ENOTCONN / -ETIMEDOUT the transport (connect failed,
 * connection lost, no answer in time: log in again), -EACCES the target
 * rejected the login (fenced), -EAGAIN a status worth the same command
 * again (UNIT ATTENTION, BUSY, TASK SET FULL), -EIO any other SCSI
 * status. */

enum iscsi_cmd {
	ISCSI_CMD_TUR,
	ISCSI_CMD_READCAP16,
	ISCSI_CMD_READ16,
	ISCSI_CMD_WRITE16,
};

static const char *const iscsi_cmd_name[] = {
	[ISCSI_CMD_TUR] = "TEST UNIT READY",
	[ISCSI_CMD_READCAP16] = "READ CAPACITY(16)",
	[ISCSI_CMD_READ16] = "READ(16)",
	[ISCSI_CMD_WRITE16] = "WRITE(16)",
};

/* The one command or login step in flight.  Its callback may come after
 * we gave up on it (timeout), when its context is destroyed: `waiting`
 * false then, and the callback only frees the task. */
struct iscsi_op {
	bool waiting;
	bool done;
	int status;
	struct scsi_task *task;
};

struct iscsi_disk {
	const struct guest_opts *o;
	char portal[MAX_STRING_SIZE + 1];
	char target[MAX_STRING_SIZE + 1];
	int lun;
	struct iscsi_context *iscsi;    /* NULL while not logged in */
	struct iscsi_op op;
	bool in_login;                  /* a stop signal cuts the wait short */
	uint32_t block_size;            /* 0 until the first login */
	uint64_t n_blocks;
	uint64_t next_lba;              /* where the next record goes */
	uint8_t *block;                 /* the record being written */
	char error[512];                /* why the last step failed */
};

static void
iscsi_disk_conn_cb(struct iscsi_context *iscsi, int status, void *command_data,
		   void *private_data)
{
	struct iscsi_disk *d = private_data;

	(void)iscsi;
	(void)command_data;
	if (!d->op.waiting)
		return;
	d->op.done = true;
	d->op.status = status;
}

static void
iscsi_disk_task_cb(struct iscsi_context *iscsi, int status, void *command_data,
		   void *private_data)
{
	struct iscsi_disk *d = private_data;
	struct scsi_task *task = command_data;

	(void)iscsi;
	if (!d->op.waiting) {
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	d->op.done = true;
	d->op.status = status;
	d->op.task = task;
}

static void
iscsi_disk_op_start(struct iscsi_disk *d)
{
	memset(&d->op, 0, sizeof(d->op));
	d->op.waiting = true;
}

/* The context goes; whatever it still holds is cancelled. */
static void
iscsi_disk_drop(struct iscsi_disk *d)
{
	d->op.waiting = false;
	if (d->iscsi) {
		(void)iscsi_destroy_context(d->iscsi);
		d->iscsi = NULL;
	}
}

static void
iscsi_disk_seterr(struct iscsi_disk *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
iscsi_disk_seterr(struct iscsi_disk *d, const char *fmt, ...)
{
	va_list ap;

	size_t n;

	va_start(ap, fmt);
	(void)vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	/* One line: libiscsi ends some of its texts with a newline. */
	for (char *p = d->error; *p; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	n = strlen(d->error);
	while (n && d->error[n - 1] == ' ')
		d->error[--n] = '\0';
}

/* Services the context until the op is done: 0 (its status says how it
 * went), -ETIMEDOUT at the deadline, -ENOTCONN when libiscsi gave up on
 * the connection, -EINTR on a stop signal while logging in (a command
 * in flight is waited for: it is bounded and the record may be there). */
static int
iscsi_disk_wait(struct iscsi_disk *d, uint64_t deadline)
{
	uint64_t start = guest_now_ns(CLOCK_MONOTONIC);

	while (!d->op.done) {
		uint64_t now = guest_now_ns(CLOCK_MONOTONIC);
		struct pollfd pfd;
		uint64_t ms;
		int n;

		if (now >= deadline) {
			iscsi_disk_seterr(d, "no answer for %" PRIu64 " ms",
					  (now - start) / 1000000u);
			return -ETIMEDOUT;
		}
		ms = (deadline - now) / 1000000u + 1;
		if (ms > GUEST_ISCSI_POLL_MS)
			ms = GUEST_ISCSI_POLL_MS;
		pfd.fd = iscsi_get_fd(d->iscsi);
		pfd.events = (short)iscsi_which_events(d->iscsi);
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)ms);
		if (guest_stop && d->in_login) {
			iscsi_disk_seterr(d, "stopped");
			return -EINTR;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			iscsi_disk_seterr(d, "poll: %s", strerror(errno));
			return -ENOTCONN;
		}
		if (n == 0)
			continue;
		if (iscsi_service(d->iscsi, pfd.revents) < 0 && !d->op.done) {
			iscsi_disk_seterr(d, "%s", iscsi_get_error(d->iscsi));
			return -ENOTCONN;
		}
	}
	return 0;
}

/* The login status the target answered, from libiscsi's text "Failed to
 * log in to target. Status: Target not found(515)": libiscsi 1.19 keeps
 * the number nowhere else.  -1 when the login got no answer at all. */
static int
iscsi_login_status(const char *err)
{
	const char *p = strstr(err, "Failed to log in to target. Status: ");
	char *end;
	long v;

	if (!p)
		return -1;
	p = strrchr(p, '(');
	if (!p)
		return -1;
	errno = 0;
	v = strtol(p + 1, &end, 10);
	if (errno || end == p + 1 || *end != ')' || v < 0 || v > 0xffff)
		return -1;
	return (int)v;
}

/* Waits for a connect or login step sent (or not) just before. */
static int
iscsi_disk_step(struct iscsi_disk *d, int sent, uint64_t deadline,
		const char *what)
{
	int r;

	if (sent != 0) {
		iscsi_disk_seterr(d, "%s: %s", what, iscsi_get_error(d->iscsi));
		d->op.waiting = false;
		return -ENOTCONN;
	}
	r = iscsi_disk_wait(d, deadline);
	d->op.waiting = false;
	if (r < 0) {
		char why[sizeof(d->error)];

		snprintf(why, sizeof(why), "%s", d->error);
		iscsi_disk_seterr(d, "%s: %s", what, why);
		return r;
	}
	if (d->op.status == SCSI_STATUS_GOOD)
		return 0;
	iscsi_disk_seterr(d, "%s: %s", what, iscsi_get_error(d->iscsi));
	return -ENOTCONN;
}

static struct scsi_task *
iscsi_disk_send(struct iscsi_disk *d, enum iscsi_cmd cmd, uint64_t lba,
		uint32_t blocks)
{
	struct iscsi_context *i = d->iscsi;

	switch (cmd) {
	case ISCSI_CMD_TUR:
		return iscsi_testunitready_task(i, d->lun, iscsi_disk_task_cb, d);
	case ISCSI_CMD_READCAP16:
		return iscsi_readcapacity16_task(i, d->lun, iscsi_disk_task_cb, d);
	case ISCSI_CMD_READ16:
		return iscsi_read16_task(i, d->lun, lba, blocks * d->block_size,
					 (int)d->block_size, 0, 0, 0, 0, 0,
					 iscsi_disk_task_cb, d);
	case ISCSI_CMD_WRITE16:
		/* FUA: the record counts once it is on the medium. */
		return iscsi_write16_task(i, d->lun, lba, d->block,
					  blocks * d->block_size,
					  (int)d->block_size, 0, 0, 1, 0, 0,
					  iscsi_disk_task_cb, d);
	}
	return NULL;
}

/* One command on the current connection, no retry: 0 with the task in
 * *out (or freed when out is NULL), or an error as above. */
static int
iscsi_disk_command(struct iscsi_disk *d, enum iscsi_cmd cmd, uint64_t lba,
		   uint32_t blocks, struct scsi_task **out)
{
	uint64_t deadline = guest_now_ns(CLOCK_MONOTONIC) +
			    (uint64_t)GUEST_ISCSI_TRY_MS * 1000000u;
	const char *what = iscsi_cmd_name[cmd];
	struct scsi_task *task;
	int r;

	iscsi_disk_op_start(d);
	if (!iscsi_disk_send(d, cmd, lba, blocks)) {
		iscsi_disk_seterr(d, "%s: %s", what, iscsi_get_error(d->iscsi));
		d->op.waiting = false;
		return -ENOTCONN;
	}
	r = iscsi_disk_wait(d, deadline);
	d->op.waiting = false;
	if (r < 0) {
		char why[sizeof(d->error)];

		snprintf(why, sizeof(why), "%s", d->error);
		iscsi_disk_seterr(d, "%s at LBA %" PRIu64 ": %s", what, lba, why);
		return r;
	}
	task = d->op.task;
	d->op.task = NULL;
	if (!task && (d->op.status == SCSI_STATUS_GOOD ||
		      d->op.status == SCSI_STATUS_CHECK_CONDITION)) {
		iscsi_disk_seterr(d, "%s at LBA %" PRIu64 ": no task back", what, lba);
		return -EIO;
	}
	switch (d->op.status) {
	case SCSI_STATUS_GOOD:
		r = 0;
		break;
	case SCSI_STATUS_CHECK_CONDITION:
		iscsi_disk_seterr(d, "%s at LBA %" PRIu64 ": %s (%s)", what, lba,
				  scsi_sense_key_str(task->sense.key),
				  scsi_sense_ascq_str(task->sense.ascq));
		r = task->sense.key == SCSI_SENSE_UNIT_ATTENTION ? -EAGAIN : -EIO;
		break;
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_TASK_SET_FULL:
		iscsi_disk_seterr(d, "%s at LBA %" PRIu64 ": target busy (status 0x%x)",
				  what, lba, (unsigned)d->op.status);
		r = -EAGAIN;
		break;
	case SCSI_STATUS_CANCELLED:
	case SCSI_STATUS_ERROR:
	case SCSI_STATUS_TIMEOUT:
		/* libiscsi's, not the target's: the connection went
		 * (iscsi_get_error() may still hold an older text). */
		iscsi_disk_seterr(d, "%s at LBA %" PRIu64 ": %s", what, lba,
				  d->op.status == SCSI_STATUS_CANCELLED ?
				  "cancelled, the connection is gone" :
				  d->op.status == SCSI_STATUS_TIMEOUT ?
				  "timed out" : "failed in libiscsi");
		r = -ENOTCONN;
		break;
	default:
		iscsi_disk_seterr(d, "%s at LBA %" PRIu64 ": SCSI status 0x%x",
				  what, lba, (unsigned)d->op.status);
		r = -EIO;
		break;
	}
	if (r == 0 && out)
		*out = task;
	else if (task)
		scsi_free_scsi_task(task);
	return r;
}

static bool
iscsi_is_transport(int r)
{
	return r == -ENOTCONN || r == -ETIMEDOUT;
}

/* One login try with a fresh context: connect, login, TEST UNIT READY
 * until the unit attentions of a new session are consumed, READ
 * CAPACITY(16).  Leaves d->iscsi logged in, or NULL. */
static int
iscsi_disk_login(struct iscsi_disk *d, uint64_t deadline)
{
	struct scsi_readcapacity16 *rc;
	struct scsi_task *task = NULL;
	uint32_t block_size;
	int r, status;

	d->iscsi = iscsi_create_context(d->o->initiator);
	if (!d->iscsi) {
		iscsi_disk_seterr(d, "cannot create an iSCSI context");
		return -ENOMEM;
	}
	if (iscsi_set_targetname(d->iscsi, d->target) != 0 ||
	    iscsi_set_session_type(d->iscsi, ISCSI_SESSION_NORMAL) != 0) {
		iscsi_disk_seterr(d, "%s", iscsi_get_error(d->iscsi));
		r = -EINVAL;
		goto out_drop;
	}
	iscsi_set_noautoreconnect(d->iscsi, 1);
	iscsi_set_reconnect_max_retries(d->iscsi, 0);

	d->in_login = true;
	iscsi_disk_op_start(d);
	r = iscsi_disk_step(d, iscsi_connect_async(d->iscsi, d->portal,
						   iscsi_disk_conn_cb, d),
			    deadline, "connect");
	if (r < 0)
		goto out_drop;
	iscsi_disk_op_start(d);
	r = iscsi_disk_step(d, iscsi_login_async(d->iscsi, iscsi_disk_conn_cb, d),
			    deadline, "login");
	d->in_login = false;
	if (r < 0) {
		/* Class 2, initiator error: not found, removed, not
		 * authorized.  Class 3 (target error, service unavailable)
		 * and no answer at all are worth another try. */
		status = iscsi_login_status(d->error);
		if (status >= 0 && status >> 8 == 2)
			r = -EACCES;
		goto out_drop;
	}
	for (int i = 0;; i++) {
		r = iscsi_disk_command(d, ISCSI_CMD_TUR, 0, 0, NULL);
		if (r != -EAGAIN || i == GUEST_ISCSI_BUSY_RETRIES)
			break;
	}
	if (r < 0)
		goto out_drop;
	r = iscsi_disk_command(d, ISCSI_CMD_READCAP16, 0, 0, &task);
	if (r < 0)
		goto out_drop;
	rc = scsi_datain_unmarshall(task);
	if (!rc) {
		iscsi_disk_seterr(d, "READ CAPACITY(16): cannot parse the answer");
		r = -EIO;
		goto out_free_task;
	}
	block_size = rc->block_length;
	if (block_size < GUEST_RECORD_SIZE || block_size > GUEST_ISCSI_SCAN_BYTES ||
	    (d->block_size && block_size != d->block_size)) {
		iscsi_disk_seterr(d, "unusable block size %" PRIu32 " (was %" PRIu32 ")",
				  block_size, d->block_size);
		r = -EIO;
		goto out_free_task;
	}
	d->block_size = block_size;
	d->n_blocks = rc->returned_lba + 1;
	scsi_free_scsi_task(task);
	return 0;

out_free_task:
	scsi_free_scsi_task(task);
out_drop:
	d->in_login = false;
	iscsi_disk_drop(d);
	return r;
}

static void
guest_pause_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000u),
		.tv_nsec = (long)(ms % 1000u) * 1000000L,
	};

	(void)nanosleep(&ts, NULL);     /* a signal cuts it short: fine */
}

/* Logs in, with fresh contexts, until it works, the target refuses, a
 * stop signal comes, or --replacement-timeout seconds have passed (at
 * least one try). */
static int
iscsi_disk_connect(struct iscsi_disk *d)
{
	uint64_t start = guest_now_ns(CLOCK_MONOTONIC);
	uint64_t end = start + (uint64_t)d->o->replacement_timeout * 1000000000u;
	char last[sizeof(d->error)] = "";
	bool again = d->block_size != 0;
	unsigned tries = 0;
	int r;

	for (;;) {
		uint64_t now = guest_now_ns(CLOCK_MONOTONIC);
		uint64_t deadline = now + (uint64_t)GUEST_ISCSI_TRY_MS * 1000000u;

		if (guest_stop)
			return -EINTR;
		if (end > now && deadline > end)
			deadline = end;
		tries++;
		r = iscsi_disk_login(d, deadline);
		if (r == 0) {
			if (again)
				fprintf(stderr, "guest %s: logged in to %s at %s again "
					"(%u tries, %" PRIu64 " ms)\n", d->o->vm,
					d->target, d->portal, tries,
					(guest_now_ns(CLOCK_MONOTONIC) - start) / 1000000u);
			return 0;
		}
		if (!iscsi_is_transport(r))
			return r;
		/* Each new reason once, not one line per try. */
		if (strcmp(last, d->error) != 0) {
			fprintf(stderr, "guest %s: %s at %s: %s; trying again\n",
				d->o->vm, d->target, d->portal, d->error);
			snprintf(last, sizeof(last), "%s", d->error);
		}
		now = guest_now_ns(CLOCK_MONOTONIC);
		if (now >= end) {
			char why[sizeof(d->error)];

			snprintf(why, sizeof(why), "%s", d->error);
			iscsi_disk_seterr(d, "no session for %u s (%u tries), last: %s",
					  d->o->replacement_timeout, tries, why);
			return -ETIMEDOUT;
		}
		if (end - now < (uint64_t)GUEST_ISCSI_PAUSE_MS * 1000000u)
			guest_pause_ms((end - now) / 1000000u + 1);
		else
			guest_pause_ms(GUEST_ISCSI_PAUSE_MS);
	}
}

/* A command that survives a lost connection: logs in again and sends the
 * same command (same LBA, same data), and again after a unit attention
 * or a busy target, a few times. */
static int
iscsi_disk_run(struct iscsi_disk *d, enum iscsi_cmd cmd, uint64_t lba,
	       uint32_t blocks, struct scsi_task **out)
{
	int busy = 0;
	int r;

	for (;;) {
		if (!d->iscsi) {
			r = iscsi_disk_connect(d);
			if (r < 0)
				return r;
		}
		r = iscsi_disk_command(d, cmd, lba, blocks, out);
		if (r == 0)
			return 0;
		if (r == -EAGAIN && busy++ < GUEST_ISCSI_BUSY_RETRIES) {
			guest_pause_ms(GUEST_ISCSI_POLL_MS);
			continue;
		}
		if (!iscsi_is_transport(r))
			return r;
		fprintf(stderr, "guest %s: lost %s at %s: %s; logging in again for up "
			"to %u s\n", d->o->vm, d->target, d->portal, d->error,
			d->o->replacement_timeout);
		iscsi_disk_drop(d);
	}
}

static bool
iscsi_block_is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* The first all-zero block from LBA 0 on: where this instance appends.  A
 * block holding anything else (even a broken record) is never written
 * over: check-writers is to see it. */
static int
iscsi_disk_find_end(struct iscsi_disk *d)
{
	uint32_t per = GUEST_ISCSI_SCAN_BYTES / d->block_size;
	uint64_t lba = 0;

	while (lba < d->n_blocks) {
		uint32_t n = d->n_blocks - lba < per ? (uint32_t)(d->n_blocks - lba) : per;
		struct scsi_task *task = NULL;
		int r;

		r = iscsi_disk_run(d, ISCSI_CMD_READ16, lba, n, &task);
		if (r < 0)
			return r;
		if (task->datain.size < 0 ||
		    (uint64_t)task->datain.size < (uint64_t)n * d->block_size) {
			iscsi_disk_seterr(d, "READ(16) at LBA %" PRIu64 ": short read",
					  lba);
			scsi_free_scsi_task(task);
			return -EIO;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (iscsi_block_is_zero(task->datain.data +
						(size_t)i * d->block_size,
						d->block_size)) {
				d->next_lba = lba + i;
				scsi_free_scsi_task(task);
				return 0;
			}
		}
		scsi_free_scsi_task(task);
		lba += n;
	}
	d->next_lba = d->n_blocks;     /* full: the first append says so */
	return 0;
}

static int
iscsi_disk_open(void **ctx, const char *target, const struct guest_opts *o)
{
	struct iscsi_context *parser;
	struct iscsi_url *url;
	struct iscsi_disk *d;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*ctx = d;
	d->o = o;
	parser = iscsi_create_context(o->initiator);
	if (!parser) {
		iscsi_disk_seterr(d, "cannot create an iSCSI context");
		return -ENOMEM;
	}
	url = iscsi_parse_full_url(parser, target);
	if (!url) {
		iscsi_disk_seterr(d, "%s", iscsi_get_error(parser));
		(void)iscsi_destroy_context(parser);
		return -EINVAL;
	}
	snprintf(d->portal, sizeof(d->portal), "%s", url->portal);
	snprintf(d->target, sizeof(d->target), "%s", url->target);
	d->lun = url->lun;
	iscsi_destroy_url(url);
	(void)iscsi_destroy_context(parser);

	r = iscsi_disk_connect(d);
	if (r < 0)
		return r;
	d->block = calloc(1, d->block_size);
	if (!d->block)
		return -ENOMEM;
	r = iscsi_disk_find_end(d);
	if (r < 0)
		return r;
	fprintf(stderr, "guest %s: %s LUN %d at %s as %s: %" PRIu64 " blocks of %"
		PRIu32 " bytes, appending at LBA %" PRIu64 "\n", o->vm, d->target,
		d->lun, d->portal, o->initiator, d->n_blocks, d->block_size,
		d->next_lba);
	return 0;
}

/* One block per record, one WRITE(16) with FUA; after a lost connection
 * the same block goes to the same LBA again, never to another one. */
static int
iscsi_disk_append(void *ctx, const uint8_t *buf, size_t len)
{
	struct iscsi_disk *d = ctx;
	int r;

	if (len > d->block_size)
		return -EMSGSIZE;
	if (d->next_lba >= d->n_blocks) {
		iscsi_disk_seterr(d, "the LUN is full (%" PRIu64 " blocks)",
				  d->n_blocks);
		return -ENOSPC;
	}
	memset(d->block, 0, d->block_size);
	memcpy(d->block, buf, len);
	r = iscsi_disk_run(d, ISCSI_CMD_WRITE16, d->next_lba, 1, NULL);
	if (r < 0)
		return r;
	d->next_lba++;
	return 0;
}

static int
iscsi_disk_tail(void *ctx, uint64_t *pos, uint8_t *last)
{
	struct iscsi_disk *d = ctx;
	struct scsi_task *task = NULL;
	int r;

	*pos = d->next_lba;
	if (!last)
		return 0;
	if (d->next_lba == 0)
		return -ENODATA;
	r = iscsi_disk_run(d, ISCSI_CMD_READ16, d->next_lba - 1, 1, &task);
	if (r < 0)
		return r;
	if (task->datain.size < GUEST_RECORD_SIZE) {
		iscsi_disk_seterr(d, "READ(16) at LBA %" PRIu64 ": short read",
				  d->next_lba - 1);
		scsi_free_scsi_task(task);
		return -EIO;
	}
	memcpy(last, task->datain.data, GUEST_RECORD_SIZE);
	scsi_free_scsi_task(task);
	return 0;
}

static const char *
iscsi_disk_error(void *ctx)
{
	struct iscsi_disk *d = ctx;

	return d && d->error[0] ? d->error : NULL;
}

static void
iscsi_disk_close(void *ctx)
{
	struct iscsi_disk *d = ctx;

	if (!d)
		return;
	if (d->iscsi) {
		/* A clean logout, briefly: the target drops the session at
		 * once instead of finding it dead later. */
		iscsi_disk_op_start(d);
		(void)iscsi_disk_step(d, iscsi_logout_async(d->iscsi,
							    iscsi_disk_conn_cb, d),
				      guest_now_ns(CLOCK_MONOTONIC) + 1000000000u,
				      "logout");
		iscsi_disk_drop(d);
	}
	free(d->block);
	free(d);
}

static const struct disk_backend disk_backend_iscsi = {
	.prefix = GUEST_ISCSI_PREFIX,
	.open = iscsi_disk_open,
	.append = iscsi_disk_append,
	.tail = iscsi_disk_tail,
	.error = iscsi_disk_error,
	.close = iscsi_disk_close,
};

/* ---- dispatch -------------------------------------------------------- */

static const struct disk_backend *const disk_backends[] = {
	&disk_backend_file,
	&disk_backend_iscsi,
};

static int
disk_open(struct disk *d, const char *target, const struct guest_opts *o)
{
	const char *sep = strstr(target, "://");

	for (size_t i = 0; i < sizeof(disk_backends) / sizeof(disk_backends[0]); i++) {
		const struct disk_backend *be = disk_backends[i];
		size_t pl = strlen(be->prefix);

		if (pl == 0 && sep)
			continue;       /* a URL is not a file name */
		if (pl && strncmp(target, be->prefix, pl) != 0)
			continue;
		d->be = be;
		return be->open(&d->ctx, target, o);
	}
	return -EPROTONOSUPPORT;
}

static int
disk_append(struct disk *d, const uint8_t *buf, size_t len)
{
	return d->be->append(d->ctx, buf, len);
}

static int
disk_tail(struct disk *d, uint64_t *pos, uint8_t *last)
{
	return d->be->tail(d->ctx, pos, last);
}

/* Why the last call failed, in the storage's words; NULL if it has none. */
static const char *
disk_error(const struct disk *d)
{
	if (!d->be || !d->be->error || !d->ctx)
		return NULL;
	return d->be->error(d->ctx);
}

static void
disk_close(struct disk *d)
{
	if (d && d->be)
		d->be->close(d->ctx);
}


static void
guest_on_signal(int sig)
{
	(void)sig;
	guest_stop = 1;
}

/* A pause or resume request.  The handlers block each other (sa_mask), so
 * requests are taken one at a time, queued ones in the order sent. */
static void
guest_on_request(int sig, siginfo_t *si, void *uc)
{
	int want;

	(void)uc;
	if (sig == SIGUSR1)
		want = 1;
	else if (sig == SIGUSR2)
		want = 0;
	else if (si && si->si_code == SI_QUEUE &&
		 si->si_value.sival_int == GUEST_REQ_PAUSE)
		want = 1;
	else if (si && si->si_code == SI_QUEUE &&
		 si->si_value.sival_int == GUEST_REQ_RESUME)
		want = 0;
	else
		return;
	guest_want_pause = want;
	guest_requests = guest_requests + 1;
}

/* Every signal the guest acts on. */
static void
guest_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGRTMIN);
}

static void
guest_usage(FILE *f)
{
	fprintf(f,
		"usage: guest --vm NAME --host HOST --generation G --disk DISK\n"
		"             [--initiator IQN] [--replacement-timeout S]\n"
		"             [--rate HZ] [--exit-file PATH] [--mig-file PATH]\n"
		"             [--incoming STATEFILE [--ready-file PATH]]\n"
		"             [--reboot-after N | --poweroff-after N | --crash-after N]\n"
		"DISK: a file, or iscsi://PORTAL[:PORT]/TARGET-IQN/LUN with --initiator\n"
		"pause: SIGUSR1 (state in --mig-file); resume: SIGUSR2\n");
}

static int
guest_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
guest_set_end(struct guest_opts *o, enum guest_end end, const char *arg)
{
	if (o->end != GUEST_END_NONE) {
		fprintf(stderr, "guest: only one of --reboot-after, --poweroff-after, --crash-after\n");
		return -EINVAL;
	}
	if (guest_parse_u64(arg, &o->end_after) < 0 || o->end_after == 0) {
		fprintf(stderr, "guest: bad record count '%s'\n", arg);
		return -EINVAL;
	}
	o->end = end;
	return 0;
}

static int
guest_parse(int argc, char **argv, struct guest_opts *o)
{
	enum { OPT_VM = 1, OPT_HOST, OPT_GEN, OPT_DISK, OPT_RATE, OPT_EXIT,
	       OPT_REBOOT, OPT_POWEROFF, OPT_CRASH, OPT_INITIATOR,
	       OPT_REPLACEMENT, OPT_MIG, OPT_INCOMING, OPT_READY };
	static const struct option longopts[] = {
		{ "vm", required_argument, NULL, OPT_VM },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "generation", required_argument, NULL, OPT_GEN },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "exit-file", required_argument, NULL, OPT_EXIT },
		{ "mig-file", required_argument, NULL, OPT_MIG },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "ready-file", required_argument, NULL, OPT_READY },
		{ "reboot-after", required_argument, NULL, OPT_REBOOT },
		{ "poweroff-after", required_argument, NULL, OPT_POWEROFF },
		{ "crash-after", required_argument, NULL, OPT_CRASH },
		{ "initiator", required_argument, NULL, OPT_INITIATOR },
		{ "replacement-timeout", required_argument, NULL, OPT_REPLACEMENT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->rate = GUEST_RATE_DEFAULT;
	o->replacement_timeout = GUEST_ISCSI_REPLACEMENT_DEFAULT;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VM:
			o->vm = optarg;
			break;
		case OPT_HOST:
			o->host = optarg;
			break;
		case OPT_GEN:
			if (guest_parse_u64(optarg, &o->generation) < 0) {
				fprintf(stderr, "guest: bad generation '%s'\n", optarg);
				return -EINVAL;
			}
			o->have_generation = true;
			break;
		case OPT_DISK:
			o->disk = optarg;
			break;
		case OPT_RATE:
			if (guest_parse_u64(optarg, &v) < 0 || v == 0 ||
			    v > GUEST_RATE_MAX) {
				fprintf(stderr, "guest: bad rate '%s' (1..%d)\n",
					optarg, GUEST_RATE_MAX);
				return -EINVAL;
			}
			o->rate = (unsigned)v;
			break;
		case OPT_EXIT:
			o->exit_file = optarg;
			break;
		case OPT_MIG:
			o->mig_file = optarg;
			break;
		case OPT_INCOMING:
			o->incoming = optarg;
			break;
		case OPT_READY:
			o->ready_file = optarg;
			break;
		case OPT_INITIATOR:
			o->initiator = optarg;
			break;
		case OPT_REPLACEMENT:
			if (guest_parse_u64(optarg, &v) < 0 ||
			    v > GUEST_ISCSI_REPLACEMENT_MAX) {
				fprintf(stderr, "guest: bad replacement timeout '%s' "
					"(0..%d s)\n", optarg,
					GUEST_ISCSI_REPLACEMENT_MAX);
				return -EINVAL;
			}
			o->replacement_timeout = (unsigned)v;
			break;
		case OPT_REBOOT:
			if (guest_set_end(o, GUEST_END_REBOOT, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_POWEROFF:
			if (guest_set_end(o, GUEST_END_POWEROFF, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_CRASH:
			if (guest_set_end(o, GUEST_END_CRASH, optarg) < 0)
				return -EINVAL;
			break;
		case 'h':
			guest_usage(stdout);
			exit(0);
		default:
			guest_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !o->vm || !o->host || !o->disk ||
	    !o->have_generation) {
		guest_usage(stderr);
		return -EINVAL;
	}
	if (!*o->vm || strlen(o->vm) >= GUEST_RECORD_NAME_LEN ||
	    !*o->host || strlen(o->host) >= GUEST_RECORD_NAME_LEN) {
		fprintf(stderr, "guest: vm and host names must be 1..%d bytes\n",
			GUEST_RECORD_NAME_LEN - 1);
		return -EINVAL;
	}
	/* They are lines of the state file. */
	if (strchr(o->vm, '\n') || strchr(o->host, '\n') || strchr(o->disk, '\n')) {
		fprintf(stderr, "guest: a newline in the vm, host or disk name\n");
		return -EINVAL;
	}
	if (o->ready_file && !o->incoming) {
		fprintf(stderr, "guest: --ready-file goes with --incoming\n");
		return -EINVAL;
	}
	if (strncmp(o->disk, GUEST_ISCSI_PREFIX, strlen(GUEST_ISCSI_PREFIX)) == 0 &&
	    (!o->initiator || !*o->initiator)) {
		fprintf(stderr, "guest: an iscsi:// disk needs --initiator IQN "
			"(the initiator name of the host)\n");
		return -EINVAL;
	}
	return 0;
}

/* Whole or not at all: the driver reads it as soon as it is there. */
static int
guest_write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;
	int n;

	if (!path)
		return 0;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fclose(f) != 0) {
		(void)unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path) < 0) {
		int r = -errno;

		(void)unlink(tmp);
		return r;
	}
	return 0;
}

static int
guest_write_exit_file(const char *path, const char *reason)
{
	char text[32];

	snprintf(text, sizeof(text), "%s\n", reason);
	return guest_write_file(path, text);
}

/* Absolute deadlines keep the rate steady whatever a write costs.  A stop
 * or a pause request ends the sleep at once: the flags are looked at with
 * the signals blocked, and ppoll() lets them in atomically. */
static void
guest_sleep_until(uint64_t deadline_ns)
{
	sigset_t set, old;

	guest_signal_set(&set);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	while (!guest_stop && !guest_want_pause) {
		uint64_t now = guest_now_ns(CLOCK_MONOTONIC);
		struct timespec ts;

		if (now >= deadline_ns)
			break;
		ts.tv_sec = (time_t)((deadline_ns - now) / 1000000000u);
		ts.tv_nsec = (long)((deadline_ns - now) % 1000000000u);
		if (ppoll(NULL, 0, &ts, &old) == 0)
			break;
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The handlers; the caller unblocks the signals (guest_signal_set). */
static int
guest_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	guest_signal_set(&sa.sa_mask);      /* one handler at a time */
	sa.sa_handler = guest_on_signal;    /* no SA_RESTART: wake the sleep */
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = NULL;
	sa.sa_sigaction = guest_on_request;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGUSR1, &sa, NULL) < 0 || sigaction(SIGUSR2, &sa, NULL) < 0 ||
	    sigaction(SIGRTMIN, &sa, NULL) < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static void
guest_crash(const struct guest_opts *o, uint64_t seq)
{
	fprintf(stderr, "guest %s gen %" PRIu64 ": crashing after record %" PRIu64 "\n",
		o->vm, o->generation, seq);
	/* A test crash, not a core file on the rig host. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	abort();
}

/* The one line saying why the guest stops writing; seq 0: at open. */
static void
guest_report_failure(const struct guest_opts *o, const struct disk *d,
		     uint64_t seq, int r)
{
	const char *why = disk_error(d);
	char what[64] = "open of the disk";

	if (seq)
		snprintf(what, sizeof(what), "write of record %" PRIu64, seq);
	if (r == -EACCES && o->initiator)
		fprintf(stderr, "guest %s gen %" PRIu64 ": storage access refused: "
			"fenced: %s refused initiator %s (%s); stopping\n", o->vm,
			o->generation, o->disk, o->initiator,
			why ? why : strerror(-r));
	else if (r == -EPROTONOSUPPORT && !seq)
		fprintf(stderr, "guest %s gen %" PRIu64 ": cannot open disk %s: "
			"no backend for this URL\n", o->vm, o->generation, o->disk);
	else
		fprintf(stderr, "guest %s gen %" PRIu64 ": %s %s failed: %s; stopping\n",
			o->vm, o->generation, what, o->disk, why ? why : strerror(-r));
}

/* ---- live migration ---------------------------------------------------- */

/* The continuation state in --mig-file: where the next record goes.  The
 * disk is idle (no record in flight), so this touches no storage. */
static void
guest_publish_state(const struct guest_opts *o, struct disk *d, uint64_t next_seq)
{
	char text[GUEST_STATE_MAX];
	uint64_t pos;
	int n, r;

	r = disk_tail(d, &pos, NULL);
	if (r < 0) {
		fprintf(stderr, "guest %s: paused, but the disk position is "
			"unknown: %s\n", o->vm, strerror(-r));
		return;
	}
	n = snprintf(text, sizeof(text), GUEST_STATE_MAGIC "\nvm %s\ngeneration %"
		     PRIu64 "\nhost %s\ndisk %s\nnext-seq %" PRIu64 "\nnext-pos %"
		     PRIu64 "\n", o->vm, o->generation, o->host, o->disk, next_seq, pos);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		fprintf(stderr, "guest %s: paused; the state does not fit %zu bytes\n",
			o->vm, sizeof(text));
		return;
	}
	r = guest_write_file(o->mig_file, text);
	fprintf(stderr, "guest %s gen %" PRIu64 " on %s: paused before record %"
		PRIu64 " at %" PRIu64 "%s%s%s%s\n", o->vm, o->generation, o->host,
		next_seq, pos, o->mig_file ? ", state in " : "",
		o->mig_file ? o->mig_file : "", r < 0 ? ": cannot write it: " : "",
		r < 0 ? strerror(-r) : "");
}

/* Paused: writes nothing until a resume request (0) or a stop
 * (GUEST_END_POWEROFF).  A source publishes its state on entry and again
 * on each further request; an incoming guest publishes --ready-file. */
static int
guest_wait_paused(const struct guest_opts *o, struct disk *d, uint64_t next_seq,
		  bool incoming)
{
	sig_atomic_t published = 0;
	bool have_published = false;
	sigset_t set, old;
	int r;

	guest_signal_set(&set);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	if (incoming) {
		r = guest_write_file(o->ready_file, "ready\n");
		fprintf(stderr, "guest %s gen %" PRIu64 " on %s: incoming, ready at "
			"record %" PRIu64 "%s%s; waiting for the resume\n", o->vm,
			o->generation, o->host, next_seq,
			r < 0 ? ": cannot write the ready file: " : "",
			r < 0 ? strerror(-r) : "");
	}
	for (;;) {
		if (guest_stop) {
			r = GUEST_END_POWEROFF;
			break;
		}
		if (!guest_want_pause) {
			r = 0;
			break;
		}
		if (!incoming && (!have_published || published != guest_requests)) {
			published = guest_requests;
			have_published = true;
			guest_publish_state(o, d, next_seq);
		}
		(void)sigsuspend(&old);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (r == 0) {
		if (o->mig_file)
			(void)unlink(o->mig_file);
		if (o->ready_file)
			(void)unlink(o->ready_file);
		if (o->incoming)
			(void)unlink(o->incoming);
		fprintf(stderr, "guest %s gen %" PRIu64 " on %s: resumed at record %"
			PRIu64 "\n", o->vm, o->generation, o->host, next_seq);
	}
	return r;
}

static int
guest_state_field(struct guest_state *st, const char *key, const char *val)
{
	if (strcmp(key, "vm") == 0 || strcmp(key, "host") == 0) {
		char *dst = key[0] == 'v' ? st->vm : st->host;

		if (!*val || strlen(val) >= GUEST_RECORD_NAME_LEN)
			return -EINVAL;
		snprintf(dst, GUEST_RECORD_NAME_LEN, "%s", val);
		return 0;
	}
	if (strcmp(key, "disk") == 0) {
		snprintf(st->disk, sizeof(st->disk), "%s", val);
		return *val ? 0 : -EINVAL;
	}
	if (strcmp(key, "generation") == 0)
		return guest_parse_u64(val, &st->generation);
	if (strcmp(key, "next-seq") == 0)
		return guest_parse_u64(val, &st->next_seq) < 0 || st->next_seq == 0 ?
		       -EINVAL : 0;
	if (strcmp(key, "next-pos") == 0)
		return guest_parse_u64(val, &st->next_pos);
	if (strcmp(key, "resumed-from") == 0)
		return guest_parse_u64(val, &st->resumed_from) < 0 ||
		       st->resumed_from == 0 ? -EINVAL : 0;
	return -ENOENT;
}

/* The state file of --incoming: every field once (resumed-from, the last,
 * at most once), nothing else. */
static int
guest_state_parse(char *text, struct guest_state *st, char *why, size_t len)
{
	static const char *const keys[] = { "vm", "generation", "host", "disk",
					    "next-seq", "next-pos", "resumed-from" };
	const unsigned required = (1u << 6) - 1;
	unsigned seen = 0;
	char *save = NULL, *line;

	memset(st, 0, sizeof(*st));
	line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, GUEST_STATE_MAGIC) != 0) {
		snprintf(why, len, "not a guest state (no '" GUEST_STATE_MAGIC "')");
		return -EINVAL;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *val = strchr(line, ' ');
		size_t k;

		if (val)
			*val++ = '\0';
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strcmp(line, keys[k]) == 0)
				break;
		}
		if (!val || k == sizeof(keys) / sizeof(keys[0]) ||
		    (seen & 1u << k) || guest_state_field(st, line, val) < 0) {
			snprintf(why, len, "bad line '%s'", line);
			return -EINVAL;
		}
		seen |= 1u << k;
	}
	if ((seen & required) != required) {
		snprintf(why, len, "a field is missing");
		return -EINVAL;
	}
	return 0;
}

/* Reads and checks the --incoming state against our own arguments. */
static int
guest_state_load(const struct guest_opts *o, struct guest_state *st)
{
	char text[GUEST_STATE_MAX], why[256] = "";
	ssize_t n = 0;
	int fd, r = 0;

	fd = open(o->incoming, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		r = -errno;
		goto out;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		snprintf(why, sizeof(why), "%s", n < 0 ? strerror(errno) : "too large");
		r = -EINVAL;
		goto out;
	}
	text[n] = '\0';
	r = guest_state_parse(text, st, why, sizeof(why));
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (strcmp(st->vm, o->vm) != 0)
		snprintf(why, sizeof(why), "the state is of vm %s", st->vm);
	else if (st->generation != o->generation)
		snprintf(why, sizeof(why), "the state is of generation %" PRIu64,
			 st->generation);
	else if (st->resumed_from >= o->generation)
		snprintf(why, sizeof(why), "it resumes generation %" PRIu64
			 ", not an earlier one", st->resumed_from);
	else if (strcmp(st->disk, o->disk) != 0)
		snprintf(why, sizeof(why), "the state is of disk %.200s", st->disk);
	else
		r = 0;
out:
	if (r < 0)
		fprintf(stderr, "guest %s gen %" PRIu64 ": incoming state %s: %s\n",
			o->vm, o->generation, o->incoming, why);
	return r;
}

/* The disk must end where the source stopped, after its last record:
 * 0 it does, GUEST_END_REFUSED it does not, or a disk error. */
static int
guest_incoming_check(const struct guest_opts *o, struct disk *d,
		     const struct guest_state *st)
{
	uint8_t last[GUEST_RECORD_SIZE];
	struct guest_record rec;
	char why[256] = "";
	uint64_t pos;
	int r;

	r = disk_tail(d, &pos, NULL);
	if (r < 0)
		return r;
	if (pos != st->next_pos) {
		snprintf(why, sizeof(why), "the disk ends at %" PRIu64 ", the state "
			 "says %" PRIu64, pos, st->next_pos);
	} else if (st->next_seq > 1) {
		r = disk_tail(d, &pos, last);
		if (r < 0 && r != -ENODATA)
			return r;
		if (r == -ENODATA || guest_record_decode(last, &rec) < 0)
			snprintf(why, sizeof(why), "no record before %" PRIu64, pos);
		else if (strcmp(rec.vm, o->vm) != 0 ||
			 rec.generation != (st->resumed_from ? st->resumed_from :
					    o->generation) ||
			 rec.seq != st->next_seq - 1)
			snprintf(why, sizeof(why), "the record before %" PRIu64 " is "
				 "vm %s generation %" PRIu64 " seq %" PRIu64 ", not "
				 "seq %" PRIu64, pos, rec.vm, rec.generation,
				 rec.seq, st->next_seq - 1);
	}
	if (!why[0])
		return 0;
	fprintf(stderr, "guest %s gen %" PRIu64 ": incoming state does not fit the "
		"disk: %s; stopping\n", o->vm, o->generation, why);
	return GUEST_END_REFUSED;
}

/* ---- the writer -------------------------------------------------------- */

static int
guest_run(const struct guest_opts *o, struct disk *d, uint64_t first_seq)
{
	struct guest_record rec;
	uint8_t buf[GUEST_RECORD_SIZE];
	uint64_t period = 1000000000u / o->rate;
	uint64_t next = guest_now_ns(CLOCK_MONOTONIC);
	int r;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.vm, sizeof(rec.vm), "%s", o->vm);
	snprintf(rec.host, sizeof(rec.host), "%s", o->host);
	rec.generation = o->generation;
	for (rec.seq = first_seq; !guest_stop; rec.seq++) {
		if (guest_want_pause) {
			r = guest_wait_paused(o, d, rec.seq, false);
			if (r != 0)
				return r;
			next = guest_now_ns(CLOCK_MONOTONIC);
		}
		rec.time_ns = guest_now_ns(CLOCK_REALTIME);
		r = guest_record_encode(&rec, buf);
		if (r < 0)
			return r;
		r = disk_append(d, buf, sizeof(buf));
		if (r == -EINTR && guest_stop)
			break;          /* stopped while the disk was away */
		if (r < 0) {
			guest_report_failure(o, d, rec.seq, r);
			return r;
		}
		if (o->end != GUEST_END_NONE && rec.seq >= o->end_after) {
			if (o->end == GUEST_END_CRASH)
				guest_crash(o, rec.seq);
			return o->end;
		}
		next += period;
		/* After a long write (a SAN outage) go on at the rate, not
		 * in a burst of the ticks missed. */
		if (next + period < guest_now_ns(CLOCK_MONOTONIC))
			next = guest_now_ns(CLOCK_MONOTONIC);
		guest_sleep_until(next);
	}
	return GUEST_END_POWEROFF;
}

/* Status 4 (fenced) or 3 (I/O), with the exit file telling the proc driver
 * which storage failure it was: "fenced" (the target refused us) or
 * "storage" (the disk stayed unreachable past --replacement-timeout).  A
 * plain write error leaves none: a crash. */
static int
guest_failed(const struct guest_opts *o, int r)
{
	const char *why = r == -EACCES ? "fenced" : r == -ETIMEDOUT ? "storage" : NULL;

	if (why != NULL && guest_write_exit_file(o->exit_file, why) < 0)
		fprintf(stderr, "guest %s: cannot write exit file %s\n", o->vm,
			o->exit_file ? o->exit_file : "(none)");
	return r == -EACCES ? GUEST_EXIT_FENCED : GUEST_EXIT_IO;
}

int
main(int argc, char **argv)
{
	struct guest_opts o;
	struct guest_state st;
	struct disk d = { 0 };
	uint64_t first_seq = 1;
	const char *reason;
	sigset_t set;
	int r;

	/* Handlers first: until then a pause or resume request would kill
	 * us.  Held back until we know whether we start paused. */
	guest_signal_set(&set);
	(void)sigprocmask(SIG_BLOCK, &set, NULL);
	r = guest_install_signals();
	if (r < 0) {
		fprintf(stderr, "guest: signals: %s\n", strerror(-r));
		return GUEST_EXIT_IO;
	}
	if (guest_parse(argc, argv, &o) < 0)
		return GUEST_EXIT_USAGE;
	if (o.incoming) {
		if (guest_state_load(&o, &st) < 0)
			return GUEST_EXIT_MIGRATION;
		first_seq = st.next_seq;
		guest_want_pause = 1;           /* until the resume */
	}
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0) {
		fprintf(stderr, "guest: signals: %s\n", strerror(errno));
		return GUEST_EXIT_IO;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "guest: libsodium init failed\n");
		return GUEST_EXIT_IO;
	}
	r = disk_open(&d, o.disk, &o);
	if (r == -EINTR && guest_stop) {
		r = GUEST_END_POWEROFF;         /* stopped before the disk came */
	} else if (r < 0) {
		guest_report_failure(&o, &d, 0, r);
		disk_close(&d);
		return r == -EINVAL ? GUEST_EXIT_USAGE : guest_failed(&o, r);
	} else {
		if (o.incoming) {
			r = guest_incoming_check(&o, &d, &st);
			if (r < 0)
				guest_report_failure(&o, &d, 0, r);
			else if (r == 0)
				r = guest_wait_paused(&o, &d, first_seq, true);
		}
		if (r == 0) {
			fprintf(stderr, "guest %s gen %" PRIu64 " on %s: writing to %s "
				"at %u Hz from record %" PRIu64 "\n", o.vm,
				o.generation, o.host, o.disk, o.rate, first_seq);
			r = guest_run(&o, &d, first_seq);
		}
	}
	disk_close(&d);
	if (r == GUEST_END_REFUSED)
		return GUEST_EXIT_MIGRATION;
	if (r < 0)
		return guest_failed(&o, r);
	reason = r == GUEST_END_REBOOT ? "reboot" : "poweroff";
	r = guest_write_exit_file(o.exit_file, reason);
	if (r < 0) {
		fprintf(stderr, "guest %s: cannot write exit file %s: %s\n",
			o.vm, o.exit_file, strerror(-r));
		return GUEST_EXIT_IO;
	}
	fprintf(stderr, "guest %s gen %" PRIu64 ": %s\n", o.vm, o.generation, reason);
	return 0;
}
