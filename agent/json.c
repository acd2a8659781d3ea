/* A tiny JSON writer (see json.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void
json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->buf);
	json_init(j);
}

static void
json_fail(struct json *j, int err)
{
	if (j->err == 0)
		j->err = err;
}

static void
json_put(struct json *j, const char *s, size_t n)
{
	if (j->err != 0)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *nb;

		while (j->len + n + 1 > cap) {
			if (cap > SIZE_MAX / 2) {
				json_fail(j, -ENOMEM);
				return;
			}
			cap *= 2;
		}
		nb = realloc(j->buf, cap);
		if (nb == NULL) {
			json_fail(j, -ENOMEM);
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void
json_puts(struct json *j, const char *s)
{
	json_put(j, s, strlen(s));
}

/* Before any value: the comma, and the check that inside an object a key
 * came first.  A top-level value may be written only once. */
static void
json_value_prefix(struct json *j)
{
	if (j->in_object[j->depth]) {
		if (!j->have_key) {
			json_fail(j, -EINVAL);
			return;
		}
		j->have_key = false;
		return;         /* json_key wrote the comma */
	}
	if (j->depth == 0 && j->need_comma[0]) {
		json_fail(j, -EINVAL);
		return;
	}
	if (j->need_comma[j->depth])
		json_puts(j, ",");
	j->need_comma[j->depth] = true;
}

static void
json_open(struct json *j, const char *tok, bool object)
{
	json_value_prefix(j);
	if (j->depth >= JSON_DEPTH_MAX) {
		json_fail(j, -E2BIG);
		return;
	}
	json_puts(j, tok);
	j->depth++;
	j->need_comma[j->depth] = false;
	j->in_object[j->depth] = object;
}

static void
json_close(struct json *j, const char *tok, bool object)
{
	if (j->depth == 0 || j->in_object[j->depth] != object || j->have_key) {
		json_fail(j, -EINVAL);
		return;
	}
	j->depth--;
	json_puts(j, tok);
}

void
json_object_begin(struct json *j)
{
	json_open(j, "{", true);
}

void
json_object_end(struct json *j)
{
	json_close(j, "}", true);
}

void
json_array_begin(struct json *j)
{
	json_open(j, "[", false);
}

void
json_array_end(struct json *j)
{
	json_close(j, "]", false);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if the
 * bytes there are not one (overlong forms and surrogates included). */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void
json_put_escaped(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	char esc[8];

	json_puts(j, "\"");
	while (i < n) {
		unsigned char c = s[i];
		const char *rep = NULL;
		size_t len;

		switch (c) {
		case '"':  rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				(void)snprintf(esc, sizeof(esc), "\\u%04x", c);
				rep = esc;
			}
			break;
		}
		len = rep ? 0 : utf8_seq_len(s + i, n - i);
		if (rep == NULL && len == 0)
			rep = "\\ufffd";        /* not UTF-8: keep the output valid */
		if (rep == NULL) {
			i += len;
			run += len;
			continue;
		}
		json_put(j, str + i - run, run);
		run = 0;
		json_puts(j, rep);
		i++;
	}
	json_put(j, str + i - run, run);
	json_puts(j, "\"");
}

void
json_key(struct json *j, const char *key)
{
	if (!j->in_object[j->depth] || j->have_key || key == NULL) {
		json_fail(j, -EINVAL);
		return;
	}
	if (j->need_comma[j->depth])
		json_puts(j, ",");
	j->need_comma[j->depth] = true;
	json_put_escaped(j, key, strlen(key));
	json_puts(j, ":");
	j->have_key = true;
}

void
json_string_len(struct json *j, const char *s, size_t len)
{
	json_value_prefix(j);
	json_put_escaped(j, s, len);
}

void
json_string(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_string_len(j, s, strlen(s));
}

void
json_uint(struct json *j, uint64_t v)
{
	char num[24];

	json_value_prefix(j);
	(void)snprintf(num, sizeof(num), "%" PRIu64, v);
	json_puts(j, num);
}

void
json_int(struct json *j, int64_t v)
{
	char num[24];

	json_value_prefix(j);
	(void)snprintf(num, sizeof(num), "%" PRId64, v);
	json_puts(j, num);
}

void
json_bool(struct json *j, bool v)
{
	json_value_prefix(j);
	json_puts(j, v ? "true" : "false");
}

void
json_null(struct json *j)
{
	json_value_prefix(j);
	json_puts(j, "null");
}

void
json_hex(struct json *j, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];
	size_t i;

	json_value_prefix(j);
	json_puts(j, "\"");
	for (i = 0; i < len; i++) {
		pair[0] = digits[data[i] >> 4];
		pair[1] = digits[data[i] & 0x0f];
		json_put(j, pair, 2);
	}
	json_puts(j, "\"");
}

int
json_error(const struct json *j)
{
	if (j->err != 0)
		return j->err;
	if (j->depth != 0 || j->have_key)
		return -EINVAL;
	return 0;
}

char *
json_take(struct json *j, int *err)
{
	char *out;
	int e = json_error(j);

	if (e == 0 && j->buf == NULL)
		json_put(j, "", 0);     /* an empty document is still a string */
	e = json_error(j);
	if (e != 0) {
		if (err != NULL)
			*err = e;
		json_free(j);
		return NULL;
	}
	out = j->buf;
	j->buf = NULL;
	json_free(j);
	if (err != NULL)
		*err = 0;
	return out;
}
