/* The MACs of the VMs in the replicated state (see vmmac.h).
 *
 * Pure: no I/O, no logging.  Each vm_rec carries the MACs of its config
 * (vmmac_derive), read once when the config is set: by a define, an
 * unpack (state file, sync), a copy.  The checks below run for every
 * define on every member (validate and apply), so reading all configs
 * each time made every define parse every VM's text (a define at
 * 10,000 VMs went from 1.25 to 16 ms); a scan of the small arrays costs
 * tens of microseconds.  The arrays are derived, not state: they are
 * neither packed nor digested.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmconf.h"
#include "vmmac.h"
#include "xm_error.h"

/* Every VM (65536 at most, see vmtable.c) with every vif (VM_MAX_VIFS)
 * in Xen's pool still leaves free MACs, so an allocation cannot fail. */
_Static_assert(65536ULL * VM_MAX_VIFS < MAC_XEN_POOL,
	       "the MAC pool must outnumber the vifs the VM table can hold");
_Static_assert(MAC_CFG_VIFS_MAX == VM_MAX_VIFS,
	       "macaddr.h and vmconf.h disagree on the vif count");
_Static_assert(VM_MAX_VIFS <= UINT8_MAX, "vm_rec.n_macs is a uint8_t");

void
vmmac_derive(struct vm_rec *v)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX];
	size_t i, n;

	v->n_macs = 0;
	if (v->config == NULL ||
	    mac_cfg_vifs(v->config, vifs, MAC_CFG_VIFS_MAX, &n, NULL, 0) < 0)
		return;
	for (i = 0; i < n; i++)
		if (vifs[i].has_mac)
			v->macs[v->n_macs++] = vifs[i].mac;
}

int
vmmac_used(const struct state *s, const char *except, struct mac_set *set)
{
	size_t i, j;
	int r;

	for (i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];

		if (v->n_macs == 0 ||
		    (except != NULL && strcmp(v->name, except) == 0))
			continue;
		for (j = 0; j < v->n_macs; j++) {
			r = mac_set_add(set, v->macs[j]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The VM other than except that has mac on a vif, NULL when none. */
static const char *
vmmac_owner(const struct state *s, const char *except, uint64_t mac)
{
	size_t i, j;

	for (i = 0; i < s->n_vms; i++) {
		const struct vm_rec *v = &s->vms[i];

		for (j = 0; j < v->n_macs; j++)
			if (v->macs[j] == mac && strcmp(v->name, except) != 0)
				return v->name;
	}
	return NULL;
}

int
vmmac_check(const struct state *s, const char *name, const char *config,
	    size_t max_len, char *why, size_t whylen)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX];
	char reason[160], m[MAC_STR_LEN];
	size_t i, n, missing = 0;
	const char *owner;

	if (mac_cfg_vifs(config, vifs, MAC_CFG_VIFS_MAX, &n, reason,
			 sizeof(reason)) < 0) {
		xm_why(why, whylen, "VM %s: %s", name, reason);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!vifs[i].has_mac) {
			missing++;
			continue;
		}
		owner = vmmac_owner(s, name, vifs[i].mac);
		if (owner != NULL) {
			mac_format(vifs[i].mac, m);
			xm_why(why, whylen, "MAC %s is already used by VM %s", m,
			       owner);
			return -EEXIST;
		}
	}
	if (strlen(config) + missing * VMMAC_FILL_EXTRA > max_len) {
		xm_why(why, whylen, "VM %s: config with its MACs added would be "
		       "above %zu bytes", name, max_len);
		return -EINVAL;
	}
	return 0;
}

int
vmmac_assign(const struct state *s, const char *name, const char *config,
	     char **out)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX], old[MAC_CFG_VIFS_MAX];
	const struct vm_rec *prev;
	struct mac_set used;
	size_t i, n, n_old = 0, missing = 0;
	int r;

	r = mac_cfg_vifs(config, vifs, MAC_CFG_VIFS_MAX, &n, NULL, 0);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		missing += !vifs[i].has_mac;
	if (missing == 0) {
		*out = strdup(config);
		return *out != NULL ? 0 : -ENOMEM;
	}
	/* by vif index, which prev->macs does not keep: read its text */
	prev = state_vm(s, name);
	if (prev != NULL && prev->config != NULL &&
	    mac_cfg_vifs(prev->config, old, MAC_CFG_VIFS_MAX, &n_old, NULL, 0) < 0)
		n_old = 0;
	mac_set_init(&used);
	r = vmmac_used(s, name, &used);
	for (i = 0; r == 0 && i < n; i++)
		if (vifs[i].has_mac)
			r = mac_set_add(&used, vifs[i].mac);
	for (i = 0; r == 0 && i < n; i++) {
		if (vifs[i].has_mac)
			continue;
		/* the same vif keeps its address across redefinitions */
		if (i < n_old && old[i].has_mac && !mac_set_has(&used, old[i].mac))
			vifs[i].mac = old[i].mac;
		else
			r = mac_alloc(&used, mac_seed(name, (unsigned)i),
				      &vifs[i].mac);
		if (r == 0)
			r = mac_set_add(&used, vifs[i].mac);
	}
	if (r == 0)
		r = mac_cfg_fill(config, vifs, n, out);
	mac_set_free(&used);
	return r;
}
