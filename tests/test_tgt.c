/* Tests of storage/tgt.c and tgt_plan.c: the show parser on garbage, on
 * the captured output and on output captured from a real tgtd; the
 * planner's exact tgtadm lines; then once against a real tgtd (root):
 * plans run through the exec runner, read back, logins with libiscsi's
 * iscsi-inq admitted and refused, and a fence cutting a live iscsi-perf
 * session.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <qb/qbloop.h>

#include "cmdseq.h"
#include "runner.h"
#include "tgt.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

#define P       "iqn.2026-11.org.xenmesh:"
#define H1      P "h1"
#define H2      P "h2"
#define H3      P "h3"
#define VM1     P "vm1"
#define VM2     P "vm2"
#define VM3     P "vm3"
#define VM4     P "vm4"
#define TGTADM  "tgtadm --lld iscsi"
#define RTGTADM "tgtadm -C 11 --lld iscsi"

/* ---- helpers ---- */

/* A test data file without its leading '#' comment lines (they name where
 * the output came from; tgtadm prints none). */
static char *
load_data(const char *name)
{
	char path[512], *buf, *s;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/data/%s", TEST_SRCDIR, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	s = buf;
	while (*s == '#') {
		s = strchr(s, '\n');
		assert_non_null(s);
		s++;
	}
	memmove(buf, s, strlen(s) + 1);
	return buf;
}

static void
parse_ok(const char *text, struct tgt_view *v)
{
	char why[256];
	int rc = tgt_show_parse(text, v, why, sizeof(why));

	if (rc)
		fail_msg("parse failed (%d): %s", rc, why);
}

static void
parse_file(const char *name, struct tgt_view *v)
{
	char *text = load_data(name);

	parse_ok(text, v);
	free(text);
}

static void
print_seq(const struct cmdseq *s)
{
	char line[RUNNER_LINE_MAX];

	for (size_t i = 0; i < s->n; i++) {
		(void)cmdseq_format(s, i, line, sizeof(line));
		print_message("  [%zu]%s %s\n", i, s->steps[i].may_fail ? " (may fail)" : "",
			      line);
	}
}

/* The lines of s are exactly expected (NULL-terminated); a line starting
 * with "~ " must be tolerated (may fail), every other must not. */
static void
assert_seq(const struct cmdseq *s, const char *const *expected)
{
	char line[RUNNER_LINE_MAX];
	size_t n = 0;

	while (expected[n])
		n++;
	for (size_t i = 0; i < n && i < s->n; i++) {
		const char *want = expected[i];
		bool tolerated = !strncmp(want, "~ ", 2);

		if (tolerated)
			want += 2;
		assert_int_equal(cmdseq_format(s, i, line, sizeof(line)), 0);
		if (strcmp(line, want) || s->steps[i].may_fail != tolerated) {
			print_seq(s);
			fail_msg("line %zu: got%s \"%s\", want%s \"%s\"", i,
				 s->steps[i].may_fail ? " (may fail)" : "", line,
				 tolerated ? " (may fail)" : "", want);
		}
	}
	if (s->n != n) {
		print_seq(s);
		fail_msg("%zu lines, want %zu", s->n, n);
	}
}

/* The safety rule: no bind before the last unbind/delete of an ACL entry,
 * a session or a target. */
static void
assert_revocations_first(const struct cmdseq *s)
{
	char line[RUNNER_LINE_MAX];
	bool granted = false;

	for (size_t i = 0; i < s->n; i++) {
		assert_int_equal(cmdseq_format(s, i, line, sizeof(line)), 0);
		if (strstr(line, "--op bind"))
			granted = true;
		else if (granted && (strstr(line, "--op unbind") ||
				     strstr(line, "--mode conn") ||
				     strstr(line, "--mode target --tid")) &&
			 !strstr(line, "--op new")) {
			print_seq(s);
			fail_msg("line %zu revokes after a grant: %s", i, line);
		}
	}
}

static void
plan_ok(const struct tgt_view *have, const struct tgt_want *want,
	const struct tgt_conf *c, struct cmdseq *s)
{
	char why[256];
	int rc = tgt_plan(have, want, c, s, why, sizeof(why));

	if (rc)
		fail_msg("plan failed (%d): %s", rc, why);
	assert_int_equal(s->error, 0);
}

/* ---- invalid input first ---- */

static void
test_parse_bad_input(void **state)
{
	static const struct {
		const char *text;
		const char *line;       /* expected in why */
	} cases[] = {
		{ "garbage\n", "line 1:" },
		{ "    System information:\n", "line 1:" },
		{ "Target x: " VM1 "\n", "line 1:" },
		{ "Target 1:\n", "line 1:" },
		{ "Target 1: \n", "line 1:" },
		{ "Target 99999999999: " VM1 "\n", "line 1:" },
		{ "Target 1: iqn.a b\n", "line 1:" },
		{ "Target 1: " VM1 "\n\tState: ready\n", "line 2:" },
		{ "Target 1: " VM1 "\n      State: ready\n", "line 2:" },
		{ "Target 1: " VM1 "\n        State: ready\n", "line 2:" },
		{ "Target 1: " VM1 "\n    System information\n", "line 2:" },
		{ "Target 1: " VM1 "\n    System information:\n        ready\n", "line 3:" },
		{ "Target 1: " VM1 "\n    LUN information:\n        LUN: one\n", "line 3:" },
		{ "Target 1: " VM1 "\n    LUN information:\n        LUN: 1\n"
		  "        LUN: 1\n", "line 4:" },
		{ "Target 1: " VM1 "\n    LUN information:\n        LUN: 1\n"
		  "                IP Address: 127.0.0.1\n", "line 4:" },
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        nexus 1\n", "line 3:" },
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        I_T nexus: 1\n"
		  "            Connection: 0\n", "line 4:" },
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        I_T nexus: 1\n"
		  "            Initiator: " H1 " alias: none\n            Connection: x\n",
		  "line 5:" },
		/* a nexus we could not close is an error at its own line */
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        I_T nexus: 7\n"
		  "            Initiator: " H1 " alias: none\n    LUN information:\n",
		  "line 3: I_T nexus 7 lists no connection" },
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        I_T nexus: 7\n",
		  "line 3: I_T nexus 7 names no initiator" },
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        I_T nexus: 1\n"
		  "            Initiator: " H1 " alias: none\n            Initiator: " H2
		  " alias: none\n", "line 5:" },
		{ "Target 1: " VM1 "\n    ACL information:\nTarget 1: " VM2 "\n", "line 3:" },
		{ "Target 1: " VM1 "\n    ACL information:\nTarget 2: " VM1 "\n", "line 3:" },
		/* cut short: no final newline, a target without its ACL section */
		{ "Target 1: " VM1 "\n    ACL information:\n        " H1, "line 3: a last line" },
		{ "Target 1: " VM1 "\n    ACL information:", "line 2: a last line" },
		{ "Target 1: " VM1 "\n    ACL information:\nTarget 2: " VM2 "\n"
		  "    System information:\n", "line 3: target 2 has no \"ACL information:\"" },
		{ "Target 1: " VM1 "\n    System information:\nTarget 2: " VM2 "\n"
		  "    ACL information:\n", "line 1: target 1 has no \"ACL information:\"" },
		{ "Target 1: " VM1 "\n    ACL information:\n        "
		  "iqn.2026-11.org.xenmesh:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		  "line 3: ACL entry longer than 223 bytes" },
		{ "Target 1: " VM1 "\n    \n", "line 2:" },
		{ "Target 1: " VM1 "\n    I_T nexus information:\n        I_T nexus: 1\n"
		  "            Initiator: " H1 " alias: none\n            Connection: 0\n"
		  "                    deeper\n", "line 6:" },
	};
	struct tgt_view v;
	char why[256];

	(void)state;
	assert_int_equal(tgt_show_parse(NULL, &v, why, sizeof(why)), -EINVAL);
	assert_int_equal(tgt_show_parse("", NULL, why, sizeof(why)), -EINVAL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = tgt_show_parse(cases[i].text, &v, why, sizeof(why));

		if (rc != -EBADMSG || !strstr(why, cases[i].line))
			fail_msg("case %zu: rc %d, why \"%s\", want -EBADMSG and \"%s\"",
				 i, rc, why, cases[i].line);
		assert_non_null(strstr(why, "tgtadm show output"));
		tgt_view_free(&v);
		assert_int_equal(v.n, 0);
	}
	/* no room for why is fine */
	assert_int_equal(tgt_show_parse("garbage", &v, NULL, 0), -EBADMSG);
	tgt_view_free(&v);
	tgt_view_free(NULL);
}

