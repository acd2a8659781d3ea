/* Frames multicast again by another member of the group (invariant I6).
 *
 * A tool on a node joins the CPG group next to that node's agent,
 * captures frames and multicasts them again: CPG gives the receivers the
 * node id of the agent's node with the tool's pid, and the totem ring id
 * does not change when a mere process joins.  The receivers must take
 * such a frame from nobody but the agent of that node.  A fake group as in
 * test_replica.c, which gives every frame its (node id, pid).
 */
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

#define NODES 3
#define QUEUE 1024
#define TOOL_PID 9999

struct node;

struct msg {
	uint32_t nodeid;
	uint32_t pid;
	uint8_t *buf;
	size_t len;
};

struct group {
	struct node *nodes;
	struct msg q[QUEUE];
	size_t head, tail;
	/* frames of the agents, as a capturing member saw them */
	struct msg seen[QUEUE];
	size_t n_seen;
	bool tool;              /* the tool (on node 2) is a member */
	uint64_t ring_seq;
};

struct node {
	struct group *g;
	uint32_t id;
	struct replica rep;
	char name[8];
	int n_dropped;          /* "not that node's agent" lines */
	int n_done;
	int done_result;
};

static int
fake_mcast(void *data, const Xenmesh__Envelope *env)
{
	struct node *n = data;
	struct group *g = n->g;
	struct msg *m;

	assert_true(g->tail - g->head < QUEUE);
	m = &g->q[g->tail++ % QUEUE];
	m->nodeid = n->id;
	m->pid = 1000 + n->id;
	m->len = xenmesh__envelope__get_packed_size(env);
	m->buf = malloc(m->len);
	assert_non_null(m->buf);
	xenmesh__envelope__pack(env, m->buf);
	return 0;
}

static void
fake_log(void *data, int prio, const char *text)
{
	struct node *n = data;

	if (strstr(text, "not that node's agent") != NULL)
		n->n_dropped++;
}

static void
fake_done(void *data, uint64_t req_id, int result, const char *reason)
{
	struct node *n = data;

	n->n_done++;
	n->done_result = result;
}

static void
fake_node_info(void *data, Xenmesh__OpNodeInfo *info)
{
	struct node *n = data;

	info->id = n->id;
	info->name = n->name;
	info->role = XENMESH__NODE_ROLE__ROLE_DOM0;
	info->mem_total_mb = 4096;
	info->mem_free_mb = 4096;
}

static const struct replica_ops fake_ops = {
	.mcast = fake_mcast,
	.log = fake_log,
	.request_done = fake_done,
	.node_info = fake_node_info,
};

static void
deliver(struct group *g, uint32_t nodeid, uint32_t pid, const uint8_t *buf,
	size_t len)
{
	Xenmesh__Envelope *env = xenmesh__envelope__unpack(NULL, len, buf);

	assert_non_null(env);
	for (int i = 0; i < NODES; i++)
		replica_deliver_from(&g->nodes[i].rep, nodeid, pid, env);
	xenmesh__envelope__free_unpacked(env, NULL);
}

static void
run(struct group *g)
{
	while (g->head < g->tail) {
		struct msg m = g->q[g->head++ % QUEUE];

		deliver(g, m.nodeid, m.pid, m.buf, m.len);
		if (g->tool) {
			assert_true(g->n_seen < QUEUE);
			g->seen[g->n_seen++] = m;
		} else {
			free(m.buf);
		}
	}
}

/* A CPG membership change: the agents, and the tool when it is in.  The
 * totem ring stays: only a process joined or left. */
static void
confchg(struct group *g, bool tool)
{
	struct sync_member mem[NODES + 1];
	struct sync_member gone = { 2, TOOL_PID };
	int why = MEMBER_LEAVE;
	size_t n = 0;

	run(g);
	for (int i = 0; i < NODES; i++) {
		mem[n].nodeid = g->nodes[i].id;
		mem[n++].pid = 1000 + g->nodes[i].id;
	}
	if (tool) {
		mem[n].nodeid = 2;
		mem[n++].pid = TOOL_PID;
	}
	for (int i = 0; i < NODES; i++)
		replica_confchg(&g->nodes[i].rep, mem, n, &gone, &why,
				g->tool && !tool ? 1 : 0);
	g->tool = tool;
	run(g);
}

