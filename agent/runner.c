/* The command runner: the exec implementation on qb_loop.  The recorder
 * for tests is in runner_rec.c.  See runner.h for the contract both keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "clock.h"
#include "runner.h"

extern char **environ;

/* ---- shared helpers ---------------------------------------------------- */

void
runner_close(struct runner *r)
{
	if (r)
		r->ops->close(r);
}

int
runner_req_validate(const struct runner_req *req)
{
	size_t i;

	if (!req || !req->argv || !req->argv[0] || !req->argv[0][0])
		return -EINVAL;
	/* absolute, or a bare name searched on our PATH: nothing relative
	 * to whatever the daemon's cwd happens to be */
	if (req->argv[0][0] != '/' && strchr(req->argv[0], '/'))
		return -EINVAL;
	for (i = 0; req->argv[i]; i++) {
		if (i >= RUNNER_ARGC_MAX)
			return -EINVAL;
		if (strnlen(req->argv[i], RUNNER_ARG_MAX) >= RUNNER_ARG_MAX)
			return -EINVAL;
	}
	if (req->timeout_ms <= 0)
		return -EINVAL;
	if (req->stdin_len && !req->stdin_data)
		return -EINVAL;
	if (req->stdin_len > RUNNER_STDIN_MAX)
		return -E2BIG;
	if ((req->stdout_path && req->stdout_path[0] != '/') ||
	    (req->cwd && req->cwd[0] != '/'))
		return -EINVAL;
	if (req->stream_fd > 0 &&
	    (req->stream_fd <= 2 || req->stdin_len || req->stdout_path))
		return -EINVAL;
	for (i = 0; req->env && req->env[i]; i++) {
		const char *eq = strchr(req->env[i], '=');

		if (i >= RUNNER_ARGC_MAX || eq == NULL || eq == req->env[i] ||
		    strnlen(req->env[i], RUNNER_ARG_MAX) >= RUNNER_ARG_MAX ||
		    strncmp(req->env[i], "PATH=", 5) == 0 ||
		    strncmp(req->env[i], "LC_ALL=", 7) == 0)
			return -EINVAL;
	}
	return 0;
}

static bool
arg_is_plain(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("@%+=:,./_-", *s))
			continue;
		return false;
	}
	return true;
}

int
runner_argv_format(const char *const *argv, char *buf, size_t len)
{
	size_t o = 0, i;
	const char *s;

	if (!buf || !len)
		return -EINVAL;
	buf[0] = '\0';
#define PUT(ch) do { if (o + 1 >= len) goto out_nospace; buf[o++] = (ch); } while (0)
	for (i = 0; argv && argv[i]; i++) {
		if (i)
			PUT(' ');
		if (arg_is_plain(argv[i])) {
			for (s = argv[i]; *s; s++)
				PUT(*s);
			continue;
		}
		/* single quotes; a quote inside becomes '\'' */
		PUT('\'');
		for (s = argv[i]; *s; s++) {
			if (*s == '\'') {
				PUT('\'');
				PUT('\\');
				PUT('\'');
			}
			PUT(*s);
		}
		PUT('\'');
	}
#undef PUT
	buf[o] = '\0';
	return 0;
out_nospace:
	buf[o] = '\0';
	return -ENOSPC;
}

int
runner_req_format(const struct runner_req *req, char *buf, size_t len)
{
	const char *one[2] = { NULL, NULL };
	size_t o;
	int rc = runner_argv_format(req->argv, buf, len);

	if (rc < 0)
		return rc;
	if (req->stdout_path) {
		o = strlen(buf);
		if (o + 3 >= len)
			return -ENOSPC;
		memcpy(buf + o, " > ", 4);
		one[0] = req->stdout_path;
		rc = runner_argv_format(one, buf + o + 3, len - o - 3);
		if (rc < 0)
			return rc;
	}
	if (req->cwd) {
		o = strlen(buf);
		if ((size_t)snprintf(buf + o, len - o, " (in %s)", req->cwd) >= len - o)
			return -ENOSPC;
	}
	if (req->stream_fd > 0) {
		o = strlen(buf);
		if ((size_t)snprintf(buf + o, len - o, " <> stream") >= len - o)
			return -ENOSPC;
	}
	return 0;
}

bool
runner_result_ok(const struct runner_result *res)
{
	return res && !res->cancelled && !res->exec_errno && !res->timed_out &&
	       !res->term_signal && res->exit_code == 0;
}

