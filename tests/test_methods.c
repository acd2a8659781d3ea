/* Tests of fencing/methods.c: exact command lines and stdin against the
 * recorder, how each result counts, and fence-agent once for real against
 * tests/fake-fence-agent through the exec runner.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbloop.h>

#include "chain.h"
#include "methods.h"
#include "runner.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

struct answer {
	int calls;
	enum fence_result res;
	char msg[512];
	qb_loop_t *loop;
};

static void
answer_done(void *data, enum fence_result res, const char *message)
{
	struct answer *a = data;

	a->calls++;
	a->res = res;
	snprintf(a->msg, sizeof(a->msg), "%s", message);
	if (a->loop)
		qb_loop_stop(a->loop);
}

static struct fence_config cfg;

static const struct fence_method_conf *
method(const char *text)
{
	char err[256];

	fence_config_free(&cfg);
	if (fence_config_parse(text, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	return &cfg.hosts[0].levels[0].methods[0];
}

static int
teardown_cfg(void **state)
{
	fence_config_free(&cfg);
	return 0;
}

static void
verify(struct runner *r)
{
	char msg[512];

	if (runner_recorder_verify(r, msg, sizeof(msg)))
		fail_msg("recorder: %s", msg);
}

static void
assert_cmd(struct runner *r, size_t i, const char *line, const char *in, int timeout)
{
	const struct runner_record *rec = runner_recorder_get(r, i);

	assert_non_null(rec);
	assert_string_equal(rec->line, line);
	assert_string_equal(rec->stdin_data, in);
	assert_int_equal(rec->timeout_ms, timeout);
}

/* ---- invalid input ---- */

static void
test_invalid(void **state)
{
	struct runner *r = NULL;
	struct answer a = { 0 };
	struct fence_op *op = (struct fence_op *)&a;
	const char *bad_dom[] = { "vm1;reboot", NULL };
	const char *dash_dom[] = { "-h", NULL };
	struct fence_xlssh_params p = { .addr = "10.1.0.2", .timeout_ms = 1000 };
	struct fence_target t = { .host = "h2" };
	struct fence_action act = { .token = 1, .timeout_ms = 1000 };

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(fence_agent_run(NULL, method("h: level 1 fence-agent agent=fence_x"),
					 1000, answer_done, &a, &op), -EINVAL);
	assert_null(op);
	assert_int_equal(fence_agent_run(r, &cfg.hosts[0].levels[0].methods[0], 0,
					 answer_done, &a, NULL), -EINVAL);
	assert_int_equal(fence_agent_run(r, &cfg.hosts[0].levels[0].methods[0], 1000,
					 NULL, &a, NULL), -EINVAL);
	assert_int_equal(fence_agent_run(r, method("h: level 1 xl-ssh"), 1000,
					 answer_done, &a, NULL), -EINVAL);

	assert_int_equal(fence_xlssh_run(r, NULL, answer_done, &a, NULL), -EINVAL);
	p.addr = "-oProxyCommand=sh";
	assert_int_equal(fence_xlssh_run(r, &p, answer_done, &a, NULL), -EINVAL);
	p.addr = "10.1.0.2";
	p.user = "-lroot";
	assert_int_equal(fence_xlssh_run(r, &p, answer_done, &a, NULL), -EINVAL);
	p.user = NULL;
	p.domains = bad_dom;
	p.n_domains = 1;
	assert_int_equal(fence_xlssh_run(r, &p, answer_done, &a, NULL), -EINVAL);
	p.domains = dash_dom;
	assert_int_equal(fence_xlssh_run(r, &p, answer_done, &a, NULL), -EINVAL);
	p.n_domains = 0;
	p.timeout_ms = 0;
	assert_int_equal(fence_xlssh_run(r, &p, answer_done, &a, NULL), -EINVAL);

	act.method = method("h: level 1 deadline");
	assert_int_equal(fence_method_run(r, &t, &act, answer_done, &a, NULL), -EINVAL);
	act.method = method("h: level 1 storage");
	assert_int_equal(fence_method_run(r, &t, &act, answer_done, &a, NULL), -ENOTSUP);
	/* xl-ssh with no address anywhere */
	act.method = method("h: level 1 xl-ssh");
	assert_int_equal(fence_method_run(r, &t, &act, answer_done, &a, NULL), -EINVAL);

	assert_int_equal(runner_recorder_count(r), 0);
	assert_int_equal(a.calls, 0);
	fence_op_abandon(NULL);
	runner_close(r);
}

