/* Unit tests of ha/state.c: op rules, ordering, encoding, digest. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "state.h"
#include "xm_error.h"

/* An op and the bodies it may point to, on the caller's stack. */
struct op_buf {
	Xenmesh__Op op;
	Xenmesh__OpNodeInfo info;
	Xenmesh__OpNodeState nstate;
	Xenmesh__OpNodeFlags flags;
	char name[128];
};

static Xenmesh__Op *
op_info(struct op_buf *b, uint32_t id, const char *name, int role,
	uint64_t total, uint64_t free_mb)
{
	xenmesh__op__init(&b->op);
	xenmesh__op_node_info__init(&b->info);
	b->info.id = id;
	if (name != NULL) {
		strcpy(b->name, name);
		b->info.name = b->name;
	}
	b->info.role = (Xenmesh__NodeRole)role;
	b->info.mem_total_mb = total;
	b->info.mem_free_mb = free_mb;
	b->op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	b->op.node_info = &b->info;
	return &b->op;
}

static Xenmesh__Op *
op_state(struct op_buf *b, uint32_t id, int st)
{
	xenmesh__op__init(&b->op);
	xenmesh__op_node_state__init(&b->nstate);
	b->nstate.id = id;
	b->nstate.state = (Xenmesh__NodeState)st;
	b->op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	b->op.node_state = &b->nstate;
	return &b->op;
}

static Xenmesh__Op *
op_agent_down(struct op_buf *b, uint32_t id, int st)
{
	op_state(b, id, st);
	b->nstate.has_agent_down = true;
	b->nstate.agent_down = true;
	return &b->op;
}

static Xenmesh__Op *
op_flags(struct op_buf *b, uint32_t id, uint32_t set, uint32_t clear)
{
	xenmesh__op__init(&b->op);
	xenmesh__op_node_flags__init(&b->flags);
	b->flags.id = id;
	b->flags.set = set;
	b->flags.clear = clear;
	b->op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	b->op.node_flags = &b->flags;
	return &b->op;
}

