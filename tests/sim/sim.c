/* sim: the deterministic simulator of the HA decision core.
 *
 *   sim [-v] SCENARIO_DIR...
 *
 * A scenario directory holds:
 *   setup         the cluster before time 0 (nodes, VMs)
 *   events        timed inputs
 *   expected.log  the decisions, in order, written by hand from the
 *                 scenario: the specification.  '#' lines are comments.
 * The simulator builds the replicated state through the real ops
 * (state_apply), feeds the events to the real decision functions
 * (ha_schedule, ha_host_event), applies their actions as the coordinator
 * would commit them, and prints every decision as "TIME text".  A scenario
 * passes when that output equals expected.log.  Exit 0 when all pass.
 *
 * setup lines:
 *   node NAME ID dom0|san MEM_MB [maintenance] [standby] [nowatchdog]
 *        [state=online|unclean|fenced|offline]   (watchdog 10 s by default)
 *   vm NAME mem=MB [prio=N] [restart=always|on-failure|never] [max=N]
 *      [window=S] [hosts=a,b] [group=G] [after=a,b] [on=HOST] [gen=N]
 *      [state=running|stopped|...] [want=running|stopped] [savevol=1]
 *   ha off                     (quorum rules refuse HA)
 *   no-ack                     (hosts do not report started VMs)
 * events lines (TIME in ms, ascending):
 *   T node-lost NAME nodedown|leave   T node-join NAME
 *   T fence-confirmed NAME            T quorum lost|back
 *      (while quorum is lost there is no coordinator: nothing is
 *      decided; host reports made meanwhile are lost, as a host's agent
 *      would have to report again to the next coordinator)
 *   T vm-exited VM crash|poweroff|reboot|storage
 *   T vm-start-failed VM REASON...    T vm-stop-failed VM REASON...
 *   T vm-started VM                   T vm-stopped VM
 *      (the VM's current host reports its current instance started or
 *      stopped: a start ack for use with no-ack / `ack off`)
 *   T flag NAME maintenance|standby|storage-fenced on|off
 *   T start VM [HOST]   T stop VM   T cleanup VM   T ack on|off
 *   T migrate VM HOST [offline]       (admin: vm migrate)
 *   T migrated VM                     (its destination holds it, paused)
 *   T migrate-failed VM source|dest REASON...
 *   T drain HOST PARALLEL [force]     T undrain HOST
 *   T cluster-maintenance on|off
 *   T save VM   T vm-saved VM BYTES   T vm-save-failed VM REASON...
 *   T start-fresh VM [HOST]   T check VM     (tests/sim/sim_save.c)
 * Node setup words also: cpu=CLASS, nopeer (no peer channel address).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "maint.h"
#include "state.h"
#include "vmtable.h"
#include "sim.h"

#define LINE_MAX_LEN 1024

int
fail(struct sim *s, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(s->err, sizeof(s->err), "%s/%s:%d: ", s->dir, file, line);
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
commit(struct sim *s, Xenmesh__Op *op)
{
	char why[256] = "";
	int rc = state_apply(&s->st, s->st.epoch, s->st.seq + 1, op, why, sizeof(why));

	if (rc < 0)
		snprintf(s->err, sizeof(s->err), "%s: commit refused: %s", s->dir, why);
	return rc;
}

uint32_t
node_id(struct sim *s, const char *name)
{
	const struct node_rec *n = state_node_by_name(&s->st, name);

	return n ? n->id : 0;
}

static int
set_node_state(struct sim *s, uint32_t id, enum node_state st)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;

	ns.id = id;
	ns.state = (Xenmesh__NodeState)st;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	return commit(s, &op);
}

void
emit(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->out, "%" PRIu64 " ", s->now);
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
	fputc('\n', s->out);
}

static bool
fencing(struct sim *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_fencing; i++)
		if (s->fencing[i] == id)
			return true;
	return false;
}

static void
fencing_done(struct sim *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_fencing; i++)
		if (s->fencing[i] == id)
			s->fencing[i] = s->fencing[--s->n_fencing];
}

static int apply_plan(struct sim *s, struct ha_plan *p, int depth);

/* A drain's step, committed as the coordinator does (agent/coord.c):
 * validated first; a refusal is printed and the next run plans again. */
