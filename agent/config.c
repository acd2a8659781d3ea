/* xenmeshd configuration file: a small strict INI parser.
 *
 * Strict on purpose: a typo in a cluster agent's config must stop it at
 * start with "FILE:LINE: what", not run it with a silently ignored
 * setting.  The first error ends the parse; on error *cfg is untouched,
 * so a reload with a broken file keeps the running configuration.
 *
 * Syntax, line by line:
 *   [section]
 *   key = value
 *   key = "quoted value with \" and \\"
 *   # comment        ; comment
 *   key = value      # trailing comment (after whitespace only, so that
 *                    # a value such as a#b keeps its '#')
 * A section may be opened again later; a key may be set once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "metrics_http.h"

#define CONFIG_LINE_MAX 8192    /* bytes, without the line end; a PATH_MAX value fits */
#define CONFIG_MEM_MAX 16777216 /* MB: 16 TiB, far above any host */

enum config_section {
	SEC_NONE,
	SEC_NODE,
	SEC_PATHS,
	SEC_LOG,
	SEC_IPC,
	SEC_CLUSTER,
	SEC_HYPERVISOR,
	SEC_FENCING,
	SEC_STORAGE,
	SEC_METRICS,
	SEC_PEER,
	SEC_ALERTS,
};

static const char *const config_section_names[] = {
	[SEC_NODE] = "node",
	[SEC_PATHS] = "paths",
	[SEC_LOG] = "log",
	[SEC_IPC] = "ipc",
	[SEC_CLUSTER] = "cluster",
	[SEC_HYPERVISOR] = "hypervisor",
	[SEC_FENCING] = "fencing",
	[SEC_STORAGE] = "storage",
	[SEC_METRICS] = "metrics",
	[SEC_PEER] = "peer",
	[SEC_ALERTS] = "alerts",
};

/* What one parse needs besides the config being filled. */
struct config_parser {
	const char *path;
	unsigned line;
	enum config_section sec;
	char *err;
	size_t errlen;
};

struct config_key;
typedef int (*config_set_fn)(struct config_parser *p,
			     const struct config_key *k,
			     struct xm_config *cfg, const char *val,
			     int quoted);

struct config_key {
	enum config_section sec;
	const char *name;
	config_set_fn set;
	size_t off;             /* field in struct xm_config */
	size_t size;            /* its size, for strings */
};

struct config_enum {
	const char *name;
	int value;
};

static const struct config_enum config_roles[] = {
	{ "dom0", NODE_ROLE_DOM0 },
	{ "san", NODE_ROLE_SAN },
	{ NULL, 0 },
};

static const struct config_enum config_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
	{ NULL, 0 },
};

static const struct config_enum config_bools[] = {
	{ "yes", 1 },
	{ "no", 0 },
	{ NULL, 0 },
};

void
config_defaults(struct xm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* role stays 0, which is no enum node_role: "not set". */
	cfg->mem_total_mb = 0;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/xenmesh");
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "/run/xenmesh");
	cfg->log_level = LOG_INFO;
	cfg->log_to_stderr = 0;
	snprintf(cfg->cpg_group, sizeof(cfg->cpg_group), "xenmesh");
	snprintf(cfg->corosync_conf, sizeof(cfg->corosync_conf),
		 "/etc/corosync/corosync.conf");
	snprintf(cfg->hv_driver, sizeof(cfg->hv_driver), "xl");
	snprintf(cfg->hv_migration, sizeof(cfg->hv_migration), "live");
	snprintf(cfg->hv_guest, sizeof(cfg->hv_guest), "/usr/lib/xenmesh/guest");
	snprintf(cfg->watchdog, sizeof(cfg->watchdog), "kernel");
	snprintf(cfg->watchdog_path, sizeof(cfg->watchdog_path), "/dev/watchdog");
	snprintf(cfg->iqn_prefix, sizeof(cfg->iqn_prefix), "iqn.2026-11.org.xenmesh");
	cfg->portal_prefix = 24;
	snprintf(cfg->backend, sizeof(cfg->backend), "lvm");
	snprintf(cfg->volume_dir, sizeof(cfg->volume_dir), "/var/lib/xenmesh/volumes");
	snprintf(cfg->template_dir, sizeof(cfg->template_dir), "/var/lib/xenmesh/templates");
	snprintf(cfg->mirror, sizeof(cfg->mirror), "drbd");
	snprintf(cfg->backup_dir, sizeof(cfg->backup_dir), "/var/lib/xenmesh/backups");
	cfg->backup_snapshot_percent = 20;
	cfg->replacement_timeout_s = 120;
	snprintf(cfg->shutdown_policy, sizeof(cfg->shutdown_policy), "migrate");
	cfg->alert_timeout_s = 30;
	snprintf(cfg->peer_key_file, sizeof(cfg->peer_key_file),
		 "/etc/xenmesh/authkey");
	cfg->drbd_version = 84;
	snprintf(cfg->split_brain, sizeof(cfg->split_brain), "disconnect");
}

