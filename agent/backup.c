/* Online backup and restore of a VM's volumes; see backup.h. */
#define LOG_SUBSYS "backup"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "backup_int.h"
#include "cmdseq.h"
#include "log.h"
#include "snapshot.h"
#include "xm_error.h"

enum phase {
	/* backup: per volume SIZE (under DRBD: blockdev --getsize64 of the
	 * DRBD device), COPY (lvm: lvcreate -s; file: cp --reflink), GZIP,
	 * CLEAN (lvm: lvremove; file: unlink the copy), NEXT; then SUMS
	 * (the control file, sha256sum), FINISH */
	B_SIZE, B_COPY, B_GZIP, B_CLEAN, B_NEXT, B_SUMS, B_FINISH,
	/* restore: CHECK (after sha256sum -c, which restore_start runs),
	 * per volume MAKE (env), UNPACK (xenmesh-unpack), NEXT; DEFINE (env),
	 * DEFINED, ROLLBACK, END */
	R_CHECK, R_MAKE, R_UNPACK, R_NEXT, R_DEFINE, R_DEFINED,
	R_ROLLBACK, R_END,
};

struct backup_job {
	struct backup_env env;
	bool abandoned, busy;
	enum phase phase;
	size_t vi;                      /* the volume at hand */
	struct cmdseq_op *op;
	backup_done_fn *done;
	void *data;
	char dir[PATH_MAX];
	int rc;                         /* the first failure */
	char msg[BACKUP_MSG_MAX];
	/* backup */
	struct backup_params bp;
	bool snap_made, sums_started;
	char snap[LVM_NAME_MAX + 1], tmp[PATH_MAX];
	/* restore */
	struct restore_params rp;
	char vm[64], as[64];            /* rp.vm, rp.as point here */
	struct backup_control ctl;
	char *cfg;                      /* the rewritten xl.cfg */
	const char *target;             /* the VM restored: rp.as or rp.vm */
	size_t n_touched;               /* volumes asked for (rolled back on failure) */
	char path[PATH_MAX];            /* where volume vi is unpacked */
};

static void go(struct backup_job *j);

static void
job_free(struct backup_job *j)
{
	free(j->cfg);
	free(j);
}

/* A job of either kind, answering done(data, ...) once it ends. */
static struct backup_job *
job_new(const struct backup_env *env, backup_done_fn *done, void *data)
{
	struct backup_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->env = *env;
	j->done = done;
	j->data = data;
	return j;
}

