/* Makes the seed corpora of the fuzz targets from real messages:
 *   envelope, state, persist: a three-node replica group (fuzz_envelope.c's)
 *     syncs, commits a few changes, and syncs again from the resulting
 *     state; every frame multicast is written as [sender - 1][wire frame];
 *   host_event: the reports hosts send the coordinator (replica_report of
 *     that group's members), alone and in sequences of fuzz_host_event.c;
 *   ipc: agentctl's requests (as agent/agentctl.c fills them) about the
 *     test agent's state (harness_agent.c), in fuzz_ipc.c's format;
 *   peer: fuzz_peer.c's harness plays both sides of real connections; what
 *     it sent is also kept as a raw transcript (valid proofs: fuzz_peer's
 *     random numbers are deterministic).
 *
 *   gen_seeds CORPUS_DIR      (writes CORPUS_DIR/NAME/)
 *
 * Built against a build directory's libxmcore.a, no fuzzer runtime (B):
 *   cc -DHAVE_CONFIG_H -D_GNU_SOURCE -IB -IB/proto -Iha -Iagent -Istorage \
 *     -Ifencing tests/fuzz/gen_seeds.c B/libxmcore.a -lprotobuf-c -lsodium \
 *     -lqb -ljson-c -lxlutil -lxenlight -lxenstore -lxentoollog -o gen_seeds
 */
#define LLVMFuzzerTestOneInput fuzz_envelope_one
#include "fuzz_envelope.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_peer_one
#include "fuzz_peer.c"
#undef LLVMFuzzerTestOneInput

#include <sys/stat.h>
#include <unistd.h>

#include <qb/qbipc_common.h>

#include "persist.h"

static const char *out_dir;
static int n_frames;
static int seen_case[64];

static void
write_file(const char *sub, const char *name, const uint8_t *pre, size_t plen,
	   const uint8_t *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, sub);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, sub, name);
	f = fopen(path, "we");
	if (f == NULL || fwrite(pre, 1, plen, f) != plen ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* While set, frames go to this buffer as fuzz_host_event's messages
 * ([sender - 1][u16 length][frame]) instead of the envelope corpus. */
static struct {
	bool on;
	uint8_t buf[16384];
	size_t len;
} cap;

static void
cap_frame(uint32_t sender, const Xenmesh__Envelope *env)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (wire_pack(&env->base, &buf, &len) != 0 ||
	    cap.len + 3 + len > sizeof(cap.buf))
		abort();
	cap.buf[cap.len++] = (uint8_t)(sender - 1);
	cap.buf[cap.len++] = (uint8_t)(len >> 8);
	cap.buf[cap.len++] = (uint8_t)len;
	memcpy(cap.buf + cap.len, buf, len);
	cap.len += len;
	free(buf);
}

static void
record(uint32_t sender, const Xenmesh__Envelope *env)
{
	uint8_t *buf = NULL, pre = (uint8_t)(sender - 1);
	size_t len = 0;
	char name[64];
	int kind = (int)env->body_case;

	if (cap.on) {
		cap_frame(sender, env);
		return;
	}

	/* a few of each kind are enough */
	if (kind < 0 || kind >= 64 || seen_case[kind]++ >= 6)
		return;
	if (wire_pack(&env->base, &buf, &len) != 0)
		abort();
	snprintf(name, sizeof(name), "frame-%03d-case%d.bin", n_frames++, kind);
	write_file("envelope", name, &pre, 1, buf, len);
	free(buf);
}

static void
commit(Xenmesh__Op *op, const char *what)
{
	int rc = replica_commit(&nodes[1].rep, op);

	fprintf(stderr, "gen_seeds: commit %s: %d\n", what, rc);
	run_queue();
}

/* ---- host_event ------------------------------------------------------------ */

/* What hosts report about harness_agent.c's state (VMs web1 on h1 gen 3, db1
 * on h2 gen 1, boot1 starting on h2, mig1 migrating h1 -> h2; volumes
 * web1-data creating, old1-root removing; s3 the active SAN node). */
