/* The peer channel's insides, shared by peer.c (sockets, states, loop)
 * and peer_crypto.c (key file, proofs, session keys, frames).  See peer.h
 * for the wire protocol. */
#ifndef XM_PEER_INT_H
#define XM_PEER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>
#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "peer.h"

#define PEER_MAGIC          "XMPC"
#define PEER_PREFIX         8           /* magic[4] version u16 zero u16 */
#define PEER_NONCE          32
#define PEER_PROOF          32
#define PEER_M1             (PEER_PREFIX + PEER_NONCE)     /* and M2 */
#define PEER_SS_HEADER      crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define PEER_M4             (1 + PEER_PROOF + PEER_SS_HEADER)
#define PEER_ABYTES         crypto_secretstream_xchacha20poly1305_ABYTES

#define PEER_TAG_MESSAGE    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define PEER_TAG_FINAL      crypto_secretstream_xchacha20poly1305_TAG_FINAL

/* Frames: u32 length, then the ciphertext of type[1] + payload. */
#define PEER_FRAME_DATA     65536
#define PEER_FRAME_PLAIN    (1 + PEER_FRAME_DATA)
#define PEER_FRAME_CT_MAX   (PEER_FRAME_PLAIN + PEER_ABYTES)
#define PEER_FRAME_WIRE     (4 + PEER_FRAME_CT_MAX)

enum peer_frame_type {
	PEER_F_HELLO = 'H',
	PEER_F_ACCEPT = 'A',
	PEER_F_REFUSE = 'R',
	PEER_F_DATA = 'D',
	PEER_F_END = 'E',
	PEER_F_CLOSE = 'C',
	PEER_F_ABORT = 'X',
};

/* What the proofs and the session keys are labelled with. */
enum peer_label {
	PEER_L_PROOF_DIALER,
	PEER_L_PROOF_ACCEPTOR,
	PEER_L_KEY_D2A,
	PEER_L_KEY_A2D,
};

/* BLAKE2b-256 keyed with the cluster key over label, nd, na. */
void peer_derive(const uint8_t key[PEER_KEY_BYTES], enum peer_label label,
		 const uint8_t nd[PEER_NONCE], const uint8_t na[PEER_NONCE],
		 uint8_t out[32]);
/* Constant time: proof equals what key, nd, na give for label. */
bool peer_proof_ok(const uint8_t key[PEER_KEY_BYTES], enum peer_label label,
		   const uint8_t nd[PEER_NONCE], const uint8_t na[PEER_NONCE],
		   const uint8_t proof[PEER_PROOF]);
/* The 8-byte prefix of M1/M2 for our version (or another, for tests). */
void peer_prefix_put(uint8_t out[PEER_PREFIX], uint16_t version);
/* 0 and *version, or -EPROTO (not our magic). */
int peer_prefix_get(const uint8_t in[PEER_PREFIX], uint16_t *version);

/* Seals plain[0..plen) (type first) into out as one frame with tag;
 * returns its size on the wire (<= PEER_FRAME_WIRE). */
size_t peer_frame_seal(crypto_secretstream_xchacha20poly1305_state *st,
		       uint8_t *out, const uint8_t *plain, size_t plen,
		       uint8_t tag);
/* One frame from in[0..avail): 1 with *plain, *plen, *tag and *used (bytes
 * of in), 0 when incomplete, -EMSGSIZE (length out of range), -EBADMSG
 * (does not decrypt: tag, key or order). */
int peer_frame_open(crypto_secretstream_xchacha20poly1305_state *st,
		    const uint8_t *in, size_t avail, uint8_t *plain,
		    size_t *plen, uint8_t *tag, size_t *used);
/* 1 when in[0..avail) starts with a whole frame (or a bad length). */
bool peer_frame_ready(const uint8_t *in, size_t avail);

/* ---- connections (peer.c drives them; the protocol steps are in
 * peer_crypto.c) ---- */

#define PEER_ADDR_MAX   80
#define PEER_IN_CAP          (2 * PEER_FRAME_WIRE)
#define PEER_OUT_CAP         (PEER_FRAME_WIRE + 4 + 1 + PEER_WHY_MAX + PEER_ABYTES)

