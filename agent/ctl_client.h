/* The client side of agentctl's IPC: one CtlRequest, one CtlResponse,
 * both wire frames behind libqb's headers (see agent/ctl_server.h).
 * Used by agentctl and the benchmarks. */
#ifndef XM_CTL_CLIENT_H
#define XM_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <qb/qbipcc.h>

#include "xenmesh.pb-c.h"

struct ctl_conn {
	qb_ipcc_connection_t *c;
	uint8_t *rbuf;
	size_t rlen;
	uint16_t peer_major;    /* when the answer was of another protocol */
	uint16_t peer_minor;
};

/* Connect to the local xenmeshd.  0 or negative errno. */
int ctl_conn_open(struct ctl_conn *cc);
void ctl_conn_close(struct ctl_conn *cc);
/* One request, one answer.  0 with *resp set (free with
 * xenmesh__ctl_response__free_unpacked), or a negative error of the
 * transport: -ETIMEDOUT, -ENOTCONN, -EBADMSG, XM_EVERSION... */
int ctl_conn_call(struct ctl_conn *cc, const Xenmesh__CtlRequest *req,
		  int timeout_ms, Xenmesh__CtlResponse **resp);

#endif