static void
job_fail(struct backup_job *j, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
job_fail(struct backup_job *j, int rc, const char *fmt, ...)
{
	va_list ap;

	if (j->rc != 0)
		return;         /* the first failure is the one reported */
	j->rc = rc < 0 ? rc : -EIO;
	va_start(ap, fmt);
	vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	va_end(ap);
}

/* ---- running a sequence ------------------------------------------------ */

/* Under DRBD: the DRBD device's size, the data part of the volume the
 * snapshot holds (DRBD's internal metadata follows it). */
static void
data_size_got(struct backup_job *j, const char *out)
{
	struct backup_vol *bv = &j->bp.ctl.vols[j->vi];
	uint64_t bytes = 0;

	if (snapshot_devsize_parse(out, &bytes) < 0 || bytes > bv->size_bytes) {
		job_fail(j, -EBADMSG, "volume %s: %s says its size is '%.40s', not "
			 "up to %" PRIu64 " bytes", bv->disk, j->bp.src[j->vi].data_dev,
			 out != NULL ? out : "", bv->size_bytes);
		return;
	}
	bv->data_bytes = bytes;
}

static void
seq_done(void *data, const struct cmdseq_outcome *o)
{
	struct backup_job *j = data;

	j->busy = false;
	j->op = NULL;
	if (o->rc == 0 && j->phase == B_COPY)
		data_size_got(j, o->last != NULL ? o->last->out.data : NULL);
	if (o->rc < 0) {
		char failed[200] = "";

		if (j->phase == R_CHECK && o->last != NULL)
			backup_sums_failed(o->last->out.data, failed, sizeof(failed));
		if (failed[0])
			job_fail(j, -EBADMSG, "backup %.300s is damaged: %s does not match "
				 "its checksum; nothing was changed", j->dir, failed);
		else if (j->phase == R_CHECK)
			job_fail(j, -EBADMSG, "backup %s does not check out, nothing "
				 "was changed: %s", j->dir, o->message);
		else
			job_fail(j, o->rc, "%s", o->message);
	}
	go(j);
}

/* Run seq (taken over): true when it runs, else j->rc is set. */
static bool
seq_run(struct backup_job *j, struct cmdseq *seq, const char *what)
{
	int rc = seq->error;

	if (rc == 0)
		rc = cmdseq_run(j->env.runner, seq, seq_done, j, &j->op);
	if (rc < 0) {
		cmdseq_free(seq);
		job_fail(j, rc, "%s could not be started: %s", what, xm_strerror(rc));
		return false;
	}
	j->busy = true;
	return true;
}

static void
job_end(struct backup_job *j)
{
	if (!j->abandoned)
		j->done(j->data, j->rc, j->msg);
	job_free(j);
}

void
backup_job_abandon(struct backup_job *j)
{
	if (j == NULL)
		return;
	j->abandoned = true;
	job_fail(j, -ECANCELED, "abandoned");
	if (j->op != NULL) {
		/* the runner is closing: its answer would never come */
		cmdseq_op_abandon(j->op);
		j->op = NULL;
		j->busy = false;
	}
	if (!j->busy)
		go(j);
	/* else an env callback is due: it finishes the job */
}

/* ---- backup ------------------------------------------------------------- */

static int
file_write(const char *path, const char *text, char *why, size_t whylen)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot create %.200s: %s", path, strerror(-rc));
		return rc;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0)
		snprintf(why, whylen, "cannot write %.200s: %s", path, strerror(-rc));
	return rc;
}

void
backup_dir_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* What a failed backup leaves: nothing of its own. */
static void
backup_cleanup(struct backup_job *j)
{
	char p[PATH_MAX + 64];
	static const char *const fixed[] = { "control", "vm.cfg", "SHA256SUMS.part",
					     "SHA256SUMS" };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		backup_dir_path(p, sizeof(p), j->dir, fixed[i]);
		(void)unlink(p);
	}
	for (size_t i = 0; i < j->bp.ctl.n_vols; i++) {
		backup_dir_path(p, sizeof(p), j->dir, j->bp.ctl.vols[i].file);
		(void)unlink(p);
	}
	if (j->tmp[0])
		(void)unlink(j->tmp);
	if (rmdir(j->dir) < 0 && errno != ENOENT)
		log_warn("cannot remove the failed backup %s: %s", j->dir, strerror(errno));
}


/* Start the step of volume vi for the current phase; false: it did not
 * start (j->rc set, or nothing to run). */
