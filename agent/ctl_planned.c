/* agentctl's planned-maintenance commands; see ctl_planned.h.
 *
 * The agent answers a migration or a drain once the coordinator has
 * committed it; what happens next is in the replicated state, so the
 * waits poll the status answer every CTL_WAIT_PERIOD_MS and compare
 * (ctl_format_drain.c decides what changed and how it reads).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_format.h"
#include "ctl_planned.h"
#include "xm_error.h"

/* A migration not seen under way yet may still be on its way into the
 * state this node holds: "not there" is an end only after this. */
#define MIGRATE_GRACE_MS 2000
#define WHY_MAX          1024

/* One status answer with a state: CTL_EXIT_OK and *resp, or the exit
 * status (said on stderr). */
static int
status_get(struct ctl_conn *cc, const struct ctl_args *args,
	   Xenmesh__CtlResponse **resp)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	int status;

	req.command = XENMESH__CTL_COMMAND__CTL_STATUS;
	status = ctl_client_read(cc, args, &req, resp);
	if (status != CTL_EXIT_OK)
		return status;
	if ((*resp)->state == NULL) {
		fprintf(stderr, "agentctl: %s: the status answer holds no state\n",
			args->name);
		xenmesh__ctl_response__free_unpacked(*resp, NULL);
		*resp = NULL;
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

/* A wait that stops before its end: why, on stderr. */
static int
wait_stopped(const struct ctl_args *args, uint64_t elapsed_ms, const char *goes_on)
{
	if (ctl_client_stopped())
		fprintf(stderr, "agentctl: %s: stopped waiting after %.1f s; %s\n",
			args->name, (double)elapsed_ms / 1000, goes_on);
	else
		fprintf(stderr, "agentctl: %s: still not done after %" PRIu32
			" s (--timeout); %s\n", args->name,
			(uint32_t)(elapsed_ms / 1000), goes_on);
	return CTL_EXIT_FAILED;
}

/* ---- vm migrate --------------------------------------------------------- */

/* How the wait ended: a line, or an object with --json. */
static int
migrate_said(const struct ctl_args *args, bool done, uint64_t elapsed_ms,
	     const char *why)
{
	char *text = NULL;
	int rc;

	if (!args->json) {
		if (!done) {
			fprintf(stderr, "agentctl: %s: %s\n", args->name, why);
			return CTL_EXIT_FAILED;
		}
		printf("VM %s: running on %s (migrated in %.1f s)\n", args->vm,
		       args->host, (double)elapsed_ms / 1000);
		return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	}
	rc = ctl_format_migrate_json(args->vm, args->host, done, elapsed_ms, why,
				     &text);
	rc = ctl_client_print(args, rc, text);
	if (!done && rc == CTL_EXIT_OK)
		fprintf(stderr, "agentctl: %s: %s\n", args->name, why);
	return done ? rc : CTL_EXIT_FAILED;
}

static int
migrate_wait(struct ctl_conn *cc, const struct ctl_args *args, uint64_t start)
{
	uint64_t limit = (uint64_t)(args->timeout_s ? args->timeout_s :
				    CTL_MIGRATE_WAIT_S) * 1000;
	bool seen = false;
	char why[WHY_MAX];

	ctl_client_catch_signals();
	for (;;) {
		Xenmesh__CtlResponse *resp;
		enum ctl_migrate_outcome o;
		uint64_t elapsed;
		int status = status_get(cc, args, &resp);

		if (status != CTL_EXIT_OK)
			return status;
		o = ctl_format_migrate_outcome(resp->state, args->vm, args->host,
					       why, sizeof(why));
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		elapsed = ctl_client_mono_ms() - start;
		if (o == CTL_MIGRATE_DONE)
			return migrate_said(args, true, elapsed, NULL);
		if (o == CTL_MIGRATE_MOVING)
			seen = true;
		else if (seen || elapsed >= MIGRATE_GRACE_MS)
			return migrate_said(args, false, elapsed, why);
		if (elapsed < limit && !ctl_client_stopped())
			ctl_client_sleep(CTL_WAIT_PERIOD_MS);
		if (elapsed >= limit || ctl_client_stopped())
			return wait_stopped(args, elapsed, "the migration goes on "
					    "(agentctl vm show shows it)");
	}
}

int
ctl_planned_migrate(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *argv[2] = { (char *)args->vm, (char *)args->host };
	uint64_t start = ctl_client_mono_ms();
	int status;

	req.command = XENMESH__CTL_COMMAND__CTL_VM_MIGRATE;
	req.n_args = 2;
	req.args = argv;
	req.has_offline = args->offline;
	req.offline = args->offline;
	/* the agent's answer says what started */
	status = ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
	if (status != CTL_EXIT_OK || !args->wait)
		return status;
	return migrate_wait(cc, args, start);
}

/* ---- node drain --------------------------------------------------------- */

/* A drain of the host already under way: its settings, so that asking
 * again (to follow it) changes nothing that was not asked for. */
static int
drain_current(struct ctl_conn *cc, const struct ctl_args *args, bool *already,
	      uint32_t *parallel, bool *force)
{
	Xenmesh__CtlResponse *resp;
	const Xenmesh__Node *n;
	int status = status_get(cc, args, &resp);

	if (status != CTL_EXIT_OK)
		return status;
	n = ctl_format_find_node(resp->state, args->node);
	*already = n != NULL && (n->flags & XENMESH__NODE_FLAG__FLAG_DRAINING);
	if (*already && !args->parallel_seen && n->has_drain_parallel &&
	    n->drain_parallel > 0)
		*parallel = n->drain_parallel;
	if (*already && n->has_drain_force && n->drain_force)
		*force = true;
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return CTL_EXIT_OK;
}

static int
drain_plan_print(const struct ctl_args *args, const Xenmesh__CtlResponse *resp,
		 bool force)
{
	char *text = NULL;
	int rc;

	if (resp->result < 0 && resp->n_drain_plan == 0)
		return CTL_EXIT_OK;     /* no plan: the message says it all */
	rc = args->json ? ctl_format_drain_plan_json(resp, args->node, &text) :
		ctl_format_drain_plan(resp, args->node, force, &text);
	return ctl_client_print(args, rc, text);
}

/* Text of a formatter to stdout; on a terminal the progress line is
 * erased first. */
static int
drain_out(const struct ctl_args *args, bool tty, int rc, char *text)
{
	if (rc == 0 && tty && text[0] != '\0')
		fputs("\r\033[K", stdout);
	return ctl_client_print(args, rc, text);
}

/* Polls until the host's draining flag is cleared (or the wait stops):
 * the VMs' moves as they happen, then the summary. */
static int
drain_follow(struct ctl_conn *cc, const struct ctl_args *args,
	     const Xenmesh__CtlResponse *plan)
{
	enum ctl_drain_style style = args->json ? CTL_DRAIN_JSON :
		isatty(STDOUT_FILENO) ? CTL_DRAIN_FINISHED : CTL_DRAIN_LINES;
	bool tty = style == CTL_DRAIN_FINISHED, done = false;
	uint64_t start = ctl_client_mono_ms(), elapsed = 0;
	struct ctl_drain_watch *w = NULL;
	Xenmesh__CtlResponse *resp = NULL;
	const Xenmesh__Node *n;
	char *text = NULL;
	size_t left = 0;
	int status, rc;

	ctl_client_catch_signals();
	status = status_get(cc, args, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	rc = ctl_format_drain_watch_new(args->node, plan, resp->state, &w);
	if (rc < 0) {
		status = ctl_client_print(args, rc, NULL);
		goto out_resp;
	}
	for (;;) {
		n = ctl_format_find_node(resp->state, args->node);
		if (n == NULL) {
			fprintf(stderr, "agentctl: %s: %s is no longer in the "
				"cluster\n", args->name, args->node);
			status = CTL_EXIT_FAILED;
			goto out_watch;
		}
		rc = ctl_format_drain_watch_update(w, resp->state, style, &text);
		status = drain_out(args, tty, rc, text);
		if (status == CTL_EXIT_OK && tty) {
			rc = ctl_format_drain_watch_progress(w, &text);
			status = drain_out(args, tty, rc, text);
		}
		if (status != CTL_EXIT_OK)
			goto out_watch;
		done = !(n->flags & XENMESH__NODE_FLAG__FLAG_DRAINING);
		elapsed = ctl_client_mono_ms() - start;
		if (done || ctl_client_stopped() ||
		    (args->timeout_s && elapsed >= (uint64_t)args->timeout_s * 1000))
			break;
		ctl_client_sleep(CTL_WAIT_PERIOD_MS);
		if (ctl_client_stopped())
			break;
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
		status = status_get(cc, args, &resp);
		if (status != CTL_EXIT_OK)
			goto out_watch;
	}
	if (tty)
		fputs("\r\033[K", stdout);
	rc = ctl_format_drain_watch_summary(w, resp->state, done, args->json,
					    &text, &left);
	status = ctl_client_print(args, rc, text);
	if (status == CTL_EXIT_OK && !done)
		status = wait_stopped(args, elapsed, "the drain goes on (agentctl "
				      "status shows it; agentctl node undrain "
				      "ends it)");
	else if (status == CTL_EXIT_OK && left > 0)
		status = CTL_EXIT_FAILED;
out_watch:
	ctl_format_drain_watch_free(w);
out_resp:
	if (resp != NULL)
		xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

int
ctl_planned_drain(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *argv[1] = { (char *)args->node };
	uint32_t parallel = args->parallel;
	bool force = args->force, already = false;
	int rc, status;

	if (!args->dry_run) {
		status = drain_current(cc, args, &already, &parallel, &force);
		if (status != CTL_EXIT_OK)
			return status;
	}
	req.command = XENMESH__CTL_COMMAND__CTL_NODE_DRAIN;
	req.n_args = 1;
	req.args = argv;
	req.has_parallel = true;
	req.parallel = parallel;
	req.has_force = force;
	req.force = force;
	req.has_dry_run = args->dry_run;
	req.dry_run = args->dry_run;
	rc = ctl_conn_call(cc, &req, CTL_TIMEOUT_MS, &resp);
	if (rc < 0)
		return ctl_client_call_error(cc, args->name, rc);
	if (resp->result < 0) {
		status = ctl_client_refused(args, resp);
		(void)drain_plan_print(args, resp, force);
		/* asked again to follow: the drain under way goes on */
		if (!args->wait || !already || resp->result != -EBUSY)
			goto out_resp;
		fprintf(stderr, "agentctl: %s: following the drain of %s under "
			"way\n", args->name, args->node);
	} else {
		status = drain_plan_print(args, resp, force);
		if (status != CTL_EXIT_OK)
			goto out_resp;
		if (args->dry_run) {
			status = ctl_format_drain_plan_ok(resp) ? CTL_EXIT_OK :
				CTL_EXIT_FAILED;
			goto out_resp;
		}
		if (!args->json)
			printf("drain of %s %s (parallel %" PRIu32 "%s)%s%s%s\n",
			       args->node, already ? "goes on" : "started", parallel,
			       force ? ", force" : "",
			       args->wait ? "" : "; follow with agentctl node drain ",
			       args->wait ? "" : args->node,
			       args->wait ? "" : " --wait or agentctl status");
		if (!args->wait) {
			status = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
			goto out_resp;
		}
	}
	status = drain_follow(cc, args, resp);
out_resp:
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* ---- node prepare-shutdown ------------------------------------------------ */

bool
ctl_system_stopping(void)
{
	char line[64] = "";
	FILE *p = popen("systemctl is-system-running 2>/dev/null", "r");

	if (p == NULL)
		return false;
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	(void)pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, "stopping") == 0;
}

int
ctl_planned_prepare_shutdown(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	uint32_t timeout_s = args->timeout_s ? args->timeout_s : 1800;

	if (args->if_stopping && !ctl_system_stopping())
		return CTL_EXIT_OK;     /* a restart: the VMs stay, re-adopted */
	req.command = XENMESH__CTL_COMMAND__CTL_NODE_PREPARE_SHUTDOWN;
	req.has_timeout_s = true;
	req.timeout_s = timeout_s;
	/* the agent answers when the host is empty, or why not */
	return ctl_client_mutation(cc, args, &req, (int)(timeout_s + 30) * 1000, NULL);
}

/* ---- node undrain, cluster maintenance ------------------------------------ */

int
ctl_planned_change(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *argv[1];

	req.n_args = 1;
	req.args = argv;
	if (args->cmd == CTL_CMD_NODE_UNDRAIN) {
		argv[0] = (char *)args->node;
		req.command = XENMESH__CTL_COMMAND__CTL_NODE_UNDRAIN;
		req.has_rebalance = args->rebalance;
		req.rebalance = args->rebalance;
	} else {
		argv[0] = (char *)(args->on ? "on" : "off");
		req.command = XENMESH__CTL_COMMAND__CTL_CLUSTER_MAINTENANCE;
	}
	/* the agent's answer says what it did */
	return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
}
