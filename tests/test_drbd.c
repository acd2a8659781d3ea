/* Tests of storage/drbd.c and drbd_parse.c: .res rendering checked by the
 * real drbdadm parsers (drbdadm 9.22 and its drbdadm-84), atomic writes,
 * exact command lines through the recorder (and accepted by drbdadm's
 * dry run), /proc/drbd and `drbdsetup status --json` parsing, the
 * promotion rule, the fence-peer decision and the handler program.
 * Bad input first. */
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
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmdseq.h"
#include "drbd.h"
#include "runner.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

#define HANDLER "/usr/sbin/xenmesh-fence-peer"

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

/* A resource on this host and a peer: drbdadm's dry run wants one `on`
 * section named like `uname -n`. */
static void
conf_init(struct drbd_res_conf *c, enum drbd_version v, char *host, size_t len)
{
	assert_int_equal(gethostname(host, len), 0);
	host[len - 1] = '\0';
	memset(c, 0, sizeof(*c));
	c->name = "vm1-root";
	c->minor = 3;
	c->port = 7790;
	c->version = v;
	c->nodes[0] = (struct drbd_peer){ host, "127.0.0.1", 0, "/dev/vgsan/vm1-root" };
	c->nodes[1] = (struct drbd_peer){ "san2", "10.0.0.2", 1, "/dev/vgsan/vm1-root" };
	c->handler = HANDLER;
}

/* ---- rendering: bad input ---- */

static void
render_bad(const struct drbd_res_conf *c, const char *why_expected)
{
	char why[256] = "", *text = (char *)1;

	assert_int_equal(drbd_res_render(c, &text, why, sizeof(why)), -EINVAL);
	assert_null(text);
	assert_string_equal(why, why_expected);
}

static void
test_render_invalid(void **state)
{
	struct drbd_res_conf c;
	char host[256], *text;

	(void)state;
	assert_int_equal(drbd_res_render(NULL, &text, NULL, 0), -EINVAL);
	conf_init(&c, DRBD_9, host, sizeof(host));
	assert_int_equal(drbd_res_render(&c, NULL, NULL, 0), -EINVAL);

	conf_init(&c, DRBD_9, host, sizeof(host));
	c.name = "vm 1";
	render_bad(&c, "DRBD resource name 'vm 1' must be letters, digits, '_', '.', "
		   "'+', '-' and not start with '-' or '.'");
	c.name = ".hidden";
	render_bad(&c, "DRBD resource name '.hidden' must be letters, digits, '_', '.', "
		   "'+', '-' and not start with '-' or '.'");
	c.name = NULL;
	render_bad(&c, "DRBD resource name is empty");
	c.name = "a123456789b123456789c123456789d123456789e123456789f123456789g1234";
	render_bad(&c, "DRBD resource name 'a123456789b123456789c123456789d123456789...' "
		   "is too long (at most 63)");

	conf_init(&c, DRBD_9, host, sizeof(host));
	c.version = 8;
	render_bad(&c, "resource vm1-root: DRBD version 8 is neither 84 nor 9");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.minor = 1048576;
	render_bad(&c, "resource vm1-root: minor 1048576 is out of 0..1048575");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.port = 0;
	render_bad(&c, "resource vm1-root: no port");

	conf_init(&c, DRBD_9, host, sizeof(host));
	c.nodes[1].name = "san2 {";
	render_bad(&c, "resource vm1-root: node 2: name 'san2 {' is not a host name");
	c.nodes[1].name = NULL;
	render_bad(&c, "resource vm1-root: node 2: name '' is not a host name");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.nodes[1].addr = "10.0.0.2:7789";
	render_bad(&c, "resource vm1-root: node san2: address '10.0.0.2:7789' is not an "
		   "IPv4 or IPv6 address");
	c.nodes[1].addr = "san2.example";
	render_bad(&c, "resource vm1-root: node san2: address 'san2.example' is not an "
		   "IPv4 or IPv6 address");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.nodes[1].node_id = 32;
	render_bad(&c, "resource vm1-root: node san2: node-id 32 is out of 0..31");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.nodes[1].node_id = 0;
	render_bad(&c, "resource vm1-root: both nodes have node-id 0");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.nodes[1].name = host;
	{
		char want[512];

		snprintf(want, sizeof(want), "resource vm1-root: both nodes are named %s", host);
		render_bad(&c, want);
	}
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.nodes[1].disk = "vgsan/vm1-root";
	render_bad(&c, "backing disk 'vgsan/vm1-root' must be an absolute path of letters, "
		   "digits and '/_.+-'");
	c.nodes[1].disk = "/dev/vg;rm";
	render_bad(&c, "backing disk '/dev/vg;rm' must be an absolute path of letters, "
		   "digits and '/_.+-'");
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.handler = "/usr/sbin/x\"; fence-peer \"/bin/sh";
	render_bad(&c, "fence-peer handler '/usr/sbin/x\"; fence-peer \"/bin/sh' must be "
		   "an absolute path of letters, digits and '/_.+-'");
	c.handler = NULL;
	render_bad(&c, "fence-peer handler '' must be an absolute path of letters, digits "
		   "and '/_.+-'");

	conf_init(&c, DRBD_9, host, sizeof(host));
	c.after_sb_policy = "discard-secondary";
	render_bad(&c, "resource vm1-root: after-sb policy 'discard-secondary' is not "
		   "disconnect, discard-zero-changes, discard-least-changes, "
		   "discard-younger-primary, discard-older-primary or discard-node-NAME");
	c.after_sb_policy = "discard-node-san2";
	render_bad(&c, "resource vm1-root: after-sb policy 'discard-node-san2': DRBD 9 "
		   "has no discard-node-NAME");
	conf_init(&c, DRBD_84, host, sizeof(host));
	c.after_sb_policy = "discard-node-san3";
	render_bad(&c, "resource vm1-root: after-sb policy 'discard-node-san3' names no "
		   "node of the resource");
}

/* ---- rendering: the texts ---- */

