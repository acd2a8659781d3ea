/* Tests of agent/vmcreate.c: the exact command lines (recorder) for the
 * lvm and the file backend, the files written into the staging tree, and
 * the undo after a failure at each step, in reverse order, with a fake
 * cluster (volumes, define) that records what it was asked; the same for
 * a raw image (dd, sfdisk, blkid, e2fsck, resize2fs, debugfs). */
#include <errno.h>
#include <fcntl.h>
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

#include "runner.h"
#include "template.h"
#include "vmcreate.h"

#define VGS_OUT(free) \
	"{\"report\": [{\"vg\": [{\"vg_name\":\"vgsan\", \"pv_count\":\"1\", " \
	"\"lv_count\":\"0\", \"snap_count\":\"0\", \"vg_attr\":\"wz--n-\", " \
	"\"vg_size\":\"107374182400B\", \"vg_free\":\"" free "B\"}]}]}\n"

struct fake {
	char log[2048];
	const char *fail_op;            /* "create web1-swap", "remove ...", "define" */
	bool fail_recorded;             /* the failed create left a record */
	bool lvm;
	int done_calls;
	int rc;
	char msg[2048];
	char dir[256], stage[300], tree[300];
	bool real_devs;                 /* devices are files in dir */
};

static void
flog(struct fake *f, const char *fmt, ...)
{
	size_t len = strlen(f->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->log + len, sizeof(f->log) - len, fmt, ap);
	va_end(ap);
}

static bool
failing(struct fake *f, const char *op)
{
	return f->fail_op != NULL && strcmp(f->fail_op, op) == 0;
}

static int
fake_create(void *env, struct vmcreate *job, const char *vm, const char *disk,
	    uint64_t bytes)
{
	struct fake *f = env;
	char op[128];

	snprintf(op, sizeof(op), "create %s-%s", vm, disk);
	flog(f, "%s %llu\n", op, (unsigned long long)bytes);
	if (failing(f, op))
		vmcreate_volume_done(job, -EIO, f->fail_recorded, "no space on the SAN");
	else
		vmcreate_volume_done(job, 0, true, NULL);
	return 0;
}

static int
fake_remove(void *env, struct vmcreate *job, const char *vol)
{
	struct fake *f = env;
	char op[128];

	snprintf(op, sizeof(op), "remove %s", vol);
	flog(f, "%s\n", op);
	vmcreate_step_done(job, failing(f, op) ? -EBUSY : 0,
			   failing(f, op) ? "in use" : NULL);
	return 0;
}

static int
fake_device(void *env, const char *vol, char *buf, size_t len)
{
	struct fake *f = env;

	if (f->real_devs)
		snprintf(buf, len, "%s/%s.img", f->dir, vol);
	else
		snprintf(buf, len, f->lvm ? "/dev/vgsan/%s" : "/srv/vols/%s.img", vol);
	return 0;
}

static int
fake_define(void *env, struct vmcreate *job, const char *name, const char *config)
{
	struct fake *f = env;

	assert_non_null(strstr(config, "name = \"web1\""));
	flog(f, "define %s\n", name);
	vmcreate_step_done(job, failing(f, "define") ? -EEXIST : 0,
			   failing(f, "define") ? "VM web1 exists" : NULL);
	return 0;
}

static const struct vmcreate_env_ops ops = {
	.volume_create = fake_create,
	.volume_remove = fake_remove,
	.volume_device = fake_device,
	.define = fake_define,
};

