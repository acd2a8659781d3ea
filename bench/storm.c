/* A restart storm through the coordinator's decision functions
 * (ha/decide.h), timed the way tests/sim/sim drives them.
 *
 *   xm-storm [--repeat N] [--scenario DIR [--sim PATH]]
 *            [--vms N [--hosts N]]
 *
 * --scenario: a simulator scenario of node-lost / fence-confirmed events
 *   (tests/sim/scenarios/21-restart-storm-200: 4 of 8 hosts lose power
 *   with 200 VMs).  Timed: the decision run after the last host is lost
 *   (fences, VMs recovering), the run after the last fence that plans the
 *   restarts, every run until the cluster is quiet again (commits and the
 *   hosts' start reports included), and the whole scenario in-process.
 *   With --sim, also the simulator process on the scenario (fork, exec,
 *   wait), which must pass.
 * --vms: the cluster of bench/population.h on --hosts dom0 hosts (64);
 *   the host holding the average number of running VMs is lost, then
 *   fenced: the same runs timed.  xm-storm-nocap links ha/placement.c
 *   with PLACEMENT_MAX_VMS raised (bench/placement_nocap.c).
 * Each figure is p50 and max over the repeats; nothing is asserted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include "benchutil.h"
#include "cluster.h"
#include "decide.h"
#include "state.h"
#include "vmtable.h"
#include "xm_error.h"

#ifdef BENCH_NOCAP
#define BUILD_NOTE "placement: ha/placement.c with PLACEMENT_MAX_VMS raised " \
		   "(bench/placement_nocap.c)"
#else
#define BUILD_NOTE "placement: the project's, as built"
#endif

#define LINE_MAX_LEN 1024
#define MAX_EVENTS   256

struct counts {
	size_t fences, recovering, starts, running, unplaceable, waiting, other;
};

struct storm {
	struct state st;
	uint64_t now;
	uint32_t fencing[STATE_MAX_NODES];
	size_t n_fencing;
	struct counts c;
	char why[256];
};

enum ev_kind { EV_LOST = 1, EV_LEAVE, EV_FENCED };

struct event {
	uint64_t t;
	enum ev_kind kind;
	char node[STATE_NAME_MAX];
};

static void
count_action(struct counts *c, const struct ha_action *a)
{
	switch (a->kind) {
	case HA_ACT_FENCE:
		c->fences++;
		return;
	case HA_ACT_VM_SET:
		break;
	default:
		c->other++;
		return;
	}
	switch (a->state) {
	case VM_STATE_RECOVERING:
		c->recovering++;
		break;
	case VM_STATE_STARTING:
		c->starts++;
		break;
	case VM_STATE_RUNNING:
		c->running++;
		break;
	case VM_STATE_UNPLACEABLE:
		c->unplaceable++;
		break;
	case VM_STATE_STOPPED:
		if (a->reason[0] != '\0') {
			c->waiting++;
			break;
		}
		/* fall through */
	default:
		c->other++;
		break;
	}
}

static int
set_node_state(struct storm *s, uint32_t id, enum node_state ns)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeState m = XENMESH__OP_NODE_STATE__INIT;

	m.id = id;
	m.state = (Xenmesh__NodeState)ns;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &m;
	return bench_commit(&s->st, &op, s->why, sizeof(s->why));
}

static bool
is_fencing(const struct storm *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_fencing; i++)
		if (s->fencing[i] == id)
			return true;
	return false;
}

static int apply_plan(struct storm *s, const struct ha_plan *p, int depth);

