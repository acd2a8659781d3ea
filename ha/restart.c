/* Restart policy of a VM that stopped on a healthy host.  Pure: the clock
 * and the history come from the caller, the verdict and its reason go
 * back. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "restart.h"
#include "xm_error.h"

/* "once", "twice", "3 times": the reasons are read by people. */
static const char *
times_word(uint32_t n, char *buf, size_t len)
{
	if (n == 1)
		return "once";
	if (n == 2)
		return "twice";
	(void)snprintf(buf, len, "%u times", n);
	return buf;
}

static bool
in_window(uint64_t at_ms, uint64_t now_ms, uint64_t window_ms)
{
	/* A stamp from the future (another coordinator's clock ran ahead)
	 * counts as now rather than being forgotten. */
	uint64_t age = at_ms > now_ms ? 0 : now_ms - at_ms;

	return age < window_ms;
}

static uint32_t
count_window(const struct restart_history *h, uint32_t window_s,
	     uint64_t now_ms, bool any_host, uint32_t host)
{
	uint64_t window_ms = (uint64_t)window_s * 1000;
	uint32_t i, n = 0;

	for (i = 0; i < h->n && i < RESTART_HISTORY_MAX; i++)
		if ((any_host || h->host[i] == host) &&
		    in_window(h->at_ms[i], now_ms, window_ms))
			n++;
	return n;
}

uint32_t
restart_count(const struct restart_history *h, uint32_t window_s,
	      uint64_t now_ms)
{
	if (h == NULL)
		return 0;
	return count_window(h, window_s, now_ms, true, 0);
}

static const char *
policy_name(enum vm_restart r)
{
	switch (r) {
	case VM_RESTART_ALWAYS:
		return "always";
	case VM_RESTART_ON_FAILURE:
		return "on-failure";
	case VM_RESTART_NEVER:
		return "never";
	}
	return NULL;
}

enum restart_verdict
restart_decide(const struct vm_ha *ha, const struct restart_history *h,
	       uint32_t host, enum vm_exit how, uint64_t now_ms,
	       char *why, size_t whylen)
{
	char wbuf[24];
	uint32_t limit, done, here;
	const char *verb;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (ha == NULL || h == NULL) {
		xm_why(why, whylen, "invalid arguments");
		return RESTART_NO;
	}
	if (h->n > RESTART_HISTORY_MAX) {
		xm_why(why, whylen, "invalid restart history (%u entries)",
			h->n);
		return RESTART_NO;
	}
	if (policy_name(ha->restart) == NULL) {
		xm_why(why, whylen, "unknown ha_restart policy %d",
			(int)ha->restart);
		return RESTART_NO;
	}

	switch (how) {
	case VM_EXIT_STOPPED_BY_ADMIN:
		xm_why(why, whylen, "stopped by an admin");
		return RESTART_NO;
	case VM_EXIT_REBOOT:
		/* libxl leaves a guest reboot to its caller; the guest asked
		 * for it, so it is no failure and ha_restart does not apply. */
		xm_why(why, whylen, "guest rebooted: recreating it in place");
		return RESTART_RECREATE;
	case VM_EXIT_POWEROFF:
		if (ha->restart != VM_RESTART_ALWAYS) {
			xm_why(why, whylen,
				"guest powered off and ha_restart is %s",
				policy_name(ha->restart));
			return RESTART_NO;
		}
		verb = "powered off";
		break;
	case VM_EXIT_CRASH:
		if (ha->restart == VM_RESTART_NEVER) {
			xm_why(why, whylen, "crashed and ha_restart is never");
			return RESTART_NO;
		}
		verb = "crashed";
		break;
	default:
		xm_why(why, whylen, "unknown exit reason %d", (int)how);
		return RESTART_NO;
	}

	limit = ha->max_restarts;
	if (limit > RESTART_HISTORY_MAX)
		limit = RESTART_HISTORY_MAX;
	if (limit == 0) {
		xm_why(why, whylen, "%s and ha_max_restarts is 0", verb);
		return RESTART_FAILED;
	}
	done = count_window(h, ha->restart_window_s, now_ms, true, 0);
	if (done >= limit) {
		xm_why(why, whylen, "restarted %s in %u s",
			times_word(done, wbuf, sizeof(wbuf)),
			ha->restart_window_s);
		return RESTART_FAILED;
	}
	if (how == VM_EXIT_CRASH) {
		/* The recorded deaths here plus this one: a VM that keeps
		 * dying on one host may be meeting that host's problem. */
		here = count_window(h, ha->restart_window_s, now_ms, false,
				    host) + 1;
		if (here >= 2) {
			xm_why(why, whylen,
				"crashed %s on node %u within %u s, moving",
				times_word(here, wbuf, sizeof(wbuf)), host,
				ha->restart_window_s);
			return RESTART_ELSEWHERE;
		}
	}
	xm_why(why, whylen, "%s: restarting in place (restart %u of %u in %u s)",
		verb, done + 1, limit, ha->restart_window_s);
	return RESTART_IN_PLACE;
}

void
restart_record(struct restart_history *h, uint32_t host, uint64_t now_ms)
{
	if (h == NULL)
		return;
	if (h->n > RESTART_HISTORY_MAX)
		h->n = RESTART_HISTORY_MAX;     /* repair rather than overflow */
	if (h->n == RESTART_HISTORY_MAX) {
		/* Shift: the newest stays last, the oldest falls off. */
		memmove(&h->at_ms[0], &h->at_ms[1],
			(RESTART_HISTORY_MAX - 1) * sizeof(h->at_ms[0]));
		memmove(&h->host[0], &h->host[1],
			(RESTART_HISTORY_MAX - 1) * sizeof(h->host[0]));
		h->n--;
	}
	h->at_ms[h->n] = now_ms;
	h->host[h->n] = host;
	h->n++;
}

void
restart_reset(struct restart_history *h)
{
	if (h != NULL)
		memset(h, 0, sizeof(*h));
}

const char *
restart_verdict_name(enum restart_verdict v)
{
	switch (v) {
	case RESTART_NO:
		return "no";
	case RESTART_IN_PLACE:
		return "in-place";
	case RESTART_ELSEWHERE:
		return "elsewhere";
	case RESTART_RECREATE:
		return "recreate";
	case RESTART_FAILED:
		return "failed";
	}
	return "unknown";
}
