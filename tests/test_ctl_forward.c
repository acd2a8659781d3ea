/* Unit tests of agent/ctl_forward.c and agent/peer_hub.c: agentctl
 * requests forwarded to the active SAN node over the peer channel.
 *
 * Two agents in one process on one real qb_loop: h1 (a dom0) and s1 (the
 * active SAN node), each with its real peer channel on 127.0.0.1 and the
 * same key file.  s1's relay is a shell script that keeps the request it
 * got and prints a canned answer (or fails, or sleeps).  The two answer
 * functions of ctl_server.c are recorders here; connection references are
 * counted with -Wl,--wrap (a connection is any non-NULL pointer). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "agent.h"
#include "ctl_forward.h"
#include "ctl_vm.h"
#include "peer.h"
#include "peer_hub.h"
#include "state.h"
#include "vmhost.h"
#include "vmsave.h"
#include "wire.h"
#include "xm_error.h"

void __wrap_qb_ipcs_connection_ref(qb_ipcs_connection_t *c);
void __wrap_qb_ipcs_connection_unref(qb_ipcs_connection_t *c);

static int conn_refs;

void
__wrap_qb_ipcs_connection_ref(qb_ipcs_connection_t *c)
{
	assert_non_null(c);
	conn_refs++;
}

void
__wrap_qb_ipcs_connection_unref(qb_ipcs_connection_t *c)
{
	assert_non_null(c);
	assert_true(conn_refs > 0);
	conn_refs--;
}

/* What the client was answered. */
static struct {
	int n;
	int result;
	char message[1024];
} seen;

void
ctl_server_reply(qb_ipcs_connection_t *c, int result, const char *message)
{
	assert_non_null(c);
	seen.n++;
	seen.result = result;
	(void)snprintf(seen.message, sizeof(seen.message), "%s",
		       message ? message : "(null)");
}

void
ctl_server_answer(qb_ipcs_connection_t *c, const Xenmesh__CtlResponse *resp)
{
	ctl_server_reply(c, resp->result, resp->message);
}

/* agent/migrate.c is not linked: no migration comes in here. */
int
migrate_accept(struct vmhost *vh, struct peer_conn *c, const char *from_addr,
	       const uint8_t *hello, size_t len, int *fd,
	       void (**done)(void *, int, const char *), void **done_arg,
	       char *why, size_t whylen)
{
	(void)vh;
	(void)c;
	(void)from_addr;
	(void)hello;
	(void)len;
	(void)fd;
	(void)done;
	(void)done_arg;
	snprintf(why, whylen, "no migration here");
	return -ENODEV;
}

/* agent/san_saveimg.c is not linked: refused as a migration would be */
int
saveimg_accept(struct agent *a, struct peer_conn *c, const char *from_addr,
	       const uint8_t *hello, size_t len, int *fd,
	       void (**done)(void *, int, const char *), void **done_arg,
	       char *why, size_t whylen)
{
	return migrate_accept(a->vh, c, from_addr, hello, len, fd, done, done_arg,
			      why, whylen);
}

#define CLIENT ((qb_ipcs_connection_t *)0x1)

struct fixture {
	qb_loop_t *loop;
	char dir[64];
	char relay[128];
	struct agent h1, s1;
	uint16_t port;
};

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A port nobody listens on now (bound, read, closed). */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void
add_node(struct state *s, uint32_t id, const char *name, Xenmesh__NodeRole role,
	 const char *peer_addr)
{
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char why[256] = "";

	ni.id = id;
	ni.name = (char *)name;
	ni.role = role;
	ni.peer_addr = (char *)peer_addr;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	assert_int_equal(state_apply(s, s->epoch, s->seq + 1, &op, why, sizeof(why)), 0);
}

static void
agent_setup(struct fixture *fx, struct agent *a, uint32_t id, const char *name,
	    enum node_role role)
{
	char addr[32];

