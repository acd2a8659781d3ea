/* The storage commands of agentctl in xenmeshd; see ctl_storage.h.
 *
 * A volume is asked of the cluster (the coordinator validates and commits
 * it "creating"); the active SAN node makes it and reports it ready or
 * failed.  The answer waits for that outcome, so `agentctl volume create`
 * says whether the volume exists, not just that it was asked for. */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_storage.h"
#include "ctl_vm.h"
#include "log.h"
#include "voltable.h"
#include "xm_error.h"

#define VOLUME_WAIT_MS   200
#define VOLUME_WAIT_MAX  (120 * 1000 / VOLUME_WAIT_MS)

struct volume_wait {
	struct agent *a;
	qb_ipcs_connection_t *c;
	char name[VOL_NAME_MAX];
	unsigned tries;
	qb_loop_timer_handle timer;
};

static void
wait_finish(struct volume_wait *w, int result, const char *msg)
{
	if (w->c != NULL) {
		ctl_server_reply(w->c, result, msg);
		qb_ipcs_connection_unref(w->c);
	}
	free(w);
}

static void
wait_poll(void *data)
{
	struct volume_wait *w = data;
	const struct vol_rec *v = state_vol(&w->a->rep.st, w->name);
	char msg[VM_REASON_MAX + 256];

	if (v == NULL) {
		snprintf(msg, sizeof(msg), "volume %s is gone", w->name);
		wait_finish(w, -ENOENT, msg);
		return;
	}
	if (v->state == VOL_STATE_READY) {
		snprintf(msg, sizeof(msg), "volume %s created (LUN %" PRIu32 ", %" PRIu64
			 " bytes)", v->name, v->lun, v->size_bytes);
		wait_finish(w, 0, msg);
		return;
	}
	if (v->state == VOL_STATE_FAILED) {
		snprintf(msg, sizeof(msg), "volume %s could not be made: %s; "
			 "`agentctl volume remove %s` forgets it", v->name,
			 v->reason[0] ? v->reason : "no reason given", v->name);
		wait_finish(w, -EIO, msg);
		return;
	}
	if (++w->tries > VOLUME_WAIT_MAX) {
		snprintf(msg, sizeof(msg), "volume %s is still %s after 120 s; see "
			 "agentctl volume list", v->name, vol_state_name(v->state));
		wait_finish(w, -ETIMEDOUT, msg);
		return;
	}
	(void)qb_loop_timer_add(w->a->loop, QB_LOOP_LOW,
				VOLUME_WAIT_MS * QB_TIME_NS_IN_MSEC, w, wait_poll,
				&w->timer);
}

static void
create_then(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	    const char *reason)
{
	struct volume_wait *w = data;

	if (result < 0 || c == NULL) {
		if (c != NULL)
			ctl_server_reply(c, result, reason);
		free(w);
		return;
	}
	qb_ipcs_connection_ref(c);
	w->c = c;
	wait_poll(w);
}

static void
volume_create(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	      const Xenmesh__CtlRequest *req)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeCreate vc = XENMESH__OP_VOLUME_CREATE__INIT;
	struct ctl_mutation m = { .uid = uid };
	struct volume_wait *w;
	char why[256], *end;
	unsigned long long size;

	if (req->n_args != 3) {
		ctl_server_reply(c, -EINVAL, "volume create needs VM, DISK and SIZE");
		return;
	}
	errno = 0;
	size = strtoull(req->args[2], &end, 10);
	if (errno != 0 || *end != '\0' || req->args[2][0] < '0' || req->args[2][0] > '9') {
		ctl_server_reply(c, -EINVAL, "volume size must be a number of bytes");
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		ctl_server_reply(c, -ENOMEM, "out of memory");
		return;
	}
	if (vol_name_make(w->name, sizeof(w->name), req->args[0], req->args[1], why,
			  sizeof(why)) < 0) {
		ctl_server_reply(c, -EINVAL, why);
		free(w);
		return;
	}
	w->a = a;
	vc.vm = req->args[0];
	vc.disk = req->args[1];
	vc.size_bytes = size;
	op.kind_case = XENMESH__OP__KIND_VOLUME_CREATE;
	op.volume_create = &vc;
	snprintf(m.what, sizeof(m.what), "volume create %s (%llu bytes)", w->name, size);
	m.then = create_then;
	m.then_data = w;
	ctl_server_submit(a, c, &m, &op);
}

static void
volume_remove(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	      const Xenmesh__CtlRequest *req)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeSet set = XENMESH__OP_VOLUME_SET__INIT;
	Xenmesh__OpVolumeRemove rm = XENMESH__OP_VOLUME_REMOVE__INIT;
	struct ctl_mutation m = { .uid = uid };
	const struct vol_rec *v;

	if (req->n_args != 1) {
		ctl_server_reply(c, -EINVAL, "volume remove needs a volume name");
		return;
	}
	v = state_vol(&a->rep.st, req->args[0]);
	snprintf(m.what, sizeof(m.what), "volume remove %.200s", req->args[0]);
	/* one that never came to be has nothing on the SAN to remove */
	if (v != NULL && v->state == VOL_STATE_FAILED) {
		rm.name = req->args[0];
		op.kind_case = XENMESH__OP__KIND_VOLUME_REMOVE;
		op.volume_remove = &rm;
		snprintf(m.done, sizeof(m.done), "volume %s forgotten", v->name);
	} else {
		set.name = req->args[0];
		set.state = "removing";
		op.kind_case = XENMESH__OP__KIND_VOLUME_SET;
		op.volume_set = &set;
		snprintf(m.done, sizeof(m.done), "volume %.200s is being removed by "
			 "the active SAN node", req->args[0]);
	}
	ctl_server_submit(a, c, &m, &op);
}

void
ctl_storage_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		    const Xenmesh__CtlRequest *req)
{
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_VOLUME_CREATE:
		volume_create(a, c, uid, req);
		break;
	case XENMESH__CTL_COMMAND__CTL_VOLUME_REMOVE:
		volume_remove(a, c, uid, req);
		break;
	default:
		ctl_server_reply(c, -EOPNOTSUPP, "not a storage command");
		break;
	}
}