struct report {
	uint32_t from;
	Xenmesh__HostEventKind kind;
	const char *vm;
	uint64_t gen;
	const char *reason;
	const char *fenced;
};

static void
report(const struct report *r)
{
	Xenmesh__HostEvent ev = XENMESH__HOST_EVENT__INIT;

	ev.kind = r->kind;
	ev.vm = (char *)r->vm;
	ev.generation = r->gen;
	ev.reason = (char *)r->reason;
	ev.fenced = (char *)r->fenced;
	if (r->kind == XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED) {
		ev.has_exit = true;
		ev.exit = XENMESH__VM_EXIT__EXIT_CRASH;
	}
	if (r->kind == XENMESH__HOST_EVENT_KIND__HOST_STORAGE_FENCED) {
		ev.has_state_seq = true;
		ev.state_seq = 1000;
	}
	if (r->kind == XENMESH__HOST_EVENT_KIND__HOST_VM_STORAGE) {
		ev.has_dest = true;
		ev.dest = 2;
	}
	if (replica_report(&nodes[r->from].rep, &ev) != 0)
		abort();
}

/* One file of the reports given: a single one raw ([sender - 1][frame]),
 * more as stamped messages (byte 0 bit 7). */
static void
host_event_seed(const char *name, const struct report *r, size_t n)
{
	uint8_t pre = 0x80;

	cap.on = true;
	cap.len = 0;
	for (size_t i = 0; i < n; i++)
		report(&r[i]);
	run_queue();
	cap.on = false;
	if (n == 1)
		write_file("host_event", name, cap.buf, 1, cap.buf + 3, cap.len - 3);
	else
		write_file("host_event", name, &pre, 1, cap.buf, cap.len);
}

static void
seeds_host_event(void)
{
	static const struct report started[] = {
		{ 2, XENMESH__HOST_EVENT_KIND__HOST_VM_STARTED, "boot1", 1, NULL, NULL },
	};
	static const struct report crashed[] = {
		{ 2, XENMESH__HOST_EVENT_KIND__HOST_VM_EXITED, "db1", 1, NULL, NULL },
		{ 3, XENMESH__HOST_EVENT_KIND__HOST_VM_STORAGE, "mig1", 2, NULL, NULL },
	};
	static const struct report stop_failed[] = {
		/* escalates to fencing h2: its chain starts with storage */
		{ 2, XENMESH__HOST_EVENT_KIND__HOST_VM_STOP_FAILED, "db1", 1,
		  "xl destroy: timed out", NULL },
		{ 3, XENMESH__HOST_EVENT_KIND__HOST_STORAGE_FENCED, "", 0, NULL, "h2" },
		{ 2, XENMESH__HOST_EVENT_KIND__HOST_CLEAN, "", 0, NULL, NULL },
	};
	static const struct report volumes[] = {
		{ 3, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_READY, "web1-data", 0, NULL, NULL },
		{ 3, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_REMOVED, "old1-root", 0, NULL, NULL },
		{ 3, XENMESH__HOST_EVENT_KIND__HOST_VOLUME_FAILED, "web1-data", 0,
		  "lvcreate: no space", NULL },
	};
	static const struct report start_failed[] = {
		{ 2, XENMESH__HOST_EVENT_KIND__HOST_VM_START_FAILED, "boot1", 1,
		  "xl create: out of memory", NULL },
		{ 2, XENMESH__HOST_EVENT_KIND__HOST_VM_STOPPED, "boot1", 1, NULL, NULL },
	};

	/* its sync frames are not seeds of the envelope corpus */
	cap.on = true;
	group_start(NULL);
	cap.on = false;
	host_event_seed("vm-started.bin", started, 1);
	host_event_seed("vm-crashed.bin", crashed, 2);
	host_event_seed("stop-failed-fence.bin", stop_failed, 3);
	host_event_seed("volumes.bin", volumes, 3);
	host_event_seed("start-failed.bin", start_failed, 2);
	group_free();
}

