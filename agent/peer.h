/* The peer channel: TCP between agents on the management network, each
 * connection authenticated with the cluster key before anything is
 * accepted, then encrypted; it carries live-migration streams (ARCHITECTURE.md
 * "Security" and "Live migration").
 *
 * One struct peer per agent, on the agent's qb_loop: a listener (optional)
 * and every connection, incoming or dialed.  Nothing blocks the loop:
 * non-blocking sockets, bounded buffers (64 KiB frames, about 330 KiB per
 * authenticated connection, a few hundred bytes before), back-pressure (a
 * side whose output is pending is not read) and a bounded amount of work
 * per wake-up (16 frames each way).
 *
 * Wire protocol 1 (plaintext handshake, then libsodium secretstream):
 *   D->A  M1  "XMPC" u16 version u16 0, Nd[32]
 *   A->D  M2  "XMPC" u16 version u16 0, Na[32]
 *   D->A  M3  proofD[32] = BLAKE2b(K, "...dialer proof" Nd Na)
 *   A->D  M4  status[1]: 0 then proofA[32] = BLAKE2b(K, "...acceptor proof"
 *             Nd Na) and A's secretstream header[24]; 1 (wrong key), close
 *   D->A      D's secretstream header[24], then frames
 * A reads exactly what it needs until proofD verified (it acts on nothing
 * else before); D sends no hello before proofA verified.  A refuses another
 * version by answering its own 8-byte prefix, then closing.  Session keys:
 * BLAKE2b(K, "...dialer to acceptor"/"...acceptor to dialer" Nd Na).
 * A frame is u32 length (big endian, also the AD) then the secretstream
 * ciphertext of type[1] + payload: 'H' hello (D, first), 'A' accepted,
 * 'R' refused + why (A, first; tag FINAL), 'D' data (<= 64 KiB), 'E' end of
 * this direction (EOF on the local fd), 'C' close (tag FINAL: sent once we
 * sent our 'E' and got theirs, so theirs says they have all ours), 'X'
 * abort + why (tag FINAL).  A connection lost before both 'C' is an error
 * (truncation), as is any bad byte.
 */
#ifndef XM_PEER_H
#define XM_PEER_H

#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#define PEER_PROTO_VERSION   1
#define PEER_KEY_BYTES       32
#define PEER_KEYFILE_MIN     32
#define PEER_KEYFILE_MAX     4096
#define PEER_HELLO_MAX       4096
#define PEER_WHY_MAX         256        /* a reason, NUL included */
#define PEER_UNAUTH_MAX      16         /* incoming not yet authenticated */
#define PEER_HANDSHAKE_MS    5000
#define PEER_IDLE_MS         30000

/* The failures a done callback gets (why says more):
 *   -EACCES           authentication failed (either side's key differs,
 *                     or the acceptor could not prove the key: impostor)
 *   -EPERM            refused by the acceptor's hook (why is its reason)
 *   XM_EVERSION       the other side speaks another protocol version
 *   -EPROTO           not a xenmesh peer channel (bad magic)
 *   -EBADMSG          bad frame: tag, size, type or order
 *   -ECONNRESET       connection lost (before the end: truncation)
 *   -ECONNABORTED     the other side aborted (why is its reason)
 *   -ETIMEDOUT        handshake or idle timeout
 *   -ECANCELED        peer_conn_abort or peer_close
 *   other -errno      connect(), or the local fd */
typedef void (*peer_done_fn)(void *arg, int rc, const char *why);

/* Key file: PEER_KEYFILE_MIN..PEER_KEYFILE_MAX bytes of random data (like
 * corosync's authkey, made by xenmesh-keygen), a regular file owned by root
 * (or by the user running this process, for tests) with no permission for
 * group or others.  The channel key is BLAKE2b-256 of a fixed context
 * string and the file's bytes.  0, or -errno with a sentence in err:
 * -ENOENT etc. (open), -EINVAL (size, not a regular file), -EACCES (mode),
 * -EPERM (owner). */
int peer_key_load(const char *path, uint8_t key[PEER_KEY_BYTES], char *err,
		  size_t errlen);

struct peer;            /* the listener and all its connections; one per agent */
struct peer_conn;

