/* Tests of agent/xlcfg.c (xl.cfg through libxlutil) and ha/vmconf.c.
 *
 * Golden cases in tests/xlcfg/: NAME.cfg beside NAME.expected.  A bad-*
 * case must fail with -EINVAL and exactly the message in .expected (the
 * file is named NAME.cfg in messages); a good-* case must parse and dump
 * to exactly .expected (every field, key=value).  The expected files are
 * written by hand from the config, not captured from a run.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmconf.h"
#include "xlcfg.h"

#define MIN_BAD_CASES 20
#define MIN_GOOD_CASES 5

static const char *
test_srcdir(void)
{
#ifdef TEST_SRCDIR
	return TEST_SRCDIR;
#else
	static char dir[PATH_MAX];

	if (!dir[0]) {
		char file[PATH_MAX];

		snprintf(file, sizeof(file), "%s", __FILE__);
		snprintf(dir, sizeof(dir), "%s", dirname(file));
	}
	return dir;
#endif
}

static void
test_path(char *out, size_t len, const char *rel)
{
	int n = snprintf(out, len, "%s/%s", test_srcdir(), rel);

	assert_true(n > 0 && (size_t)n < len);
}

/* The whole file; *len its size (an empty file is ""). */
static char *
read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		buf = strdup("");
		n = 0;
	}
	*len = (size_t)n;
	return buf;
}