/* ---- ipc --------------------------------------------------------------------- */

struct ipc_req {
	const char *name;
	uint8_t caller;                 /* fuzz_ipc.c byte 0, bits 0-1 */
	Xenmesh__CtlCommand cmd;
	const char *args[3];
	const char *config;
	void (*extra)(Xenmesh__CtlRequest *req);
};

static void x_since(Xenmesh__CtlRequest *r) { r->has_since = true; r->since = 0; }
static void x_secrets(Xenmesh__CtlRequest *r)
{
	r->has_show_secrets = true;
	r->show_secrets = true;
}
static void x_offline(Xenmesh__CtlRequest *r) { r->has_offline = true; r->offline = true; }
static void x_drain(Xenmesh__CtlRequest *r)
{
	r->has_parallel = true;
	r->parallel = 2;
	r->has_force = true;
	r->force = true;
	r->has_dry_run = true;
	r->dry_run = false;
}
static void x_rebalance(Xenmesh__CtlRequest *r)
{
	r->has_rebalance = true;
	r->rebalance = true;
}
static void x_timeout(Xenmesh__CtlRequest *r)
{
	r->has_timeout_s = true;
	r->timeout_s = 60;
}

static size_t
ipc_frame(const struct ipc_req *q, uint8_t **buf)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	size_t len = 0;

	req.command = q->cmd;
	req.args = (char **)q->args;
	while (req.n_args < 3 && q->args[req.n_args] != NULL)
		req.n_args++;
	req.config = (char *)q->config;
	if (q->extra != NULL)
		q->extra(&req);
	if (wire_pack(&req.base, buf, &len) != 0)
		abort();
	return len;
}

