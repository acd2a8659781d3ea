/* Backup and restore commands (storage/snapshot.c), the control file,
 * SHA256SUMS and the xl.cfg rewrite (storage/backup_control.c): exact
 * command lines, round trips, and damaged input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backup_control.h"
#include "cmdseq.h"
#include "snapshot.h"

static void
line_is(const struct cmdseq *s, size_t i, const char *want)
{
	char buf[RUNNER_LINE_MAX];

	assert_int_equal(cmdseq_format(s, i, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_snapshot_size(void **state)
{
	(void)state;
	/* 20% of 10 GiB */
	assert_int_equal(snapshot_size(10ULL << 30, 20), 2ULL << 30);
	/* at least 1 GiB ... */
	assert_int_equal(snapshot_size(2ULL << 30, 20), 1ULL << 30);
	/* ... but never more than the origin */
	assert_int_equal(snapshot_size(64ULL << 20, 20), 64ULL << 20);
	/* rounded up to 512 */
	assert_int_equal(snapshot_size(10000000001ULL, 33) % 512, 0);
	assert_true(snapshot_size(10000000001ULL, 33) >= 3300000000ULL);
	/* out of range share: the default */
	assert_int_equal(snapshot_size(10ULL << 30, 0), 2ULL << 30);
	assert_int_equal(snapshot_size(10ULL << 30, 101), 2ULL << 30);
	assert_int_equal(snapshot_size(100ULL << 30, 100), 100ULL << 30);
}

static void
test_lvm_lines(void **state)
{
	struct lvm_conf c = { .vg = "vgsan", .no_devmapper = false };
	struct lvm_conf nd = { .vg = "vgsan", .no_devmapper = true };
	char name[128], why[128];
	struct cmdseq s;

	(void)state;
	assert_int_equal(snapshot_name(name, sizeof(name), "web1-root", "20261202T195501Z",
				       why, sizeof(why)), 0);
	assert_string_equal(name, "web1-root-bk-20261202T195501Z");
	cmdseq_init(&s);
	assert_int_equal(snapshot_cmd_lvm_create(&s, &c, "web1-root", name, 2ULL << 30), 0);
	assert_int_equal(snapshot_cmd_lvm_create(&s, &nd, "web1-root", name, 1ULL << 30), 0);
	assert_int_equal(snapshot_cmd_lvm_remove(&s, &c, name), 0);
	assert_int_equal(snapshot_cmd_lvm_remove(&s, &nd, name), 0);
	line_is(&s, 0, "lvcreate --yes -s -L 2147483648b -n web1-root-bk-20261202T195501Z "
		"vgsan/web1-root");
	line_is(&s, 1, "lvcreate --driverloaded n --yes -s -L 1073741824b -n "
		"web1-root-bk-20261202T195501Z vgsan/web1-root");
	line_is(&s, 2, "lvremove -f vgsan/web1-root-bk-20261202T195501Z");
	line_is(&s, 3, "lvremove --driverloaded n -f vgsan/web1-root-bk-20261202T195501Z");
	assert_int_equal(snapshot_lvm_path(name, sizeof(name), &c, "web1-root"), 0);
	assert_string_equal(name, "/dev/vgsan/web1-root");
	/* bad input: nothing appended */
	assert_int_equal(snapshot_cmd_lvm_create(&s, &c, "web1-root", "x", 1000), -EINVAL);
	assert_int_equal(snapshot_cmd_lvm_create(&s, &c, "-bad", "x", 512), -EINVAL);
	assert_int_equal(snapshot_cmd_lvm_create(&s, &c, "a", "snapshot1", 512), -EINVAL);
	assert_int_equal(s.n, 4);
	assert_int_equal(snapshot_name(name, sizeof(name), "-x", "20261202T195501Z", why,
				       sizeof(why)), -EINVAL);
	cmdseq_free(&s);
}

