/* Alert programs; see alert.h. */
#define LOG_SUBSYS "alert"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "alert.h"
#include "clock.h"
#include "decide.h"
#include "json.h"
#include "log.h"
#include "state.h"
#include "xm_error.h"

static const char *const kind_names[ALERT_KIND_N] = {
	[ALERT_HOST_LOST] = "host-lost",
	[ALERT_HOST_FENCED] = "host-fenced",
	[ALERT_FENCE_FAILED] = "fence-failed",
	[ALERT_VM_RESTARTED] = "vm-restarted",
	[ALERT_VM_FAILED] = "vm-failed",
	[ALERT_QUORUM_LOST] = "quorum-lost",
	[ALERT_QUORUM_REGAINED] = "quorum-regained",
	[ALERT_DRAIN_DONE] = "drain-done",
	[ALERT_SPLIT_BRAIN] = "split-brain",
	[ALERT_SELF_FENCE] = "self-fence",
};

const char *
alert_kind_name(enum alert_kind k)
{
	return (unsigned)k < ALERT_KIND_N ? kind_names[k] : NULL;
}

/* ---- the payload ---------------------------------------------------------- */

void
alert_time_format(uint64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* "KEY=value" with control characters as spaces: a value may end up in
 * a mail header or a log line, where a newline would start another. */
static char *
env_entry(const char *key, const char *val)
{
	char *e;

	if (asprintf(&e, "%s=%s", key, val) < 0)
		return NULL;
	for (char *c = e + strlen(key) + 1; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	return e;
}

void
alert_payload_free(struct alert_payload *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < ALERT_ENV_N; i++)
		free(p->env[i]);
	free(p->json);
	memset(p, 0, sizeof(*p));
}

int
alert_payload_make(const struct alert_event *ev, struct alert_payload *p)
{
	const char *kind = alert_kind_name(ev->kind);
	char when[32], seq[24];
	struct json j;
	char *text;
	int rc;

	memset(p, 0, sizeof(*p));
	if (kind == NULL)
		return -EINVAL;
	alert_time_format(ev->time_ms, when, sizeof(when));
	snprintf(seq, sizeof(seq), "%" PRIu64, ev->seq);
	p->env[0] = env_entry("XM_ALERT_KIND", kind);
	p->env[1] = env_entry("XM_ALERT_NODE", ev->node);
	p->env[2] = env_entry("XM_ALERT_VM", ev->vm);
	p->env[3] = env_entry("XM_ALERT_TEXT", ev->text);
	p->env[4] = env_entry("XM_ALERT_TIME", when);
	p->env[5] = env_entry("XM_ALERT_CLUSTER", ev->cluster);
	p->env[6] = env_entry("XM_ALERT_SEQ", seq);
	p->env[7] = env_entry("XM_ALERT_REPORTER", ev->reporter);
	for (size_t i = 0; i < ALERT_ENV_N; i++)
		if (p->env[i] == NULL)
			goto out_nomem;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "kind");
	json_string(&j, kind);
	json_key(&j, "node");
	json_string(&j, ev->node);
	json_key(&j, "vm");
	json_string(&j, ev->vm);
	json_key(&j, "text");
	json_string(&j, ev->text);
	json_key(&j, "time");
	json_string(&j, when);
	json_key(&j, "cluster");
	json_string(&j, ev->cluster);
	json_key(&j, "seq");
	json_uint(&j, ev->seq);
	json_key(&j, "reporter");
	json_string(&j, ev->reporter);
	json_object_end(&j);
	text = json_take(&j, &rc);
	if (text == NULL) {
		alert_payload_free(p);
		return rc < 0 ? rc : -ENOMEM;
	}
	/* a line: `read` in a shell script gets it whole */
	if (asprintf(&p->json, "%s\n", text) < 0) {
		p->json = NULL;
		free(text);
		goto out_nomem;
	}
	free(text);
	p->json_len = strlen(p->json);
	return 0;
out_nomem:
	alert_payload_free(p);
	return -ENOMEM;
}

