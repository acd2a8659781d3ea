/* The test guest: what a `proc` domain runs.
 *
 *   guest --vm NAME --host HOST --generation G --disk PATH
 *         [--rate HZ] [--exit-file PATH]
 *         [--reboot-after N | --poweroff-after N | --crash-after N]
 *
 * It appends one record (tests/guest_record.h) per tick to its disk, each
 * durable before the next (O_DSYNC), never overwriting, so that
 * check-writers can prove afterwards that no two instances wrote at once.
 * A failed write stops it at once (exit 3): a fenced guest must not go on.
 *
 * Exits, as the proc driver reads them:
 *   SIGTERM / SIGINT, --poweroff-after   exit file "poweroff", status 0
 *   --reboot-after                       exit file "reboot", status 0
 *   --crash-after                        abort(), no exit file
 *   write failure                        status 3, no exit file (a crash)
 * The exit file is written whole (temp file + rename) before exiting, so
 * the driver never reads half of it when the process-exit event arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "guest_record.h"

#define GUEST_RATE_DEFAULT   40
#define GUEST_RATE_MAX       10000
#define GUEST_EXIT_USAGE     2
#define GUEST_EXIT_IO        3

static volatile sig_atomic_t guest_stop;

enum guest_end {
	GUEST_END_NONE,
	GUEST_END_POWEROFF,
	GUEST_END_REBOOT,
	GUEST_END_CRASH,
};

struct guest_opts {
	const char *vm;
	const char *host;
	const char *disk;
	const char *exit_file;
	uint64_t generation;
	bool have_generation;
	unsigned rate;
	enum guest_end end;             /* what happens after end_after records */
	uint64_t end_after;
};

/* The disk is reached through one backend: a file now; the storage work
 * adds an iscsi:// backend (libiscsi) beside it without touching the
 * writer loop. */
struct disk_backend {
	const char *prefix;             /* URL scheme this backend takes, "" any path */
	int (*open)(void **ctx, const char *target);
	int (*append)(void *ctx, const uint8_t *buf, size_t len);
	void (*close)(void *ctx);
};

struct disk {
	const struct disk_backend *be;
	void *ctx;
};

struct file_disk {
	int fd;
};

static int
file_disk_open(void **ctx, const char *target)
{
	struct file_disk *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	/* O_APPEND: never overwrite, even when two instances share the
	 * file; O_DSYNC: a record counts once it is on the disk. */
	d->fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_DSYNC |
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
	.close = file_disk_close,
};

static const struct disk_backend *const disk_backends[] = {
	&disk_backend_file,
};

static int
disk_open(struct disk *d, const char *target)
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
		return be->open(&d->ctx, target);
	}
	return -EPROTONOSUPPORT;
}

static int
disk_append(struct disk *d, const uint8_t *buf, size_t len)
{
	return d->be->append(d->ctx, buf, len);
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

static void
guest_usage(FILE *f)
{
	fprintf(f,
		"usage: guest --vm NAME --host HOST --generation G --disk PATH\n"
		"             [--rate HZ] [--exit-file PATH]\n"
		"             [--reboot-after N | --poweroff-after N | --crash-after N]\n");
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
	       OPT_REBOOT, OPT_POWEROFF, OPT_CRASH };
	static const struct option longopts[] = {
		{ "vm", required_argument, NULL, OPT_VM },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "generation", required_argument, NULL, OPT_GEN },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "exit-file", required_argument, NULL, OPT_EXIT },
		{ "reboot-after", required_argument, NULL, OPT_REBOOT },
		{ "poweroff-after", required_argument, NULL, OPT_POWEROFF },
		{ "crash-after", required_argument, NULL, OPT_CRASH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->rate = GUEST_RATE_DEFAULT;
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
	return 0;
}

/* Whole or not at all: the driver reads it as soon as we are gone. */
static int
guest_write_exit_file(const char *path, const char *reason)
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
	fprintf(f, "%s\n", reason);
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

static uint64_t
guest_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Absolute deadlines keep the rate steady whatever a write costs; a
 * signal interrupts the sleep so SIGTERM is acted on at once. */
static void
guest_sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000u),
		.tv_nsec = (long)(deadline_ns % 1000000000u),
	};

	(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int
guest_install_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guest_on_signal;    /* no SA_RESTART: wake the sleep */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
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

static int
guest_run(const struct guest_opts *o, struct disk *d)
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
	for (rec.seq = 1; !guest_stop; rec.seq++) {
		rec.time_ns = guest_now_ns(CLOCK_REALTIME);
		r = guest_record_encode(&rec, buf);
		if (r < 0)
			return r;
		r = disk_append(d, buf, sizeof(buf));
		if (r < 0) {
			fprintf(stderr, "guest %s gen %" PRIu64 ": write of record %" PRIu64
				" failed: %s; stopping\n", o->vm, o->generation,
				rec.seq, strerror(-r));
			return r;
		}
		if (o->end != GUEST_END_NONE && rec.seq >= o->end_after) {
			if (o->end == GUEST_END_CRASH)
				guest_crash(o, rec.seq);
			return o->end;
		}
		next += period;
		if (!guest_stop)
			guest_sleep_until(next);
	}
	return GUEST_END_POWEROFF;
}

int
main(int argc, char **argv)
{
	struct guest_opts o;
	struct disk d = { 0 };
	const char *reason;
	int r;

	if (guest_parse(argc, argv, &o) < 0)
		return GUEST_EXIT_USAGE;
	r = guest_install_signals();
	if (r < 0) {
		fprintf(stderr, "guest: signals: %s\n", strerror(-r));
		return GUEST_EXIT_IO;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "guest: libsodium init failed\n");
		return GUEST_EXIT_IO;
	}
	r = disk_open(&d, o.disk);
	if (r < 0) {
		fprintf(stderr, "guest %s: cannot open disk %s: %s\n", o.vm, o.disk,
			r == -EPROTONOSUPPORT ? "no backend for this URL" :
			strerror(-r));
		return GUEST_EXIT_IO;
	}
	fprintf(stderr, "guest %s gen %" PRIu64 " on %s: writing to %s at %u Hz\n",
		o.vm, o.generation, o.host, o.disk, o.rate);

	r = guest_run(&o, &d);
	disk_close(&d);
	if (r < 0)
		return GUEST_EXIT_IO;
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
