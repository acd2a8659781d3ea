/* The DRBD driver: one resource per SAN volume, mirrored between the two
 * SAN nodes, for DRBD 8.4 (the module in Debian's kernel) and DRBD 9.
 *
 * Pure like the LVM driver: command lines into a cmdseq, parsers of what
 * DRBD prints, and the decision rules (may this node promote; what the
 * fence-peer handler answers).  Only drbd_res_write() touches the file
 * system.  Nothing here logs.
 *
 * Commands (drbd-utils 9.22; its drbdadm runs drbdadm-84 by itself when
 * the loaded module is 8.4, so the lines are the same for both):
 *   drbdadm create-md --force RES       see drbd_cmd_create_md()
 *   drbdadm up|down|primary|secondary RES
 *   drbdadm primary --force RES         the initial sync only
 *   drbdsetup status RES --json         DRBD 9 state
 *   cat /proc/drbd                      DRBD 8.4 state (no JSON in 8.4)
 *
 * The .res file (drbd_res_render): protocol C; `fencing
 * resource-and-stonith` (8.4: disk{}, 9: net{}; drbdadm 9 refuses it in
 * disk{}, drbdadm-84 wants it there), so that a Primary that loses its
 * peer freezes IO and runs the fence-peer handler, xenmesh-fence-peer,
 * which asks the cluster (storage/drbd_handler.c).
 */
#ifndef XM_DRBD_H
#define XM_DRBD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdseq.h"

enum drbd_version { DRBD_84 = 84, DRBD_9 = 9 };

#define DRBD_RES_NAME_MAX 63            /* fits drbd_state.res */
#define DRBD_MINOR_MAX    1048575       /* 2^20 - 1 */

struct drbd_peer {
	const char *name;       /* the SAN node's uname (`on NAME`) */
	const char *addr;       /* IPv4 or IPv6 address, no port */
	uint32_t node_id;       /* DRBD 9 only: 0..31, distinct */
	const char *disk;       /* backing device, e.g. /dev/vgsan/vm1-root */
};

struct drbd_res_conf {
	const char *name;
	uint32_t minor;
	uint16_t port;
	enum drbd_version version;
	struct drbd_peer nodes[2];
	const char *handler;            /* absolute path of xenmesh-fence-peer */
	/* After a split brain, who loses.  NULL or "disconnect": nobody,
	 * DRBD stays StandAlone and a human decides (never discard data by
	 * itself).  Otherwise a rule that names the losing side, used as
	 * after-sb-0pri (no primary at the time): "discard-zero-changes",
	 * "discard-least-changes", "discard-younger-primary",
	 * "discard-older-primary", or (8.4 only; drbdadm 9 has no such
	 * value) "discard-node-NAME" with NAME one of the two nodes.  Then
	 * after-sb-1pri is "consensus" (the secondary is discarded only when
	 * the 0pri rule would discard it too) and after-sb-2pri stays
	 * "disconnect" (two primaries both took writes). */
	const char *after_sb_policy;
};

/* The /etc/drbd.d/<res>.res text (caller frees *text).  0, -EINVAL with
 * why, -ENOMEM. */
int drbd_res_render(const struct drbd_res_conf *c, char **text, char *why,
		    size_t whylen);

/* Writes dir/name.res atomically: a temporary file in dir, fsync, rename,
 * fsync of dir.  0 or negative errno (-EINVAL for a bad name). */
int drbd_res_write(const char *dir, const char *name, const char *text);

/* A DRBD resource name as xenmesh makes them (a volume's LV name):
 * 1..63 of [A-Za-z0-9_.+-], not starting with '-' or '.'.  0 or -EINVAL. */
int drbd_name_check(const char *res, char *why, size_t whylen);