/* Apply op as the next update of s, in the current epoch. */
static void
apply_next(struct state *s, const Xenmesh__Op *op)
{
	char why[256] = "";

	assert_int_equal(state_apply(s, s->epoch, s->seq + 1, op, why,
				     sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void
add_node(struct state *s, uint32_t id, const char *name, int role)
{
	struct op_buf b;

	apply_next(s, op_info(&b, id, name, role, 8192, 4096));
}

/* h1 (1, dom0), h2 (2, dom0), san1 (10, san), at epoch 1 seq 3. */
static void
state_fixture(struct state *s)
{
	state_init(s);
	s->epoch = 1;
	add_node(s, 2, "h2", NODE_ROLE_DOM0);
	add_node(s, 10, "san1", NODE_ROLE_SAN);
	add_node(s, 1, "h1", NODE_ROLE_DOM0);
}

static void
vm_set(struct vm_rec *v, const char *name, const char *st, uint32_t host)
{
	memset(v, 0, sizeof(*v));
	strcpy(v->name, name);
	assert_int_equal(vm_state_parse(st, &v->state), 0);
	v->host = host;
}

/* The fixture plus three VMs (one without a host). */
static void
state_fixture_vms(struct state *s)
{
	state_fixture(s);
	s->vms = calloc(4, sizeof(*s->vms));
	assert_non_null(s->vms);
	s->vms_cap = 4;
	vm_set(&s->vms[0], "db", "running", 1);
	vm_set(&s->vms[1], "mail", "stopped", 0);
	vm_set(&s->vms[2], "web", "migrating", 2);
	s->n_vms = 3;
}

static void
packed(const struct state *s, uint8_t **buf, size_t *len)
{
	assert_int_equal(state_pack(s, buf, len), 0);
	assert_non_null(*buf);
	assert_true(*len > 0);
}

/* Two states are equal iff their packed bytes are. */
static void
assert_state_equal(const struct state *a, const struct state *b)
{
	uint8_t *ba, *bb;
	size_t la, lb;

	packed(a, &ba, &la);
	packed(b, &bb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(ba);
	free(bb);
}

/* ---- validation ------------------------------------------------------- */

static void
expect_invalid(const struct state *s, const Xenmesh__Op *op, int err,
	       const char *why_expected)
{
	char why[256] = "";

	assert_int_equal(state_validate(s, op, why, sizeof(why)), err);
	assert_string_equal(why, why_expected);
}

static void
test_validate_op_shape(void **unused)
{
	struct state s;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char why[8];

	state_fixture(&s);
	expect_invalid(&s, NULL, -EINVAL, "no state or no operation");
	expect_invalid(NULL, &op, -EINVAL, "no state or no operation");
	expect_invalid(&s, &op, -EINVAL, "operation has no kind set");
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	expect_invalid(&s, &op, -EINVAL, "operation kind 2 has no body");
	/* A NULL or short why buffer is fine: the sentence is cut. */
	assert_int_equal(state_validate(&s, &op, NULL, 0), -EINVAL);
	assert_int_equal(state_validate(&s, &op, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "operati");
	state_free(&s);
}

static void
test_validate_node_info(void **unused)
{
#define INFO(id, name) op_info(&b, id, name, NODE_ROLE_DOM0, 1, 1)
#define NONPRINT "node name contains a space or a non-printable character " \
		 "at offset "
	struct state s;
	struct op_buf b;
	char longname[STATE_NAME_MAX + 1];
	uint32_t id;

	state_fixture(&s);
	expect_invalid(&s, INFO(0, "h0"), -EINVAL, "node id 0 is reserved");
	expect_invalid(&s, INFO(3, NULL), -EINVAL, "node name is empty");
	expect_invalid(&s, INFO(3, ""), -EINVAL, "node name is empty");
	memset(longname, 'a', STATE_NAME_MAX);
	longname[STATE_NAME_MAX] = '\0';
	expect_invalid(&s, INFO(3, longname), -EINVAL,
		       "node name is longer than 63 characters");
	expect_invalid(&s, INFO(3, "h 3"), -EINVAL, NONPRINT "1");
	expect_invalid(&s, INFO(3, "h3\x01"), -EINVAL, NONPRINT "2");
	expect_invalid(&s, INFO(3, "h\xc3\xa9"), -EINVAL, NONPRINT "1");
	expect_invalid(&s, op_info(&b, 3, "h3", 0, 1, 1),
		       -EINVAL, "node 3: role 0 is not dom0 or san");
	expect_invalid(&s, op_info(&b, 3, "h3", 3, 1, 1),
		       -EINVAL, "node 3: role 3 is not dom0 or san");
	expect_invalid(&s, op_info(&b, 3, "h3", NODE_ROLE_DOM0, 100, 101),
		       -EINVAL, "node 3: free memory 101 MB exceeds total "
		       "memory 100 MB");
	expect_invalid(&s, INFO(3, "h1"), -EEXIST,
		       "node name h1 is already used by node 1");

	/* Longest name allowed, and renaming a node to its own name. */
	longname[STATE_NAME_MAX - 1] = '\0';
	expect_invalid(&s, INFO(3, longname), 0, "");
	expect_invalid(&s, op_info(&b, 1, "h1", NODE_ROLE_SAN, 1, 0), 0, "");

	/* Full table: a new node is refused, a known one still updates. */
	for (id = 100; s.n_nodes < STATE_MAX_NODES; id++) {
		char name[16];

		snprintf(name, sizeof(name), "n%u", id);
		add_node(&s, id, name, NODE_ROLE_DOM0);
	}
	expect_invalid(&s, INFO(3, "h3"), -ENOSPC,
		       "node table is full (64 nodes)");
	expect_invalid(&s, INFO(2, "h2b"), 0, "");
	state_free(&s);
#undef NONPRINT
#undef INFO
}

static void
test_validate_node_state(void **unused)
{
	struct state s;
	struct op_buf b;

	state_fixture(&s);
	expect_invalid(&s, op_state(&b, 1, 0), -EINVAL,
		       "node state 0 is out of range");
	expect_invalid(&s, op_state(&b, 1, 5), -EINVAL,
		       "node state 5 is out of range");
	expect_invalid(&s, op_state(&b, 9, NODE_STATE_FENCED), -ENOENT,
		       "no node with id 9");
	expect_invalid(&s, op_state(&b, 10, NODE_STATE_UNCLEAN), 0, "");
	expect_invalid(&s, op_agent_down(&b, 1, NODE_STATE_ONLINE), -EINVAL,
		       "agent down goes only with the state unclean");
	expect_invalid(&s, op_agent_down(&b, 1, NODE_STATE_UNCLEAN), 0, "");
	state_free(&s);
}

/* Only its agent left: the flag goes and comes with the state, so a later
 * coordinator (the restarted agent itself, say) knows it too. */
static void
test_apply_agent_down(void **unused)
{
	struct state s;
	struct op_buf b;
	const struct node_rec *n;

	state_fixture(&s);
	n = state_node(&s, 2);
	apply_next(&s, op_flags(&b, 2, NODE_FLAG_MAINTENANCE, 0));
	apply_next(&s, op_agent_down(&b, 2, NODE_STATE_UNCLEAN));
	assert_int_equal(n->state, NODE_STATE_UNCLEAN);
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE | NODE_FLAG_AGENT_DOWN);
	apply_next(&s, op_state(&b, 2, NODE_STATE_ONLINE));
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE);
	apply_next(&s, op_agent_down(&b, 2, NODE_STATE_UNCLEAN));
	apply_next(&s, op_state(&b, 2, NODE_STATE_FENCED));
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE);
	/* an unclean mark without it (the host went down) clears it */
	apply_next(&s, op_agent_down(&b, 2, NODE_STATE_UNCLEAN));
	apply_next(&s, op_state(&b, 2, NODE_STATE_UNCLEAN));
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE);
	assert_int_equal(state_node(&s, 1)->flags, 0);
	state_free(&s);
}

static void
test_validate_node_flags(void **unused)
{
	struct state s;
	struct op_buf b;

	state_fixture(&s);
	expect_invalid(&s, op_flags(&b, 1, 64, 0), -EINVAL,
		       "unknown node flag bits 0x40");
	expect_invalid(&s, op_flags(&b, 1, 0, 0x80000000u), -EINVAL,
		       "unknown node flag bits 0x80000000");
	expect_invalid(&s, op_flags(&b, 1, NODE_FLAG_AGENT_DOWN, 0), -EINVAL,
		       "node flag bits 0x20 go with the node's state, not set "
		       "or cleared on their own");
	expect_invalid(&s, op_flags(&b, 1, 0, NODE_FLAG_AGENT_DOWN), -EINVAL,
		       "node flag bits 0x20 go with the node's state, not set "
		       "or cleared on their own");
	expect_invalid(&s, op_flags(&b, 1, NODE_FLAG_STANDBY,
				    NODE_FLAG_STANDBY), -EINVAL,
		       "flag bits 0x2 are both set and cleared");
	expect_invalid(&s, op_flags(&b, 7, NODE_FLAG_MAINTENANCE, 0), -ENOENT,
		       "no node with id 7");
	expect_invalid(&s, op_flags(&b, 2, NODE_FLAG_MAINTENANCE,
				    NODE_FLAG_STANDBY), 0, "");
	state_free(&s);
}

/* ---- ordering ----------------------------------------------------------- */

static void
test_check_order(void **unused)
{
	struct state s;

	state_init(&s);
	assert_int_equal(state_check_order(NULL, 0, 1), -EINVAL);
	s.epoch = 3;
	s.seq = 10;
	assert_int_equal(state_check_order(&s, 2, 11), XM_ESTALE);  /* old */
	assert_int_equal(state_check_order(&s, 3, 10), XM_ESTALE);  /* replay */
	assert_int_equal(state_check_order(&s, 3, 9), XM_ESTALE);   /* reorder */
	assert_int_equal(state_check_order(&s, 3, 12), XM_ESTALE);  /* gap */
	assert_int_equal(state_check_order(&s, 4, 10), XM_ESTALE);
	assert_int_equal(state_check_order(&s, 3, 11), 0);
	assert_int_equal(state_check_order(&s, 4, 11), 0);          /* new coord */
	state_init(&s);
	assert_int_equal(state_check_order(&s, 0, 1), 0);
}

static void
expect_refused(struct state *s, uint64_t epoch, uint64_t seq,
	       const Xenmesh__Op *op, int err, const char *why_expected)
{
	struct state before;
	char why[256] = "";

	assert_int_equal(state_copy(&before, s), 0);
	assert_int_equal(state_apply(s, epoch, seq, op, why, sizeof(why)),
			 err);
	assert_string_equal(why, why_expected);
	assert_int_equal(s->epoch, before.epoch);
	assert_int_equal(s->seq, before.seq);
	assert_state_equal(s, &before);
	state_free(&before);
}

static void
test_apply_refused_changes_nothing(void **unused)
{
	struct state s;
	struct op_buf b;

	state_fixture_vms(&s);
	assert_int_equal(s.epoch, 1);
	assert_int_equal(s.seq, 3);

	assert_int_equal(state_apply(&s, 1, 4, NULL, NULL, 0), -EINVAL);
	op_flags(&b, 1, NODE_FLAG_MAINTENANCE, 0);
	expect_refused(&s, 1, 3, &b.op, XM_ESTALE,
		       "update 1.3 does not follow 1.3: replayed or reordered");
	expect_refused(&s, 1, 2, &b.op, XM_ESTALE,
		       "update 1.2 does not follow 1.3: replayed or reordered");
	expect_refused(&s, 1, 5, &b.op, XM_ESTALE,
		       "update 1.5 does not follow 1.3: updates are missing "
		       "in between");
	expect_refused(&s, 0, 4, &b.op, XM_ESTALE,
		       "update 0.4 does not follow 1.3: from an older "
		       "coordinator epoch");
	/* In order but invalid: refused by validation, nothing moves. */
	expect_refused(&s, 2, 4, op_flags(&b, 1, 64, 0), -EINVAL,
		       "unknown node flag bits 0x40");
	expect_refused(&s, 1, 4, op_state(&b, 4, NODE_STATE_FENCED), -ENOENT,
		       "no node with id 4");
	expect_refused(&s, 1, 4, op_info(&b, 4, "h2", NODE_ROLE_DOM0, 1, 1),
		       -EEXIST, "node name h2 is already used by node 2");
	state_free(&s);
}

/* ---- applying ----------------------------------------------------------- */

static void
assert_node(const struct node_rec *n, const char *name, int role, int st,
	    uint32_t flags, uint64_t total, uint64_t free_mb)
{
	assert_non_null(n);
	assert_string_equal(n->name, name);
	assert_int_equal(n->role, role);
	assert_int_equal(n->state, st);
	assert_int_equal(n->flags, flags);
	assert_int_equal(n->mem_total_mb, total);
	assert_int_equal(n->mem_free_mb, free_mb);
}

static void
test_apply_node_info(void **unused)
{
	struct state s;
	struct op_buf b;
	char why[64];

	state_fixture(&s);
	assert_int_equal(s.n_nodes, 3);
	assert_int_equal(s.nodes[0].id, 1);
	assert_int_equal(s.nodes[1].id, 2);
	assert_int_equal(s.nodes[2].id, 10);
	assert_node(state_node(&s, 10), "san1", NODE_ROLE_SAN,
		    NODE_STATE_ONLINE, 0, 8192, 4096);

	/* Inserted in the middle, keeping the order. */
	add_node(&s, 5, "h5", NODE_ROLE_DOM0);
	assert_int_equal(s.n_nodes, 4);
	assert_int_equal(s.nodes[2].id, 5);
	assert_int_equal(s.nodes[3].id, 10);

	/* A known node keeps state and flags, the rest is replaced. */
	apply_next(&s, op_state(&b, 5, NODE_STATE_UNCLEAN));
	apply_next(&s, op_flags(&b, 5, NODE_FLAG_STANDBY, 0));
	assert_int_equal(state_apply(&s, 2, s.seq + 1,
				     op_info(&b, 5, "h5new", NODE_ROLE_SAN,
					     1000, 10),
				     why, sizeof(why)), 0);
	assert_int_equal(s.epoch, 2);
	assert_int_equal(s.seq, 7);
	assert_int_equal(s.n_nodes, 4);
	assert_node(state_node(&s, 5), "h5new", NODE_ROLE_SAN,
		    NODE_STATE_UNCLEAN, NODE_FLAG_STANDBY, 1000, 10);
	assert_null(state_node_by_name(&s, "h5"));
	assert_ptr_equal(state_node_by_name(&s, "h5new"), state_node(&s, 5));
	state_free(&s);
}

static void
test_apply_node_state_and_flags(void **unused)
{
	struct state s;
	struct op_buf b;
	const struct node_rec *n;

	state_fixture(&s);
	n = state_node(&s, 2);
	apply_next(&s, op_state(&b, 2, NODE_STATE_UNCLEAN));
	assert_int_equal(n->state, NODE_STATE_UNCLEAN);
	apply_next(&s, op_state(&b, 2, NODE_STATE_FENCED));
	assert_int_equal(n->state, NODE_STATE_FENCED);
	assert_int_equal(state_node(&s, 1)->state, NODE_STATE_ONLINE);

	/* (leaving has its own rule: tests/test_maint.c) */
	apply_next(&s, op_flags(&b, 2, NODE_FLAGS_SETTABLE & ~NODE_FLAG_LEAVING, 0));
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE | NODE_FLAG_STANDBY |
			 NODE_FLAG_STORAGE_FENCED | NODE_FLAG_DRAINING);
	apply_next(&s, op_flags(&b, 2, 0, NODE_FLAG_MAINTENANCE | NODE_FLAG_STORAGE_FENCED |
				NODE_FLAG_DRAINING));
	assert_int_equal(n->flags, NODE_FLAG_STANDBY);
	apply_next(&s, op_flags(&b, 2, NODE_FLAG_MAINTENANCE,
				NODE_FLAG_STANDBY));
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE);
	apply_next(&s, op_flags(&b, 2, 0, 0));
	assert_int_equal(n->flags, NODE_FLAG_MAINTENANCE);
	assert_int_equal(s.seq, 3 + 6);
	assert_int_equal(state_node(&s, 1)->flags, 0);
	state_free(&s);
}

