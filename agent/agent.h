/* The xenmeshd context: made in main(), passed to every module.
 * Only signal flags and the log configuration are global. */
#ifndef XM_AGENT_H
#define XM_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>
#include <qb/qbipcs.h>

#include "config.h"
#include "eventlog.h"
#include "quorum_rules.h"
#include "replica.h"

struct cluster;         /* agent/cluster.c: corosync connections */
struct ctl_server;      /* agent/ctl_server.c: agentctl IPC */

struct agent {
	struct xm_config cfg;
	qb_loop_t *loop;
	struct replica rep;
	struct eventlog events;
	struct cluster *cl;
	struct ctl_server *ctl;

	char cluster_name[64];          /* totem.cluster_name from cmap */
	struct quorum_input qin;        /* last thing corosync told us */
	struct quorum_verdict qv;
	bool stopping;
};

#endif
