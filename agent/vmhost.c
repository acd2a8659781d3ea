/* The host side of HA; see vmhost.h.
 *
 * Everything happens in one reconcile pass, run (coalesced) after every
 * state change, every hypervisor event and once a second.  Each (VM,
 * generation) is acted on once: a create is not retried for the same
 * generation (the coordinator decides on the failure), a report is sent
 * once.  Stale instances are destroyed whatever their past.
 */
#define LOG_SUBSYS "vmhost"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard.h"
#include "hv.h"
#include "log.h"
#include "vmdisk.h"
#include "vmhost.h"
#include "vmhost_int.h"
#include "xlcfg.h"
#include "xm_error.h"

uint64_t
vmhost_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct memo *
memo_get(struct vmhost *vh, const char *name, uint64_t gen)
{
	for (size_t i = 0; i < vh->n_memo; i++)
		if (vh->memo[i].gen == gen && strcmp(vh->memo[i].name, name) == 0)
			return &vh->memo[i];
	if (vh->n_memo == MEMO_MAX) {
		/* the oldest generations matter least */
		memmove(&vh->memo[0], &vh->memo[1], (MEMO_MAX - 1) * sizeof(vh->memo[0]));
		vh->n_memo--;
	}
	struct memo *m = &vh->memo[vh->n_memo++];

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->gen = gen;
	return m;
}

const struct hv_domain *
dom_find(const struct hv_domain *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	return NULL;
}

static bool
keeps_domain(enum vm_state st)
{
	return st == VM_STATE_STARTING || st == VM_STATE_RUNNING ||
	       st == VM_STATE_STOPPING || st == VM_STATE_MIGRATING ||
	       st == VM_STATE_RECOVERING;
}

/* The destination's side of a live migration of v's instance gen. */
static bool
incoming_here(const struct vm_rec *v, uint32_t me, uint64_t gen)
{
	return v->state == VM_STATE_MIGRATING && !v->migrate_offline &&
	       v->migrate_to == me && v->generation == gen;
}

/* Its domain here is to shut down: a stop, or an offline move's first half. */
static bool
stops_here(const struct vm_rec *v)
{
	/* a save (agent/vmsave.c) is the way this stop goes */
	return (v->state == VM_STATE_STOPPING && !v->save_requested) ||
	       (v->state == VM_STATE_MIGRATING && v->migrate_offline);
}

static void
domain_resume(struct vmhost *vh, const struct vm_rec *v)
{
	int rc = vh->ops->resume(vh->hv, v->name);

	/* ours to run now: the commit of a migration here, or the abort of
	 * one from here */
	if (rc < 0)
		log_err("cannot resume VM %s (generation %" PRIu64 "): %s", v->name,
			v->generation, xm_strerror(rc));
	else
		log_notice("resumed VM %s (generation %" PRIu64 ")", v->name,
			   v->generation);
}

static int
domain_destroy(struct vmhost *vh, const char *name, const char *why)
{
	int rc = vh->ops->destroy(vh->hv, name);

	if (rc < 0)
		log_err("cannot destroy domain %s (%s): %s", name, why, xm_strerror(rc));
	else
		log_notice("destroyed domain %s: %s", name, why);
	return rc;
}

/* The SAN has been refused to us although the cluster admitted us: we
 * have been fenced and must not go on with cached data. */
void
storage_refused(struct vmhost *vh, const char *vm, const char *why)
{
	log_crit("storage of VM %s refused this host (%s): it has been fenced; "
		 "destroying every HA domain and resetting", vm, why);
	guard_fenced_by_cluster(vh->a);
}

/* SAN disks: wait until the VM's target admits this host alone (the SAN
 * says so in the state), then reach them.  0 go on, 1 not yet, or an
 * error with err. */
static int
vm_storage_ready(struct vmhost *vh, const struct vm_rec *v, struct vm_config *cfg,
		 struct memo *m, char *err, size_t errlen)
{
	int rc;

