/* The coordinator's storage work: naming the active SAN node, committing
 * what the SAN nodes report (volumes made, a VM's target admitting its new
 * host), and the `storage` fence method.
 *
 * Storage fencing host H: commit H's STORAGE_FENCED flag (the replicated
 * set of fenced initiators); every SAN node then drops H's initiator from
 * every ACL and closes its sessions, reads its target daemon back and
 * reports HOST_STORAGE_FENCED on a state that holds the flag.  The method
 * confirms once every online SAN node has reported and no SAN node is
 * unclean (one cut off may still export with the old ACLs).  It refuses a host
 * running a VM without SAN volumes: revoking the initiator would not stop
 * that VM's writes, so the next level must fence the host.
 */
#define LOG_SUBSYS "coord"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "coord_int.h"
#include "log.h"
#include "voltable.h"
#include "xm_error.h"

struct storage_fence {
	struct coord *co;
	void *data;                     /* the fence run; NULL once forgotten */
	fence_method_done_fn done;
	uint32_t node;
	char host[STATE_NAME_MAX];
	uint64_t need_seq;              /* reports on a state older do not count */
	uint32_t confirmed[STATE_MAX_NODES];
	size_t n_confirmed;
	char fail[256];
	bool job_pending;
};

static void
sf_remove(struct coord *co, struct storage_fence *sf)
{
	for (size_t i = 0; i < co->n_sf; i++) {
		if (co->sf[i] == sf) {
			co->sf[i] = co->sf[--co->n_sf];
			break;
		}
	}
}

static void
sf_fail_job(void *arg)
{
	struct storage_fence *sf = arg;

	sf->job_pending = false;
	if (sf->data != NULL) {
		sf_remove(sf->co, sf);
		sf->done(sf->data, FENCE_RESULT_FAILED, sf->fail);
	}
	free(sf);
}

/* done must come later, from the loop: a failure found at once waits for
 * a job. */
static int
sf_fail_later(struct storage_fence *sf, const char *msg)
{
	snprintf(sf->fail, sizeof(sf->fail), "%s", msg);
	sf->job_pending = true;
	if (qb_loop_job_add(sf->co->a->loop, QB_LOOP_MED, sf, sf_fail_job) != 0) {
		sf_remove(sf->co, sf);
		free(sf);
		return -ENOMEM;
	}
	return 0;
}

static size_t
san_online(const struct state *st, uint32_t *ids)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].role == NODE_ROLE_SAN &&
		    st->nodes[i].state == NODE_STATE_ONLINE)
			ids[n++] = st->nodes[i].id;
	return n;
}

static bool
sf_complete(struct storage_fence *sf)
{
	const struct state *st = &sf->co->a->rep.st;
	uint32_t ids[STATE_MAX_NODES];
	size_t n = san_online(st, ids);

	if (n == 0)
		return false;
	/* a SAN node lost uncleanly may still export with the old ACLs: the
	 * others' word proves nothing until it is fenced itself */
	for (size_t i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].role == NODE_ROLE_SAN &&
		    st->nodes[i].state == NODE_STATE_UNCLEAN)
			return false;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < sf->n_confirmed && !seen; k++)
			seen = sf->confirmed[k] == ids[i];
		if (!seen)
			return false;
	}
	return true;
}

int
coord_storage_fence(void *cop, const char *host, uint32_t timeout_ms,
		    fence_method_done_fn done, void *data)
{
	struct coord *co = cop;
	struct agent *a = co->a;
	const struct state *st = &a->rep.st;
	const struct node_rec *n = state_node_by_name(st, host);
	struct storage_fence *sf;
	uint32_t ids[STATE_MAX_NODES];
	char msg[256];

	(void)timeout_ms;       /* the chain times the method out */
	if (n == NULL || co->n_sf >= STATE_MAX_NODES)
		return -EINVAL;
	sf = calloc(1, sizeof(*sf));
	if (sf == NULL)
		return -ENOMEM;
	sf->co = co;
	sf->data = data;
	sf->done = done;
	sf->node = n->id;
	snprintf(sf->host, sizeof(sf->host), "%s", host);
	co->sf[co->n_sf++] = sf;
	if (n->role != NODE_ROLE_DOM0)
		return sf_fail_later(sf, "a SAN node has no initiator to revoke: fence "
				     "it by power or by the deadline");
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];

		if (v->host == n->id && vm_uses_storage(v) &&
		    !state_vm_has_volumes(st, v->name)) {
			snprintf(msg, sizeof(msg), "VM %s has no SAN volumes: revoking "
				 "the host's initiator cannot stop it", v->name);
			return sf_fail_later(sf, msg);
		}
	}
	if (san_online(st, ids) == 0)
		return sf_fail_later(sf, "no SAN node is online to revoke the initiator");
	if (!(n->flags & NODE_FLAG_STORAGE_FENCED)) {
		Xenmesh__Op op = XENMESH__OP__INIT;
		Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
		int rc;

		nf.id = n->id;
		nf.set = NODE_FLAG_STORAGE_FENCED;
		op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
		op.node_flags = &nf;
		rc = replica_commit(&a->rep, &op);
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "cannot commit the fenced initiator: %s",
				 xm_strerror(rc));
			return sf_fail_later(sf, msg);
		}
		sf->need_seq = a->rep.commit_seq;
	} else {
		sf->need_seq = st->seq;
	}
	log_notice("storage fence of %s: revoking its initiator on every SAN node "
		   "(reports from state seq %" PRIu64 " on)", host, sf->need_seq);
	return 0;
}

