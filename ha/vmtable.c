/* The VM table: rules of the VM ops and the VM records' encoding.
 *
 * Pure: no I/O, no logging.  Refusals come back as a negative errno with
 * one sentence in `why`.  The table is kept sorted by name so that the
 * packed state, and hence its digest, is the same on every member.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmmac.h"
#include "voltable.h"
#include "vmtable.h"
#include "xm_error.h"

#define VM_CONFIG_MAX (256 * 1024)

static const char *const vm_state_names[] = {
	[VM_STATE_STOPPED] = "stopped",
	[VM_STATE_STARTING] = "starting",
	[VM_STATE_RUNNING] = "running",
	[VM_STATE_STOPPING] = "stopping",
	[VM_STATE_MIGRATING] = "migrating",
	[VM_STATE_RECOVERING] = "recovering",
	[VM_STATE_FAILED] = "failed",
	[VM_STATE_UNPLACEABLE] = "unplaceable",
};

const char *
vm_state_name(enum vm_state st)
{
	if (st < VM_STATE_STOPPED || st > VM_STATE_UNPLACEABLE)
		return "invalid";
	return vm_state_names[st];
}

int
vm_state_parse(const char *name, enum vm_state *st)
{
	for (int i = VM_STATE_STOPPED; i <= VM_STATE_UNPLACEABLE; i++) {
		if (name != NULL && strcmp(name, vm_state_names[i]) == 0) {
			*st = (enum vm_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Same rule as xlcfg's: names are typed on command lines and shown. */