	if (!vmdisk_uses_san(cfg))
		return 0;
	if (!state_vm_has_volumes(&vh->a->rep.st, v->name)) {
		snprintf(err, errlen, "its disks name SAN volumes but VM %s has none "
			 "(agentctl volume create)", v->name);
		return -ENOENT;
	}
	if (v->storage_gen != v->generation) {
		if (!(m->done & DONE_WAIT_LOGGED))
			log_info("VM %s generation %" PRIu64 ": waiting for the SAN to "
				 "admit this host to its target", v->name, v->generation);
		m->done |= DONE_WAIT_LOGGED;
		return 1;
	}
	rc = vmdisk_prepare(vh->disk, v, cfg, err, errlen);
	if (rc == -EINPROGRESS)
		return 1;
	if (rc == XM_EFENCED)
		storage_refused(vh, v->name, err);
	return rc;
}

/* A start ended (rc 0 it runs; < 0 err says why): tell the coordinator. */
static void
vm_start_end(struct vmhost *vh, const struct vm_rec *v, struct memo *m, int rc,
	     const char *err)
{
	if (rc < 0) {
		log_err("cannot start VM %s (generation %" PRIu64 "): %s", v->name,
			v->generation, err);
		report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED, v, 0, err);
		m->done |= DONE_GONE;
		return;
	}
	log_notice("started VM %s, generation %" PRIu64, v->name, v->generation);
	report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED, v, 0, NULL);
	m->done |= DONE_STARTED;
}

static void
vm_create(struct vmhost *vh, const struct vm_rec *v, struct memo *m)
{
	struct vm_config *cfg;
	char err[512];
	int rc;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		m->done |= DONE_CREATE;
		report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED, v, 0,
			    "out of memory");
		m->done |= DONE_GONE;
		return;
	}
	rc = xlcfg_parse(v->config, strlen(v->config), v->name, cfg, err, sizeof(err));
	if (rc == 0) {
		rc = vm_storage_ready(vh, v, cfg, m, err, sizeof(err));
		if (rc == 1) {
			free(cfg);
			return;         /* the next pass looks again */
		}
	}
	/* the watchdog is armed before anything runs that it must protect */
	if (rc == 0)
		rc = guard_prepare_start(vh->a, err, sizeof(err));
	if (rc == -ECANCELED) {
		/* this host resets within its watchdog timeout: a failed start
		 * reported now would count against the VM (three such and it
		 * is failed for good); once the host is gone the cluster
		 * recovers it as any VM of a lost host */
		if (!(m->done & DONE_DOOMED_LOGGED))
			log_warn("not starting VM %s (generation %" PRIu64 "): %s",
				 v->name, v->generation, err);
		m->done |= DONE_DOOMED_LOGGED;
		free(cfg);
		return;
	}
	m->done |= DONE_CREATE;
	if (rc == 0 && v->saved_gen != 0) {
		rc = vmsave_resume_begin(vh, v, cfg, err, sizeof(err));
		if (rc == 0) {
			free(cfg);
			return;         /* its job reports the end */
		}
	} else if (rc == 0) {
		rc = vh->ops->create(vh->hv, cfg, v->generation);
		if (rc == 0) {
			log_info("creating VM %s, generation %" PRIu64, v->name,
				 v->generation);
			m->done |= DONE_CREATING;
			vh->creating++;
			free(cfg);
			return;         /* HV_EVENT_CREATED ends it */
		}
		if (rc < 0)
			snprintf(err, sizeof(err), "%s driver: %s", vh->ops->name,
				 xm_strerror(rc));
	}
	free(cfg);
	vm_start_end(vh, v, m, rc, err);
}

