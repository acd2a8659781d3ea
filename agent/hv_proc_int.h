/* Internals of the `proc` hypervisor driver, shared by agent/hv_proc.c
 * (domains, deaths, events) and agent/hv_proc_mig.c (live migration).
 */
#ifndef XM_HV_PROC_INT_H
#define XM_HV_PROC_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "hv.h"

/* What an entry of the epoll set is (epoll_event.data.u64): a pidfd is
 * its fd number; a migration stream PROC_TAG_MIG | fd. */
#define PROC_TAG_EVFD     UINT64_MAX
#define PROC_TAG_INOTIFY  (UINT64_MAX - 1)
#define PROC_TAG_TIMER    (UINT64_MAX - 2)
#define PROC_TAG_MIG      (UINT64_C(1) << 32)

/* Pause and resume requests to the guest (tests/guest.c): SIGRTMIN queued
 * with this value, so that the guest takes them in the order sent. */
#define PROC_REQ_PAUSE    1
#define PROC_REQ_RESUME   2

/* What a pid file says. */
struct proc_rec {
	pid_t pid;
	uint64_t generation;
	uint64_t start;                 /* /proc/PID/stat starttime */
	uint64_t memory_mb;
};

struct proc_dom {
	char name[VM_NAME_MAX];
	struct proc_rec rec;
	int pidfd;
};

struct proc_mig;                        /* hv_proc_mig.c */

struct hv {
	char host[VM_NAME_MAX];
	char dir[PATH_MAX];             /* RUN_DIR/proc */
	char guest[PATH_MAX];
	char initiator[224];            /* for iscsi:// disks */
	char replacement[16];           /* seconds, as a guest argument */
	uint64_t host_mem_mb;
	int epfd;
	int evfd;
	int infd;                       /* inotify: files appearing in dir */
	int tfd;                        /* timerfd: migration deadlines */
	struct proc_dom *doms;
	size_t n_doms, cap_doms;
	struct hv_event *q;             /* FIFO: q[q_head .. q_len) */
	size_t q_head, q_len, q_cap;
	struct proc_mig *migs;          /* transfers under way */
};

/* What proc_start() does. */
enum proc_start_mode {
	PROC_START_CREATE,              /* create() */
	PROC_START_INCOMING,            /* from NAME.inc, paused */
	PROC_START_CHECK,               /* refuse what create() would, start nothing */
};

/* How a domain's end is reported by proc_finish(). */
enum proc_end {
	PROC_END_EXITED,                /* its own event: poweroff, crash, ... */
	PROC_END_DESTROYED,             /* HV_EVENT_DESTROYED */
	PROC_END_SILENT,                /* none: a failed incoming migration */
};

/* ---- hv_proc.c ------------------------------------------------------------ */

bool proc_name_valid(const char *name);
int proc_path(const struct hv *hv, const char *name, const char *suffix,
	      char *out, size_t len);
void proc_unlink(const struct hv *hv, const char *name, const char *suffix);
bool proc_file_exists(const struct hv *hv, const char *name, const char *suffix);
/* NAME + suffix, whole or not at all (temp file + rename). */
int proc_file_write(const struct hv *hv, const char *name, const char *suffix,
		    const char *data, size_t len);
/* Queue an event; result and reason only for the MIGRATE_* kinds. */
int proc_queue_result(struct hv *hv, enum hv_event_kind kind, const char *name,
		      uint64_t generation, int result, const char *reason);
int proc_lookup(struct hv *hv, const char *name, struct proc_dom **d);
bool proc_dom_exited(const struct proc_dom *d);
int proc_finish(struct hv *hv, struct proc_dom *d, enum proc_end how);
int proc_pidfd_signal(int pidfd, int sig);
/* A pause or resume request (PROC_REQ_*) to the guest. */
int proc_request(int pidfd, int req);
/* Start the guest as create() does; *pid its pid (pid may be NULL). */
int proc_start(struct hv *hv, const struct vm_config *cfg, uint64_t generation,
	       enum proc_start_mode mode, pid_t *pid);
uint64_t proc_now_ms(void);

/* ---- hv_proc_mig.c ----------------------------------------------------------- */

int proc_mig_open(struct hv *hv);
/* Drops every transfer, with no event, and closes what proc_mig_open()
 * opened (the driver closes). */
void proc_mig_close(struct hv *hv);
int proc_mig_send(struct hv *hv, const char *name, int fd);
int proc_mig_receive(struct hv *hv, const struct vm_config *cfg,
		     uint64_t generation, int fd);
int proc_mig_restore(struct hv *hv, const struct vm_config *cfg,
		     uint64_t generation, uint64_t saved_generation, int fd);
int proc_mig_resume(struct hv *hv, const char *name);
/* An entry of the epoll set is ready: -ENOENT when it is not one of the
 * transfers' (a stream, the inotify watch, the timer). */
int proc_mig_on_event(struct hv *hv, const struct epoll_event *e);
/* Domain NAME, guest pid (0: none started), ends (how: as proc_finish);
 * its transfer ends with it.  Returns how the end is to be reported:
 * PROC_END_SILENT for a guest that was still being received (the failed
 * MIGRATE_RECEIVED says it all). */
enum proc_end proc_mig_dom_gone(struct hv *hv, const char *name, pid_t pid,
				enum proc_end how);
/* A receive of NAME is under way. */
bool proc_mig_receiving(const struct hv *hv, const char *name);
/* Memory promised to receives whose guest is not started yet. */
uint64_t proc_mig_reserved_mb(const struct hv *hv);

#endif
