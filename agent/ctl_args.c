/* agentctl's command line (see ctl_args.h).
 *
 * Hand-written rather than getopt_long: getopt keeps its state in globals
 * (optind) and prints its own messages, and this parser must be pure so
 * that every usage error can be tested with its exact text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"
#include "lvm.h"
#include "state.h"
#include "voltable.h"

#define USAGE_AGENTCTL \
	"usage: agentctl [--json] [-h|--help] [--version] COMMAND\n" \
	"commands: status, events,\n" \
	"          node list|maintenance|standby|fence|drain|undrain|\n" \
	"          prepare-shutdown|confirm-down|add|forget,\n" \
	"          vm list|show|define|undefine|start|stop|restart|cleanup|migrate|\n" \
	"          reset-state,\n" \
	"          cluster maintenance, fence config|history, metrics, log-level,\n" \
	"          volume create|list|remove, storage status,\n" \
	"          vm create, template list|show, vm backup|restore, backup list"
#define USAGE_STATUS      "usage: agentctl status [--json]"
#define USAGE_EVENTS      "usage: agentctl events [--follow] [--json] [--count N]"
#define USAGE_NODE \
	"usage: agentctl node list|maintenance|standby|fence|drain|undrain|" \
	"prepare-shutdown|confirm-down|add|forget ..."
#define USAGE_NODE_LIST   "usage: agentctl node list [--json]"
#define USAGE_NODE_MAINT  "usage: agentctl node maintenance NODE on|off"
#define USAGE_NODE_STANDBY "usage: agentctl node standby NODE on|off"
#define USAGE_NODE_FENCE  "usage: agentctl node fence HOST [--yes]"
#define USAGE_NODE_CONFIRM \
	"usage: agentctl node confirm-down HOST [--yes-i-checked HOST]"
#define USAGE_NODE_DRAIN \
	"usage: agentctl node drain HOST [--dry-run] [--parallel N] [--force] " \
	"[--wait] [--timeout S] [--json]"
#define USAGE_NODE_UNDRAIN "usage: agentctl node undrain HOST [--rebalance]"
#define USAGE_NODE_ADD \
	"usage: agentctl node add NAME ADDRESS[,ADDRESS...] [--role dom0|san] " \
	"[--id N] [--print-config]"
#define USAGE_NODE_FORGET "usage: agentctl node forget HOST"
#define USAGE_NODE_PREPARE \
	"usage: agentctl node prepare-shutdown [--if-system-stopping] [--timeout S]"
#define USAGE_CLUSTER     "usage: agentctl cluster maintenance on|off"
#define USAGE_FENCE       "usage: agentctl fence config|history ..."
#define USAGE_FENCE_CONFIG \
	"usage: agentctl fence config [--show-secrets] [--json] | " \
	"fence config set FILE | fence config clear"
#define USAGE_FENCE_SET   "usage: agentctl fence config set FILE"
#define USAGE_FENCE_CLEAR "usage: agentctl fence config clear"
#define USAGE_FENCE_HISTORY "usage: agentctl fence history [--json]"
#define USAGE_METRICS     "usage: agentctl metrics"
#define USAGE_LOG_LEVEL \
	"usage: agentctl log-level error|warning|notice|info|debug"
#define USAGE_VOLUME \
	"usage: agentctl volume create|list|remove ..."
#define USAGE_VOLUME_CREATE "usage: agentctl volume create VM DISK SIZE"
#define USAGE_VOLUME_LIST "usage: agentctl volume list [--json]"
#define USAGE_VOLUME_REMOVE "usage: agentctl volume remove VOLUME"
#define USAGE_STORAGE     "usage: agentctl storage status [--json]"
#define USAGE_VM \
	"usage: agentctl vm list|show|define|undefine|start|stop|restart|cleanup|" \
	"migrate|reset-state|save|resume ..."

#define ARGS_WORDS_MAX 8


/* What the first pass found: options anywhere, command words in order. */
struct raw_args {
	const char *words[ARGS_WORDS_MAX];
	size_t n_words;
	bool help, version, json, follow, yes, show_secrets;
	bool offline, wait, dry_run, force, rebalance, if_stopping, fresh;
	bool count_seen;
	const char *count;      /* NULL with count_seen: value missing */
	bool parallel_seen;
	const char *parallel;   /* NULL with parallel_seen: value missing */
	bool timeout_seen;
	const char *timeout;    /* NULL with timeout_seen: value missing */
	bool on_seen;
	const char *on;         /* NULL with on_seen: value missing */
	bool checked_seen;
	const char *checked;    /* NULL with checked_seen: value missing */
	bool role_seen;
	const char *role;       /* NULL with role_seen: value missing */
	bool id_seen;
	const char *id;         /* NULL with id_seen: value missing */
	bool print_config;
	const char *unknown;    /* first unknown option */
};

