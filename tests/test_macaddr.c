/* Unit tests of ha/macaddr.c (parse, format, sets, allocation, vif lists
 * of xl.cfg) and ha/vmmac.c (uniqueness in the VM table, MACs given at
 * define, kept at redefine, decided in commit order).  Bad input first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macaddr.h"
#include "state.h"
#include "vmmac.h"
#include "xlcfg.h"

#define PINNED_WEB1_0 "00:16:3e:7a:7b:30"     /* mac_alloc(seed("web1", 0)) */
#define XEN(low) ((MAC_XEN_OUI << 24) | (low))

/* ---- parse, format -------------------------------------------------------- */

static void
parse_refuses(const char *s, const char *needle)
{
	char why[160] = "";
	uint64_t m = 42;

	assert_int_equal(mac_parse(s, &m, why, sizeof(why)), -EINVAL);
	assert_int_equal(m, 42);
	if (strstr(why, needle) == NULL)
		fail_msg("'%s': reason '%s' lacks '%s'", s ? s : "(null)", why,
			 needle);
}

static void
test_parse_bad(void **state)
{
	(void)state;
	parse_refuses(NULL, "no MAC");
	parse_refuses("", "invalid MAC address ''");
	parse_refuses("00:16:3e:12:34", "six hex pairs");
	parse_refuses("00:16:3e:12:34:56:78", "six hex pairs");
	parse_refuses("00:16:3e:12:34:5", "six hex pairs");
	parse_refuses("00:16:3e:12:34:567", "six hex pairs");
	parse_refuses("00-16-3e-12-34-56", "six hex pairs");
	parse_refuses("00:16:3e:12:34:5g", "six hex pairs");
	parse_refuses("0:16:3e:12:34:56", "six hex pairs");
	parse_refuses(" 00:16:3e:12:34:56", "six hex pairs");
	parse_refuses("ff:ff:ff:ff:ff:ff", "broadcast");
	parse_refuses("FF:FF:FF:FF:FF:FF", "broadcast");
	parse_refuses("01:00:5e:00:00:01", "multicast");
	parse_refuses("33:33:00:00:00:01", "multicast");
	parse_refuses("00:00:00:00:00:00", "all zero");
}

static void
test_parse_format(void **state)
{
	char out[MAC_STR_LEN], why[160];
	uint64_t m;

	(void)state;
	assert_int_equal(mac_parse("00:16:3E:7f:Ab:cD", &m, why, sizeof(why)), 0);
	assert_true(m == 0x00163e7fabcdULL);
	mac_format(m, out);
	assert_string_equal(out, "00:16:3e:7f:ab:cd");
	assert_true(mac_is_xen(m));
	/* locally administered and other vendors are NICs too */
	assert_int_equal(mac_parse("02:00:00:00:00:01", &m, NULL, 0), 0);
	assert_false(mac_is_xen(m));
	assert_int_equal(mac_parse("00:16:3f:00:00:01", &m, NULL, 0), 0);
	assert_false(mac_is_xen(m));
	mac_format(0x0000000000ffULL, out);
	assert_string_equal(out, "00:00:00:00:00:ff");
}

/* ---- sets, allocation ------------------------------------------------------ */

static void
test_set(void **state)
{
	struct mac_set s;

	(void)state;
	mac_set_init(&s);
	assert_false(mac_set_has(&s, 1));
	for (uint64_t i = 200; i > 0; i--)
		assert_int_equal(mac_set_add(&s, i * 3), 0);
	assert_true(mac_set_has(&s, 3));
	assert_true(mac_set_has(&s, 600));
	assert_false(mac_set_has(&s, 601));
	assert_false(mac_set_has(&s, 0));
	assert_int_equal(mac_set_add(&s, 5), 0);        /* after a lookup */
	assert_true(mac_set_has(&s, 5));
	assert_true(mac_set_has(&s, 6));
	mac_set_free(&s);
	mac_set_free(NULL);
}

