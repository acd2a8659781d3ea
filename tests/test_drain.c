/* Unit tests of ha/drain.c: drain plans and the coordinator's next drain
 * steps.  States are filled directly (nodes by id, VMs sorted by name
 * before each call); every expected host and reason was worked out by
 * hand from the rules in drain.h and placement.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drain.h"
#include "maint.h"
#include "placement.h"

#define FX_MAX_VMS 64

/* ---- fixtures ------------------------------------------------------------- */

static int
fx_setup(void **state)
{
	struct state *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	state_init(s);
	s->vms = calloc(FX_MAX_VMS, sizeof(*s->vms));
	if (s->vms == NULL) {
		free(s);
		return -1;
	}
	s->vms_cap = FX_MAX_VMS;
	s->epoch = 1;
	*state = s;
	return 0;
}

static int
fx_teardown(void **state)
{
	state_free(*state);
	free(*state);
	return 0;
}

static struct state *
fx_reset(void **state)
{
	(void)fx_teardown(state);
	assert_int_equal(fx_setup(state), 0);
	return *state;
}

/* An online dom0 with a watchdog; peer: it has a peer channel.  Added
 * by ascending id, as the node table keeps them. */
static struct node_rec *
node(struct state *s, uint32_t id, const char *name, uint64_t total_mb,
     const char *cpu, bool peer)
{
	struct node_rec *n = &s->nodes[s->n_nodes];

	assert_true(s->n_nodes == 0 || s->nodes[s->n_nodes - 1].id < id);
	s->n_nodes++;
	memset(n, 0, sizeof(*n));
	n->id = id;
	(void)snprintf(n->name, sizeof(n->name), "%s", name);
	n->role = NODE_ROLE_DOM0;
	n->state = NODE_STATE_ONLINE;
	n->mem_total_mb = n->mem_free_mb = total_mb;
	n->watchdog_s = 10;
	(void)snprintf(n->cpu, sizeof(n->cpu), "%s", cpu);
	if (peer)
		(void)snprintf(n->peer_addr, sizeof(n->peer_addr),
			       "10.0.0.%u:7000", (unsigned)id);
	return n;
}

#define HOST(s, id, name, mb) node(s, id, name, mb, "intel-6", true)

static struct node_rec *
nodep(struct state *s, uint32_t id)
{
	return (struct node_rec *)state_node(s, id);
}

static void
draining(struct state *s, uint32_t id, uint32_t parallel, bool force)
{
	struct node_rec *n = nodep(s, id);

	n->flags |= NODE_FLAG_MAINTENANCE | NODE_FLAG_DRAINING;
	n->drain_parallel = parallel;
	n->drain_force = force;
}

/* A running VM; the pointer holds until sorted() or the next vm(). */
static struct vm_rec *
vm(struct state *s, const char *name, uint64_t mb, uint32_t prio,
   uint32_t host)
{
	struct vm_rec *v;

	assert_true(s->n_vms < FX_MAX_VMS);
	v = &s->vms[s->n_vms++];
	memset(v, 0, sizeof(*v));
	(void)snprintf(v->name, sizeof(v->name), "%s", name);
	v->state = VM_STATE_RUNNING;
	v->host = host;
	v->generation = 1;
	v->want_running = true;
	v->memory_mb = mb;
	v->ha.priority = prio;
	v->ha.restart = VM_RESTART_ALWAYS;
	v->ha.max_restarts = 3;
	v->ha.restart_window_s = 600;
	return v;
}

static void
group(struct vm_rec *v, const char *g)
{
	(void)snprintf(v->ha.anti_affinity, sizeof(v->ha.anti_affinity), "%s", g);
}

static void
prefer(struct vm_rec *v, const char *h)
{
	(void)snprintf(v->ha.hosts[v->ha.n_hosts++], VM_NAME_MAX, "%s", h);
}

static void
after(struct vm_rec *v, const char *w)
{
	(void)snprintf(v->ha.after[v->ha.n_after++], VM_NAME_MAX, "%s", w);
}

static void
migrating(struct vm_rec *v, uint32_t to, bool offline)
{
	v->state = VM_STATE_MIGRATING;
	v->migrate_to = to;
	v->migrate_offline = offline;
	v->migrate_since_ms = 1;
}

static int
cmp_vm(const void *a, const void *b)
{
	return strcmp(((const struct vm_rec *)a)->name,
		      ((const struct vm_rec *)b)->name);
}

static void
sorted(struct state *s)
{
	qsort(s->vms, s->n_vms, sizeof(*s->vms), cmp_vm);
}

static struct vm_rec *
V(struct state *s, const char *name)
{
	struct vm_rec *v = (struct vm_rec *)state_vm(s, name);

	assert_non_null(v);
	return v;
}

/* ---- plans ------------------------------------------------------------------ */

