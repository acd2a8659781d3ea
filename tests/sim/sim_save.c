/* The simulator's save images (`vm save`, resume): setup and events; see
 * the list in tests/sim/sim.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* The active SAN node is the first SAN node of the setup. */
static int
san_active(struct sim *s, int line)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpSanActive sa = XENMESH__OP_SAN_ACTIVE__INIT;

	if (s->st.active_san != 0)
		return 0;
	for (size_t i = 0; i < s->st.n_nodes; i++) {
		if (s->st.nodes[i].role == NODE_ROLE_SAN) {
			sa.id = s->st.nodes[i].id;
			op.kind_case = XENMESH__OP__KIND_SAN_ACTIVE;
			op.san_active = &sa;
			return commit(s, &op);
		}
	}
	return fail(s, "setup", line, "savevol needs a SAN node set up first");
}

int
sim_save_volume(struct sim *s, const char *vm, uint64_t memory_mb, int line)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeCreate vc = XENMESH__OP_VOLUME_CREATE__INIT;
	Xenmesh__OpVolumeSet vs = XENMESH__OP_VOLUME_SET__INIT;
	char name[VOL_NAME_MAX];
	int rc = san_active(s, line);

	if (rc < 0)
		return rc;
	vc.vm = (char *)vm;
	vc.disk = (char *)VM_SAVE_DISK;
	vc.size_bytes = (memory_mb + 64) << 20;
	op.kind_case = XENMESH__OP__KIND_VOLUME_CREATE;
	op.volume_create = &vc;
	rc = commit(s, &op);
	if (rc < 0)
		return rc;
	snprintf(name, sizeof(name), "%s-%s", vm, VM_SAVE_DISK);
	vs.name = name;
	vs.state = (char *)"ready";
	op.kind_case = XENMESH__OP__KIND_VOLUME_SET;
	op.volume_set = &vs;
	return commit(s, &op);
}

/* An admin's op, validated as the agent's endpoint and the coordinator
 * would: a refusal is printed. */
static int
admin_want(struct sim *s, const char *vm, bool running, uint32_t host,
	   bool save, bool fresh)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmWant want = XENMESH__OP_VM_WANT__INIT;
	char why[256];

	want.name = (char *)vm;
	want.running = running;
	want.has_host = host != 0;
	want.host = host;
	want.has_save = save;
	want.save = save;
	want.has_fresh = fresh;
	want.fresh = fresh;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &want;
	if (state_validate(&s->st, &op, why, sizeof(why)) < 0) {
		emit(s, "refused: %s", why);
		return 0;
	}
	return commit(s, &op);
}

int
sim_save_event(struct sim *s, char **tok, int n, int line)
{
	const char *what = tok[1];
	const struct vm_rec *v = n > 2 ? state_vm(&s->st, tok[2]) : NULL;
	char reason[256] = "";

	for (int i = 3; i < n; i++)
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
			 "%s%s", i > 3 ? " " : "", tok[i]);
	if (strcmp(what, "save") == 0 && n == 3) {
		emit(s, "event: admin save %s", tok[2]);
		return admin_want(s, tok[2], false, 0, true, false);
	}
	if (strcmp(what, "start-fresh") == 0 && (n == 3 || n == 4)) {
		emit(s, "event: admin start %s --fresh", tok[2]);
		return admin_want(s, tok[2], true, n == 4 ? node_id(s, tok[3]) : 0,
				  false, true);
	}
	if (strcmp(what, "vm-saved") == 0 && n == 4) {
		emit(s, "event: %s saved (%s bytes)", tok[2], tok[3]);
		return host_event_from(s, XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED, tok[2],
				       v ? v->host : 0, 0, NULL,
				       strtoull(tok[3], NULL, 10), line);
	}
	if (strcmp(what, "vm-save-failed") == 0 && n >= 3) {
		emit(s, "event: %s save failed (%s)", tok[2], reason);
		return host_event_from(s, XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED,
				       tok[2], v ? v->host : 0, 0, reason, 0, line);
	}
	if (strcmp(what, "check") == 0 && n == 3) {
		if (v == NULL)
			return fail(s, "events", line, "no VM %s", tok[2]);
		emit(s, "check %s: %s, wanted %s, save requested %s, image of "
		     "generation %" PRIu64 " (%" PRIu64 " bytes)", v->name,
		     vm_state_name(v->state), v->want_running ? "running" : "stopped",
		     v->save_requested ? "yes" : "no", v->saved_gen, v->saved_bytes);
		return 0;
	}
	return 1;
}
