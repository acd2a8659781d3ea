/* Tests of storage/iscsi.c: names, portals, by-path links, the exact
 * iscsiadm command lines (through cmdseq and the recorder), parsing of
 * what iscsiadm prints and the classification of its failures.  Bad input
 * first, then the happy paths.
 *
 * Real outputs come from tests/data:
 *  - iscsiadm-2.1.8-*.txt: iscsiadm 2.1.8 run on this machine (no iscsid,
 *    no iSCSI kernel modules, a private mount namespace over /etc/iscsi).
 *    After the origin line, a transcript: "$ COMMAND", the stdout lines,
 *    the stderr lines prefixed "2> ", and "exit N".
 *  - open-iscsi-2.1.8-session.txt: from the QEMU run (shared/captured/).
 * Texts that cannot be produced here (logins refused by a target, timed
 * out...) are built from iscsiadm 2.1.8's own format strings (`strings
 * /usr/sbin/iscsiadm`: "Could not login to [iface: %s, target: %s, portal:
 * %s,%d].", "initiator reported error (%d - %s)", "Could not log into all
 * portals", and the message table) with the exit codes of iscsiadm(8)
 * EXIT STATUS; each says where it came from.
 */
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
#include "iscsi.h"
#include "runner.h"

#define IQN     "iqn.2024-01.org.xenmesh.san:vm1"
#define INI     "iqn.2024-01.org.xenmesh:h1"
#define NODE_TP "iscsiadm -m node -T " IQN " -p 10.77.3.100:3260 -I xenmesh"

/* ---- helpers ---------------------------------------------------------- */

/* A data file without its first (origin) line. */
static char *
data_read(const char *name)
{
	char path[512], *buf, *nl;
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/data/%s", TEST_SRCDIR, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = calloc(1, (size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	assert_true(buf[0] == '#');
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	memmove(buf, nl + 1, strlen(nl + 1) + 1);
	return buf;
}

struct transcript {
	char cmd[512];
	char out[8192];
	char err[4096];
	int exit_code;
};

static void
transcript_load(const char *name, struct transcript *t)
{
	char *text = data_read(name), *line, *save = NULL;
	bool have_exit = false;

	memset(t, 0, sizeof(*t));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_false(have_exit);        /* "exit N" comes last */
		if (!strncmp(line, "$ ", 2)) {
			assert_int_equal(t->cmd[0], '\0');
			snprintf(t->cmd, sizeof(t->cmd), "%s", line + 2);
		} else if (!strncmp(line, "2> ", 3)) {
			strncat(t->err, line + 3, sizeof(t->err) - strlen(t->err) - 2);
			strcat(t->err, "\n");
		} else if (!strncmp(line, "exit ", 5)) {
			t->exit_code = atoi(line + 5);
			have_exit = true;
		} else {
			strncat(t->out, line, sizeof(t->out) - strlen(t->out) - 2);
			strcat(t->out, "\n");
		}
	}
	assert_true(have_exit);
	assert_true(t->cmd[0]);
	free(text);
}

static struct runner_canned
transcript_canned(const struct transcript *t)
{
	return (struct runner_canned){ .exit_code = t->exit_code, .out = t->out, .err = t->err };
}

/* What the sequence's done callback saw, copied out of the callback. */
struct got {
	int calls;
	struct cmdseq_outcome o;
	bool has_last;
	struct runner_result last;
	char *out, *err;
};

static void
got_done(void *data, const struct cmdseq_outcome *o)
{
	struct got *g = data;

	g->calls++;
	g->o = *o;
	g->o.last = NULL;
	if (!o->last)
		return;
	g->has_last = true;
	g->last = *o->last;
	g->out = strdup(o->last->out.data ? o->last->out.data : "");
	g->err = strdup(o->last->err.data ? o->last->err.data : "");
	assert_non_null(g->out);
	assert_non_null(g->err);
	g->last.out.data = g->out;
	g->last.err.data = g->err;
}

static void
got_free(struct got *g)
{
	free(g->out);
	free(g->err);
	memset(g, 0, sizeof(*g));
}

/* Run s through r to the end. */
static void
run_all(struct runner *r, struct cmdseq *s, struct got *g)
{
	assert_int_equal(cmdseq_run(r, s, got_done, g, NULL), 0);
	while (runner_recorder_deliver(r))
		;
	assert_int_equal(g->calls, 1);
}

static void
expect_lines(const struct cmdseq *s, const char *const *want, size_t n)
{
	char line[1024];
	size_t i;

	assert_int_equal(s->error, 0);
	assert_int_equal(s->n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(cmdseq_format(s, i, line, sizeof(line)), 0);
		assert_string_equal(line, want[i]);
	}
}

static void
verify_recorder(const struct runner *r)
{
	char msg[512];

	if (runner_recorder_verify(r, msg, sizeof(msg)))
		fail_msg("%s", msg);
}

static struct iscsi_portal
portal(const char *text)
{
	struct iscsi_portal p;
	char why[256];

	if (iscsi_portal_parse(text, &p, why, sizeof(why)))
		fail_msg("%s: %s", text, why);
	return p;
}

/* ---- names ------------------------------------------------------------ */

static void
expect_name_refused(const char *name, const char *why_want)
{
	char why[256] = "";

	assert_int_equal(iscsi_name_check(name, why, sizeof(why)), -EINVAL);
	assert_true(why[0]);
	if (why_want)
		assert_string_equal(why, why_want);
}

static void
test_name_check_bad(void **state)
{
	char longname[300];

	(void)state;
	expect_name_refused(NULL, "the iSCSI name is empty");
	expect_name_refused("", "the iSCSI name is empty");
	expect_name_refused("IQN.2024-01.org.example:x",
			    "\"IQN.2024-01.org.example:x\": iSCSI names are lowercase (RFC 3722), "
			    "write 'i' for 'I'");
	expect_name_refused("iqn.2024-01.org.Example", NULL);
	expect_name_refused("iqn.2024-01.org.example:xen_1",
			    "'_' at offset 27 is not allowed in an iSCSI name "
			    "(only a-z, 0-9, '-', '.', ':')");
	expect_name_refused("iqn.2024-01.org.caf\xc3\xa9",
			    "byte 0xc3 at offset 19 is not allowed in an iSCSI name "
			    "(only a-z, 0-9, '-', '.', ':')");
	expect_name_refused("iqn.2024-01.org.example:a b", NULL);
	expect_name_refused("naa.52004567ba64678d",
			    "\"naa.52004567ba64678d\" is not an iSCSI name: it must start with "
			    "\"iqn.\" or \"eui.\"");
	expect_name_refused("iqn.2024-1.org.example",
			    "\"iqn.2024-1.org.example\": \"iqn.\" must be followed by the date the "
			    "naming authority took its domain, as yyyy-mm (e.g. iqn.2024-01.org.example)");
	expect_name_refused("iqn.2024-13.org.example", NULL);
	expect_name_refused("iqn.2024-00.org.example", NULL);
	expect_name_refused("iqn.24-01.org.example", NULL);
	expect_name_refused("iqn.2024-01",
			    "\"iqn.2024-01\": the date must be followed by '.' and the naming "
			    "authority's reversed domain name (e.g. iqn.2024-01.org.example)");
	expect_name_refused("iqn.2024-01.", NULL);
	expect_name_refused("iqn.2024-01:vm1", NULL);
	expect_name_refused("iqn.2024-01.:vm1", NULL);
	expect_name_refused("iqn.2024-01.org..example",
			    "\"iqn.2024-01.org..example\": the naming authority \"org..example\" "
			    "has an empty label");
	expect_name_refused("iqn.2024-01..org", NULL);
	expect_name_refused("iqn.2024-01.org.:vm1", NULL);
	expect_name_refused("iqn.2024-01.org.example:",
			    "\"iqn.2024-01.org.example:\": nothing follows ':'");
	expect_name_refused("eui.0200456",
			    "\"eui.0200456\": an eui. name is \"eui.\" and 16 hex digits "
			    "(e.g. eui.02004567a425678d)");
	expect_name_refused("eui.02004567a425678d0", NULL);
	expect_name_refused("eui.02004567A425678D", NULL);   /* RFC 3720's spelling, not normalized */
	expect_name_refused("eui.02004567g425678d", NULL);
	/* 224 bytes */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "iqn.2024-01.org.example:", 24);
	longname[224] = '\0';
	expect_name_refused(longname, NULL);
	{
		char why[256];

		assert_int_equal(iscsi_name_check(longname, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "is 224 bytes long, more than 223 (RFC 3720)"));
	}
	/* why may be NULL */
	assert_int_equal(iscsi_name_check("x", NULL, 0), -EINVAL);
}

