/* The client side of agentctl's IPC: one CtlRequest, one CtlResponse,
 * both wire frames behind libqb's headers (see agent/ctl_server.h).
 * Used by agentctl and the benchmarks.
 *
 * Also agentctl's plumbing around a call, shared by its commands
 * (agentctl.c, ctl_cmd_maint.c): its exit statuses, how a failed call or
 * a refusal is said on stderr, printing an answer, and sleeping between
 * the polls of a wait until a signal asks to stop.
 */
#ifndef XM_CTL_CLIENT_H
#define XM_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbipcc.h>

#include "xenmesh.pb-c.h"

struct ctl_args;

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
/* The same with the request already packed (a wire frame): *answer is the
 * CtlResponse's wire frame, valid until the next call or the close. */
int ctl_conn_call_raw(struct ctl_conn *cc, const uint8_t *frame, size_t len,
		      int timeout_ms, const uint8_t **answer, size_t *answer_len);

/* ---- agentctl ---------------------------------------------------------- */

/* agentctl's exit statuses, as its --help and man page list them. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,            /* the operation failed */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,       /* xenmeshd not running or gone */
	CTL_EXIT_NOQUORUM = 4,          /* no quorum, no coordinator or sync */
	CTL_EXIT_DENIED = 5,            /* permission denied */
};

#define CTL_TIMEOUT_MS 15000            /* of a call, unless said otherwise */

/* A transport failure of command `name`, said once on stderr; returns the
 * exit status. */
int ctl_client_call_error(const struct ctl_conn *cc, const char *name, int err);
/* The exit status of a CtlResponse.result. */
int ctl_client_exit_status(int result);
/* The agent refused or failed: its words on stderr; the exit status. */
int ctl_client_refused(const struct ctl_args *args,
		       const Xenmesh__CtlResponse *resp);
/* Writes text (from a formatter that returned rc) to stdout and frees it;
 * the exit status. */
int ctl_client_print(const struct ctl_args *args, int rc, char *text);
/* One read request: CTL_EXIT_OK with *resp to free, or the exit status
 * of a transport failure or a refusal (said on stderr, nothing to free). */
int ctl_client_read(struct ctl_conn *cc, const struct ctl_args *args,
		    const Xenmesh__CtlRequest *req, Xenmesh__CtlResponse **resp);
/* Sends a mutation and says how it went: on success `done`, or the
 * agent's own message when done is NULL (--json: the result object). */
int ctl_client_mutation(struct ctl_conn *cc, const struct ctl_args *args,
			const Xenmesh__CtlRequest *req, int timeout_ms,
			const char *done);

/* SIGINT and SIGTERM set the stop flag (no SA_RESTART: a sleep between
 * polls ends at once) instead of killing agentctl. */
void ctl_client_catch_signals(void);
bool ctl_client_stopped(void);
/* Sleeps ms unless a signal asks to stop. */
void ctl_client_sleep(int ms);
/* CLOCK_MONOTONIC and CLOCK_REALTIME in ms. */
uint64_t ctl_client_mono_ms(void);
uint64_t ctl_client_wall_ms(void);

#endif
