/* Unit tests of agent/ctl_format.c (and the JSON writer it uses): the
 * exact text agentctl prints for a CtlResponse built by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ctl_format.h"

/* 2026-11-22 18:40:01.123 UTC */
#define T_EVENT UINT64_C(1795372801123)

struct fixture {
	Xenmesh__CtlResponse resp;
	Xenmesh__ClusterView cluster;
	Xenmesh__RingId ring;
	Xenmesh__State state;
	Xenmesh__Node node[3];
	Xenmesh__Node *nodes[3];
	Xenmesh__Vm vm[3];
	Xenmesh__Vm *vms[3];
	Xenmesh__VmHa ha[3];
	char *web_hosts[2];
	char *web_after[1];
	uint64_t web_restart_at[2];
	uint32_t web_restart_host[2];
	uint32_t members[3];
	uint8_t digest[32];
};

static void
node_set(Xenmesh__Node *n, uint32_t id, const char *name, Xenmesh__NodeRole role,
	 Xenmesh__NodeState st, uint32_t flags, uint64_t total, uint64_t free_mb)
{
	Xenmesh__Node init = XENMESH__NODE__INIT;

	*n = init;
	n->id = id;
	n->name = (char *)name;
	n->role = role;
	n->state = st;
	n->flags = flags;
	n->mem_total_mb = total;
	n->mem_free_mb = free_mb;
	/* a dom0 with a watchdog, as they normally are (see test_no_watchdog) */
	n->has_watchdog_s = role == XENMESH__NODE_ROLE__ROLE_DOM0;
	n->watchdog_s = n->has_watchdog_s ? 10 : 0;
}

static void
vm_set(Xenmesh__Vm *vm, const char *name, const char *st, uint32_t host)
{
	Xenmesh__Vm init = XENMESH__VM__INIT;

	*vm = init;
	vm->name = (char *)name;
	vm->state = (char *)st;
	vm->has_host = host != 0;
	vm->host = host;
}

static void
vm_ha_set(Xenmesh__Vm *vm, Xenmesh__VmHa *ha, uint32_t priority,
	  const char *restart, uint32_t max, uint32_t window_s, uint64_t mem)
{
	Xenmesh__VmHa init = XENMESH__VM_HA__INIT;

	*ha = init;
	ha->priority = priority;
	ha->restart = (char *)restart;
	ha->max_restarts = max;
	ha->restart_window_s = window_s;
	vm->ha = ha;
	vm->has_memory_mb = 1;
	vm->memory_mb = mem;
}

/* Three hosts (one flagged twice), a fourth member not in the table yet,
 * three VMs (one on a host nobody knows). */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	Xenmesh__ClusterView c = XENMESH__CLUSTER_VIEW__INIT;
	Xenmesh__RingId ring = XENMESH__RING_ID__INIT;
	Xenmesh__State st = XENMESH__STATE__INIT;
	size_t i;

	if (f == NULL)
		return -1;
	for (i = 0; i < sizeof(f->digest); i++)
		f->digest[i] = (uint8_t)(0xa0 + i);

	node_set(&f->node[0], 1, "h1", XENMESH__NODE_ROLE__ROLE_DOM0,
		 XENMESH__NODE_STATE__NODE_ONLINE, 0, 16384, 12000);
	node_set(&f->node[1], 2, "h2", XENMESH__NODE_ROLE__ROLE_DOM0,
		 XENMESH__NODE_STATE__NODE_UNCLEAN,
		 XENMESH__NODE_FLAG__FLAG_MAINTENANCE |
		 XENMESH__NODE_FLAG__FLAG_STANDBY, 16384, 0);
	node_set(&f->node[2], 10, "san1", XENMESH__NODE_ROLE__ROLE_SAN,
		 XENMESH__NODE_STATE__NODE_ONLINE,
		 XENMESH__NODE_FLAG__FLAG_STANDBY, 0, 0);
	for (i = 0; i < 3; i++)
		f->nodes[i] = &f->node[i];
	vm_set(&f->vm[0], "db", "stopped", 0);
	vm_set(&f->vm[1], "ghost", "recovering", 9);
	vm_set(&f->vm[2], "web1", "running", 1);
	for (i = 0; i < 3; i++)
		f->vms[i] = &f->vm[i];
	/* db: defined, never started */
	vm_ha_set(&f->vm[0], &f->ha[0], 0, "always", 3, 600, 512);
	/* ghost: its host is lost, waiting for the fence */
	vm_ha_set(&f->vm[1], &f->ha[1], 10, "always", 3, 600, 2048);
	f->vm[1].has_generation = 1;
	f->vm[1].generation = 7;
	f->vm[1].has_want_running = 1;
	f->vm[1].want_running = 1;
	f->vm[1].reason = (char *)"host node9 left without a clean leave; "
		"waiting for its fence to be confirmed";
	/* web1: everything set, restarted twice lately (one in its window) */
	vm_ha_set(&f->vm[2], &f->ha[2], 5, "on-failure", 2, 300, 1024);
	f->web_hosts[0] = (char *)"h2";
	f->web_hosts[1] = (char *)"h1";
	f->ha[2].n_hosts = 2;
	f->ha[2].hosts = f->web_hosts;
	f->ha[2].anti_affinity = (char *)"web";
	f->web_after[0] = (char *)"db";
	f->ha[2].n_start_after = 1;
	f->ha[2].start_after = f->web_after;
	f->vm[2].has_generation = 1;
	f->vm[2].generation = 3;
	f->vm[2].has_want_running = 1;
	f->vm[2].want_running = 1;
	f->vm[2].has_want_host = 1;
	f->vm[2].want_host = 2;
	f->vm[2].has_avoid_host = 1;
	f->vm[2].avoid_host = 2;
	f->web_restart_at[0] = T_EVENT - 400000;       /* 400 s before */
	f->web_restart_at[1] = T_EVENT - 60000;        /* 60 s before */
	f->web_restart_host[0] = 2;
	f->web_restart_host[1] = 2;
	f->vm[2].n_restart_at_ms = 2;
	f->vm[2].restart_at_ms = f->web_restart_at;
	f->vm[2].n_restart_host = 2;
	f->vm[2].restart_host = f->web_restart_host;
	f->vm[2].has_restarts_total = 1;
	f->vm[2].restarts_total = 4;
	f->vm[2].config = (char *)"name = \"web1\"\nmemory = 1024\n\n"
		"\tvcpus = 2\x1b[2J\nha_priority = 5";

	st.epoch = 3;
	st.seq = 41;
	st.n_nodes = 3;
	st.nodes = f->nodes;
	st.n_vms = 3;
	st.vms = f->vms;
	f->state = st;

	ring.nodeid = 1;
	ring.seq = 88;
	f->ring = ring;

	c.name = (char *)"prod";
	c.quorate = 1;
	c.has_coordinator = 1;
	c.coordinator = 1;
	c.epoch = 3;
	c.seq = 41;
	c.ha_enabled = 1;
	c.local_id = 10;
	c.digest.data = f->digest;
	c.digest.len = sizeof(f->digest);
	c.synced = 1;
	c.ring = &f->ring;
	c.votes = 3;
	c.expected_votes = 4;
	c.quorum = 3;
	f->cluster = c;

	f->members[0] = 1;
	f->members[1] = 10;
	f->members[2] = 7;

	r.result = 0;
	r.cluster = &f->cluster;
	r.state = &f->state;
	r.n_members = 3;
	r.members = f->members;
	f->resp = r;

	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static void
test_invalid(void **state)
{
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	char *text = (char *)"untouched";

	/* status needs a cluster view */
	assert_int_equal(ctl_format_status(&r, T_EVENT, &text), -EINVAL);
	assert_null(text);
	text = (char *)"untouched";
	assert_int_equal(ctl_format_status_json(&r, &text), -EINVAL);
	assert_null(text);
}

static void
test_empty(void **state)
{
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	Xenmesh__ClusterView c = XENMESH__CLUSTER_VIEW__INIT;
	char *text;

	/* a fresh agent: not quorate, nothing known yet */
	c.name = (char *)"";
	c.quorum_reason = (char *)"corosync not reachable";
	c.ha_reason = (char *)"not quorate";
	c.local_id = 4;
	r.cluster = &c;
	assert_int_equal(ctl_format_status(&r, T_EVENT, &text), 0);
	assert_string_equal(text,
		"Cluster:  (local node node4, id 4)\n"
		"Quorum: no (corosync not reachable)\n"
		"HA: disabled (not quorate)\n"
		"Coordinator: none\n"
		"State: epoch 0, seq 0, sync: in progress\n"
		"Members: 0\n"
		"\n"
		"Hosts:\n"
		"  no hosts known yet\n"
		"\n"
		"no VMs defined\n");
	free(text);

	assert_int_equal(ctl_format_status_json(&r, &text), 0);
	assert_string_equal(text,
		"{\"cluster\":{\"name\":\"\",\"quorate\":false,"
		"\"quorum_reason\":\"corosync not reachable\","
		"\"coordinator\":null,\"coordinator_id\":0,\"epoch\":0,\"seq\":0,"
		"\"ha_enabled\":false,\"ha_reason\":\"not quorate\","
		"\"state_save_error\":null,\"synced\":false,\"digest\":\"\",\"local\":\"node4\",\"local_id\":4,"
		"\"votes\":0,\"expected_votes\":0,\"quorum\":0,\"ring\":null,"
		"\"members\":[]},\"maintenance\":false,\"admission\":null,"
		"\"nodes\":[],\"vms\":[],"
		"\"unmanaged\":[],\"storage\":{\"active_san\":null,\"fenced\":[],\"vm_storage\":{},\"volumes\":[]}}\n");
	free(text);

	assert_int_equal(ctl_format_nodes_json(&r, &text), 0);
	assert_string_equal(text, "{\"nodes\":[]}\n");
	free(text);
}

