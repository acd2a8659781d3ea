/* This node's corosync.conf kept equal to the cluster's nodelist.
 *
 * Once `agentctl node add` or `node forget` changed the replicated
 * nodelist (ha/nodetable.c), every agent writes it into its own
 * corosync.conf (cfg.corosync_conf) and runs `corosync-cfgtool -R`: when
 * the update is applied, and at every sync round, so a node that was down
 * during the change writes it when it is back.  Each node reloads after
 * its own write; a reload is cluster-wide in corosync 3, so the last one
 * finds every file written (a reload of an unchanged file changes
 * nothing).
 */
#ifndef XM_NODECONF_H
#define XM_NODECONF_H

#include <stddef.h>

#include "agent.h"
#include "corosync_conf.h"

int nodeconf_start(struct agent *a);
/* With this runner (the tests' recorder), taken over: closed by stop. */
struct runner;
int nodeconf_open(struct agent *a, struct runner *runner);
void nodeconf_stop(struct agent *a);
/* The state changed: write and reload if the nodelist is newer. */
void nodeconf_kick(struct agent *a);

/* The file's text (malloc'd, at most 1 MiB).  0 or -errno with err. */
int nodeconf_read(const char *path, char **text, char *err, size_t errlen);
/* Replace path by text: a temporary file, fsync, the old one kept as
 * path.bak, rename, fsync of the directory.  0 or -errno with err. */
int nodeconf_write(const char *path, const char *text, char *err, size_t errlen);

void nodeconf_from_state(const struct state *s, struct cc_nodelist *nl);

#endif
