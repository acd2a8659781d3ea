/* Unit tests of agent/metrics.c (the Prometheus text) and
 * agent/metrics_http.c (the /metrics listener, over a real socket and a
 * real qb_loop).  The text is also checked with real parsers: promtool
 * (Debian package prometheus) and python3-prometheus-client's
 * text_string_to_metric_families, whichever are installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbdefs.h>

#include "chain.h"
#include "metrics.h"
#include "metrics_http.h"
#include "state.h"

#define PYTHON "/usr/bin/python3"

static void
view_init(struct metrics_view *v, const struct state *st)
{
	memset(v, 0, sizeof(*v));
	v->version = "0.1.0";
	v->proto_major = 1;
	v->proto_minor = 0;
	v->cluster = "lab";
	v->node = "h1";
	v->local_id = 1;
	v->connected = true;
	v->synced = true;
	v->quorate = true;
	v->ha_enabled = true;
	v->coordinator = 1;
	v->votes = 3;
	v->expected_votes = 3;
	v->quorum = 2;
	v->epoch = 4;
	v->seq = 57;
	v->st = st;
	v->unmanaged = 1;
}

/* A state with three nodes and four VMs. */
static void
state_fill(struct state *st)
{
	static const struct { const char *name; enum vm_state s; } vms[] = {
		{ "db1", VM_STATE_RUNNING }, { "web1", VM_STATE_RUNNING },
		{ "web2", VM_STATE_RECOVERING }, { "old", VM_STATE_FAILED },
	};

	state_init(st);
	st->n_nodes = 3;
	for (uint32_t i = 0; i < 3; i++) {
		st->nodes[i].id = i + 1;
		snprintf(st->nodes[i].name, sizeof(st->nodes[i].name), "h%u", i + 1);
		st->nodes[i].role = NODE_ROLE_DOM0;
		st->nodes[i].state = NODE_STATE_ONLINE;
	}
	st->nodes[2].state = NODE_STATE_UNCLEAN;
	st->nodes[1].flags = NODE_FLAG_MAINTENANCE;
	st->vms = calloc(4, sizeof(*st->vms));
	assert_non_null(st->vms);
	st->vms_cap = 4;
	st->n_vms = 4;
	for (size_t i = 0; i < 4; i++) {
		snprintf(st->vms[i].name, sizeof(st->vms[i].name), "%s", vms[i].name);
		st->vms[i].state = vms[i].s;
	}
}

static char *
format(const struct metrics *m, const struct metrics_view *v)
{
	char *text = NULL;

	assert_int_equal(metrics_format(m, v, &text), 0);
	assert_non_null(text);
	return text;
}

