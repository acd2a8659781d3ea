/* The replicated state machine driven through a simulated CPG.
 *
 * Like corosync's vqsim: the real replica code, a fake group underneath.
 * The fake delivers every multicast to every member of the sender's
 * partition in one total order, and membership changes as CPG does, so
 * these tests exercise the sync round, the coordinator and the update
 * filters exactly as the agent runs them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replica.h"
#include "xm_error.h"

#define SIM_NODES 8
#define SIM_QUEUE 4096

struct sim;

struct sim_node {
	struct sim *sim;
	uint32_t id;
	bool up;                /* agent running and joined */
	bool foreign;           /* a member speaking another protocol major */
	int part;               /* partition it is in */
	struct replica rep;
	char name[16];
	uint64_t done_id;
	int done_result;
	char done_reason[200];
	int n_done;
	int n_persist;
};

struct sim_msg {
	int part;
	uint32_t sender;
	uint8_t *buf;
	size_t len;
};

struct sim {
	struct sim_node nodes[SIM_NODES + 1];   /* index = node id */
	int n;
	struct sim_msg queue[SIM_QUEUE];
	size_t head, tail;
	uint64_t ring_seq;
	bool drop_mcast;        /* lose everything multicast (crash in flight) */
	/* the last update multicast, for replay tests */
	uint8_t *last_update;
	size_t last_update_len;
	uint32_t last_update_sender;
};

static int
sim_mcast(void *data, const Xenmesh__Envelope *env)
{
	struct sim_node *sn = data;
	struct sim *sim = sn->sim;
	struct sim_msg *m;
	size_t len = xenmesh__envelope__get_packed_size(env);

	if (sim->drop_mcast)
		return 0;
	assert_true(sim->tail - sim->head < SIM_QUEUE);
	m = &sim->queue[sim->tail++ % SIM_QUEUE];
	m->part = sn->part;
	m->sender = sn->id;
	m->len = len;
	m->buf = malloc(len);
	assert_non_null(m->buf);
	xenmesh__envelope__pack(env, m->buf);
	if (env->body_case == XENMESH__ENVELOPE__BODY_UPDATE) {
		free(sim->last_update);
		sim->last_update = malloc(len);
		memcpy(sim->last_update, m->buf, len);
		sim->last_update_len = len;
		sim->last_update_sender = sn->id;
	}
	return 0;
}

static void
sim_persist(void *data, const struct state *s)
{
	struct sim_node *sn = data;

	sn->n_persist++;
}

static void
sim_event(void *data, uint64_t epoch, uint64_t seq, uint32_t node,
	  const char *kind, const char *text)
{
}

static void
sim_done(void *data, uint64_t req_id, int result, const char *reason)
{
	struct sim_node *sn = data;

	sn->done_id = req_id;
	sn->done_result = result;
	snprintf(sn->done_reason, sizeof(sn->done_reason), "%s",
		 reason != NULL ? reason : "");
	sn->n_done++;
}

static void
sim_node_info(void *data, Xenmesh__OpNodeInfo *info)
{
	struct sim_node *sn = data;

	info->id = sn->id;
	info->name = sn->name;
	info->role = XENMESH__NODE_ROLE__ROLE_DOM0;
	info->mem_total_mb = 4096;
	info->mem_free_mb = 4096 - sn->id;
}

static const struct replica_ops sim_ops = {
	.mcast = sim_mcast,
	.persist = sim_persist,
	.event = sim_event,
	.request_done = sim_done,
	.node_info = sim_node_info,
};

/* a member of protocol 1.3 is in the group: no agent-down mark */
static bool
sim_agent_down_unknown(void *data)
{
	return false;
}

static const struct replica_ops sim_ops_13 = {
	.mcast = sim_mcast,
	.persist = sim_persist,
	.event = sim_event,
	.request_done = sim_done,
	.node_info = sim_node_info,
	.agent_down_known = sim_agent_down_unknown,
};

static struct sim *
sim_new(int n, size_t chunk_max)
{
	struct sim *sim = calloc(1, sizeof(*sim));

	assert_non_null(sim);
	sim->n = n;
	sim->ring_seq = 4;
	for (int i = 1; i <= n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		sn->sim = sim;
		sn->id = (uint32_t)i;
		snprintf(sn->name, sizeof(sn->name), "h%d", i);
		replica_init(&sn->rep, sn->id, &sim_ops, sn, chunk_max);
	}
	return sim;
}

