/* agentctl's read commands in xenmeshd: status, node list, vm list and
 * show, events, fence history, storage status.  Answered at once from this
 * node's state, event log and (on the coordinator) fence runs.  Part of the
 * agentctl endpoint (ctl_server.c), kept apart for size. */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "coord.h"
#include "ctl_fence.h"
#include "ctl_read.h"
#include "ctl_vm.h"
#include "log.h"
#include "san.h"
#include "state.h"
#include "vmhost.h"
#include "xm_error.h"

#define HISTORY_BUF_MAX (256 * 1024)    /* coord keeps 64 steps per host */

/* Everything a status answer points to, freed by ctl_view_free(). */
struct ctl_view {
	Xenmesh__CtlResponse resp;
	Xenmesh__ClusterView cluster;
	Xenmesh__RingId ring;
	uint8_t digest[STATE_DIGEST_LEN];
	uint32_t members[SYNC_MAX_MEMBERS];
	Xenmesh__State *state;          /* unpacked from state_pack() */
	Xenmesh__Event *events;
	Xenmesh__Event **event_ptrs;
	struct ctl_fence_view fence;    /* admission lines */
	char *history;                  /* fence history text, split in place */
	char **history_lines;
};

static void
ctl_view_free(struct ctl_view *v)
{
	if (v == NULL)
		return;
	if (v->state != NULL)
		xenmesh__state__free_unpacked(v->state, NULL);
	free(v->events);
	free(v->event_ptrs);
	ctl_fence_view_free(&v->fence);
	free(v->history);
	free(v->history_lines);
	v->state = NULL;
	v->events = NULL;
	v->event_ptrs = NULL;
	v->history = NULL;
	v->history_lines = NULL;
}

/* The table keeps what a host can give VMs (stable, so the record does not
 * change with every start); what is free is that less the VMs placed on
 * it, as placement counts it. */
static void
ctl_view_free_memory(Xenmesh__State *st)
{
	for (size_t i = 0; i < st->n_nodes; i++) {
		Xenmesh__Node *n = st->nodes[i];
		uint64_t used = 0;

		for (size_t k = 0; k < st->n_vms; k++) {
			const Xenmesh__Vm *vm = st->vms[k];
			enum vm_state vs;

			if (!vm->has_host || vm->host != n->id ||
			    vm_state_parse(vm->state, &vs) < 0 ||
			    !(vs == VM_STATE_STARTING || vs == VM_STATE_RUNNING ||
			      vs == VM_STATE_STOPPING || vs == VM_STATE_MIGRATING ||
			      vs == VM_STATE_RECOVERING))
				continue;
			used += vm->has_memory_mb ? vm->memory_mb : 0;
		}
		n->mem_free_mb = n->mem_total_mb > used ? n->mem_total_mb - used : 0;
	}
}

/* The replicated state in its wire form.  Packing and unpacking again
 * reuses state_pack() instead of a second converter to keep in step. */
static int
ctl_view_state(struct agent *a, struct ctl_view *v, const char *keep_config)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = state_pack(&a->rep.st, &buf, &len);
	if (rc < 0)
		return rc;
	v->state = xenmesh__state__unpack(NULL, len, buf);
	free(buf);
	if (v->state == NULL)
		return -ENOMEM;
	ctl_vm_view_trim(v->state, keep_config);
	/* the read group may not see fence passwords: `fence config` shows
	 * the chains redacted */
	free(v->state->fence_config);
	v->state->fence_config = NULL;
	ctl_view_free_memory(v->state);
	v->resp.state = v->state;
	return 0;
}

