/* Tests of agent/hv_xl_map.c: struct vm_config -> libxl_domain_config.
 *
 * These use the real libxl data functions (libxl_domain_config_init and
 * _dispose, libxl_uuid_*, libxl_bitmap_*) and libxlutil's disk parser: none
 * of them needs a libxl context or a Xen host.  Every expected value is
 * written from xl's rules (tools/xl/xl_parse.c), not captured from a run.
 */
#define LIBXL_API_VERSION 0x041400

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxl.h>
#include <libxl_utils.h>

#include "hv_xl_map.h"
#include "vmconf.h"

#define UUID_TEXT "5f2b1a3c-9d4e-4b6a-8c7d-0e1f2a3b4c5d"

static void
add_disk(struct vm_config *c, const char *spec, const char *target,
	 const char *vdev, const char *format, bool ro)
{
	struct vm_disk *d = &c->disks[c->n_disks++];

	snprintf(d->spec, sizeof(d->spec), "%s", spec);
	snprintf(d->target, sizeof(d->target), "%s", target);
	snprintf(d->vdev, sizeof(d->vdev), "%s", vdev);
	snprintf(d->format, sizeof(d->format), "%s", format);
	d->readonly = ro;
}

static void
add_vif(struct vm_config *c, const char *spec)
{
	char why[256];

	assert_int_equal(vm_vif_parse(spec, &c->vifs[c->n_vifs], why,
				      sizeof(why)), 0);
	c->n_vifs++;
}

/* A PV guest with two disks and two vifs, every mapped key set. */
static void
pv_config(struct vm_config *c)
{
	vm_config_init(c);
	strcpy(c->name, "web1");
	c->type = VM_TYPE_PV;
	c->memory_mb = 1024;
	c->maxmem_mb = 2048;
	c->vcpus = 2;
	c->maxvcpus = 4;
	strcpy(c->kernel, "/boot/vmlinuz-6.1");
	strcpy(c->ramdisk, "/boot/initrd.img-6.1");
	strcpy(c->root, "/dev/xvda1 ro");
	strcpy(c->extra, "console=hvc0");
	strcpy(c->uuid, UUID_TEXT);
	add_disk(c, "/dev/vg/web1,raw,xvda,rw", "/dev/vg/web1", "xvda", "raw",
		 false);
	add_disk(c, "format=qcow2,vdev=xvdb,access=ro,target=/srv/data.qcow2",
		 "/srv/data.qcow2", "xvdb", "qcow2", true);
	add_vif(c, "mac=00:16:3E:12:34:56,bridge=xenbr0");
	add_vif(c, "bridge=xenbr1");
}

static int
map(const struct vm_config *c, libxl_domain_config *dc, char *why, size_t len)
{
	why[0] = '\0';
	libxl_domain_config_init(dc);
	return xlmap_config(c, dc, why, len);
}

/* ---- invalid input ------------------------------------------------------ */

static void
test_null_config(void **state)
{
	libxl_domain_config dc;
	char why[256];

	assert_int_equal(map(NULL, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no definition");
	libxl_domain_config_dispose(&dc);
}

static void
test_invalid_struct(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	c.memory_mb = 0;
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "memory 0 MB is out of range 1..16777216");
	libxl_domain_config_dispose(&dc);
}

static void
test_disk_spec_refused(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	snprintf(c.disks[1].spec, sizeof(c.disks[1].spec),
		 "/dev/vg/x,raw,xvdb,rw,bogus=1");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "disk 2 '/dev/vg/x,raw,xvdb,rw,bogus=1': "
			    "unknown parameter: near `bogus=1'");
	/* The first disk was mapped, the refused one counted: dispose
	 * frees both (ASan would see a leak otherwise). */
	assert_int_equal(dc.num_disks, 2);
	libxl_domain_config_dispose(&dc);
}

static void
test_disk_spec_without_vdev(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	snprintf(c.disks[0].spec, sizeof(c.disks[0].spec), "/dev/x,raw");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "disk 1 '/dev/x,raw': no vdev specified");
	libxl_domain_config_dispose(&dc);
}

