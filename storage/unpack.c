/* xenmesh-unpack: a backup image (gzip) onto a volume, at most --limit
 * bytes of it, never past the volume's end.
 *
 * vm restore writes each backed-up volume with it.  A volume under DRBD
 * ends with DRBD's internal metadata, which the backup (an LVM snapshot of
 * the backing volume) holds too; the restore writes only the data part
 * (--limit: the DRBD device's size when it was backed up) onto the new
 * DRBD device, so that the old metadata never lands anywhere.  Without
 * DRBD the limit is the whole volume.
 *
 * The target must exist (a block device, or a volume's backing file): it
 * is neither created nor truncated nor grown.  The image is checked
 * (sha256sum -c) before this runs; a gzip stream that ends early or is
 * corrupt is still an error here.  Exit 0 written and synced, 1 failed
 * (why on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "devsize.h"

#define CHUNK (1024 * 1024)

static void
usage(FILE *out)
{
	fprintf(out, "usage: xenmesh-unpack [--limit BYTES] IMAGE.gz TARGET\n"
		"Writes the uncompressed IMAGE.gz onto TARGET (an existing block "
		"device or file),\nat most BYTES of it, never past TARGET's end.\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xenmesh-unpack: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}


static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	uint64_t limit = UINT64_MAX, size = 0, done = 0;
	const char *image, *target;
	unsigned char *buf = NULL;
	gzFile gz = NULL;
	int fd = -1, status = 1, rc, i = 1;
	char *end;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "--limit") == 0) {
		errno = 0;
		limit = strtoull(argv[2], &end, 10);
		if (errno != 0 || end == argv[2] || *end != '\0' || argv[2][0] == '-' ||
		    limit == 0) {
			fprintf(stderr, "xenmesh-unpack: --limit %s: not a byte count\n",
				argv[2]);
			usage(stderr);
			return 2;
		}
		i = 3;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (argc - i != 2) {
		usage(stderr);
		return 2;
	}
	image = argv[i];
	target = argv[i + 1];
	fd = open(target, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("cannot open %s: %s", target, strerror(errno));
	rc = dev_size(fd, &size);
	if (rc < 0) {
		fail("%s: %s", target, rc == -ENOTBLK ? "neither a block device nor a "
		     "regular file" : strerror(-rc));
		goto out;
	}
	gz = gzopen(image, "rb");
	buf = malloc(CHUNK);
	if (gz == NULL || buf == NULL) {
		fail("cannot open %s: %s", image, gz == NULL ? strerror(errno) :
		     "out of memory");
		goto out;
	}
	(void)gzbuffer(gz, 256 * 1024);
	while (done < limit) {
		size_t want = limit - done < CHUNK ? (size_t)(limit - done) : CHUNK;
		int n = gzread(gz, buf, (unsigned)want);
		int zerr;

		if (n < 0) {
			const char *msg = gzerror(gz, &zerr);

			fail("%s is corrupt: %s", image, zerr == Z_ERRNO ?
			     strerror(errno) : msg);
			goto out;
		}
		if (n == 0) {
			/* the end: of the stream, or of a truncated file */
			(void)gzerror(gz, &zerr);
			if (!gzeof(gz) || zerr != Z_OK) {
				fail("%s ends early: it is truncated", image);
				goto out;
			}
			break;
		}
		if (done + (uint64_t)n > size) {
			fail("the image is larger than %s (%" PRIu64 " bytes): restore "
			     "onto a larger volume", target, size);
			goto out;
		}
		rc = write_all(fd, buf, (size_t)n);
		if (rc < 0) {
			fail("cannot write %s: %s", target, strerror(-rc));
			goto out;
		}
		done += (uint64_t)n;
	}
	/* read to its end: zlib tells a stream cut short only at the close */
	if (done < limit) {
		rc = gzclose_r(gz);
		gz = NULL;
		if (rc != Z_OK) {
			fail("%s ends early: it is truncated", image);
			goto out;
		}
	}
	if (fdatasync(fd) < 0) {
		fail("cannot sync %s: %s", target, strerror(errno));
		goto out;
	}
	printf("%" PRIu64 " bytes written to %s%s\n", done, target,
	       done == limit ? " (the limit)" : "");
	status = 0;
out:
	if (gz != NULL)
		(void)gzclose(gz);
	free(buf);
	if (fd >= 0 && close(fd) < 0 && status == 0) {
		fail("cannot close %s: %s", target, strerror(errno));
		status = 1;
	}
	return status;
}
