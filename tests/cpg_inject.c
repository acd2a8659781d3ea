/* cpg-inject: join xenmesh's CPG group as a foreign member, to check how
 * the agents treat what does not come from an agent.
 *
 *   cpg-inject [--group NAME] (--major N | --garbage) [--stay MS]
 *       multicast one frame of another protocol major, or plain garbage
 *   cpg-inject [--group NAME] --capture FILE --count N [--timeout MS]
 *              [--kind K,...]
 *       stay in the group and write the next N frames delivered from other
 *       members (only those of the kinds given: offer, chunk, update,
 *       request, refusal, heartbeat) to FILE, then leave; exit 1 when the
 *       timeout (default 10000 ms) comes first (FILE holds what came)
 *   cpg-inject [--group NAME] --replay FILE [--from-node] [--kind K,...]
 *              [--settle MS] [--stay MS]
 *       multicast each captured frame again, as this process (CPG gives
 *       the receivers this node's id and our pid), once the sync round
 *       our join starts is over (--settle, default 1500 ms: before it the
 *       agents drop everything but offers unseen); --from-node: only the
 *       frames captured from this node's id (the ones whose claimed
 *       sender matches the node id the receivers see)
 *
 * Run it on a node whose agent is in the group: the agents' sync round
 * waits for an offer from every member node, which this tool never sends.
 *
 * Capture file: the 8 bytes "XMCAP01\n", then per frame the sender's node
 * id, its pid and the frame's length (each 32-bit big endian), then the
 * frame as delivered (agent/wire.h header and protobuf payload).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#define CAP_MAGIC     "XMCAP01\n"
#define CAP_MAGIC_LEN 8
#define FRAME_MAX     (1024 * 1024)

/* Envelope body field numbers of proto/xenmesh.proto */
enum kind {
	KIND_OFFER = 10,
	KIND_CHUNK = 11,
	KIND_UPDATE = 12,
	KIND_REQUEST = 13,
	KIND_REFUSAL = 14,
	KIND_HEARTBEAT = 15,
};

static const struct {
	const char *name;
	int field;
} kinds[] = {
	{ "offer", KIND_OFFER }, { "chunk", KIND_CHUNK }, { "update", KIND_UPDATE },
	{ "request", KIND_REQUEST }, { "refusal", KIND_REFUSAL },
	{ "heartbeat", KIND_HEARTBEAT },
};

struct ctx {
	uint32_t local_id;
	uint32_t kind_mask;     /* 1 << field; 0: every kind */
	FILE *out;              /* --capture */
	long want;
	long got;
	int error;
};

/* ---- a minimal protobuf reader, to say what a frame is ------------------- */

static bool
pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The next field: its number, and its value (varint) or bytes. */
static bool
pb_next(const uint8_t **p, const uint8_t *end, uint32_t *field, uint64_t *v,
	const uint8_t **sub, size_t *sublen)
{
	uint64_t key;

	if (*p >= end || !pb_varint(p, end, &key))
		return false;
	*field = (uint32_t)(key >> 3);
	*v = 0;
	*sub = NULL;
	*sublen = 0;
	switch (key & 7) {
	case 0:
		return pb_varint(p, end, v);
	case 1:
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case 2:
		if (!pb_varint(p, end, v) || *v > (uint64_t)(end - *p))
			return false;
		*sub = *p;
		*sublen = (size_t)*v;
		*p += *v;
		return true;
	case 5:
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	default:
		return false;
	}
}

/* Varint fields 1..7 of a message (0 when absent), and the RingId at
 * field ring_field (0: none). */
static void
pb_fields(const uint8_t *p, size_t len, uint64_t f[8], uint32_t ring_field,
	  uint64_t ring[2])
{
	const uint8_t *end = p + len, *sub;
	uint64_t v;
	uint32_t field;
	size_t sublen;

	memset(f, 0, 8 * sizeof(f[0]));
	while (pb_next(&p, end, &field, &v, &sub, &sublen)) {
		if (sub != NULL && field == ring_field && ring_field != 0) {
			uint64_t r[8], none[2];

			pb_fields(sub, sublen, r, 0, none);
			ring[0] = r[1];
			ring[1] = r[2];
		} else if (sub == NULL && field < 8) {
			f[field] = v;
		}
	}
}

static const char *
kind_name(int field)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].field == field)
			return kinds[i].name;
	return "unknown";
}