	memset(a, 0, sizeof(*a));
	a->loop = fx->loop;
	a->cfg.role = role;
	a->rep.local_id = id;
	snprintf(a->node_name, sizeof(a->node_name), "%s", name);
	snprintf(a->cfg.peer_key_file, sizeof(a->cfg.peer_key_file), "%s/authkey",
		 fx->dir);
	snprintf(a->cfg.peer_listen, sizeof(a->cfg.peer_listen), "127.0.0.1:%u",
		 (unsigned)(id == 4 ? fx->port : free_port()));
	state_init(&a->rep.st);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)fx->port);
	add_node(&a->rep.st, 1, "h1", XENMESH__NODE_ROLE__ROLE_DOM0, NULL);
	add_node(&a->rep.st, 4, "s1", XENMESH__NODE_ROLE__ROLE_SAN, addr);
	a->rep.st.active_san = 4;
	assert_int_equal(peer_hub_open(a), 0);
	assert_non_null(a->peer);
}

/* The relay: keeps its stdin as relay.in, then does what relay.mode says. */
static const char relay_script[] =
	"#!/bin/sh\n"
	"d=$(dirname \"$0\")\n"
	"cat >\"$d/relay.in\"\n"
	"case $(cat \"$d/relay.mode\") in\n"
	"answer) exec cat \"$d/relay.out\" ;;\n"
	"slow) sleep 3; exec cat \"$d/relay.out\" ;;\n"
	"fail) echo 'relay: boom' >&2; exit 3 ;;\n"
	"esac\n";

static void
relay_mode(struct fixture *fx, const char *mode)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/relay.mode", fx->dir);
	write_file(path, mode, strlen(mode), 0600);
}

/* The relay's canned answer: result and message. */
static void
relay_answer(struct fixture *fx, int result, const char *message)
{
	Xenmesh__CtlResponse resp = XENMESH__CTL_RESPONSE__INIT;
	uint8_t *buf = NULL;
	size_t len = 0;
	char path[128];

	resp.result = result;
	resp.message = (char *)message;
	assert_int_equal(wire_pack(&resp.base, &buf, &len), 0);
	snprintf(path, sizeof(path), "%s/relay.out", fx->dir);
	write_file(path, buf, len, 0600);
	free(buf);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	uint8_t key[64];
	char path[128];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ctl_forward.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 3);
	snprintf(path, sizeof(path), "%s/authkey", fx->dir);
	write_file(path, key, sizeof(key), 0600);
	snprintf(fx->relay, sizeof(fx->relay), "%s/relay", fx->dir);
	write_file(fx->relay, relay_script, sizeof(relay_script) - 1, 0700);
	relay_mode(fx, "answer");
	relay_answer(fx, 0, "created VM web1");
	fx->loop = qb_loop_create();
	assert_non_null(fx->loop);
	fx->port = free_port();
	agent_setup(fx, &fx->s1, 4, "s1", NODE_ROLE_SAN);
	agent_setup(fx, &fx->h1, 1, "h1", NODE_ROLE_DOM0);
	assert_int_equal(ctl_forward_tune(&fx->s1, fx->relay, 0), 0);
	memset(&seen, 0, sizeof(seen));
	conn_refs = 0;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	struct agent *as[] = { &fx->h1, &fx->s1 };
	char cmd[128];

	for (size_t i = 0; i < 2; i++) {
		peer_hub_close(as[i]);
		ctl_forward_stop(as[i]);
		state_free(&as[i]->rep.st);
	}
	qb_loop_destroy(fx->loop);
	assert_int_equal(conn_refs, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* ---- running the loop until the client is answered ---------------------- */

struct waiter {
	qb_loop_t *loop;
	int *flag;
	int ticks;
	qb_loop_timer_handle t;
};

static void
wait_tick(void *data)
{
	struct waiter *w = data;

	if (*w->flag != 0 || --w->ticks <= 0) {
		qb_loop_stop(w->loop);
		return;
	}
	(void)qb_loop_timer_add(w->loop, QB_LOOP_LOW, 10 * QB_TIME_NS_IN_MSEC, w,
				wait_tick, &w->t);
}

/* Run the loop until *flag != 0, at most ms. */
static void
run_until(struct fixture *fx, int *flag, int ms)
{
	struct waiter w = { .loop = fx->loop, .flag = flag, .ticks = ms / 10 };

	(void)qb_loop_timer_add(fx->loop, QB_LOOP_LOW, 10 * QB_TIME_NS_IN_MSEC, &w,
				wait_tick, &w.t);
	qb_loop_run(fx->loop);
	(void)qb_loop_timer_del(fx->loop, w.t);
}

/* The request the relay got, unpacked (free it). */
static Xenmesh__CtlRequest *
relay_got(struct fixture *fx)
{
	char path[128];
	uint8_t buf[65536];
	FILE *f;
	size_t n;
	int err = 0;
	ProtobufCMessage *m;

	snprintf(path, sizeof(path), "%s/relay.in", fx->dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	m = wire_unpack(&xenmesh__ctl_request__descriptor, buf, n, &err, NULL, NULL);
	assert_non_null(m);
	return (Xenmesh__CtlRequest *)m;
}

static bool
forward(struct agent *a, Xenmesh__CtlCommand cmd, const char *arg)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *args[1] = { (char *)arg };

	req.command = cmd;
	req.args = args;
	req.n_args = arg != NULL ? 1 : 0;
	return ctl_forward_maybe(a, CLIENT, 1000, &req);
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_create_forwarded(void **state)
{
	struct fixture *fx = *state;
	Xenmesh__CtlRequest *got;

	assert_true(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_CREATE, "web1"));
	assert_int_equal(seen.n, 0);            /* the answer comes later */
	assert_int_equal(conn_refs, 1);
	run_until(fx, &seen.n, 10000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.result, 0);
	assert_string_equal(seen.message, "created VM web1");
	assert_int_equal(conn_refs, 0);
	got = relay_got(fx);
	assert_int_equal(got->command, XENMESH__CTL_COMMAND__CTL_VM_CREATE);
	assert_int_equal(got->n_args, 1);
	assert_string_equal(got->args[0], "web1");
	assert_string_equal(got->forwarded_from, "h1");
	assert_true(got->has_forwarded_uid);
	assert_int_equal(got->forwarded_uid, 1000);
	xenmesh__ctl_request__free_unpacked(got, NULL);
}

/* A refusal on the SAN node comes back as it is. */
static void
test_refusal_passes_through(void **state)
{
	struct fixture *fx = *state;

	relay_answer(fx, -ENOENT, "no VM nosuch");
	assert_true(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_BACKUP, "nosuch"));
	run_until(fx, &seen.n, 10000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.result, -ENOENT);
	assert_string_equal(seen.message, "no VM nosuch");
}

