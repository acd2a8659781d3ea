/* The peer channel's wire protocol (see peer.h), libsodium only: the key
 * file, the proofs of the cluster key, the session keys, the frames, the
 * handshake steps of both sides and the byte I/O they use.  peer.c runs
 * the connections on the loop and splices. */
#define LOG_SUBSYS "peer"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "peer_int.h"
#include "xm_error.h"

#define KEY_CONTEXT "xenmesh peer channel key v1"

/* NUL-terminated, none a prefix of another: label || nd || na is unique. */
static const char *const labels[] = {
	[PEER_L_PROOF_DIALER] = "xenmesh-peer-1 dialer proof",
	[PEER_L_PROOF_ACCEPTOR] = "xenmesh-peer-1 acceptor proof",
	[PEER_L_KEY_D2A] = "xenmesh-peer-1 dialer to acceptor",
	[PEER_L_KEY_A2D] = "xenmesh-peer-1 acceptor to dialer",
};

/* ---- the key file -------------------------------------------------------- */

static int
key_err(char *err, size_t errlen, int rc, const char *path, const char *what)
{
	(void)snprintf(err, errlen, "key file %s: %s", path, what);
	return rc;
}

int
peer_key_load(const char *path, uint8_t key[PEER_KEY_BYTES], char *err,
	      size_t errlen)
{
	uint8_t buf[PEER_KEYFILE_MAX + 1];
	crypto_generichash_state h;
	char what[160];
	struct stat stb;
	size_t len = 0;
	int fd, rc;

	if (sodium_init() < 0)
		return key_err(err, errlen, -ENOSYS, path, "libsodium does not start");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		(void)snprintf(what, sizeof(what), "%s%s", strerror(-rc),
			       rc == -ENOENT ? " (make one with xenmesh-keygen and copy "
			       "it to every node)" : "");
		return key_err(err, errlen, rc, path, what);
	}
	if (fstat(fd, &stb) < 0) {
		rc = -errno;
		(void)key_err(err, errlen, rc, path, strerror(-rc));
		goto out_close;
	}
	if (!S_ISREG(stb.st_mode)) {
		rc = key_err(err, errlen, -EINVAL, path, "not a regular file");
		goto out_close;
	}
	if (stb.st_uid != 0 && stb.st_uid != geteuid()) {
		(void)snprintf(what, sizeof(what), "owned by uid %u, not root",
			       (unsigned)stb.st_uid);
		rc = key_err(err, errlen, -EPERM, path, what);
		goto out_close;
	}
	if (stb.st_mode & (S_IRWXG | S_IRWXO)) {
		(void)snprintf(what, sizeof(what), "mode %04o gives access to group "
			       "or others; chmod 0400 it", (unsigned)(stb.st_mode & 07777));
		rc = key_err(err, errlen, -EACCES, path, what);
		goto out_close;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			(void)key_err(err, errlen, rc, path, strerror(-rc));
			goto out_wipe;
		}
		if (n == 0 || len + (size_t)n == sizeof(buf)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	if (len < PEER_KEYFILE_MIN || len > PEER_KEYFILE_MAX) {
		(void)snprintf(what, sizeof(what), "%s%zu bytes, a key file has %d to %d "
			       "(make one with xenmesh-keygen)",
			       len > PEER_KEYFILE_MAX ? "more than " : "",
			       len > PEER_KEYFILE_MAX ? (size_t)PEER_KEYFILE_MAX : len,
			       PEER_KEYFILE_MIN, PEER_KEYFILE_MAX);
		rc = key_err(err, errlen, -EINVAL, path, what);
		goto out_wipe;
	}
	(void)crypto_generichash_init(&h, NULL, 0, PEER_KEY_BYTES);
	(void)crypto_generichash_update(&h, (const uint8_t *)KEY_CONTEXT,
					sizeof(KEY_CONTEXT));
	(void)crypto_generichash_update(&h, buf, len);
	(void)crypto_generichash_final(&h, key, PEER_KEY_BYTES);
	sodium_memzero(&h, sizeof(h));
	rc = 0;
out_wipe:
	sodium_memzero(buf, sizeof(buf));
out_close:
	(void)close(fd);
	return rc;
}

