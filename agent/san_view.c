/* A SAN node's view for `agentctl storage status`: its target daemon as
 * last read, and whether it exports; and the configuration the SAN side
 * and agentctl's volume handlers name the volumes' devices with. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "san.h"
#include "san_int.h"

void
san_plan_conf_of(const struct agent *a, struct san_plan_conf *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->iqn_prefix = a->cfg.iqn_prefix;
	pc->file_backend = strcmp(a->cfg.backend, "file") == 0;
	pc->volume_dir = a->cfg.volume_dir;
	pc->vg = a->cfg.vg;
	pc->drbd = strcmp(a->cfg.mirror, "drbd") == 0;
}

/* ---- agentctl storage status -------------------------------------------- */

struct view_mem {
	Xenmesh__StorageTarget *t;
	Xenmesh__StorageTarget **tp;
	Xenmesh__StorageLun *l;
	Xenmesh__StorageLun **lp;
	Xenmesh__StorageSession *ss;
	Xenmesh__StorageSession **sp;
	char **acl;
	Xenmesh__StorageResource *r;
	Xenmesh__StorageResource **rp;
};

/* The DRBD resources of the volumes in the state, as last read. */
static void
view_resources(struct san *s, Xenmesh__StorageView *v, struct view_mem *m)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n_res && s->drbd; i++) {
		const struct san_res *sr = &s->res[i];
		Xenmesh__StorageResource *o = &m->r[k];

		if (sr->name[0] == '\0')
			continue;
		xenmesh__storage_resource__init(o);
		o->name = (char *)sr->name;
		if (sr->up) {
			o->role = (char *)sr->st.role;
			o->peer_role = (char *)sr->st.peer_role;
			o->disk = (char *)sr->st.disk;
			o->peer_disk = (char *)sr->st.peer_disk;
			o->connection = (char *)sr->st.conn;
			o->has_split_brain = true;
			o->split_brain = sr->st.split_brain;
		}
		m->rp[k++] = o;
	}
	v->resources = m->rp;
	v->n_resources = k;
}

int
san_view(struct agent *a, Xenmesh__StorageView *v, void **mem)
{
	struct san *s = a->san;
	struct view_mem *m;
	size_t nl = 0, ns = 0, na = 0, il = 0, is = 0, ia = 0;

	xenmesh__storage_view__init(v);
	*mem = NULL;
	if (s == NULL)
		return -ENODEV;
	for (size_t i = 0; i < s->view.n; i++) {
		nl += s->view.targets[i].n_luns;
		ns += s->view.targets[i].n_sessions;
		na += s->view.targets[i].n_acl;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->t = calloc(s->view.n + 1, sizeof(*m->t));
	m->tp = calloc(s->view.n + 1, sizeof(*m->tp));
	m->l = calloc(nl + 1, sizeof(*m->l));
	m->lp = calloc(nl + 1, sizeof(*m->lp));
	m->ss = calloc(ns + 1, sizeof(*m->ss));
	m->sp = calloc(ns + 1, sizeof(*m->sp));
	m->acl = calloc(na + 1, sizeof(*m->acl));
	m->r = calloc(s->n_res + 1, sizeof(*m->r));
	m->rp = calloc(s->n_res + 1, sizeof(*m->rp));
	v->node = a->node_name;
	v->exporting = s->serving && s->portal == PORTAL_UP;
	v->portal = a->cfg.portal;
	v->backend = a->cfg.backend;
	v->mirror = a->cfg.mirror;
	v->error = s->error[0] != '\0' ? s->error : NULL;
	v->targets = m->tp;
	*mem = m;
	if (!m->t || !m->tp || !m->l || !m->lp || !m->ss || !m->sp || !m->acl ||
	    !m->r || !m->rp) {
		san_view_free(m);
		*mem = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->view.n; i++) {
		const struct tgt_target *t = &s->view.targets[i];
		Xenmesh__StorageTarget *o = &m->t[i];

		xenmesh__storage_target__init(o);
		o->tid = t->tid;
		o->iqn = (char *)t->iqn;
		o->ready = t->ready;
		o->luns = &m->lp[il];
		for (size_t k = 0; k < t->n_luns; k++, il++) {
			xenmesh__storage_lun__init(&m->l[il]);
			m->l[il].lun = t->luns[k].lun;
			m->l[il].path = (char *)t->luns[k].path;
			m->lp[il] = &m->l[il];
		}
		o->n_luns = t->n_luns;
		o->acl = &m->acl[ia];
		for (size_t k = 0; k < t->n_acl; k++)
			m->acl[ia++] = (char *)t->acl[k];
		o->n_acl = t->n_acl;
		o->sessions = &m->sp[is];
		for (size_t k = 0; k < t->n_sessions; k++, is++) {
			xenmesh__storage_session__init(&m->ss[is]);
			m->ss[is].sid = t->sessions[k].sid;
			m->ss[is].initiator = (char *)t->sessions[k].initiator;
			m->ss[is].address = t->sessions[k].address[0] ?
					    (char *)t->sessions[k].address : NULL;
			m->sp[is] = &m->ss[is];
		}
		o->n_sessions = t->n_sessions;
		m->tp[i] = o;
	}
	v->n_targets = s->view.n;
	view_resources(s, v, m);
	return 0;
}

void
san_view_free(void *mem)
{
	struct view_mem *m = mem;

	if (m == NULL)
		return;
	free(m->t);
	free(m->tp);
	free(m->l);
	free(m->lp);
	free(m->ss);
	free(m->sp);
	free(m->acl);
	free(m->r);
	free(m->rp);
	free(m);
}