/* The host reports the start at once, as the simulator's hosts do. */
static int
host_ack(struct storm *s, const char *name, int depth)
{
	struct ha_input in = { &s->st, s->now, true, NULL, NULL };
	struct ha_event ev = { 0 };
	struct ha_plan p = { 0 };
	const struct vm_rec *v = state_vm(&s->st, name);
	int rc;

	if (v == NULL || v->state != VM_STATE_STARTING)
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

/* Commit every action as the coordinator would (tests/sim/sim.c). */
static int
apply_plan(struct storm *s, const struct ha_plan *p, int depth)
{
	int rc = 0;

	if (depth > 50)
		return -ELOOP;
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		const struct ha_action *a = &p->a[i];
		Xenmesh__Op op;
		Xenmesh__OpVmSet set;
		Xenmesh__OpVmMigrate mig;

		if (a->kind == HA_ACT_FENCE) {
			if (!is_fencing(s, a->node) && s->n_fencing < STATE_MAX_NODES) {
				s->fencing[s->n_fencing++] = a->node;
				s->c.fences++;
			}
			continue;
		}
		count_action(&s->c, a);
		if (a->kind == HA_ACT_NODE_UNCLEAN) {
			rc = set_node_state(s, a->node, NODE_STATE_UNCLEAN);
			continue;
		}
		if (a->kind == HA_ACT_MIGRATE) {
			ha_action_migrate_op(a, s->now, &op, &mig);
			if (state_validate(&s->st, &op, s->why, sizeof(s->why)) == 0)
				rc = bench_commit(&s->st, &op, s->why, sizeof(s->why));
			continue;
		}
		if (a->kind != HA_ACT_VM_SET)
			continue;
		ha_action_op(a, s->now, &op, &set);
		rc = bench_commit(&s->st, &op, s->why, sizeof(s->why));
		if (rc == 0 && a->state == VM_STATE_STARTING)
			rc = host_ack(s, a->vm, depth);
	}
	return rc;
}

/* Decision runs until one changes nothing. */
static int
settle(struct storm *s)
{
	for (int round = 0; round < 50; round++) {
		struct ha_input in = { &s->st, s->now, true, NULL, NULL };
		struct ha_plan p = { 0 };
		uint64_t seq = s->st.seq;
		size_t nf = s->n_fencing;
		int rc = ha_schedule(&in, &p);

		if (rc == 0)
			rc = apply_plan(s, &p, 0);
		ha_plan_free(&p);
		if (rc < 0)
			return rc;
		if (s->st.seq == seq && s->n_fencing == nf)
			return 0;
	}
	return -ELOOP;
}

/* ---- measured steps ---------------------------------------------------- */

/* ha_schedule on the current state, repeat times (it is pure); the
 * actions of the last run are counted into c. */
static int
time_schedule(struct storm *s, const char *what, int repeat, struct counts *c)
{
	struct bench_series ser;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (bench_series_init(&ser, what, (size_t)repeat) < 0)
		return -ENOMEM;
	for (int r = 0; r < repeat && rc == 0; r++) {
		struct ha_input in = { &s->st, s->now, true, NULL, NULL };
		struct ha_plan p = { 0 };
		double t0 = bench_now_ms();

		rc = ha_schedule(&in, &p);
		bench_series_add(&ser, bench_now_ms() - t0);
		if (rc == 0 && r + 1 == repeat)
			for (size_t i = 0; i < p.n; i++)
				count_action(c, &p.a[i]);
		ha_plan_free(&p);
	}
	if (rc < 0)
		printf("  %-44s FAILED: %s: the coordinator logs \"HA scheduling "
		       "failed\" and commits none of the run's decisions\n", what,
		       xm_strerror(rc));
	else
		bench_series_print(&ser);
	bench_series_free(&ser);
	return rc;
}

static void
print_counts(const char *what, const struct counts *c)
{
	printf("    %s: %zu fence, %zu recovering, %zu start, %zu running, "
	       "%zu unplaceable, %zu waiting (start_after), %zu other\n", what,
	       c->fences, c->recovering, c->starts, c->running, c->unplaceable,
	       c->waiting, c->other);
}