static void
seeds_ipc(void)
{
	static const struct ipc_req reqs[] = {
		{ "status", 0, XENMESH__CTL_COMMAND__CTL_STATUS, { NULL }, NULL, NULL },
		{ "events-reader", 1, XENMESH__CTL_COMMAND__CTL_EVENTS, { NULL },
		  NULL, x_since },
		{ "node-maintenance", 0, XENMESH__CTL_COMMAND__CTL_NODE_FLAG,
		  { "h2", "maintenance", "on" }, NULL, NULL },
		{ "vm-define", 2, XENMESH__CTL_COMMAND__CTL_VM_DEFINE, { "web2.cfg" },
		  "name = \"web2\"\nmemory = 256\nvcpus = 2\n"
		  "disk = [ \"phy:/dev/xm/web2-root,xvda,w\" ]\n"
		  "ha_priority = 3\nha_hosts = [ \"h2\" ]\n", NULL },
		{ "vm-restart", 0, XENMESH__CTL_COMMAND__CTL_VM_RESTART, { "db1" },
		  NULL, NULL },
		{ "vm-start-refused", 1, XENMESH__CTL_COMMAND__CTL_VM_START,
		  { "idle1", "h2" }, NULL, NULL },
		{ "vm-show", 0, XENMESH__CTL_COMMAND__CTL_VM_LIST, { "web1" }, NULL,
		  NULL },
		{ "fence-config", 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG, { NULL },
		  NULL, x_secrets },
		{ "fence-config-set", 0, XENMESH__CTL_COMMAND__CTL_FENCE_CONFIG_SET,
		  { "fence.conf" }, "h1: level 1 deadline\n"
		  "h2: delay 5; level 1 fence-agent agent=fence_ipmilan "
		  "ip=10.0.0.2 password=x; level 2 storage\n", NULL },
		{ "node-fence", 0, XENMESH__CTL_COMMAND__CTL_NODE_FENCE, { "h4" },
		  NULL, NULL },
		{ "log-level", 2, XENMESH__CTL_COMMAND__CTL_LOG_LEVEL, { "debug" },
		  NULL, NULL },
		{ "volume-create", 0, XENMESH__CTL_COMMAND__CTL_VOLUME_CREATE,
		  { "web1", "swap", "1073741824" }, NULL, NULL },
		{ "storage-status", 3, XENMESH__CTL_COMMAND__CTL_STORAGE_STATUS,
		  { NULL }, NULL, NULL },
		{ "vm-migrate", 0, XENMESH__CTL_COMMAND__CTL_VM_MIGRATE,
		  { "web1", "h2" }, NULL, x_offline },
		{ "node-drain", 0, XENMESH__CTL_COMMAND__CTL_NODE_DRAIN, { "h1" },
		  NULL, x_drain },
		{ "node-undrain", 0, XENMESH__CTL_COMMAND__CTL_NODE_UNDRAIN, { "h2" },
		  NULL, x_rebalance },
		{ "prepare-shutdown", 0,
		  XENMESH__CTL_COMMAND__CTL_NODE_PREPARE_SHUTDOWN, { NULL }, NULL,
		  x_timeout },
	};
	/* vm restart, then the VM undefined while the restart waits */
	static const struct ipc_req restart_undefine[] = {
		{ "", 0, XENMESH__CTL_COMMAND__CTL_VM_RESTART, { "web1" }, NULL, NULL },
		{ "", 0, XENMESH__CTL_COMMAND__CTL_VM_STOP, { "web1" }, NULL, NULL },
		{ "", 0, XENMESH__CTL_COMMAND__CTL_VM_UNDEFINE, { "web1" }, NULL, NULL },
	};
	struct qb_ipc_request_header hdr;
	uint8_t out[8192], *buf = NULL;
	char name[64];
	size_t len, n;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		len = ipc_frame(&reqs[i], &buf);
		out[0] = (uint8_t)(0x80 | reqs[i].caller);
		out[1] = (uint8_t)(len >> 8);
		out[2] = (uint8_t)len;
		memcpy(out + 3, buf, len);
		free(buf);
		snprintf(name, sizeof(name), "%s.bin", reqs[i].name);
		write_file("ipc", name, NULL, 0, out, 3 + len);
	}
	n = 1;
	for (size_t i = 0; i < 3; i++) {
		len = ipc_frame(&restart_undefine[i], &buf);
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
		memcpy(out + n, buf, len);
		n += len;
		free(buf);
	}
	out[0] = 0x80;
	write_file("ipc", "restart-undefine.bin", NULL, 0, out, n);
	/* as libqb delivers it, header and all */
	len = ipc_frame(&reqs[2], &buf);
	memset(&hdr, 0, sizeof(hdr));
	hdr.id = 1;             /* XM_IPC_MSG_STATUS */
	hdr.size = (int32_t)(sizeof(hdr) + len);
	out[0] = 0;
	memcpy(out + 1, &hdr, sizeof(hdr));
	memcpy(out + 1 + sizeof(hdr), buf, len);
	free(buf);
	write_file("ipc", "raw-node-maintenance.bin", NULL, 0, out,
		   1 + sizeof(hdr) + len);
}

/* ---- peer -------------------------------------------------------------------- */

static uint8_t transcript[8192];
static size_t transcript_len;

static void
transcript_add(const uint8_t *buf, size_t len)
{
	if (transcript_len + len > sizeof(transcript))
		abort();
	memcpy(transcript + transcript_len, buf, len);
	transcript_len += len;
}

/* A frame op of fuzz_peer.c's smart mode. */
static size_t
op_frame(uint8_t *out, uint8_t type, uint8_t tagsel, const char *payload)
{
	size_t len = payload ? strlen(payload) : 0;

	out[0] = 0;
	out[1] = type;
	out[2] = tagsel;
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	memcpy(out + 5, payload ? payload : "", len);
	return 5 + len;
}

