/* Live migration, this host's part in it (ARCHITECTURE.md "Live
 * migration").
 *
 * The coordinator commits `migrating` (source = host, destination =
 * migrate_to).  The destination leads the transfer: once the SAN admits
 * it to the VM's target (storage_dest) it makes the disks reachable, starts
 * the driver's migrate_receive on one end of a socketpair and dials the
 * source's peer channel with the other; the source, asked by an
 * authenticated peer, checks the state agrees and starts migrate_send
 * into its own socketpair, which the channel splices to the destination.
 *
 *   destination: receive complete, domain paused -> HOST_VM_MIGRATED
 *                (repeated until the state moves: a report to a dying
 *                coordinator is not lost for good);
 *   coordinator: commits `running on destination` (the commit point);
 *   destination: resumes the domain once that update is delivered here
 *                (vmhost: a paused domain that is ours to run);
 *   source:      destroys its suspended domain (stale: not ours any more).
 * A failure on either side is reported (HOST_VM_MIGRATE_FAILED); the
 * coordinator's abort (`running on source`) makes the source resume and
 * the destination destroy its copy.  Neither acts before the update that
 * decides it is delivered to it, and both are agreed updates: one of them
 * comes first everywhere.
 *
 * After an agent restart a job is gone: a paused domain with no job on the
 * source, or an incoming domain with no job on the destination, reports
 * the migration failed.
 */
#define LOG_SUBSYS "migrate"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "peer.h"
#include "peer_hub.h"
#include "vmdisk.h"
#include "vmhost.h"
#include "vmhost_int.h"
#include "xlcfg.h"
#include "xm_error.h"

#define MIG_HELLO_MAGIC     MIGRATE_HELLO_WORD
#define MIG_HELLO_VERSION   1
#define MIG_REPORT_EVERY_MS 2000

struct mig_job {
	struct migrate *m;
	char vm[VM_NAME_MAX];
	uint64_t gen;
	bool incoming;                  /* the destination's side */
	int fd_hv;                      /* the driver's end of the socketpair */
	int fd_peer;                    /* the channel's end */
	struct peer_conn *conn;
	bool hv_done, peer_done;
	int hv_rc;                      /* the driver's result, once hv_done */
	bool failed_reported;
	bool ready;                     /* destination: complete and paused */
	uint64_t started_ms;
	uint64_t reported_ms;
	struct mig_job *next;
};

struct migrate {
	struct vmhost *vh;
	struct mig_job *jobs;
};

static struct mig_job *
job_find(struct migrate *m, const char *vm, uint64_t gen)
{
	for (struct mig_job *j = m->jobs; j != NULL; j = j->next)
		if (j->gen == gen && strcmp(j->vm, vm) == 0)
			return j;
	return NULL;
}

static struct mig_job *
job_new(struct migrate *m, const char *vm, uint64_t gen, bool incoming)
{
	struct mig_job *j = calloc(1, sizeof(*j));
	int sp[2];

	if (j == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		free(j);
		return NULL;
	}
	j->m = m;
	snprintf(j->vm, sizeof(j->vm), "%s", vm);
	j->gen = gen;
	j->incoming = incoming;
	j->fd_hv = sp[0];
	j->fd_peer = sp[1];
	j->started_ms = vmhost_now_ms();
	j->next = m->jobs;
	m->jobs = j;
	return j;
}

