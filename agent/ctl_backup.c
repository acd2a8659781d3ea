/* agentctl vm backup / vm restore / backup list in xenmeshd; see
 * ctl_backup.h. */
#define LOG_SUBSYS "backup"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup.h"
#include "ctl_backup.h"
#include "ctl_vm.h"
#include "ctl_volwait.h"
#include "log.h"
#include "san.h"
#include "san_plan.h"
#include "sibling.h"
#include "snapshot.h"
#include "vmtable.h"
#include "voltable.h"
#include "xlcfg.h"
#include "xm_error.h"

#define LIST_MSG_MAX  (1024 * 1024)

/* The one job of this node. */
struct ctl_job {
	struct agent *a;
	qb_ipcs_connection_t *c;
	uint32_t uid;
	struct runner *runner;
	struct backup_job *job;
	bool as;                        /* restore --as: a new VM */
	/* vol_make in flight: the old volume removed, then the new one made */
	struct volwait vw;
	char vm[VM_NAME_MAX], disk[VOL_DISK_MAX];
	uint64_t size;
	backup_vol_fn *vol_cb;
	void *vol_cbdata;
	/* define in flight */
	backup_done_fn *def_cb;
	void *def_cbdata;
	int def_rc;
	char def_err[256];
};


/* Here, or -EREMOTE with a message naming where. */
static int
on_active_san(struct agent *a, const char *what, char *msg, size_t len)
{
	const struct state *st = &a->rep.st;
	const struct node_rec *san = state_node(st, st->active_san);

	if (a->cfg.role == NODE_ROLE_SAN && st->active_san == a->rep.local_id &&
	    a->rep.local_id != 0)
		return 0;
	if (san != NULL)
		snprintf(msg, len, "%s runs on the active SAN node %s, which has the "
			 "volumes and the backups: run agentctl there", what, san->name);
	else
		snprintf(msg, len, "%s runs on the active SAN node, and there is none "
			 "now", what);
	return -EREMOTE;
}

static void
job_close_later(void *data)
{
	struct ctl_job *cj = data;

	runner_close(cj->runner);
	free(cj);
}

/* The job's answer: to the client, then this node is free again. */
static void
job_done(void *data, int rc, const char *msg)
{
	struct ctl_job *cj = data;

	if (cj->c != NULL) {
		ctl_server_reply(cj->c, rc, msg);
		qb_ipcs_connection_unref(cj->c);
		cj->c = NULL;
	}
	volwait_stop(&cj->vw);
	cj->job = NULL;
	if (cj->a->backup_job == cj)
		cj->a->backup_job = NULL;
	/* we are inside the runner's callback: close it from the loop */
	if (qb_loop_job_add(cj->a->loop, QB_LOOP_LOW, cj, job_close_later) != 0)
		log_warn("cannot schedule closing a backup runner; it stays open");
}

