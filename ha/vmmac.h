/* The MACs of the VMs in the replicated state: unique across the
 * cluster, and given to every vif defined without one.
 *
 * Pure: no I/O, no logging.  vmtable.c calls these while validating and
 * applying a VM definition, i.e. in commit order on every member, so two
 * definitions racing from different nodes are decided one after the
 * other and every member stores the same MACs (there is no window
 * between the coordinator's check and the state it checks against).
 */
#ifndef XM_VMMAC_H
#define XM_VMMAC_H

#include <stddef.h>

#include "macaddr.h"
#include "state.h"

/* What mac_cfg_fill adds to a config per vif at most ("mac=" MAC ","). */
#define VMMAC_FILL_EXTRA (4 + MAC_STR_LEN)

/* Sets v->macs / v->n_macs from v->config (none when it is NULL or its
 * vif list does not read).  Wherever a vm_rec's config is set: the
 * checks below read only these, never the text. */
void vmmac_derive(struct vm_rec *v);

/* Adds the MACs of every VM's vifs but those of VM except (NULL: none
 * left out) to set.  A stored config that cannot be read adds nothing.
 * 0 or -ENOMEM. */
int vmmac_used(const struct state *s, const char *except, struct mac_set *set);

/* May VM name be (re)defined with config as far as MACs go: its vif
 * list reads, no two of its vifs share a MAC, no MAC it gives is used by
 * another VM ("MAC 00:16:3e:.. is already used by VM X"), and with the
 * MACs added it stays within max_len bytes.  0, -EINVAL, -EEXIST. */
int vmmac_check(const struct state *s, const char *name, const char *config,
		size_t max_len, char *why, size_t whylen);

/* The config to store for VM name: config with a MAC written into every
 * vif without one: the MAC the VM's current definition has for the same
 * vif index when no other VM (nor another vif of it) uses it by now, else
 * a free MAC of Xen's pool drawn from the VM name and vif index.  After
 * vmmac_check() said yes: 0 with *out malloc'd, -ENOMEM (or -ENOSPC when
 * the pool is full, which the VM table's bounds rule out). */
int vmmac_assign(const struct state *s, const char *name, const char *config,
		 char **out);

#endif
