/* Unit tests of agent/ctl_args.c: agentctl's command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_args.h"

#define ARGV_MAX 16

/* Parses "agentctl" followed by the words given (NULL-terminated). */
static int
parse(struct ctl_args *a, char *err, size_t errlen, ...)
{
	char *argv[ARGV_MAX + 1];
	int argc = 0;
	va_list ap;
	char *w;

	argv[argc++] = (char *)"agentctl";
	va_start(ap, errlen);
	while ((w = va_arg(ap, char *)) != NULL && argc < ARGV_MAX)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	return ctl_args_parse(argc, argv, a, err, errlen);
}

#define expect_usage_error(msg, usage_prefix, ...) do { \
	struct ctl_args a_; \
	char err_[256]; \
	assert_int_equal(parse(&a_, err_, sizeof(err_), __VA_ARGS__, NULL), \
			 -EINVAL); \
	assert_string_equal(err_, msg); \
	assert_non_null(a_.usage); \
	assert_true(strncmp(a_.usage, usage_prefix, strlen(usage_prefix)) == 0); \
} while (0)

static void
test_missing_command(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "missing command");
	assert_true(strncmp(a.usage, "usage: agentctl [--json]", 24) == 0);
	/* options alone are no command either */
	expect_usage_error("missing command", "usage: agentctl [--json]",
			   "--json");
}

static void
test_unknown_command(void **state)
{
	expect_usage_error("unknown command 'frobnicate'",
			   "usage: agentctl [--json]", "frobnicate");
	expect_usage_error("unknown command 'Status'",
			   "usage: agentctl [--json]", "Status");
	expect_usage_error("node: missing subcommand (list, maintenance, standby, "
			   "fence, drain, undrain, prepare-shutdown, "
			   "confirm-down, add or forget)",
			   "usage: agentctl node list|maintenance|standby", "node");
	expect_usage_error("node: unknown subcommand 'evacuate'",
			   "usage: agentctl node list|maintenance|standby",
			   "node", "evacuate", "h1");
	expect_usage_error("cluster: missing subcommand (maintenance)",
			   "usage: agentctl cluster maintenance on|off", "cluster");
	expect_usage_error("cluster: unknown subcommand 'freeze'",
			   "usage: agentctl cluster maintenance on|off",
			   "cluster", "freeze");
}

static void
test_missing_node(void **state)
{
	expect_usage_error("node maintenance: missing NODE",
			   "usage: agentctl node maintenance NODE on|off",
			   "node", "maintenance");
	expect_usage_error("node standby: missing NODE",
			   "usage: agentctl node standby NODE on|off",
			   "node", "standby");
	expect_usage_error("node standby: empty NODE name",
			   "usage: agentctl node standby NODE on|off",
			   "node", "standby", "", "on");
	expect_usage_error("node standby: NODE name longer than 63 characters",
			   "usage: agentctl node standby NODE on|off",
			   "node", "standby",
			   "a123456789b123456789c123456789d123456789e123456789f123456789xyzw",
			   "on");
}

static void
test_bad_onoff(void **state)
{
	expect_usage_error("node maintenance: missing on|off",
			   "usage: agentctl node maintenance NODE on|off",
			   "node", "maintenance", "h1");
	expect_usage_error("node maintenance: expected on or off, not 'yes'",
			   "usage: agentctl node maintenance NODE on|off",
			   "node", "maintenance", "h1", "yes");
	expect_usage_error("node standby: expected on or off, not 'ON'",
			   "usage: agentctl node standby NODE on|off",
			   "node", "standby", "h1", "ON");
}

static void
test_unknown_flag(void **state)
{
	expect_usage_error("unknown option '--frob'",
			   "usage: agentctl [--json]", "--frob");
	expect_usage_error("status: unknown option '--frob'",
			   "usage: agentctl status [--json]", "status", "--frob");
	expect_usage_error("node list: unknown option '-x'",
			   "usage: agentctl node list [--json]",
			   "node", "-x", "list");
	expect_usage_error("status: --follow is only for events",
			   "usage: agentctl status [--json]", "status", "--follow");
	expect_usage_error("node list: --count is only for events",
			   "usage: agentctl node list [--json]",
			   "node", "list", "--count", "3");
	/* the command word is checked before the options */
	expect_usage_error("unknown command 'foo'",
			   "usage: agentctl [--json]", "foo", "--frob");
}

static void
test_extra_args(void **state)
{
	expect_usage_error("status: unexpected argument 'now'",
			   "usage: agentctl status [--json]", "status", "now");
	expect_usage_error("events: unexpected argument 'all'",
			   "usage: agentctl events [--follow]", "events", "all");
	expect_usage_error("node list: unexpected argument 'h1'",
			   "usage: agentctl node list [--json]",
			   "node", "list", "h1");
	expect_usage_error("node maintenance: unexpected argument 'please'",
			   "usage: agentctl node maintenance NODE on|off",
			   "node", "maintenance", "h1", "on", "please");
	expect_usage_error("status: unexpected argument 'a'",
			   "usage: agentctl status [--json]", "status",
			   "a", "b", "c", "d", "e", "f", "g", "h");
}

