/* Planned maintenance ops; see maint.h.
 *
 * Pure: no I/O, no logging.  Refusals come back as a negative errno with
 * one sentence in `why`, which agentctl shows as it is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "maint.h"
#include "xm_error.h"

bool
node_takes_vms(const struct node_rec *n, const char **why)
{
	if (n->role != NODE_ROLE_DOM0) {
		*why = "SAN node";
		return false;
	}
	if (n->state != NODE_STATE_ONLINE) {
		*why = node_state_name(n->state);
		return false;
	}
	if (n->flags & NODE_FLAG_MAINTENANCE) {
		*why = "maintenance";
		return false;
	}
	if (n->flags & NODE_FLAG_STANDBY) {
		*why = "standby";
		return false;
	}
	/* its initiator is revoked until it rejoins clean */
	if (n->flags & NODE_FLAG_STORAGE_FENCED) {
		*why = "storage fenced";
		return false;
	}
	/* without a watchdog a lost host could never be proven dead by the
	 * deadline: it takes no HA VMs */
	if (n->watchdog_s == 0) {
		*why = "no watchdog";
		return false;
	}
	*why = NULL;
	return true;
}

static bool
holds_memory(enum vm_state st)
{
	return st == VM_STATE_STARTING || st == VM_STATE_RUNNING ||
	       st == VM_STATE_STOPPING || st == VM_STATE_MIGRATING ||
	       st == VM_STATE_RECOVERING;
}

uint64_t
state_host_used_mb(const struct state *s, uint32_t host)
{
	uint64_t used = 0;

	for (size_t i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];

		if (!holds_memory(v->state))
			continue;
		if (v->host == host ||
		    (v->state == VM_STATE_MIGRATING && v->migrate_to == host))
			used += v->memory_mb;
	}
	return used;
}

/* A VM of v's anti-affinity group on (or moving to) dest, or NULL. */
static const struct vm_rec *
group_member_on(const struct state *s, const struct vm_rec *v, uint32_t dest)
{
	if (v->ha.anti_affinity[0] == '\0')
		return NULL;
	for (size_t i = 0; i < s->n_vms; i++) {
		const struct vm_rec *o = &s->vms[i];

		if (o == v || !holds_memory(o->state) ||
		    strcmp(o->ha.anti_affinity, v->ha.anti_affinity) != 0)
			continue;
		if (o->host == dest ||
		    (o->state == VM_STATE_MIGRATING && o->migrate_to == dest))
			return o;
	}
	return NULL;
}

int
migrate_check(const struct state *s, const struct vm_rec *v,
	      const struct node_rec *dest, bool offline, char *why, size_t whylen)
{
	const struct node_rec *src = state_node(s, v->host);
	const struct vm_rec *other;
	const char *not;
	uint64_t used;

	if (s->frozen) {
		xm_why(why, whylen, "the cluster is in maintenance (agentctl "
		       "cluster maintenance off)");
		return -EBUSY;
	}
	if (v->state != VM_STATE_RUNNING || src == NULL) {
		xm_why(why, whylen, "VM %s is %s: only a running VM migrates",
		       v->name, vm_state_name(v->state));
		return -EBUSY;
	}
	if (dest->id == v->host) {
		xm_why(why, whylen, "VM %s already runs on %s", v->name, dest->name);
		return -EALREADY;
	}
	if (src->state != NODE_STATE_ONLINE) {
		xm_why(why, whylen, "VM %s: its host %s is %s", v->name, src->name,
		       node_state_name(src->state));
		return -EBUSY;
	}
	if (!node_takes_vms(dest, &not)) {
		xm_why(why, whylen, "%s takes no VMs (%s)", dest->name, not);
		return -EINVAL;
	}
	used = state_host_used_mb(s, dest->id);
	if (used > dest->mem_total_mb || dest->mem_total_mb - used < v->memory_mb) {
		xm_why(why, whylen, "needs %" PRIu64 " MB, %s has %" PRIu64 " MB free",
		       v->memory_mb, dest->name,
		       used > dest->mem_total_mb ? 0 : dest->mem_total_mb - used);
		return -ENOSPC;
	}
	other = group_member_on(s, v, dest->id);
	if (other != NULL) {
		xm_why(why, whylen, "anti-affinity group %s: %s already runs %s",
		       v->ha.anti_affinity, dest->name, other->name);
		return -EINVAL;
	}
	if (!offline && strcmp(src->cpu, dest->cpu) != 0) {
		xm_why(why, whylen, "CPU class differs (%s: %s, %s: %s): live "
		       "migration needs the same; use --offline",
		       src->name, src->cpu[0] ? src->cpu : "unknown",
		       dest->name, dest->cpu[0] ? dest->cpu : "unknown");
		return -EINVAL;
	}
	/* the destination dials the source's channel with its own */
	if (!offline && (dest->peer_addr[0] == '\0' || src->peer_addr[0] == '\0')) {
		xm_why(why, whylen, "%s has no peer channel address (its agent "
		       "has no [peer] listen); use --offline",
		       dest->peer_addr[0] == '\0' ? dest->name : src->name);
		return -EINVAL;
	}
	if (state_vm_has_volumes(s, v->name) && s->active_san == 0) {
		xm_why(why, whylen, "no SAN node exports the volumes of %s now",
		       v->name);
		return -EAGAIN;
	}
	return 0;
}

