/* The backup and restore job (agent/backup.c) with the command recorder:
 * the exact lvm and file command sequences, the snapshot removed also
 * when its read fails, the checksum checked before anything is touched,
 * and the rollback of a restore that fails half-way. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup.h"
#include "runner.h"

#define NOW 1796241301ULL               /* 20261202T195501Z */
#define STAMP "20261202T195501Z"

struct fake {
	struct runner *r;
	char base[128], dir[256];
	/* env calls */
	int checks, makes, drops, defines;
	char dropped[4][64];
	int check_rc;
	int make_rc, define_rc;
	const char *make_path;          /* the env's device, NULL: the LV */
	backup_vol_fn *vol_cb;
	void *vol_cbdata;
	backup_done_fn *def_cb;
	void *def_cbdata;
	char defined_cfg[1024];
	const char *data;               /* make_backup: the volume line's DATA */
	/* the job's answer */
	bool done;
	int rc;
	char msg[BACKUP_MSG_MAX];
};

static int
f_check(void *data, const char *vm, char *why, size_t len)
{
	struct fake *f = data;

	f->checks++;
	if (f->check_rc < 0)
		snprintf(why, len, "VM %s is running", vm);
	return f->check_rc;
}

static void
f_make(void *data, const char *vm, const char *disk, uint64_t size, backup_vol_fn *cb,
       void *cbdata)
{
	struct fake *f = data;

	(void)vm;
	(void)disk;
	(void)size;
	f->makes++;
	f->vol_cb = cb;
	f->vol_cbdata = cbdata;
}

static void
f_drop(void *data, const char *vm, const char *disk)
{
	struct fake *f = data;

	if (f->drops < 4)
		snprintf(f->dropped[f->drops], sizeof(f->dropped[0]), "%s-%s", vm, disk);
	f->drops++;
}

static void
f_define(void *data, const char *cfg, backup_done_fn *cb, void *cbdata)
{
	struct fake *f = data;

	f->defines++;
	snprintf(f->defined_cfg, sizeof(f->defined_cfg), "%s", cfg);
	f->def_cb = cb;
	f->def_cbdata = cbdata;
}

