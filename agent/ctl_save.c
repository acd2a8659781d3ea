/* `agentctl vm save VM`, on the active SAN node (ctl_forward.c brings it
 * here from any node).
 *
 * The save volume VM-save (memory + SAVE_VOLUME_EXTRA_MB) is made first
 * when it is missing (ctl_volwait.c: ready here, under DRBD Primary and
 * UpToDate); then the cluster is asked for the stop-by-save (OpVmWant
 * save).  The answer waits for its end, as `xl save` does: stopped with
 * the image (saved_gen), or running on with why the save failed.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_server.h"
#include "ctl_vm.h"
#include "ctl_volwait.h"
#include "log.h"
#include "san_int.h"
#include "cluster.h"
#include "vmsave.h"
#include "voltable.h"
#include "wire.h"
#include "xm_error.h"

#define SAVE_POLL_MS    500
#define MSG_MAX         320

struct ctl_save_wait {
	struct agent *a;
	struct ctl_vm *vm;
	qb_ipcs_connection_t *conn;     /* a reference, NULL when it left */
	uint32_t uid;
	char name[STATE_NAME_MAX];
	uint64_t gen;                   /* the instance being saved */
	struct volwait vw;
	qb_loop_timer_handle timer;
	struct ctl_save_wait *next;
};

