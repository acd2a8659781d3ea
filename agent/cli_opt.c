/* Options with values for agentctl's parsers (see cli_opt.h). */
#include <string.h>

#include "cli_opt.h"

size_t
cli_value_opt(const char *arg, const char *const *opts, size_t n,
	      const char **inline_val)
{
	*inline_val = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(opts[i]);

		if (strncmp(arg, opts[i], len) != 0)
			continue;
		if (arg[len] == '\0')
			return i;
		if (arg[len] == '=') {
			*inline_val = arg + len + 1;
			return i;
		}
	}
	return n;
}
