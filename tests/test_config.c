/* Tests of agent/config.c.
 *
 * Golden cases live in tests/config: NAME.conf beside NAME.expected, which
 * holds either the exact error (path written as the basename) or "ok" and
 * a dump of every field.  bad-* cases must fail, good-* cases must load.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MIN_BAD_CASES 15
#define MIN_GOOD_CASES 3

/* The tests/ directory: from the Makefile, else beside this source file
 * (right when compiled by hand as ../tests/test_config.c from build/). */
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

/* test_srcdir()/rel into out; a truncated path fails the test. */
static void
test_path(char *out, size_t len, const char *rel)
{
	int n = snprintf(out, len, "%s/%s", test_srcdir(), rel);

	assert_true(n > 0 && (size_t)n < len);
}

static char *
read_text(const char *path)
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
		/* An empty file: empty string. */
		free(buf);
		buf = strdup("");
	}
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

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	case LOG_DEBUG: return "debug";
	}
	return "?";
}

/* The "ok" form of an .expected file; path shown as its basename. */
static void
dump_config(const struct xm_config *c, char *out, size_t len)
{
	const char *base = strrchr(c->path, '/');

	snprintf(out, len,
		 "ok\npath = %s\nrole = %s\nmemory = %llu\n"
		 "state_dir = \"%s\"\nrun_dir = \"%s\"\nlevel = %s\n"
		 "stderr = %s\nread_group = \"%s\"\nadmin_group = \"%s\"\n"
		 "group = \"%s\"\ndriver = %s\nguest = \"%s\"\n"
		 "reserve = %llu\nwatchdog = %s\nwatchdog_path = \"%s\"\n"
		 "watchdog_timeout = %llu\n",
		 base ? base + 1 : c->path,
		 c->role == NODE_ROLE_DOM0 ? "dom0" :
		 c->role == NODE_ROLE_SAN ? "san" : "unset",
		 (unsigned long long)c->mem_total_mb, c->state_dir, c->run_dir,
		 level_name(c->log_level), c->log_to_stderr ? "yes" : "no",
		 c->read_group, c->admin_group, c->cpg_group, c->hv_driver,
		 c->hv_guest, (unsigned long long)c->dom0_reserve_mb,
		 c->watchdog, c->watchdog_path,
		 (unsigned long long)c->watchdog_timeout_s);
}

static void
make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* ---- invalid input ---------------------------------------------------- */

static void
test_load_invalid_args(void **state)
{
	struct xm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_load(NULL, &cfg, err, sizeof(err)), -EINVAL);
	assert_int_equal(config_load("/x", NULL, err, sizeof(err)), -EINVAL);
}

static void
test_load_missing_file(void **state)
{
	struct xm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_load("/nonexistent/xenmesh.conf", &cfg, err,
				     sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/xenmesh.conf: No such file or "
			    "directory");
}

