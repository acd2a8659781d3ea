/* `vm save` and its resume, this host's part (see vmsave.h for the wire).
 *
 * Save: the coordinator commits `stopping` with save_requested.  This
 * host runs the driver's migrate_send into one end of a socketpair and
 * dials the active SAN node's peer channel with the other; the SAN node
 * writes the stream onto the VM's save volume (agent/san_saveimg.c) and
 * answers one line once it is synced there.  Only with the driver's
 * stream complete, the channel ended cleanly and that line read is the
 * domain destroyed and HOST_VM_SAVED reported (the coordinator then
 * records the image: stopped, saved_gen).  Any failure resumes the
 * domain and reports HOST_VM_SAVE_FAILED: it runs on.
 *
 * Resume: a start of a VM with saved_gen.  The driver's restore reads the
 * image the SAN node streams, hashing it as it goes; a sha256 other than
 * the one saved aborts the channel at the end.  So the domain runs only
 * once the stream and the channel ended cleanly; a failure destroys what
 * was received (paused, it never ran) and is a failed start: the image
 * stays for the next try.
 *
 * A domain suspended by a save that no job owns (the agent restarted
 * meanwhile) is resumed and the save reported failed.
 */
#define LOG_SUBSYS "vmsave"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "peer_hub.h"
#include "vmhost.h"
#include "vmhost_int.h"
#include "vmsave.h"
#include "xlcfg.h"
#include "xm_error.h"

#define SAVE_REPLY_MAX 256

struct save_job {
	struct vmhost *vh;
	bool resume;
	char vm[VM_NAME_MAX];
	uint64_t gen;
	int fd_hv;                      /* the driver's end */
	int fd_peer;                    /* the channel's end */
	struct peer_conn *conn;
	bool hv_done, peer_done;
	int hv_rc;                      /* the driver's result, once hv_done */
	char why[HV_REASON_MAX + 16];   /* the first failure */
	uint64_t started_ms;
	struct save_job *next;
};

static struct save_job *
job_find(struct vmhost *vh, const char *vm, uint64_t gen)
{
	for (struct save_job *j = vh->saves; j != NULL; j = j->next)
		if (j->gen == gen && strcmp(j->vm, vm) == 0)
			return j;
	return NULL;
}

static void
job_free(struct save_job *j)
{
	struct vmhost *vh = j->vh;

	for (struct save_job **p = &vh->saves; *p != NULL; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			break;
		}
	}
	if (j->fd_hv >= 0)
		close(j->fd_hv);
	if (j->fd_peer >= 0)
		close(j->fd_peer);
	free(j);
}

static struct save_job *
job_new(struct vmhost *vh, const struct vm_rec *v, bool resume)
{
	struct save_job *j = calloc(1, sizeof(*j));
	int sp[2];

	if (j == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		free(j);
		return NULL;
	}
	j->vh = vh;
	j->resume = resume;
	snprintf(j->vm, sizeof(j->vm), "%s", v->name);
	j->gen = v->generation;
	j->fd_hv = sp[0];
	j->fd_peer = sp[1];
	j->started_ms = vmhost_now_ms();
	j->next = vh->saves;
	vh->saves = j;
	return j;
}

static void
job_fail(struct save_job *j, const char *why)
{
	if (j->why[0] == '\0')
		snprintf(j->why, sizeof(j->why), "%s", why);
}

/* Stop the transfer; the driver ends it with an event. */
static void
job_abort(struct save_job *j, const char *why)
{
	job_fail(j, why);
	if (j->conn != NULL && !j->peer_done)
		peer_conn_abort(j->conn);
	(void)shutdown(j->fd_hv, SHUT_RDWR);
	(void)shutdown(j->fd_peer, SHUT_RDWR);
}

/* The SAN node's line, all there once the channel ended cleanly:
 * "saved VM GEN LENGTH SHA256". */