/* `drbdadm create-md --force RES`, both versions.  --force is how
 * drbdmeta answers its own questions ("Found some data ... Do you want
 * to proceed?", "overwrite the existing meta-data?") without a terminal:
 * its confirmed() returns yes at once.  So call it ONLY on a volume
 * lvcreate has just made (an LV made on reused extents can carry old
 * bytes that drbdmeta would ask about).  drbdmeta still refuses, even
 * with --force, a device that is attached ("Device '0' is configured!",
 * exit 20).  DRBD 9's drbdadm derives --max-peers from the resource (1). */
int drbd_cmd_create_md(struct cmdseq *s, const char *res, enum drbd_version v);
int drbd_cmd_up(struct cmdseq *s, const char *res);
int drbd_cmd_down(struct cmdseq *s, const char *res);
int drbd_cmd_primary(struct cmdseq *s, const char *res);
int drbd_cmd_secondary(struct cmdseq *s, const char *res);
/* The one --force: a brand-new resource whose two disks are both
 * Inconsistent becomes the sync source.  Never after the initial sync. */
int drbd_cmd_primary_initial(struct cmdseq *s, const char *res, enum drbd_version v);
/* 9: `drbdsetup status RES --json` (drbd_status_json_parse).  8.4:
 * `cat /proc/drbd` (drbd_proc_parse), rather than drbdadm role, cstate
 * and dstate: one read gives role, connection and both disks of the same
 * moment, where three commands could straddle a state change; and it is
 * one exec instead of three. */
int drbd_cmd_state(struct cmdseq *s, const char *res, enum drbd_version v);

/* What a resource looks like now.  DRBD 8.4's words: role Primary |
 * Secondary | Unknown; disk UpToDate | Outdated | Inconsistent | Consistent
 * | Diskless | DUnknown | ...; conn Connected | SyncSource | SyncTarget |
 * WFConnection | StandAlone | ...  DRBD 9 is mapped to the same words
 * where it has them: a Connected connection whose replication is
 * "Established" is "Connected", a resync shows its replication state
 * (SyncSource ...); otherwise the connection state as DRBD 9 names it
 * (Connecting, StandAlone ...). */
struct drbd_state {
	char res[64];           /* "" from /proc/drbd, which has no names */
	uint32_t minor;
	char role[16], peer_role[16];
	char disk[24], peer_disk[24];
	char conn[24];
	/* StandAlone: DRBD drops to it by itself after a split brain (our
	 * after-sb policies say disconnect) or unrelated data, and only an
	 * admin `disconnect` otherwise, which xenmesh never does.  Either way
	 * a human must look: treated as a split brain, never resolved
	 * automatically. */
	bool split_brain;
};

/* DRBD 8.4's /proc/drbd, the line of `minor`.  0; -ENOENT when the minor
 * is not there or Unconfigured (resource not up); -EBADMSG. */
int drbd_proc_parse(const char *text, uint32_t minor, struct drbd_state *st,
		    char *why, size_t whylen);
/* DRBD 9's `drbdsetup status --json`, the resource `res` (volume 0, the
 * one peer).  0; -ENOENT when res is not listed (not up); -EBADMSG naming
 * what is wrong. */
int drbd_status_json_parse(const char *json, const char *res,
			   struct drbd_state *st, char *why, size_t whylen);

/* May this node promote?  0 when:
 *  - it is Primary already (nothing to do), or
 *  - its disk is UpToDate, and the peer is fenced in the cluster's agreed
 *    state (peer_fenced), or the peer's disk is Outdated, Inconsistent or
 *    Diskless, or the peer is connected (Connected) and Secondary with an
 *    UpToDate disk: the planned switch-over, where DRBD keeps replicating
 *    and itself refuses a second Primary.
 * Never when the peer is Primary, never after a split brain; this rule
 * never leads to --force.  Otherwise -EPERM with the reason in why;
 * -EINVAL for no state. */
int drbd_may_promote(const struct drbd_state *st, bool peer_fenced, char *why,
		     size_t whylen);

/* Split brain, only when a policy names the losing node (never by
 * itself):
 *   loser:    drbdadm disconnect RES (may fail: it is StandAlone already)
 *             drbdadm secondary RES
 *             drbdadm connect --discard-my-data RES
 *   survivor: drbdadm connect RES (may fail: already connecting)
 * The survivor is never disconnected: if it has meanwhile connected, its
 * connection is left alone. */
