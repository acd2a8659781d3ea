/* Unit tests of ha/placement.c: host choice, order, reasons, admission.
 * Every expected host and reason below was worked out by hand from the
 * rules in placement.h. */
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

#include "placement.h"

#define FX_MAX_VMS 256

struct fx {
	struct placement_host h[PLACEMENT_MAX_HOSTS + 1];
	size_t nh;
	struct placement_vm v[FX_MAX_VMS];
	struct vm_ha ha[FX_MAX_VMS];
	size_t nv;
	struct placement_choice out[FX_MAX_VMS];
	struct admission_report rep;
};

static int
fx_setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state == NULL ? -1 : 0;
}

static int
fx_teardown(void **state)
{
	free(*state);
	return 0;
}

/* why_not NULL: eligible. */
static void
host(struct fx *f, uint32_t id, const char *name, uint64_t free_mb,
     const char *why_not, bool eligible)
{
	struct placement_host *h = &f->h[f->nh++];

	memset(h, 0, sizeof(*h));
	h->id = id;
	(void)snprintf(h->name, sizeof(h->name), "%s", name);
	h->eligible = eligible;
	h->why_not = why_not;
	h->mem_free_mb = free_mb;
}

#define UP(f, id, name, mb)        host(f, id, name, mb, NULL, true)
#define DOWN(f, id, name, mb, why) host(f, id, name, mb, why, false)

static struct vm_ha *
vm(struct fx *f, const char *name, uint64_t mb, uint32_t prio, uint32_t cur,
   bool place)
{
	struct placement_vm *v = &f->v[f->nv];
	struct vm_ha *ha = &f->ha[f->nv];

	assert_true(f->nv < FX_MAX_VMS);
	f->nv++;
	memset(v, 0, sizeof(*v));
	memset(ha, 0, sizeof(*ha));
	(void)snprintf(v->name, sizeof(v->name), "%s", name);
	v->memory_mb = mb;
	v->ha = ha;
	v->current_host = cur;
	v->needs_place = place;
	ha->priority = prio;
	ha->restart = VM_RESTART_ALWAYS;
	ha->max_restarts = 3;
	ha->restart_window_s = 600;
	return ha;
}

#define NEW(f, name, mb, prio)          vm(f, name, mb, prio, 0, true)
#define RUNNING(f, name, mb, host)      vm(f, name, mb, 0, host, false)

static void
after(struct vm_ha *ha, const char *a, const char *b)
{
	(void)snprintf(ha->after[ha->n_after++], VM_NAME_MAX, "%s", a);
	if (b != NULL)
		(void)snprintf(ha->after[ha->n_after++], VM_NAME_MAX, "%s", b);
}

static void
prefer(struct vm_ha *ha, const char *a, const char *b, const char *c)
{
	const char *list[] = { a, b, c };
	size_t i;

	for (i = 0; i < 3 && list[i] != NULL; i++)
		(void)snprintf(ha->hosts[ha->n_hosts++], VM_NAME_MAX, "%s",
			       list[i]);
}

static void
group(struct vm_ha *ha, const char *g)
{
	(void)snprintf(ha->anti_affinity, sizeof(ha->anti_affinity), "%s", g);
}

static void
plan(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->nv; i++) {
		f->out[i].host = 0xdead;
		memset(f->out[i].reason, 'x', sizeof(f->out[i].reason));
	}
	assert_int_equal(placement_plan(f->h, f->nh, f->v, f->nv, f->out), 0);
}

static void
expect(const struct fx *f, const char *name, uint32_t host,
       const char *reason)
{
	size_t i;

	for (i = 0; i < f->nv; i++)
		if (strcmp(f->v[i].name, name) == 0)
			break;
	assert_true(i < f->nv);
	print_message("%s -> %u: %s\n", name, f->out[i].host, f->out[i].reason);
	assert_string_equal(f->out[i].reason, reason);
	assert_int_equal(f->out[i].host, host);
}

static void
expect_fail(struct fx *f, int err)
{
	struct placement_choice keep;

	keep.host = 777;
	(void)snprintf(keep.reason, sizeof(keep.reason), "untouched");
	f->out[0] = keep;
	assert_int_equal(placement_plan(f->h, f->nh, f->v, f->nv, f->out), err);
	assert_int_equal(f->out[0].host, 777);
	assert_string_equal(f->out[0].reason, "untouched");

	f->rep.ok = true;
	f->rep.n_failing = 5;
	assert_int_equal(placement_admission(f->h, f->nh, f->v, f->nv, &f->rep),
			 err);
	assert_false(f->rep.ok);
	assert_int_equal(f->rep.n_failing, 0);
}

