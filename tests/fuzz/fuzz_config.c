/* libFuzzer target: bytes -> config_load (agent/config.h), read from a
 * memfd through its /proc/self/fd/N path. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mfd = -1;
static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xm_config cfg;
	char err[512];
	size_t off = 0;

	if (mfd < 0) {
		mfd = memfd_create("xenmesh.conf", 0);
		if (mfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	}
	if (ftruncate(mfd, 0) != 0 || lseek(mfd, 0, SEEK_SET) != 0)
		abort();
	while (off < size) {
		ssize_t w = write(mfd, data + off, size - off);

		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	(void)config_load(path, &cfg, err, sizeof(err));
	return 0;
}
