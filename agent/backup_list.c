/* Finding and listing backups (see backup.h): directory reads only,
 * no command runs. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "backup_int.h"
#include "xm_error.h"

/* ---- finding and listing backups ------------------------------------------ */

static bool
name_plain(const char *s)
{
	return s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL;
}

static bool
file_exists(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	struct stat sb;

	backup_dir_path(p, sizeof(p), dir, name);
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the entries of dir that are directories (not "."),
 * sorted: *out malloc'd (free each and it).  0 or -errno. */
static int
subdirs(const char *dir, char ***out, size_t *n)
{
	struct dirent *de;
	char **v = NULL, **nv, p[PATH_MAX + 300];
	size_t k = 0;
	struct stat sb;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!name_plain(de->d_name))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		nv = realloc(v, (k + 1) * sizeof(*v));
		if (nv == NULL || (nv[k] = strdup(de->d_name)) == NULL) {
			v = nv != NULL ? nv : v;
			while (k > 0)
				free(v[--k]);
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		k++;
	}
	closedir(d);
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_str);
	*out = v;
	*n = k;
	return 0;
}

static void
strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
backup_find(const char *dest, const char *vm, const char *stamp, char *dir,
	    size_t len, char *why, size_t whylen)
{
	char vmdir[PATH_MAX];
	char **st;
	size_t n;
	int rc;

	if (!name_plain(vm)) {
		snprintf(why, whylen, "bad VM name '%.64s'", vm);
		return -EINVAL;
	}
	snprintf(vmdir, sizeof(vmdir), "%s/%s", dest, vm);
	if (stamp != NULL) {
		if (!backup_stamp_ok(stamp)) {
			snprintf(why, whylen, "'%.64s' is not a backup's stamp "
				 "(YYYYMMDDTHHMMSSZ, see agentctl backup list)", stamp);
			return -EINVAL;
		}
		if ((size_t)snprintf(dir, len, "%s/%s", vmdir, stamp) >= len)
			return -ENAMETOOLONG;
		if (!file_exists(dir, "control")) {
			snprintf(why, whylen, "no backup %s of VM %s in %s", stamp, vm, dest);
			return -ENOENT;
		}
		return 0;
	}
	rc = subdirs(vmdir, &st, &n);
	if (rc < 0 && rc != -ENOENT) {
		snprintf(why, whylen, "cannot read %s: %s", vmdir, xm_strerror(rc));
		return rc;
	}
	rc = -ENOENT;
	for (size_t i = n; i-- > 0;) {
		if (!backup_stamp_ok(st[i]))
			continue;
		snprintf(dir, len, "%s/%s", vmdir, st[i]);
		if (file_exists(dir, "SHA256SUMS")) {
			rc = 0;
			break;
		}
	}
	strv_free_n(st, n);
	if (rc < 0)
		snprintf(why, whylen, "no complete backup of VM %s in %s", vm, dest);
	return rc;
}

static void
info_fill(const char *dir, const char *vm, const char *stamp, struct backup_info *bi)
{
	char *text = NULL, *sums = NULL, p[PATH_MAX + 64];
	struct backup_control c;
	size_t o = 0;
	struct stat sb;

	memset(bi, 0, sizeof(*bi));
	snprintf(bi->vm, sizeof(bi->vm), "%s", vm);
	snprintf(bi->stamp, sizeof(bi->stamp), "%s", stamp);
	snprintf(bi->status, sizeof(bi->status), "incomplete");
	if (backup_file_read(dir, "control", BACKUP_CONTROL_MAX, &text) < 0 ||
	    backup_control_parse(text, &c, bi->why, sizeof(bi->why)) < 0) {
		if (text != NULL)
			snprintf(bi->status, sizeof(bi->status), "damaged");
		else
			snprintf(bi->why, sizeof(bi->why), "no control file (running, or "
				 "interrupted)");
		free(text);
		return;
	}
	free(text);
	bi->time_s = c.time_s;
	for (size_t i = 0; i < c.n_vols; i++) {
		o += (size_t)snprintf(bi->volumes + o, o < sizeof(bi->volumes) ?
				      sizeof(bi->volumes) - o : 0, "%s%s:%" PRIu64,
				      i ? " " : "", c.vols[i].disk, c.vols[i].size_bytes);
		backup_dir_path(p, sizeof(p), dir, c.vols[i].file);
		if (stat(p, &sb) == 0)
			bi->bytes += (uint64_t)sb.st_size;
	}
	if (backup_file_read(dir, "SHA256SUMS", BACKUP_CONTROL_MAX, &sums) < 0) {
		snprintf(bi->why, sizeof(bi->why), "no SHA256SUMS (interrupted?)");
		return;
	}
	if (backup_sums_check(sums, &c, bi->why, sizeof(bi->why)) < 0)
		snprintf(bi->status, sizeof(bi->status), "damaged");
	else
		snprintf(bi->status, sizeof(bi->status), "complete");
	free(sums);
}

int
backup_list(const char *dest, const char *vm, struct backup_info **out, size_t *n,
	    char *why, size_t whylen)
{
	struct backup_info *v = NULL, *nv;
	char **vms = NULL, **st, dir[PATH_MAX];
	size_t nvms = 0, nst, k = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (vm != NULL) {
		if (!name_plain(vm)) {
			snprintf(why, whylen, "bad VM name '%.64s'", vm);
			return -EINVAL;
		}
		vms = malloc(sizeof(*vms));
		if (vms == NULL || (vms[0] = strdup(vm)) == NULL) {
			free(vms);
			return -ENOMEM;
		}
		nvms = 1;
	} else {
		rc = subdirs(dest, &vms, &nvms);
		if (rc == -ENOENT)
			return 0;       /* no backup made yet */
		if (rc < 0) {
			snprintf(why, whylen, "cannot read %s: %s", dest, xm_strerror(rc));
			return rc;
		}
	}
	for (size_t i = 0; i < nvms && rc == 0; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", dest, vms[i]);
		if (subdirs(dir, &st, &nst) < 0)
			continue;
		for (size_t s = 0; s < nst; s++) {
			if (!backup_stamp_ok(st[s]))
				continue;
			nv = realloc(v, (k + 1) * sizeof(*v));
			if (nv == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			snprintf(dir, sizeof(dir), "%s/%s/%s", dest, vms[i], st[s]);
			info_fill(dir, vms[i], st[s], &v[k++]);
		}
		strv_free_n(st, nst);
	}
	strv_free_n(vms, nvms);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}
