/* agentctl's IPC client and the plumbing of its commands; see
 * ctl_client.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <qb/qbipc_common.h>

#include "ctl_args.h"
#include "ctl_client.h"
#include "ctl_format.h"
#include "ctl_server.h"
#include "wire.h"
#include "xm_error.h"

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
ctl_conn_call_raw(struct ctl_conn *cc, const uint8_t *frame, size_t len,
		  int timeout_ms, const uint8_t **answer, size_t *answer_len)
{
	struct qb_ipc_request_header hdr;
	const struct qb_ipc_response_header *rh;
	struct iovec iov[2];
	ssize_t n;

	if (len > XM_IPC_MAX_MSG - sizeof(hdr))
		return -EMSGSIZE;
	memset(&hdr, 0, sizeof(hdr));
	hdr.id = XM_IPC_MSG_STATUS;
	hdr.size = (int32_t)(sizeof(hdr) + len);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)frame;
	iov[1].iov_len = len;
	n = qb_ipcc_sendv_recv(cc->c, iov, 2, cc->rbuf, cc->rlen, timeout_ms);
	if (n < 0)
		return (int)n;
	rh = (const struct qb_ipc_response_header *)cc->rbuf;
	if ((size_t)n < sizeof(*rh) || rh->size != n || rh->id != XM_IPC_MSG_STATUS)
		return -EBADMSG;
	if (rh->error != 0)
		return rh->error < 0 ? rh->error : -EBADMSG;
	*answer = cc->rbuf + sizeof(*rh);
	*answer_len = (size_t)n - sizeof(*rh);
	return 0;
}

int
ctl_conn_call(struct ctl_conn *cc, const Xenmesh__CtlRequest *req, int timeout_ms,
	  Xenmesh__CtlResponse **resp)
{
	ProtobufCMessage *msg;
	const uint8_t *ans;
	uint8_t *buf = NULL;
	size_t len = 0, ans_len = 0;
	int rc, err = 0;

	*resp = NULL;
	rc = wire_pack(&req->base, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ctl_conn_call_raw(cc, buf, len, timeout_ms, &ans, &ans_len);
	free(buf);
	if (rc < 0)
		return rc;
	msg = wire_unpack(&xenmesh__ctl_response__descriptor, ans, ans_len, &err,
			  &cc->peer_major, &cc->peer_minor);
	if (msg == NULL)
		return err < 0 ? err : -EBADMSG;
	*resp = (Xenmesh__CtlResponse *)msg;
	return 0;
}

/* ---- agentctl ---------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int
ctl_client_call_error(const struct ctl_conn *cc, const char *name, int err)
{
	switch (err) {
	case -ETIMEDOUT:
		fprintf(stderr, "agentctl: %s: no answer from xenmeshd within %d s\n",
			name, CTL_TIMEOUT_MS / 1000);
		return CTL_EXIT_FAILED;
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
	case -ESHUTDOWN:
		fprintf(stderr, "agentctl: %s: lost the connection to xenmeshd: %s\n",
			name, xm_strerror(err));
		return CTL_EXIT_UNREACHABLE;
	case XM_EVERSION:
		fprintf(stderr, "agentctl: %s: xenmeshd speaks protocol %u.%u, "
			"agentctl %u.%u\n", name, cc->peer_major, cc->peer_minor,
			XM_PROTO_MAJOR, XM_PROTO_MINOR);
		return CTL_EXIT_FAILED;
	default:
		fprintf(stderr, "agentctl: %s: talking to xenmeshd: %s\n", name,
			xm_strerror(err));
		return CTL_EXIT_FAILED;
	}
}

int
ctl_client_exit_status(int result)
{
	switch (result) {
	case 0:
		return CTL_EXIT_OK;
	case -EACCES:
	case -EPERM:
		return CTL_EXIT_DENIED;
	case XM_ENOQUORUM:
	case XM_ENOCOORD:
	case XM_ESYNCING:
		return CTL_EXIT_NOQUORUM;
	default:
		return CTL_EXIT_FAILED;
	}
}

int
ctl_client_refused(const struct ctl_args *args, const Xenmesh__CtlResponse *resp)
{
	const char *text = resp->message != NULL && resp->message[0] != '\0' ?
		resp->message : xm_strerror(resp->result);

	if (args->cmd == CTL_CMD_NODE_FLAG && resp->result == -ENOENT)
		fprintf(stderr, "agentctl: %s: unknown node %s\n", args->name,
			args->node);
	else
		fprintf(stderr, "agentctl: %s: %s\n", args->name, text);
	return ctl_client_exit_status(resp->result);
}

int
ctl_client_print(const struct ctl_args *args, int rc, char *text)
{
	if (rc < 0) {
		fprintf(stderr, "agentctl: %s: cannot show the answer: %s\n",
			args->name, xm_strerror(rc));
		return CTL_EXIT_FAILED;
	}
	(void)fputs(text, stdout);
	free(text);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "agentctl: %s: cannot write: %s\n", args->name,
			strerror(errno));
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

int
ctl_client_read(struct ctl_conn *cc, const struct ctl_args *args,
		const Xenmesh__CtlRequest *req, Xenmesh__CtlResponse **resp)
{
	int rc, status;

	rc = ctl_conn_call(cc, req, CTL_TIMEOUT_MS, resp);
	if (rc < 0)
		return ctl_client_call_error(cc, args->name, rc);
	if ((*resp)->result == 0)
		return CTL_EXIT_OK;
	status = ctl_client_refused(args, *resp);
	xenmesh__ctl_response__free_unpacked(*resp, NULL);
	*resp = NULL;
	return status;
}

int
ctl_client_mutation(struct ctl_conn *cc, const struct ctl_args *args,
		    const Xenmesh__CtlRequest *req, int timeout_ms,
		    const char *done)
{
	Xenmesh__CtlResponse *resp;
	char *text = NULL;
	int rc, status;

	rc = ctl_conn_call(cc, req, timeout_ms, &resp);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "agentctl: %s: no answer from xenmeshd within %d s; "
			"the change may still be applied (see agentctl events)\n",
			args->name, timeout_ms / 1000);
		return CTL_EXIT_FAILED;
	}
	if (rc < 0)
		return ctl_client_call_error(cc, args->name, rc);
	status = resp->result == 0 ? CTL_EXIT_OK : ctl_client_refused(args, resp);
	if (args->json) {
		rc = ctl_format_result_json(resp, &text);
		if (ctl_client_print(args, rc, text) != CTL_EXIT_OK &&
		    status == CTL_EXIT_OK)
			status = CTL_EXIT_FAILED;
	} else if (status == CTL_EXIT_OK) {
		printf("%s\n", done != NULL ? done :
		       resp->message != NULL && resp->message[0] != '\0' ?
		       resp->message : "done");
	}
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

void
ctl_client_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

bool
ctl_client_stopped(void)
{
	return stop_requested != 0;
}

void
ctl_client_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	(void)clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ctl_client_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t
ctl_client_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
