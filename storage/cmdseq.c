/* A command sequence run step by step through the runner (cmdseq.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdseq.h"

struct cmdseq_op {
	struct runner *runner;
	struct cmdseq seq;
	size_t next;
	size_t tolerated;
	cmdseq_done_fn done;
	void *data;
	bool abandoned;
};

void
cmdseq_init(struct cmdseq *s)
{
	memset(s, 0, sizeof(*s));
}

static void
step_free(struct cmdseq_step *st)
{
	if (st->argv)
		for (char **a = st->argv; *a; a++)
			free(*a);
	free(st->argv);
	free(st->stdin_data);
	free(st->stdout_path);
	free(st->cwd);
}

void
cmdseq_free(struct cmdseq *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		step_free(&s->steps[i]);
	free(s->steps);
	s->steps = NULL;
	s->n = 0;
	s->error = 0;
}

static int
seq_fail(struct cmdseq *s, int err)
{
	if (!s->error)
		s->error = err;
	return s->error;
}

int
cmdseq_addv(struct cmdseq *s, const char *const *argv)
{
	struct cmdseq_step *steps, st = { 0 };
	size_t n = 0;

	if (s->error)
		return s->error;
	if (!argv || !argv[0])
		return seq_fail(s, -EINVAL);
	while (argv[n])
		n++;
	if (n > RUNNER_ARGC_MAX)
		return seq_fail(s, -EINVAL);
	st.argv = calloc(n + 1, sizeof(*st.argv));
	if (!st.argv)
		return seq_fail(s, -ENOMEM);
	for (size_t i = 0; i < n; i++) {
		st.argv[i] = strdup(argv[i]);
		if (!st.argv[i])
			goto out_nomem;
	}
	steps = realloc(s->steps, (s->n + 1) * sizeof(*steps));
	if (!steps)
		goto out_nomem;
	s->steps = steps;
	s->steps[s->n++] = st;
	return 0;

out_nomem:
	step_free(&st);
	return seq_fail(s, -ENOMEM);
}

int
cmdseq_add(struct cmdseq *s, const char *arg0, ...)
{
	const char *argv[RUNNER_ARGC_MAX + 2];
	size_t n = 0;
	va_list ap;

	if (s->error)
		return s->error;
	argv[n++] = arg0;
	va_start(ap, arg0);
	while (n <= RUNNER_ARGC_MAX && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	if (n > RUNNER_ARGC_MAX)
		return seq_fail(s, -EINVAL);
	argv[n] = NULL;
	return cmdseq_addv(s, argv);
}

int
cmdseq_set_stdin(struct cmdseq *s, const char *data)
{
	char *d;

	if (s->error)
		return s->error;
	if (!s->n || !data)
		return seq_fail(s, -EINVAL);
	d = strdup(data);
	if (!d)
		return seq_fail(s, -ENOMEM);
	free(s->steps[s->n - 1].stdin_data);
	s->steps[s->n - 1].stdin_data = d;
	return 0;
}

/* *slot = a copy of text (the last step's), sticky error on failure. */
static int
step_string(struct cmdseq *s, char *(*slot), const char *text)
{
	char *d;

	if (s->error)
		return s->error;
	if (!text || text[0] != '/')
		return seq_fail(s, -EINVAL);
	d = strdup(text);
	if (!d)
		return seq_fail(s, -ENOMEM);
	free(*slot);
	*slot = d;
	return 0;
}

int
cmdseq_set_stdout(struct cmdseq *s, const char *path)
{
	if (!s->error && !s->n)
		return seq_fail(s, -EINVAL);
	return s->n ? step_string(s, &s->steps[s->n - 1].stdout_path, path) : s->error;
}

int
cmdseq_set_cwd(struct cmdseq *s, const char *dir)
{
	if (!s->error && !s->n)
		return seq_fail(s, -EINVAL);
	return s->n ? step_string(s, &s->steps[s->n - 1].cwd, dir) : s->error;
}

