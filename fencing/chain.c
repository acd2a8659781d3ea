/* Fence chain: the per-host state machine.  The config parser/formatter
 * is in chain_conf.c.  Pure (see chain.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"

const char *
fence_result_name(enum fence_result r)
{
	switch (r) {
	case FENCE_RESULT_OK: return "ok";
	case FENCE_RESULT_FAILED: return "failed";
	case FENCE_RESULT_TIMEOUT: return "timed out";
	}
	return "?";
}

const char *
fence_chain_state_name(enum fence_chain_state s)
{
	static const char *const names[] = { "idle", "delaying", "running",
					     "confirmed", "failed" };

	return s <= FENCE_CHAIN_FAILED ? names[s] : "?";
}

/* ---- the chain state machine ------------------------------------------ */

static const struct fence_method_conf *
cur_method(const struct fence_chain *ch)
{
	if (ch->level_idx >= ch->conf.n_levels ||
	    ch->method_idx >= ch->conf.levels[ch->level_idx].n_methods)
		return NULL;
	return &ch->conf.levels[ch->level_idx].methods[ch->method_idx];
}

static bool
has_deadline(const struct fence_chain *ch)
{
	const struct fence_level_conf *last;

	if (!ch->conf.n_levels || !ch->w_ms)
		return false;
	last = &ch->conf.levels[ch->conf.n_levels - 1];
	return last->n_methods && last->methods[0].kind == FENCE_KIND_DEADLINE;
}

static void
method_label(const struct fence_method_conf *m, char *buf, size_t len)
{
	const char *agent = fence_method_opt(m, "agent");
	const char *base;

	if (m->kind == FENCE_KIND_AGENT && agent) {
		base = strrchr(agent, '/');
		snprintf(buf, len, "fence-agent %s", base ? base + 1 : agent);
	} else {
		snprintf(buf, len, "%s", fence_kind_name(m->kind));
	}
}

static struct fence_step *
step_add(struct fence_chain *ch, struct fence_actions *out, size_t level_idx,
	 size_t method_idx, enum fence_result res, uint64_t started, uint64_t now)
{
	const struct fence_method_conf *m =
		&ch->conf.levels[level_idx].methods[method_idx];
	struct fence_step *s;

	if (ch->n_steps == FENCE_HISTORY_MAX) {
		/* keep the newest: they say how this attempt is going */
		memmove(ch->steps, ch->steps + 1, (FENCE_HISTORY_MAX - 1) * sizeof(*s));
		ch->n_steps--;
	}
	s = &ch->steps[ch->n_steps++];
	memset(s, 0, sizeof(*s));
	ch->steps_total++;
	if (out && out->n_steps < FENCE_HISTORY_MAX)
		out->n_steps++;
	s->attempt = ch->attempt;
	s->level = ch->conf.levels[level_idx].number;
	s->method_idx = method_idx;
	s->kind = m->kind;
	method_label(m, s->label, sizeof(s->label));
	s->result = res;
	s->started_ms = started;
	s->ended_ms = now;
	return s;
}

static void
chain_end(struct fence_chain *ch, enum fence_chain_state st, uint64_t now)
{
	ch->state = st;
	ch->waiting = false;
	ch->token = 0;
	ch->ended_ms = now;
	if (st == FENCE_CHAIN_CONFIRMED)
		ch->confirmed_level = ch->conf.levels[ch->level_idx].number;
}

/* Confirm by the deadline if W has passed, whatever runs meanwhile. */
static void
deadline_check(struct fence_chain *ch, uint64_t now, struct fence_actions *out)
{
	const struct fence_method_conf *m = cur_method(ch);
	size_t last = ch->conf.n_levels - 1;
	struct fence_step *s;
	char was[128] = "";

	if ((ch->state != FENCE_CHAIN_RUNNING && ch->state != FENCE_CHAIN_DELAYING) ||
	    !has_deadline(ch) || now < ch->lost_at_ms + ch->w_ms)
		return;
	if (ch->state == FENCE_CHAIN_DELAYING)
		snprintf(was, sizeof(was), " (during the fence delay)");
	else if (m && m->kind != FENCE_KIND_DEADLINE && ch->waiting) {
		char label[64];

		method_label(m, label, sizeof(label));
		snprintf(was, sizeof(was), " while level %u %s was still running",
			 ch->conf.levels[ch->level_idx].number, label);
	}
	s = step_add(ch, out, last, 0, FENCE_RESULT_OK, ch->lost_at_ms, now);
	snprintf(s->message, sizeof(s->message),
		 "W = %llu ms passed since the membership loss%s",
		 (unsigned long long)ch->w_ms, was);
	ch->level_idx = last;
	ch->method_idx = 0;
	chain_end(ch, FENCE_CHAIN_CONFIRMED, now);
}

