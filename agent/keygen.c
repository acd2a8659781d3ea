/* xenmesh-keygen: makes the cluster key of the peer channel (peer.h), like
 * corosync-keygen: random bytes in a root-only file, copied to every node.
 * Written atomically: a temporary file beside it, fsync, then rename (or
 * link, which cannot replace an existing key). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define KEYGEN_BYTES    64
#define KEYGEN_DEFAULT  "/etc/xenmesh/authkey"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: xenmesh-keygen [-f|--force] [-k|--key-file FILE]\n"
		"\n"
		"Writes a new cluster key for the peer channel of xenmeshd: %d random\n"
		"bytes, mode 0400, to FILE (default %s).  Copy the same\n"
		"file to every node ([peer] key_file in xenmesh.conf).\n"
		"\n"
		"options:\n"
		"  -f, --force          replace an existing key file (running agents\n"
		"                       keep the old key until restarted)\n"
		"  -k, --key-file FILE  where to write the key\n"
		"  -h, --help           this text\n"
		"\n"
		"exit status:\n"
		"  0 written\n"
		"  1 failed (the file exists, or a system error)\n"
		"  2 usage error\n", KEYGEN_BYTES, KEYGEN_DEFAULT);
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync of the directory, so that the new name survives a crash. */
static int
dir_sync(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	(void)snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	(void)close(fd);
	return rc;
}

static int
keygen(const char *path, bool force)
{
	unsigned char key[KEYGEN_BYTES];
	char tmp[PATH_MAX];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "xenmesh-keygen: %s: name too long\n", path);
		return -ENAMETOOLONG;
	}
	if (!force && access(path, F_OK) == 0) {
		fprintf(stderr, "xenmesh-keygen: %s exists already; --force replaces "
			"it (and then every node needs the new one)\n", path);
		return -EEXIST;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "xenmesh-keygen: cannot create a file beside %s: %s%s\n",
			path, strerror(-rc), rc == -ENOENT ? " (make its directory "
			"first, mode 0700)" : "");
		return rc;
	}
	randombytes_buf(key, sizeof(key));
	rc = fchmod(fd, 0400) < 0 ? -errno : 0;
	if (rc == 0)
		rc = write_all(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		fprintf(stderr, "xenmesh-keygen: writing %s: %s\n", tmp, strerror(-rc));
		goto out_unlink;
	}
	if (force) {
		if (rename(tmp, path) < 0)
			rc = -errno;
	} else if (link(tmp, path) < 0) {
		/* link, not rename: an existing file is never replaced */
		rc = -errno;
	}
	if (rc < 0) {
		fprintf(stderr, "xenmesh-keygen: %s: %s%s\n", path, strerror(-rc),
			rc == -EEXIST ? " (--force replaces it)" : "");
		goto out_unlink;
	}
	if (!force)
		(void)unlink(tmp);
	rc = dir_sync(path);
	if (rc < 0)
		fprintf(stderr, "xenmesh-keygen: syncing the directory of %s: %s\n",
			path, strerror(-rc));
	return rc;

out_unlink:
	(void)unlink(tmp);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = KEYGEN_DEFAULT;
	bool force = false;
	int c;

	while ((c = getopt_long(argc, argv, "fk:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'k':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || path[0] == '\0') {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "xenmesh-keygen: libsodium does not start\n");
		return 1;
	}
	if (keygen(path, force) < 0)
		return 1;
	printf("xenmesh-keygen: wrote %s (%d bytes, mode 0400); copy it to every "
	       "node\n", path, KEYGEN_BYTES);
	return 0;
}