void
cmdseq_tolerate(struct cmdseq *s)
{
	if (s->n)
		s->steps[s->n - 1].may_fail = true;
}

void
cmdseq_set_timeout(struct cmdseq *s, int timeout_ms)
{
	if (s->n)
		s->steps[s->n - 1].timeout_ms = timeout_ms;
}

int
cmdseq_format(const struct cmdseq *s, size_t i, char *buf, size_t len)
{
	struct runner_req req = {
		.argv = NULL,
	};

	if (i >= s->n)
		return -ERANGE;
	req.argv = (const char *const *)s->steps[i].argv;
	req.stdout_path = s->steps[i].stdout_path;
	req.cwd = s->steps[i].cwd;
	return runner_req_format(&req, buf, len);
}

static void
op_free(struct cmdseq_op *op)
{
	cmdseq_free(&op->seq);
	free(op);
}

static int op_start(struct cmdseq_op *op);

static void
op_finish(struct cmdseq_op *op, struct cmdseq_outcome *o)
{
	o->tolerated = op->tolerated;
	if (!op->abandoned)
		op->done(op->data, o);
	op_free(op);
}

static void
op_step_done(void *data, const struct runner_result *res)
{
	struct cmdseq_op *op = data;
	struct cmdseq_outcome o = { .last = res };
	const struct cmdseq_step *st = &op->seq.steps[op->next];
	char line[240], desc[240];
	int rc;

	if (res->cancelled) {
		o.rc = -ECANCELED;
		o.failed = op->next;
		snprintf(o.message, sizeof(o.message), "cancelled");
		op_finish(op, &o);
		return;
	}
	if (!runner_result_ok(res)) {
		if (!st->may_fail || op->abandoned) {
			(void)runner_argv_format((const char *const *)st->argv,
						 line, sizeof(line));
			runner_result_describe(res, desc, sizeof(desc));
			o.rc = -EIO;
			o.failed = op->next;
			snprintf(o.message, sizeof(o.message), "%s: %s", line, desc);
			op_finish(op, &o);
			return;
		}
		op->tolerated++;
	}
	if (++op->next == op->seq.n || op->abandoned) {
		op_finish(op, &o);
		return;
	}
	rc = op_start(op);
	if (rc) {
		o.rc = rc;
		o.failed = op->next;
		o.last = NULL;
		snprintf(o.message, sizeof(o.message), "step %zu refused: %s",
			 op->next + 1, strerror(-rc));
		op_finish(op, &o);
	}
}

static int
op_start(struct cmdseq_op *op)
{
	const struct cmdseq_step *st = &op->seq.steps[op->next];
	struct runner_req req = {
		.argv = (const char *const *)st->argv,
		.stdin_data = st->stdin_data,
		.stdin_len = st->stdin_data ? strlen(st->stdin_data) : 0,
		.timeout_ms = st->timeout_ms ? st->timeout_ms :
			      op->seq.timeout_ms ? op->seq.timeout_ms :
			      CMDSEQ_TIMEOUT_DEFAULT_MS,
		.stdout_path = st->stdout_path,
		.cwd = st->cwd,
	};

	return runner_run(op->runner, &req, op_step_done, op);
}

int
cmdseq_run(struct runner *r, struct cmdseq *s, cmdseq_done_fn done,
	   void *data, struct cmdseq_op **opp)
{
	struct cmdseq_op *op;
	int rc;

	if (opp)
		*opp = NULL;
	if (s->error)
		return s->error;
	if (!r || !done)
		return -EINVAL;
	if (s->n == 0)
		return -ENODATA;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->runner = r;
	op->done = done;
	op->data = data;
	op->seq = *s;
	cmdseq_init(s);
	rc = op_start(op);
	if (rc) {
		*s = op->seq;           /* give it back untouched */
		free(op);
		return rc;
	}
	if (opp)
		*opp = op;
	return 0;
}

void
cmdseq_op_abandon(struct cmdseq_op *op)
{
	if (op)
		op->abandoned = true;
}
