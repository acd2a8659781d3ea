/* `agentctl vm create` and `template list|show` in xenmeshd; see
 * ctl_create.h. */
#define LOG_SUBSYS "create"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ctl_create.h"
#include "ctl_create_int.h"
#include "ctl_volwait.h"
#include "ctl_vm.h"
#include "json.h"
#include "log.h"
#include "macaddr.h"
#include "runner.h"
#include "san.h"
#include "san_plan.h"
#include "state.h"
#include "template.h"
#include "vmcreate.h"
#include "vmmac.h"
#include "vmtable.h"
#include "voltable.h"
#include "xlcfg.h"
#include "xm_error.h"

#define MSG_MAX         1200
#define CONFIG_MAX      (256 * 1024)            /* as the VM table takes */

struct create_req;

struct ctl_create {
	struct agent *a;
	struct runner *runner;          /* opened with the first create */
	struct create_req *running;
};

/* One vm create, from the request to the answer. */
struct create_req {
	struct create_req *next;
	struct ctl_create *cc;
	qb_ipcs_connection_t *c;        /* own reference; NULL: nobody waits */
	uint32_t uid;
	char name[VM_NAME_MAX];
	char tmpl[TEMPLATE_NAME_MAX];
	bool start;
	uint32_t host;                  /* --on, 0: anywhere */
	uint64_t root_bytes, swap_bytes;
	uint64_t image_bytes;           /* raw templates: root.img's size */
	/* the env op in flight (one at a time) */
	struct vmcreate *job;
	struct volwait vw;
};

/* ---- the env of the job: volumes and define through the cluster --------- */

/* The wait's answer, to the job: a volume made, or removed. */
static void
vol_done(void *data, int rc, bool recorded, const char *why)
{
	struct create_req *r = data;

	if (r->vw.removing)
		vmcreate_step_done(r->job, rc, why);
	else
		vmcreate_volume_done(r->job, rc, recorded, why);
}

static int
env_volume_create(void *env, struct vmcreate *job, const char *vm, const char *disk,
		  uint64_t bytes)
{
	struct create_req *r = env;

	r->job = job;
	volwait_create(&r->vw, vm, disk, bytes, "for vm create", vol_done, r);
	return 0;
}

static int
env_volume_remove(void *env, struct vmcreate *job, const char *vol)
{
	struct create_req *r = env;

	r->job = job;
	return volwait_remove(&r->vw, vol, "(undoing vm create)", vol_done, r);
}

static int
env_volume_device(void *env, const char *vol, char *buf, size_t len)
{
	struct create_req *r = env;
	struct agent *a = r->cc->a;
	const struct vol_rec *v = state_vol(&a->rep.st, vol);
	struct san_plan_conf pc;

	if (v == NULL || v->state != VOL_STATE_READY)
		return -ENOENT;
	/* what the target daemon exports: the DRBD device when mirrored
	 * (Primary here, the active SAN node), else the LV or the file */
	san_plan_conf_of(a, &pc);
	return san_vol_device(&pc, v, buf, len);
}

static void
define_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	    const char *reason)
{
	struct create_req *r = data;

	(void)a;
	(void)c;
	vmcreate_step_done(r->job, result, reason);
}

static int
env_define(void *env, struct vmcreate *job, const char *name, const char *config)
{
	struct create_req *r = env;
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__VmHa ha;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER], restart[16], err[256] = "";
	struct ctl_mutation m = { .uid = r->uid };
	struct vm_config *conf = malloc(sizeof(*conf));
	int rc;

	r->job = job;
	if (conf == NULL)
		return -ENOMEM;
	rc = xlcfg_parse(config, strlen(config), name, conf, err, sizeof(err));
	if (rc < 0) {
		free(conf);
		return rc;      /* checked before the job: not expected */
	}
	/* the same op as `vm define` */
	d.name = conf->name;
	d.config = (char *)config;
	d.memory_mb = conf->memory_mb;
	vm_ha_to_pb(&conf->ha, &ha, hosts, after, restart, sizeof(restart));
	d.ha = &ha;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	snprintf(m.what, sizeof(m.what), "vm define %s (vm create from template %s)",
		 name, r->tmpl);
	m.then = define_then;
	m.then_data = r;
	ctl_server_submit(r->cc->a, NULL, &m, &op);
	free(conf);
	return 0;
}