static void
test_alloc_bad_range(void **state)
{
	struct mac_set s;
	uint64_t m = 7;

	(void)state;
	mac_set_init(&s);
	assert_int_equal(mac_alloc_range(&s, 1, 0, 0, &m), -EINVAL);
	assert_int_equal(mac_alloc_range(&s, 1, MAC_XEN_POOL, 1, &m), -EINVAL);
	assert_int_equal(mac_alloc_range(&s, 1, MAC_XEN_POOL - 1, 2, &m), -EINVAL);
	assert_true(m == 7);
	mac_set_free(&s);
}

/* The algorithm is part of the replicated state's rules: every member
 * must compute the same MAC, so a change shows here first. */
static void
test_alloc_pinned(void **state)
{
	struct mac_set s;
	char out[MAC_STR_LEN];
	uint64_t m;

	(void)state;
	assert_true(mac_seed("web1", 0) == mac_seed("web1", 0));
	assert_true(mac_seed("web1", 0) != mac_seed("web1", 1));
	assert_true(mac_seed("web1", 0) != mac_seed("web2", 0));
	assert_true(mac_seed("ab", 0) != mac_seed("a", 0x62));
	mac_set_init(&s);
	assert_int_equal(mac_alloc(&s, mac_seed("web1", 0), &m), 0);
	mac_format(m, out);
	assert_string_equal(out, PINNED_WEB1_0);
	mac_set_free(&s);
}

static void
test_alloc_collision(void **state)
{
	struct mac_set s;
	uint64_t first, second, again;

	(void)state;
	mac_set_init(&s);
	assert_int_equal(mac_alloc(&s, 12345, &first), 0);
	assert_true(mac_is_xen(first));
	assert_true((first & 0x800000) == 0);
	assert_int_equal(mac_set_add(&s, first), 0);
	/* same seed, first choice taken: another one, and always the same */
	assert_int_equal(mac_alloc(&s, 12345, &second), 0);
	assert_true(second != first);
	assert_int_equal(mac_alloc(&s, 12345, &again), 0);
	assert_true(again == second);
	mac_set_free(&s);
}

static void
test_alloc_many_distinct(void **state)
{
	struct mac_set s;
	uint64_t m;

	(void)state;
	mac_set_init(&s);
	/* the same seed over and over: every answer a new free address */
	for (unsigned i = 0; i < 3000; i++) {
		assert_int_equal(mac_alloc(&s, 99, &m), 0);
		assert_false(mac_set_has(&s, m));
		assert_true(mac_is_xen(m) && (m & 0x800000) == 0 &&
			    (m & 0xffffff) != 0);
		assert_int_equal(mac_set_add(&s, m), 0);
	}
	assert_int_equal(s.n, 3000);
	mac_set_free(&s);
}

static void
test_alloc_nearly_full(void **state)
{
	struct mac_set s;
	uint64_t m;

	(void)state;
	mac_set_init(&s);
	/* a range of 16 with 15 used: the linear walk finds the last one */
	for (uint32_t i = 0; i < 16; i++)
		if (i != 11)
			assert_int_equal(mac_set_add(&s, XEN(0x1000 + i)), 0);
	for (uint64_t seed = 0; seed < 20; seed++) {
		assert_int_equal(mac_alloc_range(&s, seed, 0x1000, 16, &m), 0);
		assert_true(m == XEN(0x1000 + 11));
	}
	assert_int_equal(mac_set_add(&s, XEN(0x1000 + 11)), 0);
	assert_int_equal(mac_alloc_range(&s, 3, 0x1000, 16, &m), -ENOSPC);
	/* 00:16:3e:00:00:00 is never handed out */
	assert_int_equal(mac_alloc_range(&s, 3, 0, 1, &m), -ENOSPC);
	assert_int_equal(mac_alloc_range(&s, 3, 0, 2, &m), 0);
	assert_true(m == XEN(1));
	mac_set_free(&s);
}

/* ---- vif lists --------------------------------------------------------------- */

static void
vifs_refuse(const char *text, const char *needle)
{
	struct mac_vif v[MAC_CFG_VIFS_MAX];
	char why[200] = "";
	size_t n = 99;

	assert_int_equal(mac_cfg_vifs(text, v, MAC_CFG_VIFS_MAX, &n, why,
				      sizeof(why)), -EINVAL);
	assert_int_equal(n, 0);
	if (strstr(why, needle) == NULL)
		fail_msg("reason '%s' lacks '%s' for:\n%s", why, needle, text);
}

