/* MAC addresses of VM vifs: parse, format, allocate, and find them in
 * the vif list of an xl.cfg text.
 *
 * Pure: no I/O, no logging.  A MAC is held as a uint64_t whose low 48
 * bits are the six octets, first octet highest, so that sorting numbers
 * sorts addresses.
 *
 * Allocated MACs come from the lower half of Xen's OUI,
 * 00:16:3e:00:00:00 .. 00:16:3e:7f:ff:ff: the half xl and xend pick their
 * random MACs from (libxl clears the top bit of the fourth octet), so
 * ours look like any xl MAC, and the upper half stays free for addresses
 * sites hand out themselves.
 */
#ifndef XM_MACADDR_H
#define XM_MACADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAC_STR_LEN     18                      /* "00:16:3e:12:34:56" + NUL */
#define MAC_XEN_OUI     0x00163eULL
#define MAC_XEN_POOL    0x800000u               /* low 3 octets 0..7fffff */

/* "aa:bb:cc:dd:ee:ff", hex digits of either case.  Refuses other shapes,
 * multicast (bit 0 of the first octet, which includes broadcast) and all
 * zero: 0, or -EINVAL with the reason in why. */
int mac_parse(const char *s, uint64_t *mac, char *why, size_t whylen);
/* Lowercase "aa:bb:cc:dd:ee:ff". */
void mac_format(uint64_t mac, char out[MAC_STR_LEN]);
/* In 00:16:3e:xx:xx:xx. */
bool mac_is_xen(uint64_t mac);

/* A set of MACs (sorted on first lookup after additions). */
struct mac_set {
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};

void mac_set_init(struct mac_set *s);
void mac_set_free(struct mac_set *s);
/* 0 or -ENOMEM; adding a MAC twice is harmless. */
int mac_set_add(struct mac_set *s, uint64_t mac);
bool mac_set_has(struct mac_set *s, uint64_t mac);

/* The seed of vif `vif` of VM `vm`: a fixed hash (the same on every
 * member and every build), so that a name's MACs do not depend on
 * anything but the name and what is in use. */
uint64_t mac_seed(const char *vm, unsigned vif);
/* A MAC of the pool not in used: first candidates drawn from seed, then
 * (when the pool is nearly full) the next free one from there on.
 * 0, or -ENOSPC when every MAC of the pool is used. */
int mac_alloc(struct mac_set *used, uint64_t seed, uint64_t *mac);
/* The same within 00:16:3e:first .. 00:16:3e:first+count-1 (a range of
 * the pool; for tests of small spaces). -EINVAL for a range outside it. */
int mac_alloc_range(struct mac_set *used, uint64_t seed, uint32_t first,
		    uint32_t count, uint64_t *mac);

/* ---- vif = [ ... ] of an xl.cfg text ----------------------------------- */

#define MAC_CFG_VIFS_MAX 8      /* VM_MAX_VIFS */

/* One item of the vif list: where its string is in the text and the
 * mac= it gives. */
struct mac_vif {
	size_t open;            /* offset of the opening quote */
	size_t close;           /* offset of the closing quote */
	bool has_mac;
	uint64_t mac;
};

/* The items of every `vif = [...]` / `vif += [...]` of text, in order
 * (the vif index is the position).  Refuses what xl would not read as a
 * vif list (an item that is no string, a nested list, a bad or repeated
 * mac=, backslash escapes in a spec, more than max items) and two items
 * with the same MAC: 0 with *n set, or -EINVAL with why. */
int mac_cfg_vifs(const char *text, struct mac_vif *vifs, size_t max,
		 size_t *n, char *why, size_t whylen);
/* A copy of text in which each vif item without mac= (per vifs[0..n),
 * from mac_cfg_vifs on the same text) gets "mac=MAC" first, MAC being
 * vifs[i].mac.  0 with *out malloc'd, or -ENOMEM. */
int mac_cfg_fill(const char *text, const struct mac_vif *vifs, size_t n,
		 char **out);

#endif