/* What runs here, or is left to the handler to refuse. */
static void
test_where(void **state)
{
	struct fixture *fx = *state;
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;

	/* the active SAN node runs them all itself */
	assert_false(forward(&fx->s1, XENMESH__CTL_COMMAND__CTL_VM_CREATE, "web1"));
	assert_false(forward(&fx->s1, XENMESH__CTL_COMMAND__CTL_TEMPLATE, "list"));
	/* not a command of the SAN node */
	assert_false(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_START, "web1"));
	/* forwarded once already: never again */
	req.command = XENMESH__CTL_COMMAND__CTL_VM_RESTORE;
	req.forwarded_from = "h2";
	assert_false(ctl_forward_maybe(&fx->h1, CLIENT, 0, &req));
	/* a passive SAN node answers template and backup list, not create */
	fx->s1.rep.st.active_san = 1;   /* as if another node were active */
	assert_false(forward(&fx->s1, XENMESH__CTL_COMMAND__CTL_BACKUP_LIST, NULL));
	assert_false(forward(&fx->s1, XENMESH__CTL_COMMAND__CTL_TEMPLATE, "list"));
	fx->s1.rep.st.active_san = 4;
	/* no active SAN node: the handler says there is none */
	fx->h1.rep.st.active_san = 0;
	assert_false(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_CREATE, "web1"));
	assert_int_equal(seen.n, 0);
}

