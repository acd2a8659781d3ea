/* watchdogd: the rig's watchdog service.
 *
 *   watchdogd --socket PATH --cgroup-root DIR [--log FILE]
 *   watchdogd --socket PATH --forget NODE
 *
 * The rig nodes are network namespaces with no watchdog device of their
 * own, so this process, started by the rig outside every node, plays the
 * device for all of them.  Each node's agent connects (fencing/watchdog.c,
 * driver `rig`) and speaks a line protocol:
 *
 *   -> "hello NODE TIMEOUT_S\n"   <- "ok TIMEOUT_S\n" | "err TEXT\n"  (arms)
 *   -> "pet\n"                    restarts NODE's countdown
 *   -> "close\n"                  magic close, if it is the last line
 *
 * When an armed node's countdown runs out, "1" is written to
 * DIR/NODE/cgroup.kill: the power loss of that node.  Like /dev/watchdog:
 * a disconnect after "close" disarms; any other disconnect leaves the
 * countdown running, so a restarted agent that says hello again in time
 * (which pets) keeps its host; a second connection for a node that still
 * has one is refused ("err busy"), as a second open of the device is.
 * Anything else a client sends is logged and is not a pet.
 *
 * A real power loss also stops the host's watchdog.  So when the rig cuts
 * a node's power itself (crash, stop), it says so with `--forget NODE`
 * (the line "forget NODE\n" on a fresh connection, answered "ok\n"): the
 * node is disarmed and detached from its old connection, so that a node
 * restarted within the timeout is not killed before its new agent says
 * hello.
 *
 * One thread, one ppoll loop whose timeout is the nearest deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WDD_MAX_CONN 128
#define WDD_MAX_NODES 128
#define WDD_NODE_MAX 64
#define WDD_LINE_MAX 128
#define WDD_TIMEOUT_MAX_S 3600u

struct wdd_node {
	char name[WDD_NODE_MAX];
	unsigned timeout_s;
	uint64_t last_pet_ms;
	uint64_t deadline_ms;
	bool armed;
	int conn;                       /* index in conns, -1: none */
};

struct wdd_conn {
	int fd;                         /* -1: free slot */
	char buf[WDD_LINE_MAX];
	size_t used;
	bool discarding;                /* inside an overlong line */
	int node;                       /* index in nodes, -1: before hello */
	/* The last line was "close": a disconnect now disarms.  Any later
	 * line clears it, as any later write to /dev/watchdog does. */
	bool allow_release;
};

struct wdd {
	const char *socket_path;
	const char *cgroup_root;
	FILE *log;
	int listen_fd;
	struct wdd_conn conns[WDD_MAX_CONN];
	struct wdd_node nodes[WDD_MAX_NODES];
	size_t n_nodes;
};

static volatile sig_atomic_t wdd_stop;

static void
wdd_on_signal(int sig)
{
	(void)sig;
	wdd_stop = 1;
}

