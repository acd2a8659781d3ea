/* The VM commands of agentctl in xenmeshd: define, undefine, start, stop,
 * restart and cleanup.
 *
 * Part of the agentctl endpoint (ctl_server.c), kept in its own file for
 * size: ctl_server.c (with ctl_access.c) checks the client's rights and hands a VM mutation
 * here; this file turns it into an Op (parsing xl.cfg with xlcfg_parse)
 * and gives it back to ctl_server_submit(), which tracks it until the
 * cluster has decided.  The functions of ctl_server.c that this file and
 * ctl_fence.c use are declared below, not in ctl_server.h, because
 * nothing else should call them.
 *
 * `vm restart` is two changes: want stopped, then, once the VM is no
 * longer active (stopped, failed or unplaceable), want running again.
 * Committing both at once would let the coordinator see only the second
 * and never stop the VM.  The wait polls the replicated state; it goes on
 * when the client leaves (a VM left stopped half-way would surprise) and
 * gives up after CTL_VM_RESTART_WAIT_S, leaving the VM wanted stopped.
 */
#ifndef XM_CTL_VM_H
#define XM_CTL_VM_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

#define CTL_VM_RESTART_WAIT_S   300     /* agentctl waits a little longer */
#define CTL_MUTATION_TEXT_MAX   256

struct ctl_vm_restart;

/* The VM part of the endpoint's state, inside struct ctl_server. */
struct ctl_save_wait;

struct ctl_vm {
	struct ctl_vm_restart *waiting;         /* restarts waiting for a stop */
	struct ctl_save_wait *saves;            /* vm save: ctl_save.c */
};

/* ---- provided by ctl_vm.c ------------------------------------------- */

/* A VM mutation (CTL_VM_DEFINE .. CTL_VM_CLEANUP) from a client allowed to
 * make it; answered on c, now or later. */
void ctl_vm_request(struct agent *a, struct ctl_vm *vm, qb_ipcs_connection_t *c,
		    uint32_t uid, const Xenmesh__CtlRequest *req);
/* The xl.cfg texts (up to 256 KiB each) would soon overflow the IPC
 * buffer of a status answer: frees all of them in st (unpacked with the
 * default allocator) but the one of the VM named keep (may be NULL). */
void ctl_vm_view_trim(Xenmesh__State *st, const char *keep);
/* Cancels the restarts still waiting (xenmeshd stops). */
void ctl_vm_stop(struct ctl_vm *vm);

struct ctl_mutation;
/* m for ctl_server_submit: who, the answer on success, what (logged). */
void ctl_vm_mutation_init(struct ctl_mutation *m, uint32_t uid, const char *done,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The VM named by args[0] (with at most max_args args), or NULL after
 * answering c why not. */
const struct vm_rec *ctl_vm_find(struct agent *a, qb_ipcs_connection_t *c,
				 const Xenmesh__CtlRequest *req, size_t max_args,
				 const char *cmd);

/* ---- provided by ctl_save.c ------------------------------------------ */

/* vm save (on the active SAN node: it makes the save volume) and vm
 * resume; answered on c, now or later. */
void ctl_save_request(struct agent *a, struct ctl_vm *vm, qb_ipcs_connection_t *c,
		      uint32_t uid, const Xenmesh__CtlRequest *req);
/* Cancels the saves still waiting (xenmeshd stops). */
void ctl_save_stop(struct ctl_vm *vm);

/* ---- provided by ctl_server.c for ctl_vm.c and ctl_fence.c ------------ */

/*
 * Called once when a submitted mutation is finished, instead of answering
 * the client: result 0 or negative with reason (may be NULL); c is the
 * client (a borrowed reference), NULL when it left meanwhile.  Also called
 * with -ECANCELED when xenmeshd stops first.
 */
typedef void ctl_then_fn(struct agent *a, void *data, qb_ipcs_connection_t *c,
			 int result, const char *reason);

struct ctl_mutation {
	uint32_t uid;                           /* who asks (event log) */
	uint32_t node;                          /* node it is about, 0 none */
	char what[CTL_MUTATION_TEXT_MAX];       /* "vm start web1 on h2" */
	char done[CTL_MUTATION_TEXT_MAX];       /* answer on success, "" none */
	ctl_then_fn *then;                      /* NULL: answer the client */
	void *then_data;
};

/* Logs m, asks the cluster for op and answers c (may be NULL) when it has
 * decided, or at once when it refuses; with m->then set, hands the outcome
 * to it instead (always exactly once). */
void ctl_server_submit(struct agent *a, qb_ipcs_connection_t *c,
		       const struct ctl_mutation *m, const Xenmesh__Op *op);
/* Answers with a result and a message only (message may be NULL). */
void ctl_server_reply(qb_ipcs_connection_t *c, int result, const char *message);
/* Answers with resp (an error answer instead when it does not fit). */
void ctl_server_answer(qb_ipcs_connection_t *c, const Xenmesh__CtlResponse *resp);

#endif
