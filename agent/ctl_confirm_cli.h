/* agentctl's side of `node confirm-down HOST` and `vm reset-state VM`:
 * the admin's word that a lost host is powered off (xenmeshd's side is
 * agent/ctl_confirm.c).
 *
 * On a terminal it says what the word means (if the host is not off, VMs
 * run twice and their disks are corrupted), lists what would start again,
 * and asks for the host name to be typed; anything else aborts with
 * nothing changed.  Elsewhere it needs --yes-i-checked HOST.  The name
 * typed travels with the request and xenmeshd checks it too.
 */
#ifndef XM_CTL_CONFIRM_CLI_H
#define XM_CTL_CONFIRM_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_args.h"
#include "ctl_client.h"
#include "xenmesh.pb-c.h"

/* Before connecting: 0, or the exit status after saying why not (not
 * root: 5; not a terminal and no --yes-i-checked: 2). */
int ctl_confirm_precheck(const struct ctl_args *args, bool root, bool tty);

/* The confirmation, the request and its answer: agentctl's exit status. */
int ctl_confirm_run(struct ctl_conn *cc, const struct ctl_args *args);

/* Pure, for the tests: the VMs on host (id) that the normal recovery
 * path would start again once it is fenced (wanted running, restart not
 * "never", active or recovering there), ", "-separated into buf ("" none);
 * returns how many. */
size_t ctl_confirm_restarts(const Xenmesh__State *st, uint32_t host, char *buf,
			    size_t len);

/* Pure: does the line typed (its newline dropped) confirm host? */
bool ctl_confirm_typed(const char *line, const char *host);

#endif