/* ---- fence-agent against the recorder ---- */

static const char *ipmi =
	"h1: level 1 fence-agent agent=fence_ipmilan ip=10.0.0.1 username=admin "
	"password=secret lanplus=1 timeout=20";

static void
test_agent_off_then_status(void **state)
{
	struct runner *r = NULL;
	struct answer a = { 0 };
	struct fence_op *op = NULL;

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	assert_int_equal(runner_recorder_expect(r, "fence_ipmilan",
		&(struct runner_canned){ .out = "Success: Powered OFF\n",
					 .elapsed_ms = 3500 }), 0);
	assert_int_equal(runner_recorder_expect(r, "fence_ipmilan",
		&(struct runner_canned){ .exit_code = 2, .out = "Status: OFF\n",
					 .elapsed_ms = 800 }), 0);
	assert_int_equal(fence_agent_run(r, method(ipmi), 20000, answer_done, &a, &op), 0);
	assert_non_null(op);
	assert_int_equal(runner_recorder_deliver(r), 2);
	verify(r);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.res, FENCE_RESULT_OK);
	assert_string_equal(a.msg, "off, status: off");
	assert_cmd(r, 0, "fence_ipmilan",
		   "action=off\nip=10.0.0.1\nusername=admin\npassword=secret\nlanplus=1\n",
		   20000);
	/* status gets what is left of the method's time */
	assert_cmd(r, 1, "fence_ipmilan",
		   "action=status\nip=10.0.0.1\nusername=admin\npassword=secret\nlanplus=1\n",
		   20000 - 3500);
	runner_close(r);
}

static void
test_agent_plug_and_path(void **state)
{
	struct runner *r = NULL;
	struct answer a = { 0 };

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_expect(r, "/usr/sbin/fence_apc",
		&(struct runner_canned){ 0 }), 0);
	assert_int_equal(runner_recorder_expect(r, "/usr/sbin/fence_apc",
		&(struct runner_canned){ .exit_code = 2 }), 0);
	assert_int_equal(fence_agent_run(r, method("h: level 1 fence-agent "
		"agent=/usr/sbin/fence_apc ip=pdu1 plug=3 password='p w'"), 60000,
		answer_done, &a, NULL), 0);
	(void)runner_recorder_deliver(r);
	verify(r);
	assert_int_equal(a.res, FENCE_RESULT_OK);
	assert_cmd(r, 0, "/usr/sbin/fence_apc",
		   "action=off\nip=pdu1\nplug=3\npassword=p w\n", 60000);
	runner_close(r);
}

static void
agent_case(const struct runner_canned *off, const struct runner_canned *status,
	   enum fence_result want, const char *msg, size_t n_cmds)
{
	struct runner *r = NULL;
	struct answer a = { 0 };

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	assert_int_equal(runner_recorder_expect(r, "fence_ipmilan", off), 0);
	if (status)
		assert_int_equal(runner_recorder_expect(r, "fence_ipmilan", status), 0);
	assert_int_equal(fence_agent_run(r, method(ipmi), 20000, answer_done, &a, NULL), 0);
	(void)runner_recorder_deliver(r);
	verify(r);
	assert_int_equal(runner_recorder_count(r), n_cmds);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.res, want);
	assert_string_equal(a.msg, msg);
	runner_close(r);
}

static void
test_agent_failures(void **state)
{
	agent_case(&(struct runner_canned){ .exit_code = 1,
		.err = "Failed: Unable to obtain correct plug status\n" }, NULL,
		FENCE_RESULT_FAILED,
		"fence_ipmilan off: exit 1: Failed: Unable to obtain correct plug status", 1);
	agent_case(&(struct runner_canned){ .timed_out = true, .elapsed_ms = 20000 }, NULL,
		FENCE_RESULT_TIMEOUT, "fence_ipmilan off: timed out after 20000 ms", 1);
	agent_case(&(struct runner_canned){ .exec_errno = ENOENT }, NULL,
		FENCE_RESULT_FAILED,
		"fence_ipmilan off: exec failed: No such file or directory", 1);
	/* off said yes, the power is still on */
	agent_case(&(struct runner_canned){ 0 },
		&(struct runner_canned){ .exit_code = 0, .out = "Status: ON\n" },
		FENCE_RESULT_FAILED, "fence_ipmilan status: still on after off (exit 0)", 2);
	agent_case(&(struct runner_canned){ 0 },
		&(struct runner_canned){ .exit_code = 1, .err = "Failed: timed out\n" },
		FENCE_RESULT_FAILED, "fence_ipmilan status: exit 1: Failed: timed out", 2);
	agent_case(&(struct runner_canned){ .elapsed_ms = 5000 },
		&(struct runner_canned){ .timed_out = true, .elapsed_ms = 15000 },
		FENCE_RESULT_TIMEOUT, "fence_ipmilan status: timed out after 15000 ms", 2);
	/* off used the whole budget: no status is run */
	agent_case(&(struct runner_canned){ .elapsed_ms = 20000 }, NULL,
		FENCE_RESULT_TIMEOUT, "fence_ipmilan: off done, no time left for status", 1);
}

