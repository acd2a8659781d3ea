/* The peer channel (see peer.h): listener, connections, handshake and
 * splice, all on the agent's qb_loop.  The wire protocol (key, handshake,
 * frames) is peer_crypto.c.
 *
 * A connection is pumped by whichever of its fds (the TCP socket, the
 * local stream) is ready: conn_work does all it can without blocking (a
 * bounded amount of it), conn_polls then asks the loop for exactly the
 * events that would let it go on.  A side whose output is pending is not
 * read (back-pressure); no fd is left in the loop with nothing wanted.
 */
#define LOG_SUBSYS "peer"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbutil.h>

#include "log.h"
#include "peer_int.h"
#include "xm_error.h"

#define PEER_BUDGET     16      /* frames each way per wake-up: ~1 MiB */

static int32_t sock_fn(int32_t fd, int32_t revents, void *data);
static int32_t fd_fn(int32_t fd, int32_t revents, void *data);
static void conn_timer_fn(void *data);

/* ---- small helpers ------------------------------------------------------- */

static int
addr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss,
	   socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	char serv[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	if (addr == NULL || getaddrinfo(addr, serv, &hints, &res) != 0 || res == NULL)
		return -EINVAL;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* "10.0.0.5:41234" or "[fe80::1]:41234" (v4-mapped shown as v4). */
static void
addr_format(const struct sockaddr_storage *ss, socklen_t len, char *buf,
	    size_t buflen)
{
	struct sockaddr_storage v4;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&v4;

		memset(&v4, 0, sizeof(v4));
		s4->sin_family = AF_INET;
		s4->sin_port = s6->sin6_port;
		memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		ss = &v4;
		len = sizeof(*s4);
	}
	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), serv,
			sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)snprintf(buf, buflen, "?");
		return;
	}
	(void)snprintf(buf, buflen, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		       host, serv);
}

int
peer_stream_check(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (fd < 0)
		return -EBADF;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	return type == SOCK_STREAM ? 0 : -EPROTOTYPE;
}

/* ---- life and death ------------------------------------------------------ */

static int
poll_set(struct peer_conn *c, int fd, int *cur, int want,
	 qb_loop_poll_dispatch_fn fn)
{
	qb_loop_t *loop = c->p->loop;
	int rc;

	if (fd < 0 || want == *cur)
		return 0;
	if (want == 0) {
		(void)qb_loop_poll_del(loop, fd);
		*cur = 0;
		return 0;
	}
	if (*cur == 0)
		rc = qb_loop_poll_add(loop, QB_LOOP_LOW, fd, want, c, fn);
	else
		rc = qb_loop_poll_mod(loop, QB_LOOP_LOW, fd, want, c, fn);
	if (rc < 0)
		return peer_fail(c, rc, "cannot watch fd %d: %s", fd, strerror(-rc));
	*cur = want;
	return 0;
}

/* Asks the loop for what would let the connection go on. */
static int
conn_polls(struct peer_conn *c)
{
	bool out = c->out_off < c->out_end;
	int ws = 0, wf = 0, rc;

	switch (c->st) {
	case CS_CONNECTING:
		ws = POLLOUT;
		break;
	case CS_SPLICE:
		if (out)
			ws |= POLLOUT;
		else if (!c->tx_ended)
			wf |= POLLIN;
		if (c->rx_off < c->rx_len ||
		    (!c->fin_got && peer_frame_ready(PEER_IN(c), c->in_len)))
			wf |= POLLOUT;
		else if (!c->fin_got)
			ws |= POLLIN;
		break;
	default:
		ws = out ? POLLOUT : POLLIN;
		break;
	}
	rc = poll_set(c, c->sock, &c->sock_ev, ws, sock_fn);
	if (rc == 0)
		rc = poll_set(c, c->st == CS_SPLICE ? c->fd : -1, &c->fd_ev, wf, fd_fn);
	return rc;
}

static int
timer_set(struct peer_conn *c, unsigned ms)
{
	if (c->timer != 0)
		(void)qb_loop_timer_del(c->p->loop, c->timer);
	c->timer = 0;
	return qb_loop_timer_add(c->p->loop, QB_LOOP_LOW,
				 (uint64_t)ms * QB_TIME_NS_IN_MSEC, c,
				 conn_timer_fn, &c->timer);
}

