/* xenmesh-fence-peer: DRBD's fence-peer, unfence-peer and split-brain
 * handler, named in every .res xenmesh writes (drbd_res_render):
 *
 *   xenmesh-fence-peer [--timeout SECONDS] fence-peer|unfence-peer|split-brain
 *
 * with DRBD's environment: DRBD_RESOURCE, and the peer as DRBD_PEER (8.4)
 * or DRBD_PEER_NODE_ID / DRBD_NODE_ID_n / DRBD_MY_NODE_ID (9).
 *
 * fence-peer: like crm-fence-peer does with Pacemaker, asks the cluster
 * through the local xenmeshd (the CTL_STATUS request agentctl status
 * uses) what it agreed about the peer, and exits with DRBD's code for it
 * (the table and why 5 is never used: drbd.h).  While the answer can
 * still change (peer unclean and being fenced, a link hiccup, agent
 * restarting, no quorum) it asks again every POLL_S seconds, up to the
 * timeout (default TIMEOUT_DEFAULT_S, longer than the self-fence deadline
 * W of a usual configuration, so a crashed peer is reported fenced before
 * we give up); then exits 1: IO stays frozen.  DRBD waits for the handler
 * meanwhile, IO frozen, which is the point of resource-and-stonith.
 *
 * unfence-peer: exit 0 (nothing to undo: the handler sets no constraint).
 * split-brain: logged (syslog LOG_DAEMON, critical), exit 0: the resource
 * stays StandAlone for a human or a policy naming the losing node;
 * reporting it through the agent comes later.
 *
 * Everything is logged to syslog with the tag xenmesh-fence-peer (and to
 * stderr, which drbdadm passes on).  The decision itself is the pure
 * drbd_fence_peer_decide() of drbd.c, unit-tested there.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "drbd.h"
#include "xm_error.h"
#include "xenmesh.pb-c.h"

#define TAG                "xenmesh-fence-peer"
#define TIMEOUT_DEFAULT_S  300
#define POLL_S             2
#define CALL_TIMEOUT_MS    5000

static const char *
state_name(Xenmesh__NodeState st)
{
	switch (st) {
	case XENMESH__NODE_STATE__NODE_ONLINE:  return "online";
	case XENMESH__NODE_STATE__NODE_OFFLINE: return "offline";
	case XENMESH__NODE_STATE__NODE_UNCLEAN: return "unclean";
	case XENMESH__NODE_STATE__NODE_FENCED:  return "fenced";
	default:                                return NULL;
	}
}

/* One CTL_STATUS round trip into v; what could not be learnt stays
 * false/NULL, which the decision reads as "wait". */
static void
ask_cluster(const char *peer, struct drbd_fence_view *v, char *what, size_t len)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp = NULL;
	struct ctl_conn cc;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		snprintf(what, len, "xenmeshd not reachable: %s", xm_strerror(rc));
		return;
	}
	req.command = XENMESH__CTL_COMMAND__CTL_STATUS;
	rc = ctl_conn_call(&cc, &req, CALL_TIMEOUT_MS, &resp);
	if (rc < 0) {
		snprintf(what, len, "xenmeshd did not answer: %s", xm_strerror(rc));
		goto out_close;
	}
	if (resp->result != 0) {
		snprintf(what, len, "xenmeshd refused the status request: %s",
			 resp->message ? resp->message : "no reason");
		goto out_free;
	}
	v->reachable = true;
	/* an agent that has not synced yet holds no agreed state */
	v->quorate = resp->cluster && resp->cluster->quorate && resp->cluster->synced;
	for (size_t i = 0; resp->state && i < resp->state->n_nodes; i++) {
		const Xenmesh__Node *n = resp->state->nodes[i];

		if (strcmp(n->name, peer))
			continue;
		v->peer_state = state_name(n->state);
		v->peer_active = resp->state->has_active_san &&
				 resp->state->active_san == n->id;
	}
	snprintf(what, len, "cluster %s, peer %s %s%s",
		 !resp->cluster ? "state unknown" :
		 !resp->cluster->quorate ? "not quorate" :
		 !resp->cluster->synced ? "not synced" : "quorate",
		 peer, v->peer_state ? v->peer_state : "not in the node table",
		 v->peer_active ? " (active SAN node)" : "");
