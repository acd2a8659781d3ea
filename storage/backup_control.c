/* Backup control file, SHA256SUMS, xl.cfg rewrite; see backup_control.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup_control.h"

void
backup_stamp(uint64_t time_s, char out[BACKUP_STAMP_LEN])
{
	time_t t = (time_t)time_s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, BACKUP_STAMP_LEN, "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(out, BACKUP_STAMP_LEN, "19700101T000000Z");
}

bool
backup_stamp_ok(const char *s)
{
	static const char pat[] = "DDDDDDDDTDDDDDDZ";

	if (s == NULL || strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'D' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
			return false;
	return true;
}

/* Disk names as voltable takes them: letters, digits, '_'. */
static bool
disk_ok(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n >= sizeof(((struct backup_vol *)0)->disk))
		return false;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '_')
			return false;
	return true;
}

int
backup_control_add_vol(struct backup_control *c, const char *disk, uint64_t size_bytes)
{
	struct backup_vol *v;

	if (!disk_ok(disk) || size_bytes == 0)
		return -EINVAL;
	if (c->n_vols >= BACKUP_VOLS_MAX)
		return -ENOSPC;
	for (size_t i = 0; i < c->n_vols; i++)
		if (strcmp(c->vols[i].disk, disk) == 0)
			return -EINVAL;
	v = &c->vols[c->n_vols++];
	snprintf(v->disk, sizeof(v->disk), "%s", disk);
	v->size_bytes = size_bytes;
	v->data_bytes = size_bytes;
	snprintf(v->file, sizeof(v->file), "%s.img.gz", disk);
	return 0;
}

int
backup_control_write(const struct backup_control *c, char *buf, size_t len)
{
	size_t o = 0;

#define OUT(...) do { \
		int w_ = snprintf(buf + o, len - o, __VA_ARGS__); \
		if (w_ < 0 || (size_t)w_ >= len - o) \
			return -ENOSPC; \
		o += (size_t)w_; \
	} while (0)
	OUT("# xenmesh backup of VM %s (agentctl vm restore reads it)\n", c->vm);
	OUT("format = %d\nvm = %s\nstamp = %s\ntime = %" PRIu64 "\n", BACKUP_FORMAT,
	    c->vm, c->stamp, c->time_s);
	OUT("node = %s\nbackend = %s\nstate = %s\nconfig = vm.cfg\n", c->node,
	    c->backend, c->state);
	OUT("ha_priority = %s\nha_restart = %s\nha_max_restarts = %s\n"
	    "ha_restart_window = %s\nha_hosts = %s\nha_anti_affinity = %s\n"
	    "ha_start_after = %s\n", c->ha_priority, c->ha_restart,
	    c->ha_max_restarts, c->ha_restart_window, c->ha_hosts,
	    c->ha_anti_affinity, c->ha_start_after);
	for (size_t i = 0; i < c->n_vols; i++) {
		const struct backup_vol *v = &c->vols[i];

		OUT("volume = %s %" PRIu64 " %s", v->disk, v->size_bytes, v->file);
		if (v->data_bytes != 0 && v->data_bytes != v->size_bytes)
			OUT(" %" PRIu64, v->data_bytes);
		OUT("\n");
	}
#undef OUT
	return 0;
}

/* ---- parse ---------------------------------------------------------------- */

enum ckey {
	K_FORMAT, K_VM, K_STAMP, K_TIME, K_NODE, K_BACKEND, K_STATE, K_CONFIG,
	K_HA_PRIO, K_HA_RESTART, K_HA_MAX, K_HA_WINDOW, K_HA_HOSTS, K_HA_ANTI,
	K_HA_AFTER, K_VOLUME, K_N
};

static const char *const ckey_names[K_N] = {
	"format", "vm", "stamp", "time", "node", "backend", "state", "config",
	"ha_priority", "ha_restart", "ha_max_restarts", "ha_restart_window",
	"ha_hosts", "ha_anti_affinity", "ha_start_after", "volume",
};