static void
test_bad_count(void **state)
{
	const char *usage = "usage: agentctl events [--follow] [--json] [--count N]";

	expect_usage_error("events: --count needs a number", usage,
			   "events", "--count");
	expect_usage_error("events: --count needs a positive number, not 'ten'",
			   usage, "events", "--count", "ten");
	expect_usage_error("events: --count needs a positive number, not '0'",
			   usage, "events", "--count", "0");
	expect_usage_error("events: --count needs a positive number, not '-5'",
			   usage, "events", "--count", "-5");
	expect_usage_error("events: --count needs a positive number, not '+5'",
			   usage, "events", "--count=+5");
	expect_usage_error("events: --count needs a positive number, not '5x'",
			   usage, "events", "--count=5x");
	expect_usage_error("events: --count needs a positive number, not ''",
			   usage, "events", "--count=");
	expect_usage_error("events: --count needs a positive number, "
			   "not '99999999999999999999999'",
			   usage, "events", "--count", "99999999999999999999999");
}

static void
test_truncated_error(void **state)
{
	struct ctl_args a;
	char err[8];

	/* a short buffer is cut, never overrun */
	assert_int_equal(parse(&a, err, sizeof(err), "frobnicate", NULL),
			 -EINVAL);
	assert_string_equal(err, "unknown");
}

static void
test_help_and_version(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), "--help", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_null(a.name);
	assert_non_null(strstr(ctl_args_help(), "node maintenance NODE on|off"));

	/* help wins over a usage error and names the command's usage */
	assert_int_equal(parse(&a, err, sizeof(err), "node", "maintenance",
			       "-h", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_string_equal(a.name, "node maintenance");
	assert_string_equal(a.usage, "usage: agentctl node maintenance NODE on|off");

	assert_int_equal(parse(&a, err, sizeof(err), "bogus", "--help", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_null(a.name);

	assert_int_equal(parse(&a, err, sizeof(err), "--version", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VERSION);
}

static void
test_status(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), "status", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_STATUS);
	assert_false(a.json);
	assert_string_equal(a.name, "status");

	assert_int_equal(parse(&a, err, sizeof(err), "--json", "status", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_STATUS);
	assert_true(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "status", "--json", NULL), 0);
	assert_true(a.json);
	assert_string_equal(err, "");
}

static void
test_events(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), "events", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_EVENTS);
	assert_false(a.follow);
	assert_int_equal(a.count, 0);

	assert_int_equal(parse(&a, err, sizeof(err), "events", "--follow",
			       "--json", "--count", "20", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_EVENTS);
	assert_true(a.follow);
	assert_true(a.json);
	assert_int_equal(a.count, 20);

	assert_int_equal(parse(&a, err, sizeof(err), "events", "--count=5", NULL), 0);
	assert_int_equal(a.count, 5);
	assert_int_equal(parse(&a, err, sizeof(err), "events", "-f", "-n", "7",
			       NULL), 0);
	assert_true(a.follow);
	assert_int_equal(a.count, 7);
}

static void
test_node(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), "node", "list", "--json",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_LIST);
	assert_true(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "node", "maintenance",
			       "h1", "on", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_FLAG);
	assert_string_equal(a.node, "h1");
	assert_string_equal(a.flag, "maintenance");
	assert_true(a.on);
	assert_string_equal(a.name, "node maintenance");

	assert_int_equal(parse(&a, err, sizeof(err), "node", "standby",
			       "san-2", "off", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_FLAG);
	assert_string_equal(a.node, "san-2");
	assert_string_equal(a.flag, "standby");
	assert_false(a.on);

	/* "--" lets a node name start with a dash */
	assert_int_equal(parse(&a, err, sizeof(err), "node", "standby", "--",
			       "-odd", "on", NULL), 0);
	assert_string_equal(a.node, "-odd");
	assert_true(a.on);
}

