/* xenmeshd's metrics in the Prometheus text exposition format (0.0.4).
 *
 * struct metrics (in struct agent) holds the counters; the code where
 * things happen bumps them with one call (cluster.c: CPG messages,
 * coord.c: fences, restarts, failovers).  metrics_format() is pure: the
 * counters and a view of what the agent knows now in, the text out.  It
 * is what `agentctl metrics` prints (for node_exporter's textfile
 * collector) and what the optional /metrics listener serves.
 *
 * The counters are this agent's, since it started: fences, restarts and
 * failovers count on the node that was coordinator when they happened,
 * so sum them over the nodes (sum without(instance)).
 */
#ifndef XM_METRICS_H
#define XM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state;

/* Indexes: enum fence_kind (1..4) and enum fence_result (1..3) of
 * fencing/chain.h; 0 is unused. */
#define METRICS_FENCE_KINDS   5
#define METRICS_FENCE_RESULTS 4
/* Failover duration buckets (seconds), +Inf implied. */
#define METRICS_FAILOVER_BUCKETS 11

struct metrics {
	uint64_t start_time_ms;         /* wall clock when the agent started */
	uint64_t cpg_sent, cpg_sent_bytes;
	uint64_t cpg_received, cpg_received_bytes;
	uint64_t restarts;              /* VM restarts committed (coordinator) */
	uint64_t fences[METRICS_FENCE_KINDS][METRICS_FENCE_RESULTS];
	uint64_t failover[METRICS_FAILOVER_BUCKETS + 1];  /* not cumulative; last: +Inf */
	uint64_t failover_count;
	uint64_t failover_sum_ms;
};

/* The upper bounds of the failover buckets, in seconds. */
extern const double metrics_failover_bounds[METRICS_FAILOVER_BUCKETS];

void metrics_init(struct metrics *m, uint64_t start_time_ms);
void metrics_cpg_sent(struct metrics *m, size_t bytes);
void metrics_cpg_received(struct metrics *m, size_t bytes);
void metrics_restart(struct metrics *m);
/* One fence method finished: kind is an enum fence_kind, result an enum
 * fence_result; out of range ones are not counted. */
void metrics_fence(struct metrics *m, int kind, int result);
/* A lost host's fence was confirmed ms after its fencing began: from then
 * on its VMs are placed again. */
void metrics_failover(struct metrics *m, uint64_t ms);

/* What the agent knows now. */
struct metrics_view {
	const char *version;            /* PACKAGE_VERSION */
	unsigned proto_major, proto_minor;
	const char *cluster;            /* cluster name ("" unknown) */
	const char *node;               /* this node's name ("" unknown) */
	uint32_t local_id;
	bool connected;                 /* to corosync */
	bool synced;
	bool quorate;
	bool ha_enabled;
	uint32_t coordinator;           /* 0: none */
	uint32_t votes, expected_votes, quorum;
	uint64_t epoch, seq;
	const struct state *st;         /* nodes and VMs by state */
	uint64_t unmanaged;             /* domains here not defined in xenmesh */
};

/* The exposition text, malloc'd into *out.  0 or -ENOMEM. */
int metrics_format(const struct metrics *m, const struct metrics_view *v,
		   char **out);

#endif
