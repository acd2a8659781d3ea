/* Unit tests of ha/voltable.c: volume ops (refusals first), LUN numbers,
 * the active SAN node, per-VM storage generation, the storage-fenced flag,
 * and their part of the packed state (round trip, corrupt input). */
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

#include "state.h"
#include "voltable.h"
#include "xm_error.h"

struct ops {
	Xenmesh__Op op;
	Xenmesh__OpNodeInfo info;
	Xenmesh__OpNodeFlags flags;
	Xenmesh__OpVolumeCreate vc;
	Xenmesh__OpVolumeSet vs;
	Xenmesh__OpVolumeRemove vr;
	Xenmesh__OpSanActive sa;
	Xenmesh__OpVmStorage st;
	Xenmesh__OpVmDefine def;
	Xenmesh__OpVmSet set;
	Xenmesh__OpVmWant want;
	Xenmesh__VmHa ha;
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

static Xenmesh__Op *
node(struct ops *o, uint32_t id, const char *name, int role)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_node_info__init(&o->info);
	o->info.id = id;
	o->info.name = (char *)name;
	o->info.role = (Xenmesh__NodeRole)role;
	o->info.mem_total_mb = 4096;
	o->info.mem_free_mb = 4096;
	o->op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	o->op.node_info = &o->info;
	return &o->op;
}

static Xenmesh__Op *
san_active(struct ops *o, uint32_t id)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_san_active__init(&o->sa);
	o->sa.id = id;
	o->op.kind_case = XENMESH__OP__KIND_SAN_ACTIVE;
	o->op.san_active = &o->sa;
	return &o->op;
}

static Xenmesh__Op *
vcreate(struct ops *o, const char *vm, const char *disk, uint64_t size)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_volume_create__init(&o->vc);
	o->vc.vm = (char *)vm;
	o->vc.disk = (char *)disk;
	o->vc.size_bytes = size;
	o->op.kind_case = XENMESH__OP__KIND_VOLUME_CREATE;
	o->op.volume_create = &o->vc;
	return &o->op;
}

static Xenmesh__Op *
vset(struct ops *o, const char *name, const char *state, const char *reason)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_volume_set__init(&o->vs);
	o->vs.name = (char *)name;
	o->vs.state = (char *)state;
	o->vs.reason = (char *)reason;
	o->op.kind_case = XENMESH__OP__KIND_VOLUME_SET;
	o->op.volume_set = &o->vs;
	return &o->op;
}

static Xenmesh__Op *
vremove(struct ops *o, const char *name)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_volume_remove__init(&o->vr);
	o->vr.name = (char *)name;
	o->op.kind_case = XENMESH__OP__KIND_VOLUME_REMOVE;
	o->op.volume_remove = &o->vr;
	return &o->op;
}

static Xenmesh__Op *
vm_define(struct ops *o, const char *name)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_define__init(&o->def);
	xenmesh__vm_ha__init(&o->ha);
	o->def.name = (char *)name;
	o->def.config = "name = \"x\"\n";
	o->def.memory_mb = 128;
	o->ha.restart = "on-failure";
	o->def.ha = &o->ha;
	o->op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	o->op.vm_define = &o->def;
	return &o->op;
}

static Xenmesh__Op *
vm_set(struct ops *o, const char *name, const char *state, uint32_t host,
       uint64_t gen)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_set__init(&o->set);
	o->set.name = (char *)name;
	o->set.state = (char *)state;
	o->set.has_host = host != 0;
	o->set.host = host;
	o->set.has_generation = gen != 0;
	o->set.generation = gen;
	o->op.kind_case = XENMESH__OP__KIND_VM_SET;
	o->op.vm_set = &o->set;
	return &o->op;
}

/* vm save (running false, save) or vm start --fresh (running, fresh) */
static Xenmesh__Op *
vm_want(struct ops *o, const char *name, bool running, bool save, bool fresh)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_want__init(&o->want);
	o->want.name = (char *)name;
	o->want.running = running;
	o->want.has_save = save;
	o->want.save = save;
	o->want.has_fresh = fresh;
	o->want.fresh = fresh;
	o->op.kind_case = XENMESH__OP__KIND_VM_WANT;
	o->op.vm_want = &o->want;
	return &o->op;
}