static void
test_status_human(void **state)
{
	struct fixture *f = *state;
	char *text;

	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_string_equal(text,
		"Cluster: prod (local node san1, id 10)\n"
		"Quorum: yes (3 of 4 votes, 3 needed)\n"
		"HA: enabled\n"
		"Coordinator: h1 (id 1)\n"
		"State: epoch 3, seq 41, sync: done, digest a0a1a2a3a4a5a6a7\n"
		"Members: 3 (ring 1/88)\n"
		"\n"
		"Hosts:\n"
		"  NAME   ID  ROLE  STATE    FLAGS                MEM(free/total MB)\n"
		"  h1      1  dom0  online   -                    12000/16384\n"
		"  h2      2  dom0  unclean  maintenance,standby  0/16384\n"
		"  san1   10  san   online   standby              -\n"
		"  node7   7  -     -        new member           -\n"
		"\n"
		"VMs:\n"
		"  NAME   STATE       HOST   PRI  RESTARTS  REASON\n"
		"  db     stopped     -        0         0  -\n"
		/* 80 columns: the reason cut with an ellipsis */
		"  ghost  recovering  node9   10         0  "
		"host node9 left without a clean le...\n"
		"  web1   running     h1       5         4  -\n");
	free(text);
}

static void
test_status_not_quorate(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->cluster.quorate = 0;
	f->cluster.quorum_reason = (char *)"2 of 4 votes, 3 needed";
	f->cluster.ha_enabled = 0;
	f->cluster.ha_reason = (char *)"even vote count without a quorum device";
	f->cluster.has_coordinator = 0;
	f->cluster.synced = 0;
	f->cluster.ring = NULL;
	f->state.n_vms = 0;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\nQuorum: no (2 of 4 votes, 3 needed)\n"
			       "HA: disabled (even vote count without a quorum device)\n"
			       "Coordinator: none\n"
			       "State: epoch 3, seq 41, sync: in progress, "
			       "digest a0a1a2a3a4a5a6a7\n"
			       "Members: 3\n"));
	assert_non_null(strstr(text, "\n\nno VMs defined\n"));
	free(text);
}

/* An online dom0 without a usable watchdog says so in its flags. */
static void
test_no_watchdog(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->node[0].has_watchdog_s = 0;
	f->node[0].watchdog_s = 0;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "  h1      1  dom0  online   no-watchdog"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "{\"name\":\"h1\",\"id\":1,\"role\":\"dom0\","
			       "\"state\":\"online\",\"flags\":[\"no-watchdog\"]"));
	free(text);
}

/* An online dom0 whose agent has no hypervisor driver open reports no
 * memory and says why in its flags, before no-watchdog. */
static void
test_no_hypervisor(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->node[0].mem_total_mb = 0;
	f->node[0].mem_free_mb = 0;
	f->node[0].has_watchdog_s = 0;
	f->node[0].watchdog_s = 0;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "  h1      1  dom0  online   no-hypervisor,no-watchdog"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"flags\":[\"no-hypervisor\",\"no-watchdog\"]"));
	free(text);
}

/* A state file that cannot be written is shown for as long as it lasts. */
static void
test_status_state_not_saved(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->cluster.state_save_error = (char *)"cannot save /var/lib/xenmesh/state.bin: "
					      "Read-only file system";
	f->cluster.has_state_save_failing_since_ms = 1;
	f->cluster.state_save_failing_since_ms = 1700000000000ULL;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\nState file: NOT SAVED (cannot save "
			       "/var/lib/xenmesh/state.bin: Read-only file system)\n"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"state_save_error\":\"cannot save "
			       "/var/lib/xenmesh/state.bin: Read-only file system\","));
	free(text);
}

static void
test_status_json(void **state)
{
	struct fixture *f = *state;
	char *text;

	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_string_equal(text,
		"{\"cluster\":{\"name\":\"prod\",\"quorate\":true,"
		"\"quorum_reason\":null,\"coordinator\":\"h1\",\"coordinator_id\":1,"
		"\"epoch\":3,\"seq\":41,\"ha_enabled\":true,\"ha_reason\":null,"
		"\"state_save_error\":null,\"synced\":true,\"digest\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"
		"b4b5b6b7b8b9babbbcbdbebf\",\"local\":\"san1\",\"local_id\":10,"
		"\"votes\":3,\"expected_votes\":4,\"quorum\":3,"
		"\"ring\":{\"nodeid\":1,\"seq\":88},\"members\":[1,10,7]},"
		"\"maintenance\":false,\"admission\":null,"
		"\"nodes\":["
		"{\"name\":\"h1\",\"id\":1,\"role\":\"dom0\",\"state\":\"online\","
		"\"flags\":[],\"cpu\":null,\"drain_parallel\":null,\"drain_force\":false,"
		"\"mem_total_mb\":16384,\"mem_free_mb\":12000,"
		"\"member\":true,\"fence_note\":null},"
		"{\"name\":\"h2\",\"id\":2,\"role\":\"dom0\",\"state\":\"unclean\","
		"\"flags\":[\"maintenance\",\"standby\"],\"cpu\":null,"
		"\"drain_parallel\":null,\"drain_force\":false,\"mem_total_mb\":16384,"
		"\"mem_free_mb\":0,\"member\":false,\"fence_note\":null},"
		"{\"name\":\"san1\",\"id\":10,\"role\":\"san\",\"state\":\"online\","
		"\"flags\":[\"standby\"],\"cpu\":null,\"drain_parallel\":null,"
		"\"drain_force\":false,\"mem_total_mb\":0,\"mem_free_mb\":0,"
		"\"member\":true,\"fence_note\":null},"
		"{\"name\":\"node7\",\"id\":7,\"role\":null,\"state\":null,"
		"\"flags\":[],\"cpu\":null,\"drain_parallel\":null,\"drain_force\":false,"
		"\"mem_total_mb\":0,\"mem_free_mb\":0,\"member\":true,\"fence_note\":null}],"
		"\"vms\":["
		"{\"name\":\"db\",\"state\":\"stopped\",\"host\":null,"
		"\"priority\":0,\"restarts\":0,\"generation\":0,"
		"\"save_requested\":false,\"saved_generation\":0,\"saved_bytes\":0,"
		"\"reason\":null,"
		"\"memory_mb\":512,\"desired\":\"stopped\","
		"\"migrate_to\":null,\"migrate_offline\":false,\"migrate_since_ms\":null,"
		"\"drain_skip\":null},"
		"{\"name\":\"ghost\",\"state\":\"recovering\",\"host\":\"node9\","
		"\"priority\":10,\"restarts\":0,\"generation\":7,"
		"\"save_requested\":false,\"saved_generation\":0,\"saved_bytes\":0,"
		"\"reason\":\"host node9 left without a clean leave; waiting for "
		"its fence to be confirmed\",\"memory_mb\":2048,"
		"\"desired\":\"running\","
		"\"migrate_to\":null,\"migrate_offline\":false,\"migrate_since_ms\":null,"
		"\"drain_skip\":null},"
		"{\"name\":\"web1\",\"state\":\"running\",\"host\":\"h1\","
		"\"priority\":5,\"restarts\":4,\"generation\":3,"
		"\"save_requested\":false,\"saved_generation\":0,\"saved_bytes\":0,"
		"\"reason\":null,"
		"\"memory_mb\":1024,\"desired\":\"running\","
		"\"migrate_to\":null,\"migrate_offline\":false,\"migrate_since_ms\":null,"
		"\"drain_skip\":null}],"
		"\"unmanaged\":[],\"storage\":{\"active_san\":null,\"fenced\":[],\"vm_storage\":{},\"volumes\":[]}}\n");
	free(text);
}

