/* The dom0 iSCSI initiator driver on open-iscsi's iscsiadm (iscsi.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "iscsi.h"

#define ISCSIADM                "iscsiadm"
#define SESSION_LINE_MAX        1024

/* iscsiadm's exit status: open-iscsi include/iscsi_err.h, documented in
 * iscsiadm(8) EXIT STATUS (2.1.8, as installed on Debian 12).  Only the
 * ones this driver tells apart. */
enum {
	ISCSI_ERR                       = 1,    /* generic error */
	ISCSI_ERR_TRANS                 = 4,    /* connect problem caused operation to fail */
	ISCSI_ERR_LOGIN                 = 5,    /* generic iSCSI login failure */
	ISCSI_ERR_TRANS_TIMEOUT         = 8,    /* connection timer expired while trying to connect */
	ISCSI_ERR_PDU_TIMEOUT           = 11,   /* iSCSI PDU timed out */
	ISCSI_ERR_SESS_EXISTS           = 15,   /* session is logged in */
	ISCSI_ERR_FATAL_LOGIN           = 19,   /* fatal iSCSI login error */
	ISCSI_ERR_NO_OBJS_FOUND         = 21,   /* no records/targets/sessions/portals found */
	ISCSI_ERR_LOGIN_AUTH_FAILED     = 24,   /* login failed due to authorization failure */
	ISCSI_ERR_AGAIN                 = 29,   /* failed, but retrying later may succeed */
	ISCSI_ERR_SESSION_NOT_CONNECTED = 32,   /* session likely not connected */
};

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* "'_'" or "byte 0xc3", for messages about one character */
static void
char_desc(char c, char *buf, size_t len)
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x20 && u <= 0x7e)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", u);
}

/* ---- names ------------------------------------------------------------ */

/* iqn.yyyy-mm.<reversed domain>[:<unique>], RFC 3720 3.2.6.3.1; the
 * characters were checked already */
static int
iqn_check(const char *name, char *why, size_t whylen)
{
	const char *p = name + 4, *auth, *colon, *q;
	bool date_ok;

	date_ok = is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
		  p[4] == '-' && is_digit(p[5]) && is_digit(p[6]);
	if (date_ok) {
		int month = (p[5] - '0') * 10 + (p[6] - '0');

		date_ok = month >= 1 && month <= 12;
	}
	if (!date_ok)
		return refuse(why, whylen,
			      "\"%s\": \"iqn.\" must be followed by the date the naming "
			      "authority took its domain, as yyyy-mm (e.g. iqn.2024-01.org.example)",
			      name);
	p += 7;
	if (*p != '.' || !p[1] || p[1] == ':')
		return refuse(why, whylen,
			      "\"%s\": the date must be followed by '.' and the naming "
			      "authority's reversed domain name (e.g. iqn.2024-01.org.example)",
			      name);
	auth = p + 1;
	colon = strchr(auth, ':');
	if (!colon)
		colon = auth + strlen(auth);
	for (q = auth; q < colon; q++) {
		if (*q != '.')
			continue;
		if (q == auth || q[-1] == '.' || q + 1 == colon)
			return refuse(why, whylen,
				      "\"%s\": the naming authority \"%.*s\" has an empty label",
				      name, (int)(colon - auth), auth);
	}
	if (*colon == ':' && !colon[1])
		return refuse(why, whylen, "\"%s\": nothing follows ':'", name);
	return 0;
}

