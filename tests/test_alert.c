/* Tests of agent/alert.c: the payload (environment and JSON, escaping),
 * which VM changes are alerts, the queue bound and the cap on running
 * programs (recorder runner), and real programs on a real loop: what they
 * receive, the kill at the timeout, and the two shipped samples.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "agent.h"
#include "alert.h"
#include "clock.h"
#include "config.h"
#include "decide.h"
#include "runner.h"
#include "state.h"

static void
event_fill(struct alert_event *ev, enum alert_kind kind, const char *text)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	snprintf(ev->node, sizeof(ev->node), "h2");
	snprintf(ev->vm, sizeof(ev->vm), "web1");
	snprintf(ev->text, sizeof(ev->text), "%s", text);
	ev->time_ms = 1796238268123ULL;         /* 2026-12-02T19:04:28Z */
	ev->seq = 7;
	snprintf(ev->cluster, sizeof(ev->cluster), "c1");
	snprintf(ev->reporter, sizeof(ev->reporter), "h1");
}

static const char *
env_get(const struct alert_payload *p, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; p->env[i]; i++)
		if (strncmp(p->env[i], key, k) == 0 && p->env[i][k] == '=')
			return p->env[i] + k + 1;
	return NULL;
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ---- the payload ----------------------------------------------------------- */

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(alert_kind_name(ALERT_HOST_LOST), "host-lost");
	assert_string_equal(alert_kind_name(ALERT_HOST_FENCED), "host-fenced");
	assert_string_equal(alert_kind_name(ALERT_FENCE_FAILED), "fence-failed");
	assert_string_equal(alert_kind_name(ALERT_VM_RESTARTED), "vm-restarted");
	assert_string_equal(alert_kind_name(ALERT_VM_FAILED), "vm-failed");
	assert_string_equal(alert_kind_name(ALERT_QUORUM_LOST), "quorum-lost");
	assert_string_equal(alert_kind_name(ALERT_QUORUM_REGAINED), "quorum-regained");
	assert_string_equal(alert_kind_name(ALERT_DRAIN_DONE), "drain-done");
	assert_string_equal(alert_kind_name(ALERT_SPLIT_BRAIN), "split-brain");
	assert_string_equal(alert_kind_name(ALERT_SELF_FENCE), "self-fence");
	assert_null(alert_kind_name(ALERT_KIND_N));
	assert_null(alert_kind_name((enum alert_kind)-1));
}

static void
test_payload_invalid_kind(void **state)
{
	struct alert_event ev;
	struct alert_payload p;

	(void)state;
	event_fill(&ev, ALERT_HOST_LOST, "x");
	ev.kind = ALERT_KIND_N;
	assert_int_equal(alert_payload_make(&ev, &p), -EINVAL);
	assert_null(p.json);
	assert_null(p.env[0]);
	alert_payload_free(&p);
	alert_payload_free(NULL);
}

