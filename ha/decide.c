/* The coordinator's HA decisions; see decide.h.
 *
 * The invariant everything here serves: a VM never runs twice.  So a VM
 * whose host was lost is only `recovering` until that host is fenced, and
 * nothing at all is placed while any host is unclean.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide_int.h"
#include "drain.h"
#include "maint.h"
#include "placement.h"
#include "restart.h"
#include "unsafe.h"

struct ha_action *
plan_add(struct ha_plan *p, enum ha_action_kind kind)
{
	struct ha_action *a;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct ha_action *n = realloc(p->a, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		p->a = n;
		p->cap = cap;
	}
	a = &p->a[p->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->want_running = -1;
	return a;
}

void
ha_plan_free(struct ha_plan *p)
{
	if (p == NULL)
		return;
	free(p->a);
	memset(p, 0, sizeof(*p));
}

const char *
node_name(const struct state *st, uint32_t id, char *buf, size_t len)
{
	const struct node_rec *n = state_node(st, id);

	if (n != NULL)
		snprintf(buf, len, "%s", n->name);
	else
		snprintf(buf, len, "node%" PRIu32, id);
	return buf;
}

/* Set a VM; skipped when it would change nothing (keeps runs idempotent). */
int
vm_set(struct ha_plan *p, const struct vm_rec *v, enum vm_state st,
       uint32_t host, uint64_t generation, const char *reason)
{
	struct ha_action *a;

	if (v->state == st && v->host == host &&
	    (generation == 0 || generation == v->generation) &&
	    strcmp(v->reason, reason) == 0)
		return 0;
	a = plan_add(p, HA_ACT_VM_SET);
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->vm, sizeof(a->vm), "%s", v->name);
	a->state = st;
	a->host = host;
	a->generation = generation;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	return 0;
}

static bool
vm_active(enum vm_state st)
{
	return st == VM_STATE_STARTING || st == VM_STATE_RUNNING ||
	       st == VM_STATE_STOPPING || st == VM_STATE_MIGRATING;
}

/* The VM's host is gone for good (fenced, left cleanly, or unknown). */
static bool
host_lost(const struct state *st, uint32_t host)
{
	const struct node_rec *n = state_node(st, host);

	return n == NULL || n->state == NODE_STATE_FENCED ||
	       n->state == NODE_STATE_OFFLINE;
}

static bool
host_unclean(const struct state *st, uint32_t host)
{
	const struct node_rec *n = state_node(st, host);

	return n != NULL && n->state == NODE_STATE_UNCLEAN;
}

static const struct node_rec *
first_unclean(const struct state *st)
{
	for (size_t i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].state == NODE_STATE_UNCLEAN)
			return &st->nodes[i];
	return NULL;
}

/* ---- placement ------------------------------------------------------------ */

struct sched {
	const struct ha_input *in;
	struct ha_plan *plan;
	struct placement_host hosts[PLACEMENT_MAX_HOSTS];
	size_t nh;
	/* VMs that stay put (for anti-affinity) followed by those to place */
	struct placement_vm *pv;
	const struct vm_rec **rec;
	size_t npv;
	size_t first_place;
};

static void
hosts_build(struct sched *s)
{
	const struct state *st = s->in->st;
	uint64_t used;

	s->nh = 0;
	for (size_t i = 0; i < st->n_nodes && s->nh < PLACEMENT_MAX_HOSTS; i++) {
		const struct node_rec *n = &st->nodes[i];
		struct placement_host *h;

		if (n->role != NODE_ROLE_DOM0)
			continue;
		h = &s->hosts[s->nh++];
		memset(h, 0, sizeof(*h));
		h->id = n->id;
		snprintf(h->name, sizeof(h->name), "%s", n->name);
		h->eligible = node_takes_vms(n, &h->why_not);
		/* what runs (or is starting, stopping, migrating to it) there
		 * is taken */
		used = state_host_used_mb(st, n->id);
		h->mem_free_mb = n->mem_total_mb > used ? n->mem_total_mb - used : 0;
		snprintf(h->cpu, sizeof(h->cpu), "%s", n->cpu);
	}
}

