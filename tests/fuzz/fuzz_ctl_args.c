/* libFuzzer target: bytes -> ctl_args_parse (agent/ctl_args.h), and the
 * parsers agentctl hands vm create, template and backup lines to.  The
 * input is split into argv words at NUL, newline and space bytes (runs of
 * separators give empty words only for NUL, as a shell could pass ""). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"
#include "ctl_backup_cli.h"
#include "ctl_create_cli.h"

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
	if (ctl_create_cli_wants(argc, argv)) {
		struct create_args ca;

		memset(&ca, 0, sizeof(ca));
		(void)ctl_create_cli_parse(argc, argv, &ca, err, sizeof(err));
	}
	if (ctl_backup_cli_wants(argc, argv)) {
		struct backup_args ba;

		memset(&ba, 0, sizeof(ba));
		(void)ctl_backup_cli_parse(argc, argv, &ba, err, sizeof(err));
	}
	free(text);
	return 0;
}