static int
u64_parse(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* One string field: at most len - 1 bytes, printable. */
static int
str_set(char *dst, size_t len, const char *val, bool empty_ok)
{
	if ((!empty_ok && val[0] == '\0') || strlen(val) >= len)
		return -EINVAL;
	for (const char *p = val; *p; p++)
		if (!isprint((unsigned char)*p))
			return -EINVAL;
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

/* "DISK SIZE FILE [DATA]" */
static int
vol_parse(struct backup_control *c, const char *val)
{
	char disk[64], size[32], file[64], data[32], extra[2];
	uint64_t bytes, data_bytes;
	int r, n;

	n = sscanf(val, "%63s %31s %63s %31s %1s", disk, size, file, data, extra);
	if ((n != 3 && n != 4) || u64_parse(size, &bytes) < 0)
		return -EINVAL;
	data_bytes = bytes;
	if (n == 4 && (u64_parse(data, &data_bytes) < 0 || data_bytes == 0 ||
		       data_bytes > bytes))
		return -EINVAL;
	r = backup_control_add_vol(c, disk, bytes);
	if (r < 0)
		return r;
	c->vols[c->n_vols - 1].data_bytes = data_bytes;
	/* the file name is derived, never taken from the file: no path in it */
	return strcmp(c->vols[c->n_vols - 1].file, file) == 0 ? 0 : -EINVAL;
}

static int
field_set(struct backup_control *c, enum ckey k, const char *val)
{
	uint64_t u;

	switch (k) {
	case K_FORMAT:
		return u64_parse(val, &u) == 0 && u == BACKUP_FORMAT ? 0 : -EINVAL;
	case K_VM:
		return str_set(c->vm, sizeof(c->vm), val, false);
	case K_STAMP:
		if (!backup_stamp_ok(val))
			return -EINVAL;
		return str_set(c->stamp, sizeof(c->stamp), val, false);
	case K_TIME:
		return u64_parse(val, &c->time_s);
	case K_NODE:
		return str_set(c->node, sizeof(c->node), val, true);
	case K_BACKEND:
		if (strcmp(val, "file") != 0 && strcmp(val, "lvm") != 0)
			return -EINVAL;
		return str_set(c->backend, sizeof(c->backend), val, false);
	case K_STATE:
		return str_set(c->state, sizeof(c->state), val, true);
	case K_CONFIG:
		return strcmp(val, "vm.cfg") == 0 ? 0 : -EINVAL;
	case K_HA_PRIO:
		return str_set(c->ha_priority, sizeof(c->ha_priority), val, true);
	case K_HA_RESTART:
		return str_set(c->ha_restart, sizeof(c->ha_restart), val, true);
	case K_HA_MAX:
		return str_set(c->ha_max_restarts, sizeof(c->ha_max_restarts), val, true);
	case K_HA_WINDOW:
		return str_set(c->ha_restart_window, sizeof(c->ha_restart_window), val, true);
	case K_HA_HOSTS:
		return str_set(c->ha_hosts, sizeof(c->ha_hosts), val, true);
	case K_HA_ANTI:
		return str_set(c->ha_anti_affinity, sizeof(c->ha_anti_affinity), val, true);
	case K_HA_AFTER:
		return str_set(c->ha_start_after, sizeof(c->ha_start_after), val, true);
	case K_VOLUME:
		return vol_parse(c, val);
	case K_N:
		break;
	}
	return -EINVAL;
}

static void
trim(char **s)
{
	char *e;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	e = *s + strlen(*s);
	while (e > *s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
}

int
backup_control_parse(const char *text, struct backup_control *c, char *why,
		     size_t whylen)
{
	bool seen[K_N] = { false };
	char line[1024];
	const char *p = text, *nl;
	unsigned lineno = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(text) > BACKUP_CONTROL_MAX) {
		snprintf(why, whylen, "control: larger than %d bytes", BACKUP_CONTROL_MAX);
		return -EBADMSG;
	}
	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		char *key, *val, *eq;
		size_t n;
		int k;

		lineno++;
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line)) {
			snprintf(why, whylen, "control line %u: too long", lineno);
			return -EBADMSG;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		key = line;
		trim(&key);
		if (key[0] == '\0' || key[0] == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(why, whylen, "control line %u: not \"key = value\"", lineno);
			return -EBADMSG;
		}
		*eq = '\0';
		val = eq + 1;
		trim(&key);
		trim(&val);
		for (k = 0; k < K_N && strcmp(ckey_names[k], key) != 0; k++)
			;
		if (k == K_N) {
			snprintf(why, whylen, "control line %u: unknown key '%.40s'", lineno, key);
			return -EBADMSG;
		}
		if (seen[k] && k != K_VOLUME) {
			snprintf(why, whylen, "control line %u: %s given twice", lineno, key);
			return -EBADMSG;
		}
		seen[k] = true;
		if (field_set(c, (enum ckey)k, val) < 0) {
			snprintf(why, whylen, "control line %u: bad %s '%.60s'", lineno, key, val);
			return -EBADMSG;
		}
	}
	for (int k = K_FORMAT; k <= K_CONFIG; k++) {
		if (k == K_NODE || k == K_STATE || seen[k])
			continue;
		snprintf(why, whylen, "control: no %s", ckey_names[k]);
		return -EBADMSG;
	}
	if (c->n_vols == 0) {
		snprintf(why, whylen, "control: no volume");
		return -EBADMSG;
	}
	return 0;
}

