/* The dom0 iSCSI initiator driver, on open-iscsi's iscsiadm.
 *
 * Pure: it builds the iscsiadm command lines of a step into a cmdseq
 * (cmdseq.h), parses what iscsiadm prints and classifies its failures.
 * Nothing here runs a command or logs; callers run the sequence and log.
 *
 * How a dom0 reaches its disks:
 *  - It logs in under its own initiator name "<iqn_prefix>:<node>" (the
 *    SAN's ACLs list exactly that name) through a dedicated open-iscsi
 *    iface, ISCSI_IFACE, so /etc/iscsi/initiatorname.iscsi does not matter.
 *  - One target per VM, one LUN per disk (ISCSI_LUN_MIN..ISCSI_LUN_MAX);
 *    the portal is the SAN's floating address.
 *  - Node records are made by hand (no discovery: tgtd advertises the
 *    address it listens on, which need not be the floating one) with
 *    node.startup = manual, so nothing logs in at boot behind the
 *    cluster's back.
 *
 * Facts about iscsiadm 2.1.8 the sequences rely on (tests/data has the
 * captured outputs):
 *  - `-m iface -I NAME -o new` exits 0 also when the iface exists, and then
 *    RESETS it to defaults (iface.initiatorname back to <empty>); but while
 *    a session uses the iface it exits 15, "Could not create new interface"
 *    (found on a real dom0 under QEMU).  So the setup runs once, after a
 *    read (iscsi_cmd_iface_show) finds no iface of this host's name.
 *  - A node record copies the iface's settings when `-m node -o new`
 *    creates it, and iscsid logs in under the record's iface.initiatorname
 *    (falling back to initiatorname.iscsi when it is empty).  A node
 *    record's iface.initiatorname cannot be updated in node mode.
 *  So iscsi_cmd_iface_setup() must have completed, and its read-back been
 *  checked, before any iscsi_cmd_attach(), and must never run while an
 *  attach does: a record made in between would log in under the system's
 *  name, which the SAN refuses.
 *
 * Return values: 0 or a negative errno; functions that validate text
 * explain a refusal in why (one sentence, may be NULL).
 */
#ifndef XM_ISCSI_H
#define XM_ISCSI_H

#include <stddef.h>
#include <stdint.h>

#include "cmdseq.h"
#include "runner.h"

#define ISCSI_IFACE             "xenmesh"
#define ISCSI_PORT_DEFAULT      3260
#define ISCSI_NAME_MAX          223     /* bytes, RFC 3720 3.2.6.1 */
#define ISCSI_LUN_MIN           1       /* LUN 0 is the target's controller */
#define ISCSI_LUN_MAX           15
/* "/dev/disk/by-path/ip-" 21 + address 45 + ":65535" 6 + "-iscsi-" 7 +
 * name 223 + "-lun-" 5 + 10 digits + NUL = 318 */
#define ISCSI_BYPATH_MAX        320

/* ---- names ------------------------------------------------------------ */

/* An iSCSI name as this driver uses it on the wire and in the SAN's ACLs:
 * "iqn.yyyy-mm.<reversed domain>[:<anything>]" or "eui.<16 hex digits>",
 * at most ISCSI_NAME_MAX bytes, in the normalized form of RFC 3722:
 * lowercase, ASCII a-z 0-9 '-' '.' ':' only (no other Unicode).
 * 0 or -EINVAL. */
int iscsi_name_check(const char *name, char *why, size_t whylen);

/* "<prefix>:<part>": initiator names ("<iqn_prefix>:<node>") and target
 * names ("<prefix>:<vm>").  prefix must be a valid "iqn." name; part is
 * non-empty a-z 0-9 '-' '.' (no folding: "H1" is refused, not changed, so
 * every side that computes the name gets the same bytes).  0, -EINVAL, or
 * -ENOSPC (buf too small). */
int iscsi_name_join(char *buf, size_t len, const char *prefix, const char *part,
		    char *why, size_t whylen);

