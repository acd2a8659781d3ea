/* agentctl vm backup, vm restore, backup list; see ctl_backup_cli.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_opt.h"
#include "ctl_args.h"
#include "ctl_backup_cli.h"
#include "ctl_client.h"
#include "json.h"
#include "lvm.h"
#include "state.h"

/* a restore or backup copies whole volumes */
#define BACKUP_TIMEOUT_MS (12 * 3600 * 1000)

enum opt_id { O_DEST, O_DISK, O_MEMORY, O_AS, O_N };
static const char *const value_opts[O_N] = { "--dest", "--disk", "--memory", "--as" };

static enum opt_id
value_opt(const char *arg, const char **inline_val)
{
	return (enum opt_id)cli_value_opt(arg, value_opts, O_N, inline_val);
}

/* The command words (options and their values skipped), at most max. */
static size_t
words_of(int argc, char *const argv[], const char **w, size_t max)
{
	const char *iv;
	size_t n = 0;
	bool dashdash = false;

	for (int i = 1; i < argc && n < max; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = true;
			continue;
		}
		if (!dashdash && argv[i][0] == '-') {
			if (value_opt(argv[i], &iv) != O_N && iv == NULL)
				i++;
			continue;
		}
		w[n++] = argv[i];
	}
	return n;
}

