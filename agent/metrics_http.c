/* The /metrics HTTP listener (see metrics_http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qb/qbdefs.h>

#include "metrics_http.h"

struct http_conn {
	struct metrics_http *h;
	int fd;
	char head[METRICS_HTTP_HEAD_MAX];
	size_t used;
	char *out;                      /* the response, once known */
	size_t out_len, out_off;
	qb_loop_timer_handle timer;
};

struct metrics_http {
	qb_loop_t *loop;
	int fd;
	uint16_t port;
	metrics_render_fn render;
	void *data;
	struct http_conn *conns[METRICS_HTTP_CONNS];
};

/* ---- the address --------------------------------------------------------- */

static int
listen_parse(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen,
	     bool port0_ok)
{
	struct sockaddr_storage ss;
	char host[METRICS_LISTEN_MAX];
	const char *colon, *p;
	unsigned long port = 0;
	size_t hlen;

	if (s == NULL || strlen(s) >= METRICS_LISTEN_MAX)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		memcpy(host, s + 1, hlen);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		memcpy(host, s, hlen);
	}
	host[hlen] = '\0';
	p = colon + 1;
	if (*p == '\0' || strlen(p) > 5)
		return -EINVAL;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535 || (port == 0 && !port0_ok))
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (addrlen != NULL)
			*addrlen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (addrlen != NULL)
			*addrlen = sizeof(*sin);
	}
	if (addr != NULL)
		*addr = ss;
	return 0;
}

int
metrics_listen_parse(const char *s, struct sockaddr_storage *addr,
		     socklen_t *addrlen)
{
	return listen_parse(s, addr, addrlen, false);
}

/* ---- connections ---------------------------------------------------------- */

static void
conn_close(struct http_conn *c)
{
	struct metrics_http *h = c->h;

	for (size_t i = 0; i < METRICS_HTTP_CONNS; i++)
		if (h->conns[i] == c)
			h->conns[i] = NULL;
	if (c->timer != 0)
		(void)qb_loop_timer_del(h->loop, c->timer);
	(void)qb_loop_poll_del(h->loop, c->fd);
	(void)close(c->fd);
	free(c->out);
	free(c);
}

static void
conn_timeout_fn(void *data)
{
	struct http_conn *c = data;

	c->timer = 0;
	conn_close(c);
}

static int32_t conn_fn(int32_t fd, int32_t revents, void *data);

