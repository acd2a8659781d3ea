/* libFuzzer target: the peer channel (agent/peer.c, agent/peer_crypto.c)
 * as the other side of a connection sees it: the handshake of both the
 * accepting and the dialing side, then the frames of the splice.
 *
 * agent/peer.c is compiled into this file, so that its connections are
 * driven by their own static pump (sock_fn, fd_fn, conn_timer_fn: what the
 * loop would call) over a socketpair instead of TCP: the harness holds the
 * other end and a local stream (the accept hook's or the dialer's fd).
 * The qb_loop is real and never runs; the harness calls the pump whenever
 * it has written something, as if the socket had become ready.  libsodium's
 * random numbers are made deterministic (per input) so that a transcript
 * with valid proofs stays valid.
 *
 * Input: byte 0, bit 0: the side under test (0 accepting, 1 dialing);
 * bit 1: how the harness plays the other side:
 *   0 raw: the rest is the other side's bytes, sent at once, then EOF;
 *   1 smart: the harness does the handshake right (it has the cluster key)
 *     and the rest are operations, a byte (its low 3 bits) and arguments:
 *       0 TYPE TAGSEL LEN16 DATA  a frame sealed with the session key
 *                                 (tag: 0 message, 1 push, 2 rekey, 3 final)
 *       1 LEN DATA                raw bytes (a bad length, a bad tag)
 *       2                         EOF from the other side
 *       3 LEN DATA                data written to the local stream
 *       4                         EOF on the local stream
 *       5 LEN16 TAGSEL            a 'D' frame of LEN16 + 16 bytes of
 *                                 payload (so past the 64 KiB limit too)
 *       6                         the connection's timer expires
 *       7                         nothing: the pump runs again
 * On the accepting side the accept hook looks at the hello: 'R' first
 * refuses, 'X' aborts the connection from inside the hook, 'B' gives no
 * stream socket; anything else is accepted with the local stream.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "peer.c"
#pragma GCC diagnostic pop

#define FP_PUMPS     8
#define FP_BIG       (PEER_FRAME_PLAIN + 64)
#define FP_HELLO     "fuzz hello"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- deterministic randomness ------------------------------------------ */

/* Two streams: the side under test's, and the harness's own (its
 * secretstream headers), so that one does not shift the other. */
static uint64_t fp_rng_state[2];
static int fp_rng_remote;

static uint64_t
fp_rng_next(void)
{
	uint64_t z = (fp_rng_state[fp_rng_remote] += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *
fp_rng_name(void)
{
	return "fuzz_peer";
}

static uint32_t
fp_rng_random(void)
{
	return (uint32_t)fp_rng_next();
}

static void
fp_rng_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < size; i += 8) {
		uint64_t v = fp_rng_next();
		size_t n = size - i < 8 ? size - i : 8;

		memcpy(p + i, &v, n);
	}
}

static randombytes_implementation fp_rng = {
	.implementation_name = fp_rng_name,
	.random = fp_rng_random,
	.buf = fp_rng_buf,
};

/* ---- one connection and the other side ---------------------------------- */

struct fp_run {
	struct peer *p;
	struct peer_conn *c;
	int sv[2];              /* [0] the connection's socket, [1] the other side */
	int lsv[2];             /* [0] spliced with, [1] the harness's end */
	int n_done;
	crypto_secretstream_xchacha20poly1305_state tx, rx;    /* other side */
	uint8_t nd[PEER_NONCE], na[PEER_NONCE];
};

static qb_loop_t *fp_loop;
static struct fp_run fr;
static const uint8_t fp_key[PEER_KEY_BYTES] = {
	0x5a, 0x5a, 0x5a, 0x5a, 0x01, 0x02, 0x03, 0x04,
	0x5a, 0x5a, 0x5a, 0x5a, 0x05, 0x06, 0x07, 0x08,
	0x5a, 0x5a, 0x5a, 0x5a, 0x09, 0x0a, 0x0b, 0x0c,
	0x5a, 0x5a, 0x5a, 0x5a, 0x0d, 0x0e, 0x0f, 0x10,
};
static uint8_t fp_plain[FP_BIG];
static uint8_t fp_wire[4 + FP_BIG + PEER_ABYTES];
/* gen_seeds.c (which includes this file) records what the other side sent. */
static void (*fp_record)(const uint8_t *buf, size_t len);

