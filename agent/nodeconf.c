/* This node's corosync.conf follows the cluster's nodelist; see nodeconf.h. */
#define LOG_SUBSYS "nodes"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "nodeconf.h"
#include "runner.h"
#include "xm_error.h"

#define CONF_MAX        (1024 * 1024)
#define RELOAD_TIMEOUT_MS 30000

struct nodeconf {
	struct agent *a;
	struct runner *runner;
	uint64_t applied;               /* nodelist version the file says */
	uint64_t reloading;             /* version being reloaded, 0 none */
};

void
nodeconf_from_state(const struct state *s, struct cc_nodelist *nl)
{
	memset(nl, 0, sizeof(*nl));
	for (size_t i = 0; i < s->n_nodelist && i < CC_NODES_MAX; i++) {
		const struct cs_node *c = &s->nodelist[i];
		struct cc_node *n = &nl->nodes[nl->n++];

		n->nodeid = c->nodeid;
		n->votes = c->votes;
		(void)snprintf(n->name, sizeof(n->name), "%s", c->name);
		n->n_addrs = c->n_addrs;
		for (unsigned a = 0; a < c->n_addrs && a < CC_LINKS_MAX; a++)
			(void)snprintf(n->addrs[a], CC_ADDR_MAX, "%s", c->addrs[a]);
	}
}

int
nodeconf_read(const char *path, char **text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int r = 0;

	*text = NULL;
	if (f == NULL) {
		r = -errno;
		(void)snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	buf = malloc(CONF_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONF_MAX + 1, f);
	if (ferror(f)) {
		r = -EIO;
		(void)snprintf(err, errlen, "cannot read %s: read error", path);
	} else if (n > CONF_MAX) {
		r = -EFBIG;
		(void)snprintf(err, errlen, "%s is larger than %d bytes", path, CONF_MAX);
	} else if (memchr(buf, '\0', n) != NULL) {
		r = -EINVAL;
		(void)snprintf(err, errlen, "%s holds a NUL byte", path);
	}
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*text = buf;
	return 0;
}

static int
fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (copy == NULL)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int
nodeconf_write(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8], bak[PATH_MAX + 8], baktmp[PATH_MAX + 16];
	size_t len = strlen(text), done = 0;
	struct stat st;
	mode_t mode = 0644;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp) ||
	    snprintf(bak, sizeof(bak), "%s.bak", path) >= (int)sizeof(bak) ||
	    snprintf(baktmp, sizeof(baktmp), "%s.bak.new", path) >= (int)sizeof(baktmp)) {
		(void)snprintf(err, errlen, "path %s is too long", path);
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = -errno;
		(void)snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(-r));
		return r;
	}
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		done += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		(void)snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-r));
		goto out_unlink_tmp;
	}
	/* the file as it was stays as .bak (one generation): a hard link,
	 * so that path itself is never missing */
	(void)unlink(baktmp);
	if (link(path, baktmp) == 0) {
		if (rename(baktmp, bak) < 0) {
			r = -errno;
			(void)unlink(baktmp);
			(void)snprintf(err, errlen, "cannot keep %s: %s", bak,
				       strerror(-r));
			goto out_unlink_tmp;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		(void)snprintf(err, errlen, "cannot keep %s as %s: %s", path, bak,
			       strerror(-r));
		goto out_unlink_tmp;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		(void)snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
			       strerror(-r));
		goto out_unlink_tmp;
	}
	r = fsync_dir(path);
	if (r < 0)
		(void)snprintf(err, errlen, "cannot sync the directory of %s: %s",
			       path, strerror(-r));
	return r;

out_unlink_tmp:
	(void)unlink(tmp);
	return r;
}

static void
reload_done(void *data, const struct runner_result *res)
{
	struct nodeconf *nc = data;
	char why[256];

	if (res->cancelled)
		return;
	if (runner_result_ok(res)) {
		log_notice("corosync reloaded its configuration (nodelist version %"
			   PRIu64 ")", nc->reloading);
	} else {
		runner_result_describe(res, why, sizeof(why));
		log_err("corosync-cfgtool -R failed for nodelist version %" PRIu64
			": %s (the file is written; corosync reads it when it "
			"restarts)", nc->reloading, why);
	}
	nc->reloading = 0;
	/* a change applied meanwhile waited for this reload */
	nodeconf_kick(nc->a);
}

void
nodeconf_kick(struct agent *a)
{
	static const char *const argv[] = { "corosync-cfgtool", "-R", NULL };
	struct runner_req req = { .argv = argv, .timeout_ms = RELOAD_TIMEOUT_MS };
	struct nodeconf *nc = a->nodeconf;
	const struct state *s = &a->rep.st;
	const char *path = a->cfg.corosync_conf;
	struct cc_nodelist *want = NULL, *have = NULL;
	char err[256] = "", *text = NULL, *out = NULL;
	uint64_t version = s->nodelist_version;
	int r;

	if (nc == NULL || version == 0 || version == nc->applied ||
	    nc->reloading != 0)
		return;
	want = malloc(sizeof(*want));
	have = malloc(sizeof(*have));
	if (want == NULL || have == NULL) {
		log_err("out of memory writing %s", path);
		goto out_free;
	}
	nc->applied = version;          /* one attempt (and log line) per version */
	nodeconf_from_state(s, want);
	r = nodeconf_read(path, &text, err, sizeof(err));
	if (r == 0)
		r = cc_parse(text, have, err, sizeof(err));
	if (r < 0) {
		log_err("cannot bring %s to nodelist version %" PRIu64 ": %s",
			path, version, err);
		goto out_free;
	}
	if (cc_equal(have, want)) {
		log_info("%s already has nodelist version %" PRIu64, path, version);
		goto out_free;
	}
	r = cc_rewrite(text, want, &out, err, sizeof(err));
	if (r == 0)
		r = nodeconf_write(path, out, err, sizeof(err));
	if (r < 0) {
		log_err("cannot bring %s to nodelist version %" PRIu64 ": %s",
			path, version, err[0] ? err : xm_strerror(r));
		goto out_free;
	}
	log_notice("%s now has nodelist version %" PRIu64 " (%zu nodes, %u votes; "
		   "the previous file is %s.bak): reloading corosync", path, version,
		   want->n, cc_votes(want), path);
	nc->reloading = version;
	r = runner_run(nc->runner, &req, reload_done, nc);
	if (r < 0) {
		log_err("cannot run corosync-cfgtool -R: %s", xm_strerror(r));
		nc->reloading = 0;
	}
out_free:
	free(out);
	free(text);
	free(have);
	free(want);
}

int
nodeconf_open(struct agent *a, struct runner *runner)
{
	struct nodeconf *nc = calloc(1, sizeof(*nc));

	if (nc == NULL)
		return -ENOMEM;
	nc->a = a;
	nc->runner = runner;
	a->nodeconf = nc;
	return 0;
}

int
nodeconf_start(struct agent *a)
{
	struct runner *runner = NULL;
	int rc;

	rc = runner_exec_open(&runner, a->loop, NULL);
	if (rc == 0)
		rc = nodeconf_open(a, runner);
	if (rc < 0)
		runner_close(runner);
	return rc;
}

void
nodeconf_stop(struct agent *a)
{
	struct nodeconf *nc = a->nodeconf;

	if (nc == NULL)
		return;
	a->nodeconf = NULL;
	runner_close(nc->runner);       /* reload_done() sees cancelled */
	free(nc);
}
