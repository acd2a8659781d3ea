/* Raw images for vm create; see vmcreate_raw.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vmcreate_raw.h"
#include "xm_error.h"

static int
get_u64(struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	if (json_object_get_int64(v) < 0)
		return -EBADMSG;
	*out = (uint64_t)json_object_get_int64(v);
	return 0;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* dos extended containers: 05, 0f (LBA), 85 (Linux extended) */
static bool
is_extended(const char *label, const char *type)
{
	return strcmp(label, "dos") == 0 &&
	       (strcasecmp(type, "5") == 0 || strcasecmp(type, "f") == 0 ||
		strcasecmp(type, "85") == 0);
}

/* The number of partition node on device: node is DEVICE, an optional
 * 'p' (device names ending in a digit), then the number. */
static int
part_number(const char *device, const char *node, unsigned *out)
{
	size_t len = strlen(device);
	const char *p = node;
	char *end;
	unsigned long n;

	if (strncmp(node, device, len) == 0)
		p += len;
	else
		return -EBADMSG;
	if (*p == 'p')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EBADMSG;
	errno = 0;
	n = strtoul(p, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > 256)
		return -EBADMSG;
	*out = (unsigned)n;
	return 0;
}

int
rawimg_table_parse(const char *json, struct rawimg_part *out, char *why,
		   size_t whylen)
{
	struct json_object *root, *pt, *parts;
	const char *label, *device;
	uint64_t ssz, best_start = 0, best_size = 0;
	unsigned best_num = 0;
	bool found = false;
	int rc = -EBADMSG;

	memset(out, 0, sizeof(*out));
	root = json != NULL ? json_tokener_parse(json) : NULL;
	if (root == NULL) {
		xm_why(why, whylen, "sfdisk --json: output is not JSON");
		return -EBADMSG;
	}
	if (!json_object_object_get_ex(root, "partitiontable", &pt) ||
	    (label = get_str(pt, "label")) == NULL ||
	    (device = get_str(pt, "device")) == NULL ||
	    get_u64(pt, "sectorsize", &ssz) < 0 || ssz < 512 || ssz % 512 != 0) {
		xm_why(why, whylen, "sfdisk --json: no partitiontable with a label, "
		       "device and sectorsize");
		goto out;
	}
	if (strcmp(label, "dos") != 0 && strcmp(label, "gpt") != 0) {
		xm_why(why, whylen, "the image has a partition table of type %.20s: "
		       "only dos (MBR) and gpt are grown", label);
		rc = -EOPNOTSUPP;
		goto out;
	}
	snprintf(out->label, sizeof(out->label), "%s", label);
	if (!json_object_object_get_ex(pt, "partitions", &parts) ||
	    !json_object_is_type(parts, json_type_array) ||
	    json_object_array_length(parts) == 0) {
		xm_why(why, whylen, "the image's partition table (%s) has no partition",
		       label);
		rc = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(parts); i++) {
		struct json_object *p = json_object_array_get_idx(parts, i);
		const char *node = get_str(p, "node"), *type = get_str(p, "type");
		uint64_t start, size;
		unsigned num;

		if (node == NULL || type == NULL || get_u64(p, "start", &start) < 0 ||
		    get_u64(p, "size", &size) < 0 || part_number(device, node, &num) < 0) {
			xm_why(why, whylen, "sfdisk --json: partition %zu has no usable "
			       "node, type, start and size", i + 1);
			goto out;
		}
		if (is_extended(label, type))
			continue;
		if (!found || start > best_start) {
			found = true;
			best_start = start;
			best_size = size;
			best_num = num;
		}
	}
	if (!found) {
		xm_why(why, whylen, "the image's partition table has only extended "
		       "partitions");
		rc = -ENOENT;
		goto out;
	}
	if (strcmp(label, "dos") == 0 && best_num > 4) {
		xm_why(why, whylen, "the image's last partition (%u) is a logical one: "
		       "only a primary partition can be grown", best_num);
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (best_start > UINT64_MAX / ssz || best_size > UINT64_MAX / ssz) {
		xm_why(why, whylen, "sfdisk --json: partition %u is out of range", best_num);
		goto out;
	}
	out->number = best_num;
	out->start_bytes = best_start * ssz;
	out->size_bytes = best_size * ssz;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

bool
rawimg_no_table(const char *sfdisk_err)
{
	return sfdisk_err != NULL &&
	       strstr(sfdisk_err, "does not contain a recognized partition table") != NULL;
}

void
rawimg_blkid_type(const char *out, char *type, size_t len)
{
	const char *p = out;

	type[0] = '\0';
	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > 5 && strncmp(p, "TYPE=", 5) == 0) {
			snprintf(type, len, "%.*s", (int)(n - 5), p + 5);
			return;
		}
		p = eol ? eol + 1 : NULL;
	}
}

bool
rawimg_type_is_ext(const char *type)
{
	return strcmp(type, "ext2") == 0 || strcmp(type, "ext3") == 0 ||
	       strcmp(type, "ext4") == 0;
}

/* A growing text; err sticky. */
struct buf {
	char *s;
	size_t len, cap;
	int err;
};

