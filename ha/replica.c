/* The replicated state machine: sync round, coordinator, updates.
 *
 * Everything here happens in CPG delivery order, which is the same on
 * every member; that is what keeps the copies equal.  The one input that
 * is not ordered with CPG messages is the quorum verdict (votequorum has
 * its own callbacks), so it only gates what this node *issues*: a receiver
 * accepts an update from the member that is coordinator by the membership
 * alone, whatever its own quorum flag says at that instant.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "confirm.h"
#include "replica.h"
#include "replica_int.h"
#include "unsafe.h"
#include "xm_error.h"

void
replica_log(struct replica *r, int prio, const char *fmt, ...)
{
	char text[320];
	va_list ap;

	if (r->ops->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->ops->log(r->ops_data, prio, text);
}

void
replica_event(struct replica *r, uint32_t node, const char *kind,
	      const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (r->ops->event != NULL)
		r->ops->event(r->ops_data, r->st.epoch, r->st.seq, node, kind, text);
}

const char *
replica_node_label(const struct replica *r, uint32_t id, char *buf, size_t len)
{
	const struct node_rec *n = state_node(&r->st, id);

	if (n != NULL)
		snprintf(buf, len, "%s", n->name);
	else
		snprintf(buf, len, "node %" PRIu32, id);
	return buf;
}

bool
replica_is_excluded(const struct replica *r, uint32_t nodeid, uint32_t pid)
{
	for (size_t i = 0; i < r->n_excluded; i++)
		if (r->excluded[i].nodeid == nodeid && r->excluded[i].pid == pid)
			return true;
	return false;
}

/* A member we can talk with: some process of that node in the group that
 * speaks our protocol (another one, of another major, does not count). */
bool
replica_is_member(const struct replica *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].nodeid == id &&
		    !replica_is_excluded(r, r->members[i].nodeid, r->members[i].pid))
			return true;
	return false;
}

uint32_t
replica_lowest_member(const struct replica *r)
{
	uint32_t ids[SYNC_MAX_MEMBERS];
	size_t n = 0;

	for (size_t i = 0; i < r->n_members; i++)
		if (replica_is_member(r, r->members[i].nodeid))
			ids[n++] = r->members[i].nodeid;
	return coordinator_choose(ids, n, true);
}

void
replica_envelope_init(const struct replica *r, Xenmesh__Envelope *env)
{
	xenmesh__envelope__init(env);
	env->sender = r->local_id;
}

void
replica_ring_fill(const struct replica *r, Xenmesh__RingId *ring)
{
	xenmesh__ring_id__init(ring);
	ring->nodeid = r->ring_nodeid;
	ring->seq = r->ring_seq;
}

int
replica_mcast(struct replica *r, const Xenmesh__Envelope *env)
{
	int rc = r->ops->mcast(r->ops_data, env);

	if (rc < 0)
		replica_log(r, LOG_ERR, "multicast failed: %s", xm_strerror(rc));
	return rc;
}

/* ---- local requests ----------------------------------------------------- */

static void
pending_add(struct replica *r, uint64_t req_id)
{
	if (r->n_pending < sizeof(r->pending) / sizeof(r->pending[0]))
		r->pending[r->n_pending++] = req_id;
}

/* Answer a pending local request once; ids we do not hold are ignored. */
static void
pending_done(struct replica *r, uint64_t req_id, int result, const char *reason)
{
	for (size_t i = 0; i < r->n_pending; i++) {
		if (r->pending[i] != req_id)
			continue;
		r->pending[i] = r->pending[--r->n_pending];
		if (r->ops->request_done != NULL)
			r->ops->request_done(r->ops_data, req_id, result, reason);
		return;
	}
}

/* The membership changed under outstanding requests: their fate is not
 * known here (a lost coordinator may or may not have committed them). */
void
replica_pending_fail_all(struct replica *r, int err, const char *reason)
{
	while (r->n_pending > 0) {
		uint64_t id = r->pending[r->n_pending - 1];

		pending_done(r, id, err, reason);
	}
}

/* ---- updates, requests, refusals ---------------------------------------- */

/*
 * Our own update came back dropped (every member drops it alike: it was
 * decided just before a configuration change, or follows one that was).
 * Without this the coordinator would wait for it for ever (never caught
 * up: no more decisions, no fencing); instead the next update follows the
 * state, and the coordinator decides again from it.
 */
