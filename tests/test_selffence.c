/* Tests of fencing/selffence.c: the petting rule, the self-fence state
 * machine and the deadline W.  Pure module: times are plain numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "selffence.h"

#define T_HB 3000u
/* Monotonic times far from 0, which the rule reads as "no heartbeat". */
#define T0 100000u

/* ---- selffence_should_pet: the table ------------------------------------ */

struct pet_case {
	const char *what;
	struct selffence_input in;
	bool pet;
};

static void
test_should_pet_table(void **state)
{
	static const struct pet_case cases[] = {
		/* refusals first */
		{ "not quorate",
		  { false, T0 + 100, T0, T_HB, false }, false },
		{ "begun",
		  { true, T0 + 100, T0, T_HB, true }, false },
		{ "begun and not quorate",
		  { false, T0 + 100, T0, T_HB, true }, false },
		{ "no heartbeat back yet",
		  { true, T0, 0, T_HB, false }, false },
		{ "no heartbeat yet, early clock",
		  { true, 10, 0, T_HB, false }, false },
		{ "t_hb 0",
		  { true, T0, T0, 0, false }, false },
		{ "heartbeat one ms too old",
		  { true, T0 + T_HB + 1, T0, T_HB, false }, false },
		{ "heartbeat much too old",
		  { true, T0 + 60000, T0, T_HB, false }, false },
		{ "heartbeat from the future",
		  { true, T0, T0 + 1, T_HB, false }, false },
		/* then the petting cases */
		{ "heartbeat just back",
		  { true, T0, T0, T_HB, false }, true },
		{ "heartbeat 1 ms old",
		  { true, T0 + 1, T0, T_HB, false }, true },
		{ "heartbeat exactly t_hb old",
		  { true, T0 + T_HB, T0, T_HB, false }, true },
		{ "t_hb 1, on the edge",
		  { true, T0 + 1, T0, 1, false }, true },
		{ "huge clock values",
		  { true, UINT64_MAX, UINT64_MAX - T_HB, T_HB, false }, true },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = selffence_should_pet(&cases[i].in);

		if (got != cases[i].pet)
			fail_msg("case \"%s\": should_pet %d, expected %d",
			    cases[i].what, got, cases[i].pet);
	}
}

/* ---- the state machine --------------------------------------------------- */

static void
test_init_pets_nothing(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	assert_false(selffence_begun(&sf));
	assert_int_equal(sf.reason, SELFFENCE_REASON_NONE);
	/* Never quorate: no pet, and nothing to give up either. */
	assert_int_equal(selffence_tick(&sf, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_tick(&sf, T0 + 10 * T_HB), SELFFENCE_NONE);
	assert_int_equal(selffence_on_quorum(&sf, false, T0 + 11 * T_HB),
	    SELFFENCE_NONE);
	assert_false(selffence_begun(&sf));
}

static void
test_quorate_waits_for_first_heartbeat(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	/* Quorate, heartbeat not back yet: wait, neither pet nor fence. */
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_tick(&sf, T0 + T_HB), SELFFENCE_NONE);
	/* It comes back: pet right away and on the following ticks. */
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0 + T_HB),
	    SELFFENCE_PET);
	assert_int_equal(selffence_tick(&sf, T0 + T_HB + 500), SELFFENCE_PET);
	assert_false(selffence_begun(&sf));
}

static void
test_first_heartbeat_never_back_does_not_pet(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_tick(&sf, T0 + T_HB + 1), SELFFENCE_NONE);
	assert_int_equal(sf.reason, SELFFENCE_REASON_HEARTBEAT_STALL);
	assert_false(selffence_begun(&sf));
}

static void
test_heartbeat_before_quorum_counts(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	/* CPG delivers before votequorum reports: the heartbeat still counts. */
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_on_quorum(&sf, true, T0 + 10), SELFFENCE_PET);
}

static void
test_quorum_loss_begins(void **state)
{
	struct selffence sf;
	uint64_t t;

	selffence_init(&sf, T_HB);
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	for (t = T0; t < T0 + 5000; t += 500) {
		assert_int_equal(selffence_on_heartbeat_back(&sf, t),
		    SELFFENCE_PET);
		assert_int_equal(selffence_tick(&sf, t + 100), SELFFENCE_PET);
	}
	/* Heartbeat fresh, but quorum gone: begin at once, exactly once. */
	assert_int_equal(selffence_on_quorum(&sf, false, T0 + 5000),
	    SELFFENCE_BEGIN);
	assert_true(selffence_begun(&sf));
	assert_int_equal(sf.reason, SELFFENCE_REASON_QUORUM_LOST);
	assert_int_equal(sf.begun_at_ms, T0 + 5000);
	assert_string_equal(selffence_reason_str(sf.reason), "quorum lost");
	assert_int_equal(selffence_tick(&sf, T0 + 5001), SELFFENCE_NONE);
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0 + 5002),
	    SELFFENCE_NONE);
	assert_int_equal(selffence_on_quorum(&sf, false, T0 + 5003),
	    SELFFENCE_NONE);
}

