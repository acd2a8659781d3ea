/* agentctl's IPC endpoint in xenmeshd (see ctl_server.h).
 *
 * One libqb ipcs service on the agent's qb_loop.  A request is a
 * qb_ipc_request_header and a wire frame of CtlRequest; the answer a
 * qb_ipc_response_header and a wire frame of CtlResponse.  Reads are
 * answered at once.  A mutation goes to replica_request() (through
 * ctl_server_submit()) and is answered from ctl_server_request_done() when
 * the cluster has decided; until then it waits in the pending table with
 * a reference to its connection, given up when the client goes away first
 * (the change itself goes on).  Who may do what is decided in
 * ctl_access.c; the reads are answered in ctl_read.c, the VM commands are
 * built in ctl_vm.c, the fence commands and the admission check in
 * ctl_fence.c, the storage commands in ctl_storage.c, `node confirm-down`
 * and `vm reset-state` in ctl_confirm.c.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <qb/qbipc_common.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#include "ctl_access.h"
#include "ctl_backup.h"
#include "ctl_admin.h"
#include "ctl_confirm.h"
#include "ctl_create.h"
#include "ctl_forward.h"
#include "ctl_fence.h"
#include "ctl_maint.h"
#include "ctl_nodes.h"
#include "ctl_read.h"
#include "ctl_server.h"
#include "ctl_storage.h"
#include "ctl_vm.h"
#include "log.h"
#include "state.h"
#include "wire.h"
#include "xm_error.h"

#define CTL_PENDING_MAX 64              /* as many as the replica tracks */
#define CTL_WHAT_MAX    CTL_MUTATION_TEXT_MAX
#define CTL_REASON_MAX  256

/* A mutation waiting for the cluster.  conn holds a reference; NULL once
 * the client left (the change goes on, its outcome is still logged). */
struct ctl_pending {
	qb_ipcs_connection_t *conn;
	uint64_t req_id;
	struct ctl_mutation m;
};

struct ctl_server {
	struct agent *a;
	qb_ipcs_service_t *svc;
	struct ctl_pending pending[CTL_PENDING_MAX];
	size_t n_pending;
	struct ctl_vm vm;
};

/* libqb's poll handler callbacks carry no user pointer, so the loop they
 * must use cannot travel with them: this is the one place it is kept.
 * Set by ctl_server_start() from a->loop, cleared by ctl_server_stop(). */
static qb_loop_t *ctl_loop;

/* ---- qb_loop integration --------------------------------------------- */

static int32_t
ctl_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ctl_loop, p, data, fn);
}

static int32_t
ctl_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events,
		 void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ctl_loop, p, fd, events, data, fn);
}

static int32_t
ctl_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events,
		 void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ctl_loop, p, fd, events, data, fn);
}

static int32_t
ctl_dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ctl_loop, fd);
}

/* ---- responses -------------------------------------------------------- */

