/* libFuzzer target: bytes -> the state file loader (agent/persist.h
 * persist_load), through a real file state.bin in a private directory.
 *
 * Input: one mode byte, then the file.  Mode bit 0 set: the harness
 * rewrites the header (magic, length, BLAKE2b) to match the rest, so the
 * fuzzer also reaches the payload checks behind the checksum. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "persist.h"

#define HDR_LEN (8 + 4 + 32)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[128];

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s;
	char why[256];
	uint8_t hdr[HDR_LEN];
	int fd;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-persist.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/%s", dir, PERSIST_FILE);
		if (sodium_init() < 0)
			abort();
	}
	if (size < 1)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if ((data[0] & 1) && size - 1 >= HDR_LEN) {
		const uint8_t *pl = data + 1 + HDR_LEN;
		size_t plen = size - 1 - HDR_LEN;

		memcpy(hdr, "XMSTATE1", 8);
		hdr[8] = (uint8_t)(plen >> 24);
		hdr[9] = (uint8_t)(plen >> 16);
		hdr[10] = (uint8_t)(plen >> 8);
		hdr[11] = (uint8_t)plen;
		crypto_generichash(hdr + 12, 32, pl, plen, NULL, 0);
		write_all(fd, hdr, HDR_LEN);
		write_all(fd, pl, plen);
	} else {
		write_all(fd, data + 1, size - 1);
	}
	close(fd);

	state_init(&s);
	(void)persist_load(dir, &s, why, sizeof(why));
	state_free(&s);
	return 0;
}