static int
ctl_view_fill(struct agent *a, struct ctl_view *v, const char *keep_config)
{
	const struct replica *r = &a->rep;
	const char *const *unmanaged = NULL;
	size_t i, n;
	int rc;

	*v = (struct ctl_view){
		.resp = XENMESH__CTL_RESPONSE__INIT,
		.cluster = XENMESH__CLUSTER_VIEW__INIT,
		.ring = XENMESH__RING_ID__INIT,
	};

	v->cluster.name = a->cluster_name;
	v->cluster.quorate = a->qv.quorate;
	if (!a->qv.quorate && a->qv.reason[0] != '\0')
		v->cluster.quorum_reason = a->qv.reason;
	v->cluster.ha_enabled = a->qv.ha_enabled;
	if (!a->qv.ha_enabled && a->qv.ha_reason[0] != '\0')
		v->cluster.ha_reason = a->qv.ha_reason;
	if (a->save.since_ms != 0) {
		v->cluster.state_save_error = a->save.error;
		v->cluster.has_state_save_failing_since_ms = 1;
		v->cluster.state_save_failing_since_ms = a->save.since_ms;
	}
	if (r->coordinator != 0) {
		v->cluster.has_coordinator = 1;
		v->cluster.coordinator = r->coordinator;
	}
	v->cluster.epoch = r->st.epoch;
	v->cluster.seq = r->st.seq;
	v->cluster.local_id = r->local_id;
	v->cluster.synced = r->synced;
	if (r->ring_nodeid != 0) {
		v->ring.nodeid = r->ring_nodeid;
		v->ring.seq = r->ring_seq;
		v->cluster.ring = &v->ring;
	}
	v->cluster.votes = a->qin.total_votes;
	/* as corosync-quorumtool says it: the device's vote included */
	v->cluster.expected_votes = a->qin.expected_votes + a->qin.qdevice_votes;
	v->cluster.quorum = a->qin.quorum;
	rc = state_digest(&r->st, v->digest);
	if (rc < 0)
		return rc;
	v->cluster.digest.data = v->digest;
	v->cluster.digest.len = sizeof(v->digest);
	v->resp.cluster = &v->cluster;

	n = r->n_members < SYNC_MAX_MEMBERS ? r->n_members : SYNC_MAX_MEMBERS;
	for (i = 0; i < n; i++)
		v->members[i] = r->members[i].nodeid;
	v->resp.n_members = n;
	v->resp.members = v->members;
	/* without it the answer just says nothing about failover capacity */
	rc = ctl_fence_view_fill(&r->st, &v->cluster, &v->fence);
	if (rc < 0)
		log_warn("cannot check the failover capacity: %s, ignoring",
			 xm_strerror(rc));
	v->resp.n_unmanaged = vmhost_unmanaged(a, &unmanaged);
	v->resp.unmanaged = (char **)unmanaged;
	return ctl_view_state(a, v, keep_config);
}

/* status, node list, vm list; `vm show VM` asks for that VM's xl.cfg. */
void
ctl_read_status(struct agent *a, qb_ipcs_connection_t *c, const char *keep_config)
{
	struct ctl_view v;
	int rc;

	rc = ctl_view_fill(a, &v, keep_config);
	if (rc < 0) {
		log_err("cannot build the status answer: %s", xm_strerror(rc));
		ctl_server_reply(c, rc, "cannot build the status answer");
		goto out_view;
	}
	ctl_server_answer(c, &v.resp);
out_view:
	ctl_view_free(&v);
}

/* A status answer plus, on a SAN node, its target daemon's view. */
void
ctl_read_storage_status(struct agent *a, qb_ipcs_connection_t *c)
{
	Xenmesh__StorageView sv;
	struct ctl_view v;
	void *mem = NULL;
	int rc;

	rc = ctl_view_fill(a, &v, NULL);
	if (rc < 0) {
		ctl_server_reply(c, rc, "cannot build the status answer");
		goto out_view;
	}
	if (san_view(a, &sv, &mem) == 0)
		v.resp.storage = &sv;
	ctl_server_answer(c, &v.resp);
	san_view_free(mem);
out_view:
	ctl_view_free(&v);
}

