/* The VM commands of agentctl in xenmeshd (see ctl_vm.h).
 *
 * Each command checks what the client can be told at once (an unknown VM
 * or host, an xl.cfg that does not parse, with its file:line) and builds
 * the Op; the replicated state validates it again when it is committed.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "ctl_vm.h"
#include "log.h"
#include "macaddr.h"
#include "state.h"
#include "vmtable.h"
#include "xlcfg.h"
#include "xm_error.h"

#define RESTART_POLL_MS 200
#define MSG_MAX         320

/* A `vm restart` between its stop and its start. */
struct ctl_vm_restart {
	struct ctl_vm_restart *next;
	struct ctl_vm *vm;
	struct agent *a;
	qb_ipcs_connection_t *conn;     /* own reference, NULL: nobody waits */
	uint32_t uid;
	char name[VM_NAME_MAX];
	uint32_t want_host;             /* `vm start --on` it had, kept */
	uint64_t deadline_ms;           /* monotonic */
	qb_loop_timer_handle timer;
	bool linked;                    /* in vm->waiting */
};

static uint64_t
now_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A VM that has no instance any more, or never gets one by itself. */
static bool
vm_settled(enum vm_state st)
{
	return st == VM_STATE_STOPPED || st == VM_STATE_FAILED ||
	       st == VM_STATE_UNPLACEABLE;
}

void
ctl_vm_mutation_init(struct ctl_mutation *m, uint32_t uid, const char *done,
		     const char *fmt, ...)
{
	va_list ap;

	memset(m, 0, sizeof(*m));
	m->uid = uid;
	(void)snprintf(m->done, sizeof(m->done), "%s", done);
	va_start(ap, fmt);
	(void)vsnprintf(m->what, sizeof(m->what), fmt, ap);
	va_end(ap);
}

const struct vm_rec *
ctl_vm_find(struct agent *a, qb_ipcs_connection_t *c,
	    const Xenmesh__CtlRequest *req, size_t max_args, const char *cmd)
{
	const struct vm_rec *v;
	char msg[MSG_MAX];

	if (req->n_args < 1 || req->n_args > max_args ||
	    req->args[0][0] == '\0') {
		xm_why(msg, sizeof(msg), "vm %s needs a VM name%s", cmd,
			max_args > 1 ? " and at most a host" : "");
		ctl_server_reply(c, -EINVAL, msg);
		return NULL;
	}
	v = state_vm(&a->rep.st, req->args[0]);
	if (v == NULL) {
		xm_why(msg, sizeof(msg), "no VM named %.64s", req->args[0]);
		ctl_server_reply(c, -ENOENT, msg);
	}
	return v;
}

/* ---- define, undefine, cleanup ---------------------------------------- */

/* The answer to a `vm define`: with the MAC of every vif, since those
 * without mac= get theirs only when the definition is committed (ha/vmmac.h). */
static void
define_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	    const char *reason)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX];
	const struct vm_rec *v;
	char *name = data, msg[MSG_MAX], m[MAC_STR_LEN];
	size_t i, n = 0, len;

	if (result < 0) {
		ctl_server_reply(c, result, reason);
		goto out_free;
	}
	len = (size_t)snprintf(msg, sizeof(msg), "defined VM %s", name);
	v = state_vm(&a->rep.st, name);
	if (v != NULL && v->config != NULL &&
	    mac_cfg_vifs(v->config, vifs, MAC_CFG_VIFS_MAX, &n, NULL, 0) < 0)
		n = 0;
	for (i = 0; i < n && len < sizeof(msg); i++) {
		if (vifs[i].has_mac)
			mac_format(vifs[i].mac, m);
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
					"%svif %zu mac %s%s", i ? ", " : " (", i,
					vifs[i].has_mac ? m : "none",
					i + 1 == n ? ")" : "");
	}
	ctl_server_reply(c, 0, msg);
out_free:
	free(name);
}