static const struct tgt_lun LUNS_A[] = { { 1, "/srv/san/a.img" }, { 2, "/srv/san/b.img" } };
static const struct tgt_lun LUNS_C[] = { { 1, "/srv/san/c.img" } };
static const char *const ACL_H1[] = { H1 };
static const char *const ACL_H2[] = { H2 };
static const char *const ACL_H1H2[] = { H1, H2 };

static int
plan_err(const struct tgt_want *w, const struct tgt_conf *c, const char *expect)
{
	struct tgt_view empty = { 0 };
	struct cmdseq s;
	char why[512], line[RUNNER_LINE_MAX];
	int rc;

	cmdseq_init(&s);
	cmdseq_add(&s, "echo", "before", NULL);
	rc = tgt_plan(&empty, w, c, &s, why, sizeof(why));
	if (!rc || !strstr(why, expect))
		fail_msg("rc %d, why \"%s\", want \"%s\"", rc, why, expect);
	/* nothing to do on error: s untouched */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.error, 0);
	assert_int_equal(cmdseq_format(&s, 0, line, sizeof(line)), 0);
	assert_string_equal(line, "echo before");
	cmdseq_free(&s);
	return rc;
}

static int
plan_err1(const struct tgt_want_target *wt, const char *expect)
{
	struct tgt_want w = { .iqn_prefix = P, .targets = wt, .n = 1 };

	return plan_err(&w, NULL, expect);
}

static void
test_plan_bad_input(void **state)
{
	char long_iqn[TGT_IQN_MAX + 1], long_path[TGT_PATH_MAX + 1];
	struct tgt_want_target wt = { .iqn = VM1, .luns = LUNS_A, .n_luns = 2,
				      .acl = ACL_H1, .n_acl = 1 };
	struct tgt_want w = { .iqn_prefix = P, .targets = &wt, .n = 1 };
	struct tgt_view empty = { 0 };
	struct tgt_conf c = { .control_port = 70000 };
	struct cmdseq s;
	char why[256];

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(tgt_plan(NULL, &w, NULL, &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(tgt_plan(&empty, NULL, NULL, &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(tgt_plan(&empty, &w, NULL, NULL, why, sizeof(why)), -EINVAL);
	/* a sequence that already failed stays failed */
	s.error = -ENOMEM;
	assert_int_equal(tgt_plan(&empty, &w, NULL, &s, why, sizeof(why)), -ENOMEM);
	assert_int_equal(s.n, 0);
	cmdseq_free(&s);
	assert_int_equal(tgt_cmd_show(&s, &c), -EINVAL);
	assert_int_equal(tgt_cmd_show(NULL, NULL), -EINVAL);
	assert_int_equal(s.n, 0);

	assert_int_equal(plan_err(&w, &c, "control port 70000"), -EINVAL);
	w.iqn_prefix = "";
	assert_int_equal(plan_err(&w, NULL, "prefix is empty"), -EINVAL);
	w.iqn_prefix = NULL;
	assert_int_equal(plan_err(&w, NULL, "prefix is empty"), -EINVAL);
	w.iqn_prefix = P;
	w.targets = NULL;
	assert_int_equal(plan_err(&w, NULL, "no list"), -EINVAL);

	/* target names */
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = NULL },
				   "not a valid iSCSI name"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = P "VM1" },
				   "not a valid iSCSI name"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = P "vm 1" },
				   "not a valid iSCSI name"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = P "vm_1" },
				   "not a valid iSCSI name"), -EINVAL);
	memset(long_iqn, 'x', sizeof(long_iqn));
	memcpy(long_iqn, P, strlen(P));
	long_iqn[TGT_IQN_MAX] = '\0';           /* 224 bytes: one too many */
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = long_iqn },
				   "at most 223 bytes"), -EINVAL);
	long_iqn[TGT_IQN_MAX - 1] = '\0';       /* 223: fine, and ours */
	assert_true(tgt_iqn_valid(long_iqn));
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = "iqn.2026-11.org.other:vm1" },
				   "does not start with our prefix"), -EINVAL);
	/* LUNs */
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = VM1, .n_luns = 1 },
				   "a count without its list"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){ .iqn = VM1, .n_acl = 1 },
				   "a count without its list"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 0, "/a" } }, .n_luns = 1 },
		"LUN 0 is out of range 1..255"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 256, "/a" } }, .n_luns = 1 },
		"LUN 256 is out of range 1..255"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 3, "/a" }, { 3, "/b" } },
		.n_luns = 2 }, "LUN 3 is listed twice"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 1, "srv/a.img" } }, .n_luns = 1 },
		"not an absolute path"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 1, "" } }, .n_luns = 1 },
		"not an absolute path"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 1, "/srv/a b.img" } }, .n_luns = 1 },
		"blank or control character"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 1, "/srv/a\nb.img" } }, .n_luns = 1 },
		"blank or control character"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .luns = (const struct tgt_lun[]){ { 1, "/srv/a,b.img" } }, .n_luns = 1 },
		"contains a comma"), -EINVAL);
	/* 255 bytes is the longest path a tgt_lun holds; a full array without
	 * its NUL is refused, not overrun */
	{
		struct tgt_lun l = { .lun = 1 };
		struct tgt_want_target t = { .iqn = VM1, .luns = &l, .n_luns = 1 };

		memset(long_path, 'p', sizeof(long_path));
		long_path[0] = '/';
		memcpy(l.path, long_path, TGT_PATH_MAX - 1);
		plan_ok(&empty, &(struct tgt_want){ .iqn_prefix = P, .targets = &t, .n = 1 },
			NULL, &s);
		assert_int_equal(s.n, 2);
		cmdseq_free(&s);
		memcpy(l.path, long_path, TGT_PATH_MAX);
		assert_int_equal(plan_err1(&t, "is too long"), -EINVAL);
	}
	/* ACL names */
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .acl = (const char *const[]){ "127.0.0.1" }, .n_acl = 1 },
		"never addresses"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .acl = (const char *const[]){ "ALL" }, .n_acl = 1 },
		"not a valid initiator name"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .acl = (const char *const[]){ NULL }, .n_acl = 1 },
		"not a valid initiator name"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .acl = (const char *const[]){ "IQN.2026-11.ORG.XENMESH:H1" }, .n_acl = 1 },
		"not a valid initiator name"), -EINVAL);
	assert_int_equal(plan_err1(&(struct tgt_want_target){
		.iqn = VM1, .acl = (const char *const[]){ H1, H2, H1 }, .n_acl = 3 },
		"initiator " H1 " is listed twice"), -EINVAL);
	/* two wanted targets of one name */
	assert_int_equal(plan_err(&(struct tgt_want){ .iqn_prefix = P, .n = 3,
		.targets = (const struct tgt_want_target[]){
			{ .iqn = VM1 }, { .iqn = VM2 }, { .iqn = VM1 } } },
		NULL, "target name collision: " VM1 " is wanted twice (targets 1 and 3)"),
		-EEXIST);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(tgt_iqn_valid(H1));
	assert_true(tgt_iqn_valid("iqn.2001-04.com.example"));
	assert_true(tgt_iqn_valid("iqn.2001-04.com.example:storage:disk2.sys1.xyz"));
	assert_true(tgt_iqn_valid("eui.02004567a425678d"));
	assert_false(tgt_iqn_valid(NULL));
	assert_false(tgt_iqn_valid(""));
	assert_false(tgt_iqn_valid("iqn."));
	assert_false(tgt_iqn_valid("iqn.2001-13.com.example"));
	assert_false(tgt_iqn_valid("iqn.2001-00.com.example"));
	assert_false(tgt_iqn_valid("iqn.01-04.com.example"));
	assert_false(tgt_iqn_valid("iqn.2001-04."));
	assert_false(tgt_iqn_valid("iqn.2001-04.:x"));
	assert_false(tgt_iqn_valid("eui.02004567A425678D"));
	assert_false(tgt_iqn_valid("eui.02004567a425678"));
	assert_false(tgt_iqn_valid("naa.52004567ba64678d"));
	assert_false(tgt_iqn_valid("127.0.0.1"));
	assert_false(tgt_iqn_valid("iqn.2026-11.org.xenmesh:h1/x"));

	/* what tgt matches by address: everything not shaped like a name */
	assert_true(tgt_acl_is_address("ALL"));
	assert_true(tgt_acl_is_address("127.0.0.1"));
	assert_true(tgt_acl_is_address("10.0.0.0/8"));
	assert_true(tgt_acl_is_address("::1"));
	assert_true(tgt_acl_is_address("fe80::1/64"));
	assert_true(tgt_acl_is_address("san1.example.com"));
	assert_false(tgt_acl_is_address(H1));
	assert_false(tgt_acl_is_address("IQN.2026-11.ORG.XENMESH:UP"));
	assert_false(tgt_acl_is_address("eui.02004567A425678D"));
	assert_false(tgt_acl_is_address("naa.52004567ba64678d"));
}

