/* The coordinator's work; see coord.h.
 *
 * Decisions are taken only on a state that already holds everything this
 * coordinator committed (replica_caught_up), so a decision is never made
 * twice; every applied update kicks another look.  Fence runs are local
 * to the coordinator: a new coordinator starts them again for every host
 * still unclean, which is safe since fencing is idempotent.
 */
#define LOG_SUBSYS "coord"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "chain.h"
#include "clock.h"
#include "confirm.h"
#include "cluster.h"
#include "coord.h"
#include "coord_int.h"
#include "decide.h"
#include "maint.h"
#include "log.h"
#include "methods.h"
#include "runner.h"
#include "unsafe.h"
#include "wire.h"
#include "selffence.h"
#include "xm_error.h"

#define TICK_MS            200
#define FENCE_RETRY_MS     30000
#define FENCE_RECOMMIT_MS  2000     /* a confirmed "fenced" not applied: again */
#define W_MARGIN_MS        2000
#define DEFAULT_CHAIN      "level 1 deadline"

static void
event(struct agent *a, uint32_t node, const char *kind, const char *text)
{
	(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, node, kind,
			   "%s", text);
}

/* ---- committing decisions ------------------------------------------------ */

static void fence_ensure(struct coord *co, uint32_t node);

/* A drain's migration, or its end. */
static int
maint_commit(struct coord *co, const struct ha_action *act, uint64_t now)
{
	struct agent *a = co->a;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmMigrate mig;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
	char text[512], why[256];
	int rc;

	ha_action_text(&a->rep.st, act, text, sizeof(text));
	if (act->kind == HA_ACT_MIGRATE) {
		ha_action_migrate_op(act, now, &op, &mig);
	} else {
		nf.id = act->node;
		nf.set = 0;
		nf.clear = NODE_FLAG_DRAINING;
		op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
		op.node_flags = &nf;
	}
	/* the state may refuse what the plan wanted (a destination that
	 * filled up meanwhile): said once here, the next run plans again */
	rc = state_validate(&a->rep.st, &op, why, sizeof(why));
	if (rc < 0) {
		log_info("not now: %s: %s", text, why);
		return 0;
	}
	rc = replica_commit(&a->rep, &op);
	if (rc < 0) {
		log_err("cannot commit '%s': %s", text, xm_strerror(rc));
		return rc;
	}
	log_notice("%s", text);
	event(a, act->kind == HA_ACT_MIGRATE ? act->host : act->node,
	      "maintenance", text);
	if (act->kind == HA_ACT_DRAIN_DONE)
		alert_raise(a, ALERT_DRAIN_DONE, act->node, NULL, "%s", text);
	return 0;
}

static void
plan_commit(struct coord *co, const struct ha_plan *plan, uint64_t now)
{
	struct agent *a = co->a;
	char text[512];

	for (size_t i = 0; i < plan->n; i++) {
		const struct ha_action *act = &plan->a[i];
		Xenmesh__Op op;
		Xenmesh__OpVmSet set;
		int rc;

		if (act->kind == HA_ACT_FENCE) {
			fence_ensure(co, act->node);
			continue;
		}
		if (act->kind == HA_ACT_NODE_UNCLEAN) {
			Xenmesh__Op nop = XENMESH__OP__INIT;
			Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;

			ns.id = act->node;
			ns.state = XENMESH__NODE_STATE__NODE_UNCLEAN;
			nop.kind_case = XENMESH__OP__KIND_NODE_STATE;
			nop.node_state = &ns;
			ha_action_text(&a->rep.st, act, text, sizeof(text));
			if (replica_commit(&a->rep, &nop) < 0)
				return;
			log_warn("%s", text);
			event(a, act->node, "fence", text);
			continue;
		}
		if (act->kind == HA_ACT_MIGRATE || act->kind == HA_ACT_DRAIN_DONE) {
			if (maint_commit(co, act, now) < 0)
				return;
			continue;
		}
		const struct vm_rec *v = state_vm(&a->rep.st, act->vm);
		/* said by the state before this: where it was, what it was */
		int alert = alert_vm_kind(v, act);
		uint32_t was_on = v != NULL && v->host != 0 ? v->host : act->host;

		ha_action_text(&a->rep.st, act, text, sizeof(text));
		ha_action_op(act, now, &op, &set);
		rc = replica_commit(&a->rep, &op);
		if (rc < 0) {
			log_err("cannot commit '%s': %s", text, xm_strerror(rc));
			return;
		}
		log_notice("%s", text);
		if (act->record_restart)
			metrics_restart(&a->metrics);
		event(a, act->host, "ha", text);
		if (alert >= 0)
			alert_raise(a, (enum alert_kind)alert, was_on, act->vm, "%s", text);
	}
}

