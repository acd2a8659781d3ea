/* Fence chain configuration: memory, the config parser and formatter.
 * Pure (see chain.h); the state machine is in chain.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"

static const char *const kind_names[] = {
	[FENCE_KIND_STORAGE] = "storage",
	[FENCE_KIND_AGENT] = "fence-agent",
	[FENCE_KIND_XL_SSH] = "xl-ssh",
	[FENCE_KIND_DEADLINE] = "deadline",
};

const char *
fence_kind_name(enum fence_kind k)
{
	return k >= FENCE_KIND_STORAGE && k <= FENCE_KIND_DEADLINE ?
	       kind_names[k] : "?";
}

/* ---- config: memory ---------------------------------------------------- */

static void
method_conf_free(struct fence_method_conf *m)
{
	size_t i;

	for (i = 0; i < m->n_opts; i++) {
		free(m->opts[i].key);
		free(m->opts[i].value);
	}
	free(m->opts);
	m->opts = NULL;
	m->n_opts = 0;
}

void
fence_host_conf_free(struct fence_host_conf *h)
{
	size_t l, m;

	if (!h)
		return;
	for (l = 0; l < h->n_levels; l++) {
		for (m = 0; m < h->levels[l].n_methods; m++)
			method_conf_free(&h->levels[l].methods[m]);
		free(h->levels[l].methods);
	}
	free(h->levels);
	free(h->host);
	memset(h, 0, sizeof(*h));
}

void
fence_config_free(struct fence_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_hosts; i++)
		fence_host_conf_free(&c->hosts[i]);
	free(c->hosts);
	c->hosts = NULL;
	c->n_hosts = 0;
}

int
fence_host_conf_copy(struct fence_host_conf *dst, const struct fence_host_conf *src)
{
	size_t l, m, o;

	memset(dst, 0, sizeof(*dst));
	dst->delay_ms = src->delay_ms;
	if (!(dst->host = strdup(src->host)))
		goto out_nomem;
	dst->levels = calloc(src->n_levels, sizeof(*dst->levels));
	if (!dst->levels)
		goto out_nomem;
	dst->n_levels = src->n_levels;
	for (l = 0; l < src->n_levels; l++) {
		const struct fence_level_conf *sl = &src->levels[l];
		struct fence_level_conf *dl = &dst->levels[l];

		dl->number = sl->number;
		dl->methods = calloc(sl->n_methods, sizeof(*dl->methods));
		if (!dl->methods)
			goto out_nomem;
		dl->n_methods = sl->n_methods;
		for (m = 0; m < sl->n_methods; m++) {
			const struct fence_method_conf *sm = &sl->methods[m];
			struct fence_method_conf *dm = &dl->methods[m];

			dm->kind = sm->kind;
			dm->timeout_ms = sm->timeout_ms;
			if (!sm->n_opts)
				continue;
			dm->opts = calloc(sm->n_opts, sizeof(*dm->opts));
			if (!dm->opts)
				goto out_nomem;
			for (o = 0; o < sm->n_opts; o++, dm->n_opts++) {
				dm->opts[o].key = strdup(sm->opts[o].key);
				dm->opts[o].value = strdup(sm->opts[o].value);
				if (!dm->opts[o].key || !dm->opts[o].value) {
					dm->n_opts++;   /* so that both are freed */
					goto out_nomem;
				}
			}
		}
	}
	return 0;
out_nomem:
	fence_host_conf_free(dst);
	return -ENOMEM;
}

const struct fence_host_conf *
fence_config_host(const struct fence_config *c, const char *host)
{
	size_t i;

	for (i = 0; c && host && i < c->n_hosts; i++)
		if (!strcmp(c->hosts[i].host, host))
			return &c->hosts[i];
	return NULL;
}

const char *
fence_method_opt(const struct fence_method_conf *m, const char *key)
{
	size_t i;

	for (i = 0; m && i < m->n_opts; i++)
		if (!strcmp(m->opts[i].key, key))
			return m->opts[i].value;
	return NULL;
}

/* ---- config: parser ---------------------------------------------------- */

