/* Unit tests of ha/maint.c (migration checks, the drain / undrain / cluster
 * maintenance ops and their part of the packed state), of the SAN's
 * admission of a migration's destination (storage/san_plan.c) and of the
 * CPU class (agent/hostinfo.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostinfo.h"
#include "maint.h"
#include "san_plan.h"
#include "state.h"
#include "xm_error.h"

static struct node_rec *
add_node(struct state *s, uint32_t id, const char *name, uint64_t mem)
{
	struct node_rec *n = &s->nodes[s->n_nodes++];

	memset(n, 0, sizeof(*n));
	n->id = id;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->role = NODE_ROLE_DOM0;
	n->state = NODE_STATE_ONLINE;
	n->mem_total_mb = mem;
	n->mem_free_mb = mem;
	n->watchdog_s = 10;
	snprintf(n->cpu, sizeof(n->cpu), "intel-6");
	snprintf(n->peer_addr, sizeof(n->peer_addr), "10.0.0.%u:7420", id);
	return n;
}

/* VMs must be added in name order (the table is sorted). */
static struct vm_rec *
add_vm(struct state *s, const char *name, uint32_t host, uint64_t mem)
{
	struct vm_rec *v;

	if (s->n_vms == s->vms_cap) {
		s->vms_cap = s->vms_cap ? 2 * s->vms_cap : 8;
		s->vms = realloc(s->vms, s->vms_cap * sizeof(*s->vms));
		assert_non_null(s->vms);
	}
	v = &s->vms[s->n_vms++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->state = host ? VM_STATE_RUNNING : VM_STATE_STOPPED;
	v->host = host;
	v->generation = 1;
	v->want_running = true;
	v->memory_mb = mem;
	v->config = strdup("name = \"x\"\n");
	v->ha.restart = VM_RESTART_ALWAYS;
	v->ha.max_restarts = 3;
	v->ha.restart_window_s = 600;
	return v;
}

/* h1 (1) h2 (2) h3 (3), 4096 MB each; a, b on h1, c on h2. */
static void
cluster(struct state *s)
{
	state_init(s);
	s->epoch = 1;
	add_node(s, 1, "h1", 4096);
	add_node(s, 2, "h2", 4096);
	add_node(s, 3, "h3", 4096);
	add_vm(s, "a", 1, 1024);
	add_vm(s, "b", 1, 2048);
	add_vm(s, "c", 2, 3072);
}

static int
check(const struct state *s, const char *vm, uint32_t dest, bool offline,
      char *why, size_t len)
{
	why[0] = '\0';
	return migrate_check(s, state_vm(s, vm), state_node(s, dest), offline, why, len);
}

static void
test_migrate_check(void **unused)
{
	struct state s;
	char why[256];

	(void)unused;
	cluster(&s);
	assert_int_equal(check(&s, "a", 2, false, why, sizeof(why)), 0);
	assert_int_equal(check(&s, "a", 1, false, why, sizeof(why)), -EALREADY);
	assert_non_null(strstr(why, "already runs on h1"));
	/* h2 has 1024 free: b (2048) does not fit, h3 it does */
	assert_int_equal(check(&s, "b", 2, false, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "needs 2048 MB, h2 has 1024 MB free"));
	assert_int_equal(check(&s, "b", 3, false, why, sizeof(why)), 0);
	/* a migration holds memory on its destination too */
	s.vms[0].state = VM_STATE_MIGRATING;
	s.vms[0].migrate_to = 3;
	assert_int_equal(state_host_used_mb(&s, 3), 1024);
	assert_int_equal(state_host_used_mb(&s, 1), 3072);
	assert_int_equal(check(&s, "b", 3, false, why, sizeof(why)), 0);
	s.vms[0].memory_mb = 3000;
	assert_int_equal(check(&s, "b", 3, false, why, sizeof(why)), -ENOSPC);
	/* only a running VM migrates */
	assert_int_equal(check(&s, "a", 2, false, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "is migrating"));
	s.vms[0].state = VM_STATE_RUNNING;
	s.vms[0].migrate_to = 0;
	s.vms[0].memory_mb = 1024;
	/* CPU class: live needs the same, offline does not */
	snprintf(s.nodes[2].cpu, sizeof(s.nodes[2].cpu), "amd-25");
	assert_int_equal(check(&s, "a", 3, false, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "CPU class differs (h1: intel-6, h3: amd-25)"));
	assert_int_equal(check(&s, "a", 3, true, why, sizeof(why)), 0);
	/* no peer channel: live impossible */
	s.nodes[1].peer_addr[0] = '\0';
	assert_int_equal(check(&s, "a", 2, false, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "no peer channel"));
	assert_int_equal(check(&s, "a", 2, true, why, sizeof(why)), 0);
	/* destinations that take no VMs */
	s.nodes[1].flags = NODE_FLAG_MAINTENANCE;
	assert_int_equal(check(&s, "a", 2, true, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "h2 takes no VMs (maintenance)"));
	s.nodes[1].flags = 0;
	s.nodes[1].state = NODE_STATE_UNCLEAN;
	assert_int_equal(check(&s, "a", 2, true, why, sizeof(why)), -EINVAL);
	s.nodes[1].state = NODE_STATE_ONLINE;
	/* anti-affinity: c (group g) on h2 keeps a (group g) away */
	snprintf(s.vms[0].ha.anti_affinity, sizeof(s.vms[0].ha.anti_affinity), "g");
	snprintf(s.vms[2].ha.anti_affinity, sizeof(s.vms[2].ha.anti_affinity), "g");
	assert_int_equal(check(&s, "a", 2, true, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "anti-affinity group g: h2 already runs c"));
	/* the freeze refuses everything */
	s.frozen = true;
	assert_int_equal(check(&s, "b", 3, true, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "cluster is in maintenance"));
	state_free(&s);
}

static int
apply(struct state *s, Xenmesh__Op *op, char *why, size_t len)
{
	return state_apply(s, s->epoch, s->seq + 1, op, why, len);
}

static void
test_migrate_op(void **unused)
{
	struct state s;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmMigrate m = XENMESH__OP_VM_MIGRATE__INIT;
	char why[256] = "";
	const struct vm_rec *v;

	(void)unused;
	cluster(&s);
	m.name = "b";
	m.host = 2;
	m.has_now_ms = true;
	m.now_ms = 5000;
	op.kind_case = XENMESH__OP__KIND_VM_MIGRATE;
	op.vm_migrate = &m;
	/* refused with the check's reason, state unchanged */
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -ENOSPC);
	assert_int_equal(s.seq, 0);
	m.host = 3;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), 0);
	v = state_vm(&s, "b");
	assert_int_equal(v->state, VM_STATE_MIGRATING);
	assert_int_equal(v->host, 1);
	assert_int_equal(v->migrate_to, 3);
	assert_int_equal(v->migrate_since_ms, 5000);
	assert_false(v->migrate_offline);
	/* a second one of the same VM is refused: it is not running */
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EBUSY);
	m.name = "zz";
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -ENOENT);
	m.name = "a";
	m.host = 9;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -ENOENT);
	state_free(&s);
}