static void
test_lookup(void **unused)
{
	struct state s;

	state_fixture(&s);
	assert_null(state_node(NULL, 1));
	assert_null(state_node(&s, 0));
	assert_null(state_node(&s, 3));
	assert_null(state_node(&s, 11));
	assert_null(state_node_by_name(&s, NULL));
	assert_null(state_node_by_name(NULL, "h1"));
	assert_null(state_node_by_name(&s, "h3"));
	assert_int_equal(state_node(&s, 1)->id, 1);
	assert_int_equal(state_node(&s, 10)->id, 10);
	assert_int_equal(state_node_by_name(&s, "san1")->id, 10);
	state_free(&s);
}

/* ---- copy and free ------------------------------------------------------ */

static void
test_copy_free(void **unused)
{
	struct state s, c, zero;

	state_free(NULL);
	memset(&zero, 0, sizeof(zero));
	state_free(&zero);
	assert_int_equal(state_copy(NULL, &zero), -EINVAL);
	assert_int_equal(state_copy(&c, NULL), -EINVAL);
	zero.n_vms = 1;         /* counts VMs but has no table */
	assert_int_equal(state_copy(&c, &zero), -EINVAL);

	state_fixture_vms(&s);
	assert_int_equal(state_copy(&c, &s), 0);
	assert_ptr_not_equal(c.vms, s.vms);
	assert_int_equal(c.n_vms, 3);
	assert_state_equal(&c, &s);
	/* The copy owns its VM table. */
	c.vms[0].state = VM_STATE_FAILED;
	assert_int_equal(s.vms[0].state, VM_STATE_RUNNING);
	assert_int_equal(state_copy(&s, &s), 0);
	state_free(&s);
	assert_null(s.vms);
	assert_int_equal(s.n_nodes, 0);
	assert_int_equal(c.n_nodes, 3);
	state_free(&c);

	state_fixture(&s);      /* no VMs: none allocated */
	assert_int_equal(state_copy(&c, &s), 0);
	assert_null(c.vms);
	assert_int_equal(c.vms_cap, 0);
	state_free(&c);
	state_free(&s);
}

