/* Tests of agent/runner.c: validation and quoting, the exec runner against
 * real programs on a real qb_loop, and the recorder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <qb/qbloop.h>

#include "runner.h"

/* One finished command, copied out of the callback. */
struct got {
	int calls;
	struct runner_result res;
	char out[RUNNER_OUTPUT_MAX + 1];
	char err[4096];
	qb_loop_t *loop;
};

static void
got_done(void *data, const struct runner_result *res)
{
	struct got *g = data;

	g->calls++;
	g->res = *res;
	memcpy(g->out, res->out.data, res->out.len + 1);
	snprintf(g->err, sizeof(g->err), "%s", res->err.data);
	g->res.out.data = g->out;
	g->res.err.data = g->err;
	if (g->loop)
		qb_loop_stop(g->loop);
}

/* A guard so that a hung test fails instead of hanging the suite. */
static void
guard_fire(void *data)
{
	qb_loop_stop(data);
	fail_msg("the loop ran 10 s without the command finishing");
}

static struct got *
run_one(const char *const *argv, const char *in, int timeout_ms, size_t max)
{
	struct runner_exec_params p = { .output_max = max };
	struct got *g = calloc(1, sizeof(*g));
	struct runner *r = NULL;
	qb_loop_timer_handle guard;
	struct runner_req req = { .argv = argv, .timeout_ms = timeout_ms };

	assert_non_null(g);
	g->loop = qb_loop_create();
	assert_non_null(g->loop);
	assert_int_equal(runner_exec_open(&r, g->loop, &p), 0);
	if (in) {
		req.stdin_data = in;
		req.stdin_len = strlen(in);
	}
	assert_int_equal(runner_run(r, &req, got_done, g), 0);
	/* never from inside run() */
	assert_int_equal(g->calls, 0);
	assert_int_equal(qb_loop_timer_add(g->loop, QB_LOOP_LOW, 10000000000ULL,
					   g->loop, guard_fire, &guard), 0);
	qb_loop_run(g->loop);
	(void)qb_loop_timer_del(g->loop, guard);
	assert_int_equal(g->calls, 1);
	runner_close(r);
	qb_loop_destroy(g->loop);
	g->loop = NULL;
	return g;
}

/* ---- invalid input first ---- */

static void
test_validate(void **state)
{
	const char *empty[] = { NULL };
	const char *blank[] = { "", NULL };
	const char *rel[] = { "./fence_x", NULL };
	const char *rel2[] = { "bin/true", NULL };
	const char *ok_abs[] = { "/bin/true", NULL };
	const char *ok_name[] = { "true", NULL };
	struct runner_req req = { .argv = ok_abs, .timeout_ms = 1000 };

	assert_int_equal(runner_req_validate(NULL), -EINVAL);
	req.argv = NULL;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.argv = empty;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.argv = blank;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.argv = rel;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.argv = rel2;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.argv = ok_abs;
	req.timeout_ms = 0;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.timeout_ms = -5;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.timeout_ms = 1000;
	req.stdin_len = 3;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.stdin_data = "abc";
	req.stdin_len = RUNNER_STDIN_MAX + 1;
	assert_int_equal(runner_req_validate(&req), -E2BIG);
	req.stdin_len = 3;
	assert_int_equal(runner_req_validate(&req), 0);
	req.argv = ok_name;
	assert_int_equal(runner_req_validate(&req), 0);
}