static void
test_vifs_bad(void **state)
{
	(void)state;
	vifs_refuse("vif = [ 'mac=00:16:3e:zz:00:01' ]\n", "vif 0: invalid MAC");
	vifs_refuse("vif = [ 'bridge=br0', 'mac=ff:ff:ff:ff:ff:ff' ]\n",
		    "vif 1: MAC address ff:ff:ff:ff:ff:ff is the broadcast");
	vifs_refuse("vif = [ 'mac=01:16:3e:00:00:01' ]\n", "multicast");
	vifs_refuse("vif = [ 'mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02' ]\n",
		    "mac given twice");
	vifs_refuse("vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3E:00:00:01' ]\n",
		    "MAC 00:16:3e:00:00:01 is given to vif 0 and vif 1");
	vifs_refuse("vif = [ 'mac=00:16:3e:00:00:01' ]\n"
		    "vif += [ 'bridge=x,mac=00:16:3e:00:00:01' ]\n",
		    "given to vif 0 and vif 1");
	vifs_refuse("vif = 'bridge=br0'\n", "expected a list");
	vifs_refuse("vif = [ [ 'bridge=br0' ] ]\n", "a list inside");
	vifs_refuse("vif = [ 12 ]\n", "vif 0 is not a quoted string");
	vifs_refuse("vif = [ '' ]\nvif = [ '' ]\n", "set twice");
	vifs_refuse("vif = [ 'bridge=br0 ]\n", "unterminated");
	vifs_refuse("vif = [ 'bridge=\\x62r0' ]\n", "backslash");
	vifs_refuse("vif = [ '','','','','','','','','' ]\n", "too many vifs");
	vifs_refuse(NULL, "no config");
}

static void
test_vifs(void **state)
{
	static const char text[] =
		"# vif = [ 'mac=00:16:3e:00:00:09' ] in a comment\n"
		"name = \"vif = [ 'mac=00:16:3e:00:00:08' ]\"; memory = 512\n"
		"extra = 'console=hvc0 mac=00:16:3e:00:00:07'\n"
		"vif = [ 'bridge=xenbr0',   # the LAN\n"
		"        \"MAC = 00:16:3E:00:00:01 , bridge=xenbr1\",\n"
		"        '' ]\n"
		"disk = [ 'phy:/dev/x,xvda,w' ]\n"
		"vif += [ ' ' ]\n";
	struct mac_vif v[MAC_CFG_VIFS_MAX];
	size_t n;

	(void)state;
	assert_int_equal(mac_cfg_vifs(text, v, MAC_CFG_VIFS_MAX, &n, NULL, 0), 0);
	/* "MAC" is not "mac": xl keys are lower case (xlcfg refuses it) */
	assert_int_equal(n, 4);
	assert_false(v[0].has_mac);
	assert_false(v[1].has_mac);
	assert_int_equal(text[v[0].open], '\'');
	assert_int_equal(text[v[1].open], '"');
	assert_int_equal(text[v[1].close], '"');
	assert_int_equal(v[2].close, v[2].open + 1);

	assert_int_equal(mac_cfg_vifs("vif=['bridge=b , mac = 00:16:3E:0A:0b:0C ']",
				      v, MAC_CFG_VIFS_MAX, &n, NULL, 0), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].has_mac && v[0].mac == XEN(0x0a0b0c));
	assert_int_equal(mac_cfg_vifs("name = 'a'\n", v, MAC_CFG_VIFS_MAX, &n,
				      NULL, 0), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mac_cfg_vifs("vif = []\n", v, MAC_CFG_VIFS_MAX, &n,
				      NULL, 0), 0);
	assert_int_equal(n, 0);
}