/* ---- encoding ----------------------------------------------------------- */

static void
test_pack_invalid(void **unused)
{
	struct state s;
	uint8_t *buf = NULL;
	size_t len = 0;

	state_init(&s);
	assert_int_equal(state_pack(NULL, &buf, &len), -EINVAL);
	assert_int_equal(state_pack(&s, NULL, &len), -EINVAL);
	assert_int_equal(state_pack(&s, &buf, NULL), -EINVAL);
	s.n_nodes = STATE_MAX_NODES + 1;
	assert_int_equal(state_pack(&s, &buf, &len), -EINVAL);
	s.n_nodes = 0;
	s.n_vms = 2;
	assert_int_equal(state_pack(&s, &buf, &len), -EINVAL);
	assert_null(buf);
}

static void
expect_unpack_fails(const uint8_t *buf, size_t len, int err,
		    const char *why_expected)
{
	struct state s;
	char why[256] = "";

	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(state_unpack(buf, len, &s, why, sizeof(why)), err);
	if (why_expected != NULL)
		assert_string_equal(why, why_expected);
	else
		assert_true(why[0] != '\0');
	/* Left initialised and empty. */
	assert_int_equal(s.epoch, 0);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.n_nodes, 0);
	assert_int_equal(s.n_vms, 0);
	assert_null(s.vms);
}