static void
test_run_refuses_invalid(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	struct runner *r = NULL, *rec = NULL;
	const char *rel[] = { "./x", NULL };
	struct runner_req req = { .argv = rel, .timeout_ms = 100 };
	struct got g = { 0 };

	assert_int_equal(runner_exec_open(NULL, loop, NULL), -EINVAL);
	assert_int_equal(runner_exec_open(&r, NULL, NULL), -EINVAL);
	assert_int_equal(runner_exec_open(&r, loop, NULL), 0);
	assert_int_equal(runner_recorder_open(&rec, NULL), 0);
	/* both implementations refuse the same way */
	assert_int_equal(runner_run(r, &req, got_done, &g), -EINVAL);
	assert_int_equal(runner_run(rec, &req, got_done, &g), -EINVAL);
	req.argv = (const char *[]){ "/bin/true", NULL };
	assert_int_equal(runner_run(r, &req, NULL, &g), -EINVAL);
	assert_int_equal(runner_run(rec, &req, NULL, &g), -EINVAL);
	assert_int_equal(runner_recorder_count(rec), 0);
	/* recorder calls on the exec runner */
	assert_int_equal(runner_recorder_expect(r, NULL, &(struct runner_canned){ 0 }),
			 -EINVAL);
	assert_null(runner_recorder_get(r, 0));
	runner_close(r);
	runner_close(rec);
	runner_close(NULL);
	qb_loop_destroy(loop);
	assert_int_equal(g.calls, 0);
}

static void
test_argv_format(void **state)
{
	const char *argv[] = { "ssh", "-o", "BatchMode=yes", "root@10.0.0.2",
			       "echo b > /proc/sysrq-trigger", "", "it's", NULL };
	char buf[256], tiny[8];

	assert_int_equal(runner_argv_format(argv, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ssh -o BatchMode=yes root@10.0.0.2 "
			    "'echo b > /proc/sysrq-trigger' '' 'it'\\''s'");
	assert_int_equal(runner_argv_format(argv, tiny, sizeof(tiny)), -ENOSPC);
	assert_string_equal(tiny, "ssh -o ");
	assert_int_equal(runner_argv_format(argv, buf, 0), -EINVAL);
}

static void
test_describe(void **state)
{
	struct runner_result r = { .exit_code = 1 };
	char buf[128];

	r.err = (struct runner_output){ "first\n  Failed: no route \n\n", 26, false };
	runner_result_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "exit 1: Failed: no route");
	assert_false(runner_result_ok(&r));
	r.err = (struct runner_output){ "", 0, false };
	runner_result_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "exit 1");
	r.exit_code = -1;
	r.term_signal = 15;
	runner_result_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "killed by signal 15 (Terminated)");
	r.timed_out = true;
	r.elapsed_ms = 200;
	runner_result_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "timed out after 200 ms");
	r.exec_errno = ENOENT;
	runner_result_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "exec failed: No such file or directory");
	r = (struct runner_result){ 0 };
	assert_true(runner_result_ok(&r));
}

/* ---- the exec runner ---- */

static void
test_exec_true_false(void **state)
{
	struct got *g;

	g = run_one((const char *[]){ "/bin/true", NULL }, NULL, 5000, 0);
	assert_int_equal(g->res.exit_code, 0);
	assert_int_equal(g->res.exec_errno, 0);
	assert_false(g->res.timed_out);
	assert_false(g->res.cancelled);
	assert_true(runner_result_ok(&g->res));
	free(g);
	/* a bare name, searched on the runner's PATH */
	g = run_one((const char *[]){ "false", NULL }, NULL, 5000, 0);
	assert_int_equal(g->res.exit_code, 1);
	assert_int_equal(g->res.term_signal, 0);
	assert_false(runner_result_ok(&g->res));
	free(g);
}

