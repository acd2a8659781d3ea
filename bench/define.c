/* Many VMs defined as fast as one node's IPC takes them, for the scale
 * rig (bench/scale-rig).
 *
 *   xm-define --write DIR N [--hosts N] [--disk-dir DIR]
 *       writes the xl.cfg of VMs 0..N-1 of bench/population.h into DIR
 *       (NAME.cfg; disks as files in --disk-dir, default DIR)
 *   xm-define DIR [CLIENTS]
 *       defines every .cfg file of DIR (name order) through the local xenmeshd,
 *       like `agentctl vm define FILE` but CLIENTS processes (default 4)
 *       each holding one IPC connection, each call waiting for its
 *       commit; prints progress per 1000, the rate and the latency of a
 *       define (p50 and max).  Exit 1 when any define failed.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "ctl_args.h"
#include "ctl_client.h"
#include "population.h"
#include "xm_error.h"

#define CLIENTS_MAX  32
#define CALL_TIMEOUT_MS (120 * 1000)
#define FAIL_MAX     10

/* What a client reports per define, through its pipe. */
struct done {
	uint32_t idx;
	int32_t result;
	double ms;
	char msg[160];
};

static int
write_configs(const char *dir, long n, long hosts, const char *disk_dir)
{
	char path[4096], text[2048];
	struct bench_vm v;
	size_t bytes = 0;

	for (long i = 0; i < n; i++) {
		FILE *f;
		int len;

		bench_vm_make((size_t)i, (size_t)n, (size_t)hosts, &v);
		len = bench_vm_xlcfg(&v, disk_dir, text, sizeof(text));
		if (len < 0)
			return len;
		(void)snprintf(path, sizeof(path), "%s/%s.cfg", dir, v.name);
		f = fopen(path, "w");
		if (f == NULL || fwrite(text, 1, (size_t)len, f) != (size_t)len) {
			int err = errno;

			if (f != NULL)
				(void)fclose(f);
			fprintf(stderr, "xm-define: %s: %s\n", path, strerror(err));
			return -err;
		}
		if (fclose(f) != 0)
			return -errno;
		bytes += (size_t)len;
	}
	printf("wrote %ld xl.cfg files to %s (%.0f bytes on average)\n", n, dir,
	       n > 0 ? (double)bytes / (double)n : 0);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .cfg files of DIR, sorted; free each name and *names. */
static int
list_configs(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0)
			continue;
		if (*n == cap) {
			char **nn = realloc(*names, (cap ? cap * 2 : 1024) * sizeof(*nn));

			if (nn == NULL)
				break;
			*names = nn;
			cap = cap ? cap * 2 : 1024;
		}
		if (((*names)[*n] = strdup(e->d_name)) == NULL)
			break;
		(*n)++;
	}
	(void)closedir(d);
	qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

static int
read_text(const char *path, char **text)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	*text = NULL;
	if (f == NULL)
		return -errno;
	buf = malloc(CTL_VM_CONFIG_MAX + 1);
	if (buf == NULL) {
		(void)fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CTL_VM_CONFIG_MAX, f);
	(void)fclose(f);
	buf[n] = '\0';
	*text = buf;
	return 0;
}

/* One client: every clients-th file from first, results to fd. */
static int
client_run(const char *dir, char **names, size_t n, size_t first,
	   size_t clients, int fd)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp = NULL;
	struct ctl_conn cc;
	char path[4096], *args[1];
	int rc, fails = 0;

	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		fprintf(stderr, "xm-define: cannot reach xenmeshd: %s\n",
			xm_strerror(rc));
		return 1;
	}
	req.command = XENMESH__CTL_COMMAND__CTL_VM_DEFINE;
	req.n_args = 1;
	req.args = args;
	for (size_t i = first; i < n && fails < FAIL_MAX; i += clients) {
		struct done d = { .idx = (uint32_t)i };
		char *text = NULL;
		double t0;

		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = read_text(path, &text);
		args[0] = path;
		req.config = text;
		t0 = bench_now_ms();
		if (rc == 0)
			rc = ctl_conn_call(&cc, &req, CALL_TIMEOUT_MS, &resp);
		d.ms = bench_now_ms() - t0;
		if (rc == 0 && resp->result < 0)
			rc = resp->result;
		d.result = rc;
		if (rc < 0) {
			(void)snprintf(d.msg, sizeof(d.msg), "%s: %s%s%s", names[i],
				       xm_strerror(rc), resp && resp->message ? ": " : "",
				       resp && resp->message ? resp->message : "");
			fails++;
		}
		if (resp != NULL)
			xenmesh__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
		free(text);
		if (write(fd, &d, sizeof(d)) != (ssize_t)sizeof(d))
			break;
	}
	ctl_conn_close(&cc);
	return fails ? 1 : 0;
}