/* Last non-empty line of s, trimmed, into buf. */
static void
last_line(const char *s, size_t n, char *buf, size_t len)
{
	size_t end = n, start;

	while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' ||
			   s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	while (start < end && (s[start] == ' ' || s[start] == '\t'))
		start++;
	snprintf(buf, len, "%.*s", (int)(end - start), s + start);
}

void
runner_result_describe(const struct runner_result *res, char *buf, size_t len)
{
	char line[256];

	if (!buf || !len)
		return;
	if (res->cancelled)
		snprintf(buf, len, "cancelled");
	else if (res->exec_errno)
		snprintf(buf, len, "exec failed: %s", strerror(res->exec_errno));
	else if (res->timed_out)
		snprintf(buf, len, "timed out after %llu ms",
			 (unsigned long long)res->elapsed_ms);
	else if (res->term_signal)
		snprintf(buf, len, "killed by signal %d (%s)", res->term_signal,
			 strsignal(res->term_signal));
	else {
		last_line(res->err.data ? res->err.data : "", res->err.len,
			  line, sizeof(line));
		if (line[0])
			snprintf(buf, len, "exit %d: %s", res->exit_code, line);
		else
			snprintf(buf, len, "exit %d", res->exit_code);
	}
}

/* ---- exec implementation ---------------------------------------------- */

struct capture {
	char *data;
	size_t len, cap;
	bool truncated;
};

struct exec_child {
	struct exec_child *next;
	struct runner_exec *rx;
	pid_t pid;
	int pidfd, fd_in, fd_out, fd_err, fd_exec;
	char *in_data;
	size_t in_len, in_off;
	struct capture out, err;
	qb_loop_timer_handle timer;
	bool timer_armed, timed_out, reaped, lost;
	int wstatus;
	uint64_t start_ms;
	runner_done_fn done;
	void *data;
};

struct runner_exec {
	struct runner base;             /* first: runner_exec is-a runner */
	qb_loop_t *loop;
	char *path;
	size_t output_max;
	struct exec_child *children;
	bool closing;
};

static void
fd_close_loop(struct runner_exec *rx, int *fd, bool in_loop)
{
	if (*fd < 0)
		return;
	if (in_loop)
		(void)qb_loop_poll_del(rx->loop, *fd);
	(void)close(*fd);
	*fd = -1;
}

/* Read what fd has now into c (up to the cap, the rest thrown away).
 * Returns 1 at EOF or error, 0 when it would block. */
static int
capture_read(struct capture *c, size_t max, int fd)
{
	char scratch[16384];
	ssize_t n;

	for (;;) {
		if (!c->data) {
			c->data = malloc(max + 1);
			if (!c->data)
				return 1;
			c->cap = max;
		}
		if (c->len < c->cap)
			n = read(fd, c->data + c->len, c->cap - c->len);
		else
			n = read(fd, scratch, sizeof(scratch));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;
		if (c->len < c->cap)
			c->len += (size_t)n;
		else
			c->truncated = true;
	}
}

static struct capture *
child_capture(struct exec_child *c, int fd)
{
	return fd == c->fd_out ? &c->out : &c->err;
}

static int32_t
exec_output_ready(int32_t fd, int32_t revents, void *data)
{
	struct exec_child *c = data;
	int *slot = fd == c->fd_out ? &c->fd_out : &c->fd_err;

	if (capture_read(child_capture(c, fd), c->rx->output_max, fd))
		fd_close_loop(c->rx, slot, true);
	return 0;
}