/* The end of a create that was in progress (HV_EVENT_CREATED). */
static void
vm_create_end(struct vmhost *vh, const struct hv_event *ev)
{
	const struct vm_rec *v = state_vm(&vh->a->rep.st, ev->name);
	char err[HV_REASON_MAX + 16];
	struct memo *m;

	if (vh->creating > 0)
		vh->creating--;
	if (v == NULL || v->host != vh->a->rep.local_id ||
	    v->generation != ev->generation) {
		/* the next pass destroys what is left of it as stale */
		log_info("create of domain %s (generation %" PRIu64 ") ended: %s",
			 ev->name, ev->generation, ev->result < 0 ? ev->reason :
			 "no longer the VM's instance here");
		return;
	}
	m = memo_get(vh, v->name, v->generation);
	m->done &= ~DONE_CREATING;
	m->done |= DONE_CREATE;
	if (ev->result == -ECANCELED) {
		/* we destroyed it: the pass that did knows why */
		log_info("create of VM %s (generation %" PRIu64 ") cancelled",
			 v->name, v->generation);
		return;
	}
	snprintf(err, sizeof(err), "%s driver: %s", vh->ops->name,
		 ev->reason[0] ? ev->reason : xm_strerror(ev->result));
	vm_start_end(vh, v, m, ev->result, err);
}

static void
unmanaged_set(struct vmhost *vh, const struct hv_domain *d, size_t n,
	      const struct state *st)
{
	size_t k = 0;

	free(vh->unmanaged);
	free(vh->unmanaged_ptrs);
	vh->unmanaged = calloc(n + 1, sizeof(*vh->unmanaged));
	vh->unmanaged_ptrs = calloc(n + 1, sizeof(*vh->unmanaged_ptrs));
	vh->n_unmanaged = 0;
	if (vh->unmanaged == NULL || vh->unmanaged_ptrs == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (state_vm(st, d[i].name) != NULL)
			continue;
		snprintf(vh->unmanaged[k], VM_NAME_MAX, "%s", d[i].name);
		vh->unmanaged_ptrs[k] = vh->unmanaged[k];
		k++;
	}
	vh->n_unmanaged = k;
}

/* Our domains against the state: keep, stop or destroy each. */
static void
reconcile_domains(struct vmhost *vh, const struct hv_domain *doms, size_t n,
		  bool gave_up_on_us)
{
	struct agent *a = vh->a;
	const struct state *st = &a->rep.st;
	uint32_t me = a->rep.local_id;

	vh->ha_domains = 0;
	vh->stale_left = 0;
	for (size_t i = 0; i < n; i++) {
		const struct vm_rec *v = state_vm(st, doms[i].name);
		struct memo *m;
		char why[160];

		if (v == NULL)
			continue;       /* unmanaged: never touched */
		/* a transfer under way: the migration job owns the domain and
		 * ends it, whatever the state says meanwhile */
		if (!gave_up_on_us && (migrate_busy(vh, v->name, doms[i].generation) ||
				       vmsave_busy(vh, v->name, doms[i].generation))) {
			vh->ha_domains++;
			continue;
		}
		/* an incoming migration's domain: paused until the commit */
		if (!gave_up_on_us && incoming_here(v, me, doms[i].generation)) {
			vh->ha_domains++;
			continue;
		}
		if (gave_up_on_us || v->host != me || v->generation != doms[i].generation ||
		    !keeps_domain(v->state)) {
			snprintf(why, sizeof(why), "stale instance (generation %" PRIu64
				 "; the cluster has %s generation %" PRIu64 " %s%s)",
				 doms[i].generation, v->name, v->generation,
				 gave_up_on_us ? "and is fencing this host" :
				 vm_state_name(v->state),
				 v->host == me || gave_up_on_us ? "" : " elsewhere");
			if (domain_destroy(vh, doms[i].name, why) < 0)
				vh->stale_left++;
			continue;
		}
		vh->ha_domains++;
		m = memo_get(vh, v->name, v->generation);
		if (m->done & DONE_CREATING)
			continue;       /* paused while built: its end decides */
		if ((v->state == VM_STATE_STARTING || v->state == VM_STATE_RECOVERING) &&
		    !(m->done & DONE_STARTED)) {
			/* ours and alive: a start done, or re-adopted after an
			 * agent restart */
			log_notice("VM %s generation %" PRIu64 " runs here%s", v->name,
				   v->generation, v->state == VM_STATE_RECOVERING ?
				   ": re-adopted" : "");
			if (report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED,
					v, 0, NULL) == 0)
				m->done |= DONE_STARTED | DONE_CREATE;
		}
		if (doms[i].paused && (v->state == VM_STATE_RUNNING ||
				       v->state == VM_STATE_STARTING ||
				       v->state == VM_STATE_RECOVERING))
			domain_resume(vh, v);
		if (stops_here(v)) {
			if (!(m->done & DONE_SHUTDOWN)) {
				int rc = vh->ops->shutdown(vh->hv, v->name);

				m->done |= DONE_SHUTDOWN;
				m->shutdown_at_ms = vmhost_now_ms();
				if (rc < 0)
					log_warn("shutdown of %s failed: %s; destroying it",
						 v->name, xm_strerror(rc));
				else
					log_notice("asked VM %s to shut down", v->name);
				if (rc < 0)
					domain_destroy(vh, v->name, "shutdown failed");
			} else if (vmhost_now_ms() - m->shutdown_at_ms > STOP_TIMEOUT_MS) {
				domain_destroy(vh, v->name, "did not shut down within 30 s");
			}
		}
	}
}

