/* agentctl: the admin CLI of xenmesh.
 *
 * Parses its command line (ctl_args), asks the local xenmeshd over libqb
 * IPC (one CtlRequest, one CtlResponse, both wire frames behind libqb's
 * headers, as agent/ctl_server.c expects) and prints the answer
 * (ctl_format).  The exit status says what happened: CTL_EXIT_* of
 * ctl_client.h.  The planned-maintenance commands are in ctl_planned.c.
 */
#include "xmconfig.h"    /* autoconf's: PACKAGE_VERSION */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ctl_args.h"
#include "ctl_client.h"
#include "ctl_relay.h"
#include "ctl_confirm_cli.h"
#include "ctl_create_cli.h"
#include "ctl_backup_cli.h"
#include "ctl_format.h"
#include "ctl_nodes_cli.h"
#include "ctl_planned.h"
#include "ctl_server.h"
#include "ctl_vm.h"
#include "wire.h"
#include "xm_error.h"

/* a restart waits for the VM to stop, up to CTL_VM_RESTART_WAIT_S */
#define RESTART_TIMEOUT_MS ((CTL_VM_RESTART_WAIT_S + 30) * 1000)
#define SAVE_TIMEOUT_MS    (60 * 60 * 1000)
#define VOLUME_TIMEOUT_MS (150 * 1000)  /* the agent waits 120 s for the SAN */
#define FOLLOW_PERIOD_MS  500

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
	status = ctl_client_read(cc, args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	if (args->cmd == CTL_CMD_STATUS)
		rc = args->json ? ctl_format_status_json(resp, &text) :
			ctl_format_status(resp, ctl_client_wall_ms(), &text);
	else
		rc = args->json ? ctl_format_nodes_json(resp, &text) :
			ctl_format_nodes(resp, &text);
	status = ctl_client_print(args, rc, text);
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* Prints the events of resp, the last `skip` left out; *next advances. */
static int
events_print(const struct ctl_args *args, const Xenmesh__CtlResponse *resp,
	     size_t skip, uint64_t since, uint64_t *next)
{
	size_t i;
	int status = CTL_EXIT_OK;

	if (since > 0 && resp->n_events > 0 && resp->events[0]->id > since)
		fprintf(stderr, "agentctl: events: %llu events were dropped from "
			"xenmeshd's memory before they could be shown\n",
			(unsigned long long)(resp->events[0]->id - since));
	for (i = skip; i < resp->n_events && status == CTL_EXIT_OK; i++) {
		char *text = NULL;
		int rc;

		rc = args->json ?
			ctl_format_event_json(resp->events[i], resp->state, &text) :
			ctl_format_event(resp->events[i], resp->state, &text);
		status = ctl_client_print(args, rc, text);
	}
	if (resp->has_next_event)
		*next = resp->next_event;
	return status;
}

static int
cmd_events(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	uint64_t next = 0;
	size_t skip = 0;
	int rc, status;

	if (args->follow)
		ctl_client_catch_signals();
	req.command = XENMESH__CTL_COMMAND__CTL_EVENTS;
	req.has_since = 1;
	req.since = 0;
	rc = ctl_conn_call(cc, &req, CTL_TIMEOUT_MS, &resp);
	if (rc < 0)
		return ctl_client_call_error(cc, args->name, rc);
	if (resp->result != 0) {
		status = ctl_client_refused(args, resp);
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		return status;
	}
	if (args->count > 0 && resp->n_events > args->count)
		skip = resp->n_events - (size_t)args->count;
	status = events_print(args, resp, skip, 0, &next);
	xenmesh__ctl_response__free_unpacked(resp, NULL);

	while (args->follow && status == CTL_EXIT_OK && !ctl_client_stopped()) {
		ctl_client_sleep(FOLLOW_PERIOD_MS);
		if (ctl_client_stopped())
			break;
		req.since = next;
		rc = ctl_conn_call(cc, &req, CTL_TIMEOUT_MS, &resp);
		if (rc < 0) {
			if (ctl_client_stopped())
				break;
			return ctl_client_call_error(cc, args->name, rc);
		}
		if (resp->result != 0) {
			status = ctl_client_refused(args, resp);
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
	char *argv[3];
	char done[256];

	argv[0] = (char *)args->node;
	argv[1] = (char *)args->flag;
	argv[2] = (char *)(args->on ? "on" : "off");
	req.command = XENMESH__CTL_COMMAND__CTL_NODE_FLAG;
	req.n_args = 3;
	req.args = argv;
	(void)snprintf(done, sizeof(done), "%s: %s %s", args->node, args->flag,
		       args->on ? "on" : "off");
	return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, done);
}

/* The xl.cfg of `vm define` or the file of `fence config set`, whole, as
 * text: 0, or CTL_EXIT_FAILED after saying why. */
static int
read_config(const struct ctl_args *args, char **text)
{
	FILE *f;
	char *buf;
	size_t n;
	int err;

	*text = NULL;
	f = fopen(args->file, "re");
	if (f == NULL) {
		fprintf(stderr, "agentctl: %s: cannot read %s: %s\n", args->name,
			args->file, strerror(errno));
		return CTL_EXIT_FAILED;
	}
	buf = malloc(CTL_VM_CONFIG_MAX + 2);
	if (buf == NULL) {
		(void)fclose(f);
		fprintf(stderr, "agentctl: %s: out of memory\n", args->name);
		return CTL_EXIT_FAILED;
	}
	n = fread(buf, 1, CTL_VM_CONFIG_MAX + 1, f);
	err = ferror(f) ? errno : 0;
	(void)fclose(f);
	if (err != 0)
		fprintf(stderr, "agentctl: %s: cannot read %s: %s\n", args->name,
			args->file, strerror(err));
	else if (n > CTL_VM_CONFIG_MAX)
		fprintf(stderr, "agentctl: %s: %s is larger than %d KiB, refused\n",
			args->name, args->file, CTL_VM_CONFIG_MAX / 1024);
	else if (memchr(buf, '\0', n) != NULL)
		fprintf(stderr, "agentctl: %s: %s is not a text file (it holds "
			"a NUL byte)\n", args->name, args->file);
	else {
		buf[n] = '\0';
		*text = buf;
		return 0;
	}
	free(buf);
	return CTL_EXIT_FAILED;
}

/* config: the xl.cfg text of vm define, read before connecting. */
static int
cmd_vm_change(struct ctl_conn *cc, const struct ctl_args *args, char *config)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *argv[2];
	int timeout_ms = CTL_TIMEOUT_MS;

	argv[0] = (char *)args->vm;
	req.args = argv;
	req.n_args = 1;
	switch (args->cmd) {
	case CTL_CMD_VM_DEFINE:
		argv[0] = (char *)args->file;
		req.config = config;
		req.command = XENMESH__CTL_COMMAND__CTL_VM_DEFINE;
		break;
	case CTL_CMD_VM_UNDEFINE:
		req.command = XENMESH__CTL_COMMAND__CTL_VM_UNDEFINE;
		break;
	case CTL_CMD_VM_START:
	case CTL_CMD_VM_RESUME:
		req.command = args->cmd == CTL_CMD_VM_START ?
			      XENMESH__CTL_COMMAND__CTL_VM_START :
			      XENMESH__CTL_COMMAND__CTL_VM_RESUME;
		req.has_fresh = args->fresh;
		req.fresh = args->fresh;
		if (args->host != NULL) {
			argv[1] = (char *)args->host;
			req.n_args = 2;
		}
		break;
	case CTL_CMD_VM_STOP:
		req.command = XENMESH__CTL_COMMAND__CTL_VM_STOP;
		break;
	case CTL_CMD_VM_RESTART:
		req.command = XENMESH__CTL_COMMAND__CTL_VM_RESTART;
		timeout_ms = RESTART_TIMEOUT_MS;
		break;
	case CTL_CMD_VM_SAVE:
		/* it answers once saved: a large VM's memory takes a while */
		req.command = XENMESH__CTL_COMMAND__CTL_VM_SAVE;
		timeout_ms = SAVE_TIMEOUT_MS;
		break;
	default:
		req.command = XENMESH__CTL_COMMAND__CTL_VM_CLEANUP;
		break;
	}
	/* the agent's answer names the VM (define: from the file) */
	return ctl_client_mutation(cc, args, &req, timeout_ms, NULL);
}

/* fence config set / clear, node fence --yes. */
static int
cmd_fence_change(struct ctl_conn *cc, const struct ctl_args *args, char *config)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *argv[1];

	switch (args->cmd) {
	case CTL_CMD_FENCE_CONFIG_SET:
		req.command = XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET;
		argv[0] = (char *)args->file;
		req.args = argv;
		req.n_args = 1;
		req.config = config;
		break;
	case CTL_CMD_FENCE_CONFIG_CLEAR:
		req.command = XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_CLEAR;
		break;
	default:
		req.command = XENMESH__CTL_COMMAND__CTL_NODE_FENCE;
		argv[0] = (char *)args->node;
		req.args = argv;
		req.n_args = 1;
		break;
	}
	/* the agent's answer says what it did (hosts, this node...) */
	return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
}