static void
on_done(void *data, int rc, const char *msg)
{
	struct fake *f = data;

	f->done_calls++;
	f->rc = rc;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

static void
setup_dirs(struct fake *f)
{
	char path[400];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_vmcreate.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->stage, sizeof(f->stage), "%s/stage", f->dir);
	snprintf(f->tree, sizeof(f->tree), "%s/tiny/root", f->dir);
	/* what cp -a would have made (the recorder runs nothing) */
	assert_int_equal(mkdir(f->stage, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc", f->stage);
	assert_int_equal(mkdir(path, 0755), 0);
	/* a template's symlink where a file goes: replaced, not followed */
	snprintf(path, sizeof(path), "%s/etc/resolv.conf", f->stage);
	assert_int_equal(symlink("/nonexistent/xm-test-resolv", path), 0);
}

static void
rm_dirs(struct fake *f)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

static char *
slurp(const char *dir, const char *rel)
{
	static char buf[1024];
	char path[400];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* Runs a create of web1 (root 1G, swap 256M) with the failing command
 * fail_cmd (a recorder prefix, NULL none); the lines run, one a line. */
static void
run_job(struct fake *f, const char *fail_cmd, const char *vgs_out, char *lines,
	size_t len)
{
	struct runner_canned ok = { .exit_code = 0, .out = "" };
	struct runner_canned bad = { .exit_code = 1, .err = "boom\n" };
	struct runner_canned vgs = { .exit_code = 0, .out = vgs_out };
	struct vmcreate_spec spec = {
		.name = "web1", .os = TEMPLATE_OS_DEBIAN, .tree = f->tree,
		.staging = f->stage,
		.net = { .hostname = "web1", .ip = "10.1.2.3", .netmask = "255.255.255.0",
			 .gateway = "10.1.2.1", .nameserver = "10.1.2.1" },
		.root_bytes = 1ULL << 30, .swap_bytes = 256ULL << 20,
		.config = "name = \"web1\"\nmemory = 512\n",
		.vg = f->lvm ? "vgsan" : NULL,
	};
	struct runner *r;
	size_t used = 0;

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	if (fail_cmd != NULL)
		assert_int_equal(runner_recorder_expect(r, fail_cmd, &bad), 0);
	if (f->lvm)
		assert_int_equal(runner_recorder_expect(r, "vgs", &vgs), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(runner_recorder_expect(r, NULL, &ok), 0);
	assert_int_equal(vmcreate_start(&spec, r, &ops, f, on_done, f), 0);
	while (runner_recorder_deliver(r) > 0)
		;
	lines[0] = '\0';
	for (size_t i = 0; i < runner_recorder_count(r); i++)
		used += (size_t)snprintf(lines + used, len - used, "%s\n",
					 runner_recorder_get(r, i)->line);
	runner_close(r);
	assert_int_equal(f->done_calls, 1);
}

static void
test_lvm_sequence(void **state)
{
	struct fake f = { .lvm = true };
	char lines[4096], want[4096];

	(void)state;
	setup_dirs(&f);
	run_job(&f, NULL, VGS_OUT("10737418240"), lines, sizeof(lines));
	assert_int_equal(f.rc, 0);
	snprintf(want, sizeof(want),
		 "vgs --reportformat json --units b vgsan\n"
		 "rm -rf --one-file-system -- %s\n"
		 "cp -a -- %s %s\n"
		 "mke2fs -q -F -t ext4 -d %s -L root /dev/vgsan/web1-root\n"
		 "mkswap -L swap /dev/vgsan/web1-swap\n"
		 "rm -rf --one-file-system -- %s\n",
		 f.stage, f.tree, f.stage, f.stage, f.stage);
	assert_string_equal(lines, want);
	assert_string_equal(f.log, "create web1-root 1073741824\n"
			    "create web1-swap 268435456\ndefine web1\n");
	/* the files, in the staging tree (not removed: rm was recorded only) */
	assert_string_equal(slurp(f.stage, "etc/hostname"), "web1\n");
	assert_non_null(strstr(slurp(f.stage, "etc/hosts"), "10.1.2.3\tweb1\n"));
	assert_non_null(strstr(slurp(f.stage, "etc/network/interfaces"),
			       "\taddress 10.1.2.3\n\tnetmask 255.255.255.0\n"
			       "\tgateway 10.1.2.1\n"));
	/* the symlink was replaced by a file */
	assert_non_null(strstr(slurp(f.stage, "etc/resolv.conf"), "nameserver 10.1.2.1\n"));
	rm_dirs(&f);
}

static void
test_file_sequence(void **state)
{
	struct fake f = { .lvm = false };
	char lines[4096], want[4096];

	(void)state;
	setup_dirs(&f);
	run_job(&f, NULL, NULL, lines, sizeof(lines));
	assert_int_equal(f.rc, 0);
	/* no vgs: the file backend's room is checked before the job */
	snprintf(want, sizeof(want),
		 "rm -rf --one-file-system -- %s\n"
		 "cp -a -- %s %s\n"
		 "mke2fs -q -F -t ext4 -d %s -L root /srv/vols/web1-root.img\n"
		 "mkswap -L swap /srv/vols/web1-swap.img\n"
		 "rm -rf --one-file-system -- %s\n",
		 f.stage, f.tree, f.stage, f.stage, f.stage);
	assert_string_equal(lines, want);
	rm_dirs(&f);
}

static void
test_no_space_in_vg(void **state)
{
	struct fake f = { .lvm = true };
	char lines[4096];

	(void)state;
	setup_dirs(&f);
	run_job(&f, NULL, VGS_OUT("1073741824"), lines, sizeof(lines));
	assert_int_equal(f.rc, -ENOSPC);
	assert_string_equal(lines, "vgs --reportformat json --units b vgsan\n");
	assert_string_equal(f.log, "");
	assert_string_equal(f.msg, "checking the free space: not enough space in volume "
			    "group vgsan: 1024 MiB free, 1280 MiB needed (root and swap); "
			    "nothing was left behind");
	rm_dirs(&f);
}

/* A failure at one step: the env calls and the commands after it. */
struct undo_case {
	const char *fail_cmd;           /* recorder prefix */
	const char *fail_op;            /* env op */
	bool recorded;
	const char *msg_start;
	const char *env_log;
	int n_cmds;                     /* commands run in all (lvm) */
	bool rm_last;                   /* the last command is the undo's rm */
};

static void
test_undo_each_step(void **state)
{
	static const struct undo_case cases[] = {
		{ NULL, "create web1-root", true, "making the root volume: no space on the SAN",
		  "create web1-root 1073741824\nremove web1-root\n", 1, false },
		{ NULL, "create web1-root", false, "making the root volume: no space",
		  "create web1-root 1073741824\n", 1, false },
		{ NULL, "create web1-swap", true, "making the swap volume: no space",
		  "create web1-root 1073741824\ncreate web1-swap 268435456\n"
		  "remove web1-swap\nremove web1-root\n", 1, false },
		{ "cp", NULL, false, "copying the template tree: ",
		  "create web1-root 1073741824\ncreate web1-swap 268435456\n"
		  "remove web1-swap\nremove web1-root\n", 4, true },
		{ "mke2fs", NULL, false, "making the file systems: ",
		  "create web1-root 1073741824\ncreate web1-swap 268435456\n"
		  "remove web1-swap\nremove web1-root\n", 5, true },
		{ "mkswap", NULL, false, "making the file systems: ",
		  "create web1-root 1073741824\ncreate web1-swap 268435456\n"
		  "remove web1-swap\nremove web1-root\n", 6, true },
		{ NULL, "define", false, "defining the VM: VM web1 exists",
		  "create web1-root 1073741824\ncreate web1-swap 268435456\ndefine web1\n"
		  "remove web1-swap\nremove web1-root\n", 6, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct undo_case *c = &cases[i];
		struct fake f = { .lvm = true, .fail_op = c->fail_op,
				  .fail_recorded = c->recorded };
		char lines[4096], want[1024];
		int n = 0;

		setup_dirs(&f);
		run_job(&f, c->fail_cmd, VGS_OUT("10737418240"), lines, sizeof(lines));
		assert_int_equal(f.rc < 0, 1);
		if (strncmp(f.msg, c->msg_start, strlen(c->msg_start)) != 0)
			fail_msg("case %zu: message '%s'", i, f.msg);
		assert_non_null(strstr(f.msg, "; nothing was left behind"));
		assert_string_equal(f.log, c->env_log);
		for (const char *p = lines; (p = strchr(p, '\n')) != NULL; p++)
			n++;
		if (n != c->n_cmds)
			fail_msg("case %zu: %d commands: %s", i, n, lines);
		snprintf(want, sizeof(want), "rm -rf --one-file-system -- %s\n", f.stage);
		if (c->rm_last)
			assert_string_equal(lines + strlen(lines) - strlen(want), want);
		rm_dirs(&f);
	}
}

static void
test_undo_files_step(void **state)
{
	struct fake f = { .lvm = false };
	char lines[4096], path[400], want[4096];

	(void)state;
	setup_dirs(&f);
	/* etc/network a symlink in the copied tree: never written through */
	snprintf(path, sizeof(path), "%s/etc/network", f.stage);
	assert_int_equal(symlink(f.dir, path), 0);
	run_job(&f, NULL, NULL, lines, sizeof(lines));
	assert_int_equal(f.rc, -ENOTDIR);  /* O_DIRECTORY | O_NOFOLLOW on a symlink */
	assert_non_null(strstr(f.msg, "writing the network files: etc/network in the "
			       "template tree is a symlink or not a directory"));
	snprintf(want, sizeof(want),
		 "rm -rf --one-file-system -- %s\ncp -a -- %s %s\n"
		 "rm -rf --one-file-system -- %s\n", f.stage, f.tree, f.stage, f.stage);
	assert_string_equal(lines, want);
	assert_string_equal(f.log, "create web1-root 1073741824\ncreate web1-swap 268435456\n"
			    "remove web1-swap\nremove web1-root\n");
	snprintf(path, sizeof(path), "%s/interfaces", f.dir);
	assert_int_equal(access(path, F_OK), -1);
	rm_dirs(&f);
}

static void
test_undo_left_behind(void **state)
{
	struct fake f = { .lvm = false, .fail_op = "define" };
	char lines[4096];

	(void)state;
	setup_dirs(&f);
	/* both fail: the define, then the removal of the swap volume */
	f.fail_op = "define";
	run_job(&f, NULL, NULL, lines, sizeof(lines));
	assert_int_equal(f.rc, -EEXIST);
	rm_dirs(&f);

	memset(&f, 0, sizeof(f));
	setup_dirs(&f);
	f.fail_op = "remove web1-swap";
	/* fail the mkswap, then the swap volume cannot be removed */
	run_job(&f, "mkswap", NULL, lines, sizeof(lines));
	assert_int_equal(f.rc, -EIO);
	assert_non_null(strstr(f.msg, "; left behind: volume web1-swap (remove by hand"));
	assert_string_equal(f.log, "create web1-root 1073741824\ncreate web1-swap 268435456\n"
			    "remove web1-swap\nremove web1-root\n");
	rm_dirs(&f);
}

/* ---- raw images ---------------------------------------------------------- */

#define IMAGE "/srv/templates/deb/root.img"

/* sfdisk --json of DEV with partition 1 of size sectors at 2048. */
static void
table_json(char *buf, size_t len, const char *dev, unsigned long size)
{
	snprintf(buf, len,
		 "{\n   \"partitiontable\": {\n      \"label\": \"dos\",\n"
		 "      \"id\": \"0x64b08fd9\",\n      \"device\": \"%s\",\n"
		 "      \"unit\": \"sectors\",\n      \"sectorsize\": 512,\n"
		 "      \"partitions\": [\n         {\"node\": \"%s1\", \"start\": 2048, "
		 "\"size\": %lu, \"type\": \"83\"}\n      ]\n   }\n}\n", dev, dev, size);
}

/* What debugfs would dump back: the files as meant (c0, c1 ...). */
static void
put_readback(struct fake *f, const char *wrong)
{
	struct template_file files[TEMPLATE_FILES_MAX];
	struct template_net n = { .hostname = "web1", .ip = "10.1.2.3",
				  .netmask = "255.255.255.0", .gateway = "10.1.2.1",
				  .nameserver = "10.1.2.1" };
	size_t count = 0;
	char path[400];

	assert_int_equal(template_net_files(TEMPLATE_OS_DEBIAN, &n, files, &count), 0);
	for (size_t i = 0; i < count; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/c%zu", f->stage, i);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(wrong && strcmp(files[i].path, wrong) == 0 ? "other\n" :
		      files[i].text, fp);
		fclose(fp);
	}
	template_files_free(files, count);
}

struct raw_run {
	const char *fail_cmd;           /* recorder prefix failing */
	int fail_exit;                  /* its exit code, 0: 1 */
	const char *blkid_out;          /* NULL: TYPE=ext4 */
	bool bare;                      /* sfdisk: no partition table */
	uint64_t image_bytes;           /* 0: 40 MiB */
	const char *wrong_file;         /* read back otherwise */
	const char *listing;            /* debugfs ls -p, NULL: LISTING */
};

/* The image's /etc as debugfs -f look.cmds prints it: hosts missing,
 * resolv.conf a symlink */
#define LISTING \
	"debugfs: ls -p /\n/2/040755/0/0/.//\n/2/040755/0/0/..//\n" \
	"/13/040755/0/0/etc//\n\n" \
	"debugfs: ls -p /etc\n/13/040755/0/0/.//\n/2/040755/0/0/..//\n" \
	"/14/100644/0/0/hostname/14/\n/15/0120777/0/0/resolv.conf/20/\n" \
	"/16/040755/0/0/network//\n\n" \
	"debugfs: ls -p /etc/network\n/16/040755/0/0/.//\n/13/040755/0/0/..//\n" \
	"/17/100644/0/0/interfaces/8/\n\n"

static void
run_raw(struct fake *f, const struct raw_run *rr, char *lines, size_t len)
{
	struct runner_canned ok = { .exit_code = 0, .out = "" };
	struct runner_canned bad = { .exit_code = rr->fail_exit ? rr->fail_exit : 1,
				     .err = "boom\n" };
	/* e2fsck's 1: errors corrected, fine */
	struct runner_canned fixed = { .exit_code = 1, .out = "web1: 16/9720 files\n" };
	struct runner_canned notable = { .exit_code = 1, .err = "sfdisk: x: does not "
					 "contain a recognized partition table\n" };
	struct runner_canned vgs = { .exit_code = 0, .out = VGS_OUT("10737418240") };
	struct runner_canned t1 = { 0 }, t2 = { 0 }, blkid = { 0 }, look = { 0 };
	char j1[2048], j2[2048], dev[400];
	struct vmcreate_spec spec = {
		.name = "web1", .os = TEMPLATE_OS_DEBIAN, .image = IMAGE,
		.image_bytes = rr->image_bytes ? rr->image_bytes : 40ULL << 20,
		.staging = f->stage,
		.net = { .hostname = "web1", .ip = "10.1.2.3", .netmask = "255.255.255.0",
			 .gateway = "10.1.2.1", .nameserver = "10.1.2.1" },
		.root_bytes = 1ULL << 30, .swap_bytes = 256ULL << 20,
		.config = "name = \"web1\"\nmemory = 512\n",
		.vg = f->lvm ? "vgsan" : NULL,
	};
	struct runner *r;
	size_t used = 0;

	assert_int_equal(fake_device(f, "web1-root", dev, sizeof(dev)), 0);
	table_json(j1, sizeof(j1), dev, 79872);
	table_json(j2, sizeof(j2), dev, 2095104);
	t1.out = j1;
	t2.out = j2;
	blkid.exit_code = rr->blkid_out && rr->blkid_out[0] == '\0' ? 2 : 0;
	blkid.out = rr->blkid_out ? rr->blkid_out :
		    "DEVNAME=x\nUUID=a76a\nBLOCK_SIZE=1024\nTYPE=ext4\nUSAGE=filesystem\n";
	look.out = rr->listing ? rr->listing : LISTING;
	put_readback(f, rr->wrong_file);
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	if (rr->fail_cmd != NULL)
		assert_int_equal(runner_recorder_expect(r, rr->fail_cmd, &bad), 0);
	if (f->lvm)
		assert_int_equal(runner_recorder_expect(r, "vgs", &vgs), 0);
	assert_int_equal(runner_recorder_expect(r, "sfdisk --json", rr->bare ? &notable :
						&t1), 0);
	assert_int_equal(runner_recorder_expect(r, "sfdisk --json", &t2), 0);
	assert_int_equal(runner_recorder_expect(r, "blkid", &blkid), 0);
	assert_int_equal(runner_recorder_expect(r, "e2fsck", &fixed), 0);
	assert_int_equal(runner_recorder_expect(r, "debugfs -f", &look), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(runner_recorder_expect(r, NULL, &ok), 0);
	assert_int_equal(vmcreate_start(&spec, r, &ops, f, on_done, f), 0);
	while (runner_recorder_deliver(r) > 0)
		;
	lines[0] = '\0';
	for (size_t i = 0; i < runner_recorder_count(r); i++) {
		const struct runner_record *rec = runner_recorder_get(r, i);

		used += (size_t)snprintf(lines + used, len - used, "%s%s\n", rec->line,
					 rec->stdin_data[0] ? " < stdin" : "");
		if (rec->stdin_data[0])
			assert_string_equal(rec->stdin_data, ", +\n");
	}
	runner_close(r);
	assert_int_equal(f->done_calls, 1);
}

static void
test_raw_sequence(void **state)
{
	struct fake f = { .lvm = true };
	char lines[4096], want[4096], path[400];
	FILE *fp;
	size_t n;

	(void)state;
	setup_dirs(&f);
	run_raw(&f, &(struct raw_run){ 0 }, lines, sizeof(lines));
	if (f.rc != 0)
		fail_msg("%s", f.msg);
	/* a device: no conv=sparse (it is not zeroed) */
	snprintf(want, sizeof(want),
		 "vgs --reportformat json --units b vgsan\n"
		 "rm -rf --one-file-system -- %s\n"
		 "mkdir -m 0700 -- %s\n"
		 "dd if=" IMAGE " of=/dev/vgsan/web1-root bs=4M conv=notrunc,fsync status=none\n"
		 "sfdisk --json /dev/vgsan/web1-root\n"
		 "blkid -p -o export -O 1048576 /dev/vgsan/web1-root\n"
		 "sfdisk --no-reread --no-tell-kernel -N 1 /dev/vgsan/web1-root < stdin\n"
		 "sfdisk --json /dev/vgsan/web1-root\n"
		 "e2fsck -f -y '/dev/vgsan/web1-root?offset=1048576'\n"
		 "resize2fs '/dev/vgsan/web1-root?offset=1048576' 2095104s\n"
		 "debugfs -f %s/look.cmds '/dev/vgsan/web1-root?offset=1048576'\n"
		 "debugfs -w -f %s/write.cmds '/dev/vgsan/web1-root?offset=1048576'\n"
		 "debugfs -f %s/check.cmds '/dev/vgsan/web1-root?offset=1048576'\n"
		 "mkswap -L swap /dev/vgsan/web1-swap\n"
		 "rm -rf --one-file-system -- %s\n",
		 f.stage, f.stage, f.stage, f.stage, f.stage, f.stage);
	assert_string_equal(lines, want);
	assert_string_equal(f.log, "create web1-root 1073741824\n"
			    "create web1-swap 268435456\ndefine web1\n");
	/* the texts and the debugfs commands that put them in */
	assert_string_equal(slurp(f.stage, "f0"), "web1\n");
	snprintf(path, sizeof(path), "%s/write.cmds", f.stage);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(lines, 1, sizeof(lines) - 1, fp);
	lines[n] = '\0';
	fclose(fp);
	/* no mkdir of what is there; rm only of what is there */
	snprintf(want, sizeof(want),
		 "rm /etc/hostname\ncd /etc\nwrite \"%s/f0\" hostname\n"
		 "cd /etc\nwrite \"%s/f1\" hosts\n"
		 "rm /etc/resolv.conf\ncd /etc\nwrite \"%s/f2\" resolv.conf\n"
		 "rm /etc/network/interfaces\ncd /etc/network\n"
		 "write \"%s/f3\" interfaces\n", f.stage, f.stage, f.stage, f.stage);
	assert_string_equal(lines, want);
	assert_string_equal(slurp(f.stage, "look.cmds"),
			    "ls -p /\nls -p /etc\nls -p /etc/network\n");
	assert_non_null(strstr(slurp(f.stage, "check.cmds"), "dump /etc/hostname \""));
	rm_dirs(&f);
}

/* The file backend, whose volumes are fresh files: a sparse copy; an
 * image without a partition table: its file system grown in place. */
static void
test_raw_bare_file(void **state)
{
	struct fake f = { .lvm = false, .real_devs = true };
	char lines[4096], want[8192], path[400];

	(void)state;
	setup_dirs(&f);
	snprintf(path, sizeof(path), "%s/web1-root.img", f.dir);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	run_raw(&f, &(struct raw_run){ .bare = true }, lines, sizeof(lines));
	if (f.rc != 0)
		fail_msg("%s", f.msg);
	snprintf(want, sizeof(want),
		 "rm -rf --one-file-system -- %s\n"
		 "mkdir -m 0700 -- %s\n"
		 "dd if=" IMAGE " of=%s bs=4M conv=notrunc,sparse,fsync status=none\n"
		 "sfdisk --json %s\n"
		 "blkid -p -o export -O 0 %s\n"
		 "e2fsck -f -y %s\n"
		 "resize2fs %s 2097152s\n"
		 "debugfs -f %s/look.cmds %s\n"
		 "debugfs -w -f %s/write.cmds %s\n"
		 "debugfs -f %s/check.cmds %s\n"
		 "mkswap -L swap %s/web1-swap.img\n"
		 "rm -rf --one-file-system -- %s\n",
		 f.stage, f.stage, path, path, path, path, path, f.stage, path, f.stage,
		 path, f.stage, path, f.dir, f.stage);
	assert_string_equal(lines, want);
	rm_dirs(&f);
}

/* A partitioned image onto a file: resize2fs cuts the file to the file
 * system's size (ignoring the offset), so it is sized back and checked. */
static void
test_raw_partitioned_file(void **state)
{
	struct fake f = { .lvm = false, .real_devs = true };
	char lines[4096], want[8192], path[400];

	(void)state;
	setup_dirs(&f);
	snprintf(path, sizeof(path), "%s/web1-root.img", f.dir);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	run_raw(&f, &(struct raw_run){ 0 }, lines, sizeof(lines));
	if (f.rc != 0)
		fail_msg("%s", f.msg);
	snprintf(want, sizeof(want),
		 "dd if=" IMAGE " of=%s bs=4M conv=notrunc,sparse,fsync status=none\n"
		 "sfdisk --json %s\n"
		 "blkid -p -o export -O 1048576 %s\n"
		 "sfdisk --no-reread --no-tell-kernel -N 1 %s < stdin\n"
		 "sfdisk --json %s\n"
		 "e2fsck -f -y '%s?offset=1048576'\n"
		 "resize2fs '%s?offset=1048576' 2095104s\n"
		 "truncate -s 1073741824 %s\n"
		 "e2fsck -f -n '%s?offset=1048576'\n"
		 "debugfs -f %s/look.cmds '%s?offset=1048576'\n"
		 "debugfs -w -f %s/write.cmds '%s?offset=1048576'\n",
		 path, path, path, path, path, path, path, path, path, f.stage, path,
		 f.stage, path);
	if (strstr(lines, want) == NULL)
		fail_msg("%s", lines);
	rm_dirs(&f);
}

static void
test_raw_image_too_big(void **state)
{
	struct fake f = { .lvm = true };
	char lines[4096];

	(void)state;
	setup_dirs(&f);
	run_raw(&f, &(struct raw_run){ .image_bytes = (1ULL << 30) + 512 }, lines,
		sizeof(lines));
	assert_int_equal(f.rc, -EFBIG);
	assert_string_equal(lines, "");
	assert_string_equal(f.log, "");
	assert_string_equal(f.msg, "checking the free space: the image " IMAGE " is 1025 "
			    "MiB, larger than the root volume (1024 MiB): give --disk 1025M "
			    "or more; nothing was left behind");
	rm_dirs(&f);
}

/* A failure at each step of the raw path: everything undone. */
static void
test_raw_undo_each_step(void **state)
{
	static const struct {
		struct raw_run rr;
		const char *msg_start;
		int n_cmds;
	} cases[] = {
		{ { .fail_cmd = "dd" }, "copying the image: dd if=", 5 },
		{ { .fail_cmd = "sfdisk --json" }, "copying the image: sfdisk --json: "
		  "exit 1: boom", 6 },
		{ { .blkid_out = "DEVNAME=x\nTYPE=xfs\n" }, "checking the image's file "
		  "system: partition 1 of the image holds a xfs file system: vm create "
		  "writes the guest's files into ext2, ext3 or ext4 only", 7 },
		{ { .blkid_out = "" }, "checking the image's file system: partition 1 of "
		  "the image holds no file system blkid knows", 7 },
		{ { .bare = true, .blkid_out = "TYPE=vfat\n" }, "checking the image's file "
		  "system: the image (no partition table) holds a vfat file system", 7 },
		{ { .fail_cmd = "sfdisk --no-reread" }, "growing the image's partition: "
		  "sfdisk --no-reread --no-tell-kernel -N 1 /dev/vgsan/web1-root: exit 1", 8 },
		{ { .fail_cmd = "e2fsck", .fail_exit = 4 }, "checking the image's file "
		  "system: e2fsck -f -y /dev/vgsan/web1-root?offset=1048576: exit 4", 10 },
		{ { .fail_cmd = "resize2fs" }, "growing the image's file system: resize2fs", 11 },
		{ { .fail_cmd = "debugfs -f" }, "reading the image's /etc: debugfs -f", 12 },
		{ { .fail_cmd = "debugfs -w" }, "writing the network files: debugfs -w", 13 },
		{ { .listing = "debugfs: ls -p /etc\n/16/0120777/0/0/network/8/\n" },
		  "writing the network files: /etc/network in the image is a symlink or "
		  "not a directory: refusing to write through it", 12 },
		{ { .listing = "debugfs: ls -p /etc\n/16/040755/0/0/hosts//\n" },
		  "writing the network files: /etc/hosts in the image is a directory", 12 },
		{ { .wrong_file = "etc/network/interfaces" }, "writing the network files: "
		  "debugfs did not write /etc/network/interfaces into the image's file "
		  "system (it reads back otherwise", 14 },
		{ { .fail_cmd = "mkswap" }, "making the swap: mkswap -L swap", 15 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = { .lvm = true };
		char lines[4096], want[1024];
		int n = 0;

		setup_dirs(&f);
		run_raw(&f, &cases[i].rr, lines, sizeof(lines));
		if (f.rc >= 0 || strncmp(f.msg, cases[i].msg_start,
					 strlen(cases[i].msg_start)) != 0)
			fail_msg("case %zu: rc %d, message '%s'", i, f.rc, f.msg);
		assert_non_null(strstr(f.msg, "; nothing was left behind"));
		assert_string_equal(f.log, "create web1-root 1073741824\ncreate web1-swap "
				    "268435456\nremove web1-swap\nremove web1-root\n");
		for (const char *p = lines; (p = strchr(p, '\n')) != NULL; p++)
			n++;
		if (n != cases[i].n_cmds)
			fail_msg("case %zu: %d commands: %s", i, n, lines);
		snprintf(want, sizeof(want), "rm -rf --one-file-system -- %s\n", f.stage);
		assert_string_equal(lines + strlen(lines) - strlen(want), want);
		rm_dirs(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_space_in_vg),
		cmocka_unit_test(test_lvm_sequence),
		cmocka_unit_test(test_file_sequence),
		cmocka_unit_test(test_undo_each_step),
		cmocka_unit_test(test_undo_files_step),
		cmocka_unit_test(test_undo_left_behind),
		cmocka_unit_test(test_raw_sequence),
		cmocka_unit_test(test_raw_bare_file),
		cmocka_unit_test(test_raw_partitioned_file),
		cmocka_unit_test(test_raw_image_too_big),
		cmocka_unit_test(test_raw_undo_each_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