bool
maint_op_kind(const Xenmesh__Op *op)
{
	return op->kind_case == XENMESH__OP__KIND_VM_MIGRATE ||
	       op->kind_case == XENMESH__OP__KIND_NODE_DRAIN ||
	       op->kind_case == XENMESH__OP__KIND_CLUSTER_MAINTENANCE;
}

static int
validate_migrate(const struct state *s, const Xenmesh__OpVmMigrate *o,
		 char *why, size_t whylen)
{
	const struct vm_rec *v = state_vm(s, o->name);
	const struct node_rec *dest = state_node(s, o->host);

	if (v == NULL || v->config == NULL) {
		xm_why(why, whylen, "no VM named %.63s", o->name);
		return -ENOENT;
	}
	if (dest == NULL) {
		xm_why(why, whylen, "no node with id %u", o->host);
		return -ENOENT;
	}
	return migrate_check(s, v, dest, o->has_offline && o->offline, why, whylen);
}

static int
validate_drain(const struct state *s, const Xenmesh__OpNodeDrain *o, char *why,
	       size_t whylen)
{
	const struct node_rec *n = state_node(s, o->id);

	if (n == NULL) {
		xm_why(why, whylen, "no node with id %u", o->id);
		return -ENOENT;
	}
	if (n->role != NODE_ROLE_DOM0) {
		xm_why(why, whylen, "%s is a SAN node: only dom0 hosts run VMs",
		       n->name);
		return -EINVAL;
	}
	if (o->on && (!o->has_parallel || o->parallel == 0 ||
		      o->parallel > DRAIN_PARALLEL_MAX)) {
		xm_why(why, whylen, "parallel migrations must be 1..%d",
		       DRAIN_PARALLEL_MAX);
		return -EINVAL;
	}
	if (o->on && s->frozen) {
		xm_why(why, whylen, "the cluster is in maintenance (agentctl "
		       "cluster maintenance off)");
		return -EBUSY;
	}
	return 0;
}

int
maint_validate(const struct state *s, const Xenmesh__Op *op, char *why,
	       size_t whylen)
{
	switch (op->kind_case) {
	case XENMESH__OP__KIND_VM_MIGRATE:
		if (op->vm_migrate == NULL || op->vm_migrate->name == NULL)
			break;
		return validate_migrate(s, op->vm_migrate, why, whylen);
	case XENMESH__OP__KIND_NODE_DRAIN:
		if (op->node_drain == NULL)
			break;
		return validate_drain(s, op->node_drain, why, whylen);
	case XENMESH__OP__KIND_CLUSTER_MAINTENANCE:
		if (op->cluster_maintenance == NULL)
			break;
		return 0;
	default:
		xm_why(why, whylen, "not a maintenance operation");
		return -EINVAL;
	}
	xm_why(why, whylen, "operation kind %d has no body", (int)op->kind_case);
	return -EINVAL;
}