/* ---- portals ---------------------------------------------------------- */

struct iscsi_portal {
	char addr[64];          /* numeric, canonical (inet_ntop) form */
	uint16_t port;
};

/* "10.77.3.100", "10.77.3.100:3260", "[fd00::1]", "[fd00::1]:3260".
 * Host names are refused (the portal is the SAN's floating address); the
 * port defaults to ISCSI_PORT_DEFAULT.  0 or -EINVAL. */
int iscsi_portal_parse(const char *text, struct iscsi_portal *p, char *why,
		       size_t whylen);

/* "10.77.3.100:3260" or "[fd00::1]:3260", as iscsiadm's -p takes it.
 * 0, -EINVAL, -ENOSPC. */
int iscsi_portal_format(const struct iscsi_portal *p, char *buf, size_t len);

/* udev's link for LUN lun of target iqn reached through p:
 * /dev/disk/by-path/ip-ADDR:PORT-iscsi-IQN-lun-N (systemd's path_id: the
 * session's persistent address as the node record has it, IPv6 without
 * brackets).  0, -EINVAL (why says which input), -ENOSPC. */
int iscsi_bypath(char *buf, size_t len, const struct iscsi_portal *p,
		 const char *iqn, uint32_t lun, char *why, size_t whylen);

/* ---- command sequences ------------------------------------------------ */

/* Node record settings written at every attach.  Zero fields take the
 * defaults below. */
struct iscsi_timeouts {
	/* node.session.timeo.replacement_timeout: how long I/O waits for a
	 * lost session to come back (SAN failover) before it fails */
	unsigned replacement_s;
	/* node.conn[0].timeo.login_timeout and
	 * node.session.initial_login_retry_max: bound how long --login tries;
	 * the login step's runner timeout is derived from them */
	unsigned login_s;
	unsigned login_retries;
};
#define ISCSI_REPLACEMENT_S_DEFAULT     120     /* open-iscsi's default */
#define ISCSI_LOGIN_S_DEFAULT           10
#define ISCSI_LOGIN_RETRIES_DEFAULT     2
#define ISCSI_REPLACEMENT_S_MAX         3600
#define ISCSI_LOGIN_S_MAX               300
#define ISCSI_LOGIN_RETRIES_MAX         20

/* The builders validate first: on bad input nothing is appended, -EINVAL is
 * returned and s->error is set, so the sequence can never run half-built.
 * Otherwise they return s->error (0, or a sticky append error). */

/* iscsiadm -m iface -I xenmesh -o new
 * iscsiadm -m iface -I xenmesh -o update -n iface.initiatorname -v NAME
 * iscsiadm -m iface -I xenmesh                      (read-back)
 * The caller confirms the read-back (o->last->out) with
 * iscsi_record_value(..., "iface.initiatorname", ...) == NAME. */
int iscsi_cmd_iface_setup(struct cmdseq *s, const char *initiator);
/* iscsiadm -m iface -I xenmesh (may fail: no such iface): whether an
 * earlier setup stands (iface.initiatorname in its output).  Found under
 * QEMU: `-o new` of an iface a session uses exits 15 ("Could not create
 * new interface"), so the setup must not run again once it holds. */
int iscsi_cmd_iface_show(struct cmdseq *s);

/* iscsiadm -m node -o new -T IQN -p PORTAL -I xenmesh
 * iscsiadm -m node -T IQN -p PORTAL -I xenmesh -o update -n KEY -v VALUE
 *     for node.startup=manual and the three timeouts (t NULL: defaults)
 * iscsiadm -m node -T IQN -p PORTAL -I xenmesh --login
 *     (own runner timeout: login_s * (login_retries + 1) + 30 s)
 * iscsiadm -m session                               (read-back, may fail)
 * On -EIO, iscsi_login_classify(o->last) says what the failing step means
 * (only the login can give REFUSED or TRANSPORT; "already logged in" is
 * NONE).  On success, confirm with iscsi_sessions_result(o->last) and
 * iscsi_session_find(). */