/* A failure here: say so to the other side, best effort, without waiting. */
static void
conn_tell(struct peer_conn *c)
{
	char why[PEER_WHY_MAX];

	if (!c->keyed || c->fin_sent || c->sock < 0)
		return;
	memcpy(why, c->why, sizeof(why));
	if (peer_conn_frame(c, PEER_F_ABORT, why, strlen(why), PEER_TAG_FINAL) == 0) {
		c->fin_sent = true;
		(void)peer_flush(c);
	}
	memcpy(c->why, why, sizeof(why));       /* not a send error of this */
}

/* Stops all I/O, logs and counts the end (rc 0 or < 0 with c->why). */
static void
conn_teardown(struct peer_conn *c, int rc)
{
	struct peer *p = c->p;

	if (c->dead)
		return;
	if (rc < 0 && c->why[0] == '\0')
		(void)snprintf(c->why, sizeof(c->why), "%s", xm_strerror(rc));
	if (rc < 0 && c->tell)
		conn_tell(c);
	c->dead = true;
	c->rc = rc;
	if (!c->dialer && !c->hooked) {
		if (rc < 0 && !c->logged) {
			log_warn("peer channel: refused %s: %s", c->addr, c->why);
			if (c->unauth)
				p->stats.refused_auth++;
		}
	} else if (rc < 0) {
		p->stats.failed++;
		log_debug("peer channel: connection %s %s failed: %s",
			  c->dialer ? "to" : "from", c->addr, c->why);
	}
	if (c->timer != 0)
		(void)qb_loop_timer_del(p->loop, c->timer);
	c->timer = 0;
	(void)poll_set(c, c->sock, &c->sock_ev, 0, NULL);
	(void)poll_set(c, c->fd, &c->fd_ev, 0, NULL);
	if (c->sock >= 0)
		(void)close(c->sock);
	c->sock = -1;
	c->fd = -1;             /* the caller's */
	if (c->unauth) {
		c->unauth = false;
		if (--p->n_unauth < PEER_UNAUTH_MAX)
			p->full_logged = false;
	}
	sodium_memzero(&c->tx, sizeof(c->tx));
	sodium_memzero(&c->rx, sizeof(c->rx));
	if (c->big != NULL) {
		sodium_memzero(c->big, PEER_IN_CAP + PEER_OUT_CAP + 2 * PEER_FRAME_PLAIN);
		free(c->big);
	}
	c->big = NULL;
	c->in = c->hs_in;
	c->out = c->hs_out;
	c->in_len = c->in_off = c->out_off = c->out_end = 0;
	free(c->hello);
	c->hello = NULL;
}

/* Unlinks c, calls its done (if any) and frees it.  Nothing touches p
 * after done: done may even close it. */
static void
conn_complete(struct peer_conn *c)
{
	struct peer *p = c->p;

	for (struct peer_conn **pp = &p->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->defer != 0)
		(void)qb_loop_timer_del(p->loop, c->defer);
	c->defer = 0;
	if (c->done != NULL)
		c->done(c->done_arg, c->rc, c->rc < 0 ? c->why : NULL);
	free(c);
}

static void
conn_end(struct peer_conn *c, int rc)
{
	conn_teardown(c, rc);
	conn_complete(c);
}

static void
conn_defer_fn(void *data)
{
	struct peer_conn *c = data;

	c->defer = 0;
	conn_complete(c);
}

/* Torn down already: done from the loop (or from peer_close). */
static void
conn_defer(struct peer_conn *c)
{
	if (qb_loop_timer_add(c->p->loop, QB_LOOP_LOW, 0, c, conn_defer_fn,
			      &c->defer) < 0)
		log_err("peer channel: cannot schedule the end of the connection "
			"with %s; it ends with the channel", c->addr);
}

static struct peer_conn *
conn_new(struct peer *p, bool dialer)
{
	struct peer_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->p = p;
	c->dialer = dialer;
	c->sock = c->fd = -1;
	c->in = c->hs_in;
	c->in_cap = sizeof(c->hs_in);
	c->out = c->hs_out;
	c->out_cap = sizeof(c->hs_out);
	return c;
}

int
peer_splice_start(struct peer_conn *c, int fd)
{
	c->fd = fd;
	c->st = CS_SPLICE;
	c->last_io = peer_now_ns();
	return timer_set(c, c->p->idle_ms);
}

/* ---- the splice ---------------------------------------------------------- */