/* eui.<16 hex digits>, RFC 3720 3.2.6.3.2, lowercase once normalized */
static int
eui_check(const char *name, char *why, size_t whylen)
{
	const char *p = name + 4;
	size_t i;

	for (i = 0; p[i]; i++)
		if (!is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f'))
			break;
	if (i != 16 || p[i])
		return refuse(why, whylen,
			      "\"%s\": an eui. name is \"eui.\" and 16 hex digits "
			      "(e.g. eui.02004567a425678d)", name);
	return 0;
}

int
iscsi_name_check(const char *name, char *why, size_t whylen)
{
	char desc[16];
	size_t len, i;

	if (!name || !*name)
		return refuse(why, whylen, "the iSCSI name is empty");
	len = strlen(name);
	if (len > ISCSI_NAME_MAX)
		return refuse(why, whylen,
			      "the iSCSI name \"%.32s...\" is %zu bytes long, more than %d (RFC 3720)",
			      is_printable(name) ? name : "", len, ISCSI_NAME_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (is_lower(c) || is_digit(c) || c == '-' || c == '.' || c == ':')
			continue;
		if (is_upper(c))
			return refuse(why, whylen,
				      "\"%s\": iSCSI names are lowercase (RFC 3722), write '%c' for '%c'",
				      is_printable(name) ? name : "", c - 'A' + 'a', c);
		char_desc(c, desc, sizeof(desc));
		return refuse(why, whylen,
			      "%s at offset %zu is not allowed in an iSCSI name "
			      "(only a-z, 0-9, '-', '.', ':')", desc, i);
	}
	if (!strncmp(name, "iqn.", 4))
		return iqn_check(name, why, whylen);
	if (!strncmp(name, "eui.", 4))
		return eui_check(name, why, whylen);
	return refuse(why, whylen,
		      "\"%s\" is not an iSCSI name: it must start with \"iqn.\" or \"eui.\"", name);
}

int
iscsi_name_join(char *buf, size_t len, const char *prefix, const char *part,
		char *why, size_t whylen)
{
	char desc[16];
	size_t plen, i;
	int rc;

	if (!buf || !len)
		return refuse(why, whylen, "no buffer for the iSCSI name");
	buf[0] = '\0';
	rc = iscsi_name_check(prefix, why, whylen);
	if (rc)
		return rc;
	if (strncmp(prefix, "iqn.", 4))
		return refuse(why, whylen,
			      "\"%s\": only an \"iqn.\" name can be followed by \":<name>\"", prefix);
	if (!part || !*part)
		return refuse(why, whylen, "the name to append to \"%s\" is empty", prefix);
	plen = strlen(part);
	for (i = 0; i < plen; i++) {
		char c = part[i];

		if (is_lower(c) || is_digit(c) || c == '-' || c == '.')
			continue;
		if (is_upper(c))
			return refuse(why, whylen,
				      "\"%s\" cannot be part of an iSCSI name: '%c' is uppercase "
				      "and iSCSI names are lowercase (RFC 3722)",
				      is_printable(part) ? part : "", c);
		char_desc(c, desc, sizeof(desc));
		return refuse(why, whylen,
			      "\"%s\" cannot be part of an iSCSI name: %s is not allowed "
			      "(only a-z, 0-9, '-', '.')", is_printable(part) ? part : "", desc);
	}
	if (strlen(prefix) + 1 + plen > ISCSI_NAME_MAX)
		return refuse(why, whylen,
			      "\"%s:%.32s...\" would be %zu bytes long, more than %d (RFC 3720)",
			      prefix, part, strlen(prefix) + 1 + plen, ISCSI_NAME_MAX);
	if ((size_t)snprintf(buf, len, "%s:%s", prefix, part) >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return iscsi_name_check(buf, why, whylen);
}

/* ---- portals ---------------------------------------------------------- */

/* numeric address to canonical text; false when it is not one */
static bool
addr_canon(const char *in, char *out, size_t len)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int family = strchr(in, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, in, bin) != 1)
		return false;
	return inet_ntop(family, bin, out, (socklen_t)len) != NULL;
}

static bool
portal_ok(const struct iscsi_portal *p)
{
	char canon[INET6_ADDRSTRLEN];

	return p && p->port && memchr(p->addr, '\0', sizeof(p->addr)) &&
	       addr_canon(p->addr, canon, sizeof(canon));
}

