/* The active SAN node's side of `vm save` and resume (the wire: vmsave.h).
 *
 * A host's hello is taken only when the replicated state agrees with it
 * and this node is the active SAN node with the VM's save volume ready
 * here (under DRBD: Primary and UpToDate).  xenmesh-saveimg(8) then runs
 * on the volume's device with one end of a socketpair as its stdin and
 * stdout; the channel splices the other end to the host.
 *
 * We keep our own copy of the program's end until it exited: the host
 * sees the end of the stream only then, and when the program failed the
 * connection is aborted first, so a clean end always means success.  A
 * save whose connection failed has its image cleared once the program
 * is done: it may have taken a cut stream for a whole one.
 */
#define LOG_SUBSYS "saveimg"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "peer.h"
#include "runner.h"
#include "san.h"
#include "san_int.h"
#include "san_plan.h"
#include "sibling.h"
#include "vmsave.h"
#include "voltable.h"
#include "xm_error.h"

/* the longest a save or resume may take: 64 GB at 20 MB/s */
#define SAVEIMG_RUN_MS  (60 * 60 * 1000)

struct img_job {
	struct saveimg *srv;
	bool save;
	char vm[STATE_NAME_MAX];
	uint64_t gen;
	char device[256];
	int fd_peer;                    /* the channel's end */
	int fd_prog;                    /* the program's end, kept until it exited */
	struct peer_conn *conn;
	bool peer_done, prog_done, peer_failed;
	struct img_job *next;
};

struct saveimg {
	struct agent *a;
	struct runner *runner;          /* opened with the first job */
	struct img_job *jobs;
	char prog[512];
};

static void
job_free(struct img_job *j)
{
	struct saveimg *srv = j->srv;

	for (struct img_job **p = &srv->jobs; *p != NULL; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			break;
		}
	}
	if (j->fd_peer >= 0)
		close(j->fd_peer);
	if (j->fd_prog >= 0)
		close(j->fd_prog);
	free(j);
}

static void
clear_done(void *data, const struct runner_result *res)
{
	char *device = data;

	if (!runner_result_ok(res) && !res->cancelled) {
		char how[256];

		runner_result_describe(res, how, sizeof(how));
		log_err("cannot clear the cut save image on %s: %s", device, how);
	}
	free(device);
}

/* The program wrote a stream the host gave up on: no image must remain. */
static void
image_clear(struct saveimg *srv, const char *device)
{
	const char *argv[] = { srv->prog, "clear", device, NULL };
	struct runner_req req = { .argv = argv, .timeout_ms = 60000 };
	char *copy = strdup(device);

	if (copy == NULL || runner_run(srv->runner, &req, clear_done, copy) < 0) {
		log_err("cannot clear the cut save image on %s", device);
		free(copy);
	}
}

static void
job_end(struct img_job *j)
{
	if (!j->prog_done || !j->peer_done)
		return;
	if (j->save && j->peer_failed)
		image_clear(j->srv, j->device);
	job_free(j);
}

/* What went wrong, for the host: the program's own last line ("the save
 * image of VM x on D is damaged: ..."), else how it ended. */
static void
prog_why(const struct runner_result *res, char *buf, size_t len)
{
	const char *prefix = "xenmesh-saveimg: ";
	const char *err = res->err.data, *line, *end;

	if (res->exit_code <= 0 || err == NULL || res->err.len == 0) {
		runner_result_describe(res, buf, len);
		return;
	}
	end = err + res->err.len;
	while (end > err && end[-1] == '\n')
		end--;
	line = end;
	while (line > err && line[-1] != '\n')
		line--;
	if ((size_t)(end - line) > strlen(prefix) &&
	    strncmp(line, prefix, strlen(prefix)) == 0)
		line += strlen(prefix);
	snprintf(buf, len, "%.*s", (int)(end - line), line);
}