void
coord_storage_forget(struct coord *co, void *data)
{
	for (size_t i = 0; co != NULL && i < co->n_sf;) {
		struct storage_fence *sf = co->sf[i];

		if (sf->data != data) {
			i++;
			continue;
		}
		co->sf[i] = co->sf[--co->n_sf];
		sf->data = NULL;
		if (!sf->job_pending)
			free(sf);
	}
}

void
coord_storage_free(struct coord *co)
{
	while (co->n_sf > 0)
		coord_storage_forget(co, co->sf[0]->data);
}

static void
fenced_report(struct coord *co, uint32_t sender, const Xenmesh__HostEvent *ev)
{
	const struct state *st = &co->a->rep.st;
	const struct node_rec *san = state_node(st, sender);
	char msg[256];

	if (san == NULL || san->role != NODE_ROLE_SAN || ev->fenced == NULL) {
		log_warn("storage fence report from node %" PRIu32 " ignored: not a "
			 "SAN node", sender);
		return;
	}
	for (size_t i = 0; i < co->n_sf; i++) {
		struct storage_fence *sf = co->sf[i];
		bool seen = false;

		if (strcmp(sf->host, ev->fenced) != 0 || sf->job_pending)
			continue;
		if (!ev->has_state_seq || ev->state_seq < sf->need_seq)
			continue;       /* read before the flag: proves nothing */
		for (size_t k = 0; k < sf->n_confirmed && !seen; k++)
			seen = sf->confirmed[k] == sender;
		if (!seen && sf->n_confirmed < STATE_MAX_NODES)
			sf->confirmed[sf->n_confirmed++] = sender;
		if (!sf_complete(sf))
			continue;
		snprintf(msg, sizeof(msg), "initiator revoked and sessions closed, "
			 "read back from the target daemon of %zu SAN node(s)",
			 sf->n_confirmed);
		co->sf[i] = co->sf[--co->n_sf];
		sf->done(sf->data, FENCE_RESULT_OK, msg);
		free(sf);
		return;
	}
}

static int
commit(struct coord *co, Xenmesh__Op *op, const char *what)
{
	int rc = replica_commit(&co->a->rep, op);

	if (rc < 0)
		log_err("cannot commit %s: %s", what, xm_strerror(rc));
	return rc;
}

static void
volume_report(struct coord *co, uint32_t sender, const Xenmesh__HostEvent *ev)
{
	const struct state *st = &co->a->rep.st;
	const struct vol_rec *v = state_vol(st, ev->vm);
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeSet set = XENMESH__OP_VOLUME_SET__INIT;
	Xenmesh__OpVolumeRemove rm = XENMESH__OP_VOLUME_REMOVE__INIT;

	if (v == NULL)
		return;
	if (ev->kind == XENMESH__HOST_EVENT_KIND__HOST_VOLUME_REMOVED) {
		if (v->state != VOL_STATE_REMOVING)
			return;
		rm.name = (char *)v->name;
		op.kind_case = XENMESH__OP__KIND_VOLUME_REMOVE;
		op.volume_remove = &rm;
		(void)commit(co, &op, "a volume removal");
		return;
	}
	if (v->state != VOL_STATE_CREATING)
		return;
	set.name = (char *)v->name;
	set.state = ev->kind == XENMESH__HOST_EVENT_KIND__HOST_VOLUME_READY ?
		    "ready" : "failed";
	set.reason = ev->reason;
	op.kind_case = XENMESH__OP__KIND_VOLUME_SET;
	op.volume_set = &set;
	if (commit(co, &op, "a volume state") == 0 && ev->reason != NULL)
		log_err("volume %s could not be made on node %" PRIu32 ": %s",
			v->name, sender, ev->reason);
}