static void
plan(struct state *s, uint32_t host, struct drain_plan *p)
{
	sorted(s);
	assert_int_equal(drain_plan(s, host, p), 0);
	for (size_t i = 0; i < p->n; i++)
		print_message("  %zu %s: %d -> %u (%s)\n", i, p->items[i].vm,
			      (int)p->items[i].action, p->items[i].dest,
			      p->items[i].reason);
}

/* Item i is vm, doing action to dest for reason (NULL: not checked). */
static void
item(const struct drain_plan *p, size_t i, const char *vmname,
     enum drain_action action, uint32_t dest, const char *reason)
{
	assert_true(i < p->n);
	assert_string_equal(p->items[i].vm, vmname);
	assert_int_equal(p->items[i].action, action);
	assert_int_equal(p->items[i].dest, dest);
	if (reason != NULL)
		assert_string_equal(p->items[i].reason, reason);
}

static void
test_errors(void **state)
{
	struct state *s = *state;
	struct drain_plan p = { .n = 7 };
	struct drain_step *steps = (struct drain_step *)&p;
	size_t n = 9;

	HOST(s, 1, "h1", 8192);
	node(s, 10, "san1", 0, "", false)->role = NODE_ROLE_SAN;
	vm(s, "web", 1024, 0, 1);
	sorted(s);

	assert_int_equal(drain_plan(NULL, 1, &p), -EINVAL);
	assert_int_equal(p.n, 0);
	assert_null(p.items);
	assert_int_equal(drain_plan(s, 1, NULL), -EINVAL);
	assert_int_equal(drain_plan(s, 9, &p), -ENOENT);
	assert_int_equal(drain_plan(s, 10, &p), -EINVAL);
	assert_int_equal(p.n, 0);
	drain_plan_free(NULL);

	assert_int_equal(drain_next(NULL, 1, &steps, &n), -EINVAL);
	assert_null(steps);
	assert_int_equal(n, 0);
	assert_int_equal(drain_next(s, 1, NULL, &n), -EINVAL);
	assert_int_equal(drain_next(s, 1, &steps, NULL), -EINVAL);
	nodep(s, 10)->flags |= NODE_FLAG_DRAINING;
	assert_int_equal(drain_next(s, 9, &steps, &n), -ENOENT);
	assert_int_equal(drain_next(s, 10, &steps, &n), -EINVAL);
	assert_null(steps);
	assert_int_equal(n, 0);
}

/* 12 VMs of 1 GiB over h2 (7 GiB) and h3 (6 GiB, 1 GiB taken by a VM
 * migrating to it): each goes where most is free (the reason says how
 * much before it), ties to the lowest id, so h2 takes 7 and h3 5 and
 * both are full; h4 has room but is in maintenance. */
static void
test_capacity(void **state)
{
	struct state *s = *state;
	struct drain_plan p;
	uint32_t on2 = 0, on3 = 0;
	char name[16];
	size_t i;

	HOST(s, 1, "h1", 16384);
	HOST(s, 2, "h2", 7168);
	HOST(s, 3, "h3", 6144);
	HOST(s, 4, "h4", 65536)->flags |= NODE_FLAG_MAINTENANCE;
	for (i = 1; i <= 12; i++) {
		(void)snprintf(name, sizeof(name), "vm%02zu", i);
		vm(s, name, 1024, 0, 1);
	}
	migrating(vm(s, "other", 1024, 0, 4), 3, false);
	plan(s, 1, &p);
	assert_int_equal(p.n, 12);
	assert_true(p.ok);
	item(&p, 0, "vm01", DRAIN_MIGRATE, 2, "h2 has the most free memory (7168 MB)");
	item(&p, 1, "vm02", DRAIN_MIGRATE, 2, "h2 has the most free memory (6144 MB)");
	item(&p, 2, "vm03", DRAIN_MIGRATE, 2, "h2 has the most free memory (5120 MB)");
	item(&p, 3, "vm04", DRAIN_MIGRATE, 3, "h3 has the most free memory (5120 MB)");
	item(&p, 11, "vm12", DRAIN_MIGRATE, 3, "h3 has the most free memory (1024 MB)");
	for (i = 0; i < p.n; i++) {
		on2 += p.items[i].dest == 2;
		on3 += p.items[i].dest == 3;
	}
	assert_int_equal(on2, 7);
	assert_int_equal(on3, 5);
	drain_plan_free(&p);
	assert_null(p.items);

	/* one more does not fit anywhere */
	vm(s, "vm13", 1024, 0, 1);
	plan(s, 1, &p);
	assert_false(p.ok);
	item(&p, 12, "vm13", DRAIN_SHUTDOWN, 0,
	     "needs 1024 MB, largest free 0 MB on h2");
	drain_plan_free(&p);
}

/* Priority descending, lent to what a VM starts after; start_after;
 * name.  A cycle goes once nothing else can. */
