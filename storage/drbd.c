/* The DRBD driver: .res rendering, command lines and decision rules
 * (drbd.h).  The parsers of DRBD's state are in drbd_parse.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drbd.h"
#include "xm_error.h"

/* ---- names and values that go into the .res text -------------------------- */

/* Every word written into the .res goes through one of these: the file
 * is parsed by drbdadm, so a space, quote, brace or ';' in a value would
 * change its meaning. */
static bool
word_ok(const char *s, const char *extra)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isascii((unsigned char)*s) ||
		    !(isalnum((unsigned char)*s) || strchr(extra, *s)))
			return false;
	return true;
}

int
drbd_name_check(const char *res, char *why, size_t whylen)
{
	if (!res || !*res) {
		xm_why(why, whylen, "DRBD resource name is empty");
		return -EINVAL;
	}
	if (strlen(res) > DRBD_RES_NAME_MAX) {
		xm_why(why, whylen, "DRBD resource name '%.40s...' is too long (at most %d)",
		    res, DRBD_RES_NAME_MAX);
		return -EINVAL;
	}
	/* '.': no hidden /etc/drbd.d files (our temporaries start so);
	 * '-': never read as an option by drbdadm */
	if (res[0] == '-' || res[0] == '.' || !word_ok(res, "_.+-")) {
		xm_why(why, whylen, "DRBD resource name '%s' must be letters, digits, "
		    "'_', '.', '+', '-' and not start with '-' or '.'", res);
		return -EINVAL;
	}
	return 0;
}

static int
path_check(const char *what, const char *p, char *why, size_t whylen)
{
	if (!p || p[0] != '/' || !word_ok(p, "/_.+-") || strstr(p, "/../") ||
	    strstr(p, "//")) {
		xm_why(why, whylen, "%s '%s' must be an absolute path of letters, digits "
		    "and '/_.+-'", what, p ? p : "");
		return -EINVAL;
	}
	return 0;
}

static int
node_check(const struct drbd_res_conf *c, int i, char *why, size_t whylen)
{
	const struct drbd_peer *n = &c->nodes[i];
	unsigned char buf[sizeof(struct in6_addr)];

	if (!word_ok(n->name, "_.-") || n->name[0] == '-') {
		xm_why(why, whylen, "resource %s: node %d: name '%s' is not a host name",
		    c->name, i + 1, n->name ? n->name : "");
		return -EINVAL;
	}
	if (!n->addr || (inet_pton(AF_INET, n->addr, buf) != 1 &&
			 inet_pton(AF_INET6, n->addr, buf) != 1)) {
		xm_why(why, whylen, "resource %s: node %s: address '%s' is not an IPv4 "
		    "or IPv6 address", c->name, n->name, n->addr ? n->addr : "");
		return -EINVAL;
	}
	if (c->version == DRBD_9 && n->node_id > 31) {
		xm_why(why, whylen, "resource %s: node %s: node-id %u is out of 0..31",
		    c->name, n->name, n->node_id);
		return -EINVAL;
	}
	return path_check("backing disk", n->disk, why, whylen);
}

/* The after-sb-0pri value, or NULL when policy is not one we accept. */
static const char *
policy_check(const struct drbd_res_conf *c, char *why, size_t whylen)
{
	static const char *const rules[] = {
		"disconnect", "discard-zero-changes", "discard-least-changes",
		"discard-younger-primary", "discard-older-primary",
	};
	const char *p = c->after_sb_policy;

	if (!p)
		return "disconnect";
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(p, rules[i]))
			return p;
	if (!strncmp(p, "discard-node-", 13)) {
		if (c->version != DRBD_84) {
			xm_why(why, whylen, "resource %s: after-sb policy '%s': DRBD 9 has "
			    "no discard-node-NAME", c->name, p);
			return NULL;
		}
		if (strcmp(p + 13, c->nodes[0].name) && strcmp(p + 13, c->nodes[1].name)) {
			xm_why(why, whylen, "resource %s: after-sb policy '%s' names no node "
			    "of the resource", c->name, p);
			return NULL;
		}
		return p;
	}
	xm_why(why, whylen, "resource %s: after-sb policy '%s' is not disconnect, "
	    "discard-zero-changes, discard-least-changes, discard-younger-primary, "
	    "discard-older-primary or discard-node-NAME", c->name, p);
	return NULL;
}

