/* The DRBD mirror of a SAN node (mirror = drbd): every volume is a DRBD
 * resource between the two SAN nodes of drbd_nodes, over the LV of the
 * same name in each node's volume group.
 *
 * Both SAN nodes make the LV of a new volume, write its resource file and
 * bring the resource up; the active one forces the initial sync of the
 * brand-new pair (the one --force) and reports the volume ready once it is
 * Primary and UpToDate.  On every pass the active node promotes what
 * drbd_may_promote() allows (the peer fenced in the agreed state, or
 * Outdated), the others demote; only resources Primary here are exported.
 * A split brain is reported and left to a person.
 */
#define LOG_SUBSYS "san"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "log.h"
#include "lvm.h"
#include "san.h"
#include "san_int.h"
#include "voltable.h"
#include "xm_error.h"

#ifndef SBINDIR
#define SBINDIR "/usr/sbin"
#endif
#define DRBD_CONF_DIR  "/etc/drbd.d"
#define FENCE_PEER     SBINDIR "/xenmesh-fence-peer"

struct peer_addr {
	char name[STATE_NAME_MAX];
	char addr[64];
};

static int
drbd_nodes_parse(const char *text, struct peer_addr out[2])
{
	char buf[256], *save = NULL, *w;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (w = strtok_r(buf, " \t", &save); w && n < 2; w = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(w, '=');

		if (eq == NULL)
			return -EINVAL;
		*eq = '\0';
		snprintf(out[n].name, sizeof(out[n].name), "%s", w);
		snprintf(out[n].addr, sizeof(out[n].addr), "%s", eq + 1);
		n++;
	}
	return n == 2 ? 0 : -EINVAL;
}

int
san_mirror_start(struct san *s)
{
	struct peer_addr p[2];

	s->drbd_version = s->a->cfg.drbd_version == 9 ? DRBD_9 : DRBD_84;
	if (drbd_nodes_parse(s->a->cfg.drbd_nodes, p) < 0 ||
	    (strcmp(p[0].name, s->a->node_name) != 0 &&
	     strcmp(p[1].name, s->a->node_name) != 0)) {
		log_err("drbd_nodes in [storage] must name this node (%s) and its "
			"peer as NAME=ADDRESS", s->a->node_name);
		return -EINVAL;
	}
	return 0;
}

static struct san_res *
res_find(struct san *s, const char *name, bool create)
{
	for (size_t i = 0; i < s->n_res; i++)
		if (strcmp(s->res[i].name, name) == 0)
			return &s->res[i];
	if (!create || s->n_res == SAN_RES_MAX)
		return NULL;
	memset(&s->res[s->n_res], 0, sizeof(s->res[0]));
	snprintf(s->res[s->n_res].name, sizeof(s->res[0].name), "%s", name);
	return &s->res[s->n_res++];
}

bool
san_mirror_exportable(void *data, const struct vol_rec *v)
{
	struct san *s = data;
	struct san_res *r = res_find(s, v->name, false);

	return r != NULL && r->up && san_mirror_exportable_state(&r->st);
}

/* ---- reading every resource ------------------------------------------------ */

struct read_op {
	struct san *s;
	void (*next)(struct san *s);
};

static void
read_done(void *data, const struct cmdseq_outcome *o)
{
	struct read_op *ro = data;
	struct san *s = ro->s;
	const struct state *st = &s->a->rep.st;
	char why[256];

	s->busy = false;
	s->op = NULL;
	s->mirror_read = o->rc == 0 && o->last != NULL;
	for (size_t i = 0; i < st->n_vols; i++) {
		const struct vol_rec *v = &st->vols[i];
		struct san_res *r = res_find(s, v->name, true);
		int rc;

		if (r == NULL)
			continue;
		r->up = false;
		if (!s->mirror_read)
			continue;
		rc = s->drbd_version == DRBD_9 ?
		     drbd_status_json_parse(o->last->out.data, v->name, &r->st, why, sizeof(why)) :
		     drbd_proc_parse(o->last->out.data, v->minor, &r->st, why, sizeof(why));
		r->up = rc == 0;
		if (rc < 0 && rc != -ENOENT)
			log_err("DRBD state of %s: %s", v->name, why);
		if (r->up && r->st.split_brain && !san_memo_recent(s, v->name, MEMO_SPLIT_BRAIN)) {
			log_crit("DRBD resource %s: split brain (%s): not resolved by "
				 "itself; it is not exported until a person decides",
				 v->name, r->st.conn);
			if (!r->alerted_split_brain)
				alert_raise(s->a, ALERT_SPLIT_BRAIN, s->a->rep.local_id,
					    v->name, "DRBD resource %s: split brain "
					    "(%s) on %s: not exported until a person "
					    "decides", v->name, r->st.conn,
					    s->a->node_name);
		}
		/* again when it comes back after being resolved */
		if (r->up)
			r->alerted_split_brain = r->st.split_brain;
	}
	if (!s->mirror_read)
		log_err("cannot read the DRBD state: %s", o->message);
	ro->next(s);
	free(ro);
}

