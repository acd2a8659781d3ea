/* Framing of every message xenmesh sends: CPG and IPC alike.
 *
 * An 8-byte header (magic "XMSH", u16 major, u16 minor, big endian) comes
 * before the protobuf payload, so a peer of another major version is told
 * apart from garbage and refused by name before its payload is parsed.
 */
#ifndef XM_WIRE_H
#define XM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* major: peers of another major are refused.  minor: additions only
 * (new ops, fields, flags) that a peer of the same major may not know;
 * 2 added node add/forget, confirm-down, reset-state, the leaving flag,
 * VM MACs and the fence-failing note; 3 vm save and resume (the VM's save
 * fields, OpVmWant save/fresh, host events SAVED and SAVE_FAILED), which
 * agentctl refuses until every member speaks 3; 4 the agent-down mark of an
 * unclean host whose agent alone left (OpNodeState agent_down,
 * FLAG_AGENT_DOWN).  Updates an admin asks for are refused by older peers
 * (README "Upgrading"); one the coordinator makes by itself (the
 * fence-failing note, the agent-down mark) waits until every member
 * speaks its minor. */
#define XM_PROTO_MAJOR 1
#define XM_PROTO_MINOR 4
#define XM_PROTO_MINOR_FENCE_NOTE 2
#define XM_PROTO_MINOR_SAVE 3
#define XM_PROTO_MINOR_AGENT_DOWN 4
#define WIRE_HEADER_LEN 8

/* Header + packed msg in one malloc'd buffer. */
int wire_pack(const ProtobufCMessage *msg, uint8_t **buf, size_t *len);

/*
 * Checks the header: 0 ok (payload at buf + WIRE_HEADER_LEN); -EBADMSG too
 * short or bad magic; XM_EVERSION another major (*major, *minor say which).
 */
int wire_check(const void *buf, size_t len, uint16_t *major, uint16_t *minor);

/* wire_check + unpack with desc.  NULL on error, *err set. */
ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc,
			      const void *buf, size_t len, int *err,
			      uint16_t *major, uint16_t *minor);

#endif