static int
args_fail(struct ctl_args *out, const char *usage, char *err, size_t errlen,
	  const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	out->usage = usage;
	if (out->name != NULL)
		n = snprintf(err, errlen, "%s: ", out->name);
	if (n < 0 || (size_t)n >= errlen)
		n = 0;
	va_start(ap, fmt);
	(void)vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "--NAME VALUE" or "--NAME=VALUE" at argv[*i]: true, *seen set, *value
 * the value (NULL when missing), *i past it. */
static bool
args_value(int argc, char *const argv[], int *i, const char *name, bool *seen,
	   const char **value)
{
	const char *s = argv[*i];
	size_t len = strlen(name);

	if (strncmp(s, name, len) != 0 || (s[len] != '\0' && s[len] != '='))
		return false;
	*seen = true;
	if (s[len] == '=')
		*value = s + len + 1;
	else
		*value = *i + 1 < argc ? argv[++*i] : NULL;
	return true;
}

static void
args_split(int argc, char *const argv[], struct raw_args *raw)
{
	bool opts_done = false;
	int i;

	memset(raw, 0, sizeof(*raw));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (opts_done || s[0] != '-' || s[1] == '\0') {
			/* more words than any command takes are an error
			 * reported on the first extra one: drop the rest */
			if (raw->n_words < ARGS_WORDS_MAX)
				raw->words[raw->n_words++] = s;
		} else if (strcmp(s, "--") == 0) {
			opts_done = true;
		} else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			raw->help = true;
		} else if (strcmp(s, "--version") == 0) {
			raw->version = true;
		} else if (strcmp(s, "--json") == 0) {
			raw->json = true;
		} else if (strcmp(s, "--yes") == 0) {
			raw->yes = true;
		} else if (strcmp(s, "--show-secrets") == 0) {
			raw->show_secrets = true;
		} else if (strcmp(s, "--follow") == 0 || strcmp(s, "-f") == 0) {
			raw->follow = true;
		} else if (strcmp(s, "--offline") == 0) {
			raw->offline = true;
		} else if (strcmp(s, "--fresh") == 0) {
			raw->fresh = true;
		} else if (strcmp(s, "--wait") == 0) {
			raw->wait = true;
		} else if (strcmp(s, "--dry-run") == 0) {
			raw->dry_run = true;
		} else if (strcmp(s, "--force") == 0) {
			raw->force = true;
		} else if (strcmp(s, "--rebalance") == 0) {
			raw->rebalance = true;
		} else if (strcmp(s, "--if-system-stopping") == 0) {
			raw->if_stopping = true;
		} else if (strcmp(s, "--print-config") == 0) {
			raw->print_config = true;
		} else if (args_value(argc, argv, &i, "--parallel", &raw->parallel_seen,
				      &raw->parallel) ||
			   args_value(argc, argv, &i, "--timeout", &raw->timeout_seen,
				      &raw->timeout) ||
			   args_value(argc, argv, &i, "--yes-i-checked",
				      &raw->checked_seen, &raw->checked) ||
			   args_value(argc, argv, &i, "--role", &raw->role_seen,
				      &raw->role) ||
			   args_value(argc, argv, &i, "--id", &raw->id_seen,
				      &raw->id)) {
			continue;
		} else if (strcmp(s, "--count") == 0 || strcmp(s, "-n") == 0) {
			raw->count_seen = true;
			raw->count = i + 1 < argc ? argv[++i] : NULL;
		} else if (strncmp(s, "--count=", 8) == 0) {
			raw->count_seen = true;
			raw->count = s + 8;
		} else if (strcmp(s, "--on") == 0) {
			raw->on_seen = true;
			raw->on = i + 1 < argc ? argv[++i] : NULL;
		} else if (strncmp(s, "--on=", 5) == 0) {
			raw->on_seen = true;
			raw->on = s + 5;
		} else if (raw->unknown == NULL) {
			raw->unknown = s;
		}
	}
}

/* Positive decimal, no sign, no trailing junk. */
static int
args_count(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0)
		return -EINVAL;
	*v = n;
	return 0;
}

