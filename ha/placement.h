/* Placement: which host each VM that needs one starts on, and whether the
 * cluster could still restart every VM if any one host failed.
 *
 * Pure and deterministic: the same hosts and VMs give the same answer in
 * any input order (hosts are taken by id, VMs by the order below), so
 * every coordinator and the simulator agree.  No I/O.
 */
#ifndef XM_PLACEMENT_H
#define XM_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmconf.h"

#define PLACEMENT_MAX_HOSTS   64
#define PLACEMENT_MAX_VMS     65536   /* the VM table's own limit */
#define PLACEMENT_REASON_MAX  192
#define ADMISSION_MAX_NAMES   16
#define ADMISSION_SUMMARY_MAX 256

struct placement_host {
	uint32_t id;                    /* node id, not 0, unique */
	char name[VM_NAME_MAX];         /* unique, not "" */
	bool eligible;                  /* online, no maintenance/standby */
	const char *why_not;            /* when !eligible, e.g. "maintenance" */
	uint64_t mem_free_mb;           /* net of the dom0 reserve and of the
					 * VMs running there */
	char cpu[64];                   /* CPU compatibility class, "" unknown
					 * (for live migration; unused yet) */
};

struct placement_vm {
	char name[VM_NAME_MAX];         /* unique, not "" */
	uint64_t memory_mb;
	const struct vm_ha *ha;         /* not NULL */
	uint32_t current_host;          /* 0 none, else one of the hosts; its
					 * memory is NOT in that host's
					 * mem_free_mb */
	bool needs_place;               /* false: stays where it is, but counts
					 * for anti-affinity */
};

struct placement_choice {
	uint32_t host;                  /* 0: unplaceable */
	char reason[PLACEMENT_REASON_MAX];
};

/*
 * Choose a host for every VM with needs_place; out[i] answers vms[i].
 *
 * Order: priority descending, ha_start_after (a VM goes after the VMs it
 * names that are also being placed), then name ascending.  A VM lends its
 * priority to the VMs it waits for, so that "a (10) after b (0)" places b
 * and a before a VM of priority 5: otherwise the 5 could take the memory
 * the 10 needs.  VMs in a start_after cycle are unplaceable ("start order
 * cycle: a -> b -> a", "a -> b" meaning a waits for b); a VM that only
 * waits for a cycle, or for a VM that turns out unplaceable, is placed.
 *
 * Each VM, in that order, goes to a candidate host: eligible, enough free
 * memory after the choices before it in this plan, and no VM of its
 * ha_anti_affinity group on it (running, or chosen earlier in this plan;
 * strict).  The first of its ha_hosts that is a candidate wins, else the
 * candidate with the most free memory, ties by lowest id.  reason says
 * why (e.g. "preferred host h2 (h1: maintenance)") or, with host 0, what
 * binds: "no eligible host (h1: maintenance, h2: unclean)", "needs 4096
 * MB, largest free 2048 MB on h2", "anti-affinity group db: every fitting
 * host already runs one (h1: db1, h3: db2)".  Lists too long for reason
 * end in "...".
 *
 * VMs without needs_place get host = current_host and reason "".
 * Returns 0 (unplaceable VMs are not an error), -EINVAL for NULL arrays,
 * a host id 0, duplicate or empty names, a NULL ha, a current_host not
 * among the hosts, unterminated strings or counts beyond the vm_ha arrays;
 * -E2BIG beyond PLACEMENT_MAX_HOSTS / PLACEMENT_MAX_VMS; -ENOMEM.  On
 * error out is unchanged.
 */
int placement_plan(const struct placement_host *hosts, size_t nh,
		   const struct placement_vm *vms, size_t nv,
		   struct placement_choice *out);

struct admission_host {
	uint32_t host;                  /* the host that would fail */
	char name[VM_NAME_MAX];
	uint32_t n_vms;                 /* VMs that could not be restarted */
	uint32_t n_names;               /* the first of them, restart order */
	char names[ADMISSION_MAX_NAMES][VM_NAME_MAX];
	char summary[ADMISSION_SUMMARY_MAX];
	/* "if h2 fails: web3, db1 cannot be restarted (needs 4096 MB,
	 *  largest free 2048 MB on h3)": the reason is the first VM's */
};

struct admission_report {
	bool ok;                        /* every host's VMs fit elsewhere */
	uint32_t n_failing;
	struct admission_host failing[PLACEMENT_MAX_HOSTS];  /* by host id */
};                                      /* ~90 KB: allocate it */

/*
 * Failures to tolerate = 1: for each eligible host H, would every VM with
 * current_host == H be placeable (placement_plan) on the other hosts, the
 * VMs elsewhere staying where they are?  needs_place is ignored here: the
 * VMs are taken as running where current_host says (0: not running, not
 * counted).  The failed host shows in reasons as "H: failed".
 * Same errors as placement_plan; on error *rep is zeroed.
 */
int placement_admission(const struct placement_host *hosts, size_t nh,
			const struct placement_vm *vms, size_t nv,
			struct admission_report *rep);

#endif
