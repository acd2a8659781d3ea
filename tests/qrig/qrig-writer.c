/* qrig-writer: the test guest's writer inside a Xen PV domU of the QEMU
 * tier (a busybox initramfs: linked statically, no libraries there).
 *
 *   qrig-writer [--stride N] [--interval-ms MS] [--count K] DEVICE VM HOST
 *
 * It appends the records of tests/guest_record.h in the block layout of
 * tests/check_writers.c: record i in block i of N bytes (default 512), the
 * record then zeros to the block's end, one block per record, each durable
 * before the next (O_DIRECT | O_SYNC; without O_DIRECT where the file
 * system has none, as tmpfs in the tests).  At start it scans from block 0
 * for the first all-zero block and appends from there, as tests/guest.c
 * does on a LUN; a block holding anything else (even a broken record) is
 * never written over: check-writers is to see it.  Unlike tests/guest.c it
 * also reads each block before writing it, and when another writer (a
 * second instance: split brain) took it meanwhile, it goes on at the next
 * all-zero block, says so, and goes on writing: the records of both then
 * lie interleaved on the disk for check-writers to find, instead of one
 * instance overwriting the other's block by block (the one whose ticks
 * fall later in each interval would win every block and hide the other).
 * A read and the write after it are not atomic: two instances can still
 * overwrite one block now and then, not all of them.
 *
 * The domU cannot learn the cluster's generation of the VM (the xl driver
 * keeps it in dom0's part of xenstore), so it counts boots on the disk
 * instead: generation = the highest generation on the disk + 1 (1 on an
 * empty disk), seq from 1.  On a disk that checks clean the highest is the
 * last record's, and every instance that started before this one has
 * stopped writing (or check-writers shows that it did not).
 *
 * Prints to stdout (the domU console), flushed per line:
 *   qrig-writer: VM generation G from block B     at start
 *   qrig-writer: seq N                            every 25 records
 *   qrig-writer: block B taken: another writer ...   going on after it
 *   qrig-writer: DEVICE is full ...               and exits 0
 *
 * Exit: 0 after --count K records, on SIGTERM/SIGINT (between two
 * records) or on a full disk; 1 a disk error (read, write, or a disk of
 * another VM: the message says which); 2 usage (also a stride that is not
 * a multiple of the device's logical sector size).
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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "guest_record.h"

#define QW_EXIT_OK          0
#define QW_EXIT_DISK        1
#define QW_EXIT_USAGE       2
#define QW_STRIDE_DEFAULT   512
#define QW_STRIDE_UNIT      512     /* O_DIRECT: whole sectors */
#define QW_STRIDE_MAX       (1024 * 1024)
#define QW_INTERVAL_DEFAULT 200     /* ms */
#define QW_INTERVAL_MAX     3600000
#define QW_ALIGN            4096
#define QW_SCAN_BYTES       (1024 * 1024)
#define QW_PROGRESS_EVERY   25
/* A read or write of fewer bytes than asked (not an errno). */
#define QW_ESHORT           (-(XM_EBASE + 900))

static volatile sig_atomic_t qw_stop;

struct qw_opts {
	uint32_t stride;
	uint32_t interval_ms;
	uint64_t count;                 /* 0: for ever */
	const char *device;
	const char *vm;
	const char *host;
};

struct qw {
	const struct qw_opts *o;
	int fd;
	bool direct;                    /* opened with O_DIRECT */
	uint64_t n_blocks;              /* whole blocks on the device */
	uint64_t next_block;            /* the first all-zero block */
	bool have_records;
	uint64_t max_generation;        /* of the valid records found */
	char other_vm[GUEST_RECORD_NAME_LEN];   /* a record not of o->vm */
	uint64_t other_off;
	uint8_t *block;                 /* QW_ALIGN-aligned, stride bytes */
	uint8_t *probe;                 /* the same: next_block as read */
};

static void
qw_usage(FILE *f)
{
	fprintf(f, "usage: qrig-writer [--stride N] [--interval-ms MS] [--count K] "
		"DEVICE VM HOST\n"
		"appends one guest record per block of N bytes (default %d, a "
		"multiple of %d)\n"
		"every MS ms (default %d), K records or until stopped\n",
		QW_STRIDE_DEFAULT, QW_STRIDE_UNIT, QW_INTERVAL_DEFAULT);
}