static void
test_placement_invalid(void **state)
{
	struct fx *f = *state;
	struct vm_ha *ha;

	UP(f, 1, "h1", 4096);
	UP(f, 2, "h2", 4096);
	NEW(f, "a", 512, 0);
	NEW(f, "b", 512, 0);

	/* NULL arrays and sizes. */
	assert_int_equal(placement_plan(NULL, 1, f->v, 2, f->out), -EINVAL);
	assert_int_equal(placement_plan(f->h, 2, NULL, 2, f->out), -EINVAL);
	assert_int_equal(placement_plan(f->h, 2, f->v, 2, NULL), -EINVAL);
	assert_int_equal(placement_plan(f->h, PLACEMENT_MAX_HOSTS + 1, f->v, 2,
					f->out), -E2BIG);
	assert_int_equal(placement_plan(f->h, 2, f->v, PLACEMENT_MAX_VMS + 1,
					f->out), -E2BIG);
	assert_int_equal(placement_admission(f->h, 2, f->v, 2, NULL), -EINVAL);
	assert_int_equal(placement_admission(NULL, 2, f->v, 2, &f->rep),
			 -EINVAL);
	assert_int_equal(placement_admission(f->h, 2, NULL, 2, &f->rep),
			 -EINVAL);
	assert_int_equal(placement_admission(f->h, 2, f->v,
					     PLACEMENT_MAX_VMS + 1, &f->rep),
			 -E2BIG);
	/* Nothing to place is fine, even without out. */
	assert_int_equal(placement_plan(f->h, 2, f->v, 0, NULL), 0);
	assert_int_equal(placement_plan(NULL, 0, NULL, 0, NULL), 0);

	/* Hosts: id 0, duplicates, names. */
	f->h[1].id = 0;
	expect_fail(f, -EINVAL);
	f->h[1].id = 1;
	expect_fail(f, -EINVAL);
	f->h[1].id = 2;
	(void)snprintf(f->h[1].name, sizeof(f->h[1].name), "h1");
	expect_fail(f, -EINVAL);
	f->h[1].name[0] = '\0';
	expect_fail(f, -EINVAL);
	memset(f->h[1].name, 'h', sizeof(f->h[1].name));
	expect_fail(f, -EINVAL);
	(void)snprintf(f->h[1].name, sizeof(f->h[1].name), "h2");
	memset(f->h[1].cpu, 'c', sizeof(f->h[1].cpu));
	expect_fail(f, -EINVAL);
	f->h[1].cpu[0] = '\0';

	/* VMs: names, ha, current host, counts and strings of vm_ha. */
	f->v[1].name[0] = '\0';
	expect_fail(f, -EINVAL);
	memset(f->v[1].name, 'b', sizeof(f->v[1].name));
	expect_fail(f, -EINVAL);
	(void)snprintf(f->v[1].name, sizeof(f->v[1].name), "a");
	expect_fail(f, -EINVAL);
	(void)snprintf(f->v[1].name, sizeof(f->v[1].name), "b");
	f->v[1].ha = NULL;
	expect_fail(f, -EINVAL);
	ha = &f->ha[1];
	f->v[1].ha = ha;
	f->v[1].current_host = 9;
	expect_fail(f, -EINVAL);
	f->v[1].current_host = 2;
	ha->n_after = VM_MAX_AFTER + 1;
	expect_fail(f, -EINVAL);
	ha->n_after = 1;
	memset(ha->after[0], 'a', VM_NAME_MAX);
	expect_fail(f, -EINVAL);
	ha->n_after = 0;
	ha->n_hosts = VM_MAX_HOSTS + 1;
	expect_fail(f, -EINVAL);
	ha->n_hosts = 1;
	memset(ha->hosts[0], 'h', VM_NAME_MAX);
	expect_fail(f, -EINVAL);
	ha->n_hosts = 0;
	memset(ha->anti_affinity, 'g', sizeof(ha->anti_affinity));
	expect_fail(f, -EINVAL);
	ha->anti_affinity[0] = '\0';

	/* Repaired: it plans. */
	plan(f);
	expect(f, "a", 1, "h1 has the most free memory (4096 MB)");
	expect(f, "b", 2, "h2 has the most free memory (4096 MB)");
}

static void
test_placement_basic_and_ties(void **state)
{
	struct fx *f = *state;

	/* Given out of id order: ties still go to the lowest id. */
	UP(f, 7, "h7", 4096);
	UP(f, 3, "h3", 4096);
	UP(f, 5, "h5", 4096);
	NEW(f, "a", 1024, 0);
	NEW(f, "b", 1024, 0);
	NEW(f, "c", 1024, 0);
	NEW(f, "d", 1024, 0);
	NEW(f, "e", 0, 0);
	RUNNING(f, "r", 1024, 5);
	vm(f, "s", 1024, 0, 0, false);  /* stays stopped */
	plan(f);
	expect(f, "a", 3, "h3 has the most free memory (4096 MB)");
	expect(f, "b", 5, "h5 has the most free memory (4096 MB)");
	expect(f, "c", 7, "h7 has the most free memory (4096 MB)");
	expect(f, "d", 3, "h3 has the most free memory (3072 MB)");
	expect(f, "e", 5, "h5 has the most free memory (3072 MB)");
	expect(f, "r", 5, "");
	expect(f, "s", 0, "");
}

