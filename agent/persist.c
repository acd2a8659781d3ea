/* The state file: atomic save, checked load, setting a bad file aside.
 *
 * The payload is state_pack()'s deterministic encoding; the header makes a
 * torn or foreign file detectable before the decoder sees it, and the
 * BLAKE2b catches silent corruption that would still decode (a flipped
 * bit in a seq number would otherwise let a node claim newer state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "persist.h"
#include "xm_error.h"

#define PERSIST_MAGIC "XMSTATE1"
#define PERSIST_MAGIC_LEN 8
#define PERSIST_HASH_LEN 32
#define PERSIST_HEADER_LEN (PERSIST_MAGIC_LEN + 4 + PERSIST_HASH_LEN)
/* Far above any real state (64 nodes, some thousand VMs); a bound so that
 * a corrupt length cannot make us allocate gigabytes. */
#define PERSIST_MAX_PAYLOAD (64u * 1024 * 1024)
#define PERSIST_ASIDE_TRIES 1000

static int
persist_path(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* libsodium wants sodium_init() before use; it is idempotent and cheap
 * after the first call, so each entry point makes sure. */
static int
persist_hash(const uint8_t *buf, size_t len, uint8_t out[PERSIST_HASH_LEN])
{
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_generichash(out, PERSIST_HASH_LEN, buf, len, NULL, 0) != 0)
		return -EIO;
	return 0;
}

static int
persist_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0 and all of len read, -EIO on a short read (the file shrank), -errno. */
static int
persist_read_all(int fd, uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is only durable once the directory entry is on disk. */
static int
persist_sync_dir(const char *dir)
{
	int fd, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int
persist_save(const char *dir, const struct state *s)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	uint8_t header[PERSIST_HEADER_LEN];
	uint8_t *payload = NULL;
	size_t len = 0;
	int fd, r;

	if (!dir || !s)
		return -EINVAL;
	r = persist_path(final, sizeof(final), dir, PERSIST_FILE);
	if (r < 0)
		return r;
	r = persist_path(tmp, sizeof(tmp), dir, PERSIST_FILE ".tmp-XXXXXX");
	if (r < 0)
		return r;

	r = state_pack(s, &payload, &len);
	if (r < 0)
		return r;
	if (len > PERSIST_MAX_PAYLOAD) {
		r = -EFBIG;
		goto out_free;
	}
	memcpy(header, PERSIST_MAGIC, PERSIST_MAGIC_LEN);
	header[8] = (uint8_t)(len >> 24);
	header[9] = (uint8_t)(len >> 16);
	header[10] = (uint8_t)(len >> 8);
	header[11] = (uint8_t)len;
	r = persist_hash(payload, len, header + 12);
	if (r < 0)
		goto out_free;

	/* A unique temp name (mkostemp creates it 0600): two writers, or a
	 * temp file left by a crash, can never be mixed into one file. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out_free;
	}
	r = persist_write_all(fd, header, sizeof(header));
	if (r == 0)
		r = persist_write_all(fd, payload, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	/* close() can report a delayed write error (NFS): it counts. */
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		goto out_unlink;

	if (rename(tmp, final) < 0) {
		r = -errno;
		goto out_unlink;
	}
	r = persist_sync_dir(dir);
	goto out_free;

out_unlink:
	(void)unlink(tmp);
out_free:
	free(payload);
	return r;
}

static uint32_t
persist_get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/*
 * s must be initialised (state_init) or hold a state: on success its old
 * content is freed and replaced; on any error it is left as it was.
 * Only evidence about the file itself is XM_ECORRUPT: an I/O error or a
 * lack of memory is returned as such, so that a good file is never set
 * aside because of a transient problem.
 */
int
persist_load(const char *dir, struct state *s, char *why, size_t whylen)
{
	char path[PATH_MAX], uwhy[256];
	uint8_t header[PERSIST_HEADER_LEN], hash[PERSIST_HASH_LEN];
	uint8_t *payload = NULL;
	struct state next;
	struct stat st;
	uint32_t len;
	int fd, r;

	if (why && whylen)
		why[0] = '\0';
	if (!dir || !s)
		return -EINVAL;
	r = persist_path(path, sizeof(path), dir, PERSIST_FILE);
	if (r < 0)
		return r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		xm_why(why, whylen, "%s is not a regular file", path);
		r = XM_ECORRUPT;
		goto out_close;
	}
	if (st.st_size < PERSIST_HEADER_LEN) {
		xm_why(why, whylen, "%s: %lld bytes, shorter than the "
			    "%d-byte header (torn write?)", path,
			    (long long)st.st_size, PERSIST_HEADER_LEN);
		r = XM_ECORRUPT;
		goto out_close;
	}
	r = persist_read_all(fd, header, sizeof(header));
	if (r < 0)
		goto out_close;
	if (memcmp(header, PERSIST_MAGIC, PERSIST_MAGIC_LEN) != 0) {
		xm_why(why, whylen, "%s: bad magic, not a xenmesh state "
			    "file", path);
		r = XM_ECORRUPT;
		goto out_close;
	}
	len = persist_get_u32(header + 8);
	if (len > PERSIST_MAX_PAYLOAD) {
		xm_why(why, whylen, "%s: payload length %u exceeds the "
			    "%u-byte limit", path, len, PERSIST_MAX_PAYLOAD);
		r = XM_ECORRUPT;
		goto out_close;
	}
	if ((uint64_t)st.st_size != PERSIST_HEADER_LEN + (uint64_t)len) {
		xm_why(why, whylen, "%s: header says %u payload bytes, "
			    "the file holds %lld (torn write?)", path, len,
			    (long long)st.st_size - PERSIST_HEADER_LEN);
		r = XM_ECORRUPT;
		goto out_close;
	}

	/* malloc(0) may return NULL: keep one byte for an empty payload. */
	payload = malloc(len ? len : 1);
	if (!payload) {
		r = -ENOMEM;
		goto out_close;
	}
	r = persist_read_all(fd, payload, len);
	if (r < 0)
		goto out_free;
	r = persist_hash(payload, len, hash);
	if (r < 0)
		goto out_free;
	if (sodium_memcmp(hash, header + 12, sizeof(hash)) != 0) {
		xm_why(why, whylen, "%s: checksum mismatch", path);
		r = XM_ECORRUPT;
		goto out_free;
	}

	uwhy[0] = '\0';
	r = state_unpack(payload, len, &next, uwhy, sizeof(uwhy));
	if (r == -ENOMEM)
		goto out_free_state;
	if (r < 0) {
		xm_why(why, whylen, "%s: checksum good but content "
			    "refused: %s", path, uwhy);
		r = XM_ECORRUPT;
		goto out_free_state;
	}
	state_free(s);
	*s = next;
	goto out_free;

out_free_state:
	state_free(&next);
out_free:
	free(payload);
out_close:
	close(fd);
	return r;
}

