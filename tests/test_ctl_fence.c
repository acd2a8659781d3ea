/* Unit tests of agent/ctl_fence.c: the fence commands of agentctl in
 * xenmeshd and the admission check of a status answer.
 *
 * Links the real fence config parser, replicated state and placement; the
 * functions of ctl_server.c it calls are replaced here by recorders (a
 * connection is any non-NULL pointer here).  No corosync: the replicated
 * state is built with state_apply(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "ctl_fence.h"
#include "ctl_vm.h"
#include "state.h"

#define CONN ((qb_ipcs_connection_t *)0x1)

/* What the fakes saw last. */
static struct {
	int n_reply, n_submit, n_answer;
	int result;
	char message[1024];
	char fence_config[1024];
	struct ctl_mutation m;
	Xenmesh__Op *op;        /* a packed-and-unpacked copy */
} seen;

void
ctl_server_reply(qb_ipcs_connection_t *c, int result, const char *message)
{
	assert_ptr_equal(c, CONN);
	seen.n_reply++;
	seen.result = result;
	(void)snprintf(seen.message, sizeof(seen.message), "%s",
		       message ? message : "(null)");
}

void
ctl_server_answer(qb_ipcs_connection_t *c, const Xenmesh__CtlResponse *resp)
{
	assert_ptr_equal(c, CONN);
	seen.n_answer++;
	seen.result = resp->result;
	(void)snprintf(seen.fence_config, sizeof(seen.fence_config), "%s",
		       resp->fence_config ? resp->fence_config : "(null)");
}

void
ctl_server_submit(struct agent *a, qb_ipcs_connection_t *c,
		  const struct ctl_mutation *m, const Xenmesh__Op *op)
{
	uint8_t buf[65536];
	size_t len = xenmesh__op__get_packed_size(op);

	assert_ptr_equal(c, CONN);
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
add_node(struct state *s, uint32_t id, const char *name,
	 Xenmesh__NodeRole role, uint64_t mem_mb, uint32_t watchdog_s)
{
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	ni.id = id;
	ni.name = (char *)name;
	ni.role = role;
	ni.mem_total_mb = mem_mb;
	ni.mem_free_mb = mem_mb;
	ni.has_watchdog_s = watchdog_s != 0;
	ni.watchdog_s = watchdog_s;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	apply(s, &op);
}

static void
set_node_state(struct state *s, uint32_t id, Xenmesh__NodeState st)
{
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	ns.id = id;
	ns.state = st;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	apply(s, &op);
}

/* A VM of mem MB wanted running, running on host (0: stopped). */
static void
add_vm(struct state *s, const char *name, uint64_t mem, uint32_t priority,
       const char *restart, uint32_t host)
{
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__OpVmWant w = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__OpVmSet vs = XENMESH__OP_VM_SET__INIT;
	Xenmesh__VmHa ha = XENMESH__VM_HA__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char config[128];

	(void)snprintf(config, sizeof(config), "name = \"%s\"\n", name);
	ha.priority = priority;
	ha.restart = (char *)restart;
	ha.max_restarts = 3;
	ha.restart_window_s = 600;
	d.name = (char *)name;
	d.config = config;
	d.memory_mb = mem;
	d.ha = &ha;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	apply(s, &op);
	if (host == 0)
		return;
	w.name = (char *)name;
	w.running = 1;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &w;
	apply(s, &op);
	vs.name = (char *)name;
	vs.state = (char *)"running";
	vs.has_host = 1;
	vs.host = host;
	vs.has_generation = 1;
	vs.generation = 1;
	op.kind_case = XENMESH__OP__KIND_VM_SET;
	op.vm_set = &vs;
	apply(s, &op);
}

static struct agent *
agent_new(void)
{
	struct agent *a = calloc(1, sizeof(*a));

	assert_non_null(a);
	state_init(&a->rep.st);
	a->rep.local_id = 1;
	assert_int_equal(eventlog_open(&a->events, NULL), 0);
	add_node(&a->rep.st, 1, "h1", XENMESH__NODE_ROLE__ROLE_DOM0, 8192, 10);
	add_node(&a->rep.st, 2, "h2", XENMESH__NODE_ROLE__ROLE_DOM0, 8192, 10);
	add_node(&a->rep.st, 10, "san1", XENMESH__NODE_ROLE__ROLE_SAN, 0, 10);
	return a;
}

static void
agent_free(struct agent *a)
{
	state_free(&a->rep.st);
	eventlog_close(&a->events);
	free(a);
	seen_reset();
}

static void
request(struct agent *a, uint32_t uid, Xenmesh__CtlCommand cmd,
	const char *arg, const char *config, bool secrets)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *args[1] = { (char *)arg };

	req.command = cmd;
	req.n_args = arg != NULL ? 1 : 0;
	req.args = arg != NULL ? args : NULL;
	req.config = (char *)config;
	req.has_show_secrets = secrets;
	req.show_secrets = secrets;
	seen_reset();
	ctl_fence_request(a, CONN, uid, &req);
}

