/* The iSCSI target driver for tgt (tgtadm of the Linux SCSI target
 * framework, verified against tgt 1.0.85).
 *
 * Pure: builds exact tgtadm command lines into a cmdseq (cmdseq.h), parses
 * what `tgtadm --op show --mode target` prints, and plans the commands that
 * turn what tgtd has into what we want.  Nothing here runs or logs.
 *
 * The plan is the storage fence's safety core: every revocation (ACL
 * unbind, session close, target delete) comes before any grant, and a
 * failing revocation stops the sequence (cmdseq_run) so no grant follows
 * it.  A fence is confirmed by reading `--op show` back
 * (tgt_view_mentions()), never by exit codes.
 *
 * What tgt 1.0.85 does, as seen on a real tgtd (tests/test_tgt.c):
 *  - a login is admitted when the initiator's address is in the target's
 *    address ACL (`bind -I`: an address, a netmask or ALL) OR its name is
 *    in the name ACL (`bind -Q`); both empty admit nobody.  The show lists
 *    the address entries, then the names, under one "ACL information:",
 *    without telling them apart; tgt accepts any string for either.  We
 *    take an entry for a name when it has the form of one (iqn., eui.,
 *    naa.), for an address otherwise (tgt_acl_is_address()).  Unbinding
 *    with the wrong option fails ("this access control rule does not
 *    exist", exit 22) and so stops the plan before any grant.
 *  - a refused login looks to libiscsi like "Login Failed. ... Status:
 *    Target not found(515)".
 *  - `--op delete --mode target --force` refuses ("this logical unit is
 *    still active", exit 22) while an initiator has commands in flight, so
 *    sessions are closed first (`--op delete --mode conn`), which ends the
 *    initiator's session at once.
 *  - the target show lists, per I_T nexus, only the connection the session
 *    was created with (tgt formats it once at login); further connections
 *    of a multi-connection session are only in `--op show --mode conn`.
 *    A nexus stays listed while any of them lives, so a fence read-back does
 *    not confirm until all are gone.
 */
#ifndef XM_TGT_H
#define XM_TGT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdseq.h"

#define TGT_IQN_MAX   224       /* an iSCSI name is at most 223 bytes */
#define TGT_PATH_MAX  256
#define TGT_LUN_MAX   255       /* highest LUN we create (LUN 0 is tgt's) */
#define TGT_PORT_MAX  65535     /* highest control port (-C) we pass */

struct tgt_conf {
	unsigned control_port;  /* 0: tgtd's default (no -C); else "-C N" */
};

struct tgt_session {
	uint32_t sid;                   /* "I_T nexus: N" */
	uint32_t cid;                   /* "Connection: N" */
	char initiator[TGT_IQN_MAX];
	char address[64];               /* "IP Address: ..." or "" */
};

/* LUN 0 (the controller tgt adds to every target) is not listed. */
struct tgt_lun {
	uint32_t lun;
	char path[TGT_PATH_MAX];        /* "" when tgt shows "None" */
};

struct tgt_target {
	uint32_t tid;
	char iqn[TGT_IQN_MAX];
	bool ready;                             /* "State: ready" */
	struct tgt_lun *luns;
	size_t n_luns;
	char (*acl)[TGT_IQN_MAX];               /* as listed: names and addresses */
	size_t n_acl;
	struct tgt_session *sessions;           /* one per connection */
	size_t n_sessions;
};

struct tgt_view {
	struct tgt_target *targets;
	size_t n;
};

/* Parse the output of tgt_cmd_show() into v (zeroed first; free with
 * tgt_view_free(), also after an error).  Empty text is no target.
 * 0; -EBADMSG with a sentence naming the line in why; -ENOMEM.
 * A listing cut short would hide ACL entries and sessions, so a missing
 * final newline or a target without its (last) "ACL information:" is
 * -EBADMSG; the caller must still refuse output the runner truncated
 * (runner_output.truncated: about 1 KiB per LUN, so raise output_max for
 * hundreds of LUNs). */
int tgt_show_parse(const char *text, struct tgt_view *v, char *why, size_t whylen);
void tgt_view_free(struct tgt_view *v);          /* NULL and zeroed ok */

/* The target named iqn (exact), or NULL. */
const struct tgt_target *tgt_view_find(const struct tgt_view *v, const char *iqn);

/* true while the storage fence of initiator is not yet confirmed: its name
 * is in some ACL or some session (compared without case, as iSCSI names
 * are), or some ACL holds an address entry (an address, netmask or ALL),
 * which may admit it by address whatever its name. */
bool tgt_view_mentions(const struct tgt_view *v, const char *initiator);
/* The same over the targets whose IQN starts with iqn_prefix only (NULL:
 * all), so that a foreign target's "ALL" does not hold our fence up. */
bool tgt_view_mentions_in(const struct tgt_view *v, const char *iqn_prefix,
			  const char *initiator);

/* An ACL entry tgt matches against the initiator's address ("ALL", an
 * address, a netmask): anything not shaped like an iSCSI name ("iqn.",
 * "eui.", "naa." in any case).  tgt itself keeps the two apart only by
 * the option they were bound with. */
bool tgt_acl_is_address(const char *entry);

/* A valid iSCSI name as we create them: "iqn.YYYY-MM.domain[:rest]" or
 * "eui." and 16 hex digits, lowercase, only [a-z0-9.:-], <= 223 bytes. */
bool tgt_iqn_valid(const char *name);

/* tgtadm [-C N] --lld iscsi --op show --mode target.  0 or -EINVAL (bad
 * port) or the cmdseq's error. */
int tgt_cmd_show(struct cmdseq *s, const struct tgt_conf *c);

struct tgt_want_target {
	const char *iqn;
	const struct tgt_lun *luns;
	size_t n_luns;
	const char *const *acl;         /* initiator NAMES only */
	size_t n_acl;
};

struct tgt_want {
	const char *iqn_prefix;         /* targets starting with it are ours */
	const struct tgt_want_target *targets;
	size_t n;
};

/* Append to s the tgtadm commands that turn have into want; nothing when
 * they already match (s->n unchanged means in sync).  Targets whose IQN
 * does not start with iqn_prefix are never touched.  Order:
 *  1. revocations, over all our targets: unbind unwanted ACL entries
 *     (-Q name, -I address/ALL); close sessions of initiators no longer
 *     wanted (tolerated: they may have ended meanwhile); targets no longer
 *     wanted: unbind all, close all sessions, delete --force;
 *  2. LUN changes on kept targets (delete extra or changed, add missing);
 *  3. new targets (lowest tid >= 1 unused in have) and their LUNs;
 *  4. grants: bind -Q of each wanted name missing, in want order.
 * Errors: -EINVAL (want or conf invalid), -EEXIST (two wanted targets
 * share an IQN: a target name collision), -ENOSPC (no target id left),
 * -ENOMEM, or s->error; why names the problem; s is left unchanged on any
 * error. */
int tgt_plan(const struct tgt_view *have, const struct tgt_want *want,
	     const struct tgt_conf *c, struct cmdseq *s, char *why, size_t whylen);

#endif
