/* Corosync glue: CPG, votequorum and cmap on the agent's qb_loop.
 *
 * cs_error_t (where CS_OK is 1) is translated to 0/-errno here and goes no
 * further.  All three connections live and die together: losing any of them
 * is losing corosync, which counts as losing quorum; a timer reconnects.
 */
#define LOG_SUBSYS "cluster"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#include "alert.h"
#include "cluster.h"
#include "cluster_int.h"
#include "guard.h"
#include "log.h"
#include "wire.h"
#include "xm_error.h"

#define RECONNECT_MS      1000
#define FLUSH_RETRY_MS    20
#define LEAVE_TIMEOUT_MS  5000
#define CHUNK_OVERHEAD    128   /* envelope and frame around a chunk */

static int
cs_to_errno(cs_error_t err)
{
	switch (err) {
	case CS_OK:
		return 0;
	case CS_ERR_TRY_AGAIN:
		return -EAGAIN;
	case CS_ERR_NO_MEMORY:
		return -ENOMEM;
	case CS_ERR_BAD_HANDLE:
	case CS_ERR_LIBRARY:
		return -ENOTCONN;
	case CS_ERR_ACCESS:
		return -EACCES;
	case CS_ERR_NOT_EXIST:
		return -ENOENT;
	case CS_ERR_TOO_BIG:
		return -E2BIG;
	case CS_ERR_INVALID_PARAM:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void cluster_disconnect(struct cluster *cl, const char *why);
static void cluster_schedule_reconnect(struct cluster *cl);
static void cluster_fail(struct cluster *cl, const char *why);
static void leave_finish(struct cluster *cl);

/* ---- outgoing queue ------------------------------------------------------ */

static void flush_timer_fn(void *data);

/* Send what is queued, in order; stop at flow control and retry soon. */
static void
out_flush(struct cluster *cl)
{
	while (cl->out_head != NULL && cl->connected) {
		struct out_msg *m = cl->out_head;
		struct iovec iov = { .iov_base = m->buf, .iov_len = m->len };
		cs_error_t err = cpg_mcast_joined(cl->cpg, CPG_TYPE_AGREED, &iov, 1);

		if (err == CS_ERR_TRY_AGAIN)
			break;
		if (err != CS_OK) {
			log_err("cpg_mcast_joined failed: %s",
				xm_strerror(cs_to_errno(err)));
			cluster_fail(cl, "multicast failed");
			return;
		}
		metrics_cpg_sent(&cl->a->metrics, m->len);
		cl->out_head = m->next;
		if (cl->out_head == NULL)
			cl->out_tail = &cl->out_head;
		cl->out_len--;
		free(m);
	}
	if (cl->out_head != NULL && cl->connected && cl->flush_timer == 0)
		(void)qb_loop_timer_add(cl->a->loop, QB_LOOP_HIGH,
					FLUSH_RETRY_MS * QB_TIME_NS_IN_MSEC, cl,
					flush_timer_fn, &cl->flush_timer);
}

static void
flush_timer_fn(void *data)
{
	struct cluster *cl = data;

	cl->flush_timer = 0;
	out_flush(cl);
}

static void
out_clear(struct cluster *cl)
{
	while (cl->out_head != NULL) {
		struct out_msg *m = cl->out_head;

		cl->out_head = m->next;
		free(m);
	}
	cl->out_tail = &cl->out_head;
	cl->out_len = 0;
}

int
cluster_mcast(void *data, const Xenmesh__Envelope *env)
{
	struct agent *a = data;
	struct cluster *cl = a->cl;
	struct out_msg *m;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!cl->connected)
		return -ENOTCONN;
	rc = wire_pack(&env->base, &buf, &len);
	if (rc < 0)
		return rc;
	m = malloc(sizeof(*m) + len);
	if (m == NULL) {
		free(buf);
		return -ENOMEM;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->buf, buf, len);
	free(buf);
	*cl->out_tail = m;
	cl->out_tail = &m->next;
	cl->out_len++;
	out_flush(cl);
	return 0;
}

/* ---- quorum ------------------------------------------------------------------ */

static bool
cmap_flag(struct cluster *cl, const char *key)
{
	uint8_t u8 = 0;
	uint32_t u32 = 0;
	char *str = NULL;
	bool on = false;

	if (cmap_get_uint8(cl->cmap, key, &u8) == CS_OK)
		return u8 != 0;
	if (cmap_get_uint32(cl->cmap, key, &u32) == CS_OK)
		return u32 != 0;
	if (cmap_get_string(cl->cmap, key, &str) == CS_OK) {
		on = strcmp(str, "1") == 0 || strcmp(str, "yes") == 0 ||
		     strcmp(str, "on") == 0;
		free(str);
	}
	return on;
}

static void
quorum_refresh(struct cluster *cl)
{
	struct agent *a = cl->a;
	struct votequorum_info info;
	struct quorum_input in;
	struct quorum_verdict v;
	cs_error_t err;

	memset(&in, 0, sizeof(in));
	in.connected = cl->connected;
	if (cl->connected) {
		memset(&info, 0, sizeof(info));
		err = votequorum_getinfo(cl->vq, cl->local_id, &info);
		if (err != CS_OK) {
			log_err("votequorum_getinfo failed: %s",
				xm_strerror(cs_to_errno(err)));
			in.connected = false;
		} else {
			in.quorate = (info.flags & VOTEQUORUM_INFO_QUORATE) != 0;
			in.two_node = (info.flags & VOTEQUORUM_INFO_TWONODE) != 0 ||
				      cmap_flag(cl, "quorum.two_node");
			in.qdevice = (info.flags & VOTEQUORUM_INFO_QDEVICE_REGISTERED) != 0;
			in.expected_votes = info.highest_expected;
			in.total_votes = info.total_votes;
			in.quorum = info.quorum;
			/* The device's vote is not a node's: count nodes only. */
			if (in.qdevice && in.expected_votes >= info.qdevice_votes) {
				in.expected_votes -= info.qdevice_votes;
				in.qdevice_votes = info.qdevice_votes;
			}
		}
	}
	quorum_rules_eval(&in, &v);
	if (in.two_node && !a->qin.two_node)
		log_err("%s", v.reason);
	if (v.quorate != a->qv.quorate || strcmp(v.reason, a->qv.reason) != 0)
		log_notice("quorum: %s%s", v.quorate ? "quorate" : "not quorate: ",
			   v.quorate ? "" : v.reason);
	if (v.quorate && !v.ha_enabled && strcmp(v.ha_reason, a->qv.ha_reason) != 0)
		log_warn("%s", v.ha_reason);
	a->qin = in;
	a->qv = v;
	replica_quorum(&a->rep, &v);
	alert_quorum(a, v.quorate, v.reason);   /* before a self-fence's */
	guard_quorum(a, v.quorate);
}

static void
vq_notify(votequorum_handle_t handle, uint64_t context, uint32_t quorate,
	  uint32_t n, votequorum_node_t nodes[])
{
	struct cluster *cl = (struct cluster *)(uintptr_t)context;

	if (cl->vq_ring_pending) {
		cl->vq_ring_pending = false;
		replica_quorum_ring(&cl->a->rep, cl->vq_ring_nodeid, cl->vq_ring_seq);
	}
	quorum_refresh(cl);
}

/* A new ring in votequorum's sync: the quorum notification that follows
 * is its verdict.  Until then the replica names no coordinator for that
 * ring (the CPG round can finish first, and a minority must not act on
 * the quorum of the ring before). */
static void
vq_nodelist(votequorum_handle_t handle, uint64_t context,
	    votequorum_ring_id_t ring_id, uint32_t n, uint32_t nodes[])
{
	struct cluster *cl = (struct cluster *)(uintptr_t)context;

	cl->vq_ring_pending = true;
	cl->vq_ring_nodeid = ring_id.nodeid;
	cl->vq_ring_seq = ring_id.seq;
}

static void
vq_expected(votequorum_handle_t handle, uint64_t context, uint32_t expected)
{
	struct cluster *cl = (struct cluster *)(uintptr_t)context;

	quorum_refresh(cl);
}

/* ---- CPG callbacks -------------------------------------------------------------- */

static struct cluster *
cpg_cluster(cpg_handle_t handle)
{
	void *ctx = NULL;

	if (cpg_context_get(handle, &ctx) != CS_OK)
		return NULL;
	return ctx;
}

/* Log a refused peer once per (node, major). */
static void
peer_refused(struct cluster *cl, uint32_t nodeid, uint16_t major, uint16_t minor)
{
	for (size_t i = 0; i < cl->n_refused; i++)
		if (cl->refused_id[i] == nodeid && cl->refused_major[i] == major)
			return;
	if (cl->n_refused < STATE_MAX_NODES) {
		cl->refused_id[cl->n_refused] = nodeid;
		cl->refused_major[cl->n_refused++] = major;
	}
	log_err("node %" PRIu32 " speaks xenmesh protocol %u.%u, this agent "
		"speaks %u.%u: refusing its messages until it is upgraded",
		nodeid, major, minor, XM_PROTO_MAJOR, XM_PROTO_MINOR);
	(void)eventlog_add(&cl->a->events, cl->a->rep.st.epoch,
			   cl->a->rep.st.seq, nodeid, "membership",
			   "node %" PRIu32 " refused: protocol %u.%u, ours %u.%u",
			   nodeid, major, minor, XM_PROTO_MAJOR, XM_PROTO_MINOR);
}

/* Keyed by process too: only the agent's own word counts, not that of a
 * stray tool on its node. */
static void
peer_minor_seen(struct cluster *cl, uint32_t nodeid, uint32_t pid, uint16_t minor)
{
	size_t i;

	for (i = 0; i < cl->n_minor; i++)
		if (cl->minor_who[i].nodeid == nodeid && cl->minor_who[i].pid == pid)
			break;
	if (i == cl->n_minor) {
		if (cl->n_minor < CLUSTER_MINOR_SLOTS)
			cl->n_minor++;
		else
			i = cl->minor_next++ % CLUSTER_MINOR_SLOTS;     /* oldest */
	}
	cl->minor_who[i].nodeid = nodeid;
	cl->minor_who[i].pid = pid;
	cl->minor_of[i] = minor;
}

uint16_t
cluster_peer_minor(const struct agent *a, uint32_t nodeid, uint32_t pid)
{
	const struct cluster *cl = a->cl;

	if (cl == NULL)
		return XM_PROTO_MINOR;
	for (size_t i = 0; i < cl->n_minor; i++)
		if (cl->minor_who[i].nodeid == nodeid && cl->minor_who[i].pid == pid)
			return cl->minor_of[i];
	return 0;
}

bool
cluster_members_speak(const struct agent *a, uint16_t minor, uint32_t *node,
		      uint16_t *got)
{
	for (size_t i = 0; i < a->rep.n_agents; i++) {
		uint32_t id = a->rep.agents[i].nodeid;
		uint16_t m = cluster_peer_minor(a, id, a->rep.agents[i].pid);

		if (m >= minor)
			continue;
		if (node != NULL)
			*node = id;
		if (got != NULL)
			*got = m;
		return false;
	}
	return true;
}

static void
cpg_deliver(cpg_handle_t handle, const struct cpg_name *group, uint32_t nodeid,
	    uint32_t pid, void *msg, size_t len)
{
	struct cluster *cl = cpg_cluster(handle);
	Xenmesh__Envelope *env;
	uint16_t major = 0, minor = 0;
	int err = 0;

	if (cl == NULL)
		return;
	metrics_cpg_received(&cl->a->metrics, len);
	env = (Xenmesh__Envelope *)wire_unpack(&xenmesh__envelope__descriptor,
					       msg, len, &err, &major, &minor);
	if (env == NULL) {
		if (err == XM_EVERSION)
			peer_refused(cl, nodeid, major, minor);
		else
			log_warn("malformed message (%zu bytes) from node %" PRIu32
				 " pid %" PRIu32 ": %s, dropped", len, nodeid, pid,
				 xm_strerror(err));
		/* knet authenticates every packet, so this is no line noise:
		 * the sender is not an agent we can talk with. */
		replica_peer_incompatible(&cl->a->rep, nodeid, pid);
		return;
	}
	peer_minor_seen(cl, nodeid, pid, minor);
	if (env->body_case == XENMESH__ENVELOPE__BODY_HEARTBEAT) {
		/* only our own heartbeats matter: they prove the whole path
		 * (agent, IPC, corosync, ring) still works */
		if (nodeid == cl->local_id && pid == (uint32_t)getpid())
			guard_heartbeat_back(cl->a);
	} else {
		replica_deliver_from(&cl->a->rep, nodeid, pid, env);
	}
	xenmesh__envelope__free_unpacked(env, NULL);
}

static void
cpg_confchg(cpg_handle_t handle, const struct cpg_name *group,
	    const struct cpg_address *members, size_t n_members,
	    const struct cpg_address *left, size_t n_left,
	    const struct cpg_address *joined, size_t n_joined)
{
	struct cluster *cl = cpg_cluster(handle);
	struct sync_member mem[SYNC_MAX_MEMBERS];
	struct sync_member gone[SYNC_MAX_MEMBERS];
	int why[SYNC_MAX_MEMBERS];
	size_t nm = 0, ng = 0;

	if (cl == NULL)
		return;
	for (size_t i = 0; i < n_members && nm < SYNC_MAX_MEMBERS; i++) {
		mem[nm].nodeid = members[i].nodeid;
		mem[nm++].pid = members[i].pid;
	}
	for (size_t i = 0; i < n_left && ng < SYNC_MAX_MEMBERS; i++) {
		gone[ng].nodeid = left[i].nodeid;
		gone[ng].pid = left[i].pid;
		why[ng++] = (int)left[i].reason;
	}
	log_info("membership: %zu members, %zu joined, %zu left", n_members,
		 n_joined, n_left);
	/* Our own clean leave being delivered ends a shutdown. */
	for (size_t i = 0; i < n_left; i++) {
		if (left[i].nodeid == cl->local_id && left[i].pid == (uint32_t)getpid() &&
		    cl->leaving) {
			log_notice("left the group cleanly");
			leave_finish(cl);
			return;
		}
	}
	replica_confchg(&cl->a->rep, mem, nm, gone, why, ng);
	out_flush(cl);
}

static void
cpg_totem(cpg_handle_t handle, struct cpg_ring_id ring_id,
	  uint32_t n, const uint32_t *members)
{
	struct cluster *cl = cpg_cluster(handle);

	if (cl == NULL)
		return;
	log_debug("totem ring %u.%" PRIu64 " with %u nodes", ring_id.nodeid,
		  ring_id.seq, n);
	replica_ring(&cl->a->rep, ring_id.nodeid, ring_id.seq);
}

static int
cpg_dispatch_fn(int fd, int revents, void *data)
{
	struct cluster *cl = data;
	cs_error_t err;

	if (revents & (POLLHUP | POLLERR)) {
		cluster_disconnect(cl, "corosync closed the CPG connection");
		return 0;
	}
	err = cpg_dispatch(cl->cpg, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN && cl->connected) {
		cluster_disconnect(cl, "CPG dispatch failed");
		return 0;
	}
	return 0;
}

static int
vq_dispatch_fn(int fd, int revents, void *data)
{
	struct cluster *cl = data;
	cs_error_t err;

	if (revents & (POLLHUP | POLLERR)) {
		cluster_disconnect(cl, "corosync closed the votequorum connection");
		return 0;
	}
	err = votequorum_dispatch(cl->vq, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN && cl->connected) {
		cluster_disconnect(cl, "votequorum dispatch failed");
		return 0;
	}
	return 0;
}

/* ---- connect / disconnect ---------------------------------------------------------- */

static void
cmap_read_names(struct cluster *cl)
{
	struct agent *a = cl->a;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	char *str = NULL;

	if (cmap_get_string(cl->cmap, "totem.cluster_name", &str) == CS_OK) {
		snprintf(a->cluster_name, sizeof(a->cluster_name), "%s", str);
		free(str);
	} else {
		snprintf(a->cluster_name, sizeof(a->cluster_name), "(unnamed)");
	}
	snprintf(cl->local_name, sizeof(cl->local_name), "node%" PRIu32, cl->local_id);
	for (unsigned i = 0; i < 1024; i++) {
		uint32_t id = 0;

		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(cl->cmap, key, &id) != CS_OK)
			break;
		if (id != cl->local_id)
			continue;
		snprintf(key, sizeof(key), "nodelist.node.%u.name", i);
		if (cmap_get_string(cl->cmap, key, &str) != CS_OK) {
			snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
			if (cmap_get_string(cl->cmap, key, &str) != CS_OK)
				break;
		}
		snprintf(cl->local_name, sizeof(cl->local_name), "%s", str);
		free(str);
		break;
	}
	snprintf(a->node_name, sizeof(a->node_name), "%s", cl->local_name);
}