/* Gone or a zombie: killed. */
static bool
proc_dead(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static void
test_exec_timeout_kills_group(void **state)
{
	struct got *g;
	long pid;
	int i;

	/* the shell's background sleep is in the same group and must die
	 * too, not linger holding fds for 10 s */
	g = run_one((const char *[]){ "/bin/sh", "-c", "sleep 10 & echo $!; wait", NULL },
		    NULL, 200, 0);
	assert_true(g->res.timed_out);
	assert_int_equal(g->res.term_signal, SIGKILL);
	assert_int_equal(g->res.exit_code, -1);
	assert_in_range(g->res.elapsed_ms, 190, 3000);
	pid = strtol(g->out, NULL, 10);
	assert_true(pid > 1);
	for (i = 0; i < 100 && !proc_dead(pid); i++)
		usleep(10000);
	assert_true(proc_dead(pid));
	free(g);
}

static void
test_exec_capture(void **state)
{
	struct got *g;

	g = run_one((const char *[]){ "/bin/sh", "-c",
				      "echo out; echo err >&2; echo $LC_ALL; exit 3",
				      NULL }, NULL, 5000, 0);
	assert_int_equal(g->res.exit_code, 3);
	assert_string_equal(g->out, "out\nC\n");
	assert_int_equal(g->res.out.len, 6);
	assert_string_equal(g->err, "err\n");
	assert_false(g->res.out.truncated);
	free(g);
	/* PATH is the runner's, not ours */
	g = run_one((const char *[]){ "/bin/sh", "-c", "echo $PATH", NULL },
		    NULL, 5000, 0);
	assert_string_equal(g->out, RUNNER_PATH "\n");
	free(g);
}

static void
test_exec_stdin(void **state)
{
	struct got *g;
	char *big;
	size_t n = 300000;

	g = run_one((const char *[]){ "/bin/cat", NULL }, "action=off\nplug=3\n",
		    5000, 0);
	assert_int_equal(g->res.exit_code, 0);
	assert_string_equal(g->out, "action=off\nplug=3\n");
	free(g);
	/* more than a socket buffer: written as the child reads */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	g = run_one((const char *[]){ "/usr/bin/wc", "-c", NULL }, big, 5000, 0);
	assert_string_equal(g->out, "300000\n");
	free(g);
	/* a child that never reads: no SIGPIPE for us, it just finishes */
	g = run_one((const char *[]){ "/bin/true", NULL }, big, 5000, 0);
	assert_int_equal(g->res.exit_code, 0);
	free(g);
	free(big);
}

/* stdout into a file (never truncated) and a working directory: what
 * backups use (gzip -c > FILE, sha256sum -c in the backup directory). */
static void
test_exec_stdout_path_cwd(void **state)
{
	char path[] = "/tmp/test_runner_out.XXXXXX", buf[64] = "", line[256];
	const char *argv[] = { "/bin/pwd", NULL };
	struct runner_req req = { .argv = argv, .timeout_ms = 5000, .cwd = "/tmp",
				  .stdout_path = path };
	struct got *g = calloc(1, sizeof(*g));
	struct runner *r = NULL;
	qb_loop_timer_handle guard;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef", 16), 16);
	assert_int_equal(runner_req_format(&req, line, sizeof(line)), 0);
	assert_true(strncmp(line, "/bin/pwd > /tmp/test_runner_out.", 32) == 0);
	assert_non_null(strstr(line, " (in /tmp)"));
	g->loop = qb_loop_create();
	assert_int_equal(runner_exec_open(&r, g->loop, NULL), 0);
	assert_int_equal(runner_run(r, &req, got_done, g), 0);
	assert_int_equal(qb_loop_timer_add(g->loop, QB_LOOP_LOW, 10000000000ULL,
					   g->loop, guard_fire, &guard), 0);
	qb_loop_run(g->loop);
	(void)qb_loop_timer_del(g->loop, guard);
	assert_true(runner_result_ok(&g->res));
	assert_string_equal(g->out, "");                /* not captured */
	assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 16);
	assert_string_equal(buf, "/tmp\n56789abcdef");  /* written over, not truncated */
	/* a file that cannot be opened: run() says so, nothing runs */
	req.stdout_path = "/nonexistent/dir/out";
	assert_int_equal(runner_run(r, &req, got_done, g), -ENOENT);
	/* relative paths are refused */
	req.stdout_path = "out";
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.stdout_path = NULL;
	req.cwd = "tmp";
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	runner_close(r);
	qb_loop_destroy(g->loop);
	close(fd);
	unlink(path);
	free(g);
}

