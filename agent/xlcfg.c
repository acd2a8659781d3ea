/* xl.cfg -> struct vm_config, with libxlutil.
 *
 * libxlutil (xlu_cfg_*, xlu_disk_parse) does the syntax and the disk
 * specs exactly as xl does; this file maps the values.  libxlutil has no
 * way to list the keys it read, so a small scanner (xlcfg_keys.c) walks
 * the text after libxlutil accepted it to find every key with its line.
 * Each key is then looked up in xlcfg_fields: mapped, or refused ("it
 * would be dropped").
 *
 * Values follow xl's rules where xl has them (numbers through
 * xlu_cfg_get_long, so "512" and 0x200 are 512 as in xl; action names as
 * xl spells them) and are stricter where xl is silent: a key set twice,
 * a scalar where a list is expected, control characters, unknown vif
 * parameters are errors.  No I/O except xlcfg_parse_file()'s read; the
 * report stream libxlutil writes to is a memory stream.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxlutil.h>

#include "xlcfg.h"
#include "xlcfg_int.h"

static int __attribute__((format(printf, 3, 0)))
xlcfg_verror(struct xlcfg_parser *p, unsigned line, const char *fmt,
	     va_list ap)
{
	int n;

	if (!p->err || !p->errlen)
		return -EINVAL;
	if (line)
		n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->file);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

int
xlcfg_error(struct xlcfg_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xlcfg_verror(p, line, fmt, ap);
	va_end(ap);
	return r;
}

/* The first line libxlutil reported since the last call, into buf
 * (without its newline); "" when it reported nothing. */
static const char *
xlcfg_report_take(struct xlcfg_parser *p, char *buf, size_t len)
{
	const char *s, *nl;
	size_t n;

	buf[0] = '\0';
	if (fflush(p->report) != 0 || !p->report_buf ||
	    p->report_seen >= p->report_size)
		return buf;
	s = p->report_buf + p->report_seen;
	nl = memchr(s, '\n', p->report_size - p->report_seen);
	n = nl ? (size_t)(nl - s) : p->report_size - p->report_seen;
	snprintf(buf, len, "%.*s", (int)n, s);
	p->report_seen = p->report_size;
	return buf;
}

/* ---- value getters -------------------------------------------------------- */

static unsigned
xlcfg_item_line(const struct xlcfg_key *k, int i)
{
	if (i >= 0 && (unsigned)i < k->n_items && i < XLCFG_ITEM_LINES)
		return k->item_line[i];
	return k->line;
}

static int
xlcfg_check_chars(struct xlcfg_parser *p, unsigned line, const char *what,
		  const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return xlcfg_error(p, line, "%s: control character in "
					   "value", what);
	return 0;
}

static int
xlcfg_string(struct xlcfg_parser *p, const struct xlcfg_key *k,
	     const char **val)
{
	int e = xlu_cfg_get_string(p->xlu, k->name, val, 1);

	if (e == EINVAL)
		return xlcfg_error(p, k->line, "%s: expected a single value, "
				   "not a list", k->name);
	if (e)  /* the scanner and libxlutil disagree on the keys */
		return xlcfg_error(p, k->line, "%s: libxlutil cannot read it: %s",
				   k->name, strerror(e));
	return xlcfg_check_chars(p, k->line, k->name, *val);
}

static int
xlcfg_number(struct xlcfg_parser *p, const struct xlcfg_key *k, long min,
	     long max, long *val)
{
	const char *s;
	int r, e;

	r = xlcfg_string(p, k, &s);
	if (r)
		return r;
	e = xlu_cfg_get_long(p->xlu, k->name, val, 1);
	if (e == EINVAL && k->added)
		return xlcfg_error(p, k->line, "%s: += cannot be used with a "
				   "number", k->name);
	if (e == EINVAL)
		return xlcfg_error(p, k->line, "%s: '%s' is not a number",
				   k->name, s);
	if (e || *val < min || *val > max)
		return xlcfg_error(p, k->line, "%s: %s is out of range %ld..%ld",
				   k->name, s, min, max);
	return 0;
}

static int
xlcfg_copy(struct xlcfg_parser *p, unsigned line, const char *what,
	   const char *val, char *dst, size_t size)
{
	size_t n = strlen(val);

	if (n >= size)
		return xlcfg_error(p, line, "%s: longer than %zu characters",
				   what, size - 1);
	memcpy(dst, val, n + 1);
	return 0;
}

