/* Internals of the `xl` hypervisor driver shared by agent/hv_xl.c (the
 * driver), agent/hv_xl_ev.c (libxl's fds and timeouts in our epoll set)
 * and agent/hv_xl_mig.c (libxl's asynchronous operations: create, live
 * migration, save and restore).  Not for anyone else.  Like
 * every user of libxl here, define LIBXL_API_VERSION before including
 * this.
 */
#ifndef XM_HV_XL_INT_H
#define XM_HV_XL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <libxl.h>
#include <libxl_event.h>
#include <xentoollog.h>

#include "hv.h"

/* One fd registration of libxl's. */
struct xl_fdreg {
	int fd;                 /* libxl's */
	int dup;                /* ours, in the epoll set while events != 0 */
	short events;
	void *for_libxl;
	struct xl_fdreg *next;
};

/* One timeout of libxl's; abs {0,0} means as soon as possible. */
struct xl_toreg {
	struct timeval abs;
	void *for_libxl;
	struct xl_toreg *next;  /* in hv->timeouts while pending */
};

struct xl_dom {
	char name[VM_NAME_MAX];
	uint32_t domid;
	uint64_t generation;
	uint64_t id;                    /* for_user of its death events */
	libxl_evgen_domain_death *evgen;
	bool dead;                      /* event queued: drop it, see xl_reap() */
	bool destroy;                   /* and destroy its remains */
};

enum xl_op {
	XL_OP_SEND,                     /* migrate_send, save */
	XL_OP_RECEIVE,                  /* migrate_receive, restore */
	XL_OP_CREATE,                   /* create */
};

/* One asynchronous libxl operation in flight (a migration's end, a save
 * or restore, a create), from its start until event_next() turns its
 * completion into an event.  Its address is the ao_how's for_callback,
 * so it stays put (and undisposed) until libxl is done. */
struct xl_mig {
	struct hv *hv;
	struct xl_mig *next;
	enum xl_op op;
	bool done;                      /* libxl called back: rc is set */
	bool cancelled;                 /* create: destroy() came first */
	int rc;                         /* libxl's ERROR_*, 0 */
	char name[VM_NAME_MAX];
	uint64_t generation;
	uint32_t domid;                 /* send: the domain; receive, create:
					 * libxl's output, valid once done */
	libxl_asyncop_how how;          /* as given: libxl_ao_abort finds it */
	libxl_domain_config dc;         /* receive, create: libxl uses both */
	libxl_domain_restore_params params; /* until it completes */
	/* the first error libxl logged while it was the only one in flight
	 * (its reason says it); err_shared: another was in flight too, so
	 * the errors logged meanwhile cannot be told apart */
	char first_err[HV_REASON_MAX];
	bool err_shared;
};

struct xl_logger {
	xentoollog_logger vtable;       /* first: libxl only sees this */
	struct hv *hv;
};

struct hv {
	libxl_ctx *ctx;
	struct xl_logger logger;
	struct xs_handle *xs;
	int epfd, evfd, tfd;
	struct xl_fdreg *fds;
	struct xl_toreg *timeouts;
	struct xl_dom *doms;
	size_t n_doms, cap_doms;
	uint64_t next_id;
	struct hv_event *q;             /* FIFO: q[q_head .. q_len) */
	size_t q_head, q_len, q_cap;
	struct xl_mig *migs;            /* in flight, newest first */
	bool stop_copy;                 /* migrations: suspend first */
};

/* ---- hv_xl.c: shared with hv_xl_mig.c ------------------------------------ */

/* An incoming migration or a create of name not finished yet (libxl may
 * have called back, its generation not written yet): its generation and
 * paused set (the domain libxl is building is that instance's); else
 * nothing. */
void xl_mig_building(struct hv *hv, const char *name, uint64_t *generation,
		     bool *paused);

/* Queue an event (result 0, no reason) / a migration's end. */
int xl_queue(struct hv *hv, enum hv_event_kind kind, const char *name,
	     uint64_t generation);
