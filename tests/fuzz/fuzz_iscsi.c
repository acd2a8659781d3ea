/* libFuzzer target: bytes -> iscsi_session_parse (storage/iscsi.h), the
 * output of `iscsiadm -m session`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_session *s = NULL;
	size_t n = 0;
	char why[512];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (iscsi_session_parse(text, &s, &n, why, sizeof(why)) == 0)
		free(s);
	free(text);
	return 0;
}