/* vm_set of the end of a save: stopped with the image of gen */
static Xenmesh__Op *
vm_saved(struct ops *o, const char *name, const char *state, uint64_t gen,
	 uint64_t bytes)
{
	vm_set(o, name, state, 0, 0);
	o->set.has_saved_gen = true;
	o->set.saved_gen = gen;
	o->set.has_saved_bytes = bytes != 0;
	o->set.saved_bytes = bytes;
	return &o->op;
}

static Xenmesh__Op *
vm_storage(struct ops *o, const char *name, uint64_t gen)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_storage__init(&o->st);
	o->st.name = (char *)name;
	o->st.generation = gen;
	o->op.kind_case = XENMESH__OP__KIND_VM_STORAGE;
	o->op.vm_storage = &o->st;
	return &o->op;
}

/* h1 (dom0), s1 (san), s1 active. */
static void
cluster(struct state *s)
{
	struct ops o;

	state_init(s);
	apply_ok(s, node(&o, 1, "h1", NODE_ROLE_DOM0));
	apply_ok(s, node(&o, 101, "s1", NODE_ROLE_SAN));
	apply_ok(s, san_active(&o, 101));
}

static void
expect_refused(struct state *s, Xenmesh__Op *op, int rc, const char *why_part)
{
	char why[256] = "";
	uint64_t seq = s->seq;

	assert_int_equal(apply(s, op, why, sizeof(why)), rc);
	if (strstr(why, why_part) == NULL)
		fail_msg("why '%s' lacks '%s'", why, why_part);
	assert_int_equal(s->seq, seq);          /* nothing changed */
}

/* `vm save` and the image it leaves: who may ask, what the state keeps,
 * when the image is gone, and its volume kept while it holds one. */
static void
test_save_image(void **unused)
{
	const struct vm_rec *v;
	struct state s;
	struct ops o;

	(void)unused;
	cluster(&s);
	apply_ok(&s, vm_define(&o, "web"));
	expect_refused(&s, vm_want(&o, "web", false, true, false), -EBUSY,
		       "VM web is stopped: only a running VM can be saved");
	apply_ok(&s, vm_set(&o, "web", "running", 1, 1));
	expect_refused(&s, vm_want(&o, "web", false, true, false), -ENOENT,
		       "its save volume web-save is missing");
	apply_ok(&s, vcreate(&o, "web", VM_SAVE_DISK, 192 << 20));
	expect_refused(&s, vm_want(&o, "web", false, true, false), -ENOENT,
		       "its save volume web-save is not ready");
	apply_ok(&s, vset(&o, "web-save", "ready", NULL));
	expect_refused(&s, vm_want(&o, "web", true, true, false), -EINVAL,
		       "a save goes with a stop");
	expect_refused(&s, vm_want(&o, "web", false, false, true), -EINVAL,
		       "fresh goes with a start");
	/* an image only for a stopped VM, of a generation it had */
	vm_saved(&o, "web", "running", 1, 10);
	o.set.has_host = true;
	o.set.host = 1;
	expect_refused(&s, &o.op, -EINVAL, "only for a stopped VM");
	expect_refused(&s, vm_saved(&o, "web", "stopped", 2, 10), -EINVAL,
		       "one of its own generations");

	apply_ok(&s, vm_want(&o, "web", false, true, false));
	v = state_vm(&s, "web");
	assert_true(v->save_requested);
	assert_false(v->want_running);
	apply_ok(&s, vm_set(&o, "web", "stopping", 1, 0));
	assert_true(state_vm(&s, "web")->save_requested);      /* still saving */
	apply_ok(&s, vm_saved(&o, "web", "stopped", 1, 5000));
	v = state_vm(&s, "web");
	assert_false(v->save_requested);
	assert_int_equal(v->saved_gen, 1);
	assert_int_equal(v->saved_bytes, 5000);
	expect_refused(&s, vset(&o, "web-save", "removing", NULL), -EBUSY,
		       "holds the save image of VM web");
	expect_refused(&s, vm_define(&o, "web"), -EBUSY,
		       "VM web has a save image: resume it, or discard it");
	/* a start that failed keeps it; running from anywhere ends it */
	apply_ok(&s, vm_set(&o, "web", "starting", 1, 2));
	apply_ok(&s, vm_set(&o, "web", "stopped", 0, 0));
	assert_int_equal(state_vm(&s, "web")->saved_gen, 1);
	apply_ok(&s, vm_set(&o, "web", "running", 1, 3));
	assert_int_equal(state_vm(&s, "web")->saved_gen, 0);
	assert_int_equal(state_vm(&s, "web")->saved_bytes, 0);
	/* a host lost mid-resume: recovering ends it too */
	apply_ok(&s, vm_saved(&o, "web", "stopped", 3, 5000));
	apply_ok(&s, vm_set(&o, "web", "recovering", 1, 0));
	assert_int_equal(state_vm(&s, "web")->saved_gen, 0);
	/* --fresh discards it */
	apply_ok(&s, vm_saved(&o, "web", "stopped", 3, 5000));
	apply_ok(&s, vm_want(&o, "web", true, false, true));
	assert_int_equal(state_vm(&s, "web")->saved_gen, 0);
	/* a stop that is not a save ends save_requested */
	apply_ok(&s, vm_set(&o, "web", "running", 1, 4));
	apply_ok(&s, vm_want(&o, "web", false, true, false));
	apply_ok(&s, vm_set(&o, "web", "running", 1, 0));
	assert_false(state_vm(&s, "web")->save_requested);
	/* no image: the volume may go */
	apply_ok(&s, vm_set(&o, "web", "stopped", 0, 0));
	apply_ok(&s, vset(&o, "web-save", "removing", NULL));
	state_free(&s);
}