static const char res9_fmt[] =
	"# DRBD resource of the xenmesh volume vm1-root: written by xenmesh,\n"
	"# rewritten on changes; do not edit.\n"
	"resource vm1-root {\n"
	"\tdevice /dev/drbd3;\n"
	"\tmeta-disk internal;\n"
	"\tnet {\n"
	"\t\tprotocol C;\n"
	"\t\tfencing resource-and-stonith;\n"
	"\t\tafter-sb-0pri disconnect;\n"
	"\t\tafter-sb-1pri disconnect;\n"
	"\t\tafter-sb-2pri disconnect;\n"
	"\t}\n"
	"\thandlers {\n"
	"\t\tfence-peer \"/usr/sbin/xenmesh-fence-peer fence-peer\";\n"
	"\t\tunfence-peer \"/usr/sbin/xenmesh-fence-peer unfence-peer\";\n"
	"\t\tsplit-brain \"/usr/sbin/xenmesh-fence-peer split-brain\";\n"
	"\t}\n"
	"\ton %s {\n"
	"\t\taddress 127.0.0.1:7790;\n"
	"\t\tdisk /dev/vgsan/vm1-root;\n"
	"\t\tnode-id 0;\n"
	"\t}\n"
	"\ton san2 {\n"
	"\t\taddress 10.0.0.2:7790;\n"
	"\t\tdisk /dev/vgsan/vm1-root;\n"
	"\t\tnode-id 1;\n"
	"\t}\n"
	"}\n";

static const char res84_fmt[] =
	"# DRBD resource of the xenmesh volume vm1-root: written by xenmesh,\n"
	"# rewritten on changes; do not edit.\n"
	"resource vm1-root {\n"
	"\tdevice /dev/drbd3;\n"
	"\tmeta-disk internal;\n"
	"\tnet {\n"
	"\t\tprotocol C;\n"
	"\t\tafter-sb-0pri disconnect;\n"
	"\t\tafter-sb-1pri disconnect;\n"
	"\t\tafter-sb-2pri disconnect;\n"
	"\t}\n"
	"\tdisk {\n"
	"\t\tfencing resource-and-stonith;\n"
	"\t}\n"
	"\thandlers {\n"
	"\t\tfence-peer \"/usr/sbin/xenmesh-fence-peer fence-peer\";\n"
	"\t\tunfence-peer \"/usr/sbin/xenmesh-fence-peer unfence-peer\";\n"
	"\t\tsplit-brain \"/usr/sbin/xenmesh-fence-peer split-brain\";\n"
	"\t}\n"
	"\ton %s {\n"
	"\t\taddress 127.0.0.1:7790;\n"
	"\t\tdisk /dev/vgsan/vm1-root;\n"
	"\t}\n"
	"\ton san2 {\n"
	"\t\taddress 10.0.0.2:7790;\n"
	"\t\tdisk /dev/vgsan/vm1-root;\n"
	"\t}\n"
	"}\n";

static void
test_render_text(void **state)
{
	struct drbd_res_conf c;
	char host[256], want[2048], *text;

	(void)state;
	conf_init(&c, DRBD_9, host, sizeof(host));
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	snprintf(want, sizeof(want), res9_fmt, host);
	assert_string_equal(text, want);
	free(text);

	conf_init(&c, DRBD_84, host, sizeof(host));
	c.nodes[0].node_id = c.nodes[1].node_id = 77;  /* 8.4 has none: ignored */
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	snprintf(want, sizeof(want), res84_fmt, host);
	assert_string_equal(text, want);
	free(text);

	/* "disconnect" spelled out is the default */
	conf_init(&c, DRBD_9, host, sizeof(host));
	c.after_sb_policy = "disconnect";
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	snprintf(want, sizeof(want), res9_fmt, host);
	assert_string_equal(text, want);
	free(text);

	/* a policy naming the losing side: 1pri follows it by consensus only */
	c.after_sb_policy = "discard-zero-changes";
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	assert_non_null(strstr(text, "\t\tafter-sb-0pri discard-zero-changes;\n"
			       "\t\tafter-sb-1pri consensus;\n"
			       "\t\tafter-sb-2pri disconnect;\n"));
	free(text);

	/* IPv6 */
	c.after_sb_policy = NULL;
	c.nodes[0].addr = "::1";
	c.nodes[1].addr = "fd00::2";
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	assert_non_null(strstr(text, "\t\taddress ipv6 [::1]:7790;\n"));
	assert_non_null(strstr(text, "\t\taddress ipv6 [fd00::2]:7790;\n"));
	free(text);
}

/* ---- the real drbdadm ---- */