static int
conf_check(const struct drbd_res_conf *c, char *why, size_t whylen)
{
	int rc;

	rc = drbd_name_check(c->name, why, whylen);
	if (rc)
		return rc;
	if (c->version != DRBD_84 && c->version != DRBD_9) {
		xm_why(why, whylen, "resource %s: DRBD version %d is neither 84 nor 9",
		    c->name, (int)c->version);
		return -EINVAL;
	}
	if (c->minor > DRBD_MINOR_MAX) {
		xm_why(why, whylen, "resource %s: minor %u is out of 0..%d", c->name,
		    c->minor, DRBD_MINOR_MAX);
		return -EINVAL;
	}
	if (c->port == 0) {
		xm_why(why, whylen, "resource %s: no port", c->name);
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		rc = node_check(c, i, why, whylen);
		if (rc)
			return rc;
	}
	if (!strcmp(c->nodes[0].name, c->nodes[1].name)) {
		xm_why(why, whylen, "resource %s: both nodes are named %s", c->name,
		    c->nodes[0].name);
		return -EINVAL;
	}
	if (c->version == DRBD_9 && c->nodes[0].node_id == c->nodes[1].node_id) {
		xm_why(why, whylen, "resource %s: both nodes have node-id %u", c->name,
		    c->nodes[0].node_id);
		return -EINVAL;
	}
	return path_check("fence-peer handler", c->handler, why, whylen);
}