static void
test_relay_fails(void **state)
{
	struct fixture *fx = *state;

	relay_mode(fx, "fail");
	assert_true(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_RESTORE, "web1"));
	run_until(fx, &seen.n, 10000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.result, -EIO);
	assert_non_null(strstr(seen.message, "vm restore: the relay on s1 failed"));
	assert_non_null(strstr(seen.message, "relay: boom"));
}

/* The relay outlasts the origin's idle timeout many times over: the
 * keepalives carry the connection. */
static void
test_keepalive(void **state)
{
	struct fixture *fx = *state;
	struct peer_config pc = { .idle_timeout_ms = 1000 };
	char err[256];

	relay_mode(fx, "slow");
	assert_int_equal(ctl_forward_tune(&fx->s1, NULL, 100), 0);
	/* h1 dials with a 1 s idle timeout; the relay takes 3 s (a stalled
	 * test process must not outlast the idle timeout between two ticks) */
	peer_hub_close(&fx->h1);
	assert_int_equal(peer_key_load(fx->h1.cfg.peer_key_file, pc.key, err,
				       sizeof(err)), 0);
	assert_int_equal(peer_open(&fx->h1.peer, fx->loop, &pc, NULL, NULL), 0);
	assert_true(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_BACKUP_LIST, NULL));
	run_until(fx, &seen.n, 10000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.result, 0);
	assert_string_equal(seen.message, "created VM web1");
}

static void
test_unreachable(void **state)
{
	struct fixture *fx = *state;
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char addr[32], why[256];

	/* s1 moves to a port nobody listens on */
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)free_port());
	ni.id = 4;
	ni.name = "s1";
	ni.role = XENMESH__NODE_ROLE__ROLE_SAN;
	ni.peer_addr = addr;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	assert_int_equal(state_apply(&fx->h1.rep.st, fx->h1.rep.st.epoch,
				     fx->h1.rep.st.seq + 1, &op, why, sizeof(why)), 0);
	assert_true(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_CREATE, "web1"));
	run_until(fx, &seen.n, 10000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.result, -ECOMM);
	assert_non_null(strstr(seen.message, "vm create was forwarded to s1 and the "
			       "connection failed: connect to"));
	assert_non_null(strstr(seen.message, "it did not run there"));
}

static void
test_no_peer_channel(void **state)
{
	struct fixture *fx = *state;

	peer_hub_close(&fx->h1);
	assert_true(forward(&fx->h1, XENMESH__CTL_COMMAND__CTL_VM_CREATE, "web1"));
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.result, -EREMOTE);
	assert_string_equal(seen.message, "vm create runs on the active SAN node s1, "
			    "and this node has no peer channel ([peer] listen) to "
			    "forward it: run agentctl there");
	assert_int_equal(conn_refs, 0);
}

/* A channel that cannot open at start (an address not up yet at boot) is
 * tried again on its own until it opens. */
static void
test_peer_retry(void **state)
{
	struct fixture *fx = *state;
	char listen[sizeof(fx->h1.cfg.peer_listen)];
	int never = 0;

	peer_hub_close(&fx->h1);
	snprintf(listen, sizeof(listen), "%s", fx->h1.cfg.peer_listen);
	/* TEST-NET-1: no address of this machine */
	snprintf(fx->h1.cfg.peer_listen, sizeof(fx->h1.cfg.peer_listen),
		 "192.0.2.1:7420");
	assert_true(peer_hub_open(&fx->h1) < 0);
	assert_null(fx->h1.peer);
	assert_true(fx->h1.peer_failed);
	assert_true(fx->h1.peer_retry != 0);
	/* the address comes up */
	snprintf(fx->h1.cfg.peer_listen, sizeof(fx->h1.cfg.peer_listen), "%s", listen);
	run_until(fx, &never, PEER_HUB_RETRY_MS + 1500);
	assert_non_null(fx->h1.peer);
	assert_false(fx->h1.peer_failed);
	assert_true(fx->h1.peer_retry == 0);
}

/* ---- the SAN node's side against requests made by hand ------------------- */

struct dial {
	int done;
	int rc;
	char why[256];
};

