/* Tests of agent/wire.c: header checks first, then the round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"
#include "xenmesh.pb-c.h"
#include "xm_error.h"

static const uint8_t test_digest[4] = { 0xde, 0xad, 0xbe, 0xef };

/* A valid frame: Envelope{sender 7, offer{view 42, epoch 3, seq 99}}. */
static void
frame_offer(uint8_t **buf, size_t *len)
{
	Xenmesh__Envelope env = XENMESH__ENVELOPE__INIT;
	Xenmesh__SyncOffer offer = XENMESH__SYNC_OFFER__INIT;

	offer.view = 42;
	offer.epoch = 3;
	offer.seq = 99;
	offer.digest.data = (uint8_t *)test_digest;
	offer.digest.len = sizeof(test_digest);
	env.sender = 7;
	env.body_case = XENMESH__ENVELOPE__BODY_OFFER;
	env.offer = &offer;
	assert_int_equal(wire_pack(&env.base, buf, len), 0);
}

/* Header with the given version followed by payload bytes. */
static uint8_t *
frame_raw(uint16_t major, uint16_t minor, const uint8_t *payload,
	  size_t plen, size_t *len)
{
	uint8_t *b = malloc(WIRE_HEADER_LEN + plen);

	assert_non_null(b);
	memcpy(b, "XMSH", 4);
	b[4] = (uint8_t)(major >> 8);
	b[5] = (uint8_t)major;
	b[6] = (uint8_t)(minor >> 8);
	b[7] = (uint8_t)minor;
	if (plen)
		memcpy(b + WIRE_HEADER_LEN, payload, plen);
	*len = WIRE_HEADER_LEN + plen;
	return b;
}

static void
test_pack_invalid_args(void **state)
{
	Xenmesh__Envelope env = XENMESH__ENVELOPE__INIT;
	Xenmesh__Update up = XENMESH__UPDATE__INIT;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(wire_pack(NULL, &buf, &len), -EINVAL);
	assert_int_equal(wire_pack(&env.base, NULL, &len), -EINVAL);
	assert_int_equal(wire_pack(&env.base, &buf, NULL), -EINVAL);

	/* An Update without its required sub-messages must not be sent. */
	env.body_case = XENMESH__ENVELOPE__BODY_UPDATE;
	env.update = &up;
	assert_int_equal(wire_pack(&env.base, &buf, &len), -EINVAL);
	assert_null(buf);
}

static void
test_check_short(void **state)
{
	uint16_t maj = 0xffff, min = 0xffff;

	(void)state;
	assert_int_equal(wire_check(NULL, 0, &maj, &min), -EBADMSG);
	assert_int_equal(wire_check("XMSH\0\1\0", 7, &maj, &min), -EBADMSG);
	assert_int_equal(wire_check("", 0, &maj, &min), -EBADMSG);
	/* Not ours: the version is not reported. */
	assert_int_equal(maj, 0xffff);
	assert_int_equal(min, 0xffff);
}

static void
test_check_bad_magic(void **state)
{
	uint16_t maj = 0xffff, min = 0xffff;

	(void)state;
	assert_int_equal(wire_check("XMSh\0\1\0\0", 8, &maj, &min), -EBADMSG);
	assert_int_equal(wire_check("\0\0\0\0\0\1\0\0", 8, &maj, &min),
			 -EBADMSG);
	assert_int_equal(maj, 0xffff);
	assert_int_equal(min, 0xffff);
}

static void
test_check_wrong_major(void **state)
{
	uint16_t maj = 0, min = 0;

	(void)state;
	/* 2.7 big endian */
	assert_int_equal(wire_check("XMSH\0\2\0\7", 8, &maj, &min),
			 XM_EVERSION);
	assert_int_equal(maj, 2);
	assert_int_equal(min, 7);
	/* 0x0100.0 would be major 1 if read little endian. */
	assert_int_equal(wire_check("XMSH\1\0\0\0", 8, &maj, &min),
			 XM_EVERSION);
	assert_int_equal(maj, 256);
	assert_int_equal(min, 0);
	/* NULL out pointers are allowed. */
	assert_int_equal(wire_check("XMSH\0\2\0\7", 8, NULL, NULL),
			 XM_EVERSION);
}

