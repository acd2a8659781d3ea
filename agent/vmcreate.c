/* The job of `agentctl vm create`; see vmcreate.h. */
#define LOG_SUBSYS "create"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdseq.h"
#include "log.h"
#include "lvm.h"
#include "vmcreate_int.h"
#include "xm_error.h"

static const char *const step_names[] = {
	[ST_SPACE] = "space", [ST_ROOT] = "root", [ST_SWAP] = "swap",
	[ST_STAGE] = "stage", [ST_FILES] = "files", [ST_MKFS] = "mkfs",
	[ST_COPY] = "copy", [ST_PROBE] = "probe", [ST_GROW] = "grow",
	[ST_FSCK] = "fsck", [ST_RESIZE] = "resize", [ST_LOOK] = "look",
	[ST_WRITE] = "write",
	[ST_MKSWAP] = "mkswap",
	[ST_UNSTAGE] = "unstage", [ST_DEFINE] = "define", [ST_DONE] = "done",
	[ST_UNDO_STAGE] = "undo stage", [ST_UNDO_SWAP] = "undo swap",
	[ST_UNDO_ROOT] = "undo root", [ST_UNDONE] = "undone",
};

/* "<what> failed" in the answer */
static const char *const step_what[] = {
	[ST_SPACE] = "checking the free space", [ST_ROOT] = "making the root volume",
	[ST_SWAP] = "making the swap volume", [ST_STAGE] = "copying the template tree",
	[ST_FILES] = "writing the network files", [ST_MKFS] = "making the file systems",
	[ST_COPY] = "copying the image", [ST_PROBE] = "checking the image's file system",
	[ST_GROW] = "growing the image's partition",
	[ST_FSCK] = "checking the image's file system",
	[ST_RESIZE] = "growing the image's file system",
	[ST_LOOK] = "reading the image's /etc",
	[ST_WRITE] = "writing the network files", [ST_MKSWAP] = "making the swap",
	[ST_UNSTAGE] = "removing the staging copy", [ST_DEFINE] = "defining the VM",
	[ST_DONE] = "", [ST_UNDO_STAGE] = "", [ST_UNDO_SWAP] = "", [ST_UNDO_ROOT] = "",
	[ST_UNDONE] = "",
};


static void advance(struct vmcreate *j);
static void undo_next(struct vmcreate *j);

void
vmcreate_advance(struct vmcreate *j)
{
	advance(j);
}

const char *
vmcreate_step_name(const struct vmcreate *j)
{
	return step_names[j->step];
}

static void
job_free(struct vmcreate *j)
{
	free(j->tree);
	free(j->image);
	free(j->listing);
	free(j->staging);
	free(j->config);
	free(j->vg);
	free(j->ip);
	free(j->netmask);
	free(j->gateway);
	free(j->nameserver);
	free(j);
}

static void
finish(struct vmcreate *j, int rc, const char *msg)
{
	vmcreate_done_fn done = j->done;
	void *data = j->data;
	char copy[VMCREATE_MSG_MAX * 2 + 64];

	snprintf(copy, sizeof(copy), "%s", msg);
	job_free(j);
	done(data, rc, copy);
}

/* Step j->step failed: note why, then undo what was made. */
static void
fail(struct vmcreate *j, int rc, const char *why)
{
	log_err("vm create %s: step %s failed: %s; undoing what was made", j->name,
		step_names[j->step], why);
	j->rc = rc < 0 ? rc : -EIO;
	snprintf(j->failure, sizeof(j->failure), "%s: %s", j->image && j->step == ST_STAGE ?
		 "making the staging directory" : step_what[j->step], why);
	j->step = ST_UNDO_STAGE;
	undo_next(j);
}

void
vmcreate_fail(struct vmcreate *j, int rc, const char *why)
{
	fail(j, rc, why);
}

/* ---- commands ------------------------------------------------------------ */

