/* Tests of agent/vmdisk.c: a VM's SAN disks on a dom0.  The proc driver
 * gets iscsi:// URLs; a block driver (xl) logs in with iscsiadm first (the
 * exact lines against the recorder) and gets /dev/disk/by-path devices; a
 * refused login is the storage fence; a by-path device udev has not made
 * yet is waited for, for a while; a VM gone away is logged out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "runner.h"
#include "state.h"
#include "vmdisk.h"
#include "xm_error.h"

#define PFX  "iqn.2026-11.org.xenmesh"
#define IQN  PFX ":web"
#define NODE "iscsiadm -m node -T " IQN " -p 10.77.3.100:3260 -I xenmesh"
#define BYPATH "/dev/disk/by-path/ip-10.77.3.100:3260-iscsi-" IQN "-lun-"

static int kicks;

/* vmdisk tells vmhost when a login ended; vmhost is not linked here. */
void vmhost_kick(struct agent *a);
void
vmhost_kick(struct agent *a)
{
	(void)a;
	kicks++;
}

/*
 * A settable monotonic clock: this definition interposes on libc's for the
 * whole test binary (vmdisk.c's mono_ms() included), as in test_eventlog.
 * Negative: the real clock.
 */
static long long fake_mono_ms = -1;

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (fake_mono_ms >= 0 && clk == CLOCK_MONOTONIC) {
		ts->tv_sec = (time_t)(fake_mono_ms / 1000);
		ts->tv_nsec = (long)(fake_mono_ms % 1000) * 1000000;
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, clk, ts);
}

struct fix {
	struct agent a;
	struct vm_rec *v;
	struct vm_config cfg;
	const char *missing;            /* the device udev has not made yet */
};

/* The device probe: every path is there but f->missing. */
static bool
fake_dev_exists(const char *path, void *arg)
{
	struct fix *f = arg;

	return f->missing == NULL || strcmp(path, f->missing) != 0;
}

static void
add_vol(struct state *s, const char *vm, const char *disk, uint32_t lun,
	enum vol_state st)
{
	struct vol_rec *v;

	s->vols = realloc(s->vols, (s->n_vols + 1) * sizeof(*s->vols));
	v = &s->vols[s->n_vols++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s-%s", vm, disk);
	snprintf(v->vm, sizeof(v->vm), "%s", vm);
	snprintf(v->disk, sizeof(v->disk), "%s", disk);
	v->lun = lun;
	v->state = st;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct state *s = &f->a.rep.st;

	config_defaults(&f->a.cfg);
	snprintf(f->a.cfg.portal, sizeof(f->a.cfg.portal), "10.77.3.100");
	snprintf(f->a.node_name, sizeof(f->a.node_name), "h1");
	state_init(s);
	s->vms = calloc(1, sizeof(*s->vms));
	s->n_vms = 1;
	f->v = &s->vms[0];
	snprintf(f->v->name, sizeof(f->v->name), "web");
	f->v->state = VM_STATE_STARTING;
	f->v->host = 1;
	f->v->generation = 3;
	f->v->storage_gen = 3;
	f->v->config = strdup("");
	add_vol(s, "web", "root", 1, VOL_STATE_READY);
	add_vol(s, "web", "swap", 2, VOL_STATE_READY);
	snprintf(f->cfg.name, sizeof(f->cfg.name), "web");
	f->cfg.n_disks = 3;
	snprintf(f->cfg.disks[0].target, sizeof(f->cfg.disks[0].target), "xenmesh:root");
	snprintf(f->cfg.disks[0].vdev, sizeof(f->cfg.disks[0].vdev), "xvda");
	snprintf(f->cfg.disks[1].target, sizeof(f->cfg.disks[1].target), "xenmesh:swap");
	snprintf(f->cfg.disks[1].vdev, sizeof(f->cfg.disks[1].vdev), "xvdb");
	snprintf(f->cfg.disks[2].target, sizeof(f->cfg.disks[2].target), "/srv/iso/x.iso");
	snprintf(f->cfg.disks[2].vdev, sizeof(f->cfg.disks[2].vdev), "xvdc");
	kicks = 0;
	fake_mono_ms = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	state_free(&f->a.rep.st);
	free(f);
	fake_mono_ms = -1;
	return 0;
}

static void
test_no_san_disk(void **state)
{
	struct fix *f = *state;
	struct vmdisk *d;
	char why[256] = "";

	snprintf(f->cfg.disks[0].target, sizeof(f->cfg.disks[0].target), "/dev/vg/web");
	snprintf(f->cfg.disks[1].target, sizeof(f->cfg.disks[1].target), "file:/x.img");
	assert_false(vmdisk_uses_san(&f->cfg));
	assert_int_equal(vmdisk_open_runner(&d, &f->a, false, NULL), 0);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), 0);
	assert_string_equal(f->cfg.disks[0].target, "/dev/vg/web");
	vmdisk_close(d);
}