/* ha_input's migrate_age_ms: since this coordinator first saw the
 * migration (its start on another coordinator counts from then). */
static uint64_t
migrate_age(void *ctx, const struct vm_rec *v)
{
	struct coord *co = ctx;
	uint64_t now = mono_ms();
	struct mig_watch *w, *oldest = &co->watch[0];

	for (size_t i = 0; i < COORD_MIG_WATCH; i++) {
		w = &co->watch[i];
		if (w->since_ms == v->migrate_since_ms &&
		    strcmp(w->vm, v->name) == 0)
			return now - w->first_mono_ms;
		if (w->first_mono_ms < oldest->first_mono_ms)
			oldest = w;
	}
	/* a new one: in the slot watched longest ago (a finished one) */
	(void)snprintf(oldest->vm, sizeof(oldest->vm), "%s", v->name);
	oldest->since_ms = v->migrate_since_ms;
	oldest->first_mono_ms = now;
	return 0;
}

static void
ha_input_fill(struct coord *co, struct ha_input *in)
{
	in->st = &co->a->rep.st;
	in->now_ms = wall_ms();
	in->ha_enabled = co->a->qv.ha_enabled;
	in->migrate_age_ms = migrate_age;
	in->ctx = co;
}

static void held_drop(struct coord *co);
static bool held_judge(struct coord *co);

static void
schedule(struct coord *co)
{
	struct agent *a = co->a;
	struct ha_input in;
	struct ha_plan plan = { 0 };
	int rc;

	if (!replica_is_coordinator(&a->rep)) {
		held_drop(co);  /* another judges what comes from now on */
		return;
	}
	if (!a->rep.synced || !replica_caught_up(&a->rep) || !held_judge(co) ||
	    !replica_caught_up(&a->rep))
		return;
	ha_input_fill(co, &in);
	rc = ha_schedule(&in, &plan);
	if (rc < 0)
		log_err("HA scheduling failed: %s", xm_strerror(rc));
	else
		plan_commit(co, &plan, in.now_ms);
	ha_plan_free(&plan);
}

static void
schedule_job(void *data)
{
	struct coord *co = data;

	co->kicked = false;
	schedule(co);
}

void
coord_kick(struct agent *a)
{
	struct coord *co = a->co;

	if (co == NULL || co->kicked)
		return;
	co->kicked = true;
	(void)qb_loop_job_add(a->loop, QB_LOOP_MED, co, schedule_job);
}

static void
host_event_judge(struct coord *co, uint32_t host, const Xenmesh__HostEvent *ev)
{
	struct ha_input in;
	struct ha_event hev;
	struct ha_plan plan = { 0 };
	int rc;

	if (coord_storage_event(co, host, ev))
		return;
	memset(&hev, 0, sizeof(hev));
	hev.kind = ev->kind;
	hev.host = host;
	hev.vm = ev->vm;
	hev.generation = ev->generation;
	hev.exit = ev->has_exit ? ev->exit : XENMESH__VM_EXIT__EXIT_CRASH;
	hev.reason = ev->reason;
	hev.bytes = ev->has_bytes ? ev->bytes : 0;
	ha_input_fill(co, &in);
	rc = ha_host_event(&in, &hev, &plan);
	if (rc < 0)
		log_err("event of VM %s from node %" PRIu32 " not handled: %s",
			ev->vm, host, xm_strerror(rc));
	else
		plan_commit(co, &plan, in.now_ms);
	ha_plan_free(&plan);
}

/* A copy that outlives the delivered message: packed and read back. */
static Xenmesh__HostEvent *
host_event_copy(const Xenmesh__HostEvent *ev)
{
	size_t len = xenmesh__host_event__get_packed_size(ev);
	uint8_t *buf = malloc(len ? len : 1);
	Xenmesh__HostEvent *copy = NULL;

	if (buf == NULL)
		return NULL;
	xenmesh__host_event__pack(ev, buf);
	copy = xenmesh__host_event__unpack(NULL, len, buf);
	free(buf);
	return copy;
}

static void
held_drop(struct coord *co)
{
	for (size_t i = 0; i < co->n_held; i++)
		xenmesh__host_event__free_unpacked(co->held[i].ev, NULL);
	co->n_held = 0;
}