/* The subcommands of "vm" and the operand each takes. */
static const struct vm_sub {
	const char *word;
	enum ctl_cmd cmd;
	const char *name;
	const char *usage;
	const char *operand;    /* "VM", "VM HOST", "FILE" or NULL */
} vm_subs[] = {
	{ "list", CTL_CMD_VM_LIST, "vm list",
	  "usage: agentctl vm list [--json]", NULL },
	{ "show", CTL_CMD_VM_SHOW, "vm show",
	  "usage: agentctl vm show VM [--json]", "VM" },
	{ "define", CTL_CMD_VM_DEFINE, "vm define",
	  "usage: agentctl vm define FILE.cfg", "FILE" },
	{ "undefine", CTL_CMD_VM_UNDEFINE, "vm undefine",
	  "usage: agentctl vm undefine VM", "VM" },
	{ "start", CTL_CMD_VM_START, "vm start",
	  "usage: agentctl vm start VM [--on HOST] [--fresh]", "VM" },
	{ "stop", CTL_CMD_VM_STOP, "vm stop",
	  "usage: agentctl vm stop VM", "VM" },
	{ "restart", CTL_CMD_VM_RESTART, "vm restart",
	  "usage: agentctl vm restart VM", "VM" },
	{ "cleanup", CTL_CMD_VM_CLEANUP, "vm cleanup",
	  "usage: agentctl vm cleanup VM", "VM" },
	{ "migrate", CTL_CMD_VM_MIGRATE, "vm migrate",
	  "usage: agentctl vm migrate VM HOST [--offline] [--wait] [--timeout S]",
	  "VM HOST" },
	{ "reset-state", CTL_CMD_VM_RESET_STATE, "vm reset-state",
	  "usage: agentctl vm reset-state VM [--yes-i-checked HOST]", "VM" },
	{ "save", CTL_CMD_VM_SAVE, "vm save",
	  "usage: agentctl vm save VM", "VM" },
	{ "resume", CTL_CMD_VM_RESUME, "vm resume",
	  "usage: agentctl vm resume VM [--on HOST]", "VM" },
};

static const struct vm_sub *
args_vm_sub(enum ctl_cmd cmd)
{
	size_t i;

	for (i = 0; i < sizeof(vm_subs) / sizeof(vm_subs[0]); i++)
		if (vm_subs[i].cmd == cmd)
			return &vm_subs[i];
	return NULL;
}

static int
args_vm_command(const struct raw_args *raw, struct ctl_args *out,
		size_t *used, char *err, size_t errlen)
{
	const char *w1 = raw->n_words > 1 ? raw->words[1] : NULL;
	size_t i;

	out->name = "vm";
	out->usage = USAGE_VM;
	*used = 2;
	if (w1 == NULL)
		return args_fail(out, USAGE_VM, err, errlen,
				 "missing subcommand (list, show, define, "
				 "undefine, start, stop, restart, cleanup, "
				 "migrate, reset-state, save or resume)");
	for (i = 0; i < sizeof(vm_subs) / sizeof(vm_subs[0]); i++) {
		if (strcmp(w1, vm_subs[i].word) != 0)
			continue;
		out->cmd = vm_subs[i].cmd;
		out->name = vm_subs[i].name;
		out->usage = vm_subs[i].usage;
		return 0;
	}
	return args_fail(out, USAGE_VM, err, errlen, "unknown subcommand '%s'",
			 w1);
}

/* fence config [set|clear], fence history. */
static int
args_fence_command(const struct raw_args *raw, struct ctl_args *out,
		   size_t *used, char *err, size_t errlen)
{
	const char *w1 = raw->n_words > 1 ? raw->words[1] : NULL;
	const char *w2 = raw->n_words > 2 ? raw->words[2] : NULL;

	out->name = "fence";
	out->usage = USAGE_FENCE;
	*used = 2;
	if (w1 == NULL)
		return args_fail(out, USAGE_FENCE, err, errlen,
				 "missing subcommand (config or history)");
	if (strcmp(w1, "history") == 0) {
		out->cmd = CTL_CMD_FENCE_HISTORY;
		out->name = "fence history";
		out->usage = USAGE_FENCE_HISTORY;
		return 0;
	}
	if (strcmp(w1, "config") != 0)
		return args_fail(out, USAGE_FENCE, err, errlen,
				 "unknown subcommand '%s'", w1);
	out->cmd = CTL_CMD_FENCE_CONFIG;
	out->name = "fence config";
	out->usage = USAGE_FENCE_CONFIG;
	if (w2 == NULL)
		return 0;
	*used = 3;
	if (strcmp(w2, "set") == 0) {
		out->cmd = CTL_CMD_FENCE_CONFIG_SET;
		out->name = "fence config set";
		out->usage = USAGE_FENCE_SET;
	} else if (strcmp(w2, "clear") == 0) {
		out->cmd = CTL_CMD_FENCE_CONFIG_CLEAR;
		out->name = "fence config clear";
		out->usage = USAGE_FENCE_CLEAR;
	} else {
		return args_fail(out, USAGE_FENCE_CONFIG, err, errlen,
				 "unknown action '%s' (set or clear)", w2);
	}
	return 0;
}

