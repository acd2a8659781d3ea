/* What a host tells the cluster about itself; see hostinfo.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostinfo.h"

/* The value of "key<blanks>: value" in the first processor's block. */
static int
field(const char *text, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0'; ) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);

		if (ll == 0)
			break;          /* end of the first processor */
		if (ll > kl && strncmp(p, key, kl) == 0 &&
		    (p[kl] == ' ' || p[kl] == '\t' || p[kl] == ':')) {
			const char *v = memchr(p, ':', ll);

			if (v == NULL)
				return -ENOENT;
			v++;
			while (v < p + ll && (*v == ' ' || *v == '\t'))
				v++;
			snprintf(out, len, "%.*s", (int)(p + ll - v), v);
			return out[0] != '\0' ? 0 : -ENOENT;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

int
cpu_class_parse(const char *cpuinfo, char *buf, size_t len)
{
	char vendor[48], family[16];

	if (field(cpuinfo, "vendor_id", vendor, sizeof(vendor)) < 0 ||
	    field(cpuinfo, "cpu family", family, sizeof(family)) < 0)
		return -ENOENT;
	for (char *c = vendor; *c; c++)
		if (*c == ' ' || *c == '\t')
			*c = '_';
	snprintf(buf, len, "%s-%s", vendor, family);
	return 0;
}

void
cpu_class_read(char *buf, size_t len)
{
	char text[8192];
	FILE *f = fopen("/proc/cpuinfo", "re");
	size_t n = 0;

	buf[0] = '\0';
	if (f == NULL)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (cpu_class_parse(text, buf, len) < 0)
		buf[0] = '\0';
}