static void
prog_done(void *data, const struct runner_result *res)
{
	struct img_job *j = data;
	char how[256];

	j->prog_done = true;
	if (!runner_result_ok(res)) {
		prog_why(res, how, sizeof(how));
		log_err("%s of VM %s (generation %" PRIu64 ") on %s failed: %s",
			j->save ? "save" : "resume", j->vm, j->gen, j->device, how);
		/* before our end closes: the host must not take it for done */
		if (j->conn != NULL && !j->peer_done)
			peer_conn_abort_why(j->conn, how);
	} else {
		log_notice("%s of VM %s (generation %" PRIu64 ") on %s done in %"
			   PRIu64 " ms", j->save ? "save" : "resume", j->vm, j->gen,
			   j->device, res->elapsed_ms);
	}
	if (j->fd_prog >= 0) {
		close(j->fd_prog);
		j->fd_prog = -1;
	}
	job_end(j);
}

static void
peer_done(void *arg, int rc, const char *why)
{
	struct img_job *j = arg;

	j->peer_done = true;
	j->conn = NULL;
	if (rc < 0) {
		j->peer_failed = true;
		log_warn("%s of VM %s: the host's connection failed: %s",
			 j->save ? "save" : "resume", j->vm,
			 why != NULL ? why : xm_strerror(rc));
		/* the program sees the end of its socket */
		(void)shutdown(j->fd_peer, SHUT_RDWR);
	}
	job_end(j);
}