static void
space_done(struct vmcreate *j, const struct cmdseq_outcome *o)
{
	struct lvm_vg vg;
	char why[300];
	uint64_t need = j->root_bytes + j->swap_bytes;

	if (lvm_vgs_parse(o->last->out.data, &vg, why, sizeof(why)) < 0) {
		fail(j, -EIO, why);
		return;
	}
	if (vg.free_bytes < need) {
		xm_why(why, sizeof(why), "not enough space in volume group %s: %" PRIu64
		       " MiB free, %" PRIu64 " MiB needed (root and swap)", j->vg,
		       vg.free_bytes >> 20, need >> 20);
		fail(j, -ENOSPC, why);
		return;
	}
	j->step = ST_ROOT;
	advance(j);
}

static void
seq_done(void *data, const struct cmdseq_outcome *o)
{
	struct vmcreate *j = data;

	if (o->rc < 0 && j->step < ST_DONE && j->step != ST_UNSTAGE) {
		fail(j, o->rc, o->message);
		return;
	}
	switch (j->step) {
	case ST_SPACE:
		space_done(j, o);
		return;
	case ST_STAGE:
		j->step = j->image ? ST_COPY : ST_FILES;
		break;
	case ST_COPY:
	case ST_PROBE:
	case ST_GROW:
	case ST_FSCK:
	case ST_RESIZE:
	case ST_LOOK:
	case ST_WRITE:
	case ST_MKSWAP:
		vmcreate_raw_done(j, o);
		return;
	case ST_MKFS:
		j->step = ST_UNSTAGE;
		break;
	case ST_UNSTAGE:
		if (o->rc < 0)
			log_warn("vm create %s: cannot remove %s: %s, ignoring", j->name,
				 j->staging, o->message);
		j->staged = false;
		j->step = ST_DEFINE;
		break;
	case ST_UNDO_STAGE:
		if (o->rc < 0) {
			log_err("vm create %s: cannot remove %s: %s", j->name, j->staging,
				o->message);
			snprintf(j->left + strlen(j->left), sizeof(j->left) - strlen(j->left),
				 "%sdirectory %s", j->left[0] ? ", " : "", j->staging);
		}
		j->staged = false;
		j->step = ST_UNDO_SWAP;
		undo_next(j);
		return;
	default:
		break;
	}
	advance(j);
}

static void
seq_run(struct vmcreate *j, struct cmdseq *s)
{
	int rc = cmdseq_run(j->runner, s, seq_done, j, NULL);

	cmdseq_free(s);
	if (rc < 0) {
		char why[128];

		xm_why(why, sizeof(why), "cannot run the commands: %s", xm_strerror(rc));
		if (j->step >= ST_UNDO_STAGE) {
			/* never stuck in the undo: note it and go on */
			j->staged = false;
			j->step++;
			snprintf(j->left + strlen(j->left), sizeof(j->left) - strlen(j->left),
				 "%sdirectory %s", j->left[0] ? ", " : "", j->staging);
			undo_next(j);
		} else {
			fail(j, rc, why);
		}
	}
}

static void
add_rm_staging(struct cmdseq *s, const char *staging)
{
	cmdseq_add(s, "rm", "-rf", "--one-file-system", "--", staging, NULL);
	cmdseq_set_timeout(s, VMCREATE_SHORT_MS * 2);
}

/* ---- the guest's files --------------------------------------------------- */

/* Open (making it if needed) directory rel under dirfd, one component at a
 * time, never following a symlink.  A descriptor or -errno with why. */