enum conn_state {
	CS_CONNECTING,          /* dialer: connect() in progress */
	CS_D_M2,                /* dialer: M1 sent, reading M2 */
	CS_D_M4,                /* dialer: proof sent, reading M4 */
	CS_D_VERDICT,           /* dialer: hello sent, reading the verdict */
	CS_A_M1,                /* acceptor: reading M1 */
	CS_A_M3,                /* acceptor: M2 sent, reading the proof */
	CS_A_HDR,               /* acceptor: authenticated, reading the header */
	CS_A_HELLO,             /* acceptor: reading the hello frame */
	CS_SPLICE,
	CS_LINGER,              /* acceptor: refused; the answer goes, then close */
};

struct peer_conn {
	struct peer *p;
	struct peer_conn *next;
	enum conn_state st;
	bool dialer;
	bool unauth;            /* counted in p->n_unauth */
	bool keyed;             /* tx is set: frames can be sent */
	bool hooked;            /* the accept hook took it (done is the hook's) */
	bool logged;            /* its refusal is logged and counted already */
	bool dead;              /* I/O stopped, done pending */
	bool tell;              /* a failure here: tell the other side */
	bool tx_ended, rx_ended;        /* our 'E' queued; theirs received */
	bool fin_sent, fin_got;         /* a FINAL frame queued; their 'C' received */
	bool shut;
	int sock, fd;
	int sock_ev, fd_ev;     /* the events asked of the loop, 0: not in it */
	char addr[PEER_ADDR_MAX];
	int rc;
	char why[PEER_WHY_MAX];
	peer_done_fn done;
	void *done_arg;
	qb_loop_timer_handle timer, defer;
	uint64_t last_io;
	uint8_t nd[PEER_NONCE], na[PEER_NONCE];
	uint8_t *hello;         /* dialer, until sent */
	size_t hello_len;
	crypto_secretstream_xchacha20poly1305_state tx, rx;
	uint8_t *in, *out;      /* wire bytes: in[in_off, +in_len), out[out_off, out_end) */
	size_t in_cap, in_off, in_len, out_cap, out_off, out_end;
	uint8_t *ptx, *prx;     /* one frame's plaintext each way */
	size_t rx_off, rx_len;  /* prx bytes still to write to fd */
	uint8_t *big;           /* in, out, ptx, prx once authenticated */
	uint8_t hs_in[64], hs_out[128];
};

struct peer {
	qb_loop_t *loop;
	struct peer_hooks hooks;
	void *arg;
	uint8_t key[PEER_KEY_BYTES];
	unsigned hs_ms, idle_ms;
	int lfd;
	uint16_t port;
	struct peer_conn *conns;
	unsigned n_unauth;
	bool full_logged, closing;
	struct peer_stats stats;
};


#define PEER_IN(c) ((c)->in + (c)->in_off)

static inline uint64_t
peer_now_ns(void)
{
	return qb_util_nano_current_get();
}

/* peer_crypto.c: the wire protocol. */
/* Sets why; returns rc. */
int peer_fail(struct peer_conn *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A text from the other side, made printable, into buf. */
void peer_text_copy(char *buf, size_t len, const uint8_t *s, size_t n);
int peer_out_put(struct peer_conn *c, const void *data, size_t n);
/* One frame of type (payload may be at ptx + 1 already) into out. */
int peer_conn_frame(struct peer_conn *c, uint8_t type, const void *payload,
		    size_t len, uint8_t tag);
/* Sends what out holds, as far as the socket takes it: 0 or -errno. */
int peer_flush(struct peer_conn *c);
/* The next frame into prx: 1, 0 (wait), < 0. */
int peer_frame_next(struct peer_conn *c, uint8_t *type, uint8_t *tag, size_t *len);
/* One step of the handshake (states CS_D_* and CS_A_*): < 0 failed, 0
 * (the state tells whether it moved). */
int peer_handshake(struct peer_conn *c);

/* peer.c */
int peer_splice_start(struct peer_conn *c, int fd);
/* 0 for a stream socket, else -errno. */
int peer_stream_check(int fd);

#endif
