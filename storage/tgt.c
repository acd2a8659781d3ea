/* tgt driver: the `tgtadm --op show --mode target` parser, view queries
 * and name checks (tgt.h).  The planner is in tgt_plan.c.
 *
 * The show format (tgt usr/target.c tgt_target_show_all()) is indented in
 * steps of four spaces:
 *
 *   Target 1: iqn...                       0
 *       System information:                4  section
 *           State: ready                   8
 *       I_T nexus information:             4
 *           I_T nexus: 1                   8  sid
 *               Initiator: NAME alias: A  12
 *               Connection: 0             12  cid
 *                   IP Address: 127.0.0.1 16
 *       LUN information:                   4
 *           LUN: 1                         8
 *               Backing store path: /p    12
 *       Account information:               4  (user names at 8)
 *       ACL information:                   4  (entries at 8)
 *
 * Keys we do not use are skipped, so a tgt that prints more attributes
 * still parses; anything off this shape (wrong indent, a line outside a
 * target, a nexus without initiator or connection, a non-number where a
 * number belongs) is -EBADMSG, because a fence confirmed from a
 * misread listing is worse than no confirmation.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tgt.h"

enum section {
	SEC_NONE,
	SEC_SYSTEM,
	SEC_NEXUS,
	SEC_LUN,
	SEC_ACCOUNT,
	SEC_ACL,
	SEC_OTHER,      /* a section we do not know: its lines are skipped */
};

struct parser {
	struct tgt_view *v;
	char *why;
	size_t whylen;
	unsigned line_no;
	const char *line;       /* current line, not NUL-terminated */
	size_t line_len;
	enum section sec;
	/* I_T nexus being read */
	bool in_nexus;
	unsigned nexus_line;
	uint32_t sid;
	char initiator[TGT_IQN_MAX];
	bool have_initiator;
	size_t nexus_conns;
	bool in_conn;           /* the last session gets "IP Address" */
	/* LUN being read: index in luns, or -1 for LUN 0 (not kept) */
	bool in_lun;
	long lun_idx;
	/* the current target's "ACL information:", its last section */
	bool acl_seen;
	unsigned target_line;
};

static int __attribute__((format(printf, 3, 4)))
parse_error(struct parser *p, unsigned line_no, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->why && p->whylen)
		snprintf(p->why, p->whylen, "tgtadm show output, line %u: %s",
			 line_no, msg);
	return -EBADMSG;
}

/* The error names the current line and quotes (the start of) it. */
static int
bad_line(struct parser *p, const char *what)
{
	int n = p->line_len > 60 ? 60 : (int)p->line_len;

	return parse_error(p, p->line_no, "%s: \"%.*s%s\"", what, n, p->line,
			   p->line_len > 60 ? "..." : "");
}