static int
config_error(struct config_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "FILE:LINE: message"; always -EINVAL, so callers can return it. */
static int
config_error(struct config_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || p->errlen == 0)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *
config_sec_name(enum config_section sec)
{
	return config_section_names[sec];
}

static int
config_set_enum(struct config_parser *p, const struct config_key *k,
		const struct config_enum *tab, const char *val, int *out)
{
	char allowed[128];
	size_t used = 0;
	const struct config_enum *e;

	for (e = tab; e->name; e++) {
		if (strcmp(e->name, val) == 0) {
			*out = e->value;
			return 0;
		}
	}
	allowed[0] = '\0';
	for (e = tab; e->name; e++) {
		int n = snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
				 e == tab ? "" : ", ", e->name);
		if (n < 0 || (size_t)n >= sizeof(allowed) - used)
			break;
		used += (size_t)n;
	}
	return config_error(p, "invalid %s '%s' in [%s] (allowed: %s)",
			    k->name, val, config_sec_name(k->sec), allowed);
}

static int
config_set_role(struct config_parser *p, const struct config_key *k,
		struct xm_config *cfg, const char *val, int quoted)
{
	int v, r;

	r = config_set_enum(p, k, config_roles, val, &v);
	if (r == 0)
		cfg->role = (enum node_role)v;
	return r;
}

static int
config_set_level(struct config_parser *p, const struct config_key *k,
		 struct xm_config *cfg, const char *val, int quoted)
{
	return config_set_enum(p, k, config_levels, val, &cfg->log_level);
}

static int
config_set_bool(struct config_parser *p, const struct config_key *k,
		struct xm_config *cfg, const char *val, int quoted)
{
	return config_set_enum(p, k, config_bools, val,
			       (int *)((char *)cfg + k->off));
}

/* Decimal digits only: no sign, no hex, no suffix, no spaces. */
static int
config_set_mb(struct config_parser *p, const struct config_key *k,
	      struct xm_config *cfg, const char *val, int quoted)
{
	uint64_t v = 0;
	const char *c;

	for (c = val; *c; c++) {
		if (*c < '0' || *c > '9' || v > CONFIG_MEM_MAX)
			break;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (k->sec == SEC_FENCING) {
		/* the only number there: a watchdog timeout */
		if (c == val || *c != '\0' || v > 3600)
			return config_error(p, "invalid %s '%s' in [%s]: expected "
					    "seconds from 0 to 3600", k->name, val,
					    config_sec_name(k->sec));
	} else if (c == val || *c != '\0' || v > CONFIG_MEM_MAX) {
		return config_error(p, "invalid %s '%s' in [%s]: expected a "
				    "number of MB from 0 to %d", k->name, val,
				    config_sec_name(k->sec), CONFIG_MEM_MAX);
	}
	*(uint64_t *)(void *)((char *)cfg + k->off) = v;
	return 0;
}

static int
config_set_path(struct config_parser *p, const struct config_key *k,
		struct xm_config *cfg, const char *val, int quoted)
{
	if (val[0] != '/')
		return config_error(p, "%s in [%s] must be an absolute path, "
				    "not '%s'", k->name,
				    config_sec_name(k->sec), val);
	if (strlen(val) >= k->size)
		return config_error(p, "%s in [%s] is too long (max %zu "
				    "bytes)", k->name, config_sec_name(k->sec),
				    k->size - 1);
	memcpy((char *)cfg + k->off, val, strlen(val) + 1);
	return 0;
}

/*
 * Unix group names (and our CPG group name) the portable way: a letter
 * or '_' first, then letters, digits, '_', '-', '.'.  Anything else
 * (spaces, '/', ':') is a typo, or would break getgrnam or a log line.
 */
static int
config_name_ok(const char *s, size_t size)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (i = 1; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return 0;
	}
	return i < size;
}

