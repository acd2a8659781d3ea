/* `agentctl log-level LEVEL`: the priority of xenmeshd's logging at run
 * time (see log_level.h). */
#include <string.h>
#include <syslog.h>

#include <qb/qblog.h>

#include "log_level.h"

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

const char *
log_level_name(int level)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "?";
}

/* The filters of main.c's log_setup() for one target: our messages (they
 * start with "[subsys]") at level; libqb's own at info at most. */
static void
log_level_target(int32_t target, int level)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE,
			  "*", LOG_EMERG);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  level < LOG_INFO ? level : LOG_INFO);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "[",
			  level);
}

void
log_level_set(int level)
{
	log_level_target(QB_LOG_SYSLOG, level);
	if (qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_STATE_GET, 0) == QB_LOG_STATE_ENABLED)
		log_level_target(QB_LOG_STDERR, level);
}
