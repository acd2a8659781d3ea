/* Unit tests of ha/confirm.c (which hosts and VMs an admin may confirm
 * down, the note, the op through state_apply) and of agentctl's side in
 * agent/ctl_confirm_cli.c and ctl_args.c.  States are filled directly,
 * nodes by id, VMs sorted by name. */
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

#include "confirm.h"
#include "ctl_args.h"
#include "ctl_client.h"
#include "ctl_confirm_cli.h"
#include "ctl_format.h"
#include "state.h"

#define FX_MAX_VMS 8

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

static struct node_rec *
node(struct state *s, uint32_t id, const char *name, enum node_state st)
{
	struct node_rec *n = &s->nodes[s->n_nodes++];

	memset(n, 0, sizeof(*n));
	n->id = id;
	(void)snprintf(n->name, sizeof(n->name), "%s", name);
	n->role = NODE_ROLE_DOM0;
	n->state = st;
	n->mem_total_mb = n->mem_free_mb = 4096;
	n->watchdog_s = 10;
	return n;
}

/* Added in name order. */
static struct vm_rec *
vm(struct state *s, const char *name, enum vm_state st, uint32_t host,
   bool want, enum vm_restart restart)
{
	struct vm_rec *v = &s->vms[s->n_vms++];

	memset(v, 0, sizeof(*v));
	(void)snprintf(v->name, sizeof(v->name), "%s", name);
	v->state = st;
	v->host = host;
	v->generation = 1;
	v->want_running = want;
	v->memory_mb = 256;
	v->ha.restart = restart;
	v->ha.max_restarts = 3;
	v->ha.restart_window_s = 600;
	v->config = strdup("name = \"x\"\n");
	assert_non_null(v->config);
	return v;
}

/* h1 online, h2 online, h3 unclean (every fence failed), h4 fenced, h5
 * offline; app1 recovering on h3 (HA), app2 running on h1, app3 stopped,
 * app4 recovering on h3 with restart never, app5 migrating h3 -> h2. */
static struct state *
cluster(void **state)
{
	struct state *s = *state;

	node(s, 1, "h1", NODE_STATE_ONLINE);
	node(s, 2, "h2", NODE_STATE_ONLINE);
	node(s, 3, "h3", NODE_STATE_UNCLEAN);
	node(s, 4, "h4", NODE_STATE_FENCED);
	node(s, 5, "h5", NODE_STATE_OFFLINE);
	vm(s, "app1", VM_STATE_RECOVERING, 3, true, VM_RESTART_ALWAYS);
	vm(s, "app2", VM_STATE_RUNNING, 1, true, VM_RESTART_ALWAYS);
	vm(s, "app3", VM_STATE_STOPPED, 0, false, VM_RESTART_ALWAYS);
	vm(s, "app4", VM_STATE_RECOVERING, 3, true, VM_RESTART_NEVER);
	vm(s, "app5", VM_STATE_MIGRATING, 3, true, VM_RESTART_ALWAYS)->migrate_to = 2;
	return s;
}

static int
apply(struct state *s, Xenmesh__Op *op, char *why, size_t len)
{
	return state_apply(s, s->epoch, s->seq + 1, op, why, len);
}

static int
apply_confirm(struct state *s, uint32_t host, const char *vm_name,
	      const char *note, char *why, size_t len)
{
	Xenmesh__OpConfirmDown cd = XENMESH__OP_CONFIRM_DOWN__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	cd.host = host;
	cd.note = (char *)note;
	cd.vm = (char *)vm_name;
	op.kind_case = XENMESH__OP__KIND_CONFIRM_DOWN;
	op.confirm_down = &cd;
	return apply(s, &op, why, len);
}

#define NOTE "manually confirmed by root (uid 0) from h1"

/* ---- which host ----------------------------------------------------------- */