static char *
xlcfg_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* One name of ha_hosts / ha_start_after. */
static int
xlcfg_name_add(struct xlcfg_parser *p, const struct xlcfg_key *k,
	       unsigned line, char *name, char (*dst)[VM_NAME_MAX],
	       uint32_t max, uint32_t *n)
{
	uint32_t i;

	name = xlcfg_trim(name);
	if (!vm_name_valid(name))
		return xlcfg_error(p, line, "%s: invalid name '%s' (1..%d of "
				   "A-Z a-z 0-9 _ . -, not starting with . or -)",
				   k->name, name, VM_NAME_MAX - 1);
	for (i = 0; i < *n; i++)
		if (strcmp(dst[i], name) == 0)
			return xlcfg_error(p, line, "%s: names %s twice",
					   k->name, name);
	if (*n >= max)
		return xlcfg_error(p, line, "%s: more than %u names", k->name,
				   max);
	strcpy(dst[(*n)++], name);      /* vm_name_valid() bounds it */
	return 0;
}

/* A list of names, or one string of comma-separated names. */
static int
xlcfg_names(struct xlcfg_parser *p, const struct xlcfg_key *k,
	    char (*dst)[VM_NAME_MAX], uint32_t max, uint32_t *n)
{
	char buf[VM_NAME_MAX * (VM_MAX_HOSTS + VM_MAX_AFTER)], *tok, *save;
	XLU_ConfigList *list;
	const char *s;
	int cnt, i, r, e;

	e = xlu_cfg_get_list(p->xlu, k->name, &list, &cnt, 1);
	if (e == 0) {
		for (i = 0; i < cnt; i++) {
			unsigned line = xlcfg_item_line(k, i);

			s = xlu_cfg_get_listitem(list, i);
			if (!s)
				return xlcfg_error(p, line, "%s: item %d is not "
						   "a string", k->name, i + 1);
			r = xlcfg_copy(p, line, k->name, s, buf, VM_NAME_MAX);
			if (r == 0)
				r = xlcfg_name_add(p, k, line, buf, dst, max, n);
			if (r)
				return r;
		}
		return 0;
	}
	r = xlcfg_string(p, k, &s);
	if (r == 0)
		r = xlcfg_copy(p, k->line, k->name, s, buf, sizeof(buf));
	if (r)
		return r;
	if (!xlcfg_trim(buf)[0])
		return 0;               /* "" says: none */
	/* strtok_r would skip the empty name of "a,,b"; strsep does not. */
	for (save = buf; (tok = strsep(&save, ",")) != NULL;) {
		r = xlcfg_name_add(p, k, k->line, tok, dst, max, n);
		if (r)
			return r;
	}
	return 0;
}

/* ---- field setters -------------------------------------------------------- */

static int
xlcfg_set_name(struct xlcfg_parser *p, const struct xlcfg_key *k,
	       const struct xlcfg_field *f, const char *val)
{
	if (!vm_name_valid(val))
		return xlcfg_error(p, k->line, "%s: invalid name '%s' (1..%d of "
				   "A-Z a-z 0-9 _ . -, not starting with . or -)",
				   k->name, val, VM_NAME_MAX - 1);
	strcpy((char *)p->vm + f->off, val);    /* vm_name_valid() bounds it */
	return 0;
}

static int
xlcfg_set_type(struct xlcfg_parser *p, const struct xlcfg_key *k,
	       const struct xlcfg_field *f, const char *val)
{
	if (vm_type_parse(val, &p->vm->type))
		return xlcfg_error(p, k->line, "type: unknown type '%s' (pv, pvh "
				   "or hvm)", val);
	return 0;
}

/* The legacy builder: "hvm" or "generic" (pv), as xl reads it. */
static int
xlcfg_set_builder(struct xlcfg_parser *p, const struct xlcfg_key *k,
		  const struct xlcfg_field *f, const char *val)
{
	if (strcmp(val, "hvm") == 0)
		p->builder = VM_TYPE_HVM;
	else if (strcmp(val, "generic") == 0)
		p->builder = VM_TYPE_PV;
	else
		return xlcfg_error(p, k->line, "builder: unknown builder '%s' "
				   "(hvm or generic; type= is the current key)",
				   val);
	return 0;
}

