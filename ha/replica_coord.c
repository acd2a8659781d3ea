/* The coordinator's side of the replica: committing updates, bringing
 * the node table in line with the membership, choosing the coordinator;
 * and each member announcing itself.  See replica.c for the order rules. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "replica.h"
#include "replica_int.h"

/* ---- coordinator -------------------------------------------------------- */

/* Multicast an update; the change takes effect when it is delivered. */
int
replica_coord_commit(struct replica *r, Xenmesh__Op *op, uint32_t origin,
		   uint64_t req_id, uint32_t uid)
{
	Xenmesh__Envelope env;
	Xenmesh__Update up;
	Xenmesh__RingId ring;
	int rc;

	xenmesh__update__init(&up);
	replica_ring_fill(r, &ring);
	up.epoch = r->commit_epoch;
	up.seq = r->commit_seq + 1;
	up.ring = &ring;
	up.op = op;
	if (origin != 0) {
		up.has_origin = true;
		up.origin = origin;
		up.has_req_id = true;
		up.req_id = req_id;
		up.has_uid = true;
		up.uid = uid;
	}
	replica_envelope_init(r, &env);
	env.body_case = XENMESH__ENVELOPE__BODY_UPDATE;
	env.update = &up;
	rc = replica_mcast(r, &env);
	if (rc == 0)
		r->commit_seq++;
	return rc;
}

static int
left_reason_of(const struct replica *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_left; i++)
		if (r->left_id[i] == id)
			return r->left_reason[i];
	return 0;
}

/* Marking a node unclean whose agent alone left, the state says so when
 * every member can record it: a later coordinator, the restarted agent
 * itself when it is elected at once, then knows it too. */
static void
coordinator_set_state(struct replica *r, uint32_t id, enum node_state st)
{
	Xenmesh__Op op;
	Xenmesh__OpNodeState ns;
	char who[STATE_NAME_MAX + 16];

	xenmesh__op__init(&op);
	xenmesh__op_node_state__init(&ns);
	ns.id = id;
	ns.state = (Xenmesh__NodeState)st;
	if (st == NODE_STATE_UNCLEAN && left_reason_of(r, id) == MEMBER_PROCDOWN &&
	    (r->ops->agent_down_known == NULL ||
	     r->ops->agent_down_known(r->ops_data))) {
		ns.has_agent_down = true;
		ns.agent_down = true;
	}
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	replica_log(r, LOG_NOTICE, "marking %s %s%s",
		    replica_node_label(r, id, who, sizeof(who)), node_state_name(st),
		    ns.agent_down ? " (only its agent left)" : "");
	(void)replica_coord_commit(r, &op, 0, 0, 0);
}

/* A dom0 in maintenance (or leaving) that no VM is on, starting on, or migrating to:
 * no domain of ours can run there and no target admits it, so its fence
 * would protect nothing (the last host of a cluster stopped as a whole
 * leaves without quorum: nobody can record that it left cleanly). */
static bool
holds_nothing(const struct state *st, const struct node_rec *n)
{
	if (n->role != NODE_ROLE_DOM0 ||
	    !(n->flags & (NODE_FLAG_MAINTENANCE | NODE_FLAG_LEAVING)))
		return false;
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];

		if (v->state == VM_STATE_STOPPED || v->state == VM_STATE_UNPLACEABLE)
			continue;
		if (v->host == n->id || v->migrate_to == n->id ||
		    v->storage_dest == n->id)
			return false;
	}
	return true;
}

/*
 * Bring the node table in line with the membership: members are online;
 * a node that was online and is gone is offline after a clean leave and
 * unclean otherwise (including when this coordinator never saw it go),
 * unless it holds nothing.
 */
