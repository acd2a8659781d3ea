/* The planned-maintenance commands of agentctl; see ctl_maint.h.
 *
 * A drain answers with its plan (drain_plan() over the state this node
 * holds, the same function the coordinator runs), and is refused here
 * already when the plan cannot move every VM live and --force was not
 * given: the admin reads why before anything moves.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctl_maint.h"
#include "ctl_vm.h"
#include "drain.h"
#include "log.h"
#include "maint.h"
#include "xm_error.h"

#define MSG_MAX 640

static const struct node_rec *
node_arg(struct agent *a, qb_ipcs_connection_t *c, const char *name, bool dom0)
{
	const struct node_rec *n = state_node_by_name(&a->rep.st, name);
	char msg[MSG_MAX];

	if (n == NULL) {
		snprintf(msg, sizeof(msg), "no node named %.64s", name);
		ctl_server_reply(c, -ENOENT, msg);
		return NULL;
	}
	if (dom0 && n->role != NODE_ROLE_DOM0) {
		snprintf(msg, sizeof(msg), "%s is a SAN node: VMs run on dom0 hosts",
			 n->name);
		ctl_server_reply(c, -EINVAL, msg);
		return NULL;
	}
	return n;
}

/* ---- vm migrate ----------------------------------------------------------- */

static void
vm_migrate(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	   const Xenmesh__CtlRequest *req)
{
	const struct state *st = &a->rep.st;
	const struct vm_rec *v;
	const struct node_rec *dest, *src;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmMigrate mig = XENMESH__OP_VM_MIGRATE__INIT;
	struct ctl_mutation m = { .uid = uid };
	bool offline = req->has_offline && req->offline;
	char msg[MSG_MAX], why[256];
	int rc;

	if (req->n_args != 2) {
		ctl_server_reply(c, -EINVAL, "vm migrate needs VM and HOST");
		return;
	}
	v = state_vm(st, req->args[0]);
	if (v == NULL || v->config == NULL) {
		snprintf(msg, sizeof(msg), "no VM named %.64s", req->args[0]);
		ctl_server_reply(c, -ENOENT, msg);
		return;
	}
	dest = node_arg(a, c, req->args[1], true);
	if (dest == NULL)
		return;
	/* refused here with the reason the coordinator would give */
	rc = migrate_check(st, v, dest, offline, why, sizeof(why));
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "VM %s cannot move to %s: %s", v->name,
			 dest->name, why);
		ctl_server_reply(c, rc, msg);
		return;
	}
	src = state_node(st, v->host);
	mig.name = (char *)v->name;
	mig.host = dest->id;
	mig.has_offline = offline;
	mig.offline = offline;
	mig.has_now_ms = true;
	mig.now_ms = wall_ms();
	op.kind_case = XENMESH__OP__KIND_VM_MIGRATE;
	op.vm_migrate = &mig;
	snprintf(m.what, sizeof(m.what), "vm migrate %s %s -> %s%s", v->name,
		 src ? src->name : "?", dest->name, offline ? " (offline)" : "");
	snprintf(m.done, sizeof(m.done), "VM %s: %s from %s to %s started", v->name,
		 offline ? "offline move" : "live migration", src ? src->name : "?",
		 dest->name);
	m.node = dest->id;
	ctl_server_submit(a, c, &m, &op);
}

/* ---- node drain ------------------------------------------------------------- */

static const char *
action_name(enum drain_action act)
{
	switch (act) {
	case DRAIN_MIGRATE:
		return "migrate";
	case DRAIN_OFFLINE:
		return "offline";
	case DRAIN_SHUTDOWN:
		return "shutdown";
	case DRAIN_STAY:
		return "stay";
	case DRAIN_MOVING:
		return "moving";
	case DRAIN_WAIT:
		return "wait";
	}
	return "?";
}

struct drain_answer {
	struct drain_plan plan;
	Xenmesh__DrainItem *items;
	Xenmesh__DrainItem **ptrs;
	const struct state *st;
};

static void
answer_free(struct drain_answer *d)
{
	drain_plan_free(&d->plan);
	free(d->items);
	free(d->ptrs);
	free(d);
}

/* Reply with the plan, the result and message. */
static void
answer_send(struct drain_answer *d, qb_ipcs_connection_t *c, int result,
	    const char *message)
{
	Xenmesh__CtlResponse resp = XENMESH__CTL_RESPONSE__INIT;

	resp.result = result;
	resp.message = (char *)message;
	resp.n_drain_plan = d->plan.n;
	resp.drain_plan = d->ptrs;
	resp.has_drain_ok = true;
	resp.drain_ok = d->plan.ok;
	ctl_server_answer(c, &resp);
}

