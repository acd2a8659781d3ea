/* libFuzzer target: agentctl's requests to xenmeshd, as libqb hands them to
 * agent/ctl_server.c.
 *
 * The real ctl_server.c runs, with everything it dispatches to (ctl_read,
 * ctl_vm, ctl_admin, ctl_fence, ctl_storage, ctl_maint, ctl_access,
 * metrics_agent), against the test agent of harness_agent.c: node 1 of a
 * synced three-node group, coordinator, with nodes, VMs and volumes in
 * most states.  libqb's IPC server is replaced here: qb_ipcs_create hands
 * over the handlers ctl_server_start registers, and the harness calls them
 * as libqb would (accept, created, msg_process, closed, destroyed) for one
 * fake connection.  Every answer is checked to be a CtlResponse frame
 * agentctl can read; connection references must never go below zero.
 * Mutations go through the replica to the group and back (answered from
 * ctl_server_request_done); the waits of vm restart, volume create and
 * node prepare-shutdown are fired a few times from the fake loop.
 *
 * Input: byte 0 says who connects (bits 0-1: 0 root, 1 a member of
 * read_group, 2 a member of admin_group, 3 nobody) and bit 7 whether the
 * harness writes the qb_ipc_request_header.  Without it, the rest is one
 * message, header included, exactly as libqb delivers it.  With it, the
 * rest is messages of [u16 length, big endian][wire frame], each behind a
 * correct header, the fake loop fired once between two.
 *
 * fuzz-sources: agent/ctl_server.c agent/ctl_read.c agent/ctl_access.c
 * fuzz-sources: agent/ctl_vm.c agent/ctl_admin.c agent/ctl_fence.c
 * fuzz-sources: agent/ctl_storage.c agent/ctl_maint.c agent/metrics_agent.c
 * fuzz-sources: agent/ctl_confirm.c agent/ctl_nodes.c agent/nodeconf.c
 * fuzz-sources: agent/ctl_create.c agent/ctl_template.c agent/vmcreate.c
 * fuzz-sources: agent/ctl_volwait.c agent/ctl_save.c
 * fuzz-sources: agent/ctl_backup.c agent/backup.c agent/backup_list.c
 * fuzz-sources: agent/coord.c agent/coord_storage.c agent/san_view.c
 * fuzz-sources: agent/ctl_forward.c agent/peer_hub.c
 * fuzz-sources: tests/fuzz/harness_agent.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <qb/qbipc_common.h>
#include <qb/qbipcs.h>

#include "cluster.h"
#include "ctl_backup.h"
#include "ctl_create.h"
#include "ctl_server.h"
#include "harness_agent.h"
#include "vmhost.h"
#include "wire.h"

#define MSGS_MAX 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- what xenmeshd's other modules would answer ------------------------- */

static const char *const unmanaged[] = { "stray1" };

size_t
vmhost_unmanaged(struct agent *a, const char *const **names)
{
	(void)a;
	*names = unmanaged;
	return 1;
}

int
cluster_totem_ms(struct agent *a, uint32_t *token, uint32_t *consensus)
{
	(void)a;
	*token = 3000;
	*consensus = 3600;
	return 0;
}

/* ---- libqb's IPC server, as ctl_server.c sees it ----------------------- */

struct fconn {
	int refs;
	void *ctx;
	uid_t uid;
	gid_t gid;
};

static struct qb_ipcs_service_handlers handlers;
static void *service_ctx;
static int service_token;
static struct fconn conn;
static unsigned answers;

qb_ipcs_service_t *
qb_ipcs_create(const char *name, int32_t service_id, enum qb_ipc_type type,
	       struct qb_ipcs_service_handlers *h)
{
	(void)name;
	(void)service_id;
	(void)type;
	handlers = *h;
	return (qb_ipcs_service_t *)&service_token;
}

void
qb_ipcs_service_context_set(qb_ipcs_service_t *s, void *context)
{
	(void)s;
	service_ctx = context;
}

void
qb_ipcs_poll_handlers_set(qb_ipcs_service_t *s, struct qb_ipcs_poll_handlers *h)
{
	(void)s;
	(void)h;
}

int32_t
qb_ipcs_run(qb_ipcs_service_t *s)
{
	(void)s;
	return 0;
}

/* As libqb: every client is disconnected, its callbacks run. */
void
qb_ipcs_destroy(qb_ipcs_service_t *s)
{
	qb_ipcs_connection_t *c = (qb_ipcs_connection_t *)&conn;

	(void)s;
	if (handlers.connection_closed != NULL)
		(void)handlers.connection_closed(c);
	if (handlers.connection_destroyed != NULL)
		handlers.connection_destroyed(c);
	service_ctx = NULL;
}

void *
qb_ipcs_connection_service_context_get(qb_ipcs_connection_t *c)
{
	(void)c;
	return service_ctx;
}

void
qb_ipcs_context_set(qb_ipcs_connection_t *c, void *context)
{
	((struct fconn *)c)->ctx = context;
}

void *
qb_ipcs_context_get(qb_ipcs_connection_t *c)
{
	return ((struct fconn *)c)->ctx;
}

void
qb_ipcs_connection_auth_set(qb_ipcs_connection_t *c, uid_t uid, gid_t gid,
			    mode_t mode)
{
	(void)c;
	(void)uid;
	(void)gid;
	(void)mode;
}