static void
test_order(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 65536);
	vm(s, "a", 1024, 0, 1);
	vm(s, "b", 1024, 5, 1);
	after(vm(s, "c", 1024, 10, 1), "d");
	vm(s, "d", 1024, 0, 1);
	after(vm(s, "e", 1024, 5, 1), "b");
	after(vm(s, "x", 1024, 1, 1), "y");
	after(vm(s, "y", 1024, 1, 1), "x");
	after(vm(s, "z", 1024, 3, 2), "a");     /* elsewhere: no edge */
	plan(s, 1, &p);
	assert_int_equal(p.n, 7);
	item(&p, 0, "d", DRAIN_MIGRATE, 2, NULL);
	item(&p, 1, "c", DRAIN_MIGRATE, 2, NULL);
	item(&p, 2, "b", DRAIN_MIGRATE, 2, NULL);
	item(&p, 3, "e", DRAIN_MIGRATE, 2, NULL);
	item(&p, 4, "a", DRAIN_MIGRATE, 2, NULL);
	item(&p, 5, "x", DRAIN_MIGRATE, 2, NULL);
	item(&p, 6, "y", DRAIN_MIGRATE, 2, NULL);
	assert_int_equal(p.items[0].priority, 0);       /* its own */
	assert_true(p.ok);
	drain_plan_free(&p);
}

/* Room for two of three: the least important one is left. */
static void
test_order_capacity(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 4096);
	vm(s, "lo", 2048, 0, 1);
	vm(s, "mid", 2048, 5, 1);
	vm(s, "hi", 2048, 10, 1);
	plan(s, 1, &p);
	item(&p, 0, "hi", DRAIN_MIGRATE, 2, NULL);
	item(&p, 1, "mid", DRAIN_MIGRATE, 2, NULL);
	item(&p, 2, "lo", DRAIN_SHUTDOWN, 0,
	     "needs 2048 MB, largest free 0 MB on h2");
	assert_false(p.ok);
	drain_plan_free(&p);
}

/* Two VMs of a group never land together, nor where one runs (db3 on
 * h2, which has the most room). */
static void
test_anti_affinity(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 16384);
	HOST(s, 3, "h3", 8192);
	HOST(s, 4, "h4", 6144);
	group(vm(s, "db0", 1024, 0, 1), "db");
	group(vm(s, "db1", 1024, 0, 1), "db");
	group(vm(s, "db2", 1024, 0, 1), "db");
	group(vm(s, "db3", 1024, 0, 2), "db");
	vm(s, "web", 1024, 0, 1);
	plan(s, 1, &p);
	item(&p, 0, "db0", DRAIN_MIGRATE, 3, "h3 has the most free memory (8192 MB)");
	item(&p, 1, "db1", DRAIN_MIGRATE, 4, "h4 has the most free memory (6144 MB)");
	item(&p, 2, "db2", DRAIN_SHUTDOWN, 0, "anti-affinity group db: every "
	     "fitting host already runs one (h2: db3, h3: db0, h4: db1)");
	item(&p, 3, "web", DRAIN_MIGRATE, 2, "h2 has the most free memory (15360 MB)");
	assert_false(p.ok);
	drain_plan_free(&p);

	/* db0 already migrating to h3: that counts too */
	migrating(V(s, "db0"), 3, false);
	plan(s, 1, &p);
	item(&p, 0, "db0", DRAIN_MOVING, 3, "migrating to h3");
	item(&p, 1, "db1", DRAIN_MIGRATE, 4, NULL);
	item(&p, 2, "db2", DRAIN_SHUTDOWN, 0, NULL);
	drain_plan_free(&p);
}

/* A group member migrating between two other hosts holds both. */
static void
test_anti_affinity_moving(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 16384);
	HOST(s, 3, "h3", 16384);
	HOST(s, 4, "h4", 4096);
	group(vm(s, "db0", 1024, 0, 1), "db");
	group(vm(s, "db1", 1024, 0, 1), "db");
	migrating(vm(s, "db9", 1024, 0, 3), 2, false);
	group(V(s, "db9"), "db");
	plan(s, 1, &p);
	item(&p, 0, "db0", DRAIN_MIGRATE, 4, "h4 has the most free memory (4096 MB)");
	item(&p, 1, "db1", DRAIN_SHUTDOWN, 0, "anti-affinity group db: every "
	     "fitting host already runs one (h2: db9 (moving), h3: db9, h4: db0)");
	drain_plan_free(&p);
}