static struct placement_host *
host_find(struct sched *s, uint32_t id)
{
	for (size_t k = 0; k < s->nh; k++)
		if (s->hosts[k].id == id)
			return &s->hosts[k];
	return NULL;
}

static bool deps_ready(const struct state *st, const struct vm_rec *v,
		       char *why, size_t len);

/* A VM still waiting for its ha_start_after keeps its place in the plan:
 * the memory it was given stays taken, so that a VM of lower priority
 * cannot take it meanwhile; it starts on a later run, once they run. */
static void
commit_choice(struct sched *s, const struct vm_rec *v,
	      const struct placement_choice *c)
{
	char why[VM_REASON_MAX];

	if (c->host == 0) {
		(void)vm_set(s->plan, v, VM_STATE_UNPLACEABLE, 0, 0, c->reason);
		return;
	}
	if (deps_ready(s->in->st, v, why, sizeof(why)))
		(void)vm_set(s->plan, v, VM_STATE_STARTING, c->host,
			     v->generation + 1, "");
	else
		(void)vm_set(s->plan, v, VM_STATE_STOPPED, 0, 0, why);
	struct placement_host *h = host_find(s, c->host);

	if (h != NULL)
		h->mem_free_mb -= h->mem_free_mb > v->memory_mb ? v->memory_mb
								 : h->mem_free_mb;
}

/* Did v fail on host within its restart window?  (Its restart history
 * records where it died, by the wall clock its records carry.) */
static bool
failed_there_lately(const struct vm_rec *v, uint32_t host, uint64_t now_ms)
{
	uint64_t window = (uint64_t)v->ha.restart_window_s * 1000;
	const struct restart_history *h = &v->restarts;

	for (uint32_t i = 0; i < h->n; i++)
		if (h->host[i] == host &&
		    (window == 0 || now_ms < h->at_ms[i] || now_ms - h->at_ms[i] <= window))
			return true;
	return false;
}

/* The host `vm start --on` asked for, unless that host was lost with the
 * VM on it: the start asked there was cut short, and HA restarts it
 * anywhere (else it stayed unplaceable until that host came back). */
static uint32_t
wanted_host(const struct state *st, const struct vm_rec *v)
{
	if (v->want_host != 0 && v->host == v->want_host && host_lost(st, v->host))
		return 0;
	return v->want_host;
}

/* A VM with its own host constraint (`--on`, or restart elsewhere) is
 * placed alone against a filtered copy of the hosts.  Restarting
 * elsewhere avoids every host it failed on lately, not only the last one
 * (else it would go back and forth between two and be declared failed
 * with the others never tried), unless that leaves none. */
static void
place_constrained(struct sched *s, const struct vm_rec *v,
		  struct placement_vm *me)
{
	struct placement_host hosts[PLACEMENT_MAX_HOSTS];
	struct placement_vm all[1];
	struct placement_choice c;
	char who[VM_NAME_MAX];
	size_t left = 0;

	uint32_t want = wanted_host(s->in->st, v);

	memcpy(hosts, s->hosts, s->nh * sizeof(hosts[0]));
	for (size_t k = 0; k < s->nh; k++) {
		if (want != 0 && hosts[k].id != want && hosts[k].eligible) {
			hosts[k].eligible = false;
			hosts[k].why_not = "not the requested host";
		}
		if (v->avoid_host != 0 && hosts[k].eligible &&
		    (hosts[k].id == v->avoid_host ||
		     failed_there_lately(v, hosts[k].id, s->in->now_ms))) {
			hosts[k].eligible = false;
			hosts[k].why_not = "failed there, restarting elsewhere";
		}
		left += hosts[k].eligible;
	}
	for (size_t k = 0; left == 0 && v->avoid_host != 0 && k < s->nh; k++) {
		/* tried every eligible host lately: all but the last again */
		if (s->hosts[k].eligible && s->hosts[k].id != v->avoid_host &&
		    (want == 0 || s->hosts[k].id == want))
			hosts[k] = s->hosts[k];
	}
	all[0] = *me;
	all[0].current_host = 0;
	if (placement_plan(hosts, s->nh, all, 1, &c) < 0) {
		snprintf(c.reason, sizeof(c.reason), "placement failed for %s",
			 node_name(s->in->st, want, who, sizeof(who)));
		c.host = 0;
	}
	commit_choice(s, v, &c);
}