static int
dir_open_under(int dirfd, const char *rel, char *why, size_t whylen)
{
	char part[256];
	const char *p = rel;
	int fd = dup(dirfd);

	while (fd >= 0 && *p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		int next;

		if (len == 0 || len >= sizeof(part)) {
			close(fd);
			xm_why(why, whylen, "bad path %s", rel);
			return -EINVAL;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
			int e = -errno;

			xm_why(why, whylen, "cannot make %.*s in the tree: %s",
			       (int)(p - rel + len), rel, strerror(-e));
			close(fd);
			return e;
		}
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = -errno;

			xm_why(why, whylen, "%.*s in the template tree is %s", (int)(p - rel + len),
			       rel, e == -ELOOP || e == -ENOTDIR ?
			       "a symlink or not a directory: refusing to write through it" :
			       strerror(-e));
			close(fd);
			return e;
		}
		close(fd);
		fd = next;
		p += len + (slash ? 1 : 0);
	}
	if (fd < 0) {
		xm_why(why, whylen, "dup: %s", strerror(errno));
		return -errno;
	}
	return fd;
}

/* path (relative) := text under root, replacing what the tree had there
 * (a symlink too, without following it). */
static int
file_write_under(int root, const char *path, const char *text, char *why,
		 size_t whylen)
{
	char dir[256];
	const char *base = strrchr(path, '/');
	size_t len = strlen(text);
	int dfd, fd, rc = 0;

	snprintf(dir, sizeof(dir), "%.*s", base ? (int)(base - path) : 0, path);
	base = base ? base + 1 : path;
	dfd = dir_open_under(root, dir, why, whylen);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		xm_why(why, whylen, "cannot replace %s in the tree: %s", path, strerror(-rc));
		goto out;
	}
	fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		xm_why(why, whylen, "cannot write %s: %s", path, strerror(-rc));
		goto out;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		rc = errno ? -errno : -EIO;
		xm_why(why, whylen, "cannot write %s: %s", path, strerror(-rc));
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		xm_why(why, whylen, "cannot write %s: %s", path, strerror(-rc));
	}
out:
	close(dfd);
	return rc;
}

int
vmcreate_net_files(const struct vmcreate *j, struct template_file *files,
		   size_t *count, char *why, size_t whylen)
{
	struct template_net n = {
		.hostname = j->name, .ip = j->ip, .netmask = j->netmask,
		.gateway = j->gateway, .nameserver = j->nameserver,
	};
	int rc = template_net_files(j->os, &n, files, count);

	if (rc < 0)
		xm_why(why, whylen, "out of memory");
	return rc;
}

static int
files_write(struct vmcreate *j, char *why, size_t whylen)
{
	struct template_file files[TEMPLATE_FILES_MAX];
	size_t count = 0;
	int root, rc;

	root = open(j->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		rc = -errno;
		xm_why(why, whylen, "cannot open %s: %s", j->staging, strerror(-rc));
		return rc;
	}
	rc = vmcreate_net_files(j, files, &count, why, whylen);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = file_write_under(root, files[i].path, files[i].text, why, whylen);
	template_files_free(files, count);
	close(root);
	return rc;
}

/* ---- the steps ----------------------------------------------------------- */