static void
test_unpack_garbage(void **unused)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x22 };
	struct state s, out;
	uint8_t *buf;
	size_t len, cut;
	char why[256];

	assert_int_equal(state_unpack(junk, sizeof(junk), NULL, why,
				      sizeof(why)), -EINVAL);
	expect_unpack_fails(NULL, 4, -EINVAL, "no buffer");
	expect_unpack_fails(NULL, 0, -EBADMSG,
			    "0 bytes are not a packed State (protobuf "
			    "decoding failed)");
	expect_unpack_fails(junk, sizeof(junk), -EBADMSG,
			    "6 bytes are not a packed State (protobuf "
			    "decoding failed)");

	state_fixture_vms(&s);
	packed(&s, &buf, &len);
	/* Cut inside the last VM's last string, inside the first field,
	 * and before the required seq. */
	expect_unpack_fails(buf, len - 1, -EBADMSG, NULL);
	expect_unpack_fails(buf, 1, -EBADMSG, NULL);
	expect_unpack_fails(buf, 2, -EBADMSG, NULL);
	/* Every prefix either fails cleanly or (cut between two repeated
	 * entries) decodes into a valid, smaller state. */
	for (cut = 0; cut < len; cut++) {
		int r = state_unpack(buf, cut, &out, why, sizeof(why));

		assert_true(r == 0 || r == -EBADMSG);
		if (r == 0)
			assert_true(out.n_nodes + out.n_vms <
				    s.n_nodes + s.n_vms);
		state_free(&out);
	}
	free(buf);
	state_free(&s);
}