static bool
backup_volume_step(struct backup_job *j, enum phase what)
{
	const struct backup_source *src = &j->bp.src[j->vi];
	const struct backup_vol *bv = &j->bp.ctl.vols[j->vi];
	char out[PATH_MAX + 64], dev[PATH_MAX], why[128];
	struct cmdseq seq;

	cmdseq_init(&seq);
	switch (what) {
	case B_SIZE:
		if (src->data_dev[0] == '\0')
			return false;
		snapshot_cmd_devsize(&seq, src->data_dev);
		return seq_run(j, &seq, "blockdev");
	case B_COPY:
		if (j->bp.lvm) {
			if (snapshot_name(j->snap, sizeof(j->snap), src->path,
					  j->bp.ctl.stamp, why, sizeof(why)) < 0) {
				job_fail(j, -EINVAL, "volume %s: %s", src->path, why);
				return false;
			}
			snapshot_cmd_lvm_create(&seq, &j->bp.lvm_conf, src->path, j->snap,
						snapshot_size(src->size_bytes, j->bp.share_pct));
			log_info("snapshot %s/%s of %s", j->bp.lvm_conf.vg, j->snap, src->path);
		} else {
			if ((size_t)snprintf(j->tmp, sizeof(j->tmp), "%.*s/.%s.img.tmp",
					     PATH_MAX - 64, j->dir, bv->disk) >= sizeof(j->tmp)) {
				job_fail(j, -ENAMETOOLONG, "backup path too long");
				return false;
			}
			snapshot_cmd_file_copy(&seq, src->path, j->tmp);
		}
		return seq_run(j, &seq, "the snapshot");
	case B_GZIP:
		backup_dir_path(out, sizeof(out), j->dir, bv->file);
		if (j->bp.lvm)
			(void)snapshot_lvm_path(dev, sizeof(dev), &j->bp.lvm_conf, j->snap);
		else
			snprintf(dev, sizeof(dev), "%s", j->tmp);
		snapshot_cmd_compress(&seq, dev, out);
		return seq_run(j, &seq, "gzip");
	case B_CLEAN:
		if (!j->bp.lvm) {
			if (j->tmp[0] && unlink(j->tmp) < 0 && errno != ENOENT)
				log_warn("cannot remove %s: %s", j->tmp, strerror(errno));
			j->tmp[0] = '\0';
			return false;
		}
		if (!j->snap_made)
			return false;
		j->snap_made = false;
		/* also after a failed read: a snapshot left behind fills up
		 * and slows every write of the origin */
		snapshot_cmd_lvm_remove(&seq, &j->bp.lvm_conf, j->snap);
		if (seq_run(j, &seq, "lvremove of the snapshot"))
			return true;
		log_err("snapshot %s/%s is left: remove it with lvremove",
			j->bp.lvm_conf.vg, j->snap);
		return false;
	default:
		return false;
	}
}

/* The control file, once every volume's data size is known: written
 * just before the checksums, which cover it. */
static int
control_write(struct backup_job *j)
{
	char path[PATH_MAX + 64], text[BACKUP_CONTROL_MAX], why[BACKUP_MSG_MAX - 64];
	int rc = backup_control_write(&j->bp.ctl, text, sizeof(text));

	if (rc < 0) {
		job_fail(j, rc, "the control file does not fit");
		return rc;
	}
	backup_dir_path(path, sizeof(path), j->dir, "control");
	rc = file_write(path, text, why, sizeof(why));
	if (rc < 0)
		job_fail(j, rc, "%s", why);
	return rc;
}

static bool
backup_sums(struct backup_job *j)
{
	const char *names[BACKUP_VOLS_MAX + 2];
	char out[PATH_MAX + 64];
	struct cmdseq seq;
	size_t n = 0;

	names[n++] = "control";
	names[n++] = "vm.cfg";
	for (size_t i = 0; i < j->bp.ctl.n_vols; i++)
		names[n++] = j->bp.ctl.vols[i].file;
	backup_dir_path(out, sizeof(out), j->dir, "SHA256SUMS.part");
	cmdseq_init(&seq);
	snapshot_cmd_sums(&seq, j->dir, names, n, out);
	return seq_run(j, &seq, "sha256sum");
}