static int
answer_build(struct drain_answer *d, const struct state *st, uint32_t host)
{
	int rc = drain_plan(st, host, &d->plan);

	if (rc < 0)
		return rc;
	d->items = calloc(d->plan.n + 1, sizeof(*d->items));
	d->ptrs = calloc(d->plan.n + 1, sizeof(*d->ptrs));
	if (d->items == NULL || d->ptrs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < d->plan.n; i++) {
		const struct drain_item *it = &d->plan.items[i];
		const struct node_rec *n = state_node(st, it->dest);
		Xenmesh__DrainItem *x = &d->items[i];

		xenmesh__drain_item__init(x);
		x->vm = (char *)it->vm;
		x->action = (char *)action_name(it->action);
		x->dest = n != NULL && it->dest != 0 ? (char *)n->name : NULL;
		x->reason = it->reason[0] ? (char *)it->reason : NULL;
		x->has_priority = true;
		x->priority = it->priority;
		d->ptrs[i] = x;
	}
	return 0;
}

/* The plan's problem in one sentence: what keeps it from going ahead. */
static void
refusal_text(const struct drain_answer *d, const char *host, char *buf, size_t len)
{
	size_t n_off = 0, n_shut = 0, n_other = 0;

	for (size_t i = 0; i < d->plan.n; i++) {
		enum drain_action act = d->plan.items[i].action;

		n_off += act == DRAIN_OFFLINE;
		n_shut += act == DRAIN_SHUTDOWN;
		n_other += act == DRAIN_STAY || act == DRAIN_WAIT;
	}
	snprintf(buf, len, "drain of %s refused: %zu VM(s) cannot move live "
		 "(%zu offline, %zu no host fits, %zu staying or busy); --force moves "
		 "them offline and shuts down what fits nowhere, in priority order",
		 host, n_off + n_shut + n_other, n_off, n_shut, n_other);
}

static void
drain_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	   const char *reason)
{
	struct drain_answer *d = data;

	(void)a;
	if (c != NULL)
		answer_send(d, c, result, result < 0 ? reason : "drain started");
	answer_free(d);
}

static void
node_drain(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	   const Xenmesh__CtlRequest *req)
{
	const struct state *st = &a->rep.st;
	const struct node_rec *n;
	struct drain_answer *d;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeDrain nd = XENMESH__OP_NODE_DRAIN__INIT;
	struct ctl_mutation m = { .uid = uid };
	bool force = req->has_force && req->force;
	uint32_t parallel = req->has_parallel ? req->parallel : 1;
	char msg[MSG_MAX];
	int rc;

	if (req->n_args != 1) {
		ctl_server_reply(c, -EINVAL, "node drain needs HOST");
		return;
	}
	if (parallel == 0 || parallel > DRAIN_PARALLEL_MAX) {
		snprintf(msg, sizeof(msg), "--parallel must be 1 to %d",
			 DRAIN_PARALLEL_MAX);
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	n = node_arg(a, c, req->args[0], true);
	if (n == NULL)
		return;
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	rc = answer_build(d, st, n->id);
	if (rc < 0) {
		ctl_server_reply(c, rc, "cannot compute the drain plan");
		answer_free(d);
		return;
	}
	if (req->has_dry_run && req->dry_run) {
		answer_send(d, c, 0, d->plan.ok ? "dry run: every VM can move live" :
			    "dry run: not every VM can move live");
		answer_free(d);
		return;
	}
	if (!d->plan.ok && !force) {
		refusal_text(d, n->name, msg, sizeof(msg));
		answer_send(d, c, -EBUSY, msg);
		answer_free(d);
		return;
	}
	nd.id = n->id;
	nd.on = true;
	nd.has_parallel = true;
	nd.parallel = parallel;
	nd.has_force = force;
	nd.force = force;
	op.kind_case = XENMESH__OP__KIND_NODE_DRAIN;
	op.node_drain = &nd;
	snprintf(m.what, sizeof(m.what), "node drain %s (parallel %" PRIu32 "%s)",
		 n->name, parallel, force ? ", force" : "");
	m.node = n->id;
	m.then = drain_then;
	m.then_data = d;
	ctl_server_submit(a, c, &m, &op);
}

/* ---- node undrain ------------------------------------------------------------- */

struct undrain {
	uint32_t host;
	bool rebalance;
};

/* Back to the host they prefer first: the VMs whose ha_hosts start with
 * it and that may move there now. */
static unsigned
rebalance(struct agent *a, uint32_t uid, uint32_t host)
{
	const struct state *st = &a->rep.st;
	const struct node_rec *n = state_node(st, host);
	unsigned k = 0;
	char why[256];

	for (size_t i = 0; n != NULL && i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		Xenmesh__Op op = XENMESH__OP__INIT;
		Xenmesh__OpVmMigrate mig = XENMESH__OP_VM_MIGRATE__INIT;
		struct ctl_mutation m = { .uid = uid };

		if (v->ha.n_hosts == 0 || strcmp(v->ha.hosts[0], n->name) != 0 ||
		    v->host == host || migrate_check(st, v, n, false, why, sizeof(why)) < 0)
			continue;
		mig.name = (char *)v->name;
		mig.host = host;
		mig.has_now_ms = true;
		mig.now_ms = wall_ms();
		op.kind_case = XENMESH__OP__KIND_VM_MIGRATE;
		op.vm_migrate = &mig;
		snprintf(m.what, sizeof(m.what), "rebalance: vm migrate %s -> %s",
			 v->name, n->name);
		m.node = host;
		ctl_server_submit(a, NULL, &m, &op);
		k++;
	}
	return k;
}

static void
undrain_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	     const char *reason)
{
	struct undrain *u = data;
	const struct node_rec *n = state_node(&a->rep.st, u->host);
	char msg[MSG_MAX];
	unsigned k;

	if (result < 0) {
		ctl_server_reply(c, result, reason);
		free(u);
		return;
	}
	if (!u->rebalance) {
		snprintf(msg, sizeof(msg), "%s is out of maintenance; new VMs may land "
			 "there", n ? n->name : "host");
	} else {
		k = rebalance(a, 0, u->host);
		snprintf(msg, sizeof(msg), "%s is out of maintenance; %u VM(s) that "
			 "prefer it migrate back", n ? n->name : "host", k);
	}
	ctl_server_reply(c, 0, msg);
	free(u);
}

