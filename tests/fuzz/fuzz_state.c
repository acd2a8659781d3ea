/* libFuzzer target: bytes -> state_unpack (ha/state.h), the payload of the
 * state file and of a sync snapshot.  What unpacks must pack again and
 * unpack to the same digest (the encoding is deterministic). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s, again;
	uint8_t d1[STATE_DIGEST_LEN], d2[STATE_DIGEST_LEN];
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256];

	state_init(&s);
	if (state_unpack(data, size, &s, why, sizeof(why)) == 0) {
		if (state_pack(&s, &buf, &len) == 0) {
			state_init(&again);
			if (state_unpack(buf, len, &again, why, sizeof(why)) != 0)
				abort();        /* packed state refused by unpack */
			if (state_digest(&s, d1) != 0 || state_digest(&again, d2) != 0 ||
			    memcmp(d1, d2, sizeof(d1)) != 0)
				abort();        /* not deterministic */
			state_free(&again);
			free(buf);
		}
	}
	state_free(&s);
	return 0;
}