static int
reply_read(struct save_job *j, uint64_t *bytes)
{
	char buf[SAVE_REPLY_MAX], vm[VM_NAME_MAX], sha[72];
	uint64_t gen;
	size_t len = 0;
	ssize_t n;
	int used = 0;

	while (len < sizeof(buf) - 1 &&
	       (n = recv(j->fd_hv, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if (sscanf(buf, "saved %63s %" SCNu64 " %" SCNu64 " %71s\n%n", vm, &gen,
		   bytes, sha, &used) != 4 || (size_t)used != len ||
	    strcmp(vm, j->vm) != 0 || gen != j->gen || *bytes == 0)
		return -EBADMSG;
	return 0;
}

/* The SAN node and its channel address; -errno with why. */
static int
san_target(struct vmhost *vh, char *addr, size_t len, uint16_t *port,
	   const char **name, char *why, size_t whylen)
{
	const struct state *st = &vh->a->rep.st;
	const struct node_rec *san = state_node(st, st->active_san);

	*name = san ? san->name : "?";
	if (vh->a->peer == NULL) {
		snprintf(why, whylen, "this host has no peer channel ([peer] listen "
			 "in xenmesh.conf)");
		return -ENOTCONN;
	}
	if (san == NULL || san->state != NODE_STATE_ONLINE) {
		snprintf(why, whylen, "no active SAN node online");
		return -ENODEV;
	}
	if (san->peer_addr[0] == '\0' ||
	    peer_hub_addr_split(san->peer_addr, addr, len, port) < 0) {
		snprintf(why, whylen, "SAN node %s has no usable peer channel "
			 "address", san->name);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* ---- the end of a job ------------------------------------------------------- */

static void
save_settle(struct vmhost *vh, struct save_job *j, const struct vm_rec *v)
{
	struct memo *m = memo_get(vh, j->vm, j->gen);
	uint64_t bytes = 0;
	int rc;

	if (j->why[0] == '\0' && reply_read(j, &bytes) < 0)
		job_fail(j, "the SAN node did not confirm the image");
	if (j->why[0] == '\0') {
		log_notice("VM %s (generation %" PRIu64 ") saved: %" PRIu64 " bytes "
			   "in %" PRIu64 " ms", j->vm, j->gen, bytes,
			   vmhost_now_ms() - j->started_ms);
		/* said before the destroy: its event must find this done */
		m->done |= DONE_GONE;
		if (v != NULL)
			(void)report_fact_bytes(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED,
						v, NULL, bytes);
		rc = vh->ops->destroy(vh->hv, j->vm);
		if (rc < 0)
			log_err("cannot destroy saved VM %s: %s", j->vm, xm_strerror(rc));
		return;
	}
	log_err("save of VM %s (generation %" PRIu64 ") failed: %s; it runs on",
		j->vm, j->gen, j->why);
	rc = vh->ops->resume(vh->hv, j->vm);
	if (rc < 0)
		log_err("cannot resume VM %s after the failed save: %s", j->vm,
			xm_strerror(rc));
	if (v != NULL)
		(void)report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED,
				  v, 0, j->why);
}

static void
resume_settle(struct vmhost *vh, struct save_job *j, const struct vm_rec *v)
{
	struct memo *m = memo_get(vh, j->vm, j->gen);
	int rc;

	if (j->why[0] == '\0') {
		rc = vh->ops->resume(vh->hv, j->vm);
		if (rc < 0) {
			char why[HV_REASON_MAX];

			snprintf(why, sizeof(why), "%s driver cannot unpause it: %s",
				 vh->ops->name, xm_strerror(rc));
			job_fail(j, why);
		}
	}
	if (j->why[0] == '\0') {
		log_notice("VM %s (generation %" PRIu64 ") resumed from its save "
			   "image in %" PRIu64 " ms", j->vm, j->gen,
			   vmhost_now_ms() - j->started_ms);
		m->done |= DONE_STARTED;
		if (v != NULL)
			(void)report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED,
					  v, 0, NULL);
		return;
	}
	log_err("resume of VM %s (generation %" PRIu64 ") failed: %s", j->vm,
		j->gen, j->why);
	m->done |= DONE_GONE;
	if (j->hv_rc == 0 && j->hv_done) {
		rc = vh->ops->destroy(vh->hv, j->vm);
		if (rc < 0)
			log_err("cannot destroy the half-resumed VM %s: %s", j->vm,
				xm_strerror(rc));
	}
	if (v != NULL)
		(void)report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED,
				  v, 0, j->why);
}

/* Both sides done: decide, report, free. */
static void
job_settle(struct save_job *j)
{
	struct vmhost *vh = j->vh;
	const struct vm_rec *v = state_vm(&vh->a->rep.st, j->vm);

	if (!j->hv_done || !j->peer_done)
		return;
	if (v != NULL && v->generation != j->gen)
		v = NULL;
	if (j->resume)
		resume_settle(vh, j, v);
	else
		save_settle(vh, j, v);
	job_free(j);
	vmhost_kick(vh->a);
}

static void
peer_done_cb(void *arg, int rc, const char *why)
{
	struct save_job *j = arg;
	char text[HV_REASON_MAX];

	j->peer_done = true;
	j->conn = NULL;
	if (rc < 0) {
		const char *said = why != NULL ? strstr(why, " aborted: ") : NULL;

		/* its own words, without its address: the VM's reason is short */
		if (rc == -ECONNABORTED && said != NULL)
			why = said + strlen(" aborted: ");
		snprintf(text, sizeof(text), "SAN node: %s",
			 why != NULL ? why : xm_strerror(rc));
		job_fail(j, text);
		/* the driver learns it from its fd */
		(void)shutdown(j->fd_peer, SHUT_RDWR);
	}
	job_settle(j);
}

bool
vmsave_hv_event(struct vmhost *vh, const struct hv_event *ev)
{
	struct save_job *j = job_find(vh, ev->name, ev->generation);
	char text[HV_REASON_MAX + 16];

	if (j == NULL || j->hv_done)
		return false;
	if ((ev->kind == HV_EVENT_MIGRATE_SENT) == j->resume)
		return false;
	j->hv_done = true;
	j->hv_rc = ev->result;
	if (ev->result < 0) {
		snprintf(text, sizeof(text), "%s: %s", j->resume ? "receive" : "send",
			 ev->reason[0] ? ev->reason : xm_strerror(ev->result));
		job_abort(j, text);
	} else {
		/* this side's stream is complete: its end lets the channel
		 * finish (and, saving, the SAN node answer) */
		(void)shutdown(j->fd_hv, SHUT_WR);
	}
	job_settle(j);
	return true;
}

/* ---- beginnings -------------------------------------------------------------- */

/* Dial the SAN node with hello; on failure the job is aborted (the
 * driver's event ends it). */
static void
job_dial(struct vmhost *vh, struct save_job *j, const char *hello, size_t len)
{
	char addr[64], why[HV_REASON_MAX];
	const char *san;
	uint16_t port;
	int rc;

	rc = san_target(vh, addr, sizeof(addr), &port, &san, why, sizeof(why));
	if (rc == 0) {
		rc = peer_dial(vh->a->peer, addr, port, hello, len, j->fd_peer,
			       peer_done_cb, j, &j->conn);
		if (rc < 0)
			snprintf(why, sizeof(why), "cannot dial SAN node %s: %s", san,
				 xm_strerror(rc));
	}
	if (rc < 0) {
		j->conn = NULL;
		j->peer_done = true;
			job_abort(j, why);
		return;
	}
	log_notice("%s VM %s (generation %" PRIu64 ") %s SAN node %s",
		   j->resume ? "resuming" : "saving", j->vm, j->gen,
		   j->resume ? "from its image on" : "onto", san);
}

static void
save_begin(struct vmhost *vh, const struct vm_rec *v, struct memo *m)
{
	struct save_job *j;
	char hello[160], why[HV_REASON_MAX];
	int rc, n;

	j = job_new(vh, v, false);
	if (j == NULL) {
		snprintf(why, sizeof(why), "cannot make a socket pair");
		goto fail;
	}
	rc = vh->ops->save(vh->hv, v->name, j->fd_hv);
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s driver cannot save it: %s",
			 vh->ops->name, xm_strerror(rc));
		job_free(j);
		goto fail;
	}
	n = snprintf(hello, sizeof(hello), "%s %d %s %" PRIu64 " %" PRIu32,
		     SAVE_HELLO_WORD, SAVEIMG_PROTO_VERSION, v->name, v->generation,
		     vh->a->rep.local_id);
	job_dial(vh, j, hello, (size_t)n);
	return;
fail:
	log_err("save of VM %s failed: %s; it runs on", v->name, why);
	(void)report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED, v, 0, why);
}

