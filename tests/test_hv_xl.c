/* Tests of agent/hv_xl.c with libxenlight and libxenstore replaced at link
 * time (-Wl,--wrap=...): there is no Xen here, libxl_ctx_alloc would fail.
 *
 * Every wrapped call appends one line to a call log ("destroy 7"); a test
 * sets the fake's answers, runs the driver and compares the whole log, so
 * order, arguments and the absence of other calls are all checked.  The
 * fake behaves as libxl documents: it registers an fd through the osevent
 * hooks (a pipe the test writes to, as libxl registers its SIGCHLD
 * self-pipe when the SIGCHLD mode is set), delivers death events through the
 * event_occurs callback from inside libxl_osevent_occurred_fd (or from
 * inside a create, as libxl's inner loop may), and deregisters its fd in
 * libxl_ctx_free.  Messages are captured from qb_log.  The mapping itself
 * (hv_xl_map.c) is real and tested in test_hv_xl_map.c.
 *
 * Migration: the asynchronous operations (suspend, create_restore) only
 * record their ao_how; the test completes them later, and the fake calls
 * the callback from inside libxl_osevent_occurred_fd, as libxl does.
 * What is tested is the driver's side of libxl's contract: which calls,
 * with which flags and parameters, in which order, and what becomes of
 * their completion.  That libxl and a real guest behave as that contract
 * says (a stream that really restores, suspend_cancel that really
 * resumes) is for the QEMU tier.
 */
#define LIBXL_API_VERSION 0x041400

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxl.h>
#include <libxl_event.h>
#include <qb/qblog.h>
#include <xenstore.h>
#include <xentoollog.h>

#include "hv.h"

#define MAX_CALLS 64
#define MAX_DOMS  8
#define MAX_KV    8
#define MAX_EVGEN 16
#define GEN_PATH(id) "/local/domain/" #id "/xenmesh/generation"

struct fake_dom {
	uint32_t domid;
	char name[64];          /* "" : domid_to_name finds nothing */
	uint64_t memkb;
	bool dying;
	bool paused;
	bool shutdown;
	int reason;             /* LIBXL_SHUTDOWN_REASON_* when shut down */
};

/* One asynchronous operation started through the fake. */
struct fake_ao {
	const char *op;                 /* "suspend", "create_restore",
					 * "create_new" */
	libxl_asyncop_how how;
	uint32_t *domid_out;            /* create_restore's, create_new's */
	libxl_domain_config *dc;        /* must stay valid until the end */
	char name[64];
	bool live;
};

#define MAX_AOS 16

static struct fake {
	char calls[MAX_CALLS][200];
	int n_calls;
	char logs[8][300];
	int n_logs;
	/* libxl */
	int ctx_alloc_rc;
	const libxl_osevent_hooks *os;
	void *os_user;
	void *fd_for_app;
	bool selfpipe_internal;
	int pipe[2];
	const libxl_event_hooks *ev;
	void *ev_user;
	struct fake_dom doms[MAX_DOMS];
	int n_doms;
	bool list_fails;
	int create_rc;
	uint32_t create_domid;
	uint64_t crash_during_create;   /* for_user of a death to deliver */
	int unpause_rc, destroy_rc, shutdown_rc, trigger_rc, evenable_rc;
	char evgens[MAX_EVGEN];
	uint64_t evgen_user[MAX_EVGEN];
	uint32_t evgen_domid[MAX_EVGEN];
	int n_evgens;
	libxl_event *pending[4];
	int n_pending;
	int physinfo_rc, free_rc;
	uint64_t total_pages, free_pages, scrub_pages, free_kb;
	int timeout_tok;
	bool evgen_off[MAX_EVGEN];      /* disabled */
	bool evgen_shut[MAX_EVGEN];     /* reported its one shutdown */
	/* migration */
	int sock[2];                    /* the agent's socket pair */
	struct fake_ao aos[MAX_AOS];
	int n_aos;
	struct { int k, rc; uint32_t domid; } compl[8];
	int n_compl;
	int suspend_rc, restore_rc, resume_rc;
	int resume_leaves;              /* 0, or crash + 1: the guest dies at
					 * once, before any new watch */
	bool abort_ignored;
	int complete_during_destroy;    /* operation k + 1 completes (rc 0,
					 * domid create_domid) inside a destroy */
	/* xenstore */
	bool xs_open_fails, xs_write_fails;
	char kv_path[MAX_KV][96], kv_val[MAX_KV][32];
	int n_kv;
	xentoollog_logger *lg;          /* the driver's, as libxl keeps it */
} F;

static char fake_ctx_mem, fake_xs_mem;
#define FAKE_CTX ((libxl_ctx *)&fake_ctx_mem)
#define FAKE_XS ((struct xs_handle *)&fake_xs_mem)

static void rec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
rec(const char *fmt, ...)
{
	va_list ap;

	assert_true(F.n_calls < MAX_CALLS);
	va_start(ap, fmt);
	vsnprintf(F.calls[F.n_calls++], sizeof(F.calls[0]), fmt, ap);
	va_end(ap);
}

/* The call log since the last check equals want[] (NULL-terminated). */
static void
calls_are(const char *const *want)
{
	int i;

	for (i = 0; want[i]; i++) {
		if (i >= F.n_calls)
			fail_msg("call %d: missing '%s'", i, want[i]);
		assert_string_equal(F.calls[i], want[i]);
	}
	if (F.n_calls != i)
		fail_msg("unexpected call %d: '%s'", i, F.calls[i]);
	F.n_calls = 0;
}

#define CALLS(...) calls_are((const char *const[]){ __VA_ARGS__, NULL })
#define NO_CALLS() calls_are((const char *const[]){ NULL })

static void
log_capture(int32_t t, struct qb_log_callsite *cs, struct timespec *ts,
	    const char *msg)
{
	if (F.n_logs < 8)
		snprintf(F.logs[F.n_logs++], sizeof(F.logs[0]), "%s", msg);
}

static struct fake_dom *
dom_add(uint32_t domid, const char *name, uint64_t memkb)
{
	struct fake_dom *d;

	assert_true(F.n_doms < MAX_DOMS);
	d = &F.doms[F.n_doms++];
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->memkb = memkb;
	return d;
}

static void
kv_set(const char *path, const char *val)
{
	for (int i = 0; i < F.n_kv; i++) {
		if (strcmp(F.kv_path[i], path) == 0) {
			snprintf(F.kv_val[i], sizeof(F.kv_val[i]), "%s", val);
			return;
		}
	}
	assert_true(F.n_kv < MAX_KV);
	snprintf(F.kv_path[F.n_kv], sizeof(F.kv_path[0]), "%s", path);
	snprintf(F.kv_val[F.n_kv++], sizeof(F.kv_val[0]), "%s", val);
}

static const char *
ao(const libxl_asyncop_how *how)
{
	return how ? "async" : "sync";
}

static int ao_start(const char *op, const libxl_asyncop_how *how,
		    const char *name, uint32_t *domid_out,
		    libxl_domain_config *dc);

/* ---- the fake libxl ------------------------------------------------------ */

int __wrap_libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags,
			   xentoollog_logger *lg);
int
__wrap_libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags,
		       xentoollog_logger *lg)
{
	rec("ctx_alloc version=%d flags=%u", version, flags);
	assert_non_null(lg);
	F.lg = lg;
	if (F.ctx_alloc_rc) {
		/* libxl says why through the logger it was given. */
		xtl_log(lg, XTL_ERROR, ENOENT, "libxl",
			"cannot open libxc handle");
		return F.ctx_alloc_rc;
	}
	*pctx = FAKE_CTX;
	return 0;
}

int __wrap_libxl_ctx_free(libxl_ctx *ctx);
int
__wrap_libxl_ctx_free(libxl_ctx *ctx)
{
	assert_ptr_equal(ctx, FAKE_CTX);
	rec("ctx_free");
	if (F.fd_for_app)
		F.os->fd_deregister(F.os_user, F.pipe[0], F.fd_for_app);
	F.fd_for_app = NULL;
	return 0;
}

void __wrap_libxl_osevent_register_hooks(libxl_ctx *ctx,
					 const libxl_osevent_hooks *hooks,
					 void *user);
void
__wrap_libxl_osevent_register_hooks(libxl_ctx *ctx,
				    const libxl_osevent_hooks *hooks, void *user)
{
	rec("osevent_register_hooks");
	/* libxl asserts it has no fd registered yet. */
	assert_false(F.selfpipe_internal);
	F.os = hooks;
	F.os_user = user;
}

void __wrap_libxl_childproc_setmode(libxl_ctx *ctx,
				    const libxl_childproc_hooks *hooks,
				    void *user);
void
__wrap_libxl_childproc_setmode(libxl_ctx *ctx, const libxl_childproc_hooks *hooks,
			       void *user)
{
	rec("childproc_setmode %s", hooks->chldowner ==
	    libxl_sigchld_owner_libxl_always_selective_reap ?
	    "selective_reap" : "other");
	/* As libxl: owning SIGCHLD registers its self-pipe at once, through
	 * the hooks when there are some. */
	if (!F.os) {
		F.selfpipe_internal = true;
		return;
	}
	assert_int_equal(F.os->fd_register(F.os_user, F.pipe[0], &F.fd_for_app,
					   POLLIN, &F.pipe[0]), 0);
}

void __wrap_libxl_event_register_callbacks(libxl_ctx *ctx,
					   const libxl_event_hooks *hooks,
					   void *user);
