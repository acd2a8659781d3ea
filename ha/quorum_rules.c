/* Quorum rules of ARCHITECTURE.md: when the agent may act, and when it
 * may manage HA VMs.  Pure: the agent feeds it what corosync said. */
#include <stdio.h>
#include <string.h>

#include "quorum_rules.h"
#include "unsafe.h"

void
quorum_rules_eval(const struct quorum_input *in, struct quorum_verdict *v)
{
	if (v == NULL)
		return;
	memset(v, 0, sizeof(*v));

	/* Order matters: the first rule that refuses gives the reason. */
	if (in == NULL || !in->connected) {
		/* Without corosync we cannot know who else is running. */
		(void)snprintf(v->reason, sizeof(v->reason),
			       "no connection to corosync");
	} else if (in->two_node) {
		(void)snprintf(v->reason, sizeof(v->reason),
			       "corosync is configured with two_node, which "
			       "leaves both halves of a split quorate: "
			       "refused; remove two_node and add "
			       "corosync-qnetd");
	} else if (!in->quorate && !xm_unsafe("quorum")) {
		(void)snprintf(v->reason, sizeof(v->reason),
			       "partition has %u of %u votes, %u needed",
			       in->total_votes,
			       in->expected_votes + in->qdevice_votes,
			       in->quorum);
	} else {
		/* (or, in the unsafe test build, a minority told to act so) */
		v->quorate = true;
	}

	if (!v->quorate) {
		/* The precision keeps the prefix and the reason within
		 * ha_reason (reasons are far shorter anyway). */
		(void)snprintf(v->ha_reason, sizeof(v->ha_reason),
			       "not quorate: %.*s",
			       (int)(sizeof(v->ha_reason) -
				     sizeof("not quorate: ")),
			       v->reason);
		return;
	}
	/* An even vote count can split into two equal halves, neither of
	 * them quorate, and then no host anywhere recovers anything.  A
	 * quorum device breaks that tie; without one the rules refuse HA
	 * rather than promise recovery they cannot give. */
	if (in->expected_votes % 2 == 0 && !in->qdevice) {
		(void)snprintf(v->ha_reason, sizeof(v->ha_reason),
			       "even number of votes (%u) and no quorum "
			       "device: HA VMs are not managed; add "
			       "corosync-qnetd", in->expected_votes);
		return;
	}
	v->ha_enabled = true;
}

uint32_t
coordinator_choose(const uint32_t *members, size_t n, bool quorate)
{
	uint32_t best = 0;
	size_t i;

	if (!quorate || members == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (members[i] != 0 && (best == 0 || members[i] < best))
			best = members[i];
	return best;
}