static const struct vmcreate_env_ops env_ops = {
	.volume_create = env_volume_create,
	.volume_remove = env_volume_remove,
	.volume_device = env_volume_device,
	.define = env_define,
};

/* ---- the end of a create ------------------------------------------------- */

static void
req_finish(struct create_req *r, int rc, const char *msg)
{
	struct create_req **pp;

	for (pp = &r->cc->running; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	volwait_stop(&r->vw);
	if (r->c != NULL) {
		ctl_server_reply(r->c, rc, msg);
		qb_ipcs_connection_unref(r->c);
	}
	free(r);
}

/* "vif 0 mac 00:16:3e:..." of the defined VM. */
static void
macs_of(const struct agent *a, const char *name, char *buf, size_t len)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX];
	const struct vm_rec *v = state_vm(&a->rep.st, name);
	char m[MAC_STR_LEN];
	size_t n = 0, used = 0;

	buf[0] = '\0';
	if (v == NULL || v->config == NULL ||
	    mac_cfg_vifs(v->config, vifs, MAC_CFG_VIFS_MAX, &n, NULL, 0) < 0)
		return;
	for (size_t i = 0; i < n && used < len; i++) {
		if (vifs[i].has_mac)
			mac_format(vifs[i].mac, m);
		used += (size_t)snprintf(buf + used, len - used, ", vif %zu mac %s", i,
					 vifs[i].has_mac ? m : "none");
	}
}

static void
start_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	   const char *reason)
{
	struct create_req *r = data;
	char msg[MSG_MAX], macs[200];
	const struct node_rec *n = state_node(&a->rep.st, r->host);

	(void)c;
	macs_of(a, r->name, macs, sizeof(macs));
	if (result < 0)
		xm_why(msg, sizeof(msg), "created VM %s from template %s (root %" PRIu64
		       " MiB, swap %" PRIu64 " MiB%s), but it was not started: %s",
		       r->name, r->tmpl, r->root_bytes >> 20, r->swap_bytes >> 20, macs,
		       reason);
	else
		xm_why(msg, sizeof(msg), "created VM %s from template %s (root %" PRIu64
		       " MiB, swap %" PRIu64 " MiB%s); start requested%s%s", r->name,
		       r->tmpl, r->root_bytes >> 20, r->swap_bytes >> 20, macs,
		       n ? " on " : "", n ? n->name : "");
	req_finish(r, result < 0 ? result : 0, msg);
}

static void
job_done(void *data, int rc, const char *text)
{
	struct create_req *r = data;
	struct agent *a = r->cc->a;
	char msg[MSG_MAX], macs[200];
	Xenmesh__OpVmWant w = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	struct ctl_mutation m = { .uid = r->uid };

	r->job = NULL;
	if (rc < 0) {
		xm_why(msg, sizeof(msg), "VM %s not created: %s", r->name, text);
		req_finish(r, rc, msg);
		return;
	}
	if (!r->start) {
		macs_of(a, r->name, macs, sizeof(macs));
		xm_why(msg, sizeof(msg), "created VM %s from template %s (root %" PRIu64
		       " MiB, swap %" PRIu64 " MiB%s)", r->name, r->tmpl,
		       r->root_bytes >> 20, r->swap_bytes >> 20, macs);
		req_finish(r, 0, msg);
		return;
	}
	w.name = r->name;
	w.running = true;
	w.has_host = r->host != 0;
	w.host = r->host;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &w;
	m.node = r->host;
	snprintf(m.what, sizeof(m.what), "vm start %s (vm create --start)", r->name);
	m.then = start_then;
	m.then_data = r;
	ctl_server_submit(a, NULL, &m, &op);
}

/* ---- vm create: the checks, then the job -------------------------------- */

