/* Options of agentctl's commands that take a value, as "--opt VALUE" or
 * "--opt=VALUE" (the vm create and backup parsers). */
#ifndef XM_CLI_OPT_H
#define XM_CLI_OPT_H

#include <stddef.h>

/* Which of opts[0..n) arg is: its index, or n when none.  *inline_val
 * points after the '=' of "--opt=VALUE", NULL otherwise. */
size_t cli_value_opt(const char *arg, const char *const *opts, size_t n,
		     const char **inline_val);

#endif
