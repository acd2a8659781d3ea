/* Logging through libqb (syslog/journald, or stderr in the foreground).
 *
 * Each file names its subsystem before including this header:
 *   #define LOG_SUBSYS "cluster"
 * Helpers return errors; the caller that decides logs once, with the text
 * of the error (xm_strerror).  Non-fatal problems end in ", ignoring".
 */
#ifndef XM_LOG_H
#define XM_LOG_H

#include <syslog.h>
#include <qb/qblog.h>

#ifndef LOG_SUBSYS
#error "define LOG_SUBSYS before including log.h"
#endif

#define log_crit(fmt, ...)   qb_log(LOG_CRIT, "[" LOG_SUBSYS "] " fmt, ##__VA_ARGS__)
#define log_err(fmt, ...)    qb_log(LOG_ERR, "[" LOG_SUBSYS "] " fmt, ##__VA_ARGS__)
#define log_warn(fmt, ...)   qb_log(LOG_WARNING, "[" LOG_SUBSYS "] " fmt, ##__VA_ARGS__)
#define log_notice(fmt, ...) qb_log(LOG_NOTICE, "[" LOG_SUBSYS "] " fmt, ##__VA_ARGS__)
#define log_info(fmt, ...)   qb_log(LOG_INFO, "[" LOG_SUBSYS "] " fmt, ##__VA_ARGS__)
#define log_debug(fmt, ...)  qb_log(LOG_DEBUG, "[" LOG_SUBSYS "] " fmt, ##__VA_ARGS__)

/* With the object the message is about. */
#define log_node(lvl, id, fmt, ...) \
	qb_log(lvl, "[" LOG_SUBSYS "] node %u: " fmt, (unsigned)(id), ##__VA_ARGS__)

#endif
