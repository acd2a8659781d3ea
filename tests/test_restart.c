/* Unit tests of ha/restart.c: the restart policy of a VM that stopped on a
 * healthy host, with exact verdicts and reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "restart.h"

#define S 1000ULL       /* ms per second */
#define T0 (1700000000ULL * S)

static struct vm_ha
ha_make(enum vm_restart r, uint32_t max, uint32_t window_s)
{
	struct vm_ha ha;

	memset(&ha, 0, sizeof(ha));
	ha.restart = r;
	ha.max_restarts = max;
	ha.restart_window_s = window_s;
	return ha;
}

static void
expect_verdict(const struct vm_ha *ha, const struct restart_history *h,
	       uint32_t host, enum vm_exit how, uint64_t now,
	       enum restart_verdict want, const char *want_why)
{
	char why[160];
	enum restart_verdict v;

	memset(why, 'x', sizeof(why));
	v = restart_decide(ha, h, host, how, now, why, sizeof(why));
	assert_string_equal(why, want_why);
	assert_string_equal(restart_verdict_name(v), restart_verdict_name(want));
	assert_int_equal(v, want);
}

static void
test_restart_invalid(void **unused)
{
	struct vm_ha ha = ha_make(VM_RESTART_ALWAYS, 3, 600);
	struct restart_history h;
	char why[8];

	restart_reset(&h);
	expect_verdict(NULL, &h, 1, VM_EXIT_CRASH, T0, RESTART_NO,
		       "invalid arguments");
	expect_verdict(&ha, NULL, 1, VM_EXIT_CRASH, T0, RESTART_NO,
		       "invalid arguments");

	h.n = RESTART_HISTORY_MAX + 1;
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0, RESTART_NO,
		       "invalid restart history (33 entries)");
	restart_reset(&h);
	assert_int_equal(h.n, 0);

	expect_verdict(&ha, &h, 1, (enum vm_exit)42, T0, RESTART_NO,
		       "unknown exit reason 42");
	ha.restart = (enum vm_restart)0;
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0, RESTART_NO,
		       "unknown ha_restart policy 0");
	ha.restart = VM_RESTART_ALWAYS;

	/* No reason buffer, or a tiny one: verdict still right, no
	 * overflow, always terminated. */
	assert_int_equal(restart_decide(&ha, &h, 1, VM_EXIT_CRASH, T0, NULL, 0),
			 RESTART_IN_PLACE);
	assert_int_equal(restart_decide(&ha, &h, 1, VM_EXIT_CRASH, T0, why, 0),
			 RESTART_IN_PLACE);
	assert_int_equal(restart_decide(&ha, &h, 1, VM_EXIT_CRASH, T0, why,
					sizeof(why)), RESTART_IN_PLACE);
	assert_string_equal(why, "crashed");

	/* NULL is accepted by the mutators and the counter. */
	restart_record(NULL, 1, T0);
	restart_reset(NULL);
	assert_int_equal(restart_count(NULL, 600, T0), 0);
	assert_string_equal(restart_verdict_name((enum restart_verdict)9),
			    "unknown");
}

static void
test_restart_admin_and_reboot(void **unused)
{
	static const enum vm_restart pol[] = {
		VM_RESTART_ALWAYS, VM_RESTART_ON_FAILURE, VM_RESTART_NEVER,
	};
	struct restart_history h;
	size_t i;

	restart_reset(&h);
	for (i = 0; i < 3; i++) {
		struct vm_ha ha = ha_make(pol[i], 3, 600);

		expect_verdict(&ha, &h, 1, VM_EXIT_STOPPED_BY_ADMIN, T0,
			       RESTART_NO, "stopped by an admin");
		expect_verdict(&ha, &h, 1, VM_EXIT_REBOOT, T0,
			       RESTART_RECREATE,
			       "guest rebooted: recreating it in place");
	}

	/* A reboot is no failure: even at the limit it is recreated. */
	{
		struct vm_ha ha = ha_make(VM_RESTART_ALWAYS, 2, 600);

		restart_record(&h, 1, T0);
		restart_record(&h, 1, T0 + 1 * S);
		expect_verdict(&ha, &h, 1, VM_EXIT_REBOOT, T0 + 2 * S,
			       RESTART_RECREATE,
			       "guest rebooted: recreating it in place");
		expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0 + 2 * S,
			       RESTART_FAILED, "restarted twice in 600 s");
	}
}