/* The job of c's request, with env's runner and data its own. */
static struct ctl_job *
job_new(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid, struct backup_env *env,
	char *msg, size_t len)
{
	struct ctl_job *cj;
	int rc;

	if (a->backup_job != NULL) {
		snprintf(msg, len, "a backup or restore runs on this node already; "
			 "try again when it has finished");
		return NULL;
	}
	cj = calloc(1, sizeof(*cj));
	if (cj == NULL) {
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	rc = runner_exec_open(&cj->runner, a->loop, NULL);
	if (rc < 0) {
		snprintf(msg, len, "cannot start a runner: %s", xm_strerror(rc));
		free(cj);
		return NULL;
	}
	cj->a = a;
	cj->uid = uid;
	cj->c = c;
	volwait_init(&cj->vw, a, uid);
	env->runner = cj->runner;
	env->data = cj;
	return cj;
}

/* rc: what backup_start or restore_start said; refused, the job is
 * dropped with the answer why, else it is this node's one job. */
static void
job_begun(struct ctl_job *cj, int rc, const char *why)
{
	if (rc < 0) {
		ctl_server_reply(cj->c, rc, why);
		runner_close(cj->runner);
		free(cj);
		return;
	}
	qb_ipcs_connection_ref(cj->c);
	cj->a->backup_job = cj;
}

static const char *
dest_of(const struct agent *a, const Xenmesh__CtlRequest *req)
{
	return req->backup_dir != NULL && req->backup_dir[0] ? req->backup_dir :
	       a->cfg.backup_dir;
}

/* ---- backup ------------------------------------------------------------- */

static void
ha_text(const struct vm_ha *ha, struct backup_control *c)
{
	size_t o = 0;

	snprintf(c->ha_priority, sizeof(c->ha_priority), "%" PRIu32, ha->priority);
	snprintf(c->ha_restart, sizeof(c->ha_restart), "%s", vm_restart_name(ha->restart));
	snprintf(c->ha_max_restarts, sizeof(c->ha_max_restarts), "%" PRIu32,
		 ha->max_restarts);
	snprintf(c->ha_restart_window, sizeof(c->ha_restart_window), "%" PRIu32,
		 ha->restart_window_s);
	for (uint32_t i = 0; i < ha->n_hosts && o < sizeof(c->ha_hosts); i++)
		o += (size_t)snprintf(c->ha_hosts + o, sizeof(c->ha_hosts) - o, "%s%s",
				      i ? " " : "", ha->hosts[i]);
	snprintf(c->ha_anti_affinity, sizeof(c->ha_anti_affinity), "%s", ha->anti_affinity);
	o = 0;
	for (uint32_t i = 0; i < ha->n_after && o < sizeof(c->ha_start_after); i++)
		o += (size_t)snprintf(c->ha_start_after + o, sizeof(c->ha_start_after) - o,
				      "%s%s", i ? " " : "", ha->after[i]);
}

static void
vm_backup(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	  const Xenmesh__CtlRequest *req)
{
	const struct state *st = &a->rep.st;
	const struct node_rec *self;
	const struct vm_rec *v;
	struct san_plan_conf pc;
	struct backup_params *p;
	struct backup_env env = { 0 };
	struct ctl_job *cj;
	char msg[BACKUP_MSG_MAX];
	int rc;

	if (req->n_args != 1) {
		ctl_server_reply(c, -EINVAL, "vm backup needs the VM's name");
		return;
	}
	if (on_active_san(a, "vm backup", msg, sizeof(msg)) < 0) {
		ctl_server_reply(c, -EREMOTE, msg);
		return;
	}
	v = state_vm(st, req->args[0]);
	if (v == NULL) {
		snprintf(msg, sizeof(msg), "no VM %.64s", req->args[0]);
		ctl_server_reply(c, -ENOENT, msg);
		return;
	}
	if (strcmp(a->cfg.backend, "lvm") == 0 && a->cfg.no_devmapper) {
		ctl_server_reply(c, -EOPNOTSUPP, "[storage] no_devmapper: an LVM snapshot "
				 "cannot be read without device-mapper");
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	san_plan_conf_of(a, &pc);
	for (size_t i = 0; i < st->n_vols; i++) {
		const struct vol_rec *vol = &st->vols[i];
		struct backup_source *src;

		if (strcmp(vol->vm, v->name) != 0)
			continue;
		/* a `vm save` image belongs to one instance and a restore
		 * makes a fresh one: not the VM's data, and as large as its
		 * memory (found under QEMU: most of a backup's time) */
		if (strcmp(vol->disk, VM_SAVE_DISK) == 0)
			continue;
		if (vol->state != VOL_STATE_READY) {
			snprintf(msg, sizeof(msg), "volume %s is %s, not ready: not backed up",
				 vol->name, vol_state_name(vol->state));
			ctl_server_reply(c, -EBUSY, msg);
			goto out;
		}
		if (p->n_src >= BACKUP_VOLS_MAX) {
			ctl_server_reply(c, -E2BIG, "more volumes than a backup holds");
			goto out;
		}
		src = &p->src[p->n_src++];
		snprintf(src->disk, sizeof(src->disk), "%s", vol->disk);
		src->size_bytes = vol->size_bytes;
		if (pc.file_backend)
			rc = san_vol_backing(&pc, vol, src->path, sizeof(src->path));
		else
			rc = snprintf(src->path, sizeof(src->path), "%s", vol->name) < 0 ? -EINVAL : 0;
		/* the snapshot holds DRBD's metadata after the data: the
		 * DRBD device's size tells where the data ends */
		if (rc == 0 && pc.drbd)
			rc = san_vol_device(&pc, vol, src->data_dev, sizeof(src->data_dev));
		if (rc < 0) {
			ctl_server_reply(c, -ENAMETOOLONG, "volume path too long");
			goto out;
		}
	}
	p->dest = dest_of(a, req);
	p->lvm = !pc.file_backend;
	p->lvm_conf.vg = a->cfg.vg;
	p->lvm_conf.no_devmapper = a->cfg.no_devmapper;
	p->share_pct = (unsigned)a->cfg.backup_snapshot_percent;
	p->now_s = (uint64_t)time(NULL);
	p->cfg_text = v->config;
	snprintf(p->ctl.vm, sizeof(p->ctl.vm), "%s", v->name);
	self = state_node(st, a->rep.local_id);
	snprintf(p->ctl.node, sizeof(p->ctl.node), "%s", self ? self->name : "");
	snprintf(p->ctl.state, sizeof(p->ctl.state), "%s", vm_state_name(v->state));
	ha_text(&v->ha, &p->ctl);
	cj = job_new(a, c, uid, &env, msg, sizeof(msg));
	if (cj == NULL) {
		ctl_server_reply(c, -EBUSY, msg);
		goto out;
	}
	log_notice("uid %u asks vm backup %s into %s", (unsigned)uid, v->name, p->dest);
	rc = backup_start(&env, p, job_done, cj, &cj->job, msg, sizeof(msg));
	job_begun(cj, rc, msg);
out:
	free(p);
}

/* ---- restore: the cluster side ------------------------------------------ */

static int
env_target_check(void *data, const char *vm, char *why, size_t len)
{
	struct ctl_job *cj = data;
	struct agent *a = cj->a;
	const struct vm_rec *v = state_vm(&a->rep.st, vm);
	const struct node_rec *h;

	if (on_active_san(a, "vm restore", why, len) < 0)
		return -EREMOTE;
	if (v != NULL && cj->as) {
		snprintf(why, len, "VM %s exists: choose another name for --as", vm);
		return -EEXIST;
	}
	if (v != NULL && vm_uses_storage(v)) {
		h = state_node(&a->rep.st, v->host);
		snprintf(why, len, "VM %s is %s%s%s: stop it first (agentctl vm stop %s), "
			 "or restore a copy with --as NEWNAME; nothing was changed", vm,
			 vm_state_name(v->state), h ? " on " : "", h ? h->name : "", vm);
		return -EBUSY;
	}
	if (cj->as) {
		for (size_t i = 0; i < a->rep.st.n_vols; i++) {
			if (strcmp(a->rep.st.vols[i].vm, vm) == 0) {
				snprintf(why, len, "volume %s exists (of no defined VM %s): "
					 "remove it or choose another name",
					 a->rep.st.vols[i].name, vm);
				return -EEXIST;
			}
		}
	}
	return 0;
}

static void
vol_answer(struct ctl_job *cj, int rc, const char *path, const char *why)
{
	backup_vol_fn *cb = cj->vol_cb;

	cj->vol_cb = NULL;
	cb(cj->vol_cbdata, rc, path, why);
}

/* The new volume is ready here: the device the image is unpacked onto is
 * the one the target exports (under DRBD /dev/drbdN, not the LV, which
 * DRBD owns). */
static void
vol_made(void *data, int rc, bool recorded, const char *why)
{
	struct ctl_job *cj = data;
	const struct vol_rec *v = state_vol(&cj->a->rep.st, cj->vw.vol);
	struct san_plan_conf pc;
	char path[PATH_MAX], msg[VOL_NAME_MAX + 64];

	(void)recorded;
	if (rc == 0 && v == NULL) {
		rc = -ENOENT;
		why = "the volume is gone";
	}
	if (rc == 0) {
		san_plan_conf_of(cj->a, &pc);
		rc = san_vol_device(&pc, v, path, sizeof(path));
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "volume %s: device path too long", v->name);
			why = msg;
		}
	}
	vol_answer(cj, rc, rc < 0 ? NULL : path, why);
}

