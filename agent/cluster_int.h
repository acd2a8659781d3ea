/* The cluster connection's insides, shared by cluster.c (corosync: CPG,
 * votequorum, cmap, the outgoing queue) and cluster_ops.c (what the
 * replica asks of the agent).  Not for anyone else. */
#ifndef XM_CLUSTER_INT_H
#define XM_CLUSTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>
#include <qb/qbloop.h>

#include "agent.h"
#include "sync.h"

struct out_msg {
	struct out_msg *next;
	size_t len;
	uint8_t buf[];
};

#define CLUSTER_MINOR_SLOTS (2 * STATE_MAX_NODES)

struct cluster {
	struct agent *a;
	bool connected;
	cpg_handle_t cpg;
	votequorum_handle_t vq;
	cmap_handle_t cmap;
	int cpg_fd;
	int vq_fd;
	struct cpg_name group;
	uint32_t local_id;
	char local_name[STATE_NAME_MAX];

	/* votequorum announces a ring (nodelist notification) before the
	 * quorum notification that holds its verdict: only then is the
	 * verdict known to be for that ring */
	bool vq_ring_pending;
	uint32_t vq_ring_nodeid;
	uint64_t vq_ring_seq;

	qb_loop_timer_handle reconnect_timer;
	qb_loop_timer_handle flush_timer;
	struct out_msg *out_head;
	struct out_msg **out_tail;
	size_t out_len;

	const char *fail_why;
	bool leaving;
	void (*leave_done)(struct agent *a);
	qb_loop_timer_handle leave_timer;

	/* peers refused for their protocol version, logged once each */
	uint32_t refused_id[STATE_MAX_NODES];
	uint16_t refused_major[STATE_MAX_NODES];
	size_t n_refused;
	/* the protocol minor each process on the group last spoke */
	struct sync_member minor_who[CLUSTER_MINOR_SLOTS];
	uint16_t minor_of[CLUSTER_MINOR_SLOTS];
	size_t n_minor, minor_next;
	/* what node_info hands out (must outlive the call) */
	char info_name[STATE_NAME_MAX];
	char info_cpu[NODE_CPU_MAX];
};

/* replica_ops.mcast: queue env for the group (cluster.c). */
int cluster_mcast(void *data, const Xenmesh__Envelope *env);

#endif
