/* Fence methods through the runner: fence-agent and xl-ssh.  See
 * methods.h for what is run and how results count.
 *
 * No clock of our own: the time a method has used is the sum of the
 * runner's elapsed_ms of its commands, so recorder tests are exact.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

#define ARGV_MAX 32

enum op_kind { OP_AGENT, OP_XLSSH };

struct fence_op {
	struct runner *r;
	enum op_kind kind;
	fence_method_done_fn done;
	void *data;
	bool abandoned;
	uint32_t timeout_ms;
	uint64_t used_ms;
	char notes[160];        /* what went wrong without failing */

	/* fence-agent */
	char *agent;
	const char *agent_name; /* basename, for messages */
	char *in_off, *in_status;       /* stdin of each phase */
	size_t in_off_len, in_status_len;
	bool status_phase;

	/* xl-ssh */
	char *dest, *key, *known, *port, *reset_line;
	char **domains;
	size_t n_domains, next_dom;
	bool reset_phase;
};

static void
op_free(struct fence_op *op)
{
	size_t i;

	if (!op)
		return;
	free(op->agent);
	free(op->in_off);
	free(op->in_status);
	free(op->dest);
	free(op->key);
	free(op->known);
	free(op->port);
	free(op->reset_line);
	for (i = 0; i < op->n_domains; i++)
		free(op->domains[i]);
	free(op->domains);
	free(op);
}

void
fence_op_abandon(struct fence_op *op)
{
	if (op)
		op->abandoned = true;
}

static void
op_finish(struct fence_op *op, enum fence_result res, const char *msg)
{
	if (!op->abandoned)
		op->done(op->data, res, msg);
	op_free(op);
}

static uint32_t
op_remaining(const struct fence_op *op)
{
	return op->used_ms >= op->timeout_ms ? 0 : op->timeout_ms - (uint32_t)op->used_ms;
}

/* ---- fence-agent ------------------------------------------------------- */

static void agent_step_done(void *data, const struct runner_result *res);

static int
agent_send(struct fence_op *op)
{
	const char *argv[] = { op->agent, NULL };
	struct runner_req req = {
		.argv = argv,
		.stdin_data = op->status_phase ? op->in_status : op->in_off,
		.stdin_len = op->status_phase ? op->in_status_len : op->in_off_len,
		.timeout_ms = (int)op_remaining(op),
	};

	return runner_run(op->r, &req, agent_step_done, op);
}

static void
agent_step_done(void *data, const struct runner_result *res)
{
	struct fence_op *op = data;
	const char *phase = op->status_phase ? "status" : "off";
	char why[160], msg[256];
	int rc;

	op->used_ms += res->elapsed_ms;
	if (op->abandoned) {
		op_free(op);
		return;
	}
	runner_result_describe(res, why, sizeof(why));
	snprintf(msg, sizeof(msg), "%s %s: %s", op->agent_name, phase, why);
	if (res->timed_out) {
		op_finish(op, FENCE_RESULT_TIMEOUT, msg);
		return;
	}
	if (!op->status_phase) {
		if (!runner_result_ok(res)) {
			op_finish(op, FENCE_RESULT_FAILED, msg);
			return;
		}
		/* off was done: check it, as the agent API recommends */
		op->status_phase = true;
		if (!op_remaining(op)) {
			snprintf(msg, sizeof(msg), "%s: off done, no time left for status",
				 op->agent_name);
			op_finish(op, FENCE_RESULT_TIMEOUT, msg);
			return;
		}
		rc = agent_send(op);
		if (rc) {
			snprintf(msg, sizeof(msg), "%s status: cannot run: %s",
				 op->agent_name, strerror(-rc));
			op_finish(op, FENCE_RESULT_FAILED, msg);
		}
		return;
	}
	/* status: 0 on, 1 error, 2 off */
	if (!res->cancelled && !res->exec_errno && !res->term_signal &&
	    res->exit_code == 2) {
		op_finish(op, FENCE_RESULT_OK, "off, status: off");
		return;
	}
	if (!res->cancelled && !res->exec_errno && !res->term_signal &&
	    res->exit_code == 0)
		snprintf(msg, sizeof(msg), "%s status: still on after off (exit 0)",
			 op->agent_name);
	op_finish(op, FENCE_RESULT_FAILED, msg);
}

/* "action=ACTION\n" then every option but ours, into one buffer. */
static int
agent_input(const struct fence_method_conf *m, const char *action, char **out,
	    size_t *len)
{
	size_t n = strlen("action=\n") + strlen(action), i, o;
	char *b;

	for (i = 0; i < m->n_opts; i++) {
		if (strpbrk(m->opts[i].key, "\n=") || strchr(m->opts[i].value, '\n'))
			return -EINVAL;         /* one line per option, no more */
		n += strlen(m->opts[i].key) + strlen(m->opts[i].value) + 2;
	}
	b = malloc(n + 1);
	if (!b)
		return -ENOMEM;
	o = (size_t)sprintf(b, "action=%s\n", action);
	for (i = 0; i < m->n_opts; i++) {
		if (!strcmp(m->opts[i].key, "agent"))
			continue;
		o += (size_t)sprintf(b + o, "%s=%s\n", m->opts[i].key, m->opts[i].value);
	}
	*out = b;
	*len = o;
	return 0;
}