void
san_mirror_read(struct san *s, void (*next)(struct san *s))
{
	struct read_op *ro = calloc(1, sizeof(*ro));
	struct cmdseq seq;

	if (ro == NULL)
		return;
	ro->s = s;
	ro->next = next;
	cmdseq_init(&seq);
	if (s->drbd_version == DRBD_9)
		cmdseq_add(&seq, "drbdsetup", "status", "--json", NULL);
	else
		cmdseq_add(&seq, "cat", "/proc/drbd", NULL);
	s->busy = true;
	if (cmdseq_run(s->runner, &seq, read_done, ro, &s->op) < 0) {
		s->busy = false;
		cmdseq_free(&seq);
		free(ro);
	}
}

/* ---- resource files and roles ---------------------------------------------- */

static int
res_file(struct san *s, const struct vol_rec *v)
{
	struct peer_addr p[2];
	struct drbd_res_conf c = { 0 };
	char why[256], disk[2][VOL_NAME_MAX + 140], *text = NULL;
	int rc;

	if (drbd_nodes_parse(s->a->cfg.drbd_nodes, p) < 0)
		return -EINVAL;
	c.name = v->name;
	c.minor = v->minor;
	c.port = (uint16_t)(SAN_DRBD_PORT_BASE + v->minor);
	c.version = s->drbd_version;
	c.handler = FENCE_PEER;
	/* who loses a split brain: nobody unless the admin named a rule */
	c.after_sb_policy = strcmp(s->a->cfg.split_brain, "disconnect") == 0 ?
			    NULL : s->a->cfg.split_brain;
	for (int i = 0; i < 2; i++) {
		rc = san_vol_backing(&s->pc, v, disk[i], sizeof(disk[i]));
		if (rc < 0)
			return rc;
		c.nodes[i].name = p[i].name;
		c.nodes[i].addr = p[i].addr;
		c.nodes[i].node_id = (uint32_t)i;
		c.nodes[i].disk = disk[i];
	}
	rc = drbd_res_render(&c, &text, why, sizeof(why));
	if (rc == 0)
		rc = drbd_res_write(DRBD_CONF_DIR, v->name, text);
	else
		log_err("resource %s: %s", v->name, why);
	free(text);
	return rc;
}

/* The other SAN node is fenced in the agreed state. */
static bool
peer_fenced(struct san *s)
{
	const struct state *st = &s->a->rep.st;

	for (size_t i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].role == NODE_ROLE_SAN &&
		    st->nodes[i].id != s->a->rep.local_id)
			return st->nodes[i].state == NODE_STATE_FENCED;
	return false;
}

bool
san_mirror_step(struct san *s, bool serve)
{
	const struct state *st = &s->a->rep.st;
	struct cmdseq seq;
	char why[256];

	if (!s->mirror_read)
		return false;
	cmdseq_init(&seq);
	for (size_t i = 0; i < st->n_vols; i++) {
		const struct vol_rec *v = &st->vols[i];
		struct san_res *r = res_find(s, v->name, true);
		struct san_mirror_in in = {
			.res = v->name,
			.version = s->drbd_version,
			.peer_fenced = peer_fenced(s),
			.role = serve ? SAN_MIRROR_PRIMARY : SAN_MIRROR_SECONDARY,
		};

		/* a ready volume's LV exists (also after an agent restart) */
		if (r == NULL || v->state == VOL_STATE_REMOVING ||
		    v->state == VOL_STATE_FAILED ||
		    (v->state == VOL_STATE_CREATING && !r->lv_made))
			continue;
		if (!r->res_written) {
			if (res_file(s, v) < 0)
				continue;
			r->res_written = true;
		}
		in.up = r->up;
		in.st = &r->st;
		in.fresh = r->fresh;
		if (san_mirror_plan(&in, &seq, why, sizeof(why)) < 0 &&
		    !san_memo_recent(s, v->name, MEMO_NOT_EXPORTED))
			log_warn("not exporting %s: %s", v->name, why);
		if (r->up && r->fresh && san_mirror_exportable_state(&r->st))
			r->fresh = false;       /* synced once: never forced again */
	}
	if (seq.n == 0) {
		cmdseq_free(&seq);
		return false;
	}
	san_step_run(s, &seq, "bringing the DRBD resources to their roles", 0);
	return true;
}