/* The old volume is gone (or was never there): make the new one. */
static void
vol_removed(void *data, int rc, bool recorded, const char *why)
{
	struct ctl_job *cj = data;

	(void)recorded;
	if (rc < 0) {
		vol_answer(cj, rc, NULL, why);
		return;
	}
	volwait_create(&cj->vw, cj->vm, cj->disk, cj->size, "for a restore", vol_made, cj);
}

static void
env_vol_make(void *data, const char *vm, const char *disk, uint64_t size,
	     backup_vol_fn *cb, void *cbdata)
{
	struct ctl_job *cj = data;
	char name[VOL_NAME_MAX], why[256];
	int rc;

	cj->vol_cb = cb;
	cj->vol_cbdata = cbdata;
	cj->size = size;
	snprintf(cj->vm, sizeof(cj->vm), "%s", vm);
	snprintf(cj->disk, sizeof(cj->disk), "%s", disk);
	rc = vol_name_make(name, sizeof(name), vm, disk, why, sizeof(why));
	if (rc < 0)
		rc = volwait_fail(&cj->vw, rc, why, vol_removed, cj);
	else
		rc = volwait_remove(&cj->vw, name, "for a restore", vol_removed, cj);
	if (rc < 0)
		/* no timer: said now, which restore_go takes (its last step) */
		vol_answer(cj, rc, NULL, "cannot arm a timer to watch the volume");
}

