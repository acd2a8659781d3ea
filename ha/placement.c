/* Placement of VMs on hosts, and the admission check (one host may fail).
 *
 * Pure and deterministic.  One plan is: check and index the input (hosts
 * by id, VMs by name, anti-affinity groups, start_after edges), find the
 * start_after cycles, order the rest (Kahn's algorithm with a heap keyed
 * by lent priority and name), then give each VM its host in that
 * order, consuming memory as it goes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "sbuf.h"

#define NONE (-1)

struct plan {
	const struct placement_host *hosts;
	size_t nh;
	const struct placement_vm *vms;
	size_t nv;
	size_t hpos[PLACEMENT_MAX_HOSTS];       /* host indices by id */
	uint64_t free_mb[PLACEMENT_MAX_HOSTS];  /* by position in hpos */
	const struct placement_vm **byname;     /* VMs sorted by name */
	const struct placement_vm **bygroup;    /* grouped VMs by group */
	size_t ngroups;
	int32_t *occ;           /* [group * nh + pos]: a VM of it there */
	int32_t *gid;           /* anti-affinity group of each VM, NONE */
	int32_t *deps;          /* [v * VM_MAX_AFTER + k]: whom v waits for */
	int32_t *rdeps;         /* who waits for whom, by roff */
	int32_t *ndeps, *cycle, *order;
	size_t norder;
	uint32_t *eff;          /* own priority or one lent by a waiter */
	int32_t *block;         /* holds all the int32_t arrays */
	/* scratch of Kahn's algorithm and of the cycle search */
	int32_t *indeg, *roff, *fill, *heap, *parent, *queue, *seen, *path;
	int32_t stamp;
};

static void
plan_free(struct plan *pl)
{
	if (pl == NULL)
		return;
	free(pl->block);
	free(pl->eff);
	free(pl->byname);
	free(pl->bygroup);
	free(pl->occ);
	memset(pl, 0, sizeof(*pl));
}

/* The int32_t arrays are slices of one block; a failure leaves pl for
 * plan_free. */
static int
plan_alloc(struct plan *pl)
{
	int32_t **arr[] = {
		&pl->gid, &pl->ndeps, &pl->cycle, &pl->order, &pl->indeg,
		&pl->roff, &pl->fill, &pl->heap, &pl->parent, &pl->queue,
		&pl->seen, &pl->path,
	};
	size_t i, narr = sizeof(arr) / sizeof(arr[0]), n = pl->nv + 1;

	pl->block = calloc(n * (narr + 2 * VM_MAX_AFTER), sizeof(int32_t));
	pl->eff = calloc(n, sizeof(uint32_t));
	pl->byname = calloc(n, sizeof(*pl->byname));
	pl->bygroup = calloc(n, sizeof(*pl->bygroup));
	if (pl->block == NULL || pl->eff == NULL || pl->byname == NULL ||
	    pl->bygroup == NULL)
		return -ENOMEM;
	for (i = 0; i < narr; i++)
		*arr[i] = pl->block + i * n;
	pl->deps = pl->block + narr * n;
	pl->rdeps = pl->deps + n * VM_MAX_AFTER;
	return 0;
}