static void
f_done(void *data, int rc, const char *msg)
{
	struct fake *f = data;

	assert_false(f->done);
	f->done = true;
	f->rc = rc;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

/* Deliver answers and env callbacks until nothing moves. */
static void
drive(struct fake *f)
{
	for (;;) {
		size_t n = runner_recorder_deliver(f->r);

		if (f->vol_cb != NULL) {
			backup_vol_fn *cb = f->vol_cb;
			char path[600];

			f->vol_cb = NULL;
			snprintf(path, sizeof(path), "%s",
				 f->make_path ? f->make_path : "/dev/vgsan/vm1-root");
			cb(f->vol_cbdata, f->make_rc, f->make_rc < 0 ? NULL : path,
			   f->make_rc < 0 ? "volume vm1-root could not be made: no space" :
			   NULL);
			continue;
		}
		if (f->def_cb != NULL) {
			backup_done_fn *cb = f->def_cb;

			f->def_cb = NULL;
			cb(f->def_cbdata, f->define_rc, f->define_rc < 0 ? "refused" : NULL);
			continue;
		}
		if (n == 0)
			return;
	}
}

static struct backup_env
env_of(struct fake *f)
{
	struct backup_env e = {
		.runner = f->r, .data = f, .target_check = f_check, .vol_make = f_make,
		.vol_drop = f_drop, .define = f_define,
	};
	return e;
}

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "/tmp/test_backup.XXXXXX");
	assert_non_null(mkdtemp(f->base));
	assert_int_equal(runner_recorder_open(&f->r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(f->r, true), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;
	char cmd[600];

	runner_close(f->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
expect(struct fake *f, const char *line, int exit_code, const char *out)
{
	struct runner_canned c = { .exit_code = exit_code, .out = out,
				   .err = exit_code ? "it failed" : NULL };

	assert_int_equal(runner_recorder_expect(f->r, line, &c), 0);
}

static void
verify_exact(struct fake *f, const char *const *lines)
{
	char msg[512];
	size_t i;

	for (i = 0; lines[i]; i++) {
		const struct runner_record *rec = runner_recorder_get(f->r, i);

		assert_non_null(rec);
		assert_string_equal(rec->line, lines[i]);
	}
	assert_int_equal(runner_recorder_count(f->r), i);
	if (runner_recorder_verify(f->r, msg, sizeof(msg)) != 0)
		fail_msg("%s", msg);
}

static void
lvm_params(struct fake *f, struct backup_params *p)
{
	memset(p, 0, sizeof(*p));
	p->dest = f->base;
	p->lvm = true;
	p->lvm_conf.vg = "vgsan";
	p->now_s = NOW;
	p->cfg_text = "name = \"vm1\"\nmemory = 256\n";
	snprintf(p->ctl.vm, sizeof(p->ctl.vm), "vm1");
	p->n_src = 2;
	snprintf(p->src[0].disk, sizeof(p->src[0].disk), "root");
	p->src[0].size_bytes = 10ULL << 30;
	snprintf(p->src[0].path, sizeof(p->src[0].path), "vm1-root");
	snprintf(p->src[1].disk, sizeof(p->src[1].disk), "swap");
	p->src[1].size_bytes = 512ULL << 20;
	snprintf(p->src[1].path, sizeof(p->src[1].path), "vm1-swap");
	snprintf(f->dir, sizeof(f->dir), "%s/vm1/" STAMP, f->base);
}

static void
touch(const char *dir, const char *name)
{
	char p[1400];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("x\n", fp);
	fclose(fp);
}

static void
test_backup_lvm_sequence(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct backup_params p;
	struct backup_job *j;
	char why[256], l[8][1400], path[1400];
	const char *lines[9];
	struct stat sb;

	lvm_params(f, &p);
	snprintf(l[0], sizeof(l[0]), "lvcreate --yes -s -L 2147483648b -n "
		 "vm1-root-bk-" STAMP " vgsan/vm1-root");
	snprintf(l[1], sizeof(l[1]), "gzip -1 -c -- /dev/vgsan/vm1-root-bk-" STAMP
		 " > %s/root.img.gz", f->dir);
	snprintf(l[2], sizeof(l[2]), "lvremove -f vgsan/vm1-root-bk-" STAMP);
	/* a snapshot of 512 MiB: the origin's size is the upper bound */
	snprintf(l[3], sizeof(l[3]), "lvcreate --yes -s -L 536870912b -n "
		 "vm1-swap-bk-" STAMP " vgsan/vm1-swap");
	snprintf(l[4], sizeof(l[4]), "gzip -1 -c -- /dev/vgsan/vm1-swap-bk-" STAMP
		 " > %s/swap.img.gz", f->dir);
	snprintf(l[5], sizeof(l[5]), "lvremove -f vgsan/vm1-swap-bk-" STAMP);
	snprintf(l[6], sizeof(l[6]), "sha256sum -- control vm.cfg root.img.gz swap.img.gz"
		 " > %s/SHA256SUMS.part (in %s)", f->dir, f->dir);
	for (int i = 0; i < 7; i++) {
		expect(f, l[i], 0, NULL);
		lines[i] = l[i];
	}
	lines[7] = NULL;
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), 0);
	/* what sha256sum would write (the recorder runs nothing) */
	touch(f->dir, "SHA256SUMS.part");
	drive(f);
	verify_exact(f, lines);
	assert_true(f->done);
	assert_int_equal(f->rc, 0);
	assert_non_null(strstr(f->msg, "backup of VM vm1 in"));
	snprintf(path, sizeof(path), "%s/SHA256SUMS", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/control", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	/* the same second again: refused, nothing run */
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "exists already"));
}

static void
slurp(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* Under DRBD each volume's data part (the DRBD device's size) is asked
 * first and recorded in the control file, written after the volumes. */
