/* xenmeshd's side of systemd notification: what the status is made of
 * (see notify.h for the protocol, notify_agent.h for the calls). */
#define LOG_SUBSYS "notify"

#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "notify.h"
#include "notify_agent.h"
#include "xm_error.h"

static void
notify_agent_poll(void *data, struct notify_input *in)
{
	struct agent *a = data;
	const struct replica *r = &a->rep;
	const struct node_rec *c;

	in->connected = a->qin.connected;
	in->joined = r->joined;
	in->synced = r->synced;
	in->quorate = a->qv.quorate;
	in->quorum_reason = a->qv.reason;
	in->local_id = r->local_id;
	in->coordinator = r->coordinator;
	c = r->coordinator != 0 ? state_node(&r->st, r->coordinator) : NULL;
	in->coordinator_name = c != NULL ? c->name : NULL;
	in->nodes_total = (unsigned)r->st.n_nodes;
	for (size_t i = 0; i < r->st.n_nodes; i++)
		if (r->st.nodes[i].state == NODE_STATE_ONLINE)
			in->nodes_online++;
	in->vms_total = (unsigned)r->st.n_vms;
	for (size_t i = 0; i < r->st.n_vms; i++)
		if (r->st.vms[i].state == VM_STATE_RUNNING)
			in->vms_running++;
}

void
notify_agent_start(struct agent *a)
{
	struct notify *n = calloc(1, sizeof(*n));
	int rc;

	if (n == NULL) {
		log_err("no memory for systemd notification, ignoring");
		return;
	}
	rc = notify_open(n);
	if (rc < 0)
		log_err("cannot use $NOTIFY_SOCKET: %s, ignoring", xm_strerror(rc));
	if (rc == 0 && n->fd >= 0) {
		rc = notify_start(n, a->loop, notify_agent_poll, a);
		if (rc < 0)
			log_err("cannot start systemd notification: %s, ignoring",
				xm_strerror(rc));
		else if (notify_watchdog_period_ms(n) > 0)
			log_info("systemd watchdog: WATCHDOG=1 every %llu ms",
				 (unsigned long long)notify_watchdog_period_ms(n));
	}
	a->notify = n;
}

void
notify_agent_stopping(struct agent *a, const char *why)
{
	notify_stopping(a->notify, why);
}

void
notify_agent_stop(struct agent *a)
{
	notify_close(a->notify);
	free(a->notify);
	a->notify = NULL;
}