int
vmsave_resume_begin(struct vmhost *vh, const struct vm_rec *v,
		    const struct vm_config *cfg, char *err, size_t errlen)
{
	struct save_job *j;
	char hello[200];
	int rc, n;

	j = job_new(vh, v, true);
	if (j == NULL) {
		snprintf(err, errlen, "cannot make a socket pair");
		return -ENOMEM;
	}
	rc = vh->ops->restore(vh->hv, cfg, v->generation, v->saved_gen, j->fd_hv);
	if (rc < 0) {
		snprintf(err, errlen, "%s driver cannot resume a save image: %s",
			 vh->ops->name, xm_strerror(rc));
		job_free(j);
		return rc;
	}
	n = snprintf(hello, sizeof(hello), "%s %d %s %" PRIu64 " %" PRIu64 " %" PRIu32,
		     RESUME_HELLO_WORD, SAVEIMG_PROTO_VERSION, v->name, v->saved_gen,
		     v->generation, vh->a->rep.local_id);
	job_dial(vh, j, hello, (size_t)n);
	return 0;
}

/* ---- reconcile ------------------------------------------------------------------ */

static bool
job_wanted(const struct save_job *j, const struct vm_rec *v, uint32_t me)
{
	if (v == NULL || v->generation != j->gen || v->host != me)
		return false;
	if (j->resume)
		return v->state == VM_STATE_STARTING;
	return v->state == VM_STATE_STOPPING && v->save_requested;
}

