/* cpg-inject: join xenmesh's CPG group as a foreign member and multicast
 * one frame, to check how the agents treat a peer of another protocol
 * version or plain garbage.
 *   cpg-inject [--group NAME] (--major N | --garbage) [--stay MS]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <corosync/cpg.h>

static void
deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
	void *msg, size_t len)
{
}

static void
confchg(cpg_handle_t h, const struct cpg_name *g,
	const struct cpg_address *m, size_t nm, const struct cpg_address *l,
	size_t nl, const struct cpg_address *j, size_t nj)
{
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "major", required_argument, NULL, 'm' },
		{ "garbage", no_argument, NULL, 'x' },
		{ "stay", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	cpg_callbacks_t cb = { .cpg_deliver_fn = deliver, .cpg_confchg_fn = confchg };
	struct cpg_name group;
	const char *name = "xenmesh";
	unsigned char frame[64];
	struct iovec iov;
	cpg_handle_t h;
	long major = -1, stay_ms = 2000;
	int garbage = 0, opt, fd, rc = 1;
	struct timespec t0, t;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'g': name = optarg; break;
		case 'm': major = strtol(optarg, NULL, 10); break;
		case 'x': garbage = 1; break;
		case 's': stay_ms = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if ((major < 0) == !garbage || major > 65535 || strlen(name) >= CPG_MAX_NAME_LENGTH) {
		fprintf(stderr, "usage: cpg-inject [--group NAME] (--major N | --garbage) [--stay MS]\n");
		return 2;
	}
	memset(frame, 0, sizeof(frame));
	if (garbage) {
		memcpy(frame, "definitely not a xenmesh frame", 30);
	} else {
		/* "XMSH", major, minor 0, then a payload only that major knows */
		memcpy(frame, "XMSH", 4);
		frame[4] = (unsigned char)(major >> 8);
		frame[5] = (unsigned char)major;
		memset(frame + 8, 0xa5, 32);
	}
	group.length = (uint32_t)strlen(name);
	memcpy(group.value, name, group.length);
	if (cpg_initialize(&h, &cb) != CS_OK) {
		fprintf(stderr, "cpg-inject: cannot connect to corosync\n");
		return 1;
	}
	if (cpg_join(h, &group) != CS_OK || cpg_fd_get(h, &fd) != CS_OK) {
		fprintf(stderr, "cpg-inject: cannot join %s\n", name);
		goto out;
	}
	iov.iov_base = frame;
	iov.iov_len = garbage ? 30 : 40;
	for (int i = 0; i < 100; i++) {
		cs_error_t err = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);

		if (err == CS_OK)
			break;
		if (err != CS_ERR_TRY_AGAIN) {
			fprintf(stderr, "cpg-inject: multicast failed (%d)\n", err);
			goto out;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			(void)cpg_dispatch(h, CS_DISPATCH_ALL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < stay_ms);
	(void)cpg_leave(h, &group);
	rc = 0;
out:
	cpg_finalize(h);
	return rc;
}
