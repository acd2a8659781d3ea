/* The agent's one peer channel (agent/peer.h), shared by its users.
 *
 * Every node with `[peer] listen` opens it: dom0s for live migrations
 * (agent/migrate.c), SAN nodes and dom0s for agentctl requests forwarded
 * to the node that can answer them (agent/ctl_forward.c).  An incoming
 * connection goes to the user its hello names by its first word.
 */
#ifndef XM_PEER_HUB_H
#define XM_PEER_HUB_H

#include <stddef.h>
#include <stdint.h>

struct agent;

#define PEER_HUB_RETRY_MS 5000

/* 0 also when [peer] listen is empty (a->peer stays NULL); -errno when the
 * key or the address is bad (logged once), and then it tries again every
 * PEER_HUB_RETRY_MS until it opens. */
int peer_hub_open(struct agent *a);
/* Aborts every connection (their done callbacks run now): before the
 * users' own stop. */
void peer_hub_close(struct agent *a);

/* "ADDR:PORT" or "[ADDR]:PORT" into its parts: 0 or -EINVAL. */
int peer_hub_addr_split(const char *s, char *addr, size_t len, uint16_t *port);

#endif
