/* qrig-san: the project's storage drivers (storage/lvm.h, drbd.h, tgt.h)
 * for the QEMU tier's scenarios, run on the host.
 *
 * The drivers are pure: they build command lines and parse what the tools
 * print.  Under QEMU the tools run inside the emulated SAN nodes, where
 * xenmeshd is not (yet), so this program stands in for the agent's side:
 * it prints the drivers' exact command lines as a sh script for
 * `qrig exec`, renders the DRBD resource file with drbd_res_render(), and
 * parses the real outputs the scenario brings back.  What the scenario
 * checks is therefore the drivers against real lvm2, DRBD 8.4 and tgt.
 *
 *   qrig-san lvcreate VG LV SIZE           lvm_cmd_create (SIZE: 64M, 1G ...)
 *   qrig-san lvs-cmd VG                    lvm_cmd_lvs
 *   qrig-san lvs                           stdin: its JSON -> "NAME BYTES PATH active|inactive"
 *   qrig-san drbd-res RES MINOR HANDLER NODE1=ADDR1 NODE2=ADDR2 DISK
 *                                          the .res text (8.4, port 7788+MINOR)
 *   qrig-san drbd STEP RES                 STEP: create-md up down primary
 *                                          secondary primary-initial state
 *   qrig-san drbd-state MINOR              stdin: /proc/drbd -> "role peer_role
 *                                          disk peer_disk conn" (8.4)
 *   qrig-san drbd-may-promote MINOR        stdin: /proc/drbd; exit 0 or 1 + why
 *   qrig-san tgt-export PREFIX IQN DEVICE [INITIATOR...]
 *                                          stdin: tgtadm show; tgt_plan's
 *                                          commands to export DEVICE as LUN 1
 *   qrig-san tgt-unexport PREFIX           stdin: tgtadm show; the commands that
 *                                          remove every target named PREFIX...
 *   qrig-san tgt-show-cmd                  tgt_cmd_show
 *   qrig-san tgt-show                      stdin: tgtadm show -> "tid iqn lun=path...
 *                                          acl=NAME... session=INITIATOR..."
 *   qrig-san iscsi-iface INITIATOR         iscsi_cmd_iface_setup
 *   qrig-san iscsi-iface-check INITIATOR   stdin: its output; exit 0 when the
 *                                          read-back names INITIATOR
 *   qrig-san iscsi-attach IQN PORTAL       iscsi_cmd_attach (default timeouts)
 *   qrig-san iscsi-detach IQN PORTAL       iscsi_cmd_detach
 *   qrig-san iscsi-sessions-cmd            iscsi_cmd_sessions
 *   qrig-san iscsi-sessions                stdin: `iscsiadm -m session` ->
 *                                          "sid addr:port iqn"
 *   qrig-san iscsi-bypath PORTAL IQN LUN   udev's /dev/disk/by-path link
 *   qrig-san iscsi-login-classify RC       stdin: a failed login's stderr ->
 *                                          none|refused|transport|other
 *   qrig-san snapshot-create VG LV SNAP SIZE   snapshot_cmd_lvm_create (the
 *                                          snapshot's size from the origin's SIZE)
 *   qrig-san snapshot-remove VG SNAP       snapshot_cmd_lvm_remove
 *   qrig-san compress-cmd SRC OUT          snapshot_cmd_compress (gzip > OUT)
 *   qrig-san devsize-cmd DEV               snapshot_cmd_devsize (blockdev)
 *   qrig-san devsize                       stdin: its output -> the bytes
 *   qrig-san unpack-cmd PROG GZ TARGET LIMIT   snapshot_cmd_unpack
 *
 * Command lines are printed one per line, each word single-quoted, with
 * `set -e` first; a step the driver lets fail gets `|| true`.  Exit 0, 1
 * when the drivers refuse (the reason on stderr), 2 for bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdseq.h"
#include "drbd.h"
#include "iscsi.h"
#include "lvm.h"
#include "snapshot.h"
#include "tgt.h"

static int
usage(void)
{
	fprintf(stderr, "usage: qrig-san lvcreate|lvs|drbd-res|drbd|drbd-state|"
		"drbd-may-promote|tgt-export|tgt-show ... (see tests/qrig/qrig-san.c)\n");
	return 2;
}

static void
put_word(const char *w)
{
	putchar('\'');
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*w);
	}
	putchar('\'');
}

/* The sequence as a sh script; a step's stdout file as a redirection.
 * Steps with stdin or a directory are not used by the commands printed
 * here; refuse rather than drop them. */
