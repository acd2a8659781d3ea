/* The replicated state at scale: its packed size, how many chunks the
 * sync round sends a joiner, and what encoding, decoding, digesting and
 * the state file cost, on the cluster of bench/population.h (10,000 VMs
 * with ~500-byte xl.cfg texts, HA settings, SAN volumes).
 *
 *   xm-snapshot [--vms N] [--hosts N] [--sans N] [--repeat N]
 *               [--chunk BYTES] [--dir DIR]
 *
 * --chunk: the sync chunk size, by default what xenmeshd uses with
 * corosync 3's libcpg: cpg_max_atomic_msgsize_get() answers its IPC
 * request size less 1024 (1 MiB - 1024), less the agent's 128 bytes of
 * envelope (agent/cluster.c).  --dir: a directory for the state file
 * timings (persist_save does a full write + fsync + rename + directory
 * fsync, as after every committed update); without it they are skipped.
 * Prints figures; asserts nothing about them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "cluster.h"
#include "ctl_server.h"
#include "persist.h"
#include "population.h"
#include "state.h"
#include "sync.h"
#include "vmtable.h"
#include "xlcfg.h"
#include "xm_error.h"

#define CHUNK_DEFAULT      (1024 * 1024 - 1024 - 128)
#define CHUNK_FALLBACK     1024        /* replica_init's, agent/main.c */
#define SYNC_BYTES_LIMIT   (64u << 20) /* ha/sync.c SYNC_MAX_BYTES */
#define SYNC_CHUNKS_LIMIT  65536u      /* ha/sync.c SYNC_MAX_CHUNKS */

struct opts {
	long vms, hosts, sans, repeat, chunk;
	const char *dir;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .vms = 10000, .hosts = 62, .sans = 2, .repeat = 20,
			    .chunk = CHUNK_DEFAULT };
	for (int i = 1; i < argc; i++) {
		long *dst = NULL;

		if (i + 1 >= argc)
			return -EINVAL;
		if (strcmp(argv[i], "--dir") == 0) {
			o->dir = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--vms") == 0)
			dst = &o->vms;
		else if (strcmp(argv[i], "--hosts") == 0)
			dst = &o->hosts;
		else if (strcmp(argv[i], "--sans") == 0)
			dst = &o->sans;
		else if (strcmp(argv[i], "--repeat") == 0)
			dst = &o->repeat;
		else if (strcmp(argv[i], "--chunk") == 0)
			dst = &o->chunk;
		if (dst == NULL || (*dst = strtol(argv[++i], NULL, 10)) < 0)
			return -EINVAL;
	}
	return o->vms > 0 && o->hosts > 0 && o->repeat > 0 && o->chunk > 0 ?
	       0 : -EINVAL;
}

/* The State of a status answer: without the xl.cfg texts
 * (agent/ctl_read.c, ctl_vm_view_trim). */
static size_t
status_state_size(const uint8_t *buf, size_t len)
{
	Xenmesh__State *m = xenmesh__state__unpack(NULL, len, buf);
	size_t n;

	if (m == NULL)
		return 0;
	for (size_t i = 0; i < m->n_vms; i++) {
		free(m->vms[i]->config);
		m->vms[i]->config = NULL;
	}
	n = xenmesh__state__get_packed_size(m);
	xenmesh__state__free_unpacked(m, NULL);
	return n;
}

