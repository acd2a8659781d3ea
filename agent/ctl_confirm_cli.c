/* agentctl's side of confirming a lost host down (see ctl_confirm_cli.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_confirm_cli.h"

#define TYPED_MAX 256

static bool
vm_waits_for_host(const char *state)
{
	static const char *const states[] = {
		"recovering", "starting", "running", "stopping", "migrating",
	};

	for (size_t i = 0; state != NULL && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			return true;
	return false;
}

size_t
ctl_confirm_restarts(const Xenmesh__State *st, uint32_t host, char *buf,
		     size_t len)
{
	size_t n = 0, used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; st != NULL && i < st->n_vms; i++) {
		const Xenmesh__Vm *v = st->vms[i];
		int w;

		if (!v->has_host || v->host != host || !vm_waits_for_host(v->state) ||
		    !(v->has_want_running && v->want_running) ||
		    (v->ha != NULL && v->ha->restart != NULL &&
		     strcmp(v->ha->restart, "never") == 0))
			continue;
		n++;
		if (used >= len)
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", v->name);
		used = w < 0 ? len : used + (size_t)w;
	}
	return n;
}

bool
ctl_confirm_typed(const char *line, const char *host)
{
	size_t len;

	if (line == NULL || host == NULL || host[0] == '\0')
		return false;
	len = strcspn(line, "\r\n");
	return len == strlen(host) && strncmp(line, host, len) == 0;
}

static const char *
cmd_name(const struct ctl_args *args)
{
	return args->cmd == CTL_CMD_VM_RESET_STATE ? "vm reset-state" :
		"node confirm-down";
}

int
ctl_confirm_precheck(const struct ctl_args *args, bool root, bool tty)
{
	/* xenmeshd refuses anyone else too; said here before asking */
	if (!root) {
		fprintf(stderr, "agentctl: %s: permission denied: it needs root\n",
			cmd_name(args));
		return CTL_EXIT_DENIED;
	}
	if (args->checked == NULL && !tty) {
		fprintf(stderr, "agentctl: %s: not on a terminal, so the host name "
			"cannot be asked for: once you have checked that the host "
			"is powered off, add --yes-i-checked HOST\n%s\n",
			cmd_name(args), args->usage);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

static const Xenmesh__Node *
node_by_id(const Xenmesh__State *st, uint32_t id)
{
	for (size_t i = 0; st != NULL && i < st->n_nodes; i++)
		if (st->nodes[i]->id == id)
			return st->nodes[i];
	return NULL;
}

static const Xenmesh__Node *
node_by_name(const Xenmesh__State *st, const char *name)
{
	for (size_t i = 0; st != NULL && i < st->n_nodes; i++)
		if (strcmp(st->nodes[i]->name, name) == 0)
			return st->nodes[i];
	return NULL;
}

static const Xenmesh__Vm *
vm_by_name(const Xenmesh__State *st, const char *name)
{
	for (size_t i = 0; st != NULL && i < st->n_vms; i++)
		if (strcmp(st->vms[i]->name, name) == 0)
			return st->vms[i];
	return NULL;
}

/* What the word means, then the question: 1 confirmed (typed holds the
 * host), -1 not (said), 0 not asked (the host is not a lost one in this
 * answer: xenmeshd says why). */
static int
ask(const struct ctl_args *args, const Xenmesh__State *st, char *typed,
    size_t len)
{
	const Xenmesh__Node *host;
	const Xenmesh__Vm *vm = NULL;
	char list[1024];
	size_t n;

	if (args->cmd == CTL_CMD_VM_RESET_STATE) {
		vm = vm_by_name(st, args->vm);
		host = vm != NULL && vm->has_host ? node_by_id(st, vm->host) : NULL;
	} else {
		host = node_by_name(st, args->node);
	}
	if (host == NULL || host->state != XENMESH__NODE_STATE__NODE_UNCLEAN ||
	    (vm != NULL && !vm_waits_for_host(vm->state)))
		return 0;
	if (vm != NULL) {
		fprintf(stderr,
			"This declares VM %s stopped: not running on %s nor anywhere "
			"else.\nDo it only after checking that %s is powered off. If "
			"%s still runs there,\nthe cluster may start it a second time "
			"and its disks will be corrupted.\n%s\n",
			vm->name, host->name, host->name, vm->name,
			vm->has_want_running && vm->want_running ?
			"It is wanted running: it starts again once no host is "
			"unclean." : "It is wanted stopped: it stays stopped.");
	} else {
		n = ctl_confirm_restarts(st, host->id, list, sizeof(list));
		fprintf(stderr,
			"Every fence method of %s failed: nothing proves it is off.\n"
			"This tells the cluster that %s is powered off and counts it "
			"as fenced.\nDo it only after checking that %s is really off "
			"(or its power is cut).\nIf it is still running, its VMs will "
			"run twice and their disks will be\ncorrupted.\n",
			host->name, host->name, host->name);
		if (n > 0)
			fprintf(stderr, "These %zu VM%s will restart: %s\n", n,
				n == 1 ? "" : "s", list);
		else
			fprintf(stderr, "No HA VM waits for it.\n");
	}
	fprintf(stderr, "Type the host name (%s) to confirm, anything else "
		"aborts: ", host->name);
	fflush(stderr);
	if (fgets(typed, (int)len, stdin) == NULL)
		typed[0] = '\0';
	if (!ctl_confirm_typed(typed, host->name)) {
		fprintf(stderr, "agentctl: %s: not confirmed; nothing changed\n",
			cmd_name(args));
		return -1;
	}
	(void)snprintf(typed, len, "%s", host->name);
	return 1;
}

int
ctl_confirm_run(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp = NULL;
	char typed[TYPED_MAX] = "", *argv[2];
	const char *sudo = getenv("SUDO_USER");
	int status;

	if (args->checked != NULL) {
		(void)snprintf(typed, sizeof(typed), "%s", args->checked);
	} else {
		req.command = XENMESH__CTL_COMMAND__CTL_NODE_LIST;
		status = ctl_client_read(cc, args, &req, &resp);
		if (status != CTL_EXIT_OK)
			return status;
		if (ask(args, resp->state, typed, sizeof(typed)) < 0) {
			xenmesh__ctl_response__free_unpacked(resp, NULL);
			return CTL_EXIT_FAILED;
		}
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		/* not asked: sent unconfirmed, xenmeshd says why it refuses */
	}
	req.command = args->cmd == CTL_CMD_VM_RESET_STATE ?
		XENMESH__CTL_COMMAND__CTL_VM_RESET_STATE :
		XENMESH__CTL_COMMAND__CTL_NODE_CONFIRM_DOWN;
	argv[0] = (char *)(args->cmd == CTL_CMD_VM_RESET_STATE ? args->vm :
			   args->node);
	argv[1] = typed;
	req.args = argv;
	req.n_args = 2;
	if (sudo != NULL && sudo[0] != '\0')
		req.confirmed_by = (char *)sudo;
	return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
}
