/* The storage part of the replicated state; see voltable.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voltable.h"
#include "xm_error.h"

static const char *const vol_state_names[] = {
	[VOL_STATE_CREATING] = "creating",
	[VOL_STATE_READY] = "ready",
	[VOL_STATE_FAILED] = "failed",
	[VOL_STATE_REMOVING] = "removing",
};

const char *
vol_state_name(enum vol_state st)
{
	if (st < VOL_STATE_CREATING || st > VOL_STATE_REMOVING)
		return "invalid";
	return vol_state_names[st];
}

static int
vol_state_parse(const char *name, enum vol_state *st)
{
	for (int i = VOL_STATE_CREATING; i <= VOL_STATE_REMOVING; i++) {
		if (name != NULL && strcmp(name, vol_state_names[i]) == 0) {
			*st = (enum vol_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool
vm_uses_storage(const struct vm_rec *v)
{
	return v->state == VM_STATE_STARTING || v->state == VM_STATE_RUNNING ||
	       v->state == VM_STATE_STOPPING || v->state == VM_STATE_MIGRATING ||
	       v->state == VM_STATE_RECOVERING;
}

/* Index of name, or where it would go (*found false). */
static size_t
vol_index(const struct state *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->n_vols;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->vols[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_vols && strcmp(s->vols[lo].name, name) == 0;
	return lo;
}

const struct vol_rec *
state_vol(const struct state *s, const char *name)
{
	bool found;
	size_t i;

	if (s == NULL || name == NULL || s->n_vols == 0)
		return NULL;
	i = vol_index(s, name, &found);
	return found ? &s->vols[i] : NULL;
}

bool
state_vm_has_volumes(const struct state *s, const char *vm)
{
	for (size_t i = 0; s != NULL && i < s->n_vols; i++)
		if (strcmp(s->vols[i].vm, vm) == 0)
			return true;
	return false;
}

/* A VM with volumes names its target "<prefix>:<vm>": only what an iSCSI
 * name may hold (RFC 3720: lowercase letters, digits, '-' and '.'), so that
 * no two VMs share a target and the SAN never meets a name tgt refuses. */
static int
vm_name_ok(const char *vm, char *why, size_t whylen)
{
	size_t len = vm ? strnlen(vm, STATE_NAME_MAX) : 0;

	if (len == 0 || len >= STATE_NAME_MAX) {
		xm_why(why, whylen, "VM name is empty or longer than %d characters",
		       STATE_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)vm[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.')) {
			xm_why(why, whylen, "VM name %.63s cannot name a volume: "
			       "only lowercase letters, digits, '-' and '.' "
			       "fit an iSCSI name", vm);
			return -EINVAL;
		}
	}
	return 0;
}

int
vol_name_make(char *buf, size_t len, const char *vm, const char *disk,
	      char *why, size_t whylen)
{
	size_t dl = disk ? strlen(disk) : 0;
	int r;

	r = vm_name_ok(vm, why, whylen);
	if (r < 0)
		return r;
	if (dl == 0 || dl >= VOL_DISK_MAX) {
		xm_why(why, whylen, "disk name is empty or longer than %d characters",
		       VOL_DISK_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < dl; i++) {
		unsigned char c = (unsigned char)disk[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
			xm_why(why, whylen, "disk name %.23s: only lowercase letters, "
			       "digits and '_' (e.g. root, swap, data1)", disk);
			return -EINVAL;
		}
	}
	r = snprintf(buf, len, "%s-%s", vm, disk);
	if (r < 0 || (size_t)r >= len || (size_t)r >= VOL_NAME_MAX) {
		xm_why(why, whylen, "volume name %s-%s is longer than %d characters",
		       vm, disk, VOL_NAME_MAX - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

static uint32_t
lun_free(const struct state *s, const char *vm)
{
	uint32_t used = 0;

	for (size_t i = 0; i < s->n_vols; i++)
		if (strcmp(s->vols[i].vm, vm) == 0 && s->vols[i].lun <= VOL_MAX_PER_VM)
			used |= 1u << s->vols[i].lun;
	for (uint32_t l = 1; l <= VOL_MAX_PER_VM; l++)
		if (!(used & (1u << l)))
			return l;
	return 0;
}

/* Lowest DRBD minor no volume has. */
static uint32_t
minor_free(const struct state *s)
{
	for (uint32_t m = 0;; m++) {
		bool used = false;

		for (size_t i = 0; i < s->n_vols && !used; i++)
			used = s->vols[i].minor == m;
		if (!used)
			return m;
	}
}

static int
validate_create(const struct state *s, const Xenmesh__OpVolumeCreate *o,
		char *why, size_t whylen)
{
	char name[VOL_NAME_MAX];
	int r;

	r = vol_name_make(name, sizeof(name), o->vm, o->disk, why, whylen);
	if (r < 0)
		return r;
	if (o->size_bytes < VOL_SIZE_MIN || o->size_bytes > VOL_SIZE_MAX ||
	    o->size_bytes % 512 != 0) {
		xm_why(why, whylen, "volume size %llu bytes: must be a multiple of "
		       "512 from 512 bytes to 16 TiB",
		       (unsigned long long)o->size_bytes);
		return -EINVAL;
	}
	if (state_vol(s, name) != NULL) {
		xm_why(why, whylen, "volume %s already exists", name);
		return -EEXIST;
	}
	if (lun_free(s, o->vm) == 0) {
		xm_why(why, whylen, "VM %s has %d volumes already, the most one "
		       "target holds", o->vm, VOL_MAX_PER_VM);
		return -ENOSPC;
	}
	if (s->active_san == 0) {
		xm_why(why, whylen, "no active SAN node: volumes are made by the "
		       "active SAN node (is a node with role san online?)");
		return -ENODEV;
	}
	return 0;
}

static int
validate_set(const struct state *s, const Xenmesh__OpVolumeSet *o, char *why,
	     size_t whylen)
{
	const struct vol_rec *vol = state_vol(s, o->name);
	const struct vm_rec *v;
	enum vol_state st;

	if (vol == NULL) {
		xm_why(why, whylen, "no volume named %.63s", o->name);
		return -ENOENT;
	}
	if (vol_state_parse(o->state, &st) < 0) {
		xm_why(why, whylen, "volume state '%.32s' is not creating, ready, "
		       "failed or removing", o->state);
		return -EINVAL;
	}
	v = state_vm(s, vol->vm);
	if (st == VOL_STATE_REMOVING && v != NULL && vm_uses_storage(v)) {
		xm_why(why, whylen, "volume %s is in use: VM %s is %s; stop it first",
		       vol->name, v->name, vm_state_name(v->state));
		return -EBUSY;
	}
	/* the only copy of a saved VM's memory */
	if (st == VOL_STATE_REMOVING && v != NULL && strcmp(vol->disk, VM_SAVE_DISK) == 0 &&
	    (v->saved_gen != 0 || v->save_requested)) {
		xm_why(why, whylen, "volume %s holds the save image of VM %s: resume "
		       "it, or discard the image with agentctl vm start %s --fresh",
		       vol->name, v->name, v->name);
		return -EBUSY;
	}
	return 0;
}

int
voltable_validate(const struct state *s, const Xenmesh__Op *op, char *why,
		  size_t whylen)
{
	const struct node_rec *n;

	switch (op->kind_case) {
	case XENMESH__OP__KIND_VOLUME_CREATE:
		if (op->volume_create == NULL)
			break;
		return validate_create(s, op->volume_create, why, whylen);
	case XENMESH__OP__KIND_VOLUME_SET:
		if (op->volume_set == NULL)
			break;
		return validate_set(s, op->volume_set, why, whylen);
	case XENMESH__OP__KIND_VOLUME_REMOVE:
		if (op->volume_remove == NULL)
			break;
		if (state_vol(s, op->volume_remove->name) == NULL) {
			xm_why(why, whylen, "no volume named %.63s",
			       op->volume_remove->name);
			return -ENOENT;
		}
		return 0;
	case XENMESH__OP__KIND_SAN_ACTIVE:
		if (op->san_active == NULL)
			break;
		if (op->san_active->id == 0)
			return 0;
		n = state_node(s, op->san_active->id);
		if (n == NULL || n->role != NODE_ROLE_SAN) {
			xm_why(why, whylen, "node %u is not a SAN node",
			       op->san_active->id);
			return -EINVAL;
		}
		return 0;
	case XENMESH__OP__KIND_VM_STORAGE:
		if (op->vm_storage == NULL)
			break;
		if (state_vm(s, op->vm_storage->name) == NULL) {
			xm_why(why, whylen, "no VM named %.63s", op->vm_storage->name);
			return -ENOENT;
		}
		return 0;
	default:
		xm_why(why, whylen, "operation kind %d is not a storage one",
		       (int)op->kind_case);
		return -EINVAL;
	}
	xm_why(why, whylen, "operation kind %d has no body", (int)op->kind_case);
	return -EINVAL;
}

bool
voltable_op_kind(const Xenmesh__Op *op)
{
	switch (op->kind_case) {
	case XENMESH__OP__KIND_VOLUME_CREATE:
	case XENMESH__OP__KIND_VOLUME_SET:
	case XENMESH__OP__KIND_VOLUME_REMOVE:
	case XENMESH__OP__KIND_SAN_ACTIVE:
	case XENMESH__OP__KIND_VM_STORAGE:
		return true;
	default:
		return false;
	}
}

static int
apply_create(struct state *s, const Xenmesh__OpVolumeCreate *o)
{
	struct vol_rec rec = { 0 };
	bool found;
	size_t i;

	(void)vol_name_make(rec.name, sizeof(rec.name), o->vm, o->disk, NULL, 0);
	snprintf(rec.vm, sizeof(rec.vm), "%s", o->vm);
	snprintf(rec.disk, sizeof(rec.disk), "%s", o->disk);
	rec.size_bytes = o->size_bytes;
	rec.lun = lun_free(s, o->vm);
	rec.minor = minor_free(s);
	rec.state = VOL_STATE_CREATING;
	if (s->n_vols == s->vols_cap) {
		size_t cap = s->vols_cap ? 2 * s->vols_cap : 16;
		struct vol_rec *nv = realloc(s->vols, cap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		s->vols = nv;
		s->vols_cap = cap;
	}
	i = vol_index(s, rec.name, &found);
	memmove(&s->vols[i + 1], &s->vols[i], (s->n_vols - i) * sizeof(rec));
	s->vols[i] = rec;
	s->n_vols++;
	return 0;
}

int
voltable_apply(struct state *s, const Xenmesh__Op *op)
{
	struct vm_rec *v;
	bool found;
	size_t i;

	switch (op->kind_case) {
	case XENMESH__OP__KIND_VOLUME_CREATE:
		return apply_create(s, op->volume_create);
	case XENMESH__OP__KIND_VOLUME_SET:
		i = vol_index(s, op->volume_set->name, &found);
		(void)vol_state_parse(op->volume_set->state, &s->vols[i].state);
		snprintf(s->vols[i].reason, sizeof(s->vols[i].reason), "%s",
			 op->volume_set->reason ? op->volume_set->reason : "");
		return 0;
	case XENMESH__OP__KIND_VOLUME_REMOVE:
		i = vol_index(s, op->volume_remove->name, &found);
		memmove(&s->vols[i], &s->vols[i + 1],
			(s->n_vols - i - 1) * sizeof(s->vols[0]));
		s->n_vols--;
		return 0;
	case XENMESH__OP__KIND_SAN_ACTIVE:
		s->active_san = op->san_active->id;
		return 0;
	case XENMESH__OP__KIND_VM_STORAGE:
		v = (struct vm_rec *)state_vm(s, op->vm_storage->name);
		v->storage_gen = op->vm_storage->generation;
		v->storage_dest = op->vm_storage->has_dest ? op->vm_storage->dest : 0;
		return 0;
	default:
		return -EINVAL;
	}
}

struct vol_scratch {
	Xenmesh__Volume *msgs;
	Xenmesh__Volume **ptrs;
};

int
voltable_pack(const struct state *s, Xenmesh__State *msg, void **scratch)
{
	struct vol_scratch *sc;

	*scratch = NULL;
	msg->has_active_san = s->active_san != 0;
	msg->active_san = s->active_san;
	if (s->n_vols == 0)
		return 0;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	sc->msgs = calloc(s->n_vols, sizeof(*sc->msgs));
	sc->ptrs = calloc(s->n_vols, sizeof(*sc->ptrs));
	if (sc->msgs == NULL || sc->ptrs == NULL) {
		free(sc->msgs);
		free(sc->ptrs);
		free(sc);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_vols; i++) {
		const struct vol_rec *v = &s->vols[i];
		Xenmesh__Volume *m = &sc->msgs[i];

		xenmesh__volume__init(m);
		m->name = (char *)v->name;
		m->vm = (char *)v->vm;
		m->disk = (char *)v->disk;
		m->size_bytes = v->size_bytes;
		m->lun = v->lun;
		m->has_minor = v->minor != 0;
		m->minor = v->minor;
		m->state = (char *)vol_state_name(v->state);
		if (v->reason[0] != '\0')
			m->reason = (char *)v->reason;
		sc->ptrs[i] = m;
	}
	msg->n_volumes = s->n_vols;
	msg->volumes = sc->ptrs;
	*scratch = sc;
	return 0;
}

void
voltable_scratch_free(void *scratch)
{
	struct vol_scratch *sc = scratch;

	if (sc == NULL)
		return;
	free(sc->msgs);
	free(sc->ptrs);
	free(sc);
}

int
voltable_unpack(const Xenmesh__State *msg, struct state *s, char *why,
		size_t whylen)
{
	struct vol_rec *vols = NULL;
	char name[VOL_NAME_MAX];

	if (msg->has_active_san && msg->active_san != 0) {
		const struct node_rec *n = state_node(s, msg->active_san);

		if (n == NULL || n->role != NODE_ROLE_SAN) {
			xm_why(why, whylen, "active SAN node %u is not a SAN node",
			       msg->active_san);
			return -EBADMSG;
		}
	}
	if (msg->n_volumes > 0) {
		vols = calloc(msg->n_volumes, sizeof(*vols));
		if (vols == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < msg->n_volumes; i++) {
		const Xenmesh__Volume *m = msg->volumes[i];
		struct vol_rec *v = &vols[i];

		if (vol_name_make(name, sizeof(name), m->vm, m->disk, why,
				  whylen) < 0 || strcmp(name, m->name) != 0 ||
		    m->lun < 1 || m->lun > VOL_MAX_PER_VM ||
		    vol_state_parse(m->state, &v->state) < 0 ||
		    (m->reason && strlen(m->reason) >= VM_REASON_MAX) ||
		    (i > 0 && strcmp(m->name, msg->volumes[i - 1]->name) <= 0)) {
			xm_why(why, whylen, "volume %zu (%.63s) is malformed or out "
			       "of order", i, m->name);
			free(vols);
			return -EBADMSG;
		}
		snprintf(v->name, sizeof(v->name), "%s", m->name);
		snprintf(v->vm, sizeof(v->vm), "%s", m->vm);
		snprintf(v->disk, sizeof(v->disk), "%s", m->disk);
		v->size_bytes = m->size_bytes;
		v->lun = m->lun;
		v->minor = m->has_minor ? m->minor : 0;
		snprintf(v->reason, sizeof(v->reason), "%s", m->reason ? m->reason : "");
	}
	s->vols = vols;
	s->n_vols = s->vols_cap = msg->n_volumes;
	s->active_san = msg->has_active_san ? msg->active_san : 0;
	return 0;
}

int
voltable_copy(struct state *dst, const struct state *src)
{
	dst->vols = NULL;
	dst->vols_cap = dst->n_vols = 0;
	if (src->n_vols == 0)
		return 0;
	dst->vols = malloc(src->n_vols * sizeof(*dst->vols));
	if (dst->vols == NULL)
		return -ENOMEM;
	memcpy(dst->vols, src->vols, src->n_vols * sizeof(*dst->vols));
	dst->n_vols = dst->vols_cap = src->n_vols;
	return 0;
}