static void
test_name_check_ok(void **state)
{
	char name[300];
	char why[256] = "";

	(void)state;
	assert_int_equal(iscsi_name_check("iqn.2024-01.spike:lun0", why, sizeof(why)), 0);
	assert_int_equal(iscsi_name_check("iqn.1993-08.org.debian:01:d1ccf28e339c", why,
					  sizeof(why)), 0);
	assert_int_equal(iscsi_name_check(INI, why, sizeof(why)), 0);
	assert_int_equal(iscsi_name_check(IQN, why, sizeof(why)), 0);
	assert_int_equal(iscsi_name_check("iqn.2001-04.com.example", why, sizeof(why)), 0);
	assert_int_equal(iscsi_name_check("eui.02004567a425678d", why, sizeof(why)), 0);
	/* exactly 223 bytes */
	memset(name, 'a', sizeof(name));
	memcpy(name, "iqn.2024-01.org.example:", 24);
	name[223] = '\0';
	assert_int_equal(iscsi_name_check(name, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void
test_name_join_bad(void **state)
{
	char buf[256], why[256];
	char part[230];

	(void)state;
	assert_int_equal(iscsi_name_join(NULL, 0, "iqn.2024-01.org.x", "h1", why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01", "h1", why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(buf, "");
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "eui.02004567a425678d", "h1", why,
					 sizeof(why)), -EINVAL);
	assert_string_equal(why, "\"eui.02004567a425678d\": only an \"iqn.\" name can be "
			    "followed by \":<name>\"");
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", "", why,
					 sizeof(why)), -EINVAL);
	assert_string_equal(why, "the name to append to \"iqn.2024-01.org.xenmesh\" is empty");
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", NULL, why,
					 sizeof(why)), -EINVAL);
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", "H1", why,
					 sizeof(why)), -EINVAL);
	assert_string_equal(why, "\"H1\" cannot be part of an iSCSI name: 'H' is uppercase and "
			    "iSCSI names are lowercase (RFC 3722)");
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", "web_1",
					 why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "\"web_1\" cannot be part of an iSCSI name: '_' is not allowed "
			    "(only a-z, 0-9, '-', '.')");
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", "a:b",
					 why, sizeof(why)), -EINVAL);
	memset(part, 'h', sizeof(part));
	part[sizeof(part) - 1] = '\0';
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", part,
					 why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "would be 253 bytes long, more than 223 (RFC 3720)"));
	/* a buffer too small is not the caller's input's fault */
	assert_int_equal(iscsi_name_join(buf, 10, "iqn.2024-01.org.xenmesh", "h1", why,
					 sizeof(why)), -ENOSPC);
	assert_string_equal(buf, "");
}

static void
test_name_join_ok(void **state)
{
	char buf[ISCSI_NAME_MAX + 1], why[256];

	(void)state;
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh", "h1", why,
					 sizeof(why)), 0);
	assert_string_equal(buf, INI);
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.xenmesh.san", "vm1",
					 why, sizeof(why)), 0);
	assert_string_equal(buf, IQN);
	/* a prefix that has a ':' part already */
	assert_int_equal(iscsi_name_join(buf, sizeof(buf), "iqn.2024-01.org.example:xen",
					 "node-2.dc1", why, sizeof(why)), 0);
	assert_string_equal(buf, "iqn.2024-01.org.example:xen:node-2.dc1");
}

/* ---- portals ---------------------------------------------------------- */

static void
expect_portal_refused(const char *text, const char *why_want)
{
	struct iscsi_portal p;
	char why[256] = "";

	assert_int_equal(iscsi_portal_parse(text, &p, why, sizeof(why)), -EINVAL);
	assert_true(why[0]);
	if (why_want)
		assert_string_equal(why, why_want);
	assert_string_equal(p.addr, "");
	assert_int_equal(p.port, 0);
}

static void
test_portal_parse_bad(void **state)
{
	char why[256];
	char longtext[200];

	(void)state;
	assert_int_equal(iscsi_portal_parse("10.0.0.1", NULL, why, sizeof(why)), -EINVAL);
	expect_portal_refused(NULL, NULL);
	expect_portal_refused("", "the portal is empty: give the SAN's floating IP address, "
			      "e.g. 10.77.3.100 or 10.77.3.100:3260");
	expect_portal_refused("san.example",
			      "\"san.example\" is not an IP address: the portal is the SAN's "
			      "floating IP address (names are not resolved), optionally with :port");
	expect_portal_refused("san.example:3260", NULL);
	expect_portal_refused("10.77.3", NULL);
	expect_portal_refused("010.77.3.100", NULL);
	expect_portal_refused("10.77.3.100 ", NULL);
	expect_portal_refused("10.77.3.100:",
			      "\"10.77.3.100:\": the port must be a number from 1 to 65535");
	expect_portal_refused("10.77.3.100:0", NULL);
	expect_portal_refused("10.77.3.100:65536", NULL);
	expect_portal_refused("10.77.3.100:3260x", NULL);
	expect_portal_refused("10.77.3.100:+80", NULL);
	expect_portal_refused("10.77.3.100:0000003260", NULL);
	expect_portal_refused("fd00::1",
			      "\"fd00::1\": write an IPv6 portal in brackets, e.g. [fd00::1]:3260");
	expect_portal_refused("fd00::1:3260", NULL);
	expect_portal_refused("[fd00::1", "\"[fd00::1\": missing ']' after the IPv6 address");
	expect_portal_refused("[fd00::1]3260", "\"[fd00::1]3260\": only \":port\" may follow ']'");
	expect_portal_refused("[10.0.0.1]:3260",
			      "\"[10.0.0.1]:3260\": \"10.0.0.1\" is not an IPv6 address");
	expect_portal_refused("[fe80::1%eth0]:3260", NULL);
	expect_portal_refused("[]:3260", NULL);
	expect_portal_refused("10.77.3.100\n", "the portal has a character that is not printable");
	memset(longtext, '1', sizeof(longtext));
	longtext[sizeof(longtext) - 1] = '\0';
	expect_portal_refused(longtext, NULL);
}