/* ---- SHA256SUMS ------------------------------------------------------------ */

int
backup_sums_check(const char *sums, const struct backup_control *c, char *why,
		  size_t whylen)
{
	const char *want[BACKUP_VOLS_MAX + 2];
	unsigned seen[BACKUP_VOLS_MAX + 2] = { 0 };
	size_t nwant = 0, i;
	const char *p, *nl;

	want[nwant++] = "control";
	want[nwant++] = "vm.cfg";
	for (i = 0; i < c->n_vols; i++)
		want[nwant++] = c->vols[i].file;
	for (p = sums; *p; p = nl ? nl + 1 : p + strlen(p)) {
		char name[128];
		size_t n, h;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n == 0)
			continue;
		for (h = 0; h < n && isxdigit((unsigned char)p[h]); h++)
			;
		/* "HASH  NAME" (text) or "HASH *NAME" (binary mode) */
		if (h != 64 || n < 67 || p[64] != ' ' || (p[65] != ' ' && p[65] != '*') ||
		    n - 66 >= sizeof(name)) {
			snprintf(why, whylen, "SHA256SUMS: a malformed line");
			return -EBADMSG;
		}
		memcpy(name, p + 66, n - 66);
		name[n - 66] = '\0';
		for (i = 0; i < nwant && strcmp(want[i], name) != 0; i++)
			;
		if (i == nwant) {
			snprintf(why, whylen, "SHA256SUMS lists %.60s, which is not "
				 "part of the backup", name);
			return -EBADMSG;
		}
		if (seen[i]++) {
			snprintf(why, whylen, "SHA256SUMS lists %.60s twice", name);
			return -EBADMSG;
		}
	}
	for (i = 0; i < nwant; i++) {
		if (!seen[i]) {
			snprintf(why, whylen, "SHA256SUMS does not cover %s", want[i]);
			return -EBADMSG;
		}
	}
	return 0;
}

void
backup_sums_failed(const char *output, char *buf, size_t len)
{
	const char *p, *nl;
	size_t o = 0;

	buf[0] = '\0';
	for (p = output; *p; p = nl ? nl + 1 : p + strlen(p)) {
		const char *colon;
		size_t n;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p ||
		    strncmp(colon, ": FAILED", 8) != 0)
			continue;
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%.*s",
				      o ? ", " : "", (int)(colon - p), p);
		if (o >= len)
			break;
	}
}