static int
print_seq(const struct cmdseq *s)
{
	if (s->error) {
		fprintf(stderr, "qrig-san: building the commands failed: %s\n",
			strerror(-s->error));
		return 1;
	}
	puts("set -e");
	for (size_t i = 0; i < s->n; i++) {
		const struct cmdseq_step *st = &s->steps[i];

		if (st->stdin_data || st->cwd) {
			fprintf(stderr, "qrig-san: step %zu needs stdin or a directory, "
				"which this printer does not support\n", i + 1);
			return 1;
		}
		for (size_t j = 0; st->argv[j]; j++) {
			if (j)
				putchar(' ');
			put_word(st->argv[j]);
		}
		if (st->stdout_path) {
			fputs(" > ", stdout);
			put_word(st->stdout_path);
		}
		puts(st->may_fail ? " || true" : "");
	}
	return 0;
}

/* All of stdin, NUL-terminated, or NULL. */
static char *
read_stdin(void)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, stdin);

		len += n;
		if (n == 0)
			break;
		if (cap - len - 1 == 0) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf || ferror(stdin)) {
		free(buf);
		fprintf(stderr, "qrig-san: cannot read stdin\n");
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int
cmd_lvcreate(int argc, char **argv)
{
	struct lvm_conf c = { .vg = NULL };
	struct cmdseq s;
	uint64_t bytes;
	char why[256];
	int rc;

	if (argc != 4)
		return usage();
	c.vg = argv[1];
	if (size_parse(argv[3], &bytes, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: %s\n", why);
		return 1;
	}
	cmdseq_init(&s);
	rc = lvm_cmd_create(&s, &c, argv[2], bytes);
	rc = rc ? (fprintf(stderr, "qrig-san: lvm_cmd_create: %s\n", strerror(-rc)), 1) :
	     print_seq(&s);
	cmdseq_free(&s);
	return rc;
}

static int
cmd_lvs_cmd(int argc, char **argv)
{
	struct lvm_conf c = { .vg = NULL };
	struct cmdseq s;
	int rc;

	if (argc != 2)
		return usage();
	c.vg = argv[1];
	cmdseq_init(&s);
	rc = lvm_cmd_lvs(&s, &c);
	rc = rc ? (fprintf(stderr, "qrig-san: lvm_cmd_lvs: %s\n", strerror(-rc)), 1) :
	     print_seq(&s);
	cmdseq_free(&s);
	return rc;
}

static int
cmd_lvs(void)
{
	struct lvm_lv *lv = NULL;
	size_t n = 0;
	char why[256], *text = read_stdin();
	int rc = 1;

	if (!text)
		return 1;
	if (lvm_lvs_parse(text, &lv, &n, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: lvs output: %s\n", why);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s %llu %s %s\n", lv[i].name, (unsigned long long)lv[i].size_bytes,
		       lv[i].path, lv[i].active ? "active" : "inactive");
	rc = 0;
out:
	free(lv);
	free(text);
	return rc;
}

/* NAME=ADDR into a peer (pointers into arg). */
static int
peer_parse(char *arg, const char *disk, uint32_t id, struct drbd_peer *p)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1]) {
		fprintf(stderr, "qrig-san: '%s' is not NODE=ADDRESS\n", arg);
		return -EINVAL;
	}
	*eq = '\0';
	p->name = arg;
	p->addr = eq + 1;
	p->node_id = id;
	p->disk = disk;
	return 0;
}