static void
test_portal_parse_ok(void **state)
{
	struct iscsi_portal p;
	char why[256], buf[96];

	(void)state;
	p = portal("10.77.3.100");
	assert_string_equal(p.addr, "10.77.3.100");
	assert_int_equal(p.port, ISCSI_PORT_DEFAULT);
	assert_int_equal(iscsi_portal_format(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.77.3.100:3260");

	p = portal("10.0.2.2:3261");
	assert_string_equal(p.addr, "10.0.2.2");
	assert_int_equal(p.port, 3261);

	p = portal("[fd00::1]:3260");
	assert_string_equal(p.addr, "fd00::1");
	assert_int_equal(iscsi_portal_format(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "[fd00::1]:3260");

	/* canonical form, default port */
	p = portal("[FD00:0:0:0:0:0:0:1]");
	assert_string_equal(p.addr, "fd00::1");
	assert_int_equal(p.port, 3260);

	p = portal("1.2.3.4:65535");
	assert_int_equal(p.port, 65535);
	assert_int_equal(iscsi_portal_parse("1.2.3.4:1", &p, why, sizeof(why)), 0);
	assert_int_equal(p.port, 1);

	/* format: bad input, small buffer */
	assert_int_equal(iscsi_portal_format(&p, buf, 5), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(iscsi_portal_format(NULL, buf, sizeof(buf)), -EINVAL);
	memset(&p, 0, sizeof(p));
	assert_int_equal(iscsi_portal_format(&p, buf, sizeof(buf)), -EINVAL);
	snprintf(p.addr, sizeof(p.addr), "san.example");
	p.port = 3260;
	assert_int_equal(iscsi_portal_format(&p, buf, sizeof(buf)), -EINVAL);
}

/* ---- by-path ---------------------------------------------------------- */

static void
test_bypath(void **state)
{
	struct iscsi_portal p = portal("10.77.3.100"), zero = { 0 };
	char buf[ISCSI_BYPATH_MAX], why[256];

	(void)state;
	/* bad input */
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &p, IQN, 0, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "LUN 0 is out of range: disks are LUNs 1 to 15");
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &p, IQN, 16, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "LUN 16 is out of range: disks are LUNs 1 to 15");
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &p, "iqn.2024-01.org.x:VM1", 1, why,
				      sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "lowercase"));
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &zero, IQN, 1, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the portal is not a numeric address and port");
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), NULL, IQN, 1, why, sizeof(why)), -EINVAL);
	assert_int_equal(iscsi_bypath(buf, 20, &p, IQN, 1, why, sizeof(why)), -ENOSPC);
	assert_string_equal(buf, "");

	/* the QEMU run's disk: sd 0:0:0:1 of iqn.2024-01.spike:lun0 via 10.0.2.2:3261 */
	p = portal("10.0.2.2:3261");
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &p, "iqn.2024-01.spike:lun0", 1, why,
				      sizeof(why)), 0);
	assert_string_equal(buf, "/dev/disk/by-path/ip-10.0.2.2:3261-iscsi-iqn.2024-01.spike:lun0-lun-1");
	p = portal("10.77.3.100");
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &p, IQN, 15, why, sizeof(why)), 0);
	assert_string_equal(buf, "/dev/disk/by-path/ip-10.77.3.100:3260-iscsi-" IQN "-lun-15");
	/* IPv6: udev writes the address without brackets */
	p = portal("[fd00::1]:3260");
	assert_int_equal(iscsi_bypath(buf, sizeof(buf), &p, IQN, 2, why, sizeof(why)), 0);
	assert_string_equal(buf, "/dev/disk/by-path/ip-fd00::1:3260-iscsi-" IQN "-lun-2");
}

/* ---- command sequences: bad input -------------------------------------- */

static void
test_cmd_bad_input(void **state)
{
	struct iscsi_portal p = portal("10.77.3.100"), zero = { 0 };
	struct iscsi_timeouts t;
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(iscsi_cmd_iface_setup(NULL, INI), -EINVAL);
	assert_int_equal(iscsi_cmd_attach(NULL, IQN, &p, NULL), -EINVAL);
	assert_int_equal(iscsi_cmd_detach(NULL, IQN, &p), -EINVAL);
	assert_int_equal(iscsi_cmd_sessions(NULL), -EINVAL);

	/* nothing appended, and the sequence can no longer run */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_iface_setup(&s, "H1"), -EINVAL);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.error, -EINVAL);
	assert_int_equal(iscsi_cmd_sessions(&s), -EINVAL);      /* sticky */
	assert_int_equal(cmdseq_run(r, &s, got_done, &g, NULL), -EINVAL);
	cmdseq_free(&s);

	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, "iqn.2024-01.org.x:VM1", &p, NULL), -EINVAL);
	assert_int_equal(s.n, 0);
	cmdseq_free(&s);
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &zero, NULL), -EINVAL);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, NULL, NULL), -EINVAL);
	assert_int_equal(s.n, 0);
	cmdseq_free(&s);
	t = (struct iscsi_timeouts){ .replacement_s = ISCSI_REPLACEMENT_S_MAX + 1 };
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, &t), -EINVAL);
	cmdseq_free(&s);
	t = (struct iscsi_timeouts){ .login_s = ISCSI_LOGIN_S_MAX + 1 };
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, &t), -EINVAL);
	cmdseq_free(&s);
	t = (struct iscsi_timeouts){ .login_retries = ISCSI_LOGIN_RETRIES_MAX + 1 };
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, &t), -EINVAL);
	assert_int_equal(s.n, 0);
	cmdseq_free(&s);

	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_detach(&s, "", &p), -EINVAL);
	assert_int_equal(iscsi_cmd_detach(&s, IQN, &zero), -EINVAL);
	assert_int_equal(s.n, 0);
	cmdseq_free(&s);

	assert_int_equal(runner_recorder_count(r), 0);
	assert_int_equal(g.calls, 0);
	runner_close(r);
}

/* ---- iface setup ------------------------------------------------------ */

static const char *const iface_lines[] = {
	"iscsiadm -m iface -I xenmesh -o new",
	"iscsiadm -m iface -I xenmesh -o update -n iface.initiatorname -v " INI,
	"iscsiadm -m iface -I xenmesh",
};