/* ---- the parser ---- */

static void
test_parse_captured(void **state)
{
	struct tgt_view v;
	const struct tgt_target *t;

	(void)state;
	parse_file("tgt-1.0.85-show.txt", &v);
	assert_int_equal(v.n, 1);
	t = tgt_view_find(&v, VM1);
	assert_ptr_equal(t, &v.targets[0]);
	assert_int_equal(t->tid, 1);
	assert_true(t->ready);
	assert_int_equal(t->n_luns, 1);         /* LUN 0 not listed */
	assert_int_equal(t->luns[0].lun, 1);
	assert_string_equal(t->luns[0].path, "/srv/san/vm1-root.img");
	assert_int_equal(t->n_acl, 2);
	assert_string_equal(t->acl[0], "127.0.0.1");
	assert_string_equal(t->acl[1], H1);
	assert_int_equal(t->n_sessions, 1);
	assert_int_equal(t->sessions[0].sid, 1);
	assert_int_equal(t->sessions[0].cid, 0);
	assert_string_equal(t->sessions[0].initiator, H1);
	assert_string_equal(t->sessions[0].address, "127.0.0.1");
	assert_null(tgt_view_find(&v, VM2));
	assert_null(tgt_view_find(&v, NULL));
	assert_true(tgt_view_mentions(&v, H1));
	assert_true(tgt_view_mentions(&v, "IQN.2026-11.ORG.XENMESH:H1"));
	/* h2 is not named, but 127.0.0.1 admits it by address */
	assert_true(tgt_view_mentions(&v, H2));
	tgt_view_free(&v);
	assert_int_equal(v.n, 0);
	assert_null(v.targets);
}

static void
test_parse_real_multi(void **state)
{
	struct tgt_view v;
	const struct tgt_target *t;

	(void)state;
	parse_file("tgt-1.0.85-show-multi.txt", &v);
	assert_int_equal(v.n, 3);

	t = &v.targets[0];
	assert_int_equal(t->tid, 1);
	assert_string_equal(t->iqn, VM1);
	assert_true(t->ready);
	assert_int_equal(t->n_luns, 2);
	assert_int_equal(t->luns[0].lun, 1);
	assert_string_equal(t->luns[0].path, "/tmp/tgtexp/a.img");
	assert_int_equal(t->luns[1].lun, 2);
	assert_string_equal(t->luns[1].path, "/tmp/tgtexp/b.img");
	assert_int_equal(t->n_acl, 2);
	assert_string_equal(t->acl[0], "127.0.0.1");
	assert_string_equal(t->acl[1], H1);
	assert_int_equal(t->n_sessions, 1);
	assert_int_equal(t->sessions[0].sid, 1);
	assert_string_equal(t->sessions[0].initiator, H1);

	t = &v.targets[1];
	assert_int_equal(t->tid, 2);
	assert_string_equal(t->iqn, "iqn.2001-04.com.example:storage.other");
	assert_false(t->ready);                 /* State: offline */
	assert_int_equal(t->n_luns, 0);
	assert_int_equal(t->n_acl, 1);          /* accounts are not ACL entries */
	assert_string_equal(t->acl[0], "ALL");
	assert_int_equal(t->n_sessions, 0);

	t = tgt_view_find(&v, VM2);
	assert_ptr_equal(t, &v.targets[2]);
	assert_int_equal(t->tid, 4);
	assert_int_equal(t->n_luns, 1);
	assert_string_equal(t->luns[0].path, "/tmp/tgtexp/c.img");
	assert_int_equal(t->n_acl, 4);
	assert_string_equal(t->acl[0], "10.0.0.0/8");
	assert_string_equal(t->acl[1], "::1");
	assert_string_equal(t->acl[2], H2);
	assert_string_equal(t->acl[3], H1);
	assert_int_equal(t->n_sessions, 2);
	assert_int_equal(t->sessions[0].sid, 2);
	assert_string_equal(t->sessions[0].initiator, H2);
	assert_int_equal(t->sessions[1].sid, 3);
	assert_int_equal(t->sessions[1].cid, 0);
	assert_string_equal(t->sessions[1].initiator, H1);
	assert_string_equal(t->sessions[1].address, "127.0.0.1");

	/* the foreign target's ALL holds a fence up unless we look at ours */
	assert_true(tgt_view_mentions(&v, H3));
	tgt_view_free(&v);
	tgt_view_free(&v);                      /* twice is fine */
}

static void
test_parse_shapes(void **state)
{
	/* what the real tgtd did not show us but the format allows: several
	 * connections per nexus, an alias with blanks, unknown keys and
	 * sections, removable media without a path */
	static const char text[] =
		"Target 3: " VM3 "\n"
		"    System information:\n"
		"        Driver: iscsi\n"
		"        State: offline\n"
		"        Something new: 1\n"
		"    I_T nexus information:\n"
		"        I_T nexus: 9\n"
		"            Initiator: " H1 " alias: my host 1\n"
		"            Connection: 0\n"
		"                IP Address: 192.0.2.7\n"
		"            Connection: 1\n"
		"                IP Address: 192.0.2.8\n"
		"                Other: x\n"
		"        I_T nexus: 10\n"
		"            Initiator: " H2 "\n"
		"            Connection: 2\n"
		"    LUN information:\n"
		"        LUN: 0\n"
		"            Type: controller\n"
		"            Backing store path: None\n"
		"        LUN: 4\n"
		"            Type: cd/dvd\n"
		"            Backing store path: None\n"
		"    Future information:\n"
		"        anything: at all\n"
		"            deeper: too\n"
		"                and deeper\n"
		"    Account information:\n"
		"        user1\n"
		"        user1 (outgoing)\n"
		"    ACL information:\n"
		"        " H2 "\n";
	struct tgt_view v;
	const struct tgt_target *t;

	(void)state;
	parse_ok("", &v);
	assert_int_equal(v.n, 0);
	assert_false(tgt_view_mentions(&v, H1));
	tgt_view_free(&v);

	parse_ok(text, &v);
	assert_int_equal(v.n, 1);
	t = &v.targets[0];
	assert_false(t->ready);
	assert_int_equal(t->n_sessions, 3);
	assert_int_equal(t->sessions[0].sid, 9);
	assert_int_equal(t->sessions[0].cid, 0);
	assert_string_equal(t->sessions[0].initiator, H1);
	assert_string_equal(t->sessions[0].address, "192.0.2.7");
	assert_int_equal(t->sessions[1].sid, 9);
	assert_int_equal(t->sessions[1].cid, 1);
	assert_string_equal(t->sessions[1].address, "192.0.2.8");
	assert_int_equal(t->sessions[2].sid, 10);
	assert_int_equal(t->sessions[2].cid, 2);
	assert_string_equal(t->sessions[2].initiator, H2);
	assert_string_equal(t->sessions[2].address, "");
	assert_int_equal(t->n_luns, 1);
	assert_int_equal(t->luns[0].lun, 4);
	assert_string_equal(t->luns[0].path, "");
	assert_int_equal(t->n_acl, 1);
	assert_string_equal(t->acl[0], H2);
	/* h1 only in a session, h2 in both, h3 nowhere (and no address entry) */
	assert_true(tgt_view_mentions(&v, H1));
	assert_true(tgt_view_mentions(&v, H2));
	assert_false(tgt_view_mentions(&v, H3));
	assert_false(tgt_view_mentions_in(&v, "iqn.2001-04.com.example:", H1));
	assert_true(tgt_view_mentions_in(&v, P, H1));
	tgt_view_free(&v);
}

/* ---- the commands and the plan ---- */

