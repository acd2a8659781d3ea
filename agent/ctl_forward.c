/* agentctl requests forwarded to the node that can answer them; see
 * ctl_forward.h. */
#define LOG_SUBSYS "forward"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "ctl_forward.h"
#include "ctl_vm.h"
#include "log.h"
#include "peer.h"
#include "peer_hub.h"
#include "runner.h"
#include "sibling.h"
#include "state.h"
#include "wire.h"
#include "xm_error.h"

#define FWD_RELAY_OUT   (1024 * 1024)  /* the answer the relay prints */
#define FWD_ANSWER_MAX  (FWD_RELAY_OUT + 64 * 1024)  /* with keepalives */
#define FWD_WHAT_MAX    48
#define FWD_MSG_MAX     600

/* Here: a client's request on its way to the SAN node and back. */
struct fwd_out {
	struct fwd_out *next;
	struct ctl_forward *f;
	qb_ipcs_connection_t *c;        /* own reference */
	char what[FWD_WHAT_MAX];
	char to[64];                    /* the node that answers */
	struct peer_conn *conn;
	int fd, fd_peer;                /* ours, and the one the peer splices */
	bool polled;
	uint8_t *buf;                   /* what came back so far */
	size_t len;
	bool too_much;
};

/* On the SAN node: a request from another node, run by the relay. */
struct fwd_in {
	struct fwd_in *next;
	struct ctl_forward *f;
	struct peer_conn *conn;         /* NULL once the connection ended */
	int fd, fd_peer;
	int events;                     /* what fd is polled for, 0: not */
	char from[80];                  /* "h1 (10.0.3.1)" */
	char what[FWD_WHAT_MAX];
	uint8_t *req;
	size_t req_len;
	bool req_done;                  /* all of it read */
	bool running;                   /* the relay runs */
	uint8_t *out;                   /* records not yet written */
	size_t out_len, out_off;
	bool answered;                  /* the answer is queued */
	qb_loop_timer_handle tick;
};

struct ctl_forward {
	struct agent *a;
	struct runner *runner;          /* opened with the first relay */
	char relay[PATH_MAX];           /* agentctl beside xenmeshd */
	unsigned tick_ms;               /* keepalive period */
	struct fwd_out *outs;
	struct fwd_in *ins;
};

bool
ctl_forward_command(Xenmesh__CtlCommand cmd)
{
	switch (cmd) {
	case XENMESH__CTL_COMMAND__CTL_VM_CREATE:
	case XENMESH__CTL_COMMAND__CTL_TEMPLATE:
	case XENMESH__CTL_COMMAND__CTL_VM_BACKUP:
	case XENMESH__CTL_COMMAND__CTL_VM_RESTORE:
	case XENMESH__CTL_COMMAND__CTL_BACKUP_LIST:
	case XENMESH__CTL_COMMAND__CTL_VM_SAVE:
		return true;
	default:
		return false;
	}
}

static const char *
command_name(Xenmesh__CtlCommand cmd)
{
	switch (cmd) {
	case XENMESH__CTL_COMMAND__CTL_VM_CREATE: return "vm create";
	case XENMESH__CTL_COMMAND__CTL_TEMPLATE: return "template";
	case XENMESH__CTL_COMMAND__CTL_VM_BACKUP: return "vm backup";
	case XENMESH__CTL_COMMAND__CTL_VM_RESTORE: return "vm restore";
	case XENMESH__CTL_COMMAND__CTL_BACKUP_LIST: return "backup list";
	case XENMESH__CTL_COMMAND__CTL_VM_SAVE: return "vm save";
	default: return "request";
	}
}

static struct ctl_forward *
forward_ctx(struct agent *a)
{
	struct ctl_forward *f = a->fwd;

	if (f != NULL)
		return f;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->a = a;
	f->tick_ms = CTL_FORWARD_TICK_MS;
	/* agentctl is installed beside xenmeshd (sbin, and the top of the
	 * build tree) */
	sibling_program("agentctl", f->relay, sizeof(f->relay));
	a->fwd = f;
	return f;
}