static void
advance(struct vmcreate *j)
{
	char dev[512], swapdev[512], why[VMCREATE_MSG_MAX];
	struct lvm_conf lc = { .vg = j->vg, .no_devmapper = j->no_devmapper };
	struct cmdseq s;
	int rc;

	cmdseq_init(&s);
	switch (j->step) {
	case ST_SPACE:
		if (j->image != NULL && j->image_bytes > j->root_bytes) {
			xm_why(why, sizeof(why), "the image %s is %" PRIu64 " MiB, larger "
			       "than the root volume (%" PRIu64 " MiB): give --disk %" PRIu64
			       "M or more", j->image, (j->image_bytes + (1 << 20) - 1) >> 20,
			       j->root_bytes >> 20, (j->image_bytes + (1 << 20) - 1) >> 20);
			fail(j, -EFBIG, why);
			return;
		}
		if (j->vg == NULL) {
			j->step = ST_ROOT;
			advance(j);
			return;
		}
		lvm_cmd_vgs(&s, &lc);
		seq_run(j, &s);
		return;
	case ST_ROOT:
	case ST_SWAP:
		rc = j->ops->volume_create(j->env, j, j->name,
					   j->step == ST_ROOT ? "root" : "swap",
					   j->step == ST_ROOT ? j->root_bytes : j->swap_bytes);
		if (rc < 0) {
			xm_why(why, sizeof(why), "cannot ask for volume %s: %s",
			       j->step == ST_ROOT ? j->root_vol : j->swap_vol, xm_strerror(rc));
			fail(j, rc, why);
		}
		return;
	case ST_STAGE:
		j->staged = true;
		add_rm_staging(&s, j->staging);
		if (j->image != NULL) {
			/* only the files for debugfs go there */
			cmdseq_add(&s, "mkdir", "-m", "0700", "--", j->staging, NULL);
		} else {
			cmdseq_add(&s, "cp", "-a", "--", j->tree, j->staging, NULL);
			cmdseq_set_timeout(&s, VMCREATE_COPY_MS);
		}
		seq_run(j, &s);
		return;
	case ST_COPY:
	case ST_PROBE:
	case ST_GROW:
	case ST_FSCK:
	case ST_RESIZE:
	case ST_LOOK:
	case ST_WRITE:
	case ST_MKSWAP:
		if (vmcreate_raw_cmds(j, &s) < 0) {
			cmdseq_free(&s);
			return;
		}
		seq_run(j, &s);
		return;
	case ST_FILES:
		rc = files_write(j, why, sizeof(why));
		if (rc < 0) {
			fail(j, rc, why);
			return;
		}
		j->step = ST_MKFS;
		advance(j);
		return;
	case ST_MKFS:
		if (j->ops->volume_device(j->env, j->root_vol, dev, sizeof(dev)) < 0 ||
		    j->ops->volume_device(j->env, j->swap_vol, swapdev, sizeof(swapdev)) < 0) {
			fail(j, -ENODEV, "the devices of the volumes are not known here");
			return;
		}
		cmdseq_add(&s, "mke2fs", "-q", "-F", "-t", "ext4", "-d", j->staging,
			   "-L", "root", dev, NULL);
		cmdseq_set_timeout(&s, VMCREATE_MKFS_MS);
		cmdseq_add(&s, "mkswap", "-L", "swap", swapdev, NULL);
		cmdseq_set_timeout(&s, VMCREATE_SHORT_MS);
		seq_run(j, &s);
		return;
	case ST_UNSTAGE:
		add_rm_staging(&s, j->staging);
		seq_run(j, &s);
		return;
	case ST_DEFINE:
		rc = j->ops->define(j->env, j, j->name, j->config);
		if (rc < 0)
			fail(j, rc, "cannot ask for the definition");
		return;
	case ST_DONE:
		log_notice("vm create %s: made and defined", j->name);
		finish(j, 0, "");
		return;
	default:
		return;
	}
}

static void
undo_next(struct vmcreate *j)
{
	struct cmdseq s;
	char msg[VMCREATE_MSG_MAX * 2 + 64];
	int rc;

	for (;;) {
		switch (j->step) {
		case ST_UNDO_STAGE:
			if (!j->staged)
				break;
			cmdseq_init(&s);
			add_rm_staging(&s, j->staging);
			seq_run(j, &s);
			return;
		case ST_UNDO_SWAP:
		case ST_UNDO_ROOT: {
			bool *have = j->step == ST_UNDO_SWAP ? &j->have_swap : &j->have_root;
			const char *vol = j->step == ST_UNDO_SWAP ? j->swap_vol : j->root_vol;

			if (!*have)
				break;
			*have = false;
			rc = j->ops->volume_remove(j->env, j, vol);
			if (rc == 0)
				return;
			log_err("vm create %s: cannot remove volume %s: %s", j->name, vol,
				xm_strerror(rc));
			snprintf(j->left + strlen(j->left), sizeof(j->left) - strlen(j->left),
				 "%svolume %s", j->left[0] ? ", " : "", vol);
			break;
		}
		case ST_UNDONE:
			if (j->left[0])
				snprintf(msg, sizeof(msg), "%s; left behind: %s (remove by hand: "
					 "agentctl volume remove VOLUME)", j->failure, j->left);
			else
				snprintf(msg, sizeof(msg), "%s; nothing was left behind",
					 j->failure);
			log_notice("vm create %s undone%s%s", j->name,
				   j->left[0] ? ", left behind: " : "", j->left);
			finish(j, j->rc, msg);
			return;
		default:
			return;
		}
		j->step++;
	}
}

