/* Unit tests of agent/ctl_vm.c: the VM commands of agentctl in xenmeshd.
 *
 * Links the real xl.cfg parser and replicated state; the two functions of
 * ctl_server.c it calls are replaced here by recorders, and the restart's
 * wait runs on a real qb_loop.  Connection references are counted with
 * -Wl,--wrap=qb_ipcs_connection_ref,--wrap=qb_ipcs_connection_unref (a
 * connection is any non-NULL pointer here). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "ctl_vm.h"
#include "state.h"
#include "xm_error.h"

void __wrap_qb_ipcs_connection_ref(qb_ipcs_connection_t *c);
void __wrap_qb_ipcs_connection_unref(qb_ipcs_connection_t *c);

static int conn_refs;

void
__wrap_qb_ipcs_connection_ref(qb_ipcs_connection_t *c)
{
	assert_non_null(c);
	conn_refs++;
}

void
__wrap_qb_ipcs_connection_unref(qb_ipcs_connection_t *c)
{
	assert_non_null(c);
	assert_true(conn_refs > 0);
	conn_refs--;
}

/* What the fakes saw last. */
static struct {
	int n_reply, n_submit;
	int result;
	char message[512];
	struct ctl_mutation m;
	Xenmesh__Op *op;        /* a packed-and-unpacked copy */
} seen;

void
ctl_server_reply(qb_ipcs_connection_t *c, int result, const char *message)
{
	seen.n_reply++;
	seen.result = result;
	(void)snprintf(seen.message, sizeof(seen.message), "%s",
		       message ? message : "(null)");
}

void
ctl_server_submit(struct agent *a, qb_ipcs_connection_t *c,
		  const struct ctl_mutation *m, const Xenmesh__Op *op)
{
	uint8_t buf[65536];
	size_t len = xenmesh__op__get_packed_size(op);

	assert_true(len <= sizeof(buf));
	(void)xenmesh__op__pack(op, buf);
	if (seen.op != NULL)
		xenmesh__op__free_unpacked(seen.op, NULL);
	seen.op = xenmesh__op__unpack(NULL, len, buf);
	assert_non_null(seen.op);
	seen.m = *m;
	seen.n_submit++;
}

static void
seen_reset(void)
{
	if (seen.op != NULL)
		xenmesh__op__free_unpacked(seen.op, NULL);
	memset(&seen, 0, sizeof(seen));
}

static void
apply(struct state *s, const Xenmesh__Op *op)
{
	char why[256] = "";

	assert_int_equal(state_apply(s, s->epoch, s->seq + 1, op, why,
				     sizeof(why)), 0);
}

static void
add_node(struct state *s, uint32_t id, const char *name, Xenmesh__NodeRole role)
{
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	ni.id = id;
	ni.name = (char *)name;
	ni.role = role;
	ni.mem_total_mb = 8192;
	ni.mem_free_mb = 8192;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	apply(s, &op);
}

/* Sends a request of cmd with the words given (NULL-terminated). */
static void
request(struct agent *a, struct ctl_vm *vm, Xenmesh__CtlCommand cmd,
	const char *config, ...)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *args[4];
	va_list ap;
	char *w;

	va_start(ap, config);
	while ((w = va_arg(ap, char *)) != NULL && req.n_args < 4)
		args[req.n_args++] = w;
	va_end(ap);
	req.command = cmd;
	req.args = args;
	req.config = (char *)config;
	seen_reset();
	ctl_vm_request(a, vm, NULL, 1000, &req);
}

#define WEB1_CFG \
	"name = \"web1\"\nmemory = 512\n" \
	"disk = [ \"file:/srv/web1.img,xvda,w\" ]\n" \
	"ha_priority = 5\nha_hosts = [ \"h2\" ]\n"

struct fixture {
	struct agent a;
	struct ctl_vm vm;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	state_init(&f->a.rep.st);
	f->a.rep.st.epoch = 1;
	add_node(&f->a.rep.st, 1, "h1", XENMESH__NODE_ROLE__ROLE_DOM0);
	add_node(&f->a.rep.st, 2, "h2", XENMESH__NODE_ROLE__ROLE_DOM0);
	add_node(&f->a.rep.st, 10, "san1", XENMESH__NODE_ROLE__ROLE_SAN);
	f->a.qv.ha_enabled = true;
	f->a.loop = qb_loop_create();
	if (f->a.loop == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ctl_vm_stop(&f->vm);
	assert_int_equal(conn_refs, 0);
	qb_loop_destroy(f->a.loop);
	state_free(&f->a.rep.st);
	seen_reset();
	free(f);
	return 0;
}

/* Defines web1 through the command, as the cluster would commit it. */
static void
define_web1(struct fixture *f)
{
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE, WEB1_CFG,
		"web1.cfg", NULL);
	assert_int_equal(seen.n_submit, 1);
	apply(&f->a.rep.st, seen.op);
	seen.m.then(&f->a, seen.m.then_data, NULL, 0, NULL);
}