/* The commit and the abort are plain VM sets; migrating needs both ends. */
static void
test_vm_set_migrating(void **unused)
{
	struct state s;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmSet set = XENMESH__OP_VM_SET__INIT;
	char why[256] = "";
	const struct vm_rec *v;

	(void)unused;
	cluster(&s);
	set.name = "a";
	set.state = "migrating";
	set.has_host = true;
	set.host = 1;
	op.kind_case = XENMESH__OP__KIND_VM_SET;
	op.vm_set = &set;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EINVAL);
	set.has_migrate_to = true;
	set.migrate_to = 1;             /* its own source */
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EINVAL);
	set.migrate_to = 2;
	set.has_now_ms = true;
	set.now_ms = 77;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), 0);
	v = state_vm(&s, "a");
	assert_int_equal(v->migrate_to, 2);
	assert_int_equal(v->migrate_since_ms, 77);
	/* the commit: running on the destination, the destination cleared */
	set.state = "running";
	set.host = 2;
	set.has_migrate_to = false;
	set.has_drain_skip = true;
	set.drain_skip = 1;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), 0);
	assert_int_equal(v->host, 2);
	assert_int_equal(v->migrate_to, 0);
	assert_int_equal(v->migrate_since_ms, 0);
	assert_int_equal(v->drain_skip, 1);
	/* a destination only with state migrating */
	set.has_migrate_to = true;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EINVAL);
	state_free(&s);
}