/* A packed CtlResponse with result and message; NULL when out of memory. */
static uint8_t *
answer_pack(int result, const char *message, size_t *len)
{
	Xenmesh__CtlResponse resp = XENMESH__CTL_RESPONSE__INIT;
	uint8_t *buf = NULL;

	resp.result = result;
	resp.message = (char *)message;
	if (wire_pack(&resp.base, &buf, len) < 0)
		return NULL;
	return buf;
}

/* ---- here: forwarding a client's request -------------------------------- */

/* Where req runs when not here: 0 here (or nowhere: the handler says). */
static uint32_t
forward_target(const struct agent *a, const Xenmesh__CtlRequest *req)
{
	const struct state *st = &a->rep.st;
	bool san = a->cfg.role == NODE_ROLE_SAN;

	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_TEMPLATE:
	case XENMESH__CTL_COMMAND__CTL_BACKUP_LIST:
		/* any SAN node holds the templates and reads its backups */
		if (san)
			return 0;
		break;
	default:
		if (san && st->active_san == a->rep.local_id && a->rep.local_id != 0)
			return 0;
		break;
	}
	return st->active_san != a->rep.local_id ? st->active_san : 0;
}

static void
out_free(struct fwd_out *j)
{
	struct ctl_forward *f = j->f;

	for (struct fwd_out **p = &f->outs; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (j->polled)
		(void)qb_loop_poll_del(f->a->loop, j->fd);
	if (j->fd >= 0)
		close(j->fd);
	if (j->fd_peer >= 0)
		close(j->fd_peer);
	if (j->c != NULL)
		qb_ipcs_connection_unref(j->c);
	free(j->buf);
	free(j);
}

/* Append what fd has to *buf (growing it, at most max bytes in all):
 * 1 more may come, 0 EOF, -EMSGSIZE over max, or -errno. */
static int
recv_append(int fd, uint8_t **buf, size_t *len, size_t max)
{
	uint8_t tmp[16384];

	for (;;) {
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		uint8_t *nb;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -errno;
		if (n == 0)
			return 0;
		if (*len + (size_t)n > max)
			return -EMSGSIZE;
		nb = realloc(*buf, *len + (size_t)n);
		if (nb == NULL)
			return -ENOMEM;
		*buf = nb;
		memcpy(*buf + *len, tmp, (size_t)n);
		*len += (size_t)n;
	}
}

/* Read what is there; false at the end (EOF or error). */
static bool
out_read(struct fwd_out *j)
{
	int rc = recv_append(j->fd, &j->buf, &j->len, FWD_ANSWER_MAX);

	if (rc == -EMSGSIZE || rc == -ENOMEM)
		j->too_much = true;
	return rc > 0;
}

static int32_t
out_io(int32_t fd, int32_t revents, void *data)
{
	struct fwd_out *j = data;

	(void)fd;
	(void)revents;
	if (!out_read(j) && j->polled) {
		(void)qb_loop_poll_del(j->f->a->loop, j->fd);
		j->polled = false;
	}
	return 0;
}

/* The answer among the records: 0 and *resp, or -EBADMSG. */
static int
out_answer(const struct fwd_out *j, Xenmesh__CtlResponse **resp)
{
	const uint8_t *ans = NULL;
	size_t off = 0, ans_len = 0;
	int err = 0;

	while (off + 4 <= j->len) {
		uint32_t n;

		memcpy(&n, j->buf + off, 4);
		n = ntohl(n);
		off += 4;
		if (n == 0)
			continue;               /* keepalive */
		if (n > j->len - off || ans != NULL)
			return -EBADMSG;
		ans = j->buf + off;
		ans_len = n;
		off += n;
	}
	if (off != j->len || ans == NULL)
		return -EBADMSG;
	*resp = (Xenmesh__CtlResponse *)wire_unpack(&xenmesh__ctl_response__descriptor,
						    ans, ans_len, &err, NULL, NULL);
	return *resp != NULL ? 0 : -EBADMSG;
}

/* A failure before the SAN node could read the request: connect() failed,
 * or the handshake did (it runs nothing before both sides are proven). */
static bool
never_reached(int rc)
{
	switch (rc) {
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EACCES:
	case -EPERM:
	case -EPROTO:
	case XM_EVERSION:
		return true;
	default:
		return false;
	}
}

static void
out_done(void *arg, int rc, const char *why)
{
	struct fwd_out *j = arg;
	Xenmesh__CtlResponse *resp = NULL;
	char msg[FWD_MSG_MAX];

	j->conn = NULL;
	(void)out_read(j);              /* what is left in the socket */
	if (rc == 0 && !j->too_much && out_answer(j, &resp) == 0) {
		log_info("%s: %s answered (result %d)", j->what, j->to,
			 (int)resp->result);
		ctl_server_answer(j->c, resp);
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		out_free(j);
		return;
	}
	if (rc == 0)
		snprintf(msg, sizeof(msg), "%s was forwarded to %s, whose answer is "
			 "%s", j->what, j->to, j->too_much ? "too large" : "malformed");
	else
		snprintf(msg, sizeof(msg), "%s was forwarded to %s and the connection "
			 "failed: %s; %s", j->what, j->to, why != NULL ? why :
			 xm_strerror(rc), never_reached(rc) ? "it did not run there" :
			 "it may have run there all the same (look with agentctl vm "
			 "list, volume list or backup list)");
	log_warn("%s", msg);
	ctl_server_reply(j->c, rc < 0 ? -ECOMM : -EBADMSG, msg);
	out_free(j);
}

static int
out_start(struct ctl_forward *f, qb_ipcs_connection_t *c, uint32_t uid,
	  const Xenmesh__CtlRequest *req, const struct node_rec *to,
	  char *why, size_t whylen)
{
	struct agent *a = f->a;
	Xenmesh__CtlRequest fr = *req;
	struct fwd_out *j;
	char addr[64], hello[80];
	uint8_t *buf = NULL;
	size_t len = 0;
	uint16_t port;
	int sv[2], rc, n;
	ssize_t w;

	if (peer_hub_addr_split(to->peer_addr, addr, sizeof(addr), &port) < 0) {
		snprintf(why, whylen, "%s has no peer channel address ([peer] listen "
			 "there)", to->name);
		return -EADDRNOTAVAIL;
	}
	fr.forwarded_from = a->node_name;
	fr.has_forwarded_uid = true;
	fr.forwarded_uid = uid;
	rc = wire_pack(&fr.base, &buf, &len);
	if (rc < 0) {
		snprintf(why, whylen, "cannot pack the request: %s", xm_strerror(rc));
		return rc;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = j == NULL ? -ENOMEM : -errno;
		snprintf(why, whylen, "cannot make a socket pair: %s", xm_strerror(rc));
		free(j);
		free(buf);
		return rc;
	}
	j->f = f;
	j->fd = sv[0];
	j->fd_peer = sv[1];
	snprintf(j->what, sizeof(j->what), "%s", command_name(req->command));
	snprintf(j->to, sizeof(j->to), "%s", to->name);
	j->next = f->outs;
	f->outs = j;
	/* the request fits the socket's buffer: it is written at once */
	w = len <= CTL_FORWARD_REQUEST_MAX ? send(j->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
	free(buf);
	if (w < 0 || (size_t)w != len) {
		rc = -EMSGSIZE;
		snprintf(why, whylen, "the request is too large to forward (%zu bytes)",
			 len);
		goto fail;
	}
	(void)shutdown(j->fd, SHUT_WR);
	rc = qb_loop_poll_add(a->loop, QB_LOOP_MED, j->fd, POLLIN, j, out_io);
	if (rc < 0) {
		snprintf(why, whylen, "cannot poll: %s", xm_strerror(rc));
		goto fail;
	}
	j->polled = true;
	n = snprintf(hello, sizeof(hello), "%s %d %" PRIu32, CTL_FORWARD_HELLO_WORD,
		     CTL_FORWARD_VERSION, a->rep.local_id);
	rc = peer_dial(a->peer, addr, port, hello, (size_t)n, j->fd_peer, out_done, j,
		       &j->conn);
	if (rc < 0) {
		snprintf(why, whylen, "cannot dial %s at %s: %s", to->name,
			 to->peer_addr, xm_strerror(rc));
		goto fail;
	}
	qb_ipcs_connection_ref(c);
	j->c = c;
	log_notice("uid %u: %s forwarded to %s (%s)", (unsigned)uid, j->what,
		   to->name, to->peer_addr);
	return 0;
fail:
	out_free(j);
	return rc;
}

bool
ctl_forward_maybe(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		  const Xenmesh__CtlRequest *req)
{
	const struct node_rec *to;
	struct ctl_forward *f;
	char why[FWD_MSG_MAX / 2], msg[FWD_MSG_MAX];
	uint32_t id;
	int rc;

	if (!ctl_forward_command(req->command) || req->forwarded_from != NULL)
		return false;
	id = forward_target(a, req);
	to = id != 0 ? state_node(&a->rep.st, id) : NULL;
	if (to == NULL)
		return false;           /* here, or nowhere: the handler says */
	if (a->peer == NULL) {
		snprintf(why, sizeof(why), "this node has no peer channel ([peer] "
			 "listen) to forward it");
		rc = -EREMOTE;
	} else if ((f = forward_ctx(a)) == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		rc = -ENOMEM;
	} else {
		rc = out_start(f, c, uid, req, to, why, sizeof(why));
		if (rc == 0)
			return true;
	}
	snprintf(msg, sizeof(msg), "%s runs on the active SAN node %s, and %s: run "
		 "agentctl there", command_name(req->command), to->name, why);
	log_warn("uid %u: %s", (unsigned)uid, msg);
	ctl_server_reply(c, rc == -EREMOTE ? -EREMOTE : rc, msg);
	return true;
}

/* ---- the SAN node: running a forwarded request -------------------------- */

static void in_poll(struct fwd_in *j);

static void
in_free(struct fwd_in *j)
{
	struct ctl_forward *f = j->f;

	for (struct fwd_in **p = &f->ins; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (j->events != 0)
		(void)qb_loop_poll_del(f->a->loop, j->fd);
	if (j->tick != 0)
		(void)qb_loop_timer_del(f->a->loop, j->tick);
	if (j->fd >= 0)
		close(j->fd);
	if (j->fd_peer >= 0)
		close(j->fd_peer);
	free(j->req);
	free(j->out);
	free(j);
}

/* Queue one record (n bytes of data; 0: a keepalive). */
static void
in_record(struct fwd_in *j, const uint8_t *data, size_t n)
{
	uint32_t be = htonl((uint32_t)n);
	uint8_t *nb;

	if (j->out_off == j->out_len)
		j->out_off = j->out_len = 0;
	nb = realloc(j->out, j->out_len + 4 + n);
	if (nb == NULL) {
		log_err("%s from %s: out of memory for its answer", j->what, j->from);
		if (j->conn != NULL)
			peer_conn_abort(j->conn);
		return;
	}
	j->out = nb;
	memcpy(j->out + j->out_len, &be, 4);
	if (n > 0)
		memcpy(j->out + j->out_len + 4, data, n);
	j->out_len += 4 + n;
}

static void
in_flush(struct fwd_in *j)
{
	while (j->out_off < j->out_len) {
		ssize_t n = send(j->fd, j->out + j->out_off, j->out_len - j->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* the connection went: its done callback follows */
			j->out_off = j->out_len;
			return;
		}
		j->out_off += (size_t)n;
	}
	if (j->answered)
		(void)shutdown(j->fd, SHUT_WR);
}

static void
in_answer(struct fwd_in *j, int result, const char *message)
{
	size_t len = 0;
	uint8_t *buf = answer_pack(result, message, &len);

	if (buf != NULL)
		in_record(j, buf, len);
	free(buf);
	j->answered = true;
	in_flush(j);
	in_poll(j);
}

static void
in_tick(void *data)
{
	struct fwd_in *j = data;

	j->tick = 0;
	if (!j->running || j->conn == NULL)
		return;
	in_record(j, NULL, 0);
	in_flush(j);
	in_poll(j);
	(void)qb_loop_timer_add(j->f->a->loop, QB_LOOP_LOW,
				j->f->tick_ms * QB_TIME_NS_IN_MSEC, j, in_tick,
				&j->tick);
}

static void
relay_done(void *data, const struct runner_result *res)
{
	struct fwd_in *j = data;
	char msg[FWD_MSG_MAX], how[128];

	j->running = false;
	if (j->conn == NULL) {
		log_notice("%s from %s ended here after its node left (%s)", j->what,
			   j->from, res->exit_code == 0 ? "done" : "failed");
		in_free(j);
		return;
	}
	if (res->exit_code == 0 && res->out.len > 0 && !res->out.truncated) {
		in_record(j, (const uint8_t *)res->out.data, res->out.len);
		j->answered = true;
		in_flush(j);
		in_poll(j);
		return;
	}
	if (res->out.truncated)
		snprintf(how, sizeof(how), "its answer is over %d bytes", FWD_RELAY_OUT);
	else if (runner_result_ok(res))
		snprintf(how, sizeof(how), "it printed no answer");
	else
		runner_result_describe(res, how, sizeof(how));
	snprintf(msg, sizeof(msg), "%s: the relay on %s failed: %s", j->what,
		 j->f->a->node_name, how);
	log_warn("%s (from %s)", msg, j->from);
	in_answer(j, -EIO, msg);
}

/* Poll for what is wanted now: the request until it is all read, then
 * room for the answer while some is pending. */
static int32_t in_io(int32_t fd, int32_t revents, void *data);

static void
in_poll(struct fwd_in *j)
{
	qb_loop_t *loop = j->f->a->loop;
	int want = 0;

	if (j->conn != NULL) {
		if (!j->req_done)
			want |= POLLIN;
		if (j->out_off < j->out_len)
			want |= POLLOUT;
	}
	if (want == j->events)
		return;
	if (j->events == 0)
		(void)qb_loop_poll_add(loop, QB_LOOP_MED, j->fd, want, j, in_io);
	else if (want == 0)
		(void)qb_loop_poll_del(loop, j->fd);
	else
		(void)qb_loop_poll_mod(loop, QB_LOOP_MED, j->fd, want, j, in_io);
	j->events = want;
}

/* The whole request is here: check it and hand it to the relay. */
static void
in_run(struct fwd_in *j)
{
	struct ctl_forward *f = j->f;
	Xenmesh__CtlRequest *req;
	const char *argv[] = { f->relay, "--relay", NULL };
	struct runner_req rr = { 0 };
	struct runner_exec_params ep = { .output_max = FWD_RELAY_OUT };
	char msg[FWD_MSG_MAX];
	int err = 0, rc;

	req = (Xenmesh__CtlRequest *)wire_unpack(&xenmesh__ctl_request__descriptor,
						 j->req, j->req_len, &err, NULL, NULL);
	if (req == NULL) {
		snprintf(msg, sizeof(msg), "%s could not read the forwarded request: %s",
			 f->a->node_name, err == XM_EVERSION ? "another protocol "
			 "version" : xm_strerror(err < 0 ? err : -EBADMSG));
		rc = -EBADMSG;
		goto refuse;
	}
	snprintf(j->what, sizeof(j->what), "%s", command_name(req->command));
	if (!ctl_forward_command(req->command) || req->forwarded_from == NULL) {
		snprintf(msg, sizeof(msg), "%s takes no forwarded %s (command %d)",
			 f->a->node_name, j->what, (int)req->command);
		rc = -EPERM;
		goto refuse;
	}
	log_notice("%s for uid %u on %s (from %s) runs here", j->what,
		   (unsigned)req->forwarded_uid, req->forwarded_from, j->from);
	xenmesh__ctl_request__free_unpacked(req, NULL);
	req = NULL;
	rc = f->runner == NULL ? runner_exec_open(&f->runner, f->a->loop, &ep) : 0;
	if (rc == 0) {
		rr.argv = argv;
		rr.stdin_data = (const char *)j->req;
		rr.stdin_len = j->req_len;
		rr.timeout_ms = CTL_FORWARD_RUN_MS;
		rc = runner_run(f->runner, &rr, relay_done, j);
	}
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s cannot run %.200s: %s", f->a->node_name,
			 f->relay, xm_strerror(rc));
		goto refuse;
	}
	j->running = true;
	(void)qb_loop_timer_add(f->a->loop, QB_LOOP_LOW,
				f->tick_ms * QB_TIME_NS_IN_MSEC, j, in_tick,
				&j->tick);
	return;
refuse:
	if (req != NULL)
		xenmesh__ctl_request__free_unpacked(req, NULL);
	log_warn("forwarded request from %s refused: %s", j->from, msg);
	in_answer(j, rc, msg);
}

static void
in_read(struct fwd_in *j)
{
	int rc = recv_append(j->fd, &j->req, &j->req_len, CTL_FORWARD_REQUEST_MAX);

	if (rc == 0) {
		j->req_done = true;
		in_run(j);
	} else if (rc == -EMSGSIZE || rc == -ENOMEM) {
		j->req_done = true;
		in_answer(j, rc, rc == -ENOMEM ? "out of memory for the forwarded "
			  "request" : "the forwarded request is too large");
	}
	/* 1: more to come; another error: the connection's done follows */
}

static int32_t
in_io(int32_t fd, int32_t revents, void *data)
{
	struct fwd_in *j = data;

	(void)fd;
	if (!j->req_done && (revents & (POLLIN | POLLHUP | POLLERR)))
		in_read(j);
	if (j->out_off < j->out_len && (revents & (POLLOUT | POLLHUP | POLLERR)))
		in_flush(j);
	in_poll(j);
	return 0;
}

static void
in_done(void *arg, int rc, const char *why)
{
	struct fwd_in *j = arg;

	j->conn = NULL;
	in_poll(j);
	if (rc < 0)
		log_warn("forwarded %s from %s: the connection failed: %s", j->what,
			 j->from, why != NULL ? why : xm_strerror(rc));
	if (!j->running)
		in_free(j);
	/* else the relay goes on: the request runs to its end here, as for
	 * a local client that left */
}

int
ctl_forward_accept(struct agent *a, struct peer_conn *c, const char *from_addr,
		   const uint8_t *hello, size_t len, int *fd,
		   void (**done)(void *, int, const char *), void **done_arg,
		   char *why, size_t whylen)
{
	struct ctl_forward *f = forward_ctx(a);
	const struct node_rec *n;
	struct fwd_in *j = NULL;
	char text[80], word[24];
	unsigned ver;
	uint32_t from;
	int used = 0, sv[2], rc;

	if (f == NULL) {
		snprintf(why, whylen, "out of memory");
		rc = -ENOMEM;
		goto refuse;
	}
	if (len >= sizeof(text)) {
		snprintf(why, whylen, "malformed forward request");
		rc = -EBADMSG;
		goto refuse;
	}
	memcpy(text, hello, len);
	text[len] = '\0';
	if (sscanf(text, "%23s %u %" SCNu32 "%n", word, &ver, &from, &used) != 3 ||
	    (size_t)used != len) {
		snprintf(why, whylen, "malformed forward request");
		rc = -EBADMSG;
		goto refuse;
	}
	if (ver != CTL_FORWARD_VERSION) {
		snprintf(why, whylen, "forward protocol %u, not %d", ver,
			 CTL_FORWARD_VERSION);
		rc = -EPROTONOSUPPORT;
		goto refuse;
	}
	n = state_node(&a->rep.st, from);
	j = calloc(1, sizeof(*j));
	if (j == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = j == NULL ? -ENOMEM : -errno;
		snprintf(why, whylen, "out of resources: %s", xm_strerror(rc));
		free(j);
		goto refuse;
	}
	j->f = f;
	j->conn = c;
	j->fd = sv[0];
	j->fd_peer = sv[1];
	snprintf(j->what, sizeof(j->what), "request");
	snprintf(j->from, sizeof(j->from), "%s (%s)", n != NULL ? n->name : "?",
		 from_addr);
	j->next = f->ins;
	f->ins = j;
	in_poll(j);
	*fd = j->fd_peer;
	*done = in_done;
	*done_arg = j;
	return 0;
refuse:
	log_warn("forward request from %s refused: %s", from_addr, why);
	return rc;
}

void
ctl_forward_stop(struct agent *a)
{
	struct ctl_forward *f = a->fwd;

	if (f == NULL)
		return;
	/* peer_hub_close ran: every connection's done was called; what the
	 * relays still run is killed, their callbacks free the rest */
	runner_close(f->runner);
	f->runner = NULL;
	while (f->ins != NULL)
		in_free(f->ins);
	while (f->outs != NULL)
		out_free(f->outs);
	free(f);
	a->fwd = NULL;
}

int
ctl_forward_tune(struct agent *a, const char *relay, unsigned tick_ms)
{
	struct ctl_forward *f = forward_ctx(a);

	if (f == NULL)
		return -ENOMEM;
	if (relay != NULL)
		snprintf(f->relay, sizeof(f->relay), "%s", relay);
	if (tick_ms > 0)
		f->tick_ms = tick_ms;
	return 0;
}
