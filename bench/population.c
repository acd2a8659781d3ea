/* The benchmarks' cluster: hosts and VMs made from their index; see
 * population.h for the mix. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "benchutil.h"
#include "population.h"

#define GIB 1024ULL

void
bench_host_make(size_t i, struct bench_host *h)
{
	static const uint64_t size_gib[4] = { 512, 768, 768, 1024 };

	memset(h, 0, sizeof(*h));
	h->id = (uint32_t)i + 1;
	(void)snprintf(h->name, sizeof(h->name), "h%zu", i + 1);
	/* dom0 reserve and non-HA guests: 8..71 GiB, differing per host */
	h->mem_mb = (size_gib[i % 4] - 8 - (i * 37) % 64) * GIB;
}

uint32_t
bench_group_keys(size_t n_vms)
{
	return (uint32_t)(1 + n_vms / 60 + 1 + n_vms / 100 + 1);
}

/* A fixed pseudo-random number for VM i (its sizes, whether it runs). */
static uint64_t
vm_hash(size_t i, uint64_t salt)
{
	uint64_t st = (uint64_t)i * 0x100000001b3ULL + salt;

	return bench_rand(&st);
}

static void
ha_defaults(struct vm_ha *ha)
{
	memset(ha, 0, sizeof(*ha));
	ha->restart = VM_RESTART_ALWAYS;
	ha->max_restarts = 3;
	ha->restart_window_s = 600;
}

void
bench_vm_make(size_t i, size_t n_vms, size_t n_hosts, struct bench_vm *v)
{
	static const uint64_t db_gib[3] = { 8, 16, 32 };
	static const uint64_t batch_mb[5] = { 512, 1024, 2048, 4096, 8192 };
	uint64_t h = vm_hash(i, 1);
	size_t slot = i % 20, block = i - slot;

	memset(v, 0, sizeof(*v));
	ha_defaults(&v->ha);
	v->want_running = vm_hash(i, 2) % 20 != 0;
	v->n_disks = 1;
	v->disk[0] = "root";
	v->disk_bytes[0] = 20ULL << 30;
	if (slot < 2) {
		v->kind = "db";
		v->memory_mb = db_gib[h % 3] * GIB;
		v->vcpus = 4 + (uint32_t)(h % 5);
		v->ha.priority = 100;
		v->group_key = (uint32_t)(1 + i / 60);
		(void)snprintf(v->ha.anti_affinity, sizeof(v->ha.anti_affinity),
			       "db-%zu", i / 60);
		v->n_disks = 2;
		v->disk[1] = "data";
		v->disk_bytes[1] = 200ULL << 30;
	} else if (slot < 7) {
		v->kind = "app";
		v->memory_mb = (h % 2 + 1) * 2 * GIB;
		v->vcpus = 2;
		v->ha.priority = 50;
		if (slot == 2) {
			v->ha.n_after = 1;
			(void)snprintf(v->ha.after[0], VM_NAME_MAX, "db-%05zu",
				       block);
		}
		v->n_disks = 2;
		v->disk[1] = "data";
		v->disk_bytes[1] = 50ULL << 30;
	} else if (slot < 13) {
		v->kind = "web";
		v->memory_mb = (h % 2 + 1) * GIB;
		v->vcpus = 2;
		v->ha.priority = 10;
		if (slot < 10) {
			v->group_key = (uint32_t)(1 + n_vms / 60 + 1 + i / 100);
			(void)snprintf(v->ha.anti_affinity,
				       sizeof(v->ha.anti_affinity), "web-%zu",
				       i / 100);
		}
	} else if (slot < 19) {
		v->kind = "batch";
		v->memory_mb = batch_mb[h % 5];
		v->vcpus = 1 + (uint32_t)(h % 4);
		v->ha.restart = VM_RESTART_ON_FAILURE;
		v->ha.max_restarts = 5;
	} else {
		v->kind = "lic";
		v->memory_mb = 4 * GIB;
		v->vcpus = 2;
		v->ha.priority = 60;
		if (n_hosts > 0) {
			v->ha.n_hosts = n_hosts > 1 ? 2 : 1;
			(void)snprintf(v->ha.hosts[0], VM_NAME_MAX, "h%zu",
				       (i / 20) % n_hosts + 1);
			if (n_hosts > 1)
				(void)snprintf(v->ha.hosts[1], VM_NAME_MAX,
					       "h%zu", (i / 20 + 1) % n_hosts + 1);
		}
	}
	(void)snprintf(v->name, sizeof(v->name), "%s-%05zu", v->kind, i);
}