static void
bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->s != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (s == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

/* Safe inside debugfs's double quotes, on one line. */
static bool
quotable(const char *s)
{
	return strpbrk(s, "\"\n\r") == NULL;
}

/* A guest path we write: relative, plain components, no space. */
static bool
path_ok(const char *path)
{
	return quotable(path) && strchr(path, ' ') == NULL && path[0] != '/' &&
	       strstr(path, "//") == NULL && path[strlen(path) - 1] != '/';
}

/* Has "ls -p /DIR" of dir (len bytes of a path, 0: the root) been
 * appended already? */
static bool
listed(const struct buf *b, const char *dir, size_t len)
{
	char line[300];

	snprintf(line, sizeof(line), "ls -p /%.*s\n", (int)len, dir);
	return b->s != NULL && strstr(b->s, line) != NULL;
}

int
rawimg_look_cmds(const struct template_file *files, size_t count, char **cmds)
{
	struct buf b = { 0 };

	*cmds = NULL;
	for (size_t i = 0; i < count; i++) {
		const char *path = files[i].path;

		if (!path_ok(path)) {
			free(b.s);
			return -EINVAL;
		}
		/* the root and each directory on the way */
		if (!listed(&b, path, 0))
			bprintf(&b, "ls -p /\n");
		for (const char *s = strchr(path, '/'); s != NULL; s = strchr(s + 1, '/'))
			if (!listed(&b, path, (size_t)(s - path)))
				bprintf(&b, "ls -p /%.*s\n", (int)(s - path), path);
	}
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*cmds = b.s ? b.s : strdup("");
	return *cmds ? 0 : -ENOMEM;
}

/* The mode of entry name in directory dir (as "/etc", "/" for the root)
 * per the listing: 0 when not listed. */
static unsigned
listing_mode(const char *listing, const char *dir, const char *name, size_t namelen)
{
	char head[300];
	const char *p = listing;
	bool in = false;

	snprintf(head, sizeof(head), "debugfs: ls -p %s", dir);
	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n >= 9 && strncmp(p, "debugfs: ", 9) == 0) {
			in = n == strlen(head) && strncmp(p, head, n) == 0;
		} else if (in && n > 0 && p[0] == '/') {
			/* /INO/MODE/UID/GID/NAME/SIZE/ */
			const char *f = p + 1, *end = p + n, *mode = NULL;

			for (int k = 0; k < 4 && f < end; k++) {
				const char *sl = memchr(f, '/', (size_t)(end - f));

				if (sl == NULL) {
					f = end;
					break;
				}
				if (k == 1)
					mode = f;
				f = sl + 1;
			}
			/* f: NAME/SIZE/ */
			if (mode != NULL && f + namelen < end && f[namelen] == '/' &&
			    memcmp(f, name, namelen) == 0)
				return (unsigned)strtoul(mode, NULL, 8);
		}
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

#define MODE_FMT 0170000
#define MODE_DIR 0040000

int
rawimg_debugfs_cmds(const struct template_file *files, size_t count,
		    const char *localdir, const char *listing, char **write_cmds,
		    char **check_cmds, char *why, size_t whylen)
{
	struct buf w = { 0 }, c = { 0 }, made = { 0 };
	int rc = 0;

	*write_cmds = NULL;
	*check_cmds = NULL;
	if (!quotable(localdir)) {
		xm_why(why, whylen, "%s cannot be named in debugfs commands", localdir);
		return -EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < count; i++) {
		const char *path = files[i].path, *base = strrchr(path, '/');
		const char *comp = path;
		char dir[300] = "/";
		unsigned mode;

		if (!path_ok(path)) {
			xm_why(why, whylen, "%s cannot be named in debugfs commands", path);
			rc = -EINVAL;
			break;
		}
		/* each directory from the top: made when missing (debugfs's
		 * mkdir of one that exists leaves a stray inode behind), never
		 * a symlink: we do not write through one, as the tree path */
		for (const char *s = strchr(path, '/'); s != NULL; s = strchr(s + 1, '/')) {
			size_t len = (size_t)(s - comp);
			char line[320];

			snprintf(line, sizeof(line), "mkdir /%.*s\n", (int)(s - path), path);
			mode = listing_mode(listing, dir, comp, len);
			if (mode == 0 && (made.s == NULL || strstr(made.s, line) == NULL)) {
				bprintf(&w, "%s", line);
				bprintf(&made, "%s", line);
			} else if (mode != 0 && (mode & MODE_FMT) != MODE_DIR) {
				xm_why(why, whylen, "/%.*s in the image is a symlink or not a "
				       "directory: refusing to write through it",
				       (int)(s - path), path);
				rc = -ENOTDIR;
				break;
			}
			snprintf(dir, sizeof(dir), "/%.*s", (int)(s - path), path);
			comp = s + 1;
		}
		if (rc < 0)
			break;
		mode = listing_mode(listing, dir, comp, strlen(comp));
		if (mode != 0 && (mode & MODE_FMT) == MODE_DIR) {
			xm_why(why, whylen, "/%s in the image is a directory", path);
			rc = -EISDIR;
			break;
		}
		/* write refuses to replace: rm first (a symlink: the link) */
		if (mode != 0)
			bprintf(&w, "rm /%s\n", path);
		bprintf(&w, "cd /%.*s\n", base ? (int)(base - path) : 0, path);
		bprintf(&w, "write \"%s/f%zu\" %s\n", localdir, i, base ? base + 1 : path);
		bprintf(&c, "dump /%s \"%s/c%zu\"\n", path, localdir, i);
	}
	free(made.s);
	if (rc == 0 && (w.err || c.err)) {
		rc = w.err ? w.err : c.err;
		xm_why(why, whylen, "out of memory");
	}
	if (rc == 0) {
		*write_cmds = w.s ? w.s : strdup("");
		*check_cmds = c.s ? c.s : strdup("");
		if (*write_cmds != NULL && *check_cmds != NULL)
			return 0;
		if (*write_cmds != w.s)
			free(*write_cmds);
		if (*check_cmds != c.s)
			free(*check_cmds);
		*write_cmds = *check_cmds = NULL;
		rc = -ENOMEM;
		xm_why(why, whylen, "out of memory");
	}
	free(w.s);
	free(c.s);
	return rc;
}