static void
test_placement_priority(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 4096);
	NEW(f, "a", 1024, 1);
	NEW(f, "e", 1024, 0);
	NEW(f, "d", 2048, 0);
	NEW(f, "c", 1024, 5);
	NEW(f, "b", 1024, 5);
	plan(f);
	/* b, c (5, by name), a (1), d, e (0, by name). */
	expect(f, "b", 1, "h1 has the most free memory (4096 MB)");
	expect(f, "c", 1, "h1 has the most free memory (3072 MB)");
	expect(f, "a", 1, "h1 has the most free memory (2048 MB)");
	expect(f, "d", 0, "needs 2048 MB, largest free 1024 MB on h1");
	/* A later, smaller VM still takes what is left. */
	expect(f, "e", 1, "h1 has the most free memory (1024 MB)");
}

static void
test_placement_start_after(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 100000);
	after(NEW(f, "a", 1000, 0), "b", NULL);
	after(NEW(f, "b", 1000, 0), "c", NULL);
	NEW(f, "c", 1000, 0);
	NEW(f, "d", 1000, 0);
	plan(f);
	/* a waits for b, b for c.  Ready {c, d}: c; then {b, d}: b; then
	 * {a, d}: a; then d. */
	expect(f, "c", 1, "h1 has the most free memory (100000 MB)");
	expect(f, "b", 1, "h1 has the most free memory (99000 MB)");
	expect(f, "a", 1, "h1 has the most free memory (98000 MB)");
	expect(f, "d", 1, "h1 has the most free memory (97000 MB)");
}

static void
test_placement_start_after_lends_priority(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 100000);
	/* x (10) waits for y (0): y goes first, before z (5). */
	after(NEW(f, "x", 1000, 10), "y", NULL);
	NEW(f, "y", 1000, 0);
	NEW(f, "z", 1000, 5);
	/* Waiting for a running VM or an unknown one holds nothing up. */
	after(NEW(f, "w", 1000, 0), "r", "ghost");
	RUNNING(f, "r", 1000, 1);
	/* Lent down a chain: m (3) after n after o, all of them before
	 * p (2); o also waits for the running r. */
	after(NEW(f, "m", 1000, 3), "n", NULL);
	after(NEW(f, "n", 1000, 0), "o", NULL);
	after(NEW(f, "o", 1000, 0), "r", NULL);
	NEW(f, "p", 1000, 2);
	plan(f);
	expect(f, "y", 1, "h1 has the most free memory (100000 MB)");
	expect(f, "x", 1, "h1 has the most free memory (99000 MB)");
	expect(f, "z", 1, "h1 has the most free memory (98000 MB)");
	expect(f, "o", 1, "h1 has the most free memory (97000 MB)");
	expect(f, "n", 1, "h1 has the most free memory (96000 MB)");
	expect(f, "m", 1, "h1 has the most free memory (95000 MB)");
	expect(f, "p", 1, "h1 has the most free memory (94000 MB)");
	expect(f, "w", 1, "h1 has the most free memory (93000 MB)");
	expect(f, "r", 1, "");
}

static void
test_placement_start_after_cycles(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 100000);
	after(NEW(f, "a", 1000, 0), "b", NULL);
	after(NEW(f, "b", 1000, 0), "a", NULL);
	after(NEW(f, "c", 1000, 0), "a", NULL);     /* waits for a cycle */
	after(NEW(f, "c2", 1000, 0), "c", NULL);
	after(NEW(f, "p", 1000, 0), "q", NULL);
	after(NEW(f, "q", 1000, 0), "r", NULL);
	after(NEW(f, "r", 1000, 0), "p", NULL);
	after(NEW(f, "s", 1000, 0), "s", NULL);
	after(NEW(f, "u", 1000, 0), "v", "w");
	after(NEW(f, "v", 1000, 0), "u", NULL);
	after(NEW(f, "w", 1000, 0), "u", NULL);
	NEW(f, "t", 1000, 9);
	plan(f);
	expect(f, "a", 0, "start order cycle: a -> b -> a");
	expect(f, "b", 0, "start order cycle: b -> a -> b");
	expect(f, "p", 0, "start order cycle: p -> q -> r -> p");
	expect(f, "q", 0, "start order cycle: q -> r -> p -> q");
	expect(f, "r", 0, "start order cycle: r -> p -> q -> r");
	expect(f, "s", 0, "start order cycle: s -> s");
	expect(f, "u", 0, "start order cycle: u -> v -> u");
	expect(f, "v", 0, "start order cycle: v -> u -> v");
	expect(f, "w", 0, "start order cycle: w -> u -> w");
	/* The others are placed, and cycle members took no memory. */
	expect(f, "t", 1, "h1 has the most free memory (100000 MB)");
	expect(f, "c", 1, "h1 has the most free memory (99000 MB)");
	expect(f, "c2", 1, "h1 has the most free memory (98000 MB)");
}