static void
vm_define(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	  const Xenmesh__CtlRequest *req)
{
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__VmHa ha;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER];
	char restart[16], err[MSG_MAX] = "", done[MSG_MAX];
	struct ctl_mutation m;
	struct vm_config *conf;
	int rc;

	if (req->n_args != 1 || req->config == NULL) {
		ctl_server_reply(c, -EINVAL, "vm define needs the file name "
				 "and the text of an xl.cfg");
		return;
	}
	/* a vm_config is tens of KB: not on the stack */
	conf = malloc(sizeof(*conf));
	if (conf == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	rc = xlcfg_parse(req->config, strlen(req->config), req->args[0], conf,
			 err, sizeof(err));
	if (rc < 0) {
		log_info("uid %u: vm define %.64s refused: %s", (unsigned)uid,
			 req->args[0], err[0] ? err : xm_strerror(rc));
		ctl_server_reply(c, rc, err[0] ? err : xm_strerror(rc));
		goto out_free;
	}
	d.name = conf->name;
	d.config = req->config;
	d.memory_mb = conf->memory_mb;
	vm_ha_to_pb(&conf->ha, &ha, hosts, after, restart, sizeof(restart));
	d.ha = &ha;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	xm_why(done, sizeof(done), "defined VM %s", conf->name);
	ctl_vm_mutation_init(&m, uid, done, "vm define %s (from %.64s)", conf->name,
			     req->args[0]);
	m.then = define_then;
	m.then_data = strdup(conf->name);
	if (m.then_data == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		goto out_free;
	}
	ctl_server_submit(a, c, &m, &op);
out_free:
	free(conf);
}

static void
vm_undefine(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	    const Xenmesh__CtlRequest *req)
{
	Xenmesh__OpVmUndefine u = XENMESH__OP_VM_UNDEFINE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	const struct vm_rec *v = ctl_vm_find(a, c, req, 1, "undefine");
	struct ctl_mutation m;
	char done[MSG_MAX];

	if (v == NULL)
		return;
	u.name = (char *)v->name;
	op.kind_case = XENMESH__OP__KIND_VM_UNDEFINE;
	op.vm_undefine = &u;
	xm_why(done, sizeof(done), "undefined VM %s", v->name);
	ctl_vm_mutation_init(&m, uid, done, "vm undefine %s", v->name);
	ctl_server_submit(a, c, &m, &op);
}

static void
vm_cleanup(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	   const Xenmesh__CtlRequest *req)
{
	Xenmesh__OpVmCleanup cl = XENMESH__OP_VM_CLEANUP__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	const struct vm_rec *v = ctl_vm_find(a, c, req, 1, "cleanup");
	struct ctl_mutation m;
	char done[MSG_MAX];

	if (v == NULL)
		return;
	cl.name = (char *)v->name;
	op.kind_case = XENMESH__OP__KIND_VM_CLEANUP;
	op.vm_cleanup = &cl;
	xm_why(done, sizeof(done), "VM %s: failures cleared", v->name);
	ctl_vm_mutation_init(&m, uid, done, "vm cleanup %s", v->name);
	ctl_server_submit(a, c, &m, &op);
}

/* ---- start, stop ------------------------------------------------------ */

/* The op of a start (running) or stop; host 0: anywhere. */
static void
want_op(const char *name, bool running, uint32_t host, Xenmesh__OpVmWant *w,
	Xenmesh__Op *op)
{
	xenmesh__op_vm_want__init(w);
	xenmesh__op__init(op);
	w->name = (char *)name;
	w->running = running;
	w->has_host = host != 0;
	w->host = host;
	op->kind_case = XENMESH__OP__KIND_VM_WANT;
	op->vm_want = w;
}

/* The request is taken even when nothing may start now (it is kept and
 * acted on later), but the admin is told why the VM will stay stopped. */
static void
start_held_note(const struct agent *a, char *done, size_t len)
{
	size_t n = strlen(done);

	if (!a->qv.ha_enabled)
		snprintf(done + n, len - n, "; it will not start while HA is disabled: %.160s",
			 a->qv.ha_reason[0] ? a->qv.ha_reason : "no quorum");
	else if (a->rep.st.frozen)
		snprintf(done + n, len - n, "; it will not start until cluster "
			 "maintenance ends (agentctl cluster maintenance off)");
}