enum tok { TOK_END, TOK_SEMI, TOK_PLUS, TOK_WORD };

struct parser {
	const char *p, *end;            /* rest of the current line */
	unsigned lineno;
	char where[96];                 /* "line 3: h1: level 2" */
	char *err;
	size_t errlen;
	char word[FENCE_VALUE_MAX + 64];
	int eq;                         /* offset of the first unquoted '=', or -1 */
};

static int __attribute__((format(printf, 2, 3)))
perr(struct parser *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "%s: %s", ps->where, msg);
	return -EINVAL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next token of the line; a word may mix plain and quoted parts. */
static int
next_tok(struct parser *ps, enum tok *t)
{
	size_t n = 0;
	char q;

	while (ps->p < ps->end && is_space(*ps->p))
		ps->p++;
	ps->eq = -1;
	if (ps->p >= ps->end) {
		*t = TOK_END;
		return 0;
	}
	if (*ps->p == ';') {
		ps->p++;
		*t = TOK_SEMI;
		return 0;
	}
	if (*ps->p == '+' && (ps->p + 1 >= ps->end || is_space(ps->p[1]))) {
		ps->p++;
		*t = TOK_PLUS;
		return 0;
	}
	while (ps->p < ps->end && !is_space(*ps->p) && *ps->p != ';') {
		if (*ps->p == '\'' || *ps->p == '"') {
			q = *ps->p++;
			while (ps->p < ps->end && *ps->p != q) {
				if (n + 1 >= sizeof(ps->word))
					return perr(ps, "value too long");
				ps->word[n++] = *ps->p++;
			}
			if (ps->p >= ps->end)
				return perr(ps, "unterminated quote %c", q);
			ps->p++;
			continue;
		}
		if (*ps->p == '=' && ps->eq < 0)
			ps->eq = (int)n;
		if (n + 1 >= sizeof(ps->word))
			return perr(ps, "value too long");
		ps->word[n++] = *ps->p++;
	}
	ps->word[n] = '\0';
	*t = TOK_WORD;
	return 0;
}

/* "20" (seconds), "20s", "500ms"; up to a day. */
static int
parse_duration(const char *s, uint32_t *ms)
{
	unsigned long long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 86400000ULL)
			return -ERANGE;
	}
	if (!strcmp(p, "ms"))
		;
	else if (!*p || !strcmp(p, "s"))
		v *= 1000;
	else
		return -EINVAL;
	if (v > 86400000ULL)
		return -ERANGE;
	*ms = (uint32_t)v;
	return 0;
}

static bool
name_ok(const char *s, bool allow_colon)
{
	if (!*s || *s == '-')
		return false;   /* a leading '-' would be an option to ssh */
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		      *s == '-' || (allow_colon && *s == ':')))
			return false;
	return true;
}

