/* Volume ops of vm create and vm restore, and the wait until they have
 * settled; see ctl_volwait.h. */
#define LOG_SUBSYS "volume"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl_volwait.h"
#include "log.h"
#include "san_int.h"
#include "state.h"
#include "xm_error.h"

#define POLL_MS         200
#define POLL_MAX        (120 * 1000 / POLL_MS)

static void poll_vol(void *data);

static void
answer(struct volwait *w, int rc, bool recorded, const char *why)
{
	volwait_fn *cb = w->cb;

	w->cb = NULL;
	cb(w->data, rc, recorded, why);
}

static int
arm(struct volwait *w, unsigned ms)
{
	if (qb_loop_timer_add(w->a->loop, QB_LOOP_LOW, ms * QB_TIME_NS_IN_MSEC, w,
			      poll_vol, &w->timer) != 0) {
		w->timer = 0;
		return -ENOMEM;
	}
	return 0;
}

/* Ready, and under DRBD Primary and UpToDate here: only then is the
 * device (the one the target exports) the volume's current data. */
static bool
usable(const struct agent *a, const struct vol_rec *v)
{
	return v->state == VOL_STATE_READY &&
	       (a->san == NULL || !a->san->drbd || san_mirror_exportable(a->san, v));
}

static void
poll_vol(void *data)
{
	struct volwait *w = data;
	const struct vol_rec *v = state_vol(&w->a->rep.st, w->vol);
	char why[VM_REASON_MAX + 128];

	w->timer = 0;
	if (w->fail_rc < 0) {
		answer(w, w->fail_rc, false, w->fail_why);
		return;
	}
	if (w->removing) {
		if (v == NULL) {
			answer(w, 0, false, NULL);
			return;
		}
	} else if (v == NULL) {
		xm_why(why, sizeof(why), "volume %s is gone", w->vol);
		answer(w, -ENOENT, false, why);
		return;
	} else if (usable(w->a, v)) {
		answer(w, 0, true, NULL);
		return;
	} else if (v->state == VOL_STATE_FAILED) {
		xm_why(why, sizeof(why), "volume %s could not be made: %s", w->vol,
		       v->reason[0] ? v->reason : "no reason given");
		answer(w, -EIO, true, why);
		return;
	}
	if (++w->tries > POLL_MAX) {
		if (v->state == VOL_STATE_READY)
			xm_why(why, sizeof(why), "volume %s: its DRBD device is not "
			       "Primary and UpToDate here after 120 s", w->vol);
		else
			xm_why(why, sizeof(why), "volume %s is still %s after 120 s",
			       w->vol, vol_state_name(v->state));
		answer(w, -ETIMEDOUT, true, why);
		return;
	}
	if (arm(w, POLL_MS) < 0)
		answer(w, -ENOMEM, true, "cannot arm a timer to watch the volume");
}

static void
submitted(struct agent *a, void *data, qb_ipcs_connection_t *c, int result,
	  const char *reason)
{
	struct volwait *w = data;
	char why[CTL_MUTATION_TEXT_MAX + 300];

	(void)a;
	(void)c;
	if (result < 0) {
		/* refused: the coordinator recorded nothing */
		xm_why(why, sizeof(why), "volume %s %s refused: %s", w->removing ?
		       "remove" : "create", w->vol, reason ? reason : xm_strerror(result));
		answer(w, result, false, why);
		return;
	}
	w->tries = 0;
	if (arm(w, POLL_MS) < 0)
		answer(w, -ENOMEM, !w->removing, "cannot arm a timer to watch the volume");
}

static void
start(struct volwait *w, const char *vol, bool removing, volwait_fn *cb, void *data)
{
	snprintf(w->vol, sizeof(w->vol), "%s", vol);
	w->removing = removing;
	w->tries = 0;
	w->fail_rc = 0;
	w->cb = cb;
	w->data = data;
}

void
volwait_init(struct volwait *w, struct agent *a, uint32_t uid)
{
	memset(w, 0, sizeof(*w));
	w->a = a;
	w->uid = uid;
}

void
volwait_create(struct volwait *w, const char *vm, const char *disk, uint64_t bytes,
	       const char *purpose, volwait_fn *cb, void *data)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeCreate vc = XENMESH__OP_VOLUME_CREATE__INIT;
	struct ctl_mutation m = { .uid = w->uid };
	char name[VOL_NAME_MAX];

	snprintf(name, sizeof(name), "%s-%s", vm, disk);
	start(w, name, false, cb, data);
	vc.vm = (char *)vm;
	vc.disk = (char *)disk;
	vc.size_bytes = bytes;
	op.kind_case = XENMESH__OP__KIND_VOLUME_CREATE;
	op.volume_create = &vc;
	snprintf(m.what, sizeof(m.what), "volume create %s (%" PRIu64 " bytes) %s",
		 w->vol, bytes, purpose);
	m.then = submitted;
	m.then_data = w;
	ctl_server_submit(w->a, NULL, &m, &op);
}

bool
volwait_remove_submit(struct agent *a, uint32_t uid, const char *vol,
		      const char *purpose, ctl_then_fn *then, void *then_data)
{
	const struct vol_rec *v = state_vol(&a->rep.st, vol);
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeSet set = XENMESH__OP_VOLUME_SET__INIT;
	Xenmesh__OpVolumeRemove rm = XENMESH__OP_VOLUME_REMOVE__INIT;
	struct ctl_mutation m = { .uid = uid };

	if (v == NULL)
		return false;
	if (v->state == VOL_STATE_FAILED) {
		rm.name = (char *)vol;
		op.kind_case = XENMESH__OP__KIND_VOLUME_REMOVE;
		op.volume_remove = &rm;
	} else {
		set.name = (char *)vol;
		set.state = "removing";
		op.kind_case = XENMESH__OP__KIND_VOLUME_SET;
		op.volume_set = &set;
	}
	snprintf(m.what, sizeof(m.what), "volume remove %s %s", vol, purpose);
	m.then = then;
	m.then_data = then_data;
	ctl_server_submit(a, NULL, &m, &op);
	return true;
}

int
volwait_remove(struct volwait *w, const char *vol, const char *purpose,
	       volwait_fn *cb, void *data)
{
	start(w, vol, true, cb, data);
	if (volwait_remove_submit(w->a, w->uid, w->vol, purpose, submitted, w))
		return 0;
	/* nothing to remove: said from the loop, as promised */
	if (arm(w, 0) < 0) {
		w->cb = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
volwait_fail(struct volwait *w, int rc, const char *why, volwait_fn *cb, void *data)
{
	start(w, "", false, cb, data);
	w->fail_rc = rc;
	snprintf(w->fail_why, sizeof(w->fail_why), "%s", why);
	if (arm(w, 0) < 0) {
		w->cb = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
volwait_stop(struct volwait *w)
{
	if (w->timer != 0)
		(void)qb_loop_timer_del(w->a->loop, w->timer);
	w->timer = 0;
	w->cb = NULL;
}
