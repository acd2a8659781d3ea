/* The agent's one peer channel, shared by its users; see peer_hub.h. */
#define LOG_SUBSYS "peer"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "ctl_forward.h"
#include "log.h"
#include "peer.h"
#include "peer_hub.h"
#include "vmhost.h"
#include "vmsave.h"
#include "xm_error.h"

int
peer_hub_addr_split(const char *s, char *addr, size_t len, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *a = s, *e = colon;
	char *end;
	unsigned long p;

	if (colon == NULL)
		return -EINVAL;
	if (s[0] == '[') {
		a = s + 1;
		if (colon == s || colon[-1] != ']')
			return -EINVAL;
		e = colon - 1;
	}
	if (e <= a || (size_t)(e - a) >= len)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || p == 0 || p > 65535)
		return -EINVAL;
	snprintf(addr, len, "%.*s", (int)(e - a), a);
	*port = (uint16_t)p;
	return 0;
}

/* The hello's first word, up to its first space. */
static bool
hello_is(const uint8_t *hello, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len > n && memcmp(hello, word, n) == 0 && hello[n] == ' ';
}

static int
hub_accept(void *arg, struct peer_conn *c, const char *from_addr,
	   const uint8_t *hello, size_t len, int *fd,
	   void (**done)(void *, int, const char *), void **done_arg,
	   char *why, size_t whylen)
{
	struct agent *a = arg;

	if (hello_is(hello, len, MIGRATE_HELLO_WORD)) {
		if (a->vh == NULL) {
			snprintf(why, whylen, "%s has no hypervisor driver open: it "
				 "sends no VM", a->node_name);
			log_warn("migration request from %s refused: %s", from_addr, why);
			return -ENODEV;
		}
		return migrate_accept(a->vh, c, from_addr, hello, len, fd, done,
				      done_arg, why, whylen);
	}
	if (hello_is(hello, len, SAVE_HELLO_WORD) || hello_is(hello, len, RESUME_HELLO_WORD))
		return saveimg_accept(a, c, from_addr, hello, len, fd, done, done_arg,
				      why, whylen);
	if (hello_is(hello, len, CTL_FORWARD_HELLO_WORD))
		return ctl_forward_accept(a, c, from_addr, hello, len, fd, done,
					  done_arg, why, whylen);
	snprintf(why, whylen, "unknown request on the peer channel");
	log_warn("peer channel: %s from %s, refused", why, from_addr);
	return -EPROTONOSUPPORT;
}

/* One try; why says what failed. */
static int
hub_open(struct agent *a, char *why, size_t whylen)
{
	struct peer_hooks hooks = { .accept = hub_accept };
	struct peer_config pc;
	char addr[64], err[256];
	uint16_t port = 0;
	int rc;

	memset(&pc, 0, sizeof(pc));
	rc = peer_hub_addr_split(a->cfg.peer_listen, addr, sizeof(addr), &port);
	if (rc < 0) {
		snprintf(why, whylen, "[peer] listen %s: not ADDR:PORT", a->cfg.peer_listen);
		return rc;
	}
	rc = peer_key_load(a->cfg.peer_key_file, pc.key, err, sizeof(err));
	if (rc < 0) {
		snprintf(why, whylen, "%s", err);
		return rc;
	}
	pc.listen_addr = addr;
	pc.port = port;
	rc = peer_open(&a->peer, a->loop, &pc, &hooks, a);
	sodium_memzero(pc.key, sizeof(pc.key));
	if (rc < 0) {
		snprintf(why, whylen, "on %s: %s", a->cfg.peer_listen, xm_strerror(rc));
		a->peer = NULL;
	}
	return rc;
}

static void
retry_fn(void *data)
{
	struct agent *a = data;

	a->peer_retry = 0;
	(void)peer_hub_open(a);
}

int
peer_hub_open(struct agent *a)
{
	char why[320];
	int rc;

	if (a->peer != NULL)
		return 0;
	if (a->cfg.peer_listen[0] == '\0') {
		log_notice("no [peer] listen: no live migration to or from this "
			   "node, and no agentctl request forwarded to or from it");
		return 0;
	}
	rc = hub_open(a, why, sizeof(why));
	if (rc == 0) {
		log_notice("peer channel listening on %s%s", a->cfg.peer_listen,
			   a->peer_failed ? " (at last)" : "");
		a->peer_failed = false;
		return 0;
	}
	/* an address not up yet at boot, a key not there yet: the channel
	 * opens when it can; meanwhile migrations, saves and forwarded
	 * requests to or from here fail and say so */
	if (!a->peer_failed)
		log_err("peer channel: %s; trying again every %d s", why,
			PEER_HUB_RETRY_MS / 1000);
	else
		log_debug("peer channel: %s", why);
	a->peer_failed = true;
	if (a->peer_retry == 0 &&
	    qb_loop_timer_add(a->loop, QB_LOOP_LOW,
			      PEER_HUB_RETRY_MS * QB_TIME_NS_IN_MSEC, a, retry_fn,
			      &a->peer_retry) != 0)
		a->peer_retry = 0;
	return rc;
}

void
peer_hub_close(struct agent *a)
{
	if (a->peer_retry != 0)
		(void)qb_loop_timer_del(a->loop, a->peer_retry);
	a->peer_retry = 0;
	peer_close(a->peer);
	a->peer = NULL;
}
