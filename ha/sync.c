/* The sync round and the reassembly of the chunked snapshot.
 *
 * Pure: every member runs the same decision on the same offers, so every
 * member reaches the same answer without another message exchange.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sync.h"
#include "xm_error.h"

/* A snapshot of 64 nodes and a few thousand VMs is well under a megabyte;
 * these bounds only stop a broken or hostile sender from making every
 * member allocate without limit. */
#define SYNC_MAX_CHUNKS 65536u
#define SYNC_MAX_BYTES  ((size_t)64 << 20)

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int
member_cmp(const struct sync_member *a, const struct sync_member *b)
{
	if (a->nodeid != b->nodeid)
		return a->nodeid < b->nodeid ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return 0;
}

/*
 * BLAKE2b over the members in sorted order, truncated to 64 bits.  The
 * members are visited in order by repeated minimum search instead of
 * sorting a copy: no allocation and no bound on n, and n is small.
 * Integers are hashed little-endian so that every host agrees.
 */
uint64_t
sync_view_hash(const struct sync_member *m, size_t n)
{
	crypto_generichash_state st;
	uint8_t out[crypto_generichash_BYTES_MIN];
	const struct sync_member *last = NULL;
	uint64_t h = 0;
	size_t done = 0, i, k;

	(void)crypto_generichash_init(&st, NULL, 0, sizeof(out));
	while (m != NULL && done < n) {
		const struct sync_member *min = NULL;
		size_t count = 0;

		for (i = 0; i < n; i++) {
			if (last != NULL && member_cmp(&m[i], last) <= 0)
				continue;
			if (min == NULL || member_cmp(&m[i], min) < 0) {
				min = &m[i];
				count = 1;
			} else if (member_cmp(&m[i], min) == 0) {
				count++;
			}
		}
		/* Duplicates are hashed as often as they occur. */
		for (k = 0; k < count; k++) {
			uint8_t rec[8];

			put_le32(rec, min->nodeid);
			put_le32(rec + 4, min->pid);
			(void)crypto_generichash_update(&st, rec, sizeof(rec));
		}
		done += count;
		last = min;
	}
	(void)crypto_generichash_final(&st, out, sizeof(out));
	for (i = 0; i < 8; i++)
		h |= (uint64_t)out[i] << (8 * i);
	return h;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Offers are per node.  Two CPG members on one node (a restarted agent
 * whose old process has not left yet) count once: the round waits for one
 * offer from that node.
 */
int
sync_round_start(struct sync_round *r, uint64_t view,
		 const struct sync_member *m, size_t n)
{
	size_t i, u;

	if (r == NULL || m == NULL || n == 0 || n > SYNC_MAX_MEMBERS)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (m[i].nodeid == 0)
			return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->view = view;
	for (i = 0; i < n; i++)
		r->members[i] = m[i].nodeid;
	qsort(r->members, n, sizeof(r->members[0]), u32_cmp);
	for (i = 1, u = 1; i < n; i++)
		if (r->members[i] != r->members[u - 1])
			r->members[u++] = r->members[i];
	r->n_members = u;
	return 0;
}

static bool
member_index(const struct sync_round *r, uint32_t nodeid, size_t *idx)
{
	size_t lo = 0, hi = r->n_members;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->members[mid] < nodeid)
			lo = mid + 1;
		else if (r->members[mid] > nodeid)
			hi = mid;
		else {
			*idx = mid;
			return true;
		}
	}
	return false;
}

int
sync_round_offer(struct sync_round *r, uint64_t view,
		 const struct sync_offer *o)
{
	size_t i;

	if (r == NULL || o == NULL)
		return -EINVAL;
	if (view != r->view)
		return XM_ESTALE;
	if (!member_index(r, o->nodeid, &i))
		return -ESRCH;
	if (r->have[i])
		return -EALREADY;
	r->offers[i] = *o;
	r->have[i] = true;
	return 0;
}

int
sync_round_exclude(struct sync_round *r, uint32_t nodeid)
{
	size_t i, rest;

	if (r == NULL)
		return -EINVAL;
	if (!member_index(r, nodeid, &i))
		return -ESRCH;
	rest = r->n_members - i - 1;
	memmove(&r->members[i], &r->members[i + 1], rest * sizeof(r->members[0]));
	memmove(&r->have[i], &r->have[i + 1], rest * sizeof(r->have[0]));
	memmove(&r->offers[i], &r->offers[i + 1], rest * sizeof(r->offers[0]));
	r->n_members--;
	return 0;
}

