/* The log priority of xenmeshd at run time (`agentctl log-level LEVEL`).
 * Levels are named as in xenmesh.conf's [log] level. */
#ifndef XM_LOG_LEVEL_H
#define XM_LOG_LEVEL_H

/* error|warning|notice|info|debug: the syslog priority, -1 otherwise. */
int log_level_parse(const char *name);
/* The name of a priority parse returns, "?" for others. */
const char *log_level_name(int level);
/* qb_log's filters for syslog (and stderr when enabled) at level. */
void log_level_set(int level);

#endif
