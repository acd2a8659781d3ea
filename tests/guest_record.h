/* The test guest's on-disk record, shared by tests/guest.c (the writer)
 * and tests/check_writers.c (the checker).
 *
 * Fixed size, little-endian, so that a checker on another host (or a
 * later build) reads the same bytes and a torn or foreign record is found
 * by offset.  The checksum is keyless BLAKE2b-128 from libsodium, which
 * every xenmesh binary links already: it only has to catch torn writes
 * and stray bytes, not an attacker.
 *
 *   off  len  field
 *     0    4  magic "XMGR"
 *     4    4  version (1)
 *     8   64  vm name, NUL-padded (at most 63 bytes)
 *    72   64  host name, NUL-padded
 *   136    8  generation
 *   144    8  seq (from 1 within a generation)
 *   152    8  time, CLOCK_REALTIME ns
 *   160   16  BLAKE2b-128 of bytes 0..159
 */
#ifndef XM_GUEST_RECORD_H
#define XM_GUEST_RECORD_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "xm_error.h"

#define GUEST_RECORD_MAGIC      "XMGR"
#define GUEST_RECORD_VERSION    1u
#define GUEST_RECORD_NAME_LEN   64              /* field size, with the NUL */
#define GUEST_RECORD_SUM_OFF    160
#define GUEST_RECORD_SUM_LEN    16
#define GUEST_RECORD_SIZE       176

struct guest_record {
	char vm[GUEST_RECORD_NAME_LEN];
	char host[GUEST_RECORD_NAME_LEN];
	uint64_t generation;
	uint64_t seq;
	uint64_t time_ns;
};

static inline void
guest_record_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t
guest_record_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline int
guest_record_sum(const uint8_t *buf, uint8_t out[GUEST_RECORD_SUM_LEN])
{
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_generichash(out, GUEST_RECORD_SUM_LEN, buf,
			       GUEST_RECORD_SUM_OFF, NULL, 0) != 0)
		return -EIO;
	return 0;
}

/* 0, or -ENAMETOOLONG when a name does not fit its field. */
static inline int
guest_record_encode(const struct guest_record *r,
		    uint8_t buf[GUEST_RECORD_SIZE])
{
	size_t vl = strnlen(r->vm, GUEST_RECORD_NAME_LEN);
	size_t hl = strnlen(r->host, GUEST_RECORD_NAME_LEN);

	if (vl >= GUEST_RECORD_NAME_LEN || hl >= GUEST_RECORD_NAME_LEN)
		return -ENAMETOOLONG;
	memset(buf, 0, GUEST_RECORD_SIZE);
	memcpy(buf, GUEST_RECORD_MAGIC, 4);
	buf[4] = (uint8_t)GUEST_RECORD_VERSION;
	memcpy(buf + 8, r->vm, vl);
	memcpy(buf + 72, r->host, hl);
	guest_record_put64(buf + 136, r->generation);
	guest_record_put64(buf + 144, r->seq);
	guest_record_put64(buf + 152, r->time_ns);
	return guest_record_sum(buf, buf + GUEST_RECORD_SUM_OFF);
}

/* 0; -EBADMSG bad magic or an unterminated name; -EPROTONOSUPPORT another
 * version; XM_ECORRUPT checksum mismatch; -EIO libsodium unusable. */
static inline int
guest_record_decode(const uint8_t buf[GUEST_RECORD_SIZE],
		    struct guest_record *r)
{
	uint8_t sum[GUEST_RECORD_SUM_LEN];
	uint32_t version;
	int rc;

	if (memcmp(buf, GUEST_RECORD_MAGIC, 4) != 0)
		return -EBADMSG;
	rc = guest_record_sum(buf, sum);
	if (rc < 0)
		return rc;
	if (sodium_memcmp(sum, buf + GUEST_RECORD_SUM_OFF, sizeof(sum)) != 0)
		return XM_ECORRUPT;
	version = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 |
		  (uint32_t)buf[6] << 16 | (uint32_t)buf[7] << 24;
	if (version != GUEST_RECORD_VERSION)
		return -EPROTONOSUPPORT;
	if (buf[8 + GUEST_RECORD_NAME_LEN - 1] != 0 ||
	    buf[72 + GUEST_RECORD_NAME_LEN - 1] != 0)
		return -EBADMSG;
	memcpy(r->vm, buf + 8, GUEST_RECORD_NAME_LEN);
	memcpy(r->host, buf + 72, GUEST_RECORD_NAME_LEN);
	r->generation = guest_record_get64(buf + 136);
	r->seq = guest_record_get64(buf + 144);
	r->time_ns = guest_record_get64(buf + 152);
	return 0;
}

#endif