/* fd -> the other side: read only what out has room for. */
static int
splice_tx(struct peer_conn *c)
{
	for (int i = 0; i < PEER_BUDGET; i++) {
		ssize_t n;
		int rc = peer_flush(c);

		if (rc < 0)
			return rc;
		if (c->out_end > 0 || c->tx_ended)
			return 0;
		n = recv(c->fd, c->ptx + 1, PEER_FRAME_DATA, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			c->tell = true;
			return peer_fail(c, -errno, "reading the local stream: %s", strerror(errno));
		}
		c->last_io = peer_now_ns();
		if (n == 0) {
			c->tx_ended = true;
			rc = peer_conn_frame(c, PEER_F_END, NULL, 0, PEER_TAG_MESSAGE);
		} else {
			rc = peer_conn_frame(c, PEER_F_DATA, c->ptx + 1, (size_t)n, PEER_TAG_MESSAGE);
		}
		if (rc < 0)
			return peer_fail(c, rc, "cannot queue a frame: %s", strerror(-rc));
	}
	return 0;
}

/* The other side -> fd: a frame is opened only once the last one is written. */
static int
splice_rx(struct peer_conn *c)
{
	char text[PEER_WHY_MAX];
	uint8_t type, tag;
	size_t len;

	for (int i = 0; i < PEER_BUDGET; i++) {
		int rc;

		if (c->rx_off < c->rx_len) {
			ssize_t n = send(c->fd, c->prx + c->rx_off, c->rx_len - c->rx_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (n < 0) {
				c->tell = true;
				return peer_fail(c, -errno, "writing the local stream: %s",
					    strerror(errno));
			}
			c->rx_off += (size_t)n;
			c->last_io = peer_now_ns();
			if (c->rx_off == c->rx_len)
				c->rx_off = c->rx_len = 0;
			continue;
		}
		if (c->fin_got)
			return 0;
		rc = peer_frame_next(c, &type, &tag, &len);
		if (rc <= 0)
			return rc;
		if (type == PEER_F_DATA && tag == PEER_TAG_MESSAGE && !c->rx_ended) {
			c->rx_off = 1;
			c->rx_len = len;
		} else if (type == PEER_F_END && tag == PEER_TAG_MESSAGE && len == 1 &&
			   !c->rx_ended) {
			c->rx_ended = true;
			(void)shutdown(c->fd, SHUT_WR);
		} else if (type == PEER_F_CLOSE && tag == PEER_TAG_FINAL && len == 1 &&
			   c->rx_ended) {
			c->fin_got = true;      /* they have all of ours, and our EOF */
		} else if (type == PEER_F_ABORT && tag == PEER_TAG_FINAL) {
			peer_text_copy(text, sizeof(text), c->prx + 1, len - 1);
			return peer_fail(c, -ECONNABORTED, "%s aborted: %s", c->addr, text);
		} else {
			return peer_fail(c, -EBADMSG, "unexpected frame from %s", c->addr);
		}
	}
	return 0;
}

/* 1 when both directions ended cleanly: each side sends its 'C' once it
 * has sent its 'E' and received the other's, so the other's 'C' says it
 * has all we sent and carried our EOF to its fd. */
static int
splice(struct peer_conn *c)
{
	int rc = splice_tx(c);

	if (rc == 0)
		rc = splice_rx(c);
	if (rc == 0 && c->tx_ended && c->rx_ended && !c->fin_sent) {
		c->fin_sent = true;
		rc = peer_conn_frame(c, PEER_F_CLOSE, NULL, 0, PEER_TAG_FINAL);
	}
	if (rc == 0)
		rc = peer_flush(c);
	if (rc < 0)
		return rc;
	return c->fin_sent && c->fin_got && c->out_end == 0 ? 1 : 0;
}

/* Refused: the answer goes, then we wait for the other side to close. */
static int
linger(struct peer_conn *c)
{
	if (c->out_off < c->out_end)
		return 0;
	if (!c->shut)
		(void)shutdown(c->sock, SHUT_WR);
	c->shut = true;
	for (int i = 0; i < PEER_BUDGET; i++) {
		ssize_t n = recv(c->sock, c->in, c->in_cap, MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
	return 0;
}

/* ---- the pump ------------------------------------------------------------ */

/* All that can be done now: < 0 failed, 0 wait, 1 ended cleanly. */
static int
conn_work(struct peer_conn *c)
{
	enum conn_state before;
	int rc;

	do {
		before = c->st;
		rc = peer_flush(c);
		if (rc < 0)
			return rc;
		switch (c->st) {
		case CS_CONNECTING:
			return 0;
		case CS_SPLICE:
			return splice(c);
		case CS_LINGER:
			return linger(c);
		default:
			rc = peer_handshake(c);
			break;
		}
		if (rc < 0 || c->dead)
			return rc;
	} while (c->st != before);
	return 0;
}

static void
conn_pump(struct peer_conn *c)
{
	int rc = conn_work(c);

	if (c->dead)            /* aborted by a hook: its end is deferred */
		return;
	if (rc == 0)
		rc = conn_polls(c);
	if (rc != 0)
		conn_end(c, rc < 0 ? rc : 0);
}

static int32_t
sock_fn(int32_t fd, int32_t revents, void *data)
{
	struct peer_conn *c = data;
	uint8_t m1[PEER_M1];

	if (c->st == CS_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == 0 && !(revents & POLLOUT))
			err = ECONNRESET;
		if (err != 0) {
			conn_end(c, peer_fail(c, -err, "connect to %s: %s", c->addr,
					 strerror(err)));
			return 0;
		}
		peer_prefix_put(m1, PEER_PROTO_VERSION);
		memcpy(m1 + PEER_PREFIX, c->nd, PEER_NONCE);
		(void)peer_out_put(c, m1, sizeof(m1));
		c->st = CS_D_M2;
	}
	conn_pump(c);
	return 0;
}

static int32_t
fd_fn(int32_t fd, int32_t revents, void *data)
{
	conn_pump(data);
	return 0;
}

static void
conn_timer_fn(void *data)
{
	struct peer_conn *c = data;
	struct peer *p = c->p;
	uint64_t idle = (uint64_t)p->idle_ms * QB_TIME_NS_IN_MSEC, quiet;

	c->timer = 0;
	if (c->st == CS_SPLICE) {
		quiet = peer_now_ns() - c->last_io;
		if (quiet < idle && qb_loop_timer_add(p->loop, QB_LOOP_LOW, idle - quiet, c,
						      conn_timer_fn, &c->timer) == 0)
			return;
		c->tell = true;
		(void)peer_fail(c, -ETIMEDOUT, "no data either way for %u ms", p->idle_ms);
	} else if (c->st != CS_LINGER) {
		c->tell = true;
		if (c->dialer)
			(void)peer_fail(c, -ETIMEDOUT, "handshake with %s timed out after %u ms",
				   c->addr, p->hs_ms);
		else
			(void)peer_fail(c, -ETIMEDOUT, "handshake timed out after %u ms", p->hs_ms);
	}
	conn_end(c, -ETIMEDOUT);
}

/* ---- the listener -------------------------------------------------------- */

static void
conn_accept(struct peer *p, int s, const char *addr)
{
	struct peer_conn *c = conn_new(p, false);
	int one = 1, rc;

	if (c == NULL) {
		log_warn("peer channel: refused %s: out of memory", addr);
		(void)close(s);
		return;
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->sock = s;
	(void)snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->unauth = true;
	p->n_unauth++;
	c->st = CS_A_M1;
	c->next = p->conns;
	p->conns = c;
	rc = timer_set(c, p->hs_ms);
	if (rc == 0)
		rc = conn_polls(c);
	if (rc < 0)
		conn_end(c, peer_fail(c, rc, "cannot watch it: %s", strerror(-rc)));
}

static int32_t
listen_fn(int32_t fd, int32_t revents, void *data)
{
	struct peer *p = data;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char addr[PEER_ADDR_MAX];
		int s = accept4(fd, (struct sockaddr *)&ss, &len,
				SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0)
			return 0;       /* EAGAIN, or an aborted connection */
		addr_format(&ss, len, addr, sizeof(addr));
		if (p->n_unauth >= PEER_UNAUTH_MAX) {
			p->stats.refused_auth++;
			if (!p->full_logged)
				log_warn("peer channel: refused %s: %d connections are "
					 "authenticating already (further ones not logged "
					 "until one ends)", addr, PEER_UNAUTH_MAX);
			p->full_logged = true;
			(void)close(s);
			continue;
		}
		conn_accept(p, s, addr);
	}
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

int
peer_open(struct peer **out, qb_loop_t *loop, const struct peer_config *cfg,
	  const struct peer_hooks *hooks, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct peer *p;
	int one = 1, rc;

	*out = NULL;
	if (loop == NULL || cfg == NULL)
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOSYS;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->loop = loop;
	if (hooks != NULL)
		p->hooks = *hooks;
	p->arg = arg;
	memcpy(p->key, cfg->key, sizeof(p->key));
	p->hs_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : PEER_HANDSHAKE_MS;
	p->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : PEER_IDLE_MS;
	p->lfd = -1;
	if (cfg->listen_addr == NULL || cfg->listen_addr[0] == '\0')
		goto out_ok;
	rc = addr_parse(cfg->listen_addr, cfg->port, &ss, &len);
	if (rc < 0)
		goto out_free;
	p->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0) {
		rc = -errno;
		goto out_free;
	}
	(void)setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->lfd, (struct sockaddr *)&ss, len) < 0 || listen(p->lfd, 64) < 0) {
		rc = -errno;
		goto out_close;
	}
	len = sizeof(ss);
	if (getsockname(p->lfd, (struct sockaddr *)&ss, &len) < 0) {
		rc = -errno;
		goto out_close;
	}
	p->port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	rc = qb_loop_poll_add(loop, QB_LOOP_LOW, p->lfd, POLLIN, p, listen_fn);
	if (rc < 0)
		goto out_close;
out_ok:
	*out = p;
	return 0;

out_close:
	(void)close(p->lfd);
out_free:
	sodium_memzero(p->key, sizeof(p->key));
	free(p);
	return rc;
}

