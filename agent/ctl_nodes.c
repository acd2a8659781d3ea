/* `agentctl node add | forget`; see ctl_nodes.h. */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corosync_conf.h"
#include "ctl_nodes.h"
#include "ctl_vm.h"
#include "log.h"
#include "nodeconf.h"
#include "nodetable.h"
#include "xm_error.h"

#define MSG_MAX 640

/* The nodelist a change starts from: the cluster's once it has one, else
 * this node's corosync.conf.  0, or -errno with msg. */
static int
base_list(struct agent *a, struct cc_nodelist *nl, char *msg, size_t len)
{
	const struct state *s = &a->rep.st;
	char err[256] = "", *text = NULL;
	int r;

	if (s->nodelist_version > 0) {
		nodeconf_from_state(s, nl);
		return 0;
	}
	r = nodeconf_read(a->cfg.corosync_conf, &text, err, sizeof(err));
	if (r == 0)
		r = cc_parse(text, nl, err, sizeof(err));
	free(text);
	if (r < 0)
		(void)snprintf(msg, len, "%s: %s", a->cfg.corosync_conf,
			       err[0] ? err : xm_strerror(r));
	return r;
}

static int
by_nodeid(const void *x, const void *y)
{
	const struct cs_node *a = x, *b = y;

	return a->nodeid < b->nodeid ? -1 : a->nodeid > b->nodeid;
}

/* nl sorted by node id, as the state keeps it. */
static struct cs_node *
sorted_list(const struct cc_nodelist *nl)
{
	struct cs_node *l = calloc(nl->n > 0 ? nl->n : 1, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (size_t i = 0; i < nl->n; i++) {
		const struct cc_node *n = &nl->nodes[i];

		l[i].nodeid = n->nodeid;
		l[i].votes = n->votes;
		(void)snprintf(l[i].name, sizeof(l[i].name), "%s", n->name);
		l[i].n_addrs = n->n_addrs;
		for (unsigned k = 0; k < n->n_addrs && k < CS_LINKS_MAX; k++)
			(void)snprintf(l[i].addrs[k], CS_ADDR_MAX, "%s", n->addrs[k]);
	}
	qsort(l, nl->n, sizeof(*l), by_nodeid);
	return l;
}

/* The answer of a node add that went through (data: malloc'd text). */
static void
add_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	 const char *reason)
{
	(void)a;
	if (c != NULL)
		ctl_server_reply(c, result, result < 0 ? reason : data);
	free(data);
}