static void
fp_done(void *arg, int rc, const char *why)
{
	(void)arg;
	(void)rc;
	(void)why;
	/* peer.h: exactly once */
	if (fr.n_done++ != 0)
		abort();
}

static int
fp_accept(void *arg, struct peer_conn *c, const char *from_addr,
	  const uint8_t *hello, size_t len, int *fd,
	  void (**done)(void *done_arg, int rc, const char *why),
	  void **done_arg, char *why, size_t whylen)
{
	(void)arg;
	(void)from_addr;
	*done = fp_done;
	*done_arg = &fr;
	if (len > 0 && hello[0] == 'R') {
		peer_text_copy(why, whylen, hello + 1, len - 1);
		return -EPERM;
	}
	if (len > 0 && hello[0] == 'X') {
		peer_conn_abort(c);
		*fd = fr.lsv[0];
		return 0;
	}
	*fd = len > 0 && hello[0] == 'B' ? -1 : fr.lsv[0];
	return 0;
}

static bool
fp_alive(void)
{
	for (struct peer_conn *c = fr.p->conns; c != NULL; c = c->next)
		if (c == fr.c)
			return !c->dead;
	return false;
}

static void
fp_drain(int fd)
{
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* The loop would call these as the fds become ready: call them as if. */
static void
fp_pump(void)
{
	for (int i = 0; i < FP_PUMPS && fp_alive(); i++) {
		struct peer_conn *c = fr.c;

		if (c->st == CS_SPLICE && c->fd >= 0)
			(void)fd_fn(c->fd, POLLIN | POLLOUT, c);
		if (!fp_alive())
			break;
		(void)sock_fn(c->sock, POLLIN | POLLOUT, c);
		fp_drain(fr.lsv[1]);
	}
}

static void
fp_send(const uint8_t *buf, size_t len)
{
	if (fp_record != NULL)
		fp_record(buf, len);
	for (int tries = 0; len > 0 && tries < 16; tries++) {
		ssize_t n = send(fr.sv[1], buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return;
		fp_pump();
		fp_drain(fr.sv[1]);
	}
}

/* Exactly len bytes the side under test sent, or false. */
static bool
fp_recv(uint8_t *buf, size_t len)
{
	size_t got = 0;

	for (int tries = 0; got < len && tries < 4; tries++) {
		ssize_t n = recv(fr.sv[1], buf + got, len - got, MSG_DONTWAIT);

		if (n > 0) {
			got += (size_t)n;
			tries = 0;
			continue;
		}
		fp_pump();
	}
	return got == len;
}

static void
fp_push_init(uint8_t hdr[PEER_SS_HEADER], enum peer_label label)
{
	uint8_t k[32];

	peer_derive(fp_key, label, fr.nd, fr.na, k);
	fp_rng_remote = 1;
	(void)crypto_secretstream_xchacha20poly1305_init_push(&fr.tx, hdr, k);
	fp_rng_remote = 0;
}

static bool
fp_pull_init(const uint8_t hdr[PEER_SS_HEADER], enum peer_label label)
{
	uint8_t k[32];

	peer_derive(fp_key, label, fr.nd, fr.na, k);
	return crypto_secretstream_xchacha20poly1305_init_pull(&fr.rx, hdr, k) == 0;
}

/* The harness dials the side under test: M1, proof, its header. */
static bool
fp_dial_it(void)
{
	uint8_t m[PEER_M4], proof[PEER_PROOF];

	memset(fr.nd, 0xd1, sizeof(fr.nd));
	peer_prefix_put(m, PEER_PROTO_VERSION);
	memcpy(m + PEER_PREFIX, fr.nd, PEER_NONCE);
	fp_send(m, PEER_M1);
	fp_pump();
	if (!fp_recv(m, PEER_M1))
		return false;
	memcpy(fr.na, m + PEER_PREFIX, PEER_NONCE);
	peer_derive(fp_key, PEER_L_PROOF_DIALER, fr.nd, fr.na, proof);
	fp_send(proof, sizeof(proof));
	fp_pump();
	if (!fp_recv(m, PEER_M4) || m[0] != 0 ||
	    !peer_proof_ok(fp_key, PEER_L_PROOF_ACCEPTOR, fr.nd, fr.na, m + 1) ||
	    !fp_pull_init(m + 1 + PEER_PROOF, PEER_L_KEY_A2D))
		return false;
	fp_push_init(m, PEER_L_KEY_D2A);
	fp_send(m, PEER_SS_HEADER);
	fp_pump();
	return true;
}

/* The side under test dials the harness: M2, M4 with its header. */
static bool
fp_accept_it(void)
{
	uint8_t m[PEER_M4];

	if (!fp_recv(m, PEER_M1))
		return false;
	memcpy(fr.nd, m + PEER_PREFIX, PEER_NONCE);
	memset(fr.na, 0xa2, sizeof(fr.na));
	peer_prefix_put(m, PEER_PROTO_VERSION);
	memcpy(m + PEER_PREFIX, fr.na, PEER_NONCE);
	fp_send(m, PEER_M1);
	fp_pump();
	if (!fp_recv(m, PEER_PROOF) ||
	    !peer_proof_ok(fp_key, PEER_L_PROOF_DIALER, fr.nd, fr.na, m))
		return false;
	m[0] = 0;
	peer_derive(fp_key, PEER_L_PROOF_ACCEPTOR, fr.nd, fr.na, m + 1);
	fp_push_init(m + 1 + PEER_PROOF, PEER_L_KEY_A2D);
	fp_send(m, PEER_M4);
	fp_pump();
	return fp_recv(m, PEER_SS_HEADER) && fp_pull_init(m, PEER_L_KEY_D2A);
}

static const uint8_t fp_tags[4] = {
	PEER_TAG_MESSAGE,
	crypto_secretstream_xchacha20poly1305_TAG_PUSH,
	crypto_secretstream_xchacha20poly1305_TAG_REKEY,
	PEER_TAG_FINAL,
};

static void
fp_frame(uint8_t type, uint8_t tagsel, const uint8_t *payload, size_t len,
	 bool fill)
{
	if (len + 1 > sizeof(fp_plain))
		len = sizeof(fp_plain) - 1;
	fp_plain[0] = type;
	if (fill)
		memset(fp_plain + 1, 'd', len);
	else if (len > 0)
		memcpy(fp_plain + 1, payload, len);
	fp_send(fp_wire, peer_frame_seal(&fr.tx, fp_wire, fp_plain, 1 + len,
					 fp_tags[tagsel & 3]));
}

/* How many bytes of the input an argument of n bytes may take. */
static size_t
fp_take(const uint8_t **d, size_t *size, size_t n)
{
	if (n > *size)
		n = *size;
	*d += n;
	*size -= n;
	return n;
}

static void
fp_ops(const uint8_t *d, size_t size)
{
	while (size > 0) {
		uint8_t op = d[0] & 7;
		const uint8_t *arg;
		size_t len;

		fp_take(&d, &size, 1);
		switch (op) {
		case 0:
			if (size < 4)
				return;
			len = (size_t)d[2] << 8 | d[3];
			arg = d;
			fp_take(&d, &size, 4);
			len = fp_take(&d, &size, len);
			fp_frame(arg[0], arg[1], arg + 4, len, false);
			break;
		case 1:
		case 3:
			if (size < 1)
				return;
			len = d[0];
			fp_take(&d, &size, 1);
			arg = d;
			len = fp_take(&d, &size, len);
			if (op == 1)
				fp_send(arg, len);
			else
				(void)send(fr.lsv[1], arg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		case 2:
			(void)shutdown(fr.sv[1], SHUT_WR);
			break;
		case 4:
			(void)shutdown(fr.lsv[1], SHUT_WR);
			break;
		case 5:
			if (size < 3)
				return;
			len = ((size_t)d[0] << 8 | d[1]) + 16;
			arg = d;
			fp_take(&d, &size, 3);
			fp_frame(PEER_F_DATA, arg[2], NULL, len, true);
			break;
		case 6:
			if (fp_alive() && fr.c->timer != 0) {
				(void)qb_loop_timer_del(fp_loop, fr.c->timer);
				fr.c->timer = 0;
				conn_timer_fn(fr.c);
			}
			break;
		default:
			break;
		}
		fp_pump();
		fp_drain(fr.sv[1]);
	}
}

/* The dialing side as peer_dial makes it, with a socketpair for the TCP
 * connection that connect() would have made. */
static void
fp_dialer_new(void)
{
	struct peer_conn *c = conn_new(fr.p, true);

	if (c == NULL)
		abort();
	c->hello = malloc(sizeof(FP_HELLO));
	if (c->hello == NULL)
		abort();
	memcpy(c->hello, FP_HELLO, sizeof(FP_HELLO));
	c->hello_len = sizeof(FP_HELLO);
	c->sock = fr.sv[0];
	(void)snprintf(c->addr, sizeof(c->addr), "192.0.2.8:7301");
	c->fd = fr.lsv[0];
	randombytes_buf(c->nd, PEER_NONCE);
	c->st = CS_CONNECTING;
	if (timer_set(c, fr.p->hs_ms) != 0 || conn_polls(c) != 0)
		abort();
	c->done = fp_done;
	c->done_arg = &fr;
	c->next = fr.p->conns;
	fr.p->conns = c;
	fr.p->stats.dialed++;
	fr.c = c;
	/* connected */
	(void)sock_fn(c->sock, POLLOUT, c);
}

static void
fp_setup(bool dialer)
{
	struct peer_config cfg;
	struct peer_hooks hooks = { .accept = fp_accept };

	if (fp_loop == NULL) {
		randombytes_set_implementation(&fp_rng);
		if (sodium_init() < 0)
			abort();
		fp_loop = qb_loop_create();
		if (fp_loop == NULL)
			abort();
	}
	fp_rng_state[0] = 0x0123456789abcdefULL;
	fp_rng_state[1] = 0xfedcba9876543210ULL;
	fp_rng_remote = 0;
	memset(&fr, 0, sizeof(fr));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fr.sv) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fr.lsv) < 0)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.key, fp_key, sizeof(cfg.key));
	if (peer_open(&fr.p, fp_loop, &cfg, &hooks, &fr) != 0)
		abort();
	if (dialer) {
		fp_dialer_new();
	} else {
		conn_accept(fr.p, fr.sv[0], "192.0.2.7:40000");
		fr.c = fr.p->conns;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool dialer, smart;

	if (size < 1)
		return 0;
	dialer = data[0] & 1;
	smart = data[0] & 2;
	fp_setup(dialer);
	data++;
	size--;
	if (!smart) {
		fp_send(data, size);
		fp_pump();
		(void)shutdown(fr.sv[1], SHUT_WR);
		fp_pump();
	} else if (dialer ? fp_accept_it() : fp_dial_it()) {
		fp_drain(fr.sv[1]);
		fp_ops(data, size);
	}
	fp_pump();
	/* every connection ends here; its done once */
	peer_close(fr.p);
	if (fr.n_done > 1)
		abort();
	(void)close(fr.sv[1]);
	(void)close(fr.lsv[0]);
	(void)close(fr.lsv[1]);
	return 0;
}