static void
vm_storage_report(struct coord *co, const Xenmesh__HostEvent *ev)
{
	const struct vm_rec *v = state_vm(&co->a->rep.st, ev->vm);
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmStorage vs = XENMESH__OP_VM_STORAGE__INIT;
	uint32_t dest = ev->has_dest ? ev->dest : 0;

	/* a read-back of an older plan (the migration ended meanwhile) says
	 * nothing about the current one */
	if (v == NULL || v->generation != ev->generation ||
	    dest != (v->state == VM_STATE_MIGRATING ? v->migrate_to : 0) ||
	    (v->storage_gen == ev->generation && v->storage_dest == dest))
		return;
	vs.name = (char *)v->name;
	vs.generation = ev->generation;
	vs.has_dest = dest != 0;
	vs.dest = dest;
	op.kind_case = XENMESH__OP__KIND_VM_STORAGE;
	op.vm_storage = &vs;
	(void)commit(co, &op, "a VM's storage generation");
}

static void
clean_report(struct coord *co, uint32_t sender)
{
	const struct node_rec *n = state_node(&co->a->rep.st, sender);
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;

	if (n == NULL || !(n->flags & NODE_FLAG_STORAGE_FENCED) ||
	    n->state != NODE_STATE_ONLINE)
		return;
	nf.id = n->id;
	nf.clear = NODE_FLAG_STORAGE_FENCED;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &nf;
	if (commit(co, &op, "an unfence") == 0) {
		log_notice("%s rejoined with no stale HA domain: unfencing its "
			   "initiator", n->name);
		(void)eventlog_add(&co->a->events, co->a->rep.st.epoch,
				   co->a->rep.st.seq, n->id, "fence",
				   "%s unfenced: rejoined clean, no stale HA domain",
				   n->name);
	}
}

bool
coord_storage_event(struct coord *co, uint32_t host, const Xenmesh__HostEvent *ev)
{
	const struct state *st = &co->a->rep.st;

	switch (ev->kind) {
	case XENMESH__HOST_EVENT_KIND__HOST_STORAGE_FENCED:
		fenced_report(co, host, ev);
		return true;
	case XENMESH__HOST_EVENT_KIND__HOST_CLEAN:
		clean_report(co, host);
		return true;
	case XENMESH__HOST_EVENT_KIND__HOST_VOLUME_READY:
	case XENMESH__HOST_EVENT_KIND__HOST_VOLUME_FAILED:
	case XENMESH__HOST_EVENT_KIND__HOST_VOLUME_REMOVED:
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STORAGE:
		/* only the active SAN node speaks for the targets */
		if (host != st->active_san) {
			log_warn("storage report from node %" PRIu32 " refused: the "
				 "active SAN node is %" PRIu32, host, st->active_san);
			return true;
		}
		if (ev->kind == XENMESH__HOST_EVENT_KIND__HOST_VM_STORAGE)
			vm_storage_report(co, ev);
		else
			volume_report(co, host, ev);
		return true;
	default:
		return false;
	}
}

/* The active SAN node stays while online.  One that was lost uncleanly
 * may still export: the other takes over only once it is fenced (or it
 * left cleanly, having taken its targets down first). */
void
coord_storage_schedule(struct coord *co)
{
	struct agent *a = co->a;
	const struct state *st = &a->rep.st;
	const struct node_rec *cur = state_node(st, st->active_san);
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpSanActive sa = XENMESH__OP_SAN_ACTIVE__INIT;
	uint32_t pick = 0;

	if (!a->rep.synced || !replica_caught_up(&a->rep) || !a->qv.quorate)
		return;
	if (cur != NULL && (cur->state == NODE_STATE_ONLINE ||
			    cur->state == NODE_STATE_UNCLEAN))
		return;
	for (size_t i = 0; i < st->n_nodes && pick == 0; i++) {
		const struct node_rec *n = &st->nodes[i];

		if (n->role == NODE_ROLE_SAN && n->state == NODE_STATE_ONLINE &&
		    n->watchdog_s > 0 && !(n->flags & NODE_FLAG_MAINTENANCE))
			pick = n->id;
	}
	if (pick == st->active_san)
		return;
	sa.id = pick;
	op.kind_case = XENMESH__OP__KIND_SAN_ACTIVE;
	op.san_active = &sa;
	if (commit(co, &op, "the active SAN node") == 0)
		log_notice("active SAN node: %s (was %s)",
			   pick ? state_node(st, pick)->name : "none",
			   cur ? cur->name : "none");
}