static void
test_iface_setup(void **state)
{
	struct transcript t_new, t_upd, t_show;
	struct runner_canned c;
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };
	char value[256];
	size_t i;

	(void)state;
	transcript_load("iscsiadm-2.1.8-iface-new.txt", &t_new);
	transcript_load("iscsiadm-2.1.8-iface-update-nomodule.txt", &t_upd);
	transcript_load("iscsiadm-2.1.8-iface-show.txt", &t_show);
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_iface_setup(&s, INI), 0);
	expect_lines(&s, iface_lines, 3);
	/* the very lines run against the real iscsiadm */
	assert_string_equal(iface_lines[0], t_new.cmd);
	assert_string_equal(iface_lines[1], t_upd.cmd);
	assert_string_equal(iface_lines[2], t_show.cmd);
	for (i = 0; i < 3; i++)
		assert_false(s.steps[i].may_fail);

	/* a dom0: the update works (here it cannot, see the next case) */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	c = transcript_canned(&t_new);
	runner_recorder_expect(r, iface_lines[0], &c);
	runner_recorder_expect(r, iface_lines[1], &(struct runner_canned){ 0 });
	c = transcript_canned(&t_show);
	runner_recorder_expect(r, iface_lines[2], &c);
	run_all(r, &s, &g);
	assert_int_equal(g.o.rc, 0);
	verify_recorder(r);
	for (i = 0; i < 3; i++)
		assert_string_equal(runner_recorder_get(r, i)->line, iface_lines[i]);
	/* the read-back confirms the name */
	assert_true(g.has_last);
	assert_int_equal(iscsi_record_value(g.last.out.data, "iface.initiatorname", value,
					    sizeof(value)), 0);
	assert_string_equal(value, INI);
	got_free(&g);
	runner_close(r);

	/* this machine: the update needs the iscsi_tcp kernel module */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	c = transcript_canned(&t_new);
	runner_recorder_expect(r, iface_lines[0], &c);
	c = transcript_canned(&t_upd);
	runner_recorder_expect(r, iface_lines[1], &c);
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_iface_setup(&s, INI), 0);
	run_all(r, &s, &g);
	assert_int_equal(g.o.rc, -EIO);
	assert_int_equal(g.o.failed, 1);
	assert_int_equal(runner_recorder_count(r), 2);
	assert_string_equal(g.o.message, "iscsiadm -m iface -I xenmesh -o update -n "
			    "iface.initiatorname -v " INI ": exit 7: iscsiadm: Cound not locate "
			    "transport for iface xenmesh");
	assert_int_equal(g.last.exit_code, 7);
	assert_int_equal(iscsi_login_classify(&g.last), ISCSI_FAIL_OTHER);
	got_free(&g);
	runner_close(r);
}

/* ---- attach ----------------------------------------------------------- */

static const char *const attach_lines[] = {
	"iscsiadm -m node -o new -T " IQN " -p 10.77.3.100:3260 -I xenmesh",
	NODE_TP " -o update -n node.startup -v manual",
	NODE_TP " -o update -n node.session.timeo.replacement_timeout -v 120",
	NODE_TP " -o update -n 'node.conn[0].timeo.login_timeout' -v 10",
	NODE_TP " -o update -n node.session.initial_login_retry_max -v 2",
	NODE_TP " --login",
	"iscsiadm -m session",
};
#define ATTACH_LOGIN 5

/* "Login to [iface: %s, target: %s, portal: %s,%d] successful." and
 * "Logging in to [...]": iscsiadm 2.1.8 (strings, usr/iscsiadm.c) */
static const char login_ok_out[] =
	"Logging in to [iface: xenmesh, target: " IQN ", portal: 10.77.3.100,3260]\n"
	"Login to [iface: xenmesh, target: " IQN ", portal: 10.77.3.100,3260] successful.\n";

static void
test_attach_lines(void **state)
{
	struct iscsi_portal p = portal("10.77.3.100");
	struct iscsi_timeouts t = { .replacement_s = 30, .login_s = 5, .login_retries = 1 };
	struct transcript t_new, t_upd, t_login;
	struct cmdseq s;
	char line[512];
	size_t i;

	(void)state;
	transcript_load("iscsiadm-2.1.8-node-new.txt", &t_new);
	transcript_load("iscsiadm-2.1.8-node-update.txt", &t_upd);
	transcript_load("iscsiadm-2.1.8-login-no-iscsid.txt", &t_login);

	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, NULL), 0);
	expect_lines(&s, attach_lines, 7);
	assert_string_equal(attach_lines[0], t_new.cmd);
	assert_string_equal(attach_lines[1], t_upd.cmd);
	assert_string_equal(attach_lines[ATTACH_LOGIN], t_login.cmd);
	for (i = 0; i < 6; i++)
		assert_false(s.steps[i].may_fail);
	assert_true(s.steps[6].may_fail);
	/* (10 s * (2 + 1) + 30 s) */
	assert_int_equal(s.steps[ATTACH_LOGIN].timeout_ms, 60000);
	assert_int_equal(s.steps[0].timeout_ms, 0);
	cmdseq_free(&s);

	/* own timeouts; zero fields keep the defaults */
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, &t), 0);
	assert_int_equal(cmdseq_format(&s, 2, line, sizeof(line)), 0);
	assert_string_equal(line, NODE_TP " -o update -n node.session.timeo.replacement_timeout -v 30");
	assert_int_equal(cmdseq_format(&s, 3, line, sizeof(line)), 0);
	assert_string_equal(line, NODE_TP " -o update -n 'node.conn[0].timeo.login_timeout' -v 5");
	assert_int_equal(cmdseq_format(&s, 4, line, sizeof(line)), 0);
	assert_string_equal(line, NODE_TP " -o update -n node.session.initial_login_retry_max -v 1");
	assert_int_equal(s.steps[ATTACH_LOGIN].timeout_ms, (5 * 2 + 30) * 1000);
	cmdseq_free(&s);
	t = (struct iscsi_timeouts){ .login_s = 20 };
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, &t), 0);
	assert_int_equal(cmdseq_format(&s, 2, line, sizeof(line)), 0);
	assert_string_equal(line, NODE_TP " -o update -n node.session.timeo.replacement_timeout -v 120");
	assert_int_equal(s.steps[ATTACH_LOGIN].timeout_ms, (20 * 3 + 30) * 1000);
	cmdseq_free(&s);

	/* IPv6 portal: iscsiadm takes it bracketed (node-new-ipv6 capture) */
	p = portal("[fd00::1]:3260");
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, NULL), 0);
	assert_int_equal(cmdseq_format(&s, 0, line, sizeof(line)), 0);
	assert_string_equal(line, "iscsiadm -m node -o new -T " IQN " -p '[fd00::1]:3260' -I xenmesh");
	assert_string_equal(s.steps[0].argv[8], "[fd00::1]:3260");
	transcript_load("iscsiadm-2.1.8-node-new-ipv6.txt", &t_new);
	assert_non_null(strstr(t_new.cmd, " -p [fd00::1]:3260 "));
	assert_int_equal(t_new.exit_code, 0);
	cmdseq_free(&s);
}