static void
test_create_refusals(void **unused)
{
	struct state s;
	struct ops o;

	(void)unused;
	state_init(&s);
	apply_ok(&s, node(&o, 1, "h1", NODE_ROLE_DOM0));
	expect_refused(&s, vcreate(&o, "vm1", "root", 1 << 20), -ENODEV,
		       "no active SAN node");
	expect_refused(&s, san_active(&o, 1), -EINVAL, "not a SAN node");
	state_free(&s);

	cluster(&s);
	expect_refused(&s, vcreate(&o, "vm1", "root", 1000), -EINVAL, "multiple of 512");
	expect_refused(&s, vcreate(&o, "vm1", "root", 0), -EINVAL, "multiple of 512");
	expect_refused(&s, vcreate(&o, "vm1", "root", VOL_SIZE_MAX + 512), -EINVAL,
		       "16 TiB");
	expect_refused(&s, vcreate(&o, "VM1", "root", 1 << 20), -EINVAL,
		       "iSCSI name");
	expect_refused(&s, vcreate(&o, "my_vm", "root", 1 << 20), -EINVAL,
		       "iSCSI name");
	expect_refused(&s, vcreate(&o, "vm1", "Root", 1 << 20), -EINVAL,
		       "only lowercase");
	expect_refused(&s, vcreate(&o, "vm1", "", 1 << 20), -EINVAL, "empty");
	expect_refused(&s, vcreate(&o, "vm1", "a-b", 1 << 20), -EINVAL, "only lowercase");
	expect_refused(&s, vcreate(&o, "vm1", "abcdefghijklmnopqrstuvwxyz", 1 << 20),
		       -EINVAL, "longer than");
	apply_ok(&s, vcreate(&o, "vm1", "root", 1 << 20));
	expect_refused(&s, vcreate(&o, "vm1", "root", 1 << 20), -EEXIST,
		       "volume vm1-root already exists");
	state_free(&s);
}