static void
dial_done(void *arg, int rc, const char *why)
{
	struct dial *d = arg;

	d->done = 1;
	d->rc = rc;
	snprintf(d->why, sizeof(d->why), "%s", why ? why : "");
}

/* Dial s1 with hello and request bytes; the answer's records in out. */
static void
dial_raw(struct fixture *fx, const char *hello, const uint8_t *req, size_t len,
	 struct dial *d, uint8_t *out, size_t *out_len)
{
	int sv[2];
	ssize_t n;

	memset(d, 0, sizeof(*d));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(send(sv[0], req, len, 0), (ssize_t)len);
	assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
	assert_int_equal(peer_dial(fx->h1.peer, "127.0.0.1", fx->port, hello,
				   strlen(hello), sv[1], dial_done, d, NULL), 0);
	run_until(fx, &d->done, 10000);
	assert_int_equal(d->done, 1);
	*out_len = 0;
	while ((n = recv(sv[0], out + *out_len, 65536 - *out_len, MSG_DONTWAIT)) > 0)
		*out_len += (size_t)n;
	close(sv[0]);
	close(sv[1]);
}

static void
test_san_refuses(void **state)
{
	struct fixture *fx = *state;
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	uint8_t *buf = NULL, out[65536];
	size_t len = 0, out_len = 0;
	uint32_t rec;
	struct dial d;
	int err = 0;

	/* a command no SAN node takes forwarded */
	req.command = XENMESH__CTL_COMMAND__CTL_VM_START;
	req.forwarded_from = "h1";
	assert_int_equal(wire_pack(&req.base, &buf, &len), 0);
	dial_raw(fx, "xenmesh-forward 1 1", buf, len, &d, out, &out_len);
	free(buf);
	assert_int_equal(d.rc, 0);
	assert_true(out_len > 4);
	memcpy(&rec, out, 4);
	assert_int_equal(ntohl(rec), out_len - 4);
	resp = (Xenmesh__CtlResponse *)wire_unpack(&xenmesh__ctl_response__descriptor,
						   out + 4, out_len - 4, &err, NULL, NULL);
	assert_non_null(resp);
	assert_int_equal(resp->result, -EPERM);
	assert_non_null(strstr(resp->message, "s1 takes no forwarded request"));
	xenmesh__ctl_response__free_unpacked(resp, NULL);

	/* garbage for a request */
	dial_raw(fx, "xenmesh-forward 1 1", (const uint8_t *)"garbage", 7, &d, out,
		 &out_len);
	assert_int_equal(d.rc, 0);
	resp = (Xenmesh__CtlResponse *)wire_unpack(&xenmesh__ctl_response__descriptor,
						   out + 4, out_len - 4, &err, NULL, NULL);
	assert_non_null(resp);
	assert_int_equal(resp->result, -EBADMSG);
	assert_non_null(strstr(resp->message, "could not read the forwarded request"));
	xenmesh__ctl_response__free_unpacked(resp, NULL);

	/* another version, a malformed hello, an unknown word: refused */
	dial_raw(fx, "xenmesh-forward 2 1", (const uint8_t *)"x", 1, &d, out, &out_len);
	assert_int_equal(d.rc, -EPERM);
	assert_string_equal(d.why, "forward protocol 2, not 1");
	dial_raw(fx, "xenmesh-forward one", (const uint8_t *)"x", 1, &d, out, &out_len);
	assert_int_equal(d.rc, -EPERM);
	assert_string_equal(d.why, "malformed forward request");
	dial_raw(fx, "xenmesh-shell 1", (const uint8_t *)"x", 1, &d, out, &out_len);
	assert_int_equal(d.rc, -EPERM);
	assert_string_equal(d.why, "unknown request on the peer channel");
	/* a migration to a node without a hypervisor driver */
	dial_raw(fx, "xenmesh-migrate 1 web1 3 1", (const uint8_t *)"x", 1, &d, out,
		 &out_len);
	assert_int_equal(d.rc, -EPERM);
	assert_string_equal(d.why, "s1 has no hypervisor driver open: it sends no VM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_passes_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_where, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_peer_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_san_refuses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