static void
test_time_format(void **state)
{
	char buf[32];

	(void)state;
	alert_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	alert_time_format(1796238268999ULL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-02T19:04:28Z");
}

static void
test_payload_env_and_json(void **state)
{
	struct alert_event ev;
	struct alert_payload p;
	struct json_object *o, *seq;
	size_t n = 0;

	(void)state;
	event_fill(&ev, ALERT_HOST_FENCED, "h2 is fenced (level 1)");
	assert_int_equal(alert_payload_make(&ev, &p), 0);
	while (p.env[n])
		n++;
	assert_int_equal(n, ALERT_ENV_N);
	assert_string_equal(env_get(&p, "XM_ALERT_KIND"), "host-fenced");
	assert_string_equal(env_get(&p, "XM_ALERT_NODE"), "h2");
	assert_string_equal(env_get(&p, "XM_ALERT_VM"), "web1");
	assert_string_equal(env_get(&p, "XM_ALERT_TEXT"), "h2 is fenced (level 1)");
	assert_string_equal(env_get(&p, "XM_ALERT_TIME"), "2026-12-02T19:04:28Z");
	assert_string_equal(env_get(&p, "XM_ALERT_CLUSTER"), "c1");
	assert_string_equal(env_get(&p, "XM_ALERT_SEQ"), "7");
	assert_string_equal(env_get(&p, "XM_ALERT_REPORTER"), "h1");

	/* one line, a JSON object with the same fields */
	assert_int_equal(p.json_len, strlen(p.json));
	assert_int_equal(p.json[p.json_len - 1], '\n');
	assert_ptr_equal(strchr(p.json, '\n'), p.json + p.json_len - 1);
	o = json_tokener_parse(p.json);
	assert_non_null(o);
	assert_string_equal(jstr(o, "kind"), "host-fenced");
	assert_string_equal(jstr(o, "node"), "h2");
	assert_string_equal(jstr(o, "vm"), "web1");
	assert_string_equal(jstr(o, "text"), "h2 is fenced (level 1)");
	assert_string_equal(jstr(o, "time"), "2026-12-02T19:04:28Z");
	assert_string_equal(jstr(o, "cluster"), "c1");
	assert_string_equal(jstr(o, "reporter"), "h1");
	assert_true(json_object_object_get_ex(o, "seq", &seq));
	assert_true(json_object_is_type(seq, json_type_int));
	assert_int_equal(json_object_get_int64(seq), 7);
	assert_int_equal(json_object_object_length(o), 8);
	json_object_put(o);
	alert_payload_free(&p);
}

static void
test_payload_escaping(void **state)
{
	static const char text[] = "quote \" back \\ nl\nline2\ttab \x01\x1f del\x7f end";
	struct alert_event ev;
	struct alert_payload p;
	struct json_object *o;

	(void)state;
	event_fill(&ev, ALERT_VM_FAILED, text);
	ev.node[0] = '\0';              /* none: empty, still present */
	assert_int_equal(alert_payload_make(&ev, &p), 0);
	/* JSON: exactly the text, escaped; the line holds no raw control */
	for (size_t i = 0; i + 1 < p.json_len; i++)
		assert_true((unsigned char)p.json[i] >= 0x20);
	assert_non_null(strstr(p.json, "\\\""));
	assert_non_null(strstr(p.json, "\\n"));
	o = json_tokener_parse(p.json);
	assert_non_null(o);
	assert_string_equal(jstr(o, "text"), text);
	assert_string_equal(jstr(o, "node"), "");
	json_object_put(o);
	/* environment: one line, control characters as spaces */
	assert_string_equal(env_get(&p, "XM_ALERT_TEXT"),
			    "quote \" back \\ nl line2 tab    del  end");
	assert_string_equal(env_get(&p, "XM_ALERT_NODE"), "");
	alert_payload_free(&p);
}

/* ---- [alerts] in the config ------------------------------------------------------ */

/* Loads "[node]\nrole = dom0\n" + body; the error text in err. */
static int
conf_load(const char *body, struct xm_config *cfg, char *err, size_t len)
{
	char path[] = "/tmp/test_alert_conf.XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "[node]\nrole = dom0\n%s", body);
	assert_int_equal(fclose(f), 0);
	config_defaults(cfg);
	rc = config_load(path, cfg, err, len);
	unlink(path);
	return rc;
}

static void
test_config(void **state)
{
	static struct xm_config cfg;
	char err[512], body[2048];
	size_t o;

	(void)state;
	/* relative, twice the same, a 9th, bad timeouts: refused, clearly */
	assert_int_equal(conf_load("[alerts]\nprogram = alert-mail\n", &cfg, err,
				   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":4: program in [alerts] must be an absolute "
			       "path, not 'alert-mail'"));
	assert_int_equal(conf_load("[alerts]\nprogram = /a\nprogram = /a\n", &cfg,
				   err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5: program /a in [alerts] is named twice"));
	o = (size_t)snprintf(body, sizeof(body), "[alerts]\n");
	for (int i = 0; i < 9; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o, "program = /p%d\n", i);
	assert_int_equal(conf_load(body, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":12: too many alert programs in [alerts] (max 8)"));
	assert_int_equal(conf_load("[alerts]\ntimeout = 0\n", &cfg, err,
				   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid timeout '0' in [alerts]"));
	assert_int_equal(conf_load("[alerts]\ntimeout = 30\ntimeout = 40\n", &cfg,
				   err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "duplicate key timeout in [alerts]"));
	/* none by default, 30 s */
	assert_int_equal(conf_load("", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_alert_programs, 0);
	assert_int_equal(cfg.alert_timeout_s, 30);
	/* 8, in order, in two visits of the section */
	o = (size_t)snprintf(body, sizeof(body), "[alerts]\ntimeout = 2\n");
	for (int i = 0; i < 8; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%sprogram = /p%d\n",
				      i == 4 ? "[log]\n[alerts]\n" : "", i);
	assert_int_equal(conf_load(body, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_alert_programs, 8);
	assert_string_equal(cfg.alert_programs[0], "/p0");
	assert_string_equal(cfg.alert_programs[7], "/p7");
	assert_int_equal(cfg.alert_timeout_s, 2);
}

/* ---- which VM changes are alerts ------------------------------------------------ */

static void
vm_fill(struct vm_rec *v, enum vm_state st, uint32_t host, uint64_t gen)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "web1");
	v->state = st;
	v->host = host;
	v->generation = gen;
	v->want_running = true;
}

static void
act_fill(struct ha_action *a, enum vm_state st, uint32_t host, uint64_t gen)
{
	memset(a, 0, sizeof(*a));
	a->kind = HA_ACT_VM_SET;
	snprintf(a->vm, sizeof(a->vm), "web1");
	a->state = st;
	a->host = host;
	a->generation = gen;
	a->want_running = -1;
}

static void
test_vm_kind(void **state)
{
	struct vm_rec v;
	struct ha_action a;

	(void)state;
	/* host lost: recovering, then started elsewhere */
	vm_fill(&v, VM_STATE_RECOVERING, 2, 3);
	act_fill(&a, VM_STATE_STARTING, 1, 4);
	assert_int_equal(alert_vm_kind(&v, &a), ALERT_VM_RESTARTED);
	/* ... or waiting for what it depends on first */
	act_fill(&a, VM_STATE_STOPPED, 0, 0);
	assert_int_equal(alert_vm_kind(&v, &a), ALERT_VM_RESTARTED);
	/* ... but not when nobody wants it running */
	v.want_running = false;
	assert_int_equal(alert_vm_kind(&v, &a), -1);
	/* marked recovering (host unclean): not yet */
	vm_fill(&v, VM_STATE_RUNNING, 2, 3);
	act_fill(&a, VM_STATE_RECOVERING, 2, 0);
	assert_int_equal(alert_vm_kind(&v, &a), -1);
	/* a crash restarted (the decision records the restart) */
	act_fill(&a, VM_STATE_STOPPED, 0, 0);
	a.record_restart = true;
	assert_int_equal(alert_vm_kind(&v, &a), ALERT_VM_RESTARTED);
	/* a new instance while the old one counted as running */
	act_fill(&a, VM_STATE_STARTING, 1, 4);
	assert_int_equal(alert_vm_kind(&v, &a), ALERT_VM_RESTARTED);
	/* an admin's start of a stopped VM, a start done: nothing */
	vm_fill(&v, VM_STATE_STOPPED, 0, 3);
	act_fill(&a, VM_STATE_STARTING, 1, 4);
	assert_int_equal(alert_vm_kind(&v, &a), -1);
	vm_fill(&v, VM_STATE_STARTING, 1, 4);
	act_fill(&a, VM_STATE_RUNNING, 1, 0);
	assert_int_equal(alert_vm_kind(&v, &a), -1);
	/* failed, once */
	vm_fill(&v, VM_STATE_RUNNING, 1, 4);
	act_fill(&a, VM_STATE_FAILED, 1, 0);
	assert_int_equal(alert_vm_kind(&v, &a), ALERT_VM_FAILED);
	assert_int_equal(alert_vm_kind(NULL, &a), ALERT_VM_FAILED);
	vm_fill(&v, VM_STATE_FAILED, 1, 4);
	assert_int_equal(alert_vm_kind(&v, &a), -1);
	/* not a VM action */
	a.kind = HA_ACT_NODE_UNCLEAN;
	assert_int_equal(alert_vm_kind(&v, &a), -1);
	/* unknown VM, not failed: nothing */
	act_fill(&a, VM_STATE_STARTING, 1, 1);
	assert_int_equal(alert_vm_kind(NULL, &a), -1);
}

/* The runner's env entries (added for alerts) are checked. */
static void
test_runner_env_validate(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	struct runner_req req = { .argv = argv, .timeout_ms = 100 };

	(void)state;
	assert_int_equal(runner_req_validate(&req), 0);
	req.env = (const char *[]){ "XM_ALERT_KIND=host-lost", "EMPTY=", NULL };
	assert_int_equal(runner_req_validate(&req), 0);
	req.env = (const char *[]){ "NOEQUALS", NULL };
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.env = (const char *[]){ "=value", NULL };
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.env = (const char *[]){ "PATH=/tmp", NULL };
	assert_int_equal(runner_req_validate(&req), -EINVAL);
	req.env = (const char *[]){ "LC_ALL=de_DE", NULL };
	assert_int_equal(runner_req_validate(&req), -EINVAL);
}

/* ---- the dispatcher, with the recorder -------------------------------------------- */

static void
test_open_invalid(void **state)
{
	const char *rel[] = { "alert-mail" };
	struct alert_params p = { .programs = rel, .n_programs = 1, .timeout_ms = 1000 };
	struct alert *al = NULL;
	struct runner *r;
	struct alert_event ev;

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(alert_open(&al, r, &p), -EINVAL);      /* relative */
	assert_null(al);
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	p.programs = (const char *[]){ "/bin/true" };
	p.timeout_ms = 0;
	assert_int_equal(alert_open(&al, r, &p), -EINVAL);
	assert_int_equal(alert_open(&al, NULL, &p), -EINVAL);
	/* no programs: nothing to send */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	p.n_programs = 0;
	p.timeout_ms = 1000;
	assert_int_equal(alert_open(&al, r, &p), 0);
	event_fill(&ev, ALERT_HOST_LOST, "x");
	assert_int_equal(alert_send(al, &ev), -ENOENT);
	assert_int_equal(alert_send(NULL, &ev), -ENOENT);
	alert_close(al);
	alert_close(NULL);
}

static void
expect_ok(struct runner *r, size_t n)
{
	struct runner_canned ok = { .exit_code = 0 };

	for (size_t i = 0; i < n; i++)
		assert_int_equal(runner_recorder_expect(r, NULL, &ok), 0);
}

static uint64_t
record_seq(const struct runner *r, size_t i)
{
	const struct runner_record *rec = runner_recorder_get(r, i);
	struct json_object *o, *v;
	uint64_t seq;

	assert_non_null(rec);
	o = json_tokener_parse(rec->stdin_data);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "seq", &v));
	seq = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	return seq;
}

/* 10 events, 2 may run, 4 may wait: the oldest waiting ones go */
static void
test_queue_bound(void **state)
{
	const char *progs[] = { "/usr/lib/alert-a" };
	struct alert_params p = { .programs = progs, .n_programs = 1,
				  .timeout_ms = 5000, .queue_max = 4,
				  .running_max = 2 };
	static const uint64_t want[] = { 1, 2, 7, 8, 9, 10 };
	struct alert_event ev;
	struct alert_stats st;
	struct alert *al;
	struct runner *r;

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	expect_ok(r, 6);
	assert_int_equal(alert_open(&al, r, &p), 0);
	for (int i = 0; i < 10; i++) {
		event_fill(&ev, ALERT_QUORUM_LOST, "flap");
		assert_int_equal(alert_send(al, &ev), 0);
		assert_int_equal(ev.seq, (uint64_t)i + 1);
	}
	alert_stats_get(al, &st);
	assert_int_equal(st.sent, 10);
	assert_int_equal(st.running, 2);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.dropped, 4);
	assert_int_equal(runner_recorder_count(r), 2);
	/* each end starts the next; nothing ever beyond the cap */
	while (runner_recorder_deliver(r) > 0) {
		alert_stats_get(al, &st);
		assert_true(st.running <= 2);
	}
	alert_stats_get(al, &st);
	assert_int_equal(st.running, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.started, 6);
	assert_int_equal(st.ok, 6);
	assert_int_equal(runner_recorder_count(r), 6);
	for (size_t i = 0; i < 6; i++) {
		const struct runner_record *rec = runner_recorder_get(r, i);

		assert_string_equal(rec->line, "/usr/lib/alert-a");
		assert_int_equal(rec->timeout_ms, 5000);
		assert_int_equal(record_seq(r, i), want[i]);
	}
	alert_close(al);
}

/* Every program gets every event; a failing one is counted, not retried. */
static void
test_two_programs(void **state)
{
	const char *progs[] = { "/usr/lib/alert-a", "/usr/lib/alert-b" };
	struct alert_params p = { .programs = progs, .n_programs = 2,
				  .timeout_ms = 1000 };
	struct runner_canned fail = { .exit_code = 3, .err = "no mailer" };
	struct alert_event ev;
	struct alert_stats st;
	struct alert *al;
	struct runner *r;

	(void)state;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_expect(r, "/usr/lib/alert-b", &fail), 0);
	expect_ok(r, 3);
	assert_int_equal(alert_open(&al, r, &p), 0);
	event_fill(&ev, ALERT_HOST_LOST, "h2 lost");
	assert_int_equal(alert_send(al, &ev), 0);
	event_fill(&ev, ALERT_HOST_FENCED, "h2 fenced");
	assert_int_equal(alert_send(al, &ev), 0);
	while (runner_recorder_deliver(r) > 0)
		;
	alert_stats_get(al, &st);
	assert_int_equal(st.started, 4);
	assert_int_equal(st.ok, 3);
	assert_int_equal(st.failed, 1);
	assert_int_equal(runner_recorder_count(r), 4);
	assert_string_equal(runner_recorder_get(r, 0)->line, "/usr/lib/alert-a");
	assert_string_equal(runner_recorder_get(r, 1)->line, "/usr/lib/alert-b");
	assert_int_equal(record_seq(r, 1), 1);
	assert_string_equal(runner_recorder_get(r, 2)->line, "/usr/lib/alert-a");
	assert_int_equal(record_seq(r, 2), 2);
	assert_int_equal(record_seq(r, 3), 2);
	alert_close(al);
}

/* Fence runs start again at every sync round: their alerts do not. */
static void
test_host_once(void **state)
{
	const char *progs[] = { "/usr/lib/alert-a" };
	struct alert_params p = { .programs = progs, .n_programs = 1,
				  .timeout_ms = 1000 };
	static struct agent a;
	struct runner *r;

	(void)state;
	a.alert = NULL;
	assert_false(alert_host_once(&a, ALERT_HOST_LOST, 2));  /* no programs */
	alert_host_clear(&a, 2);
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(alert_open(&a.alert, r, &p), 0);
	assert_true(alert_host_once(&a, ALERT_HOST_LOST, 2));
	assert_false(alert_host_once(&a, ALERT_HOST_LOST, 2));
	assert_true(alert_host_once(&a, ALERT_FENCE_FAILED, 2));
	assert_true(alert_host_once(&a, ALERT_HOST_LOST, 3));
	assert_false(alert_host_once(&a, ALERT_HOST_LOST, 0));
	alert_host_clear(&a, 2);
	assert_true(alert_host_once(&a, ALERT_HOST_LOST, 2));
	assert_false(alert_host_once(&a, ALERT_HOST_LOST, 3));
	/* more hosts than remembered: said every time rather than never */
	for (uint32_t n = 10; n < 10 + ALERT_HOSTS_MAX; n++)
		(void)alert_host_once(&a, ALERT_HOST_LOST, n);
	assert_true(alert_host_once(&a, ALERT_HOST_LOST, 1000));
	assert_true(alert_host_once(&a, ALERT_HOST_LOST, 1000));
	alert_close(a.alert);
	a.alert = NULL;
}

static const char *
record_kind(const struct runner *r, size_t i)
{
	static char kind[32];
	const struct runner_record *rec = runner_recorder_get(r, i);
	struct json_object *o;

	assert_non_null(rec);
	o = json_tokener_parse(rec->stdin_data);
	assert_non_null(o);
	snprintf(kind, sizeof(kind), "%s", jstr(o, "kind"));
	json_object_put(o);
	return kind;
}

/* Lost and regained, not the first quorum at start nor a repeat. */
static void
test_quorum(void **state)
{
	const char *progs[] = { "/usr/lib/alert-a" };
	struct alert_params p = { .programs = progs, .n_programs = 1,
				  .timeout_ms = 1000 };
	static struct agent a;
	struct runner *r;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.node_name, sizeof(a.node_name), "h3");
	snprintf(a.cluster_name, sizeof(a.cluster_name), "c1");
	a.rep.local_id = 3;
	alert_quorum(&a, false, "no programs");         /* nothing, no crash */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	expect_ok(r, 2);
	assert_int_equal(alert_open(&a.alert, r, &p), 0);
	alert_quorum(&a, false, "starting");            /* never had it */
	alert_quorum(&a, true, "");                     /* the first quorum */
	alert_quorum(&a, true, "");
	assert_int_equal(runner_recorder_count(r), 0);
	alert_quorum(&a, false, "partition has 1 of 3 votes, 2 needed");
	alert_quorum(&a, false, "partition has 1 of 3 votes, 2 needed");
	assert_int_equal(runner_recorder_count(r), 1);
	alert_quorum(&a, true, "");
	assert_int_equal(runner_recorder_count(r), 2);
	assert_string_equal(record_kind(r, 0), "quorum-lost");
	assert_non_null(strstr(runner_recorder_get(r, 0)->stdin_data,
			       "\"text\":\"h3 lost quorum: partition has 1 of 3 votes"));
	assert_non_null(strstr(runner_recorder_get(r, 0)->stdin_data,
			       "\"reporter\":\"h3\""));
	assert_string_equal(record_kind(r, 1), "quorum-regained");
	while (runner_recorder_deliver(r) > 0)
		;
	alert_close(a.alert);
	a.alert = NULL;
}

