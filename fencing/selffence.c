/* Self-fence rule and deadline.  See selffence.h.
 *
 * The quorate side counts a lost host as fenced W after it lost it, on the
 * assumption that the host stopped petting at most T_hb after its last
 * heartbeat came back.  So:
 *  - losing quorum, or the corosync connection, begins the self-fence, and
 *    nothing undoes it: the host destroys its HA domains and resets;
 *  - a heartbeat stall only stops the petting (every membership change
 *    stalls the group for token + consensus, and a host that stays quorate
 *    through it was never lost).  A host the others did lose sees its
 *    quorum go, or learns from the synced state that it is being fenced,
 *    within token + consensus of its corosync running again, and begins
 *    then; its watchdog resets it meanwhile if the stall outlasts T_hb +
 *    the watchdog timeout.  Both come before the others' deadline W.
 *    While stalled it also coordinates nothing (ha/replica.c).
 */
#include <stddef.h>

#include "selffence.h"

bool
selffence_should_pet(const struct selffence_input *in)
{
	if (!in->quorate || in->self_fence_begun)
		return false;
	/* No heartbeat has come back yet, or no window to judge one by. */
	if (in->t_hb_ms == 0 || in->last_heartbeat_back_ms == 0)
		return false;
	/* A heartbeat "from the future" means the caller mixed clocks:
	 * refuse rather than guess. */
	if (in->now_ms < in->last_heartbeat_back_ms)
		return false;
	return in->now_ms - in->last_heartbeat_back_ms <= in->t_hb_ms;
}

void
selffence_init(struct selffence *sf, uint32_t t_hb_ms)
{
	*sf = (struct selffence){ .t_hb_ms = t_hb_ms };
}

static enum selffence_action
selffence_begin(struct selffence *sf, enum selffence_reason reason,
    uint64_t now_ms)
{
	sf->begun = true;
	sf->begun_at_ms = now_ms;
	sf->reason = reason;
	return SELFFENCE_BEGIN;
}

/* The heartbeat age is measured from the later of the last heartbeat back
 * and the moment quorum was first gained: a node that became quorate gets
 * one T_hb for its first heartbeat to come back, then the rule holds. */
static bool
selffence_stalled(const struct selffence *sf, uint64_t now_ms)
{
	uint64_t ref = sf->last_heartbeat_back_ms;

	if (sf->quorate_since_ms > ref)
		ref = sf->quorate_since_ms;
	return now_ms >= ref && now_ms - ref > sf->t_hb_ms;
}

static enum selffence_action
selffence_evaluate(struct selffence *sf, uint64_t now_ms)
{
	struct selffence_input in = {
		.quorate = sf->quorate,
		.now_ms = now_ms,
		.last_heartbeat_back_ms = sf->last_heartbeat_back_ms,
		.t_hb_ms = sf->t_hb_ms,
		.self_fence_begun = sf->begun,
	};

	if (sf->begun || !sf->engaged)
		return SELFFENCE_NONE;
	if (!sf->quorate)
		return selffence_begin(sf, SELFFENCE_REASON_QUORUM_LOST, now_ms);
	/*
	 * A stalled heartbeat only stops the petting.  Every membership
	 * change stalls the group for token + consensus, and a host that
	 * stays quorate through it was never lost.  A host the others did
	 * lose sees the quorum go (and begins above) within token +
	 * consensus of its corosync running again; its watchdog resets it
	 * meanwhile if the stall outlasts T_hb + the watchdog timeout.  Both
	 * come before the others' deadline W, which counts all those terms
	 * from the moment they lost it.
	 */
	if (selffence_stalled(sf, now_ms)) {
		sf->reason = SELFFENCE_REASON_HEARTBEAT_STALL;
		return SELFFENCE_NONE;
	}
	return selffence_should_pet(&in) ? SELFFENCE_PET : SELFFENCE_NONE;
}

