/* agentctl requests forwarded to the node that can answer them.
 *
 * vm create, vm backup, vm restore and backup list run on the active SAN
 * node (it writes the volumes and holds the backups), template list/show
 * on a SAN node (the templates are there).  Typed on any other node, the
 * request goes to the active SAN node over the peer channel
 * (agent/peer_hub.c: authenticated with the cluster key, encrypted) and
 * its answer comes back to the client as if this node had given it.
 *
 * On the wire, inside the peer connection (hello "xenmesh-forward 1 ID",
 * ID the origin's node id):
 *   origin -> SAN   the CtlRequest as a wire frame (agent/wire.h), with
 *                   forwarded_from and forwarded_uid set, then end
 *   SAN -> origin   records: u32 length (big endian) + bytes; length 0 is a
 *                   keepalive (every CTL_FORWARD_TICK_MS while the request
 *                   runs: a create or a backup takes minutes, the peer
 *                   channel's idle timeout is 30 s); the one record with
 *                   bytes is the CtlResponse as a wire frame; then end.
 * The SAN node runs the request through its own agentctl endpoint: it
 * spawns `agentctl --relay` (agent/ctl_relay.c), which hands the request
 * to the local xenmeshd as any agentctl would and prints the answer, so a
 * forwarded request takes exactly the path of a local one.  The origin has
 * checked the client's rights; the SAN node takes only the commands above,
 * and a forwarded request is never forwarded again.
 *
 * If the connection is lost while the request runs, the client is told
 * that it may have run all the same (it goes on on the SAN node, as it
 * would for a local client that left).
 */
#ifndef XM_CTL_FORWARD_H
#define XM_CTL_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbipcs.h>

#include "xenmesh.pb-c.h"

#define CTL_FORWARD_HELLO_WORD "xenmesh-forward"
#define CTL_FORWARD_VERSION    1
#define CTL_FORWARD_TICK_MS    10000
/* the relay's limit: a backup of big volumes takes hours */
#define CTL_FORWARD_RUN_MS     (13 * 3600 * 1000)
#define CTL_FORWARD_REQUEST_MAX (64 * 1024)     /* forwardable ones are small */

struct agent;
struct peer_conn;

/* Takes req when it must run elsewhere (see above) and was not forwarded
 * already: forwards it, or answers c why it cannot ("run agentctl on
 * NODE").  true: c is answered (now or later); false: run it here. */
bool ctl_forward_maybe(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		       const Xenmesh__CtlRequest *req);

/* The peer hub's accept for a hello of CTL_FORWARD_HELLO_WORD. */
int ctl_forward_accept(struct agent *a, struct peer_conn *c, const char *from_addr,
		       const uint8_t *hello, size_t len, int *fd,
		       void (**done)(void *, int, const char *), void **done_arg,
		       char *why, size_t whylen);

/* At the agent's stop, after peer_hub_close. */
void ctl_forward_stop(struct agent *a);

/* The commands a SAN node takes forwarded (also for the fuzzers). */
bool ctl_forward_command(Xenmesh__CtlCommand cmd);

/* For tests: another relay program and keepalive period (NULL, 0: keep). */
int ctl_forward_tune(struct agent *a, const char *relay, unsigned tick_ms);

#endif