/* Every decision run until quiet, from copies of the current state. */
static int
time_settle(struct storm *s, const char *what, int repeat)
{
	struct bench_series ser;
	struct storm *t = calloc(1, sizeof(*t));
	int rc = 0;

	if (t == NULL || bench_series_init(&ser, what, (size_t)repeat) < 0) {
		free(t);
		return -ENOMEM;
	}
	for (int r = 0; r < repeat && rc == 0; r++) {
		double t0;

		*t = *s;
		memset(&t->c, 0, sizeof(t->c));
		state_init(&t->st);
		rc = state_copy(&t->st, &s->st);
		if (rc < 0)
			break;
		t0 = bench_now_ms();
		rc = settle(t);
		bench_series_add(&ser, bench_now_ms() - t0);
		if (rc == 0 && r + 1 == repeat)
			print_counts("until quiet, all runs", &t->c);
		state_free(&t->st);
	}
	if (rc < 0)
		printf("  %-44s FAILED: %s %s\n", what, xm_strerror(rc), t->why);
	else
		bench_series_print(&ser);
	bench_series_free(&ser);
	free(t);
	return rc;
}

/* ---- a simulator scenario ---------------------------------------------- */

static int
split_list(char *v, char out[][VM_NAME_MAX], uint32_t max, uint32_t *n)
{
	*n = 0;
	for (char *t = strtok(v, ","); t != NULL; t = strtok(NULL, ",")) {
		if (*n >= max || strlen(t) >= VM_NAME_MAX)
			return -EINVAL;
		(void)snprintf(out[(*n)++], VM_NAME_MAX, "%s", t);
	}
	return 0;
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
setup_node(struct storm *s, char **tok, int n)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	char peer[32];

	if (n != 5)
		return -EINVAL;       /* flags and states: not in a storm */
	ni.name = tok[1];
	ni.id = (uint32_t)strtoul(tok[2], NULL, 10);
	ni.role = strcmp(tok[3], "san") == 0 ? XENMESH__NODE_ROLE__ROLE_SAN :
					       XENMESH__NODE_ROLE__ROLE_DOM0;
	ni.mem_total_mb = strtoull(tok[4], NULL, 10);
	ni.mem_free_mb = ni.mem_total_mb;
	ni.has_watchdog_s = true;
	ni.watchdog_s = 10;
	(void)snprintf(peer, sizeof(peer), "10.0.0.%" PRIu32 ":7420", ni.id);
	ni.peer_addr = peer;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	return bench_commit(&s->st, &op, s->why, sizeof(s->why));
}

/* vm NAME mem= prio= hosts= group= after= on= state=, as tests/sim/sim. */
static int
setup_vm(struct storm *s, char **tok, int n)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__OpVmWant want = XENMESH__OP_VM_WANT__INIT;
	Xenmesh__OpVmSet set = XENMESH__OP_VM_SET__INIT;
	Xenmesh__VmHa pb;
	struct vm_ha ha;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER], restart[16];
	char config[256], state[32] = "stopped";
	uint32_t on = 0;
	int rc = 0;

	memset(&ha, 0, sizeof(ha));
	ha.restart = VM_RESTART_ALWAYS;
	ha.max_restarts = 3;
	ha.restart_window_s = 600;
	d.name = tok[1];
	for (int i = 2; i < n && rc == 0; i++) {
		char *eq = strchr(tok[i], '='), *k = tok[i], *v;

		if (eq == NULL)
			return -EINVAL;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(k, "mem") == 0)
			d.memory_mb = strtoull(v, NULL, 10);
		else if (strcmp(k, "prio") == 0)
			ha.priority = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "hosts") == 0)
			rc = split_list(v, ha.hosts, VM_MAX_HOSTS, &ha.n_hosts);
		else if (strcmp(k, "after") == 0)
			rc = split_list(v, ha.after, VM_MAX_AFTER, &ha.n_after);
		else if (strcmp(k, "group") == 0)
			(void)snprintf(ha.anti_affinity, sizeof(ha.anti_affinity),
				       "%s", v);
		else if (strcmp(k, "on") == 0) {
			const struct node_rec *nr = state_node_by_name(&s->st, v);

			on = nr != NULL ? nr->id : 0;
		} else if (strcmp(k, "state") == 0)
			(void)snprintf(state, sizeof(state), "%s", v);
		else
			return -EINVAL;
	}
	if (rc < 0)
		return rc;
	(void)snprintf(config, sizeof(config), "name = \"%s\"\nmemory = %"
		       PRIu64 "\n", d.name, d.memory_mb);
	d.config = config;
	vm_ha_to_pb(&ha, &pb, hosts, after, restart, sizeof(restart));
	d.ha = &pb;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &d;
	rc = bench_commit(&s->st, &op, s->why, sizeof(s->why));
	if (rc < 0 || strcmp(state, "running") != 0)
		return rc;
	want.name = d.name;
	want.running = true;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &want;
	rc = bench_commit(&s->st, &op, s->why, sizeof(s->why));
	if (rc < 0)
		return rc;
	set.name = d.name;
	set.state = state;
	set.has_host = on != 0;
	set.host = on;
	set.has_generation = true;
	set.generation = 1;
	op.kind_case = XENMESH__OP__KIND_VM_SET;
	op.vm_set = &set;
	return bench_commit(&s->st, &op, s->why, sizeof(s->why));
}

