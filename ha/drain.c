/* Drain plans and the coordinator's next drain steps; see drain.h.
 *
 * Pure: no I/O, no logging, deterministic.  A plan collects the host's
 * VMs, orders them as placement would (lent priority, start_after, name),
 * then places the running ones with placement_plan one at a time in that
 * order, each call seeing the memory and anti-affinity slots the ones
 * before it took: first against the hosts fit for live migration, then
 * what is left against every eligible host.  Placing one at a time gives
 * the same choices as one joint placement_plan (which is greedy in the
 * same order) while the order stays ours to report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"
#include "maint.h"
#include "placement.h"
#include "sbuf.h"

#define NONE (-1)
#define DETAIL_MIN 24           /* a VM's words in a long summary */

/* ---- text ------------------------------------------------------------------ */

/* pre, mid, post into dst, at most max characters: when too long, mid is
 * cut (ending in "...") so that post still shows. */
static void
text_fit(char *dst, size_t cap, const char *pre, const char *mid,
	 const char *post, size_t max)
{
	size_t fixed = strlen(pre) + strlen(post), room, len = strlen(mid);
	struct sbuf b;

	if (max > cap - 1)
		max = cap - 1;
	room = max > fixed ? max - fixed : 0;
	sb_init(&b, dst, cap);
	if (len <= room)
		sb_add(&b, "%s%s%s", pre, mid, post);
	else if (room >= 3)
		sb_add(&b, "%s%.*s...%s", pre, (int)(room - 3), mid, post);
	else
		sb_add(&b, "%s%s%s", pre, mid, post);   /* cut at the end */
}

static const char *
node_label(const struct state *s, uint32_t id, char *buf, size_t len)
{
	const struct node_rec *n = state_node(s, id);

	if (n != NULL)
		(void)snprintf(buf, len, "%s", n->name);
	else
		(void)snprintf(buf, len, "node%u", (unsigned)id);
	return buf;
}

/* ---- the plan's working state ---------------------------------------------- */

/* One of the host's VMs while planning. */
struct ditem {
	const struct vm_rec *vm;
	struct drain_item it;
	uint32_t chosen;                /* host given in this plan, 0 none */
	uint32_t eff;                   /* own priority, or one lent */
	int32_t ndeps, indeg, roff;     /* roff: its waiters in rlist */
	bool done;
	int32_t deps[VM_MAX_AFTER];     /* whom it waits for */
};

struct drainer {
	const struct state *s;
	const struct node_rec *src;
	size_t m;                       /* the host's VMs, by name */
	struct ditem *v;                /* m + 1: v[m].roff ends rlist */
	int32_t *rlist;                 /* who waits for whom */
	size_t *order;                  /* plan order */
	/* hosts: every dom0, by id (the node table's order) */
	size_t nh;
	struct placement_host hosts[PLACEMENT_MAX_HOSTS];
	uint64_t free_mb[PLACEMENT_MAX_HOSTS];
	bool any_ok[PLACEMENT_MAX_HOSTS], live_ok[PLACEMENT_MAX_HOSTS];
	const char *any_why[PLACEMENT_MAX_HOSTS], *live_why[PLACEMENT_MAX_HOSTS];
	char cpu_why[PLACEMENT_MAX_HOSTS][NODE_CPU_MAX + 16];
	/* one placement_plan call: the VM, then one VM of its group per host */
	struct placement_host ph[PLACEMENT_MAX_HOSTS];
	struct placement_vm pv[PLACEMENT_MAX_HOSTS + 1];
	struct placement_choice pc[PLACEMENT_MAX_HOSTS + 1];
};

static void
drainer_free(struct drainer *d)
{
	if (d == NULL)
		return;
	free(d->v);
	free(d->rlist);
	free(d->order);
	free(d);
}

static bool
holds_memory(enum vm_state st)
{
	return st == VM_STATE_STARTING || st == VM_STATE_RUNNING ||
	       st == VM_STATE_STOPPING || st == VM_STATE_MIGRATING ||
	       st == VM_STATE_RECOVERING;
}

/* Assigned to the host, or on its way to it. */
static bool
drains_vm(const struct vm_rec *v, uint32_t host)
{
	if (v->state == VM_STATE_MIGRATING && v->migrate_to == host)
		return true;
	return v->host == host &&
	       (v->state == VM_STATE_RUNNING || v->state == VM_STATE_STARTING ||
		v->state == VM_STATE_STOPPING || v->state == VM_STATE_MIGRATING);
}