/* The commands of two words but those of vm and fence. */
static const struct group_sub {
	const char *w0, *w1, *name, *usage;
	enum ctl_cmd cmd;
} group_subs[] = {
	{ "node", "list", "node list", USAGE_NODE_LIST, CTL_CMD_NODE_LIST },
	{ "node", "maintenance", "node maintenance", USAGE_NODE_MAINT,
	  CTL_CMD_NODE_FLAG },
	{ "node", "standby", "node standby", USAGE_NODE_STANDBY, CTL_CMD_NODE_FLAG },
	{ "node", "fence", "node fence", USAGE_NODE_FENCE, CTL_CMD_NODE_FENCE },
	{ "node", "drain", "node drain", USAGE_NODE_DRAIN, CTL_CMD_NODE_DRAIN },
	{ "node", "undrain", "node undrain", USAGE_NODE_UNDRAIN,
	  CTL_CMD_NODE_UNDRAIN },
	{ "node", "prepare-shutdown", "node prepare-shutdown", USAGE_NODE_PREPARE,
	  CTL_CMD_NODE_PREPARE_SHUTDOWN },
	{ "node", "confirm-down", "node confirm-down", USAGE_NODE_CONFIRM,
	  CTL_CMD_NODE_CONFIRM_DOWN },
	{ "node", "add", "node add", USAGE_NODE_ADD, CTL_CMD_NODE_ADD },
	{ "node", "forget", "node forget", USAGE_NODE_FORGET, CTL_CMD_NODE_FORGET },
	{ "volume", "create", "volume create", USAGE_VOLUME_CREATE,
	  CTL_CMD_VOLUME_CREATE },
	{ "volume", "list", "volume list", USAGE_VOLUME_LIST, CTL_CMD_VOLUME_LIST },
	{ "volume", "remove", "volume remove", USAGE_VOLUME_REMOVE,
	  CTL_CMD_VOLUME_REMOVE },
	{ "storage", "status", "storage status", USAGE_STORAGE,
	  CTL_CMD_STORAGE_STATUS },
	{ "cluster", "maintenance", "cluster maintenance", USAGE_CLUSTER,
	  CTL_CMD_CLUSTER_MAINTENANCE },
};

/* The commands of one word. */
static const struct group_sub words1[] = {
	{ NULL, NULL, "status", USAGE_STATUS, CTL_CMD_STATUS },
	{ NULL, NULL, "events", USAGE_EVENTS, CTL_CMD_EVENTS },
	{ NULL, NULL, "metrics", USAGE_METRICS, CTL_CMD_METRICS },
	{ NULL, NULL, "log-level", USAGE_LOG_LEVEL, CTL_CMD_LOG_LEVEL },
};

/* The groups of group_subs: usage and subcommands, for errors. */
static const struct group {
	const char *w0, *usage, *subs;
} groups[] = {
	{ "node", USAGE_NODE, "list, maintenance, standby, fence, drain, undrain, "
	  "prepare-shutdown, confirm-down, add or forget" },
	{ "volume", USAGE_VOLUME, "create, list or remove" },
	{ "storage", USAGE_STORAGE, "status" },
	{ "cluster", USAGE_CLUSTER, "maintenance" },
};

/* node ..., volume ..., storage status, cluster maintenance: 1 when
 * words[0] is none of them, else 0 or a usage error. */
