/* Tests of storage/cmdseq.c against the recorder: order, stop at the first
 * failure, tolerated steps, stdin, abandon, bad input first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cmdseq.h"
#include "runner.h"

struct got {
	int calls;
	struct cmdseq_outcome o;
	char last_out[256];
};

static void
got_done(void *data, const struct cmdseq_outcome *o)
{
	struct got *g = data;

	g->calls++;
	g->o = *o;
	g->o.last = NULL;
	snprintf(g->last_out, sizeof(g->last_out), "%s",
		 o->last ? o->last->out.data : "");
}

static void
test_bad_input(void **state)
{
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };
	const char *const empty[] = { NULL };

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	cmdseq_init(&s);
	assert_int_equal(cmdseq_run(r, &s, got_done, &g, NULL), -ENODATA);
	assert_int_equal(cmdseq_addv(&s, empty), -EINVAL);
	/* sticky: later appends and the run report the first error */
	assert_int_equal(cmdseq_add(&s, "tgtadm", "--op", "show", NULL), -EINVAL);
	assert_int_equal(cmdseq_run(r, &s, got_done, &g, NULL), -EINVAL);
	assert_int_equal(runner_recorder_count(r), 0);
	cmdseq_free(&s);
	cmdseq_init(&s);
	assert_int_equal(cmdseq_set_stdin(&s, "x"), -EINVAL);
	cmdseq_free(&s);
	runner_close(r);
	assert_int_equal(g.calls, 0);
}

static void
test_runs_in_order_and_stops_at_failure(void **state)
{
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };
	char msg[256];

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	runner_recorder_expect(r, "lvcreate", &(struct runner_canned){ 0 });
	runner_recorder_expect(r, "tgtadm --op delete",
			       &(struct runner_canned){ .exit_code = 22,
							.err = "tgtadm: can't find the session\n" });
	runner_recorder_expect(r, "tgtadm --op new",
			       &(struct runner_canned){ .exit_code = 1,
							.err = "tgtadm: this target already exists\n" });
	cmdseq_init(&s);
	cmdseq_add(&s, "lvcreate", "-L", "64m", NULL);
	cmdseq_add(&s, "tgtadm", "--op", "delete", NULL);
	cmdseq_tolerate(&s);
	cmdseq_add(&s, "tgtadm", "--op", "new", NULL);
	cmdseq_add(&s, "never", NULL);
	assert_int_equal(cmdseq_run(r, &s, got_done, &g, NULL), 0);
	assert_int_equal(s.n, 0);               /* taken over */
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.o.rc, -EIO);
	assert_int_equal(g.o.failed, 2);
	assert_int_equal(g.o.tolerated, 1);
	assert_string_equal(g.o.message,
			    "tgtadm --op new: exit 1: tgtadm: this target already exists");
	assert_int_equal(runner_recorder_count(r), 3);
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	runner_close(r);
}

static void
test_last_output_and_stdin(void **state)
{
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_expect(r, "tee", &(struct runner_canned){ 0 });
	runner_recorder_expect(r, "tgtadm", &(struct runner_canned){ .out = "Target 1: x\n" });
	cmdseq_init(&s);
	cmdseq_add(&s, "tee", "/etc/drbd.d/r.res", NULL);
	cmdseq_set_stdin(&s, "resource r {}\n");
	cmdseq_set_timeout(&s, 1234);
	cmdseq_add(&s, "tgtadm", "--op", "show", NULL);
	assert_int_equal(cmdseq_run(r, &s, got_done, &g, NULL), 0);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.o.rc, 0);
	assert_string_equal(g.last_out, "Target 1: x\n");
	assert_string_equal(runner_recorder_get(r, 0)->stdin_data, "resource r {}\n");
	assert_int_equal(runner_recorder_get(r, 0)->timeout_ms, 1234);
	assert_int_equal(runner_recorder_get(r, 1)->timeout_ms, CMDSEQ_TIMEOUT_DEFAULT_MS);
	runner_close(r);
}

static void
test_abandon(void **state)
{
	struct cmdseq s;
	struct runner *r;
	struct cmdseq_op *op;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_expect(r, NULL, &(struct runner_canned){ 0 });
	cmdseq_init(&s);
	cmdseq_add(&s, "a", NULL);
	cmdseq_add(&s, "b", NULL);
	assert_int_equal(cmdseq_run(r, &s, got_done, &g, &op), 0);
	cmdseq_op_abandon(op);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(g.calls, 0);
	assert_int_equal(runner_recorder_count(r), 1);  /* b never ran */
	runner_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_runs_in_order_and_stops_at_failure),
		cmocka_unit_test(test_last_output_and_stdin),
		cmocka_unit_test(test_abandon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