static void
node_undrain(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	     const Xenmesh__CtlRequest *req)
{
	const struct node_rec *n;
	struct undrain *u;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeDrain nd = XENMESH__OP_NODE_DRAIN__INIT;
	struct ctl_mutation m = { .uid = uid };

	if (req->n_args != 1) {
		ctl_server_reply(c, -EINVAL, "node undrain needs HOST");
		return;
	}
	n = node_arg(a, c, req->args[0], true);
	if (n == NULL)
		return;
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	u->host = n->id;
	u->rebalance = req->has_rebalance && req->rebalance;
	nd.id = n->id;
	nd.on = false;
	op.kind_case = XENMESH__OP__KIND_NODE_DRAIN;
	op.node_drain = &nd;
	snprintf(m.what, sizeof(m.what), "node undrain %s%s", n->name,
		 u->rebalance ? " --rebalance" : "");
	m.node = n->id;
	m.then = undrain_then;
	m.then_data = u;
	ctl_server_submit(a, c, &m, &op);
}

/* ---- cluster maintenance ------------------------------------------------------- */

static void
cluster_maintenance(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		    const Xenmesh__CtlRequest *req)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpClusterMaintenance cm = XENMESH__OP_CLUSTER_MAINTENANCE__INIT;
	struct ctl_mutation m = { .uid = uid };
	bool on;

	if (req->n_args != 1 || (strcmp(req->args[0], "on") != 0 &&
				 strcmp(req->args[0], "off") != 0)) {
		ctl_server_reply(c, -EINVAL, "cluster maintenance needs on or off");
		return;
	}
	on = strcmp(req->args[0], "on") == 0;
	cm.on = on;
	op.kind_case = XENMESH__OP__KIND_CLUSTER_MAINTENANCE;
	op.cluster_maintenance = &cm;
	snprintf(m.what, sizeof(m.what), "cluster maintenance %s", on ? "on" : "off");
	snprintf(m.done, sizeof(m.done), "%s", on ?
		 "cluster maintenance on: agents watch and report, but take no "
		 "recovery, fencing or placement action until it is off" :
		 "cluster maintenance off: recovery, fencing and placement resume");
	ctl_server_submit(a, c, &m, &op);
}

/* ---- node prepare-shutdown --------------------------------------------------- */

#define PREPARE_POLL_MS   500
#define PREPARE_PARALLEL  2