static void
test_backup_drbd_sequence(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct backup_params p;
	struct backup_job *j;
	char why[256], l[9][1400], path[1400], text[4096];
	const char *lines[10];
	const char *out[9] = { "10737082368\n", NULL, NULL, NULL, "536854528\n" };

	lvm_params(f, &p);
	snprintf(p.src[0].data_dev, sizeof(p.src[0].data_dev), "/dev/drbd3");
	snprintf(p.src[1].data_dev, sizeof(p.src[1].data_dev), "/dev/drbd4");
	snprintf(l[0], sizeof(l[0]), "blockdev --getsize64 /dev/drbd3");
	snprintf(l[1], sizeof(l[1]), "lvcreate --yes -s -L 2147483648b -n "
		 "vm1-root-bk-" STAMP " vgsan/vm1-root");
	snprintf(l[2], sizeof(l[2]), "gzip -1 -c -- /dev/vgsan/vm1-root-bk-" STAMP
		 " > %s/root.img.gz", f->dir);
	snprintf(l[3], sizeof(l[3]), "lvremove -f vgsan/vm1-root-bk-" STAMP);
	snprintf(l[4], sizeof(l[4]), "blockdev --getsize64 /dev/drbd4");
	snprintf(l[5], sizeof(l[5]), "lvcreate --yes -s -L 536870912b -n "
		 "vm1-swap-bk-" STAMP " vgsan/vm1-swap");
	snprintf(l[6], sizeof(l[6]), "gzip -1 -c -- /dev/vgsan/vm1-swap-bk-" STAMP
		 " > %s/swap.img.gz", f->dir);
	snprintf(l[7], sizeof(l[7]), "lvremove -f vgsan/vm1-swap-bk-" STAMP);
	snprintf(l[8], sizeof(l[8]), "sha256sum -- control vm.cfg root.img.gz swap.img.gz"
		 " > %s/SHA256SUMS.part (in %s)", f->dir, f->dir);
	for (int i = 0; i < 9; i++) {
		expect(f, l[i], 0, out[i]);
		lines[i] = l[i];
	}
	lines[9] = NULL;
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), 0);
	touch(f->dir, "SHA256SUMS.part");
	drive(f);
	verify_exact(f, lines);
	assert_int_equal(f->rc, 0);
	snprintf(path, sizeof(path), "%s/control", f->dir);
	slurp(path, text, sizeof(text));
	assert_non_null(strstr(text, "\nvolume = root 10737418240 root.img.gz 10737082368\n"
			       "volume = swap 536870912 swap.img.gz 536854528\n"));
}

/* A size that cannot be the DRBD device's: nothing is snapshotted, and
 * the backup directory is removed. */
static void
test_backup_drbd_size_bad(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct backup_params p;
	struct backup_job *j;
	char why[256], l[1400];
	const char *lines[2] = { l, NULL };
	struct stat sb;

	lvm_params(f, &p);
	snprintf(p.src[0].data_dev, sizeof(p.src[0].data_dev), "/dev/drbd3");
	snprintf(l, sizeof(l), "blockdev --getsize64 /dev/drbd3");
	expect(f, l, 0, "99999999999\n");     /* more than the LV */
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), 0);
	drive(f);
	verify_exact(f, lines);
	assert_int_equal(f->rc, -EBADMSG);
	assert_non_null(strstr(f->msg, "volume root: /dev/drbd3 says its size is "
			       "'99999999999"));
	assert_int_equal(stat(f->dir, &sb), -1);
}