static int
maint_action(struct sim *s, const struct ha_action *a)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmMigrate mig;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
	char text[512], why[256];

	ha_action_text(&s->st, a, text, sizeof(text));
	if (a->kind == HA_ACT_MIGRATE) {
		ha_action_migrate_op(a, s->now, &op, &mig);
	} else {
		nf.id = a->node;
		nf.clear = NODE_FLAG_DRAINING;
		op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
		op.node_flags = &nf;
	}
	if (state_validate(&s->st, &op, why, sizeof(why)) < 0) {
		emit(s, "not now: %s: %s", text, why);
		return 0;
	}
	emit(s, "%s", text);
	return commit(s, &op);
}

/* Hosts answer a start with "started" unless told not to. */
static int
host_ack(struct sim *s, const struct ha_action *a, int depth)
{
	struct ha_input in = { &s->st, s->now, s->ha_enabled, NULL, NULL };
	struct ha_event ev = { 0 };
	struct ha_plan p = { 0 };
	const struct vm_rec *v;
	int rc;

	v = state_vm(&s->st, a->vm);
	if (!s->ack || v == NULL || v->state != VM_STATE_STARTING)
		return 0;
	ev.kind = XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED;
	ev.host = v->host;
	ev.vm = v->name;
	ev.generation = v->generation;
	rc = ha_host_event(&in, &ev, &p);
	if (rc == 0)
		rc = apply_plan(s, &p, depth + 1);
	ha_plan_free(&p);
	return rc;
}

/* Commit every action as the coordinator would, printing each. */
static int
apply_plan(struct sim *s, struct ha_plan *p, int depth)
{
	char text[512];
	int rc = 0;

	if (depth > 50) {
		snprintf(s->err, sizeof(s->err), "%s: decisions do not settle", s->dir);
		return -ELOOP;
	}
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		const struct ha_action *a = &p->a[i];

		if (a->kind == HA_ACT_NODE_UNCLEAN) {
			emit(s, "%s", ha_action_text(&s->st, a, text, sizeof(text)));
			rc = set_node_state(s, a->node, NODE_STATE_UNCLEAN);
			continue;
		}
		if (a->kind == HA_ACT_FENCE) {
			if (fencing(s, a->node))
				continue;
			if (s->n_fencing < MAX_FENCING)
				s->fencing[s->n_fencing++] = a->node;
			emit(s, "%s", ha_action_text(&s->st, a, text, sizeof(text)));
			continue;
		}
		Xenmesh__Op op;
		Xenmesh__OpVmSet set;

		if (a->kind == HA_ACT_MIGRATE || a->kind == HA_ACT_DRAIN_DONE) {
			rc = maint_action(s, a);
			continue;
		}
		emit(s, "%s", ha_action_text(&s->st, a, text, sizeof(text)));
		ha_action_op(a, s->now, &op, &set);
		rc = commit(s, &op);
		if (rc == 0 && a->state == VM_STATE_STARTING)
			rc = host_ack(s, a, depth);
	}
	return rc;
}

/* Run the scheduler until it has nothing more to say. */
static int
settle(struct sim *s)
{
	if (!s->quorate)
		return 0;       /* no coordinator */
	for (int round = 0; round < 50; round++) {
		struct ha_input in = { &s->st, s->now, s->ha_enabled, NULL, NULL };
		struct ha_plan p = { 0 };
		size_t before_fencing = s->n_fencing;
		uint64_t before_seq = s->st.seq;
		int rc = ha_schedule(&in, &p);

		if (rc == 0)
			rc = apply_plan(s, &p, 0);
		ha_plan_free(&p);
		if (rc < 0)
			return rc;
		if (s->st.seq == before_seq && s->n_fencing == before_fencing)
			return 0;
	}
	snprintf(s->err, sizeof(s->err), "%s: scheduler does not settle", s->dir);
	return -ELOOP;
}

/* ---- setup ---------------------------------------------------------------- */

static int
split_list(char *v, char out[][VM_NAME_MAX], uint32_t max, uint32_t *n)
{
	*n = 0;
	for (char *t = strtok(v, ","); t != NULL; t = strtok(NULL, ",")) {
		if (*n >= max || strlen(t) >= VM_NAME_MAX)
			return -EINVAL;
		snprintf(out[(*n)++], VM_NAME_MAX, "%s", t);
	}
	return 0;
}