static int
cluster_connect(struct cluster *cl)
{
	struct agent *a = cl->a;
	cpg_model_v1_data_t model;
	votequorum_callbacks_t vq_cb;
	uint32_t max_msg = 0;
	unsigned int local = 0;
	cs_error_t err;
	int rc;

	err = cmap_initialize(&cl->cmap);
	if (err != CS_OK) {
		rc = cs_to_errno(err);
		goto out;
	}
	memset(&vq_cb, 0, sizeof(vq_cb));
	vq_cb.votequorum_quorum_notify_fn = vq_notify;
	vq_cb.votequorum_expectedvotes_notify_fn = vq_expected;
	vq_cb.votequorum_nodelist_notify_fn = vq_nodelist;
	err = votequorum_initialize(&cl->vq, &vq_cb);
	if (err != CS_OK) {
		rc = cs_to_errno(err);
		goto out_cmap;
	}
	memset(&model, 0, sizeof(model));
	model.model = CPG_MODEL_V1;
	model.cpg_deliver_fn = cpg_deliver;
	model.cpg_confchg_fn = cpg_confchg;
	model.cpg_totem_confchg_fn = cpg_totem;
	model.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF;
	err = cpg_model_initialize(&cl->cpg, CPG_MODEL_V1,
				   (cpg_model_data_t *)&model, cl);
	if (err != CS_OK) {
		rc = cs_to_errno(err);
		goto out_vq;
	}
	err = cpg_local_get(cl->cpg, &local);
	if (err != CS_OK) {
		rc = cs_to_errno(err);
		goto out_cpg;
	}
	cl->local_id = local;
	a->rep.local_id = local;
	err = cpg_max_atomic_msgsize_get(cl->cpg, &max_msg);
	if (err == CS_OK && max_msg > CHUNK_OVERHEAD * 2)
		a->rep.chunk_max = max_msg - CHUNK_OVERHEAD;
	cmap_read_names(cl);

	(void)votequorum_context_set(cl->vq, cl);
	err = votequorum_trackstart(cl->vq, (uint64_t)(uintptr_t)cl, CS_TRACK_CHANGES);
	if (err != CS_OK) {
		rc = cs_to_errno(err);
		goto out_cpg;
	}
	if (cpg_fd_get(cl->cpg, &cl->cpg_fd) != CS_OK ||
	    votequorum_fd_get(cl->vq, &cl->vq_fd) != CS_OK) {
		rc = -EIO;
		goto out_cpg;
	}
	rc = qb_loop_poll_add(a->loop, QB_LOOP_HIGH, cl->cpg_fd, POLLIN, cl,
			      cpg_dispatch_fn);
	if (rc < 0)
		goto out_cpg;
	rc = qb_loop_poll_add(a->loop, QB_LOOP_HIGH, cl->vq_fd, POLLIN, cl,
			      vq_dispatch_fn);
	if (rc < 0)
		goto out_poll_cpg;
	cl->connected = true;
	quorum_refresh(cl);

	err = cpg_join(cl->cpg, &cl->group);
	if (err != CS_OK) {
		rc = cs_to_errno(err);
		cl->connected = false;
		goto out_poll_vq;
	}
	log_notice("connected to corosync as %s (node id %" PRIu32 ") in cluster %s",
		   cl->local_name, cl->local_id, a->cluster_name);
	if (!a->services_started)
		agent_services_start(a);
	return 0;

out_poll_vq:
	(void)qb_loop_poll_del(a->loop, cl->vq_fd);
out_poll_cpg:
	(void)qb_loop_poll_del(a->loop, cl->cpg_fd);
out_cpg:
	cpg_finalize(cl->cpg);
out_vq:
	votequorum_finalize(cl->vq);
out_cmap:
	cmap_finalize(cl->cmap);
out:
	cl->connected = false;
	return rc;
}