static void
test_attach_run(void **state)
{
	struct iscsi_portal p = portal("10.77.3.100");
	struct transcript t_new, t_upd;
	struct runner_canned c;
	struct iscsi_session *ss;
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };
	char why[256], bypath[ISCSI_BYPATH_MAX];
	size_t i, n;

	(void)state;
	transcript_load("iscsiadm-2.1.8-node-new.txt", &t_new);
	transcript_load("iscsiadm-2.1.8-node-update.txt", &t_upd);
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	c = transcript_canned(&t_new);
	runner_recorder_expect(r, attach_lines[0], &c);
	c = transcript_canned(&t_upd);
	for (i = 1; i < ATTACH_LOGIN; i++)
		runner_recorder_expect(r, attach_lines[i], &c);
	runner_recorder_expect(r, attach_lines[ATTACH_LOGIN],
			       &(struct runner_canned){ .out = login_ok_out });
	runner_recorder_expect(r, attach_lines[6], &(struct runner_canned){
		.out = "tcp: [3] 10.77.3.100:3260,1 " IQN " (non-flash)\n" });
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, NULL), 0);
	run_all(r, &s, &g);
	assert_int_equal(g.o.rc, 0);
	assert_int_equal(g.o.tolerated, 0);
	verify_recorder(r);
	for (i = 0; i < 7; i++)
		assert_string_equal(runner_recorder_get(r, i)->line, attach_lines[i]);
	assert_int_equal(runner_recorder_get(r, ATTACH_LOGIN)->timeout_ms, 60000);
	assert_int_equal(runner_recorder_get(r, 0)->timeout_ms, CMDSEQ_TIMEOUT_DEFAULT_MS);
	/* confirmed by the read-back */
	assert_int_equal(iscsi_sessions_result(&g.last, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(iscsi_session_find(ss, n, IQN, &p), 0);
	assert_int_equal(ss[0].sid, 3);
	assert_int_equal(iscsi_bypath(bypath, sizeof(bypath), &p, IQN, 1, why, sizeof(why)), 0);
	assert_string_equal(bypath, "/dev/disk/by-path/ip-10.77.3.100:3260-iscsi-" IQN "-lun-1");
	free(ss);
	got_free(&g);
	runner_close(r);
}

/* A login failure as iscsiadm 2.1.8 prints it; texts from its format
 * strings ("Could not login to [iface: %s, target: %s, portal: %s,%d].",
 * "initiator reported error (%d - %s)", "Could not log into all portals")
 * and its message table (usr/iscsi_err.c), exit codes from iscsiadm(8). */
#define LOGIN_FAILED(code, msg)                                                   \
	"iscsiadm: Could not login to [iface: xenmesh, target: " IQN ", portal: "  \
	"10.77.3.100,3260].\n"                                                     \
	"iscsiadm: initiator reported error (" #code " - " msg ")\n"               \
	"iscsiadm: Could not log into all portals\n"

struct login_case {
	const char *what;               /* and where the text comes from */
	int exit_code;
	const char *err;
	enum iscsi_failure want;
	bool timed_out;
	int term_signal;
	int exec_errno;
};

static const struct login_case login_cases[] = {
	/* target refused us: tgt answers "target not found" (02/03) to an
	 * initiator its ACL does not admit (captured/README.md); iscsid logs
	 * "login rejected: initiator error - target not found (02/03)" and
	 * reports 19 (public reports quote exactly this pair) */
	{ "19 ISCSI_ERR_FATAL_LOGIN", 19,
	  LOGIN_FAILED(19, "encountered non-retryable iSCSI login failure"),
	  ISCSI_FAIL_REFUSED, false, 0, 0 },
	/* CHAP failure or forbidden target (02/01, 02/02) */
	{ "24 ISCSI_ERR_LOGIN_AUTH_FAILED", 24,
	  LOGIN_FAILED(24, "iSCSI login failed due to authorization failure"),
	  ISCSI_FAIL_REFUSED, false, 0, 0 },
	/* portal unreachable: iscsid gave up after its retries (public
	 * reports: "initiator reported error (8 - connection timed out)",
	 * exit 8, ~2 min with the default retries) */
	{ "8 ISCSI_ERR_TRANS_TIMEOUT", 8, LOGIN_FAILED(8, "connection timed out"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	{ "4 ISCSI_ERR_TRANS", 4, LOGIN_FAILED(4, "encountered connection failure"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	{ "5 ISCSI_ERR_LOGIN", 5, LOGIN_FAILED(5, "encountered iSCSI login failure"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	{ "11 ISCSI_ERR_PDU_TIMEOUT", 11, LOGIN_FAILED(11, "iSCSI PDU timed out"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	{ "29 ISCSI_ERR_AGAIN", 29, LOGIN_FAILED(29, "operation failed but retry may succeed"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	{ "32 ISCSI_ERR_SESSION_NOT_CONNECTED", 32, LOGIN_FAILED(32, "target likely not connected"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	/* already logged in: "%s: %d session%s requested, but %d already
	 * present." (iscsiadm 2.1.8 strings; exit 15 ISCSI_ERR_SESS_EXISTS) */
	{ "15 ISCSI_ERR_SESS_EXISTS", 15,
	  "iscsiadm: xenmesh: 1 session requested, but 1 already present.\n",
	  ISCSI_FAIL_NONE, false, 0, 0 },
	{ "15 as iscsid reports it", 15, LOGIN_FAILED(15, "session exists"),
	  ISCSI_FAIL_NONE, false, 0, 0 },
	/* local trouble */
	{ "20 ISCSI_ERR_ISCSID_NOTCONN (captured: iscsiadm-2.1.8-login-no-iscsid.txt)", -1,
	  NULL, ISCSI_FAIL_OTHER, false, 0, 0 },
	{ "21 ISCSI_ERR_NO_OBJS_FOUND (captured: no node record)", 21,
	  "iscsiadm: No records found\n", ISCSI_FAIL_OTHER, false, 0, 0 },
	{ "7 ISCSI_ERR_INVAL", 7,
	  "iscsiadm: Could not execute operation on all records: invalid parameter\n",
	  ISCSI_FAIL_OTHER, false, 0, 0 },
	{ "12 ISCSI_ERR_TRANS_NOT_FOUND", 12,
	  LOGIN_FAILED(12, "iSCSI driver not found. Please make sure it is loaded, and retry "
		       "the operation"), ISCSI_FAIL_OTHER, false, 0, 0 },
	/* exit(-1) of a usage error */
	{ "255 usage", 255, "Try `iscsiadm --help' for more information.\n",
	  ISCSI_FAIL_OTHER, false, 0, 0 },
	/* generic 1: the reported code decides when there is one */
	{ "1 with a reported 19", 1, LOGIN_FAILED(19, "encountered non-retryable iSCSI login failure"),
	  ISCSI_FAIL_REFUSED, false, 0, 0 },
	{ "1 with a reported 8", 1, LOGIN_FAILED(8, "connection timed out"),
	  ISCSI_FAIL_TRANSPORT, false, 0, 0 },
	{ "1 without a code", 1, "iscsiadm: Could not log into all portals\n",
	  ISCSI_FAIL_OTHER, false, 0, 0 },
	/* the runner's own outcomes */
	{ "killed at the step timeout", -1, "", ISCSI_FAIL_TRANSPORT, true, 9, 0 },
	{ "killed by a signal", -1, "", ISCSI_FAIL_OTHER, false, 15, 0 },
	{ "not started", -1, "", ISCSI_FAIL_OTHER, false, 0, ENOENT },
};

static void
test_attach_login_failures(void **state)
{
	struct iscsi_portal p = portal("10.77.3.100");
	struct transcript t_login;
	struct cmdseq s;
	struct runner *r;
	size_t i, k;

	(void)state;
	transcript_load("iscsiadm-2.1.8-login-no-iscsid.txt", &t_login);
	for (k = 0; k < sizeof(login_cases) / sizeof(login_cases[0]); k++) {
		const struct login_case *lc = &login_cases[k];
		struct runner_canned c = {
			.exit_code = lc->exit_code, .err = lc->err, .timed_out = lc->timed_out,
			.term_signal = lc->term_signal, .exec_errno = lc->exec_errno,
			.elapsed_ms = lc->timed_out ? 60000 : 5,
		};
		struct got g = { 0 };

		if (!lc->err)
			c = transcript_canned(&t_login);
		assert_int_equal(runner_recorder_open(&r, NULL), 0);
		assert_int_equal(runner_recorder_set_ordered(r, true), 0);
		for (i = 0; i < ATTACH_LOGIN; i++)
			runner_recorder_expect(r, attach_lines[i], &(struct runner_canned){ 0 });
		runner_recorder_expect(r, attach_lines[ATTACH_LOGIN], &c);
		cmdseq_init(&s);
		assert_int_equal(iscsi_cmd_attach(&s, IQN, &p, NULL), 0);
		run_all(r, &s, &g);
		if (g.o.rc != -EIO || g.o.failed != ATTACH_LOGIN)
			fail_msg("%s: rc %d failed %zu", lc->what, g.o.rc, g.o.failed);
		assert_int_equal(runner_recorder_count(r), ATTACH_LOGIN + 1);  /* no read-back */
		verify_recorder(r);
		if (iscsi_login_classify(&g.last) != lc->want)
			fail_msg("%s: classified %s, want %s", lc->what,
				 iscsi_failure_name(iscsi_login_classify(&g.last)),
				 iscsi_failure_name(lc->want));
		got_free(&g);
		runner_close(r);
	}
}

static void
test_classify_direct(void **state)
{
	struct runner_result res = { 0 };

	(void)state;
	assert_int_equal(iscsi_login_classify(NULL), ISCSI_FAIL_OTHER);
	res.out.data = "";
	res.err.data = "";
	assert_int_equal(iscsi_login_classify(&res), ISCSI_FAIL_NONE);
	res.cancelled = true;
	assert_int_equal(iscsi_login_classify(&res), ISCSI_FAIL_OTHER);
	res = (struct runner_result){ .exit_code = 19 };       /* no text at all */
	assert_int_equal(iscsi_login_classify(&res), ISCSI_FAIL_REFUSED);
	res = (struct runner_result){ .exit_code = 1,
				      .err = { .data = "initiator reported error (x - y)" } };
	assert_int_equal(iscsi_login_classify(&res), ISCSI_FAIL_OTHER);
	assert_string_equal(iscsi_failure_name(ISCSI_FAIL_NONE), "none");
	assert_string_equal(iscsi_failure_name(ISCSI_FAIL_REFUSED), "refused");
	assert_string_equal(iscsi_failure_name(ISCSI_FAIL_TRANSPORT), "transport");
	assert_string_equal(iscsi_failure_name(ISCSI_FAIL_OTHER), "other");
	assert_string_equal(iscsi_failure_name((enum iscsi_failure)42), "?");
}

/* ---- detach ----------------------------------------------------------- */

static const char *const detach_lines[] = {
	NODE_TP " --logout",
	"iscsiadm -m node -o delete -T " IQN " -p 10.77.3.100:3260 -I xenmesh",
	"iscsiadm -m session",
};

static void
test_detach(void **state)
{
	struct iscsi_portal p = portal("10.77.3.100");
	struct transcript t_logout, t_del, t_del2, t_none;
	struct iscsi_session *ss;
	struct runner_canned c;
	struct cmdseq s;
	struct runner *r;
	struct got g = { 0 };
	char why[256];
	size_t i, n;

	(void)state;
	transcript_load("iscsiadm-2.1.8-logout-no-session.txt", &t_logout);
	transcript_load("iscsiadm-2.1.8-node-delete.txt", &t_del);
	transcript_load("iscsiadm-2.1.8-node-delete-no-records.txt", &t_del2);
	transcript_load("iscsiadm-2.1.8-session-none.txt", &t_none);
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_detach(&s, IQN, &p), 0);
	expect_lines(&s, detach_lines, 3);
	assert_string_equal(detach_lines[0], t_logout.cmd);
	assert_string_equal(detach_lines[1], t_del.cmd);
	assert_string_equal(detach_lines[1], t_del2.cmd);
	assert_string_equal(detach_lines[2], t_none.cmd);
	for (i = 0; i < 3; i++)
		assert_true(s.steps[i].may_fail);

	/* nothing left to undo: every step exits 21, still done */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	c = transcript_canned(&t_logout);
	runner_recorder_expect(r, detach_lines[0], &c);
	c = transcript_canned(&t_del2);
	runner_recorder_expect(r, detach_lines[1], &c);
	c = transcript_canned(&t_none);
	runner_recorder_expect(r, detach_lines[2], &c);
	run_all(r, &s, &g);
	assert_int_equal(g.o.rc, 0);
	assert_int_equal(g.o.tolerated, 3);
	verify_recorder(r);
	assert_int_equal(g.last.exit_code, 21);
	assert_int_equal(iscsi_sessions_result(&g.last, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_null(ss);
	assert_int_equal(iscsi_session_find(ss, n, IQN, &p), -ENOENT);
	got_free(&g);
	runner_close(r);

	/* a real logout (its messages as captured in the QEMU run, for this
	 * target), another VM's session stays */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	runner_recorder_expect(r, detach_lines[0], &(struct runner_canned){ .out =
		"Logging out of session [sid: 3, target: " IQN ", portal: 10.77.3.100,3260]\n"
		"Logout of [sid: 3, target: " IQN ", portal: 10.77.3.100,3260] successful.\n" });
	c = transcript_canned(&t_del);
	runner_recorder_expect(r, detach_lines[1], &c);
	runner_recorder_expect(r, detach_lines[2], &(struct runner_canned){ .out =
		"tcp: [4] 10.77.3.100:3260,1 iqn.2024-01.org.xenmesh.san:vm2 (non-flash)\n" });
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_detach(&s, IQN, &p), 0);
	run_all(r, &s, &g);
	assert_int_equal(g.o.rc, 0);
	assert_int_equal(g.o.tolerated, 0);
	assert_int_equal(iscsi_sessions_result(&g.last, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(iscsi_session_find(ss, n, IQN, &p), -ENOENT);
	free(ss);
	got_free(&g);
	runner_close(r);

	/* the logout fails (its text: a public report of open-iscsi 2.1.x,
	 * exit 32), so the record stays: "This command will remove the record
	 * [...], but a session is using it. ..." (iscsiadm 2.1.8 strings; the
	 * exit code here is not verified, the step may fail anyway); the
	 * read-back shows the detach did not happen */
	assert_int_equal(runner_recorder_open(&r, NULL), 0);
	assert_int_equal(runner_recorder_set_ordered(r, true), 0);
	runner_recorder_expect(r, detach_lines[0], &(struct runner_canned){
		.exit_code = 32,
		.out = "Logging out of session [sid: 3, target: " IQN ", portal: 10.77.3.100,3260]\n",
		.err = "iscsiadm: Could not logout of [sid: 3, target: " IQN ", portal: "
		       "10.77.3.100,3260].\n"
		       "iscsiadm: initiator reported error (32 - target likely not connected)\n"
		       "iscsiadm: Could not logout of all requested sessions\n" });
	runner_recorder_expect(r, detach_lines[1], &(struct runner_canned){
		.exit_code = 15,
		.err = "iscsiadm: This command will remove the record [iface: xenmesh, target: "
		       IQN ", portal: 10.77.3.100,3260], but a session is using it. Logout "
		       "session then rerun command to remove record.\n" });
	runner_recorder_expect(r, detach_lines[2], &(struct runner_canned){ .out =
		"tcp: [3] 10.77.3.100:3260,1 " IQN " (non-flash)\n" });
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_detach(&s, IQN, &p), 0);
	run_all(r, &s, &g);
	assert_int_equal(g.o.rc, 0);
	assert_int_equal(g.o.tolerated, 2);
	assert_int_equal(iscsi_sessions_result(&g.last, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(iscsi_session_find(ss, n, IQN, &p), 0);
	free(ss);
	got_free(&g);
	runner_close(r);
}

static void
test_sessions_cmd(void **state)
{
	struct cmdseq s;
	char line[64];

	(void)state;
	cmdseq_init(&s);
	assert_int_equal(iscsi_cmd_sessions(&s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(cmdseq_format(&s, 0, line, sizeof(line)), 0);
	assert_string_equal(line, "iscsiadm -m session");
	assert_true(s.steps[0].may_fail);
	cmdseq_free(&s);
}

/* ---- session list ----------------------------------------------------- */

static void
expect_sessions_refused(const char *text, const char *why_want)
{
	struct iscsi_session *ss = (struct iscsi_session *)1;
	size_t n = 99;
	char why[256] = "";

	assert_int_equal(iscsi_session_parse(text, &ss, &n, why, sizeof(why)), -EINVAL);
	assert_null(ss);
	assert_int_equal(n, 0);
	assert_true(why[0]);
	if (why_want)
		assert_string_equal(why, why_want);
}

static void
test_session_parse_bad(void **state)
{
	struct iscsi_session *ss;
	size_t n;
	char why[256], longline[1200];

	(void)state;
	assert_int_equal(iscsi_session_parse("", NULL, &n, why, sizeof(why)), -EINVAL);
	assert_int_equal(iscsi_session_parse("", &ss, NULL, why, sizeof(why)), -EINVAL);
	expect_sessions_refused(NULL, "no session list to parse");
	expect_sessions_refused("iscsiadm: No active sessions.\n",
				"line 1 of the session list is not a session: "
				"\"iscsiadm: No active sessions.\"");
	expect_sessions_refused("tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0 (non-flash)\n"
				"tcp: [x] 10.0.2.2:3261,1 iqn.2024-01.spike:lun1 (non-flash)\n",
				"line 2 of the session list is not a session: "
				"\"tcp: [x] 10.0.2.2:3261,1 iqn.2024-01.spike:lun1 (non-flash)\"");
	expect_sessions_refused("tcp: [1] 10.0.2.2:3261 iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [1] 10.0.2.2,1 iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [1] 10.0.2.2:70000,1 iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [1] 10.0.2.2:3261,x iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [1] :3261,1 iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [1] [fd00::1:3260,1 iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [1] 10.0.2.2:3261,1\n", NULL);
	expect_sessions_refused("tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0 (unknown)\n", NULL);
	expect_sessions_refused("tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0  (non-flash)\n",
				NULL);
	expect_sessions_refused("TCP: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0\n", NULL);
	expect_sessions_refused("tcp: [99999999999] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0\n", NULL);
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "tcp: [1] 10.0.2.2:3261,1 ", 25);
	longline[sizeof(longline) - 1] = '\0';
	expect_sessions_refused(longline,
				"line 1 of the session list is too long (1199 bytes)");
	/* a target name over 223 bytes */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.x:", 39);
	longline[25 + 224] = '\0';
	expect_sessions_refused(longline, NULL);
}

static void
test_session_parse_captured(void **state)
{
	struct iscsi_session *ss;
	struct iscsi_portal p;
	char *text, *nl, why[256];
	size_t n;

	(void)state;
	/* the QEMU run's `iscsiadm -m session`: the first line of the file */
	text = data_read("open-iscsi-2.1.8-session.txt");
	nl = strchr(text, '\n');
	assert_non_null(nl);
	nl[1] = '\0';
	assert_int_equal(iscsi_session_parse(text, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ss[0].sid, 1);
	assert_string_equal(ss[0].addr, "10.0.2.2");
	assert_int_equal(ss[0].port, 3261);
	assert_int_equal(ss[0].tpgt, 1);
	assert_string_equal(ss[0].iqn, "iqn.2024-01.spike:lun0");
	p = portal("10.0.2.2:3261");
	assert_int_equal(iscsi_session_find(ss, n, "iqn.2024-01.spike:lun0", &p), 0);
	assert_int_equal(iscsi_session_find(ss, n, "iqn.2024-01.spike:lun1", &p), -ENOENT);
	p = portal("10.0.2.2");         /* port 3260 */
	assert_int_equal(iscsi_session_find(ss, n, "iqn.2024-01.spike:lun0", &p), -ENOENT);
	free(ss);
	free(text);
}

static void
test_session_parse_many(void **state)
{
	/* the first line as captured; the others in iscsiadm 2.1.8's formats
	 * "%s: [%u] %s:%i,%i %s (%s)" and "%s: [%u] [%s]:%i,%i %s (%s)"
	 * (strings /usr/sbin/iscsiadm), an older one without the flash flag,
	 * an uncompressed IPv6 address, a host name kept as printed */
	static const char text[] =
		"tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0 (non-flash)\n"
		"tcp: [12] 10.77.3.100:3260,1 " IQN " (non-flash)\n"
		"\n"
		"tcp: [13] [fd00::1]:3260,1 iqn.2024-01.org.xenmesh.san:vm2 (non-flash)\n"
		"iser: [14] [fd00:0:0:0:0:0:0:2]:3260,2 iqn.2024-01.org.xenmesh.san:vm3\n"
		"tcp: [15] san.example.org:3260,-1 iqn.2001-04.com.example:storage (flash)\n"
		"tcp: [4294967295] ::ffff:10.0.0.1:3260,65535 eui.02004567a425678d (non-flash)";
	struct iscsi_session *ss;
	struct iscsi_portal p;
	char why[256];
	size_t n;

	(void)state;
	assert_int_equal(iscsi_session_parse(text, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 6);
	assert_int_equal(ss[1].sid, 12);
	assert_string_equal(ss[1].iqn, IQN);
	assert_string_equal(ss[2].addr, "fd00::1");
	assert_int_equal(ss[2].port, 3260);
	assert_string_equal(ss[3].addr, "fd00::2");
	assert_int_equal(ss[3].tpgt, 2);
	assert_string_equal(ss[4].addr, "san.example.org");
	assert_int_equal(ss[4].tpgt, -1);
	assert_int_equal(ss[5].sid, 4294967295u);
	assert_string_equal(ss[5].addr, "::ffff:10.0.0.1");
	assert_int_equal(ss[5].tpgt, 65535);

	p = portal("10.77.3.100");
	assert_int_equal(iscsi_session_find(ss, n, IQN, &p), 1);
	p = portal("[fd00::1]:3260");
	assert_int_equal(iscsi_session_find(ss, n, "iqn.2024-01.org.xenmesh.san:vm2", &p), 2);
	p = portal("[fd00::2]");
	assert_int_equal(iscsi_session_find(ss, n, "iqn.2024-01.org.xenmesh.san:vm3", &p), 3);
	/* bad input */
	assert_int_equal(iscsi_session_find(NULL, 1, IQN, &p), -EINVAL);
	assert_int_equal(iscsi_session_find(ss, n, NULL, &p), -EINVAL);
	assert_int_equal(iscsi_session_find(ss, n, IQN, NULL), -EINVAL);
	assert_int_equal(iscsi_session_find(NULL, 0, IQN, &p), -ENOENT);
	free(ss);

	/* nothing at all */
	assert_int_equal(iscsi_session_parse("", &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_null(ss);
	assert_int_equal(iscsi_session_parse("\n\n", &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
}

static void
test_sessions_result(void **state)
{
	struct transcript t_none;
	struct runner_result res;
	struct iscsi_session *ss;
	char why[256];
	size_t n;

	(void)state;
	assert_int_equal(iscsi_sessions_result(NULL, &ss, &n, why, sizeof(why)), -EINVAL);
	res = (struct runner_result){ .out = { .data = "" }, .err = { .data = "" } };
	assert_int_equal(iscsi_sessions_result(&res, NULL, &n, why, sizeof(why)), -EINVAL);

	/* captured: exit 21, "iscsiadm: No active sessions." */
	transcript_load("iscsiadm-2.1.8-session-none.txt", &t_none);
	assert_int_equal(t_none.exit_code, 21);
	assert_string_equal(t_none.err, "iscsiadm: No active sessions.\n");
	res = (struct runner_result){ .exit_code = t_none.exit_code,
				      .out = { .data = t_none.out }, .err = { .data = t_none.err } };
	assert_int_equal(iscsi_sessions_result(&res, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_null(ss);

	/* other failures */
	{
		static const char e22[] = "iscsiadm: could not read session targetname: 5\n";

		res = (struct runner_result){ .exit_code = 22, .out = { .data = "" },
					      .err = { .data = e22, .len = sizeof(e22) - 1 } };
	}
	assert_int_equal(iscsi_sessions_result(&res, &ss, &n, why, sizeof(why)), -EIO);
	assert_string_equal(why, "iscsiadm -m session: exit 22: iscsiadm: could not read "
			    "session targetname: 5");
	res = (struct runner_result){ .exit_code = -1, .timed_out = true, .term_signal = 9,
				      .elapsed_ms = 30000 };
	assert_int_equal(iscsi_sessions_result(&res, &ss, &n, why, sizeof(why)), -EIO);
	assert_string_equal(why, "iscsiadm -m session: timed out after 30000 ms");
	/* a list cut short is not trusted */
	res = (struct runner_result){ .out = { .data = "tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0\n",
					       .len = 48, .truncated = true } };
	assert_int_equal(iscsi_sessions_result(&res, &ss, &n, why, sizeof(why)), -EOVERFLOW);
	assert_string_equal(why, "the session list was cut short after 48 bytes");
	/* a line it cannot read */
	res = (struct runner_result){ .out = { .data = "garbage\n" } };
	assert_int_equal(iscsi_sessions_result(&res, &ss, &n, why, sizeof(why)), -EINVAL);
	/* ok */
	res = (struct runner_result){ .out = {
		.data = "tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0 (non-flash)\n" } };
	assert_int_equal(iscsi_sessions_result(&res, &ss, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	free(ss);
}

/* ---- record printouts ------------------------------------------------- */

static void
test_record_value(void **state)
{
	struct transcript t_show;
	char v[256];

	(void)state;
	transcript_load("iscsiadm-2.1.8-iface-show.txt", &t_show);
	assert_int_equal(t_show.exit_code, 0);
	/* bad input */
	assert_int_equal(iscsi_record_value(NULL, "k", v, sizeof(v)), -EINVAL);
	assert_int_equal(iscsi_record_value(t_show.out, "", v, sizeof(v)), -EINVAL);
	assert_int_equal(iscsi_record_value(t_show.out, NULL, v, sizeof(v)), -EINVAL);
	assert_int_equal(iscsi_record_value(t_show.out, "k", NULL, 1), -EINVAL);
	assert_int_equal(iscsi_record_value(t_show.out, "iface.initiatorname", v, 5), -ENOSPC);
	assert_int_equal(iscsi_record_value(t_show.out, "iface.initiator", v, sizeof(v)), -ENOENT);
	assert_int_equal(iscsi_record_value(t_show.out, "node.startup", v, sizeof(v)), -ENOENT);
	assert_int_equal(iscsi_record_value(t_show.out, "# BEGIN RECORD", v, sizeof(v)), -ENOENT);
	/* the captured iface */
	assert_int_equal(iscsi_record_value(t_show.out, "iface.initiatorname", v, sizeof(v)), 0);
	assert_string_equal(v, INI);
	assert_int_equal(iscsi_record_value(t_show.out, "iface.iscsi_ifacename", v, sizeof(v)), 0);
	assert_string_equal(v, ISCSI_IFACE);
	assert_int_equal(iscsi_record_value(t_show.out, "iface.transport_name", v, sizeof(v)), 0);
	assert_string_equal(v, "tcp");
	assert_int_equal(iscsi_record_value(t_show.out, "iface.net_ifacename", v, sizeof(v)), 0);
	assert_string_equal(v, "");                     /* <empty> */
	assert_int_equal(iscsi_record_value(t_show.out, "iface.discovery_logout", v, sizeof(v)), 0);
	assert_string_equal(v, "");                     /* last line */
}

/* The remaining captured texts: what each says and its exit code, so a
 * change of iscsiadm's behaviour shows here first. */
static void
test_captured_texts(void **state)
{
	struct transcript t;
	struct runner_result res;

	(void)state;
	transcript_load("iscsiadm-2.1.8-iface-new.txt", &t);
	assert_int_equal(t.exit_code, 0);
	assert_string_equal(t.out, "xenmesh updated.\nNew interface xenmesh added\n");
	transcript_load("iscsiadm-2.1.8-node-new.txt", &t);
	assert_int_equal(t.exit_code, 0);
	assert_non_null(strstr(t.out, "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=xenmesh] "
			       "10.77.3.100,3260,-1 " IQN "] added"));
	transcript_load("iscsiadm-2.1.8-node-update-no-records.txt", &t);
	assert_int_equal(t.exit_code, 21);
	assert_string_equal(t.err, "iscsiadm: No records found\n");
	transcript_load("iscsiadm-2.1.8-logout-no-session.txt", &t);
	assert_int_equal(t.exit_code, 21);
	assert_string_equal(t.err, "iscsiadm: No matching sessions found\n");
	transcript_load("iscsiadm-2.1.8-node-delete-no-records.txt", &t);
	assert_int_equal(t.exit_code, 21);
	transcript_load("iscsiadm-2.1.8-node-new-noiface.txt", &t);
	assert_int_equal(t.exit_code, 3);
	assert_string_equal(t.err, "iscsiadm: Could not read iface info for nosuchiface.\n");
	transcript_load("iscsiadm-2.1.8-login-no-iscsid.txt", &t);
	assert_int_equal(t.exit_code, 20);
	assert_non_null(strstr(t.err, "iscsiadm: initiator reported error (20 - could not "
			       "connect to iscsid)\n"));
	res = (struct runner_result){ .exit_code = t.exit_code,
				      .out = { .data = t.out }, .err = { .data = t.err } };
	assert_int_equal(iscsi_login_classify(&res), ISCSI_FAIL_OTHER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_check_bad),
		cmocka_unit_test(test_name_check_ok),
		cmocka_unit_test(test_name_join_bad),
		cmocka_unit_test(test_name_join_ok),
		cmocka_unit_test(test_portal_parse_bad),
		cmocka_unit_test(test_portal_parse_ok),
		cmocka_unit_test(test_bypath),
		cmocka_unit_test(test_cmd_bad_input),
		cmocka_unit_test(test_iface_setup),
		cmocka_unit_test(test_attach_lines),
		cmocka_unit_test(test_attach_run),
		cmocka_unit_test(test_attach_login_failures),
		cmocka_unit_test(test_classify_direct),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_sessions_cmd),
		cmocka_unit_test(test_session_parse_bad),
		cmocka_unit_test(test_session_parse_captured),
		cmocka_unit_test(test_session_parse_many),
		cmocka_unit_test(test_sessions_result),
		cmocka_unit_test(test_record_value),
		cmocka_unit_test(test_captured_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