static bool
vm_name_ok(const char *name)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len == 0 || len >= VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static size_t
vm_index(const struct state *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->n_vms;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->vms[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct vm_rec *
state_vm(const struct state *s, const char *name)
{
	bool found;
	size_t i;

	if (s == NULL || name == NULL || s->n_vms == 0)
		return NULL;
	i = vm_index(s, name, &found);
	return found ? &s->vms[i] : NULL;
}

bool
vmtable_op_kind(const Xenmesh__Op *op)
{
	switch (op->kind_case) {
	case XENMESH__OP__KIND_VM_DEFINE:
	case XENMESH__OP__KIND_VM_UNDEFINE:
	case XENMESH__OP__KIND_VM_WANT:
	case XENMESH__OP__KIND_VM_SET:
	case XENMESH__OP__KIND_VM_CLEANUP:
		return true;
	default:
		return false;
	}
}

/* ---- HA settings ------------------------------------------------------- */

void
vm_ha_to_pb(const struct vm_ha *ha, Xenmesh__VmHa *pb, char **hosts,
	    char **after, char *restart, size_t restart_len)
{
	xenmesh__vm_ha__init(pb);
	pb->priority = ha->priority;
	snprintf(restart, restart_len, "%s", vm_restart_name(ha->restart));
	pb->restart = restart;
	pb->max_restarts = ha->max_restarts;
	pb->restart_window_s = ha->restart_window_s;
	for (uint32_t i = 0; i < ha->n_hosts && i < VM_MAX_HOSTS; i++)
		hosts[i] = (char *)ha->hosts[i];
	pb->n_hosts = ha->n_hosts;
	pb->hosts = hosts;
	if (ha->anti_affinity[0] != '\0')
		pb->anti_affinity = (char *)ha->anti_affinity;
	for (uint32_t i = 0; i < ha->n_after && i < VM_MAX_AFTER; i++)
		after[i] = (char *)ha->after[i];
	pb->n_start_after = ha->n_after;
	pb->start_after = after;
}

static int
copy_name(char *dst, size_t dstlen, const char *src, const char *what,
	  char *why, size_t whylen)
{
	if (src == NULL || strlen(src) >= dstlen || src[0] == '\0') {
		xm_why(why, whylen, "%s is empty or longer than %zu", what,
			dstlen - 1);
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int
vm_ha_from_pb(const Xenmesh__VmHa *pb, struct vm_ha *ha, char *why,
	      size_t whylen)
{
	memset(ha, 0, sizeof(*ha));
	if (pb == NULL) {
		xm_why(why, whylen, "HA settings missing");
		return -EINVAL;
	}
	if (vm_restart_parse(pb->restart, &ha->restart) < 0) {
		xm_why(why, whylen, "ha_restart '%s' is not always, on-failure "
			"or never", pb->restart ? pb->restart : "");
		return -EINVAL;
	}
	if (pb->n_hosts > VM_MAX_HOSTS || pb->n_start_after > VM_MAX_AFTER) {
		xm_why(why, whylen, "too many ha_hosts or ha_start_after entries");
		return -EINVAL;
	}
	ha->priority = pb->priority;
	ha->max_restarts = pb->max_restarts;
	ha->restart_window_s = pb->restart_window_s;
	ha->n_hosts = (uint32_t)pb->n_hosts;
	for (size_t i = 0; i < pb->n_hosts; i++)
		if (copy_name(ha->hosts[i], sizeof(ha->hosts[i]), pb->hosts[i],
			      "ha_hosts entry", why, whylen) < 0)
			return -EINVAL;
	if (pb->anti_affinity != NULL && pb->anti_affinity[0] != '\0' &&
	    copy_name(ha->anti_affinity, sizeof(ha->anti_affinity),
		      pb->anti_affinity, "ha_anti_affinity", why, whylen) < 0)
		return -EINVAL;
	ha->n_after = (uint32_t)pb->n_start_after;
	for (size_t i = 0; i < pb->n_start_after; i++)
		if (copy_name(ha->after[i], sizeof(ha->after[i]), pb->start_after[i],
			      "ha_start_after entry", why, whylen) < 0)
			return -EINVAL;
	return 0;
}

/* ---- records -------------------------------------------------------------- */

void
vm_rec_free(struct vm_rec *v)
{
	if (v == NULL)
		return;
	free(v->config);
	v->config = NULL;
	v->n_macs = 0;
}

int
vm_rec_copy(struct vm_rec *dst, const struct vm_rec *src)
{
	char *cfg = NULL;

	if (src->config != NULL) {
		cfg = strdup(src->config);
		if (cfg == NULL)
			return -ENOMEM;
	}
	*dst = *src;            /* macs too: derived from the same text */
	dst->config = cfg;
	return 0;
}

void
vmtable_pack_one(const struct vm_rec *v, struct vm_pack *p)
{
	Xenmesh__Vm *m = &p->vm;

	xenmesh__vm__init(m);
	m->name = (char *)v->name;
	p->state = (char *)vm_state_name(v->state);
	m->state = p->state;
	/* zero means none: leave optional fields out, so the bytes (and
	 * the digest) do not depend on how a default was written */
	m->has_host = v->host != 0;
	m->host = v->host;
	m->has_generation = v->generation != 0;
	m->generation = v->generation;
	m->has_want_running = v->want_running;
	m->want_running = v->want_running;
	m->has_want_host = v->want_host != 0;
	m->want_host = v->want_host;
	m->has_avoid_host = v->avoid_host != 0;
	m->avoid_host = v->avoid_host;
	m->has_memory_mb = v->memory_mb != 0;
	m->memory_mb = v->memory_mb;
	if (v->config != NULL) {
		vm_ha_to_pb(&v->ha, &p->ha, p->hosts, p->after, p->restart,
			    sizeof(p->restart));
		m->ha = &p->ha;
		m->config = v->config;
	}
	m->n_restart_at_ms = v->restarts.n;
	m->restart_at_ms = (uint64_t *)v->restarts.at_ms;
	m->n_restart_host = v->restarts.n;
	m->restart_host = (uint32_t *)v->restarts.host;
	m->has_restarts_total = v->restarts_total != 0;
	m->restarts_total = v->restarts_total;
	m->has_storage_gen = v->storage_gen != 0;
	m->storage_gen = v->storage_gen;
	m->has_storage_dest = v->storage_dest != 0;
	m->storage_dest = v->storage_dest;
	m->has_migrate_to = v->migrate_to != 0;
	m->migrate_to = v->migrate_to;
	m->has_migrate_offline = v->migrate_offline;
	m->migrate_offline = v->migrate_offline;
	m->has_migrate_since_ms = v->migrate_since_ms != 0;
	m->migrate_since_ms = v->migrate_since_ms;
	m->has_drain_skip = v->drain_skip != 0;
	m->drain_skip = v->drain_skip;
	m->has_save_requested = v->save_requested;
	m->save_requested = v->save_requested;
	m->has_saved_gen = v->saved_gen != 0;
	m->saved_gen = v->saved_gen;
	m->has_saved_bytes = v->saved_gen != 0 && v->saved_bytes != 0;
	m->saved_bytes = v->saved_bytes;
	if (v->reason[0] != '\0')
		m->reason = (char *)v->reason;
}

int
vmtable_unpack_one(const Xenmesh__Vm *m, struct vm_rec *v, char *why,
		   size_t whylen)
{
	memset(v, 0, sizeof(*v));
	if (!vm_name_ok(m->name)) {
		xm_why(why, whylen, "VM name is empty, too long or has "
			"characters other than letters, digits, - _ .");
		return -EBADMSG;
	}
	memcpy(v->name, m->name, strlen(m->name) + 1);
	if (vm_state_parse(m->state, &v->state) < 0) {
		xm_why(why, whylen, "VM %s has unknown state '%.16s'", v->name,
			m->state);
		return -EBADMSG;
	}
	if (m->n_restart_at_ms != m->n_restart_host ||
	    m->n_restart_at_ms > RESTART_HISTORY_MAX) {
		xm_why(why, whylen, "VM %s has a malformed restart history",
			v->name);
		return -EBADMSG;
	}
	if (m->config != NULL && strlen(m->config) > VM_CONFIG_MAX) {
		xm_why(why, whylen, "VM %s config exceeds %d bytes", v->name,
			VM_CONFIG_MAX);
		return -EBADMSG;
	}
	if (m->reason != NULL && strlen(m->reason) >= sizeof(v->reason)) {
		xm_why(why, whylen, "VM %s reason too long", v->name);
		return -EBADMSG;
	}
	/* a defined VM carries both, an undefined record neither: anything
	 * else would not pack back to the same bytes (found by fuzzing) */
	if ((m->ha != NULL) != (m->config != NULL)) {
		xm_why(why, whylen, "VM %s has %s but no %s", v->name,
		       m->config != NULL ? "a config" : "HA settings",
		       m->config != NULL ? "HA settings" : "config");
		return -EBADMSG;
	}
	if (m->ha != NULL && vm_ha_from_pb(m->ha, &v->ha, why, whylen) < 0)
		return -EBADMSG;
	v->host = m->has_host ? m->host : 0;
	v->generation = m->has_generation ? m->generation : 0;
	v->want_running = m->has_want_running && m->want_running;
	v->want_host = m->has_want_host ? m->want_host : 0;
	v->avoid_host = m->has_avoid_host ? m->avoid_host : 0;
	v->memory_mb = m->has_memory_mb ? m->memory_mb : 0;
	v->restarts.n = (uint32_t)m->n_restart_at_ms;
	for (size_t i = 0; i < m->n_restart_at_ms; i++) {
		v->restarts.at_ms[i] = m->restart_at_ms[i];
		v->restarts.host[i] = m->restart_host[i];
	}
	v->restarts_total = m->has_restarts_total ? m->restarts_total : 0;
	v->storage_gen = m->has_storage_gen ? m->storage_gen : 0;
	if ((m->has_storage_dest && m->storage_dest == 0) ||
	    (m->has_migrate_to && m->migrate_to == 0) ||
	    (m->has_migrate_offline && !m->migrate_offline) ||
	    (m->has_migrate_since_ms && m->migrate_since_ms == 0) ||
	    (m->has_drain_skip && m->drain_skip == 0)) {
		/* zero is written as absent: it would not pack back the same */
		xm_why(why, whylen, "VM %s has a migration field present as zero",
			v->name);
		return -EBADMSG;
	}
	v->storage_dest = m->has_storage_dest ? m->storage_dest : 0;
	v->migrate_to = m->has_migrate_to ? m->migrate_to : 0;
	v->migrate_offline = m->has_migrate_offline && m->migrate_offline;
	v->migrate_since_ms = m->has_migrate_since_ms ? m->migrate_since_ms : 0;
	v->drain_skip = m->has_drain_skip ? m->drain_skip : 0;
	if ((m->has_save_requested && !m->save_requested) ||
	    (m->has_saved_gen && m->saved_gen == 0) ||
	    (m->has_saved_bytes && (m->saved_bytes == 0 || !m->has_saved_gen))) {
		xm_why(why, whylen, "VM %s has a save field present as zero",
			v->name);
		return -EBADMSG;
	}
	v->save_requested = m->has_save_requested && m->save_requested;
	v->saved_gen = m->has_saved_gen ? m->saved_gen : 0;
	v->saved_bytes = m->has_saved_bytes ? m->saved_bytes : 0;
	if (m->reason != NULL)
		memcpy(v->reason, m->reason, strlen(m->reason) + 1);
	if (m->config != NULL) {
		v->config = strdup(m->config);
		if (v->config == NULL)
			return -ENOMEM;
		vmmac_derive(v);
	}
	return 0;
}

/* ---- ops ------------------------------------------------------------------- */

static int
need_vm(const struct state *s, const char *name, const struct vm_rec **v,
	char *why, size_t whylen)
{
	*v = state_vm(s, name);
	if (*v == NULL) {
		xm_why(why, whylen, "no VM named %.64s", name ? name : "");
		return -ENOENT;
	}
	return 0;
}

static bool
vm_is_active(enum vm_state st)
{
	return st == VM_STATE_STARTING || st == VM_STATE_RUNNING ||
	       st == VM_STATE_STOPPING || st == VM_STATE_MIGRATING ||
	       st == VM_STATE_RECOVERING;
}

static int
validate_define(const struct state *s, const Xenmesh__OpVmDefine *d,
		char *why, size_t whylen)
{
	const struct vm_rec *old;
	struct vm_ha ha;
	int r;

	if (!vm_name_ok(d->name)) {
		xm_why(why, whylen, "VM name is empty, too long or has "
			"characters other than letters, digits, - _ .");
		return -EINVAL;
	}
	if (d->config == NULL || d->config[0] == '\0' ||
	    strlen(d->config) > VM_CONFIG_MAX) {
		xm_why(why, whylen, "VM %s: config empty or above %d bytes",
			d->name, VM_CONFIG_MAX);
		return -EINVAL;
	}
	if (d->memory_mb == 0) {
		xm_why(why, whylen, "VM %s: memory must be above 0 MB", d->name);
		return -EINVAL;
	}
	if (s->n_vms >= 65536 && state_vm(s, d->name) == NULL) {
		xm_why(why, whylen, "the VM table is full (65536 VMs)");
		return -ENOSPC;
	}
	/* its image is of the domain the old config made: libxl would
	 * restore it into another */
	old = state_vm(s, d->name);
	if (old != NULL && (old->saved_gen != 0 || old->save_requested)) {
		xm_why(why, whylen, "VM %s has a save image: resume it, or discard "
			"it with agentctl vm start %s --fresh, before redefining it",
			d->name, d->name);
		return -EBUSY;
	}
	r = vmmac_check(s, d->name, d->config, VM_CONFIG_MAX, why, whylen);
	if (r < 0)
		return r;
	return vm_ha_from_pb(d->ha, &ha, why, whylen);
}

static int
validate_set(const struct state *s, const Xenmesh__OpVmSet *o, char *why,
	     size_t whylen)
{
	const struct vm_rec *v;
	enum vm_state st;
	int r = need_vm(s, o->name, &v, why, whylen);

	if (r < 0)
		return r;
	if (vm_state_parse(o->state, &st) < 0) {
		xm_why(why, whylen, "unknown VM state '%.16s'", o->state);
		return -EINVAL;
	}
	if (o->has_host && o->host != 0 && state_node(s, o->host) == NULL) {
		xm_why(why, whylen, "VM %s: no node with id %u", o->name, o->host);
		return -ENOENT;
	}
	if ((st == VM_STATE_STARTING || st == VM_STATE_RUNNING) &&
	    (!o->has_host || o->host == 0)) {
		xm_why(why, whylen, "VM %s: state %s needs a host", o->name,
			o->state);
		return -EINVAL;
	}
	if (o->has_generation && o->generation < v->generation) {
		xm_why(why, whylen, "VM %s: generation %llu is older than %llu",
			o->name, (unsigned long long)o->generation,
			(unsigned long long)v->generation);
		return XM_ESTALE;
	}
	if (o->reason != NULL && strlen(o->reason) >= VM_REASON_MAX) {
		xm_why(why, whylen, "VM %s: reason too long", o->name);
		return -EINVAL;
	}
	if (o->has_migrate_to && o->migrate_to != 0 &&
	    (st != VM_STATE_MIGRATING || state_node(s, o->migrate_to) == NULL ||
	     o->migrate_to == (o->has_host ? o->host : 0))) {
		xm_why(why, whylen, "VM %s: a migration destination needs state "
			"migrating and another known host", o->name);
		return -EINVAL;
	}
	if (st == VM_STATE_MIGRATING && (!o->has_migrate_to || o->migrate_to == 0 ||
					 !o->has_host || o->host == 0)) {
		xm_why(why, whylen, "VM %s: migrating needs a source and a "
			"destination", o->name);
		return -EINVAL;
	}
	if ((o->has_saved_gen && o->saved_gen != 0 &&
	     (st != VM_STATE_STOPPED || o->saved_gen > v->generation)) ||
	    (o->has_saved_bytes && !o->has_saved_gen)) {
		xm_why(why, whylen, "VM %s: a save image is recorded only for a "
			"stopped VM and one of its own generations", o->name);
		return -EINVAL;
	}
	return 0;
}

/* `vm save` (running false, save) and `vm start --fresh` (running, fresh). */
static int
validate_want_save(const struct state *s, const Xenmesh__OpVmWant *w,
		   const struct vm_rec *v, char *why, size_t whylen)
{
	char vol[VOL_NAME_MAX];
	const struct vol_rec *sv;

	if (w->has_fresh && w->fresh && !w->running) {
		xm_why(why, whylen, "VM %s: fresh goes with a start", v->name);
		return -EINVAL;
	}
	if (!w->has_save || !w->save)
		return 0;
	if (w->running) {
		xm_why(why, whylen, "VM %s: a save goes with a stop", v->name);
		return -EINVAL;
	}
	if (v->state != VM_STATE_RUNNING || v->host == 0) {
		xm_why(why, whylen, "VM %s is %s: only a running VM can be saved",
			v->name, vm_state_name(v->state));
		return -EBUSY;
	}
	if (vol_name_make(vol, sizeof(vol), v->name, VM_SAVE_DISK, why, whylen) < 0)
		return -EINVAL;
	sv = state_vol(s, vol);
	if (sv == NULL || sv->state != VOL_STATE_READY) {
		xm_why(why, whylen, "VM %s: its save volume %s is %s", v->name, vol,
			sv == NULL ? "missing" : "not ready");
		return -ENOENT;
	}
	return 0;
}

int
vmtable_validate(const struct state *s, const Xenmesh__Op *op, char *why,
		 size_t whylen)
{
	const struct vm_rec *v;
	int r;

	switch (op->kind_case) {
	case XENMESH__OP__KIND_VM_DEFINE:
		if (op->vm_define == NULL)
			break;
		return validate_define(s, op->vm_define, why, whylen);
	case XENMESH__OP__KIND_VM_UNDEFINE:
		if (op->vm_undefine == NULL)
			break;
		r = need_vm(s, op->vm_undefine->name, &v, why, whylen);
		if (r < 0)
			return r;
		if (vm_is_active(v->state)) {
			xm_why(why, whylen, "VM %s is %s: stop it before "
				"undefining it", v->name, vm_state_name(v->state));
			return -EBUSY;
		}
		return 0;
	case XENMESH__OP__KIND_VM_WANT:
		if (op->vm_want == NULL)
			break;
		r = need_vm(s, op->vm_want->name, &v, why, whylen);
		if (r < 0)
			return r;
		if (op->vm_want->has_host && op->vm_want->host != 0 &&
		    state_node(s, op->vm_want->host) == NULL) {
			xm_why(why, whylen, "no node with id %u", op->vm_want->host);
			return -ENOENT;
		}
		return validate_want_save(s, op->vm_want, v, why, whylen);
	case XENMESH__OP__KIND_VM_SET:
		if (op->vm_set == NULL)
			break;
		return validate_set(s, op->vm_set, why, whylen);
	case XENMESH__OP__KIND_VM_CLEANUP:
		if (op->vm_cleanup == NULL)
			break;
		return need_vm(s, op->vm_cleanup->name, &v, why, whylen);
	default:
		xm_why(why, whylen, "not a VM operation");
		return -EINVAL;
	}
	xm_why(why, whylen, "operation kind %d has no body", (int)op->kind_case);
	return -EINVAL;
}

static int
apply_define(struct state *s, const Xenmesh__OpVmDefine *d)
{
	struct vm_rec *v;
	char *cfg;
	bool found;
	size_t i = vm_index(s, d->name, &found);
	/* vifs without mac= get theirs here, in commit order (vmmac.h) */
	int r = vmmac_assign(s, d->name, d->config, &cfg);

	if (r < 0)
		return r;
	if (!found) {
		if (s->n_vms == s->vms_cap) {
			size_t cap = s->vms_cap ? s->vms_cap * 2 : 16;
			struct vm_rec *n = realloc(s->vms, cap * sizeof(*n));

			if (n == NULL) {
				free(cfg);
				return -ENOMEM;
			}
			s->vms = n;
			s->vms_cap = cap;
		}
		memmove(&s->vms[i + 1], &s->vms[i],
			(s->n_vms - i) * sizeof(s->vms[0]));
		s->n_vms++;
		v = &s->vms[i];
		memset(v, 0, sizeof(*v));
		memcpy(v->name, d->name, strlen(d->name) + 1);
		v->state = VM_STATE_STOPPED;
	} else {
		v = &s->vms[i];
		free(v->config);
	}
	v->config = cfg;
	vmmac_derive(v);
	v->memory_mb = d->memory_mb;
	/* validated before: cannot fail */
	(void)vm_ha_from_pb(d->ha, &v->ha, NULL, 0);
	return 0;
}

static void
apply_set(struct vm_rec *v, const Xenmesh__OpVmSet *o)
{
	uint32_t died_on = v->host;

	(void)vm_state_parse(o->state, &v->state);
	v->host = o->has_host ? o->host : 0;
	if (o->has_generation)
		v->generation = o->generation;
	snprintf(v->reason, sizeof(v->reason), "%s", o->reason ? o->reason : "");
	v->avoid_host = o->has_avoid_host ? o->avoid_host : 0;
	v->migrate_to = o->has_migrate_to ? o->migrate_to : 0;
	v->migrate_offline = v->migrate_to != 0 && o->has_migrate_offline &&
			     o->migrate_offline;
	if (v->migrate_to == 0)
		v->migrate_since_ms = 0;
	else if (v->migrate_since_ms == 0)
		v->migrate_since_ms = o->now_ms ? o->now_ms : 1;
	if (o->has_drain_skip)
		v->drain_skip = o->drain_skip;
	if (o->has_want_running)
		v->want_running = o->want_running;
	/* `vm start --on H` asks for one start there: once it runs there it
	 * is an HA VM like any other (else it stayed pinned to H, and after
	 * H's loss it would never be restarted anywhere) */
	if (v->state == VM_STATE_RUNNING && v->want_host != 0 && v->host == v->want_host)
		v->want_host = 0;
	if (o->has_record_restart && o->record_restart) {
		restart_record(&v->restarts, died_on, o->now_ms);
		v->restarts_total++;
	}
	/* a save asked is the way this stop goes, and no other */
	if (v->state != VM_STATE_STOPPING)
		v->save_requested = false;
	/* the image is of a moment now past once the VM may have run from
	 * anywhere: resuming it later would roll its disks back */
	if (v->state == VM_STATE_RUNNING || v->state == VM_STATE_RECOVERING ||
	    v->state == VM_STATE_MIGRATING) {
		v->saved_gen = 0;
		v->saved_bytes = 0;
	}
	if (o->has_saved_gen) {
		v->saved_gen = o->saved_gen;
		v->saved_bytes = o->saved_gen && o->has_saved_bytes ? o->saved_bytes : 0;
	}
}

int
vmtable_apply(struct state *s, const Xenmesh__Op *op)
{
	struct vm_rec *v;
	bool found;
	size_t i;

	switch (op->kind_case) {
	case XENMESH__OP__KIND_VM_DEFINE:
		return apply_define(s, op->vm_define);
	case XENMESH__OP__KIND_VM_UNDEFINE:
		i = vm_index(s, op->vm_undefine->name, &found);
		vm_rec_free(&s->vms[i]);
		memmove(&s->vms[i], &s->vms[i + 1],
			(s->n_vms - i - 1) * sizeof(s->vms[0]));
		s->n_vms--;
		return 0;
	case XENMESH__OP__KIND_VM_WANT:
		v = &s->vms[vm_index(s, op->vm_want->name, &found)];
		v->want_running = op->vm_want->running;
		v->want_host = op->vm_want->has_host ? op->vm_want->host : 0;
		if (op->vm_want->has_save && op->vm_want->save)
			v->save_requested = true;
		if (op->vm_want->has_fresh && op->vm_want->fresh) {
			v->saved_gen = 0;
			v->saved_bytes = 0;
		}
		/* an admin's start gives a failed or unplaceable VM a new try */
		if (v->want_running && (v->state == VM_STATE_FAILED ||
					v->state == VM_STATE_UNPLACEABLE)) {
			v->state = VM_STATE_STOPPED;
			v->reason[0] = '\0';
		}
		return 0;
	case XENMESH__OP__KIND_VM_SET:
		apply_set(&s->vms[vm_index(s, op->vm_set->name, &found)], op->vm_set);
		return 0;
	case XENMESH__OP__KIND_VM_CLEANUP:
		v = &s->vms[vm_index(s, op->vm_cleanup->name, &found)];
		restart_reset(&v->restarts);
		if (v->state == VM_STATE_FAILED) {
			v->state = VM_STATE_STOPPED;
			v->host = 0;
		}
		v->avoid_host = 0;
		v->reason[0] = '\0';
		return 0;
	default:
		return -EINVAL;
	}
}