/* Sends what it can of the response; closes when all went or on error. */
static void
conn_write(struct http_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;         /* POLLOUT brings us back */
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	(void)shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void
conn_respond(struct http_conn *c, const char *status, const char *extra,
	     const char *type, const char *body)
{
	size_t blen = strlen(body);
	int n;

	n = asprintf(&c->out, "HTTP/1.1 %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: close\r\n"
		     "\r\n%s", status, type, blen, extra, body);
	if (n < 0) {
		c->out = NULL;
		conn_close(c);
		return;
	}
	c->out_len = (size_t)n;
	c->out_off = 0;
	(void)qb_loop_poll_mod(c->h->loop, QB_LOOP_LOW, c->fd, POLLOUT, c, conn_fn);
	conn_write(c);
}

static void
conn_error(struct http_conn *c, const char *status, const char *extra)
{
	char body[128];

	(void)snprintf(body, sizeof(body), "%s\n", status);
	conn_respond(c, status, extra, "text/plain; charset=utf-8", body);
}

/* The request head is complete (or too large): answer it. */
static void
conn_request(struct http_conn *c)
{
	char *line = c->head, *eol, *method, *target, *version, *save = NULL;
	char *text = NULL;

	eol = strpbrk(line, "\r\n");
	if (eol != NULL)
		*eol = '\0';
	method = strtok_r(line, " ", &save);
	target = method != NULL ? strtok_r(NULL, " ", &save) : NULL;
	version = target != NULL ? strtok_r(NULL, " ", &save) : NULL;
	if (version == NULL || strtok_r(NULL, " ", &save) != NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		conn_error(c, "400 Bad Request", "");
		return;
	}
	if (strcmp(method, "GET") != 0) {
		conn_error(c, "405 Method Not Allowed", "Allow: GET\r\n");
		return;
	}
	if (strcmp(target, "/metrics") != 0 &&
	    strncmp(target, "/metrics?", 9) != 0) {
		conn_error(c, "404 Not Found", "");
		return;
	}
	if (c->h->render(c->h->data, &text) < 0 || text == NULL) {
		free(text);
		conn_error(c, "500 Internal Server Error", "");
		return;
	}
	conn_respond(c, "200 OK", "", "text/plain; version=0.0.4; charset=utf-8",
		     text);
	free(text);
}

static bool
head_complete(const char *head, size_t used)
{
	for (size_t i = 0; i + 1 < used; i++) {
		if (head[i] == '\n' && head[i + 1] == '\n')
			return true;
		if (i + 3 < used && memcmp(head + i, "\r\n\r\n", 4) == 0)
			return true;
	}
	return false;
}

static int32_t
conn_fn(int32_t fd, int32_t revents, void *data)
{
	struct http_conn *c = data;
	ssize_t n;

	if (c->out != NULL) {
		if (revents & (POLLERR | POLLHUP))
			conn_close(c);
		else
			conn_write(c);
		return 0;
	}
	/* room for the NUL that ends the head */
	n = recv(fd, c->head + c->used, sizeof(c->head) - 1 - c->used,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->used += (size_t)n;
	c->head[c->used] = '\0';
	if (memchr(c->head, '\0', c->used) != NULL) {
		conn_error(c, "400 Bad Request", "");
		return 0;
	}
	if (head_complete(c->head, c->used))
		conn_request(c);
	else if (c->used == sizeof(c->head) - 1)
		conn_error(c, "431 Request Header Fields Too Large", "");
	return 0;
}

static int32_t
listen_fn(int32_t fd, int32_t revents, void *data)
{
	struct metrics_http *h = data;

	for (;;) {
		struct http_conn *c;
		size_t slot;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return 0;       /* EAGAIN, or an aborted connection */
		for (slot = 0; slot < METRICS_HTTP_CONNS; slot++)
			if (h->conns[slot] == NULL)
				break;
		c = slot < METRICS_HTTP_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			(void)close(cfd);       /* busy: the scraper tries again */
			continue;
		}
		c->h = h;
		c->fd = cfd;
		if (qb_loop_poll_add(h->loop, QB_LOOP_LOW, cfd, POLLIN, c,
				     conn_fn) < 0) {
			(void)close(cfd);
			free(c);
			continue;
		}
		h->conns[slot] = c;
		(void)qb_loop_timer_add(h->loop, QB_LOOP_LOW,
					(uint64_t)METRICS_HTTP_TIMEOUT_MS *
					QB_TIME_NS_IN_MSEC, c, conn_timeout_fn,
					&c->timer);
	}
}

/* ---- life cycle ----------------------------------------------------------- */

int
metrics_http_start(qb_loop_t *loop, const char *listen_addr,
		   metrics_render_fn render, void *data,
		   struct metrics_http **out)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct metrics_http *h;
	int one = 1, rc;

	*out = NULL;
	rc = listen_parse(listen_addr, &ss, &len, true);
	if (rc < 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->loop = loop;
	h->render = render;
	h->data = data;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	(void)setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(h->fd, 16) < 0) {
		rc = -errno;
		goto out_close;
	}
	len = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) < 0) {
		rc = -errno;
		goto out_close;
	}
	h->port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	rc = qb_loop_poll_add(loop, QB_LOOP_LOW, h->fd, POLLIN, h, listen_fn);
	if (rc < 0)
		goto out_close;
	*out = h;
	return 0;

out_close:
	(void)close(h->fd);
out_free:
	free(h);
	return rc;
}

uint16_t
metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void
metrics_http_stop(struct metrics_http *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < METRICS_HTTP_CONNS; i++)
		if (h->conns[i] != NULL)
			conn_close(h->conns[i]);
	(void)qb_loop_poll_del(h->loop, h->fd);
	(void)close(h->fd);
	free(h);
}
