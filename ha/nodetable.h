/* The hosts part of the replicated state that `agentctl node add` and
 * `node forget` change: a host entered in (or removed from) the node
 * table, and corosync's nodelist with its version, which every agent
 * writes into its own corosync.conf (agent/ctl_nodes.c).
 *
 * Pure; called by state.c for OpNodeAdd and OpNodeForget and for the
 * nodelist's part of pack/unpack, like voltable.c is for volumes.
 */
#ifndef XM_NODETABLE_H
#define XM_NODETABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

#define CS_NODEID_MAX 65535             /* knet node ids are 16 bits */

bool nodetable_op_kind(const Xenmesh__Op *op);
int nodetable_validate(const struct state *s, const Xenmesh__Op *op,
		       char *why, size_t whylen);
/* After nodetable_validate() said yes; -ENOMEM is the only failure, and
 * then nothing changed. */
int nodetable_apply(struct state *s, const Xenmesh__Op *op);

/* Why host id cannot be forgotten now (VMs on it, online, unclean, the
 * active SAN node): 0, or -EBUSY with why naming the VMs. */
int nodetable_forget_check(const struct state *s, uint32_t id, char *why,
			   size_t whylen);

/* The nodelist into msg; *scratch must outlive the pack (free it after).
 * 0 or -ENOMEM. */
int nodetable_pack(const struct state *s, Xenmesh__State *msg, void **scratch);
void nodetable_scratch_free(void *scratch);
/* Check and load msg's nodelist into s.  -EBADMSG with why, -ENOMEM. */
int nodetable_unpack(const Xenmesh__State *msg, struct state *s, char *why,
		     size_t whylen);
int nodetable_copy(struct state *dst, const struct state *src);
void nodetable_free(struct state *s);

/* Messages for OpNodeAdd/OpNodeForget's nodelist: *msgs[n], pointing into
 * list (valid while it is).  0 or -ENOMEM; free with nodetable_msgs_free. */
int nodetable_msgs(const struct cs_node *list, size_t n,
		   Xenmesh__CorosyncNode ***msgs, void **scratch);
void nodetable_msgs_free(Xenmesh__CorosyncNode **msgs, void *scratch);

#endif
