/* Tests of fencing/chain.c: the config parser (errors first), the
 * formatter, and the chain state machine driven by a hand-held clock.
 */
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

/* ---- config errors ---- */

static void
expect_error(const char *text, const char *msg)
{
	struct fence_config c = { 0 };
	char err[512];

	assert_int_equal(fence_config_parse(text, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
	assert_int_equal(c.n_hosts, 0);
	assert_null(c.hosts);
}

static void
test_config_errors(void **state)
{
	struct fence_config c = { 0 };

	assert_int_equal(fence_config_parse(NULL, &c, NULL, 0), -EINVAL);
	assert_int_equal(fence_config_parse("", NULL, NULL, 0), -EINVAL);

	expect_error("h1: level 1 fence-agnt agent=fence_ipmilan",
		     "line 1: h1: level 1: unknown method 'fence-agnt' (expected "
		     "storage, fence-agent, xl-ssh or deadline)");
	expect_error("h1: level storage",
		     "line 1: h1: missing level number (level N METHOD ...)");
	expect_error("h1: level",
		     "line 1: h1: missing level number (level N METHOD ...)");
	expect_error("h1: level 0 storage",
		     "line 1: h1: bad level number '0' (1 to 99)");
	expect_error("h1: level 1x storage",
		     "line 1: h1: bad level number '1x' (1 to 99)");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan lanplus",
		     "line 1: h1: level 1: fence-agent: 'lanplus' is not KEY=VALUE");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan ip=",
		     "line 1: h1: level 1: ip= has no value");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan IP=10.0.0.1",
		     "line 1: h1: level 1: bad key 'IP' (lower case letters, digits, _)");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan =x",
		     "line 1: h1: level 1: bad key '' (lower case letters, digits, _)");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan ip=a ip=b",
		     "line 1: h1: level 1: ip= given twice");
	expect_error("h1: level 1 fence-agent ip=10.0.0.1",
		     "line 1: h1: level 1: fence-agent needs agent=NAME "
		     "(e.g. agent=fence_ipmilan)");
	expect_error("h1: level 1 fence-agent agent=ipmitool",
		     "line 1: h1: level 1: agent 'ipmitool' is neither a fence_* "
		     "name nor an absolute path");
	expect_error("h1: level 1 fence-agent agent=../fence_x",
		     "line 1: h1: level 1: agent '../fence_x' is neither a fence_* "
		     "name nor an absolute path");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan action=reboot",
		     "line 1: h1: level 1: action= is set by xenmesh (off, then status)");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan timeout=0",
		     "line 1: h1: level 1: bad timeout '0' (seconds, or 500ms, 20s; not 0)");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan timeout=5m",
		     "line 1: h1: level 1: bad timeout '5m' (seconds, or 500ms, 20s; not 0)");
	expect_error("h1: level 1 fence-agent agent=fence_ipmilan password='abc",
		     "line 1: h1: level 1: unterminated quote '");
	expect_error("h1: level 1 xl-ssh host=10.0.0.1",
		     "line 1: h1: level 1: xl-ssh: unknown option 'host' (expected "
		     "addr, user, key, port, known_hosts, reset or timeout)");
	expect_error("h1: level 1 xl-ssh addr=-oProxyCommand=x",
		     "line 1: h1: level 1: xl-ssh: bad addr '-oProxyCommand=x'");
	expect_error("h1: level 1 xl-ssh key=id_rsa",
		     "line 1: h1: level 1: xl-ssh: key must be an absolute path");
	expect_error("h1: level 1 xl-ssh port=70000",
		     "line 1: h1: level 1: xl-ssh: bad port '70000'");
	expect_error("h1: level 1 storage target=x",
		     "line 1: h1: level 1: storage: unknown option 'target' (only timeout)");
	expect_error("h1: level 1 deadline timeout=5",
		     "line 1: h1: level 1: deadline takes no options: it waits for W");
	expect_error("h1: level 1 storage +",
		     "line 1: h1: level 1: missing method (storage, fence-agent, "
		     "xl-ssh or deadline)");
	expect_error("h1: level 1 storage; level 1 xl-ssh",
		     "line 1: h1: level 1 after level 1: levels must increase");
	expect_error("h1: level 2 storage; level 1 xl-ssh",
		     "line 1: h1: level 1 after level 2: levels must increase");
	expect_error("h1: level 1 deadline; level 2 storage",
		     "line 1: h1: level 2 comes after the deadline level and would never run");
	expect_error("h1: level 1 storage + deadline",
		     "line 1: h1: level 1: deadline must be alone in its level");
	expect_error("h1: lvl 1 storage",
		     "line 1: h1: unknown clause 'lvl' (expected 'level N METHOD ...' "
		     "or 'delay SECONDS')");
	expect_error("h1: delay soon; level 1 storage",
		     "line 1: h1: delay needs a duration (seconds, or 500ms, 20s)");
	expect_error("h1: delay 5 level 1 storage",
		     "line 1: h1: ';' expected after the delay");
	expect_error("h1: delay 5",
		     "line 1: h1: no fence level");
	expect_error("h1 level 1 storage",
		     "line 1: expected 'HOST: level 1 METHOD ...'");
	expect_error("h 1: level 1 storage",
		     "line 1: bad host name 'h 1'");
	expect_error(": level 1 storage",
		     "line 1: bad host name ''");
	/* the line number counts comments and blank lines */
	expect_error("# fencing\n\nh1: level 1 storage\nh2: level 1 storage\n"
		     "h1: level 1 deadline\n",
		     "line 5: h1: configured twice");
}

