/* Backup and restore command sequences; see snapshot.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

uint64_t
snapshot_size(uint64_t origin, unsigned share_pct)
{
	uint64_t b;

	if (share_pct == 0 || share_pct > 100)
		share_pct = SNAPSHOT_SHARE_DEFAULT;
	/* origin / 100 first: no overflow near VOL_SIZE_MAX */
	b = origin / 100 * share_pct + (origin % 100) * share_pct / 100;
	b = (b + 511) / 512 * 512;
	if (b < SNAPSHOT_MIN_BYTES)
		b = SNAPSHOT_MIN_BYTES;
	return b > origin ? origin : b;
}

int
snapshot_name(char *buf, size_t len, const char *lv, const char *stamp,
	      char *why, size_t whylen)
{
	if ((size_t)snprintf(buf, len, "%s-bk-%s", lv, stamp) >= len) {
		snprintf(why, whylen, "snapshot name of %.64s too long", lv);
		return -EINVAL;
	}
	return lvm_name_check(buf, why, whylen);
}

static bool
abs_path_ok(const char *p)
{
	return p != NULL && p[0] == '/' && strlen(p) < RUNNER_ARG_MAX;
}

int
snapshot_cmd_lvm_create(struct cmdseq *s, const struct lvm_conf *c,
			const char *lv, const char *snap, uint64_t bytes)
{
	char size[32], origin[2 * LVM_NAME_MAX + 2], why[128];
	const char *argv[12];
	size_t n = 0;

	if (c == NULL || c->vg == NULL || c->vg[0] == '\0' || bytes == 0 ||
	    bytes % 512 != 0 || lvm_name_check(lv, why, sizeof(why)) < 0 ||
	    lvm_name_check(snap, why, sizeof(why)) < 0)
		return -EINVAL;
	snprintf(size, sizeof(size), "%" PRIu64 "b", bytes);
	if ((size_t)snprintf(origin, sizeof(origin), "%s/%s", c->vg, lv) >= sizeof(origin))
		return -EINVAL;
	argv[n++] = "lvcreate";
	if (c->no_devmapper) {
		argv[n++] = "--driverloaded";
		argv[n++] = "n";
	}
	argv[n++] = "--yes";
	argv[n++] = "-s";
	argv[n++] = "-L";
	argv[n++] = size;
	argv[n++] = "-n";
	argv[n++] = snap;
	argv[n++] = origin;
	argv[n] = NULL;
	return cmdseq_addv(s, argv);
}

int
snapshot_cmd_lvm_remove(struct cmdseq *s, const struct lvm_conf *c, const char *snap)
{
	return lvm_cmd_remove(s, c, snap);
}

int
snapshot_lvm_path(char *buf, size_t len, const struct lvm_conf *c, const char *lv)
{
	if ((size_t)snprintf(buf, len, "/dev/%s/%s", c->vg, lv) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int
snapshot_cmd_file_copy(struct cmdseq *s, const char *src, const char *tmp)
{
	if (!abs_path_ok(src) || !abs_path_ok(tmp))
		return -EINVAL;
	return cmdseq_add(s, "cp", "--reflink=auto", "--sparse=always", "--", src, tmp,
			  NULL);
}

int
snapshot_cmd_compress(struct cmdseq *s, const char *src, const char *out)
{
	if (!abs_path_ok(src) || !abs_path_ok(out))
		return -EINVAL;
	cmdseq_add(s, "gzip", "-1", "-c", "--", src, NULL);
	cmdseq_set_stdout(s, out);
	cmdseq_set_timeout(s, SNAPSHOT_COPY_TIMEOUT_MS);
	return s->error;
}

int
snapshot_cmd_sums(struct cmdseq *s, const char *dir, const char *const *names,
		  size_t n, const char *out)
{
	const char *argv[RUNNER_ARGC_MAX];
	size_t k = 0;

	if (!abs_path_ok(dir) || !abs_path_ok(out) || n == 0 || n + 3 > RUNNER_ARGC_MAX)
		return -EINVAL;
	argv[k++] = "sha256sum";
	argv[k++] = "--";
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL || names[i][0] == '\0' || names[i][0] == '-' ||
		    strchr(names[i], '/') != NULL)
			return -EINVAL;
		argv[k++] = names[i];
	}
	argv[k] = NULL;
	cmdseq_addv(s, argv);
	cmdseq_set_stdout(s, out);
	cmdseq_set_cwd(s, dir);
	cmdseq_set_timeout(s, SNAPSHOT_COPY_TIMEOUT_MS);
	return s->error;
}

int
snapshot_cmd_verify(struct cmdseq *s, const char *dir)
{
	if (!abs_path_ok(dir))
		return -EINVAL;
	cmdseq_add(s, "sha256sum", "-c", "--strict", "--", "SHA256SUMS", NULL);
	cmdseq_set_cwd(s, dir);
	cmdseq_set_timeout(s, SNAPSHOT_COPY_TIMEOUT_MS);
	return s->error;
}

int
snapshot_cmd_unpack(struct cmdseq *s, const char *prog, const char *gz,
		    const char *target, uint64_t limit)
{
	char num[24];

	if (prog == NULL || prog[0] == '\0' || (prog[0] != '/' && strchr(prog, '/')) ||
	    !abs_path_ok(gz) || !abs_path_ok(target) || limit == 0)
		return -EINVAL;
	snprintf(num, sizeof(num), "%" PRIu64, limit);
	cmdseq_add(s, prog, "--limit", num, "--", gz, target, NULL);
	cmdseq_set_timeout(s, SNAPSHOT_COPY_TIMEOUT_MS);
	return s->error;
}

int
snapshot_cmd_devsize(struct cmdseq *s, const char *dev)
{
	if (!abs_path_ok(dev))
		return -EINVAL;
	return cmdseq_add(s, "blockdev", "--getsize64", dev, NULL);
}

int
snapshot_devsize_parse(const char *out, uint64_t *bytes)
{
	char *end;
	unsigned long long v;

	if (out == NULL || out[0] < '0' || out[0] > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoull(out, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno != 0 || *end != '\0' || v == 0)
		return -EBADMSG;
	*bytes = v;
	return 0;
}