static void
test_file_and_common_lines(void **state)
{
	const char *names[] = { "control", "vm.cfg", "root.img.gz" };
	struct cmdseq s;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(snapshot_cmd_file_copy(&s, "/v/web1-root.img", "/b/web1/S/.root.img.tmp"), 0);
	assert_int_equal(snapshot_cmd_compress(&s, "/b/web1/S/.root.img.tmp",
					       "/b/web1/S/root.img.gz"), 0);
	assert_int_equal(snapshot_cmd_sums(&s, "/b/web1/S", names, 3,
					   "/b/web1/S/SHA256SUMS.part"), 0);
	assert_int_equal(snapshot_cmd_verify(&s, "/b/web1/S"), 0);
	assert_int_equal(snapshot_cmd_unpack(&s, "xenmesh-unpack", "/b/web1/S/root.img.gz",
					     "/dev/drbd12", 16707584), 0);
	assert_int_equal(snapshot_cmd_devsize(&s, "/dev/drbd12"), 0);
	line_is(&s, 0, "cp --reflink=auto --sparse=always -- /v/web1-root.img "
		"/b/web1/S/.root.img.tmp");
	line_is(&s, 1, "gzip -1 -c -- /b/web1/S/.root.img.tmp > /b/web1/S/root.img.gz");
	line_is(&s, 2, "sha256sum -- control vm.cfg root.img.gz > /b/web1/S/SHA256SUMS.part "
		"(in /b/web1/S)");
	line_is(&s, 3, "sha256sum -c --strict -- SHA256SUMS (in /b/web1/S)");
	line_is(&s, 4, "xenmesh-unpack --limit 16707584 -- /b/web1/S/root.img.gz /dev/drbd12");
	line_is(&s, 5, "blockdev --getsize64 /dev/drbd12");
	assert_int_equal(s.steps[1].timeout_ms, SNAPSHOT_COPY_TIMEOUT_MS);
	/* relative paths and names with a slash are refused */
	assert_int_equal(snapshot_cmd_compress(&s, "x", "/y"), -EINVAL);
	assert_int_equal(snapshot_cmd_unpack(&s, "xenmesh-unpack", "/x", "y", 1), -EINVAL);
	assert_int_equal(snapshot_cmd_unpack(&s, "bin/xenmesh-unpack", "/x", "/y", 1), -EINVAL);
	assert_int_equal(snapshot_cmd_unpack(&s, "xenmesh-unpack", "/x", "/y", 0), -EINVAL);
	assert_int_equal(snapshot_cmd_devsize(&s, "drbd12"), -EINVAL);
	names[1] = "../etc/passwd";
	assert_int_equal(snapshot_cmd_sums(&s, "/b", names, 3, "/b/S"), -EINVAL);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.error, 0);
	cmdseq_free(&s);
}

/* blockdev --getsize64's answer */
static void
test_devsize_parse(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(snapshot_devsize_parse("10737082368\n", &b), 0);
	assert_int_equal(b, 10737082368ULL);
	assert_int_equal(snapshot_devsize_parse("", &b), -EBADMSG);
	assert_int_equal(snapshot_devsize_parse(NULL, &b), -EBADMSG);
	assert_int_equal(snapshot_devsize_parse("0\n", &b), -EBADMSG);
	assert_int_equal(snapshot_devsize_parse("-5\n", &b), -EBADMSG);
	assert_int_equal(snapshot_devsize_parse("12 bytes\n", &b), -EBADMSG);
	assert_int_equal(snapshot_devsize_parse("99999999999999999999999\n", &b), -EBADMSG);
}

static void
control_fill(struct backup_control *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->vm, sizeof(c->vm), "web1");
	backup_stamp(1796241301, c->stamp);
	c->time_s = 1796241301;
	snprintf(c->node, sizeof(c->node), "s1");
	snprintf(c->backend, sizeof(c->backend), "lvm");
	snprintf(c->state, sizeof(c->state), "running");
	snprintf(c->ha_priority, sizeof(c->ha_priority), "10");
	snprintf(c->ha_restart, sizeof(c->ha_restart), "always");
	snprintf(c->ha_hosts, sizeof(c->ha_hosts), "h1 h2");
	assert_int_equal(backup_control_add_vol(c, "root", 10ULL << 30), 0);
	assert_int_equal(backup_control_add_vol(c, "swap", 1ULL << 30), 0);
}

