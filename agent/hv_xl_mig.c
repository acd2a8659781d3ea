/* The `xl` hypervisor driver's asynchronous operations: live migration
 * (migrate_send, migrate_receive, resume), save and restore, and create.
 * See agent/hv_xl.c for the whole design.
 *
 * What `xl migrate` does (tools/xl/xl_migrate.c, Xen 4.17), less xl's
 * own parts: its config header (the agent gives the destination cfg), the
 * ssh pipe and the "ready"/"go" banners (the agent's commit protocol).
 *   source       libxl_domain_suspend(fd, LIBXL_SUSPEND_LIVE); on failure
 *                xl resumes with libxl_domain_resume(suspend_cancel=1),
 *                here resume() does when the agent says so.
 *   destination  libxl_domain_create_restore(fd, send_back_fd -1,
 *                checkpointed_stream NONE, stream_version 2), paused as xl
 *                leaves it (libxl never unpauses; xl unpauses after "go",
 *                here resume() after the commit).
 * Both run asynchronously (ao_how with a callback): the callback may come
 * inside any libxl call, so it only marks the operation done and wakes
 * the loop; event_next() calls xl_mig_finish(), which does the rest and
 * queues the event.
 */
#define LIBXL_API_VERSION 0x041400
#define LOG_SUBSYS "xl"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_event.h>

#include "hv.h"
#include "hv_xl_int.h"
#include "log.h"

#define XL_STREAM_VERSION       2       /* what libxl_domain_suspend writes
					 * (LIBXL_HAVE_SRM_V2) */
#define XL_CLOSE_WAIT_MS        10000   /* for aborted migrations to end */

/* ---- migrations in flight --------------------------------------------------- */

/* In flight for that name.  A completion the loop has not seen yet is
 * finished first: it counts as ended (and a received domain gets its
 * generation before anything may run it). */
