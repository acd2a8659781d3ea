/* Internals of the `xl` hypervisor driver shared by agent/hv_xl.c (the
 * driver) and agent/hv_xl_ev.c (libxl's fds and timeouts in our epoll
 * set).  Not for anyone else.  Like every user of libxl here, define
 * LIBXL_API_VERSION before including this.
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

struct xl_logger {
	xentoollog_logger vtable;       /* first: libxl only sees this */
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
};

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
