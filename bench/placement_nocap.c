/* ha/placement.c compiled once more with PLACEMENT_MAX_VMS raised and
 * nothing else changed, for the benchmarks that time placement beyond the
 * project's limit (xm-placement-nocap, xm-storm-nocap).  Linked before
 * libxmcore.a, its placement_plan and placement_admission are the ones
 * the whole program uses (ha/decide.c included), so the library's
 * placement.o is not pulled in.  Never part of xenmeshd.
 */
#include "placement.h"

#undef PLACEMENT_MAX_VMS
#define PLACEMENT_MAX_VMS (1 << 20)

#include "../ha/placement.c"
