/* What a host tells the cluster about itself beyond memory. */
#ifndef XM_HOSTINFO_H
#define XM_HOSTINFO_H

#include <stddef.h>

/* The CPU compatibility class from a /proc/cpuinfo text: "VENDOR-FAMILY"
 * of its first processor (e.g. "GenuineIntel-6"); -ENOENT when the text
 * names neither. */
int cpu_class_parse(const char *cpuinfo, char *buf, size_t len);
/* The same from /proc/cpuinfo; "" when it cannot be read. */
void cpu_class_read(char *buf, size_t len);

#endif
