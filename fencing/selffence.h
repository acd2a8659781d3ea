/* Self-fence: when this host may pet its watchdog, when it must give up,
 * and the deadline W after which the rest of the cluster may count a lost
 * host as fenced by its own watchdog.
 *
 * Pure: no I/O, no clock of its own (times are milliseconds of one
 * monotonic clock the caller passes in), no logging.  The caller acts on
 * the returned action: PET -> watchdog_pet(); BEGIN -> destroy the HA
 * domains, stop petting for good, log selffence_reason_str().
 */
#ifndef XM_SELFFENCE_H
#define XM_SELFFENCE_H

#include <stdbool.h>
#include <stdint.h>

struct selffence_input {
	bool quorate;
	uint64_t now_ms;
	/* When our own last heartbeat came back to us through CPG; 0: none
	 * has yet. */
	uint64_t last_heartbeat_back_ms;
	uint32_t t_hb_ms;
	bool self_fence_begun;
};

/* Pet only while quorate AND our heartbeat came back within t_hb AND no
 * self-fence has begun.  Fails safe: t_hb 0, no heartbeat yet, or a
 * heartbeat time after now (clock confusion) all say do not pet. */
bool selffence_should_pet(const struct selffence_input *in);

enum selffence_action {
	SELFFENCE_NONE = 0,
	SELFFENCE_PET,
	/* Destroy the HA domains and stop petting: the watchdog resets the
	 * host.  Returned once; never called off. */
	SELFFENCE_BEGIN,
};

enum selffence_reason {
	SELFFENCE_REASON_NONE = 0,
	SELFFENCE_REASON_QUORUM_LOST,
	SELFFENCE_REASON_HEARTBEAT_STALL,
	SELFFENCE_REASON_FENCED_BY_CLUSTER,     /* marked unclean while a member */
};

struct selffence {
	uint32_t t_hb_ms;
	bool quorate;
	uint64_t last_heartbeat_back_ms;        /* 0: none yet */
	uint64_t quorate_since_ms;              /* first quorum gained */
	/* Has been quorate: from then on losing the right to pet is a
	 * self-fence, not just "not started yet". */
	bool engaged;
	bool begun;
	uint64_t begun_at_ms;
	enum selffence_reason reason;
};

/* Not quorate, no heartbeat seen, not engaged: it pets nothing until the
 * node is quorate and its first heartbeat came back. */
void selffence_init(struct selffence *sf, uint32_t t_hb_ms);
/* Quorum (or the connection to corosync: losing it counts as losing
 * quorum) changed.  A loss after having been quorate begins the fence. */
enum selffence_action selffence_on_quorum(struct selffence *sf, bool quorate,
    uint64_t now_ms);
/* Our own heartbeat was delivered back to us. */
enum selffence_action selffence_on_heartbeat_back(struct selffence *sf,
    uint64_t now_ms);
/* Called at least every t_hb / 2 or so, and at the watchdog pet period. */
enum selffence_action selffence_tick(struct selffence *sf, uint64_t now_ms);
bool selffence_begun(const struct selffence *sf);
/* Quorate, but its own heartbeat has not come back within T_hb: petting
 * has stopped, and this host must not act for the cluster meanwhile. */
bool selffence_heartbeat_stalled(const struct selffence *sf, uint64_t now_ms);
/* The cluster decided to fence this host while it is still a member (a VM
 * it could not stop): begin now, whatever the quorum says.  BEGIN once. */
enum selffence_action selffence_on_fenced_by_cluster(struct selffence *sf,
    uint64_t now_ms);
/* A clean stop may disarm the watchdog (magic close) only if no self-fence
 * has begun and no HA domain is left running here. */
bool selffence_magic_close_ok(const struct selffence *sf,
    unsigned ha_domains_left);
const char *selffence_reason_str(enum selffence_reason reason);

/* W: how long after the membership loss of a host the quorate side may
 * count it as fenced by its watchdog.  The terms are explained in
 * selffence.c.  A watchdog timeout of 0 (unknown: the host never reported
 * one) gives UINT64_MAX: that host is never fenced by waiting. */
/* T_hb for corosync's token and consensus timeouts: a membership change
 * stalls the group for up to token + consensus, and a host that stays in
 * the quorate membership through it must not stop petting. */
uint32_t selffence_t_hb_ms(uint32_t token_ms, uint32_t consensus_ms);

uint64_t selffence_deadline_ms(uint32_t token_ms, uint32_t consensus_ms,
    uint32_t t_hb_ms, uint32_t watchdog_timeout_s, uint32_t margin_ms);

#endif
