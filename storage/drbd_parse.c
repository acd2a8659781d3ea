/* Parsers of DRBD's state: 8.4's /proc/drbd and 9's `drbdsetup status
 * --json` (drbd.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "drbd.h"
#include "xm_error.h"

/* A state word into a field: letters only (DRBD's names), and it fits. */
static int
word_set(char *dst, size_t len, const char *src, size_t n)
{
	if (n == 0 || n >= len)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (!isalpha((unsigned char)src[i]))
			return -EBADMSG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* "A/B" of "ro:A/B" or "ds:A/B". */
static int
pair_set(const char *v, size_t n, char *a, size_t alen, char *b, size_t blen)
{
	const char *slash = memchr(v, '/', n);

	if (!slash)
		return -EBADMSG;
	if (word_set(a, alen, v, (size_t)(slash - v)))
		return -EBADMSG;
	return word_set(b, blen, slash + 1, n - (size_t)(slash - v) - 1);
}

/* ---- DRBD 8.4: /proc/drbd ----------------------------------------------------
 *
 * version: 8.4.11 (api:1/proto:86-101)
 * srcversion: F73C670A7EC572DB9CF3E5B
 *  0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
 *     ns:65496 nr:0 dw:0 dr:65496 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
 *  1: cs:Unconfigured
 */

static int
proc_line(const char *line, size_t n, uint32_t minor, struct drbd_state *st,
	  char *why, size_t whylen)
{
	const char *p = line, *end = line + n;
	bool have_cs = false, have_ro = false, have_ds = false;

	while (p < end) {
		const char *t = p;
		size_t tl;

		while (t < end && *t == ' ')
			t++;
		p = t;
		while (p < end && *p != ' ')
			p++;
		tl = (size_t)(p - t);
		if (tl > 3 && !strncmp(t, "cs:", 3)) {
			have_cs = !word_set(st->conn, sizeof(st->conn), t + 3, tl - 3);
			if (!have_cs)
				break;
		} else if (tl > 3 && !strncmp(t, "ro:", 3)) {
			have_ro = !pair_set(t + 3, tl - 3, st->role, sizeof(st->role),
					    st->peer_role, sizeof(st->peer_role));
			if (!have_ro)
				break;
		} else if (tl > 3 && !strncmp(t, "ds:", 3)) {
			have_ds = !pair_set(t + 3, tl - 3, st->disk, sizeof(st->disk),
					    st->peer_disk, sizeof(st->peer_disk));
			if (!have_ds)
				break;
		}
	}
	if (!have_cs) {
		xm_why(why, whylen, "/proc/drbd: minor %u has no readable cs: field", minor);
		return -EBADMSG;
	}
	if (!strcmp(st->conn, "Unconfigured")) {
		xm_why(why, whylen, "DRBD minor %u is not configured (resource not up)", minor);
		return -ENOENT;
	}
	if (!have_ro || !have_ds) {
		xm_why(why, whylen, "/proc/drbd: minor %u has no readable %s field", minor,
		    !have_ro ? "ro:" : "ds:");
		return -EBADMSG;
	}
	st->split_brain = !strcmp(st->conn, "StandAlone");
	return 0;
}

int
drbd_proc_parse(const char *text, uint32_t minor, struct drbd_state *st,
		char *why, size_t whylen)
{
	const char *p = text;
	bool first = true;

	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->minor = minor;
	if (!text) {
		xm_why(why, whylen, "/proc/drbd: no text");
		return -EBADMSG;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *l = p, *q;
		char *end;
		unsigned long m;

		p = nl ? nl + 1 : p + n;
		if (first) {
			/* the module's own header: anything else is not /proc/drbd
			 * (or the module is not loaded and cat failed) */
			if (strncmp(l, "version:", 8)) {
				xm_why(why, whylen, "/proc/drbd: does not start with \"version:\"");
				return -EBADMSG;
			}
			first = false;
			continue;
		}
		for (q = l; q < l + n && *q == ' '; q++)
			;
		if (q == l + n || !isdigit((unsigned char)*q))
			continue;
		errno = 0;
		m = strtoul(q, &end, 10);
		if (errno || end >= l + n || *end != ':' || m != minor)
			continue;
		return proc_line(end + 1, (size_t)(l + n - end - 1), minor, st, why, whylen);
	}
	if (first) {
		xm_why(why, whylen, "/proc/drbd: empty");
		return -EBADMSG;
	}
	xm_why(why, whylen, "DRBD minor %u is not in /proc/drbd (resource not up)", minor);
	return -ENOENT;
}

/* ---- DRBD 9: drbdsetup status --json -----------------------------------------
 *
 * [ { "name": "r0", "node-id": 0, "role": "Primary", ...,
 *     "devices": [ { "volume": 0, "minor": 0, "disk-state": "UpToDate", ... } ],
 *     "connections": [ { "peer-node-id": 1, "name": "san2",
 *         "connection-state": "Connected", "peer-role": "Secondary", ...,
 *         "peer_devices": [ { "volume": 0, "replication-state": "Established",
 *             "peer-disk-state": "UpToDate", ... } ] } ] } ]
 * ("peer_devices" with an underscore: that is how drbdsetup spells it.)
 */

static struct json_object *
member(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static int
str_member(struct json_object *o, const char *key, char *dst, size_t len,
	   const char *where, char *why, size_t whylen)
{
	struct json_object *v = member(o, key, json_type_string);
	const char *s;

	if (!v) {
		xm_why(why, whylen, "drbdsetup status: %s has no \"%s\" string", where, key);
		return -EBADMSG;
	}
	s = json_object_get_string(v);
	if (word_set(dst, len, s, strlen(s))) {
		xm_why(why, whylen, "drbdsetup status: %s: \"%s\" is not a state word: "
		    "\"%.40s\"", where, key, s);
		return -EBADMSG;
	}
	return 0;
}

static int
json_whole(const char *text, struct json_object **out, char *why, size_t whylen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	struct json_object *o;
	size_t len, off;

	*out = NULL;
	if (!text) {
		xm_why(why, whylen, "drbdsetup status: no output");
		return -EBADMSG;
	}
	len = strlen(text);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		xm_why(why, whylen, "drbdsetup status: output is not JSON: %s at byte %zu",
		    jerr == json_tokener_continue ? "it ends too early" :
		    json_tokener_error_desc(jerr), off);
		return -EBADMSG;
	}
	while (off < len && isspace((unsigned char)text[off]))
		off++;
	if (off < len) {
		json_object_put(o);
		xm_why(why, whylen, "drbdsetup status: unexpected text after the JSON at "
		    "byte %zu", off);
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

static int
peer_fill(struct json_object *conn, struct drbd_state *st, char *why, size_t whylen)
{
	struct json_object *pds, *pd;
	char cstate[24], repl[24];
	int rc;

	rc = str_member(conn, "connection-state", cstate, sizeof(cstate),
			"the connection", why, whylen);
	if (!rc)
		rc = str_member(conn, "peer-role", st->peer_role, sizeof(st->peer_role),
				"the connection", why, whylen);
	if (rc)
		return rc;
	pds = member(conn, "peer_devices", json_type_array);
	pd = pds ? json_object_array_get_idx(pds, 0) : NULL;
	if (!pd) {
		xm_why(why, whylen, "drbdsetup status: the connection has no \"peer_devices\"");
		return -EBADMSG;
	}
	rc = str_member(pd, "peer-disk-state", st->peer_disk, sizeof(st->peer_disk),
			"peer_devices[0]", why, whylen);
	if (!rc)
		rc = str_member(pd, "replication-state", repl, sizeof(repl),
				"peer_devices[0]", why, whylen);
	if (rc)
		return rc;
	/* 8.4's words: Connected with replication Established (or Off, no
	 * disk on one side) is "Connected"; a resync shows as SyncSource... */
	if (!strcmp(cstate, "Connected") && strcmp(repl, "Established") &&
	    strcmp(repl, "Off"))
		memcpy(st->conn, repl, sizeof(repl));
	else
		memcpy(st->conn, cstate, sizeof(cstate));
	return 0;
}

int
drbd_status_json_parse(const char *json, const char *res, struct drbd_state *st,
		       char *why, size_t whylen)
{
	struct json_object *root, *r = NULL, *devs, *dev, *conns, *minor;
	size_t n;
	int rc;

	if (!st || !res)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	rc = json_whole(json, &root, why, whylen);
	if (rc)
		return rc;
	rc = -EBADMSG;
	if (!json_object_is_type(root, json_type_array)) {
		xm_why(why, whylen, "drbdsetup status: output is not a list of resources");
		goto out_root;
	}
	n = json_object_array_length(root);
	for (size_t i = 0; i < n && !r; i++) {
		struct json_object *c = json_object_array_get_idx(root, i);
		struct json_object *name = member(c, "name", json_type_string);

		if (!name) {
			xm_why(why, whylen, "drbdsetup status: resource %zu has no \"name\"", i);
			goto out_root;
		}
		if (!strcmp(json_object_get_string(name), res))
			r = c;
	}
	if (!r) {
		xm_why(why, whylen, "DRBD resource %s is not up (not in drbdsetup status)", res);
		rc = -ENOENT;
		goto out_root;
	}
	if (strlen(res) >= sizeof(st->res)) {
		xm_why(why, whylen, "drbdsetup status: resource name too long");
		goto out_root;
	}
	memcpy(st->res, res, strlen(res) + 1);
	if (str_member(r, "role", st->role, sizeof(st->role), res, why, whylen))
		goto out_root;
	devs = member(r, "devices", json_type_array);
	dev = devs ? json_object_array_get_idx(devs, 0) : NULL;
	minor = member(dev, "minor", json_type_int);
	if (!dev || !minor || json_object_get_int64(minor) < 0 ||
	    json_object_get_int64(minor) > DRBD_MINOR_MAX) {
		xm_why(why, whylen, "drbdsetup status: resource %s has no device with a "
		    "\"minor\"", res);
		goto out_root;
	}
	st->minor = (uint32_t)json_object_get_int64(minor);
	if (str_member(dev, "disk-state", st->disk, sizeof(st->disk), "devices[0]",
		       why, whylen))
		goto out_root;
	conns = member(r, "connections", json_type_array);
	if (!conns) {
		xm_why(why, whylen, "drbdsetup status: resource %s has no \"connections\" "
		    "list", res);
		goto out_root;
	}
	if (json_object_array_length(conns) == 0) {
		/* no connection object at all: nothing configured towards the
		 * peer, as good as StandAlone */
		strcpy(st->conn, "StandAlone");
		strcpy(st->peer_role, "Unknown");
		strcpy(st->peer_disk, "DUnknown");
	} else {
		rc = peer_fill(json_object_array_get_idx(conns, 0), st, why, whylen);
		if (rc)
			goto out_root;
	}
	st->split_brain = !strcmp(st->conn, "StandAlone");
	rc = 0;
out_root:
	json_object_put(root);
	return rc;
}
