/* `agentctl template list|show` in xenmeshd, and the templates on disk
 * that vm create reads (ctl_create.h). */
#define LOG_SUBSYS "create"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_create_int.h"
#include "ctl_vm.h"
#include "json.h"
#include "template.h"
#include "xm_error.h"

#define INFO_MAX        (64 * 1024)
#define SKELETON_MAX    (64 * 1024)

/* ---- templates on disk --------------------------------------------------- */


static int
file_read(const char *path, size_t max, char **out, char *why, size_t whylen)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		xm_why(why, whylen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		xm_why(why, whylen, "%s: not a regular file of at most %zu bytes", path, max);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)sb.st_size);
	if (n < 0) {
		rc = -errno;
		xm_why(why, whylen, "%s: %s", path, strerror(-rc));
		free(buf);
		close(fd);
		return rc;
	}
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n) {
		xm_why(why, whylen, "%s: holds a NUL byte", path);
		free(buf);
		close(fd);
		return -EINVAL;
	}
	close(fd);
	*out = buf;
	return 0;
}

static bool
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

void
tmpl_free(struct tmpl *t)
{
	free(t->skeleton);
	t->skeleton = NULL;
}

int
tmpl_load(const struct agent *a, const char *name, struct tmpl *t, char *why,
	  size_t whylen)
{
	char path[PATH_MAX + 16], *info = NULL;
	struct stat sb;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = template_name_check(name, why, whylen);
	if (rc < 0)
		return rc;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/%s", a->cfg.template_dir,
			     name) >= sizeof(t->dir))
		return -ENAMETOOLONG;
	if (stat(t->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		xm_why(why, whylen, "no template %s (no directory %s)", name, t->dir);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/info", t->dir);
	rc = file_read(path, INFO_MAX, &info, why, whylen);
	if (rc < 0)
		return rc;
	rc = template_info_parse(info, path, &t->info, why, whylen);
	free(info);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/root", t->dir);
	t->has_tree = is_dir(path);
	snprintf(path, sizeof(path), "%s/root.img", t->dir);
	t->has_image = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	snprintf(path, sizeof(path), "%s/vm.cfg.in", t->dir);
	rc = file_read(path, SKELETON_MAX, &t->skeleton, why, whylen);
	if (rc < 0)
		return rc;
	if (t->info.kind == TEMPLATE_KIND_TREE && !t->has_tree) {
		xm_why(why, whylen, "template %s is of kind tree but has no directory "
		       "%s/root", name, t->dir);
		tmpl_free(t);
		return -EINVAL;
	}
	if (t->info.kind == TEMPLATE_KIND_RAW && !t->has_image) {
		xm_why(why, whylen, "template %s is of kind raw but has no %s/root.img",
		       name, t->dir);
		tmpl_free(t);
		return -EINVAL;
	}
	return 0;
}

/* ---- template list / show ------------------------------------------------ */

static int
name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void
tmpl_json(struct json *j, const struct tmpl *t, bool skeleton)
{
	json_key(j, "name");
	json_string(j, t->name);
	json_key(j, "description");
	json_string(j, t->info.description);
	json_key(j, "os_family");
	json_string(j, template_os_name(t->info.os));
	json_key(j, "kind");
	json_string(j, template_kind_name(t->info.kind));
	json_key(j, "root_size");
	json_uint(j, t->info.root_size);
	json_key(j, "swap_size");
	json_uint(j, t->info.swap_size);
	json_key(j, "memory_mb");
	json_uint(j, t->info.memory_mb);
	json_key(j, "vcpus");
	json_uint(j, t->info.vcpus);
	json_key(j, "dir");
	json_string(j, t->dir);
	if (skeleton) {
		json_key(j, "vm_cfg_in");
		json_string(j, t->skeleton);
	}
}

void
template_list(struct agent *a, qb_ipcs_connection_t *c, bool as_json)
{
	char **names = NULL, why[400], *out = NULL, **grown;
	size_t n = 0, len = 0;
	struct dirent *de;
	struct json j;
	FILE *f = NULL;
	DIR *d;
	int rc = 0;

	d = opendir(a->cfg.template_dir);
	if (d == NULL) {
		rc = -errno;
		xm_why(why, sizeof(why), "cannot read template_dir %s: %s",
		       a->cfg.template_dir, strerror(-rc));
		ctl_server_reply(c, rc, why);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || template_name_check(de->d_name, NULL, 0) < 0)
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (grown == NULL || (grown[n] = strdup(de->d_name)) == NULL) {
			names = grown ? grown : names;
			rc = -ENOMEM;
			break;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof(*names), name_cmp);
	json_init(&j);
	if (as_json) {
		json_object_begin(&j);
		json_key(&j, "templates");
		json_array_begin(&j);
	} else {
		f = open_memstream(&out, &len);
		if (f == NULL)
			rc = -ENOMEM;
		else
			fprintf(f, "%-16s %-7s %-5s %9s %9s %7s %5s  %s\n", "TEMPLATE", "OS",
				"KIND", "ROOT", "SWAP", "MEMORY", "VCPUS", "DESCRIPTION");
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct tmpl t;
		int lr = tmpl_load(a, names[i], &t, why, sizeof(why));

		if (lr == -ENOENT)
			continue;       /* a plain file in template_dir */
		if (as_json) {
			json_object_begin(&j);
			if (lr == 0) {
				tmpl_json(&j, &t, false);
			} else {
				json_key(&j, "name");
				json_string(&j, names[i]);
				json_key(&j, "error");
				json_string(&j, why);
			}
			json_object_end(&j);
		} else if (lr == 0) {
			fprintf(f, "%-16s %-7s %-5s %8" PRIu64 "M %8" PRIu64 "M %6uM %5u  %s\n",
				t.name, template_os_name(t.info.os),
				template_kind_name(t.info.kind), t.info.root_size >> 20,
				t.info.swap_size >> 20, (unsigned)t.info.memory_mb,
				(unsigned)t.info.vcpus, t.info.description);
		} else {
			fprintf(f, "%-16s (unusable: %s)\n", names[i], why);
		}
		tmpl_free(&t);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (as_json) {
		json_array_end(&j);
		json_object_end(&j);
		out = rc == 0 ? json_take(&j, &rc) : NULL;
	} else if (f != NULL && fclose(f) != 0 && rc == 0) {
		rc = -ENOMEM;
	}
	json_free(&j);
	ctl_server_reply(c, rc, rc < 0 ? xm_strerror(rc) : out);
	free(out);
}

void
template_show(struct agent *a, qb_ipcs_connection_t *c, const char *name,
	      bool as_json)
{
	char why[400], *out = NULL;
	struct tmpl t;
	struct json j;
	int rc;

	rc = tmpl_load(a, name, &t, why, sizeof(why));
	if (rc < 0) {
		ctl_server_reply(c, rc, why);
		return;
	}
	if (as_json) {
		json_init(&j);
		json_object_begin(&j);
		tmpl_json(&j, &t, true);
		json_object_end(&j);
		out = json_take(&j, &rc);
		json_free(&j);
	} else {
		rc = asprintf(&out, "Template:    %s\nDirectory:   %s\nDescription: %s\n"
			      "OS family:   %s\nKind:        %s\nRoot size:   %" PRIu64
			      " MiB\nSwap size:   %" PRIu64 " MiB\nMemory:      %u MiB\n"
			      "VCPUs:       %u\nvm.cfg.in:\n%s", t.name, t.dir,
			      t.info.description, template_os_name(t.info.os),
			      template_kind_name(t.info.kind), t.info.root_size >> 20,
			      t.info.swap_size >> 20, (unsigned)t.info.memory_mb,
			      (unsigned)t.info.vcpus, t.skeleton) < 0 ? -ENOMEM : 0;
		if (rc < 0)
			out = NULL;
	}
	tmpl_free(&t);
	ctl_server_reply(c, rc, rc < 0 ? xm_strerror(rc) : out);
	free(out);
}