int
drbd_res_render(const struct drbd_res_conf *c, char **text, char *why, size_t whylen)
{
	const char *sb0, *sb1;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!c || !text)
		return -EINVAL;
	*text = NULL;
	rc = conf_check(c, why, whylen);
	if (rc)
		return rc;
	sb0 = policy_check(c, why, whylen);
	if (!sb0)
		return -EINVAL;
	/* consensus: the 1pri case follows a 0pri rule only where that rule
	 * would discard the secondary; with no rule nobody loses */
	sb1 = strcmp(sb0, "disconnect") ? "consensus" : "disconnect";
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# DRBD resource of the xenmesh volume %s: written by xenmesh,\n"
		"# rewritten on changes; do not edit.\n", c->name);
	fprintf(f, "resource %s {\n", c->name);
	fprintf(f, "\tdevice /dev/drbd%u;\n\tmeta-disk internal;\n", c->minor);
	fprintf(f, "\tnet {\n\t\tprotocol C;\n");
	/* DRBD 9 moved fencing from disk{} to net{} */
	if (c->version == DRBD_9)
		fprintf(f, "\t\tfencing resource-and-stonith;\n");
	fprintf(f, "\t\tafter-sb-0pri %s;\n\t\tafter-sb-1pri %s;\n"
		"\t\tafter-sb-2pri disconnect;\n\t}\n", sb0, sb1);
	if (c->version == DRBD_84)
		fprintf(f, "\tdisk {\n\t\tfencing resource-and-stonith;\n\t}\n");
	fprintf(f, "\thandlers {\n"
		"\t\tfence-peer \"%s fence-peer\";\n"
		"\t\tunfence-peer \"%s unfence-peer\";\n"
		"\t\tsplit-brain \"%s split-brain\";\n\t}\n",
		c->handler, c->handler, c->handler);
	for (int i = 0; i < 2; i++) {
		const struct drbd_peer *n = &c->nodes[i];

		fprintf(f, "\ton %s {\n", n->name);
		if (strchr(n->addr, ':'))
			fprintf(f, "\t\taddress ipv6 [%s]:%u;\n", n->addr, c->port);
		else
			fprintf(f, "\t\taddress %s:%u;\n", n->addr, c->port);
		fprintf(f, "\t\tdisk %s;\n", n->disk);
		if (c->version == DRBD_9)
			fprintf(f, "\t\tnode-id %u;\n", n->node_id);
		fprintf(f, "\t}\n");
	}
	fprintf(f, "}\n");
	if (ferror(f)) {
		(void)fclose(f);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
drbd_res_write(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	int fd, dfd, rc;

	if (!dir || !*dir || !text || drbd_name_check(name, NULL, 0))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.res", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.res.XXXXXX", dir, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* the temporary starts with '.' and does not end in .res: the usual
	 * include of drbd.d's *.res files never reads a half-written file */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, text, strlen(text));
	if (!rc && fchmod(fd, 0644) < 0)
		rc = -errno;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		goto out_unlink;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	/* the rename itself must survive a crash too */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	rc = fsync(dfd) < 0 ? -errno : 0;
	(void)close(dfd);
	return rc;

out_unlink:
	(void)unlink(tmp);
	return rc;
}

/* ---- commands --------------------------------------------------------------- */

static int
adm(struct cmdseq *s, const char *res, const char *verb, const char *opt)
{
	if (!s || drbd_name_check(res, NULL, 0))
		return -EINVAL;
	if (opt)
		return cmdseq_add(s, "drbdadm", verb, opt, res, NULL);
	return cmdseq_add(s, "drbdadm", verb, res, NULL);
}

static bool
version_ok(enum drbd_version v)
{
	return v == DRBD_84 || v == DRBD_9;
}

int
drbd_cmd_create_md(struct cmdseq *s, const char *res, enum drbd_version v)
{
	if (!version_ok(v))
		return -EINVAL;
	return adm(s, res, "create-md", "--force");
}

int
drbd_cmd_up(struct cmdseq *s, const char *res)
{
	return adm(s, res, "up", NULL);
}

int
drbd_cmd_down(struct cmdseq *s, const char *res)
{
	return adm(s, res, "down", NULL);
}

int
drbd_cmd_primary(struct cmdseq *s, const char *res)
{
	return adm(s, res, "primary", NULL);
}

int
drbd_cmd_secondary(struct cmdseq *s, const char *res)
{
	return adm(s, res, "secondary", NULL);
}

int
drbd_cmd_primary_initial(struct cmdseq *s, const char *res, enum drbd_version v)
{
	/* the same line for both: drbdadm-84 and drbdadm 9 both take
	 * `primary --force` (8.3's --overwrite-data-of-peer is gone) */
	if (!version_ok(v))
		return -EINVAL;
	return adm(s, res, "primary", "--force");
}

int
drbd_cmd_state(struct cmdseq *s, const char *res, enum drbd_version v)
{
	if (!s || drbd_name_check(res, NULL, 0) || !version_ok(v))
		return -EINVAL;
	if (v == DRBD_9)
		return cmdseq_add(s, "drbdsetup", "status", res, "--json", NULL);
	return cmdseq_add(s, "cat", "/proc/drbd", NULL);
}

int
drbd_cmd_resolve_split_brain(struct cmdseq *s, const char *res, bool this_node_loses)
{
	int rc;

	if (!this_node_loses) {
		rc = adm(s, res, "connect", NULL);
		if (!rc)
			cmdseq_tolerate(s);
		return rc;
	}
	rc = adm(s, res, "disconnect", NULL);
	if (rc)
		return rc;
	cmdseq_tolerate(s);
	(void)adm(s, res, "secondary", NULL);
	return adm(s, res, "connect", "--discard-my-data");
}

/* ---- rules ------------------------------------------------------------------- */

int
drbd_may_promote(const struct drbd_state *st, bool peer_fenced, char *why,
		 size_t whylen)
{
	const char *res;

	if (!st) {
		xm_why(why, whylen, "no DRBD state");
		return -EINVAL;
	}
	res = st->res[0] ? st->res : "the resource";
	if (st->split_brain) {
		xm_why(why, whylen, "%s is %s after a split brain or a refused peer: "
		    "a human must resolve it first", res, st->conn);
		return -EPERM;
	}
	if (!strcmp(st->peer_role, "Primary")) {
		xm_why(why, whylen, "the peer of %s is Primary", res);
		return -EPERM;
	}
	if (!strcmp(st->role, "Primary")) {
		xm_why(why, whylen, "%s is Primary already", res);
		return 0;
	}
	if (strcmp(st->disk, "UpToDate")) {
		xm_why(why, whylen, "the local disk of %s is %s, not UpToDate", res,
		    st->disk[0] ? st->disk : "unknown");
		return -EPERM;
	}
	if (peer_fenced) {
		xm_why(why, whylen, "the peer of %s is fenced", res);
		return 0;
	}
	if (!strcmp(st->peer_disk, "Outdated") || !strcmp(st->peer_disk, "Inconsistent") ||
	    !strcmp(st->peer_disk, "Diskless")) {
		xm_why(why, whylen, "the peer disk of %s is %s", res, st->peer_disk);
		return 0;
	}
	if (!strcmp(st->conn, "Connected") && !strcmp(st->peer_role, "Secondary")) {
		xm_why(why, whylen, "the peer of %s is connected and Secondary "
		    "(switch-over)", res);
		return 0;
	}
	xm_why(why, whylen, "the peer disk of %s is %s (%s) and the peer is not fenced",
	    res, st->peer_disk[0] ? st->peer_disk : "unknown",
	    st->conn[0] ? st->conn : "no connection state");
	return -EPERM;
}

int
drbd_fence_peer_decide(const struct drbd_fence_view *v)
{
	/* without a quorate answer the node table may be stale: a peer once
	 * fenced may have rejoined since */
	if (!v || !v->reachable || !v->quorate || !v->peer_state)
		return DRBD_FENCE_WAIT;
	if (!strcmp(v->peer_state, "fenced"))
		return DRBD_FENCE_PEER_FENCED;
	/* the cluster runs its targets there: this node is the stale one */
	if (v->peer_active && !strcmp(v->peer_state, "online"))
		return DRBD_FENCE_PEER_PRIMARY;
	/* online (a replication link hiccup, or a peer the cluster will
	 * fence), unclean (being fenced), offline: the answer can change */
	return DRBD_FENCE_WAIT;
}

int
drbd_fence_peer_final(int decided)
{
	return decided == DRBD_FENCE_WAIT ? DRBD_FENCE_KEEP_FROZEN : decided;
}

static const char *
env_get(const char *const *envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, key, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int
name_copy(const char *v, const char *from, char *name, size_t len, char *why,
	  size_t whylen)
{
	if (!word_ok(v, "_.-")) {
		xm_why(why, whylen, "%s='%s' is not one host name", from, v);
		return -ENOENT;
	}
	if (strlen(v) >= len)
		return -ENAMETOOLONG;
	memcpy(name, v, strlen(v) + 1);
	return 0;
}

int
drbd_handler_peer(const char *const *envp, char *name, size_t len, char *why,
		  size_t whylen)
{
	const char *v, *mine;
	char key[32], found_key[32] = "";
	const char *found = NULL;
	int count = 0;

	if (!name || !len)
		return -EINVAL;
	name[0] = '\0';
	v = env_get(envp, "DRBD_PEER");
	if (v && *v)
		return name_copy(v, "DRBD_PEER", name, len, why, whylen);
	v = env_get(envp, "DRBD_PEER_NODE_ID");
	if (v && *v) {
		(void)snprintf(key, sizeof(key), "DRBD_NODE_ID_%s", v);
		if (!word_ok(v, "") || !env_get(envp, key)) {
			xm_why(why, whylen, "DRBD_PEER_NODE_ID=%s but no %s", v, key);
			return -ENOENT;
		}
		return name_copy(env_get(envp, key), key, name, len, why, whylen);
	}
	mine = env_get(envp, "DRBD_MY_NODE_ID");
	if (mine && *mine) {
		for (unsigned i = 0; i < 32; i++) {
			char id[12];

			(void)snprintf(id, sizeof(id), "%u", i);
			(void)snprintf(key, sizeof(key), "DRBD_NODE_ID_%u", i);
			v = env_get(envp, key);
			if (!v || !*v || !strcmp(id, mine))
				continue;
			found = v;
			(void)snprintf(found_key, sizeof(found_key), "%s", key);
			count++;
		}
		if (count == 1)
			return name_copy(found, found_key, name, len, why, whylen);
	}
	xm_why(why, whylen, "no peer in the environment (DRBD_PEER, DRBD_PEER_NODE_ID, "
	    "or one DRBD_NODE_ID_n besides DRBD_MY_NODE_ID)");
	return -ENOENT;
}