static void
sim_free(struct sim *sim)
{
	while (sim->head < sim->tail)
		free(sim->queue[sim->head++ % SIM_QUEUE].buf);
	for (int i = 1; i <= sim->n; i++)
		replica_free(&sim->nodes[i].rep);
	free(sim->last_update);
	free(sim);
}

static void
sim_quorum(struct sim *sim, int part, bool quorate)
{
	struct quorum_verdict v;

	memset(&v, 0, sizeof(v));
	v.quorate = quorate;
	v.ha_enabled = quorate;
	if (!quorate)
		snprintf(v.reason, sizeof(v.reason), "partition has too few votes");
	for (int i = 1; i <= sim->n; i++)
		if (sim->nodes[i].up && sim->nodes[i].part == part)
			replica_quorum(&sim->nodes[i].rep, &v);
}

/* Deliver one raw frame to every running member of a partition. */
static void
sim_deliver_raw(struct sim *sim, int part, uint32_t sender,
		const uint8_t *buf, size_t len)
{
	Xenmesh__Envelope *env = xenmesh__envelope__unpack(NULL, len, buf);

	assert_non_null(env);
	for (int i = 1; i <= sim->n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		if (sn->up && !sn->foreign && sn->part == part)
			replica_deliver(&sn->rep, sender, env);
	}
	xenmesh__envelope__free_unpacked(env, NULL);
}

static void
sim_run(struct sim *sim)
{
	int guard = 0;

	while (sim->head < sim->tail) {
		struct sim_msg m = sim->queue[sim->head++ % SIM_QUEUE];

		sim_deliver_raw(sim, m.part, m.sender, m.buf, m.len);
		free(m.buf);
		assert_true(++guard < 100000);
	}
}

/*
 * A membership change in one partition: members are the running nodes of
 * it; `left` (with reasons) are announced to them.  A new ring id, as
 * totem gives on node changes.
 */
static void
sim_confchg(struct sim *sim, int part, const uint32_t *left_ids,
	    const int *reasons, size_t n_left)
{
	struct sync_member mem[SIM_NODES], gone[SIM_NODES];
	int why[SIM_NODES];
	size_t nm = 0;

	/* what was in flight in the old view is delivered first */
	sim_run(sim);
	sim->ring_seq += 4;
	for (int i = 1; i <= sim->n; i++) {
		if (sim->nodes[i].up && sim->nodes[i].part == part) {
			mem[nm].nodeid = (uint32_t)i;
			mem[nm++].pid = 1000 + (uint32_t)i;
		}
	}
	for (size_t i = 0; i < n_left; i++) {
		gone[i].nodeid = left_ids[i];
		gone[i].pid = 1000 + left_ids[i];
		why[i] = reasons[i];
	}
	for (int i = 1; i <= sim->n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		if (!sn->up || sn->foreign || sn->part != part)
			continue;
		replica_ring(&sn->rep, 1, sim->ring_seq);
		replica_confchg(&sn->rep, mem, nm, gone, why, n_left);
	}
}

static void
sim_start_all(struct sim *sim)
{
	for (int i = 1; i <= sim->n; i++)
		sim->nodes[i].up = true;
	sim_quorum(sim, 0, true);
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
}

static void
assert_agree(struct sim *sim, int part)
{
	uint8_t d0[STATE_DIGEST_LEN], d[STATE_DIGEST_LEN];
	struct sim_node *first = NULL;

	for (int i = 1; i <= sim->n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		if (!sn->up || sn->foreign || sn->part != part)
			continue;
		assert_true(sn->rep.synced);
		if (first == NULL) {
			first = sn;
			assert_int_equal(state_digest(&sn->rep.st, d0), 0);
			continue;
		}
		assert_int_equal(state_digest(&sn->rep.st, d), 0);
		assert_memory_equal(d0, d, STATE_DIGEST_LEN);
		assert_int_equal(sn->rep.st.epoch, first->rep.st.epoch);
		assert_int_equal(sn->rep.st.seq, first->rep.st.seq);
		assert_int_equal(sn->rep.coordinator, first->rep.coordinator);
	}
	assert_non_null(first);
}