uint16_t
peer_port(const struct peer *p)
{
	return p != NULL ? p->port : 0;
}

void
peer_stats_get(const struct peer *p, struct peer_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (p != NULL)
		*out = p->stats;
}

void
peer_close(struct peer *p)
{
	if (p == NULL)
		return;
	p->closing = true;
	if (p->lfd >= 0) {
		(void)qb_loop_poll_del(p->loop, p->lfd);
		(void)close(p->lfd);
		p->lfd = -1;
	}
	while (p->conns != NULL) {
		struct peer_conn *c = p->conns;

		if (!c->dead) {
			c->tell = true;
			c->logged = true;       /* not a refusal: we stop */
			conn_teardown(c, peer_fail(c, -ECANCELED, "peer channel closed"));
		}
		conn_complete(c);
	}
	sodium_memzero(p->key, sizeof(p->key));
	free(p);
}

void
peer_conn_abort(struct peer_conn *c)
{
	peer_conn_abort_why(c, "canceled");
}

void
peer_conn_abort_why(struct peer_conn *c, const char *why)
{
	if (c == NULL || c->dead)
		return;
	c->tell = true;
	conn_teardown(c, peer_fail(c, -ECANCELED, "%s", why));
	conn_defer(c);
}

int
peer_dial(struct peer *p, const char *addr, uint16_t port, const void *hello,
	  size_t len, int fd, peer_done_fn done, void *arg, struct peer_conn **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct peer_conn *c;
	int one = 1, rc;

	if (out != NULL)
		*out = NULL;
	if (p == NULL || done == NULL || port == 0 || (hello == NULL && len > 0) ||
	    len > PEER_HELLO_MAX)
		return -EINVAL;
	if (p->closing)
		return -ESHUTDOWN;
	rc = addr_parse(addr, port, &ss, &sslen);
	if (rc < 0)
		return rc;
	rc = peer_stream_check(fd);
	if (rc < 0)
		return rc == -EPROTOTYPE ? -ENOTSOCK : rc;
	c = conn_new(p, true);
	if (c == NULL)
		return -ENOMEM;
	c->hello = malloc(len > 0 ? len : 1);
	if (c->hello == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (len > 0)
		memcpy(c->hello, hello, len);
	c->hello_len = len;
	c->sock = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->sock < 0) {
		rc = -errno;
		goto out_free;
	}
	(void)setsockopt(c->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	addr_format(&ss, sslen, c->addr, sizeof(c->addr));
	c->fd = fd;
	randombytes_buf(c->nd, PEER_NONCE);
	c->st = CS_CONNECTING;
	rc = timer_set(c, p->hs_ms);
	if (rc < 0)
		goto out_close;
	if (connect(c->sock, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS) {
		rc = peer_fail(c, -errno, "connect to %s: %s", c->addr, strerror(errno));
	} else {
		rc = conn_polls(c);
		if (rc < 0)
			goto out_timer;
	}
	c->done = done;
	c->done_arg = arg;
	c->next = p->conns;
	p->conns = c;
	p->stats.dialed++;
	if (rc < 0) {           /* done from the loop, never from here */
		conn_teardown(c, rc);
		conn_defer(c);
	}
	if (out != NULL)
		*out = c;
	return 0;

out_timer:
	(void)qb_loop_timer_del(p->loop, c->timer);
out_close:
	(void)close(c->sock);
out_free:
	free(c->hello);
	free(c);
	return rc;
}