static void
test_backup_lvm_read_fails(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct backup_params p;
	struct backup_job *j;
	char why[256], l[3][1400];
	const char *lines[4];
	struct stat sb;

	lvm_params(f, &p);
	snprintf(l[0], sizeof(l[0]), "lvcreate --yes -s -L 2147483648b -n "
		 "vm1-root-bk-" STAMP " vgsan/vm1-root");
	snprintf(l[1], sizeof(l[1]), "gzip -1 -c -- /dev/vgsan/vm1-root-bk-" STAMP
		 " > %s/root.img.gz", f->dir);
	snprintf(l[2], sizeof(l[2]), "lvremove -f vgsan/vm1-root-bk-" STAMP);
	expect(f, l[0], 0, NULL);
	expect(f, l[1], 1, NULL);       /* the read fails ... */
	expect(f, l[2], 0, NULL);       /* ... the snapshot goes all the same */
	lines[0] = l[0];
	lines[1] = l[1];
	lines[2] = l[2];
	lines[3] = NULL;
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), 0);
	drive(f);
	verify_exact(f, lines);
	assert_true(f->done);
	assert_int_equal(f->rc, -EIO);
	assert_non_null(strstr(f->msg, "gzip"));
	/* nothing of the failed backup is left */
	assert_int_equal(stat(f->dir, &sb), -1);
}

static void
test_backup_lvm_snapshot_fails(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct backup_params p;
	struct backup_job *j;
	char why[256], l[1400];
	const char *lines[2] = { l, NULL };

	lvm_params(f, &p);
	snprintf(l, sizeof(l), "lvcreate --yes -s -L 2147483648b -n vm1-root-bk-" STAMP
		 " vgsan/vm1-root");
	expect(f, l, 5, NULL);          /* no room: no snapshot, no lvremove */
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), 0);
	drive(f);
	verify_exact(f, lines);
	assert_int_equal(f->rc, -EIO);
}

static void
test_backup_file_sequence(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct backup_params p;
	struct backup_job *j;
	char why[256], l[3][1200];
	const char *lines[4];

	lvm_params(f, &p);
	p.lvm = false;
	p.n_src = 1;
	snprintf(p.src[0].path, sizeof(p.src[0].path), "/srv/volumes/vm1-root.img");
	snprintf(l[0], sizeof(l[0]), "cp --reflink=auto --sparse=always -- "
		 "/srv/volumes/vm1-root.img %s/.root.img.tmp", f->dir);
	snprintf(l[1], sizeof(l[1]), "gzip -1 -c -- %s/.root.img.tmp > %s/root.img.gz",
		 f->dir, f->dir);
	snprintf(l[2], sizeof(l[2]), "sha256sum -- control vm.cfg root.img.gz > "
		 "%s/SHA256SUMS.part (in %s)", f->dir, f->dir);
	for (int i = 0; i < 3; i++) {
		expect(f, l[i], 0, NULL);
		lines[i] = l[i];
	}
	lines[3] = NULL;
	assert_int_equal(backup_start(&env, &p, f_done, f, &j, why, sizeof(why)), 0);
	touch(f->dir, "SHA256SUMS.part");
	drive(f);
	verify_exact(f, lines);
	assert_int_equal(f->rc, 0);
}