static int
args_group_command(const struct raw_args *raw, struct ctl_args *out,
		   size_t *used, char *err, size_t errlen)
{
	const char *w0 = raw->words[0];
	const char *w1 = raw->n_words > 1 ? raw->words[1] : NULL;
	const struct group *g = NULL;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcmp(w0, groups[i].w0) == 0)
			g = &groups[i];
	if (g == NULL)
		return 1;
	out->name = g->w0;
	out->usage = g->usage;
	*used = 2;
	if (w1 == NULL)
		return args_fail(out, out->usage, err, errlen,
				 "missing subcommand (%s)", g->subs);
	for (size_t i = 0; i < sizeof(group_subs) / sizeof(group_subs[0]); i++) {
		const struct group_sub *sub = &group_subs[i];

		if (strcmp(w0, sub->w0) != 0 || strcmp(w1, sub->w1) != 0)
			continue;
		out->cmd = sub->cmd;
		out->name = sub->name;
		out->usage = sub->usage;
		if (sub->cmd == CTL_CMD_NODE_FLAG)
			out->flag = sub->w1;
		return 0;
	}
	return args_fail(out, out->usage, err, errlen, "unknown subcommand '%s'", w1);
}

static int args_name(struct ctl_args *out, const char *s, const char *label,
		     char *err, size_t errlen);

/* VM DISK SIZE of volume create. */
static int
args_volume_create(const struct raw_args *raw, size_t used, struct ctl_args *out,
		   char *err, size_t errlen)
{
	const char *vm = used < raw->n_words ? raw->words[used] : NULL;
	const char *disk = used + 1 < raw->n_words ? raw->words[used + 1] : NULL;
	const char *size = used + 2 < raw->n_words ? raw->words[used + 2] : NULL;
	char why[160], vname[VOL_NAME_MAX];
	int r;

	r = args_name(out, vm, "VM", err, errlen);
	if (r < 0)
		return r;
	if (disk == NULL || disk[0] == '\0')
		return args_fail(out, out->usage, err, errlen, "missing DISK (root, swap, ...)");
	if (size == NULL)
		return args_fail(out, out->usage, err, errlen, "missing SIZE (e.g. 10G)");
	if (size_parse(size, &out->size, why, sizeof(why)) < 0)
		return args_fail(out, out->usage, err, errlen, "%s", why);
	if (vol_name_make(vname, sizeof(vname), vm, disk, why, sizeof(why)) < 0)
		return args_fail(out, out->usage, err, errlen, "%s", why);
	out->vm = vm;
	out->disk = disk;
	return 0;
}

/* The command words: sets cmd, name, usage; 0 or a usage error. */
static int
args_command(const struct raw_args *raw, struct ctl_args *out, size_t *used,
	     char *err, size_t errlen)
{
	const char *w0 = raw->n_words > 0 ? raw->words[0] : NULL;
	int r;

	out->usage = USAGE_AGENTCTL;
	if (w0 == NULL)
		return args_fail(out, USAGE_AGENTCTL, err, errlen,
				 "missing command");
	for (size_t i = 0; i < sizeof(words1) / sizeof(words1[0]); i++) {
		if (strcmp(w0, words1[i].name) != 0)
			continue;
		out->cmd = words1[i].cmd;
		out->name = words1[i].name;
		out->usage = words1[i].usage;
		*used = 1;
		return 0;
	}
	if (strcmp(w0, "vm") == 0)
		return args_vm_command(raw, out, used, err, errlen);
	if (strcmp(w0, "fence") == 0)
		return args_fence_command(raw, out, used, err, errlen);
	r = args_group_command(raw, out, used, err, errlen);
	if (r <= 0)
		return r;
	return args_fail(out, USAGE_AGENTCTL, err, errlen, "unknown command '%s'",
			 w0);
}

/* A NODE, VM or HOST name (label): present, not empty, not too long. */
static int
args_name(struct ctl_args *out, const char *s, const char *label,
	  char *err, size_t errlen)
{
	if (s == NULL)
		return args_fail(out, out->usage, err, errlen, "missing %s", label);
	if (s[0] == '\0')
		return args_fail(out, out->usage, err, errlen, "empty %s name",
				 label);
	if (strlen(s) >= STATE_NAME_MAX)
		return args_fail(out, out->usage, err, errlen,
				 "%s name longer than %d characters", label,
				 STATE_NAME_MAX - 1);
	return 0;
}

/* The operands of a vm subcommand and --on (args_options() said whether
 * it may have one); *want: words used. */
static int
args_vm(const struct raw_args *raw, size_t used, size_t *want,
	struct ctl_args *out, char *err, size_t errlen)
{
	const struct vm_sub *sub = args_vm_sub(out->cmd);
	const char *w = used < raw->n_words ? raw->words[used] : NULL;
	int r;

