/* A tiny JSON writer into a growable buffer.  Pure: no I/O.
 *
 * Calls never fail one by one: the first error (out of memory, nesting
 * too deep, a value where a key is due) is kept and json_error() reports
 * it at the end, so a formatter writes straight through and checks once.
 * Commas are placed by the writer.  Strings are escaped per RFC 8259;
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always
 * valid JSON whatever a node or VM name holds.
 */
#ifndef XM_JSON_H
#define XM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 32

struct json {
	char *buf;              /* NUL-terminated when not NULL */
	size_t len;
	size_t cap;
	int err;                /* first error, 0 if none */
	unsigned depth;
	/* per level: 1 once a member was written (a comma is due) */
	bool need_comma[JSON_DEPTH_MAX + 1];
	/* per level: 1 inside an object (a key must come first) */
	bool in_object[JSON_DEPTH_MAX + 1];
	bool have_key;          /* a key was written, its value is due */
};

void json_init(struct json *j);
void json_free(struct json *j);                 /* accepts NULL */

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s);        /* NULL: null */
void json_string_len(struct json *j, const char *s, size_t len);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
void json_hex(struct json *j, const uint8_t *data, size_t len);

/* 0, or the first error: -ENOMEM, -EINVAL (misuse), -E2BIG (too deep);
 * also -EINVAL when objects or arrays are left open. */
int json_error(const struct json *j);

/* Hands the text over (caller frees); j is reset.  NULL with *err set on
 * error. */
char *json_take(struct json *j, int *err);

#endif