static bool
str_ok(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool
name_ok(const char *s, size_t cap)
{
	return str_ok(s, cap) && s[0] != '\0';
}

static int
cmp_vm_name(const void *a, const void *b)
{
	const struct placement_vm *x = *(const struct placement_vm *const *)a;
	const struct placement_vm *y = *(const struct placement_vm *const *)b;

	return strcmp(x->name, y->name);
}

static int
cmp_vm_group(const void *a, const void *b)
{
	const struct placement_vm *x = *(const struct placement_vm *const *)a;
	const struct placement_vm *y = *(const struct placement_vm *const *)b;

	return strcmp(x->ha->anti_affinity, y->ha->anti_affinity);
}

/* The VM of group g known on host position p, NONE. */
static int32_t *
occ_at(const struct plan *pl, int32_t g, size_t p)
{
	return &pl->occ[(size_t)g * pl->nh + p];
}

static const struct placement_host *
host_at(const struct plan *pl, size_t p)
{
	return &pl->hosts[pl->hpos[p]];
}

/* By id, or by name when name is given (at most 64 hosts). */
static int32_t
host_pos(const struct plan *pl, uint32_t id, const char *name)
{
	size_t p;

	for (p = 0; p < pl->nh; p++)
		if (name != NULL ? strcmp(host_at(pl, p)->name, name) == 0 :
		    host_at(pl, p)->id == id)
			return (int32_t)p;
	return NONE;
}

static int32_t
vm_by_name(const struct plan *pl, const char *name)
{
	size_t lo = 0, hi = pl->nv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(pl->byname[mid]->name, name);

		if (c == 0)
			return (int32_t)(pl->byname[mid] - pl->vms);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* The checks that need no index: pointers and sizes. */
static int
args_check(const struct placement_host *hosts, size_t nh,
	   const struct placement_vm *vms, size_t nv)
{
	if ((hosts == NULL && nh > 0) || (vms == NULL && nv > 0))
		return -EINVAL;
	if (nh > PLACEMENT_MAX_HOSTS || nv > PLACEMENT_MAX_VMS)
		return -E2BIG;
	return 0;
}

static int
hosts_index(struct plan *pl)
{
	size_t i, j;

	for (i = 0; i < pl->nh; i++) {
		const struct placement_host *h = &pl->hosts[i];

		if (h->id == 0 || !name_ok(h->name, sizeof(h->name)) ||
		    !str_ok(h->cpu, sizeof(h->cpu)))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (pl->hosts[j].id == h->id ||
			    strcmp(pl->hosts[j].name, h->name) == 0)
				return -EINVAL;
		/* Insertion by id: at most 64 hosts. */
		for (j = i; j > 0 && host_at(pl, j - 1)->id > h->id; j--)
			pl->hpos[j] = pl->hpos[j - 1];
		pl->hpos[j] = i;
	}
	for (i = 0; i < pl->nh; i++)
		pl->free_mb[i] = host_at(pl, i)->mem_free_mb;
	return 0;
}

static int
vm_check(const struct plan *pl, const struct placement_vm *vm)
{
	const struct vm_ha *ha = vm->ha;
	uint32_t k;

	if (!name_ok(vm->name, sizeof(vm->name)) || ha == NULL ||
	    ha->n_hosts > VM_MAX_HOSTS || ha->n_after > VM_MAX_AFTER ||
	    !str_ok(ha->anti_affinity, sizeof(ha->anti_affinity)))
		return -EINVAL;
	for (k = 0; k < ha->n_hosts; k++)
		if (!str_ok(ha->hosts[k], sizeof(ha->hosts[k])))
			return -EINVAL;
	for (k = 0; k < ha->n_after; k++)
		if (!str_ok(ha->after[k], sizeof(ha->after[k])))
			return -EINVAL;
	if (vm->current_host != 0 &&
	    host_pos(pl, vm->current_host, NULL) == NONE)
		return -EINVAL;
	return 0;
}

/* Anti-affinity groups get ids; each (group, host) remembers one VM of the
 * group there, the running one with the lowest name first. */
static int
groups_index(struct plan *pl)
{
	size_t i, n = 0;

	for (i = 0; i < pl->nv; i++) {
		pl->gid[i] = NONE;
		if (pl->vms[i].ha->anti_affinity[0] != '\0')
			pl->bygroup[n++] = &pl->vms[i];
	}
	qsort(pl->bygroup, n, sizeof(*pl->bygroup), cmp_vm_group);
	for (i = 0; i < n; i++) {
		if (i > 0 && cmp_vm_group(&pl->bygroup[i - 1],
					  &pl->bygroup[i]) != 0)
			pl->ngroups++;
		pl->gid[pl->bygroup[i] - pl->vms] = (int32_t)pl->ngroups;
	}
	if (n > 0)
		pl->ngroups++;

	pl->occ = malloc((pl->ngroups * pl->nh + 1) * sizeof(int32_t));
	if (pl->occ == NULL)
		return -ENOMEM;
	for (i = 0; i < pl->ngroups * pl->nh; i++)
		pl->occ[i] = NONE;
	for (i = 0; i < pl->nv; i++) {
		const struct placement_vm *vm = pl->byname[i];
		int32_t v = (int32_t)(vm - pl->vms);
		int32_t *o;

		if (vm->needs_place || vm->current_host == 0 ||
		    pl->gid[v] == NONE)
			continue;
		o = occ_at(pl, pl->gid[v],
			   (size_t)host_pos(pl, vm->current_host, NULL));
		if (*o == NONE)
			*o = v;
	}
	return 0;
}

static int
plan_prepare(struct plan *pl)
{
	size_t i;
	uint32_t k;
	int r;

	if ((r = hosts_index(pl)) < 0)
		return r;
	if ((r = plan_alloc(pl)) < 0)
		return r;
	for (i = 0; i < pl->nv; i++) {
		if ((r = vm_check(pl, &pl->vms[i])) < 0)
			return r;
		pl->byname[i] = &pl->vms[i];
	}
	qsort(pl->byname, pl->nv, sizeof(*pl->byname), cmp_vm_name);
	for (i = 1; i < pl->nv; i++)
		if (strcmp(pl->byname[i - 1]->name, pl->byname[i]->name) == 0)
			return -EINVAL;
	if ((r = groups_index(pl)) < 0)
		return r;

	/* Edges only between VMs being placed: a VM that is running (or
	 * stays stopped) does not hold anyone back. */
	for (i = 0; i < pl->nv; i++) {
		const struct placement_vm *vm = &pl->vms[i];

		if (!vm->needs_place)
			continue;
		for (k = 0; k < vm->ha->n_after; k++) {
			int32_t w = vm_by_name(pl, vm->ha->after[k]);

			if (w != NONE && pl->vms[w].needs_place)
				pl->deps[i * VM_MAX_AFTER +
					 (size_t)pl->ndeps[i]++] = w;
		}
	}
	return 0;
}

static int32_t
dep(const struct plan *pl, int32_t v, int32_t k)
{
	return pl->deps[(size_t)v * VM_MAX_AFTER + (size_t)k];
}

static bool
goes_before(const struct plan *pl, int32_t a, int32_t b)
{
	if (pl->eff[a] != pl->eff[b])
		return pl->eff[a] > pl->eff[b];
	return strcmp(pl->vms[a].name, pl->vms[b].name) < 0;
}

static void
heap_push(struct plan *pl, size_t *n, int32_t v)
{
	size_t i = (*n)++;

	while (i > 0 && goes_before(pl, v, pl->heap[(i - 1) / 2])) {
		pl->heap[i] = pl->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	pl->heap[i] = v;
}

static int32_t
heap_pop(struct plan *pl, size_t *n)
{
	int32_t top = pl->heap[0], last = pl->heap[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && goes_before(pl, pl->heap[c + 1], pl->heap[c]))
			c++;
		if (!goes_before(pl, pl->heap[c], last))
			break;
		pl->heap[i] = pl->heap[c];
		i = c;
	}
	if (*n > 0)
		pl->heap[i] = last;
	return top;
}

/* Kahn's algorithm over the VMs being placed, always taking the ready VM
 * that goes first; VMs in a cycle and the edges to them are left out.
 * order gets the VMs it could order; those it could not keep indeg > 0. */
static void
plan_kahn(struct plan *pl)
{
	size_t i, nheap = 0;
	int32_t v, k, w, r;

	memset(pl->indeg, 0, pl->nv * sizeof(int32_t));
	memset(pl->roff, 0, (pl->nv + 1) * sizeof(int32_t));
	pl->norder = 0;
	for (i = 0; i < pl->nv; i++) {
		v = (int32_t)i;
		if (!pl->vms[v].needs_place || pl->cycle[v])
			continue;
		for (k = 0; k < pl->ndeps[v]; k++)
			if (!pl->cycle[dep(pl, v, k)]) {
				pl->indeg[v]++;
				pl->roff[dep(pl, v, k) + 1]++;
			}
	}
	for (i = 0; i < pl->nv; i++) {
		pl->roff[i + 1] += pl->roff[i];
		pl->fill[i] = pl->roff[i];
	}
	for (i = 0; i < pl->nv; i++) {
		v = (int32_t)i;
		if (!pl->vms[v].needs_place || pl->cycle[v])
			continue;
		for (k = 0; k < pl->ndeps[v]; k++)
			if (!pl->cycle[w = dep(pl, v, k)])
				pl->rdeps[pl->fill[w]++] = v;
		if (pl->indeg[v] == 0)
			heap_push(pl, &nheap, v);
	}
	while (nheap > 0) {
		v = heap_pop(pl, &nheap);
		pl->order[pl->norder++] = v;
		for (r = pl->roff[v]; r < pl->roff[v + 1]; r++)
			if (--pl->indeg[pl->rdeps[r]] == 0)
				heap_push(pl, &nheap, pl->rdeps[r]);
	}
}

/*
 * The shortest start_after cycle through v, breadth first with the edges
 * in ha_start_after order; rendered into b when given ("start order
 * cycle: a -> b -> a").  Only VMs the first Kahn pass left over (indeg >
 * 0 until the next pass) can be on a cycle, and once found they are
 * marked, so the search stays among them.
 */
static bool
find_cycle(struct plan *pl, int32_t v, struct sbuf *b)
{
	size_t head = 0, tail = 0, n = 0;
	int32_t found = NONE, x, k, w;

	pl->stamp++;
	pl->queue[tail++] = v;
	pl->seen[v] = pl->stamp;
	while (head < tail && found == NONE) {
		x = pl->queue[head++];
		for (k = 0; k < pl->ndeps[x] && found == NONE; k++) {
			w = dep(pl, x, k);
			if (w == v) {
				found = x;
			} else if ((pl->indeg[w] > 0 || pl->cycle[w]) &&
				   pl->seen[w] != pl->stamp) {
				pl->seen[w] = pl->stamp;
				pl->parent[w] = x;
				pl->queue[tail++] = w;
			}
		}
	}
	if (found == NONE || b == NULL)
		return found != NONE;
	for (x = found; x != v; x = pl->parent[x])
		pl->path[n++] = x;
	sb_add(b, "start order cycle: %s", pl->vms[v].name);
	while (n > 0)
		sb_add(b, " -> %s", pl->vms[pl->path[--n]].name);
	sb_add(b, " -> %s", pl->vms[v].name);
	return true;
}

/* Cycles, lent priorities, and the placement order. */
static void
plan_graph(struct plan *pl)
{
	size_t i;
	int32_t v, k, w;

	for (i = 0; i < pl->nv; i++)
		pl->eff[i] = pl->vms[i].ha->priority;
	/* What a first pass cannot order waits for a cycle or is on one. */
	plan_kahn(pl);
	for (i = 0; i < pl->nv; i++)
		if (pl->vms[i].needs_place && pl->indeg[i] > 0)
			pl->cycle[i] = find_cycle(pl, (int32_t)i, NULL);
	/* Without the cycles every VM gets ordered, waiters after the VMs
	 * they wait for: going backwards, a waiter lends its priority
	 * before the VMs it waits for lend theirs on. */
	plan_kahn(pl);
	for (i = pl->norder; i-- > 0;) {
		v = pl->order[i];
		for (k = 0; k < pl->ndeps[v]; k++) {
			w = dep(pl, v, k);
			if (!pl->cycle[w] && pl->eff[w] < pl->eff[v])
				pl->eff[w] = pl->eff[v];
		}
	}
	plan_kahn(pl);
}

/* Why host p cannot take VM v, or NULL when it can. */
static const char *
host_refusal(const struct plan *pl, size_t p, int32_t v, char *buf,
	     size_t len)
{
	const struct placement_host *h = host_at(pl, p);
	int32_t g = pl->gid[v], o;

	if (!h->eligible)
		return h->why_not != NULL ? h->why_not : "not eligible";
	if (pl->free_mb[p] < pl->vms[v].memory_mb) {
		(void)snprintf(buf, len, "%llu MB free",
			       (unsigned long long)pl->free_mb[p]);
		return buf;
	}
	if (g != NONE && (o = *occ_at(pl, g, p)) != NONE) {
		(void)snprintf(buf, len, "runs %s", pl->vms[o].name);
		return buf;
	}
	return NULL;
}

/* The words for an admin at 3 a.m.: which constraint left no host. */
static void
explain_unplaceable(const struct plan *pl, int32_t v, struct sbuf *b)
{
	const struct placement_vm *vm = &pl->vms[v];
	int32_t largest = NONE, free_one = NONE, g = pl->gid[v];
	size_t p, n_elig = 0, n_fit = 0;

	for (p = 0; p < pl->nh; p++) {
		if (!host_at(pl, p)->eligible)
			continue;
		n_elig++;
		if (largest == NONE || pl->free_mb[p] > pl->free_mb[largest])
			largest = (int32_t)p;
		if (pl->free_mb[p] >= vm->memory_mb)
			n_fit++;
		else if (g != NONE && *occ_at(pl, g, p) == NONE &&
			 (free_one == NONE ||
			  pl->free_mb[p] > pl->free_mb[free_one]))
			free_one = (int32_t)p;
	}
	if (pl->nh == 0) {
		sb_add(b, "no hosts");
	} else if (n_elig == 0) {
		sb_add(b, "no eligible host (");
		for (p = 0; p < pl->nh; p++)
			sb_add(b, "%s%s: %s", p > 0 ? ", " : "",
			       host_at(pl, p)->name,
			       host_at(pl, p)->why_not != NULL ?
			       host_at(pl, p)->why_not : "not eligible");
		sb_add(b, ")");
	} else if (n_fit == 0) {
		sb_add(b, "needs %llu MB, largest free %llu MB on %s",
		       (unsigned long long)vm->memory_mb,
		       (unsigned long long)pl->free_mb[largest],
		       host_at(pl, (size_t)largest)->name);
	} else {
		/* Hosts fit but none takes it: only anti-affinity is left. */
		bool first = true;

		sb_add(b, "anti-affinity group %s: every fitting host already "
		       "runs one (", vm->ha->anti_affinity);
		for (p = 0; p < pl->nh; p++) {
			if (!host_at(pl, p)->eligible ||
			    pl->free_mb[p] < vm->memory_mb)
				continue;
			sb_add(b, "%s%s: %s", first ? "" : ", ",
			       host_at(pl, p)->name,
			       pl->vms[*occ_at(pl, g, p)].name);
			first = false;
		}
		sb_add(b, ")");
		if (free_one != NONE)
			sb_add(b, "; hosts without one: needs %llu MB, largest "
			       "free %llu MB on %s",
			       (unsigned long long)vm->memory_mb,
			       (unsigned long long)pl->free_mb[free_one],
			       host_at(pl, (size_t)free_one)->name);
	}
}

static void
place_one(struct plan *pl, int32_t v, struct placement_choice *c)
{
	const struct placement_vm *vm = &pl->vms[v];
	const struct vm_ha *ha = vm->ha;
	char skipped[PLACEMENT_REASON_MAX], tmp[VM_NAME_MAX + 32];
	struct sbuf sk, b;
	int32_t best = NONE, pos;
	bool preferred = false;
	const char *why;
	uint32_t k;
	size_t p;

	sb_init(&sk, skipped, sizeof(skipped));
	sb_init(&b, c->reason, sizeof(c->reason));
	for (k = 0; k < ha->n_hosts && best == NONE; k++) {
		pos = host_pos(pl, 0, ha->hosts[k]);
		why = pos == NONE ? "unknown host" :
		      host_refusal(pl, (size_t)pos, v, tmp, sizeof(tmp));
		if (why == NULL) {
			best = pos;
			preferred = true;
		} else {
			sb_add(&sk, "%s%s: %s", sk.len > 0 ? ", " : "",
			       ha->hosts[k], why);
		}
	}
	if (best == NONE)
		for (p = 0; p < pl->nh; p++)
			if (host_refusal(pl, p, v, tmp, sizeof(tmp)) == NULL &&
			    (best == NONE || pl->free_mb[p] > pl->free_mb[best]))
				best = (int32_t)p;
	if (best == NONE) {
		c->host = 0;
		explain_unplaceable(pl, v, &b);
		return;
	}

	p = (size_t)best;
	if (preferred) {
		sb_add(&b, "preferred host %s", host_at(pl, p)->name);
		if (sk.len > 0)
			sb_add(&b, " (%s)", skipped);
	} else {
		if (ha->n_hosts > 0)
			sb_add(&b, "no preferred host fits (%s); ", skipped);
		sb_add(&b, "%s has the most free memory (%llu MB)",
		       host_at(pl, p)->name,
		       (unsigned long long)pl->free_mb[p]);
	}
	c->host = host_at(pl, p)->id;
	pl->free_mb[p] -= vm->memory_mb;
	if (pl->gid[v] != NONE && *occ_at(pl, pl->gid[v], p) == NONE)
		*occ_at(pl, pl->gid[v], p) = v;
}

/* One full plan into out.  pl keeps the order for the admission check. */
static int
plan_run(struct plan *pl, const struct placement_host *hosts, size_t nh,
	 const struct placement_vm *vms, size_t nv,
	 struct placement_choice *out)
{
	struct sbuf b;
	size_t i;
	int r;

	memset(pl, 0, sizeof(*pl));
	pl->hosts = hosts;
	pl->nh = nh;
	pl->vms = vms;
	pl->nv = nv;
	if ((r = plan_prepare(pl)) < 0)
		return r;
	plan_graph(pl);

	for (i = 0; i < nv; i++) {
		if (!vms[i].needs_place) {
			out[i].host = vms[i].current_host;
			out[i].reason[0] = '\0';
		} else if (pl->cycle[i]) {
			out[i].host = 0;
			sb_init(&b, out[i].reason, sizeof(out[i].reason));
			(void)find_cycle(pl, (int32_t)i, &b);
		}
	}
	for (i = 0; i < pl->norder; i++)
		place_one(pl, pl->order[i], &out[pl->order[i]]);
	return 0;
}

int
placement_plan(const struct placement_host *hosts, size_t nh,
	       const struct placement_vm *vms, size_t nv,
	       struct placement_choice *out)
{
	struct placement_choice *tmp = NULL;
	struct plan pl;
	int r;

	if ((r = args_check(hosts, nh, vms, nv)) < 0)
		return r;
	if (out == NULL && nv > 0)
		return -EINVAL;
	if (nv == 0)
		return 0;
	/* Into a copy, so that out is untouched on error. */
	tmp = calloc(nv, sizeof(*tmp));
	if (tmp == NULL)
		return -ENOMEM;
	r = plan_run(&pl, hosts, nh, vms, nv, tmp);
	plan_free(&pl);
	if (r == 0)
		memcpy(out, tmp, nv * sizeof(*tmp));
	free(tmp);
	return r;
}

static void
admission_add(struct admission_host *ah, const struct placement_vm *vm,
	      const struct placement_choice *c, const char **first_reason)
{
	if (ah->n_vms == 0)
		*first_reason = c->reason;
	if (ah->n_names < ADMISSION_MAX_NAMES)
		memcpy(ah->names[ah->n_names++], vm->name, VM_NAME_MAX);
	ah->n_vms++;
}

/* Summaries name a few VMs; the names array holds more. */
#define SUMMARY_NAMES 4

static void
admission_collect(const struct plan *pl, const struct placement_host *h,
		  const struct placement_choice *out, struct admission_report *rep)
{
	struct admission_host *ah = &rep->failing[rep->n_failing];
	const char *first_reason = "";
	struct sbuf b;
	size_t i;
	uint32_t k;

	memset(ah, 0, sizeof(*ah));
	for (i = 0; i < pl->norder; i++)
		if (out[pl->order[i]].host == 0)
			admission_add(ah, &pl->vms[pl->order[i]],
				      &out[pl->order[i]], &first_reason);
	for (i = 0; i < pl->nv; i++) {
		int32_t v = (int32_t)(pl->byname[i] - pl->vms);

		if (pl->vms[v].needs_place && pl->cycle[v])
			admission_add(ah, &pl->vms[v], &out[v], &first_reason);
	}
	if (ah->n_vms == 0)
		return;

	ah->host = h->id;
	memcpy(ah->name, h->name, sizeof(ah->name));
	sb_init(&b, ah->summary, sizeof(ah->summary));
	sb_add(&b, "if %s fails: ", h->name);
	for (k = 0; k < ah->n_names && k < SUMMARY_NAMES; k++)
		sb_add(&b, "%s%s", k > 0 ? ", " : "", ah->names[k]);
	if (ah->n_vms > k)
		sb_add(&b, " and %u more", ah->n_vms - k);
	sb_add(&b, " cannot be restarted (%s)", first_reason);
	rep->n_failing++;
	rep->ok = false;
}

int
placement_admission(const struct placement_host *hosts, size_t nh,
		    const struct placement_vm *vms, size_t nv,
		    struct admission_report *rep)
{
	struct placement_host hh[PLACEMENT_MAX_HOSTS];
	struct placement_choice *out = NULL;
	struct placement_vm *vv = NULL;
	struct plan pl, one;
	size_t i, j;
	int r;

	if (rep == NULL)
		return -EINVAL;
	memset(rep, 0, sizeof(*rep));
	if ((r = args_check(hosts, nh, vms, nv)) < 0)
		return r;
	memset(&pl, 0, sizeof(pl));
	vv = calloc(nv + 1, sizeof(*vv));
	out = calloc(nv + 1, sizeof(*out));
	if (vv == NULL || out == NULL) {
		r = -ENOMEM;
		goto out_free;
	}
	if (nh > 0)
		memcpy(hh, hosts, nh * sizeof(*hh));
	if (nv > 0)
		memcpy(vv, vms, nv * sizeof(*vv));

	/* Check the input once, even if no host gets tried below. */
	for (i = 0; i < nv; i++)
		vv[i].needs_place = false;
	r = plan_run(&pl, hh, nh, vv, nv, out);
	if (r < 0)
		goto out_free;
	rep->ok = true;

	/* pl.hpos gives the hosts by id; it stays valid across runs since
	 * hh only changes eligibility. */
	for (j = 0; j < nh; j++) {
		struct placement_host *h = &hh[pl.hpos[j]];
		bool any = false;

		if (!h->eligible)
			continue;
		for (i = 0; i < nv; i++) {
			vv[i].needs_place = vms[i].current_host == h->id;
			any |= vv[i].needs_place;
		}
		if (!any)
			continue;
		h->eligible = false;
		h->why_not = "failed";
		r = plan_run(&one, hh, nh, vv, nv, out);
		if (r == 0)
			admission_collect(&one, h, out, rep);
		plan_free(&one);
		*h = hosts[pl.hpos[j]];
		if (r < 0)
			goto out_free;
	}
	r = 0;

out_free:
	plan_free(&pl);
	free(out);
	free(vv);
	if (r < 0)
		memset(rep, 0, sizeof(*rep));
	return r;
}