static void
test_agent_abandon(void **state)
{
	struct runner *r = NULL;
	struct answer a = { 0 };
	struct fence_op *op = NULL;

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_expect(r, "fence_ipmilan",
		&(struct runner_canned){ 0 }), 0);
	assert_int_equal(fence_agent_run(r, method(ipmi), 20000, answer_done, &a, &op), 0);
	fence_op_abandon(op);
	/* the off answer comes: no status, no callback, nothing leaked */
	assert_int_equal(runner_recorder_deliver(r), 1);
	assert_int_equal(runner_recorder_count(r), 1);
	assert_int_equal(a.calls, 0);
	runner_close(r);
}

/* ---- xl-ssh against the recorder ---- */

#define SSH "ssh -o BatchMode=yes -o ConnectTimeout=5"
#define SSH_RESET SSH " -o ServerAliveInterval=1 -o ServerAliveCountMax=3"
#define KEY " -i /etc/xenmesh/fence_key root@10.1.0.2"
#define RESET_LINE " 'echo xenmesh-reset-sent; sleep 0.2; echo b > /proc/sysrq-trigger'"

static const char *doms[] = { "vm1", "web.2", NULL };

static void
xlssh_case(const struct runner_canned *d1, const struct runner_canned *d2,
	   const struct runner_canned *reset, enum fence_result want, const char *msg)
{
	struct runner *r = NULL;
	struct answer a = { 0 };
	struct fence_xlssh_params p = {
		.addr = "10.1.0.2", .key = "/etc/xenmesh/fence_key",
		.domains = doms, .n_domains = 2, .timeout_ms = 30000 };

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	assert_int_equal(runner_recorder_expect(r, SSH KEY " xl destroy vm1", d1), 0);
	if (d2)
		assert_int_equal(runner_recorder_expect(r, SSH KEY " xl destroy web.2", d2), 0);
	if (reset)
		assert_int_equal(runner_recorder_expect(r, SSH_RESET KEY RESET_LINE, reset), 0);
	assert_int_equal(fence_xlssh_run(r, &p, answer_done, &a, NULL), 0);
	(void)runner_recorder_deliver(r);
	verify(r);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.msg, msg);
	assert_int_equal(a.res, want);
	runner_close(r);
}

static void
test_xlssh_commands(void **state)
{
	struct runner *r = NULL;
	struct answer a = { 0 };
	struct fence_target t = {
		.host = "h2", .mgmt_addr = "10.1.0.2", .ssh_key = "/etc/xenmesh/fence_key",
		.domains = doms, .n_domains = 2 };
	struct fence_action act = { .token = 1, .timeout_ms = 30000 };

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	assert_int_equal(runner_recorder_expect(r, NULL,
		&(struct runner_canned){ .elapsed_ms = 400 }), 0);
	assert_int_equal(runner_recorder_expect(r, NULL,
		&(struct runner_canned){ .elapsed_ms = 600 }), 0);
	assert_int_equal(runner_recorder_expect(r, NULL,
		&(struct runner_canned){ .exit_code = 255, .elapsed_ms = 3000,
			.out = "xenmesh-reset-sent\n",
			.err = "Timeout, server 10.1.0.2 not responding.\n" }), 0);
	act.method = method("h2: level 3 xl-ssh timeout=30");
	assert_int_equal(fence_method_run(r, &t, &act, answer_done, &a, NULL), 0);
	(void)runner_recorder_deliver(r);
	verify(r);
	assert_int_equal(a.res, FENCE_RESULT_OK);
	assert_string_equal(a.msg, "reset sent, then the connection dropped (exit 255)");
	assert_int_equal(runner_recorder_count(r), 3);
	assert_cmd(r, 0, SSH KEY " xl destroy vm1", "", 30000);
	assert_cmd(r, 1, SSH KEY " xl destroy web.2", "", 30000 - 400);
	assert_cmd(r, 2, SSH_RESET KEY RESET_LINE, "", 30000 - 1000);
	runner_close(r);

	/* options from the config win; the rig's own reset command */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_expect(r, NULL, &(struct runner_canned){ 0 }), 0);
	t.n_domains = 0;
	act.method = method("h2: level 1 xl-ssh addr=10.9.0.2 user=admin port=2222 "
			    "key=/k known_hosts=/kh reset='echo 1 > /sys/fs/cgroup/n2/cgroup.kill' "
			    "timeout=500ms");
	act.timeout_ms = act.method->timeout_ms;
	assert_int_equal(fence_method_run(r, &t, &act, answer_done, &a, NULL), 0);
	(void)runner_recorder_deliver(r);
	verify(r);
	assert_string_equal(a.msg, "reset accepted (exit 0)");
	assert_cmd(r, 0, SSH_RESET " -o UserKnownHostsFile=/kh -o StrictHostKeyChecking=yes"
		   " -p 2222 -i /k admin@10.9.0.2 'echo xenmesh-reset-sent; sleep 0.2; "
		   "echo 1 > /sys/fs/cgroup/n2/cgroup.kill'", "", 500);
	runner_close(r);
}