	*want = used;
	if (sub == NULL || sub->operand == NULL)
		return 0;
	if (strcmp(sub->operand, "FILE") == 0) {
		if (w == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "missing FILE");
		if (w[0] == '\0')
			return args_fail(out, out->usage, err, errlen,
					 "empty FILE name");
		out->file = w;
	} else {
		r = args_name(out, w, "VM", err, errlen);
		if (r < 0)
			return r;
		out->vm = w;
	}
	*want = used + 1;
	if (strcmp(sub->operand, "VM HOST") == 0) {
		w = used + 1 < raw->n_words ? raw->words[used + 1] : NULL;
		r = args_name(out, w, "HOST", err, errlen);
		if (r < 0)
			return r;
		out->host = w;
		*want = used + 2;
	}
	if (raw->on_seen) {
		if (raw->on == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "--on needs a HOST");
		r = args_name(out, raw->on, "HOST", err, errlen);
		if (r < 0)
			return r;
		out->host = raw->on;
	}
	return 0;
}

/* The on|off word at words[used]. */
static int
args_onoff(const struct raw_args *raw, size_t used, struct ctl_args *out,
	   char *err, size_t errlen)
{
	const char *onoff = used < raw->n_words ? raw->words[used] : NULL;

	if (onoff == NULL)
		return args_fail(out, out->usage, err, errlen, "missing on|off");
	if (strcmp(onoff, "on") == 0)
		out->on = true;
	else if (strcmp(onoff, "off") == 0)
		out->on = false;
	else
		return args_fail(out, out->usage, err, errlen,
				 "expected on or off, not '%s'", onoff);
	return 0;
}

/* NODE on|off of a flag command. */
static int
args_node_flag(const struct raw_args *raw, size_t used, struct ctl_args *out,
	       char *err, size_t errlen)
{
	const char *node = used < raw->n_words ? raw->words[used] : NULL;
	int r = args_name(out, node, "NODE", err, errlen);

	if (r < 0)
		return r;
	r = args_onoff(raw, used + 1, out, err, errlen);
	if (r < 0)
		return r;
	out->node = node;
	return 0;
}

/* An option given to a command it is not for, and the values of the
 * options that take one: 0 or a usage error. */