void
maint_apply(struct state *s, const Xenmesh__Op *op)
{
	struct vm_rec *v;
	struct node_rec *n;

	switch (op->kind_case) {
	case XENMESH__OP__KIND_VM_MIGRATE:
		v = (struct vm_rec *)state_vm(s, op->vm_migrate->name);
		v->state = VM_STATE_MIGRATING;
		v->migrate_to = op->vm_migrate->host;
		v->migrate_offline = op->vm_migrate->has_offline &&
				     op->vm_migrate->offline;
		v->migrate_since_ms = op->vm_migrate->now_ms ? op->vm_migrate->now_ms : 1;
		v->reason[0] = '\0';
		break;
	case XENMESH__OP__KIND_NODE_DRAIN:
		n = (struct node_rec *)state_node(s, op->node_drain->id);
		if (op->node_drain->on) {
			n->flags |= NODE_FLAG_MAINTENANCE | NODE_FLAG_DRAINING;
			n->drain_parallel = op->node_drain->parallel;
			n->drain_force = op->node_drain->has_force &&
					 op->node_drain->force;
		} else {
			n->flags &= ~(uint32_t)(NODE_FLAG_MAINTENANCE | NODE_FLAG_DRAINING |
						NODE_FLAG_LEAVING);
			n->drain_parallel = 0;
			n->drain_force = false;
		}
		/* a new drain, or none: every VM gets its chance again */
		for (size_t i = 0; i < s->n_vms; i++)
			if (s->vms[i].drain_skip == n->id)
				s->vms[i].drain_skip = 0;
		break;
	case XENMESH__OP__KIND_CLUSTER_MAINTENANCE:
		s->frozen = op->cluster_maintenance->on;
		break;
	default:
		break;
	}
}

size_t
maint_leave_strands(const struct state *s, uint32_t me, uint32_t total_votes,
		    uint32_t quorum, char *names, size_t len)
{
	size_t k = 0, used = 0;
	uint64_t gone = 1;

	if (len > 0)
		names[0] = '\0';
	for (size_t i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].id != me && s->nodes[i].state == NODE_STATE_ONLINE &&
		    (s->nodes[i].flags & NODE_FLAG_LEAVING))
			gone++;
	if ((uint64_t)total_votes >= (uint64_t)quorum + gone)
		return 0;
	for (size_t i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];
		const struct node_rec *h;
		int w;

		if (v->host == 0 || v->host == me ||
		    (v->state != VM_STATE_STARTING && v->state != VM_STATE_RUNNING &&
		     v->state != VM_STATE_STOPPING && v->state != VM_STATE_MIGRATING))
			continue;
		h = state_node(s, v->host);
		k++;
		if (used >= len)
			continue;
		w = snprintf(names + used, len - used, "%s%s on %s", used ? ", " : "",
			     v->name, h != NULL ? h->name : "?");
		/* a name that does not fit is left out whole */
		if (w < 0 || (size_t)w >= len - used)
			names[used] = '\0', used = len;
		else
			used += (size_t)w;
	}
	return k;
}

int
maint_leave_check(const struct state *s, uint32_t id, uint32_t total_votes,
		  uint32_t quorum, char *why, size_t whylen)
{
	const struct node_rec *n = state_node(s, id);
	char names[160];
	size_t k;

	if (n == NULL) {
		xm_why(why, whylen, "no node with id %u", id);
		return -ENOENT;
	}
	for (size_t i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];

		/* the states prepare-shutdown waits out (a failed VM left
		 * with its host runs nothing there) */
		if ((v->state == VM_STATE_STARTING || v->state == VM_STATE_RUNNING ||
		     v->state == VM_STATE_STOPPING || v->state == VM_STATE_MIGRATING) &&
		    (v->host == id || v->migrate_to == id)) {
			xm_why(why, whylen, "%s cannot leave: VM %s is still %s there",
			       n->name, v->name, vm_state_name(v->state));
			return -EBUSY;
		}
	}
	k = maint_leave_strands(s, id, total_votes, quorum, names, sizeof(names));
	if (k > 0) {
		xm_why(why, whylen, "%s leaving would cost the others quorum while "
		       "%zu VM(s) run there (%s)", n->name, k, names);
		return -EBUSY;
	}
	return 0;
}
