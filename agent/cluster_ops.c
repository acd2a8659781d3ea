/* What the replica asks of the agent (struct replica_ops): save the
 * state, log events, answer requests, describe this node, react to
 * changes; see cluster.h. */
#define LOG_SUBSYS "cluster"

#include <stdio.h>
#include <sys/sysinfo.h>

#include "cluster.h"
#include "cluster_int.h"
#include "coord.h"
#include "ctl_server.h"
#include "guard.h"
#include "hostinfo.h"
#include "log.h"
#include "nodeconf.h"
#include "san.h"
#include "save.h"
#include "vmhost.h"
#include "wire.h"

static void
ops_persist(void *data, const struct state *s)
{
	(void)s;        /* the replica's own state: a->rep.st */
	state_save(data);
}

static void
ops_event(void *data, uint64_t epoch, uint64_t seq, uint32_t node,
	  const char *kind, const char *text)
{
	struct agent *a = data;

	(void)eventlog_add(&a->events, epoch, seq, node, kind, "%s", text);
	qb_log(LOG_INFO, "[event] %s: %s", kind, text);
}

static void
ops_request_done(void *data, uint64_t req_id, int result, const char *reason)
{
	ctl_server_request_done(data, req_id, result, reason);
}

/* What this host can give VMs: the driver's figures less the dom0
 * reserve; a SAN node (no hypervisor) reports its configured memory, a
 * dom0 whose driver is not open none. */
static void
host_memory(const struct agent *a, uint64_t *total_mb, uint64_t *free_mb)
{
	uint64_t total = 0, free_ = 0, reserve = a->cfg.dom0_reserve_mb;
	struct sysinfo si;

	if (vmhost_memory((struct agent *)a, &total, &free_) < 0) {
		/* a dom0 whose hypervisor driver is not open takes no VMs */
		if (a->cfg.role == NODE_ROLE_DOM0) {
			*total_mb = *free_mb = 0;
			return;
		}
		total = a->cfg.mem_total_mb;
		free_ = total;
		if (total == 0 && sysinfo(&si) == 0) {
			total = (uint64_t)si.totalram * si.mem_unit / (1024 * 1024);
			free_ = (uint64_t)si.freeram * si.mem_unit / (1024 * 1024);
		}
	}
	*total_mb = total > reserve ? total - reserve : 0;
	*free_mb = free_ > reserve ? free_ - reserve : 0;
	if (*free_mb > *total_mb)
		*free_mb = *total_mb;
}

static void
ops_node_info(void *data, Xenmesh__OpNodeInfo *info)
{
	struct agent *a = data;
	struct cluster *cl = a->cl;
	uint64_t total_mb = 0, free_mb = 0;

	snprintf(cl->info_name, sizeof(cl->info_name), "%s", cl->local_name);
	info->id = cl->local_id;
	info->name = cl->info_name;
	info->role = (Xenmesh__NodeRole)a->cfg.role;
	host_memory(a, &total_mb, &free_mb);
	/* the table holds what VMs may use; report the total as free so that
	 * the record does not change with every VM start (placement counts
	 * the VMs itself) */
	info->mem_total_mb = total_mb;
	info->mem_free_mb = total_mb;
	info->has_watchdog_s = guard_watchdog_s(a) != 0;
	info->watchdog_s = guard_watchdog_s(a);
	if (a->cfg.cpu_class[0] != '\0')
		snprintf(cl->info_cpu, sizeof(cl->info_cpu), "%s", a->cfg.cpu_class);
	else if (cl->info_cpu[0] == '\0')
		cpu_class_read(cl->info_cpu, sizeof(cl->info_cpu));
	info->cpu = cl->info_cpu[0] != '\0' ? cl->info_cpu : NULL;
	info->peer_addr = a->cfg.peer_listen[0] != '\0' ? a->cfg.peer_listen : NULL;
}

static void
ops_log(void *data, int prio, const char *text)
{
	qb_log(prio, "[replica] %s", text);
}

static void
ops_changed(void *data)
{
	vmhost_kick(data);
	coord_kick(data);
	san_kick(data);
	nodeconf_kick(data);
}

static void
ops_self_unclean(void *data)
{
	guard_fenced_by_cluster(data);
}

static bool
ops_agent_down_known(void *data)
{
	return cluster_members_speak(data, XM_PROTO_MINOR_AGENT_DOWN, NULL, NULL);
}

static void
ops_host_event(void *data, uint32_t host, const Xenmesh__HostEvent *ev)
{
	coord_host_event(data, host, ev);
}

const struct replica_ops cluster_replica_ops = {
	.mcast = cluster_mcast,
	.persist = ops_persist,
	.event = ops_event,
	.request_done = ops_request_done,
	.node_info = ops_node_info,
	.log = ops_log,
	.changed = ops_changed,
	.self_unclean = ops_self_unclean,
	.agent_down_known = ops_agent_down_known,
	.host_event = ops_host_event,
};