static int
config_set_name(struct config_parser *p, const struct config_key *k,
		struct xm_config *cfg, const char *val, int quoted)
{
	/* read_group = "" says "root only" explicitly, like the default. */
	if (val[0] == '\0' && quoted && k->sec == SEC_IPC) {
		((char *)cfg + k->off)[0] = '\0';
		return 0;
	}
	if (!config_name_ok(val, k->size))
		return config_error(p, "invalid group name '%s' for %s in "
				    "[%s]: a letter or '_' first, then letters, "
				    "digits, '_', '-' or '.', at most %zu "
				    "characters", val, k->name,
				    config_sec_name(k->sec), k->size - 1);
	memcpy((char *)cfg + k->off, val, strlen(val) + 1);
	return 0;
}

/* One of the words listed for the key (driver, watchdog kinds). */
static int
config_set_word(struct config_parser *p, const struct config_key *k,
		struct xm_config *cfg, const char *val, int quoted)
{
	static const char *const drivers[] = { "xl", "proc", NULL };
	static const char *const watchdogs[] = { "kernel", "rig", "none", NULL };
	static const char *const backends[] = { "file", "lvm", NULL };
	static const char *const mirrors[] = { "none", "drbd", NULL };
	static const char *const policies[] = { "migrate", "stop", "refuse", NULL };
	static const char *const migrations[] = { "live", "stop-copy", NULL };
	const char *const *allowed = strcmp(k->name, "driver") == 0 ? drivers :
				     strcmp(k->name, "migration") == 0 ? migrations :
				     strcmp(k->name, "backend") == 0 ? backends :
				     strcmp(k->name, "mirror") == 0 ? mirrors :
				     strcmp(k->name, "shutdown_policy") == 0 ? policies :
				     watchdogs;

	for (size_t i = 0; allowed[i] != NULL; i++) {
		if (strcmp(val, allowed[i]) == 0) {
			memcpy((char *)cfg + k->off, val, strlen(val) + 1);
			return 0;
		}
	}
	return config_error(p, "invalid %s '%s' in [%s]: expected %s", k->name,
			    val, config_sec_name(k->sec),
			    allowed == drivers ? "xl or proc" :
			    allowed == backends ? "file or lvm" :
			    allowed == mirrors ? "none or drbd" :
			    allowed == policies ? "migrate, stop or refuse" :
			    allowed == migrations ? "live or stop-copy" :
			    "kernel, rig or none");
}

/* An IQN prefix, address, interface or VG name: printable, no blanks. */
static int
config_set_token(struct config_parser *p, const struct config_key *k,
		 struct xm_config *cfg, const char *val, int quoted)
{
	size_t len = strlen(val);

