/* xenmeshd configuration file (/etc/xenmesh/xenmesh.conf).
 *
 * INI syntax: [section], key = value, comments start with # or ;.  Values
 * may be double-quoted.  Every unknown section or key, duplicate key and
 * bad value is an error reported as "FILE:LINE: message".
 */
#ifndef XM_CONFIG_H
#define XM_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "state.h"

#define XM_CONFIG_DEFAULT "/etc/xenmesh/xenmesh.conf"
#define XM_GROUP_MAX 64
#define XM_ALERT_PROGRAMS_MAX 8

struct xm_config {
	char path[PATH_MAX];
	/* [node] */
	enum node_role role;            /* role = dom0 | san (required) */
	uint64_t mem_total_mb;          /* memory = MB; 0: ask the hypervisor */
	/* [paths] */
	char state_dir[PATH_MAX];       /* default /var/lib/xenmesh */
	char run_dir[PATH_MAX];         /* default /run/xenmesh */
	/* [log] */
	int log_level;                  /* syslog priority; level = error|warning|notice|info|debug */
	int log_to_stderr;              /* stderr = yes|no, default no */
	/* [ipc] */
	char read_group[XM_GROUP_MAX];  /* read_group = NAME, default "" (root only) */
	char admin_group[XM_GROUP_MAX]; /* admin_group = NAME, default "" (root only) */
	/* [cluster] */
	char cpg_group[64];             /* group = NAME, default "xenmesh" */
	char corosync_conf[PATH_MAX];   /* corosync_conf = PATH that `node add`
					 * rewrites, default /etc/corosync/corosync.conf */
	/* [hypervisor] */
	char hv_driver[8];              /* driver = xl | proc, default xl */
	char hv_guest[PATH_MAX];        /* guest = PATH (proc), default /usr/lib/xenmesh/guest */
	char hv_migration[12];          /* migration = live | stop-copy (xl), default live */
	uint64_t dom0_reserve_mb;       /* reserve = MB kept for dom0, default 0 */
	/* [fencing] */
	char watchdog[8];               /* watchdog = kernel | rig | none, default kernel */
	char watchdog_path[PATH_MAX];   /* watchdog_path = PATH: device or rig socket,
					 * default /dev/watchdog */
	uint64_t watchdog_timeout_s;    /* watchdog_timeout = S, 0: the device's own */
	/* [storage] (storage/README in the source: which node uses what) */
	char iqn_prefix[128];           /* iqn_prefix, default iqn.2026-11.org.xenmesh */
	char portal[64];                /* portal = ADDR[:PORT] the SAN floats; "" none */
	uint64_t portal_prefix;         /* SAN: prefix length of the address, default 24 */
	char portal_dev[32];            /* SAN: interface that carries it */
	char backend[8];                /* SAN: file | lvm, default lvm */
	char volume_dir[PATH_MAX];      /* SAN file backend, default /var/lib/xenmesh/volumes */
	char template_dir[PATH_MAX];    /* SAN: vm create's templates, default /var/lib/xenmesh/templates */
	char vg[128];                   /* SAN lvm backend: the volume group */
	char backup_dir[PATH_MAX];      /* SAN: vm backup's DEST, default /var/lib/xenmesh/backups */
	uint64_t backup_snapshot_percent; /* SAN lvm: snapshot size, % of the origin, default 20 */
	int no_devmapper;               /* SAN lvm: yes = --driverloaded n (tests) */
	char mirror[8];                 /* SAN: none | drbd, default drbd */
	char drbd_nodes[256];           /* SAN drbd: "NAME=ADDR NAME=ADDR" (uname, replication address) */
	uint64_t drbd_version;          /* SAN drbd: 84 (Debian's module) or 9 */
	char split_brain[80];           /* SAN drbd: who loses a split brain, default disconnect */
	uint64_t tgt_control_port;      /* SAN: tgtd's control port, default 0 */
	uint64_t replacement_timeout_s; /* dom0: how long a lost portal is awaited, default 120 */
	/* [metrics] */
	char metrics_listen[64];        /* listen = ADDR:PORT of /metrics, default "" (off) */
	/* [node] */
	char cpu_class[64];             /* cpu_class = WORD, default "" (read /proc/cpuinfo) */
	char shutdown_policy[8];        /* shutdown_policy = migrate | stop | refuse */
	/* [peer] */
	char peer_listen[64];           /* listen = ADDR:PORT, default "" (no live migration) */
	char peer_key_file[PATH_MAX];   /* key_file = PATH, default /etc/xenmesh/authkey */
	/* [alerts] */
	char alert_programs[XM_ALERT_PROGRAMS_MAX][PATH_MAX]; /* program = PATH, may repeat */
	unsigned n_alert_programs;
	uint64_t alert_timeout_s;       /* timeout = S, default 30 */
};

void config_defaults(struct xm_config *cfg);
/* 0 or negative errno; err gets "FILE:LINE: message" (or "FILE: strerror"). */
int config_load(const char *path, struct xm_config *cfg, char *err, size_t errlen);

#endif