struct prepare {
	struct agent *a;
	qb_ipcs_connection_t *c;
	uint64_t deadline_ms;
	qb_loop_timer_handle timer;
	bool stranded_logged;           /* waiting for the others' VMs, said once */
	bool refused_logged;            /* our leave refused, said once */
	bool leave_pending;             /* our leaving mark asked, unanswered */
};

/* VMs the state assigns to this host that are not stopped. */
static size_t
vms_here(const struct state *st, uint32_t me, char *names, size_t len)
{
	size_t k = 0, used = 0;

	if (len > 0)
		names[0] = '\0';
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];

		if (v->host != me || (v->state != VM_STATE_STARTING &&
				      v->state != VM_STATE_RUNNING &&
				      v->state != VM_STATE_STOPPING &&
				      v->state != VM_STATE_MIGRATING))
			continue;
		k++;
		if (used + strlen(v->name) + 3 < len)
			used += (size_t)snprintf(names + used, len - used, "%s%s",
						 used ? ", " : "", v->name);
	}
	return k;
}

static void prepare_poll(void *data);

static void
prepare_again(struct prepare *p)
{
	(void)qb_loop_timer_add(p->a->loop, QB_LOOP_LOW,
				PREPARE_POLL_MS * QB_TIME_NS_IN_MSEC, p,
				prepare_poll, &p->timer);
}

static void
leave_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	   const char *reason)
{
	struct prepare *p = data;

	(void)a;
	(void)c;
	p->leave_pending = false;
	/* refused when another host's leave came first: the next poll
	 * looks again (said once) */
	if (result < 0 && !p->refused_logged) {
		log_notice("prepare-shutdown: not leaving yet: %s", reason ? reason : "refused");
		p->refused_logged = true;
	}
}

/* Mark this host leaving, with the votes it sees: the coordinator and
 * every member check that it strands nothing, in commit order. */
static void
leave_submit(struct prepare *p)
{
	struct agent *a = p->a;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
	struct ctl_mutation m = { .uid = 0 };

	nf.id = a->rep.local_id;
	nf.set = NODE_FLAG_LEAVING;
	nf.has_votes = true;
	nf.votes = a->qin.total_votes;
	nf.has_quorum = true;
	nf.quorum = a->qin.quorum;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &nf;
	snprintf(m.what, sizeof(m.what), "shutdown of %s: leaving", a->node_name);
	m.node = a->rep.local_id;
	m.then = leave_then;
	m.then_data = p;
	p->leave_pending = true;
	ctl_server_submit(a, NULL, &m, &op);
}

static void
prepare_poll(void *data)
{
	struct prepare *p = data;
	struct agent *a = p->a;
	const struct state *st = &a->rep.st;
	const struct node_rec *self = state_node(st, a->rep.local_id);
	char names[256], others[256], msg[MSG_MAX];
	size_t n = vms_here(st, a->rep.local_id, names, sizeof(names));
	bool drained = n == 0 && (self == NULL || !(self->flags & NODE_FLAG_DRAINING));
	size_t stranded = 0;
	int result = 0;

	if (p->leave_pending) {
		prepare_again(p);       /* its answer comes first */
		return;
	}
	if (n == 0 && !a->qv.quorate) {
		/* nobody can move, record or be stranded by anything now */
		snprintf(msg, sizeof(msg), "no VM runs on %s and it has no quorum: "
			 "the agent may stop", a->node_name);
	} else if (drained && (self == NULL || (self->flags & NODE_FLAG_LEAVING))) {
		snprintf(msg, sizeof(msg), "no VM runs on %s any more: the agent may "
			 "stop", a->node_name);
	} else {
		/* drained: leave once that takes quorum from no host that runs
		 * VMs (every host stopping at once: the last ones' VMs would be
		 * self-fenced, and they reset) */
		if (drained) {
			stranded = maint_leave_strands(st, a->rep.local_id,
						       a->qin.total_votes,
						       a->qin.quorum, others,
						       sizeof(others));
			if (stranded == 0) {
				leave_submit(p);
				prepare_again(p);
				return;
			}
		}
		if (wall_ms() <= p->deadline_ms) {
			if (stranded > 0 && !p->stranded_logged) {
				log_notice("prepare-shutdown: %s is drained; waiting, "
					   "since its leaving would cost the others "
					   "quorum while %zu VM(s) run there (%s)",
					   a->node_name, stranded, others);
				p->stranded_logged = true;
			}
			prepare_again(p);
			return;
		}
		if (!drained && n > 0)
			snprintf(msg, sizeof(msg), "still on %s after the timeout: %s",
				 a->node_name, names);
		else if (!drained)
			snprintf(msg, sizeof(msg), "the drain of %s did not end within "
				 "the timeout", a->node_name);
		else
			snprintf(msg, sizeof(msg), "%s is drained, but its leaving "
				 "would cost the others quorum while %zu VM(s) run "
				 "there (%s): they would be self-fenced",
				 a->node_name, stranded, others);
		result = -ETIMEDOUT;
	}
	log_notice("prepare-shutdown: %s", msg);
	ctl_server_reply(p->c, result, msg);
	if (p->c != NULL)
		qb_ipcs_connection_unref(p->c);
	free(p);
}