/* ---- config check ----------------------------------------------------- */

static void
test_config_check_invalid(void **state)
{
	struct agent *a = agent_new();
	char msg[CTL_FENCE_MSG_MAX];

	assert_int_equal(ctl_fence_config_check(&a->rep.st, "f.conf", NULL, msg,
						sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "fence config set needs a file name and its text");
	assert_int_equal(ctl_fence_config_check(&a->rep.st, "f.conf",
						"h1: level 1 deadline\n"
						"h2: level 1 fence-agnt\n",
						msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "f.conf: line 2: h2: level 1: unknown method "
			    "'fence-agnt' (expected storage, fence-agent, "
			    "xl-ssh or deadline)");
	assert_int_equal(ctl_fence_config_check(&a->rep.st, "f.conf",
						"h1: level 0 deadline\n",
						msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "f.conf: line 1: h1: bad level number '0' "
			    "(1 to 99)");

	/* the same through the request: answered at once, nothing asked */
	request(a, 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET, "f.conf",
		"# power\nh1: level 1 fence-agent ip=10.0.0.1\n", false);
	assert_int_equal(seen.n_submit, 0);
	assert_int_equal(seen.n_reply, 1);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "f.conf: line 2: h1: level 1: "
			    "fence-agent needs agent=NAME (e.g. agent=fence_ipmilan)");
	request(a, 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET, NULL,
		"h1: level 1 deadline\n", false);
	assert_int_equal(seen.n_submit, 0);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "fence config set needs a file name "
			    "and its text");
	agent_free(a);
}

static void
test_config_set(void **state)
{
	struct agent *a = agent_new();
	const char *text =
		"# both hosts\n"
		"h1: delay 5; level 1 fence-agent agent=fence_ipmilan "
		"ip=10.0.0.1 password=secret; level 2 deadline\n"
		"h9: level 1 xl-ssh\n";
	char msg[CTL_FENCE_MSG_MAX];

	assert_int_equal(ctl_fence_config_check(&a->rep.st, "f.conf", text, msg,
						sizeof(msg)), 0);
	assert_string_equal(msg, "fence configuration replaced: 2 hosts (h1, h9)"
			    "; not known to the cluster: h9");
	assert_int_equal(ctl_fence_config_check(&a->rep.st, "f.conf",
						"# nothing yet\n", msg,
						sizeof(msg)), 0);
	assert_string_equal(msg, "fence configuration replaced: no host named "
			    "(every host uses the default chain)");

	/* the file is committed as written, comments kept */
	request(a, 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET, "f.conf", text,
		false);
	assert_int_equal(seen.n_reply, 0);
	assert_int_equal(seen.n_submit, 1);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_FENCE_CONFIG);
	assert_string_equal(seen.op->fence_config->text, text);
	assert_string_equal(seen.m.what, "fence config set (from f.conf)");
	assert_string_equal(seen.m.done, "fence configuration replaced: 2 hosts "
			    "(h1, h9); not known to the cluster: h9");
	assert_null(seen.m.then);

	request(a, 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_CLEAR, NULL, NULL,
		false);
	assert_int_equal(seen.n_submit, 1);
	assert_string_equal(seen.op->fence_config->text, "");
	assert_string_equal(seen.m.what, "fence config clear");
	assert_string_equal(seen.m.done, "fence configuration cleared (every "
			    "host uses the default chain)");
	agent_free(a);
}

/* ---- config show ------------------------------------------------------ */