static void
test_drain_ops(void **unused)
{
	struct state s;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeDrain d = XENMESH__OP_NODE_DRAIN__INIT;
	Xenmesh__OpClusterMaintenance cm = XENMESH__OP_CLUSTER_MAINTENANCE__INIT;
	char why[256] = "";

	(void)unused;
	cluster(&s);
	s.vms[0].drain_skip = 1;
	s.vms[2].drain_skip = 2;
	d.id = 1;
	d.on = true;
	op.kind_case = XENMESH__OP__KIND_NODE_DRAIN;
	op.node_drain = &d;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EINVAL);   /* no parallel */
	d.has_parallel = true;
	d.parallel = DRAIN_PARALLEL_MAX + 1;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EINVAL);
	d.parallel = 3;
	d.has_force = true;
	d.force = true;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), 0);
	assert_int_equal(s.nodes[0].flags, NODE_FLAG_MAINTENANCE | NODE_FLAG_DRAINING);
	assert_int_equal(s.nodes[0].drain_parallel, 3);
	assert_true(s.nodes[0].drain_force);
	/* a new drain gives the VMs of this host another chance, not others */
	assert_int_equal(s.vms[0].drain_skip, 0);
	assert_int_equal(s.vms[2].drain_skip, 2);
	d.on = false;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), 0);
	assert_int_equal(s.nodes[0].flags, 0);
	assert_int_equal(s.nodes[0].drain_parallel, 0);
	d.id = 9;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -ENOENT);
	s.nodes[2].role = NODE_ROLE_SAN;
	d.id = 3;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EINVAL);
	/* the freeze: on, and no drain while it is on */
	op.kind_case = XENMESH__OP__KIND_CLUSTER_MAINTENANCE;
	op.cluster_maintenance = &cm;
	cm.on = true;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), 0);
	assert_true(s.frozen);
	op.kind_case = XENMESH__OP__KIND_NODE_DRAIN;
	op.node_drain = &d;             /* one union with cluster_maintenance */
	d.id = 2;
	d.on = true;
	assert_int_equal(apply(&s, &op, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "cluster is in maintenance"));
	state_free(&s);
}