static int
load_setup(struct storm *s, const char *dir)
{
	char path[4096], line[LINE_MAX_LEN], *tok[64];
	FILE *f;
	int rc = 0, lineno = 0;

	(void)snprintf(path, sizeof(path), "%s/setup", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		int n;

		lineno++;
		if (line[0] == '#' || (n = tokenize(line, tok, 64)) == 0)
			continue;
		if (strcmp(tok[0], "node") == 0)
			rc = setup_node(s, tok, n);
		else if (strcmp(tok[0], "vm") == 0 && n >= 3)
			rc = setup_vm(s, tok, n);
		else
			rc = -EINVAL;
		if (rc < 0 && s->why[0] == '\0')
			(void)snprintf(s->why, sizeof(s->why), "%.200s:%d: not "
				       "supported by xm-storm", path, lineno);
	}
	(void)fclose(f);
	return rc;
}

static int
load_events(const char *dir, struct event *ev, size_t *n, char *why,
	    size_t whylen)
{
	char path[4096], line[LINE_MAX_LEN], *tok[8];
	FILE *f;
	int rc = 0;

	*n = 0;
	(void)snprintf(path, sizeof(path), "%s/events", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		int nt;

		if (line[0] == '#' || (nt = tokenize(line, tok, 8)) == 0)
			continue;
		if (*n >= MAX_EVENTS || nt < 3) {
			rc = -EINVAL;
			break;
		}
		ev[*n].t = strtoull(tok[0], NULL, 10);
		(void)snprintf(ev[*n].node, sizeof(ev[*n].node), "%s", tok[2]);
		if (strcmp(tok[1], "node-lost") == 0 && nt == 4)
			ev[*n].kind = strcmp(tok[3], "leave") == 0 ? EV_LEAVE : EV_LOST;
		else if (strcmp(tok[1], "fence-confirmed") == 0)
			ev[*n].kind = EV_FENCED;
		else {
			(void)snprintf(why, whylen, "%.180s: event '%.32s' not supported "
				       "by xm-storm", path, tok[1]);
			rc = -EINVAL;
			break;
		}
		(*n)++;
	}
	(void)fclose(f);
	return rc;
}

static int
run_event(struct storm *s, const struct event *e)
{
	const struct node_rec *n = state_node_by_name(&s->st, e->node);

	if (n == NULL)
		return -ENOENT;
	s->now = e->t;
	if (e->kind == EV_FENCED) {
		for (size_t i = 0; i < s->n_fencing; i++)
			if (s->fencing[i] == n->id)
				s->fencing[i] = s->fencing[--s->n_fencing];
		return set_node_state(s, n->id, NODE_STATE_FENCED);
	}
	return set_node_state(s, n->id, e->kind == EV_LEAVE ?
			      NODE_STATE_OFFLINE : NODE_STATE_UNCLEAN);
}