static void
backup_finish(struct backup_job *j)
{
	char part[PATH_MAX + 64], sums[PATH_MAX + 64];
	uint64_t total = 0;
	struct stat sb;

	backup_dir_path(part, sizeof(part), j->dir, "SHA256SUMS.part");
	backup_dir_path(sums, sizeof(sums), j->dir, "SHA256SUMS");
	/* the rename is what makes the backup complete */
	if (j->rc == 0 && rename(part, sums) < 0)
		job_fail(j, -errno, "cannot rename %s: %s", part, strerror(errno));
	if (j->rc < 0) {
		if (!j->abandoned)
			log_err("backup of VM %s failed: %s", j->bp.ctl.vm, j->msg);
		backup_cleanup(j);
		return;
	}
	for (size_t i = 0; i < j->bp.ctl.n_vols; i++) {
		backup_dir_path(part, sizeof(part), j->dir, j->bp.ctl.vols[i].file);
		if (stat(part, &sb) == 0)
			total += (uint64_t)sb.st_size;
	}
	snprintf(j->msg, sizeof(j->msg), "backup of VM %s in %.300s (%zu volume%s, %" PRIu64
		 " bytes compressed)", j->bp.ctl.vm, j->dir, j->bp.ctl.n_vols,
		 j->bp.ctl.n_vols == 1 ? "" : "s", total);
	log_notice("%s", j->msg);
}

static void
backup_go(struct backup_job *j)
{
	for (;;) {
		switch (j->phase) {
		case B_SIZE:
			if (j->rc < 0 || j->vi >= j->bp.n_src) {
				j->phase = B_SUMS;
				continue;
			}
			j->phase = B_COPY;
			if (backup_volume_step(j, B_SIZE))
				return;
			continue;
		case B_COPY:            /* the size is known (or not needed) */
			if (j->rc < 0) {
				j->phase = B_SUMS;
				continue;
			}
			j->phase = B_GZIP;
			if (backup_volume_step(j, B_COPY))
				return;
			continue;
		case B_GZIP:            /* the copy or snapshot ended */
			j->phase = B_CLEAN;
			if (j->rc < 0)
				continue;       /* no snapshot made */
			j->snap_made = j->bp.lvm;
			if (backup_volume_step(j, B_GZIP))
				return;
			continue;
		case B_CLEAN:           /* the gzip ended (or never ran) */
			j->phase = B_NEXT;
			if (backup_volume_step(j, B_CLEAN))
				return;
			continue;
		case B_NEXT:
			j->vi++;
			j->phase = B_SIZE;
			continue;
		case B_SUMS:
			j->phase = B_FINISH;
			if (j->rc == 0 && control_write(j) == 0 && backup_sums(j))
				return;
			continue;
		case B_FINISH:
		default:
			backup_finish(j);
			job_end(j);
			return;
		}
	}
}

static int
mkdir_one(const char *path, bool exist_ok, char *why, size_t whylen)
{
	if (mkdir(path, 0700) == 0 || (exist_ok && errno == EEXIST))
		return 0;
	snprintf(why, whylen, errno == EEXIST ? "%.200s exists already (a backup "
		 "of the same second? try again)" : "cannot create %.200s: %s", path,
		 strerror(errno));
	return -errno;
}

