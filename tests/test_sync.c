/* Unit tests of ha/sync.c: view hash, sync decision, chunk reassembly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state.h"
#include "sync.h"
#include "xm_error.h"

#define VIEW 0x1234abcdull
#define MAX_CHUNKS 65536u
#define MAX_BYTES ((size_t)64 << 20)

/* ---- view hash ---------------------------------------------------------- */

static void
test_view_hash(void **unused)
{
	const struct sync_member a[] = { { 1, 100 }, { 2, 200 }, { 3, 300 } };
	const struct sync_member b[] = { { 3, 300 }, { 1, 100 }, { 2, 200 } };
	const struct sync_member c[] = { { 2, 200 }, { 3, 300 }, { 1, 100 } };
	const struct sync_member other_pid[] = { { 1, 100 }, { 2, 201 },
						 { 3, 300 } };
	const struct sync_member fewer[] = { { 1, 100 }, { 2, 200 } };
	const struct sync_member swapped[] = { { 1, 200 }, { 2, 100 },
					       { 3, 300 } };
	const struct sync_member dup[] = { { 1, 100 }, { 1, 100 }, { 2, 200 },
					   { 3, 300 } };
	const struct sync_member dup2[] = { { 1, 100 }, { 2, 200 },
					    { 1, 100 }, { 3, 300 } };
	uint64_t h = sync_view_hash(a, 3);

	/* Empty list: a constant, NULL allowed. */
	assert_int_equal(sync_view_hash(NULL, 0), sync_view_hash(a, 0));
	assert_int_not_equal(sync_view_hash(NULL, 0), h);

	assert_int_equal(sync_view_hash(b, 3), h);
	assert_int_equal(sync_view_hash(c, 3), h);
	assert_int_not_equal(sync_view_hash(other_pid, 3), h);
	assert_int_not_equal(sync_view_hash(fewer, 2), h);
	assert_int_not_equal(sync_view_hash(swapped, 3), h);
	assert_int_not_equal(sync_view_hash(dup, 4), h);
	assert_int_equal(sync_view_hash(dup2, 4), sync_view_hash(dup, 4));
	assert_int_not_equal(h, 0);
}

static void
test_view_hash_many(void **unused)
{
	struct sync_member m[SYNC_MAX_MEMBERS], r[SYNC_MAX_MEMBERS];
	size_t i;

	for (i = 0; i < SYNC_MAX_MEMBERS; i++) {
		m[i].nodeid = (uint32_t)i + 1;
		m[i].pid = 1000 + (uint32_t)i;
		r[SYNC_MAX_MEMBERS - 1 - i] = m[i];
	}
	assert_int_equal(sync_view_hash(m, SYNC_MAX_MEMBERS),
			 sync_view_hash(r, SYNC_MAX_MEMBERS));
}

/* ---- round -------------------------------------------------------------- */

static void
offer_make(struct sync_offer *o, uint32_t id, uint64_t epoch, uint64_t seq,
	   uint8_t digest_byte)
{
	memset(o, 0, sizeof(*o));
	o->nodeid = id;
	o->epoch = epoch;
	o->seq = seq;
	memset(o->digest, digest_byte, sizeof(o->digest));
}

static void
round_of(struct sync_round *r, const uint32_t *ids, size_t n)
{
	struct sync_member m[SYNC_MAX_MEMBERS];
	size_t i;

	for (i = 0; i < n; i++) {
		m[i].nodeid = ids[i];
		m[i].pid = 1;
	}
	assert_int_equal(sync_round_start(r, VIEW, m, n), 0);
}