int
fence_agent_run(struct runner *r, const struct fence_method_conf *m,
		uint32_t timeout_ms, fence_method_done_fn done, void *data,
		struct fence_op **opp)
{
	const char *agent = fence_method_opt(m, "agent");
	struct fence_op *op;
	const char *slash;
	int rc;

	if (opp)
		*opp = NULL;
	if (!r || !m || m->kind != FENCE_KIND_AGENT || !agent || !done || !timeout_ms)
		return -EINVAL;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->r = r;
	op->kind = OP_AGENT;
	op->done = done;
	op->data = data;
	op->timeout_ms = timeout_ms;
	op->agent = strdup(agent);
	if (!op->agent) {
		rc = -ENOMEM;
		goto out_free_op;
	}
	slash = strrchr(op->agent, '/');
	op->agent_name = slash ? slash + 1 : op->agent;
	rc = agent_input(m, "status", &op->in_status, &op->in_status_len);
	if (rc)
		goto out_free_op;
	rc = agent_input(m, "off", &op->in_off, &op->in_off_len);
	if (rc)
		goto out_free_op;
	rc = agent_send(op);
	if (rc)
		goto out_free_op;
	if (opp)
		*opp = op;
	return 0;
out_free_op:
	op_free(op);
	return rc;
}

/* ---- xl-ssh ------------------------------------------------------------ */

static void xlssh_step_done(void *data, const struct runner_result *res);

/* The ssh command line: common options, destination, then tail. */
static int
xlssh_send(struct fence_op *op)
{
	const char *argv[ARGV_MAX];
	size_t n = 0;
	struct runner_req req = { .argv = argv, .timeout_ms = (int)op_remaining(op) };

	argv[n++] = "ssh";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=5";
	if (op->reset_phase) {
		/* a host that resets sends no FIN: notice it in ~3 s */
		argv[n++] = "-o";
		argv[n++] = "ServerAliveInterval=1";
		argv[n++] = "-o";
		argv[n++] = "ServerAliveCountMax=3";
	}
	if (op->known) {
		argv[n++] = "-o";
		argv[n++] = op->known;
		argv[n++] = "-o";
		argv[n++] = "StrictHostKeyChecking=yes";
	}
	if (op->port) {
		argv[n++] = "-p";
		argv[n++] = op->port;
	}
	if (op->key) {
		argv[n++] = "-i";
		argv[n++] = op->key;
	}
	argv[n++] = op->dest;
	if (op->reset_phase) {
		argv[n++] = op->reset_line;
	} else {
		argv[n++] = "xl";
		argv[n++] = "destroy";
		argv[n++] = op->domains[op->next_dom];
	}
	argv[n] = NULL;
	return runner_run(op->r, &req, xlssh_step_done, op);
}

/* Send the next command, or finish with why it could not be sent. */
static void
xlssh_next(struct fence_op *op)
{
	char msg[256];
	int rc;

	if (op->next_dom >= op->n_domains)
		op->reset_phase = true;
	if (!op_remaining(op)) {
		snprintf(msg, sizeof(msg), "%sno time left for %s", op->notes,
			 op->reset_phase ? "the reset" : "xl destroy");
		op_finish(op, FENCE_RESULT_TIMEOUT, msg);
		return;
	}
	rc = xlssh_send(op);
	if (rc) {
		snprintf(msg, sizeof(msg), "%scannot run ssh: %s", op->notes, strerror(-rc));
		op_finish(op, FENCE_RESULT_FAILED, msg);
	}
}

static bool
ran(const struct runner_result *res)
{
	return !res->cancelled && !res->exec_errno && !res->term_signal;
}

static void
xlssh_step_done(void *data, const struct runner_result *res)
{
	struct fence_op *op = data;
	char why[160], msg[512];
	size_t o;
	bool marker;

	op->used_ms += res->elapsed_ms;
	if (op->abandoned) {
		op_free(op);
		return;
	}
	runner_result_describe(res, why, sizeof(why));
	if (!op->reset_phase) {
		const char *dom = op->domains[op->next_dom];

		snprintf(msg, sizeof(msg), "%sxl destroy %s over ssh: %s", op->notes,
			 dom, why);
		if (res->timed_out) {
			op_finish(op, FENCE_RESULT_TIMEOUT, msg);
			return;
		}
		if (!ran(res) || res->exit_code == 255) {
			op_finish(op, FENCE_RESULT_FAILED, msg);
			return;
		}
		if (res->exit_code != 0) {
			/* it ran: noted; the reset ends the domain anyway */
			o = strlen(op->notes);
			snprintf(op->notes + o, sizeof(op->notes) - o,
				 "xl destroy %s: %s; ", dom, why);
		}
		op->next_dom++;
		xlssh_next(op);
		return;
	}
	marker = strstr(res->out.data, FENCE_RESET_MARKER "\n") != NULL;
	if (ran(res) && res->exit_code == 0) {
		snprintf(msg, sizeof(msg), "%sreset accepted (exit 0)", op->notes);
		op_finish(op, FENCE_RESULT_OK, msg);
	} else if (marker && (res->timed_out || (ran(res) && res->exit_code == 255))) {
		snprintf(msg, sizeof(msg), "%sreset sent, then the connection dropped (%s)",
			 op->notes, res->timed_out ? "timed out" : "exit 255");
		op_finish(op, FENCE_RESULT_OK, msg);
	} else {
		snprintf(msg, sizeof(msg), "%sreset over ssh: %s%s", op->notes, why,
			 res->timed_out || res->exit_code == 255 ?
			 " before the reset was sent" : "");
		op_finish(op, res->timed_out ? FENCE_RESULT_TIMEOUT : FENCE_RESULT_FAILED,
			  msg);
	}
}

