/* corosync.conf's nodelist; see corosync_conf.h.
 *
 * corosync's own parser is line based: a line is blank, a comment
 * (first non-blank character '#'), "name {", "}", or "key: value".  We
 * read it the same way and remember byte offsets, so that a rewrite is a
 * short list of edits (remove a node block, insert one, change a value)
 * applied to the original text: whatever we do not touch stays exactly
 * as the admin wrote it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corosync_conf.h"

#define CC_DEPTH_MAX  16
#define CC_INDENT_MAX 32

struct cc_block {
	size_t start, end;              /* "node {" line .. after its "}" line */
	unsigned line;
	bool has_id;
	bool has_name;
	bool has_votes;
	uint32_t ring_mask;
	struct cc_node node;
};

struct cc_parsed {
	struct cc_block blocks[CC_NODES_MAX];
	size_t n_blocks;
	bool has_nodelist;
	size_t nodelist_close;          /* start of the nodelist's "}" line */
	char nodelist_indent[CC_INDENT_MAX];
	char node_indent[CC_INDENT_MAX];        /* of the first node block */
	char key_indent[CC_INDENT_MAX];
	bool has_ev, has_tn;
	size_t ev_s, ev_e, tn_s, tn_e;  /* quorum's expected_votes, two_node values */
};

static void
cc_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
indent_of(const char *line, size_t len, char *out)
{
	size_t i = 0;

	while (i < len && i + 1 < CC_INDENT_MAX && (line[i] == ' ' || line[i] == '\t'))
		i++;
	memcpy(out, line, i);
	out[i] = '\0';
}

