/* The `xl` hypervisor driver, on libxenlight (Xen 4.17).
 *
 * Events, without a thread and without polling: libxl's fds and timeouts
 * come to us through libxl_osevent_register_hooks and go into one epoll
 * set (fds as dups, so libxl may register one fd twice; timeouts as one
 * CLOCK_REALTIME timerfd armed for the earliest, libxl's times being
 * gettimeofday ones).  The epoll fd is what event_fd() returns; the agent
 * polls it in its qb_loop, and event_next() hands what became ready to
 * libxl_osevent_occurred_fd/_timeout, one at a time (libxl may deregister
 * anything from inside those calls).  An eventfd in the same set keeps it
 * readable while converted events wait in our queue.  The hooks and that
 * pump are in agent/hv_xl_ev.c.
 *
 * Domain deaths: libxl_evenable_domain_death for every domain we create
 * and every managed domain list() finds (re-adoption after an agent
 * restart).  Its events reach event_occurs (registered with
 * libxl_event_register_callbacks), which only queues: DOMAIN_SHUTDOWN by
 * reason (poweroff -> POWEROFF; reboot and soft-reset -> REBOOT, which
 * the agent recreates, since libxl leaves that to its caller; crash,
 * watchdog, unknown -> CRASH; suspend is ignored, the domain stays
 * tracked), DOMAIN_DEATH without a shutdown -> CRASH (destroyed behind our
 * back).  event_next() then destroys the remains of a shut-down domain
 * before handing out its event, as xl does; the on_* actions are the
 * agent's to apply (its restart policy), so preserve and coredump are not
 * carried out here.  libxl reports one shutdown per watch (the watch then
 * only reports the death), so a domain that runs again after a suspend
 * is watched afresh (see migration below).
 *
 * Generations live in xenstore at /local/domain/DOMID/xenmesh/generation,
 * written with libxenstore (xs_write; libxl has no field for it and does
 * not share its handle) after the create and before the unpause, so a
 * domain never runs without one: an agent that dies in between finds a
 * paused domain with its generation and adopts or destroys it.  The node is set to
 * dom0-only permissions (the guest must never forge its generation);
 * libxl removes /local/domain/DOMID when the domain is destroyed.
 *
 * Create is asynchronous (ao_how with a callback, in agent/hv_xl_mig.c
 * with the migrations): it takes seconds (hotplug scripts, a bootloader,
 * a device model), minutes on a starved dom0, and the agent's loop pets
 * the watchdogs.  The domain exists, paused and without a generation,
 * while libxl builds it: list() reports it as the instance being
 * created.  When libxl is done the generation is written, the death watch
 * enabled and the domain unpaused, then HV_EVENT_CREATED says so.
 * destroy() of a domain being created aborts the create (libxl_ao_abort)
 * and destroys what exists of it at once and again when libxl ends.
 *
 * Synchronous libxl calls (ao_how NULL): destroy, shutdown, resume and
 * unpause block the agent's loop for their duration.  libxl runs its own
 * inner loop meanwhile, so death events of other domains (and
 * completions) can arrive inside them; event_occurs only queues, never
 * calls libxl.
 *
 * Children: libxl forks (hotplug scripts, bootloader, device model) while
 * the agent's runner forks its own; libxl is set to
 * libxl_sigchld_owner_libxl_always_selective_reap: libxl owns SIGCHLD and
 * reaps only its children, the runner waits for its own by pid.  Nothing
 * else in xenmeshd may install a SIGCHLD handler.
 *
 * Live migration (agent/hv_xl_mig.c) is `xl migrate`'s libxl part on the
 * agent's fd, without xl's own header, ssh pipe and ready/go banners: the
 * agent's commit protocol replaces them.  Both ends are asynchronous libxl
 * operations (ao_how with a callback), run by the same pump as everything
 * else; the callback only marks the operation done, and event_next()
 * turns it into HV_EVENT_MIGRATE_SENT/_RECEIVED.  Source:
 * libxl_domain_suspend(LIBXL_SUSPEND_LIVE) leaves the domain shut down
 * with reason suspend (the death watch ignores that: no crash, nothing
 * destroyed; list() shows it paused) until destroy() after the commit or
 * resume() after an abort: libxl_domain_resume(suspend_cancel=1), as xl
 * does when a migration fails, then a fresh death watch and one look at
 * the domain for a shutdown that fell between the two.  Destination: the
 * domain is mapped from cfg as create() maps it and built by
 * libxl_domain_create_restore (stream v2, not checkpointed, no back
 * channel), which leaves it paused; once complete it gets its generation
 * and its death watch, and resume() unpauses it; on failure it is
 * destroyed.  libxl clears O_NONBLOCK on the fd while it works on it.
 * close() aborts what is in flight (libxl_ao_abort) and waits for libxl
 * to end it, since libxl_ctx_free asserts nothing is pending.
 *
 * libxl's log goes to qb_log through a small xentoollog logger
 * (hv_xl_log.c).  The driver itself logs only what
 * its return codes cannot say: why open failed, and why a definition
 * could not be mapped.
 */