/* ---- real programs on a real loop ------------------------------------------------------ */

struct looper {
	qb_loop_t *loop;
	struct alert *al;
	uint64_t want_done;             /* ok + failed */
	uint64_t deadline_ms;
	bool expired;
};

static void
looper_check(void *data)
{
	struct looper *lp = data;
	struct alert_stats st;
	qb_loop_timer_handle t;

	alert_stats_get(lp->al, &st);
	if (st.ok + st.failed >= lp->want_done) {
		qb_loop_stop(lp->loop);
		return;
	}
	if (mono_ms() > lp->deadline_ms) {
		lp->expired = true;
		qb_loop_stop(lp->loop);
		return;
	}
	(void)qb_loop_timer_add(lp->loop, QB_LOOP_LOW, 20 * QB_TIME_NS_IN_MSEC, lp,
				looper_check, &t);
}

static void
loop_until_done(struct looper *lp, uint64_t want, uint64_t max_ms)
{
	qb_loop_timer_handle t;

	lp->want_done = want;
	lp->deadline_ms = mono_ms() + max_ms;
	lp->expired = false;
	(void)qb_loop_timer_add(lp->loop, QB_LOOP_LOW, 20 * QB_TIME_NS_IN_MSEC, lp,
				looper_check, &t);
	qb_loop_run(lp->loop);
	assert_false(lp->expired);
}

