/* The corosync side of xenmeshd: CPG for membership and messages,
 * votequorum for the quorate flag, cmap for names.  Feeds the replica and
 * reconnects when corosync goes away (which counts as losing quorum). */
#ifndef XM_CLUSTER_H
#define XM_CLUSTER_H

#include "agent.h"

/* Connects now, or keeps retrying every second from the loop. */
int cluster_start(struct agent *a);
/* Clean leave: cpg_leave and wait (from the loop) for our own leave to be
 * delivered, then done() is called.  Without a connection done() at once. */
void cluster_leave(struct agent *a, void (*done)(struct agent *a));
void cluster_stop(struct agent *a);
/* corosync's effective token and consensus timeouts (runtime config). */
int cluster_totem_ms(struct agent *a, uint32_t *token, uint32_t *consensus);
/* The protocol minor process PID of node NODEID last spoke on the group; 0
 * when none of its messages was seen (an update of a newer minor is
 * committed only once every member's agent can apply it). */
uint16_t cluster_peer_minor(const struct agent *a, uint32_t nodeid, uint32_t pid);
/* Does every agent of the group speak protocol minor MINOR or later?  If
 * not, *node and *got (either may be NULL) say the first that does not. */
bool cluster_members_speak(const struct agent *a, uint16_t minor,
			   uint32_t *node, uint16_t *got);

extern const struct replica_ops cluster_replica_ops;

#endif
