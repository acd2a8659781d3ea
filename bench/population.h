/* The cluster the scale benchmarks measure: hosts with differing memory
 * and a realistic mix of VMs (memory sizes, priorities, anti-affinity
 * groups, preferred hosts, start order, SAN volumes), the same for the
 * same index on every run and machine, and each VM's xl.cfg text.
 *
 * VM i is, by i % 20:
 *   0-1   db-NNNNN     prio 100, 8/16/32 GiB, 4-8 vCPUs, anti-affinity
 *                      group of 6 (db-G), root + 200 GiB data volume
 *   2-6   app-NNNNN    prio 50, 2/4 GiB, root + 50 GiB data volume; the
 *                      first of each 20 starts after its block's db
 *   7-12  web-NNNNN    prio 10, 1/2 GiB; three of each 20 in an
 *                      anti-affinity group of 15 (web-G)
 *   13-18 batch-NNNNN  prio 0, 0.5-8 GiB, ha_restart on-failure
 *   19    lic-NNNNN    prio 60, 4 GiB, ha_hosts: two hosts (licence-bound)
 * and 1 in 20 is stopped by its admin.  Host i gives VMs 512, 768, 768 or
 * 1024 GiB less a few GiB already taken, by i % 4.
 */
#ifndef XM_BENCH_POPULATION_H
#define XM_BENCH_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmconf.h"

struct bench_host {
	uint32_t id;                    /* i + 1 */
	char name[VM_NAME_MAX];         /* "h1".. (as the rig names them) */
	uint64_t mem_mb;                /* what it can give VMs */
};

#define BENCH_VM_DISKS 2

struct bench_vm {
	char name[VM_NAME_MAX];
	const char *kind;               /* "db", "app", "web", "batch", "lic" */
	uint64_t memory_mb;
	uint32_t vcpus;
	struct vm_ha ha;                /* as the xl.cfg text says */
	uint32_t group_key;             /* 0 none, else 1..bench_group_keys() */
	bool want_running;
	uint32_t n_disks;
	const char *disk[BENCH_VM_DISKS];       /* "root", "data" */
	uint64_t disk_bytes[BENCH_VM_DISKS];
};

void bench_host_make(size_t i, struct bench_host *h);
/* VM i of a population of n_vms on n_hosts hosts. */
void bench_vm_make(size_t i, size_t n_vms, size_t n_hosts, struct bench_vm *v);
/* Bound (exclusive) of group_key for a population of n_vms. */
uint32_t bench_group_keys(size_t n_vms);
/* v's xl.cfg: disks on SAN volumes (disk_dir NULL) or image files in
 * disk_dir.  Its length, or -ENOSPC when len is too small. */
int bench_vm_xlcfg(const struct bench_vm *v, const char *disk_dir, char *buf,
		   size_t len);

#endif