static void
test_vm_usage(void **state)
{
	const char *long_name =
		"a123456789b123456789c123456789d123456789e123456789f123456789xyzw";

	expect_usage_error("vm: missing subcommand (list, show, define, undefine, "
			   "start, stop, restart, cleanup, migrate, "
			   "reset-state, save or resume)",
			   "usage: agentctl vm list|show|define|undefine|start|"
			   "stop|restart|cleanup|migrate|reset-state|save|resume ...",
			   "vm");
	expect_usage_error("vm: unknown subcommand 'move'",
			   "usage: agentctl vm list|show", "vm", "move", "web1");
	expect_usage_error("vm: unknown subcommand 'Start'",
			   "usage: agentctl vm list|show", "vm", "Start", "web1");
	expect_usage_error("vm show: missing VM",
			   "usage: agentctl vm show VM [--json]", "vm", "show");
	expect_usage_error("vm undefine: missing VM",
			   "usage: agentctl vm undefine VM", "vm", "undefine");
	expect_usage_error("vm start: missing VM",
			   "usage: agentctl vm start VM [--on HOST] [--fresh]",
			   "vm", "start", "--on", "h1");
	expect_usage_error("vm start: empty VM name",
			   "usage: agentctl vm start VM [--on HOST] [--fresh]",
			   "vm", "start", "");
	expect_usage_error("vm stop: VM name longer than 63 characters",
			   "usage: agentctl vm stop VM", "vm", "stop", long_name);
	expect_usage_error("vm define: missing FILE",
			   "usage: agentctl vm define FILE.cfg", "vm", "define");
	expect_usage_error("vm define: empty FILE name",
			   "usage: agentctl vm define FILE.cfg", "vm", "define", "");
	expect_usage_error("vm start: --on needs a HOST",
			   "usage: agentctl vm start VM [--on HOST] [--fresh]",
			   "vm", "start", "web1", "--on");
	expect_usage_error("vm start: empty HOST name",
			   "usage: agentctl vm start VM [--on HOST] [--fresh]",
			   "vm", "start", "web1", "--on=");
	expect_usage_error("vm start: HOST name longer than 63 characters",
			   "usage: agentctl vm start VM [--on HOST] [--fresh]",
			   "vm", "start", "web1", "--on", long_name);
	expect_usage_error("vm stop: --on is only for vm start and vm resume",
			   "usage: agentctl vm stop VM",
			   "vm", "stop", "web1", "--on", "h1");
	expect_usage_error("vm restart: --on is only for vm start and vm resume",
			   "usage: agentctl vm restart VM",
			   "vm", "restart", "--on=h1", "web1");
	expect_usage_error("status: --on is only for vm start and vm resume",
			   "usage: agentctl status [--json]", "status", "--on", "h1");
	expect_usage_error("vm cleanup: --follow is only for events",
			   "usage: agentctl vm cleanup VM",
			   "vm", "cleanup", "--follow", "web1");
	expect_usage_error("vm list: unexpected argument 'web1'",
			   "usage: agentctl vm list [--json]", "vm", "list", "web1");
	expect_usage_error("vm restart: unexpected argument 'web2'",
			   "usage: agentctl vm restart VM",
			   "vm", "restart", "web1", "web2");
	/* the host is an option, never a second word */
	expect_usage_error("vm start: unexpected argument 'h2'",
			   "usage: agentctl vm start VM [--on HOST] [--fresh]",
			   "vm", "start", "web1", "h2");
	expect_usage_error("vm define: unexpected argument 'b.cfg'",
			   "usage: agentctl vm define FILE.cfg",
			   "vm", "define", "a.cfg", "b.cfg");
	expect_usage_error("vm show: unknown option '--all'",
			   "usage: agentctl vm show VM [--json]",
			   "vm", "show", "web1", "--all");
}

static void
test_vm(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "list", "--json",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_LIST);
	assert_true(a.json);
	assert_null(a.vm);
	assert_string_equal(a.name, "vm list");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "show", "web1", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_SHOW);
	assert_string_equal(a.vm, "web1");
	assert_false(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "--json", "vm", "show",
			       "db", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_SHOW);
	assert_string_equal(a.vm, "db");
	assert_true(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "define",
			       "/etc/xen/web1.cfg", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_DEFINE);
	assert_string_equal(a.file, "/etc/xen/web1.cfg");
	assert_null(a.vm);
	assert_string_equal(a.name, "vm define");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "undefine", "web1",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_UNDEFINE);
	assert_string_equal(a.vm, "web1");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "start", "web1", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_START);
	assert_string_equal(a.vm, "web1");
	assert_null(a.host);

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "start", "web1",
			       "--on", "h2", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_START);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.host, "h2");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "--on=h3", "start",
			       "web1", NULL), 0);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.host, "h3");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "stop", "web1", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_STOP);
	assert_string_equal(a.vm, "web1");
	assert_false(a.fresh);

	/* save images */
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "start", "web1",
			       "--fresh", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_START);
	assert_true(a.fresh);
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "save", "web1", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_SAVE);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.name, "vm save");
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "resume", "web1",
			       "--on", "h2", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_RESUME);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.host, "h2");
	expect_usage_error("vm save: --on is only for vm start and vm resume",
			   "usage: agentctl vm save VM", "vm", "save", "web1", "--on",
			   "h2");
	expect_usage_error("vm resume: --fresh is only for vm start",
			   "usage: agentctl vm resume VM", "vm", "resume", "web1",
			   "--fresh");
	expect_usage_error("vm save: missing VM", "usage: agentctl vm save VM",
			   "vm", "save");
	expect_usage_error("vm resume: unexpected argument 'h2'",
			   "usage: agentctl vm resume", "vm", "resume", "web1", "h2");

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "restart", "web1",
			       "--json", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_RESTART);
	assert_string_equal(a.vm, "web1");
	assert_true(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "cleanup", "web1", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_CLEANUP);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.name, "vm cleanup");
	assert_string_equal(err, "");

	/* "--" lets a VM name start with a dash */
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "stop", "--", "-odd",
			       NULL), 0);
	assert_string_equal(a.vm, "-odd");

	/* help of one subcommand */
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "start", "--help",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_string_equal(a.name, "vm start");
	assert_string_equal(a.usage, "usage: agentctl vm start VM [--on HOST] [--fresh]");
	assert_non_null(strstr(ctl_args_help(), "\n  vm start VM [--on HOST] "));
	assert_non_null(strstr(ctl_args_help(), "\n  vm define FILE.cfg "));
}