int iscsi_cmd_attach(struct cmdseq *s, const char *iqn, const struct iscsi_portal *p,
		     const struct iscsi_timeouts *t);

/* iscsiadm -m node -T IQN -p PORTAL -I xenmesh --logout       (may fail)
 * iscsiadm -m node -o delete -T IQN -p PORTAL -I xenmesh      (may fail)
 * iscsiadm -m session                                         (may fail)
 * Both changes may fail (exit 21: no session, no record), so the outcome
 * is read back: the detach worked when iscsi_sessions_result(o->last)
 * succeeds and iscsi_session_find() no longer finds the session. */
int iscsi_cmd_detach(struct cmdseq *s, const char *iqn, const struct iscsi_portal *p);

/* iscsiadm -m session (may fail: exit 21 when there is none). */
int iscsi_cmd_sessions(struct cmdseq *s);

/* ---- output ----------------------------------------------------------- */

struct iscsi_session {
	uint32_t sid;
	char addr[256];         /* as printed: canonical if numeric */
	uint16_t port;
	int32_t tpgt;
	char iqn[ISCSI_NAME_MAX + 1];
};

/* `iscsiadm -m session` output, one line a session:
 *   tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0 (non-flash)
 *   tcp: [2] [fd00::1]:3260,1 iqn.2024-01.org.example:vm2 (non-flash)
 * (the "(non-flash)" suffix is optional, older versions lack it).  Empty
 * lines are skipped; any other line is an error naming its number.
 * *out is malloc'd (NULL when *n is 0): free() it.  0, -EINVAL, -ENOMEM. */
int iscsi_session_parse(const char *text, struct iscsi_session **out, size_t *n,
			char *why, size_t whylen);

/* The sessions from a finished `iscsiadm -m session`: its output parsed
 * when it exited 0, none when it exited 21 (ISCSI_ERR_NO_OBJS_FOUND: "No
 * active sessions."), else -EIO with why describing the failure;
 * -EOVERFLOW when the output was truncated. */
int iscsi_sessions_result(const struct runner_result *res, struct iscsi_session **out,
			  size_t *n, char *why, size_t whylen);

/* Index of the session of target iqn through portal p (addresses compared
 * numerically), or -ENOENT. */
int iscsi_session_find(const struct iscsi_session *s, size_t n, const char *iqn,
		       const struct iscsi_portal *p);

/* The value of "key = value" in an iscsiadm record printout (`-m iface -I
 * X`, `-m node -T .. -p ..`); "<empty>" reads as "".  0, -ENOENT, -EINVAL,
 * -ENOSPC. */
int iscsi_record_value(const char *text, const char *key, char *buf, size_t len);

/* ---- failures --------------------------------------------------------- */

enum iscsi_failure {
	ISCSI_FAIL_NONE,        /* ok, or already logged in */
	/* The target answered and rejected this initiator: the SAN no longer
	 * admits us (fenced).  NOTE: a target that does not exist answers the
	 * same way ("Target not found"), e.g. a SAN node that took over but has
	 * not set up the target yet: the caller decides with the cluster's
	 * view before treating it as a fence. */
	ISCSI_FAIL_REFUSED,
	ISCSI_FAIL_TRANSPORT,   /* unreachable, timed out, target busy: retry */
	ISCSI_FAIL_OTHER,       /* local trouble: iscsid down, no record, ... */
};

/* From iscsiadm's exit status (iscsiadm(8) EXIT STATUS, open-iscsi
 * include/iscsi_err.h) and, when that is the generic 1, the "initiator
 * reported error (N - ...)" line on its stderr.  NULL is OTHER. */
enum iscsi_failure iscsi_login_classify(const struct runner_result *res);

const char *iscsi_failure_name(enum iscsi_failure f);   /* "refused", ... */

#endif