/* Judge held events in arrival order while the state holds everything
 * committed; true when none is left. */
static bool
held_judge(struct coord *co)
{
	size_t done = 0;

	while (done < co->n_held && replica_caught_up(&co->a->rep)) {
		host_event_judge(co, co->held[done].host, co->held[done].ev);
		xenmesh__host_event__free_unpacked(co->held[done].ev, NULL);
		done++;
	}
	memmove(co->held, co->held + done,
		(co->n_held - done) * sizeof(co->held[0]));
	co->n_held -= done;
	return co->n_held == 0;
}

/* Unsafe test build, lose-report: every other report of a VM's start or
 * end is dropped, as a ring change drops one that was on its way. */
static bool
report_lost_on_purpose(struct coord *co, uint32_t host, const Xenmesh__HostEvent *ev)
{
	switch (ev->kind) {
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED:
	case XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED:
	case XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED:
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED:
		break;
	default:
		return false;
	}
	if (!xm_unsafe("lose-report") || co->lost_reports++ % 2 != 0)
		return false;
	log_warn("UNSAFE: dropping the report of VM %s (kind %d) from node %" PRIu32,
		 ev->vm, (int)ev->kind, host);
	return true;
}

/* An event judged on a state that lacks this coordinator's own commits
 * in flight (a start it ordered, say) would be judged wrong: hold it
 * until they are applied; every applied update kicks schedule(). */
void
coord_host_event(struct agent *a, uint32_t host, const Xenmesh__HostEvent *ev)
{
	struct coord *co = a->co;
	Xenmesh__HostEvent *copy;

	if (co == NULL || !replica_is_coordinator(&a->rep))
		return;
	if (report_lost_on_purpose(co, host, ev))
		return;
	if (co->n_held == 0 && replica_caught_up(&a->rep)) {
		host_event_judge(co, host, ev);
		return;
	}
	copy = co->n_held < COORD_HELD_MAX ? host_event_copy(ev) : NULL;
	if (copy == NULL) {
		log_warn("event from node %" PRIu32 " judged at once: "
			 "no room to hold it", host);
		host_event_judge(co, host, ev);
		return;
	}
	co->held[co->n_held].host = host;
	co->held[co->n_held].ev = copy;
	co->n_held++;
	coord_kick(a);
}

/* ---- fencing ------------------------------------------------------------------ */

static void fence_process(struct fence_run *run, const struct fence_actions *acts);

static void
fence_run_free(struct fence_run *run)
{
	if (run == NULL)
		return;
	if (run->op != NULL)
		fence_op_abandon(run->op);
	coord_storage_forget(run->co, run);
	fence_chain_free(&run->ch);
	free(run->domains);
	free(run->domain_names);
	free(run);
}

static struct fence_run *
fence_find(struct coord *co, uint32_t node)
{
	for (size_t i = 0; i < co->n_runs; i++)
		if (co->runs[i]->node == node)
			return co->runs[i];
	return NULL;
}

/* W = token + consensus + T_hb + the host's watchdog timeout + margin:
 * by then its watchdog has reset it, whatever else happened. */
static uint64_t
fence_deadline(struct coord *co, const struct node_rec *n)
{
	uint32_t token = 0, consensus = 0;

	if (n->watchdog_s == 0)
		return 0;       /* no watchdog: the deadline proves nothing */
	if (cluster_totem_ms(co->a, &token, &consensus) < 0) {
		token = 3000;
		consensus = 3600;
	}
	return selffence_deadline_ms(token, consensus,
				     selffence_t_hb_ms(token, consensus),
				     n->watchdog_s, W_MARGIN_MS);
}

static void
fence_done_cb(void *data, enum fence_result res, const char *message)
{
	struct fence_run *run = data;
	struct fence_actions acts;

	run->op = NULL;
	if (fence_chain_method_done(&run->ch, &run->act, res, message, mono_ms(),
				    &acts) == 0)
		fence_process(run, &acts);
}

static void
fence_log_steps(struct fence_run *run)
{
	char line[512];

	for (size_t i = run->logged_steps; i < run->ch.n_steps; i++) {
		const struct fence_step *s = fence_chain_step(&run->ch, i);

		if (s == NULL || s->result == 0)
			break;
		fence_step_format(s, line, sizeof(line));
		metrics_fence(&run->co->a->metrics, (int)s->kind, (int)s->result);
		log_notice("fence %s: %s", run->name, line);
		event(run->co->a, run->node, "fence", line);
		run->logged_steps = i + 1;
	}
}

