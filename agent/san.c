/* The SAN node's side of storage; see san.h. */
#define LOG_SUBSYS "san"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmdseq.h"
#include "guard.h"
#include "iscsi.h"
#include "log.h"
#include "lvm.h"
#include "runner.h"
#include "san.h"
#include "san_int.h"
#include "san_plan.h"
#include "tgt.h"
#include "unsafe.h"
#include "voltable.h"
#include "xm_error.h"

#define PASS_PERIOD_MS    1000
#define REPORT_REPEAT_MS  2000

/* Was this (kind-prefixed name, gen) reported less than REPORT_REPEAT_MS
 * ago?  Otherwise note it now.  A report may be lost with a coordinator
 * change, so it is repeated until the state shows it took effect. */
bool
san_memo_recent(struct san *s, const char *name, uint64_t gen)
{
	uint64_t now = mono_ms();
	size_t i;

	for (i = 0; i < s->n_memo; i++)
		if (s->memo[i].gen == gen && strcmp(s->memo[i].name, name) == 0)
			break;
	if (i < s->n_memo && now - s->memo[i].at_ms < REPORT_REPEAT_MS)
		return true;
	if (i == s->n_memo) {
		if (s->n_memo == SAN_MEMO_MAX)
			i = (size_t)(now % SAN_MEMO_MAX);
		else
			s->n_memo++;
		snprintf(s->memo[i].name, sizeof(s->memo[i].name), "%s", name);
		s->memo[i].gen = gen;
	}
	s->memo[i].at_ms = now;
	return false;
}

void
san_report(struct san *s, Xenmesh__HostEventKind kind, const char *name,
       uint64_t gen, const char *fenced, const char *reason)
{
	Xenmesh__HostEvent ev = XENMESH__HOST_EVENT__INIT;
	int rc;

	ev.kind = kind;
	ev.vm = (char *)name;
	ev.generation = gen;
	ev.reason = (char *)reason;
	if (fenced != NULL) {
		ev.fenced = (char *)fenced;
		ev.has_state_seq = true;
		ev.state_seq = s->a->rep.st.seq;
	}
	rc = replica_report(&s->a->rep, &ev);
	if (rc < 0)
		log_warn("cannot report to the coordinator: %s; the next pass retries",
			 xm_strerror(rc));
}

/* The VM's target admits its host of generation gen (and dest). */
void
san_report_dest(struct san *s, const char *vm, uint64_t gen, uint32_t dest)
{
	Xenmesh__HostEvent ev = XENMESH__HOST_EVENT__INIT;
	int rc;

	ev.kind = XENMESH__HOST_EVENT_KIND__HOST_VM_STORAGE;
	ev.vm = (char *)vm;
	ev.generation = gen;
	ev.has_dest = dest != 0;
	ev.dest = dest;
	rc = replica_report(&s->a->rep, &ev);
	if (rc < 0)
		log_warn("cannot report to the coordinator: %s; the next pass retries",
			 xm_strerror(rc));
}

/* ---- what the state wants of this node ---------------------------------- */

static bool
should_serve(struct san *s)
{
	struct agent *a = s->a;
	const struct node_rec *self = state_node(&a->rep.st, a->rep.local_id);

	/* unsafe test build: once exporting, it keeps its targets whatever
	 * the state and the quorum say */
	if (s->serving && !s->stopping && xm_unsafe("san-export"))
		return true;
	/* A sync round (every membership change) does not interrupt a node
	 * that serves: while it stays quorate no other partition can have
	 * promoted the other SAN node (that waits for this one's fence), and
	 * the state it serves from is the last synced one.  Before, each
	 * host's crash or join dropped the portal for a moment, and a round
	 * longer than a pass would have removed every target. */
	return !s->stopping && (a->rep.synced || s->serving) && a->qv.quorate &&
	       a->rep.local_id != 0 && a->rep.st.active_san == a->rep.local_id &&
	       self != NULL && self->state == NODE_STATE_ONLINE &&
	       a->cfg.portal[0] != '\0';
}

static void pass(struct san *s);

static void
kick_job(void *data)
{
	struct san *s = data;

	s->kicked = false;
	pass(s);
}

void
san_kick(struct agent *a)
{
	struct san *s = a->san;

	if (s == NULL || s->kicked)
		return;
	s->kicked = true;
	(void)qb_loop_job_add(a->loop, QB_LOOP_MED, s, kick_job);
}