static void
test_xlssh_results(void **state)
{
	const struct runner_canned ok = { 0 };
	const struct runner_canned marker_255 = { .exit_code = 255,
		.out = "xenmesh-reset-sent\n",
		.err = "Connection to 10.1.0.2 closed by remote host.\n" };

	/* ssh itself fails: unreachable, no reset tried */
	xlssh_case(&(struct runner_canned){ .exit_code = 255,
			.err = "ssh: connect to host 10.1.0.2 port 22: No route to host\n" },
		   NULL, NULL, FENCE_RESULT_FAILED,
		   "xl destroy vm1 over ssh: exit 255: ssh: connect to host 10.1.0.2 "
		   "port 22: No route to host");
	xlssh_case(&(struct runner_canned){ .timed_out = true, .elapsed_ms = 30000 },
		   NULL, NULL, FENCE_RESULT_TIMEOUT,
		   "xl destroy vm1 over ssh: timed out after 30000 ms");
	/* a domain already gone: noted, the reset still confirms */
	xlssh_case(&ok, &(struct runner_canned){ .exit_code = 1,
			.err = "invalid domain identifier 'web.2'\n" },
		   &marker_255, FENCE_RESULT_OK,
		   "xl destroy web.2: exit 1: invalid domain identifier 'web.2'; "
		   "reset sent, then the connection dropped (exit 255)");
	/* the connection drops, but nothing says the reset line started */
	xlssh_case(&ok, &ok, &(struct runner_canned){ .exit_code = 255,
			.err = "Connection closed by 10.1.0.2 port 22\n" },
		   FENCE_RESULT_FAILED,
		   "reset over ssh: exit 255: Connection closed by 10.1.0.2 port 22 "
		   "before the reset was sent");
	/* a hung connection after the marker: the reset had started */
	xlssh_case(&ok, &ok, &(struct runner_canned){ .timed_out = true,
			.out = "xenmesh-reset-sent\n" },
		   FENCE_RESULT_OK, "reset sent, then the connection dropped (timed out)");
	xlssh_case(&ok, &ok, &(struct runner_canned){ .timed_out = true },
		   FENCE_RESULT_TIMEOUT,
		   "reset over ssh: timed out after 0 ms before the reset was sent");
	/* the reset command itself failed, connection alive */
	xlssh_case(&ok, &ok, &(struct runner_canned){ .exit_code = 1,
			.out = "xenmesh-reset-sent\n",
			.err = "sh: 1: cannot create /proc/sysrq-trigger: Permission denied\n" },
		   FENCE_RESULT_FAILED,
		   "reset over ssh: exit 1: sh: 1: cannot create /proc/sysrq-trigger: "
		   "Permission denied");
	/* the destroys used the whole budget */
	xlssh_case(&(struct runner_canned){ .elapsed_ms = 10000 },
		   &(struct runner_canned){ .elapsed_ms = 20000 }, NULL,
		   FENCE_RESULT_TIMEOUT, "no time left for the reset");
}

/* ---- storage slot ---- */

struct slot {
	int calls;
	char host[16];
	uint32_t timeout;
};

