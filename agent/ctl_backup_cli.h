/* agentctl's side of backups (the server side is agent/ctl_backup.c):
 *
 *   agentctl vm backup VM [--dest DIR]
 *   agentctl vm restore VM [BACKUP] [--disk SIZE] [--memory MB]
 *            [--as NEWNAME] [--dest DIR]
 *   agentctl backup list [VM] [--dest DIR] [--json]
 *
 * BACKUP is a stamp from `backup list` (default: the newest complete
 * one).  Options take their value as the next word or after '='.  Kept
 * apart from ctl_args.c, like ctl_create_cli.c.
 */
#ifndef XM_CTL_BACKUP_CLI_H
#define XM_CTL_BACKUP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USAGE_VM_BACKUP  "usage: agentctl vm backup VM [--dest DIR]"
#define USAGE_VM_RESTORE \
	"usage: agentctl vm restore VM [BACKUP] [--disk SIZE] [--memory MB] " \
	"[--as NEWNAME] [--dest DIR]"
#define USAGE_BACKUP_LIST "usage: agentctl backup list [VM] [--dest DIR] [--json]"

enum backup_cmd { BACKUP_CMD_BACKUP = 1, BACKUP_CMD_RESTORE, BACKUP_CMD_LIST };

struct backup_args {
	enum backup_cmd cmd;
	bool help, json;
	const char *vm;                 /* NULL: list all */
	const char *stamp;              /* restore BACKUP, NULL newest */
	const char *as;
	const char *dest;               /* NULL: the agent's [storage] backup_dir */
	uint64_t disk_bytes;            /* 0: as backed up */
	uint32_t memory_mb;             /* 0: as backed up */
	const char *usage;
};

/* Is argv one of these command lines?  (first two words) */
bool ctl_backup_cli_wants(int argc, char *const argv[]);
/* 0, or -EINVAL with err naming the problem (out->usage set). */
int ctl_backup_cli_parse(int argc, char *const argv[], struct backup_args *out,
			 char *err, size_t errlen);
/* The list answer's lines (ctl_backup.h) as a table or JSON: malloc'd. */
char *ctl_backup_cli_format(const char *lines, bool json);
/* agentctl's main for these commands: the exit status. */
int ctl_backup_cli_main(int argc, char *const argv[]);

#endif
