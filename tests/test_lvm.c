/* Tests of storage/lvm.c: sizes, names, exact command lines through the
 * recorder, report parsing and error sentences on real lvm2 2.03.16
 * outputs (tests/data/lvm-*.txt).  Bad input first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdseq.h"
#include "lvm.h"
#include "runner.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

/* A file of tests/data without its first line, the "# origin: ..." note. */
static char *
data_load(const char *name)
{
	char path[512], *buf, *body;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/data/%s", TEST_SRCDIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_true(buf[0] == '#');
	body = strchr(buf, '\n');
	assert_non_null(body);
	memmove(buf, body + 1, strlen(body + 1) + 1);
	return buf;
}

/* ---- sizes ---- */

static void
size_bad(const char *text, int err, const char *why_expected)
{
	char why[256] = "";
	uint64_t b = 42;

	assert_int_equal(size_parse(text, &b, why, sizeof(why)), err);
	assert_int_equal(b, 0);
	if (why_expected)
		assert_string_equal(why, why_expected);
	else
		assert_true(why[0] != '\0');
}

static void
test_size_invalid(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(size_parse(NULL, &b, NULL, 0), -EINVAL);
	assert_int_equal(size_parse("64M", NULL, NULL, 0), -EINVAL);
	size_bad("12Q", -EINVAL,
		 "cannot read size '12Q': expected a number with K, M, G or T");
	size_bad("", -EINVAL, "cannot read size '': expected a number with K, M, G or T");
	size_bad("abc", -EINVAL, NULL);
	size_bad("-5", -EINVAL, NULL);
	size_bad("-64M", -EINVAL, NULL);
	size_bad("+64M", -EINVAL, NULL);
	size_bad(" 64M", -EINVAL, NULL);
	size_bad("64M ", -EINVAL, NULL);
	size_bad("64 M", -EINVAL, NULL);
	size_bad("M", -EINVAL, NULL);
	size_bad("64Mb", -EINVAL, NULL);        /* megabits? */
	size_bad("64MiBx", -EINVAL, NULL);
	size_bad("64iB", -EINVAL, NULL);
	size_bad("64MM", -EINVAL, NULL);
	size_bad("0x40M", -EINVAL, NULL);
	size_bad("1.5G", -EINVAL, "cannot read size '1.5G': expected a whole number "
		 "(with K, M, G or T: use a smaller unit instead of a fraction)");
	size_bad("1,5G", -EINVAL, NULL);
	size_bad("0", -EINVAL, "size '0' is zero");
	size_bad("0M", -EINVAL, "size '0M' is zero");
	size_bad("1000", -EINVAL, "size '1000' (1000 bytes) is not a multiple of 512 bytes");
	size_bad("513b", -EINVAL, NULL);
	size_bad("18446744073709551616", -ERANGE, "size '18446744073709551616' is too large");
	size_bad("99999999999999999999999", -ERANGE, NULL);
	size_bad("16777216T", -ERANGE, NULL);   /* 2^64 */
	size_bad("17179869184G", -ERANGE, NULL);
}

static void
size_ok(const char *text, uint64_t want)
{
	char why[256] = "";
	uint64_t b = 0;

	assert_int_equal(size_parse(text, &b, why, sizeof(why)), 0);
	assert_true(b == want);
}

static void
test_size_ok(void **state)
{
	(void)state;
	size_ok("67108864", 67108864);
	size_ok("512", 512);
	size_ok("512B", 512);
	size_ok("512b", 512);
	size_ok("1K", 1024);
	size_ok("4k", 4096);
	size_ok("64M", 64ULL << 20);
	size_ok("64MiB", 64ULL << 20);
	size_ok("64MB", 64ULL << 20);
	size_ok("64m", 64ULL << 20);
	size_ok("10G", 10ULL << 30);
	size_ok("10GiB", 10ULL << 30);
	size_ok("1536M", 1536ULL << 20);
	size_ok("2T", 2ULL << 40);
	size_ok("007M", 7ULL << 20);
	size_ok("16777215T", 16777215ULL << 40);
}

/* ---- names ---- */