/* Start the current method, or move past what cannot run. */
static void
run_current(struct fence_chain *ch, uint64_t now, struct fence_actions *out)
{
	const struct fence_method_conf *m;
	struct fence_action *a;
	struct fence_step *s;

	while (ch->state == FENCE_CHAIN_RUNNING) {
		m = cur_method(ch);
		if (!m) {
			chain_end(ch, FENCE_CHAIN_FAILED, now);
			return;
		}
		ch->waiting = true;
		ch->token = ++ch->next_token ? ch->next_token : ++ch->next_token;
		ch->method_started_ms = now;
		ch->method_timeout_ms = m->timeout_ms;
		if (m->kind == FENCE_KIND_DEADLINE) {
			if (ch->w_ms) {
				deadline_check(ch, now, out);
				return;         /* tick confirms it later */
			}
			s = step_add(ch, out, ch->level_idx, 0, FENCE_RESULT_FAILED, now, now);
			snprintf(s->message, sizeof(s->message),
				 "W unknown (no watchdog timeout reported by %s): "
				 "the deadline cannot vouch for it", ch->conf.host);
			ch->level_idx++;
			ch->method_idx = 0;
			continue;
		}
		if (!out || out->n >= FENCE_ACTIONS_MAX)
			return;         /* cannot happen: one at a time */
		a = &out->run[out->n++];
		a->token = ch->token;
		a->level = ch->conf.levels[ch->level_idx].number;
		a->level_idx = ch->level_idx;
		a->method_idx = ch->method_idx;
		a->method = m;
		a->timeout_ms = m->timeout_ms;
		return;
	}
}

/* The current method ended with res: go on. */
static void
method_finished(struct fence_chain *ch, enum fence_result res, const char *msg,
		uint64_t now, struct fence_actions *out)
{
	struct fence_step *s;

	s = step_add(ch, out, ch->level_idx, ch->method_idx, res,
		     ch->method_started_ms, now);
	snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "");
	ch->waiting = false;
	ch->token = 0;
	if (res == FENCE_RESULT_OK) {
		if (++ch->method_idx >= ch->conf.levels[ch->level_idx].n_methods) {
			chain_end(ch, FENCE_CHAIN_CONFIRMED, now);
			return;
		}
	} else {
		/* one failing method fails its level */
		ch->level_idx++;
		ch->method_idx = 0;
	}
	run_current(ch, now, out);
}

static void
out_begin(const struct fence_chain *ch, struct fence_actions *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	(void)ch;
}

static int
out_end(const struct fence_chain *ch, struct fence_actions *out, int rc)
{
	if (out)
		out->state = ch->state;
	return rc;
}

int
fence_chain_start(struct fence_chain *ch, const struct fence_host_conf *host,
		  uint64_t lost_at_ms, uint64_t w_ms, uint64_t now,
		  struct fence_actions *out)
{
	struct fence_host_conf copy;
	int rc;

	out_begin(ch, out);
	if (!ch || !host || !host->host || !host->n_levels || !out)
		return -EINVAL;
	if (ch->state == FENCE_CHAIN_DELAYING || ch->state == FENCE_CHAIN_RUNNING)
		return out_end(ch, out, -EBUSY);
	rc = fence_host_conf_copy(&copy, host);
	if (rc)
		return out_end(ch, out, rc);
	fence_host_conf_free(&ch->conf);
	ch->conf = copy;
	ch->lost_at_ms = lost_at_ms;
	ch->w_ms = w_ms;
	ch->attempt = 1;
	ch->level_idx = ch->method_idx = 0;
	ch->waiting = false;
	ch->token = 0;
	ch->confirmed_level = 0;
	ch->ended_ms = 0;
	if (host->delay_ms) {
		ch->state = FENCE_CHAIN_DELAYING;
		ch->run_after_ms = now + host->delay_ms;
		deadline_check(ch, now, out);
	} else {
		ch->state = FENCE_CHAIN_RUNNING;
		run_current(ch, now, out);
	}
	return out_end(ch, out, 0);
}

