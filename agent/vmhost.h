/* The host side of HA: make this host's domains match the replicated
 * state (start what is assigned here, stop what must stop, destroy stale
 * instances, leave unmanaged domains alone) and report what happens to
 * them to the coordinator. */
#ifndef XM_VMHOST_H
#define XM_VMHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

#define VMHOST_RETRY_MS 5000

/* Opens the configured hypervisor driver and puts its events in the loop;
 * quiet: a failure is logged at debug (a retry of one already said). */
int vmhost_open(struct agent *a, bool quiet);
void vmhost_close(struct agent *a);
/* Look at the state again (coalesced, runs from the loop). */
void vmhost_kick(struct agent *a);
/* Self-fence: destroy every HA domain here now.  Returns how many. */
unsigned vmhost_destroy_ha(struct agent *a, const char *why);
/* HA domains running here (for the watchdog's magic close). */
unsigned vmhost_ha_count(struct agent *a);
/* The same from a listing now, plus incoming migrations in flight (the
 * count above lags a stop by one pass). */
unsigned vmhost_ha_now(struct agent *a);
int vmhost_memory(struct agent *a, uint64_t *total_mb, uint64_t *free_mb);
/* Names of running domains not defined in xenmesh (valid until the next
 * reconcile). */
size_t vmhost_unmanaged(struct agent *a, const char *const **names);

/* The first word of a live migration's hello on the peer channel. */
#define MIGRATE_HELLO_WORD "xenmesh-migrate"
struct peer_conn;
/* agent/migrate.c: an incoming migration request (a peer_hooks.accept for
 * a hello of MIGRATE_HELLO_WORD, through agent/peer_hub.c). */
int migrate_accept(struct vmhost *vh, struct peer_conn *c, const char *from_addr,
		   const uint8_t *hello, size_t len, int *fd,
		   void (**done)(void *, int, const char *), void **done_arg,
		   char *why, size_t whylen);

#endif