static void
test_cmd_show(void **state)
{
	struct cmdseq s;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(tgt_cmd_show(&s, NULL), 0);
	assert_int_equal(tgt_cmd_show(&s, &(struct tgt_conf){ 0 }), 0);
	assert_int_equal(tgt_cmd_show(&s, &(struct tgt_conf){ .control_port = 11 }), 0);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op show --mode target",
		TGTADM " --op show --mode target",
		RTGTADM " --op show --mode target",
		NULL });
	cmdseq_free(&s);
}

static void
test_plan_fresh(void **state)
{
	static const struct tgt_want_target wts[] = {
		{ .iqn = VM1, .luns = LUNS_A, .n_luns = 2, .acl = ACL_H1, .n_acl = 1 },
		{ .iqn = VM2, .luns = LUNS_C, .n_luns = 1, .acl = ACL_H1H2, .n_acl = 2 },
		{ .iqn = VM3 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 3 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_ok("", &v);
	cmdseq_init(&s);
	plan_ok(&v, &w, &(struct tgt_conf){ .control_port = 11 }, &s);
	assert_seq(&s, (const char *const[]){
		RTGTADM " --op new --mode target --tid 1 -T " VM1,
		RTGTADM " --op new --mode logicalunit --tid 1 --lun 1 -b /srv/san/a.img",
		RTGTADM " --op new --mode logicalunit --tid 1 --lun 2 -b /srv/san/b.img",
		RTGTADM " --op new --mode target --tid 2 -T " VM2,
		RTGTADM " --op new --mode logicalunit --tid 2 --lun 1 -b /srv/san/c.img",
		RTGTADM " --op new --mode target --tid 3 -T " VM3,
		RTGTADM " --op bind --mode target --tid 1 -Q " H1,
		RTGTADM " --op bind --mode target --tid 2 -Q " H1,
		RTGTADM " --op bind --mode target --tid 2 -Q " H2,
		NULL });
	cmdseq_free(&s);
	/* an empty want on an empty host is nothing to do */
	w.n = 0;
	w.targets = NULL;
	plan_ok(&v, &w, NULL, &s);
	assert_int_equal(s.n, 0);
	tgt_view_free(&v);
}

/* have: the real multi capture (vm1 tid 1 [127.0.0.1, h1] with h1's
 * session 1; foreign tid 2 [ALL]; vm2 tid 4 [10.0.0.0/8, ::1, h2, h1]
 * with sessions 2 (h2) and 3 (h1)). */
static const struct tgt_lun MULTI_LUNS_1[] = { { 1, "/tmp/tgtexp/a.img" }, { 2, "/tmp/tgtexp/b.img" } };
static const struct tgt_lun MULTI_LUNS_4[] = { { 1, "/tmp/tgtexp/c.img" } };

static void
test_plan_in_sync(void **state)
{
	static const char text[] =
		"Target 1: " VM1 "\n"
		"    System information:\n"
		"        State: ready\n"
		"    I_T nexus information:\n"
		"        I_T nexus: 1\n"
		"            Initiator: " H1 " alias: none\n"
		"            Connection: 0\n"
		"                IP Address: 127.0.0.1\n"
		"    LUN information:\n"
		"        LUN: 0\n"
		"            Backing store path: None\n"
		"        LUN: 1\n"
		"            Backing store path: /tmp/tgtexp/a.img\n"
		"        LUN: 2\n"
		"            Backing store path: /tmp/tgtexp/b.img\n"
		"    ACL information:\n"
		"        " H2 "\n"
		"        " H1 "\n"
		"Target 2: iqn.2001-04.com.example:storage.other\n"
		"    ACL information:\n"
		"        ALL\n";
	/* ACL order does not matter */
	static const struct tgt_want_target wts[] = {
		{ .iqn = VM1, .luns = MULTI_LUNS_1, .n_luns = 2, .acl = ACL_H1H2, .n_acl = 2 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 1 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_ok(text, &v);
	cmdseq_init(&s);
	plan_ok(&v, &w, NULL, &s);
	assert_int_equal(s.n, 0);
	tgt_view_free(&v);
}

static void
test_plan_fence(void **state)
{
	/* fence h1 everywhere: both targets now admit h2 only */
	static const struct tgt_want_target wts[] = {
		{ .iqn = VM1, .luns = MULTI_LUNS_1, .n_luns = 2, .acl = ACL_H2, .n_acl = 1 },
		{ .iqn = VM2, .luns = MULTI_LUNS_4, .n_luns = 1, .acl = ACL_H2, .n_acl = 1 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 2 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_file("tgt-1.0.85-show-multi.txt", &v);
	cmdseq_init(&s);
	cmdseq_add(&s, "true", NULL);           /* appended after what is there */
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		"true",
		TGTADM " --op unbind --mode target --tid 1 -I 127.0.0.1",
		TGTADM " --op unbind --mode target --tid 1 -Q " H1,
		TGTADM " --op unbind --mode target --tid 4 -I 10.0.0.0/8",
		TGTADM " --op unbind --mode target --tid 4 -I ::1",
		TGTADM " --op unbind --mode target --tid 4 -Q " H1,
		"~ " TGTADM " --op delete --mode conn --tid 1 --sid 1 --cid 0",
		"~ " TGTADM " --op delete --mode conn --tid 4 --sid 3 --cid 0",
		TGTADM " --op bind --mode target --tid 1 -Q " H2,
		NULL });
	assert_revocations_first(&s);
	cmdseq_free(&s);
	tgt_view_free(&v);
}

static void
test_plan_move(void **state)
{
	/* a VM moves from h1 to h2: h1's connections (two in one session)
	 * are cut before h2 is admitted */
	static const char text[] =
		"Target 7: " VM1 "\n"
		"    System information:\n"
		"        State: ready\n"
		"    I_T nexus information:\n"
		"        I_T nexus: 5\n"
		"            Initiator: " H1 " alias: none\n"
		"            Connection: 0\n"
		"                IP Address: 192.0.2.1\n"
		"            Connection: 1\n"
		"                IP Address: 192.0.2.1\n"
		"    LUN information:\n"
		"        LUN: 1\n"
		"            Backing store path: /srv/san/a.img\n"
		"        LUN: 2\n"
		"            Backing store path: /srv/san/b.img\n"
		"    Account information:\n"
		"    ACL information:\n"
		"        " H1 "\n";
	static const struct tgt_want_target wts[] = {
		{ .iqn = VM1, .luns = LUNS_A, .n_luns = 2, .acl = ACL_H2, .n_acl = 1 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 1 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_ok(text, &v);
	cmdseq_init(&s);
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op unbind --mode target --tid 7 -Q " H1,
		"~ " TGTADM " --op delete --mode conn --tid 7 --sid 5 --cid 0",
		"~ " TGTADM " --op delete --mode conn --tid 7 --sid 5 --cid 1",
		TGTADM " --op bind --mode target --tid 7 -Q " H2,
		NULL });
	assert_revocations_first(&s);
	cmdseq_free(&s);
	tgt_view_free(&v);
}

static void
test_plan_remove_target(void **state)
{
	/* vm1 goes; vm2 stays as it is apart from its address entries */
	const struct tgt_want_target wts[] = {
		{ .iqn = VM2, .luns = MULTI_LUNS_4, .n_luns = 1,
		  .acl = (const char *const[]){ H1, H2 }, .n_acl = 2 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 1 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_file("tgt-1.0.85-show-multi.txt", &v);
	cmdseq_init(&s);
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op unbind --mode target --tid 1 -I 127.0.0.1",
		TGTADM " --op unbind --mode target --tid 1 -Q " H1,
		TGTADM " --op unbind --mode target --tid 4 -I 10.0.0.0/8",
		TGTADM " --op unbind --mode target --tid 4 -I ::1",
		"~ " TGTADM " --op delete --mode conn --tid 1 --sid 1 --cid 0",
		TGTADM " --op delete --mode target --tid 1 --force",
		NULL });
	cmdseq_free(&s);

	/* nothing of ours wanted: all of ours goes, the foreign one stays */
	w.n = 0;
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op unbind --mode target --tid 1 -I 127.0.0.1",
		TGTADM " --op unbind --mode target --tid 1 -Q " H1,
		TGTADM " --op unbind --mode target --tid 4 -I 10.0.0.0/8",
		TGTADM " --op unbind --mode target --tid 4 -I ::1",
		TGTADM " --op unbind --mode target --tid 4 -Q " H2,
		TGTADM " --op unbind --mode target --tid 4 -Q " H1,
		"~ " TGTADM " --op delete --mode conn --tid 1 --sid 1 --cid 0",
		"~ " TGTADM " --op delete --mode conn --tid 4 --sid 2 --cid 0",
		"~ " TGTADM " --op delete --mode conn --tid 4 --sid 3 --cid 0",
		TGTADM " --op delete --mode target --tid 1 --force",
		TGTADM " --op delete --mode target --tid 4 --force",
		NULL });
	cmdseq_free(&s);
	tgt_view_free(&v);
}

static void
test_plan_address_entries(void **state)
{
	/* ALL, a netmask, an address and a name differing in case: all go,
	 * then the wanted name is bound */
	static const char text[] =
		"Target 1: " VM1 "\n"
		"    ACL information:\n"
		"        ALL\n"
		"        192.168.0.0/16\n"
		"        fe80::1/64\n"
		"        " H1 "\n"
		"        IQN.2026-11.ORG.XENMESH:H2\n";
	static const struct tgt_want_target wts[] = {
		{ .iqn = VM1, .acl = ACL_H1H2, .n_acl = 2 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 1 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_ok(text, &v);
	assert_true(tgt_view_mentions(&v, H3));     /* ALL admits anyone */
	cmdseq_init(&s);
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op unbind --mode target --tid 1 -I ALL",
		TGTADM " --op unbind --mode target --tid 1 -I 192.168.0.0/16",
		TGTADM " --op unbind --mode target --tid 1 -I fe80::1/64",
		TGTADM " --op unbind --mode target --tid 1 -Q IQN.2026-11.ORG.XENMESH:H2",
		TGTADM " --op bind --mode target --tid 1 -Q " H2,
		NULL });
	cmdseq_free(&s);
	tgt_view_free(&v);
}

static void
test_plan_foreign_untouched(void **state)
{
	/* targets outside our prefix, even one that looks like ours to a
	 * sloppy prefix match, and even with a wanted name: never touched */
	static const char text[] =
		"Target 1: iqn.2001-04.com.example:vm1\n"
		"    I_T nexus information:\n"
		"        I_T nexus: 1\n"
		"            Initiator: " H1 " alias: none\n"
		"            Connection: 0\n"
		"    LUN information:\n"
		"        LUN: 1\n"
		"            Backing store path: /elsewhere/x.img\n"
		"    ACL information:\n"
		"        ALL\n"
		"        " H1 "\n"
		"Target 2: iqn.2026-11.org.xenmeshother:vm1\n"
		"    ACL information:\n"
		"        10.0.0.1\n";
	static const struct tgt_want_target wts[] = {
		{ .iqn = VM1, .luns = LUNS_C, .n_luns = 1, .acl = ACL_H2, .n_acl = 1 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 0 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_ok(text, &v);
	cmdseq_init(&s);
	plan_ok(&v, &w, NULL, &s);
	assert_int_equal(s.n, 0);
	assert_false(tgt_view_mentions_in(&v, P, H1));
	assert_true(tgt_view_mentions(&v, H1));
	w.n = 1;
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op new --mode target --tid 3 -T " VM1,
		TGTADM " --op new --mode logicalunit --tid 3 --lun 1 -b /srv/san/c.img",
		TGTADM " --op bind --mode target --tid 3 -Q " H2,
		NULL });
	cmdseq_free(&s);
	tgt_view_free(&v);
}

static void
test_plan_tids_and_luns(void **state)
{
	/* tids 1, 2, 4 in use; vm1 (tid 1) is deleted in the same plan, so
	 * the new vm3 and vm4 get 3 and 5, never 1.  vm2's LUN 1 changes
	 * path and gets LUN 2 and 3 added. */
	const struct tgt_want_target wts[] = {
		{ .iqn = VM3, .luns = LUNS_C, .n_luns = 1, .acl = ACL_H1, .n_acl = 1 },
		{ .iqn = VM2, .luns = (const struct tgt_lun[]){
			{ 3, "/srv/san/vm2-data.img" }, { 1, "/srv/san/vm2-root.img" },
			{ 2, "/srv/san/vm2-swap.img" } }, .n_luns = 3,
		  .acl = (const char *const[]){ H2, H1 }, .n_acl = 2 },
		{ .iqn = VM4, .acl = ACL_H2, .n_acl = 1 },
	};
	struct tgt_want w = { .iqn_prefix = P, .targets = wts, .n = 3 };
	struct tgt_view v;
	struct cmdseq s;

	(void)state;
	parse_file("tgt-1.0.85-show-multi.txt", &v);
	cmdseq_init(&s);
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op unbind --mode target --tid 1 -I 127.0.0.1",
		TGTADM " --op unbind --mode target --tid 1 -Q " H1,
		TGTADM " --op unbind --mode target --tid 4 -I 10.0.0.0/8",
		TGTADM " --op unbind --mode target --tid 4 -I ::1",
		"~ " TGTADM " --op delete --mode conn --tid 1 --sid 1 --cid 0",
		TGTADM " --op delete --mode target --tid 1 --force",
		TGTADM " --op delete --mode logicalunit --tid 4 --lun 1",
		TGTADM " --op new --mode logicalunit --tid 4 --lun 3 -b /srv/san/vm2-data.img",
		TGTADM " --op new --mode logicalunit --tid 4 --lun 1 -b /srv/san/vm2-root.img",
		TGTADM " --op new --mode logicalunit --tid 4 --lun 2 -b /srv/san/vm2-swap.img",
		TGTADM " --op new --mode target --tid 3 -T " VM3,
		TGTADM " --op new --mode logicalunit --tid 3 --lun 1 -b /srv/san/c.img",
		TGTADM " --op new --mode target --tid 5 -T " VM4,
		TGTADM " --op bind --mode target --tid 3 -Q " H1,
		TGTADM " --op bind --mode target --tid 5 -Q " H2,
		NULL });
	assert_revocations_first(&s);
	cmdseq_free(&s);

	/* a LUN no longer wanted is deleted */
	w.targets = (const struct tgt_want_target[]){
		{ .iqn = VM1, .luns = &MULTI_LUNS_1[1], .n_luns = 1,
		  .acl = ACL_H1, .n_acl = 1 } };
	w.n = 1;
	plan_ok(&v, &w, NULL, &s);
	assert_seq(&s, (const char *const[]){
		TGTADM " --op unbind --mode target --tid 1 -I 127.0.0.1",
		TGTADM " --op unbind --mode target --tid 4 -I 10.0.0.0/8",
		TGTADM " --op unbind --mode target --tid 4 -I ::1",
		TGTADM " --op unbind --mode target --tid 4 -Q " H2,
		TGTADM " --op unbind --mode target --tid 4 -Q " H1,
		"~ " TGTADM " --op delete --mode conn --tid 4 --sid 2 --cid 0",
		"~ " TGTADM " --op delete --mode conn --tid 4 --sid 3 --cid 0",
		TGTADM " --op delete --mode target --tid 4 --force",
		TGTADM " --op delete --mode logicalunit --tid 1 --lun 1",
		NULL });
	cmdseq_free(&s);
	tgt_view_free(&v);
}