static void
test_round_start_invalid(void **unused)
{
	struct sync_member m[SYNC_MAX_MEMBERS + 1];
	struct sync_round r;
	size_t i;

	for (i = 0; i <= SYNC_MAX_MEMBERS; i++) {
		m[i].nodeid = (uint32_t)i + 1;
		m[i].pid = 1;
	}
	assert_int_equal(sync_round_start(NULL, VIEW, m, 1), -EINVAL);
	assert_int_equal(sync_round_start(&r, VIEW, NULL, 1), -EINVAL);
	assert_int_equal(sync_round_start(&r, VIEW, m, 0), -EINVAL);
	assert_int_equal(sync_round_start(&r, VIEW, m, SYNC_MAX_MEMBERS + 1),
			 -EINVAL);
	m[1].nodeid = 0;
	assert_int_equal(sync_round_start(&r, VIEW, m, 3), -EINVAL);
	m[1].nodeid = 2;
	assert_int_equal(sync_round_start(&r, VIEW, m, SYNC_MAX_MEMBERS), 0);
	assert_int_equal(r.n_members, SYNC_MAX_MEMBERS);
}

static void
test_round_start(void **unused)
{
	const struct sync_member m[] = { { 5, 1 }, { 2, 1 }, { 9, 1 },
					 { 2, 7 } };
	struct sync_round r;

	memset(&r, 0xff, sizeof(r));
	assert_int_equal(sync_round_start(&r, VIEW, m, 4), 0);
	assert_int_equal(r.view, VIEW);
	/* Sorted, one entry per node (two processes on node 2). */
	assert_int_equal(r.n_members, 3);
	assert_int_equal(r.members[0], 2);
	assert_int_equal(r.members[1], 5);
	assert_int_equal(r.members[2], 9);
	assert_false(r.have[0] || r.have[1] || r.have[2]);
	assert_false(sync_round_complete(&r));
}

static void
test_round_offer_invalid(void **unused)
{
	const uint32_t ids[] = { 1, 2, 3 };
	struct sync_round r;
	struct sync_offer o;

	round_of(&r, ids, 3);
	offer_make(&o, 2, 1, 1, 0xaa);
	assert_int_equal(sync_round_offer(NULL, VIEW, &o), -EINVAL);
	assert_int_equal(sync_round_offer(&r, VIEW, NULL), -EINVAL);
	assert_int_equal(sync_round_offer(&r, VIEW + 1, &o), XM_ESTALE);
	offer_make(&o, 4, 1, 1, 0xaa);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), -ESRCH);
	offer_make(&o, 0, 1, 1, 0xaa);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), -ESRCH);
	offer_make(&o, 2, 1, 1, 0xaa);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), 0);
	offer_make(&o, 2, 9, 9, 0xbb);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), -EALREADY);
	/* The first offer stays. */
	assert_int_equal(r.offers[1].epoch, 1);
	assert_true(r.have[1]);
	assert_false(r.have[0]);
}

static void
test_round_decide_incomplete(void **unused)
{
	const uint32_t ids[] = { 1, 2, 3 };
	struct sync_round r;
	struct sync_decision d;
	struct sync_offer o;

	memset(&r, 0, sizeof(r));
	assert_false(sync_round_complete(NULL));
	assert_false(sync_round_complete(&r));
	assert_int_equal(sync_round_decide(&r, &d), -EINVAL);   /* not started */
	round_of(&r, ids, 3);
	assert_int_equal(sync_round_decide(NULL, &d), -EINVAL);
	assert_int_equal(sync_round_decide(&r, NULL), -EINVAL);
	assert_int_equal(sync_round_decide(&r, &d), -EAGAIN);
	offer_make(&o, 3, 1, 1, 1);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), 0);
	offer_make(&o, 1, 1, 1, 1);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), 0);
	assert_false(sync_round_complete(&r));
	assert_int_equal(sync_round_decide(&r, &d), -EAGAIN);
	offer_make(&o, 2, 1, 1, 1);
	assert_int_equal(sync_round_offer(&r, VIEW, &o), 0);
	assert_true(sync_round_complete(&r));
	assert_int_equal(sync_round_decide(&r, &d), 0);
}

/* Run a round of the given offers, fed in the given order. */
static void
decide(const struct sync_offer *offers, size_t n, const size_t *order,
       struct sync_decision *d)
{
	uint32_t ids[SYNC_MAX_MEMBERS] = { 0 };
	struct sync_round r;
	size_t i;

