/* An admin's word that a lost host is off: `agentctl node confirm-down
 * HOST` and `agentctl vm reset-state VM`, in the replicated state.  Pure:
 * no I/O.
 *
 * When every fence method of an unclean host fails, its VMs wait in
 * recovering and nothing is placed anywhere (ha/decide.c: never place
 * while a host may still write).  Only a person who has checked that the
 * host is powered off may lift that: the op OpConfirmDown makes the host
 * fenced (and, a dom0, storage-fenced, so that its initiator is still
 * revoked wherever a SAN node can do it) and keeps who said so; the
 * normal recovery path then restarts its VMs.  With a VM named, only that
 * VM is declared stopped (not running anywhere); the host stays unclean.
 *
 * The checks run where the request arrives (for the message) and again
 * when the coordinator validates and every member applies the op, so that
 * a host that rejoined or was fenced meanwhile is not confirmed.
 */
#ifndef XM_CONFIRM_H
#define XM_CONFIRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "xenmesh.pb-c.h"

/* "manually confirmed by USER (uid U, sudo from USER) from NODE" */
#define CONFIRM_NOTE_MAX  NODE_NOTE_MAX
#define CONFIRM_USER_MAX  33    /* a login name, as useradd allows */

/*
 * May host `name` be confirmed down?  0 with *node set, or a negative
 * errno and a sentence: -ENOENT unknown, -EBUSY a live member (online),
 * -EALREADY fenced already, -EINVAL left cleanly (offline).
 */
int confirm_host_check(const struct state *s, const char *name,
		       const struct node_rec **node, char *why, size_t whylen);

/*
 * May VM `name` be declared stopped?  Its host must be unclean and it
 * must be one of the instances that wait for that host's fence
 * (recovering, or active there until the coordinator marks it so), not
 * migrating to a live host.  0 with *host set, or a negative errno and a
 * sentence: -ENOENT unknown VM, -EALREADY not running anywhere, -EBUSY
 * its host is a live member or it may run on one.
 */
int confirm_vm_check(const struct state *s, const char *name,
		     const struct node_rec **host, char *why, size_t whylen);

/*
 * The note kept with the host (or as the VM's reason): user is the name
 * of the client's uid (NULL: unknown, the uid alone), sudo_user the
 * SUDO_USER agentctl ran under (NULL or "": none), node where it ran.
 * 0, or -EINVAL with a sentence when sudo_user is not a plain login name.
 */
int confirm_note(char *buf, size_t len, const char *user, uint32_t uid,
		 const char *sudo_user, const char *node, char *why,
		 size_t whylen);

/* The VMs of host that the normal recovery path would start again once
 * it is fenced (wanted running, restart policy not never, active or
 * recovering there): up to max names into names; returns how many there
 * are (maybe more than max). */
size_t confirm_restarts(const struct state *s, uint32_t host,
			const char **names, size_t max);

/*
 * The coordinator's note on an unclean host whose every fence method
 * failed (OpFenceFailing): "fence failing since HH:MM:SS UTC: <what the
 * last method said>; if it is off for certain: agentctl node confirm-down
 * NAME", cut to fit and made printable.  since_s: wall-clock seconds.
 */
void confirm_failing_note(char *buf, size_t len, const char *name,
			  uint64_t since_s, const char *last);

/* ---- the ops, for ha/state.c ----------------------------------------- */

/* OpConfirmDown and OpFenceFailing */
bool confirm_op_kind(const Xenmesh__Op *op);
int confirm_validate(const struct state *s, const Xenmesh__Op *op, char *why,
		     size_t whylen);
/* After confirm_validate() said yes; cannot fail. */
void confirm_apply(struct state *s, const Xenmesh__Op *op);
/* What happened, for the event log: "h3 fenced: manually confirmed by
 * ..." or "VM web1 declared stopped (host h3 lost): manually ..." or
 * "h3: fence failing since ...". */
void confirm_op_text(const struct state *s, const Xenmesh__Op *op, char *text,
		     size_t len);

#endif