/* The body's field number, 0 when the frame is not a readable envelope. */
static int
frame_kind(const uint8_t *buf, size_t len, uint64_t *claimed, const uint8_t **body,
	   size_t *body_len)
{
	const uint8_t *p = buf + 8, *end = buf + len, *sub;
	uint64_t v;
	uint32_t field;
	size_t sublen;
	int kind = 0;

	*claimed = 0;
	if (len < 8 || memcmp(buf, "XMSH", 4) != 0)
		return 0;
	while (pb_next(&p, end, &field, &v, &sub, &sublen)) {
		if (field == 1 && sub == NULL)
			*claimed = v;
		else if (field >= KIND_OFFER && field <= KIND_HEARTBEAT && sub != NULL) {
			kind = (int)field;
			*body = sub;
			*body_len = sublen;
		}
	}
	return kind;
}

static void
frame_describe(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	const uint8_t *body = NULL;
	size_t body_len = 0;
	uint64_t claimed, f[8], ring[2] = { 0, 0 };
	int kind = frame_kind(buf, len, &claimed, &body, &body_len);

	if (len < 8 || memcmp(buf, "XMSH", 4) != 0) {
		snprintf(out, outlen, "not a xenmesh frame");
		return;
	}
	if (kind == 0 || buf[4] != 0 || buf[5] != 1) {
		snprintf(out, outlen, "xenmesh %u.%u frame", (unsigned)(buf[4] << 8 | buf[5]),
			 (unsigned)(buf[6] << 8 | buf[7]));
		return;
	}
	switch (kind) {
	case KIND_OFFER:
		pb_fields(body, body_len, f, 0, ring);
		snprintf(out, outlen, "offer view %016" PRIx64 " epoch %" PRIu64
			 " seq %" PRIu64, f[1], f[2], f[3]);
		break;
	case KIND_CHUNK:
		pb_fields(body, body_len, f, 0, ring);
		snprintf(out, outlen, "chunk view %016" PRIx64 " %" PRIu64 "/%" PRIu64,
			 f[1], f[2], f[3]);
		break;
	case KIND_UPDATE:
		pb_fields(body, body_len, f, 3, ring);
		snprintf(out, outlen, "update epoch %" PRIu64 " seq %" PRIu64
			 " ring %" PRIu64 ".%" PRIu64, f[1], f[2], ring[0], ring[1]);
		break;
	case KIND_REQUEST:
		pb_fields(body, body_len, f, 4, ring);
		snprintf(out, outlen, "request %" PRIu64 " ring %" PRIu64 ".%" PRIu64,
			 f[1], ring[0], ring[1]);
		break;
	case KIND_REFUSAL:
		pb_fields(body, body_len, f, 0, ring);
		snprintf(out, outlen, "refusal of request %" PRIu64 " of node %" PRIu64,
			 f[2], f[1]);
		break;
	default:
		snprintf(out, outlen, "%s", kind_name(kind));
		break;
	}
	snprintf(out + strlen(out), outlen - strlen(out), " (claims sender %" PRIu64 ")",
		 claimed);
}

static bool
kind_wanted(const struct ctx *c, const uint8_t *buf, size_t len)
{
	const uint8_t *body;
	size_t body_len;
	uint64_t claimed;
	int kind;

	if (c->kind_mask == 0)
		return true;
	kind = frame_kind(buf, len, &claimed, &body, &body_len);
	return kind != 0 && (c->kind_mask & (1u << kind));
}

static int
kinds_parse(const char *list, uint32_t *mask)
{
	char *copy = strdup(list), *save = NULL;

	if (copy == NULL)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(t, kinds[i].name) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			fprintf(stderr, "cpg-inject: unknown kind '%s'\n", t);
			free(copy);
			return -EINVAL;
		}
		*mask |= 1u << kinds[i].field;
	}
	free(copy);
	return 0;
}

/* ---- capture file ---------------------------------------------------------- */

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One record: 0, 1 at the end of the file, -EBADMSG when truncated or
 * too large.  *buf is malloc'd. */
static int
record_read(FILE *f, uint32_t *nodeid, uint32_t *pid, uint8_t **buf, size_t *len)
{
	uint8_t hdr[12];
	size_t n = fread(hdr, 1, sizeof(hdr), f);

	if (n == 0 && feof(f))
		return 1;
	if (n != sizeof(hdr))
		return -EBADMSG;
	*nodeid = get_be32(hdr);
	*pid = get_be32(hdr + 4);
	*len = get_be32(hdr + 8);
	if (*len == 0 || *len > FRAME_MAX)
		return -EBADMSG;
	*buf = malloc(*len);
	if (*buf == NULL)
		return -ENOMEM;
	if (fread(*buf, 1, *len, f) != *len) {
		free(*buf);
		return -EBADMSG;
	}
	return 0;
}

/* ---- CPG ------------------------------------------------------------------- */

