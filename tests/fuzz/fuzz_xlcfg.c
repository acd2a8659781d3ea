/* libFuzzer target: bytes -> xlcfg_parse (agent/xlcfg.h), xl.cfg plus the
 * HA keys.  A config it accepts must pass vm_config_check. */
#include <stdint.h>
#include <stdlib.h>

#include "xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config c;
	char err[512];

	if (xlcfg_parse((const char *)data, size, "fuzz.cfg", &c, err,
			sizeof(err)) == 0 &&
	    vm_config_check(&c, err, sizeof(err)) != 0)
		abort();        /* accepted a config that breaks an invariant */
	return 0;
}