static void
vm_start(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	 const Xenmesh__CtlRequest *req)
{
	bool resume = req->command == XENMESH__CTL_COMMAND__CTL_VM_RESUME;
	const struct vm_rec *v = ctl_vm_find(a, c, req, 2, resume ? "resume" : "start");
	const struct node_rec *node = NULL;
	Xenmesh__OpVmWant w;
	Xenmesh__Op op;
	struct ctl_mutation m;
	char msg[MSG_MAX];

	if (v == NULL)
		return;
	if (resume && v->saved_gen == 0) {
		xm_why(msg, sizeof(msg), "VM %s has no save image%s", v->name,
			v->save_requested ? " yet: its save is under way" :
			v->state == VM_STATE_STOPPED ? " (agentctl vm start boots it)" :
			"");
		ctl_server_reply(c, -ENOENT, msg);
		return;
	}
	if (req->n_args == 2) {
		node = state_node_by_name(&a->rep.st, req->args[1]);
		if (node == NULL) {
			xm_why(msg, sizeof(msg), "unknown node %.64s",
				req->args[1]);
			ctl_server_reply(c, -ENOENT, msg);
			return;
		}
		if (node->role != NODE_ROLE_DOM0) {
			xm_why(msg, sizeof(msg), "node %s is a SAN node: VMs "
				"run on dom0 hosts", node->name);
			ctl_server_reply(c, -EINVAL, msg);
			return;
		}
	}
	want_op(v->name, true, node ? node->id : 0, &w, &op);
	if (req->has_fresh && req->fresh) {
		w.has_fresh = true;
		w.fresh = true;
	}
	if (v->saved_gen != 0 && !w.fresh) {
		if (resume)
			xm_why(msg, sizeof(msg), "VM %s: resume requested (its "
				"image of generation %" PRIu64 ", %" PRIu64 " MB)", v->name,
				v->saved_gen, v->saved_bytes >> 20);
		else
			xm_why(msg, sizeof(msg), "VM %s: start requested; it resumes "
				"from its save image (--fresh boots it and discards "
				"the image)", v->name);
		ctl_vm_mutation_init(&m, uid, msg, "vm start %s%s%s (resume)", v->name,
				     node ? " on " : "", node ? node->name : "");
		m.node = node ? node->id : 0;
	} else if (node != NULL) {
		xm_why(msg, sizeof(msg), "VM %s: start on %s requested",
			v->name, node->name);
		ctl_vm_mutation_init(&m, uid, msg, "vm start %s on %s", v->name,
				     node->name);
		m.node = node->id;
	} else {
		xm_why(msg, sizeof(msg), "VM %s: start requested", v->name);
		ctl_vm_mutation_init(&m, uid, msg, "vm start %s", v->name);
	}
	start_held_note(a, m.done, sizeof(m.done));
	ctl_server_submit(a, c, &m, &op);
}

static void
vm_stop(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	const Xenmesh__CtlRequest *req)
{
	const struct vm_rec *v = ctl_vm_find(a, c, req, 1, "stop");
	Xenmesh__OpVmWant w;
	Xenmesh__Op op;
	struct ctl_mutation m;
	char done[MSG_MAX];

	if (v == NULL)
		return;
	want_op(v->name, false, 0, &w, &op);
	xm_why(done, sizeof(done), "VM %s: stop requested", v->name);
	ctl_vm_mutation_init(&m, uid, done, "vm stop %s", v->name);
	ctl_server_submit(a, c, &m, &op);
}

/* ---- restart ---------------------------------------------------------- */