static void
test_preferred(void **state)
{
	struct state *s = *state;
	struct drain_plan p;
	struct vm_rec *v;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 16384);
	HOST(s, 3, "h3", 4096);
	HOST(s, 4, "h4", 65536)->flags |= NODE_FLAG_STANDBY;
	v = vm(s, "a", 1024, 0, 1);
	prefer(v, "h3");
	prefer(v, "h2");
	v = vm(s, "b", 1024, 0, 1);
	prefer(v, "h1");
	prefer(v, "h3");
	v = vm(s, "c", 1024, 0, 1);
	prefer(v, "h4");
	plan(s, 1, &p);
	item(&p, 0, "a", DRAIN_MIGRATE, 3, "preferred host h3");
	item(&p, 1, "b", DRAIN_MIGRATE, 3, "preferred host h3 (h1: being drained)");
	item(&p, 2, "c", DRAIN_MIGRATE, 2, "no preferred host fits (h4: "
	     "standby); h2 has the most free memory (16384 MB)");
	assert_true(p.ok);
	drain_plan_free(&p);
}

/* Live only to the same CPU class: a fits h3 (intel-6) though h2 (amd-3)
 * has more room; b does not, and moves offline to h2. */
static void
test_cpu_class(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	node(s, 2, "h2", 65536, "amd-3", true);
	HOST(s, 3, "h3", 4096);
	vm(s, "a", 2048, 0, 1);
	vm(s, "b", 4096, 0, 1);
	plan(s, 1, &p);
	item(&p, 0, "a", DRAIN_MIGRATE, 3, "h3 has the most free memory (4096 MB)");
	item(&p, 1, "b", DRAIN_OFFLINE, 2, "no host of CPU class intel-6 fits "
	     "(needs 4096 MB, largest free 2048 MB on h3); moves offline");
	assert_false(p.ok);
	drain_plan_free(&p);

	/* no host of its class at all */
	nodep(s, 3)->state = NODE_STATE_OFFLINE;
	plan(s, 1, &p);
	item(&p, 0, "a", DRAIN_OFFLINE, 2, "no host of CPU class intel-6 fits "
	     "(no eligible host (h1: being drained, h2: CPU class amd-3, h3: "
	     "offline)); moves offline");
	item(&p, 1, "b", DRAIN_OFFLINE, 2, NULL);
	drain_plan_free(&p);

	/* "" is a class too, equal only to "" */
	nodep(s, 3)->state = NODE_STATE_ONLINE;
	nodep(s, 1)->cpu[0] = '\0';
	nodep(s, 3)->cpu[0] = '\0';
	plan(s, 1, &p);
	item(&p, 0, "a", DRAIN_MIGRATE, 3, NULL);
	item(&p, 1, "b", DRAIN_OFFLINE, 2, "no host of CPU class unknown fits "
	     "(needs 4096 MB, largest free 2048 MB on h3); moves offline");
	drain_plan_free(&p);
}

/* A host without a peer channel is no live target. */
static void
test_no_peer(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	node(s, 2, "h2", 65536, "intel-6", false);
	vm(s, "a", 1024, 0, 1);
	plan(s, 1, &p);
	item(&p, 0, "a", DRAIN_OFFLINE, 2, "no host of CPU class intel-6 fits "
	     "(no eligible host (h1: being drained, h2: no peer channel)); "
	     "moves offline");
	assert_false(p.ok);
	drain_plan_free(&p);

	HOST(s, 3, "h3", 2048);
	plan(s, 1, &p);
	item(&p, 0, "a", DRAIN_MIGRATE, 3, "h3 has the most free memory (2048 MB)");
	assert_true(p.ok);
	drain_plan_free(&p);
}

/* Too little room: the big one is shut down, the small one fits. */
static void
test_shutdown(void **state)
{
	struct state *s = *state;
	struct drain_plan p;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 4096);
	HOST(s, 3, "h3", 65536)->state = NODE_STATE_FENCED;
	vm(s, "big", 4096, 5, 1);
	vm(s, "small", 1024, 0, 1);
	vm(s, "resident", 2048, 0, 2);
	plan(s, 1, &p);
	/* what small takes in the live pass counts for the second */
	item(&p, 0, "big", DRAIN_SHUTDOWN, 0,
	     "needs 4096 MB, largest free 1024 MB on h2");
	item(&p, 1, "small", DRAIN_MIGRATE, 2, NULL);
	assert_false(p.ok);
	drain_plan_free(&p);

	/* nowhere at all */
	nodep(s, 2)->flags |= NODE_FLAG_MAINTENANCE;
	plan(s, 1, &p);
	item(&p, 1, "small", DRAIN_SHUTDOWN, 0, "no eligible host (h1: being "
	     "drained, h2: maintenance, h3: fenced)");
	drain_plan_free(&p);
}

/* A VM whose move failed in this drain stays; a skip for another host
 * means nothing here. */