struct step {
	struct san *s;
	const char *what;
	enum portal_state portal_after;         /* UNKNOWN: no change */
};

static void
step_done(void *data, const struct cmdseq_outcome *o)
{
	struct step *st = data;
	struct san *s = st->s;

	s->busy = false;
	s->op = NULL;
	if (o->rc < 0) {
		log_err("%s failed: %s", st->what, o->message);
	} else {
		if (st->portal_after != PORTAL_UNKNOWN)
			s->portal = st->portal_after;
		san_kick(s->a);         /* read back at once */
	}
	free(st);
}

void
san_step_run(struct san *s, struct cmdseq *seq, const char *what, int portal_after)
{
	struct step *st = calloc(1, sizeof(*st));
	int rc;

	if (st == NULL) {
		cmdseq_free(seq);
		return;
	}
	st->s = s;
	st->what = what;
	st->portal_after = (enum portal_state)portal_after;
	s->busy = true;
	rc = cmdseq_run(s->runner, seq, step_done, st, &s->op);
	if (rc < 0) {
		s->busy = false;
		log_err("%s could not be started: %s", what, xm_strerror(rc));
		cmdseq_free(seq);
		free(st);
	}
}

static void
portal_step(struct san *s, bool up)
{
	const char *dev = s->a->cfg.portal_dev;
	struct cmdseq seq;

	cmdseq_init(&seq);
	if (up) {
		cmdseq_add(&seq, "ip", "-4", "addr", "add", s->portal_addr, "dev", dev, NULL);
		cmdseq_tolerate(&seq);          /* "File exists": already ours */
		/* tell the initiators' ARP caches where the address went */
		char addr[64], *slash;

		snprintf(addr, sizeof(addr), "%s", s->portal_addr);
		slash = strchr(addr, '/');
		if (slash != NULL)
			*slash = '\0';
		cmdseq_add(&seq, "arping", "-q", "-U", "-c", "2", "-I", dev, addr, NULL);
		cmdseq_tolerate(&seq);
		log_notice("taking the portal address %s on %s", s->portal_addr, dev);
	} else {
		cmdseq_add(&seq, "ip", "-4", "addr", "del", s->portal_addr, "dev", dev, NULL);
		cmdseq_tolerate(&seq);          /* not there: fine */
		if (s->portal == PORTAL_UP)
			log_notice("dropping the portal address %s", s->portal_addr);
	}
	san_step_run(s, &seq, up ? "taking the portal address" : "dropping the portal address",
		 up ? PORTAL_UP : PORTAL_DOWN);
}

/* ---- volumes (active SAN node, in sync) --------------------------------- */

/* The file appears under its name only at its full size (made aside, then
 * linked), so a crash half-way or a second creator never leaves a short
 * file that reads as "exists with another size" for ever. */
static int
file_volume_create(struct san *s, const struct vol_rec *v, char *why, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct stat sb;
	int fd = -1, rc = 0;

	if (san_vol_backing(&s->pc, v, path, sizeof(path)) < 0 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.part", path, (long)getpid()) >= sizeof(tmp)) {
		snprintf(why, len, "path too long");
		return -ENAMETOOLONG;
	}
	if (stat(path, &sb) == 0)
		goto exists;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, len, "cannot create %.160s: %s", tmp, strerror(-rc));
		return rc;
	}
	if (ftruncate(fd, (off_t)v->size_bytes) < 0 || fsync(fd) < 0) {
		rc = -errno;
		snprintf(why, len, "cannot size %.160s: %s", tmp, strerror(-rc));
		goto out;
	}
	if (link(tmp, path) < 0) {
		rc = -errno;
		if (rc == -EEXIST && stat(path, &sb) == 0) {
			rc = 0;
			goto exists;
		}
		snprintf(why, len, "cannot create %.160s: %s", path, strerror(-rc));
	}
	goto out;
exists:
	/* made before a failover, or by a racing creator: the same volume
	 * if the size fits */
	if ((uint64_t)sb.st_size != v->size_bytes) {
		snprintf(why, len, "%.200s exists with another size", path);
		rc = -EEXIST;
	}
out:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	}
	return rc;
}

