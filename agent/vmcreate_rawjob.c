/* The steps of vm create from a raw image; see vmcreate.h (the list)
 * and vmcreate_int.h. */
#define LOG_SUBSYS "create"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "vmcreate_int.h"
#include "xm_error.h"

/* The last command failed (or said what cannot be used). */
static void
fail_last(struct vmcreate *j, const char *cmd, const struct cmdseq_outcome *o)
{
	char desc[240], why[VMCREATE_MSG_MAX];

	if (o->last != NULL)
		runner_result_describe(o->last, desc, sizeof(desc));
	else
		snprintf(desc, sizeof(desc), "no result");
	xm_why(why, sizeof(why), "%s: %s", cmd, desc);
	vmcreate_fail(j, -EIO, why);
}

/* dd and sfdisk --json ran: the partition to grow, or a bare fs. */
static void
copy_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	char why[VMCREATE_MSG_MAX];
	int rc;

	if (o->last != NULL && runner_result_ok(o->last)) {
		rc = rawimg_table_parse(o->last->out.data, &j->part, why, sizeof(why));
		if (rc < 0) {
			vmcreate_fail(j, rc, why);
			return;
		}
		j->partitioned = true;
		snprintf(j->fs, sizeof(j->fs), "%s?offset=%" PRIu64, j->dev,
			 j->part.start_bytes);
	} else if (o->last != NULL && rawimg_no_table(o->last->err.data)) {
		memset(&j->part, 0, sizeof(j->part));
		j->part.size_bytes = j->root_bytes;
		j->partitioned = false;
		snprintf(j->fs, sizeof(j->fs), "%s", j->dev);
	} else {
		fail_last(j, "sfdisk --json", o);
		return;
	}
	if (j->part.start_bytes >= j->root_bytes) {
		xm_why(why, sizeof(why), "partition %u of the image starts beyond the "
		       "end of the volume", j->part.number);
		vmcreate_fail(j, -EINVAL, why);
		return;
	}
	j->step = ST_PROBE;
	vmcreate_advance(j);
}

static void
probe_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	char type[32], what[64], why[VMCREATE_MSG_MAX];

	rawimg_blkid_type(o->last ? o->last->out.data : NULL, type, sizeof(type));
	if (!rawimg_type_is_ext(type)) {
		if (j->partitioned)
			snprintf(what, sizeof(what), "partition %u of the image", j->part.number);
		else
			snprintf(what, sizeof(what), "the image (no partition table)");
		xm_why(why, sizeof(why), "%s holds %s%.20s%s: vm create writes the "
		       "guest's files into ext2, ext3 or ext4 only", what,
		       type[0] ? "a " : "no file system blkid knows", type,
		       type[0] ? " file system" : "");
		vmcreate_fail(j, -EMEDIUMTYPE, why);
		return;
	}
	j->step = j->partitioned ? ST_GROW : ST_FSCK;
	vmcreate_advance(j);
}

static void
grow_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	struct rawimg_part np;
	char why[VMCREATE_MSG_MAX];
	int rc;

	rc = rawimg_table_parse(o->last ? o->last->out.data : NULL, &np, why, sizeof(why));
	if (rc < 0) {
		vmcreate_fail(j, rc, why);
		return;
	}
	if (np.number != j->part.number || np.start_bytes != j->part.start_bytes ||
	    np.size_bytes < j->part.size_bytes) {
		xm_why(why, sizeof(why), "after sfdisk the last partition is %u at %"
		       PRIu64 " of %" PRIu64 " bytes, not partition %u at %" PRIu64
		       " grown from %" PRIu64 " bytes", np.number, np.start_bytes,
		       np.size_bytes, j->part.number, j->part.start_bytes,
		       j->part.size_bytes);
		vmcreate_fail(j, -EIO, why);
		return;
	}
	log_info("vm create %s: partition %u of the image grown from %" PRIu64
		 " to %" PRIu64 " MiB", j->name, np.number, j->part.size_bytes >> 20,
		 np.size_bytes >> 20);
	j->part = np;
	j->step = ST_FSCK;
	vmcreate_advance(j);
}

static void
fsck_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	char cmd[700];

	/* 1: errors corrected; more: not usable */
	if (o->last == NULL || o->last->exec_errno != 0 || o->last->exit_code < 0 ||
	    o->last->exit_code > 1) {
		snprintf(cmd, sizeof(cmd), "e2fsck -f -y %s", j->fs);
		fail_last(j, cmd, o);
		return;
	}
	j->step = ST_RESIZE;
	vmcreate_advance(j);
}

/* STAGING/name := text (the staging directory is the job's own). */
static int
local_write(int dirfd, const char *name, const char *text, char *why, size_t whylen)
{
	size_t len = strlen(text);
	int fd, rc = 0;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		rc = errno ? -errno : -EIO;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		xm_why(why, whylen, "cannot write %s in the staging directory: %s", name,
		       strerror(-rc));
	return rc;
}