static void
test_fill(void **state)
{
	static const char text[] =
		"vif = [ 'bridge=xenbr0', 'mac=02:00:00:00:00:01', \"\",\n"
		"  ' ' ] # end\n";
	struct mac_vif v[MAC_CFG_VIFS_MAX];
	char *out;
	size_t n, n2;

	(void)state;
	assert_int_equal(mac_cfg_vifs(text, v, MAC_CFG_VIFS_MAX, &n, NULL, 0), 0);
	assert_int_equal(n, 4);
	v[0].mac = XEN(0x000001);
	v[2].mac = XEN(0x7fffff);
	v[3].mac = XEN(0x123456);
	assert_int_equal(mac_cfg_fill(text, v, n, &out), 0);
	assert_string_equal(out,
		"vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', "
		"'mac=02:00:00:00:00:01', \"mac=00:16:3e:7f:ff:ff\",\n"
		"  'mac=00:16:3e:12:34:56 ' ] # end\n");
	/* and it reads back with every MAC */
	assert_int_equal(mac_cfg_vifs(out, v, MAC_CFG_VIFS_MAX, &n2, NULL, 0), 0);
	assert_int_equal(n2, 4);
	for (size_t i = 0; i < n2; i++)
		assert_true(v[i].has_mac);
	assert_true(v[3].mac == XEN(0x123456));
	free(out);
}

/* What define stores reads back with the xl.cfg parser the hosts use. */
static void
test_fill_parses(void **state)
{
	static const char text[] =
		"name = \"web1\"\nmemory = 512\n"
		"vif = [ 'bridge=xenbr0', \"\", 'mac=02:00:00:00:00:01 , bridge=br1' ]\n"
		"disk = [ 'file:/srv/web1.img,xvda,w' ]\n";
	struct mac_vif v[MAC_CFG_VIFS_MAX];
	struct vm_config *c = malloc(sizeof(*c));
	char err[256] = "", *out;
	size_t n;

	(void)state;
	assert_non_null(c);
	assert_int_equal(mac_cfg_vifs(text, v, MAC_CFG_VIFS_MAX, &n, NULL, 0), 0);
	v[0].mac = XEN(0x112233);
	v[1].mac = XEN(0x445566);
	assert_int_equal(mac_cfg_fill(text, v, n, &out), 0);
	if (xlcfg_parse(out, strlen(out), "web1.cfg", c, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, out);
	assert_int_equal(c->n_vifs, 3);
	assert_string_equal(c->vifs[0].mac, "00:16:3e:11:22:33");
	assert_string_equal(c->vifs[0].bridge, "xenbr0");
	assert_string_equal(c->vifs[1].mac, "00:16:3e:44:55:66");
	assert_string_equal(c->vifs[2].mac, "02:00:00:00:00:01");
	assert_string_equal(c->vifs[2].bridge, "br1");
	free(out);
	free(c);
}

/* ---- the VM table --------------------------------------------------------------- */

struct def {
	Xenmesh__Op op;
	Xenmesh__OpVmDefine d;
	Xenmesh__VmHa ha;
	Xenmesh__OpVmUndefine u;
};

static Xenmesh__Op *
define(struct def *o, const char *name, const char *config)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_define__init(&o->d);
	xenmesh__vm_ha__init(&o->ha);
	o->d.name = (char *)name;
	o->d.config = (char *)config;
	o->d.memory_mb = 128;
	o->ha.restart = "always";
	o->ha.max_restarts = 3;
	o->ha.restart_window_s = 600;
	o->d.ha = &o->ha;
	o->op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	o->op.vm_define = &o->d;
	return &o->op;
}

static int
apply(struct state *s, Xenmesh__Op *op, char *why, size_t len)
{
	return state_apply(s, 1, s->seq + 1, op, why, len);
}

static void
apply_ok(struct state *s, Xenmesh__Op *op)
{
	char why[160] = "";

	if (apply(s, op, why, sizeof(why)) != 0)
		fail_msg("refused: %s", why);
}

/* The MAC of vif i of VM name as stored. */
static uint64_t
stored_mac(const struct state *s, const char *name, size_t i)
{
	struct mac_vif v[MAC_CFG_VIFS_MAX];
	const struct vm_rec *vm = state_vm(s, name);
	size_t n;

	assert_non_null(vm);
	assert_int_equal(mac_cfg_vifs(vm->config, v, MAC_CFG_VIFS_MAX, &n, NULL,
				      0), 0);
	assert_true(i < n);
	assert_true(v[i].has_mac);
	return v[i].mac;
}

