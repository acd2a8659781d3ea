/* Tests of agent/persist.c against the real ha/state.c.
 *
 * Every test gets its own mkdtemp directory (setup) that teardown removes
 * with whatever the test left in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "persist.h"
#include "state.h"
#include "xm_error.h"

#define HEADER_LEN 44   /* magic 8 + length 4 + BLAKE2b 32 */

struct fixture {
	char dir[64];
	char file[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_persist.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, PERSIST_FILE);
	*state = f;
	return 0;
}

/* The directory is flat except for the "state.bin is a directory" case. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *e;
	DIR *d;

	d = opendir(f->dir);
	if (d) {
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				(void)unlinkat(dirfd(d), e->d_name,
					       e->d_type == DT_DIR ?
					       AT_REMOVEDIR : 0);
		}
		closedir(d);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* Two nodes, two VMs, everything non-default so a lost field shows. */
static void
fill_state(struct state *s, uint64_t seq)
{
	state_init(s);
	s->epoch = 5;
	s->seq = seq;
	s->n_nodes = 2;
	s->nodes[0] = (struct node_rec){ .id = 1, .name = "h1",
		.role = NODE_ROLE_DOM0, .state = NODE_STATE_ONLINE,
		.flags = NODE_FLAG_MAINTENANCE, .mem_total_mb = 65536,
		.mem_free_mb = 1024 };
	s->nodes[1] = (struct node_rec){ .id = 9, .name = "san-a",
		.role = NODE_ROLE_SAN, .state = NODE_STATE_FENCED,
		.flags = 0, .mem_total_mb = 8192, .mem_free_mb = 8192 };
	s->vms = calloc(2, sizeof(*s->vms));
	assert_non_null(s->vms);
	s->vms_cap = 2;
	s->n_vms = 2;
	snprintf(s->vms[0].name, sizeof(s->vms[0].name), "db1");
	s->vms[0].state = VM_STATE_RUNNING;
	s->vms[0].host = 1;
	snprintf(s->vms[1].name, sizeof(s->vms[1].name), "web1");
	s->vms[1].state = VM_STATE_STOPPED;
}

