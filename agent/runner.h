/* The command runner: every exec of xl, ssh, fence_*, iscsiadm, tgtadm,
 * drbdadm, lvm... goes through here (STYLE.md rule 4).
 *
 * A request is a small validated struct (argv, stdin bytes, timeout), so
 * the runner could later move into a privileged helper.  Two
 * implementations share one ops table and the same validation:
 *
 *  - exec: fork + execve with pipes, on the agent's qb_loop.  Never a
 *    shell, never blocks the loop.  The child runs in its own process
 *    group; a timeout kills the whole group with SIGKILL.  Children are
 *    reaped through a pidfd in the loop (Linux >= 5.3), not SIGCHLD:
 *    libqb's qb_loop_signal_add() resets every other signal it does not
 *    handle to SIG_DFL (SIGPIPE included) and a SIGCHLD handler would be
 *    shared with the rest of the process.
 *  - recorder: for tests of every driver.  Records each command line
 *    exactly and answers from a script of canned results.
 *
 * argv[0] is an absolute path, or a bare name (no '/') searched on the
 * runner's own PATH (runner_exec_params.path, default RUNNER_PATH), never
 * on the caller's environment.  Relative paths ("./x", "bin/x") are
 * refused.  The child gets the agent's environment with PATH replaced
 * and LC_ALL=C, so that the output the drivers parse is not translated.
 *
 * Contract for callers: run() returns 0 and then done() is called exactly
 * once, always later from the loop (never from inside run()), also when
 * the runner is closed meanwhile (result.cancelled); or run() returns a
 * negative errno and done() is never called.  The result and its buffers
 * are valid only during the callback.
 */
#ifndef XM_RUNNER_H
#define XM_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#define RUNNER_PATH        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RUNNER_OUTPUT_MAX  (64 * 1024)      /* captured per stream */
#define RUNNER_ARGC_MAX    256
#define RUNNER_ARG_MAX     4096             /* bytes per argument */
#define RUNNER_STDIN_MAX   (1024 * 1024)
#define RUNNER_LINE_MAX    8192             /* runner_argv_format() output */

struct runner_req {
	const char *const *argv;        /* NULL-terminated, argv[0] the program */
	const char *stdin_data;         /* NULL: stdin is /dev/null */
	size_t stdin_len;
	int timeout_ms;                 /* > 0 */
	/* NULL-terminated "KEY=VALUE" added to the child's environment
	 * (replacing a variable of that name); NULL: none.  PATH and LC_ALL
	 * stay the runner's. */
	const char *const *env;
	/* NULL: stdout is captured (out).  Else the absolute path of a file
	 * or device stdout goes to instead (nothing captured): opened
	 * O_WRONLY|O_CREAT (mode 0600) by the runner before the fork, never
	 * truncated, written from its start (an archive into a new file, an
	 * image onto a device or a backing file of the right size).  A
	 * failed open is run()'s -errno. */
	const char *stdout_path;
	/* NULL: the daemon's. Else an absolute directory the child runs in
	 * (sha256sum -c reads the names its SHA256SUMS lists relative to it). */
	const char *cwd;
	/* <= 0: none.  Else a connected stream socket (> 2) that is the
	 * child's stdin and stdout both (a save image streamed through the
	 * peer channel, agent/san_saveimg.c); it stays the caller's.  Not
	 * with stdin_data or stdout_path; nothing of stdout is captured. */
	int stream_fd;
};

struct runner_output {
	const char *data;               /* NUL-terminated (not counted in len) */
	size_t len;
	bool truncated;                 /* more was written and thrown away */
};

struct runner_result {
	int exec_errno;         /* != 0: the program could not be started */
	int exit_code;          /* 0..255 when it exited, else -1 */
	int term_signal;        /* signal that ended it, else 0 */
	bool timed_out;         /* we killed it at the timeout */
	bool cancelled;         /* runner closed before it finished */
	struct runner_output out;
	struct runner_output err;
	uint64_t elapsed_ms;
};

typedef void (*runner_done_fn)(void *data, const struct runner_result *res);

struct runner;

