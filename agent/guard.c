/* The self-fence guard; see guard.h.
 *
 * Petting happens only from here, on a timer of the one main loop: a hung
 * agent stops petting just like a hung corosync (whose heartbeats stop
 * coming back).  Once begun, a self-fence is never called off.
 */
#define LOG_SUBSYS "guard"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "clock.h"
#include "cluster.h"
#include "guard.h"
#include "san.h"
#include "log.h"
#include "selffence.h"
#include "vmhost.h"
#include "watchdog.h"
#include "xm_error.h"

#define T_HB_DEFAULT_MS 5000
#define BEAT_MS         333     /* well under any T_hb (at least 2 s) */

struct guard {
	struct agent *a;
	struct watchdog *wd;            /* armed: open only once engaged */
	const struct watchdog_ops *ops;
	unsigned timeout_s;
	struct selffence sf;
	qb_loop_timer_handle timer;
	uint64_t beat_seq;
	char refusal[320];
	uint64_t hold_until_ms;         /* a start is being prepared */
	bool announced_begin;
};

static int
watchdog_open_cfg(struct guard *g, char *why, size_t whylen)
{
	struct agent *a = g->a;
	struct watchdog_params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.path = a->cfg.watchdog_path;
	p.node_name = a->node_name;
	p.timeout_s = (unsigned)a->cfg.watchdog_timeout_s;
	rc = watchdog_open(g->ops, &g->wd, &p, why, whylen);
	if (rc == 0)
		rc = watchdog_timeout_get(g->wd, &g->timeout_s);
	return rc;
}

/* Armed once this host has something to protect: before its first quorum
 * a node may wait for its peers for as long as it takes. */
static int
guard_arm(struct guard *g)
{
	char why[256] = "";
	int rc = watchdog_open_cfg(g, why, sizeof(why));

	if (rc < 0) {
		log_err("cannot arm the %s watchdog: %s", g->a->cfg.watchdog,
			why[0] ? why : xm_strerror(rc));
		watchdog_close(g->wd, true);
		g->wd = NULL;
		return rc;
	}
	log_notice("watchdog %s armed, timeout %u s", watchdog_name(g->wd),
		   g->timeout_s);
	return 0;
}

static void
guard_disarm(struct guard *g, const char *why)
{
	watchdog_close(g->wd, true);
	g->wd = NULL;
	log_notice("watchdog disarmed: %s", why);
}

/* Armed only while there is something to protect: HA domains here, or a
 * start being prepared.  A host with none may lose quorum, or corosync,
 * without being reset: nothing of it needs the deadline W. */
static bool
guard_needed(struct guard *g)
{
	return vmhost_ha_count(g->a) > 0 || san_exporting(g->a) ||
	       mono_ms() < g->hold_until_ms;
}