static void
test_config_show(void **state)
{
	struct agent *a = agent_new();
	Xenmesh__OpFenceConfig fc = XENMESH__OP_FENCE_CONFIG__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char msg[CTL_FENCE_MSG_MAX] = "";
	char *text = (char *)"untouched";

	/* stored text that does not parse is not shown redacted */
	assert_int_equal(ctl_fence_config_show("h1: level 1 frob\n", true, &text,
					       msg, sizeof(msg)), -EINVAL);
	assert_null(text);
	assert_string_equal(msg, "the replicated fence configuration does not "
			    "parse (line 1: h1: level 1: unknown method 'frob' "
			    "(expected storage, fence-agent, xl-ssh or "
			    "deadline)); replace it with agentctl fence config "
			    "set");

	assert_int_equal(ctl_fence_config_show(NULL, true, &text, msg,
					       sizeof(msg)), 0);
	assert_string_equal(text, "");
	free(text);

	/* nothing configured: an empty text */
	request(a, 1000, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG, NULL, NULL,
		false);
	assert_int_equal(seen.n_answer, 1);
	assert_int_equal(seen.result, 0);
	assert_string_equal(seen.fence_config, "");

	fc.text = (char *)"# lab\nh1: level 1 fence-agent agent=fence_ipmilan "
		"ip=10.0.0.1 password='s3 cret'\n";
	op.kind_case = XENMESH__OP__KIND_FENCE_CONFIG;
	op.fence_config = &fc;
	apply(&a->rep.st, &op);

	/* the read group: passwords redacted */
	request(a, 1000, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG, NULL, NULL,
		false);
	assert_int_equal(seen.n_answer, 1);
	assert_non_null(strstr(seen.fence_config, "password=***"));
	assert_null(strstr(seen.fence_config, "cret"));

	/* secrets only for root, and that is in the event log */
	request(a, 1000, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG, NULL, NULL,
		true);
	assert_int_equal(seen.n_answer, 0);
	assert_int_equal(seen.result, -EACCES);
	assert_string_equal(seen.message, "permission denied: fence config "
			    "--show-secrets needs root");
	request(a, 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG, NULL, NULL, true);
	assert_int_equal(seen.n_answer, 1);
	assert_non_null(strstr(seen.fence_config, "s3 cret"));
	assert_null(strstr(seen.fence_config, "***"));
	{
		const struct event *ev[4];
		uint64_t next;
		size_t n = eventlog_since(&a->events, 0, ev, 4, &next);

		assert_int_equal(n, 2);
		assert_string_equal(ev[0]->text, "uid 1000 refused: fence config "
				    "--show-secrets");
		assert_string_equal(ev[1]->text, "uid 0 read the fence secrets");
	}
	agent_free(a);
}

/* ---- node fence ------------------------------------------------------- */

static void
test_node_fence(void **state)
{
	struct agent *a = agent_new();

	request(a, 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, NULL, NULL, false);
	assert_int_equal(seen.result, -EINVAL);
	assert_string_equal(seen.message, "node fence needs a host name");
	request(a, 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, "h9", NULL, false);
	assert_int_equal(seen.n_submit, 0);
	assert_int_equal(seen.result, -ENOENT);
	assert_string_equal(seen.message, "no node named h9");

	set_node_state(&a->rep.st, 2, XENMESH__NODE_STATE__NODE_UNCLEAN);
	request(a, 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, "h2", NULL, false);
	assert_int_equal(seen.n_submit, 0);
	assert_int_equal(seen.result, -EALREADY);
	assert_string_equal(seen.message, "h2 is already unclean: the "
			    "coordinator is fencing it (agentctl fence history, "
			    "there)");

	/* a fenced host may be fenced again */
	set_node_state(&a->rep.st, 2, XENMESH__NODE_STATE__NODE_FENCED);
	request(a, 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, "h2", NULL, false);
	assert_int_equal(seen.n_submit, 1);
	assert_int_equal(seen.op->kind_case, XENMESH__OP__KIND_NODE_STATE);
	assert_int_equal(seen.op->node_state->id, 2);
	assert_int_equal(seen.op->node_state->state,
			 XENMESH__NODE_STATE__NODE_UNCLEAN);
	assert_int_equal(seen.m.node, 2);
	assert_string_equal(seen.m.what, "node fence h2");
	assert_string_equal(seen.m.done, "h2 marked unclean: the coordinator "
			    "fences it");

	set_node_state(&a->rep.st, 2, XENMESH__NODE_STATE__NODE_ONLINE);
	request(a, 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, "h2", NULL, false);
	assert_int_equal(seen.n_submit, 1);
	assert_string_equal(seen.m.done, "h2 marked unclean: it self-fences and "
			    "the coordinator fences it; its HA VMs restart "
			    "elsewhere once it is fenced");

	/* this node: allowed, and said */
	request(a, 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, "h1", NULL, false);
	assert_int_equal(seen.n_submit, 1);
	assert_int_equal(seen.op->node_state->id, 1);
	assert_string_equal(seen.m.done, "h1 (this node) marked unclean: it "
			    "self-fences now and its host resets");

	request(a, 0, XENMESH__CTL_COMMAND__CTL_STATUS, NULL, NULL, false);
	assert_int_equal(seen.result, -EOPNOTSUPP);
	agent_free(a);
}

