/* agentctl: the admin CLI of xenmesh.
 *
 * Parses its command line (ctl_args), asks the local xenmeshd over libqb
 * IPC (one CtlRequest, one CtlResponse, both wire frames behind libqb's
 * headers, as agent/ctl_server.c expects) and prints the answer
 * (ctl_format).  The exit status says what happened; see EXIT_* below.
 */
#include "xmconfig.h"    /* autoconf's: PACKAGE_VERSION */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "ctl_args.h"
#include "ctl_client.h"
#include "ctl_format.h"
#include "ctl_server.h"
#include "wire.h"
#include "xm_error.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,        /* the operation failed */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,   /* xenmeshd not running or gone */
	EXIT_NOQUORUM = 4,      /* no quorum, no coordinator or sync running */
	EXIT_DENIED = 5,        /* permission denied */
};

#define TIMEOUT_MS        15000
#define FOLLOW_PERIOD_MS  500

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* A transport failure, said once on stderr; returns the exit status. */
static int
report_call_error(const struct ctl_conn *cc, const char *name, int err)
{
	switch (err) {
	case -ETIMEDOUT:
		fprintf(stderr, "agentctl: %s: no answer from xenmeshd within %d s\n",
			name, TIMEOUT_MS / 1000);
		return EXIT_FAILED;
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
	case -ESHUTDOWN:
		fprintf(stderr, "agentctl: %s: lost the connection to xenmeshd: %s\n",
			name, xm_strerror(err));
		return EXIT_UNREACHABLE;
	case XM_EVERSION:
		fprintf(stderr, "agentctl: %s: xenmeshd speaks protocol %u.%u, "
			"agentctl %u.%u\n", name, cc->peer_major, cc->peer_minor,
			XM_PROTO_MAJOR, XM_PROTO_MINOR);
		return EXIT_FAILED;
	default:
		fprintf(stderr, "agentctl: %s: talking to xenmeshd: %s\n", name,
			xm_strerror(err));
		return EXIT_FAILED;
	}
}

static int
exit_status_of(int result)
{
	switch (result) {
	case 0:
		return EXIT_OK;
	case -EACCES:
	case -EPERM:
		return EXIT_DENIED;
	case XM_ENOQUORUM:
	case XM_ENOCOORD:
	case XM_ESYNCING:
		return EXIT_NOQUORUM;
	default:
		return EXIT_FAILED;
	}
}

/* The agent refused or failed: its words on stderr; the exit status. */
static int
report_result(const struct ctl_args *args, const Xenmesh__CtlResponse *resp)
{
	const char *text = resp->message != NULL && resp->message[0] != '\0' ?
		resp->message : xm_strerror(resp->result);

	if (args->cmd == CTL_CMD_NODE_FLAG && resp->result == -ENOENT)
		fprintf(stderr, "agentctl: %s: unknown node %s\n", args->name,
			args->node);
	else
		fprintf(stderr, "agentctl: %s: %s\n", args->name, text);
	return exit_status_of(resp->result);
}