static void
act(struct guard *g, enum selffence_action action)
{
	struct agent *a = g->a;
	unsigned destroyed;
	int rc;

	if (action == SELFFENCE_PET && g->ops != NULL) {
		/* The count is the last pass's: a start that took longer than
		 * its hold (libxl's create blocks the loop; seen over 60 s
		 * under QEMU) ends before a pass counts its domain.  The
		 * hypervisor, asked now, decides a disarm. */
		if (!guard_needed(g) &&
		    (g->wd == NULL || (vmhost_ha_now(a) == 0 && !san_exporting(a)))) {
			if (g->wd != NULL)
				guard_disarm(g, "no HA domain runs here");
			return;
		}
		if (g->wd == NULL && guard_arm(g) < 0)
			return;
		rc = watchdog_pet(g->wd);
		if (rc < 0)
			log_err("cannot pet the %s watchdog: %s", watchdog_name(g->wd),
				xm_strerror(rc));
		return;
	}
	if (action != SELFFENCE_BEGIN || g->announced_begin)
		return;
	/* Decided from the hypervisor now, not from the pass-old count or
	 * the hold of a recent start: the domains of a host that just
	 * stopped or moved them all (a clean shutdown whose peers left
	 * first) are gone, and resetting it would protect nothing. */
	if (vmhost_ha_now(a) == 0 && !san_exporting(a)) {
		/* nothing here to fence: start afresh, as a host that never
		 * had quorum (an armed watchdog is closed cleanly: its last
		 * domain may have gone a moment ago, before a pet disarmed it) */
		log_notice("%s; no HA domain runs here, nothing to self-fence",
			   selffence_reason_str(g->sf.reason));
		if (g->wd != NULL)
			guard_disarm(g, "no HA domain runs here");
		uint32_t t_hb = g->sf.t_hb_ms;

		selffence_init(&g->sf, t_hb);
		return;
	}
	g->announced_begin = true;
	/* a heal before the reset must not make this host act again */
	replica_doomed(&a->rep);
	destroyed = vmhost_destroy_ha(a, "self-fence");
	log_crit("self-fence: %s; destroyed %u HA domains and stopped petting the "
		 "watchdog: this host resets within %u s", selffence_reason_str(g->sf.reason),
		 destroyed, g->timeout_s);
	(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq,
			   a->rep.local_id, "fence",
			   "self-fence begun (%s): %u HA domains destroyed, watchdog "
			   "no longer petted", selffence_reason_str(g->sf.reason),
			   destroyed);
	/* likely never delivered (the reset comes within the watchdog
	 * timeout), but a node that outlives it is news */
	alert_raise(a, ALERT_SELF_FENCE, a->rep.local_id, NULL,
		    "self-fence begun on %s (%s): %u HA domains destroyed, "
		    "resetting within %u s", a->node_name,
		    selffence_reason_str(g->sf.reason), destroyed, g->timeout_s);
}

int
guard_prepare_start(struct agent *a, char *why, size_t whylen)
{
	struct guard *g = a->guard;
	int rc;

	if (g == NULL || g->ops == NULL) {
		snprintf(why, whylen, "%s", g != NULL && g->refusal[0] ? g->refusal :
			 "no usable watchdog on this host");
		return -ENODEV;
	}
	if (selffence_begun(&g->sf)) {
		snprintf(why, whylen, "this host has begun its self-fence");
		return -ECANCELED;
	}
	if (!selffence_should_pet(&(struct selffence_input){
		    .quorate = g->sf.quorate, .now_ms = mono_ms(),
		    .last_heartbeat_back_ms = g->sf.last_heartbeat_back_ms,
		    .t_hb_ms = g->sf.t_hb_ms, .self_fence_begun = false })) {
		snprintf(why, whylen, "not quorate, or own heartbeat not back: "
			 "the watchdog cannot be armed now");
		return -EAGAIN;
	}
	g->hold_until_ms = mono_ms() + 60000;
	if (g->wd == NULL) {
		rc = guard_arm(g);
		if (rc < 0) {
			snprintf(why, whylen, "cannot arm the %s watchdog: %s",
				 a->cfg.watchdog, xm_strerror(rc));
			return rc;
		}
	}
	rc = watchdog_pet(g->wd);
	if (rc < 0)
		snprintf(why, whylen, "cannot pet the watchdog: %s", xm_strerror(rc));
	return rc;
}

static void
beat(struct guard *g)
{
	Xenmesh__Envelope env = XENMESH__ENVELOPE__INIT;
	Xenmesh__Heartbeat hb = XENMESH__HEARTBEAT__INIT;

	if (!g->a->rep.joined)
		return;
	hb.seq = ++g->beat_seq;
	env.sender = g->a->rep.local_id;
	env.body_case = XENMESH__ENVELOPE__BODY_HEARTBEAT;
	env.heartbeat = &hb;
	(void)cluster_replica_ops.mcast(g->a, &env);
}