static void
test_placement_preferred(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 512);
	UP(f, 2, "h2", 8192);
	UP(f, 3, "h3", 4096);
	DOWN(f, 4, "h4", 16384, "maintenance");
	group(RUNNING(f, "g1", 512, 1), "g");
	prefer(NEW(f, "p1", 1024, 9), "h3", "h2", NULL);
	prefer(NEW(f, "p2", 1024, 8), "h4", "h1", "h3");
	prefer(NEW(f, "p3", 1024, 7), "h9", "h4", NULL);
	NEW(f, "p4", 1024, 6);
	prefer(NEW(f, "p5", 4096, 5), "h3", NULL, NULL);
	{
		struct vm_ha *ha = NEW(f, "p6", 512, 4);

		prefer(ha, "h1", "h3", NULL);
		group(ha, "g");
	}
	plan(f);
	expect(f, "p1", 3, "preferred host h3");
	expect(f, "p2", 3, "preferred host h3 (h4: maintenance, h1: 512 MB free)");
	expect(f, "p3", 2, "no preferred host fits (h9: unknown host, "
	       "h4: maintenance); h2 has the most free memory (8192 MB)");
	expect(f, "p4", 2, "h2 has the most free memory (7168 MB)");
	expect(f, "p5", 2, "no preferred host fits (h3: 2048 MB free); "
	       "h2 has the most free memory (6144 MB)");
	expect(f, "p6", 3, "preferred host h3 (h1: runs g1)");
}

static void
test_placement_memory_exhaustion(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 1024);
	UP(f, 2, "h2", 2048);
	DOWN(f, 3, "h3", 65536, "maintenance");
	NEW(f, "s2", 1024, 3);
	NEW(f, "s1", 1024, 3);
	NEW(f, "mid", 2048, 5);
	NEW(f, "big", 4096, 10);
	plan(f);
	expect(f, "big", 0, "needs 4096 MB, largest free 2048 MB on h2");
	expect(f, "mid", 2, "h2 has the most free memory (2048 MB)");
	expect(f, "s1", 1, "h1 has the most free memory (1024 MB)");
	/* Both empty now: the tie names the lowest id. */
	expect(f, "s2", 0, "needs 1024 MB, largest free 0 MB on h1");
}

static void
test_placement_high_priority_first(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 8192);
	NEW(f, "lo1", 4096, 1);
	NEW(f, "lo2", 4096, 1);
	NEW(f, "hi", 6144, 9);
	plan(f);
	expect(f, "hi", 1, "h1 has the most free memory (8192 MB)");
	expect(f, "lo1", 0, "needs 4096 MB, largest free 2048 MB on h1");
	expect(f, "lo2", 0, "needs 4096 MB, largest free 2048 MB on h1");
}

static void
test_placement_anti_affinity(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 8192);
	UP(f, 2, "h2", 8192);
	UP(f, 3, "h3", 8192);
	UP(f, 4, "h4", 1024);
	group(RUNNING(f, "db1", 2048, 1), "db");
	group(RUNNING(f, "db2", 2048, 3), "db");
	group(RUNNING(f, "web1", 1024, 2), "web");
	group(NEW(f, "db3", 2048, 5), "db");
	group(NEW(f, "db4", 2048, 4), "db");
	group(NEW(f, "web2", 1024, 3), "web");
	group(NEW(f, "web3", 1024, 2), "web");
	group(NEW(f, "web4", 1024, 1), "web");
	group(NEW(f, "web5", 1024, 0), "web");
	plan(f);
	expect(f, "db3", 2, "h2 has the most free memory (8192 MB)");
	expect(f, "db4", 0, "anti-affinity group db: every fitting host "
	       "already runs one (h1: db1, h2: db3, h3: db2); hosts without "
	       "one: needs 2048 MB, largest free 1024 MB on h4");
	expect(f, "web2", 1, "h1 has the most free memory (8192 MB)");
	expect(f, "web3", 3, "h3 has the most free memory (8192 MB)");
	expect(f, "web4", 4, "h4 has the most free memory (1024 MB)");
	expect(f, "web5", 0, "anti-affinity group web: every fitting host "
	       "already runs one (h1: web2, h2: web1, h3: web3)");
}

