/* Unit tests of agent/notify.c: systemd notification against a notify
 * socket the test owns (a unix datagram socket in a temp dir, or in the
 * abstract namespace), with $NOTIFY_SOCKET pointing at it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbdefs.h>

#include "notify.h"

struct sock {
	char dir[48];
	char path[96];
	int fd;
};

/* A datagram socket bound at a path in a fresh temp dir. */
static void
sock_open(struct sock *s)
{
	struct sockaddr_un sa;

	snprintf(s->dir, sizeof(s->dir), "/tmp/xm-notify-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/notify", s->dir);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void
sock_close(struct sock *s)
{
	(void)close(s->fd);
	(void)unlink(s->path);
	(void)rmdir(s->dir);
}

/* The next datagram, or "" when none is waiting. */
static const char *
sock_recv(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static void
env_clear(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void
input_synced(struct notify_input *in)
{
	memset(in, 0, sizeof(*in));
	in->connected = true;
	in->joined = true;
	in->synced = true;
	in->quorate = true;
	in->local_id = 1;
	in->coordinator = 2;
	in->coordinator_name = "h2";
	in->nodes_online = 3;
	in->nodes_total = 3;
	in->vms_running = 5;
	in->vms_total = 6;
}

/* ---- invalid environments first ---------------------------------------- */

static void
test_no_socket(void **state)
{
	struct notify n;
	struct notify_input in;

	env_clear();
	setenv("WATCHDOG_USEC", "2000000", 1);
	assert_int_equal(notify_open(&n), 0);
	assert_int_equal(n.fd, -1);
	assert_int_equal(notify_watchdog_period_ms(&n), 0);
	assert_null(getenv("WATCHDOG_USEC"));
	/* everything is a no-op */
	assert_int_equal(notify_send(&n, "READY=1"), 0);
	input_synced(&in);
	assert_int_equal(notify_update(&n, &in), 0);
	assert_false(n.ready_sent);
	assert_int_equal(notify_start(&n, NULL, NULL, NULL), 0);
	notify_stopping(&n, "bye");
	notify_close(&n);
	notify_close(NULL);
}

static void
test_bad_socket(void **state)
{
	struct notify n;
	char longpath[200];

	env_clear();
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_open(&n), -EINVAL);
	assert_int_equal(n.fd, -1);
	assert_null(getenv("NOTIFY_SOCKET"));

	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify_open(&n), -EINVAL);

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(notify_open(&n), -EAFNOSUPPORT);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	assert_int_equal(notify_open(&n), -ENAMETOOLONG);
	assert_int_equal(n.fd, -1);
}

/* A socket nobody listens on: sends fail, READY is tried again. */
static void
test_socket_gone(void **state)
{
	struct notify n;
	struct notify_input in;

	env_clear();
	setenv("NOTIFY_SOCKET", "/nonexistent/xenmesh-notify", 1);
	assert_int_equal(notify_open(&n), 0);
	assert_true(n.fd >= 0);
	input_synced(&in);
	assert_true(notify_update(&n, &in) < 0);
	assert_false(n.ready_sent);
	assert_int_equal(n.status[0], '\0');
	notify_close(&n);
}

/* ---- the status text --------------------------------------------------- */

static void
test_compose(void **state)
{
	struct notify_input in;
	char s[NOTIFY_STATUS_MAX];
	bool ready;

	memset(&in, 0, sizeof(in));
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "waiting for corosync");
	assert_false(ready);

	in.connected = true;
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "joining the cluster");
	assert_false(ready);

	in.joined = true;
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "syncing the state");
	assert_false(ready);

	/* ready once joined and synced, quorate or not */
	in.synced = true;
	in.quorum_reason = "2 of 5 votes, 3 needed";
	in.nodes_online = 2;
	in.nodes_total = 5;
	notify_compose(&in, s, sizeof(s), &ready);
	assert_true(ready);
	assert_string_equal(s, "not quorate: 2 of 5 votes, 3 needed; 2/5 nodes "
			    "online, 0/0 VMs running");

	input_synced(&in);
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "quorate, coordinator h2 (node 2); 3/3 nodes "
			    "online, 5/6 VMs running");
	in.coordinator_name = NULL;
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "quorate, coordinator node 2; 3/3 nodes online, "
			    "5/6 VMs running");
	in.coordinator = 1;
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "quorate, coordinator: this node; 3/3 nodes "
			    "online, 5/6 VMs running");
	in.coordinator = 0;
	notify_compose(&in, s, sizeof(s), &ready);
	assert_string_equal(s, "quorate, no coordinator yet; 3/3 nodes online, "
			    "5/6 VMs running");
}

/* ---- the datagrams ------------------------------------------------------ */