static void
expect_line(const char *text, const char *line)
{
	char *want;
	const char *p = text;
	size_t n = strlen(line);

	for (;;) {
		p = strstr(p, line);
		if (p == NULL)
			break;
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	want = (char *)line;
	fail_msg("line not found: %s\n--- in:\n%s", want, text);
}

/* ---- counters ------------------------------------------------------------- */

static void
test_counters_out_of_range(void **state)
{
	struct metrics m;

	metrics_init(&m, 0);
	metrics_fence(&m, 0, FENCE_RESULT_OK);
	metrics_fence(&m, METRICS_FENCE_KINDS, FENCE_RESULT_OK);
	metrics_fence(&m, FENCE_KIND_AGENT, 0);
	metrics_fence(&m, FENCE_KIND_AGENT, METRICS_FENCE_RESULTS);
	metrics_fence(&m, -1, -1);
	for (size_t k = 0; k < METRICS_FENCE_KINDS; k++)
		for (size_t r = 0; r < METRICS_FENCE_RESULTS; r++)
			assert_int_equal(m.fences[k][r], 0);
}

static void
test_format_empty(void **state)
{
	struct metrics m;
	struct metrics_view v;
	char *text;

	metrics_init(&m, 1700000000123ULL);
	view_init(&v, NULL);
	v.coordinator = 0;
	v.quorate = false;
	text = format(&m, &v);
	expect_line(text, "xenmesh_start_time_seconds 1700000000.123");
	expect_line(text, "xenmesh_quorate 0");
	expect_line(text, "xenmesh_coordinator_node_id 0");
	expect_line(text, "xenmesh_is_coordinator 0");
	/* every state is there, zeros included */
	expect_line(text, "xenmesh_nodes{state=\"fenced\"} 0");
	expect_line(text, "xenmesh_vms{state=\"unplaceable\"} 0");
	expect_line(text, "xenmesh_fence_methods_total{method=\"deadline\","
		    "result=\"timeout\"} 0");
	expect_line(text, "xenmesh_failover_duration_seconds_bucket{le=\"+Inf\"} 0");
	expect_line(text, "xenmesh_failover_duration_seconds_sum 0.000");
	free(text);
}

static void
test_format_full(void **state)
{
	struct metrics m;
	struct metrics_view v;
	struct state st;
	char *text;

	state_fill(&st);
	metrics_init(&m, 0);
	metrics_cpg_sent(&m, 100);
	metrics_cpg_sent(&m, 50);
	metrics_cpg_received(&m, 70);
	metrics_restart(&m);
	metrics_restart(&m);
	metrics_fence(&m, FENCE_KIND_AGENT, FENCE_RESULT_FAILED);
	metrics_fence(&m, FENCE_KIND_AGENT, FENCE_RESULT_OK);
	metrics_fence(&m, FENCE_KIND_DEADLINE, FENCE_RESULT_OK);
	metrics_failover(&m, 800);      /* <= 1 */
	metrics_failover(&m, 1000);     /* <= 1: le is inclusive */
	metrics_failover(&m, 12500);    /* <= 15 */
	metrics_failover(&m, 999999);   /* +Inf only */
	view_init(&v, &st);
	text = format(&m, &v);

	expect_line(text, "# TYPE xenmesh_quorate gauge");
	expect_line(text, "xenmesh_info{version=\"0.1.0\",protocol=\"1.0\","
		    "cluster=\"lab\",node=\"h1\",node_id=\"1\"} 1");
	expect_line(text, "xenmesh_quorate 1");
	expect_line(text, "xenmesh_is_coordinator 1");
	expect_line(text, "xenmesh_coordinator_node_id 1");
	expect_line(text, "xenmesh_state_seq 57");
	expect_line(text, "xenmesh_nodes{state=\"online\"} 2");
	expect_line(text, "xenmesh_nodes{state=\"unclean\"} 1");
	expect_line(text, "xenmesh_nodes_flagged{flag=\"maintenance\"} 1");
	expect_line(text, "xenmesh_nodes_flagged{flag=\"standby\"} 0");
	expect_line(text, "xenmesh_vms{state=\"running\"} 2");
	expect_line(text, "xenmesh_vms{state=\"recovering\"} 1");
	expect_line(text, "xenmesh_vms{state=\"failed\"} 1");
	expect_line(text, "xenmesh_vms{state=\"stopped\"} 0");
	expect_line(text, "xenmesh_unmanaged_domains 1");
	expect_line(text, "# TYPE xenmesh_vm_restarts_total counter");
	expect_line(text, "xenmesh_vm_restarts_total 2");
	expect_line(text, "xenmesh_fence_methods_total{method=\"fence-agent\","
		    "result=\"failed\"} 1");
	expect_line(text, "xenmesh_fence_methods_total{method=\"fence-agent\","
		    "result=\"ok\"} 1");
	expect_line(text, "xenmesh_fence_methods_total{method=\"deadline\","
		    "result=\"ok\"} 1");
	expect_line(text, "xenmesh_fence_methods_total{method=\"storage\","
		    "result=\"ok\"} 0");
	expect_line(text, "# TYPE xenmesh_failover_duration_seconds histogram");
	expect_line(text, "xenmesh_failover_duration_seconds_bucket{le=\"1\"} 2");
	expect_line(text, "xenmesh_failover_duration_seconds_bucket{le=\"10\"} 2");
	expect_line(text, "xenmesh_failover_duration_seconds_bucket{le=\"15\"} 3");
	expect_line(text, "xenmesh_failover_duration_seconds_bucket{le=\"300\"} 3");
	expect_line(text, "xenmesh_failover_duration_seconds_bucket{le=\"+Inf\"} 4");
	expect_line(text, "xenmesh_failover_duration_seconds_sum 1014.299");
	expect_line(text, "xenmesh_failover_duration_seconds_count 4");
	expect_line(text, "xenmesh_cpg_messages_sent_total 2");
	expect_line(text, "xenmesh_cpg_sent_bytes_total 150");
	expect_line(text, "xenmesh_cpg_messages_received_total 1");
	expect_line(text, "xenmesh_cpg_received_bytes_total 70");
	free(text);
	state_free(&st);
}

static void
test_label_escaping(void **state)
{
	struct metrics m;
	struct metrics_view v;
	char *text;

	metrics_init(&m, 0);
	view_init(&v, NULL);
	v.cluster = "a\"b\\c\nd";
	v.node = "";
	text = format(&m, &v);
	expect_line(text, "xenmesh_info{version=\"0.1.0\",protocol=\"1.0\","
		    "cluster=\"a\\\"b\\\\c\\nd\",node=\"\",node_id=\"1\"} 1");
	free(text);
}

/* ---- real parsers ----------------------------------------------------------- */

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static bool
have_promtool(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0;
}

static bool
have_python_client(void)
{
	return system(PYTHON " -c 'import prometheus_client' >/dev/null 2>&1") == 0;
}

/* Parses the file with python3-prometheus-client and checks a few values
 * as the parser sees them. */
static const char python_check[] =
	PYTHON " - \"$1\" <<'EOF'\n"
	"import sys\n"
	"from prometheus_client.parser import text_string_to_metric_families\n"
	"fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}\n"
	"assert fams['xenmesh_quorate'].type == 'gauge'\n"
	"assert fams['xenmesh_vm_restarts'].type == 'counter'\n"
	"h = fams['xenmesh_failover_duration_seconds']\n"
	"assert h.type == 'histogram', h.type\n"
	"b = [s for s in h.samples if s.name.endswith('_bucket')]\n"
	"assert b[-1].labels['le'] == '+Inf' and b[-1].value == 4.0, b[-1]\n"
	"f = fams['xenmesh_fence_methods']\n"
	"assert len(f.samples) == 12, len(f.samples)\n"
	"v = {s.labels['state']: s.value for s in fams['xenmesh_vms'].samples}\n"
	"assert v['running'] == 2 and v['recovering'] == 1, v\n"
	"i = fams['xenmesh_info'].samples[0]\n"
	"assert i.labels['cluster'] == 'l\"a\\\\b', i.labels\n"
	"print('python parser: %d families' % len(fams))\n"
	"EOF\n";

static void
test_real_parsers(void **state)
{
	char dir[] = "/tmp/xm-metrics-XXXXXX", path[64], cmd[256];
	struct metrics m;
	struct metrics_view v;
	struct state st;
	char *text;
	int checked = 0;

	state_fill(&st);
	metrics_init(&m, 1700000000000ULL);
	metrics_cpg_sent(&m, 10);
	metrics_restart(&m);
	metrics_fence(&m, FENCE_KIND_STORAGE, FENCE_RESULT_TIMEOUT);
	metrics_failover(&m, 500);
	metrics_failover(&m, 3000);
	metrics_failover(&m, 61000);
	metrics_failover(&m, 400000);
	view_init(&v, &st);
	v.cluster = "l\"a\\b";
	text = format(&m, &v);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metrics.prom", dir);
	assert_int_equal(write_file(path, text), 0);

	if (have_promtool()) {
		/* promtool also lints: names, units, _total, HELP */
		snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
		assert_int_equal(system(cmd), 0);
		checked++;
	}
	if (have_python_client()) {
		char script[64];

		snprintf(script, sizeof(script), "%s/check.sh", dir);
		assert_int_equal(write_file(script, python_check), 0);
		snprintf(cmd, sizeof(cmd), "sh %s %s", script, path);
		assert_int_equal(system(cmd), 0);
		(void)unlink(script);
		checked++;
	}
	(void)unlink(path);
	(void)rmdir(dir);
	free(text);
	state_free(&st);
	if (checked == 0) {
		fprintf(stderr, "neither promtool nor python3-prometheus-client is "
			"installed: the text was not checked by a real parser\n");
		skip();
	}
}

/* ---- the listen address ------------------------------------------------------ */

static void
test_listen_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;

	assert_int_equal(metrics_listen_parse(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("127.0.0.1", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("127.0.0.1:", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("127.0.0.1:0", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("127.0.0.1:65536", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("127.0.0.1:123456", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("127.0.0.1:-1", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("localhost:9661", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("::1:9661", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("[::1]9661", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("[127.0.0.1]:9661", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_listen_parse("1.2.3.4.5:80", NULL, NULL), -EINVAL);

	assert_int_equal(metrics_listen_parse("127.0.0.1:9661", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9661);
	assert_int_equal(metrics_listen_parse("[::1]:65535", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(metrics_listen_parse("0.0.0.0:1", NULL, NULL), 0);
}

/* ---- the listener, with a client in a child process --------------------------- */

static int
render_ok(void *data, char **text)
{
	const char *body = data;

	*text = strdup(body);
	return *text != NULL ? 0 : -ENOMEM;
}

static int
render_fail(void *data, char **text)
{
	*text = NULL;
	return -EIO;
}

static int
client_connect(uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends req (len bytes), reads the answer to the end into out. */
static int
client_ask(uint16_t port, const char *req, size_t len, char *out, size_t outlen)
{
	size_t used = 0;
	ssize_t n;
	int fd = client_connect(port);

	if (fd < 0)
		return -1;
	while (len > 0) {
		n = send(fd, req, len, MSG_NOSIGNAL);
		if (n <= 0)
			break;          /* the server may close early (431) */
		req += n;
		len -= (size_t)n;
	}
	while (used + 1 < outlen && (n = recv(fd, out + used, outlen - 1 - used, 0)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(fd);
	return 0;
}

/* Writes one answer per request to fd, each ending with "\n=====\n". */
static void
client_run(uint16_t port, int fd)
{
	static char big[METRICS_HTTP_HEAD_MAX + 100];
	static const char *const reqs[] = {
		"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n",
		"GET /metrics?x=1 HTTP/1.0\n\n",
		"GET / HTTP/1.1\r\n\r\n",
		"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"GET /metrics\r\n\r\n",
		"garbage\r\n\r\n",
		"GET /metrics SPDY/3\r\n\r\n",
	};
	char out[8192];
	int idle;

	/* a client that says nothing must not block the others */
	idle = client_connect(port);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		if (client_ask(port, reqs[i], strlen(reqs[i]), out, sizeof(out)) < 0)
			snprintf(out, sizeof(out), "connect failed");
		dprintf(fd, "%s\n=====\n", out);
	}
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	if (client_ask(port, big, sizeof(big), out, sizeof(out)) < 0)
		snprintf(out, sizeof(out), "connect failed");
	dprintf(fd, "%s\n=====\n", out);
	if (idle >= 0)
		close(idle);
}

struct child_wait {
	qb_loop_t *loop;
	pid_t pid;
	int status;
	qb_loop_timer_handle t;
	unsigned ticks;
};

static void
child_wait_fn(void *data)
{
	struct child_wait *w = data;

	if (waitpid(w->pid, &w->status, WNOHANG) == w->pid || ++w->ticks > 200) {
		qb_loop_stop(w->loop);
		return;
	}
	(void)qb_loop_timer_add(w->loop, QB_LOOP_LOW, 50 * QB_TIME_NS_IN_MSEC, w,
				child_wait_fn, &w->t);
}

/* Runs the client against a listener serving body (or failing); the
 * client's answers in out. */
static void
serve(metrics_render_fn render, const char *body, char *out, size_t outlen)
{
	struct child_wait w = { 0 };
	struct metrics_http *h = NULL;
	int p[2];
	ssize_t n;
	size_t used = 0;

	w.loop = qb_loop_create();
	assert_non_null(w.loop);
	assert_int_equal(metrics_http_start(w.loop, "127.0.0.1:0", render,
					    (void *)body, &h), 0);
	assert_true(metrics_http_port(h) > 0);
	assert_int_equal(pipe(p), 0);
	w.pid = fork();
	assert_true(w.pid >= 0);
	if (w.pid == 0) {
		close(p[0]);
		client_run(metrics_http_port(h), p[1]);
		_exit(0);
	}
	close(p[1]);
	(void)qb_loop_timer_add(w.loop, QB_LOOP_LOW, 50 * QB_TIME_NS_IN_MSEC, &w,
				child_wait_fn, &w.t);
	qb_loop_run(w.loop);
	assert_true(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0);
	while ((n = read(p[0], out + used, outlen - 1 - used)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(p[0]);
	metrics_http_stop(h);
	qb_loop_destroy(w.loop);
}

/* The i-th answer (0-based) of out. */
static const char *
answer(const char *out, unsigned i, char *buf, size_t len)
{
	const char *p = out, *end;

	for (; i > 0 && p != NULL; i--) {
		p = strstr(p, "\n=====\n");
		if (p != NULL)
			p += 7;
	}
	assert_non_null(p);
	end = strstr(p, "\n=====\n");
	assert_non_null(end);
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return buf;
}

static void
test_http(void **state)
{
	static char out[65536];
	char a[8192];
	const char *body = "# HELP x_total y\n# TYPE x_total counter\nx_total 1\n";

	serve(render_ok, body, out, sizeof(out));
	answer(out, 0, a, sizeof(a));
	assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(a, "Content-Type: text/plain; version=0.0.4; "
			       "charset=utf-8\r\n"));
	assert_non_null(strstr(a, "Content-Length: 50\r\n"));
	assert_non_null(strstr(a, "Connection: close\r\n"));
	assert_non_null(strstr(a, "\r\n\r\n# HELP x_total y\n"));
	assert_non_null(strstr(answer(out, 1, a, sizeof(a)), "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(answer(out, 2, a, sizeof(a)),
			       "HTTP/1.1 404 Not Found\r\n"));
	answer(out, 3, a, sizeof(a));
	assert_non_null(strstr(a, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(a, "Allow: GET\r\n"));
	assert_non_null(strstr(answer(out, 4, a, sizeof(a)),
			       "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(answer(out, 5, a, sizeof(a)),
			       "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(answer(out, 6, a, sizeof(a)),
			       "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(answer(out, 7, a, sizeof(a)),
			       "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

static void
test_http_render_fails(void **state)
{
	static char out[65536];
	char a[8192];

	serve(render_fail, NULL, out, sizeof(out));
	assert_non_null(strstr(answer(out, 0, a, sizeof(a)),
			       "HTTP/1.1 500 Internal Server Error\r\n"));
	/* the others are answered as before */
	assert_non_null(strstr(answer(out, 2, a, sizeof(a)),
			       "HTTP/1.1 404 Not Found\r\n"));
}

static void
test_http_bad_listen(void **state)
{
	struct metrics_http *h = (struct metrics_http *)1;
	qb_loop_t *loop = qb_loop_create();

	assert_int_equal(metrics_http_start(loop, "nonsense", render_ok, NULL, &h),
			 -EINVAL);
	assert_null(h);
	/* an address that is not ours */
	assert_true(metrics_http_start(loop, "192.0.2.1:9661", render_ok, NULL,
				       &h) < 0);
	assert_null(h);
	metrics_http_stop(NULL);
	qb_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_out_of_range),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_http_bad_listen),
		cmocka_unit_test(test_format_empty),
		cmocka_unit_test(test_format_full),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_real_parsers),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_render_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