static void
test_unpack_wrong_major_refused(void **state)
{
	uint8_t *good, *b;
	size_t glen, len;
	uint16_t maj = 0, min = 0;
	int err = 0;

	(void)state;
	frame_offer(&good, &glen);
	/* A perfectly decodable payload under another major is still refused. */
	b = frame_raw(XM_PROTO_MAJOR + 1, 3, good + WIRE_HEADER_LEN,
		      glen - WIRE_HEADER_LEN, &len);
	assert_null(wire_unpack(&xenmesh__envelope__descriptor, b, len, &err,
				&maj, &min));
	assert_int_equal(err, XM_EVERSION);
	assert_int_equal(maj, XM_PROTO_MAJOR + 1);
	assert_int_equal(min, 3);
	free(b);
	free(good);
}

static void
test_unpack_truncated(void **state)
{
	ProtobufCMessage *m;
	uint8_t *good;
	size_t glen, cut;
	int err = -1;

	(void)state;
	frame_offer(&good, &glen);
	/* The payload starts with sender (08 07), then the offer. */
	assert_int_equal(good[WIRE_HEADER_LEN], 0x08);
	assert_int_equal(good[WIRE_HEADER_LEN + 1], 0x07);
	/* Cut right after sender: a well-formed Envelope without a body
	 * (the body is a oneof, never required): the dispatcher must check
	 * body_case, wire cannot. */
	m = wire_unpack(&xenmesh__envelope__descriptor, good,
			WIRE_HEADER_LEN + 2, &err, NULL, NULL);
	assert_non_null(m);
	assert_int_equal(err, 0);
	assert_int_equal(((Xenmesh__Envelope *)m)->body_case,
			 XENMESH__ENVELOPE__BODY__NOT_SET);
	protobuf_c_message_free_unpacked(m, NULL);

	/* Every other strict prefix is refused: inside a field, or inside
	 * the offer (whose last field, the digest, is required). */
	for (cut = WIRE_HEADER_LEN; cut < glen; cut++) {
		if (cut == WIRE_HEADER_LEN + 2)
			continue;
		err = 0;
		assert_null(wire_unpack(&xenmesh__envelope__descriptor, good,
					cut, &err, NULL, NULL));
		assert_int_equal(err, -EBADMSG);
	}
	free(good);
}

static void
test_unpack_garbage(void **state)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	/* Field 1 (view) only: well-formed protobuf, missing required ones. */
	static const uint8_t offer_view_only[] = { 0x08, 0x2a };
	/* Envelope{offer{view 42}}: sender and the offer's fields missing. */
	static const uint8_t env_partial[] = { 0x52, 0x02, 0x08, 0x2a };
	uint8_t *b;
	size_t len;
	int err;

	(void)state;
	b = frame_raw(XM_PROTO_MAJOR, XM_PROTO_MINOR, junk, sizeof(junk), &len);
	err = 0;
	assert_null(wire_unpack(&xenmesh__envelope__descriptor, b, len, &err,
				NULL, NULL));
	assert_int_equal(err, -EBADMSG);
	free(b);

	/* Empty payload: Envelope.sender is required. */
	b = frame_raw(XM_PROTO_MAJOR, XM_PROTO_MINOR, NULL, 0, &len);
	err = 0;
	assert_null(wire_unpack(&xenmesh__envelope__descriptor, b, len, &err,
				NULL, NULL));
	assert_int_equal(err, -EBADMSG);
	free(b);

	b = frame_raw(XM_PROTO_MAJOR, XM_PROTO_MINOR, offer_view_only,
		      sizeof(offer_view_only), &len);
	err = 0;
	assert_null(wire_unpack(&xenmesh__sync_offer__descriptor, b, len, &err,
				NULL, NULL));
	assert_int_equal(err, -EBADMSG);
	free(b);

	b = frame_raw(XM_PROTO_MAJOR, XM_PROTO_MINOR, env_partial,
		      sizeof(env_partial), &len);
	err = 0;
	assert_null(wire_unpack(&xenmesh__envelope__descriptor, b, len, &err,
				NULL, NULL));
	assert_int_equal(err, -EBADMSG);
	free(b);

	/* Bad magic through wire_unpack. */
	err = 0;
	assert_null(wire_unpack(&xenmesh__envelope__descriptor, "GARBAGE!!",
				9, &err, NULL, NULL));
	assert_int_equal(err, -EBADMSG);

	err = 0;
	assert_null(wire_unpack(NULL, "XMSH\0\1\0\0", 8, &err, NULL, NULL));
	assert_int_equal(err, -EINVAL);
}