int
alert_vm_kind(const struct vm_rec *before, const struct ha_action *act)
{
	bool was_up;

	if (act->kind != HA_ACT_VM_SET)
		return -1;
	if (act->state == VM_STATE_FAILED)
		return before != NULL && before->state == VM_STATE_FAILED ?
		       -1 : ALERT_VM_FAILED;
	if (act->record_restart)
		return ALERT_VM_RESTARTED;
	if (before == NULL || !before->want_running)
		return -1;
	/* its host was lost: the first step towards running it again (a
	 * start, or waiting for what it depends on) is the restart */
	if (before->state == VM_STATE_RECOVERING)
		return act->state == VM_STATE_STARTING ||
		       act->state == VM_STATE_STOPPED ? ALERT_VM_RESTARTED : -1;
	/* a new instance while the old one counted as up (its host lost
	 * with fence-wait unsafe, or a crash restarted in place) */
	was_up = before->state == VM_STATE_STARTING ||
		 before->state == VM_STATE_RUNNING ||
		 before->state == VM_STATE_MIGRATING;
	if (was_up && act->state == VM_STATE_STARTING &&
	    act->generation > before->generation)
		return ALERT_VM_RESTARTED;
	return -1;
}

/* ---- the dispatcher --------------------------------------------------------- */

struct pending {
	struct alert_payload p;
	char kind[16];
	uint64_t seq;
	size_t next_program;            /* the programs before it are started */
};

struct alert {
	struct runner *runner;
	char **programs;
	size_t n_programs;
	int timeout_ms;
	size_t queue_max, running_max;
	struct pending *queue;          /* ring of queue_max */
	size_t head, n_queued;
	size_t running;
	uint64_t seq;
	struct alert_stats st;
	bool closing;
	/* alert_quorum: what the node last knew */
	bool quorum_known, quorate;
	/* alert_host_once: hosts alerted about, the kinds as bits */
	struct host_memo {
		uint32_t node;          /* 0: free */
		uint32_t kinds;
	} hosts[ALERT_HOSTS_MAX];
};

/* One program run: what its end is logged with. */
struct run {
	struct alert *al;
	const char *program;
	char kind[16];
	uint64_t seq;
};

static void dispatch(struct alert *al);

static void
run_done(void *data, const struct runner_result *res)
{
	struct run *r = data;
	struct alert *al = r->al;
	char why[256];

	al->running--;
	if (res->cancelled) {
		log_info("alert %s #%" PRIu64 ": %s cancelled (agent stopping)",
			 r->kind, r->seq, r->program);
	} else if (runner_result_ok(res)) {
		al->st.ok++;
		log_info("alert %s #%" PRIu64 ": %s done in %" PRIu64 " ms",
			 r->kind, r->seq, r->program, res->elapsed_ms);
	} else {
		al->st.failed++;
		if (res->timed_out)
			al->st.timed_out++;
		runner_result_describe(res, why, sizeof(why));
		log_warn("alert %s #%" PRIu64 ": %s %s%s", r->kind, r->seq,
			 r->program, why, res->timed_out ? "; killed" : "");
	}
	free(r);
	if (!al->closing)
		dispatch(al);
}

static void
pending_pop(struct alert *al)
{
	alert_payload_free(&al->queue[al->head].p);
	al->head = (al->head + 1) % al->queue_max;
	al->n_queued--;
}

/* Start what waits, up to the cap. */
static void
dispatch(struct alert *al)
{
	while (al->n_queued > 0 && al->running < al->running_max) {
		struct pending *pd = &al->queue[al->head];
		struct runner_req req = { 0 };
		const char *argv[2];
		struct run *r;
		int rc;

		argv[0] = al->programs[pd->next_program++];
		argv[1] = NULL;
		req.argv = argv;
		req.stdin_data = pd->p.json;
		req.stdin_len = pd->p.json_len;
		req.timeout_ms = al->timeout_ms;
		req.env = (const char *const *)pd->p.env;
		r = calloc(1, sizeof(*r));
		if (r == NULL) {
			rc = -ENOMEM;
		} else {
			r->al = al;
			r->program = argv[0];
			memcpy(r->kind, pd->kind, sizeof(r->kind));
			r->seq = pd->seq;
			/* the runner copies argv, env and stdin: pd may go */
			rc = runner_run(al->runner, &req, run_done, r);
		}
		if (rc < 0) {
			free(r);
			al->st.failed++;
			log_err("alert %s #%" PRIu64 ": cannot run %s: %s", pd->kind,
				pd->seq, argv[0], xm_strerror(rc));
		} else {
			al->running++;
			al->st.started++;
		}
		if (pd->next_program >= al->n_programs)
			pending_pop(al);
	}
}

