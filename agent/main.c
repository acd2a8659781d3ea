/* xenmeshd: the xenmesh peer agent, one per dom0 and SAN node. */
#define LOG_SUBSYS "main"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xmconfig.h"

#include "agent.h"
#include "alert.h"
#include "cluster.h"
#include "config.h"
#include "coord.h"
#include "ctl_create.h"
#include "ctl_forward.h"
#include "vmsave.h"
#include "ctl_backup.h"
#include "ctl_server.h"
#include "guard.h"
#include "log.h"
#include "metrics_agent.h"
#include "nodeconf.h"
#include "notify_agent.h"
#include "peer_hub.h"
#include "persist.h"
#include "san.h"
#include "unsafe.h"
#include "vmhost.h"
#include "wire.h"
#include "xm_error.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: xenmeshd [-c FILE] [-f] [--check] [-h] [--version]\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -f, --foreground   log to stderr as well as syslog\n"
		"  -n, --check        parse the configuration and exit\n"
		"  -h, --help         this text\n"
		"      --version      print the version and protocol\n",
		XM_CONFIG_DEFAULT);
}

/* mkdir -p with mode for the last component; existing is fine. */
static int
dir_ensure(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Our messages all start with "[subsys]"; libqb's own debug chatter (ring
 * buffer sizes on every agentctl call) is held at info. */
static void
log_filter(int32_t target, int level)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  level < LOG_INFO ? level : LOG_INFO);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "[",
			  level);
}

static void
log_setup(const struct xm_config *cfg, bool foreground)
{
	qb_log_init("xenmeshd", LOG_DAEMON, cfg->log_level);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE,
			  "*", LOG_EMERG);
	log_filter(QB_LOG_SYSLOG, cfg->log_level);
	if (foreground || cfg->log_to_stderr) {
		log_filter(QB_LOG_STDERR, cfg->log_level);
		qb_log_format_set(QB_LOG_STDERR, "%t %N[%P] %p: %b");
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
}

/*
 * The state file: missing is a fresh node; corrupt is set aside (renamed,
 * never deleted) and the state comes from the peers at the sync round.
 */
static int
state_recover(struct agent *a)
{
	struct state s;
	char why[200] = "";
	char moved[PATH_MAX] = "";
	int rc;

	state_init(&s);
	rc = persist_load(a->cfg.state_dir, &s, why, sizeof(why));
	if (rc == -ENOENT) {
		log_notice("no state file in %s: starting empty, the peers "
			   "will provide the state", a->cfg.state_dir);
		rc = 0;
		goto out;
	}
	if (rc == XM_ECORRUPT) {
		int mv = persist_set_aside(a->cfg.state_dir, moved, sizeof(moved));

		log_err("state file %s/%s is corrupt (%s); set aside as %s, "
			"recovering the state from peers", a->cfg.state_dir,
			PERSIST_FILE, why, mv == 0 ? moved : "(rename failed)");
		(void)eventlog_add(&a->events, 0, 0, 0, "state",
				   "corrupt state file set aside as %s (%s); "
				   "recovering from peers",
				   mv == 0 ? moved : "(rename failed)", why);
		rc = mv;
		goto out;
	}
	if (rc < 0) {
		log_err("cannot read state file in %s: %s", a->cfg.state_dir,
			xm_strerror(rc));
		goto out;
	}
	rc = replica_load(&a->rep, &s);
	if (rc == 0)
		log_notice("state recovered from disk: epoch %" PRIu64 " seq %"
			   PRIu64 ", %zu nodes", s.epoch, s.seq, s.n_nodes);
out:
	state_free(&s);
	return rc;
}

/* The hypervisor may come up after us (xenstored at boot): a dom0 tries
 * again until its driver opens, and reports no memory until then, so that
 * no VM is placed where it cannot start. */
static void vmhost_retry_fn(void *data);

