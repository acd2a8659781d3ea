/* peer-probe: a test tool for the rig, dialing an agent's peer channel.
 *
 *   peer-probe --key FILE [--hello TEXT] [--timeout MS] ADDR PORT
 *       dials with that key and sends hello; if accepted, stdin goes
 *       through the splice and what comes back is written to stdout.
 *   peer-probe --garbage ADDR PORT
 *       sends random bytes instead of a handshake and checks the acceptor
 *       closes without sending more than its first handshake message.
 *
 * exit status: 0 accepted and completed (or, --garbage, nothing got
 * through), 3 authentication refused (--garbage: closed as it should be),
 * 4 refused by the acceptor (its reason on stderr), 1 other failure,
 * 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netdb.h>
#include <qb/qbloop.h>
#include <sodium.h>

#include "peer.h"

#define GARBAGE_BYTES   4096
#define FIRST_MSG_MAX   40      /* the acceptor's M2: magic, version, nonce */

struct probe {
	qb_loop_t *loop;
	bool done;
	int rc;
	char why[PEER_WHY_MAX];
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: peer-probe --key FILE [--hello TEXT] [--timeout MS] ADDR PORT\n"
		"       peer-probe --garbage ADDR PORT\n"
		"\n"
		"Dials a xenmeshd peer channel with the cluster key FILE and sends the\n"
		"hello TEXT; if accepted, stdin goes through the channel and what comes\n"
		"back goes to stdout.  --garbage sends random bytes instead of a\n"
		"handshake and expects to be closed.\n"
		"\n"
		"exit status:\n"
		"  0 accepted and completed\n"
		"  1 other failure\n"
		"  2 usage error\n"
		"  3 authentication refused (--garbage: closed without an answer)\n"
		"  4 refused by the acceptor (its reason on stderr)\n");
}

/* ---- --garbage ------------------------------------------------------------- */

static int
garbage(const char *addr, const char *port, int timeout_ms)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	unsigned char buf[GARBAGE_BYTES];
	size_t got = 0;
	int fd, rc = 1;

	if (getaddrinfo(addr, port, &hints, &ai) != 0 || ai == NULL) {
		fprintf(stderr, "peer-probe: bad address %s port %s\n", addr, port);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "peer-probe: connect to %s port %s: %s\n", addr, port,
			strerror(errno));
		goto out;
	}
	randombytes_buf(buf, sizeof(buf));
	buf[0] = 'x';                   /* never the magic */
	if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0 && errno != ECONNRESET &&
	    errno != EPIPE) {
		fprintf(stderr, "peer-probe: send: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0) {
			fprintf(stderr, "peer-probe: the acceptor kept the connection "
				"open for %d ms after garbage\n", timeout_ms);
			goto out;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;                  /* EOF or reset: closed */
	}
	if (got > FIRST_MSG_MAX) {
		fprintf(stderr, "peer-probe: the acceptor sent %zu bytes after "
			"garbage\n", got);
		goto out;
	}
	rc = 3;
out:
	if (fd >= 0)
		(void)close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* ---- a real dial --------------------------------------------------------------- */

static void *
stdin_to(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR)) {
		for (ssize_t off = 0; n > 0 && off < n;) {
			ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return NULL;
			off += w;
		}
	}
	(void)shutdown(fd, SHUT_WR);
	return NULL;
}

static void *
to_stdout(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t off = 0; n > 0 && off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return NULL;
			off += w;
		}
	}
	return NULL;
}

static void
probe_done(void *arg, int rc, const char *why)
{
	struct probe *pr = arg;

	pr->done = true;
	pr->rc = rc;
	(void)snprintf(pr->why, sizeof(pr->why), "%s", why != NULL ? why : "");
	qb_loop_stop(pr->loop);
}

static int
dial(const char *keyfile, const char *hello, const char *addr, uint16_t port,
     unsigned timeout_ms)
{
	struct peer_config cfg = { .handshake_timeout_ms = timeout_ms };
	struct probe pr = { .rc = 0 };
	struct peer *p = NULL;
	pthread_t tin, tout;
	char err[512];
	int sp[2], rc, ret = 1;

	rc = peer_key_load(keyfile, cfg.key, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "peer-probe: %s\n", err);
		return 1;
	}
	pr.loop = qb_loop_create();
	if (pr.loop == NULL)
		return 1;
	rc = peer_open(&p, pr.loop, &cfg, NULL, NULL);
	sodium_memzero(cfg.key, sizeof(cfg.key));
	if (rc < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		fprintf(stderr, "peer-probe: cannot set up: %s\n",
			strerror(rc < 0 ? -rc : errno));
		goto out_loop;
	}
	rc = peer_dial(p, addr, port, hello, strlen(hello), sp[1], probe_done, &pr, NULL);
	if (rc < 0) {
		fprintf(stderr, "peer-probe: cannot dial %s port %u: %s\n", addr, port,
			strerror(-rc));
		ret = rc == -EINVAL ? 2 : 1;
		goto out_loop;
	}
	if (pthread_create(&tin, NULL, stdin_to, &sp[0]) != 0 ||
	    pthread_create(&tout, NULL, to_stdout, &sp[0]) != 0) {
		fprintf(stderr, "peer-probe: cannot start threads\n");
		goto out_loop;
	}
	qb_loop_run(pr.loop);
	if (pr.rc == 0 && pr.done) {
		(void)pthread_join(tin, NULL);
		(void)pthread_join(tout, NULL);
		ret = 0;
		goto out_loop;
	}
	/* the threads may block on stdin: they end with the process */
	(void)shutdown(sp[0], SHUT_RDWR);
	fprintf(stderr, "peer-probe: %s\n", pr.done ? pr.why : "the loop stopped early");
	if (pr.rc == -EACCES)
		ret = 3;
	else if (pr.rc == -EPERM)
		ret = 4;
out_loop:
	peer_close(p);
	qb_loop_destroy(pr.loop);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "hello", required_argument, NULL, 'H' },
		{ "garbage", no_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *hello = "peer-probe";
	unsigned long port, timeout = 10000;
	bool garb = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "k:H:gt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'H':
			hello = optarg;
			break;
		case 'g':
			garb = true;
			break;
		case 't':
			timeout = strtoul(optarg, &end, 10);
			if (*end != '\0' || timeout == 0 || timeout > 3600000) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2 || (key == NULL && !garb)) {
		usage(stderr);
		return 2;
	}
	port = strtoul(argv[optind + 1], &end, 10);
	if (*end != '\0' || port == 0 || port > 65535) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (garb)
		return garbage(argv[optind], argv[optind + 1], (int)timeout);
	return dial(key, hello, argv[optind], (uint16_t)port, (unsigned)timeout);
}