void
replica_coord_reconcile(struct replica *r)
{
	for (size_t i = 0; i < r->st.n_nodes; i++) {
		const struct node_rec *n = &r->st.nodes[i];

		if (replica_is_member(r, n->id)) {
			/* Back in the group.  A host that went down uncleanly
			 * stays unclean until its fence is confirmed (it may
			 * still write); when only its agent died (seen here,
			 * or recorded by the coordinator that saw it), the
			 * agent re-adopts its domains within the grace period. */
			if (n->state == NODE_STATE_UNCLEAN &&
			    left_reason_of(r, n->id) != MEMBER_PROCDOWN &&
			    !(n->flags & NODE_FLAG_AGENT_DOWN))
				continue;
			if (n->state != NODE_STATE_ONLINE)
				coordinator_set_state(r, n->id, NODE_STATE_ONLINE);
			continue;
		}
		if (n->state != NODE_STATE_ONLINE)
			continue;
		if (left_reason_of(r, n->id) == MEMBER_LEAVE ||
		    holds_nothing(&r->st, n))
			coordinator_set_state(r, n->id, NODE_STATE_OFFLINE);
		else
			coordinator_set_state(r, n->id, NODE_STATE_UNCLEAN);
	}
}

/* ---- announcing ourselves ----------------------------------------------- */

/* Tell the coordinator what we are, unless the table already says so. */
void
replica_announce(struct replica *r)
{
	Xenmesh__OpNodeInfo info;
	Xenmesh__Op op;
	const struct node_rec *n;

	if (r->ops->node_info == NULL)
		return;
	xenmesh__op_node_info__init(&info);
	r->ops->node_info(r->ops_data, &info);
	info.id = r->local_id;
	n = state_node(&r->st, r->local_id);
	if (n != NULL && strcmp(n->name, info.name) == 0 &&
	    n->role == (enum node_role)info.role &&
	    n->mem_total_mb == info.mem_total_mb &&
	    n->mem_free_mb == info.mem_free_mb &&
	    strcmp(n->cpu, info.cpu ? info.cpu : "") == 0 &&
	    strcmp(n->peer_addr, info.peer_addr ? info.peer_addr : "") == 0)
		return;
	xenmesh__op__init(&op);
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &info;
	(void)replica_submit(r, &op, 0, 0);
}

/* Is the quorum verdict for the ring we are in?  votequorum finishes its
 * sync after CPG: in between, a node cut off still holds the old ring's
 * "quorate" while its CPG round is already over. */
static bool
quorum_is_current(const struct replica *r)
{
	return !r->quorum_ring_tracked ||
	       (r->quorum_ring_nodeid == r->ring_nodeid &&
		r->quorum_ring_seq == r->ring_seq);
}

/*
 * Recompute the coordinator.  The new (or, after a sync round, the same)
 * coordinator reconciles the node table, and every member announces
 * itself; in between, a repeated call (a quorum callback) does not send
 * the same updates again.
 */
void
replica_update_coordinator(struct replica *r, bool after_sync)
{
	uint32_t next = 0;
	char who[STATE_NAME_MAX + 16];
	bool changed;

	if (r->synced && r->quorum.quorate && quorum_is_current(r) && !r->stalled &&
	    !r->doomed)
		next = replica_lowest_member(r);
	changed = next != r->coordinator;
	if (changed) {
		r->coordinator = next;
		if (next == 0) {
			replica_event(r, 0, "coordinator", "no coordinator: %s",
				      !r->quorum.quorate ? r->quorum.reason :
				      r->doomed ? "this host has begun its self-fence" :
				      r->stalled ? "own heartbeat not back (corosync stalled?)" :
				      "sync in progress");
		} else {
			replica_event(r, next, "coordinator",
				      "coordinator is %s",
				      replica_node_label(r, next, who, sizeof(who)));
			replica_log(r, LOG_NOTICE, "coordinator is %s%s", who,
				    next == r->local_id ? " (this node)" : "");
		}
		if (next == r->local_id) {
			/* A new term: its first update carries a higher epoch. */
			r->commit_epoch = r->st.epoch + 1;
			r->commit_seq = r->st.seq;
		}
	}
	if (r->coordinator == 0 || (!changed && !after_sync))
		return;
	if (r->coordinator == r->local_id)
		replica_coord_reconcile(r);
	replica_announce(r);
}