static void
write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

static char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct real {
	char dir[64];
	struct looper lp;
};

static int
real_setup(void **state)
{
	struct real *re = calloc(1, sizeof(*re));

	if (re == NULL)
		return -1;
	snprintf(re->dir, sizeof(re->dir), "/tmp/test_alert.XXXXXX");
	if (mkdtemp(re->dir) == NULL)
		return -1;
	re->lp.loop = qb_loop_create();
	*state = re;
	return re->lp.loop ? 0 : -1;
}

static int
real_teardown(void **state)
{
	struct real *re = *state;
	char cmd[128];

	alert_close(re->lp.al);
	qb_loop_destroy(re->lp.loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", re->dir);
	(void)!system(cmd);
	free(re);
	unsetenv("XM_ALERT_RECIPIENT");
	unsetenv("XM_ALERT_WEBHOOK_URL");
	return 0;
}

static void
real_open(struct real *re, const char *const *progs, size_t n, int timeout_ms,
	  const char *path)
{
	struct runner_exec_params rp = { .path = path };
	struct alert_params p = { .programs = progs, .n_programs = n,
				  .timeout_ms = timeout_ms };
	struct runner *r;

	assert_int_equal(runner_exec_open(&r, re->lp.loop, &rp), 0);
	assert_int_equal(alert_open(&re->lp.al, r, &p), 0);
}

/* What a program really receives: the environment and stdin. */
static void
test_real_payload(void **state)
{
	struct real *re = *state;
	char prog[128], body[512], path[128];
	const char *progs[] = { prog };
	struct alert_event ev;
	struct json_object *o;
	char *s;

	snprintf(prog, sizeof(prog), "%s/record", re->dir);
	snprintf(body, sizeof(body), "env | grep '^XM_ALERT_' | sort > %s/env\n"
		 "cat > %s/json\n", re->dir, re->dir);
	write_script(prog, body);
	real_open(re, progs, 1, 5000, NULL);
	event_fill(&ev, ALERT_VM_RESTARTED, "start web1 on h3\nnext \"line\"");
	assert_int_equal(alert_send(re->lp.al, &ev), 0);
	loop_until_done(&re->lp, 1, 10000);

	snprintf(path, sizeof(path), "%s/env", re->dir);
	s = slurp(path);
	assert_non_null(s);
	assert_string_equal(s,
		"XM_ALERT_CLUSTER=c1\n"
		"XM_ALERT_KIND=vm-restarted\n"
		"XM_ALERT_NODE=h2\n"
		"XM_ALERT_REPORTER=h1\n"
		"XM_ALERT_SEQ=1\n"
		"XM_ALERT_TEXT=start web1 on h3 next \"line\"\n"
		"XM_ALERT_TIME=2026-12-02T19:04:28Z\n"
		"XM_ALERT_VM=web1\n");
	snprintf(path, sizeof(path), "%s/json", re->dir);
	s = slurp(path);
	assert_non_null(s);
	o = json_tokener_parse(s);
	assert_non_null(o);
	assert_string_equal(jstr(o, "kind"), "vm-restarted");
	assert_string_equal(jstr(o, "text"), "start web1 on h3\nnext \"line\"");
	json_object_put(o);
}

/* A program that hangs is killed at the timeout, with what it started;
 * the others are not held up meanwhile. */
static void
test_real_timeout_kill(void **state)
{
	struct real *re = *state;
	char hang[128], quick[128], body[256], path[128];
	const char *progs[] = { hang, quick };
	struct alert_event ev;
	struct alert_stats st;
	uint64_t t0;
	pid_t pid;
	char *s;

	snprintf(hang, sizeof(hang), "%s/hang", re->dir);
	snprintf(body, sizeof(body), "echo $$ > %s/pid\nexec sleep 1000\n", re->dir);
	write_script(hang, body);
	snprintf(quick, sizeof(quick), "%s/quick", re->dir);
	snprintf(body, sizeof(body), "cat >> %s/quick.out\n", re->dir);
	write_script(quick, body);
	real_open(re, progs, 2, 400, NULL);
	t0 = mono_ms();
	event_fill(&ev, ALERT_HOST_LOST, "h2 lost");
	assert_int_equal(alert_send(re->lp.al, &ev), 0);
	loop_until_done(&re->lp, 1, 10000);
	/* the quick one first, long before the timeout */
	alert_stats_get(re->lp.al, &st);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.running, 1);
	loop_until_done(&re->lp, 2, 10000);
	assert_true(mono_ms() - t0 < 5000);
	alert_stats_get(re->lp.al, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.running, 0);
	snprintf(path, sizeof(path), "%s/pid", re->dir);
	s = slurp(path);
	assert_non_null(s);
	pid = (pid_t)atoi(s);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), -1);     /* killed and reaped */
	assert_int_equal(errno, ESRCH);
}