static int
args_options(const struct raw_args *raw, struct ctl_args *out, char *err,
	     size_t errlen)
{
	enum ctl_cmd cmd = out->cmd;
	bool waits = cmd == CTL_CMD_VM_MIGRATE || cmd == CTL_CMD_NODE_DRAIN;
	const struct {
		bool given, allowed;
		const char *text;
	} only[] = {
		{ raw->follow, cmd == CTL_CMD_EVENTS, "--follow is only for events" },
		{ raw->count_seen, cmd == CTL_CMD_EVENTS, "--count is only for events" },
		{ raw->yes, cmd == CTL_CMD_NODE_FENCE, "--yes is only for node fence" },
		{ raw->show_secrets, cmd == CTL_CMD_FENCE_CONFIG,
		  "--show-secrets is only for fence config" },
		{ raw->on_seen, cmd == CTL_CMD_VM_START || cmd == CTL_CMD_VM_RESUME,
		  "--on is only for vm start and vm resume" },
		{ raw->fresh, cmd == CTL_CMD_VM_START, "--fresh is only for vm start" },
		{ raw->offline, cmd == CTL_CMD_VM_MIGRATE,
		  "--offline is only for vm migrate" },
		{ raw->wait, waits, "--wait is only for vm migrate and node drain" },
		{ raw->timeout_seen, waits || cmd == CTL_CMD_NODE_PREPARE_SHUTDOWN,
		  "--timeout is only for vm migrate, node drain and node "
		  "prepare-shutdown" },
		{ raw->dry_run, cmd == CTL_CMD_NODE_DRAIN,
		  "--dry-run is only for node drain" },
		{ raw->parallel_seen, cmd == CTL_CMD_NODE_DRAIN,
		  "--parallel is only for node drain" },
		{ raw->force, cmd == CTL_CMD_NODE_DRAIN, "--force is only for node drain" },
		{ raw->rebalance, cmd == CTL_CMD_NODE_UNDRAIN,
		  "--rebalance is only for node undrain" },
		{ raw->if_stopping, cmd == CTL_CMD_NODE_PREPARE_SHUTDOWN,
		  "--if-system-stopping is only for node prepare-shutdown" },
		{ raw->checked_seen, cmd == CTL_CMD_NODE_CONFIRM_DOWN ||
		  cmd == CTL_CMD_VM_RESET_STATE,
		  "--yes-i-checked is only for node confirm-down and vm "
		  "reset-state" },
		{ raw->role_seen, cmd == CTL_CMD_NODE_ADD, "--role is only for node add" },
		{ raw->id_seen, cmd == CTL_CMD_NODE_ADD, "--id is only for node add" },
		{ raw->print_config, cmd == CTL_CMD_NODE_ADD,
		  "--print-config is only for node add" },
	};
	uint64_t v;
	int r;

	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
		if (only[i].given && !only[i].allowed)
			return args_fail(out, out->usage, err, errlen, "%s",
					 only[i].text);
	if (raw->count_seen) {
		if (raw->count == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "--count needs a number");
		if (args_count(raw->count, &out->count) < 0)
			return args_fail(out, out->usage, err, errlen,
					 "--count needs a positive number, not '%s'",
					 raw->count);
	}
	if (raw->parallel_seen) {
		if (raw->parallel == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "--parallel needs a number");
		if (args_count(raw->parallel, &v) < 0 || v > CTL_DRAIN_PARALLEL_MAX)
			return args_fail(out, out->usage, err, errlen,
					 "--parallel needs a number from 1 to %d, "
					 "not '%s'", CTL_DRAIN_PARALLEL_MAX,
					 raw->parallel);
		out->parallel = (uint32_t)v;
	}
	if (raw->timeout_seen) {
		if (!raw->wait && cmd != CTL_CMD_NODE_PREPARE_SHUTDOWN)
			return args_fail(out, out->usage, err, errlen,
					 "--timeout is for --wait");
		if (raw->timeout == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "--timeout needs a number of seconds");
		if (args_count(raw->timeout, &v) < 0 || v > CTL_WAIT_MAX_S)
			return args_fail(out, out->usage, err, errlen,
					 "--timeout needs a number of seconds from 1 "
					 "to %d, not '%s'", CTL_WAIT_MAX_S,
					 raw->timeout);
		out->timeout_s = (uint32_t)v;
	}
	if (raw->checked_seen) {
		if (raw->checked == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "--yes-i-checked needs the HOST you "
					 "checked is powered off");
		r = args_name(out, raw->checked, "HOST", err, errlen);
		if (r < 0)
			return r;
		out->checked = raw->checked;
	}
	if (raw->role_seen) {
		if (raw->role == NULL || (strcmp(raw->role, "dom0") != 0 &&
					  strcmp(raw->role, "san") != 0))
			return args_fail(out, out->usage, err, errlen,
					 "--role needs dom0 or san");
		out->role = raw->role;
	}
	if (raw->id_seen) {
		if (args_count(raw->id, &v) < 0 || v > 65535)
			return args_fail(out, out->usage, err, errlen,
					 "--id needs a node id from 1 to 65535%s%s%s",
					 raw->id ? ", not '" : "",
					 raw->id ? raw->id : "", raw->id ? "'" : "");
		out->nodeid = (uint32_t)v;
	}
	out->print_config = raw->print_config;
	if (raw->dry_run && raw->wait)
		return args_fail(out, out->usage, err, errlen,
				 "--dry-run only shows the plan: there is "
				 "nothing to --wait for");
	out->follow = raw->follow;
	out->yes = raw->yes;
	out->show_secrets = raw->show_secrets;
	out->offline = raw->offline;
	out->fresh = raw->fresh;
	out->wait = raw->wait;
	out->dry_run = raw->dry_run;
	out->force = raw->force;
	out->rebalance = raw->rebalance;
	out->if_stopping = raw->if_stopping;
	out->parallel_seen = raw->parallel_seen;
	if (!raw->parallel_seen)
		out->parallel = 1;
	return 0;
}