static void
test_nodes(void **state)
{
	struct fixture *f = *state;
	char *text;

	assert_int_equal(ctl_format_nodes(&f->resp, &text), 0);
	assert_string_equal(text,
		"NAME   ID  ROLE  STATE    FLAGS                CPU  MEM(free/total MB)\n"
		"h1      1  dom0  online   -                    -    12000/16384\n"
		"h2      2  dom0  unclean  maintenance,standby  -    0/16384\n"
		"san1   10  san   online   standby              -    -\n"
		"node7   7  -     -        new member           -    -\n");
	free(text);

	/* a member listed twice by CPG (two processes) is one row */
	f->members[1] = 7;
	f->node[2].flags = 0;
	assert_int_equal(ctl_format_nodes(&f->resp, &text), 0);
	assert_string_equal(text,
		"NAME   ID  ROLE  STATE    FLAGS                CPU  MEM(free/total MB)\n"
		"h1      1  dom0  online   -                    -    12000/16384\n"
		"h2      2  dom0  unclean  maintenance,standby  -    0/16384\n"
		"san1   10  san   online   -                    -    -\n"
		"node7   7  -     -        new member           -    -\n");
	free(text);
}

/* Names are whatever cmap and xl.cfg said: the JSON must stay valid. */
static void
test_json_escaping(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->node[0].name = (char *)"we\"ird\\h1\n\t\x01";
	f->vm[2].name = (char *)"caf\xc3\xa9 \xe2\x82\xac";     /* valid UTF-8 */
	f->vm[0].name = (char *)"bad\xff\xc3(\x7f";             /* not UTF-8 */
	f->cluster.name = (char *)"</script>\r\b\f";
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text,
		"{\"cluster\":{\"name\":\"</script>\\r\\b\\f\","));
	assert_non_null(strstr(text,
		"\"coordinator\":\"we\\\"ird\\\\h1\\n\\t\\u0001\","));
	assert_non_null(strstr(text,
		"{\"name\":\"we\\\"ird\\\\h1\\n\\t\\u0001\",\"id\":1,"));
	assert_non_null(strstr(text,
		"{\"name\":\"caf\xc3\xa9 \xe2\x82\xac\",\"state\":\"running\","
		"\"host\":\"we\\\"ird\\\\h1\\n\\t\\u0001\",\"priority\":5,"));
	assert_non_null(strstr(text,
		"{\"name\":\"bad\\ufffd\\ufffd(\\u007f\",\"state\":\"stopped\","));
	free(text);

	/* overlong encodings and surrogates are not UTF-8 either */
	f->vm[0].name = (char *)"\xc0\xaf\xed\xa0\x80";
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text,
		"{\"name\":\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\","));
	free(text);
}

/* ...and in the human views a name cannot drive the terminal or fake a
 * line of output. */
static void
test_human_control_chars(void **state)
{
	struct fixture *f = *state;
	Xenmesh__Event e = XENMESH__EVENT__INIT;
	char *text;

	f->node[1].name = (char *)"h2\x1b[2J";
	f->vm[0].name = (char *)"db\nQuorum: yes";
	f->cluster.name = (char *)"prod\r\x7f";
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "Cluster: prod?? (local node san1, id 10)\n"));
	assert_non_null(strstr(text, "\n  h2?[2J   2  dom0  unclean  "));
	assert_non_null(strstr(text, "\n  db?Quorum: yes  stopped     -        "
			       "0         0  -\n"));
	assert_null(strchr(text, '\x1b'));
	free(text);

	e.time_ms = T_EVENT;
	e.node = 2;
	e.kind = (char *)"state";
	e.text = (char *)"line\nfake\x07";
	assert_int_equal(ctl_format_event(&e, &f->state, &text), 0);
	assert_string_equal(text, "2026-11-22 18:40:01.123  [state] e0/s0 "
			    "h2?[2J: line?fake?\n");
	free(text);
}

static void
test_events(void **state)
{
	struct fixture *f = *state;
	Xenmesh__Event e = XENMESH__EVENT__INIT;
	char *text;

	e.id = 17;
	e.time_ms = T_EVENT;
	e.epoch = 1;
	e.seq = 5;
	e.node = 2;
	e.kind = (char *)"membership";
	e.text = (char *)"left without a clean leave (node down)";
	assert_int_equal(ctl_format_event(&e, &f->state, &text), 0);
	assert_string_equal(text, "2026-11-22 18:40:01.123  [membership] e1/s5 "
			    "h2: left without a clean leave (node down)\n");
	free(text);
	assert_int_equal(ctl_format_event_json(&e, &f->state, &text), 0);
	assert_string_equal(text, "{\"id\":17,\"time\":\"2026-11-22T18:40:01.123Z\","
			    "\"time_ms\":1795372801123,\"epoch\":1,\"seq\":5,"
			    "\"node\":\"h2\",\"node_id\":2,\"kind\":\"membership\","
			    "\"text\":\"left without a clean leave (node down)\"}\n");
	free(text);

	/* about the cluster, and about a node nobody has named */
	e.node = 0;
	e.time_ms = T_EVENT + 877;
	e.kind = (char *)"quorum";
	e.text = (char *)"quorate \"again\"";
	assert_int_equal(ctl_format_event(&e, NULL, &text), 0);
	assert_string_equal(text, "2026-11-22 18:40:02.000  [quorum] e1/s5 "
			    "cluster: quorate \"again\"\n");
	free(text);
	assert_int_equal(ctl_format_event_json(&e, NULL, &text), 0);
	assert_string_equal(text, "{\"id\":17,\"time\":\"2026-11-22T18:40:02.000Z\","
			    "\"time_ms\":1795372802000,\"epoch\":1,\"seq\":5,"
			    "\"node\":null,\"node_id\":0,\"kind\":\"quorum\","
			    "\"text\":\"quorate \\\"again\\\"\"}\n");
	free(text);
	e.node = 33;
	assert_int_equal(ctl_format_event(&e, &f->state, &text), 0);
	assert_string_equal(text, "2026-11-22 18:40:02.000  [quorum] e1/s5 "
			    "node33: quorate \"again\"\n");
	free(text);
}

static void
test_result_json(void **state)
{
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	char *text;

	r.result = -EACCES;
	r.message = (char *)"permission denied: node maintenance needs root "
			    "or group xm\"admin";
	assert_int_equal(ctl_format_result_json(&r, &text), 0);
	assert_string_equal(text, "{\"result\":-13,\"message\":\"permission denied: "
			    "node maintenance needs root or group xm\\\"admin\"}\n");
	free(text);
	r.result = 0;
	r.message = NULL;
	assert_int_equal(ctl_format_result_json(&r, &text), 0);
	assert_string_equal(text, "{\"result\":0,\"message\":null}\n");
	free(text);
}

/* The VMs table keeps to 80 columns by cutting the reason (39 columns
 * here, without the indent of status), by code points, never inside a
 * UTF-8 sequence; wide names leave it 20. */
static void
test_vm_table(void **state)
{
	struct fixture *f = *state;
	char *text;

	/* 40 columns: cut right after a two-byte character */
	f->vm[1].reason = (char *)"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9tail";
	/* 39 columns in 78 bytes: fits, whole */
	f->vm[2].reason = (char *)"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	assert_int_equal(ctl_format_vms(&f->resp, T_EVENT, &text), 0);
	assert_string_equal(text,
		"NAME   STATE       HOST   PRI  RESTARTS  REASON\n"
		"db     stopped     -        0         0  -\n"
		"ghost  recovering  node9   10         0  "
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9...\n"
		"web1   running     h1       5         4  "
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n");
	free(text);
}

static void
test_vm_table_cut(void **state)
{
	struct fixture *f = *state;
	char *text;

	/* a 40-character name: the reason keeps 20 columns */
	f->vm[1].name = (char *)"ghost-with-a-very-long-name-0123456789ab";
	f->vm[1].reason = (char *)"host node9 left without a clean leave";
	assert_int_equal(ctl_format_vms(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text,
		"\nghost-with-a-very-long-name-0123456789ab  recovering  node9"
		"   10         0  host node9 left w...\n"));
	free(text);
}

static void
test_vm_list(void **state)
{
	struct fixture *f = *state;
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	char *text;

	assert_int_equal(ctl_format_vms(&r, T_EVENT, &text), 0);
	assert_string_equal(text, "no VMs defined\n");
	free(text);
	assert_int_equal(ctl_format_vms_json(&r, &text), 0);
	assert_string_equal(text, "{\"vms\":[],\"unmanaged\":[]}\n");
	free(text);

	f->state.n_vms = 1;
	f->vm[0].reason = (char *)"";           /* empty is no reason */
	assert_int_equal(ctl_format_vms_json(&f->resp, &text), 0);
	assert_string_equal(text,
		"{\"vms\":[{\"name\":\"db\",\"state\":\"stopped\",\"host\":null,"
		"\"priority\":0,\"restarts\":0,\"generation\":0,"
		"\"save_requested\":false,\"saved_generation\":0,\"saved_bytes\":0,"
		"\"reason\":null,"
		"\"memory_mb\":512,\"desired\":\"stopped\","
		"\"migrate_to\":null,\"migrate_offline\":false,\"migrate_since_ms\":null,"
		"\"drain_skip\":null}],\"unmanaged\":[]}\n");
	free(text);
}

static void
test_unmanaged(void **state)
{
	struct fixture *f = *state;
	char *names[2] = { (char *)"win7", (char *)"old\ndb" };
	char *text;

	f->resp.n_unmanaged = 2;
	f->resp.unmanaged = names;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "  web1   running     h1       5         4  -\n"
			       "\nUnmanaged domains on this host: win7, old?db\n"));
	assert_int_equal(strlen(strstr(text, "\nUnmanaged")),
			 strlen("\nUnmanaged domains on this host: win7, old?db\n"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"drain_skip\":null}],"
			       "\"unmanaged\":[\"win7\",\"old\\ndb\"],\"storage\":{\"active_san\":null,\"fenced\":[],\"vm_storage\":{},\"volumes\":[]}}\n"));
	free(text);
	assert_int_equal(ctl_format_vms(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\n\nUnmanaged domains on this host: "
			       "win7, old?db\n"));
	free(text);

	/* without VMs */
	f->state.n_vms = 0;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\n\nno VMs defined\n\n"
			       "Unmanaged domains on this host: win7, old?db\n"));
	free(text);
}