/* VMs assigned here against our domains: start, or report them gone. */
static void
reconcile_assigned(struct vmhost *vh, const struct hv_domain *doms, size_t n)
{
	const struct state *st = &vh->a->rep.st;
	uint32_t me = vh->a->rep.local_id;

	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		const struct hv_domain *d;
		struct memo *m;

		if (v->host != me || !keeps_domain(v->state))
			continue;
		d = dom_find(doms, n, v->name);
		if (d != NULL && d->generation == v->generation)
			continue;       /* handled with the domains */
		m = memo_get(vh, v->name, v->generation);
		if (m->done & DONE_CREATING)
			continue;       /* not listed yet: its end decides */
		if (v->state == VM_STATE_STARTING && !(m->done & DONE_CREATE)) {
			if (d != NULL)
				continue;       /* the stale one goes first */
			vm_create(vh, v, m);
			continue;
		}
		if (m->done & DONE_GONE)
			continue;
		/* gone while it was to be saved, with no save of it under way
		 * (a saved one is DONE_GONE): it stopped, without an image */
		if (stops_here(v) ||
		    (v->state == VM_STATE_STOPPING && !vmsave_busy(vh, v->name, v->generation))) {
			if (report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED,
					v, 0, NULL) == 0)
				m->done |= DONE_GONE;
		} else if (v->state == VM_STATE_RUNNING ||
			   v->state == VM_STATE_RECOVERING ||
			   (v->state == VM_STATE_MIGRATING &&
			    !migrate_busy(vh, v->name, v->generation)) ||
			   (v->state == VM_STATE_STARTING && (m->done & DONE_STARTED))) {
			log_warn("VM %s generation %" PRIu64 " is not running here "
				 "any more", v->name, v->generation);
			if (report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED, v,
					XENMESH__VM_EXIT__EXIT_CRASH, "domain vanished") == 0)
				m->done |= DONE_GONE;
		}
	}
}

/* Storage-fenced and back online: once no stale HA domain is left here,
 * ask to be unfenced (repeated until the flag is gone). */
static void
report_clean(struct vmhost *vh, const struct node_rec *self)
{
	Xenmesh__HostEvent ev = XENMESH__HOST_EVENT__INIT;
	uint64_t now = vmhost_now_ms();

	if (self == NULL || !(self->flags & NODE_FLAG_STORAGE_FENCED) ||
	    self->state != NODE_STATE_ONLINE || vh->stale_left > 0 ||
	    now - vh->clean_at_ms < 2000)
		return;
	vh->clean_at_ms = now;
	ev.kind = XENMESH__HOST_EVENT_KIND__HOST_CLEAN;
	ev.vm = "";
	ev.generation = 0;
	if (replica_report(&vh->a->rep, &ev) == 0)
		log_notice("no stale HA domain left here: asking to be unfenced");
}