/* STAGING opened (its fd, or -1 with *rc and why) and the texts of the
 * files the VM gets, into files (*rc 0, or why). */
static int
staging_files(struct vmcreate *j, struct template_file *files, size_t *count,
	      int *rc, char *why, size_t whylen)
{
	int dirfd = open(j->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dirfd < 0) {
		*rc = -errno;
		xm_why(why, whylen, "cannot open %s: %s", j->staging, strerror(-*rc));
		return -1;
	}
	*rc = vmcreate_net_files(j, files, count, why, whylen);
	return dirfd;
}

/* STAGING/look.cmds: list the directories on the way to the files. */
static int
raw_look_prepare(struct vmcreate *j, char *why, size_t whylen)
{
	struct template_file files[TEMPLATE_FILES_MAX];
	char *cmds = NULL;
	size_t count = 0;
	int dirfd, rc;

	dirfd = staging_files(j, files, &count, &rc, why, whylen);
	if (dirfd < 0)
		return rc;
	if (rc == 0) {
		rc = rawimg_look_cmds(files, count, &cmds);
		if (rc < 0)
			xm_why(why, whylen, "cannot list the directories: %s", xm_strerror(rc));
	}
	if (rc == 0)
		rc = local_write(dirfd, "look.cmds", cmds, why, whylen);
	free(cmds);
	template_files_free(files, count);
	close(dirfd);
	return rc;
}

/* The files' texts as fN, the debugfs command files, in STAGING. */
static int
raw_files_prepare(struct vmcreate *j, char *why, size_t whylen)
{
	struct template_file files[TEMPLATE_FILES_MAX];
	char *wcmds = NULL, *ccmds = NULL, name[24];
	size_t count = 0;
	int dirfd, rc;

	dirfd = staging_files(j, files, &count, &rc, why, whylen);
	if (dirfd < 0)
		return rc;
	if (rc == 0) {
		rc = rawimg_debugfs_cmds(files, count, j->staging, j->listing, &wcmds,
					 &ccmds, why, whylen);
	}
	for (size_t i = 0; rc == 0 && i < count; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		rc = local_write(dirfd, name, files[i].text, why, whylen);
	}
	if (rc == 0)
		rc = local_write(dirfd, "write.cmds", wcmds, why, whylen);
	if (rc == 0)
		rc = local_write(dirfd, "check.cmds", ccmds, why, whylen);
	free(wcmds);
	free(ccmds);
	template_files_free(files, count);
	close(dirfd);
	return rc;
}

/* What debugfs dumped back (cN) is what was meant: 0, or -EIO naming
 * the first file that is not. */
static int
raw_files_compare(struct vmcreate *j, char *why, size_t whylen)
{
	struct template_file files[TEMPLATE_FILES_MAX];
	char name[24], *buf = NULL;
	size_t count = 0;
	int dirfd, rc;

	dirfd = staging_files(j, files, &count, &rc, why, whylen);
	if (dirfd < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		size_t len = strlen(files[i].text);
		ssize_t n = -1;
		int fd;

		snprintf(name, sizeof(name), "c%zu", i);
		buf = malloc(len + 2);
		if (buf == NULL) {
			rc = -ENOMEM;
			xm_why(why, whylen, "out of memory");
			break;
		}
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, len + 1);
			close(fd);
		}
		if (n != (ssize_t)len || memcmp(buf, files[i].text, len) != 0) {
			xm_why(why, whylen, "debugfs did not write /%s into the image's "
			       "file system (%s; is a directory of it not one there?)",
			       files[i].path, n < 0 ? "it is not there" : "it reads back "
			       "otherwise");
			rc = -EIO;
		}
		free(buf);
		buf = NULL;
	}
	template_files_free(files, count);
	close(dirfd);
	return rc;
}

static void
write_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	char why[VMCREATE_MSG_MAX];
	int rc;

	(void)o;
	rc = raw_files_compare(j, why, sizeof(why));
	if (rc < 0) {
		vmcreate_fail(j, rc, why);
		return;
	}
	j->step = ST_MKSWAP;
	vmcreate_advance(j);
}