static void
check_offer(const ProtobufCMessage *m)
{
	const Xenmesh__Envelope *env = (const Xenmesh__Envelope *)m;

	assert_non_null(env);
	assert_ptr_equal(env->base.descriptor, &xenmesh__envelope__descriptor);
	assert_int_equal(env->sender, 7);
	assert_int_equal(env->body_case, XENMESH__ENVELOPE__BODY_OFFER);
	assert_non_null(env->offer);
	assert_int_equal(env->offer->view, 42);
	assert_int_equal(env->offer->epoch, 3);
	assert_int_equal(env->offer->seq, 99);
	assert_int_equal(env->offer->digest.len, sizeof(test_digest));
	assert_memory_equal(env->offer->digest.data, test_digest,
			    sizeof(test_digest));
}

static void
test_newer_minor_accepted(void **state)
{
	uint8_t *good, *b;
	size_t glen, len;
	uint16_t maj = 0, min = 0;
	ProtobufCMessage *m;
	int err = -1;

	(void)state;
	frame_offer(&good, &glen);
	b = frame_raw(XM_PROTO_MAJOR, XM_PROTO_MINOR + 5,
		      good + WIRE_HEADER_LEN, glen - WIRE_HEADER_LEN, &len);
	assert_int_equal(wire_check(b, len, &maj, &min), 0);
	m = wire_unpack(&xenmesh__envelope__descriptor, b, len, &err, &maj,
			&min);
	assert_int_equal(err, 0);
	assert_int_equal(maj, XM_PROTO_MAJOR);
	assert_int_equal(min, XM_PROTO_MINOR + 5);
	check_offer(m);
	protobuf_c_message_free_unpacked(m, NULL);
	free(b);
	free(good);
}

static void
test_round_trip(void **state)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint16_t maj = 0xffff, min = 0xffff;
	ProtobufCMessage *m;
	int err = -1;

	(void)state;
	frame_offer(&buf, &len);
	assert_non_null(buf);
	assert_memory_equal(buf, "XMSH", 4);
	assert_int_equal(buf[4], XM_PROTO_MAJOR >> 8);
	assert_int_equal(buf[5], XM_PROTO_MAJOR & 0xff);
	assert_int_equal(buf[6], XM_PROTO_MINOR >> 8);
	assert_int_equal(buf[7], XM_PROTO_MINOR & 0xff);

	m = wire_unpack(&xenmesh__envelope__descriptor, buf, len, &err, &maj,
			&min);
	assert_int_equal(err, 0);
	assert_int_equal(maj, XM_PROTO_MAJOR);
	assert_int_equal(min, XM_PROTO_MINOR);
	check_offer(m);
	/* Packed again, the same bytes: the encoding is deterministic. */
	{
		uint8_t *again;
		size_t alen;

		assert_int_equal(wire_pack(m, &again, &alen), 0);
		assert_int_equal(alen, len);
		assert_memory_equal(again, buf, len);
		free(again);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_invalid_args),
		cmocka_unit_test(test_check_short),
		cmocka_unit_test(test_check_bad_magic),
		cmocka_unit_test(test_check_wrong_major),
		cmocka_unit_test(test_unpack_wrong_major_refused),
		cmocka_unit_test(test_unpack_truncated),
		cmocka_unit_test(test_unpack_garbage),
		cmocka_unit_test(test_newer_minor_accepted),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
