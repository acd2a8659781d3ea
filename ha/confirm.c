/* An admin's word that a lost host is off (see confirm.h).  Pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "confirm.h"
#include "xm_error.h"

/* Instances that wait for their host's fence (as ha/decide.c marks them). */
static bool
vm_waits_for_host(enum vm_state st)
{
	return st == VM_STATE_RECOVERING || st == VM_STATE_STARTING ||
	       st == VM_STATE_RUNNING || st == VM_STATE_STOPPING ||
	       st == VM_STATE_MIGRATING;
}

static int
host_state_check(const struct node_rec *n, char *why, size_t whylen)
{
	switch (n->state) {
	case NODE_STATE_UNCLEAN:
		return 0;
	case NODE_STATE_ONLINE:
		xm_why(why, whylen, "%s is a live member of the cluster, not a "
		       "lost host (to take it down: agentctl node fence %s)",
		       n->name, n->name);
		return -EBUSY;
	case NODE_STATE_FENCED:
		if (n->fence_note[0] != '\0')
			xm_why(why, whylen, "%s is already fenced (%s)", n->name,
			       n->fence_note);
		else
			xm_why(why, whylen, "%s is already fenced: its VMs "
			       "restart without a confirmation", n->name);
		return -EALREADY;
	case NODE_STATE_OFFLINE:
	default:
		xm_why(why, whylen, "%s left the cluster cleanly: there is no "
		       "fence to confirm", n->name);
		return -EINVAL;
	}
}

int
confirm_host_check(const struct state *s, const char *name,
		   const struct node_rec **node, char *why, size_t whylen)
{
	const struct node_rec *n;
	int rc;

	*node = NULL;
	n = name != NULL ? state_node_by_name(s, name) : NULL;
	if (n == NULL) {
		xm_why(why, whylen, "no node named %.64s", name ? name : "");
		return -ENOENT;
	}
	rc = host_state_check(n, why, whylen);
	if (rc == 0)
		*node = n;
	return rc;
}

int
confirm_vm_check(const struct state *s, const char *name,
		 const struct node_rec **host, char *why, size_t whylen)
{
	const struct vm_rec *v;
	const struct node_rec *n, *dest;

	*host = NULL;
	v = name != NULL ? state_vm(s, name) : NULL;
	if (v == NULL) {
		xm_why(why, whylen, "no VM named %.64s", name ? name : "");
		return -ENOENT;
	}
	if (!vm_waits_for_host(v->state) || v->host == 0) {
		xm_why(why, whylen, "VM %s is %s: it runs nowhere, there is "
		       "nothing to reset", v->name, vm_state_name(v->state));
		return -EALREADY;
	}
	n = state_node(s, v->host);
	if (n == NULL) {
		/* ha/decide.c treats an unknown host as lost for good */
		xm_why(why, whylen, "VM %s: its host (id %" PRIu32 ") is not in "
		       "the node table: the cluster recovers it without a "
		       "confirmation", v->name, v->host);
		return -EALREADY;
	}
	if (n->state == NODE_STATE_ONLINE) {
		xm_why(why, whylen, "VM %s is %s on %s, a live member of the "
		       "cluster (to stop it: agentctl vm stop %s)", v->name,
		       vm_state_name(v->state), n->name, v->name);
		return -EBUSY;
	}
	if (n->state != NODE_STATE_UNCLEAN) {
		xm_why(why, whylen, "VM %s: its host %s is %s: the cluster "
		       "recovers it without a confirmation", v->name, n->name,
		       node_state_name(n->state));
		return -EALREADY;
	}
	/* moving off the lost host to a live one: it may run there now */
	dest = v->migrate_to != 0 ? state_node(s, v->migrate_to) : NULL;
	if (dest != NULL && dest->state == NODE_STATE_ONLINE) {
		xm_why(why, whylen, "VM %s was migrating from %s to %s, a live "
		       "member: it may run there; that host settles it",
		       v->name, n->name, dest->name);
		return -EBUSY;
	}
	*host = n;
	return 0;
}

/* Login names as sudo sets SUDO_USER: no spaces, no control bytes, no
 * parentheses that would make the note ambiguous. */
static bool
user_name_ok(const char *u)
{
	size_t i, len = strnlen(u, CONFIRM_USER_MAX);

	if (len == 0 || len >= CONFIRM_USER_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == ',')
			return false;
	}
	return true;
}