/* Writes text (from a formatter) to stdout and frees it. */
static int
print_text(const struct ctl_args *args, int rc, char *text)
{
	if (rc < 0) {
		fprintf(stderr, "agentctl: %s: cannot show the answer: %s\n",
			args->name, xm_strerror(rc));
		return EXIT_FAILED;
	}
	(void)fputs(text, stdout);
	free(text);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "agentctl: %s: cannot write: %s\n", args->name,
			strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int
cmd_status(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *text = NULL;
	int rc, status;

	req.command = args->cmd == CTL_CMD_STATUS ?
		XENMESH__CTL_COMMAND__CTL_STATUS :
		XENMESH__CTL_COMMAND__CTL_NODE_LIST;
	rc = ctl_conn_call(cc, &req, TIMEOUT_MS, &resp);
	if (rc < 0)
		return report_call_error(cc, args->name, rc);
	if (resp->result != 0) {
		status = report_result(args, resp);
		goto out_resp;
	}
	if (args->cmd == CTL_CMD_STATUS)
		rc = args->json ? ctl_format_status_json(resp, &text) :
			ctl_format_status(resp, &text);
	else
		rc = args->json ? ctl_format_nodes_json(resp, &text) :
			ctl_format_nodes(resp, &text);
	status = print_text(args, rc, text);
out_resp:
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* Prints the events of resp, the last `skip` left out; *next advances. */
static int
events_print(const struct ctl_args *args, const Xenmesh__CtlResponse *resp,
	     size_t skip, uint64_t since, uint64_t *next)
{
	size_t i;
	int status = EXIT_OK;

	if (since > 0 && resp->n_events > 0 && resp->events[0]->id > since)
		fprintf(stderr, "agentctl: events: %llu events were dropped from "
			"xenmeshd's memory before they could be shown\n",
			(unsigned long long)(resp->events[0]->id - since));
	for (i = skip; i < resp->n_events && status == EXIT_OK; i++) {
		char *text = NULL;
		int rc;

		rc = args->json ?
			ctl_format_event_json(resp->events[i], resp->state, &text) :
			ctl_format_event(resp->events[i], resp->state, &text);
		status = print_text(args, rc, text);
	}
	if (resp->has_next_event)
		*next = resp->next_event;
	return status;
}

/* Sleeps ms unless a signal asks to stop. */
static void
follow_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
cmd_events(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	uint64_t next = 0;
	size_t skip = 0;
	int rc, status;

	if (args->follow) {
		struct sigaction sa;

		/* no SA_RESTART: the sleep between polls ends at once */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGINT, &sa, NULL);
		(void)sigaction(SIGTERM, &sa, NULL);
	}
	req.command = XENMESH__CTL_COMMAND__CTL_EVENTS;
	req.has_since = 1;
	req.since = 0;
	rc = ctl_conn_call(cc, &req, TIMEOUT_MS, &resp);
	if (rc < 0)
		return report_call_error(cc, args->name, rc);
	if (resp->result != 0) {
		status = report_result(args, resp);
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		return status;
	}
	if (args->count > 0 && resp->n_events > args->count)
		skip = resp->n_events - (size_t)args->count;
	status = events_print(args, resp, skip, 0, &next);
	xenmesh__ctl_response__free_unpacked(resp, NULL);

	while (args->follow && status == EXIT_OK && !stop_requested) {
		follow_sleep(FOLLOW_PERIOD_MS);
		if (stop_requested)
			break;
		req.since = next;
		rc = ctl_conn_call(cc, &req, TIMEOUT_MS, &resp);
		if (rc < 0) {
			if (stop_requested)
				break;
			return report_call_error(cc, args->name, rc);
		}
		if (resp->result != 0) {
			status = report_result(args, resp);
			xenmesh__ctl_response__free_unpacked(resp, NULL);
			break;
		}
		status = events_print(args, resp, 0, req.since, &next);
		xenmesh__ctl_response__free_unpacked(resp, NULL);
	}
	return status;
}

static int
cmd_node_flag(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *argv[3];
	char *text = NULL;
	int rc, status;

	argv[0] = (char *)args->node;
	argv[1] = (char *)args->flag;
	argv[2] = (char *)(args->on ? "on" : "off");
	req.command = XENMESH__CTL_COMMAND__CTL_NODE_FLAG;
	req.n_args = 3;
	req.args = argv;
	rc = ctl_conn_call(cc, &req, TIMEOUT_MS, &resp);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "agentctl: %s: no answer from xenmeshd within %d s; "
			"the change may still be applied (see agentctl events)\n",
			args->name, TIMEOUT_MS / 1000);
		return EXIT_FAILED;
	}
	if (rc < 0)
		return report_call_error(cc, args->name, rc);
	status = resp->result == 0 ? EXIT_OK : report_result(args, resp);
	if (args->json) {
		rc = ctl_format_result_json(resp, &text);
		if (print_text(args, rc, text) != EXIT_OK && status == EXIT_OK)
			status = EXIT_FAILED;
	} else if (status == EXIT_OK) {
		printf("%s: %s %s\n", args->node, args->flag, args->on ? "on" : "off");
	}
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

int
main(int argc, char *argv[])
{
	struct ctl_args args;
	struct ctl_conn cc;
	char err[256];
	int rc, status;

	rc = ctl_args_parse(argc, argv, &args, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "agentctl: %s\n%s\n", err, args.usage);
		return EXIT_USAGE;
	}
	switch (args.cmd) {
	case CTL_CMD_HELP:
		if (args.name == NULL)
			(void)fputs(ctl_args_help(), stdout);
		else
			printf("%s\n", args.usage);
		return EXIT_OK;
	case CTL_CMD_VERSION:
		printf("agentctl (xenmesh) %s, protocol %u.%u\n", PACKAGE_VERSION,
		       XM_PROTO_MAJOR, XM_PROTO_MINOR);
		return EXIT_OK;
	default:
		break;
	}

	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		fprintf(stderr, "agentctl: cannot reach xenmeshd (is it running?): %s\n",
			xm_strerror(rc));
		return rc == -EACCES || rc == -EPERM ? EXIT_DENIED : EXIT_UNREACHABLE;
	}
	switch (args.cmd) {
	case CTL_CMD_STATUS:
	case CTL_CMD_NODE_LIST:
		status = cmd_status(&cc, &args);
		break;
	case CTL_CMD_EVENTS:
		status = cmd_events(&cc, &args);
		break;
	case CTL_CMD_NODE_FLAG:
		status = cmd_node_flag(&cc, &args);
		break;
	default:
		fprintf(stderr, "agentctl: nothing to do\n");
		status = EXIT_USAGE;
		break;
	}
	ctl_conn_close(&cc);
	return status;
}