static int
setup_node(struct sim *s, char **tok, int ntok, int line)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
	enum node_state st = NODE_STATE_ONLINE;
	uint32_t flags = 0;
	char peer[32];
	int rc;

	if (ntok < 5)
		return fail(s, "setup", line, "node NAME ID dom0|san MEM_MB [flags]");
	ni.name = tok[1];
	ni.id = (uint32_t)strtoul(tok[2], NULL, 10);
	ni.role = strcmp(tok[3], "san") == 0 ? XENMESH__NODE_ROLE__ROLE_SAN
					      : XENMESH__NODE_ROLE__ROLE_DOM0;
	ni.mem_total_mb = strtoull(tok[4], NULL, 10);
	ni.mem_free_mb = ni.mem_total_mb;
	ni.has_watchdog_s = true;
	ni.watchdog_s = 10;
	snprintf(peer, sizeof(peer), "10.0.0.%u:7420", ni.id);
	ni.peer_addr = peer;
	for (int i = 5; i < ntok; i++) {
		if (strcmp(tok[i], "nowatchdog") == 0)
			ni.has_watchdog_s = false;
		else if (strcmp(tok[i], "nopeer") == 0)
			ni.peer_addr = NULL;
		else if (strncmp(tok[i], "cpu=", 4) == 0)
			ni.cpu = tok[i] + 4;
	}
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	rc = commit(s, &op);
	for (int i = 5; rc == 0 && i < ntok; i++) {
		if (strcmp(tok[i], "maintenance") == 0)
			flags |= NODE_FLAG_MAINTENANCE;
		else if (strcmp(tok[i], "standby") == 0)
			flags |= NODE_FLAG_STANDBY;
		else if (strcmp(tok[i], "nowatchdog") == 0 ||
			 strcmp(tok[i], "nopeer") == 0 || strncmp(tok[i], "cpu=", 4) == 0)
			;       /* taken above */
		else if (strcmp(tok[i], "state=unclean") == 0)
			st = NODE_STATE_UNCLEAN;
		else if (strcmp(tok[i], "state=fenced") == 0)
			st = NODE_STATE_FENCED;
		else if (strcmp(tok[i], "state=offline") == 0)
			st = NODE_STATE_OFFLINE;
		else if (strcmp(tok[i], "state=online") != 0)
			return fail(s, "setup", line, "unknown node word '%s'", tok[i]);
	}
	if (rc == 0 && flags) {
		nf.id = ni.id;
		nf.set = flags;
		op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
		op.node_flags = &nf;
		rc = commit(s, &op);
	}
	if (rc == 0 && st != NODE_STATE_ONLINE)
		rc = set_node_state(s, ni.id, st);
	return rc;
}