static void
test_fence_usage(void **state)
{
	const char *long_name =
		"a123456789b123456789c123456789d123456789e123456789f123456789xyzw";

	expect_usage_error("fence: missing subcommand (config or history)",
			   "usage: agentctl fence config|history", "fence");
	expect_usage_error("fence: unknown subcommand 'node'",
			   "usage: agentctl fence config|history", "fence", "node");
	expect_usage_error("fence config: unknown action 'show' (set or clear)",
			   "usage: agentctl fence config [--show-secrets]",
			   "fence", "config", "show");
	expect_usage_error("fence config set: missing FILE",
			   "usage: agentctl fence config set FILE",
			   "fence", "config", "set");
	expect_usage_error("fence config set: empty FILE name",
			   "usage: agentctl fence config set FILE",
			   "fence", "config", "set", "");
	expect_usage_error("fence config set: unexpected argument 'b.conf'",
			   "usage: agentctl fence config set FILE",
			   "fence", "config", "set", "a.conf", "b.conf");
	expect_usage_error("fence config clear: unexpected argument 'all'",
			   "usage: agentctl fence config clear",
			   "fence", "config", "clear", "all");
	expect_usage_error("fence history: unexpected argument 'h2'",
			   "usage: agentctl fence history [--json]",
			   "fence", "history", "h2");
	expect_usage_error("fence config set: --show-secrets is only for "
			   "fence config", "usage: agentctl fence config set FILE",
			   "fence", "config", "set", "f", "--show-secrets");
	expect_usage_error("fence history: --show-secrets is only for "
			   "fence config", "usage: agentctl fence history",
			   "fence", "history", "--show-secrets");
	expect_usage_error("fence config: --yes is only for node fence",
			   "usage: agentctl fence config", "fence", "config",
			   "--yes");
	expect_usage_error("status: --yes is only for node fence",
			   "usage: agentctl status", "status", "--yes");
	expect_usage_error("node fence: missing HOST",
			   "usage: agentctl node fence HOST [--yes]",
			   "node", "fence", "--yes");
	expect_usage_error("node fence: empty HOST name",
			   "usage: agentctl node fence HOST [--yes]",
			   "node", "fence", "");
	expect_usage_error("node fence: HOST name longer than 63 characters",
			   "usage: agentctl node fence HOST [--yes]",
			   "node", "fence", long_name);
	expect_usage_error("node fence: unexpected argument 'now'",
			   "usage: agentctl node fence HOST [--yes]",
			   "node", "fence", "h2", "now");
	expect_usage_error("node fence: --on is only for vm start and vm resume",
			   "usage: agentctl node fence HOST [--yes]",
			   "node", "fence", "h2", "--on", "h3");
	expect_usage_error("node fence: --count is only for events",
			   "usage: agentctl node fence HOST [--yes]",
			   "node", "fence", "h2", "--count", "2");
}