/* ---- proofs and session keys --------------------------------------------- */

void
peer_derive(const uint8_t key[PEER_KEY_BYTES], enum peer_label label,
	    const uint8_t nd[PEER_NONCE], const uint8_t na[PEER_NONCE],
	    uint8_t out[32])
{
	crypto_generichash_state h;

	(void)crypto_generichash_init(&h, key, PEER_KEY_BYTES, 32);
	(void)crypto_generichash_update(&h, (const uint8_t *)labels[label],
					strlen(labels[label]) + 1);
	(void)crypto_generichash_update(&h, nd, PEER_NONCE);
	(void)crypto_generichash_update(&h, na, PEER_NONCE);
	(void)crypto_generichash_final(&h, out, 32);
	sodium_memzero(&h, sizeof(h));
}

bool
peer_proof_ok(const uint8_t key[PEER_KEY_BYTES], enum peer_label label,
	      const uint8_t nd[PEER_NONCE], const uint8_t na[PEER_NONCE],
	      const uint8_t proof[PEER_PROOF])
{
	uint8_t want[PEER_PROOF];
	bool ok;

	peer_derive(key, label, nd, na, want);
	ok = sodium_memcmp(want, proof, PEER_PROOF) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

void
peer_prefix_put(uint8_t out[PEER_PREFIX], uint16_t version)
{
	memcpy(out, PEER_MAGIC, 4);
	out[4] = (uint8_t)(version >> 8);
	out[5] = (uint8_t)version;
	out[6] = 0;
	out[7] = 0;
}

int
peer_prefix_get(const uint8_t in[PEER_PREFIX], uint16_t *version)
{
	if (memcmp(in, PEER_MAGIC, 4) != 0)
		return -EPROTO;
	*version = (uint16_t)(in[4] << 8 | in[5]);
	return 0;
}

/* ---- frames -------------------------------------------------------------- */

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t
peer_frame_seal(crypto_secretstream_xchacha20poly1305_state *st, uint8_t *out,
		const uint8_t *plain, size_t plen, uint8_t tag)
{
	uint32_t clen = (uint32_t)(plen + PEER_ABYTES);

	out[0] = (uint8_t)(clen >> 24);
	out[1] = (uint8_t)(clen >> 16);
	out[2] = (uint8_t)(clen >> 8);
	out[3] = (uint8_t)clen;
	/* the length is the associated data: it is authenticated too */
	(void)crypto_secretstream_xchacha20poly1305_push(st, out + 4, NULL, plain,
							 plen, out, 4, tag);
	return 4 + (size_t)clen;
}

bool
peer_frame_ready(const uint8_t *in, size_t avail)
{
	uint32_t clen;

	if (avail < 4)
		return false;
	clen = be32_get(in);
	return clen <= PEER_ABYTES || clen > PEER_FRAME_CT_MAX || avail >= 4 + (size_t)clen;
}

int
peer_frame_open(crypto_secretstream_xchacha20poly1305_state *st,
		const uint8_t *in, size_t avail, uint8_t *plain, size_t *plen,
		uint8_t *tag, size_t *used)
{
	unsigned long long mlen = 0;
	uint32_t clen;

	if (avail < 4)
		return 0;
	clen = be32_get(in);
	/* at least the type byte */
	if (clen <= PEER_ABYTES || clen > PEER_FRAME_CT_MAX)
		return -EMSGSIZE;
	if (avail < 4 + (size_t)clen)
		return 0;
	if (crypto_secretstream_xchacha20poly1305_pull(st, plain, &mlen, tag, in + 4,
						       clen, in, 4) != 0)
		return -EBADMSG;
	*plen = (size_t)mlen;
	*used = 4 + (size_t)clen;
	return 1;
}

/* Why the connection ends; returns rc. */
int
peer_fail(struct peer_conn *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return rc;
}

/* A text from the other side, printable, into buf. */
void
peer_text_copy(char *buf, size_t len, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	buf[i] = '\0';
}

/* ---- buffers ------------------------------------------------------------- */

static void
in_consume(struct peer_conn *c, size_t n)
{
	c->in_off += n;
	c->in_len -= n;
	if (c->in_len == 0)
		c->in_off = 0;
}

static void
out_compact(struct peer_conn *c)
{
	if (c->out_off == 0)
		return;
	memmove(c->out, c->out + c->out_off, c->out_end - c->out_off);
	c->out_end -= c->out_off;
	c->out_off = 0;
}

int
peer_out_put(struct peer_conn *c, const void *data, size_t n)
{
	if (c->out_end + n > c->out_cap)
		out_compact(c);
	if (c->out_end + n > c->out_cap)
		return -ENOBUFS;
	memcpy(c->out + c->out_end, data, n);
	c->out_end += n;
	return 0;
}

/* Authenticated: the frame-sized buffers (16 unauthenticated connections
 * cost a few hundred bytes each, not 300 KiB). */
static int
conn_grow(struct peer_conn *c)
{
	uint8_t *big = malloc(PEER_IN_CAP + PEER_OUT_CAP + 2 * PEER_FRAME_PLAIN);

	if (big == NULL)
		return -ENOMEM;
	memcpy(big, PEER_IN(c), c->in_len);
	memcpy(big + PEER_IN_CAP, c->out + c->out_off, c->out_end - c->out_off);
	c->out_end -= c->out_off;
	c->out_off = 0;
	c->in_off = 0;
	c->big = big;
	c->in = big;
	c->in_cap = PEER_IN_CAP;
	c->out = big + PEER_IN_CAP;
	c->out_cap = PEER_OUT_CAP;
	c->ptx = c->out + PEER_OUT_CAP;
	c->prx = c->ptx + PEER_FRAME_PLAIN;
	return 0;
}

/* One frame of type (payload may already be at ptx + 1) into out. */
int
peer_conn_frame(struct peer_conn *c, uint8_t type, const void *payload, size_t len,
	   uint8_t tag)
{
	size_t need = 4 + 1 + len + PEER_ABYTES;

	if (!c->keyed || len > PEER_FRAME_DATA)
		return -EINVAL;
	if (c->out_end + need > c->out_cap)
		out_compact(c);
	if (c->out_end + need > c->out_cap)
		return -ENOBUFS;
	c->ptx[0] = type;
	if (len > 0 && payload != c->ptx + 1)
		memmove(c->ptx + 1, payload, len);
	c->out_end += peer_frame_seal(&c->tx, c->out + c->out_end, c->ptx, 1 + len, tag);
	return 0;
}

/* ---- socket I/O ---------------------------------------------------------- */

/* Sends what out holds, as far as the socket takes it: 0 or -errno. */
int
peer_flush(struct peer_conn *c)
{
	while (c->out_off < c->out_end) {
		ssize_t n = send(c->sock, c->out + c->out_off, c->out_end - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return peer_fail(c, -errno, "sending to %s: %s", c->addr, strerror(errno));
		c->out_off += (size_t)n;
		c->last_io = peer_now_ns();
	}
	c->out_off = c->out_end = 0;
	return 0;
}

/* recv into in: exactly up to want bytes held (want > 0) or as much as
 * fits.  1: got some or holds want, 0: would block, -ENODATA: EOF. */
static int
conn_recv(struct peer_conn *c, size_t want)
{
	size_t room;

	if (want > 0 && c->in_len >= want)
		return 1;
	if (c->in_off > 0 && c->in_off + c->in_len + PEER_FRAME_WIRE > c->in_cap) {
		memmove(c->in, PEER_IN(c), c->in_len);
		c->in_off = 0;
	}
	room = want > 0 ? want - c->in_len : c->in_cap - c->in_off - c->in_len;
	for (;;) {
		ssize_t n = recv(c->sock, PEER_IN(c) + c->in_len, room, MSG_DONTWAIT);

		if (n > 0) {
			c->in_len += (size_t)n;
			c->last_io = peer_now_ns();
			return want == 0 || c->in_len >= want ? 1 : 0;
		}
		if (n == 0)
			return -ENODATA;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

/* Handshake reads: 1 when in holds want bytes, 0 to wait, < 0 failed. */
static int
hs_recv(struct peer_conn *c, size_t want)
{
	int rc = conn_recv(c, want);

	if (rc == -ENODATA && c->dialer)
		return peer_fail(c, -ECONNRESET, "%s closed the connection during the "
			    "handshake", c->addr);
	if (rc == -ENODATA)
		return peer_fail(c, -ECONNRESET, "connection closed during the handshake");
	if (rc < 0)
		return peer_fail(c, rc, "receiving from %s: %s", c->addr, strerror(-rc));
	return rc;
}

/* The next frame into prx: 1, 0 (wait), < 0. */
int
peer_frame_next(struct peer_conn *c, uint8_t *type, uint8_t *tag, size_t *len)
{
	for (;;) {
		size_t used = 0;
		int rc = peer_frame_open(&c->rx, PEER_IN(c), c->in_len, c->prx, len, tag,
					 &used);

		if (rc == -EMSGSIZE)
			return peer_fail(c, -EBADMSG, "bad frame size from %s", c->addr);
		if (rc < 0)
			return peer_fail(c, -EBADMSG, "bad frame from %s (authentication tag "
				    "mismatch)", c->addr);
		if (rc == 1) {
			in_consume(c, used);
			*type = c->prx[0];
			return 1;
		}
		rc = conn_recv(c, 0);
		if (rc == 0)
			return 0;
		if (rc == -ENODATA)
			return peer_fail(c, -ECONNRESET, "connection to %s lost %s", c->addr,
				    c->rx_ended ? "before the end was confirmed" :
				    c->st == CS_SPLICE ? "mid-stream (truncated)" :
				    "before the verdict");
		if (rc < 0)
			return peer_fail(c, rc, "receiving from %s: %s", c->addr, strerror(-rc));
	}
}

/* Refused before the hook, with an answer: log, count, send, close. */
static int
conn_linger(struct peer_conn *c)
{
	log_warn("peer channel: refused %s: %s", c->addr, c->why);
	if (c->unauth)
		c->p->stats.refused_auth++;
	c->logged = true;
	c->st = CS_LINGER;
	return 0;
}

/* ---- the handshake: acceptor --------------------------------------------- */

static int
a_m1(struct peer_conn *c)
{
	uint8_t m2[PEER_M1];
	uint16_t ver;
	int rc = hs_recv(c, PEER_PREFIX);

	if (rc <= 0)
		return rc;
	if (peer_prefix_get(PEER_IN(c), &ver) < 0)
		return peer_fail(c, -EPROTO, "not a xenmesh peer (bad magic)");
	if (ver != PEER_PROTO_VERSION) {
		/* our prefix, so that it can say what we speak */
		peer_prefix_put(m2, PEER_PROTO_VERSION);
		(void)peer_out_put(c, m2, PEER_PREFIX);
		(void)peer_fail(c, XM_EVERSION, "peer speaks peer protocol %u, we speak %u",
			   ver, PEER_PROTO_VERSION);
		return conn_linger(c);
	}
	rc = hs_recv(c, PEER_M1);
	if (rc <= 0)
		return rc;
	memcpy(c->nd, PEER_IN(c) + PEER_PREFIX, PEER_NONCE);
	in_consume(c, PEER_M1);
	randombytes_buf(c->na, PEER_NONCE);
	peer_prefix_put(m2, PEER_PROTO_VERSION);
	memcpy(m2 + PEER_PREFIX, c->na, PEER_NONCE);
	c->st = CS_A_M3;
	return peer_out_put(c, m2, sizeof(m2));
}

static int
a_m3(struct peer_conn *c)
{
	struct peer *p = c->p;
	uint8_t m4[PEER_M4], k[32];
	int rc = hs_recv(c, PEER_PROOF);

	if (rc <= 0)
		return rc;
	if (!peer_proof_ok(p->key, PEER_L_PROOF_DIALER, c->nd, c->na, PEER_IN(c))) {
		in_consume(c, PEER_PROOF);
		m4[0] = 1;
		(void)peer_out_put(c, m4, 1);
		(void)peer_fail(c, -EACCES, "authentication failed (wrong cluster key?)");
		return conn_linger(c);
	}
	in_consume(c, PEER_PROOF);
	c->unauth = false;
	if (--p->n_unauth < PEER_UNAUTH_MAX)
		p->full_logged = false;
	rc = conn_grow(c);
	if (rc < 0)
		return peer_fail(c, rc, "out of memory");
	m4[0] = 0;
	peer_derive(p->key, PEER_L_PROOF_ACCEPTOR, c->nd, c->na, m4 + 1);
	peer_derive(p->key, PEER_L_KEY_A2D, c->nd, c->na, k);
	(void)crypto_secretstream_xchacha20poly1305_init_push(&c->tx, m4 + 1 + PEER_PROOF, k);
	sodium_memzero(k, sizeof(k));
	c->keyed = true;
	c->st = CS_A_HDR;
	return peer_out_put(c, m4, sizeof(m4));
}

static int
a_hdr(struct peer_conn *c)
{
	uint8_t k[32];
	int rc = hs_recv(c, PEER_SS_HEADER);

	if (rc <= 0)
		return rc;
	peer_derive(c->p->key, PEER_L_KEY_D2A, c->nd, c->na, k);
	rc = crypto_secretstream_xchacha20poly1305_init_pull(&c->rx, PEER_IN(c), k);
	sodium_memzero(k, sizeof(k));
	if (rc != 0)
		return peer_fail(c, -EBADMSG, "bad stream header");
	in_consume(c, PEER_SS_HEADER);
	c->st = CS_A_HELLO;
	return 0;
}

/* The hello is in: the hook decides. */
static int
a_verdict(struct peer_conn *c, const uint8_t *hello, size_t len)
{
	struct peer *p = c->p;
	void (*done)(void *, int, const char *) = NULL;
	char why[PEER_WHY_MAX] = "";
	void *arg = NULL;
	int fd = -1, rc;

	c->hooked = true;       /* an abort from inside the hook is its failure */
	if (p->hooks.accept == NULL) {
		rc = -EPERM;
		(void)snprintf(why, sizeof(why), "this agent takes no peer connections");
	} else {
		rc = p->hooks.accept(p->arg, c, c->addr, hello, len, &fd, &done, &arg,
				     why, sizeof(why));
	}
	why[sizeof(why) - 1] = '\0';
	c->hooked = rc >= 0;
	if (rc >= 0) {
		c->done = done;
		c->done_arg = arg;
		p->stats.accepted++;
	}
	if (c->dead)            /* aborted from inside the hook */
		return 0;
	if (rc < 0) {
		p->stats.refused_hook++;
		c->logged = true;
		if (why[0] == '\0')
			(void)snprintf(why, sizeof(why), "refused: %s", xm_strerror(rc));
		log_debug("peer channel: %s refused by the hook: %s", c->addr, why);
		c->st = CS_LINGER;
		c->fin_sent = true;
		return peer_conn_frame(c, PEER_F_REFUSE, why, strlen(why), PEER_TAG_FINAL);
	}
	rc = peer_stream_check(fd);
	if (rc < 0) {
		c->tell = true;
		return peer_fail(c, rc, "the accept hook gave no stream socket (fd %d)", fd);
	}
	rc = peer_conn_frame(c, PEER_F_ACCEPT, NULL, 0, PEER_TAG_MESSAGE);
	return rc < 0 ? rc : peer_splice_start(c, fd);
}

static int
a_hello(struct peer_conn *c)
{
	uint8_t type, tag;
	size_t len;
	int rc = peer_frame_next(c, &type, &tag, &len);

	if (rc <= 0)
		return rc;
	if (type != PEER_F_HELLO || tag != PEER_TAG_MESSAGE || len - 1 > PEER_HELLO_MAX)
		return peer_fail(c, -EBADMSG, "bad hello frame");
	return a_verdict(c, c->prx + 1, len - 1);
}

/* ---- the handshake: dialer ----------------------------------------------- */

static int
d_m2(struct peer_conn *c)
{
	uint8_t proof[PEER_PROOF];
	uint16_t ver;
	int rc = hs_recv(c, PEER_PREFIX);

	if (rc <= 0)
		return rc;
	if (peer_prefix_get(PEER_IN(c), &ver) < 0)
		return peer_fail(c, -EPROTO, "%s is not a xenmesh peer channel (bad magic)",
			    c->addr);
	if (ver != PEER_PROTO_VERSION)
		return peer_fail(c, XM_EVERSION, "peer speaks peer protocol %u, we speak %u",
			    ver, PEER_PROTO_VERSION);
	rc = hs_recv(c, PEER_M1);
	if (rc <= 0)
		return rc;
	memcpy(c->na, PEER_IN(c) + PEER_PREFIX, PEER_NONCE);
	in_consume(c, PEER_M1);
	peer_derive(c->p->key, PEER_L_PROOF_DIALER, c->nd, c->na, proof);
	c->st = CS_D_M4;
	return peer_out_put(c, proof, sizeof(proof));
}

static int
d_m4(struct peer_conn *c)
{
	uint8_t hdr[PEER_SS_HEADER], k[32];
	const uint8_t *key = c->p->key;
	int rc = hs_recv(c, 1);

	if (rc <= 0)
		return rc;
	if (PEER_IN(c)[0] != 0)
		return peer_fail(c, -EACCES, "authentication failed: wrong cluster key?");
	rc = hs_recv(c, PEER_M4);
	if (rc <= 0)
		return rc;
	if (!peer_proof_ok(key, PEER_L_PROOF_ACCEPTOR, c->nd, c->na, PEER_IN(c) + 1))
		return peer_fail(c, -EACCES, "authentication failed: %s does not prove the "
			    "cluster key (impostor?)", c->addr);
	rc = conn_grow(c);
	if (rc < 0)
		return peer_fail(c, rc, "out of memory");
	peer_derive(key, PEER_L_KEY_A2D, c->nd, c->na, k);
	rc = crypto_secretstream_xchacha20poly1305_init_pull(&c->rx,
							     PEER_IN(c) + 1 + PEER_PROOF, k);
	if (rc != 0) {
		sodium_memzero(k, sizeof(k));
		return peer_fail(c, -EBADMSG, "bad stream header from %s", c->addr);
	}
	in_consume(c, PEER_M4);
	peer_derive(key, PEER_L_KEY_D2A, c->nd, c->na, k);
	(void)crypto_secretstream_xchacha20poly1305_init_push(&c->tx, hdr, k);
	sodium_memzero(k, sizeof(k));
	c->keyed = true;
	rc = peer_out_put(c, hdr, sizeof(hdr));
	if (rc == 0)
		rc = peer_conn_frame(c, PEER_F_HELLO, c->hello, c->hello_len, PEER_TAG_MESSAGE);
	free(c->hello);
	c->hello = NULL;
	c->st = CS_D_VERDICT;
	return rc;
}

static int
d_verdict(struct peer_conn *c)
{
	char text[PEER_WHY_MAX];
	uint8_t type, tag;
	size_t len;
	int rc = peer_frame_next(c, &type, &tag, &len);

	if (rc <= 0)
		return rc;
	if (type == PEER_F_ACCEPT && tag == PEER_TAG_MESSAGE && len == 1)
		return peer_splice_start(c, c->fd);
	peer_text_copy(text, sizeof(text), c->prx + 1, len - 1);
	if (type == PEER_F_REFUSE && tag == PEER_TAG_FINAL)
		return peer_fail(c, -EPERM, "%s", text);
	if (type == PEER_F_ABORT && tag == PEER_TAG_FINAL)
		return peer_fail(c, -ECONNABORTED, "%s aborted: %s", c->addr, text);
	return peer_fail(c, -EBADMSG, "unexpected frame from %s", c->addr);
}

int
peer_handshake(struct peer_conn *c)
{
	switch (c->st) {
	case CS_D_M2:
		return d_m2(c);
	case CS_D_M4:
		return d_m4(c);
	case CS_D_VERDICT:
		return d_verdict(c);
	case CS_A_M1:
		return a_m1(c);
	case CS_A_M3:
		return a_m3(c);
	case CS_A_HDR:
		return a_hdr(c);
	case CS_A_HELLO:
		return a_hello(c);
	default:
		return 0;
	}
}