static void
test_control_round_trip(void **state)
{
	struct backup_control c, back;
	char text[BACKUP_CONTROL_MAX], why[200];

	(void)state;
	control_fill(&c);
	assert_string_equal(c.stamp, "20261202T195501Z");
	assert_true(backup_stamp_ok(c.stamp));
	assert_false(backup_stamp_ok("20261202-195501Z"));
	assert_false(backup_stamp_ok("../../etc"));
	assert_int_equal(backup_control_write(&c, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "\nvolume = root 10737418240 root.img.gz\n"));
	assert_non_null(strstr(text, "\nha_hosts = h1 h2\n"));
	assert_int_equal(backup_control_parse(text, &back, why, sizeof(why)), 0);
	assert_string_equal(back.vm, "web1");
	assert_string_equal(back.stamp, c.stamp);
	assert_int_equal(back.time_s, c.time_s);
	assert_string_equal(back.ha_hosts, "h1 h2");
	assert_int_equal(back.n_vols, 2);
	assert_string_equal(back.vols[1].disk, "swap");
	assert_int_equal(back.vols[1].size_bytes, 1ULL << 30);
	assert_string_equal(back.vols[1].file, "swap.img.gz");
	assert_int_equal(back.vols[1].data_bytes, 1ULL << 30);
	/* under DRBD: the data part, written only when less than the volume */
	c.vols[0].data_bytes = (10ULL << 30) - 335872;
	assert_int_equal(backup_control_write(&c, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "\nvolume = root 10737418240 root.img.gz 10737082368\n"
			       "volume = swap 1073741824 swap.img.gz\n"));
	assert_int_equal(backup_control_parse(text, &back, why, sizeof(why)), 0);
	assert_int_equal(back.vols[0].data_bytes, (10ULL << 30) - 335872);
	assert_int_equal(back.vols[1].data_bytes, 1ULL << 30);
	/* a duplicate disk, a bad name */
	assert_int_equal(backup_control_add_vol(&c, "root", 512), -EINVAL);
	assert_int_equal(backup_control_add_vol(&c, "../x", 512), -EINVAL);
	assert_int_equal(backup_control_add_vol(&c, "data", 0), -EINVAL);
	assert_int_equal(backup_control_write(&c, text, 100), -ENOSPC);
}

