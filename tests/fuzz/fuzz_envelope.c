/* libFuzzer target: a CPG message as agent/cluster.c receives it.
 *
 * Input: one byte naming the sender (node id 1..4, 4 = not a member),
 * then the frame: wire_unpack (agent/wire.h) of a Xenmesh__Envelope, then
 * replica_deliver (ha/replica.h) to every replica of a three-node
 * simulated group that has finished its sync round with node 1 as
 * coordinator, as tests/test_replica.c sets it up.  What the replicas
 * multicast in answer is delivered too, a bounded number of times. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"
#include "wire.h"
#include "xm_error.h"

#define NODES 3
#define QUEUE 256
#define MAX_ROUNDS 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fnode {
	uint32_t id;
	char name[16];
	struct replica rep;
};

struct fmsg {
	uint32_t sender;
	uint8_t *buf;
	size_t len;
};

static struct fnode nodes[NODES + 1];
static struct fmsg queue[QUEUE];
static size_t q_head, q_tail;
/* gen_seeds.c (which includes this file) records every frame here. */
static void (*record_hook)(uint32_t sender, const Xenmesh__Envelope *env);

static int
f_mcast(void *data, const Xenmesh__Envelope *env)
{
	struct fnode *fn = data;
	struct fmsg *m;
	size_t len;

	if (q_tail - q_head >= QUEUE)
		return -ENOBUFS;
	if (record_hook != NULL)
		record_hook(fn->id, env);
	len = xenmesh__envelope__get_packed_size(env);
	m = &queue[q_tail++ % QUEUE];
	m->sender = fn->id;
	m->len = len;
	m->buf = malloc(len ? len : 1);
	if (m->buf == NULL)
		abort();
	xenmesh__envelope__pack(env, m->buf);
	return 0;
}

/* The callbacks the harness does not look at. */
#define UNUSED __attribute__((unused))
static void f_persist(UNUSED void *data, UNUSED const struct state *s) { }
static void f_event(UNUSED void *data, UNUSED uint64_t epoch, UNUSED uint64_t seq,
		    UNUSED uint32_t node, UNUSED const char *kind,
		    UNUSED const char *text) { }
static void f_done(UNUSED void *data, UNUSED uint64_t req_id, UNUSED int result,
		   UNUSED const char *reason) { }
static void f_log(UNUSED void *data, UNUSED int prio, UNUSED const char *text) { }
static void f_changed(UNUSED void *data) { }
static void f_self_unclean(UNUSED void *data) { }
static void f_host_event(UNUSED void *data, UNUSED uint32_t host,
			 UNUSED const Xenmesh__HostEvent *ev) { }

static void
f_node_info(void *data, Xenmesh__OpNodeInfo *info)
{
	struct fnode *fn = data;

	info->id = fn->id;
	info->name = fn->name;
	info->role = XENMESH__NODE_ROLE__ROLE_DOM0;
	info->mem_total_mb = 4096;
	info->mem_free_mb = 4096 - fn->id;
}

static const struct replica_ops f_ops = {
	.mcast = f_mcast,
	.persist = f_persist,
	.event = f_event,
	.request_done = f_done,
	.node_info = f_node_info,
	.log = f_log,
	.changed = f_changed,
	.self_unclean = f_self_unclean,
	.host_event = f_host_event,
};

static void
deliver_all(uint32_t sender, const Xenmesh__Envelope *env)
{
	for (int i = 1; i <= NODES; i++)
		replica_deliver(&nodes[i].rep, sender, env);
}

static void
run_queue(void)
{
	int rounds = 0;

	while (q_head < q_tail) {
		struct fmsg m = queue[q_head++ % QUEUE];
		Xenmesh__Envelope *env;

		if (++rounds <= MAX_ROUNDS) {
			env = xenmesh__envelope__unpack(NULL, m.len, m.buf);
			if (env == NULL)
				abort();        /* a replica multicast garbage */
			deliver_all(m.sender, env);
			xenmesh__envelope__free_unpacked(env, NULL);
		}
		free(m.buf);
	}
}

/* Three replicas, nodes 2 and 3 starting from preload (when not NULL),
 * through one sync round to node 1 as coordinator. */
static void
group_start(const struct state *preload)
{
	struct sync_member mem[NODES];
	struct quorum_verdict v;

	q_head = q_tail = 0;
	memset(&v, 0, sizeof(v));
	v.quorate = true;
	v.ha_enabled = true;
	for (int i = 1; i <= NODES; i++) {
		nodes[i].id = (uint32_t)i;
		snprintf(nodes[i].name, sizeof(nodes[i].name), "h%d", i);
		replica_init(&nodes[i].rep, (uint32_t)i, &f_ops, &nodes[i], 1024);
		mem[i - 1].nodeid = (uint32_t)i;
		mem[i - 1].pid = 1000 + (uint32_t)i;
	}
	for (int i = 2; preload != NULL && i <= NODES; i++)
		if (replica_load(&nodes[i].rep, preload) != 0)
			abort();
	for (int i = 1; i <= NODES; i++)
		replica_quorum(&nodes[i].rep, &v);
	for (int i = 1; i <= NODES; i++) {
		replica_ring(&nodes[i].rep, 1, 8);
		replica_confchg(&nodes[i].rep, mem, NODES, NULL, NULL, 0);
	}
	run_queue();
}

static void
group_free(void)
{
	while (q_head < q_tail)
		free(queue[q_head++ % QUEUE].buf);
	for (int i = 1; i <= NODES; i++)
		replica_free(&nodes[i].rep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Xenmesh__Envelope *env;
	uint16_t major = 0, minor = 0;
	uint32_t sender;
	int err = 0;

	if (size < 1)
		return 0;
	sender = 1 + data[0] % (NODES + 1);
	group_start(NULL);
	env = (Xenmesh__Envelope *)wire_unpack(&xenmesh__envelope__descriptor,
					       data + 1, size - 1, &err,
					       &major, &minor);
	if (env == NULL) {
		if (sender <= NODES)
			for (int i = 1; i <= NODES; i++)
				replica_peer_incompatible(&nodes[i].rep, sender,
							  1000 + sender);
	} else {
		if (env->body_case != XENMESH__ENVELOPE__BODY_HEARTBEAT)
			deliver_all(sender, env);
		xenmesh__envelope__free_unpacked(env, NULL);
	}
	run_queue();
	for (int i = 1; i <= NODES; i++)
		replica_tick(&nodes[i].rep, 1000000);
	run_queue();
	group_free();
	return 0;
}
