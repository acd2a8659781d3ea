/* `agentctl --relay`; see ctl_relay.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "ctl_forward.h"
#include "ctl_relay.h"
#include "wire.h"
#include "xm_error.h"

/* Less than the agent's limit on the relay, so that the answer says it. */
#define RELAY_TIMEOUT_MS (CTL_FORWARD_RUN_MS - 5 * 60 * 1000)

bool
ctl_relay_wants(int argc, char *argv[])
{
	return argc == 2 && strcmp(argv[1], "--relay") == 0;
}

static int
write_all(const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The relay's own failure as the answer: "what: detail". */
static int
answer_error(int result, const char *what, const char *detail)
{
	Xenmesh__CtlResponse resp = XENMESH__CTL_RESPONSE__INIT;
	char msg[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(msg, sizeof(msg), "%s: %s", what, detail);
	resp.result = result;
	resp.message = msg;
	if (wire_pack(&resp.base, &buf, &len) < 0)
		return 1;
	rc = write_all(buf, len) < 0 ? 1 : 0;
	free(buf);
	return rc;
}

int
ctl_relay_main(void)
{
	struct ctl_conn cc;
	uint8_t *req = malloc(CTL_FORWARD_REQUEST_MAX);
	const uint8_t *ans = NULL;
	size_t len = 0, ans_len = 0;
	int rc, status;

	if (req == NULL)
		return answer_error(-ENOMEM, "the relay", "out of memory");
	for (;;) {
		ssize_t n = read(STDIN_FILENO, req + len, CTL_FORWARD_REQUEST_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			status = answer_error(-EIO, "the relay cannot read its request",
					      strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == CTL_FORWARD_REQUEST_MAX) {
			status = answer_error(-EMSGSIZE, "the relay",
					      "the forwarded request is too large");
			goto out;
		}
	}
	rc = ctl_conn_open(&cc);
	if (rc < 0) {
		status = answer_error(rc, "xenmeshd does not answer the relay",
				      xm_strerror(rc));
		goto out;
	}
	rc = ctl_conn_call_raw(&cc, req, len, RELAY_TIMEOUT_MS, &ans, &ans_len);
	if (rc < 0)
		status = answer_error(rc, "the relay's call failed", xm_strerror(rc));
	else
		status = write_all(ans, ans_len) < 0 ? 1 : 0;
	ctl_conn_close(&cc);
out:
	free(req);
	return status;
}
