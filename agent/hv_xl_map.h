/* struct vm_config -> libxl_domain_config, as xl's parse_config_data
 * would fill it from the same xl.cfg.
 *
 * Pure: no I/O, no libxl context (only libxl's data functions, which need
 * none, and libxlutil's disk-spec parser).  Used by the xl hypervisor
 * driver (agent/hv_xl.c) right before libxl_domain_create_new().
 */
#ifndef XM_HV_XL_MAP_H
#define XM_HV_XL_MAP_H

#include <stddef.h>

#include <libxl.h>

#include "vmconf.h"

/* Fill dc, which the caller has initialised with libxl_domain_config_init
 * and disposes with libxl_domain_config_dispose whatever this returns
 * (on error dc may be partly filled).  Every field of c that has a libxl
 * counterpart is mapped; what libxl would ignore or refuse later is
 * refused here (e.g. a bootloader for an HVM guest, a PV guest with
 * neither kernel nor bootloader).
 * 0; -EINVAL with the reason in why; -ENOMEM. */
int xlmap_config(const struct vm_config *c, libxl_domain_config *dc,
		 char *why, size_t whylen);

/* The libxl action for one of ours; -EINVAL for a value outside the enum. */
int xlmap_action(enum vm_action a, libxl_action_on_shutdown *out);

#endif
