/* The sync round run on every CPG membership change.  Pure logic.
 *
 * Each member multicasts a SyncOffer (epoch, seq, digest) tagged with the
 * view (a hash of the CPG member list it answers).  Once every member's
 * offer is in, everyone computes the same decision: the member with the
 * highest (epoch, seq), lowest node id on a tie, sends its state in chunks;
 * members whose digest differs adopt it.  A node with an old state file can
 * therefore never overwrite newer state.
 */
#ifndef XM_SYNC_H
#define XM_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define SYNC_MAX_MEMBERS STATE_MAX_NODES

struct sync_member {
	uint32_t nodeid;
	uint32_t pid;
};

struct sync_offer {
	uint32_t nodeid;
	uint64_t epoch;
	uint64_t seq;
	uint8_t digest[STATE_DIGEST_LEN];
};

struct sync_round {
	uint64_t view;
	size_t n_members;
	uint32_t members[SYNC_MAX_MEMBERS];     /* node ids, sorted */
	bool have[SYNC_MAX_MEMBERS];
	struct sync_offer offers[SYNC_MAX_MEMBERS];
};

struct sync_decision {
	uint32_t sender;        /* node whose state everyone ends with */
	uint64_t epoch;
	uint64_t seq;
	uint8_t digest[STATE_DIGEST_LEN];
	bool transfer;          /* some member's digest differs from sender's */
	bool conflict;          /* equal (epoch, seq), different digests */
	uint32_t conflict_node; /* one such member, for the log */
};

/* Order-independent hash of a member list (node id and pid of each). */
uint64_t sync_view_hash(const struct sync_member *m, size_t n);

/* -EINVAL when n is 0 or above SYNC_MAX_MEMBERS. */
int sync_round_start(struct sync_round *r, uint64_t view,
		     const struct sync_member *m, size_t n);
/* 0 recorded; -ESRCH not a member; -EALREADY duplicate; XM_ESTALE other view. */
int sync_round_offer(struct sync_round *r, uint64_t view,
		     const struct sync_offer *o);
/* A member that cannot take part (it speaks another protocol major): the
 * round no longer waits for it.  0, or -ESRCH when not a member. */
int sync_round_exclude(struct sync_round *r, uint32_t nodeid);
bool sync_round_complete(const struct sync_round *r);
/* -EAGAIN while offers are missing. */
int sync_round_decide(const struct sync_round *r, struct sync_decision *d);

/* Reassembly of the chunked snapshot.  Chunks arrive in order (CPG agreed
 * order from one sender); anything else is a protocol error. */
struct sync_assembly {
	uint64_t view;
	uint32_t total;
	uint32_t next;
	uint8_t *buf;
	size_t len;
};

void sync_assembly_reset(struct sync_assembly *a);  /* frees buf */
/* 0 more to come; 1 complete (buf/len hold the snapshot); -EPROTO out of
 * order, total changed or too large; XM_ESTALE other view. */
int sync_assembly_add(struct sync_assembly *a, uint64_t view, uint32_t index,
		      uint32_t total, const uint8_t *data, size_t len);
/* Number of chunks of at most chunk_max bytes for len bytes (at least 1). */
uint32_t sync_chunk_count(size_t len, size_t chunk_max);

#endif
