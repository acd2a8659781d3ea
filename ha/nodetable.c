/* Hosts added and forgotten, corosync's nodelist; see nodetable.h.
 *
 * An op carries the whole new nodelist and the version it was made
 * from: the coordinator refuses it when another change came first, so
 * two admins adding hosts at once cannot lose one of them, and every
 * agent can write the list as it is instead of replaying changes it may
 * have missed while it was down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodetable.h"
#include "sbuf.h"
#include "xm_error.h"

struct pack_scratch {
	Xenmesh__CorosyncNode *nodes;
	Xenmesh__CorosyncNode **ptrs;
	char **addrs;
};

bool
nodetable_op_kind(const Xenmesh__Op *op)
{
	return op->kind_case == XENMESH__OP__KIND_NODE_ADD ||
	       op->kind_case == XENMESH__OP__KIND_NODE_FORGET;
}

static bool
word_ok(const char *s, size_t max, bool addr)
{
	size_t n = 0;

	if (s == NULL || s[0] == '\0')
		return false;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.' || (addr && (*s == ':' || *s == '%'))))
			return false;
	return n < max;
}

/* A nodelist as a message carries it: sorted, unique, one link count. */
static int
list_check(Xenmesh__CorosyncNode *const *l, size_t n, char *why, size_t whylen)
{
	if (n == 0 || n > STATE_MAX_NODES) {
		xm_why(why, whylen, "a nodelist of %zu nodes (1 to %d)", n,
		       STATE_MAX_NODES);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const Xenmesh__CorosyncNode *m = l[i];

		if (m->nodeid == 0 || m->nodeid > CS_NODEID_MAX) {
			xm_why(why, whylen, "nodelist: node id %u out of 1..%d",
			       m->nodeid, CS_NODEID_MAX);
			return -EINVAL;
		}
		if (i > 0 && m->nodeid <= l[i - 1]->nodeid) {
			xm_why(why, whylen, "nodelist: node ids not sorted and "
			       "unique (%u after %u)", m->nodeid, l[i - 1]->nodeid);
			return -EINVAL;
		}
		if (!word_ok(m->name, STATE_NAME_MAX, false)) {
			xm_why(why, whylen, "nodelist: node %u has no valid name",
			       m->nodeid);
			return -EINVAL;
		}
		if (m->n_addrs == 0 || m->n_addrs > CS_LINKS_MAX ||
		    m->n_addrs != l[0]->n_addrs) {
			xm_why(why, whylen, "nodelist: node %s has %zu addresses, "
			       "%s has %zu (1 to %d, the same for all)", m->name,
			       m->n_addrs, l[0]->name, l[0]->n_addrs, CS_LINKS_MAX);
			return -EINVAL;
		}
		for (size_t a = 0; a < m->n_addrs; a++) {
			if (!word_ok(m->addrs[a], CS_ADDR_MAX, true)) {
				xm_why(why, whylen, "nodelist: node %s: link %zu "
				       "has no valid address", m->name, a);
				return -EINVAL;
			}
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(l[j]->name, m->name) == 0) {
				xm_why(why, whylen, "nodelist: name %s twice",
				       m->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static bool
same_node(const Xenmesh__CorosyncNode *m, const struct cs_node *c)
{
	if (m->nodeid != c->nodeid || strcmp(m->name, c->name) != 0 ||
	    m->n_addrs != c->n_addrs ||
	    (m->has_votes ? m->votes : 1) != c->votes)
		return false;
	for (size_t a = 0; a < m->n_addrs; a++)
		if (strcmp(m->addrs[a], c->addrs[a]) != 0)
			return false;
	return true;
}

static const Xenmesh__CorosyncNode *
list_find(Xenmesh__CorosyncNode *const *l, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (l[i]->nodeid == id)
			return l[i];
	return NULL;
}

/* The op's list is the current one with id added (add) or removed. */
static int
list_follows(const struct state *s, Xenmesh__CorosyncNode *const *l, size_t n,
	     uint32_t id, bool add, char *why, size_t whylen)
{
	size_t want = add ? s->n_nodelist + 1 : s->n_nodelist - 1;

	if (s->nodelist_version == 0)
		return 0;               /* the first change: made from a file */
	if (n != want) {
		xm_why(why, whylen, "the nodelist has %zu nodes, not %zu: it is "
		       "not the current one %s node %u", n, want,
		       add ? "plus" : "less", id);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n_nodelist; i++) {
		const struct cs_node *c = &s->nodelist[i];
		const Xenmesh__CorosyncNode *m = list_find(l, n, c->nodeid);

		if (c->nodeid == id && !add)
			continue;
		if (m == NULL || !same_node(m, c)) {
			xm_why(why, whylen, "the nodelist changes node %s (id %u), "
			       "which the operation is not about", c->name,
			       c->nodeid);
			return -EINVAL;
		}
	}
	return 0;
}

int
nodetable_forget_check(const struct state *s, uint32_t id, char *why,
		       size_t whylen)
{
	const struct node_rec *n = state_node(s, id);
	char list[256];
	struct sbuf b;
	size_t busy = 0;

	if (n == NULL)
		return 0;
	if (n->state == NODE_STATE_ONLINE) {
		xm_why(why, whylen, "%s is online: stop its xenmeshd and corosync "
		       "first", n->name);
		return -EBUSY;
	}
	if (n->state == NODE_STATE_UNCLEAN) {
		xm_why(why, whylen, "%s left uncleanly and is not fenced yet "
		       "(agentctl node fence or node confirm-down first)", n->name);
		return -EBUSY;
	}
	if (s->active_san == id) {
		xm_why(why, whylen, "%s is the active SAN node", n->name);
		return -EBUSY;
	}
	sb_init(&b, list, sizeof(list));
	for (size_t i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];

		if (v->host != id && v->want_host != id && v->migrate_to != id &&
		    v->storage_dest != id)
			continue;
		sb_add(&b, "%s%s (%s)", busy > 0 ? ", " : "", v->name,
		       v->host == id ? vm_state_name(v->state) :
		       v->want_host == id ? "started with --on" : "moving there");
		busy++;
	}
	if (busy > 0) {
		xm_why(why, whylen, "%zu VM%s assigned to %s: %s; move, stop or "
		       "undefine %s first", busy, busy == 1 ? " is" : "s are",
		       n->name, list, busy == 1 ? "it" : "them");
		return -EBUSY;
	}
	return 0;
}

static int
validate_add(const struct state *s, const Xenmesh__OpNodeAdd *na, char *why,
	     size_t whylen)
{
	const Xenmesh__CorosyncNode *m;
	int r;

	if (na->base_version != s->nodelist_version) {
		xm_why(why, whylen, "the nodelist changed meanwhile (version %llu, "
		       "not %llu): try again", (unsigned long long)s->nodelist_version,
		       (unsigned long long)na->base_version);
		return -EAGAIN;
	}
	if (na->role != XENMESH__NODE_ROLE__ROLE_DOM0 &&
	    na->role != XENMESH__NODE_ROLE__ROLE_SAN) {
		xm_why(why, whylen, "role %d is neither dom0 nor san", (int)na->role);
		return -EINVAL;
	}
	if (!word_ok(na->name, STATE_NAME_MAX, false)) {
		xm_why(why, whylen, "'%.64s' is not a node name", na->name);
		return -EINVAL;
	}
	if (state_node(s, na->id) != NULL) {
		xm_why(why, whylen, "node id %u is %s's", na->id,
		       state_node(s, na->id)->name);
		return -EEXIST;
	}
	if (state_node_by_name(s, na->name) != NULL) {
		xm_why(why, whylen, "a node named %s is in the hosts table already",
		       na->name);
		return -EEXIST;
	}
	if (s->n_nodes >= STATE_MAX_NODES) {
		xm_why(why, whylen, "the hosts table is full (%d)", STATE_MAX_NODES);
		return -ENOSPC;
	}
	r = list_check(na->nodelist, na->n_nodelist, why, whylen);
	if (r < 0)
		return r;
	m = list_find(na->nodelist, na->n_nodelist, na->id);
	if (m == NULL || strcmp(m->name, na->name) != 0) {
		xm_why(why, whylen, "the nodelist lacks node %s (id %u)", na->name,
		       na->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n_nodelist; i++) {
		if (s->nodelist[i].nodeid == na->id) {
			xm_why(why, whylen, "node id %u is in the nodelist already "
			       "(%s)", na->id, s->nodelist[i].name);
			return -EEXIST;
		}
	}
	return list_follows(s, na->nodelist, na->n_nodelist, na->id, true, why,
			    whylen);
}

static int
validate_forget(const struct state *s, const Xenmesh__OpNodeForget *nf,
		char *why, size_t whylen)
{
	bool listed = false;
	int r;

	if (nf->base_version != s->nodelist_version) {
		xm_why(why, whylen, "the nodelist changed meanwhile (version %llu, "
		       "not %llu): try again", (unsigned long long)s->nodelist_version,
		       (unsigned long long)nf->base_version);
		return -EAGAIN;
	}
	for (size_t i = 0; i < s->n_nodelist; i++)
		listed |= s->nodelist[i].nodeid == nf->id;
	if (s->nodelist_version > 0 && !listed) {
		xm_why(why, whylen, "node id %u is not in the nodelist", nf->id);
		return -ENOENT;
	}
	r = nodetable_forget_check(s, nf->id, why, whylen);
	if (r < 0)
		return r;
	r = list_check(nf->nodelist, nf->n_nodelist, why, whylen);
	if (r < 0)
		return r;
	if (list_find(nf->nodelist, nf->n_nodelist, nf->id) != NULL) {
		xm_why(why, whylen, "the nodelist still holds node id %u", nf->id);
		return -EINVAL;
	}
	return list_follows(s, nf->nodelist, nf->n_nodelist, nf->id, false, why,
			    whylen);
}

int
nodetable_validate(const struct state *s, const Xenmesh__Op *op, char *why,
		   size_t whylen)
{
	if (op->kind_case == XENMESH__OP__KIND_NODE_ADD && op->node_add != NULL)
		return validate_add(s, op->node_add, why, whylen);
	if (op->kind_case == XENMESH__OP__KIND_NODE_FORGET && op->node_forget != NULL)
		return validate_forget(s, op->node_forget, why, whylen);
	xm_why(why, whylen, "operation kind %d has no body", (int)op->kind_case);
	return -EINVAL;
}

static void
load(struct cs_node *dst, Xenmesh__CorosyncNode *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&dst[i], 0, sizeof(dst[i]));
		dst[i].nodeid = l[i]->nodeid;
		dst[i].votes = l[i]->has_votes ? l[i]->votes : 1;
		(void)snprintf(dst[i].name, sizeof(dst[i].name), "%s", l[i]->name);
		dst[i].n_addrs = (unsigned)l[i]->n_addrs;
		for (size_t a = 0; a < l[i]->n_addrs; a++)
			(void)snprintf(dst[i].addrs[a], CS_ADDR_MAX, "%s",
				       l[i]->addrs[a]);
	}
}

int
nodetable_apply(struct state *s, const Xenmesh__Op *op)
{
	Xenmesh__CorosyncNode *const *l;
	struct cs_node *list = s->nodelist;
	size_t n, i;

	if (list == NULL) {
		list = calloc(STATE_MAX_NODES, sizeof(*list));
		if (list == NULL)
			return -ENOMEM;
	}
	if (op->kind_case == XENMESH__OP__KIND_NODE_ADD) {
		const Xenmesh__OpNodeAdd *na = op->node_add;
		struct node_rec *r;

		l = na->nodelist;
		n = na->n_nodelist;
		for (i = 0; i < s->n_nodes && s->nodes[i].id < na->id; i++)
			;
		r = &s->nodes[i];
		memmove(r + 1, r, (s->n_nodes - i) * sizeof(*r));
		s->n_nodes++;
		memset(r, 0, sizeof(*r));
		r->id = na->id;
		(void)snprintf(r->name, sizeof(r->name), "%s", na->name);
		r->role = (enum node_role)na->role;
		/* offline until its agent joins and reports what it has */
		r->state = NODE_STATE_OFFLINE;
	} else {
		const Xenmesh__OpNodeForget *nf = op->node_forget;

		l = nf->nodelist;
		n = nf->n_nodelist;
		for (i = 0; i < s->n_nodes; i++) {
			if (s->nodes[i].id != nf->id)
				continue;
			memmove(&s->nodes[i], &s->nodes[i + 1],
				(s->n_nodes - i - 1) * sizeof(s->nodes[0]));
			s->n_nodes--;
			break;
		}
		/* what only remembered it */
		for (i = 0; i < s->n_vms; i++) {
			if (s->vms[i].avoid_host == nf->id)
				s->vms[i].avoid_host = 0;
			if (s->vms[i].drain_skip == nf->id)
				s->vms[i].drain_skip = 0;
		}
	}
	load(list, l, n);
	s->nodelist = list;
	s->n_nodelist = n;
	s->nodelist_version++;
	return 0;
}

int
nodetable_msgs(const struct cs_node *list, size_t n,
	       Xenmesh__CorosyncNode ***msgs, void **scratch)
{
	struct pack_scratch *sc = calloc(1, sizeof(*sc));

	*msgs = NULL;
	*scratch = sc;
	if (sc == NULL)
		return -ENOMEM;
	if (n == 0)
		return 0;
	sc->nodes = calloc(n, sizeof(*sc->nodes));
	sc->ptrs = calloc(n, sizeof(*sc->ptrs));
	sc->addrs = calloc(n * CS_LINKS_MAX, sizeof(*sc->addrs));
	if (sc->nodes == NULL || sc->ptrs == NULL || sc->addrs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		Xenmesh__CorosyncNode *m = &sc->nodes[i];

		xenmesh__corosync_node__init(m);
		m->nodeid = list[i].nodeid;
		m->name = (char *)list[i].name;
		m->n_addrs = list[i].n_addrs;
		m->addrs = &sc->addrs[i * CS_LINKS_MAX];
		for (unsigned a = 0; a < list[i].n_addrs; a++)
			m->addrs[a] = (char *)list[i].addrs[a];
		/* 1 is left out: equal states, equal bytes */
		m->has_votes = list[i].votes != 1;
		m->votes = list[i].votes;
		sc->ptrs[i] = m;
	}
	*msgs = sc->ptrs;
	return 0;
}

void
nodetable_scratch_free(void *scratch)
{
	struct pack_scratch *sc = scratch;

	if (sc == NULL)
		return;
	free(sc->nodes);
	free(sc->ptrs);
	free(sc->addrs);
	free(sc);
}

void
nodetable_msgs_free(Xenmesh__CorosyncNode **msgs, void *scratch)
{
	(void)msgs;             /* part of scratch */
	nodetable_scratch_free(scratch);
}

int
nodetable_pack(const struct state *s, Xenmesh__State *msg, void **scratch)
{
	Xenmesh__CorosyncNode **ptrs = NULL;
	int r;

	r = nodetable_msgs(s->nodelist, s->n_nodelist, &ptrs, scratch);
	if (r < 0)
		return r;
	msg->n_nodelist = s->n_nodelist;
	msg->nodelist = ptrs;
	msg->has_nodelist_version = s->nodelist_version != 0;
	msg->nodelist_version = s->nodelist_version;
	return 0;
}

int
nodetable_unpack(const Xenmesh__State *msg, struct state *s, char *why,
		 size_t whylen)
{
	uint64_t version = msg->has_nodelist_version ? msg->nodelist_version : 0;
	int r;

	if ((version == 0) != (msg->n_nodelist == 0)) {
		xm_why(why, whylen, "nodelist version %llu with %zu nodes",
		       (unsigned long long)version, msg->n_nodelist);
		return -EBADMSG;
	}
	if (version == 0)
		return 0;
	r = list_check(msg->nodelist, msg->n_nodelist, why, whylen);
	if (r < 0)
		return -EBADMSG;
	s->nodelist = calloc(STATE_MAX_NODES, sizeof(*s->nodelist));
	if (s->nodelist == NULL) {
		xm_why(why, whylen, "out of memory");
		return -ENOMEM;
	}
	load(s->nodelist, msg->nodelist, msg->n_nodelist);
	s->n_nodelist = msg->n_nodelist;
	s->nodelist_version = version;
	return 0;
}

int
nodetable_copy(struct state *dst, const struct state *src)
{
	dst->nodelist = NULL;
	if (src->nodelist == NULL)
		return 0;
	dst->nodelist = malloc(STATE_MAX_NODES * sizeof(*dst->nodelist));
	if (dst->nodelist == NULL)
		return -ENOMEM;
	memcpy(dst->nodelist, src->nodelist, STATE_MAX_NODES * sizeof(*dst->nodelist));
	return 0;
}

void
nodetable_free(struct state *s)
{
	free(s->nodelist);
	s->nodelist = NULL;
	s->n_nodelist = 0;
}