int
fence_chain_method_done(struct fence_chain *ch, const struct fence_action *act,
			enum fence_result res, const char *message, uint64_t now,
			struct fence_actions *out)
{
	const struct fence_method_conf *m;
	uint32_t token;

	if (!ch || !act || !out || res < FENCE_RESULT_OK || res > FENCE_RESULT_TIMEOUT) {
		out_begin(ch, out);
		return -EINVAL;
	}
	token = act->token;     /* act may well point into out */
	out_begin(ch, out);
	m = cur_method(ch);
	if (ch->state != FENCE_CHAIN_RUNNING || !ch->waiting || !token ||
	    token != ch->token || !m || m->kind == FENCE_KIND_DEADLINE)
		return out_end(ch, out, -ESTALE);
	method_finished(ch, res, message, now, out);
	deadline_check(ch, now, out);
	return out_end(ch, out, 0);
}

int
fence_chain_tick(struct fence_chain *ch, uint64_t now, struct fence_actions *out)
{
	const struct fence_method_conf *m;
	char msg[64];

	out_begin(ch, out);
	if (!ch || !out)
		return -EINVAL;
	deadline_check(ch, now, out);
	if (ch->state == FENCE_CHAIN_DELAYING && now >= ch->run_after_ms) {
		ch->state = FENCE_CHAIN_RUNNING;
		run_current(ch, now, out);
	}
	m = cur_method(ch);
	if (ch->state == FENCE_CHAIN_RUNNING && ch->waiting && m &&
	    m->kind != FENCE_KIND_DEADLINE && ch->method_timeout_ms &&
	    now >= ch->method_started_ms + ch->method_timeout_ms) {
		snprintf(msg, sizeof(msg), "no result within %u ms", ch->method_timeout_ms);
		method_finished(ch, FENCE_RESULT_TIMEOUT, msg, now, out);
		deadline_check(ch, now, out);
	}
	return out_end(ch, out, 0);
}

int
fence_chain_retry(struct fence_chain *ch, uint64_t now, struct fence_actions *out)
{
	out_begin(ch, out);
	if (!ch || !out)
		return -EINVAL;
	if (ch->state != FENCE_CHAIN_FAILED)
		return out_end(ch, out, -EINVAL);
	ch->attempt++;
	ch->level_idx = ch->method_idx = 0;
	ch->ended_ms = 0;
	ch->state = FENCE_CHAIN_RUNNING;
	run_current(ch, now, out);
	return out_end(ch, out, 0);
}

uint64_t
fence_chain_next_tick(const struct fence_chain *ch)
{
	const struct fence_method_conf *m;
	uint64_t t = UINT64_MAX;

	if (!ch)
		return t;
	m = cur_method(ch);
	if (ch->state == FENCE_CHAIN_DELAYING)
		t = ch->run_after_ms;
	else if (ch->state == FENCE_CHAIN_RUNNING && ch->waiting && m &&
		 m->kind != FENCE_KIND_DEADLINE && ch->method_timeout_ms)
		t = ch->method_started_ms + ch->method_timeout_ms;
	if ((ch->state == FENCE_CHAIN_DELAYING || ch->state == FENCE_CHAIN_RUNNING) &&
	    has_deadline(ch) && ch->lost_at_ms + ch->w_ms < t)
		t = ch->lost_at_ms + ch->w_ms;
	return t;
}

const struct fence_step *
fence_chain_step(const struct fence_chain *ch, size_t i)
{
	return ch && i < ch->n_steps ? &ch->steps[i] : NULL;
}

void
fence_step_format(const struct fence_step *s, char *buf, size_t len)
{
	snprintf(buf, len, "attempt %u level %u %s: %s after %llu ms%s%s",
		 s->attempt, s->level, s->label, fence_result_name(s->result),
		 (unsigned long long)(s->ended_ms - s->started_ms),
		 s->message[0] ? ": " : "", s->message);
}

void
fence_chain_free(struct fence_chain *ch)
{
	if (!ch)
		return;
	fence_host_conf_free(&ch->conf);
	memset(ch, 0, sizeof(*ch));
}