	for (i = 0; i < n; i++)
		ids[i] = offers[i].nodeid;
	round_of(&r, ids, n);
	for (i = 0; i < n; i++)
		assert_int_equal(sync_round_offer(&r, VIEW,
						  &offers[order ? order[i] : i]),
				 0);
	memset(d, 0x77, sizeof(*d));
	assert_int_equal(sync_round_decide(&r, d), 0);
}

static void
test_decide_highest_wins(void **unused)
{
	struct sync_offer o[4];
	struct sync_decision d;
	const size_t rev[] = { 3, 2, 1, 0 };
	uint8_t want[STATE_DIGEST_LEN];

	/* The higher epoch beats a longer history of an older epoch. */
	offer_make(&o[0], 1, 2, 100, 0x11);
	offer_make(&o[1], 4, 3, 1, 0x44);
	offer_make(&o[2], 7, 3, 0, 0x77);
	offer_make(&o[3], 9, 1, 500, 0x99);
	decide(o, 4, NULL, &d);
	assert_int_equal(d.sender, 4);
	assert_int_equal(d.epoch, 3);
	assert_int_equal(d.seq, 1);
	memset(want, 0x44, sizeof(want));
	assert_memory_equal(d.digest, want, sizeof(want));
	assert_true(d.transfer);
	assert_false(d.conflict);
	assert_int_equal(d.conflict_node, 0);

	/* Arrival order does not matter. */
	decide(o, 4, rev, &d);
	assert_int_equal(d.sender, 4);
	assert_true(d.transfer);
	assert_false(d.conflict);

	/* Within an epoch the higher seq wins. */
	offer_make(&o[2], 7, 3, 2, 0x77);
	decide(o, 4, rev, &d);
	assert_int_equal(d.sender, 7);
	assert_int_equal(d.seq, 2);
}

static void
test_decide_ties_and_no_transfer(void **unused)
{
	struct sync_offer o[3];
	struct sync_decision d;
	const size_t rev[] = { 2, 1, 0 };

	/* All equal: the lowest id "sends", but nobody needs anything. */
	offer_make(&o[0], 8, 5, 5, 0xab);
	offer_make(&o[1], 3, 5, 5, 0xab);
	offer_make(&o[2], 6, 5, 5, 0xab);
	decide(o, 3, rev, &d);
	assert_int_equal(d.sender, 3);
	assert_false(d.transfer);
	assert_false(d.conflict);

	/* One member alone. */
	decide(o, 1, NULL, &d);
	assert_int_equal(d.sender, 8);
	assert_false(d.transfer);
	assert_false(d.conflict);

	/* Tie between the two newest, lowest of them wins; the old one
	 * gets the state. */
	offer_make(&o[0], 8, 5, 6, 0xab);
	offer_make(&o[1], 3, 5, 5, 0x01);
	offer_make(&o[2], 6, 5, 6, 0xab);
	decide(o, 3, NULL, &d);
	assert_int_equal(d.sender, 6);
	assert_int_equal(d.seq, 6);
	assert_true(d.transfer);
	assert_false(d.conflict);

	/* A fresh node (0, 0, digest of the empty state) joins. */
	offer_make(&o[0], 1, 0, 0, 0x00);
	offer_make(&o[1], 2, 4, 9, 0x42);
	decide(o, 2, NULL, &d);
	assert_int_equal(d.sender, 2);
	assert_true(d.transfer);
	assert_false(d.conflict);
}

static void
test_decide_conflict(void **unused)
{
	struct sync_offer o[4];
	struct sync_decision d;
	const size_t order[] = { 2, 0, 3, 1 };

	offer_make(&o[0], 1, 7, 3, 0x01);     /* older: not a conflict */
	offer_make(&o[1], 2, 7, 4, 0x02);
	offer_make(&o[2], 5, 7, 4, 0x05);     /* diverged history */
	offer_make(&o[3], 6, 7, 4, 0x02);
	decide(o, 4, order, &d);
	assert_int_equal(d.sender, 2);
	assert_true(d.transfer);
	assert_true(d.conflict);
	assert_int_equal(d.conflict_node, 5);

	/* Equal digests in an older position are not a conflict. */
	offer_make(&o[2], 5, 7, 4, 0x02);
	decide(o, 4, order, &d);
	assert_int_equal(d.sender, 2);
	assert_true(d.transfer);                /* node 1 is behind */
	assert_false(d.conflict);
	assert_int_equal(d.conflict_node, 0);
}

