/* The coordinator's HA decisions, as pure functions of the replicated
 * state, an event and a clock (no I/O): what to fence, where to start,
 * what to mark recovering, failed or unplaceable.
 *
 * The coordinator commits the actions as updates; the simulator
 * (tests/sim) replays scenarios through the same functions.  Every run
 * over an unchanged state returns no actions, so calling it after every
 * update is safe.
 */
#ifndef XM_DECIDE_H
#define XM_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "xenmesh.pb-c.h"

enum ha_action_kind {
	HA_ACT_VM_SET = 1,      /* commit OpVmSet */
	HA_ACT_FENCE,           /* fence node (the caller runs its chain once) */
	HA_ACT_NODE_UNCLEAN,    /* commit node unclean: it must be fenced */
	HA_ACT_MIGRATE,         /* commit OpVmMigrate (vm, host = dest, offline) */
	HA_ACT_DRAIN_DONE,      /* clear node's draining flag (reason: summary) */
};

struct ha_action {
	enum ha_action_kind kind;
	uint32_t node;                  /* FENCE */
	char vm[VM_NAME_MAX];           /* VM_SET */
	enum vm_state state;
	uint32_t host;
	uint64_t generation;            /* 0: unchanged */
	bool record_restart;
	uint32_t avoid_host;
	int want_running;               /* -1 unchanged, else 0 / 1 */
	uint32_t migrate_to;            /* VM_SET migrating: the destination */
	bool offline;                   /* VM_SET migrating, MIGRATE */
	bool set_drain_skip;            /* VM_SET: set drain_skip to ... */
	uint32_t drain_skip;
	uint64_t saved_gen;             /* VM_SET: the save image's, 0 unchanged */
	uint64_t saved_bytes;
	char reason[VM_REASON_MAX];
};

struct ha_plan {
	size_t n;
	size_t cap;
	struct ha_action *a;
};

struct ha_input {
	const struct state *st;
	uint64_t now_ms;
	bool ha_enabled;                /* quorum rules allow HA VMs */
	/* How long the coordinator has watched VM v migrate, by its own
	 * monotonic clock: a wall-clock jump must not abort a migration.
	 * NULL: now_ms - v->migrate_since_ms (the simulator, the tests). */
	uint64_t (*migrate_age_ms)(void *ctx, const struct vm_rec *v);
	void *ctx;
};

struct ha_event {
	Xenmesh__HostEventKind kind;
	uint32_t host;                  /* who reports */
	const char *vm;
	uint64_t generation;
	Xenmesh__VmExit exit;           /* HOST_VM_EXITED */
	const char *reason;             /* may be NULL */
	uint64_t bytes;                 /* HOST_VM_SAVED: the image's length */
};

/* The whole state looked at once: fences, recovery, stops, placement. */
int ha_schedule(const struct ha_input *in, struct ha_plan *plan);
/* A host reported something about one of its domains. */
int ha_host_event(const struct ha_input *in, const struct ha_event *ev,
		  struct ha_plan *plan);

void ha_plan_free(struct ha_plan *plan);
/* One line for logs and the simulator: "start web1 on h2 gen 3 (...)". */
const char *ha_action_text(const struct state *st, const struct ha_action *a,
			   char *buf, size_t len);
/* A VM_SET action as an Op for the replica (pointers into a and the
 * storage given). */
void ha_action_op(const struct ha_action *a, uint64_t now_ms, Xenmesh__Op *op,
		  Xenmesh__OpVmSet *set);
/* A MIGRATE action as an Op. */
void ha_action_migrate_op(const struct ha_action *a, uint64_t now_ms,
			  Xenmesh__Op *op, Xenmesh__OpVmMigrate *m);

#endif