int
ctl_args_parse(int argc, char *const argv[], struct ctl_args *out,
	       char *err, size_t errlen)
{
	struct raw_args raw;
	size_t used = 0, want;
	int r;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	args_split(argc, argv, &raw);
	out->json = raw.json;

	if (raw.help || raw.version) {
		/* help wins over any mistake: it is what the user asked for */
		char scratch[8];

		/* name and usage of the command named, if any */
		(void)args_command(&raw, out, &used, scratch, sizeof(scratch));
		out->cmd = raw.help ? CTL_CMD_HELP : CTL_CMD_VERSION;
		return 0;
	}

	if (raw.n_words == 0 && raw.unknown != NULL)
		return args_fail(out, USAGE_AGENTCTL, err, errlen,
				 "unknown option '%s'", raw.unknown);
	r = args_command(&raw, out, &used, err, errlen);
	if (r < 0)
		return r;
	if (raw.unknown != NULL)
		return args_fail(out, out->usage, err, errlen,
				 "unknown option '%s'", raw.unknown);

	r = args_options(&raw, out, err, errlen);
	if (r < 0)
		return r;

	want = used;
	if (out->cmd == CTL_CMD_NODE_FLAG) {
		r = args_node_flag(&raw, used, out, err, errlen);
		if (r < 0)
			return r;
		want = used + 2;
	} else if (out->cmd == CTL_CMD_NODE_ADD) {
		const char *w = used < raw.n_words ? raw.words[used] : NULL;
		const char *addr = used + 1 < raw.n_words ? raw.words[used + 1] : NULL;

		r = args_name(out, w, "NAME", err, errlen);
		if (r < 0)
			return r;
		if (addr == NULL || addr[0] == '\0')
			return args_fail(out, out->usage, err, errlen,
					 "missing ADDRESS (one per corosync "
					 "link, comma-separated)");
		out->node = w;
		out->address = addr;
		want = used + 2;
	} else if (out->cmd == CTL_CMD_NODE_FENCE ||
		   out->cmd == CTL_CMD_NODE_FORGET ||
		   out->cmd == CTL_CMD_NODE_CONFIRM_DOWN ||
		   out->cmd == CTL_CMD_NODE_DRAIN ||
		   out->cmd == CTL_CMD_NODE_UNDRAIN ||
		   out->cmd == CTL_CMD_VOLUME_REMOVE) {
		const char *w = used < raw.n_words ? raw.words[used] : NULL;
		bool volume = out->cmd == CTL_CMD_VOLUME_REMOVE;

		r = args_name(out, w, volume ? "VOLUME" : "HOST", err, errlen);
		if (r < 0)
			return r;
		*(volume ? &out->volume : &out->node) = w;
		want = used + 1;
	} else if (out->cmd == CTL_CMD_CLUSTER_MAINTENANCE) {
		r = args_onoff(&raw, used, out, err, errlen);
		if (r < 0)
			return r;
		want = used + 1;
	} else if (out->cmd == CTL_CMD_FENCE_CONFIG_SET) {
		const char *w = used < raw.n_words ? raw.words[used] : NULL;

		if (w == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "missing FILE");
		if (w[0] == '\0')
			return args_fail(out, out->usage, err, errlen,
					 "empty FILE name");
		out->file = w;
		want = used + 1;
	} else if (out->cmd == CTL_CMD_LOG_LEVEL) {
		static const char *const levels[] = {
			"error", "warning", "notice", "info", "debug", NULL,
		};
		const char *w = used < raw.n_words ? raw.words[used] : NULL;
		size_t i;

		if (w == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "missing LEVEL");
		for (i = 0; levels[i] != NULL && strcmp(w, levels[i]) != 0; i++)
			;
		if (levels[i] == NULL)
			return args_fail(out, out->usage, err, errlen,
					 "unknown level '%s' (error, warning, "
					 "notice, info or debug)", w);
		out->level = w;
		want = used + 1;
	} else if (out->cmd == CTL_CMD_VOLUME_CREATE) {
		r = args_volume_create(&raw, used, out, err, errlen);
		if (r < 0)
			return r;
		want = used + 3;
	} else if (raw.on_seen || args_vm_sub(out->cmd) != NULL) {
		r = args_vm(&raw, used, &want, out, err, errlen);
		if (r < 0)
			return r;
	}
	if (raw.n_words > want)
		return args_fail(out, out->usage, err, errlen,
				 "unexpected argument '%s'", raw.words[want]);
	/* the confirmation names the very host: a slip of the other name
	 * is caught before anything is asked */
	if (out->cmd == CTL_CMD_NODE_CONFIRM_DOWN && out->checked != NULL &&
	    strcmp(out->checked, out->node) != 0)
		return args_fail(out, out->usage, err, errlen,
				 "--yes-i-checked names %s, not %s: nothing done",
				 out->checked, out->node);
	return 0;
}