static void
test_bad_input(void **state)
{
	struct fix *f = *state;
	struct vmdisk *d;
	char why[256] = "";

	/* no portal configured */
	f->a.cfg.portal[0] = '\0';
	assert_int_equal(vmdisk_open_runner(&d, &f->a, false, NULL), 0);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "portal in [storage]"));
	vmdisk_close(d);

	/* a volume that is not ready, one that does not exist */
	snprintf(f->a.cfg.portal, sizeof(f->a.cfg.portal), "10.77.3.100");
	f->a.rep.st.vols[1].state = VOL_STATE_CREATING;
	assert_int_equal(vmdisk_open_runner(&d, &f->a, false, NULL), 0);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "disk xvdb: volume web-swap is creating");
	snprintf(f->cfg.disks[1].target, sizeof(f->cfg.disks[1].target), "xenmesh:data");
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "disk xvdb: volume web-data is not defined "
			    "(agentctl volume create)");
	vmdisk_close(d);
}

/* The rig's test guest is its own initiator: URLs, nothing run. */
static void
test_urls(void **state)
{
	struct fix *f = *state;
	struct vmdisk *d;
	char why[256] = "";

	assert_int_equal(vmdisk_open_runner(&d, &f->a, false, NULL), 0);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), 0);
	assert_string_equal(f->cfg.disks[0].target, "iscsi://10.77.3.100:3260/" IQN "/1");
	assert_string_equal(f->cfg.disks[1].target, "iscsi://10.77.3.100:3260/" IQN "/2");
	assert_string_equal(f->cfg.disks[2].target, "/srv/iso/x.iso");
	vmdisk_close(d);
}

static const char *const attach_lines[] = {
	"iscsiadm -m iface -I xenmesh -o new",
	"iscsiadm -m iface -I xenmesh -o update -n iface.initiatorname -v " PFX ":h1",
	"iscsiadm -m iface -I xenmesh",
	"iscsiadm -m node -o new -T " IQN " -p 10.77.3.100:3260 -I xenmesh",
	NODE " -o update -n node.startup -v manual",
	NODE " -o update -n node.session.timeo.replacement_timeout -v 120",
	NODE " -o update -n 'node.conn[0].timeo.login_timeout' -v 10",
	NODE " -o update -n node.session.initial_login_retry_max -v 2",
	NODE " --login",
	"iscsiadm -m session",
	NULL,
};

/* The iface read first by a vmdisk just opened: none here (a fresh host),
 * so its first login sets it up; later logins do not (a session uses it:
 * iscsiadm would refuse its `-o new`, exit 15, as found under QEMU). */
#define IFACE_SHOW "iscsiadm -m iface -I xenmesh"

static void
expect_attach_lines(struct runner *r, const struct runner_canned *login,
		    const char *sessions, size_t first)
{
	for (size_t i = first; attach_lines[i] != NULL; i++) {
		struct runner_canned c = { 0 };

		if (strstr(attach_lines[i], "--login"))
			c = *login;
		if (strcmp(attach_lines[i], "iscsiadm -m session") == 0)
			c.out = sessions;
		runner_recorder_expect(r, attach_lines[i], &c);
		if (login->exit_code != 0 && strstr(attach_lines[i], "--login"))
			break;
	}
}