int
backup_start(const struct backup_env *env, const struct backup_params *p,
	     backup_done_fn *done, void *data, struct backup_job **out,
	     char *why, size_t whylen)
{
	char path[PATH_MAX], text[BACKUP_CONTROL_MAX];
	struct backup_job *j;
	int rc;

	*out = NULL;
	if (p->dest == NULL || p->dest[0] != '/') {
		snprintf(why, whylen, "the backup directory must be an absolute path");
		return -EINVAL;
	}
	if (p->n_src == 0) {
		snprintf(why, whylen, "VM %s has no SAN volume to back up", p->ctl.vm);
		return -ENOENT;
	}
	j = job_new(env, done, data);
	if (j == NULL)
		return -ENOMEM;
	j->bp = *p;
	j->bp.cfg_text = NULL;
	backup_stamp(p->now_s, j->bp.ctl.stamp);
	j->bp.ctl.time_s = p->now_s;
	snprintf(j->bp.ctl.backend, sizeof(j->bp.ctl.backend), "%s", p->lvm ? "lvm" : "file");
	j->bp.ctl.n_vols = 0;
	for (size_t i = 0; i < p->n_src; i++) {
		rc = backup_control_add_vol(&j->bp.ctl, p->src[i].disk, p->src[i].size_bytes);
		if (rc < 0) {
			snprintf(why, whylen, "volume %s of VM %s: %s", p->src[i].disk,
				 p->ctl.vm, xm_strerror(rc));
			goto out_free;
		}
	}
	rc = backup_control_write(&j->bp.ctl, text, sizeof(text));
	if (rc < 0) {
		snprintf(why, whylen, "the control file does not fit");
		goto out_free;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dest, p->ctl.vm) >= sizeof(path) ||
	    (size_t)snprintf(j->dir, sizeof(j->dir), "%s/%s", path, j->bp.ctl.stamp) >=
	    sizeof(j->dir)) {
		snprintf(why, whylen, "backup directory path too long");
		rc = -ENAMETOOLONG;
		goto out_free;
	}
	if ((rc = mkdir_one(p->dest, true, why, whylen)) < 0 ||
	    (rc = mkdir_one(path, true, why, whylen)) < 0 ||
	    (rc = mkdir_one(j->dir, false, why, whylen)) < 0)
		goto out_free;
	/* the control file comes last (it holds the data sizes), before
	 * the checksums: written above only to know it fits */
	backup_dir_path(path, sizeof(path), j->dir, "vm.cfg");
	rc = file_write(path, p->cfg_text ? p->cfg_text : "", why, whylen);
	if (rc < 0) {
		backup_cleanup(j);
		goto out_free;
	}
	log_notice("backup of VM %s into %s: %zu volume%s, %s backend", p->ctl.vm, j->dir,
		   p->n_src, p->n_src == 1 ? "" : "s", j->bp.ctl.backend);
	/* the first step here: if it cannot start, the caller hears it now
	 * and done is never called */
	j->phase = p->src[0].data_dev[0] ? B_COPY : B_GZIP;
	if (!backup_volume_step(j, p->src[0].data_dev[0] ? B_SIZE : B_COPY)) {
		snprintf(why, whylen, "%s", j->msg);
		rc = j->rc;
		backup_cleanup(j);
		goto out_free;
	}
	*out = j;
	return 0;
out_free:
	free(j);
	return rc;
}

/* ---- restore ------------------------------------------------------------ */