static void
print_sizes(const struct state *st, const struct bench_fill *f,
	    const struct opts *o, const uint8_t *buf, size_t len)
{
	uint32_t chunks = sync_chunk_count(len, (size_t)o->chunk);
	uint32_t fallback = sync_chunk_count(len, CHUNK_FALLBACK);
	size_t status = status_state_size(buf, len);

	printf("encoded state (state_pack): %zu bytes (%.2f MiB), %.0f bytes "
	       "per VM; xl.cfg texts %zu bytes of it\n", len,
	       (double)len / 1048576, (double)len / (double)st->n_vms,
	       f->config_bytes);
	printf("sync to a joiner: %" PRIu32 " chunks of at most %ld bytes "
	       "(corosync 3 libcpg max atomic message 1 MiB - 1024, less "
	       "128 bytes of envelope)\n", chunks, o->chunk);
	printf("  if cpg_max_atomic_msgsize_get failed (replica default %d "
	       "bytes): %" PRIu32 " chunks\n", CHUNK_FALLBACK, fallback);
	printf("  receiver limits (ha/sync.c): %u MiB, %u chunks: %s\n",
	       SYNC_BYTES_LIMIT >> 20, SYNC_CHUNKS_LIMIT,
	       len <= SYNC_BYTES_LIMIT && chunks <= SYNC_CHUNKS_LIMIT &&
	       fallback <= SYNC_CHUNKS_LIMIT ? "within" :
	       len <= SYNC_BYTES_LIMIT && chunks <= SYNC_CHUNKS_LIMIT ?
	       "within at the default chunk size, NOT with the fallback" :
	       "EXCEEDED");
	printf("status answer (the State without xl.cfg texts): %zu bytes; "
	       "agentctl's IPC buffer %d bytes: %s\n", status, XM_IPC_MAX_MSG,
	       status + 1024 < (size_t)XM_IPC_MAX_MSG ? "fits" :
	       "DOES NOT FIT (status/list answers fail with EMSGSIZE)");
}

/* One VM define that sorts before every other (the table's memmove),
 * then its undefine. */
static int
time_define_first(struct state *st, const struct opts *o)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVmDefine d = XENMESH__OP_VM_DEFINE__INIT;
	Xenmesh__OpVmUndefine u = XENMESH__OP_VM_UNDEFINE__INIT;
	Xenmesh__VmHa ha;
	struct bench_series sd, su;
	struct vm_config *conf = malloc(sizeof(*conf));
	struct bench_vm bv;
	char *hosts[VM_MAX_HOSTS], *after[VM_MAX_AFTER], restart[16];
	char text[2048], why[256] = "";
	int len, rc = -ENOMEM;

	if (conf == NULL || bench_series_init(&sd, "define 1 VM sorting first "
					      "(state_apply)", (size_t)o->repeat) < 0)
		goto out_free;
	if (bench_series_init(&su, "undefine it (state_apply)",
			      (size_t)o->repeat) < 0) {
		bench_series_free(&sd);
		goto out_free;
	}
	bench_vm_make(0, 1, (size_t)o->hosts, &bv);
	(void)snprintf(bv.name, sizeof(bv.name), "aaa-first");
	len = bench_vm_xlcfg(&bv, NULL, text, sizeof(text));
	rc = len < 0 ? len : xlcfg_parse(text, (size_t)len, "aaa-first", conf,
					 why, sizeof(why));
	for (long r = 0; r < o->repeat && rc == 0; r++) {
		double t0;

		d.name = conf->name;
		d.config = text;
		d.memory_mb = conf->memory_mb;
		vm_ha_to_pb(&conf->ha, &ha, hosts, after, restart, sizeof(restart));
		d.ha = &ha;
		op.kind_case = XENMESH__OP__KIND_VM_DEFINE;
		op.vm_define = &d;
		t0 = bench_now_ms();
		rc = bench_commit(st, &op, why, sizeof(why));
		bench_series_add(&sd, bench_now_ms() - t0);
		if (rc < 0)
			break;
		u.name = conf->name;
		op.kind_case = XENMESH__OP__KIND_VM_UNDEFINE;
		op.vm_undefine = &u;
		t0 = bench_now_ms();
		rc = bench_commit(st, &op, why, sizeof(why));
		bench_series_add(&su, bench_now_ms() - t0);
	}
	if (rc < 0)
		printf("  define/undefine failed: %s\n", why[0] ? why : xm_strerror(rc));
	bench_series_print(&sd);
	bench_series_print(&su);
	bench_series_free(&sd);
	bench_series_free(&su);
