/* Internal to the xl.cfg parser (xlcfg.c, xlcfg_keys.c); see xlcfg.h.
 *
 * xlcfg.c maps values; xlcfg_keys.c finds the keys in the text, with the
 * line of each key and of its list items, since libxlutil cannot list
 * the keys it read.  Nothing else includes this header.
 */
#ifndef XM_XLCFG_INT_H
#define XM_XLCFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libxlutil.h>

#include "vmconf.h"

#define XLCFG_KEY_MAX 64        /* longer identifiers are no key of ours */
#define XLCFG_ITEM_LINES 64     /* list items whose line is remembered */

/* One key as written in the text (all its assignments together). */
struct xlcfg_key {
	char name[XLCFG_KEY_MAX];
	unsigned line;                  /* of its first assignment */
	bool added;                     /* an assignment used += */
	unsigned n_items;               /* list items over all assignments */
	unsigned item_line[XLCFG_ITEM_LINES];
};

struct xlcfg_parser {
	const char *file;
	const char *text;
	size_t len;
	XLU_Config *xlu;
	FILE *report;                   /* libxlutil's messages */
	char *report_buf;
	size_t report_size;
	size_t report_seen;
	struct xlcfg_key *keys;
	size_t n_keys;
	size_t cap_keys;
	const struct xlcfg_field *fields;       /* xlcfg_fields */
	struct vm_config *vm;
	enum vm_type builder;           /* legacy builder=, 0 when absent */
	char *err;
	size_t errlen;
};

enum xlcfg_kind {
	XK_STRING,      /* single value; set(val), or copied to off/size */
	XK_NUMBER,      /* single number in min..max, stored by size at off */
	XK_LIST,        /* set() reads the list (or string) itself */
};

struct xlcfg_field;
typedef int (*xlcfg_set_fn)(struct xlcfg_parser *p, const struct xlcfg_key *k,
			    const struct xlcfg_field *f, const char *val);

/* A key we map.  Absent keys keep vm_config_init()'s defaults;
 * xlcfg_finish() then checks what needs several keys. */
struct xlcfg_field {
	const char *name;
	enum xlcfg_kind kind;
	xlcfg_set_fn set;
	size_t off;                     /* in struct vm_config */
	size_t size;
	long min, max;                  /* XK_NUMBER */
};

/* "FILE:LINE: message" (line 0: "FILE: message"); returns -EINVAL. */
int xlcfg_error(struct xlcfg_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- xlcfg_keys.c --------------------------------------------------------- */

/* Records every key of p->text with its line and its list items' lines
 * in p->keys; refuses a key not in p->fields and a key set twice with =.
 * The text must have passed libxlutil already.  0, -EINVAL, -ENOMEM. */
int xlcfg_scan(struct xlcfg_parser *p);
/* The record of key name, NULL when the text does not set it. */
struct xlcfg_key *xlcfg_key(struct xlcfg_parser *p, const char *name);

#endif