out_free:
	xenmesh__ctl_response__free_unpacked(resp, NULL);
out_close:
	ctl_conn_close(&cc);
}

static double
now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
exit_meaning(int code)
{
	switch (code) {
	case DRBD_FENCE_PEER_FENCED:  return "peer fenced by the cluster";
	case DRBD_FENCE_PEER_PRIMARY: return "peer is the active SAN node: "
					     "this node outdates its own disk";
	default:                      return "keep IO frozen";
	}
}

static int
fence_peer(const char *res, unsigned timeout_s)
{
	extern char **environ;
	char peer[256], why[256], what[512], last[512] = "";
	struct drbd_fence_view v;
	double deadline = now_s() + timeout_s;
	int decided;

	if (drbd_handler_peer((const char *const *)environ, peer, sizeof(peer),
			      why, sizeof(why)) < 0) {
		syslog(LOG_ERR, "resource %s: fence-peer: cannot tell the peer: %s; "
		       "IO stays frozen", res, why);
		return DRBD_FENCE_KEEP_FROZEN;
	}
	syslog(LOG_WARNING, "resource %s: lost peer %s: asking the cluster", res, peer);
	for (;;) {
		ask_cluster(peer, &v, what, sizeof(what));
		decided = drbd_fence_peer_decide(&v);
		if (strcmp(what, last)) {
			syslog(LOG_INFO, "resource %s: %s", res, what);
			snprintf(last, sizeof(last), "%s", what);
		}
		if (decided != DRBD_FENCE_WAIT || now_s() >= deadline)
			break;
		sleep(POLL_S);
	}
	decided = drbd_fence_peer_final(decided);
	syslog(decided == DRBD_FENCE_KEEP_FROZEN ? LOG_ERR : LOG_WARNING,
	       "resource %s: fence-peer %s: exit %d (%s)%s", res, peer, decided,
	       exit_meaning(decided),
	       decided == DRBD_FENCE_KEEP_FROZEN ?
	       "; resume with `drbdadm resume-io` only once the peer is down" : "");
	return decided;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " TAG " [--timeout SECONDS] "
		"fence-peer|unfence-peer|split-brain\n"
		"(run by DRBD as the handler of a resource; see drbd.conf(5))\n");
}

int
main(int argc, char **argv)
{
	unsigned timeout_s = TIMEOUT_DEFAULT_S;
	const char *res, *cmd;
	int i = 1;

	openlog(TAG, LOG_PID | LOG_PERROR, LOG_DAEMON);
	if (argc == 4 && !strcmp(argv[1], "--timeout")) {
		char *end;
		unsigned long t;

		errno = 0;
		t = strtoul(argv[2], &end, 10);
		if (errno || *end || end == argv[2] || t == 0 || t > 86400) {
			usage();
			return DRBD_FENCE_KEEP_FROZEN;
		}
		timeout_s = (unsigned)t;
		i = 3;
	}
	if (argc != i + 1) {
		usage();
		return DRBD_FENCE_KEEP_FROZEN;
	}
	cmd = argv[i];
	res = getenv("DRBD_RESOURCE");
	if (!res || !*res)
		res = "(unknown)";
	if (!strcmp(cmd, "fence-peer"))
		return fence_peer(res, timeout_s);
	if (!strcmp(cmd, "unfence-peer")) {
		syslog(LOG_INFO, "resource %s: peer back in sync (unfence-peer)", res);
		return 0;
	}
	if (!strcmp(cmd, "split-brain")) {
		const char *peer = getenv("DRBD_PEER");

		syslog(LOG_CRIT, "resource %s: SPLIT BRAIN detected%s%s: DRBD left it "
		       "StandAlone; not resolved automatically: decide which node "
		       "loses its changes", res, peer ? " with " : "", peer ? peer : "");
		return 0;
	}
	usage();
	return DRBD_FENCE_KEEP_FROZEN;
}