static void
own_update_dropped(struct replica *r, uint32_t sender)
{
	if (sender != r->local_id || r->coordinator != r->local_id ||
	    r->commit_seq <= r->st.seq)
		return;
	replica_log(r, LOG_NOTICE, "own updates after seq %" PRIu64 " dropped: "
		    "deciding again from the state", r->st.seq);
	r->commit_seq = r->st.seq;
	if (r->ops->changed != NULL)
		r->ops->changed(r->ops_data);
}

static void
deliver_update(struct replica *r, uint32_t sender, const Xenmesh__Update *u)
{
	uint64_t epoch = u->epoch, seq = u->seq;
	char why[160] = "";
	int rc;

	if (!r->synced)
		return;         /* the sync round carries it */
	if (sender != replica_lowest_member(r)) {
		replica_log(r, LOG_WARNING, "update from node %" PRIu32
			    ", which is not coordinator, dropped", sender);
		return;
	}
	if ((u->ring->nodeid != r->ring_nodeid || u->ring->seq != r->ring_seq) &&
	    !xm_unsafe("epoch")) {
		replica_log(r, LOG_WARNING, "update epoch %" PRIu64 " seq %"
			    PRIu64 " decided in ring %" PRIu32 ".%" PRIu64
			    ", now %" PRIu32 ".%" PRIu64 ": dropped as stale",
			    u->epoch, u->seq, u->ring->nodeid, u->ring->seq,
			    r->ring_nodeid, r->ring_seq);
		own_update_dropped(r, sender);
		return;
	}
	rc = state_check_order(&r->st, epoch, seq);
	if (rc < 0 && xm_unsafe("epoch")) {
		/* unsafe test build: a stale update is taken as the next one */
		epoch = u->epoch > r->st.epoch ? u->epoch : r->st.epoch;
		seq = r->st.seq + 1;
		rc = 0;
	}
	if (rc < 0) {
		replica_log(r, LOG_WARNING, "update epoch %" PRIu64 " seq %"
			    PRIu64 " out of order (have epoch %" PRIu64 " seq %"
			    PRIu64 "): dropped", u->epoch, u->seq, r->st.epoch,
			    r->st.seq);
		own_update_dropped(r, sender);
		return;
	}
	rc = state_apply(&r->st, epoch, seq, u->op, why, sizeof(why));
	if (rc < 0) {
		/* Every member refuses it alike; the seq still advances so
		 * the coordinator's next update is not a gap. */
		r->st.epoch = epoch;
		r->st.seq = seq;
		replica_log(r, LOG_ERR, "update seq %" PRIu64 " refused: %s",
			    seq, why);
	} else {
		char text[200];
		char who[STATE_NAME_MAX + 16];

		switch (u->op->kind_case) {
		case XENMESH__OP__KIND_NODE_INFO:
			snprintf(text, sizeof(text), "node %s (id %" PRIu32
				 ", %s) registered, %" PRIu64 " MB",
				 u->op->node_info->name, u->op->node_info->id,
				 node_role_name((enum node_role)u->op->node_info->role),
				 u->op->node_info->mem_total_mb);
			break;
		case XENMESH__OP__KIND_NODE_STATE:
			snprintf(text, sizeof(text), "%s is %s%s",
				 replica_node_label(r, u->op->node_state->id, who, sizeof(who)),
				 node_state_name((enum node_state)u->op->node_state->state),
				 u->op->node_state->agent_down ?
				 " (only its agent left: taken back when it returns)" : "");
			break;
		case XENMESH__OP__KIND_NODE_FLAGS:
			snprintf(text, sizeof(text), "%s flags%s%s%s%s%s%s",
				 replica_node_label(r, u->op->node_flags->id, who, sizeof(who)),
				 u->op->node_flags->set & NODE_FLAG_MAINTENANCE ? " +maintenance" : "",
				 u->op->node_flags->set & NODE_FLAG_STANDBY ? " +standby" : "",
				 u->op->node_flags->clear & NODE_FLAG_MAINTENANCE ? " -maintenance" : "",
				 u->op->node_flags->clear & NODE_FLAG_STANDBY ? " -standby" : "",
				 u->op->node_flags->set & NODE_FLAG_STORAGE_FENCED ? " +storage-fenced" : "",
				 u->op->node_flags->clear & NODE_FLAG_STORAGE_FENCED ? " -storage-fenced" : "");
			break;
		case XENMESH__OP__KIND_VM_DEFINE:
			snprintf(text, sizeof(text), "VM %s defined (%" PRIu64 " MB)",
				 u->op->vm_define->name, u->op->vm_define->memory_mb);
			break;
		case XENMESH__OP__KIND_VM_UNDEFINE:
			snprintf(text, sizeof(text), "VM %s undefined",
				 u->op->vm_undefine->name);
			break;
		case XENMESH__OP__KIND_VM_WANT:
			snprintf(text, sizeof(text), "VM %s wanted %s%s%s",
				 u->op->vm_want->name,
				 u->op->vm_want->running ? "running" : "stopped",
				 u->op->vm_want->has_host && u->op->vm_want->host ? " on " : "",
				 u->op->vm_want->has_host && u->op->vm_want->host ?
				 replica_node_label(r, u->op->vm_want->host, who, sizeof(who)) : "");
			break;
		case XENMESH__OP__KIND_VM_SET:
			snprintf(text, sizeof(text), "VM %s %s%s%s", u->op->vm_set->name,
				 u->op->vm_set->state,
				 u->op->vm_set->has_host && u->op->vm_set->host ? " on " : "",
				 u->op->vm_set->has_host && u->op->vm_set->host ?
				 replica_node_label(r, u->op->vm_set->host, who, sizeof(who)) : "");
			break;
		case XENMESH__OP__KIND_VM_CLEANUP:
			snprintf(text, sizeof(text), "VM %s cleaned up",
				 u->op->vm_cleanup->name);
			break;
		case XENMESH__OP__KIND_FENCE_CONFIG:
			snprintf(text, sizeof(text), "fence configuration replaced");
			break;
		case XENMESH__OP__KIND_VOLUME_CREATE:
			snprintf(text, sizeof(text), "volume %s-%s of %" PRIu64 " bytes requested",
				 u->op->volume_create->vm, u->op->volume_create->disk,
				 u->op->volume_create->size_bytes);
			break;
		case XENMESH__OP__KIND_VOLUME_SET:
			snprintf(text, sizeof(text), "volume %s %s%s%.120s",
				 u->op->volume_set->name, u->op->volume_set->state,
				 u->op->volume_set->reason ? ": " : "",
				 u->op->volume_set->reason ? u->op->volume_set->reason : "");
			break;
		case XENMESH__OP__KIND_VOLUME_REMOVE:
			snprintf(text, sizeof(text), "volume %s removed",
				 u->op->volume_remove->name);
			break;
		case XENMESH__OP__KIND_SAN_ACTIVE:
			snprintf(text, sizeof(text), "active SAN node: %s",
				 u->op->san_active->id ? replica_node_label(r, u->op->san_active->id,
				 who, sizeof(who)) : "none");
			break;
		case XENMESH__OP__KIND_VM_STORAGE:
			snprintf(text, sizeof(text), "VM %s storage admits generation %" PRIu64,
				 u->op->vm_storage->name, u->op->vm_storage->generation);
			break;
		case XENMESH__OP__KIND_CONFIRM_DOWN:
			/* also where `fence history` looks, on every member */
			confirm_op_text(&r->st, u->op, text, sizeof(text));
			replica_event(r, u->op->confirm_down->host, "fence", "%s", text);
			break;
		case XENMESH__OP__KIND_FENCE_FAILING:
			confirm_op_text(&r->st, u->op, text, sizeof(text));
			replica_event(r, u->op->fence_failing->host, "fence", "%s", text);
			break;
		default:
			snprintf(text, sizeof(text), "update of kind %d",
				 (int)u->op->kind_case);
			break;
		}
		if (u->has_uid && u->has_origin)
			replica_event(r, 0, "state", "%s (by uid %" PRIu32
				      " on node %" PRIu32 ")", text, u->uid,
				      u->origin);
		else
			replica_event(r, 0, "state", "%s", text);
	}
	if (r->ops->persist != NULL)
		r->ops->persist(r->ops_data, &r->st);
	if (u->has_origin && u->origin == r->local_id && u->has_req_id)
		pending_done(r, u->req_id, rc, rc < 0 ? why : NULL);
	if (rc == 0 && u->op->kind_case == XENMESH__OP__KIND_NODE_STATE &&
	    u->op->node_state->id == r->local_id &&
	    u->op->node_state->state == XENMESH__NODE_STATE__NODE_UNCLEAN &&
	    r->ops->self_unclean != NULL)
		r->ops->self_unclean(r->ops_data);
	/* a fence confirmed for a host that is back in the group: online */
	if (rc == 0 && u->op->kind_case == XENMESH__OP__KIND_NODE_STATE &&
	    replica_is_coordinator(r) && replica_caught_up(r))
		replica_coord_reconcile(r);
	if (r->ops->changed != NULL)
		r->ops->changed(r->ops_data);
}