static void
print_window(struct bench_series *w, size_t done, double t_prev, double now)
{
	printf("  %6zu defined: the last %zu at %.0f/s, define p50 %.1f ms, "
	       "max %.1f ms\n", done, w->n, (double)w->n * 1000.0 / (now - t_prev),
	       bench_series_p50(w), w->n ? w->ms[w->n - 1] : 0.0);
	w->n = 0;
}

static int
define_all(const char *dir, size_t clients)
{
	struct pollfd pfd[CLIENTS_MAX];
	pid_t pid[CLIENTS_MAX];
	struct bench_series all, win;
	char **names = NULL, first_err[200] = "";
	size_t n = 0, done = 0, failed = 0, open_fds = 0;
	double t0, t_win;
	int rc, status = 0;

	rc = list_configs(dir, &names, &n);
	if (rc < 0 || n == 0) {
		fprintf(stderr, "xm-define: no *.cfg in %s%s%s\n", dir,
			rc < 0 ? ": " : "", rc < 0 ? xm_strerror(rc) : "");
		return 1;
	}
	if (clients > n)
		clients = n;
	if (bench_series_init(&all, "vm define (commit included)", n) < 0 ||
	    bench_series_init(&win, "window", 1000) < 0)
		return 1;
	printf("defining %zu VMs from %s with %zu clients\n", n, dir, clients);
	(void)fflush(stdout);
	t0 = t_win = bench_now_ms();
	for (size_t c = 0; c < clients; c++) {
		int p[2];

		if (pipe(p) < 0)
			return 1;
		pid[c] = fork();
		if (pid[c] == 0) {
			(void)close(p[0]);
			_exit(client_run(dir, names, n, c, clients, p[1]));
		}
		(void)close(p[1]);
		pfd[c].fd = p[0];
		pfd[c].events = POLLIN;
		open_fds++;
	}
	while (open_fds > 0) {
		if (poll(pfd, clients, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t c = 0; c < clients; c++) {
			struct done d;
			ssize_t got;

			if (pfd[c].fd < 0 || !(pfd[c].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(pfd[c].fd, &d, sizeof(d));
			if (got != (ssize_t)sizeof(d)) {
				(void)close(pfd[c].fd);
				pfd[c].fd = -1;
				open_fds--;
				continue;
			}
			done++;
			if (d.result < 0) {
				failed++;
				if (first_err[0] == '\0')
					(void)snprintf(first_err, sizeof(first_err),
						       "%s", d.msg);
				continue;
			}
			bench_series_add(&all, d.ms);
			bench_series_add(&win, d.ms);
			if (done % 1000 == 0) {
				double now = bench_now_ms();

				print_window(&win, done, t_win, now);
				t_win = now;
				(void)fflush(stdout);
			}
		}
	}
	for (size_t c = 0; c < clients; c++) {
		int st = 0;

		(void)waitpid(pid[c], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			status = 1;
	}
	{
		double total = bench_now_ms() - t0;

		printf("defined %zu of %zu VMs in %.1f s: %.0f defines/s with "
		       "%zu clients\n", done - failed, n, total / 1000.0,
		       (double)(done - failed) * 1000.0 / total, clients);
	}
	bench_series_print(&all);
	if (failed > 0 || done < n) {
		printf("  %zu failed, %zu never sent; first failure: %s\n", failed,
		       n - done, first_err);
		status = 1;
	}
	bench_series_free(&all);
	bench_series_free(&win);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return status;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--write") == 0) {
		const char *disk_dir = argv[2];
		long n = strtol(argv[3], NULL, 10), hosts = 3;

		for (int i = 4; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--hosts") == 0)
				hosts = strtol(argv[i + 1], NULL, 10);
			else if (strcmp(argv[i], "--disk-dir") == 0)
				disk_dir = argv[i + 1];
			else
				goto usage;
		}
		if (n <= 0 || hosts <= 0 || (argc - 4) % 2 != 0)
			goto usage;
		return write_configs(argv[2], n, hosts, disk_dir) < 0 ?
		       EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (argc == 2 || argc == 3) {
		long clients = argc == 3 ? strtol(argv[2], NULL, 10) : 4;

		if (clients <= 0 || clients > CLIENTS_MAX)
			goto usage;
		return define_all(argv[1], (size_t)clients);
	}
usage:
	fprintf(stderr, "usage: xm-define --write DIR N [--hosts N] [--disk-dir DIR]\n"
		"       xm-define DIR [CLIENTS]\n");
	return 2;
}