enum selffence_action
selffence_on_quorum(struct selffence *sf, bool quorate, uint64_t now_ms)
{
	sf->quorate = quorate;
	/* Before the first quorum there is nothing to give up: the node has
	 * not been given anything to run yet. */
	if (quorate && !sf->engaged) {
		sf->engaged = true;
		sf->quorate_since_ms = now_ms;
	}
	return selffence_evaluate(sf, now_ms);
}

enum selffence_action
selffence_on_heartbeat_back(struct selffence *sf, uint64_t now_ms)
{
	/* Deliveries can be handled out of clock order by the caller's loop;
	 * only a later time moves the mark. */
	if (now_ms > sf->last_heartbeat_back_ms)
		sf->last_heartbeat_back_ms = now_ms;
	return selffence_evaluate(sf, now_ms);
}

enum selffence_action
selffence_tick(struct selffence *sf, uint64_t now_ms)
{
	return selffence_evaluate(sf, now_ms);
}

bool
selffence_heartbeat_stalled(const struct selffence *sf, uint64_t now_ms)
{
	return sf->engaged && !sf->begun && sf->quorate && selffence_stalled(sf, now_ms);
}

bool
selffence_begun(const struct selffence *sf)
{
	return sf->begun;
}

bool
selffence_magic_close_ok(const struct selffence *sf, unsigned ha_domains_left)
{
	return !sf->begun && ha_domains_left == 0;
}

const char *
selffence_reason_str(enum selffence_reason reason)
{
	switch (reason) {
	case SELFFENCE_REASON_NONE:
		return "none";
	case SELFFENCE_REASON_QUORUM_LOST:
		return "quorum lost";
	case SELFFENCE_REASON_HEARTBEAT_STALL:
		return "own heartbeat did not come back in time";
	case SELFFENCE_REASON_FENCED_BY_CLUSTER:
		return "the cluster is fencing this host";
	}
	return "unknown";
}

/*
 * W, counted by the quorate side from the moment it lost the host (M).
 * Let B be when the host was really cut off or hung; M >= B.  The bound
 * we need is: the host has reset by M + W.
 *
 *  token + consensus: the lost host may still get its own heartbeat back
 *      after B.  When its side of the ring gives up the token (token) and
 *      forms its new configuration (consensus), virtual synchrony delivers
 *      the messages it still holds from the old ring, its heartbeat among
 *      them, possibly before its quorum loss is reported.  So its last
 *      heartbeat back can be as late as B + token + consensus.
 *  T_hb: it keeps petting until that heartbeat is T_hb old.
 *  watchdog timeout: then its watchdog runs out (the value read back from
 *      the device with WDIOC_GETTIMEOUT and replicated, not the configured
 *      one: drivers round).
 *  margin: what the bound above does not model: the pet loop's period and
 *      scheduling delay, the watchdog's own granularity, clock rate drift
 *      between the two hosts measuring these intervals, and writes already
 *      on the wire when the host resets.
 *
 * Reset <= B + token + consensus + T_hb + timeout < M + W.
 */
uint64_t
selffence_deadline_ms(uint32_t token_ms, uint32_t consensus_ms,
    uint32_t t_hb_ms, uint32_t watchdog_timeout_s, uint32_t margin_ms)
{
	if (watchdog_timeout_s == 0)
		return UINT64_MAX;
	/* All terms are 32-bit: the 64-bit sum cannot overflow. */
	return (uint64_t)token_ms + consensus_ms + t_hb_ms +
	    (uint64_t)watchdog_timeout_s * 1000u + margin_ms;
}

uint32_t
selffence_t_hb_ms(uint32_t token_ms, uint32_t consensus_ms)
{
	uint64_t t = (uint64_t)token_ms + consensus_ms + 1000;

	return t < 2000 ? 2000 : t > 600000 ? 600000 : (uint32_t)t;
}

enum selffence_action
selffence_on_fenced_by_cluster(struct selffence *sf, uint64_t now_ms)
{
	if (sf->begun)
		return SELFFENCE_NONE;
	return selffence_begin(sf, SELFFENCE_REASON_FENCED_BY_CLUSTER, now_ms);
}
