/* The benchmarks' cluster as a replicated state; see cluster.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "cluster.h"
#include "population.h"
#include "vmtable.h"
#include "voltable.h"
#include "xlcfg.h"

#define SAN_MEM_MB (128 * 1024)

int
bench_commit(struct state *st, const Xenmesh__Op *op, char *why, size_t whylen)
{
	return state_apply(st, st->epoch ? st->epoch : 1, st->seq + 1, op, why,
			   whylen);
}

static int
add_node(struct state *st, uint32_t id, const char *name, enum node_role role,
	 uint64_t mem_mb, char *why, size_t whylen)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	char peer[32];

	ni.id = id;
	ni.name = (char *)name;
	ni.role = (Xenmesh__NodeRole)role;
	ni.mem_total_mb = mem_mb;
	ni.mem_free_mb = mem_mb;
	ni.has_watchdog_s = true;
	ni.watchdog_s = 10;
	ni.cpu = "GenuineIntel-6";
	(void)snprintf(peer, sizeof(peer), "10.77.2.%" PRIu32 ":7420", id);
	ni.peer_addr = peer;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	return bench_commit(st, &op, why, whylen);
}

/* Where VM v runs: its first preferred host that fits, else the host with
 * the most free memory, never next to a VM of its anti-affinity group;
 * 0 when none fits. */
static uint32_t
pick_host(const struct bench_vm *v, size_t nh, uint64_t *free_mb,
	  bool *group_on, size_t group_stride)
{
	size_t k, best = nh;

	for (uint32_t p = 0; p < v->ha.n_hosts && best == nh; p++) {
		k = strtoul(v->ha.hosts[p] + 1, NULL, 10) - 1;
		if (k < nh && free_mb[k] >= v->memory_mb &&
		    !(v->group_key && group_on[v->group_key * group_stride + k]))
			best = k;
	}
	if (best == nh)
		for (k = 0; k < nh; k++) {
			if (free_mb[k] < v->memory_mb ||
			    (v->group_key && group_on[v->group_key * group_stride + k]))
				continue;
			if (best == nh || free_mb[k] > free_mb[best])
				best = k;
		}
	if (best == nh)
		return 0;
	free_mb[best] -= v->memory_mb;
	if (v->group_key)
		group_on[v->group_key * group_stride + best] = true;
	return (uint32_t)best + 1;
}

struct order {
	size_t i;
	char name[VM_NAME_MAX];
};

static int
cmp_order(const void *a, const void *b)
{
	return strcmp(((const struct order *)a)->name,
		      ((const struct order *)b)->name);
}

static int
cmp_vol(const void *a, const void *b)
{
	return strcmp(((const struct vol_rec *)a)->name,
		      ((const struct vol_rec *)b)->name);
}

/* The VM's define, want and (when it runs) set ops. */
static int
add_vm(struct state *st, const struct bench_vm *bv, uint32_t host,
       struct vm_config *conf, struct bench_fill *f, char *why, size_t whylen)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__OpVmWant want = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__OpVmSet set = XENMESH__OP_VM_SET__INIT;
	Xenmesh__OpVmStorage sto = XENMESH__OP_VM_STORAGE__INIT;
	Xenmesh__VmHa ha;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER], restart[16];
	char text[2048], err[256] = "";
	double t0;
	int len, rc;

	len = bench_vm_xlcfg(bv, NULL, text, sizeof(text));
	if (len < 0) {
		(void)snprintf(why, whylen, "xl.cfg of %s too long", bv->name);
		return len;
	}
	f->config_bytes += (size_t)len;
	t0 = bench_now_ms();
	rc = xlcfg_parse(text, (size_t)len, bv->name, conf, err, sizeof(err));
	f->parse_ms += bench_now_ms() - t0;
	if (rc < 0) {
		(void)snprintf(why, whylen, "%s", err);
		return rc;
	}
	/* as agent/ctl_vm.c vm_define does */
	d.name = conf->name;
	d.config = text;
	d.memory_mb = conf->memory_mb;
	vm_ha_to_pb(&conf->ha, &ha, hosts, after, restart, sizeof(restart));
	d.ha = &ha;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	t0 = bench_now_ms();
	rc = bench_commit(st, &op, why, whylen);
	f->n_ops++;
	if (rc == 0 && host != 0) {
		want.name = conf->name;
		want.running = true;
		op.kind_case = XENMESH__OP__KIND_VM_WANT;
		op.vm_want = &want;
		rc = bench_commit(st, &op, why, whylen);
		f->n_ops++;
	}
	if (rc == 0 && host != 0) {
		set.name = conf->name;
		set.state = "running";
		set.has_host = true;
		set.host = host;
		set.has_generation = true;
		set.generation = 1;
		op.kind_case = XENMESH__OP__KIND_VM_SET;
		op.vm_set = &set;
		rc = bench_commit(st, &op, why, whylen);
		f->n_ops++;
	}
	if (rc == 0 && host != 0 && bv->n_disks > 0 && st->active_san != 0) {
		sto.name = conf->name;
		sto.generation = 1;
		op.kind_case = XENMESH__OP__KIND_VM_STORAGE;
		op.vm_storage = &sto;
		rc = bench_commit(st, &op, why, whylen);
		f->n_ops++;
	}
	f->apply_ms += bench_now_ms() - t0;
	return rc;
}

