/* Internals of the coordinator's decisions shared by ha/decide.c and
 * ha/decide_migrate.c.  Not for anyone else. */
#ifndef XM_DECIDE_INT_H
#define XM_DECIDE_INT_H

#include "decide.h"

struct ha_action *plan_add(struct ha_plan *p, enum ha_action_kind kind);
const char *node_name(const struct state *st, uint32_t id, char *buf, size_t len);
/* Set a VM; skipped when it would change nothing (keeps runs idempotent). */
int vm_set(struct ha_plan *p, const struct vm_rec *v, enum vm_state st,
	   uint32_t host, uint64_t generation, const char *reason);

/* ha/decide_migrate.c */

/* Migrations under way: wait for a lost destination's fence, abort
 * those whose destination is gone or that took too long. */
int migrate_schedule(const struct ha_input *in, struct ha_plan *plan);
/* The next steps of every draining host. */
int drain_schedule(const struct ha_input *in, struct ha_plan *plan);
/* A host's report about a migration (MIGRATED, MIGRATE_FAILED, and the
 * source's STOPPED of an offline move).  1 handled, 0 not a migration's,
 * or -ENOMEM. */
int migrate_host_event(const struct ha_input *in, const struct ha_event *ev,
		       struct ha_plan *plan);
#endif
