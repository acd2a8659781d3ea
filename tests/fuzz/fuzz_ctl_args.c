/* libFuzzer target: bytes -> ctl_args_parse (agent/ctl_args.h).  The
 * input is split into argv words at NUL, newline and space bytes (runs of
 * separators give empty words only for NUL, as a shell could pass ""). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_args out;
	char *argv[MAX_WORDS + 2];
	char err[512];
	char *text;
	int argc = 0;
	size_t i = 0;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	argv[argc++] = (char *)"agentctl";
	while (i <= size && argc < MAX_WORDS + 1) {
		size_t start = i;

		while (i < size && text[i] != '\0' && text[i] != '\n' && text[i] != ' ')
			i++;
		if (i > start || (i < size && text[i] == '\0'))
			argv[argc++] = text + start;
		text[i] = '\0';
		i++;
	}
	argv[argc] = NULL;
	memset(&out, 0, sizeof(out));
	(void)ctl_args_parse(argc, argv, &out, err, sizeof(err));
	free(text);
	return 0;
}
