/* Unit tests of ha/nodetable.c: node add and forget ops (refusals first),
 * the nodelist version, the hosts table, and their part of the packed
 * state (round trip, copy, corrupt input). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nodetable.h"
#include "state.h"

struct ops {
	Xenmesh__Op op;
	Xenmesh__OpNodeInfo info;
	Xenmesh__OpNodeState ns;
	Xenmesh__OpNodeAdd add;
	Xenmesh__OpNodeForget forget;
	Xenmesh__OpVmWant want;
	Xenmesh__OpVmDefine def;
	Xenmesh__VmHa ha;
	Xenmesh__CorosyncNode cn[8];
	Xenmesh__CorosyncNode *cp[8];
	char *addrs[8][1];
	char addr_text[8][32];
};

static int
apply(struct state *s, Xenmesh__Op *op, char *why, size_t len)
{
	return state_apply(s, s->epoch ? s->epoch : 1, s->seq + 1, op, why, len);
}

static void
apply_ok(struct state *s, Xenmesh__Op *op)
{
	char why[256] = "";

	if (apply(s, op, why, sizeof(why)) != 0)
		fail_msg("refused: %s", why);
}

static void
refused(struct state *s, Xenmesh__Op *op, int err, const char *text)
{
	char why[256] = "";
	uint64_t seq = s->seq, version = s->nodelist_version;

	assert_int_equal(apply(s, op, why, sizeof(why)), err);
	if (strstr(why, text) == NULL)
		fail_msg("reason '%s' lacks '%s'", why, text);
	assert_int_equal(s->seq, seq);
	assert_int_equal(s->nodelist_version, version);
}

static Xenmesh__Op *
info(struct ops *o, uint32_t id, const char *name)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_node_info__init(&o->info);
	o->info.id = id;
	o->info.name = (char *)name;
	o->info.role = XENMESH__NODE_ROLE__ROLE_DOM0;
	o->info.mem_total_mb = 4096;
	o->info.mem_free_mb = 4096;
	o->op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	o->op.node_info = &o->info;
	return &o->op;
}

static Xenmesh__Op *
nstate(struct ops *o, uint32_t id, int st)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_node_state__init(&o->ns);
	o->ns.id = id;
	o->ns.state = (Xenmesh__NodeState)st;
	o->op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	o->op.node_state = &o->ns;
	return &o->op;
}

/* The nodelist "1 2 3": ids, names hN, addresses 10.0.0.N. */
static size_t
list(struct ops *o, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xenmesh__corosync_node__init(&o->cn[i]);
		o->cn[i].nodeid = ids[i];
		snprintf(o->addr_text[i], sizeof(o->addr_text[i]), "10.0.0.%u", ids[i]);
		o->addrs[i][0] = o->addr_text[i];
		o->cn[i].addrs = o->addrs[i];
		o->cn[i].n_addrs = 1;
		o->cp[i] = &o->cn[i];
	}
	return n;
}

static const char *names[] = { "", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9" };

static Xenmesh__Op *
add(struct ops *o, uint32_t id, const uint32_t *ids, size_t n, uint64_t base)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_node_add__init(&o->add);
	o->add.id = id;
	o->add.name = (char *)names[id];
	o->add.role = XENMESH__NODE_ROLE__ROLE_DOM0;
	o->add.n_nodelist = list(o, ids, n);
	for (size_t i = 0; i < n; i++)
		o->cn[i].name = (char *)names[ids[i]];
	o->add.nodelist = o->cp;
	o->add.base_version = base;
	o->op.kind_case = XENMESH__OP__KIND_NODE_ADD;
	o->op.node_add = &o->add;
	return &o->op;
}

static Xenmesh__Op *
forget(struct ops *o, uint32_t id, const uint32_t *ids, size_t n, uint64_t base)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_node_forget__init(&o->forget);
	o->forget.id = id;
	o->forget.n_nodelist = list(o, ids, n);
	for (size_t i = 0; i < n; i++)
		o->cn[i].name = (char *)names[ids[i]];
	o->forget.nodelist = o->cp;
	o->forget.base_version = base;
	o->op.kind_case = XENMESH__OP__KIND_NODE_FORGET;
	o->op.node_forget = &o->forget;
	return &o->op;
}

/* h1, h2, h3 online; h3 then offline. */
static void
three(struct state *s, struct ops *o)
{
	state_init(s);
	apply_ok(s, info(o, 1, "h1"));
	apply_ok(s, info(o, 2, "h2"));
	apply_ok(s, info(o, 3, "h3"));
	apply_ok(s, nstate(o, 3, XENMESH__NODE_STATE__NODE_OFFLINE));
}

static void
want_on(struct state *s, struct ops *o, const char *vm, uint32_t host)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_define__init(&o->def);
	xenmesh__vm_ha__init(&o->ha);
	o->ha.restart = (char *)"always";
	o->ha.max_restarts = 3;
	o->ha.restart_window_s = 600;
	o->def.name = (char *)vm;
	o->def.config = (char *)"name = \"x\"\nmemory = 128\n";
	o->def.memory_mb = 128;
	o->def.ha = &o->ha;
	o->op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	o->op.vm_define = &o->def;
	apply_ok(s, &o->op);
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_want__init(&o->want);
	o->want.name = (char *)vm;
	o->want.running = true;
	o->want.has_host = true;
	o->want.host = host;
	o->op.kind_case = XENMESH__OP__KIND_VM_WANT;
	o->op.vm_want = &o->want;
	apply_ok(s, &o->op);
}