/* ---- xl.cfg rewrite ----------------------------------------------------- */

/* The key of an xl.cfg "key = value" line into key ("" none). */
static void
cfg_key(const char *line, size_t n, char *key, size_t keylen)
{
	size_t i = 0, k = 0;

	key[0] = '\0';
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (i < n && (isalnum((unsigned char)line[i]) || line[i] == '_') && k + 1 < keylen)
		key[k++] = line[i++];
	key[k] = '\0';
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != '=')
		key[0] = '\0';
}

/* line without its mac=... entries into out (capacity >= n + 1). */
static void
drop_mac(const char *line, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		bool start = i == 0 || strchr("'\", \t", line[i - 1]) != NULL;

		if (start && n - i >= 4 && strncmp(line + i, "mac=", 4) == 0) {
			size_t j = i + 4;

			while (j < n && line[j] != ',' && line[j] != '\'' && line[j] != '"')
				j++;
			if (j < n && line[j] == ',')
				j++;            /* "mac=X,bridge=..." */
			else if (o > 0 && out[o - 1] == ',')
				o--;            /* "bridge=b,mac=X'" */
			i = j;
			continue;
		}
		out[o++] = line[i++];
	}
	out[o] = '\0';
}

int
backup_cfg_rewrite(const char *cfg, const char *new_name, uint64_t memory_mb,
		   bool drop_macs, char **out, char *why, size_t whylen)
{
	size_t cap = strlen(cfg) + 256 + (new_name ? strlen(new_name) : 0), o = 0;
	bool in_vif = false, named = false, mem = false;
	const char *p, *nl;
	char *buf = malloc(cap), *tmp;

	*out = NULL;
	if (buf == NULL)
		return -ENOMEM;
	for (p = cfg; *p; p = nl ? nl + 1 : p + strlen(p)) {
		char key[32];
		size_t n;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		cfg_key(p, n, key, sizeof(key));
		if (new_name != NULL && strcmp(key, "name") == 0) {
			o += (size_t)snprintf(buf + o, cap - o, "name = \"%s\"\n", new_name);
			named = true;
			continue;
		}
		if (memory_mb != 0 && strcmp(key, "memory") == 0) {
			o += (size_t)snprintf(buf + o, cap - o, "memory = %" PRIu64 "\n",
					      memory_mb);
			mem = true;
			continue;
		}
		if (memory_mb != 0 && strcmp(key, "maxmem") == 0) {
			const char *v = memchr(p, '=', n) + 1;

			if (strtoull(v, NULL, 10) < memory_mb) {
				o += (size_t)snprintf(buf + o, cap - o, "maxmem = %" PRIu64 "\n",
						      memory_mb);
				continue;
			}
		}
		if (key[0] != '\0')
			in_vif = strcmp(key, "vif") == 0;
		if (drop_macs && in_vif) {
			tmp = malloc(n + 1);
			if (tmp == NULL) {
				free(buf);
				return -ENOMEM;
			}
			drop_mac(p, n, tmp);
			o += (size_t)snprintf(buf + o, cap - o, "%s\n", tmp);
			free(tmp);
			if (memchr(p, ']', n) != NULL)
				in_vif = false;
			continue;
		}
		o += (size_t)snprintf(buf + o, cap - o, "%.*s\n", (int)n, p);
	}
	if (new_name != NULL && !named) {
		snprintf(why, whylen, "vm.cfg has no name line to replace");
		free(buf);
		return -EINVAL;
	}
	if (memory_mb != 0 && !mem)
		o += (size_t)snprintf(buf + o, cap - o, "memory = %" PRIu64 "\n", memory_mb);
	*out = buf;
	return 0;
}