static void
test_define_invalid(void **state)
{
	struct fixture *f = *state;

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE, NULL,
		"web1.cfg", NULL);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "vm define needs the file name and "
			    "the text of an xl.cfg");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE,
		"name = \"web1\"\nmemory = 512\n"
		"disk = [ \"file:/srv/a.img,xvda,w\" ]\npci = [ \"01:00.0\" ]\n",
		"conf/web1.cfg", NULL);
	assert_int_equal(seen.n_submit, 0);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "conf/web1.cfg:4: key 'pci' is not "
			    "supported by xenmesh's xl driver; it would be dropped");
}

static void
test_define(void **state)
{
	struct fixture *f = *state;
	const Xenmesh__OpVmDefine *d;

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE, WEB1_CFG,
		"web1.cfg", NULL);
	assert_int_equal(seen.n_reply, 0);
	assert_int_equal(seen.n_submit, 1);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_DEFINE);
	d = seen.op->vm_define;
	assert_string_equal(d->name, "web1");
	assert_string_equal(d->config, WEB1_CFG);
	assert_int_equal(d->memory_mb, 512);
	assert_int_equal(d->ha->priority, 5);
	assert_string_equal(d->ha->restart, "always");
	assert_int_equal(d->ha->n_hosts, 1);
	assert_string_equal(d->ha->hosts[0], "h2");
	assert_string_equal(seen.m.done, "defined VM web1");
	assert_string_equal(seen.m.what, "vm define web1 (from web1.cfg)");
	assert_int_equal(seen.m.uid, 1000);
	/* the answer waits for the commit, which gives the vifs their MACs */
	assert_non_null(seen.m.then);
	seen.m.then(&f->a, seen.m.then_data, (qb_ipcs_connection_t *)&f->a,
		    -EEXIST, "MAC 00:16:3e:00:00:01 is already used by VM x");
	assert_int_equal(seen.result, -EEXIST);
	assert_string_equal(seen.message, "MAC 00:16:3e:00:00:01 is already "
			    "used by VM x");
}

static void
test_define_macs(void **state)
{
	struct fixture *f = *state;
	char why[160];

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE,
		"name = 'n1'\nmemory = 128\n"
		"vif = [ 'bridge=xenbr0', 'mac=02:00:00:00:00:07' ]\n",
		"n1.cfg", NULL);
	assert_int_equal(seen.n_submit, 1);
	apply(&f->a.rep.st, seen.op);
	assert_non_null(strstr(state_vm(&f->a.rep.st, "n1")->config,
			       "'mac=00:16:3e:"));
	seen.m.then(&f->a, seen.m.then_data, NULL, 0, NULL);    /* client gone */

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE,
		"name = 'n1'\nmemory = 128\n"
		"vif = [ 'bridge=xenbr0', 'mac=02:00:00:00:00:07' ]\n",
		"n1.cfg", NULL);
	seen.m.then(&f->a, seen.m.then_data, (qb_ipcs_connection_t *)&f->a, 0,
		    NULL);
	assert_int_equal(seen.result, 0);
	assert_non_null(strstr(seen.message, "defined VM n1 (vif 0 mac 00:16:3e:"));
	assert_non_null(strstr(seen.message, ", vif 1 mac 02:00:00:00:00:07)"));

	/* another VM with n1's explicit MAC: the cluster refuses it */
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_DEFINE,
		"name = 'n2'\nmemory = 128\nvif = [ 'mac=02:00:00:00:00:07' ]\n",
		"n2.cfg", NULL);
	assert_int_equal(seen.n_submit, 1);
	assert_int_equal(state_apply(&f->a.rep.st, f->a.rep.st.epoch,
				     f->a.rep.st.seq + 1, seen.op, why,
				     sizeof(why)), -EEXIST);
	assert_string_equal(why, "MAC 02:00:00:00:00:07 is already used by VM n1");
	assert_null(state_vm(&f->a.rep.st, "n2"));
	seen.m.then(&f->a, seen.m.then_data, NULL, -EEXIST, why);
}