int drbd_cmd_resolve_split_brain(struct cmdseq *s, const char *res,
				 bool this_node_loses);

/* ---- the fence-peer handler ---------------------------------------------
 *
 * DRBD runs `xenmesh-fence-peer fence-peer` when a resource with
 * `fencing resource-and-stonith` loses its peer: on a Primary (IO is
 * frozen meanwhile) or on a Secondary asked to promote with its peer's
 * disk unknown.  What DRBD (8.4 and 9 alike, conn_try_outdate_peer() in
 * drbd_nl.c) does with the exit code:
 *   3  peer's disk is Inconsistent or worse     -> resume IO
 *   4  peer's disk was Outdated                 -> resume IO
 *   5  peer unreachable "assumed to be dead": when the local disk is
 *      UpToDate the peer is marked Outdated    -> resume IO
 *   6  peer is Primary: this node outdates ITS OWN disk
 *   7  peer was STONITHed (fenced)              -> resume IO
 *   anything else: "fence-peer helper broken"   -> IO stays frozen
 * So 5 does NOT keep IO frozen: it resumes a Primary whose peer may be
 * alive, writes it acknowledges would be lost when the cluster later
 * fences this node and promotes the peer.  The handler never claims more
 * than the cluster agreed: it answers 7 only for a peer the quorate
 * cluster has fenced, 6 for a peer the cluster has made the active SAN
 * node and sees online, and otherwise waits (polling the local agent)
 * and, at its deadline, exits DRBD_FENCE_KEEP_FROZEN (1, the code
 * crm-fence-peer also uses for "could not decide").  3 and 4 are not
 * used: the agreed state does not record peer disk states (yet).
 * Frozen IO resumes when the replication link comes back, or by an admin
 * (`drbdadm resume-io RES`) who has made sure the peer is down.
 */
enum drbd_fence_exit {
	DRBD_FENCE_KEEP_FROZEN = 1,
	DRBD_FENCE_PEER_INCONSISTENT = 3,
	DRBD_FENCE_PEER_OUTDATED = 4,
	DRBD_FENCE_PEER_UNREACHABLE = 5,
	DRBD_FENCE_PEER_PRIMARY = 6,
	DRBD_FENCE_PEER_FENCED = 7,
};
#define DRBD_FENCE_WAIT (-EAGAIN)       /* ask the cluster again later */

/* What the local agent said about the peer. */
struct drbd_fence_view {
	bool reachable;         /* the local xenmeshd answered */
	bool quorate;           /* ... from the quorate partition */
	/* the peer in the agreed node table: "online", "offline",
	 * "unclean", "fenced"; NULL: not in it */
	const char *peer_state;
	bool peer_active;       /* the agreed state names it the active SAN node */
};

/* DRBD_FENCE_PEER_FENCED, DRBD_FENCE_PEER_PRIMARY, or DRBD_FENCE_WAIT
 * (unreachable agent, no quorum, peer online but not active, offline,
 * unclean (being fenced), unknown). */
int drbd_fence_peer_decide(const struct drbd_fence_view *v);
/* The exit code once the handler's deadline has passed: WAIT becomes
 * DRBD_FENCE_KEEP_FROZEN. */
int drbd_fence_peer_final(int decided);

/* The peer's node name from the handler's environment (environ-style,
 * NULL-terminated): DRBD_PEER (8.4, drbdadm-84 sets it), else
 * DRBD_NODE_ID_<DRBD_PEER_NODE_ID> (9), else the one DRBD_NODE_ID_<n>
 * that is not DRBD_MY_NODE_ID (9, two nodes).  0; -ENOENT with why;
 * -ENAMETOOLONG. */
int drbd_handler_peer(const char *const *envp, char *name, size_t len,
		      char *why, size_t whylen);

#endif