/* Is every VM it must start after already running?  (Dependencies that
 * are not defined, or not wanted running, do not hold it back.) */
static bool
deps_ready(const struct state *st, const struct vm_rec *v, char *why, size_t len)
{
	for (uint32_t i = 0; i < v->ha.n_after; i++) {
		const struct vm_rec *d = state_vm(st, v->ha.after[i]);

		if (d == NULL || !d->want_running || d->state == VM_STATE_RUNNING)
			continue;
		snprintf(why, len, "waiting for %s to run (ha_start_after)", d->name);
		return false;
	}
	return true;
}

static int
schedule_placement(struct sched *s, bool *needs, size_t nvm)
{
	const struct state *st = s->in->st;
	struct placement_choice *out = NULL;
	size_t n = 0, nplace;
	int rc = 0;

	s->pv = calloc(nvm + 1, sizeof(*s->pv));
	s->rec = calloc(nvm + 1, sizeof(*s->rec));
	if (s->pv == NULL || s->rec == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* VMs staying where they are count for anti-affinity */
	for (size_t i = 0; i < nvm; i++) {
		const struct vm_rec *v = &st->vms[i];

		if (needs[i] || !vm_active(v->state) || host_find(s, v->host) == NULL)
			continue;
		snprintf(s->pv[n].name, sizeof(s->pv[n].name), "%s", v->name);
		s->pv[n].memory_mb = v->memory_mb;
		s->pv[n].ha = &v->ha;
		s->pv[n].current_host = v->host;
		s->pv[n].needs_place = false;
		s->rec[n++] = v;
	}
	s->first_place = n;
	for (size_t i = 0; i < nvm; i++) {
		const struct vm_rec *v = &st->vms[i];

		if (!needs[i] || wanted_host(st, v) != 0 || v->avoid_host != 0)
			continue;
		snprintf(s->pv[n].name, sizeof(s->pv[n].name), "%s", v->name);
		s->pv[n].memory_mb = v->memory_mb;
		s->pv[n].ha = &v->ha;
		s->pv[n].needs_place = true;
		s->rec[n++] = v;
	}
	nplace = n - s->first_place;
	if (nplace > 0) {
		out = calloc(n, sizeof(*out));
		if (out == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		rc = placement_plan(s->hosts, s->nh, s->pv, n, out);
		if (rc < 0)
			goto out;
		for (size_t i = s->first_place; i < n; i++)
			commit_choice(s, s->rec[i], &out[i]);
	}
	/* then the constrained ones, by the table's (name) order */
	for (size_t i = 0; i < nvm; i++) {
		const struct vm_rec *v = &st->vms[i];
		struct placement_vm me;

		if (!needs[i] || (wanted_host(st, v) == 0 && v->avoid_host == 0))
			continue;
		memset(&me, 0, sizeof(me));
		snprintf(me.name, sizeof(me.name), "%s", v->name);
		me.memory_mb = v->memory_mb;
		me.ha = &v->ha;
		me.needs_place = true;
		place_constrained(s, v, &me);
	}
out:
	free(out);
	free(s->pv);
	free(s->rec);
	return rc;
}

int
ha_schedule(const struct ha_input *in, struct ha_plan *plan)
{
	const struct state *st = in->st;
	struct sched s;
	size_t plan_before;
	bool any_unclean = false;
	bool *needs = NULL;
	char who[VM_NAME_MAX], why[VM_REASON_MAX];
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.in = in;
	s.plan = plan;
	for (size_t i = 0; i < st->n_nodes; i++) {
		if (st->nodes[i].state != NODE_STATE_UNCLEAN)
			continue;
		any_unclean = true;
		/* cluster maintenance: watched and shown, not acted on */
		if (st->frozen)
			continue;
		struct ha_action *a = plan_add(plan, HA_ACT_FENCE);

		if (a == NULL)
			return -ENOMEM;
		a->node = st->nodes[i].id;
	}
	/* VMs of a lost host wait for its fence, whatever else happens */
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];

		if ((vm_active(v->state) || v->state == VM_STATE_RECOVERING) &&
		    host_unclean(st, v->host)) {
			snprintf(why, sizeof(why), "host %s lost; waiting for its fence",
				 node_name(st, v->host, who, sizeof(who)));
			if (vm_set(plan, v, VM_STATE_RECOVERING, v->host, 0, why) < 0)
				return -ENOMEM;
		}
	}
	rc = migrate_schedule(in, plan);
	/* unsafe test build: an unclean host counts as fenced at once */
	if (any_unclean && xm_unsafe("fence-wait"))
		any_unclean = false;
	if (rc < 0 || !in->ha_enabled || any_unclean || st->frozen)
		return rc;      /* never place while a host may still write */

	needs = calloc(st->n_vms + 1, sizeof(*needs));
	if (needs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		bool lost = (vm_active(v->state) || v->state == VM_STATE_RECOVERING) &&
			    (host_lost(st, v->host) ||
			     (host_unclean(st, v->host) && xm_unsafe("fence-wait")));

		/* recovering on a host that is online again (only its agent
		 * had died): that host re-adopts it or reports it gone */
		if (v->state == VM_STATE_RECOVERING && !lost)
			continue;

		if (!v->want_running) {
			/* a failed VM whose host is fenced: nothing of it runs */
			if (lost || v->state == VM_STATE_UNPLACEABLE ||
			    (v->state == VM_STATE_FAILED && v->host != 0 &&
			     host_lost(st, v->host)))
				rc = vm_set(plan, v, VM_STATE_STOPPED, 0, 0, "");
			else if (v->state == VM_STATE_STARTING ||
				 v->state == VM_STATE_RUNNING)
				rc = vm_set(plan, v, VM_STATE_STOPPING, v->host, 0,
					    "stop requested");
			if (rc < 0)
				goto out;
			continue;
		}
		if (v->state == VM_STATE_FAILED)
			continue;
		if (!lost && v->state != VM_STATE_STOPPED &&
		    v->state != VM_STATE_UNPLACEABLE)
			continue;
		needs[i] = true;        /* waiting for ha_start_after: see commit_choice */
	}
	hosts_build(&s);
	/* the memory of lost VMs is not held on their old host */
	plan_before = plan->n;
	rc = schedule_placement(&s, needs, st->n_vms);
	/* a drain moves VMs once placement took what it needs: both at once
	 * could promise the same memory twice */
	if (rc == 0 && plan->n == plan_before)
		rc = drain_schedule(in, plan);
out:
	free(needs);
	return rc;
}