out_free:
	free(conf);
	return rc;
}

/* One more SAN volume (OpVolumeCreate: lowest free DRBD minor, a scan of
 * the table per candidate), then its removal. */
static int
time_volume_create(struct state *st, const struct opts *o)
{
	Xenmesh__Op op = XENMESH__OP__INIT;
	Xenmesh__OpVolumeCreate vc = XENMESH__OP_VOLUME_CREATE__INIT;
	Xenmesh__OpVolumeRemove vr = XENMESH__OP_VOLUME_REMOVE__INIT;
	struct bench_series s;
	char what[80], why[256] = "", name[VOL_NAME_MAX + VM_NAME_MAX];
	long repeat = o->repeat < 5 ? o->repeat : 5;
	int rc = 0;

	if (st->n_vols == 0 || st->n_vms == 0 || st->active_san == 0)
		return 0;
	(void)snprintf(what, sizeof(what), "volume create at %zu volumes",
		       st->n_vols);
	if (bench_series_init(&s, what, (size_t)repeat) < 0)
		return -ENOMEM;
	vc.vm = st->vms[st->n_vms - 1].name;
	vc.disk = "scratch";
	vc.size_bytes = 1ULL << 30;
	(void)snprintf(name, sizeof(name), "%s-scratch", vc.vm);
	for (long r = 0; r < repeat && rc == 0; r++) {
		double t0;

		op.kind_case = XENMESH__OP__KIND_VOLUME_CREATE;
		op.volume_create = &vc;
		t0 = bench_now_ms();
		rc = bench_commit(st, &op, why, sizeof(why));
		bench_series_add(&s, bench_now_ms() - t0);
		if (rc < 0)
			break;
		vr.name = name;
		op.kind_case = XENMESH__OP__KIND_VOLUME_REMOVE;
		op.volume_remove = &vr;
		rc = bench_commit(st, &op, why, sizeof(why));
	}
	if (rc < 0)
		printf("  volume create/remove failed: %s\n", why);
	bench_series_print(&s);
	bench_series_free(&s);
	return rc;
}

static int
time_codec(const struct state *st, const struct opts *o)
{
	struct bench_series enc, dec, dig, adopt;
	uint8_t digest[STATE_DIGEST_LEN];
	char why[256] = "";
	int rc = 0;

	if (bench_series_init(&enc, "encode (state_pack)", (size_t)o->repeat) < 0 ||
	    bench_series_init(&dec, "decode (state_unpack, with its checks)",
			      (size_t)o->repeat) < 0 ||
	    bench_series_init(&dig, "digest (state_digest: pack + BLAKE2b)",
			      (size_t)o->repeat) < 0 ||
	    bench_series_init(&adopt, "joiner adopts (unpack + digest)",
			      (size_t)o->repeat) < 0)
		return -ENOMEM;
	for (long r = 0; r < o->repeat && rc == 0; r++) {
		struct state back;
		uint8_t *buf = NULL;
		size_t len = 0;
		double t0 = bench_now_ms();

		rc = state_pack(st, &buf, &len);
		bench_series_add(&enc, bench_now_ms() - t0);
		if (rc < 0)
			break;
		t0 = bench_now_ms();
		rc = state_unpack(buf, len, &back, why, sizeof(why));
		bench_series_add(&dec, bench_now_ms() - t0);
		if (rc == 0) {
			t0 = bench_now_ms();
			rc = state_digest(st, digest);
			bench_series_add(&dig, bench_now_ms() - t0);
		}
		state_free(&back);
		/* what ha/replica_sync.c sync_adopt does before persisting */
		if (rc == 0) {
			t0 = bench_now_ms();
			rc = state_unpack(buf, len, &back, why, sizeof(why));
			if (rc == 0)
				rc = state_digest(&back, digest);
			bench_series_add(&adopt, bench_now_ms() - t0);
			state_free(&back);
		}
		free(buf);
	}
	if (rc < 0)
		printf("  codec failed: %s\n", why[0] ? why : xm_strerror(rc));
	bench_series_print(&enc);
	bench_series_print(&dec);
	bench_series_print(&dig);
	bench_series_print(&adopt);
	bench_series_free(&enc);
	bench_series_free(&dec);
	bench_series_free(&dig);
	bench_series_free(&adopt);
	return rc;
}

