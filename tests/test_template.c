/* Tests of storage/template.c: the info parser (bad files first, with
 * their FILE:LINE), the network checks, the network files of both OS
 * families (golden texts), the xl.cfg skeleton. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

static void
bad_info(const char *text, const char *want)
{
	struct template_info info;
	char why[300] = "";

	assert_int_equal(template_info_parse(text, "/t/x/info", &info, why, sizeof(why)),
			 -EINVAL);
	if (strstr(why, want) == NULL)
		fail_msg("info %s: got '%s', want '%s'", text, why, want);
}

static void
test_info_bad(void **state)
{
	(void)state;
	bad_info("", "/t/x/info: no os_family (debian or suse)");
	bad_info("os_family = debian\n", "/t/x/info: no root_size");
	bad_info("os_family = debian\nroot_size = 1G\ncolour = red\n",
		 "/t/x/info:3: unknown key 'colour'");
	bad_info("# c\n\nos_family = gentoo\n", "/t/x/info:3: os_family 'gentoo': debian or suse");
	bad_info("os_family = debian\nos_family = suse\n", "/t/x/info:2: os_family given twice");
	bad_info("os_family = debian\nroot_size 1G\n", "/t/x/info:2: expected KEY = VALUE");
	bad_info("root_size = 12Q\n", "/t/x/info:1: root_size: cannot read size '12Q'");
	bad_info("memory = 8\n", "/t/x/info:1: memory '8': a number of MB from 16");
	bad_info("vcpus = 0\n", "/t/x/info:1: vcpus '0'");
	bad_info("vcpus = 2x\n", "/t/x/info:1: vcpus '2x'");
	bad_info("kind = qcow\n", "/t/x/info:1: kind 'qcow': tree or raw");
	bad_info("description = it's\n", "/t/x/info:1: description:");
}

static void
test_info_good(void **state)
{
	struct template_info info;
	char why[300] = "";

	(void)state;
	assert_int_equal(template_info_parse("# a template\n  description = Debian 12 \n"
					     "os_family=suse\r\nkind = raw\nroot_size = 2G\n"
					     "swap_size = 512M\nmemory = 1024\nvcpus = 2",
					     "info", &info, why, sizeof(why)), 0);
	assert_string_equal(info.description, "Debian 12");
	assert_int_equal(info.os, TEMPLATE_OS_SUSE);
	assert_int_equal(info.kind, TEMPLATE_KIND_RAW);
	assert_int_equal(info.root_size, 2ULL << 30);
	assert_int_equal(info.swap_size, 512ULL << 20);
	assert_int_equal(info.memory_mb, 1024);
	assert_int_equal(info.vcpus, 2);
	/* the defaults */
	assert_int_equal(template_info_parse("os_family = debian\nroot_size = 1G\n", "info",
					     &info, why, sizeof(why)), 0);
	assert_int_equal(info.kind, TEMPLATE_KIND_TREE);
	assert_int_equal(info.swap_size, TEMPLATE_SWAP_DEFAULT);
	assert_int_equal(info.memory_mb, TEMPLATE_MEMORY_DEFAULT);
	assert_int_equal(info.vcpus, TEMPLATE_VCPUS_DEFAULT);
	assert_string_equal(info.description, "");
}

static void
test_names(void **state)
{
	char why[200];

	(void)state;
	assert_int_equal(template_name_check("debian-12.1_x", why, sizeof(why)), 0);
	assert_int_equal(template_name_check("", why, sizeof(why)), -EINVAL);
	assert_int_equal(template_name_check("..", why, sizeof(why)), -EINVAL);
	assert_int_equal(template_name_check("-x", why, sizeof(why)), -EINVAL);
	assert_int_equal(template_name_check("a/b", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "only letters"));
}

static void
bad_net(struct template_net n, const char *want)
{
	char why[300] = "";

	assert_int_equal(template_net_check(&n, why, sizeof(why)), -EINVAL);
	if (strstr(why, want) == NULL)
		fail_msg("got '%s', want '%s'", why, want);
}

