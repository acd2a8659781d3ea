/* The test xenmeshd of the daemon fuzz targets; see harness_agent.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbloop.h>

#include "harness_agent.h"
#include "cluster.h"
#include "replica.h"
#include "wire.h"
#include "san_int.h"
#include "vmhost.h"
#include "vmsave.h"

#define QUEUE      256
#define MAX_ROUNDS 2000          /* deliveries per run of the queue */
#define LOOP_MAX   256           /* jobs and timers in the fake loop */

/* ---- the fake loop ------------------------------------------------------ */

/* The daemon code adds timers (waits of agentctl commands) and jobs (the
 * coordinator's coalesced look at the state) to a->loop.  These
 * definitions replace libqb's in the fuzz executables: nothing runs until
 * harness_agent_run_loop() fires it, as if its time had come. */
struct loop_entry {
	void (*fn)(void *data);
	void *data;
	qb_loop_timer_handle handle;    /* 0 for a job */
	unsigned round;                 /* added in this round */
};

static struct loop_entry loop_tab[LOOP_MAX];
static size_t loop_n;
static unsigned loop_round;
static qb_loop_timer_handle loop_next_handle = 1;

static int32_t
loop_add(void *data, void (*fn)(void *data), qb_loop_timer_handle *handle)
{
	struct loop_entry *e;

	if (loop_n >= LOOP_MAX)
		return -ENOMEM;
	e = &loop_tab[loop_n++];
	e->fn = fn;
	e->data = data;
	e->round = loop_round;
	e->handle = handle != NULL ? loop_next_handle++ : 0;
	if (handle != NULL)
		*handle = e->handle;
	return 0;
}

static void
loop_remove(size_t i)
{
	loop_tab[i] = loop_tab[--loop_n];
}

int32_t
qb_loop_job_add(qb_loop_t *l, enum qb_loop_priority p, void *data,
		qb_loop_job_dispatch_fn fn)
{
	(void)l;
	(void)p;
	return loop_add(data, fn, NULL);
}

int32_t
qb_loop_job_del(struct qb_loop *l, enum qb_loop_priority p, void *data,
		qb_loop_job_dispatch_fn fn)
{
	(void)l;
	(void)p;
	for (size_t i = 0; i < loop_n; i++) {
		if (loop_tab[i].handle == 0 && loop_tab[i].data == data &&
		    loop_tab[i].fn == fn) {
			loop_remove(i);
			return 0;
		}
	}
	return -ENOENT;
}

int32_t
qb_loop_timer_add(qb_loop_t *l, enum qb_loop_priority p, uint64_t nsec_duration,
		  void *data, qb_loop_timer_dispatch_fn fn,
		  qb_loop_timer_handle *timer_handle_out)
{
	qb_loop_timer_handle dummy;

	(void)l;
	(void)p;
	(void)nsec_duration;
	return loop_add(data, fn, timer_handle_out ? timer_handle_out : &dummy);
}