static void
fence_confirmed(struct fence_run *run)
{
	struct agent *a = run->co->a;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;
	int rc;

	ns.id = run->node;
	ns.state = XENMESH__NODE_STATE__NODE_FENCED;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	run->recommit_at_ms = mono_ms() + FENCE_RECOMMIT_MS;
	rc = replica_commit(&a->rep, &op);
	if (rc < 0) {
		log_err("fence of %s confirmed but cannot be committed: %s", run->name,
			xm_strerror(rc));
		return;
	}
	log_notice("%s is fenced (level %u)", run->name, run->ch.confirmed_level);
	metrics_failover(&a->metrics, mono_ms() - run->ch.lost_at_ms);
	if (alert_host_once(a, ALERT_HOST_FENCED, run->node))  /* not for a recommit */
		alert_raise(a, ALERT_HOST_FENCED, run->node, NULL,
			    "%s is fenced (level %u)", run->name,
			    run->ch.confirmed_level);
}

/* Every method failed: say why in the replicated state, so that status on
 * any node shows it (not only this coordinator's log), once per change. */
static void
fence_failing_note(struct fence_run *run)
{
	struct agent *a = run->co->a;
	const struct node_rec *n = state_node(&a->rep.st, run->node);
	const struct fence_step *last = NULL;
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpFenceFailing ff = XENMESH__OP_FENCE_FAILING__INIT;
	char line[512], note[NODE_NOTE_MAX];
	uint32_t id;
	uint16_t minor;
	int rc;

	if (run->failing_since_s == 0)
		run->failing_since_s = wall_ms() / 1000;
	if (run->ch.n_steps > 0)
		last = fence_chain_step(&run->ch, run->ch.n_steps - 1);
	line[0] = '\0';
	if (last != NULL)
		fence_step_format(last, line, sizeof(line));
	confirm_failing_note(note, sizeof(note), run->name, run->failing_since_s,
			     line[0] != '\0' ? line : "every method failed");
	if (n == NULL || strcmp(n->fence_note, note) == 0 ||
	    !replica_caught_up(&a->rep))
		return;
	if (!cluster_members_speak(a, XM_PROTO_MINOR_FENCE_NOTE, &id, &minor)) {
		/* an older agent would refuse the update: the log and the
		 * event log say it instead until every member is upgraded */
		if (!run->note_held_logged)
			log_warn("not recording that fencing %s fails in the state: "
				 "node %" PRIu32 " speaks protocol %u.%u, %u.%u needed",
				 run->name, id, XM_PROTO_MAJOR, minor, XM_PROTO_MAJOR,
				 XM_PROTO_MINOR_FENCE_NOTE);
		run->note_held_logged = true;
		return;
	}
	ff.host = run->node;
	ff.note = note;
	op.kind_case = XENMESH__OP__KIND_FENCE_FAILING;
	op.fence_failing = &ff;
	rc = replica_commit(&a->rep, &op);
	if (rc < 0)
		log_warn("cannot record that fencing %s fails: %s", run->name,
			 xm_strerror(rc));
}

static void
fence_process(struct fence_run *run, const struct fence_actions *acts)
{
	struct coord *co = run->co;
	struct fence_target t;

	fence_log_steps(run);
	if (acts->state == FENCE_CHAIN_CONFIRMED) {
		fence_confirmed(run);
		return;
	}
	if (acts->state == FENCE_CHAIN_FAILED) {
		run->retry_at_ms = mono_ms() + FENCE_RETRY_MS;
		log_err("every fence method failed for %s; its VMs stay recovering; "
			"retrying in %d s", run->name, FENCE_RETRY_MS / 1000);
		event(co->a, run->node, "fence", "every method failed; retrying");
		fence_failing_note(run);
		/* once while the host is unclean: not at every retry */
		if (alert_host_once(co->a, ALERT_FENCE_FAILED, run->node))
			alert_raise(co->a, ALERT_FENCE_FAILED, run->node, NULL,
				    "every fence method failed for %s; its VMs stay "
				    "recovering; retrying every %d s until one "
				    "confirms (or agentctl node confirm-down)",
				    run->name, FENCE_RETRY_MS / 1000);
		return;
	}
	for (size_t i = 0; i < acts->n; i++) {
		memset(&t, 0, sizeof(t));
		t.host = run->name;
		t.domains = run->domains;
		t.n_domains = run->n_domains;
		t.storage_fence = coord_storage_fence;
		t.storage_data = co;
		run->act = acts->run[i];
		if (fence_method_run(co->runner, &t, &run->act, fence_done_cb, run,
				     &run->op) < 0) {
			struct fence_actions next;

			run->op = NULL;
			if (fence_chain_method_done(&run->ch, &run->act, FENCE_RESULT_FAILED,
						    "could not be started", mono_ms(),
						    &next) == 0)
				fence_process(run, &next);
			return;
		}
	}
}