/* The first login of a vmdisk: the iface read (missing), set up, login. */
static void
expect_attach(struct runner *r, const struct runner_canned *login,
	      const char *sessions)
{
	runner_recorder_expect(r, IFACE_SHOW, &(struct runner_canned){
		.exit_code = 6, .err = "iscsiadm: Could not read iface xenmesh (6)\n" });
	expect_attach_lines(r, login, sessions, 0);
}

/* A vmdisk's first prepare: the iface is read (one delivery), then the
 * login starts; kicks counts from there. */
static void
first_prepare(struct fix *f, struct vmdisk *d, struct runner *r)
{
	char why[256] = "";

	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	/* asked again while the iface is read: nothing more is started */
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	assert_true(runner_recorder_deliver(r));
	assert_int_equal(kicks, 1);
	kicks = 0;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
}

static void
test_block_login(void **state)
{
	struct fix *f = *state;
	struct runner_canned ok = { 0 };
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "", msg[256];
	const char *running[] = { "other" };

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_set_ordered(r, true);
	expect_attach(r, &ok, "tcp: [1] 10.77.3.100:3260,1 " IQN " (non-flash)\n");
	assert_int_equal(vmdisk_open_runner(&d, &f->a, true, r), 0);
	vmdisk_set_dev_probe(d, fake_dev_exists, f);
	first_prepare(f, d, r);
	/* asked again while the login runs: nothing new is started */
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(kicks, 1);
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), 0);
	assert_string_equal(f->cfg.disks[0].target,
			    "/dev/disk/by-path/ip-10.77.3.100:3260-iscsi-" IQN "-lun-1");
	assert_string_equal(f->cfg.disks[1].target,
			    "/dev/disk/by-path/ip-10.77.3.100:3260-iscsi-" IQN "-lun-2");

	/* the VM went away: logout, record deleted, read back */
	runner_recorder_expect(r, NODE " --logout", &(struct runner_canned){ 0 });
	runner_recorder_expect(r, "iscsiadm -m node -o delete -T " IQN,
			       &(struct runner_canned){ 0 });
	runner_recorder_expect(r, "iscsiadm -m session",
			       &(struct runner_canned){ .exit_code = 21,
							.err = "iscsiadm: No active sessions.\n" });
	vmdisk_release_unused(d, running, 1);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	vmdisk_close(d);
}

#define SESSIONS "tcp: [1] 10.77.3.100:3260,1 " IQN " (non-flash)\n"

/* A block vmdisk on a recorder, logged in to the VM's target at fake_mono_ms. */
static struct vmdisk *
logged_in(struct fix *f, struct runner **r)
{
	struct runner_canned ok = { 0 };
	struct vmdisk *d;
	char msg[256];

	assert_int_equal(runner_recorder_open(r, NULL), 0);
	runner_recorder_set_ordered(*r, true);
	expect_attach(*r, &ok, SESSIONS);
	assert_int_equal(vmdisk_open_runner(&d, &f->a, true, *r), 0);
	vmdisk_set_dev_probe(d, fake_dev_exists, f);
	first_prepare(f, d, *r);
	while (runner_recorder_deliver(*r))
		;
	assert_int_equal(runner_recorder_verify(*r, msg, sizeof(msg)), 0);
	return d;
}

/* An agent restarted while its sessions run: the iface it set up before
 * is read and kept; no `-o new` (refused, exit 15, while a session uses
 * it: found under QEMU, where every later start on that host failed). */