/* The events of the local log from id since (of kind only, when not
 * NULL) into v's answer. */
static int
ctl_view_events(struct agent *a, struct ctl_view *v, uint64_t since,
		const char *kind)
{
	const struct event **found;
	uint64_t next = since;
	size_t n, i, k = 0;

	found = calloc(EVENTLOG_RING, sizeof(*found));
	if (found == NULL)
		return -ENOMEM;
	n = eventlog_since(&a->events, since, found, EVENTLOG_RING, &next);
	v->events = calloc(n ? n : 1, sizeof(*v->events));
	v->event_ptrs = calloc(n ? n : 1, sizeof(*v->event_ptrs));
	if (v->events == NULL || v->event_ptrs == NULL) {
		free(found);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		Xenmesh__Event init = XENMESH__EVENT__INIT;
		Xenmesh__Event *e = &v->events[k];

		if (kind != NULL && strcmp(found[i]->kind, kind) != 0)
			continue;
		*e = init;
		e->id = found[i]->id;
		e->time_ms = found[i]->time_ms;
		e->epoch = found[i]->epoch;
		e->seq = found[i]->seq;
		e->node = found[i]->node;
		e->kind = (char *)found[i]->kind;
		e->text = (char *)found[i]->text;
		v->event_ptrs[k++] = e;
	}
	v->resp.n_events = k;
	v->resp.events = v->event_ptrs;
	v->resp.has_next_event = 1;
	v->resp.next_event = next;
	free(found);
	return 0;
}

void
ctl_read_events(struct agent *a, qb_ipcs_connection_t *c, uint64_t since)
{
	struct ctl_view v = { .resp = XENMESH__CTL_RESPONSE__INIT };
	int rc;

	rc = ctl_view_events(a, &v, since, NULL);
	/* the node table gives agentctl the names of the nodes */
	if (rc == 0)
		rc = ctl_view_state(a, &v, NULL);
	if (rc < 0) {
		log_err("cannot build the events answer: %s", xm_strerror(rc));
		ctl_server_reply(c, rc, "cannot build the events answer");
	} else {
		ctl_server_answer(c, &v.resp);
	}
	ctl_view_free(&v);
}

/* The coordinator's fence steps, one line each, into v's answer. */
static int
ctl_view_history(struct agent *a, struct ctl_view *v)
{
	size_t n = 0, cap = 0;
	char *line, *save = NULL;

	v->history = calloc(1, HISTORY_BUF_MAX);
	if (v->history == NULL)
		return -ENOMEM;
	(void)coord_fence_history(a, v->history, HISTORY_BUF_MAX);
	for (line = strtok_r(v->history, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nl = realloc(v->history_lines,
					    ncap * sizeof(*nl));

			if (nl == NULL)
				return -ENOMEM;
			v->history_lines = nl;
			cap = ncap;
		}
		v->history_lines[n++] = line;
	}
	v->resp.n_fence_history = n;
	v->resp.fence_history = v->history_lines;
	return 0;
}

/* `fence history`: a status answer (who is coordinator, node names), the
 * local "fence" events (self-fences here; the fence steps too when this
 * node is the coordinator) and, on the coordinator only, its fence steps:
 * agentctl says where to look when they are kept elsewhere. */
void
ctl_read_fence_history(struct agent *a, qb_ipcs_connection_t *c)
{
	struct ctl_view v;
	int rc;

	rc = ctl_view_fill(a, &v, NULL);
	if (rc == 0)
		rc = ctl_view_events(a, &v, 0, "fence");
	if (rc == 0 && replica_is_coordinator(&a->rep))
		rc = ctl_view_history(a, &v);
	if (rc < 0) {
		log_err("cannot build the fence history answer: %s",
			xm_strerror(rc));
		ctl_server_reply(c, rc, "cannot build the fence history answer");
	} else {
		ctl_server_answer(c, &v.resp);
	}
	ctl_view_free(&v);
}

