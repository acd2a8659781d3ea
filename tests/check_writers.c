/* check-writers: prove from a test guest's disk that no two instances of
 * a VM ever wrote at once (installed as tests/rig/check-writers).
 *
 *   check-writers [--quiet] [--stride N] DISK [VM]
 *
 * Two layouts, as tests/guest.c writes them:
 *   file   records back to back (a disk file written with O_APPEND);
 *   block  record i at offset i * N (a LUN: block i), zeros after it to
 *          the block's end; the data ends at the first all-zero block.
 * The block layout is found by itself: a valid record at offset 0 then
 * zeros to 512 (or an all-zero first 512 bytes: an empty LUN); the
 * stride is 4096 when the rest of the first 4096 bytes is zero, else 512.
 * --stride N (176..1048576) forces the block layout with blocks of N.
 *
 * Reads every record (tests/guest_record.h) in disk order, which is the
 * order the writes reached the disk, and reports each violation:
 *   - a bad record: magic, version, checksum, or a truncated tail (offset);
 *   - block layout: bytes after a record not zero, data after the end of
 *     data (a writer skipped a block), a non-zero partial last block;
 *   - a record of another VM than VM (or than the first record's VM);
 *   - a record of an older generation after the first record of a newer
 *     one (the old instance kept writing after the new one started);
 *   - seq not strictly increasing within a generation;
 *   - a generation written by two hosts other than by a hand-off.
 * A live migration hands a generation from one host to another: the
 * source stops, the destination goes on with the next seq at the next
 * block.  So within a generation a change of host is a hand-off when the
 * new host's first record has exactly the previous record's seq + 1 (in
 * disk order); after it the old host writes that generation no more,
 * unless by another hand-off (a migration back).  Any other change of
 * host is a violation (two hosts interleaving, a gap or a repeat at the
 * change, the old host writing after its hand-off), and once a generation
 * has had one, every later change of host in it is one too.
 * Then a summary: records, each generation with its first host, count,
 * and hand-offs, each hand-off with its pause (the last record on the old
 * host to the first on the new), the longest pause of each generation,
 * and the restart gaps (last record of one generation to the first of the
 * next).
 *
 * Exit: 0 clean, 1 violation, 2 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_record.h"

#define CW_EXIT_CLEAN      0
#define CW_EXIT_VIOLATION  1
#define CW_EXIT_ERROR      2
/* A broken disk could yield one violation per record; the first ones say
 * what happened, the count says how much. */
#define CW_MAX_REPORTED    50
#define CW_PROBE_BYTES     4096         /* read to tell the layout */
#define CW_BLOCK_SMALL     512
#define CW_BLOCK_LARGE     4096
#define CW_STRIDE_MAX      (1024 * 1024)
#define CW_CHUNK_BYTES     (1024 * 1024)

struct cw_gen {
	uint64_t generation;
	char first_host[GUEST_RECORD_NAME_LEN];
	char host[GUEST_RECORD_NAME_LEN];       /* of the last record */
	char prev_host[GUEST_RECORD_NAME_LEN];  /* handed it off last, or "" */
	uint64_t handoff_off;                   /* where that hand-off was */
	bool overlapped;                        /* had a bad change of host */
	uint64_t count;
	uint64_t first_seq, last_seq;
	uint64_t first_ns, last_ns;
	uint64_t first_off;
	uint64_t handoffs;
	int64_t max_pause_ns;
};

/* A generation moved to another host, at offset `off`. */
struct cw_handoff {
	uint64_t generation;
	char from[GUEST_RECORD_NAME_LEN];
	char to[GUEST_RECORD_NAME_LEN];
	uint64_t off;
	uint64_t seq;                           /* the first on the new host */
	int64_t pause_ns;
};

