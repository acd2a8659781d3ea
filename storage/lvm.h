/* The LVM driver: one logical volume per SAN volume, in one volume group.
 *
 * Pure: commands are appended to a cmdseq (storage/cmdseq.h) and run by
 * the caller through the runner; what lvs/vgs print is parsed here; a
 * failed command's stderr is turned into one sentence and a stable errno.
 * Nothing here logs (the deciding caller does).
 *
 * Command lines (lvm2 2.03, Debian 12):
 *   lvcreate [--driverloaded n] --yes -Wy -Zy -L <bytes>b -n LV VG
 *            (no_devmapper: -an -Zn instead of -Wy -Zy)
 *   lvremove [--driverloaded n] -f VG/LV
 *   lvs [--driverloaded n] --reportformat json
 *       -o lv_name,vg_name,lv_size,lv_attr,lv_path,lv_active --units b VG
 *   vgs [--driverloaded n] --reportformat json --units b VG
 *
 * -Wy -Zy: a new LV may sit on extents an old LV used; wiping signatures
 * and zeroing its start keeps a stale file system or DRBD signature from
 * being taken for the new volume's.  --yes answers the wipe question
 * (the runner gives no terminal).
 *
 * no_devmapper (the test machines; see shared/captured/README.md): lvm's
 * metadata commands work without device-mapper with `--driverloaded n`,
 * but an LV cannot be activated, zeroed or wiped, hence -an -Zn.
 */
#ifndef XM_LVM_H
#define XM_LVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdseq.h"

#define LVM_NAME_MAX 127        /* lvm2's NAME_LEN (128) less the NUL */

struct lvm_conf {
	const char *vg;
	bool no_devmapper;
};

struct lvm_lv {
	char name[128];
	char vg[128];
	uint64_t size_bytes;
	char attr[16];
	char path[256];
	bool active;
};

struct lvm_vg {
	char name[128];
	uint64_t size_bytes, free_bytes;
	uint32_t lv_count;
};

/* Commands.  0, or -EINVAL (bad name, size 0 or not a multiple of 512,
 * no VG) with nothing appended, or the cmdseq's sticky append error. */
int lvm_cmd_create(struct cmdseq *s, const struct lvm_conf *c, const char *lv,
		   uint64_t size_bytes);
int lvm_cmd_remove(struct cmdseq *s, const struct lvm_conf *c, const char *lv);
int lvm_cmd_lvs(struct cmdseq *s, const struct lvm_conf *c);
int lvm_cmd_vgs(struct cmdseq *s, const struct lvm_conf *c);

/* `lvs --reportformat json` output -> *out (caller frees; NULL when none)
 * and *n.  0; -EBADMSG with why naming what is wrong; -ENOMEM. */
int lvm_lvs_parse(const char *json, struct lvm_lv **out, size_t *n,
		  char *why, size_t whylen);
/* `vgs --reportformat json` output of one VG -> *out.  0; -ENOENT when
 * the report is empty (vgs of a missing VG still prints an empty report,
 * and exits 5); -EBADMSG. */
int lvm_vgs_parse(const char *json, struct lvm_vg *out, char *why, size_t whylen);

/* lvm2's rules for an LV name (lib/misc/lvm-string.c): 1..127 of
 * [A-Za-z0-9+_.-], not starting with '-', not "." or "..", no reserved
 * prefix (snapshot, pvmove) or internal-LV suffix (_mlog, _rimage ...).
 * 0 or -EINVAL with why. */
int lvm_name_check(const char *lv, char *why, size_t whylen);

/* A failed lvm command's stderr -> one sentence in why, and:
 * -ENOENT  volume group or logical volume not found
 * -ENOSPC  insufficient free space in the VG
 * -EEXIST  the LV already exists
 * -EBUSY   the LV is in use (open)
 * -EIO     anything else (why quotes lvm's first error line)
 * The "WARNING: ..." lines lvm adds (e.g. activation disabled) are
 * skipped. */
int lvm_error_classify(const char *stderr_text, char *why, size_t whylen);

/* A size as an admin types it (`agentctl volume create VM DISK SIZE`):
 * a whole number of bytes, or with a binary unit K, M, G or T (1024^n;
 * either case, optionally followed by "iB" or "B": 64M = 64MiB = 64MB),
 * or a bare "B".  Not 0, no sign, no fraction, a multiple of 512 (the
 * sector size LVM and DRBD work in).  0 or -EINVAL / -ERANGE with a
 * sentence in why. */
int size_parse(const char *text, uint64_t *bytes, char *why, size_t whylen);

#endif
