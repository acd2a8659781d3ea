/* The LVM driver: command lines, report parsing, error sentences (lvm.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lvm.h"
#include "xm_error.h"

/* ---- names ---------------------------------------------------------------- */

/* lvm2's validate_name(): shared by VG and LV names. */
static int
name_check_common(const char *what, const char *name, char *why, size_t whylen)
{
	size_t len;

	if (!name || !*name) {
		xm_why(why, whylen, "%s name is empty", what);
		return -EINVAL;
	}
	len = strlen(name);
	if (len > LVM_NAME_MAX) {
		xm_why(why, whylen, "%s name '%.40s...' is too long (%zu characters, at most %d)",
		    what, name, len, LVM_NAME_MAX);
		return -EINVAL;
	}
	/* '-' separates VG and LV in device-mapper names */
	if (name[0] == '-') {
		xm_why(why, whylen, "%s name '%s' must not start with '-'", what, name);
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		xm_why(why, whylen, "%s name '%s' is not allowed", what, name);
		return -EINVAL;
	}
	for (const char *p = name; *p; p++) {
		if (isascii((unsigned char)*p) && (isalnum((unsigned char)*p) ||
		    *p == '+' || *p == '_' || *p == '.' || *p == '-'))
			continue;
		xm_why(why, whylen, "%s name '%s' has a character LVM does not allow "
		    "(only letters, digits, '+', '_', '.' and '-')", what, name);
		return -EINVAL;
	}
	return 0;
}

int
lvm_name_check(const char *lv, char *why, size_t whylen)
{
	/* lvm2 2.03's apply_lvname_restrictions(), plus the suffixes newer
	 * versions reserve: being stricter than this lvm costs nothing, a
	 * name a later lvm refuses would break an upgrade. */
	static const char *const prefixes[] = { "snapshot", "pvmove" };
	static const char *const infixes[] = {
		"_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_imeta",
		"_iorig", "_mimage", "_mlog", "_pmspare", "_rimage", "_rmeta",
		"_tdata", "_tmeta", "_vdata", "_vorigin", "_wcorig",
	};
	int rc;

	rc = name_check_common("logical volume", lv, why, whylen);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(lv, prefixes[i], strlen(prefixes[i]))) {
			xm_why(why, whylen, "logical volume name '%s': names starting "
			    "with \"%s\" are reserved by LVM", lv, prefixes[i]);
			return -EINVAL;
		}
	for (size_t i = 0; i < sizeof(infixes) / sizeof(infixes[0]); i++)
		if (strstr(lv, infixes[i])) {
			xm_why(why, whylen, "logical volume name '%s': names containing "
			    "\"%s\" are reserved by LVM", lv, infixes[i]);
			return -EINVAL;
		}
	return 0;
}

/* ---- commands ------------------------------------------------------------- */

#define LVM_ARGS_MAX 24

struct argv_buf {
	const char *a[LVM_ARGS_MAX + 1];
	size_t n;
};

static void
arg(struct argv_buf *b, const char *s)
{
	if (b->n < LVM_ARGS_MAX)
		b->a[b->n++] = s;
	b->a[b->n] = NULL;
}

/* The program name, then --driverloaded n first when there is no
 * device-mapper: placed first so every line reads the same way. */
static void
argv_start(struct argv_buf *b, const struct lvm_conf *c, const char *prog)
{
	b->n = 0;
	arg(b, prog);
	if (c->no_devmapper) {
		arg(b, "--driverloaded");
		arg(b, "n");
	}
}

static int
conf_check(const struct cmdseq *s, const struct lvm_conf *c)
{
	if (!s || !c)
		return -EINVAL;
	return name_check_common("volume group", c->vg, NULL, 0);
}