static const char *
drbdadm84_path(void)
{
	static const char *const cands[] = {
		"/usr/lib/drbd/drbdadm-84", "/lib/drbd/drbdadm-84",
		"/usr/local/lib/drbd/drbdadm-84",
	};

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

/* Runs argv (no shell), stdout into out, stderr thrown away (drbdadm
 * complains about a missing modinfo and the absent module).  A bare
 * "drbdadm" is /usr/sbin/drbdadm: drbdadm names the drbdsetup it would
 * run after the way it was called, so its lines read as in production. */
static int
run(const char *const *argv, char *out, size_t len)
{
	int pfd[2], status;
	size_t got = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(pfd[1], 1);
		dup2(devnull, 2);
		dup2(devnull, 0);
		close(pfd[0]);
		execv(strcmp(argv[0], "drbdadm") ? argv[0] : "/usr/sbin/drbdadm",
		      (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], out + got, len - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == len - 1)
			break;
	}
	out[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct tmpdir {
	char path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/test_drbd.XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void
tmpdir_remove(struct tmpdir *t)
{
	DIR *d = opendir(t->path);
	struct dirent *e;
	char p[512];

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->path, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(t->path);
}

/* The command line of step i with "-c FILE -d" after drbdadm: the real
 * drbdadm's dry run of exactly what the driver would run. */
static int
dry_run(const char *drbdadm, const struct cmdseq *s, size_t i, const char *file,
	char *out, size_t len)
{
	const char *argv[16];
	size_t n = 0;

	argv[n++] = drbdadm;
	argv[n++] = "-c";
	argv[n++] = file;
	argv[n++] = "-d";
	assert_string_equal(s->steps[i].argv[0], "drbdadm");
	for (char **a = s->steps[i].argv + 1; *a && n < 15; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	return run(argv, out, len);
}

static void
test_render_drbdadm9(void **state)
{
	struct drbd_res_conf c;
	struct tmpdir t;
	struct cmdseq s;
	char host[256], file[128], out[8192], want[2048], *text;
	const char *dump[] = { "drbdadm", "-c", file, "dump", "vm1-root", NULL };
	const char *up[] = { "drbdadm", "-c", file, "-d", "up", "vm1-root", NULL };

	(void)state;
	if (access("/usr/sbin/drbdadm", X_OK)) {
		printf("SKIP: /usr/sbin/drbdadm missing (Debian package drbd-utils)\n");
		return;
	}
	conf_init(&c, DRBD_9, host, sizeof(host));
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	tmpdir_make(&t);
	assert_int_equal(drbd_res_write(t.path, "vm1-root", text), 0);
	free(text);
	snprintf(file, sizeof(file), "%s/vm1-root.res", t.path);

	assert_int_equal(run(dump, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "fencing          resource-and-stonith;"));
	assert_non_null(strstr(out, "fence-peer       \"" HANDLER " fence-peer\";"));
	assert_non_null(strstr(out, "device               /dev/drbd3 minor 3;"));
	assert_int_equal(run(up, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
		 "drbdsetup new-resource vm1-root 0\n"
		 "drbdsetup new-minor vm1-root 3 0\n"
		 "drbdsetup new-peer vm1-root 1 --_name=san2 --after-sb-2pri=disconnect "
		 "--after-sb-1pri=disconnect --after-sb-0pri=disconnect "
		 "--fencing=resource-and-stonith --protocol=C\n"
		 "drbdsetup new-path vm1-root 1 ipv4:127.0.0.1:7790 ipv4:10.0.0.2:7790\n"
		 "drbdmeta 3 v09 /dev/vgsan/vm1-root internal apply-al\n"
		 "drbdsetup attach 3 /dev/vgsan/vm1-root /dev/vgsan/vm1-root internal\n"
		 "drbdsetup connect vm1-root 1\n");
	assert_string_equal(out, want);

	/* every drbdadm line of the driver, as drbdadm 9 would run it */
	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_create_md(&s, "vm1-root", DRBD_9), 0);
	assert_int_equal(drbd_cmd_primary_initial(&s, "vm1-root", DRBD_9), 0);
	assert_int_equal(drbd_cmd_down(&s, "vm1-root"), 0);
	assert_int_equal(drbd_cmd_resolve_split_brain(&s, "vm1-root", true), 0);
	assert_int_equal(dry_run(dump[0], &s, 0, file, out, sizeof(out)), 0);
	assert_string_equal(out, "drbdmeta 3 v09 /dev/vgsan/vm1-root internal create-md 1 --force\n");
	assert_int_equal(dry_run(dump[0], &s, 1, file, out, sizeof(out)), 0);
	assert_string_equal(out, "drbdsetup primary vm1-root --force\n");
	assert_int_equal(dry_run(dump[0], &s, 2, file, out, sizeof(out)), 0);
	assert_string_equal(out, "drbdsetup down vm1-root\n");
	assert_int_equal(dry_run(dump[0], &s, 3, file, out, sizeof(out)), 0);
	assert_string_equal(out, "drbdsetup disconnect vm1-root 1\n");
	assert_int_equal(dry_run(dump[0], &s, 5, file, out, sizeof(out)), 0);
	assert_string_equal(out, "drbdsetup connect vm1-root 1 --discard-my-data\n");
	cmdseq_free(&s);

	/* drbdadm 9 refuses the 8.4 text (fencing in disk{}): the renderer
	 * must follow the version */
	conf_init(&c, DRBD_84, host, sizeof(host));
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	assert_int_equal(drbd_res_write(t.path, "vm1-root", text), 0);
	free(text);
	assert_int_not_equal(run(dump, out, sizeof(out)), 0);
	tmpdir_remove(&t);
}

static void
test_render_drbdadm84(void **state)
{
	struct drbd_res_conf c;
	struct tmpdir t;
	struct cmdseq s;
	const char *adm = drbdadm84_path();
	char host[256], file[128], out[8192], *text;
	const char *dump[] = { adm, "-c", file, "dump", "vm1-root", NULL };
	const char *up[] = { adm, "-c", file, "-d", "up", "vm1-root", NULL };

	(void)state;
	if (!adm) {
		printf("SKIP: drbdadm-84 not found (drbd-utils installs it in /usr/lib/drbd)\n");
		return;
	}
	conf_init(&c, DRBD_84, host, sizeof(host));
	c.after_sb_policy = "discard-node-san2";
	assert_int_equal(drbd_res_render(&c, &text, NULL, 0), 0);
	tmpdir_make(&t);
	assert_int_equal(drbd_res_write(t.path, "vm1-root", text), 0);
	free(text);
	snprintf(file, sizeof(file), "%s/vm1-root.res", t.path);

	assert_int_equal(run(dump, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "    disk {\n        fencing          resource-and-stonith;\n"));
	assert_int_equal(run(up, out, sizeof(out)), 0);
	/* the policy naming san2 the loser reaches the kernel as discard-remote */
	assert_string_equal(out,
		"/usr/lib/drbd/drbdsetup-84 new-resource vm1-root\n"
		"/usr/lib/drbd/drbdsetup-84 new-minor vm1-root 3 0\n"
		"drbdmeta 3 v08 /dev/vgsan/vm1-root internal apply-al\n"
		"/usr/lib/drbd/drbdsetup-84 attach 3 /dev/vgsan/vm1-root /dev/vgsan/vm1-root "
		"internal --fencing=resource-and-stonith\n"
		"/usr/lib/drbd/drbdsetup-84 connect vm1-root ipv4:127.0.0.1:7790 "
		"ipv4:10.0.0.2:7790 --protocol=C --after-sb-0pri=discard-remote "
		"--after-sb-1pri=consensus --after-sb-2pri=disconnect\n");

	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_create_md(&s, "vm1-root", DRBD_84), 0);
	assert_int_equal(drbd_cmd_primary_initial(&s, "vm1-root", DRBD_84), 0);
	assert_int_equal(drbd_cmd_secondary(&s, "vm1-root"), 0);
	assert_int_equal(dry_run(adm, &s, 0, file, out, sizeof(out)), 0);
	assert_string_equal(out, "drbdmeta 3 v08 /dev/vgsan/vm1-root internal create-md --force\n");
	assert_int_equal(dry_run(adm, &s, 1, file, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/drbd/drbdsetup-84 primary 3 --force\n");
	assert_int_equal(dry_run(adm, &s, 2, file, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/drbd/drbdsetup-84 secondary 3\n");
	cmdseq_free(&s);
	tmpdir_remove(&t);
}

static void
test_res_write(void **state)
{
	struct tmpdir t;
	struct stat st;
	char path[256], buf[64];
	FILE *f;
	DIR *d;
	struct dirent *e;
	int files = 0;

	(void)state;
	tmpdir_make(&t);
	assert_int_equal(drbd_res_write(NULL, "r", "x"), -EINVAL);
	assert_int_equal(drbd_res_write(t.path, "../etc/passwd", "x"), -EINVAL);
	assert_int_equal(drbd_res_write(t.path, ".r", "x"), -EINVAL);
	assert_int_equal(drbd_res_write(t.path, "r", NULL), -EINVAL);
	assert_int_equal(drbd_res_write("/nonexistent/dir", "r", "x"), -ENOENT);

	assert_int_equal(drbd_res_write(t.path, "r", "first\n"), 0);
	assert_int_equal(drbd_res_write(t.path, "r", "second\n"), 0);
	snprintf(path, sizeof(path), "%s/r.res", t.path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "second\n");
	/* no temporary left behind */
	d = opendir(t.path);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			files++;
	closedir(d);
	assert_int_equal(files, 1);
	tmpdir_remove(&t);
}

/* ---- commands ---- */

static void
test_cmd_invalid(void **state)
{
	struct cmdseq s;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_up(NULL, "r"), -EINVAL);
	assert_int_equal(drbd_cmd_up(&s, NULL), -EINVAL);
	assert_int_equal(drbd_cmd_up(&s, "-r"), -EINVAL);
	assert_int_equal(drbd_cmd_down(&s, "r r"), -EINVAL);
	assert_int_equal(drbd_cmd_primary(&s, ""), -EINVAL);
	assert_int_equal(drbd_cmd_secondary(&s, "r;x"), -EINVAL);
	assert_int_equal(drbd_cmd_create_md(&s, "r", 8), -EINVAL);
	assert_int_equal(drbd_cmd_create_md(&s, "--force", DRBD_9), -EINVAL);
	assert_int_equal(drbd_cmd_primary_initial(&s, "r", 0), -EINVAL);
	assert_int_equal(drbd_cmd_state(&s, "r", 83), -EINVAL);
	assert_int_equal(drbd_cmd_state(&s, "all/", DRBD_9), -EINVAL);
	assert_int_equal(drbd_cmd_resolve_split_brain(&s, "-x", true), -EINVAL);
	assert_int_equal(drbd_cmd_resolve_split_brain(&s, NULL, false), -EINVAL);
	assert_int_equal(drbd_name_check("r", NULL, 0), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.error, 0);
	cmdseq_free(&s);
}

static void
noop_done(void *data, const struct cmdseq_outcome *o)
{
	*(int *)data = o->rc;
}

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
	for (size_t i = 0; i < n; i++)
		assert_string_equal(runner_recorder_get(r, i)->line, lines[i]);
	runner_close(r);
}

static void
test_cmd_lines(void **state)
{
	const char *const want[] = {
		"drbdadm create-md --force vm1-root",
		"drbdadm create-md --force vm1-root",
		"drbdadm up vm1-root",
		"drbdadm primary --force vm1-root",
		"drbdadm primary --force vm1-root",
		"drbdadm primary vm1-root",
		"drbdadm secondary vm1-root",
		"drbdadm down vm1-root",
		"drbdsetup status vm1-root --json",
		"cat /proc/drbd",
		NULL
	};
	struct cmdseq s;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_create_md(&s, "vm1-root", DRBD_84), 0);
	assert_int_equal(drbd_cmd_create_md(&s, "vm1-root", DRBD_9), 0);
	assert_int_equal(drbd_cmd_up(&s, "vm1-root"), 0);
	assert_int_equal(drbd_cmd_primary_initial(&s, "vm1-root", DRBD_84), 0);
	assert_int_equal(drbd_cmd_primary_initial(&s, "vm1-root", DRBD_9), 0);
	assert_int_equal(drbd_cmd_primary(&s, "vm1-root"), 0);
	assert_int_equal(drbd_cmd_secondary(&s, "vm1-root"), 0);
	assert_int_equal(drbd_cmd_down(&s, "vm1-root"), 0);
	assert_int_equal(drbd_cmd_state(&s, "vm1-root", DRBD_9), 0);
	assert_int_equal(drbd_cmd_state(&s, "vm1-root", DRBD_84), 0);
	for (size_t i = 0; i < s.n; i++)
		assert_false(s.steps[i].may_fail);
	expect_lines(&s, want);
}

static void
test_cmd_split_brain(void **state)
{
	const char *const loser[] = {
		"drbdadm disconnect vm1-root",
		"drbdadm secondary vm1-root",
		"drbdadm connect --discard-my-data vm1-root",
		NULL
	};
	const char *const survivor[] = { "drbdadm connect vm1-root", NULL };
	struct runner *r;
	struct cmdseq s;
	char msg[256];
	int rc = 1;

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_resolve_split_brain(&s, "vm1-root", true), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.steps[0].may_fail);       /* StandAlone already */
	assert_false(s.steps[1].may_fail);
	assert_false(s.steps[2].may_fail);
	expect_lines(&s, loser);

	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_resolve_split_brain(&s, "vm1-root", false), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.steps[0].may_fail);       /* already connecting */
	expect_lines(&s, survivor);

	/* the loser's disconnect failing does not stop the sequence */
	cmdseq_init(&s);
	assert_int_equal(drbd_cmd_resolve_split_brain(&s, "vm1-root", true), 0);
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	runner_recorder_expect(r, loser[0], &(struct runner_canned){ .exit_code = 10,
		.err = "vm1-root: State change failed: (-2) Need access to UpToDate data\n" });
	runner_recorder_expect(r, loser[1], &(struct runner_canned){ 0 });
	runner_recorder_expect(r, loser[2], &(struct runner_canned){ 0 });
	assert_int_equal(cmdseq_run(r, &s, noop_done, &rc, NULL), 0);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(rc, 0);
	assert_int_equal(runner_recorder_verify(r, msg, sizeof(msg)), 0);
	runner_close(r);
}

/* ---- /proc/drbd (8.4) ---- */

static void
test_proc_invalid(void **state)
{
	struct drbd_state st;
	char why[256];
	char *text;

	(void)state;
	assert_int_equal(drbd_proc_parse("version: 8.4.11\n", 0, NULL, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(drbd_proc_parse(NULL, 0, &st, why, sizeof(why)), -EBADMSG);
	assert_int_equal(drbd_proc_parse("", 0, &st, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "/proc/drbd: empty");
	assert_int_equal(drbd_proc_parse("cat: /proc/drbd: No such file or directory\n", 0,
					 &st, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "/proc/drbd: does not start with \"version:\"");
	assert_int_equal(drbd_proc_parse("version: 8.4.11\n 0: cs:Connected ro:Primary\n",
					 0, &st, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "/proc/drbd: minor 0 has no readable ro: field");
	assert_int_equal(drbd_proc_parse("version: 8.4.11\n 0: cs:Connected ro:Primary/"
					 "Secondary ds:UpToDate\n", 0, &st, why,
					 sizeof(why)), -EBADMSG);
	assert_string_equal(why, "/proc/drbd: minor 0 has no readable ds: field");
	assert_int_equal(drbd_proc_parse("version: 8.4.11\n 0: ro:Primary/Secondary\n",
					 0, &st, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "/proc/drbd: minor 0 has no readable cs: field");
	assert_int_equal(drbd_proc_parse("version: 8.4.11\n 0: cs:Conn3cted ro:a/b ds:c/d\n",
					 0, &st, why, sizeof(why)), -EBADMSG);
	assert_int_equal(drbd_proc_parse("version: 8.4.11\n 0: cs:Connected "
					 "ro:AVeryLongRoleNameIndeed/Secondary ds:a/b\n",
					 0, &st, why, sizeof(why)), -EBADMSG);

	/* not up */
	text = data_load("drbd-84-proc-synced.txt");
	assert_int_equal(drbd_proc_parse(text, 1, &st, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "DRBD minor 1 is not in /proc/drbd (resource not up)");
	free(text);
	text = data_load("drbd-84-proc-standalone.txt");
	assert_int_equal(drbd_proc_parse(text, 1, &st, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "DRBD minor 1 is not configured (resource not up)");
	assert_int_equal(drbd_proc_parse(text, 4, &st, why, sizeof(why)), -ENOENT);
	free(text);
}

static void
state_is(const struct drbd_state *st, const char *role, const char *peer_role,
	 const char *disk, const char *peer_disk, const char *conn, bool sb)
{
	assert_string_equal(st->role, role);
	assert_string_equal(st->peer_role, peer_role);
	assert_string_equal(st->disk, disk);
	assert_string_equal(st->peer_disk, peer_disk);
	assert_string_equal(st->conn, conn);
	assert_int_equal(st->split_brain, sb);
}

static void
test_proc_captured(void **state)
{
	struct drbd_state st;
	char why[256];
	char *text;

	(void)state;
	text = data_load("drbd-84-proc-connected.txt");
	assert_int_equal(drbd_proc_parse(text, 0, &st, why, sizeof(why)), 0);
	state_is(&st, "Secondary", "Secondary", "Inconsistent", "Inconsistent",
		 "Connected", false);
	assert_int_equal(st.minor, 0);
	assert_string_equal(st.res, "");
	free(text);

	text = data_load("drbd-84-proc-synced.txt");
	assert_int_equal(drbd_proc_parse(text, 0, &st, why, sizeof(why)), 0);
	state_is(&st, "Primary", "Secondary", "UpToDate", "UpToDate", "Connected", false);
	free(text);

	text = data_load("drbd-84-proc-standalone.txt");
	assert_int_equal(drbd_proc_parse(text, 0, &st, why, sizeof(why)), 0);
	state_is(&st, "Primary", "Unknown", "UpToDate", "DUnknown", "StandAlone", true);
	assert_int_equal(drbd_proc_parse(text, 2, &st, why, sizeof(why)), 0);
	state_is(&st, "Primary", "Unknown", "UpToDate", "Outdated", "WFConnection", false);
	assert_int_equal(drbd_proc_parse(text, 10, &st, why, sizeof(why)), 0);
	state_is(&st, "Primary", "Secondary", "UpToDate", "Inconsistent", "SyncSource", false);
	assert_int_equal(st.minor, 10);
	free(text);
}

/* ---- drbdsetup status --json (9) ---- */

static void
json_bad(const char *json, const char *why_expected)
{
	struct drbd_state st;
	char why[256] = "";

	assert_int_equal(drbd_status_json_parse(json, "r0", &st, why, sizeof(why)),
			 -EBADMSG);
	if (strncmp(why, why_expected, strlen(why_expected)))
		fail_msg("why \"%s\" does not start with \"%s\"", why, why_expected);
}

static void
test_status_json_invalid(void **state)
{
	struct drbd_state st;
	char why[256];
	char *text;

	(void)state;
	assert_int_equal(drbd_status_json_parse("[]", NULL, &st, why, sizeof(why)), -EINVAL);
	assert_int_equal(drbd_status_json_parse("[]", "r0", NULL, why, sizeof(why)), -EINVAL);
	json_bad(NULL, "drbdsetup status: no output");
	json_bad("", "drbdsetup status: output is not JSON: it ends too early");
	json_bad("r0 role:Primary\n  disk:UpToDate\n", "drbdsetup status: output is not JSON: ");
	json_bad("[{\"name\": \"r0\"", "drbdsetup status: output is not JSON: it ends too early");
	json_bad("[] []", "drbdsetup status: unexpected text after the JSON at byte 3");
	json_bad("{}", "drbdsetup status: output is not a list of resources");
	json_bad("[{}]", "drbdsetup status: resource 0 has no \"name\"");
	json_bad("[{\"name\": \"r0\"}]", "drbdsetup status: r0 has no \"role\" string");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\"}]",
		 "drbdsetup status: resource r0 has no device with a \"minor\"");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\", \"devices\": [{\"minor\": -1}]}]",
		 "drbdsetup status: resource r0 has no device with a \"minor\"");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\", \"devices\": [{\"minor\": 0}]}]",
		 "drbdsetup status: devices[0] has no \"disk-state\" string");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\", \"devices\": [{\"minor\": 0, "
		 "\"disk-state\": \"Up To Date\"}]}]",
		 "drbdsetup status: devices[0]: \"disk-state\" is not a state word");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\", \"devices\": [{\"minor\": 0, "
		 "\"disk-state\": \"UpToDate\"}]}]",
		 "drbdsetup status: resource r0 has no \"connections\" list");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\", \"devices\": [{\"minor\": 0, "
		 "\"disk-state\": \"UpToDate\"}], \"connections\": [{\"connection-state\": "
		 "\"Connected\", \"peer-role\": \"Secondary\"}]}]",
		 "drbdsetup status: the connection has no \"peer_devices\"");
	json_bad("[{\"name\": \"r0\", \"role\": \"Primary\", \"devices\": [{\"minor\": 0, "
		 "\"disk-state\": \"UpToDate\"}], \"connections\": [{\"connection-state\": "
		 "\"Connected\", \"peer-role\": \"Secondary\", \"peer_devices\": [{}]}]}]",
		 "drbdsetup status: peer_devices[0] has no \"peer-disk-state\" string");

	text = data_load("drbd-9-status-connected.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm3-root", &st, why, sizeof(why)),
			 -ENOENT);
	assert_string_equal(why, "DRBD resource vm3-root is not up (not in drbdsetup status)");
	free(text);
	assert_int_equal(drbd_status_json_parse("[]\n", "vm1-root", &st, why, sizeof(why)),
			 -ENOENT);
}

static void
test_status_json(void **state)
{
	struct drbd_state st;
	char why[256];
	char *text;

	(void)state;
	text = data_load("drbd-9-status-connected.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm1-root", &st, why, sizeof(why)), 0);
	assert_string_equal(st.res, "vm1-root");
	assert_int_equal(st.minor, 3);
	state_is(&st, "Primary", "Secondary", "UpToDate", "UpToDate", "Connected", false);
	assert_int_equal(drbd_status_json_parse(text, "vm2-root", &st, why, sizeof(why)), 0);
	assert_int_equal(st.minor, 4);
	state_is(&st, "Secondary", "Primary", "UpToDate", "UpToDate", "Connected", false);
	free(text);

	text = data_load("drbd-9-status-syncing.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm1-root", &st, why, sizeof(why)), 0);
	state_is(&st, "Primary", "Secondary", "UpToDate", "Inconsistent", "SyncSource", false);
	free(text);

	text = data_load("drbd-9-status-standalone.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm1-root", &st, why, sizeof(why)), 0);
	state_is(&st, "Secondary", "Unknown", "UpToDate", "DUnknown", "StandAlone", true);
	free(text);

	text = data_load("drbd-9-status-connecting.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm1-root", &st, why, sizeof(why)), 0);
	state_is(&st, "Secondary", "Unknown", "UpToDate", "DUnknown", "Connecting", false);
	free(text);

	/* no connection object at all */
	assert_int_equal(drbd_status_json_parse(
		"[{\"name\": \"r0\", \"role\": \"Secondary\", \"devices\": [{\"minor\": 7, "
		"\"disk-state\": \"Outdated\"}], \"connections\": []}]", "r0", &st, why,
		sizeof(why)), 0);
	state_is(&st, "Secondary", "Unknown", "Outdated", "DUnknown", "StandAlone", true);
}