/* Writes the smart input, and with raw set the transcript of what the
 * harness sent as a raw input of the same side. */
static void
peer_seed(const char *name, const uint8_t *in, size_t len, bool raw)
{
	uint8_t side = in[0] & 1;
	char rname[64];

	write_file("peer", name, NULL, 0, in, len);
	if (!raw)
		return;
	transcript_len = 0;
	fp_record = transcript_add;
	(void)fuzz_peer_one(in, len);
	fp_record = NULL;
	snprintf(rname, sizeof(rname), "raw-%s", name);
	write_file("peer", rname, &side, 1, transcript, transcript_len);
}

static void
seeds_peer(void)
{
	uint8_t in[1024];
	size_t n;

	/* accepting side: a whole splice, both directions, clean end */
	n = 0;
	in[n++] = 2;
	n += op_frame(in + n, 'H', 0, "vm web1 migrate from h1");
	n += op_frame(in + n, 'D', 0, "xl migrate stream bytes");
	in[n++] = 3;
	in[n++] = 10;
	memcpy(in + n, "local data", 10);
	n += 10;
	in[n++] = 4;
	n += op_frame(in + n, 'E', 0, NULL);
	n += op_frame(in + n, 'C', 3, NULL);
	peer_seed("accept-splice.bin", in, n, true);

	/* accepting side: the hook refuses; a hook that aborts */
	n = 0;
	in[n++] = 2;
	n += op_frame(in + n, 'H', 0, "Rno such VM");
	peer_seed("accept-refused.bin", in, n, false);
	n = 0;
	in[n++] = 2;
	n += op_frame(in + n, 'H', 0, "X");
	peer_seed("accept-hook-aborts.bin", in, n, false);

	/* accepting side: the other side aborts mid-stream; a frame too big */
	n = 0;
	in[n++] = 2;
	n += op_frame(in + n, 'H', 0, "vm db1");
	n += op_frame(in + n, 'X', 3, "xl migrate died");
	peer_seed("accept-abort.bin", in, n, false);
	n = 0;
	in[n++] = 2;
	n += op_frame(in + n, 'H', 0, "vm db1");
	in[n++] = 5;
	in[n++] = 0xff;
	in[n++] = 0xf0;
	in[n++] = 0;
	in[n++] = 6;
	peer_seed("accept-big-frame.bin", in, n, false);

	/* dialing side: accepted, a splice, clean end */
	n = 0;
	in[n++] = 3;
	n += op_frame(in + n, 'A', 0, NULL);
	n += op_frame(in + n, 'D', 0, "answer stream");
	in[n++] = 4;
	n += op_frame(in + n, 'E', 0, NULL);
	n += op_frame(in + n, 'C', 3, NULL);
	peer_seed("dial-splice.bin", in, n, true);

	/* dialing side: refused; garbage after the verdict */
	n = 0;
	in[n++] = 3;
	n += op_frame(in + n, 'R', 3, "this agent takes no peer connections");
	peer_seed("dial-refused.bin", in, n, false);
	n = 0;
	in[n++] = 3;
	n += op_frame(in + n, 'A', 0, NULL);
	in[n++] = 1;
	in[n++] = 8;
	memcpy(in + n, "\0\0\0\x20garb", 8);
	n += 8;
	in[n++] = 2;
	peer_seed("dial-garbage.bin", in, n, false);

	/* not a peer, another version */
	write_file("peer", "raw-bad-magic.bin", NULL, 0,
		   (const uint8_t *)"\0GET / HTTP/1.0\r\n\r\n", 20);
	write_file("peer", "raw-version-2.bin", NULL, 0,
		   (const uint8_t *)"\0XMPC\0\x02\0\0", 9);
}