static void
node_add(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	 const Xenmesh__CtlRequest *req)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeAdd na = XENMESH__OP_NODE_ADD__INIT;
	Xenmesh__CorosyncNode **msgs = NULL;
	struct ctl_mutation m = { .uid = uid };
	struct cc_nodelist *nl = NULL;
	const struct cc_node *added;
	struct cs_node *sorted = NULL;
	enum node_role role = NODE_ROLE_DOM0;
	char msg[MSG_MAX] = "", *block = NULL, *answer = NULL;
	void *scratch = NULL;
	int r;

	if (req->n_args != 2) {
		ctl_server_reply(c, -EINVAL, "node add needs NAME and "
				 "ADDRESS[,ADDRESS...] (one address per link)");
		return;
	}
	if (req->role != NULL && strcmp(req->role, "san") == 0)
		role = NODE_ROLE_SAN;
	else if (req->role != NULL && strcmp(req->role, "dom0") != 0) {
		(void)snprintf(msg, sizeof(msg), "role '%.32s' is neither dom0 "
			       "nor san", req->role);
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	if (req->has_nodeid && req->nodeid == 0) {
		ctl_server_reply(c, -EINVAL, "node ids start at 1");
		return;
	}
	if (state_node_by_name(&a->rep.st, req->args[0]) != NULL) {
		(void)snprintf(msg, sizeof(msg), "a node named %.64s is in the "
			       "cluster already", req->args[0]);
		ctl_server_reply(c, -EEXIST, msg);
		return;
	}
	nl = malloc(sizeof(*nl));
	if (nl == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	r = base_list(a, nl, msg, sizeof(msg));
	if (r == 0)
		r = cc_add(nl, req->args[0], req->has_nodeid ? req->nodeid : 0,
			   req->args[1], msg, sizeof(msg));
	if (r < 0) {
		ctl_server_reply(c, r, msg);
		goto out_free;
	}
	added = &nl->nodes[nl->n - 1];
	sorted = sorted_list(nl);
	r = sorted == NULL ? -ENOMEM : cc_format_nodelist(nl, &block);
	if (r == 0)
		r = nodetable_msgs(sorted, nl->n, &msgs, &scratch);
	if (r == 0) {
		answer = malloc(strlen(block) + MSG_MAX);
		r = answer == NULL ? -ENOMEM : 0;
	}
	if (r < 0) {
		ctl_server_reply(c, r, "out of memory");
		goto out_free;
	}
	(void)snprintf(answer, strlen(block) + MSG_MAX,
		       "node %s added (id %u, %s): every node's corosync.conf "
		       "lists it now and corosync reloads it (expected votes %u).\n"
		       "On %s, before starting corosync and xenmeshd: [node] "
		       "role = %s in xenmesh.conf, and this nodelist in "
		       "corosync.conf (agentctl node add --print-config writes "
		       "the whole file):\n\n%s",
		       added->name, added->nodeid, node_role_name(role),
		       cc_votes(nl), added->name, node_role_name(role), block);
	na.id = added->nodeid;
	na.name = (char *)added->name;
	na.role = (Xenmesh__NodeRole)role;
	na.n_nodelist = nl->n;
	na.nodelist = msgs;
	na.base_version = a->rep.st.nodelist_version;
	op.kind_case = XENMESH__OP__KIND_NODE_ADD;
	op.node_add = &na;
	(void)snprintf(m.what, sizeof(m.what), "node add %s (id %u, %s, %s)",
		       added->name, added->nodeid, node_role_name(role),
		       req->args[1]);
	m.then = add_then;
	m.then_data = answer;
	answer = NULL;          /* add_then() frees it, exactly once */
	ctl_server_submit(a, c, &m, &op);

out_free:
	nodetable_msgs_free(msgs, scratch);
	free(answer);
	free(block);
	free(sorted);
	free(nl);
}

static void
node_forget(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	    const Xenmesh__CtlRequest *req)
{
	const struct state *s = &a->rep.st;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeForget nf = XENMESH__OP_NODE_FORGET__INIT;
	Xenmesh__CorosyncNode **msgs = NULL;
	struct ctl_mutation m = { .uid = uid };
	struct cc_nodelist *nl = NULL;
	const struct cc_node *cn;
	const struct node_rec *n;
	struct cs_node *sorted = NULL;
	char msg[MSG_MAX] = "", why[MSG_MAX - 128] = "";
	const char *name;
	void *scratch = NULL;
	uint32_t id;
	int r;

	if (req->n_args != 1) {
		ctl_server_reply(c, -EINVAL, "node forget needs NAME");
		return;
	}
	name = req->args[0];
	if (strcmp(name, a->node_name) == 0) {
		(void)snprintf(msg, sizeof(msg), "%s is this node: stop it and "
			       "forget it from another node", name);
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	nl = malloc(sizeof(*nl));
	if (nl == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	r = base_list(a, nl, msg, sizeof(msg));
	if (r < 0) {
		ctl_server_reply(c, r, msg);
		goto out_free;
	}
	cn = cc_find(nl, name);
	n = state_node_by_name(s, name);
	if (cn == NULL) {
		(void)snprintf(msg, sizeof(msg), "%s is not in the nodelist%s",
			       name, n != NULL ? " (but in the hosts table: its "
			       "node id and corosync.conf disagree)" : "");
		ctl_server_reply(c, -ENOENT, msg);
		goto out_free;
	}
	id = cn->nodeid;
	if (n != NULL && n->id != id) {
		(void)snprintf(msg, sizeof(msg), "%s has node id %u in the hosts "
			       "table but %u in the nodelist", name, n->id, id);
		ctl_server_reply(c, -EINVAL, msg);
		goto out_free;
	}
	for (size_t i = 0; i < a->rep.n_members; i++) {
		if (a->rep.members[i].nodeid == id) {
			(void)snprintf(msg, sizeof(msg), "%s is a member of the "
				       "cluster now: stop xenmeshd and corosync "
				       "on it first", name);
			ctl_server_reply(c, -EBUSY, msg);
			goto out_free;
		}
	}
	r = nodetable_forget_check(s, id, why, sizeof(why));
	if (r == 0)
		r = cc_remove(nl, name, why, sizeof(why));
	if (r < 0) {
		(void)snprintf(msg, sizeof(msg), "cannot forget %.64s: %s", name, why);
		ctl_server_reply(c, r, msg);
		goto out_free;
	}
	sorted = sorted_list(nl);
	r = sorted == NULL ? -ENOMEM : nodetable_msgs(sorted, nl->n, &msgs, &scratch);
	if (r < 0) {
		ctl_server_reply(c, r, "out of memory");
		goto out_free;
	}
	nf.id = id;
	nf.n_nodelist = nl->n;
	nf.nodelist = msgs;
	nf.base_version = s->nodelist_version;
	op.kind_case = XENMESH__OP__KIND_NODE_FORGET;
	op.node_forget = &nf;
	(void)snprintf(m.what, sizeof(m.what), "node forget %s (id %u)", name, id);
	(void)snprintf(m.done, sizeof(m.done), "node %s forgotten: every node's "
		       "corosync.conf lost it and corosync reloads it (expected "
		       "votes %u)", name, cc_votes(nl));
	m.node = id;
	ctl_server_submit(a, c, &m, &op);

out_free:
	nodetable_msgs_free(msgs, scratch);
	free(sorted);
	free(nl);
}

void
ctl_nodes_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		  const Xenmesh__CtlRequest *req)
{
	bool add = req->command == XENMESH__CTL_COMMAND__CTL_NODE_ADD;

	/* it rewrites corosync's configuration on every node: more than an
	 * admin group may do */
	if (uid != 0) {
		log_notice("uid %u: node %s refused: root only", (unsigned)uid,
			   add ? "add" : "forget");
		ctl_server_reply(c, -EACCES, add ?
				 "permission denied: node add needs root" :
				 "permission denied: node forget needs root");
		return;
	}
	if (add)
		node_add(a, c, uid, req);
	else
		node_forget(a, c, uid, req);
}