static void
env_vol_drop(void *data, const char *vm, const char *disk)
{
	struct ctl_job *cj = data;
	char name[VOL_NAME_MAX], why[256];

	if (vol_name_make(name, sizeof(name), vm, disk, why, sizeof(why)) < 0)
		return;
	(void)volwait_remove_submit(cj->a, cj->uid, name, "(a failed restore)", NULL, NULL);
}

static void
defined_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	     const char *reason)
{
	struct ctl_job *cj = data;
	backup_done_fn *cb = cj->def_cb;

	(void)a;
	(void)c;
	cj->def_cb = NULL;
	cb(cj->def_cbdata, result, reason);
}

static void
define_refused(void *data)
{
	struct ctl_job *cj = data;

	defined_then(cj->a, cj, NULL, cj->def_rc, cj->def_err);
}

static void
env_define(void *data, const char *cfg, backup_done_fn *cb, void *cbdata)
{
	struct ctl_job *cj = data;
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__VmHa ha;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER];
	char restart[16], err[256] = "";
	struct ctl_mutation m = { .uid = cj->uid };
	struct vm_config *conf = malloc(sizeof(*conf));
	int rc;

	cj->def_cb = cb;
	cj->def_cbdata = cbdata;
	m.then = defined_then;
	m.then_data = cj;
	rc = conf == NULL ? -ENOMEM :
	     xlcfg_parse(cfg, strlen(cfg), "vm.cfg", conf, err, sizeof(err));
	if (rc < 0) {
		/* checked before (restore_params.cfg_check), so not expected;
		 * the answer must still come later, from the loop */
		snprintf(cj->def_err, sizeof(cj->def_err), "%s", err[0] ? err : xm_strerror(rc));
		cj->def_rc = rc;
		free(conf);
		if (qb_loop_job_add(cj->a->loop, QB_LOOP_LOW, cj, define_refused) != 0)
			log_err("cannot schedule an answer: the restore hangs");
		return;
	}
	d.name = conf->name;
	d.config = (char *)cfg;
	d.memory_mb = conf->memory_mb;
	vm_ha_to_pb(&conf->ha, &ha, hosts, after, restart, sizeof(restart));
	d.ha = &ha;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	snprintf(m.what, sizeof(m.what), "vm define %s (restored from a backup)",
		 conf->name);
	ctl_server_submit(cj->a, NULL, &m, &op);
	free(conf);
}

static int
cfg_check(const char *cfg, char *why, size_t len)
{
	struct vm_config *conf = malloc(sizeof(*conf));
	int rc;

	if (conf == NULL)
		return -ENOMEM;
	rc = xlcfg_parse(cfg, strlen(cfg), "vm.cfg", conf, why, len);
	free(conf);
	return rc;
}

