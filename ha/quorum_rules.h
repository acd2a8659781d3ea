/* Quorum rules of ARCHITECTURE.md, as a pure function.
 *
 * The agent feeds it what votequorum and cmap said; it answers whether the
 * agent may act as quorate and whether it may manage HA VMs, with the
 * reason in words for `agentctl status`.
 */
#ifndef XM_QUORUM_RULES_H
#define XM_QUORUM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct quorum_input {
	bool connected;         /* corosync reachable (lost = not quorate) */
	bool quorate;           /* votequorum's flag */
	bool two_node;          /* quorum.two_node set: refused */
	bool qdevice;           /* a quorum device is registered */
	uint32_t expected_votes;/* configured votes of all nodes */
	uint32_t total_votes;   /* votes present */
	uint32_t quorum;        /* votes needed */
	uint32_t qdevice_votes; /* the quorum device's (0: none registered) */
};

struct quorum_verdict {
	bool quorate;           /* may act: coordinator, updates */
	bool ha_enabled;        /* may manage HA VMs */
	char reason[192];       /* why not quorate ("" when quorate) */
	char ha_reason[192];    /* why HA is refused ("" when enabled) */
};

void quorum_rules_eval(const struct quorum_input *in, struct quorum_verdict *v);

/* The coordinator: a pure function of the synced membership while
 * quorate (lowest node id).  0 when there is none. */
uint32_t coordinator_choose(const uint32_t *members, size_t n, bool quorate);

#endif