int
lvm_cmd_create(struct cmdseq *s, const struct lvm_conf *c, const char *lv,
	       uint64_t size_bytes)
{
	struct argv_buf b;
	char size[32];

	if (conf_check(s, c) || lvm_name_check(lv, NULL, 0))
		return -EINVAL;
	if (size_bytes == 0 || size_bytes % 512)
		return -EINVAL;
	/* bytes with the 'b' unit: exact, no rounding by lvm's units */
	(void)snprintf(size, sizeof(size), "%" PRIu64 "b", size_bytes);
	argv_start(&b, c, "lvcreate");
	arg(&b, "--yes");
	if (c->no_devmapper) {
		arg(&b, "-an");
		arg(&b, "-Zn");
	} else {
		arg(&b, "-Wy");
		arg(&b, "-Zy");
	}
	arg(&b, "-L");
	arg(&b, size);
	arg(&b, "-n");
	arg(&b, lv);
	arg(&b, c->vg);
	return cmdseq_addv(s, b.a);
}

int
lvm_cmd_remove(struct cmdseq *s, const struct lvm_conf *c, const char *lv)
{
	struct argv_buf b;
	char path[2 * LVM_NAME_MAX + 2];

	if (conf_check(s, c) || lvm_name_check(lv, NULL, 0))
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "%s/%s", c->vg, lv);
	/* -f: no question about an active LV; lvm still refuses an open one
	 * ("in use"), which is what protects a volume being exported. */
	argv_start(&b, c, "lvremove");
	arg(&b, "-f");
	arg(&b, path);
	return cmdseq_addv(s, b.a);
}

int
lvm_cmd_lvs(struct cmdseq *s, const struct lvm_conf *c)
{
	struct argv_buf b;

	if (conf_check(s, c))
		return -EINVAL;
	argv_start(&b, c, "lvs");
	arg(&b, "--reportformat");
	arg(&b, "json");
	arg(&b, "-o");
	arg(&b, "lv_name,vg_name,lv_size,lv_attr,lv_path,lv_active");
	arg(&b, "--units");
	arg(&b, "b");
	arg(&b, c->vg);
	return cmdseq_addv(s, b.a);
}

int
lvm_cmd_vgs(struct cmdseq *s, const struct lvm_conf *c)
{
	struct argv_buf b;

	if (conf_check(s, c))
		return -EINVAL;
	argv_start(&b, c, "vgs");
	arg(&b, "--reportformat");
	arg(&b, "json");
	arg(&b, "--units");
	arg(&b, "b");
	arg(&b, c->vg);
	return cmdseq_addv(s, b.a);
}

/* ---- report parsing ------------------------------------------------------- */

/* The whole text as one JSON value, or -EBADMSG naming the fault. */
static int
json_read(const char *text, const char *what, struct json_object **out,
	  char *why, size_t whylen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t len, off;

	*out = NULL;
	if (!text) {
		xm_why(why, whylen, "%s: no output", what);
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
	if (jerr == json_tokener_continue) {
		json_object_put(o);
		xm_why(why, whylen, "%s: output is not JSON: it ends too early", what);
		return -EBADMSG;
	}
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		xm_why(why, whylen, "%s: output is not JSON: %s at byte %zu", what,
		    json_tokener_error_desc(jerr), off);
		return -EBADMSG;
	}
	while (off < len && isspace((unsigned char)text[off]))
		off++;
	if (off < len) {
		json_object_put(o);
		xm_why(why, whylen, "%s: unexpected text after the JSON at byte %zu", what, off);
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

/* "67108864B" (what --units b prints) -> bytes. */
static int
bytes_read(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || (strcmp(end, "B") && strcmp(end, "")))
		return -EINVAL;
	*v = x;
	return 0;
}

static int
field_str(struct json_object *row, const char *key, const char **val)
{
	struct json_object *f;

	if (!json_object_object_get_ex(row, key, &f) ||
	    !json_object_is_type(f, json_type_string))
		return -EBADMSG;
	*val = json_object_get_string(f);
	return 0;
}

static int
copy_field(struct json_object *row, const char *key, char *dst, size_t len)
{
	const char *v;

	if (field_str(row, key, &v) || strlen(v) >= len)
		return -EBADMSG;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* Every row of every "report" entry's `kind` list ("lv" or "vg"), as one
 * array the caller must put; -EBADMSG when the shape is not lvm's. */
static int
report_rows(struct json_object *root, const char *what, const char *kind,
	    struct json_object **rows, char *why, size_t whylen)
{
	struct json_object *report, *all;
	size_t nrep;

	*rows = NULL;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "report", &report) ||
	    !json_object_is_type(report, json_type_array)) {
		xm_why(why, whylen, "%s: no \"report\" list in the output", what);
		return -EBADMSG;
	}
	all = json_object_new_array();
	if (!all)
		return -ENOMEM;
	nrep = json_object_array_length(report);
	for (size_t i = 0; i < nrep; i++) {
		struct json_object *ent = json_object_array_get_idx(report, i), *list;
		size_t n;

		if (!json_object_is_type(ent, json_type_object) ||
		    !json_object_object_get_ex(ent, kind, &list) ||
		    !json_object_is_type(list, json_type_array)) {
			xm_why(why, whylen, "%s: report entry %zu has no \"%s\" list",
			    what, i, kind);
			json_object_put(all);
			return -EBADMSG;
		}
		n = json_object_array_length(list);
		for (size_t j = 0; j < n; j++) {
			struct json_object *row = json_object_array_get_idx(list, j);

			if (!json_object_is_type(row, json_type_object)) {
				xm_why(why, whylen, "%s: %s row %zu is not an object",
				    what, kind, j);
				json_object_put(all);
				return -EBADMSG;
			}
			if (json_object_array_add(all, json_object_get(row))) {
				json_object_put(row);
				json_object_put(all);
				return -ENOMEM;
			}
		}
	}
	*rows = all;
	return 0;
}

