/* Inside the SAN side of xenmeshd: shared by san.c (targets, portal,
 * volumes), san_mirror.c (DRBD) and san_view.c (agentctl). */
#ifndef XM_SAN_INT_H
#define XM_SAN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "cmdseq.h"
#include "drbd.h"
#include "san_plan.h"
#include "tgt.h"

#define SAN_MEMO_MAX   1024
#define SAN_RES_MAX    256              /* mirrored volumes tracked */

enum portal_state { PORTAL_UNKNOWN, PORTAL_DOWN, PORTAL_UP };

/* What a volume's memo entry stands for, beside its vol_state values
 * (work reported for that state): log lines said once in a while. */
enum {
	MEMO_SPLIT_BRAIN = 0x100,
	MEMO_NOT_EXPORTED,
};

struct report_memo {
	char name[STATE_NAME_MAX + 8];  /* "vm:NAME", volume, "fenced:HOST" */
	uint64_t gen;                   /* generation or state seq */
	uint64_t at_ms;
};

/* One mirrored volume as this node's DRBD shows it. */
struct san_res {
	char name[VOL_NAME_MAX];
	bool lv_made;                   /* its LV exists here */
	bool fresh;                     /* made by us, never synced: may be forced once */
	bool res_written;               /* /etc/drbd.d/NAME.res is current */
	bool up;
	bool alerted_split_brain;       /* split-brain alert sent for this one */
	struct drbd_state st;
};

struct san {
	struct agent *a;
	struct runner *runner;
	struct tgt_conf tc;
	struct san_plan_conf pc;
	qb_loop_timer_handle timer;
	bool busy, kicked, serving;
	struct cmdseq_op *op;
	struct tgt_view view;
	bool have_view;
	char error[300];                /* why the daemon cannot be read */
	enum portal_state portal;
	char portal_addr[64];           /* ADDR/PREFIX */
	void (*stop_done)(struct agent *a);
	bool stopping;
	struct report_memo memo[SAN_MEMO_MAX];
	size_t n_memo;
	/* mirror = drbd */
	bool drbd;
	enum drbd_version drbd_version;
	struct san_res res[SAN_RES_MAX];
	size_t n_res;
	bool mirror_read;               /* res[].up/st are from this pass */
};

/* san.c */
bool san_memo_recent(struct san *s, const char *name, uint64_t gen);
void san_report_dest(struct san *s, const char *vm, uint64_t gen, uint32_t dest);
void san_report(struct san *s, Xenmesh__HostEventKind kind, const char *name,
		uint64_t gen, const char *fenced, const char *reason);
/* An lvcreate/lvremove sequence's result: 0 also when the LV was already
 * made (or gone), else the classified error with why. */
int san_lvm_outcome(const struct cmdseq_outcome *o, bool remove, char *why, size_t len);
/* Run seq (taken over); kicks another pass when it succeeded. */
void san_step_run(struct san *s, struct cmdseq *seq, const char *what, int portal_after);

/* san_mirror.c */
int san_mirror_start(struct san *s);
/* Read every resource's state; then call next(s). */
void san_mirror_read(struct san *s, void (*next)(struct san *s));
/* Bring the resources to their roles (and up); true when commands run. */
bool san_mirror_step(struct san *s, bool serve);
/* Is vol Primary and UpToDate here (only then is it exported)? */
bool san_mirror_exportable(void *s, const struct vol_rec *v);
/* Volume work under DRBD: make the LV here (both SAN nodes). */
bool san_mirror_volume_work(struct san *s, bool serve);

#endif