/* ---- admission -------------------------------------------------------- */

static void
test_admission(void **state)
{
	struct agent *a = agent_new();
	struct admission_report *rep = malloc(sizeof(*rep));
	Xenmesh__ClusterView cv = XENMESH__CLUSTER_VIEW__INIT;
	struct ctl_fence_view fv;

	assert_non_null(rep);
	assert_int_equal(ctl_fence_admission(NULL, rep), -EINVAL);
	assert_int_equal(ctl_fence_admission(&a->rep.st, NULL), -EINVAL);

	/* nothing runs: any host may fail */
	assert_int_equal(ctl_fence_admission(&a->rep.st, rep), 0);
	assert_true(rep->ok);
	assert_int_equal(rep->n_failing, 0);

	/* 8 GB hosts; h1 runs 3+2 GB, h2 runs 5 GB: h1's VMs do not fit
	 * on h2 (3 GB free), h2's do not fit on h1 either */
	add_vm(&a->rep.st, "web1", 3072, 5, "always", 1);
	add_vm(&a->rep.st, "web2", 2048, 1, "always", 1);
	add_vm(&a->rep.st, "db1", 5120, 9, "on-failure", 2);
	/* never restarted: holds memory, never fails the check */
	add_vm(&a->rep.st, "scratch", 512, 0, "never", 2);
	/* defined, not running: not counted */
	add_vm(&a->rep.st, "spare", 7000, 0, "always", 0);
	assert_int_equal(ctl_fence_admission(&a->rep.st, rep), 0);
	assert_false(rep->ok);
	assert_int_equal(rep->n_failing, 2);
	assert_string_equal(rep->failing[0].name, "h1");
	assert_int_equal(rep->failing[0].n_vms, 1);
	assert_string_equal(rep->failing[0].names[0], "web1");
	assert_string_equal(rep->failing[1].name, "h2");
	assert_int_equal(rep->failing[1].n_vms, 1);
	assert_string_equal(rep->failing[1].names[0], "db1");

	assert_int_equal(ctl_fence_view_fill(&a->rep.st, &cv, &fv), 0);
	assert_true(cv.has_admission_ok);
	assert_false(cv.admission_ok);
	assert_int_equal(cv.n_admission, 2);
	assert_string_equal(cv.admission[0], rep->failing[0].summary);
	assert_non_null(strstr(cv.admission[0], "if h1 fails: web1"));
	assert_non_null(strstr(cv.admission[1], "if h2 fails: db1"));
	ctl_fence_view_free(&fv);
	ctl_fence_view_free(&fv);       /* twice is fine */

	/* h2 without a watchdog takes no VMs: h1's failure cannot be
	 * survived, h2's is not asked (it is not eligible) */
	a->rep.st.nodes[1].watchdog_s = 0;
	assert_int_equal(ctl_fence_admission(&a->rep.st, rep), 0);
	assert_false(rep->ok);
	assert_int_equal(rep->n_failing, 1);
	assert_string_equal(rep->failing[0].name, "h1");
	assert_int_equal(rep->failing[0].n_vms, 2);
	assert_non_null(strstr(rep->failing[0].summary, "no watchdog"));

	free(rep);
	agent_free(a);
}

static void
test_admission_ok(void **state)
{
	struct agent *a = agent_new();
	struct admission_report *rep = malloc(sizeof(*rep));
	Xenmesh__ClusterView cv = XENMESH__CLUSTER_VIEW__INIT;
	struct ctl_fence_view fv;

	assert_non_null(rep);
	add_vm(&a->rep.st, "web1", 2048, 5, "always", 1);
	add_vm(&a->rep.st, "db1", 2048, 9, "always", 2);
	assert_int_equal(ctl_fence_admission(&a->rep.st, rep), 0);
	assert_true(rep->ok);
	assert_int_equal(ctl_fence_view_fill(&a->rep.st, &cv, &fv), 0);
	assert_true(cv.has_admission_ok);
	assert_true(cv.admission_ok);
	assert_int_equal(cv.n_admission, 0);
	assert_null(cv.admission);
	ctl_fence_view_free(&fv);
	free(rep);
	agent_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_check_invalid),
		cmocka_unit_test(test_config_set),
		cmocka_unit_test(test_config_show),
		cmocka_unit_test(test_node_fence),
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_admission_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