static struct xl_mig *
xl_mig_find(struct hv *hv, const char *name)
{
	xl_mig_finish(hv);
	for (struct xl_mig *m = hv->migs; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

void
xl_mig_building(struct hv *hv, const char *name, uint64_t *generation, bool *paused)
{
	for (const struct xl_mig *m = hv->migs; m; m = m->next) {
		if (m->op != XL_OP_SEND && !m->cancelled &&
		    strcmp(m->name, name) == 0) {
			*generation = m->generation;
			*paused = true;
			return;
		}
	}
}

bool
xl_mig_completed(struct hv *hv)
{
	for (struct xl_mig *m = hv->migs; m; m = m->next)
		if (m->done)
			return true;
	return false;
}

static bool
xl_mig_pending(struct hv *hv)
{
	for (struct xl_mig *m = hv->migs; m; m = m->next)
		if (!m->done)
			return true;
	return false;
}

/* libxl's ao callback, possibly inside any libxl call: only note it. */
static void
xl_mig_done(libxl_ctx *ctx, int rc, void *for_callback)
{
	struct xl_mig *m = for_callback;
	uint64_t one = 1;

	m->done = true;
	m->rc = rc;
	/* The loop calls event_next(), which finishes it. */
	(void)!write(m->hv->evfd, &one, sizeof(one));
}

/* Linked in: libxl may call back before the initiating call returns. */
static struct xl_mig *
xl_mig_new(struct hv *hv, const char *name, uint64_t generation,
	   enum xl_op op)
{
	struct xl_mig *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->hv = hv;
	m->op = op;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->generation = generation;
	m->domid = INVALID_DOMID;
	m->how.callback = xl_mig_done;
	m->how.u.for_callback = m;
	libxl_domain_config_init(&m->dc);
	libxl_domain_restore_params_init(&m->params);
	m->next = hv->migs;
	hv->migs = m;
	return m;
}

static void
xl_mig_free(struct hv *hv, struct xl_mig *m)
{
	struct xl_mig **pp;

	for (pp = &hv->migs; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	libxl_domain_restore_params_dispose(&m->params);
	libxl_domain_config_dispose(&m->dc);
	free(m);
}

static int
xl_errno(int lrc)
{
	switch (lrc) {
	case ERROR_GUEST_TIMEDOUT:
	case ERROR_TIMEDOUT:
		return -ETIMEDOUT;
	case ERROR_ABORTED:
		return -ECANCELED;
	case ERROR_NOMEM:
		return -ENOMEM;
	case ERROR_DOMAIN_NOTFOUND:
	case ERROR_DOMAIN_DESTROYED:
		return -ENOENT;
	default:
		return -EIO;
	}
}

void
xl_mig_log_error(struct hv *hv, const char *text)
{
	struct xl_mig *only = NULL;
	unsigned n = 0;

	if (hv == NULL)
		return;
	for (struct xl_mig *m = hv->migs; m; m = m->next) {
		if (m->done)
			continue;
		only = m;
		n++;
	}
	if (n == 1 && only->first_err[0] == '\0')
		snprintf(only->first_err, sizeof(only->first_err), "%s", text);
	if (n > 1)
		for (struct xl_mig *m = hv->migs; m; m = m->next)
			if (!m->done)
				m->err_shared = true;
}

/* "CALL: ERROR_NAME", as libxl.h spells the code, then why: the first
 * error libxl logged for it when that is known (the code alone seldom
 * says why: a live migration where Xen has no log-dirty mode ends in
 * ERROR_GUEST_TIMEDOUT, xc's "Failed to enable logdirty" says why), else
 * what the code means or where to look.  Kept short: the coordinator
 * keeps 139 characters of a host's reason in the VM's. */
static void
xl_why(char *why, size_t len, const char *call, const struct xl_mig *m)
{
	int lrc = m->rc;
	const char *name = libxl_error_to_string(lrc);
	char code[40];
	size_t i;

	if (name)
		snprintf(code, sizeof(code), "ERROR_%s", name);
	else
		snprintf(code, sizeof(code), "libxl error %d", lrc);
	for (i = 0; code[i]; i++)
		code[i] = (char)toupper((unsigned char)code[i]);
	if (m->first_err[0] != '\0' && !m->err_shared)
		snprintf(why, len, "%s: %s; libxl's first error: %s", call, code,
			 m->first_err);
	else
		snprintf(why, len, "%s: %s%s", call, code,
			 lrc == ERROR_GUEST_TIMEDOUT ? " (the guest did not suspend)" :
			 lrc == ERROR_ABORTED ? "" : "; the [libxl] log says why");
}

/* 0 when it exists and has not ended (it may be paused or suspended);
 * -ENOENT; -ESRCH shut down for good or dying; -EIO. */
static int
xl_dom_state(struct hv *hv, uint32_t domid, libxl_dominfo *info)
{
	int r = libxl_domain_info(hv->ctx, info, domid);

	if (r == ERROR_DOMAIN_NOTFOUND)
		return -ENOENT;
	if (r != 0)
		return -EIO;
	if (info->dying || (info->shutdown && !xl_dominfo_suspended(info)))
		return -ESRCH;
	return 0;
}

/* ---- completion --------------------------------------------------------------- */

static void
xl_mig_sent(struct hv *hv, struct xl_mig *m)
{
	char why[HV_REASON_MAX] = "";

	/* Success: the domain is suspended, still watched (its suspend is
	 * no end), and stays until destroy() or resume(). */
	if (m->rc != 0)
		xl_why(why, sizeof(why), "libxl_domain_suspend", m);
	(void)xl_queue_result(hv, HV_EVENT_MIGRATE_SENT, m->name, m->generation,
			      m->rc ? xl_errno(m->rc) : 0, why);
}

/* A domain libxl built ends, an incoming migration's or a create's.  On
 * success it gets its generation and its death watch before anything may
 * run it (as xl create does after libxl_domain_create_new); a create's
 * then runs, a received one stays paused until resume().  On failure
 * what libxl made is destroyed: libxl destroys what a failed restore or
 * create made, but not an aborted one; xl destroys whatever domid it got
 * back either way. */
static void
xl_built(struct hv *hv, struct xl_mig *m)
{
	bool create = m->op == XL_OP_CREATE;
	enum hv_event_kind kind = create ? HV_EVENT_CREATED :
					   HV_EVENT_MIGRATE_RECEIVED;
	char why[HV_REASON_MAX];
	struct xl_dom *d;
	int r;

	if (m->cancelled) {
		snprintf(why, sizeof(why), "destroyed while libxl created it");
		r = -ECANCELED;
		goto out_destroy;
	}
	if (m->rc != 0) {
		xl_why(why, sizeof(why), create ? "libxl_domain_create_new" :
		       "libxl_domain_create_restore", m);
		r = xl_errno(m->rc);
		goto out_destroy;
	}
	r = xl_gen_write(hv, m->domid, m->generation);
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot write its generation to "
			 "xenstore");
		goto out_destroy;
	}
	r = xl_track(hv, m->name, m->domid, m->generation);
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot watch its death");
		goto out_destroy;
	}
	if (create && libxl_domain_unpause(hv->ctx, m->domid, NULL) != 0) {
		snprintf(why, sizeof(why), "libxl_domain_unpause failed");
		r = -EIO;
		goto out_untrack;
	}
	(void)xl_queue_result(hv, kind, m->name, m->generation, 0, NULL);
	return;

out_untrack:
	d = xl_dom_by_domid(hv, m->domid);
	if (d)
		xl_untrack(hv, d);
out_destroy:
	if (libxl_domid_valid_guest(m->domid))
		(void)libxl_domain_destroy(hv->ctx, m->domid, NULL);
	(void)xl_queue_result(hv, kind, m->name, m->generation, r, why);
}