struct runner_ops {
	const char *name;
	int (*run)(struct runner *r, const struct runner_req *req,
		   runner_done_fn done, void *data);
	/* Kill what still runs, report it cancelled, free. */
	void (*close)(struct runner *r);
};

/* Every implementation starts with this. */
struct runner {
	const struct runner_ops *ops;
};

static inline int
runner_run(struct runner *r, const struct runner_req *req, runner_done_fn done,
	   void *data)
{
	return r->ops->run(r, req, done, data);
}

/* NULL is fine. */
void runner_close(struct runner *r);

/* 0, or -EINVAL (argv empty or relative, too many or too long arguments,
 * timeout <= 0, stdin_len without data, an env entry without "KEY=" or
 * naming PATH or LC_ALL, a relative stdout_path or cwd, a stream_fd of 1
 * or 2 or with stdin data or stdout_path) or -E2BIG (stdin too large). */
int runner_req_validate(const struct runner_req *req);

/* argv as one line, shell-quoted where needed: for logs and for the
 * recorder's comparisons.  0, or -ENOSPC (then truncated, still
 * NUL-terminated). */
int runner_argv_format(const char *const *argv, char *buf, size_t len);
/* The same for a whole request: argv, then " > PATH" with stdout_path and
 * " (in DIR)" with cwd, as the recorder records it. */
int runner_req_format(const struct runner_req *req, char *buf, size_t len);

/* true when it exited 0 (and was neither killed nor failed to start). */
bool runner_result_ok(const struct runner_result *res);

/* One line for logs and fence history: "exit 1: <last stderr line>",
 * "timed out after 200 ms", "killed by signal 9", "exec failed: ...". */
void runner_result_describe(const struct runner_result *res, char *buf, size_t len);

/* ---- exec implementation ---- */

struct runner_exec_params {
	const char *path;               /* NULL: RUNNER_PATH */
	size_t output_max;              /* 0: RUNNER_OUTPUT_MAX */
};

int runner_exec_open(struct runner **out, qb_loop_t *loop,
		     const struct runner_exec_params *p);

/* ---- recorder implementation (tests) ---- */

/* A canned answer.  out/err are copied. */
struct runner_canned {
	int exit_code;
	int term_signal;
	bool timed_out;
	int exec_errno;
	const char *out;
	const char *err;
	uint64_t elapsed_ms;            /* reported as if it took that long */
};

/* With a loop, answers are delivered from loop jobs; without one (pure
 * driver tests), by runner_recorder_deliver(). */
int runner_recorder_open(struct runner **out, qb_loop_t *loop);

/* Expect a command whose formatted line starts with prefix, on a word
 * boundary ("ssh -o BatchMode=yes" matches "ssh -o BatchMode=yes host"
 * but not "ssh -o BatchMode=yesno"); NULL matches anything.  A command
 * takes the first unused expectation it matches; in ordered mode, only
 * the next unused one.  A command nothing expects is answered exit 127
 * with "runner recorder: unexpected command" on stderr, and reported by
 * runner_recorder_verify().  0, -EINVAL (not a recorder), -ENOMEM. */
int runner_recorder_expect(struct runner *r, const char *prefix,
			   const struct runner_canned *c);
int runner_recorder_set_ordered(struct runner *r, bool ordered);

/* Deliver pending answers (and those queued by the callbacks meanwhile).
 * Returns how many were delivered. */
size_t runner_recorder_deliver(struct runner *r);

/* What was run, in order: the i-th command, or NULL. */
struct runner_record {
	const char *line;               /* runner_argv_format() of argv */
	const char *stdin_data;         /* NUL-terminated copy ("" if none) */
	size_t stdin_len;
	int timeout_ms;
};
size_t runner_recorder_count(const struct runner *r);
const struct runner_record *runner_recorder_get(const struct runner *r, size_t i);

/* 0 when every command was expected and every expectation used;
 * otherwise -EPROTO and msg says which ("unexpected command #2: ...",
 * "expected but never run: ..."). */
int runner_recorder_verify(const struct runner *r, char *msg, size_t len);

#endif