/* Pack a hand-made wire State: what a buggy or hostile peer could send. */
struct wire {
	Xenmesh__State st;
	Xenmesh__Node node[STATE_MAX_NODES + 1];
	Xenmesh__Node *np[STATE_MAX_NODES + 1];
	Xenmesh__Vm vm[3];
	Xenmesh__Vm *vp[3];
	char names[STATE_MAX_NODES + 1][24];
};

static void
wire_init(struct wire *w, size_t n_nodes, size_t n_vms)
{
	size_t i;

	xenmesh__state__init(&w->st);
	w->st.epoch = 1;
	w->st.seq = 1;
	for (i = 0; i < n_nodes; i++) {
		xenmesh__node__init(&w->node[i]);
		snprintf(w->names[i], sizeof(w->names[i]), "h%zu", i + 1);
		w->node[i].id = (uint32_t)i + 1;
		w->node[i].name = w->names[i];
		w->node[i].role = XENMESH__NODE_ROLE__ROLE_DOM0;
		w->node[i].state = XENMESH__NODE_STATE__NODE_ONLINE;
		w->node[i].mem_total_mb = 10;
		w->node[i].mem_free_mb = 5;
		w->np[i] = &w->node[i];
	}
	w->st.n_nodes = n_nodes;
	w->st.nodes = w->np;
	for (i = 0; i < n_vms; i++) {
		xenmesh__vm__init(&w->vm[i]);
		w->vm[i].state = (char *)"running";
		w->vp[i] = &w->vm[i];
	}
	if (n_vms > 0) {
		w->vm[0].name = (char *)"a";
		w->vm[1].name = (char *)"b";
	}
	w->st.n_vms = n_vms;
	w->st.vms = w->vp;
}

