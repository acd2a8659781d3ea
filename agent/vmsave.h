/* `agentctl vm save` and resume: a domain's libxl save image (the driver's
 * migration stream) kept on the VM's save volume VM-save on the SAN, so
 * that any host can resume it.
 *
 * The host streams it over the peer channel to the active SAN node, which
 * runs xenmesh-saveimg(8) on the volume's device with the connection as
 * the program's stdin and stdout:
 *   save:    hello "xenmesh-save 1 VM GEN FROM"; host -> SAN the image,
 *            then end; SAN -> host "saved VM GEN LENGTH SHA256\n" once it
 *            is synced on the device, then end.
 *   resume:  hello "xenmesh-resume 1 VM SAVED_GEN GEN FROM"; SAN -> host
 *            the image, then end; an abort instead when its sha256 is
 *            not the one saved (checked as it is sent).
 * The SAN node takes a hello only when the replicated state agrees: the
 * VM stopping with save_requested at GEN on FROM, or starting at GEN on
 * FROM with saved_gen SAVED_GEN.  A failure of the program aborts the
 * connection, so a clean end means it succeeded.
 */
#ifndef XM_VMSAVE_H
#define XM_VMSAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAVE_HELLO_WORD         "xenmesh-save"
#define RESUME_HELLO_WORD       "xenmesh-resume"
#define SAVEIMG_PROTO_VERSION   1
/* room on the save volume beyond the VM's memory: libxl's stream carries
 * page tables, device state and headers */
#define SAVE_VOLUME_EXTRA_MB    64

struct agent;
struct peer_conn;

/* agent/san_saveimg.c: the peer hub's accept for either hello. */
int saveimg_accept(struct agent *a, struct peer_conn *c, const char *from_addr,
		   const uint8_t *hello, size_t len, int *fd,
		   void (**done)(void *, int, const char *), void **done_arg,
		   char *why, size_t whylen);
/* After peer_hub_close: kill what still runs, free. */
void saveimg_stop(struct agent *a);

#endif