static void
send_refusal(struct replica *r, uint32_t origin, uint64_t req_id, int err,
	     const char *reason)
{
	Xenmesh__Envelope env;
	Xenmesh__Refusal ref;

	xenmesh__refusal__init(&ref);
	ref.origin = origin;
	ref.req_id = req_id;
	ref.error = err;
	ref.reason = (char *)reason;
	replica_envelope_init(r, &env);
	env.body_case = XENMESH__ENVELOPE__BODY_REFUSAL;
	env.refusal = &ref;
	(void)replica_mcast(r, &env);
}

static void
deliver_request(struct replica *r, uint32_t sender, const Xenmesh__Request *q)
{
	char why[160] = "";
	int rc;

	if (r->coordinator != r->local_id || r->local_id == 0)
		return;
	if ((q->ring->nodeid != r->ring_nodeid || q->ring->seq != r->ring_seq) &&
	    !xm_unsafe("epoch")) {
		replica_log(r, LOG_WARNING, "request %" PRIu64 " from node %"
			    PRIu32 " made in ring %" PRIu32 ".%" PRIu64
			    ": refused as stale", q->req_id, sender,
			    q->ring->nodeid, q->ring->seq);
		send_refusal(r, sender, q->req_id, XM_ESTALE,
			     "request made in an older cluster configuration");
		return;
	}
	if (q->event != NULL) {
		if (r->ops->host_event != NULL)
			r->ops->host_event(r->ops_data, sender, q->event);
		return;
	}
	if (q->op == NULL) {
		send_refusal(r, sender, q->req_id, -EINVAL,
			     "request carries neither an operation nor an event");
		return;
	}
	rc = state_validate(&r->st, q->op, why, sizeof(why));
	if (rc < 0) {
		send_refusal(r, sender, q->req_id, rc, why);
		return;
	}
	(void)replica_coord_commit(r, q->op, sender, q->req_id,
				 q->has_uid ? q->uid : 0);
}