static void
test_name_invalid(void **state)
{
	char why[256], long_name[200];

	(void)state;
	assert_int_equal(lvm_name_check(NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "logical volume name is empty");
	assert_int_equal(lvm_name_check("-x", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "logical volume name '-x' must not start with '-'");
	assert_int_equal(lvm_name_check(".", why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("..", why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("a b", why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("bad/name", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "logical volume name 'bad/name' has a character LVM "
			    "does not allow (only letters, digits, '+', '_', '.' and '-')");
	assert_int_equal(lvm_name_check("vm1\xc3\xa9", why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("snapshot1", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "logical volume name 'snapshot1': names starting with "
			    "\"snapshot\" are reserved by LVM");
	assert_int_equal(lvm_name_check("pvmove0", why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("x_mlog", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "logical volume name 'x_mlog': names containing "
			    "\"_mlog\" are reserved by LVM");
	assert_int_equal(lvm_name_check("vm1_rimage_0", why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_name_check("a_tmeta", why, sizeof(why)), -EINVAL);
	memset(long_name, 'a', 128);
	long_name[128] = '\0';
	assert_int_equal(lvm_name_check(long_name, why, sizeof(why)), -EINVAL);
	/* no why buffer is fine */
	assert_int_equal(lvm_name_check("", NULL, 0), -EINVAL);
}

static void
test_name_ok(void **state)
{
	char long_name[200];

	(void)state;
	assert_int_equal(lvm_name_check("vm1-disk0", NULL, 0), 0);
	assert_int_equal(lvm_name_check("web.3+x_y-z", NULL, 0), 0);
	assert_int_equal(lvm_name_check("..a", NULL, 0), 0);
	assert_int_equal(lvm_name_check("mysnapshot", NULL, 0), 0);
	memset(long_name, 'a', 127);
	long_name[127] = '\0';
	assert_int_equal(lvm_name_check(long_name, NULL, 0), 0);
}

/* ---- commands ---- */

static void
test_cmd_invalid(void **state)
{
	struct lvm_conf c = { .vg = "vgsan" };
	struct lvm_conf novg = { .vg = NULL }, badvg = { .vg = "vg san" };
	struct cmdseq s;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(lvm_cmd_create(NULL, &c, "a", 512), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, NULL, "a", 512), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, &novg, "a", 512), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, &badvg, "a", 512), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, &c, "snapshot", 512), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, &c, NULL, 512), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, &c, "a", 0), -EINVAL);
	assert_int_equal(lvm_cmd_create(&s, &c, "a", 1000), -EINVAL);
	assert_int_equal(lvm_cmd_remove(&s, &c, "a/b"), -EINVAL);
	assert_int_equal(lvm_cmd_remove(&s, &novg, "a"), -EINVAL);
	assert_int_equal(lvm_cmd_lvs(&s, &badvg), -EINVAL);
	assert_int_equal(lvm_cmd_vgs(&s, &novg), -EINVAL);
	assert_int_equal(lvm_cmd_lvs(NULL, &c), -EINVAL);
	/* nothing appended, no sticky error: the caller may go on */
	assert_int_equal(s.n, 0);
	assert_int_equal(s.error, 0);
	cmdseq_free(&s);
}

static void
noop_done(void *data, const struct cmdseq_outcome *o)
{
	int *rc = data;

	*rc = o->rc;
}

/* Runs s through an ordered recorder expecting exactly `lines`. */
static void
expect_lines(struct cmdseq *s, const char *const *lines)
{
	struct runner *r;
	char msg[512];
	size_t n = 0;
	int rc = 1;

	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	for (; lines[n]; n++)
		assert_int_equal(runner_recorder_expect(r, lines[n],
							&(struct runner_canned){ 0 }), 0);
	assert_int_equal(cmdseq_run(r, s, noop_done, &rc, NULL), 0);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(rc, 0);
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	assert_int_equal(runner_recorder_count(r), n);
	/* prefixes match on word boundaries: check the whole line too */
	for (size_t i = 0; i < n; i++)
		assert_string_equal(runner_recorder_get(r, i)->line, lines[i]);
	runner_close(r);
}

static void
test_cmd_lines(void **state)
{
	struct lvm_conf dm = { .vg = "vgsan" };
	struct lvm_conf nodm = { .vg = "vgsan", .no_devmapper = true };
	const char *const want_dm[] = {
		"lvcreate --yes -Wy -Zy -L 67108864b -n vm1-disk0 vgsan",
		"lvremove -f vgsan/vm1-disk0",
		"lvs --reportformat json -o lv_name,vg_name,lv_size,lv_attr,lv_path,lv_active --units b vgsan",
		"vgs --reportformat json --units b vgsan",
		NULL
	};
	const char *const want_nodm[] = {
		"lvcreate --driverloaded n --yes -an -Zn -L 10737418240b -n vm2-disk1 vgsan",
		"lvremove --driverloaded n -f vgsan/vm2-disk1",
		"lvs --driverloaded n --reportformat json -o lv_name,vg_name,lv_size,lv_attr,lv_path,lv_active --units b vgsan",
		"vgs --driverloaded n --reportformat json --units b vgsan",
		NULL
	};
	struct cmdseq s;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(lvm_cmd_create(&s, &dm, "vm1-disk0", 64ULL << 20), 0);
	assert_int_equal(lvm_cmd_remove(&s, &dm, "vm1-disk0"), 0);
	assert_int_equal(lvm_cmd_lvs(&s, &dm), 0);
	assert_int_equal(lvm_cmd_vgs(&s, &dm), 0);
	expect_lines(&s, want_dm);

	cmdseq_init(&s);
	assert_int_equal(lvm_cmd_create(&s, &nodm, "vm2-disk1", 10ULL << 30), 0);
	assert_int_equal(lvm_cmd_remove(&s, &nodm, "vm2-disk1"), 0);
	assert_int_equal(lvm_cmd_lvs(&s, &nodm), 0);
	assert_int_equal(lvm_cmd_vgs(&s, &nodm), 0);
	expect_lines(&s, want_nodm);
}

/* ---- reports ---- */

static void
lvs_bad(const char *json, const char *why_prefix)
{
	struct lvm_lv *lvs = (struct lvm_lv *)1;
	size_t n = 7;
	char why[256] = "";

	assert_int_equal(lvm_lvs_parse(json, &lvs, &n, why, sizeof(why)), -EBADMSG);
	assert_null(lvs);
	assert_int_equal(n, 0);
	if (strncmp(why, why_prefix, strlen(why_prefix)))
		fail_msg("why \"%s\" does not start with \"%s\"", why, why_prefix);
}

static void
test_lvs_invalid(void **state)
{
	struct lvm_lv *lvs;
	size_t n;

	(void)state;
	assert_int_equal(lvm_lvs_parse("{}", NULL, &n, NULL, 0), -EINVAL);
	assert_int_equal(lvm_lvs_parse("{}", &lvs, NULL, NULL, 0), -EINVAL);
	lvs_bad(NULL, "lvs: no output");
	lvs_bad("", "lvs: output is not JSON: it ends too early");
	lvs_bad("garbage", "lvs: output is not JSON: ");
	lvs_bad("  {\n \"report\": [", "lvs: output is not JSON: it ends too early");
	lvs_bad("{\"report\": []} x", "lvs: unexpected text after the JSON at byte 15");
	lvs_bad("[]", "lvs: no \"report\" list in the output");
	lvs_bad("{\"report\": 1}", "lvs: no \"report\" list in the output");
	lvs_bad("{\"report\": [{\"vg\": []}]}", "lvs: report entry 0 has no \"lv\" list");
	lvs_bad("{\"report\": [{\"lv\": [1]}]}", "lvs: lv row 0 is not an object");
	lvs_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\"}]}]}",
		"lvs: row 0 has no \"vg_name\" string");
	lvs_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"vg_name\":\"v\", "
		"\"lv_size\":\"64.00m\", \"lv_attr\":\"-wi-a-----\", \"lv_path\":\"/dev/v/a\", "
		"\"lv_active\":\"active\"}]}]}",
		"lvs: row 0: lv_size \"64.00m\" is not a byte count (was --units b given?)");
	lvs_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"vg_name\":\"v\", "
		"\"lv_size\":\"512B\", \"lv_attr\":\"-wi-a-----xxxxxxxxxxxxxxx\", "
		"\"lv_path\":\"/dev/v/a\", \"lv_active\":\"active\"}]}]}",
		"lvs: row 0 has a field too long");
	lvs_bad("{\"report\": [{\"lv\": [{\"lv_name\":5, \"vg_name\":\"v\"}]}]}",
		"lvs: row 0 has no \"lv_name\" string");
}

static void
test_lvs_captured(void **state)
{
	struct lvm_lv *lvs;
	size_t n;
	char why[256];
	char *text;

	(void)state;
	text = data_load("lvm-lvs-vgsan.txt");
	assert_int_equal(lvm_lvs_parse(text, &lvs, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(lvs[0].name, "vm1-root");
	assert_string_equal(lvs[0].vg, "vgsan");
	assert_true(lvs[0].size_bytes == 67108864);
	assert_string_equal(lvs[0].attr, "-wi-XX----");
	assert_string_equal(lvs[0].path, "/dev/vgsan/vm1-root");
	assert_false(lvs[0].active);            /* "unknown" without device-mapper */
	assert_string_equal(lvs[1].name, "vm1-swap");
	assert_true(lvs[1].size_bytes == 16777216);
	free(lvs);
	free(text);

	text = data_load("lvm-lvs.txt");
	assert_int_equal(lvm_lvs_parse(text, &lvs, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(lvs[1].name, "vm2-disk0");
	assert_string_equal(lvs[1].vg, "xmlvmcap");
	assert_true(lvs[1].size_bytes == 8388608);
	free(lvs);
	free(text);

	text = data_load("lvm-lvs-empty.txt");
	lvs = (struct lvm_lv *)1;
	assert_int_equal(lvm_lvs_parse(text, &lvs, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_null(lvs);
	free(text);
}

static void
test_lvs_active(void **state)
{
	/* with device-mapper (the QEMU tier): lv_active "active", attr 'a' */
	const char *json = "{\"report\": [{\"lv\": ["
		"{\"lv_name\":\"a\", \"vg_name\":\"v\", \"lv_size\":\"512B\", "
		"\"lv_attr\":\"-wi-ao----\", \"lv_path\":\"/dev/v/a\", \"lv_active\":\"active\"},"
		"{\"lv_name\":\"b\", \"vg_name\":\"v\", \"lv_size\":\"1024B\", "
		"\"lv_attr\":\"-wi-------\", \"lv_path\":\"/dev/v/b\", \"lv_active\":\"\"}"
		"]}, {\"lv\": [{\"lv_name\":\"c\", \"vg_name\":\"w\", \"lv_size\":\"0B\", "
		"\"lv_attr\":\"-wi-a-----\", \"lv_path\":\"/dev/w/c\", \"lv_active\":\"local exclusive\"}]}]}";
	struct lvm_lv *lvs;
	size_t n;

	(void)state;
	assert_int_equal(lvm_lvs_parse(json, &lvs, &n, NULL, 0), 0);
	assert_int_equal(n, 3);
	assert_true(lvs[0].active);
	assert_false(lvs[1].active);
	assert_true(lvs[2].active);
	assert_string_equal(lvs[2].vg, "w");
	free(lvs);
}

static void
test_vgs(void **state)
{
	struct lvm_vg vg;
	char why[256];
	char *text;

	(void)state;
	assert_int_equal(lvm_vgs_parse("{}", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(lvm_vgs_parse("nope", &vg, why, sizeof(why)), -EBADMSG);
	assert_int_equal(lvm_vgs_parse("{\"report\": [{\"lv\": []}]}", &vg, why,
				       sizeof(why)), -EBADMSG);
	assert_string_equal(why, "vgs: report entry 0 has no \"vg\" list");
	assert_int_equal(lvm_vgs_parse("{\"report\": [{\"vg\": [{\"vg_name\":\"a\"},"
				       "{\"vg_name\":\"b\"}]}]}", &vg, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "vgs: 2 volume groups reported, one expected");
	assert_int_equal(lvm_vgs_parse("{\"report\": [{\"vg\": [{\"vg_name\":\"a\", "
				       "\"vg_size\":\"1024B\", \"vg_free\":\"lots\", "
				       "\"lv_count\":\"1\"}]}]}", &vg, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "vgs: volume group a: no byte count in \"vg_free\"");
	assert_int_equal(lvm_vgs_parse("{\"report\": [{\"vg\": [{\"vg_name\":\"a\", "
				       "\"vg_size\":\"1024B\", \"vg_free\":\"0B\", "
				       "\"lv_count\":\"1B\"}]}]}", &vg, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "vgs: volume group a: no number in \"lv_count\"");

	/* vgs of a missing VG prints an empty report (and exits 5) */
	text = data_load("lvm-vgs-missing-vg.txt");
	assert_int_equal(lvm_vgs_parse(text, &vg, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "volume group not found (vgs reported none)");
	free(text);

	text = data_load("lvm-vgs-vgsan.txt");
	assert_int_equal(lvm_vgs_parse(text, &vg, why, sizeof(why)), 0);
	assert_string_equal(vg.name, "vgsan");
	assert_true(vg.size_bytes == 205520896);
	assert_true(vg.free_bytes == 121634816);
	assert_int_equal(vg.lv_count, 2);
	free(text);

	text = data_load("lvm-vgs.txt");
	assert_int_equal(lvm_vgs_parse(text, &vg, why, sizeof(why)), 0);
	assert_string_equal(vg.name, "xmlvmcap");
	assert_true(vg.size_bytes == 62914560);
	assert_true(vg.free_bytes == 37748736);
	assert_int_equal(vg.lv_count, 2);
	free(text);
}

/* ---- errors ---- */

static void
classify_file(const char *file, int err, const char *sentence)
{
	char why[256] = "";
	char *text = data_load(file);

	assert_int_equal(lvm_error_classify(text, why, sizeof(why)), err);
	assert_string_equal(why, sentence);
	free(text);
}

static void
test_error_classify(void **state)
{
	char why[256];

	(void)state;
	/* nothing to go on first */
	assert_int_equal(lvm_error_classify(NULL, why, sizeof(why)), -EIO);
	assert_string_equal(why, "lvm failed without an error message");
	assert_int_equal(lvm_error_classify("", why, sizeof(why)), -EIO);
	classify_file("lvm-err-created-ok.txt", -EIO, "lvm failed without an error message");
	assert_int_equal(lvm_error_classify("  something odd\n  and more\n", why,
					    sizeof(why)), -EIO);
	assert_string_equal(why, "lvm failed: something odd");
	classify_file("lvm-err-reserved-name.txt", -EIO,
		      "lvm failed: Names starting \"snapshot\" are reserved. "
		      "Please choose a different LV name.");
	/* the real ones */
	classify_file("lvm-err-missing-vg.txt", -ENOENT, "volume group nosuchvg not found");
	classify_file("lvm-err-missing-lv.txt", -ENOENT,
		      "logical volume xmlvmcap/nosuchlv not found");
	classify_file("lvm-err-lv-exists.txt", -EEXIST,
		      "logical volume vm1-disk0 already exists in volume group xmlvmcap");
	classify_file("lvm-err-no-space.txt", -ENOSPC,
		      "volume group xmlvmcap has not enough free space: 9 extents free, "
		      "256 needed");
	classify_file("lvm-err-in-use.txt", -EBUSY, "logical volume vgsan/vm1-root is in use (open)");
	assert_int_equal(lvm_error_classify("  Logical volume vgsan/x contains a filesystem in use.\n",
					    why, sizeof(why)), -EBUSY);
	assert_string_equal(why, "logical volume vgsan/x is in use (open)");
	assert_int_equal(lvm_error_classify("  Can't remove open logical volume \"x\"\n",
					    why, sizeof(why)), -EBUSY);
	/* no why buffer */
	assert_int_equal(lvm_error_classify("  Volume group \"v\" not found\n", NULL, 0),
			 -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_invalid),
		cmocka_unit_test(test_size_ok),
		cmocka_unit_test(test_name_invalid),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_cmd_invalid),
		cmocka_unit_test(test_cmd_lines),
		cmocka_unit_test(test_lvs_invalid),
		cmocka_unit_test(test_lvs_captured),
		cmocka_unit_test(test_lvs_active),
		cmocka_unit_test(test_vgs),
		cmocka_unit_test(test_error_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
