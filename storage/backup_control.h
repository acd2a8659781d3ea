/* A backup's control file, its SHA256SUMS and the xl.cfg rewrite of a
 * restore: pure text in and out, no I/O.
 *
 * A backup is one directory DEST/VM/STAMP/ holding
 *   control      this file: "key = value" lines, '#' comments
 *   vm.cfg       the VM's xl.cfg as defined (its ha_* keys included)
 *   DISK.img.gz  one per volume, gzip of the whole volume
 *   SHA256SUMS   sha256sum of all of the above, written last: a backup
 *                without it is incomplete
 *
 * control:
 *   format = 1
 *   vm = NAME
 *   stamp = 20261202T195501Z       (UTC, also the directory's name)
 *   time = 1796241301              (seconds since the epoch)
 *   node = SAN NODE that made it
 *   backend = file | lvm
 *   state = running | stopped ...  (the VM's state when it was taken)
 *   config = vm.cfg
 *   ha_priority = 0, ha_restart = always, ha_max_restarts = 3,
 *   ha_restart_window = 600, ha_hosts = h1 h2, ha_anti_affinity = g,
 *   ha_start_after = db1 db2       (the HA settings, for people: a
 *                                   restore defines vm.cfg, which has them)
 *   volume = DISK SIZE_BYTES DISK.img.gz [DATA_BYTES]   (one per volume;
 *            DATA_BYTES: the first bytes of the image that are the
 *            volume's data, when less than all of it: under DRBD the
 *            rest is DRBD's internal metadata, never restored)
 * Unknown keys, a missing key, a repeated one or a bad value: -EBADMSG
 * naming the line.
 */
#ifndef XM_BACKUP_CONTROL_H
#define XM_BACKUP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_FORMAT        1
#define BACKUP_VOLS_MAX      16
#define BACKUP_STAMP_LEN     17         /* "20261202T195501Z" + NUL */
#define BACKUP_TEXT_MAX      256
#define BACKUP_CONTROL_MAX   (16 * 1024)

struct backup_vol {
	char disk[32];
	uint64_t size_bytes;
	uint64_t data_bytes;            /* <= size_bytes; added: size_bytes */
	char file[48];                  /* DISK.img.gz */
};

struct backup_control {
	char vm[64];
	char stamp[BACKUP_STAMP_LEN];
	uint64_t time_s;
	char node[64];
	char backend[8];
	char state[32];
	char ha_priority[16], ha_restart[16], ha_max_restarts[16],
	     ha_restart_window[16];
	char ha_hosts[BACKUP_TEXT_MAX], ha_anti_affinity[BACKUP_TEXT_MAX],
	     ha_start_after[BACKUP_TEXT_MAX];
	size_t n_vols;
	struct backup_vol vols[BACKUP_VOLS_MAX];
};

/* A stamp for a UTC time: "YYYYMMDDTHHMMSSZ". */
void backup_stamp(uint64_t time_s, char out[BACKUP_STAMP_LEN]);
/* Does text look like one (digits where they belong)? */
bool backup_stamp_ok(const char *text);

/* Append a volume (its data_bytes = size_bytes): 0, -EINVAL (bad disk
 * name, size 0), -ENOSPC (full). */
int backup_control_add_vol(struct backup_control *c, const char *disk,
			   uint64_t size_bytes);

/* Into buf: 0, or -ENOSPC. */
int backup_control_write(const struct backup_control *c, char *buf, size_t len);
/* text -> *c: 0, or -EBADMSG with why naming the line and the problem. */
int backup_control_parse(const char *text, struct backup_control *c,
			 char *why, size_t whylen);

/* SHA256SUMS text: does it list exactly every file it must (control,
 * vm.cfg and each volume's file of c), each once, with a 64-hex sum?
 * 0, or -EBADMSG with why naming the file missing, repeated or extra. */
int backup_sums_check(const char *sums, const struct backup_control *c,
		      char *why, size_t whylen);
/* The files `sha256sum -c` output says are bad ("NAME: FAILED",
 * "NAME: FAILED open or read"), comma-separated into buf ("" none). */
void backup_sums_failed(const char *output, char *buf, size_t len);

/* xl.cfg text for a restore: name = "new_name" (when not NULL),
 * memory = memory_mb (when not 0; maxmem raised to it when lower), every
 * mac= dropped from the vif list (drop_macs: a copy must not take the
 * original's MACs; it gets new ones when defined, see ha/vmmac.h).
 * *out malloc'd.  0, -EINVAL (no name line to replace) with why, -ENOMEM. */
int backup_cfg_rewrite(const char *cfg, const char *new_name, uint64_t memory_mb,
		       bool drop_macs, char **out, char *why, size_t whylen);

#endif