static void
deliver_refusal(struct replica *r, uint32_t sender, const Xenmesh__Refusal *m)
{
	if (m->origin != r->local_id)
		return;
	if (m->error >= 0) {
		replica_log(r, LOG_WARNING, "refusal from node %" PRIu32
			    " with error %" PRId32 ", dropped", sender, m->error);
		return;
	}
	pending_done(r, m->req_id, m->error, m->reason);
}

static void
deliver_checked(struct replica *r, uint32_t sender, const Xenmesh__Envelope *env)
{
	if (env->sender != sender) {
		replica_log(r, LOG_WARNING, "message claims sender %" PRIu32
			    " but came from node %" PRIu32 ", dropped",
			    env->sender, sender);
		return;
	}
	switch (env->body_case) {
	case XENMESH__ENVELOPE__BODY_OFFER:
		replica_sync_deliver_offer(r, sender, env->offer);
		break;
	case XENMESH__ENVELOPE__BODY_CHUNK:
		replica_sync_deliver_chunk(r, sender, env->chunk);
		break;
	case XENMESH__ENVELOPE__BODY_UPDATE:
		deliver_update(r, sender, env->update);
		break;
	case XENMESH__ENVELOPE__BODY_REQUEST:
		deliver_request(r, sender, env->request);
		break;
	case XENMESH__ENVELOPE__BODY_REFUSAL:
		deliver_refusal(r, sender, env->refusal);
		break;
	default:
		replica_log(r, LOG_WARNING, "message of unknown kind %d from node %"
			    PRIu32 ", dropped", (int)env->body_case, sender);
		break;
	}
}