static void
test_restart_poweroff_policies(void **unused)
{
	struct vm_ha always = ha_make(VM_RESTART_ALWAYS, 3, 600);
	struct vm_ha onfail = ha_make(VM_RESTART_ON_FAILURE, 3, 600);
	struct vm_ha never = ha_make(VM_RESTART_NEVER, 3, 600);
	struct restart_history h;

	restart_reset(&h);
	expect_verdict(&onfail, &h, 1, VM_EXIT_POWEROFF, T0, RESTART_NO,
		       "guest powered off and ha_restart is on-failure");
	expect_verdict(&never, &h, 1, VM_EXIT_POWEROFF, T0, RESTART_NO,
		       "guest powered off and ha_restart is never");
	expect_verdict(&always, &h, 1, VM_EXIT_POWEROFF, T0, RESTART_IN_PLACE,
		       "powered off: restarting in place (restart 1 of 3 in 600 s)");

	/* Poweroffs count against the limit but never move the VM. */
	restart_record(&h, 1, T0);
	restart_record(&h, 1, T0 + 10 * S);
	expect_verdict(&always, &h, 1, VM_EXIT_POWEROFF, T0 + 20 * S,
		       RESTART_IN_PLACE,
		       "powered off: restarting in place (restart 3 of 3 in 600 s)");
	restart_record(&h, 1, T0 + 20 * S);
	expect_verdict(&always, &h, 1, VM_EXIT_POWEROFF, T0 + 30 * S,
		       RESTART_FAILED, "restarted 3 times in 600 s");

	/* Crash policies. */
	restart_reset(&h);
	expect_verdict(&never, &h, 1, VM_EXIT_CRASH, T0, RESTART_NO,
		       "crashed and ha_restart is never");
	expect_verdict(&onfail, &h, 1, VM_EXIT_CRASH, T0, RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 1 of 3 in 600 s)");
	expect_verdict(&always, &h, 1, VM_EXIT_CRASH, T0, RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 1 of 3 in 600 s)");
}

/* The rig scenario: kill a guest repeatedly.  In place, moved, in place on
 * the new host, then failed; cleanup clears it. */
static void
test_restart_sequence(void **unused)
{
	struct vm_ha ha = ha_make(VM_RESTART_ON_FAILURE, 3, 600);
	struct restart_history h;

	restart_reset(&h);
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0, RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 1 of 3 in 600 s)");
	restart_record(&h, 1, T0);

	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0 + 30 * S,
		       RESTART_ELSEWHERE,
		       "crashed twice on node 1 within 600 s, moving");
	restart_record(&h, 1, T0 + 30 * S);

	/* Now on node 2: one death here, two restarts so far. */
	expect_verdict(&ha, &h, 2, VM_EXIT_CRASH, T0 + 60 * S,
		       RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 3 of 3 in 600 s)");
	restart_record(&h, 2, T0 + 60 * S);
	assert_int_equal(h.n, 3);
	assert_int_equal(restart_count(&h, 600, T0 + 60 * S), 3);

	expect_verdict(&ha, &h, 2, VM_EXIT_CRASH, T0 + 90 * S,
		       RESTART_FAILED, "restarted 3 times in 600 s");

	/* agentctl vm cleanup */
	restart_reset(&h);
	assert_int_equal(h.n, 0);
	expect_verdict(&ha, &h, 2, VM_EXIT_CRASH, T0 + 91 * S,
		       RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 1 of 3 in 600 s)");
}

static void
test_restart_window_expiry(void **unused)
{
	struct vm_ha ha = ha_make(VM_RESTART_ALWAYS, 3, 600);
	struct restart_history h;

	restart_reset(&h);
	restart_record(&h, 1, T0);
	restart_record(&h, 2, T0 + 100 * S);
	restart_record(&h, 3, T0 + 200 * S);

	/* All three within 600 s. */
	expect_verdict(&ha, &h, 4, VM_EXIT_CRASH, T0 + 599 * S,
		       RESTART_FAILED, "restarted 3 times in 600 s");
	/* One ms before the first expires, it still counts... */
	expect_verdict(&ha, &h, 4, VM_EXIT_CRASH, T0 + 600 * S - 1,
		       RESTART_FAILED, "restarted 3 times in 600 s");
	/* ...exactly 600 s old, it has expired. */
	expect_verdict(&ha, &h, 4, VM_EXIT_CRASH, T0 + 600 * S,
		       RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 3 of 3 in 600 s)");
	assert_int_equal(restart_count(&h, 600, T0 + 600 * S), 2);
	assert_int_equal(restart_count(&h, 600, T0 + 800 * S), 0);
	assert_int_equal(restart_count(&h, 60, T0 + 250 * S), 1);

	/* Two deaths on node 1, the first one expired: stays in place. */
	restart_reset(&h);
	restart_record(&h, 1, T0);
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0 + 700 * S,
		       RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 1 of 3 in 600 s)");
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0 + 500 * S,
		       RESTART_ELSEWHERE,
		       "crashed twice on node 1 within 600 s, moving");

	/* A stamp from a clock ahead of ours counts as now. */
	restart_reset(&h);
	restart_record(&h, 1, T0 + 50 * S);
	assert_int_equal(restart_count(&h, 600, T0), 1);

	/* Window 0 counts nothing: no limit, never moved. */
	ha.restart_window_s = 0;
	restart_record(&h, 1, T0);
	restart_record(&h, 1, T0);
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0, RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 1 of 3 in 0 s)");
}

