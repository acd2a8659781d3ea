/* xenmesh's programs find one another: xenmeshd runs agentctl (the relay
 * of a forwarded request) and xenmesh-unpack (a restore).  All are
 * installed in one directory (sbin), and in the build tree they sit side
 * by side too, so the one beside the running program is the right one.
 */
#ifndef XM_SIBLING_H
#define XM_SIBLING_H

#include <stddef.h>

/* buf := the directory of /proc/self/exe + "/" + prog when that is an
 * executable; else prog itself (a bare name: the runner looks it up on its
 * own PATH). */
void sibling_program(const char *prog, char *buf, size_t len);

#endif