#define LIBXL_API_VERSION 0x041400
#define LOG_SUBSYS "xl"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_event.h>
#include <libxl_utils.h>
#include <xenstore.h>
#include <xentoollog.h>

#include "hv.h"
#include "hv_xl_int.h"
#include "hv_xl_map.h"
#include "log.h"

#define XL_PAGE_KB      4               /* Xen pages on x86 and arm */
#define XL_XS_PATH_MAX  96

/* ---- event queue ---------------------------------------------------------- */

int
xl_queue_result(struct hv *hv, enum hv_event_kind kind, const char *name,
		uint64_t generation, int result, const char *reason)
{
	struct hv_event *ev;
	uint64_t one = 1;

	if (hv->q_head == hv->q_len)
		hv->q_head = hv->q_len = 0;
	if (hv->q_len == hv->q_cap) {
		size_t cap = hv->q_cap ? hv->q_cap * 2 : 16;
		struct hv_event *q = realloc(hv->q, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		hv->q = q;
		hv->q_cap = cap;
	}
	ev = &hv->q[hv->q_len++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ev->generation = generation;
	ev->result = result;
	if (reason)
		snprintf(ev->reason, sizeof(ev->reason), "%s", reason);
	/* Only has to be non-zero; it cannot overflow here. */
	(void)!write(hv->evfd, &one, sizeof(one));
	return 0;
}

int
xl_queue(struct hv *hv, enum hv_event_kind kind, const char *name,
	 uint64_t generation)
{
	return xl_queue_result(hv, kind, name, generation, 0, NULL);
}

/* Must outlast the ctx: a file-local constant, not state. */
static const libxl_childproc_hooks xl_childproc_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

/* ---- tracked domains and their death events ------------------------------ */

struct xl_dom *
xl_dom_by_domid(struct hv *hv, uint32_t domid)
{
	for (size_t i = 0; i < hv->n_doms; i++)
		if (hv->doms[i].domid == domid)
			return &hv->doms[i];
	return NULL;
}

static struct xl_dom *
xl_dom_by_id(struct hv *hv, uint64_t id)
{
	for (size_t i = 0; i < hv->n_doms; i++)
		if (hv->doms[i].id == id)
			return &hv->doms[i];
	return NULL;
}

/* Watch a domain's death.  The event's for_user is a fresh id, never a
 * pointer: events of a disabled evgen may still arrive, and find nobody. */
int
xl_track(struct hv *hv, const char *name, uint32_t domid, uint64_t generation)
{
	struct xl_dom *d;

	if (hv->n_doms == hv->cap_doms) {
		size_t cap = hv->cap_doms ? hv->cap_doms * 2 : 8;
		struct xl_dom *p = realloc(hv->doms, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		hv->doms = p;
		hv->cap_doms = cap;
	}
	d = &hv->doms[hv->n_doms];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->domid = domid;
	d->generation = generation;
	d->id = ++hv->next_id;
	if (libxl_evenable_domain_death(hv->ctx, domid, d->id, &d->evgen) != 0)
		return -EIO;
	hv->n_doms++;
	return 0;
}

/* Stop watching; the entry is gone when this returns. */
void
xl_untrack(struct hv *hv, struct xl_dom *d)
{
	libxl_evgen_domain_death *evgen = d->evgen;

	*d = hv->doms[--hv->n_doms];
	libxl_evdisable_domain_death(hv->ctx, evgen);
}

enum hv_event_kind
xl_shutdown_kind(uint8_t reason, bool *ignore)
{
	*ignore = false;
	switch (reason) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return HV_EVENT_POWEROFF;
	case LIBXL_SHUTDOWN_REASON_REBOOT:
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return HV_EVENT_REBOOT;
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		/* A save or migration in progress, not an end. */
		*ignore = true;
		return HV_EVENT_CRASH;
	default:
		return HV_EVENT_CRASH;
	}
}

bool
xl_dominfo_suspended(const libxl_dominfo *info)
{
	return info->shutdown &&
	       info->shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
}

bool
xl_dominfo_paused(const libxl_dominfo *info)
{
	return !info->dying && (info->paused || xl_dominfo_suspended(info));
}

void
xl_dom_end(struct hv *hv, struct xl_dom *d, enum hv_event_kind kind,
	   bool destroy)
{
	d->dead = true;
	d->destroy = destroy;
	if (xl_queue(hv, kind, d->name, d->generation) < 0)
		log_err("out of memory: the %s event of domain %s is lost",
			kind == HV_EVENT_REBOOT ? "reboot" : "exit", d->name);
}

/* Called by libxl, possibly inside any of our libxl calls: only queue. */
static void
xl_event_occurs(void *user, libxl_event *event)
{
	struct hv *hv = user;
	struct xl_dom *d = xl_dom_by_id(hv, event->for_user);
	enum hv_event_kind kind;
	bool ignore = false;

	if (!d || d->dead || d->domid != event->domid)
		goto out_free;
	switch (event->type) {
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
		kind = xl_shutdown_kind(event->u.domain_shutdown.shutdown_reason,
					&ignore);
		/* A suspend (a migration's) stays tracked, not destroyed.
		 * libxl reports one shutdown per watch: xl_resume() watches
		 * the domain afresh once it runs again. */
		if (!ignore)
			xl_dom_end(hv, d, kind, true);
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		xl_dom_end(hv, d, HV_EVENT_CRASH, false);
		break;
	default:
		break;
	}
out_free:
	libxl_event_free(hv->ctx, event);
}

/* libxl may not be called from here; without this hook libxl would exit
 * the agent.  Deaths are still found by the reconcile pass's list(). */
static void
xl_disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
	log_err("libxl cannot deliver events any more (%s: %s); domain deaths "
		"are only seen by listing from now on", msg,
		errnoval > 0 ? strerror(errnoval) : "no errno");
}

static const libxl_event_hooks xl_event_hooks = {
	.event_occurs_mask = LIBXL_EVENTMASK_ALL,
	.event_occurs = xl_event_occurs,
	.disaster = xl_disaster,
};

/* Destroy the remains of the domains whose end was queued.  One at a
 * time from the start: the libxl calls may run libxl's inner loop, which
 * may mark more entries. */
static void
xl_reap(struct hv *hv)
{
	size_t i = 0;

	while (i < hv->n_doms) {
		struct xl_dom d = hv->doms[i];

		if (!d.dead) {
			i++;
			continue;
		}
		xl_untrack(hv, &hv->doms[i]);
		/* Failure leaves a shut-down domain that list() still shows
		 * and re-adopts; its next death event retries. */
		if (d.destroy)
			(void)libxl_domain_destroy(hv->ctx, d.domid, NULL);
		i = 0;  /* the destroy may have marked one we passed */
	}
}

/* Finish the migrations that completed and destroy the remains of the
 * domains that ended, until neither is left: the libxl calls of each may
 * complete more of the other. */
static void
xl_settle(struct hv *hv)
{
	do {
		xl_mig_finish(hv);
		xl_reap(hv);
	} while (xl_mig_completed(hv));
}

/* ---- xenstore: the generation ------------------------------------------- */

static void
xl_gen_path(uint32_t domid, char *path, size_t len)
{
	snprintf(path, len, "/local/domain/%" PRIu32 "/xenmesh/generation",
		 domid);
}

int
xl_gen_write(struct hv *hv, uint32_t domid, uint64_t generation)
{
	struct xs_permissions perm = { .id = 0, .perms = XS_PERM_NONE };
	char path[XL_XS_PATH_MAX], val[24];

	xl_gen_path(domid, path, sizeof(path));
	snprintf(val, sizeof(val), "%" PRIu64, generation);
	if (!xs_write(hv->xs, XBT_NULL, path, val, (unsigned)strlen(val)))
		return -EIO;
	if (!xs_set_permissions(hv->xs, XBT_NULL, path, &perm, 1))
		return -EIO;
	return 0;
}

/* 0 when absent or not a number: the domain carries no generation. */
uint64_t
xl_gen_read(struct hv *hv, uint32_t domid)
{
	char path[XL_XS_PATH_MAX], *val, *end;
	unsigned int len = 0;
	uint64_t gen = 0;

	xl_gen_path(domid, path, sizeof(path));
	val = xs_read(hv->xs, XBT_NULL, path, &len);
	if (!val)
		return 0;
	if (len > 0 && len < 21 && val[0] >= '0' && val[0] <= '9') {
		errno = 0;
		gen = strtoull(val, &end, 10);
		if (errno || end != val + len)
			gen = 0;
	}
	free(val);
	return gen;
}

/* ---- ops ------------------------------------------------------------------ */

static void
xl_close(struct hv *hv)
{
	bool ctx_free = true;

	if (!hv)
		return;
	/* Before the watches go: a receive that completes here is watched
	 * like any other, then unwatched below. */
	if (hv->ctx && hv->migs && !xl_mig_close(hv)) {
		log_err("libxl did not end every migration in flight; its "
			"context is left behind");
		ctx_free = false;
	}
	while (hv->n_doms > 0)
		xl_untrack(hv, &hv->doms[hv->n_doms - 1]);
	/* Frees libxl's fds through our deregister hook: ours stay up. */
	if (hv->ctx && ctx_free)
		libxl_ctx_free(hv->ctx);
	while (hv->fds) {
		struct xl_fdreg *r = hv->fds;

		hv->fds = r->next;
		xl_fd_free(hv, r);
	}
	while (hv->timeouts) {
		struct xl_toreg *t = hv->timeouts;

		hv->timeouts = t->next;
		free(t);
	}
	if (hv->xs)
		xs_close(hv->xs);
	if (hv->tfd >= 0)
		close(hv->tfd);
	if (hv->evfd >= 0)
		close(hv->evfd);
	if (hv->epfd >= 0)
		close(hv->epfd);
	free(hv->doms);
	free(hv->q);
	free(hv);
}

static int
xl_epoll_add(struct hv *hv, int fd, void *tag)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(hv->epfd, EPOLL_CTL_ADD, fd, &ee) < 0 ? -errno : 0;
}