/* ---- good configs ---- */

static const char *example =
	"h1: level 1 storage; level 2 fence-agent agent=fence_ipmilan "
	"ip=10.0.0.1 username=admin password=secret lanplus=1 timeout=20; "
	"level 3 xl-ssh; level 4 deadline";

static void
test_config_example(void **state)
{
	struct fence_config c = { 0 };
	const struct fence_host_conf *h;
	const struct fence_method_conf *m;
	char err[256], buf[1024];

	assert_int_equal(fence_config_parse(example, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.n_hosts, 1);
	h = fence_config_host(&c, "h1");
	assert_non_null(h);
	assert_null(fence_config_host(&c, "h2"));
	assert_int_equal(h->delay_ms, 0);
	assert_int_equal(h->n_levels, 4);
	assert_int_equal(h->levels[0].number, 1);
	assert_int_equal(h->levels[0].n_methods, 1);
	assert_int_equal(h->levels[0].methods[0].kind, FENCE_KIND_STORAGE);
	assert_int_equal(h->levels[0].methods[0].timeout_ms, FENCE_TIMEOUT_STORAGE);
	m = &h->levels[1].methods[0];
	assert_int_equal(m->kind, FENCE_KIND_AGENT);
	assert_int_equal(m->timeout_ms, 20000);
	assert_int_equal(m->n_opts, 5);        /* timeout is not an agent option */
	assert_string_equal(m->opts[0].key, "agent");
	assert_string_equal(m->opts[0].value, "fence_ipmilan");
	assert_string_equal(m->opts[4].key, "lanplus");
	assert_string_equal(fence_method_opt(m, "password"), "secret");
	assert_null(fence_method_opt(m, "timeout"));
	assert_int_equal(h->levels[2].methods[0].kind, FENCE_KIND_XL_SSH);
	assert_int_equal(h->levels[2].methods[0].timeout_ms, FENCE_TIMEOUT_XL_SSH);
	assert_int_equal(h->levels[3].methods[0].kind, FENCE_KIND_DEADLINE);
	assert_int_equal(h->levels[3].methods[0].timeout_ms, 0);

	assert_int_equal(fence_config_format(&c, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
		"h1: level 1 storage timeout=30s; level 2 fence-agent agent=fence_ipmilan "
		"ip=10.0.0.1 username=admin password=secret lanplus=1 timeout=20s; "
		"level 3 xl-ssh timeout=30s; level 4 deadline\n");
	assert_int_equal(fence_config_format(&c, true, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, " password=*** "));
	assert_int_equal(fence_config_format(&c, false, buf, 20), -ENOSPC);
	fence_config_free(&c);
	fence_config_free(&c);          /* twice is fine */
	fence_config_free(NULL);
}

static void
test_config_round_trip(void **state)
{
	const char *text =
		"# two hosts\n"
		"  h1 : delay 5 ; level 1 fence-agent agent=fence_apc ip=pdu1 plug=3 "
		"+ fence-agent agent=/usr/local/sbin/fence_apc ip=pdu2 plug=3 "
		"password=\"a b;c\" ;level 3 deadline;\n"
		"\n"
		"h2.example: delay 1500ms; level 1 xl-ssh addr=192.168.1.2 user=root "
		"key=/etc/xenmesh/fence_key port=2222 reset='echo it'\"'\"'s > /x' timeout=500ms\n";
	struct fence_config c = { 0 }, c2 = { 0 };
	const struct fence_host_conf *h;
	char err[256], buf[2048], buf2[2048];

	assert_int_equal(fence_config_parse(text, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_hosts, 2);
	h = fence_config_host(&c, "h1");
	assert_int_equal(h->delay_ms, 5000);
	assert_int_equal(h->n_levels, 2);
	assert_int_equal(h->levels[0].n_methods, 2);
	assert_int_equal(h->levels[1].number, 3);
	assert_string_equal(fence_method_opt(&h->levels[0].methods[1], "password"), "a b;c");
	h = fence_config_host(&c, "h2.example");
	assert_int_equal(h->delay_ms, 1500);
	assert_int_equal(h->levels[0].methods[0].timeout_ms, 500);
	assert_string_equal(fence_method_opt(&h->levels[0].methods[0], "reset"),
			    "echo it's > /x");

	assert_int_equal(fence_config_format(&c, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
		"h1: delay 5s; level 1 fence-agent agent=fence_apc ip=pdu1 plug=3 timeout=60s"
		" + fence-agent agent=/usr/local/sbin/fence_apc ip=pdu2 plug=3 "
		"password='a b;c' timeout=60s; level 3 deadline\n"
		"h2.example: delay 1500ms; level 1 xl-ssh addr=192.168.1.2 user=root "
		"key=/etc/xenmesh/fence_key port=2222 reset='echo it'\"'\"'s > /x' "
		"timeout=500ms\n");
	/* the canonical text parses back to itself */
	assert_int_equal(fence_config_parse(buf, &c2, err, sizeof(err)), 0);
	assert_int_equal(fence_config_format(&c2, false, buf2, sizeof(buf2)), 0);
	assert_string_equal(buf, buf2);
	fence_config_free(&c);
	fence_config_free(&c2);

	/* empty config: no hosts */
	assert_int_equal(fence_config_parse("# nothing\n\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_hosts, 0);
	fence_config_free(&c);
}

/* ---- the chain ---- */

static struct fence_config cfg;

static const struct fence_host_conf *
host(const char *text)
{
	char err[256];

	fence_config_free(&cfg);
	if (fence_config_parse(text, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	return &cfg.hosts[0];
}

static int
teardown_cfg(void **state)
{
	fence_config_free(&cfg);
	return 0;
}

static void
assert_step(const struct fence_chain *ch, size_t i, const char *line)
{
	const struct fence_step *s = fence_chain_step(ch, i);
	char buf[512];

	assert_non_null(s);
	fence_step_format(s, buf, sizeof(buf));
	assert_string_equal(buf, line);
}

static void
test_chain_invalid(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_host_conf empty = { .host = (char *)"h1" };
	struct fence_actions out;
	struct fence_action act = { .token = 1 };

	assert_int_equal(fence_chain_start(NULL, host("h1: level 1 storage"), 0, 0, 0, &out),
			 -EINVAL);
	assert_int_equal(fence_chain_start(ch, NULL, 0, 0, 0, &out), -EINVAL);
	assert_int_equal(fence_chain_start(ch, &empty, 0, 0, 0, &out), -EINVAL);
	assert_int_equal(fence_chain_start(ch, &cfg.hosts[0], 0, 0, 0, NULL), -EINVAL);
	/* nothing awaited yet */
	assert_int_equal(fence_chain_method_done(ch, &act, FENCE_RESULT_OK, "", 0, &out),
			 -ESTALE);
	assert_int_equal(fence_chain_retry(ch, 0, &out), -EINVAL);
	assert_int_equal(fence_chain_start(ch, &cfg.hosts[0], 0, 0, 0, &out), 0);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], 0, "", 0, &out), -EINVAL);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], 7, "", 0, &out), -EINVAL);
	assert_int_equal(fence_chain_start(ch, &cfg.hosts[0], 0, 0, 0, &out), -EBUSY);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(fence_chain_retry(ch, 0, &out), -EINVAL);
	fence_chain_free(ch);
	fence_chain_free(NULL);
	free(ch);
}

static void
test_chain_ordering(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;
	struct fence_action a, b;

	assert_int_equal(fence_chain_start(ch, host(example), 1000, 0, 1000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.n_steps, 0);
	assert_int_equal(out.run[0].level, 1);
	assert_int_equal(out.run[0].method->kind, FENCE_KIND_STORAGE);
	assert_int_equal(out.run[0].timeout_ms, 30000);
	a = out.run[0];
	assert_int_equal(fence_chain_method_done(ch, &a, FENCE_RESULT_FAILED,
						 "no SAN agent answered", 1500, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.n_steps, 1);
	assert_int_equal(out.run[0].level, 2);
	assert_int_equal(out.run[0].method->kind, FENCE_KIND_AGENT);
	assert_int_equal(out.run[0].timeout_ms, 20000);
	b = out.run[0];
	/* the same answer twice is stale */
	assert_int_equal(fence_chain_method_done(ch, &a, FENCE_RESULT_OK, "", 1600, &out),
			 -ESTALE);
	assert_int_equal(out.n, 0);
	a = b;
	assert_int_equal(fence_chain_tick(ch, 1600, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(fence_chain_next_tick(ch), 1500 + 20000);
	assert_int_equal(fence_chain_method_done(ch, &a, FENCE_RESULT_OK,
						 "off, status: off", 4000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.n_steps, 1);
	assert_int_equal(ch->confirmed_level, 2);
	assert_int_equal(ch->ended_ms, 4000);
	assert_int_equal(ch->n_steps, 2);
	assert_step(ch, 0, "attempt 1 level 1 storage: failed after 500 ms: "
		    "no SAN agent answered");
	assert_step(ch, 1, "attempt 1 level 2 fence-agent fence_ipmilan: ok after 2500 ms: "
		    "off, status: off");
	assert_null(fence_chain_step(ch, 2));
	assert_int_equal(fence_chain_next_tick(ch), UINT64_MAX);
	/* terminal: ticks change nothing */
	assert_int_equal(fence_chain_tick(ch, 999999, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_int_equal(ch->n_steps, 2);
	fence_chain_free(ch);
	free(ch);
}

static void
test_chain_level_needs_all(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;
	const char *two =
		"h3: level 1 fence-agent agent=fence_apc ip=pdu1 plug=3 + "
		"fence-agent agent=fence_apc ip=pdu2 plug=3; level 2 xl-ssh";

	assert_int_equal(fence_chain_start(ch, host(two), 0, 0, 0, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.run[0].method_idx, 0);
	assert_string_equal(fence_method_opt(out.run[0].method, "ip"), "pdu1");
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_OK, "",
						 100, &out), 0);
	/* the second supply of the same level, not the next level */
	assert_int_equal(out.n, 1);
	assert_int_equal(out.run[0].level, 1);
	assert_int_equal(out.run[0].method_idx, 1);
	assert_string_equal(fence_method_opt(out.run[0].method, "ip"), "pdu2");
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_FAILED,
						 "exit 1: login failed", 300, &out), 0);
	/* one failing fails the level */
	assert_int_equal(out.run[0].level, 2);
	assert_int_equal(out.run[0].method->kind, FENCE_KIND_XL_SSH);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_OK, "",
						 900, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_int_equal(ch->confirmed_level, 2);
	assert_step(ch, 0, "attempt 1 level 1 fence-agent fence_apc: ok after 100 ms");
	assert_step(ch, 1, "attempt 1 level 1 fence-agent fence_apc: failed after 200 ms: "
		    "exit 1: login failed");
	assert_step(ch, 2, "attempt 1 level 2 xl-ssh: ok after 600 ms");

	/* both supplies off: the level confirms */
	assert_int_equal(fence_chain_start(ch, host(two), 0, 0, 10000, &out), 0);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_OK, "",
						 10100, &out), 0);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_OK, "",
						 10200, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_int_equal(ch->confirmed_level, 1);
	assert_int_equal(ch->n_steps, 5);       /* history kept across fencings */
	fence_chain_free(ch);
	free(ch);
}

static void
test_chain_delay(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;

	assert_int_equal(fence_chain_start(ch, host("h2: delay 5; level 1 xl-ssh"),
					   1000, 0, 1000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_DELAYING);
	assert_int_equal(out.n, 0);
	assert_int_equal(fence_chain_next_tick(ch), 6000);
	assert_int_equal(fence_chain_tick(ch, 5999, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_DELAYING);
	assert_int_equal(out.n, 0);
	assert_int_equal(fence_chain_tick(ch, 6000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.run[0].method->kind, FENCE_KIND_XL_SSH);
	/* the method timeout counts from the end of the delay */
	assert_int_equal(fence_chain_next_tick(ch), 6000 + 30000);
	fence_chain_free(ch);
	free(ch);
}

static void
test_chain_timeouts_and_retry(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;
	struct fence_action late, l2;

	assert_int_equal(fence_chain_start(ch, host(
		"h1: delay 2; level 1 fence-agent agent=fence_ipmilan ip=bmc timeout=20; "
		"level 2 xl-ssh timeout=10"), 0, 0, 0, &out), 0);
	assert_int_equal(fence_chain_tick(ch, 2000, &out), 0);
	late = out.run[0];
	assert_int_equal(fence_chain_tick(ch, 21999, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(fence_chain_tick(ch, 22000, &out), 0);
	assert_int_equal(out.n_steps, 1);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.run[0].level, 2);
	l2 = out.run[0];
	/* the agent answers after its timeout: ignored */
	assert_int_equal(fence_chain_method_done(ch, &late, FENCE_RESULT_OK, "",
						 23000, &out), -ESTALE);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(fence_chain_method_done(ch, &l2, FENCE_RESULT_TIMEOUT,
		"ssh: timed out after 10000 ms", 32000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_FAILED);
	assert_int_equal(out.n, 0);
	assert_int_equal(ch->ended_ms, 32000);
	assert_int_equal(fence_chain_next_tick(ch), UINT64_MAX);
	assert_step(ch, 0, "attempt 1 level 1 fence-agent fence_ipmilan: timed out "
		    "after 20000 ms: no result within 20000 ms");
	assert_step(ch, 1, "attempt 1 level 2 xl-ssh: timed out after 10000 ms: "
		    "ssh: timed out after 10000 ms");

	/* the caller retries after a pause: from level 1, no delay */
	assert_int_equal(fence_chain_retry(ch, 60000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.run[0].level, 1);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_OK, "",
						 61000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_step(ch, 2, "attempt 2 level 1 fence-agent fence_ipmilan: ok after 1000 ms");
	fence_chain_free(ch);
	free(ch);
}

static void
test_chain_all_failing_history_bounded(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;
	uint64_t now = 0;
	int i;

	assert_int_equal(fence_chain_start(ch, host("h1: level 1 storage; level 2 xl-ssh"),
					   0, 0, now, &out), 0);
	for (i = 0; i < 50; i++) {
		assert_int_equal(fence_chain_method_done(ch, &out.run[0],
			FENCE_RESULT_FAILED, "no", ++now, &out), 0);
		assert_int_equal(fence_chain_method_done(ch, &out.run[0],
			FENCE_RESULT_FAILED, "no", ++now, &out), 0);
		assert_int_equal(out.state, FENCE_CHAIN_FAILED);
		if (i < 49)
			assert_int_equal(fence_chain_retry(ch, now, &out), 0);
	}
	assert_int_equal(ch->steps_total, 100);
	assert_int_equal(ch->n_steps, FENCE_HISTORY_MAX);
	assert_int_equal(fence_chain_step(ch, 0)->attempt, 50 - FENCE_HISTORY_MAX / 2 + 1);
	assert_step(ch, FENCE_HISTORY_MAX - 1, "attempt 50 level 2 xl-ssh: failed after 1 ms: no");
	fence_chain_free(ch);
	free(ch);
}

static void
test_chain_deadline_level(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;
	const char *text = "h1: level 1 fence-agent agent=fence_ipmilan timeout=5; "
			   "level 2 deadline";

	/* lost at 1000, W = 10 s */
	assert_int_equal(fence_chain_start(ch, host(text), 1000, 10000, 1200, &out), 0);
	assert_int_equal(fence_chain_next_tick(ch), 1200 + 5000);
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_FAILED,
						 "exit 1", 2000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(out.n, 0);             /* nothing to run: it waits */
	assert_int_equal(fence_chain_next_tick(ch), 11000);
	assert_int_equal(fence_chain_tick(ch, 10999, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_RUNNING);
	assert_int_equal(fence_chain_tick(ch, 11000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_int_equal(out.n_steps, 1);
	assert_int_equal(ch->confirmed_level, 2);
	assert_step(ch, 1, "attempt 1 level 2 deadline: ok after 10000 ms: "
		    "W = 10000 ms passed since the membership loss");

	/* W passes while level 1 still runs: confirmed, the late answer ignored */
	assert_int_equal(fence_chain_start(ch, host("h1: level 1 fence-agent "
		"agent=fence_ipmilan timeout=60; level 2 deadline"), 0, 4000, 0, &out), 0);
	assert_int_equal(fence_chain_next_tick(ch), 4000);
	assert_int_equal(fence_chain_tick(ch, 4000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_int_equal(ch->confirmed_level, 2);
	assert_step(ch, 2, "attempt 1 level 2 deadline: ok after 4000 ms: W = 4000 ms "
		    "passed since the membership loss while level 1 fence-agent "
		    "fence_ipmilan was still running");

	/* already past W when the chain starts */
	assert_int_equal(fence_chain_start(ch, host("h1: delay 10; level 1 deadline"),
					   0, 4000, 9000, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_step(ch, 3, "attempt 1 level 1 deadline: ok after 9000 ms: W = 4000 ms "
		    "passed since the membership loss (during the fence delay)");

	/* W unknown: the deadline cannot vouch for the host */
	assert_int_equal(fence_chain_start(ch, host("h1: level 1 deadline"), 0, 0, 500,
					   &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_FAILED);
	assert_int_equal(out.n_steps, 1);
	assert_step(ch, 4, "attempt 1 level 1 deadline: failed after 0 ms: W unknown "
		    "(no watchdog timeout reported by h1): the deadline cannot vouch for it");
	fence_chain_free(ch);
	free(ch);
}

static void
test_chain_copies_config(void **state)
{
	struct fence_chain *ch = calloc(1, sizeof(*ch));
	struct fence_actions out;

	assert_int_equal(fence_chain_start(ch, host("h1: level 1 fence-agent "
		"agent=fence_ipmilan ip=a"), 0, 0, 0, &out), 0);
	/* the replicated config changes (and is freed) meanwhile */
	(void)host("h1: level 1 storage");
	fence_config_free(&cfg);
	assert_string_equal(fence_method_opt(out.run[0].method, "ip"), "a");
	assert_int_equal(fence_chain_method_done(ch, &out.run[0], FENCE_RESULT_OK, "",
						 1, &out), 0);
	assert_int_equal(out.state, FENCE_CHAIN_CONFIRMED);
	assert_string_equal(fence_chain_state_name(out.state), "confirmed");
	assert_string_equal(fence_result_name(FENCE_RESULT_TIMEOUT), "timed out");
	assert_string_equal(fence_kind_name(FENCE_KIND_XL_SSH), "xl-ssh");
	fence_chain_free(ch);
	free(ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_example),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test_teardown(test_chain_invalid, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_ordering, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_level_needs_all, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_delay, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_timeouts_and_retry, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_all_failing_history_bounded, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_deadline_level, teardown_cfg),
		cmocka_unit_test_teardown(test_chain_copies_config, teardown_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
