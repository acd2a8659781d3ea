/* Committed state updates per second through CPG, seen from one agent.
 *
 * Sends N node-flag changes (maintenance on/off in turn) one after the
 * other through agentctl's IPC; each answer comes once the coordinator's
 * update was delivered back in agreed order, so every figure is a full
 * commit: IPC, request over CPG (unless local is coordinator), update
 * over CPG, apply, state file fsync.
 *   xm-update-rate NODE [COUNT]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_client.h"
#include "xm_error.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp = NULL;
	struct ctl_conn cc;
	char *args[3];
	double *lat, t0, total;
	long count = 200;
	int rc, status = EXIT_FAILURE;

	if (argc < 2 || argc > 3 || (argc == 3 && (count = strtol(argv[2], NULL, 10)) <= 0)) {
		fprintf(stderr, "usage: xm-update-rate NODE [COUNT]\n");
		return 2;
	}
	lat = calloc((size_t)count, sizeof(*lat));
	if (lat == NULL)
		return EXIT_FAILURE;
	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		fprintf(stderr, "xm-update-rate: cannot reach xenmeshd: %s\n", xm_strerror(rc));
		goto out_free;
	}
	req.command = XENMESH__CTL_COMMAND__CTL_NODE_FLAG;
	req.n_args = 3;
	req.args = args;
	args[0] = argv[1];
	args[1] = "maintenance";
	t0 = now_ms();
	for (long i = 0; i < count; i++) {
		double t = now_ms();

		args[2] = (i % 2 == 0) ? "on" : "off";
		rc = ctl_conn_call(&cc, &req, 15000, &resp);
		if (rc == 0 && resp->result < 0)
			rc = resp->result;
		if (rc < 0) {
			fprintf(stderr, "xm-update-rate: update %ld failed: %s%s%s\n", i,
				xm_strerror(rc), resp && resp->message ? ": " : "",
				resp && resp->message ? resp->message : "");
			goto out_close;
		}
		xenmesh__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
		lat[i] = now_ms() - t;
	}
	total = now_ms() - t0;
	qsort(lat, (size_t)count, sizeof(*lat), cmp_double);
	printf("updates: %ld in %.0f ms: %.0f committed updates/s (one at a time)\n",
	       count, total, count * 1000.0 / total);
	printf("commit latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       lat[count / 2], lat[(count * 99) / 100], lat[count - 1]);
	status = EXIT_SUCCESS;
out_close:
	if (resp != NULL)
		xenmesh__ctl_response__free_unpacked(resp, NULL);
	ctl_conn_close(&cc);
out_free:
	free(lat);
	return status;
}
