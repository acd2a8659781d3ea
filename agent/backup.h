/* Online backup and restore of a VM's SAN volumes: the job, run on the
 * active SAN node (agent/ctl_backup.c starts it and provides the
 * cluster side through struct backup_env).
 *
 * Every command goes through the runner as a cmdseq (storage/snapshot.h
 * has the exact lines); the loop is never blocked by them.  Files of the
 * backup directory itself (control, vm.cfg, renames, removals) are
 * written directly: small and local.
 *
 * Backup of VM into DEST/VM/STAMP/ (see storage/backup_control.h):
 *   vm.cfg; then per volume, under DRBD the DRBD device's size (the data
 *   part of the LV), lvm: lvcreate -s, gzip -c of the snapshot, lvremove
 *   (also when the gzip failed); file: cp --reflink of the backing file
 *   to a temporary file, gzip -c of it, the temporary file removed; then
 *   the control file, sha256sum > SHA256SUMS.part, renamed to
 *   SHA256SUMS.  A failure removes what was written of the backup.
 *
 * Restore: `sha256sum -c` of the whole backup first, then SHA256SUMS
 * must cover exactly control, vm.cfg and every volume, the control file
 * must parse, the rewritten xl.cfg must parse and the target VM must not
 * run (env->target_check): any of these refuses with nothing touched.
 * Then per volume env->vol_make (remove if it exists, create, wait until
 * ready) and xenmesh-unpack of its data part onto it; then env->define.  A failure after the
 * check drops the volumes made so far (env->vol_drop).
 */
#ifndef XM_BACKUP_H
#define XM_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup_control.h"
#include "lvm.h"
#include "runner.h"

#define BACKUP_DIR_DEFAULT "/var/lib/xenmesh/backups"
#define BACKUP_MSG_MAX 512

/* The answer of a job: rc 0 or -errno, msg a sentence. */
typedef void backup_done_fn(void *data, int rc, const char *msg);
/* vol_make's answer: rc 0 with the path to write the image onto (the
 * device the volume is exported as); else -errno with why, which names
 * the volume. */
typedef void backup_vol_fn(void *cbdata, int rc, const char *path, const char *why);

struct backup_env {
	struct runner *runner;
	void *data;
	/* Restore: may the VM named vm be (re)defined with these volumes
	 * now?  0, or -errno with why (it runs ...).  Synchronous. */
	int (*target_check)(void *data, const char *vm, char *why, size_t len);
	/* Restore: make vm's volume disk of size bytes (removing one that
	 * exists first); answer through cb exactly once, later. */
	void (*vol_make)(void *data, const char *vm, const char *disk, uint64_t size,
			 backup_vol_fn *cb, void *cbdata);
	/* Restore rollback: remove vm's volume disk (no answer). */
	void (*vol_drop)(void *data, const char *vm, const char *disk);
	/* Restore: define the VM from cfg; answer through cb exactly once, later. */
	void (*define)(void *data, const char *cfg, backup_done_fn *cb, void *cbdata);
};

struct backup_source {
	char disk[32];
	uint64_t size_bytes;
	char path[4096];        /* file: the backing file; lvm: the LV's name */
	/* under DRBD: the DRBD device, whose size is the LV's data part
	 * (the control file records it); "" without DRBD */
	char data_dev[64];
};

struct backup_params {
	const char *dest;               /* DEST (absolute) */
	bool lvm;                       /* else file backend */
	struct lvm_conf lvm_conf;
	unsigned share_pct;             /* snapshot size, 0: default */
	uint64_t now_s;
	/* vm, node, state, ha_*: filled in by the caller; stamp, time,
	 * backend and the volumes by backup_start */
	struct backup_control ctl;
	const char *cfg_text;           /* the VM's xl.cfg */
	size_t n_src;
	struct backup_source src[BACKUP_VOLS_MAX];
};

struct restore_params {
	char dir[4096];                 /* the backup directory */
	const char *vm;                 /* the VM backed up (control must agree); copied */
	const char *as;                 /* NULL: restore as vm; copied */
	uint64_t root_size;             /* --disk: 0 keep */
	uint64_t memory_mb;             /* --memory: 0 keep */
	char unpack_prog[4096];         /* xenmesh-unpack's path; "": by name */
	/* parses the rewritten xl.cfg (agent/xlcfg.c in xenmeshd): 0 or
	 * -errno with why; NULL: not checked */
	int (*cfg_check)(const char *cfg, char *why, size_t len);
};

struct backup_job;

/* 0 and done later exactly once (unless abandoned); or -errno with why
 * and nothing started. */
int backup_start(const struct backup_env *env, const struct backup_params *p,
		 backup_done_fn *done, void *data, struct backup_job **out,
		 char *why, size_t whylen);
int restore_start(const struct backup_env *env, const struct restore_params *p,
		  backup_done_fn *done, void *data, struct backup_job **out,
		  char *why, size_t whylen);
/* done will not be called; what runs finishes and is cleaned up. */
void backup_job_abandon(struct backup_job *j);

/* The backup directory of vm to restore: DEST/VM/STAMP, or with stamp
 * NULL the newest complete one.  0, -ENOENT / -EINVAL with why. */
int backup_find(const char *dest, const char *vm, const char *stamp,
		char *dir, size_t len, char *why, size_t whylen);

/* One backup found under DEST. */
struct backup_info {
	char vm[64];
	char stamp[BACKUP_STAMP_LEN];
	uint64_t time_s;
	uint64_t bytes;                 /* sum of its files */
	char status[16];                /* complete | incomplete | damaged */
	char why[160];                  /* for damaged: what is wrong */
	char volumes[256];              /* "root:16777216 swap:..." */
};
/* Every backup under DEST (of vm only when not NULL), sorted by VM and
 * stamp: *out malloc'd.  0 (none: n 0), -errno with why. */
int backup_list(const char *dest, const char *vm, struct backup_info **out,
		size_t *n, char *why, size_t whylen);

#endif
