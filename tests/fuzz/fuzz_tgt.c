/* libFuzzer target: bytes -> tgt_show_parse (storage/tgt.h), the output of
 * `tgtadm --lld iscsi --mode target --op show`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tgt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tgt_view v;
	char why[512];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&v, 0, sizeof(v));
	if (tgt_show_parse(text, &v, why, sizeof(why)) == 0)
		(void)tgt_view_mentions(&v, "iqn.2026-11.org.xenmesh:h1");
	tgt_view_free(&v);
	free(text);
	return 0;
}