static void
test_load_directory(void **state)
{
	char dir[64], err[256], want[320];
	struct xm_config cfg;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_int_equal(config_load(dir, &cfg, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	assert_string_equal(err, want);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_load_nul_byte(void **state)
{
	static const char text[] = "[node]\nrole = dom0\nmem\0ory = 1\n";
	char dir[64], path[128], err[256], want[320];
	struct xm_config cfg;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/nul.conf", dir);
	write_text(path, text, sizeof(text) - 1);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: NUL byte in line", path);
	assert_string_equal(err, want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A short error buffer gets a truncated, terminated message. */
static void
test_load_small_errbuf(void **state)
{
	char path[PATH_MAX], err[8];
	struct xm_config cfg;

	(void)state;
	test_path(path, sizeof(path), "config/bad-enum-role.conf");
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, path, sizeof(err) - 1);
	/* No buffer at all is allowed. */
	assert_int_equal(config_load(path, &cfg, NULL, 0), -EINVAL);
}

/* On error the caller's config is untouched (a reload keeps it). */
static void
test_load_error_keeps_config(void **state)
{
	struct xm_config cfg, before;
	char path[PATH_MAX], err[256];

	(void)state;
	test_path(path, sizeof(path), "config/bad-duplicate-key.conf");
	memset(&cfg, 0x5a, sizeof(cfg));
	before = cfg;
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

/* ---- happy path ------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct xm_config cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.path, "");
	assert_int_equal(cfg.role, 0);
	assert_int_equal(cfg.mem_total_mb, 0);
	assert_string_equal(cfg.state_dir, "/var/lib/xenmesh");
	assert_string_equal(cfg.run_dir, "/run/xenmesh");
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.log_to_stderr, 0);
	assert_string_equal(cfg.read_group, "");
	assert_string_equal(cfg.admin_group, "");
	assert_string_equal(cfg.cpg_group, "xenmesh");
}

/* The shipped sample loads, and its commented defaults are the real ones:
 * uncommenting every "#key = value" line changes nothing. */
static void
test_sample_config(void **state)
{
	char sample[PATH_MAX], dir[64], path[128], err[512];
	char got[1024], want[1024];
	struct xm_config cfg, def;
	char *text, *out, *line, *save = NULL;
	size_t n = 0, uncommented = 0;

	(void)state;
	test_path(sample, sizeof(sample), "../agent/xenmesh.conf");
	assert_int_equal(config_load(sample, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, sample);

	config_defaults(&def);
	def.role = NODE_ROLE_DOM0;
	snprintf(def.path, sizeof(def.path), "%s", sample);
	dump_config(&cfg, got, sizeof(got));
	dump_config(&def, want, sizeof(want));
	assert_string_equal(got, want);

	text = read_text(sample);
	assert_non_null(text);
	out = calloc(1, strlen(text) + 1);
	assert_non_null(out);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z') {
			line++;
			uncommented++;
		}
		n += (size_t)sprintf(out + n, "%s\n", line);
	}
	assert_int_equal(uncommented, 40);       /* every key but role */

	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/all.conf", dir);
	write_text(path, out, n);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	snprintf(def.path, sizeof(def.path), "%s", path);
	dump_config(&cfg, got, sizeof(got));
	dump_config(&def, want, sizeof(want));
	assert_string_equal(got, want);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(out);
	free(text);
}

/* ---- golden cases ----------------------------------------------------- */

static void
test_golden(void **state)
{
	const char *name = *state;
	char dir[PATH_MAX], conf[PATH_MAX], expath[PATH_MAX];
	char err[1024], got[16384];
	struct xm_config cfg, before;
	size_t dlen;
	char *expected;
	int r, n, bad;

	test_path(dir, sizeof(dir), "config");
	n = snprintf(conf, sizeof(conf), "%s/%s.conf", dir, name);
	assert_true(n > 0 && (size_t)n < sizeof(conf));
	n = snprintf(expath, sizeof(expath), "%s/%s.expected", dir, name);
	assert_true(n > 0 && (size_t)n < sizeof(expath));
	expected = read_text(expath);
	if (!expected)
		fail_msg("%s: no %s.expected beside it", name, name);

	bad = strncmp(name, "bad-", 4) == 0;
	if (!bad && strncmp(name, "good-", 5) != 0)
		fail_msg("%s: case names start with bad- or good-", name);

	memset(&cfg, 0x5a, sizeof(cfg));
	before = cfg;
	r = config_load(conf, &cfg, err, sizeof(err));
	if (bad) {
		assert_int_equal(r, -EINVAL);
		assert_memory_equal(&cfg, &before, sizeof(cfg));
		/* The error names the file as given; the golden text uses its
		 * basename so that it does not depend on the checkout. */
		dlen = strlen(dir);
		assert_true(strncmp(err, dir, dlen) == 0 && err[dlen] == '/');
		snprintf(got, sizeof(got), "%s\n", err + dlen + 1);
	} else {
		if (r != 0)
			fail_msg("%s: expected ok, got %d: %s", name, r, err);
		assert_string_equal(cfg.path, conf);
		dump_config(&cfg, got, sizeof(got));
	}
	assert_string_equal(got, expected);
	free(expected);
}

static int
is_conf(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int
run_golden(void)
{
	char dir[PATH_MAX];
	struct dirent **ents = NULL;
	struct CMUnitTest *tests;
	char **names;
	int n, i, nbad = 0, ngood = 0, r;

	test_path(dir, sizeof(dir), "config");
	n = scandir(dir, &ents, is_conf, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	tests = calloc((size_t)n, sizeof(*tests));
	names = calloc((size_t)n, sizeof(*names));
	if (!tests || !names)
		return 1;
	for (i = 0; i < n; i++) {
		names[i] = strndup(ents[i]->d_name,
				   strlen(ents[i]->d_name) - 5);
		if (!names[i])
			return 1;
		nbad += strncmp(names[i], "bad-", 4) == 0;
		ngood += strncmp(names[i], "good-", 5) == 0;
		tests[i].name = names[i];
		tests[i].test_func = test_golden;
		tests[i].initial_state = names[i];
		free(ents[i]);
	}
	free(ents);

	r = _cmocka_run_group_tests("golden", tests, (size_t)n, NULL, NULL);
	/* Guards against a lost or emptied case directory passing silently. */
	if (nbad < MIN_BAD_CASES || ngood < MIN_GOOD_CASES) {
		fprintf(stderr, "%s: %d bad and %d good cases, want at least "
			"%d and %d\n", dir, nbad, ngood, MIN_BAD_CASES,
			MIN_GOOD_CASES);
		r++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return r;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_invalid_args),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_load_nul_byte),
		cmocka_unit_test(test_load_small_errbuf),
		cmocka_unit_test(test_load_error_keeps_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sample_config),
	};
	int r;

	r = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	r += run_golden();
	return r;
}