/* The samples, with a fake mailer and a fake curl on the PATH. */
static void
test_sample_mail(void **state)
{
	struct real *re = *state;
	char prog[PATH_MAX], fake[128], body[256], path[512], runpath[256];
	const char *progs[] = { prog };
	struct alert_event ev;
	struct alert_stats st;
	char *s;

	snprintf(prog, sizeof(prog), "%s/../dist/alerts/alert-mail", TEST_SRCDIR);
	snprintf(fake, sizeof(fake), "%s/sendmail", re->dir);
	snprintf(body, sizeof(body), "echo \"$@\" > %s/args\ncat > %s/mail\n",
		 re->dir, re->dir);
	write_script(fake, body);
	snprintf(runpath, sizeof(runpath), "%s:/usr/bin:/bin", re->dir);
	real_open(re, progs, 1, 5000, runpath);

	/* no recipient: a clear error, counted as failed */
	unsetenv("XM_ALERT_RECIPIENT");
	event_fill(&ev, ALERT_HOST_LOST, "h2 lost");
	assert_int_equal(alert_send(re->lp.al, &ev), 0);
	loop_until_done(&re->lp, 1, 10000);
	alert_stats_get(re->lp.al, &st);
	assert_int_equal(st.failed, 1);

	assert_int_equal(setenv("XM_ALERT_RECIPIENT", "ops@example.org", 1), 0);
	event_fill(&ev, ALERT_HOST_LOST, "h2 lost\nSubject: injected");
	assert_int_equal(alert_send(re->lp.al, &ev), 0);
	loop_until_done(&re->lp, 2, 10000);
	alert_stats_get(re->lp.al, &st);
	assert_int_equal(st.ok, 1);
	snprintf(path, sizeof(path), "%s/args", re->dir);
	s = slurp(path);
	assert_non_null(s);
	assert_string_equal(s, "-t -oi\n");
	snprintf(path, sizeof(path), "%s/mail", re->dir);
	s = slurp(path);
	assert_non_null(s);
	assert_non_null(strstr(s, "To: ops@example.org\n"));
	assert_non_null(strstr(s, "Subject: [xenmesh c1] host-lost h2 web1\n"));
	assert_non_null(strstr(s, "\n\nh2 lost Subject: injected\n"));
	assert_null(strstr(s, "\nSubject: injected"));
	assert_non_null(strstr(s, "\"kind\":\"host-lost\""));
}