static void
deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
	void *msg, size_t len)
{
	struct ctx *c = NULL;
	uint8_t hdr[12];
	char what[160];

	if (cpg_context_get(h, (void **)&c) != CS_OK || c == NULL || c->out == NULL ||
	    c->got >= c->want || c->error != 0)
		return;
	if (nodeid == c->local_id && pid == (uint32_t)getpid())
		return;         /* our own */
	if (len > FRAME_MAX || !kind_wanted(c, msg, len))
		return;
	put_be32(hdr, nodeid);
	put_be32(hdr + 4, pid);
	put_be32(hdr + 8, (uint32_t)len);
	if (fwrite(hdr, 1, sizeof(hdr), c->out) != sizeof(hdr) ||
	    fwrite(msg, 1, len, c->out) != len) {
		c->error = errno ? errno : EIO;
		return;
	}
	c->got++;
	frame_describe(msg, len, what, sizeof(what));
	printf("captured %ld: node %" PRIu32 " pid %" PRIu32 ", %zu bytes: %s\n",
	       c->got, nodeid, pid, len, what);
	fflush(stdout);
}

static void
confchg(cpg_handle_t h, const struct cpg_name *g,
	const struct cpg_address *m, size_t nm, const struct cpg_address *l,
	size_t nl, const struct cpg_address *j, size_t nj)
{
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Stay in the group for ms, taking what it delivers. */
static void
dispatch_for(cpg_handle_t h, int fd, long ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (elapsed_ms(&t0) < ms) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			(void)cpg_dispatch(h, CS_DISPATCH_ALL);
	}
}