static int
size_pick(const char *what, uint64_t given, uint64_t dflt, uint64_t *out,
	  char *why, size_t whylen)
{
	uint64_t v = given ? given : dflt;

	if (v < (1ULL << 20) || v > VOL_SIZE_MAX || v % 512 != 0) {
		xm_why(why, whylen, "%s %" PRIu64 " bytes: must be a multiple of 512 "
		       "from 1 MiB to 16 TiB", what, v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Is there room in the file backend's directory? (lvm: the job asks vgs) */
static int
file_space_check(const struct agent *a, uint64_t need, char *why, size_t whylen)
{
	struct statvfs sv;
	uint64_t free_bytes;

	if (statvfs(a->cfg.volume_dir, &sv) < 0) {
		xm_why(why, whylen, "cannot read the free space of %s: %s",
		       a->cfg.volume_dir, strerror(errno));
		return -errno;
	}
	free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (free_bytes < need) {
		xm_why(why, whylen, "not enough space in %s: %" PRIu64 " MiB free, %"
		       PRIu64 " MiB needed (root and swap)", a->cfg.volume_dir,
		       free_bytes >> 20, need >> 20);
		return -ENOSPC;
	}
	return 0;
}

/* A raw template's root.img fits in the root volume: 0 with
 * r->image_bytes, or an error with why (nothing is made yet). */
static int
image_check(const struct tmpl *t, struct create_req *r, char *why, size_t whylen)
{
	char path[PATH_MAX + 16];
	struct stat sb;
	uint64_t mib;

	snprintf(path, sizeof(path), "%s/root.img", t->dir);
	if (stat(path, &sb) < 0) {
		xm_why(why, whylen, "template %s: cannot read %s: %s", t->name, path,
		       strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(sb.st_mode)) {
		xm_why(why, whylen, "template %s: %s is not a file", t->name, path);
		return -EINVAL;
	}
	r->image_bytes = (uint64_t)sb.st_size;
	mib = (r->image_bytes + (1 << 20) - 1) >> 20;
	if (r->image_bytes > r->root_bytes) {
		xm_why(why, whylen, "template %s's image is %" PRIu64 " MiB, larger than "
		       "the root volume (%" PRIu64 " MiB): give --disk %" PRIu64
		       "M or more", t->name, mib, r->root_bytes >> 20, mib);
		return -EFBIG;
	}
	return 0;
}

/* Everything but the job: 0 with *config (malloc'd) and r filled, or an
 * error with why. */
static int
create_check(struct agent *a, const char *name, const Xenmesh__VmCreateSpec *sp,
	     struct create_req *r, struct tmpl *t, char **config, char *why,
	     size_t whylen)
{
	const struct state *st = &a->rep.st;
	struct template_vars vars = { 0 };
	struct template_net net = {
		.hostname = name, .ip = sp->ip, .netmask = sp->netmask,
		.gateway = sp->gateway, .nameserver = sp->nameserver,
	};
	char vol[VOL_NAME_MAX], path[PATH_MAX + 16], mac[MAC_STR_LEN];
	struct vm_config *conf;
	const struct node_rec *n;
	uint64_t m;
	int rc;

	*config = NULL;
	rc = vol_name_make(vol, sizeof(vol), name, "root", why, whylen);
	if (rc < 0)
		return rc;
	if (state_vm(st, name) != NULL) {
		xm_why(why, whylen, "a VM named %s exists already", name);
		return -EEXIST;
	}
	for (const struct create_req *o = a->create->running; o; o = o->next)
		if (strcmp(o->name, name) == 0) {
			xm_why(why, whylen, "VM %s is being created already", name);
			return -EEXIST;
		}
	for (int i = 0; i < 2; i++) {
		snprintf(vol, sizeof(vol), "%s-%s", name, i ? "swap" : "root");
		if (state_vol(st, vol) != NULL) {
			xm_why(why, whylen, "volume %s exists already (agentctl volume "
			       "remove %s, if it is not wanted)", vol, vol);
			return -EEXIST;
		}
	}
	rc = template_net_check(&net, why, whylen);
	if (rc < 0)
		return rc;
	if (sp->mac != NULL) {
		rc = mac_parse(sp->mac, &m, why, whylen);
		if (rc < 0)
			return rc;
		mac_format(m, mac);
		vars.mac = mac;
	}
	if (sp->description != NULL &&
	    (strlen(sp->description) >= TEMPLATE_DESC_MAX ||
	     strpbrk(sp->description, "\"'\\\n") != NULL)) {
		xm_why(why, whylen, "--description: at most %d characters, no quote, "
		       "backslash or newline", TEMPLATE_DESC_MAX - 1);
		return -EINVAL;
	}
	if (sp->on != NULL) {
		n = state_node_by_name(st, sp->on);
		if (n == NULL || n->role != NODE_ROLE_DOM0) {
			xm_why(why, whylen, n ? "node %s is a SAN node: VMs run on dom0 "
			       "hosts" : "unknown node %s", sp->on);
			return n ? -EINVAL : -ENOENT;
		}
		r->host = n->id;
	}
	rc = tmpl_load(a, sp->template_, t, why, whylen);
	if (rc < 0)
		return rc;
	rc = size_pick("--disk", sp->has_disk_bytes ? sp->disk_bytes : 0,
		       t->info.root_size, &r->root_bytes, why, whylen);
	if (rc == 0)
		rc = size_pick("--swap", sp->has_swap_bytes ? sp->swap_bytes : 0,
			       t->info.swap_size, &r->swap_bytes, why, whylen);
	if (rc == 0 && t->info.kind == TEMPLATE_KIND_RAW)
		rc = image_check(t, r, why, whylen);
	if (rc < 0)
		return rc;
	vars.name = name;
	vars.memory_mb = sp->has_memory_mb ? sp->memory_mb : t->info.memory_mb;
	vars.vcpus = sp->has_vcpus ? sp->vcpus : t->info.vcpus;
	if (vars.memory_mb < 16 || vars.memory_mb > TEMPLATE_MEMORY_MAX ||
	    vars.vcpus < 1 || vars.vcpus > TEMPLATE_VCPUS_MAX) {
		xm_why(why, whylen, "--memory from 16 to %u MB, --vcpus from 1 to %d",
		       TEMPLATE_MEMORY_MAX, TEMPLATE_VCPUS_MAX);
		return -EINVAL;
	}
	vars.description = sp->description ? sp->description : t->info.description;
	vars.ip = sp->ip;
	snprintf(path, sizeof(path), "%s/vm.cfg.in", t->dir);
	rc = template_cfg_expand(t->skeleton, path, &vars, config, why, whylen);
	if (rc < 0)
		return rc;
	/* the xl.cfg the define will get: refused now, not after the disks */
	conf = malloc(sizeof(*conf));
	if (conf == NULL)
		return -ENOMEM;
	rc = xlcfg_parse(*config, strlen(*config), path, conf, why, whylen);
	if (rc == 0 && strcmp(conf->name, name) != 0) {
		xm_why(why, whylen, "%s gives name = \"%s\", not the VM's: use @NAME@",
		       path, conf->name);
		rc = -EINVAL;
	}
	free(conf);
	if (rc == 0)
		rc = vmmac_check(st, name, *config, CONFIG_MAX, why, whylen);
	if (rc == 0 && strcmp(a->cfg.backend, "file") == 0)
		rc = file_space_check(a, r->root_bytes + r->swap_bytes, why, whylen);
	if (rc < 0) {
		free(*config);
		*config = NULL;
	}
	return rc;
}

static struct ctl_create *
create_ctx(struct agent *a)
{
	if (a->create == NULL) {
		a->create = calloc(1, sizeof(*a->create));
		if (a->create != NULL)
			a->create->a = a;
	}
	return a->create;
}

static void
vm_create(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	  const Xenmesh__CtlRequest *req)
{
	const struct node_rec *active = state_node(&a->rep.st, a->rep.st.active_san);
	const Xenmesh__VmCreateSpec *sp = req->create;
	struct vmcreate_spec spec = { 0 };
	struct ctl_create *cc = create_ctx(a);
	char why[600], tree[PATH_MAX + 16], staging[PATH_MAX + 80], *config = NULL;
	struct create_req *r;
	struct tmpl t = { 0 };
	int rc;

	if (cc == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	if (req->n_args != 1 || sp == NULL || sp->template_ == NULL) {
		ctl_server_reply(c, -EINVAL, "vm create needs a VM name and --template");
		return;
	}
	if (a->san == NULL || a->rep.st.active_san != a->rep.local_id) {
		xm_why(why, sizeof(why), "vm create runs on the active SAN node%s%s, "
		       "which writes the new volumes: run agentctl there",
		       active ? ", " : " (there is none now)", active ? active->name : "");
		ctl_server_reply(c, -ENODEV, why);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	r->cc = cc;
	r->uid = uid;
	volwait_init(&r->vw, a, uid);
	r->start = sp->has_start && sp->start;
	snprintf(r->name, sizeof(r->name), "%.*s", (int)sizeof(r->name) - 1, req->args[0]);
	snprintf(r->tmpl, sizeof(r->tmpl), "%.*s", (int)sizeof(r->tmpl) - 1, sp->template_);
	rc = create_check(a, req->args[0], sp, r, &t, &config, why, sizeof(why));
	if (rc == 0 && cc->runner == NULL) {
		rc = runner_exec_open(&cc->runner, a->loop, NULL);
		if (rc < 0)
			xm_why(why, sizeof(why), "cannot start the command runner: %s",
			       xm_strerror(rc));
	}
	if (rc < 0) {
		log_info("uid %u: vm create %.64s refused: %s", (unsigned)uid,
			 req->args[0], why);
		ctl_server_reply(c, rc, why);
		goto out;
	}
	snprintf(tree, sizeof(tree), "%s/%s", t.dir,
		 t.info.kind == TEMPLATE_KIND_RAW ? "root.img" : "root");
	snprintf(staging, sizeof(staging), "%s/create-%s.staging", a->cfg.state_dir,
		 r->name);
	spec.name = r->name;
	spec.os = t.info.os;
	if (t.info.kind == TEMPLATE_KIND_RAW) {
		spec.image = tree;
		spec.image_bytes = r->image_bytes;
	} else {
		spec.tree = tree;
	}
	spec.staging = staging;
	spec.net.hostname = r->name;
	spec.net.ip = sp->ip;
	spec.net.netmask = sp->netmask;
	spec.net.gateway = sp->gateway;
	spec.net.nameserver = sp->nameserver;
	spec.root_bytes = r->root_bytes;
	spec.swap_bytes = r->swap_bytes;
	spec.config = config;
	if (strcmp(a->cfg.backend, "file") != 0) {
		spec.vg = a->cfg.vg;
		spec.no_devmapper = a->cfg.no_devmapper;
	}
	qb_ipcs_connection_ref(c);
	r->c = c;
	r->next = cc->running;
	cc->running = r;
	log_notice("uid %u asks vm create %s from template %s", (unsigned)uid,
		   r->name, r->tmpl);
	rc = vmcreate_start(&spec, cc->runner, &env_ops, r, job_done, r);
	if (rc < 0) {
		xm_why(why, sizeof(why), "vm create %s: %s", r->name, xm_strerror(rc));
		req_finish(r, rc, why);
	}
	r = NULL;
out:
	free(r);
	free(config);
	tmpl_free(&t);
}

void
ctl_create_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		   const Xenmesh__CtlRequest *req)
{
	(void)uid;
	if (req->command == XENMESH__CTL_COMMAND__CTL_VM_CREATE) {
		vm_create(a, c, uid, req);
		return;
	}
	if (a->cfg.role != NODE_ROLE_SAN) {
		ctl_server_reply(c, -ENODEV, "templates are on the SAN nodes: run "
				 "agentctl template there");
		return;
	}
	if (req->n_args == 1 && strcmp(req->args[0], "list") == 0)
		template_list(a, c, req->has_json && req->json);
	else if (req->n_args == 2 && strcmp(req->args[0], "show") == 0)
		template_show(a, c, req->args[1], req->has_json && req->json);
	else
		ctl_server_reply(c, -EINVAL, "template list, or template show TEMPLATE");
}

void
ctl_create_stop(struct agent *a)
{
	struct ctl_create *cc = a->create;

	if (cc == NULL)
		return;
	if (cc->running != NULL) {
		/* the job's commands are killed with the runner; what it made
		 * stays (volume list shows it) */
		log_warn("vm create %s interrupted by the stop: its volumes may be "
			 "left behind", cc->running->name);
		return;         /* its callbacks still point here */
	}
	runner_close(cc->runner);
	free(cc);
	a->create = NULL;
}