static const char *
body_name(Xenmesh__Envelope__BodyCase body)
{
	switch (body) {
	case XENMESH__ENVELOPE__BODY_OFFER:
		return "sync offer";
	case XENMESH__ENVELOPE__BODY_CHUNK:
		return "sync chunk";
	case XENMESH__ENVELOPE__BODY_UPDATE:
		return "update";
	case XENMESH__ENVELOPE__BODY_REQUEST:
		return "request";
	case XENMESH__ENVELOPE__BODY_REFUSAL:
		return "refusal";
	case XENMESH__ENVELOPE__BODY_HEARTBEAT:
		return "heartbeat";
	default:
		return "message";
	}
}

/* The process bound to speak for node nodeid in this membership. */
static bool
agent_of(const struct replica *r, uint32_t nodeid, uint32_t *pid)
{
	for (size_t i = 0; i < r->n_agents; i++) {
		if (r->agents[i].nodeid == nodeid) {
			*pid = r->agents[i].pid;
			return true;
		}
	}
	return false;
}

static bool
round_has_offer(const struct replica *r, uint32_t nodeid)
{
	for (size_t i = 0; i < r->round.n_members; i++)
		if (r->round.members[i] == nodeid)
			return r->round.have[i];
	return false;
}

/*
 * CPG says which process sent a frame; the node id alone does not tell the
 * agent from any other member on its node.  The agent of a node is the
 * process whose sync offer this membership's round took (an old offer
 * names an old view and is not taken), so a frame some other process
 * multicasts again, however well it passes the checks of its kind, is
 * dropped here.  Before a node's offer nothing but the offer counts: all
 * else waits for the sync round anyway.
 */
static bool
sender_is_agent(struct replica *r, uint32_t nodeid, uint32_t pid,
		const Xenmesh__Envelope *env)
{
	uint32_t agent;

	if (!agent_of(r, nodeid, &agent))
		return env->body_case == XENMESH__ENVELOPE__BODY_OFFER;
	if (agent == pid)
		return true;
	replica_log(r, LOG_WARNING, "%s from process %" PRIu32 " of node %" PRIu32
		    ", which is not that node's agent (process %" PRIu32 "), "
		    "dropped", body_name(env->body_case), pid, nodeid, agent);
	return false;
}

void
replica_deliver_from(struct replica *r, uint32_t nodeid, uint32_t pid,
		     const Xenmesh__Envelope *env)
{
	uint32_t agent;
	bool binds;

	/* (the unsafe test build's "epoch" takes frames from anyone) */
	if (!xm_unsafe("epoch") && !sender_is_agent(r, nodeid, pid, env))
		return;
	binds = env->body_case == XENMESH__ENVELOPE__BODY_OFFER && r->joined &&
		!r->synced && !agent_of(r, nodeid, &agent) &&
		!round_has_offer(r, nodeid);
	deliver_checked(r, nodeid, env);
	if (binds && round_has_offer(r, nodeid) && r->n_agents < SYNC_MAX_MEMBERS) {
		r->agents[r->n_agents].nodeid = nodeid;
		r->agents[r->n_agents++].pid = pid;
	}
}

void
replica_deliver(struct replica *r, uint32_t sender, const Xenmesh__Envelope *env)
{
	uint32_t pid = 0;

	if (!agent_of(r, sender, &pid)) {
		for (size_t i = 0; i < r->n_members; i++) {
			if (r->members[i].nodeid == sender &&
			    !replica_is_excluded(r, sender, r->members[i].pid)) {
				pid = r->members[i].pid;
				break;
			}
		}
	}
	replica_deliver_from(r, sender, pid, env);
}

/* ---- requests from this node -------------------------------------------- */

/* To the coordinator: directly when that is us, else through the group. */
int
replica_submit(struct replica *r, Xenmesh__Op *op, uint64_t req_id, uint32_t uid)
{
	Xenmesh__Envelope env;
	Xenmesh__Request q;
	Xenmesh__RingId ring;

	if (r->coordinator == r->local_id)
		return replica_coord_commit(r, op, req_id ? r->local_id : 0,
					  req_id, uid);
	xenmesh__request__init(&q);
	replica_ring_fill(r, &ring);
	q.req_id = req_id;
	q.op = op;
	q.ring = &ring;
	q.has_uid = true;
	q.uid = uid;
	replica_envelope_init(r, &env);
	env.body_case = XENMESH__ENVELOPE__BODY_REQUEST;
	env.request = &q;
	return replica_mcast(r, &env);
}