static void
test_vmtable_refusals(void **state)
{
	struct state s;
	struct def o;
	char why[160], m[MAC_STR_LEN];
	uint64_t a0;

	(void)state;
	state_init(&s);
	apply_ok(&s, define(&o, "a", "vif = [ 'bridge=br0' ]\n"));
	a0 = stored_mac(&s, "a", 0);
	mac_format(a0, m);

	/* another VM giving a's MAC (in upper case): refused, nothing changes */
	char cfg[128], msg[160], upper[MAC_STR_LEN];
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = m[i] >= 'a' && m[i] <= 'f' ? (char)(m[i] - 'a' + 'A') : m[i];
	snprintf(cfg, sizeof(cfg), "vif = [ 'bridge=br0', 'mac=%s' ]\n", upper);
	uint64_t seq = s.seq;
	assert_int_equal(apply(&s, define(&o, "b", cfg), why, sizeof(why)), -EEXIST);
	snprintf(msg, sizeof(msg), "MAC %s is already used by VM a", m);
	assert_string_equal(why, msg);
	assert_null(state_vm(&s, "b"));
	assert_true(s.seq == seq);
	/* two vifs of one VM */
	assert_int_equal(apply(&s, define(&o, "b", "vif = [ 'mac=02:00:00:00:00:05',"
					 " 'mac=02:00:00:00:00:05' ]\n"),
			       why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "is given to vif 0 and vif 1"));
	/* a bad MAC */
	assert_int_equal(apply(&s, define(&o, "b", "vif = [ 'mac=ff:ff:ff:ff:ff:ff' ]\n"),
			       why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "broadcast"));
	assert_null(state_vm(&s, "b"));
	/* a's own MAC given explicitly to a (a redefinition) is fine */
	snprintf(cfg, sizeof(cfg), "vif = [ 'mac=%s' ]\n", m);
	apply_ok(&s, define(&o, "a", cfg));
	assert_true(stored_mac(&s, "a", 0) == a0);
	state_free(&s);
}

static void
test_vmtable_assign_keep(void **state)
{
	struct state s;
	struct def o;
	uint64_t a0, a1, b0;
	char cfg[128], m[MAC_STR_LEN];

	(void)state;
	state_init(&s);
	apply_ok(&s, define(&o, "a", "name = 'a'\nvif = [ 'bridge=br0', '' ]\n"));
	a0 = stored_mac(&s, "a", 0);
	a1 = stored_mac(&s, "a", 1);
	assert_true(mac_is_xen(a0) && mac_is_xen(a1) && a0 != a1);
	assert_true((a0 & 0x800000) == 0 && (a1 & 0x800000) == 0);
	assert_non_null(strstr(state_vm(&s, "a")->config, "'mac="));

	/* redefinition without mac=: the same MACs, by vif index */
	apply_ok(&s, define(&o, "a", "name = 'a'\nmemory = 256\n"
			    "vif = [ 'bridge=br1', 'bridge=br2', '' ]\n"));
	assert_true(stored_mac(&s, "a", 0) == a0);
	assert_true(stored_mac(&s, "a", 1) == a1);
	assert_true(stored_mac(&s, "a", 2) != a0 && stored_mac(&s, "a", 2) != a1);

	/* vif 0 given a1 explicitly: vif 1 cannot keep a1 any more */
	mac_format(a1, m);
	snprintf(cfg, sizeof(cfg), "vif = [ 'mac=%s', '' ]\n", m);
	apply_ok(&s, define(&o, "a", cfg));
	assert_true(stored_mac(&s, "a", 0) == a1);
	assert_true(stored_mac(&s, "a", 1) != a1);

	/* a VM without vifs, and a config without any vif key, stay as given */
	apply_ok(&s, define(&o, "c", "name = 'c'\n"));
	assert_string_equal(state_vm(&s, "c")->config, "name = 'c'\n");

	/* undefine a: its MACs are free again for others */
	apply_ok(&s, define(&o, "b", "vif = [ '' ]\n"));
	b0 = stored_mac(&s, "b", 0);
	assert_true(b0 != a1 && b0 != stored_mac(&s, "a", 1));
	state_free(&s);
}