/* ---- against a real tgtd ---- */

#define REAL_PORT       11
#define REAL_PORTAL     "127.0.0.1:3271"
#define REAL_PREFIX     "iqn.2026-11.org.xenmesh.test:"
#define RVM1            REAL_PREFIX "vm1"
#define RVM2            REAL_PREFIX "vm2"
#define RH1             REAL_PREFIX "h1"
#define RH2             REAL_PREFIX "h2"
#define RH9             REAL_PREFIX "h9"
#define FOREIGN         "iqn.2001-04.com.example:foreign"
#define FOREIGN_INIT    "iqn.2001-04.com.example:someone"

struct bg {                     /* a program left running meanwhile */
	bool done;
	struct runner_result res;
	char out[RUNNER_OUTPUT_MAX + 1];
	char err[RUNNER_OUTPUT_MAX + 1];
};

struct real {
	char skip[256];         /* why the test cannot run here */
	char failed[512];       /* why setup failed */
	char dir[64];
	char tgtd_path[256];
	pid_t tgtd;
	qb_loop_t *loop;
	struct runner *r;
	struct tgt_conf conf;
	struct bg perf;
	char files[4][128];
	size_t n_files;
};

struct seq_res {
	bool done;
	struct cmdseq_outcome o;
	char out[RUNNER_OUTPUT_MAX + 1];
	char err[1024];
	qb_loop_t *loop;
};

