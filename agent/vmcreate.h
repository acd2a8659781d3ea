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
 * From a raw image (spec.image; see vmcreate_raw.h), instead of the
 * tree's stage, files and mkfs (FS is ROOTDEV?offset=START of the
 * image's last partition, or ROOTDEV for an image without a table):
 *   space    also: the image fits in the root volume (before anything)
 *   stage    rm -rf ... STAGING; mkdir -m 0700 -- STAGING (for the files)
 *   copy     dd if=IMAGE of=ROOTDEV bs=4M conv=notrunc[,sparse],fsync
 *            (sparse only onto a file with nothing allocated: a device
 *            or a written file does not read as zeroes)
 *            sfdisk --json ROOTDEV (no table: a bare file system)
 *   probe    blkid -p -o export -O START ROOTDEV: ext2/3/4 or refused
 *   grow     sfdisk --no-reread --no-tell-kernel -N K ROOTDEV  < ", +"
 *            sfdisk --json ROOTDEV (the partition's new size)
 *   fsck     e2fsck -f -y FS (exit 0 or 1)
 *   resize   resize2fs FS SECTORSs; onto a regular file with a partition
 *            also truncate -s ROOT_BYTES ROOTDEV, e2fsck -f -n FS
 *            (resize2fs cuts a file to the fs size, ignoring the offset)
 *   look     debugfs -f STAGING/look.cmds FS (ls -p of the directories
 *            on the way: what to make, what to remove, what to refuse)
 *   write    debugfs -w -f STAGING/write.cmds FS (mkdir what is missing,
 *            rm what is there, write each file), debugfs -f
 *            STAGING/check.cmds FS (dump each back: compared with what
 *            was meant, as debugfs's exit status says little)
 *   mkswap   mkswap -L swap SWAPDEV
 *   unstage, define as above.
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
	const char *tree;               /* TEMPLATE/root; NULL with image */
	const char *image;              /* TEMPLATE/root.img (kind raw) */
	uint64_t image_bytes;           /* its size */
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