/* Log out of the targets of VMs that are no longer ours. */
static void
release_targets(struct vmhost *vh)
{
	const struct state *st = &vh->a->rep.st;
	const char **mine = calloc(st->n_vms + 1, sizeof(*mine));
	size_t k = 0;

	if (mine == NULL)
		return;
	for (size_t i = 0; i < st->n_vms; i++)
		if ((st->vms[i].host == vh->a->rep.local_id && keeps_domain(st->vms[i].state)) ||
		    incoming_here(&st->vms[i], vh->a->rep.local_id, st->vms[i].generation))
			mine[k++] = st->vms[i].name;
	vmdisk_release_unused(vh->disk, mine, k);
	free(mine);
}

static void
reconcile(struct vmhost *vh)
{
	struct agent *a = vh->a;
	const struct state *st = &a->rep.st;
	const struct node_rec *self;
	struct hv_domain *doms = NULL;
	size_t n = 0;
	bool gave_up_on_us;
	int rc;

	rc = vh->ops->list(vh->hv, &doms, &n);
	if (rc < 0) {
		log_err("cannot list domains: %s", xm_strerror(rc));
		return;
	}
	unmanaged_set(vh, doms, n, st);
	/* Act only on a synced state of a quorate partition: without
	 * quorum the self-fence decides, before the sync we know nothing. */
	if (!a->rep.synced || !a->qv.quorate || a->rep.local_id == 0)
		goto out;
	self = state_node(st, a->rep.local_id);
	/* Unclean because only this agent was down (a restart): the
	 * coordinator takes the host back at the sync that just ended, so
	 * nothing is touched until it has; a fence it confirms first makes
	 * the domains stale.  Until then they are not counted either: the
	 * watchdog the old agent left armed is not petted for them. */
	if (self != NULL && self->state == NODE_STATE_UNCLEAN &&
	    (self->flags & NODE_FLAG_AGENT_DOWN)) {
		if (!vh->held_logged)
			log_notice("this host is unclean because its agent was down: "
				   "its domains are kept, untouched, until the "
				   "coordinator takes it back");
		vh->held_logged = true;
		goto out;
	}
	vh->held_logged = false;
	gave_up_on_us = self != NULL && (self->state == NODE_STATE_UNCLEAN ||
					 self->state == NODE_STATE_FENCED);
	reconcile_domains(vh, doms, n, gave_up_on_us);
	if (!gave_up_on_us && a->qv.ha_enabled)
		reconcile_assigned(vh, doms, n);
	if (!gave_up_on_us) {
		migrate_reconcile(vh, doms, n);
		vmsave_reconcile(vh, doms, n);
	}
	/* a stop refused by shutdown_policy=refuse goes ahead once the host
	 * has been drained */
	if (a->stop_when_empty && vh->ha_domains == 0) {
		log_notice("no HA domain runs here any more: stopping as asked");
		a->stop_when_empty = false;
		a->refuse_stop = false;
		agent_request_stop(a);
	}
	if (!gave_up_on_us) {
		facts_resend(vh);
		report_clean(vh, self);
	}
	release_targets(vh);
out:
	free(doms);
}

static void
reconcile_job(void *data)
{
	struct vmhost *vh = data;

	vh->kicked = false;
	reconcile(vh);
}

void
vmhost_kick(struct agent *a)
{
	struct vmhost *vh = a->vh;

	if (vh == NULL || vh->kicked)
		return;
	vh->kicked = true;
	(void)qb_loop_job_add(a->loop, QB_LOOP_MED, vh, reconcile_job);
}

static void
timer_fn(void *data)
{
	struct vmhost *vh = data;

	reconcile(vh);
	(void)qb_loop_timer_add(vh->a->loop, QB_LOOP_LOW,
				RECONCILE_PERIOD_MS * QB_TIME_NS_IN_MSEC, vh,
				timer_fn, &vh->timer);
}