static int
xlcfg_set_uuid(struct xlcfg_parser *p, const struct xlcfg_key *k,
	       const struct xlcfg_field *f, const char *val)
{
	size_t i;

	if (!vm_uuid_valid(val))
		return xlcfg_error(p, k->line, "uuid: invalid uuid '%s' (want "
				   "8-4-4-4-12 hex digits)", val);
	for (i = 0; val[i]; i++)
		p->vm->uuid[i] = (char)tolower((unsigned char)val[i]);
	p->vm->uuid[i] = '\0';
	return 0;
}

static int
xlcfg_set_action(struct xlcfg_parser *p, const struct xlcfg_key *k,
		 const struct xlcfg_field *f, const char *val)
{
	if (vm_action_parse(val, (enum vm_action *)((char *)p->vm + f->off)))
		return xlcfg_error(p, k->line, "%s: unknown action '%s' (destroy, "
				   "restart, rename-restart, preserve, "
				   "coredump-destroy, coredump-restart, "
				   "soft-reset)", k->name, val);
	return 0;
}

static int
xlcfg_set_ha_restart(struct xlcfg_parser *p, const struct xlcfg_key *k,
		     const struct xlcfg_field *f, const char *val)
{
	if (vm_restart_parse(val, &p->vm->ha.restart))
		return xlcfg_error(p, k->line, "ha_restart: unknown policy '%s' "
				   "(always, on-failure or never)", val);
	return 0;
}

static int
xlcfg_set_group(struct xlcfg_parser *p, const struct xlcfg_key *k,
		const struct xlcfg_field *f, const char *val)
{
	if (!val[0])
		return 0;               /* "" says: none */
	return xlcfg_set_name(p, k, f, val);
}

static int
xlcfg_set_ha_hosts(struct xlcfg_parser *p, const struct xlcfg_key *k,
		   const struct xlcfg_field *f, const char *val)
{
	return xlcfg_names(p, k, p->vm->ha.hosts, VM_MAX_HOSTS,
			   &p->vm->ha.n_hosts);
}

static int
xlcfg_set_ha_start_after(struct xlcfg_parser *p, const struct xlcfg_key *k,
			 const struct xlcfg_field *f, const char *val)
{
	return xlcfg_names(p, k, p->vm->ha.after, VM_MAX_AFTER,
			   &p->vm->ha.n_after);
}

/* The list of a list-only key: 0, or an error for a single value. */
static int
xlcfg_list(struct xlcfg_parser *p, const struct xlcfg_key *k,
	   XLU_ConfigList **list, int *cnt, int max, const char *what)
{
	int e = xlu_cfg_get_list(p->xlu, k->name, list, cnt, 1);

	if (e == EINVAL)
		return xlcfg_error(p, k->line, "%s: expected a list, e.g. "
				   "%s = [ '...' ]", k->name, k->name);
	if (e)
		return xlcfg_error(p, k->line, "%s: libxlutil cannot read it: %s",
				   k->name, strerror(e));
	if (*cnt > max)
		return xlcfg_error(p, k->line, "too many %s: %d (at most %d)",
				   what, *cnt, max);
	return 0;
}

/* One disk spec, parsed by xlu_disk_parse exactly as xl would. */
static int
xlcfg_disk(struct xlcfg_parser *p, unsigned line, const char *spec,
	   struct vm_disk *d)
{
	libxl_device_disk disk;
	char why[512], *tail, *cut;
	const char *fmt;
	int e, r;

	r = xlcfg_check_chars(p, line, "disk", spec);
	if (r == 0)
		r = xlcfg_copy(p, line, "disk", spec, d->spec, sizeof(d->spec));
	if (r)
		return r;
	libxl_device_disk_init(&disk);
	e = xlu_disk_parse(p->xlu, 1, &spec, &disk);
	if (e == EINVAL) {
		/* "FILE: config parsing error in disk specification: WHY in
		 * `SPEC'": keep WHY, the rest is ours already. */
		xlcfg_report_take(p, why, sizeof(why));
		tail = strstr(why, "disk specification: ");
		tail = tail ? tail + strlen("disk specification: ") : why;
		cut = strstr(tail, " in `");
		if (cut)
			*cut = '\0';
		r = xlcfg_error(p, line, "disk '%s': %s", spec,
				tail[0] ? tail : "refused by libxlutil");
		goto out_dispose;
	}
	if (e) {
		r = -e;
		goto out_dispose;
	}
	r = xlcfg_copy(p, line, "disk target", disk.pdev_path ? disk.pdev_path
		       : "", d->target, sizeof(d->target));
	if (r == 0)
		r = xlcfg_copy(p, line, "disk vdev", disk.vdev ? disk.vdev : "",
			       d->vdev, sizeof(d->vdev));
	fmt = libxl_disk_format_to_string(disk.format);
	if (r == 0)
		r = xlcfg_copy(p, line, "disk format", fmt ? fmt : "",
			       d->format, sizeof(d->format));
	d->readonly = !disk.readwrite;
out_dispose:
	libxl_device_disk_dispose(&disk);
	return r;
}