static void
test_net_check(void **state)
{
	struct template_net ok = { .hostname = "web1", .ip = "10.1.2.3",
				   .netmask = "255.255.255.0", .gateway = "10.1.2.1",
				   .nameserver = "10.1.2.1" };
	uint32_t v;
	char why[300];

	(void)state;
	assert_int_equal(template_ipv4_parse("10.1.2.3", &v), 0);
	assert_int_equal(v, 0x0a010203);
	assert_int_equal(template_ipv4_parse("10.1.2", &v), -EINVAL);
	assert_int_equal(template_ipv4_parse("10.1.2.256", &v), -EINVAL);
	assert_int_equal(template_ipv4_parse("0x0a.1.2.3", &v), -EINVAL);
	assert_int_equal(template_net_check(&ok, why, sizeof(why)), 0);
	bad_net((struct template_net){ .hostname = "web_1" }, "'web_1' is not a host name");
	bad_net((struct template_net){ .hostname = "w", .ip = "10.1.2.300" },
		"--ip '10.1.2.300' is not an IPv4 address");
	bad_net((struct template_net){ .hostname = "w", .ip = "10.1.2.3",
				       .netmask = "255.0.255.0" }, "--netmask '255.0.255.0'");
	bad_net((struct template_net){ .hostname = "w", .ip = "10.1.2.0" },
		"--ip 10.1.2.0 is the network address of its /24");
	bad_net((struct template_net){ .hostname = "w", .ip = "10.1.2.255" },
		"broadcast");
	bad_net((struct template_net){ .hostname = "w", .ip = "10.1.2.3",
				       .gateway = "10.1.3.1" },
		"--gateway 10.1.3.1 is not another host of 10.1.2.3/24");
	bad_net((struct template_net){ .hostname = "w", .ip = "10.1.2.3",
				       .gateway = "10.1.2.3" }, "not another host");
	bad_net((struct template_net){ .hostname = "w", .gateway = "10.1.2.1" },
		"--gateway without --ip");
	bad_net((struct template_net){ .hostname = "w", .nameserver = "x" },
		"--nameserver 'x'");
	/* a /16 takes a gateway elsewhere in it */
	ok.netmask = "255.255.0.0";
	ok.gateway = "10.1.9.1";
	assert_int_equal(template_net_check(&ok, why, sizeof(why)), 0);
}

static const char *
file_text(const struct template_file *f, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].path, path) == 0)
			return f[i].text;
	return NULL;
}