static void
vm_restore(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	   const Xenmesh__CtlRequest *req)
{
	struct restore_params *p;
	struct backup_env env = { 0 };
	struct ctl_job *cj;
	const char *stamp, *as;
	char msg[BACKUP_MSG_MAX];
	int rc;

	if (req->n_args != 3) {
		ctl_server_reply(c, -EINVAL, "vm restore needs the VM, the backup and "
				 "the new name (\"\" for none)");
		return;
	}
	if (on_active_san(a, "vm restore", msg, sizeof(msg)) < 0) {
		ctl_server_reply(c, -EREMOTE, msg);
		return;
	}
	stamp = req->args[1][0] ? req->args[1] : NULL;
	as = req->args[2][0] ? req->args[2] : NULL;
	if (as != NULL && vol_name_make(msg, sizeof(msg), as, "root", msg, sizeof(msg)) < 0) {
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	rc = backup_find(dest_of(a, req), req->args[0], stamp, p->dir, sizeof(p->dir),
			 msg, sizeof(msg));
	if (rc < 0) {
		ctl_server_reply(c, rc, msg);
		goto out;
	}
	p->vm = req->args[0];
	p->as = as;
	p->root_size = req->has_disk_size ? req->disk_size : 0;
	p->memory_mb = req->has_memory_mb ? req->memory_mb : 0;
	p->cfg_check = cfg_check;
	sibling_program("xenmesh-unpack", p->unpack_prog, sizeof(p->unpack_prog));
	cj = job_new(a, c, uid, &env, msg, sizeof(msg));
	if (cj == NULL) {
		ctl_server_reply(c, -EBUSY, msg);
		goto out;
	}
	cj->as = as != NULL;
	env.target_check = env_target_check;
	env.vol_make = env_vol_make;
	env.vol_drop = env_vol_drop;
	env.define = env_define;
	log_notice("uid %u asks vm restore %s%s%s from %s", (unsigned)uid, p->vm,
		   as ? " as " : "", as ? as : "", p->dir);
	rc = restore_start(&env, p, job_done, cj, &cj->job, msg, sizeof(msg));
	job_begun(cj, rc, msg);
out:
	free(p);
}

/* ---- list ---------------------------------------------------------------- */

static void
backup_list_answer(struct agent *a, qb_ipcs_connection_t *c,
		   const Xenmesh__CtlRequest *req)
{
	struct backup_info *v;
	size_t n, o = 0;
	char why[300], *text;
	int rc;

	if (a->cfg.role != NODE_ROLE_SAN) {
		if (on_active_san(a, "backup list", why, sizeof(why)) < 0) {
			ctl_server_reply(c, -EREMOTE, why);
			return;
		}
	}
	rc = backup_list(dest_of(a, req), req->n_args > 0 && req->args[0][0] ?
			 req->args[0] : NULL, &v, &n, why, sizeof(why));
	if (rc < 0) {
		ctl_server_reply(c, rc, why);
		return;
	}
	text = malloc(LIST_MSG_MAX);
	if (text == NULL) {
		free(v);
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	text[0] = '\0';
	for (size_t i = 0; i < n && o < LIST_MSG_MAX; i++)
		o += (size_t)snprintf(text + o, LIST_MSG_MAX - o, "%s\t%s\t%" PRIu64 "\t%"
				      PRIu64 "\t%s\t%s\t%s\n", v[i].vm, v[i].stamp,
				      v[i].time_s, v[i].bytes, v[i].status, v[i].volumes,
				      v[i].why);
	ctl_server_reply(c, 0, text);
	free(text);
	free(v);
}

void
ctl_backup_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		   const Xenmesh__CtlRequest *req)
{
	if (req->backup_dir != NULL && req->backup_dir[0] != '/') {
		ctl_server_reply(c, -EINVAL, "--dest must be an absolute path");
		return;
	}
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_VM_BACKUP:
		vm_backup(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_RESTORE:
		vm_restore(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_BACKUP_LIST:
		backup_list_answer(a, c, req);
		break;
	default:
		ctl_server_reply(c, -EOPNOTSUPP, "not a backup command");
		break;
	}
}

void
ctl_backup_stop(struct agent *a)
{
	struct ctl_job *cj = a->backup_job;

	if (cj == NULL)
		return;
	a->backup_job = NULL;
	volwait_stop(&cj->vw);
	if (cj->c != NULL) {
		ctl_server_reply(cj->c, -ESHUTDOWN, "xenmeshd is stopping: the backup "
				 "or restore was cut short");
		qb_ipcs_connection_unref(cj->c);
		cj->c = NULL;
	}
	/* the job cleans up what it can and never answers; a pending env
	 * callback would find cj gone, so none may come: the timers are
	 * deleted above and replica requests die with the agent */
	backup_job_abandon(cj->job);
	runner_close(cj->runner);
	/* cj is leaked on purpose if the job still waits for an env answer */
}
