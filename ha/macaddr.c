/* MAC addresses of VM vifs (see macaddr.h).
 *
 * Pure: no I/O, no logging.  Everything here must give the same answer
 * on every member (the replicated state calls it while applying an
 * update), so the hash is spelled out rather than taken from libc.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macaddr.h"

#define MAC_MASK        0xffffffffffffULL
#define MAC_PROBES      64      /* hashed tries before the linear walk */

static int mac_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
mac_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mac_parse(const char *s, uint64_t *mac, char *why, size_t whylen)
{
	uint64_t v = 0;
	int i;

	if (s == NULL)
		return mac_why(why, whylen, "no MAC address");
	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

		if (hi < 0 || lo < 0 || p[2] != (i == 5 ? '\0' : ':'))
			return mac_why(why, whylen, "invalid MAC address '%.40s' "
				       "(six hex pairs separated by ':', such as "
				       "00:16:3e:12:34:56)", s);
		v = v << 8 | (uint64_t)(hi << 4 | lo);
	}
	if (v == MAC_MASK)
		return mac_why(why, whylen, "MAC address %.17s is the broadcast "
			       "address, not a NIC's", s);
	if (v >> 40 & 1)
		return mac_why(why, whylen, "MAC address %.17s is a multicast "
			       "address (bit 0 of the first octet set), not a "
			       "NIC's", s);
	if (v == 0)
		return mac_why(why, whylen, "MAC address %.17s is all zero", s);
	*mac = v;
	return 0;
}

void
mac_format(uint64_t mac, char out[MAC_STR_LEN])
{
	(void)snprintf(out, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		       (unsigned)(mac >> 40 & 0xff), (unsigned)(mac >> 32 & 0xff),
		       (unsigned)(mac >> 24 & 0xff), (unsigned)(mac >> 16 & 0xff),
		       (unsigned)(mac >> 8 & 0xff), (unsigned)(mac & 0xff));
}

bool
mac_is_xen(uint64_t mac)
{
	return (mac & MAC_MASK) >> 24 == MAC_XEN_OUI;
}

/* ---- sets --------------------------------------------------------------- */

void
mac_set_init(struct mac_set *s)
{
	memset(s, 0, sizeof(*s));
	s->sorted = true;
}

void
mac_set_free(struct mac_set *s)
{
	if (s == NULL)
		return;
	free(s->v);
	mac_set_init(s);
}

int
mac_set_add(struct mac_set *s, uint64_t mac)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (s->n > 0 && s->v[s->n - 1] > mac)
		s->sorted = false;
	s->v[s->n++] = mac;
	return 0;
}

static int
mac_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool
mac_set_has(struct mac_set *s, uint64_t mac)
{
	size_t lo = 0, hi;

	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(s->v[0]), mac_cmp);
		s->sorted = true;
	}
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] == mac)
			return true;
		if (s->v[mid] < mac)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- allocation ---------------------------------------------------------- */