static void
qw_on_signal(int sig)
{
	(void)sig;
	qw_stop = 1;
}

static uint64_t
qw_now_ns(clockid_t clk)
{
	struct timespec ts;

	(void)clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
qw_sleep_until(uint64_t mono_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(mono_ns / 1000000000u),
		.tv_nsec = (long)(mono_ns % 1000000000u),
	};

	/* EINTR: a stop request, seen by the caller. */
	(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* 0, or -EINVAL when s is not a decimal number in min..max. */
static int
qw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static const char *
qw_strerror(int r)
{
	return r == QW_ESHORT ? "short read or write" : strerror(-r);
}

static bool
qw_is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* O_DIRECT | O_SYNC, or O_SYNC alone where O_DIRECT is refused (tmpfs).
 * 0 or -errno. */
static int
qw_open(struct qw *w)
{
	const char *dev = w->o->device;
	struct stat st;
	off_t size;

	w->fd = open(dev, O_RDWR | O_DIRECT | O_SYNC | O_CLOEXEC);
	w->direct = w->fd >= 0;
	if (w->fd < 0 && errno == EINVAL)
		w->fd = open(dev, O_RDWR | O_SYNC | O_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (fstat(w->fd, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return -ENOTBLK;
	if (S_ISBLK(st.st_mode)) {
		int ssz = 0;

		/* O_DIRECT writes whole logical sectors only. */
		if (ioctl(w->fd, BLKSSZGET, &ssz) == 0 && ssz > 0 &&
		    w->o->stride % (uint32_t)ssz != 0)
			return -EDOM;
	}
	size = lseek(w->fd, 0, SEEK_END);
	if (size < 0)
		return -errno;
	w->n_blocks = (uint64_t)size / w->o->stride;
	return 0;
}

/* Reads len bytes at off.  0, QW_ESHORT at the end of the device, or
 * -errno. */
static int
qw_pread(struct qw *w, uint8_t *buf, size_t len, uint64_t off)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = pread(w->fd, buf + have, len - have,
				  (off_t)(off + have));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return QW_ESHORT;
		have += (size_t)n;
	}
	return 0;
}

/* The block layout from block 0 to the first all-zero block: where to
 * append, the highest generation, and the first record of another VM.
 * 0 or -errno. */
static int
qw_scan(struct qw *w)
{
	uint32_t stride = w->o->stride;
	uint64_t per = QW_SCAN_BYTES / stride;
	uint64_t blk = 0;
	uint8_t *buf = NULL;
	int r;

	if (per == 0)
		per = 1;
	if (posix_memalign((void **)&buf, QW_ALIGN, per * stride) != 0)
		return -ENOMEM;
	while (blk < w->n_blocks) {
		uint64_t n = w->n_blocks - blk < per ? w->n_blocks - blk : per;

		r = qw_pread(w, buf, n * stride, blk * stride);
		if (r < 0)
			goto out_free;
		for (uint64_t i = 0; i < n; i++) {
			const uint8_t *p = buf + i * stride;
			struct guest_record rec;

			if (qw_is_zero(p, stride)) {
				w->next_block = blk + i;
				r = 0;
				goto out_free;
			}
			r = guest_record_decode(p, &rec);
			if (r == -EIO)
				goto out_free;
			if (r < 0)
				continue;       /* broken: left for the checker */
			if (strcmp(rec.vm, w->o->vm) != 0 && !w->other_vm[0]) {
				memcpy(w->other_vm, rec.vm, sizeof(w->other_vm));
				w->other_off = (blk + i) * stride;
			}
			if (!w->have_records || rec.generation > w->max_generation)
				w->max_generation = rec.generation;
			w->have_records = true;
		}
		blk += n;
	}
	w->next_block = w->n_blocks;    /* full */
	r = 0;
out_free:
	free(buf);
	return r;
}

/* Moves next_block on to the first all-zero block from it: where a
 * record may go.  *skipped: the blocks found taken (by another writer).
 * 0, -ENOSPC when the disk is full, or -errno. */
static int
qw_claim(struct qw *w, uint64_t *skipped)
{
	uint32_t stride = w->o->stride;
	int r;

	*skipped = 0;
	for (; w->next_block < w->n_blocks; w->next_block++) {
		r = qw_pread(w, w->probe, stride, w->next_block * stride);
		if (r < 0)
			return r;
		if (qw_is_zero(w->probe, stride))
			return 0;
		(*skipped)++;
	}
	return -ENOSPC;
}

/* The record, then zeros to the block's end, at next_block, which the
 * caller found all zero: a write torn between sectors still leaves the
 * record (in the first sector) and zeros.  0, or -errno (-EIO: a short
 * write: QW_ESHORT). */
static int
qw_append(struct qw *w, const struct guest_record *rec)
{
	uint32_t stride = w->o->stride;
	ssize_t n;
	int r;

	memset(w->block, 0, stride);
	r = guest_record_encode(rec, w->block);
	if (r < 0)
		return r;
	do {
		/* The same bytes to the same block again after EINTR. */
		n = pwrite(w->fd, w->block, stride,
			   (off_t)(w->next_block * stride));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != stride)
		return QW_ESHORT;
	w->next_block++;
	return 0;
}

/* 0, or the exit status after a usage error (printed). */
static int
qw_parse_args(int argc, char **argv, struct qw_opts *o)
{
	enum { OPT_STRIDE = 1, OPT_INTERVAL, OPT_COUNT };
	static const struct option longopts[] = {
		{ "stride", required_argument, NULL, OPT_STRIDE },
		{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int opt;

	o->stride = QW_STRIDE_DEFAULT;
	o->interval_ms = QW_INTERVAL_DEFAULT;
	o->count = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_STRIDE:
			if (qw_parse_u64(optarg, QW_STRIDE_UNIT, QW_STRIDE_MAX, &v) < 0 ||
			    v % QW_STRIDE_UNIT != 0) {
				fprintf(stderr, "qrig-writer: bad stride '%s' (a multiple "
					"of %d, %d..%d)\n", optarg, QW_STRIDE_UNIT,
					QW_STRIDE_UNIT, QW_STRIDE_MAX);
				return QW_EXIT_USAGE;
			}
			o->stride = (uint32_t)v;
			break;
		case OPT_INTERVAL:
			if (qw_parse_u64(optarg, 0, QW_INTERVAL_MAX, &v) < 0) {
				fprintf(stderr, "qrig-writer: bad interval '%s' (0..%d ms)\n",
					optarg, QW_INTERVAL_MAX);
				return QW_EXIT_USAGE;
			}
			o->interval_ms = (uint32_t)v;
			break;
		case OPT_COUNT:
			if (qw_parse_u64(optarg, 1, UINT64_MAX, &v) < 0) {
				fprintf(stderr, "qrig-writer: bad count '%s' (1 or more)\n",
					optarg);
				return QW_EXIT_USAGE;
			}
			o->count = v;
			break;
		case 'h':
			qw_usage(stdout);
			exit(QW_EXIT_OK);
		default:
			qw_usage(stderr);
			return QW_EXIT_USAGE;
		}
	}
	if (argc - optind != 3) {
		qw_usage(stderr);
		return QW_EXIT_USAGE;
	}
	o->device = argv[optind];
	o->vm = argv[optind + 1];
	o->host = argv[optind + 2];
	if (!*o->vm || strlen(o->vm) >= GUEST_RECORD_NAME_LEN ||
	    !*o->host || strlen(o->host) >= GUEST_RECORD_NAME_LEN) {
		fprintf(stderr, "qrig-writer: vm and host names must be 1..%d bytes\n",
			GUEST_RECORD_NAME_LEN - 1);
		return QW_EXIT_USAGE;
	}
	return 0;
}

static int
qw_run(struct qw *w, struct guest_record *rec)
{
	const struct qw_opts *o = w->o;
	uint64_t period = (uint64_t)o->interval_ms * 1000000u;
	uint64_t next = qw_now_ns(CLOCK_MONOTONIC);
	uint64_t skipped;
	int r;

	for (rec->seq = 1; !qw_stop; rec->seq++) {
		uint64_t want = w->next_block;

		r = qw_claim(w, &skipped);
		if (skipped)
			printf("qrig-writer: block %" PRIu64 " taken: another writer on "
			       "%s; %" PRIu64 " block(s) skipped, generation %" PRIu64
			       " seq %" PRIu64 " goes on after them\n", want, o->device,
			       skipped, rec->generation, rec->seq);
		if (r == -ENOSPC) {
			printf("qrig-writer: %s is full (%" PRIu64 " blocks of %" PRIu32
			       " bytes), stopping after seq %" PRIu64 "\n", o->device,
			       w->n_blocks, o->stride, rec->seq - 1);
			return QW_EXIT_OK;
		}
		if (r < 0) {
			printf("qrig-writer: read error on %s at block %" PRIu64 ": %s\n",
			       o->device, w->next_block,
			       qw_strerror(r));
			return QW_EXIT_DISK;
		}
		rec->time_ns = qw_now_ns(CLOCK_REALTIME);
		r = qw_append(w, rec);
		if (r < 0) {
			printf("qrig-writer: write error on %s at block %" PRIu64
			       " (generation %" PRIu64 " seq %" PRIu64 "): %s\n",
			       o->device, w->next_block, rec->generation, rec->seq,
			       qw_strerror(r));
			return QW_EXIT_DISK;
		}
		if (rec->seq % QW_PROGRESS_EVERY == 0)
			printf("qrig-writer: seq %" PRIu64 "\n", rec->seq);
		if (o->count && rec->seq >= o->count)
			return QW_EXIT_OK;
		next += period;
		/* After a slow write go on at the interval, not in a burst. */
		if (next + period < qw_now_ns(CLOCK_MONOTONIC))
			next = qw_now_ns(CLOCK_MONOTONIC);
		qw_sleep_until(next);
	}
	printf("qrig-writer: stopped after seq %" PRIu64 "\n", rec->seq - 1);
	return QW_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct qw_opts o;
	struct qw w = { .o = &o, .fd = -1 };
	struct guest_record rec;
	struct sigaction sa;
	int r, rc;

	/* The console: every line as it happens, also when piped. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = qw_parse_args(argc, argv, &o);
	if (rc != 0)
		return rc;
	rc = QW_EXIT_DISK;
	/* A blocking getrandom() in here on an old kernel with no entropy
	 * yet: libsodium seeds its RNG, which the hash does not use. */
	if (sodium_init() < 0) {
		printf("qrig-writer: libsodium init failed\n");
		return QW_EXIT_DISK;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = qw_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);

	r = qw_open(&w);
	if (r == -EDOM) {
		printf("qrig-writer: %s: stride %" PRIu32 " is not a multiple of "
		       "its logical sector size\n", o.device, o.stride);
		rc = QW_EXIT_USAGE;
		goto out_close_fd;
	}
	if (r < 0) {
		printf("qrig-writer: %s: %s\n", o.device,
		       r == -ENOTBLK ? "not a block device or file" : strerror(-r));
		goto out_close_fd;
	}
	if (!w.direct)
		printf("qrig-writer: %s: no O_DIRECT here, writing with O_SYNC "
		       "only\n", o.device);
	if (posix_memalign((void **)&w.block, QW_ALIGN, o.stride) != 0 ||
	    posix_memalign((void **)&w.probe, QW_ALIGN, o.stride) != 0) {
		printf("qrig-writer: out of memory\n");
		goto out_free_block;
	}
	r = qw_scan(&w);
	if (r < 0) {
		printf("qrig-writer: read error on %s: %s\n", o.device,
		       qw_strerror(r));
		goto out_free_block;
	}
	if (w.other_vm[0]) {
		printf("qrig-writer: %s holds a record of vm '%s' at offset %" PRIu64
		       ", not of '%s': not writing\n", o.device, w.other_vm,
		       w.other_off, o.vm);
		goto out_free_block;
	}
	if (w.have_records && w.max_generation == UINT64_MAX) {
		printf("qrig-writer: %s: generation %" PRIu64 " has no successor\n",
		       o.device, w.max_generation);
		goto out_free_block;
	}

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.vm, sizeof(rec.vm), "%s", o.vm);
	snprintf(rec.host, sizeof(rec.host), "%s", o.host);
	rec.generation = w.have_records ? w.max_generation + 1 : 1;
	printf("qrig-writer: %s generation %" PRIu64 " from block %" PRIu64 "\n",
	       o.vm, rec.generation, w.next_block);
	rc = qw_run(&w, &rec);
out_free_block:
	free(w.probe);
	free(w.block);
out_close_fd:
	if (w.fd >= 0)
		(void)close(w.fd);
	(void)fflush(stdout);
	return rc;
}
