/* Tests of agent/vmcreate_raw.c: what sfdisk and blkid say about a copied
 * raw image, and the debugfs commands that put the guest's files in it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"
#include "vmcreate_raw.h"

/* The pure parts: sfdisk's table, blkid's type, the debugfs commands. */
static void
test_rawimg_parse(void **state)
{
	struct rawimg_part p;
	char why[256], type[16], *w, *c;
	struct template_file files[] = {
		{ "etc/hostname", (char *)"x\n" },
		{ "etc/sysconfig/network/ifcfg-eth0", (char *)"y\n" },
	};
	const char *gpt =
		"{\"partitiontable\": {\"label\": \"gpt\", \"device\": \"/dev/drbd1001\", "
		"\"unit\": \"sectors\", \"sectorsize\": 4096, \"partitions\": ["
		"{\"node\": \"/dev/drbd1001p2\", \"start\": 256, \"size\": 1000, \"type\": \"L\"},"
		"{\"node\": \"/dev/drbd1001p1\", \"start\": 2048, \"size\": 5000, \"type\": \"L\"},"
		"{\"node\": \"/dev/drbd1001p3\", \"start\": 1256, \"size\": 10, \"type\": \"L\"}]}}";
	const char *logical =
		"{\"partitiontable\": {\"label\": \"dos\", \"device\": \"d\", "
		"\"sectorsize\": 512, \"partitions\": ["
		"{\"node\": \"d1\", \"start\": 2048, \"size\": 100, \"type\": \"83\"},"
		"{\"node\": \"d2\", \"start\": 4096, \"size\": 9000, \"type\": \"f\"},"
		"{\"node\": \"d5\", \"start\": 6144, \"size\": 100, \"type\": \"83\"}]}}";

	(void)state;
	/* the one that starts last, whatever its number; 4 KiB sectors */
	assert_int_equal(rawimg_table_parse(gpt, &p, why, sizeof(why)), 0);
	assert_int_equal(p.number, 1);
	assert_int_equal(p.start_bytes, 2048ULL * 4096);
	assert_int_equal(p.size_bytes, 5000ULL * 4096);
	assert_string_equal(p.label, "gpt");
	assert_int_equal(rawimg_table_parse(logical, &p, why, sizeof(why)), -EOPNOTSUPP);
	assert_string_equal(why, "the image's last partition (5) is a logical one: only "
			    "a primary partition can be grown");
	assert_int_equal(rawimg_table_parse("{\"partitiontable\": {\"label\": \"dos\", "
					    "\"device\": \"d\", \"sectorsize\": 512, "
					    "\"partitions\": []}}", &p, why, sizeof(why)),
			 -ENOENT);
	assert_int_equal(rawimg_table_parse("{\"partitiontable\": {\"label\": \"sun\", "
					    "\"device\": \"d\", \"sectorsize\": 512}}", &p,
					    why, sizeof(why)), -EOPNOTSUPP);
	assert_int_equal(rawimg_table_parse("not json", &p, why, sizeof(why)), -EBADMSG);
	assert_int_equal(rawimg_table_parse(NULL, &p, why, sizeof(why)), -EBADMSG);
	assert_true(rawimg_no_table("sfdisk: /dev/x: does not contain a recognized "
				    "partition table\n"));
	assert_false(rawimg_no_table("sfdisk: cannot open /dev/x: Permission denied\n"));
	assert_false(rawimg_no_table(NULL));

	rawimg_blkid_type("DEVNAME=d\nUUID=1\nTYPE=ext3\nUSAGE=filesystem\n", type,
			  sizeof(type));
	assert_string_equal(type, "ext3");
	assert_true(rawimg_type_is_ext(type));
	rawimg_blkid_type("DEVNAME=d\nPTTYPE=dos\n", type, sizeof(type));
	assert_string_equal(type, "");
	rawimg_blkid_type(NULL, type, sizeof(type));
	assert_false(rawimg_type_is_ext(type));
	assert_false(rawimg_type_is_ext("ext4dev2"));

	assert_int_equal(rawimg_look_cmds(files, 2, &w), 0);
	assert_string_equal(w, "ls -p /\nls -p /etc\nls -p /etc/sysconfig\n"
			    "ls -p /etc/sysconfig/network\n");
	free(w);
	/* nothing there: every directory made, nothing removed */
	assert_int_equal(rawimg_debugfs_cmds(files, 2, "/var/lib/x m/s", "", &w, &c,
					     why, sizeof(why)), 0);
	assert_string_equal(w, "mkdir /etc\ncd /etc\n"
			    "write \"/var/lib/x m/s/f0\" hostname\n"
			    "mkdir /etc/sysconfig\nmkdir /etc/sysconfig/network\n"
			    "cd /etc/sysconfig/network\n"
			    "write \"/var/lib/x m/s/f1\" ifcfg-eth0\n");
	assert_string_equal(c, "dump /etc/hostname \"/var/lib/x m/s/c0\"\n"
			    "dump /etc/sysconfig/network/ifcfg-eth0 \"/var/lib/x m/s/c1\"\n");
	free(w);
	free(c);
	/* a name that only starts like the one looked for does not count */
	assert_int_equal(rawimg_debugfs_cmds(files, 1, "/s", "debugfs: ls -p /\n"
					     "/12/040755/0/0/etcx//\n/13/0100644/0/0/etc/1/\n"
					     "debugfs: ls -p /etc\n/14/040755/0/0/hostname//\n",
					     &w, &c, why, sizeof(why)), -ENOTDIR);
	assert_string_equal(why, "/etc in the image is a symlink or not a directory: "
			    "refusing to write through it");
	assert_null(w);
	assert_int_equal(rawimg_debugfs_cmds(files, 2, "/a\"b", "", &w, &c, why,
					     sizeof(why)), -EINVAL);
	assert_null(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rawimg_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
