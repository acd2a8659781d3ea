/* Saving the replicated state to this node's state file.  See save.h. */
#define LOG_SUBSYS "state"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "agent.h"
#include "clock.h"
#include "log.h"
#include "persist.h"
#include "save.h"
#include "xm_error.h"

static void
retry_fn(void *data)
{
	struct agent *a = data;

	a->save.retry = 0;
	state_save(a);
}

void
state_save(struct agent *a)
{
	struct state_save *sv = &a->save;
	int rc = persist_save(a->cfg.state_dir, &a->rep.st);

	if (rc == 0) {
		if (sv->since_ms != 0) {
			log_notice("state saved again to %s/%s (epoch %" PRIu64
				   " seq %" PRIu64 ")", a->cfg.state_dir,
				   PERSIST_FILE, a->rep.st.epoch, a->rep.st.seq);
			(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq,
					   a->rep.local_id, "state",
					   "state file saved again");
		}
		sv->since_ms = 0;
		sv->error[0] = '\0';
		if (sv->retry != 0) {
			(void)qb_loop_timer_del(a->loop, sv->retry);
			sv->retry = 0;
		}
		return;
	}
	if (sv->since_ms == 0) {
		/* once per failure streak: the retries stay quiet */
		sv->since_ms = wall_ms();
		(void)snprintf(sv->error, sizeof(sv->error), "cannot save %.160s/%s: %.100s",
			       a->cfg.state_dir, PERSIST_FILE, xm_strerror(rc));
		log_err("%s; the cluster keeps the state, this node could not "
			"come back with it after a power loss; retrying every %d ms",
			sv->error, STATE_SAVE_RETRY_MS);
		(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq,
				   a->rep.local_id, "state", "%s", sv->error);
	}
	if (sv->retry == 0 && a->loop != NULL && !a->stopping)
		(void)qb_loop_timer_add(a->loop, QB_LOOP_LOW,
					(uint64_t)STATE_SAVE_RETRY_MS * QB_TIME_NS_IN_MSEC,
					a, retry_fn, &sv->retry);
}

void
state_save_stop(struct agent *a)
{
	if (a->save.retry != 0 && a->loop != NULL)
		(void)qb_loop_timer_del(a->loop, a->save.retry);
	a->save.retry = 0;
}