int
confirm_note(char *buf, size_t len, const char *user, uint32_t uid,
	     const char *sudo_user, const char *node, char *why, size_t whylen)
{
	char who[CONFIRM_USER_MAX + 16], sudo[CONFIRM_USER_MAX + 16] = "";
	int n;

	if (buf == NULL || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (sudo_user != NULL && sudo_user[0] != '\0') {
		if (!user_name_ok(sudo_user)) {
			xm_why(why, whylen, "SUDO_USER is not a login name");
			return -EINVAL;
		}
		(void)snprintf(sudo, sizeof(sudo), ", sudo from %s", sudo_user);
	}
	if (user != NULL && user_name_ok(user))
		(void)snprintf(who, sizeof(who), "%s", user);
	else
		(void)snprintf(who, sizeof(who), "uid %" PRIu32, uid);
	n = snprintf(buf, len, "manually confirmed by %s (uid %" PRIu32 "%s) "
		     "from %.64s", who, uid, sudo,
		     node != NULL && node[0] != '\0' ? node : "an unknown node");
	if (n < 0 || (size_t)n >= len) {
		xm_why(why, whylen, "the confirmation note does not fit");
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

size_t
confirm_restarts(const struct state *s, uint32_t host, const char **names,
		 size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];

		if (v->host != host || !vm_waits_for_host(v->state) ||
		    !v->want_running || v->ha.restart == VM_RESTART_NEVER)
			continue;
		if (n < max && names != NULL)
			names[n] = v->name;
		n++;
	}
	return n;
}

/* ---- the op -------------------------------------------------------------- */

bool
confirm_op_kind(const Xenmesh__Op *op)
{
	return op != NULL && (op->kind_case == XENMESH__OP__KIND_CONFIRM_DOWN ||
			      op->kind_case == XENMESH__OP__KIND_FENCE_FAILING);
}

/* A note is one printable line: it goes into tables and the event log. */
static int
note_check(const char *note, char *why, size_t whylen)
{
	size_t i, len;

	len = note != NULL ? strnlen(note, CONFIRM_NOTE_MAX) : 0;
	if (len == 0 || len >= CONFIRM_NOTE_MAX) {
		xm_why(why, whylen, "a confirmation needs a note of 1 to %d "
		       "characters", CONFIRM_NOTE_MAX - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)note[i];

		if (c < 0x20 || c >= 0x7f) {
			xm_why(why, whylen, "the confirmation note holds a "
			       "non-printable character at offset %zu", i);
			return -EINVAL;
		}
	}
	return 0;
}

void
confirm_failing_note(char *buf, size_t len, const char *name,
		     uint64_t since_s, const char *last)
{
	char tail[STATE_NAME_MAX + 64], when[16] = "?";
	time_t t = (time_t)since_s;
	struct tm tm;
	size_t room, n, i;

	if (len == 0)
		return;
	if (gmtime_r(&t, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%H:%M:%S", &tm);
	(void)snprintf(tail, sizeof(tail), "; if it is off for certain: "
		       "agentctl node confirm-down %s", name);
	n = (size_t)snprintf(buf, len, "fence failing since %s UTC: ", when);
	if (n >= len)
		n = len - 1;
	/* the last method's words get what the rest leaves */
	room = len > n + strlen(tail) + 1 ? len - n - strlen(tail) - 1 : 0;
	for (i = 0; last != NULL && last[i] != '\0' && i < room; i++) {
		unsigned char c = (unsigned char)last[i];

		buf[n++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	buf[n] = '\0';
	(void)snprintf(buf + n, len - n, "%s", tail);
}

static int
failing_validate(const struct state *s, const Xenmesh__OpFenceFailing *ff,
		 char *why, size_t whylen)
{
	const struct node_rec *n;
	int rc;

	if (ff == NULL) {
		xm_why(why, whylen, "fence-failing note without a body");
		return -EINVAL;
	}
	rc = note_check(ff->note, why, whylen);
	if (rc < 0)
		return rc;
	n = state_node(s, ff->host);
	if (n == NULL) {
		xm_why(why, whylen, "no node with id %" PRIu32, ff->host);
		return -ENOENT;
	}
	if (n->state != NODE_STATE_UNCLEAN) {
		/* fenced, back or confirmed meanwhile: the note is stale */
		xm_why(why, whylen, "%s is no longer unclean", n->name);
		return -ESTALE;
	}
	return 0;
}

int
confirm_validate(const struct state *s, const Xenmesh__Op *op, char *why,
		 size_t whylen)
{
	const Xenmesh__OpConfirmDown *cd = op->confirm_down;
	const struct node_rec *n;
	int rc;

	if (op->kind_case == XENMESH__OP__KIND_FENCE_FAILING)
		return failing_validate(s, op->fence_failing, why, whylen);
	if (cd == NULL) {
		xm_why(why, whylen, "confirmation without a body");
		return -EINVAL;
	}
	rc = note_check(cd->note, why, whylen);
	if (rc < 0)
		return rc;
	if (cd->vm == NULL) {
		n = state_node(s, cd->host);
		if (n == NULL) {
			xm_why(why, whylen, "no node with id %" PRIu32, cd->host);
			return -ENOENT;
		}
		return host_state_check(n, why, whylen);
	}
	rc = confirm_vm_check(s, cd->vm, &n, why, whylen);
	if (rc < 0)
		return rc;
	if (n->id != cd->host) {
		/* confirmed for another host than the one it is on now */
		xm_why(why, whylen, "VM %s is on %s now, not on the host "
		       "confirmed", cd->vm, n->name);
		return -ESTALE;
	}
	return 0;
}

void
confirm_apply(struct state *s, const Xenmesh__Op *op)
{
	const Xenmesh__OpConfirmDown *cd = op->confirm_down;
	struct vm_rec *v;
	size_t i;

	if (op->kind_case == XENMESH__OP__KIND_FENCE_FAILING) {
		for (i = 0; i < s->n_nodes; i++)
			if (s->nodes[i].id == op->fence_failing->host)
				(void)snprintf(s->nodes[i].fence_note,
					       sizeof(s->nodes[i].fence_note), "%s",
					       op->fence_failing->note);
		return;
	}
	if (cd->vm == NULL) {
		for (i = 0; i < s->n_nodes; i++) {
			struct node_rec *n = &s->nodes[i];

			if (n->id != cd->host)
				continue;
			n->state = NODE_STATE_FENCED;
			/* a dom0's initiator is revoked wherever a SAN node can
			 * (until it rejoins clean): the admin may be wrong */
			if (n->role == NODE_ROLE_DOM0)
				n->flags |= NODE_FLAG_STORAGE_FENCED;
			(void)snprintf(n->fence_note, sizeof(n->fence_note), "%s",
				       cd->note);
		}
		return;
	}
	v = (struct vm_rec *)state_vm(s, cd->vm);
	if (v == NULL)
		return;
	/* stopped, not running anywhere: what a stop that finished leaves;
	 * the admin's wish (want_running) stays as it was */
	v->state = VM_STATE_STOPPED;
	v->host = 0;
	v->avoid_host = 0;
	v->migrate_to = 0;
	v->migrate_offline = false;
	v->migrate_since_ms = 0;
	v->drain_skip = 0;
	/* a save cut short, or a resume that may have run: no image holds */
	v->save_requested = false;
	v->saved_gen = 0;
	v->saved_bytes = 0;
	(void)snprintf(v->reason, sizeof(v->reason), "reset-state: %s", cd->note);
}

void
confirm_op_text(const struct state *s, const Xenmesh__Op *op, char *text,
		size_t len)
{
	const Xenmesh__OpConfirmDown *cd = op->confirm_down;
	const struct node_rec *n = cd != NULL ? state_node(s, cd->host) : NULL;
	char host[STATE_NAME_MAX + 16];

	if (op->kind_case == XENMESH__OP__KIND_FENCE_FAILING) {
		const Xenmesh__OpFenceFailing *ff = op->fence_failing;

		n = state_node(s, ff->host);
		(void)snprintf(text, len, "%s: %s", n != NULL ? n->name : "?",
			       ff->note);
		return;
	}
	if (cd == NULL) {
		(void)snprintf(text, len, "confirmation without a body");
		return;
	}
	if (n != NULL)
		(void)snprintf(host, sizeof(host), "%s", n->name);
	else
		(void)snprintf(host, sizeof(host), "node %" PRIu32, cd->host);
	if (cd->vm == NULL)
		(void)snprintf(text, len, "%s fenced: %s", host, cd->note);
	else
		(void)snprintf(text, len, "VM %.64s declared stopped (host %s "
			       "lost): %s", cd->vm, host, cd->note);
}