static void
test_iface_kept(void **state)
{
	struct fix *f = *state;
	struct runner_canned ok = { 0 }, shown = {
		.out = "# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = xenmesh\n"
		       "iface.transport_name = tcp\n"
		       "iface.initiatorname = " PFX ":h1\n# END RECORD\n" };
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "", msg[256];

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_set_ordered(r, true);
	runner_recorder_expect(r, IFACE_SHOW, &shown);
	expect_attach_lines(r, &ok, SESSIONS, 3);
	assert_int_equal(vmdisk_open_runner(&d, &f->a, true, r), 0);
	vmdisk_set_dev_probe(d, fake_dev_exists, f);
	first_prepare(f, d, r);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), 0);
	vmdisk_close(d);

	/* an iface of another name (the host was renamed) is set up again */
	snprintf(f->cfg.disks[0].target, sizeof(f->cfg.disks[0].target), "xenmesh:root");
	snprintf(f->cfg.disks[1].target, sizeof(f->cfg.disks[1].target), "xenmesh:swap");
	kicks = 0;
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_set_ordered(r, true);
	shown.out = "iface.iscsi_ifacename = xenmesh\niface.initiatorname = " PFX ":old\n";
	runner_recorder_expect(r, IFACE_SHOW, &shown);
	expect_attach_lines(r, &ok, SESSIONS, 0);
	assert_int_equal(vmdisk_open_runner(&d, &f->a, true, r), 0);
	vmdisk_set_dev_probe(d, fake_dev_exists, f);
	first_prepare(f, d, r);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	vmdisk_close(d);
}

/* A second VM logs in while the first one's session runs: no iface setup
 * (its `-o new` would be refused, exit 15, and fail the start). */
static void
test_second_login(void **state)
{
	struct fix *f = *state;
	struct runner_canned ok = { 0 };
	struct vm_rec *v2;
	struct vm_config cfg2;
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "", msg[256];

	d = logged_in(f, &r);
	f->a.rep.st.vms = realloc(f->a.rep.st.vms, 2 * sizeof(*f->a.rep.st.vms));
	f->v = &f->a.rep.st.vms[0];
	v2 = &f->a.rep.st.vms[1];
	f->a.rep.st.n_vms = 2;
	*v2 = *f->v;
	v2->config = strdup("");
	snprintf(v2->name, sizeof(v2->name), "zz");
	add_vol(&f->a.rep.st, "zz", "root", 1, VOL_STATE_READY);
	memset(&cfg2, 0, sizeof(cfg2));
	snprintf(cfg2.name, sizeof(cfg2.name), "zz");
	cfg2.n_disks = 1;
	snprintf(cfg2.disks[0].target, sizeof(cfg2.disks[0].target), "xenmesh:root");
	snprintf(cfg2.disks[0].vdev, sizeof(cfg2.disks[0].vdev), "xvda");
	runner_recorder_expect(r, "iscsiadm -m node -o new -T " PFX ":zz", &ok);
	for (int i = 0; i < 4; i++)
		runner_recorder_expect(r, "iscsiadm -m node -T " PFX ":zz", &ok);
	runner_recorder_expect(r, "iscsiadm -m node -T " PFX ":zz", &ok);   /* --login */
	runner_recorder_expect(r, "iscsiadm -m session", &(struct runner_canned){
		.out = SESSIONS "tcp: [2] 10.77.3.100:3260,1 " PFX ":zz (non-flash)\n" });
	assert_int_equal(vmdisk_prepare(d, v2, &cfg2, why, sizeof(why)), -EINPROGRESS);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	assert_int_equal(vmdisk_prepare(d, v2, &cfg2, why, sizeof(why)), 0);
	assert_string_equal(cfg2.disks[0].target,
			    "/dev/disk/by-path/ip-10.77.3.100:3260-iscsi-" PFX ":zz-lun-1");
	vmdisk_close(d);
}

/* Logged in but udev has not made a by-path link yet: the domain must not
 * be created on it (Xen's hotplug script would fail it); no target is
 * given out until every device is there. */
static void
test_block_dev_wait(void **state)
{
	struct fix *f = *state;
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "";

	fake_mono_ms = 1000000;
	f->missing = BYPATH "2";
	d = logged_in(f, &r);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	assert_string_equal(f->cfg.disks[0].target, "xenmesh:root");
	assert_string_equal(f->cfg.disks[1].target, "xenmesh:swap");
	fake_mono_ms += VMDISK_DEV_WAIT_MS - 1;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	assert_string_equal(f->cfg.disks[0].target, "xenmesh:root");

	/* udev made it: the same cfg is resolved now, nothing run again */
	f->missing = NULL;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), 0);
	assert_string_equal(f->cfg.disks[0].target, BYPATH "1");
	assert_string_equal(f->cfg.disks[1].target, BYPATH "2");
	assert_string_equal(f->cfg.disks[2].target, "/srv/iso/x.iso");
	assert_int_equal(kicks, 1);
	assert_int_equal(runner_recorder_count(r), 11);
	vmdisk_close(d);
}