static Xenmesh__Op *
op_flags(uint32_t id, uint32_t set, uint32_t clear)
{
	static Xenmesh__Op op;
	static Xenmesh__OpNodeFlags fl;

	xenmesh__op__init(&op);
	xenmesh__op_node_flags__init(&fl);
	fl.id = id;
	fl.set = set;
	fl.clear = clear;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &fl;
	return &op;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_request_refused_before_sync_and_without_quorum(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	char why[200];
	int64_t rc;

	rc = replica_request(&sim->nodes[1].rep, op_flags(1, 1, 0), 0, why, sizeof(why));
	assert_int_equal(rc, XM_ESYNCING);

	for (int i = 1; i <= 3; i++)
		sim->nodes[i].up = true;
	sim_quorum(sim, 0, false);
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_true(sim->nodes[2].rep.synced);
	assert_int_equal(sim->nodes[2].rep.coordinator, 0);
	rc = replica_request(&sim->nodes[2].rep, op_flags(1, 1, 0), 0, why, sizeof(why));
	assert_int_equal(rc, XM_ENOQUORUM);
	assert_non_null(strstr(why, "too few votes"));
	/* no coordinator, so nobody registered anything */
	assert_int_equal(sim->nodes[1].rep.st.n_nodes, 0);
	sim_free(sim);
}

static void
test_start_three_nodes_agree(void **unused)
{
	struct sim *sim = sim_new(3, 1024);

	sim_start_all(sim);
	assert_agree(sim, 0);
	for (int i = 1; i <= 3; i++) {
		struct replica *r = &sim->nodes[i].rep;

		assert_int_equal(r->coordinator, 1);
		assert_int_equal(r->st.n_nodes, 3);
		assert_int_equal(r->st.epoch, 1);
		assert_int_equal(r->st.seq, 3);
		for (size_t k = 0; k < 3; k++)
			assert_int_equal(r->st.nodes[k].state, NODE_STATE_ONLINE);
		assert_string_equal(state_node(&r->st, 2)->name, "h2");
	}
	assert_true(replica_is_coordinator(&sim->nodes[1].rep));
	assert_false(replica_is_coordinator(&sim->nodes[2].rep));
	sim_free(sim);
}

static void
test_request_from_member_commits_everywhere(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	char why[200] = "";
	int64_t id;

	sim_start_all(sim);
	id = replica_request(&sim->nodes[3].rep,
			     op_flags(2, NODE_FLAG_MAINTENANCE, 0), 1000, why,
			     sizeof(why));
	assert_true(id > 0);
	sim_run(sim);
	assert_int_equal(sim->nodes[3].n_done, 1);
	assert_int_equal(sim->nodes[3].done_id, (uint64_t)id);
	assert_int_equal(sim->nodes[3].done_result, 0);
	assert_int_equal(sim->nodes[1].n_done, 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(state_node(&sim->nodes[i].rep.st, 2)->flags,
				 NODE_FLAG_MAINTENANCE);
	assert_agree(sim, 0);
	/* from the coordinator itself */
	id = replica_request(&sim->nodes[1].rep, op_flags(2, 0, NODE_FLAG_MAINTENANCE),
			     0, why, sizeof(why));
	assert_true(id > 0);
	sim_run(sim);
	assert_int_equal(sim->nodes[1].done_result, 0);
	assert_int_equal(state_node(&sim->nodes[3].rep.st, 2)->flags, 0);
	sim_free(sim);
}

static void
test_request_for_unknown_node_refused(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	char why[200] = "";
	int64_t id;

	sim_start_all(sim);
	id = replica_request(&sim->nodes[2].rep, op_flags(9, 1, 0), 0, why, sizeof(why));
	assert_int_equal(id, -ENOENT);
	assert_true(strlen(why) > 0);
	sim_free(sim);
}

static void
test_crash_of_coordinator_marks_unclean(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone = 1;
	int why = MEMBER_NODEDOWN;

	sim_start_all(sim);
	sim->nodes[1].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	sim_run(sim);
	assert_agree(sim, 0);
	for (int i = 2; i <= 3; i++) {
		struct replica *r = &sim->nodes[i].rep;

		assert_int_equal(r->coordinator, 2);
		assert_int_equal(state_node(&r->st, 1)->state, NODE_STATE_UNCLEAN);
		/* a new coordinator's term starts a new epoch */
		assert_int_equal(r->st.epoch, 2);
	}
	sim_free(sim);
}

/* A host that began its self-fence resets soon: it never coordinates
 * again, though the others still wait for it (the lowest member). */
static void
test_doomed_host_does_not_coordinate(void **unused)
{
	struct sim *sim = sim_new(3, 1024);

	sim_start_all(sim);
	assert_int_equal(sim->nodes[1].rep.coordinator, 1);
	replica_doomed(&sim->nodes[1].rep);
	assert_int_equal(sim->nodes[1].rep.coordinator, 0);
	assert_false(replica_is_coordinator(&sim->nodes[1].rep));
	/* quorum again (a heal) changes nothing */
	sim_quorum(sim, 0, true);
	assert_int_equal(sim->nodes[1].rep.coordinator, 0);
	assert_int_equal(sim->nodes[2].rep.coordinator, 1);
	sim_free(sim);
}

static void
test_clean_leave_marks_offline_and_rejoin_online(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone = 3;
	int why = MEMBER_LEAVE;

	sim_start_all(sim);
	sim->nodes[3].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	sim_run(sim);
	assert_int_equal(state_node(&sim->nodes[1].rep.st, 3)->state,
			 NODE_STATE_OFFLINE);
	/* back: it brings its old state, adopts the newer one, is online */
	sim->nodes[3].up = true;
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(state_node(&sim->nodes[3].rep.st, 3)->state,
			 NODE_STATE_ONLINE);
	sim_free(sim);
}

/* The same VM, running on host, in every node's table (as a commit
 * would have put it). */
static void
sim_vm_running(struct sim *sim, const char *name, uint32_t host)
{
	for (int i = 1; i <= sim->n; i++) {
		struct state *st = &sim->nodes[i].rep.st;
		struct vm_rec *v;

		st->vms = realloc(st->vms, (st->n_vms + 1) * sizeof(*st->vms));
		assert_non_null(st->vms);
		st->vms_cap = st->n_vms + 1;
		v = &st->vms[st->n_vms++];
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", name);
		v->state = VM_STATE_RUNNING;
		v->host = host;
		v->generation = 1;
		v->want_running = true;
		v->config = strdup("name = \"x\"\n");
	}
}

/* A dom0 in maintenance that holds nothing is offline when it vanishes
 * unseen (the last host of a cluster stopped as a whole); one that holds
 * a VM is unclean, maintenance or not. */
static void
test_vanished_maintenance_host_holding_nothing_is_offline(void **unused)
{
	for (int with_vm = 0; with_vm <= 1; with_vm++) {
		struct sim *sim = sim_new(3, 1024);
		uint32_t gone = 3;
		int why = MEMBER_NODEDOWN;
		char reason[200] = "";

		sim_start_all(sim);
		assert_true(replica_request(&sim->nodes[1].rep,
					    op_flags(3, NODE_FLAG_MAINTENANCE, 0),
					    0, reason, sizeof(reason)) > 0);
		sim_run(sim);
		if (with_vm)
			sim_vm_running(sim, "a", 3);
		sim->nodes[3].up = false;
		sim_confchg(sim, 0, &gone, &why, 1);
		sim_run(sim);
		assert_agree(sim, 0);
		assert_int_equal(state_node(&sim->nodes[2].rep.st, 3)->state,
				 with_vm ? NODE_STATE_UNCLEAN : NODE_STATE_OFFLINE);
		sim_free(sim);
	}
}

static void
test_old_state_never_overwrites_newer(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone = 1;
	int why = MEMBER_LEAVE;
	char reason[200];
	uint64_t old_seq;

	sim_start_all(sim);
	/* h1, the lowest id (coordinator again once back), stops cleanly */
	sim->nodes[1].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	sim_run(sim);
	old_seq = sim->nodes[1].rep.st.seq;
	assert_true(replica_request(&sim->nodes[3].rep,
				    op_flags(2, NODE_FLAG_STANDBY, 0), 0, reason,
				    sizeof(reason)) > 0);
	sim_run(sim);
	assert_true(sim->nodes[2].rep.st.seq > old_seq);
	/* h1 returns with its old state file: it adopts, never the reverse */
	sim->nodes[1].up = true;
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(sim->nodes[1].rep.coordinator, 1);
	assert_int_equal(state_node(&sim->nodes[1].rep.st, 2)->flags,
			 NODE_FLAG_STANDBY);
	assert_int_equal(state_node(&sim->nodes[1].rep.st, 1)->state,
			 NODE_STATE_ONLINE);
	sim_free(sim);
}

static void
test_partition_minority_has_no_coordinator_and_catches_up(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone3 = 3, gone12[2] = { 1, 2 };
	int why1 = MEMBER_NODEDOWN, why2[2] = { MEMBER_NODEDOWN, MEMBER_NODEDOWN };
	char reason[200];

	sim_start_all(sim);
	/* h3 is cut off */
	sim_run(sim);
	sim->nodes[3].part = 1;
	sim_quorum(sim, 1, false);
	sim_confchg(sim, 0, &gone3, &why1, 1);
	sim_confchg(sim, 1, gone12, why2, 2);
	sim_run(sim);
	assert_int_equal(sim->nodes[3].rep.coordinator, 0);
	assert_int_equal(sim->nodes[1].rep.coordinator, 1);
	assert_int_equal(replica_request(&sim->nodes[3].rep, op_flags(3, 1, 0), 0,
					 reason, sizeof(reason)), XM_ENOQUORUM);
	assert_true(replica_request(&sim->nodes[2].rep,
				    op_flags(2, NODE_FLAG_MAINTENANCE, 0), 0,
				    reason, sizeof(reason)) > 0);
	sim_run(sim);
	assert_int_equal(state_node(&sim->nodes[1].rep.st, 3)->state,
			 NODE_STATE_UNCLEAN);
	/* heal */
	sim->nodes[3].part = 0;
	sim_quorum(sim, 0, true);
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(state_node(&sim->nodes[3].rep.st, 2)->flags,
			 NODE_FLAG_MAINTENANCE);
	/* it went down uncleanly: back in the group it stays unclean until
	 * its fence is confirmed (it may still write meanwhile) */
	assert_int_equal(state_node(&sim->nodes[3].rep.st, 3)->state,
			 NODE_STATE_UNCLEAN);
	sim_free(sim);
}

/* Only the agent died (corosync stayed up): when it comes back it is
 * online again at once, to re-adopt its domains. */
static void
test_agent_restart_is_online_again(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone = 3;
	int why = MEMBER_PROCDOWN;

	sim_start_all(sim);
	sim->nodes[3].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	sim_run(sim);
	assert_int_equal(state_node(&sim->nodes[1].rep.st, 3)->state,
			 NODE_STATE_UNCLEAN);
	sim->nodes[3].up = true;
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(state_node(&sim->nodes[1].rep.st, 3)->state,
			 NODE_STATE_ONLINE);
	sim_free(sim);
}

/* The agent of node 1, the lowest id, restarts: a new process that knows
 * nothing of how it left, elected coordinator at once.  The state says
 * only its agent left, so it takes itself back online (and its domains
 * stay); with a protocol 1.3 member in the group nothing says so, and it
 * stays unclean as before. */
static void
agent_restart_lowest(const struct replica_ops *ops, enum node_state want)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone = 1;
	int why = MEMBER_PROCDOWN;
	const struct node_rec *n;

	for (int i = 1; i <= 3; i++)
		sim->nodes[i].rep.ops = ops;
	sim_start_all(sim);
	sim->nodes[1].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	sim_run(sim);
	assert_int_equal(sim->nodes[2].rep.coordinator, 2);
	n = state_node(&sim->nodes[2].rep.st, 1);
	assert_int_equal(n->state, NODE_STATE_UNCLEAN);
	assert_int_equal(n->flags, ops == &sim_ops ? NODE_FLAG_AGENT_DOWN : 0);
	/* a new process: nothing of the old one's memory */
	replica_free(&sim->nodes[1].rep);
	replica_init(&sim->nodes[1].rep, 1, ops, &sim->nodes[1], 1024);
	sim->nodes[1].up = true;
	sim_quorum(sim, 0, true);
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(sim->nodes[1].rep.coordinator, 1);
	n = state_node(&sim->nodes[1].rep.st, 1);
	assert_int_equal(n->state, want);
	assert_int_equal(n->flags, 0);     /* online clears the mark */
	sim_free(sim);
}

static void
test_agent_restart_elected_at_once(void **unused)
{
	agent_restart_lowest(&sim_ops, NODE_STATE_ONLINE);
}

static void
test_agent_restart_elected_at_once_13(void **unused)
{
	agent_restart_lowest(&sim_ops_13, NODE_STATE_UNCLEAN);
}

static void
test_replayed_update_is_dropped(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint8_t before[STATE_DIGEST_LEN], after[STATE_DIGEST_LEN];
	uint8_t *replay;
	size_t len;
	char why[200];

	sim_start_all(sim);
	assert_true(replica_request(&sim->nodes[2].rep,
				    op_flags(3, NODE_FLAG_STANDBY, 0), 0, why,
				    sizeof(why)) > 0);
	sim_run(sim);
	assert_true(replica_request(&sim->nodes[2].rep,
				    op_flags(3, 0, NODE_FLAG_STANDBY), 0, why,
				    sizeof(why)) > 0);
	sim_run(sim);
	len = sim->last_update_len;
	replay = malloc(len);
	memcpy(replay, sim->last_update, len);
	assert_int_equal(state_digest(&sim->nodes[2].rep.st, before), 0);
	sim_deliver_raw(sim, 0, sim->last_update_sender, replay, len);
	assert_int_equal(state_digest(&sim->nodes[2].rep.st, after), 0);
	assert_memory_equal(before, after, STATE_DIGEST_LEN);
	assert_int_equal(state_node(&sim->nodes[2].rep.st, 3)->flags, 0);
	free(replay);
	sim_free(sim);
}

static void
test_update_from_older_ring_or_non_coordinator_dropped(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	Xenmesh__Envelope env;
	Xenmesh__Update up;
	Xenmesh__RingId ring;
	uint8_t buf[512];
	size_t len;
	uint64_t seq;

	sim_start_all(sim);
	seq = sim->nodes[2].rep.st.seq;
	xenmesh__envelope__init(&env);
	xenmesh__update__init(&up);
	xenmesh__ring_id__init(&ring);
	ring.nodeid = 1;
	ring.seq = sim->ring_seq - 4;          /* an older ring */
	up.epoch = sim->nodes[2].rep.st.epoch;
	up.seq = seq + 1;
	up.ring = &ring;
	up.op = op_flags(3, NODE_FLAG_STANDBY, 0);
	env.sender = 1;
	env.body_case = XENMESH__ENVELOPE__BODY_UPDATE;
	env.update = &up;
	len = xenmesh__envelope__pack(&env, buf);
	sim_deliver_raw(sim, 0, 1, buf, len);
	assert_int_equal(sim->nodes[2].rep.st.seq, seq);

	ring.seq = sim->ring_seq;              /* right ring, wrong sender */
	env.sender = 3;
	len = xenmesh__envelope__pack(&env, buf);
	sim_deliver_raw(sim, 0, 3, buf, len);
	assert_int_equal(sim->nodes[2].rep.st.seq, seq);

	env.sender = 3;                        /* sender lies about itself */
	len = xenmesh__envelope__pack(&env, buf);
	sim_deliver_raw(sim, 0, 1, buf, len);
	assert_int_equal(sim->nodes[2].rep.st.seq, seq);

	env.sender = 1;                        /* the real thing applies */
	len = xenmesh__envelope__pack(&env, buf);
	sim_deliver_raw(sim, 0, 1, buf, len);
	assert_int_equal(sim->nodes[2].rep.st.seq, seq + 1);
	assert_int_equal(state_node(&sim->nodes[2].rep.st, 3)->flags,
			 NODE_FLAG_STANDBY);
	sim_free(sim);
}

static void
test_snapshot_in_many_chunks(void **unused)
{
	struct sim *sim = sim_new(6, 40);   /* tiny chunks: many of them */
	uint32_t gone = 6;
	int why = MEMBER_LEAVE;
	char reason[200];

	sim_start_all(sim);
	sim->nodes[6].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	sim_run(sim);
	for (uint32_t id = 1; id <= 5; id++) {
		assert_true(replica_request(&sim->nodes[1].rep,
					    op_flags(id, NODE_FLAG_STANDBY, 0), 0,
					    reason, sizeof(reason)) > 0);
		sim_run(sim);
	}
	sim->nodes[6].up = true;
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(state_node(&sim->nodes[6].rep.st, 5)->flags,
			 NODE_FLAG_STANDBY);
	assert_true(sim->nodes[6].n_persist > 0);
	sim_free(sim);
}

static void
test_membership_change_fails_pending_request(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	uint32_t gone = 1;
	int why = MEMBER_NODEDOWN;
	char reason[200];
	int64_t id;

	sim_start_all(sim);
	/* the coordinator dies with the request in flight: lost */
	sim->drop_mcast = true;
	id = replica_request(&sim->nodes[3].rep, op_flags(2, 1, 0), 0, reason,
			     sizeof(reason));
	assert_true(id > 0);
	sim->drop_mcast = false;
	sim->nodes[1].up = false;
	sim_confchg(sim, 0, &gone, &why, 1);
	assert_int_equal(sim->nodes[3].n_done, 1);
	assert_int_equal(sim->nodes[3].done_result, XM_ESYNCING);
	assert_non_null(strstr(sim->nodes[3].done_reason, "membership changed"));
	sim_run(sim);
	assert_agree(sim, 0);
	sim_free(sim);
}

/* A peer of another protocol major in the group (node 1, the lowest id)
 * must neither stall the sync round nor become coordinator. */
static void
test_incompatible_peer_is_left_out(void **unused)
{
	struct sim *sim = sim_new(3, 1024);

	sim->nodes[1].foreign = true;
	for (int i = 1; i <= 3; i++)
		sim->nodes[i].up = true;
	sim_quorum(sim, 0, true);
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	/* waiting for node 1's offer */
	assert_false(sim->nodes[2].rep.synced);
	/* its frame of another major is delivered to everyone */
	for (int i = 2; i <= 3; i++)
		replica_peer_incompatible(&sim->nodes[i].rep, 1, 1001);
	sim_run(sim);
	assert_agree(sim, 0);
	assert_int_equal(sim->nodes[3].rep.coordinator, 2);
	assert_int_equal(sim->nodes[3].rep.st.n_nodes, 2);
	assert_null(state_node(&sim->nodes[3].rep.st, 1));
	/* the exclusion holds through the next membership change */
	sim->nodes[3].up = false;
	{
		uint32_t gone = 3;
		int why = MEMBER_LEAVE;

		sim_confchg(sim, 0, &gone, &why, 1);
	}
	sim_run(sim);
	assert_true(sim->nodes[2].rep.synced);
	assert_int_equal(sim->nodes[2].rep.coordinator, 2);
	sim_free(sim);
}

/* A foreign process (another protocol major, or garbage) on a node whose
 * agent is in the group: only that process is left out; the node stays a
 * member, online, and may still be coordinator. */
static void
test_foreign_process_on_member_node(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	struct sync_member mem[4];
	size_t n = 0;

	sim_start_all(sim);
	for (uint32_t i = 1; i <= 3; i++) {
		mem[n].nodeid = i;
		mem[n++].pid = 1000 + i;
	}
	mem[n].nodeid = 1;              /* on node 1, the coordinator */
	mem[n++].pid = 9999;
	sim->ring_seq += 4;
	for (int i = 1; i <= 3; i++) {
		replica_ring(&sim->nodes[i].rep, 1, sim->ring_seq);
		replica_confchg(&sim->nodes[i].rep, mem, n, NULL, NULL, 0);
	}
	for (int i = 1; i <= 3; i++)
		replica_peer_incompatible(&sim->nodes[i].rep, 1, 9999);
	sim_run(sim);
	assert_agree(sim, 0);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(sim->nodes[i].rep.coordinator, 1);
		assert_int_equal(state_node(&sim->nodes[i].rep.st, 1)->state,
				 NODE_STATE_ONLINE);
	}
	sim_free(sim);
}

