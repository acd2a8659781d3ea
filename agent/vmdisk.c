/* A VM's SAN disks on this dom0; see vmdisk.h. */
#define LOG_SUBSYS "vmdisk"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "cmdseq.h"
#include "iscsi.h"
#include "log.h"
#include "runner.h"
#include "vmdisk.h"
#include "vmhost.h"
#include "xm_error.h"

#define ATTACH_MAX 256

enum attach_state { AT_NONE, AT_RUNNING, AT_DONE, AT_FAILED, AT_DETACHING };

/* This host's open-iscsi iface (storage/iscsi.h): set up once, never again
 * while it holds: iscsiadm refuses to make anew an iface a session uses
 * (exit 15), and one made anew would forget its initiator name.  An agent
 * (re)started reads it first: its sessions may be running. */
enum iface_state {
	IFACE_UNKNOWN,          /* not read yet (or a setup failed) */
	IFACE_PROBING,          /* being read */
	IFACE_MISSING,          /* absent or not ours: the next attach sets it up */
	IFACE_SETTING_UP,       /* an attach sets it up: others wait */
	IFACE_READY,
};

struct attach {
	char vm[VM_NAME_MAX];
	char iqn[ISCSI_NAME_MAX + 1];
	uint64_t gen;                   /* instance it was made for */
	enum attach_state st;
	int err;                        /* AT_FAILED */
	bool sets_up_iface;             /* AT_RUNNING with the iface setup */
	char why[256];
	uint64_t done_ms;               /* AT_DONE since (monotonic) */
	bool dev_wait_logged;
	struct vmdisk *d;
};

struct vmdisk {
	struct agent *a;
	bool block;
	struct runner *runner;
	struct iscsi_portal portal;
	bool have_portal;
	char initiator[ISCSI_NAME_MAX + 1];
	enum iface_state iface;
	bool (*dev_exists)(const char *path, void *arg);
	void *dev_arg;
	struct attach at[ATTACH_MAX];
};

/* Xen's block hotplug script wants a block device: a by-path link that is
 * missing or dangling (stat follows it) is not there yet. */
static bool
dev_is_block(const char *path, void *arg)
{
	struct stat sb;

	(void)arg;
	return stat(path, &sb) == 0 && S_ISBLK(sb.st_mode);
}

void
vmdisk_set_dev_probe(struct vmdisk *d, bool (*exists)(const char *path, void *arg),
		     void *arg)
{
	d->dev_exists = exists != NULL ? exists : dev_is_block;
	d->dev_arg = exists != NULL ? arg : NULL;
}

const char *
vmdisk_initiator(const struct vmdisk *d)
{
	return d->initiator;
}

bool
vmdisk_uses_san(const struct vm_config *cfg)
{
	for (uint32_t i = 0; i < cfg->n_disks; i++)
		if (strncmp(cfg->disks[i].target, VM_DISK_SAN_PREFIX,
			    strlen(VM_DISK_SAN_PREFIX)) == 0)
			return true;
	return false;
}

int
vmdisk_open(struct vmdisk **out, struct agent *a, bool block)
{
	struct runner *r = NULL;
	int rc;

	if (block) {
		rc = runner_exec_open(&r, a->loop, NULL);
		if (rc < 0)
			return rc;
	}
	return vmdisk_open_runner(out, a, block, r);
}

int
vmdisk_open_runner(struct vmdisk **out, struct agent *a, bool block,
		   struct runner *r)
{
	struct vmdisk *d = calloc(1, sizeof(*d));
	char why[256];
	int rc = 0;

	if (d == NULL) {
		runner_close(r);
		return -ENOMEM;
	}
	d->runner = r;
	d->a = a;
	d->block = block;
	vmdisk_set_dev_probe(d, NULL, NULL);
	if (a->cfg.portal[0] != '\0') {
		rc = iscsi_portal_parse(a->cfg.portal, &d->portal, why, sizeof(why));
		if (rc < 0) {
			log_err("portal in [storage]: %s; SAN disks cannot be used", why);
			rc = 0;
		} else {
			d->have_portal = true;
		}
	}
	if (iscsi_name_join(d->initiator, sizeof(d->initiator), a->cfg.iqn_prefix,
			    a->node_name, why, sizeof(why)) < 0) {
		log_err("no initiator name for this host: %s", why);
		d->initiator[0] = '\0';
	}
	*out = d;
	return rc;
}

