/* The fence method chain of a host, and its replicated configuration.
 *
 * Pure: no I/O, no logging, no clock of its own.  The caller feeds it the
 * time and the results of the methods it ran, and gets back what to run
 * next (ARCHITECTURE.md "Fencing").
 *
 * Per host: an optional fence delay, then ordered levels.  A level is a
 * list of methods that must ALL succeed (two power supplies...); they run
 * one after the other, like Pacemaker's fencing topology, so that a
 * failing first method ends the level at once and two "off"s never race
 * on one device.  The first level that succeeds fences the host.  When
 * every level failed, the chain is FAILED: the caller raises an alert and
 * retries after a pause (fence_chain_retry; the delay is not waited again).
 *
 * The self-fence deadline (kind "deadline", alone in the last level)
 * confirms once now >= lost_at + W.  It only waits, never fails (unless W
 * is unknown: then it cannot vouch for anything and fails).  Since the
 * host's watchdog has reset it by then whatever else is going on, the
 * deadline confirms as soon as it is reached, even while an earlier level
 * is still running; the late result of that method is then ignored.
 *
 * Config syntax (`agentctl fence config`), one host per line, '#'
 * comments:
 *
 *   h1: delay 5; level 1 storage; level 2 fence-agent agent=fence_ipmilan
 *       ip=10.0.0.1 username=admin password=secret lanplus=1 timeout=20;
 *       level 3 xl-ssh; level 4 deadline
 *
 * (on one line).  Methods of one level are joined by a lone '+':
 *   level 2 fence-agent agent=fence_apc ip=pdu1 plug=3 + fence-agent agent=fence_apc ip=pdu2 plug=3
 * Values may be quoted ('...' or "...", shell-like).  Durations are
 * seconds, or with a unit: 500ms, 20s.  `timeout=` is the method's own
 * timeout for every kind (not passed to the agent); every other option of
 * a fence-agent is passed to it on stdin.
 */
#ifndef XM_FENCE_CHAIN_H
#define XM_FENCE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FENCE_LEVELS_MAX    16
#define FENCE_METHODS_MAX   8       /* per level */
#define FENCE_OPTS_MAX      32      /* per method */
#define FENCE_VALUE_MAX     1024
#define FENCE_HOST_MAX      64      /* name length, with the NUL */
#define FENCE_HISTORY_MAX   64      /* steps kept per chain */

/* default per-method timeouts, ms */
#define FENCE_TIMEOUT_STORAGE   30000
#define FENCE_TIMEOUT_AGENT     60000
#define FENCE_TIMEOUT_XL_SSH    30000

enum fence_kind {
	FENCE_KIND_STORAGE = 1,
	FENCE_KIND_AGENT,       /* "fence-agent" */
	FENCE_KIND_XL_SSH,      /* "xl-ssh" */
	FENCE_KIND_DEADLINE,    /* "deadline" */
};

struct fence_opt {
	char *key;
	char *value;
};

struct fence_method_conf {
	enum fence_kind kind;
	uint32_t timeout_ms;            /* 0 for deadline: it has none */
	struct fence_opt *opts;         /* in the order given */
	size_t n_opts;
};

struct fence_level_conf {
	unsigned number;                /* as written: 1, 2, ... increasing */
	struct fence_method_conf *methods;
	size_t n_methods;
};

struct fence_host_conf {
	char *host;
	uint32_t delay_ms;
	struct fence_level_conf *levels;
	size_t n_levels;
};

struct fence_config {
	struct fence_host_conf *hosts;
	size_t n_hosts;
};

const char *fence_kind_name(enum fence_kind k);

/* 0, or -EINVAL with "line N: HOST: ..." in err; -ENOMEM. */
int fence_config_parse(const char *text, struct fence_config *out,
		       char *err, size_t errlen);
/* Canonical text, one line per host, that parses back to the same config.
 * redact: values of keys containing "pass" shown as "***".
 * 0 or -ENOSPC. */
int fence_config_format(const struct fence_config *c, bool redact,
			char *buf, size_t len);
void fence_config_free(struct fence_config *c);   /* NULL is fine */
const struct fence_host_conf *fence_config_host(const struct fence_config *c,
						const char *host);