/* ---- chunks ------------------------------------------------------------- */

static void
test_chunk_count(void **unused)
{
	assert_int_equal(sync_chunk_count(10, 0), 0);
	assert_int_equal(sync_chunk_count(0, 100), 1);
	assert_int_equal(sync_chunk_count(1, 100), 1);
	assert_int_equal(sync_chunk_count(100, 100), 1);
	assert_int_equal(sync_chunk_count(101, 100), 2);
	assert_int_equal(sync_chunk_count(1000, 100), 10);
	assert_int_equal(sync_chunk_count(1001, 100), 11);
	assert_int_equal(sync_chunk_count(SIZE_MAX, 1), 0);
	assert_int_equal(sync_chunk_count((size_t)UINT32_MAX, 1), UINT32_MAX);
}

static void
test_assembly_invalid(void **unused)
{
	static const uint8_t data[8] = "abcdefg";
	struct sync_assembly a;

	memset(&a, 0, sizeof(a));
	sync_assembly_reset(NULL);
	assert_int_equal(sync_assembly_add(NULL, VIEW, 0, 1, data, 1), -EINVAL);
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 1, NULL, 1), -EINVAL);
	/* The first chunk must be index 0 of a sane total. */
	assert_int_equal(sync_assembly_add(&a, VIEW, 1, 3, data, 2), -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 0, data, 2), -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, MAX_CHUNKS + 1, data,
					   2), -EPROTO);
	assert_int_equal(a.next, 0);
	assert_null(a.buf);

	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 3, data, 2), 0);
	/* Out of order, repeated, changed total, other view: refused and
	 * the assembly is unchanged. */
	assert_int_equal(sync_assembly_add(&a, VIEW, 2, 3, data + 2, 2),
			 -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 3, data, 2), -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW, 1, 4, data + 2, 2),
			 -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW + 1, 1, 3, data + 2, 2),
			 XM_ESTALE);
	assert_int_equal(a.next, 1);
	assert_int_equal(a.len, 2);
	assert_int_equal(sync_assembly_add(&a, VIEW, 1, 3, data + 2, 2), 0);
	assert_int_equal(sync_assembly_add(&a, VIEW, 2, 3, data + 4, 3), 1);
	assert_int_equal(a.len, 7);
	assert_memory_equal(a.buf, "abcdefg", 7);
	/* Complete: nothing more is accepted. */
	assert_int_equal(sync_assembly_add(&a, VIEW, 3, 3, data, 1), -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW, 3, 4, data, 1), -EPROTO);
	sync_assembly_reset(&a);
	assert_null(a.buf);
	assert_int_equal(a.len, 0);
	assert_int_equal(a.next, 0);
	assert_int_equal(a.view, 0);

	/* A view fixed by the caller before the first chunk. */
	a.view = VIEW;
	assert_int_equal(sync_assembly_add(&a, VIEW - 1, 0, 1, data, 1),
			 XM_ESTALE);
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 1, data, 1), 1);
	sync_assembly_reset(&a);
}

static void
test_assembly_too_large(void **unused)
{
	struct sync_assembly a;
	uint8_t *big = calloc(1, MAX_BYTES + 1);

	assert_non_null(big);
	memset(&a, 0, sizeof(a));
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 1, big, MAX_BYTES + 1),
			 -EPROTO);
	assert_null(a.buf);
	/* Exactly the limit fits; one more byte does not. */
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, 2, big, MAX_BYTES), 0);
	assert_int_equal(sync_assembly_add(&a, VIEW, 1, 2, big, 1), -EPROTO);
	assert_int_equal(sync_assembly_add(&a, VIEW, 1, 2, big, 0), 1);
	assert_int_equal(a.len, MAX_BYTES);
	sync_assembly_reset(&a);
	free(big);
}