void
vmdisk_close(struct vmdisk *d)
{
	if (d == NULL)
		return;
	runner_close(d->runner);        /* cancels: done sees ECANCELED */
	free(d);
}

static struct attach *
attach_find(struct vmdisk *d, const char *vm, bool create)
{
	struct attach *free_slot = NULL;

	for (size_t i = 0; i < ATTACH_MAX; i++) {
		if (d->at[i].st != AT_NONE && strcmp(d->at[i].vm, vm) == 0)
			return &d->at[i];
		if (d->at[i].st == AT_NONE && free_slot == NULL)
			free_slot = &d->at[i];
	}
	if (!create || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->vm, sizeof(free_slot->vm), "%s", vm);
	free_slot->d = d;
	return free_slot;
}

static void
attach_done(void *data, const struct cmdseq_outcome *o)
{
	struct attach *at = data;
	struct vmdisk *d = at->d;
	struct iscsi_session *ss = NULL;
	size_t n = 0;

	if (o->rc == -ECANCELED)
		return;
	if (at->st == AT_DETACHING) {
		log_info("logged out of %s", at->iqn);
		memset(at, 0, sizeof(*at));
		return;
	}
	if (at->sets_up_iface)
		d->iface = o->rc < 0 ? IFACE_UNKNOWN : IFACE_READY;
	at->sets_up_iface = false;
	if (o->rc < 0) {
		enum iscsi_failure f = iscsi_login_classify(o->last);

		at->st = AT_FAILED;
		at->err = f == ISCSI_FAIL_REFUSED ? XM_EFENCED :
			  f == ISCSI_FAIL_TRANSPORT ? -EHOSTUNREACH : -EIO;
		snprintf(at->why, sizeof(at->why), "login to %.120s %s: %.100s",
			 at->iqn, iscsi_failure_name(f), o->message);
	} else if (iscsi_sessions_result(o->last, &ss, &n, at->why, sizeof(at->why)) < 0 ||
		   iscsi_session_find(ss, n, at->iqn, &d->portal) < 0) {
		at->st = AT_FAILED;
		at->err = -EIO;
		if (at->why[0] == '\0')
			snprintf(at->why, sizeof(at->why), "logged in to %.120s but no "
				 "session is listed", at->iqn);
	} else {
		at->st = AT_DONE;
		at->done_ms = mono_ms();
		log_notice("logged in to %s as %s", at->iqn, d->initiator);
	}
	free(ss);
	vmhost_kick(d->a);
}

static void
iface_probe_done(void *data, const struct cmdseq_outcome *o)
{
	struct vmdisk *d = data;
	char name[ISCSI_NAME_MAX + 1] = "";

	if (o->rc == -ECANCELED)
		return;
	if (o->rc == 0 && o->tolerated == 0 && o->last != NULL &&
	    o->last->out.data != NULL &&
	    iscsi_record_value(o->last->out.data, "iface.initiatorname", name,
			       sizeof(name)) == 0 &&
	    strcmp(name, d->initiator) == 0) {
		d->iface = IFACE_READY;
		log_info("iscsi iface %s already set up as %s", ISCSI_IFACE, name);
	} else {
		d->iface = IFACE_MISSING;
	}
	vmhost_kick(d->a);
}

static int
iface_probe(struct vmdisk *d)
{
	struct cmdseq seq;
	int rc;

	cmdseq_init(&seq);
	iscsi_cmd_iface_show(&seq);
	d->iface = IFACE_PROBING;
	rc = cmdseq_run(d->runner, &seq, iface_probe_done, d, NULL);
	if (rc < 0) {
		cmdseq_free(&seq);
		d->iface = IFACE_UNKNOWN;
	}
	return rc;
}