/* ---- events from hosts ----------------------------------------------------- */

static enum vm_exit
exit_of(Xenmesh__VmExit e)
{
	switch (e) {
	case XENMESH__VM_EXIT__EXIT_POWEROFF:
		return VM_EXIT_POWEROFF;
	case XENMESH__VM_EXIT__EXIT_REBOOT:
		return VM_EXIT_REBOOT;
	default:
		return VM_EXIT_CRASH;
	}
}

/* restart_decide() words its reason on its own ("crashed: restarting in
 * place", "crashed twice on node 1"); the caller already says what and
 * where, so drop the repeated word and name the host. */
static void
reason_tidy(char *why, size_t len, const char *what, uint32_t host,
	    const char *name)
{
	char id[24], out[96];
	size_t wl = strlen(what);
	char *p;

	if (strncmp(why, what, wl) == 0 && strncmp(why + wl, ": ", 2) == 0)
		memmove(why, why + wl + 2, strlen(why + wl + 2) + 1);
	snprintf(id, sizeof(id), "node %" PRIu32, host);
	p = strstr(why, id);
	if (p != NULL) {
		snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - why), why, name,
			 p + strlen(id));
		snprintf(why, len, "%s", out);
	}
}

static int
decide_restart(const struct ha_input *in, const struct vm_rec *v,
	       uint32_t host, enum vm_exit how, bool start_failed,
	       const char *what, struct ha_plan *plan)
{
	const struct state *st = in->st;
	const struct node_rec *n = state_node(st, host);
	const char *notok = NULL;
	char why[96], text[VM_REASON_MAX], who[VM_NAME_MAX];
	enum restart_verdict verdict;
	const struct node_rec *unclean = NULL;
	struct ha_action *a;
	bool deferred = false;

	verdict = restart_decide(&v->ha, &v->restarts, host, how, in->now_ms,
				 why, sizeof(why));
	/* in place only where new VMs may land */
	if ((verdict == RESTART_IN_PLACE || verdict == RESTART_RECREATE) &&
	    (n == NULL || !node_takes_vms(n, &notok)))
		verdict = RESTART_ELSEWHERE;
	/* a start that failed is that host's problem (a missing bridge, a
	 * refused login): the next try is elsewhere, counted */
	if (start_failed && (verdict == RESTART_IN_PLACE ||
			     verdict == RESTART_ELSEWHERE)) {
		verdict = RESTART_ELSEWHERE;
		snprintf(why, sizeof(why), "trying another host");
	}
	/* Nothing starts while HA is refused, nor while any host is unclean
	 * (it may have committed a start of this very VM that we never
	 * got): the VM waits stopped, still wanted, for the scheduler. */
	if (verdict != RESTART_NO && verdict != RESTART_FAILED) {
		if (!in->ha_enabled)
			snprintf(why, sizeof(why), "restart deferred while HA is disabled");
		else if (st->frozen)
			snprintf(why, sizeof(why), "restart deferred until cluster "
				 "maintenance ends");
		else if ((unclean = first_unclean(st)) != NULL)
			snprintf(why, sizeof(why), "restart deferred until %.32s is fenced",
				 unclean->name);
		deferred = !in->ha_enabled || st->frozen || unclean != NULL;
	}
	node_name(st, host, who, sizeof(who));
	reason_tidy(why, sizeof(why), what, host, who);
	snprintf(text, sizeof(text), "%.80s on %.32s: %.70s", what, who, why);
	a = plan_add(plan, HA_ACT_VM_SET);
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->vm, sizeof(a->vm), "%s", v->name);
	snprintf(a->reason, sizeof(a->reason), "%s", text);
	switch (verdict) {
	case RESTART_NO:
		a->state = VM_STATE_STOPPED;
		a->want_running = 0;
		break;
	case RESTART_IN_PLACE:
		a->state = VM_STATE_STARTING;
		a->host = host;
		a->generation = v->generation + 1;
		a->record_restart = true;
		if (deferred) {
			a->state = VM_STATE_STOPPED;
			a->host = 0;
			a->generation = 0;
		}
		break;
	case RESTART_RECREATE:
		a->state = VM_STATE_STARTING;
		a->host = host;
		a->generation = v->generation + 1;
		if (deferred) {
			a->state = VM_STATE_STOPPED;
			a->host = 0;
			a->generation = 0;
		}
		break;
	case RESTART_ELSEWHERE:
		a->state = VM_STATE_STOPPED;
		a->avoid_host = host;
		a->record_restart = how != VM_EXIT_REBOOT;
		break;
	case RESTART_FAILED:
	default:
		a->state = VM_STATE_FAILED;
		break;
	}
	return 0;
}