static void
job_free(struct mig_job *j)
{
	struct migrate *m = j->m;

	for (struct mig_job **p = &m->jobs; *p != NULL; p = &(*p)->next) {
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

/* Stop the transfer: the driver then ends it with an error event. */
static void
job_abort(struct mig_job *j)
{
	if (j->conn != NULL && !j->peer_done)
		peer_conn_abort(j->conn);
	if (j->fd_hv >= 0)
		(void)shutdown(j->fd_hv, SHUT_RDWR);
	if (j->fd_peer >= 0)
		(void)shutdown(j->fd_peer, SHUT_RDWR);
}

static bool
job_done(const struct mig_job *j)
{
	return j->hv_done && (j->peer_done || j->conn == NULL);
}

/* This side's half is done: what the channel does later does not matter. */
static bool
job_complete(const struct mig_job *j)
{
	return j->hv_done && j->hv_rc == 0;
}

/* The memo of v's current migration: a generation may migrate many
 * times, each one known by when it began. */
static struct memo *
mig_memo(struct vmhost *vh, const struct vm_rec *v)
{
	struct memo *mo = memo_get(vh, v->name, v->generation);

	if (mo->mig_since != v->migrate_since_ms) {
		mo->mig_since = v->migrate_since_ms;
		mo->done &= ~(unsigned)(DONE_MIGRATE | DONE_MIGRATE_GONE |
					DONE_WAIT_LOGGED);
		/* an earlier migration's failure says nothing of this one */
		if (mo->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATE_FAILED)
			mo->fact = 0;
	}
	return mo;
}

/* Say it failed, once per migration. */
static void
report_failed(struct vmhost *vh, const struct vm_rec *v, const char *why)
{
	struct memo *mo = mig_memo(vh, v);

	if (mo->done & DONE_MIGRATE_GONE)
		return;
	log_err("migration of VM %s (generation %" PRIu64 ") failed here: %s",
		v->name, v->generation, why);
	if (report_fact(vh, mo, XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATE_FAILED, v, 0,
			why) == 0)
		mo->done |= DONE_MIGRATE_GONE;
}

/* The state's migration of (vm, gen), or NULL once it ended. */
static const struct vm_rec *
migration_of(struct vmhost *vh, const char *vm, uint64_t gen)
{
	const struct vm_rec *v = state_vm(&vh->a->rep.st, vm);

	if (v == NULL || v->state != VM_STATE_MIGRATING || v->migrate_offline ||
	    v->generation != gen)
		return NULL;
	return v;
}

/* ---- the channel's side ----------------------------------------------------- */

static void
peer_done_cb(void *arg, int rc, const char *why)
{
	struct mig_job *j = arg;
	struct vmhost *vh = j->m->vh;
	const struct vm_rec *v = migration_of(vh, j->vm, j->gen);

	j->peer_done = true;
	j->conn = NULL;
	if (rc < 0) {
		/* the driver learns it from its fd */
		if (j->fd_peer >= 0)
			(void)shutdown(j->fd_peer, SHUT_RDWR);
		if (v != NULL && !job_complete(j))
			report_failed(vh, v, why != NULL ? why : xm_strerror(rc));
	}
	vmhost_kick(vh->a);
}

static int
hello_parse(const uint8_t *buf, size_t len, char *vm, uint64_t *gen,
	    uint32_t *from)
{
	char text[160], name[VM_NAME_MAX], magic[24];
	unsigned ver;
	int used = 0;

	if (len == 0 || len >= sizeof(text))
		return -EBADMSG;
	memcpy(text, buf, len);
	text[len] = '\0';
	if (sscanf(text, "%23s %u %63s %" SCNu64 " %" SCNu32 "%n", magic, &ver, name,
		   gen, from, &used) != 5 || (size_t)used != len ||
	    strcmp(magic, MIG_HELLO_MAGIC) != 0)
		return -EBADMSG;
	if (ver != MIG_HELLO_VERSION)
		return -EPROTONOSUPPORT;
	snprintf(vm, VM_NAME_MAX, "%s", name);
	return 0;
}

/* Source: an authenticated peer asks for a VM's stream. */
int
migrate_accept(struct vmhost *vh, struct peer_conn *c, const char *from_addr,
	       const uint8_t *hello, size_t len, int *fd,
	       void (**done)(void *, int, const char *), void **done_arg,
	       char *why, size_t whylen)
{
	struct migrate *m = vh->mig;
	const struct state *st = &vh->a->rep.st;
	const struct vm_rec *v;
	struct mig_job *j;
	char vm[VM_NAME_MAX];
	uint64_t gen;
	uint32_t from;
	int rc;

	rc = hello_parse(hello, len, vm, &gen, &from);
	if (rc < 0) {
		snprintf(why, whylen, rc == -EPROTONOSUPPORT ? "migration protocol "
			 "version not %d" : "malformed migration request",
			 MIG_HELLO_VERSION);
		goto refuse;
	}
	v = migration_of(vh, vm, gen);
	if (v == NULL || v->host != vh->a->rep.local_id || v->migrate_to != from) {
		snprintf(why, whylen, "VM %s generation %" PRIu64 " is not migrating "
			 "from %s to node %" PRIu32 " in the state here", vm, gen,
			 vh->a->node_name, from);
		rc = -ESRCH;
		goto refuse;
	}
	if (job_find(m, vm, gen) != NULL) {
		snprintf(why, whylen, "a transfer of VM %s is already under way", vm);
		rc = -EBUSY;
		goto refuse;
	}
	j = job_new(m, vm, gen, false);
	if (j == NULL) {
		snprintf(why, whylen, "out of resources");
		rc = -ENOMEM;
		goto refuse;
	}
	mig_memo(vh, v)->done |= DONE_MIGRATE;
	rc = vh->ops->migrate_send(vh->hv, vm, j->fd_hv);
	if (rc < 0) {
		snprintf(why, whylen, "%s driver cannot send VM %s: %s", vh->ops->name,
			 vm, xm_strerror(rc));
		job_free(j);
		report_failed(vh, v, why);
		goto refuse;
	}
	log_notice("sending VM %s (generation %" PRIu64 ") to %s (%s)", vm, gen,
		   state_node(st, from) ? state_node(st, from)->name : "?", from_addr);
	j->conn = c;
	*fd = j->fd_peer;
	*done = peer_done_cb;
	*done_arg = j;
	return 0;
refuse:
	log_warn("migration request from %s refused: %s", from_addr, why);
	return rc;
}

/* ---- the driver's side -------------------------------------------------------- */

void
migrate_hv_event(struct vmhost *vh, const struct hv_event *ev)
{
	struct migrate *m = vh->mig;
	struct mig_job *j = m ? job_find(m, ev->name, ev->generation) : NULL;
	const struct vm_rec *v = migration_of(vh, ev->name, ev->generation);
	bool sent = ev->kind == HV_EVENT_MIGRATE_SENT;

	if (j == NULL)
		return;
	j->hv_done = true;
	j->hv_rc = ev->result;
	if (ev->result < 0) {
		char why[HV_REASON_MAX + 64];

		snprintf(why, sizeof(why), "%s: %s", sent ? "send" : "receive",
			 ev->reason[0] ? ev->reason : xm_strerror(ev->result));
		job_abort(j);
		if (v != NULL)
			report_failed(vh, v, why);
		else
			log_info("transfer of VM %s ended: %s (the migration was "
				 "already decided)", ev->name, why);
		return;
	}
	/* this side's stream is complete: its end lets the channel finish */
	(void)shutdown(j->fd_hv, SHUT_WR);
	if (sent) {
		log_notice("VM %s (generation %" PRIu64 ") sent and suspended; waiting "
			   "for the commit", ev->name, ev->generation);
		return;
	}
	log_notice("VM %s (generation %" PRIu64 ") received complete and paused (%"
		   PRIu64 " ms); asking for the commit", ev->name, ev->generation,
		   vmhost_now_ms() - j->started_ms);
	j->ready = true;
	vmhost_kick(vh->a);
}

/* ---- the destination's side ---------------------------------------------------- */

static void
incoming_start(struct vmhost *vh, const struct vm_rec *v, struct memo *mo)
{
	struct migrate *m = vh->mig;
	const struct state *st = &vh->a->rep.st;
	const struct node_rec *src = state_node(st, v->host);
	struct vm_config *cfg = NULL;
	struct mig_job *j = NULL;
	char err[512], hello[160], addr[64];
	bool receiving = false;
	uint16_t port;
	int rc, n;

	if (state_vm_has_volumes(st, v->name) &&
	    (v->storage_gen != v->generation || v->storage_dest != vh->a->rep.local_id)) {
		if (!(mo->done & DONE_WAIT_LOGGED))
			log_info("VM %s: waiting for the SAN to admit this host to its "
				 "target before the migration", v->name);
		mo->done |= DONE_WAIT_LOGGED;
		return;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = xlcfg_parse(v->config, strlen(v->config), v->name, cfg, err, sizeof(err));
	if (rc == 0 && vmdisk_uses_san(cfg)) {
		rc = vmdisk_prepare(vh->disk, v, cfg, err, sizeof(err));
		if (rc == -EINPROGRESS)
			goto out;       /* the next pass looks again */
		/* refused while the state admits us: not a reason to reset
		 * here (the admission may have just ended with an abort); the
		 * migration fails and the source keeps the VM */
	}
	if (rc == 0)
		rc = guard_prepare_start(vh->a, err, sizeof(err));
	if (rc < 0)
		goto fail;
	if (vh->a->peer == NULL) {
		snprintf(err, sizeof(err), "this host has no peer channel ([peer] "
			 "listen in xenmesh.conf)");
		rc = -ENOTCONN;
		goto fail;
	}
	if (src == NULL || src->peer_addr[0] == '\0' ||
	    peer_hub_addr_split(src->peer_addr, addr, sizeof(addr), &port) < 0) {
		snprintf(err, sizeof(err), "source %s has no usable peer channel "
			 "address", src ? src->name : "?");
		rc = -EADDRNOTAVAIL;
		goto fail;
	}
	j = job_new(m, v->name, v->generation, true);
	if (j == NULL) {
		snprintf(err, sizeof(err), "cannot make a socket pair: %s", strerror(errno));
		rc = -ENOMEM;
		goto fail;
	}
	mo->done |= DONE_MIGRATE;
	rc = vh->ops->migrate_receive(vh->hv, cfg, v->generation, j->fd_hv);
	if (rc < 0) {
		snprintf(err, sizeof(err), "%s driver cannot receive: %s",
			 vh->ops->name, xm_strerror(rc));
		goto fail;
	}
	receiving = true;
	n = snprintf(hello, sizeof(hello), "%s %d %s %" PRIu64 " %" PRIu32,
		     MIG_HELLO_MAGIC, MIG_HELLO_VERSION, v->name, v->generation,
		     vh->a->rep.local_id);
	rc = peer_dial(vh->a->peer, addr, port, hello, (size_t)n, j->fd_peer,
		       peer_done_cb, j, &j->conn);
	if (rc < 0) {
		snprintf(err, sizeof(err), "cannot dial %s at %s: %s", src->name,
			 src->peer_addr, xm_strerror(rc));
		j->conn = NULL;
		goto fail;
	}
	log_notice("receiving VM %s (generation %" PRIu64 ") from %s", v->name,
		   v->generation, src->name);
	goto out;
fail:
	mo->done |= DONE_MIGRATE;
	if (j != NULL && receiving)
		job_abort(j);           /* the driver ends it with an event */
	else if (j != NULL)
		job_free(j);
	report_failed(vh, v, err);
out:
	free(cfg);
}

/* The destination holds it complete: ask for the commit, again and again
 * until the state moves. */
static void
ready_report(struct vmhost *vh, struct mig_job *j, const struct vm_rec *v)
{
	uint64_t now = vmhost_now_ms();

	if (now - j->reported_ms < MIG_REPORT_EVERY_MS && j->reported_ms != 0)
		return;
	j->reported_ms = now;
	(void)report(vh, XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATED, v, 0, NULL);
}

/* ---- reconcile ------------------------------------------------------------------- */

void
migrate_reconcile(struct vmhost *vh, const struct hv_domain *doms, size_t n)
{
	struct migrate *m = vh->mig;
	const struct state *st = &vh->a->rep.st;
	uint32_t me = vh->a->rep.local_id;
	struct mig_job *j, *next;

	if (m == NULL)
		return;
	/* jobs whose migration the state ended (commit or abort) stop */
	for (j = m->jobs; j != NULL; j = next) {
		const struct vm_rec *v = migration_of(vh, j->vm, j->gen);

		next = j->next;
		if (v == NULL) {
			if (!job_done(j))
				job_abort(j);
			else
				job_free(j);
			continue;
		}
		if (j->incoming && j->ready)
			ready_report(vh, j, v);
		else if (job_done(j) && !job_complete(j))
			job_free(j);    /* failed and reported: the abort comes */
	}
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vm_rec *v = &st->vms[i];
		const struct hv_domain *d;
		struct memo *mo;

		if (v->state != VM_STATE_MIGRATING || v->migrate_offline)
			continue;
		if (v->migrate_to != me && v->host != me)
			continue;
		if (job_find(m, v->name, v->generation) != NULL)
			continue;
		mo = mig_memo(vh, v);
		d = dom_find(doms, n, v->name);
		if (v->migrate_to == me) {
			if (d != NULL && d->generation == v->generation) {
				if (!(mo->done & DONE_MIGRATE))
					report_failed(vh, v, "the destination's agent "
						      "restarted during the transfer");
				continue;
			}
			if (!(mo->done & DONE_MIGRATE))
				incoming_start(vh, v, mo);
			continue;
		}
		/* the source: a suspended domain no job owns */
		if (d != NULL && d->generation == v->generation && d->paused)
			report_failed(vh, v, "the source's agent restarted during "
				      "the transfer");
	}
}

bool
migrate_busy(struct vmhost *vh, const char *vm, uint64_t gen)
{
	struct mig_job *j = vh->mig ? job_find(vh->mig, vm, gen) : NULL;

	return j != NULL && !job_done(j);
}

/* Incoming transfers not yet done: a domain may appear from one. */
unsigned
migrate_incoming(const struct vmhost *vh)
{
	unsigned k = 0;

	if (vh->mig == NULL)
		return 0;
	for (const struct mig_job *j = vh->mig->jobs; j != NULL; j = j->next)
		if (j->incoming && !job_done(j))
			k++;
	return k;
}

/* ---- open, close ------------------------------------------------------------------- */

int
migrate_open(struct vmhost *vh)
{
	struct migrate *m;

	/* no peer channel yet is no reason to take no VMs: it is retried on
	 * its own (peer_hub.c), migrations fail meanwhile and say why */
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->vh = vh;
	vh->mig = m;
	return 0;
}

void
migrate_close(struct vmhost *vh)
{
	struct migrate *m = vh->mig;

	if (m == NULL)
		return;
	/* peer_hub_close ran first: no connection of a job is left */
	while (m->jobs != NULL)
		job_free(m->jobs);
	free(m);
	vh->mig = NULL;
}