static int
ctl_send(qb_ipcs_connection_t *c, const Xenmesh__CtlResponse *resp)
{
	struct qb_ipc_response_header hdr;
	struct iovec iov[2];
	uint8_t *buf = NULL;
	size_t len = 0;
	int32_t max = qb_ipcs_connection_get_buffer_size(c);
	ssize_t sent;
	int rc;

	rc = wire_pack(&resp->base, &buf, &len);
	if (rc < 0)
		return rc;
	if (max > 0 && len + sizeof(hdr) > (size_t)max) {
		rc = -EMSGSIZE;
		goto out_free;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.id = XM_IPC_MSG_STATUS;
	hdr.size = (int32_t)(sizeof(hdr) + len);
	iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
	iov[1] = (struct iovec){ .iov_base = buf, .iov_len = len };
	sent = qb_ipcs_response_sendv(c, iov, 2);
	rc = sent < 0 ? (int)sent : 0;
out_free:
	free(buf);
	return rc;
}

/* A response that does not fit becomes an error answer.  Failures to send
 * are the client's problem (it left): logged, not fatal. */
static void
ctl_reply(qb_ipcs_connection_t *c, const Xenmesh__CtlResponse *resp)
{
	Xenmesh__CtlResponse too_big = XENMESH__CTL_RESPONSE__INIT;
	char msg[CTL_REASON_MAX];
	int rc = ctl_send(c, resp);

	if (rc == -EMSGSIZE) {
		(void)snprintf(msg, sizeof(msg),
			       "the answer does not fit the IPC buffer (%d bytes)",
			       qb_ipcs_connection_get_buffer_size(c));
		log_warn("agentctl answer too large: %s", msg);
		too_big.result = -EMSGSIZE;
		too_big.message = msg;
		rc = ctl_send(c, &too_big);
	}
	if (rc < 0)
		log_info("cannot answer an agentctl client: %s, ignoring",
			 xm_strerror(rc));
}

void
ctl_server_answer(qb_ipcs_connection_t *c, const Xenmesh__CtlResponse *resp)
{
	if (c != NULL)
		ctl_reply(c, resp);
}

void
ctl_server_reply(qb_ipcs_connection_t *c, int result, const char *message)
{
	Xenmesh__CtlResponse resp = XENMESH__CTL_RESPONSE__INIT;

	if (c == NULL)
		return;         /* the client left */
	resp.result = result;
	resp.message = (char *)message;
	ctl_reply(c, &resp);
}

/* ---- mutations -------------------------------------------------------- */

/* The outcome of a mutation: to its continuation, else to the client. */
static void
ctl_finish(struct agent *a, qb_ipcs_connection_t *c,
	   const struct ctl_mutation *m, int result, const char *reason)
{
	if (result < 0)
		log_notice("uid %u: %s failed: %s", (unsigned)m->uid, m->what,
			   reason);
	else
		log_notice("uid %u: %s done", (unsigned)m->uid, m->what);
	if (m->then != NULL)
		m->then(a, m->then_data, c, result, reason);
	else
		ctl_server_reply(c, result, result < 0 ? reason :
				 m->done[0] != '\0' ? m->done : NULL);
}

void
ctl_server_submit(struct agent *a, qb_ipcs_connection_t *c,
		  const struct ctl_mutation *m, const Xenmesh__Op *op)
{
	struct ctl_server *srv = a->ctl;
	char why[CTL_REASON_MAX] = "";
	struct ctl_pending *p;
	int64_t id;
	int rc;

	if (srv == NULL) {
		ctl_finish(a, c, m, -ESHUTDOWN, "xenmeshd is stopping");
		return;
	}
	if (srv->n_pending >= CTL_PENDING_MAX) {
		ctl_finish(a, c, m, -EBUSY, "too many changes in flight, try again");
		return;
	}
	/* every mutation asked for is in the event log with who asked */
	log_notice("uid %u asks %s", (unsigned)m->uid, m->what);
	(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, m->node,
			   "access", "uid %u asks %s", (unsigned)m->uid, m->what);
	/* an id is only ever completed after replica_request() returned it
	 * (the replica tracks it from then on), so it is recorded in time */
	id = replica_request(&a->rep, op, m->uid, why, sizeof(why));
	if (id <= 0) {
		rc = id < 0 ? (int)id : -EPROTO;
		ctl_finish(a, c, m, rc, why[0] ? why : xm_strerror(rc));
		return;
	}
	p = &srv->pending[srv->n_pending++];
	memset(p, 0, sizeof(*p));
	if (c != NULL)
		qb_ipcs_connection_ref(c);
	p->conn = c;
	p->req_id = (uint64_t)id;
	p->m = *m;
}

static void
ctl_node_flag(struct ctl_server *srv, qb_ipcs_connection_t *c,
	      const struct ctl_client *cl, const Xenmesh__CtlRequest *req)
{
	struct agent *a = srv->a;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	const struct node_rec *node;
	struct ctl_mutation m = { .uid = (uint32_t)cl->uid };
	char msg[CTL_REASON_MAX];
	uint32_t bit;
	bool on;

	if (req->n_args != 3 || node_flag_parse(req->args[1], &bit) < 0 ||
	    (strcmp(req->args[2], "on") != 0 && strcmp(req->args[2], "off") != 0)) {
		ctl_server_reply(c, -EINVAL, "node flag needs NODE, "
				 "maintenance|standby and on|off");
		return;
	}
	on = strcmp(req->args[2], "on") == 0;
	node = state_node_by_name(&a->rep.st, req->args[0]);
	if (node == NULL) {
		(void)snprintf(msg, sizeof(msg), "no node named %s", req->args[0]);
		ctl_server_reply(c, -ENOENT, msg);
		return;
	}
	(void)snprintf(m.what, sizeof(m.what), "node %s %s %s", req->args[1],
		       req->args[0], req->args[2]);
	m.node = node->id;
	nf.id = node->id;
	nf.set = on ? bit : 0;
	nf.clear = on ? 0 : bit;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &nf;
	ctl_server_submit(a, c, &m, &op);
}

void
ctl_server_request_done(struct agent *a, uint64_t req_id, int result,
			const char *reason)
{
	struct ctl_server *srv = a->ctl;
	struct ctl_pending done;
	const char *text;
	size_t i;

	if (srv == NULL)
		return;
	text = reason != NULL && reason[0] != '\0' ? reason :
		result < 0 ? xm_strerror(result) : NULL;
	for (i = 0; i < srv->n_pending; i++) {
		if (srv->pending[i].req_id != req_id)
			continue;
		/* out of the table first: a continuation may submit more */
		done = srv->pending[i];
		srv->pending[i] = srv->pending[--srv->n_pending];
		ctl_finish(a, done.conn, &done.m, result, text);
		if (done.conn != NULL)
			qb_ipcs_connection_unref(done.conn);
		return;
	}
	log_debug("request %" PRIu64 " is not ours, ignoring", req_id);
}

/* ---- requests --------------------------------------------------------- */

/* What each command is called in messages and whether it changes state. */
static const struct ctl_command {
	const char *name;
	bool admin;
} ctl_commands[] = {
	[XENMESH__CTL_COMMAND__CTL_STATUS] = { "status", false },
	[XENMESH__CTL_COMMAND__CTL_EVENTS] = { "events", false },
	[XENMESH__CTL_COMMAND__CTL_NODE_LIST] = { "node list", false },
	[XENMESH__CTL_COMMAND__CTL_NODE_FLAG] = { "node flag", true },
	[XENMESH__CTL_COMMAND__CTL_VM_DEFINE] = { "vm define", true },
	[XENMESH__CTL_COMMAND__CTL_VM_UNDEFINE] = { "vm undefine", true },
	[XENMESH__CTL_COMMAND__CTL_VM_START] = { "vm start", true },
	[XENMESH__CTL_COMMAND__CTL_VM_STOP] = { "vm stop", true },
	[XENMESH__CTL_COMMAND__CTL_VM_RESTART] = { "vm restart", true },
	[XENMESH__CTL_COMMAND__CTL_VM_CLEANUP] = { "vm cleanup", true },
	[XENMESH__CTL_COMMAND__CTL_VM_LIST] = { "vm list", false },
	[XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG] = { "fence config", false },
	[XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET] = { "fence config set", true },
	[XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_CLEAR] = { "fence config clear",
							   true },
	[XENMESH__CTL_COMMAND__CTL_FENCE_HISTORY] = { "fence history", false },
	[XENMESH__CTL_COMMAND__CTL_NODE_FENCE] = { "node fence", true },
	[XENMESH__CTL_COMMAND__CTL_METRICS] = { "metrics", false },
	[XENMESH__CTL_COMMAND__CTL_LOG_LEVEL] = { "log-level", true },
	[XENMESH__CTL_COMMAND__CTL_VOLUME_CREATE] = { "volume create", true },
	[XENMESH__CTL_COMMAND__CTL_VOLUME_REMOVE] = { "volume remove", true },
	[XENMESH__CTL_COMMAND__CTL_STORAGE_STATUS] = { "storage status", false },
	[XENMESH__CTL_COMMAND__CTL_VM_MIGRATE] = { "vm migrate", true },
	[XENMESH__CTL_COMMAND__CTL_NODE_DRAIN] = { "node drain", true },
	[XENMESH__CTL_COMMAND__CTL_NODE_UNDRAIN] = { "node undrain", true },
	[XENMESH__CTL_COMMAND__CTL_CLUSTER_MAINTENANCE] = { "cluster maintenance",
							     true },
	[XENMESH__CTL_COMMAND__CTL_NODE_PREPARE_SHUTDOWN] = { "node prepare-shutdown",
							       true },
	[XENMESH__CTL_COMMAND__CTL_NODE_CONFIRM_DOWN] = { "node confirm-down", true },
	[XENMESH__CTL_COMMAND__CTL_VM_RESET_STATE] = { "vm reset-state", true },
	[XENMESH__CTL_COMMAND__CTL_NODE_ADD] = { "node add", true },
	[XENMESH__CTL_COMMAND__CTL_NODE_FORGET] = { "node forget", true },
	[XENMESH__CTL_COMMAND__CTL_VM_BACKUP] = { "vm backup", true },
	[XENMESH__CTL_COMMAND__CTL_VM_RESTORE] = { "vm restore", true },
	[XENMESH__CTL_COMMAND__CTL_BACKUP_LIST] = { "backup list", false },
	[XENMESH__CTL_COMMAND__CTL_VM_CREATE] = { "vm create", true },
	[XENMESH__CTL_COMMAND__CTL_TEMPLATE] = { "template", false },
	[XENMESH__CTL_COMMAND__CTL_VM_SAVE] = { "vm save", true },
	[XENMESH__CTL_COMMAND__CTL_VM_RESUME] = { "vm resume", true },
};

/* NULL for a command this xenmeshd does not know. */
static const struct ctl_command *
ctl_command_of(const Xenmesh__CtlRequest *req)
{
	size_t i = (size_t)req->command;

	if (req->command < 0 || i >= sizeof(ctl_commands) / sizeof(ctl_commands[0]) ||
	    ctl_commands[i].name == NULL)
		return NULL;
	return &ctl_commands[i];
}

static void
ctl_dispatch(struct ctl_server *srv, qb_ipcs_connection_t *c,
	     const struct ctl_client *cl, const Xenmesh__CtlRequest *req)
{
	const struct ctl_command *cmd = ctl_command_of(req);
	char what[CTL_WHAT_MAX], msg[CTL_REASON_MAX];
	uint32_t uid;

	if (cmd == NULL) {
		/* an agentctl newer than this xenmeshd */
		(void)snprintf(msg, sizeof(msg), "xenmeshd does not know "
			       "command %d", (int)req->command);
		ctl_server_reply(c, -EOPNOTSUPP, msg);
		return;
	}
	if (!(cmd->admin ? cl->may_admin : cl->may_read)) {
		/* "node maintenance", not "node flag" */
		if (req->command == XENMESH__CTL_COMMAND__CTL_NODE_FLAG &&
		    req->n_args > 1)
			(void)snprintf(what, sizeof(what), "node %s", req->args[1]);
		else
			(void)snprintf(what, sizeof(what), "%s", cmd->name);
		ctl_access_refuse(srv->a, c, cl, what, cmd->admin);
		return;
	}
	if (req->forwarded_from != NULL && cl->uid != 0) {
		/* only an agent's relay (root) says where a request came from */
		ctl_server_reply(c, -EPERM, "forwarded_from is for xenmeshd's relay "
				 "(root) only");
		return;
	}
	/* what a forwarded request changes is recorded as asked by the uid
	 * on the node it came from (the relay that brings it is root); no
	 * command it may carry decides anything by uid */
	uid = req->forwarded_from != NULL && req->has_forwarded_uid &&
		ctl_forward_command(req->command) ? req->forwarded_uid :
		(uint32_t)cl->uid;
	if (ctl_forward_maybe(srv->a, c, uid, req))
		return;         /* it runs on the active SAN node */
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_STATUS:
	case XENMESH__CTL_COMMAND__CTL_NODE_LIST:
		ctl_read_status(srv->a, c, NULL);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_LIST:
		/* args: the VM of `vm show`, whose xl.cfg text is wanted */
		ctl_read_status(srv->a, c, req->n_args > 0 ? req->args[0] : NULL);
		break;
	case XENMESH__CTL_COMMAND__CTL_EVENTS:
		ctl_read_events(srv->a, c, req->has_since ? req->since : 0);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_FLAG:
		ctl_node_flag(srv, c, cl, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_FENCE_HISTORY:
		ctl_read_fence_history(srv->a, c);
		break;
	case XENMESH__CTL_COMMAND__CTL_STORAGE_STATUS:
		ctl_read_storage_status(srv->a, c);
		break;
	case XENMESH__CTL_COMMAND__CTL_VOLUME_CREATE:
	case XENMESH__CTL_COMMAND__CTL_VOLUME_REMOVE:
		ctl_storage_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_CREATE:
	case XENMESH__CTL_COMMAND__CTL_TEMPLATE:
		ctl_create_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_METRICS:
	case XENMESH__CTL_COMMAND__CTL_LOG_LEVEL:
		ctl_admin_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_MIGRATE:
	case XENMESH__CTL_COMMAND__CTL_NODE_DRAIN:
	case XENMESH__CTL_COMMAND__CTL_NODE_UNDRAIN:
	case XENMESH__CTL_COMMAND__CTL_CLUSTER_MAINTENANCE:
	case XENMESH__CTL_COMMAND__CTL_NODE_PREPARE_SHUTDOWN:
		ctl_maint_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG:
	case XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET:
	case XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_CLEAR:
	case XENMESH__CTL_COMMAND__CTL_NODE_FENCE:
		ctl_fence_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_CONFIRM_DOWN:
	case XENMESH__CTL_COMMAND__CTL_VM_RESET_STATE:
		ctl_confirm_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_ADD:
	case XENMESH__CTL_COMMAND__CTL_NODE_FORGET:
		ctl_nodes_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_BACKUP:
	case XENMESH__CTL_COMMAND__CTL_VM_RESTORE:
	case XENMESH__CTL_COMMAND__CTL_BACKUP_LIST:
		ctl_backup_request(srv->a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_SAVE:
		ctl_save_request(srv->a, &srv->vm, c, uid, req);
		break;
	default:
		ctl_vm_request(srv->a, &srv->vm, c, uid, req);
		break;
	}
}

static int32_t
ctl_msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct ctl_server *srv = qb_ipcs_connection_service_context_get(c);
	const struct ctl_client *cl = qb_ipcs_context_get(c);
	struct qb_ipc_request_header hdr;
	Xenmesh__CtlRequest *req;
	ProtobufCMessage *msg;
	uint16_t major = 0, minor = 0;
	char text[CTL_REASON_MAX];
	int err = 0;

	if (srv == NULL || cl == NULL)
		return 0;
	/* libqb's ring buffer aligns to 4 bytes, the header wants 8: copy */
	memset(&hdr, 0, sizeof(hdr));
	if (size >= sizeof(hdr))
		memcpy(&hdr, data, sizeof(hdr));
	if (size < sizeof(hdr) || hdr.size < 0 || (size_t)hdr.size != size ||
	    hdr.id != XM_IPC_MSG_STATUS) {
		log_warn("uid %u: malformed request (%zu bytes), ignoring",
			 (unsigned)cl->uid, size);
		ctl_server_reply(c, -EBADMSG, "malformed request");
		return 0;
	}
	msg = wire_unpack(&xenmesh__ctl_request__descriptor,
			  (const uint8_t *)data + sizeof(hdr), size - sizeof(hdr),
			  &err, &major, &minor);
	if (msg == NULL) {
		if (err == XM_EVERSION)
			(void)snprintf(text, sizeof(text),
				       "agentctl speaks protocol %u.%u, "
				       "xenmeshd %u.%u",
				       major, minor, XM_PROTO_MAJOR,
				       XM_PROTO_MINOR);
		else
			(void)snprintf(text, sizeof(text), "malformed request: %s",
				       xm_strerror(err));
		log_warn("uid %u: %s, ignoring", (unsigned)cl->uid, text);
		ctl_server_reply(c, err < 0 ? err : -EBADMSG, text);
		return 0;
	}
	req = (Xenmesh__CtlRequest *)msg;
	ctl_dispatch(srv, c, cl, req);
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}

/* ---- connections ------------------------------------------------------ */

/* Everyone may connect: a refusal is answered per request with a message
 * that says what is missing, which a refused connect could not carry. */
static int32_t
ctl_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	struct ctl_server *srv = qb_ipcs_connection_service_context_get(c);
	struct ctl_client *cl;

	if (srv == NULL)
		return -EAGAIN;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return -ENOMEM;
	ctl_access_decide(cl, &srv->a->cfg, uid, gid);
	/* the shared memory is the client's to map, nobody else's */
	qb_ipcs_connection_auth_set(c, uid, gid, S_IRUSR | S_IWUSR);
	qb_ipcs_context_set(c, cl);
	return 0;
}