static void
prepare_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	     const char *reason)
{
	struct prepare *p = data;

	(void)a;
	if (result < 0 || c == NULL) {
		ctl_server_reply(c, result, reason);
		free(p);
		return;
	}
	qb_ipcs_connection_ref(c);
	p->c = c;
	prepare_poll(p);
}

static void
node_prepare_shutdown(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		      const Xenmesh__CtlRequest *req)
{
	const struct state *st = &a->rep.st;
	uint32_t me = a->rep.local_id;
	const struct node_rec *self = state_node(st, me);
	const char *policy = a->cfg.shutdown_policy;
	struct prepare *p;
	char names[256], msg[MSG_MAX];
	size_t n = vms_here(st, me, names, sizeof(names));

	if (self == NULL || self->role != NODE_ROLE_DOM0) {
		ctl_server_reply(c, 0, "no VM runs here: the agent may stop");
		return;
	}
	/* (with nothing here, only the leaving mark is left to do) */
	if (n > 0 && strcmp(policy, "refuse") == 0) {
		a->refuse_stop = true;
		snprintf(msg, sizeof(msg), "shutdown_policy is refuse: %zu VM(s) run "
			 "on %.40s (%.200s); xenmeshd will not stop until the host is "
			 "drained (agentctl node drain %.40s)", n, a->node_name, names,
			 a->node_name);
		log_warn("prepare-shutdown: %s", msg);
		ctl_server_reply(c, -EBUSY, msg);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	p->a = a;
	p->deadline_ms = wall_ms() + (req->has_timeout_s && req->timeout_s ?
				      req->timeout_s : 1800) * 1000ULL;
	if (n > 0 && strcmp(policy, "migrate") == 0) {
		Xenmesh__Op op = XENMESH__OP__INIT;
		Xenmesh__OpNodeDrain nd = XENMESH__OP_NODE_DRAIN__INIT;
		struct ctl_mutation m = { .uid = uid };

		/* what cannot move is shut down cleanly: the host goes down
		 * anyway, better a clean stop than a crash */
		nd.id = me;
		nd.on = true;
		nd.has_parallel = true;
		nd.parallel = PREPARE_PARALLEL;
		nd.has_force = true;
		nd.force = true;
		op.kind_case = XENMESH__OP__KIND_NODE_DRAIN;
		op.node_drain = &nd;
		snprintf(m.what, sizeof(m.what), "shutdown of %s: drain (shutdown_"
			 "policy migrate)", a->node_name);
		m.node = me;
		m.then = prepare_then;
		m.then_data = p;
		ctl_server_submit(a, c, &m, &op);
		return;
	}
	/* stop: each VM here is stopped and stays so until started again */
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		Xenmesh__Op op = XENMESH__OP__INIT;
		Xenmesh__OpVmWant w = XENMESH__OP_VM_WANT__INIT;
		struct ctl_mutation m = { .uid = uid };

		if (n == 0 || v->host != me || !v->want_running)
			continue;
		w.name = (char *)v->name;
		w.running = false;
		op.kind_case = XENMESH__OP__KIND_VM_WANT;
		op.vm_want = &w;
		snprintf(m.what, sizeof(m.what), "shutdown of %s: vm stop %s "
			 "(shutdown_policy stop)", a->node_name, v->name);
		ctl_server_submit(a, NULL, &m, &op);
	}
	qb_ipcs_connection_ref(c);
	p->c = c;
	prepare_poll(p);
}

void
ctl_maint_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		  const Xenmesh__CtlRequest *req)
{
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_VM_MIGRATE:
		vm_migrate(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_DRAIN:
		node_drain(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_UNDRAIN:
		node_undrain(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_CLUSTER_MAINTENANCE:
		cluster_maintenance(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_PREPARE_SHUTDOWN:
		node_prepare_shutdown(a, c, uid, req);
		break;
	default:
		ctl_server_reply(c, -EINVAL, "not a maintenance command");
		break;
	}
}
