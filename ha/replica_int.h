/* Internals shared by replica.c (updates, requests), replica_coord.c
 * (the coordinator), replica_member.c (membership and quorum) and
 * replica_sync.c (the sync round).  Not for other modules. */
#ifndef XM_REPLICA_INT_H
#define XM_REPLICA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica.h"

void replica_log(struct replica *r, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void replica_event(struct replica *r, uint32_t node, const char *kind,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "h2" when the node table knows the name, else "node 2". */
const char *replica_node_label(const struct replica *r, uint32_t id,
			       char *buf, size_t len);
void replica_envelope_init(const struct replica *r, Xenmesh__Envelope *env);
int replica_mcast(struct replica *r, const Xenmesh__Envelope *env);
void replica_update_coordinator(struct replica *r, bool after_sync);
/* A member we can talk with: a process of that node in the group that
 * speaks our protocol. */
bool replica_is_member(const struct replica *r, uint32_t id);
bool replica_is_excluded(const struct replica *r, uint32_t nodeid, uint32_t pid);
/* Fail every request of this node still waiting for its commit. */
void replica_pending_fail_all(struct replica *r, int err, const char *reason);

/* The member that coordinates when the cluster is quorate (0 none). */
uint32_t replica_lowest_member(const struct replica *r);
void replica_ring_fill(const struct replica *r, Xenmesh__RingId *ring);
/* An op from this node: committed at once by the coordinator, else sent
 * as a request to it. */
int replica_submit(struct replica *r, Xenmesh__Op *op, uint64_t req_id, uint32_t uid);

/* replica_coord.c */
/* Multicast an update (from the coordinator); it takes effect when it is
 * delivered. */
int replica_coord_commit(struct replica *r, Xenmesh__Op *op, uint32_t origin,
			 uint64_t req_id, uint32_t uid);
/* The node table in line with the membership (the coordinator). */
void replica_coord_reconcile(struct replica *r);
/* Tell the coordinator what we are, unless the table already says so. */
void replica_announce(struct replica *r);

/* replica_sync.c */
void replica_sync_offer(struct replica *r);
void replica_sync_deliver_offer(struct replica *r, uint32_t sender,
				const Xenmesh__SyncOffer *m);
void replica_sync_deliver_chunk(struct replica *r, uint32_t sender,
				const Xenmesh__SyncChunk *m);
void replica_sync_decided(struct replica *r);

#endif