static int
xl_open(struct hv **out, const struct hv_params *p)
{
	struct hv *hv;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->epfd = hv->evfd = hv->tfd = -1;
	hv->stop_copy = p != NULL && p->stop_copy;
	xl_logger_init(hv);

	hv->epfd = epoll_create1(EPOLL_CLOEXEC);
	hv->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	hv->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (hv->epfd < 0 || hv->evfd < 0 || hv->tfd < 0) {
		r = -errno;
		goto out_close;
	}
	r = xl_epoll_add(hv, hv->evfd, &hv->evfd);
	if (r == 0)
		r = xl_epoll_add(hv, hv->tfd, &hv->tfd);
	if (r < 0)
		goto out_close;

	if (libxl_ctx_alloc(&hv->ctx, LIBXL_VERSION, 0,
			    &hv->logger.vtable) != 0) {
		hv->ctx = NULL;
		log_err("cannot init libxl context: is this a Xen dom0?");
		r = -ENODEV;
		goto out_close;
	}
	/* Hooks first: libxl asserts it has no fd or timeout yet, and the
	 * SIGCHLD mode registers its self-pipe at once. */
	libxl_osevent_register_hooks(hv->ctx, &xl_osevent_hooks, hv);
	libxl_childproc_setmode(hv->ctx, &xl_childproc_hooks, hv);
	libxl_event_register_callbacks(hv->ctx, &xl_event_hooks, hv);

	hv->xs = xs_open(0);
	if (!hv->xs) {
		r = errno > 0 ? -errno : -EIO;
		log_err("cannot connect to xenstore: %s", strerror(-r));
		goto out_close;
	}
	*out = hv;
	return 0;

out_close:
	xl_close(hv);
	return r;
}

