/* agentctl's planned-maintenance commands: vm migrate, node drain, node
 * undrain, cluster maintenance, and the waits of the first two (--wait),
 * which poll the status answer and say what changed.  Each returns
 * agentctl's exit status (enum ctl_exit), having said on stderr what
 * went wrong. */
#ifndef XM_CTL_PLANNED_H
#define XM_CTL_PLANNED_H

#include "ctl_args.h"
#include "ctl_client.h"

/* Between two status answers of a wait. */
#define CTL_WAIT_PERIOD_MS 250

/* vm migrate VM HOST [--offline] [--wait [--timeout S]]: the agent's
 * message; with --wait "VM web1: running on h2 (migrated in 1.8 s)", or
 * where it is and why (exit 1). */
int ctl_planned_migrate(struct ctl_conn *cc, const struct ctl_args *args);
/* node drain HOST ...: the plan and whether it went ahead; --wait follows
 * it to the end (exit 1 when VMs are left on HOST). */
int ctl_planned_drain(struct ctl_conn *cc, const struct ctl_args *args);
/* node undrain HOST [--rebalance], cluster maintenance on|off: the agent's
 * message. */
int ctl_planned_change(struct ctl_conn *cc, const struct ctl_args *args);
/* node prepare-shutdown: this host's shutdown_policy, answered once the
 * agent may stop (what the unit's ExecStop runs while the system stops). */
int ctl_planned_prepare_shutdown(struct ctl_conn *cc, const struct ctl_args *args);
/* Is systemd taking the system down?  `systemctl is-system-running` says
 * "stopping" (a restart of the agent alone keeps its VMs where they are). */
bool ctl_system_stopping(void);

#endif