static void
test_files_debian(void **state)
{
	struct template_net n = { .hostname = "web1", .ip = "10.1.2.3",
				  .netmask = "255.255.255.0", .gateway = "10.1.2.1",
				  .nameserver = "10.1.2.1" };
	struct template_file f[TEMPLATE_FILES_MAX];
	size_t count;

	(void)state;
	assert_int_equal(template_net_files(TEMPLATE_OS_DEBIAN, &n, f, &count), 0);
	assert_int_equal(count, 4);
	assert_string_equal(file_text(f, count, "etc/hostname"), "web1\n");
	assert_string_equal(file_text(f, count, "etc/hosts"),
			    "127.0.0.1\tlocalhost\n10.1.2.3\tweb1\n\n"
			    "::1\tlocalhost ip6-localhost ip6-loopback\n"
			    "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
	assert_string_equal(file_text(f, count, "etc/resolv.conf"),
			    "# written by xenmesh (agentctl vm create)\nnameserver 10.1.2.1\n");
	assert_string_equal(file_text(f, count, "etc/network/interfaces"),
			    "# written by xenmesh (agentctl vm create)\n"
			    "auto lo\niface lo inet loopback\n\n"
			    "auto eth0\niface eth0 inet static\n"
			    "\taddress 10.1.2.3\n\tnetmask 255.255.255.0\n"
			    "\tgateway 10.1.2.1\n");
	template_files_free(f, count);
	/* DHCP, no resolver */
	n = (struct template_net){ .hostname = "web2" };
	assert_int_equal(template_net_files(TEMPLATE_OS_DEBIAN, &n, f, &count), 0);
	assert_int_equal(count, 3);
	assert_null(file_text(f, count, "etc/resolv.conf"));
	assert_non_null(strstr(file_text(f, count, "etc/hosts"), "127.0.1.1\tweb2\n"));
	assert_non_null(strstr(file_text(f, count, "etc/network/interfaces"),
			       "iface eth0 inet dhcp\n"));
	template_files_free(f, count);
}

static void
test_files_suse(void **state)
{
	struct template_net n = { .hostname = "db1", .ip = "192.168.7.20",
				  .netmask = "255.255.254.0", .gateway = "192.168.6.1" };
	struct template_file f[TEMPLATE_FILES_MAX];
	size_t count;

	(void)state;
	assert_int_equal(template_net_files(TEMPLATE_OS_SUSE, &n, f, &count), 0);
	assert_int_equal(count, 5);
	assert_string_equal(file_text(f, count, "etc/HOSTNAME"), "db1\n");
	assert_string_equal(file_text(f, count, "etc/hostname"), "db1\n");
	assert_string_equal(file_text(f, count, "etc/sysconfig/network/ifcfg-eth0"),
			    "# written by xenmesh (agentctl vm create)\n"
			    "BOOTPROTO='static'\nSTARTMODE='auto'\n"
			    "IPADDR='192.168.7.20/23'\nNETMASK='255.255.254.0'\n");
	assert_string_equal(file_text(f, count, "etc/sysconfig/network/routes"),
			    "default 192.168.6.1 - -\n");
	assert_null(file_text(f, count, "etc/network/interfaces"));
	template_files_free(f, count);
	n = (struct template_net){ .hostname = "db2" };
	assert_int_equal(template_net_files(TEMPLATE_OS_SUSE, &n, f, &count), 0);
	assert_string_equal(file_text(f, count, "etc/sysconfig/network/ifcfg-eth0"),
			    "# written by xenmesh (agentctl vm create)\n"
			    "BOOTPROTO='dhcp'\nSTARTMODE='auto'\n");
	assert_null(file_text(f, count, "etc/sysconfig/network/routes"));
	template_files_free(f, count);
}

static void
test_cfg_expand(void **state)
{
	struct template_vars v = { .name = "web1", .memory_mb = 512, .vcpus = 2,
				   .description = "a web server", .ip = "10.1.2.3",
				   .mac = "00:16:3e:12:34:56" };
	char why[300] = "", *out;

	(void)state;
	assert_int_equal(template_cfg_expand("name = \"@NAME@\"\n# me@example.org @ x\n"
					     "bogus = @NOPE@\n", "vm.cfg.in", &v, &out, why,
					     sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "vm.cfg.in:3: unknown placeholder @NOPE@"));
	assert_null(out);
	assert_int_equal(template_cfg_expand(
		"# @DESCRIPTION@ (@IP@, me@example.org)\nname = \"@NAME@\"\n"
		"memory = @MEMORY@\nvcpus = @VCPUS@\ndisk = [ @DISKS@ ]\n"
		"vif = [ '@MAC_OPT@bridge=xenbr0' ]\n", "vm.cfg.in", &v, &out, why,
		sizeof(why)), 0);
	assert_string_equal(out,
		"# a web server (10.1.2.3, me@example.org)\nname = \"web1\"\n"
		"memory = 512\nvcpus = 2\n"
		"disk = [ 'vdev=xvda, access=rw, target=xenmesh:root', "
		"'vdev=xvdb, access=rw, target=xenmesh:swap' ]\n"
		"vif = [ 'mac=00:16:3e:12:34:56,bridge=xenbr0' ]\n");
	free(out);
	v.mac = NULL;
	assert_int_equal(template_cfg_expand("vif = [ '@MAC_OPT@bridge=xenbr0' ] @MAC@\n"
					     "disk = [ @SWAP_DISK@, @ROOT_DISK@ ]", "f", &v,
					     &out, why, sizeof(why)), 0);
	assert_string_equal(out, "vif = [ 'bridge=xenbr0' ] \n"
			    "disk = [ 'vdev=xvdb, access=rw, target=xenmesh:swap', "
			    "'vdev=xvda, access=rw, target=xenmesh:root' ]");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_bad),
		cmocka_unit_test(test_info_good),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_net_check),
		cmocka_unit_test(test_files_debian),
		cmocka_unit_test(test_files_suse),
		cmocka_unit_test(test_cfg_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