static int32_t
exec_input_ready(int32_t fd, int32_t revents, void *data)
{
	struct exec_child *c = data;
	ssize_t n;

	while (c->in_off < c->in_len) {
		/* a socket, so that a child closing its stdin early gives
		 * EPIPE here rather than SIGPIPE to the whole daemon */
		n = send(fd, c->in_data + c->in_off, c->in_len - c->in_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			break;  /* it stopped reading: its business */
		c->in_off += (size_t)n;
	}
	fd_close_loop(c->rx, &c->fd_in, true);      /* EOF for the child */
	return 0;
}

static void
exec_timeout(void *data)
{
	struct exec_child *c = data;

	c->timer_armed = false;
	c->timed_out = true;
	(void)killpg(c->pid, SIGKILL);
	(void)kill(c->pid, SIGKILL);    /* in case it left our group */
}

static void
child_free(struct exec_child *c)
{
	free(c->in_data);
	free(c->out.data);
	free(c->err.data);
	free(c);
}

/* Everything the child still holds in the loop; reaps it if needed.
 * Returns the errno of a failed execve, or 0. */
static int
child_release(struct exec_child *c)
{
	struct runner_exec *rx = c->rx;
	int e = 0;

	if (c->timer_armed) {
		(void)qb_loop_timer_del(rx->loop, c->timer);
		c->timer_armed = false;
	}
	if (!c->reaped && c->pid > 0) {
		(void)killpg(c->pid, SIGKILL);
		(void)kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &c->wstatus, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
	}
	/* the child is gone: what it wrote is in the pipes already */
	if (c->fd_out >= 0)
		(void)capture_read(&c->out, rx->output_max, c->fd_out);
	if (c->fd_err >= 0)
		(void)capture_read(&c->err, rx->output_max, c->fd_err);
	fd_close_loop(rx, &c->fd_out, true);
	fd_close_loop(rx, &c->fd_err, true);
	fd_close_loop(rx, &c->fd_in, true);
	fd_close_loop(rx, &c->pidfd, true);
	if (c->fd_exec >= 0) {
		/* exec pipe: the errno of a failed execve, or EOF */
		if (read(c->fd_exec, &e, sizeof(e)) != (ssize_t)sizeof(e))
			e = 0;
		fd_close_loop(rx, &c->fd_exec, false);
	}
	return e;
}

static void
child_unlink(struct exec_child *c)
{
	struct exec_child **pp;

	for (pp = &c->rx->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void
child_report(struct exec_child *c, bool cancelled, int exec_errno)
{
	struct runner_result res = { .exit_code = -1 };

	res.cancelled = cancelled;
	res.timed_out = c->timed_out;
	res.elapsed_ms = mono_ms() - c->start_ms;
	if (exec_errno)
		res.exec_errno = exec_errno;
	else if (WIFEXITED(c->wstatus))
		res.exit_code = WEXITSTATUS(c->wstatus);
	else if (WIFSIGNALED(c->wstatus))
		res.term_signal = WTERMSIG(c->wstatus);
	if (c->out.data)
		c->out.data[c->out.len] = '\0';
	if (c->err.data)
		c->err.data[c->err.len] = '\0';
	res.out = (struct runner_output){ c->out.data ? c->out.data : "",
					  c->out.len, c->out.truncated };
	res.err = (struct runner_output){ c->err.data ? c->err.data : "",
					  c->err.len, c->err.truncated };
	c->done(c->data, &res);
}

static int32_t
exec_child_exited(int32_t fd, int32_t revents, void *data)
{
	struct exec_child *c = data;
	int exec_errno;
	pid_t p;

	do
		p = waitpid(c->pid, &c->wstatus, WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p == 0)
		return 0;       /* not yet (spurious wakeup) */
	c->reaped = true;
	if (p < 0)
		c->lost = true; /* someone else's waitpid(-1) took it */
	exec_errno = child_release(c);
	child_unlink(c);
	/* after this, c and possibly the runner (closed from the callback)
	 * are gone for us */
	child_report(c, false, c->lost ? ECHILD : exec_errno);
	child_free(c);
	return 0;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(int in, int out, int err, int ex, char *const *cands,
	   char *const *argv, char *const *envp, const char *cwd)
{
	struct sigaction sa;
	sigset_t all;
	int i, e = ENOENT, saved_eacces = 0;

	(void)setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);  /* SIG_IGN survives exec */
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);

	/* above 2 first, so that dup2 cannot clobber one with another */
	in = fcntl(in, F_DUPFD, 10);
	out = fcntl(out, F_DUPFD, 10);
	err = fcntl(err, F_DUPFD, 10);
	ex = fcntl(ex, F_DUPFD_CLOEXEC, 10);
	if (in < 0 || out < 0 || err < 0 || ex < 0 ||
	    dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		e = errno;
		goto out_report;
	}
	if (ex > 3)
		(void)close_range(3, (unsigned)ex - 1, 0);
	(void)close_range((unsigned)ex + 1, ~0U, 0);
	if (cwd && chdir(cwd) < 0) {
		e = errno;
		goto out_report;
	}

	for (i = 0; cands[i]; i++) {
		execve(cands[i], argv, envp);
		e = errno;
		if (e == EACCES)
			saved_eacces = 1;
		else if (e != ENOENT && e != ENOTDIR)
			goto out_report;
	}
	if (saved_eacces)
		e = EACCES;
out_report:
	(void)!write(ex, &e, sizeof(e));
	_exit(127);
}

/* Full paths to try for argv[0]: itself, or each PATH entry. */
static char **
candidates_make(const char *path, const char *name)
{
	size_t n = 1, i = 0;
	const char *p, *colon;
	char **v;

	if (name[0] != '/')
		for (p = path; *p; p++)
			n += *p == ':';
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	if (name[0] == '/') {
		if (!(v[i++] = strdup(name)))
			goto out_free;
		return v;
	}
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);

		if (dl && asprintf(&v[i++], "%.*s/%s", (int)dl, p, name) < 0) {
			v[--i] = NULL;
			goto out_free;
		}
		if (!colon)
			break;
	}
	return v;
out_free:
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static void
strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void
envp_free(char **v)
{
	if (v) {
		free(v[0]);
		free(v[1]);
		free(v);
	}
}

/* Is environment entry e (KEY=VALUE) one of extra's keys? */
static bool
env_overridden(const char *e, const char *const *extra)
{
	size_t k = strcspn(e, "=");

	for (size_t i = 0; extra && extra[i]; i++)
		if (strncmp(extra[i], e, k) == 0 && extra[i][k] == '=')
			return true;
	return false;
}

/* Our environment with PATH and LC_ALL replaced, and extra (validated)
 * on top.  Entries 0 and 1 are allocated; the rest point into environ
 * and extra. */
static char **
envp_make(const char *path, const char *const *extra)
{
	size_t n = 0, n_extra = 0, i, o = 2;
	char **v;

	while (environ && environ[n])
		n++;
	while (extra && extra[n_extra])
		n_extra++;
	v = calloc(n + n_extra + 3, sizeof(*v));
	if (!v)
		return NULL;
	if (asprintf(&v[0], "PATH=%s", path) < 0 || !(v[1] = strdup("LC_ALL=C"))) {
		free(v[0]);
		free(v);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "PATH=", 5) && strncmp(environ[i], "LC_ALL=", 7) &&
		    !env_overridden(environ[i], extra))
			v[o++] = environ[i];
	for (i = 0; i < n_extra; i++)
		v[o++] = (char *)extra[i];
	return v;
}

