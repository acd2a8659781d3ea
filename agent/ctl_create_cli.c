/* agentctl vm create, template list|show; see ctl_create_cli.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opt.h"
#include "ctl_args.h"
#include "ctl_client.h"
#include "ctl_create_cli.h"
#include "lvm.h"
#include "macaddr.h"
#include "state.h"
#include "template.h"

/* vm create can copy a large tree and make its file system */
#define CREATE_TIMEOUT_MS (60 * 60 * 1000)

/* The options that take a value, and where it goes. */
enum opt_id { O_TEMPLATE, O_IP, O_NETMASK, O_GATEWAY, O_NAMESERVER, O_MAC,
	      O_MEMORY, O_VCPUS, O_DISK, O_SWAP, O_DESCRIPTION, O_ON, O_N };

static const char *const value_opts[O_N] = {
	"--template", "--ip", "--netmask", "--gateway", "--nameserver", "--mac",
	"--memory", "--vcpus", "--disk", "--swap", "--description", "--on",
};

/* The option of arg ("--ip" or "--ip=..."), O_N if none; *inline_val
 * points after '=' when given so. */
static enum opt_id
value_opt(const char *arg, const char **inline_val)
{
	return (enum opt_id)cli_value_opt(arg, value_opts, O_N, inline_val);
}

/* The first two command words (options and their values skipped). */
static void
first_words(int argc, char *const argv[], const char *w[2])
{
	const char *iv;
	int n = 0;

	w[0] = w[1] = NULL;
	for (int i = 1; i < argc && n < 2; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue;
		if (argv[i][0] == '-') {
			if (value_opt(argv[i], &iv) != O_N && iv == NULL)
				i++;
			continue;
		}
		w[n++] = argv[i];
	}
}

static bool
first_word_is_template(int argc, char *const argv[])
{
	const char *w[2];

	first_words(argc, argv, w);
	return w[0] != NULL && strcmp(w[0], "template") == 0;
}

bool
ctl_create_cli_wants(int argc, char *const argv[])
{
	const char *w[2];

	first_words(argc, argv, w);
	if (w[0] == NULL)
		return false;
	if (strcmp(w[0], "template") == 0)
		return true;
	return strcmp(w[0], "vm") == 0 && w[1] != NULL && strcmp(w[1], "create") == 0;
}