static void
assert_states_equal(const struct state *a, const struct state *b)
{
	uint8_t *pa, *pb;
	size_t la, lb;

	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->n_nodes, b->n_nodes);
	assert_int_equal(a->n_vms, b->n_vms);
	/* The packed form is deterministic: equal bytes, equal states. */
	assert_int_equal(state_pack(a, &pa, &la), 0);
	assert_int_equal(state_pack(b, &pb, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Saves the test state (seq 10), returns the file's bytes. */
static uint8_t *
save_sample(const struct fixture *f, size_t *len)
{
	struct state s;

	fill_state(&s, 10);
	assert_int_equal(persist_save(f->dir, &s), 0);
	state_free(&s);
	return read_file(f->file, len);
}

/* Loading must fail with XM_ECORRUPT, why, and leave s as it was. */
static void
assert_load_corrupt(const struct fixture *f, const char *why_want)
{
	struct state s;
	char why[512], want[512];

	fill_state(&s, 77);
	assert_int_equal(persist_load(f->dir, &s, why, sizeof(why)),
			 XM_ECORRUPT);
	snprintf(want, sizeof(want), "%s: %s", f->file, why_want);
	assert_string_equal(why, want);
	assert_int_equal(s.seq, 77);
	assert_int_equal(s.n_nodes, 2);
	assert_int_equal(s.n_vms, 2);
	assert_string_equal(s.vms[1].name, "web1");
	state_free(&s);
}

/* ---- invalid input ---------------------------------------------------- */

static void
test_invalid_args(void **state)
{
	struct fixture *f = *state;
	char longdir[PATH_MAX + 16], why[64], moved[64];
	struct state s;

	fill_state(&s, 1);
	assert_int_equal(persist_save(NULL, &s), -EINVAL);
	assert_int_equal(persist_save(f->dir, NULL), -EINVAL);
	assert_int_equal(persist_load(NULL, &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(persist_load(f->dir, NULL, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(persist_set_aside(NULL, moved, sizeof(moved)),
			 -EINVAL);

	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(persist_save(longdir, &s), -ENAMETOOLONG);
	assert_int_equal(persist_load(longdir, &s, why, sizeof(why)),
			 -ENAMETOOLONG);
	assert_int_equal(persist_set_aside(longdir, moved, sizeof(moved)),
			 -ENAMETOOLONG);
	/* A directory that does not exist. */
	assert_int_equal(persist_save("/nonexistent/xm", &s), -ENOENT);
	state_free(&s);
}

static void
test_load_missing(void **state)
{
	struct fixture *f = *state;
	char why[64] = "x", moved[64] = "x";
	struct state s;

	fill_state(&s, 3);
	assert_int_equal(persist_load(f->dir, &s, why, sizeof(why)), -ENOENT);
	assert_int_equal(s.seq, 3);
	assert_int_equal(s.n_vms, 2);
	assert_int_equal(persist_set_aside(f->dir, moved, sizeof(moved)),
			 -ENOENT);
	assert_string_equal(moved, "");
	state_free(&s);
}

static void
test_load_torn_header(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf;
	size_t len;

	buf = save_sample(f, &len);
	assert_int_equal(truncate(f->file, 20), 0);
	assert_load_corrupt(f, "20 bytes, shorter than the 44-byte header "
			    "(torn write?)");
	assert_int_equal(truncate(f->file, 0), 0);
	assert_load_corrupt(f, "0 bytes, shorter than the 44-byte header "
			    "(torn write?)");
	free(buf);
}

static void
test_load_torn_payload(void **state)
{
	struct fixture *f = *state;
	char want[128];
	uint8_t *buf;
	size_t len;

	buf = save_sample(f, &len);
	assert_int_equal(truncate(f->file, (off_t)len - 3), 0);
	snprintf(want, sizeof(want), "header says %zu payload bytes, the file "
		 "holds %zu (torn write?)", len - HEADER_LEN,
		 len - HEADER_LEN - 3);
	assert_load_corrupt(f, want);
	free(buf);
}

static void
test_load_trailing_bytes(void **state)
{
	struct fixture *f = *state;
	char want[128];
	uint8_t *buf;
	size_t len;

	buf = save_sample(f, &len);
	buf = realloc(buf, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	write_file(f->file, buf, len + 1);
	snprintf(want, sizeof(want), "header says %zu payload bytes, the file "
		 "holds %zu (torn write?)", len - HEADER_LEN,
		 len - HEADER_LEN + 1);
	assert_load_corrupt(f, want);
	free(buf);
}

static void
test_load_flipped_payload_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf;
	size_t len, i;

	buf = save_sample(f, &len);
	/* Any single flipped bit in the payload is caught. */
	for (i = HEADER_LEN; i < len; i += 7) {
		buf[i] ^= 0x10;
		write_file(f->file, buf, len);
		assert_load_corrupt(f, "checksum mismatch");
		buf[i] ^= 0x10;
	}
	/* And in the stored checksum itself. */
	buf[12] ^= 0x01;
	write_file(f->file, buf, len);
	assert_load_corrupt(f, "checksum mismatch");
	free(buf);
}

static void
test_load_bad_magic(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf;
	size_t len;

	buf = save_sample(f, &len);
	assert_memory_equal(buf, "XMSTATE1", 8);
	buf[7] = '2';
	write_file(f->file, buf, len);
	assert_load_corrupt(f, "bad magic, not a xenmesh state file");
	free(buf);
}

static void
test_load_length_beyond_file(void **state)
{
	struct fixture *f = *state;
	char want[128];
	uint8_t *buf;
	size_t len;

	buf = save_sample(f, &len);
	/* Big endian length, one more than the payload. */
	buf[11]++;
	write_file(f->file, buf, len);
	snprintf(want, sizeof(want), "header says %zu payload bytes, the file "
		 "holds %zu (torn write?)", len - HEADER_LEN + 1,
		 len - HEADER_LEN);
	assert_load_corrupt(f, want);

	/* Above the bound: refused before anything is allocated. */
	memset(buf + 8, 0xff, 4);
	write_file(f->file, buf, len);
	assert_load_corrupt(f, "payload length 4294967295 exceeds the "
			    "67108864-byte limit");
	buf[8] = 0x04;          /* 64 MiB + 0x00ffffff */
	write_file(f->file, buf, len);
	assert_load_corrupt(f, "payload length 83886079 exceeds the "
			    "67108864-byte limit");
	free(buf);
}

/* A correct checksum over content that state_unpack refuses. */
static void
test_load_content_refused(void **state)
{
	struct fixture *f = *state;
	/* State{epoch 1, seq 1, nodes [Node{id 0 ...}]}: id 0 is reserved. */
	static const uint8_t payload[] = {
		0x08, 0x01, 0x10, 0x01, 0x1a, 0x10,
		0x08, 0x00, 0x12, 0x02, 'h', '1', 0x18, 0x01, 0x20, 0x01,
		0x28, 0x00, 0x30, 0x00, 0x38, 0x00,
	};
	uint8_t file[HEADER_LEN + sizeof(payload)];
	char why[512], prefix[256];
	struct state s;

	memcpy(file, "XMSTATE1", 8);
	file[8] = 0;
	file[9] = 0;
	file[10] = 0;
	file[11] = sizeof(payload);
	assert_true(sodium_init() >= 0);
	crypto_generichash(file + 12, 32, payload, sizeof(payload), NULL, 0);
	memcpy(file + HEADER_LEN, payload, sizeof(payload));
	write_file(f->file, file, sizeof(file));

	fill_state(&s, 77);
	assert_int_equal(persist_load(f->dir, &s, why, sizeof(why)),
			 XM_ECORRUPT);
	/* The rest of the sentence is state_unpack's. */
	snprintf(prefix, sizeof(prefix), "%s: checksum good but content "
		 "refused: ", f->file);
	assert_memory_equal(why, prefix, strlen(prefix));
	assert_true(strlen(why) > strlen(prefix));
	assert_int_equal(s.seq, 77);
	state_free(&s);
}

static void
test_load_not_regular(void **state)
{
	struct fixture *f = *state;
	char why[256], want[256];
	struct state s;

	assert_int_equal(mkdir(f->file, 0700), 0);
	state_init(&s);
	assert_int_equal(persist_load(f->dir, &s, why, sizeof(why)),
			 XM_ECORRUPT);
	snprintf(want, sizeof(want), "%s is not a regular file", f->file);
	assert_string_equal(why, want);
}

/* ---- happy path ------------------------------------------------------- */

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct state saved, loaded;
	struct dirent **ents;
	struct stat st;
	uint8_t *buf, *packed;
	size_t len, plen;
	char why[64] = "x";
	int n, i;

	fill_state(&saved, 10);
	assert_int_equal(persist_save(f->dir, &saved), 0);

	/* Layout: magic, BE length, BLAKE2b of the payload, payload. */
	buf = read_file(f->file, &len);
	assert_int_equal(state_pack(&saved, &packed, &plen), 0);
	assert_int_equal(len, HEADER_LEN + plen);
	assert_memory_equal(buf, "XMSTATE1", 8);
	assert_int_equal(buf[8], (plen >> 24) & 0xff);
	assert_int_equal(buf[9], (plen >> 16) & 0xff);
	assert_int_equal(buf[10], (plen >> 8) & 0xff);
	assert_int_equal(buf[11], plen & 0xff);
	{
		uint8_t hash[32];

		assert_true(sodium_init() >= 0);
		crypto_generichash(hash, sizeof(hash), packed, plen, NULL, 0);
		assert_memory_equal(buf + 12, hash, sizeof(hash));
	}
	assert_memory_equal(buf + HEADER_LEN, packed, plen);
	free(packed);
	free(buf);

	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* No temp file left behind. */
	n = scandir(f->dir, &ents, NULL, alphasort);
	assert_int_equal(n, 3);
	assert_string_equal(ents[2]->d_name, PERSIST_FILE);
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);

	/* Load over a state that holds VMs: they are replaced, not leaked. */
	fill_state(&loaded, 1);
	assert_int_equal(persist_load(f->dir, &loaded, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_states_equal(&loaded, &saved);
	assert_string_equal(loaded.nodes[1].name, "san-a");
	assert_int_equal(loaded.nodes[0].flags, NODE_FLAG_MAINTENANCE);
	assert_int_equal(loaded.vms[0].state, VM_STATE_RUNNING);
	assert_int_equal(loaded.vms[0].host, 1);

	/* A second save replaces the first. */
	saved.seq = 11;
	saved.n_vms = 1;
	assert_int_equal(persist_save(f->dir, &saved), 0);
	assert_int_equal(persist_load(f->dir, &loaded, why, sizeof(why)), 0);
	assert_states_equal(&loaded, &saved);
	assert_int_equal(loaded.seq, 11);

	/* The empty state too. */
	state_free(&saved);
	assert_int_equal(persist_save(f->dir, &saved), 0);
	assert_int_equal(persist_load(f->dir, &loaded, why, sizeof(why)), 0);
	assert_states_equal(&loaded, &saved);
	state_free(&saved);
	state_free(&loaded);
}

static void
stamp_name(char *out, size_t len, const char *file, time_t t)
{
	char stamp[32];
	struct tm tm;

	assert_non_null(gmtime_r(&t, &tm));
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, len, "%s.corrupt-%s", file, stamp);
}

static void
test_set_aside(void **state)
{
	struct fixture *f = *state;
	char moved[256], before[256], after[256], why[64];
	uint8_t *buf, *kept;
	size_t len, klen;
	struct state s;
	time_t t0, t1;

	buf = save_sample(f, &len);
	buf[len - 1] ^= 0xff;
	write_file(f->file, buf, len);

	t0 = time(NULL);
	assert_int_equal(persist_set_aside(f->dir, moved, sizeof(moved)), 0);
	t1 = time(NULL);
	stamp_name(before, sizeof(before), f->file, t0);
	stamp_name(after, sizeof(after), f->file, t1);
	if (strcmp(moved, before) != 0)
		assert_string_equal(moved, after);

	/* The bytes are kept as they were, for whoever investigates. */
	kept = read_file(moved, &klen);
	assert_int_equal(klen, len);
	assert_memory_equal(kept, buf, len);
	free(kept);
	state_init(&s);
	assert_int_equal(persist_load(f->dir, &s, why, sizeof(why)), -ENOENT);
	free(buf);
}

/* Earlier corrupt files are never overwritten: -N is added. */
static void
test_set_aside_exists(void **state)
{
	struct fixture *f = *state;
	char taken[8][256], moved[256], first[256], want[300];
	uint8_t *kept;
	size_t klen;
	time_t now = time(NULL);
	int i, n;

	/* Every name the next seconds could produce is already taken. */
	for (i = 0; i < 8; i++) {
		stamp_name(taken[i], sizeof(taken[i]), f->file, now + i);
		write_file(taken[i], "old", 3);
	}
	write_file(f->file, "new", 3);
	assert_int_equal(persist_set_aside(f->dir, moved, sizeof(moved)), 0);
	for (i = 0; i < 8; i++) {
		n = snprintf(want, sizeof(want), "%s-1", taken[i]);
		assert_true(n > 0 && (size_t)n < sizeof(want));
		if (strcmp(moved, want) == 0)
			break;
	}
	if (i == 8)
		fail_msg("unexpected name %s", moved);

	kept = read_file(moved, &klen);
	assert_int_equal(klen, 3);
	assert_memory_equal(kept, "new", 3);
	free(kept);
	kept = read_file(taken[i], &klen);
	assert_memory_equal(kept, "old", 3);
	free(kept);

	/* Once more: yet another name, the first one untouched. */
	snprintf(first, sizeof(first), "%s", moved);
	write_file(f->file, "nwr", 3);
	assert_int_equal(persist_set_aside(f->dir, moved, sizeof(moved)), 0);
	assert_string_not_equal(moved, first);
	kept = read_file(moved, &klen);
	assert_memory_equal(kept, "nwr", 3);
	free(kept);
	kept = read_file(first, &klen);
	assert_memory_equal(kept, "new", 3);
	free(kept);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_invalid_args),
		T(test_load_missing),
		T(test_load_torn_header),
		T(test_load_torn_payload),
		T(test_load_trailing_bytes),
		T(test_load_flipped_payload_byte),
		T(test_load_bad_magic),
		T(test_load_length_beyond_file),
		T(test_load_content_refused),
		T(test_load_not_regular),
		T(test_round_trip),
		T(test_set_aside),
		T(test_set_aside_exists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