/* votequorum and CPG callbacks are not ordered: members may announce
 * themselves to a coordinator that does not know yet that it is one.  The
 * tick repeats the announcement until the table shows the node. */
static void
test_announcement_dropped_then_repeated(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	struct quorum_verdict yes, no;

	memset(&yes, 0, sizeof(yes));
	yes.quorate = yes.ha_enabled = true;
	memset(&no, 0, sizeof(no));
	snprintf(no.reason, sizeof(no.reason), "not yet");
	for (int i = 1; i <= 3; i++)
		sim->nodes[i].up = true;
	replica_quorum(&sim->nodes[1].rep, &no);
	replica_quorum(&sim->nodes[2].rep, &yes);
	replica_quorum(&sim->nodes[3].rep, &yes);
	sim_confchg(sim, 0, NULL, NULL, 0);
	sim_run(sim);
	/* node 1 learns it is quorate only now: 2 and 3 were not heard */
	replica_quorum(&sim->nodes[1].rep, &yes);
	sim_run(sim);
	assert_null(state_node(&sim->nodes[1].rep.st, 2));
	for (int i = 1; i <= 3; i++)
		replica_tick(&sim->nodes[i].rep, 10000);
	sim_run(sim);
	assert_agree(sim, 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(sim->nodes[i].rep.st.n_nodes, 3);
	/* once registered, ticks send nothing more */
	uint64_t seq = sim->nodes[1].rep.st.seq;

	for (int i = 1; i <= 3; i++)
		replica_tick(&sim->nodes[i].rep, 20000);
	sim_run(sim);
	assert_int_equal(sim->nodes[1].rep.st.seq, seq);
	sim_free(sim);
}

/* votequorum's verdict for a new ring comes after CPG's round: a node cut
 * off (its CPG view already alone) must not coordinate on the old ring's
 * "quorate"; it may once votequorum has spoken for the ring it is in. */
static void
test_quorum_of_another_ring_names_no_coordinator(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	struct replica *r;
	struct quorum_verdict yes;

	sim_start_all(sim);
	r = &sim->nodes[1].rep;
	assert_true(replica_is_coordinator(r));
	memset(&yes, 0, sizeof(yes));
	yes.quorate = yes.ha_enabled = true;
	/* votequorum's verdict is for the ring we are in: no change */
	replica_quorum_ring(r, r->ring_nodeid, r->ring_seq);
	replica_quorum(r, &yes);
	assert_true(replica_is_coordinator(r));
	/* a new ring (the others gone, say): the old verdict says nothing */
	replica_ring(r, 1, r->ring_seq + 4);
	assert_false(replica_is_coordinator(r));
	assert_int_equal(r->coordinator, 0);
	replica_quorum(r, &yes);
	assert_int_equal(r->coordinator, 0);
	/* votequorum announces the ring, then its verdict */
	replica_quorum_ring(r, 1, r->ring_seq);
	replica_quorum(r, &yes);
	assert_true(replica_is_coordinator(r));
	sim_free(sim);
}

/* The coordinator's own update, decided just before the ring changed,
 * comes back dropped everywhere: the coordinator must not wait for it for
 * ever (it would never decide again), and its next update applies. */
static void
test_own_update_dropped_is_not_waited_for(void **unused)
{
	struct sim *sim = sim_new(3, 1024);
	struct replica *co;
	uint64_t seq;

	sim_start_all(sim);
	co = &sim->nodes[1].rep;
	assert_true(replica_is_coordinator(co));
	seq = co->st.seq;
	assert_int_equal(replica_commit(co, op_flags(3, NODE_FLAG_STANDBY, 0)), 0);
	assert_false(replica_caught_up(co));
	sim->ring_seq += 4;             /* a new ring before its delivery */
	for (int i = 1; i <= 3; i++)
		replica_ring(&sim->nodes[i].rep, 1, sim->ring_seq);
	sim_run(sim);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(sim->nodes[i].rep.st.seq, seq);
	assert_true(replica_caught_up(co));
	assert_int_equal(replica_commit(co, op_flags(3, NODE_FLAG_STANDBY, 0)), 0);
	sim_run(sim);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(sim->nodes[i].rep.st.seq, seq + 1);
		assert_int_equal(state_node(&sim->nodes[i].rep.st, 3)->flags,
				 NODE_FLAG_STANDBY);
	}
	assert_true(replica_caught_up(co));
	sim_free(sim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_refused_before_sync_and_without_quorum),
		cmocka_unit_test(test_start_three_nodes_agree),
		cmocka_unit_test(test_request_from_member_commits_everywhere),
		cmocka_unit_test(test_request_for_unknown_node_refused),
		cmocka_unit_test(test_crash_of_coordinator_marks_unclean),
		cmocka_unit_test(test_clean_leave_marks_offline_and_rejoin_online),
		cmocka_unit_test(test_vanished_maintenance_host_holding_nothing_is_offline),
		cmocka_unit_test(test_doomed_host_does_not_coordinate),
		cmocka_unit_test(test_old_state_never_overwrites_newer),
		cmocka_unit_test(test_partition_minority_has_no_coordinator_and_catches_up),
		cmocka_unit_test(test_replayed_update_is_dropped),
		cmocka_unit_test(test_update_from_older_ring_or_non_coordinator_dropped),
		cmocka_unit_test(test_snapshot_in_many_chunks),
		cmocka_unit_test(test_membership_change_fails_pending_request),
		cmocka_unit_test(test_incompatible_peer_is_left_out),
		cmocka_unit_test(test_agent_restart_is_online_again),
		cmocka_unit_test(test_agent_restart_elected_at_once),
		cmocka_unit_test(test_agent_restart_elected_at_once_13),
		cmocka_unit_test(test_foreign_process_on_member_node),
		cmocka_unit_test(test_announcement_dropped_then_repeated),
		cmocka_unit_test(test_own_update_dropped_is_not_waited_for),
		cmocka_unit_test(test_quorum_of_another_ring_names_no_coordinator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