static void
test_vm_show(void **state)
{
	struct fixture *f = *state;
	char *text = (char *)"untouched";

	/* no such VM, and no state at all */
	assert_int_equal(ctl_format_vm(&f->resp, "web2", T_EVENT, &text), -ENOENT);
	assert_null(text);
	text = (char *)"untouched";
	assert_int_equal(ctl_format_vm_json(&f->resp, "web", T_EVENT, &text),
			 -ENOENT);
	assert_null(text);
	f->resp.state = NULL;
	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT, &text), -ENOENT);
	f->resp.state = &f->state;

	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT, &text), 0);
	assert_string_equal(text,
		"VM:              web1\n"
		"State:           running\n"
		"Host:            h1\n"
		"Generation:      3\n"
		"Desired:         running on h2\n"
		"Avoid host:      h2\n"
		"Memory:          1024 MB\n"
		"Priority:        5\n"
		"Restart policy:  on-failure, at most 2 restarts in 300 s\n"
		"Preferred hosts: h2, h1\n"
		"Anti-affinity:   web\n"
		"Start after:     db\n"
		"Restarts:        1 in the last 300 s, 4 in total\n"
		"  2026-11-22 18:33:21  after it died on h2\n"
		"  2026-11-22 18:39:01  after it died on h2\n"
		"Reason:          -\n"
		"Config:\n"
		"  name = \"web1\"\n"
		"  memory = 1024\n"
		"\n"
		"  \tvcpus = 2?[2J\n"
		"  ha_priority = 5\n");
	free(text);

	/* a restart exactly a window old has expired (as ha/restart.c) */
	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT - 60000 + 300000,
				       &text), 0);
	assert_non_null(strstr(text, "\nRestarts:        0 in the last 300 s, "
			       "4 in total\n"));
	free(text);

	assert_int_equal(ctl_format_vm(&f->resp, "ghost", T_EVENT, &text), 0);
	assert_string_equal(text,
		"VM:              ghost\n"
		"State:           recovering\n"
		"Host:            node9\n"
		"Generation:      7\n"
		"Desired:         running\n"
		"Memory:          2048 MB\n"
		"Priority:        10\n"
		"Restart policy:  always, at most 3 restarts in 600 s\n"
		"Preferred hosts: -\n"
		"Anti-affinity:   -\n"
		"Start after:     -\n"
		"Restarts:        0 in the last 600 s, 0 in total\n"
		"Reason:          host node9 left without a clean leave; waiting "
		"for its fence to be confirmed\n"
		"Config:          (not sent by xenmeshd)\n");
	free(text);

	assert_int_equal(ctl_format_vm_json(&f->resp, "web1", T_EVENT, &text), 0);
	assert_string_equal(text,
		"{\"name\":\"web1\",\"state\":\"running\",\"host\":\"h1\","
		"\"generation\":3,"
		"\"save_requested\":false,\"saved_generation\":0,\"saved_bytes\":0,"
		"\"desired\":\"running\",\"want_host\":\"h2\","
		"\"avoid_host\":\"h2\",\"memory_mb\":1024,\"priority\":5,"
		"\"restart\":\"on-failure\",\"max_restarts\":2,"
		"\"restart_window_s\":300,\"hosts\":[\"h2\",\"h1\"],"
		"\"anti_affinity\":\"web\",\"start_after\":[\"db\"],\"restarts\":4,"
		"\"restarts_in_window\":1,\"restart_history\":["
		"{\"time_ms\":1795372401123,\"host\":\"h2\"},"
		"{\"time_ms\":1795372741123,\"host\":\"h2\"}],"
		"\"migrate_to\":null,\"migrate_offline\":false,\"migrate_since_ms\":null,"
		"\"drain_skip\":null,\"reason\":null,\"vifs\":[],"
		"\"config\":\"name = \\\"web1\\\"\\nmemory = 1024\\n\\n"
		"\\tvcpus = 2\\u001b[2J\\nha_priority = 5\"}\n");
	free(text);

	assert_int_equal(ctl_format_vm_json(&f->resp, "db", T_EVENT, &text), 0);
	assert_string_equal(text,
		"{\"name\":\"db\",\"state\":\"stopped\",\"host\":null,"
		"\"generation\":0,"
		"\"save_requested\":false,\"saved_generation\":0,\"saved_bytes\":0,"
		"\"desired\":\"stopped\",\"want_host\":null,"
		"\"avoid_host\":null,\"memory_mb\":512,\"priority\":0,"
		"\"restart\":\"always\",\"max_restarts\":3,"
		"\"restart_window_s\":600,\"hosts\":[],\"anti_affinity\":null,"
		"\"start_after\":[],\"restarts\":0,\"restarts_in_window\":0,"
		"\"restart_history\":[],"
		"\"migrate_to\":null,\"migrate_offline\":false,\"migrate_since_ms\":null,"
		"\"drain_skip\":null,\"reason\":null,\"vifs\":[],\"config\":null}\n");
	free(text);

	/* the vifs: the MAC each has (allocated at define), and its bridge */
	f->vm[2].config = (char *)"vif = [ 'mac=00:16:3e:0a:0b:0c,bridge=xenbr0',\n"
		"  'bridge=br1', '' ]\n";
	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT, &text), 0);
	assert_non_null(strstr(text, "Reason:          -\n"
		"Vif 0:           mac 00:16:3e:0a:0b:0c, bridge xenbr0\n"
		"Vif 1:           no MAC (xl picks one at each start), bridge br1\n"
		"Vif 2:           no MAC (xl picks one at each start), bridge -\n"
		"Config:\n  vif = [ 'mac="));
	free(text);
	assert_int_equal(ctl_format_vm_json(&f->resp, "web1", T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\"vifs\":[{\"mac\":\"00:16:3e:0a:0b:0c\","
		"\"bridge\":\"xenbr0\"},{\"mac\":null,\"bridge\":\"br1\"},"
		"{\"mac\":null,\"bridge\":null}],\"config\":"));
	free(text);
	f->vm[2].config = (char *)"vif = [ 'mac=01:16:3e:0a:0b:0c' ]\n";
	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT, &text), 0);
	assert_non_null(strstr(text, "Vifs:            ? (vif 0: MAC address "
		"01:16:3e:0a:0b:0c is a multicast address"));
	free(text);
}

static void
test_admission(void **state)
{
	struct fixture *f = *state;
	char *failing[2];
	char *text;

	/* every host may fail */
	f->cluster.has_admission_ok = 1;
	f->cluster.admission_ok = 1;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\nHA: enabled\n"
			       "Failover capacity: ok (any one host can fail)\n"
			       "Coordinator: h1 (id 1)\n"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"members\":[1,10,7]},\"maintenance\":false,"
			       "\"admission\":{\"ok\":true,\"failing\":[]},"
			       "\"nodes\":[{"));
	free(text);

	/* two hosts whose failure would leave VMs down; a control
	 * character in a name shown as '?' in the human view only */
	failing[0] = (char *)"if h1 fails: web1, db cannot be restarted "
		"(needs 1024 MB, largest free 512 MB on h3)";
	failing[1] = (char *)"if h3 fails: w\x1b" "b cannot be restarted "
		"(no eligible host (h1: failed, h2: unclean))";
	f->cluster.admission_ok = 0;
	f->cluster.n_admission = 2;
	f->cluster.admission = failing;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\nHA: enabled\n"
			       "Failover capacity: NOT ok\n"
			       "  if h1 fails: web1, db cannot be restarted "
			       "(needs 1024 MB, largest free 512 MB on h3)\n"
			       "  if h3 fails: w?b cannot be restarted "
			       "(no eligible host (h1: failed, h2: unclean))\n"
			       "Coordinator: h1 (id 1)\n"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"admission\":{\"ok\":false,\"failing\":["
			       "\"if h1 fails: web1, db cannot be restarted "
			       "(needs 1024 MB, largest free 512 MB on h3)\","
			       "\"if h3 fails: w\\u001bb cannot be restarted "
			       "(no eligible host (h1: failed, h2: unclean))\"]},"
			       "\"nodes\":[{"));
	free(text);

	/* an older agent says nothing: no line at all */
	f->cluster.has_admission_ok = 0;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_null(strstr(text, "Failover"));
	free(text);
}

