/* Makes the seed corpora of fuzz_state, fuzz_persist and fuzz_envelope
 * from real messages: a three-node replica group (fuzz_envelope.c's) syncs,
 * commits a few changes, and syncs again from the resulting state; every
 * frame multicast is written as [sender - 1][wire frame].
 *
 *   gen_seeds CORPUS_DIR      (writes CORPUS_DIR/{envelope,state,persist}/)
 */
#define LLVMFuzzerTestOneInput fuzz_envelope_one
#include "fuzz_envelope.c"
#undef LLVMFuzzerTestOneInput

#include <sys/stat.h>
#include <unistd.h>

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

static void
record(uint32_t sender, const Xenmesh__Envelope *env)
{
	uint8_t *buf = NULL, pre = (uint8_t)(sender - 1);
	size_t len = 0;
	char name[64];
	int kind = (int)env->body_case;

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
	return 0;
}