int
persist_set_aside(const char *dir, char *moved_to, size_t len)
{
	char from[PATH_MAX], to[PATH_MAX], stamp[32];
	struct tm tm;
	time_t now;
	int i, n, r;

	if (moved_to && len)
		moved_to[0] = '\0';
	if (!dir)
		return -EINVAL;
	r = persist_path(from, sizeof(from), dir, PERSIST_FILE);
	if (r < 0)
		return r;

	/* UTC, like the event log, so names sort with its times. */
	now = time(NULL);
	if (!gmtime_r(&now, &tm))
		return -EOVERFLOW;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);

	for (i = 0; i < PERSIST_ASIDE_TRIES; i++) {
		if (i == 0)
			n = snprintf(to, sizeof(to), "%s.corrupt-%s", from,
				     stamp);
		else
			n = snprintf(to, sizeof(to), "%s.corrupt-%s-%d", from,
				     stamp, i);
		if (n < 0 || (size_t)n >= sizeof(to))
			return -ENAMETOOLONG;
		/* NOREPLACE: never clobber an earlier corrupt file, which
		 * may be the evidence someone needs. */
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to,
			      RENAME_NOREPLACE) == 0)
			break;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* A file system without RENAME_NOREPLACE: link() refuses an
		 * existing name just as well, then drop the old name. */
		if (link(from, to) < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		if (unlink(from) < 0)
			return -errno;
		break;
	}
	if (i == PERSIST_ASIDE_TRIES)
		return -EEXIST;

	r = persist_sync_dir(dir);
	if (moved_to && len)
		snprintf(moved_to, len, "%s", to);
	return r;
}
