/* xenmeshd's metrics: the view of the agent for metrics_format, and the
 * optional /metrics listener (see metrics_agent.h). */
#define LOG_SUBSYS "metrics"

#include <stdlib.h>
#include <string.h>

#include "xmconfig.h"

#include "agent.h"
#include "log.h"
#include "metrics.h"
#include "metrics_agent.h"
#include "metrics_http.h"
#include "vmhost.h"
#include "wire.h"
#include "xm_error.h"

int
metrics_agent_text(struct agent *a, char **text)
{
	const char *const *names = NULL;
	struct metrics_view v;

	memset(&v, 0, sizeof(v));
	v.version = PACKAGE_VERSION;
	v.proto_major = XM_PROTO_MAJOR;
	v.proto_minor = XM_PROTO_MINOR;
	v.cluster = a->cluster_name;
	v.node = a->node_name;
	v.local_id = a->rep.local_id;
	v.connected = a->qin.connected;
	v.synced = a->rep.synced;
	v.quorate = a->qv.quorate;
	v.ha_enabled = a->qv.ha_enabled;
	v.coordinator = a->rep.coordinator;
	v.votes = a->qin.total_votes;
	v.expected_votes = a->qin.expected_votes + a->qin.qdevice_votes;
	v.quorum = a->qin.quorum;
	v.epoch = a->rep.st.epoch;
	v.seq = a->rep.st.seq;
	v.st = &a->rep.st;
	v.unmanaged = vmhost_unmanaged(a, &names);
	return metrics_format(&a->metrics, &v, text);
}

static int
metrics_agent_render(void *data, char **text)
{
	int rc = metrics_agent_text(data, text);

	if (rc < 0)
		log_warn("cannot build the metrics: %s, answering 500",
			 xm_strerror(rc));
	return rc;
}

int
metrics_agent_start(struct agent *a)
{
	int rc;

	if (a->cfg.metrics_listen[0] == '\0')
		return 0;
	rc = metrics_http_start(a->loop, a->cfg.metrics_listen,
				metrics_agent_render, a, &a->metrics_http);
	if (rc < 0) {
		log_err("cannot listen for /metrics on %s: %s, ignoring "
			"(agentctl metrics still works)", a->cfg.metrics_listen,
			xm_strerror(rc));
		return rc;
	}
	log_info("serving /metrics on %s", a->cfg.metrics_listen);
	return 0;
}

void
metrics_agent_stop(struct agent *a)
{
	metrics_http_stop(a->metrics_http);
	a->metrics_http = NULL;
}