static void
cluster_disconnect(struct cluster *cl, const char *why)
{
	struct agent *a = cl->a;

	if (!cl->connected)
		return;
	cl->connected = false;
	(void)qb_loop_poll_del(a->loop, cl->cpg_fd);
	(void)qb_loop_poll_del(a->loop, cl->vq_fd);
	cpg_finalize(cl->cpg);
	votequorum_finalize(cl->vq);
	cmap_finalize(cl->cmap);
	out_clear(cl);
	if (cl->flush_timer != 0) {
		(void)qb_loop_timer_del(a->loop, cl->flush_timer);
		cl->flush_timer = 0;
	}
	if (why == NULL)
		return;         /* a clean leave: nothing is lost */
	log_err("lost the connection to corosync (%s): not quorate until it "
		"is back", why);
	replica_disconnected(&a->rep);
	a->qin.connected = false;
	quorum_rules_eval(&a->qin, &a->qv);
	alert_quorum(a, false, a->qv.reason);
	guard_quorum(a, false);
	if (!a->stopping)
		cluster_schedule_reconnect(cl);
}

/* From inside a corosync callback the handles must not be finalized (the
 * dispatch that called us still uses them): finish from the loop. */
static void
fail_job_fn(void *data)
{
	struct cluster *cl = data;

	cluster_disconnect(cl, cl->fail_why);
}