static void
test_heartbeat_stall_stops_petting(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0), SELFFENCE_PET);
	/* Still quorate (a membership change in progress, or corosync hung:
	 * nobody tells us otherwise). */
	assert_int_equal(selffence_tick(&sf, T0 + 1000), SELFFENCE_PET);
	assert_int_equal(selffence_tick(&sf, T0 + T_HB), SELFFENCE_PET);
	/* Past T_hb: no petting, but no self-fence either: the watchdog
	 * decides if the stall lasts, quorum loss if we were lost. */
	assert_int_equal(selffence_tick(&sf, T0 + T_HB + 1), SELFFENCE_NONE);
	assert_int_equal(sf.reason, SELFFENCE_REASON_HEARTBEAT_STALL);
	assert_false(selffence_begun(&sf));
	assert_int_equal(selffence_tick(&sf, T0 + T_HB + 500), SELFFENCE_NONE);
	/* The heartbeat comes back while quorate: petting resumes. */
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0 + T_HB + 600),
	    SELFFENCE_PET);
	assert_int_equal(selffence_tick(&sf, T0 + T_HB + 700), SELFFENCE_PET);
	/* A stall followed by quorum loss begins the self-fence. */
	assert_int_equal(selffence_tick(&sf, T0 + 3 * T_HB), SELFFENCE_NONE);
	assert_int_equal(selffence_on_quorum(&sf, false, T0 + 3 * T_HB + 1),
	    SELFFENCE_BEGIN);
	assert_true(selffence_begun(&sf));
}

static void
test_begun_quorum_back_does_not_pet(void **state)
{
	struct selffence sf;
	uint64_t t;

	selffence_init(&sf, T_HB);
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0), SELFFENCE_PET);
	assert_int_equal(selffence_on_quorum(&sf, false, T0 + 100),
	    SELFFENCE_BEGIN);
	/* Partition heals: quorate again, heartbeats flowing.  Never again. */
	assert_int_equal(selffence_on_quorum(&sf, true, T0 + 200),
	    SELFFENCE_NONE);
	for (t = T0 + 300; t < T0 + 10000; t += 250) {
		assert_int_equal(selffence_on_heartbeat_back(&sf, t),
		    SELFFENCE_NONE);
		assert_int_equal(selffence_tick(&sf, t + 1), SELFFENCE_NONE);
	}
	assert_true(selffence_begun(&sf));
	assert_int_equal(sf.reason, SELFFENCE_REASON_QUORUM_LOST);
	assert_int_equal(sf.begun_at_ms, T0 + 100);
}

static void
test_heartbeat_out_of_order_keeps_latest(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0 + 2000),
	    SELFFENCE_PET);
	/* An older time does not move the mark back; "now" before the mark
	 * is a clock mix-up: no pet (and no fence either). */
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0 + 1000),
	    SELFFENCE_NONE);
	assert_false(selffence_begun(&sf));
	assert_int_equal(sf.last_heartbeat_back_ms, T0 + 2000);
	assert_int_equal(selffence_tick(&sf, T0 + 2000 + T_HB), SELFFENCE_PET);
}

static void
test_magic_close_ok(void **state)
{
	struct selffence sf;

	selffence_init(&sf, T_HB);
	assert_false(selffence_magic_close_ok(&sf, 1));
	assert_true(selffence_magic_close_ok(&sf, 0));
	assert_int_equal(selffence_on_quorum(&sf, true, T0), SELFFENCE_NONE);
	assert_int_equal(selffence_on_heartbeat_back(&sf, T0), SELFFENCE_PET);
	assert_false(selffence_magic_close_ok(&sf, 3));
	assert_true(selffence_magic_close_ok(&sf, 0));
	assert_int_equal(selffence_on_quorum(&sf, false, T0 + 1),
	    SELFFENCE_BEGIN);
	/* Once begun, never disarm, even with every domain destroyed. */
	assert_false(selffence_magic_close_ok(&sf, 0));
}

static void
test_reason_str(void **state)
{
	assert_string_equal(selffence_reason_str(SELFFENCE_REASON_NONE), "none");
	assert_string_equal(selffence_reason_str(SELFFENCE_REASON_HEARTBEAT_STALL),
	    "own heartbeat did not come back in time");
	assert_string_equal(selffence_reason_str((enum selffence_reason)99),
	    "unknown");
}

/* ---- W ------------------------------------------------------------------- */

static void
test_deadline(void **state)
{
	/* Unknown watchdog timeout: waiting never fences. */
	assert_true(selffence_deadline_ms(1000, 1200, 3000, 0, 2000) ==
	    UINT64_MAX);
	/* The rig's figures: token 1000, consensus 1200, T_hb 3000, 10 s. */
	assert_int_equal(selffence_deadline_ms(1000, 1200, 3000, 10, 2000),
	    1000 + 1200 + 3000 + 10000 + 2000);
	/* Each term counts once. */
	assert_int_equal(selffence_deadline_ms(0, 0, 0, 1, 0), 1000);
	assert_int_equal(selffence_deadline_ms(1, 0, 0, 1, 0), 1001);
	assert_int_equal(selffence_deadline_ms(0, 1, 0, 1, 0), 1001);
	assert_int_equal(selffence_deadline_ms(0, 0, 1, 1, 0), 1001);
	assert_int_equal(selffence_deadline_ms(0, 0, 0, 1, 1), 1001);
	/* No 32-bit wrap. */
	assert_true(selffence_deadline_ms(UINT32_MAX, UINT32_MAX, UINT32_MAX,
	    UINT32_MAX, UINT32_MAX) ==
	    4 * (uint64_t)UINT32_MAX + (uint64_t)UINT32_MAX * 1000u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_should_pet_table),
		cmocka_unit_test(test_init_pets_nothing),
		cmocka_unit_test(test_quorate_waits_for_first_heartbeat),
		cmocka_unit_test(test_first_heartbeat_never_back_does_not_pet),
		cmocka_unit_test(test_heartbeat_before_quorum_counts),
		cmocka_unit_test(test_quorum_loss_begins),
		cmocka_unit_test(test_heartbeat_stall_stops_petting),
		cmocka_unit_test(test_begun_quorum_back_does_not_pet),
		cmocka_unit_test(test_heartbeat_out_of_order_keeps_latest),
		cmocka_unit_test(test_magic_close_ok),
		cmocka_unit_test(test_reason_str),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