/* ---- the promotion rule ---- */

static struct drbd_state
mkstate(const char *role, const char *peer_role, const char *disk,
	const char *peer_disk, const char *conn)
{
	struct drbd_state st;

	memset(&st, 0, sizeof(st));
	strcpy(st.res, "vm1-root");
	strcpy(st.role, role);
	strcpy(st.peer_role, peer_role);
	strcpy(st.disk, disk);
	strcpy(st.peer_disk, peer_disk);
	strcpy(st.conn, conn);
	st.split_brain = !strcmp(conn, "StandAlone");
	return st;
}

static void
test_may_promote(void **state)
{
	static const struct {
		const char *role, *peer_role, *disk, *peer_disk, *conn;
		bool fenced;
		int rc;
		const char *why;
	} rows[] = {
		/* refused */
		{ "Secondary", "Primary", "UpToDate", "UpToDate", "Connected", false, -EPERM,
		  "the peer of vm1-root is Primary" },
		{ "Secondary", "Primary", "UpToDate", "UpToDate", "Connected", true, -EPERM,
		  "the peer of vm1-root is Primary" },
		{ "Secondary", "Unknown", "UpToDate", "DUnknown", "StandAlone", true, -EPERM,
		  "vm1-root is StandAlone after a split brain or a refused peer: a human "
		  "must resolve it first" },
		{ "Secondary", "Unknown", "UpToDate", "DUnknown", "WFConnection", false, -EPERM,
		  "the peer disk of vm1-root is DUnknown (WFConnection) and the peer is not fenced" },
		{ "Secondary", "Unknown", "UpToDate", "DUnknown", "Connecting", false, -EPERM,
		  "the peer disk of vm1-root is DUnknown (Connecting) and the peer is not fenced" },
		{ "Secondary", "Unknown", "Outdated", "DUnknown", "WFConnection", true, -EPERM,
		  "the local disk of vm1-root is Outdated, not UpToDate" },
		{ "Secondary", "Unknown", "Consistent", "DUnknown", "WFConnection", true, -EPERM,
		  "the local disk of vm1-root is Consistent, not UpToDate" },
		{ "Secondary", "Secondary", "Inconsistent", "UpToDate", "SyncTarget", false, -EPERM,
		  "the local disk of vm1-root is Inconsistent, not UpToDate" },
		{ "Secondary", "Unknown", "Diskless", "UpToDate", "Connected", true, -EPERM,
		  "the local disk of vm1-root is Diskless, not UpToDate" },
		{ "Secondary", "Secondary", "UpToDate", "Consistent", "WFConnection", false, -EPERM,
		  "the peer disk of vm1-root is Consistent (WFConnection) and the peer is not fenced" },
		{ "Secondary", "Secondary", "UpToDate", "UpToDate", "SyncSource", false, -EPERM,
		  "the peer disk of vm1-root is UpToDate (SyncSource) and the peer is not fenced" },
		/* allowed */
		{ "Secondary", "Unknown", "UpToDate", "DUnknown", "WFConnection", true, 0,
		  "the peer of vm1-root is fenced" },
		{ "Secondary", "Unknown", "UpToDate", "DUnknown", "Connecting", true, 0,
		  "the peer of vm1-root is fenced" },
		{ "Secondary", "Unknown", "UpToDate", "Outdated", "WFConnection", false, 0,
		  "the peer disk of vm1-root is Outdated" },
		{ "Secondary", "Secondary", "UpToDate", "Inconsistent", "SyncSource", false, 0,
		  "the peer disk of vm1-root is Inconsistent" },
		{ "Secondary", "Secondary", "UpToDate", "Diskless", "Connected", false, 0,
		  "the peer disk of vm1-root is Diskless" },
		{ "Secondary", "Secondary", "UpToDate", "UpToDate", "Connected", false, 0,
		  "the peer of vm1-root is connected and Secondary (switch-over)" },
		{ "Primary", "Secondary", "UpToDate", "UpToDate", "Connected", false, 0,
		  "vm1-root is Primary already" },
		{ "Primary", "Unknown", "UpToDate", "DUnknown", "WFConnection", false, 0,
		  "vm1-root is Primary already" },
	};
	char why[256];

	(void)state;
	assert_int_equal(drbd_may_promote(NULL, true, why, sizeof(why)), -EINVAL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct drbd_state st = mkstate(rows[i].role, rows[i].peer_role, rows[i].disk,
					       rows[i].peer_disk, rows[i].conn);
		int rc = drbd_may_promote(&st, rows[i].fenced, why, sizeof(why));

		if (rc != rows[i].rc || strcmp(why, rows[i].why))
			fail_msg("row %zu: %d \"%s\", expected %d \"%s\"", i, rc, why,
				 rows[i].rc, rows[i].why);
	}
}