static bool
key_ok(const char *k)
{
	if (*k < 'a' || *k > 'z')
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* Options a kind accepts besides timeout; NULL: any (fence agents). */
static const char *const xlssh_keys[] = { "addr", "user", "key", "port",
					  "known_hosts", "reset", NULL };

static int
method_check_opt(struct parser *ps, enum fence_kind kind, const char *k,
		 const char *v)
{
	size_t i;

	switch (kind) {
	case FENCE_KIND_AGENT:
		if (!strcmp(k, "action"))
			return perr(ps, "action= is set by xenmesh (off, then status)");
		if (!strcmp(k, "agent") && v[0] != '/' &&
		    (strncmp(v, "fence_", 6) || !key_ok(v)))
			return perr(ps, "agent '%s' is neither a fence_* name nor an absolute path", v);
		return 0;
	case FENCE_KIND_XL_SSH:
		for (i = 0; xlssh_keys[i]; i++)
			if (!strcmp(k, xlssh_keys[i]))
				break;
		if (!xlssh_keys[i])
			return perr(ps, "xl-ssh: unknown option '%s' (expected addr, user, "
				    "key, port, known_hosts, reset or timeout)", k);
		if ((!strcmp(k, "addr") || !strcmp(k, "user")) && !name_ok(v, true))
			return perr(ps, "xl-ssh: bad %s '%s'", k, v);
		if ((!strcmp(k, "key") || !strcmp(k, "known_hosts")) && v[0] != '/')
			return perr(ps, "xl-ssh: %s must be an absolute path", k);
		if (!strcmp(k, "port") && (strspn(v, "0123456789") != strlen(v) ||
					   atoi(v) < 1 || atoi(v) > 65535))
			return perr(ps, "xl-ssh: bad port '%s'", v);
		return 0;
	case FENCE_KIND_STORAGE:
		return perr(ps, "storage: unknown option '%s' (only timeout)", k);
	case FENCE_KIND_DEADLINE:
		break;
	}
	return perr(ps, "deadline takes no options: it waits for W");
}

static int
method_add_opt(struct parser *ps, struct fence_method_conf *m)
{
	const char *k = ps->word, *v = ps->word + ps->eq + 1;
	struct fence_opt *o;
	const unsigned char *c;
	int rc;

	ps->word[ps->eq] = '\0';
	if (!key_ok(k))
		return perr(ps, "bad key '%s' (lower case letters, digits, _)", k);
	if (!*v)
		return perr(ps, "%s= has no value", k);
	for (c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return perr(ps, "%s= contains a control character", k);
	if (!strcmp(k, "timeout")) {
		if (m->kind == FENCE_KIND_DEADLINE)
			return perr(ps, "deadline takes no options: it waits for W");
		rc = parse_duration(v, &m->timeout_ms);
		if (rc || m->timeout_ms == 0)
			return perr(ps, "bad timeout '%s' (seconds, or 500ms, 20s; not 0)", v);
		return 0;
	}
	rc = method_check_opt(ps, m->kind, k, v);
	if (rc)
		return rc;
	if (fence_method_opt(m, k))
		return perr(ps, "%s= given twice", k);
	if (m->n_opts >= FENCE_OPTS_MAX)
		return perr(ps, "more than %d options", FENCE_OPTS_MAX);
	o = realloc(m->opts, (m->n_opts + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	m->opts = o;
	o = &m->opts[m->n_opts];
	o->key = strdup(k);
	o->value = strdup(v);
	m->n_opts++;
	return o->key && o->value ? 0 : -ENOMEM;
}

/* One method: KIND [KEY=VALUE...], up to ';', '+' or the end. */
static int
parse_method(struct parser *ps, struct fence_level_conf *lv, enum tok *t)
{
	struct fence_method_conf *m;
	int k, rc;

	if (*t != TOK_WORD)
		return perr(ps, "missing method (storage, fence-agent, xl-ssh or deadline)");
	for (k = FENCE_KIND_STORAGE; k <= FENCE_KIND_DEADLINE; k++)
		if (!strcmp(ps->word, kind_names[k]))
			break;
	if (k > FENCE_KIND_DEADLINE || ps->eq >= 0)
		return perr(ps, "unknown method '%s' (expected storage, fence-agent, "
			    "xl-ssh or deadline)", ps->word);
	if (lv->n_methods >= FENCE_METHODS_MAX)
		return perr(ps, "more than %d methods", FENCE_METHODS_MAX);
	m = realloc(lv->methods, (lv->n_methods + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	lv->methods = m;
	m = &lv->methods[lv->n_methods++];
	memset(m, 0, sizeof(*m));
	m->kind = (enum fence_kind)k;
	m->timeout_ms = k == FENCE_KIND_STORAGE ? FENCE_TIMEOUT_STORAGE :
			k == FENCE_KIND_AGENT ? FENCE_TIMEOUT_AGENT :
			k == FENCE_KIND_XL_SSH ? FENCE_TIMEOUT_XL_SSH : 0;
	for (;;) {
		rc = next_tok(ps, t);
		if (rc || *t != TOK_WORD)
			break;
		if (ps->eq < 0)
			return perr(ps, "%s: '%s' is not KEY=VALUE", kind_names[k], ps->word);
		rc = method_add_opt(ps, m);
		if (rc)
			return rc;
	}
	if (!rc && m->kind == FENCE_KIND_AGENT && !fence_method_opt(m, "agent"))
		return perr(ps, "fence-agent needs agent=NAME (e.g. agent=fence_ipmilan)");
	return rc;
}

static int
parse_level(struct parser *ps, struct fence_host_conf *h, const char *host)
{
	struct fence_level_conf *lv;
	unsigned long n;
	enum tok t;
	char *e;
	int rc;

	rc = next_tok(ps, &t);
	if (rc)
		return rc;
	if (t != TOK_WORD || ps->eq >= 0 || ps->word[0] < '0' || ps->word[0] > '9')
		return perr(ps, "missing level number (level N METHOD ...)");
	n = strtoul(ps->word, &e, 10);
	if (*e || n < 1 || n > 99)
		return perr(ps, "bad level number '%s' (1 to 99)", ps->word);
	if (h->n_levels && n <= h->levels[h->n_levels - 1].number)
		return perr(ps, "level %lu after level %u: levels must increase", n,
			    h->levels[h->n_levels - 1].number);
	if (h->n_levels >= FENCE_LEVELS_MAX)
		return perr(ps, "more than %d levels", FENCE_LEVELS_MAX);
	lv = realloc(h->levels, (h->n_levels + 1) * sizeof(*lv));
	if (!lv)
		return -ENOMEM;
	h->levels = lv;
	lv = &h->levels[h->n_levels++];
	memset(lv, 0, sizeof(*lv));
	lv->number = (unsigned)n;
	snprintf(ps->where, sizeof(ps->where), "line %u: %s: level %lu",
		 ps->lineno, host, n);
	rc = next_tok(ps, &t);
	while (!rc) {
		rc = parse_method(ps, lv, &t);
		if (rc || t != TOK_PLUS)
			break;
		rc = next_tok(ps, &t);
	}
	return rc;
}

static int
parse_line(struct parser *ps, struct fence_host_conf *h)
{
	const char *colon = memchr(ps->p, ':', (size_t)(ps->end - ps->p));
	const char *a = ps->p, *b;
	enum tok t;
	size_t l, m;
	int rc = 0;

	snprintf(ps->where, sizeof(ps->where), "line %u", ps->lineno);
	if (!colon)
		return perr(ps, "expected 'HOST: level 1 METHOD ...'");
	b = colon;
	while (b > a && is_space(b[-1]))
		b--;
	h->host = strndup(a, (size_t)(b - a));
	if (!h->host)
		return -ENOMEM;
	if (!name_ok(h->host, false) || strlen(h->host) >= FENCE_HOST_MAX)
		return perr(ps, "bad host name '%s'", h->host);
	ps->p = colon + 1;
	while (!rc) {
		snprintf(ps->where, sizeof(ps->where), "line %u: %s", ps->lineno, h->host);
		rc = next_tok(ps, &t);
		if (rc || t == TOK_END)
			break;
		if (t == TOK_SEMI)
			continue;
		if (t == TOK_WORD && !strcmp(ps->word, "level")) {
			rc = parse_level(ps, h, h->host);
		} else if (t == TOK_WORD && !strcmp(ps->word, "delay")) {
			rc = next_tok(ps, &t);
			if (!rc && (t != TOK_WORD || parse_duration(ps->word, &h->delay_ms)))
				return perr(ps, "delay needs a duration (seconds, or 500ms, 20s)");
			if (!rc)
				rc = next_tok(ps, &t);
			if (!rc && t != TOK_SEMI && t != TOK_END)
				return perr(ps, "';' expected after the delay");
		} else {
			return perr(ps, "unknown clause '%s' (expected 'level N METHOD ...' "
				    "or 'delay SECONDS')", t == TOK_PLUS ? "+" : ps->word);
		}
	}
	if (rc)
		return rc;
	snprintf(ps->where, sizeof(ps->where), "line %u: %s", ps->lineno, h->host);
	if (!h->n_levels)
		return perr(ps, "no fence level");
	for (l = 0; l < h->n_levels; l++) {
		for (m = 0; m < h->levels[l].n_methods; m++) {
			if (h->levels[l].methods[m].kind != FENCE_KIND_DEADLINE)
				continue;
			if (h->levels[l].n_methods > 1)
				return perr(ps, "level %u: deadline must be alone in its level",
					    h->levels[l].number);
			if (l + 1 < h->n_levels)
				return perr(ps, "level %u comes after the deadline level "
					    "and would never run", h->levels[l + 1].number);
		}
	}
	return 0;
}

int
fence_config_parse(const char *text, struct fence_config *out, char *err,
		   size_t errlen)
{
	struct parser *ps;
	struct fence_config c = { 0 };
	struct fence_host_conf *h;
	const char *line = text, *nl;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!text || !out)
		return -EINVAL;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->err = err;
	ps->errlen = errlen;
	for (; *line && !rc; line = *nl ? nl + 1 : nl) {
		nl = line + strcspn(line, "\n");
		ps->lineno++;
		ps->p = line;
		ps->end = nl;
		while (ps->p < ps->end && is_space(*ps->p))
			ps->p++;
		if (ps->p == ps->end || *ps->p == '#')
			continue;
		h = realloc(c.hosts, (c.n_hosts + 1) * sizeof(*h));
		if (!h) {
			rc = -ENOMEM;
			break;
		}
		c.hosts = h;
		h = &c.hosts[c.n_hosts++];
		memset(h, 0, sizeof(*h));
		rc = parse_line(ps, h);
		if (!rc && fence_config_host(&(struct fence_config){ c.hosts, c.n_hosts - 1 },
					     h->host))
			rc = perr(ps, "configured twice");
	}
	free(ps);
	if (rc) {
		fence_config_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- config: formatter ------------------------------------------------- */

struct outbuf {
	char *buf;
	size_t len, o;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
put(struct outbuf *ob, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ob->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(ob->buf + ob->o, ob->len - ob->o, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= ob->len - ob->o)
		ob->full = true;
	else
		ob->o += (size_t)n;
}

static void
put_duration(struct outbuf *ob, uint32_t ms)
{
	if (ms % 1000)
		put(ob, "%ums", ms);
	else
		put(ob, "%us", ms / 1000);
}

static void
put_value(struct outbuf *ob, const char *v)
{
	if (strcspn(v, " \t;'\"") == strlen(v) && strcmp(v, "+")) {
		put(ob, "%s", v);
		return;
	}
	/* single quotes, a quote inside closed and given in double quotes */
	put(ob, "'");
	for (; *v; v++) {
		if (*v == '\'')
			put(ob, "'\"'\"'");
		else
			put(ob, "%c", *v);
	}
	put(ob, "'");
}

int
fence_config_format(const struct fence_config *c, bool redact, char *buf, size_t len)
{
	struct outbuf ob = { buf, len, 0, false };
	const struct fence_host_conf *h;
	const struct fence_method_conf *m;
	size_t i, l, k, o;

	if (!buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	for (i = 0; c && i < c->n_hosts; i++) {
		h = &c->hosts[i];
		put(&ob, "%s:", h->host);
		if (h->delay_ms) {
			put(&ob, " delay ");
			put_duration(&ob, h->delay_ms);
			put(&ob, ";");
		}
		for (l = 0; l < h->n_levels; l++) {
			put(&ob, "%s level %u", l ? ";" : "", h->levels[l].number);
			for (k = 0; k < h->levels[l].n_methods; k++) {
				m = &h->levels[l].methods[k];
				put(&ob, "%s %s", k ? " +" : "", fence_kind_name(m->kind));
				for (o = 0; o < m->n_opts; o++) {
					put(&ob, " %s=", m->opts[o].key);
					if (redact && strstr(m->opts[o].key, "pass"))
						put(&ob, "***");
					else
						put_value(&ob, m->opts[o].value);
				}
				if (m->kind != FENCE_KIND_DEADLINE) {
					put(&ob, " timeout=");
					put_duration(&ob, m->timeout_ms);
				}
			}
		}
		put(&ob, "\n");
	}
	return ob.full ? -ENOSPC : 0;
}
