/* The optional /metrics HTTP listener of xenmeshd ([metrics] listen).
 *
 * Minimal on purpose, on the agent's qb_loop: HTTP/1.0 and 1.1 "GET
 * /metrics" only, one response per connection (Connection: close), a
 * request head of at most METRICS_HTTP_HEAD_MAX bytes, at most
 * METRICS_HTTP_CONNS connections at once, each closed after
 * METRICS_HTTP_TIMEOUT_MS whatever it does.  Anything else gets 400, 404,
 * 405 or 431 and the connection closed.  The body comes from a render
 * callback (metrics_format).
 */
#ifndef XM_METRICS_HTTP_H
#define XM_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <qb/qbloop.h>

#define METRICS_HTTP_HEAD_MAX   4096
#define METRICS_HTTP_CONNS      8
#define METRICS_HTTP_TIMEOUT_MS 5000
#define METRICS_LISTEN_MAX      64      /* "[v6addr]:port" fits */

struct metrics_http;

/* The text to serve, malloc'd into *text; 0 or -errno (answered 500). */
typedef int (*metrics_render_fn)(void *data, char **text);

/* "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), numeric only, port 1..65535.
 * 0 or -EINVAL; addr may be NULL (just checking). */
int metrics_listen_parse(const char *s, struct sockaddr_storage *addr,
			 socklen_t *addrlen);

/* Listens on listen (as above; port 0 picks one, see
 * metrics_http_port).  0 or -errno. */
int metrics_http_start(qb_loop_t *loop, const char *listen,
		       metrics_render_fn render, void *data,
		       struct metrics_http **out);
/* The port listened on (host order). */
uint16_t metrics_http_port(const struct metrics_http *h);
/* Closes the listener and every connection; NULL is fine. */
void metrics_http_stop(struct metrics_http *h);

#endif
