/* The VM table of the replicated state: VM ops and their encoding.
 *
 * Pure; called by state.c for the VM kinds of Op and for the VM part of
 * pack/unpack.  Kept apart so each file keeps one responsibility.
 */
#ifndef XM_VMTABLE_H
#define XM_VMTABLE_H

#include <stddef.h>

#include "state.h"

/* Scratch space that must outlive a packed Xenmesh__Vm. */
struct vm_pack {
	Xenmesh__Vm vm;
	Xenmesh__VmHa ha;
	char *hosts[VM_MAX_HOSTS];
	char *after[VM_MAX_AFTER];
	char restart[16];
	char *state;
};

bool vmtable_op_kind(const Xenmesh__Op *op);
int vmtable_validate(const struct state *s, const Xenmesh__Op *op,
		     char *why, size_t whylen);
/* After vmtable_validate() said yes; -ENOMEM is the only failure, and then
 * nothing changed. */
int vmtable_apply(struct state *s, const Xenmesh__Op *op);

void vmtable_pack_one(const struct vm_rec *v, struct vm_pack *p);
int vmtable_unpack_one(const Xenmesh__Vm *m, struct vm_rec *v,
		       char *why, size_t whylen);

/* HA settings to and from the wire (ha is pointed into p's storage). */
void vm_ha_to_pb(const struct vm_ha *ha, Xenmesh__VmHa *pb, char **hosts,
		 char **after, char *restart, size_t restart_len);
int vm_ha_from_pb(const Xenmesh__VmHa *pb, struct vm_ha *ha,
		  char *why, size_t whylen);

void vm_rec_free(struct vm_rec *v);
int vm_rec_copy(struct vm_rec *dst, const struct vm_rec *src);

#endif
