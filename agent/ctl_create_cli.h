/* agentctl's side of `vm create` and `template list|show` (the server side
 * is agent/ctl_create.c):
 *
 *   agentctl vm create NAME --template T [--ip A] [--netmask M]
 *            [--gateway G] [--nameserver N] [--mac MAC] [--memory MB]
 *            [--vcpus N] [--disk SIZE] [--swap SIZE] [--description TEXT]
 *            [--start [--on HOST]] [--json]
 *   agentctl template list [--json]
 *   agentctl template show TEMPLATE [--json]
 *
 * Options take their value as the next word or after '=' (--ip=10.0.0.2).
 * Kept apart from ctl_args.c, which hands these command lines over.
 */
#ifndef XM_CTL_CREATE_CLI_H
#define XM_CTL_CREATE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USAGE_VM_CREATE \
	"usage: agentctl vm create NAME --template T [--ip A] [--netmask M] " \
	"[--gateway G] [--nameserver N] [--mac MAC] [--memory MB] [--vcpus N] " \
	"[--disk SIZE] [--swap SIZE] [--description TEXT] [--start [--on HOST]] " \
	"[--json]"
#define USAGE_TEMPLATE \
	"usage: agentctl template list [--json] | template show TEMPLATE [--json]"

enum create_cmd { CREATE_CMD_VM_CREATE = 1, CREATE_CMD_TEMPLATE_LIST,
		  CREATE_CMD_TEMPLATE_SHOW };

struct create_args {
	enum create_cmd cmd;
	bool help, json, start;
	const char *name;               /* VM, or template of show */
	const char *tmpl, *ip, *netmask, *gateway, *nameserver, *mac;
	const char *description, *on;
	uint32_t memory_mb, vcpus;      /* 0: the template's */
	uint64_t disk_bytes, swap_bytes;        /* 0: the template's */
	const char *usage;
};

/* Is argv a vm create or template command line?  Its first two words
 * (options and their values skipped). */
bool ctl_create_cli_wants(int argc, char *const argv[]);

/* Parse it.  0, or -EINVAL with err naming the problem (out->usage set). */
int ctl_create_cli_parse(int argc, char *const argv[], struct create_args *out,
			 char *err, size_t errlen);

/* agentctl's main for these commands: the exit status. */
int ctl_create_cli_main(int argc, char *const argv[]);

#endif