static void
test_luns_and_states(void **unused)
{
	struct state s, copy;
	struct ops o;
	char name[16];

	(void)unused;
	cluster(&s);
	apply_ok(&s, vcreate(&o, "vm1", "root", 64 << 20));
	apply_ok(&s, vcreate(&o, "vm1", "swap", 16 << 20));
	apply_ok(&s, vcreate(&o, "vm2", "root", 64 << 20));
	assert_int_equal(s.n_vols, 3);
	assert_int_equal(state_vol(&s, "vm1-root")->lun, 1);
	assert_int_equal(state_vol(&s, "vm1-swap")->lun, 2);
	assert_int_equal(state_vol(&s, "vm2-root")->lun, 1);
	assert_int_equal(state_vol(&s, "vm1-root")->state, VOL_STATE_CREATING);
	assert_true(state_vm_has_volumes(&s, "vm1"));
	assert_false(state_vm_has_volumes(&s, "vm3"));

	/* a freed LUN is reused; a VM holds at most 15 */
	apply_ok(&s, vset(&o, "vm1-root", "failed", "no space left in vgsan"));
	assert_string_equal(state_vol(&s, "vm1-root")->reason, "no space left in vgsan");
	apply_ok(&s, vremove(&o, "vm1-root"));
	assert_null(state_vol(&s, "vm1-root"));
	apply_ok(&s, vcreate(&o, "vm1", "data", 1 << 20));
	assert_int_equal(state_vol(&s, "vm1-data")->lun, 1);
	for (int i = 3; i <= VOL_MAX_PER_VM; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		apply_ok(&s, vcreate(&o, "vm1", name, 1 << 20));
	}
	expect_refused(&s, vcreate(&o, "vm1", "more", 1 << 20), -ENOSPC, "15 volumes");

	expect_refused(&s, vset(&o, "vm9-root", "ready", NULL), -ENOENT, "no volume");
	expect_refused(&s, vset(&o, "vm2-root", "gone", NULL), -EINVAL, "not creating");
	expect_refused(&s, vremove(&o, "vm9-root"), -ENOENT, "no volume");

	assert_int_equal(state_copy(&copy, &s), 0);
	assert_int_equal(copy.n_vols, s.n_vols);
	assert_string_equal(copy.vols[0].name, s.vols[0].name);
	assert_ptr_not_equal(copy.vols, s.vols);
	state_free(&copy);
	state_free(&s);
}

static void
test_remove_refused_in_use(void **unused)
{
	struct state s;
	struct ops o;

	(void)unused;
	cluster(&s);
	apply_ok(&s, vcreate(&o, "vm1", "root", 1 << 20));
	apply_ok(&s, vset(&o, "vm1-root", "ready", NULL));
	apply_ok(&s, vm_define(&o, "vm1"));
	apply_ok(&s, vm_set(&o, "vm1", "running", 1, 3));
	expect_refused(&s, vset(&o, "vm1-root", "removing", NULL), -EBUSY,
		       "volume vm1-root is in use: VM vm1 is running; stop it first");
	apply_ok(&s, vm_set(&o, "vm1", "stopped", 0, 0));
	apply_ok(&s, vset(&o, "vm1-root", "removing", NULL));
	state_free(&s);
}

static void
test_vm_storage_and_flag(void **unused)
{
	struct state s;
	struct ops o;

	(void)unused;
	cluster(&s);
	expect_refused(&s, vm_storage(&o, "vm1", 2), -ENOENT, "no VM named vm1");
	apply_ok(&s, vm_define(&o, "vm1"));
	apply_ok(&s, vm_set(&o, "vm1", "starting", 1, 2));
	assert_int_equal(state_vm(&s, "vm1")->storage_gen, 0);
	apply_ok(&s, vm_storage(&o, "vm1", 2));
	assert_int_equal(state_vm(&s, "vm1")->storage_gen, 2);

	/* the storage-fenced flag is a node flag like the others */
	xenmesh__op__init(&o.op);
	xenmesh__op_node_flags__init(&o.flags);
	o.flags.id = 1;
	o.flags.set = NODE_FLAG_STORAGE_FENCED;
	o.op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	o.op.node_flags = &o.flags;
	apply_ok(&s, &o.op);
	assert_true(state_node(&s, 1)->flags & NODE_FLAG_STORAGE_FENCED);
	/* ... but no admin word names it */
	uint32_t bit;

	assert_int_equal(node_flag_parse("storage-fenced", &bit), -EINVAL);
	state_free(&s);
}