/* The whole scenario; with repeat > 0 the steps after the last loss and
 * after the last fence are timed on the way. */
static int
run_scenario(struct storm *s, const char *dir, const struct event *ev,
	     size_t nev, int repeat)
{
	struct counts c;
	size_t last_lost = nev, last_fenced = nev, i;
	int rc;

	memset(s, 0, sizeof(*s));
	state_init(&s->st);
	for (i = 0; i < nev; i++) {
		if (ev[i].kind == EV_FENCED)
			last_fenced = i;
		else
			last_lost = i;
	}
	rc = load_setup(s, dir);
	if (rc == 0)
		rc = settle(s);
	for (i = 0; i < nev && rc == 0; i++) {
		rc = run_event(s, &ev[i]);
		if (rc == 0 && repeat > 0 && i == last_lost) {
			rc = time_schedule(s, "decide after the last host is lost", repeat, &c);
			print_counts("its decisions", &c);
		}
		if (rc == 0 && repeat > 0 && i == last_fenced) {
			rc = time_schedule(s, "decide the restarts (after the fences)",
					   repeat, &c);
			if (rc == 0) {
				print_counts("its decisions", &c);
				rc = time_settle(s, "every run until quiet (+ commits, acks)",
						 repeat);
			}
		}
		if (rc == 0)
			rc = settle(s);
	}
	return rc;
}

static int
scenario(const char *dir, const char *sim, int repeat)
{
	struct event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	struct storm *s = calloc(1, sizeof(*s));
	struct bench_series whole;
	size_t nev = 0, vms;
	char why[256] = "";
	int rc;

	if (ev == NULL || s == NULL || bench_series_init(&whole,
		"whole scenario, in-process", (size_t)repeat) < 0) {
		free(ev);
		free(s);
		return -ENOMEM;
	}
	rc = load_events(dir, ev, &nev, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "xm-storm: %s\n", why[0] ? why : xm_strerror(rc));
		goto out_free;
	}
	printf("scenario %s: %zu events\n", dir, nev);
	rc = run_scenario(s, dir, ev, nev, repeat);
	vms = s->st.n_vms;
	state_free(&s->st);
	for (int r = 0; r < repeat && rc == 0; r++) {
		double t0 = bench_now_ms();

		rc = run_scenario(s, dir, ev, nev, 0);
		bench_series_add(&whole, bench_now_ms() - t0);
		state_free(&s->st);
	}
	if (rc < 0) {
		fprintf(stderr, "xm-storm: %s: %s %s\n", dir, xm_strerror(rc), s->why);
		goto out_free;
	}
	printf("  (%zu VMs in the state)\n", vms);
	bench_series_print(&whole);
	if (sim != NULL) {
		struct bench_series proc;

		if (bench_series_init(&proc, "simulator process (fork, exec, wait)",
				      (size_t)repeat) < 0) {
			rc = -ENOMEM;
			goto out_free;
		}
		for (int r = 0; r < repeat && rc == 0; r++) {
			double t0 = bench_now_ms();
			int status = 0;
			pid_t pid = fork();

			if (pid == 0) {
				int fd = open("/dev/null", O_WRONLY);

				if (fd >= 0)
					(void)dup2(fd, STDOUT_FILENO);
				execl(sim, sim, dir, (char *)NULL);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &status, 0) < 0) {
				rc = -errno;
				break;
			}
			bench_series_add(&proc, bench_now_ms() - t0);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				printf("  simulator: scenario FAILED (exit %d): run "
				       "%s %s\n", WIFEXITED(status) ?
				       WEXITSTATUS(status) : -1, sim, dir);
				rc = -EINVAL;
			}
		}
		if (rc == 0) {
			bench_series_print(&proc);
			printf("    (the scenario passes: its decisions equal "
			       "expected.log)\n");
		}
		bench_series_free(&proc);
	}