/* Appends to buf at *off; false once it does not fit. */
static bool
put(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool
put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off) {
		*off = len;
		return false;
	}
	*off += (size_t)n;
	return true;
}

static const char *const disk_vdev[BENCH_VM_DISKS] = { "xvda", "xvdb" };

int
bench_vm_xlcfg(const struct bench_vm *v, const char *disk_dir, char *buf,
	       size_t len)
{
	uint64_t u1 = vm_hash(0, (uint64_t)v->memory_mb) ^ vm_hash(strlen(v->name), 7);
	uint64_t u2 = 0;
	size_t off = 0, k;

	for (k = 0; v->name[k] != '\0'; k++)
		u2 = u2 * 131 + (unsigned char)v->name[k];
	u1 ^= u2;
	(void)put(buf, len, &off, "# %s: %s tier, managed by xenmesh\n",
		  v->name, v->kind);
	(void)put(buf, len, &off, "name = \"%s\"\ntype = \"pvh\"\n", v->name);
	(void)put(buf, len, &off, "uuid = \"%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32
		  "-8%03" PRIx32 "-%012" PRIx64 "\"\n", (uint32_t)(u1 >> 32),
		  (uint32_t)(u1 >> 16) & 0xffff, (uint32_t)u1 & 0xfff,
		  (uint32_t)(u2 >> 20) & 0xfff, (uint64_t)(u2 & 0xffffffffffffULL));
	(void)put(buf, len, &off, "memory = %" PRIu64 "\nvcpus = %" PRIu32 "\n",
		  v->memory_mb, v->vcpus);
	(void)put(buf, len, &off,
		  "kernel = \"/var/lib/xen/boot/vmlinuz-6.1.0-28-amd64\"\n"
		  "ramdisk = \"/var/lib/xen/boot/initrd.img-6.1.0-28-amd64\"\n"
		  "extra = \"console=hvc0 root=/dev/xvda1 ro quiet\"\n");
	(void)put(buf, len, &off, "disk = [ ");
	for (k = 0; k < v->n_disks; k++) {
		if (disk_dir == NULL)
			(void)put(buf, len, &off, "%s'vdev=%s, access=rw, "
				  "target=xenmesh:%s'", k ? ", " : "",
				  disk_vdev[k], v->disk[k]);
		else
			(void)put(buf, len, &off, "%s'file:%s/%s-%s.img,%s,w'",
				  k ? ", " : "", disk_dir, v->name, v->disk[k],
				  disk_vdev[k]);
	}
	(void)put(buf, len, &off, " ]\n");
	(void)put(buf, len, &off, "vif = [ 'mac=00:16:3e:%02x:%02x:%02x, "
		  "bridge=xenbr0' ]\n", (unsigned)(u2 >> 16) & 0x7f,
		  (unsigned)(u2 >> 8) & 0xff, (unsigned)u2 & 0xff);
	(void)put(buf, len, &off, "on_crash = \"restart\"\n");
	if (v->ha.priority != 0)
		(void)put(buf, len, &off, "ha_priority = %" PRIu32 "\n",
			  v->ha.priority);
	if (v->ha.restart == VM_RESTART_ON_FAILURE)
		(void)put(buf, len, &off, "ha_restart = \"on-failure\"\n"
			  "ha_max_restarts = %" PRIu32 "\n", v->ha.max_restarts);
	if (v->ha.anti_affinity[0] != '\0')
		(void)put(buf, len, &off, "ha_anti_affinity = \"%s\"\n",
			  v->ha.anti_affinity);
	for (k = 0; k < v->ha.n_after; k++)
		(void)put(buf, len, &off, "%s\"%s\"%s", k ? ", " :
			  "ha_start_after = [ ", v->ha.after[k],
			  k + 1 == v->ha.n_after ? " ]\n" : "");
	for (k = 0; k < v->ha.n_hosts; k++)
		(void)put(buf, len, &off, "%s\"%s\"%s", k ? ", " :
			  "ha_hosts = [ ", v->ha.hosts[k],
			  k + 1 == v->ha.n_hosts ? " ]\n" : "");
	if (off >= len)
		return -ENOSPC;
	return (int)off;
}
