/* struct vm_config -> libxl_domain_config; see hv_xl_map.h.
 *
 * The rules are xl's (tools/xl/xl_parse.c, parse_config_data in Xen 4.17),
 * restated for the keys a vm_config carries:
 *   type            c_info.type, and b_info initialised for that type
 *   name, uuid      c_info.name; c_info.uuid parsed, or generated when the
 *                   definition has none (as xl does)
 *   memory, maxmem  b_info.target_memkb / max_memkb, in KiB
 *   vcpus, maxvcpus b_info.max_vcpus, and avail_vcpus with the first
 *                   `vcpus` bits set
 *   kernel, ramdisk b_info.kernel / ramdisk (top level for every type
 *                   since Xen 4.10)
 *   root, extra     b_info.cmdline: "root=ROOT EXTRA", "root=ROOT" or
 *                   "EXTRA", as xl builds it
 *   bootloader      b_info.bootloader (pv and pvh; libxl skips it for hvm,
 *                   so it is refused there rather than dropped)
 *   disk            re-parsed from its spec with xlu_disk_parse, the
 *                   parser xl uses; the parsed vdev and target must agree
 *                   with the struct (a definition off the wire could
 *                   disagree, and storage fencing goes by the target)
 *   vif             nics[i].devid = i, mac (zero: libxl picks one),
 *                   bridge; the spec is re-parsed with vm_vif_parse and
 *                   must agree the same way
 *   on_poweroff/on_reboot/on_crash   d_config actions; on_watchdog
 *                   destroy and on_soft_reset soft-reset, xl's defaults
 * PV and PVH need a kernel or a bootloader, as xl requires.
 *
 * Strings and arrays are malloc'd: libxl_domain_config_dispose frees them.
 * The avail_vcpus bitmap is allocated here rather than with
 * libxl_bitmap_alloc, which wants a context (libxl documents the bitmap as
 * malloc memory that libxl_bitmap_dispose frees).
 */
#define LIBXL_API_VERSION 0x041400

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>

#include "hv_xl_map.h"