static int
setup_vm(struct sim *s, char **tok, int ntok, int line)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__OpVmSet set = XENMESH__OP_VM_SET__INIT;
	Xenmesh__OpVmWant want = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__VmHa pb;
	struct vm_ha ha;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER], restart[16];
	char config[256], state[32] = "stopped";
	uint64_t gen = 0;
	uint32_t on = 0;
	bool want_run = false, savevol = false;
	int rc = 0;

	if (ntok < 3)
		return fail(s, "setup", line, "vm NAME mem=MB ...");
	memset(&ha, 0, sizeof(ha));
	ha.restart = VM_RESTART_ALWAYS;
	ha.max_restarts = 3;
	ha.restart_window_s = 600;
	d.name = tok[1];
	for (int i = 2; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		char *k = tok[i], *v;

		if (eq == NULL)
			return fail(s, "setup", line, "'%s' is not KEY=VALUE", tok[i]);
		*eq = '\0';
		v = eq + 1;
		if (strcmp(k, "mem") == 0)
			d.memory_mb = strtoull(v, NULL, 10);
		else if (strcmp(k, "prio") == 0)
			ha.priority = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "restart") == 0)
			ha.restart = strcmp(v, "never") == 0 ? VM_RESTART_NEVER :
				     strcmp(v, "on-failure") == 0 ? VM_RESTART_ON_FAILURE :
				     VM_RESTART_ALWAYS;
		else if (strcmp(k, "max") == 0)
			ha.max_restarts = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "window") == 0)
			ha.restart_window_s = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "hosts") == 0)
			rc = split_list(v, ha.hosts, VM_MAX_HOSTS, &ha.n_hosts);
		else if (strcmp(k, "after") == 0)
			rc = split_list(v, ha.after, VM_MAX_AFTER, &ha.n_after);
		else if (strcmp(k, "group") == 0)
			snprintf(ha.anti_affinity, sizeof(ha.anti_affinity), "%s", v);
		else if (strcmp(k, "on") == 0)
			on = node_id(s, v);
		else if (strcmp(k, "gen") == 0)
			gen = strtoull(v, NULL, 10);
		else if (strcmp(k, "state") == 0)
			snprintf(state, sizeof(state), "%s", v);
		else if (strcmp(k, "want") == 0)
			want_run = strcmp(v, "running") == 0;
		else if (strcmp(k, "savevol") == 0)
			savevol = strcmp(v, "1") == 0;
		else
			return fail(s, "setup", line, "unknown vm key '%s'", k);
		if (rc < 0)
			return fail(s, "setup", line, "bad list for %s", k);
	}
	snprintf(config, sizeof(config), "name = \"%s\"\nmemory = %" PRIu64 "\n",
		 d.name, d.memory_mb);
	d.config = config;
	vm_ha_to_pb(&ha, &pb, hosts, after, restart, sizeof(restart));
	d.ha = &pb;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	rc = commit(s, &op);
	if (rc == 0 && savevol)
		rc = sim_save_volume(s, d.name, d.memory_mb, line);
	if (rc < 0)
		return rc;
	if (strcmp(state, "running") == 0 && gen == 0)
		gen = 1;
	if (strcmp(state, "running") == 0)
		want_run = true;
	want.name = d.name;
	want.running = want_run;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &want;
	rc = commit(s, &op);
	if (rc < 0)
		return rc;
	set.name = d.name;
	set.state = state;
	set.has_host = on != 0;
	set.host = on;
	set.has_generation = gen != 0;
	set.generation = gen;
	op.kind_case = XENMESH__OP__KIND_VM_SET;
	op.vm_set = &set;
	return commit(s, &op);
}

static int
tokenize(char *line, char **tok, int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\r\n"); t != NULL && n < max;
	     t = strtok(NULL, " \t\r\n"))
		tok[n++] = t;
	return n;
}