static int
mcast(cpg_handle_t h, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	for (int i = 0; i < 500; i++) {
		cs_error_t err = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);

		if (err == CS_OK)
			return 0;
		if (err != CS_ERR_TRY_AGAIN) {
			fprintf(stderr, "cpg-inject: multicast failed (%d)\n", err);
			return -EIO;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	fprintf(stderr, "cpg-inject: multicast still refused after 5 s\n");
	return -EAGAIN;
}

static int
run_inject(cpg_handle_t h, int fd, long major, bool garbage, long stay_ms)
{
	unsigned char frame[64];

	memset(frame, 0, sizeof(frame));
	if (garbage) {
		memcpy(frame, "definitely not a xenmesh frame", 30);
	} else {
		/* "XMSH", major, minor 0, then a payload only that major knows */
		memcpy(frame, "XMSH", 4);
		frame[4] = (unsigned char)(major >> 8);
		frame[5] = (unsigned char)major;
		memset(frame + 8, 0xa5, 32);
	}
	if (mcast(h, frame, garbage ? 30 : 40) < 0)
		return 1;
	dispatch_for(h, fd, stay_ms);
	return 0;
}

static int
run_capture(cpg_handle_t h, int fd, struct ctx *c, const char *file, long timeout_ms)
{
	struct timespec t0;
	bool done = false;
	int rc = 0;

	c->out = fopen(file, "wb");
	if (c->out == NULL) {
		fprintf(stderr, "cpg-inject: cannot create %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (fwrite(CAP_MAGIC, 1, CAP_MAGIC_LEN, c->out) != CAP_MAGIC_LEN)
		c->error = errno ? errno : EIO;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done && elapsed_ms(&t0) < timeout_ms) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			(void)cpg_dispatch(h, CS_DISPATCH_ALL);
		done = c->got >= c->want || c->error != 0;
	}
	if (fclose(c->out) != 0 && c->error == 0)
		c->error = errno ? errno : EIO;
	c->out = NULL;
	if (c->error != 0) {
		fprintf(stderr, "cpg-inject: cannot write %s: %s\n", file, strerror(c->error));
		rc = 1;
	} else if (c->got < c->want) {
		fprintf(stderr, "cpg-inject: only %ld of %ld frames within %ld ms (in %s)\n",
			c->got, c->want, timeout_ms, file);
		rc = 1;
	}
	printf("captured %ld frames to %s\n", c->got, file);
	return rc;
}

static int
run_replay(cpg_handle_t h, int fd, struct ctx *c, const char *file, bool from_node,
	   long settle_ms, long stay_ms)
{
	uint8_t magic[CAP_MAGIC_LEN];
	FILE *f = fopen(file, "rb");
	long sent = 0, total = 0;
	int rc = 0, r;

	if (f == NULL) {
		fprintf(stderr, "cpg-inject: cannot open %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, CAP_MAGIC, CAP_MAGIC_LEN) != 0) {
		fprintf(stderr, "cpg-inject: %s is not a capture file\n", file);
		fclose(f);
		return 1;
	}
	/* our join started a sync round: until it is over the agents drop
	 * all but offers without a word, which would prove nothing */
	dispatch_for(h, fd, settle_ms);
	for (;;) {
		uint32_t nodeid, pid;
		uint8_t *buf = NULL;
		size_t len = 0;
		char what[160];

		r = record_read(f, &nodeid, &pid, &buf, &len);
		if (r == 1)
			break;
		if (r < 0) {
			fprintf(stderr, "cpg-inject: %s: record %ld: %s\n", file, total + 1,
				strerror(-r));
			rc = 1;
			break;
		}
		total++;
		frame_describe(buf, len, what, sizeof(what));
		if ((from_node && nodeid != c->local_id) || !kind_wanted(c, buf, len)) {
			printf("skipped %ld: %s (captured from node %" PRIu32 ")\n", total,
			       what, nodeid);
			free(buf);
			continue;
		}
		r = mcast(h, buf, len);
		free(buf);
		if (r < 0) {
			rc = 1;
			break;
		}
		sent++;
		printf("sent %ld: %s, %zu bytes (captured from node %" PRIu32 " pid %"
		       PRIu32 ")\n", total, what, len, nodeid, pid);
		fflush(stdout);
	}
	fclose(f);
	printf("replayed %ld of %ld frames as node %" PRIu32 " pid %ld\n", sent, total,
	       c->local_id, (long)getpid());
	fflush(stdout);
	dispatch_for(h, fd, stay_ms);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: cpg-inject [--group NAME] (--major N | --garbage) [--stay MS]\n"
		"       cpg-inject [--group NAME] --capture FILE --count N [--timeout MS] [--kind K,...]\n"
		"       cpg-inject [--group NAME] --replay FILE [--from-node] [--kind K,...]\n"
		"                  [--settle MS] [--stay MS]\n"
		"  kinds: offer chunk update request refusal heartbeat\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "major", required_argument, NULL, 'm' },
		{ "garbage", no_argument, NULL, 'x' },
		{ "stay", required_argument, NULL, 's' },
		{ "capture", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "replay", required_argument, NULL, 'r' },
		{ "from-node", no_argument, NULL, 'f' },
		{ "kind", required_argument, NULL, 'k' },
		{ "settle", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	cpg_callbacks_t cb = { .cpg_deliver_fn = deliver, .cpg_confchg_fn = confchg };
	struct cpg_name group;
	struct ctx c;
	const char *name = "xenmesh", *capture = NULL, *replay = NULL;
	cpg_handle_t h;
	long major = -1, stay_ms = 2000, timeout_ms = 10000, settle_ms = 1500;
	bool garbage = false, from_node = false;
	unsigned int local = 0;
	int opt, fd, modes, rc = 1;

	memset(&c, 0, sizeof(c));
	c.want = -1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'g': name = optarg; break;
		case 'm': major = strtol(optarg, NULL, 10); break;
		case 'x': garbage = true; break;
		case 's': stay_ms = strtol(optarg, NULL, 10); break;
		case 'c': capture = optarg; break;
		case 'n': c.want = strtol(optarg, NULL, 10); break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 'r': replay = optarg; break;
		case 'f': from_node = true; break;
		case 'k':
			if (kinds_parse(optarg, &c.kind_mask) < 0)
				return 2;
			break;
		case 'S': settle_ms = strtol(optarg, NULL, 10); break;
		default: usage(); return 2;
		}
	}
	modes = (major >= 0) + garbage + (capture != NULL) + (replay != NULL);
	if (optind < argc || modes != 1 || major > 65535 ||
	    strlen(name) >= CPG_MAX_NAME_LENGTH || (capture != NULL && c.want <= 0) ||
	    (capture == NULL && c.want >= 0) || (from_node && replay == NULL) ||
	    (c.kind_mask != 0 && capture == NULL && replay == NULL) ||
	    stay_ms < 0 || timeout_ms < 0 || settle_ms < 0) {
		usage();
		return 2;
	}
	group.length = (uint32_t)strlen(name);
	memcpy(group.value, name, group.length);
	if (cpg_initialize(&h, &cb) != CS_OK) {
		fprintf(stderr, "cpg-inject: cannot connect to corosync\n");
		return 1;
	}
	if (cpg_local_get(h, &local) != CS_OK) {
		fprintf(stderr, "cpg-inject: cannot read the local node id\n");
		goto out;
	}
	c.local_id = local;
	(void)cpg_context_set(h, &c);
	if (cpg_join(h, &group) != CS_OK || cpg_fd_get(h, &fd) != CS_OK) {
		fprintf(stderr, "cpg-inject: cannot join %s\n", name);
		goto out;
	}
	if (capture != NULL)
		rc = run_capture(h, fd, &c, capture, timeout_ms);
	else if (replay != NULL)
		rc = run_replay(h, fd, &c, replay, from_node, settle_ms, stay_ms);
	else
		rc = run_inject(h, fd, major, garbage, stay_ms);
	(void)cpg_leave(h, &group);
out:
	cpg_finalize(h);
	return rc;
}