/* Two defines checked against the same state (the window between a
 * request's check and its commit) are decided in commit order. */
static void
test_vmtable_race(void **state)
{
	struct state base, s1, s2;
	struct def ox, oy;
	char cfg[128], m[MAC_STR_LEN], why[160];
	uint64_t mx;

	(void)state;
	state_init(&base);
	apply_ok(&base, define(&ox, "other", "vif = [ '' ]\n"));
	/* the MAC x would get */
	assert_int_equal(state_copy(&s1, &base), 0);
	apply_ok(&s1, define(&ox, "x", "vif = [ 'bridge=br0' ]\n"));
	mx = stored_mac(&s1, "x", 0);
	state_free(&s1);

	mac_format(mx, m);
	snprintf(cfg, sizeof(cfg), "vif = [ 'mac=%s' ]\n", m);
	define(&ox, "x", "vif = [ 'bridge=br0' ]\n");
	define(&oy, "y", cfg);
	assert_int_equal(state_validate(&base, &ox.op, why, sizeof(why)), 0);
	assert_int_equal(state_validate(&base, &oy.op, why, sizeof(why)), 0);

	/* x first: y's explicit MAC is taken by then */
	assert_int_equal(state_copy(&s1, &base), 0);
	apply_ok(&s1, &ox.op);
	assert_int_equal(apply(&s1, &oy.op, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "is already used by VM x"));
	assert_null(state_vm(&s1, "y"));

	/* y first: x gets another MAC */
	assert_int_equal(state_copy(&s2, &base), 0);
	apply_ok(&s2, &oy.op);
	apply_ok(&s2, &ox.op);
	assert_true(stored_mac(&s2, "y", 0) == mx);
	assert_true(stored_mac(&s2, "x", 0) != mx);

	state_free(&s1);
	state_free(&s2);
	state_free(&base);
}

/* 50 VMs, 2 vifs each, defined one after the other: 100 distinct MACs. */
static void
test_vmtable_fifty(void **state)
{
	struct state s;
	struct def o;
	struct mac_set seen;
	char name[16];

	(void)state;
	state_init(&s);
	mac_set_init(&seen);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "vm%02d", i);
		apply_ok(&s, define(&o, name, "vif = [ 'bridge=br0', '' ]\n"));
	}
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "vm%02d", i);
		for (size_t k = 0; k < 2; k++) {
			uint64_t m = stored_mac(&s, name, k);

			assert_false(mac_set_has(&seen, m));
			assert_int_equal(mac_set_add(&seen, m), 0);
		}
	}
	mac_set_free(&seen);
	assert_int_equal(vmmac_used(&s, "vm07", &seen), 0);
	assert_int_equal(seen.n, 98);
	assert_false(mac_set_has(&seen, stored_mac(&s, "vm07", 0)));
	mac_set_free(&seen);
	state_free(&s);
}

static Xenmesh__Op *
undefine(struct def *o, const char *name)
{
	xenmesh__op__init(&o->op);
	xenmesh__op_vm_undefine__init(&o->u);
	o->u.name = (char *)name;
	o->op.kind_case = XENMESH__OP__KIND_VM_UNDEFINE;
	o->op.vm_undefine = &o->u;
	return &o->op;
}

/* VM name (re)defined in s with one vif of MAC mac: what both the
 * check of `vm create` (ctl_create.c) and a commit answer is expect. */
static void
define_mac(struct state *s, const char *name, uint64_t mac, int expect)
{
	char cfg[64], m[MAC_STR_LEN], why[160] = "";
	struct def o;

	mac_format(mac, m);
	snprintf(cfg, sizeof(cfg), "vif = [ 'mac=%s' ]\n", m);
	assert_int_equal(vmmac_check(s, name, cfg, 4096, why, sizeof(why)),
			 expect);
	assert_int_equal(apply(s, define(&o, name, cfg), why, sizeof(why)),
			 expect);
}