static int
xl_dom_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hv_domain *)a)->name,
		      ((const struct hv_domain *)b)->name);
}

static int
xl_list(struct hv *hv, struct hv_domain **out, size_t *n_out)
{
	struct hv_domain *doms;
	libxl_dominfo *info;
	size_t n = 0;
	int nb = 0;

	if (!hv || !out || !n_out)
		return -EINVAL;
	*out = NULL;
	*n_out = 0;
	info = libxl_list_domain(hv->ctx, &nb);
	if (!info)
		return -EIO;
	doms = calloc(nb > 0 ? (size_t)nb : 1, sizeof(*doms));
	if (!doms) {
		libxl_dominfo_list_free(info, nb);
		return -ENOMEM;
	}
	for (int i = 0; i < nb; i++) {
		uint32_t domid = info[i].domid;
		struct hv_domain *d = &doms[n];
		char *name;

		/* dom0 is the host; a dying domain is on its way out. */
		if (domid == 0 || info[i].dying)
			continue;
		name = libxl_domid_to_name(hv->ctx, domid);
		/* Gone meanwhile, or a name that cannot be one of ours. */
		if (!name || strlen(name) >= sizeof(d->name)) {
			free(name);
			continue;
		}
		strcpy(d->name, name);
		free(name);
		d->domid = domid;
		d->memory_mb = info[i].current_memkb / 1024;
		d->paused = xl_dominfo_paused(&info[i]);
		d->generation = xl_gen_read(hv, domid);
		/* Re-adoption: watch every managed domain.  A failure is
		 * retried at the next list. */
		if (d->generation && !xl_dom_by_domid(hv, domid))
			(void)xl_track(hv, d->name, domid, d->generation);
		/* One an incoming migration or a create is still building
		 * has no generation yet (written once libxl is done): it is
		 * that instance's, paused.  Reported as a domain without one,
		 * the agent destroyed it under libxl as stale (found under
		 * QEMU: every migration to an xl host failed so). */
		if (d->generation == 0)
			xl_mig_building(hv, d->name, &d->generation, &d->paused);
		n++;
	}
	libxl_dominfo_list_free(info, nb);
	qsort(doms, n, sizeof(*doms), xl_dom_cmp);
	*out = doms;
	*n_out = n;
	return 0;
}