/* Strict decimal, as tgt prints it: digits only, fits 32 bits. */
static bool
parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (!len || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "KEY: VALUE" at the start of rest (len bytes): VALUE and its length, or
 * NULL when rest is not that key. */
static const char *
key_value(const char *rest, size_t len, const char *key, size_t *vlen)
{
	size_t k = strlen(key);

	if (len < k + 1 || memcmp(rest, key, k) || rest[k] != ':')
		return NULL;
	if (len == k + 1) {
		*vlen = 0;
		return rest + len;
	}
	if (rest[k + 1] != ' ')
		return NULL;
	*vlen = len - k - 2;
	return rest + k + 2;
}

static int
copy_field(struct parser *p, char *dst, size_t dstlen, const char *src,
	   size_t len, const char *what)
{
	char msg[64];

	if (len >= dstlen) {
		snprintf(msg, sizeof(msg), "%s longer than %zu bytes", what,
			 dstlen - 1);
		return bad_line(p, msg);
	}
	if (memchr(src, '\0', len))
		return bad_line(p, "NUL byte");
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static struct tgt_target *
cur_target(struct parser *p)
{
	return p->v->n ? &p->v->targets[p->v->n - 1] : NULL;
}

/* A nexus must have named its initiator and at least one connection: one
 * we cannot close would make the plan silently incomplete. */
static int
nexus_end(struct parser *p)
{
	if (!p->in_nexus)
		return 0;
	p->in_nexus = false;
	p->in_conn = false;
	if (!p->have_initiator)
		return parse_error(p, p->nexus_line,
				   "I_T nexus %u names no initiator", p->sid);
	if (!p->nexus_conns)
		return parse_error(p, p->nexus_line,
				   "I_T nexus %u lists no connection", p->sid);
	return 0;
}

static int
section_end(struct parser *p)
{
	p->in_lun = false;
	return nexus_end(p);
}

/* tgt prints "ACL information:" last for every target: a target without
 * it is an output cut short (the runner keeps only so much), whose
 * missing entries must not read as "not listed". */
static int
target_end(struct parser *p)
{
	int rc = section_end(p);

	if (rc || !p->v->n || p->acl_seen)
		return rc;
	return parse_error(p, p->target_line,
			   "target %u has no \"ACL information:\" (output cut short?)",
			   p->v->targets[p->v->n - 1].tid);
}

static int
line_target(struct parser *p, const char *s, size_t len)
{
	struct tgt_target *t, *targets;
	const char *colon;
	uint32_t tid;
	int rc;

	rc = target_end(p);
	if (rc)
		return rc;
	p->sec = SEC_NONE;
	p->acl_seen = false;
	p->target_line = p->line_no;
	colon = memchr(s, ':', len);
	if (len < 7 || memcmp(s, "Target ", 7) || !colon ||
	    !parse_u32(s + 7, (size_t)(colon - s) - 7, &tid) ||
	    (size_t)(colon - s) + 2 >= len || colon[1] != ' ')
		return bad_line(p, "expected \"Target N: IQN\"");
	s = colon + 2;
	len = p->line_len - (size_t)(s - p->line);
	if (memchr(s, ' ', len))
		return bad_line(p, "a target name with a space");
	for (size_t i = 0; i < p->v->n; i++)
		if (p->v->targets[i].tid == tid)
			return bad_line(p, "a target id listed twice");
	targets = realloc(p->v->targets, (p->v->n + 1) * sizeof(*targets));
	if (!targets)
		return -ENOMEM;
	p->v->targets = targets;
	t = &targets[p->v->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	rc = copy_field(p, t->iqn, sizeof(t->iqn), s, len, "target name");
	if (rc)
		return rc;
	/* tgt refuses a second target of one name: the plan relies on it */
	for (size_t i = 0; i + 1 < p->v->n; i++)
		if (!strcmp(p->v->targets[i].iqn, t->iqn))
			return bad_line(p, "a target name listed twice");
	return 0;
}

static int
line_section(struct parser *p, const char *s, size_t len)
{
	static const struct {
		const char *name;
		enum section sec;
	} known[] = {
		{ "System information:", SEC_SYSTEM },
		{ "I_T nexus information:", SEC_NEXUS },
		{ "LUN information:", SEC_LUN },
		{ "Account information:", SEC_ACCOUNT },
		{ "ACL information:", SEC_ACL },
	};
	int rc;

	rc = section_end(p);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len && !memcmp(s, known[i].name, len)) {
			p->sec = known[i].sec;
			if (p->sec == SEC_ACL)
				p->acl_seen = true;
			return 0;
		}
	if (len < 2 || s[len - 1] != ':')
		return bad_line(p, "expected a section heading");
	p->sec = SEC_OTHER;
	return 0;
}

static int
add_lun(struct parser *p, struct tgt_target *t, uint32_t lun)
{
	struct tgt_lun *luns;

	for (size_t i = 0; i < t->n_luns; i++)
		if (t->luns[i].lun == lun)
			return bad_line(p, "a LUN listed twice");
	luns = realloc(t->luns, (t->n_luns + 1) * sizeof(*luns));
	if (!luns)
		return -ENOMEM;
	t->luns = luns;
	memset(&luns[t->n_luns], 0, sizeof(*luns));
	luns[t->n_luns].lun = lun;
	p->lun_idx = (long)t->n_luns++;
	return 0;
}

static int
add_acl(struct parser *p, struct tgt_target *t, const char *s, size_t len)
{
	char (*acl)[TGT_IQN_MAX];

	if (!len)
		return bad_line(p, "an empty ACL entry");
	acl = realloc(t->acl, (t->n_acl + 1) * sizeof(*acl));
	if (!acl)
		return -ENOMEM;
	t->acl = acl;
	return copy_field(p, acl[t->n_acl++], TGT_IQN_MAX, s, len, "ACL entry");
}

/* Indent 8: the entries of a section. */
static int
line_entry(struct parser *p, struct tgt_target *t, const char *s, size_t len)
{
	const char *val;
	size_t vlen;
	uint32_t n;
	int rc;

	switch (p->sec) {
	case SEC_SYSTEM:
		if ((val = key_value(s, len, "State", &vlen)))
			t->ready = vlen == 5 && !memcmp(val, "ready", 5);
		else if (!memchr(s, ':', len))
			return bad_line(p, "expected \"KEY: VALUE\"");
		return 0;
	case SEC_NEXUS:
		rc = nexus_end(p);
		if (rc)
			return rc;
		val = key_value(s, len, "I_T nexus", &vlen);
		if (!val || !parse_u32(val, vlen, &n))
			return bad_line(p, "expected \"I_T nexus: N\"");
		p->in_nexus = true;
		p->nexus_line = p->line_no;
		p->sid = n;
		p->have_initiator = false;
		p->nexus_conns = 0;
		return 0;
	case SEC_LUN:
		val = key_value(s, len, "LUN", &vlen);
		if (!val || !parse_u32(val, vlen, &n))
			return bad_line(p, "expected \"LUN: N\"");
		p->in_lun = true;
		p->lun_idx = -1;
		/* LUN 0 is the controller tgt gives every target */
		return n ? add_lun(p, t, n) : 0;
	case SEC_ACL:
		return add_acl(p, t, s, len);
	case SEC_ACCOUNT:
	case SEC_OTHER:
		return 0;
	case SEC_NONE:
		break;
	}
	return bad_line(p, "an entry outside any section");
}

static int
add_session(struct parser *p, struct tgt_target *t, uint32_t cid)
{
	struct tgt_session *ss;

	for (size_t i = 0; i < t->n_sessions; i++)
		if (t->sessions[i].sid == p->sid && t->sessions[i].cid == cid)
			return bad_line(p, "a connection listed twice");
	ss = realloc(t->sessions, (t->n_sessions + 1) * sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	t->sessions = ss;
	ss = &ss[t->n_sessions++];
	memset(ss, 0, sizeof(*ss));
	ss->sid = p->sid;
	ss->cid = cid;
	memcpy(ss->initiator, p->initiator, sizeof(ss->initiator));
	p->nexus_conns++;
	p->in_conn = true;
	return 0;
}

/* Indent 12: what a nexus or a LUN says. */
static int
line_attr(struct parser *p, struct tgt_target *t, const char *s, size_t len)
{
	const char *val, *alias;
	size_t vlen;
	uint32_t n;

	if (p->sec == SEC_OTHER || p->sec == SEC_ACCOUNT)
		return 0;
	if (p->sec == SEC_NEXUS && p->in_nexus) {
		if ((val = key_value(s, len, "Initiator", &vlen))) {
			if (p->have_initiator)
				return bad_line(p, "a second initiator in one I_T nexus");
			/* "NAME alias: ALIAS"; an iSCSI name has no space */
			alias = memchr(val, ' ', vlen);
			if (alias)
				vlen = (size_t)(alias - val);
			if (!vlen)
				return bad_line(p, "an empty initiator name");
			p->have_initiator = true;
			return copy_field(p, p->initiator, sizeof(p->initiator),
					  val, vlen, "initiator name");
		}
		if ((val = key_value(s, len, "Connection", &vlen))) {
			if (!parse_u32(val, vlen, &n))
				return bad_line(p, "expected \"Connection: N\"");
			if (!p->have_initiator)
				return bad_line(p, "a connection before its initiator");
			return add_session(p, t, n);
		}
		return 0;
	}
	if (p->sec == SEC_LUN && p->in_lun) {
		if (p->lun_idx < 0)
			return 0;
		if ((val = key_value(s, len, "Backing store path", &vlen))) {
			if (vlen == 4 && !memcmp(val, "None", 4))
				vlen = 0;
			return copy_field(p, t->luns[p->lun_idx].path,
					  TGT_PATH_MAX, val, vlen,
					  "backing store path");
		}
		return 0;
	}
	return bad_line(p, "a line indented too deep");
}

/* Indent 16: what a connection says. */
static int
line_conn_attr(struct parser *p, struct tgt_target *t, const char *s, size_t len)
{
	struct tgt_session *ss;
	const char *sep;

	if (p->sec == SEC_OTHER || p->sec == SEC_ACCOUNT)
		return 0;
	if (p->sec != SEC_NEXUS || !p->in_conn)
		return bad_line(p, "a line indented too deep");
	ss = &t->sessions[t->n_sessions - 1];
	/* "IP Address: X" for TCP ("RDMA IP Address" for iSER) */
	sep = memmem(s, len, "Address: ", 9);
	if (!sep)
		return 0;
	sep += 9;
	return copy_field(p, ss->address, sizeof(ss->address), sep,
			  len - (size_t)(sep - s), "address");
}

static int
parse_line(struct parser *p)
{
	struct tgt_target *t = cur_target(p);
	const char *s = p->line;
	size_t len = p->line_len, indent = 0;

	while (indent < len && s[indent] == ' ')
		indent++;
	if (indent == len)
		return indent ? bad_line(p, "a line of blanks") : 0;
	if (isspace((unsigned char)s[indent]))
		return bad_line(p, "a tab or other control character in the indent");
	if (indent % 4 || indent > 16)
		return bad_line(p, "an unexpected indent");
	if (indent && !t)
		return bad_line(p, "a line before the first \"Target N: IQN\"");
	s += indent;
	len -= indent;
	switch (indent) {
	case 0:
		return line_target(p, s, len);
	case 4:
		return line_section(p, s, len);
	case 8:
		return line_entry(p, t, s, len);
	case 12:
		return line_attr(p, t, s, len);
	default:
		return line_conn_attr(p, t, s, len);
	}
}

int
tgt_show_parse(const char *text, struct tgt_view *v, char *why, size_t whylen)
{
	struct parser p = { .v = v, .why = why, .whylen = whylen };
	const char *s, *nl;
	int rc = 0;

	if (why && whylen)
		why[0] = '\0';
	if (!v)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	if (!text)
		return -EINVAL;
	for (s = text; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		p.line_no++;
		p.line = s;
		p.line_len = nl ? (size_t)(nl - s) : strlen(s);
		rc = parse_line(&p);
		if (rc)
			break;
		/* tgtadm ends every line: a last one without is cut short */
		if (!nl) {
			rc = bad_line(&p, "a last line without its newline (output cut short?)");
			break;
		}
	}
	if (!rc)
		rc = target_end(&p);
	if (rc == -ENOMEM && why && whylen)
		snprintf(why, whylen, "out of memory parsing tgtadm show output");
	return rc;
}

void
tgt_view_free(struct tgt_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->targets[i].luns);
		free(v->targets[i].acl);
		free(v->targets[i].sessions);
	}
	free(v->targets);
	v->targets = NULL;
	v->n = 0;
}

const struct tgt_target *
tgt_view_find(const struct tgt_view *v, const char *iqn)
{
	if (!v || !iqn)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->targets[i].iqn, iqn))
			return &v->targets[i];
	return NULL;
}