out_free:
	bench_series_free(&whole);
	free(ev);
	free(s);
	return rc;
}

/* ---- the big cluster ----------------------------------------------------- */

static int
big_cluster(size_t nh, size_t nv, int repeat)
{
	struct bench_cluster c = { .n_hosts = nh, .n_vms = nv };
	struct storm *s = calloc(1, sizeof(*s));
	struct bench_fill f;
	struct counts cnt;
	size_t *per = calloc(nh + 1, sizeof(*per)), best = 0, target, moved;
	char what[96];
	uint32_t victim;
	int rc = -ENOMEM;

	if (s == NULL || per == NULL)
		goto out_free;
	state_init(&s->st);
	rc = bench_cluster_fill(&s->st, &c, &f, s->why, sizeof(s->why));
	if (rc < 0) {
		fprintf(stderr, "xm-storm: cannot build the cluster: %s\n", s->why);
		goto out_state;
	}
	for (size_t i = 0; i < s->st.n_vms; i++)
		if (s->st.vms[i].state == VM_STATE_RUNNING && s->st.vms[i].host <= nh)
			per[s->st.vms[i].host - 1]++;
	target = f.n_running / nh;
	for (size_t k = 0; k < nh; k++) {
		size_t d = per[k] > target ? per[k] - target : target - per[k];
		size_t bd = per[best] > target ? per[best] - target : target - per[best];

		if (d < bd)
			best = k;
	}
	victim = (uint32_t)best + 1;
	moved = per[best];
	printf("cluster: %zu dom0 hosts, %zu VMs (%zu running, %zu stopped); "
	       "h%" PRIu32 " with %zu running VMs is lost\n", nh, s->st.n_vms,
	       f.n_running, f.n_stopped, victim, moved);
	s->now = 1000;
	rc = set_node_state(s, victim, NODE_STATE_UNCLEAN);
	if (rc == 0) {
		rc = time_schedule(s, "decide after the host is lost", repeat, &cnt);
		if (rc == 0)
			print_counts("its decisions", &cnt);
	}
	if (rc == 0)
		rc = settle(s);
	if (rc == 0) {
		s->now = 6000;
		s->n_fencing = 0;
		rc = set_node_state(s, victim, NODE_STATE_FENCED);
	}
	if (rc == 0) {
		(void)snprintf(what, sizeof(what), "decide the restarts (%zu VMs)", moved);
		if (time_schedule(s, what, repeat, &cnt) == 0) {
			print_counts("its decisions", &cnt);
			rc = time_settle(s, "every run until quiet (+ commits, acks)",
					 repeat);
		}
	}
out_state:
	state_free(&s->st);
out_free:
	free(per);
	free(s);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *sim = NULL;
	long repeat = 20, nv = 0, nh = 64;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--scenario") == 0)
			dir = argv[++i];
		else if (strcmp(argv[i], "--sim") == 0)
			sim = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--vms") == 0)
			nv = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--hosts") == 0)
			nh = strtol(argv[++i], NULL, 10);
		else
			goto usage;
	}
	if (repeat <= 0 || nv < 0 || nh <= 0 || nh > STATE_MAX_NODES ||
	    (dir == NULL && nv == 0) || (sim != NULL && dir == NULL))
		goto usage;
	printf("%s\n", BUILD_NOTE);
	if (dir != NULL)
		rc = scenario(dir, sim, (int)repeat);
	if (rc == 0 && nv > 0)
		rc = big_cluster((size_t)nh, (size_t)nv, (int)repeat);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
usage:
	fprintf(stderr, "usage: xm-storm [--repeat N] [--scenario DIR [--sim PATH]] "
		"[--vms N [--hosts N]]\n");
	return 2;
}
