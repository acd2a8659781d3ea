/* Planned maintenance in the replicated state: live migration, host
 * drain, cluster-wide maintenance (the freeze).  Pure: no I/O.
 *
 * The ops here are admin wishes the coordinator validates against the
 * state (migrate_check) before it commits them; ha/drain.c turns a drain
 * into migrations, ha/decide.c runs and ends them.
 */
#ifndef XM_MAINT_H
#define XM_MAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "xenmesh.pb-c.h"

/* Migrations that do not end within this are aborted by the coordinator
 * (a stream stuck on a dead link, an agent restarted mid-way). */
#define MIGRATE_TIMEOUT_MS (10 * 60 * 1000)

/* Could new VMs land on n?  why says why not ("maintenance", "offline"). */
bool node_takes_vms(const struct node_rec *n, const char **why);

/* Memory taken on host: its active VMs, those recovering there, and
 * those migrating to it (a migration holds memory on both ends). */
uint64_t state_host_used_mb(const struct state *s, uint32_t host);

/*
 * May VM v move to dest now?  0, or a negative errno and a sentence:
 * the cluster is in maintenance, the VM is not running, dest is the
 * source, not a dom0 that takes VMs, has too little memory, runs a VM of
 * the same anti-affinity group, has another CPU class than the source or
 * no peer channel (live only), no SAN node exports its volumes.
 */
int migrate_check(const struct state *s, const struct vm_rec *v,
		  const struct node_rec *dest, bool offline, char *why,
		  size_t whylen);

/*
 * Would this host leaving (a clean stop) strand VMs on the others?  Its
 * vote and those of the online hosts already marked leaving gone, the rest
 * keep quorum when total_votes - gone >= quorum; if not, every host not
 * leaving that still holds an active VM (starting, running, stopping,
 * migrating) would lose quorum and self-fence it.  Returns how many such
 * VMs there are (0: leaving is harmless), their names in names.  One vote
 * per node, corosync's default.
 */
size_t maint_leave_strands(const struct state *s, uint32_t me,
			   uint32_t total_votes, uint32_t quorum, char *names,
			   size_t len);
/* May host id be marked leaving (FLAG_LEAVING, with the votes it saw)?
 * Nothing may run there, and its leave must strand nothing. */
int maint_leave_check(const struct state *s, uint32_t id, uint32_t total_votes,
		      uint32_t quorum, char *why, size_t whylen);

bool maint_op_kind(const Xenmesh__Op *op);
int maint_validate(const struct state *s, const Xenmesh__Op *op, char *why,
		   size_t whylen);
/* After maint_validate() said yes; cannot fail. */
void maint_apply(struct state *s, const Xenmesh__Op *op);

#endif
