/* VM definitions: names of the enums, defaults and the invariants.
 *
 * Pure: no I/O, no logging.  agent/xlcfg.c enforces the same rules with
 * file:line while parsing; vm_config_check() enforces them again on a
 * struct that did not come from the parser (e.g. a definition received
 * from a peer), so one place says what a valid definition is.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vmconf.h"

struct vm_enum_name {
	const char *name;
	int value;
};

static const struct vm_enum_name vm_type_names[] = {
	{ "pv", VM_TYPE_PV },
	{ "pvh", VM_TYPE_PVH },
	{ "hvm", VM_TYPE_HVM },
	{ NULL, 0 },
};

/* As xl spells them (xl_parse.c's action_on_shutdown_names). */
static const struct vm_enum_name vm_action_names[] = {
	{ "destroy", VM_ACTION_DESTROY },
	{ "restart", VM_ACTION_RESTART },
	{ "rename-restart", VM_ACTION_RENAME_RESTART },
	{ "preserve", VM_ACTION_PRESERVE },
	{ "coredump-destroy", VM_ACTION_COREDUMP_DESTROY },
	{ "coredump-restart", VM_ACTION_COREDUMP_RESTART },
	{ "soft-reset", VM_ACTION_SOFT_RESET },
	{ NULL, 0 },
};

static const struct vm_enum_name vm_restart_names[] = {
	{ "always", VM_RESTART_ALWAYS },
	{ "on-failure", VM_RESTART_ON_FAILURE },
	{ "never", VM_RESTART_NEVER },
	{ NULL, 0 },
};

static const char *
vm_enum_to_name(const struct vm_enum_name *t, int v)
{
	for (; t->name; t++)
		if (t->value == v)
			return t->name;
	return "invalid";
}

static int
vm_enum_from_name(const struct vm_enum_name *t, const char *s, int *v)
{
	if (!s)
		return -EINVAL;
	for (; t->name; t++) {
		if (strcmp(t->name, s) == 0) {
			*v = t->value;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
vm_type_name(enum vm_type t)
{
	return vm_enum_to_name(vm_type_names, (int)t);
}

const char *
vm_action_name(enum vm_action a)
{
	return vm_enum_to_name(vm_action_names, (int)a);
}

const char *
vm_restart_name(enum vm_restart r)
{
	return vm_enum_to_name(vm_restart_names, (int)r);
}

int
vm_type_parse(const char *s, enum vm_type *t)
{
	int v, r = vm_enum_from_name(vm_type_names, s, &v);

	if (r == 0)
		*t = (enum vm_type)v;
	return r;
}

int
vm_action_parse(const char *s, enum vm_action *a)
{
	int v, r = vm_enum_from_name(vm_action_names, s, &v);

	if (r == 0)
		*a = (enum vm_action)v;
	return r;
}

int
vm_restart_parse(const char *s, enum vm_restart *r)
{
	int v, rc = vm_enum_from_name(vm_restart_names, s, &v);

	if (rc == 0)
		*r = (enum vm_restart)v;
	return rc;
}

void
vm_config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->type = VM_TYPE_PV;           /* xl's default on x86 */
	c->vcpus = 1;
	c->on_poweroff = VM_ACTION_DESTROY;
	c->on_reboot = VM_ACTION_RESTART;
	c->on_crash = VM_ACTION_DESTROY;
	c->ha.restart = VM_RESTART_ALWAYS;
	c->ha.max_restarts = 3;
	c->ha.restart_window_s = 600;
}

bool
vm_name_valid(const char *s)
{
	size_t i;

	if (!s || !s[0] || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= VM_NAME_MAX - 1)
			return false;
		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

bool
vm_uuid_valid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (!s)
		return false;
	for (i = 0; shape[i]; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[i] == '\0';
}

static int
vm_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
vm_mac_valid(const char *s)
{
	int octet[6], i, any = 0;

	if (!s)
		return false;
	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = vm_hex(p[0]), lo = hi < 0 ? -1 : vm_hex(p[1]);

		if (hi < 0 || lo < 0)
			return false;
		if (p[2] != (i == 5 ? '\0' : ':'))
			return false;
		octet[i] = hi * 16 + lo;
		any |= octet[i];
	}
	/* A multicast address cannot be a NIC's; all-zero is no address. */
	return !(octet[0] & 1) && any;
}

#define VM_IFNAME_MAX 15        /* IFNAMSIZ - 1 */

static bool
vm_ifname_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return i >= 1 && i <= VM_IFNAME_MAX;
}

static char *
vm_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int vm_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int
vm_vif_parse(const char *spec, struct vm_vif *v, char *why, size_t whylen)
{
	char buf[sizeof(v->spec)], *tok, *save, *eq, *key, *val;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (!spec || strlen(spec) >= sizeof(v->spec))
		return vm_why(why, whylen, "vif: spec longer than %zu characters",
			      sizeof(v->spec) - 1);
	strcpy(v->spec, spec);
	strcpy(buf, spec);
	/* As xl: empty parameters (",,") are skipped. */
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		tok = vm_trim(tok);
		if (!tok[0])
			continue;
		eq = strchr(tok, '=');
		if (!eq)
			return vm_why(why, whylen, "vif '%s': '%s' is not key=value",
				      spec, tok);
		*eq = '\0';
		key = vm_trim(tok);
		val = vm_trim(eq + 1);
		if (strcmp(key, "mac") == 0) {
			if (v->mac[0])
				return vm_why(why, whylen, "vif '%s': mac given "
					      "twice", spec);
			if (!vm_mac_valid(val))
				return vm_why(why, whylen, "vif '%s': invalid MAC "
					      "'%s' (six hex pairs such as "
					      "00:16:3e:12:34:56, unicast, not all "
					      "zero)", spec, val);
			for (i = 0; val[i]; i++)
				v->mac[i] = (char)tolower((unsigned char)val[i]);
		} else if (strcmp(key, "bridge") == 0) {
			if (v->bridge[0])
				return vm_why(why, whylen, "vif '%s': bridge given "
					      "twice", spec);
			if (!vm_ifname_valid(val))
				return vm_why(why, whylen, "vif '%s': invalid bridge "
					      "name '%s' (1..%d of A-Z a-z 0-9 _ . -)",
					      spec, val, VM_IFNAME_MAX);
			strcpy(v->bridge, val);
		} else {
			return vm_why(why, whylen, "vif '%s': parameter '%s' is not "
				      "supported by xenmesh's xl driver; it would "
				      "be dropped", spec, key);
		}
	}
	return 0;
}

