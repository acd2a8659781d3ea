/* The command runner's recorder, for tests of every driver: records each
 * command line exactly and answers from a script of canned results.  See
 * runner.h for the contract it keeps with the exec implementation.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* ---- recorder (tests) -------------------------------------------------- */

struct rec_expect {
	char *prefix;           /* NULL: anything */
	struct runner_canned c; /* out/err owned */
	bool used;
};

struct rec_pending {
	runner_done_fn done;
	void *data;
	size_t expect;          /* SIZE_MAX: unexpected */
};

struct runner_rec {
	struct runner base;
	qb_loop_t *loop;
	struct rec_expect *exp;
	size_t n_exp;
	struct runner_record *ent;
	size_t n_ent;
	struct rec_pending *pend;
	size_t n_pend;
	char *error;            /* first problem seen */
	bool ordered, job_queued, closing;
};

static const struct runner_ops rec_ops;

static struct runner_rec *
rec_of(const struct runner *r)
{
	return r && r->ops == &rec_ops ? (struct runner_rec *)r : NULL;
}

static bool
prefix_matches(const char *prefix, const char *line)
{
	size_t n;

	if (!prefix)
		return true;
	n = strlen(prefix);
	return !strncmp(line, prefix, n) && (line[n] == '\0' || line[n] == ' ');
}

static void
rec_answer(struct runner_rec *rr, const struct rec_pending *p, bool cancelled)
{
	struct runner_result res = { .exit_code = 127 };
	const struct runner_canned *c;

	if (p->expect != SIZE_MAX) {
		c = &rr->exp[p->expect].c;
		res.exit_code = c->exec_errno || c->timed_out || c->term_signal ?
				-1 : c->exit_code;
		res.term_signal = c->term_signal;
		res.timed_out = c->timed_out;
		res.exec_errno = c->exec_errno;
		res.elapsed_ms = c->elapsed_ms;
		res.out = (struct runner_output){ c->out, strlen(c->out), false };
		res.err = (struct runner_output){ c->err, strlen(c->err), false };
	} else {
		res.out = (struct runner_output){ "", 0, false };
		res.err = (struct runner_output){
			"runner recorder: unexpected command\n",
			strlen("runner recorder: unexpected command\n"), false };
	}
	res.cancelled = cancelled;
	p->done(p->data, &res);
}

size_t
runner_recorder_deliver(struct runner *r)
{
	struct runner_rec *rr = rec_of(r);
	struct rec_pending p;
	size_t n = 0;

	if (!rr)
		return 0;
	while (rr->n_pend && !rr->closing) {
		p = rr->pend[0];
		memmove(rr->pend, rr->pend + 1, --rr->n_pend * sizeof(*rr->pend));
		rec_answer(rr, &p, false);
		n++;
	}
	return n;
}

static void
rec_job(void *data)
{
	struct runner_rec *rr = data;

	rr->job_queued = false;
	(void)runner_recorder_deliver(&rr->base);
}