/* Log in to iqn for instance gen.  0 also when nothing started yet (the
 * iface is being read, or set up by another attach): at is left as it was
 * and the caller asks again. */
static int
attach_start(struct vmdisk *d, struct attach *at, const char *iqn, uint64_t gen)
{
	struct iscsi_timeouts t = {
		.replacement_s = (unsigned)d->a->cfg.replacement_timeout_s,
	};
	struct cmdseq seq;
	int rc;

	switch (d->iface) {
	case IFACE_UNKNOWN:
		rc = iface_probe(d);
		if (rc < 0) {
			snprintf(at->iqn, sizeof(at->iqn), "%s", iqn);
			at->gen = gen;
			goto out_failed;
		}
		return 0;
	case IFACE_PROBING:
	case IFACE_SETTING_UP:
		return 0;
	case IFACE_MISSING:
	case IFACE_READY:
		break;
	}
	snprintf(at->iqn, sizeof(at->iqn), "%s", iqn);
	at->gen = gen;
	cmdseq_init(&seq);
	at->sets_up_iface = d->iface == IFACE_MISSING;
	if (at->sets_up_iface) {
		iscsi_cmd_iface_setup(&seq, d->initiator);
		d->iface = IFACE_SETTING_UP;
	}
	iscsi_cmd_attach(&seq, at->iqn, &d->portal, &t);
	at->st = AT_RUNNING;
	at->dev_wait_logged = false;
	rc = cmdseq_run(d->runner, &seq, attach_done, at, NULL);
	if (rc < 0) {
		cmdseq_free(&seq);
		if (at->sets_up_iface)
			d->iface = IFACE_UNKNOWN;
		at->sets_up_iface = false;
		goto out_failed;
	}
	return 0;

out_failed:
	at->st = AT_FAILED;
	at->err = rc;
	snprintf(at->why, sizeof(at->why), "cannot run iscsiadm: %s", xm_strerror(rc));
	return rc;
}

/* The device (block) or URL of one "xenmesh:DISK" target, into path. */
static int
disk_resolve(struct vmdisk *d, const struct state *st, const char *vm,
	     const char *iqn, const struct vm_disk *disk, char *path, size_t pathlen,
	     char *why, size_t whylen)
{
	const char *dname = disk->target + strlen(VM_DISK_SAN_PREFIX);
	char vname[VOL_NAME_MAX + 8], pt[96];
	const struct vol_rec *vol;
	int rc;

	snprintf(vname, sizeof(vname), "%s-%s", vm, dname);
	vol = state_vol(st, vname);
	if (vol == NULL || vol->state != VOL_STATE_READY) {
		snprintf(why, whylen, "disk %s: volume %s is %s", disk->vdev, vname,
			 vol ? vol_state_name(vol->state) : "not defined "
			 "(agentctl volume create)");
		return -ENOENT;
	}
	if (d->block)
		return iscsi_bypath(path, pathlen, &d->portal, iqn, vol->lun, why, whylen);
	(void)iscsi_portal_format(&d->portal, pt, sizeof(pt));
	rc = snprintf(path, pathlen, "iscsi://%s/%s/%" PRIu32, pt, iqn, vol->lun);
	if (rc < 0 || (size_t)rc >= pathlen)
		return -ENAMETOOLONG;
	return 0;
}

/* udev makes the by-path link some time after the login (once the kernel
 * has scanned the new session): give it a while, the caller's periodic pass
 * asks again; then this instance fails as a failed login would. */