static void
test_stay(void **state)
{
	struct state *s = *state;
	struct drain_plan p;
	struct vm_rec *v;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 65536);
	HOST(s, 5, "h5", 65536);
	v = vm(s, "web3", 1024, 0, 1);
	v->drain_skip = 1;
	(void)snprintf(v->reason, sizeof(v->reason), "migration to h2 failed "
		       "on h2: no bridge xenbr1");
	vm(s, "web4", 1024, 0, 1)->drain_skip = 5;
	vm(s, "web5", 1024, 0, 1)->drain_skip = 1;
	plan(s, 1, &p);
	item(&p, 0, "web3", DRAIN_STAY, 0, "its move failed: migration to h2 "
	     "failed on h2: no bridge xenbr1");
	item(&p, 1, "web4", DRAIN_MIGRATE, 2, NULL);
	item(&p, 2, "web5", DRAIN_STAY, 0, "its move failed");
	assert_false(p.ok);
	drain_plan_free(&p);
}

static void
test_moving_wait(void **state)
{
	struct state *s = *state;
	struct drain_plan p;
	struct vm_rec *v;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 8192);
	HOST(s, 3, "h3", 8192);
	migrating(vm(s, "m1", 1024, 0, 1), 2, false);
	v = vm(s, "m2", 1024, 0, 1);
	migrating(v, 3, true);
	(void)snprintf(v->reason, sizeof(v->reason), "destination h3 lost");
	vm(s, "s1", 1024, 0, 1)->state = VM_STATE_STARTING;
	vm(s, "s2", 1024, 0, 1)->state = VM_STATE_STOPPING;
	migrating(vm(s, "in1", 1024, 0, 3), 1, false);
	vm(s, "san1", 1024, 0, 1);
	vm(s, "gone", 1024, 0, 1)->state = VM_STATE_STOPPED;
	vm(s, "r", 6144, 0, 1);
	s->vols = calloc(1, sizeof(*s->vols));
	assert_non_null(s->vols);
	s->n_vols = 1;
	(void)snprintf(s->vols[0].name, sizeof(s->vols[0].name), "san1-xvda");
	(void)snprintf(s->vols[0].vm, sizeof(s->vols[0].vm), "san1");
	plan(s, 1, &p);
	assert_int_equal(p.n, 7);
	item(&p, 0, "in1", DRAIN_WAIT, 0, "migrating here from h3: looked at "
	     "again once it lands");
	item(&p, 1, "m1", DRAIN_MOVING, 2, "migrating to h2");
	item(&p, 2, "m2", DRAIN_MOVING, 3, "destination h3 lost");
	/* h2: 8192 - m1; h3: 8192 - m2 - in1 (held on both ends) */
	item(&p, 3, "r", DRAIN_MIGRATE, 2, "h2 has the most free memory (7168 MB)");
	item(&p, 4, "s1", DRAIN_WAIT, 0, "starting: looked at again once it runs");
	item(&p, 5, "s2", DRAIN_WAIT, 0, "stopping: looked at again once it "
	     "has stopped");
	item(&p, 6, "san1", DRAIN_WAIT, 0, "no SAN node exports its volumes "
	     "now: looked at again once one does");
	assert_false(p.ok);
	drain_plan_free(&p);

	/* only moves under way: ok */
	V(s, "in1")->state = VM_STATE_RUNNING;
	V(s, "s1")->state = VM_STATE_STOPPED;
	V(s, "s2")->state = VM_STATE_STOPPED;
	V(s, "r")->state = VM_STATE_STOPPED;
	s->active_san = 10;
	V(s, "san1")->state = VM_STATE_STOPPED;
	plan(s, 1, &p);
	assert_int_equal(p.n, 2);
	assert_true(p.ok);
	drain_plan_free(&p);
}

/* With every host a live target, the choices are those of one joint
 * placement_plan over the host's VMs (random states, acyclic start_after,
 * groups, preferred hosts). */
