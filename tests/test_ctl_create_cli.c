/* Tests of agent/ctl_create_cli.c: which command lines are vm create or
 * template, usage errors first (with their text), then what is parsed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_create_cli.h"

#define ARGV(...) ((char *const[]){ "agentctl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "agentctl", __VA_ARGS__ }) / sizeof(char *)))
#define WANTS(...) ctl_create_cli_wants(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void
bad(int argc, char *const argv[], const char *want, const char *usage)
{
	struct create_args a;
	char err[256];

	assert_int_equal(ctl_create_cli_parse(argc, argv, &a, err, sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("got '%s', want '%s'", err, want);
	assert_string_equal(a.usage, usage);
}
#define BAD(want, usage, ...) bad(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), want, usage)

static void
test_wants(void **state)
{
	(void)state;
	assert_true(WANTS("vm", "create", "web1"));
	assert_true(WANTS("--json", "vm", "create"));
	assert_true(WANTS("--template", "vm", "vm", "create"));
	assert_true(WANTS("template", "list"));
	assert_false(WANTS("vm", "define", "x.cfg"));
	assert_false(WANTS("vm", "start", "create"));
	assert_false(WANTS("--help"));
	assert_false(WANTS("volume", "create", "vm", "root", "1G"));
}

static void
test_usage_errors(void **state)
{
	(void)state;
	BAD("vm create: missing NAME", USAGE_VM_CREATE, "vm", "create");
	BAD("missing --template T", USAGE_VM_CREATE, "vm", "create", "web1");
	BAD("--ip '10.1.2' is not an IPv4 address", USAGE_VM_CREATE, "vm", "create",
	    "web1", "--template", "t", "--ip", "10.1.2");
	BAD("--mac: invalid MAC", USAGE_VM_CREATE, "vm", "create", "web1", "--template",
	    "t", "--mac=00:16:3e:12:34");
	BAD("--disk: cannot read size '12Q'", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "t", "--disk", "12Q");
	BAD("--swap: ", USAGE_VM_CREATE, "vm", "create", "web1", "--template", "t",
	    "--swap", "0");
	BAD("--memory needs a number of MB", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "t", "--memory", "8");
	BAD("--vcpus needs a number", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "t", "--vcpus", "x");
	BAD("--template: template name '../x'", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "../x");
	BAD("--template given twice", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "t", "--template", "u");
	BAD("--ip needs a value", USAGE_VM_CREATE, "vm", "create", "web1", "--ip");
	BAD("--on is for --start", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "t", "--on", "h1");
	BAD("--gateway without --ip", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--template", "t", "--gateway", "10.0.0.1");
	BAD("--description: ", USAGE_VM_CREATE, "vm", "create", "web1", "--template",
	    "t", "--description", "it's");
	BAD("unknown option '--bogus'", USAGE_VM_CREATE, "vm", "create", "web1",
	    "--bogus");
	BAD("unexpected argument 'x'", USAGE_VM_CREATE, "vm", "create", "web1", "x",
	    "--template", "t");
	BAD("template: missing subcommand", USAGE_TEMPLATE, "template");
	BAD("unknown subcommand 'drop'", USAGE_TEMPLATE, "template", "drop");
	BAD("template show: missing TEMPLATE", USAGE_TEMPLATE, "template", "show");
	BAD("--ip is only for vm create", USAGE_TEMPLATE, "template", "list", "--ip",
	    "10.0.0.1");
}

static void
test_parsed(void **state)
{
	struct create_args a;
	char err[256];

	(void)state;
	assert_int_equal(ctl_create_cli_parse(ARGC("vm", "create", "web1", "--template",
						   "tiny", "--ip", "10.1.2.3",
						   "--netmask=255.255.255.0",
						   "--gateway", "10.1.2.1",
						   "--nameserver", "10.1.2.1",
						   "--mac", "00:16:3e:12:34:56",
						   "--memory", "1024", "--vcpus", "2",
						   "--disk", "4G", "--swap", "512M",
						   "--description", "web server",
						   "--start", "--on", "h2", "--json"),
						   ARGV("vm", "create", "web1", "--template",
							"tiny", "--ip", "10.1.2.3",
							"--netmask=255.255.255.0",
							"--gateway", "10.1.2.1",
							"--nameserver", "10.1.2.1",
							"--mac", "00:16:3e:12:34:56",
							"--memory", "1024", "--vcpus", "2",
							"--disk", "4G", "--swap", "512M",
							"--description", "web server",
							"--start", "--on", "h2", "--json"),
						   &a, err, sizeof(err)), 0);
	assert_int_equal(a.cmd, CREATE_CMD_VM_CREATE);
	assert_string_equal(a.name, "web1");
	assert_string_equal(a.tmpl, "tiny");
	assert_string_equal(a.ip, "10.1.2.3");
	assert_string_equal(a.netmask, "255.255.255.0");
	assert_string_equal(a.gateway, "10.1.2.1");
	assert_string_equal(a.nameserver, "10.1.2.1");
	assert_string_equal(a.mac, "00:16:3e:12:34:56");
	assert_int_equal(a.memory_mb, 1024);
	assert_int_equal(a.vcpus, 2);
	assert_int_equal(a.disk_bytes, 4ULL << 30);
	assert_int_equal(a.swap_bytes, 512ULL << 20);
	assert_string_equal(a.description, "web server");
	assert_true(a.start);
	assert_string_equal(a.on, "h2");
	assert_true(a.json);

	assert_int_equal(ctl_create_cli_parse(ARGC("template", "show", "tiny", "--json"),
					      ARGV("template", "show", "tiny", "--json"),
					      &a, err, sizeof(err)), 0);
	assert_int_equal(a.cmd, CREATE_CMD_TEMPLATE_SHOW);
	assert_string_equal(a.name, "tiny");
	assert_true(a.json);
	assert_int_equal(ctl_create_cli_parse(ARGC("template", "list"),
					      ARGV("template", "list"), &a, err,
					      sizeof(err)), 0);
	assert_int_equal(a.cmd, CREATE_CMD_TEMPLATE_LIST);
	assert_int_equal(ctl_create_cli_parse(ARGC("vm", "create", "--help"),
					      ARGV("vm", "create", "--help"), &a, err,
					      sizeof(err)), 0);
	assert_true(a.help);
	assert_string_equal(a.usage, USAGE_VM_CREATE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wants),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_parsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
