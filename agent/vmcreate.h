/* The job of `agentctl vm create` on the active SAN node: a VM from a
 * template (storage/template.h), one step after the other, every step
 * that made something recorded so that a failure undoes them in reverse
 * order.
 *
 *   space    lvm: `vgs` says the volume group has room for both volumes
 *            (the file backend's room is checked before the job)
 *   root     volume NAME-root made on the SAN (the replicated volume path)
 *   swap     volume NAME-swap
 *   stage    rm -rf --one-file-system -- STAGING; cp -a -- TREE STAGING
 *   files    the hostname, hosts, resolver and network files of the OS
 *            family written into STAGING (never through a symlink of the
 *            tree: a template cannot make us write outside it)
 *   mkfs     mke2fs -q -F -t ext4 -d STAGING -L root ROOTDEV
 *            mkswap -L swap SWAPDEV
 *   unstage  rm -rf --one-file-system -- STAGING (a failure only logged)
 *   define   the xl.cfg defined through the normal define path
 * Undo: rm -rf STAGING, then remove NAME-swap, then NAME-root.
 *
 * Commands run through the runner (never blocking the loop); the cluster
 * side (volumes, define) goes through the env ops, which call
 * vmcreate_volume_done() / vmcreate_step_done() later, from the loop.
 * Files here are written directly: a handful of small ones.
 */
#ifndef XM_VMCREATE_H
#define XM_VMCREATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner.h"
#include "template.h"

#define VMCREATE_MSG_MAX      512
#define VMCREATE_COPY_MS      (30 * 60 * 1000)
#define VMCREATE_MKFS_MS      (30 * 60 * 1000)
#define VMCREATE_SHORT_MS     (5 * 60 * 1000)

struct vmcreate;

struct vmcreate_env_ops {
	/* Volume VM-DISK of bytes made on the SAN: later
	 * vmcreate_volume_done().  0, or -errno (then never called). */
	int (*volume_create)(void *env, struct vmcreate *job, const char *vm,
			     const char *disk, uint64_t bytes);
	/* Volume vol removed (or forgotten when it failed): later
	 * vmcreate_step_done() once it is gone. */
	int (*volume_remove)(void *env, struct vmcreate *job, const char *vol);
	/* The block device (or backing file) of a ready volume, here. */
	int (*volume_device)(void *env, const char *vol, char *buf, size_t len);
	/* Define the VM from config: later vmcreate_step_done(). */
	int (*define)(void *env, struct vmcreate *job, const char *name,
		      const char *config);
};

struct vmcreate_spec {
	const char *name;
	enum template_os os;
	const char *tree;               /* TEMPLATE/root */
	const char *staging;            /* made and removed by the job */
	struct template_net net;
	uint64_t root_bytes, swap_bytes;
	const char *config;             /* the xl.cfg to define */
	const char *vg;                 /* lvm: checked for room; NULL: file */
	bool no_devmapper;
};

/* The end: rc 0 (msg says what was made) or the failure, with what was
 * undone (msg names anything left behind). */
typedef void (*vmcreate_done_fn)(void *data, int rc, const char *msg);

/* Starts the job (the spec is copied; r stays the caller's and must
 * outlive the job).  0, then done exactly once (from inside this call
 * when the first step fails at once, else later from the loop); or -errno
 * and nothing was done. */
int vmcreate_start(const struct vmcreate_spec *spec, struct runner *r,
		   const struct vmcreate_env_ops *ops, void *env,
		   vmcreate_done_fn done, void *data);

/* From the env ops.  recorded: the volume's record exists (made, or
 * failed on the SAN), so undoing must remove it. */
void vmcreate_volume_done(struct vmcreate *job, int rc, bool recorded,
			  const char *why);
void vmcreate_step_done(struct vmcreate *job, int rc, const char *why);

/* The step running now ("root", "mkfs", "undo swap"...), for logs. */
const char *vmcreate_step_name(const struct vmcreate *job);

#endif