static int
xlcfg_set_disks(struct xlcfg_parser *p, const struct xlcfg_key *k,
		const struct xlcfg_field *f, const char *val)
{
	struct vm_config *vm = p->vm;
	XLU_ConfigList *list;
	uint32_t j;
	int cnt, i, r;

	r = xlcfg_list(p, k, &list, &cnt, VM_MAX_DISKS, "disks");
	for (i = 0; r == 0 && i < cnt; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);
		unsigned line = xlcfg_item_line(k, i);
		struct vm_disk *d = &vm->disks[i];

		if (!spec)
			return xlcfg_error(p, line, "disk: item %d is not a "
					   "string", i + 1);
		r = xlcfg_disk(p, line, spec, d);
		for (j = 0; r == 0 && j < vm->n_disks; j++)
			if (strcmp(vm->disks[j].vdev, d->vdev) == 0)
				r = xlcfg_error(p, line, "disk '%s': vdev %s is "
						"already used by disk %u", spec,
						d->vdev, j + 1);
		vm->n_disks += r == 0;
	}
	return r;
}

/* vif specs: vm_vif_parse() maps mac= and bridge= and refuses the rest. */
static int
xlcfg_set_vifs(struct xlcfg_parser *p, const struct xlcfg_key *k,
	       const struct xlcfg_field *f, const char *val)
{
	struct vm_config *vm = p->vm;
	XLU_ConfigList *list;
	char why[512];
	uint32_t j;
	int cnt, i, r;

	r = xlcfg_list(p, k, &list, &cnt, VM_MAX_VIFS, "vifs");
	for (i = 0; r == 0 && i < cnt; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);
		unsigned line = xlcfg_item_line(k, i);
		struct vm_vif *v = &vm->vifs[i];

		if (!spec)
			return xlcfg_error(p, line, "vif: item %d is not a "
					   "string", i + 1);
		r = xlcfg_check_chars(p, line, "vif", spec);
		if (r == 0 && vm_vif_parse(spec, v, why, sizeof(why)))
			r = xlcfg_error(p, line, "%s", why);
		for (j = 0; r == 0 && v->mac[0] && j < vm->n_vifs; j++)
			if (strcmp(vm->vifs[j].mac, v->mac) == 0)
				r = xlcfg_error(p, line, "vif '%s': MAC %s is "
						"already used by vif %u", spec,
						v->mac, j + 1);
		vm->n_vifs += r == 0;
	}
	return r;
}

#define VMF(field) offsetof(struct vm_config, field), \
	sizeof(((struct vm_config *)0)->field)
#define VMO(field) offsetof(struct vm_config, field), 0 /* set() checks */

