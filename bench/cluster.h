/* A replicated state holding the benchmarks' cluster (population.h),
 * built through the real ops (state_apply) from each VM's xl.cfg as
 * `agentctl vm define` would (xlcfg_parse), except the SAN volume table:
 * that is written directly, because creating it op by op costs O(n^2)
 * per op (ha/voltable.c minor_free) and would take hours at 10,000 VMs;
 * snapshot.c times that op on its own.
 */
#ifndef XM_BENCH_CLUSTER_H
#define XM_BENCH_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

struct bench_cluster {
	size_t n_hosts;         /* dom0 nodes h1.. (ids 1..) */
	size_t n_sans;          /* SAN nodes s1.. (ids 101..); the first is active */
	size_t n_vms;
	bool volumes;           /* disks on SAN volumes (needs n_sans > 0) */
};

/* What filling cost and gave. */
struct bench_fill {
	double parse_ms;        /* xlcfg_parse of every xl.cfg */
	double apply_ms;        /* state_apply of every op */
	double total_ms;
	size_t n_ops;
	size_t config_bytes;    /* xl.cfg texts, all VMs */
	size_t n_running;
	size_t n_stopped;       /* stopped by their admin, or no host fitted */
	size_t n_vols;
};

/* st must be initialised and empty; on error it holds what was filled
 * (state_free it) and why says what failed. */
int bench_cluster_fill(struct state *st, const struct bench_cluster *c,
		       struct bench_fill *f, char *why, size_t whylen);

/* Commit one op as the coordinator would: the next seq of the same epoch. */
int bench_commit(struct state *st, const Xenmesh__Op *op, char *why,
		 size_t whylen);

#endif