static int
lv_row(struct json_object *row, size_t i, struct lvm_lv *lv, char *why, size_t whylen)
{
	static const char *const keys[] = {
		"lv_name", "vg_name", "lv_size", "lv_attr", "lv_path", "lv_active",
	};
	const char *size, *active;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *v;

		if (field_str(row, keys[k], &v)) {
			xm_why(why, whylen, "lvs: row %zu has no \"%s\" string", i, keys[k]);
			return -EBADMSG;
		}
	}
	if (copy_field(row, "lv_name", lv->name, sizeof(lv->name)) ||
	    copy_field(row, "vg_name", lv->vg, sizeof(lv->vg)) ||
	    copy_field(row, "lv_attr", lv->attr, sizeof(lv->attr)) ||
	    copy_field(row, "lv_path", lv->path, sizeof(lv->path))) {
		xm_why(why, whylen, "lvs: row %zu has a field too long", i);
		return -EBADMSG;
	}
	(void)field_str(row, "lv_size", &size);
	if (bytes_read(size, &lv->size_bytes)) {
		xm_why(why, whylen, "lvs: row %zu: lv_size \"%s\" is not a byte count "
		    "(was --units b given?)", i, size);
		return -EBADMSG;
	}
	/* lv_active is "active" or "" with device-mapper, "unknown" without;
	 * the 5th attribute character is 'a' when active. */
	(void)field_str(row, "lv_active", &active);
	lv->active = !strcmp(active, "active") ||
		     (strlen(lv->attr) > 4 && lv->attr[4] == 'a');
	return 0;
}

int
lvm_lvs_parse(const char *json, struct lvm_lv **out, size_t *n, char *why,
	      size_t whylen)
{
	struct json_object *root = NULL, *rows = NULL;
	struct lvm_lv *lvs = NULL;
	size_t count;
	int rc;

	if (!out || !n)
		return -EINVAL;
	*out = NULL;
	*n = 0;
	rc = json_read(json, "lvs", &root, why, whylen);
	if (rc)
		return rc;
	rc = report_rows(root, "lvs", "lv", &rows, why, whylen);
	if (rc)
		goto out_root;
	count = json_object_array_length(rows);
	if (count) {
		lvs = calloc(count, sizeof(*lvs));
		if (!lvs) {
			rc = -ENOMEM;
			goto out_rows;
		}
	}
	for (size_t i = 0; i < count; i++) {
		rc = lv_row(json_object_array_get_idx(rows, i), i, &lvs[i], why, whylen);
		if (rc) {
			free(lvs);
			goto out_rows;
		}
	}
	*out = lvs;
	*n = count;
	rc = 0;
out_rows:
	json_object_put(rows);
out_root:
	json_object_put(root);
	return rc;
}

