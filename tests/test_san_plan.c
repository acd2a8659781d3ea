/* Tests of storage/san_plan.c: what a SAN node exports (the per-VM storage
 * fence in the ACLs) and how its DRBD resources are brought to their roles,
 * as exact command lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdseq.h"
#include "san_plan.h"
#include "state.h"
#include "tgt.h"

#define PFX "iqn.2026-11.org.xenmesh"

static const struct san_plan_conf conf_file = {
	.iqn_prefix = PFX, .file_backend = true, .volume_dir = "/srv/vol",
};
static const struct san_plan_conf conf_drbd = {
	.iqn_prefix = PFX, .vg = "vgsan", .drbd = true,
};

/* A state built by hand: nodes h1 h2 h3 (dom0), s1 (san); VMs and
 * volumes as given. */
static void
add_node(struct state *s, uint32_t id, const char *name, enum node_role role,
	 enum node_state st, uint32_t flags)
{
	struct node_rec *n = &s->nodes[s->n_nodes++];

	memset(n, 0, sizeof(*n));
	n->id = id;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->role = role;
	n->state = st;
	n->flags = flags;
}

static void
add_vm(struct state *s, const char *name, enum vm_state st, uint32_t host)
{
	struct vm_rec *v;

	s->vms = realloc(s->vms, (s->n_vms + 1) * sizeof(*s->vms));
	v = &s->vms[s->n_vms++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->state = st;
	v->host = host;
	v->generation = 1;
	v->config = strdup("");
}

static void
add_vol(struct state *s, const char *vm, const char *disk, uint32_t lun,
	uint32_t minor, enum vol_state st)
{
	struct vol_rec *v;

	s->vols = realloc(s->vols, (s->n_vols + 1) * sizeof(*s->vols));
	v = &s->vols[s->n_vols++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s-%s", vm, disk);
	snprintf(v->vm, sizeof(v->vm), "%s", vm);
	snprintf(v->disk, sizeof(v->disk), "%s", disk);
	v->lun = lun;
	v->minor = minor;
	v->size_bytes = 1 << 20;
	v->state = st;
}

static void
cluster(struct state *s)
{
	state_init(s);
	add_node(s, 1, "h1", NODE_ROLE_DOM0, NODE_STATE_ONLINE, 0);
	add_node(s, 2, "h2", NODE_ROLE_DOM0, NODE_STATE_UNCLEAN, NODE_FLAG_STORAGE_FENCED);
	add_node(s, 3, "h3", NODE_ROLE_DOM0, NODE_STATE_FENCED, 0);
	add_node(s, 101, "s1", NODE_ROLE_SAN, NODE_STATE_ONLINE, 0);
	/* VMs sorted by name */
	add_vm(s, "a", VM_STATE_RUNNING, 1);
	add_vm(s, "b", VM_STATE_RECOVERING, 2);         /* host storage-fenced */
	add_vm(s, "c", VM_STATE_RECOVERING, 3);         /* host fenced */
	add_vm(s, "d", VM_STATE_STOPPED, 0);
	add_vm(s, "e", VM_STATE_STARTING, 1);
	add_vol(s, "a", "root", 1, 0, VOL_STATE_READY);
	add_vol(s, "a", "swap", 2, 1, VOL_STATE_READY);
	add_vol(s, "b", "root", 1, 2, VOL_STATE_READY);
	add_vol(s, "c", "root", 1, 3, VOL_STATE_READY);
	add_vol(s, "d", "root", 1, 4, VOL_STATE_READY);
	add_vol(s, "e", "root", 1, 5, VOL_STATE_CREATING);     /* not yet */
}

static const struct tgt_want_target *
target(const struct san_want *w, const char *iqn)
{
	for (size_t i = 0; i < w->want.n; i++)
		if (strcmp(w->want.targets[i].iqn, iqn) == 0)
			return &w->want.targets[i];
	return NULL;
}

static void
test_admitted_host(void **unused)
{
	struct state s;

	(void)unused;
	cluster(&s);
	assert_int_equal(san_admitted_host(&s, "a"), 1);
	assert_int_equal(san_admitted_host(&s, "b"), 0);        /* storage-fenced */
	assert_int_equal(san_admitted_host(&s, "c"), 0);        /* fenced */
	assert_int_equal(san_admitted_host(&s, "d"), 0);        /* no instance */
	assert_int_equal(san_admitted_host(&s, "e"), 1);        /* starting */
	assert_int_equal(san_admitted_host(&s, "zz"), 0);
	state_free(&s);
}

static void
test_want(void **unused)
{
	struct state s;
	struct san_want w;
	const struct tgt_want_target *t;

	(void)unused;
	cluster(&s);
	assert_int_equal(san_want_build(&s, &conf_file, false, NULL, NULL, &w), 0);
	assert_int_equal(w.want.n, 0);                  /* not serving: nothing */
	san_want_free(&w);

	assert_int_equal(san_want_build(&s, &conf_file, true, NULL, NULL, &w), 0);
	assert_int_equal(w.want.n, 4);                  /* a b c d; e still creating */
	assert_string_equal(w.want.iqn_prefix, PFX);
	t = target(&w, PFX ":a");
	assert_non_null(t);
	assert_int_equal(t->n_luns, 2);
	assert_int_equal(t->luns[0].lun, 1);
	assert_string_equal(t->luns[0].path, "/srv/vol/a-root.img");
	assert_int_equal(t->luns[1].lun, 2);
	assert_string_equal(t->luns[1].path, "/srv/vol/a-swap.img");
	assert_int_equal(t->n_acl, 1);
	assert_string_equal(t->acl[0], PFX ":h1");
	assert_int_equal(target(&w, PFX ":b")->n_acl, 0);
	assert_int_equal(target(&w, PFX ":c")->n_acl, 0);
	assert_int_equal(target(&w, PFX ":d")->n_acl, 0);
	assert_null(target(&w, PFX ":e"));
	san_want_free(&w);
	state_free(&s);
}

static bool
only_a_root(void *data, const struct vol_rec *v)
{
	(void)data;
	return strcmp(v->name, "a-root") == 0;
}

/* Under DRBD the LUN is the DRBD device, and only Primary resources go. */
static void
test_want_drbd(void **unused)
{
	struct state s;
	struct san_want w;
	const struct tgt_want_target *t;

	(void)unused;
	cluster(&s);
	assert_int_equal(san_want_build(&s, &conf_drbd, true, only_a_root, NULL, &w), 0);
	assert_int_equal(w.want.n, 1);
	t = target(&w, PFX ":a");
	assert_int_equal(t->n_luns, 1);
	assert_string_equal(t->luns[0].path, "/dev/drbd0");
	san_want_free(&w);
	state_free(&s);
}

static void
expect_lines(struct cmdseq *seq, const char *const *lines)
{
	char buf[512];
	size_t n = 0;

	while (lines[n] != NULL)
		n++;
	for (size_t i = 0; i < seq->n || i < n; i++) {
		if (i >= seq->n)
			fail_msg("missing line %zu: %s", i, lines[i]);
		assert_int_equal(cmdseq_format(seq, i, buf, sizeof(buf)), 0);
		if (i >= n)
			fail_msg("unexpected line %zu: %s", i, buf);
		assert_string_equal(buf, lines[i]);
	}
}

/* A SAN node taking over: the storage-fenced and fenced hosts are in no
 * ACL from the first command on; grants come after the LUNs. */
static void
test_takeover_commands(void **unused)
{
	static const char *const lines[] = {
		"tgtadm --lld iscsi --op new --mode target --tid 1 -T " PFX ":a",
		"tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b /srv/vol/a-root.img",
		"tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 2 -b /srv/vol/a-swap.img",
		"tgtadm --lld iscsi --op new --mode target --tid 2 -T " PFX ":b",
		"tgtadm --lld iscsi --op new --mode logicalunit --tid 2 --lun 1 -b /srv/vol/b-root.img",
		"tgtadm --lld iscsi --op new --mode target --tid 3 -T " PFX ":c",
		"tgtadm --lld iscsi --op new --mode logicalunit --tid 3 --lun 1 -b /srv/vol/c-root.img",
		"tgtadm --lld iscsi --op new --mode target --tid 4 -T " PFX ":d",
		"tgtadm --lld iscsi --op new --mode logicalunit --tid 4 --lun 1 -b /srv/vol/d-root.img",
		"tgtadm --lld iscsi --op bind --mode target --tid 1 -Q " PFX ":h1",
		NULL,
	};
	struct tgt_view empty = { 0 };
	struct tgt_conf tc = { 0 };
	struct state s;
	struct san_want w;
	struct cmdseq seq;
	char why[256];

	(void)unused;
	cluster(&s);
	assert_int_equal(san_want_build(&s, &conf_file, true, NULL, NULL, &w), 0);
	cmdseq_init(&seq);
	assert_int_equal(tgt_plan(&empty, &w.want, &tc, &seq, why, sizeof(why)), 0);
	expect_lines(&seq, lines);
	cmdseq_free(&seq);
	san_want_free(&w);
	state_free(&s);
}

/* ---- the mirror -------------------------------------------------------- */

static struct drbd_state
dstate(const char *role, const char *peer_role, const char *disk,
       const char *peer_disk, const char *conn)
{
	struct drbd_state st;

	memset(&st, 0, sizeof(st));
	snprintf(st.role, sizeof(st.role), "%s", role);
	snprintf(st.peer_role, sizeof(st.peer_role), "%s", peer_role);
	snprintf(st.disk, sizeof(st.disk), "%s", disk);
	snprintf(st.peer_disk, sizeof(st.peer_disk), "%s", peer_disk);
	snprintf(st.conn, sizeof(st.conn), "%s", conn);
	st.split_brain = strcmp(conn, "StandAlone") == 0;
	return st;
}

static int
plan(const struct san_mirror_in *in, const char *const *lines, char *why)
{
	struct cmdseq seq;
	int rc;

	cmdseq_init(&seq);
	why[0] = '\0';
	rc = san_mirror_plan(in, &seq, why, 256);
	expect_lines(&seq, lines);
	cmdseq_free(&seq);
	return rc;
}

static void
test_mirror_refusals(void **unused)
{
	static const char *const none[] = { NULL };
	struct drbd_state peer_primary = dstate("Secondary", "Primary", "UpToDate",
						"UpToDate", "Connected");
	struct drbd_state sb = dstate("Secondary", "Unknown", "UpToDate", "DUnknown",
				      "StandAlone");
	struct drbd_state outdated = dstate("Secondary", "Unknown", "Outdated",
					    "DUnknown", "WFConnection");
	struct drbd_state alone = dstate("Secondary", "Unknown", "UpToDate",
					 "DUnknown", "WFConnection");
	struct san_mirror_in in = { .res = "a-root", .version = DRBD_84, .up = true,
				    .role = SAN_MIRROR_PRIMARY };
	char why[256];

	(void)unused;
	in.st = &peer_primary;
	assert_int_equal(plan(&in, none, why), -EPERM);
	in.st = &sb;
	assert_int_equal(plan(&in, none, why), -EPERM);
	assert_non_null(strstr(why, "split brain"));
	in.st = &outdated;
	in.peer_fenced = true;
	assert_int_equal(plan(&in, none, why), -EPERM);  /* our disk is not UpToDate */
	/* the peer unreachable but not fenced in the agreed state: wait */
	in.st = &alone;
	in.peer_fenced = false;
	assert_int_equal(plan(&in, none, why), -EPERM);
	/* a fresh resource whose peer disk is UpToDate is no initial sync */
	struct drbd_state peer_up = dstate("Secondary", "Secondary", "Inconsistent",
					   "UpToDate", "Connected");
	in.st = &peer_up;
	in.fresh = true;
	assert_int_equal(plan(&in, none, why), -EPERM);
}

static void
test_mirror_plans(void **unused)
{
	static const char *const up_fresh[] = {
		"drbdadm create-md --force a-root", "drbdadm up a-root", NULL };
	static const char *const up_only[] = { "drbdadm up a-root", NULL };
	static const char *const initial[] = { "drbdadm primary --force a-root", NULL };
	static const char *const promote[] = { "drbdadm primary a-root", NULL };
	static const char *const demote[] = { "drbdadm secondary a-root", NULL };
	static const char *const none[] = { NULL };
	struct drbd_state new_pair = dstate("Secondary", "Secondary", "Inconsistent",
					    "Inconsistent", "Connected");
	struct drbd_state lost_peer = dstate("Secondary", "Unknown", "UpToDate",
					     "DUnknown", "WFConnection");
	struct drbd_state primary = dstate("Primary", "Secondary", "UpToDate",
					   "UpToDate", "Connected");
	struct san_mirror_in in = { .res = "a-root", .version = DRBD_84,
				    .role = SAN_MIRROR_PRIMARY };
	char why[256];

	(void)unused;
	/* not up: metadata only on a fresh LV, then up (both roles) */
	in.fresh = true;
	assert_int_equal(plan(&in, up_fresh, why), 0);
	in.fresh = false;
	in.role = SAN_MIRROR_SECONDARY;
	assert_int_equal(plan(&in, up_only, why), 0);

	/* the one --force: a brand-new pair */
	in.up = true;
	in.role = SAN_MIRROR_PRIMARY;
	in.fresh = true;
	in.st = &new_pair;
	assert_int_equal(plan(&in, initial, why), 0);
	/* the same state, not fresh (made before a restart): never forced */
	in.fresh = false;
	assert_int_equal(plan(&in, none, why), -EPERM);

	/* failover: UpToDate, the old active fenced in the agreed state */
	in.st = &lost_peer;
	in.peer_fenced = true;
	assert_int_equal(plan(&in, promote, why), 0);
	in.st = &primary;
	assert_int_equal(plan(&in, none, why), 0);      /* already */

	/* every other node demotes; a Secondary stays */
	in.role = SAN_MIRROR_SECONDARY;
	assert_int_equal(plan(&in, demote, why), 0);
	in.st = &lost_peer;
	assert_int_equal(plan(&in, none, why), 0);

	assert_true(san_mirror_exportable_state(&primary));
	assert_false(san_mirror_exportable_state(&lost_peer));
}

/* Where a volume is written: the device the target exports (what vm
 * create and vm restore write onto), and the backing store under it. */
static void
test_vol_paths(void **state)
{
	const struct san_plan_conf lvm = { .iqn_prefix = PFX, .vg = "vgsan" };
	struct vol_rec v = { .name = "vm1-root", .minor = 7 };
	char buf[64], tiny[8];

	(void)state;
	assert_int_equal(san_vol_device(&lvm, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/dev/vgsan/vm1-root");
	assert_int_equal(san_vol_device(&conf_file, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/vol/vm1-root.img");
	/* under DRBD the LV belongs to DRBD: data goes through /dev/drbdN */
	assert_int_equal(san_vol_device(&conf_drbd, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/dev/drbd7");
	assert_int_equal(san_vol_backing(&conf_drbd, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/dev/vgsan/vm1-root");
	assert_int_equal(san_vol_device(&lvm, &v, tiny, sizeof(tiny)), -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vol_paths),
		cmocka_unit_test(test_admitted_host),
		cmocka_unit_test(test_want),
		cmocka_unit_test(test_want_drbd),
		cmocka_unit_test(test_takeover_commands),
		cmocka_unit_test(test_mirror_refusals),
		cmocka_unit_test(test_mirror_plans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