void
__wrap_libxl_event_register_callbacks(libxl_ctx *ctx,
				      const libxl_event_hooks *hooks, void *user)
{
	rec("event_register_callbacks mask=%s", hooks->event_occurs_mask ==
	    LIBXL_EVENTMASK_ALL ? "all" : "some");
	F.ev = hooks;
	F.ev_user = user;
}

static struct fake_dom *
dom_find(uint32_t domid)
{
	for (int i = 0; i < F.n_doms; i++)
		if (F.doms[i].domid == domid)
			return &F.doms[i];
	return NULL;
}

static void
dom_remove(uint32_t domid)
{
	for (int i = 0; i < F.n_doms; i++)
		if (F.doms[i].domid == domid)
			F.doms[i] = F.doms[--F.n_doms];
}

/* As libxl: a watch reports one shutdown, then only the death. */
static void
check_one_shutdown(const libxl_event *ev)
{
	for (int k = 0; k < F.n_evgens; k++) {
		if (F.evgen_user[k] != ev->for_user || F.evgen_off[k])
			continue;
		if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
			if (F.evgen_shut[k])
				fail_msg("libxl reports one shutdown per watch "
					 "(domain %u)", ev->domid);
			F.evgen_shut[k] = true;
		}
	}
}

static void
deliver_pending(void)
{
	for (int i = 0; i < F.n_pending; i++) {
		check_one_shutdown(F.pending[i]);
		F.ev->event_occurs(F.ev_user, F.pending[i]);
	}
	F.n_pending = 0;
	for (int i = 0; i < F.n_compl; i++) {
		struct fake_ao *a = &F.aos[F.compl[i].k];

		assert_true(a->live);
		a->live = false;
		if (a->domid_out) {
			/* libxl writes it at the very end */
			*a->domid_out = F.compl[i].domid;
			assert_string_equal(a->dc->c_info.name, a->name);
		}
		a->how.callback(FAKE_CTX, F.compl[i].rc, a->how.u.for_callback);
	}
	F.n_compl = 0;
}

void __wrap_libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd,
				      short events, short revents);
void
__wrap_libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd,
				 short events, short revents)
{
	char buf[16];

	assert_ptr_equal(for_libxl, &F.pipe[0]);
	assert_int_equal(fd, F.pipe[0]);
	rec("occurred_fd events=%d revents=%d", events, revents);
	(void)!read(F.pipe[0], buf, sizeof(buf));
	deliver_pending();
}

void __wrap_libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl);
void
__wrap_libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl)
{
	assert_ptr_equal(for_libxl, &F.timeout_tok);
	rec("occurred_timeout");
}

libxl_dominfo *__wrap_libxl_list_domain(libxl_ctx *ctx, int *nb);
libxl_dominfo *
__wrap_libxl_list_domain(libxl_ctx *ctx, int *nb)
{
	libxl_dominfo *info;

	rec("list_domain");
	if (F.list_fails)
		return NULL;
	info = calloc((size_t)F.n_doms, sizeof(*info));
	assert_non_null(info);
	for (int i = 0; i < F.n_doms; i++) {
		libxl_dominfo_init(&info[i]);
		info[i].domid = F.doms[i].domid;
		info[i].current_memkb = F.doms[i].memkb;
		info[i].dying = F.doms[i].dying;
		info[i].paused = F.doms[i].paused;
		info[i].shutdown = F.doms[i].shutdown;
		info[i].shutdown_reason = F.doms[i].shutdown ?
			F.doms[i].reason : LIBXL_SHUTDOWN_REASON_UNKNOWN;
	}
	*nb = F.n_doms;
	return info;
}

char *__wrap_libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid);
char *
__wrap_libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
	rec("domid_to_name %u", domid);
	for (int i = 0; i < F.n_doms; i++)
		if (F.doms[i].domid == domid && F.doms[i].name[0])
			return strdup(F.doms[i].name);
	return NULL;
}

int __wrap_libxl_name_to_domid(libxl_ctx *ctx, const char *name,
			       uint32_t *domid);
int
__wrap_libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
	rec("name_to_domid %s", name);
	for (int i = 0; i < F.n_doms; i++) {
		if (strcmp(F.doms[i].name, name) == 0) {
			*domid = F.doms[i].domid;
			return 0;
		}
	}
	return ERROR_INVAL;
}

static libxl_event *
make_event(libxl_event_type type, uint32_t domid, uint64_t user, int reason)
{
	libxl_event *ev = malloc(sizeof(*ev));

	assert_non_null(ev);
	libxl_event_init(ev);
	ev->type = type;
	ev->domid = domid;
	ev->for_user = user;
	ev->u.domain_shutdown.shutdown_reason = (uint8_t)reason;
	return ev;
}

int __wrap_libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *dc,
				   uint32_t *domid,
				   const libxl_asyncop_how *ao_how,
				   const libxl_asyncprogress_how *aop);
int
__wrap_libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *dc,
			       uint32_t *domid, const libxl_asyncop_how *ao_how,
			       const libxl_asyncprogress_how *aop)
{
	rec("create_new name=%s type=%s memkb=%lu maxvcpus=%d disks=%d nics=%d "
	    "%s console=%s", dc->c_info.name,
	    libxl_domain_type_to_string(dc->c_info.type),
	    (unsigned long)dc->b_info.target_memkb, dc->b_info.max_vcpus,
	    dc->num_disks, dc->num_nics, ao(ao_how), aop ? "yes" : "no");
	/* libxl's inner loop runs here: another domain may die meanwhile. */
	if (F.crash_during_create)
		F.ev->event_occurs(F.ev_user, make_event(
			LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 3,
			F.crash_during_create, LIBXL_SHUTDOWN_REASON_CRASH));
	if (F.create_rc) {
		/* not started; a half domain's id, which libxl would not
		 * give, tests that the driver destroys it anyway */
		*domid = F.create_domid;
		return F.create_rc;
	}
	(void)ao_start("create_new", ao_how, dc->c_info.name, domid, dc);
	/* The domain is made (named, paused) long before the create ends. */
	dom_add(F.create_domid, dc->c_info.name,
		dc->b_info.target_memkb)->paused = true;
	return 0;
}

int __wrap_libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid,
				const libxl_asyncop_how *ao_how);
int
__wrap_libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid,
			    const libxl_asyncop_how *ao_how)
{
	rec("unpause %u %s", domid, ao(ao_how));
	if (F.unpause_rc == 0 && dom_find(domid))
		dom_find(domid)->paused = false;
	return F.unpause_rc;
}

int __wrap_libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid,
				const libxl_asyncop_how *ao_how);
int
__wrap_libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid,
			    const libxl_asyncop_how *ao_how)
{
	rec("destroy %u %s", domid, ao(ao_how));
	/* libxl's inner loop runs here: an operation may complete. */
	if (F.complete_during_destroy) {
		struct fake_ao *a = &F.aos[F.complete_during_destroy - 1];

		F.complete_during_destroy = 0;
		a->live = false;
		if (a->domid_out)
			*a->domid_out = F.create_domid;
		a->how.callback(FAKE_CTX, 0, a->how.u.for_callback);
	}
	if (F.destroy_rc)
		return F.destroy_rc;
	for (int i = 0; i < F.n_doms; i++)
		if (F.doms[i].domid == domid)
			F.doms[i] = F.doms[--F.n_doms];
	return 0;
}

int __wrap_libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid,
				 const libxl_asyncop_how *ao_how);
int
__wrap_libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid,
			     const libxl_asyncop_how *ao_how)
{
	rec("shutdown %u %s", domid, ao(ao_how));
	return F.shutdown_rc;
}

int __wrap_libxl_send_trigger(libxl_ctx *ctx, uint32_t domid,
			      libxl_trigger trigger, uint32_t vcpuid,
			      const libxl_asyncop_how *ao_how);
int
__wrap_libxl_send_trigger(libxl_ctx *ctx, uint32_t domid, libxl_trigger trigger,
			  uint32_t vcpuid, const libxl_asyncop_how *ao_how)
{
	rec("send_trigger %u %s vcpu=%u %s", domid,
	    libxl_trigger_to_string(trigger), vcpuid, ao(ao_how));
	return F.trigger_rc;
}

int __wrap_libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid,
				       libxl_ev_user user,
				       libxl_evgen_domain_death **out);
int
__wrap_libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid,
				   libxl_ev_user user,
				   libxl_evgen_domain_death **out)
{
	int k = F.n_evgens;

	rec("evenable_domain_death %u", domid);
	if (F.evenable_rc)
		return F.evenable_rc;
	assert_true(k < MAX_EVGEN);
	F.evgen_user[k] = user;
	F.evgen_domid[k] = domid;
	F.n_evgens++;
	*out = (libxl_evgen_domain_death *)&F.evgens[k];
	return 0;
}

void __wrap_libxl_evdisable_domain_death(libxl_ctx *ctx,
					 libxl_evgen_domain_death *evgen);
void
__wrap_libxl_evdisable_domain_death(libxl_ctx *ctx,
				    libxl_evgen_domain_death *evgen)
{
	ptrdiff_t k = (char *)evgen - F.evgens;

	assert_true(k >= 0 && k < F.n_evgens);
	assert_false(F.evgen_off[k]);
	F.evgen_off[k] = true;
	rec("evdisable_domain_death %u", F.evgen_domid[k]);
}

