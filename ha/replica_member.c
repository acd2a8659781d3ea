/* The replica's inputs from corosync other than messages: membership
 * changes (each starts a sync round), the ring id, the quorum verdict, a
 * stalled heartbeat, a peer of another protocol, the lost connection. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "replica.h"
#include "replica_int.h"
#include "xm_error.h"

static void
left_note(struct replica *r, uint32_t id, int reason)
{
	for (size_t i = 0; i < r->n_left; i++) {
		if (r->left_id[i] == id) {
			r->left_reason[i] = (uint8_t)reason;
			return;
		}
	}
	if (r->n_left < STATE_MAX_NODES) {
		r->left_id[r->n_left] = id;
		r->left_reason[r->n_left++] = (uint8_t)reason;
	}
}

static const char *
reason_name(int reason)
{
	switch (reason) {
	case MEMBER_JOIN:
		return "join";
	case MEMBER_LEAVE:
		return "clean leave";
	case MEMBER_NODEDOWN:
		return "node down";
	case MEMBER_NODEUP:
		return "node up";
	case MEMBER_PROCDOWN:
		return "agent down";
	}
	return "unknown reason";
}

static void excluded_prune(struct replica *r, const struct sync_member *members,
			   size_t n);

void
replica_confchg(struct replica *r, const struct sync_member *members,
		size_t n_members, const struct sync_member *left,
		const int *left_reason, size_t n_left)
{
	char who[STATE_NAME_MAX + 16];

	if (n_members > SYNC_MAX_MEMBERS) {
		replica_log(r, LOG_ERR, "%zu members exceed the limit of %d; "
			    "ignoring the change", n_members, SYNC_MAX_MEMBERS);
		return;
	}
	for (size_t i = 0; i < n_left; i++) {
		if (left[i].nodeid == r->local_id)
			continue;
		left_note(r, left[i].nodeid, left_reason[i]);
		replica_event(r, left[i].nodeid, "membership", "%s left (%s)",
			      replica_node_label(r, left[i].nodeid, who, sizeof(who)),
			      reason_name(left_reason[i]));
	}
	for (size_t i = 0; i < n_members; i++) {
		if (members[i].nodeid == r->local_id || replica_is_member(r, members[i].nodeid))
			continue;
		/* the reason it left is kept: the coordinator needs it to
		 * tell a restarted agent from a host that went down */
		replica_event(r, members[i].nodeid, "membership", "%s joined",
			      replica_node_label(r, members[i].nodeid, who, sizeof(who)));
	}
	excluded_prune(r, members, n_members);
	memcpy(r->members, members, n_members * sizeof(*members));
	r->n_members = n_members;
	r->n_agents = 0;        /* each speaks again by its offer */
	r->joined = replica_is_member(r, r->local_id);
	r->view = sync_view_hash(members, n_members);
	r->synced = false;
	sync_assembly_reset(&r->assembly);
	memset(&r->decision, 0, sizeof(r->decision));
	replica_pending_fail_all(r, XM_ESYNCING, "cluster membership changed before "
			 "the change was confirmed; check `agentctl status`");
	replica_update_coordinator(r, false);
	if (!r->joined || n_members == 0)
		return;
	if (sync_round_start(&r->round, r->view, members, n_members) < 0)
		return;
	for (size_t i = 0; i < r->n_excluded; i++)
		if (!replica_is_member(r, r->excluded[i].nodeid))
			(void)sync_round_exclude(&r->round, r->excluded[i].nodeid);
	replica_sync_offer(r);
}

/* Keep exclusions only for processes still in the group. */
static void
excluded_prune(struct replica *r, const struct sync_member *members, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n_excluded; i++) {
		for (size_t j = 0; j < n; j++) {
			if (members[j].nodeid == r->excluded[i].nodeid &&
			    members[j].pid == r->excluded[i].pid) {
				r->excluded[k++] = r->excluded[i];
				break;
			}
		}
	}
	r->n_excluded = k;
}

void
replica_peer_incompatible(struct replica *r, uint32_t nodeid, uint32_t pid)
{
	if (replica_is_excluded(r, nodeid, pid) || r->n_excluded >= SYNC_MAX_MEMBERS)
		return;
	r->excluded[r->n_excluded].nodeid = nodeid;
	r->excluded[r->n_excluded++].pid = pid;
	replica_log(r, LOG_WARNING, "process %" PRIu32 " of node %" PRIu32
		    " left out of the sync round and the coordinator choice: "
		    "incompatible protocol", pid, nodeid);
	/* the round waits for one offer per node: another process of that
	 * node (its agent) may still give it */
	if (!r->joined || r->synced || replica_is_member(r, nodeid))
		return;
	(void)sync_round_exclude(&r->round, nodeid);
	if (sync_round_complete(&r->round))
		replica_sync_decided(r);
}

void
replica_ring(struct replica *r, uint32_t nodeid, uint64_t seq)
{
	r->ring_nodeid = nodeid;
	r->ring_seq = seq;
	if (r->quorum_ring_tracked)
		replica_update_coordinator(r, false);
}

void
replica_stalled(struct replica *r, bool stalled)
{
	if (stalled == r->stalled)
		return;
	r->stalled = stalled;
	replica_log(r, stalled ? LOG_WARNING : LOG_NOTICE, "%s",
		    stalled ? "own heartbeat not back through the group: acting "
			      "for the cluster stops until it is" :
			      "own heartbeat back through the group");
	replica_update_coordinator(r, false);
}

void
replica_doomed(struct replica *r)
{
	if (r->doomed)
		return;
	r->doomed = true;
	replica_update_coordinator(r, false);
}

void
replica_quorum_ring(struct replica *r, uint32_t nodeid, uint64_t seq)
{
	r->quorum_ring_tracked = true;
	r->quorum_ring_nodeid = nodeid;
	r->quorum_ring_seq = seq;
}

void
replica_quorum(struct replica *r, const struct quorum_verdict *v)
{
	bool changed = v->quorate != r->quorum.quorate ||
		       v->ha_enabled != r->quorum.ha_enabled ||
		       strcmp(v->reason, r->quorum.reason) != 0;

	r->quorum = *v;
	if (changed) {
		if (v->quorate)
			replica_event(r, 0, "quorum", "quorate%s%s",
				      v->ha_enabled ? "" : "; HA disabled: ",
				      v->ha_enabled ? "" : v->ha_reason);
		else
			replica_event(r, 0, "quorum", "not quorate: %s", v->reason);
	}
	replica_update_coordinator(r, false);
}

void
replica_disconnected(struct replica *r)
{
	struct quorum_verdict v;

	memset(&v, 0, sizeof(v));
	snprintf(v.reason, sizeof(v.reason), "no connection to corosync");
	snprintf(v.ha_reason, sizeof(v.ha_reason), "no connection to corosync");
	r->n_members = 0;
	r->n_agents = 0;
	r->joined = false;
	r->synced = false;
	sync_assembly_reset(&r->assembly);
	replica_pending_fail_all(r, XM_ENOQUORUM, "lost the connection to corosync");
	replica_quorum(r, &v);
}