struct cw {
	bool quiet;
	const char *disk;
	uint32_t stride;                        /* block layout; 0: file layout */
	bool have_end;
	uint64_t end_off;                       /* first all-zero block */
	char vm[GUEST_RECORD_NAME_LEN];         /* "" until known */
	uint64_t records;
	uint64_t violations;
	struct cw_gen *gens;                    /* in order of first record */
	size_t n_gens, cap_gens;
	struct cw_gen *newest;                  /* highest generation so far */
	struct cw_handoff *handoffs;            /* in disk order */
	size_t n_handoffs, cap_handoffs;
};

static void
cw_violation(struct cw *c, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
cw_violation(struct cw *c, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	c->violations++;
	if (c->violations > CW_MAX_REPORTED)
		return;
	printf("violation at offset %" PRIu64 ": ", off);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static struct cw_gen *
cw_gen_find(struct cw *c, uint64_t generation)
{
	/* Newest first: nearly every record belongs to the last one. */
	for (size_t i = c->n_gens; i > 0; i--) {
		if (c->gens[i - 1].generation == generation)
			return &c->gens[i - 1];
	}
	return NULL;
}

static struct cw_gen *
cw_gen_add(struct cw *c, const struct guest_record *r, uint64_t off)
{
	struct cw_gen *g;

	if (c->n_gens == c->cap_gens) {
		size_t cap = c->cap_gens ? c->cap_gens * 2 : 16;
		size_t newest = c->newest ? (size_t)(c->newest - c->gens) : 0;
		struct cw_gen *p = realloc(c->gens, cap * sizeof(*p));

		if (!p)
			return NULL;
		c->gens = p;
		c->cap_gens = cap;
		if (c->newest)
			c->newest = &c->gens[newest];
	}
	g = &c->gens[c->n_gens++];
	memset(g, 0, sizeof(*g));
	g->generation = r->generation;
	memcpy(g->first_host, r->host, sizeof(g->first_host));
	memcpy(g->host, r->host, sizeof(g->host));
	g->first_seq = r->seq;
	g->last_seq = r->seq;
	g->first_ns = r->time_ns;
	g->last_ns = r->time_ns;
	g->first_off = off;
	return g;
}

/* Record r of generation g on another host than the last record: a
 * hand-off (0), a violation (0), or -ENOMEM. */
static int
cw_host_change(struct cw *c, struct cw_gen *g, const struct guest_record *r,
	       uint64_t off)
{
	struct cw_handoff *h;

	if (g->overlapped) {
		cw_violation(c, off, "generation %" PRIu64 " written by two hosts: "
			     "%s and %s (after an earlier overlap)", r->generation,
			     g->host, r->host);
		goto out_host;
	}
	if (g->prev_host[0] && strcmp(g->prev_host, r->host) == 0 &&
	    r->seq != g->last_seq + 1) {
		cw_violation(c, off, "generation %" PRIu64 " written by two hosts: "
			     "%s and %s (%s wrote again after handing it off at "
			     "offset %" PRIu64 ")", r->generation, g->host, r->host,
			     r->host, g->handoff_off);
		g->overlapped = true;
		goto out_host;
	}
	if (r->seq != g->last_seq + 1) {
		cw_violation(c, off, "generation %" PRIu64 " written by two hosts: "
			     "%s and %s (seq %" PRIu64 " after seq %" PRIu64 ": not "
			     "a hand-off)", r->generation, g->host, r->host, r->seq,
			     g->last_seq);
		g->overlapped = true;
		goto out_host;
	}
	if (c->n_handoffs == c->cap_handoffs) {
		size_t cap = c->cap_handoffs ? c->cap_handoffs * 2 : 8;
		struct cw_handoff *p = realloc(c->handoffs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->handoffs = p;
		c->cap_handoffs = cap;
	}
	h = &c->handoffs[c->n_handoffs++];
	h->generation = r->generation;
	memcpy(h->from, g->host, sizeof(h->from));
	memcpy(h->to, r->host, sizeof(h->to));
	h->off = off;
	h->seq = r->seq;
	h->pause_ns = (int64_t)(r->time_ns - g->last_ns);
	if (g->handoffs == 0 || h->pause_ns > g->max_pause_ns)
		g->max_pause_ns = h->pause_ns;
	g->handoffs++;
	memcpy(g->prev_host, g->host, sizeof(g->prev_host));
	g->handoff_off = off;
out_host:
	memcpy(g->host, r->host, sizeof(g->host));
	return 0;
}

/* 0, or -ENOMEM. */
static int
cw_record(struct cw *c, const struct guest_record *r, uint64_t off)
{
	struct cw_gen *g;

	c->records++;
	if (!c->vm[0])
		memcpy(c->vm, r->vm, sizeof(c->vm));
	else if (strcmp(c->vm, r->vm) != 0)
		cw_violation(c, off, "record of vm '%s' on the disk of '%s'",
			     r->vm, c->vm);

	if (c->newest && r->generation < c->newest->generation)
		cw_violation(c, off, "generation %" PRIu64 " (host %s) wrote after "
			     "generation %" PRIu64 " (host %s) started at offset %" PRIu64,
			     r->generation, r->host, c->newest->generation,
			     c->newest->host, c->newest->first_off);

	g = cw_gen_find(c, r->generation);
	if (!g) {
		g = cw_gen_add(c, r, off);
		if (!g)
			return -ENOMEM;
		g->count = 1;
		if (!c->newest || g->generation > c->newest->generation)
			c->newest = g;
		return 0;
	}

	if (strcmp(g->host, r->host) != 0 && cw_host_change(c, g, r, off) < 0)
		return -ENOMEM;
	if (r->seq <= g->last_seq)
		cw_violation(c, off, "generation %" PRIu64 " seq %" PRIu64
			     " after seq %" PRIu64 " (not increasing)",
			     r->generation, r->seq, g->last_seq);
	g->count++;
	g->last_seq = r->seq;
	g->last_ns = r->time_ns;
	return 0;
}

static const char *
cw_decode_error(int r)
{
	switch (r) {
	case -EBADMSG:
		return "bad magic or malformed record";
	case -EPROTONOSUPPORT:
		return "unknown record version";
	case XM_ECORRUPT:
		return "checksum mismatch";
	default:
		return "undecodable record";
	}
}

/* 0, or -errno on a read error (the caller says which file). */
static int
cw_scan(struct cw *c, int fd)
{
	uint8_t buf[GUEST_RECORD_SIZE];
	struct guest_record rec;
	uint64_t off = 0;
	size_t have = 0;
	int r;

	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have < sizeof(buf))
			continue;
		have = 0;
		r = guest_record_decode(buf, &rec);
		if (r == -EIO)
			return r;
		if (r < 0)
			cw_violation(c, off, "%s", cw_decode_error(r));
		else if ((r = cw_record(c, &rec, off)) < 0)
			return r;
		off += sizeof(buf);
	}
	if (have)
		cw_violation(c, off, "truncated record (%zu of %d bytes)",
			     have, GUEST_RECORD_SIZE);
	return 0;
}

static bool
cw_is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* Fills buf unless the file ends first: the bytes read, or -errno. */
static ssize_t
cw_read_full(int fd, uint8_t *buf, size_t len)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = read(fd, buf + have, len - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

/* Block layout from the first bytes: the stride, or 0 for the file
 * layout; -errno when the disk cannot be read. */
static int64_t
cw_probe_layout(int fd)
{
	uint8_t buf[CW_PROBE_BYTES];
	struct guest_record rec;
	ssize_t n;

	do {
		n = pread(fd, buf, sizeof(buf), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n < CW_BLOCK_SMALL)
		return 0;
	if (!cw_is_zero(buf, CW_BLOCK_SMALL) &&
	    (guest_record_decode(buf, &rec) < 0 ||
	     !cw_is_zero(buf + GUEST_RECORD_SIZE,
			 CW_BLOCK_SMALL - GUEST_RECORD_SIZE)))
		return 0;
	if (n == CW_BLOCK_LARGE &&
	    cw_is_zero(buf + CW_BLOCK_SMALL, CW_BLOCK_LARGE - CW_BLOCK_SMALL))
		return CW_BLOCK_LARGE;
	return CW_BLOCK_SMALL;
}

/* One block of the block layout at off. */
static int
cw_block(struct cw *c, const uint8_t *blk, uint64_t off)
{
	struct guest_record rec;
	int r;

	if (c->have_end) {
		if (!cw_is_zero(blk, c->stride))
			cw_violation(c, off, "data after the end of data at offset %"
				     PRIu64, c->end_off);
		return 0;
	}
	if (cw_is_zero(blk, c->stride)) {
		c->have_end = true;
		c->end_off = off;
		return 0;
	}
	r = guest_record_decode(blk, &rec);
	if (r == -EIO)
		return r;
	if (r < 0) {
		cw_violation(c, off, "%s", cw_decode_error(r));
		return 0;
	}
	if (!cw_is_zero(blk + GUEST_RECORD_SIZE, c->stride - GUEST_RECORD_SIZE))
		cw_violation(c, off, "bytes after the record not zero");
	return cw_record(c, &rec, off);
}

/* Block layout: every block to the end of the disk, so that data after
 * the end of data is seen too.  0, or -errno. */
static int
cw_scan_blocks(struct cw *c, int fd)
{
	size_t chunk = CW_CHUNK_BYTES / c->stride * c->stride;
	uint64_t off = 0;
	uint8_t *buf;
	int r = 0;

	if (chunk == 0)
		chunk = c->stride;
	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = cw_read_full(fd, buf, chunk);
		size_t i;

		if (n < 0) {
			r = (int)n;
			break;
		}
		for (i = 0; i + c->stride <= (size_t)n; i += c->stride) {
			r = cw_block(c, buf + i, off);
			if (r < 0)
				goto out_free;
			off += c->stride;
		}
		if (i < (size_t)n && !cw_is_zero(buf + i, (size_t)n - i))
			cw_violation(c, off, "truncated block (%zu of %" PRIu32 " bytes)",
				     (size_t)n - i, c->stride);
		if ((size_t)n < chunk)
			break;
	}
out_free:
	free(buf);
	return r;
}

static void
cw_summary(const struct cw *c)
{
	uint64_t max_gap = 0;
	bool any_gap = false;

	printf("%s: %" PRIu64 " records, %zu generations, vm %s\n", c->disk,
	       c->records, c->n_gens, c->vm[0] ? c->vm : "-");
	if (c->stride && c->have_end)
		printf("blocks of %" PRIu32 " bytes, end of data at offset %" PRIu64
		       " (block %" PRIu64 ")\n", c->stride, c->end_off,
		       c->end_off / c->stride);
	else if (c->stride)
		printf("blocks of %" PRIu32 " bytes, no end of data (the disk is "
		       "full)\n", c->stride);
	for (size_t i = 0; i < c->n_gens; i++) {
		const struct cw_gen *g = &c->gens[i];

		printf("generation %" PRIu64 " host %s records %" PRIu64
		       " seq %" PRIu64 "..%" PRIu64, g->generation, g->first_host,
		       g->count, g->first_seq, g->last_seq);
		if (g->handoffs)
			printf(" hand-offs %" PRIu64 " last host %s", g->handoffs,
			       g->host);
		putchar('\n');
	}
	for (size_t i = 0; i < c->n_handoffs; i++) {
		const struct cw_handoff *h = &c->handoffs[i];

		printf("hand-off generation %" PRIu64 " %s -> %s at offset %" PRIu64
		       " seq %" PRIu64 " pause %" PRId64 " ms\n", h->generation,
		       h->from, h->to, h->off, h->seq, h->pause_ns / 1000000);
	}
	for (size_t i = 0; i < c->n_gens; i++) {
		const struct cw_gen *g = &c->gens[i];

		if (g->handoffs)
			printf("max pause generation %" PRIu64 " %" PRId64 " ms\n",
			       g->generation, g->max_pause_ns / 1000000);
	}
	for (size_t i = 1; i < c->n_gens; i++) {
		const struct cw_gen *a = &c->gens[i - 1], *b = &c->gens[i];
		int64_t gap_ms = ((int64_t)b->first_ns - (int64_t)a->last_ns) / 1000000;

		printf("gap %" PRIu64 " -> %" PRIu64 " %" PRId64 " ms\n",
		       a->generation, b->generation, gap_ms);
		if (gap_ms > 0 && (uint64_t)gap_ms > max_gap)
			max_gap = (uint64_t)gap_ms;
		any_gap = true;
	}
	if (any_gap)
		printf("max gap %" PRIu64 " ms\n", max_gap);
	if (c->violations > CW_MAX_REPORTED)
		printf("(%" PRIu64 " more violations not shown)\n",
		       c->violations - CW_MAX_REPORTED);
	printf("%s: %" PRIu64 " violations\n", c->violations ? "FAIL" : "OK",
	       c->violations);
}

static void
cw_usage(FILE *f)
{
	fprintf(f, "usage: check-writers [--quiet] DISK [VM]\n"
		"       check-writers [--quiet] --stride N DISK [VM]\n"
		"the layout (records back to back, or one per block of 512 or 4096\n"
		"bytes) is found by itself; --stride N forces blocks of N bytes\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "stride", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cw c = { 0 };
	int fd, opt, r, rc = CW_EXIT_ERROR;
	bool have_stride = false;
	int64_t layout;
	char *end;
	unsigned long v;

	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			c.quiet = true;
			break;
		case 's':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' ||
			    v < GUEST_RECORD_SIZE || v > CW_STRIDE_MAX) {
				fprintf(stderr, "check-writers: bad stride '%s' "
					"(%d..%d)\n", optarg, GUEST_RECORD_SIZE,
					CW_STRIDE_MAX);
				return CW_EXIT_ERROR;
			}
			c.stride = (uint32_t)v;
			have_stride = true;
			break;
		case 'h':
			cw_usage(stdout);
			return CW_EXIT_CLEAN;
		default:
			cw_usage(stderr);
			return CW_EXIT_ERROR;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		cw_usage(stderr);
		return CW_EXIT_ERROR;
	}
	c.disk = argv[optind];
	if (argc - optind == 2) {
		if (!*argv[optind + 1] ||
		    strlen(argv[optind + 1]) >= GUEST_RECORD_NAME_LEN) {
			fprintf(stderr, "check-writers: bad vm name '%s'\n",
				argv[optind + 1]);
			return CW_EXIT_ERROR;
		}
		snprintf(c.vm, sizeof(c.vm), "%s", argv[optind + 1]);
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "check-writers: libsodium init failed\n");
		return CW_EXIT_ERROR;
	}
	fd = open(c.disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "check-writers: %s: %s\n", c.disk, strerror(errno));
		return CW_EXIT_ERROR;
	}
	layout = have_stride ? c.stride : cw_probe_layout(fd);
	if (layout < 0) {
		r = (int)layout;
	} else {
		c.stride = (uint32_t)layout;
		r = c.stride ? cw_scan_blocks(&c, fd) : cw_scan(&c, fd);
	}
	close(fd);
	if (r < 0) {
		fprintf(stderr, "check-writers: %s: %s\n", c.disk, strerror(-r));
		goto out_free;
	}
	if (!c.quiet)
		cw_summary(&c);
	rc = c.violations ? CW_EXIT_VIOLATION : CW_EXIT_CLEAN;
out_free:
	free(c.handoffs);
	free(c.gens);
	return rc;
}