static uint32_t
rnd(uint32_t *seed, uint32_t n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

static void
random_state(struct state *s, uint32_t *seed)
{
	static const char *groups[] = { "", "", "g1", "g2" };
	char name[16];
	struct vm_rec *v;
	uint32_t h, i, k;

	HOST(s, 1, "h1", 65536);
	for (h = 2; h <= 5; h++) {
		(void)snprintf(name, sizeof(name), "h%u", (unsigned)h);
		HOST(s, h, name, 2048 + 1024 * rnd(seed, 14));
	}
	for (i = 0; i < 6; i++) {
		(void)snprintf(name, sizeof(name), "o%u", (unsigned)i);
		v = vm(s, name, 512 * (1 + rnd(seed, 3)), 0, 2 + rnd(seed, 4));
		group(v, groups[rnd(seed, 4)]);
	}
	for (i = 0; i < 20; i++) {
		(void)snprintf(name, sizeof(name), "v%02u", (unsigned)i);
		v = vm(s, name, 512 * (1 + rnd(seed, 8)), rnd(seed, 4), 1);
		group(v, groups[rnd(seed, 4)]);
		if (rnd(seed, 4) == 0) {
			(void)snprintf(name, sizeof(name), "h%u",
				       (unsigned)(1 + rnd(seed, 5)));
			prefer(v, name);
		}
		for (k = 0; i > 0 && k < 2; k++)
			if (rnd(seed, 3) == 0) {
				(void)snprintf(name, sizeof(name), "v%02u",
					       (unsigned)rnd(seed, i));
				after(v, name);
			}
	}
	sorted(s);
}

static void
test_matches_placement(void **state)
{
	struct state *s = *state;
	struct placement_host hosts[8];
	struct placement_vm pv[FX_MAX_VMS];
	struct placement_choice pc[FX_MAX_VMS];
	uint32_t seed = 42, round, migrate = 0, shut = 0;
	struct drain_plan p;
	size_t i, k;

	for (round = 0; round < 200; round++) {
		s = fx_reset(state);
		random_state(s, &seed);
		/* one joint placement_plan, as decide.c's hosts_build would
		 * make the hosts, h1 excluded */
		for (k = 0; k < s->n_nodes; k++) {
			const struct node_rec *n = &s->nodes[k];
			uint64_t used = state_host_used_mb(s, n->id);

			hosts[k] = (struct placement_host){ .id = n->id,
				.eligible = n->id != 1, .why_not = "being drained",
				.mem_free_mb = n->mem_total_mb > used ?
					       n->mem_total_mb - used : 0 };
			strcpy(hosts[k].name, n->name);
		}
		for (i = 0; i < s->n_vms; i++) {
			const struct vm_rec *v = &s->vms[i];

			pv[i] = (struct placement_vm){ .memory_mb = v->memory_mb,
				.ha = &v->ha, .needs_place = v->host == 1,
				.current_host = v->host == 1 ? 0 : v->host };
			strcpy(pv[i].name, v->name);
		}
		assert_int_equal(placement_plan(hosts, s->n_nodes, pv, s->n_vms,
						pc), 0);
		assert_int_equal(drain_plan(s, 1, &p), 0);
		assert_int_equal(p.n, 20);
		for (i = 0; i < s->n_vms; i++) {
			const struct drain_item *it = NULL;

			if (!pv[i].needs_place)
				continue;
			for (k = 0; k < p.n; k++)
				if (strcmp(p.items[k].vm, pv[i].name) == 0)
					it = &p.items[k];
			assert_non_null(it);
			if (pc[i].host == 0) {
				assert_int_equal(it->action, DRAIN_SHUTDOWN);
				shut++;
				continue;
			}
			assert_int_equal(it->action, DRAIN_MIGRATE);
			assert_int_equal(it->dest, pc[i].host);
			assert_string_equal(it->reason, pc[i].reason);
			migrate++;
		}
		drain_plan_free(&p);
	}
	/* both kinds seen often */
	print_message("  %u migrate, %u shutdown\n", migrate, shut);
	assert_true(migrate > 1000);
	assert_true(shut > 500);
}

/* ---- next steps -------------------------------------------------------------- */

static size_t
next(struct state *s, uint32_t host, struct drain_step **steps)
{
	struct drain_step *again;
	size_t n, n2;

	sorted(s);
	assert_int_equal(drain_next(s, host, steps, &n), 0);
	for (size_t i = 0; i < n; i++)
		print_message("  step %d %s -> %u%s: %s\n", (int)(*steps)[i].kind,
			      (*steps)[i].vm, (*steps)[i].dest,
			      (*steps)[i].offline ? " offline" : "",
			      (*steps)[i].reason);
	/* idempotent */
	assert_int_equal(drain_next(s, host, &again, &n2), 0);
	assert_int_equal(n2, n);
	if (n > 0)
		assert_memory_equal(again, *steps, n * sizeof(**steps));
	else
		assert_null(*steps);
	free(again);
	return n;
}

static void
step(const struct drain_step *st, enum drain_step_kind kind,
     const char *vmname, uint32_t dest, bool offline)
{
	assert_int_equal(st->kind, kind);
	assert_string_equal(st->vm, vmname);
	assert_int_equal(st->dest, dest);
	assert_int_equal(st->offline, offline);
}

/* What the coordinator commits, and what the hosts then report. */
static void
commit(struct state *s, const struct drain_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (steps[i].kind == DRAIN_STEP_MIGRATE)
			migrating(V(s, steps[i].vm), steps[i].dest,
				  steps[i].offline);
		else if (steps[i].kind == DRAIN_STEP_SHUTDOWN)
			V(s, steps[i].vm)->state = VM_STATE_STOPPING;
	}
}

static void
settle(struct state *s)
{
	for (size_t i = 0; i < s->n_vms; i++) {
		struct vm_rec *v = &s->vms[i];

		if (v->state == VM_STATE_MIGRATING) {
			v->state = VM_STATE_RUNNING;
			v->host = v->migrate_to;
			v->migrate_to = 0;
			v->migrate_offline = false;
		} else if (v->state == VM_STATE_STOPPING) {
			v->state = VM_STATE_STOPPED;
			v->host = 0;
		}
	}
}