static void
test_unknown(void **state)
{
	struct fixture *f = *state;

	define_web1(f);
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL, NULL);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "vm start needs a VM name and at "
			    "most a host");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_STOP, NULL,
		"web1", "h1", NULL);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "vm stop needs a VM name");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_STOP, NULL,
		"web2", NULL);
	assert_int_equal(seen.result, -ENOENT);
	assert_string_equal(seen.message, "no VM named web2");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_RESTART, NULL,
		"WEB1", NULL);
	assert_string_equal(seen.message, "no VM named WEB1");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", "h9", NULL);
	assert_int_equal(seen.result, -ENOENT);
	assert_string_equal(seen.message, "unknown node h9");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", "san1", NULL);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "node san1 is a SAN node: VMs run on "
			    "dom0 hosts");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_LIST, NULL, NULL);
	assert_int_equal(seen.result, -EOPNOTSUPP);
	assert_int_equal(seen.n_submit, 0);
}

/* A start is kept while nothing may start, and the answer says why. */
static void
test_start_held(void **state)
{
	struct fixture *f = *state;

	define_web1(f);
	f->a.qv.ha_enabled = false;
	snprintf(f->a.qv.ha_reason, sizeof(f->a.qv.ha_reason), "even number of "
		 "votes (4) and no quorum device: HA VMs are not managed");
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", "h2", NULL);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_WANT);
	assert_true(seen.op->vm_want->running);
	assert_string_equal(seen.m.done, "VM web1: start on h2 requested; it will "
			    "not start while HA is disabled: even number of votes (4) "
			    "and no quorum device: HA VMs are not managed");
	f->a.qv.ha_enabled = true;
	f->a.rep.st.frozen = true;
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", NULL);
	assert_string_equal(seen.m.done, "VM web1: start requested; it will not "
			    "start until cluster maintenance ends (agentctl cluster "
			    "maintenance off)");
}

static void
test_changes(void **state)
{
	struct fixture *f = *state;

	define_web1(f);
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", "h2", NULL);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_WANT);
	assert_string_equal(seen.op->vm_want->name, "web1");
	assert_true(seen.op->vm_want->running);
	assert_true(seen.op->vm_want->has_host);
	assert_int_equal(seen.op->vm_want->host, 2);
	assert_string_equal(seen.m.done, "VM web1: start on h2 requested");
	assert_string_equal(seen.m.what, "vm start web1 on h2");
	assert_int_equal(seen.m.node, 2);

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", NULL);
	assert_false(seen.op->vm_want->has_host);
	assert_string_equal(seen.m.done, "VM web1: start requested");

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_STOP, NULL,
		"web1", NULL);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_WANT);
	assert_false(seen.op->vm_want->running);
	assert_string_equal(seen.m.done, "VM web1: stop requested");

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_CLEANUP, NULL,
		"web1", NULL);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_CLEANUP);
	assert_string_equal(seen.op->vm_cleanup->name, "web1");
	assert_string_equal(seen.m.done, "VM web1: failures cleared");

	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_UNDEFINE, NULL,
		"web1", NULL);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_UNDEFINE);
	assert_string_equal(seen.op->vm_undefine->name, "web1");
	assert_string_equal(seen.m.done, "undefined VM web1");
}

/* Commits a decision of the coordinator about web1. */
static void
vm_set_state(struct state *s, const char *st, uint32_t host)
{
	Xenmesh__OpVmSet set = XENMESH__OP_VM_SET__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	set.name = (char *)"web1";
	set.state = (char *)st;
	set.has_host = host != 0;
	set.host = host;
	op.kind_case = XENMESH__OP__KIND_VM_SET;
	op.vm_set = &set;
	apply(s, &op);
}

static void
stop_loop(void *data)
{
	qb_loop_stop(data);
}

/* Runs the loop for ms. */
static void
run_for(struct fixture *f, unsigned ms)
{
	qb_loop_timer_handle t;

	assert_int_equal(qb_loop_timer_add(f->a.loop, QB_LOOP_HIGH,
					   (uint64_t)ms * QB_TIME_NS_IN_MSEC,
					   f->a.loop, stop_loop, &t), 0);
	qb_loop_run(f->a.loop);
}

/* Run the loop until n submissions are seen, or 5 s (a loaded machine
 * fires the waiting's timer late). */
