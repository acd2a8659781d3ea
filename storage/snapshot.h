/* The commands of an online backup and of a restore: pure command
 * sequences (storage/cmdseq.h) for the lvm and the file backend, run by
 * agent/backup.c through the runner.  Nothing here runs or logs.
 *
 * lvm (lvm2 2.03), per volume, as three sequences so that the snapshot is
 * removed also when the read fails:
 *   lvcreate [--driverloaded n] --yes -s -L <bytes>b -n LV-bk-STAMP VG/LV
 *   gzip -1 -c -- /dev/VG/LV-bk-STAMP > DIR/DISK.img.gz
 *   lvremove [--driverloaded n] -f VG/LV-bk-STAMP
 * A snapshot only needs room for what the guest changes while it is read:
 * a share of the origin (default 20%), at least 1 GiB, never more than
 * the origin (a full-size snapshot cannot overflow).
 *
 * file (the rig: a backing file per volume, no device-mapper):
 *   cp --reflink=auto --sparse=always -- VOLUME_DIR/LV.img DIR/.DISK.img.tmp
 *   gzip -1 -c -- DIR/.DISK.img.tmp > DIR/DISK.img.gz
 * A copy of a file a running guest writes is not a point-in-time image
 * (no snapshot): fine for a guest that only appends, see agentctl(8).
 *
 * Both: the checksums, written last, then checked first by a restore:
 *   sha256sum -- control vm.cfg DISK.img.gz... > DIR/SHA256SUMS.part (in DIR)
 *   sha256sum -c --strict -- SHA256SUMS (in DIR)
 *   xenmesh-unpack --limit DATA -- DIR/DISK.img.gz TARGET
 *                  (TARGET: the device the volume is exported as, the DRBD
 *                  device under DRBD; DATA: the bytes of the image that are
 *                  the volume's data, see storage/unpack.c)
 * Under DRBD (internal metadata at the end of the LV) the backup also asks
 * the DRBD device's size first, the volume's data part:
 *   blockdev --getsize64 /dev/drbdN
 */
#ifndef XM_SNAPSHOT_H
#define XM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "cmdseq.h"
#include "lvm.h"

#define SNAPSHOT_SHARE_DEFAULT  20              /* percent of the origin */
#define SNAPSHOT_MIN_BYTES      (1ULL << 30)
/* gzip and gunzip of a whole volume: hours for a large one. */
#define SNAPSHOT_COPY_TIMEOUT_MS (12 * 3600 * 1000)

/* The snapshot's size for an origin of origin bytes: share_pct (1..100)
 * of it rounded up to 512, at least SNAPSHOT_MIN_BYTES, at most origin. */
uint64_t snapshot_size(uint64_t origin, unsigned share_pct);

/* "LV-bk-STAMP" into buf: 0, or -EINVAL (not a valid LV name, why says so). */
int snapshot_name(char *buf, size_t len, const char *lv, const char *stamp,
		  char *why, size_t whylen);

/* Commands: 0, or -EINVAL (a bad name, size or path) with nothing
 * appended, or the cmdseq's sticky error. */
int snapshot_cmd_lvm_create(struct cmdseq *s, const struct lvm_conf *c,
			    const char *lv, const char *snap, uint64_t bytes);
int snapshot_cmd_lvm_remove(struct cmdseq *s, const struct lvm_conf *c,
			    const char *snap);
/* /dev/VG/LV: 0 or -ENAMETOOLONG. */
int snapshot_lvm_path(char *buf, size_t len, const struct lvm_conf *c, const char *lv);
int snapshot_cmd_file_copy(struct cmdseq *s, const char *src, const char *tmp);
int snapshot_cmd_compress(struct cmdseq *s, const char *src, const char *out);
/* names: n file names relative to dir (no '/'). */
int snapshot_cmd_sums(struct cmdseq *s, const char *dir, const char *const *names,
		      size_t n, const char *out);
int snapshot_cmd_verify(struct cmdseq *s, const char *dir);
/* prog: xenmesh-unpack, an absolute path or a bare name on the runner's
 * PATH; limit > 0. */
int snapshot_cmd_unpack(struct cmdseq *s, const char *prog, const char *gz,
			const char *target, uint64_t limit);
int snapshot_cmd_devsize(struct cmdseq *s, const char *dev);
/* blockdev --getsize64's output: 0 and *bytes (> 0), or -EBADMSG. */
int snapshot_devsize_parse(const char *out, uint64_t *bytes);

#endif
