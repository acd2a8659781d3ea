/* A VM definition: what xl.cfg says, in the form the agent uses.
 *
 * Pure data.  agent/xlcfg.c fills it from xl.cfg text with libxlutil (the
 * parser xl itself uses); the xl driver maps it into libxl_domain_config,
 * the proc driver runs the test guest from it, placement reads memory and
 * the HA keys.  Every key of xl.cfg that is not represented here is
 * refused at parse time with file:line, never dropped silently.
 */
#ifndef XM_VMCONF_H
#define XM_VMCONF_H

#include <stdbool.h>
#include <stdint.h>

#define VM_NAME_MAX     64      /* with the NUL */
#define VM_PATH_MAX     256
#define VM_EXTRA_MAX    1024
#define VM_MAX_DISKS    16
#define VM_MAX_VIFS     8
#define VM_MAX_HOSTS    16
#define VM_MAX_AFTER    16
#define VM_GROUP_MAX    64

enum vm_type {
	VM_TYPE_PV = 1,
	VM_TYPE_PVH,
	VM_TYPE_HVM,
};

/* xl's on_poweroff / on_reboot / on_crash actions. */
enum vm_action {
	VM_ACTION_DESTROY = 1,
	VM_ACTION_RESTART,
	VM_ACTION_RENAME_RESTART,
	VM_ACTION_PRESERVE,
	VM_ACTION_COREDUMP_DESTROY,
	VM_ACTION_COREDUMP_RESTART,
	VM_ACTION_SOFT_RESET,
};

enum vm_restart {
	VM_RESTART_ALWAYS = 1,     /* any stop not asked for by an admin */
	VM_RESTART_ON_FAILURE,     /* crashes and deaths, not clean poweroffs */
	VM_RESTART_NEVER,
};

struct vm_disk {
	char spec[VM_PATH_MAX * 2];     /* the disk string as written */
	char target[VM_PATH_MAX];       /* path or URL of the backing store */
	char vdev[16];                  /* xvda ... */
	char format[16];                /* raw, qcow2 ... */
	bool readonly;
};

struct vm_vif {
	char spec[VM_PATH_MAX];         /* the vif string as written */
	char mac[18];                   /* "" when xl would pick one */
	char bridge[32];
};

struct vm_ha {
	uint32_t priority;              /* ha_priority, higher restarts first (default 0) */
	enum vm_restart restart;        /* ha_restart (default always) */
	uint32_t max_restarts;          /* ha_max_restarts (default 3) */
	uint32_t restart_window_s;      /* ha_restart_window (default 600) */
	uint32_t n_hosts;
	char hosts[VM_MAX_HOSTS][VM_NAME_MAX];      /* ha_hosts, ordered */
	char anti_affinity[VM_GROUP_MAX];           /* ha_anti_affinity, "" none */
	uint32_t n_after;
	char after[VM_MAX_AFTER][VM_NAME_MAX];      /* ha_start_after */
};

struct vm_config {
	char name[VM_NAME_MAX];
	enum vm_type type;
	uint64_t memory_mb;
	uint64_t maxmem_mb;             /* = memory_mb when not given */
	uint32_t vcpus;                 /* default 1 */
	uint32_t maxvcpus;              /* = vcpus when not given */
	char kernel[VM_PATH_MAX];
	char ramdisk[VM_PATH_MAX];
	char extra[VM_EXTRA_MAX];       /* kernel command line */
	char root[VM_PATH_MAX];
	char bootloader[VM_PATH_MAX];
	char uuid[37];
	uint32_t n_disks;
	struct vm_disk disks[VM_MAX_DISKS];
	uint32_t n_vifs;
	struct vm_vif vifs[VM_MAX_VIFS];
	enum vm_action on_poweroff;     /* default destroy */
	enum vm_action on_reboot;       /* default restart */
	enum vm_action on_crash;        /* default destroy */
	struct vm_ha ha;
};

const char *vm_type_name(enum vm_type t);          /* "pv" | "pvh" | "hvm" */
const char *vm_action_name(enum vm_action a);      /* "destroy" ... as xl spells them */
const char *vm_restart_name(enum vm_restart r);    /* "always" ... */

#endif