/* The end of a `vm save`: stopped with its image, or running on. */
static int
decide_saved(const struct ha_input *in, const struct vm_rec *v,
	     const struct ha_event *ev, struct ha_plan *plan)
{
	char who[VM_NAME_MAX];
	struct ha_action *a;

	if (v->state != VM_STATE_STOPPING || !v->save_requested)
		return 0;
	a = plan_add(plan, HA_ACT_VM_SET);
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->vm, sizeof(a->vm), "%s", v->name);
	if (ev->kind == XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED && ev->bytes != 0) {
		a->state = VM_STATE_STOPPED;
		a->saved_gen = v->generation;
		a->saved_bytes = ev->bytes;
		snprintf(a->reason, sizeof(a->reason), "saved");
		return 0;
	}
	/* its host resumed the domain before saying so */
	a->state = VM_STATE_RUNNING;
	a->host = v->host;
	a->want_running = 1;
	snprintf(a->reason, sizeof(a->reason), "save failed on %.32s: %.120s",
		 node_name(in->st, ev->host, who, sizeof(who)),
		 ev->reason ? ev->reason : "no reason given");
	return 0;
}

int
ha_host_event(const struct ha_input *in, const struct ha_event *ev,
	      struct ha_plan *plan)
{
	const struct vm_rec *v = state_vm(in->st, ev->vm);
	char text[VM_REASON_MAX], who[VM_NAME_MAX];
	int rc;

