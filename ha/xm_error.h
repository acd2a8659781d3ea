/* Error codes shared by every module.
 *
 * Functions return 0 or a negative errno.  Conditions errno has no word
 * for get a private negative range here (as sanlock's SANLK_*), so that
 * agentctl can map them to its exit codes and clear messages.
 */
#ifndef XM_ERROR_H
#define XM_ERROR_H

#define XM_EBASE         1000
#define XM_ENOQUORUM     (-(XM_EBASE + 1))  /* partition is not quorate */
#define XM_ENOCOORD      (-(XM_EBASE + 2))  /* no coordinator (yet) */
#define XM_ESTALE        (-(XM_EBASE + 3))  /* decided in an older configuration */
#define XM_ESYNCING      (-(XM_EBASE + 4))  /* sync round in progress */
#define XM_EVERSION      (-(XM_EBASE + 5))  /* peer speaks another protocol major */
#define XM_ECORRUPT      (-(XM_EBASE + 6))  /* checksum or framing mismatch */
#define XM_EHADISABLED   (-(XM_EBASE + 7))  /* quorum rules refuse HA VMs */
#define XM_EFENCED       (-(XM_EBASE + 8))  /* the SAN refused this host: fenced */

/* Text for any return value of ours: errno or XM_E*. */
const char *xm_strerror(int err);

#include <stddef.h>

/* The one sentence a refusal carries back ("why" buffers of pure modules);
 * NULL or empty why is fine. */
void xm_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
