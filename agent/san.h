/* The SAN node's side of storage: volumes, iSCSI targets, the floating
 * portal address, and the storage fence, driven by the replicated state.
 *
 * One reconcile pass at a time, each starting from a fresh read of the
 * target daemon (`tgtadm --op show`):
 *   - the active SAN node of a quorate, synced partition makes and removes
 *     volumes, exports one target per VM with ready volumes, whose ACL
 *     names only the initiator of the VM's current host (none while the
 *     host is storage-fenced or the VM has no instance), then holds the
 *     portal address;
 *   - every other SAN node (and the active one that lost quorum or is
 *     stopping) drops the portal address first and then every target.
 * A pass that finds the daemon already as wanted is the read-back: only
 * then are HOST_VM_STORAGE (the VM's target admits its host alone) and
 * HOST_STORAGE_FENCED (no ACL and no session names the host) reported.
 */
#ifndef XM_SAN_H
#define XM_SAN_H

#include <stdbool.h>

#include "agent.h"

struct storage_view_pb;
struct san_plan_conf;

int san_start(struct agent *a);
void san_stop(struct agent *a);
void san_kick(struct agent *a);
/* Serving targets (the watchdog stays armed while it does). */
bool san_exporting(const struct agent *a);
/* Take everything down (portal first, then targets), then call done.
 * Returns false when nothing was exported (done is not called). */
bool san_shutdown(struct agent *a, void (*done)(struct agent *a));
/* This node's view for `agentctl storage status`: fills *v, whose strings
 * point into the san's buffers until the next pass and whose arrays are in
 * *mem (san_view_free it); -ENODEV when not a SAN node. */
int san_view(struct agent *a, Xenmesh__StorageView *v, void **mem);
void san_view_free(void *mem);
/* How this node names its volumes' devices ([storage] backend, vg,
 * volume_dir, mirror, iqn_prefix); the strings point into a->cfg. */
void san_plan_conf_of(const struct agent *a, struct san_plan_conf *pc);

#endif