int64_t
replica_request(struct replica *r, const Xenmesh__Op *op, uint32_t uid,
		char *why, size_t whylen)
{
	uint64_t id;
	int rc;

	if (!r->joined || !r->synced) {
		snprintf(why, whylen, "%s", xm_strerror(XM_ESYNCING));
		return XM_ESYNCING;
	}
	if (!r->quorum.quorate) {
		snprintf(why, whylen, "no quorum: %s", r->quorum.reason);
		return XM_ENOQUORUM;
	}
	if (r->coordinator == 0) {
		snprintf(why, whylen, "%s", xm_strerror(XM_ENOCOORD));
		return XM_ENOCOORD;
	}
	rc = state_validate(&r->st, op, why, whylen);
	if (rc < 0)
		return rc;
	if (r->n_pending >= sizeof(r->pending) / sizeof(r->pending[0])) {
		snprintf(why, whylen, "too many changes in flight, try again");
		return -EBUSY;
	}
	id = r->next_req_id++;
	rc = replica_submit(r, (Xenmesh__Op *)op, id, uid);
	if (rc < 0) {
		snprintf(why, whylen, "cannot reach the group: %s", xm_strerror(rc));
		return rc;
	}
	pending_add(r, id);
	return (int64_t)id;
}

void
replica_tick(struct replica *r, uint64_t now_ms)
{
	if (!r->synced || r->coordinator == 0 || now_ms - r->announced_ms < 2000)
		return;
	r->announced_ms = now_ms;
	replica_announce(r);
}

bool
replica_is_coordinator(const struct replica *r)
{
	return r->coordinator != 0 && r->coordinator == r->local_id;
}

int
replica_commit(struct replica *r, Xenmesh__Op *op)
{
	if (!replica_is_coordinator(r) || !r->synced)
		return XM_ENOCOORD;
	return replica_coord_commit(r, op, 0, 0, 0);
}

bool
replica_caught_up(const struct replica *r)
{
	return r->commit_seq <= r->st.seq;
}

int
replica_report(struct replica *r, const Xenmesh__HostEvent *ev)
{
	Xenmesh__Envelope env;
	Xenmesh__Request q;
	Xenmesh__RingId ring;

	if (!r->joined || !r->synced)
		return XM_ESYNCING;
	if (r->coordinator == 0)
		return XM_ENOCOORD;
	if (r->coordinator == r->local_id) {
		if (r->ops->host_event != NULL)
			r->ops->host_event(r->ops_data, r->local_id, ev);
		return 0;
	}
	xenmesh__request__init(&q);
	replica_ring_fill(r, &ring);
	q.req_id = 0;
	q.ring = &ring;
	q.event = (Xenmesh__HostEvent *)ev;
	replica_envelope_init(r, &env);
	env.body_case = XENMESH__ENVELOPE__BODY_REQUEST;
	env.request = &q;
	return replica_mcast(r, &env);
}

/* ---- life cycle ---------------------------------------------------------- */

void
replica_init(struct replica *r, uint32_t local_id, const struct replica_ops *ops,
	     void *ops_data, size_t chunk_max)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ops_data = ops_data;
	r->local_id = local_id;
	r->chunk_max = chunk_max > 0 ? chunk_max : 1;
	r->next_req_id = 1;
	state_init(&r->st);
	snprintf(r->quorum.reason, sizeof(r->quorum.reason), "not connected yet");
	snprintf(r->quorum.ha_reason, sizeof(r->quorum.ha_reason), "not connected yet");
}

void
replica_free(struct replica *r)
{
	if (r == NULL)
		return;
	sync_assembly_reset(&r->assembly);
	state_free(&r->st);
}

int
replica_load(struct replica *r, const struct state *s)
{
	struct state copy;
	int rc;

	state_init(&copy);
	rc = state_copy(&copy, s);
	if (rc < 0)
		return rc;
	state_free(&r->st);
	r->st = copy;
	return 0;
}