static void
test_host_check(void **state)
{
	struct state *s = cluster(state);
	const struct node_rec *n = (void *)1;
	char why[256];

	assert_int_equal(confirm_host_check(s, "h9", &n, why, sizeof(why)), -ENOENT);
	assert_null(n);
	assert_string_equal(why, "no node named h9");
	assert_int_equal(confirm_host_check(s, "h1", &n, why, sizeof(why)), -EBUSY);
	assert_string_equal(why, "h1 is a live member of the cluster, not a lost "
			    "host (to take it down: agentctl node fence h1)");
	assert_int_equal(confirm_host_check(s, "h4", &n, why, sizeof(why)),
			 -EALREADY);
	assert_non_null(strstr(why, "h4 is already fenced"));
	assert_int_equal(confirm_host_check(s, "h5", &n, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "left the cluster cleanly"));
	assert_int_equal(confirm_host_check(s, "h3", &n, why, sizeof(why)), 0);
	assert_non_null(n);
	assert_int_equal(n->id, 3);
}

static void
test_vm_check(void **state)
{
	struct state *s = cluster(state);
	const struct node_rec *h;
	char why[256];

	assert_int_equal(confirm_vm_check(s, "nope", &h, why, sizeof(why)), -ENOENT);
	assert_int_equal(confirm_vm_check(s, "app2", &h, why, sizeof(why)), -EBUSY);
	assert_string_equal(why, "VM app2 is running on h1, a live member of the "
			    "cluster (to stop it: agentctl vm stop app2)");
	assert_int_equal(confirm_vm_check(s, "app3", &h, why, sizeof(why)),
			 -EALREADY);
	assert_non_null(strstr(why, "nothing to reset"));
	/* moving to a live host: it may run there */
	assert_int_equal(confirm_vm_check(s, "app5", &h, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "migrating from h3 to h2"));
	assert_int_equal(confirm_vm_check(s, "app1", &h, why, sizeof(why)), 0);
	assert_int_equal(h->id, 3);
	/* the host fenced meanwhile: the cluster recovers it alone */
	s->nodes[2].state = NODE_STATE_FENCED;
	assert_int_equal(confirm_vm_check(s, "app1", &h, why, sizeof(why)),
			 -EALREADY);
	assert_non_null(strstr(why, "without a confirmation"));
}