/* ---- volumes ---------------------------------------------------------------- */

struct lv_op {
	struct san *s;
	char name[VOL_NAME_MAX];
	bool remove;
};

static void
lv_done(void *data, const struct cmdseq_outcome *o)
{
	struct lv_op *op = data;
	struct san *s = op->s;
	struct san_res *r = res_find(s, op->name, true);
	char why[256];
	int rc = san_lvm_outcome(o, op->remove, why, sizeof(why));

	s->busy = false;
	s->op = NULL;
	if (op->remove && rc == 0) {
		if (r != NULL)
			memset(r, 0, sizeof(*r));       /* the slot is free again */
		if (s->serving)
			san_report(s, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_REMOVED,
				   op->name, 0, NULL, NULL);
	} else if (op->remove) {
		log_err("cannot remove volume %s: %s", op->name, why);
	} else if (rc == 0 && r != NULL) {
		r->lv_made = true;
		r->fresh = o->rc == 0;          /* made just now, not found */
		log_notice("LV of volume %s made here", op->name);
	} else if (s->serving) {
		san_report(s, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_FAILED, op->name, 0,
			   NULL, why);
	} else {
		log_err("cannot make the LV of %s: %s", op->name, why);
	}
	san_kick(s->a);
	free(op);
}

static bool
lv_step(struct san *s, const struct vol_rec *v, bool remove)
{
	struct lvm_conf lc = { .vg = s->a->cfg.vg, .no_devmapper = s->a->cfg.no_devmapper };
	struct lv_op *op = calloc(1, sizeof(*op));
	struct cmdseq seq;
	char path[PATH_MAX];

	if (op == NULL)
		return false;
	op->s = s;
	op->remove = remove;
	snprintf(op->name, sizeof(op->name), "%s", v->name);
	cmdseq_init(&seq);
	if (remove) {
		/* the resource goes first, then its file and LV */
		drbd_cmd_down(&seq, v->name);
		cmdseq_tolerate(&seq);
		snprintf(path, sizeof(path), DRBD_CONF_DIR "/%s.res", v->name);
		cmdseq_add(&seq, "rm", "-f", path, NULL);
		lvm_cmd_remove(&seq, &lc, v->name);
	} else {
		lvm_cmd_create(&seq, &lc, v->name, v->size_bytes);
	}
	s->busy = true;
	if (cmdseq_run(s->runner, &seq, lv_done, op, &s->op) < 0) {
		s->busy = false;
		cmdseq_free(&seq);
		free(op);
		return false;
	}
	return true;
}

bool
san_mirror_volume_work(struct san *s, bool serve)
{
	const struct state *st = &s->a->rep.st;

	for (size_t i = 0; i < st->n_vols; i++) {
		const struct vol_rec *v = &st->vols[i];
		struct san_res *r = res_find(s, v->name, true);

		if (r == NULL)
			continue;
		if (v->state == VOL_STATE_REMOVING) {
			if (!san_memo_recent(s, v->name, VOL_STATE_REMOVING))
				return lv_step(s, v, true);
			continue;
		}
		if (v->state != VOL_STATE_CREATING)
			continue;
		if (!r->lv_made) {
			if (!san_memo_recent(s, v->name, VOL_STATE_CREATING))
				return lv_step(s, v, false);
			continue;
		}
		/* ready once the active node holds it Primary and UpToDate */
		if (serve && r->up && san_mirror_exportable_state(&r->st) &&
		    !san_memo_recent(s, v->name, VOL_STATE_READY))
			san_report(s, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_READY, v->name,
				   0, NULL, NULL);
	}
	return false;
}
