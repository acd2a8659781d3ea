/* Drain plans: how to empty a host for maintenance.  Pure: no I/O.
 *
 * `agentctl node drain` shows drain_plan() (--dry-run stops there); the
 * coordinator commits the drain as durable intent (the host's
 * maintenance + draining flags, parallel, force) and, after every update,
 * asks drain_next() what to start now.  Both are functions of the
 * replicated state only, so a new coordinator continues a drain where
 * the old one was.
 */
#ifndef XM_DRAIN_H
#define XM_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

enum drain_action {
	DRAIN_MIGRATE = 1,      /* live migration to dest */
	DRAIN_OFFLINE,          /* stop here, start on dest (no live target:
				 * e.g. no host of the same CPU class) */
	DRAIN_SHUTDOWN,         /* no host fits: shut down cleanly (--force) */
	DRAIN_STAY,             /* stays: its move failed in this drain */
	DRAIN_MOVING,           /* a migration of it is under way (dest) */
	DRAIN_WAIT,             /* starting or stopping there, migrating to
				 * it, or its volumes are not exported: looked
				 * at again once that settles */
};

struct drain_item {
	char vm[VM_NAME_MAX];
	enum drain_action action;
	uint32_t dest;                  /* MIGRATE, OFFLINE, MOVING; else 0 */
	uint32_t priority;              /* its ha_priority */
	char reason[VM_REASON_MAX];     /* why dest, or why it cannot move */
};

struct drain_plan {
	size_t n;
	struct drain_item *items;       /* in the order they are carried out;
					 * NULL when n == 0 */
	bool ok;                        /* every VM moves live (MIGRATE or
					 * MOVING): a drain without --force
					 * may go ahead */
};

/*
 * The plan to empty host of every VM assigned to it: those running,
 * starting, stopping or migrating with host == host, and those migrating
 * to it (WAIT: they land there first).
 *
 * Order: placement order (placement.h: priority descending, lent to the
 * VMs a VM starts after, then ha_start_after, then name), among the
 * host's VMs.  A start_after cycle does not hold a drain up (placement
 * would refuse to start its VMs; these run already): once nothing else
 * can go, the VM of it that goes first goes.
 *
 * Each VM: migrating away already -> MOVING (dest = migrate_to); starting
 * or stopping -> WAIT; drain_skip == host (its move failed in this
 * drain) -> STAY, "its move failed: <its reason>"; with volumes while no
 * SAN node exports them -> WAIT.  The other running VMs are placed
 * (placement_plan, one at a time in that order, each seeing the choices
 * before it) on the other dom0 hosts, as if all left at once: free memory
 * is mem_total_mb - state_host_used_mb (migrations to a host count
 * there); a host that takes no VMs (node_takes_vms) is not eligible, with
 * its reason, nor is host ("being drained"); the VMs elsewhere stay and
 * count for anti-affinity, at both ends of their migrations.
 *   1. Against the hosts fit for live migration (same CPU class as host,
 *      strcmp, "" == ""; and a peer_addr): -> MIGRATE, reason from
 *      placement ("preferred host h2", "h3 has the most free memory ...").
 *   2. What did not fit, against every eligible host, capacity taken by
 *      pass 1 counting: -> OFFLINE, "no host of CPU class intel-6 fits
 *      (<why>); moves offline".
 *   3. What still does not fit -> SHUTDOWN, the placement reason ("needs
 *      4096 MB, largest free 2048 MB on h3").
 * ok: every item is MIGRATE or MOVING (an empty plan is ok).  Reasons
 * that do not fit VM_REASON_MAX end in "...".
 *
 * Returns 0; -EINVAL NULL s or out, or host is not a dom0 (a SAN node);
 * -ENOENT no such host; -ENOMEM; or placement_plan's error on a state
 * it refuses.  On error *out is empty.
 */
int drain_plan(const struct state *s, uint32_t host, struct drain_plan *out);
void drain_plan_free(struct drain_plan *p);     /* accepts NULL; empties */

/* What the coordinator does next for a draining host. */
enum drain_step_kind {
	DRAIN_STEP_MIGRATE = 1,         /* commit OpVmMigrate(vm, dest, offline) */
	DRAIN_STEP_SHUTDOWN,            /* commit stopping (reason) */
	DRAIN_STEP_DONE,                /* clear the draining flag (reason: the
					 * summary, "nothing left on h1" or
					 * "left on h1: web3 (its move failed:
					 * ...), db2 (no host fits: ...)") */
};

struct drain_step {
	enum drain_step_kind kind;
	char vm[VM_NAME_MAX];           /* "" for DONE */
	uint32_t dest;                  /* MIGRATE */
	bool offline;                   /* MIGRATE: an OFFLINE item */
	char reason[VM_REASON_MAX];
};

/*
 * The steps to take now for the draining host (flag NODE_FLAG_DRAINING,
 * drain_parallel, drain_force), from drain_plan():
 *   - None when host is not draining, while s->frozen (cluster
 *     maintenance), or while any node is unclean (nothing is placed).
 *   - Walking the plan in order, each MIGRATE item starts (kind MIGRATE)
 *     while fewer than drain_parallel (0 taken as 1) of host's VMs are
 *     migrating, the ones started now counted; with drain_force, so do
 *     OFFLINE items (offline true), from the same budget.  A move that
 *     migrate_check() refuses now (e.g. host not online) is held: it is
 *     not started and the drain is not done.
 *   - With drain_force, once no MOVING or WAIT item is left (nothing of
 *     host migrating, starting or stopping) and no move is left to
 *     start: ONE shutdown (kind SHUTDOWN) of the last SHUTDOWN item in
 *     plan order, i.e. the lowest priority first, so that the most
 *     important VM runs longest; the next once it has stopped.
 *   - DONE (one step, the summary as its reason, "..." when longer than
 *     VM_REASON_MAX) once nothing is in flight or left to start: every
 *     item left is STAY, or, without drain_force, OFFLINE or SHUTDOWN
 *     (they stay, listed).
 * Deterministic and idempotent: on an unchanged state the same steps
 * (the coordinator commits them; the next call sees them migrating or
 * stopping).  *steps malloc'd (NULL when *n == 0).
 * Returns 0, or drain_plan()'s errors (-EINVAL also for NULL steps or n);
 * on error *steps is NULL and *n 0.
 */
int drain_next(const struct state *s, uint32_t host, struct drain_step **steps,
	       size_t *n);

#endif