static void
test_next_parallel(void **state)
{
	struct state *s = *state;
	struct drain_step *st;
	char name[16];
	size_t i, n, rounds = 0;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 65536);
	for (i = 1; i <= 6; i++) {
		(void)snprintf(name, sizeof(name), "vm%zu", i);
		vm(s, name, 1024, (uint32_t)(10 - i), 1);
	}
	draining(s, 1, 1, false);

	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_MIGRATE, "vm1", 2, false);
	assert_string_equal(st[0].reason, "drain of h1: h2 has the most free "
			    "memory (65536 MB)");
	commit(s, st, n);
	free(st);
	assert_int_equal(next(s, 1, &st), 0);   /* one in flight */
	settle(s);
	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_MIGRATE, "vm2", 2, false);
	free(st);

	/* four at once, the one in flight counted */
	nodep(s, 1)->drain_parallel = 4;
	migrating(V(s, "vm2"), 2, false);
	n = next(s, 1, &st);
	assert_int_equal(n, 3);
	step(&st[0], DRAIN_STEP_MIGRATE, "vm3", 2, false);
	step(&st[1], DRAIN_STEP_MIGRATE, "vm4", 2, false);
	step(&st[2], DRAIN_STEP_MIGRATE, "vm5", 2, false);
	commit(s, st, n);
	free(st);
	assert_int_equal(next(s, 1, &st), 0);

	/* to the end */
	do {
		settle(s);
		n = next(s, 1, &st);
		commit(s, st, n);
		assert_true(n > 0);
		if (st[0].kind == DRAIN_STEP_DONE)
			break;
		free(st);
	} while (++rounds < 10);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_DONE, "", 0, false);
	assert_string_equal(st[0].reason, "nothing left on h1");
	free(st);
	for (i = 0; i < s->n_vms; i++)
		assert_int_equal(s->vms[i].host, 2);
}

/* h1 drained into h2 (intel-6, 4 GiB) and h3 (amd-3, 2 GiB). */
static void
force_fixture(struct state *s, bool force)
{
	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 4096);
	node(s, 3, "h3", 2048, "amd-3", true);
	vm(s, "a", 4096, 0, 1);                 /* live to h2 */
	vm(s, "b", 2048, 0, 1);                 /* offline to h3 */
	vm(s, "big1", 8192, 5, 1);              /* shut down, last */
	vm(s, "big2", 8192, 1, 1);              /* shut down, first */
	draining(s, 1, 2, force);
}

static void
test_next_force(void **state)
{
	struct state *s = *state;
	struct drain_step *st;
	size_t n;

	force_fixture(s, true);
	n = next(s, 1, &st);
	assert_int_equal(n, 2);
	step(&st[0], DRAIN_STEP_MIGRATE, "a", 2, false);
	step(&st[1], DRAIN_STEP_MIGRATE, "b", 3, true);
	assert_string_equal(st[1].reason, "drain of h1: no host of CPU class "
			    "intel-6 fits (needs 2048 MB, largest free 0 MB on "
			    "h2); moves offline");
	commit(s, st, n);
	free(st);
	assert_int_equal(next(s, 1, &st), 0);   /* shutdowns wait */
	settle(s);

	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_SHUTDOWN, "big2", 0, false);
	assert_string_equal(st[0].reason, "drain of h1: no host fits (needs "
			    "8192 MB, largest free 0 MB on h2)");
	commit(s, st, n);
	free(st);
	assert_int_equal(next(s, 1, &st), 0);   /* while it stops */
	settle(s);

	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_SHUTDOWN, "big1", 0, false);
	commit(s, st, n);
	free(st);
	settle(s);

	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_DONE, "", 0, false);
	assert_string_equal(st[0].reason, "nothing left on h1");
	free(st);
}

/* No shutdown while any VM of the host settles. */
static void
test_next_force_waits(void **state)
{
	struct state *s = *state;
	struct drain_step *st;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 1024);
	vm(s, "big", 8192, 0, 1);
	vm(s, "starting", 512, 0, 1)->state = VM_STATE_STARTING;
	draining(s, 1, 1, true);
	assert_int_equal(next(s, 1, &st), 0);
	V(s, "starting")->state = VM_STATE_STOPPING;
	assert_int_equal(next(s, 1, &st), 0);
	settle(s);
	assert_int_equal(next(s, 1, &st), 1);
	step(&st[0], DRAIN_STEP_SHUTDOWN, "big", 0, false);
	free(st);
}

