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
#include "metrics.h"
#include "quorum_rules.h"
#include "replica.h"
#include "save.h"

struct cluster;         /* agent/cluster.c: corosync connections */
struct ctl_server;      /* agent/ctl_server.c: agentctl IPC */
struct vmhost;          /* agent/vmhost.c: this host's domains */
struct coord;           /* agent/coord.c: the coordinator's work */
struct guard;           /* agent/guard.c: heartbeat, watchdog, self-fence */
struct notify;          /* agent/notify.c: systemd notification */
struct metrics_http;    /* agent/metrics_http.c: the /metrics listener */
struct san;             /* agent/san.c: a SAN node's volumes, targets, portal */
struct alert;           /* agent/alert.c: the alert programs */
struct nodeconf;        /* agent/nodeconf.c: corosync.conf's nodelist */
struct ctl_create;      /* agent/ctl_create.c: vm create jobs */
struct peer;            /* agent/peer.c: the peer channel (peer_hub.c) */
struct ctl_forward;     /* agent/ctl_forward.c: requests forwarded */
struct saveimg;         /* agent/san_saveimg.c: save images on the SAN */
struct ctl_job;         /* agent/ctl_backup.c: a backup or restore */

struct agent {
	struct xm_config cfg;
	qb_loop_t *loop;
	struct replica rep;
	struct eventlog events;
	struct cluster *cl;
	struct ctl_server *ctl;
	struct vmhost *vh;              /* NULL: no hypervisor driver open */
	qb_loop_timer_handle vmhost_retry;
	unsigned vmhost_tries;          /* failed opens in a row */
	struct coord *co;
	struct guard *guard;
	struct notify *notify;
	struct metrics metrics;         /* counters of agentctl metrics */
	struct metrics_http *metrics_http;
	struct san *san;
	struct alert *alert;            /* NULL: no alert programs */
	struct nodeconf *nodeconf;      /* NULL: corosync.conf left alone */
	struct ctl_create *create;      /* NULL until the first vm create */
	struct peer *peer;              /* NULL: no [peer] listen, or it failed */
	qb_loop_timer_handle peer_retry;        /* its next try, 0 none */
	bool peer_failed;               /* its failure was said */
	struct ctl_forward *fwd;        /* NULL until the first forward */
	struct saveimg *saveimg;        /* agent/san_saveimg.c, NULL until used */
	struct ctl_job *backup_job;     /* the backup or restore running here */
	struct state_save save;         /* the state file, and why not */

	char cluster_name[64];          /* totem.cluster_name from cmap */
	char node_name[64];             /* this node's name from cmap */
	struct quorum_input qin;        /* last thing corosync told us */
	struct quorum_verdict qv;
	bool stopping;
	/* shutdown_policy refuse said no (agentctl node prepare-shutdown):
	 * SIGTERM is ignored while HA domains run here */
	bool refuse_stop;
	bool stop_when_empty;           /* a refused SIGTERM waits for that */
	bool services_started;          /* guard, vmhost, coord (after the
					 * first connect: they need our name) */
};

/* main.c: start what needs the node's identity from corosync. */
void agent_services_start(struct agent *a);
/* main.c: stop as on SIGTERM (a refused stop, once nothing runs here). */
void agent_request_stop(struct agent *a);

#endif