static void
test_fence_history(void **state)
{
	struct fixture *f = *state;
	Xenmesh__CtlResponse bare = XENMESH__CTL_RESPONSE__INIT;
	Xenmesh__Event e = XENMESH__EVENT__INIT;
	Xenmesh__Event *events[1] = { &e };
	char *steps[2];
	char *text = (char *)"untouched";

	/* needs the cluster view: who is coordinator, who answered */
	assert_int_equal(ctl_format_fence_history(&bare, &text), -EINVAL);
	assert_null(text);
	text = (char *)"untouched";
	assert_int_equal(ctl_format_fence_history_json(&bare, &text), -EINVAL);
	assert_null(text);
	assert_int_equal(ctl_format_fence_history_here(&bare), 0);

	/* asked on san1 (10), the coordinator is h1: no steps here */
	assert_int_equal(ctl_format_fence_history_here(&f->resp), 0);
	assert_int_equal(ctl_format_fence_history(&f->resp, &text), 0);
	assert_string_equal(text, "Fence events in the log of san1:\n  none\n");
	free(text);
	assert_int_equal(ctl_format_fence_history_json(&f->resp, &text), 0);
	assert_string_equal(text, "{\"coordinator\":\"h1\",\"local\":\"san1\","
			    "\"steps\":null,\"events\":[]}\n");
	free(text);

	/* asked on the coordinator h1 */
	f->cluster.local_id = 1;
	e.id = 4;
	e.time_ms = T_EVENT;
	e.epoch = 3;
	e.seq = 40;
	e.node = 2;
	e.kind = (char *)"fence";
	e.text = (char *)"level 1 deadline: ok";
	f->resp.n_events = 1;
	f->resp.events = events;
	assert_int_equal(ctl_format_fence_history_here(&f->resp), 1);
	assert_int_equal(ctl_format_fence_history(&f->resp, &text), 0);
	assert_string_equal(text,
		"Fence steps of the hosts being fenced now (coordinator h1):\n"
		"  none: no host is being fenced\n"
		"\n"
		"Fence events in the log of h1:\n"
		"  2026-11-22 18:40:01.123  [fence] e3/s40 h2: "
		"level 1 deadline: ok\n");
	free(text);

	steps[0] = (char *)"h2: attempt 1 level 1 fence-agent fence_ipmilan: "
		"failed after 1200 ms: exit 1";
	steps[1] = (char *)"h2: attempt 1 level 2 deadline: waiting";
	f->resp.n_fence_history = 2;
	f->resp.fence_history = steps;
	assert_int_equal(ctl_format_fence_history(&f->resp, &text), 0);
	assert_string_equal(text,
		"Fence steps of the hosts being fenced now (coordinator h1):\n"
		"  h2: attempt 1 level 1 fence-agent fence_ipmilan: failed "
		"after 1200 ms: exit 1\n"
		"  h2: attempt 1 level 2 deadline: waiting\n"
		"\n"
		"Fence events in the log of h1:\n"
		"  2026-11-22 18:40:01.123  [fence] e3/s40 h2: "
		"level 1 deadline: ok\n");
	free(text);
	assert_int_equal(ctl_format_fence_history_json(&f->resp, &text), 0);
	assert_string_equal(text,
		"{\"coordinator\":\"h1\",\"local\":\"h1\",\"steps\":["
		"\"h2: attempt 1 level 1 fence-agent fence_ipmilan: failed "
		"after 1200 ms: exit 1\","
		"\"h2: attempt 1 level 2 deadline: waiting\"],"
		"\"events\":[{\"id\":4,\"time\":\"2026-11-22T18:40:01.123Z\","
		"\"time_ms\":1795372801123,\"epoch\":3,\"seq\":40,\"node\":\"h2\","
		"\"node_id\":2,\"kind\":\"fence\","
		"\"text\":\"level 1 deadline: ok\"}]}\n");
	free(text);

	/* no coordinator at all */
	f->cluster.has_coordinator = 0;
	assert_int_equal(ctl_format_fence_history_here(&f->resp), 0);
	assert_int_equal(ctl_format_fence_history_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "{\"coordinator\":null,\"local\":\"h1\","
			       "\"steps\":null,\"events\":[{"));
	free(text);
}

static void
test_fence_config(void **state)
{
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	char *text;

	assert_int_equal(ctl_format_fence_config(&r, &text), 0);
	assert_string_equal(text, "# no fence configuration: every host uses "
			    "the default chain\n");
	free(text);
	assert_int_equal(ctl_format_fence_config_json(&r, &text), 0);
	assert_string_equal(text, "{\"config\":null}\n");
	free(text);

	r.fence_config = (char *)"h1: level 1 fence-agent agent=fence_ipmilan "
		"password=***";
	assert_int_equal(ctl_format_fence_config(&r, &text), 0);
	assert_string_equal(text, "h1: level 1 fence-agent agent=fence_ipmilan "
			    "password=***\n");
	free(text);
	r.fence_config = (char *)"h1: level 1 deadline\nh2: level 1 xl-ssh\n";
	assert_int_equal(ctl_format_fence_config(&r, &text), 0);
	assert_string_equal(text, "h1: level 1 deadline\nh2: level 1 xl-ssh\n");
	free(text);
	assert_int_equal(ctl_format_fence_config_json(&r, &text), 0);
	assert_string_equal(text, "{\"config\":\"h1: level 1 deadline\\nh2: "
			    "level 1 xl-ssh\\n\"}\n");
	free(text);
}

/* volume list, storage status (with a SAN node's daemon view), and the
 * storage line and member of status. */
static void
test_storage(void **state)
{
	struct fixture *f = *state;
	Xenmesh__Volume v[2] = { XENMESH__VOLUME__INIT, XENMESH__VOLUME__INIT };
	Xenmesh__Volume *vp[2] = { &v[0], &v[1] };
	Xenmesh__StorageLun lun = XENMESH__STORAGE_LUN__INIT;
	Xenmesh__StorageLun *lunp = &lun;
	Xenmesh__StorageSession ses = XENMESH__STORAGE_SESSION__INIT;
	Xenmesh__StorageSession *sesp = &ses;
	Xenmesh__StorageTarget t = XENMESH__STORAGE_TARGET__INIT;
	Xenmesh__StorageTarget *tp = &t;
	Xenmesh__StorageView sv = XENMESH__STORAGE_VIEW__INIT;
	Xenmesh__StorageResource res[2] = { XENMESH__STORAGE_RESOURCE__INIT,
					    XENMESH__STORAGE_RESOURCE__INIT };
	Xenmesh__StorageResource *resp[2] = { &res[0], &res[1] };
	char *acl[1] = { (char *)"iqn.x:h1" };
	char *text;

	v[0].name = "web1-root"; v[0].vm = "web1"; v[0].disk = "root";
	v[0].size_bytes = 1 << 30; v[0].lun = 1; v[0].state = "ready";
	v[1].name = "web1-swap"; v[1].vm = "web1"; v[1].disk = "swap";
	v[1].size_bytes = 1 << 20; v[1].lun = 2; v[1].state = "failed";
	v[1].reason = "Volume group \"vgsan\" has insufficient free space";
	f->state.n_volumes = 2;
	f->state.volumes = vp;
	f->state.has_active_san = true;
	f->state.active_san = 10;
	f->node[1].flags |= XENMESH__NODE_FLAG__FLAG_STORAGE_FENCED;

	assert_int_equal(ctl_format_volumes(&f->resp, &text), 0);
	assert_string_equal(text,
		"VOLUME                   VM               DISK      LUN           SIZE  STATE\n"
		"web1-root                web1             root        1     1073741824  ready\n"
		"web1-swap                web1             swap        2        1048576  failed: "
		"Volume group \"vgsan\" has insufficient free space\n");
	free(text);
	assert_int_equal(ctl_format_volumes_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "{\"volumes\":[{\"name\":\"web1-root\",\"vm\":\"web1\","
			       "\"disk\":\"root\",\"lun\":1,\"size_bytes\":1073741824,"
			       "\"state\":\"ready\",\"reason\":null},"));
	free(text);

	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\nStorage: active SAN san1, 2 volumes, "
			       "storage-fenced: h2\n"));
	assert_non_null(strstr(text, "maintenance,standby,storage-fenced"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"storage\":{\"active_san\":\"san1\",\"fenced\":[\"h2\"],"));
	free(text);

	/* a dom0's answer has no daemon view */
	assert_int_equal(ctl_format_storage(&f->resp, &text), 0);
	assert_non_null(strstr(text, "Active SAN node: san1\nStorage-fenced hosts: h2\n"));
	assert_non_null(strstr(text, "this node is not a SAN node"));
	free(text);

	lun.lun = 1; lun.path = "/dev/drbd0";
	ses.sid = 4; ses.initiator = "iqn.x:h1"; ses.address = "10.0.3.1";
	t.tid = 1; t.iqn = "iqn.x:web1"; t.ready = true;
	t.n_luns = 1; t.luns = &lunp; t.n_acl = 1; t.acl = acl;
	t.n_sessions = 1; t.sessions = &sesp;
	sv.node = "san1"; sv.exporting = true; sv.portal = "10.0.3.100";
	sv.backend = "lvm"; sv.mirror = "drbd"; sv.n_targets = 1; sv.targets = &tp;
	res[0].name = "web1-root"; res[0].role = "Primary"; res[0].peer_role = "Unknown";
	res[0].disk = "UpToDate"; res[0].peer_disk = "DUnknown";
	res[0].connection = "StandAlone"; res[0].has_split_brain = true;
	res[0].split_brain = true;
	res[1].name = "web1-swap";
	sv.n_resources = 2; sv.resources = resp;
	f->resp.storage = &sv;
	assert_int_equal(ctl_format_storage(&f->resp, &text), 0);
	assert_non_null(strstr(text,
		"Target daemon of san1: exporting on portal 10.0.3.100 (backend lvm, mirror drbd)\n"
		"  DRBD web1-root: Primary/Unknown UpToDate/DUnknown StandAlone"
		"  SPLIT BRAIN: a person must decide\n"
		"  DRBD web1-swap: not up\n"
		"  target 1 iqn.x:web1 (ready)\n"
		"    LUN 1: /dev/drbd0\n"
		"    ACL: iqn.x:h1\n"
		"    session 4: iqn.x:h1 from 10.0.3.1\n"));
	free(text);
	assert_int_equal(ctl_format_storage_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"daemon\":{\"node\":\"san1\",\"exporting\":true,"
			       "\"portal\":\"10.0.3.100\",\"backend\":\"lvm\","
			       "\"mirror\":\"drbd\",\"error\":null,\"resources\":[{\"name\":"
			       "\"web1-root\",\"role\":\"Primary\",\"peer_role\":\"Unknown\","
			       "\"disk\":\"UpToDate\",\"peer_disk\":\"DUnknown\",\"connection\":"
			       "\"StandAlone\",\"split_brain\":true},{\"name\":\"web1-swap\","
			       "\"role\":null,\"peer_role\":null,\"disk\":null,\"peer_disk\":null,"
			       "\"connection\":null,\"split_brain\":false}],\"targets\":[{\"tid\":1,"
			       "\"iqn\":\"iqn.x:web1\",\"ready\":true,\"luns\":[{\"lun\":1,"
			       "\"path\":\"/dev/drbd0\"}],\"acl\":[\"iqn.x:h1\"],\"sessions\":"
			       "[{\"sid\":4,\"initiator\":\"iqn.x:h1\",\"address\":\"10.0.3.1\"}]}]}"));
	free(text);
	f->resp.storage = NULL;
	f->state.n_volumes = 0;
	f->state.volumes = NULL;
}