static void
restart_unlink(struct ctl_vm_restart *r)
{
	struct ctl_vm_restart **p;

	if (!r->linked)
		return;
	for (p = &r->vm->waiting; *p != NULL; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	r->linked = false;
}

static void
restart_free(struct ctl_vm_restart *r)
{
	if (r == NULL)
		return;
	restart_unlink(r);
	if (r->conn != NULL)
		qb_ipcs_connection_unref(r->conn);
	free(r);
}

/* Ends a restart that will not start the VM again. */
static void
restart_fail(struct ctl_vm_restart *r, int result, const char *msg)
{
	log_warn("uid %u: vm restart %s failed: %s", (unsigned)r->uid, r->name,
		 msg);
	if (r->conn != NULL)
		ctl_server_reply(r->conn, result, msg);
	restart_free(r);
}

static void restart_timer(void *data);

/* Looks again in a moment (also the first time: the coordinator has not
 * acted on the stop yet when it is committed). */
static void
restart_arm(struct ctl_vm_restart *r)
{
	char msg[MSG_MAX];
	int32_t rc;

	rc = qb_loop_timer_add(r->a->loop, QB_LOOP_LOW,
			       RESTART_POLL_MS * QB_TIME_NS_IN_MSEC, r,
			       restart_timer, &r->timer);
	if (rc < 0) {
		xm_why(msg, sizeof(msg), "cannot wait for VM %s to stop: %s; "
			"it stays wanted stopped", r->name, xm_strerror(rc));
		restart_fail(r, rc, msg);
	}
}

/* Starts the VM again once it is settled, else waits a little more. */
static void
restart_check(struct ctl_vm_restart *r)
{
	struct agent *a = r->a;
	const struct vm_rec *v = state_vm(&a->rep.st, r->name);
	uint32_t host = r->want_host;
	Xenmesh__OpVmWant w;
	Xenmesh__Op op;
	struct ctl_mutation m;
	char msg[MSG_MAX];

	if (v == NULL) {
		xm_why(msg, sizeof(msg), "VM %s was undefined during the "
			"restart", r->name);
		restart_fail(r, -ENOENT, msg);
		return;
	}
	if (!vm_settled(v->state)) {
		if (now_mono_ms() >= r->deadline_ms) {
			xm_why(msg, sizeof(msg), "VM %s did not stop within "
				"%d s (it is %s); it stays wanted stopped: "
				"agentctl vm start %s", r->name,
				CTL_VM_RESTART_WAIT_S, vm_state_name(v->state),
				r->name);
			restart_fail(r, -ETIMEDOUT, msg);
			return;
		}
		restart_arm(r);
		return;
	}
	restart_unlink(r);
	/* the host asked with `vm start --on` still applies, if it exists */
	if (host != 0 && state_node(&a->rep.st, host) == NULL)
		host = 0;
	want_op(r->name, true, host, &w, &op);
	xm_why(msg, sizeof(msg), "VM %s: stopped, start requested", r->name);
	ctl_vm_mutation_init(&m, r->uid, msg, "vm restart %s (start)", r->name);
	ctl_server_submit(a, r->conn, &m, &op);
	restart_free(r);
}

static void
restart_timer(void *data)
{
	restart_check(data);
}

/* The stop of a restart was decided (ctl_then_fn). */
static void
restart_stopped(struct agent *a, void *data, qb_ipcs_connection_t *c,
		int result, const char *reason)
{
	struct ctl_vm_restart *r = data;

	(void)a;                /* r knows its agent */
	if (result < 0) {
		/* nothing changed: answered as any refused change */
		if (c != NULL)
			ctl_server_reply(c, result, reason);
		restart_free(r);
		return;
	}
	if (c != NULL) {
		qb_ipcs_connection_ref(c);
		r->conn = c;
	}
	r->deadline_ms = now_mono_ms() + CTL_VM_RESTART_WAIT_S * 1000ULL;
	r->next = r->vm->waiting;
	r->vm->waiting = r;
	r->linked = true;
	restart_arm(r);
}

static void
vm_restart(struct agent *a, struct ctl_vm *vm, qb_ipcs_connection_t *c,
	   uint32_t uid, const Xenmesh__CtlRequest *req)
{
	const struct vm_rec *v = ctl_vm_find(a, c, req, 1, "restart");
	struct ctl_vm_restart *r;
	Xenmesh__OpVmWant w;
	Xenmesh__Op op;
	struct ctl_mutation m;

	if (v == NULL)
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	r->vm = vm;
	r->a = a;
	r->uid = uid;
	(void)snprintf(r->name, sizeof(r->name), "%s", v->name);
	r->want_host = v->want_host;
	want_op(v->name, false, 0, &w, &op);
	ctl_vm_mutation_init(&m, uid, "", "vm restart %s (stop)", v->name);
	m.then = restart_stopped;
	m.then_data = r;
	ctl_server_submit(a, c, &m, &op);
}

/* ---- entry points ----------------------------------------------------- */

void
ctl_vm_request(struct agent *a, struct ctl_vm *vm, qb_ipcs_connection_t *c,
	       uint32_t uid, const Xenmesh__CtlRequest *req)
{
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_VM_DEFINE:
		vm_define(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_UNDEFINE:
		vm_undefine(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_START:
	case XENMESH__CTL_COMMAND__CTL_VM_RESUME:
		vm_start(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_STOP:
		vm_stop(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_RESTART:
		vm_restart(a, vm, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_CLEANUP:
		vm_cleanup(a, c, uid, req);
		break;
	default:
		ctl_server_reply(c, -EOPNOTSUPP, "not a VM change");
		break;
	}
}

void
ctl_vm_view_trim(Xenmesh__State *st, const char *keep)
{
	size_t i;

	for (i = 0; st != NULL && i < st->n_vms; i++) {
		Xenmesh__Vm *v = st->vms[i];

		if (keep != NULL && strcmp(v->name, keep) == 0)
			continue;
		free(v->config);
		v->config = NULL;
	}
}

void
ctl_vm_stop(struct ctl_vm *vm)
{
	while (vm->waiting != NULL) {
		struct ctl_vm_restart *r = vm->waiting;

		(void)qb_loop_timer_del(r->a->loop, r->timer);
		log_warn("vm restart %s abandoned: xenmeshd stops; the VM stays "
			 "wanted stopped", r->name);
		restart_free(r);
	}
}