int
xl_lookup(struct hv *hv, const char *name, uint32_t *domid)
{
	int r;

	if (!name || !name[0] || strlen(name) >= VM_NAME_MAX)
		return -EINVAL;
	r = libxl_name_to_domid(hv->ctx, name, domid);
	if (r == ERROR_INVAL)
		return -ENOENT;     /* what libxl says for "not found" */
	if (r != 0)
		return -EIO;
	return *domid == 0 ? -EPERM : 0;
}

int
xl_name_free(struct hv *hv, const char *name)
{
	uint32_t domid;
	int r = xl_lookup(hv, name, &domid);

	if (r == 0 || r == -EPERM)
		return -EEXIST;
	return r == -ENOENT ? 0 : r;
}

int
xl_map(const struct vm_config *cfg, libxl_domain_config *dc)
{
	char why[256];
	int r = xlmap_config(cfg, dc, why, sizeof(why));

	if (r < 0)
		log_err("VM %s: cannot map its definition for libxl: %s",
			cfg->name, why);
	return r;
}

static int
xl_destroy(struct hv *hv, const char *name)
{
	uint64_t generation = 0;
	bool cancelled;
	struct xl_dom *d;
	uint32_t domid;
	int r;

	if (!hv)
		return -EINVAL;
	/* Being created: libxl is told to stop, and whatever it made goes
	 * when it has; what exists of it already goes now. */
	cancelled = xl_create_cancel(hv, name, &generation);
	r = xl_lookup(hv, name, &domid);
	if (r == -ENOENT && cancelled)
		(void)xl_queue(hv, HV_EVENT_DESTROYED, name, generation);
	if (r == -ENOENT)
		return 0;       /* already gone */
	if (r < 0)
		return r;
	d = xl_dom_by_domid(hv, domid);
	if (!cancelled)
		generation = d ? d->generation : xl_gen_read(hv, domid);
	/* Unwatched first: its death is ours, reported as DESTROYED. */
	if (d)
		xl_untrack(hv, d);
	/* On failure the domain is unwatched but listed: list() re-adopts. */
	r = libxl_domain_destroy(hv->ctx, domid, NULL);
	if (r != 0 && r != ERROR_DOMAIN_NOTFOUND)
		return -EIO;
	/* It is gone either way; a lost event is covered by the reconcile
	 * pass, which no longer lists it. */
	(void)xl_queue(hv, HV_EVENT_DESTROYED, name, generation);
	return 0;
}