struct vol_step {
	struct san *s;
	char name[VOL_NAME_MAX];
	bool remove;
};

int
san_lvm_outcome(const struct cmdseq_outcome *o, bool remove, char *why, size_t len)
{
	int rc = o->rc;

	why[0] = '\0';
	if (rc == -EIO && o->last != NULL) {
		rc = lvm_error_classify(o->last->err.data, why, len);
		/* made or removed already (a failover in between) */
		if ((!remove && rc == -EEXIST) || (remove && rc == -ENOENT))
			rc = 0;
	} else if (rc < 0) {
		snprintf(why, len, "%.250s", o->message);
	}
	return rc;
}

static void
lvm_done(void *data, const struct cmdseq_outcome *o)
{
	struct vol_step *vs = data;
	struct san *s = vs->s;
	char why[256];
	int rc = san_lvm_outcome(o, vs->remove, why, sizeof(why));

	s->busy = false;
	s->op = NULL;
	if (vs->remove && rc == 0)
		san_report(s, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_REMOVED, vs->name, 0, NULL, NULL);
	else if (vs->remove)
		log_err("cannot remove volume %s: %s", vs->name, why);
	else
		san_report(s, rc == 0 ? XENMESH__HOST_EVENT_KIND__HOST_VOLUME_READY :
		       XENMESH__HOST_EVENT_KIND__HOST_VOLUME_FAILED, vs->name, 0, NULL,
		       rc == 0 ? NULL : why);
	san_kick(s->a);
	free(vs);
}

static bool
lvm_step(struct san *s, const struct vol_rec *v, bool remove)
{
	struct lvm_conf lc = { .vg = s->a->cfg.vg, .no_devmapper = s->a->cfg.no_devmapper };
	struct vol_step *vs = calloc(1, sizeof(*vs));
	struct cmdseq seq;
	int rc;

	if (vs == NULL)
		return false;
	vs->s = s;
	vs->remove = remove;
	snprintf(vs->name, sizeof(vs->name), "%s", v->name);
	cmdseq_init(&seq);
	if (remove)
		lvm_cmd_remove(&seq, &lc, v->name);
	else
		lvm_cmd_create(&seq, &lc, v->name, v->size_bytes);
	s->busy = true;
	rc = cmdseq_run(s->runner, &seq, lvm_done, vs, &s->op);
	if (rc < 0) {
		s->busy = false;
		log_err("volume %s: %s", v->name, xm_strerror(rc));
		cmdseq_free(&seq);
		free(vs);
		return false;
	}
	return true;
}

/* One volume change at a time; true when something was started. */
static bool
volume_work(struct san *s)
{
	const struct state *st = &s->a->rep.st;
	bool file = strcmp(s->a->cfg.backend, "file") == 0;
	char why[256], path[PATH_MAX];

	for (size_t i = 0; i < st->n_vols; i++) {
		const struct vol_rec *v = &st->vols[i];
		int rc;

		if (v->state != VOL_STATE_CREATING && v->state != VOL_STATE_REMOVING)
			continue;
		if (san_memo_recent(s, v->name, v->state))
			continue;       /* reported: waiting for the update */
		if (v->state == VOL_STATE_REMOVING && !file)
			return lvm_step(s, v, true);
		if (v->state == VOL_STATE_CREATING && !file)
			return lvm_step(s, v, false);
		if (v->state == VOL_STATE_REMOVING) {
			if (san_vol_backing(&s->pc, v, path, sizeof(path)) == 0 &&
			    unlink(path) < 0 && errno != ENOENT) {
				log_err("cannot remove %s: %s", path, strerror(errno));
				continue;
			}
			san_report(s, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_REMOVED, v->name,
			       0, NULL, NULL);
			continue;
		}
		why[0] = '\0';
		rc = file_volume_create(s, v, why, sizeof(why));
		if (rc < 0)
			log_err("volume %s: %s", v->name, why);
		san_report(s, rc == 0 ? XENMESH__HOST_EVENT_KIND__HOST_VOLUME_READY :
		       XENMESH__HOST_EVENT_KIND__HOST_VOLUME_FAILED, v->name, 0, NULL,
		       rc == 0 ? NULL : why);
	}
	return false;
}

/* ---- reports from a read-back that matches the state -------------------- */