static void
fence_domains(struct fence_run *run, const struct state *st)
{
	size_t n = 0;

	run->domain_names = calloc(st->n_vms + 1, sizeof(*run->domain_names));
	run->domains = calloc(st->n_vms + 1, sizeof(*run->domains));
	if (run->domain_names == NULL || run->domains == NULL)
		return;
	for (size_t i = 0; i < st->n_vms; i++) {
		if (st->vms[i].host != run->node)
			continue;
		snprintf(run->domain_names[n], VM_NAME_MAX, "%s", st->vms[i].name);
		run->domains[n] = run->domain_names[n];
		n++;
	}
	run->n_domains = n;
}

/* The chain of host n in the replicated fence config (the default one
 * when it names none); cfg holds it until fence_config_free. */
static const struct fence_host_conf *
fence_host_chain(struct coord *co, const struct node_rec *n, struct fence_config *cfg)
{
	const struct fence_host_conf *hc = NULL;
	const char *conf = co->a->rep.st.fence_config;
	char err[256], text[128];

	memset(cfg, 0, sizeof(*cfg));
	if (conf != NULL && fence_config_parse(conf, cfg, err, sizeof(err)) == 0)
		hc = fence_config_host(cfg, n->name);
	if (hc != NULL)
		return hc;
	fence_config_free(cfg);
	snprintf(text, sizeof(text), "%s: %s", n->name, DEFAULT_CHAIN);
	if (fence_config_parse(text, cfg, err, sizeof(err)) < 0) {
		log_err("default fence chain refused: %s", err);
		return NULL;
	}
	return fence_config_host(cfg, n->name);
}

/* Every method failed a while ago: try again, with the chain the fence
 * config names now (an admin may have mended it meanwhile); the loss
 * time, and so the deadline W, stay those of the first attempt. */
static int
fence_retry(struct fence_run *run, const struct node_rec *n, uint64_t now,
	    struct fence_actions *acts)
{
	struct fence_config cfg;
	const struct fence_host_conf *hc = fence_host_chain(run->co, n, &cfg);
	unsigned attempt = run->ch.attempt;
	int rc;

	if (hc == NULL)
		return fence_chain_retry(&run->ch, now, acts);
	rc = fence_chain_start(&run->ch, hc, run->ch.lost_at_ms,
			       fence_deadline(run->co, n), now, acts);
	if (rc == 0)
		run->ch.attempt = attempt + 1;
	fence_config_free(&cfg);
	return rc;
}

static void
fence_ensure(struct coord *co, uint32_t node)
{
	struct agent *a = co->a;
	const struct node_rec *n = state_node(&a->rep.st, node);
	const struct fence_host_conf *hc = NULL;
	struct fence_config cfg = { 0 };
	struct fence_run *run;
	struct fence_actions acts;
	uint64_t w;
	int rc;

	if (n == NULL || fence_find(co, node) != NULL ||
	    co->n_runs >= STATE_MAX_NODES)
		return;
	hc = fence_host_chain(co, n, &cfg);
	if (hc == NULL)
		return;
	run = calloc(1, sizeof(*run));
	if (run == NULL)
		goto out;
	run->co = co;
	run->node = node;
	snprintf(run->name, sizeof(run->name), "%s", n->name);
	fence_domains(run, &a->rep.st);
	w = fence_deadline(co, n);
	rc = fence_chain_start(&run->ch, hc, mono_ms(), w, mono_ms(), &acts);
	if (rc < 0) {
		log_err("cannot start fencing %s: %s", n->name, xm_strerror(rc));
		fence_run_free(run);
		goto out;
	}
	co->runs[co->n_runs++] = run;
	/* here, not where the host is marked unclean: the replica marks a
	 * host that left the ring (replica.c), the decisions one whose VM
	 * cannot be stopped, and both come to be fenced here */
	if (alert_host_once(a, ALERT_HOST_LOST, node))
		alert_raise(a, ALERT_HOST_LOST, node, NULL,
			    "%s is lost (unclean): fencing it", n->name);
	if (w > 0)
		log_notice("fencing %s: self-fence deadline W = %" PRIu64 " ms "
			   "(watchdog %" PRIu32 " s)", n->name, w, n->watchdog_s);
	else
		log_warn("fencing %s: it reported no watchdog, so the self-fence "
			 "deadline cannot confirm; other methods must", n->name);
	fence_process(run, &acts);
out:
	fence_config_free(&cfg);
}