	rc = migrate_host_event(in, ev, plan);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* only the current instance on its assigned host speaks for the VM;
	 * anything else is stale and its host destroys it on its own */
	if (v == NULL || ev->generation != v->generation || ev->host != v->host)
		return 0;
	switch (ev->kind) {
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED:
		/* a start done, or a restarted agent re-adopting its domain */
		if (v->state != VM_STATE_STARTING && v->state != VM_STATE_RECOVERING)
			return 0;
		return vm_set(plan, v, VM_STATE_RUNNING, v->host, 0, "");
	case XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED:
		if (v->state != VM_STATE_STARTING)
			return 0;
		snprintf(text, sizeof(text), "start failed (%s)",
			 ev->reason ? ev->reason : "no reason given");
		return decide_restart(in, v, ev->host, VM_EXIT_CRASH, true, text,
				      plan);
	case XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED:
		if (v->state == VM_STATE_STOPPING)
			return vm_set(plan, v, VM_STATE_STOPPED, 0, 0, "");
		/* a VM that dies on its source mid-migration is handled as
		 * any exit: the destination's copy goes with the abort */
		if (v->state != VM_STATE_RUNNING && v->state != VM_STATE_STARTING &&
		    v->state != VM_STATE_RECOVERING && v->state != VM_STATE_MIGRATING)
			return 0;
		/* that host cannot reach the VM's disks: like a failed start,
		 * the next try is elsewhere */
		if (ev->exit == XENMESH__VM_EXIT__EXIT_STORAGE)
			return decide_restart(in, v, ev->host, VM_EXIT_CRASH, true,
					      "lost its storage", plan);
		return decide_restart(in, v, ev->host, exit_of(ev->exit), false,
				      ev->exit == XENMESH__VM_EXIT__EXIT_POWEROFF ?
				      "powered off" : ev->exit == XENMESH__VM_EXIT__EXIT_REBOOT ?
				      "rebooted" : "crashed", plan);
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED:
		if (v->state != VM_STATE_STOPPING)
			return 0;
		return vm_set(plan, v, VM_STATE_STOPPED, 0, 0, "");
	case XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED:
	case XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED:
		return decide_saved(in, v, ev, plan);
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STOP_FAILED:
		snprintf(text, sizeof(text), "stop failed on %s (%s); its host "
			 "must be fenced", node_name(in->st, ev->host, who, sizeof(who)),
			 ev->reason ? ev->reason : "no reason given");
		if (vm_set(plan, v, VM_STATE_FAILED, v->host, 0, text) < 0)
			return -ENOMEM;
		/* a domain we cannot stop may go on writing: fence its host
		 * (which, seeing itself unclean, self-fences at once) */
		struct ha_action *a = plan_add(plan, HA_ACT_NODE_UNCLEAN);

		if (a == NULL)
			return -ENOMEM;
		a->node = ev->host;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- output ------------------------------------------------------------------ */

void
ha_action_op(const struct ha_action *a, uint64_t now_ms, Xenmesh__Op *op,
	     Xenmesh__OpVmSet *set)
{
	xenmesh__op__init(op);
	xenmesh__op_vm_set__init(set);
	set->name = (char *)a->vm;
	set->state = (char *)vm_state_name(a->state);
	set->has_host = a->host != 0;
	set->host = a->host;
	set->has_generation = a->generation != 0;
	set->generation = a->generation;
	if (a->reason[0] != '\0')
		set->reason = (char *)a->reason;
	set->has_record_restart = a->record_restart;
	set->record_restart = a->record_restart;
	set->has_now_ms = true;
	set->now_ms = now_ms;
	set->has_avoid_host = a->avoid_host != 0;
	set->avoid_host = a->avoid_host;
	set->has_want_running = a->want_running >= 0;
	set->want_running = a->want_running > 0;
	set->has_migrate_to = a->migrate_to != 0;
	set->migrate_to = a->migrate_to;
	set->has_migrate_offline = a->migrate_to != 0 && a->offline;
	set->migrate_offline = set->has_migrate_offline;
	set->has_drain_skip = a->set_drain_skip;
	set->drain_skip = a->drain_skip;
	set->has_saved_gen = a->saved_gen != 0;
	set->saved_gen = a->saved_gen;
	set->has_saved_bytes = a->saved_gen != 0 && a->saved_bytes != 0;
	set->saved_bytes = a->saved_bytes;
	op->kind_case = XENMESH__OP__KIND_VM_SET;
	op->vm_set = set;
}

void
ha_action_migrate_op(const struct ha_action *a, uint64_t now_ms, Xenmesh__Op *op,
		     Xenmesh__OpVmMigrate *m)
{
	xenmesh__op__init(op);
	xenmesh__op_vm_migrate__init(m);
	m->name = (char *)a->vm;
	m->host = a->host;
	m->has_offline = a->offline;
	m->offline = a->offline;
	m->has_now_ms = true;
	m->now_ms = now_ms;
	op->kind_case = XENMESH__OP__KIND_VM_MIGRATE;
	op->vm_migrate = m;
}

const char *
ha_action_text(const struct state *st, const struct ha_action *a, char *buf,
	       size_t len)
{
	char who[VM_NAME_MAX];
	const char *r = a->reason[0] ? a->reason : NULL;

	if (a->kind == HA_ACT_MIGRATE) {
		snprintf(buf, len, "%s %s to %s%s%s%s", a->offline ? "move (offline)" :
			 "migrate", a->vm, node_name(st, a->host, who, sizeof(who)),
			 r ? " (" : "", r ? r : "", r ? ")" : "");
		return buf;
	}
	if (a->kind == HA_ACT_DRAIN_DONE) {
		snprintf(buf, len, "drain of %s done: %s",
			 node_name(st, a->node, who, sizeof(who)), r ? r : "");
		return buf;
	}
	if (a->kind == HA_ACT_FENCE || a->kind == HA_ACT_NODE_UNCLEAN) {
		snprintf(buf, len, "%s %s", a->kind == HA_ACT_FENCE ? "fence" :
			 "mark unclean", node_name(st, a->node, who, sizeof(who)));
		return buf;
	}
	switch (a->state) {
	case VM_STATE_STARTING:
		snprintf(buf, len, "start %s on %s gen %" PRIu64 "%s%s%s", a->vm,
			 node_name(st, a->host, who, sizeof(who)), a->generation,
			 r ? " (" : "", r ? r : "", r ? ")" : "");
		break;
	case VM_STATE_STOPPING:
		snprintf(buf, len, "stop %s on %s", a->vm,
			 node_name(st, a->host, who, sizeof(who)));
		break;
	case VM_STATE_RUNNING:
		snprintf(buf, len, "%s running on %s%s%s%s", a->vm,
			 node_name(st, a->host, who, sizeof(who)),
			 r ? " (" : "", r ? r : "", r ? ")" : "");
		break;
	case VM_STATE_MIGRATING:
		snprintf(buf, len, "%s migrating to %s%s%s", a->vm,
			 node_name(st, a->migrate_to, who, sizeof(who)),
			 r ? ": " : "", r ? r : "");
		break;
	default:
		snprintf(buf, len, "%s %s%s%s%s", a->vm, vm_state_name(a->state),
			 a->avoid_host ? " avoid " : "",
			 a->avoid_host ? node_name(st, a->avoid_host, who, sizeof(who)) : "",
			 r ? ": " : "");
		if (r != NULL)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s", r);
		break;
	}
	return buf;
}