/* Still missing VMDISK_DEV_WAIT_MS after the login: this instance fails. */
static void
test_block_dev_timeout(void **state)
{
	struct fix *f = *state;
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "";

	fake_mono_ms = 1000000;
	f->missing = BYPATH "1";
	d = logged_in(f, &r);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	fake_mono_ms += VMDISK_DEV_WAIT_MS;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -ENODEV);
	assert_string_equal(why, "logged in to " IQN " but " BYPATH "1 did not appear "
			    "within 30 s (is udev running?)");
	assert_string_equal(f->cfg.disks[0].target, "xenmesh:root");
	/* the same instance is not tried again, even once the device is there */
	f->missing = NULL;
	why[0] = '\0';
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "did not appear"));
	assert_int_equal(runner_recorder_count(r), 11);
	vmdisk_close(d);
}

/* A new instance logs in again and waits VMDISK_DEV_WAIT_MS from then. */
static void
test_block_dev_wait_new_gen(void **state)
{
	struct fix *f = *state;
	struct runner_canned ok = { 0 };
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "", msg[256];

	fake_mono_ms = 1000000;
	f->missing = BYPATH "1";
	d = logged_in(f, &r);
	fake_mono_ms += VMDISK_DEV_WAIT_MS - 5000;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);

	f->v->generation = 4;
	f->v->storage_gen = 4;
	expect_attach_lines(r, &ok, SESSIONS, 3);
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	fake_mono_ms += 10000;          /* the login took 10 s */
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	/* 35 s after the first login, 20 s after this one: still waiting */
	fake_mono_ms += VMDISK_DEV_WAIT_MS - 10000;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	fake_mono_ms += 9999;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EINPROGRESS);
	fake_mono_ms += 1;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -ENODEV);
	vmdisk_close(d);
}

/* "Target not found" once the cluster admitted us: this host is fenced. */
static void
test_block_refused(void **state)
{
	struct fix *f = *state;
	struct runner_canned refused = {
		.exit_code = 24,
		.err = "iscsiadm: Could not login to [iface: xenmesh, target: " IQN
		       ", portal: 10.77.3.100,3260].\niscsiadm: initiator reported "
		       "error (24 - iSCSI login failed due to authorization failure)\n",
	};
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "";

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_set_ordered(r, true);
	expect_attach(r, &refused, "");
	assert_int_equal(vmdisk_open_runner(&d, &f->a, true, r), 0);
	first_prepare(f, d, r);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), XM_EFENCED);
	assert_non_null(strstr(why, "login to " IQN " refused"));
	/* the same instance is not tried again */
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), XM_EFENCED);
	assert_int_equal(runner_recorder_count(r), 10);
	vmdisk_close(d);
}

/* An unreachable portal is no fence: a plain start failure. */
static void
test_block_unreachable(void **state)
{
	struct fix *f = *state;
	struct runner_canned timeout = {
		.exit_code = 8,
		.err = "iscsiadm: connection login retries (reopen_max) 5 exceeded\n",
	};
	struct vmdisk *d;
	struct runner *r;
	char why[256] = "";

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	runner_recorder_set_ordered(r, true);
	expect_attach(r, &timeout, "");
	assert_int_equal(vmdisk_open_runner(&d, &f->a, true, r), 0);
	first_prepare(f, d, r);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(vmdisk_prepare(d, f->v, &f->cfg, why, sizeof(why)), -EHOSTUNREACH);
	assert_non_null(strstr(why, "transport"));
	vmdisk_close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_san_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_dev_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_dev_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_dev_wait_new_gen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_unreachable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