static int
load_setup(struct sim *s)
{
	char path[4096], line[LINE_MAX_LEN];
	char *tok[64];
	FILE *f;
	int lineno = 0, rc = 0;

	snprintf(path, sizeof(path), "%s/setup", s->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return fail(s, "setup", 0, "cannot open: %s", strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		int n;

		lineno++;
		if (line[0] == '#')
			continue;
		n = tokenize(line, tok, 64);
		if (n == 0)
			continue;
		if (strcmp(tok[0], "node") == 0)
			rc = setup_node(s, tok, n, lineno);
		else if (strcmp(tok[0], "vm") == 0)
			rc = setup_vm(s, tok, n, lineno);
		else if (strcmp(tok[0], "ha") == 0 && n == 2)
			s->ha_enabled = strcmp(tok[1], "off") != 0;
		else if (strcmp(tok[0], "no-ack") == 0)
			s->ack = false;
		else
			rc = fail(s, "setup", lineno, "unknown line '%s'", tok[0]);
	}
	fclose(f);
	return rc;
}

/* ---- events ---------------------------------------------------------------- */

int
host_event_from(struct sim *s, Xenmesh__HostEventKind kind, const char *vm,
		uint32_t host, Xenmesh__VmExit how, const char *reason,
		uint64_t bytes, int line)
{
	struct ha_input in = { &s->st, s->now, s->ha_enabled, NULL, NULL };
	struct ha_event ev = { 0 };
	struct ha_plan p = { 0 };
	const struct vm_rec *v = state_vm(&s->st, vm);
	int rc;

	if (v == NULL)
		return fail(s, "events", line, "no VM %s", vm);
	if (!s->quorate)
		return 0;
	ev.kind = kind;
	ev.host = host;
	ev.vm = vm;
	ev.generation = v->generation;
	ev.exit = how;
	ev.reason = reason;
	ev.bytes = bytes;
	rc = ha_host_event(&in, &ev, &p);
	if (rc == 0)
		rc = apply_plan(s, &p, 0);
	ha_plan_free(&p);
	return rc;
}

/* Admin maintenance ops: validated as the coordinator would. */
static int
maint_op(struct sim *s, char **tok, int n, int line)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmMigrate mig = XENMESH__OP_VM_MIGRATE__INIT;
	Xenmesh__OpNodeDrain nd = XENMESH__OP_NODE_DRAIN__INIT;
	Xenmesh__OpClusterMaintenance cm = XENMESH__OP_CLUSTER_MAINTENANCE__INIT;
	char why[256];

	if (strcmp(tok[1], "migrate") == 0 && (n == 4 || n == 5)) {
		mig.name = tok[2];
		mig.host = node_id(s, tok[3]);
		mig.has_offline = n == 5 && strcmp(tok[4], "offline") == 0;
		mig.offline = mig.has_offline;
		mig.has_now_ms = true;
		mig.now_ms = s->now;
		op.kind_case = XENMESH__OP__KIND_VM_MIGRATE;
		op.vm_migrate = &mig;
		emit(s, "event: admin migrate %s to %s%s", tok[2], tok[3],
		     mig.offline ? " offline" : "");
	} else if ((strcmp(tok[1], "drain") == 0 && (n == 4 || n == 5)) ||
		   (strcmp(tok[1], "undrain") == 0 && n == 3)) {
		nd.id = node_id(s, tok[2]);
		nd.on = strcmp(tok[1], "drain") == 0;
		nd.has_parallel = nd.on;
		nd.parallel = nd.on ? (uint32_t)strtoul(tok[3], NULL, 10) : 0;
		nd.has_force = n == 5 && strcmp(tok[4], "force") == 0;
		nd.force = nd.has_force;
		op.kind_case = XENMESH__OP__KIND_NODE_DRAIN;
		op.node_drain = &nd;
		emit(s, "event: admin %s %s%s%s", tok[1], tok[2], nd.on ? " parallel " : "",
		     nd.on ? tok[3] : "");
	} else if (strcmp(tok[1], "cluster-maintenance") == 0 && n == 3) {
		cm.on = strcmp(tok[2], "on") == 0;
		op.kind_case = XENMESH__OP__KIND_CLUSTER_MAINTENANCE;
		op.cluster_maintenance = &cm;
		emit(s, "event: admin cluster maintenance %s", tok[2]);
	} else {
		return fail(s, "events", line, "malformed %s", tok[1]);
	}
	if (state_validate(&s->st, &op, why, sizeof(why)) < 0) {
		emit(s, "refused: %s", why);
		return 0;
	}
	return commit(s, &op);
}

static int
host_event(struct sim *s, Xenmesh__HostEventKind kind, const char *vm,
	   Xenmesh__VmExit how, const char *reason, int line)
{
	const struct vm_rec *v = state_vm(&s->st, vm);

	if (v == NULL)
		return fail(s, "events", line, "no VM %s", vm);
	return host_event_from(s, kind, vm, v->host, how, reason, 0, line);
}

static int
admin_op(struct sim *s, char **tok, int n, int line)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmWant want = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__OpVmCleanup cl = XENMESH__OP_VM_CLEANUP__INIT;

	if (n < 3)
		return fail(s, "events", line, "%s needs a VM", tok[1]);
	if (strcmp(tok[1], "cleanup") == 0) {
		cl.name = tok[2];
		op.kind_case = XENMESH__OP__KIND_VM_CLEANUP;
		op.vm_cleanup = &cl;
	} else {
		want.name = tok[2];
		want.running = strcmp(tok[1], "start") == 0;
		if (n > 3) {
			want.has_host = true;
			want.host = node_id(s, tok[3]);
		}
		op.kind_case = XENMESH__OP__KIND_VM_WANT;
		op.vm_want = &want;
	}
	return commit(s, &op);
}