static void
timer_fn(void *data)
{
	struct guard *g = data;

	beat(g);
	act(g, selffence_tick(&g->sf, mono_ms()));
	replica_stalled(&g->a->rep, selffence_heartbeat_stalled(&g->sf, mono_ms()));
	(void)qb_loop_timer_add(g->a->loop, QB_LOOP_HIGH, BEAT_MS * QB_TIME_NS_IN_MSEC,
				g, timer_fn, &g->timer);
}

int
guard_start(struct agent *a)
{
	struct guard *g;
	char why[256] = "";
	int rc;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->a = a;
	selffence_init(&g->sf, T_HB_DEFAULT_MS);
	a->guard = g;
	if (strcmp(a->cfg.watchdog, "none") == 0) {
		snprintf(g->refusal, sizeof(g->refusal), "no watchdog configured "
			 "([fencing] watchdog = none): this host takes no HA VMs");
	} else {
		/* probe now (open, read the timeout, disarm), arm later */
		g->ops = watchdog_ops_find(a->cfg.watchdog);
		rc = g->ops != NULL ? watchdog_open_cfg(g, why, sizeof(why)) : -ENOTSUP;
		watchdog_close(g->wd, true);
		g->wd = NULL;
		if (rc < 0) {
			snprintf(g->refusal, sizeof(g->refusal), "watchdog %s (%.80s) not "
				 "usable: %.100s: this host takes no HA VMs", a->cfg.watchdog,
				 a->cfg.watchdog_path, why[0] ? why : xm_strerror(rc));
			g->ops = NULL;
			g->timeout_s = 0;
		}
	}
	if (g->refusal[0] != '\0')
		log_warn("%s", g->refusal);
	else
		log_notice("watchdog %s (%s) usable, timeout %u s; armed once quorate",
			   a->cfg.watchdog, a->cfg.watchdog_path, g->timeout_s);
	(void)qb_loop_timer_add(a->loop, QB_LOOP_HIGH, BEAT_MS * QB_TIME_NS_IN_MSEC,
				g, timer_fn, &g->timer);
	return 0;
}

void
guard_stop(struct agent *a, bool clean)
{
	struct guard *g = a->guard;
	bool magic;

	if (g == NULL)
		return;
	if (g->timer != 0)
		(void)qb_loop_timer_del(a->loop, g->timer);
	/* disarm only when nothing could still write after we are gone */
	magic = clean && selffence_magic_close_ok(&g->sf, vmhost_ha_count(a));
	if (g->wd != NULL && !magic)
		log_warn("stopping with the watchdog armed (%s): the host resets "
			 "unless xenmeshd is back within %u s",
			 selffence_begun(&g->sf) ? "self-fence begun" :
			 "HA domains still run here", g->timeout_s);
	watchdog_close(g->wd, magic);
	free(g);
	a->guard = NULL;
}

void
guard_quorum(struct agent *a, bool quorate)
{
	struct guard *g = a->guard;
	uint32_t token, consensus;

	if (g == NULL)
		return;
	if (cluster_totem_ms(a, &token, &consensus) == 0)
		g->sf.t_hb_ms = selffence_t_hb_ms(token, consensus);
	act(g, selffence_on_quorum(&g->sf, quorate, mono_ms()));
}

void
guard_fenced_by_cluster(struct agent *a)
{
	struct guard *g = a->guard;

	if (g != NULL)
		act(g, selffence_on_fenced_by_cluster(&g->sf, mono_ms()));
}

void
guard_heartbeat_back(struct agent *a)
{
	struct guard *g = a->guard;

	if (g != NULL) {
		act(g, selffence_on_heartbeat_back(&g->sf, mono_ms()));
		replica_stalled(&a->rep, selffence_heartbeat_stalled(&g->sf, mono_ms()));
	}
}

uint32_t
guard_watchdog_s(const struct agent *a)
{
	return a->guard != NULL ? a->guard->timeout_s : 0;
}

const char *
guard_refusal(const struct agent *a)
{
	if (a->guard == NULL || a->guard->refusal[0] == '\0')
		return NULL;
	return a->guard->refusal;
}