	if (len == 0 && quoted && (strcmp(k->name, "portal") == 0 ||
				     strcmp(k->name, "cpu_class") == 0)) {
		((char *)cfg + k->off)[0] = '\0';
		return 0;
	}
	if (len == 0 || len >= k->size)
		return config_error(p, "%s in [%s] must have 1 to %zu characters",
				    k->name, config_sec_name(k->sec), k->size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)val[i] <= ' ' || (unsigned char)val[i] >= 0x7f)
			return config_error(p, "%s '%s' in [%s] contains a blank or a "
					    "non-printable character", k->name, val,
					    config_sec_name(k->sec));
	if (strcmp(k->name, "split_brain") == 0 && strcmp(val, "disconnect") != 0 &&
	    strcmp(val, "discard-zero-changes") != 0 &&
	    strcmp(val, "discard-least-changes") != 0 &&
	    strcmp(val, "discard-younger-primary") != 0 &&
	    strcmp(val, "discard-older-primary") != 0 &&
	    strncmp(val, "discard-node-", 13) != 0)
		return config_error(p, "invalid split_brain '%s' in [storage]: expected "
				    "disconnect, discard-zero-changes, discard-least-changes, "
				    "discard-younger-primary, discard-older-primary or "
				    "discard-node-NAME", val);
	if (strcmp(k->name, "iqn_prefix") == 0 &&
	    (strncmp(val, "iqn.", 4) != 0 || strpbrk(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_/")))
		return config_error(p, "iqn_prefix '%s' in [storage] is not a lowercase "
				    "iSCSI qualified name (iqn.YYYY-MM.reversed.domain)", val);
	memcpy((char *)cfg + k->off, val, len + 1);
	return 0;
}

/* "NAME=ADDR NAME=ADDR": the two SAN nodes of the DRBD mirror. */
static int
config_set_drbd_nodes(struct config_parser *p, const struct config_key *k,
		      struct xm_config *cfg, const char *val, int quoted)
{
	char buf[256], *save = NULL, *w;
	int n = 0;

	if (val[0] == '\0' && quoted) {
		((char *)cfg + k->off)[0] = '\0';
		return 0;
	}
	if (strlen(val) >= k->size)
		return config_error(p, "drbd_nodes in [storage] is too long");
	snprintf(buf, sizeof(buf), "%s", val);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(w, '=');

		if (eq == NULL || eq == w || eq[1] == '\0' || ++n > 2)
			return config_error(p, "drbd_nodes in [storage] must be two "
					    "NAME=ADDRESS words (the SAN nodes' names "
					    "and replication addresses), not '%s'", val);
	}
	if (n != 2)
		return config_error(p, "drbd_nodes in [storage] must name both SAN "
				    "nodes as NAME=ADDRESS");
	memcpy((char *)cfg + k->off, val, strlen(val) + 1);
	return 0;
}

/* Whole numbers with a range per key. */
static int
config_set_uint(struct config_parser *p, const struct config_key *k,
		struct xm_config *cfg, const char *val, int quoted)
{
	uint64_t v = 0, lo = 0, hi = 65535;
	const char *c;

	if (strcmp(k->name, "drbd_version") == 0 && strcmp(val, "84") != 0 &&
	    strcmp(val, "9") != 0)
		return config_error(p, "invalid drbd_version '%s' in [storage]: "
				    "expected 84 or 9", val);
	if (strcmp(k->name, "portal_prefix") == 0) {
		lo = 1;
		hi = 32;
	} else if (strcmp(k->name, "backup_snapshot_percent") == 0) {
		lo = 1;
		hi = 100;
	} else if (strcmp(k->name, "replacement_timeout") == 0 ||
		   (k->sec == SEC_ALERTS && strcmp(k->name, "timeout") == 0)) {
		lo = 1;
		hi = 3600;
	}
	for (c = val; *c >= '0' && *c <= '9' && v <= hi; c++)
		v = v * 10 + (uint64_t)(*c - '0');
	if (c == val || *c != '\0' || v < lo || v > hi)
		return config_error(p, "invalid %s '%s' in [%s]: expected a whole "
				    "number from %llu to %llu", k->name, val,
				    config_sec_name(k->sec), (unsigned long long)lo,
				    (unsigned long long)hi);
	*(uint64_t *)(void *)((char *)cfg + k->off) = v;
	return 0;
}

/* [metrics] listen: "" (off), ADDR:PORT or [ADDR]:PORT. */
static int
config_set_listen(struct config_parser *p, const struct config_key *k,
		  struct xm_config *cfg, const char *val, int quoted)
{
	if (val[0] != '\0' && metrics_listen_parse(val, NULL, NULL) < 0)
		return config_error(p, "invalid %s '%s' in [%s]: expected "
				    "ADDR:PORT or [ADDR]:PORT (numeric, port 1 "
				    "to 65535), or \"\" for none", k->name, val,
				    config_sec_name(k->sec));
	memcpy((char *)cfg + k->off, val, strlen(val) + 1);
	return 0;
}

/* [alerts] program: an absolute path, up to XM_ALERT_PROGRAMS_MAX of
 * them, each once (a program named twice would get every alert twice). */
static int
config_set_alert_program(struct config_parser *p, const struct config_key *k,
			 struct xm_config *cfg, const char *val, int quoted)
{
	if (val[0] != '/')
		return config_error(p, "program in [alerts] must be an absolute "
				    "path, not '%s'", val);
	if (strlen(val) >= sizeof(cfg->alert_programs[0]))
		return config_error(p, "program in [alerts] is too long (max %zu "
				    "bytes)", sizeof(cfg->alert_programs[0]) - 1);
	for (unsigned i = 0; i < cfg->n_alert_programs; i++)
		if (strcmp(cfg->alert_programs[i], val) == 0)
			return config_error(p, "program %s in [alerts] is named "
					    "twice", val);
	if (cfg->n_alert_programs >= XM_ALERT_PROGRAMS_MAX)
		return config_error(p, "too many alert programs in [alerts] "
				    "(max %d)", XM_ALERT_PROGRAMS_MAX);
	memcpy(cfg->alert_programs[cfg->n_alert_programs++], val, strlen(val) + 1);
	return 0;
}

#define CFG_STR(f) offsetof(struct xm_config, f), \
	sizeof(((struct xm_config *)0)->f)

static const struct config_key config_keys[] = {
	{ SEC_NODE, "role", config_set_role, 0, 0 },
	{ SEC_NODE, "memory", config_set_mb,
	  offsetof(struct xm_config, mem_total_mb), sizeof(uint64_t) },
	{ SEC_PATHS, "state_dir", config_set_path, CFG_STR(state_dir) },
	{ SEC_PATHS, "run_dir", config_set_path, CFG_STR(run_dir) },
	{ SEC_LOG, "level", config_set_level, 0, 0 },
	{ SEC_LOG, "stderr", config_set_bool,
	  offsetof(struct xm_config, log_to_stderr), sizeof(int) },
	{ SEC_IPC, "read_group", config_set_name, CFG_STR(read_group) },
	{ SEC_IPC, "admin_group", config_set_name, CFG_STR(admin_group) },
	{ SEC_CLUSTER, "group", config_set_name, CFG_STR(cpg_group) },
	{ SEC_CLUSTER, "corosync_conf", config_set_path, CFG_STR(corosync_conf) },
	{ SEC_HYPERVISOR, "driver", config_set_word, CFG_STR(hv_driver) },
	{ SEC_HYPERVISOR, "guest", config_set_path, CFG_STR(hv_guest) },
	{ SEC_HYPERVISOR, "migration", config_set_word, CFG_STR(hv_migration) },
	{ SEC_HYPERVISOR, "reserve", config_set_mb,
	  offsetof(struct xm_config, dom0_reserve_mb), sizeof(uint64_t) },
	{ SEC_FENCING, "watchdog", config_set_word, CFG_STR(watchdog) },
	{ SEC_FENCING, "watchdog_path", config_set_path, CFG_STR(watchdog_path) },
	{ SEC_FENCING, "watchdog_timeout", config_set_mb,
	  offsetof(struct xm_config, watchdog_timeout_s), sizeof(uint64_t) },
	{ SEC_STORAGE, "iqn_prefix", config_set_token, CFG_STR(iqn_prefix) },
	{ SEC_STORAGE, "portal", config_set_token, CFG_STR(portal) },
	{ SEC_STORAGE, "portal_prefix", config_set_uint,
	  offsetof(struct xm_config, portal_prefix), sizeof(uint64_t) },
	{ SEC_STORAGE, "portal_dev", config_set_token, CFG_STR(portal_dev) },
	{ SEC_STORAGE, "backend", config_set_word, CFG_STR(backend) },
	{ SEC_STORAGE, "volume_dir", config_set_path, CFG_STR(volume_dir) },
	{ SEC_STORAGE, "template_dir", config_set_path, CFG_STR(template_dir) },
	{ SEC_STORAGE, "vg", config_set_token, CFG_STR(vg) },
	{ SEC_STORAGE, "backup_dir", config_set_path, CFG_STR(backup_dir) },
	{ SEC_STORAGE, "backup_snapshot_percent", config_set_uint,
	  offsetof(struct xm_config, backup_snapshot_percent), sizeof(uint64_t) },
	{ SEC_STORAGE, "no_devmapper", config_set_bool,
	  offsetof(struct xm_config, no_devmapper), sizeof(int) },
	{ SEC_STORAGE, "mirror", config_set_word, CFG_STR(mirror) },
	{ SEC_STORAGE, "drbd_nodes", config_set_drbd_nodes, CFG_STR(drbd_nodes) },
	{ SEC_STORAGE, "split_brain", config_set_token, CFG_STR(split_brain) },
	{ SEC_STORAGE, "drbd_version", config_set_uint,
	  offsetof(struct xm_config, drbd_version), sizeof(uint64_t) },
	{ SEC_STORAGE, "tgt_control_port", config_set_uint,
	  offsetof(struct xm_config, tgt_control_port), sizeof(uint64_t) },
	{ SEC_STORAGE, "replacement_timeout", config_set_uint,
	  offsetof(struct xm_config, replacement_timeout_s), sizeof(uint64_t) },
	{ SEC_METRICS, "listen", config_set_listen, CFG_STR(metrics_listen) },
	{ SEC_NODE, "cpu_class", config_set_token, CFG_STR(cpu_class) },
	{ SEC_NODE, "shutdown_policy", config_set_word, CFG_STR(shutdown_policy) },
	{ SEC_PEER, "listen", config_set_listen, CFG_STR(peer_listen) },
	{ SEC_PEER, "key_file", config_set_path, CFG_STR(peer_key_file) },
	{ SEC_ALERTS, "program", config_set_alert_program, 0, 0 },
	{ SEC_ALERTS, "timeout", config_set_uint,
	  offsetof(struct xm_config, alert_timeout_s), sizeof(uint64_t) },
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int
config_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *
config_skip_blank(char *s)
{
	while (config_is_blank(*s))
		s++;
	return s;
}

/* Only blanks, optionally followed by a comment, until the end. */
static int
config_rest_empty(const char *s)
{
	while (config_is_blank(*s))
		s++;
	return *s == '\0' || *s == '#' || *s == ';';
}

static int
config_parse_section(struct config_parser *p, char *s)
{
	char *name, *end, *close;
	size_t i;

	close = strchr(s, ']');
	if (!close)
		return config_error(p, "missing ']' in section header");
	if (!config_rest_empty(close + 1))
		return config_error(p, "unexpected text after section header");
	name = config_skip_blank(s + 1);
	end = close;
	while (end > name && config_is_blank(end[-1]))
		end--;
	*end = '\0';
	if (*name == '\0')
		return config_error(p, "empty section name");
	for (i = SEC_NODE; i <= SEC_ALERTS; i++) {
		if (strcmp(name, config_section_names[i]) == 0) {
			p->sec = (enum config_section)i;
			return 0;
		}
	}
	return config_error(p, "unknown section [%s] (allowed: node, paths, "
			    "log, ipc, cluster, hypervisor, fencing, storage, metrics, "
			    "peer, alerts)",
			    name);
}

/* Unquotes "..." in place from s (just after the opening quote). */
static int
config_unquote(struct config_parser *p, char *s, char **val)
{
	char *r = s, *w = s;

	for (;;) {
		if (*r == '\0')
			return config_error(p, "unterminated quote");
		if (*r == '"')
			break;
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\') {
				if (*r == '\0')
					return config_error(p,
						"unterminated quote");
				return config_error(p, "unknown escape '\\%c' in "
						    "quoted value (only \\\" "
						    "and \\\\)", *r);
			}
		}
		*w++ = *r++;
	}
	if (!config_rest_empty(r + 1))
		return config_error(p, "unexpected text after closing quote");
	*w = '\0';
	*val = s;
	return 0;
}

