/* Detached spawning of a held child, and the identity of a process, for
 * the `proc` hypervisor driver (agent/hv_proc.c).
 *
 * proc_spawn() starts argv[0] detached (double fork + setsid): nobody's
 * child in the agent, not in its session, outliving the agent.  The child
 * is held before exec until proc_child_release(), so that the caller can
 * record it (pid file) before it runs; proc_child_drop() without a release
 * makes it exit unrun.  stdin is /dev/null, stdout and stderr append to
 * log_path, no other fd of the agent leaks in, signals start at SIG_DFL
 * with an empty mask.
 *
 * A process is told from an unrelated later owner of its pid by its start
 * time (field 22 of /proc/PID/stat), read by proc_stat_start().
 *
 * These helpers do not log; they return 0 or a negative errno.
 */
#ifndef XM_SPAWN_H
#define XM_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* A guest spawned but held before exec: while it waits for the go it is
 * alive and its pid is its own, so the pidfd and start time taken
 * meanwhile are surely its, and the pid file exists before it runs.
 * One socket pair carries it all: the middle child sends the pid, we send
 * the go byte, then EOF (close-on-exec) says the exec happened and an int
 * says it failed with that errno.  A socket, not a pipe: send() with
 * MSG_NOSIGNAL to a guest killed meanwhile raises no SIGPIPE in the agent. */
struct proc_child {
	pid_t pid;
	int pidfd;
	uint64_t start;
	int fd;                         /* our end of the socket pair */
};

/* pidfd_open(2); the fd, or -1 with errno set. */
int proc_pidfd_open(pid_t pid);

/* Field 22 of /proc/PID/stat; -ESRCH when the process is gone or a
 * zombie (a dead guest waiting for its reaper). */
int proc_stat_start(pid_t pid, uint64_t *start);

/* Spawn argv (argv[0] an absolute path) detached and held before exec;
 * fills *ch (pid, pidfd, start time).  On error *ch holds nothing. */
int proc_spawn(char *const argv[], const char *log_path, struct proc_child *ch);

/* Let the held child exec; 0, or the exec's -errno (it has exited then). */
int proc_child_release(struct proc_child *ch);

/* Close the pidfd and our end of the socket pair, if open.  Before
 * proc_child_release() this makes the held child exit unrun. */
void proc_child_drop(struct proc_child *ch);

/* A small file (/proc/PID/stat, a pid file) as a NUL-terminated string:
 * its length, or -errno. */
ssize_t proc_slurp(const char *path, char *buf, size_t len);

#endif