static void
test_placement_ineligible(void **state)
{
	struct fx *f = *state;
	char want[256];
	size_t i;

	DOWN(f, 3, "h3", 65536, NULL);
	DOWN(f, 2, "h2", 65536, "unclean");
	DOWN(f, 1, "h1", 65536, "maintenance");
	NEW(f, "a", 512, 0);
	plan(f);
	expect(f, "a", 0, "no eligible host (h1: maintenance, h2: unclean, "
	       "h3: not eligible)");

	/* No hosts at all. */
	assert_int_equal(placement_plan(NULL, 0, f->v, f->nv, f->out), 0);
	expect(f, "a", 0, "no hosts");

	/* A long list is cut with "...", within the buffer. */
	f->nh = 0;
	for (i = 0; i < 40; i++) {
		char name[VM_NAME_MAX];

		(void)snprintf(name, sizeof(name),
			       "host-with-a-rather-long-name-%02zu", i + 1);
		DOWN(f, (uint32_t)(i + 1), name, 0, "standby");
	}
	plan(f);
	assert_int_equal(f->out[0].host, 0);
	assert_int_equal(strlen(f->out[0].reason), PLACEMENT_REASON_MAX - 1);
	(void)snprintf(want, sizeof(want), "no eligible host "
		       "(host-with-a-rather-long-name-01: standby, "
		       "host-with-a-rather-long-name-02: standby, "
		       "host-with-a-rather-long-name-03: standby, "
		       "host-with-a-rather-long-name-04: standby, "
		       "host-with-a-rather-long-name-05: standby");
	assert_memory_equal(f->out[0].reason, want, PLACEMENT_REASON_MAX - 4);
	assert_string_equal(f->out[0].reason + PLACEMENT_REASON_MAX - 4, "...");
}

static void
test_placement_input_order(void **state)
{
	struct fx *f = *state;
	struct placement_choice first[8];
	struct placement_vm tmp;
	size_t i;

	UP(f, 1, "h1", 3000);
	UP(f, 2, "h2", 3000);
	group(NEW(f, "a", 1000, 1), "g");
	group(NEW(f, "b", 1000, 1), "g");
	group(NEW(f, "c", 1000, 1), "g");
	after(NEW(f, "d", 1000, 0), "e", NULL);
	NEW(f, "e", 1000, 0);
	plan(f);
	memcpy(first, f->out, f->nv * sizeof(first[0]));
	/* Reversed VMs and hosts: the same choice for each VM. */
	for (i = 0; i < f->nv / 2; i++) {
		tmp = f->v[i];
		f->v[i] = f->v[f->nv - 1 - i];
		f->v[f->nv - 1 - i] = tmp;
	}
	{
		struct placement_host th = f->h[0];

		f->h[0] = f->h[1];
		f->h[1] = th;
	}
	plan(f);
	for (i = 0; i < f->nv; i++) {
		assert_int_equal(f->out[f->nv - 1 - i].host, first[i].host);
		assert_string_equal(f->out[f->nv - 1 - i].reason,
				    first[i].reason);
	}
	expect(f, "a", 1, "h1 has the most free memory (3000 MB)");
	expect(f, "b", 2, "h2 has the most free memory (3000 MB)");
	expect(f, "c", 0, "anti-affinity group g: every fitting host already "
	       "runs one (h1: a, h2: b)");
	expect(f, "e", 1, "h1 has the most free memory (2000 MB)");
	expect(f, "d", 2, "h2 has the most free memory (2000 MB)");
}

static void
test_placement_own_old_host(void **state)
{
	struct fx *f = *state;

	/* A VM being placed again (restart in place) does not block its own
	 * old host through its group; the group still holds for others. */
	UP(f, 1, "h1", 4096);
	DOWN(f, 2, "h2", 0, "unclean");
	group(vm(f, "x", 1024, 0, 1, true), "g");
	group(vm(f, "y", 1024, 0, 2, true), "g");
	plan(f);
	expect(f, "x", 1, "h1 has the most free memory (4096 MB)");
	expect(f, "y", 0, "anti-affinity group g: every fitting host already "
	       "runs one (h1: x)");
}

static void
fx_reset(struct fx *f)
{
	f->nh = 0;
	f->nv = 0;
}

static void
admit(struct fx *f, bool ok, uint32_t n_failing)
{
	memset(&f->rep, 0x5a, sizeof(f->rep));
	assert_int_equal(placement_admission(f->h, f->nh, f->v, f->nv, &f->rep),
			 0);
	assert_int_equal(f->rep.ok, ok);
	assert_int_equal(f->rep.n_failing, n_failing);
}