static int
rec_run(struct runner *r, const struct runner_req *req, runner_done_fn done,
	void *data)
{
	struct runner_rec *rr = (struct runner_rec *)r;
	char line[RUNNER_LINE_MAX];
	struct runner_record *e;
	struct rec_pending *p;
	size_t i;
	int rc;

	rc = runner_req_validate(req);
	if (rc)
		return rc;
	if (!done)
		return -EINVAL;
	if (rr->closing)
		return -ESHUTDOWN;
	(void)runner_req_format(req, line, sizeof(line));

	e = realloc(rr->ent, (rr->n_ent + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	rr->ent = e;
	p = realloc(rr->pend, (rr->n_pend + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	rr->pend = p;
	e = &rr->ent[rr->n_ent];
	memset(e, 0, sizeof(*e));
	e->line = strdup(line);
	e->stdin_data = malloc(req->stdin_len + 1);
	if (!e->line || !e->stdin_data) {
		free((char *)e->line);
		free((char *)e->stdin_data);
		return -ENOMEM;
	}
	if (req->stdin_len)
		memcpy((char *)e->stdin_data, req->stdin_data, req->stdin_len);
	((char *)e->stdin_data)[req->stdin_len] = '\0';
	e->stdin_len = req->stdin_len;
	e->timeout_ms = req->timeout_ms;
	rr->n_ent++;

	p = &rr->pend[rr->n_pend];
	p->done = done;
	p->data = data;
	p->expect = SIZE_MAX;
	for (i = 0; i < rr->n_exp; i++) {
		if (rr->exp[i].used)
			continue;
		if (prefix_matches(rr->exp[i].prefix, line)) {
			p->expect = i;
			rr->exp[i].used = true;
		}
		if (p->expect != SIZE_MAX || rr->ordered)
			break;
	}
	/* the first problem says the most: keep it */
	if (p->expect == SIZE_MAX && !rr->error &&
	    asprintf(&rr->error, "unexpected command #%zu: %s", rr->n_ent, line) < 0)
		rr->error = NULL;
	rr->n_pend++;

	if (rr->loop && !rr->job_queued) {
		rc = qb_loop_job_add(rr->loop, QB_LOOP_MED, rr, rec_job);
		if (rc) {
			rr->n_pend--;   /* refused: no answer will come */
			return rc;
		}
		rr->job_queued = true;
	}
	return 0;
}

static void
rec_close(struct runner *r)
{
	struct runner_rec *rr = (struct runner_rec *)r;
	struct rec_pending p;
	size_t i;

	rr->closing = true;
	if (rr->job_queued)
		(void)qb_loop_job_del(rr->loop, QB_LOOP_MED, rr, rec_job);
	while (rr->n_pend) {
		p = rr->pend[0];
		memmove(rr->pend, rr->pend + 1, --rr->n_pend * sizeof(*rr->pend));
		rec_answer(rr, &p, true);
	}
	for (i = 0; i < rr->n_exp; i++) {
		free(rr->exp[i].prefix);
		free((char *)rr->exp[i].c.out);
		free((char *)rr->exp[i].c.err);
	}
	for (i = 0; i < rr->n_ent; i++) {
		free((char *)rr->ent[i].line);
		free((char *)rr->ent[i].stdin_data);
	}
	free(rr->exp);
	free(rr->ent);
	free(rr->pend);
	free(rr->error);
	free(rr);
}

static const struct runner_ops rec_ops = {
	.name = "recorder",
	.run = rec_run,
	.close = rec_close,
};

int
runner_recorder_open(struct runner **out, qb_loop_t *loop)
{
	struct runner_rec *rr;

	if (!out)
		return -EINVAL;
	rr = calloc(1, sizeof(*rr));
	if (!rr)
		return -ENOMEM;
	rr->base.ops = &rec_ops;
	rr->loop = loop;
	*out = &rr->base;
	return 0;
}

int
runner_recorder_expect(struct runner *r, const char *prefix,
		       const struct runner_canned *c)
{
	struct runner_rec *rr = rec_of(r);
	struct rec_expect *x;

	if (!rr || !c)
		return -EINVAL;
	x = realloc(rr->exp, (rr->n_exp + 1) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	rr->exp = x;
	x = &rr->exp[rr->n_exp];
	memset(x, 0, sizeof(*x));
	x->c = *c;
	x->prefix = prefix ? strdup(prefix) : NULL;
	x->c.out = strdup(c->out ? c->out : "");
	x->c.err = strdup(c->err ? c->err : "");
	if ((prefix && !x->prefix) || !x->c.out || !x->c.err) {
		free(x->prefix);
		free((char *)x->c.out);
		free((char *)x->c.err);
		return -ENOMEM;
	}
	rr->n_exp++;
	return 0;
}

int
runner_recorder_set_ordered(struct runner *r, bool ordered)
{
	struct runner_rec *rr = rec_of(r);

	if (!rr)
		return -EINVAL;
	rr->ordered = ordered;
	return 0;
}

const struct runner_record *
runner_recorder_get(const struct runner *r, size_t i)
{
	const struct runner_rec *rr = rec_of(r);

	return rr && i < rr->n_ent ? &rr->ent[i] : NULL;
}

size_t
runner_recorder_count(const struct runner *r)
{
	const struct runner_rec *rr = rec_of(r);

	return rr ? rr->n_ent : 0;
}

int
runner_recorder_verify(const struct runner *r, char *msg, size_t len)
{
	const struct runner_rec *rr = rec_of(r);
	size_t i;

	if (msg && len)
		msg[0] = '\0';
	if (!rr)
		return -EINVAL;
	if (rr->error) {
		if (msg)
			snprintf(msg, len, "%s", rr->error);
		return -EPROTO;
	}
	for (i = 0; i < rr->n_exp; i++) {
		if (!rr->exp[i].used) {
			if (msg)
				snprintf(msg, len, "expected but never run: %s",
					 rr->exp[i].prefix ? rr->exp[i].prefix : "(any command)");
			return -EPROTO;
		}
	}
	return 0;
}