int
alert_send(struct alert *al, struct alert_event *ev)
{
	struct pending *pd;
	int rc;

	if (al == NULL || al->n_programs == 0)
		return -ENOENT;
	if (al->closing)
		return -ESHUTDOWN;
	ev->seq = ++al->seq;
	if (al->n_queued == al->queue_max) {
		/* the oldest goes: a flood (quorum flapping) must not hold the
		 * newest news back, nor grow without bound */
		al->st.dropped++;
		log_warn("alert queue full (%zu waiting): dropped %s #%" PRIu64
			 " (%" PRIu64 " dropped so far)", al->queue_max,
			 al->queue[al->head].kind, al->queue[al->head].seq,
			 al->st.dropped);
		pending_pop(al);
	}
	pd = &al->queue[(al->head + al->n_queued) % al->queue_max];
	memset(pd, 0, sizeof(*pd));
	rc = alert_payload_make(ev, &pd->p);
	if (rc < 0)
		return rc;
	snprintf(pd->kind, sizeof(pd->kind), "%s", alert_kind_name(ev->kind));
	pd->seq = ev->seq;
	al->n_queued++;
	al->st.sent++;
	dispatch(al);
	return 0;
}

void
alert_stats_get(const struct alert *al, struct alert_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (al == NULL)
		return;
	*st = al->st;
	st->queued = al->n_queued;
	st->running = al->running;
}

void
alert_close(struct alert *al)
{
	if (al == NULL)
		return;
	al->closing = true;
	runner_close(al->runner);       /* reports what runs, cancelled */
	while (al->n_queued > 0)
		pending_pop(al);
	for (size_t i = 0; i < al->n_programs; i++)
		free(al->programs[i]);
	free(al->programs);
	free(al->queue);
	free(al);
}

int
alert_open(struct alert **out, struct runner *runner, const struct alert_params *p)
{
	struct alert *al;

	if (out == NULL || runner == NULL || p == NULL || p->timeout_ms <= 0 ||
	    (p->n_programs > 0 && p->programs == NULL)) {
		runner_close(runner);
		return -EINVAL;
	}
	al = calloc(1, sizeof(*al));
	if (al == NULL) {
		runner_close(runner);
		return -ENOMEM;
	}
	al->runner = runner;
	al->timeout_ms = p->timeout_ms;
	al->queue_max = p->queue_max ? p->queue_max : ALERT_QUEUE_MAX;
	al->running_max = p->running_max ? p->running_max : ALERT_RUNNING_MAX;
	al->queue = calloc(al->queue_max, sizeof(*al->queue));
	al->programs = calloc(p->n_programs + 1, sizeof(*al->programs));
	if (al->queue == NULL || al->programs == NULL)
		goto out_nomem;
	for (size_t i = 0; i < p->n_programs; i++) {
		if (p->programs[i] == NULL || p->programs[i][0] != '/') {
			alert_close(al);
			return -EINVAL;
		}
		al->programs[i] = strdup(p->programs[i]);
		if (al->programs[i] == NULL)
			goto out_nomem;
		al->n_programs++;
	}
	*out = al;
	return 0;
out_nomem:
	alert_close(al);
	return -ENOMEM;
}

/* ---- in xenmeshd -------------------------------------------------------------- */