static bool
domain_ok(const char *s)
{
	size_t n = strlen(s);

	/* it goes through the remote shell: only harmless characters */
	return n && n < 64 && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") == n;
}

int
fence_xlssh_run(struct runner *r, const struct fence_xlssh_params *p,
		fence_method_done_fn done, void *data, struct fence_op **opp)
{
	struct fence_op *op;
	size_t i;
	int rc = -ENOMEM;

	if (opp)
		*opp = NULL;
	if (!r || !p || !p->addr || !*p->addr || p->addr[0] == '-' || !done ||
	    !p->timeout_ms || (p->n_domains && !p->domains) ||
	    (p->user && (!*p->user || p->user[0] == '-')) || p->port > 65535)
		return -EINVAL;
	for (i = 0; i < p->n_domains; i++)
		if (!p->domains[i] || !domain_ok(p->domains[i]))
			return -EINVAL;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->r = r;
	op->kind = OP_XLSSH;
	op->done = done;
	op->data = data;
	op->timeout_ms = p->timeout_ms;
	if (asprintf(&op->dest, "%s@%s", p->user ? p->user : "root", p->addr) < 0) {
		op->dest = NULL;
		goto out_free_op;
	}
	if (asprintf(&op->reset_line, "echo " FENCE_RESET_MARKER "; sleep 0.2; %s",
		     p->reset ? p->reset : FENCE_RESET_DEFAULT) < 0) {
		op->reset_line = NULL;
		goto out_free_op;
	}
	if ((p->key && !(op->key = strdup(p->key))) ||
	    (p->known_hosts && asprintf(&op->known, "UserKnownHostsFile=%s",
					p->known_hosts) < 0) ||
	    (p->port && asprintf(&op->port, "%u", p->port) < 0))
		goto out_free_op;
	op->domains = calloc(p->n_domains + 1, sizeof(*op->domains));
	if (!op->domains)
		goto out_free_op;
	for (i = 0; i < p->n_domains; i++, op->n_domains++)
		if (!(op->domains[i] = strdup(p->domains[i])))
			goto out_free_op;
	op->reset_phase = op->n_domains == 0;
	rc = xlssh_send(op);
	if (rc)
		goto out_free_op;
	if (opp)
		*opp = op;
	return 0;
out_free_op:
	op_free(op);
	return rc;
}

/* ---- dispatch ---------------------------------------------------------- */

int
fence_method_run(struct runner *r, const struct fence_target *t,
		 const struct fence_action *act, fence_method_done_fn done,
		 void *data, struct fence_op **opp)
{
	const struct fence_method_conf *m;
	struct fence_xlssh_params p = { 0 };
	const char *port;

	if (opp)
		*opp = NULL;
	if (!t || !act || !act->method || !done)
		return -EINVAL;
	m = act->method;
	switch (m->kind) {
	case FENCE_KIND_AGENT:
		return fence_agent_run(r, m, act->timeout_ms, done, data, opp);
	case FENCE_KIND_XL_SSH:
		p.addr = fence_method_opt(m, "addr");
		if (!p.addr)
			p.addr = t->mgmt_addr;
		p.key = fence_method_opt(m, "key");
		if (!p.key)
			p.key = t->ssh_key;
		p.user = fence_method_opt(m, "user");
		p.known_hosts = fence_method_opt(m, "known_hosts");
		p.reset = fence_method_opt(m, "reset");
		port = fence_method_opt(m, "port");
		p.port = port ? (unsigned)atoi(port) : 0;
		p.domains = t->domains;
		p.n_domains = t->n_domains;
		p.timeout_ms = act->timeout_ms;
		return fence_xlssh_run(r, &p, done, data, opp);
	case FENCE_KIND_STORAGE:
		if (!t->storage_fence)
			return -ENOTSUP;
		return t->storage_fence(t->storage_data, t->host, act->timeout_ms,
					done, data);
	case FENCE_KIND_DEADLINE:
		break;
	}
	return -EINVAL;
}