/* ---- vm_config_check ---------------------------------------------------- */

static int
vm_why(char *why, size_t whylen, const char *fmt, ...)
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
vm_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#define VM_TERMINATED(field) vm_terminated((field), sizeof(field))

/* Index of the first name in names[0..n) equal to an earlier one, or -1. */
static int
vm_first_dup(const char (*names)[VM_NAME_MAX], uint32_t n)
{
	uint32_t i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return (int)i;
	return -1;
}

static int
vm_check_devices(const struct vm_config *c, char *why, size_t whylen)
{
	uint32_t i, j;

	if (c->n_disks > VM_MAX_DISKS)
		return vm_why(why, whylen, "too many disks: %u (at most %d)",
			      c->n_disks, VM_MAX_DISKS);
	for (i = 0; i < c->n_disks; i++) {
		const struct vm_disk *d = &c->disks[i];

		if (!VM_TERMINATED(d->spec) || !VM_TERMINATED(d->target) ||
		    !VM_TERMINATED(d->vdev) || !VM_TERMINATED(d->format))
			return vm_why(why, whylen, "disk %u: unterminated string", i);
		if (!d->vdev[0])
			return vm_why(why, whylen, "disk %u: no vdev", i);
		for (j = 0; j < i; j++)
			if (strcmp(c->disks[j].vdev, d->vdev) == 0)
				return vm_why(why, whylen, "vdev %s is used by two disks",
					      d->vdev);
	}
	if (c->n_vifs > VM_MAX_VIFS)
		return vm_why(why, whylen, "too many vifs: %u (at most %d)",
			      c->n_vifs, VM_MAX_VIFS);
	for (i = 0; i < c->n_vifs; i++) {
		const struct vm_vif *v = &c->vifs[i];

		if (!VM_TERMINATED(v->spec) || !VM_TERMINATED(v->mac) ||
		    !VM_TERMINATED(v->bridge))
			return vm_why(why, whylen, "vif %u: unterminated string", i);
		if (v->mac[0] && !vm_mac_valid(v->mac))
			return vm_why(why, whylen, "vif %u: invalid MAC %s", i, v->mac);
		for (j = 0; v->mac[0] && j < i; j++)
			if (strcasecmp(c->vifs[j].mac, v->mac) == 0)
				return vm_why(why, whylen, "MAC %s is used by two vifs",
					      v->mac);
	}
	return 0;
}