void
xl_mig_finish(struct hv *hv)
{
	struct xl_mig *m;

	/* From the start each time: the libxl calls below run libxl's inner
	 * loop, which may complete (never free) others. */
	for (;;) {
		for (m = hv->migs; m && !m->done; m = m->next)
			;
		if (!m)
			return;
		if (m->op == XL_OP_SEND)
			xl_mig_sent(hv, m);
		else
			xl_built(hv, m);
		xl_mig_free(hv, m);
	}
}

bool
xl_mig_close(struct hv *hv)
{
	struct timespec now, end;
	uint64_t cnt;

	for (struct xl_mig *m = hv->migs; m; m = m->next)
		if (!m->done)
			(void)libxl_ao_abort(hv->ctx, &m->how);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += XL_CLOSE_WAIT_MS / 1000;
	while (xl_mig_pending(hv)) {
		struct pollfd pfd = { .fd = hv->epfd, .events = POLLIN };
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000 +
		     (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			break;
		/* Our queue's eventfd would keep the set readable. */
		(void)!read(hv->evfd, &cnt, sizeof(cnt));
		if (poll(&pfd, 1, (int)ms) > 0)
			xl_pump(hv);
	}
	/* Ended: a receive or create that completed is kept (generation,
	 * watch), an aborted one destroyed. */
	xl_mig_finish(hv);
	return hv->migs == NULL;
}

/* ---- ops ----------------------------------------------------------------------- */

/* flags: LIBXL_SUSPEND_LIVE (a migration: memory copied while it runs,
 * which needs Xen's log-dirty mode) or 0 (a save: suspended first). */
static int
xl_suspend_to(struct hv *hv, const char *name, int fd, int flags)
{
	libxl_dominfo info;
	struct xl_dom *d;
	struct xl_mig *m;
	uint64_t generation;
	uint32_t domid;
	int r;

	if (!hv || fd < 0)
		return -EINVAL;
	if (fcntl(fd, F_GETFL) < 0)
		return -EBADF;
	r = xl_lookup(hv, name, &domid);
	if (r < 0)
		return r;
	if (xl_mig_find(hv, name))
		return -EBUSY;
	/* Only a running domain: a paused one cannot answer the suspend
	 * request (libxl would wait for it and time out). */
	libxl_dominfo_init(&info);
	r = xl_dom_state(hv, domid, &info);
	if (r == 0 && xl_dominfo_paused(&info))
		r = -EBUSY;
	libxl_dominfo_dispose(&info);
	if (r < 0)
		return r;

	d = xl_dom_by_domid(hv, domid);
	generation = d ? d->generation : xl_gen_read(hv, domid);
	m = xl_mig_new(hv, name, generation, XL_OP_SEND);
	if (!m)
		return -ENOMEM;
	m->domid = domid;
	r = libxl_domain_suspend(hv->ctx, domid, fd, flags, &m->how);
	if (r != 0) {
		/* Not started: no callback comes. */
		xl_mig_free(hv, m);
		return xl_errno(r);
	}
	return 0;
}

/* Stop-and-copy ([hypervisor] migration = stop-copy) pauses the guest
 * for the whole transfer, but works where Xen's log-dirty mode does not
 * (found under QEMU's emulated Xen: "Failed to enable logdirty: 95"). */
int
xl_migrate_send(struct hv *hv, const char *name, int fd)
{
	return xl_suspend_to(hv, name, fd, hv && hv->stop_copy ? 0 : LIBXL_SUSPEND_LIVE);
}

/* A save needs no pre-copy: nothing would run on meanwhile.  Found under
 * QEMU: a live suspend of a PV domU fails there ("Failed to enable
 * logdirty: 95"), where `xl save` works. */
int
xl_save(struct hv *hv, const char *name, int fd)
{
	return xl_suspend_to(hv, name, fd, 0);
}

/* libxl's stream carries no instance of ours: the receive writes the new
 * generation whatever the image's was. */
int
xl_restore(struct hv *hv, const struct vm_config *cfg, uint64_t generation,
	   uint64_t saved_generation, int fd)
{
	if (saved_generation == 0 || saved_generation > generation)
		return -EINVAL;
	return xl_migrate_receive(hv, cfg, generation, fd);
}

/* Start libxl building a domain of cfg as instance generation: a create,
 * or (XL_OP_RECEIVE) the restore of the stream on fd.  Asynchronous:
 * xl_built() ends it. */
static int
xl_build(struct hv *hv, const struct vm_config *cfg, uint64_t generation,
	 enum xl_op op, int fd)
{
	struct xl_mig *m;
	int r;

	if (xl_mig_find(hv, cfg->name))
		return -EBUSY;
	r = xl_name_free(hv, cfg->name);
	if (r < 0)
		return r;
	m = xl_mig_new(hv, cfg->name, generation, op);
	if (!m)
		return -ENOMEM;
	r = xl_map(cfg, &m->dc);
	if (r < 0)
		goto out_free;
	if (op == XL_OP_CREATE) {
		r = libxl_domain_create_new(hv->ctx, &m->dc, &m->domid, &m->how,
					    NULL);
	} else {
		m->params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
		m->params.stream_version = XL_STREAM_VERSION;
		libxl_defbool_set(&m->params.userspace_colo_proxy, false);
		r = libxl_domain_create_restore(hv->ctx, &m->dc, &m->domid, fd,
						-1, &m->params, &m->how, NULL);
	}
	if (r != 0) {
		/* Not started: no callback comes, nor (libxl sets it at
		 * the end) a domid, but a half domain would be ours. */
		if (libxl_domid_valid_guest(m->domid))
			(void)libxl_domain_destroy(hv->ctx, m->domid, NULL);
		r = xl_errno(r);
		goto out_free;
	}
	return 0;

out_free:
	xl_mig_free(hv, m);
	return r;
}

int
xl_migrate_receive(struct hv *hv, const struct vm_config *cfg,
		   uint64_t generation, int fd)
{
	if (!hv || !cfg || generation == 0 || fd < 0)
		return -EINVAL;
	if (fcntl(fd, F_GETFL) < 0)
		return -EBADF;
	return xl_build(hv, cfg, generation, XL_OP_RECEIVE, fd);
}

/* After libxl_domain_resume: libxl reported the suspend as the watch's
 * one shutdown, so a later crash would come only as the death of a domain
 * nobody destroys.  The new watch is enabled before the old one goes
 * (libxl keeps its xenstore watch); a shutdown before it is caught by one
 * look at the domain. */
static void
xl_rewatch(struct hv *hv, uint32_t domid)
{
	struct xl_dom *d = xl_dom_by_domid(hv, domid);
	libxl_evgen_domain_death *evgen, *old;
	libxl_dominfo info;
	enum hv_event_kind kind;
	bool ignore;
	uint64_t id;

	if (!d || d->dead)
		return;         /* unmanaged, or its end is already queued */
	id = ++hv->next_id;
	if (libxl_evenable_domain_death(hv->ctx, domid, id, &evgen) != 0) {
		/* The next list() adopts it again, with a fresh watch. */
		xl_untrack(hv, d);
		return;
	}
	old = d->evgen;
	d->evgen = evgen;
	d->id = id;
	libxl_evdisable_domain_death(hv->ctx, old);

	libxl_dominfo_init(&info);
	if (libxl_domain_info(hv->ctx, &info, domid) == 0 && info.shutdown) {
		kind = xl_shutdown_kind(info.shutdown_reason, &ignore);
		d = xl_dom_by_domid(hv, domid);
		if (!ignore && d && !d->dead)
			xl_dom_end(hv, d, kind, true);
	}
	libxl_dominfo_dispose(&info);
}

/* Suspended by a send: resume it as xl does after a failed migration;
 * paused (received): unpause it; running: nothing to do. */
int
xl_resume(struct hv *hv, const char *name)
{
	libxl_dominfo info;
	bool suspended, paused;
	uint32_t domid;
	int r;

	if (!hv)
		return -EINVAL;
	r = xl_lookup(hv, name, &domid);
	if (r < 0)
		return r;
	if (xl_mig_find(hv, name))
		return -EBUSY;
	libxl_dominfo_init(&info);
	r = xl_dom_state(hv, domid, &info);
	suspended = xl_dominfo_suspended(&info);
	paused = info.paused;
	libxl_dominfo_dispose(&info);
	if (r < 0)
		return r;
	if (suspended) {
		if (libxl_domain_resume(hv->ctx, domid, 1, NULL) != 0)
			return -EIO;
		xl_rewatch(hv, domid);
	}
	if (paused && libxl_domain_unpause(hv->ctx, domid, NULL) != 0)
		return -EIO;
	return 0;
}

/* Asynchronous (ao_how), as migrations are: a create takes seconds
 * (hotplug scripts, the kernel loaded, devices connected) and minutes on
 * a starved dom0, during which the agent's loop must go on petting the
 * watchdogs (found under QEMU: a 45 s watchdog reset the host in the
 * middle of a synchronous create). */
int
xl_create(struct hv *hv, const struct vm_config *cfg, uint64_t generation)
{
	if (!hv || !cfg || generation == 0)
		return -EINVAL;
	return xl_build(hv, cfg, generation, XL_OP_CREATE, -1);
}

bool
xl_create_cancel(struct hv *hv, const char *name, uint64_t *generation)
{
	struct xl_mig *m = xl_mig_find(hv, name);

	if (!m || m->op != XL_OP_CREATE || m->cancelled)
		return false;
	m->cancelled = true;
	*generation = m->generation;
	/* libxl ends it at its next step; a create it cannot abort ends in
	 * its own time, and its domain is destroyed then */
	(void)libxl_ao_abort(hv->ctx, &m->how);
	return true;
}