static void
vmhost_try_open(struct agent *a)
{
	int rc = vmhost_open(a, a->vmhost_tries > 0);

	if (rc == 0) {
		if (a->vmhost_tries > 0)
			log_notice("hypervisor driver open after %u attempts: this "
				   "host takes VMs", a->vmhost_tries + 1);
		a->vmhost_tries = 0;
		return;
	}
	if (a->vmhost_tries++ == 0)
		log_err("no hypervisor driver: this host takes no VMs (%s)%s",
			xm_strerror(rc), rc == -ENOTSUP ? "" : "; trying again "
			"every 5 s");
	if (rc == -ENOTSUP || a->stopping)
		return;
	(void)qb_loop_timer_add(a->loop, QB_LOOP_LOW, VMHOST_RETRY_MS * QB_TIME_NS_IN_MSEC,
				a, vmhost_retry_fn, &a->vmhost_retry);
}

static void
vmhost_retry_fn(void *data)
{
	struct agent *a = data;

	if (!a->stopping && a->vh == NULL)
		vmhost_try_open(a);
}

void
agent_services_start(struct agent *a)
{
	int rc;

	a->services_started = true;
	if (guard_start(a) < 0)
		log_err("cannot start the self-fence guard");
	/* live migration, saves and forwarded requests; retried on its own
	 * when it cannot open yet */
	(void)peer_hub_open(a);
	if (a->cfg.role == NODE_ROLE_DOM0)
		vmhost_try_open(a);
	rc = coord_start(a);
	if (rc < 0)
		log_err("cannot start the coordinator's runner: %s", xm_strerror(rc));
	rc = san_start(a);
	if (rc < 0)
		log_err("cannot start the SAN side: %s", xm_strerror(rc));
}

static void
stop_done(struct agent *a)
{
	qb_loop_stop(a->loop);
}

static void
san_down(struct agent *a)
{
	cluster_leave(a, stop_done);
}

static int32_t
signal_stop(int32_t sig, void *data)
{
	struct agent *a = data;

	if (a->refuse_stop && vmhost_ha_count(a) > 0) {
		log_crit("signal %d ignored: shutdown_policy is refuse and %u HA "
			 "domains run here; drain the host (agentctl node drain %s), "
			 "then the agent stops", sig, vmhost_ha_count(a), a->node_name);
		a->stop_when_empty = true;
		return 0;
	}
	if (a->stopping) {
		log_warn("signal %d during shutdown: stopping now", sig);
		qb_loop_stop(a->loop);
		return 0;
	}
	a->stopping = true;
	notify_agent_stopping(a, "stopping on a signal");
	if (vmhost_ha_count(a) > 0) {
		/* Not a clean leave: the others would take the host as gone
		 * and start its VMs elsewhere while they still run here.  As
		 * a stopped agent it stays unclean with the watchdog armed; an
		 * agent back within the grace period re-adopts its domains. */
		log_warn("signal %d: %u HA domains run here: stopping without a "
			 "clean leave, watchdog armed (drain the host first to "
			 "take it down)", sig, vmhost_ha_count(a));
		qb_loop_stop(a->loop);
		return 0;
	}
	/* a SAN node unexports (portal first) before it leaves, so the
	 * other one may take over at once */
	if (san_shutdown(a, san_down)) {
		log_notice("signal %d: taking the targets down, then leaving", sig);
		return 0;
	}
	log_notice("signal %d: leaving the cluster cleanly", sig);
	cluster_leave(a, stop_done);
	return 0;
}