static const struct xlcfg_field xlcfg_fields[] = {
	{ "name", XK_STRING, xlcfg_set_name, VMF(name), 0, 0 },
	{ "type", XK_STRING, xlcfg_set_type, 0, 0, 0, 0 },
	{ "builder", XK_STRING, xlcfg_set_builder, 0, 0, 0, 0 },
	{ "memory", XK_NUMBER, NULL, VMF(memory_mb), 1, VM_MEMORY_MAX_MB },
	{ "maxmem", XK_NUMBER, NULL, VMF(maxmem_mb), 1, VM_MEMORY_MAX_MB },
	{ "vcpus", XK_NUMBER, NULL, VMF(vcpus), 1, VM_VCPUS_MAX },
	{ "maxvcpus", XK_NUMBER, NULL, VMF(maxvcpus), 1, VM_VCPUS_MAX },
	{ "kernel", XK_STRING, NULL, VMF(kernel), 0, 0 },
	{ "ramdisk", XK_STRING, NULL, VMF(ramdisk), 0, 0 },
	{ "extra", XK_STRING, NULL, VMF(extra), 0, 0 },
	{ "root", XK_STRING, NULL, VMF(root), 0, 0 },
	{ "bootloader", XK_STRING, NULL, VMF(bootloader), 0, 0 },
	{ "uuid", XK_STRING, xlcfg_set_uuid, 0, 0, 0, 0 },
	{ "disk", XK_LIST, xlcfg_set_disks, 0, 0, 0, 0 },
	{ "vif", XK_LIST, xlcfg_set_vifs, 0, 0, 0, 0 },
	{ "on_poweroff", XK_STRING, xlcfg_set_action, VMO(on_poweroff), 0, 0 },
	{ "on_reboot", XK_STRING, xlcfg_set_action, VMO(on_reboot), 0, 0 },
	{ "on_crash", XK_STRING, xlcfg_set_action, VMO(on_crash), 0, 0 },
	{ "ha_priority", XK_NUMBER, NULL, VMF(ha.priority), 0,
	  VM_HA_PRIORITY_MAX },
	{ "ha_restart", XK_STRING, xlcfg_set_ha_restart, 0, 0, 0, 0 },
	{ "ha_max_restarts", XK_NUMBER, NULL, VMF(ha.max_restarts), 0,
	  VM_HA_MAX_RESTARTS_MAX },
	{ "ha_restart_window", XK_NUMBER, NULL, VMF(ha.restart_window_s),
	  VM_HA_WINDOW_MIN_S, VM_HA_WINDOW_MAX_S },
	{ "ha_hosts", XK_LIST, xlcfg_set_ha_hosts, 0, 0, 0, 0 },
	{ "ha_anti_affinity", XK_STRING, xlcfg_set_group, VMF(ha.anti_affinity),
	  0, 0 },
	{ "ha_start_after", XK_LIST, xlcfg_set_ha_start_after, 0, 0, 0, 0 },
	{ NULL, 0, NULL, 0, 0, 0, 0 },
};

static int
xlcfg_set(struct xlcfg_parser *p, const struct xlcfg_key *k,
	  const struct xlcfg_field *f)
{
	char *dst = (char *)p->vm + f->off;
	const char *val = NULL;
	long n;
	int r;

	switch (f->kind) {
	case XK_STRING:
		r = xlcfg_string(p, k, &val);
		if (r == 0 && strlen(val) >= f->size && f->size)
			r = xlcfg_error(p, k->line, "%s: longer than %zu "
					"characters", k->name, f->size - 1);
		if (r || f->set)
			return r ? r : f->set(p, k, f, val);
		strcpy(dst, val);
		return 0;
	case XK_NUMBER:
		r = xlcfg_number(p, k, f->min, f->max, &n);
		if (r == 0 && f->size == sizeof(uint64_t))
			*(uint64_t *)(void *)dst = (uint64_t)n;
		else if (r == 0)
			*(uint32_t *)(void *)dst = (uint32_t)n;
		return r;
	case XK_LIST:
		return f->set(p, k, f, NULL);
	}
	return -EINVAL;
}

/* What needs several keys; defaults that follow other keys. */
static int
xlcfg_finish(struct xlcfg_parser *p)
{
	const struct xlcfg_key *k;
	struct vm_config *vm = p->vm;
	uint32_t i;

	if (!xlcfg_key(p, "name"))
		return xlcfg_error(p, 0, "name is required");
	if (!xlcfg_key(p, "memory"))
		return xlcfg_error(p, 0, "memory is required (MB)");
	k = xlcfg_key(p, "builder");
	if (k && xlcfg_key(p, "type") && p->builder != vm->type)
		return xlcfg_error(p, k->line, "builder contradicts type '%s'",
				   vm_type_name(vm->type));
	if (k)
		vm->type = p->builder;
	k = xlcfg_key(p, "maxmem");
	if (!k)
		vm->maxmem_mb = vm->memory_mb;
	else if (vm->maxmem_mb < vm->memory_mb)
		return xlcfg_error(p, k->line, "maxmem (%llu MB) is smaller than "
				   "memory (%llu MB)",
				   (unsigned long long)vm->maxmem_mb,
				   (unsigned long long)vm->memory_mb);
	k = xlcfg_key(p, "maxvcpus");
	if (!k)
		vm->maxvcpus = vm->vcpus;
	else if (vm->maxvcpus < vm->vcpus)
		return xlcfg_error(p, k->line, "maxvcpus (%u) is smaller than "
				   "vcpus (%u)", vm->maxvcpus, vm->vcpus);
	k = xlcfg_key(p, "ha_start_after");
	for (i = 0; k && i < vm->ha.n_after; i++)
		if (strcmp(vm->ha.after[i], vm->name) == 0)
			return xlcfg_error(p, xlcfg_item_line(k, (int)i),
					   "ha_start_after: names the VM itself "
					   "(%s)", vm->name);
	return 0;
}

