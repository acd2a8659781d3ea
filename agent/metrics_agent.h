/* xenmeshd's metrics (metrics.h): `agentctl metrics` (CTL_METRICS) and
 * the optional /metrics listener ([metrics] listen, metrics_http.h). */
#ifndef XM_METRICS_AGENT_H
#define XM_METRICS_AGENT_H

#include "agent.h"

/* The exposition text now, malloc'd into *text.  0 or -errno. */
int metrics_agent_text(struct agent *a, char **text);
/* Listens when [metrics] listen is set; a failure is logged and the agent
 * goes on without it.  0 or -errno. */
int metrics_agent_start(struct agent *a);
void metrics_agent_stop(struct agent *a);

#endif
