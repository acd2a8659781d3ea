/* The sync round of the replica: on every membership change each member
 * offers (epoch, seq, digest); the one with the newest state sends it in
 * chunks and the others adopt it (ha/sync.c decides who).  Only then is a
 * coordinator chosen.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "replica_int.h"
#include "xm_error.h"

static void
sync_done(struct replica *r)
{
	char who[STATE_NAME_MAX + 16];

	r->synced = true;
	sync_assembly_reset(&r->assembly);
	replica_event(r, r->decision.sender, "sync",
		      "state synced at epoch %" PRIu64 " seq %" PRIu64 " from %s",
		      r->st.epoch, r->st.seq,
		      replica_node_label(r, r->decision.sender, who, sizeof(who)));
	replica_update_coordinator(r, true);
	if (r->ops->changed != NULL)
		r->ops->changed(r->ops_data);
}

void
replica_sync_offer(struct replica *r)
{
	Xenmesh__Envelope env;
	Xenmesh__SyncOffer offer;
	uint8_t digest[STATE_DIGEST_LEN];

	if (state_digest(&r->st, digest) < 0) {
		replica_log(r, LOG_ERR, "cannot digest the local state");
		return;
	}
	xenmesh__sync_offer__init(&offer);
	offer.view = r->view;
	offer.epoch = r->st.epoch;
	offer.seq = r->st.seq;
	offer.digest.data = digest;
	offer.digest.len = sizeof(digest);
	replica_envelope_init(r, &env);
	env.body_case = XENMESH__ENVELOPE__BODY_OFFER;
	env.offer = &offer;
	(void)replica_mcast(r, &env);
}

static void
sync_send_state(struct replica *r)
{
	Xenmesh__Envelope env;
	Xenmesh__SyncChunk chunk;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t total;
	int rc;

	rc = state_pack(&r->st, &buf, &len);
	if (rc < 0) {
		replica_log(r, LOG_ERR, "cannot pack state for sync: %s",
			    xm_strerror(rc));
		return;
	}
	total = sync_chunk_count(len, r->chunk_max);
	replica_log(r, LOG_INFO, "sending state (%zu bytes, %" PRIu32
		    " chunks) for sync", len, total);
	for (uint32_t i = 0; i < total; i++) {
		size_t off = (size_t)i * r->chunk_max;
		size_t n = len - off < r->chunk_max ? len - off : r->chunk_max;

		xenmesh__sync_chunk__init(&chunk);
		chunk.view = r->view;
		chunk.index = i;
		chunk.total = total;
		chunk.data.data = buf + off;
		chunk.data.len = n;
		replica_envelope_init(r, &env);
		env.body_case = XENMESH__ENVELOPE__BODY_CHUNK;
		env.chunk = &chunk;
		if (replica_mcast(r, &env) < 0)
			break;
	}
	free(buf);
}

void
replica_sync_deliver_offer(struct replica *r, uint32_t sender, const Xenmesh__SyncOffer *m)
{
	struct sync_offer o;
	int rc;

	if (!r->joined || r->synced)
		return;
	if (m->digest.len != STATE_DIGEST_LEN) {
		replica_log(r, LOG_WARNING, "sync offer from node %" PRIu32
			    " has a %zu-byte digest, dropped", sender,
			    m->digest.len);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.nodeid = sender;
	o.epoch = m->epoch;
	o.seq = m->seq;
	memcpy(o.digest, m->digest.data, STATE_DIGEST_LEN);
	rc = sync_round_offer(&r->round, m->view, &o);
	if (rc < 0) {
		if (rc != XM_ESTALE)
			replica_log(r, LOG_WARNING, "sync offer from node %"
				    PRIu32 " dropped: %s", sender,
				    xm_strerror(rc));
		return;
	}
	if (sync_round_complete(&r->round))
		replica_sync_decided(r);
}

/* Every offer is in: everyone computes the same decision. */
void
replica_sync_decided(struct replica *r)
{
	char who[STATE_NAME_MAX + 16];

	if (sync_round_decide(&r->round, &r->decision) < 0)
		return;
	if (r->decision.conflict) {
		replica_log(r, LOG_ERR, "state conflict: node %" PRIu32
			    " holds epoch %" PRIu64 " seq %" PRIu64
			    " with another digest; taking %s's state",
			    r->decision.conflict_node, r->decision.epoch,
			    r->decision.seq,
			    replica_node_label(r, r->decision.sender, who, sizeof(who)));
		replica_event(r, r->decision.conflict_node, "sync",
			      "state conflict at epoch %" PRIu64 " seq %" PRIu64
			      ": node %" PRIu32 " replaced by %s's state",
			      r->decision.epoch, r->decision.seq,
			      r->decision.conflict_node, who);
	}
	if (!r->decision.transfer) {
		sync_done(r);
		return;
	}
	if (r->decision.sender == r->local_id)
		sync_send_state(r);
}

static void
sync_adopt(struct replica *r)
{
	struct state next;
	uint8_t digest[STATE_DIGEST_LEN];
	char why[160] = "";
	char who[STATE_NAME_MAX + 16];
	int rc;

	if (state_digest(&r->st, digest) == 0 &&
	    memcmp(digest, r->decision.digest, STATE_DIGEST_LEN) == 0)
		goto out_done;          /* we already hold it */

	state_init(&next);
	rc = state_unpack(r->assembly.buf, r->assembly.len, &next, why,
			  sizeof(why));
	if (rc == 0 && (state_digest(&next, digest) < 0 ||
			memcmp(digest, r->decision.digest, STATE_DIGEST_LEN) != 0)) {
		rc = XM_ECORRUPT;
		snprintf(why, sizeof(why), "digest differs from the offer");
	}
	if (rc < 0) {
		replica_log(r, LOG_ERR, "snapshot from node %" PRIu32
			    " refused: %s; keeping ours", r->decision.sender, why);
		state_free(&next);
		goto out_done;
	}
	replica_log(r, LOG_NOTICE, "adopting state epoch %" PRIu64 " seq %"
		    PRIu64 " from %s (ours was epoch %" PRIu64 " seq %" PRIu64 ")",
		    next.epoch, next.seq,
		    replica_node_label(r, r->decision.sender, who, sizeof(who)),
		    r->st.epoch, r->st.seq);
	state_free(&r->st);
	r->st = next;
	if (r->ops->persist != NULL)
		r->ops->persist(r->ops_data, &r->st);
out_done:
	sync_done(r);
}

void
replica_sync_deliver_chunk(struct replica *r, uint32_t sender, const Xenmesh__SyncChunk *m)
{
	int rc;

	if (!r->joined || r->synced || !sync_round_complete(&r->round) ||
	    m->view != r->view)
		return;
	if (sender != r->decision.sender) {
		replica_log(r, LOG_WARNING, "sync chunk from node %" PRIu32
			    ", expected node %" PRIu32 ", dropped", sender,
			    r->decision.sender);
		return;
	}
	rc = sync_assembly_add(&r->assembly, m->view, m->index, m->total,
			       m->data.data, m->data.len);
	if (rc < 0) {
		replica_log(r, LOG_ERR, "sync chunk %" PRIu32 "/%" PRIu32
			    " from node %" PRIu32 " refused: %s", m->index,
			    m->total, sender, xm_strerror(rc));
		return;
	}
	if (rc == 1)
		sync_adopt(r);
}

