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
};

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
	/* xenstore */
	bool xs_open_fails, xs_write_fails;
	char kv_path[MAX_KV][96], kv_val[MAX_KV][32];
	int n_kv;
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
	struct fake_dom *d = &F.doms[F.n_doms++];

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

/* ---- the fake libxl ------------------------------------------------------ */

int __wrap_libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags,
			   xentoollog_logger *lg);
int
__wrap_libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags,
		       xentoollog_logger *lg)
{
	rec("ctx_alloc version=%d flags=%u", version, flags);
	assert_non_null(lg);
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

static void
deliver_pending(void)
{
	for (int i = 0; i < F.n_pending; i++)
		F.ev->event_occurs(F.ev_user, F.pending[i]);
	F.n_pending = 0;
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
	*domid = F.create_domid;
	if (F.create_rc == 0)
		dom_add(F.create_domid, dc->c_info.name, dc->b_info.target_memkb);
	return F.create_rc;
}

int __wrap_libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid,
				const libxl_asyncop_how *ao_how);
int
__wrap_libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid,
			    const libxl_asyncop_how *ao_how)
{
	rec("unpause %u %s", domid, ao(ao_how));
	return F.unpause_rc;
}

int __wrap_libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid,
				const libxl_asyncop_how *ao_how);
int
__wrap_libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid,
			    const libxl_asyncop_how *ao_how)
{
	rec("destroy %u %s", domid, ao(ao_how));
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

static void
create_ok(struct hv *hv, const char *name, uint32_t domid, uint64_t gen)
{
	struct vm_config c;

	pv_config(&c, name);
	F.create_domid = domid;
	assert_int_equal(hv_xl_ops.create(hv, &c, gen), 0);
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

static void
test_create_sequence(void **state)
{
	struct hv *hv = open_ok(state);
	struct hv_domain *doms = NULL;
	struct vm_config c;
	size_t n = 0;

	pv_config(&c, "web1");
	F.create_domid = 7;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), 0);
	CALLS("name_to_domid web1",
	      "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 disks=1 "
	      "nics=1 sync console=no",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "xs_set_permissions " GEN_PATH(7) " n=1 owner=0 perms=0",
	      "evenable_domain_death 7",
	      "unpause 7 sync");
	no_event(hv);

	/* Listed with its generation, and not watched twice. */
	assert_int_equal(hv_xl_ops.list(hv, &doms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "web1");
	assert_int_equal(doms[0].domid, 7);
	assert_int_equal(doms[0].generation, 42);
	free(doms);
	CALLS("list_domain", "domid_to_name 7", "xs_read " GEN_PATH(7));
}

static void
test_create_failure(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	pv_config(&c, "web1");
	/* libxl made a half domain before failing: xl destroys it. */
	F.create_rc = ERROR_FAIL;
	F.create_domid = 9;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1",
	      "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 disks=1 "
	      "nics=1 sync console=no",
	      "destroy 9 sync");

	F.create_domid = INVALID_DOMID;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1",
	      "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 disks=1 "
	      "nics=1 sync console=no");
	no_event(hv);
}

static void
test_create_late_failures(void **state)
{
	struct hv *hv = open_ok(state);
	struct vm_config c;

	pv_config(&c, "web1");
	F.create_domid = 7;
	F.xs_write_fails = true;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1",
	      "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 disks=1 "
	      "nics=1 sync console=no",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "destroy 7 sync");

	F.xs_write_fails = false;
	F.evenable_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1",
	      "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 disks=1 "
	      "nics=1 sync console=no",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "xs_set_permissions " GEN_PATH(7) " n=1 owner=0 perms=0",
	      "evenable_domain_death 7",
	      "destroy 7 sync");

	F.evenable_rc = 0;
	F.unpause_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.create(hv, &c, 42), -EIO);
	CALLS("name_to_domid web1",
	      "create_new name=web1 type=pv memkb=1048576 maxvcpus=2 disks=1 "
	      "nics=1 sync console=no",
	      "xs_write t=0 " GEN_PATH(7) "=42",
	      "xs_set_permissions " GEN_PATH(7) " n=1 owner=0 perms=0",
	      "evenable_domain_death 7",
	      "unpause 7 sync",
	      "evdisable_domain_death 7",
	      "destroy 7 sync");
	no_event(hv);
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

	F.total_pages = 4194304;        /* 16 GiB of 4 KiB pages */
	F.free_pages = 262144;
	F.scrub_pages = 2560;
	F.free_kb = 1572864;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), 0);
	CALLS("get_physinfo", "get_free_memory");
	assert_int_equal(total, 16384);
	assert_int_equal(free_mb, 1536);

	/* Without libxl's figure: free and scrub pages, 1034 MB. */
	F.free_rc = ERROR_FAIL;
	assert_int_equal(hv_xl_ops.host_memory(hv, &total, &free_mb), 0);
	CALLS("get_physinfo", "get_free_memory");
	assert_int_equal(total, 16384);
	assert_int_equal(free_mb, 1034);
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

	/* The suspended one is still watched: its death comes later. */
	fire(make_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, 11, user_of(11),
			LIBXL_SHUTDOWN_REASON_WATCHDOG));
	event_is(hv, HV_EVENT_CRASH, "saved", 44);
	CALLS("occurred_fd events=1 revents=1", "evdisable_domain_death 11",
	      "destroy 11 sync");
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
	create_ok(hv, "new", 4, 8);
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
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_death_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_death_inside_create, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
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