static void
test_sample_webhook(void **state)
{
	struct real *re = *state;
	char prog[PATH_MAX], fake[128], body[256], path[512], runpath[256];
	const char *progs[] = { prog };
	struct alert_event ev;
	struct alert_stats st;
	struct json_object *o;
	char *s;

	snprintf(prog, sizeof(prog), "%s/../dist/alerts/alert-webhook", TEST_SRCDIR);
	snprintf(fake, sizeof(fake), "%s/curl", re->dir);
	snprintf(body, sizeof(body), "echo \"$@\" > %s/args\ncat > %s/body\n",
		 re->dir, re->dir);
	write_script(fake, body);
	snprintf(runpath, sizeof(runpath), "%s:/usr/bin:/bin", re->dir);
	real_open(re, progs, 1, 5000, runpath);

	assert_int_equal(setenv("XM_ALERT_WEBHOOK_URL", "ftp://x", 1), 0);
	event_fill(&ev, ALERT_DRAIN_DONE, "h2 drained");
	assert_int_equal(alert_send(re->lp.al, &ev), 0);
	loop_until_done(&re->lp, 1, 10000);
	alert_stats_get(re->lp.al, &st);
	assert_int_equal(st.failed, 1);         /* not http(s) */

	assert_int_equal(setenv("XM_ALERT_WEBHOOK_URL", "https://hooks.example.org/x?a=1", 1), 0);
	assert_int_equal(alert_send(re->lp.al, &ev), 0);
	loop_until_done(&re->lp, 2, 10000);
	alert_stats_get(re->lp.al, &st);
	assert_int_equal(st.ok, 1);
	snprintf(path, sizeof(path), "%s/args", re->dir);
	s = slurp(path);
	assert_non_null(s);
	assert_string_equal(s, "-fsS --max-time 20 -o /dev/null -H Content-Type: "
			    "application/json --data-binary @- --url "
			    "https://hooks.example.org/x?a=1\n");
	snprintf(path, sizeof(path), "%s/body", re->dir);
	s = slurp(path);
	assert_non_null(s);
	o = json_tokener_parse(s);
	assert_non_null(o);
	assert_string_equal(jstr(o, "kind"), "drain-done");
	assert_string_equal(jstr(o, "text"), "h2 drained");
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_payload_invalid_kind),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_payload_env_and_json),
		cmocka_unit_test(test_payload_escaping),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_vm_kind),
		cmocka_unit_test(test_runner_env_validate),
		cmocka_unit_test(test_open_invalid),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_two_programs),
		cmocka_unit_test(test_host_once),
		cmocka_unit_test(test_quorum),
		cmocka_unit_test_setup_teardown(test_real_payload, real_setup, real_teardown),
		cmocka_unit_test_setup_teardown(test_real_timeout_kill, real_setup,
						real_teardown),
		cmocka_unit_test_setup_teardown(test_sample_mail, real_setup, real_teardown),
		cmocka_unit_test_setup_teardown(test_sample_webhook, real_setup,
						real_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