/* stream_fd: one socket is the child's stdin and stdout; the caller's
 * end stays open and its own. */
static void
test_exec_stream_fd(void **state)
{
	const char *argv[] = { "/usr/bin/tr", "a-z", "A-Z", NULL };
	struct runner_req req = { .argv = argv, .timeout_ms = 5000 };
	struct got *g = calloc(1, sizeof(*g));
	struct runner *r = NULL;
	qb_loop_timer_handle guard;
	char line[256], buf[64] = "";
	int sp[2];
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	req.stream_fd = sp[1];
	assert_int_equal(runner_req_format(&req, line, sizeof(line)), 0);
	assert_string_equal(line, "/usr/bin/tr a-z A-Z <> stream");
	g->loop = qb_loop_create();
	assert_int_equal(runner_exec_open(&r, g->loop, NULL), 0);
	assert_int_equal(runner_run(r, &req, got_done, g), 0);
	assert_int_equal(write(sp[0], "save image", 10), 10);
	assert_int_equal(shutdown(sp[0], SHUT_WR), 0);
	assert_int_equal(qb_loop_timer_add(g->loop, QB_LOOP_LOW, 10000000000ULL,
					   g->loop, guard_fire, &guard), 0);
	qb_loop_run(g->loop);
	(void)qb_loop_timer_del(g->loop, guard);
	assert_true(runner_result_ok(&g->res));
	assert_string_equal(g->out, "");                /* not captured */
	close(sp[1]);                                   /* ours: still open */
	n = read(sp[0], buf, sizeof(buf) - 1);
	assert_int_equal(n, 10);
	assert_string_equal(buf, "SAVE IMAGE");
	assert_int_equal(read(sp[0], buf, sizeof(buf)), 0);
	/* not with stdin data, stdout_path, nor fds 1 and 2 */
	req.stdin_data = "x";
	req.stdin_len = 1;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.stdin_data = NULL;
	req.stdin_len = 0;
	req.stdout_path = "/tmp/x";
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.stdout_path = NULL;
	req.stream_fd = 2;
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	runner_close(r);
	qb_loop_destroy(g->loop);
	close(sp[0]);
	free(g);
}

static void
test_exec_missing(void **state)
{
	struct got *g;

	g = run_one((const char *[]){ "/nonexistent/fence_nothing", NULL }, NULL, 5000, 0);
	assert_int_equal(g->res.exec_errno, ENOENT);
	assert_int_equal(g->res.exit_code, -1);
	assert_false(runner_result_ok(&g->res));
	free(g);
	g = run_one((const char *[]){ "fence_surely_not_installed", NULL }, NULL, 5000, 0);
	assert_int_equal(g->res.exec_errno, ENOENT);
	free(g);
	/* not executable (0644) */
	{
		char path[] = "/tmp/test_runner.XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(fchmod(fd, 0644), 0);
		(void)close(fd);
		g = run_one((const char *[]){ path, NULL }, NULL, 5000, 0);
		(void)unlink(path);
		assert_int_equal(g->res.exec_errno, EACCES);
		free(g);
	}
}

static void
test_exec_truncation(void **state)
{
	struct got *g;

	g = run_one((const char *[]){ "/bin/sh", "-c",
				      "head -c 200000 /dev/zero | tr '\\0' a; echo done >&2",
				      NULL }, NULL, 5000, 0);
	assert_int_equal(g->res.exit_code, 0);
	assert_int_equal(g->res.out.len, RUNNER_OUTPUT_MAX);
	assert_true(g->res.out.truncated);
	assert_int_equal(g->out[RUNNER_OUTPUT_MAX - 1], 'a');
	assert_int_equal(g->out[RUNNER_OUTPUT_MAX], '\0');
	assert_string_equal(g->err, "done\n");
	assert_false(g->res.err.truncated);
	free(g);
	/* a smaller configured bound */
	g = run_one((const char *[]){ "/bin/echo", "0123456789", NULL }, NULL, 5000, 4);
	assert_string_equal(g->out, "0123");
	assert_true(g->res.out.truncated);
	free(g);
}