/* The for_user the driver gave the death watch of domid (the last one). */
static uint64_t
user_of(uint32_t domid)
{
	for (int k = F.n_evgens - 1; k >= 0; k--)
		if (F.evgen_domid[k] == domid)
			return F.evgen_user[k];
	fail_msg("no death watch for domain %u", domid);
	return 0;
}

void __wrap_libxl_event_free(libxl_ctx *ctx, libxl_event *ev);
void
__wrap_libxl_event_free(libxl_ctx *ctx, libxl_event *ev)
{
	libxl_event_dispose(ev);
	free(ev);
}

int __wrap_libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *pi);
int
__wrap_libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *pi)
{
	rec("get_physinfo");
	pi->total_pages = F.total_pages;
	pi->free_pages = F.free_pages;
	pi->scrub_pages = F.scrub_pages;
	return F.physinfo_rc;
}

int __wrap_libxl_get_free_memory(libxl_ctx *ctx, uint64_t *memkb);
int
__wrap_libxl_get_free_memory(libxl_ctx *ctx, uint64_t *memkb)
{
	rec("get_free_memory");
	if (F.free_rc)
		return F.free_rc;
	*memkb = F.free_kb;
	return 0;
}

/* ---- the fake libxl: migration --------------------------------------------
 *
 * These are not in the Makefile's XL_WRAP list, so they are defined under
 * their own names: the executable's definitions are the ones libxmcore's
 * references bind to, libxenlight's are never reached.  (Should they join
 * XL_WRAP, rename them __wrap_*.)
 */

static int
ao_start(const char *op, const libxl_asyncop_how *how, const char *name,
	 uint32_t *domid_out, libxl_domain_config *dc)
{
	struct fake_ao *a;

	/* The driver never blocks its loop on these. */
	assert_non_null(how);
	assert_non_null(how->callback);
	assert_true(F.n_aos < MAX_AOS);
	a = &F.aos[F.n_aos];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->how = *how;          /* *how need not outlive the call */
	a->domid_out = domid_out;
	a->dc = dc;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->live = true;
	return F.n_aos++;
}

/* Operation k ends with rc (and, for a restore, domid), delivered from
 * inside libxl_osevent_occurred_fd. */
static void
ao_complete(int k, int rc, uint32_t domid)
{
	assert_true(F.n_compl < 8);
	F.compl[F.n_compl].k = k;
	F.compl[F.n_compl].rc = rc;
	F.compl[F.n_compl++].domid = domid;
	assert_int_equal(write(F.pipe[1], "c", 1), 1);
}

static const char *
which_fd(int fd)
{
	return fd == F.sock[0] ? "ours" : "other";
}

int
libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info, uint32_t domid)
{
	struct fake_dom *d = dom_find(domid);

	assert_ptr_equal(ctx, FAKE_CTX);
	rec("domain_info %u", domid);
	if (!d)
		return ERROR_DOMAIN_NOTFOUND;
	if (info) {
		info->domid = domid;
		info->current_memkb = d->memkb;
		info->dying = d->dying;
		info->paused = d->paused;
		info->shutdown = d->shutdown;
		info->shutdown_reason = d->shutdown ? d->reason :
			LIBXL_SHUTDOWN_REASON_UNKNOWN;
	}
	return 0;
}

int
libxl_domain_suspend(libxl_ctx *ctx, uint32_t domid, int fd, int flags,
		     const libxl_asyncop_how *ao_how)
{
	assert_ptr_equal(ctx, FAKE_CTX);
	rec("suspend %u fd=%s flags=%s %s", domid, which_fd(fd),
	    flags == LIBXL_SUSPEND_LIVE ? "live" : flags == 0 ? "none" : "other",
	    ao(ao_how));
	if (F.suspend_rc)
		return F.suspend_rc;
	(void)ao_start("suspend", ao_how, "", NULL, NULL);
	return 0;
}

int
libxl_domain_create_restore(libxl_ctx *ctx, libxl_domain_config *dc,
			    uint32_t *domid, int restore_fd, int send_back_fd,
			    const libxl_domain_restore_params *params,
			    const libxl_asyncop_how *ao_how,
			    const libxl_asyncprogress_how *aop)
{
	assert_ptr_equal(ctx, FAKE_CTX);
	rec("create_restore name=%s type=%s memkb=%lu disks=%d nics=%d fd=%s "
	    "send_back=%d checkpointed=%s version=%u colo_proxy=%s %s "
	    "console=%s", dc->c_info.name,
	    libxl_domain_type_to_string(dc->c_info.type),
	    (unsigned long)dc->b_info.target_memkb, dc->num_disks, dc->num_nics,
	    which_fd(restore_fd), send_back_fd,
	    libxl_checkpointed_stream_to_string(params->checkpointed_stream),
	    params->stream_version,
	    libxl_defbool_to_string(params->userspace_colo_proxy), ao(ao_how),
	    aop ? "yes" : "no");
	if (F.restore_rc)
		return F.restore_rc;
	(void)ao_start("create_restore", ao_how, dc->c_info.name, domid, dc);
	/* The domain is made (named, paused) before the stream is read. */
	dom_add(F.create_domid, dc->c_info.name,
		dc->b_info.target_memkb)->paused = true;
	return 0;
}

int
libxl_domain_resume(libxl_ctx *ctx, uint32_t domid, int suspend_cancel,
		    const libxl_asyncop_how *ao_how)
{
	struct fake_dom *d = dom_find(domid);

	assert_ptr_equal(ctx, FAKE_CTX);
	rec("resume %u cancel=%d %s", domid, suspend_cancel, ao(ao_how));
	if (F.resume_rc)
		return F.resume_rc;
	assert_non_null(d);
	d->shutdown = F.resume_leaves != 0;
	d->reason = F.resume_leaves - 1;
	return 0;
}

int
libxl_ao_abort(libxl_ctx *ctx, const libxl_asyncop_how *how)
{
	assert_ptr_equal(ctx, FAKE_CTX);
	for (int k = 0; k < F.n_aos; k++) {
		struct fake_ao *a = &F.aos[k];

		if (!a->live || a->how.callback != how->callback ||
		    a->how.u.for_callback != how->u.for_callback)
			continue;
		rec("ao_abort %s", a->op);
		if (!F.abort_ignored)
			ao_complete(k, ERROR_ABORTED, a->domid_out ?
				    F.create_domid : INVALID_DOMID);
		return 0;
	}
	rec("ao_abort unknown");
	return ERROR_NOTFOUND;
}

/* ---- the fake xenstore ---------------------------------------------------- */

struct xs_handle *__wrap_xs_open(unsigned long flags);
struct xs_handle *
__wrap_xs_open(unsigned long flags)
{
	rec("xs_open %lu", flags);
	if (F.xs_open_fails) {
		errno = ENOENT;
		return NULL;
	}
	return FAKE_XS;
}

void __wrap_xs_close(struct xs_handle *h);
void
__wrap_xs_close(struct xs_handle *h)
{
	assert_ptr_equal(h, FAKE_XS);
	rec("xs_close");
}

bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
		     const void *data, unsigned int len);
bool
__wrap_xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
		const void *data, unsigned int len)
{
	char val[32];

	snprintf(val, sizeof(val), "%.*s", (int)len, (const char *)data);
	rec("xs_write t=%u %s=%s", t, path, val);
	if (F.xs_write_fails)
		return false;
	kv_set(path, val);
	return true;
}

bool __wrap_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			       const char *path, struct xs_permissions *perms,
			       unsigned int num);
bool
__wrap_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			  const char *path, struct xs_permissions *perms,
			  unsigned int num)
{
	rec("xs_set_permissions %s n=%u owner=%u perms=%d", path, num,
	    perms[0].id, (int)perms[0].perms);
	return true;
}

void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
		     unsigned int *len);
void *
__wrap_xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	       unsigned int *len)
{
	rec("xs_read %s", path);
	for (int i = 0; i < F.n_kv; i++) {
		if (strcmp(F.kv_path[i], path) == 0) {
			*len = (unsigned)strlen(F.kv_val[i]);
			return strdup(F.kv_val[i]);
		}
	}
	errno = ENOENT;
	return NULL;
}

/* ---- fixtures --------------------------------------------------------------- */

static int
setup(void **state)
{
	memset(&F, 0, sizeof(F));
	assert_int_equal(pipe(F.pipe), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, F.sock), 0);
	dom_add(0, "Domain-0", 4096 * 1024);
	return 0;
}

static int
teardown(void **state)
{
	struct hv *hv = *state;

	if (hv)
		hv_xl_ops.close(hv);
	for (int i = 0; i < F.n_pending; i++)
		__wrap_libxl_event_free(NULL, F.pending[i]);
	close(F.pipe[0]);
	close(F.pipe[1]);
	close(F.sock[0]);
	close(F.sock[1]);
	*state = NULL;
	return 0;
}

static struct hv *
open_ok(void **state)
{
	struct hv_params p = { .host_name = "h1", .run_dir = "/nonexistent" };
	struct hv *hv = NULL;

	assert_int_equal(hv_xl_ops.open(&hv, &p), 0);
	assert_non_null(hv);
	*state = hv;
	F.n_calls = 0;
	return hv;
}