int
lvm_vgs_parse(const char *json, struct lvm_vg *out, char *why, size_t whylen)
{
	struct json_object *root = NULL, *rows = NULL, *row;
	const char *size, *free_s, *lvc;
	uint64_t lv_count;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	rc = json_read(json, "vgs", &root, why, whylen);
	if (rc)
		return rc;
	rc = report_rows(root, "vgs", "vg", &rows, why, whylen);
	if (rc)
		goto out_root;
	if (json_object_array_length(rows) == 0) {
		xm_why(why, whylen, "volume group not found (vgs reported none)");
		rc = -ENOENT;
		goto out_rows;
	}
	/* the command names one VG: more rows is not what was asked */
	if (json_object_array_length(rows) > 1) {
		xm_why(why, whylen, "vgs: %zu volume groups reported, one expected",
		    json_object_array_length(rows));
		rc = -EBADMSG;
		goto out_rows;
	}
	row = json_object_array_get_idx(rows, 0);
	rc = -EBADMSG;
	if (copy_field(row, "vg_name", out->name, sizeof(out->name))) {
		xm_why(why, whylen, "vgs: no usable \"vg_name\"");
		goto out_rows;
	}
	if (field_str(row, "vg_size", &size) || bytes_read(size, &out->size_bytes)) {
		xm_why(why, whylen, "vgs: volume group %s: no byte count in \"vg_size\"",
		    out->name);
		goto out_rows;
	}
	if (field_str(row, "vg_free", &free_s) || bytes_read(free_s, &out->free_bytes)) {
		xm_why(why, whylen, "vgs: volume group %s: no byte count in \"vg_free\"",
		    out->name);
		goto out_rows;
	}
	if (field_str(row, "lv_count", &lvc) || bytes_read(lvc, &lv_count) ||
	    strchr(lvc, 'B') || lv_count > UINT32_MAX) {
		xm_why(why, whylen, "vgs: volume group %s: no number in \"lv_count\"",
		    out->name);
		goto out_rows;
	}
	out->lv_count = (uint32_t)lv_count;
	rc = 0;
out_rows:
	json_object_put(rows);
out_root:
	json_object_put(root);
	return rc;
}

/* ---- error sentences ------------------------------------------------------ */

/* Copies the text between the first pair of double quotes after `from`
 * into dst ("" if none). */
static void
quoted(const char *from, char *dst, size_t len)
{
	const char *a = strchr(from, '"'), *b;
	size_t n;

	dst[0] = '\0';
	if (!a)
		return;
	b = strchr(a + 1, '"');
	if (!b)
		return;
	n = (size_t)(b - a - 1);
	if (n >= len)
		n = len - 1;
	memcpy(dst, a + 1, n);
	dst[n] = '\0';
}