/* The MACs each VM carries next to its config (vm_rec.macs) follow it
 * through a copy, a pack and unpack (state file, sync to a joiner), a
 * redefinition and an undefine, and leave the digest alone. */
static void
test_vmtable_derived(void **state)
{
	struct state s, c, u;
	struct def o;
	const struct vm_rec *a;
	uint8_t *buf, d1[STATE_DIGEST_LEN], d2[STATE_DIGEST_LEN];
	size_t len;
	char why[160] = "";
	uint64_t a0, a1, x = 0x020000000007ULL;

	(void)state;
	state_init(&s);
	apply_ok(&s, define(&o, "a", "vif = [ 'bridge=br0', 'mac=02:00:00:00:00:03' ]\n"));
	apply_ok(&s, define(&o, "c", "name = 'c'\n"));
	a0 = stored_mac(&s, "a", 0);
	a1 = stored_mac(&s, "a", 1);
	a = state_vm(&s, "a");
	assert_int_equal(a->n_macs, 2);
	assert_true(a->macs[0] == a0 && a->macs[1] == a1 &&
		    a1 == 0x020000000003ULL);
	assert_int_equal(state_vm(&s, "c")->n_macs, 0);

	/* a copy */
	assert_int_equal(state_copy(&c, &s), 0);
	define_mac(&c, "b", a0, -EEXIST);
	define_mac(&c, "b", a1, -EEXIST);
	state_free(&c);

	/* packed and unpacked: the same digest, the MACs read again */
	assert_int_equal(state_pack(&s, &buf, &len), 0);
	state_init(&u);
	assert_int_equal(state_unpack(buf, len, &u, why, sizeof(why)), 0);
	free(buf);
	assert_int_equal(state_digest(&s, d1), 0);
	assert_int_equal(state_digest(&u, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	assert_int_equal(state_vm(&u, "a")->n_macs, 2);
	define_mac(&u, "b", a0, -EEXIST);
	define_mac(&u, "b", a1, -EEXIST);
	assert_null(state_vm(&u, "b"));

	/* a redefined with another MAC on vif 0 and no vif 1: both old
	 * MACs free, the new one taken */
	define_mac(&u, "a", x, 0);
	assert_int_equal(state_vm(&u, "a")->n_macs, 1);
	define_mac(&u, "b", x, -EEXIST);
	define_mac(&u, "b", a1, 0);
	define_mac(&u, "d", a0, 0);

	/* a undefined: its MAC is free */
	apply_ok(&u, undefine(&o, "a"));
	assert_null(state_vm(&u, "a"));
	define_mac(&u, "e", x, 0);
	define_mac(&u, "f", x, -EEXIST);
	assert_int_equal(state_vm(&u, "b")->n_macs, 1);
	assert_int_equal(state_vm(&u, "d")->n_macs, 1);

	/* the digest still comes from the texts alone */
	assert_int_equal(state_pack(&u, &buf, &len), 0);
	state_init(&c);
	assert_int_equal(state_unpack(buf, len, &c, why, sizeof(why)), 0);
	free(buf);
	assert_int_equal(state_digest(&u, d1), 0);
	assert_int_equal(state_digest(&c, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	define_mac(&c, "g", x, -EEXIST);
	state_free(&c);
	state_free(&u);
	state_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_alloc_bad_range),
		cmocka_unit_test(test_alloc_pinned),
		cmocka_unit_test(test_alloc_collision),
		cmocka_unit_test(test_alloc_many_distinct),
		cmocka_unit_test(test_alloc_nearly_full),
		cmocka_unit_test(test_vifs_bad),
		cmocka_unit_test(test_vifs),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_fill_parses),
		cmocka_unit_test(test_vmtable_refusals),
		cmocka_unit_test(test_vmtable_assign_keep),
		cmocka_unit_test(test_vmtable_race),
		cmocka_unit_test(test_vmtable_fifty),
		cmocka_unit_test(test_vmtable_derived),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