static void
ctl_created(qb_ipcs_connection_t *c)
{
	struct ctl_client *cl = qb_ipcs_context_get(c);
	struct qb_ipcs_connection_stats_2 *stats;

	if (cl == NULL)
		return;
	stats = qb_ipcs_connection_stats_get_2(c, 0);
	if (stats != NULL) {
		cl->pid = stats->client_pid;
		free(stats);
	}
	log_debug("agentctl connected: uid %u gid %u pid %d (%s)",
		  (unsigned)cl->uid, (unsigned)cl->gid, (int)cl->pid,
		  cl->may_admin ? "admin" : cl->may_read ? "read" : "no access");
}

static int32_t
ctl_closed(qb_ipcs_connection_t *c)
{
	struct ctl_server *srv = qb_ipcs_connection_service_context_get(c);
	size_t i;

	/* a mutation still running is not answered to a client that left;
	 * it goes on in the cluster regardless, and its outcome is logged */
	for (i = 0; srv != NULL && i < srv->n_pending; i++) {
		struct ctl_pending *p = &srv->pending[i];

		if (p->conn != c)
			continue;
		log_info("uid %u left before %s finished", (unsigned)p->m.uid,
			 p->m.what);
		qb_ipcs_connection_unref(p->conn);
		p->conn = NULL;
	}
	return 0;
}