struct pair {
	int calls;
	int order[2];
	bool cancelled[2];
	qb_loop_t *loop;
};

static void
pair_done0(void *data, const struct runner_result *res)
{
	struct pair *p = data;

	p->cancelled[0] = res->cancelled;
	p->order[p->calls++] = 0;
}

static void
pair_done1(void *data, const struct runner_result *res)
{
	struct pair *p = data;

	p->cancelled[1] = res->cancelled;
	p->order[p->calls++] = 1;
	if (p->loop)
		qb_loop_stop(p->loop);
}

static int
fd_count(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static void
test_exec_concurrent_and_close(void **state)
{
	int fds = fd_count();
	qb_loop_t *loop = qb_loop_create();
	struct runner *r = NULL;
	struct pair p = { .loop = loop };
	struct runner_req slow = {
		.argv = (const char *[]){ "/bin/sleep", "10", NULL }, .timeout_ms = 20000 };
	struct runner_req quick = {
		.argv = (const char *[]){ "/bin/true", NULL }, .timeout_ms = 5000 };

	assert_int_equal(runner_exec_open(&r, loop, NULL), 0);
	assert_int_equal(runner_run(r, &slow, pair_done0, &p), 0);
	assert_int_equal(runner_run(r, &quick, pair_done1, &p), 0);
	qb_loop_run(loop);      /* stops when the quick one is done */
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.order[0], 1);
	assert_false(p.cancelled[1]);
	/* closing reports the one still running, cancelled */
	runner_close(r);
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.order[1], 0);
	assert_true(p.cancelled[0]);
	qb_loop_destroy(loop);
	/* every pipe, socket and pidfd closed */
	assert_int_equal(fd_count(), fds);
}

/* ---- the recorder ---- */

static void
test_recorder_records_and_answers(void **state)
{
	struct runner *r = NULL;
	struct got g1 = { 0 }, g2 = { 0 }, g3 = { 0 };
	struct runner_req a = {
		.argv = (const char *[]){ "ssh", "-o", "BatchMode=yes", "root@h2",
					  "xl", "destroy", "vm 1", NULL },
		.timeout_ms = 5000 };
	struct runner_req b = {
		.argv = (const char *[]){ "/usr/sbin/fence_ipmilan", NULL },
		.stdin_data = "action=off\n", .stdin_len = 11, .timeout_ms = 20000 };
	const struct runner_record *rec;
	char msg[256];

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_expect(r, "/usr/sbin/fence_ipmilan",
		&(struct runner_canned){ .exit_code = 2, .out = "Status: OFF\n" }), 0);
	assert_int_equal(runner_recorder_expect(r, "ssh -o BatchMode=yes",
		&(struct runner_canned){ .exit_code = 0 }), 0);
	/* out of order is fine unless ordered */
	assert_int_equal(runner_run(r, &a, got_done, &g1), 0);
	assert_int_equal(runner_run(r, &b, got_done, &g2), 0);
	assert_int_equal(g1.calls + g2.calls, 0);       /* not from run() */
	assert_int_equal(runner_recorder_deliver(r), 2);
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g1.res.exit_code, 0);
	assert_int_equal(g2.res.exit_code, 2);
	assert_string_equal(g2.out, "Status: OFF\n");

	assert_int_equal(runner_recorder_count(r), 2);
	rec = runner_recorder_get(r, 0);
	assert_string_equal(rec->line,
			    "ssh -o BatchMode=yes root@h2 xl destroy 'vm 1'");
	assert_int_equal(rec->stdin_len, 0);
	assert_int_equal(rec->timeout_ms, 5000);
	rec = runner_recorder_get(r, 1);
	assert_string_equal(rec->line, "/usr/sbin/fence_ipmilan");
	assert_string_equal(rec->stdin_data, "action=off\n");
	assert_int_equal(rec->timeout_ms, 20000);
	assert_null(runner_recorder_get(r, 2));
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);

	/* a third command nobody expected: answered 127, reported clearly */
	assert_int_equal(runner_run(r, &a, got_done, &g3), 0);
	assert_int_equal(runner_recorder_deliver(r), 1);
	assert_int_equal(g3.res.exit_code, 127);
	assert_string_equal(g3.err, "runner recorder: unexpected command\n");
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "unexpected command #3: "
			    "ssh -o BatchMode=yes root@h2 xl destroy 'vm 1'");
	runner_close(r);
}