int
vmcreate_raw_cmds(struct vmcreate *j, struct cmdseq *s)
{
	char a[700], b[700], why[VMCREATE_MSG_MAX];
	struct stat sb;
	int rc;

	switch (j->step) {
	case ST_COPY:
		rc = j->ops->volume_device(j->env, j->root_vol, j->dev, sizeof(j->dev));
		if (rc < 0 || strchr(j->dev, '?') != NULL) {
			xm_why(why, sizeof(why), rc < 0 ? "the device of volume %s is not "
			       "known here" : "the device of volume %s has a '?' in its "
			       "path, which e2fsprogs reads as options", j->root_vol);
			vmcreate_fail(j, rc < 0 ? -ENODEV : -EINVAL, why);
			return -1;
		}
		snprintf(a, sizeof(a), "if=%s", j->image);
		snprintf(b, sizeof(b), "of=%s", j->dev);
		j->dev_is_file = stat(j->dev, &sb) == 0 && S_ISREG(sb.st_mode);
		/* skipping zeroes is right only where the target reads as
		 * zeroes: a fresh file with nothing allocated, not a device
		 * (an LV is not zeroed) nor a file written before */
		cmdseq_add(s, "dd", a, b, "bs=4M", j->dev_is_file && sb.st_blocks == 0 ?
			   "conv=notrunc,sparse,fsync" : "conv=notrunc,fsync",
			   "status=none", NULL);
		cmdseq_set_timeout(s, VMCREATE_COPY_MS);
		cmdseq_add(s, "sfdisk", "--json", j->dev, NULL);
		cmdseq_tolerate(s);     /* a bare file system: copy_done */
		return 0;
	case ST_PROBE:
		snprintf(a, sizeof(a), "%" PRIu64, j->part.start_bytes);
		cmdseq_add(s, "blkid", "-p", "-o", "export", "-O", a, j->dev, NULL);
		cmdseq_tolerate(s);     /* exit 2: nothing found, probe_done */
		return 0;
	case ST_GROW:
		snprintf(a, sizeof(a), "%u", j->part.number);
		cmdseq_add(s, "sfdisk", "--no-reread", "--no-tell-kernel", "-N", a, j->dev,
			   NULL);
		cmdseq_set_stdin(s, ", +\n");
		cmdseq_add(s, "sfdisk", "--json", j->dev, NULL);
		return 0;
	case ST_FSCK:
		cmdseq_add(s, "e2fsck", "-f", "-y", j->fs, NULL);
		cmdseq_tolerate(s);     /* exit 1 is fine: fsck_done */
		cmdseq_set_timeout(s, VMCREATE_MKFS_MS);
		return 0;
	case ST_RESIZE:
		snprintf(a, sizeof(a), "%" PRIu64 "s", j->part.size_bytes / 512);
		cmdseq_add(s, "resize2fs", j->fs, a, NULL);
		cmdseq_set_timeout(s, VMCREATE_MKFS_MS);
		if (j->partitioned && j->dev_is_file) {
			/* resize2fs (1.47) cuts a regular file to the file
			 * system's size, not counting the offset: the volume
			 * gets its size back, and as the cut took the last
			 * START bytes of the file system, it is checked again */
			snprintf(b, sizeof(b), "%" PRIu64, j->root_bytes);
			cmdseq_add(s, "truncate", "-s", b, j->dev, NULL);
			cmdseq_add(s, "e2fsck", "-f", "-n", j->fs, NULL);
			cmdseq_set_timeout(s, VMCREATE_MKFS_MS);
		}
		return 0;
	case ST_LOOK:
		rc = raw_look_prepare(j, why, sizeof(why));
		if (rc < 0) {
			vmcreate_fail(j, rc, why);
			return -1;
		}
		snprintf(a, sizeof(a), "%s/look.cmds", j->staging);
		cmdseq_add(s, "debugfs", "-f", a, j->fs, NULL);
		return 0;
	case ST_WRITE:
		rc = raw_files_prepare(j, why, sizeof(why));
		if (rc < 0) {
			vmcreate_fail(j, rc, why);
			return -1;
		}
		snprintf(a, sizeof(a), "%s/write.cmds", j->staging);
		snprintf(b, sizeof(b), "%s/check.cmds", j->staging);
		cmdseq_add(s, "debugfs", "-w", "-f", a, j->fs, NULL);
		cmdseq_add(s, "debugfs", "-f", b, j->fs, NULL);
		return 0;
	case ST_MKSWAP:
		if (j->ops->volume_device(j->env, j->swap_vol, a, sizeof(a)) < 0) {
			vmcreate_fail(j, -ENODEV, "the device of the swap volume is not known here");
			return -1;
		}
		cmdseq_add(s, "mkswap", "-L", "swap", a, NULL);
		return 0;
	default:
		vmcreate_fail(j, -EINVAL, "not a step of a raw image");
		return -1;
	}
}

void
vmcreate_raw_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	switch (j->step) {
	case ST_COPY:
		copy_done(j, o);
		return;
	case ST_PROBE:
		probe_done(j, o);
		return;
	case ST_GROW:
		grow_done(j, o);
		return;
	case ST_FSCK:
		fsck_done(j, o);
		return;
	case ST_RESIZE:
		j->step = ST_LOOK;
		break;
	case ST_LOOK:
		free(j->listing);
		j->listing = strdup(o->last && o->last->out.data ? o->last->out.data : "");
		if (j->listing == NULL) {
			vmcreate_fail(j, -ENOMEM, "out of memory");
			return;
		}
		j->step = ST_WRITE;
		break;
	case ST_WRITE:
		write_done(j, o);
		return;
	case ST_MKSWAP:
		j->step = ST_UNSTAGE;
		break;
	default:
		vmcreate_fail(j, -EINVAL, "not a step of a raw image");
		return;
	}
	vmcreate_advance(j);
}