static void
ctl_destroyed(qb_ipcs_connection_t *c)
{
	free(qb_ipcs_context_get(c));
	qb_ipcs_context_set(c, NULL);
}

/* ---- life cycle ------------------------------------------------------- */

int
ctl_server_start(struct agent *a)
{
	struct qb_ipcs_service_handlers handlers = {
		.connection_accept = ctl_accept,
		.connection_created = ctl_created,
		.msg_process = ctl_msg_process,
		.connection_closed = ctl_closed,
		.connection_destroyed = ctl_destroyed,
	};
	struct qb_ipcs_poll_handlers poll_handlers = {
		.job_add = ctl_job_add,
		.dispatch_add = ctl_dispatch_add,
		.dispatch_mod = ctl_dispatch_mod,
		.dispatch_del = ctl_dispatch_del,
	};
	struct ctl_server *srv;
	int rc;

	if (a->ctl != NULL || ctl_loop != NULL || a->loop == NULL)
		return -EBUSY;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	srv->a = a;
	srv->svc = qb_ipcs_create(XM_IPC_NAME, 0, QB_IPC_NATIVE, &handlers);
	if (srv->svc == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	ctl_loop = a->loop;
	a->ctl = srv;
	qb_ipcs_service_context_set(srv->svc, srv);
	qb_ipcs_poll_handlers_set(srv->svc, &poll_handlers);
	rc = qb_ipcs_run(srv->svc);
	if (rc < 0) {
		/* qb_ipcs_run destroyed the service */
		srv->svc = NULL;
		goto out_unset;
	}
	log_info("agentctl endpoint \"%s\" ready", XM_IPC_NAME);
	return 0;

out_unset:
	a->ctl = NULL;
	ctl_loop = NULL;
out_free:
	free(srv);
	return rc;
}

void
ctl_server_stop(struct agent *a)
{
	struct ctl_server *srv = a->ctl;

	if (srv == NULL)
		return;
	while (srv->n_pending > 0) {
		struct ctl_pending p = srv->pending[--srv->n_pending];

		if (p.m.then != NULL)
			p.m.then(a, p.m.then_data, NULL, -ECANCELED,
				 "xenmeshd is stopping");
		if (p.conn != NULL)
			qb_ipcs_connection_unref(p.conn);
	}
	ctl_vm_stop(&srv->vm);
	ctl_save_stop(&srv->vm);
	/* disconnects every client; their closed/destroyed callbacks still
	 * find srv through the service context */
	qb_ipcs_destroy(srv->svc);
	a->ctl = NULL;
	ctl_loop = NULL;
	free(srv);
}