static int
classify_line(const char *line, char *why, size_t whylen)
{
	char a[160], b[160];
	const char *p;

	/* Volume group "nosuchvg" not found */
	if (!strncmp(line, "Volume group \"", 14) && strstr(line, "\" not found")) {
		quoted(line, a, sizeof(a));
		xm_why(why, whylen, "volume group %s not found", a);
		return -ENOENT;
	}
	/* Failed to find logical volume "vg/lv" */
	if (!strncmp(line, "Failed to find logical volume", 29)) {
		quoted(line, a, sizeof(a));
		xm_why(why, whylen, "logical volume %s not found", a);
		return -ENOENT;
	}
	/* Logical Volume "vm1-disk0" already exists in volume group "xmcapvg" */
	if ((p = strstr(line, "already exists in volume group"))) {
		quoted(line, a, sizeof(a));
		quoted(p, b, sizeof(b));
		xm_why(why, whylen, "logical volume %s already exists in volume group %s",
		    a, b);
		return -EEXIST;
	}
	/* Volume group "vg" has insufficient free space (11 extents): 256 required. */
	if ((p = strstr(line, "has insufficient free space"))) {
		unsigned long have, need;

		quoted(line, a, sizeof(a));
		if (sscanf(p, "has insufficient free space (%lu extents): %lu required",
			   &have, &need) == 2)
			xm_why(why, whylen, "volume group %s has not enough free space: "
			    "%lu extents free, %lu needed", a, have, need);
		else
			xm_why(why, whylen, "volume group %s has not enough free space", a);
		return -ENOSPC;
	}
	/* lib/activate/activate.c: "Logical volume vg/lv in use." and
	 * "Logical volume vg/lv contains a filesystem in use."; older lvm:
	 * "Can't remove open logical volume "lv"" */
	if (!strncmp(line, "Logical volume ", 15) && strstr(line, " in use")) {
		(void)sscanf(line + 15, "%159s", a);
		xm_why(why, whylen, "logical volume %s is in use (open)", a);
		return -EBUSY;
	}
	if (strstr(line, "open logical volume")) {
		quoted(line, a, sizeof(a));
		xm_why(why, whylen, "logical volume %s is in use (open)", a);
		return -EBUSY;
	}
	return 0;
}

int
lvm_error_classify(const char *stderr_text, char *why, size_t whylen)
{
	char first[512] = "", line[512];
	const char *p = stderr_text ? stderr_text : "";

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *l;
		int rc;

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : p + strlen(p);
		for (l = line; *l == ' ' || *l == '\t'; l++)
			;
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\r'))
			line[--n] = '\0';
		/* "WARNING: Activation disabled..." with --driverloaded n, and
		 * "WARNING: ... not zeroed": never the reason of a failure */
		if (!*l || !strncmp(l, "WARNING:", 8))
			continue;
		rc = classify_line(l, why, whylen);
		if (rc)
			return rc;
		if (!first[0])
			(void)snprintf(first, sizeof(first), "%s", l);
	}
	if (first[0])
		xm_why(why, whylen, "lvm failed: %s", first);
	else
		xm_why(why, whylen, "lvm failed without an error message");
	return -EIO;
}

/* ---- sizes ---------------------------------------------------------------- */

int
size_parse(const char *text, uint64_t *bytes, char *why, size_t whylen)
{
	const char *p = text, *u;
	uint64_t v = 0, mult = 1;
	int shift = 0;

	if (!text || !bytes) {
		xm_why(why, whylen, "no size given");
		return -EINVAL;
	}
	*bytes = 0;
	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			goto too_big;
		v = v * 10 + d;
	}
	u = p;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: break;
	}
	/* "MiB", "MB" (binary too, as lvm reads -L 64M), bare "b"/"B"
	 * bytes; "Mb" is not taken: it reads as megabits */
	if (shift && !strcmp(p, "iB"))
		p += 2;
	else if (!strcmp(p, "B") || (!shift && !strcmp(p, "b")))
		p++;
	if (*p) {
		if (*u == '.' || *u == ',') {
			xm_why(why, whylen, "cannot read size '%s': expected a whole number "
			    "(with K, M, G or T: use a smaller unit instead of a fraction)",
			    text);
			return -EINVAL;
		}
		goto bad;
	}
	mult = (uint64_t)1 << shift;
	if (v > UINT64_MAX / mult)
		goto too_big;
	v *= mult;
	if (v == 0) {
		xm_why(why, whylen, "size '%s' is zero", text);
		return -EINVAL;
	}
	if (v % 512) {
		xm_why(why, whylen, "size '%s' (%" PRIu64 " bytes) is not a multiple of "
		    "512 bytes", text, v);
		return -EINVAL;
	}
	*bytes = v;
	return 0;

bad:
	xm_why(why, whylen, "cannot read size '%s': expected a number with K, M, G or T",
	    text);
	return -EINVAL;
too_big:
	xm_why(why, whylen, "size '%s' is too large", text);
	return -ERANGE;
}