static void
reports(struct san *s, const struct san_want *w)
{
	struct agent *a = s->a;
	const struct state *st = &a->rep.st;
	char name[TGT_IQN_MAX], key[STATE_NAME_MAX + 24];

	/* per-VM fence: the VM's target admits its current host alone */
	for (size_t i = 0; i < w->want.n; i++) {
		const struct tgt_want_target *t = &w->want.targets[i];
		const char *vm = t->iqn + strlen(a->cfg.iqn_prefix) + 1;
		const struct vm_rec *v = state_vm(st, vm);

		uint32_t dest;

		if (v == NULL || t->n_acl == 0)
			continue;
		dest = san_admitted_dest(st, vm);
		if (v->storage_gen == v->generation && v->storage_dest == dest)
			continue;
		snprintf(key, sizeof(key), "vm:%s:%" PRIu32, vm, dest);
		if (!san_memo_recent(s, key, v->generation)) {
			log_info("target of VM %s admits %s%s%s (generation %" PRIu64 ")",
				 vm, t->acl[0], t->n_acl > 1 ? " and " : " alone",
				 t->n_acl > 1 ? t->acl[1] : "", v->generation);
			san_report_dest(s, vm, v->generation, dest);
		}
	}
	/* storage fence: no ACL and no session names the host any more */
	for (size_t i = 0; i < st->n_nodes; i++) {
		const struct node_rec *n = &st->nodes[i];

		if (!(n->flags & NODE_FLAG_STORAGE_FENCED) ||
		    n->state != NODE_STATE_UNCLEAN)
			continue;
		if (iscsi_name_join(name, sizeof(name), a->cfg.iqn_prefix, n->name,
				    NULL, 0) < 0 ||
		    tgt_view_mentions_in(&s->view, a->cfg.iqn_prefix, name))
			continue;
		snprintf(key, sizeof(key), "fenced:%s", n->name);
		if (!san_memo_recent(s, key, st->seq)) {
			log_notice("storage fence of %s confirmed here: %s is in no ACL "
				   "and has no session", n->name, name);
			san_report(s, XENMESH__HOST_EVENT_KIND__HOST_STORAGE_FENCED, "", 0,
			       n->name, NULL);
		}
	}
}

/* ---- the pass ------------------------------------------------------------ */

static void
decide(struct san *s)
{
	struct agent *a = s->a;
	bool serve = should_serve(s);
	struct san_want w;
	struct cmdseq seq;
	char why[256];
	int rc;

	if (serve && !s->serving) {
		/* a SAN node exports only with its watchdog armed: cut off
		 * from the quorum it stops petting and is reset by W */
		rc = guard_prepare_start(a, why, sizeof(why));
		if (rc < 0) {
			log_err("not exporting targets: %s", why);
			serve = false;
		}
	}
	s->serving = serve;
	/* going down, the portal goes first: no new login reaches us */
	if (!serve && s->portal != PORTAL_DOWN && a->cfg.portal[0] != '\0') {
		portal_step(s, false);
		return;
	}
	rc = san_want_build(&s->a->rep.st, &s->pc, serve,
			    s->drbd ? san_mirror_exportable : NULL, s, &w);
	if (rc < 0)
		return;
	cmdseq_init(&seq);
	rc = tgt_plan(&s->view, &w.want, &s->tc, &seq, why, sizeof(why));
	if (rc < 0) {
		log_err("cannot plan the targets: %s", why);
		goto out;
	}
	if (seq.n > 0) {
		log_info("target daemon differs from the state: %zu tgtadm commands", seq.n);
		san_step_run(s, &seq, "updating the targets", PORTAL_UNKNOWN);
		goto out;
	}
	/* in sync: this read-back is what the reports stand on */
	reports(s, &w);
	/* the mirror: resources up, Primary here only while we serve */
	if (s->drbd && (san_mirror_step(s, serve) || san_mirror_volume_work(s, serve)))
		goto out;
	if (serve) {
		if (!s->drbd && volume_work(s))
			goto out;
		if (s->portal != PORTAL_UP)
			portal_step(s, true);
	} else if (s->stopping && s->stop_done != NULL) {
		void (*done)(struct agent *) = s->stop_done;

		s->stop_done = NULL;
		log_notice("targets and portal are down");
		done(a);
	}
out:
	cmdseq_free(&seq);
	san_want_free(&w);
}

