/* The replicated cluster state: tables, op rules, deterministic encoding.
 *
 * Pure: no I/O, no logging.  Every refusal comes back as a negative errno
 * with one sentence in `why`, which the deciding caller logs or shows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "confirm.h"
#include "nodetable.h"
#include "state.h"
#include "vmtable.h"
#include "voltable.h"
#include "maint.h"
#include "xm_error.h"


static bool
role_valid(int r)
{
	return r == NODE_ROLE_DOM0 || r == NODE_ROLE_SAN;
}

static bool
nstate_valid(int st)
{
	return st >= NODE_STATE_ONLINE && st <= NODE_STATE_FENCED;
}

/*
 * Names end up in agentctl tables, JSON and the event log, and are typed
 * on command lines: refuse empty, overlong, and anything but printable
 * ASCII without spaces.  The offending name is not echoed when it holds
 * unprintable bytes.
 */
static int
name_check(const char *what, const char *name, size_t max, char *why,
	   size_t whylen)
{
	size_t i, len;

	if (name == NULL || name[0] == '\0') {
		xm_why(why, whylen, "%s is empty", what);
		return -EINVAL;
	}
	len = strnlen(name, max);
	if (len >= max) {
		xm_why(why, whylen, "%s is longer than %zu characters",
			what, max - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f) {
			xm_why(why, whylen, "%s contains a space or a "
				"non-printable character at offset %zu",
				what, i);
			return -EINVAL;
		}
	}
	return 0;
}

void
state_init(struct state *s)
{
	memset(s, 0, sizeof(*s));
}

void
state_free(struct state *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_vms; i++)
		vm_rec_free(&s->vms[i]);
	free(s->vms);
	free(s->fence_config);
	free(s->vols);
	nodetable_free(s);
	state_init(s);
}

