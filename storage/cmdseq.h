/* A command sequence: the storage drivers' unit of work.
 *
 * Drivers are pure: they append the exact command lines a step needs to a
 * cmdseq (tgtadm, lvcreate, drbdadm, iscsiadm ...) and parse what those
 * commands print.  cmdseq_run() runs the lines one after another through
 * the runner (agent/runner.h), stopping at the first that fails, so every
 * side effect still goes through the one runner and tests check the exact
 * lines with the recorder.
 *
 * A step may be marked "may fail" (cmdseq_tolerate()): its failure is
 * noted and the sequence goes on (e.g. closing a session that already
 * ended).  The output of the last command is handed to done, so a
 * sequence can end with a read-back (`tgtadm --op show`) that the caller
 * parses to confirm the result.
 */
#ifndef XM_CMDSEQ_H
#define XM_CMDSEQ_H

#include <stdbool.h>
#include <stddef.h>

#include "runner.h"

#define CMDSEQ_TIMEOUT_DEFAULT_MS 30000

struct cmdseq_step {
	char **argv;            /* NULL-terminated, owned */
	char *stdin_data;       /* NULL: none; owned */
	char *stdout_path;      /* NULL: captured; owned (runner_req.stdout_path) */
	char *cwd;              /* NULL: the daemon's; owned (runner_req.cwd) */
	int timeout_ms;         /* 0: the sequence's default */
	bool may_fail;
};

struct cmdseq {
	struct cmdseq_step *steps;
	size_t n;
	int timeout_ms;         /* per step, 0: CMDSEQ_TIMEOUT_DEFAULT_MS */
	int error;              /* first append error (-ENOMEM, -EINVAL), sticky */
};

void cmdseq_init(struct cmdseq *s);
void cmdseq_free(struct cmdseq *s);         /* accepts a zeroed one */

/* Append one command: arguments up to a NULL.  Errors are sticky in
 * s->error (checked by cmdseq_run), so callers may append a batch and
 * check once; the return value is the same error, 0 ok. */
int cmdseq_add(struct cmdseq *s, const char *arg0, ...)
	__attribute__((sentinel));
int cmdseq_addv(struct cmdseq *s, const char *const *argv);
/* The last appended step: feed it stdin / let it fail / own timeout. */
int cmdseq_set_stdin(struct cmdseq *s, const char *data);
/* The last step's stdout into a file, its working directory (absolute
 * paths; see runner_req): sticky -EINVAL otherwise. */
int cmdseq_set_stdout(struct cmdseq *s, const char *path);
int cmdseq_set_cwd(struct cmdseq *s, const char *dir);
void cmdseq_tolerate(struct cmdseq *s);
void cmdseq_set_timeout(struct cmdseq *s, int timeout_ms);

/* Line i formatted like the recorder shows it (runner_req_format). */
int cmdseq_format(const struct cmdseq *s, size_t i, char *buf, size_t len);

struct cmdseq_outcome {
	int rc;                 /* 0 all ran ok; -EIO a step failed; -ECANCELED */
	size_t failed;          /* index of the failing step (rc -EIO) */
	char message[512];      /* "STEP LINE: exit 1: <stderr>" on failure */
	size_t tolerated;       /* steps that failed but may_fail */
	/* The last step's result (the failing one on -EIO): valid only during
	 * the callback; NULL for an empty sequence. */
	const struct runner_result *last;
};

typedef void (*cmdseq_done_fn)(void *data, const struct cmdseq_outcome *o);

struct cmdseq_op;

/* Run s (taken over: freed by the op, s is left empty).  0, then done
 * exactly once, later, from the runner's delivery; or a negative errno
 * (s->error, or what the runner refused the first step with) and done is
 * never called.  An empty sequence is -ENODATA (nothing to wait for). */
int cmdseq_run(struct runner *r, struct cmdseq *s, cmdseq_done_fn done,
	       void *data, struct cmdseq_op **op);

/* The caller no longer wants the answer: done is not called; the op
 * frees itself when the running step ends.  NULL is fine. */
void cmdseq_op_abandon(struct cmdseq_op *op);

#endif
