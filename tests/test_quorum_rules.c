/* Unit tests of ha/quorum_rules.c: the table of quorum cases and the
 * coordinator choice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quorum_rules.h"

#define TWO_NODE_REASON \
	"corosync is configured with two_node, which leaves both halves " \
	"of a split quorate: refused; remove two_node and add corosync-qnetd"

struct qcase {
	const char *what;
	struct quorum_input in;
	bool quorate;
	bool ha_enabled;
	const char *reason;
	const char *ha_reason;
};

/* connected, quorate, two_node, qdevice, expected, total, quorum
 * qdevice_votes */
static const struct qcase cases[] = {
	{ "disconnected, even if the last flags said quorate",
	  { false, true, false, true, 3, 3, 2, 0 },
	  false, false, "no connection to corosync",
	  "not quorate: no connection to corosync" },
	{ "disconnected and two_node: the connection comes first",
	  { false, false, true, false, 2, 2, 1, 0 },
	  false, false, "no connection to corosync",
	  "not quorate: no connection to corosync" },
	{ "two_node is refused even when votequorum says quorate",
	  { true, true, true, false, 2, 2, 1, 0 },
	  false, false, TWO_NODE_REASON, "not quorate: " TWO_NODE_REASON },
	{ "two_node with a qdevice is still refused",
	  { true, true, true, true, 3, 3, 2, 0 },
	  false, false, TWO_NODE_REASON, "not quorate: " TWO_NODE_REASON },
	{ "minority of three",
	  { true, false, false, false, 3, 1, 2, 0 },
	  false, false, "partition has 1 of 3 votes, 2 needed",
	  "not quorate: partition has 1 of 3 votes, 2 needed" },
	{ "minority of two hosts and a qdevice: the device's vote counted",
	  { true, false, false, true, 2, 1, 2, 1 },
	  false, false, "partition has 1 of 3 votes, 2 needed",
	  "not quorate: partition has 1 of 3 votes, 2 needed" },
	{ "half of four without qdevice",
	  { true, false, false, false, 4, 2, 3, 0 },
	  false, false, "partition has 2 of 4 votes, 3 needed",
	  "not quorate: partition has 2 of 4 votes, 3 needed" },
	{ "quorate, odd votes",
	  { true, true, false, false, 3, 2, 2, 0 },
	  true, true, "", "" },
	{ "quorate, all of five",
	  { true, true, false, false, 5, 5, 3, 0 },
	  true, true, "", "" },
	{ "quorate, even votes, no qdevice: HA refused",
	  { true, true, false, false, 4, 4, 3, 0 },
	  true, false, "",
	  "even number of votes (4) and no quorum device: HA VMs are not "
	  "managed; add corosync-qnetd" },
	{ "quorate, even votes with a qdevice",
	  { true, true, false, true, 4, 3, 3, 0 },
	  true, true, "", "" },
	{ "quorate, qdevice votes make the total odd",
	  { true, true, false, true, 7, 5, 4, 0 },
	  true, true, "", "" },
	{ "quorate, 32 hosts + 2 SAN, no qdevice",
	  { true, true, false, false, 34, 30, 18, 0 },
	  true, false, "",
	  "even number of votes (34) and no quorum device: HA VMs are not "
	  "managed; add corosync-qnetd" },
};

static void
test_quorum_null(void **unused)
{
	struct quorum_verdict v;

	quorum_rules_eval(NULL, NULL);
	memset(&v, 0x5a, sizeof(v));
	quorum_rules_eval(NULL, &v);
	assert_false(v.quorate);
	assert_false(v.ha_enabled);
	assert_string_equal(v.reason, "no connection to corosync");
}

static void
test_quorum_table(void **unused)
{
	struct quorum_verdict v;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct qcase *c = &cases[i];

		print_message("case: %s\n", c->what);
		memset(&v, 0x5a, sizeof(v));
		quorum_rules_eval(&c->in, &v);
		assert_int_equal(v.quorate, c->quorate);
		assert_int_equal(v.ha_enabled, c->ha_enabled);
		assert_string_equal(v.reason, c->reason);
		assert_string_equal(v.ha_reason, c->ha_reason);
		/* HA never without quorum. */
		assert_true(!v.ha_enabled || v.quorate);
	}
}

static void
test_coordinator_choose(void **unused)
{
	const uint32_t m[] = { 7, 3, 0, 12, 5 };
	const uint32_t zeros[] = { 0, 0 };
	const uint32_t one[] = { 42 };

	assert_int_equal(coordinator_choose(NULL, 3, true), 0);
	assert_int_equal(coordinator_choose(m, 0, true), 0);
	assert_int_equal(coordinator_choose(m, 5, false), 0);
	assert_int_equal(coordinator_choose(zeros, 2, true), 0);
	assert_int_equal(coordinator_choose(m, 5, true), 3);
	assert_int_equal(coordinator_choose(m, 1, true), 7);
	assert_int_equal(coordinator_choose(one, 1, true), 42);
	assert_int_equal(coordinator_choose(&m[2], 3, true), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quorum_null),
		cmocka_unit_test(test_quorum_table),
		cmocka_unit_test(test_coordinator_choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