static void
cluster_fail(struct cluster *cl, const char *why)
{
	cl->fail_why = why;
	(void)qb_loop_job_add(cl->a->loop, QB_LOOP_HIGH, cl, fail_job_fn);
}

static void
leave_job_fn(void *data)
{
	struct cluster *cl = data;

	if (cl->leave_timer != 0) {
		(void)qb_loop_timer_del(cl->a->loop, cl->leave_timer);
		cl->leave_timer = 0;
	}
	cluster_disconnect(cl, NULL);
	if (cl->leave_done != NULL)
		cl->leave_done(cl->a);
	cl->leave_done = NULL;
}

static void
leave_finish(struct cluster *cl)
{
	(void)qb_loop_job_add(cl->a->loop, QB_LOOP_HIGH, cl, leave_job_fn);
}

static void
reconnect_fn(void *data)
{
	struct cluster *cl = data;
	int rc;

	cl->reconnect_timer = 0;
	if (cl->a->stopping)
		return;
	rc = cluster_connect(cl);
	if (rc == 0) {
		log_notice("reconnected to corosync");
		return;
	}
	log_debug("corosync not reachable yet: %s", xm_strerror(rc));
	cluster_schedule_reconnect(cl);
}

static void
cluster_schedule_reconnect(struct cluster *cl)
{
	if (cl->reconnect_timer != 0)
		return;
	(void)qb_loop_timer_add(cl->a->loop, QB_LOOP_MED,
				RECONNECT_MS * QB_TIME_NS_IN_MSEC, cl,
				reconnect_fn, &cl->reconnect_timer);
}

