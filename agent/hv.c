/* The hypervisor drivers built into this xenmeshd. */
#include <string.h>

#include "hv.h"

static const struct hv_ops *const hv_drivers[] = {
	&hv_proc_ops,
	&hv_xl_ops,
};

const struct hv_ops *
hv_driver_find(const char *name)
{
	for (size_t i = 0; i < sizeof(hv_drivers) / sizeof(hv_drivers[0]); i++)
		if (strcmp(hv_drivers[i]->name, name) == 0)
			return hv_drivers[i];
	return NULL;
}