static struct group *
group_start(void)
{
	struct group *g = calloc(1, sizeof(*g));
	struct quorum_verdict v;

	assert_non_null(g);
	g->nodes = calloc(NODES, sizeof(*g->nodes));
	assert_non_null(g->nodes);
	memset(&v, 0, sizeof(v));
	v.quorate = v.ha_enabled = true;
	for (int i = 0; i < NODES; i++) {
		struct node *n = &g->nodes[i];

		n->g = g;
		n->id = (uint32_t)i + 1;
		snprintf(n->name, sizeof(n->name), "h%u", (unsigned)(i + 1) % 100);
		replica_init(&n->rep, n->id, &fake_ops, n, 1024);
		replica_ring(&n->rep, 1, 8);
		replica_quorum(&n->rep, &v);
	}
	confchg(g, false);
	for (int i = 0; i < NODES; i++) {
		assert_true(g->nodes[i].rep.synced);
		assert_int_equal(g->nodes[i].rep.coordinator, 1);
		assert_int_equal(g->nodes[i].rep.st.n_nodes, NODES);
	}
	return g;
}

static void
group_free(struct group *g)
{
	while (g->head < g->tail)
		free(g->q[g->head++ % QUEUE].buf);
	for (size_t i = 0; i < g->n_seen; i++)
		free(g->seen[i].buf);
	for (int i = 0; i < NODES; i++)
		replica_free(&g->nodes[i].rep);
	free(g->nodes);
	free(g);
}

static Xenmesh__Op *
op_standby(uint32_t id, bool on)
{
	static Xenmesh__Op op;
	static Xenmesh__OpNodeFlags fl;

	xenmesh__op__init(&op);
	xenmesh__op_node_flags__init(&fl);
	fl.id = id;
	fl.set = on ? NODE_FLAG_STANDBY : 0;
	fl.clear = on ? 0 : NODE_FLAG_STANDBY;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &fl;
	return &op;
}

static bool
standby(const struct group *g, int i, uint32_t id)
{
	return (state_node(&g->nodes[i].rep.st, id)->flags & NODE_FLAG_STANDBY) != 0;
}

/* The last captured frame of this kind from node nodeid. */
static const struct msg *
seen_last(const struct group *g, uint32_t nodeid, Xenmesh__Envelope__BodyCase kind)
{
	const struct msg *found = NULL;

	for (size_t i = 0; i < g->n_seen; i++) {
		Xenmesh__Envelope *env;

		if (g->seen[i].nodeid != nodeid)
			continue;
		env = xenmesh__envelope__unpack(NULL, g->seen[i].len, g->seen[i].buf);
		assert_non_null(env);
		if (env->body_case == kind)
			found = &g->seen[i];
		xenmesh__envelope__free_unpacked(env, NULL);
	}
	return found;
}

static int
dropped(const struct group *g)
{
	int n = 0;

	for (int i = 0; i < NODES; i++)
		n += g->nodes[i].n_dropped;
	return n;
}

/* node 2 asks for standby on; the admin then turns it off again; the tool
 * multicasts node 2's request again: same ring, so only its pid tells it
 * from the agent's. */
static void
test_replayed_request_refused(void **unused)
{
	struct group *g = group_start();
	const struct msg *req;
	uint64_t seq;
	char why[200];

	confchg(g, true);       /* the tool joins and captures */
	assert_true(g->nodes[0].rep.synced);
	assert_true(replica_request(&g->nodes[1].rep, op_standby(2, true), 0, why,
				    sizeof(why)) > 0);
	run(g);
	assert_true(standby(g, 0, 2));
	assert_true(replica_request(&g->nodes[2].rep, op_standby(2, false), 0, why,
				    sizeof(why)) > 0);
	run(g);
	assert_false(standby(g, 0, 2));
	req = seen_last(g, 2, XENMESH__ENVELOPE__BODY_REQUEST);
	assert_non_null(req);
	seq = g->nodes[0].rep.st.seq;

	deliver(g, 2, TOOL_PID, req->buf, req->len);
	run(g);
	for (int i = 0; i < NODES; i++) {
		assert_false(standby(g, i, 2));
		assert_int_equal(g->nodes[i].rep.st.seq, seq);
	}
	assert_int_equal(dropped(g), NODES);

	/* what the pid check stops: the same frame from the agent itself
	 * would be committed again (requests carry no epoch, and the ring
	 * did not change) */
	deliver(g, 2, 1002, req->buf, req->len);
	run(g);
	assert_true(standby(g, 0, 2));
	group_free(g);
}

/* The coordinator's updates, multicast again from its node: dropped by
 * the pid, before the (epoch, seq) check even looks. */
