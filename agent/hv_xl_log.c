/* libxl's log (a xentoollog logger) into qb_log: "[libxl]" prefix,
 * levels mapped to syslog; its errors also go to the migration in flight,
 * whose reason names the first (hv_xl_mig.c). */
#define LIBXL_API_VERSION 0x041400
#define LOG_SUBSYS "xl"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxl.h>
#include <xentoollog.h>

#include "hv_xl_int.h"
#include "log.h"

static void
xl_log_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
		const char *context, const char *format, va_list ap)
{
	char msg[512];
	int prio, n;

	n = vsnprintf(msg, sizeof(msg), format, ap);
	if (n >= 0 && (size_t)n < sizeof(msg) && errnoval >= 0)
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
			 strerror(errnoval));
	prio = level >= XTL_CRITICAL ? LOG_CRIT :
	       level >= XTL_ERROR ? LOG_ERR :
	       level >= XTL_WARN ? LOG_WARNING :
	       level >= XTL_NOTICE ? LOG_NOTICE :
	       level >= XTL_PROGRESS ? LOG_INFO : LOG_DEBUG;
	qb_log_from_external_source(__func__, __FILE__, "[libxl] %s: %s",
				    (uint8_t)prio, __LINE__, 0,
				    context ? context : "libxl", msg);
	if (level >= XTL_ERROR) {
		char text[sizeof(msg) + 16];
		int skip = 0;

		/* without libxl's "file.c:line:function: " */
		(void)sscanf(msg, "%*[^: ]:%*d:%*[^: ]: %n", &skip);
		snprintf(text, sizeof(text), "%s: %s", context ? context : "libxl",
			 msg + skip);
		xl_mig_log_error(((struct xl_logger *)lg)->hv, text);
	}
}

static void
xl_log_progress(xentoollog_logger *lg, const char *context,
		const char *doing_what, int percent, unsigned long done,
		unsigned long total)
{
	/* Progress lines (save/restore) would flood the log. */
}

static void
xl_log_destroy(xentoollog_logger *lg)
{
	/* Embedded in struct hv: freed with it. */
}

void
xl_logger_init(struct hv *hv)
{
	hv->logger.vtable.vmessage = xl_log_vmessage;
	hv->logger.vtable.progress = xl_log_progress;
	hv->logger.vtable.destroy = xl_log_destroy;
	hv->logger.hv = hv;
}