static void
test_admission_ok(void **state)
{
	struct fx *f = *state;

	UP(f, 1, "h1", 8192);
	UP(f, 2, "h2", 8192);
	UP(f, 3, "h3", 8192);
	DOWN(f, 4, "h4", 0, "maintenance");
	RUNNING(f, "a", 2048, 1);
	vm(f, "b", 2048, 0, 2, true);   /* needs_place is ignored here */
	RUNNING(f, "c", 2048, 3);
	RUNNING(f, "d", 2048, 0);       /* stopped: counts nowhere */
	RUNNING(f, "m", 16384, 4);      /* on an ineligible host: not tried */
	admit(f, true, 0);

	/* Nothing at all is fine too. */
	fx_reset(f);
	admit(f, true, 0);
}

static void
test_admission_not_ok(void **state)
{
	struct fx *f = *state;
	const struct admission_host *a = &f->rep.failing[0];

	UP(f, 1, "h1", 1024);
	UP(f, 2, "h2", 8192);
	UP(f, 3, "h3", 2048);
	vm(f, "db1", 4096, 1, 2, false);
	vm(f, "web3", 4096, 5, 2, false);
	RUNNING(f, "x", 512, 3);
	admit(f, false, 1);
	assert_int_equal(a->host, 2);
	assert_string_equal(a->name, "h2");
	assert_int_equal(a->n_vms, 2);
	assert_int_equal(a->n_names, 2);
	assert_string_equal(a->names[0], "web3");
	assert_string_equal(a->names[1], "db1");
	assert_string_equal(a->summary, "if h2 fails: web3, db1 cannot be "
			    "restarted (needs 4096 MB, largest free 2048 MB "
			    "on h3)");

	/* One host: nowhere to go, and the failed host says so. */
	fx_reset(f);
	UP(f, 1, "h1", 4096);
	RUNNING(f, "a", 512, 1);
	admit(f, false, 1);
	assert_string_equal(a->summary, "if h1 fails: a cannot be restarted "
			    "(no eligible host (h1: failed))");

	/* Anti-affinity: each host's db has nowhere to go. */
	fx_reset(f);
	UP(f, 1, "h1", 8192);
	UP(f, 2, "h2", 8192);
	group(RUNNING(f, "db1", 1024, 1), "db");
	group(RUNNING(f, "db2", 1024, 2), "db");
	admit(f, false, 2);
	assert_string_equal(f->rep.failing[0].summary, "if h1 fails: db1 "
			    "cannot be restarted (anti-affinity group db: "
			    "every fitting host already runs one (h2: db2))");
	assert_string_equal(f->rep.failing[1].summary, "if h2 fails: db2 "
			    "cannot be restarted (anti-affinity group db: "
			    "every fitting host already runs one (h1: db1))");
	assert_int_equal(f->rep.failing[1].host, 2);

	/* A start order cycle can never be restarted. */
	fx_reset(f);
	UP(f, 1, "h1", 8192);
	UP(f, 2, "h2", 8192);
	after(RUNNING(f, "q", 1024, 1), "p", NULL);
	after(RUNNING(f, "p", 1024, 1), "q", NULL);
	RUNNING(f, "z", 1024, 1);
	admit(f, false, 1);
	assert_int_equal(f->rep.failing[0].n_vms, 2);
	assert_string_equal(f->rep.failing[0].summary, "if h1 fails: p, q "
			    "cannot be restarted (start order cycle: "
			    "p -> q -> p)");
}

static void
test_admission_many(void **state)
{
	struct fx *f = *state;
	const struct admission_host *a = &f->rep.failing[0];
	char name[16];
	int i;

	UP(f, 1, "h1", 8192);
	UP(f, 2, "h2", 0);
	for (i = 1; i <= 6; i++) {
		(void)snprintf(name, sizeof(name), "a%d", i);
		RUNNING(f, name, 1024, 1);
	}
	admit(f, false, 1);
	assert_int_equal(a->n_vms, 6);
	assert_string_equal(a->summary, "if h1 fails: a1, a2, a3, a4 and 2 "
			    "more cannot be restarted (needs 1024 MB, largest "
			    "free 0 MB on h2)");

	/* More than the names array holds: counted, first ones listed. */
	fx_reset(f);
	UP(f, 1, "h1", 8192);
	UP(f, 2, "h2", 0);
	for (i = 20; i >= 1; i--) {
		(void)snprintf(name, sizeof(name), "v%02d", i);
		RUNNING(f, name, 1024, 1);
	}
	admit(f, false, 1);
	assert_int_equal(a->n_vms, 20);
	assert_int_equal(a->n_names, ADMISSION_MAX_NAMES);
	assert_string_equal(a->names[0], "v01");
	assert_string_equal(a->names[15], "v16");
	assert_string_equal(a->summary, "if h1 fails: v01, v02, v03, v04 and "
			    "16 more cannot be restarted (needs 1024 MB, "
			    "largest free 0 MB on h2)");
}