/* A SAN disk: the spec names the volume, the agent resolved the target to
 * the LUN's device (agent/vmdisk.c); libxl gets the device.  Found under
 * QEMU: the two were refused as disagreeing, so no SAN disk ever started. */
static void
test_disk_san_resolved(void **state)
{
	static const char dev[] = "/dev/disk/by-path/ip-10.99.2.100:3260-iscsi-"
				  "iqn.2026-11.org.xenmesh:web1-lun-1";
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	snprintf(c.disks[0].spec, sizeof(c.disks[0].spec),
		 "vdev=xvda, access=rw, target=xenmesh:root");
	snprintf(c.disks[0].target, sizeof(c.disks[0].target), "%s", dev);
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_string_equal(dc.disks[0].pdev_path, dev);
	assert_string_equal(dc.disks[0].vdev, "xvda");
	assert_int_equal(dc.disks[0].readwrite, 1);
	libxl_domain_config_dispose(&dc);

	/* not resolved (no agent did it): libxl must not get the reference */
	pv_config(&c);
	snprintf(c.disks[0].spec, sizeof(c.disks[0].spec),
		 "vdev=xvda, access=rw, target=xenmesh:root");
	snprintf(c.disks[0].target, sizeof(c.disks[0].target), "xenmesh:root");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_string_equal(dc.disks[0].pdev_path, "xenmesh:root");
	libxl_domain_config_dispose(&dc);

	/* a plain path never gives way to another */
	pv_config(&c);
	snprintf(c.disks[0].target, sizeof(c.disks[0].target), "%s", dev);
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	libxl_domain_config_dispose(&dc);
}

static void
test_disk_spec_disagrees(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	strcpy(c.disks[0].vdev, "xvdc");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "disk 1 '/dev/vg/web1,raw,xvda,rw': the spec "
			    "says vdev 'xvda', the definition 'xvdc'");
	libxl_domain_config_dispose(&dc);

	pv_config(&c);
	strcpy(c.disks[0].target, "/dev/vg/other");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "disk 1 '/dev/vg/web1,raw,xvda,rw': the spec "
			    "says target '/dev/vg/web1', the definition "
			    "'/dev/vg/other'");
	libxl_domain_config_dispose(&dc);
}

static void
test_vif_disagrees(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	strcpy(c.vifs[1].bridge, "xenbr9");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "vif 2 'bridge=xenbr1': the spec disagrees "
			    "with mac '' bridge 'xenbr9'");
	libxl_domain_config_dispose(&dc);

	pv_config(&c);
	strcpy(c.vifs[1].spec, "bridge=xenbr1,script=vif-nat");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "vif 2: vif 'bridge=xenbr1,script=vif-nat': "
			    "parameter 'script' is not supported by xenmesh's "
			    "xl driver; it would be dropped");
	libxl_domain_config_dispose(&dc);
}

static void
test_hvm_bootloader_refused(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	c.type = VM_TYPE_HVM;
	strcpy(c.bootloader, "pygrub");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "bootloader: only pv and pvh guests use one "
			    "(an hvm guest boots its firmware)");
	libxl_domain_config_dispose(&dc);
}

static void
test_pv_needs_kernel(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	c.kernel[0] = '\0';
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "a pv guest needs a kernel or a bootloader");
	libxl_domain_config_dispose(&dc);

	c.type = VM_TYPE_PVH;
	assert_int_equal(map(&c, &dc, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "a pvh guest needs a kernel or a bootloader");
	libxl_domain_config_dispose(&dc);
}

static void
test_action_out_of_range(void **state)
{
	libxl_action_on_shutdown a = 0;

	assert_int_equal(xlmap_action((enum vm_action)0, &a), -EINVAL);
	assert_int_equal(xlmap_action((enum vm_action)99, &a), -EINVAL);
	assert_int_equal(a, 0);
}

/* ---- happy paths -------------------------------------------------------- */

