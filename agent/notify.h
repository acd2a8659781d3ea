/* systemd service notification (Type=notify, WatchdogSec=) for xenmeshd.
 *
 * Spoken directly over the notify socket protocol documented in
 * sd_notify(3): one AF_UNIX datagram of "KEY=VALUE\n" lines sent to the
 * socket named by $NOTIFY_SOCKET (a path, or "@name" in the abstract
 * namespace).  No libsystemd: the protocol is a stable interface that
 * systemd documents for reimplementation, and xenmeshd must run the same
 * without systemd (the rig, the demo) where these calls do nothing.
 *
 *   READY=1     once: joined the CPG group and the state synced
 *   STATUS=...  quorum and coordinator, sent when the text changes
 *   WATCHDOG=1  from the main loop every WATCHDOG_USEC / 2 (systemd's
 *               liveness check; the fencing watchdog is agent/guard.c's)
 *   STOPPING=1  on SIGTERM
 *
 * Sending never blocks the loop (MSG_DONTWAIT); a datagram that could not
 * go is sent again at the next poll.
 */
#ifndef XM_NOTIFY_H
#define XM_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <qb/qbloop.h>

#define NOTIFY_STATUS_MAX 256
#define NOTIFY_POLL_MS    1000          /* READY / STATUS are looked at */

/* What the status is made of (filled by the agent at every poll). */
struct notify_input {
	bool connected;                 /* to corosync */
	bool joined;                    /* our own CPG join seen */
	bool synced;                    /* the sync round ended */
	bool quorate;
	const char *quorum_reason;      /* why not quorate; may be NULL */
	uint32_t local_id;
	uint32_t coordinator;           /* 0: none */
	const char *coordinator_name;   /* NULL: not in the table */
	unsigned nodes_online, nodes_total;
	unsigned vms_running, vms_total;
};

typedef void (*notify_poll_fn)(void *data, struct notify_input *in);

struct notify {
	int fd;                         /* -1: not run by systemd */
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec;         /* 0: no WatchdogSec for us */
	bool ready_sent;
	bool stopping;
	char status[NOTIFY_STATUS_MAX]; /* the last STATUS= sent */
	qb_loop_t *loop;
	qb_loop_timer_handle wd_timer, poll_timer;
	notify_poll_fn poll;
	void *poll_data;
	uint64_t sent;                  /* datagrams sent (for tests, logs) */
};

/*
 * Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID and removes them
 * from the environment (the programs we run must not talk to systemd in
 * our name).  0 also when they are not set (n->fd stays -1, every call
 * below does nothing); -EINVAL (not absolute, not "@name"), -ENAMETOOLONG,
 * -EAFNOSUPPORT (vsock), or a socket() error when $NOTIFY_SOCKET cannot
 * be used.
 */
int notify_open(struct notify *n);
/* One datagram; 0 (nothing to do without a socket) or -errno. */
int notify_send(struct notify *n, const char *text);
/* The STATUS= text for in; *ready: READY=1 may be sent. */
void notify_compose(const struct notify_input *in, char *status, size_t len,
		    bool *ready);
/* READY=1 once ready (with the status), STATUS= when it changed. */
int notify_update(struct notify *n, const struct notify_input *in);
/* WATCHDOG=1 every watchdog_usec / 2 and poll() every NOTIFY_POLL_MS on
 * loop (nothing without a socket).  0 or -errno. */
int notify_start(struct notify *n, qb_loop_t *loop, notify_poll_fn poll,
		 void *data);
/* The watchdog period in ms (watchdog_usec / 2), 0 when none. */
uint64_t notify_watchdog_period_ms(const struct notify *n);
/* STOPPING=1 with a status saying why; polling stops (the watchdog goes
 * on while the loop runs). */
void notify_stopping(struct notify *n, const char *status);
/* Timers off, socket closed; NULL and never-opened are fine. */
void notify_close(struct notify *n);

#endif
