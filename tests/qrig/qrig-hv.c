/* qrig-hv: the xl driver's save and restore (what `vm save` and its
 * resume run, agent/vmsave.c) on a real Xen host of the QEMU tier,
 * without the cluster around it.
 *
 *   qrig-hv save NAME FILE             save of domain NAME into FILE,
 *                                      then destroy it
 *   qrig-hv restore CFG FILE GEN       restore the image in FILE as
 *                                      instance GEN of CFG's domain,
 *                                      then resume it
 *
 * Each prints what it did and how long it took; exit 0 done, 1 failed,
 * 2 usage.  The image goes through a socketpair, as it does through the
 * peer channel in the agent: the driver never sees the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <syslog.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "hv.h"
#include "xlcfg.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Next event of kind for name; -1 on an I/O error.  Meanwhile bytes are
 * moved from `from` to `to` (-1: none), never blocking: the driver's
 * helper and libxl's callbacks (which run only from event_next) depend on
 * each other; *moved counts them; EOF on `from` ends the sending side of
 * `to`. */
static int
wait_event(const struct hv_ops *ops, struct hv *hv, enum hv_event_kind kind,
	   const char *name, int from, int to, uint64_t *moved,
	   struct hv_event *ev)
{
	static char buf[65536];
	size_t len = 0, off = 0;

	if (to >= 0)
		(void)fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = { { .fd = ops->event_fd(hv), .events = POLLIN },
				       { .fd = -1 } };
		int n;

		if (from >= 0 && off == len) {
			p[1].fd = from;
			p[1].events = POLLIN;
		} else if (off < len) {
			p[1].fd = to;
			p[1].events = POLLOUT;
		}
		n = poll(p, 2, 1000);
		if (n < 0 && errno != EINTR)
			return -1;
		while (ops->event_next(hv, ev) == 0)
			if (ev->kind == kind && strcmp(ev->name, name) == 0)
				return 0;
		if (p[1].fd == from && from >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t r = read(from, buf, sizeof(buf));

			if (r < 0)
				return -1;
			if (r == 0) {
				(void)shutdown(to, SHUT_WR);
				from = -1;
			}
			len = (size_t)(r > 0 ? r : 0);
			off = 0;
		} else if (p[1].fd == to && (p[1].revents & (POLLOUT | POLLERR))) {
			ssize_t w = write(to, buf + off, len - off);

			if (w < 0 && errno != EAGAIN)
				return -1;
			if (w > 0) {
				off += (size_t)w;
				*moved += (uint64_t)w;
			}
		}
	}
}

static int
open_hv(const struct hv_ops **ops, struct hv **hv)
{
	struct hv_params p = { .host_name = "qrig", .run_dir = "/run" };
	int r;

	*ops = hv_driver_find("xl");
	if (*ops == NULL) {
		fprintf(stderr, "qrig-hv: no xl driver built in\n");
		return -ENODEV;
	}
	r = (*ops)->open(hv, &p);
	if (r < 0)
		fprintf(stderr, "qrig-hv: xl driver: %s\n", strerror(-r));
	return r;
}

static int
cmd_save(const char *name, const char *path)
{
	const struct hv_ops *ops;
	struct hv *hv = NULL;
	struct hv_event ev;
	uint64_t t0 = now_ms(), moved = 0;
	char buf[65536];
	int sp[2] = { -1, -1 }, out = -1, rc = 1, r;
	ssize_t n;

	if (open_hv(&ops, &hv) < 0)
		return 1;
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		fprintf(stderr, "qrig-hv: %s: %s\n", path, strerror(errno));
		goto out;
	}
	r = ops->save(hv, name, sp[0]);
	if (r < 0) {
		fprintf(stderr, "qrig-hv: save %s: %s\n", name, strerror(-r));
		goto out;
	}
	if (wait_event(ops, hv, HV_EVENT_MIGRATE_SENT, name, sp[1], out, &moved, &ev) < 0)
		goto out;
	if (ev.result < 0) {
		fprintf(stderr, "qrig-hv: save of %s failed: %s\n", name, ev.reason);
		(void)ops->resume(hv, name);
		goto out;
	}
	/* all written before the event: what is left is in the socket */
	(void)shutdown(sp[0], SHUT_WR);
	while ((n = read(sp[1], buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			goto out;
		moved += (uint64_t)n;
	}
	if (fsync(out) < 0)
		goto out;
	r = ops->destroy(hv, name);
	if (r < 0) {
		fprintf(stderr, "qrig-hv: destroy %s: %s\n", name, strerror(-r));
		goto out;
	}
	printf("saved %s: %" PRIu64 " bytes in %" PRIu64 " ms, domain destroyed\n",
	       name, moved, now_ms() - t0);
	rc = 0;
out:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	if (out >= 0)
		close(out);
	if (hv != NULL)
		ops->close(hv);
	return rc;
}

static int
cmd_restore(const char *cfg_path, const char *path, uint64_t gen)
{
	const struct hv_ops *ops;
	struct hv *hv = NULL;
	struct hv_event ev;
	struct vm_config *cfg = calloc(1, sizeof(*cfg));
	uint64_t t0 = now_ms(), moved = 0;
	char err[512];
	int sp[2] = { -1, -1 }, in = -1, rc = 1, r;

	if (cfg == NULL)
		return 1;
	r = xlcfg_parse_file(cfg_path, cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "qrig-hv: %s\n", err);
		free(cfg);
		return 1;
	}
	if (open_hv(&ops, &hv) < 0) {
		free(cfg);
		return 1;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		fprintf(stderr, "qrig-hv: %s: %s\n", path, strerror(errno));
		goto out;
	}
	r = ops->restore(hv, cfg, gen, 1, sp[0]);
	if (r < 0) {
		fprintf(stderr, "qrig-hv: restore %s: %s\n", cfg->name, strerror(-r));
		goto out;
	}
	if (wait_event(ops, hv, HV_EVENT_MIGRATE_RECEIVED, cfg->name, in, sp[1],
		       &moved, &ev) < 0)
		goto out;
	if (ev.result < 0) {
		fprintf(stderr, "qrig-hv: restore of %s failed: %s\n", cfg->name,
			ev.reason);
		goto out;
	}
	printf("received %s: %" PRIu64 " bytes in %" PRIu64 " ms, paused, generation %"
	       PRIu64 "\n", cfg->name, moved, now_ms() - t0, ev.generation);
	r = ops->resume(hv, cfg->name);
	if (r < 0) {
		fprintf(stderr, "qrig-hv: resume %s: %s\n", cfg->name, strerror(-r));
		goto out;
	}
	printf("resumed %s after %" PRIu64 " ms\n", cfg->name, now_ms() - t0);
	rc = 0;
out:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	if (in >= 0)
		close(in);
	if (hv != NULL)
		ops->close(hv);
	free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	/* the driver's and libxl's own words, on stderr */
	qb_log_init("qrig-hv", LOG_DAEMON, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  getenv("QRIG_HV_DEBUG") ? LOG_DEBUG : LOG_INFO);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (argc == 4 && strcmp(argv[1], "save") == 0)
		return cmd_save(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "restore") == 0)
		return cmd_restore(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	fprintf(stderr, "usage: qrig-hv save NAME FILE | restore CFG FILE GENERATION\n");
	return 2;
}