static int
xlmap_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
xlmap_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* strdup of a non-empty field into *dst; "" leaves *dst NULL. */
static int
xlmap_str(char **dst, const char *src)
{
	if (!src[0])
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int
xlmap_action(enum vm_action a, libxl_action_on_shutdown *out)
{
	switch (a) {
	case VM_ACTION_DESTROY:
		*out = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
		return 0;
	case VM_ACTION_RESTART:
		*out = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
		return 0;
	case VM_ACTION_RENAME_RESTART:
		*out = LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME;
		return 0;
	case VM_ACTION_PRESERVE:
		*out = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
		return 0;
	case VM_ACTION_COREDUMP_DESTROY:
		*out = LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY;
		return 0;
	case VM_ACTION_COREDUMP_RESTART:
		*out = LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART;
		return 0;
	case VM_ACTION_SOFT_RESET:
		*out = LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET;
		return 0;
	}
	return -EINVAL;
}

static int
xlmap_type(enum vm_type t, libxl_domain_type *out)
{
	switch (t) {
	case VM_TYPE_PV:
		*out = LIBXL_DOMAIN_TYPE_PV;
		return 0;
	case VM_TYPE_PVH:
		*out = LIBXL_DOMAIN_TYPE_PVH;
		return 0;
	case VM_TYPE_HVM:
		*out = LIBXL_DOMAIN_TYPE_HVM;
		return 0;
	}
	return -EINVAL;
}

/* xl's kernel command line from root= and extra=. */
static int
xlmap_cmdline(const struct vm_config *c, char **out)
{
	int n;

	if (c->root[0] && c->extra[0])
		n = asprintf(out, "root=%s %s", c->root, c->extra);
	else if (c->root[0])
		n = asprintf(out, "root=%s", c->root);
	else if (c->extra[0])
		n = asprintf(out, "%s", c->extra);
	else
		return 0;
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int
xlmap_vcpus(const struct vm_config *c, libxl_domain_build_info *b)
{
	libxl_bitmap *bm = &b->avail_vcpus;

	b->max_vcpus = (int)c->maxvcpus;
	bm->size = (c->maxvcpus + 7) / 8;
	bm->map = calloc(bm->size, 1);
	if (!bm->map) {
		bm->size = 0;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < c->vcpus; i++)
		libxl_bitmap_set(bm, (int)i);
	return 0;
}

/* libxlutil's complaint about a disk spec, without its "FILE: config
 * parsing error in disk specification: " head and " in `SPEC'" tail. */
static void
xlmap_disk_why(const char *report, char *out, size_t len)
{
	const char *head = "disk specification: ";
	const char *p = strstr(report, head);
	size_t n;

	p = p ? p + strlen(head) : report;
	n = strcspn(p, "\n");
	if (strstr(p, " in `") && (size_t)(strstr(p, " in `") - p) < n)
		n = (size_t)(strstr(p, " in `") - p);
	if (n == 0) {
		snprintf(out, len, "refused by libxlutil");
		return;
	}
	snprintf(out, len, "%.*s", (int)n, p);
}

static int
xlmap_disks(const struct vm_config *c, libxl_domain_config *dc,
	    char *why, size_t whylen)
{
	char *report = NULL, msg[256];
	size_t report_len = 0;
	XLU_Config *xlu;
	FILE *rf;
	int r = 0;

	if (c->n_disks == 0)
		return 0;
	dc->disks = calloc(c->n_disks, sizeof(*dc->disks));
	if (!dc->disks)
		return -ENOMEM;
	/* libxlutil reports into a stream: a memory one keeps this pure. */
	rf = open_memstream(&report, &report_len);
	if (!rf)
		return -ENOMEM;
	xlu = xlu_cfg_init(rf, c->name);
	if (!xlu) {
		r = -ENOMEM;
		goto out_close;
	}
	for (uint32_t i = 0; i < c->n_disks; i++) {
		const struct vm_disk *d = &c->disks[i];
		libxl_device_disk *disk = &dc->disks[i];
		const char *spec = d->spec;
		int e;

		libxl_device_disk_init(disk);
		dc->num_disks = (int)i + 1;     /* dispose sees it from now on */
		e = xlu_disk_parse(xlu, 1, &spec, disk);
		if (e == ENOMEM) {
			r = -ENOMEM;
			break;
		}
		if (e) {
			fflush(rf);
			xlmap_disk_why(report ? report : "", msg, sizeof(msg));
			r = xlmap_why(why, whylen, "disk %u '%s': %s", i + 1,
				      d->spec, msg);
			break;
		}
		if (strcmp(disk->vdev ? disk->vdev : "", d->vdev) != 0) {
			r = xlmap_why(why, whylen, "disk %u '%s': the spec says "
				      "vdev '%s', the definition '%s'", i + 1,
				      d->spec, disk->vdev ? disk->vdev : "",
				      d->vdev);
			break;
		}
		if (disk->pdev_path != NULL && d->target[0] != '\0' &&
		    strncmp(disk->pdev_path, VM_DISK_SAN_PREFIX,
			    strlen(VM_DISK_SAN_PREFIX)) == 0 &&
		    strncmp(d->target, VM_DISK_SAN_PREFIX,
			    strlen(VM_DISK_SAN_PREFIX)) != 0) {
			/* a SAN volume the agent resolved to its device
			 * (agent/vmdisk.c): the spec still names it */
			free(disk->pdev_path);
			disk->pdev_path = strdup(d->target);
			if (!disk->pdev_path) {
				r = -ENOMEM;
				break;
			}
		}
		if (strcmp(disk->pdev_path ? disk->pdev_path : "",
			   d->target) != 0) {
			r = xlmap_why(why, whylen, "disk %u '%s': the spec says "
				      "target '%s', the definition '%s'", i + 1,
				      d->spec, disk->pdev_path ?
				      disk->pdev_path : "", d->target);
			break;
		}
	}
	xlu_cfg_destroy(xlu);
out_close:
	fclose(rf);
	free(report);
	return r;
}

static int
xlmap_mac(const char *s, libxl_mac mac)
{
	unsigned int v[6];
	int used = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &used) != 6 || s[used] != '\0')
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int
xlmap_vifs(const struct vm_config *c, libxl_domain_config *dc,
	   char *why, size_t whylen)
{
	char msg[256];
	int r;

	if (c->n_vifs == 0)
		return 0;
	dc->nics = calloc(c->n_vifs, sizeof(*dc->nics));
	if (!dc->nics)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_vifs; i++) {
		const struct vm_vif *v = &c->vifs[i];
		libxl_device_nic *nic = &dc->nics[i];
		struct vm_vif again;

		libxl_device_nic_init(nic);
		dc->num_nics = (int)i + 1;
		nic->devid = (libxl_devid)i;    /* as xl numbers them */
		if (vm_vif_parse(v->spec, &again, msg, sizeof(msg)) < 0)
			return xlmap_why(why, whylen, "vif %u: %s", i + 1, msg);
		if (strcasecmp(again.mac, v->mac) != 0 ||
		    strcmp(again.bridge, v->bridge) != 0)
			return xlmap_why(why, whylen, "vif %u '%s': the spec "
					 "disagrees with mac '%s' bridge '%s'",
					 i + 1, v->spec, v->mac, v->bridge);
		if (v->mac[0] && xlmap_mac(v->mac, nic->mac) < 0)
			return xlmap_why(why, whylen, "vif %u: bad MAC '%s'",
					 i + 1, v->mac);
		r = xlmap_str(&nic->bridge, v->bridge);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
xlmap_actions(const struct vm_config *c, libxl_domain_config *dc,
	      char *why, size_t whylen)
{
	if (xlmap_action(c->on_poweroff, &dc->on_poweroff) < 0)
		return xlmap_why(why, whylen, "on_poweroff: bad action %d",
				 (int)c->on_poweroff);
	if (xlmap_action(c->on_reboot, &dc->on_reboot) < 0)
		return xlmap_why(why, whylen, "on_reboot: bad action %d",
				 (int)c->on_reboot);
	if (xlmap_action(c->on_crash, &dc->on_crash) < 0)
		return xlmap_why(why, whylen, "on_crash: bad action %d",
				 (int)c->on_crash);
	dc->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET;
	return 0;
}

/* Where the guest's kernel comes from: refused combinations. */
static int
xlmap_boot_check(const struct vm_config *c, char *why, size_t whylen)
{
	if (c->type == VM_TYPE_HVM && c->bootloader[0])
		return xlmap_why(why, whylen, "bootloader: only pv and pvh "
				 "guests use one (an hvm guest boots its "
				 "firmware)");
	if (c->type != VM_TYPE_HVM && !c->kernel[0] && !c->bootloader[0])
		return xlmap_why(why, whylen, "a %s guest needs a kernel or a "
				 "bootloader", vm_type_name(c->type));
	return 0;
}

int
xlmap_config(const struct vm_config *c, libxl_domain_config *dc,
	     char *why, size_t whylen)
{
	libxl_domain_create_info *ci = &dc->c_info;
	libxl_domain_build_info *b = &dc->b_info;
	libxl_domain_type type;
	int r;

	if (!c || !dc)
		return xlmap_why(why, whylen, "no definition");
	r = vm_config_check(c, why, whylen);
	if (r < 0)
		return r;
	if (xlmap_type(c->type, &type) < 0)
		return xlmap_why(why, whylen, "type: bad value %d", (int)c->type);
	r = xlmap_boot_check(c, why, whylen);
	if (r < 0)
		return r;

	ci->type = type;
	r = xlmap_str(&ci->name, c->name);
	if (r < 0)
		return r;
	if (c->uuid[0]) {
		if (libxl_uuid_from_string(&ci->uuid, c->uuid) != 0)
			return xlmap_why(why, whylen, "uuid: cannot parse '%s'",
					 c->uuid);
	} else {
		libxl_uuid_generate(&ci->uuid);
	}

	libxl_domain_build_info_init_type(b, type);
	b->target_memkb = c->memory_mb * 1024;
	b->max_memkb = c->maxmem_mb * 1024;
	r = xlmap_vcpus(c, b);
	if (r == 0)
		r = xlmap_str(&b->kernel, c->kernel);
	if (r == 0)
		r = xlmap_str(&b->ramdisk, c->ramdisk);
	if (r == 0)
		r = xlmap_cmdline(c, &b->cmdline);
	if (r == 0)
		r = xlmap_str(&b->bootloader, c->bootloader);
	if (r == 0)
		r = xlmap_disks(c, dc, why, whylen);
	if (r == 0)
		r = xlmap_vifs(c, dc, why, whylen);
	if (r == 0)
		r = xlmap_actions(c, dc, why, whylen);
	if (r == -ENOMEM)
		(void)xlmap_why(why, whylen, "out of memory");
	return r;
}