int
iscsi_portal_parse(const char *text, struct iscsi_portal *p, char *why, size_t whylen)
{
	char host[128];
	const char *port_s = NULL, *hstart, *end;
	unsigned long port = ISCSI_PORT_DEFAULT;
	size_t hl;
	int family;

	if (!p)
		return refuse(why, whylen, "no portal to fill in");
	memset(p, 0, sizeof(*p));
	if (!text || !*text)
		return refuse(why, whylen,
			      "the portal is empty: give the SAN's floating IP address, "
			      "e.g. 10.77.3.100 or 10.77.3.100:3260");
	if (!is_printable(text))
		return refuse(why, whylen, "the portal has a character that is not printable");
	if (strlen(text) >= sizeof(host))
		return refuse(why, whylen, "the portal \"%.40s...\" is too long for an address and port",
			      text);
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end)
			return refuse(why, whylen, "\"%s\": missing ']' after the IPv6 address", text);
		hstart = text + 1;
		hl = (size_t)(end - hstart);
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1])
			return refuse(why, whylen, "\"%s\": only \":port\" may follow ']'", text);
		family = AF_INET6;
	} else {
		end = strchr(text, ':');
		if (end && strchr(end + 1, ':'))
			return refuse(why, whylen,
				      "\"%s\": write an IPv6 portal in brackets, e.g. [fd00::1]:3260",
				      text);
		hstart = text;
		hl = end ? (size_t)(end - text) : strlen(text);
		if (end)
			port_s = end + 1;
		family = AF_INET;
	}
	memcpy(host, hstart, hl);
	host[hl] = '\0';
	if (port_s) {
		size_t i;

		port = 0;
		for (i = 0; is_digit(port_s[i]) && i < 6; i++)
			port = port * 10 + (unsigned long)(port_s[i] - '0');
		if (!i || port_s[i] || port < 1 || port > 65535)
			return refuse(why, whylen,
				      "\"%s\": the port must be a number from 1 to 65535", text);
	}
	{
		unsigned char bin[sizeof(struct in6_addr)];

		if (inet_pton(family, host, bin) != 1) {
			if (family == AF_INET6)
				return refuse(why, whylen, "\"%s\": \"%s\" is not an IPv6 address",
					      text, host);
			return refuse(why, whylen,
				      "\"%s\" is not an IP address: the portal is the SAN's floating "
				      "IP address (names are not resolved), optionally with :port",
				      text);
		}
		if (!inet_ntop(family, bin, p->addr, sizeof(p->addr)))
			return refuse(why, whylen, "\"%s\": cannot format the address", text);
	}
	p->port = (uint16_t)port;
	return 0;
}

