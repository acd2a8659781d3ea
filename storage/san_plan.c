/* What a SAN node exports and how its mirror stands; see san_plan.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi.h"
#include "san_plan.h"
#include "voltable.h"
#include "xm_error.h"

int
san_vol_backing(const struct san_plan_conf *c, const struct vol_rec *v,
		char *buf, size_t len)
{
	int n;

	if (c->file_backend)
		n = snprintf(buf, len, "%s/%s.img", c->volume_dir, v->name);
	else
		n = snprintf(buf, len, "/dev/%s/%s", c->vg, v->name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
san_vol_device(const struct san_plan_conf *c, const struct vol_rec *v,
	       char *buf, size_t len)
{
	int n;

	if (!c->drbd)
		return san_vol_backing(c, v, buf, len);
	n = snprintf(buf, len, "/dev/drbd%" PRIu32, v->minor);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool
host_admissible(const struct state *st, uint32_t host)
{
	const struct node_rec *n = state_node(st, host);

	return n != NULL && n->role == NODE_ROLE_DOM0 && n->state != NODE_STATE_FENCED &&
	       n->state != NODE_STATE_OFFLINE && !(n->flags & NODE_FLAG_STORAGE_FENCED);
}

uint32_t
san_admitted_host(const struct state *st, const char *vm)
{
	const struct vm_rec *v = state_vm(st, vm);

	if (v == NULL || !vm_uses_storage(v) || v->host == 0 ||
	    !host_admissible(st, v->host))
		return 0;
	return v->host;
}

uint32_t
san_admitted_dest(const struct state *st, const char *vm)
{
	const struct vm_rec *v = state_vm(st, vm);

	/* an unclean destination is not admitted either: it may be fenced
	 * any moment, and the source resumes only after that */
	if (san_admitted_host(st, vm) == 0 || v->state != VM_STATE_MIGRATING ||
	    v->migrate_offline || v->migrate_to == 0 ||
	    !host_admissible(st, v->migrate_to) ||
	    state_node(st, v->migrate_to)->state != NODE_STATE_ONLINE)
		return 0;
	return v->migrate_to;
}

void
san_want_free(struct san_want *w)
{
	free(w->targets);
	free(w->iqns);
	free(w->acl_names);
	free(w->acl_ptrs);
	free(w->luns);
	memset(w, 0, sizeof(*w));
}

static bool
vol_exported(const struct vol_rec *v, bool (*exportable)(void *, const struct vol_rec *),
	     void *data)
{
	return v->state == VOL_STATE_READY && (exportable == NULL || exportable(data, v));
}

int
san_want_build(const struct state *st, const struct san_plan_conf *c, bool serve,
	       bool (*exportable)(void *data, const struct vol_rec *v), void *data,
	       struct san_want *w)
{
	size_t nt = 0, nl = 0;

	memset(w, 0, sizeof(*w));
	w->want.iqn_prefix = c->iqn_prefix;
	if (!serve || st->n_vols == 0)
		return 0;
	w->targets = calloc(st->n_vols, sizeof(*w->targets));
	w->iqns = calloc(st->n_vols, sizeof(*w->iqns));
	w->acl_names = calloc(2 * st->n_vols, sizeof(*w->acl_names));
	w->acl_ptrs = calloc(2 * st->n_vols, sizeof(*w->acl_ptrs));
	w->luns = calloc(st->n_vols, sizeof(*w->luns));
	if (!w->targets || !w->iqns || !w->acl_names || !w->acl_ptrs || !w->luns) {
		san_want_free(w);
		return -ENOMEM;
	}
	/* one target per VM with exported volumes, in order of its first */
	for (size_t i = 0; i < st->n_vols; i++) {
		const struct vol_rec *v = &st->vols[i];
		struct tgt_want_target *t = &w->targets[nt];
		bool seen = false;
		uint32_t hosts[2];

		if (!vol_exported(v, exportable, data))
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(st->vols[k].vm, v->vm) == 0 &&
			       vol_exported(&st->vols[k], exportable, data);
		if (seen)
			continue;
		if (iscsi_name_join(w->iqns[nt], TGT_IQN_MAX, c->iqn_prefix, v->vm,
				    NULL, 0) < 0)
			continue;
		t->iqn = w->iqns[nt];
		t->luns = &w->luns[nl];
		for (size_t k = i; k < st->n_vols; k++) {
			const struct vol_rec *u = &st->vols[k];

			if (strcmp(u->vm, v->vm) != 0 || !vol_exported(u, exportable, data))
				continue;
			w->luns[nl].lun = u->lun;
			if (san_vol_device(c, u, w->luns[nl].path, TGT_PATH_MAX) < 0)
				continue;
			nl++;
			t->n_luns++;
		}
		/* two ACL slots per target: the host, and during a live
		 * migration its destination */
		t->acl = &w->acl_ptrs[2 * nt];
		hosts[0] = san_admitted_host(st, v->vm);
		hosts[1] = san_admitted_dest(st, v->vm);
		for (int k = 0; k < 2; k++) {
			size_t slot = 2 * nt + t->n_acl;

			if (hosts[k] == 0 ||
			    iscsi_name_join(w->acl_names[slot], TGT_IQN_MAX, c->iqn_prefix,
					    state_node(st, hosts[k])->name, NULL, 0) < 0)
				continue;
			w->acl_ptrs[slot] = w->acl_names[slot];
			t->n_acl++;
		}
		if (t->n_acl == 0)
			t->acl = NULL;
		nt++;
	}
	w->want.targets = w->targets;
	w->want.n = nt;
	return 0;
}

bool
san_mirror_exportable_state(const struct drbd_state *st)
{
	return st != NULL && strcmp(st->role, "Primary") == 0 &&
	       strcmp(st->disk, "UpToDate") == 0;
}

int
san_mirror_plan(const struct san_mirror_in *in, struct cmdseq *s, char *why,
		size_t whylen)
{
	const struct drbd_state *st = in->up ? in->st : NULL;
	bool primary = st != NULL && strcmp(st->role, "Primary") == 0;
	int r;

	if (!in->up) {
		/* create-md --force only on an LV made just now: never over data */
		if (in->fresh)
			drbd_cmd_create_md(s, in->res, in->version);
		drbd_cmd_up(s, in->res);
		return s->error;        /* roles are planned on the next read */
	}
	if (st->split_brain) {
		xm_why(why, whylen, "resource %s: split brain (%s): not resolved by "
		       "itself; see the DRBD split-brain policy", in->res, st->conn);
		return -EPERM;
	}
	if (in->role == SAN_MIRROR_SECONDARY) {
		if (primary)
			drbd_cmd_secondary(s, in->res);
		return s->error;
	}
	if (primary)
		return 0;
	/* the one --force: a brand-new pair, both disks still Inconsistent */
	if (in->fresh && strcmp(st->disk, "Inconsistent") == 0 &&
	    (strcmp(st->peer_disk, "Inconsistent") == 0 ||
	     strcmp(st->peer_disk, "DUnknown") == 0)) {
		drbd_cmd_primary_initial(s, in->res, in->version);
		return s->error;
	}
	r = drbd_may_promote(st, in->peer_fenced, why, whylen);
	if (r < 0)
		return r;
	drbd_cmd_primary(s, in->res);
	return s->error;
}
