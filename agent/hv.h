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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmconf.h"

struct hv_domain {
	char name[VM_NAME_MAX];
	uint32_t domid;                 /* xl: domid; proc: pid */
	uint64_t memory_mb;
	uint64_t generation;            /* 0 when it carries none (unmanaged) */
	bool paused;                    /* not executing: suspended by an
					 * outgoing migration, or received by
					 * an incoming one and not yet resumed */
};

enum hv_event_kind {
	HV_EVENT_POWEROFF = 1,          /* clean shutdown from inside */
	HV_EVENT_REBOOT,                /* the guest asked to reboot */
	HV_EVENT_CRASH,                 /* crashed, or killed */
	HV_EVENT_DESTROYED,             /* destroyed by us (hv_destroy) */
	HV_EVENT_FENCED,                /* its storage refused this host */
	HV_EVENT_STORAGE_LOST,          /* its storage stayed unreachable */
	HV_EVENT_MIGRATE_SENT,          /* migrate_send ended: see result */
	HV_EVENT_MIGRATE_RECEIVED,      /* migrate_receive ended: see result */
	HV_EVENT_CREATED,               /* a create in progress ended: see result */
};

#define HV_REASON_MAX 160

struct hv_event {
	enum hv_event_kind kind;
	char name[VM_NAME_MAX];
	uint64_t generation;
	int result;                     /* MIGRATE_*, CREATED: 0, or a negative
					 * errno */
	char reason[HV_REASON_MAX];     /* and then what went wrong */
};

struct hv_params {
	const char *host_name;          /* this node's name */
	const char *run_dir;            /* driver bookkeeping (proc: pid files) */
	uint64_t host_mem_mb;           /* proc: the memory it pretends to have */
	const char *guest_path;         /* proc: the test guest binary */
	const char *initiator;          /* proc: iSCSI name for iscsi:// disks */
	unsigned replacement_s;         /* proc: how long a lost portal is awaited */
	bool stop_copy;                 /* xl: migrations suspend the domain first
					 * (no live pre-copy, which needs Xen's
					 * log-dirty mode) */
};

struct hv;

struct hv_ops {
	const char *name;
	int (*open)(struct hv **hv, const struct hv_params *p);
	void (*close)(struct hv *hv);
	/* Running domains (dom0 excluded); *out malloc'd. */
	int (*list)(struct hv *hv, struct hv_domain **out, size_t *n);
	/*
	 * Start a domain of cfg as instance generation.  Returns at once (an
	 * error only for what can be told at once: bad arguments, the name
	 * taken, no memory) and the driver builds the domain without blocking
	 * the agent's loop (libxl's create takes seconds, minutes on a
	 * starved dom0).  HV_EVENT_CREATED ends it: result 0, it runs; < 0,
	 * nothing of it is left and reason says why.  Meanwhile list() shows
	 * the domain, once it exists, as that instance's (xl: paused), and
	 * destroy() cancels the create (the event still comes).
	 */
	int (*create)(struct hv *hv, const struct vm_config *cfg, uint64_t generation);
	/* Immediate, like `xl destroy`; 0 also when it is already gone. */
	int (*destroy)(struct hv *hv, const char *name);
	/* Ask the guest to shut down; completion comes as an event. */
	int (*shutdown)(struct hv *hv, const char *name);
	int (*host_memory)(struct hv *hv, uint64_t *total_mb, uint64_t *free_mb);
	/*
	 * Live migration (ARCHITECTURE.md "Live migration").  fd is one end of
	 * a connected stream socket the agent pumps through the authenticated
	 * peer channel; the driver reads or writes it without blocking the
	 * agent's loop and never closes it.  Both calls return at once (an
	 * error only for what can be told at once: no such domain, bad
	 * arguments); the end comes as an event of the domain's name.
	 *
	 * migrate_send (source): suspend the running domain and write its
	 * whole migration stream to fd.  HV_EVENT_MIGRATE_SENT result 0: all
	 * written, the domain is suspended and executes nothing; it stays so
	 * (list() shows it paused) until destroy() after the commit or
	 * resume() after an abort.  result < 0: the stream failed; the domain
	 * may be suspended or not, resume() makes it run either way.
	 *
	 * migrate_receive (destination): read a stream from fd and create the
	 * domain from it, with cfg and generation as create() would, paused.
	 * HV_EVENT_MIGRATE_RECEIVED result 0: the domain exists, paused,
	 * complete; it runs only after resume().  result < 0: nothing of it is
	 * left.  The stream ends only once the source has suspended.
	 *
	 * The agent aborts a transfer in flight by shutting fd down; the
	 * driver then ends it with an error event.
	 */
	int (*migrate_send)(struct hv *hv, const char *name, int fd);
	/* The same for `vm save` (agent/vmsave.c): the domain is suspended
	 * first, then its whole state written (no live pre-copy); the same
	 * HV_EVENT_MIGRATE_SENT ends it. */
	int (*save)(struct hv *hv, const char *name, int fd);
	int (*migrate_receive)(struct hv *hv, const struct vm_config *cfg,
			       uint64_t generation, int fd);
	/* The same for a save image (`vm save`, agent/vmsave.c): the stream
	 * is of the earlier instance saved_generation (<= generation), and
	 * the domain goes on as instance generation, where it stopped. */
	int (*restore)(struct hv *hv, const struct vm_config *cfg,
		       uint64_t generation, uint64_t saved_generation, int fd);
	/* Let a paused domain run: the source's after an aborted migration,
	 * the destination's after the commit.  0 also when it already runs. */
	int (*resume)(struct hv *hv, const char *name);
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