int
iscsi_portal_format(const struct iscsi_portal *p, char *buf, size_t len)
{
	int n;

	if (!buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	if (!portal_ok(p))
		return -EINVAL;
	if (strchr(p->addr, ':'))
		n = snprintf(buf, len, "[%s]:%u", p->addr, p->port);
	else
		n = snprintf(buf, len, "%s:%u", p->addr, p->port);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

int
iscsi_bypath(char *buf, size_t len, const struct iscsi_portal *p, const char *iqn,
	     uint32_t lun, char *why, size_t whylen)
{
	int rc, n;

	if (!buf || !len)
		return refuse(why, whylen, "no buffer for the device path");
	buf[0] = '\0';
	if (!portal_ok(p))
		return refuse(why, whylen, "the portal is not a numeric address and port");
	rc = iscsi_name_check(iqn, why, whylen);
	if (rc)
		return rc;
	if (lun < ISCSI_LUN_MIN || lun > ISCSI_LUN_MAX)
		return refuse(why, whylen, "LUN %u is out of range: disks are LUNs %d to %d",
			      lun, ISCSI_LUN_MIN, ISCSI_LUN_MAX);
	/* path_id: "ip-%s:%s-iscsi-%s-lun-%s" of the connection's
	 * persistent_address and persistent_port, the session's targetname
	 * and the SCSI device's LUN */
	n = snprintf(buf, len, "/dev/disk/by-path/ip-%s:%u-iscsi-%s-lun-%u",
		     p->addr, p->port, iqn, lun);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

/* ---- command sequences ------------------------------------------------ */

static int
seq_refuse(struct cmdseq *s)
{
	if (!s->error)
		s->error = -EINVAL;
	return -EINVAL;
}

static int
timeouts_resolve(const struct iscsi_timeouts *t, struct iscsi_timeouts *out)
{
	*out = (struct iscsi_timeouts){
		.replacement_s = ISCSI_REPLACEMENT_S_DEFAULT,
		.login_s = ISCSI_LOGIN_S_DEFAULT,
		.login_retries = ISCSI_LOGIN_RETRIES_DEFAULT,
	};
	if (!t)
		return 0;
	if (t->replacement_s)
		out->replacement_s = t->replacement_s;
	if (t->login_s)
		out->login_s = t->login_s;
	if (t->login_retries)
		out->login_retries = t->login_retries;
	if (out->replacement_s > ISCSI_REPLACEMENT_S_MAX || out->login_s > ISCSI_LOGIN_S_MAX ||
	    out->login_retries > ISCSI_LOGIN_RETRIES_MAX)
		return -EINVAL;
	return 0;
}

int
iscsi_cmd_iface_setup(struct cmdseq *s, const char *initiator)
{
	if (!s)
		return -EINVAL;
	if (iscsi_name_check(initiator, NULL, 0))
		return seq_refuse(s);
	(void)cmdseq_add(s, ISCSIADM, "-m", "iface", "-I", ISCSI_IFACE, "-o", "new", NULL);
	(void)cmdseq_add(s, ISCSIADM, "-m", "iface", "-I", ISCSI_IFACE, "-o", "update",
			 "-n", "iface.initiatorname", "-v", initiator, NULL);
	(void)cmdseq_add(s, ISCSIADM, "-m", "iface", "-I", ISCSI_IFACE, NULL);
	return s->error;
}

int
iscsi_cmd_iface_show(struct cmdseq *s)
{
	if (!s)
		return -EINVAL;
	(void)cmdseq_add(s, ISCSIADM, "-m", "iface", "-I", ISCSI_IFACE, NULL);
	cmdseq_tolerate(s);
	return s->error;
}

static void
node_update(struct cmdseq *s, const char *iqn, const char *portal, const char *key,
	    const char *value)
{
	(void)cmdseq_add(s, ISCSIADM, "-m", "node", "-T", iqn, "-p", portal,
			 "-I", ISCSI_IFACE, "-o", "update", "-n", key, "-v", value, NULL);
}

int
iscsi_cmd_attach(struct cmdseq *s, const char *iqn, const struct iscsi_portal *p,
		 const struct iscsi_timeouts *t)
{
	struct iscsi_timeouts tt;
	char portal[96], repl[16], login[16], retries[16];

	if (!s)
		return -EINVAL;
	if (iscsi_name_check(iqn, NULL, 0) || iscsi_portal_format(p, portal, sizeof(portal)) ||
	    timeouts_resolve(t, &tt))
		return seq_refuse(s);
	snprintf(repl, sizeof(repl), "%u", tt.replacement_s);
	snprintf(login, sizeof(login), "%u", tt.login_s);
	snprintf(retries, sizeof(retries), "%u", tt.login_retries);

	(void)cmdseq_add(s, ISCSIADM, "-m", "node", "-o", "new", "-T", iqn, "-p", portal,
			 "-I", ISCSI_IFACE, NULL);
	node_update(s, iqn, portal, "node.startup", "manual");
	node_update(s, iqn, portal, "node.session.timeo.replacement_timeout", repl);
	node_update(s, iqn, portal, "node.conn[0].timeo.login_timeout", login);
	node_update(s, iqn, portal, "node.session.initial_login_retry_max", retries);
	(void)cmdseq_add(s, ISCSIADM, "-m", "node", "-T", iqn, "-p", portal,
			 "-I", ISCSI_IFACE, "--login", NULL);
	/* iscsid tries about login_timeout * initial_login_retry_max (see
	 * iscsid.conf), a fast failure may be retried more often: one more
	 * round and 30 s spare, so iscsiadm reports rather than being killed
	 * while iscsid goes on trying behind it */
	cmdseq_set_timeout(s, (int)((tt.login_s * (tt.login_retries + 1) + 30) * 1000));
	(void)cmdseq_add(s, ISCSIADM, "-m", "session", NULL);
	cmdseq_tolerate(s);
	return s->error;
}

int
iscsi_cmd_detach(struct cmdseq *s, const char *iqn, const struct iscsi_portal *p)
{
	char portal[96];

	if (!s)
		return -EINVAL;
	if (iscsi_name_check(iqn, NULL, 0) || iscsi_portal_format(p, portal, sizeof(portal)))
		return seq_refuse(s);
	(void)cmdseq_add(s, ISCSIADM, "-m", "node", "-T", iqn, "-p", portal,
			 "-I", ISCSI_IFACE, "--logout", NULL);
	cmdseq_tolerate(s);
	(void)cmdseq_add(s, ISCSIADM, "-m", "node", "-o", "delete", "-T", iqn, "-p", portal,
			 "-I", ISCSI_IFACE, NULL);
	cmdseq_tolerate(s);
	(void)cmdseq_add(s, ISCSIADM, "-m", "session", NULL);
	cmdseq_tolerate(s);
	return s->error;
}

int
iscsi_cmd_sessions(struct cmdseq *s)
{
	if (!s)
		return -EINVAL;
	(void)cmdseq_add(s, ISCSIADM, "-m", "session", NULL);
	cmdseq_tolerate(s);
	return s->error;
}

/* ---- output ----------------------------------------------------------- */

/* digits only, at most max */
static bool
parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "tcp: [1] 10.0.2.2:3261,1 iqn.2024-01.spike:lun0 (non-flash)", as
 * iscsiadm 2.1.8 prints it ("%s: [%u] %s:%i,%i %s (%s)", or with the
 * address in brackets when it has no '.') */
static bool
session_line_parse(char *line, struct iscsi_session *out)
{
	char *p = line, *tok, *comma, *colon, *addr;
	uint32_t v;

	memset(out, 0, sizeof(*out));
	/* transport name */
	while (is_lower(*p) || is_digit(*p) || *p == '_')
		p++;
	if (p == line || strncmp(p, ": [", 3))
		return false;
	p += 3;
	tok = p;
	while (is_digit(*p))
		p++;
	if (!parse_u32(tok, (size_t)(p - tok), UINT32_MAX, &out->sid) || strncmp(p, "] ", 2))
		return false;
	p += 2;
	/* ADDR:PORT,TPGT or [ADDR]:PORT,TPGT */
	tok = p;
	p = strchr(p, ' ');
	if (!p)
		return false;
	*p++ = '\0';
	comma = strrchr(tok, ',');
	if (!comma)
		return false;
	*comma = '\0';
	{
		const char *t = comma + 1;
		bool neg = *t == '-';

		if (neg)
			t++;
		if (!parse_u32(t, strlen(t), neg ? 1 : 65535, &v))
			return false;
		out->tpgt = neg ? -(int32_t)v : (int32_t)v;
	}
	colon = strrchr(tok, ':');
	if (!colon || !parse_u32(colon + 1, strlen(colon + 1), 65535, &v))
		return false;
	*colon = '\0';
	out->port = (uint16_t)v;
	addr = tok;
	if (*addr == '[') {
		size_t al = strlen(addr);

		if (al < 3 || addr[al - 1] != ']')
			return false;
		addr[al - 1] = '\0';
		addr++;
	}
	if (!*addr || strlen(addr) >= sizeof(out->addr))
		return false;
	if (!addr_canon(addr, out->addr, sizeof(out->addr)))
		strcpy(out->addr, addr);        /* a name: kept as printed */
	/* target name, then nothing or the flash flag */
	tok = p;
	p = strchr(p, ' ');
	if (p)
		*p++ = '\0';
	if (!*tok || strlen(tok) > ISCSI_NAME_MAX)
		return false;
	strcpy(out->iqn, tok);
	return !p || !strcmp(p, "(non-flash)") || !strcmp(p, "(flash)");
}

int
iscsi_session_parse(const char *text, struct iscsi_session **out, size_t *n,
		    char *why, size_t whylen)
{
	struct iscsi_session *v = NULL, *nv;
	char line[SESSION_LINE_MAX];
	size_t count = 0, lineno = 0;
	const char *p, *eol;

	if (!out || !n)
		return refuse(why, whylen, "nowhere to put the sessions");
	*out = NULL;
	*n = 0;
	if (!text)
		return refuse(why, whylen, "no session list to parse");
	for (p = text; *p; p = *eol ? eol + 1 : eol) {
		size_t len;

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		len = (size_t)(eol - p);
		lineno++;
		if (!len)
			continue;
		if (len >= sizeof(line)) {
			(void)refuse(why, whylen,
				     "line %zu of the session list is too long (%zu bytes)",
				     lineno, len);
			goto out_free;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		nv = realloc(v, (count + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		if (!session_line_parse(line, &v[count])) {
			memcpy(line, p, len);
			line[len] = '\0';
			(void)refuse(why, whylen,
				     "line %zu of the session list is not a session: \"%.80s\"",
				     lineno, is_printable(line) ? line : "(not printable)");
			goto out_free;
		}
		count++;
	}
	if (!count) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = count;
	return 0;

out_free:
	free(v);
	return -EINVAL;
}

int
iscsi_sessions_result(const struct runner_result *res, struct iscsi_session **out,
		      size_t *n, char *why, size_t whylen)
{
	char desc[256];

	if (!out || !n)
		return refuse(why, whylen, "nowhere to put the sessions");
	*out = NULL;
	*n = 0;
	if (!res)
		return refuse(why, whylen, "no result of iscsiadm -m session");
	if (runner_result_ok(res)) {
		if (res->out.truncated) {
			if (why && whylen)
				snprintf(why, whylen, "the session list was cut short after %zu bytes",
					 res->out.len);
			return -EOVERFLOW;
		}
		return iscsi_session_parse(res->out.data ? res->out.data : "", out, n,
					   why, whylen);
	}
	/* "iscsiadm: No active sessions." */
	if (!res->cancelled && !res->exec_errno && !res->timed_out && !res->term_signal &&
	    res->exit_code == ISCSI_ERR_NO_OBJS_FOUND)
		return 0;
	runner_result_describe(res, desc, sizeof(desc));
	if (why && whylen)
		snprintf(why, whylen, "iscsiadm -m session: %s", desc);
	return -EIO;
}

int
iscsi_session_find(const struct iscsi_session *s, size_t n, const char *iqn,
		   const struct iscsi_portal *p)
{
	char canon[INET6_ADDRSTRLEN];
	size_t i;

	if ((!s && n) || n > INT_MAX || !iqn || !portal_ok(p) ||
	    !addr_canon(p->addr, canon, sizeof(canon)))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (s[i].port == p->port && !strcmp(s[i].addr, canon) && !strcmp(s[i].iqn, iqn))
			return (int)i;
	return -ENOENT;
}

int
iscsi_record_value(const char *text, const char *key, char *buf, size_t len)
{
	const char *p, *eol, *v;
	size_t kl, vl;

	if (!text || !key || !*key || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	kl = strlen(key);
	for (p = text; *p; p = *eol ? eol + 1 : eol) {
		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) < kl + 3 || strncmp(p, key, kl) || strncmp(p + kl, " = ", 3))
			continue;
		v = p + kl + 3;
		vl = (size_t)(eol - v);
		if (vl == strlen("<empty>") && !strncmp(v, "<empty>", vl))
			vl = 0;
		if (vl >= len)
			return -ENOSPC;
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* ---- failures --------------------------------------------------------- */

/* "iscsiadm: initiator reported error (19 - encountered non-retryable
 * iSCSI login failure)": iscsi_err_print_msg() of usr/iscsi_err.c, the
 * code iscsid answered; -1 when there is none */
static int
reported_error(const char *err)
{
	static const char tag[] = "initiator reported error (";
	const char *p = err ? strstr(err, tag) : NULL;
	uint32_t v;
	size_t i;

	if (!p)
		return -1;
	p += sizeof(tag) - 1;
	for (i = 0; is_digit(p[i]); i++)
		;
	if (!parse_u32(p, i, 255, &v) || p[i] != ' ')
		return -1;
	return (int)v;
}

/*
 * What iscsiadm's exit status means for a login (codes: include/iscsi_err.h,
 * iscsiadm(8) EXIT STATUS; how iscsid gets them: usr/initiator.c, which maps
 * the target's login response status, RFC 3720 10.13.5):
 *   0                          logged in
 *   15 SESS_EXISTS             "<iface>: 1 session requested, but 1 already
 *                              present." - already logged in: fine
 *   24 LOGIN_AUTH_FAILED       status 02/01 authentication failed or 02/02
 *                              forbidden target: refused
 *   19 FATAL_LOGIN             other initiator errors, 02/03 "target not
 *                              found" among them - what tgt answers an
 *                              initiator its ACL does not admit
 *                              (captured/README.md): refused
 *   4 TRANS, 8 TRANS_TIMEOUT,  no connection, login timer expired, the
 *   11 PDU_TIMEOUT, 5 LOGIN,   target's own error (class 03, retryable),
 *   29 AGAIN, 32 SESSION_NOT_  "retrying later may succeed": transport
 *   CONNECTED
 *   everything else            local: iscsid unreachable (20), no node
 *                              record (21), bad parameter (7), ...
 */
enum iscsi_failure
iscsi_login_classify(const struct runner_result *res)
{
	const char *err;
	int code;

	if (!res || res->cancelled || res->exec_errno)
		return ISCSI_FAIL_OTHER;
	if (res->timed_out)
		return ISCSI_FAIL_TRANSPORT;    /* killed while iscsid kept trying */
	if (res->term_signal)
		return ISCSI_FAIL_OTHER;
	if (runner_result_ok(res))
		return ISCSI_FAIL_NONE;
	err = res->err.data ? res->err.data : "";
	if (strstr(err, "already present"))
		return ISCSI_FAIL_NONE;
	code = res->exit_code;
	if (code == ISCSI_ERR) {
		int r = reported_error(err);

		if (r > 0)
			code = r;
	}
	switch (code) {
	case ISCSI_ERR_SESS_EXISTS:
		return ISCSI_FAIL_NONE;
	case ISCSI_ERR_LOGIN_AUTH_FAILED:
	case ISCSI_ERR_FATAL_LOGIN:
		return ISCSI_FAIL_REFUSED;
	case ISCSI_ERR_TRANS:
	case ISCSI_ERR_LOGIN:
	case ISCSI_ERR_TRANS_TIMEOUT:
	case ISCSI_ERR_PDU_TIMEOUT:
	case ISCSI_ERR_AGAIN:
	case ISCSI_ERR_SESSION_NOT_CONNECTED:
		return ISCSI_FAIL_TRANSPORT;
	default:
		return ISCSI_FAIL_OTHER;
	}
}

const char *
iscsi_failure_name(enum iscsi_failure f)
{
	switch (f) {
	case ISCSI_FAIL_NONE:
		return "none";
	case ISCSI_FAIL_REFUSED:
		return "refused";
	case ISCSI_FAIL_TRANSPORT:
		return "transport";
	case ISCSI_FAIL_OTHER:
		return "other";
	}
	return "?";
}