static int
exec_run(struct runner *r, const struct runner_req *req, runner_done_fn done,
	 void *data)
{
	struct runner_exec *rx = (struct runner_exec *)r;
	int fo[2] = { -1, -1 }, fe[2] = { -1, -1 }, fx[2] = { -1, -1 };
	int fi[2] = { -1, -1 }, fout = -1;
	char **cands = NULL, **envp = NULL;
	struct exec_child *c;
	int rc;

	rc = runner_req_validate(req);
	if (rc)
		return rc;
	if (!done)
		return -EINVAL;
	if (rx->closing)
		return -ESHUTDOWN;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->rx = rx;
	c->pidfd = c->fd_in = c->fd_out = c->fd_err = c->fd_exec = -1;
	c->done = done;
	c->data = data;
	if (req->stdin_len) {
		c->in_data = malloc(req->stdin_len);
		if (!c->in_data) {
			rc = -ENOMEM;
			goto out_free_child;
		}
		memcpy(c->in_data, req->stdin_data, req->stdin_len);
		c->in_len = req->stdin_len;
	}
	cands = candidates_make(rx->path, req->argv[0]);
	envp = envp_make(rx->path, req->env);
	if (!cands || !envp) {
		rc = -ENOMEM;
		goto out_free_vectors;
	}
	if (pipe2(fo, O_CLOEXEC) || pipe2(fe, O_CLOEXEC) || pipe2(fx, O_CLOEXEC)) {
		rc = -errno;
		goto out_close_pipes;
	}
	if (req->stream_fd > 0) {
		/* the caller's: dup'd so that closing ours leaves theirs */
		fi[0] = fcntl(req->stream_fd, F_DUPFD_CLOEXEC, 3);
		fout = fcntl(req->stream_fd, F_DUPFD_CLOEXEC, 3);
		if (fi[0] < 0 || fout < 0) {
			rc = -errno;
			goto out_close_pipes;
		}
	} else if (c->in_len) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fi)) {
			rc = -errno;
			goto out_close_pipes;
		}
	} else {
		fi[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fi[0] < 0) {
			rc = -errno;
			goto out_close_pipes;
		}
	}

	if (req->stdout_path) {
		/* not truncated: an image written onto a backing file must
		 * keep the file's size (see runner.h) */
		fout = open(req->stdout_path, O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600);
		if (fout < 0) {
			rc = -errno;
			goto out_close_pipes;
		}
	}
	c->start_ms = mono_ms();
	c->pid = fork();
	if (c->pid < 0) {
		rc = -errno;
		goto out_close_pipes;
	}
	if (c->pid == 0)
		child_exec(fi[0], fout >= 0 ? fout : fo[1], fe[1], fx[1], cands,
			   (char *const *)req->argv, envp, req->cwd);

	/* parent */
	(void)setpgid(c->pid, c->pid);  /* either side may win the race */
	(void)close(fi[0]);
	(void)close(fo[1]);
	(void)close(fe[1]);
	(void)close(fx[1]);
	if (fout >= 0)
		(void)close(fout);
	c->fd_in = fi[1];
	c->fd_out = fo[0];
	c->fd_err = fe[0];
	c->fd_exec = fx[0];
	strv_free(cands);
	envp_free(envp);
	cands = envp = NULL;
	c->next = rx->children;
	rx->children = c;

	c->pidfd = pidfd_open(c->pid, 0);
	if (c->pidfd < 0) {
		rc = -errno;
		goto out_release;
	}
	(void)fcntl(c->fd_out, F_SETFL, O_NONBLOCK);
	(void)fcntl(c->fd_err, F_SETFL, O_NONBLOCK);
	rc = qb_loop_poll_add(rx->loop, QB_LOOP_MED, c->fd_out, POLLIN, c,
			      exec_output_ready);
	if (!rc)
		rc = qb_loop_poll_add(rx->loop, QB_LOOP_MED, c->fd_err, POLLIN, c,
				      exec_output_ready);
	if (!rc && c->fd_in >= 0)
		rc = qb_loop_poll_add(rx->loop, QB_LOOP_MED, c->fd_in, POLLOUT, c,
				      exec_input_ready);
	if (!rc)
		rc = qb_loop_poll_add(rx->loop, QB_LOOP_MED, c->pidfd, POLLIN, c,
				      exec_child_exited);
	if (!rc)
		rc = qb_loop_timer_add(rx->loop, QB_LOOP_HIGH,
				       (uint64_t)req->timeout_ms * 1000000ULL, c,
				       exec_timeout, &c->timer);
	if (rc)
		goto out_release;
	c->timer_armed = true;
	return 0;