int
alert_agent_start(struct agent *a)
{
	const struct xm_config *cfg = &a->cfg;
	const char *progs[XM_ALERT_PROGRAMS_MAX];
	struct alert_params p = { 0 };
	struct runner *runner;
	int rc;

	a->alert = NULL;
	if (cfg->n_alert_programs == 0)
		return 0;
	for (unsigned i = 0; i < cfg->n_alert_programs; i++) {
		progs[i] = cfg->alert_programs[i];
		if (access(progs[i], X_OK) < 0)
			log_err("alert program %s: %s; alerts to it fail until it "
				"is there", progs[i], strerror(errno));
	}
	p.programs = progs;
	p.n_programs = cfg->n_alert_programs;
	p.timeout_ms = (int)(cfg->alert_timeout_s * 1000);
	rc = runner_exec_open(&runner, a->loop, NULL);
	if (rc == 0)
		rc = alert_open(&a->alert, runner, &p);
	if (rc < 0) {
		log_err("cannot start the alert programs: %s", xm_strerror(rc));
		return rc;
	}
	log_info("%u alert programs, timeout %" PRIu64 " s", cfg->n_alert_programs,
		 cfg->alert_timeout_s);
	return 0;
}

void
alert_agent_stop(struct agent *a)
{
	struct alert_stats st;

	if (a->alert == NULL)
		return;
	alert_stats_get(a->alert, &st);
	if (st.queued > 0 || st.running > 0)
		log_warn("stopping with %zu alerts waiting and %zu programs "
			 "running: they are not sent", st.queued, st.running);
	alert_close(a->alert);
	a->alert = NULL;
}

void
alert_raise(struct agent *a, enum alert_kind kind, uint32_t node,
	    const char *vm, const char *fmt, ...)
{
	struct alert_event ev;
	const struct node_rec *n;
	va_list ap;
	int rc;

	if (a->alert == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	if (node != 0) {
		n = state_node(&a->rep.st, node);
		if (n != NULL)
			snprintf(ev.node, sizeof(ev.node), "%s", n->name);
		else
			snprintf(ev.node, sizeof(ev.node), "node%" PRIu32, node);
	}
	snprintf(ev.vm, sizeof(ev.vm), "%s", vm ? vm : "");
	va_start(ap, fmt);
	(void)vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	ev.time_ms = wall_ms();
	snprintf(ev.cluster, sizeof(ev.cluster), "%s", a->cluster_name);
	snprintf(ev.reporter, sizeof(ev.reporter), "%s", a->node_name);
	rc = alert_send(a->alert, &ev);
	if (rc < 0)
		log_err("alert %s (%s) not sent: %s", alert_kind_name(kind),
			ev.text, xm_strerror(rc));
}

void
alert_quorum(struct agent *a, bool quorate, const char *reason)
{
	struct alert *al = a->alert;
	bool was;

	if (al == NULL)
		return;
	if (!al->quorum_known) {
		/* the first verdict after start is no change: a node that
		 * starts without quorum has not lost it */
		if (!quorate)
			return;
		al->quorum_known = true;
		al->quorate = true;
		return;
	}
	was = al->quorate;
	al->quorate = quorate;
	if (was && !quorate)
		alert_raise(a, ALERT_QUORUM_LOST, a->rep.local_id, NULL,
			    "%s lost quorum: %s", a->node_name,
			    reason && reason[0] ? reason : "not quorate");
	else if (!was && quorate)
		alert_raise(a, ALERT_QUORUM_REGAINED, a->rep.local_id, NULL,
			    "%s is quorate again", a->node_name);
}

bool
alert_host_once(struct agent *a, enum alert_kind kind, uint32_t node)
{
	struct alert *al = a->alert;
	struct host_memo *m = NULL;

	if (al == NULL || node == 0 || (unsigned)kind >= ALERT_KIND_N)
		return false;
	for (size_t i = 0; i < ALERT_HOSTS_MAX; i++) {
		if (al->hosts[i].node == node) {
			m = &al->hosts[i];
			break;
		}
		if (m == NULL && al->hosts[i].node == 0)
			m = &al->hosts[i];
	}
	if (m == NULL)
		return true;    /* more hosts than a cluster has: say it again */
	m->node = node;
	if (m->kinds & (1u << kind))
		return false;
	m->kinds |= 1u << kind;
	return true;
}

void
alert_host_clear(struct agent *a, uint32_t node)
{
	struct alert *al = a->alert;

	if (al == NULL)
		return;
	for (size_t i = 0; i < ALERT_HOSTS_MAX; i++)
		if (al->hosts[i].node == node)
			al->hosts[i] = (struct host_memo){ 0 };
}