int
backup_file_read(const char *dir, const char *name, size_t max, char **out)
{
	char path[PATH_MAX + 64];
	size_t len = 0;
	ssize_t r;
	char *buf;
	int fd, rc = 0;

	*out = NULL;
	backup_dir_path(path, sizeof(path), dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len <= max && (r = read(fd, buf + len, max + 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (rc == 0 && len > max)
		rc = -EFBIG;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

#define VM_CFG_READ_MAX (256 * 1024)

/* After sha256sum -c: everything that can refuse without touching
 * anything.  0, or j->rc set. */
static int
restore_check(struct backup_job *j)
{
	char *sums = NULL, *ctl = NULL, *cfg = NULL, why[300] = "";
	const struct backup_vol *root = NULL;
	int rc;

	if ((rc = backup_file_read(j->dir, "SHA256SUMS", BACKUP_CONTROL_MAX, &sums)) < 0 ||
	    (rc = backup_file_read(j->dir, "control", BACKUP_CONTROL_MAX, &ctl)) < 0 ||
	    (rc = backup_file_read(j->dir, "vm.cfg", VM_CFG_READ_MAX, &cfg)) < 0) {
		job_fail(j, rc, "backup %s cannot be read: %s", j->dir, xm_strerror(rc));
		goto out;
	}
	rc = backup_control_parse(ctl, &j->ctl, why, sizeof(why));
	if (rc == 0)
		rc = backup_sums_check(sums, &j->ctl, why, sizeof(why));
	if (rc < 0) {
		job_fail(j, rc, "backup %s is damaged: %s; nothing was changed", j->dir, why);
		goto out;
	}
	if (strcmp(j->ctl.vm, j->rp.vm) != 0) {
		job_fail(j, -EINVAL, "backup %s is of VM %s, not %s", j->dir, j->ctl.vm,
			 j->rp.vm);
		goto out;
	}
	for (size_t i = 0; i < j->ctl.n_vols; i++)
		if (strcmp(j->ctl.vols[i].disk, "root") == 0)
			root = &j->ctl.vols[i];
	if (j->rp.root_size != 0 && root == NULL) {
		job_fail(j, -EINVAL, "--disk: backup %s has no root volume", j->dir);
		goto out;
	}
	if (j->rp.root_size != 0 && j->rp.root_size < root->size_bytes) {
		job_fail(j, -EINVAL, "--disk %" PRIu64 " is smaller than the root volume "
			 "backed up (%" PRIu64 " bytes)", j->rp.root_size, root->size_bytes);
		goto out;
	}
	rc = backup_cfg_rewrite(cfg, j->rp.as, j->rp.memory_mb, j->rp.as != NULL, &j->cfg,
				why, sizeof(why));
	if (rc == 0 && j->rp.cfg_check != NULL)
		rc = j->rp.cfg_check(j->cfg, why, sizeof(why));
	if (rc < 0) {
		job_fail(j, rc, "vm.cfg of backup %s: %s", j->dir, why[0] ? why : xm_strerror(rc));
		goto out;
	}
	rc = j->env.target_check(j->env.data, j->target, why, sizeof(why));
	if (rc < 0)
		job_fail(j, rc, "%s", why);
out:
	free(sums);
	free(ctl);
	free(cfg);
	return j->rc;
}

static void
vol_made(void *cbdata, int rc, const char *path, const char *why)
{
	struct backup_job *j = cbdata;

	j->busy = false;
	if (rc < 0 && why != NULL)
		job_fail(j, rc, "%s", why);     /* names the volume */
	else if (rc < 0)
		job_fail(j, rc, "volume %s-%s: %s", j->target, j->ctl.vols[j->vi].disk,
			 xm_strerror(rc));
	else if ((size_t)snprintf(j->path, sizeof(j->path), "%s", path) >= sizeof(j->path))
		job_fail(j, -ENAMETOOLONG, "volume path too long");
	go(j);
}

static void
defined(void *data, int rc, const char *msg)
{
	struct backup_job *j = data;

	j->busy = false;
	if (rc < 0)
		job_fail(j, rc, "vm define %s: %s", j->target, msg ? msg : xm_strerror(rc));
	go(j);
}

static void
restore_go(struct backup_job *j)
{
	struct cmdseq seq;
	char gz[PATH_MAX + 64];

	for (;;) {
		switch (j->phase) {
		case R_CHECK:
			if (j->rc < 0 || restore_check(j) < 0) {
				j->phase = R_END;       /* nothing touched */
				continue;
			}
			log_notice("restoring VM %s%s%s from %s (checksums good)", j->rp.vm,
				   j->rp.as ? " as " : "", j->rp.as ? j->rp.as : "", j->dir);
			j->vi = 0;
			j->phase = R_MAKE;
			continue;
		case R_MAKE: {
			const struct backup_vol *v;
			uint64_t size;

			if (j->rc < 0) {
				j->phase = R_ROLLBACK;
				continue;
			}
			if (j->vi >= j->ctl.n_vols) {
				j->phase = R_DEFINE;
				continue;
			}
			v = &j->ctl.vols[j->vi];
			size = v->size_bytes;
			if (j->rp.root_size != 0 && strcmp(v->disk, "root") == 0)
				size = j->rp.root_size;
			j->n_touched = j->vi + 1;
			j->phase = R_UNPACK;
			j->busy = true;
			j->env.vol_make(j->env.data, j->target, v->disk, size, vol_made, j);
			return;
		}
		case R_UNPACK:
			if (j->rc < 0) {
				j->phase = R_ROLLBACK;
				continue;
			}
			j->phase = R_NEXT;
			backup_dir_path(gz, sizeof(gz), j->dir, j->ctl.vols[j->vi].file);
			cmdseq_init(&seq);
			snapshot_cmd_unpack(&seq, j->rp.unpack_prog[0] ? j->rp.unpack_prog :
					    "xenmesh-unpack", gz, j->path,
					    j->ctl.vols[j->vi].data_bytes);
			if (seq_run(j, &seq, "xenmesh-unpack"))
				return;
			continue;
		case R_NEXT:
			j->vi++;
			j->phase = R_MAKE;
			continue;
		case R_DEFINE:
			if (j->rc < 0) {
				j->phase = R_ROLLBACK;
				continue;
			}
			j->phase = R_DEFINED;
			j->busy = true;
			j->env.define(j->env.data, j->cfg, defined, j);
			return;
		case R_DEFINED:
			if (j->rc < 0) {
				j->phase = R_ROLLBACK;
				continue;
			}
			snprintf(j->msg, sizeof(j->msg), "restored VM %s%s%s from %.300s "
				 "(%zu volume%s); start it with agentctl vm start %s",
				 j->rp.vm, j->rp.as ? " as " : "", j->rp.as ? j->rp.as : "",
				 j->dir, j->ctl.n_vols, j->ctl.n_vols == 1 ? "" : "s", j->target);
			log_notice("%s", j->msg);
			j->phase = R_END;
			continue;
		case R_ROLLBACK:
			for (size_t i = 0; i < j->n_touched; i++)
				j->env.vol_drop(j->env.data, j->target, j->ctl.vols[i].disk);
			if (j->n_touched > 0) {
				size_t len = strlen(j->msg);

				snprintf(j->msg + len, sizeof(j->msg) - len, "; the volume%s "
					 "made for the restore %s being removed",
					 j->n_touched == 1 ? "" : "s",
					 j->n_touched == 1 ? "is" : "are");
			}
			if (!j->abandoned)
				log_err("restore of VM %s failed: %s", j->rp.vm, j->msg);
			j->phase = R_END;
			continue;
		case R_END:
		default:
			job_end(j);
			return;
		}
	}
}

int
restore_start(const struct backup_env *env, const struct restore_params *p,
	      backup_done_fn *done, void *data, struct backup_job **out,
	      char *why, size_t whylen)
{
	struct backup_job *j;
	struct cmdseq seq;

	*out = NULL;
	if (p->dir[0] != '/' || p->vm == NULL) {
		snprintf(why, whylen, "the backup directory must be an absolute path");
		return -EINVAL;
	}
	j = job_new(env, done, data);
	if (j == NULL)
		return -ENOMEM;
	j->rp = *p;
	/* the caller's strings live as long as its request only */
	if ((size_t)snprintf(j->vm, sizeof(j->vm), "%s", p->vm) >= sizeof(j->vm) ||
	    (size_t)snprintf(j->as, sizeof(j->as), "%s", p->as ? p->as : "") >= sizeof(j->as)) {
		snprintf(why, whylen, "VM name too long");
		free(j);
		return -EINVAL;
	}
	j->rp.vm = j->vm;
	j->rp.as = p->as != NULL ? j->as : NULL;
	snprintf(j->dir, sizeof(j->dir), "%s", p->dir);
	j->target = j->rp.as != NULL ? j->rp.as : j->rp.vm;
	j->phase = R_CHECK;
	cmdseq_init(&seq);
	snapshot_cmd_verify(&seq, j->dir);
	if (!seq_run(j, &seq, "sha256sum -c")) {
		int rc = j->rc;

		snprintf(why, whylen, "%s", j->msg);
		job_free(j);
		return rc;
	}
	*out = j;
	return 0;
}

static void
go(struct backup_job *j)
{
	if (j->phase >= R_CHECK)
		restore_go(j);
	else
		backup_go(j);
}