static void
test_forget_refused(void **state)
{
	static const uint32_t l12[] = { 1, 2 }, l123[] = { 1, 2, 3 }, l21[] = { 2, 1 };
	struct state s;
	struct ops o;

	(void)state;
	three(&s, &o);
	refused(&s, forget(&o, 2, (const uint32_t[]){ 1, 3 }, 2, 0), -EBUSY,
		"h2 is online: stop its xenmeshd and corosync first");
	refused(&s, forget(&o, 3, l12, 2, 1), -EAGAIN,
		"the nodelist changed meanwhile (version 0, not 1)");
	refused(&s, forget(&o, 3, l123, 3, 0), -EINVAL,
		"the nodelist still holds node id 3");
	refused(&s, forget(&o, 3, l21, 2, 0), -EINVAL, "not sorted");
	want_on(&s, &o, "web1", 3);
	refused(&s, forget(&o, 3, l12, 2, 0), -EBUSY,
		"1 VM is assigned to h3: web1 (started with --on); move, stop or "
		"undefine it first");
	apply_ok(&s, nstate(&o, 3, XENMESH__NODE_STATE__NODE_UNCLEAN));
	refused(&s, forget(&o, 3, l12, 2, 0), -EBUSY, "not fenced yet");
	state_free(&s);
}

static void
test_forget_add_back(void **state)
{
	static const uint32_t l12[] = { 1, 2 }, l123[] = { 1, 2, 3 };
	struct state s, copy, back;
	struct ops o;
	uint8_t *buf;
	size_t len;
	char why[256] = "";

	(void)state;
	three(&s, &o);
	apply_ok(&s, forget(&o, 3, l12, 2, 0));
	assert_null(state_node(&s, 3));
	assert_int_equal(s.n_nodes, 2);
	assert_int_equal(s.nodelist_version, 1);
	assert_int_equal(s.n_nodelist, 2);
	assert_string_equal(s.nodelist[1].name, "h2");
	assert_int_equal(s.nodelist[1].votes, 1);
	/* from now on an op must follow the current list */
	refused(&s, forget(&o, 3, l12, 2, 1), -ENOENT, "node id 3 is not in the nodelist");
	refused(&s, add(&o, 3, (const uint32_t[]){ 1, 3 }, 2, 1), -EINVAL,
		"the nodelist has 2 nodes, not 3");
	refused(&s, add(&o, 2, l12, 2, 1), -EEXIST, "node id 2 is h2's");
	add(&o, 3, l123, 3, 1);
	o.cn[0].addrs[0] = (char *)"10.9.9.9";
	refused(&s, &o.op, -EINVAL, "the nodelist changes node h1 (id 1)");
	add(&o, 3, l123, 3, 1);
	o.add.role = 7;
	refused(&s, &o.op, -EINVAL, "role 7 is neither dom0 nor san");
	add(&o, 3, l123, 3, 1);
	o.add.role = XENMESH__NODE_ROLE__ROLE_SAN;
	apply_ok(&s, &o.op);
	assert_int_equal(s.nodelist_version, 2);
	assert_non_null(state_node(&s, 3));
	assert_int_equal(state_node(&s, 3)->state, NODE_STATE_OFFLINE);
	assert_int_equal(state_node(&s, 3)->role, NODE_ROLE_SAN);
	assert_string_equal(s.nodelist[2].addrs[0], "10.0.0.3");

	/* pack, unpack, copy: the same digest */
	assert_int_equal(state_pack(&s, &buf, &len), 0);
	assert_int_equal(state_unpack(buf, len, &back, why, sizeof(why)), 0);
	assert_int_equal(back.nodelist_version, 2);
	assert_int_equal(back.n_nodelist, 3);
	assert_string_equal(back.nodelist[2].name, "h3");
	assert_int_equal(state_copy(&copy, &s), 0);
	assert_ptr_not_equal(copy.nodelist, s.nodelist);
	{
		uint8_t d1[STATE_DIGEST_LEN], d2[STATE_DIGEST_LEN], d3[STATE_DIGEST_LEN];

		assert_int_equal(state_digest(&s, d1), 0);
		assert_int_equal(state_digest(&back, d2), 0);
		assert_int_equal(state_digest(&copy, d3), 0);
		assert_memory_equal(d1, d2, sizeof(d1));
		assert_memory_equal(d1, d3, sizeof(d1));
	}
	free(buf);
	state_free(&back);
	state_free(&copy);
	state_free(&s);
}

static void
test_unpack_corrupt(void **state)
{
	Xenmesh__State msg = XENMESH__STATE__INIT;
	struct ops o;
	struct state s;
	uint8_t buf[4096];
	size_t len;
	char why[256] = "";

	(void)state;
	/* a list without a version */
	msg.n_nodelist = list(&o, (const uint32_t[]){ 1 }, 1);
	o.cn[0].name = (char *)"h1";
	msg.nodelist = o.cp;
	len = xenmesh__state__pack(&msg, buf);
	assert_int_equal(state_unpack(buf, len, &s, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "nodelist version 0 with 1 nodes"));
	/* a bad address */
	msg.has_nodelist_version = true;
	msg.nodelist_version = 4;
	o.cn[0].addrs[0] = (char *)"10.0.0.1 x";
	len = xenmesh__state__pack(&msg, buf);
	assert_int_equal(state_unpack(buf, len, &s, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "link 0 has no valid address"));
	o.cn[0].addrs[0] = (char *)"10.0.0.1";
	len = xenmesh__state__pack(&msg, buf);
	assert_int_equal(state_unpack(buf, len, &s, why, sizeof(why)), 0);
	assert_int_equal(s.nodelist_version, 4);
	state_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forget_refused),
		cmocka_unit_test(test_forget_add_back),
		cmocka_unit_test(test_unpack_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