static int
config_parse_pair(struct config_parser *p, char *s, struct xm_config *cfg,
		  unsigned *seen)
{
	const struct config_key *k = NULL;
	char *key, *kend, *val, *c;
	int quoted = 0;
	size_t i;

	key = s;
	kend = key;
	while (*kend && *kend != '=' && !config_is_blank(*kend))
		kend++;
	c = config_skip_blank(kend);
	if (kend == key)
		return config_error(p, "missing key before '='");
	if (*c != '=') {
		*kend = '\0';
		return config_error(p, "missing '=' after key %s", key);
	}
	*kend = '\0';
	if (p->sec == SEC_NONE)
		return config_error(p, "key %s outside a section", key);

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].sec == p->sec &&
		    strcmp(config_keys[i].name, key) == 0) {
			k = &config_keys[i];
			break;
		}
	}
	if (!k)
		return config_error(p, "unknown key %s in [%s]", key,
				    config_sec_name(p->sec));
	/* [alerts] program may repeat: its setter refuses a 9th or a twin */
	if (seen[i] && k->set != config_set_alert_program)
		return config_error(p, "duplicate key %s in [%s] (first set "
				    "on line %u)", key, config_sec_name(p->sec),
				    seen[i]);
	seen[i] = p->line;

	val = config_skip_blank(c + 1);
	if (*val == '"') {
		int r = config_unquote(p, val + 1, &val);

		if (r < 0)
			return r;
		quoted = 1;
	} else {
		/* A comment starts at # or ; after a blank. */
		for (c = val; *c; c++) {
			if ((*c == '#' || *c == ';') && c > val &&
			    config_is_blank(c[-1]))
				break;
		}
		while (c > val && config_is_blank(c[-1]))
			c--;
		*c = '\0';
		if (*val == '\0' || *val == '#' || *val == ';')
			return config_error(p, "empty value for key %s in [%s]",
					    key, config_sec_name(p->sec));
	}
	return k->set(p, k, cfg, val, quoted);
}