static void
test_fence(void **state)
{
	struct ctl_args a;
	char err[256];

	assert_int_equal(parse(&a, err, sizeof(err), "fence", "config", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_FENCE_CONFIG);
	assert_string_equal(a.name, "fence config");
	assert_false(a.show_secrets);
	assert_false(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "--show-secrets", "fence",
			       "config", "--json", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_FENCE_CONFIG);
	assert_true(a.show_secrets);
	assert_true(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "fence", "config", "set",
			       "/etc/xenmesh/fence.conf", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_FENCE_CONFIG_SET);
	assert_string_equal(a.name, "fence config set");
	assert_string_equal(a.file, "/etc/xenmesh/fence.conf");

	/* a file named like an option after "--" */
	assert_int_equal(parse(&a, err, sizeof(err), "fence", "config", "set",
			       "--", "-f.conf", NULL), 0);
	assert_string_equal(a.file, "-f.conf");

	assert_int_equal(parse(&a, err, sizeof(err), "fence", "config", "clear",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_FENCE_CONFIG_CLEAR);
	assert_null(a.file);

	assert_int_equal(parse(&a, err, sizeof(err), "fence", "history",
			       "--json", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_FENCE_HISTORY);
	assert_string_equal(a.name, "fence history");
	assert_true(a.json);

	assert_int_equal(parse(&a, err, sizeof(err), "node", "fence", "h2",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_FENCE);
	assert_string_equal(a.name, "node fence");
	assert_string_equal(a.node, "h2");
	assert_false(a.yes);

	assert_int_equal(parse(&a, err, sizeof(err), "--yes", "node", "fence",
			       "h2", NULL), 0);
	assert_true(a.yes);
	assert_string_equal(a.node, "h2");

	assert_int_equal(parse(&a, err, sizeof(err), "fence", "config", "set",
			       "--help", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_string_equal(a.usage, "usage: agentctl fence config set FILE");
	assert_non_null(strstr(ctl_args_help(), "\n  node fence HOST --yes "));
	assert_non_null(strstr(ctl_args_help(), "\n  fence history [--json] "));
}

/* metrics, log-level LEVEL (agent/ctl_admin.c answers them). */
static void
test_admin(void **state)
{
	struct ctl_args a;
	char err[256];

	expect_usage_error("log-level: missing LEVEL",
			   "usage: agentctl log-level error|", "log-level");
	expect_usage_error("log-level: unknown level 'verbose' (error, warning, "
			   "notice, info or debug)", "usage: agentctl log-level",
			   "log-level", "verbose");
	expect_usage_error("log-level: unexpected argument 'now'",
			   "usage: agentctl log-level", "log-level", "info", "now");
	expect_usage_error("metrics: unexpected argument 'all'",
			   "usage: agentctl metrics", "metrics", "all");
	expect_usage_error("metrics: --follow is only for events",
			   "usage: agentctl metrics", "metrics", "--follow");

	assert_int_equal(parse(&a, err, sizeof(err), "metrics", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_METRICS);
	assert_string_equal(a.name, "metrics");
	assert_int_equal(parse(&a, err, sizeof(err), "log-level", "debug", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_LOG_LEVEL);
	assert_string_equal(a.level, "debug");
	assert_int_equal(parse(&a, err, sizeof(err), "log-level", "--help", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_string_equal(a.usage,
			    "usage: agentctl log-level error|warning|notice|info|debug");
	assert_non_null(strstr(ctl_args_help(), "\n  metrics "));
	assert_non_null(strstr(ctl_args_help(), "\n  log-level LEVEL "));
}

static void
test_storage(void **state)
{
	struct ctl_args a;
	char err[256];

	(void)state;
	expect_usage_error("volume: missing subcommand (create, list or remove)",
			   "usage: agentctl volume create|list|remove", "volume");
	expect_usage_error("volume: unknown subcommand 'grow'",
			   "usage: agentctl volume", "volume", "grow");
	expect_usage_error("storage: missing subcommand (status)",
			   "usage: agentctl storage status", "storage");
	expect_usage_error("volume create: missing VM",
			   "usage: agentctl volume create VM DISK SIZE", "volume", "create");
	expect_usage_error("volume create: missing SIZE (e.g. 10G)",
			   "usage: agentctl volume create", "volume", "create", "vm1", "root");
	expect_usage_error("volume create: cannot read size '12Q': expected a number "
			   "with K, M, G or T", "usage: agentctl volume create",
			   "volume", "create", "vm1", "root", "12Q");
	expect_usage_error("volume create: disk name Root: only lowercase letters, "
			   "digits and '_' (e.g. root, swap, data1)",
			   "usage: agentctl volume create", "volume", "create", "vm1",
			   "Root", "1G");
	expect_usage_error("volume create: unexpected argument 'now'",
			   "usage: agentctl volume create", "volume", "create", "vm1",
			   "root", "1G", "now");
	expect_usage_error("volume remove: missing VOLUME",
			   "usage: agentctl volume remove VOLUME", "volume", "remove");
	expect_usage_error("storage status: --follow is only for events",
			   "usage: agentctl storage status", "storage", "status", "--follow");

	assert_int_equal(parse(&a, err, sizeof(err), "volume", "create", "web1",
			       "root", "10G", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VOLUME_CREATE);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.disk, "root");
	assert_int_equal(a.size, 10ULL << 30);
	assert_int_equal(parse(&a, err, sizeof(err), "volume", "remove", "web1-root",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VOLUME_REMOVE);
	assert_string_equal(a.volume, "web1-root");
	assert_int_equal(parse(&a, err, sizeof(err), "--json", "volume", "list", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VOLUME_LIST);
	assert_true(a.json);
	assert_int_equal(parse(&a, err, sizeof(err), "storage", "status", "--json",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_STORAGE_STATUS);
	assert_non_null(strstr(ctl_args_help(), "\n  volume create VM DISK SIZE "));
	assert_non_null(strstr(ctl_args_help(), "\n  storage status [--json] "));
}

/* vm migrate, node drain, node undrain, cluster maintenance: bad
 * arguments first. */
static void
test_maint_usage(void **state)
{
	const char *migrate = "usage: agentctl vm migrate VM HOST [--offline] "
		"[--wait] [--timeout S]";
	const char *drain = "usage: agentctl node drain HOST [--dry-run] "
		"[--parallel N] [--force] [--wait] [--timeout S] [--json]";
	const char *undrain = "usage: agentctl node undrain HOST [--rebalance]";
	const char *cluster = "usage: agentctl cluster maintenance on|off";

	(void)state;
	expect_usage_error("vm migrate: missing VM", migrate, "vm", "migrate");
	expect_usage_error("vm migrate: missing HOST", migrate, "vm", "migrate",
			   "web1");
	expect_usage_error("vm migrate: missing HOST", migrate, "vm", "migrate",
			   "web1", "--offline", "--wait");
	expect_usage_error("vm migrate: empty HOST name", migrate, "vm", "migrate",
			   "web1", "");
	expect_usage_error("vm migrate: unexpected argument 'h3'", migrate, "vm",
			   "migrate", "web1", "h2", "h3");
	expect_usage_error("vm migrate: --on is only for vm start and vm resume",
			   migrate, "vm", "migrate", "web1", "--on", "h2");
	expect_usage_error("vm migrate: --force is only for node drain", migrate,
			   "vm", "migrate", "web1", "h2", "--force");
	expect_usage_error("vm migrate: unknown option '--live'", migrate, "vm",
			   "migrate", "web1", "h2", "--live");
	expect_usage_error("vm migrate: --timeout is for --wait", migrate, "vm",
			   "migrate", "web1", "h2", "--timeout", "60");
	expect_usage_error("vm migrate: --timeout needs a number of seconds",
			   migrate, "vm", "migrate", "web1", "h2", "--wait",
			   "--timeout");
	expect_usage_error("vm migrate: --timeout needs a number of seconds from "
			   "1 to 86400, not '0'", migrate, "vm", "migrate", "web1",
			   "h2", "--wait", "--timeout=0");
	expect_usage_error("vm migrate: --timeout needs a number of seconds from "
			   "1 to 86400, not '1m'", migrate, "vm", "migrate", "web1",
			   "h2", "--wait", "--timeout", "1m");
	expect_usage_error("vm migrate: --timeout needs a number of seconds from "
			   "1 to 86400, not '86401'", migrate, "vm", "migrate",
			   "web1", "h2", "--wait", "--timeout", "86401");
	expect_usage_error("vm start: --offline is only for vm migrate",
			   "usage: agentctl vm start", "vm", "start", "web1",
			   "--offline");
	expect_usage_error("vm stop: --wait is only for vm migrate and node drain",
			   "usage: agentctl vm stop", "vm", "stop", "web1", "--wait");
	expect_usage_error("status: --timeout is only for vm migrate, node drain "
			   "and node prepare-shutdown", "usage: agentctl status", "status", "--timeout",
			   "5");

	expect_usage_error("node drain: missing HOST", drain, "node", "drain");
	expect_usage_error("node drain: missing HOST", drain, "node", "drain",
			   "--parallel", "2", "--force");
	expect_usage_error("node drain: empty HOST name", drain, "node", "drain", "");
	expect_usage_error("node drain: unexpected argument 'h2'", drain, "node",
			   "drain", "h1", "h2");
	expect_usage_error("node drain: --parallel needs a number", drain, "node",
			   "drain", "h1", "--parallel");
	expect_usage_error("node drain: --parallel needs a number from 1 to 64, "
			   "not '0'", drain, "node", "drain", "h1", "--parallel", "0");
	expect_usage_error("node drain: --parallel needs a number from 1 to 64, "
			   "not '65'", drain, "node", "drain", "h1", "--parallel", "65");
	expect_usage_error("node drain: --parallel needs a number from 1 to 64, "
			   "not 'abc'", drain, "node", "drain", "h1", "--parallel=abc");
	expect_usage_error("node drain: --parallel needs a number from 1 to 64, "
			   "not '-2'", drain, "node", "drain", "h1", "--parallel", "-2");
	expect_usage_error("node drain: --dry-run only shows the plan: there is "
			   "nothing to --wait for", drain, "node", "drain", "h1",
			   "--dry-run", "--wait");
	expect_usage_error("node drain: --offline is only for vm migrate", drain,
			   "node", "drain", "h1", "--offline");
	expect_usage_error("node drain: --rebalance is only for node undrain",
			   drain, "node", "drain", "h1", "--rebalance");
	expect_usage_error("node drain: unknown option '--now'", drain, "node",
			   "drain", "h1", "--now");
	expect_usage_error("node fence: --force is only for node drain",
			   "usage: agentctl node fence", "node", "fence", "h1",
			   "--force");
	expect_usage_error("node list: --dry-run is only for node drain",
			   "usage: agentctl node list", "node", "list", "--dry-run");
	expect_usage_error("node maintenance: --parallel is only for node drain",
			   "usage: agentctl node maintenance", "node", "maintenance",
			   "h1", "on", "--parallel", "2");

	expect_usage_error("node undrain: missing HOST", undrain, "node", "undrain");
	expect_usage_error("node undrain: unexpected argument 'now'", undrain,
			   "node", "undrain", "h1", "now");
	expect_usage_error("node undrain: --wait is only for vm migrate and node "
			   "drain", undrain, "node", "undrain", "h1", "--wait");
	expect_usage_error("node undrain: --force is only for node drain", undrain,
			   "node", "undrain", "h1", "--force");

	expect_usage_error("cluster maintenance: missing on|off", cluster,
			   "cluster", "maintenance");
	expect_usage_error("cluster maintenance: expected on or off, not 'maybe'",
			   cluster, "cluster", "maintenance", "maybe");
	expect_usage_error("cluster maintenance: unexpected argument 'now'",
			   cluster, "cluster", "maintenance", "on", "now");
	expect_usage_error("cluster maintenance: --force is only for node drain",
			   cluster, "cluster", "maintenance", "on", "--force");

	expect_usage_error("node prepare-shutdown: unexpected argument 'h1'",
			   "usage: agentctl node prepare-shutdown", "node",
			   "prepare-shutdown", "h1");
	expect_usage_error("node prepare-shutdown: --timeout needs a number of "
			   "seconds from 1 to 86400, not '0'",
			   "usage: agentctl node prepare-shutdown", "node",
			   "prepare-shutdown", "--timeout", "0");
	expect_usage_error("node drain: --if-system-stopping is only for node "
			   "prepare-shutdown", "usage: agentctl node drain", "node",
			   "drain", "h1", "--if-system-stopping");
}

static void
test_maint(void **state)
{
	struct ctl_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), "node", "prepare-shutdown",
			       "--if-system-stopping", "--timeout", "600", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_PREPARE_SHUTDOWN);
	assert_true(a.if_stopping);
	assert_int_equal(a.timeout_s, 600);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "prepare-shutdown",
			       NULL), 0);
	assert_false(a.if_stopping);
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "migrate", "web1", "h2",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_MIGRATE);
	assert_string_equal(a.name, "vm migrate");
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.host, "h2");
	assert_false(a.offline);
	assert_false(a.wait);
	assert_int_equal(a.timeout_s, 0);

	assert_int_equal(parse(&a, err, sizeof(err), "vm", "migrate", "--offline",
			       "web1", "h2", "--wait", "--timeout", "90", "--json",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_VM_MIGRATE);
	assert_string_equal(a.vm, "web1");
	assert_string_equal(a.host, "h2");
	assert_true(a.offline);
	assert_true(a.wait);
	assert_true(a.json);
	assert_int_equal(a.timeout_s, 90);
	assert_int_equal(parse(&a, err, sizeof(err), "vm", "migrate", "web1", "h2",
			       "--wait", "--timeout=86400", NULL), 0);
	assert_int_equal(a.timeout_s, 86400);

	assert_int_equal(parse(&a, err, sizeof(err), "node", "drain", "h1", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_DRAIN);
	assert_string_equal(a.name, "node drain");
	assert_string_equal(a.node, "h1");
	assert_int_equal(a.parallel, 1);
	assert_false(a.parallel_seen);
	assert_false(a.force);
	assert_false(a.dry_run);
	assert_false(a.wait);

	assert_int_equal(parse(&a, err, sizeof(err), "node", "drain", "h1",
			       "--parallel", "64", "--force", "--wait",
			       "--timeout", "3600", "--json", NULL), 0);
	assert_int_equal(a.parallel, 64);
	assert_true(a.parallel_seen);
	assert_true(a.force);
	assert_true(a.wait);
	assert_true(a.json);
	assert_int_equal(a.timeout_s, 3600);

	assert_int_equal(parse(&a, err, sizeof(err), "--dry-run", "node", "drain",
			       "--parallel=2", "h1", NULL), 0);
	assert_true(a.dry_run);
	assert_int_equal(a.parallel, 2);
	assert_false(a.wait);

	assert_int_equal(parse(&a, err, sizeof(err), "node", "undrain", "h1", NULL),
			 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_UNDRAIN);
	assert_string_equal(a.name, "node undrain");
	assert_string_equal(a.node, "h1");
	assert_false(a.rebalance);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "undrain", "h1",
			       "--rebalance", NULL), 0);
	assert_true(a.rebalance);

	assert_int_equal(parse(&a, err, sizeof(err), "cluster", "maintenance", "on",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_CLUSTER_MAINTENANCE);
	assert_string_equal(a.name, "cluster maintenance");
	assert_true(a.on);
	assert_int_equal(parse(&a, err, sizeof(err), "cluster", "maintenance", "off",
			       NULL), 0);
	assert_false(a.on);
	assert_string_equal(err, "");

	/* help of each, and in the full help */
	assert_int_equal(parse(&a, err, sizeof(err), "node", "drain", "--help",
			       NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_string_equal(a.usage, "usage: agentctl node drain HOST [--dry-run] "
			    "[--parallel N] [--force] [--wait] [--timeout S] "
			    "[--json]");
	assert_int_equal(parse(&a, err, sizeof(err), "cluster", "maintenance",
			       "maybe", "-h", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_HELP);
	assert_string_equal(a.usage, "usage: agentctl cluster maintenance on|off");
	assert_non_null(strstr(ctl_args_help(), "\n  vm migrate VM HOST [--offline] "
			       "[--wait] [--timeout S]\n"));
	assert_non_null(strstr(ctl_args_help(), "\n  node drain HOST [--dry-run] "
			       "[--parallel N] [--force] [--wait] [--timeout S]\n"));
	assert_non_null(strstr(ctl_args_help(), "\n  node undrain HOST "
			       "[--rebalance] "));
	assert_non_null(strstr(ctl_args_help(), "\n  cluster maintenance on|off "));
}

static void
test_node_add_forget(void **state)
{
	struct ctl_args a;
	char err[256];

	(void)state;
	expect_usage_error("node add: missing NAME",
			   "usage: agentctl node add NAME ADDRESS", "node", "add");
	expect_usage_error("node add: missing ADDRESS (one per corosync link, "
			   "comma-separated)",
			   "usage: agentctl node add NAME ADDRESS", "node", "add", "h4");
	expect_usage_error("node add: --role needs dom0 or san",
			   "usage: agentctl node add NAME ADDRESS",
			   "node", "add", "h4", "10.0.0.4", "--role", "nas");
	expect_usage_error("node add: --id needs a node id from 1 to 65535, not '0'",
			   "usage: agentctl node add NAME ADDRESS",
			   "node", "add", "h4", "10.0.0.4", "--id", "0");
	expect_usage_error("node add: --id needs a node id from 1 to 65535, "
			   "not '65536'", "usage: agentctl node add NAME ADDRESS",
			   "node", "add", "h4", "10.0.0.4", "--id=65536");
	expect_usage_error("node add: unexpected argument 'x'",
			   "usage: agentctl node add NAME ADDRESS",
			   "node", "add", "h4", "10.0.0.4", "x");
	expect_usage_error("node forget: --print-config is only for node add",
			   "usage: agentctl node forget HOST",
			   "node", "forget", "h4", "--print-config");
	expect_usage_error("node drain: --role is only for node add",
			   "usage: agentctl node drain HOST", "node", "drain", "h4",
			   "--role", "san");
	expect_usage_error("node forget: missing HOST",
			   "usage: agentctl node forget HOST", "node", "forget");

	assert_int_equal(parse(&a, err, sizeof(err), "node", "add", "h4",
			       "10.0.0.4,10.1.0.4", "--role", "san", "--id", "9",
			       "--print-config", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_ADD);
	assert_string_equal(a.node, "h4");
	assert_string_equal(a.address, "10.0.0.4,10.1.0.4");
	assert_string_equal(a.role, "san");
	assert_int_equal(a.nodeid, 9);
	assert_true(a.print_config);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "add", "h4",
			       "10.0.0.4", NULL), 0);
	assert_null(a.role);
	assert_int_equal(a.nodeid, 0);
	assert_false(a.print_config);
	assert_int_equal(parse(&a, err, sizeof(err), "node", "forget", "h4", NULL), 0);
	assert_int_equal(a.cmd, CTL_CMD_NODE_FORGET);
	assert_string_equal(a.node, "h4");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_command),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_missing_node),
		cmocka_unit_test(test_bad_onoff),
		cmocka_unit_test(test_unknown_flag),
		cmocka_unit_test(test_extra_args),
		cmocka_unit_test(test_bad_count),
		cmocka_unit_test(test_truncated_error),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_vm_usage),
		cmocka_unit_test(test_vm),
		cmocka_unit_test(test_fence_usage),
		cmocka_unit_test(test_fence),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_maint_usage),
		cmocka_unit_test(test_maint),
		cmocka_unit_test(test_node_add_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