static void
pv_config(struct vm_config *c, const char *name)
{
	char why[128];

	vm_config_init(c);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->memory_mb = c->maxmem_mb = 1024;
	c->vcpus = c->maxvcpus = 2;
	strcpy(c->kernel, "/boot/vmlinuz");
	strcpy(c->disks[0].spec, "/dev/vg/web1,raw,xvda,rw");
	strcpy(c->disks[0].target, "/dev/vg/web1");
	strcpy(c->disks[0].vdev, "xvda");
	strcpy(c->disks[0].format, "raw");
	c->n_disks = 1;
	assert_int_equal(vm_vif_parse("bridge=xenbr0", &c->vifs[0], why,
				      sizeof(why)), 0);
	c->n_vifs = 1;
}

static void ao_complete(int k, int rc, uint32_t domid);
static bool readable_within(struct hv *hv, int ms);
static void mig_event_is(struct hv *hv, enum hv_event_kind kind,
			 const char *name, uint64_t gen, int result,
			 const char *reason);

/* A domain created and running.  Its create's operation is forgotten
 * once ended, so a test's own operations count from 0. */
static void
create_ok(struct hv *hv, const char *name, uint32_t domid, uint64_t gen)
{
	struct vm_config c;

	pv_config(&c, name);
	F.create_domid = domid;
	assert_int_equal(hv_xl_ops.create(hv, &c, gen), 0);
	assert_string_equal(F.aos[F.n_aos - 1].op, "create_new");
	ao_complete(F.n_aos - 1, 0, domid);
	assert_true(readable_within(hv, 1000));
	mig_event_is(hv, HV_EVENT_CREATED, name, gen, 0, "");
	F.n_aos--;
	F.n_calls = 0;
}

/* The agent's loop would call event_next within ms. */
static bool
readable_within(struct hv *hv, int ms)
{
	struct pollfd pfd = { .fd = hv_xl_ops.event_fd(hv), .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

#define readable(hv) readable_within((hv), 1000)

static void
event_is(struct hv *hv, enum hv_event_kind kind, const char *name,
	 uint64_t gen)
{
	struct hv_event ev;

	assert_int_equal(hv_xl_ops.event_next(hv, &ev), 0);
	assert_int_equal(ev.kind, kind);
	assert_string_equal(ev.name, name);
	assert_int_equal(ev.generation, gen);
}

static void
no_event(struct hv *hv)
{
	struct hv_event ev;

	assert_int_equal(hv_xl_ops.event_next(hv, &ev), -EAGAIN);
}

/* ---- open ------------------------------------------------------------------- */

static void
test_open_no_xen(void **state)
{
	struct hv_params p = { .host_name = "h1" };
	struct hv *hv = (struct hv *)&fake_ctx_mem;

	F.ctx_alloc_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.open(&hv, &p), -ENODEV);
	assert_null(hv);
	CALLS("ctx_alloc version=0 flags=0");
	assert_int_equal(F.n_logs, 2);
	assert_string_equal(F.logs[0], "[libxl] libxl: cannot open libxc "
			    "handle: No such file or directory");
	assert_string_equal(F.logs[1], "[xl] cannot init libxl context: is "
			    "this a Xen dom0?");
}

static void
test_open_no_xenstore(void **state)
{
	struct hv_params p = { .host_name = "h1" };
	struct hv *hv = NULL;

	F.xs_open_fails = true;
	assert_int_equal(hv_xl_ops.open(&hv, &p), -ENOENT);
	assert_null(hv);
	CALLS("ctx_alloc version=0 flags=0", "osevent_register_hooks",
	      "childproc_setmode selective_reap", "event_register_callbacks mask=all",
	      "xs_open 0", "ctx_free");
	assert_null(F.fd_for_app);      /* libxl's fd went back through us */
	assert_string_equal(F.logs[0], "[xl] cannot connect to xenstore: No "
			    "such file or directory");
}

static void
test_open_close(void **state)
{
	struct hv_params p = { .host_name = "h1" };
	struct hv *hv = NULL;

	assert_int_equal(hv_xl_ops.open(&hv, &p), 0);
	CALLS("ctx_alloc version=0 flags=0", "osevent_register_hooks",
	      "childproc_setmode selective_reap", "event_register_callbacks mask=all",
	      "xs_open 0");
	assert_true(hv_xl_ops.event_fd(hv) >= 0);
	assert_ptr_equal(hv_driver_find("xl"), &hv_xl_ops);
	no_event(hv);
	NO_CALLS();
	hv_xl_ops.close(hv);
	CALLS("ctx_free", "xs_close");
	hv_xl_ops.close(NULL);
}

/* ---- create ----------------------------------------------------------------- */

static void
test_create_invalid(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	pv_config(&c, "web1");
	assert_int_equal(hv_xl_ops.create(hv, &c, 0), -EINVAL);
	assert_int_equal(hv_xl_ops.create(hv, NULL, 1), -EINVAL);
	NO_CALLS();

	dom_add(3, "web1", 1024);
	assert_int_equal(hv_xl_ops.create(hv, &c, 1), -EEXIST);
	CALLS("name_to_domid web1");

	pv_config(&c, "web2");
	c.type = VM_TYPE_HVM;
	strcpy(c.bootloader, "pygrub");
	assert_int_equal(hv_xl_ops.create(hv, &c, 1), -EINVAL);
	CALLS("name_to_domid web2");
	assert_string_equal(F.logs[F.n_logs - 1], "[xl] VM web2: cannot map its "
			    "definition for libxl: bootloader: only pv and pvh "
			    "guests use one (an hvm guest boots its firmware)");
}

#define CREATE_WEB1 "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 " \
	"disks=1 nics=1 async console=no"

/* Begin a create of web1 as domid, generation gen: in progress. */
static void
create_begin(struct hv *hv, uint32_t domid, uint64_t gen)
{
	struct vm_config c;

	pv_config(&c, "web1");
	F.create_domid = domid;
	assert_int_equal(hv_xl_ops.create(hv, &c, gen), 0);
	CALLS("name_to_domid web1", CREATE_WEB1);
}

static void
test_create_sequence(void **state)
{
	struct hv *hv = open_ok(state);
	struct hv_domain *doms = NULL;
	struct vm_config c;
	size_t n = 0;

	/* Asynchronous: the loop goes on while libxl builds it. */
	create_begin(hv, 7, 42);
	no_event(hv);
	NO_CALLS();

	/* Listed while libxl builds it: no generation in xenstore yet, but
	 * the instance being created's, paused (not a stale domain). */
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "web1");
	assert_int_equal(doms[0].domid, 7);
	assert_int_equal(doms[0].generation, 42);
	assert_true(doms[0].paused);
	free(doms);
	doms = NULL;
	CALLS("list_domain", "domid_to_name 7", "xs_read " GEN_PATH(7));

	/* One at a time per name; it is not resumed under libxl. */
	pv_config(&c, "web1");
	assert_int_equal(hv_xl_ops.create(hv, &c, 43), -EBUSY);
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 43, F.sock[0]),
			 -EBUSY);
	NO_CALLS();
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), -EBUSY);
	CALLS("name_to_domid web1");

	/* Done: the generation and the watch before it first runs. */
	ao_complete(0, 0, 7);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 42, 0, "");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "xs_set_permissions " GEN_PATH(7) " n=1 owner=0 perms=0",
	      "evenable_domain_death 7",
	      "unpause 7 sync");
	no_event(hv);

	/* Listed with its generation, running, and not watched twice. */
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "web1");
	assert_int_equal(doms[0].domid, 7);
	assert_int_equal(doms[0].generation, 42);
	assert_false(doms[0].paused);
	free(doms);
	CALLS("list_domain", "domid_to_name 7", "xs_read " GEN_PATH(7));
}

static void
test_create_failure(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	pv_config(&c, "web1");
	/* Not started, with a half domain: xl destroys it. */
	F.create_rc = ERROR_FAIL;
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1", CREATE_WEB1, "destroy 9 sync");
	F.create_domid = INVALID_DOMID;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1", CREATE_WEB1);
	no_event(hv);
	F.create_rc = 0;

	/* Failed on the way: the reason has libxl's first error, and
	 * nothing of the domain is left. */
	create_begin(hv, 9, 42);
	xtl_log(F.lg, XTL_ERROR, -1, "libxl", "libxl_device.c:1223:"
		"device_backend_callback: Domain 9:unable to add device with "
		"path /local/domain/0/backend/vbd/9/51712");
	ao_complete(0, ERROR_FAIL, 9);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 42, -EIO,
		     "libxl_domain_create_new: ERROR_FAIL; libxl's first error: "
		     "libxl: Domain 9:unable to add device with path "
		     "/local/domain/0/backend/vbd/9/51712");
	CALLS("occurred_fd events=1 revents=1", "destroy 9 sync");
	assert_null(dom_find(9));
	no_event(hv);

	/* The name is free again. */
	create_begin(hv, 10, 43);
	ao_complete(1, ERROR_FAIL, INVALID_DOMID);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 43, -EIO,
		     "libxl_domain_create_new: ERROR_FAIL; the [libxl] log says "
		     "why");
	CALLS("occurred_fd events=1 revents=1");
}

