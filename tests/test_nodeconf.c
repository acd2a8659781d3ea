/* Unit tests of agent/nodeconf.c: a node's corosync.conf brought to the
 * cluster's nodelist (atomic write, .bak kept, nothing done when it is
 * already right or unreadable) and the exact reload command, through the
 * runner's recorder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "nodeconf.h"
#include "runner.h"

static const char conf3[] =
	"# the rig's\n"
	"totem {\n\tversion: 2\n}\n\n"
	"quorum {\n\tprovider: corosync_votequorum\n\texpected_votes: 3\n}\n\n"
	"nodelist {\n"
	"\tnode {\n\t\tname: h1\n\t\tnodeid: 1\n\t\tring0_addr: 10.77.1.1\n\t}\n"
	"\tnode {\n\t\tname: h2\n\t\tnodeid: 2\n\t\tring0_addr: 10.77.1.2\n\t}\n"
	"\tnode {\n\t\tname: h3\n\t\tnodeid: 3\n\t\tring0_addr: 10.77.1.3\n\t}\n"
	"}\n";

struct fixture {
	struct agent a;
	struct runner *rec;
	char dir[64];
	char bak[PATH_MAX + 8];
};

static char *
slurp(const char *path)
{
	char *text = NULL, err[128];

	if (nodeconf_read(path, &text, err, sizeof(err)) < 0)
		return NULL;
	return text;
}

static void
spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_nodeconf.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->a.cfg.corosync_conf, sizeof(f->a.cfg.corosync_conf),
		 "%s/corosync.conf", f->dir);
	snprintf(f->bak, sizeof(f->bak), "%s.bak", f->a.cfg.corosync_conf);
	spit(f->a.cfg.corosync_conf, conf3);
	state_init(&f->a.rep.st);
	assert_int_equal(runner_recorder_open(&f->rec, NULL), 0);
	assert_int_equal(nodeconf_open(&f->a, f->rec), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	nodeconf_stop(&f->a);
	state_free(&f->a.rep.st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

/* The state's nodelist: h1, h2 (and h3 with three), version v. */
static void
set_list(struct state *s, size_t n, uint64_t v)
{
	if (s->nodelist == NULL)
		s->nodelist = calloc(STATE_MAX_NODES, sizeof(*s->nodelist));
	assert_non_null(s->nodelist);
	for (size_t i = 0; i < n; i++) {
		struct cs_node *c = &s->nodelist[i];

		memset(c, 0, sizeof(*c));
		c->nodeid = (uint32_t)i + 1;
		c->votes = 1;
		snprintf(c->name, sizeof(c->name), "h%zu", i + 1);
		c->n_addrs = 1;
		snprintf(c->addrs[0], sizeof(c->addrs[0]), "10.77.1.%zu", i + 1);
	}
	s->n_nodelist = n;
	s->nodelist_version = v;
}

static void
test_untouched(void **state)
{
	struct fixture *f = *state;
	char *text;

	/* never changed: nothing read, written or run */
	nodeconf_kick(&f->a);
	assert_int_equal(runner_recorder_count(f->rec), 0);
	/* the file already says it: no write, no reload */
	set_list(&f->a.rep.st, 3, 1);
	nodeconf_kick(&f->a);
	assert_int_equal(runner_recorder_count(f->rec), 0);
	assert_int_equal(access(f->bak, F_OK), -1);
	text = slurp(f->a.cfg.corosync_conf);
	assert_string_equal(text, conf3);
	free(text);
	/* an unreadable file: logged, left alone, tried again at the next version */
	spit(f->a.cfg.corosync_conf, "nodelist {\n");
	set_list(&f->a.rep.st, 2, 2);
	nodeconf_kick(&f->a);
	assert_int_equal(runner_recorder_count(f->rec), 0);
	text = slurp(f->a.cfg.corosync_conf);
	assert_string_equal(text, "nodelist {\n");
	free(text);
}

static void
test_forget_writes_and_reloads(void **state)
{
	static const struct runner_canned ok = { .exit_code = 0 };
	struct fixture *f = *state;
	const struct runner_record *rr;
	char *text, *bak, msg[256];

	assert_int_equal(runner_recorder_expect(f->rec, "corosync-cfgtool -R", &ok), 0);
	set_list(&f->a.rep.st, 2, 1);
	nodeconf_kick(&f->a);
	assert_int_equal(runner_recorder_count(f->rec), 1);
	rr = runner_recorder_get(f->rec, 0);
	assert_string_equal(rr->line, "corosync-cfgtool -R");
	text = slurp(f->a.cfg.corosync_conf);
	assert_non_null(text);
	assert_null(strstr(text, "h3"));
	assert_non_null(strstr(text, "\texpected_votes: 2\n"));
	assert_non_null(strstr(text, "\t\tname: h2\n"));
	bak = slurp(f->bak);
	assert_string_equal(bak, conf3);
	free(bak);
	free(text);
	/* while it reloads, a newer version waits; the reload's end runs it */
	set_list(&f->a.rep.st, 3, 2);
	nodeconf_kick(&f->a);
	assert_int_equal(runner_recorder_count(f->rec), 1);
	assert_int_equal(runner_recorder_expect(f->rec, "corosync-cfgtool -R", &ok), 0);
	assert_int_equal(runner_recorder_deliver(f->rec), 2);
	assert_int_equal(runner_recorder_count(f->rec), 2);
	text = slurp(f->a.cfg.corosync_conf);
	assert_string_equal(text, conf3);
	free(text);
	/* the same version again: nothing */
	nodeconf_kick(&f->a);
	assert_int_equal(runner_recorder_count(f->rec), 2);
	assert_int_equal(runner_recorder_verify(f->rec, msg, sizeof(msg)), 0);
}

static void
test_write_errors(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", path[PATH_MAX];

	(void)f;
	snprintf(path, sizeof(path), "%s/no/such/dir/corosync.conf", f->dir);
	assert_int_equal(nodeconf_write(path, "x", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(nodeconf_read(path, &(char *){ NULL }, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "cannot read"));
	/* a new file (nothing to keep as .bak) */
	snprintf(path, sizeof(path), "%s/new.conf", f->dir);
	assert_int_equal(nodeconf_write(path, "totem {\n}\n", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/new.conf.bak", f->dir);
	assert_int_equal(access(path, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_writes_and_reloads,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