/* The volume table, written directly (see cluster.h). */
static int
fill_volumes(struct state *st, const struct bench_vm *vms, size_t n,
	     char *why, size_t whylen)
{
	size_t nvol = 0, i, k;
	struct vol_rec *vols;

	for (i = 0; i < n; i++)
		nvol += vms[i].n_disks;
	vols = calloc(nvol + 1, sizeof(*vols));
	if (vols == NULL)
		return -ENOMEM;
	nvol = 0;
	for (i = 0; i < n; i++)
		for (k = 0; k < vms[i].n_disks; k++) {
			struct vol_rec *v = &vols[nvol++];

			(void)vol_name_make(v->name, sizeof(v->name), vms[i].name,
					    vms[i].disk[k], why, whylen);
			(void)snprintf(v->vm, sizeof(v->vm), "%s", vms[i].name);
			(void)snprintf(v->disk, sizeof(v->disk), "%s", vms[i].disk[k]);
			v->size_bytes = vms[i].disk_bytes[k];
			v->lun = (uint32_t)k + 1;
			v->state = VOL_STATE_READY;
		}
	qsort(vols, nvol, sizeof(*vols), cmp_vol);
	for (i = 0; i < nvol; i++)
		vols[i].minor = (uint32_t)i;
	free(st->vols);
	st->vols = vols;
	st->n_vols = nvol;
	st->vols_cap = nvol + 1;
	return 0;
}

int
bench_cluster_fill(struct state *st, const struct bench_cluster *c,
		   struct bench_fill *f, char *why, size_t whylen)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpSanActive sa = XENMESH__OP_SAN_ACTIVE__INIT;
	struct bench_vm *vms = NULL;
	struct order *ord = NULL;
	struct vm_config *conf = NULL;
	uint64_t *free_mb = NULL;
	uint32_t *host = NULL;
	bool *group_on = NULL;
	struct bench_host bh;
	double t0 = bench_now_ms();
	size_t i, ngk = bench_group_keys(c->n_vms);
	char name[VM_NAME_MAX];
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (c->n_hosts + c->n_sans > STATE_MAX_NODES ||
	    (c->volumes && c->n_sans == 0)) {
		(void)snprintf(why, whylen, "%zu hosts and %zu SAN nodes: the "
			       "state holds at most %d nodes, and volumes need "
			       "a SAN node", c->n_hosts, c->n_sans, STATE_MAX_NODES);
		return -EINVAL;
	}
	vms = calloc(c->n_vms + 1, sizeof(*vms));
	ord = calloc(c->n_vms + 1, sizeof(*ord));
	conf = malloc(sizeof(*conf));
	free_mb = calloc(c->n_hosts + 1, sizeof(*free_mb));
	host = calloc(c->n_vms + 1, sizeof(*host));
	group_on = calloc((size_t)ngk * (c->n_hosts + 1), sizeof(*group_on));
	if (vms == NULL || ord == NULL || conf == NULL || free_mb == NULL ||
	    host == NULL || group_on == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < c->n_hosts && rc == 0; i++) {
		bench_host_make(i, &bh);
		free_mb[i] = bh.mem_mb;
		rc = add_node(st, bh.id, bh.name, NODE_ROLE_DOM0, bh.mem_mb, why,
			      whylen);
	}
	for (i = 0; i < c->n_sans && rc == 0; i++) {
		(void)snprintf(name, sizeof(name), "s%zu", i + 1);
		rc = add_node(st, 101 + (uint32_t)i, name, NODE_ROLE_SAN,
			      SAN_MEM_MB, why, whylen);
	}
	if (rc == 0 && c->n_sans > 0 && c->volumes) {
		sa.id = 101;
		op.kind_case = XENMESH__OP__KIND_SAN_ACTIVE;
		op.san_active = &sa;
		rc = bench_commit(st, &op, why, whylen);
	}
	if (rc < 0)
		goto out_free;

	/* where each runs: in index order (priorities are mixed through it) */
	for (i = 0; i < c->n_vms; i++) {
		bench_vm_make(i, c->n_vms, c->n_hosts, &vms[i]);
		if (!c->volumes)
			vms[i].n_disks = 0;
		if (vms[i].want_running)
			host[i] = pick_host(&vms[i], c->n_hosts, free_mb, group_on,
					    c->n_hosts + 1);
		if (host[i] != 0)
			f->n_running++;
		else
			f->n_stopped++;
		ord[i].i = i;
		memcpy(ord[i].name, vms[i].name, sizeof(ord[i].name));
	}
	/* defined in name order: each define appends to the sorted table
	 * (snapshot.c times one that does not) */
	qsort(ord, c->n_vms, sizeof(*ord), cmp_order);
	for (i = 0; i < c->n_vms && rc == 0; i++)
		rc = add_vm(st, &vms[ord[i].i], host[ord[i].i], conf, f, why,
			    whylen);
	if (rc == 0 && c->volumes)
		rc = fill_volumes(st, vms, c->n_vms, why, whylen);
	if (rc == 0)
		f->n_vols = st->n_vols;
out_free:
	f->total_ms = bench_now_ms() - t0;
	free(group_on);
	free(host);
	free(free_mb);
	free(conf);
	free(ord);
	free(vms);
	return rc;
}