/* volume create / remove: the create answer waits for the SAN node. */
static int
cmd_volume_change(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char size[24], *argv[3];

	req.args = argv;
	if (args->cmd == CTL_CMD_VOLUME_CREATE) {
		snprintf(size, sizeof(size), "%llu", (unsigned long long)args->size);
		argv[0] = (char *)args->vm;
		argv[1] = (char *)args->disk;
		argv[2] = size;
		req.n_args = 3;
		req.command = XENMESH__CTL_COMMAND__CTL_VOLUME_CREATE;
	} else {
		argv[0] = (char *)args->volume;
		req.n_args = 1;
		req.command = XENMESH__CTL_COMMAND__CTL_VOLUME_REMOVE;
	}
	return ctl_client_mutation(cc, args, &req, VOLUME_TIMEOUT_MS, NULL);
}

/* volume list, storage status. */
static int
cmd_storage_read(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *text = NULL;
	int rc, status;

	req.command = args->cmd == CTL_CMD_STORAGE_STATUS ?
		XENMESH__CTL_COMMAND__CTL_STORAGE_STATUS :
		XENMESH__CTL_COMMAND__CTL_STATUS;
	status = ctl_client_read(cc, args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	if (args->cmd == CTL_CMD_STORAGE_STATUS)
		rc = args->json ? ctl_format_storage_json(resp, &text) :
			ctl_format_storage(resp, &text);
	else
		rc = args->json ? ctl_format_volumes_json(resp, &text) :
			ctl_format_volumes(resp, &text);
	status = ctl_client_print(args, rc, text);
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* A fence is not undone: without --yes, say what it would do. */
static int
node_fence_confirm(const struct ctl_args *args)
{
	fprintf(stderr,
		"agentctl: node fence: this marks %s unclean, as if it had "
		"crashed:\n"
		"  the coordinator fences it with its fence chain (agentctl fence "
		"config);\n"
		"  if %s is running it self-fences: its HA domains are destroyed "
		"and the\n"
		"  host resets; its HA VMs restart elsewhere once it is fenced.\n"
		"Run again with --yes to do it.\n", args->node, args->node);
	return CTL_EXIT_USAGE;
}

static int
cmd_fence_config(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *text = NULL;
	int rc, status;

	req.command = XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG;
	req.has_show_secrets = args->show_secrets;
	req.show_secrets = args->show_secrets;
	status = ctl_client_read(cc, args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	rc = args->json ? ctl_format_fence_config_json(resp, &text) :
		ctl_format_fence_config(resp, &text);
	status = ctl_client_print(args, rc, text);
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* The history is shown from the node asked; the fence steps only exist on
 * the coordinator, so elsewhere this says where to look, exit 1. */
static int
cmd_fence_history(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	const Xenmesh__ClusterView *c;
	char *text = NULL, buf[24];
	int rc, status;

	req.command = XENMESH__CTL_COMMAND__CTL_FENCE_HISTORY;
	status = ctl_client_read(cc, args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	rc = args->json ? ctl_format_fence_history_json(resp, &text) :
		ctl_format_fence_history(resp, &text);
	status = ctl_client_print(args, rc, text);
	c = resp->cluster;
	if (status != CTL_EXIT_OK || c == NULL || ctl_format_fence_history_here(resp))
		goto out_resp;
	if (c->has_coordinator && c->coordinator != 0) {
		fprintf(stderr, "agentctl: %s: fence history is kept by the "
			"coordinator %s; run this there\n", args->name,
			ctl_format_node_name(resp->state, c->coordinator, buf,
					     sizeof(buf)));
		status = CTL_EXIT_FAILED;
	} else {
		fprintf(stderr, "agentctl: %s: there is no coordinator now, so "
			"no fence is running; only this node's events are "
			"shown\n", args->name);
		status = CTL_EXIT_NOQUORUM;
	}
out_resp:
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* vm list, vm show: the status answer (with the xl.cfg of the VM shown). */
static int
cmd_vm_read(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *argv[1], *text = NULL;
	int rc, status;

	req.command = XENMESH__CTL_COMMAND__CTL_VM_LIST;
	if (args->cmd == CTL_CMD_VM_SHOW) {
		argv[0] = (char *)args->vm;
		req.args = argv;
		req.n_args = 1;
	}
	status = ctl_client_read(cc, args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	if (args->cmd == CTL_CMD_VM_LIST)
		rc = args->json ? ctl_format_vms_json(resp, &text) :
			ctl_format_vms(resp, ctl_client_wall_ms(), &text);
	else
		rc = args->json ?
			ctl_format_vm_json(resp, args->vm, ctl_client_wall_ms(), &text) :
			ctl_format_vm(resp, args->vm, ctl_client_wall_ms(), &text);
	if (rc == -ENOENT) {
		fprintf(stderr, "agentctl: %s: no VM named %s\n", args->name,
			args->vm);
		status = CTL_EXIT_FAILED;
		goto out_resp;
	}
	status = ctl_client_print(args, rc, text);
out_resp:
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

/* metrics: the agent's text as it is; log-level: a change of this agent
 * only (no cluster decision), answered at once. */
static int
cmd_admin(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	char *argv[1], *text;
	int status;

	if (args->cmd == CTL_CMD_LOG_LEVEL) {
		argv[0] = (char *)args->level;
		req.command = XENMESH__CTL_COMMAND__CTL_LOG_LEVEL;
		req.args = argv;
		req.n_args = 1;
		return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
	}
	req.command = XENMESH__CTL_COMMAND__CTL_METRICS;
	status = ctl_client_read(cc, args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	text = strdup(resp->message != NULL ? resp->message : "");
	status = ctl_client_print(args, text != NULL ? 0 : -ENOMEM, text);
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

int
main(int argc, char *argv[])
{
	struct ctl_args args;
	struct ctl_conn cc;
	char err[256], *config = NULL;
	int rc, status;

	/* a request forwarded from another node (ctl_relay.c) */
	if (ctl_relay_wants(argc, argv))
		return ctl_relay_main();
	/* vm create and template have their own parser (ctl_create_cli.c) */
	if (ctl_create_cli_wants(argc, argv))
		return ctl_create_cli_main(argc, argv);
	/* so have vm backup, vm restore and backup list (ctl_backup_cli.c) */
	if (ctl_backup_cli_wants(argc, argv))
		return ctl_backup_cli_main(argc, argv);
	rc = ctl_args_parse(argc, argv, &args, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "agentctl: %s\n%s\n", err, args.usage);
		return CTL_EXIT_USAGE;
	}
	switch (args.cmd) {
	case CTL_CMD_HELP:
		if (args.name == NULL)
			(void)fputs(ctl_args_help(), stdout);
		else
			printf("%s\n", args.usage);
		return CTL_EXIT_OK;
	case CTL_CMD_VERSION:
		printf("agentctl (xenmesh) %s, protocol %u.%u\n", PACKAGE_VERSION,
		       XM_PROTO_MAJOR, XM_PROTO_MINOR);
		return CTL_EXIT_OK;
	default:
		break;
	}

	/* a file that cannot be sent is said first, whatever the agent */
	if (args.cmd == CTL_CMD_VM_DEFINE ||
	    args.cmd == CTL_CMD_FENCE_CONFIG_SET) {
		status = read_config(&args, &config);
		if (status != 0)
			return status;
	}
	if (args.cmd == CTL_CMD_NODE_FENCE && !args.yes)
		return node_fence_confirm(&args);
	if (args.cmd == CTL_CMD_NODE_CONFIRM_DOWN ||
	    args.cmd == CTL_CMD_VM_RESET_STATE) {
		status = ctl_confirm_precheck(&args, geteuid() == 0,
					      isatty(STDIN_FILENO) == 1);
		if (status != 0)
			return status;
	}
	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		fprintf(stderr, "agentctl: cannot reach xenmeshd (is it running?): %s\n",
			xm_strerror(rc));
		free(config);
		return rc == -EACCES || rc == -EPERM ? CTL_EXIT_DENIED : CTL_EXIT_UNREACHABLE;
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
	case CTL_CMD_VM_LIST:
	case CTL_CMD_VM_SHOW:
		status = cmd_vm_read(&cc, &args);
		break;
	case CTL_CMD_VM_DEFINE:
	case CTL_CMD_VM_UNDEFINE:
	case CTL_CMD_VM_START:
	case CTL_CMD_VM_STOP:
	case CTL_CMD_VM_RESTART:
	case CTL_CMD_VM_CLEANUP:
	case CTL_CMD_VM_SAVE:
	case CTL_CMD_VM_RESUME:
		status = cmd_vm_change(&cc, &args, config);
		break;
	case CTL_CMD_FENCE_CONFIG:
		status = cmd_fence_config(&cc, &args);
		break;
	case CTL_CMD_FENCE_HISTORY:
		status = cmd_fence_history(&cc, &args);
		break;
	case CTL_CMD_METRICS:
	case CTL_CMD_LOG_LEVEL:
		status = cmd_admin(&cc, &args);
		break;
	case CTL_CMD_FENCE_CONFIG_SET:
	case CTL_CMD_FENCE_CONFIG_CLEAR:
	case CTL_CMD_NODE_FENCE:
		status = cmd_fence_change(&cc, &args, config);
		break;
	case CTL_CMD_VOLUME_CREATE:
	case CTL_CMD_VOLUME_REMOVE:
		status = cmd_volume_change(&cc, &args);
		break;
	case CTL_CMD_VOLUME_LIST:
	case CTL_CMD_STORAGE_STATUS:
		status = cmd_storage_read(&cc, &args);
		break;
	case CTL_CMD_VM_MIGRATE:
		status = ctl_planned_migrate(&cc, &args);
		break;
	case CTL_CMD_NODE_DRAIN:
		status = ctl_planned_drain(&cc, &args);
		break;
	case CTL_CMD_NODE_UNDRAIN:
	case CTL_CMD_CLUSTER_MAINTENANCE:
		status = ctl_planned_change(&cc, &args);
		break;
	case CTL_CMD_NODE_PREPARE_SHUTDOWN:
		status = ctl_planned_prepare_shutdown(&cc, &args);
		break;
	case CTL_CMD_NODE_CONFIRM_DOWN:
	case CTL_CMD_VM_RESET_STATE:
		status = ctl_confirm_run(&cc, &args);
		break;
	case CTL_CMD_NODE_ADD:
	case CTL_CMD_NODE_FORGET:
		status = ctl_nodes_run(&cc, &args);
		break;
	default:
		fprintf(stderr, "agentctl: nothing to do\n");
		status = CTL_EXIT_USAGE;
		break;
	}
	ctl_conn_close(&cc);
	free(config);
	return status;
}