/* A host unclean because only its agent left says so. */
static void
test_node_agent_down(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->node[1].flags = XENMESH__NODE_FLAG__FLAG_AGENT_DOWN;
	assert_int_equal(ctl_format_nodes(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\nh2      2  dom0  unclean  agent-down"));
	free(text);
	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"state\":\"unclean\",\"flags\":[\"agent-down\"]"));
	free(text);
}

/* Cluster maintenance, a draining host, a migrating VM: the status, node
 * list, vm show and their JSON. */
static void
test_status_maintenance(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->state.has_frozen = 1;
	f->state.frozen = 1;
	f->node[0].flags = XENMESH__NODE_FLAG__FLAG_MAINTENANCE |
		XENMESH__NODE_FLAG__FLAG_DRAINING;
	f->node[0].has_drain_parallel = 1;
	f->node[0].drain_parallel = 2;
	f->node[0].cpu = (char *)"skylake";
	f->vm[2].state = (char *)"migrating";
	f->vm[2].has_migrate_to = 1;
	f->vm[2].migrate_to = 2;
	f->vm[2].has_migrate_since_ms = 1;
	f->vm[2].migrate_since_ms = T_EVENT - 12400;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	/* the banner first, loud */
	assert_true(strncmp(text, "CLUSTER MAINTENANCE: no recovery, fencing or "
			    "placement until 'agentctl cluster maintenance off'\n"
			    "\nCluster: prod (local node san1, id 10)\n",
			    strlen("CLUSTER MAINTENANCE: no recovery, fencing or "
				   "placement until 'agentctl cluster maintenance "
				   "off'\n\nCluster: prod")) == 0);
	assert_non_null(strstr(text,
		"  NAME   ID  ROLE  STATE    FLAGS                              "
		"MEM(free/total MB)\n"
		"  h1      1  dom0  online   maintenance,draining (parallel 2)"
		"  12000/16384\n"));
	assert_non_null(strstr(text,
		"  web1   migrating   h1       5         4  migrating h1 -> h2, "
		"12 s\n"));
	free(text);

	/* offline, with --force, a reason too, and long ago */
	f->node[0].has_drain_force = 1;
	f->node[0].drain_force = 1;
	f->vm[2].has_migrate_offline = 1;
	f->vm[2].migrate_offline = 1;
	f->vm[2].reason = (char *)"stopping on h1";
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT + 600000, &text), 0);
	assert_non_null(strstr(text, "  h1      1  dom0  online   maintenance,"
			       "draining (parallel 2, force)  12000/16384\n"));
	assert_non_null(strstr(text, "  web1   migrating   h1       5         4  "
			       "migrating h1 -> h2 (offline), 10 m...\n"));
	free(text);

	/* node list: with the CPU class */
	assert_int_equal(ctl_format_nodes(&f->resp, &text), 0);
	assert_non_null(strstr(text,
		"NAME   ID  ROLE  STATE    FLAGS                                   "
		"  CPU      MEM(free/total MB)\n"
		"h1      1  dom0  online   maintenance,draining (parallel 2, force)"
		"  skylake  12000/16384\n"
		"h2      2  dom0  unclean  maintenance,standby                     "
		"  -        0/16384\n"));
	free(text);

	assert_int_equal(ctl_format_status_json(&f->resp, &text), 0);
	assert_non_null(strstr(text, "\"members\":[1,10,7]},\"maintenance\":true,"));
	assert_non_null(strstr(text, "{\"name\":\"h1\",\"id\":1,\"role\":\"dom0\","
			       "\"state\":\"online\",\"flags\":[\"maintenance\","
			       "\"draining\"],\"cpu\":\"skylake\","
			       "\"drain_parallel\":2,\"drain_force\":true,"));
	assert_non_null(strstr(text, "\"desired\":\"running\",\"migrate_to\":\"h2\","
			       "\"migrate_offline\":true,"
			       "\"migrate_since_ms\":1795372788723,"
			       "\"drain_skip\":null}]"));
	free(text);

	/* vm show: where it goes; a VM its drain leaves where it is */
	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\nMigrating:       h1 -> h2 (offline), 12 s\n"
			       "Reason:          stopping on h1\n"));
	free(text);
	f->vm[2].has_migrate_to = 0;
	f->vm[2].state = (char *)"running";
	f->vm[2].has_drain_skip = 1;
	f->vm[2].drain_skip = 1;
	assert_int_equal(ctl_format_vm(&f->resp, "web1", T_EVENT, &text), 0);
	assert_null(strstr(text, "Migrating:"));
	assert_non_null(strstr(text, "\nDrain:           stays on h1 (its move "
			       "failed)\nReason:          stopping on h1\n"));
	free(text);
	assert_int_equal(ctl_format_vm_json(&f->resp, "web1", T_EVENT, &text), 0);
	assert_non_null(strstr(text, "\"migrate_to\":null,\"migrate_offline\":false,"
			       "\"migrate_since_ms\":null,\"drain_skip\":\"h1\","));
	free(text);

	/* out of maintenance: no banner */
	f->state.frozen = 0;
	f->state.has_frozen = 0;
	assert_int_equal(ctl_format_status(&f->resp, T_EVENT, &text), 0);
	assert_true(strncmp(text, "Cluster: prod", 13) == 0);
	assert_null(strstr(text, "MAINTENANCE"));
	free(text);
}

static void
item_set(Xenmesh__DrainItem *it, const char *vm, const char *action,
	 const char *dest, const char *reason, uint32_t pri)
{
	Xenmesh__DrainItem init = XENMESH__DRAIN_ITEM__INIT;

	*it = init;
	it->vm = (char *)vm;
	it->action = (char *)action;
	it->dest = (char *)dest;
	it->reason = (char *)reason;
	it->has_priority = 1;
	it->priority = pri;
}