static int
cmd_drbd_res(int argc, char **argv)
{
	struct drbd_res_conf c = { .version = DRBD_84 };
	char why[256], *end, *text = NULL;
	unsigned long minor;

	if (argc != 7)
		return usage();
	minor = strtoul(argv[2], &end, 10);
	if (*end || end == argv[2] || minor > DRBD_MINOR_MAX) {
		fprintf(stderr, "qrig-san: bad minor '%s'\n", argv[2]);
		return 1;
	}
	c.name = argv[1];
	c.minor = (uint32_t)minor;
	c.port = (uint16_t)(7788 + minor);      /* SAN_DRBD_PORT_BASE */
	c.handler = argv[3];
	if (peer_parse(argv[4], argv[6], 0, &c.nodes[0]) < 0 ||
	    peer_parse(argv[5], argv[6], 1, &c.nodes[1]) < 0)
		return 1;
	if (drbd_res_render(&c, &text, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: drbd_res_render: %s\n", why);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

static int
cmd_drbd(int argc, char **argv)
{
	struct cmdseq s;
	const char *step, *res;
	int rc;

	if (argc != 3)
		return usage();
	step = argv[1];
	res = argv[2];
	cmdseq_init(&s);
	if (strcmp(step, "create-md") == 0)
		rc = drbd_cmd_create_md(&s, res, DRBD_84);
	else if (strcmp(step, "up") == 0)
		rc = drbd_cmd_up(&s, res);
	else if (strcmp(step, "down") == 0)
		rc = drbd_cmd_down(&s, res);
	else if (strcmp(step, "primary") == 0)
		rc = drbd_cmd_primary(&s, res);
	else if (strcmp(step, "secondary") == 0)
		rc = drbd_cmd_secondary(&s, res);
	else if (strcmp(step, "primary-initial") == 0)
		rc = drbd_cmd_primary_initial(&s, res, DRBD_84);
	else if (strcmp(step, "state") == 0)
		rc = drbd_cmd_state(&s, res, DRBD_84);
	else {
		cmdseq_free(&s);
		fprintf(stderr, "qrig-san: unknown drbd step '%s'\n", step);
		return 2;
	}
	rc = rc ? (fprintf(stderr, "qrig-san: drbd %s: %s\n", step, strerror(-rc)), 1) :
	     print_seq(&s);
	cmdseq_free(&s);
	return rc;
}

static int
proc_state(const char *minor_arg, struct drbd_state *st)
{
	char why[256], *end, *text;
	unsigned long minor = strtoul(minor_arg, &end, 10);
	int rc;

	if (*end || end == minor_arg || minor > DRBD_MINOR_MAX) {
		fprintf(stderr, "qrig-san: bad minor '%s'\n", minor_arg);
		return -EINVAL;
	}
	text = read_stdin();
	if (!text)
		return -EIO;
	rc = drbd_proc_parse(text, (uint32_t)minor, st, why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "qrig-san: /proc/drbd: %s\n",
			rc == -ENOENT ? "minor not configured" : why);
	free(text);
	return rc;
}

static int
cmd_drbd_state(int argc, char **argv)
{
	struct drbd_state st;

	if (argc != 2)
		return usage();
	if (proc_state(argv[1], &st) < 0)
		return 1;
	printf("%s %s %s %s %s%s\n", st.role, st.peer_role, st.disk, st.peer_disk,
	       st.conn, st.split_brain ? " split-brain" : "");
	return 0;
}

static int
cmd_drbd_may_promote(int argc, char **argv)
{
	struct drbd_state st;
	char why[256];

	if (argc != 2)
		return usage();
	if (proc_state(argv[1], &st) < 0)
		return 1;
	if (drbd_may_promote(&st, false, why, sizeof(why)) < 0) {
		printf("no: %s\n", why);
		return 1;
	}
	puts("yes");
	return 0;
}

/* tgt_plan from stdin's show to want (n == 0: none of ours). */
static int
tgt_plan_print(struct tgt_want *want)
{
	struct tgt_view have = { 0 };
	struct tgt_conf conf = { 0 };
	struct cmdseq s;
	char why[256], *text = read_stdin();
	int rc = 1;

	if (!text)
		return 1;
	cmdseq_init(&s);
	if (tgt_show_parse(text, &have, why, sizeof(why)) < 0)
		fprintf(stderr, "qrig-san: tgtadm show: %s\n", why);
	else if (tgt_plan(&have, want, &conf, &s, why, sizeof(why)) < 0)
		fprintf(stderr, "qrig-san: tgt_plan: %s\n", why);
	else
		rc = print_seq(&s);
	cmdseq_free(&s);
	tgt_view_free(&have);
	free(text);
	return rc;
}

static int
cmd_tgt_unexport(int argc, char **argv)
{
	struct tgt_want want = { 0 };

	if (argc != 2)
		return usage();
	want.iqn_prefix = argv[1];
	return tgt_plan_print(&want);
}

static int
cmd_tgt_show_cmd(void)
{
	struct tgt_conf conf = { 0 };
	struct cmdseq s;
	int rc;

	cmdseq_init(&s);
	rc = tgt_cmd_show(&s, &conf);
	rc = rc ? (fprintf(stderr, "qrig-san: tgt_cmd_show: %s\n", strerror(-rc)), 1) :
	     print_seq(&s);
	cmdseq_free(&s);
	return rc;
}

static int
cmd_tgt_export(int argc, char **argv)
{
	struct tgt_lun lun = { .lun = 1 };
	struct tgt_want_target t = { 0 };
	struct tgt_want want = { 0 };

	if (argc < 4)
		return usage();
	if (strlen(argv[3]) >= sizeof(lun.path)) {
		fprintf(stderr, "qrig-san: device path too long\n");
		return 1;
	}
	strcpy(lun.path, argv[3]);
	t.iqn = argv[2];
	t.luns = &lun;
	t.n_luns = 1;
	t.acl = (const char *const *)&argv[4];
	t.n_acl = (size_t)(argc - 4);
	want.iqn_prefix = argv[1];
	want.targets = &t;
	want.n = 1;
	return tgt_plan_print(&want);
}

static int
cmd_tgt_show(void)
{
	struct tgt_view v = { 0 };
	char why[256], *text = read_stdin();
	int rc = 1;

	if (!text)
		return 1;
	if (tgt_show_parse(text, &v, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: tgtadm show: %s\n", why);
		goto out;
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct tgt_target *t = &v.targets[i];

		printf("%u %s", t->tid, t->iqn);
		for (size_t j = 0; j < t->n_luns; j++)
			printf(" %u=%s", t->luns[j].lun, t->luns[j].path);
		for (size_t j = 0; j < t->n_acl; j++)
			printf(" acl=%s", t->acl[j]);
		for (size_t j = 0; j < t->n_sessions; j++)
			printf(" session=%s", t->sessions[j].initiator);
		putchar('\n');
	}
	rc = 0;
out:
	tgt_view_free(&v);
	free(text);
	return rc;
}

static int
portal_arg(const char *text, struct iscsi_portal *p)
{
	char why[256];

	if (iscsi_portal_parse(text, p, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: %s\n", why);
		return -EINVAL;
	}
	return 0;
}

static int
cmd_iscsi(int argc, char **argv)
{
	struct iscsi_portal p;
	struct cmdseq s;
	const char *what = argv[0];
	int rc;

	cmdseq_init(&s);
	if (strcmp(what, "iscsi-iface") == 0 && argc == 2)
		rc = iscsi_cmd_iface_setup(&s, argv[1]);
	else if (strcmp(what, "iscsi-attach") == 0 && argc == 3)
		rc = portal_arg(argv[2], &p) ? -EINVAL : iscsi_cmd_attach(&s, argv[1], &p, NULL);
	else if (strcmp(what, "iscsi-detach") == 0 && argc == 3)
		rc = portal_arg(argv[2], &p) ? -EINVAL : iscsi_cmd_detach(&s, argv[1], &p);
	else if (strcmp(what, "iscsi-sessions-cmd") == 0 && argc == 1)
		rc = iscsi_cmd_sessions(&s);
	else {
		cmdseq_free(&s);
		return usage();
	}
	rc = rc ? (fprintf(stderr, "qrig-san: %s: %s\n", what, strerror(-rc)), 1) :
	     print_seq(&s);
	cmdseq_free(&s);
	return rc;
}

static int
cmd_iscsi_iface_check(int argc, char **argv)
{
	char got[ISCSI_NAME_MAX + 1], *text;
	int rc;

	if (argc != 2)
		return usage();
	text = read_stdin();
	if (!text)
		return 1;
	rc = iscsi_record_value(text, "iface.initiatorname", got, sizeof(got));
	free(text);
	if (rc < 0) {
		fprintf(stderr, "qrig-san: no iface.initiatorname in the read-back: %s\n",
			strerror(-rc));
		return 1;
	}
	if (strcmp(got, argv[1]) != 0) {
		fprintf(stderr, "qrig-san: iface.initiatorname is '%s', not '%s'\n", got, argv[1]);
		return 1;
	}
	return 0;
}

static int
cmd_iscsi_sessions(void)
{
	struct iscsi_session *ss = NULL;
	size_t n = 0;
	char why[256], *text = read_stdin();
	int rc = 1;

	if (!text)
		return 1;
	if (iscsi_session_parse(text, &ss, &n, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: iscsiadm -m session: %s\n", why);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		printf("%u %s:%u %s\n", ss[i].sid, ss[i].addr, ss[i].port, ss[i].iqn);
	rc = 0;
out:
	free(ss);
	free(text);
	return rc;
}

static int
cmd_iscsi_bypath(int argc, char **argv)
{
	struct iscsi_portal p;
	char buf[ISCSI_BYPATH_MAX], why[256], *end;
	unsigned long lun;

	if (argc != 4)
		return usage();
	if (portal_arg(argv[1], &p) < 0)
		return 1;
	lun = strtoul(argv[3], &end, 10);
	if (*end || end == argv[3] || lun > ISCSI_LUN_MAX) {
		fprintf(stderr, "qrig-san: bad LUN '%s'\n", argv[3]);
		return 1;
	}
	if (iscsi_bypath(buf, sizeof(buf), &p, argv[2], (uint32_t)lun, why, sizeof(why)) < 0) {
		fprintf(stderr, "qrig-san: %s\n", why);
		return 1;
	}
	puts(buf);
	return 0;
}

static int
cmd_iscsi_login_classify(int argc, char **argv)
{
	static const char *const names[] = {
		[ISCSI_FAIL_NONE] = "none", [ISCSI_FAIL_REFUSED] = "refused",
		[ISCSI_FAIL_TRANSPORT] = "transport", [ISCSI_FAIL_OTHER] = "other",
	};
	struct runner_result res = { 0 };
	char *end, *text;
	long rc;
	enum iscsi_failure f;

	if (argc != 2)
		return usage();
	rc = strtol(argv[1], &end, 10);
	if (*end || end == argv[1] || rc < 0 || rc > 255) {
		fprintf(stderr, "qrig-san: bad exit code '%s'\n", argv[1]);
		return 1;
	}
	text = read_stdin();
	if (!text)
		return 1;
	res.exit_code = (int)rc;
	res.out.data = "";
	res.err.data = text;
	res.err.len = strlen(text);
	f = iscsi_login_classify(&res);
	free(text);
	puts(names[f]);
	return 0;
}

/* ---- backup and restore (storage/snapshot.h) ------------------------------ */

static int
seq_print_free(struct cmdseq *s, int rc, const char *what)
{
	rc = rc ? (fprintf(stderr, "qrig-san: %s: %s\n", what, strerror(-rc)), 1) :
	     print_seq(s);
	cmdseq_free(s);
	return rc;
}

static int
cmd_snapshot(int argc, char **argv)
{
	struct lvm_conf c = { .vg = NULL };
	struct cmdseq s;
	uint64_t bytes;
	char why[256];

	cmdseq_init(&s);
	if (strcmp(argv[0], "snapshot-create") == 0 && argc == 5) {
		c.vg = argv[1];
		if (size_parse(argv[4], &bytes, why, sizeof(why)) < 0) {
			fprintf(stderr, "qrig-san: %s\n", why);
			return 1;
		}
		return seq_print_free(&s, snapshot_cmd_lvm_create(&s, &c, argv[2], argv[3],
								  snapshot_size(bytes, 0)),
				      "snapshot_cmd_lvm_create");
	}
	if (strcmp(argv[0], "snapshot-remove") == 0 && argc == 3) {
		c.vg = argv[1];
		return seq_print_free(&s, snapshot_cmd_lvm_remove(&s, &c, argv[2]),
				      "snapshot_cmd_lvm_remove");
	}
	if (strcmp(argv[0], "compress-cmd") == 0 && argc == 3)
		return seq_print_free(&s, snapshot_cmd_compress(&s, argv[1], argv[2]),
				      "snapshot_cmd_compress");
	if (strcmp(argv[0], "devsize-cmd") == 0 && argc == 2)
		return seq_print_free(&s, snapshot_cmd_devsize(&s, argv[1]),
				      "snapshot_cmd_devsize");
	if (strcmp(argv[0], "unpack-cmd") == 0 && argc == 5) {
		errno = 0;
		bytes = strtoull(argv[4], NULL, 10);
		return seq_print_free(&s, errno ? -errno :
				      snapshot_cmd_unpack(&s, argv[1], argv[2], argv[3], bytes),
				      "snapshot_cmd_unpack");
	}
	return usage();
}

/* stdin: blockdev --getsize64's answer -> the bytes */
static int
cmd_devsize(void)
{
	char *text = read_stdin();
	uint64_t bytes;
	int rc;

	if (text == NULL)
		return 1;
	rc = snapshot_devsize_parse(text, &bytes);
	free(text);
	if (rc < 0) {
		fprintf(stderr, "qrig-san: not a device size\n");
		return 1;
	}
	printf("%llu\n", (unsigned long long)bytes);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	argc--;
	argv++;
	if (strcmp(argv[0], "lvcreate") == 0)
		return cmd_lvcreate(argc, argv);
	if (strcmp(argv[0], "lvs-cmd") == 0)
		return cmd_lvs_cmd(argc, argv);
	if (strcmp(argv[0], "lvs") == 0)
		return cmd_lvs();
	if (strcmp(argv[0], "drbd-res") == 0)
		return cmd_drbd_res(argc, argv);
	if (strcmp(argv[0], "drbd") == 0)
		return cmd_drbd(argc, argv);
	if (strcmp(argv[0], "drbd-state") == 0)
		return cmd_drbd_state(argc, argv);
	if (strcmp(argv[0], "drbd-may-promote") == 0)
		return cmd_drbd_may_promote(argc, argv);
	if (strcmp(argv[0], "tgt-export") == 0)
		return cmd_tgt_export(argc, argv);
	if (strcmp(argv[0], "tgt-unexport") == 0)
		return cmd_tgt_unexport(argc, argv);
	if (strcmp(argv[0], "tgt-show-cmd") == 0)
		return cmd_tgt_show_cmd();
	if (strcmp(argv[0], "tgt-show") == 0)
		return cmd_tgt_show();
	if (strcmp(argv[0], "iscsi-iface-check") == 0)
		return cmd_iscsi_iface_check(argc, argv);
	if (strcmp(argv[0], "iscsi-sessions") == 0)
		return cmd_iscsi_sessions();
	if (strcmp(argv[0], "iscsi-bypath") == 0)
		return cmd_iscsi_bypath(argc, argv);
	if (strcmp(argv[0], "iscsi-login-classify") == 0)
		return cmd_iscsi_login_classify(argc, argv);
	if (strncmp(argv[0], "iscsi-", 6) == 0)
		return cmd_iscsi(argc, argv);
	if (strcmp(argv[0], "devsize") == 0)
		return cmd_devsize();
	if (strncmp(argv[0], "snapshot-", 9) == 0 || strcmp(argv[0], "compress-cmd") == 0 ||
	    strcmp(argv[0], "devsize-cmd") == 0 || strcmp(argv[0], "unpack-cmd") == 0)
		return cmd_snapshot(argc, argv);
	return usage();
}
