/* The replicated state machine: sync round, coordinator, updates.
 *
 * Pure logic driven by membership events and delivered messages; it talks
 * to the world only through replica_ops (multicast, persist, event log,
 * request completion), so cmocka can drive it the way corosync's vqsim
 * drives votequorum.  The agent glue in agent/cluster.c feeds it CPG and
 * votequorum callbacks.
 */
#ifndef XM_REPLICA_H
#define XM_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "quorum_rules.h"
#include "state.h"
#include "sync.h"
#include "xenmesh.pb-c.h"

/* CPG left-list reasons (values of corosync's CPG_REASON_*). */
enum member_reason {
	MEMBER_JOIN = 1,
	MEMBER_LEAVE = 2,       /* clean cpg_leave */
	MEMBER_NODEDOWN = 3,
	MEMBER_NODEUP = 4,
	MEMBER_PROCDOWN = 5,
};

struct replica_ops {
	/* Multicast env to the group (agreed order).  0 or -errno. */
	int (*mcast)(void *data, const Xenmesh__Envelope *env);
	/* The state changed (update applied or snapshot adopted). */
	void (*persist)(void *data, const struct state *s);
	void (*event)(void *data, uint64_t epoch, uint64_t seq, uint32_t node,
		      const char *kind, const char *text);
	/* A local request finished: 0, or negative error with reason. */
	void (*request_done)(void *data, uint64_t req_id, int result,
			     const char *reason);
	/* What this node says of itself when the sync round ends.  The
	 * strings it sets must stay valid until the next call. */
	void (*node_info)(void *data, Xenmesh__OpNodeInfo *info);
	/* A decision worth a log line (syslog priority). */
	void (*log)(void *data, int prio, const char *text);
	/* The state changed (update applied, snapshot adopted) or the
	 * sync round ended: time to look at it again. */
	void (*changed)(void *data);
	/* An update marked this very node unclean while it is a member: the
	 * cluster is fencing it (a snapshot adopted at a rejoin does not
	 * count: that node was gone, not fenced alive). */
	void (*self_unclean)(void *data);
	/* Does every agent of the group record that only a host's agent
	 * left (OpNodeState agent_down, protocol 1.4)?  NULL: yes. */
	bool (*agent_down_known)(void *data);
	/* Coordinator only: a host reported an event about a domain. */
	void (*host_event)(void *data, uint32_t host, const Xenmesh__HostEvent *ev);
};

struct replica {
	const struct replica_ops *ops;
	void *ops_data;
	uint32_t local_id;

	struct state st;

	/* membership */
	struct sync_member members[SYNC_MAX_MEMBERS];
	size_t n_members;
	uint64_t view;
	uint32_t ring_nodeid;
	uint64_t ring_seq;
	/* the ring the quorum verdict is for (replica_quorum_ring): no
	 * coordinator while it is not the current ring; untracked (tests
	 * that never say) is taken as current */
	bool stalled;           /* own heartbeat not back: no coordinator */
	bool doomed;            /* self-fence begun: never coordinator again */
	bool quorum_ring_tracked;
	uint32_t quorum_ring_nodeid;
	uint64_t quorum_ring_seq;
	/* last left-reason per node id seen since it was last a member */
	uint8_t left_reason[STATE_MAX_NODES];
	uint32_t left_id[STATE_MAX_NODES];
	size_t n_left;
	/* members that speak another protocol major: not waited for, never
	 * coordinator, until they leave */
	struct sync_member excluded[SYNC_MAX_MEMBERS];
	size_t n_excluded;
	/* who speaks for each member node: the process whose offer the sync
	 * round of this membership took; frames of any other process of that
	 * node (a replay by another member, a stray tool) are dropped */
	struct sync_member agents[SYNC_MAX_MEMBERS];
	size_t n_agents;

	/* sync round */
	bool joined;            /* our own join seen */
	bool synced;
	struct sync_round round;
	struct sync_decision decision;
	struct sync_assembly assembly;
	size_t chunk_max;

	/* quorum and coordinator */
	struct quorum_verdict quorum;
	uint32_t coordinator;
	uint64_t commit_epoch;  /* epoch of this coordinator's term */
	uint64_t commit_seq;    /* last seq it multicast */
	uint64_t next_req_id;
	uint64_t announced_ms;  /* when we last told the coordinator what we are */
	/* local requests not answered yet */
	uint64_t pending[64];
	size_t n_pending;
};

void replica_init(struct replica *r, uint32_t local_id,
		  const struct replica_ops *ops, void *ops_data,
		  size_t chunk_max);
void replica_free(struct replica *r);

/* Start from a state loaded from disk (before joining). */
int replica_load(struct replica *r, const struct state *s);

/* CPG confchg: the full member list after the change, and who left why. */
void replica_confchg(struct replica *r,
		     const struct sync_member *members, size_t n_members,
		     const struct sync_member *left, const int *left_reason,
		     size_t n_left);
/* Totem ring id (cpg totem confchg). */
void replica_ring(struct replica *r, uint32_t nodeid, uint64_t seq);
/* New verdict of the quorum rules. */
void replica_quorum(struct replica *r, const struct quorum_verdict *v);
/* Our own heartbeat is (not) coming back through the group: while it
 * does not (a stalled corosync), this node coordinates nothing. */
void replica_stalled(struct replica *r, bool stalled);
/* This host has begun its self-fence and resets soon: it acts for the
 * cluster no more, even if quorum comes back first. */
void replica_doomed(struct replica *r);
/* The next quorum verdicts are votequorum's for this totem ring. */
void replica_quorum_ring(struct replica *r, uint32_t nodeid, uint64_t seq);
/* Connection to corosync lost: not quorate, no membership. */
void replica_disconnected(struct replica *r);

/* A CPG message was delivered from process pid of node nodeid (frame
 * already checked and unpacked). */
void replica_deliver_from(struct replica *r, uint32_t nodeid, uint32_t pid,
			  const Xenmesh__Envelope *env);
/* The same from the agent of node sender, for a caller that does not know
 * its process (the unit tests' fake group). */
void replica_deliver(struct replica *r, uint32_t sender,
		     const Xenmesh__Envelope *env);

/* A member sent a frame of another protocol major: the sync round stops
 * waiting for it and it cannot be coordinator while it stays. */
void replica_peer_incompatible(struct replica *r, uint32_t nodeid, uint32_t pid);

/*
 * A local change request (from agentctl).  Returns the request id (> 0),
 * completed later through ops->request_done; or a negative error at once
 * (XM_ENOQUORUM, XM_ESYNCING, XM_ENOCOORD, validation errors with why).
 */
int64_t replica_request(struct replica *r, const Xenmesh__Op *op,
			uint32_t uid, char *why, size_t whylen);

bool replica_is_coordinator(const struct replica *r);

/* Called about once a second with a monotonic clock: repeats this node's
 * announcement while the table does not show it (a request delivered
 * before the coordinator knew it was one is dropped: quorum and CPG
 * callbacks are not ordered). */
void replica_tick(struct replica *r, uint64_t now_ms);

/* Coordinator only: commit a decision.  XM_ENOCOORD when not coordinator. */
int replica_commit(struct replica *r, Xenmesh__Op *op);
/* No update of ours is still on its way back (decisions are taken on a
 * state that has everything we committed). */
bool replica_caught_up(const struct replica *r);
/* Tell the coordinator what happened to a domain here (directly when we
 * are the coordinator).  XM_ESYNCING / XM_ENOCOORD when nobody listens. */
int replica_report(struct replica *r, const Xenmesh__HostEvent *ev);

#endif
