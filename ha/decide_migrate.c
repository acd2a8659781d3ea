/* The coordinator's decisions about migrations, drains and the cluster
 * maintenance freeze; see decide.h and maint.h.
 *
 * A live migration's commit point is the update `running on dest`
 * (owner := destination), made only when the destination reports the
 * domain complete and paused (HOST_VM_MIGRATED).  Until then the source
 * owns the VM: an abort (`running on source`) lets the source resume it.
 * Both are agreed updates, so exactly one of them is ever delivered
 * first, and neither host acts before it is delivered to it.
 *
 * A destination lost before the commit may have delivered a commit the
 * survivors never got (agreed is not safe delivery) and unpaused the VM:
 * the abort waits for its fence.  A source lost is handled as any lost
 * host: the VM is recovering until the source is fenced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide_int.h"
#include "drain.h"
#include "maint.h"

/* skip: a failure of this move itself (not of its destination host): a
 * drain leaves the VM where it is instead of trying again */

/* How long v has been migrating, as far as this coordinator knows. */
static uint64_t
migrate_age(const struct ha_input *in, const struct vm_rec *v)
{
	if (in->migrate_age_ms != NULL)
		return in->migrate_age_ms(in->ctx, v);
	return in->now_ms > v->migrate_since_ms ? in->now_ms - v->migrate_since_ms : 0;
}

static int
migration_abort(struct ha_plan *p, const struct state *st,
		const struct vm_rec *v, const char *why, bool skip)
{
	struct ha_action *a = plan_add(p, HA_ACT_VM_SET);
	const struct node_rec *src = state_node(st, v->host);
	char who[VM_NAME_MAX];

	if (a == NULL)
		return -ENOMEM;
	snprintf(a->vm, sizeof(a->vm), "%s", v->name);
	a->state = VM_STATE_RUNNING;
	a->host = v->host;
	snprintf(a->reason, sizeof(a->reason), "%s to %.40s %s",
		 v->migrate_offline ? "offline move" : "migration",
		 node_name(st, v->migrate_to, who, sizeof(who)), why);
	/* a drain goes on without it: it stays, reported */
	if (skip && src != NULL && (src->flags & NODE_FLAG_DRAINING)) {
		a->set_drain_skip = true;
		a->drain_skip = v->host;
	}
	return 0;
}

/* Keep it migrating, only the reason changes. */
static int
migration_wait(struct ha_plan *p, const struct vm_rec *v, const char *why)
{
	struct ha_action *a;

	if (strcmp(v->reason, why) == 0)
		return 0;
	a = plan_add(p, HA_ACT_VM_SET);
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->vm, sizeof(a->vm), "%s", v->name);
	a->state = VM_STATE_MIGRATING;
	a->host = v->host;
	a->migrate_to = v->migrate_to;
	a->offline = v->migrate_offline;
	snprintf(a->reason, sizeof(a->reason), "%s", why);
	return 0;
}

int
migrate_schedule(const struct ha_input *in, struct ha_plan *plan)
{
	const struct state *st = in->st;
	char who[VM_NAME_MAX], why[VM_REASON_MAX];
	int rc = 0;

	for (size_t i = 0; i < st->n_vms && rc == 0; i++) {
		const struct vm_rec *v = &st->vms[i];
		const struct node_rec *src, *dest;

		if (v->state != VM_STATE_MIGRATING)
			continue;
		src = state_node(st, v->host);
		if (src == NULL || src->state != NODE_STATE_ONLINE)
			continue;       /* the source's loss is handled as any host's */
		dest = state_node(st, v->migrate_to);
		node_name(st, v->migrate_to, who, sizeof(who));
		if (dest != NULL && dest->state == NODE_STATE_UNCLEAN) {
			snprintf(why, sizeof(why), "destination %.40s lost; the "
				 "source resumes it once %.40s is fenced", who, who);
			rc = migration_wait(plan, v, why);
		} else if (dest == NULL || dest->state != NODE_STATE_ONLINE) {
			snprintf(why, sizeof(why), "aborted: %.40s is %s", who,
				 dest ? node_state_name(dest->state) : "gone");
			rc = migration_abort(plan, st, v, why, false);
		} else if (migrate_age(in, v) > MIGRATE_TIMEOUT_MS) {
			snprintf(why, sizeof(why), "aborted: not done within %d s",
				 MIGRATE_TIMEOUT_MS / 1000);
			rc = migration_abort(plan, st, v, why, true);
		}
	}
	return rc;
}

