/* libFuzzer target: CPG messages delivered to a coordinator that acts on
 * them: the host events (agent/coord.c coord_host_event: ha_host_event,
 * and coord_storage.c's storage reports), and what the coordinator decides
 * after every change (coord_kick: ha_schedule, fence runs, storage fences).
 *
 * fuzz_envelope.c drives ha/replica.c with the host events dropped; here
 * the agent of harness_agent.c (node 1, coordinator of a synced three-node
 * group with nodes, VMs and volumes in most states) has the real
 * coordinator wired as agent/cluster_ops.c wires it (replica_ops.host_event,
 * replica_ops.changed), its commands going to a runner recorder that
 * answers "not found" (so fence chains move on to their next method).
 * Each message is unpacked as cluster.c's cpg_deliver does it and given
 * to every member.
 *
 * Input: byte 0, bits 0-1: the sender of a single message (node 1..4, 4
 * not a member), bit 2: sent by another process of that node than its
 * agent, and bit 7: the harness stamps sender and ring.  Without bit 7,
 * the rest is one CPG message as corosync delivers it.  With it, the rest
 * is messages of [sender byte (bits as byte 0's)][u16 length, big
 * endian][frame] whose envelope sender and request ring the harness sets
 * to what the group expects (so that mutations reach the handlers behind
 * those checks), the fake loop fired once between two.
 *
 * fuzz-sources: agent/coord.c agent/coord_storage.c tests/fuzz/harness_agent.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "coord.h"
#include "coord_int.h"
#include "harness_agent.h"
#include "runner.h"
#include "wire.h"

#define MSGS_MAX 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
cluster_totem_ms(struct agent *a, uint32_t *token, uint32_t *consensus)
{
	(void)a;
	*token = 3000;
	*consensus = 3600;
	return 0;
}

static struct coord *coord_gone;

/* What the fake loop holds at the end: the coordinator's look at the state
 * (a job for coord, freed by coord_stop: dropped), or a storage fence that
 * failed at once (sf_fail_job would free it). */
static void
left_free(void *data)
{
	if (data != coord_gone)
		free(data);
}

static void
coord_make(struct agent *a)
{
	struct coord *co = calloc(1, sizeof(*co));

	if (co == NULL || runner_recorder_open(&co->runner, NULL) != 0)
		abort();
	co->a = a;
	a->co = co;
}

/* One message off the ring, as cpg_deliver takes it, from the node and
 * process byte `from` names. */
static void
deliver(struct agent *a, uint8_t from, const uint8_t *msg, size_t len,
	bool stamp)
{
	uint32_t sender = 1 + (from & 3);
	uint32_t pid = from & 4 ? 7777 : HARNESS_PID(sender);
	Xenmesh__Envelope *env;
	uint16_t major = 0, minor = 0;
	int err = 0;

	env = (Xenmesh__Envelope *)wire_unpack(&xenmesh__envelope__descriptor,
					       msg, len, &err, &major, &minor);
	if (env == NULL) {
		replica_peer_incompatible(&a->rep, sender, pid);
		return;
	}
	if (stamp) {
		env->sender = sender;
		if (env->body_case == XENMESH__ENVELOPE__BODY_REQUEST &&
		    env->request->ring != NULL) {
			env->request->ring->nodeid = a->rep.ring_nodeid;
			env->request->ring->seq = a->rep.ring_seq;
		}
	}
	/* heartbeats only matter to the sender's own guard */
	if (env->body_case != XENMESH__ENVELOPE__BODY_HEARTBEAT)
		for (uint32_t i = 1; i <= HARNESS_NODES; i++)
			replica_deliver_from(harness_agent_replica(i), sender,
					     pid, env);
	xenmesh__envelope__free_unpacked(env, NULL);
	harness_agent_run_queue();
}

/* The coordinator's work after a message: its look at the state (a job),
 * the fence commands answered, the updates delivered. */
static void
settle(struct agent *a, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		harness_agent_run_loop(1);
		(void)runner_recorder_deliver(a->co->runner);
		harness_agent_run_queue();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct harness_agent_hooks hooks = {
		.changed = coord_kick,
		.host_event = coord_host_event,
	};
	struct agent *a;
	int n = 0;

	if (size < 1)
		return 0;
	a = harness_agent_start(&hooks);
	coord_make(a);
	/* what the synced state already asks for, before the input */
	settle(a, 2);
	if (!(data[0] & 0x80)) {
		deliver(a, data[0], data + 1, size - 1, false);
	} else {
		data++;
		size--;
		while (size >= 3 && n++ < MSGS_MAX) {
			uint8_t from = data[0];
			size_t len = (size_t)data[1] << 8 | data[2];

			data += 3;
			size -= 3;
			if (len > size)
				len = size;
			deliver(a, from, data, len, true);
			data += len;
			size -= len;
			settle(a, 1);
		}
	}
	settle(a, 3);

	coord_gone = a->co;
	coord_stop(a);
	harness_agent_stop(left_free);
	return 0;
}