/* A backup directory as a finished backup leaves it. */
static void
make_backup(struct fake *f)
{
	char p[1400];
	FILE *fp;

	snprintf(f->dir, sizeof(f->dir), "%s/vm1", f->base);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	snprintf(f->dir, sizeof(f->dir), "%s/vm1/" STAMP, f->base);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	snprintf(p, sizeof(p), "%s/control", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fprintf(fp, "format = 1\nvm = vm1\nstamp = " STAMP "\ntime = 1796241301\n"
		"backend = lvm\nconfig = vm.cfg\nvolume = root 16777216 root.img.gz%s%s\n",
		f->data ? " " : "", f->data ? f->data : "");
	fclose(fp);
	snprintf(p, sizeof(p), "%s/vm.cfg", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("name = \"vm1\"\nmemory = 256\nvif = [ 'mac=00:16:3e:00:00:01' ]\n", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/SHA256SUMS", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fprintf(fp, "%064d  control\n%064d  vm.cfg\n%064d  root.img.gz\n", 0, 0, 0);
	fclose(fp);
	touch(f->dir, "root.img.gz");
}

static void
restore_params_of(struct fake *f, struct restore_params *rp)
{
	memset(rp, 0, sizeof(*rp));
	snprintf(rp->dir, sizeof(rp->dir), "%s", f->dir);
	rp->vm = "vm1";
}

/* Restore rp from f's backup with the checksums good, then, when device
 * is not NULL, xenmesh-unpack onto device exiting unpack_rc: exactly those
 * commands must run.  The limit is the backup's data part (f->data), else
 * the whole volume. */
static void
restore_run(struct fake *f, const struct restore_params *rp, const char *device,
	    int unpack_rc)
{
	struct backup_env env = env_of(f);
	struct backup_job *j;
	char why[256], l[2][1400];
	const char *lines[3] = { l[0], device ? l[1] : NULL, NULL };

	snprintf(l[0], sizeof(l[0]), "sha256sum -c --strict -- SHA256SUMS (in %s)", f->dir);
	expect(f, l[0], 0, NULL);
	if (device != NULL) {
		snprintf(l[1], sizeof(l[1]), "%.200s --limit %s -- %s/root.img.gz %s",
			 rp->unpack_prog[0] ? rp->unpack_prog : "xenmesh-unpack",
			 f->data ? f->data : "16777216", f->dir, device);
		expect(f, l[1], unpack_rc, NULL);
	}
	assert_int_equal(restore_start(&env, rp, f_done, f, &j, why, sizeof(why)), 0);
	drive(f);
	verify_exact(f, lines);
}

static void
test_restore_damaged_refused_first(void **state)
{
	struct fake *f = *state;
	struct backup_env env = env_of(f);
	struct restore_params rp;
	struct backup_job *j;
	char why[256], l[1400];
	const char *lines[2] = { l, NULL };

	make_backup(f);
	restore_params_of(f, &rp);
	snprintf(l, sizeof(l), "sha256sum -c --strict -- SHA256SUMS (in %s)", f->dir);
	expect(f, l, 1, "control: OK\nvm.cfg: OK\nroot.img.gz: FAILED\n");
	assert_int_equal(restore_start(&env, &rp, f_done, f, &j, why, sizeof(why)), 0);
	drive(f);
	verify_exact(f, lines);
	assert_int_equal(f->rc, -EBADMSG);
	assert_non_null(strstr(f->msg, "damaged: root.img.gz does not match its checksum"));
	/* nothing asked of the cluster, not even whether the VM runs */
	assert_int_equal(f->checks, 0);
	assert_int_equal(f->makes, 0);
	assert_int_equal(f->drops, 0);
	assert_int_equal(f->defines, 0);
}

static void
test_restore_running_refused(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	make_backup(f);
	restore_params_of(f, &rp);
	f->check_rc = -EBUSY;
	restore_run(f, &rp, NULL, 0);
	assert_int_equal(f->rc, -EBUSY);
	assert_string_equal(f->msg, "VM vm1 is running");
	assert_int_equal(f->makes, 0);
	assert_int_equal(f->defines, 0);
}

static void
test_restore_disk_too_small(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	make_backup(f);
	restore_params_of(f, &rp);
	rp.root_size = 8ULL << 20;
	restore_run(f, &rp, NULL, 0);
	assert_int_equal(f->rc, -EINVAL);
	assert_non_null(strstr(f->msg, "smaller than the root volume"));
	assert_int_equal(f->makes, 0);
}

static void
test_restore_unpack_fails_rolls_back(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	make_backup(f);
	restore_params_of(f, &rp);
	rp.as = "vm2";
	restore_run(f, &rp, "/dev/vgsan/vm1-root", 1);
	assert_int_equal(f->rc, -EIO);
	assert_non_null(strstr(f->msg, "xenmesh-unpack"));
	assert_non_null(strstr(f->msg, "the volume made for the restore is being removed"));
	assert_int_equal(f->makes, 1);
	assert_int_equal(f->drops, 1);
	assert_string_equal(f->dropped[0], "vm2-root");
	assert_int_equal(f->defines, 0);
}

static void
test_restore_define_fails_rolls_back(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	make_backup(f);
	restore_params_of(f, &rp);
	f->define_rc = -EINVAL;
	restore_run(f, &rp, "/dev/vgsan/vm1-root", 0);
	assert_int_equal(f->rc, -EINVAL);
	assert_int_equal(f->defines, 1);
	assert_int_equal(f->drops, 1);
	assert_string_equal(f->dropped[0], "vm1-root");
}

static void
test_restore_as_new_vm(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	make_backup(f);
	restore_params_of(f, &rp);
	rp.as = "vm2";
	rp.memory_mb = 1024;
	restore_run(f, &rp, "/dev/vgsan/vm1-root", 0);
	assert_int_equal(f->rc, 0);
	assert_non_null(strstr(f->msg, "restored VM vm1 as vm2"));
	/* new name and memory, the MAC dropped (a new one is assigned) */
	assert_string_equal(f->defined_cfg, "name = \"vm2\"\nmemory = 1024\nvif = [ '' ]\n");
	assert_int_equal(f->drops, 0);
}

/* Under DRBD the env hands /dev/drbdN (san_vol_device): the image goes
 * there, never onto the LV beneath DRBD, and only its data part (the
 * control file's DATA): the old metadata at its end is not written. */
static void
test_restore_onto_drbd_device(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	f->data = "16441344";
	make_backup(f);
	restore_params_of(f, &rp);
	snprintf(rp.unpack_prog, sizeof(rp.unpack_prog), "/usr/sbin/xenmesh-unpack");
	f->make_path = "/dev/drbd7";
	restore_run(f, &rp, "/dev/drbd7", 0);
	assert_int_equal(f->rc, 0);
	assert_int_equal(f->defines, 1);
}

/* The env's why names the volume: said once, and the volume asked for is
 * dropped (its record may exist). */
static void
test_restore_volume_fails(void **state)
{
	struct fake *f = *state;
	struct restore_params rp;

	make_backup(f);
	restore_params_of(f, &rp);
	f->make_rc = -EIO;
	restore_run(f, &rp, NULL, 0);
	assert_int_equal(f->rc, -EIO);
	assert_non_null(strstr(f->msg, "volume vm1-root could not be made: no space"));
	assert_null(strstr(f->msg, "vm1-root: volume"));
	assert_int_equal(f->makes, 1);
	assert_int_equal(f->drops, 1);
	assert_int_equal(f->defines, 0);
}

static void
test_find_and_list(void **state)
{
	struct fake *f = *state;
	struct backup_info *v;
	char dir[1400], why[256], p[800];
	size_t n;

	make_backup(f);
	assert_int_equal(backup_find(f->base, "vm1", NULL, dir, sizeof(dir), why, sizeof(why)), 0);
	assert_string_equal(dir, f->dir);
	assert_int_equal(backup_find(f->base, "vm1", "bad", dir, sizeof(dir), why,
				     sizeof(why)), -EINVAL);
	assert_int_equal(backup_find(f->base, "../x", NULL, dir, sizeof(dir), why,
				     sizeof(why)), -EINVAL);
	assert_int_equal(backup_list(f->base, NULL, &v, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].status, "complete");
	assert_string_equal(v[0].volumes, "root:16777216");
	free(v);
	/* without SHA256SUMS: incomplete, and not the newest complete one */
	snprintf(p, sizeof(p), "%s/SHA256SUMS", f->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(backup_list(f->base, "vm1", &v, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].status, "incomplete");
	free(v);
	assert_int_equal(backup_find(f->base, "vm1", NULL, dir, sizeof(dir), why,
				     sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no complete backup of VM vm1"));
	/* a broken control file: damaged */
	touch(f->dir, "SHA256SUMS");
	touch(f->dir, "control");
	assert_int_equal(backup_list(f->base, "vm1", &v, &n, why, sizeof(why)), 0);
	assert_string_equal(v[0].status, "damaged");
	free(v);
	assert_int_equal(backup_list("/nonexistent/x", NULL, &v, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_lvm_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_drbd_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_drbd_size_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_lvm_read_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_lvm_snapshot_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_file_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_damaged_refused_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_running_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_disk_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_unpack_fails_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_define_fails_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_as_new_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_onto_drbd_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_volume_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_and_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