static void
test_create_late_failures(void **state)
{
	struct hv *hv = open_ok(state);

	F.xs_write_fails = true;
	create_begin(hv, 7, 42);
	ao_complete(0, 0, 7);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 42, -EIO,
		     "cannot write its generation to xenstore");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "destroy 7 sync");

	F.xs_write_fails = false;
	F.evenable_rc = ERROR_FAIL;
	create_begin(hv, 7, 42);
	ao_complete(1, 0, 7);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 42, -EIO,
		     "cannot watch its death");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "xs_set_permissions " GEN_PATH(7) " n=1 owner=0 perms=0",
	      "evenable_domain_death 7",
	      "destroy 7 sync");

	F.evenable_rc = 0;
	F.unpause_rc = ERROR_FAIL;
	create_begin(hv, 7, 42);
	ao_complete(2, 0, 7);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 42, -EIO,
		     "libxl_domain_unpause failed");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "xs_set_permissions " GEN_PATH(7) " n=1 owner=0 perms=0",
	      "evenable_domain_death 7",
	      "unpause 7 sync",
	      "evdisable_domain_death 7",
	      "destroy 7 sync");
	no_event(hv);
}

/* destroy() of a domain being created: libxl is told to stop, what
 * exists goes at once (DESTROYED), and what libxl ends with goes too. */
static void
test_create_destroyed(void **state)
{
	struct hv *hv = open_ok(state);
	struct hv_domain *doms = NULL;
	size_t n = 0;

	create_begin(hv, 7, 42);
	assert_int_equal(hv_xl_ops.destroy(hv, "web1"), 0);
	CALLS("ao_abort create_new", "name_to_domid web1", "destroy 7 sync");
	event_is(hv, HV_EVENT_DESTROYED, "web1", 42);
	/* not listed as the instance any more */
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	assert_int_equal(n, 0);
	free(doms);
	doms = NULL;
	F.n_calls = 0;
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 42, -ECANCELED,
		     "destroyed while libxl created it");
	CALLS("occurred_fd events=1 revents=1", "destroy 7 sync");
	no_event(hv);

	/* Before libxl made the domain: nothing to destroy yet, the event
	 * still says it is gone; libxl ignoring the abort and completing
	 * the create makes no running domain. */
	F.abort_ignored = true;
	create_begin(hv, 8, 43);
	dom_remove(8);
	assert_int_equal(hv_xl_ops.destroy(hv, "web1"), 0);
	CALLS("ao_abort create_new", "name_to_domid web1");
	event_is(hv, HV_EVENT_DESTROYED, "web1", 43);
	dom_add(8, "web1", 1024)->paused = true;
	ao_complete(1, 0, 8);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_CREATED, "web1", 43, -ECANCELED,
		     "destroyed while libxl created it");
	CALLS("occurred_fd events=1 revents=1", "destroy 8 sync");
	assert_null(dom_find(8));
	no_event(hv);
}

/* At close a create in flight is aborted, awaited, and its domain
 * destroyed. */
static void
test_create_close(void **state)
{
	struct hv *hv = open_ok(state);

	create_begin(hv, 7, 42);
	hv_xl_ops.close(hv);
	*state = NULL;
	CALLS("ao_abort create_new", "occurred_fd events=1 revents=1",
	      "destroy 7 sync", "ctx_free", "xs_close");
}

/* ---- destroy and shutdown --------------------------------------------------- */

static void
test_destroy(void **state)
{
	struct hv *hv = open_ok(state);

	assert_int_equal(hv_xl_ops.destroy(hv, "ghost"), 0);
	CALLS("name_to_domid ghost");
	assert_int_equal(hv_xl_ops.destroy(hv, "Domain-0"), -EPERM);
	CALLS("name_to_domid Domain-0");
	assert_int_equal(hv_xl_ops.destroy(hv, ""), -EINVAL);
	NO_CALLS();
	no_event(hv);

	/* Ours: unwatched first, then destroyed, reported DESTROYED. */
	create_ok(hv, "web1", 7, 42);
	assert_int_equal(hv_xl_ops.destroy(hv, "web1"), 0);
	CALLS("name_to_domid web1", "evdisable_domain_death 7",
	      "destroy 7 sync");
	event_is(hv, HV_EVENT_DESTROYED, "web1", 42);
	no_event(hv);

	/* Not watched: its generation comes from xenstore. */
	dom_add(12, "db1", 2048);
	kv_set(GEN_PATH(12), "5");
	assert_int_equal(hv_xl_ops.destroy(hv, "db1"), 0);
	CALLS("name_to_domid db1", "xs_read " GEN_PATH(12), "destroy 12 sync");
	event_is(hv, HV_EVENT_DESTROYED, "db1", 5);

	dom_add(13, "db2", 2048);
	F.destroy_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.destroy(hv, "db2"), -EIO);
	CALLS("name_to_domid db2", "xs_read " GEN_PATH(13), "destroy 13 sync");
	no_event(hv);
}

static void
test_shutdown(void **state)
{
	struct hv *hv = open_ok(state);

	assert_int_equal(hv_xl_ops.shutdown(hv, "ghost"), -ENOENT);
	CALLS("name_to_domid ghost");
	assert_int_equal(hv_xl_ops.shutdown(hv, "Domain-0"), -EPERM);
	CALLS("name_to_domid Domain-0");

	dom_add(3, "web1", 1024);
	assert_int_equal(hv_xl_ops.shutdown(hv, "web1"), 0);
	CALLS("name_to_domid web1", "shutdown 3 sync");

	/* HVM without PV drivers: the ACPI power button. */
	F.shutdown_rc = ERROR_NOPARAVIRT;
	assert_int_equal(hv_xl_ops.shutdown(hv, "web1"), 0);
	CALLS("name_to_domid web1", "shutdown 3 sync",
	      "send_trigger 3 power vcpu=0 sync");

	F.trigger_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.shutdown(hv, "web1"), -EIO);
	CALLS("name_to_domid web1", "shutdown 3 sync",
	      "send_trigger 3 power vcpu=0 sync");
	no_event(hv);
}

/* ---- list and memory ------------------------------------------------------ */

static void
test_list(void **state)
{
	struct hv *hv = open_ok(state);
	struct hv_domain *doms = NULL;
	size_t n = 9;

	F.list_fails = true;
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), -EIO);
	assert_null(doms);
	assert_int_equal(n, 0);
	CALLS("list_domain");
	F.list_fails = false;

	dom_add(3, "web1", 1048576);
	dom_add(4, "legacy", 524288);
	dom_add(5, "going", 1024)->dying = true;
	dom_add(6, "", 1024);                   /* gone before its name */
	dom_add(8, "odd", 262144);
	kv_set(GEN_PATH(3), "42");
	kv_set(GEN_PATH(8), "12abc");
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	CALLS("list_domain",
	      "domid_to_name 3", "xs_read " GEN_PATH(3), "evenable_domain_death 3",
	      "domid_to_name 4", "xs_read " GEN_PATH(4),
	      "domid_to_name 6",
	      "domid_to_name 8", "xs_read " GEN_PATH(8));
	assert_int_equal(n, 3);                 /* sorted by name */
	assert_string_equal(doms[0].name, "legacy");
	assert_int_equal(doms[0].domid, 4);
	assert_int_equal(doms[0].memory_mb, 512);
	assert_int_equal(doms[0].generation, 0);
	assert_string_equal(doms[1].name, "odd");
	assert_int_equal(doms[1].memory_mb, 256);
	assert_int_equal(doms[1].generation, 0);  /* not a number: none */
	assert_string_equal(doms[2].name, "web1");
	assert_int_equal(doms[2].domid, 3);
	assert_int_equal(doms[2].memory_mb, 1024);
	assert_int_equal(doms[2].generation, 42);
	free(doms);

	/* Adopted once: its death now comes as an event. */
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	free(doms);
	CALLS("list_domain",
	      "domid_to_name 3", "xs_read " GEN_PATH(3),
	      "domid_to_name 4", "xs_read " GEN_PATH(4),
	      "domid_to_name 6",
	      "domid_to_name 8", "xs_read " GEN_PATH(8));
}

static void
test_host_memory(void **state)
{
	struct hv *hv = open_ok(state);
	uint64_t total = 1, free_mb = 1;

	F.physinfo_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), -EIO);
	CALLS("get_physinfo");
	F.physinfo_rc = 0;

	/* 16 GiB of 4 KiB pages; dom0 has 2 GiB, two domUs 4 GiB and 8 GiB,
	 * 1.5 GiB free: domUs may have 13.5 GiB, not the host's 16 */
	F.total_pages = 4194304;
	F.free_pages = 262144;
	F.scrub_pages = 2560;
	F.free_kb = 1572864;
	F.n_doms = 3;
	F.doms[0].domid = 0;
	F.doms[0].memkb = 2097152;
	F.doms[1].domid = 7;
	F.doms[1].memkb = 4194304;
	F.doms[2].domid = 8;
	F.doms[2].memkb = 8388608;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), 0);
	CALLS("get_physinfo", "get_free_memory", "list_domain");
	assert_int_equal(total, 1536 + 4096 + 8192);
	assert_int_equal(free_mb, 1536);

	/* Without libxl's figure: free and scrub pages, 1034 MB. */
	F.free_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), 0);
	CALLS("get_physinfo", "get_free_memory", "list_domain");
	assert_int_equal(total, 1034 + 4096 + 8192);
	assert_int_equal(free_mb, 1034);

	/* The list fails: the free memory alone */
	F.free_rc = 0;
	F.list_fails = true;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), 0);
	CALLS("get_physinfo", "get_free_memory", "list_domain");
	assert_int_equal(total, 1536);

	/* dom0 alone on a 1 GB host with dom0_mem=512M (what Xen 4.17 under
	 * QEMU reports): about 500 MB for domUs */
	F.list_fails = false;
	F.n_doms = 1;
	F.doms[0].memkb = 524288;
	F.total_pages = 261888;
	F.free_kb = 509952;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), 0);
	CALLS("get_physinfo", "get_free_memory", "list_domain");
	assert_int_equal(total, 498);
}