bool
sync_round_complete(const struct sync_round *r)
{
	size_t i;

	if (r == NULL || r->n_members == 0)
		return false;
	for (i = 0; i < r->n_members; i++)
		if (!r->have[i])
			return false;
	return true;
}

static bool
offer_newer(const struct sync_offer *a, const struct sync_offer *b)
{
	if (a->epoch != b->epoch)
		return a->epoch > b->epoch;
	return a->seq > b->seq;
}

int
sync_round_decide(const struct sync_round *r, struct sync_decision *d)
{
	const struct sync_offer *best;
	size_t i;

	if (r == NULL || d == NULL || r->n_members == 0)
		return -EINVAL;
	if (!sync_round_complete(r))
		return -EAGAIN;

	/* members[] is sorted, so "strictly newer" keeps the lowest node id
	 * among equals. */
	best = &r->offers[0];
	for (i = 1; i < r->n_members; i++)
		if (offer_newer(&r->offers[i], best))
			best = &r->offers[i];

	memset(d, 0, sizeof(*d));
	d->sender = best->nodeid;
	d->epoch = best->epoch;
	d->seq = best->seq;
	memcpy(d->digest, best->digest, STATE_DIGEST_LEN);
	for (i = 0; i < r->n_members; i++) {
		const struct sync_offer *o = &r->offers[i];

		if (memcmp(o->digest, best->digest, STATE_DIGEST_LEN) == 0)
			continue;
		d->transfer = true;
		/* Same (epoch, seq) but other content: two histories
		 * diverged.  The sender's still wins; the caller logs it. */
		if (!d->conflict && o->epoch == best->epoch &&
		    o->seq == best->seq) {
			d->conflict = true;
			d->conflict_node = o->nodeid;
		}
	}
	return 0;
}

void
sync_assembly_reset(struct sync_assembly *a)
{
	if (a == NULL)
		return;
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/* The capacity is not stored: it is always cap_for(a->len), since the
 * buffer only grows through assembly_grow(). */
static size_t
cap_for(size_t n)
{
	size_t cap = 4096;

	while (cap < n)
		cap *= 2;
	return cap;
}

static int
assembly_grow(struct sync_assembly *a, size_t need)
{
	uint8_t *nb;

	if (a->buf != NULL && need <= cap_for(a->len))
		return 0;
	nb = realloc(a->buf, cap_for(need));
	if (nb == NULL)
		return -ENOMEM;
	a->buf = nb;
	return 0;
}

/*
 * a->view 0 means "any view": the first chunk fixes it.  A caller that
 * knows the view of its round may set a->view after the reset, and
 * chunks of any other view are then refused from the first one on.
 * On error the assembly is unchanged.
 */
int
sync_assembly_add(struct sync_assembly *a, uint64_t view, uint32_t index,
		  uint32_t total, const uint8_t *data, size_t len)
{
	int r;

	if (a == NULL || (data == NULL && len > 0))
		return -EINVAL;
	if (a->view != 0 && view != a->view)
		return XM_ESTALE;
	if (a->next == 0) {
		if (total == 0 || total > SYNC_MAX_CHUNKS)
			return -EPROTO;
	} else if (total != a->total) {
		return -EPROTO;
	}
	if (index != a->next || index >= total)
		return -EPROTO;
	if (len > SYNC_MAX_BYTES - a->len)
		return -EPROTO;
	if (len > 0) {
		r = assembly_grow(a, a->len + len);
		if (r < 0)
			return r;
		memcpy(a->buf + a->len, data, len);
		a->len += len;
	}
	a->view = view;
	a->total = total;
	a->next = index + 1;
	return a->next == a->total ? 1 : 0;
}

/* 0 when chunk_max is 0 or the count does not fit: no valid split. */
uint32_t
sync_chunk_count(size_t len, size_t chunk_max)
{
	size_t n;

	if (chunk_max == 0)
		return 0;
	if (len == 0)
		return 1;
	n = (len - 1) / chunk_max + 1;
	if (n > UINT32_MAX)
		return 0;
	return (uint32_t)n;
}