/* "WORD 1 VM GEN FROM" or "WORD 1 VM SAVED_GEN GEN FROM". */
static int
hello_parse(const uint8_t *buf, size_t len, bool *save, char *vm,
	    uint64_t *saved_gen, uint64_t *gen, uint32_t *from)
{
	char text[200], word[24], name[STATE_NAME_MAX];
	unsigned ver;
	int used = 0, k;

	if (len == 0 || len >= sizeof(text))
		return -EBADMSG;
	memcpy(text, buf, len);
	text[len] = '\0';
	if (sscanf(text, "%23s %u", word, &ver) != 2)
		return -EBADMSG;
	*save = strcmp(word, SAVE_HELLO_WORD) == 0;
	if (!*save && strcmp(word, RESUME_HELLO_WORD) != 0)
		return -EBADMSG;
	if (ver != SAVEIMG_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	*saved_gen = 0;
	if (*save)
		k = sscanf(text, "%*s %*u %63s %" SCNu64 " %" SCNu32 "%n", name, gen,
			   from, &used) == 3;
	else
		k = sscanf(text, "%*s %*u %63s %" SCNu64 " %" SCNu64 " %" SCNu32 "%n",
			   name, saved_gen, gen, from, &used) == 4;
	if (!k || (size_t)used != len)
		return -EBADMSG;
	snprintf(vm, STATE_NAME_MAX, "%s", name);
	return 0;
}

/* Does the state agree, and where is the image?  -errno with why. */
static int
request_check(struct agent *a, bool save, const char *vm, uint64_t saved_gen,
	      uint64_t gen, uint32_t from, char *device, size_t devlen,
	      char *why, size_t whylen)
{
	const struct state *st = &a->rep.st;
	const struct vm_rec *v = state_vm(st, vm);
	const struct vol_rec *vol;
	struct san_plan_conf pc;
	char name[VOL_NAME_MAX];

	if (a->san == NULL || st->active_san != a->rep.local_id || !san_exporting(a)) {
		snprintf(why, whylen, "%s is not the active SAN node", a->node_name);
		return -ENODEV;
	}
	if (v == NULL || v->host != from || v->generation != gen ||
	    (save && (v->state != VM_STATE_STOPPING || !v->save_requested)) ||
	    (!save && (v->state != VM_STATE_STARTING || v->saved_gen == 0 ||
		       v->saved_gen != saved_gen))) {
		snprintf(why, whylen, "VM %s generation %" PRIu64 " is not %s on node "
			 "%" PRIu32 " in the state here", vm, gen,
			 save ? "being saved" : "resuming from its image", from);
		return -ESRCH;
	}
	if (vol_name_make(name, sizeof(name), vm, VM_SAVE_DISK, why, whylen) < 0)
		return -EINVAL;
	vol = state_vol(st, name);
	if (vol == NULL || vol->state != VOL_STATE_READY ||
	    (a->san->drbd && !san_mirror_exportable(a->san, vol))) {
		snprintf(why, whylen, "save volume %s is not ready here", name);
		return -ENODEV;
	}
	san_plan_conf_of(a, &pc);
	if (san_vol_device(&pc, vol, device, devlen) < 0) {
		snprintf(why, whylen, "save volume %s: device name too long", name);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int
srv_get(struct agent *a, struct saveimg **out)
{
	struct saveimg *srv = a->saveimg;
	int rc;

	if (srv == NULL) {
		srv = calloc(1, sizeof(*srv));
		if (srv == NULL)
			return -ENOMEM;
		srv->a = a;
		sibling_program("xenmesh-saveimg", srv->prog, sizeof(srv->prog));
		a->saveimg = srv;
	}
	if (srv->runner == NULL) {
		rc = runner_exec_open(&srv->runner, a->loop, NULL);
		if (rc < 0)
			return rc;
	}
	*out = srv;
	return 0;
}

int
saveimg_accept(struct agent *a, struct peer_conn *c, const char *from_addr,
	       const uint8_t *hello, size_t len, int *fd,
	       void (**done)(void *, int, const char *), void **done_arg,
	       char *why, size_t whylen)
{
	struct saveimg *srv = NULL;
	struct img_job *j = NULL;
	char vm[STATE_NAME_MAX], gens[24];
	uint64_t saved_gen, gen;
	uint32_t from;
	bool save;
	int sp[2] = { -1, -1 };
	int rc;

	rc = hello_parse(hello, len, &save, vm, &saved_gen, &gen, &from);
	if (rc < 0) {
		snprintf(why, whylen, rc == -EPROTONOSUPPORT ? "save image protocol "
			 "version not %d" : "malformed save image request",
			 SAVEIMG_PROTO_VERSION);
		goto refuse;
	}
	rc = srv_get(a, &srv);
	if (rc < 0) {
		snprintf(why, whylen, "cannot run programs: %s", xm_strerror(rc));
		goto refuse;
	}
	for (struct img_job *o = srv->jobs; o != NULL; o = o->next) {
		if (strcmp(o->vm, vm) == 0) {
			snprintf(why, whylen, "a save or resume of VM %s is already "
				 "under way", vm);
			rc = -EBUSY;
			goto refuse;
		}
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(why, whylen, "out of resources");
		rc = -ENOMEM;
		goto refuse;
	}
	j->srv = srv;
	j->save = save;
	snprintf(j->vm, sizeof(j->vm), "%s", vm);
	j->gen = gen;
	j->fd_peer = sp[0];
	j->fd_prog = sp[1];
	rc = request_check(a, save, vm, saved_gen, gen, from, j->device,
			   sizeof(j->device), why, whylen);
	if (rc < 0)
		goto refuse;
	snprintf(gens, sizeof(gens), "%" PRIu64, save ? gen : saved_gen);
	{
		const char *argv[] = { srv->prog, save ? "write" : "read", "--vm", vm,
				       "--generation", gens, j->device, NULL };
		struct runner_req req = { .argv = argv, .timeout_ms = SAVEIMG_RUN_MS,
					  .stream_fd = j->fd_prog };

		rc = runner_run(srv->runner, &req, prog_done, j);
	}
	if (rc < 0) {
		snprintf(why, whylen, "cannot run %s: %s", srv->prog, xm_strerror(rc));
		goto refuse;
	}
	j->conn = c;
	j->next = srv->jobs;
	srv->jobs = j;
	log_notice("%s VM %s (generation %" PRIu64 ") for node %" PRIu32 " (%s) on %s",
		   save ? "saving" : "resuming", vm, save ? gen : saved_gen, from,
		   from_addr, j->device);
	*fd = j->fd_peer;
	*done = peer_done;
	*done_arg = j;
	return 0;
refuse:
	if (j != NULL) {
		if (sp[0] >= 0)
			close(sp[0]);
		if (sp[1] >= 0)
			close(sp[1]);
		free(j);
	}
	log_warn("save image request from %s refused: %s", from_addr, why);
	return rc;
}

void
saveimg_stop(struct agent *a)
{
	struct saveimg *srv = a->saveimg;

	if (srv == NULL)
		return;
	/* peer_hub_close ran: every connection's done was called; closing
	 * the runner reports what still runs cancelled, which frees it */
	runner_close(srv->runner);
	srv->runner = NULL;
	while (srv->jobs != NULL)
		job_free(srv->jobs);
	free(srv);
	a->saveimg = NULL;
}