static void
test_drain_plan(void **state)
{
	Xenmesh__CtlResponse r = XENMESH__CTL_RESPONSE__INIT;
	Xenmesh__DrainItem it[6];
	Xenmesh__DrainItem *items[6];
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++)
		items[i] = &it[i];
	/* nothing on the host */
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_string_equal(text, "h1 runs no VMs: nothing to move\n");
	free(text);
	assert_true(ctl_format_drain_plan_ok(&r));

	item_set(&it[0], "db1", "migrate", "h2", "most free memory (12000 MB)", 10);
	item_set(&it[1], "web1", "moving", "h3", NULL, 5);
	r.n_drain_plan = 2;
	r.drain_plan = items;
	r.has_drain_ok = 1;
	r.drain_ok = 1;
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_string_equal(text,
		"Drain plan of h1, in the order the VMs move:\n"
		"  VM    ACTION   DESTINATION  PRI  REASON\n"
		"  db1   migrate  h2            10  most free memory (12000 MB)\n"
		"  web1  moving   h3             5  -\n"
		"all 2 VMs can move live\n");
	free(text);
	r.n_drain_plan = 1;
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_non_null(strstr(text, "\nits VM can move live\n"));
	free(text);

	/* refused: what --force would do; what it cannot change */
	item_set(&it[2], "app1", "offline", "h4", "CPU class differs (h1: "
		 "skylake, h4: zen2)", 5);
	item_set(&it[3], "db2", "shutdown", NULL, "no host fits: needs 65536 MB",
		 1);
	item_set(&it[4], "web3", "shutdown", "", "anti-affinity group web: "
		 "every host runs one", 0);
	item_set(&it[5], "tmp\x1b", "wait", NULL, "starting on h1", 0);
	r.n_drain_plan = 6;
	r.drain_ok = 0;
	r.result = -EBUSY;
	assert_false(ctl_format_drain_plan_ok(&r));
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_string_equal(text,
		"Drain plan of h1, in the order the VMs move:\n"
		"  VM    ACTION    DESTINATION  PRI  REASON\n"
		"  db1   migrate   h2            10  most free memory (12000 MB)\n"
		"  web1  moving    h3             5  -\n"
		"  app1  offline   h4             5  CPU class differs (h1: "
		"skylake, h4: zen2)\n"
		"  db2   shutdown  -              1  no host fits: needs 65536 MB\n"
		"  web3  shutdown  -              0  anti-affinity group web: "
		"every host runs one\n"
		"  tmp?  wait      -              0  starting on h1\n"
		"refused: 4 VMs cannot move live; --force would shut down db2, "
		"web3 and move app1 offline; tmp? waits (starting or stopping)\n");
	free(text);

	/* --force, accepted: what it does */
	r.result = 0;
	r.n_drain_plan = 5;
	assert_int_equal(ctl_format_drain_plan(&r, "h1", true, &text), 0);
	assert_non_null(strstr(text, "\n3 VMs cannot move live; --force shuts "
			       "down db2, web3 and moves app1 offline\n"));
	free(text);

	/* a dry run of one that cannot go ahead: a VM whose move failed */
	item_set(&it[1], "web1", "stay", NULL, "migration to h3 failed: "
		 "timeout", 5);
	r.n_drain_plan = 3;
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_non_null(strstr(text, "\n2 VMs cannot move live; --force would "
			       "move app1 offline; web1 stays on h1 (its move "
			       "failed)\n"));
	free(text);
	r.n_drain_plan = 2;
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_non_null(strstr(text, "\n1 VM cannot move live; web1 stays on h1 "
			       "(its move failed)\n"));
	free(text);

	/* the agent refused a good plan (cluster maintenance): its message
	 * says why, no verdict */
	r.n_drain_plan = 1;
	r.drain_ok = 1;
	r.result = -EBUSY;
	assert_int_equal(ctl_format_drain_plan(&r, "h1", false, &text), 0);
	assert_null(strstr(text, "live"));
	free(text);

	/* an older agent without drain_ok: every item migrate or moving */
	r.has_drain_ok = 0;
	r.n_drain_plan = 2;
	item_set(&it[1], "web1", "moving", "h3", NULL, 5);
	assert_true(ctl_format_drain_plan_ok(&r));
	r.n_drain_plan = 3;
	assert_false(ctl_format_drain_plan_ok(&r));

	r.result = -EBUSY;
	r.message = (char *)"drain of h1 refused";
	r.has_drain_ok = 1;
	r.drain_ok = 0;
	r.n_drain_plan = 3;
	assert_int_equal(ctl_format_drain_plan_json(&r, "h1", &text), 0);
	assert_string_equal(text,
		"{\"event\":\"plan\",\"host\":\"h1\",\"result\":-16,"
		"\"message\":\"drain of h1 refused\",\"ok\":false,\"plan\":["
		"{\"vm\":\"db1\",\"action\":\"migrate\",\"dest\":\"h2\","
		"\"reason\":\"most free memory (12000 MB)\",\"priority\":10},"
		"{\"vm\":\"web1\",\"action\":\"moving\",\"dest\":\"h3\","
		"\"reason\":null,\"priority\":5},"
		"{\"vm\":\"app1\",\"action\":\"offline\",\"dest\":\"h4\","
		"\"reason\":\"CPU class differs (h1: skylake, h4: zen2)\","
		"\"priority\":5}]}\n");
	free(text);
}

/* web1 and db on h1, which drains: the status answers one after another. */
static void
drain_vms(struct fixture *f)
{
	f->node[0].flags = XENMESH__NODE_FLAG__FLAG_MAINTENANCE |
		XENMESH__NODE_FLAG__FLAG_DRAINING;
	f->vm[0].state = (char *)"running";
	f->vm[0].has_host = 1;
	f->vm[0].host = 1;
}

static char *
watch_step(struct ctl_drain_watch *w, struct fixture *f,
	   enum ctl_drain_style style)
{
	char *text = NULL;

	assert_int_equal(ctl_format_drain_watch_update(w, &f->state, style, &text),
			 0);
	return text;
}

#define assert_step(w, f, style, want) do { \
	char *t_ = watch_step(w, f, style); \
	assert_string_equal(t_, want); \
	free(t_); \
} while (0)

#define assert_progress(w, want) do { \
	char *t_ = NULL; \
	assert_int_equal(ctl_format_drain_watch_progress(w, &t_), 0); \
	assert_string_equal(t_, want); \
	free(t_); \
} while (0)

static void
test_drain_watch(void **state)
{
	struct fixture *f = *state;
	struct ctl_drain_watch *w[3];
	char *text;
	size_t left = 99, i;

	drain_vms(f);
	/* no plan: the VMs on h1 (ghost on node9 is not) */
	for (i = 0; i < 3; i++)
		assert_int_equal(ctl_format_drain_watch_new("h1", NULL, &f->state,
							    &w[i]), 0);
	/* where they are when it starts: nothing to say */
	assert_step(w[0], f, CTL_DRAIN_LINES, "");
	assert_step(w[1], f, CTL_DRAIN_FINISHED, "");
	assert_step(w[2], f, CTL_DRAIN_JSON, "");
	assert_progress(w[1], "draining h1 [--------------------] 0/2 moved, "
			"0 migrating");

	/* web1 leaves */
	f->vm[2].state = (char *)"migrating";
	f->vm[2].has_migrate_to = 1;
	f->vm[2].migrate_to = 2;
	assert_step(w[0], f, CTL_DRAIN_LINES, "web1: migrating to h2\n");
	assert_step(w[1], f, CTL_DRAIN_FINISHED, "");
	assert_step(w[2], f, CTL_DRAIN_JSON,
		    "{\"event\":\"migrating\",\"vm\":\"web1\",\"host\":\"h1\","
		    "\"dest\":\"h2\",\"offline\":false,\"state\":\"migrating\","
		    "\"reason\":null}\n");
	assert_progress(w[1], "draining h1 [--------------------] 0/2 moved, "
			"1 migrating");
	/* the same answer again: nothing new */
	assert_step(w[0], f, CTL_DRAIN_LINES, "");

	/* web1 arrives; db has no host: --force shuts it down */
	f->vm[2].state = (char *)"running";
	f->vm[2].has_migrate_to = 0;
	f->vm[2].host = 2;
	f->vm[0].state = (char *)"stopping";
	f->vm[0].reason = (char *)"drain of h1: no host fits";
	assert_step(w[0], f, CTL_DRAIN_LINES, "db: stopping on h1: drain of h1: "
		    "no host fits\nweb1: running on h2\n");
	assert_step(w[1], f, CTL_DRAIN_FINISHED, "web1: running on h2\n");
	assert_step(w[2], f, CTL_DRAIN_JSON,
		    "{\"event\":\"stopping\",\"vm\":\"db\",\"host\":\"h1\","
		    "\"dest\":null,\"offline\":false,\"state\":\"stopping\","
		    "\"reason\":\"drain of h1: no host fits\"}\n"
		    "{\"event\":\"moved\",\"vm\":\"web1\",\"host\":\"h2\","
		    "\"dest\":null,\"offline\":false,\"state\":\"running\","
		    "\"reason\":null}\n");
	assert_progress(w[1], "draining h1 [##########----------] 1/2 moved, "
			"0 migrating");

	f->vm[0].state = (char *)"stopped";
	f->vm[0].has_host = 0;
	f->vm[0].host = 0;
	f->node[0].flags = XENMESH__NODE_FLAG__FLAG_MAINTENANCE;
	assert_step(w[0], f, CTL_DRAIN_LINES, "db: stopped: drain of h1: no host "
		    "fits\n");
	assert_step(w[1], f, CTL_DRAIN_FINISHED, "db: stopped: drain of h1: no "
		    "host fits\n");
	assert_step(w[2], f, CTL_DRAIN_JSON,
		    "{\"event\":\"down\",\"vm\":\"db\",\"host\":null,\"dest\":null,"
		    "\"offline\":false,\"state\":\"stopped\","
		    "\"reason\":\"drain of h1: no host fits\"}\n");
	assert_progress(w[1], "draining h1 [####################] 1/2 moved, "
			"0 migrating, 1 stopped");
	assert_int_equal(ctl_format_drain_watch_summary(w[0], &f->state, true,
							false, &text, &left), 0);
	assert_string_equal(text,
		"drain of h1 done: 1 of 2 VMs moved, 1 stopped; nothing is left "
		"on h1\n"
		"  moved: web1 -> h2\n"
		"  stopped: db\n"
		"h1 stays in maintenance until agentctl node undrain h1\n");
	assert_int_equal(left, 0);
	free(text);
	assert_int_equal(ctl_format_drain_watch_summary(w[2], &f->state, true,
							true, &text, &left), 0);
	assert_string_equal(text,
		"{\"event\":\"summary\",\"host\":\"h1\",\"done\":true,"
		"\"moved\":[{\"vm\":\"web1\",\"host\":\"h2\"}],"
		"\"stopped\":[\"db\"],\"left\":[]}\n");
	free(text);
	for (i = 0; i < 3; i++)
		ctl_format_drain_watch_free(w[i]);
	ctl_format_drain_watch_free(NULL);
}