static int
vm_check_ha(const struct vm_config *c, char *why, size_t whylen)
{
	const struct vm_ha *ha = &c->ha;
	uint32_t i;
	int d;

	if (ha->priority > VM_HA_PRIORITY_MAX)
		return vm_why(why, whylen, "ha_priority %u is out of range 0..%d",
			      ha->priority, VM_HA_PRIORITY_MAX);
	if (strcmp(vm_restart_name(ha->restart), "invalid") == 0)
		return vm_why(why, whylen, "invalid ha_restart %d", (int)ha->restart);
	if (ha->max_restarts > VM_HA_MAX_RESTARTS_MAX)
		return vm_why(why, whylen, "ha_max_restarts %u is out of range 0..%d",
			      ha->max_restarts, VM_HA_MAX_RESTARTS_MAX);
	if (ha->restart_window_s < VM_HA_WINDOW_MIN_S ||
	    ha->restart_window_s > VM_HA_WINDOW_MAX_S)
		return vm_why(why, whylen,
			      "ha_restart_window %u is out of range %d..%d",
			      ha->restart_window_s, VM_HA_WINDOW_MIN_S,
			      VM_HA_WINDOW_MAX_S);
	if (ha->n_hosts > VM_MAX_HOSTS || ha->n_after > VM_MAX_AFTER)
		return vm_why(why, whylen, "too many ha_hosts or ha_start_after");
	for (i = 0; i < ha->n_hosts; i++)
		if (!VM_TERMINATED(ha->hosts[i]) || !vm_name_valid(ha->hosts[i]))
			return vm_why(why, whylen, "invalid host name in ha_hosts");
	for (i = 0; i < ha->n_after; i++) {
		if (!VM_TERMINATED(ha->after[i]) || !vm_name_valid(ha->after[i]))
			return vm_why(why, whylen, "invalid VM name in ha_start_after");
		if (strcmp(ha->after[i], c->name) == 0)
			return vm_why(why, whylen, "ha_start_after names the VM "
				      "itself (%s)", c->name);
	}
	if ((d = vm_first_dup(ha->hosts, ha->n_hosts)) >= 0)
		return vm_why(why, whylen, "ha_hosts names %s twice", ha->hosts[d]);
	if ((d = vm_first_dup(ha->after, ha->n_after)) >= 0)
		return vm_why(why, whylen, "ha_start_after names %s twice",
			      ha->after[d]);
	if (!VM_TERMINATED(ha->anti_affinity) ||
	    (ha->anti_affinity[0] && !vm_name_valid(ha->anti_affinity)))
		return vm_why(why, whylen, "invalid ha_anti_affinity group name");
	return 0;
}

int
vm_config_check(const struct vm_config *c, char *why, size_t whylen)
{
	int r;

	if (!c)
		return vm_why(why, whylen, "no VM definition");
	if (!VM_TERMINATED(c->name) || !vm_name_valid(c->name))
		return vm_why(why, whylen, "invalid VM name");
	if (strcmp(vm_type_name(c->type), "invalid") == 0)
		return vm_why(why, whylen, "invalid type %d", (int)c->type);
	if (c->memory_mb < 1 || c->memory_mb > VM_MEMORY_MAX_MB)
		return vm_why(why, whylen, "memory %llu MB is out of range 1..%llu",
			      (unsigned long long)c->memory_mb, VM_MEMORY_MAX_MB);
	if (c->maxmem_mb < c->memory_mb || c->maxmem_mb > VM_MEMORY_MAX_MB)
		return vm_why(why, whylen, "maxmem %llu MB is out of range %llu..%llu",
			      (unsigned long long)c->maxmem_mb,
			      (unsigned long long)c->memory_mb, VM_MEMORY_MAX_MB);
	if (c->vcpus < 1 || c->vcpus > VM_VCPUS_MAX)
		return vm_why(why, whylen, "vcpus %u is out of range 1..%d",
			      c->vcpus, VM_VCPUS_MAX);
	if (c->maxvcpus < c->vcpus || c->maxvcpus > VM_VCPUS_MAX)
		return vm_why(why, whylen, "maxvcpus %u is out of range %u..%d",
			      c->maxvcpus, c->vcpus, VM_VCPUS_MAX);
	if (!VM_TERMINATED(c->kernel) || !VM_TERMINATED(c->ramdisk) ||
	    !VM_TERMINATED(c->extra) || !VM_TERMINATED(c->root) ||
	    !VM_TERMINATED(c->bootloader) || !VM_TERMINATED(c->uuid))
		return vm_why(why, whylen, "unterminated string");
	if (c->uuid[0] && !vm_uuid_valid(c->uuid))
		return vm_why(why, whylen, "invalid uuid %s", c->uuid);
	if (strcmp(vm_action_name(c->on_poweroff), "invalid") == 0 ||
	    strcmp(vm_action_name(c->on_reboot), "invalid") == 0 ||
	    strcmp(vm_action_name(c->on_crash), "invalid") == 0)
		return vm_why(why, whylen, "invalid on_poweroff/on_reboot/on_crash");
	r = vm_check_devices(c, why, whylen);
	if (r)
		return r;
	return vm_check_ha(c, why, whylen);
}