/*
 * Restart storm: h5 is lost with 200 VMs on it; h1..h4 have room for 128
 * of 512 MB (32 each); h6 is in maintenance with plenty of room.
 *   dc1..dc5     priority 9, anti-affinity dc: dc5 finds no host.
 *   vm000..vm194 priority i % 5; vm004 (4) waits for vm000 (0), which so
 *                goes first at 4; the priority-1 VMs form a chain, each
 *                waiting for the next (vm001 after vm006 ... after vm191).
 * Places 4 dc + 40 at 4 + 39 at 3 + 39 at 2 = 122, then 6 of the chain
 * from its end (vm191 ... vm166); all equal sizes, so the k-th placed VM
 * goes to h(k % 4 + 1).
 */
static void
storm_build(struct fx *f, bool reversed)
{
	char name[16];
	int i, j;

	UP(f, 1, "h1", 16384);
	UP(f, 2, "h2", 16384);
	UP(f, 3, "h3", 16384);
	UP(f, 4, "h4", 16384);
	DOWN(f, 5, "h5", 0, "unclean");
	DOWN(f, 6, "h6", 65536, "maintenance");
	for (j = 0; j < 200; j++) {
		i = reversed ? 199 - j : j;
		if (i < 5) {
			(void)snprintf(name, sizeof(name), "dc%d", i + 1);
			group(vm(f, name, 512, 9, 5, true), "dc");
			continue;
		}
		i -= 5;
		(void)snprintf(name, sizeof(name), "vm%03d", i);
		{
			struct vm_ha *ha = vm(f, name, 512, (uint32_t)(i % 5),
					      5, true);

			if (i == 4)
				after(ha, "vm000", NULL);
			if (i % 5 == 1 && i + 5 <= 194) {
				(void)snprintf(name, sizeof(name), "vm%03d",
					       i + 5);
				after(ha, name, NULL);
			}
		}
	}
}

static void
test_placement_storm(void **state)
{
	struct fx *f = *state;
	struct placement_choice first[200];
	char names[200][VM_NAME_MAX];
	size_t i, j, placed = 0, per_host[7] = { 0 };

	storm_build(f, false);
	plan(f);
	for (i = 0; i < f->nv; i++) {
		assert_true(f->out[i].host <= 4);
		per_host[f->out[i].host]++;
		placed += f->out[i].host != 0;
	}
	assert_int_equal(placed, 128);
	assert_int_equal(per_host[0], 72);
	for (i = 1; i <= 4; i++)
		assert_int_equal(per_host[i], 32);

	expect(f, "dc1", 1, "h1 has the most free memory (16384 MB)");
	expect(f, "dc4", 4, "h4 has the most free memory (16384 MB)");
	expect(f, "dc5", 0, "anti-affinity group dc: every fitting host "
	       "already runs one (h1: dc1, h2: dc2, h3: dc3, h4: dc4)");
	expect(f, "vm000", 1, "h1 has the most free memory (15872 MB)");
	expect(f, "vm004", 2, "h2 has the most free memory (15872 MB)");
	expect(f, "vm003", 1, "h1 has the most free memory (10752 MB)");
	expect(f, "vm194", 4, "h4 has the most free memory (11264 MB)");
	expect(f, "vm191", 3, "h3 has the most free memory (1024 MB)");
	expect(f, "vm166", 4, "h4 has the most free memory (512 MB)");
	expect(f, "vm161", 0, "needs 512 MB, largest free 0 MB on h1");
	expect(f, "vm001", 0, "needs 512 MB, largest free 0 MB on h1");
	expect(f, "vm005", 0, "needs 512 MB, largest free 0 MB on h1");
	expect(f, "vm192", 2, "h2 has the most free memory (1024 MB)");

	/* The same answer from the reversed input. */
	memcpy(first, f->out, sizeof(first));
	for (i = 0; i < 200; i++)
		memcpy(names[i], f->v[i].name, VM_NAME_MAX);
	fx_reset(f);
	storm_build(f, true);
	plan(f);
	for (i = 0; i < 200; i++) {
		for (j = 0; j < 200; j++)
			if (strcmp(names[i], f->v[j].name) == 0)
				break;
		assert_true(j < 200);
		assert_int_equal(f->out[j].host, first[i].host);
		assert_string_equal(f->out[j].reason, first[i].reason);
	}
}

/* Near the size limits: an 8192-long chain and cycle (no recursion, bounded
 * reasons), and admission over 64 hosts. */