/* A move that fails: the VM stays, the drain ends with it left there. */
static void
test_drain_watch_left(void **state)
{
	struct fixture *f = *state;
	Xenmesh__CtlResponse plan = XENMESH__CTL_RESPONSE__INIT;
	Xenmesh__DrainItem it[2];
	Xenmesh__DrainItem *items[2] = { &it[0], &it[1] };
	struct ctl_drain_watch *w;
	char *text;
	size_t left = 0;

	drain_vms(f);
	item_set(&it[0], "web1", "migrate", "h2", NULL, 5);
	item_set(&it[1], "db", "migrate", "h2", NULL, 0);
	plan.n_drain_plan = 2;
	plan.drain_plan = items;
	/* unknown host */
	assert_int_equal(ctl_format_drain_watch_new("h9", &plan, &f->state, &w), 0);
	text = (char *)"untouched";
	assert_int_equal(ctl_format_drain_watch_update(w, &f->state,
						       CTL_DRAIN_LINES, &text),
			 -ENOENT);
	assert_null(text);
	assert_int_equal(ctl_format_drain_watch_summary(w, &f->state, true, false,
							&text, &left), -ENOENT);
	ctl_format_drain_watch_free(w);

	assert_int_equal(ctl_format_drain_watch_new("h1", &plan, &f->state, &w), 0);
	/* already under way when followed: said at once */
	f->vm[2].state = (char *)"migrating";
	f->vm[2].has_migrate_to = 1;
	f->vm[2].migrate_to = 2;
	f->vm[2].has_migrate_offline = 1;
	f->vm[2].migrate_offline = 1;
	assert_step(w, f, CTL_DRAIN_LINES, "web1: migrating to h2 (offline)\n");
	f->vm[2].state = (char *)"running";
	f->vm[2].has_migrate_to = 0;
	f->vm[2].has_drain_skip = 1;
	f->vm[2].drain_skip = 1;
	f->vm[2].reason = (char *)"migration to h2 failed: xl migrate: exit 1";
	assert_step(w, f, CTL_DRAIN_FINISHED, "web1: stays on h1: migration to h2 "
		    "failed: xl migrate: exit 1\n");
	assert_progress(w, "draining h1 [##########----------] 0/2 moved, "
			"0 migrating, 1 stays");
	/* a summary before the end (db on its way) */
	f->vm[0].state = (char *)"migrating";
	f->vm[0].has_migrate_to = 1;
	f->vm[0].migrate_to = 2;
	assert_int_equal(ctl_format_drain_watch_summary(w, &f->state, false, false,
							&text, &left), 0);
	assert_string_equal(text,
		"drain of h1 still running: 0 of 2 VMs moved, 2 left on h1\n"
		"  left on h1:\n"
		"    db (migrating): migrating to h2\n"
		"    web1 (running): migration to h2 failed: xl migrate: exit 1\n");
	assert_int_equal(left, 2);
	free(text);
	f->vm[0].state = (char *)"running";
	f->vm[0].has_migrate_to = 0;
	/* db goes, then is undefined (by someone else) */
	f->vm[0].host = 2;
	assert_step(w, f, CTL_DRAIN_LINES, "db: running on h2\n");
	f->state.n_vms = 2;     /* web1 is the last one: keep it */
	f->vms[0] = &f->vm[2];
	assert_step(w, f, CTL_DRAIN_LINES, "db: no longer defined\n");
	assert_int_equal(ctl_format_drain_watch_summary(w, &f->state, true, true,
							&text, &left), 0);
	assert_string_equal(text,
		"{\"event\":\"summary\",\"host\":\"h1\",\"done\":true,\"moved\":[],"
		"\"stopped\":[],\"left\":[{\"vm\":\"web1\",\"state\":\"running\","
		"\"reason\":\"migration to h2 failed: xl migrate: exit 1\"}]}\n");
	assert_int_equal(left, 1);
	free(text);
	ctl_format_drain_watch_free(w);
}

static void
test_migrate_outcome(void **state)
{
	struct fixture *f = *state;
	char why[256], *text;

	/* web1 on h1, not yet seen moving */
	assert_int_equal(ctl_format_migrate_outcome(&f->state, "web1", "h2", why,
						    sizeof(why)),
			 CTL_MIGRATE_ENDED);
	assert_string_equal(why, "VM web1 is running on h1, not on h2: no reason "
			    "given");
	f->vm[2].state = (char *)"migrating";
	f->vm[2].has_migrate_to = 1;
	f->vm[2].migrate_to = 2;
	assert_int_equal(ctl_format_migrate_outcome(&f->state, "web1", "h2", why,
						    sizeof(why)),
			 CTL_MIGRATE_MOVING);
	/* offline: started there, not running yet */
	f->vm[2].state = (char *)"starting";
	f->vm[2].has_migrate_to = 0;
	f->vm[2].host = 2;
	assert_int_equal(ctl_format_migrate_outcome(&f->state, "web1", "h2", why,
						    sizeof(why)),
			 CTL_MIGRATE_MOVING);
	f->vm[2].state = (char *)"running";
	assert_int_equal(ctl_format_migrate_outcome(&f->state, "web1", "h2", why,
						    sizeof(why)),
			 CTL_MIGRATE_DONE);
	/* failed there */
	f->vm[2].state = (char *)"failed";
	f->vm[2].has_host = 0;
	f->vm[2].reason = (char *)"start failed on h2: xl create: exit 1";
	assert_int_equal(ctl_format_migrate_outcome(&f->state, "web1", "h2", why,
						    sizeof(why)),
			 CTL_MIGRATE_ENDED);
	assert_string_equal(why, "VM web1 is failed, not on h2: start failed on "
			    "h2: xl create: exit 1");
	assert_int_equal(ctl_format_migrate_outcome(&f->state, "nosuch", "h2", why,
						    sizeof(why)),
			 CTL_MIGRATE_ENDED);
	assert_string_equal(why, "VM nosuch is no longer defined");

	assert_int_equal(ctl_format_migrate_json("web1", "h2", true, 1830, NULL,
						 &text), 0);
	assert_string_equal(text, "{\"vm\":\"web1\",\"host\":\"h2\",\"migrated\":true,"
			    "\"elapsed_ms\":1830,\"why\":null}\n");
	free(text);
	assert_int_equal(ctl_format_migrate_json("web1", "h2", false, 900, why,
						 &text), 0);
	assert_string_equal(text, "{\"vm\":\"web1\",\"host\":\"h2\",\"migrated\":false,"
			    "\"elapsed_ms\":900,\"why\":\"VM nosuch is no longer "
			    "defined\"}\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test_setup_teardown(test_status_human, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_not_quorate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_hypervisor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_state_not_saved,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_human_control_chars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_table_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmanaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fence_history, setup, teardown),
		cmocka_unit_test(test_fence_config),
		cmocka_unit_test_setup_teardown(test_status_maintenance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_agent_down, setup, teardown),
		cmocka_unit_test(test_drain_plan),
		cmocka_unit_test_setup_teardown(test_drain_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_watch_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_outcome, setup, teardown),
	};

	/* human event times are local time: pin it */
	if (setenv("TZ", "UTC0", 1) != 0)
		return 1;
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
