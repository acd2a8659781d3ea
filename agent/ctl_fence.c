/* The fencing side of agentctl in xenmeshd (see ctl_fence.h).
 *
 * A fence configuration is checked here with the parser the coordinator
 * runs (fence_config_parse), so that a typo is answered with its line
 * instead of surfacing when a host must be fenced; the text committed is
 * the file as written (comments kept).  `node fence` only marks the host
 * unclean: the coordinator fences an unclean host with its chain, and a
 * live member that sees itself unclean self-fences (agent/guard.c), so a
 * manual fence takes exactly the path of a real failure.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "ctl_fence.h"
#include "ctl_vm.h"
#include "log.h"
#include "xm_error.h"

#define SHOW_START (64 * 1024)
#define SHOW_MAX   (4 * 1024 * 1024)

/* Appends to buf, cutting with "..." when it does not fit. */
static void
msg_add(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
msg_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	int n;

	if (used + 4 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= len - used)
		(void)snprintf(buf + len - 4, 4, "...");
}

/* ---- admission -------------------------------------------------------- */

/* As ha/decide.c's hosts: only these take VMs. */
static bool
host_eligible(const struct node_rec *n, const char **why)
{
	*why = NULL;
	if (n->state != NODE_STATE_ONLINE)
		*why = node_state_name(n->state);
	else if (n->flags & NODE_FLAG_MAINTENANCE)
		*why = "maintenance";
	else if (n->flags & NODE_FLAG_STANDBY)
		*why = "standby";
	else if (n->watchdog_s == 0)
		*why = "no watchdog";
	return *why == NULL;
}

/* Holds memory on its host (as ha/decide.c counts it). */
static bool
vm_holds_memory(enum vm_state st)
{
	return st == VM_STATE_STARTING || st == VM_STATE_RUNNING ||
	       st == VM_STATE_STOPPING || st == VM_STATE_MIGRATING ||
	       st == VM_STATE_RECOVERING;
}

/* An instance the cluster would restart if its host failed. */
static bool
vm_would_restart(const struct vm_rec *v)
{
	return v->want_running && v->ha.restart != VM_RESTART_NEVER &&
	       (v->state == VM_STATE_STARTING || v->state == VM_STATE_RUNNING ||
		v->state == VM_STATE_MIGRATING);
}

static struct placement_host *
host_by_id(struct placement_host *hosts, size_t nh, uint32_t id)
{
	size_t i;

	for (i = 0; i < nh; i++)
		if (hosts[i].id == id)
			return &hosts[i];
	return NULL;
}

