/* The host's reports to the coordinator about its domains, and their
 * resending until the replicated state shows them taken in. */
#define LOG_SUBSYS "vmhost"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "vmhost_int.h"
#include "xm_error.h"

/* 0 when the coordinator has it (or will: it went into the group). */
static int
report_ev(struct vmhost *vh, Xenmesh__HostEventKind kind, const struct vm_rec *v,
	  Xenmesh__VmExit exit, const char *reason, uint64_t bytes)
{
	Xenmesh__HostEvent ev = XENMESH__HOST_EVENT__INIT;
	int rc;

	ev.has_bytes = bytes != 0;
	ev.bytes = bytes;

	ev.kind = kind;
	ev.vm = (char *)v->name;
	ev.generation = v->generation;
	if (kind == XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED) {
		ev.has_exit = true;
		ev.exit = exit;
	}
	ev.reason = (char *)reason;
	rc = replica_report(&vh->a->rep, &ev);
	if (rc < 0)
		log_warn("cannot report %s of VM %s to the coordinator: %s; "
			 "the next pass retries", kind == XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED ?
			 "the start" : "the end", v->name, xm_strerror(rc));
	return rc;
}

int
report(struct vmhost *vh, Xenmesh__HostEventKind kind, const struct vm_rec *v,
       Xenmesh__VmExit exit, const char *reason)
{
	return report_ev(vh, kind, v, exit, reason, 0);
}

int
report_fact(struct vmhost *vh, struct memo *m, Xenmesh__HostEventKind kind,
	    const struct vm_rec *v, Xenmesh__VmExit exit, const char *reason)
{
	/* kept even when it could not be sent now: the resend sends it */
	m->fact = kind;
	m->fact_exit = exit;
	snprintf(m->fact_reason, sizeof(m->fact_reason), "%s", reason ? reason : "");
	m->fact_bytes = 0;
	m->fact_at_ms = vmhost_now_ms();
	return report(vh, kind, v, exit, reason);
}

int
report_fact_bytes(struct vmhost *vh, struct memo *m, Xenmesh__HostEventKind kind,
		  const struct vm_rec *v, const char *reason, uint64_t bytes)
{
	m->fact = kind;
	m->fact_exit = 0;
	snprintf(m->fact_reason, sizeof(m->fact_reason), "%s", reason ? reason : "");
	m->fact_bytes = bytes;
	m->fact_at_ms = vmhost_now_ms();
	return report_ev(vh, kind, v, 0, reason, bytes);
}

/* Does the state still wait for this fact about the VM's generation? */
static bool
fact_awaited(const struct memo *m, const struct vm_rec *v, uint32_t me)
{
	/* either end of a migration may report its failure */
	if (m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATE_FAILED)
		return v->state == VM_STATE_MIGRATING && v->migrate_since_ms == m->mig_since;
	if (v->host != me)
		return false;
	switch (m->fact) {
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED:
		return v->state == VM_STATE_STARTING || v->state == VM_STATE_RECOVERING;
	case XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED:
		return v->state == VM_STATE_STARTING;
	case XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED:
		return v->state == VM_STATE_STOPPING ||
		       (v->state == VM_STATE_MIGRATING && v->migrate_offline);
	case XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED:
		return v->state == VM_STATE_RUNNING || v->state == VM_STATE_STARTING ||
		       v->state == VM_STATE_RECOVERING || v->state == VM_STATE_MIGRATING;
	case XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED:
	case XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED:
		return v->state == VM_STATE_STOPPING && v->save_requested;
	default:
		return false;
	}
}

/* Facts reported but not taken in: the coordinator drops a report that
 * reaches it in a newer ring or while it syncs.  A duplicate is harmless:
 * the coordinator judges a fact only while the state still awaits it. */
void
facts_resend(struct vmhost *vh)
{
	const struct state *st = &vh->a->rep.st;
	uint64_t now = vmhost_now_ms();

	for (size_t i = 0; i < vh->n_memo; i++) {
		struct memo *m = &vh->memo[i];
		const struct vm_rec *v;

		if (m->fact == 0)
			continue;
		v = state_vm(st, m->name);
		if (v == NULL || v->generation != m->gen ||
		    !fact_awaited(m, v, vh->a->rep.local_id)) {
			m->fact = 0;    /* taken in, or overtaken */
			continue;
		}
		if (now - m->fact_at_ms < REPORT_RESEND_MS)
			continue;
		log_info("VM %s generation %" PRIu64 ": the cluster has not taken in "
			 "its %s for %" PRIu64 " s: reporting it again", m->name, m->gen,
			 m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED ? "start" :
			 m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED ?
			 "failed start" : m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATE_FAILED ?
			 "failed migration" : m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_SAVED ?
			 "save" : m->fact == XENMESH__HOST_EVENT_KIND__HOST_VM_SAVE_FAILED ?
			 "failed save" : "end", (now - m->fact_at_ms) / 1000);
		m->fact_at_ms = now;
		(void)report_ev(vh, m->fact, v, m->fact_exit,
				m->fact_reason[0] != '\0' ? m->fact_reason : NULL,
				m->fact_bytes);
	}
}

