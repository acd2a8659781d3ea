/* A bounded text being written (reasons, summaries): what does not fit is
 * dropped and the text ends in "...", so a long list never overflows nor
 * misleads.  Pure. */
#ifndef XM_SBUF_H
#define XM_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;
	size_t cap;
	size_t len;
	bool full;
};

void sb_init(struct sbuf *b, char *p, size_t cap);
void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
