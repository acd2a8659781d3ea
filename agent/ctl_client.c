/* agentctl's IPC client; see ctl_client.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <qb/qbipc_common.h>

#include "ctl_client.h"
#include "ctl_server.h"
#include "wire.h"

int
ctl_conn_open(struct ctl_conn *cc)
{
	int32_t size;

	memset(cc, 0, sizeof(*cc));
	cc->c = qb_ipcc_connect(XM_IPC_NAME, XM_IPC_MAX_MSG);
	if (cc->c == NULL)
		return errno > 0 ? -errno : -ECONNREFUSED;
	size = qb_ipcc_get_buffer_size(cc->c);
	cc->rlen = size > 0 ? (size_t)size : XM_IPC_MAX_MSG;
	cc->rbuf = malloc(cc->rlen);
	if (cc->rbuf == NULL) {
		qb_ipcc_disconnect(cc->c);
		cc->c = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
ctl_conn_close(struct ctl_conn *cc)
{
	if (cc->c != NULL)
		qb_ipcc_disconnect(cc->c);
	free(cc->rbuf);
	memset(cc, 0, sizeof(*cc));
}

int
ctl_conn_call(struct ctl_conn *cc, const Xenmesh__CtlRequest *req, int timeout_ms,
	  Xenmesh__CtlResponse **resp)
{
	struct qb_ipc_request_header hdr;
	const struct qb_ipc_response_header *rh;
	struct iovec iov[2];
	ProtobufCMessage *msg;
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int rc, err = 0;

	*resp = NULL;
	rc = wire_pack(&req->base, &buf, &len);
	if (rc < 0)
		return rc;
	memset(&hdr, 0, sizeof(hdr));
	hdr.id = XM_IPC_MSG_STATUS;
	hdr.size = (int32_t)(sizeof(hdr) + len);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = buf;
	iov[1].iov_len = len;
	n = qb_ipcc_sendv_recv(cc->c, iov, 2, cc->rbuf, cc->rlen, timeout_ms);
	free(buf);
	if (n < 0)
		return (int)n;
	rh = (const struct qb_ipc_response_header *)cc->rbuf;
	if ((size_t)n < sizeof(*rh) || rh->size != n || rh->id != XM_IPC_MSG_STATUS)
		return -EBADMSG;
	if (rh->error != 0)
		return rh->error < 0 ? rh->error : -EBADMSG;
	msg = wire_unpack(&xenmesh__ctl_response__descriptor,
			  cc->rbuf + sizeof(*rh), (size_t)n - sizeof(*rh), &err,
			  &cc->peer_major, &cc->peer_minor);
	if (msg == NULL)
		return err < 0 ? err : -EBADMSG;
	*resp = (Xenmesh__CtlResponse *)msg;
	return 0;
}