static int
drainer_new(const struct state *s, const struct node_rec *src,
	    struct drainer **out)
{
	struct drainer *d;
	size_t i, m = 0;

	*out = NULL;
	for (i = 0; i < s->n_vms; i++)
		m += drains_vm(&s->vms[i], src->id);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->s = s;
	d->src = src;
	d->v = calloc(m + 1, sizeof(*d->v));
	d->rlist = calloc((m + 1) * VM_MAX_AFTER, sizeof(*d->rlist));
	d->order = calloc(m + 1, sizeof(*d->order));
	if (d->v == NULL || d->rlist == NULL || d->order == NULL) {
		drainer_free(d);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_vms; i++)
		if (drains_vm(&s->vms[i], src->id))
			d->v[d->m++].vm = &s->vms[i];
	*out = d;
	return 0;
}

/* ---- order ------------------------------------------------------------------- */

/* The host's VMs are in the table's (name) order. */
static int32_t
item_by_name(const struct drainer *d, const char *name)
{
	size_t lo = 0, hi = d->m;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->v[mid].vm->name, name);

		if (c == 0)
			return (int32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

static bool
goes_before(const struct drainer *d, size_t a, size_t b)
{
	if (d->v[a].eff != d->v[b].eff)
		return d->v[a].eff > d->v[b].eff;
	return strcmp(d->v[a].vm->name, d->v[b].vm->name) < 0;
}

/* The edges "i waits for j" among the host's VMs, and who waits for whom
 * (rlist from v[j].roff to v[j + 1].roff). */
static void
order_edges(struct drainer *d)
{
	size_t i, k;
	int32_t j;

	for (i = 0; i < d->m; i++) {
		const struct vm_ha *ha = &d->v[i].vm->ha;

		for (k = 0; k < ha->n_after && k < VM_MAX_AFTER; k++)
			if ((j = item_by_name(d, ha->after[k])) != NONE) {
				d->v[i].deps[d->v[i].ndeps++] = j;
				d->v[j + 1].roff++;
			}
	}
	for (i = 0; i < d->m; i++) {
		d->v[i + 1].roff += d->v[i].roff;
		d->v[i].indeg = d->v[i].roff;   /* fill pointer until kahn() */
	}
	for (i = 0; i < d->m; i++)
		for (k = 0; k < (size_t)d->v[i].ndeps; k++)
			d->rlist[d->v[d->v[i].deps[k]].indeg++] = (int32_t)i;
}

/* The VM that goes next: the first ready one, or, when only a start
 * order cycle (or VMs waiting for one) is left, the first of the rest. */
static size_t
kahn_pick(const struct drainer *d)
{
	size_t i, best = d->m;

	for (i = 0; i < d->m; i++)
		if (!d->v[i].done && d->v[i].indeg == 0 &&
		    (best == d->m || goes_before(d, i, best)))
			best = i;
	if (best < d->m)
		return best;
	for (i = 0; i < d->m; i++)
		if (!d->v[i].done && (best == d->m || goes_before(d, i, best)))
			best = i;
	return best;
}

/* Kahn's algorithm, always taking the VM that goes first. */
static void
kahn(struct drainer *d)
{
	size_t i, step, v;
	int32_t r;

	for (i = 0; i < d->m; i++) {
		d->v[i].indeg = d->v[i].ndeps;
		d->v[i].done = false;
	}
	for (step = 0; step < d->m; step++) {
		v = kahn_pick(d);
		d->v[v].done = true;
		d->order[step] = v;
		for (r = d->v[v].roff; r < d->v[v + 1].roff; r++)
			d->v[d->rlist[r]].indeg--;
	}
}

/* As placement_plan: going backwards through an order where the VMs one
 * waits for come first, a waiter lends its priority to them before they
 * lend it on; then the final order. */
static void
order_items(struct drainer *d)
{
	size_t i, k;

	order_edges(d);
	for (i = 0; i < d->m; i++)
		d->v[i].eff = d->v[i].vm->ha.priority;
	kahn(d);
	for (i = d->m; i-- > 0;) {
		struct ditem *v = &d->v[d->order[i]];

		for (k = 0; k < (size_t)v->ndeps; k++)
			if (d->v[v->deps[k]].eff < v->eff)
				d->v[v->deps[k]].eff = v->eff;
	}
	kahn(d);
}

/* ---- hosts and placement ------------------------------------------------------ */

static void
hosts_build(struct drainer *d)
{
	const struct state *s = d->s;
	const char *cpu = d->src->cpu;

	d->nh = 0;
	for (size_t i = 0; i < s->n_nodes && d->nh < PLACEMENT_MAX_HOSTS; i++) {
		const struct node_rec *n = &s->nodes[i];
		size_t k;
		uint64_t used;

		if (n->role != NODE_ROLE_DOM0)
			continue;
		k = d->nh++;
		memset(&d->hosts[k], 0, sizeof(d->hosts[k]));
		d->hosts[k].id = n->id;
		(void)snprintf(d->hosts[k].name, sizeof(d->hosts[k].name), "%s",
			       n->name);
		(void)snprintf(d->hosts[k].cpu, sizeof(d->hosts[k].cpu), "%s",
			       n->cpu);
		/* what runs, starts, stops or migrates to it there is taken */
		used = state_host_used_mb(s, n->id);
		d->free_mb[k] = n->mem_total_mb > used ? n->mem_total_mb - used : 0;
		if (n->id == d->src->id) {
			d->any_ok[k] = false;
			d->any_why[k] = "being drained";
		} else {
			d->any_ok[k] = node_takes_vms(n, &d->any_why[k]);
		}
		d->live_ok[k] = false;
		if (!d->any_ok[k]) {
			d->live_why[k] = d->any_why[k];
		} else if (strcmp(n->cpu, cpu) != 0) {
			(void)snprintf(d->cpu_why[k], sizeof(d->cpu_why[k]),
				       "CPU class %s", n->cpu[0] ? n->cpu : "unknown");
			d->live_why[k] = d->cpu_why[k];
		} else if (n->peer_addr[0] == '\0') {
			d->live_why[k] = "no peer channel";
		} else {
			d->live_ok[k] = true;
			d->live_why[k] = NULL;
		}
	}
}

static bool
same_group(const struct vm_rec *a, const struct vm_rec *b)
{
	return a != b && strcmp(a->ha.anti_affinity, b->ha.anti_affinity) == 0;
}

/* The position of host id among the hosts, or NONE. */
static int32_t
host_index(const struct drainer *d, uint32_t id)
{
	for (size_t k = 0; k < d->nh; k++)
		if (d->hosts[k].id == id)
			return (int32_t)k;
	return NONE;
}

static void
member_set(const struct vm_rec **slot, const struct vm_rec *o)
{
	if (*slot == NULL)
		*slot = o;
}

/*
 * The VMs of v's group that stay, one per eligible host, after pv[0]:
 * they count for anti-affinity.  On each host the first (by name) that
 * runs there, else one migrating to it (a migration holds both ends),
 * else one this plan put there.  A VM migrating between two other hosts
 * is named "NAME (moving)" at its destination: names must be unique, and
 * VM names have no spaces.
 */
static size_t
group_members(struct drainer *d, const struct vm_rec *v)
{
	const struct vm_rec *at[PLACEMENT_MAX_HOSTS] = { NULL };
	const struct vm_rec *to[PLACEMENT_MAX_HOSTS] = { NULL };
	const struct state *s = d->s;
	size_t i, k, j, nv = 1;
	int32_t p;

	if (v->ha.anti_affinity[0] == '\0')
		return nv;
	for (i = 0; i < s->n_vms; i++) {
		const struct vm_rec *o = &s->vms[i];

		if (!holds_memory(o->state) || !same_group(v, o))
			continue;
		if ((p = host_index(d, o->host)) != NONE)
			member_set(&at[p], o);
		if (o->state == VM_STATE_MIGRATING &&
		    (p = host_index(d, o->migrate_to)) != NONE)
			member_set(&to[p], o);
	}
	for (i = 0; i < d->m; i++)
		if (d->v[i].chosen != 0 && same_group(v, d->v[i].vm) &&
		    (p = host_index(d, d->v[i].chosen)) != NONE)
			member_set(&to[p], d->v[i].vm);
	for (k = 0; k < d->nh; k++) {
		struct placement_vm *o = &d->pv[nv];
		const struct vm_rec *g = at[k] != NULL ? at[k] : to[k];
		bool dup = false;

		if (!d->ph[k].eligible || g == NULL)
			continue;
		for (j = 0; j < d->nh && at[k] == NULL; j++)
			dup |= d->ph[j].eligible && at[j] == g;
		memset(o, 0, sizeof(*o));
		(void)snprintf(o->name, sizeof(o->name), dup ? "%.48s (moving)" :
			       "%s", g->name);
		o->memory_mb = g->memory_mb;
		o->ha = &g->ha;
		o->current_host = d->ph[k].id;
		o->needs_place = false;
		nv++;
	}
	return nv;
}

/* Place item i on the live targets or on every eligible host; the
 * memory (and slot of its group) it gets is taken for the ones after. */
static int
place_item(struct drainer *d, size_t i, bool live, struct placement_choice *c)
{
	const struct vm_rec *v = d->v[i].vm;
	size_t k, nv;
	int r;

	for (k = 0; k < d->nh; k++) {
		d->ph[k] = d->hosts[k];
		d->ph[k].eligible = live ? d->live_ok[k] : d->any_ok[k];
		d->ph[k].why_not = live ? d->live_why[k] : d->any_why[k];
		d->ph[k].mem_free_mb = d->free_mb[k];
	}
	memset(&d->pv[0], 0, sizeof(d->pv[0]));
	(void)snprintf(d->pv[0].name, sizeof(d->pv[0].name), "%s", v->name);
	d->pv[0].memory_mb = v->memory_mb;
	d->pv[0].ha = &v->ha;
	d->pv[0].needs_place = true;
	nv = group_members(d, v);
	r = placement_plan(d->ph, d->nh, d->pv, nv, d->pc);
	if (r < 0)
		return r;
	*c = d->pc[0];
	for (k = 0; k < d->nh && c->host != 0; k++)
		if (d->hosts[k].id == c->host) {
			d->free_mb[k] -= d->free_mb[k] > v->memory_mb ?
					 v->memory_mb : d->free_mb[k];
			d->v[i].chosen = c->host;
		}
	return 0;
}

/* ---- the plan ----------------------------------------------------------------- */

static void say(struct drain_item *it, enum drain_action action,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(struct drain_item *it, enum drain_action action, const char *fmt, ...)
{
	va_list ap;

	it->action = action;
	va_start(ap, fmt);
	(void)vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
}

/* MOVING, WAIT, STAY, or 0: to be placed. */
static void
classify(struct drainer *d, size_t i)
{
	const struct vm_rec *v = d->v[i].vm;
	struct drain_item *it = &d->v[i].it;
	uint32_t host = d->src->id;
	char who[STATE_NAME_MAX];

	(void)snprintf(it->vm, sizeof(it->vm), "%s", v->name);
	it->priority = v->ha.priority;
	if (v->host != host) {
		say(it, DRAIN_WAIT, "migrating here from %s: looked at again "
		    "once it lands", node_label(d->s, v->host, who, sizeof(who)));
	} else if (v->state == VM_STATE_MIGRATING) {
		it->dest = v->migrate_to;
		if (v->reason[0] != '\0')
			say(it, DRAIN_MOVING, "%s", v->reason);
		else
			say(it, DRAIN_MOVING, "%s to %s", v->migrate_offline ?
			    "moving offline" : "migrating",
			    node_label(d->s, v->migrate_to, who, sizeof(who)));
	} else if (v->state == VM_STATE_STARTING) {
		say(it, DRAIN_WAIT, "starting: looked at again once it runs");
	} else if (v->state == VM_STATE_STOPPING) {
		say(it, DRAIN_WAIT, "stopping: looked at again once it has "
		    "stopped");
	} else if (v->drain_skip == host) {
		it->action = DRAIN_STAY;
		text_fit(it->reason, sizeof(it->reason),
			 v->reason[0] ? "its move failed: " : "its move failed",
			 v->reason, "", sizeof(it->reason));
	} else if (d->s->active_san == 0 && state_vm_has_volumes(d->s, v->name)) {
		say(it, DRAIN_WAIT, "no SAN node exports its volumes now: "
		    "looked at again once one does");
	}
}

static int
place_all(struct drainer *d)
{
	struct placement_choice c;
	char pre[NODE_CPU_MAX + 32];
	size_t p;
	int r;

	/* 1. live, on the hosts of the same CPU class with a peer channel */
	for (p = 0; p < d->m; p++) {
		struct drain_item *it = &d->v[d->order[p]].it;

		if (it->action != 0)
			continue;
		if ((r = place_item(d, d->order[p], true, &c)) < 0)
			return r;
		(void)snprintf(it->reason, sizeof(it->reason), "%s", c.reason);
		if (c.host != 0) {
			it->action = DRAIN_MIGRATE;
			it->dest = c.host;
		}
	}
	/* 2. offline, anywhere; 3. nowhere */
	(void)snprintf(pre, sizeof(pre), "no host of CPU class %s fits (",
		       d->src->cpu[0] ? d->src->cpu : "unknown");
	for (p = 0; p < d->m; p++) {
		struct drain_item *it = &d->v[d->order[p]].it;
		char live_why[VM_REASON_MAX];

		if (it->action != 0)
			continue;
		if ((r = place_item(d, d->order[p], false, &c)) < 0)
			return r;
		if (c.host != 0) {
			memcpy(live_why, it->reason, sizeof(live_why));
			it->action = DRAIN_OFFLINE;
			it->dest = c.host;
			text_fit(it->reason, sizeof(it->reason), pre, live_why,
				 "); moves offline", sizeof(it->reason));
		} else {
			say(it, DRAIN_SHUTDOWN, "%s", c.reason);
		}
	}
	return 0;
}

static int
host_check(const struct state *s, uint32_t host, const struct node_rec **src)
{
	*src = state_node(s, host);
	if (*src == NULL)
		return -ENOENT;
	if ((*src)->role != NODE_ROLE_DOM0)
		return -EINVAL;
	return 0;
}

void
drain_plan_free(struct drain_plan *p)
{
	if (p == NULL)
		return;
	free(p->items);
	memset(p, 0, sizeof(*p));
}

int
drain_plan(const struct state *s, uint32_t host, struct drain_plan *out)
{
	const struct node_rec *src;
	struct drainer *d = NULL;
	size_t i;
	int r;

	if (out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -EINVAL;
	if ((r = host_check(s, host, &src)) < 0)
		return r;
	if ((r = drainer_new(s, src, &d)) < 0)
		return r;
	for (i = 0; i < d->m; i++)
		classify(d, i);
	order_items(d);
	hosts_build(d);
	if ((r = place_all(d)) < 0)
		goto out_free_drainer;

	out->ok = true;
	if (d->m > 0) {
		out->items = calloc(d->m, sizeof(*out->items));
		if (out->items == NULL) {
			r = -ENOMEM;
			goto out_free_drainer;
		}
	}
	out->n = d->m;
	for (i = 0; i < d->m; i++) {
		out->items[i] = d->v[d->order[i]].it;
		out->ok &= out->items[i].action == DRAIN_MIGRATE ||
			   out->items[i].action == DRAIN_MOVING;
	}
	r = 0;

out_free_drainer:
	drainer_free(d);
	if (r < 0)
		drain_plan_free(out);
	return r;
}

/* ---- the next steps ------------------------------------------------------------ */

static bool
any_unclean(const struct state *s)
{
	for (size_t i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].state == NODE_STATE_UNCLEAN)
			return true;
	return false;
}

static struct drain_step *
step_add(struct drain_step *steps, size_t *n, enum drain_step_kind kind,
	 const char *vm)
{
	struct drain_step *st = &steps[(*n)++];

	memset(st, 0, sizeof(*st));
	st->kind = kind;
	(void)snprintf(st->vm, sizeof(st->vm), "%s", vm);
	return st;
}

/* Would the coordinator's own check take the move now? */
static bool
move_allowed(const struct state *s, const struct drain_item *it, bool offline)
{
	const struct vm_rec *v = state_vm(s, it->vm);
	const struct node_rec *dest = state_node(s, it->dest);

	return v != NULL && dest != NULL &&
	       migrate_check(s, v, dest, offline, NULL, 0) == 0;
}

/* What the summary says of an item that stays, in at most max characters. */
static size_t
detail_of(const struct state *s, const struct drain_item *it, size_t max,
	  char *buf, size_t len)
{
	char who[STATE_NAME_MAX];

	if (it->action == DRAIN_SHUTDOWN)
		text_fit(buf, len, "no host fits: ", it->reason, "", max);
	else if (it->action == DRAIN_OFFLINE)
		text_fit(buf, len, "offline to ",
			 node_label(s, it->dest, who, sizeof(who)),
			 " needs --force", max);
	else
		text_fit(buf, len, "", it->reason, "", max);
	return strlen(buf);
}

/* "nothing left on h1", or "left on h1: web3 (its move failed: ...), db2
 * (no host fits: ...)": what the drain leaves, in plan order.  When it
 * is too long, the longest words are cut first (to the same length,
 * DETAIL_MIN at least), so that the names show. */
static void
summary(const struct state *s, const struct node_rec *src,
	const struct drain_plan *p, char *buf, size_t len)
{
	char detail[VM_REASON_MAX];
	size_t i, room, need, cut, lo, hi;
	struct sbuf b;

	/* DONE: every item left stays */
	sb_init(&b, buf, len);
	if (p->n == 0) {
		sb_add(&b, "nothing left on %s", src->name);
		return;
	}
	sb_add(&b, "left on %s: ", src->name);
	room = len - 1 - b.len;
	/* the largest cut that fits, by bisection */
	lo = DETAIL_MIN;
	hi = sizeof(detail) - 1;
	while (lo < hi) {
		cut = lo + (hi - lo + 1) / 2;
		need = 0;
		for (i = 0; i < p->n; i++)
			need += (i > 0 ? 2 : 0) + strlen(p->items[i].vm) + 3 +
				detail_of(s, &p->items[i], cut, detail,
					  sizeof(detail));
		if (need <= room)
			lo = cut;
		else
			hi = cut - 1;
	}
	for (i = 0; i < p->n; i++) {
		(void)detail_of(s, &p->items[i], lo, detail, sizeof(detail));
		sb_add(&b, "%s%s (%s)", i > 0 ? ", " : "", p->items[i].vm, detail);
	}
}

/* The steps for the plan p of the draining host src; steps has room for
 * one per item and one more. */
static void
next_steps(const struct state *s, const struct node_rec *src,
	   const struct drain_plan *p, struct drain_step *steps, size_t *n)
{
	uint32_t parallel = src->drain_parallel ? src->drain_parallel : 1;
	uint32_t in_flight = 0;
	size_t i, n_shut = 0, last_shut = 0;
	bool force = src->drain_force, busy = false;
	char pre[STATE_NAME_MAX + 32];
	struct drain_step *st;

	(void)snprintf(pre, sizeof(pre), "drain of %s: ", src->name);
	for (i = 0; i < p->n; i++)
		if (p->items[i].action == DRAIN_MOVING)
			in_flight++;
	for (i = 0; i < p->n; i++) {
		const struct drain_item *it = &p->items[i];
		bool offline = it->action == DRAIN_OFFLINE;

		switch (it->action) {
		case DRAIN_MIGRATE:
		case DRAIN_OFFLINE:
			if (offline && !force)
				break;          /* stays, reported by DONE */
			busy = true;
			if (in_flight >= parallel || !move_allowed(s, it, offline))
				break;          /* later */
			st = step_add(steps, n, DRAIN_STEP_MIGRATE, it->vm);
			st->dest = it->dest;
			st->offline = offline;
			text_fit(st->reason, sizeof(st->reason), pre, it->reason,
				 "", sizeof(st->reason));
			in_flight++;
			break;
		case DRAIN_SHUTDOWN:
			n_shut++;
			last_shut = i;
			break;
		case DRAIN_MOVING:
		case DRAIN_WAIT:
			busy = true;
			break;
		case DRAIN_STAY:
		default:
			break;
		}
	}
	if (busy)
		return;
	if (force && n_shut > 0) {
		/* one at a time, the last in plan order first */
		const struct drain_item *it = &p->items[last_shut];

		st = step_add(steps, n, DRAIN_STEP_SHUTDOWN, it->vm);
		(void)snprintf(pre, sizeof(pre), "drain of %s: no host fits (",
			       src->name);
		text_fit(st->reason, sizeof(st->reason), pre, it->reason, ")",
			 sizeof(st->reason));
		return;
	}
	st = step_add(steps, n, DRAIN_STEP_DONE, "");
	summary(s, src, p, st->reason, sizeof(st->reason));
}

int
drain_next(const struct state *s, uint32_t host, struct drain_step **steps,
	   size_t *n)
{
	const struct node_rec *src;
	struct drain_plan p = { 0 };
	struct drain_step *out = NULL;
	size_t k = 0;
	int r;

	if (steps == NULL || n == NULL)
		return -EINVAL;
	*steps = NULL;
	*n = 0;
	if (s == NULL)
		return -EINVAL;
	if ((r = host_check(s, host, &src)) < 0)
		return r;
	if (!(src->flags & NODE_FLAG_DRAINING) || s->frozen || any_unclean(s))
		return 0;
	if ((r = drain_plan(s, host, &p)) < 0)
		return r;
	out = calloc(p.n + 1, sizeof(*out));
	if (out == NULL) {
		r = -ENOMEM;
		goto out_free_plan;
	}
	next_steps(s, src, &p, out, &k);
	if (k == 0) {
		free(out);
		out = NULL;
	}
	*steps = out;
	*n = k;
	r = 0;

out_free_plan:
	drain_plan_free(&p);
	return r;
}