static void
run_until_submits(struct fixture *f, int n)
{
	for (int i = 0; i < 50 && seen.n_submit < n; i++)
		run_for(f, 100);
}

static void
test_restart(void **state)
{
	struct fixture *f = *state;
	struct ctl_mutation stop;

	define_web1(f);
	/* running on h1, started there with --on h1 */
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_START, NULL,
		"web1", "h1", NULL);
	apply(&f->a.rep.st, seen.op);
	vm_set_state(&f->a.rep.st, "running", 1);

	/* a refused stop ends the restart with its reason */
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_RESTART, NULL,
		"web1", NULL);
	assert_int_equal(seen.n_submit, 1);
	assert_non_null(seen.m.then);
	stop = seen.m;
	stop.then(&f->a, stop.then_data, (qb_ipcs_connection_t *)&stop,
		  XM_ENOQUORUM, "no quorum: 1 of 3 votes");
	assert_int_equal(seen.n_reply, 1);
	assert_int_equal(seen.result, XM_ENOQUORUM);
	assert_string_equal(seen.message, "no quorum: 1 of 3 votes");
	assert_null(f->vm.waiting);

	/* first the stop */
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_RESTART, NULL,
		"web1", NULL);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_VM_WANT);
	assert_false(seen.op->vm_want->running);
	assert_string_equal(seen.m.what, "vm restart web1 (stop)");
	stop = seen.m;
	apply(&f->a.rep.st, seen.op);
	seen_reset();
	/* committed (the client has left meanwhile): it waits */
	stop.then(&f->a, stop.then_data, NULL, 0, NULL);
	assert_non_null(f->vm.waiting);
	run_for(f, 500);
	assert_int_equal(seen.n_submit, 0);
	vm_set_state(&f->a.rep.st, "stopping", 1);
	run_for(f, 300);
	assert_int_equal(seen.n_submit, 0);
	/* then the start, anywhere: `--on h1` asked for the one start there,
	 * and once it ran there the VM was no longer pinned */
	vm_set_state(&f->a.rep.st, "stopped", 0);
	run_until_submits(f, 1);
	assert_int_equal(seen.n_submit, 1);
	assert_int_equal(seen.n_reply, 0);
	assert_true(seen.op->vm_want->running);
	assert_false(seen.op->vm_want->has_host && seen.op->vm_want->host != 0);
	assert_string_equal(seen.m.done, "VM web1: stopped, start requested");
	assert_string_equal(seen.m.what, "vm restart web1 (start)");
	assert_null(seen.m.then);
	assert_null(f->vm.waiting);
}

static void
test_restart_undefined(void **state)
{
	struct fixture *f = *state;
	Xenmesh__OpVmUndefine u = XENMESH__OP_VM_UNDEFINE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	struct ctl_mutation stop;

	define_web1(f);
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_RESTART, NULL,
		"web1", NULL);
	stop = seen.m;
	seen_reset();
	stop.then(&f->a, stop.then_data, (qb_ipcs_connection_t *)&stop, 0, NULL);
	/* undefined before the wait looks */
	u.name = (char *)"web1";
	op.kind_case = XENMESH__OP__KIND_VM_UNDEFINE;
	op.vm_undefine = &u;
	apply(&f->a.rep.st, &op);
	assert_int_equal(conn_refs, 1);
	run_for(f, 300);
	assert_int_equal(conn_refs, 0);
	assert_int_equal(seen.n_submit, 0);
	assert_int_equal(seen.result, -ENOENT);
	assert_string_equal(seen.message, "VM web1 was undefined during the restart");
	assert_null(f->vm.waiting);
}

/* A restart still waiting when xenmeshd stops is dropped (teardown's
 * ctl_vm_stop; the sanitizer run checks nothing leaks). */
static void
test_restart_stop(void **state)
{
	struct fixture *f = *state;
	struct ctl_mutation stop;

	define_web1(f);
	vm_set_state(&f->a.rep.st, "running", 1);
	request(&f->a, &f->vm, XENMESH__CTL_COMMAND__CTL_VM_RESTART, NULL,
		"web1", NULL);
	stop = seen.m;
	stop.then(&f->a, stop.then_data, (qb_ipcs_connection_t *)&stop, 0, NULL);
	assert_non_null(f->vm.waiting);
	assert_int_equal(conn_refs, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_define_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_define, setup, teardown),
		cmocka_unit_test_setup_teardown(test_define_macs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_undefined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
