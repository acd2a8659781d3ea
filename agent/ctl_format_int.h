/* Shared by the parts of agentctl's formatters only: ctl_format.c
 * (status, events, fence), ctl_format_node.c (hosts), ctl_format_vm.c (VM
 * table, vm show), ctl_format_storage.c and ctl_format_drain.c (banner,
 * drain plan and progress).  Not for other callers: use ctl_format.h. */
#ifndef XM_CTL_FORMAT_INT_H
#define XM_CTL_FORMAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "xenmesh.pb-c.h"

#define SAFE_MAX       320      /* a cleaned name (STATE_NAME_MAX is 64) */
#define SAFE_TEXT_MAX  1024     /* a cleaned event text or reason */

/* ---- ctl_format.c ---- */

/* s with control characters as '?' (in buf when it had any). */
const char *ctl_format_safe(const char *s, char *buf, size_t len);
/* Closes the memstream f and hands its text to *text: 0 or -ENOMEM. */
int ctl_format_finish(FILE *f, char **mem, char **text);
/* The document in j plus a newline, handed to *text. */
int ctl_format_json_finish(struct json *j, char **text);
/* s, or null when NULL or empty. */
void ctl_format_json_nonempty(struct json *j, const char *s);
/* The name of node id, "node<id>" when unknown. */
void ctl_format_json_node(struct json *j, const Xenmesh__State *st, uint32_t id);

/* ---- ctl_format_node.c ---- */

/* The hosts table (with a CPU column: node list), "no hosts known yet". */
void ctl_format_hosts(FILE *f, const Xenmesh__CtlResponse *r, const char *indent,
		      bool cpu);
/* The "nodes":[...] member of an object. */
void ctl_format_json_nodes(struct json *j, const Xenmesh__CtlResponse *r);

/* ---- ctl_format_vm.c ---- */

/* The VMs table, "no VMs defined" when there are none; now_ms (wall
 * clock, 0 unknown) for the age of migrations. */
void ctl_format_vm_table(FILE *f, const Xenmesh__State *st, const char *indent,
			 uint64_t now_ms);
/* "12 s", "5 min", "3 h" from since_ms to now_ms. */
void ctl_format_age(uint64_t since_ms, uint64_t now_ms, char *buf, size_t len);
/* Has a migration destination. */
bool ctl_format_vm_migrating(const Xenmesh__Vm *vm);
/* "\nUnmanaged domains on this host: a, b\n" when there are any. */
void ctl_format_unmanaged(FILE *f, const Xenmesh__CtlResponse *r);
/* "vms":[...] and "unmanaged":[...] members of an object. */
void ctl_format_json_vms(struct json *j, const Xenmesh__State *st);
void ctl_format_json_unmanaged(struct json *j, const Xenmesh__CtlResponse *r);

/* ---- ctl_format_storage.c ---- */

/* "\nStorage: active SAN s1, 4 volumes, fenced: h3\n" when there is any. */
void ctl_format_storage_summary(FILE *f, const Xenmesh__CtlResponse *r);
/* The "storage":{...} member of an object. */
void ctl_format_json_storage(struct json *j, const Xenmesh__CtlResponse *r);

/* ---- ctl_format_drain.c ---- */

/* "CLUSTER MAINTENANCE: ..." and a blank line when st is frozen. */
void ctl_format_banner(FILE *f, const Xenmesh__State *st);

#endif
