/* agentctl's side of `node add` and `node forget` (xenmeshd's side is
 * agent/ctl_nodes.c).  With --print-config, node add prints the whole
 * corosync.conf the new machine needs: this machine's file (corosync's
 * COROSYNC_MAIN_CONFIG_FILE, else /etc/corosync/corosync.conf) with the
 * nodelist xenmeshd answered. */
#ifndef XM_CTL_NODES_CLI_H
#define XM_CTL_NODES_CLI_H

#include "ctl_args.h"
#include "ctl_client.h"

/* The request and its answer: agentctl's exit status. */
int ctl_nodes_run(struct ctl_conn *cc, const struct ctl_args *args);

/* Pure, for the tests: the corosync.conf for the new node, made of
 * local_conf and the nodelist block in answer.  *out is malloc'd; 0, or
 * -errno with err. */
int ctl_nodes_config(const char *answer, const char *local_conf, char **out,
		     char *err, size_t errlen);

#endif
