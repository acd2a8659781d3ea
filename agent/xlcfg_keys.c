/* The key scanner of the xl.cfg parser (see xlcfg.c, xlcfg_int.h).
 *
 * libxlutil has no way to list the keys it read, so this walks the text
 * (after libxlutil accepted it, so its grammar is known good: IDENT = value
 * or IDENT += value, ';' or newline between statements, lists in [ ],
 * quoted strings, # comments) to find every key with its line, and the
 * line of each item of a list.  Each key is then looked up in the parser's
 * field table: mapped, or refused ("it would be dropped").  No I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg_int.h"

static const struct xlcfg_field *
xlcfg_field_find(const struct xlcfg_parser *p, const char *name)
{
	const struct xlcfg_field *f;

	for (f = p->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

struct xlcfg_key *
xlcfg_key(struct xlcfg_parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_keys; i++)
		if (strcmp(p->keys[i].name, name) == 0)
			return &p->keys[i];
	return NULL;
}

static int
xlcfg_unknown(struct xlcfg_parser *p, const char *name, int len,
	      unsigned line)
{
	const struct xlcfg_field *f;
	char known[256];
	size_t n = 0;

	if (len < 3 || strncmp(name, "ha_", 3) != 0)
		return xlcfg_error(p, line, "key '%.*s' is not supported by "
				   "xenmesh's xl driver; it would be dropped",
				   len, name);
	known[0] = '\0';
	for (f = p->fields; f->name; f++) {
		if (strncmp(f->name, "ha_", 3) != 0)
			continue;
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
				      n ? ", " : "", f->name);
		if (n >= sizeof(known))
			break;
	}
	return xlcfg_error(p, line, "unknown HA key %.*s; known: %s", len,
			   name, known);
}

/* An assignment to name (len bytes) on line; *cur becomes its record. */
static int
xlcfg_key_seen(struct xlcfg_parser *p, const char *name, size_t len,
	       unsigned line, bool add, struct xlcfg_key **cur)
{
	char buf[XLCFG_KEY_MAX];
	struct xlcfg_key *k;

	if (len >= sizeof(buf))
		return xlcfg_unknown(p, name, (int)len, line);
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (!xlcfg_field_find(p, buf))
		return xlcfg_unknown(p, name, (int)len, line);
	k = xlcfg_key(p, buf);
	if (k) {
		/* += appends (libxlutil concatenates); = would replace. */
		if (!add)
			return xlcfg_error(p, line, "key '%s' is set twice "
					   "(first on line %u)", buf, k->line);
		k->added = true;
		*cur = k;
		return 0;
	}
	if (p->n_keys == p->cap_keys) {
		size_t cap = p->cap_keys ? 2 * p->cap_keys : 16;
		struct xlcfg_key *keys = realloc(p->keys, cap * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		p->keys = keys;
		p->cap_keys = cap;
	}
	k = &p->keys[p->n_keys++];
	memset(k, 0, sizeof(*k));
	memcpy(k->name, buf, len + 1);
	k->line = line;
	k->added = add;
	*cur = k;
	return 0;
}

static void
xlcfg_item_seen(struct xlcfg_key *k, unsigned depth, unsigned line)
{
	if (!k || depth != 1)
		return;
	if (k->n_items < XLCFG_ITEM_LINES)
		k->item_line[k->n_items] = line;
	k->n_items++;
}

int
xlcfg_scan(struct xlcfg_parser *p)
{
	const char *s = p->text, *end = p->text + p->len;
	struct xlcfg_key *cur = NULL;
	unsigned line = 1, depth = 0;
	bool stmt = true;               /* at the start of a statement */
	int r;

	while (s < end) {
		char c = *s;

		if (c == '\n' || (c == ';' && depth == 0)) {
			if (c == '\n')
				line++;
			if (depth == 0) {
				stmt = true;
				cur = NULL;
			}
			s++;
		} else if (c == '#') {
			while (s < end && *s != '\n')
				s++;
		} else if (c == '\'' || c == '"') {
			xlcfg_item_seen(cur, depth, line);
			for (s++; s < end && *s != c && *s != '\n'; s++)
				if (*s == '\\' && s + 1 < end)
					s++;
			s++;
		} else if (c >= 'a' && c <= 'z') {
			const char *name = s, *q;

			while (s < end && (islower((unsigned char)*s) ||
					   isdigit((unsigned char)*s) || *s == '_'))
				s++;
			if (!stmt || depth != 0)
				continue;       /* cannot happen in valid text */
			for (q = s; q < end && (*q == ' ' || *q == '\t'); q++)
				;
			r = xlcfg_key_seen(p, name, (size_t)(s - name), line,
					   q < end && *q == '+', &cur);
			if (r)
				return r;
			stmt = false;
		} else if (c >= '0' && c <= '9') {
			xlcfg_item_seen(cur, depth, line);
			while (s < end && isalnum((unsigned char)*s))
				s++;
		} else {
			if (c == '[') {
				xlcfg_item_seen(cur, depth, line);
				depth++;
			} else if (c == ']' && depth) {
				depth--;
			}
			s++;
		}
	}
	return 0;
}