static void
test_pv_two_disks_two_vifs(void **state)
{
	static const uint8_t uuid[16] = {
		0x5f, 0x2b, 0x1a, 0x3c, 0x9d, 0x4e, 0x4b, 0x6a,
		0x8c, 0x7d, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d,
	};
	static const libxl_mac mac0 = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
	static const libxl_mac zero;
	libxl_domain_config dc;
	libxl_domain_build_info *b = &dc.b_info;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_string_equal(why, "");

	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_string_equal(dc.c_info.name, "web1");
	assert_memory_equal(libxl_uuid_bytearray(&dc.c_info.uuid), uuid, 16);

	assert_int_equal(b->type, LIBXL_DOMAIN_TYPE_PV);
	assert_int_equal(b->target_memkb, 1024 * 1024);
	assert_int_equal(b->max_memkb, 2048 * 1024);
	assert_int_equal(b->max_vcpus, 4);
	assert_int_equal(b->avail_vcpus.size, 1);
	assert_true(libxl_bitmap_test(&b->avail_vcpus, 0));
	assert_true(libxl_bitmap_test(&b->avail_vcpus, 1));
	assert_false(libxl_bitmap_test(&b->avail_vcpus, 2));
	assert_false(libxl_bitmap_test(&b->avail_vcpus, 3));
	assert_string_equal(b->kernel, "/boot/vmlinuz-6.1");
	assert_string_equal(b->ramdisk, "/boot/initrd.img-6.1");
	assert_string_equal(b->cmdline, "root=/dev/xvda1 ro console=hvc0");
	assert_null(b->bootloader);

	assert_int_equal(dc.num_disks, 2);
	assert_string_equal(dc.disks[0].pdev_path, "/dev/vg/web1");
	assert_string_equal(dc.disks[0].vdev, "xvda");
	assert_int_equal(dc.disks[0].format, LIBXL_DISK_FORMAT_RAW);
	assert_int_equal(dc.disks[0].readwrite, 1);
	assert_string_equal(dc.disks[1].pdev_path, "/srv/data.qcow2");
	assert_string_equal(dc.disks[1].vdev, "xvdb");
	assert_int_equal(dc.disks[1].format, LIBXL_DISK_FORMAT_QCOW2);
	assert_int_equal(dc.disks[1].readwrite, 0);

	assert_int_equal(dc.num_nics, 2);
	assert_int_equal(dc.nics[0].devid, 0);
	assert_memory_equal(dc.nics[0].mac, mac0, 6);
	assert_string_equal(dc.nics[0].bridge, "xenbr0");
	assert_int_equal(dc.nics[1].devid, 1);
	assert_memory_equal(dc.nics[1].mac, zero, 6);     /* libxl picks */
	assert_string_equal(dc.nics[1].bridge, "xenbr1");

	assert_int_equal(dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
	assert_int_equal(dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_watchdog, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_soft_reset, LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET);
	libxl_domain_config_dispose(&dc);
}

static void
test_hvm(void **state)
{
	libxl_domain_config dc;
	libxl_domain_build_info *b = &dc.b_info;
	struct vm_config c;
	char why[256];

	vm_config_init(&c);
	strcpy(c.name, "win1");
	c.type = VM_TYPE_HVM;
	c.memory_mb = 4096;
	c.maxmem_mb = 4096;
	c.vcpus = 8;
	c.maxvcpus = 8;
	add_disk(&c, "/dev/vg/win1,raw,hda,w", "/dev/vg/win1", "hda", "raw",
		 false);
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);

	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
	assert_int_equal(b->type, LIBXL_DOMAIN_TYPE_HVM);
	assert_string_equal(dc.c_info.name, "win1");
	assert_int_equal(b->target_memkb, 4194304);
	assert_int_equal(b->max_memkb, 4194304);
	assert_int_equal(b->max_vcpus, 8);
	assert_int_equal(b->avail_vcpus.size, 1);
	assert_true(libxl_bitmap_is_full(&b->avail_vcpus));
	assert_null(b->kernel);
	assert_null(b->ramdisk);
	assert_null(b->cmdline);
	assert_null(b->bootloader);
	assert_int_equal(dc.num_disks, 1);
	assert_string_equal(dc.disks[0].vdev, "hda");
	assert_int_equal(dc.num_nics, 0);
	assert_null(dc.nics);
	libxl_domain_config_dispose(&dc);
}

