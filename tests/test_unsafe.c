/* The unsafe test build's switches (ha/unsafe.h).
 *
 * In a normal build no environment can switch a safety rule off; in a
 * build configured with --enable-unsafe-test-build XM_UNSAFE does, mode by
 * exact name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unsafe.h"

#ifndef XM_UNSAFE_TEST_BUILD

static void
test_normal_build_ignores_environment(void **unused)
{
	assert_int_equal(unsetenv("XM_UNSAFE"), 0);
	assert_false(xm_unsafe("fence-wait"));
	assert_int_equal(setenv("XM_UNSAFE", "fence-wait", 1), 0);
	assert_false(xm_unsafe("fence-wait"));
	assert_null(xm_unsafe_modes());
	assert_int_equal(setenv("XM_UNSAFE", "fence-wait,quorum,epoch,san-export", 1), 0);
	assert_false(xm_unsafe("fence-wait"));
	assert_false(xm_unsafe("quorum"));
	assert_false(xm_unsafe("epoch"));
	assert_false(xm_unsafe("san-export"));
	assert_null(xm_unsafe_modes());
}

#else

static void
test_unsafe_build_off_without_environment(void **unused)
{
	assert_int_equal(unsetenv("XM_UNSAFE"), 0);
	assert_false(xm_unsafe("fence-wait"));
	assert_null(xm_unsafe_modes());
	assert_int_equal(setenv("XM_UNSAFE", "", 1), 0);
	assert_false(xm_unsafe("fence-wait"));
	assert_null(xm_unsafe_modes());
	assert_int_equal(setenv("XM_UNSAFE", " , ", 1), 0);
	assert_null(xm_unsafe_modes());
}

static void
test_unsafe_build_follows_environment(void **unused)
{
	assert_int_equal(setenv("XM_UNSAFE", "fence-wait", 1), 0);
	assert_true(xm_unsafe("fence-wait"));
	assert_false(xm_unsafe("quorum"));
	assert_string_equal(xm_unsafe_modes(), "fence-wait");

	assert_int_equal(setenv("XM_UNSAFE", "quorum, san-export,epoch", 1), 0);
	assert_true(xm_unsafe("quorum"));
	assert_true(xm_unsafe("san-export"));
	assert_true(xm_unsafe("epoch"));
	assert_false(xm_unsafe("fence-wait"));
}

/* names match whole, never as a prefix or a part */
static void
test_unsafe_build_exact_names(void **unused)
{
	assert_int_equal(setenv("XM_UNSAFE", "fence-waiting,xquorum,epo", 1), 0);
	assert_false(xm_unsafe("fence-wait"));
	assert_false(xm_unsafe("quorum"));
	assert_false(xm_unsafe("epoch"));
	assert_false(xm_unsafe(""));
	assert_int_equal(unsetenv("XM_UNSAFE"), 0);
}

#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
#ifndef XM_UNSAFE_TEST_BUILD
		cmocka_unit_test(test_normal_build_ignores_environment),
#else
		cmocka_unit_test(test_unsafe_build_off_without_environment),
		cmocka_unit_test(test_unsafe_build_follows_environment),
		cmocka_unit_test(test_unsafe_build_exact_names),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
