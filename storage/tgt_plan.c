/* tgt driver: tgtadm command lines and the reconcile planner (tgt.h).
 *
 * Every line is `tgtadm [-C N] --lld iscsi --op OP --mode MODE ...` with
 * the rest in a fixed order, so tests (and logs) compare whole lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tgt.h"

#define TGTADM_ARGV_MAX 24

/* Append one tgtadm line: the fixed head, then the arguments up to NULL. */
static int __attribute__((sentinel))
tgtadm(struct cmdseq *s, const struct tgt_conf *c, const char *op,
       const char *mode, ...)
{
	const char *argv[TGTADM_ARGV_MAX + 1], *a;
	char port[16];
	size_t n = 0;
	va_list ap;

	argv[n++] = "tgtadm";
	if (c && c->control_port) {
		snprintf(port, sizeof(port), "%u", c->control_port);
		argv[n++] = "-C";
		argv[n++] = port;
	}
	argv[n++] = "--lld";
	argv[n++] = "iscsi";
	argv[n++] = "--op";
	argv[n++] = op;
	argv[n++] = "--mode";
	argv[n++] = mode;
	va_start(ap, mode);
	while ((a = va_arg(ap, const char *)) && n < TGTADM_ARGV_MAX)
		argv[n++] = a;
	va_end(ap);
	if (a) {                /* a caller here passed too many: a bug */
		if (!s->error)
			s->error = -E2BIG;
		return s->error;
	}
	argv[n] = NULL;
	return cmdseq_addv(s, argv);
}

/* Numbers as tgtadm reads them. */
struct num {
	char s[12];
};

static struct num
num(uint32_t v)
{
	struct num n;

	snprintf(n.s, sizeof(n.s), "%u", v);
	return n;
}

static int
conf_check(const struct tgt_conf *c)
{
	return c && c->control_port > TGT_PORT_MAX ? -EINVAL : 0;
}

int
tgt_cmd_show(struct cmdseq *s, const struct tgt_conf *c)
{
	if (!s)
		return -EINVAL;
	if (conf_check(c))
		return -EINVAL;
	return tgtadm(s, c, "show", "target", NULL);
}

/* ---- validation of the want ---- */

