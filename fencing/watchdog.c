/* Watchdog drivers: `kernel` (/dev/watchdog) and `rig` (the rig's
 * watchdog service over a unix socket).  See watchdog.h.
 *
 * Both keep the semantics of the Linux watchdog API: open arms, any write
 * pets, the magic close ('V' as the last write before close) disarms, and
 * a close without it leaves the timer running, so that an agent that died
 * can be restarted and pet again within the timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "watchdog.h"
#include "xm_error.h"

/* How long open() waits for the rig service to answer hello. */
#define WD_RIG_REPLY_MS 5000
#define WD_RIG_LINE_MAX 128

static int
wd_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- kernel: the Linux watchdog API ------------------------------------ */

struct wd_kernel {
	struct watchdog base;
	int fd;
};

/* Any byte but 'V' pets: 'V' would arm the magic close.  A write rather
 * than WDIOC_KEEPALIVE because every driver implements write, and a test
 * can see it in a plain file. */
static const char wd_kernel_pet_byte[] = ".";

static int
wd_kernel_ioctl_int(int fd, unsigned long req, int *val)
{
	int r;

	do {
		r = ioctl(fd, req, val);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int
wd_kernel_check_timeout(int t)
{
	if (t <= 0 || (unsigned)t > WATCHDOG_TIMEOUT_MAX_S)
		return -ERANGE;
	return 0;
}

/* Disarm what open() armed, for its error paths: the device never
 * protected anything yet, and leaving it armed would reset a host whose
 * agent merely refused to start HA. */
static void
wd_kernel_disarm(int fd)
{
	(void)wd_write_all(fd, "V", 1);
	(void)close(fd);
}

static int
wd_kernel_open(struct watchdog **out, const struct watchdog_params *p,
    char *why, size_t whylen)
{
	const char *path = p->path ? p->path : WATCHDOG_KERNEL_PATH;
	struct wd_kernel *k;
	int fd, r, t;

	*out = NULL;
	if (p->timeout_s > WATCHDOG_TIMEOUT_MAX_S) {
		xm_why(why, whylen, "watchdog timeout %u s is out of range "
		    "(1..%u)", p->timeout_s, WATCHDOG_TIMEOUT_MAX_S);
		return -EINVAL;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			xm_why(why, whylen, "no watchdog device %s: load a "
			    "watchdog driver (e.g. softdog) or configure the "
			    "device path", path);
		else if (r == -EBUSY)
			xm_why(why, whylen, "watchdog device %s is in use by "
			    "another process (a watchdog daemon such as "
			    "watchdog or wdmd?)", path);
		else
			xm_why(why, whylen, "cannot open watchdog device %s: %s",
			    path, strerror(-r));
		return r;
	}
	if (p->timeout_s > 0) {
		t = (int)p->timeout_s;
		r = wd_kernel_ioctl_int(fd, WDIOC_SETTIMEOUT, &t);
		if (r < 0) {
			xm_why(why, whylen, "watchdog device %s cannot set a "
			    "timeout of %u s (WDIOC_SETTIMEOUT): %s", path,
			    p->timeout_s, strerror(-r));
			goto out_disarm;
		}
	}
	/* Read it back even after setting it: drivers round to what the
	 * hardware can do, and W must use the real value. */
	r = wd_kernel_ioctl_int(fd, WDIOC_GETTIMEOUT, &t);
	if (r < 0) {
		xm_why(why, whylen, "watchdog device %s does not report its "
		    "timeout (WDIOC_GETTIMEOUT): %s", path, strerror(-r));
		goto out_disarm;
	}
	r = wd_kernel_check_timeout(t);
	if (r < 0) {
		xm_why(why, whylen, "watchdog device %s reports a timeout of "
		    "%d s (usable: 1..%u)", path, t, WATCHDOG_TIMEOUT_MAX_S);
		goto out_disarm;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		r = -ENOMEM;
		xm_why(why, whylen, "out of memory");
		goto out_disarm;
	}
	k->base.ops = &watchdog_kernel_ops;
	k->fd = fd;
	*out = &k->base;
	return 0;

out_disarm:
	wd_kernel_disarm(fd);
	return r;
}

static int
wd_kernel_pet(struct watchdog *wd)
{
	struct wd_kernel *k = (struct wd_kernel *)wd;

	return wd_write_all(k->fd, wd_kernel_pet_byte, 1);
}

static int
wd_kernel_timeout_get(struct watchdog *wd, unsigned *timeout_s)
{
	struct wd_kernel *k = (struct wd_kernel *)wd;
	int r, t = 0;

	r = wd_kernel_ioctl_int(k->fd, WDIOC_GETTIMEOUT, &t);
	if (r < 0)
		return r;
	r = wd_kernel_check_timeout(t);
	if (r < 0)
		return r;
	*timeout_s = (unsigned)t;
	return 0;
}

static int
wd_kernel_set_timeout(struct watchdog *wd, unsigned timeout_s)
{
	struct wd_kernel *k = (struct wd_kernel *)wd;
	int t = (int)timeout_s;

	if (timeout_s == 0 || timeout_s > WATCHDOG_TIMEOUT_MAX_S)
		return -EINVAL;
	return wd_kernel_ioctl_int(k->fd, WDIOC_SETTIMEOUT, &t);
}

static void
wd_kernel_close(struct watchdog *wd, bool magic_close)
{
	struct wd_kernel *k = (struct wd_kernel *)wd;

	/* 'V' must be the last write before close(): the kernel forgets it
	 * at the next write.  A kernel built with nowayout ignores it. */
	if (magic_close)
		(void)wd_write_all(k->fd, "V", 1);
	(void)close(k->fd);
	free(k);
}

const struct watchdog_ops watchdog_kernel_ops = {
	.name = "kernel",
	.open = wd_kernel_open,
	.pet = wd_kernel_pet,
	.timeout_get = wd_kernel_timeout_get,
	.set_timeout = wd_kernel_set_timeout,
	.close = wd_kernel_close,
};

/* ---- rig: the rig's watchdog service ------------------------------------
 *
 * Line protocol on a unix stream socket:
 *   -> "hello NODE TIMEOUT_S\n"   <- "ok TIMEOUT_S\n" | "err TEXT\n"
 *   -> "pet\n"                    (no reply)
 *   -> "close\n"                  magic close when it is the last line
 */

struct wd_rig {
	struct watchdog base;
	int fd;
	unsigned timeout_s;
};

/* It names a directory under the rig's cgroup root: no '/', no "..". */
static bool
wd_rig_node_valid(const char *name)
{
	size_t i, len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len >= WATCHDOG_NODE_MAX)
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

/* One line, without its '\n', within WD_RIG_REPLY_MS. */
static int
wd_rig_read_line(int fd, char *line, size_t len)
{
	size_t used = 0;

	while (used + 1 < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r;

		r = poll(&pfd, 1, WD_RIG_REPLY_MS);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, line + used, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		if (line[used] == '\n') {
			line[used] = '\0';
			return 0;
		}
		used++;
	}
	return -EPROTO;
}

static int
wd_rig_send(int fd, const char *s, int flags)
{
	size_t len = strlen(s);
	ssize_t n;

	do {
		n = send(fd, s, len, MSG_NOSIGNAL | flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* "ok N" with N in range; anything else is the service's refusal. */
static int
wd_rig_parse_reply(const char *line, unsigned *timeout_s)
{
	unsigned long v;
	char *end;

	if (strncmp(line, "ok ", 3) != 0)
		return strncmp(line, "err busy", 8) == 0 ? -EBUSY : -EPROTO;
	errno = 0;
	v = strtoul(line + 3, &end, 10);
	if (errno || end == line + 3 || *end != '\0' || v == 0 ||
	    v > WATCHDOG_TIMEOUT_MAX_S)
		return -EPROTO;
	*timeout_s = (unsigned)v;
	return 0;
}

static int
wd_rig_open(struct watchdog **out, const struct watchdog_params *p,
    char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[WD_RIG_LINE_MAX];
	unsigned timeout_s = p->timeout_s ? p->timeout_s :
	    WATCHDOG_RIG_DEFAULT_TIMEOUT_S;
	struct wd_rig *rig;
	int fd, r;

	*out = NULL;
	if (!p->path || strlen(p->path) >= sizeof(sa.sun_path)) {
		xm_why(why, whylen, "rig watchdog socket path %s",
		    p->path ? "is too long" : "is not configured");
		return p->path ? -ENAMETOOLONG : -EINVAL;
	}
	if (!wd_rig_node_valid(p->node_name)) {
		xm_why(why, whylen, "rig watchdog needs a node name of "
		    "letters, digits, '-', '_', '.' (got \"%s\")",
		    p->node_name ? p->node_name : "");
		return -EINVAL;
	}
	if (timeout_s > WATCHDOG_TIMEOUT_MAX_S) {
		xm_why(why, whylen, "watchdog timeout %u s is out of range "
		    "(1..%u)", timeout_s, WATCHDOG_TIMEOUT_MAX_S);
		return -EINVAL;
	}
	memcpy(sa.sun_path, p->path, strlen(p->path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		xm_why(why, whylen, "socket: %s", strerror(-r));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		xm_why(why, whylen, "cannot connect to the rig watchdog "
		    "service at %s: %s", p->path, strerror(-r));
		goto out_close;
	}
	snprintf(line, sizeof(line), "hello %s %u\n", p->node_name, timeout_s);
	r = wd_rig_send(fd, line, 0);
	if (r < 0) {
		xm_why(why, whylen, "rig watchdog service at %s: hello: %s",
		    p->path, strerror(-r));
		goto out_close;
	}
	r = wd_rig_read_line(fd, line, sizeof(line));
	if (r < 0) {
		xm_why(why, whylen, "rig watchdog service at %s did not "
		    "answer hello: %s", p->path, strerror(-r));
		goto out_close;
	}
	r = wd_rig_parse_reply(line, &timeout_s);
	if (r < 0) {
		xm_why(why, whylen, "rig watchdog service at %s refused "
		    "node %s: \"%s\"", p->path, p->node_name, line);
		/* An "ok" we cannot read may have armed it: disarm. */
		if (strncmp(line, "ok", 2) == 0)
			(void)wd_rig_send(fd, "close\n", 0);
		goto out_close;
	}
	/* Pets must never block the agent's loop on a stuck service. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		xm_why(why, whylen, "fcntl: %s", strerror(-r));
		(void)wd_rig_send(fd, "close\n", 0);
		goto out_close;
	}
	rig = calloc(1, sizeof(*rig));
	if (!rig) {
		r = -ENOMEM;
		xm_why(why, whylen, "out of memory");
		(void)wd_rig_send(fd, "close\n", 0);
		goto out_close;
	}
	rig->base.ops = &watchdog_rig_ops;
	rig->fd = fd;
	rig->timeout_s = timeout_s;
	*out = &rig->base;
	return 0;

out_close:
	(void)close(fd);
	return r;
}

static int
wd_rig_pet(struct watchdog *wd)
{
	struct wd_rig *rig = (struct wd_rig *)wd;

	return wd_rig_send(rig->fd, "pet\n", MSG_DONTWAIT);
}

static int
wd_rig_timeout_get(struct watchdog *wd, unsigned *timeout_s)
{
	struct wd_rig *rig = (struct wd_rig *)wd;

	*timeout_s = rig->timeout_s;
	return 0;
}

static void
wd_rig_close(struct watchdog *wd, bool magic_close)
{
	struct wd_rig *rig = (struct wd_rig *)wd;

	if (magic_close)
		(void)wd_rig_send(rig->fd, "close\n", MSG_DONTWAIT);
	(void)close(rig->fd);
	free(rig);
}

const struct watchdog_ops watchdog_rig_ops = {
	.name = "rig",
	.open = wd_rig_open,
	.pet = wd_rig_pet,
	.timeout_get = wd_rig_timeout_get,
	/* The timeout travels in hello; the protocol has no way to change it. */
	.set_timeout = NULL,
	.close = wd_rig_close,
};

const struct watchdog_ops *
watchdog_ops_find(const char *name)
{
	if (!name)
		return NULL;
	if (strcmp(name, watchdog_kernel_ops.name) == 0)
		return &watchdog_kernel_ops;
	if (strcmp(name, watchdog_rig_ops.name) == 0)
		return &watchdog_rig_ops;
	return NULL;
}
