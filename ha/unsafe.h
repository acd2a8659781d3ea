/* Safety rules broken on purpose, for the fault campaign only.
 *
 * Each invariant checker of the campaign has a test proving it catches a
 * violation: agents of a build made with `configure
 * --enable-unsafe-test-build` (never by debian/rules or tests/bootstrap)
 * break one rule when the environment asks them to, e.g.
 *     XM_UNSAFE=fence-wait,quorum xenmeshd ...
 * Modes (comma-separated, exact names):
 *   fence-wait  the coordinator places a lost host's VMs without waiting
 *               for its fence or self-fence deadline (I5, I2, I1)
 *   quorum      a partition without quorum acts as quorate: it elects its
 *               own coordinator and recovers (I3, I4)
 *   epoch       the replica takes stale frames: from a process that is not
 *               the node's agent (a replay), decided in another ring, out
 *               of (epoch, seq) order (I6)
 *   san-export  a SAN node that exported keeps exporting once it may no
 *               longer (not active, minority) (I7)
 *   lose-report the coordinator drops every other report of a VM's start
 *               or end, as a ring change drops one on its way (the hosts
 *               must send it again: fault 40)
 *
 * In every other build xm_unsafe() is a constant false: the compiler
 * drops the unsafe branches, and nothing reads the environment.
 */
#ifndef XM_UNSAFE_H
#define XM_UNSAFE_H

#include <stdbool.h>

#include "xmconfig.h"

#ifdef XM_UNSAFE_TEST_BUILD

#include <stdlib.h>
#include <string.h>

/* The modes asked for, or NULL. */
static inline const char *
xm_unsafe_modes(void)
{
	const char *v = getenv("XM_UNSAFE");

	return v != NULL && v[strspn(v, ", ")] != '\0' ? v : NULL;
}

/* Is mode `what` on? */
static inline bool
xm_unsafe(const char *what)
{
	const char *p = xm_unsafe_modes();
	size_t n = strlen(what);

	while (p != NULL && n > 0) {
		size_t len;

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len == n && strncmp(p, what, n) == 0)
			return true;
		p = p[len] != '\0' ? p + len : NULL;
	}
	return false;
}

#else

static inline const char *
xm_unsafe_modes(void)
{
	return NULL;
}

static inline bool
xm_unsafe(const char *what)
{
	(void)what;
	return false;
}

#endif
#endif