out_release:
	/* fds not added yet are simply closed; qb_loop_poll_del of them fails
	 * harmlessly */
	child_unlink(c);
	(void)child_release(c);
	child_free(c);
	return rc < 0 ? rc : -EIO;
out_close_pipes:
	if (fout >= 0)
		(void)close(fout);
	for (int i = 0; i < 2; i++) {
		if (fo[i] >= 0)
			(void)close(fo[i]);
		if (fe[i] >= 0)
			(void)close(fe[i]);
		if (fx[i] >= 0)
			(void)close(fx[i]);
		if (fi[i] >= 0)
			(void)close(fi[i]);
	}
out_free_vectors:
	strv_free(cands);
	envp_free(envp);
out_free_child:
	child_free(c);
	return rc;
}

static void
exec_close(struct runner *r)
{
	struct runner_exec *rx = (struct runner_exec *)r;
	struct exec_child *c;
	int exec_errno;

	rx->closing = true;
	while ((c = rx->children)) {
		rx->children = c->next;
		exec_errno = child_release(c);
		child_report(c, true, exec_errno);
		child_free(c);
	}
	free(rx->path);
	free(rx);
}

static const struct runner_ops exec_ops = {
	.name = "exec",
	.run = exec_run,
	.close = exec_close,
};

int
runner_exec_open(struct runner **out, qb_loop_t *loop,
		 const struct runner_exec_params *p)
{
	struct runner_exec *rx;

	if (!out || !loop)
		return -EINVAL;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->base.ops = &exec_ops;
	rx->loop = loop;
	rx->output_max = p && p->output_max ? p->output_max : RUNNER_OUTPUT_MAX;
	rx->path = strdup(p && p->path ? p->path : RUNNER_PATH);
	if (!rx->path) {
		free(rx);
		return -ENOMEM;
	}
	*out = &rx->base;
	return 0;
}