int
main(int argc, char **argv)
{
	Xenmesh__Op op;
	Xenmesh__OpNodeFlags fl;
	Xenmesh__OpVmDefine def;
	Xenmesh__VmHa ha;
	Xenmesh__OpVmWant want;
	Xenmesh__OpFenceConfig fc;
	struct state snap;
	uint8_t *buf = NULL, mode;
	size_t len = 0;
	char why[256], tmp[] = "/tmp/gen-seeds.XXXXXX", path[128];
	FILE *f;
	int64_t rc;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	out_dir = argv[1];
	/* first: fuzz_peer sets libsodium's random numbers before its init */
	seeds_peer();
	seeds_ipc();
	record_hook = record;
	group_start(NULL);

	xenmesh__op__init(&op);
	xenmesh__op_node_flags__init(&fl);
	fl.id = 2;
	fl.set = NODE_FLAG_MAINTENANCE;
	op.kind_case = XENMESH__OP__KIND_NODE_FLAGS;
	op.node_flags = &fl;
	commit(&op, "node_flags");

	for (int i = 0; i < 2; i++) {
		xenmesh__op__init(&op);
		xenmesh__op_vm_define__init(&def);
		xenmesh__vm_ha__init(&ha);
		def.name = i == 0 ? "vm1" : "vm2";
		def.config = i == 0 ? "name = \"vm1\"\nmemory = 256\n" :
			"name = \"vm2\"\nmemory = 512\nvcpus = 2\nha_priority = 10\n";
		def.memory_mb = i == 0 ? 256 : 512;
		ha.restart = "on-failure";
		def.ha = &ha;
		op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
		op.vm_define = &def;
		commit(&op, def.name);
	}

	xenmesh__op__init(&op);
	xenmesh__op_fence_config__init(&fc);
	fc.text = "h1 = ipmi:host=10.0.0.1\n";
	op.kind_case = XENMESH__OP__KIND_FENCE_CONFIG;
	op.fence_config = &fc;
	commit(&op, "fence_config");

	/* a request of a member that is not the coordinator */
	xenmesh__op__init(&op);
	xenmesh__op_vm_want__init(&want);
	want.name = "vm1";
	want.running = true;
	want.has_host = true;
	want.host = 3;
	op.kind_case = XENMESH__OP__KIND_VM_WANT;
	op.vm_want = &want;
	rc = replica_request(&nodes[2].rep, &op, 0, why, sizeof(why));
	fprintf(stderr, "gen_seeds: request vm_want: %lld %s\n", (long long)rc,
		rc < 0 ? why : "");
	run_queue();

	/* the state: raw (fuzz_state) and as state file (fuzz_persist) */
	state_init(&snap);
	if (state_copy(&snap, &nodes[1].rep.st) != 0 ||
	    state_pack(&snap, &buf, &len) != 0)
		abort();
	fprintf(stderr, "gen_seeds: state %zu nodes %zu vms, %zu bytes\n",
		snap.n_nodes, snap.n_vms, len);
	write_file("state", "state-full.bin", NULL, 0, buf, len);
	free(buf);
	if (mkdtemp(tmp) == NULL || persist_save(tmp, &snap) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/%s", tmp, PERSIST_FILE);
	f = fopen(path, "re");
	if (f == NULL)
		abort();
	buf = malloc(1 << 20);
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	(void)unlink(path);
	(void)rmdir(tmp);
	mode = 0;
	write_file("persist", "state-file.bin", &mode, 1, buf, len);
	mode = 1;
	write_file("persist", "state-file-rehash.bin", &mode, 1, buf, len);
	free(buf);

	/* a second group syncs from that state: offers and chunks with content */
	group_free();
	memset(seen_case, 0, sizeof(seen_case));
	group_start(&snap);
	group_free();
	state_free(&snap);

	/* the empty state too */
	state_init(&snap);
	if (state_pack(&snap, &buf, &len) != 0)
		abort();
	write_file("state", "state-empty.bin", NULL, 0, buf, len);
	free(buf);
	fprintf(stderr, "gen_seeds: %d frames\n", n_frames);
	seeds_host_event();
	return 0;
}