/* A domain ended (or was destroyed): tell the coordinator. */
static void
hv_event(struct vmhost *vh, const struct hv_event *ev)
{
	const struct state *st = &vh->a->rep.st;
	const struct vm_rec *v = state_vm(st, ev->name);
	Xenmesh__VmExit exit;
	struct memo *m;

	if (ev->kind == HV_EVENT_MIGRATE_SENT || ev->kind == HV_EVENT_MIGRATE_RECEIVED) {
		if (!vmsave_hv_event(vh, ev))
			migrate_hv_event(vh, ev);
		return;
	}
	if (ev->kind == HV_EVENT_CREATED) {
		vm_create_end(vh, ev);
		return;
	}
	log_info("domain %s (generation %" PRIu64 ") %s", ev->name, ev->generation,
		 ev->kind == HV_EVENT_POWEROFF ? "powered off" :
		 ev->kind == HV_EVENT_REBOOT ? "rebooted" :
		 ev->kind == HV_EVENT_CRASH ? "crashed" :
		 ev->kind == HV_EVENT_FENCED ? "was refused its storage" :
		 ev->kind == HV_EVENT_STORAGE_LOST ? "lost its storage" : "was destroyed");
	if (ev->kind == HV_EVENT_FENCED && v != NULL &&
	    v->host == vh->a->rep.local_id)
		storage_refused(vh, ev->name, "the target rejected the login");
	if (v == NULL || v->host != vh->a->rep.local_id ||
	    v->generation != ev->generation)
		return;
	m = memo_get(vh, v->name, v->generation);
	if (m->done & DONE_GONE)
		return;
	if (stops_here(v)) {
		if (report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED, v, 0,
				NULL) == 0)
			m->done |= DONE_GONE;
		return;
	}
	if (ev->kind == HV_EVENT_DESTROYED)
		return;         /* we did it: reconcile knows why */
	exit = ev->kind == HV_EVENT_POWEROFF ? XENMESH__VM_EXIT__EXIT_POWEROFF :
	       ev->kind == HV_EVENT_REBOOT ? XENMESH__VM_EXIT__EXIT_REBOOT :
	       ev->kind == HV_EVENT_STORAGE_LOST ? XENMESH__VM_EXIT__EXIT_STORAGE :
	       XENMESH__VM_EXIT__EXIT_CRASH;
	/* not reported (no coordinator now): the next pass finds the
	 * domain gone and reports it then */
	if (report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED, v, exit, NULL) == 0)
		m->done |= DONE_GONE;
}

static int
hv_event_fn(int fd, int revents, void *data)
{
	struct vmhost *vh = data;
	struct hv_event ev;

	while (vh->ops->event_next(vh->hv, &ev) == 0)
		hv_event(vh, &ev);
	vmhost_kick(vh->a);
	return 0;
}