static int
fail(struct create_args *out, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(struct create_args *out, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	(void)out;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The value of option id: checked here so that a typo is said before
 * anything is asked of the cluster (the agent checks again). */
static int
set_value(struct create_args *out, enum opt_id id, const char *v, char *err,
	  size_t errlen)
{
	char why[160];
	uint32_t ip;
	uint64_t mac;

	switch (id) {
	case O_TEMPLATE:
		if (template_name_check(v, why, sizeof(why)) < 0)
			return fail(out, err, errlen, "--template: %s", why);
		out->tmpl = v;
		return 0;
	case O_IP:
	case O_NETMASK:
	case O_GATEWAY:
	case O_NAMESERVER:
		if (template_ipv4_parse(v, &ip) < 0)
			return fail(out, err, errlen, "%s '%s' is not an IPv4 address",
				    value_opts[id], v);
		*(id == O_IP ? &out->ip : id == O_NETMASK ? &out->netmask :
		  id == O_GATEWAY ? &out->gateway : &out->nameserver) = v;
		return 0;
	case O_MAC:
		if (mac_parse(v, &mac, why, sizeof(why)) < 0)
			return fail(out, err, errlen, "--mac: %s", why);
		out->mac = v;
		return 0;
	case O_MEMORY:
		if (template_number(v, 16, TEMPLATE_MEMORY_MAX, &out->memory_mb) < 0)
			return fail(out, err, errlen, "--memory needs a number of MB from "
				    "16 to %u, not '%s'", TEMPLATE_MEMORY_MAX, v);
		return 0;
	case O_VCPUS:
		if (template_number(v, 1, TEMPLATE_VCPUS_MAX, &out->vcpus) < 0)
			return fail(out, err, errlen, "--vcpus needs a number from 1 to "
				    "%d, not '%s'", TEMPLATE_VCPUS_MAX, v);
		return 0;
	case O_DISK:
	case O_SWAP:
		if (size_parse(v, id == O_DISK ? &out->disk_bytes : &out->swap_bytes,
			       why, sizeof(why)) < 0)
			return fail(out, err, errlen, "%s: %s", value_opts[id], why);
		return 0;
	case O_DESCRIPTION:
		if (strlen(v) >= TEMPLATE_DESC_MAX || strpbrk(v, "\"'\\\n") != NULL)
			return fail(out, err, errlen, "--description: at most %d "
				    "characters, no quote, backslash or newline",
				    TEMPLATE_DESC_MAX - 1);
		out->description = v;
		return 0;
	case O_ON:
		if (v[0] == '\0' || strlen(v) >= STATE_NAME_MAX)
			return fail(out, err, errlen, "--on needs a HOST");
		out->on = v;
		return 0;
	default:
		return -EINVAL;
	}
}

int
ctl_create_cli_parse(int argc, char *const argv[], struct create_args *out,
		     char *err, size_t errlen)
{
	const char *words[4], *iv;
	bool seen[O_N] = { false }, opts_end = false;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	/* the usage said with an error is that of the command named */
	out->usage = first_word_is_template(argc, argv) ? USAGE_TEMPLATE : USAGE_VM_CREATE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		enum opt_id id;

		if (!opts_end && strcmp(a, "--") == 0) {
			opts_end = true;
			continue;
		}
		if (opts_end || a[0] != '-' || a[1] == '\0') {
			if (n == sizeof(words) / sizeof(words[0]))
				return fail(out, err, errlen, "unexpected argument '%s'", a);
			words[n++] = a;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			out->json = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			out->help = true;
			continue;
		}
		if (strcmp(a, "--start") == 0) {
			out->start = true;
			continue;
		}
		id = value_opt(a, &iv);
		if (id == O_N)
			return fail(out, err, errlen, "unknown option '%s'", a);
		if (seen[id])
			return fail(out, err, errlen, "%s given twice", value_opts[id]);
		seen[id] = true;
		if (iv == NULL) {
			if (i + 1 >= argc)
				return fail(out, err, errlen, "%s needs a value", value_opts[id]);
			iv = argv[++i];
		}
		r = set_value(out, id, iv, err, errlen);
		if (r < 0)
			return r;
	}
	if (n >= 2 && strcmp(words[0], "vm") == 0 && strcmp(words[1], "create") == 0) {
		out->cmd = CREATE_CMD_VM_CREATE;
		out->usage = USAGE_VM_CREATE;
		if (out->help)
			return 0;
		if (n < 3 || words[2][0] == '\0')
			return fail(out, err, errlen, "vm create: missing NAME");
		if (n > 3)
			return fail(out, err, errlen, "unexpected argument '%s'", words[3]);
		if (strlen(words[2]) >= STATE_NAME_MAX)
			return fail(out, err, errlen, "VM name longer than %d characters",
				    STATE_NAME_MAX - 1);
		out->name = words[2];
		if (out->tmpl == NULL)
			return fail(out, err, errlen, "vm create: missing --template T "
				    "(agentctl template list shows them)");
		if (out->on != NULL && !out->start)
			return fail(out, err, errlen, "--on is for --start");
		if (out->ip == NULL && (out->netmask || out->gateway))
			return fail(out, err, errlen, "--%s without --ip (no --ip: DHCP)",
				    out->netmask ? "netmask" : "gateway");
		return 0;
	}
	if (n >= 1 && strcmp(words[0], "template") == 0) {
		for (int i = 0; i < O_N; i++)
			if (seen[i])
				return fail(out, err, errlen, "%s is only for vm create",
					    value_opts[i]);
		if (out->start)
			return fail(out, err, errlen, "--start is only for vm create");
		if (out->help)
			return 0;
		if (n < 2)
			return fail(out, err, errlen, "template: missing subcommand (list "
				    "or show)");
		if (strcmp(words[1], "list") == 0) {
			out->cmd = CREATE_CMD_TEMPLATE_LIST;
			if (n > 2)
				return fail(out, err, errlen, "unexpected argument '%s'",
					    words[2]);
			return 0;
		}
		if (strcmp(words[1], "show") != 0)
			return fail(out, err, errlen, "template: unknown subcommand '%s' "
				    "(list or show)", words[1]);
		out->cmd = CREATE_CMD_TEMPLATE_SHOW;
		if (n < 3)
			return fail(out, err, errlen, "template show: missing TEMPLATE");
		if (n > 3)
			return fail(out, err, errlen, "unexpected argument '%s'", words[3]);
		out->name = words[2];
		return 0;
	}
	return fail(out, err, errlen, "not a vm create or template command");
}

static int
run(struct ctl_conn *cc, const struct create_args *ca)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	Xenmesh__VmCreateSpec sp = XENMESH__VM_CREATE_SPEC__INIT;
	Xenmesh__CtlResponse *resp;
	struct ctl_args args = { .json = ca->json };
	char *argv[2];
	int status;

	req.args = argv;
	if (ca->cmd == CREATE_CMD_VM_CREATE) {
		args.name = "vm create";
		req.command = XENMESH__CTL_COMMAND__CTL_VM_CREATE;
		argv[0] = (char *)ca->name;
		req.n_args = 1;
		sp.template_ = (char *)ca->tmpl;
		sp.ip = (char *)ca->ip;
		sp.netmask = (char *)ca->netmask;
		sp.gateway = (char *)ca->gateway;
		sp.nameserver = (char *)ca->nameserver;
		sp.mac = (char *)ca->mac;
		sp.description = (char *)ca->description;
		sp.on = (char *)ca->on;
		sp.has_memory_mb = ca->memory_mb != 0;
		sp.memory_mb = ca->memory_mb;
		sp.has_vcpus = ca->vcpus != 0;
		sp.vcpus = ca->vcpus;
		sp.has_disk_bytes = ca->disk_bytes != 0;
		sp.disk_bytes = ca->disk_bytes;
		sp.has_swap_bytes = ca->swap_bytes != 0;
		sp.swap_bytes = ca->swap_bytes;
		sp.has_start = ca->start;
		sp.start = ca->start;
		req.create = &sp;
		return ctl_client_mutation(cc, &args, &req, CREATE_TIMEOUT_MS, NULL);
	}
	args.name = ca->cmd == CREATE_CMD_TEMPLATE_LIST ? "template list" : "template show";
	req.command = XENMESH__CTL_COMMAND__CTL_TEMPLATE;
	argv[0] = ca->cmd == CREATE_CMD_TEMPLATE_LIST ? "list" : "show";
	argv[1] = (char *)ca->name;
	req.n_args = ca->cmd == CREATE_CMD_TEMPLATE_LIST ? 1 : 2;
	req.has_json = ca->json;
	req.json = ca->json;
	status = ctl_client_read(cc, &args, &req, &resp);
	if (status != CTL_EXIT_OK)
		return status;
	if (resp->message != NULL) {
		size_t len = strlen(resp->message);

		fputs(resp->message, stdout);
		if (len == 0 || resp->message[len - 1] != '\n')
			putchar('\n');
	}
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

int
ctl_create_cli_main(int argc, char *const argv[])
{
	struct create_args ca;
	struct ctl_conn cc;
	char err[256];
	int rc, status;

	if (ctl_create_cli_parse(argc, argv, &ca, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentctl: %s\n%s\n", err, ca.usage);
		return CTL_EXIT_USAGE;
	}
	if (ca.help) {
		printf("%s\n", ca.usage);
		return CTL_EXIT_OK;
	}
	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		fprintf(stderr, "agentctl: cannot reach xenmeshd (is it running?): %s\n",
			strerror(-rc));
		return rc == -EACCES || rc == -EPERM ? CTL_EXIT_DENIED : CTL_EXIT_UNREACHABLE;
	}
	status = run(&cc, &ca);
	ctl_conn_close(&cc);
	return status;
}
