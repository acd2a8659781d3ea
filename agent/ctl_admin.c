/* agentctl's commands about this agent itself: metrics and log-level
 * (see ctl_admin.h). */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"
#include "ctl_admin.h"
#include "ctl_vm.h"
#include "log.h"
#include "log_level.h"
#include "metrics_agent.h"
#include "xm_error.h"

static void
ctl_metrics(struct agent *a, qb_ipcs_connection_t *c)
{
	char *text = NULL;
	int rc = metrics_agent_text(a, &text);

	if (rc < 0) {
		log_err("cannot build the metrics: %s", xm_strerror(rc));
		ctl_server_reply(c, rc, "cannot build the metrics");
		return;
	}
	ctl_server_reply(c, 0, text);
	free(text);
}

static void
ctl_log_level(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	      const Xenmesh__CtlRequest *req)
{
	char msg[128];
	int level = req->n_args == 1 ? log_level_parse(req->args[0]) : -1;
	int was = a->cfg.log_level;

	if (level < 0) {
		ctl_server_reply(c, -EINVAL, "log-level needs one of error, "
				 "warning, notice, info, debug");
		return;
	}
	log_level_set(level);
	a->cfg.log_level = level;
	/* said at notice, so that it shows whatever the new level */
	qb_log(LOG_NOTICE, "[" LOG_SUBSYS "] uid %u set the log level from %s "
	       "to %s", (unsigned)uid, log_level_name(was), log_level_name(level));
	(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, 0,
			   "access", "uid %u set the log level to %s",
			   (unsigned)uid, log_level_name(level));
	(void)snprintf(msg, sizeof(msg), "log level %s (was %s)",
		       log_level_name(level), log_level_name(was));
	ctl_server_reply(c, 0, msg);
}

void
ctl_admin_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		  const Xenmesh__CtlRequest *req)
{
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_METRICS:
		ctl_metrics(a, c);
		break;
	case XENMESH__CTL_COMMAND__CTL_LOG_LEVEL:
		ctl_log_level(a, c, uid, req);
		break;
	default:
		ctl_server_reply(c, -EOPNOTSUPP, "not an admin command");
		break;
	}
}
