/* Hypervisor drivers: one ops table with designated initializers.
 * `xl` (agent/hv_xl.c) runs on libxenlight; `proc` (agent/hv_proc.c) runs
 * the test guest as a process for the rig and the demo.
 *
 * A domain carries a generation: the replicated counter of the VM's
 * instance when it was started.  After an agent restart the generation
 * tells the current instance from a stale one that must be destroyed.
 */
#ifndef XM_HV_H
#define XM_HV_H

#include <stddef.h>
#include <stdint.h>

#include "vmconf.h"

struct hv_domain {
	char name[VM_NAME_MAX];
	uint32_t domid;                 /* xl: domid; proc: pid */
	uint64_t memory_mb;
	uint64_t generation;            /* 0 when it carries none (unmanaged) */
};

enum hv_event_kind {
	HV_EVENT_POWEROFF = 1,          /* clean shutdown from inside */
	HV_EVENT_REBOOT,                /* the guest asked to reboot */
	HV_EVENT_CRASH,                 /* crashed, or killed */
	HV_EVENT_DESTROYED,             /* destroyed by us (hv_destroy) */
	HV_EVENT_FENCED,                /* its storage refused this host */
	HV_EVENT_STORAGE_LOST,          /* its storage stayed unreachable */
};

struct hv_event {
	enum hv_event_kind kind;
	char name[VM_NAME_MAX];
	uint64_t generation;
};

struct hv_params {
	const char *host_name;          /* this node's name */
	const char *run_dir;            /* driver bookkeeping (proc: pid files) */
	uint64_t host_mem_mb;           /* proc: the memory it pretends to have */
	const char *guest_path;         /* proc: the test guest binary */
	const char *initiator;          /* proc: iSCSI name for iscsi:// disks */
	unsigned replacement_s;         /* proc: how long a lost portal is awaited */
};

struct hv;

struct hv_ops {
	const char *name;
	int (*open)(struct hv **hv, const struct hv_params *p);
	void (*close)(struct hv *hv);
	/* Running domains (dom0 excluded); *out malloc'd. */
	int (*list)(struct hv *hv, struct hv_domain **out, size_t *n);
	int (*create)(struct hv *hv, const struct vm_config *cfg, uint64_t generation);
	/* Immediate, like `xl destroy`; 0 also when it is already gone. */
	int (*destroy)(struct hv *hv, const char *name);
	/* Ask the guest to shut down; completion comes as an event. */
	int (*shutdown)(struct hv *hv, const char *name);
	int (*host_memory)(struct hv *hv, uint64_t *total_mb, uint64_t *free_mb);
	/* fd that becomes readable when events are pending (for qb_loop). */
	int (*event_fd)(struct hv *hv);
	/* 0 one event returned; -EAGAIN none pending. */
	int (*event_next)(struct hv *hv, struct hv_event *ev);
};

extern const struct hv_ops hv_proc_ops;
extern const struct hv_ops hv_xl_ops;

/* The driver of that name ("xl", "proc"), NULL when not built in. */
const struct hv_ops *hv_driver_find(const char *name);

#endif