static int
drain_step_action(struct ha_plan *plan, const struct state *st, uint32_t host,
		  const struct drain_step *d)
{
	const struct vm_rec *v = state_vm(st, d->vm);
	struct ha_action *a;

	switch (d->kind) {
	case DRAIN_STEP_MIGRATE:
		a = plan_add(plan, HA_ACT_MIGRATE);
		if (a == NULL)
			return -ENOMEM;
		snprintf(a->vm, sizeof(a->vm), "%s", d->vm);
		a->host = d->dest;
		a->offline = d->offline;
		snprintf(a->reason, sizeof(a->reason), "%s", d->reason);
		return 0;
	case DRAIN_STEP_SHUTDOWN:
		if (v == NULL)
			return 0;
		return vm_set(plan, v, VM_STATE_STOPPING, v->host, 0, d->reason);
	case DRAIN_STEP_DONE:
		a = plan_add(plan, HA_ACT_DRAIN_DONE);
		if (a == NULL)
			return -ENOMEM;
		a->node = host;
		snprintf(a->reason, sizeof(a->reason), "%s", d->reason);
		return 0;
	}
	return -EINVAL;
}

int
drain_schedule(const struct ha_input *in, struct ha_plan *plan)
{
	const struct state *st = in->st;
	int rc = 0;

	for (size_t i = 0; i < st->n_nodes && rc == 0; i++) {
		struct drain_step *steps = NULL;
		size_t n = 0;

		if (!(st->nodes[i].flags & NODE_FLAG_DRAINING))
			continue;
		rc = drain_next(st, st->nodes[i].id, &steps, &n);
		for (size_t k = 0; rc == 0 && k < n; k++)
			rc = drain_step_action(plan, st, st->nodes[i].id, &steps[k]);
		free(steps);
	}
	return rc;
}

static int
offline_stopped(const struct ha_input *in, const struct vm_rec *v,
		struct ha_plan *plan)
{
	const struct state *st = in->st;
	const struct node_rec *dest = state_node(st, v->migrate_to);
	const char *not = "gone";
	char who[VM_NAME_MAX], src[VM_NAME_MAX], why[VM_REASON_MAX];

	node_name(st, v->host, src, sizeof(src));
	node_name(st, v->migrate_to, who, sizeof(who));
	if (dest != NULL && node_takes_vms(dest, &not) && !st->frozen) {
		snprintf(why, sizeof(why), "moved offline from %.40s", src);
		return vm_set(plan, v, VM_STATE_STARTING, dest->id,
			      v->generation + 1, why);
	}
	/* stopped and still wanted: placed anywhere by the next run */
	snprintf(why, sizeof(why), "offline move from %.40s: %.40s takes no VMs "
		 "now (%s)", src, who, st->frozen ? "cluster maintenance" : not);
	return vm_set(plan, v, VM_STATE_STOPPED, 0, 0, why);
}

int
migrate_host_event(const struct ha_input *in, const struct ha_event *ev,
		   struct ha_plan *plan)
{
	const struct state *st = in->st;
	const struct vm_rec *v = state_vm(st, ev->vm);
	char why[VM_REASON_MAX], who[VM_NAME_MAX];
	int rc;

	if (v == NULL || v->state != VM_STATE_MIGRATING ||
	    ev->generation != v->generation)
		return 0;
	switch (ev->kind) {
	case XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATED:
		if (ev->host != v->migrate_to || v->migrate_offline)
			return 1;
		/* the commit point */
		rc = vm_set(plan, v, VM_STATE_RUNNING, v->migrate_to, 0, "");
		return rc < 0 ? rc : 1;
	case XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATE_FAILED:
		if (ev->host != v->host && ev->host != v->migrate_to)
			return 1;
		snprintf(why, sizeof(why), "failed on %.40s: %.139s",
			 node_name(st, ev->host, who, sizeof(who)),
			 ev->reason ? ev->reason : "no reason given");
		rc = migration_abort(plan, st, v, why, true);
		return rc < 0 ? rc : 1;
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED:
		if (ev->host != v->host || !v->migrate_offline)
			return 0;
		rc = offline_stopped(in, v, plan);
		return rc < 0 ? rc : 1;
	default:
		return 0;
	}
}