static bool
name_ok(const char *s)
{
	if (s[0] == '\0' || strlen(s) >= CC_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* An IPv4 or IPv6 address or a host name: nothing corosync's parser or a
 * shell would read differently. */
static bool
addr_ok(const char *s)
{
	if (s[0] == '\0' || strlen(s) >= CC_ADDR_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.' || *s == ':' || *s == '%'))
			return false;
	return true;
}

static int
parse_u32(const char *v, uint32_t *out)
{
	char *end;
	unsigned long long x;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

/* "ringN_addr"? */
static bool
ring_key(const char *key, unsigned *ring)
{
	const char *d = key + 4;
	unsigned n = 0;

	if (strncmp(key, "ring", 4) != 0 || *d < '0' || *d > '9')
		return false;
	while (*d >= '0' && *d <= '9' && n < 1000)
		n = n * 10 + (unsigned)(*d++ - '0');
	if (strcmp(d, "_addr") != 0)
		return false;
	*ring = n;
	return true;
}

/* A key of a node block. */
static int
node_key(struct cc_block *b, const char *key, const char *val, unsigned line,
	 char *err, size_t errlen)
{
	unsigned ring;

	if (strcmp(key, "nodeid") == 0) {
		if (parse_u32(val, &b->node.nodeid) < 0 || b->node.nodeid == 0) {
			cc_err(err, errlen, "line %u: nodeid '%.32s' is not a "
			       "number from 1", line, val);
			return -EINVAL;
		}
		b->has_id = true;
	} else if (strcmp(key, "name") == 0) {
		if (strlen(val) >= CC_NAME_MAX || val[0] == '\0') {
			cc_err(err, errlen, "line %u: node name '%.32s' is empty "
			       "or longer than %d", line, val, CC_NAME_MAX - 1);
			return -EINVAL;
		}
		memcpy(b->node.name, val, strlen(val) + 1);     /* fits: checked */
		b->has_name = true;
	} else if (strcmp(key, "quorum_votes") == 0) {
		if (parse_u32(val, &b->node.votes) < 0) {
			cc_err(err, errlen, "line %u: quorum_votes '%.32s' is not "
			       "a number", line, val);
			return -EINVAL;
		}
		b->has_votes = true;
	} else if (ring_key(key, &ring)) {
		if (ring >= CC_LINKS_MAX) {
			cc_err(err, errlen, "line %u: %s: corosync has links 0 "
			       "to %d", line, key, CC_LINKS_MAX - 1);
			return -EINVAL;
		}
		if (strlen(val) >= CC_ADDR_MAX || val[0] == '\0') {
			cc_err(err, errlen, "line %u: %s is empty or too long",
			       line, key);
			return -EINVAL;
		}
		if (b->ring_mask & (1u << ring)) {
			cc_err(err, errlen, "line %u: %s given twice", line, key);
			return -EINVAL;
		}
		b->ring_mask |= 1u << ring;
		memcpy(b->node.addrs[ring], val, strlen(val) + 1);     /* fits: checked */
	}
	/* other keys (link priorities...) stay in the text untouched */
	return 0;
}

/* A node block just closed: complete and unique? */
static int
node_close(struct cc_parsed *p, struct cc_block *b, char *err, size_t errlen)
{
	unsigned n = 0;

	if (!b->has_id) {
		cc_err(err, errlen, "line %u: node without nodeid (xenmesh "
		       "manages only nodelists with explicit nodeids)", b->line);
		return -EINVAL;
	}
	while (n < CC_LINKS_MAX && (b->ring_mask & (1u << n)))
		n++;
	if (n == 0 || b->ring_mask != (1u << n) - 1) {
		cc_err(err, errlen, "line %u: node %u: its addresses must be "
		       "ring0_addr, ring1_addr ... without gaps", b->line,
		       b->node.nodeid);
		return -EINVAL;
	}
	b->node.n_addrs = n;
	if (!b->has_name)
		(void)snprintf(b->node.name, sizeof(b->node.name), "%s",
			       b->node.addrs[0]);
	if (!b->has_votes)
		b->node.votes = 1;
	for (size_t i = 0; i < p->n_blocks; i++) {
		const struct cc_node *o = &p->blocks[i].node;

		if (o->nodeid == b->node.nodeid || strcmp(o->name, b->node.name) == 0) {
			cc_err(err, errlen, "line %u: node %s (id %u) repeats the "
			       "name or id of the node at line %u", b->line,
			       b->node.name, b->node.nodeid, p->blocks[i].line);
			return -EINVAL;
		}
	}
	p->n_blocks++;
	return 0;
}

static int
parse_text(const char *text, struct cc_parsed *p, char *err, size_t errlen)
{
	/* section names on the way down ("nodelist", "node") */
	char stack[CC_DEPTH_MAX][CC_NAME_MAX];
	size_t depth = 0, pos = 0;
	unsigned line = 0;
	struct cc_block *cur = NULL;
	int r;

	memset(p, 0, sizeof(*p));
	while (text[pos] != '\0') {
		const char *l = text + pos;
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		size_t next = pos + len + (nl ? 1 : 0);
		size_t s = 0, e = len;
		char key[CC_NAME_MAX], val[256];
		const char *colon;

		line++;
		while (s < e && is_blank(l[s]))
			s++;
		while (e > s && is_blank(l[e - 1]))
			e--;
		if (s == e || l[s] == '#') {
			pos = next;
			continue;
		}
		if (l[e - 1] == '{') {
			size_t ne = e - 1;

			while (ne > s && is_blank(l[ne - 1]))
				ne--;
			if (ne == s || ne - s >= CC_NAME_MAX) {
				cc_err(err, errlen, "line %u: a section needs a "
				       "name before '{'", line);
				return -EINVAL;
			}
			if (depth == CC_DEPTH_MAX) {
				cc_err(err, errlen, "line %u: sections nested "
				       "deeper than %d", line, CC_DEPTH_MAX);
				return -EINVAL;
			}
			(void)snprintf(stack[depth], CC_NAME_MAX, "%.*s",
				       (int)(ne - s), l + s);
			if (depth == 0 && strcmp(stack[0], "nodelist") == 0) {
				if (p->has_nodelist) {
					cc_err(err, errlen, "line %u: a second "
					       "nodelist section", line);
					return -EINVAL;
				}
				p->has_nodelist = true;
				indent_of(l, len, p->nodelist_indent);
			}
			if (depth == 1 && strcmp(stack[0], "nodelist") == 0) {
				if (strcmp(stack[1], "node") != 0) {
					cc_err(err, errlen, "line %u: nodelist "
					       "holds only node sections, not "
					       "'%s'", line, stack[1]);
					return -EINVAL;
				}
				if (p->n_blocks == CC_NODES_MAX) {
					cc_err(err, errlen, "line %u: more than "
					       "%d nodes", line, CC_NODES_MAX);
					return -EINVAL;
				}
				cur = &p->blocks[p->n_blocks];
				memset(cur, 0, sizeof(*cur));
				cur->start = pos;
				cur->line = line;
				if (p->n_blocks == 0)
					indent_of(l, len, p->node_indent);
			}
			depth++;
			pos = next;
			continue;
		}
		if (e - s == 1 && l[s] == '}') {
			if (depth == 0) {
				cc_err(err, errlen, "line %u: '}' closes no "
				       "section", line);
				return -EINVAL;
			}
			depth--;
			if (depth == 1 && cur != NULL) {
				cur->end = next;
				r = node_close(p, cur, err, errlen);
				if (r < 0)
					return r;
				cur = NULL;
			} else if (depth == 0 && strcmp(stack[0], "nodelist") == 0) {
				p->nodelist_close = pos;
			}
			pos = next;
			continue;
		}
		colon = memchr(l + s, ':', e - s);
		if (colon == NULL || colon == l + s) {
			cc_err(err, errlen, "line %u: neither 'key: value', "
			       "'section {' nor '}': %.40s", line, l + s);
			return -EINVAL;
		}
		{
			size_t ke = (size_t)(colon - l), vs = ke + 1;

			while (ke > s && is_blank(l[ke - 1]))
				ke--;
			while (vs < e && is_blank(l[vs]))
				vs++;
			if (ke - s >= sizeof(key) || e - vs >= sizeof(val)) {
				cc_err(err, errlen, "line %u: key or value too "
				       "long", line);
				return -EINVAL;
			}
			(void)snprintf(key, sizeof(key), "%.*s", (int)(ke - s), l + s);
			(void)snprintf(val, sizeof(val), "%.*s", (int)(e - vs), l + vs);
			if (depth == 2 && cur != NULL) {
				if (p->key_indent[0] == '\0')
					indent_of(l, len, p->key_indent);
				r = node_key(cur, key, val, line, err, errlen);
				if (r < 0)
					return r;
			} else if (depth == 1 && strcmp(stack[0], "quorum") == 0) {
				if (strcmp(key, "expected_votes") == 0) {
					p->has_ev = true;
					p->ev_s = pos + vs;
					p->ev_e = pos + e;
				} else if (strcmp(key, "two_node") == 0) {
					p->has_tn = true;
					p->tn_s = pos + vs;
					p->tn_e = pos + e;
				}
			}
		}
		pos = next;
	}
	if (depth > 0) {
		cc_err(err, errlen, "end of file inside section '%s'",
		       stack[depth - 1]);
		return -EINVAL;
	}
	if (!p->has_nodelist) {
		cc_err(err, errlen, "no nodelist section");
		return -ENOENT;
	}
	return 0;
}

int
cc_parse(const char *text, struct cc_nodelist *nl, char *err, size_t errlen)
{
	struct cc_parsed *p;
	int r;

	if (text == NULL || nl == NULL)
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	r = parse_text(text, p, err, errlen);
	if (r == 0) {
		nl->n = p->n_blocks;
		for (size_t i = 0; i < p->n_blocks; i++)
			nl->nodes[i] = p->blocks[i].node;
	}
	free(p);
	return r;
}

int
cc_links(const struct cc_nodelist *nl, unsigned *links, char *err, size_t errlen)
{
	if (nl->n == 0) {
		cc_err(err, errlen, "the nodelist has no nodes");
		return -EINVAL;
	}
	for (size_t i = 1; i < nl->n; i++) {
		if (nl->nodes[i].n_addrs != nl->nodes[0].n_addrs) {
			cc_err(err, errlen, "node %s has %u links and node %s "
			       "has %u", nl->nodes[0].name, nl->nodes[0].n_addrs,
			       nl->nodes[i].name, nl->nodes[i].n_addrs);
			return -EINVAL;
		}
	}
	*links = nl->nodes[0].n_addrs;
	return 0;
}

uint32_t
cc_votes(const struct cc_nodelist *nl)
{
	uint32_t v = 0;

	for (size_t i = 0; i < nl->n; i++)
		v += nl->nodes[i].votes;
	return v;
}

const struct cc_node *
cc_find(const struct cc_nodelist *nl, const char *name)
{
	for (size_t i = 0; i < nl->n; i++)
		if (strcmp(nl->nodes[i].name, name) == 0)
			return &nl->nodes[i];
	return NULL;
}

int
cc_add(struct cc_nodelist *nl, const char *name, uint32_t nodeid,
       const char *addrs_csv, char *err, size_t errlen)
{
	struct cc_node n;
	unsigned links = 0;
	const char *p = addrs_csv;
	int r;

	memset(&n, 0, sizeof(n));
	if (!name_ok(name)) {
		cc_err(err, errlen, "'%.64s' is not a node name (letters, digits, "
		       "'-', '_' and '.', at most %d)", name, CC_NAME_MAX - 1);
		return -EINVAL;
	}
	if (nodeid > CC_NODEID_MAX) {
		cc_err(err, errlen, "node id %u is above %d (knet node ids are "
		       "16 bits)", nodeid, CC_NODEID_MAX);
		return -EINVAL;
	}
	if (nl->n >= CC_NODES_MAX) {
		cc_err(err, errlen, "the nodelist has %d nodes already", CC_NODES_MAX);
		return -ENOSPC;
	}
	r = cc_links(nl, &links, err, errlen);
	if (r < 0)
		return r;
	while (p != NULL) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		if (n.n_addrs == CC_LINKS_MAX || len >= CC_ADDR_MAX) {
			cc_err(err, errlen, "too many or too long addresses in "
			       "'%.80s'", addrs_csv);
			return -EINVAL;
		}
		(void)snprintf(n.addrs[n.n_addrs], CC_ADDR_MAX, "%.*s", (int)len, p);
		if (!addr_ok(n.addrs[n.n_addrs])) {
			cc_err(err, errlen, "'%.64s' is not an address",
			       n.addrs[n.n_addrs]);
			return -EINVAL;
		}
		n.n_addrs++;
		p = c ? c + 1 : NULL;
	}
	if (n.n_addrs != links) {
		cc_err(err, errlen, "%u address%s given but the cluster has %u "
		       "link%s: one address per link, comma-separated", n.n_addrs,
		       n.n_addrs == 1 ? "" : "es", links, links == 1 ? "" : "s");
		return -EINVAL;
	}
	if (nodeid == 0) {
		nodeid = 1;
		for (size_t i = 0; i < nl->n; i++)
			if (nl->nodes[i].nodeid >= nodeid)
				nodeid = nl->nodes[i].nodeid + 1;
		if (nodeid > CC_NODEID_MAX) {
			cc_err(err, errlen, "no free node id above the highest: "
			       "give one with --id");
			return -ENOSPC;
		}
	}
	for (size_t i = 0; i < nl->n; i++) {
		const struct cc_node *o = &nl->nodes[i];

		if (strcmp(o->name, name) == 0) {
			cc_err(err, errlen, "node %s is in the nodelist already "
			       "(id %u)", name, o->nodeid);
			return -EEXIST;
		}
		if (o->nodeid == nodeid) {
			cc_err(err, errlen, "node id %u is taken by %s", nodeid,
			       o->name);
			return -EEXIST;
		}
		for (unsigned a = 0; a < o->n_addrs; a++)
			for (unsigned b = 0; b < n.n_addrs; b++)
				if (strcmp(o->addrs[a], n.addrs[b]) == 0) {
					cc_err(err, errlen, "address %s is %s's "
					       "ring%u_addr", n.addrs[b], o->name, a);
					return -EEXIST;
				}
	}
	for (unsigned a = 0; a < n.n_addrs; a++)
		for (unsigned b = a + 1; b < n.n_addrs; b++)
			if (strcmp(n.addrs[a], n.addrs[b]) == 0) {
				cc_err(err, errlen, "address %s given twice",
				       n.addrs[a]);
				return -EINVAL;
			}
	n.nodeid = nodeid;
	n.votes = 1;
	(void)snprintf(n.name, sizeof(n.name), "%s", name);
	nl->nodes[nl->n++] = n;
	return 0;
}

int
cc_remove(struct cc_nodelist *nl, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < nl->n; i++) {
		if (strcmp(nl->nodes[i].name, name) != 0)
			continue;
		if (nl->n == 1) {
			cc_err(err, errlen, "%s is the last node of the nodelist",
			       name);
			return -EINVAL;
		}
		memmove(&nl->nodes[i], &nl->nodes[i + 1],
			(nl->n - i - 1) * sizeof(nl->nodes[0]));
		nl->n--;
		return 0;
	}
	cc_err(err, errlen, "no node named %.64s in the nodelist", name);
	return -ENOENT;
}

static bool
node_same(const struct cc_node *a, const struct cc_node *b)
{
	if (a->nodeid != b->nodeid || a->votes != b->votes ||
	    a->n_addrs != b->n_addrs || strcmp(a->name, b->name) != 0)
		return false;
	for (unsigned i = 0; i < a->n_addrs; i++)
		if (strcmp(a->addrs[i], b->addrs[i]) != 0)
			return false;
	return true;
}

int
cc_equal(const struct cc_nodelist *a, const struct cc_nodelist *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		size_t j;

		for (j = 0; j < b->n; j++)
			if (node_same(&a->nodes[i], &b->nodes[j]))
				break;
		if (j == b->n)
			return 0;
	}
	return 1;
}

/* ---- output -------------------------------------------------------------- */

struct obuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
ob_add(struct obuf *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *p = realloc(o->p, cap);

		if (p == NULL) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
ob_printf(struct obuf *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		ob_add(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void
render_node(struct obuf *o, const struct cc_node *n, const char *ni, const char *ki)
{
	ob_printf(o, "%snode {\n", ni);
	ob_printf(o, "%sname: %s\n", ki, n->name);
	ob_printf(o, "%snodeid: %u\n", ki, n->nodeid);
	for (unsigned i = 0; i < n->n_addrs; i++)
		ob_printf(o, "%sring%u_addr: %s\n", ki, i, n->addrs[i]);
	if (n->votes != 1)
		ob_printf(o, "%squorum_votes: %u\n", ki, n->votes);
	ob_printf(o, "%s}\n", ni);
}

int
cc_format_nodelist(const struct cc_nodelist *nl, char **out)
{
	struct obuf o = { 0 };

	ob_printf(&o, "nodelist {\n");
	for (size_t i = 0; i < nl->n; i++)
		render_node(&o, &nl->nodes[i], "\t", "\t\t");
	ob_printf(&o, "}\n");
	if (o.oom) {
		free(o.p);
		return -ENOMEM;
	}
	*out = o.p;
	return 0;
}

/* A quorum value to replace: [s, e) of the text becomes text. */
struct value_edit {
	size_t s, e;
	char text[16];
};

/* Copy the text up to limit, replacing the values that start before it. */
static void
emit_values(struct obuf *o, const char *text, size_t *pos, size_t limit,
	    const struct value_edit *vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (vals[i].s < *pos || vals[i].s >= limit)
			continue;
		ob_add(o, text + *pos, vals[i].s - *pos);
		ob_add(o, vals[i].text, strlen(vals[i].text));
		*pos = vals[i].e;
	}
}

int
cc_rewrite(const char *text, const struct cc_nodelist *nl, char **out,
	   char *err, size_t errlen)
{
	struct cc_parsed *p;
	struct obuf o = { 0 };
	struct obuf ins = { 0 };
	char ni[CC_INDENT_MAX + 2], ki[CC_INDENT_MAX + 2];
	struct value_edit vals[2];
	size_t n_vals = 0, pos = 0, insert_at;
	int r;

	if (text == NULL || nl == NULL || out == NULL)
		return -EINVAL;
	if (nl->n == 0) {
		cc_err(err, errlen, "a nodelist needs at least one node");
		return -EINVAL;
	}
	p = malloc(sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	r = parse_text(text, p, err, errlen);
	if (r < 0)
		goto out_free;
	if (p->n_blocks > 0) {
		(void)snprintf(ni, sizeof(ni), "%s", p->node_indent);
		(void)snprintf(ki, sizeof(ki), "%s", p->key_indent[0] != '\0' ?
			       p->key_indent : "\t\t");
	} else {
		(void)snprintf(ni, sizeof(ni), "%s\t", p->nodelist_indent);
		(void)snprintf(ki, sizeof(ki), "%s\t\t", p->nodelist_indent);
	}
	if (p->has_ev) {
		vals[n_vals].s = p->ev_s;
		vals[n_vals].e = p->ev_e;
		(void)snprintf(vals[n_vals++].text, sizeof(vals[0].text), "%u",
			       cc_votes(nl));
	}
	if (p->has_tn) {
		vals[n_vals].s = p->tn_s;
		vals[n_vals].e = p->tn_e;
		(void)snprintf(vals[n_vals++].text, sizeof(vals[0].text), "%d",
			       nl->n == 2 ? 1 : 0);
	}
	if (n_vals == 2 && vals[1].s < vals[0].s) {
		struct value_edit t = vals[0];

		vals[0] = vals[1];
		vals[1] = t;
	}
	/* new nodes go after the last node block, or before the nodelist's
	 * closing brace */
	insert_at = p->n_blocks > 0 ? p->blocks[p->n_blocks - 1].end :
		    p->nodelist_close;
	for (size_t i = 0; i < nl->n; i++) {
		size_t j;

		for (j = 0; j < p->n_blocks; j++)
			if (p->blocks[j].node.nodeid == nl->nodes[i].nodeid)
				break;
		if (j == p->n_blocks)
			render_node(&ins, &nl->nodes[i], ni, ki);
	}
	/* one pass over the text; the edits are in text order: node blocks,
	 * then the insertion point, with the quorum values wherever they are */
	for (size_t j = 0; j <= p->n_blocks; j++) {
		size_t s, e;
		const struct cc_node *want = NULL;

		if (j < p->n_blocks) {
			s = p->blocks[j].start;
			e = p->blocks[j].end;
			for (size_t i = 0; i < nl->n; i++)
				if (nl->nodes[i].nodeid == p->blocks[j].node.nodeid)
					want = &nl->nodes[i];
		} else {
			s = e = insert_at;
		}
		/* quorum values before this edit */
		emit_values(&o, text, &pos, s, vals, n_vals);
		ob_add(&o, text + pos, s - pos);
		pos = e;
		if (j < p->n_blocks) {
			if (want != NULL && node_same(want, &p->blocks[j].node))
				ob_add(&o, text + s, e - s);
			else if (want != NULL)
				render_node(&o, want, ni, ki);
		} else if (ins.p != NULL) {
			ob_add(&o, ins.p, ins.len);
		}
	}
	emit_values(&o, text, &pos, strlen(text) + 1, vals, n_vals);
	ob_add(&o, text + pos, strlen(text + pos));
	if (o.oom || ins.oom) {
		r = -ENOMEM;
		free(o.p);
		goto out_free;
	}
	*out = o.p;
	r = 0;
out_free:
	free(ins.p);
	free(p);
	return r;
}
