/* The storage part of the replicated state: SAN volumes, the active SAN
 * node, and each VM's storage generation (per-VM storage fence).
 *
 * Pure; called by state.c for the storage kinds of Op and for their part
 * of pack/unpack, like vmtable.c is for VMs.
 */
#ifndef XM_VOLTABLE_H
#define XM_VOLTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* Smallest and largest volume: one block, 16 TiB. */
#define VOL_SIZE_MIN   512ULL
#define VOL_SIZE_MAX   (16ULL << 40)

bool voltable_op_kind(const Xenmesh__Op *op);
int voltable_validate(const struct state *s, const Xenmesh__Op *op,
		      char *why, size_t whylen);
/* After voltable_validate() said yes; -ENOMEM is the only failure, and
 * then nothing changed. */
int voltable_apply(struct state *s, const Xenmesh__Op *op);

/* Volumes and the active SAN into msg; *scratch must outlive the pack
 * (free it after).  0 or -ENOMEM. */
int voltable_pack(const struct state *s, Xenmesh__State *msg, void **scratch);
void voltable_scratch_free(void *scratch);
/* Check and load msg's volumes and active SAN into s (the nodes already
 * loaded).  -EBADMSG with why, -ENOMEM. */
int voltable_unpack(const Xenmesh__State *msg, struct state *s, char *why,
		    size_t whylen);
int voltable_copy(struct state *dst, const struct state *src);

/* "VM-DISK" into buf; -ENAMETOOLONG, -EINVAL for a bad disk name
 * (letters, digits and '_', at most VOL_DISK_MAX - 1). */
int vol_name_make(char *buf, size_t len, const char *vm, const char *disk,
		  char *why, size_t whylen);
/* Is the VM in a state that uses its volumes (an instance may run)? */
bool vm_uses_storage(const struct vm_rec *v);

#endif