static int __attribute__((format(printf, 4, 5)))
plan_error(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* tgtadm hands -b to tgtd as "path=P" in a comma-separated list, so a
 * comma would cut it; blanks and control characters are refused so the
 * path survives logs and the show listing intact. */
static const char *
path_problem(const char *path)
{
	if (path[0] != '/')
		return "is not an absolute path";
	if (strnlen(path, TGT_PATH_MAX) >= TGT_PATH_MAX)
		return "is too long";
	for (const char *p = path; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "contains a blank or control character";
		if (*p == ',')
			return "contains a comma (tgtadm would cut it there)";
	}
	return NULL;
}

static int
target_check(const struct tgt_want *w, size_t i, char *why, size_t whylen)
{
	const struct tgt_want_target *wt = &w->targets[i];
	const char *problem;

	if (!wt->iqn || !tgt_iqn_valid(wt->iqn))
		return plan_error(why, whylen, -EINVAL,
				  "wanted target %zu: \"%s\" is not a valid iSCSI name "
				  "(lowercase iqn.YYYY-MM.domain[:id] or eui. and 16 hex digits, "
				  "at most %d bytes)", i + 1, wt->iqn ? wt->iqn : "(null)",
				  TGT_IQN_MAX - 1);
	if (strncmp(wt->iqn, w->iqn_prefix, strlen(w->iqn_prefix)))
		return plan_error(why, whylen, -EINVAL,
				  "wanted target %s does not start with our prefix %s",
				  wt->iqn, w->iqn_prefix);
	if ((wt->n_luns && !wt->luns) || (wt->n_acl && !wt->acl))
		return plan_error(why, whylen, -EINVAL,
				  "wanted target %s: a count without its list", wt->iqn);
	for (size_t j = 0; j < wt->n_luns; j++) {
		const struct tgt_lun *l = &wt->luns[j];

		if (l->lun < 1 || l->lun > TGT_LUN_MAX)
			return plan_error(why, whylen, -EINVAL,
					  "wanted target %s: LUN %u is out of range 1..%d",
					  wt->iqn, l->lun, TGT_LUN_MAX);
		for (size_t k = 0; k < j; k++)
			if (wt->luns[k].lun == l->lun)
				return plan_error(why, whylen, -EINVAL,
						  "wanted target %s: LUN %u is listed twice",
						  wt->iqn, l->lun);
		problem = path_problem(l->path);
		if (problem)
			return plan_error(why, whylen, -EINVAL,
					  "wanted target %s: the backing path of LUN %u %s",
					  wt->iqn, l->lun, problem);
	}
	for (size_t j = 0; j < wt->n_acl; j++) {
		const char *name = wt->acl[j];

		if (!name || !tgt_iqn_valid(name))
			return plan_error(why, whylen, -EINVAL,
					  "wanted target %s: ACL entry \"%s\" is not a valid "
					  "initiator name (we bind names only, never addresses)",
					  wt->iqn, name ? name : "(null)");
		for (size_t k = 0; k < j; k++)
			if (!strcmp(wt->acl[k], name))
				return plan_error(why, whylen, -EINVAL,
						  "wanted target %s: initiator %s is listed twice",
						  wt->iqn, name);
	}
	for (size_t k = 0; k < i; k++)
		if (!strcmp(w->targets[k].iqn, wt->iqn))
			return plan_error(why, whylen, -EEXIST,
					  "target name collision: %s is wanted twice "
					  "(targets %zu and %zu)", wt->iqn, k + 1, i + 1);
	return 0;
}

static int
want_check(const struct tgt_want *w, const struct tgt_conf *c, char *why,
	   size_t whylen)
{
	int rc;

	if (conf_check(c))
		return plan_error(why, whylen, -EINVAL,
				  "tgtd control port %u is out of range 0..%d",
				  c->control_port, TGT_PORT_MAX);
	if (!w->iqn_prefix || !w->iqn_prefix[0])
		return plan_error(why, whylen, -EINVAL,
				  "the IQN prefix is empty: every target on the host "
				  "would count as ours");
	if (w->n && !w->targets)
		return plan_error(why, whylen, -EINVAL,
				  "%zu wanted targets but no list", w->n);
	for (size_t i = 0; i < w->n; i++) {
		rc = target_check(w, i, why, whylen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the plan ---- */

struct plan {
	const struct tgt_view *have;
	const struct tgt_want *want;
	const struct tgt_conf *c;
	struct cmdseq seq;
	uint32_t *new_tids;     /* per wanted target, 0: it exists in have */
};

static bool
ours(const struct plan *p, const struct tgt_target *t)
{
	const char *prefix = p->want->iqn_prefix;

	return !strncmp(t->iqn, prefix, strlen(prefix));
}

/* The wanted form of one of our targets, or NULL when it should go. */
static const struct tgt_want_target *
wanted(const struct plan *p, const struct tgt_target *t)
{
	for (size_t i = 0; i < p->want->n; i++)
		if (!strcmp(p->want->targets[i].iqn, t->iqn))
			return &p->want->targets[i];
	return NULL;
}

/* Exact comparison: an entry or session that differs from the wanted
 * name only in case is revoked (and the wanted name bound afresh), which
 * errs on the side of fencing. */
static bool
name_wanted(const struct tgt_want_target *wt, const char *name)
{
	if (!wt)
		return false;
	for (size_t i = 0; i < wt->n_acl; i++)
		if (!strcmp(wt->acl[i], name))
			return true;
	return false;
}

static bool
acl_has_name(const struct tgt_target *t, const char *name)
{
	for (size_t i = 0; i < t->n_acl; i++)
		if (!tgt_acl_is_address(t->acl[i]) && !strcmp(t->acl[i], name))
			return true;
	return false;
}

/* Step 1.  Three passes so that every door is shut (ACLs) before any
 * session is cut, and all of that before a target goes: an initiator
 * fenced off several targets cannot log back in to one while another is
 * still being closed.  Address entries and ALL are never wanted (tgt
 * admits by address OR name), so they always go. */
static void
plan_revoke(struct plan *p)
{
	const struct tgt_view *h = p->have;

	for (size_t i = 0; i < h->n; i++) {
		const struct tgt_target *t = &h->targets[i];
		const struct tgt_want_target *wt = wanted(p, t);

		if (!ours(p, t))
			continue;
		for (size_t j = 0; j < t->n_acl; j++) {
			const char *e = t->acl[j];

			if (tgt_acl_is_address(e))
				tgtadm(&p->seq, p->c, "unbind", "target", "--tid",
				       num(t->tid).s, "-I", e, NULL);
			else if (!name_wanted(wt, e))
				tgtadm(&p->seq, p->c, "unbind", "target", "--tid",
				       num(t->tid).s, "-Q", e, NULL);
		}
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct tgt_target *t = &h->targets[i];
		const struct tgt_want_target *wt = wanted(p, t);

		if (!ours(p, t))
			continue;
		for (size_t j = 0; j < t->n_sessions; j++) {
			const struct tgt_session *ss = &t->sessions[j];

			if (name_wanted(wt, ss->initiator))
				continue;
			tgtadm(&p->seq, p->c, "delete", "conn", "--tid",
			       num(t->tid).s, "--sid", num(ss->sid).s, "--cid",
			       num(ss->cid).s, NULL);
			/* it may have ended meanwhile; the read-back decides */
			cmdseq_tolerate(&p->seq);
		}
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct tgt_target *t = &h->targets[i];

		if (ours(p, t) && !wanted(p, t))
			tgtadm(&p->seq, p->c, "delete", "target", "--tid",
			       num(t->tid).s, "--force", NULL);
	}
}

static const struct tgt_lun *
lun_find(const struct tgt_lun *luns, size_t n, uint32_t lun)
{
	for (size_t i = 0; i < n; i++)
		if (luns[i].lun == lun)
			return &luns[i];
	return NULL;
}

static void
lun_new(struct plan *p, uint32_t tid, const struct tgt_lun *l)
{
	tgtadm(&p->seq, p->c, "new", "logicalunit", "--tid", num(tid).s,
	       "--lun", num(l->lun).s, "-b", l->path, NULL);
}

/* Step 2: a LUN whose path changed is deleted and added again. */
static void
plan_luns(struct plan *p)
{
	for (size_t i = 0; i < p->want->n; i++) {
		const struct tgt_want_target *wt = &p->want->targets[i];
		const struct tgt_target *t = tgt_view_find(p->have, wt->iqn);
		const struct tgt_lun *l;

		if (!t)
			continue;
		for (size_t j = 0; j < t->n_luns; j++) {
			l = lun_find(wt->luns, wt->n_luns, t->luns[j].lun);
			if (!l || strcmp(l->path, t->luns[j].path))
				tgtadm(&p->seq, p->c, "delete", "logicalunit", "--tid",
				       num(t->tid).s, "--lun", num(t->luns[j].lun).s,
				       NULL);
		}
		for (size_t j = 0; j < wt->n_luns; j++) {
			l = lun_find(t->luns, t->n_luns, wt->luns[j].lun);
			if (!l || strcmp(l->path, wt->luns[j].path))
				lun_new(p, t->tid, &wt->luns[j]);
		}
	}
}

static bool
tid_used(const struct tgt_view *h, uint32_t tid)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->targets[i].tid == tid)
			return true;
	return false;
}

/* Step 3: tids are never reused within a plan, not even one deleted in
 * step 1, so no line can be read as meaning the old target. */
static int
plan_new(struct plan *p)
{
	uint32_t tid = 0;

	for (size_t i = 0; i < p->want->n; i++) {
		const struct tgt_want_target *wt = &p->want->targets[i];

		if (tgt_view_find(p->have, wt->iqn))
			continue;
		do {
			if (tid == UINT32_MAX)
				return -ENOSPC;
			tid++;
		} while (tid_used(p->have, tid));
		p->new_tids[i] = tid;
		tgtadm(&p->seq, p->c, "new", "target", "--tid", num(tid).s, "-T",
		       wt->iqn, NULL);
		for (size_t j = 0; j < wt->n_luns; j++)
			lun_new(p, tid, &wt->luns[j]);
	}
	return 0;
}

/* Step 4, last: only now may anyone new log in. */
static void
plan_grant(struct plan *p)
{
	for (size_t i = 0; i < p->want->n; i++) {
		const struct tgt_want_target *wt = &p->want->targets[i];
		const struct tgt_target *t = tgt_view_find(p->have, wt->iqn);
		uint32_t tid = t ? t->tid : p->new_tids[i];

		for (size_t j = 0; j < wt->n_acl; j++)
			if (!t || !acl_has_name(t, wt->acl[j]))
				tgtadm(&p->seq, p->c, "bind", "target", "--tid",
				       num(tid).s, "-Q", wt->acl[j], NULL);
	}
}

/* Move the steps of from to the end of s: one allocation that can fail,
 * before anything in s changes. */
static int
seq_append(struct cmdseq *s, struct cmdseq *from)
{
	struct cmdseq_step *steps;

	if (!from->n)
		return 0;
	steps = realloc(s->steps, (s->n + from->n) * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	memcpy(steps + s->n, from->steps, from->n * sizeof(*steps));
	s->steps = steps;
	s->n += from->n;
	free(from->steps);
	from->steps = NULL;
	from->n = 0;
	return 0;
}

int
tgt_plan(const struct tgt_view *have, const struct tgt_want *want,
	 const struct tgt_conf *c, struct cmdseq *s, char *why, size_t whylen)
{
	struct plan p = { .have = have, .want = want, .c = c };
	int rc;

	if (why && whylen)
		why[0] = '\0';
	if (!have || !want || !s)
		return plan_error(why, whylen, -EINVAL, "tgt_plan needs have, want and a sequence");
	if (s->error)
		return plan_error(why, whylen, s->error,
				  "the command sequence had already failed: %s",
				  strerror(-s->error));
	rc = want_check(want, c, why, whylen);
	if (rc)
		return rc;
	cmdseq_init(&p.seq);
	p.new_tids = calloc(want->n ? want->n : 1, sizeof(*p.new_tids));
	if (!p.new_tids) {
		rc = -ENOMEM;
		goto out_nomem;
	}
	plan_revoke(&p);
	plan_luns(&p);
	rc = plan_new(&p);
	if (rc) {
		plan_error(why, whylen, rc, "no free target id left");
		goto out_free;
	}
	plan_grant(&p);
	rc = p.seq.error;
	if (!rc)
		rc = seq_append(s, &p.seq);
	if (rc == -ENOMEM)
		goto out_nomem;
	if (rc)
		plan_error(why, whylen, rc, "building the tgtadm lines failed: %s",
			   strerror(-rc));
	goto out_free;

out_nomem:
	plan_error(why, whylen, rc, "out of memory planning the tgt changes");
out_free:
	free(p.new_tids);
	cmdseq_free(&p.seq);
	return rc;
}