int
cluster_totem_ms(struct agent *a, uint32_t *token, uint32_t *consensus)
{
	struct cluster *cl = a->cl;

	if (cl == NULL || !cl->connected ||
	    cmap_get_uint32(cl->cmap, "runtime.config.totem.token", token) != CS_OK ||
	    cmap_get_uint32(cl->cmap, "runtime.config.totem.consensus", consensus) != CS_OK)
		return -ENOTCONN;
	return 0;
}

int
cluster_start(struct agent *a)
{
	struct cluster *cl;
	int rc;

	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return -ENOMEM;
	cl->a = a;
	cl->out_tail = &cl->out_head;
	cl->group.length = (uint32_t)strlen(a->cfg.cpg_group);
	memcpy(cl->group.value, a->cfg.cpg_group, cl->group.length);
	a->cl = cl;
	rc = cluster_connect(cl);
	if (rc < 0) {
		log_warn("cannot connect to corosync: %s; retrying every %d ms",
			 xm_strerror(rc), RECONNECT_MS);
		a->qin.connected = false;
		quorum_rules_eval(&a->qin, &a->qv);
		replica_quorum(&a->rep, &a->qv);
		cluster_schedule_reconnect(cl);
	}
	return 0;
}

static void
leave_timeout_fn(void *data)
{
	struct cluster *cl = data;

	cl->leave_timer = 0;
	log_warn("own leave not delivered within %d ms, stopping anyway",
		 LEAVE_TIMEOUT_MS);
	leave_job_fn(cl);
}