static uint64_t
wdd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
wdd_log(struct wdd *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wdd_log(struct wdd *w, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(w->log, "%s.%03ld watchdogd: ", stamp, ts.tv_nsec / 1000000L);
	va_start(ap, fmt);
	vfprintf(w->log, fmt, ap);
	va_end(ap);
	fputc('\n', w->log);
	fflush(w->log);
}

/* Garbage goes into the log printable and bounded. */
static void
wdd_sanitize(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t i, o = 0;

	for (i = 0; i < inlen && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

/* Same rule as the client: it names a directory under the cgroup root. */
static bool
wdd_node_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= WDD_NODE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
			return false;
	}
	return true;
}

static void
wdd_reply(struct wdd_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wdd_reply(struct wdd_conn *c, const char *fmt, ...)
{
	char line[WDD_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	/* A client that does not read its reply only hurts itself. */
	(void)send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void
wdd_conn_close(struct wdd *w, int ci)
{
	struct wdd_conn *c = &w->conns[ci];

	if (c->node >= 0 && w->nodes[c->node].conn == ci)
		w->nodes[c->node].conn = -1;
	(void)close(c->fd);
	*c = (struct wdd_conn){ .fd = -1, .node = -1 };
}

/* The peer went away (EOF or error). */
static void
wdd_conn_gone(struct wdd *w, int ci, uint64_t now)
{
	struct wdd_conn *c = &w->conns[ci];
	struct wdd_node *n;

	if (c->node < 0) {
		wdd_conn_close(w, ci);
		return;
	}
	n = &w->nodes[c->node];
	if (!n->armed) {
		/* Killed already, or closed magically before. */
	} else if (c->allow_release) {
		n->armed = false;
		wdd_log(w, "%s: magic close: disarmed", n->name);
	} else {
		wdd_log(w, "%s: disconnected without magic close: stays "
		    "armed, %lld ms left", n->name,
		    (long long)(n->deadline_ms - now));
	}
	wdd_conn_close(w, ci);
}

static struct wdd_node *
wdd_node_find(struct wdd *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n_nodes; i++)
		if (strcmp(w->nodes[i].name, name) == 0)
			return &w->nodes[i];
	if (w->n_nodes == WDD_MAX_NODES)
		return NULL;
	w->nodes[w->n_nodes] = (struct wdd_node){ .conn = -1 };
	snprintf(w->nodes[w->n_nodes].name, WDD_NODE_MAX, "%s", name);
	return &w->nodes[w->n_nodes++];
}

static void
wdd_pet(struct wdd_node *n, uint64_t now)
{
	n->last_pet_ms = now;
	n->deadline_ms = now + (uint64_t)n->timeout_s * 1000u;
}

/* "hello NODE TIMEOUT_S".  Returns false when the connection must close. */
static bool
wdd_hello(struct wdd *w, int ci, char *args, uint64_t now)
{
	struct wdd_conn *c = &w->conns[ci];
	char *name, *tstr, *extra, *end, *save = NULL;
	struct wdd_node *n;
	unsigned long t;

	name = strtok_r(args, " ", &save);
	tstr = strtok_r(NULL, " ", &save);
	extra = strtok_r(NULL, " ", &save);
	if (!name || !tstr || extra || !wdd_node_name_valid(name)) {
		wdd_log(w, "connection %d: malformed hello, refused", c->fd);
		wdd_reply(c, "err malformed hello\n");
		return false;
	}
	errno = 0;
	t = strtoul(tstr, &end, 10);
	if (errno || *end != '\0' || t == 0 || t > WDD_TIMEOUT_MAX_S) {
		wdd_log(w, "%s: timeout \"%s\" out of range (1..%u), refused",
		    name, tstr, WDD_TIMEOUT_MAX_S);
		wdd_reply(c, "err timeout out of range\n");
		return false;
	}
	n = wdd_node_find(w, name);
	if (!n) {
		wdd_log(w, "%s: node table full, refused", name);
		wdd_reply(c, "err too many nodes\n");
		return false;
	}
	if (n->conn >= 0) {
		wdd_log(w, "%s: already connected, second hello refused", name);
		wdd_reply(c, "err busy\n");
		return false;
	}
	if (n->armed)
		wdd_log(w, "%s: hello again while armed (%lld ms were left): "
		    "re-adopted, timeout %lu s", name,
		    (long long)(n->deadline_ms - now), t);
	else
		wdd_log(w, "%s: hello: armed, timeout %lu s", name, t);
	n->timeout_s = (unsigned)t;
	n->armed = true;
	n->conn = ci;
	c->node = (int)(n - w->nodes);
	/* Opening /dev/watchdog pings it, so does hello. */
	wdd_pet(n, now);
	wdd_reply(c, "ok %lu\n", t);
	return true;
}

/* "forget NODE" from the rig: that node lost its power.  Idempotent. */
static bool
wdd_forget(struct wdd *w, int ci, const char *name, uint64_t now)
{
	struct wdd_conn *c = &w->conns[ci];
	size_t i;

	if (!wdd_node_name_valid(name)) {
		wdd_log(w, "connection %d: malformed forget, refused", c->fd);
		wdd_reply(c, "err malformed forget\n");
		return false;
	}
	for (i = 0; i < w->n_nodes; i++) {
		struct wdd_node *n = &w->nodes[i];

		if (strcmp(n->name, name) != 0)
			continue;
		if (n->armed)
			wdd_log(w, "%s: power cut by the rig: disarmed (%lld ms "
			    "were left)", name,
			    (long long)(n->deadline_ms - now));
		n->armed = false;
		/* Its old connection, if still open, speaks for nobody now. */
		if (n->conn >= 0)
			w->conns[n->conn].node = -1;
		n->conn = -1;
	}
	wdd_reply(c, "ok\n");
	return false;
}

static void
wdd_garbage(struct wdd *w, int ci, const char *line, size_t len)
{
	struct wdd_conn *c = &w->conns[ci];
	char text[WDD_LINE_MAX * 4 + 8];

	wdd_sanitize(text, sizeof(text), line, len);
	c->allow_release = false;
	if (c->node >= 0)
		wdd_log(w, "%s: garbage \"%s\", not a pet", w->nodes[c->node].name,
		    text);
	else
		wdd_log(w, "connection %d: garbage before hello \"%s\", ignored",
		    c->fd, text);
}

/* One complete line without its '\n'.  false: close the connection. */
static bool
wdd_line(struct wdd *w, int ci, char *line, size_t len, uint64_t now)
{
	struct wdd_conn *c = &w->conns[ci];

	if (memchr(line, '\0', len)) {
		wdd_garbage(w, ci, line, len);
		return true;
	}
	if (c->node < 0 && strncmp(line, "hello ", 6) == 0)
		return wdd_hello(w, ci, line + 6, now);
	if (c->node < 0 && strncmp(line, "forget ", 7) == 0)
		return wdd_forget(w, ci, line + 7, now);
	if (c->node >= 0 && strcmp(line, "pet") == 0) {
		wdd_pet(&w->nodes[c->node], now);
		c->allow_release = false;
		return true;
	}
	if (c->node >= 0 && strcmp(line, "close") == 0) {
		/* A write to the device pets, 'V' included. */
		wdd_pet(&w->nodes[c->node], now);
		c->allow_release = true;
		return true;
	}
	wdd_garbage(w, ci, line, len);
	return true;
}

static void
wdd_conn_read(struct wdd *w, int ci, uint64_t now)
{
	struct wdd_conn *c = &w->conns[ci];
	char chunk[512];
	ssize_t r;
	size_t i;

	r = read(c->fd, chunk, sizeof(chunk));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		wdd_conn_gone(w, ci, now);
		return;
	}
	for (i = 0; i < (size_t)r; i++) {
		char ch = chunk[i];

		if (ch == '\n') {
			bool keep = true;

			if (!c->discarding) {
				c->buf[c->used] = '\0';
				keep = wdd_line(w, ci, c->buf, c->used, now);
			}
			c->used = 0;
			c->discarding = false;
			if (!keep) {
				wdd_conn_close(w, ci);
				return;
			}
		} else if (c->discarding) {
			continue;
		} else if (c->used + 1 >= sizeof(c->buf)) {
			wdd_garbage(w, ci, c->buf, c->used);
			c->used = 0;
			c->discarding = true;
		} else {
			c->buf[c->used++] = ch;
		}
	}
}

static void
wdd_accept(struct wdd *w)
{
	int fd, ci;

	fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			wdd_log(w, "accept: %s, ignoring", strerror(errno));
		return;
	}
	for (ci = 0; ci < WDD_MAX_CONN; ci++)
		if (w->conns[ci].fd < 0)
			break;
	if (ci == WDD_MAX_CONN) {
		wdd_log(w, "too many connections, refusing one");
		(void)close(fd);
		return;
	}
	w->conns[ci] = (struct wdd_conn){ .fd = fd, .node = -1 };
}

/* The power loss of a node. */
static void
wdd_kill(struct wdd *w, struct wdd_node *n, uint64_t now)
{
	char path[PATH_MAX];
	int fd, len;
	ssize_t r;

	n->armed = false;
	len = snprintf(path, sizeof(path), "%s/%s/cgroup.kill", w->cgroup_root,
	    n->name);
	if (len < 0 || (size_t)len >= sizeof(path)) {
		wdd_log(w, "%s: not petted for %llu ms (timeout %u s): cgroup "
		    "path too long, CANNOT KILL", n->name,
		    (unsigned long long)(now - n->last_pet_ms), n->timeout_s);
		goto out_conn;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	r = fd < 0 ? -1 : write(fd, "1", 1);
	if (r != 1)
		wdd_log(w, "%s: not petted for %llu ms (timeout %u s): writing "
		    "%s failed: %s, CANNOT KILL", n->name,
		    (unsigned long long)(now - n->last_pet_ms), n->timeout_s,
		    path, strerror(errno));
	else
		wdd_log(w, "%s: not petted for %llu ms (timeout %u s): wrote 1 "
		    "to %s (power loss)", n->name,
		    (unsigned long long)(now - n->last_pet_ms), n->timeout_s,
		    path);
	if (fd >= 0)
		(void)close(fd);
out_conn:
	/* Whatever was connected for it died with it. */
	if (n->conn >= 0)
		wdd_conn_close(w, n->conn);
}

/* Fire what is due; return the ms until the next deadline, -1: none. */
static int64_t
wdd_expire(struct wdd *w, uint64_t now)
{
	int64_t next = -1;
	size_t i;

	for (i = 0; i < w->n_nodes; i++) {
		struct wdd_node *n = &w->nodes[i];

		if (!n->armed)
			continue;
		if (n->deadline_ms <= now) {
			wdd_kill(w, n, now);
			continue;
		}
		if (next < 0 || (int64_t)(n->deadline_ms - now) < next)
			next = (int64_t)(n->deadline_ms - now);
	}
	return next;
}

static int
wdd_listen(struct wdd *w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	if (strlen(w->socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "watchdogd: socket path too long: %s\n",
		    w->socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, w->socket_path, strlen(w->socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A leftover socket file is removed, a live service is not. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		fprintf(stderr, "watchdogd: another service listens on %s\n",
		    w->socket_path);
		r = -EADDRINUSE;
		goto out_close;
	}
	(void)close(fd);
	(void)unlink(w->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(077);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 64) < 0) {
		r = -errno;
		fprintf(stderr, "watchdogd: %s: %s\n", w->socket_path,
		    strerror(-r));
		goto out_close;
	}
	w->listen_fd = fd;
	return 0;

out_close:
	(void)close(fd);
	return r;
}

static int
wdd_run(struct wdd *w, const sigset_t *waitmask)
{
	struct pollfd pfd[WDD_MAX_CONN + 1];
	int idx[WDD_MAX_CONN + 1];

	while (!wdd_stop) {
		struct timespec ts, *tsp = NULL;
		int64_t next;
		nfds_t n = 0, i;
		int r;

		next = wdd_expire(w, wdd_now_ms());
		if (next >= 0) {
			ts.tv_sec = next / 1000;
			ts.tv_nsec = (long)(next % 1000) * 1000000L;
			tsp = &ts;
		}
		pfd[n] = (struct pollfd){ .fd = w->listen_fd, .events = POLLIN };
		idx[n++] = -1;
		for (r = 0; r < WDD_MAX_CONN; r++) {
			if (w->conns[r].fd < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = w->conns[r].fd,
			    .events = POLLIN };
			idx[n++] = r;
		}
		r = ppoll(pfd, n, tsp, waitmask);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			wdd_log(w, "ppoll: %s", strerror(errno));
			return -errno;
		}
		/* Deadlines first: a pet read after its deadline is late. */
		(void)wdd_expire(w, wdd_now_ms());
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (idx[i] < 0)
				wdd_accept(w);
			else if (w->conns[idx[i]].fd == pfd[i].fd)
				wdd_conn_read(w, idx[i], wdd_now_ms());
		}
	}
	return 0;
}

static void
wdd_usage(FILE *f)
{
	fprintf(f, "usage: watchdogd --socket PATH --cgroup-root DIR "
	    "[--log FILE]\n"
	    "       watchdogd --socket PATH --forget NODE\n");
}

/* Client mode: tell the running service that NODE lost its power. */
static int
wdd_forget_client(const char *socket_path, const char *node)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[WDD_LINE_MAX], reply[WDD_LINE_MAX];
	struct pollfd pfd;
	size_t used = 0;
	ssize_t n;
	int fd, len;

	len = snprintf(line, sizeof(line), "forget %s\n", node);
	if (len < 0 || (size_t)len >= sizeof(line) ||
	    strlen(socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "watchdogd: node name or socket path too long\n");
		return 1;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
		fprintf(stderr, "watchdogd: %s: %s\n", socket_path,
		    strerror(errno));
		goto out_fail;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (used + 1 < sizeof(reply) && poll(&pfd, 1, 5000) == 1) {
		n = read(fd, reply + used, 1);
		if (n <= 0 || reply[used] == '\n')
			break;
		used++;
	}
	reply[used] = '\0';
	if (strcmp(reply, "ok") != 0) {
		fprintf(stderr, "watchdogd: forget %s: \"%s\"\n", node, reply);
		goto out_fail;
	}
	(void)close(fd);
	return 0;

out_fail:
	if (fd >= 0)
		(void)close(fd);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "cgroup-root", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{ "forget", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wdd w = { .listen_fd = -1, .log = stderr };
	const char *log_path = NULL, *forget = NULL;
	struct sigaction sa = { .sa_handler = wdd_on_signal };
	sigset_t block, waitmask;
	struct stat st;
	int opt, i, r;

	while ((opt = getopt_long(argc, argv, "s:c:l:f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			w.socket_path = optarg;
			break;
		case 'c':
			w.cgroup_root = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'f':
			forget = optarg;
			break;
		case 'h':
			wdd_usage(stdout);
			return 0;
		default:
			wdd_usage(stderr);
			return 2;
		}
	}
	if (forget && w.socket_path && !w.cgroup_root && !log_path &&
	    optind == argc)
		return wdd_forget_client(w.socket_path, forget);
	if (forget || !w.socket_path || !w.cgroup_root || optind != argc) {
		wdd_usage(stderr);
		return 2;
	}
	if (stat(w.cgroup_root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "watchdogd: cgroup root %s is not a directory\n",
		    w.cgroup_root);
		return 1;
	}
	if (log_path) {
		w.log = fopen(log_path, "ae");
		if (!w.log) {
			fprintf(stderr, "watchdogd: %s: %s\n", log_path,
			    strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < WDD_MAX_CONN; i++)
		w.conns[i] = (struct wdd_conn){ .fd = -1, .node = -1 };

	/* Signals are blocked except inside ppoll: no lost wakeup. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = wdd_listen(&w);
	if (r < 0)
		goto out_log;
	wdd_log(&w, "listening on %s, cgroup root %s", w.socket_path,
	    w.cgroup_root);
	r = wdd_run(&w, &waitmask);
	wdd_log(&w, "stopping; armed nodes are left alone");
	for (i = 0; i < WDD_MAX_CONN; i++)
		if (w.conns[i].fd >= 0)
			wdd_conn_close(&w, i);
	(void)close(w.listen_fd);
	(void)unlink(w.socket_path);
out_log:
	if (w.log != stderr)
		fclose(w.log);
	return r < 0 ? 1 : 0;
}