bool
tgt_acl_is_address(const char *entry)
{
	static const char *const name_forms[] = { "iqn.", "eui.", "naa." };

	for (size_t i = 0; i < sizeof(name_forms) / sizeof(name_forms[0]); i++)
		if (!strncasecmp(entry, name_forms[i], 4))
			return false;
	return true;
}

bool
tgt_view_mentions_in(const struct tgt_view *v, const char *iqn_prefix,
		     const char *initiator)
{
	size_t plen = iqn_prefix ? strlen(iqn_prefix) : 0;

	if (!v)
		return false;
	for (size_t i = 0; i < v->n; i++) {
		const struct tgt_target *t = &v->targets[i];

		if (plen && strncmp(t->iqn, iqn_prefix, plen))
			continue;
		for (size_t j = 0; j < t->n_acl; j++)
			if (tgt_acl_is_address(t->acl[j]) ||
			    !strcasecmp(t->acl[j], initiator))
				return true;
		for (size_t j = 0; j < t->n_sessions; j++)
			if (!strcasecmp(t->sessions[j].initiator, initiator))
				return true;
	}
	return false;
}

bool
tgt_view_mentions(const struct tgt_view *v, const char *initiator)
{
	return tgt_view_mentions_in(v, NULL, initiator);
}

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool
tgt_iqn_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (!len || len >= TGT_IQN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '.' || name[i] == ':' || name[i] == '-'))
			return false;
	if (!strncmp(name, "eui.", 4)) {
		if (len != 4 + 16)
			return false;
		for (size_t i = 4; i < len; i++)
			if (!isxdigit((unsigned char)name[i]))
				return false;
		return true;
	}
	/* iqn.YYYY-MM.reversed.domain[:anything] (RFC 3720 3.2.6.3.1) */
	if (len < 13 || strncmp(name, "iqn.", 4) || !all_digits(name + 4, 4) ||
	    name[8] != '-' || !all_digits(name + 9, 2) || name[11] != '.')
		return false;
	if (name[9] > '1' || (name[9] == '1' && name[10] > '2') ||
	    (name[9] == '0' && name[10] == '0'))
		return false;
	/* the naming authority starts with a label, not a separator */
	return isalnum((unsigned char)name[12]);
}