static void
wire_expect(struct wire *w, int err, const char *why_expected)
{
	uint8_t buf[8192];
	struct state s;
	char why[256] = "";
	size_t len;

	assert_true(xenmesh__state__get_packed_size(&w->st) <= sizeof(buf));
	len = xenmesh__state__pack(&w->st, buf);
	if (err != 0) {
		expect_unpack_fails(buf, len, err, why_expected);
		return;
	}
	assert_int_equal(state_unpack(buf, len, &s, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	state_free(&s);
}

/* A valid two-node, two-VM wire state with one change, then unpack it. */
#define BAD(change, why) do { \
		wire_init(&w, 2, 2); change; wire_expect(&w, -EBADMSG, why); \
	} while (0)

static void
test_unpack_out_of_range(void **unused)
{
	struct wire w;

	wire_init(&w, 2, 2);
	wire_expect(&w, 0, "");         /* the baseline is valid */

	BAD(w.node[1].role = 3, "node 2: role 3 is out of range");
	BAD(w.node[1].role = 0, "node 2: role 0 is out of range");
	BAD(w.node[0].state = 5, "node 1: state 5 is out of range");
	BAD(w.node[0].state = 0, "node 1: state 0 is out of range");
	BAD(w.node[0].flags = 64, "node 1: unknown flag bits 0x40");
	BAD(w.node[0].mem_free_mb = 11,
	    "node 1: free memory exceeds total memory");
	BAD(w.node[0].id = 0, "node 0 has the reserved id 0");
	BAD(w.node[1].name = (char *)"", "name of node 2 is empty");
	BAD(w.node[1].name = (char *)"h\t2", "name of node 2 contains a "
	    "space or a non-printable character at offset 1");
	BAD(w.node[1].name = (char *)"0123456789012345678901234567890123456789"
	    "012345678901234567890123",
	    "name of node 2 is longer than 63 characters");
	/* Sort order and uniqueness. */
	BAD(w.node[0].id = 7, "node ids are not sorted and unique (2 after 7)");
	BAD(w.node[0].id = 2, "node ids are not sorted and unique (2 after 2)");
	BAD(w.node[1].name = w.names[0],
	    "node name h1 is used by nodes 1 and 2");
	BAD(w.vm[0].name = (char *)"b",
	    "VM names are not sorted and unique (b after b)");
	BAD(w.vm[0].name = (char *)"c",
	    "VM names are not sorted and unique (b after c)");
	/* VM fields. */
	BAD(w.vm[1].name = (char *)"", "name of VM 1 is empty");
	BAD(w.vm[1].state = (char *)"", "VM b has unknown state ''");
	BAD(w.vm[1].state = (char *)"dancing", "VM b has unknown state 'dancing'");
	BAD(w.vm[1].state = (char *)"0123456789abcdef",
	    "VM b has unknown state '0123456789abcdef'");
	w.vm[1].state = (char *)"running";
	wire_expect(&w, 0, "");
	/* save fields: zero is written as absent, bytes only with an image */
	BAD((w.vm[1].has_saved_gen = true, w.vm[1].saved_gen = 0),
	    "VM b has a save field present as zero");
	BAD((w.vm[1].has_save_requested = true, w.vm[1].save_requested = false),
	    "VM b has a save field present as zero");
	BAD((w.vm[1].has_saved_bytes = true, w.vm[1].saved_bytes = 9),
	    "VM b has a save field present as zero");
	wire_init(&w, 2, 2);
	w.vm[1].has_saved_gen = true;
	w.vm[1].saved_gen = 3;
	w.vm[1].has_saved_bytes = true;
	w.vm[1].saved_bytes = 9;
	w.vm[0].has_save_requested = true;
	w.vm[0].save_requested = true;
	wire_expect(&w, 0, "");

	/* Too many nodes for the table. */
	wire_init(&w, STATE_MAX_NODES + 1, 0);
	wire_expect(&w, -EBADMSG, "state has 65 nodes, at most 64 allowed");
	wire_init(&w, STATE_MAX_NODES, 0);
	wire_expect(&w, 0, "");
}
#undef BAD

static void
test_pack_round_trip(void **unused)
{
	struct state s, out;
	struct op_buf b;
	uint8_t *buf, *buf2;
	size_t len, len2;
	char why[256] = "";

	state_fixture_vms(&s);
	apply_next(&s, op_state(&b, 2, NODE_STATE_FENCED));
	apply_next(&s, op_flags(&b, 10, NODE_FLAG_STANDBY, 0));
	s.epoch = 0x100000001ull;       /* 64-bit values survive */
	s.vms[0].save_requested = true;
	s.vms[1].saved_gen = 0x100000002ull;
	s.vms[1].saved_bytes = 0x300000000ull;
	packed(&s, &buf, &len);
	assert_int_equal(state_unpack(buf, len, &out, why, sizeof(why)), 0);
	assert_string_equal(why, "");

	assert_int_equal(out.epoch, 0x100000001ull);
	assert_int_equal(out.seq, 5);
	assert_int_equal(out.n_nodes, 3);
	/* Both sides zero their records before filling them. */
	assert_memory_equal(out.nodes, s.nodes, 3 * sizeof(s.nodes[0]));
	assert_int_equal(out.nodes[1].state, NODE_STATE_FENCED);
	assert_int_equal(out.nodes[2].flags, NODE_FLAG_STANDBY);
	assert_int_equal(out.nodes[2].role, NODE_ROLE_SAN);
	assert_int_equal(out.n_vms, 3);
	assert_true(out.vms_cap >= 3);
	assert_memory_equal(out.vms, s.vms, 3 * sizeof(s.vms[0]));
	assert_int_equal(out.vms[2].state, VM_STATE_MIGRATING);
	assert_int_equal(out.vms[1].host, 0);
	/* On the wire, host 0 ("none") is an absent field. */
	{
		Xenmesh__State *m = xenmesh__state__unpack(NULL, len, buf);

		assert_non_null(m);
		assert_int_equal(m->n_vms, 3);
		assert_true(m->vms[0]->has_host);
		assert_false(m->vms[1]->has_host);
		xenmesh__state__free_unpacked(m, NULL);
	}

	packed(&out, &buf2, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);

	/* The empty state round-trips too. */
	free(buf);
	free(buf2);
	state_free(&out);
	state_free(&s);
	state_init(&s);
	packed(&s, &buf, &len);
	assert_int_equal(state_unpack(buf, len, &out, why, sizeof(why)), 0);
	assert_int_equal(out.n_nodes, 0);
	assert_null(out.vms);
	free(buf);
}

static void
test_pack_deterministic(void **unused)
{
	struct state a, b;
	uint8_t da[STATE_DIGEST_LEN], db[STATE_DIGEST_LEN];

	/* Same content reached by different insertion orders. */
	state_init(&a);
	add_node(&a, 3, "c", NODE_ROLE_DOM0);
	add_node(&a, 1, "a", NODE_ROLE_DOM0);
	add_node(&a, 2, "b", NODE_ROLE_SAN);
	state_init(&b);
	add_node(&b, 2, "b", NODE_ROLE_SAN);
	add_node(&b, 3, "c", NODE_ROLE_DOM0);
	add_node(&b, 1, "a", NODE_ROLE_DOM0);
	assert_state_equal(&a, &b);
	assert_int_equal(state_digest(&a, da), 0);
	assert_int_equal(state_digest(&b, db), 0);
	assert_memory_equal(da, db, sizeof(da));
	state_free(&a);
	state_free(&b);
}

/* ---- digest ------------------------------------------------------------- */

static void
digest_of(const struct state *s, uint8_t out[STATE_DIGEST_LEN])
{
	assert_int_equal(state_digest(s, out), 0);
}

static void
expect_digest_differs(const struct state *s, const uint8_t *orig)
{
	uint8_t d[STATE_DIGEST_LEN];

	digest_of(s, d);
	assert_memory_not_equal(d, orig, STATE_DIGEST_LEN);
}

static void
test_digest(void **unused)
{
	struct state s, c;
	struct op_buf b;
	uint8_t d0[STATE_DIGEST_LEN], d1[STATE_DIGEST_LEN];
	uint8_t ref[STATE_DIGEST_LEN];
	uint8_t *buf;
	size_t len;

	assert_int_equal(state_digest(NULL, d0), -EINVAL);
	state_fixture_vms(&s);
	assert_int_equal(state_digest(&s, NULL), -EINVAL);
	digest_of(&s, d0);

	/* It is BLAKE2b-256 of the packed bytes. */
	packed(&s, &buf, &len);
	assert_int_equal(crypto_generichash(ref, sizeof(ref), buf, len,
					    NULL, 0), 0);
	assert_memory_equal(d0, ref, sizeof(ref));
	free(buf);

	/* Equal states, equal digests. */
	assert_int_equal(state_copy(&c, &s), 0);
	digest_of(&c, d1);
	assert_memory_equal(d0, d1, sizeof(d0));

#define CHANGE(stmt) do {                                \
		assert_int_equal(state_copy(&c, &s), 0); \
		stmt;                                    \
		expect_digest_differs(&c, d0);           \
		state_free(&c);                          \
	} while (0)
	state_free(&c);
	CHANGE(c.epoch++);
	CHANGE(c.seq++);
	CHANGE(apply_next(&c, op_flags(&b, 1, NODE_FLAG_STANDBY, 0)));
	CHANGE(apply_next(&c, op_state(&b, 1, NODE_STATE_OFFLINE)));
	CHANGE(c.nodes[2].mem_free_mb--);
	CHANGE(c.nodes[0].name[1] = '9');
	CHANGE(c.nodes[0].role = NODE_ROLE_SAN);
	CHANGE(c.vms[1].host = 1);
	CHANGE(c.vms[2].host = 0);
	CHANGE(c.vms[0].state = VM_STATE_FAILED);
	CHANGE(c.n_vms--);
	CHANGE(c.n_nodes--);
	CHANGE(strcpy(c.vms[2].name, "zz"));
#undef CHANGE
	/* Nothing above touched s. */
	digest_of(&s, d1);
	assert_memory_equal(d0, d1, sizeof(d0));
	state_free(&s);
}

