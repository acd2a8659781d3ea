/* Fence methods that run commands, through the runner (agent/runner.h).
 *
 * fence-agent: any fence_* agent of fence-agents, with the standard stdin
 *   interface (doc/FenceAgentAPI.md of fence-agents): the agent alone on
 *   the command line, and on stdin "action=off" then the configured
 *   options one "key=value" a line (plug= among them when configured;
 *   agent= and timeout= are ours, not passed).  Exit 0 means off was
 *   done; then "action=status" with the same options must exit 2
 *   ("off"; 0 is "on", 1 an error).  Both share the method timeout.
 *
 * xl-ssh: over the management network,
 *   ssh -o BatchMode=yes -o ConnectTimeout=5 [-o UserKnownHostsFile=F
 *       -o StrictHostKeyChecking=yes] [-p PORT] [-i KEY] USER@ADDR xl destroy DOM
 *   for each HA domain the state places on the host, one after the other,
 *   then the forced reset with the same options plus
 *   -o ServerAliveInterval=1 -o ServerAliveCountMax=3 and the remote line
 *   "echo xenmesh-reset-sent; sleep 0.2; RESET" (RESET defaults to
 *   "echo b > /proc/sysrq-trigger"; the rig configures its own).
 *   How results count:
 *   - an xl destroy that exits 255 is ssh failing: the host is unreachable
 *     this way, the method fails without trying the reset;
 *   - an xl destroy that ran but exited non-zero (typically: no such
 *     domain, it died with the host's troubles) is noted in the message and
 *     does not stop the method: the reset that follows ends every domain;
 *   - the reset is accepted when it exits 0, or when the connection then
 *     drops (ssh exit 255, or our timeout) AFTER the marker line came
 *     back: the remote shell had started the reset line.  A drop without
 *     the marker proves nothing and fails the method (the next level or the
 *     deadline takes over).  The short sleep gives the marker time to
 *     leave the host before sysrq-b stops its network without a flush.
 *
 * storage: a slot (fence_target.storage_fence) the storage issue fills;
 *   it keeps the same contract (0 then one later done, or -errno).
 * deadline: handled by the chain itself, never run here.
 *
 * Every function returns 0 and later calls done exactly once (from the
 * loop), unless abandoned; or returns a negative errno and never calls
 * done.  The caller then reports the method failed to the chain.
 */
#ifndef XM_FENCE_METHODS_H
#define XM_FENCE_METHODS_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "runner.h"

#define FENCE_RESET_DEFAULT "echo b > /proc/sysrq-trigger"
#define FENCE_RESET_MARKER  "xenmesh-reset-sent"

typedef void (*fence_method_done_fn)(void *data, enum fence_result res,
				     const char *message);

struct fence_op;

/* What the caller knows about the host being fenced. */
struct fence_target {
	const char *host;
	const char *mgmt_addr;          /* xl-ssh default; option addr= wins */
	const char *ssh_key;            /* xl-ssh default; option key= wins */
	const char *const *domains;     /* HA domains placed on the host */
	size_t n_domains;
	/* storage fencing, filled by the storage layer; NULL: not available */
	int (*storage_fence)(void *storage_data, const char *host,
			     uint32_t timeout_ms, fence_method_done_fn done,
			     void *data);
	void *storage_data;
};

struct fence_xlssh_params {
	const char *addr;               /* required */
	const char *user;               /* NULL: root */
	const char *key;                /* NULL: ssh's default identity */
	const char *known_hosts;        /* NULL: ssh's default */
	unsigned port;                  /* 0: ssh's default */
	const char *reset;              /* NULL: FENCE_RESET_DEFAULT */
	const char *const *domains;
	size_t n_domains;
	uint32_t timeout_ms;            /* for the whole method */
};

/* m is a fence-agent method; it is copied.  -EINVAL, -ENOMEM, or what
 * the runner refused with. */
int fence_agent_run(struct runner *r, const struct fence_method_conf *m,
		    uint32_t timeout_ms, fence_method_done_fn done, void *data,
		    struct fence_op **op);

/* -EINVAL also for a domain name the remote shell could misread. */
int fence_xlssh_run(struct runner *r, const struct fence_xlssh_params *p,
		    fence_method_done_fn done, void *data, struct fence_op **op);

/* Run act->method for target t: dispatch on the kind.  -ENOTSUP for
 * storage without a storage layer, -EINVAL for deadline (the chain's). */
int fence_method_run(struct runner *r, const struct fence_target *t,
		     const struct fence_action *act, fence_method_done_fn done,
		     void *data, struct fence_op **op);

/* The caller no longer wants the answer (the chain timed the method out,
 * or it is shutting down): done will not be called; the op frees itself
 * when its current command ends.  NULL is fine. */
void fence_op_abandon(struct fence_op *op);

#endif