int32_t
qb_loop_timer_del(qb_loop_t *l, qb_loop_timer_handle th)
{
	(void)l;
	for (size_t i = 0; th != 0 && i < loop_n; i++) {
		if (loop_tab[i].handle == th) {
			loop_remove(i);
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- the SAN -------------------------------------------------------------- */

/* agent/san_mirror.c is not linked: the fuzzed agent is a dom0 without a
 * SAN (a->san NULL), where vm create never asks for it. */
bool
san_mirror_exportable(void *s, const struct vol_rec *v)
{
	(void)s;
	(void)v;
	return false;
}

/* ---- the group ---------------------------------------------------------- */

/* agent/cluster.c is not linked (no corosync): every member of the fuzzed
 * group speaks our protocol. */
uint16_t
cluster_peer_minor(const struct agent *a, uint32_t nodeid, uint32_t pid)
{
	(void)a;
	(void)nodeid;
	(void)pid;
	return XM_PROTO_MINOR;
}

bool
cluster_members_speak(const struct agent *a, uint16_t minor, uint32_t *node,
		      uint16_t *got)
{
	(void)a;
	(void)node;
	(void)got;
	return minor <= XM_PROTO_MINOR;
}

/* ---- the peer channel ---------------------------------------------------- */

/* agent/migrate.c is not linked: the fuzzed agent has no peer channel
 * (a->peer NULL), so nothing is accepted from it. */
int
migrate_accept(struct vmhost *vh, struct peer_conn *c, const char *from_addr,
	       const uint8_t *hello, size_t len, int *fd,
	       void (**done)(void *, int, const char *), void **done_arg,
	       char *why, size_t whylen)
{
	(void)vh;
	(void)c;
	(void)from_addr;
	(void)hello;
	(void)len;
	(void)fd;
	(void)done;
	(void)done_arg;
	snprintf(why, whylen, "not linked");
	return -ENOSYS;
}

/* agent/san_saveimg.c neither, for the same reason. */
int
saveimg_accept(struct agent *a, struct peer_conn *c, const char *from_addr,
	       const uint8_t *hello, size_t len, int *fd,
	       void (**done)(void *, int, const char *), void **done_arg,
	       char *why, size_t whylen)
{
	return migrate_accept(a->vh, c, from_addr, hello, len, fd, done, done_arg,
			      why, whylen);
}

struct fnode {
	uint32_t id;
	char name[16];
	struct replica own;             /* nodes 2, 3 */
	struct replica *rep;            /* &own, or the agent's */
};

struct fmsg {
	uint32_t sender;
	uint8_t *buf;
	size_t len;
};

static struct agent agent;
static struct harness_agent_hooks hooks;
static struct fnode nodes[HARNESS_NODES + 1];
static struct fmsg queue[QUEUE];
static size_t q_head, q_tail;
static struct state preload;
static bool preload_made;

static int
f_mcast(void *data, const Xenmesh__Envelope *env)
{
	struct fnode *fn = data;
	struct fmsg *m;
	size_t len;

	if (q_tail - q_head >= QUEUE)
		return -ENOBUFS;
	len = xenmesh__envelope__get_packed_size(env);
	m = &queue[q_tail++ % QUEUE];
	m->sender = fn->id;
	m->len = len;
	m->buf = malloc(len ? len : 1);
	if (m->buf == NULL)
		abort();
	xenmesh__envelope__pack(env, m->buf);
	return 0;
}

static void
f_node_info(void *data, Xenmesh__OpNodeInfo *info)
{
	struct fnode *fn = data;

	info->id = fn->id;
	info->name = fn->name;
	/* node 3 is the SAN node: storage reports come from it */
	info->role = fn->id == 3 ? XENMESH__NODE_ROLE__ROLE_SAN :
		XENMESH__NODE_ROLE__ROLE_DOM0;
	info->mem_total_mb = 8192;
	info->mem_free_mb = 8192;
	info->has_watchdog_s = true;
	info->watchdog_s = 10;
}

static void
f_event(void *data, uint64_t epoch, uint64_t seq, uint32_t node,
	const char *kind, const char *text)
{
	struct fnode *fn = data;

	/* as agent/cluster.c's ops_event: the agent's event log */
	if (fn->id == 1)
		(void)eventlog_add(&agent.events, epoch, seq, node, kind, "%s",
				   text);
}

static void
f_done(void *data, uint64_t req_id, int result, const char *reason)
{
	struct fnode *fn = data;

	if (fn->id == 1 && hooks.request_done != NULL)
		hooks.request_done(&agent, req_id, result, reason);
}

static void
f_changed(void *data)
{
	struct fnode *fn = data;

	if (fn->id == 1 && hooks.changed != NULL)
		hooks.changed(&agent);
}

static void
f_host_event(void *data, uint32_t host, const Xenmesh__HostEvent *ev)
{
	struct fnode *fn = data;

	if (fn->id == 1 && hooks.host_event != NULL)
		hooks.host_event(&agent, host, ev);
}

static const struct replica_ops f_ops = {
	.mcast = f_mcast,
	.event = f_event,
	.request_done = f_done,
	.node_info = f_node_info,
	.changed = f_changed,
	.host_event = f_host_event,
};

struct replica *
harness_agent_replica(uint32_t id)
{
	return id >= 1 && id <= HARNESS_NODES ? nodes[id].rep : NULL;
}

void
harness_agent_run_queue(void)
{
	int rounds = 0;

	while (q_head < q_tail) {
		struct fmsg m = queue[q_head++ % QUEUE];
		Xenmesh__Envelope *env;

		if (++rounds <= MAX_ROUNDS) {
			env = xenmesh__envelope__unpack(NULL, m.len, m.buf);
			if (env == NULL)
				abort();        /* a replica multicast garbage */
			for (int i = 1; i <= HARNESS_NODES; i++)
				replica_deliver_from(nodes[i].rep, m.sender,
						     HARNESS_PID(m.sender), env);
			xenmesh__envelope__free_unpacked(env, NULL);
		}
		free(m.buf);
	}
}

void
harness_agent_run_loop(int rounds)
{
	for (int r = 0; r < rounds && loop_n > 0; r++) {
		size_t i = 0;

		loop_round++;
		while (i < loop_n) {
			struct loop_entry e = loop_tab[i];

			if (e.round >= loop_round) {
				i++;
				continue;
			}
			/* out first: the callback may add itself again, or
			 * delete others */
			loop_remove(i);
			e.fn(e.data);
			i = 0;
		}
		harness_agent_run_queue();
	}
}

/* ---- the fixed state ------------------------------------------------------ */

static void
apply(struct state *s, Xenmesh__Op *op)
{
	char why[256] = "";

	if (state_apply(s, 1, s->seq + 1, op, why, sizeof(why)) != 0) {
		fprintf(stderr, "harness_agent: preload op %d refused: %s\n",
			(int)op->kind_case, why);
		abort();
	}
}

static void
add_node(struct state *s, uint32_t id, const char *name, Xenmesh__NodeRole role)
{
	Xenmesh__OpNodeInfo ni = XENMESH__OP_NODE_INFO__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	ni.id = id;
	ni.name = (char *)name;
	ni.role = role;
	ni.mem_total_mb = 8192;
	ni.mem_free_mb = 8192;
	ni.has_watchdog_s = true;
	ni.watchdog_s = 10;
	op.kind_case = XENMESH__OP__KIND_NODE_INFO;
	op.node_info = &ni;
	apply(s, &op);
}

static void
add_vm(struct state *s, const char *name, uint64_t mem, const char *hosts)
{
	Xenmesh__OpVmDefine def = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__VmHa ha = XENMESH__VM_HA__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char cfg[512];

	(void)snprintf(cfg, sizeof(cfg), "name = \"%s\"\nmemory = %llu\n"
		       "disk = [ \"phy:/dev/xm/%s-root,xvda,w\" ]\n%s", name,
		       (unsigned long long)mem, name, hosts ? hosts : "");
	def.name = (char *)name;
	def.config = cfg;
	def.memory_mb = mem;
	ha.restart = (char *)"on-failure";
	def.ha = &ha;
	op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
	op.vm_define = &def;
	apply(s, &op);
}

static void
set_vm(struct state *s, const char *name, const char *st, uint32_t host,
       uint64_t gen, uint32_t migrate_to, const char *reason)
{
	Xenmesh__OpVmSet set = XENMESH__OP_VM_SET__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	set.name = (char *)name;
	set.state = (char *)st;
	set.has_host = host != 0;
	set.host = host;
	set.has_generation = gen != 0;
	set.generation = gen;
	set.reason = (char *)reason;
	set.has_want_running = true;
	set.want_running = strcmp(st, "stopped") != 0;
	set.has_migrate_to = migrate_to != 0;
	set.migrate_to = migrate_to;
	set.has_now_ms = true;
	set.now_ms = 1700000000000ULL;
	op.kind_case = XENMESH__OP__KIND_VM_SET;
	op.vm_set = &set;
	apply(s, &op);
}

static void
add_vol(struct state *s, const char *vm, const char *disk, const char *st,
	const char *reason)
{
	Xenmesh__OpVolumeCreate vc = XENMESH__OP_VOLUME_CREATE__INIT;
	Xenmesh__OpVolumeSet vs = XENMESH__OP_VOLUME_SET__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	char name[VOL_NAME_MAX];

	vc.vm = (char *)vm;
	vc.disk = (char *)disk;
	vc.size_bytes = 1ULL << 30;
	op.kind_case = XENMESH__OP__KIND_VOLUME_CREATE;
	op.volume_create = &vc;
	apply(s, &op);
	if (st == NULL)
		return;                 /* stays creating */
	(void)snprintf(name, sizeof(name), "%s-%s", vm, disk);
	vs.name = name;
	vs.state = (char *)st;
	vs.reason = (char *)reason;
	op = (Xenmesh__Op)XENMESH__OP__INIT;
	op.kind_case = XENMESH__OP__KIND_VOLUME_SET;
	op.volume_set = &vs;
	apply(s, &op);
}

/* h1, h2 (dom0), s3 (SAN, active), h4 (dom0, lost uncleanly); VMs in
 * most states, volumes in every state, fence chains. */
static void
preload_make(struct state *s)
{
	Xenmesh__OpNodeState ns = XENMESH__OP_NODE_STATE__INIT;
	Xenmesh__OpSanActive sa = XENMESH__OP_SAN_ACTIVE__INIT;
	Xenmesh__OpFenceConfig fc = XENMESH__OP_FENCE_CONFIG__INIT;
	Xenmesh__OpNodeFlags nf = XENMESH__OP_NODE_FLAGS__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;

	state_init(s);
	add_node(s, 1, "h1", XENMESH__NODE_ROLE__ROLE_DOM0);
	add_node(s, 2, "h2", XENMESH__NODE_ROLE__ROLE_DOM0);
	add_node(s, 3, "s3", XENMESH__NODE_ROLE__ROLE_SAN);
	add_node(s, 4, "h4", XENMESH__NODE_ROLE__ROLE_DOM0);
	ns.id = 4;
	ns.state = XENMESH__NODE_STATE__NODE_UNCLEAN;
	op.kind_case = XENMESH__OP__KIND_NODE_STATE;
	op.node_state = &ns;
	apply(s, &op);
	nf.id = 4;
	nf.set = NODE_FLAG_STORAGE_FENCED;
	op = (Xenmesh__Op)XENMESH__OP__INIT;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &nf;
	apply(s, &op);
	sa.id = 3;
	op = (Xenmesh__Op)XENMESH__OP__INIT;
	op.kind_case = XENMESH__OP__KIND_SAN_ACTIVE;
	op.san_active = &sa;
	apply(s, &op);
	fc.text = (char *)"h1: level 1 fence-agent agent=fence_ipmilan "
		"ip=10.0.0.1 password=secret; level 2 deadline\n"
		"h2: level 1 storage; level 2 deadline\n"
		"h4: level 1 xl-ssh; level 2 deadline\n";
	op = (Xenmesh__Op)XENMESH__OP__INIT;
	op.kind_case = XENMESH__OP__KIND_FENCE_CONFIG;
	op.fence_config = &fc;
	apply(s, &op);

	add_vm(s, "web1", 512, "ha_priority = 5\nha_hosts = [ \"h1\", \"h2\" ]\n");
	add_vm(s, "db1", 1024, NULL);
	add_vm(s, "mig1", 256, NULL);
	add_vm(s, "rec1", 256, NULL);
	add_vm(s, "old1", 256, NULL);
	add_vm(s, "idle1", 128, NULL);
	add_vm(s, "boot1", 128, NULL);
	set_vm(s, "web1", "running", 1, 3, 0, NULL);
	set_vm(s, "db1", "running", 2, 1, 0, NULL);
	set_vm(s, "mig1", "migrating", 1, 2, 2, NULL);
	set_vm(s, "rec1", "recovering", 4, 1, 0, "host h4 lost");
	set_vm(s, "old1", "failed", 0, 0, 0, "start failed everywhere");
	set_vm(s, "boot1", "starting", 2, 1, 0, NULL);
	add_vol(s, "web1", "root", "ready", NULL);
	add_vol(s, "web1", "data", NULL, NULL);
	add_vol(s, "db1", "root", "failed", "lvcreate: no space");
	add_vol(s, "old1", "root", "removing", NULL);
}

/* ---- life cycle ----------------------------------------------------------- */

struct agent *
harness_agent_start(const struct harness_agent_hooks *h)
{
	struct sync_member mem[HARNESS_NODES];
	struct quorum_verdict v;
	struct agent *a = &agent;

	if (!preload_made) {
		preload_make(&preload);
		preload_made = true;
	}
	hooks = *h;
	q_head = q_tail = 0;
	loop_n = 0;
	memset(a, 0, sizeof(*a));
	config_defaults(&a->cfg);
	a->loop = (qb_loop_t *)&loop_tab;       /* only ever passed back here */
	(void)eventlog_open(&a->events, NULL);
	metrics_init(&a->metrics, 1700000000000ULL);
	(void)snprintf(a->cluster_name, sizeof(a->cluster_name), "lab");
	(void)snprintf(a->node_name, sizeof(a->node_name), "h1");
	a->qin.connected = a->qin.quorate = true;
	a->qin.expected_votes = a->qin.total_votes = 3;
	a->qin.quorum = 2;
	a->services_started = true;

	memset(&v, 0, sizeof(v));
	v.quorate = true;
	v.ha_enabled = true;
	a->qv = v;
	for (int i = 1; i <= HARNESS_NODES; i++) {
		struct fnode *fn = &nodes[i];

		fn->id = (uint32_t)i;
		(void)snprintf(fn->name, sizeof(fn->name), i == 3 ? "s%d" : "h%d", i);
		fn->rep = i == 1 ? &a->rep : &fn->own;
		replica_init(fn->rep, (uint32_t)i, &f_ops, fn, 1024);
		mem[i - 1].nodeid = (uint32_t)i;
		mem[i - 1].pid = HARNESS_PID(i);
	}
	for (int i = 2; i <= HARNESS_NODES; i++)
		if (replica_load(nodes[i].rep, &preload) != 0)
			abort();
	for (int i = 1; i <= HARNESS_NODES; i++)
		replica_quorum(nodes[i].rep, &v);
	for (int i = 1; i <= HARNESS_NODES; i++) {
		replica_ring(nodes[i].rep, 1, 8);
		replica_confchg(nodes[i].rep, mem, HARNESS_NODES, NULL, NULL, 0);
	}
	harness_agent_run_queue();
	if (!replica_is_coordinator(&a->rep) || !a->rep.synced)
		abort();                /* the harness is broken, not the code */
	return a;
}

void
harness_agent_stop(void (*left)(void *data))
{
	while (q_head < q_tail)
		free(queue[q_head++ % QUEUE].buf);
	while (loop_n > 0) {
		void *data = loop_tab[--loop_n].data;

		if (left != NULL)
			left(data);
	}
	for (int i = 1; i <= HARNESS_NODES; i++)
		replica_free(nodes[i].rep);
	eventlog_close(&agent.events);
}
