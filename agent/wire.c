/* Framing of xenmesh messages: 8-byte versioned header + protobuf payload.
 *
 * The header is checked before the payload is looked at, so that a peer
 * speaking another major version is refused by name ("speaks 2.1") rather
 * than as unreadable garbage.  Minor versions only add optional fields,
 * which protobuf skips, so a newer minor of our major is accepted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "xm_error.h"

static const uint8_t wire_magic[4] = { 'X', 'M', 'S', 'H' };

static void
wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
wire_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

int
wire_pack(const ProtobufCMessage *msg, uint8_t **buf, size_t *len)
{
	uint8_t *out;
	size_t payload, packed;

	if (!msg || !buf || !len)
		return -EINVAL;
	/* Never send what a peer must refuse: a required field left unset
	 * would make every receiver drop the frame as garbage. */
	if (!protobuf_c_message_check(msg))
		return -EINVAL;

	payload = protobuf_c_message_get_packed_size(msg);
	if (payload > SIZE_MAX - WIRE_HEADER_LEN)
		return -EMSGSIZE;
	out = malloc(WIRE_HEADER_LEN + payload);
	if (!out)
		return -ENOMEM;

	memcpy(out, wire_magic, sizeof(wire_magic));
	wire_put_u16(out + 4, XM_PROTO_MAJOR);
	wire_put_u16(out + 6, XM_PROTO_MINOR);
	packed = protobuf_c_message_pack(msg, out + WIRE_HEADER_LEN);
	if (packed != payload) {
		free(out);
		return -EIO;
	}

	*buf = out;
	*len = WIRE_HEADER_LEN + payload;
	return 0;
}

int
wire_check(const void *buf, size_t len, uint16_t *major, uint16_t *minor)
{
	const uint8_t *p = buf;
	uint16_t maj, min;

	if (!buf || len < WIRE_HEADER_LEN)
		return -EBADMSG;
	if (memcmp(p, wire_magic, sizeof(wire_magic)) != 0)
		return -EBADMSG;

	/* Reported whenever the header is ours, so the caller can name the
	 * version of a peer it refuses. */
	maj = wire_get_u16(p + 4);
	min = wire_get_u16(p + 6);
	if (major)
		*major = maj;
	if (minor)
		*minor = min;

	if (maj != XM_PROTO_MAJOR)
		return XM_EVERSION;
	return 0;
}

ProtobufCMessage *
wire_unpack(const ProtobufCMessageDescriptor *desc, const void *buf,
	    size_t len, int *err, uint16_t *major, uint16_t *minor)
{
	ProtobufCMessage *msg;
	int r;

	if (!desc) {
		r = -EINVAL;
		goto fail;
	}
	r = wire_check(buf, len, major, minor);
	if (r < 0)
		goto fail;

	/* protobuf-c refuses truncated fields and missing required fields:
	 * the proto is proto2 with "required" for exactly that reason. */
	msg = protobuf_c_message_unpack(desc, NULL, len - WIRE_HEADER_LEN,
					(const uint8_t *)buf + WIRE_HEADER_LEN);
	if (!msg) {
		r = -EBADMSG;
		goto fail;
	}
	if (err)
		*err = 0;
	return msg;

fail:
	if (err)
		*err = r;
	return NULL;
}