int
vmhost_open(struct agent *a, bool quiet)
{
	struct hv_params p;
	struct vmhost *vh;
	uint64_t total = 0, free_mb = 0;
	int rc;

	vh = calloc(1, sizeof(*vh));
	if (vh == NULL)
		return -ENOMEM;
	vh->memo = calloc(MEMO_MAX, sizeof(*vh->memo));
	if (vh->memo == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	vh->a = a;
	vh->ops = hv_driver_find(a->cfg.hv_driver);
	if (vh->ops == NULL) {
		log_err("hypervisor driver %s is not part of this build",
			a->cfg.hv_driver);
		rc = -ENOTSUP;
		goto out_free;
	}
	memset(&p, 0, sizeof(p));
	p.host_name = a->node_name;
	p.run_dir = a->cfg.run_dir;
	p.host_mem_mb = a->cfg.mem_total_mb ? a->cfg.mem_total_mb : 4096;
	p.guest_path = a->cfg.hv_guest;
	p.replacement_s = (unsigned)a->cfg.replacement_timeout_s;
	p.stop_copy = strcmp(a->cfg.hv_migration, "stop-copy") == 0;
	rc = vmdisk_open(&vh->disk, a, strcmp(vh->ops->name, "proc") != 0);
	if (rc < 0)
		goto out_free;
	p.initiator = vmdisk_initiator(vh->disk);
	rc = vh->ops->open(&vh->hv, &p);
	if (rc < 0) {
		qb_log(quiet ? LOG_DEBUG : LOG_ERR, "[vmhost] cannot open the %s "
		       "hypervisor driver: %s", vh->ops->name, xm_strerror(rc));
		goto out_free;
	}
	rc = migrate_open(vh);
	if (rc < 0)
		goto out_close;
	vh->event_fd = vh->ops->event_fd(vh->hv);
	if (vh->event_fd >= 0) {
		rc = qb_loop_poll_add(a->loop, QB_LOOP_HIGH, vh->event_fd, POLLIN, vh,
				      hv_event_fn);
		if (rc < 0)
			goto out_close;
	}
	(void)vh->ops->host_memory(vh->hv, &total, &free_mb);
	log_notice("hypervisor driver %s: %" PRIu64 " MB, %" PRIu64 " MB free",
		   vh->ops->name, total, free_mb);
	a->vh = vh;
	(void)qb_loop_timer_add(a->loop, QB_LOOP_LOW,
				RECONCILE_PERIOD_MS * QB_TIME_NS_IN_MSEC, vh,
				timer_fn, &vh->timer);
	return 0;

out_close:
	migrate_close(vh);
	vh->ops->close(vh->hv);
out_free:
	vmdisk_close(vh->disk);
	free(vh->memo);
	free(vh);
	return rc;
}

void
vmhost_close(struct agent *a)
{
	struct vmhost *vh = a->vh;

	if (vh == NULL)
		return;
	if (vh->timer != 0)
		(void)qb_loop_timer_del(a->loop, vh->timer);
	if (vh->event_fd >= 0)
		(void)qb_loop_poll_del(a->loop, vh->event_fd);
	vmsave_close(vh);
	migrate_close(vh);
	vh->ops->close(vh->hv);
	vmdisk_close(vh->disk);
	free(vh->unmanaged);
	free(vh->unmanaged_ptrs);
	free(vh->memo);
	free(vh);
	a->vh = NULL;
}

unsigned
vmhost_destroy_ha(struct agent *a, const char *why)
{
	struct vmhost *vh = a->vh;
	struct hv_domain *doms = NULL;
	size_t n = 0;
	unsigned k = 0;

	if (vh == NULL || vh->ops->list(vh->hv, &doms, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (state_vm(&a->rep.st, doms[i].name) == NULL)
			continue;
		domain_destroy(vh, doms[i].name, why);
		k++;
	}
	free(doms);
	vh->ha_domains = 0;
	return k;
}

unsigned
vmhost_ha_count(struct agent *a)
{
	return a->vh != NULL ? a->vh->ha_domains : 0;
}

unsigned
vmhost_ha_now(struct agent *a)
{
	struct vmhost *vh = a->vh;
	struct hv_domain *doms = NULL;
	size_t n = 0;
	unsigned k;

	if (vh == NULL)
		return 0;
	/* a listing that fails must not pass for an empty host */
	if (vh->ops->list(vh->hv, &doms, &n) < 0)
		return vh->ha_domains > 0 ? vh->ha_domains : 1;
	/* a create in progress counts before its domain exists */
	k = migrate_incoming(vh) + vmsave_incoming(vh) + vh->creating;
	for (size_t i = 0; i < n; i++)
		if (state_vm(&a->rep.st, doms[i].name) != NULL)
			k++;
	free(doms);
	return k;
}

int
vmhost_memory(struct agent *a, uint64_t *total_mb, uint64_t *free_mb)
{
	if (a->vh == NULL)
		return -ENODEV;
	return a->vh->ops->host_memory(a->vh->hv, total_mb, free_mb);
}

size_t
vmhost_unmanaged(struct agent *a, const char *const **names)
{
	if (a->vh == NULL || a->vh->unmanaged_ptrs == NULL) {
		*names = NULL;
		return 0;
	}
	*names = a->vh->unmanaged_ptrs;
	return a->vh->n_unmanaged;
}