static void
seq_done(void *data, const struct cmdseq_outcome *o)
{
	struct seq_res *sr = data;

	sr->done = true;
	sr->o = *o;
	sr->o.last = NULL;
	sr->out[0] = sr->err[0] = '\0';
	if (o->last) {
		memcpy(sr->out, o->last->out.data, o->last->out.len + 1);
		snprintf(sr->err, sizeof(sr->err), "%s", o->last->err.data);
	}
	qb_loop_stop(sr->loop);
}

struct waiter {
	qb_loop_t *loop;
	const bool *flag;
	uint64_t deadline;
	qb_loop_timer_handle h;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
waiter_tick(void *data)
{
	struct waiter *w = data;

	if ((w->flag && *w->flag) || now_ms() >= w->deadline) {
		qb_loop_stop(w->loop);
		return;
	}
	(void)qb_loop_timer_add(w->loop, QB_LOOP_LOW, 20 * 1000000ULL, w,
				waiter_tick, &w->h);
}

/* Run the loop until *flag (or for ms when flag is NULL), at most ms. */
static void
loop_until(qb_loop_t *loop, const bool *flag, unsigned ms)
{
	struct waiter w = { .loop = loop, .flag = flag, .deadline = now_ms() + ms };

	if (flag && *flag)
		return;
	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_LOW, 20 * 1000000ULL, &w,
					   waiter_tick, &w.h), 0);
	qb_loop_run(loop);
	(void)qb_loop_timer_del(loop, w.h);
}

/* Run s (taken over) through the exec runner; 0 or the outcome's rc. */
static int
run_seq(struct real *rl, struct cmdseq *s, struct seq_res *sr)
{
	int rc;

	memset(sr, 0, sizeof(*sr));
	sr->loop = rl->loop;
	rc = cmdseq_run(rl->r, s, seq_done, sr, NULL);
	cmdseq_free(s);
	if (rc) {
		snprintf(sr->o.message, sizeof(sr->o.message), "cmdseq_run: %s",
			 strerror(-rc));
		return rc;
	}
	loop_until(rl->loop, &sr->done, 20000);
	if (!sr->done)
		fail_msg("a command sequence did not finish within 20 s");
	return sr->o.rc;
}

static int __attribute__((sentinel))
run_cmd(struct real *rl, struct seq_res *sr, const char *arg0, ...)
{
	const char *argv[32];
	size_t n = 0;
	struct cmdseq s;
	va_list ap;

	argv[n++] = arg0;
	va_start(ap, arg0);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	cmdseq_init(&s);
	cmdseq_addv(&s, argv);
	cmdseq_set_timeout(&s, 8000);
	return run_seq(rl, &s, sr);
}

static void
read_view(struct real *rl, struct tgt_view *v)
{
	struct seq_res *sr = calloc(1, sizeof(*sr));
	struct cmdseq s;
	char why[256];

	assert_non_null(sr);
	cmdseq_init(&s);
	assert_int_equal(tgt_cmd_show(&s, &rl->conf), 0);
	if (run_seq(rl, &s, sr))
		fail_msg("show: %s", sr->o.message);
	if (tgt_show_parse(sr->out, v, why, sizeof(why)))
		fail_msg("%s\n%s", why, sr->out);
	free(sr);
}

/* Plan from a fresh read-back, check the lines when given, run them, and
 * prove the result by reading back again: in sync, nothing left to do. */
static void
apply(struct real *rl, const struct tgt_want *w, const char *const *expect,
      struct tgt_view *after)
{
	struct seq_res *sr = calloc(1, sizeof(*sr));
	struct tgt_view have;
	struct cmdseq s;

	assert_non_null(sr);
	read_view(rl, &have);
	cmdseq_init(&s);
	plan_ok(&have, w, &rl->conf, &s);
	assert_revocations_first(&s);
	if (expect)
		assert_seq(&s, expect);
	if (run_seq(rl, &s, sr))
		fail_msg("plan failed on tgtd: %s", sr->o.message);
	tgt_view_free(&have);
	read_view(rl, after);
	cmdseq_init(&s);
	plan_ok(after, w, &rl->conf, &s);
	if (s.n) {
		print_seq(&s);
		fail_msg("after the plan ran, tgtd still differs from the want");
	}
	free(sr);
}

static void
assert_view_is(const struct tgt_view *v, const struct tgt_want *w)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct tgt_want_target *wt = &w->targets[i];
		const struct tgt_target *t = tgt_view_find(v, wt->iqn);

		if (!t)
			fail_msg("%s is not on tgtd", wt->iqn);
		assert_true(t->ready);
		assert_int_equal(t->n_luns, wt->n_luns);
		for (size_t j = 0; j < wt->n_luns; j++) {
			bool found = false;

			for (size_t k = 0; k < t->n_luns; k++)
				found |= t->luns[k].lun == wt->luns[j].lun &&
					 !strcmp(t->luns[k].path, wt->luns[j].path);
			if (!found)
				fail_msg("%s: LUN %u %s missing", wt->iqn,
					 wt->luns[j].lun, wt->luns[j].path);
		}
		assert_int_equal(t->n_acl, wt->n_acl);
		for (size_t j = 0; j < wt->n_acl; j++) {
			bool found = false;

			for (size_t k = 0; k < t->n_acl; k++)
				found |= !strcmp(t->acl[k], wt->acl[j]);
			if (!found)
				fail_msg("%s: %s not in the ACL", wt->iqn, wt->acl[j]);
		}
	}
	for (size_t i = 0; i < v->n; i++) {
		bool is_wanted = false;

		if (strncmp(v->targets[i].iqn, w->iqn_prefix, strlen(w->iqn_prefix)))
			continue;
		for (size_t j = 0; j < w->n; j++)
			is_wanted |= !strcmp(v->targets[i].iqn, w->targets[j].iqn);
		if (!is_wanted)
			fail_msg("%s is on tgtd but not wanted", v->targets[i].iqn);
	}
}

/* iscsi-inq as initiator against LUN 1 of iqn: 0 when the login (and the
 * inquiry) worked, else the cmdseq outcome and its message in sr. */
static int
login(struct real *rl, struct seq_res *sr, const char *initiator, const char *iqn)
{
	char url[512];

	snprintf(url, sizeof(url), "iscsi://%s/%s/1", REAL_PORTAL, iqn);
	return run_cmd(rl, sr, "iscsi-inq", "-i", initiator, url, NULL);
}

static void
assert_login_refused(struct real *rl, const char *initiator, const char *iqn)
{
	struct seq_res *sr = calloc(1, sizeof(*sr));

	assert_non_null(sr);
	if (!login(rl, sr, initiator, iqn))
		fail_msg("%s was admitted to %s", initiator, iqn);
	/* what a refused login looks like to libiscsi */
	if (!strstr(sr->o.message, "Target not found"))
		fail_msg("%s refused from %s, but not as expected: %s", initiator,
			 iqn, sr->o.message);
	free(sr);
}

static void
assert_login_ok(struct real *rl, const char *initiator, const char *iqn)
{
	struct seq_res *sr = calloc(1, sizeof(*sr));

	assert_non_null(sr);
	if (login(rl, sr, initiator, iqn))
		fail_msg("%s refused from %s: %s", initiator, iqn, sr->o.message);
	assert_non_null(strstr(sr->out, "Peripheral Device Type:DIRECT_ACCESS"));
	free(sr);
}

static void
bg_done(void *data, const struct runner_result *res)
{
	struct bg *b = data;

	b->done = true;
	b->res = *res;
	memcpy(b->out, res->out.data, res->out.len + 1);
	memcpy(b->err, res->err.data, res->err.len + 1);
	b->res.out.data = b->out;
	b->res.err.data = b->err;
}

static bool
find_program(const char *name, char *path, size_t len)
{
	char dirs[] = RUNNER_PATH, *save = NULL;

	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, len, "%s/%s", d, name);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