static void
test_note(void **state)
{
	char note[CONFIRM_NOTE_MAX], why[128];

	(void)state;
	assert_int_equal(confirm_note(note, sizeof(note), "root", 0, NULL, "h1",
				      why, sizeof(why)), 0);
	assert_string_equal(note, NOTE);
	assert_int_equal(confirm_note(note, sizeof(note), "root", 0, "alice", "h2",
				      why, sizeof(why)), 0);
	assert_string_equal(note, "manually confirmed by root (uid 0, sudo from "
			    "alice) from h2");
	/* no passwd entry: the uid alone */
	assert_int_equal(confirm_note(note, sizeof(note), NULL, 4321, "", "h1",
				      why, sizeof(why)), 0);
	assert_string_equal(note, "manually confirmed by uid 4321 (uid 4321) "
			    "from h1");
	assert_int_equal(confirm_note(note, sizeof(note), "root", 0, "a b) from x",
				      "h1", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "SUDO_USER is not a login name");
	assert_string_equal(note, "");
}

static void
test_restarts(void **state)
{
	struct state *s = cluster(state);
	const char *names[4];

	/* app1 and app5; not app4 (restart never), not app2 (elsewhere) */
	assert_int_equal(confirm_restarts(s, 3, names, 4), 2);
	assert_string_equal(names[0], "app1");
	assert_string_equal(names[1], "app5");
	assert_int_equal(confirm_restarts(s, 3, names, 1), 2);
	assert_int_equal(confirm_restarts(s, 2, names, 4), 0);
}

/* ---- the op ------------------------------------------------------------------ */

static int
apply_failing(struct state *s, uint32_t host, const char *note, char *why,
	      size_t whylen)
{
	Xenmesh__OpFenceFailing ff = XENMESH__OP_FENCE_FAILING__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	ff.host = host;
	ff.note = (char *)note;
	op.kind_case = XENMESH__OP__KIND_FENCE_FAILING;
	op.fence_failing = &ff;
	return apply(s, &op, why, whylen);
}

/* Every method failing is said in the state, on the unclean host only,
 * and goes with its next state change. */
static void
test_op_failing(void **state)
{
	struct state *s = cluster(state);
	Xenmesh__OpFenceFailing ff = XENMESH__OP_FENCE_FAILING__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char why[256], note[NODE_NOTE_MAX], text[512], last[400];

	/* 1970-01-01 01:02:03 UTC */
	confirm_failing_note(note, sizeof(note), "h3", 3723,
			     "level 1 storage: failed (no SAN node answers)");
	assert_string_equal(note, "fence failing since 01:02:03 UTC: level 1 "
			    "storage: failed (no SAN node answers); if it is off "
			    "for certain: agentctl node confirm-down h3");
	/* a long or unprintable last word is cut to fit, the advice kept */
	memset(last, 'x', sizeof(last) - 1);
	last[sizeof(last) - 1] = '\0';
	last[3] = '\n';
	confirm_failing_note(note, sizeof(note), "h3", 3723, last);
	assert_int_equal(strlen(note), NODE_NOTE_MAX - 1);
	assert_non_null(strstr(note, "xxx?xx"));
	assert_non_null(strstr(note, "; if it is off for certain: agentctl node "
			       "confirm-down h3"));

	/* only an unclean host takes it */
	assert_int_equal(apply_failing(s, 1, note, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "h1 is no longer unclean");
	assert_int_equal(apply_failing(s, 9, note, why, sizeof(why)), -ENOENT);
	assert_int_equal(apply_failing(s, 3, "two\nlines", why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(s->seq, 0);

	assert_int_equal(apply_failing(s, 3, note, why, sizeof(why)), 0);
	assert_int_equal(s->nodes[2].state, NODE_STATE_UNCLEAN);
	assert_string_equal(s->nodes[2].fence_note, note);
	assert_int_equal(state_vm(s, "app1")->state, VM_STATE_RECOVERING);
	ff.host = 3;
	ff.note = note;
	op.kind_case = XENMESH__OP__KIND_FENCE_FAILING;
	op.fence_failing = &ff;
	confirm_op_text(s, &op, text, sizeof(text));
	assert_true(strncmp(text, "h3: fence failing since ", 24) == 0);

	/* a confirmation replaces it with who confirmed */
	assert_int_equal(apply_confirm(s, 3, NULL, NOTE, why, sizeof(why)), 0);
	assert_string_equal(s->nodes[2].fence_note, NOTE);
	/* and once fenced, a late note is refused */
	assert_int_equal(apply_failing(s, 3, note, why, sizeof(why)), -ESTALE);
	assert_string_equal(s->nodes[2].fence_note, NOTE);
}

static void
test_op_host(void **state)
{
	struct state *s = cluster(state), back;
	uint8_t *buf = NULL, d1[STATE_DIGEST_LEN], d2[STATE_DIGEST_LEN];
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char why[256], text[256];
	size_t len;

	/* a live member is refused, and nothing changes */
	assert_int_equal(apply_confirm(s, 1, NULL, NOTE, why, sizeof(why)), -EBUSY);
	assert_int_equal(s->nodes[0].state, NODE_STATE_ONLINE);
	assert_int_equal(s->seq, 0);
	/* a note that is not one printable line */
	assert_int_equal(apply_confirm(s, 3, NULL, "x\ny", why, sizeof(why)), -EINVAL);
	assert_int_equal(apply_confirm(s, 3, NULL, "", why, sizeof(why)), -EINVAL);

	assert_int_equal(apply_confirm(s, 3, NULL, NOTE, why, sizeof(why)), 0);
	assert_int_equal(s->nodes[2].state, NODE_STATE_FENCED);
	assert_true(s->nodes[2].flags & NODE_FLAG_STORAGE_FENCED);
	assert_string_equal(s->nodes[2].fence_note, NOTE);
	/* its VMs are left to the normal recovery path */
	assert_int_equal(state_vm(s, "app1")->state, VM_STATE_RECOVERING);

	/* the event text */
	op.kind_case = XENMESH__OP__KIND_CONFIRM_DOWN;
	{
		Xenmesh__OpConfirmDown cd = XENMESH__OP_CONFIRM_DOWN__INIT;

		cd.host = 3;
		cd.note = (char *)NOTE;
		op.confirm_down = &cd;
		confirm_op_text(s, &op, text, sizeof(text));
		assert_string_equal(text, "h3 fenced: " NOTE);
	}

	/* once is enough */
	assert_int_equal(apply_confirm(s, 3, NULL, NOTE, why, sizeof(why)),
			 -EALREADY);
	assert_string_equal(why, "h3 is already fenced (" NOTE ")");

	/* the note is part of the replicated state: packed and back */
	assert_int_equal(state_pack(s, &buf, &len), 0);
	state_init(&back);
	assert_int_equal(state_unpack(buf, len, &back, why, sizeof(why)), 0);
	assert_string_equal(state_node(&back, 3)->fence_note, NOTE);
	assert_int_equal(state_digest(s, d1), 0);
	assert_int_equal(state_digest(&back, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	state_free(&back);
	free(buf);

	/* it rejoins: the note goes */
	ns.id = 3;
	ns.state = XENMESH__NODE_STATE__NODE_ONLINE;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	assert_int_equal(apply(s, &op, why, sizeof(why)), 0);
	assert_string_equal(s->nodes[2].fence_note, "");
}

static void
test_op_vm(void **state)
{
	struct state *s = cluster(state);
	const struct vm_rec *v;
	char why[256];

	/* confirmed for h1, but app1 is on h3 */
	assert_int_equal(apply_confirm(s, 1, "app1", NOTE, why, sizeof(why)),
			 -ESTALE);
	assert_int_equal(apply_confirm(s, 1, "app2", NOTE, why, sizeof(why)),
			 -EBUSY);
	assert_int_equal(apply_confirm(s, 3, "app1", NOTE, why, sizeof(why)), 0);
	v = state_vm(s, "app1");
	assert_int_equal(v->state, VM_STATE_STOPPED);
	assert_int_equal(v->host, 0);
	assert_true(v->want_running);           /* the admin's wish stays */
	assert_string_equal(v->reason, "reset-state: " NOTE);
	/* the host stays unclean, its other VMs wait */
	assert_int_equal(state_node(s, 3)->state, NODE_STATE_UNCLEAN);
	assert_int_equal(state_vm(s, "app4")->state, VM_STATE_RECOVERING);
	assert_int_equal(apply_confirm(s, 3, "app1", NOTE, why, sizeof(why)),
			 -EALREADY);
}

/* ---- agentctl ------------------------------------------------------------------ */

static void
test_typed(void **state)
{
	(void)state;
	assert_true(ctl_confirm_typed("h3\n", "h3"));
	assert_true(ctl_confirm_typed("h3", "h3"));
	assert_true(ctl_confirm_typed("h3\r\n", "h3"));
	assert_false(ctl_confirm_typed("h3 \n", "h3"));
	assert_false(ctl_confirm_typed("h\n", "h3"));
	assert_false(ctl_confirm_typed("h33\n", "h3"));
	assert_false(ctl_confirm_typed("\n", "h3"));
	assert_false(ctl_confirm_typed("yes\n", "h3"));
	assert_false(ctl_confirm_typed(NULL, "h3"));
}

static void
test_cli_restarts(void **state)
{
	Xenmesh__State st = XENMESH__STATE__INIT;
	Xenmesh__Vm a = XENMESH__VM__INIT, b = XENMESH__VM__INIT,
		    c = XENMESH__VM__INIT, d = XENMESH__VM__INIT;
	Xenmesh__VmHa never = XENMESH__VM_HA__INIT;
	Xenmesh__Vm *vms[] = { &a, &b, &c, &d };
	char buf[64];

	(void)state;
	never.restart = (char *)"never";
	a.name = (char *)"web1"; a.state = (char *)"recovering";
	b.name = (char *)"web2"; b.state = (char *)"running";
	c.name = (char *)"web3"; c.state = (char *)"recovering"; c.ha = &never;
	d.name = (char *)"web4"; d.state = (char *)"stopped";
	for (size_t i = 0; i < 4; i++) {
		vms[i]->has_host = 1;
		vms[i]->host = 3;
		vms[i]->has_want_running = 1;
		vms[i]->want_running = 1;
	}
	st.vms = vms;
	st.n_vms = 4;
	assert_int_equal(ctl_confirm_restarts(&st, 3, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "web1, web2");
	assert_int_equal(ctl_confirm_restarts(&st, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

/* node list and its JSON say who confirmed a host down */
static void
test_format_note(void **state)
{
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	Xenmesh__State st = XENMESH__STATE__INIT;
	Xenmesh__Node h1 = XENMESH__NODE__INIT, h3 = XENMESH__NODE__INIT;
	Xenmesh__Node *nodes[] = { &h1, &h3 };
	char *text = NULL;

	(void)state;
	h1.id = 1;
	h1.name = (char *)"h1";
	h1.role = XENMESH__NODE_ROLE__ROLE_DOM0;
	h1.state = XENMESH__NODE_STATE__NODE_ONLINE;
	h3 = h1;
	h3.id = 3;
	h3.name = (char *)"h3";
	h3.state = XENMESH__NODE_STATE__NODE_FENCED;
	h3.flags = XENMESH__NODE_FLAG__FLAG_STORAGE_FENCED;
	h3.fence_note = (char *)NOTE;
	st.nodes = nodes;
	st.n_nodes = 2;
	r.state = &st;
	assert_int_equal(ctl_format_nodes(&r, &text), 0);
	assert_non_null(strstr(text, "\nh3: fenced, " NOTE "\n"));
	assert_null(strstr(text, "h1: "));
	free(text);
	assert_int_equal(ctl_format_nodes_json(&r, &text), 0);
	assert_non_null(strstr(text, "\"fence_note\":\"" NOTE "\""));
	assert_non_null(strstr(text, "\"fence_note\":null"));
	free(text);
}

static int
parse(struct ctl_args *out, char *err, size_t len, ...)
{
	char *argv[12];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"agentctl";
	va_start(ap, len);
	while (argc < 11 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return ctl_args_parse(argc, argv, out, err, len);
}

static void
test_args(void **state)
{
	struct ctl_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", "h3",
			       "--yes-i-checked", "h3", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_CONFIRM_DOWN);
	assert_string_equal(a.node, "h3");
	assert_string_equal(a.checked, "h3");
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down",
			       "--yes-i-checked=h3", "h3", NULL), 0);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", "h3",
			       NULL), 0);
	assert_null(a.checked);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", "h3",
			       "--yes-i-checked", "h2", NULL), -EINVAL);
	assert_string_equal(err, "node confirm-down: --yes-i-checked names h2, "
			    "not h3: nothing done");
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", "h3",
			       "--yes-i-checked", NULL), -EINVAL);
	assert_non_null(strstr(err, "--yes-i-checked needs the HOST"));
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", NULL),
			 -EINVAL);
	assert_string_equal(err, "node confirm-down: missing HOST");
	assert_int_equal(parse(&a, err, sizeof(err), "node", "fence", "h3",
			       "--yes-i-checked", "h3", NULL), -EINVAL);
	assert_string_equal(err, "node fence: --yes-i-checked is only for node "
			    "confirm-down and vm reset-state");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "reset-state", "web1",
			       "--yes-i-checked", "h3", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_RESET_STATE);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.checked, "h3");
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "reset-state", NULL),
			 -EINVAL);
	assert_string_equal(err, "vm reset-state: missing VM");
}

static void
test_precheck(void **state)
{
	struct ctl_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", "h3",
			       NULL), 0);
	assert_int_equal(ctl_confirm_precheck(&a, false, true), CTL_EXIT_DENIED);
	assert_int_equal(ctl_confirm_precheck(&a, true, false), CTL_EXIT_USAGE);
	assert_int_equal(ctl_confirm_precheck(&a, true, true), 0);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "confirm-down", "h3",
			       "--yes-i-checked", "h3", NULL), 0);
	assert_int_equal(ctl_confirm_precheck(&a, true, false), 0);
	assert_int_equal(ctl_confirm_precheck(&a, false, false), CTL_EXIT_DENIED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_check, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_vm_check, fx_setup, fx_teardown),
		cmocka_unit_test(test_note),
		cmocka_unit_test_setup_teardown(test_restarts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_op_host, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_op_failing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_op_vm, fx_setup, fx_teardown),
		cmocka_unit_test(test_typed),
		cmocka_unit_test(test_cli_restarts),
		cmocka_unit_test(test_format_note),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_precheck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