int xl_queue_result(struct hv *hv, enum hv_event_kind kind, const char *name,
		    uint64_t generation, int result, const char *reason);

/* Tracked domains: the death watch of each managed domain. */
struct xl_dom *xl_dom_by_domid(struct hv *hv, uint32_t domid);
int xl_track(struct hv *hv, const char *name, uint32_t domid,
	     uint64_t generation);
void xl_untrack(struct hv *hv, struct xl_dom *d);
/* Its end is queued as kind, and its remains destroyed or not, as if its
 * death watch had said so. */
void xl_dom_end(struct hv *hv, struct xl_dom *d, enum hv_event_kind kind,
		bool destroy);
/* The event for a shutdown reason; *ignore for a suspend (no end). */
enum hv_event_kind xl_shutdown_kind(uint8_t reason, bool *ignore);
/* Not executing and not ended: paused, or suspended (a migration). */
bool xl_dominfo_paused(const libxl_dominfo *info);
bool xl_dominfo_suspended(const libxl_dominfo *info);

/* The generation in xenstore. */
int xl_gen_write(struct hv *hv, uint32_t domid, uint64_t generation);
uint64_t xl_gen_read(struct hv *hv, uint32_t domid);

/* name -> domid: 0; -EINVAL; -ENOENT no such domain; -EPERM dom0; -EIO. */
int xl_lookup(struct hv *hv, const char *name, uint32_t *domid);
/* 0 when no domain has the name (a create may take it); -EEXIST. */
int xl_name_free(struct hv *hv, const char *name);
/* cfg -> dc as xl would (dc initialised by the caller); logs why not. */
int xl_map(const struct vm_config *cfg, libxl_domain_config *dc);

/* ---- hv_xl_mig.c ----------------------------------------------------------- */

int xl_migrate_send(struct hv *hv, const char *name, int fd);
int xl_save(struct hv *hv, const char *name, int fd);
int xl_migrate_receive(struct hv *hv, const struct vm_config *cfg,
		       uint64_t generation, int fd);
int xl_restore(struct hv *hv, const struct vm_config *cfg, uint64_t generation,
	       uint64_t saved_generation, int fd);
int xl_resume(struct hv *hv, const char *name);
/* create(): libxl_domain_create_new, asynchronous. */
int xl_create(struct hv *hv, const struct vm_config *cfg, uint64_t generation);
/* A create of name in flight is cancelled (aborted; whatever it made is
 * destroyed when libxl ends it): true and its generation; else false. */
bool xl_create_cancel(struct hv *hv, const char *name, uint64_t *generation);

/* hv_xl_log.c: hv->logger, handed to libxl_ctx_alloc */
void xl_logger_init(struct hv *hv);

/* libxl logged an error (TEXT, "context: message"): the operation in
 * flight keeps the first, for its reason. */
void xl_mig_log_error(struct hv *hv, const char *text);
/* Turn the completed migrations into events (event_next). */
void xl_mig_finish(struct hv *hv);
/* Some completed and not finished yet. */
bool xl_mig_completed(struct hv *hv);

/* Abort the operations in flight and wait a while for libxl to end them
 * (close).  false: some are left, libxl still holds them, and its context
 * must not be freed (libxl_ctx_free asserts that nothing is pending). */
bool xl_mig_close(struct hv *hv);

/* ---- hv_xl_ev.c ---------------------------------------------------------- */

/* The hooks to give libxl_osevent_register_hooks(), with hv as user:
 * libxl's fds go into hv->epfd as dups, its timeouts into hv->tfd. */
extern const libxl_osevent_hooks xl_osevent_hooks;

/* Take one fd registration out of the epoll set and free it (at close,
 * for what libxl_ctx_free left registered). */
void xl_fd_free(struct hv *hv, struct xl_fdreg *r);

/* Hand what became ready in hv->epfd to libxl (up to XL_PUMP_MAX
 * dispatches); libxl's callbacks may queue events meanwhile. */
void xl_pump(struct hv *hv);

#endif