void
agent_request_stop(struct agent *a)
{
	(void)signal_stop(SIGTERM, a);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent a;
	const char *conf = XM_CONFIG_DEFAULT;
	bool foreground = false, check = false;
	char err[512];
	qb_loop_signal_handle sig_term, sig_int;
	int opt, rc, status = EXIT_FAILURE;

	while ((opt = getopt_long(argc, argv, "c:fnh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("xenmeshd %s (protocol %d.%d)\n", PACKAGE_VERSION,
			       XM_PROTO_MAJOR, XM_PROTO_MINOR);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xenmeshd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	memset(&a, 0, sizeof(a));
	a.events.fd = -1;
	metrics_init(&a.metrics, (uint64_t)time(NULL) * 1000);
	config_defaults(&a.cfg);
	rc = config_load(conf, &a.cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "xenmeshd: %s\n", err);
		return EXIT_FAILURE;
	}
	if (check) {
		printf("%s: ok\n", conf);
		return EXIT_SUCCESS;
	}

	log_setup(&a.cfg, foreground);
#ifdef XM_UNSAFE_TEST_BUILD
	if (xm_unsafe_modes() != NULL)
		log_crit("UNSAFE TEST BUILD: safety rules switched off on purpose "
			 "(XM_UNSAFE=%s): for the fault campaign only, never on a "
			 "real cluster", xm_unsafe_modes());
#endif
	replica_init(&a.rep, 0, &cluster_replica_ops, &a, 1024);
	rc = dir_ensure(a.cfg.state_dir, 0700);
	if (rc == 0)
		rc = dir_ensure(a.cfg.run_dir, 0755);
	if (rc < 0) {
		log_err("cannot create %s or %s: %s", a.cfg.state_dir,
			a.cfg.run_dir, xm_strerror(rc));
		goto out_log;
	}
	rc = eventlog_open(&a.events, a.cfg.state_dir);
	if (rc < 0)
		log_warn("cannot open %s/%s: %s; events kept in memory only, ignoring",
			 a.cfg.state_dir, EVENTLOG_FILE, xm_strerror(rc));
	rc = state_recover(&a);
	if (rc < 0)
		goto out_events;

	a.loop = qb_loop_create();
	if (a.loop == NULL) {
		log_err("cannot create the main loop");
		goto out_events;
	}
	(void)qb_loop_signal_add(a.loop, QB_LOOP_HIGH, SIGTERM, &a, signal_stop,
				 &sig_term);
	(void)qb_loop_signal_add(a.loop, QB_LOOP_HIGH, SIGINT, &a, signal_stop,
				 &sig_int);
	signal(SIGPIPE, SIG_IGN);

	rc = ctl_server_start(&a);
	if (rc < 0) {
		log_err("cannot start the agentctl endpoint: %s", xm_strerror(rc));
		goto out_loop;
	}
	(void)alert_agent_start(&a);    /* logged; the agent runs without */
	rc = nodeconf_start(&a);
	if (rc < 0)
		log_err("cannot start the corosync.conf writer: %s (node add and "
			"forget will not reach this node's file)", xm_strerror(rc));
	rc = cluster_start(&a);
	if (rc < 0) {
		log_err("cannot start the cluster connection: %s", xm_strerror(rc));
		goto out_ctl;
	}
	notify_agent_start(&a);
	(void)metrics_agent_start(&a);
	log_notice("xenmeshd %s started (role %s, state in %s)", PACKAGE_VERSION,
		   node_role_name(a.cfg.role), a.cfg.state_dir);
	qb_loop_run(a.loop);
	log_notice("xenmeshd stopped");
	status = EXIT_SUCCESS;
	metrics_agent_stop(&a);
	notify_agent_stop(&a);

	ctl_create_stop(&a);
	ctl_backup_stop(&a);
	san_stop(&a);
	coord_stop(&a);
	guard_stop(&a, true);
	peer_hub_close(&a);             /* ends migrations and forwards */
	ctl_forward_stop(&a);
	saveimg_stop(&a);
	vmhost_close(&a);
	cluster_stop(&a);
	state_save_stop(&a);
out_ctl:
	ctl_server_stop(&a);
	nodeconf_stop(&a);
	alert_agent_stop(&a);
out_loop:
	qb_loop_destroy(a.loop);
out_events:
	eventlog_close(&a.events);
	replica_free(&a.rep);
out_log:
	qb_log_fini();
	return status;
}