void
vmsave_reconcile(struct vmhost *vh, const struct hv_domain *doms, size_t n)
{
	const struct state *st = &vh->a->rep.st;
	uint32_t me = vh->a->rep.local_id;

	for (struct save_job *j = vh->saves; j != NULL; j = j->next)
		if (!job_wanted(j, state_vm(st, j->vm), me) && !j->hv_done)
			job_abort(j, "the cluster's state moved on");
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		const struct hv_domain *d;
		struct memo *m;

		if (v->host != me || v->state != VM_STATE_STOPPING || !v->save_requested)
			continue;
		if (job_find(vh, v->name, v->generation) != NULL)
			continue;
		d = dom_find(doms, n, v->name);
		if (d == NULL || d->generation != v->generation)
			continue;       /* gone: reconcile reports it stopped */
		m = memo_get(vh, v->name, v->generation);
		/* its end is reported and not yet taken in; a generation may
		 * be saved many times, so this, not a flag, tells */
		if ((m->done & DONE_GONE) ||
		    m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED ||
		    m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED)
			continue;
		if (d->paused) {
			/* suspended by a save of an agent that restarted */
			(void)vh->ops->resume(vh->hv, v->name);
			(void)report_fact(vh, m, XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED,
					  v, 0, "the agent restarted during the save");
			continue;
		}
		save_begin(vh, v, m);
	}
}

bool
vmsave_busy(struct vmhost *vh, const char *vm, uint64_t gen)
{
	return job_find(vh, vm, gen) != NULL;
}

unsigned
vmsave_incoming(const struct vmhost *vh)
{
	unsigned k = 0;

	for (const struct save_job *j = vh->saves; j != NULL; j = j->next)
		if (j->resume)
			k++;
	return k;
}

void
vmsave_close(struct vmhost *vh)
{
	/* peer_hub_close ran first: no connection of a job is left */
	while (vh->saves != NULL)
		job_free(vh->saves);
}