static void
test_replayed_update_refused(void **unused)
{
	struct group *g = group_start();
	const struct msg *up;
	uint8_t d0[STATE_DIGEST_LEN], d[STATE_DIGEST_LEN];
	char why[200];

	confchg(g, true);
	assert_true(replica_request(&g->nodes[2].rep, op_standby(3, true), 0, why,
				    sizeof(why)) > 0);
	run(g);
	up = seen_last(g, 1, XENMESH__ENVELOPE__BODY_UPDATE);
	assert_non_null(up);
	assert_int_equal(state_digest(&g->nodes[1].rep.st, d0), 0);
	deliver(g, 1, TOOL_PID, up->buf, up->len);
	run(g);
	assert_int_equal(dropped(g), NODES);
	for (int i = 0; i < NODES; i++) {
		assert_int_equal(state_digest(&g->nodes[i].rep.st, d), 0);
		assert_memory_equal(d0, d, STATE_DIGEST_LEN);
	}
	group_free(g);
}

/* Everything the tool captured, multicast again after it rejoined (a new
 * membership, so also a new sync round): nothing changes, nothing stalls. */
static void
test_replay_of_everything_after_rejoin(void **unused)
{
	struct group *g = group_start();
	struct msg saved[QUEUE];
	size_t n_saved;
	uint8_t d0[STATE_DIGEST_LEN], d[STATE_DIGEST_LEN];
	char why[200];

	confchg(g, true);
	assert_true(replica_request(&g->nodes[1].rep, op_standby(2, true), 0, why,
				    sizeof(why)) > 0);
	run(g);
	assert_true(replica_request(&g->nodes[1].rep, op_standby(2, false), 0, why,
				    sizeof(why)) > 0);
	run(g);
	memcpy(saved, g->seen, g->n_seen * sizeof(saved[0]));
	n_saved = g->n_seen;
	g->n_seen = 0;
	confchg(g, false);      /* the tool leaves ... */
	confchg(g, true);       /* ... and comes back to replay */
	assert_true(g->nodes[2].rep.synced);
	assert_int_equal(state_digest(&g->nodes[0].rep.st, d0), 0);
	for (size_t i = 0; i < n_saved; i++) {
		/* replayed from the tool on node 2: whichever node they
		 * claim, node 2's agent is the only voice of node 2 */
		deliver(g, 2, TOOL_PID, saved[i].buf, saved[i].len);
		run(g);
	}
	for (int i = 0; i < NODES; i++) {
		assert_true(g->nodes[i].rep.synced);
		assert_int_equal(g->nodes[i].rep.coordinator, 1);
		assert_false(standby(g, i, 2));
		assert_int_equal(state_digest(&g->nodes[i].rep.st, d), 0);
		assert_memory_equal(d0, d, STATE_DIGEST_LEN);
	}
	/* still working for the agents */
	assert_true(replica_request(&g->nodes[1].rep, op_standby(2, true), 0, why,
				    sizeof(why)) > 0);
	run(g);
	assert_true(standby(g, 2, 2));
	for (size_t i = 0; i < n_saved; i++)
		free(saved[i].buf);
	group_free(g);
}

/* Before its agent's offer a node has no voice but the offer; an old
 * offer, multicast again by another tool process (another view), does not
 * make that process the node's agent. */
static void
test_old_offer_does_not_bind(void **unused)
{
	struct group *g = group_start();
	const struct msg *offer;
	struct msg copy;
	struct sync_member mem[NODES + 1];
	char why[200];

	confchg(g, true);
	offer = seen_last(g, 2, XENMESH__ENVELOPE__BODY_OFFER);
	assert_non_null(offer);
	copy.len = offer->len;
	copy.buf = malloc(copy.len);
	assert_non_null(copy.buf);
	memcpy(copy.buf, offer->buf, copy.len);
	/* the capturing tool left, a replaying one joined: its copy
	 * arrives before node 2's offer */
	confchg(g, false);
	for (int i = 0; i < NODES; i++) {
		mem[i].nodeid = g->nodes[i].id;
		mem[i].pid = 1000 + g->nodes[i].id;
	}
	mem[NODES].nodeid = 2;
	mem[NODES].pid = TOOL_PID + 1;
	for (int i = 0; i < NODES; i++)
		replica_confchg(&g->nodes[i].rep, mem, NODES + 1, NULL, NULL, 0);
	assert_false(g->nodes[0].rep.synced);
	deliver(g, 2, TOOL_PID + 1, copy.buf, copy.len);
	run(g);
	for (int i = 0; i < NODES; i++)
		assert_true(g->nodes[i].rep.synced);
	assert_true(replica_request(&g->nodes[1].rep, op_standby(2, true), 0, why,
				    sizeof(why)) > 0);
	run(g);
	assert_true(standby(g, 0, 2));
	assert_int_equal(g->nodes[1].n_done, 1);
	assert_int_equal(g->nodes[1].done_result, 0);
	free(copy.buf);
	group_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replayed_request_refused),
		cmocka_unit_test(test_replayed_update_refused),
		cmocka_unit_test(test_replay_of_everything_after_rejoin),
		cmocka_unit_test(test_old_offer_does_not_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