/* ---- events ----------------------------------------------------------------- */

static void
fire(libxl_event *ev)
{
	F.pending[F.n_pending++] = ev;
	assert_int_equal(write(F.pipe[1], "x", 1), 1);
}

static void
test_death_events(void **state)
{
	struct hv *hv = open_ok(state);

	create_ok(hv, "crashy", 7, 40);
	create_ok(hv, "rebooty", 8, 41);
	create_ok(hv, "offy", 9, 42);
	create_ok(hv, "killed", 10, 43);
	create_ok(hv, "saved", 11, 44);

	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 7, user_of(7),
			LIBXL_SHUTDOWN_REASON_CRASH));
	assert_true(readable(hv));
	event_is(hv, HV_EVENT_CRASH, "crashy", 40);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 7",
	      "destroy 7 sync");
	no_event(hv);
	NO_CALLS();

	/* Reboot: reported and cleaned up; the agent recreates it. */
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 8, user_of(8),
			LIBXL_SHUTDOWN_REASON_REBOOT));
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 9, user_of(9),
			LIBXL_SHUTDOWN_REASON_POWEROFF));
	assert_true(readable(hv));
	event_is(hv, HV_EVENT_REBOOT, "rebooty", 41);
	event_is(hv, HV_EVENT_POWEROFF, "offy", 42);
	CALLS("occurred_fd events=1 revents=1",
	      "evdisable_domain_death 8", "destroy 8 sync",
	      "evdisable_domain_death 9", "destroy 9 sync");
	no_event(hv);

	/* Destroyed behind our back: a crash, nothing left to destroy; a
	 * suspend is no end; a stale watch's event finds nobody. */
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_DEATH, 10, user_of(10), 0));
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 11, user_of(11),
			LIBXL_SHUTDOWN_REASON_SUSPEND));
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 7, user_of(7),
			LIBXL_SHUTDOWN_REASON_CRASH));
	event_is(hv, HV_EVENT_CRASH, "killed", 43);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 10");
	no_event(hv);
	NO_CALLS();
	assert_false(readable_within(hv, 0));

	/* The suspended one is still watched: its death comes later (libxl
	 * reports no second shutdown on that watch, only the death). */
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_DEATH, 11, user_of(11), 0));
	event_is(hv, HV_EVENT_CRASH, "saved", 44);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 11");
}

static void
test_death_inside_create(void **state)
{
	struct hv *hv = open_ok(state);

	create_ok(hv, "old", 3, 7);
	/* libxl's inner loop in create_new delivers the crash of "old":
	 * the driver only queues it there, and destroys the remains before
	 * the event leaves. */
	F.crash_during_create = user_of(3);
	create_begin(hv, 4, 8);
	assert_true(readable(hv));
	event_is(hv, HV_EVENT_CRASH, "old", 7);
	CALLS("evdisable_domain_death 3", "destroy 3 sync");
	no_event(hv);
}

static void
test_timeouts(void **state)
{
	struct hv *hv = open_ok(state);
	struct timeval past, later;
	void *t1 = NULL, *t2 = NULL;

	gettimeofday(&past, NULL);
	later = past;
	past.tv_sec -= 1;
	later.tv_sec += 3600;
	assert_int_equal(F.os->timeout_register(F.os_user, &t1, later,
						&F.timeout_tok), 0);
	assert_false(readable_within(hv, 0));
	no_event(hv);
	NO_CALLS();

	assert_int_equal(F.os->timeout_register(F.os_user, &t2, past,
						&F.timeout_tok), 0);
	assert_true(readable(hv));
	no_event(hv);
	CALLS("occurred_timeout");

	/* "As soon as possible" for the far one. */
	assert_int_equal(F.os->timeout_modify(F.os_user, &t1,
					      (struct timeval){ 0, 0 }), 0);
	assert_true(readable(hv));
	no_event(hv);
	CALLS("occurred_timeout");
	no_event(hv);
	NO_CALLS();
}

/* ---- migration ------------------------------------------------------------------ */

#define RESTORE_WEB1 "create_restore name=web1 type=pv memkb=1048576 disks=1 " \
	"nics=1 fd=ours send_back=-1 checkpointed=none version=2 " \
	"colo_proxy=False async console=no"

static void
mig_event_is(struct hv *hv, enum hv_event_kind kind, const char *name,
	     uint64_t gen, int result, const char *reason)
{
	struct hv_event ev;

	assert_int_equal(hv_xl_ops.event_next(hv, &ev), 0);
	assert_int_equal(ev.kind, kind);
	assert_string_equal(ev.name, name);
	assert_int_equal(ev.generation, gen);
	assert_int_equal(ev.result, result);
	assert_string_equal(ev.reason, reason);
}

/* The guest answers the suspend request: shut down, reason suspend; the
 * death watch reports it. */
static void
guest_suspends(uint32_t domid)
{
	struct fake_dom *d = dom_find(domid);

	d->shutdown = true;
	d->reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, domid, user_of(domid),
			LIBXL_SHUTDOWN_REASON_SUSPEND));
}

static bool
listed_paused(struct hv *hv, const char *name)
{
	struct hv_domain *doms = NULL;
	size_t n = 0;
	bool paused = false, found = false;

	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(doms[i].name, name) == 0) {
			found = true;
			paused = doms[i].paused;
		}
	}
	free(doms);
	F.n_calls = 0;
	assert_true(found);
	return paused;
}

static void
test_migrate_invalid(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;
	int fd = F.sock[0], closed[2];

	assert_int_equal(pipe(closed), 0);
	close(closed[0]);
	close(closed[1]);

	/* send */
	assert_int_equal(hv_xl_ops.migrate_send(NULL, "web1", fd), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", -1), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", closed[0]), -EBADF);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "", fd), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_send(hv, NULL, fd), -EINVAL);
	NO_CALLS();
	assert_int_equal(hv_xl_ops.migrate_send(hv, "ghost", fd), -ENOENT);
	CALLS("name_to_domid ghost");
	assert_int_equal(hv_xl_ops.migrate_send(hv, "Domain-0", fd), -EPERM);
	CALLS("name_to_domid Domain-0");

	/* Only a running domain: not a paused or suspended one (it could
	 * not answer), not one that has ended. */
	dom_add(3, "held", 1024)->paused = true;
	assert_int_equal(hv_xl_ops.migrate_send(hv, "held", fd), -EBUSY);
	CALLS("name_to_domid held", "domain_info 3");
	dom_add(4, "away", 1024)->shutdown = true;
	dom_find(4)->reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	assert_int_equal(hv_xl_ops.migrate_send(hv, "away", fd), -EBUSY);
	CALLS("name_to_domid away", "domain_info 4");
	dom_add(5, "dead", 1024)->shutdown = true;
	dom_find(5)->reason = LIBXL_SHUTDOWN_REASON_CRASH;
	assert_int_equal(hv_xl_ops.migrate_send(hv, "dead", fd), -ESRCH);
	CALLS("name_to_domid dead", "domain_info 5");
	/* list() says paused for the first two only. */
	assert_true(listed_paused(hv, "held"));
	assert_true(listed_paused(hv, "away"));
	assert_false(listed_paused(hv, "dead"));

	/* receive */
	pv_config(&c, "web1");
	assert_int_equal(hv_xl_ops.migrate_receive(NULL, &c, 1, fd), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_receive(hv, NULL, 1, fd), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 0, fd), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 1, -1), -EINVAL);
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 1, closed[0]),
			 -EBADF);
	NO_CALLS();
	pv_config(&c, "held");
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 1, fd), -EEXIST);
	CALLS("name_to_domid held");
	pv_config(&c, "Domain-0");
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 1, fd), -EEXIST);
	CALLS("name_to_domid Domain-0");
	/* Mapped as create() maps it, with the same refusal. */
	pv_config(&c, "web2");
	c.type = VM_TYPE_HVM;
	strcpy(c.bootloader, "pygrub");
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 1, fd), -EINVAL);
	CALLS("name_to_domid web2");
	assert_string_equal(F.logs[F.n_logs - 1], "[xl] VM web2: cannot map its "
			    "definition for libxl: bootloader: only pv and pvh "
			    "guests use one (an hvm guest boots its firmware)");

	/* resume */
	assert_int_equal(hv_xl_ops.resume(NULL, "web1"), -EINVAL);
	assert_int_equal(hv_xl_ops.resume(hv, ""), -EINVAL);
	NO_CALLS();
	assert_int_equal(hv_xl_ops.resume(hv, "ghost"), -ENOENT);
	CALLS("name_to_domid ghost");
	assert_int_equal(hv_xl_ops.resume(hv, "Domain-0"), -EPERM);
	CALLS("name_to_domid Domain-0");
	assert_int_equal(hv_xl_ops.resume(hv, "dead"), -ESRCH);
	CALLS("name_to_domid dead", "domain_info 5");
	no_event(hv);
	NO_CALLS();
}