static void
wait_free(struct ctl_save_wait *w)
{
	for (struct ctl_save_wait **p = &w->vm->saves; *p != NULL; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	volwait_stop(&w->vw);
	if (w->timer != 0)
		(void)qb_loop_timer_del(w->a->loop, w->timer);
	if (w->conn != NULL)
		qb_ipcs_connection_unref(w->conn);
	free(w);
}

static void
wait_answer(struct ctl_save_wait *w, int rc, const char *msg)
{
	if (rc < 0)
		log_warn("uid %u: vm save %s failed: %s", (unsigned)w->uid, w->name, msg);
	if (w->conn != NULL)
		ctl_server_reply(w->conn, rc, msg);
	wait_free(w);
}

static void poll_fn(void *data);

static void
poll_arm(struct ctl_save_wait *w)
{
	if (qb_loop_timer_add(w->a->loop, QB_LOOP_LOW, SAVE_POLL_MS * QB_TIME_NS_IN_MSEC,
			      w, poll_fn, &w->timer) != 0) {
		w->timer = 0;
		wait_answer(w, -ENOMEM, "cannot follow the save (no timer); see "
			    "agentctl vm show");
	}
}

/* Saved, failed, or still under way? */
static void
poll_fn(void *data)
{
	struct ctl_save_wait *w = data;
	const struct vm_rec *v = state_vm(&w->a->rep.st, w->name);
	char msg[MSG_MAX];

	w->timer = 0;
	if (v == NULL) {
		xm_why(msg, sizeof(msg), "VM %s was undefined during its save", w->name);
		wait_answer(w, -ENOENT, msg);
		return;
	}
	if (v->saved_gen == w->gen && v->state == VM_STATE_STOPPED) {
		xm_why(msg, sizeof(msg), "VM %s saved: %" PRIu64 " MB on volume %s-%s; "
			"agentctl vm resume %s [--on HOST] runs it again", v->name,
			(v->saved_bytes + (1 << 20) - 1) >> 20, v->name, VM_SAVE_DISK,
			v->name);
		wait_answer(w, 0, msg);
		return;
	}
	if (v->save_requested || (v->state == VM_STATE_STOPPING &&
				  v->generation == w->gen)) {
		poll_arm(w);            /* under way */
		return;
	}
	if (v->state == VM_STATE_RUNNING && v->generation == w->gen) {
		xm_why(msg, sizeof(msg), "VM %s was not saved and runs on: %s", v->name,
			v->reason[0] ? v->reason : "no reason given");
		wait_answer(w, -EIO, msg);
		return;
	}
	xm_why(msg, sizeof(msg), "VM %s was not saved: it is %s%s%s", v->name,
		vm_state_name(v->state), v->reason[0] ? ": " : "", v->reason);
	wait_answer(w, -EIO, msg);
}

/* The cluster took the save (or refused it). */
static void
save_committed(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	       const char *reason)
{
	struct ctl_save_wait *w = data;

	(void)a;
	(void)c;                /* w holds its own reference */
	if (result < 0) {
		wait_answer(w, result, reason ? reason : xm_strerror(result));
		return;
	}
	poll_arm(w);
}

static void
save_submit(struct ctl_save_wait *w)
{
	const struct vm_rec *v = state_vm(&w->a->rep.st, w->name);
	Xenmesh__OpVmWant want = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	struct ctl_mutation m;
	char msg[MSG_MAX];

	if (v == NULL || v->state != VM_STATE_RUNNING) {
		xm_why(msg, sizeof(msg), "VM %s is %s: only a running VM can be saved",
			w->name, v ? vm_state_name(v->state) : "gone");
		wait_answer(w, v ? -EBUSY : -ENOENT, msg);
		return;
	}
	w->gen = v->generation;
	want.name = w->name;
	want.running = false;
	want.has_save = true;
	want.save = true;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &want;
	ctl_vm_mutation_init(&m, w->uid, "", "vm save %s (generation %" PRIu64 ")",
			     w->name, w->gen);
	m.then = save_committed;
	m.then_data = w;
	ctl_server_submit(w->a, w->conn, &m, &op);
}

static void
volume_ready(void *data, int rc, bool recorded, const char *why)
{
	struct ctl_save_wait *w = data;
	char msg[MSG_MAX];

	(void)recorded;         /* kept: the next save uses it */
	if (rc < 0) {
		xm_why(msg, sizeof(msg), "VM %s not saved: %s", w->name, why);
		wait_answer(w, rc, msg);
		return;
	}
	save_submit(w);
}

/* An agent of protocol 1.2 would take the save op for a plain stop (it
 * ignores the fields it does not know) and its state would part from the
 * others': 0, or -EPROTO with why. */
static int
members_speak_save(struct agent *a, char *why, size_t whylen)
{
	uint32_t id;
	uint16_t minor;

	if (cluster_members_speak(a, XM_PROTO_MINOR_SAVE, &id, &minor))
		return 0;
	xm_why(why, whylen, "vm save needs protocol %u.%u on every member: "
	       "node %" PRIu32 " speaks %u.%u (finish the upgrade first)",
	       XM_PROTO_MAJOR, XM_PROTO_MINOR_SAVE, id, XM_PROTO_MAJOR, minor);
	return -EPROTO;
}

void
ctl_save_request(struct agent *a, struct ctl_vm *vm, qb_ipcs_connection_t *c,
		 uint32_t uid, const Xenmesh__CtlRequest *req)
{
	const struct vm_rec *v = ctl_vm_find(a, c, req, 1, "save");
	const struct vol_rec *vol;
	struct ctl_save_wait *w;
	char name[VOL_NAME_MAX], msg[MSG_MAX];
	uint64_t need;

	if (v == NULL)
		return;
	if (v->state != VM_STATE_RUNNING) {
		xm_why(msg, sizeof(msg), "VM %s is %s: only a running VM can be saved",
			v->name, vm_state_name(v->state));
		ctl_server_reply(c, -EBUSY, msg);
		return;
	}
	if (members_speak_save(a, msg, sizeof(msg)) < 0) {
		ctl_server_reply(c, -EPROTO, msg);
		return;
	}
	if (vol_name_make(name, sizeof(name), v->name, VM_SAVE_DISK, msg, sizeof(msg)) < 0) {
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	need = (v->memory_mb + SAVE_VOLUME_EXTRA_MB) << 20;
	vol = state_vol(&a->rep.st, name);
	if (vol != NULL && vol->size_bytes < need) {
		xm_why(msg, sizeof(msg), "save volume %s has %" PRIu64 " MB, VM %s needs "
			"%" PRIu64 " MB: agentctl volume remove %s, then save again",
			name, vol->size_bytes >> 20, v->name, need >> 20, name);
		ctl_server_reply(c, -ENOSPC, msg);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	w->a = a;
	w->vm = vm;
	w->uid = uid;
	snprintf(w->name, sizeof(w->name), "%s", v->name);
	qb_ipcs_connection_ref(c);
	w->conn = c;
	w->next = vm->saves;
	vm->saves = w;
	volwait_init(&w->vw, a, uid);
	if (vol == NULL) {
		log_notice("uid %u: vm save %s: making its save volume %s (%" PRIu64
			   " MB)", (unsigned)uid, v->name, name, need >> 20);
		volwait_create(&w->vw, v->name, VM_SAVE_DISK, need, "for vm save",
			       volume_ready, w);
		return;
	}
	/* the SAN node writes it: it must be the current data here */
	if (vol->state != VOL_STATE_READY ||
	    (a->san != NULL && a->san->drbd && !san_mirror_exportable(a->san, vol))) {
		xm_why(msg, sizeof(msg), "VM %s not saved: its save volume %s is %s",
			v->name, name, vol->state != VOL_STATE_READY ?
			vol_state_name(vol->state) : "not Primary and UpToDate here");
		wait_answer(w, -EAGAIN, msg);
		return;
	}
	save_submit(w);
}

void
ctl_save_stop(struct ctl_vm *vm)
{
	while (vm->saves != NULL) {
		log_warn("vm save %s: xenmeshd stops; its outcome shows in agentctl "
			 "vm show", vm->saves->name);
		wait_answer(vm->saves, -ECANCELED, "xenmeshd stopped; see agentctl "
			    "vm show for the save's outcome");
	}
}
