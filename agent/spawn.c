/* Detached spawning of a held child for the `proc` hypervisor driver; see
 * spawn.h.  Only async-signal-safe calls between fork and exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

int
proc_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

ssize_t
proc_slurp(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

int
proc_stat_start(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], state;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (proc_slurp(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	/* comm (field 2) may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %*s %*s %*s %*s %*s %*s %" SCNu64,
			 &state, start) != 2)
		return -EIO;
	return state == 'Z' || state == 'X' ? -ESRCH : 0;
}

/* In the grandchild, between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn))
proc_child_exec(char *const argv[], const char *log_path, int fd)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	ssize_t n;
	char c;
	int nfd, err = 0;

	/* A failure here is sent only after the go: the pid comes first. */
	nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfd < 0 || dup2(nfd, STDIN_FILENO) < 0)
		err = errno;
	nfd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (!err && (nfd < 0 || dup2(nfd, STDOUT_FILENO) < 0 ||
		     dup2(nfd, STDERR_FILENO) < 0))
		err = errno;
	/* Nothing of the agent's (corosync, IPC, other guests' pidfds)
	 * leaks into the guest. */
	(void)close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	/* Ignored signals and the mask survive exec: start the guest clean. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	/* No go (the agent died before its bookkeeping): never run unseen. */
	if (n != 1)
		_exit(127);
	if (!err) {
		execv(argv[0], argv);
		err = errno;
	}
	(void)!send(fd, &err, sizeof(err), MSG_NOSIGNAL);
	_exit(127);
}

/* Closing our end makes a held guest exit unrun. */
void
proc_child_drop(struct proc_child *ch)
{
	if (ch->pidfd >= 0)
		close(ch->pidfd);
	if (ch->fd >= 0)
		close(ch->fd);
	ch->pidfd = ch->fd = -1;
}

/* Double fork + setsid: the guest is nobody's child in the agent, not in
 * its session, and survives the agent.  On success it is held before
 * exec until proc_child_release(). */
int
proc_spawn(char *const argv[], const char *log_path, struct proc_child *ch)
{
	int sp[2], status, r;
	pid_t mid, pid = 0;
	ssize_t n;

	ch->pidfd = ch->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	mid = fork();
	if (mid < 0) {
		r = -errno;
		close(sp[0]);
		close(sp[1]);
		return r;
	}
	if (mid == 0) {
		pid_t g;

		close(sp[1]);
		if (setsid() < 0)
			_exit(127);
		g = fork();
		if (g == 0)
			proc_child_exec(argv, log_path, sp[0]);
		if (g < 0)
			g = -errno;
		(void)!send(sp[0], &g, sizeof(g), MSG_NOSIGNAL);
		_exit(0);
	}
	close(sp[0]);
	ch->fd = sp[1];
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	n = read(ch->fd, &pid, sizeof(pid));
	if (n != sizeof(pid) || pid <= 0) {
		r = n == sizeof(pid) ? pid : -ECHILD;
		goto out_drop;
	}
	ch->pid = pid;
	ch->pidfd = proc_pidfd_open(pid);
	if (ch->pidfd < 0) {
		r = -errno;
		goto out_drop;
	}
	r = proc_stat_start(pid, &ch->start);
	if (r < 0)
		goto out_drop;
	return 0;
out_drop:
	proc_child_drop(ch);
	return r;
}

/* Let the held guest exec; 0, or the exec's -errno (it has exited then). */
int
proc_child_release(struct proc_child *ch)
{
	ssize_t n;
	int err;

	do {
		n = send(ch->fd, "g", 1, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		return n < 0 ? -errno : -EIO;
	do {
		n = read(ch->fd, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(err))
		return -err;
	return n < 0 ? -errno : 0;
}