static void
test_recorder_ordered_and_unused(void **state)
{
	struct runner *r = NULL;
	struct got g = { 0 };
	struct runner_req x = { .argv = (const char *[]){ "xl", "list", NULL },
				.timeout_ms = 100 };
	char msg[256];

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	assert_int_equal(runner_recorder_expect(r, "xl destroy",
		&(struct runner_canned){ 0 }), 0);
	assert_int_equal(runner_recorder_expect(r, "xl list",
		&(struct runner_canned){ .timed_out = true }), 0);
	/* "xl list" is expected, but not yet */
	assert_int_equal(runner_run(r, &x, got_done, &g), 0);
	(void)runner_recorder_deliver(r);
	assert_int_equal(g.res.exit_code, 127);
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "unexpected command #1: xl list");
	runner_close(r);

	/* prefixes match on word boundaries; unused ones are reported */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_expect(r, "xl li",
		&(struct runner_canned){ 0 }), 0);
	assert_int_equal(runner_recorder_expect(r, "xl list",
		&(struct runner_canned){ .timed_out = true }), 0);
	assert_int_equal(runner_run(r, &x, got_done, &g), 0);
	(void)runner_recorder_deliver(r);
	assert_true(g.res.timed_out);
	assert_int_equal(g.res.exit_code, -1);
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "expected but never run: xl li");
	runner_close(r);
}

static void
test_recorder_on_loop_and_close(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	struct runner *r = NULL;
	struct got g = { .loop = loop };
	struct pair p = { 0 };
	struct runner_req x = { .argv = (const char *[]){ "/bin/true", NULL },
				.timeout_ms = 100 };

	assert_int_equal(runner_recorder_open(&r, loop), 0);
	assert_int_equal(runner_recorder_expect(r, NULL,
		&(struct runner_canned){ .exec_errno = ENOENT }), 0);
	assert_int_equal(runner_run(r, &x, got_done, &g), 0);
	qb_loop_run(loop);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.res.exec_errno, ENOENT);
	/* pending at close: cancelled, exactly once */
	assert_int_equal(runner_run(r, &x, pair_done0, &p), 0);
	runner_close(r);
	assert_int_equal(p.calls, 1);
	assert_true(p.cancelled[0]);
	qb_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_run_refuses_invalid),
		cmocka_unit_test(test_argv_format),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_exec_true_false),
		cmocka_unit_test(test_exec_timeout_kills_group),
		cmocka_unit_test(test_exec_capture),
		cmocka_unit_test(test_exec_stdin),
		cmocka_unit_test(test_exec_stdout_path_cwd),
		cmocka_unit_test(test_exec_stream_fd),
		cmocka_unit_test(test_exec_missing),
		cmocka_unit_test(test_exec_truncation),
		cmocka_unit_test(test_exec_concurrent_and_close),
		cmocka_unit_test(test_recorder_records_and_answers),
		cmocka_unit_test(test_recorder_ordered_and_unused),
		cmocka_unit_test(test_recorder_on_loop_and_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
