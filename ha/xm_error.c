#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xm_error.h"

const char *
xm_strerror(int err)
{
	switch (err) {
	case XM_ENOQUORUM:
		return "cluster partition is not quorate";
	case XM_ENOCOORD:
		return "no coordinator elected yet";
	case XM_ESTALE:
		return "decided in an older cluster configuration";
	case XM_ESYNCING:
		return "state sync in progress, try again";
	case XM_EVERSION:
		return "incompatible protocol version";
	case XM_ECORRUPT:
		return "checksum or framing mismatch";
	case XM_EHADISABLED:
		return "HA management disabled by the quorum rules";
	case XM_EFENCED:
		return "the SAN refused this host: it has been fenced";
	}
	return strerror(err < 0 ? -err : err);
}

void
xm_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}