/* Drop runs of hosts that are no longer unclean, or all of them when we
 * are no longer coordinator; tick the others. */
static void
tick_fn(void *data)
{
	struct coord *co = data;
	struct agent *a = co->a;
	bool coordinator = replica_is_coordinator(&a->rep);
	uint64_t now = mono_ms();

	for (size_t i = 0; i < a->rep.st.n_nodes; i++)
		if (a->rep.st.nodes[i].state != NODE_STATE_UNCLEAN)
			alert_host_clear(a, a->rep.st.nodes[i].id);
	for (size_t i = 0; i < co->n_runs;) {
		struct fence_run *run = co->runs[i];
		const struct node_rec *n = state_node(&a->rep.st, run->node);
		struct fence_actions acts;

		if (!coordinator || n == NULL || n->state != NODE_STATE_UNCLEAN) {
			if (n != NULL && n->state == NODE_STATE_FENCED)
				fence_log_steps(run);
			co->runs[i] = co->runs[--co->n_runs];
			fence_run_free(run);
			continue;
		}
		if (run->ch.state == FENCE_CHAIN_FAILED) {
			if (now >= run->retry_at_ms &&
			    fence_retry(run, n, now, &acts) == 0)
				fence_process(run, &acts);
		} else if (run->ch.state == FENCE_CHAIN_CONFIRMED) {
			/* confirmed, yet the host is still unclean: the "fenced"
			 * update was dropped (decided in a ring that changed
			 * before it was delivered).  The fence holds: say so again. */
			if (now >= run->recommit_at_ms && replica_caught_up(&a->rep)) {
				log_warn("%s: fence confirmed but not applied; committing "
					 "it again", run->name);
				fence_confirmed(run);
			}
		} else if (fence_chain_next_tick(&run->ch) <= now &&
			   fence_chain_tick(&run->ch, now, &acts) == 0) {
			fence_process(run, &acts);
		}
		i++;
	}
	if (coordinator) {
		coord_storage_schedule(co);
		schedule(co);
	} else {
		held_drop(co);
	}
	replica_tick(&a->rep, now);
	(void)qb_loop_timer_add(a->loop, QB_LOOP_LOW, TICK_MS * QB_TIME_NS_IN_MSEC,
				co, tick_fn, &co->tick);
}

size_t
coord_fence_history(struct agent *a, char *buf, size_t len)
{
	size_t used = 0, lines = 0;
	char line[512];

	if (len > 0)
		buf[0] = '\0';
	if (a->co == NULL)
		return 0;
	for (size_t i = 0; i < a->co->n_runs; i++) {
		const struct fence_run *run = a->co->runs[i];

		for (size_t k = 0; k < run->ch.n_steps; k++) {
			int n;

			if (used >= len)
				return lines;
			fence_step_format(&run->ch.steps[k], line, sizeof(line));
			n = snprintf(buf + used, len - used, "%s: %s\n", run->name, line);
			if (n < 0 || (size_t)n >= len - used)
				return lines;
			used += (size_t)n;
			lines++;
		}
	}
	return lines;
}

int
coord_start(struct agent *a)
{
	struct coord *co;
	int rc;

	co = calloc(1, sizeof(*co));
	if (co == NULL)
		return -ENOMEM;
	co->a = a;
	rc = runner_exec_open(&co->runner, a->loop, NULL);
	if (rc < 0) {
		free(co);
		return rc;
	}
	a->co = co;
	(void)qb_loop_timer_add(a->loop, QB_LOOP_LOW, TICK_MS * QB_TIME_NS_IN_MSEC,
				co, tick_fn, &co->tick);
	return 0;
}

void
coord_stop(struct agent *a)
{
	struct coord *co = a->co;

	if (co == NULL)
		return;
	if (co->tick != 0)
		(void)qb_loop_timer_del(a->loop, co->tick);
	for (size_t i = 0; i < co->n_runs; i++)
		fence_run_free(co->runs[i]);
	coord_storage_free(co);
	held_drop(co);
	runner_close(co->runner);
	free(co);
	a->co = NULL;
}