static void
show_done(void *data, const struct cmdseq_outcome *o)
{
	struct san *s = data;
	char why[256];
	int rc;

	s->busy = false;
	s->op = NULL;
	if (o->rc < 0 || o->last == NULL) {
		if (s->have_view || s->error[0] == '\0')
			log_err("cannot read the target daemon: %.200s", o->message);
		snprintf(s->error, sizeof(s->error), "cannot read the target daemon: %.200s",
			 o->message);
		s->have_view = false;
		return;
	}
	tgt_view_free(&s->view);
	rc = tgt_show_parse(o->last->out.data, &s->view, why, sizeof(why));
	if (rc < 0) {
		snprintf(s->error, sizeof(s->error), "cannot parse tgtadm's output: %.200s", why);
		log_err("%s", s->error);
		s->have_view = false;
		return;
	}
	if (!s->have_view)
		log_notice("target daemon read: %zu targets", s->view.n);
	s->have_view = true;
	s->error[0] = '\0';
	if (s->drbd)
		san_mirror_read(s, decide);
	else
		decide(s);
}

static void
pass(struct san *s)
{
	struct cmdseq seq;

	if (s->busy)
		return;
	cmdseq_init(&seq);
	tgt_cmd_show(&seq, &s->tc);
	s->busy = true;
	if (cmdseq_run(s->runner, &seq, show_done, s, &s->op) < 0) {
		s->busy = false;
		cmdseq_free(&seq);
	}
}

static void
timer_fn(void *data)
{
	struct san *s = data;

	pass(s);
	(void)qb_loop_timer_add(s->a->loop, QB_LOOP_LOW,
				PASS_PERIOD_MS * QB_TIME_NS_IN_MSEC, s, timer_fn,
				&s->timer);
}

bool
san_exporting(const struct agent *a)
{
	return a->san != NULL && (a->san->serving || a->san->portal == PORTAL_UP ||
				  (a->san->have_view && a->san->view.n > 0));
}

bool
san_shutdown(struct agent *a, void (*done)(struct agent *a))
{
	struct san *s = a->san;

	if (s == NULL || !san_exporting(a))
		return false;
	s->stopping = true;
	s->stop_done = done;
	san_kick(a);
	return true;
}

int
san_start(struct agent *a)
{
	struct san *s;
	const char *colon;
	int rc;

	if (a->cfg.role != NODE_ROLE_SAN)
		return 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->a = a;
	s->tc.control_port = (unsigned)a->cfg.tgt_control_port;
	s->portal = PORTAL_UNKNOWN;
	san_plan_conf_of(a, &s->pc);
	s->drbd = s->pc.drbd;
	/* "ADDR[:PORT]" -> "ADDR/PREFIX" for ip(8) */
	colon = strchr(a->cfg.portal, ':');
	snprintf(s->portal_addr, sizeof(s->portal_addr), "%.*s/%" PRIu64,
		 colon ? (int)(colon - a->cfg.portal) : (int)strlen(a->cfg.portal),
		 a->cfg.portal, a->cfg.portal_prefix);
	rc = runner_exec_open(&s->runner, a->loop, NULL);
	if (rc == 0 && s->drbd)
		rc = san_mirror_start(s);
	if (rc < 0) {
		runner_close(s->runner);
		free(s);
		return rc;
	}
	if (a->cfg.portal[0] == '\0')
		log_warn("no portal in [storage]: this SAN node exports nothing");
	log_notice("SAN node: backend %s, mirror %s, portal %s on %s, targets %s:*",
		   a->cfg.backend, a->cfg.mirror, s->portal_addr, a->cfg.portal_dev,
		   a->cfg.iqn_prefix);
	a->san = s;
	(void)qb_loop_timer_add(a->loop, QB_LOOP_LOW, PASS_PERIOD_MS * QB_TIME_NS_IN_MSEC,
				s, timer_fn, &s->timer);
	return 0;
}

void
san_stop(struct agent *a)
{
	struct san *s = a->san;

	if (s == NULL)
		return;
	if (s->timer != 0)
		(void)qb_loop_timer_del(a->loop, s->timer);
	if (s->op != NULL)
		cmdseq_op_abandon(s->op);
	runner_close(s->runner);
	tgt_view_free(&s->view);
	free(s);
	a->san = NULL;
}