/* As `xl shutdown -F`: the PV control interface, else (an HVM guest
 * without PV drivers) the ACPI power button. */
static int
xl_shutdown(struct hv *hv, const char *name)
{
	uint32_t domid;
	int r;

	if (!hv)
		return -EINVAL;
	r = xl_lookup(hv, name, &domid);
	if (r < 0)
		return r;
	r = libxl_domain_shutdown(hv->ctx, domid, NULL);
	if (r == ERROR_NOPARAVIRT)
		r = libxl_send_trigger(hv->ctx, domid, LIBXL_TRIGGER_POWER, 0,
				       NULL);
	if (r == ERROR_DOMAIN_NOTFOUND)
		return -ENOENT;
	return r == 0 ? 0 : -EIO;
}

/* Total from physinfo; free as libxl counts it for a create (free and
 * scrub pages less its slack), else the raw free and scrub pages. */
static int
xl_host_memory(struct hv *hv, uint64_t *total_mb, uint64_t *free_mb)
{
	libxl_physinfo pi;
	libxl_dominfo *info;
	uint64_t free_kb = 0, domus_kb;
	int nb = 0;

	if (!hv || !total_mb || !free_mb)
		return -EINVAL;
	libxl_physinfo_init(&pi);
	if (libxl_get_physinfo(hv->ctx, &pi) != 0) {
		libxl_physinfo_dispose(&pi);
		return -EIO;
	}
	if (libxl_get_free_memory(hv->ctx, &free_kb) != 0)
		free_kb = (pi.free_pages + pi.scrub_pages) * XL_PAGE_KB;
	*free_mb = free_kb / 1024;
	/* What domUs can have: the free memory and theirs.  Not the host's
	 * total pages, which count dom0 (dom0_mem) and Xen itself: a host
	 * of 1 GB with dom0_mem=512M offers about 500 MB.  When the list
	 * fails, the free memory alone (never more than there is). */
	domus_kb = 0;
	info = libxl_list_domain(hv->ctx, &nb);
	for (int i = 0; info != NULL && i < nb; i++)
		if (info[i].domid != 0)
			domus_kb += info[i].current_memkb;
	if (info != NULL)
		libxl_dominfo_list_free(info, nb);
	*total_mb = (free_kb + domus_kb) / 1024;
	if (*total_mb > pi.total_pages * XL_PAGE_KB / 1024)
		*total_mb = pi.total_pages * XL_PAGE_KB / 1024;
	libxl_physinfo_dispose(&pi);
	return 0;
}

static int
xl_event_fd(struct hv *hv)
{
	return hv ? hv->epfd : -EINVAL;
}

static int
xl_event_next(struct hv *hv, struct hv_event *ev)
{
	uint64_t cnt;

	if (!hv || !ev)
		return -EINVAL;
	/* Events queued inside other libxl calls have remains to destroy
	 * too: always before an event leaves.  Migrations that completed
	 * there are ended here, outside libxl's callbacks. */
	xl_settle(hv);
	if (hv->q_head == hv->q_len) {
		xl_pump(hv);
		xl_settle(hv);
	}
	if (hv->q_head == hv->q_len) {
		/* Drained: the epoll fd stops being readable for the queue. */
		(void)!read(hv->evfd, &cnt, sizeof(cnt));
		return -EAGAIN;
	}
	*ev = hv->q[hv->q_head++];
	if (hv->q_head == hv->q_len) {
		hv->q_head = hv->q_len = 0;
		(void)!read(hv->evfd, &cnt, sizeof(cnt));
	}
	return 0;
}

const struct hv_ops hv_xl_ops = {
	.name = "xl",
	.open = xl_open,
	.close = xl_close,
	.list = xl_list,
	.create = xl_create,
	.destroy = xl_destroy,
	.shutdown = xl_shutdown,
	.host_memory = xl_host_memory,
	.migrate_send = xl_migrate_send,
	.save = xl_save,
	.migrate_receive = xl_migrate_receive,
	.restore = xl_restore,
	.resume = xl_resume,
	.event_fd = xl_event_fd,
	.event_next = xl_event_next,
};
