/* `agentctl --relay`: the SAN node's end of a forwarded request
 * (agent/ctl_forward.h).  xenmeshd spawns it with the request's wire frame
 * on stdin; it hands the frame to the local xenmeshd as any agentctl call
 * and prints the answer's wire frame on stdout.  Whatever goes wrong is
 * printed as an answer too (result < 0 and a message), so the client on
 * the other node reads why; the exit status is 1 only when nothing could
 * be printed.  Not for people: it reads and writes protobuf. */
#ifndef XM_CTL_RELAY_H
#define XM_CTL_RELAY_H

#include <stdbool.h>

bool ctl_relay_wants(int argc, char *argv[]);
int ctl_relay_main(void);

#endif