/* ---- names -------------------------------------------------------------- */

static void
test_names(void **unused)
{
	uint32_t flag = 77;

	assert_string_equal(node_state_name(0), "invalid");
	assert_string_equal(node_state_name(5), "invalid");
	assert_string_equal(node_state_name(NODE_STATE_ONLINE), "online");
	assert_string_equal(node_state_name(NODE_STATE_OFFLINE), "offline");
	assert_string_equal(node_state_name(NODE_STATE_UNCLEAN), "unclean");
	assert_string_equal(node_state_name(NODE_STATE_FENCED), "fenced");
	assert_string_equal(node_role_name(0), "invalid");
	assert_string_equal(node_role_name(NODE_ROLE_DOM0), "dom0");
	assert_string_equal(node_role_name(NODE_ROLE_SAN), "san");

	assert_int_equal(node_flag_parse(NULL, &flag), -EINVAL);
	assert_int_equal(node_flag_parse("standby", NULL), -EINVAL);
	assert_int_equal(node_flag_parse("", &flag), -EINVAL);
	assert_int_equal(node_flag_parse("Maintenance", &flag), -EINVAL);
	assert_int_equal(node_flag_parse("maintenance ", &flag), -EINVAL);
	assert_int_equal(flag, 77);
	assert_int_equal(node_flag_parse("maintenance", &flag), 0);
	assert_int_equal(flag, NODE_FLAG_MAINTENANCE);
	assert_int_equal(node_flag_parse("standby", &flag), 0);
	assert_int_equal(flag, NODE_FLAG_STANDBY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_op_shape),
		cmocka_unit_test(test_validate_node_info),
		cmocka_unit_test(test_validate_node_state),
		cmocka_unit_test(test_validate_node_flags),
		cmocka_unit_test(test_apply_agent_down),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_apply_refused_changes_nothing),
		cmocka_unit_test(test_pack_invalid),
		cmocka_unit_test(test_unpack_garbage),
		cmocka_unit_test(test_unpack_out_of_range),
		cmocka_unit_test(test_apply_node_info),
		cmocka_unit_test(test_apply_node_state_and_flags),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_copy_free),
		cmocka_unit_test(test_pack_round_trip),
		cmocka_unit_test(test_pack_deterministic),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
