/* A test xenmeshd for the libFuzzer targets that drive daemon code
 * (fuzz_ipc.c, fuzz_host_event.c): a struct agent whose replica is node 1
 * of a three-node group simulated in memory (nodes 2 and 3 are bare
 * replicas, as in fuzz_envelope.c), synced to node 1 as coordinator from
 * a fixed state with nodes, VMs in most states, SAN volumes and fence
 * chains.
 *
 * Nothing here does I/O: multicasts go to an in-memory queue, and the
 * qb_loop timers and jobs the daemon code asks for go to a fake loop
 * (harness_agent.c defines qb_loop_job_add and friends, which the executable's
 * own definitions win over libqb's) that the harness fires itself.
 */
#ifndef XM_HARNESS_AGENT_H
#define XM_HARNESS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

#define HARNESS_NODES 3            /* members 1..3; node 4 is known, not a member */
#define HARNESS_PID(id) (1000 + (uint32_t)(id))    /* node id's agent process */

/* What the target wires to the agent's replica (each may be NULL). */
struct harness_agent_hooks {
	void (*request_done)(struct agent *a, uint64_t req_id, int result,
			     const char *reason);
	void (*changed)(struct agent *a);
	void (*host_event)(struct agent *a, uint32_t host,
			   const Xenmesh__HostEvent *ev);
};

/* The agent (node 1, coordinator, synced, quorate) afresh, with hooks. */
struct agent *harness_agent_start(const struct harness_agent_hooks *hooks);
/* Frees what harness_agent_start made.  The caller stops its own modules
 * first; what is still in the fake loop then is handed to left (may be
 * NULL: dropped), which knows whether it owns that data: a wait that
 * outlives the input owns nothing but its own allocation. */
void harness_agent_stop(void (*left)(void *data));

/* Delivers the queued multicasts to every member, in order, a bounded
 * number of them. */
void harness_agent_run_queue(void);
/* Time passes: fires the jobs and timers of the fake loop (those added
 * meanwhile wait for the next round), delivering the queue after each
 * round. */
void harness_agent_run_loop(int rounds);
/* Node id's replica (1 is the agent's). */
struct replica *harness_agent_replica(uint32_t id);

#endif