static void
test_placement_limits(void **unused)
{
	/* (a chain of all PLACEMENT_MAX_VMS costs a minute: start-after
	 * chains are resolved pass by pass) */
	size_t n = 8192, i;
	struct placement_host *h = calloc(PLACEMENT_MAX_HOSTS, sizeof(*h));
	struct placement_vm *v = calloc(n, sizeof(*v));
	struct vm_ha *ha = calloc(n, sizeof(*ha));
	struct placement_choice *out = calloc(n, sizeof(*out));
	struct admission_report *rep = calloc(1, sizeof(*rep));
	char full[512];
	size_t len;

	assert_non_null(h);
	assert_non_null(v);
	assert_non_null(ha);
	assert_non_null(out);
	assert_non_null(rep);
	for (i = 0; i < PLACEMENT_MAX_HOSTS; i++) {
		h[i].id = (uint32_t)(i + 1);
		(void)snprintf(h[i].name, sizeof(h[i].name), "h%zu", i + 1);
		h[i].eligible = true;
		h[i].mem_free_mb = i == 0 ? 100000 : 0;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(v[i].name, sizeof(v[i].name), "vm%04zu", i);
		v[i].memory_mb = 1;
		v[i].ha = &ha[i];
		v[i].needs_place = true;
		if (i + 1 < n) {
			ha[i].n_after = 1;
			(void)snprintf(ha[i].after[0], VM_NAME_MAX, "vm%04zu",
				       i + 1);
		}
	}
	assert_int_equal(placement_plan(h, PLACEMENT_MAX_HOSTS, v, n, out), 0);
	assert_int_equal(out[n - 1].host, 1);
	assert_string_equal(out[n - 1].reason,
			    "h1 has the most free memory (100000 MB)");
	(void)snprintf(full, sizeof(full), "h1 has the most free memory (%zu MB)",
		       100000 - (n - 1));
	assert_string_equal(out[0].reason, full);

	/* Close the chain into one cycle of them all. */
	ha[n - 1].n_after = 1;
	(void)snprintf(ha[n - 1].after[0], VM_NAME_MAX, "vm0000");
	assert_int_equal(placement_plan(h, PLACEMENT_MAX_HOSTS, v, n, out), 0);
	len = (size_t)snprintf(full, sizeof(full), "start order cycle: vm0000");
	for (i = 1; i < 30; i++)
		len += (size_t)snprintf(full + len, sizeof(full) - len,
					" -> vm%04zu", i);
	for (i = 0; i < n; i += 1365) {
		assert_int_equal(out[i].host, 0);
		assert_int_equal(strlen(out[i].reason),
				 PLACEMENT_REASON_MAX - 1);
	}
	assert_memory_equal(out[0].reason, full, PLACEMENT_REASON_MAX - 4);
	assert_string_equal(out[0].reason + PLACEMENT_REASON_MAX - 4, "...");

	/* Admission: 64 VMs on each of 64 hosts, room for a failed host's
	 * VMs on the others. */
	n = 64 * PLACEMENT_MAX_HOSTS;
	for (i = 0; i < n; i++) {
		ha[i].n_after = 0;
		v[i].current_host = (uint32_t)(i % PLACEMENT_MAX_HOSTS + 1);
		v[i].needs_place = false;
	}
	for (i = 0; i < PLACEMENT_MAX_HOSTS; i++)
		h[i].mem_free_mb = 2;
	assert_int_equal(placement_admission(h, PLACEMENT_MAX_HOSTS, v, n, rep),
			 0);
	assert_true(rep->ok);
	/* One MB less on each: 63 fit, so one of each host's VMs does not. */
	for (i = 0; i < PLACEMENT_MAX_HOSTS; i++)
		h[i].mem_free_mb = 1;
	assert_int_equal(placement_admission(h, PLACEMENT_MAX_HOSTS, v, n, rep),
			 0);
	assert_false(rep->ok);
	assert_int_equal(rep->n_failing, PLACEMENT_MAX_HOSTS);
	assert_int_equal(rep->failing[0].n_vms, 1);
	assert_string_equal(rep->failing[0].summary, "if h1 fails: vm4032 "
			    "cannot be restarted (needs 1 MB, largest free "
			    "0 MB on h2)");
	assert_int_equal(rep->failing[63].host, 64);

	free(rep);
	free(out);
	free(ha);
	free(v);
	free(h);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_placement_invalid),
		T(test_placement_basic_and_ties),
		T(test_placement_priority),
		T(test_placement_start_after),
		T(test_placement_start_after_lends_priority),
		T(test_placement_start_after_cycles),
		T(test_placement_preferred),
		T(test_placement_memory_exhaustion),
		T(test_placement_high_priority_first),
		T(test_placement_anti_affinity),
		T(test_placement_own_old_host),
		T(test_placement_ineligible),
		T(test_placement_input_order),
		T(test_admission_ok),
		T(test_admission_not_ok),
		T(test_admission_many),
		T(test_placement_storm),
		cmocka_unit_test(test_placement_limits),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