static int
run_event(struct sim *s, char **tok, int n, int line)
{
	const char *what = tok[1];
	uint32_t id = n > 2 ? node_id(s, tok[2]) : 0;
	char reason[256] = "";
	int rc;

	for (int i = 3; i < n; i++)
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
			 "%s%s", i > 3 ? " " : "", tok[i]);
	if (strcmp(what, "node-lost") == 0 && id && n == 4) {
		emit(s, "event: %s lost (%s)", tok[2], tok[3]);
		return set_node_state(s, id, strcmp(tok[3], "leave") == 0 ?
				      NODE_STATE_OFFLINE : NODE_STATE_UNCLEAN);
	}
	if (strcmp(what, "node-join") == 0 && id) {
		emit(s, "event: %s joined", tok[2]);
		return set_node_state(s, id, NODE_STATE_ONLINE);
	}
	if (strcmp(what, "fence-confirmed") == 0 && id) {
		emit(s, "event: fence of %s confirmed", tok[2]);
		fencing_done(s, id);
		return set_node_state(s, id, NODE_STATE_FENCED);
	}
	if (strcmp(what, "fence-failed") == 0 && id) {
		emit(s, "event: every fence method failed for %s", tok[2]);
		fencing_done(s, id);
		return 0;
	}
	if (strcmp(what, "quorum") == 0 && n == 3) {
		s->quorate = strcmp(tok[2], "back") == 0;
		emit(s, "event: quorum %s", tok[2]);
		return 0;
	}
	if (strcmp(what, "vm-exited") == 0 && n == 4) {
		emit(s, "event: %s %s", tok[2], tok[3]);
		return host_event(s, XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED, tok[2],
				  strcmp(tok[3], "poweroff") == 0 ? XENMESH__VM_EXIT__EXIT_POWEROFF :
				  strcmp(tok[3], "reboot") == 0 ? XENMESH__VM_EXIT__EXIT_REBOOT :
				  strcmp(tok[3], "storage") == 0 ? XENMESH__VM_EXIT__EXIT_STORAGE :
				  XENMESH__VM_EXIT__EXIT_CRASH, NULL, line);
	}
	if (strcmp(what, "vm-start-failed") == 0 && n >= 3) {
		emit(s, "event: %s failed to start (%s)", tok[2], reason);
		return host_event(s, XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED,
				  tok[2], 0, reason, line);
	}
	if (strcmp(what, "vm-stop-failed") == 0 && n >= 3) {
		emit(s, "event: %s failed to stop (%s)", tok[2], reason);
		return host_event(s, XENMESH__HOST_EVENT_KIND__HOST_VM_STOP_FAILED,
				  tok[2], 0, reason, line);
	}
	if (strcmp(what, "vm-started") == 0 && n == 3) {
		emit(s, "event: %s started", tok[2]);
		return host_event(s, XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED,
				  tok[2], 0, NULL, line);
	}
	if (strcmp(what, "vm-stopped") == 0 && n == 3) {
		emit(s, "event: %s stopped", tok[2]);
		return host_event(s, XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED,
				  tok[2], 0, NULL, line);
	}
	if (strcmp(what, "flag") == 0 && id && n == 5) {
		Xenmesh__Op op = XENMESH__OP__INIT;
		Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
		uint32_t bit = strcmp(tok[3], "standby") == 0 ? NODE_FLAG_STANDBY :
			       strcmp(tok[3], "storage-fenced") == 0 ?
			       NODE_FLAG_STORAGE_FENCED : NODE_FLAG_MAINTENANCE;

		emit(s, "event: %s %s %s", tok[2], tok[3], tok[4]);
		nf.id = id;
		if (strcmp(tok[4], "on") == 0)
			nf.set = bit;
		else
			nf.clear = bit;
		op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
		op.node_flags = &nf;
		return commit(s, &op);
	}
	if (strcmp(what, "migrate") == 0 || strcmp(what, "drain") == 0 ||
	    strcmp(what, "undrain") == 0 || strcmp(what, "cluster-maintenance") == 0)
		return maint_op(s, tok, n, line);
	if (strcmp(what, "migrated") == 0 && n == 3) {
		const struct vm_rec *v = state_vm(&s->st, tok[2]);

		emit(s, "event: %s received complete on its destination", tok[2]);
		return host_event_from(s, XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATED,
				       tok[2], v ? v->migrate_to : 0, 0, NULL, 0, line);
	}
	if (strcmp(what, "migrate-failed") == 0 && n >= 5) {
		const struct vm_rec *v = state_vm(&s->st, tok[2]);
		char why[256] = "";

		for (int i = 4; i < n; i++)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
				 i > 4 ? " " : "", tok[i]);
		emit(s, "event: migration of %s failed on its %s (%s)", tok[2], tok[3],
		     why);
		return host_event_from(s, XENMESH__HOST_EVENT_KIND__HOST_VM_MIGRATE_FAILED,
				       tok[2], v == NULL ? 0 : strcmp(tok[3], "dest") == 0 ?
				       v->migrate_to : v->host, 0, why, 0, line);
	}
	rc = sim_save_event(s, tok, n, line);
	if (rc <= 0)
		return rc;
	if (strcmp(what, "ack") == 0 && n == 3) {
		s->ack = strcmp(tok[2], "on") == 0;
		return 0;
	}
	if (strcmp(what, "start") == 0 || strcmp(what, "stop") == 0 ||
	    strcmp(what, "cleanup") == 0) {
		emit(s, "event: admin %s %s%s%s", what, n > 2 ? tok[2] : "",
		     n > 3 ? " on " : "", n > 3 ? tok[3] : "");
		return admin_op(s, tok, n, line);
	}
	return fail(s, "events", line, "unknown or malformed event '%s'", what);
}