static void
test_migrate_send(void **state)
{
	struct hv *hv = open_ok(state);

	create_ok(hv, "web1", 7, 42);
	assert_false(listed_paused(hv, "web1"));
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	CALLS("name_to_domid web1", "domain_info 7",
	      "suspend 7 fd=ours flags=live async");
	no_event(hv);
	NO_CALLS();

	/* One at a time, and nothing resumes it meanwhile. */
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), -EBUSY);
	CALLS("name_to_domid web1");
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), -EBUSY);
	CALLS("name_to_domid web1");

	/* The suspend is no end: no event, nothing destroyed. */
	guest_suspends(7);
	assert_true(readable(hv));
	no_event(hv);
	CALLS("occurred_fd events=1 revents=1");

	ao_complete(0, 0, 0);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "web1", 42, 0, "");
	CALLS("occurred_fd events=1 revents=1");
	no_event(hv);
	NO_CALLS();

	/* Suspended until the commit: listed paused, then destroyed. */
	assert_true(listed_paused(hv, "web1"));
	assert_int_equal(hv_xl_ops.destroy(hv, "web1"), 0);
	CALLS("name_to_domid web1", "evdisable_domain_death 7",
	      "destroy 7 sync");
	event_is(hv, HV_EVENT_DESTROYED, "web1", 42);
	no_event(hv);
}

/* vm save: suspended first (no live pre-copy, which needs log-dirty),
 * ended by the same event; restored as a later instance, whose
 * generation the receive writes. */
static void
test_save_restore(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	create_ok(hv, "web1", 7, 42);
	assert_int_equal(hv_xl_ops.save(hv, "web1", F.sock[0]), 0);
	CALLS("name_to_domid web1", "domain_info 7",
	      "suspend 7 fd=ours flags=none async");
	guest_suspends(7);
	assert_true(readable(hv));
	no_event(hv);
	CALLS("occurred_fd events=1 revents=1");
	ao_complete(0, 0, 0);
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "web1", 42, 0, "");
	CALLS("occurred_fd events=1 revents=1");
	assert_int_equal(hv_xl_ops.destroy(hv, "web1"), 0);
	CALLS("name_to_domid web1", "evdisable_domain_death 7", "destroy 7 sync");
	event_is(hv, HV_EVENT_DESTROYED, "web1", 42);

	pv_config(&c, "web1");
	assert_int_equal(hv_xl_ops.restore(hv, &c, 43, 44, F.sock[0]), -EINVAL);
	assert_int_equal(hv_xl_ops.restore(hv, &c, 43, 0, F.sock[0]), -EINVAL);
	NO_CALLS();
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.restore(hv, &c, 43, 42, F.sock[0]), 0);
	CALLS("name_to_domid web1", RESTORE_WEB1);
	ao_complete(1, 0, 9);           /* the second ao: after the suspend */
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 43, 0, "");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(9) "=43",
	      "xs_set_permissions " GEN_PATH(9) " n=1 owner=0 perms=0",
	      "evenable_domain_death 9");
	no_event(hv);
}

/* [hypervisor] migration = stop-copy: the domain is suspended before its
 * memory is sent (Xen without log-dirty mode). */
static void
test_migrate_stop_copy(void **state)
{
	struct hv_params p = { .host_name = "h1", .run_dir = "/nonexistent",
			       .stop_copy = true };
	struct hv *hv = NULL;

	assert_int_equal(hv_xl_ops.open(&hv, &p), 0);
	*state = hv;
	F.n_calls = 0;
	create_ok(hv, "web1", 7, 42);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	CALLS("name_to_domid web1", "domain_info 7",
	      "suspend 7 fd=ours flags=none async");
}

static void
test_migrate_send_fails(void **state)
{
	struct hv *hv = open_ok(state);
	uint64_t old;

	/* Not even started: no event will come, and it may be tried again. */
	create_ok(hv, "web1", 7, 42);
	F.suspend_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), -EIO);
	CALLS("name_to_domid web1", "domain_info 7",
	      "suspend 7 fd=ours flags=live async");
	F.suspend_rc = 0;
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	CALLS("name_to_domid web1", "domain_info 7",
	      "suspend 7 fd=ours flags=live async");

	/* Suspended, then the stream broke (the agent shut the fd down). */
	guest_suspends(7);
	ao_complete(0, ERROR_FAIL, 0);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "web1", 42, -EIO,
		     "libxl_domain_suspend: ERROR_FAIL; the [libxl] log says why");
	CALLS("occurred_fd events=1 revents=1");
	no_event(hv);
	assert_true(listed_paused(hv, "web1"));

	/* resume(): as xl after a failed migration, then watched afresh
	 * (the old watch has had its one shutdown) and looked at once. */
	old = user_of(7);
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), 0);
	CALLS("name_to_domid web1", "domain_info 7", "resume 7 cancel=1 sync",
	      "evenable_domain_death 7", "evdisable_domain_death 7",
	      "domain_info 7");
	assert_false(listed_paused(hv, "web1"));
	no_event(hv);
	assert_true(user_of(7) != old);
	/* Running: nothing to do. */
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), 0);
	CALLS("name_to_domid web1", "domain_info 7");

	/* Its later crash comes through the new watch. */
	dom_find(7)->shutdown = true;
	dom_find(7)->reason = LIBXL_SHUTDOWN_REASON_CRASH;
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 7, user_of(7),
			LIBXL_SHUTDOWN_REASON_CRASH));
	event_is(hv, HV_EVENT_CRASH, "web1", 42);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 7",
	      "destroy 7 sync");
	no_event(hv);

	/* The guest never suspended: it still runs, resume() has nothing
	 * to do. */
	create_ok(hv, "db1", 8, 43);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "db1", F.sock[0]), 0);
	F.n_calls = 0;
	ao_complete(F.n_aos - 1, ERROR_GUEST_TIMEDOUT, 0);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "db1", 43, -ETIMEDOUT,
		     "libxl_domain_suspend: ERROR_GUEST_TIMEDOUT (the guest did "
		     "not suspend)");
	CALLS("occurred_fd events=1 revents=1");
	assert_int_equal(hv_xl_ops.resume(hv, "db1"), 0);
	CALLS("name_to_domid db1", "domain_info 8");
	no_event(hv);
}

/* A failed migration's reason carries the first error libxl logged for
 * it (without libxl's source location), when it was alone in flight. */
static void
test_migrate_first_error(void **state)
{
	struct hv *hv = open_ok(state);

	/* what Xen without log-dirty mode gives (seen under QEMU) */
	create_ok(hv, "web1", 7, 42);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	xtl_log(F.lg, XTL_INFO, -1, "libxl", "not an error");
	/* xc formats errno itself (its PERROR) */
	xtl_log(F.lg, XTL_ERROR, -1, "xc", "Failed to enable logdirty: %d,%d,%d "
		"(22 = Invalid argument)", 95, 22, 0);
	xtl_log(F.lg, XTL_ERROR, -1, "libxl", "libxl_dom_suspend.c:412:"
		"domain_suspend_done: Domain 7:Domain suspend failed");
	ao_complete(F.n_aos - 1, ERROR_GUEST_TIMEDOUT, 0);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "web1", 42, -ETIMEDOUT,
		     "libxl_domain_suspend: ERROR_GUEST_TIMEDOUT; libxl's first "
		     "error: xc: Failed to enable logdirty: 95,22,0 (22 = Invalid "
		     "argument)");

	/* libxl's own message, its source location dropped; an error
	 * logged before it began is not its */
	xtl_log(F.lg, XTL_ERROR, -1, "libxl", "earlier, unrelated");
	create_ok(hv, "db1", 8, 43);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "db1", F.sock[0]), 0);
	xtl_log(F.lg, XTL_ERROR, -1, "libxl", "libxl_stream_write.c:300:"
		"stream_done: Domain 8:stream broke");
	ao_complete(F.n_aos - 1, ERROR_FAIL, 0);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "db1", 43, -EIO,
		     "libxl_domain_suspend: ERROR_FAIL; libxl's first error: "
		     "libxl: Domain 8:stream broke");
}

/* Two in flight: an error logged meanwhile is neither's for sure. */
static void
test_migrate_error_shared(void **state)
{
	struct hv *hv = open_ok(state);

	create_ok(hv, "web1", 7, 42);
	create_ok(hv, "db1", 8, 43);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "db1", F.sock[0]), 0);
	xtl_log(F.lg, XTL_ERROR, -1, "xc", "Failed to enable logdirty");
	ao_complete(F.n_aos - 2, ERROR_FAIL, 0);
	ao_complete(F.n_aos - 1, ERROR_FAIL, 0);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "db1", 43, -EIO,
		     "libxl_domain_suspend: ERROR_FAIL; the [libxl] log says why");
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "web1", 42, -EIO,
		     "libxl_domain_suspend: ERROR_FAIL; the [libxl] log says why");
}