/* Without force what cannot move live stays, listed in plan order. */
static void
test_next_no_force(void **state)
{
	struct state *s = *state;
	struct drain_step *st;
	struct vm_rec *v;
	size_t n;

	force_fixture(s, false);
	v = vm(s, "c", 512, 0, 1);
	v->drain_skip = 1;
	(void)snprintf(v->reason, sizeof(v->reason), "migration to h2 failed");
	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_MIGRATE, "a", 2, false);
	commit(s, st, n);
	free(st);
	assert_int_equal(next(s, 1, &st), 0);
	settle(s);

	n = next(s, 1, &st);
	assert_int_equal(n, 1);
	step(&st[0], DRAIN_STEP_DONE, "", 0, false);
	/* the longest words are cut to the same length so all names show */
	assert_string_equal(st[0].reason, "left on h1: big1 (no host fits: "
			    "needs 8192 MB, largest fr...), big2 (no host fits: "
			    "needs 8192 MB, largest fr...), b (offline to h3 "
			    "needs --force), c (its move failed: migration to "
			    "h2 failed)");
	assert_true(strlen(st[0].reason) < VM_REASON_MAX);
	free(st);

	/* just one: said in full */
	V(s, "big1")->state = VM_STATE_STOPPED;
	V(s, "big2")->state = VM_STATE_STOPPED;
	V(s, "b")->state = VM_STATE_STOPPED;
	assert_int_equal(next(s, 1, &st), 1);
	assert_string_equal(st[0].reason, "left on h1: c (its move failed: "
			    "migration to h2 failed)");
	free(st);
}

static void
test_next_done_empty(void **state)
{
	struct state *s = *state;
	struct drain_step *st;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 65536);
	vm(s, "elsewhere", 1024, 0, 2);
	vm(s, "off", 1024, 0, 1)->state = VM_STATE_STOPPED;
	draining(s, 1, 1, false);
	/* not even DONE while frozen or a node is unclean */
	s->frozen = true;
	assert_int_equal(next(s, 1, &st), 0);
	s->frozen = false;
	nodep(s, 2)->state = NODE_STATE_UNCLEAN;
	assert_int_equal(next(s, 1, &st), 0);
	nodep(s, 2)->state = NODE_STATE_ONLINE;
	assert_int_equal(next(s, 1, &st), 1);
	step(&st[0], DRAIN_STEP_DONE, "", 0, false);
	assert_string_equal(st[0].reason, "nothing left on h1");
	free(st);
}

/* Nothing while frozen or a node is unclean, nor for a host not
 * draining; a move the coordinator would refuse is held. */
static void
test_next_nothing(void **state)
{
	struct state *s = *state;
	struct drain_step *st;

	HOST(s, 1, "h1", 65536);
	HOST(s, 2, "h2", 65536);
	HOST(s, 3, "h3", 65536);
	vm(s, "a", 1024, 0, 1);
	assert_int_equal(next(s, 1, &st), 0);   /* not draining */
	draining(s, 1, 1, true);
	s->frozen = true;
	assert_int_equal(next(s, 1, &st), 0);
	s->frozen = false;
	nodep(s, 3)->state = NODE_STATE_UNCLEAN;
	assert_int_equal(next(s, 1, &st), 0);
	nodep(s, 3)->state = NODE_STATE_FENCED;
	/* h1 left: its VMs are HA's, not the drain's to move */
	nodep(s, 1)->state = NODE_STATE_OFFLINE;
	assert_int_equal(next(s, 1, &st), 0);
	nodep(s, 1)->state = NODE_STATE_ONLINE;
	assert_int_equal(next(s, 1, &st), 1);
	step(&st[0], DRAIN_STEP_MIGRATE, "a", 2, false);
	free(st);
}

/* A summary of many ends in "..." within VM_REASON_MAX. */
static void
test_next_summary_long(void **state)
{
	struct state *s = *state;
	const char *prefix = "left on h1: a-rather-long-vm-name-00 (its move "
			     "failed), a-rather-long-vm-name-01 (";
	struct drain_step *st;
	char name[64];

	HOST(s, 1, "h1", 65536);
	for (int i = 0; i < 20; i++) {
		(void)snprintf(name, sizeof(name), "a-rather-long-vm-name-%02d", i);
		vm(s, name, 1024, 0, 1)->drain_skip = 1;
	}
	draining(s, 1, 1, false);
	assert_int_equal(next(s, 1, &st), 1);
	assert_int_equal(st[0].kind, DRAIN_STEP_DONE);
	assert_int_equal(strlen(st[0].reason), VM_REASON_MAX - 1);
	assert_string_equal(st[0].reason + VM_REASON_MAX - 4, "...");
	assert_memory_equal(st[0].reason, prefix, strlen(prefix));
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_capacity, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_order, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_order_capacity, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_anti_affinity, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_anti_affinity_moving, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_preferred, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cpu_class, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_peer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stay, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_moving_wait, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_matches_placement, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_parallel, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_force, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_force_waits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_no_force, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_done_empty, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_nothing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_next_summary_long, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