static int
time_persist(const struct state *st, const struct opts *o)
{
	struct bench_series save, load;
	char why[256] = "";
	int rc = 0;

	if (o->dir == NULL) {
		printf("  state file: skipped (no --dir)\n");
		return 0;
	}
	if (bench_series_init(&save, "state file save (persist_save, fsync)",
			      (size_t)o->repeat) < 0 ||
	    bench_series_init(&load, "state file load (persist_load)",
			      (size_t)o->repeat) < 0)
		return -ENOMEM;
	for (long r = 0; r < o->repeat && rc == 0; r++) {
		struct state back;
		double t0 = bench_now_ms();

		rc = persist_save(o->dir, st);
		bench_series_add(&save, bench_now_ms() - t0);
		if (rc < 0)
			break;
		state_init(&back);
		t0 = bench_now_ms();
		rc = persist_load(o->dir, &back, why, sizeof(why));
		bench_series_add(&load, bench_now_ms() - t0);
		state_free(&back);
	}
	if (rc < 0)
		printf("  state file in %s failed: %s\n", o->dir,
		       why[0] ? why : xm_strerror(rc));
	bench_series_print(&save);
	bench_series_print(&load);
	bench_series_free(&save);
	bench_series_free(&load);
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench_cluster c;
	struct bench_fill f;
	struct state st;
	struct opts o;
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256] = "";
	int rc;

	if (parse_opts(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: xm-snapshot [--vms N] [--hosts N] [--sans N] "
			"[--repeat N] [--chunk BYTES] [--dir DIR]\n");
		return 2;
	}
	c = (struct bench_cluster){ .n_hosts = (size_t)o.hosts,
				    .n_sans = (size_t)o.sans,
				    .n_vms = (size_t)o.vms,
				    .volumes = o.sans > 0 };
	state_init(&st);
	rc = bench_cluster_fill(&st, &c, &f, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "xm-snapshot: cannot build the state: %s (%s)\n",
			why, xm_strerror(rc));
		state_free(&st);
		return EXIT_FAILURE;
	}
	printf("state: %zu nodes (%ld dom0, %ld SAN; at most %d), %zu VMs "
	       "(%zu running, %zu stopped), %zu SAN volumes, epoch %" PRIu64
	       " seq %" PRIu64 "\n", st.n_nodes, o.hosts, o.sans, STATE_MAX_NODES,
	       st.n_vms, f.n_running, f.n_stopped, st.n_vols, st.epoch, st.seq);
	printf("  xl.cfg texts: %.0f bytes on average; built with %zu ops in "
	       "%.0f ms (xlcfg_parse %.0f ms, state_apply %.0f ms: %.1f us per op)\n",
	       (double)f.config_bytes / (double)st.n_vms, f.n_ops, f.total_ms,
	       f.parse_ms, f.apply_ms, 1000.0 * f.apply_ms / (double)f.n_ops);
	rc = state_pack(&st, &buf, &len);
	if (rc < 0) {
		fprintf(stderr, "xm-snapshot: state_pack: %s\n", xm_strerror(rc));
		state_free(&st);
		return EXIT_FAILURE;
	}
	print_sizes(&st, &f, &o, buf, len);
	free(buf);
	printf("timings over %ld repeats:\n", o.repeat);
	rc = time_codec(&st, &o);
	if (rc == 0)
		rc = time_persist(&st, &o);
	if (rc == 0)
		rc = time_define_first(&st, &o);
	if (rc == 0)
		rc = time_volume_create(&st, &o);
	state_free(&st);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