static void
test_may_promote_parsed(void **state)
{
	struct drbd_state st;
	char *text;

	(void)state;
	/* after the captured sync the Secondary may take over only when
	 * connected (switch-over) ... */
	text = data_load("drbd-84-proc-connected.txt");
	assert_int_equal(drbd_proc_parse(text, 0, &st, NULL, 0), 0);
	assert_int_equal(drbd_may_promote(&st, true, NULL, 0), -EPERM);  /* Inconsistent */
	free(text);
	text = data_load("drbd-9-status-connecting.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm1-root", &st, NULL, 0), 0);
	assert_int_equal(drbd_may_promote(&st, false, NULL, 0), -EPERM);
	assert_int_equal(drbd_may_promote(&st, true, NULL, 0), 0);
	free(text);
	text = data_load("drbd-9-status-standalone.txt");
	assert_int_equal(drbd_status_json_parse(text, "vm1-root", &st, NULL, 0), 0);
	assert_int_equal(drbd_may_promote(&st, true, NULL, 0), -EPERM);
	free(text);
}

/* ---- fence-peer ---- */

static void
test_fence_decide(void **state)
{
	static const struct {
		bool reachable, quorate;
		const char *peer;
		bool active;
		int rc;
	} rows[] = {
		/* never claim anything without a quorate answer */
		{ false, false, NULL, false, DRBD_FENCE_WAIT },
		{ false, true, "fenced", false, DRBD_FENCE_WAIT },
		{ true, false, "fenced", false, DRBD_FENCE_WAIT },
		{ true, false, "online", true, DRBD_FENCE_WAIT },
		{ true, true, NULL, false, DRBD_FENCE_WAIT },
		{ true, true, "banana", false, DRBD_FENCE_WAIT },
		/* the peer's fate is not settled */
		{ true, true, "online", false, DRBD_FENCE_WAIT },
		{ true, true, "unclean", false, DRBD_FENCE_WAIT },
		{ true, true, "unclean", true, DRBD_FENCE_WAIT },
		{ true, true, "offline", false, DRBD_FENCE_WAIT },
		{ true, true, "offline", true, DRBD_FENCE_WAIT },
		/* settled */
		{ true, true, "fenced", false, DRBD_FENCE_PEER_FENCED },
		{ true, true, "fenced", true, DRBD_FENCE_PEER_FENCED },
		{ true, true, "online", true, DRBD_FENCE_PEER_PRIMARY },
	};

	(void)state;
	assert_int_equal(drbd_fence_peer_decide(NULL), DRBD_FENCE_WAIT);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct drbd_fence_view v = {
			.reachable = rows[i].reachable, .quorate = rows[i].quorate,
			.peer_state = rows[i].peer, .peer_active = rows[i].active,
		};
		int rc = drbd_fence_peer_decide(&v);

		if (rc != rows[i].rc)
			fail_msg("row %zu: %d, expected %d", i, rc, rows[i].rc);
		/* never 5: DRBD resumes IO on 5 */
		assert_int_not_equal(drbd_fence_peer_final(rc), DRBD_FENCE_PEER_UNREACHABLE);
	}
	assert_int_equal(drbd_fence_peer_final(DRBD_FENCE_WAIT), DRBD_FENCE_KEEP_FROZEN);
	assert_int_equal(drbd_fence_peer_final(DRBD_FENCE_PEER_FENCED), 7);
	assert_int_equal(drbd_fence_peer_final(DRBD_FENCE_PEER_PRIMARY), 6);
	assert_int_equal(DRBD_FENCE_KEEP_FROZEN, 1);
}