static void
test_pv_bootloader(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	c.kernel[0] = c.ramdisk[0] = c.root[0] = c.extra[0] = '\0';
	strcpy(c.bootloader, "pygrub");
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_string_equal(dc.b_info.bootloader, "pygrub");
	assert_null(dc.b_info.kernel);
	assert_null(dc.b_info.ramdisk);
	assert_null(dc.b_info.cmdline);
	libxl_domain_config_dispose(&dc);

	/* PVH boots through a bootloader too (top-level b_info field). */
	c.type = VM_TYPE_PVH;
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PVH);
	assert_int_equal(dc.b_info.type, LIBXL_DOMAIN_TYPE_PVH);
	assert_string_equal(dc.b_info.bootloader, "pygrub");
	libxl_domain_config_dispose(&dc);
}

static void
test_cmdline_as_xl(void **state)
{
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	c.extra[0] = '\0';
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_string_equal(dc.b_info.cmdline, "root=/dev/xvda1 ro");
	libxl_domain_config_dispose(&dc);

	pv_config(&c);
	c.root[0] = '\0';
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_string_equal(dc.b_info.cmdline, "console=hvc0");
	libxl_domain_config_dispose(&dc);
}

static void
test_uuid_generated_when_absent(void **state)
{
	libxl_domain_config a, b;
	struct vm_config c;
	char why[256];

	pv_config(&c);
	c.uuid[0] = '\0';
	assert_int_equal(map(&c, &a, why, sizeof(why)), 0);
	assert_int_equal(map(&c, &b, why, sizeof(why)), 0);
	assert_false(libxl_uuid_is_nil(&a.c_info.uuid));
	assert_false(libxl_uuid_is_nil(&b.c_info.uuid));
	assert_int_not_equal(libxl_uuid_compare(&a.c_info.uuid,
						&b.c_info.uuid), 0);
	libxl_domain_config_dispose(&a);
	libxl_domain_config_dispose(&b);
}

static void
test_actions(void **state)
{
	static const struct {
		enum vm_action ours;
		libxl_action_on_shutdown libxl;
	} t[] = {
		{ VM_ACTION_DESTROY, LIBXL_ACTION_ON_SHUTDOWN_DESTROY },
		{ VM_ACTION_RESTART, LIBXL_ACTION_ON_SHUTDOWN_RESTART },
		{ VM_ACTION_RENAME_RESTART, LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME },
		{ VM_ACTION_PRESERVE, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE },
		{ VM_ACTION_COREDUMP_DESTROY,
		  LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY },
		{ VM_ACTION_COREDUMP_RESTART,
		  LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART },
		{ VM_ACTION_SOFT_RESET, LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET },
	};
	libxl_domain_config dc;
	struct vm_config c;
	char why[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		libxl_action_on_shutdown a = 0;

		assert_int_equal(xlmap_action(t[i].ours, &a), 0);
		assert_int_equal(a, t[i].libxl);
	}
	pv_config(&c);
	c.on_poweroff = VM_ACTION_PRESERVE;
	c.on_reboot = VM_ACTION_RENAME_RESTART;
	c.on_crash = VM_ACTION_COREDUMP_RESTART;
	assert_int_equal(map(&c, &dc, why, sizeof(why)), 0);
	assert_int_equal(dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	assert_int_equal(dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME);
	assert_int_equal(dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART);
	libxl_domain_config_dispose(&dc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_config),
		cmocka_unit_test(test_invalid_struct),
		cmocka_unit_test(test_disk_spec_refused),
		cmocka_unit_test(test_disk_spec_without_vdev),
		cmocka_unit_test(test_disk_spec_disagrees),
		cmocka_unit_test(test_disk_san_resolved),
		cmocka_unit_test(test_vif_disagrees),
		cmocka_unit_test(test_hvm_bootloader_refused),
		cmocka_unit_test(test_pv_needs_kernel),
		cmocka_unit_test(test_action_out_of_range),
		cmocka_unit_test(test_pv_two_disks_two_vifs),
		cmocka_unit_test(test_hvm),
		cmocka_unit_test(test_pv_bootloader),
		cmocka_unit_test(test_cmdline_as_xl),
		cmocka_unit_test(test_uuid_generated_when_absent),
		cmocka_unit_test(test_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
