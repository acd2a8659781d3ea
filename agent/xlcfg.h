/* xl.cfg, the standard Xen domain config file, plus xenmesh's HA keys,
 * parsed with libxlutil (the parser xl itself uses) into a vm_config.
 *
 * Every key is either mapped into the vm_config or refused with
 * "FILE:LINE: ..."; nothing is dropped silently.  Needs libxlutil and
 * libxenlight's data helpers only (no libxl_ctx, so no Xen host).
 */
#ifndef XM_XLCFG_H
#define XM_XLCFG_H

#include <stddef.h>

#include "vmconf.h"

#define XLCFG_TEXT_MAX (1024 * 1024)    /* bytes; a domain config is small */

/* Parse len bytes of text; filename is only used in messages.
 * Returns 0 with *out filled, or a negative errno with *out untouched:
 * -EINVAL for bad content, -EFBIG above XLCFG_TEXT_MAX, -ENOMEM.
 * err gets "FILE:LINE: message" when a line is known, else
 * "FILE: message" (err may be NULL). */
int xlcfg_parse(const char *text, size_t len, const char *filename,
		struct vm_config *out, char *err, size_t errlen);

/* The same for a file; read errors are -errno with "PATH: strerror". */
int xlcfg_parse_file(const char *path, struct vm_config *out,
		     char *err, size_t errlen);

#endif