void
vmcreate_volume_done(struct vmcreate *j, int rc, bool recorded, const char *why)
{
	if (j->step == ST_ROOT)
		j->have_root = recorded;
	else if (j->step == ST_SWAP)
		j->have_swap = recorded;
	vmcreate_step_done(j, rc, why);
}

void
vmcreate_step_done(struct vmcreate *j, int rc, const char *why)
{
	if (j->step >= ST_UNDO_STAGE) {
		if (rc < 0) {
			const char *vol = j->step == ST_UNDO_SWAP ? j->swap_vol : j->root_vol;

			log_err("vm create %s: removing volume %s: %s", j->name, vol,
				why ? why : xm_strerror(rc));
			snprintf(j->left + strlen(j->left), sizeof(j->left) - strlen(j->left),
				 "%svolume %s", j->left[0] ? ", " : "", vol);
		}
		j->step++;
		undo_next(j);
		return;
	}
	if (rc < 0) {
		fail(j, rc, why && why[0] ? why : xm_strerror(rc));
		return;
	}
	j->step++;
	advance(j);
}

static char *
dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

int
vmcreate_start(const struct vmcreate_spec *spec,
	       struct runner *r, const struct vmcreate_env_ops *ops, void *env,
	       vmcreate_done_fn done, void *data)
{
	struct vmcreate *j = calloc(1, sizeof(*j));
	bool oom = false;

	if (j == NULL)
		return -ENOMEM;
	if (strlen(spec->name) >= sizeof(j->name)) {
		free(j);
		return -ENAMETOOLONG;
	}
	snprintf(j->name, sizeof(j->name), "%s", spec->name);
	snprintf(j->root_vol, sizeof(j->root_vol), "%s-root", spec->name);
	snprintf(j->swap_vol, sizeof(j->swap_vol), "%s-swap", spec->name);
	j->os = spec->os;
	j->tree = dup_or_null(spec->tree, &oom);
	j->image = dup_or_null(spec->image, &oom);
	j->image_bytes = spec->image_bytes;
	j->staging = dup_or_null(spec->staging, &oom);
	j->config = dup_or_null(spec->config, &oom);
	j->vg = dup_or_null(spec->vg, &oom);
	j->ip = dup_or_null(spec->net.ip, &oom);
	j->netmask = dup_or_null(spec->net.netmask, &oom);
	j->gateway = dup_or_null(spec->net.gateway, &oom);
	j->nameserver = dup_or_null(spec->net.nameserver, &oom);
	j->no_devmapper = spec->no_devmapper;
	j->root_bytes = spec->root_bytes;
	j->swap_bytes = spec->swap_bytes;
	j->ops = ops;
	j->env = env;
	j->done = done;
	j->data = data;
	if (oom || (j->tree == NULL) == (j->image == NULL) || j->staging == NULL ||
	    j->config == NULL) {
		job_free(j);
		return oom ? -ENOMEM : -EINVAL;
	}
	j->runner = r;
	j->step = ST_SPACE;
	log_notice("vm create %s: from %s, root %" PRIu64 " MiB, swap %" PRIu64 " MiB",
		   j->name, j->image ? j->image : j->tree, j->root_bytes >> 20,
		   j->swap_bytes >> 20);
	advance(j);
	return 0;
}
