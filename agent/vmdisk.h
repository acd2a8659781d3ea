/* A VM's SAN disks on this dom0.
 *
 * In xl.cfg a disk on a SAN volume names it by disk name:
 *     disk = [ 'vdev=xvda, access=rw, target=xenmesh:root' ]
 * is volume VM-root, LUN n of the VM's target "<iqn_prefix>:<vm>" behind
 * the SAN's floating portal.  Before the domain is created the target is
 * made reachable under this host's initiator name "<iqn_prefix>:<host>":
 *   - block drivers (xl): open-iscsi logs in (storage/iscsi.h) and the
 *     disk becomes phy:/dev/disk/by-path/ip-PORTAL-iscsi-IQN-lun-N;
 *   - the proc driver (rig): the test guest is its own initiator, the
 *     disk becomes iscsi://PORTAL/IQN/N.
 * Targets of VMs no longer here are logged out.
 */
#ifndef XM_VMDISK_H
#define XM_VMDISK_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"
#include "runner.h"
#include "vmconf.h"

/* How long after a login its /dev/disk/by-path devices may take to appear
 * (udev makes them after the kernel has scanned the new session). */
#define VMDISK_DEV_WAIT_MS 30000

struct vmdisk;

/* block: log in with iscsiadm (xl); else hand URLs to the guest. */
int vmdisk_open(struct vmdisk **out, struct agent *a, bool block);
/* The same with the runner given (taken over; tests pass a recorder). */
int vmdisk_open_runner(struct vmdisk **out, struct agent *a, bool block,
		       struct runner *r);
void vmdisk_close(struct vmdisk *d);

/* This host's initiator name, "" when it has none (a bad iqn_prefix or
 * host name: logged at open). */
const char *vmdisk_initiator(const struct vmdisk *d);

/* Tests: how vmdisk_prepare asks whether a logged-in target's device is
 * there (exists(path, arg)).  NULL restores the default: stat() follows
 * the by-path link to a block device (S_ISBLK), as Xen's block hotplug
 * script wants; a missing or dangling link is not there. */
void vmdisk_set_dev_probe(struct vmdisk *d, bool (*exists)(const char *path, void *arg),
			  void *arg);

/* Does cfg have a disk on a SAN volume? */
bool vmdisk_uses_san(const struct vm_config *cfg);

/*
 * Make cfg's SAN disks usable here for instance v: 0 ready, their targets
 * rewritten.  Otherwise cfg is left as it was, and:
 *   -EINPROGRESS  not yet, call again: a login runs (vmhost is kicked when
 *                 it ends), or (block) a device of the finished login has
 *                 not appeared yet (no kick: vmhost's periodic pass asks
 *                 again; up to VMDISK_DEV_WAIT_MS after the login);
 *   XM_EFENCED    the target refused this host although the cluster had
 *                 admitted it (this host has been fenced);
 *   -ENODEV       with why: logged in but a device did not appear within
 *                 VMDISK_DEV_WAIT_MS (udev);
 *   another negative errno with why (volume not ready, no portal, login
 *   failed).
 * A failed login and -ENODEV stay until a new generation of v.
 */
int vmdisk_prepare(struct vmdisk *d, const struct vm_rec *v,
		   struct vm_config *cfg, char *why, size_t whylen);

/* Log out of the targets of VMs that no longer run here. */
void vmdisk_release_unused(struct vmdisk *d, const char *const *running,
			   size_t n_running);

#endif