static void
add_file(struct real *rl, const char *name)
{
	char *path = rl->files[rl->n_files++];
	int fd;

	snprintf(path, sizeof(rl->files[0]), "%s/%s", rl->dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	close(fd);
}

static int
setup_real(void **state)
{
	static const char *const needed[] = { "tgtadm", "iscsi-inq", "iscsi-perf" };
	struct real *rl = calloc(1, sizeof(*rl));
	struct seq_res *sr = calloc(1, sizeof(*sr));
	char port[16], path[256], logpath[128];
	uint64_t deadline;
	int status;

	assert_non_null(rl);
	assert_non_null(sr);
	*state = rl;
	rl->conf.control_port = REAL_PORT;
	if (geteuid() != 0) {
		snprintf(rl->skip, sizeof(rl->skip), "tgtd needs root");
		goto out;
	}
	if (!find_program("tgtd", rl->tgtd_path, sizeof(rl->tgtd_path))) {
		snprintf(rl->skip, sizeof(rl->skip), "no tgtd on %s (Debian package tgt)",
			 RUNNER_PATH);
		goto out;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!find_program(needed[i], path, sizeof(path))) {
			snprintf(rl->skip, sizeof(rl->skip), "no %s (packages tgt, libiscsi-bin)",
				 needed[i]);
			goto out;
		}
	snprintf(rl->dir, sizeof(rl->dir), "/tmp/xm-test-tgt.XXXXXX");
	assert_non_null(mkdtemp(rl->dir));
	rl->loop = qb_loop_create();
	assert_non_null(rl->loop);
	assert_int_equal(runner_exec_open(&rl->r, rl->loop, NULL), 0);

	snprintf(port, sizeof(port), "%d", REAL_PORT);
	/* another tgtd on our control port would get our targets */
	if (!run_cmd(rl, sr, "tgtadm", "-C", port, "--op", "show", "--mode", "sys", NULL)) {
		snprintf(rl->failed, sizeof(rl->failed),
			 "a tgtd already answers on control port %d (a leftover? "
			 "tgtadm -C %d --op delete --mode system)", REAL_PORT, REAL_PORT);
		goto out;
	}
	snprintf(logpath, sizeof(logpath), "%s/tgtd.log", rl->dir);
	rl->tgtd = fork();
	assert_true(rl->tgtd >= 0);
	if (rl->tgtd == 0) {
		int fd = open(logpath, O_CREAT | O_WRONLY | O_TRUNC, 0600);
		int null = open("/dev/null", O_RDONLY);

		/* never outlive the test, even when it crashes */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(126);
		execl(rl->tgtd_path, "tgtd", "-f", "-C", port, "--iscsi",
		      "portal=" REAL_PORTAL, (char *)NULL);
		_exit(127);
	}
	/* it answers "Transport endpoint is not connected" for a moment */
	deadline = now_ms() + 5000;
	for (;;) {
		if (!run_cmd(rl, sr, "tgtadm", "-C", port, "--op", "show", "--mode",
			     "target", NULL))
			break;
		if (waitpid(rl->tgtd, &status, WNOHANG) == rl->tgtd) {
			rl->tgtd = 0;
			snprintf(rl->failed, sizeof(rl->failed),
				 "tgtd exited at start (status 0x%x), see %s", status,
				 logpath);
			goto out;
		}
		if (now_ms() > deadline) {
			snprintf(rl->failed, sizeof(rl->failed),
				 "tgtd did not answer within 5 s: %.300s", sr->o.message);
			goto out;
		}
		loop_until(rl->loop, NULL, 100);
	}
	if (sr->out[0]) {
		snprintf(rl->failed, sizeof(rl->failed),
			 "our fresh tgtd already has targets: %.200s", sr->out);
		goto out;
	}
	add_file(rl, "vm1-root.img");
	add_file(rl, "vm1-data.img");
	add_file(rl, "vm2-root.img");
	add_file(rl, "foreign.img");
out:
	free(sr);
	return 0;
}

static int
teardown_real(void **state)
{
	struct real *rl = *state;
	struct seq_res *sr = calloc(1, sizeof(*sr));
	struct tgt_view v = { 0 };
	char port[16], tid[16], why[128], path[256];
	struct cmdseq s;
	int status;

	if (!rl)
		return 0;
	snprintf(port, sizeof(port), "%d", REAL_PORT);
	/* end what still runs (iscsi-perf) before the targets go */
	runner_close(rl->r);
	rl->r = NULL;
	if (rl->tgtd > 0 && sr && !runner_exec_open(&rl->r, rl->loop, NULL)) {
		/* the documented way to stop tgtd */
		(void)run_cmd(rl, sr, "tgtadm", "-C", port, "--op", "update", "--mode",
			      "sys", "--name", "State", "-v", "offline", NULL);
		cmdseq_init(&s);
		tgt_cmd_show(&s, &rl->conf);
		if (!run_seq(rl, &s, sr) && !tgt_show_parse(sr->out, &v, why, sizeof(why))) {
			for (size_t i = 0; i < v.n; i++) {
				snprintf(tid, sizeof(tid), "%u", v.targets[i].tid);
				(void)run_cmd(rl, sr, "tgtadm", "-C", port, "--op", "delete",
					      "--mode", "target", "--tid", tid, "--force",
					      NULL);
			}
		}
		tgt_view_free(&v);
		(void)run_cmd(rl, sr, "tgtadm", "-C", port, "--op", "delete", "--mode",
			      "system", NULL);
	}
	if (rl->tgtd > 0) {
		uint64_t deadline = now_ms() + 5000;

		while (waitpid(rl->tgtd, &status, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				print_message("tgtd did not stop within 5 s: SIGKILL\n");
				kill(rl->tgtd, SIGKILL);
				(void)waitpid(rl->tgtd, &status, 0);
				break;
			}
			usleep(50 * 1000);
		}
	}
	runner_close(rl->r);
	if (rl->loop)
		qb_loop_destroy(rl->loop);
	for (size_t i = 0; i < rl->n_files; i++)
		(void)unlink(rl->files[i]);
	if (rl->dir[0]) {
		snprintf(path, sizeof(path), "%s/tgtd.log", rl->dir);
		(void)unlink(path);
		(void)rmdir(rl->dir);
	}
	free(sr);
	free(rl);
	return 0;
}

static bool
has_session(const struct tgt_view *v, const char *iqn, const char *initiator)
{
	const struct tgt_target *t = tgt_view_find(v, iqn);

	for (size_t i = 0; t && i < t->n_sessions; i++)
		if (!strcmp(t->sessions[i].initiator, initiator))
			return true;
	return false;
}

static void
test_real_tgtd(void **state)
{
	struct real *rl = *state;
	struct seq_res *sr = calloc(1, sizeof(*sr));
	struct tgt_view v, before;
	const struct tgt_target *ft;
	struct tgt_lun luns1[2], luns2[1];
	const char *const acl1[] = { RH1 };
	const char *const acl2[] = { RH1, RH2 };
	const char *const acl_h2[] = { RH2 };
	struct tgt_want_target wts[2];
	struct tgt_want w = { .iqn_prefix = REAL_PREFIX, .targets = wts, .n = 2 };
	char port[16], perf_url[256];
	const char *const perf_argv[] = { "iscsi-perf", "-i", RH1, "-x", "0", "-t", "15",
					  perf_url, NULL };
	struct runner_req perf_req = { .argv = perf_argv, .timeout_ms = 20000 };
	uint64_t t0;

	assert_non_null(sr);
	if (rl->skip[0]) {
		print_message("[  SKIP    ] real tgtd: %s\n", rl->skip);
		free(sr);
		skip();
	}
	if (rl->failed[0]) {
		free(sr);
		fail_msg("%s", rl->failed);
	}
	snprintf(port, sizeof(port), "%d", REAL_PORT);

	/* someone else's target, with a LUN, a name ACL and a bound address
	 * of its own: it must come through every plan untouched */
	if (run_cmd(rl, sr, "tgtadm", "-C", port, "--lld", "iscsi", "--op", "new", "--mode",
		    "target", "--tid", "1", "-T", FOREIGN, NULL) ||
	    run_cmd(rl, sr, "tgtadm", "-C", port, "--lld", "iscsi", "--op", "new", "--mode",
		    "logicalunit", "--tid", "1", "--lun", "1", "-b", rl->files[3], NULL) ||
	    run_cmd(rl, sr, "tgtadm", "-C", port, "--lld", "iscsi", "--op", "bind", "--mode",
		    "target", "--tid", "1", "-Q", FOREIGN_INIT, NULL))
		fail_msg("foreign target: %s", sr->o.message);

	/* 1. create two targets */
	luns1[0] = (struct tgt_lun){ .lun = 1 };
	luns1[1] = (struct tgt_lun){ .lun = 2 };
	luns2[0] = (struct tgt_lun){ .lun = 1 };
	snprintf(luns1[0].path, sizeof(luns1[0].path), "%s", rl->files[0]);
	snprintf(luns1[1].path, sizeof(luns1[1].path), "%s", rl->files[1]);
	snprintf(luns2[0].path, sizeof(luns2[0].path), "%s", rl->files[2]);
	wts[0] = (struct tgt_want_target){ .iqn = RVM1, .luns = luns1, .n_luns = 2,
					   .acl = acl1, .n_acl = 1 };
	wts[1] = (struct tgt_want_target){ .iqn = RVM2, .luns = luns2, .n_luns = 1,
					   .acl = acl2, .n_acl = 2 };
	{
		char l[5][RUNNER_LINE_MAX];

		snprintf(l[0], sizeof(l[0]), "%s --op new --mode logicalunit --tid 2 --lun 1 -b %s",
			 RTGTADM, rl->files[0]);
		snprintf(l[1], sizeof(l[1]), "%s --op new --mode logicalunit --tid 2 --lun 2 -b %s",
			 RTGTADM, rl->files[1]);
		snprintf(l[2], sizeof(l[2]), "%s --op new --mode logicalunit --tid 3 --lun 1 -b %s",
			 RTGTADM, rl->files[2]);
		apply(rl, &w, (const char *const[]){
			RTGTADM " --op new --mode target --tid 2 -T " RVM1, l[0], l[1],
			RTGTADM " --op new --mode target --tid 3 -T " RVM2, l[2],
			RTGTADM " --op bind --mode target --tid 2 -Q " RH1,
			RTGTADM " --op bind --mode target --tid 3 -Q " RH1,
			RTGTADM " --op bind --mode target --tid 3 -Q " RH2,
			NULL }, &v);
	}
	assert_view_is(&v, &w);
	assert_int_equal(tgt_view_find(&v, RVM1)->tid, 2);     /* 1 is taken */
	assert_int_equal(tgt_view_find(&v, RVM2)->tid, 3);
	ft = tgt_view_find(&v, FOREIGN);
	assert_non_null(ft);
	assert_int_equal(ft->n_acl, 1);
	tgt_view_free(&v);

	/* 2. logins: a listed name is admitted, another is refused */
	assert_login_ok(rl, RH1, RVM1);
	assert_login_refused(rl, RH9, RVM1);
	assert_login_refused(rl, RH2, RVM1);
	assert_login_ok(rl, RH2, RVM2);

	/* 3. tgt admits by address OR name: an address entry bound by hand
	 * lets h9 in, and the plan takes it away again */
	if (run_cmd(rl, sr, "tgtadm", "-C", port, "--lld", "iscsi", "--op", "bind", "--mode",
		    "target", "--tid", "2", "-I", "127.0.0.1", NULL))
		fail_msg("bind -I: %s", sr->o.message);
	assert_login_ok(rl, RH9, RVM1);
	read_view(rl, &v);
	assert_true(tgt_view_mentions(&v, RH9));
	tgt_view_free(&v);
	apply(rl, &w, (const char *const[]){
		RTGTADM " --op unbind --mode target --tid 2 -I 127.0.0.1",
		NULL }, &v);
	tgt_view_free(&v);
	assert_login_refused(rl, RH9, RVM1);

	/* 4. fence h1 while it has a session doing I/O on vm2 */
	snprintf(perf_url, sizeof(perf_url), "iscsi://%s/%s/1", REAL_PORTAL, RVM2);
	assert_int_equal(runner_run(rl->r, &perf_req, bg_done, &rl->perf), 0);
	t0 = now_ms();
	for (;;) {
		read_view(rl, &before);
		if (has_session(&before, RVM2, RH1))
			break;
		tgt_view_free(&before);
		if (rl->perf.done)
			fail_msg("iscsi-perf ended at once: %s %s", rl->perf.out, rl->perf.err);
		if (now_ms() - t0 > 5000)
			fail_msg("iscsi-perf's session never showed up");
		loop_until(rl->loop, NULL, 100);
	}
	assert_true(tgt_view_mentions(&before, RH1));
	/* let it do I/O for a while: it prints its rate each second */
	loop_until(rl->loop, &rl->perf.done, 1200);
	if (rl->perf.done)
		fail_msg("iscsi-perf ended before the fence: %s %s", rl->perf.out,
			 rl->perf.err);
	t0 = now_ms();
	wts[0].acl = acl_h2;
	wts[0].n_acl = 1;
	wts[1].acl = acl_h2;
	wts[1].n_acl = 1;
	{
		const struct tgt_target *t2 = tgt_view_find(&before, RVM2);
		char conn[RUNNER_LINE_MAX];
		size_t k;

		for (k = 0; k < t2->n_sessions; k++)
			if (!strcmp(t2->sessions[k].initiator, RH1))
				break;
		snprintf(conn, sizeof(conn),
			 "~ " RTGTADM " --op delete --mode conn --tid 3 "
			 "--sid %u --cid %u", t2->sessions[k].sid, t2->sessions[k].cid);
		apply(rl, &w, (const char *const[]){
			RTGTADM " --op unbind --mode target --tid 2 -Q " RH1,
			RTGTADM " --op unbind --mode target --tid 3 -Q " RH1,
			conn,
			RTGTADM " --op bind --mode target --tid 2 -Q " RH2,
			NULL }, &v);
	}
	tgt_view_free(&before);
	/* confirmed by the read-back: h1 in no ACL and no session */
	assert_false(tgt_view_mentions(&v, RH1));
	assert_false(has_session(&v, RVM2, RH1));
	assert_true(tgt_view_mentions(&v, RH2));
	assert_view_is(&v, &w);
	tgt_view_free(&v);
	/* the running initiator lost its session and cannot get back in */
	loop_until(rl->loop, &rl->perf.done, 8000);
	if (!rl->perf.done)
		fail_msg("iscsi-perf still runs 8 s after the fence");
	assert_false(rl->perf.res.timed_out);
	/* it did I/O, then its reconnect was refused */
	if (!strstr(rl->perf.out, "iops") ||
	    (!strstr(rl->perf.out, "Target not found") &&
	     !strstr(rl->perf.err, "Target not found")))
		fail_msg("iscsi-perf: exit %d, %s / %s", rl->perf.res.exit_code,
			 rl->perf.out, rl->perf.err);
	print_message("fenced iscsi-perf: exit %d, %llu ms after the fence began\n",
		      rl->perf.res.exit_code, (unsigned long long)(now_ms() - t0));
	assert_login_refused(rl, RH1, RVM2);
	assert_login_refused(rl, RH1, RVM1);
	assert_login_ok(rl, RH2, RVM1);

	/* 5. remove vm1; the foreign target is as it was */
	w.n = 1;
	wts[0] = wts[1];
	apply(rl, &w, (const char *const[]){
		RTGTADM " --op unbind --mode target --tid 2 -Q " RH2,
		RTGTADM " --op delete --mode target --tid 2 --force",
		NULL }, &v);
	assert_view_is(&v, &w);
	assert_null(tgt_view_find(&v, RVM1));
	ft = tgt_view_find(&v, FOREIGN);
	assert_non_null(ft);
	assert_int_equal(ft->tid, 1);
	assert_int_equal(ft->n_luns, 1);
	assert_string_equal(ft->luns[0].path, rl->files[3]);
	assert_int_equal(ft->n_acl, 1);
	assert_string_equal(ft->acl[0], FOREIGN_INIT);
	tgt_view_free(&v);
	free(sr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bad_input),
		cmocka_unit_test(test_plan_bad_input),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_parse_real_multi),
		cmocka_unit_test(test_parse_shapes),
		cmocka_unit_test(test_cmd_show),
		cmocka_unit_test(test_plan_fresh),
		cmocka_unit_test(test_plan_in_sync),
		cmocka_unit_test(test_plan_fence),
		cmocka_unit_test(test_plan_move),
		cmocka_unit_test(test_plan_remove_target),
		cmocka_unit_test(test_plan_address_entries),
		cmocka_unit_test(test_plan_foreign_untouched),
		cmocka_unit_test(test_plan_tids_and_luns),
		cmocka_unit_test_setup_teardown(test_real_tgtd, setup_real, teardown_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
