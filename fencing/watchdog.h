/* Watchdog drivers: the device whose petting keeps this host alive.
 *
 * One ops table with designated initializers, called through the small
 * wrappers below.  `kernel` drives the Linux watchdog API (/dev/watchdog);
 * `rig` talks to the rig's watchdog service (tests/rig/watchdogd) over a
 * unix stream socket, for the netns rig where nodes have no device of
 * their own.
 *
 * Opening arms the watchdog: from then on the host is reset unless it is
 * petted within the timeout.  The self-fence rule (selffence.h) decides
 * when to pet; this module only does it.  Nothing here logs: errors come
 * back as negative errno, and open() also fills `why` with a sentence for
 * the caller to log, so that a host configured for HA VMs without a usable
 * watchdog can refuse them and say why.
 */
#ifndef XM_WATCHDOG_H
#define XM_WATCHDOG_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#define WATCHDOG_KERNEL_PATH "/dev/watchdog"
/* The rig driver's timeout when the configuration names none; the kernel
 * driver keeps the device's own timeout then. */
#define WATCHDOG_RIG_DEFAULT_TIMEOUT_S 10u
/* Longest timeout either driver accepts (an hour): anything longer is a
 * typo, and it is a term of the self-fence deadline W. */
#define WATCHDOG_TIMEOUT_MAX_S 3600u
/* Node names travel in the rig protocol and name a cgroup directory. */
#define WATCHDOG_NODE_MAX 64

struct watchdog_params {
	/* kernel: the device (NULL: WATCHDOG_KERNEL_PATH); rig: the socket. */
	const char *path;
	/* rig: this node's name, as the rig names its cgroup. */
	const char *node_name;
	/* 0: the device's own (kernel) or WATCHDOG_RIG_DEFAULT_TIMEOUT_S (rig);
	 * else set with WDIOC_SETTIMEOUT (kernel) or sent in hello (rig). */
	unsigned timeout_s;
};

struct watchdog_ops;

/* Every driver's handle starts with this, so the wrappers can dispatch. */
struct watchdog {
	const struct watchdog_ops *ops;
};

struct watchdog_ops {
	const char *name;
	/* Arm the watchdog.  On failure nothing stays armed and why says what
	 * is wrong in words an admin can act on. */
	int (*open)(struct watchdog **wd, const struct watchdog_params *p,
	    char *why, size_t whylen);
	/* Restart the countdown.  Never blocks. */
	int (*pet)(struct watchdog *wd);
	/* The timeout in force, in seconds (kernel: WDIOC_GETTIMEOUT, which may
	 * differ from what was asked: drivers round).  Replicated as a term of
	 * W, so it must be what the device really does. */
	int (*timeout_get)(struct watchdog *wd, unsigned *timeout_s);
	/* NULL when the driver cannot change it once open. */
	int (*set_timeout)(struct watchdog *wd, unsigned timeout_s);
	/* magic_close: disarm (the kernel's 'V').  Only on a clean stop with no
	 * HA domain left; never once a self-fence has begun, and never on an
	 * error path that leaves HA domains running: without it the watchdog
	 * stays armed and resets the host unless a new agent pets it in time. */
	void (*close)(struct watchdog *wd, bool magic_close);
};

extern const struct watchdog_ops watchdog_kernel_ops;
extern const struct watchdog_ops watchdog_rig_ops;

/* "kernel" or "rig"; NULL for any other name. */
const struct watchdog_ops *watchdog_ops_find(const char *name);

/* 0 and *wd; or negative errno, *wd NULL and why filled. */
static inline int
watchdog_open(const struct watchdog_ops *ops, struct watchdog **wd,
    const struct watchdog_params *p, char *why, size_t whylen)
{
	return ops->open(wd, p, why, whylen);
}

static inline int
watchdog_pet(struct watchdog *wd)
{
	return wd->ops->pet(wd);
}

static inline int
watchdog_timeout_get(struct watchdog *wd, unsigned *timeout_s)
{
	return wd->ops->timeout_get(wd, timeout_s);
}

/* -EOPNOTSUPP when the driver cannot. */
static inline int
watchdog_set_timeout(struct watchdog *wd, unsigned timeout_s)
{
	if (!wd->ops->set_timeout)
		return -EOPNOTSUPP;
	return wd->ops->set_timeout(wd, timeout_s);
}

/* Accepts NULL. */
static inline void
watchdog_close(struct watchdog *wd, bool magic_close)
{
	if (wd)
		wd->ops->close(wd, magic_close);
}

static inline const char *
watchdog_name(const struct watchdog *wd)
{
	return wd->ops->name;
}

#endif