static int
storage_fence(void *storage_data, const char *h, uint32_t timeout_ms,
	      fence_method_done_fn done, void *data)
{
	struct slot *s = storage_data;

	s->calls++;
	snprintf(s->host, sizeof(s->host), "%s", h);
	s->timeout = timeout_ms;
	done(data, FENCE_RESULT_OK, "initiator removed");
	return 0;
}

static void
test_storage_slot(void **state)
{
	struct slot s = { 0 };
	struct answer a = { 0 };
	struct fence_target t = { .host = "h2", .storage_fence = storage_fence,
				  .storage_data = &s };
	struct fence_action act = { .token = 1, .timeout_ms = 30000 };

	act.method = method("h2: level 1 storage");
	assert_int_equal(fence_method_run(NULL, &t, &act, answer_done, &a, NULL), 0);
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.host, "h2");
	assert_int_equal(s.timeout, 30000);
	assert_string_equal(a.msg, "initiator removed");
}

/* ---- fence-agent for real ---- */

static void
guard_fire(void *data)
{
	qb_loop_stop(data);
	fail_msg("no answer within 10 s");
}

static void
real_agent(const char *extra, uint32_t timeout_ms, struct answer *a, char *dir,
	   size_t dirlen)
{
	struct runner *r = NULL;
	qb_loop_timer_handle guard;
	char text[1024];

	snprintf(dir, dirlen, "/tmp/test_methods.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), "h1: level 1 fence-agent agent=%s/fake-fence-agent "
		 "plug=7 state=%s/power record=%s/record %s", TEST_SRCDIR, dir, dir, extra);
	a->loop = qb_loop_create();
	assert_non_null(a->loop);
	assert_int_equal(runner_exec_open(&r, a->loop, NULL), 0);
	assert_int_equal(fence_agent_run(r, method(text), timeout_ms, answer_done, a,
					 NULL), 0);
	assert_int_equal(qb_loop_timer_add(a->loop, QB_LOOP_LOW, 10000000000ULL, a->loop,
					   guard_fire, &guard), 0);
	qb_loop_run(a->loop);
	(void)qb_loop_timer_del(a->loop, guard);
	runner_close(r);
	qb_loop_destroy(a->loop);
	a->loop = NULL;
}

static void
read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	(void)unlink(path);
}

static void
test_agent_real(void **state)
{
	struct answer a = { 0 };
	char dir[64], buf[512];

	real_agent("", 10000, &a, dir, sizeof(dir));
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.msg, "off, status: off");
	assert_int_equal(a.res, FENCE_RESULT_OK);
	read_file(dir, "record", buf, sizeof(buf));
	assert_string_equal(buf, "action=off plug=7\naction=status plug=7\n");
	read_file(dir, "power", buf, sizeof(buf));
	assert_string_equal(buf, "off\n");
	assert_int_equal(rmdir(dir), 0);

	/* the power stays on: status says so */
	memset(&a, 0, sizeof(a));
	real_agent("still_on=1", 10000, &a, dir, sizeof(dir));
	assert_int_equal(a.res, FENCE_RESULT_FAILED);
	assert_string_equal(a.msg, "fake-fence-agent status: still on after off (exit 0)");
	read_file(dir, "record", buf, sizeof(buf));
	assert_string_equal(buf, "action=off plug=7 still_on=1\n"
			    "action=status plug=7 still_on=1\n");
	assert_int_equal(rmdir(dir), 0);

	/* a hung agent is killed at the method timeout */
	memset(&a, 0, sizeof(a));
	real_agent("sleep=5", 300, &a, dir, sizeof(dir));
	assert_int_equal(a.res, FENCE_RESULT_TIMEOUT);
	assert_non_null(strstr(a.msg, "fake-fence-agent off: timed out after "));
	read_file(dir, "record", buf, sizeof(buf));
	assert_string_equal(buf, "action=off plug=7 sleep=5\n");
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_invalid, teardown_cfg),
		cmocka_unit_test_teardown(test_agent_off_then_status, teardown_cfg),
		cmocka_unit_test_teardown(test_agent_plug_and_path, teardown_cfg),
		cmocka_unit_test_teardown(test_agent_failures, teardown_cfg),
		cmocka_unit_test_teardown(test_agent_abandon, teardown_cfg),
		cmocka_unit_test_teardown(test_xlssh_commands, teardown_cfg),
		cmocka_unit_test(test_xlssh_results),
		cmocka_unit_test_teardown(test_storage_slot, teardown_cfg),
		cmocka_unit_test_teardown(test_agent_real, teardown_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
