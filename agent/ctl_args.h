/* agentctl's command line, parsed into a command struct.  Pure: no I/O.
 *
 *   agentctl [--json] [-h|--help] [--version] COMMAND
 *     status [--json]
 *     events [--follow] [--json] [--count N]
 *     node list [--json]
 *     node maintenance NODE on|off
 *     node standby NODE on|off
 *     node fence NODE [--yes]
 *     node confirm-down HOST [--yes-i-checked HOST]
 *     node drain HOST [--dry-run] [--parallel N] [--force] [--wait]
 *                [--timeout S] [--json]
 *     node undrain HOST [--rebalance]
 *     node prepare-shutdown [--if-system-stopping] [--timeout S]
 *     node add NAME ADDRESS[,ADDRESS...] [--role dom0|san] [--id N]
 *              [--print-config]
 *     node forget HOST
 *     cluster maintenance on|off
 *     vm list [--json]
 *     vm show VM [--json]
 *     vm define FILE.cfg
 *     vm undefine VM
 *     vm start VM [--on HOST]
 *     vm stop VM
 *     vm restart VM
 *     vm cleanup VM
 *     vm migrate VM HOST [--offline] [--wait] [--timeout S]
 *     vm reset-state VM [--yes-i-checked HOST]
 *     fence config [--show-secrets] [--json]
 *     fence config set FILE
 *     fence config clear
 *     fence history [--json]
 *     metrics
 *     log-level error|warning|notice|info|debug
 *     volume create VM DISK SIZE
 *     volume list [--json]
 *     volume remove VOLUME
 *     storage status [--json]
 *
 * Options may come before or after the command words; "--" ends them (for
 * a node whose name starts with '-').
 */
#ifndef XM_CTL_ARGS_H
#define XM_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_cmd {
	CTL_CMD_NONE = 0,
	CTL_CMD_HELP,
	CTL_CMD_VERSION,
	CTL_CMD_STATUS,
	CTL_CMD_EVENTS,
	CTL_CMD_NODE_LIST,
	CTL_CMD_NODE_FLAG,
	CTL_CMD_VM_LIST,
	CTL_CMD_VM_SHOW,
	CTL_CMD_VM_DEFINE,
	CTL_CMD_VM_UNDEFINE,
	CTL_CMD_VM_START,
	CTL_CMD_VM_STOP,
	CTL_CMD_VM_RESTART,
	CTL_CMD_VM_CLEANUP,
	CTL_CMD_NODE_FENCE,
	CTL_CMD_FENCE_CONFIG,
	CTL_CMD_FENCE_CONFIG_SET,
	CTL_CMD_FENCE_CONFIG_CLEAR,
	CTL_CMD_FENCE_HISTORY,
	CTL_CMD_METRICS,
	CTL_CMD_LOG_LEVEL,
	CTL_CMD_VOLUME_CREATE,
	CTL_CMD_VOLUME_LIST,
	CTL_CMD_VOLUME_REMOVE,
	CTL_CMD_STORAGE_STATUS,
	CTL_CMD_VM_MIGRATE,
	CTL_CMD_NODE_DRAIN,
	CTL_CMD_NODE_UNDRAIN,
	CTL_CMD_NODE_PREPARE_SHUTDOWN,
	CTL_CMD_CLUSTER_MAINTENANCE,
	CTL_CMD_NODE_CONFIRM_DOWN,
	CTL_CMD_VM_RESET_STATE,
	CTL_CMD_NODE_ADD,
	CTL_CMD_NODE_FORGET,
	CTL_CMD_VM_SAVE,
	CTL_CMD_VM_RESUME,
};

/* The largest xl.cfg `vm define` sends (the replicated state refuses
 * larger ones too). */
#define CTL_VM_CONFIG_MAX (256 * 1024)

/* node drain --parallel: migrations at once (ha/state.h DRAIN_PARALLEL_MAX) */
#define CTL_DRAIN_PARALLEL_MAX 64
/* vm migrate --wait: how long, unless --timeout says */
#define CTL_MIGRATE_WAIT_S     600
/* the largest --timeout: a day */
#define CTL_WAIT_MAX_S         86400

struct ctl_args {
	enum ctl_cmd cmd;
	bool json;
	bool follow;            /* events */
	uint64_t count;         /* events: show the last N, 0 = all */
	const char *node;       /* node FLAG, fence, drain, undrain: into argv */
	const char *flag;       /* "maintenance" | "standby" */
	bool on;                /* node FLAG, cluster maintenance */
	const char *vm;         /* vm show/undefine/start/...: points into argv */
	const char *file;       /* vm define, fence config set */
	const char *host;       /* vm start --on HOST (NULL: anywhere), vm
				 * migrate VM HOST */
	bool yes;               /* node fence --yes: really do it */
	bool show_secrets;      /* fence config --show-secrets */
	const char *level;      /* log-level: points into argv */
	const char *disk;       /* volume create: DISK */
	uint64_t size;          /* volume create: SIZE in bytes */
	const char *volume;     /* volume remove: VOLUME */
	/* planned maintenance: vm migrate (vm, host), node drain/undrain
	 * (node), cluster maintenance (on) */
	bool offline;           /* vm migrate --offline: stop, start there */
	bool fresh;             /* vm start --fresh: discard a save image */
	bool wait;              /* vm migrate, node drain: follow to the end */
	uint32_t timeout_s;     /* --timeout with --wait; 0: not given */
	bool dry_run;           /* node drain --dry-run: the plan only */
	uint32_t parallel;      /* node drain --parallel, 1 when not given */
	bool parallel_seen;     /* --parallel was given */
	bool force;             /* node drain --force */
	bool rebalance;         /* node undrain --rebalance */
	bool if_stopping;       /* node prepare-shutdown --if-system-stopping */
	/* node confirm-down, vm reset-state --yes-i-checked HOST: the host
	 * name confirmed without asking (NULL: ask on the terminal) */
	const char *checked;
	/* node add NAME ADDRESS (name in node) */
	const char *address;    /* one per link, comma-separated */
	const char *role;       /* --role dom0|san, NULL: dom0 */
	uint32_t nodeid;        /* --id N, 0: the next free one */
	bool print_config;      /* --print-config: the new node's corosync.conf */
	/* "status", "node maintenance", ...: for messages.  With CTL_CMD_HELP,
	 * NULL asks for the full help (ctl_args_help), else print usage. */
	const char *name;
	const char *usage;      /* usage of the command named (or of agentctl) */
};

/*
 * 0 ok; -EINVAL usage error: err gets a sentence naming the problem
 * ("node maintenance: missing NODE") and out->usage the usage line of the
 * command concerned.
 */
int ctl_args_parse(int argc, char *const argv[], struct ctl_args *out,
		   char *err, size_t errlen);

/* The full help text of agentctl. */
const char *ctl_args_help(void);

#endif
