/* Inside the coordinator: shared by coord.c and coord_storage.c. */
#ifndef XM_COORD_INT_H
#define XM_COORD_INT_H

#include "agent.h"
#include "chain.h"
#include "methods.h"
#include "runner.h"

struct storage_fence;

struct fence_run {
	struct coord *co;
	uint32_t node;
	char name[STATE_NAME_MAX];
	struct fence_chain ch;
	struct fence_op *op;            /* method in progress */
	struct fence_action act;
	uint64_t retry_at_ms;           /* FAILED: when to try again */
	uint64_t recommit_at_ms;        /* CONFIRMED: when to commit "fenced"
					 * again if it has not applied */
	size_t logged_steps;
	uint64_t failing_since_s;       /* every method first failed (wall) */
	bool note_held_logged;          /* an old peer keeps the note out */
	const char **domains;
	size_t n_domains;
	char (*domain_names)[VM_NAME_MAX];
};

#define COORD_MIG_WATCH 64      /* more than any drain runs at once */

#define COORD_HELD_MAX 128

struct coord {
	struct agent *a;
	bool kicked;
	qb_loop_timer_handle tick;
	struct runner *runner;
	struct fence_run *runs[STATE_MAX_NODES];
	size_t n_runs;
	struct storage_fence *sf[STATE_MAX_NODES];  /* storage fences waiting */
	size_t n_sf;
	uint64_t clean_at_ms;           /* last HOST_CLEAN acted on (throttle) */
	unsigned lost_reports;          /* unsafe test build: lose-report */
	/* migrations this coordinator has watched: since when, by its
	 * monotonic clock (a wall-clock jump must not abort one) */
	struct mig_watch {
		char vm[VM_NAME_MAX];
		uint64_t since_ms;      /* the VM's migrate_since_ms: the key */
		uint64_t first_mono_ms;
	} watch[COORD_MIG_WATCH];
	/* host events that came while this coordinator's own commits were
	 * still in flight: judged once the state holds them */
	struct held_event {
		uint32_t host;
		Xenmesh__HostEvent *ev;
	} held[COORD_HELD_MAX];
	size_t n_held;
};

/* coord_storage.c */
int coord_storage_fence(void *co, const char *host, uint32_t timeout_ms,
			fence_method_done_fn done, void *data);
/* The fence run behind data is gone: never call its done. */
void coord_storage_forget(struct coord *co, void *data);
/* Storage reports (volumes, per-VM fence, storage fence, clean rejoin):
 * true when ev was one of them. */
bool coord_storage_event(struct coord *co, uint32_t host, const Xenmesh__HostEvent *ev);
/* Keep an active SAN node named (on every tick). */
void coord_storage_schedule(struct coord *co);
void coord_storage_free(struct coord *co);

#endif