static void
big_state(struct state *s)
{
	size_t i;

	state_init(s);
	s->epoch = 4;
	s->seq = 321;
	for (i = 0; i < 12; i++) {
		struct node_rec *n = &s->nodes[i];

		n->id = (uint32_t)i * 3 + 1;
		snprintf(n->name, sizeof(n->name), "xen-host-%02zu", i);
		n->role = i < 10 ? NODE_ROLE_DOM0 : NODE_ROLE_SAN;
		n->state = i == 4 ? NODE_STATE_FENCED : NODE_STATE_ONLINE;
		n->flags = i == 2 ? NODE_FLAG_MAINTENANCE : 0;
		n->mem_total_mb = 65536;
		n->mem_free_mb = 1000 * i;
	}
	s->n_nodes = 12;
	s->vms = calloc(40, sizeof(*s->vms));
	assert_non_null(s->vms);
	s->vms_cap = 40;
	for (i = 0; i < 40; i++) {
		snprintf(s->vms[i].name, sizeof(s->vms[i].name), "vm-%03zu", i);
		s->vms[i].state = i % 5 ? VM_STATE_RUNNING : VM_STATE_STOPPED;
		s->vms[i].host = i % 5 ? (uint32_t)(i % 10) * 3 + 1 : 0;
	}
	s->n_vms = 40;
}

static void
test_chunk_round_trip(void **unused)
{
	const size_t chunk_max = 100;
	struct state s, out;
	struct sync_assembly a;
	uint8_t d1[STATE_DIGEST_LEN], d2[STATE_DIGEST_LEN];
	uint8_t *buf, *buf2;
	size_t len, len2, off;
	uint32_t total, i;
	char why[256] = "";

	big_state(&s);
	assert_int_equal(state_pack(&s, &buf, &len), 0);
	total = sync_chunk_count(len, chunk_max);
	assert_true(total > 10);
	assert_int_equal(total, (len + chunk_max - 1) / chunk_max);

	memset(&a, 0, sizeof(a));
	for (i = 0, off = 0; i < total; i++) {
		size_t n = len - off < chunk_max ? len - off : chunk_max;

		assert_int_equal(sync_assembly_add(&a, VIEW, i, total,
						   buf + off, n),
				 i + 1 == total ? 1 : 0);
		off += n;
	}
	assert_int_equal(off, len);
	assert_int_equal(a.len, len);
	assert_int_equal(state_unpack(a.buf, a.len, &out, why, sizeof(why)), 0);
	assert_string_equal(why, "");

	assert_int_equal(state_pack(&out, &buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	assert_int_equal(state_digest(&s, d1), 0);
	assert_int_equal(state_digest(&out, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	assert_int_equal(out.n_vms, 40);
	assert_int_equal(out.vms[39].host, 28);

	sync_assembly_reset(&a);
	free(buf2);
	state_free(&out);

	/* The same snapshot with one chunk skipped is refused. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(sync_assembly_add(&a, VIEW, 0, total, buf, chunk_max),
			 0);
	assert_int_equal(sync_assembly_add(&a, VIEW, 2, total,
					   buf + 2 * chunk_max, chunk_max),
			 -EPROTO);
	sync_assembly_reset(&a);
	free(buf);
	state_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_start_invalid),
		cmocka_unit_test(test_round_offer_invalid),
		cmocka_unit_test(test_round_decide_incomplete),
		cmocka_unit_test(test_assembly_invalid),
		cmocka_unit_test(test_assembly_too_large),
		cmocka_unit_test(test_view_hash),
		cmocka_unit_test(test_view_hash_many),
		cmocka_unit_test(test_round_start),
		cmocka_unit_test(test_decide_highest_wins),
		cmocka_unit_test(test_decide_ties_and_no_transfer),
		cmocka_unit_test(test_decide_conflict),
		cmocka_unit_test(test_chunk_count),
		cmocka_unit_test(test_chunk_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