/* The new fields survive the packed state and equal states pack equal. */
static void
test_pack_round_trip(void **unused)
{
	struct state s, t;
	uint8_t *b1, *b2;
	size_t l1, l2;
	char why[256] = "";

	(void)unused;
	cluster(&s);
	s.frozen = true;
	s.nodes[0].flags = NODE_FLAG_MAINTENANCE | NODE_FLAG_DRAINING;
	s.nodes[0].drain_parallel = 4;
	s.nodes[0].drain_force = true;
	s.vms[1].state = VM_STATE_MIGRATING;
	s.vms[1].migrate_to = 3;
	s.vms[1].migrate_offline = true;
	s.vms[1].migrate_since_ms = 123;
	s.vms[1].storage_gen = 1;
	s.vms[1].storage_dest = 3;
	s.vms[0].drain_skip = 1;
	assert_int_equal(state_pack(&s, &b1, &l1), 0);
	if (state_unpack(b1, l1, &t, why, sizeof(why)) != 0)
		fail_msg("unpack: %s", why);
	assert_true(t.frozen);
	assert_string_equal(t.nodes[0].cpu, "intel-6");
	assert_string_equal(t.nodes[1].peer_addr, "10.0.0.2:7420");
	assert_int_equal(t.nodes[0].drain_parallel, 4);
	assert_true(t.nodes[0].drain_force);
	assert_int_equal(t.vms[1].migrate_to, 3);
	assert_true(t.vms[1].migrate_offline);
	assert_int_equal(t.vms[1].migrate_since_ms, 123);
	assert_int_equal(t.vms[1].storage_dest, 3);
	assert_int_equal(t.vms[0].drain_skip, 1);
	assert_int_equal(state_pack(&t, &b2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(b1);
	free(b2);
	state_free(&s);
	state_free(&t);
}

static void
test_san_admits_destination(void **unused)
{
	struct state s;
	struct vol_rec vol;

	(void)unused;
	cluster(&s);
	memset(&vol, 0, sizeof(vol));
	snprintf(vol.name, sizeof(vol.name), "a-root");
	snprintf(vol.vm, sizeof(vol.vm), "a");
	snprintf(vol.disk, sizeof(vol.disk), "root");
	vol.state = VOL_STATE_READY;
	vol.lun = 1;
	s.vols = &vol;
	s.n_vols = 1;
	assert_int_equal(san_admitted_host(&s, "a"), 1);
	assert_int_equal(san_admitted_dest(&s, "a"), 0);
	s.vms[0].state = VM_STATE_MIGRATING;
	s.vms[0].migrate_to = 2;
	assert_int_equal(san_admitted_host(&s, "a"), 1);
	assert_int_equal(san_admitted_dest(&s, "a"), 2);
	/* not an offline move (the source stops first), not an unclean or
	 * storage-fenced destination */
	s.vms[0].migrate_offline = true;
	assert_int_equal(san_admitted_dest(&s, "a"), 0);
	s.vms[0].migrate_offline = false;
	s.nodes[1].state = NODE_STATE_UNCLEAN;
	assert_int_equal(san_admitted_dest(&s, "a"), 0);
	s.nodes[1].state = NODE_STATE_ONLINE;
	s.nodes[1].flags = NODE_FLAG_STORAGE_FENCED;
	assert_int_equal(san_admitted_dest(&s, "a"), 0);
	s.vols = NULL;
	s.n_vols = 0;
	state_free(&s);
}

/* A clean stop that would cost the others quorum waits for their VMs. */
static void
test_leave_strands(void **unused)
{
	struct state s;
	char names[64];

	(void)unused;
	cluster(&s);
	/* 3 of 3 votes, 2 needed: h3 leaving leaves 2, enough */
	assert_int_equal(maint_leave_strands(&s, 3, 3, 2, names, sizeof(names)), 0);
	assert_string_equal(names, "");
	/* 2 of 3 votes (one gone already): h3 leaving strands a, b, c */
	assert_int_equal(maint_leave_strands(&s, 3, 2, 2, names, sizeof(names)), 3);
	assert_string_equal(names, "a on h1, b on h1, c on h2");
	/* its own VMs are not the question (they are drained first) */
	assert_int_equal(maint_leave_strands(&s, 1, 2, 2, names, sizeof(names)), 1);
	assert_string_equal(names, "c on h2");
	/* stopped VMs hold nothing */
	s.vms[2].state = VM_STATE_STOPPED;
	s.vms[2].host = 0;
	assert_int_equal(maint_leave_strands(&s, 1, 2, 2, names, sizeof(names)), 0);
	/* names too long are cut at a whole name; the count stays exact */
	s.vms[0].state = VM_STATE_STOPPING;
	assert_int_equal(maint_leave_strands(&s, 3, 2, 2, names, 12), 2);
	assert_string_equal(names, "a on h1");
	/* a quorum device's vote counts like a node's */
	assert_int_equal(maint_leave_strands(&s, 3, 3, 2, names, sizeof(names)), 0);
	/* the online hosts already leaving count as gone: h2 marked, h3
	 * leaving too would strand b on h1 (3 votes - 2 < 2) */
	s.nodes[1].flags |= NODE_FLAG_LEAVING;
	s.vms[0].state = VM_STATE_STOPPED;
	s.vms[0].host = 0;
	assert_int_equal(maint_leave_strands(&s, 3, 3, 2, names, sizeof(names)), 1);
	assert_string_equal(names, "b on h1");
	/* one that has left (offline) is in the votes no more */
	s.nodes[1].state = NODE_STATE_OFFLINE;
	assert_int_equal(maint_leave_strands(&s, 3, 3, 2, names, sizeof(names)), 0);
	state_free(&s);
}

static Xenmesh__Op *
op_leaving(uint32_t id, uint32_t votes, uint32_t quorum)
{
	static Xenmesh__Op op;
	static Xenmesh__OpNodeFlags nf;

	xenmesh__op__init(&op);
	xenmesh__op_node_flags__init(&nf);
	nf.id = id;
	nf.set = NODE_FLAG_LEAVING;
	nf.has_votes = votes != 0;
	nf.votes = votes;
	nf.has_quorum = votes != 0;
	nf.quorum = quorum;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &nf;
	return &op;
}

/* Two hosts stopping at once, checked in commit order where every member
 * applies: the second is refused while the first's mark stands. */
static void
test_leaving_mark(void **unused)
{
	struct state s;
	char why[200];
	Xenmesh__Op ns_op = XENMESH__OP__INIT;
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;

	(void)unused;
	cluster(&s);
	/* c on h2 runs: h2 cannot leave */
	assert_int_equal(state_apply(&s, 1, 1, op_leaving(2, 3, 2), why, sizeof(why)),
			 -EBUSY);
	assert_string_equal(why, "h2 cannot leave: VM c is still running there");
	/* a failed VM left with its host runs nothing: no obstacle */
	s.vms[2].state = VM_STATE_FAILED;
	assert_int_equal(maint_leave_check(&s, 2, 3, 2, why, sizeof(why)), 0);
	s.vms[2].state = VM_STATE_RUNNING;
	/* without the votes it saw: refused */
	assert_int_equal(state_apply(&s, 1, 1, op_leaving(3, 0, 0), why, sizeof(why)),
			 -EINVAL);
	/* h3 holds nothing and 3 votes leave 2: marked */
	assert_int_equal(state_apply(&s, 1, 1, op_leaving(3, 3, 2), why, sizeof(why)), 0);
	assert_true(state_node(&s, 3)->flags & NODE_FLAG_LEAVING);
	/* h1's VMs gone too, h2's left: h1 leaving as well would strand c */
	s.vms[0].state = s.vms[1].state = VM_STATE_STOPPED;
	s.vms[0].host = s.vms[1].host = 0;
	assert_int_equal(state_apply(&s, 1, 2, op_leaving(1, 3, 2), why, sizeof(why)),
			 -EBUSY);
	assert_string_equal(why, "h1 leaving would cost the others quorum while "
			    "1 VM(s) run there (c on h2)");
	/* once c stops, h1 may go as well */
	s.vms[2].state = VM_STATE_STOPPED;
	s.vms[2].host = 0;
	assert_int_equal(state_apply(&s, 1, 2, op_leaving(1, 3, 2), why, sizeof(why)), 0);
	/* back online: the mark is gone */
	ns.id = 3;
	ns.state = XENMESH__NODE_STATE__NODE_ONLINE;
	ns_op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	ns_op.node_state = &ns;
	assert_int_equal(state_apply(&s, 1, 3, &ns_op, why, sizeof(why)), 0);
	assert_false(state_node(&s, 3)->flags & NODE_FLAG_LEAVING);
	state_free(&s);
}

static void
test_cpu_class(void **unused)
{
	char buf[64];

	(void)unused;
	assert_int_equal(cpu_class_parse("processor\t: 0\nvendor_id\t: GenuineIntel\n"
					 "cpu family\t: 6\nmodel\t\t: 85\n\n"
					 "processor\t: 1\nvendor_id\t: Other\n",
					 buf, sizeof(buf)), 0);
	assert_string_equal(buf, "GenuineIntel-6");
	assert_int_equal(cpu_class_parse("vendor_id : AuthenticAMD\ncpu family : 25\n",
					 buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AuthenticAMD-25");
	/* only the first processor counts */
	assert_int_equal(cpu_class_parse("vendor_id\t: X\n\ncpu family\t: 6\n", buf,
					 sizeof(buf)), -ENOENT);
	assert_int_equal(cpu_class_parse("", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cpu_class_parse("vendor_id\t:\ncpu family\t: 6\n", buf,
					 sizeof(buf)), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_check),
		cmocka_unit_test(test_migrate_op),
		cmocka_unit_test(test_vm_set_migrating),
		cmocka_unit_test(test_drain_ops),
		cmocka_unit_test(test_pack_round_trip),
		cmocka_unit_test(test_san_admits_destination),
		cmocka_unit_test(test_cpu_class),
		cmocka_unit_test(test_leave_strands),
		cmocka_unit_test(test_leaving_mark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
