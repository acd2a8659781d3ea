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
#include <stddef.h>
#include <stdint.h>

#define VM_NAME_MAX     64      /* with the NUL */
#define VM_PATH_MAX     256
#define VM_EXTRA_MAX    1024
#define VM_MAX_DISKS    16
#define VM_MAX_VIFS     8
#define VM_MAX_HOSTS    16
#define VM_MAX_AFTER    16
#define VM_GROUP_MAX    64

/* Value ranges: the parser refuses anything outside them with file:line,
 * vm_config_check() refuses a struct outside them (e.g. off the wire). */
#define VM_MEMORY_MAX_MB        16777216ULL     /* 16 TiB */
#define VM_VCPUS_MAX            4096
#define VM_HA_PRIORITY_MAX      1000000
#define VM_HA_MAX_RESTARTS_MAX  1000
#define VM_HA_WINDOW_MIN_S      1
#define VM_HA_WINDOW_MAX_S      86400

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

/* target=xenmesh:DISK: the VM's volume VM-DISK on the SAN; the dom0 agent
 * rewrites target to the device or URL (agent/vmdisk.h), spec stays. */
#define VM_DISK_SAN_PREFIX "xenmesh:"

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

/* The inverses: 0, or -EINVAL for a name that is not one of ours. */
int vm_type_parse(const char *s, enum vm_type *t);
int vm_action_parse(const char *s, enum vm_action *a);
int vm_restart_parse(const char *s, enum vm_restart *r);

/* Defaults: type pv, vcpus 1, on_poweroff destroy, on_reboot restart,
 * on_crash destroy, ha_restart always, ha_max_restarts 3, window 600 s;
 * everything else zero/empty (memory 0 and name "" are not valid yet). */
void vm_config_init(struct vm_config *c);

/* A VM, node or anti-affinity group name: 1..VM_NAME_MAX-1 characters of
 * A-Z a-z 0-9 _ . -, not starting with '.' or '-' (names become file
 * names and command arguments). */
bool vm_name_valid(const char *s);
/* 8-4-4-4-12 hex digits, either case. */
bool vm_uuid_valid(const char *s);
/* xx:xx:xx:xx:xx:xx hex, unicast (bit 0 of the first octet clear), not
 * all zero. */
bool vm_mac_valid(const char *s);

/* A vif spec as xl.cfg writes it: comma-separated key=value.  Fills spec,
 * mac (lowercased) and bridge; any other parameter (script, ip, model,
 * rate, ...) would not reach libxl, so it is refused.  0, or -EINVAL with
 * "vif 'SPEC': why" in why. */
int vm_vif_parse(const char *spec, struct vm_vif *v, char *why, size_t whylen);

/* Every invariant of a filled vm_config (ranges, names, counts, NUL
 * termination, maxmem >= memory, maxvcpus >= vcpus, no duplicates, not
 * starting after itself): 0, or -EINVAL with the reason in why. */
int vm_config_check(const struct vm_config *c, char *why, size_t whylen);

#endif