/* FNV-1a, 64 bits, over the name, a NUL and the index (little endian). */
uint64_t
mac_seed(const char *vm, unsigned vif)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p = (const unsigned char *)(vm ? vm : "");
	int i;

	for (;; p++) {
		h = (h ^ *p) * 0x100000001b3ULL;
		if (*p == '\0')
			break;
	}
	for (i = 0; i < 4; i++)
		h = (h ^ ((vif >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	return h;
}

/* splitmix64: a well-mixed stream from a seed, the same everywhere. */
static uint64_t
mac_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int
mac_alloc_range(struct mac_set *used, uint64_t seed, uint32_t first,
		uint32_t count, uint64_t *mac)
{
	uint64_t base = MAC_XEN_OUI << 24, cand = 0;
	uint32_t i, off = 0;

	if (count == 0 || first >= MAC_XEN_POOL || count > MAC_XEN_POOL - first)
		return -EINVAL;
	for (i = 0; i < MAC_PROBES; i++) {
		off = (uint32_t)(mac_mix(seed + i * 0x9e3779b97f4a7c15ULL) % count);
		cand = base | (first + off);
		/* 00:16:3e:00:00:00 would read as "no address" to some tools */
		if ((cand & 0xffffff) != 0 && !mac_set_has(used, cand))
			goto found;
	}
	/* Nearly full: every address once, from the last probe on, so the
	 * answer is still a function of the seed and the set. */
	for (i = 0; i < count; i++) {
		cand = base | (first + (off + i) % count);
		if ((cand & 0xffffff) != 0 && !mac_set_has(used, cand))
			goto found;
	}
	return -ENOSPC;
found:
	*mac = cand;
	return 0;
}

int
mac_alloc(struct mac_set *used, uint64_t seed, uint64_t *mac)
{
	return mac_alloc_range(used, seed, 0, MAC_XEN_POOL, mac);
}

/* ---- vif lists of xl.cfg ------------------------------------------------- */

/* The mac= of the spec text[from, to) (the inside of the quotes). */
static int
vif_spec_mac(const char *spec, size_t len, size_t index, struct mac_vif *v,
	     char *why, size_t whylen)
{
	char buf[256], *tok, *save, *eq, *key, *val, *e;
	char reason[160];

	if (len >= sizeof(buf))
		return mac_why(why, whylen, "vif %zu: spec longer than %zu "
			       "characters", index, sizeof(buf) - 1);
	memcpy(buf, spec, len);
	buf[len] = '\0';
	if (memchr(buf, '\\', len) != NULL)
		return mac_why(why, whylen, "vif %zu ('%s'): backslash escapes "
			       "are not supported in a vif spec", index, buf);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		if (eq == NULL)
			continue;       /* not ours to judge: xlcfg refuses it */
		*eq = '\0';
		for (key = tok; *key == ' ' || *key == '\t'; key++)
			;
		for (e = eq; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (strcmp(key, "mac") != 0)
			continue;
		for (val = eq + 1; *val == ' ' || *val == '\t'; val++)
			;
		for (e = val + strlen(val); e > val && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (v->has_mac)
			return mac_why(why, whylen, "vif %zu: mac given twice",
				       index);
		if (mac_parse(val, &v->mac, reason, sizeof(reason)) < 0)
			return mac_why(why, whylen, "vif %zu: %s", index, reason);
		v->has_mac = true;
	}
	return 0;
}

static bool
is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Walks text as xlcfg_keys.c does (IDENT = value or IDENT += value, ';'
 * or newline between statements, lists in [ ], quoted strings, #
 * comments) and picks the items of the vif lists. */
int
mac_cfg_vifs(const char *text, struct mac_vif *vifs, size_t max, size_t *n,
	     char *why, size_t whylen)
{
	const char *s = text, *start;
	bool stmt = true, in_vif = false, vif_set = false;
	unsigned depth = 0;
	size_t cnt = 0, i;
	int r;

	*n = 0;
	if (text == NULL)
		return mac_why(why, whylen, "no config text");
	while (*s != '\0') {
		char c = *s;

		if (c == '\n' || (c == ';' && depth == 0)) {
			if (depth == 0) {
				stmt = true;
				in_vif = false;
			}
			s++;
		} else if (c == '#') {
			while (*s != '\0' && *s != '\n')
				s++;
		} else if (c == '\'' || c == '"') {
			start = s;
			for (s++; *s != '\0' && *s != c && *s != '\n'; s++)
				if (*s == '\\' && s[1] != '\0' && s[1] != '\n')
					s++;
			if (*s != c)
				return mac_why(why, whylen, "unterminated string");
			s++;
			if (!in_vif)
				continue;
			if (depth != 1)
				return mac_why(why, whylen, "vif: expected a list, "
					       "e.g. vif = [ 'bridge=xenbr0' ]");
			if (cnt >= max)
				return mac_why(why, whylen, "too many vifs (at most "
					       "%zu)", max);
			memset(&vifs[cnt], 0, sizeof(vifs[cnt]));
			vifs[cnt].open = (size_t)(start - text);
			vifs[cnt].close = (size_t)(s - 1 - text);
			r = vif_spec_mac(start + 1, (size_t)(s - start - 2), cnt,
					 &vifs[cnt], why, whylen);
			if (r < 0)
				return r;
			cnt++;
		} else if (is_ident(c) && !(stmt && depth == 0)) {
			/* a bare number or word inside a value */
			while (is_ident(*s) || *s == '.')
				s++;
			if (in_vif)
				return mac_why(why, whylen, "vif %zu is not a quoted "
					       "string", cnt);
		} else if (is_ident(c)) {
			const char *key = s;
			size_t len;

			while (is_ident(*s))
				s++;
			len = (size_t)(s - key);
			stmt = false;
			in_vif = len == 3 && strncmp(key, "vif", 3) == 0;
			while (*s == ' ' || *s == '\t')
				s++;
			if (in_vif && *s != '+') {
				/* libxlutil would keep the last one only */
				if (vif_set)
					return mac_why(why, whylen, "vif is set "
						       "twice (use += to add)");
				vif_set = true;
			}
		} else {
			if (c == '[') {
				depth++;
				if (in_vif && depth > 1)
					return mac_why(why, whylen, "vif: a list "
						       "inside the vif list");
			} else if (c == ']' && depth > 0) {
				depth--;
			}
			s++;
		}
	}
	for (i = 1; i < cnt; i++)
		for (size_t j = 0; j < i; j++)
			if (vifs[i].has_mac && vifs[j].has_mac &&
			    vifs[i].mac == vifs[j].mac) {
				char m[MAC_STR_LEN];

				mac_format(vifs[i].mac, m);
				return mac_why(why, whylen, "MAC %s is given to "
					       "vif %zu and vif %zu", m, j, i);
			}
	*n = cnt;
	return 0;
}

int
mac_cfg_fill(const char *text, const struct mac_vif *vifs, size_t n,
	     char **out)
{
	size_t len = strlen(text), extra = 0, at = 0, i, o = 0;
	char *buf;

	/* "mac=" + MAC + "," per vif */
	for (i = 0; i < n; i++)
		extra += vifs[i].has_mac ? 0 : 4 + (MAC_STR_LEN - 1) + 1;
	buf = malloc(len + extra + 1);
	if (buf == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct mac_vif *v = &vifs[i];
		char m[MAC_STR_LEN];
		bool empty = true;
		size_t k;

		if (v->has_mac)
			continue;
		/* up to and with the opening quote */
		memcpy(buf + o, text + at, v->open + 1 - at);
		o += v->open + 1 - at;
		at = v->open + 1;
		for (k = v->open + 1; k < v->close; k++)
			if (text[k] != ' ' && text[k] != '\t')
				empty = false;
		mac_format(v->mac, m);
		o += (size_t)sprintf(buf + o, "mac=%s%s", m, empty ? "" : ",");
	}
	memcpy(buf + o, text + at, len - at + 1);
	*out = buf;
	return 0;
}