struct peer_hooks {
	/* An incoming connection has authenticated and sent its hello (an
	 * opaque message, <= PEER_HELLO_MAX bytes, from peer_dial).  Return 0
	 * and set *fd to a local stream socket (e.g. one end of a socketpair,
	 * not in the loop; it stays the hook's, never closed by peer) to
	 * splice the connection with; *done(*done_arg, rc, why) (may be NULL)
	 * is called exactly once when that splice ends, as peer_dial's.
	 * Return a negative errno and fill why (sent back to the dialer, which
	 * gets it as its failure reason) to refuse.  NULL: every connection is
	 * refused.  c is valid until *done returns (for peer_conn_abort).
	 * Do not call peer_close from here. */
	int (*accept)(void *arg, struct peer_conn *c, const char *from_addr,
		      const uint8_t *hello, size_t len, int *fd,
		      void (**done)(void *done_arg, int rc, const char *why),
		      void **done_arg, char *why, size_t whylen);
};

struct peer_config {
	const char *listen_addr;        /* IPv4/IPv6 literal; NULL or "" = do not listen */
	uint16_t port;                  /* 0: any (see peer_port) */
	uint8_t key[PEER_KEY_BYTES];    /* copied; the caller may wipe its copy */
	unsigned handshake_timeout_ms;  /* default PEER_HANDSHAKE_MS when 0 */
	unsigned idle_timeout_ms;       /* no byte either way for this long during
					 * a splice: fail; default PEER_IDLE_MS */
};

/* hooks is copied.  0 or -errno (bad address, bind, listen). */
int peer_open(struct peer **out, qb_loop_t *loop, const struct peer_config *cfg,
	      const struct peer_hooks *hooks, void *arg);
/* Aborts every connection (their done called with -ECANCELED, from inside
 * this call) and frees p.  NULL is fine. */
void peer_close(struct peer *p);
/* Bound port (useful when cfg->port is 0, for tests); 0 when not listening. */
uint16_t peer_port(const struct peer *p);

/* Dial addr:port (numeric IPv4/IPv6), authenticate, send hello (<=
 * PEER_HELLO_MAX bytes), wait for the acceptor's verdict, then splice the
 * local stream socket fd (not in the loop) with the connection.
 * done(arg, 0, NULL) when both directions ended cleanly (EOF on fd was
 * carried to the other side's fd as shutdown(SHUT_WR), which the other
 * side confirmed, and the other side's end arrived likewise and was
 * carried to fd; all it sent was written to fd before);
 * done(arg, rc < 0, why) on any failure (see peer_done_fn).  done is
 * called exactly once, never from inside peer_dial.  fd stays the
 * caller's (never closed by peer).  Returns 0 (and *out, may be NULL,
 * valid until done returns), or -errno without calling done:
 * -EINVAL (address, sizes, NULL p), -ENOTSOCK (fd), -ESHUTDOWN (closing),
 * -ENOMEM, socket(). */
int peer_dial(struct peer *p, const char *addr, uint16_t port, const void *hello,
	      size_t len, int fd, peer_done_fn done, void *arg,
	      struct peer_conn **out);
/* Abort one connection now: I/O stops at once (the other side is told,
 * best effort), its done runs with -ECANCELED from the loop, not from
 * inside this call.  A no-op once it ended (until its done returns); not
 * to be called after that (c is freed). */
void peer_conn_abort(struct peer_conn *c);
/* The same, telling the other side why (its done gets -ECONNABORTED
 * with this reason). */
void peer_conn_abort_why(struct peer_conn *c, const char *why);

/* Counters for status/metrics.
 *   accepted      incoming connections the hook accepted
 *   refused_auth  incoming connections that never authenticated: wrong key,
 *                 garbage, other version, handshake timeout, over the limit
 *   refused_hook  incoming connections the hook refused
 *   dialed        peer_dial calls that started a connection
 *   failed        splices or dials (either side) whose done got rc < 0 */
struct peer_stats { uint64_t accepted, refused_auth, refused_hook, dialed, failed; };
void peer_stats_get(const struct peer *p, struct peer_stats *out);

#endif