static void
control_bad(const char *text, const char *why_want)
{
	struct backup_control c;
	char why[200] = "";

	assert_int_equal(backup_control_parse(text, &c, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, why_want);
}

#define GOOD_HEAD "format = 1\nvm = web1\nstamp = 20261202T195501Z\ntime = 5\n" \
	"backend = file\nconfig = vm.cfg\n"

static void
test_control_damaged(void **state)
{
	(void)state;
	control_bad("", "control: no format");
	control_bad(GOOD_HEAD, "control: no volume");
	control_bad(GOOD_HEAD "volume = root 512 root.img.gz\nbogus = 1\n",
		    "control line 8: unknown key 'bogus'");
	control_bad(GOOD_HEAD "vm = web2\n", "control line 7: vm given twice");
	control_bad("format = 2\n", "control line 1: bad format '2'");
	control_bad(GOOD_HEAD "volume = root 512 ../../etc/shadow\n",
		    "control line 7: bad volume 'root 512 ../../etc/shadow'");
	control_bad(GOOD_HEAD "volume = root 5x root.img.gz\n",
		    "control line 7: bad volume 'root 5x root.img.gz'");
	control_bad(GOOD_HEAD "volume = root 512 root.img.gz extra\n",
		    "control line 7: bad volume 'root 512 root.img.gz extra'");
	control_bad(GOOD_HEAD "volume = root 512 root.img.gz 1024\n",
		    "control line 7: bad volume 'root 512 root.img.gz 1024'");
	control_bad(GOOD_HEAD "volume = root 512 root.img.gz 0\n",
		    "control line 7: bad volume 'root 512 root.img.gz 0'");
	control_bad(GOOD_HEAD "volume = root 512 root.img.gz 256 x\n",
		    "control line 7: bad volume 'root 512 root.img.gz 256 x'");
	control_bad(GOOD_HEAD "garbage line\n", "control line 7: not \"key = value\"");
	control_bad("format = 1\nvm = web1\nstamp = yesterday\n",
		    "control line 3: bad stamp 'yesterday'");
	control_bad("format = 1\nconfig = /etc/passwd\n",
		    "control line 2: bad config '/etc/passwd'");
}

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_sums(void **state)
{
	struct backup_control c;
	char why[200] = "", failed[200];

	(void)state;
	control_fill(&c);
	assert_int_equal(backup_sums_check(H64 "  control\n" H64 "  vm.cfg\n" H64
					   "  root.img.gz\n" H64 " *swap.img.gz\n", &c, why,
					   sizeof(why)), 0);
	assert_int_equal(backup_sums_check(H64 "  control\n" H64 "  vm.cfg\n" H64
					   "  root.img.gz\n", &c, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "SHA256SUMS does not cover swap.img.gz");
	assert_int_equal(backup_sums_check(H64 "  control\n" H64 "  control\n", &c, why,
					   sizeof(why)), -EBADMSG);
	assert_string_equal(why, "SHA256SUMS lists control twice");
	assert_int_equal(backup_sums_check(H64 "  /etc/passwd\n", &c, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "SHA256SUMS lists /etc/passwd, which is not part of the backup");
	assert_int_equal(backup_sums_check("abc  control\n", &c, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "SHA256SUMS: a malformed line");
	/* what sha256sum -c (coreutils 9.1) prints */
	backup_sums_failed("control: OK\nvm.cfg: OK\nroot.img.gz: FAILED\n"
			   "swap.img.gz: FAILED open or read\n", failed, sizeof(failed));
	assert_string_equal(failed, "root.img.gz, swap.img.gz");
	backup_sums_failed("control: OK\n", failed, sizeof(failed));
	assert_string_equal(failed, "");
}

static void
test_cfg_rewrite(void **state)
{
	const char *cfg =
		"# web1\n"
		"name = \"web1\"\n"
		"memory = 512\n"
		"maxmem=1024\n"
		"vif = [ 'mac=00:16:3e:01:02:03,bridge=xenbr0',\n"
		"        'bridge=xenbr1,mac=00:16:3e:01:02:04' ]\n"
		"disk = [ 'vdev=xvda, access=rw, target=xenmesh:root' ]\n"
		"ha_priority = 10\n";
	char *out, why[128] = "";

	(void)state;
	assert_int_equal(backup_cfg_rewrite(cfg, NULL, 0, false, &out, why, sizeof(why)), 0);
	assert_string_equal(out, cfg);
	free(out);
	assert_int_equal(backup_cfg_rewrite(cfg, "web1copy", 2048, true, &out, why,
					    sizeof(why)), 0);
	assert_string_equal(out,
		"# web1\n"
		"name = \"web1copy\"\n"
		"memory = 2048\n"
		"maxmem = 2048\n"
		"vif = [ 'bridge=xenbr0',\n"
		"        'bridge=xenbr1' ]\n"
		"disk = [ 'vdev=xvda, access=rw, target=xenmesh:root' ]\n"
		"ha_priority = 10\n");
	free(out);
	/* memory below maxmem leaves maxmem; no memory line: one is added */
	assert_int_equal(backup_cfg_rewrite("name='a'\nmaxmem = 4096\n", NULL, 256, false,
					    &out, why, sizeof(why)), 0);
	assert_string_equal(out, "name='a'\nmaxmem = 4096\nmemory = 256\n");
	free(out);
	assert_int_equal(backup_cfg_rewrite("memory = 1\n", "b", 0, false, &out, why,
					    sizeof(why)), -EINVAL);
	assert_null(out);
	assert_string_equal(why, "vm.cfg has no name line to replace");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_size),
		cmocka_unit_test(test_lvm_lines),
		cmocka_unit_test(test_file_and_common_lines),
		cmocka_unit_test(test_devsize_parse),
		cmocka_unit_test(test_control_round_trip),
		cmocka_unit_test(test_control_damaged),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_cfg_rewrite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