int fence_host_conf_copy(struct fence_host_conf *dst,
			 const struct fence_host_conf *src);
void fence_host_conf_free(struct fence_host_conf *h);
/* Value of an option, or NULL. */
const char *fence_method_opt(const struct fence_method_conf *m, const char *key);

/* ---- the chain ---- */

enum fence_result {
	FENCE_RESULT_OK = 1,
	FENCE_RESULT_FAILED,
	FENCE_RESULT_TIMEOUT,
};

enum fence_chain_state {
	FENCE_CHAIN_IDLE = 0,
	FENCE_CHAIN_DELAYING,           /* waiting for the host's fence delay */
	FENCE_CHAIN_RUNNING,
	FENCE_CHAIN_CONFIRMED,          /* terminal: the host is fenced */
	FENCE_CHAIN_FAILED,             /* terminal: every level failed */
};

const char *fence_result_name(enum fence_result r);
const char *fence_chain_state_name(enum fence_chain_state s);

/* Run this method now, then report with fence_chain_method_done(). */
struct fence_action {
	uint32_t token;                 /* tells a late answer from a current one */
	unsigned level;                 /* level number as configured */
	size_t level_idx, method_idx;
	const struct fence_method_conf *method; /* valid while the chain lives */
	uint32_t timeout_ms;
};

#define FENCE_ACTIONS_MAX 4
struct fence_actions {
	size_t n;
	struct fence_action run[FENCE_ACTIONS_MAX];
	size_t n_steps;                 /* the last n_steps of the history are new */
	enum fence_chain_state state;   /* after this call */
};

struct fence_step {
	unsigned attempt;
	unsigned level;
	size_t method_idx;
	enum fence_kind kind;
	char label[64];                 /* "fence-agent fence_ipmilan" */
	enum fence_result result;
	uint64_t started_ms, ended_ms;
	char message[192];
};

struct fence_chain {
	struct fence_host_conf conf;    /* own copy: config may change meanwhile */
	uint64_t lost_at_ms, w_ms;
	enum fence_chain_state state;
	unsigned attempt;
	uint64_t run_after_ms;          /* end of the delay */
	size_t level_idx, method_idx;
	bool waiting;                   /* a method (or the deadline) in progress */
	uint32_t token, next_token;
	uint64_t method_started_ms;
	uint32_t method_timeout_ms;
	unsigned confirmed_level;       /* CONFIRMED: the level that did it */
	uint64_t ended_ms;
	struct fence_step steps[FENCE_HISTORY_MAX];  /* oldest first */
	size_t n_steps;
	uint64_t steps_total;           /* ever recorded (some may be dropped) */
};

/* Begin fencing host (config copied), which left the membership at
 * lost_at_ms; w_ms is its self-fence deadline W (0: unknown).  The chain
 * must be zeroed or terminal (the history is kept).  -EINVAL, -EBUSY
 * (still fencing), -ENOMEM. */
int fence_chain_start(struct fence_chain *ch, const struct fence_host_conf *host,
		      uint64_t lost_at_ms, uint64_t w_ms, uint64_t now,
		      struct fence_actions *out);
/* The method of act finished.  -ESTALE when act is not the one awaited
 * (late answer after a timeout, or from an earlier attempt): ignore it. */
int fence_chain_method_done(struct fence_chain *ch, const struct fence_action *act,
			    enum fence_result res, const char *message,
			    uint64_t now, struct fence_actions *out);
/* Delays, method timeouts and the deadline. */
int fence_chain_tick(struct fence_chain *ch, uint64_t now, struct fence_actions *out);
/* After FAILED: try every level again (-EINVAL otherwise). */
int fence_chain_retry(struct fence_chain *ch, uint64_t now, struct fence_actions *out);
/* When the caller must call tick next; UINT64_MAX: not needed. */
uint64_t fence_chain_next_tick(const struct fence_chain *ch);
/* History, oldest first; NULL past the end. */
const struct fence_step *fence_chain_step(const struct fence_chain *ch, size_t i);
/* "attempt 1 level 2 fence-agent fence_ipmilan: failed after 1200 ms: exit 1: ..." */
void fence_step_format(const struct fence_step *s, char *buf, size_t len);
void fence_chain_free(struct fence_chain *ch);    /* NULL is fine; zeroes it */

#endif
