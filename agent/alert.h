/* Alert programs: events an operator must hear about, handed to the
 * programs of [alerts] in the config (a mailer, a webhook...).
 *
 * Each program gets one event as environment variables
 *   XM_ALERT_KIND      host-lost | host-fenced | fence-failed | vm-restarted |
 *                      vm-failed | quorum-lost | quorum-regained |
 *                      drain-done | split-brain | self-fence
 *   XM_ALERT_NODE      the node the event is about ("" for none)
 *   XM_ALERT_VM        the VM (or DRBD resource) it is about ("" for none)
 *   XM_ALERT_TEXT      one line for a person (control characters become
 *                      spaces here, so that it can go into a mail header)
 *   XM_ALERT_TIME      when it was decided, RFC 3339 UTC
 *   XM_ALERT_CLUSTER   totem.cluster_name
 *   XM_ALERT_SEQ       1, 2, ... per agent run: a gap means alerts dropped
 *   XM_ALERT_REPORTER  the node that sends it
 * and the same fields as one JSON object on stdin (keys kind, node, vm,
 * text, time, cluster, seq, reporter; text exactly as given, escaped).
 *
 * Who sends what: cluster events once, by the coordinator where it
 * commits the decision (coord.c); node events (quorum, self-fence, DRBD
 * split brain) by the node itself.
 *
 * Programs run through the runner (never a shell, their own process
 * group, killed with SIGKILL at the timeout), at most ALERT_RUNNING_MAX
 * at once; events wait in a queue of ALERT_QUEUE_MAX, the oldest dropped
 * beyond with a warning.  Nothing here ever waits for a program.
 */
#ifndef XM_ALERT_H
#define XM_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner.h"

struct agent;
struct vm_rec;
struct ha_action;

#define ALERT_QUEUE_MAX    64
#define ALERT_RUNNING_MAX  4
#define ALERT_TEXT_MAX     512
#define ALERT_NAME_MAX     64
#define ALERT_ENV_N        8
#define ALERT_HOSTS_MAX    64      /* hosts remembered by alert_host_once */

enum alert_kind {
	ALERT_HOST_LOST,
	ALERT_HOST_FENCED,
	ALERT_FENCE_FAILED,
	ALERT_VM_RESTARTED,
	ALERT_VM_FAILED,
	ALERT_QUORUM_LOST,
	ALERT_QUORUM_REGAINED,
	ALERT_DRAIN_DONE,
	ALERT_SPLIT_BRAIN,
	ALERT_SELF_FENCE,
	ALERT_KIND_N,
};

/* "host-lost" ...; NULL for a value out of range. */
const char *alert_kind_name(enum alert_kind k);

struct alert_event {
	enum alert_kind kind;
	char node[ALERT_NAME_MAX];
	char vm[ALERT_NAME_MAX];
	char text[ALERT_TEXT_MAX];
	uint64_t time_ms;               /* wall clock */
	uint64_t seq;
	char cluster[ALERT_NAME_MAX];
	char reporter[ALERT_NAME_MAX];
};

/* What a program gets: env (NULL-terminated "XM_ALERT_*=...") and the
 * JSON text for stdin (with a final newline). */
struct alert_payload {
	char *env[ALERT_ENV_N + 1];
	char *json;
	size_t json_len;
};

/* Pure.  0, -EINVAL (kind out of range) or -ENOMEM; on error *p holds
 * nothing to free. */
int alert_payload_make(const struct alert_event *ev, struct alert_payload *p);
void alert_payload_free(struct alert_payload *p);   /* NULL is fine */
/* "2026-12-02T19:04:28Z" (buf of 21 bytes at least). */
void alert_time_format(uint64_t wall_ms, char *buf, size_t len);

/* Which alert, if any, committing act means for VM before (its record
 * as the state has it now, NULL when unknown): ALERT_VM_RESTARTED when
 * a new instance replaces one that crashed or whose host was lost (or
 * the action records a restart), ALERT_VM_FAILED when it becomes
 * failed; -1 otherwise.  Pure. */
int alert_vm_kind(const struct vm_rec *before, const struct ha_action *act);

/* The dispatcher, usable without an agent (tests). */
struct alert_params {
	const char *const *programs;    /* absolute paths */
	size_t n_programs;
	int timeout_ms;                 /* > 0 */
	size_t queue_max;               /* 0: ALERT_QUEUE_MAX */
	size_t running_max;             /* 0: ALERT_RUNNING_MAX */
};

struct alert;

/* Takes runner (closed by alert_close, also on error).  0 or -errno. */
int alert_open(struct alert **out, struct runner *runner,
	       const struct alert_params *p);
/* Kill what runs (reported cancelled), drop what waits, free; NULL ok. */
void alert_close(struct alert *al);
/* Queue ev (its seq is set here) for every program; starts what the cap
 * allows.  0, -ENOMEM, or -ENOENT without programs (nothing to do). */
int alert_send(struct alert *al, struct alert_event *ev);

struct alert_stats {
	uint64_t sent;          /* events accepted */
	uint64_t dropped;       /* events dropped from a full queue */
	uint64_t started;       /* program runs started */
	uint64_t ok, failed;    /* runs finished: exit 0, anything else */
	uint64_t timed_out;     /* of failed: killed at the timeout */
	size_t queued, running;
};
void alert_stats_get(const struct alert *al, struct alert_stats *st);

/* ---- in xenmeshd -------------------------------------------------------- */

/* From the config; nothing (a->alert NULL) without programs.  A program
 * that is not executable now is logged, and run anyway later (it may be
 * installed meanwhile). */
int alert_agent_start(struct agent *a);
void alert_agent_stop(struct agent *a);
/* One event: node is a node id (0: none), vm may be NULL.  Logged when
 * it cannot be queued; nothing without programs. */
void alert_raise(struct agent *a, enum alert_kind kind, uint32_t node,
		 const char *vm, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Once per host and kind while it stays unclean: true the first time
 * (the caller alerts), false after, until alert_host_clear(node).  A
 * coordinator drops its fence runs at every sync round and starts them
 * again; this keeps their alerts from repeating.  false without programs. */
bool alert_host_once(struct agent *a, enum alert_kind kind, uint32_t node);
/* The host is no longer unclean: its next loss is news again. */
void alert_host_clear(struct agent *a, uint32_t node);
/* Every quorum verdict: quorum-lost when a quorate node loses it,
 * quorum-regained when it comes back (not the first quorum at start). */
void alert_quorum(struct agent *a, bool quorate, const char *reason);

#endif