static int
run_events(struct sim *s)
{
	char path[4096], line[LINE_MAX_LEN];
	char *tok[64];
	FILE *f;
	int lineno = 0, rc;

	rc = settle(s);         /* what the coordinator does at time 0 */
	snprintf(path, sizeof(path), "%s/events", s->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return rc < 0 ? rc : fail(s, "events", 0, "cannot open: %s", strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		uint64_t t;
		int n;

		lineno++;
		if (line[0] == '#')
			continue;
		n = tokenize(line, tok, 64);
		if (n == 0)
			continue;
		if (n < 2) {
			rc = fail(s, "events", lineno, "TIME EVENT ...");
			break;
		}
		t = strtoull(tok[0], NULL, 10);
		if (t < s->now) {
			rc = fail(s, "events", lineno, "time goes back");
			break;
		}
		s->now = t;
		rc = run_event(s, tok, n, lineno);
		if (rc == 0)
			rc = settle(s);
	}
	fclose(f);
	return rc;
}

/* expected.log without comments and blank lines */
static char *
expected_text(const char *dir, size_t *len)
{
	char path[4096], line[LINE_MAX_LEN];
	char *buf = NULL;
	size_t n = 0;
	FILE *f, *out = open_memstream(&buf, &n);

	snprintf(path, sizeof(path), "%s/expected.log", dir);
	f = fopen(path, "r");
	if (f == NULL || out == NULL) {
		if (f)
			fclose(f);
		if (out)
			fclose(out);
		free(buf);
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		fputs(line, out);
	}
	fclose(f);
	fclose(out);
	*len = n;
	return buf;
}

static int
run_scenario(const char *dir, bool verbose)
{
	struct sim s;
	char *got = NULL, *want;
	size_t got_len = 0, want_len = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	s.dir = dir;
	s.ha_enabled = true;
	s.quorate = true;
	s.ack = true;
	state_init(&s.st);
	s.out = open_memstream(&got, &got_len);
	rc = load_setup(&s);
	if (rc == 0)
		rc = run_events(&s);
	fclose(s.out);
	want = expected_text(dir, &want_len);
	if (rc < 0) {
		printf("FAIL %s: %s\n", dir, s.err);
	} else if (want == NULL) {
		printf("FAIL %s: cannot read expected.log\n", dir);
		rc = -ENOENT;
	} else if (got_len != want_len || memcmp(got, want, got_len) != 0) {
		printf("FAIL %s: decisions differ from expected.log\n"
		       "--- expected\n%s--- got\n%s", dir, want, got);
		rc = -EINVAL;
	} else {
		printf("PASS %s\n", dir);
		if (verbose)
			fputs(got, stdout);
	}
	free(got);
	free(want);
	state_free(&s.st);
	return rc;
}

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	bool verbose = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
			continue;
		}
		if (run_scenario(argv[i], verbose) == 0)
			passed++;
		else
			failed++;
	}
	if (passed + failed == 0) {
		fprintf(stderr, "usage: sim [-v] SCENARIO_DIR...\n");
		return 2;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
