/* What `agentctl vm create` needs to put a raw disk image (a template's
 * root.img) on the root volume: reading what sfdisk and blkid say about
 * the copied image, and the debugfs command files that look into its
 * file system and write the guest's files there.  Pure: no I/O, no logging.
 *
 * The image is copied with dd; its last partition is grown with sfdisk
 * to the end of the volume and its ext2/3/4 file system with e2fsck and
 * resize2fs; the files go in with debugfs.  The file system is named as
 * DEV?offset=BYTES (e2fsprogs' unix io manager), so no loop or partition
 * device, mount or device-mapper is needed.
 */
#ifndef XM_VMCREATE_RAW_H
#define XM_VMCREATE_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template.h"

/* The partition a raw image's file system is in. */
struct rawimg_part {
	char label[8];                  /* "dos", "gpt" */
	unsigned number;                /* sfdisk -N */
	uint64_t start_bytes, size_bytes;
};

/* `sfdisk --json DEV`: the partition that starts last (extended
 * containers aside), which is the one grown.  0; -ENOENT with why when
 * the table has no partition; -EOPNOTSUPP for a logical partition (it
 * would need its extended container grown first) or a label other than
 * dos and gpt; -EBADMSG when the text is not what sfdisk prints. */
int rawimg_table_parse(const char *json, struct rawimg_part *out, char *why,
		       size_t whylen);

/* sfdisk's complaint about a device without a partition table (exit 1):
 * the image is a bare file system. */
bool rawimg_no_table(const char *sfdisk_err);

/* `blkid -p -o export ...`: the TYPE= value into type ("" when blkid
 * found nothing). */
void rawimg_blkid_type(const char *out, char *type, size_t len);
/* ext2, ext3 or ext4: what e2fsck, resize2fs and debugfs handle. */
bool rawimg_type_is_ext(const char *type);

/* `debugfs -f` commands listing (ls -p) the root and every directory on
 * the way to each file, for rawimg_debugfs_cmds.  0 with *cmds
 * malloc'd; -EINVAL for a path debugfs cannot be given; -ENOMEM. */
int rawimg_look_cmds(const struct template_file *files, size_t count, char **cmds);

/* The debugfs command files for the guest's files, from what those
 * commands printed (listing): write_cmds makes each missing directory
 * (only those: debugfs's mkdir of an existing one leaves a stray inode),
 * removes the file if it is there (write refuses to overwrite; a symlink
 * is removed, not followed) and writes it; check_cmds dumps each back so
 * the caller can compare.  File N is written from LOCALDIR/fN and dumped
 * to LOCALDIR/cN.  0 with both malloc'd; -ENOTDIR when a directory on
 * the way is a symlink or not a directory, -EISDIR when a file's place
 * is a directory, -EINVAL when a name cannot be quoted for debugfs, all
 * with why; -ENOMEM. */
int rawimg_debugfs_cmds(const struct template_file *files, size_t count,
			const char *localdir, const char *listing, char **write_cmds,
			char **check_cmds, char *why, size_t whylen);

#endif