/* ---- entry points ------------------------------------------------------- */

static int
xlcfg_syntax(struct xlcfg_parser *p, const char *text, size_t len)
{
	char msg[512];
	unsigned line = 1;
	const char *s;
	int e;

	/* libxlutil would stop at a NUL without saying why, and would quote
	 * a raw CR into its message; say what they are instead. */
	for (s = text; s < text + len; s++) {
		if (*s == '\n')
			line++;
		else if (*s == '\0')
			return xlcfg_error(p, line, "NUL byte in line");
		else if (*s == '\r')
			return xlcfg_error(p, line, "carriage return in line (DOS "
					   "line ends?): xl.cfg wants LF");
	}
	e = xlu_cfg_readdata(p->xlu, text, (int)len);
	if (e == 0)
		return 0;
	xlcfg_report_take(p, msg, sizeof(msg));
	if (e != EINVAL)
		return -e;
	/* libxlutil's own "FILE:LINE: config parsing error near ...". */
	if (msg[0] && p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s", msg);
	else if (!msg[0])
		xlcfg_error(p, 0, "syntax error");
	return -EINVAL;
}

int
xlcfg_parse(const char *text, size_t len, const char *filename,
	    struct vm_config *out, char *err, size_t errlen)
{
	struct xlcfg_parser p = {
		.file = filename ? filename : "(config)",
		.text = text,
		.len = len,
		.fields = xlcfg_fields,
		.err = err,
		.errlen = errlen,
	};
	const struct xlcfg_field *f;
	char why[256];
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!text || !out) {
		xlcfg_error(&p, 0, "no text or no output");
		return -EINVAL;
	}
	if (len > XLCFG_TEXT_MAX) {
		xlcfg_error(&p, 0, "larger than %d bytes", XLCFG_TEXT_MAX);
		return -EFBIG;
	}
	p.vm = malloc(sizeof(*p.vm));
	if (!p.vm)
		return -ENOMEM;
	vm_config_init(p.vm);
	p.report = open_memstream(&p.report_buf, &p.report_size);
	if (!p.report) {
		r = -ENOMEM;
		goto out_free_vm;
	}
	p.xlu = xlu_cfg_init(p.report, p.file);
	if (!p.xlu) {
		r = -ENOMEM;
		goto out_close_report;
	}
	r = xlcfg_syntax(&p, text, len);
	if (r)
		goto out_destroy_xlu;
	r = xlcfg_scan(&p);
	if (r)
		goto out_destroy_xlu;
	for (f = xlcfg_fields; f->name; f++) {
		const struct xlcfg_key *k = xlcfg_key(&p, f->name);

		r = k ? xlcfg_set(&p, k, f) : 0;
		if (r)
			goto out_destroy_xlu;
	}
	r = xlcfg_finish(&p);
	if (r)
		goto out_destroy_xlu;
	/* Belt and braces: the one definition of a valid vm_config. */
	r = vm_config_check(p.vm, why, sizeof(why));
	if (r) {
		xlcfg_error(&p, 0, "%s", why);
		goto out_destroy_xlu;
	}
	memcpy(out, p.vm, sizeof(*out));
out_destroy_xlu:
	xlu_cfg_destroy(p.xlu);
out_close_report:
	fclose(p.report);
	free(p.report_buf);
	free(p.keys);
out_free_vm:
	free(p.vm);
	return r;
}

int
xlcfg_parse_file(const char *path, struct vm_config *out, char *err,
		 size_t errlen)
{
	size_t cap = XLCFG_TEXT_MAX + 1, len = 0;
	char *buf;
	ssize_t n;
	int fd, r;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out) {
		if (err && errlen)
			snprintf(err, errlen, "(config): no path or no output");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out_error;
	}
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	/* One byte past the limit tells "too large" from "exactly full". */
	while (len < cap && (n = read(fd, buf + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_free;
		}
		len += (size_t)n;
	}
	r = xlcfg_parse(buf, len, path, out, err, errlen);
	free(buf);
	close(fd);
	return r;
out_free:
	free(buf);
out_close:
	close(fd);
out_error:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}