bool
ctl_backup_cli_wants(int argc, char *const argv[])
{
	const char *w[2];
	size_t n = words_of(argc, argv, w, 2);

	if (n < 2)
		return n == 1 && strcmp(w[0], "backup") == 0;
	return (strcmp(w[0], "vm") == 0 && (strcmp(w[1], "backup") == 0 ||
					    strcmp(w[1], "restore") == 0)) ||
	       strcmp(w[0], "backup") == 0;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
set_value(struct backup_args *out, enum opt_id id, const char *v, char *err,
	  size_t errlen)
{
	char why[160], *end;
	unsigned long long n;

	if (v == NULL)
		return fail(err, errlen, "%s needs a value", value_opts[id]);
	switch (id) {
	case O_DEST:
		if (v[0] == '\0')
			return fail(err, errlen, "--dest: empty directory");
		out->dest = v;
		return 0;
	case O_DISK:
		if (out->cmd != BACKUP_CMD_RESTORE)
			break;
		if (size_parse(v, &out->disk_bytes, why, sizeof(why)) < 0)
			return fail(err, errlen, "--disk: %s", why);
		return 0;
	case O_MEMORY:
		if (out->cmd != BACKUP_CMD_RESTORE)
			break;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (v[0] < '1' || v[0] > '9' || errno != 0 || *end != '\0' || n > 16777216)
			return fail(err, errlen, "--memory: '%s' is not a number of MB "
				    "(1 to 16777216)", v);
		out->memory_mb = (uint32_t)n;
		return 0;
	case O_AS:
		if (out->cmd != BACKUP_CMD_RESTORE)
			break;
		if (v[0] == '\0' || strlen(v) >= STATE_NAME_MAX)
			return fail(err, errlen, "--as: empty or too long a VM name");
		out->as = v;
		return 0;
	case O_N:
		break;
	}
	return fail(err, errlen, "%s is not an option of this command", value_opts[id]);
}

int
ctl_backup_cli_parse(int argc, char *const argv[], struct backup_args *out,
		     char *err, size_t errlen)
{
	const char *w[5];
	size_t n = words_of(argc, argv, w, 5), first;
	bool dashdash = false;

	memset(out, 0, sizeof(*out));
	out->usage = USAGE_BACKUP_LIST;
	if (n >= 2 && strcmp(w[0], "vm") == 0 && strcmp(w[1], "backup") == 0) {
		out->cmd = BACKUP_CMD_BACKUP;
		out->usage = USAGE_VM_BACKUP;
	} else if (n >= 2 && strcmp(w[0], "vm") == 0 && strcmp(w[1], "restore") == 0) {
		out->cmd = BACKUP_CMD_RESTORE;
		out->usage = USAGE_VM_RESTORE;
	} else if (n >= 1 && strcmp(w[0], "backup") == 0) {
		if (n < 2)
			return fail(err, errlen, "missing subcommand (list)");
		if (strcmp(w[1], "list") != 0)
			return fail(err, errlen, "unknown subcommand '%s' (list)", w[1]);
		out->cmd = BACKUP_CMD_LIST;
	} else {
		return fail(err, errlen, "not a backup command");
	}
	for (int i = 1; i < argc; i++) {
		const char *iv;
		enum opt_id id;
		int r;

		if (dashdash || argv[i][0] != '-')
			continue;
		if (strcmp(argv[i], "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			out->help = true;
			continue;
		}
		if (strcmp(argv[i], "--json") == 0 && out->cmd == BACKUP_CMD_LIST) {
			out->json = true;
			continue;
		}
		id = value_opt(argv[i], &iv);
		if (id == O_N)
			return fail(err, errlen, "unknown option '%s'", argv[i]);
		if (iv == NULL)
			iv = i + 1 < argc ? argv[++i] : NULL;
		r = set_value(out, id, iv, err, errlen);
		if (r < 0)
			return r;
	}
	if (out->help)
		return 0;
	first = 2;
	if (out->cmd == BACKUP_CMD_LIST) {
		if (n > 3)
			return fail(err, errlen, "unexpected argument '%s'", w[3]);
		out->vm = n > 2 ? w[2] : NULL;
		return 0;
	}
	if (n <= first)
		return fail(err, errlen, "missing VM");
	out->vm = w[first];
	if (out->vm[0] == '\0' || strlen(out->vm) >= STATE_NAME_MAX)
		return fail(err, errlen, "empty or too long a VM name");
	if (out->cmd == BACKUP_CMD_BACKUP && n > first + 1)
		return fail(err, errlen, "unexpected argument '%s'", w[first + 1]);
	if (out->cmd == BACKUP_CMD_RESTORE) {
		if (n > first + 2)
			return fail(err, errlen, "unexpected argument '%s'", w[first + 2]);
		out->stamp = n > first + 1 ? w[first + 1] : NULL;
	}
	return 0;
}

/* ---- backup list output --------------------------------------------------- */

#define LIST_FIELDS 7

/* Split one line at tabs into f (pointers into line, modified). */
static size_t
fields(char *line, char *f[LIST_FIELDS])
{
	size_t n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < LIST_FIELDS; p++) {
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

static void
human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

char *
ctl_backup_cli_format(const char *lines, bool json)
{
	char *copy = strdup(lines ? lines : ""), *line, *save = NULL, *out = NULL;
	struct json j;
	size_t cap, o = 0;
	int err;

	if (copy == NULL)
		return NULL;
	cap = strlen(copy) * 2 + 256;
	if (json) {
		json_init(&j);
		json_array_begin(&j);
	} else {
		out = malloc(cap);
		if (out == NULL) {
			free(copy);
			return NULL;
		}
		o = (size_t)snprintf(out, cap, "%-16s %-17s %-20s %10s %-10s %s\n", "VM",
				     "BACKUP", "TIME (UTC)", "SIZE", "STATUS", "VOLUMES");
	}
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[LIST_FIELDS], when[32] = "-", size[24];
		uint64_t t, bytes;
		time_t tt;
		struct tm tm;

		if (fields(line, f) != LIST_FIELDS)
			continue;
		t = strtoull(f[2], NULL, 10);
		bytes = strtoull(f[3], NULL, 10);
		tt = (time_t)t;
		if (t != 0 && gmtime_r(&tt, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (json) {
			char *vsave = NULL, *vol;

			json_object_begin(&j);
			json_key(&j, "vm");
			json_string(&j, f[0]);
			json_key(&j, "backup");
			json_string(&j, f[1]);
			json_key(&j, "time");
			json_uint(&j, t);
			json_key(&j, "bytes");
			json_uint(&j, bytes);
			json_key(&j, "status");
			json_string(&j, f[4]);
			json_key(&j, "complete");
			json_bool(&j, strcmp(f[4], "complete") == 0);
			json_key(&j, "volumes");
			json_array_begin(&j);
			for (vol = strtok_r(f[5], " ", &vsave); vol;
			     vol = strtok_r(NULL, " ", &vsave)) {
				char *colon = strchr(vol, ':');

				if (colon == NULL)
					continue;
				*colon = '\0';
				json_object_begin(&j);
				json_key(&j, "disk");
				json_string(&j, vol);
				json_key(&j, "bytes");
				json_uint(&j, strtoull(colon + 1, NULL, 10));
				json_object_end(&j);
			}
			json_array_end(&j);
			json_key(&j, "why");
			json_string(&j, f[6][0] ? f[6] : NULL);
			json_object_end(&j);
			continue;
		}
		human_bytes(bytes, size, sizeof(size));
		o += (size_t)snprintf(out + o, cap > o ? cap - o : 0,
				      "%-16s %-17s %-20s %10s %-10s %s%s%s\n", f[0], f[1],
				      when, size, f[4], f[5], f[6][0] ? "  # " : "", f[6]);
	}
	free(copy);
	if (json) {
		json_array_end(&j);
		out = json_take(&j, &err);
		json_free(&j);
	}
	return out;
}

/* ---- main --------------------------------------------------------------------- */

static int
run(struct ctl_conn *cc, const struct backup_args *ba, const char *dest)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__CtlResponse *resp;
	struct ctl_args args = { .json = ba->json };
	char *argv[3];
	char *text;
	int status;

	req.args = argv;
	req.backup_dir = (char *)dest;
	switch (ba->cmd) {
	case BACKUP_CMD_BACKUP:
		args.name = "vm backup";
		req.command = XENMESH__CTL_COMMAND__CTL_VM_BACKUP;
		argv[0] = (char *)ba->vm;
		req.n_args = 1;
		return ctl_client_mutation(cc, &args, &req, BACKUP_TIMEOUT_MS, NULL);
	case BACKUP_CMD_RESTORE:
		args.name = "vm restore";
		req.command = XENMESH__CTL_COMMAND__CTL_VM_RESTORE;
		argv[0] = (char *)ba->vm;
		argv[1] = (char *)(ba->stamp ? ba->stamp : "");
		argv[2] = (char *)(ba->as ? ba->as : "");
		req.n_args = 3;
		req.has_disk_size = ba->disk_bytes != 0;
		req.disk_size = ba->disk_bytes;
		req.has_memory_mb = ba->memory_mb != 0;
		req.memory_mb = ba->memory_mb;
		return ctl_client_mutation(cc, &args, &req, BACKUP_TIMEOUT_MS, NULL);
	case BACKUP_CMD_LIST:
	default:
		break;
	}
	args.name = "backup list";
	req.command = XENMESH__CTL_COMMAND__CTL_BACKUP_LIST;
	argv[0] = (char *)(ba->vm ? ba->vm : "");
	req.n_args = 1;
	status = ctl_client_read(cc, &args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	text = ctl_backup_cli_format(resp->message, ba->json);
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	if (text == NULL) {
		fprintf(stderr, "agentctl: backup list: out of memory\n");
		return CTL_EXIT_FAILED;
	}
	fputs(text, stdout);
	if (ba->json)
		putchar('\n');
	free(text);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

int
ctl_backup_cli_main(int argc, char *const argv[])
{
	struct backup_args ba;
	struct ctl_conn cc;
	char err[256], dest[PATH_MAX], cwd[PATH_MAX];
	int rc, status;

	if (ctl_backup_cli_parse(argc, argv, &ba, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentctl: %s\n%s\n", err, ba.usage);
		return CTL_EXIT_USAGE;
	}
	if (ba.help) {
		printf("%s\n", ba.usage);
		return CTL_EXIT_OK;
	}
	/* the agent runs on this node: a relative --dest is ours */
	if (ba.dest != NULL && ba.dest[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(dest, sizeof(dest), "%s/%s", cwd, ba.dest) >= sizeof(dest)) {
			fprintf(stderr, "agentctl: --dest %s: cannot make it absolute\n", ba.dest);
			return CTL_EXIT_USAGE;
		}
		ba.dest = dest;
	}
	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		fprintf(stderr, "agentctl: cannot reach xenmeshd (is it running?): %s\n",
			strerror(-rc));
		return rc == -EACCES || rc == -EPERM ? CTL_EXIT_DENIED : CTL_EXIT_UNREACHABLE;
	}
	status = run(&cc, &ba, ba.dest);
	ctl_conn_close(&cc);
	return status;
}