static void
test_migrate_resume_edges(void **state)
{
	struct hv *hv = open_ok(state);

	/* libxl cannot resume it: said so, watch left alone. */
	create_ok(hv, "web1", 7, 42);
	dom_find(7)->shutdown = true;
	dom_find(7)->reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	F.resume_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), -EIO);
	CALLS("name_to_domid web1", "domain_info 7", "resume 7 cancel=1 sync");

	/* It crashes between the resume and the new watch: the one look
	 * catches it, and the new watch's report of it is dropped. */
	F.resume_rc = 0;
	F.resume_leaves = LIBXL_SHUTDOWN_REASON_CRASH + 1;
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), 0);
	CALLS("name_to_domid web1", "domain_info 7", "resume 7 cancel=1 sync",
	      "evenable_domain_death 7", "evdisable_domain_death 7",
	      "domain_info 7");
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 7, user_of(7),
			LIBXL_SHUTDOWN_REASON_CRASH));
	event_is(hv, HV_EVENT_CRASH, "web1", 42);
	CALLS("evdisable_domain_death 7", "destroy 7 sync");
	no_event(hv);
	CALLS("occurred_fd events=1 revents=1");

	/* Suspended and paused: resumed, then unpaused.  Not ours (no
	 * generation): nothing to watch. */
	F.resume_leaves = 0;
	F.n_calls = 0;
	dom_add(12, "other", 1024)->shutdown = true;
	dom_find(12)->reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	dom_find(12)->paused = true;
	assert_int_equal(hv_xl_ops.resume(hv, "other"), 0);
	CALLS("name_to_domid other", "domain_info 12",
	      "resume 12 cancel=1 sync", "unpause 12 sync");
	no_event(hv);
}

static void
test_migrate_receive(void **state)
{
	struct hv *hv = open_ok(state);
	struct hv_domain *doms = NULL;
	struct vm_config c;
	size_t n = 0;

	pv_config(&c, "web1");
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	CALLS("name_to_domid web1", RESTORE_WEB1);
	no_event(hv);
	NO_CALLS();
	/* Listed while libxl builds it: no generation in xenstore yet, but it
	 * is the incoming instance's, paused (not a stale domain to destroy);
	 * not watched before it is complete. */
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "web1");
	assert_int_equal(doms[0].generation, 42);
	assert_true(doms[0].paused);
	free(doms);
	doms = NULL;
	CALLS("list_domain", "domid_to_name 9", "xs_read " GEN_PATH(9));
	/* cfg is the caller's: the driver kept its own copy for libxl. */
	memset(&c, 0, sizeof(c));

	pv_config(&c, "web1");
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]),
			 -EBUSY);
	NO_CALLS();
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), -EBUSY);
	CALLS("name_to_domid web1");

	/* Complete: its generation and its watch, then the event; paused. */
	ao_complete(0, 0, 9);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, 0, "");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(9) "=42",
	      "xs_set_permissions " GEN_PATH(9) " n=1 owner=0 perms=0",
	      "evenable_domain_death 9");
	no_event(hv);
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "web1");
	assert_int_equal(doms[0].domid, 9);
	assert_int_equal(doms[0].generation, 42);
	assert_true(doms[0].paused);
	free(doms);
	CALLS("list_domain", "domid_to_name 9", "xs_read " GEN_PATH(9));

	/* The commit: it runs. */
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), 0);
	CALLS("name_to_domid web1", "domain_info 9", "unpause 9 sync");
	assert_false(listed_paused(hv, "web1"));
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), 0);
	CALLS("name_to_domid web1", "domain_info 9");
	F.unpause_rc = ERROR_FAIL;
	dom_find(9)->paused = true;
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), -EIO);
	CALLS("name_to_domid web1", "domain_info 9", "unpause 9 sync");

	/* Watched like a created one. */
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 9, user_of(9),
			LIBXL_SHUTDOWN_REASON_POWEROFF));
	event_is(hv, HV_EVENT_POWEROFF, "web1", 42);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 9",
	      "destroy 9 sync");
}

static void
test_migrate_receive_fails(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	pv_config(&c, "web1");
	F.create_domid = 9;

	/* Not started: no event will come. */
	F.restore_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), -EIO);
	CALLS("name_to_domid web1", RESTORE_WEB1);
	F.restore_rc = 0;

	/* The stream failed: libxl destroyed its domain; xl destroys the
	 * domid it got back anyway. */
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	F.n_calls = 0;
	dom_remove(9);
	ao_complete(F.n_aos - 1, ERROR_FAIL, 9);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, -EIO,
		     "libxl_domain_create_restore: ERROR_FAIL; the [libxl] log "
		     "says why");
	CALLS("occurred_fd events=1 revents=1", "destroy 9 sync");

	/* Failed before it had a domain. */
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	F.n_calls = 0;
	dom_remove(9);
	ao_complete(F.n_aos - 1, ERROR_FAIL, INVALID_DOMID);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, -EIO,
		     "libxl_domain_create_restore: ERROR_FAIL; the [libxl] log "
		     "says why");
	CALLS("occurred_fd events=1 revents=1");

	/* Complete, but it cannot carry its generation, or be watched:
	 * destroyed, reported failed. */
	F.xs_write_fails = true;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	F.n_calls = 0;
	ao_complete(F.n_aos - 1, 0, 9);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, -EIO,
		     "cannot write its generation to xenstore");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(9) "=42", "destroy 9 sync");
	F.xs_write_fails = false;

	F.evenable_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	F.n_calls = 0;
	ao_complete(F.n_aos - 1, 0, 9);
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, -EIO,
		     "cannot watch its death");
	CALLS("occurred_fd events=1 revents=1",
	      "xs_write t=0 " GEN_PATH(9) "=42",
	      "xs_set_permissions " GEN_PATH(9) " n=1 owner=0 perms=0",
	      "evenable_domain_death 9", "destroy 9 sync");
	no_event(hv);
}

static void
test_migrate_completes_inside_call(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	/* libxl may call back inside another call (or the initiating one):
	 * the driver only notes it there; the loop sees the set readable
	 * and event_next() does the rest. */
	create_ok(hv, "web1", 7, 42);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	F.n_calls = 0;
	F.aos[0].live = false;
	F.aos[0].how.callback(FAKE_CTX, 0, F.aos[0].how.u.for_callback);
	NO_CALLS();
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_SENT, "web1", 42, 0, "");
	no_event(hv);

	pv_config(&c, "db1");
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 43, F.sock[0]), 0);
	F.n_calls = 0;
	*F.aos[1].domid_out = 9;
	F.aos[1].live = false;
	F.aos[1].how.callback(FAKE_CTX, 0, F.aos[1].how.u.for_callback);
	NO_CALLS();
	assert_true(readable(hv));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "db1", 43, 0, "");
	CALLS("xs_write t=0 " GEN_PATH(9) "=43",
	      "xs_set_permissions " GEN_PATH(9) " n=1 owner=0 perms=0",
	      "evenable_domain_death 9");
	no_event(hv);
}

static void
test_migrate_completes_inside_reap(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	/* A receive completes inside the destroy of another domain's
	 * remains, in the same event_next(): it is finished there too, not
	 * left until something else wakes the loop. */
	create_ok(hv, "old", 3, 7);
	pv_config(&c, "web1");
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	F.n_calls = 0;
	F.complete_during_destroy = 1;
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 3, user_of(3),
			LIBXL_SHUTDOWN_REASON_CRASH));
	assert_true(readable(hv));
	event_is(hv, HV_EVENT_CRASH, "old", 7);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 3",
	      "destroy 3 sync",
	      "xs_write t=0 " GEN_PATH(9) "=42",
	      "xs_set_permissions " GEN_PATH(9) " n=1 owner=0 perms=0",
	      "evenable_domain_death 9");
	assert_true(readable_within(hv, 0));
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, 0, "");
	no_event(hv);
	NO_CALLS();
	assert_false(readable_within(hv, 0));
}

static void
test_migrate_resume_before_event(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	/* Completed, but the loop has not called event_next() yet: resume()
	 * finishes it first, so the domain has its generation and watch
	 * before it runs. */
	pv_config(&c, "web1");
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 42, F.sock[0]), 0);
	F.n_calls = 0;
	*F.aos[0].domid_out = 9;
	F.aos[0].live = false;
	F.aos[0].how.callback(FAKE_CTX, 0, F.aos[0].how.u.for_callback);
	assert_int_equal(hv_xl_ops.resume(hv, "web1"), 0);
	CALLS("name_to_domid web1",
	      "xs_write t=0 " GEN_PATH(9) "=42",
	      "xs_set_permissions " GEN_PATH(9) " n=1 owner=0 perms=0",
	      "evenable_domain_death 9",
	      "domain_info 9", "unpause 9 sync");
	mig_event_is(hv, HV_EVENT_MIGRATE_RECEIVED, "web1", 42, 0, "");
	no_event(hv);
}

static void
test_migrate_close(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	/* In flight at close: aborted, and awaited (libxl_ctx_free asserts
	 * nothing is pending); the half-received domain is destroyed. */
	create_ok(hv, "web1", 7, 42);
	assert_int_equal(hv_xl_ops.migrate_send(hv, "web1", F.sock[0]), 0);
	pv_config(&c, "db1");
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.migrate_receive(hv, &c, 43, F.sock[0]), 0);
	F.n_calls = 0;
	hv_xl_ops.close(hv);
	*state = NULL;
	CALLS("ao_abort create_restore", "ao_abort suspend",
	      "occurred_fd events=1 revents=1", "destroy 9 sync",
	      "evdisable_domain_death 7", "ctx_free", "xs_close");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_no_xen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_no_xenstore, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_invalid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_sequence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_late_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_destroyed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_death_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_death_inside_create, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_invalid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_send, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_stop_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_first_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_error_shared, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_send_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_resume_edges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_receive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_receive_fails,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_migrate_completes_inside_call, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_migrate_completes_inside_reap, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_migrate_resume_before_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_close, setup,
						teardown),
	};
	int32_t t;

	qb_log_init("test_hv_xl", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	t = qb_log_custom_open(log_capture, NULL, NULL, NULL);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
