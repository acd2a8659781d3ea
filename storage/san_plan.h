/* What a SAN node should export and how its mirror should stand, from the
 * replicated state.  Pure: no I/O; agent/san.c runs the commands.
 *
 * Targets: one per VM with ready volumes, "<prefix>:<vm>", one LUN per
 * volume.  Its ACL names the initiator "<prefix>:<host>" of the VM's
 * current host alone, while an instance may run there (starting, running,
 * stopping, migrating, recovering) and that host is neither storage-fenced,
 * fenced nor offline; otherwise nobody (the per-VM storage fence).
 *
 * Mirror (DRBD): each volume is a resource named like the volume, minor
 * and port from the replicated volume record, between the two SAN nodes
 * of drbd_nodes.  The active SAN node promotes only a resource drbd says
 * it may (UpToDate, peer fenced in the agreed state or Outdated), never
 * with --force but for the initial sync of a brand-new one; every other
 * node demotes.  A resource not Primary here is not exported.
 */
#ifndef XM_SAN_PLAN_H
#define XM_SAN_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdseq.h"
#include "drbd.h"
#include "state.h"
#include "tgt.h"

#define SAN_DRBD_PORT_BASE 7788

struct san_plan_conf {
	const char *iqn_prefix;
	bool file_backend;              /* file: VOLUME_DIR/NAME.img */
	const char *volume_dir;
	const char *vg;                 /* lvm: /dev/VG/NAME */
	bool drbd;                      /* exported device: /dev/drbdMINOR */
};

/* Backing store of vol on this node (the LV or file under DRBD too). */
int san_vol_backing(const struct san_plan_conf *c, const struct vol_rec *v,
		    char *buf, size_t len);
/* What the target daemon exports for vol. */
int san_vol_device(const struct san_plan_conf *c, const struct vol_rec *v,
		   char *buf, size_t len);

/* The host whose initiator VM's target admits, 0 none. */
uint32_t san_admitted_host(const struct state *st, const char *vm);
/* During a live migration also its destination (until the commit),
 * else 0. */
uint32_t san_admitted_dest(const struct state *st, const char *vm);

struct san_want {
	struct tgt_want want;
	struct tgt_want_target *targets;
	char (*iqns)[TGT_IQN_MAX];
	char (*acl_names)[TGT_IQN_MAX];
	const char **acl_ptrs;
	struct tgt_lun *luns;
};

/* The targets this node should export: none unless serve; with a mirror,
 * only the volumes exportable(vol) says are Primary here (NULL: all). */
int san_want_build(const struct state *st, const struct san_plan_conf *c,
		   bool serve, bool (*exportable)(void *data, const struct vol_rec *v),
		   void *data, struct san_want *w);
void san_want_free(struct san_want *w);

/* ---- the mirror ---------------------------------------------------------- */

enum san_mirror_role {
	SAN_MIRROR_PRIMARY,     /* the active SAN node, exporting */
	SAN_MIRROR_SECONDARY,   /* every other SAN node */
};

struct san_mirror_in {
	const char *res;                /* volume name */
	enum drbd_version version;
	bool up;                        /* the resource is configured (state known) */
	const struct drbd_state *st;    /* when up */
	bool fresh;                     /* its LV was made in this pass */
	bool peer_fenced;               /* the other SAN node is fenced (agreed) */
	enum san_mirror_role role;
};

/* Append what brings one resource to its role: create-md (fresh LVs only)
 * and up when it is not up; then primary (initial --force only for a
 * fresh resource whose two disks are Inconsistent), or secondary.  0 with
 * nothing appended when it stands as it should; -EPERM with why when it
 * may not be promoted (split brain, peer Primary, disk not UpToDate):
 * that volume is not exported. */
int san_mirror_plan(const struct san_mirror_in *in, struct cmdseq *s, char *why,
		    size_t whylen);

/* Is the resource Primary here with an UpToDate disk (exportable)? */
bool san_mirror_exportable_state(const struct drbd_state *st);

#endif