static int
dev_missing(struct attach *at, const char *path, char *why, size_t whylen)
{
	if (mono_ms() < at->done_ms + VMDISK_DEV_WAIT_MS) {
		if (!at->dev_wait_logged)
			log_info("waiting for %s to appear (udev)", path);
		at->dev_wait_logged = true;
		return -EINPROGRESS;
	}
	at->st = AT_FAILED;
	at->err = -ENODEV;
	snprintf(at->why, sizeof(at->why), "logged in to %.60s but %.120s did not "
		 "appear within %d s (is udev running?)", at->iqn, path,
		 VMDISK_DEV_WAIT_MS / 1000);
	snprintf(why, whylen, "%s", at->why);
	return at->err;
}

int
vmdisk_prepare(struct vmdisk *d, const struct vm_rec *v, struct vm_config *cfg,
	       char *why, size_t whylen)
{
	const struct state *st = &d->a->rep.st;
	char iqn[ISCSI_NAME_MAX + 1];
	char (*paths)[VM_PATH_MAX];
	struct attach *at = NULL;
	int rc;

	if (!vmdisk_uses_san(cfg))
		return 0;
	if (!d->have_portal || d->initiator[0] == '\0') {
		snprintf(why, whylen, "SAN disks need portal in [storage] and a valid "
			 "initiator name for this host");
		return -EINVAL;
	}
	rc = iscsi_name_join(iqn, sizeof(iqn), d->a->cfg.iqn_prefix, v->name, why, whylen);
	if (rc < 0)
		return rc;
	if (d->block) {
		at = attach_find(d, v->name, true);
		if (at == NULL) {
			snprintf(why, whylen, "too many logged-in targets");
			return -ENOSPC;
		}
		if (at->st == AT_DETACHING || at->st == AT_RUNNING)
			return -EINPROGRESS;
		if (at->st == AT_FAILED && at->gen == v->generation) {
			snprintf(why, whylen, "%s", at->why);
			return at->err;
		}
		if (at->st != AT_DONE || at->gen != v->generation) {
			rc = attach_start(d, at, iqn, v->generation);
			if (rc < 0) {
				snprintf(why, whylen, "%s", at->why);
				return rc;
			}
			return -EINPROGRESS;
		}
	}
	paths = calloc(cfg->n_disks, sizeof(*paths));
	if (paths == NULL)
		return -ENOMEM;
	/* every disk resolved and present before any target is rewritten: a
	 * caller told "not yet" may ask again with the same cfg */
	for (uint32_t i = 0; i < cfg->n_disks; i++) {
		const struct vm_disk *disk = &cfg->disks[i];

		if (strncmp(disk->target, VM_DISK_SAN_PREFIX,
			    strlen(VM_DISK_SAN_PREFIX)) != 0)
			continue;
		rc = disk_resolve(d, st, v->name, iqn, disk, paths[i], sizeof(paths[i]),
				  why, whylen);
		if (rc < 0)
			goto out_free_paths;
		if (d->block && !d->dev_exists(paths[i], d->dev_arg)) {
			rc = dev_missing(at, paths[i], why, whylen);
			goto out_free_paths;
		}
	}
	for (uint32_t i = 0; i < cfg->n_disks; i++)
		if (paths[i][0] != '\0')
			snprintf(cfg->disks[i].target, sizeof(cfg->disks[i].target), "%s",
				 paths[i]);
	rc = 0;
out_free_paths:
	free(paths);
	return rc;
}

void
vmdisk_release_unused(struct vmdisk *d, const char *const *running, size_t n_running)
{
	struct cmdseq seq;

	if (d == NULL || !d->block)
		return;
	for (size_t i = 0; i < ATTACH_MAX; i++) {
		struct attach *at = &d->at[i];
		bool used = false;

		if (at->st != AT_DONE && at->st != AT_FAILED)
			continue;
		for (size_t k = 0; k < n_running && !used; k++)
			used = strcmp(running[k], at->vm) == 0;
		if (used)
			continue;
		cmdseq_init(&seq);
		iscsi_cmd_detach(&seq, at->iqn, &d->portal);
		at->st = AT_DETACHING;
		if (cmdseq_run(d->runner, &seq, attach_done, at, NULL) < 0) {
			cmdseq_free(&seq);
			at->st = AT_DONE;
		}
	}
}