static void
test_pack_round_trip(void **unused)
{
	struct state s, back;
	struct ops o;
	uint8_t *buf, d1[STATE_DIGEST_LEN], d2[STATE_DIGEST_LEN];
	size_t len;
	char why[256];

	(void)unused;
	cluster(&s);
	apply_ok(&s, vcreate(&o, "vm1", "root", 1 << 20));
	apply_ok(&s, vcreate(&o, "vm1", "swap", 1 << 20));
	apply_ok(&s, vset(&o, "vm1-swap", "failed", "lvcreate: no space"));
	apply_ok(&s, vm_define(&o, "vm1"));
	apply_ok(&s, vm_set(&o, "vm1", "starting", 1, 7));
	apply_ok(&s, vm_storage(&o, "vm1", 7));
	assert_int_equal(state_pack(&s, &buf, &len), 0);
	assert_int_equal(state_unpack(buf, len, &back, why, sizeof(why)), 0);
	assert_int_equal(back.active_san, 101);
	assert_int_equal(back.n_vols, 2);
	assert_int_equal(state_vol(&back, "vm1-swap")->state, VOL_STATE_FAILED);
	assert_string_equal(state_vol(&back, "vm1-swap")->reason, "lvcreate: no space");
	assert_int_equal(state_vol(&back, "vm1-swap")->lun, 2);
	assert_int_equal(state_vm(&back, "vm1")->storage_gen, 7);
	assert_int_equal(state_digest(&s, d1), 0);
	assert_int_equal(state_digest(&back, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	free(buf);
	state_free(&back);
	state_free(&s);
}

/* A snapshot whose volume table lies is refused whole. */
static void
test_unpack_refuses_bad_volumes(void **unused)
{
	struct state s, back;
	struct ops o;
	Xenmesh__State *m;
	uint8_t *buf, *bad;
	size_t len, badlen;
	char why[256];

	(void)unused;
	cluster(&s);
	apply_ok(&s, vcreate(&o, "vm1", "root", 1 << 20));
	assert_int_equal(state_pack(&s, &buf, &len), 0);
	m = xenmesh__state__unpack(NULL, len, buf);
	assert_non_null(m);

	m->volumes[0]->lun = 99;                        /* out of range */
	badlen = xenmesh__state__get_packed_size(m);
	bad = malloc(badlen);
	xenmesh__state__pack(m, bad);
	assert_int_equal(state_unpack(bad, badlen, &back, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "volume 0"));
	assert_int_equal(back.n_vols, 0);
	free(bad);

	m->volumes[0]->lun = 1;
	m->active_san = 1;                              /* a dom0 */
	badlen = xenmesh__state__get_packed_size(m);
	bad = malloc(badlen);
	xenmesh__state__pack(m, bad);
	assert_int_equal(state_unpack(bad, badlen, &back, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "not a SAN node"));
	free(bad);

	xenmesh__state__free_unpacked(m, NULL);
	free(buf);
	state_free(&s);
}

/* A VM whose config came without its HA settings (or the reverse) would
 * not pack back to the same bytes: refused whole (found by fuzz_state). */
static void
test_unpack_refuses_vm_without_ha(void **unused)
{
	struct state s, back;
	struct ops o;
	Xenmesh__State *m;
	uint8_t *buf, *bad;
	size_t len, badlen;
	char why[256];

	(void)unused;
	cluster(&s);
	apply_ok(&s, vm_define(&o, "vm1"));
	assert_int_equal(state_pack(&s, &buf, &len), 0);
	m = xenmesh__state__unpack(NULL, len, buf);
	assert_non_null(m);
	assert_non_null(m->vms[0]->ha);
	Xenmesh__VmHa *ha = m->vms[0]->ha;

	m->vms[0]->ha = NULL;
	badlen = xenmesh__state__get_packed_size(m);
	bad = malloc(badlen);
	xenmesh__state__pack(m, bad);
	assert_int_equal(state_unpack(bad, badlen, &back, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "VM vm1 has a config but no HA settings");
	free(bad);
	m->vms[0]->ha = ha;
	xenmesh__state__free_unpacked(m, NULL);
	free(buf);
	state_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_luns_and_states),
		cmocka_unit_test(test_remove_refused_in_use),
		cmocka_unit_test(test_vm_storage_and_flag),
		cmocka_unit_test(test_pack_round_trip),
		cmocka_unit_test(test_save_image),
		cmocka_unit_test(test_unpack_refuses_bad_volumes),
		cmocka_unit_test(test_unpack_refuses_vm_without_ha),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