struct qb_ipcs_connection_stats_2 *
qb_ipcs_connection_stats_get_2(qb_ipcs_connection_t *c, int32_t clear_after_read)
{
	struct qb_ipcs_connection_stats_2 *st = calloc(1, sizeof(*st));

	(void)c;
	(void)clear_after_read;
	if (st != NULL)
		st->client_pid = 4242;
	return st;
}

int32_t
qb_ipcs_connection_get_buffer_size(qb_ipcs_connection_t *c)
{
	(void)c;
	return XM_IPC_MAX_MSG;
}

void
qb_ipcs_connection_ref(qb_ipcs_connection_t *c)
{
	((struct fconn *)c)->refs++;
}

void
qb_ipcs_connection_unref(qb_ipcs_connection_t *c)
{
	struct fconn *fc = (struct fconn *)c;

	if (fc->refs <= 0) {
		fprintf(stderr, "fuzz_ipc: connection unreferenced more often "
			"than referenced\n");
		abort();
	}
	fc->refs--;
}

/* Every answer must be one agentctl can read (ctl_client.c's checks). */
ssize_t
qb_ipcs_response_sendv(qb_ipcs_connection_t *c, const struct iovec *iov,
		       size_t iov_len)
{
	struct qb_ipc_response_header hdr;
	ProtobufCMessage *msg;
	uint16_t major = 0, minor = 0;
	uint8_t *buf;
	size_t len = 0, off = 0;
	int err = 0;

	(void)c;
	for (size_t i = 0; i < iov_len; i++)
		len += iov[i].iov_len;
	if (len < sizeof(hdr) || len > XM_IPC_MAX_MSG)
		abort();
	buf = malloc(len);
	if (buf == NULL)
		abort();
	for (size_t i = 0; i < iov_len; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.id != XM_IPC_MSG_STATUS || hdr.size != (int32_t)len)
		abort();
	msg = wire_unpack(&xenmesh__ctl_response__descriptor, buf + sizeof(hdr),
			  len - sizeof(hdr), &err, &major, &minor);
	if (msg == NULL) {
		fprintf(stderr, "fuzz_ipc: xenmeshd answered a frame agentctl "
			"cannot read: %d\n", err);
		abort();
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	free(buf);
	answers++;
	return (ssize_t)len;
}

/* ---- the harness ------------------------------------------------------- */

/* The callers byte 0 chooses between.  The group is "root" (gid 0), so
 * membership is decided from the gid the client connects with, without
 * looking the user up. */
static void
caller_set(struct agent *a, unsigned who)
{
	switch (who & 3) {
	case 0:
		conn.uid = 0;
		conn.gid = 0;
		break;
	case 1:
		(void)snprintf(a->cfg.read_group, sizeof(a->cfg.read_group), "root");
		conn.uid = 1000;
		conn.gid = 0;
		break;
	case 2:
		(void)snprintf(a->cfg.admin_group, sizeof(a->cfg.admin_group), "root");
		conn.uid = 1000;
		conn.gid = 0;
		break;
	default:
		conn.uid = 1000;
		conn.gid = 1000;
		break;
	}
}

/* A request as libqb delivers it: aligned to 8, like its ring buffer's
 * chunks are not (ctl_msg_process copies the header for that reason). */
static void
deliver(const uint8_t *msg, size_t len, bool header)
{
	struct qb_ipc_request_header hdr;
	size_t total = len + (header ? sizeof(hdr) : 0);
	uint8_t *buf = malloc(total ? total : 1);

	if (buf == NULL)
		abort();
	if (header) {
		memset(&hdr, 0, sizeof(hdr));
		hdr.id = XM_IPC_MSG_STATUS;
		hdr.size = (int32_t)total;
		memcpy(buf, &hdr, sizeof(hdr));
		memcpy(buf + sizeof(hdr), msg, len);
	} else {
		memcpy(buf, msg, len);
	}
	(void)handlers.msg_process((qb_ipcs_connection_t *)&conn, buf, total);
	free(buf);
	harness_agent_run_queue();
}

/* A wait still in the fake loop when the input ends (volume create,
 * prepare-shutdown) is a plain allocation; restarts were taken out by
 * ctl_server_stop. */
static void
left_free(void *data)
{
	free(data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct harness_agent_hooks hooks = {
		.request_done = ctl_server_request_done,
	};
	qb_ipcs_connection_t *c = (qb_ipcs_connection_t *)&conn;
	struct agent *a;
	bool header;
	int n = 0;

	if (size < 1)
		return 0;
	a = harness_agent_start(&hooks);
	memset(&conn, 0, sizeof(conn));
	caller_set(a, data[0]);
	header = (data[0] & 0x80) != 0;
	if (ctl_server_start(a) != 0 || handlers.msg_process == NULL)
		abort();
	if (handlers.connection_accept(c, conn.uid, conn.gid) != 0)
		abort();
	handlers.connection_created(c);

	data++;
	size--;
	if (!header) {
		deliver(data, size, false);
	} else {
		while (size >= 2 && n++ < MSGS_MAX) {
			size_t len = (size_t)data[0] << 8 | data[1];

			data += 2;
			size -= 2;
			if (len > size)
				len = size;
			deliver(data, len, true);
			data += len;
			size -= len;
			harness_agent_run_loop(1);
		}
	}
	/* time passes: the waits look again */
	harness_agent_run_loop(3);

	/* as xenmeshd's main does (their contexts are made on first use) */
	ctl_create_stop(a);
	ctl_backup_stop(a);
	ctl_server_stop(a);
	harness_agent_stop(left_free);
	return 0;
}