void
cluster_leave(struct agent *a, void (*done)(struct agent *a))
{
	struct cluster *cl = a->cl;

	if (cl == NULL || !cl->connected) {
		done(a);
		return;
	}
	cl->leaving = true;
	cl->leave_done = done;
	out_flush(cl);
	if (cpg_leave(cl->cpg, &cl->group) != CS_OK) {
		cluster_disconnect(cl, NULL);
		done(a);
		return;
	}
	(void)qb_loop_timer_add(a->loop, QB_LOOP_HIGH,
				LEAVE_TIMEOUT_MS * QB_TIME_NS_IN_MSEC, cl,
				leave_timeout_fn, &cl->leave_timer);
}

void
cluster_stop(struct agent *a)
{
	struct cluster *cl = a->cl;

	if (cl == NULL)
		return;
	cluster_disconnect(cl, NULL);
	if (cl->reconnect_timer != 0)
		(void)qb_loop_timer_del(a->loop, cl->reconnect_timer);
	if (cl->leave_timer != 0)
		(void)qb_loop_timer_del(a->loop, cl->leave_timer);
	if (cl->flush_timer != 0)
		(void)qb_loop_timer_del(a->loop, cl->flush_timer);
	out_clear(cl);
	free(cl);
	a->cl = NULL;
}
