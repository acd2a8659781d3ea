/* The HA simulator's shared parts (tests/sim/sim.c): its context and the
 * helpers the event modules use. */
#ifndef XM_SIM_H
#define XM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "state.h"

#define MAX_FENCING STATE_MAX_NODES

struct sim {
	const char *dir;
	struct state st;
	uint64_t now;
	bool ha_enabled;                /* setup: the quorum rules allow HA */
	bool quorate;                   /* a coordinator exists and decides */
	bool ack;                       /* hosts report their starts */
	uint32_t fencing[MAX_FENCING];  /* fence runs in progress */
	size_t n_fencing;
	FILE *out;
	char err[512];
};

/* A setup or events error at file:line: fills s->err, returns -EINVAL. */
int fail(struct sim *s, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Apply op as the next update; refused: s->err says why. */
int commit(struct sim *s, Xenmesh__Op *op);
uint32_t node_id(struct sim *s, const char *name);
/* One line of the log: "TIME text". */
void emit(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* host reports kind about vm's instance; the coordinator decides. */
int host_event_from(struct sim *s, Xenmesh__HostEventKind kind, const char *vm,
		    uint32_t host, Xenmesh__VmExit how, const char *reason,
		    uint64_t bytes, int line);

/* tests/sim/sim_save.c: setup word savevol=1 (the VM's save volume,
 * ready); events save, vm-saved, vm-save-failed, start-fresh, check.
 * 1 when tok is none of those. */
int sim_save_volume(struct sim *s, const char *vm, uint64_t memory_mb, int line);
int sim_save_event(struct sim *s, char **tok, int n, int line);

#endif