static void
test_handler_peer(void **state)
{
	const char *const e84[] = { "DRBD_RESOURCE=vm1-root", "DRBD_PEER=san2", NULL };
	const char *const e9[] = {
		"DRBD_RESOURCE=vm1-root", "DRBD_MY_NODE_ID=0", "DRBD_NODE_ID_0=san1",
		"DRBD_NODE_ID_1=san2", "DRBD_PEER_NODE_ID=1", NULL };
	const char *const e9_nopeer[] = {
		"DRBD_MY_NODE_ID=1", "DRBD_NODE_ID_0=san1", "DRBD_NODE_ID_1=san2", NULL };
	const char *const bad[][4] = {
		{ NULL },
		{ "DRBD_PEER=", NULL },
		{ "DRBD_PEER=san2 san3", NULL },
		{ "DRBD_PEER_NODE_ID=2", "DRBD_NODE_ID_1=san2", NULL },
		{ "DRBD_PEER_NODE_ID=../1", NULL },
		{ "DRBD_MY_NODE_ID=0", "DRBD_NODE_ID_0=san1", NULL },
		{ "DRBD_MY_NODE_ID=0", "DRBD_NODE_ID_1=a", "DRBD_NODE_ID_2=b", NULL },
		{ "DRBD_PEERX=san2", NULL },
	};
	char name[64], why[256];

	(void)state;
	assert_int_equal(drbd_handler_peer(e84, NULL, 0, why, sizeof(why)), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = drbd_handler_peer(bad[i], name, sizeof(name), why, sizeof(why));

		if (rc != -ENOENT)
			fail_msg("bad env %zu: %d", i, rc);
	}
	assert_int_equal(drbd_handler_peer(NULL, name, sizeof(name), why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "no peer in the environment (DRBD_PEER, DRBD_PEER_NODE_ID, "
			    "or one DRBD_NODE_ID_n besides DRBD_MY_NODE_ID)");
	assert_int_equal(drbd_handler_peer(e84, name, 4, why, sizeof(why)), -ENAMETOOLONG);

	assert_int_equal(drbd_handler_peer(e84, name, sizeof(name), why, sizeof(why)), 0);
	assert_string_equal(name, "san2");
	assert_int_equal(drbd_handler_peer(e9, name, sizeof(name), why, sizeof(why)), 0);
	assert_string_equal(name, "san2");
	assert_int_equal(drbd_handler_peer(e9_nopeer, name, sizeof(name), why, sizeof(why)), 0);
	assert_string_equal(name, "san1");
}

#ifdef FENCE_PEER_BIN
static int
handler_run(const char *const *argv, const char *const *envp)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execve(FENCE_PEER_BIN, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}
#endif

/* The program's paths that do not need a running xenmeshd. */
static void
test_handler_program(void **state)
{
#ifdef FENCE_PEER_BIN
	const char *const env[] = { "DRBD_RESOURCE=vm1-root", "DRBD_PEER=san2", NULL };
	const char *const noenv[] = { "DRBD_RESOURCE=vm1-root", NULL };
	const char *const a_none[] = { FENCE_PEER_BIN, NULL };
	const char *const a_bad[] = { FENCE_PEER_BIN, "outdate-peer", NULL };
	const char *const a_badt[] = { FENCE_PEER_BIN, "--timeout", "0", "fence-peer", NULL };
	const char *const a_fence[] = { FENCE_PEER_BIN, "fence-peer", NULL };
	const char *const a_unfence[] = { FENCE_PEER_BIN, "unfence-peer", NULL };
	const char *const a_sb[] = { FENCE_PEER_BIN, "split-brain", NULL };
	const char *const a_wait[] = { FENCE_PEER_BIN, "--timeout", "1", "fence-peer", NULL };
	/* a peer no cluster knows: whether or not an agent answers here, the
	 * answer is "wait", then frozen at the deadline */
	const char *const unknown[] = { "DRBD_RESOURCE=vm1-root",
					"DRBD_PEER=xm-test-no-such-peer", NULL };
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(handler_run(a_none, env), DRBD_FENCE_KEEP_FROZEN);
	assert_int_equal(handler_run(a_bad, env), DRBD_FENCE_KEEP_FROZEN);
	assert_int_equal(handler_run(a_badt, env), DRBD_FENCE_KEEP_FROZEN);
	/* no peer to ask about: IO stays frozen, at once */
	assert_int_equal(handler_run(a_fence, noenv), DRBD_FENCE_KEEP_FROZEN);
	assert_int_equal(handler_run(a_unfence, env), 0);
	assert_int_equal(handler_run(a_sb, env), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(handler_run(a_wait, unknown), DRBD_FENCE_KEEP_FROZEN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec >= 1);        /* it did wait */
#else
	(void)state;
	printf("SKIP: FENCE_PEER_BIN not defined\n");
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_invalid),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_render_drbdadm9),
		cmocka_unit_test(test_render_drbdadm84),
		cmocka_unit_test(test_res_write),
		cmocka_unit_test(test_cmd_invalid),
		cmocka_unit_test(test_cmd_lines),
		cmocka_unit_test(test_cmd_split_brain),
		cmocka_unit_test(test_proc_invalid),
		cmocka_unit_test(test_proc_captured),
		cmocka_unit_test(test_status_json_invalid),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_may_promote),
		cmocka_unit_test(test_may_promote_parsed),
		cmocka_unit_test(test_fence_decide),
		cmocka_unit_test(test_handler_peer),
		cmocka_unit_test(test_handler_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