int
ctl_fence_admission(const struct state *st, struct admission_report *rep)
{
	struct placement_host hosts[PLACEMENT_MAX_HOSTS];
	struct placement_vm *vms = NULL;
	size_t nh = 0, nv = 0, i;
	int rc;

	if (st == NULL || rep == NULL)
		return -EINVAL;
	for (i = 0; i < st->n_nodes && nh < PLACEMENT_MAX_HOSTS; i++) {
		const struct node_rec *n = &st->nodes[i];
		struct placement_host *h;

		if (n->role != NODE_ROLE_DOM0)
			continue;
		h = &hosts[nh++];
		memset(h, 0, sizeof(*h));
		h->id = n->id;
		(void)snprintf(h->name, sizeof(h->name), "%s", n->name);
		h->eligible = host_eligible(n, &h->why_not);
		h->mem_free_mb = n->mem_total_mb;
	}
	if (st->n_vms > 0) {
		vms = calloc(st->n_vms, sizeof(*vms));
		if (vms == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		struct placement_host *h = host_by_id(hosts, nh, v->host);

		if (h == NULL)
			continue;
		if (vm_holds_memory(v->state))
			h->mem_free_mb -= h->mem_free_mb > v->memory_mb ?
				v->memory_mb : h->mem_free_mb;
		/* the others still hold their memory, but nobody would
		 * restart them: they cannot fail the check */
		if (!vm_would_restart(v))
			continue;
		(void)snprintf(vms[nv].name, sizeof(vms[nv].name), "%s", v->name);
		vms[nv].memory_mb = v->memory_mb;
		vms[nv].ha = &v->ha;
		vms[nv].current_host = v->host;
		nv++;
	}
	rc = placement_admission(hosts, nh, vms, nv, rep);
	free(vms);
	return rc;
}

/* ---- fence configuration ---------------------------------------------- */

int
ctl_fence_config_check(const struct state *st, const char *file,
		       const char *text, char *msg, size_t len)
{
	struct fence_config cfg = { 0 };
	char err[CTL_FENCE_MSG_MAX] = "";
	size_t i, n_unknown = 0;
	int rc;

	if (text == NULL || file == NULL) {
		xm_why(msg, len, "fence config set needs a file name and its text");
		return -EINVAL;
	}
	rc = fence_config_parse(text, &cfg, err, sizeof(err));
	if (rc < 0) {
		xm_why(msg, len, "%s: %s", file,
			err[0] != '\0' ? err : xm_strerror(rc));
		return rc;
	}
	if (cfg.n_hosts == 0) {
		xm_why(msg, len, "fence configuration replaced: no host named "
			"(every host uses the default chain)");
		goto out_free;
	}
	xm_why(msg, len, "fence configuration replaced: %zu host%s (",
		cfg.n_hosts, cfg.n_hosts == 1 ? "" : "s");
	for (i = 0; i < cfg.n_hosts; i++)
		msg_add(msg, len, "%s%s", i ? ", " : "", cfg.hosts[i].host);
	msg_add(msg, len, ")");
	/* a host that has not joined yet is fine (it may come), but a typo
	 * would leave the real one on the default chain: say so */
	for (i = 0; i < cfg.n_hosts; i++) {
		if (st != NULL && state_node_by_name(st, cfg.hosts[i].host) != NULL)
			continue;
		msg_add(msg, len, "%s%s", n_unknown++ ? ", " :
			"; not known to the cluster: ", cfg.hosts[i].host);
	}
out_free:
	fence_config_free(&cfg);
	return 0;
}

int
ctl_fence_config_show(const char *stored, bool redact, char **text,
		      char *msg, size_t len)
{
	struct fence_config cfg = { 0 };
	char err[CTL_FENCE_MSG_MAX] = "";
	size_t cap = SHOW_START;
	char *buf = NULL;
	int rc;

	*text = NULL;
	if (stored == NULL || stored[0] == '\0') {
		*text = strdup("");
		return *text != NULL ? 0 : -ENOMEM;
	}
	rc = fence_config_parse(stored, &cfg, err, sizeof(err));
	if (rc < 0) {
		xm_why(msg, len, "the replicated fence configuration does not "
			"parse (%s); replace it with agentctl fence config set",
			err[0] != '\0' ? err : xm_strerror(rc));
		return rc;
	}
	for (;;) {
		char *nb = realloc(buf, cap);

		if (nb == NULL) {
			rc = -ENOMEM;
			break;
		}
		buf = nb;
		rc = fence_config_format(&cfg, redact, buf, cap);
		if (rc != -ENOSPC || cap >= SHOW_MAX)
			break;
		cap *= 2;
	}
	fence_config_free(&cfg);
	if (rc < 0) {
		xm_why(msg, len, "cannot show the fence configuration: %s",
			xm_strerror(rc));
		free(buf);
		return rc;
	}
	*text = buf;
	return 0;
}

/* ---- status answer ---------------------------------------------------- */

int
ctl_fence_view_fill(const struct state *st, Xenmesh__ClusterView *cv,
		    struct ctl_fence_view *fv)
{
	uint32_t i;
	int rc;

	memset(fv, 0, sizeof(*fv));
	fv->rep = malloc(sizeof(*fv->rep));
	if (fv->rep == NULL)
		return -ENOMEM;
	rc = ctl_fence_admission(st, fv->rep);
	if (rc < 0) {
		ctl_fence_view_free(fv);
		return rc;
	}
	for (i = 0; i < fv->rep->n_failing && i < PLACEMENT_MAX_HOSTS; i++)
		fv->lines[i] = fv->rep->failing[i].summary;
	cv->has_admission_ok = 1;
	cv->admission_ok = fv->rep->ok;
	cv->n_admission = i;
	cv->admission = i > 0 ? fv->lines : NULL;
	return 0;
}

void
ctl_fence_view_free(struct ctl_fence_view *fv)
{
	if (fv == NULL)
		return;
	free(fv->rep);
	memset(fv, 0, sizeof(*fv));
}

/* ---- requests --------------------------------------------------------- */

static void
fence_config_get(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		 const Xenmesh__CtlRequest *req)
{
	Xenmesh__CtlResponse resp = XENMESH__CTL_RESPONSE__INIT;
	bool secrets = req->has_show_secrets && req->show_secrets;
	char msg[CTL_FENCE_MSG_MAX] = "";
	char *text = NULL;
	int rc;

	/* the read group may see the chains, not the passwords in them */
	if (secrets && uid != 0) {
		log_warn("uid %u refused: fence config --show-secrets",
			 (unsigned)uid);
		(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, 0,
				   "access", "uid %u refused: fence config "
				   "--show-secrets", (unsigned)uid);
		ctl_server_reply(c, -EACCES, "permission denied: fence config "
				 "--show-secrets needs root");
		return;
	}
	if (secrets)
		(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, 0,
				   "access", "uid %u read the fence secrets",
				   (unsigned)uid);
	rc = ctl_fence_config_show(a->rep.st.fence_config, !secrets, &text, msg,
				   sizeof(msg));
	if (rc == -EINVAL && secrets && a->rep.st.fence_config != NULL) {
		/* root may see what is stored, to repair it */
		free(text);
		text = strdup(a->rep.st.fence_config);
		rc = text != NULL ? 0 : -ENOMEM;
	}
	if (rc < 0) {
		ctl_server_reply(c, rc, msg[0] != '\0' ? msg : xm_strerror(rc));
		return;
	}
	resp.result = 0;
	resp.fence_config = text;
	ctl_server_answer(c, &resp);
	free(text);
}

static void
fence_config_put(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		 const Xenmesh__CtlRequest *req)
{
	Xenmesh__OpFenceConfig fc = XENMESH__OP_FENCE_CONFIG__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	struct ctl_mutation m;
	char msg[CTL_FENCE_MSG_MAX];
	bool clear = req->command == XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_CLEAR;
	int rc;

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	if (clear) {
		fc.text = (char *)"";
		xm_why(m.done, sizeof(m.done), "fence configuration cleared "
			"(every host uses the default chain)");
		xm_why(m.what, sizeof(m.what), "fence config clear");
	} else {
		if (req->n_args != 1) {
			ctl_server_reply(c, -EINVAL, "fence config set needs a "
					 "file name and its text");
			return;
		}
		rc = ctl_fence_config_check(&a->rep.st, req->args[0], req->config,
					    msg, sizeof(msg));
		if (rc < 0) {
			log_info("uid %u: fence config set refused: %s",
				 (unsigned)uid, msg);
			ctl_server_reply(c, rc, msg);
			return;
		}
		fc.text = req->config;
		xm_why(m.done, sizeof(m.done), "%s", msg);
		xm_why(m.what, sizeof(m.what), "fence config set (from %.64s)",
			req->args[0]);
	}
	op.kind_case = XENMESH__OP__KIND_FENCE_CONFIG;
	op.fence_config = &fc;
	ctl_server_submit(a, c, &m, &op);
}

static void
node_fence(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	   const Xenmesh__CtlRequest *req)
{
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	const struct node_rec *n;
	struct ctl_mutation m;
	char msg[CTL_FENCE_MSG_MAX];

	if (req->n_args != 1 || req->args[0][0] == '\0') {
		ctl_server_reply(c, -EINVAL, "node fence needs a host name");
		return;
	}
	n = state_node_by_name(&a->rep.st, req->args[0]);
	if (n == NULL) {
		xm_why(msg, sizeof(msg), "no node named %.64s", req->args[0]);
		ctl_server_reply(c, -ENOENT, msg);
		return;
	}
	if (n->state == NODE_STATE_UNCLEAN) {
		/* marking it again would change nothing: the run goes on */
		xm_why(msg, sizeof(msg), "%s is already unclean: the "
			"coordinator is fencing it (agentctl fence history, "
			"there)", n->name);
		ctl_server_reply(c, -EALREADY, msg);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.node = n->id;
	xm_why(m.what, sizeof(m.what), "node fence %s", n->name);
	if (n->id == a->rep.local_id)
		xm_why(m.done, sizeof(m.done), "%s (this node) marked unclean: "
			"it self-fences now and its host resets", n->name);
	else if (n->state == NODE_STATE_ONLINE)
		xm_why(m.done, sizeof(m.done), "%s marked unclean: it "
			"self-fences and the coordinator fences it; its HA VMs "
			"restart elsewhere once it is fenced", n->name);
	else
		xm_why(m.done, sizeof(m.done), "%s marked unclean: the "
			"coordinator fences it", n->name);
	if (n->id == a->rep.local_id)
		log_warn("uid %u fences this node (%s)", (unsigned)uid, n->name);
	ns.id = n->id;
	ns.state = XENMESH__NODE_STATE__NODE_UNCLEAN;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	ctl_server_submit(a, c, &m, &op);
}

void
ctl_fence_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		  const Xenmesh__CtlRequest *req)
{
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG:
		fence_config_get(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET:
	case XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_CLEAR:
		fence_config_put(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_NODE_FENCE:
		node_fence(a, c, uid, req);
		break;
	default:
		ctl_server_reply(c, -EOPNOTSUPP, "not a fence command");
		break;
	}
}