static void
test_restart_limits(void **unused)
{
	struct vm_ha ha = ha_make(VM_RESTART_ALWAYS, 0, 600);
	struct restart_history h;
	uint32_t i;

	restart_reset(&h);
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0, RESTART_FAILED,
		       "crashed and ha_max_restarts is 0");
	expect_verdict(&ha, &h, 1, VM_EXIT_POWEROFF, T0, RESTART_FAILED,
		       "powered off and ha_max_restarts is 0");

	ha.max_restarts = 1;
	restart_record(&h, 7, T0);
	expect_verdict(&ha, &h, 3, VM_EXIT_CRASH, T0 + S, RESTART_FAILED,
		       "restarted once in 600 s");

	/* Deaths elsewhere do not count towards moving. */
	ha.max_restarts = 5;
	restart_record(&h, 2, T0 + 1 * S);
	restart_record(&h, 3, T0 + 2 * S);
	expect_verdict(&ha, &h, 4, VM_EXIT_CRASH, T0 + 3 * S,
		       RESTART_IN_PLACE,
		       "crashed: restarting in place (restart 4 of 5 in 600 s)");
	/* Back on a host it died on twice already: three deaths there. */
	restart_record(&h, 2, T0 + 4 * S);
	expect_verdict(&ha, &h, 2, VM_EXIT_CRASH, T0 + 5 * S,
		       RESTART_ELSEWHERE,
		       "crashed 3 times on node 2 within 600 s, moving");
	/* The limit is checked before moving. */
	ha.max_restarts = 4;
	expect_verdict(&ha, &h, 2, VM_EXIT_CRASH, T0 + 5 * S,
		       RESTART_FAILED, "restarted 4 times in 600 s");

	/* A limit above the history size is held at the history size. */
	restart_reset(&h);
	ha.max_restarts = 1000;
	ha.restart_window_s = 3600;
	for (i = 0; i < RESTART_HISTORY_MAX + 5; i++)
		restart_record(&h, 10 + i, T0 + i * S);
	assert_int_equal(h.n, RESTART_HISTORY_MAX);
	/* Oldest dropped, newest last, order kept. */
	assert_int_equal(h.host[0], 15);
	assert_int_equal(h.at_ms[0], T0 + 5 * S);
	assert_int_equal(h.host[RESTART_HISTORY_MAX - 1],
			 10 + RESTART_HISTORY_MAX + 4);
	assert_int_equal(h.at_ms[RESTART_HISTORY_MAX - 1],
			 T0 + (RESTART_HISTORY_MAX + 4) * S);
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0 + 100 * S,
		       RESTART_FAILED, "restarted 32 times in 3600 s");
	ha.max_restarts = 33;
	expect_verdict(&ha, &h, 1, VM_EXIT_CRASH, T0 + 100 * S,
		       RESTART_FAILED, "restarted 32 times in 3600 s");
	/* A corrupt count is repaired by the next record, not overflowed. */
	h.n = RESTART_HISTORY_MAX + 7;
	restart_record(&h, 99, T0 + 200 * S);
	assert_int_equal(h.n, RESTART_HISTORY_MAX);
	assert_int_equal(h.host[RESTART_HISTORY_MAX - 1], 99);
}

static void
test_restart_deterministic(void **unused)
{
	struct vm_ha ha = ha_make(VM_RESTART_ON_FAILURE, 4, 300);
	struct restart_history h;
	char a[160], b[160];
	int i;

	restart_reset(&h);
	restart_record(&h, 1, T0);
	restart_record(&h, 2, T0 + 10 * S);
	for (i = 0; i < 3; i++) {
		assert_int_equal(restart_decide(&ha, &h, 2, VM_EXIT_CRASH,
						T0 + 20 * S, a, sizeof(a)),
				 RESTART_ELSEWHERE);
		assert_int_equal(restart_decide(&ha, &h, 2, VM_EXIT_CRASH,
						T0 + 20 * S, b, sizeof(b)),
				 RESTART_ELSEWHERE);
		assert_string_equal(a, b);
	}
	assert_string_equal(a, "crashed twice on node 2 within 300 s, moving");
	/* decide() does not change the history. */
	assert_int_equal(h.n, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_invalid),
		cmocka_unit_test(test_restart_admin_and_reboot),
		cmocka_unit_test(test_restart_poweroff_policies),
		cmocka_unit_test(test_restart_sequence),
		cmocka_unit_test(test_restart_window_expiry),
		cmocka_unit_test(test_restart_limits),
		cmocka_unit_test(test_restart_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