static void
write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
dump_names(FILE *f, const char *key, const char (*names)[VM_NAME_MAX],
	   uint32_t n)
{
	uint32_t i;

	fprintf(f, "%s=", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", names[i]);
	fputc('\n', f);
}

/* Every field of c as key=value lines; free() the result. */
static char *
dump_vm(const struct vm_config *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	uint32_t i;

	assert_non_null(f);
	fprintf(f, "name=%s\ntype=%s\nmemory_mb=%llu\nmaxmem_mb=%llu\n"
		"vcpus=%u\nmaxvcpus=%u\nkernel=%s\nramdisk=%s\nextra=%s\n"
		"root=%s\nbootloader=%s\nuuid=%s\non_poweroff=%s\n"
		"on_reboot=%s\non_crash=%s\n", c->name, vm_type_name(c->type),
		(unsigned long long)c->memory_mb,
		(unsigned long long)c->maxmem_mb, c->vcpus, c->maxvcpus,
		c->kernel, c->ramdisk, c->extra, c->root, c->bootloader,
		c->uuid, vm_action_name(c->on_poweroff),
		vm_action_name(c->on_reboot), vm_action_name(c->on_crash));
	fprintf(f, "disks=%u\n", c->n_disks);
	for (i = 0; i < c->n_disks; i++)
		fprintf(f, "disk%u.spec=%s\ndisk%u.target=%s\ndisk%u.vdev=%s\n"
			"disk%u.format=%s\ndisk%u.readonly=%d\n",
			i, c->disks[i].spec, i, c->disks[i].target, i,
			c->disks[i].vdev, i, c->disks[i].format, i,
			c->disks[i].readonly);
	fprintf(f, "vifs=%u\n", c->n_vifs);
	for (i = 0; i < c->n_vifs; i++)
		fprintf(f, "vif%u.spec=%s\nvif%u.mac=%s\nvif%u.bridge=%s\n",
			i, c->vifs[i].spec, i, c->vifs[i].mac, i,
			c->vifs[i].bridge);
	fprintf(f, "ha.priority=%u\nha.restart=%s\nha.max_restarts=%u\n"
		"ha.restart_window_s=%u\n", c->ha.priority,
		vm_restart_name(c->ha.restart), c->ha.max_restarts,
		c->ha.restart_window_s);
	dump_names(f, "ha.hosts", c->ha.hosts, c->ha.n_hosts);
	fprintf(f, "ha.anti_affinity=%s\n", c->ha.anti_affinity);
	dump_names(f, "ha.start_after", c->ha.after, c->ha.n_after);
	assert_int_equal(fclose(f), 0);
	return out;
}

static int
parse_str(const char *text, struct vm_config *c, char *err, size_t errlen)
{
	return xlcfg_parse(text, strlen(text), "t.cfg", c, err, errlen);
}

/* ---- invalid input ---------------------------------------------------- */

static void
test_parse_invalid_args(void **state)
{
	struct vm_config c;
	char err[256];

	(void)state;
	assert_int_equal(xlcfg_parse(NULL, 0, "t.cfg", &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.cfg: no text or no output");
	assert_int_equal(xlcfg_parse("", 0, "t.cfg", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(xlcfg_parse_file(NULL, &c, err, sizeof(err)), -EINVAL);
	/* No error buffer at all is allowed. */
	assert_int_equal(parse_str("name = 1", &c, NULL, 0), -EINVAL);
}

static void
test_parse_too_large(void **state)
{
	size_t len = XLCFG_TEXT_MAX + 1;
	char *text = malloc(len), err[256];
	struct vm_config c;

	(void)state;
	assert_non_null(text);
	memset(text, '#', len);
	assert_int_equal(xlcfg_parse(text, len, "big.cfg", &c, err,
				     sizeof(err)), -EFBIG);
	assert_string_equal(err, "big.cfg: larger than 1048576 bytes");
	free(text);
}

static void
test_parse_nul_byte(void **state)
{
	static const char text[] = "name = \"a\"\nmemory = 5\0\n";
	struct vm_config c;
	char err[256];

	(void)state;
	assert_int_equal(xlcfg_parse(text, sizeof(text) - 1, "nul.cfg", &c, err,
				     sizeof(err)), -EINVAL);
	assert_string_equal(err, "nul.cfg:2: NUL byte in line");
}

/* The filename defaults; a short buffer gets a terminated prefix. */
static void
test_parse_errbuf(void **state)
{
	struct vm_config c;
	char err[8];

	(void)state;
	assert_int_equal(xlcfg_parse("memory = 1\n", 11, NULL, &c, err,
				     sizeof(err)), -EINVAL);
	assert_string_equal(err, "(config");
}

/* On error *out is untouched. */
static void
test_parse_error_keeps_out(void **state)
{
	struct vm_config c, before;
	char err[256];

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	before = c;
	assert_int_equal(parse_str("name = \"a\"\nmemory = 1\nvfb = []\n", &c,
				   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.cfg:3: key 'vfb' is not supported by "
			    "xenmesh's xl driver; it would be dropped");
	assert_memory_equal(&c, &before, sizeof(c));
}

/* Keys the scanner must see however they are written. */
static void
test_parse_unsupported_anywhere(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "name = \"a\"; memory = 1; cpus = \"0-3\"\n",
		  "t.cfg:1: key 'cpus' is not supported" },
		{ "name = \"a\"\nmemory = 1 # x = 1\n  vnc=1\n",
		  "t.cfg:3: key 'vnc' is not supported" },
		{ "name = \"a # b\"\nmemory = [ 'x;\\' y = 1',\n 2 ]\nzz = 3",
		  "t.cfg:4: key 'zz' is not supported" },
		{ "name = \"a\"\nmemory = 1\nha_hosts = []\nha_x = \"y\"\n",
		  "t.cfg:4: unknown HA key ha_x; known: ha_priority, " },
		{ "name = \"a\"\nmemory = 1\nextra += \"a\"\nextra = \"b\"\n",
		  "t.cfg:4: key 'extra' is set twice (first on line 3)" },
	};
	struct vm_config c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse_str(cases[i].text, &c, err, sizeof(err)),
				 -EINVAL);
		assert_memory_equal(err, cases[i].err, strlen(cases[i].err));
	}
}

static void
test_parse_file_errors(void **state)
{
	char dir[64], err[512], want[600];
	struct vm_config c;

	(void)state;
	assert_int_equal(xlcfg_parse_file("/nonexistent/a.cfg", &c, err,
					  sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/a.cfg: No such file or "
			    "directory");
	snprintf(dir, sizeof(dir), "/tmp/test_xlcfg.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(xlcfg_parse_file(dir, &c, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	assert_string_equal(err, want);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_vmconf_helpers_invalid(void **state)
{
	enum vm_action a = VM_ACTION_DESTROY;
	enum vm_restart r = VM_RESTART_ALWAYS;
	enum vm_type t = VM_TYPE_PV;
	char name[VM_NAME_MAX + 1];

	(void)state;
	assert_int_equal(vm_type_parse("PV", &t), -EINVAL);
	assert_int_equal(vm_type_parse(NULL, &t), -EINVAL);
	assert_int_equal(vm_action_parse("reboot", &a), -EINVAL);
	assert_int_equal(vm_restart_parse("", &r), -EINVAL);
	assert_int_equal(t, VM_TYPE_PV);
	assert_string_equal(vm_type_name(0), "invalid");
	assert_string_equal(vm_action_name(99), "invalid");
	assert_string_equal(vm_restart_name(0), "invalid");
	assert_false(vm_name_valid(NULL));
	assert_false(vm_name_valid(""));
	assert_false(vm_name_valid("-x"));
	assert_false(vm_name_valid(".x"));
	assert_false(vm_name_valid("a/b"));
	assert_false(vm_name_valid("a b"));
	memset(name, 'a', VM_NAME_MAX);
	name[VM_NAME_MAX] = '\0';
	assert_false(vm_name_valid(name));
	name[VM_NAME_MAX - 1] = '\0';   /* 63 characters */
	assert_true(vm_name_valid(name));
	assert_false(vm_uuid_valid("6b3f1a2c-0d4e-4f5a-8b9c-0d1e2f3a4b5c0"));
	assert_false(vm_uuid_valid("6b3f1a2c0d4e-4f5a-8b9c-0d1e2f3a4b5c-"));
	assert_false(vm_uuid_valid("6b3f1a2c-0d4e-4f5a-8b9c-0d1e2f3a4b5g"));
	assert_false(vm_mac_valid("00:16:3e:00:00"));
	assert_false(vm_mac_valid("00:16:3e:00:00:01:"));
	assert_false(vm_mac_valid("00-16-3e-00-00-01"));
	assert_false(vm_mac_valid("00:00:00:00:00:00"));
	assert_false(vm_mac_valid("ff:ff:ff:ff:ff:ff"));
	assert_false(vm_mac_valid("0:16:3e:00:00:01"));
}

static void
test_vif_parse_invalid(void **state)
{
	struct vm_vif v;
	char why[512];

	(void)state;
	assert_int_equal(vm_vif_parse("bridge", &v, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "vif 'bridge': 'bridge' is not key=value");
	assert_int_equal(vm_vif_parse("bridge=a,bridge=b", &v, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "vif 'bridge=a,bridge=b': bridge given twice");
	assert_int_equal(vm_vif_parse("bridge=br/0", &v, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "vif 'bridge=br/0': invalid bridge name 'br/0' "
			    "(1..15 of A-Z a-z 0-9 _ . -)");
	assert_int_equal(vm_vif_parse("bridge=0123456789abcdef", &v, why,
				      sizeof(why)), -EINVAL);
	assert_int_equal(vm_vif_parse("rate=10Mb/s", &v, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "vif 'rate=10Mb/s': parameter 'rate' is not "
			    "supported by xenmesh's xl driver; it would be "
			    "dropped");
}

/* A struct that did not come from the parser (e.g. off the wire). */
static void
test_config_check_invalid(void **state)
{
	struct vm_config c;
	char why[256];

	(void)state;
	assert_int_equal(vm_config_check(NULL, why, sizeof(why)), -EINVAL);
	vm_config_init(&c);
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid VM name");
	strcpy(c.name, "a");
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "memory 0 MB is out of range 1..16777216");
	c.memory_mb = c.maxmem_mb = 64;
	c.maxvcpus = 1;
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), 0);
	c.ha.restart_window_s = 0;
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "ha_restart_window 0 is out of range 1..86400");
	c.ha.restart_window_s = 1;
	c.ha.n_after = 1;
	strcpy(c.ha.after[0], "a");
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "ha_start_after names the VM itself (a)");
	c.ha.n_after = 0;
	c.n_disks = 2;
	strcpy(c.disks[0].vdev, "xvda");
	strcpy(c.disks[1].vdev, "xvda");
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "vdev xvda is used by two disks");
	c.n_disks = 0;
	memset(c.kernel, 'k', sizeof(c.kernel));
	assert_int_equal(vm_config_check(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unterminated string");
}

/* ---- golden cases --------------------------------------------------------- */

static int
cfg_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".cfg") == 0;
}

/* Run every case whose name starts with prefix; returns how many. */
static int
run_golden(const char *prefix)
{
	char dir[PATH_MAX], path[PATH_MAX * 2], err[1024];
	struct dirent **ents;
	int n, i, count = 0;

	test_path(dir, sizeof(dir), "xlcfg");
	n = scandir(dir, &ents, cfg_filter, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		const char *file = ents[i]->d_name;
		char *text, *want, *got;
		struct vm_config c;
		size_t len, wlen;
		int r;

		if (strncmp(file, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		text = read_text(path, &len);
		assert_non_null(text);
		snprintf(path + strlen(path) - 4, 10, ".expected");
		want = read_text(path, &wlen);
		if (!want)
			fail_msg("%s: no .expected beside it", file);
		r = xlcfg_parse(text, len, file, &c, err, sizeof(err));
		if (strcmp(prefix, "bad-") == 0) {
			if (r != -EINVAL)
				fail_msg("%s: returned %d, want -EINVAL", file, r);
			got = malloc(strlen(err) + 2);
			assert_non_null(got);
			sprintf(got, "%s\n", err);
		} else {
			if (r != 0)
				fail_msg("%s: returned %d: %s", file, r, err);
			got = dump_vm(&c);
		}
		if (strcmp(got, want) != 0)
			fail_msg("%s:\n--- got\n%s--- want\n%s", file, got, want);
		free(got);
		free(want);
		free(text);
		count++;
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return count;
}

static void
test_golden_bad(void **state)
{
	(void)state;
	assert_true(run_golden("bad-") >= MIN_BAD_CASES);
}

/* ---- happy path ------------------------------------------------------------ */

static void
test_golden_good(void **state)
{
	(void)state;
	assert_true(run_golden("good-") >= MIN_GOOD_CASES);
}

/* xlcfg_parse_file gives what xlcfg_parse gives, path in messages. */
static void
test_parse_file(void **state)
{
	static const char good[] = "name = \"f1\"\nmemory = 64\n";
	static const char bad[] = "name = \"f1\"\nmemory = 64\nbootargs = \"\"\n";
	char dir[64], path[128], err[512], want[600];
	struct vm_config c;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_xlcfg.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f1.cfg", dir);
	write_text(path, good, sizeof(good) - 1);
	assert_int_equal(xlcfg_parse_file(path, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.name, "f1");
	assert_int_equal(c.memory_mb, 64);
	write_text(path, bad, sizeof(bad) - 1);
	assert_int_equal(xlcfg_parse_file(path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: key 'bootargs' is not supported by "
		 "xenmesh's xl driver; it would be dropped", path);
	assert_string_equal(err, want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Exactly VM_MAX_DISKS disks and VM_MAX_VIFS vifs are fine. */
static void
test_parse_limits(void **state)
{
	char text[4096], err[256];
	struct vm_config c;
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "name = \"lim\"\nmemory = 1\n"
			     "disk = [");
	for (i = 0; i < VM_MAX_DISKS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "\"file:/d%d,xvd%c,w\",", i, 'a' + i);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "]\nvif = [");
	for (i = 0; i < VM_MAX_VIFS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "\"mac=00:16:3e:00:00:%02x\",", i + 1);
	snprintf(text + n, sizeof(text) - n, "]\n");
	assert_int_equal(parse_str(text, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_disks, VM_MAX_DISKS);
	assert_string_equal(c.disks[15].vdev, "xvdp");
	assert_int_equal(c.n_vifs, VM_MAX_VIFS);
	assert_string_equal(c.vifs[7].mac, "00:16:3e:00:00:08");
	assert_int_equal(vm_config_check(&c, err, sizeof(err)), 0);
}

static void
test_vmconf_helpers(void **state)
{
	static const char *const actions[] = {
		"destroy", "restart", "rename-restart", "preserve",
		"coredump-destroy", "coredump-restart", "soft-reset",
	};
	enum vm_restart r;
	enum vm_action a;
	enum vm_type t;
	size_t i;

	(void)state;
	assert_int_equal(vm_type_parse("pvh", &t), 0);
	assert_int_equal(t, VM_TYPE_PVH);
	assert_string_equal(vm_type_name(VM_TYPE_HVM), "hvm");
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		assert_int_equal(vm_action_parse(actions[i], &a), 0);
		assert_int_equal(a, VM_ACTION_DESTROY + (int)i);
		assert_string_equal(vm_action_name(a), actions[i]);
	}
	assert_int_equal(vm_restart_parse("on-failure", &r), 0);
	assert_int_equal(r, VM_RESTART_ON_FAILURE);
	assert_string_equal(vm_restart_name(VM_RESTART_NEVER), "never");
	assert_true(vm_name_valid("Web_01.prod-a"));
	assert_true(vm_uuid_valid("6B3F1A2C-0d4e-4f5a-8b9c-0d1e2f3a4b5c"));
	assert_true(vm_mac_valid("00:16:3E:0a:0b:0c"));
	assert_true(vm_mac_valid("02:00:00:00:00:00"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_invalid_args),
		cmocka_unit_test(test_parse_too_large),
		cmocka_unit_test(test_parse_nul_byte),
		cmocka_unit_test(test_parse_errbuf),
		cmocka_unit_test(test_parse_error_keeps_out),
		cmocka_unit_test(test_parse_unsupported_anywhere),
		cmocka_unit_test(test_parse_file_errors),
		cmocka_unit_test(test_vmconf_helpers_invalid),
		cmocka_unit_test(test_vif_parse_invalid),
		cmocka_unit_test(test_config_check_invalid),
		cmocka_unit_test(test_golden_bad),
		cmocka_unit_test(test_golden_good),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_vmconf_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
