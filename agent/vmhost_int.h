/* Internals of the host side shared by agent/vmhost.c (domains against
 * the state) and agent/migrate.c (live migrations).  Not for anyone else.
 */
#ifndef XM_VMHOST_INT_H
#define XM_VMHOST_INT_H

#include <qb/qbloop.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "hv.h"

#define RECONCILE_PERIOD_MS 1000
#define STOP_TIMEOUT_MS     30000
#define MEMO_MAX            4096
/* A report the state has not taken in by then is sent again: one that
 * went into the group just before a ring change is dropped as stale, and
 * a lost STARTED or EXITED would leave the VM starting, or "running" with
 * no domain, for ever. */
#define REPORT_RESEND_MS    3000

enum {
	DONE_CREATE = 1,        /* create tried for this generation */
	DONE_STARTED = 2,       /* STARTED reported */
	DONE_GONE = 4,          /* EXITED / STOPPED / START_FAILED reported */
	DONE_SHUTDOWN = 8,      /* shutdown asked */
	DONE_WAIT_LOGGED = 16,  /* "waiting for the SAN" said once */
	DONE_MIGRATE = 32,      /* this host's part in its migration begun */
	DONE_MIGRATE_GONE = 64, /* its failure reported */
	DONE_DOOMED_LOGGED = 128, /* "not starting: self-fence begun" said once */
	DONE_CREATING = 256,    /* the driver builds it: HV_EVENT_CREATED ends */
};

struct memo {
	char name[VM_NAME_MAX];
	uint64_t gen;
	unsigned done;
	uint64_t shutdown_at_ms;
	uint64_t mig_since;     /* the migration (migrate_since_ms) the
				 * DONE_MIGRATE* bits are about */
	/* the last fact reported about this generation, until the state
	 * shows it taken in (sent again every REPORT_RESEND_MS) */
	int fact;               /* a Xenmesh__HostEventKind, 0: none */
	int fact_exit;          /* its Xenmesh__VmExit */
	char fact_reason[HV_REASON_MAX];
	uint64_t fact_bytes;    /* HOST_VM_SAVED: the image's length */
	uint64_t fact_at_ms;
};

struct migrate;

struct vmhost {
	struct agent *a;
	const struct hv_ops *ops;
	struct hv *hv;
	int event_fd;
	bool kicked;
	qb_loop_timer_handle timer;
	struct memo *memo;
	size_t n_memo;
	char (*unmanaged)[VM_NAME_MAX];
	const char **unmanaged_ptrs;
	size_t n_unmanaged;
	unsigned ha_domains;
	unsigned creating;      /* creates begun, HV_EVENT_CREATED not seen */
	unsigned stale_left;            /* stale domains a destroy failed on */
	bool held_logged;               /* "waiting to be taken back" said */
	struct vmdisk *disk;
	uint64_t clean_at_ms;           /* last HOST_CLEAN sent */
	struct migrate *mig;            /* agent/migrate.c */
	struct save_job *saves;         /* agent/vmsave.c */
};

uint64_t vmhost_now_ms(void);
struct memo *memo_get(struct vmhost *vh, const char *name, uint64_t gen);
/* Report a fact about a VM (start, start failure, end); 0 when it went
 * into the group, and then it is sent again until the state takes it in. */
int report_fact(struct vmhost *vh, struct memo *m, Xenmesh__HostEventKind kind,
		const struct vm_rec *v, Xenmesh__VmExit exit, const char *reason);
/* agent/vmhost_report.c: facts reported and not yet taken in are sent
 * again (from reconcile). */
void facts_resend(struct vmhost *vh);
/* The same with the image's length of HOST_VM_SAVED. */
int report_fact_bytes(struct vmhost *vh, struct memo *m, Xenmesh__HostEventKind kind,
		      const struct vm_rec *v, const char *reason, uint64_t bytes);
/* Tell the coordinator about instance v; 0 when it went into the group. */
int report(struct vmhost *vh, Xenmesh__HostEventKind kind, const struct vm_rec *v,
	   Xenmesh__VmExit exit, const char *reason);
void storage_refused(struct vmhost *vh, const char *vm, const char *why);
/* The domain of that name in d[0..n), or NULL. */
const struct hv_domain *dom_find(const struct hv_domain *d, size_t n,
				 const char *name);

/* ---- agent/migrate.c ------------------------------------------------------- */

int migrate_open(struct vmhost *vh);
void migrate_close(struct vmhost *vh);
/* Start, follow and end this host's part in migrations (from reconcile). */
void migrate_reconcile(struct vmhost *vh, const struct hv_domain *doms, size_t n);
/* A transfer of (vm, gen) is under way here: its domain is the job's. */
bool migrate_busy(struct vmhost *vh, const char *vm, uint64_t gen);
unsigned migrate_incoming(const struct vmhost *vh);
/* HV_EVENT_MIGRATE_SENT / _RECEIVED. */
void migrate_hv_event(struct vmhost *vh, const struct hv_event *ev);

/* ---- agent/vmsave.c ---------------------------------------------------------- */

struct vm_config;
/* Start, follow and end this host's saves (from reconcile). */
void vmsave_reconcile(struct vmhost *vh, const struct hv_domain *doms, size_t n);
/* A save or resume of (vm, gen) is under way: its domain is the job's. */
bool vmsave_busy(struct vmhost *vh, const char *vm, uint64_t gen);
unsigned vmsave_incoming(const struct vmhost *vh);
/* MIGRATE_SENT / _RECEIVED of a save job: true when it was one's. */
bool vmsave_hv_event(struct vmhost *vh, const struct hv_event *ev);
/* Start v (saved_gen set) from its image: 0 (the end is reported
 * later), or -errno with err. */
int vmsave_resume_begin(struct vmhost *vh, const struct vm_rec *v,
			const struct vm_config *cfg, char *err, size_t errlen);
void vmsave_close(struct vmhost *vh);

#endif
