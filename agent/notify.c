/* systemd service notification over the notify socket (see notify.h). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <qb/qbdefs.h>

#include "notify.h"

static int
notify_addr(struct notify *n, const char *path)
{
	size_t len = strlen(path);

	if (len == 0)
		return -EINVAL;
	if (strncmp(path, "vsock:", 6) == 0)
		return -EAFNOSUPPORT;
	if (path[0] != '/' && path[0] != '@')
		return -EINVAL;
	if (len >= sizeof(n->addr.sun_path))
		return -ENAMETOOLONG;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0';     /* abstract namespace */
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				 (path[0] == '@' ? 0 : 1));
	return 0;
}

/* $WATCHDOG_USEC, for us when $WATCHDOG_PID is unset or our pid. */
static uint64_t
notify_watchdog_env(const char *usec, const char *pid)
{
	unsigned long long v, p;
	char *end;

	if (usec == NULL || usec[0] < '0' || usec[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	if (pid != NULL) {
		if (pid[0] < '0' || pid[0] > '9')
			return 0;
		p = strtoull(pid, &end, 10);
		if (errno != 0 || *end != '\0' || p != (unsigned long long)getpid())
			return 0;
	}
	return v;
}

int
notify_open(struct notify *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	int rc = 0;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (path != NULL) {
		rc = notify_addr(n, path);
		if (rc == 0) {
			n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (n->fd < 0)
				rc = -errno;
		}
		if (rc == 0)
			n->watchdog_usec = notify_watchdog_env(getenv("WATCHDOG_USEC"),
							       getenv("WATCHDOG_PID"));
	}
	(void)unsetenv("NOTIFY_SOCKET");
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	return rc;
}

int
notify_send(struct notify *n, const char *text)
{
	ssize_t sent;

	if (n->fd < 0)
		return 0;
	sent = sendto(n->fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL,
		      (const struct sockaddr *)&n->addr, n->addrlen);
	if (sent < 0)
		return -errno;
	if ((size_t)sent != strlen(text))
		return -EMSGSIZE;
	n->sent++;
	return 0;
}

void
notify_compose(const struct notify_input *in, char *status, size_t len,
	       bool *ready)
{
	char coord[96], counts[96];

	*ready = in->joined && in->synced;
	if (!in->connected) {
		(void)snprintf(status, len, "waiting for corosync");
		return;
	}
	if (!in->joined) {
		(void)snprintf(status, len, "joining the cluster");
		return;
	}
	if (!in->synced) {
		(void)snprintf(status, len, "syncing the state");
		return;
	}
	(void)snprintf(counts, sizeof(counts), "%u/%u nodes online, %u/%u VMs "
		       "running", in->nodes_online, in->nodes_total,
		       in->vms_running, in->vms_total);
	if (!in->quorate) {
		(void)snprintf(status, len, "not quorate%s%s; %s",
			       in->quorum_reason != NULL && in->quorum_reason[0] ?
			       ": " : "",
			       in->quorum_reason != NULL ? in->quorum_reason : "",
			       counts);
		return;
	}
	if (in->coordinator == 0)
		(void)snprintf(coord, sizeof(coord), "no coordinator yet");
	else if (in->coordinator == in->local_id)
		(void)snprintf(coord, sizeof(coord), "coordinator: this node");
	else if (in->coordinator_name != NULL)
		(void)snprintf(coord, sizeof(coord), "coordinator %s (node %" PRIu32
			       ")", in->coordinator_name, in->coordinator);
	else
		(void)snprintf(coord, sizeof(coord), "coordinator node %" PRIu32,
			       in->coordinator);
	(void)snprintf(status, len, "quorate, %s; %s", coord, counts);
}

int
notify_update(struct notify *n, const struct notify_input *in)
{
	char status[NOTIFY_STATUS_MAX], msg[NOTIFY_STATUS_MAX + 32];
	bool ready;
	int rc;

	if (n->fd < 0 || n->stopping)
		return 0;
	notify_compose(in, status, sizeof(status), &ready);
	if (ready && !n->ready_sent) {
		(void)snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
		rc = notify_send(n, msg);
		if (rc < 0)
			return rc;      /* again at the next poll */
		n->ready_sent = true;
	} else if (strcmp(status, n->status) != 0) {
		(void)snprintf(msg, sizeof(msg), "STATUS=%s", status);
		rc = notify_send(n, msg);
		if (rc < 0)
			return rc;
	} else {
		return 0;
	}
	(void)snprintf(n->status, sizeof(n->status), "%s", status);
	return 0;
}

uint64_t
notify_watchdog_period_ms(const struct notify *n)
{
	uint64_t ms = n->watchdog_usec / 2 / 1000;

	if (n->fd < 0 || n->watchdog_usec == 0)
		return 0;
	return ms > 0 ? ms : 1;
}

static void
notify_wd_fn(void *data)
{
	struct notify *n = data;

	n->wd_timer = 0;
	/* a lost datagram is made good by the next one, well in time */
	(void)notify_send(n, "WATCHDOG=1");
	(void)qb_loop_timer_add(n->loop, QB_LOOP_HIGH,
				notify_watchdog_period_ms(n) * QB_TIME_NS_IN_MSEC,
				n, notify_wd_fn, &n->wd_timer);
}

static void
notify_poll_tick(void *data)
{
	struct notify *n = data;
	struct notify_input in;

	n->poll_timer = 0;
	if (n->stopping)
		return;
	memset(&in, 0, sizeof(in));
	n->poll(n->poll_data, &in);
	(void)notify_update(n, &in);
	(void)qb_loop_timer_add(n->loop, QB_LOOP_LOW,
				(uint64_t)NOTIFY_POLL_MS * QB_TIME_NS_IN_MSEC,
				n, notify_poll_tick, &n->poll_timer);
}

int
notify_start(struct notify *n, qb_loop_t *loop, notify_poll_fn poll,
	     void *data)
{
	int rc;

	if (n->fd < 0)
		return 0;
	n->loop = loop;
	n->poll = poll;
	n->poll_data = data;
	if (notify_watchdog_period_ms(n) > 0) {
		rc = qb_loop_timer_add(loop, QB_LOOP_HIGH,
				       notify_watchdog_period_ms(n) *
				       QB_TIME_NS_IN_MSEC,
				       n, notify_wd_fn, &n->wd_timer);
		if (rc < 0)
			return rc;
	}
	if (poll == NULL)
		return 0;
	rc = qb_loop_timer_add(loop, QB_LOOP_LOW, 0, n, notify_poll_tick,
			       &n->poll_timer);
	return rc < 0 ? rc : 0;
}

void
notify_stopping(struct notify *n, const char *status)
{
	char msg[NOTIFY_STATUS_MAX + 32];

	if (n == NULL || n->fd < 0 || n->stopping)
		return;
	n->stopping = true;
	(void)snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s",
		       status != NULL ? status : "stopping");
	(void)notify_send(n, msg);
}

void
notify_close(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->loop != NULL) {
		if (n->wd_timer != 0)
			(void)qb_loop_timer_del(n->loop, n->wd_timer);
		if (n->poll_timer != 0)
			(void)qb_loop_timer_del(n->loop, n->poll_timer);
	}
	n->wd_timer = 0;
	n->poll_timer = 0;
	n->loop = NULL;
	if (n->fd >= 0)
		(void)close(n->fd);
	n->fd = -1;
}