static void
test_ready_status_stopping(void **state)
{
	struct notify n;
	struct notify_input in;
	struct sock s;

	sock_open(&s);
	env_clear();
	setenv("NOTIFY_SOCKET", s.path, 1);
	assert_int_equal(notify_open(&n), 0);
	assert_true(n.fd >= 0);
	/* the programs xenmeshd runs must not inherit it */
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_int_equal(notify_watchdog_period_ms(&n), 0);

	memset(&in, 0, sizeof(in));
	in.connected = true;
	in.joined = true;
	assert_int_equal(notify_update(&n, &in), 0);
	assert_string_equal(sock_recv(s.fd), "STATUS=syncing the state");
	/* same status: nothing sent */
	assert_int_equal(notify_update(&n, &in), 0);
	assert_string_equal(sock_recv(s.fd), "");

	input_synced(&in);
	assert_int_equal(notify_update(&n, &in), 0);
	assert_string_equal(sock_recv(s.fd), "READY=1\nSTATUS=quorate, "
			    "coordinator h2 (node 2); 3/3 nodes online, 5/6 "
			    "VMs running");
	assert_true(n.ready_sent);
	assert_int_equal(notify_update(&n, &in), 0);
	assert_string_equal(sock_recv(s.fd), "");

	/* READY is said once; later changes are STATUS only */
	in.quorate = false;
	in.quorum_reason = "no quorum";
	assert_int_equal(notify_update(&n, &in), 0);
	assert_string_equal(sock_recv(s.fd), "STATUS=not quorate: no quorum; "
			    "3/3 nodes online, 5/6 VMs running");
	in.synced = false;
	assert_int_equal(notify_update(&n, &in), 0);
	assert_string_equal(sock_recv(s.fd), "STATUS=syncing the state");

	notify_stopping(&n, "stopping on a signal");
	assert_string_equal(sock_recv(s.fd),
			    "STOPPING=1\nSTATUS=stopping on a signal");
	/* nothing after STOPPING but the watchdog */
	input_synced(&in);
	assert_int_equal(notify_update(&n, &in), 0);
	notify_stopping(&n, "again");
	assert_string_equal(sock_recv(s.fd), "");
	notify_close(&n);
	sock_close(&s);
}

static void
test_abstract_socket(void **state)
{
	struct sockaddr_un sa;
	struct notify n;
	char name[64];
	socklen_t len;
	int fd;

	snprintf(name, sizeof(name), "@xenmesh-test-notify-%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);

	env_clear();
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_open(&n), 0);
	assert_int_equal(notify_send(&n, "STATUS=hello"), 0);
	assert_string_equal(sock_recv(fd), "STATUS=hello");
	notify_close(&n);
	(void)close(fd);
}

/* ---- the watchdog, from a real qb_loop ---------------------------------- */

struct loop_test {
	qb_loop_t *loop;
	unsigned polls;
};

static void
poll_cb(void *data, struct notify_input *in)
{
	struct loop_test *t = data;

	t->polls++;
	input_synced(in);
}

static void
stop_loop(void *data)
{
	qb_loop_stop(data);
}

static void
test_watchdog_from_loop(void **state)
{
	struct loop_test t = { 0 };
	qb_loop_timer_handle th;
	struct notify n;
	struct sock s;
	char pid[16];
	unsigned ready = 0, wd = 0, other = 0;
	const char *m;

	sock_open(&s);
	env_clear();
	setenv("NOTIFY_SOCKET", s.path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_open(&n), 0);
	assert_int_equal(notify_watchdog_period_ms(&n), 100);
	assert_null(getenv("WATCHDOG_USEC"));
	assert_null(getenv("WATCHDOG_PID"));

	t.loop = qb_loop_create();
	assert_non_null(t.loop);
	assert_int_equal(notify_start(&n, t.loop, poll_cb, &t), 0);
	assert_int_equal(qb_loop_timer_add(t.loop, QB_LOOP_LOW,
					   550 * QB_TIME_NS_IN_MSEC, t.loop,
					   stop_loop, &th), 0);
	qb_loop_run(t.loop);

	while ((m = sock_recv(s.fd))[0] != '\0') {
		if (strcmp(m, "WATCHDOG=1") == 0)
			wd++;
		else if (strncmp(m, "READY=1\n", 8) == 0)
			ready++;
		else
			other++;
	}
	/* every 100 ms for 550 ms: 5, give or take a loaded machine */
	assert_true(wd >= 3);
	assert_true(wd <= 6);
	assert_int_equal(ready, 1);
	assert_int_equal(other, 0);
	assert_true(t.polls >= 1);
	notify_close(&n);
	qb_loop_destroy(t.loop);
	sock_close(&s);
}

/* WATCHDOG_PID of another process: the watchdog is not ours. */
static void
test_watchdog_other_pid(void **state)
{
	struct notify n;
	struct sock s;
	char pid[16];

	sock_open(&s);
	env_clear();
	setenv("NOTIFY_SOCKET", s.path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_open(&n), 0);
	assert_int_equal(notify_watchdog_period_ms(&n), 0);
	notify_close(&n);

	setenv("NOTIFY_SOCKET", s.path, 1);
	setenv("WATCHDOG_USEC", "junk", 1);
	assert_int_equal(notify_open(&n), 0);
	assert_int_equal(notify_watchdog_period_ms(&n), 0);
	notify_close(&n);
	sock_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_socket),
		cmocka_unit_test(test_bad_socket),
		cmocka_unit_test(test_socket_gone),
		cmocka_unit_test(test_compose),
		cmocka_unit_test(test_ready_status_stopping),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_watchdog_from_loop),
		cmocka_unit_test(test_watchdog_other_pid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
