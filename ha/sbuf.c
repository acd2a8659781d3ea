/* Bounded texts; see sbuf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sbuf.h"

void
sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->full = false;
	p[0] = '\0';
}

void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (b->full)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (r >= 0 && (size_t)r < b->cap - b->len) {
		b->len += (size_t)r;
		return;
	}
	b->full = true;
	b->len = b->cap - 1;
	if (b->cap > 4)
		memcpy(b->p + b->cap - 4, "...", 4);
}