/* dst is output only: whatever it held is overwritten, not freed. */
int
state_copy(struct state *dst, const struct state *src)
{
	struct vm_rec *vms = NULL;

	if (dst == NULL || src == NULL || src->n_nodes > STATE_MAX_NODES ||
	    (src->n_vms > 0 && src->vms == NULL))
		return -EINVAL;
	if (dst == src)
		return 0;
	if (src->n_vms > 0) {
		vms = calloc(src->n_vms, sizeof(*vms));
		if (vms == NULL) {
			state_init(dst);
			return -ENOMEM;
		}
		for (size_t i = 0; i < src->n_vms; i++) {
			if (vm_rec_copy(&vms[i], &src->vms[i]) < 0) {
				while (i-- > 0)
					vm_rec_free(&vms[i]);
				free(vms);
				state_init(dst);
				return -ENOMEM;
			}
		}
	}
	*dst = *src;
	dst->vms = vms;
	dst->vms_cap = src->n_vms;
	dst->fence_config = NULL;
	dst->nodelist = NULL;           /* src's, until nodetable_copy() */
	if (voltable_copy(dst, src) < 0 || nodetable_copy(dst, src) < 0) {
		dst->fence_config = NULL;
		state_free(dst);
		return -ENOMEM;
	}
	if (src->fence_config != NULL) {
		dst->fence_config = strdup(src->fence_config);
		if (dst->fence_config == NULL) {
			state_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Index of node id, or where it would be inserted (*found false). */
static size_t
node_index(const struct state *s, uint32_t id, bool *found)
{
	size_t lo = 0, hi = s->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->nodes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_nodes && s->nodes[lo].id == id;
	return lo;
}

const struct node_rec *
state_node(const struct state *s, uint32_t id)
{
	bool found;
	size_t i;

	if (s == NULL)
		return NULL;
	i = node_index(s, id, &found);
	return found ? &s->nodes[i] : NULL;
}

const struct node_rec *
state_node_by_name(const struct state *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->n_nodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return &s->nodes[i];
	return NULL;
}

static int
validate_node_info(const struct state *s, const Xenmesh__OpNodeInfo *ni,
		   char *why, size_t whylen)
{
	const struct node_rec *same_name;
	int r;

	if (ni->id == 0) {
		xm_why(why, whylen, "node id 0 is reserved");
		return -EINVAL;
	}
	r = name_check("node name", ni->name, STATE_NAME_MAX, why, whylen);
	if (r < 0)
		return r;
	if (!role_valid(ni->role)) {
		xm_why(why, whylen, "node %u: role %d is not dom0 or san",
			ni->id, (int)ni->role);
		return -EINVAL;
	}
	if ((ni->cpu != NULL && strlen(ni->cpu) >= NODE_CPU_MAX) ||
	    (ni->peer_addr != NULL && strlen(ni->peer_addr) >= NODE_PEER_ADDR_MAX)) {
		xm_why(why, whylen, "node %u: CPU class or peer address too long",
			ni->id);
		return -EINVAL;
	}
	if (ni->mem_free_mb > ni->mem_total_mb) {
		xm_why(why, whylen, "node %u: free memory %llu MB exceeds "
			"total memory %llu MB", ni->id,
			(unsigned long long)ni->mem_free_mb,
			(unsigned long long)ni->mem_total_mb);
		return -EINVAL;
	}
	/* Names must stay unique: agentctl addresses nodes by name. */
	same_name = state_node_by_name(s, ni->name);
	if (same_name != NULL && same_name->id != ni->id) {
		xm_why(why, whylen, "node name %s is already used by node %u",
			ni->name, same_name->id);
		return -EEXIST;
	}
	if (state_node(s, ni->id) == NULL && s->n_nodes >= STATE_MAX_NODES) {
		xm_why(why, whylen, "node table is full (%d nodes)",
			STATE_MAX_NODES);
		return -ENOSPC;
	}
	return 0;
}

static int
validate_node_state(const struct state *s, const Xenmesh__OpNodeState *ns,
		    char *why, size_t whylen)
{
	if (!nstate_valid(ns->state)) {
		xm_why(why, whylen, "node state %d is out of range",
			(int)ns->state);
		return -EINVAL;
	}
	if (ns->has_agent_down && ns->agent_down &&
	    ns->state != XENMESH__NODE_STATE__NODE_UNCLEAN) {
		xm_why(why, whylen, "agent down goes only with the state unclean");
		return -EINVAL;
	}
	if (state_node(s, ns->id) == NULL) {
		xm_why(why, whylen, "no node with id %u", ns->id);
		return -ENOENT;
	}
	return 0;
}

static int
validate_node_flags(const struct state *s, const Xenmesh__OpNodeFlags *nf,
		    char *why, size_t whylen)
{
	if ((nf->set | nf->clear) & ~(uint32_t)NODE_FLAGS_ALL) {
		xm_why(why, whylen, "unknown node flag bits 0x%x",
			(nf->set | nf->clear) & ~(uint32_t)NODE_FLAGS_ALL);
		return -EINVAL;
	}
	if ((nf->set | nf->clear) & ~(uint32_t)NODE_FLAGS_SETTABLE) {
		xm_why(why, whylen, "node flag bits 0x%x go with the node's "
			"state, not set or cleared on their own",
			(nf->set | nf->clear) & ~(uint32_t)NODE_FLAGS_SETTABLE);
		return -EINVAL;
	}
	if (nf->set & nf->clear) {
		xm_why(why, whylen, "flag bits 0x%x are both set and cleared",
			nf->set & nf->clear);
		return -EINVAL;
	}
	if (state_node(s, nf->id) == NULL) {
		xm_why(why, whylen, "no node with id %u", nf->id);
		return -ENOENT;
	}
	/* checked again where every member applies it, so two hosts that
	 * stop at once cannot both pass on the same state */
	if (nf->set & NODE_FLAG_LEAVING) {
		if (!nf->has_votes || !nf->has_quorum) {
			xm_why(why, whylen, "the leaving flag needs the votes the "
			       "host saw");
			return -EINVAL;
		}
		return maint_leave_check(s, nf->id, nf->votes, nf->quorum, why,
					 whylen);
	}
	return 0;
}

int
state_validate(const struct state *s, const Xenmesh__Op *op, char *why,
	       size_t whylen)
{
	if (s == NULL || op == NULL) {
		xm_why(why, whylen, "no state or no operation");
		return -EINVAL;
	}
	switch (op->kind_case) {
	case XENMESH__OP__KIND_NODE_INFO:
		if (op->node_info == NULL)
			break;
		return validate_node_info(s, op->node_info, why, whylen);
	case XENMESH__OP__KIND_NODE_STATE:
		if (op->node_state == NULL)
			break;
		return validate_node_state(s, op->node_state, why, whylen);
	case XENMESH__OP__KIND_NODE_FLAGS:
		if (op->node_flags == NULL)
			break;
		return validate_node_flags(s, op->node_flags, why, whylen);
	case XENMESH__OP__KIND_VM_DEFINE:
	case XENMESH__OP__KIND_VM_UNDEFINE:
	case XENMESH__OP__KIND_VM_WANT:
	case XENMESH__OP__KIND_VM_SET:
	case XENMESH__OP__KIND_VM_CLEANUP:
		return vmtable_validate(s, op, why, whylen);
	case XENMESH__OP__KIND_FENCE_CONFIG:
		if (op->fence_config == NULL || op->fence_config->text == NULL)
			break;
		if (strlen(op->fence_config->text) > 256 * 1024) {
			xm_why(why, whylen, "fence configuration above 256 KiB");
			return -EINVAL;
		}
		return 0;
	case XENMESH__OP__KIND_VOLUME_CREATE:
	case XENMESH__OP__KIND_VOLUME_SET:
	case XENMESH__OP__KIND_VOLUME_REMOVE:
	case XENMESH__OP__KIND_SAN_ACTIVE:
	case XENMESH__OP__KIND_VM_STORAGE:
		return voltable_validate(s, op, why, whylen);
	case XENMESH__OP__KIND_VM_MIGRATE:
	case XENMESH__OP__KIND_NODE_DRAIN:
	case XENMESH__OP__KIND_CLUSTER_MAINTENANCE:
		return maint_validate(s, op, why, whylen);
	case XENMESH__OP__KIND_CONFIRM_DOWN:
	case XENMESH__OP__KIND_FENCE_FAILING:
		return confirm_validate(s, op, why, whylen);
	case XENMESH__OP__KIND_NODE_ADD:
	case XENMESH__OP__KIND_NODE_FORGET:
		return nodetable_validate(s, op, why, whylen);
	case XENMESH__OP__KIND__NOT_SET:
		xm_why(why, whylen, "operation has no kind set");
		return -EINVAL;
	default:
		xm_why(why, whylen, "operation kind %d is unknown",
			(int)op->kind_case);
		return -EINVAL;
	}
	xm_why(why, whylen, "operation kind %d has no body",
		(int)op->kind_case);
	return -EINVAL;
}

int
state_check_order(const struct state *s, uint64_t epoch, uint64_t seq)
{
	if (s == NULL)
		return -EINVAL;
	if (epoch < s->epoch || seq != s->seq + 1)
		return XM_ESTALE;
	return 0;
}

static void
order_why(const struct state *s, uint64_t epoch, uint64_t seq, char *why,
	  size_t whylen)
{
	const char *what;

	if (epoch < s->epoch)
		what = "from an older coordinator epoch";
	else if (seq <= s->seq)
		what = "replayed or reordered";
	else
		what = "updates are missing in between";
	xm_why(why, whylen, "update %llu.%llu does not follow %llu.%llu: %s",
		(unsigned long long)epoch, (unsigned long long)seq,
		(unsigned long long)s->epoch, (unsigned long long)s->seq,
		what);
}

static void
apply_node_info(struct state *s, const Xenmesh__OpNodeInfo *ni)
{
	struct node_rec *n;
	bool found;
	size_t i;

	i = node_index(s, ni->id, &found);
	n = &s->nodes[i];
	if (!found) {
		/* validate_node_info() checked there is room. */
		memmove(n + 1, n, (s->n_nodes - i) * sizeof(*n));
		s->n_nodes++;
		memset(n, 0, sizeof(*n));
		n->id = ni->id;
		n->state = NODE_STATE_ONLINE;
		n->flags = 0;
	}
	/* A known node keeps its state and flags: only what it reports of
	 * itself changes. */
	(void)snprintf(n->name, sizeof(n->name), "%s", ni->name);
	n->role = (enum node_role)ni->role;
	n->mem_total_mb = ni->mem_total_mb;
	n->mem_free_mb = ni->mem_free_mb;
	n->watchdog_s = ni->has_watchdog_s ? ni->watchdog_s : 0;
	(void)snprintf(n->cpu, sizeof(n->cpu), "%s", ni->cpu ? ni->cpu : "");
	(void)snprintf(n->peer_addr, sizeof(n->peer_addr), "%s",
		       ni->peer_addr ? ni->peer_addr : "");
}

int
state_apply(struct state *s, uint64_t epoch, uint64_t seq,
	    const Xenmesh__Op *op, char *why, size_t whylen)
{
	struct node_rec *n;
	bool found;
	size_t i;
	int r;

	if (s == NULL || op == NULL) {
		xm_why(why, whylen, "no state or no operation");
		return -EINVAL;
	}
	r = state_check_order(s, epoch, seq);
	if (r < 0) {
		order_why(s, epoch, seq, why, whylen);
		return r;
	}
	r = state_validate(s, op, why, whylen);
	if (r < 0)
		return r;

	/* Nothing below fails but for memory: s changes completely or not
	 * at all. */
	switch (op->kind_case) {
	case XENMESH__OP__KIND_NODE_INFO:
		apply_node_info(s, op->node_info);
		break;
	case XENMESH__OP__KIND_NODE_STATE:
		i = node_index(s, op->node_state->id, &found);
		s->nodes[i].state = (enum node_state)op->node_state->state;
		/* only its agent left: known to every later coordinator */
		if (s->nodes[i].state == NODE_STATE_UNCLEAN &&
		    op->node_state->has_agent_down && op->node_state->agent_down)
			s->nodes[i].flags |= NODE_FLAG_AGENT_DOWN;
		else
			s->nodes[i].flags &= ~(uint32_t)NODE_FLAG_AGENT_DOWN;
		/* back: whatever stop it was leaving for is over */
		if (s->nodes[i].state == NODE_STATE_ONLINE)
			s->nodes[i].flags &= ~(uint32_t)NODE_FLAG_LEAVING;
		/* the note tells how it was fenced that time, no longer */
		s->nodes[i].fence_note[0] = '\0';
		break;
	case XENMESH__OP__KIND_NODE_FLAGS:
		i = node_index(s, op->node_flags->id, &found);
		n = &s->nodes[i];
		n->flags = (n->flags | op->node_flags->set) &
			   ~op->node_flags->clear;
		break;
	case XENMESH__OP__KIND_FENCE_CONFIG: {
		char *text = strdup(op->fence_config->text);

		if (text == NULL) {
			xm_why(why, whylen, "out of memory applying the change");
			return -ENOMEM;
		}
		free(s->fence_config);
		s->fence_config = text[0] != '\0' ? text : NULL;
		if (s->fence_config == NULL)
			free(text);
		break;
	}
	default:
		if (maint_op_kind(op)) {
			maint_apply(s, op);
			r = 0;
		} else if (confirm_op_kind(op)) {
			confirm_apply(s, op);
			r = 0;
		} else if (nodetable_op_kind(op))
			r = nodetable_apply(s, op);
		else if (voltable_op_kind(op))
			r = voltable_apply(s, op);
		else if (vmtable_op_kind(op))
			r = vmtable_apply(s, op);
		else
			return -EINVAL;         /* state_validate() refused it */
		if (r < 0) {
			xm_why(why, whylen, "out of memory applying the change");
			return r;
		}
		break;
	}
	s->epoch = epoch;
	s->seq = seq;
	return 0;
}

int
state_pack(const struct state *s, uint8_t **buf, size_t *len)
{
	Xenmesh__State msg = XENMESH__STATE__INIT;
	Xenmesh__Node nodes[STATE_MAX_NODES];
	Xenmesh__Node *node_ptrs[STATE_MAX_NODES];
	struct vm_pack *vms = NULL;
	Xenmesh__Vm **vm_ptrs = NULL;
	void *vol_scratch = NULL;
	void *nodes_scratch = NULL;
	uint8_t *out;
	size_t i, need;
	int r = 0;

	if (s == NULL || buf == NULL || len == NULL ||
	    s->n_nodes > STATE_MAX_NODES || (s->n_vms > 0 && s->vms == NULL))
		return -EINVAL;

	/* The tables are kept sorted, and protobuf-c writes fields in
	 * descriptor order, so equal states give identical bytes. */
	msg.epoch = s->epoch;
	msg.seq = s->seq;
	for (i = 0; i < s->n_nodes; i++) {
		const struct node_rec *n = &s->nodes[i];

		xenmesh__node__init(&nodes[i]);
		nodes[i].id = n->id;
		/* protobuf-c only reads the string while packing. */
		nodes[i].name = (char *)n->name;
		nodes[i].role = (Xenmesh__NodeRole)n->role;
		nodes[i].state = (Xenmesh__NodeState)n->state;
		nodes[i].flags = n->flags;
		nodes[i].mem_total_mb = n->mem_total_mb;
		nodes[i].mem_free_mb = n->mem_free_mb;
		nodes[i].has_watchdog_s = n->watchdog_s != 0;
		nodes[i].watchdog_s = n->watchdog_s;
		/* "" and 0 are left out, as everywhere: equal states, equal bytes */
		nodes[i].cpu = n->cpu[0] != '\0' ? (char *)n->cpu : NULL;
		nodes[i].peer_addr = n->peer_addr[0] != '\0' ? (char *)n->peer_addr : NULL;
		nodes[i].has_drain_parallel = n->drain_parallel != 0;
		nodes[i].drain_parallel = n->drain_parallel;
		nodes[i].has_drain_force = n->drain_force;
		nodes[i].drain_force = n->drain_force;
		nodes[i].fence_note = n->fence_note[0] != '\0' ?
			(char *)n->fence_note : NULL;
		node_ptrs[i] = &nodes[i];
	}
	msg.n_nodes = s->n_nodes;
	msg.nodes = node_ptrs;

	if (s->n_vms > 0) {
		vms = calloc(s->n_vms, sizeof(*vms));
		vm_ptrs = calloc(s->n_vms, sizeof(*vm_ptrs));
		if (vms == NULL || vm_ptrs == NULL) {
			r = -ENOMEM;
			goto out_free_vms;
		}
		for (i = 0; i < s->n_vms; i++) {
			vmtable_pack_one(&s->vms[i], &vms[i]);
			vm_ptrs[i] = &vms[i].vm;
		}
	}
	msg.n_vms = s->n_vms;
	msg.vms = vm_ptrs;
	msg.fence_config = s->fence_config;
	msg.has_frozen = s->frozen;
	msg.frozen = s->frozen;
	r = voltable_pack(s, &msg, &vol_scratch);
	if (r < 0)
		goto out_free_vms;
	r = nodetable_pack(s, &msg, &nodes_scratch);
	if (r < 0)
		goto out_free_vms;

	need = xenmesh__state__get_packed_size(&msg);
	out = malloc(need > 0 ? need : 1);
	if (out == NULL) {
		r = -ENOMEM;
		goto out_free_vms;
	}
	*len = xenmesh__state__pack(&msg, out);
	*buf = out;

out_free_vms:
	nodetable_scratch_free(nodes_scratch);
	voltable_scratch_free(vol_scratch);
	free(vm_ptrs);
	free(vms);
	return r;
}

static int
unpack_node(const Xenmesh__Node *m, size_t i, char *why, size_t whylen)
{
	char what[48];

	if (m->id == 0) {
		xm_why(why, whylen, "node %zu has the reserved id 0", i);
		return -EBADMSG;
	}
	(void)snprintf(what, sizeof(what), "name of node %u", m->id);
	if (name_check(what, m->name, STATE_NAME_MAX, why, whylen) < 0)
		return -EBADMSG;
	if (!role_valid(m->role)) {
		xm_why(why, whylen, "node %u: role %d is out of range",
			m->id, (int)m->role);
		return -EBADMSG;
	}
	if (!nstate_valid(m->state)) {
		xm_why(why, whylen, "node %u: state %d is out of range",
			m->id, (int)m->state);
		return -EBADMSG;
	}
	if (m->flags & ~(uint32_t)NODE_FLAGS_ALL) {
		xm_why(why, whylen, "node %u: unknown flag bits 0x%x", m->id,
			m->flags & ~(uint32_t)NODE_FLAGS_ALL);
		return -EBADMSG;
	}
	if (m->mem_free_mb > m->mem_total_mb) {
		xm_why(why, whylen, "node %u: free memory exceeds total memory",
			m->id);
		return -EBADMSG;
	}
	/* present means not empty: anything else would not pack back to
	 * the same bytes */
	if ((m->cpu != NULL && (m->cpu[0] == '\0' || strlen(m->cpu) >= NODE_CPU_MAX)) ||
	    (m->peer_addr != NULL && (m->peer_addr[0] == '\0' ||
				      strlen(m->peer_addr) >= NODE_PEER_ADDR_MAX))) {
		xm_why(why, whylen, "node %u: CPU class or peer address empty or "
			"too long", m->id);
		return -EBADMSG;
	}
	if ((m->has_drain_parallel && (m->drain_parallel == 0 ||
				       m->drain_parallel > DRAIN_PARALLEL_MAX)) ||
	    (m->has_drain_force && !m->drain_force)) {
		xm_why(why, whylen, "node %u: drain settings out of range", m->id);
		return -EBADMSG;
	}
	if (m->fence_note != NULL && (m->fence_note[0] == '\0' ||
				      strlen(m->fence_note) >= NODE_NOTE_MAX)) {
		xm_why(why, whylen, "node %u: fence note empty or too long", m->id);
		return -EBADMSG;
	}
	return 0;
}

static int
unpack_vm(const Xenmesh__Vm *m, size_t i, char *why, size_t whylen)
{
	char what[48];

	(void)snprintf(what, sizeof(what), "name of VM %zu", i);
	if (name_check(what, m->name, STATE_NAME_MAX, why, whylen) < 0)
		return -EBADMSG;
	return 0;
}

/* Check every field before touching s: a hostile or corrupt snapshot
 * must not half-load. */
static int
unpack_check(const Xenmesh__State *m, char *why, size_t whylen)
{
	size_t i, j;
	int r;

	if (m->n_nodes > STATE_MAX_NODES) {
		xm_why(why, whylen, "state has %zu nodes, at most %d allowed",
			m->n_nodes, STATE_MAX_NODES);
		return -EBADMSG;
	}
	for (i = 0; i < m->n_nodes; i++) {
		r = unpack_node(m->nodes[i], i, why, whylen);
		if (r < 0)
			return r;
		if (i > 0 && m->nodes[i]->id <= m->nodes[i - 1]->id) {
			xm_why(why, whylen, "node ids are not sorted and "
				"unique (%u after %u)", m->nodes[i]->id,
				m->nodes[i - 1]->id);
			return -EBADMSG;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(m->nodes[i]->name, m->nodes[j]->name) == 0) {
				xm_why(why, whylen, "node name %s is used by "
					"nodes %u and %u", m->nodes[i]->name,
					m->nodes[j]->id, m->nodes[i]->id);
				return -EBADMSG;
			}
		}
	}
	if (m->has_frozen && !m->frozen) {
		xm_why(why, whylen, "cluster maintenance present but off");
		return -EBADMSG;
	}
	for (i = 0; i < m->n_vms; i++) {
		r = unpack_vm(m->vms[i], i, why, whylen);
		if (r < 0)
			return r;
		if (i > 0 && strcmp(m->vms[i]->name, m->vms[i - 1]->name) <= 0) {
			xm_why(why, whylen, "VM names are not sorted and "
				"unique (%s after %s)", m->vms[i]->name,
				m->vms[i - 1]->name);
			return -EBADMSG;
		}
	}
	return 0;
}

/* s is output only (overwritten, not freed).  Every refusal is -EBADMSG. */
int
state_unpack(const uint8_t *buf, size_t len, struct state *s, char *why,
	     size_t whylen)
{
	Xenmesh__State *m;
	size_t i;
	int r;

	if (s == NULL)
		return -EINVAL;
	state_init(s);
	if (buf == NULL && len > 0) {
		xm_why(why, whylen, "no buffer");
		return -EINVAL;
	}
	m = xenmesh__state__unpack(NULL, len, buf);
	if (m == NULL) {
		xm_why(why, whylen, "%zu bytes are not a packed State "
			"(protobuf decoding failed)", len);
		return -EBADMSG;
	}
	r = unpack_check(m, why, whylen);
	if (r < 0)
		goto out_free_msg;

	if (m->n_vms > 0) {
		s->vms = calloc(m->n_vms, sizeof(*s->vms));
		if (s->vms == NULL) {
			xm_why(why, whylen, "out of memory for %zu VMs",
				m->n_vms);
			r = -ENOMEM;
			goto out_free_msg;
		}
		s->vms_cap = m->n_vms;
	}
	s->epoch = m->epoch;
	s->seq = m->seq;
	for (i = 0; i < m->n_nodes; i++) {
		const Xenmesh__Node *mn = m->nodes[i];
		struct node_rec *n = &s->nodes[i];

		n->id = mn->id;
		(void)snprintf(n->name, sizeof(n->name), "%s", mn->name);
		n->role = (enum node_role)mn->role;
		n->state = (enum node_state)mn->state;
		n->flags = mn->flags;
		n->mem_total_mb = mn->mem_total_mb;
		n->mem_free_mb = mn->mem_free_mb;
		n->watchdog_s = mn->has_watchdog_s ? mn->watchdog_s : 0;
		(void)snprintf(n->cpu, sizeof(n->cpu), "%s", mn->cpu ? mn->cpu : "");
		(void)snprintf(n->peer_addr, sizeof(n->peer_addr), "%s",
			       mn->peer_addr ? mn->peer_addr : "");
		n->drain_parallel = mn->has_drain_parallel ? mn->drain_parallel : 0;
		n->drain_force = mn->has_drain_force && mn->drain_force;
		(void)snprintf(n->fence_note, sizeof(n->fence_note), "%s",
			       mn->fence_note ? mn->fence_note : "");
	}
	s->frozen = m->has_frozen && m->frozen;
	s->n_nodes = m->n_nodes;
	if (m->fence_config != NULL && m->fence_config[0] != '\0') {
		s->fence_config = strdup(m->fence_config);
		if (s->fence_config == NULL) {
			xm_why(why, whylen, "out of memory");
			r = -ENOMEM;
			goto out_free_msg;
		}
	}
	for (i = 0; i < m->n_vms; i++) {
		r = vmtable_unpack_one(m->vms[i], &s->vms[i], why, whylen);
		s->n_vms = i + 1;       /* so state_free() frees its config */
		if (r < 0) {
			state_free(s);
			goto out_free_msg;
		}
	}
	r = voltable_unpack(m, s, why, whylen);
	if (r == 0)
		r = nodetable_unpack(m, s, why, whylen);
	if (r < 0)
		state_free(s);

out_free_msg:
	xenmesh__state__free_unpacked(m, NULL);
	return r;
}

int
state_digest(const struct state *s, uint8_t out[STATE_DIGEST_LEN])
{
	uint8_t *buf;
	size_t len;
	int r;

	if (out == NULL)
		return -EINVAL;
	r = state_pack(s, &buf, &len);
	if (r < 0)
		return r;
	r = crypto_generichash(out, STATE_DIGEST_LEN, buf, len, NULL, 0);
	free(buf);
	return r == 0 ? 0 : -EIO;
}

const char *
node_state_name(enum node_state st)
{
	switch (st) {
	case NODE_STATE_ONLINE:
		return "online";
	case NODE_STATE_OFFLINE:
		return "offline";
	case NODE_STATE_UNCLEAN:
		return "unclean";
	case NODE_STATE_FENCED:
		return "fenced";
	}
	return "invalid";
}

const char *
node_role_name(enum node_role r)
{
	switch (r) {
	case NODE_ROLE_DOM0:
		return "dom0";
	case NODE_ROLE_SAN:
		return "san";
	}
	return "invalid";
}

int
node_flag_parse(const char *name, uint32_t *flag)
{
	if (name == NULL || flag == NULL)
		return -EINVAL;
	if (strcmp(name, "maintenance") == 0)
		*flag = NODE_FLAG_MAINTENANCE;
	else if (strcmp(name, "standby") == 0)
		*flag = NODE_FLAG_STANDBY;

	else
		return -EINVAL;
	return 0;
}