static int
config_parse_line(struct config_parser *p, char *line, size_t len,
		  struct xm_config *cfg, unsigned *seen)
{
	char *s;

	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len > CONFIG_LINE_MAX)
		return config_error(p, "line too long (max %d bytes)",
				    CONFIG_LINE_MAX);
	if (strlen(line) != len)
		return config_error(p, "NUL byte in line");

	s = config_skip_blank(line);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return config_parse_section(p, s);
	return config_parse_pair(p, s, cfg, seen);
}

int
config_load(const char *path, struct xm_config *cfg, char *err,
	    size_t errlen)
{
	struct config_parser p = {
		.path = path, .line = 0, .sec = SEC_NONE,
		.err = err, .errlen = errlen,
	};
	unsigned seen[CONFIG_NKEYS] = { 0 };
	struct xm_config *next;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int r = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !cfg)
		return -EINVAL;

	/* Parsed into a copy: on error the caller's config stays as it was. */
	next = malloc(sizeof(*next));
	if (!next)
		return -ENOMEM;
	config_defaults(next);
	if (strlen(path) >= sizeof(next->path)) {
		r = -ENAMETOOLONG;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		goto out_free;
	}
	memcpy(next->path, path, strlen(path) + 1);

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		goto out_free;
	}

	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		p.line++;
		r = config_parse_line(&p, line, (size_t)n, next, seen);
		if (r < 0)
			goto out_close;
		errno = 0;
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		goto out_close;
	}

	if (next->role == 0) {
		r = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: missing required key role "
				 "in [node]", path);
		goto out_close;
	}
	if (next->role == NODE_ROLE_SAN && next->portal[0] != '\0' &&
	    next->portal_dev[0] == '\0') {
		r = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: a SAN node with a portal needs "
				 "portal_dev in [storage] (the interface that carries "
				 "the floating address)", path);
		goto out_close;
	}
	if (next->role == NODE_ROLE_SAN && strcmp(next->backend, "lvm") == 0 &&
	    next->portal[0] != '\0' && next->vg[0] == '\0') {
		r = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: backend lvm needs vg in [storage] "
				 "(the volume group that holds the VM volumes)", path);
		goto out_close;
	}
	if (next->role == NODE_ROLE_SAN && next->portal[0] != '\0' &&
	    strcmp(next->mirror, "drbd") == 0 &&
	    (strcmp(next->backend, "lvm") != 0 || next->drbd_nodes[0] == '\0')) {
		r = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: mirror drbd needs backend lvm and "
				 "drbd_nodes in [storage] (NAME=ADDRESS of both SAN "
				 "nodes)", path);
		goto out_close;
	}
	*cfg = *next;

out_close:
	fclose(f);
	free(line);
out_free:
	free(next);
	return r;
}
