/* The replicated cluster state: node table and VM table.
 *
 * Pure data and rules, no I/O.  Every member holds one copy; the copies
 * stay equal because every change is an Op applied in CPG delivery order,
 * stamped (epoch, seq) by the coordinator.  The packed form (state_pack)
 * is deterministic, so equal states have equal digests.
 */
#ifndef XM_STATE_H
#define XM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "restart.h"
#include "vmconf.h"
#include "xenmesh.pb-c.h"

#define STATE_MAX_NODES   64
#define STATE_NAME_MAX    64
#define STATE_DIGEST_LEN  32

enum node_role {
	NODE_ROLE_DOM0 = XENMESH__NODE_ROLE__ROLE_DOM0,
	NODE_ROLE_SAN = XENMESH__NODE_ROLE__ROLE_SAN,
};

enum node_state {
	NODE_STATE_ONLINE = XENMESH__NODE_STATE__NODE_ONLINE,
	NODE_STATE_OFFLINE = XENMESH__NODE_STATE__NODE_OFFLINE,
	NODE_STATE_UNCLEAN = XENMESH__NODE_STATE__NODE_UNCLEAN,
	NODE_STATE_FENCED = XENMESH__NODE_STATE__NODE_FENCED,
};

#define NODE_FLAG_MAINTENANCE XENMESH__NODE_FLAG__FLAG_MAINTENANCE
#define NODE_FLAG_STANDBY     XENMESH__NODE_FLAG__FLAG_STANDBY
/* Set and cleared by the coordinator only (storage fence), never by an admin. */
#define NODE_FLAG_STORAGE_FENCED XENMESH__NODE_FLAG__FLAG_STORAGE_FENCED
/* A drain is under way (with maintenance); cleared when it is done. */
#define NODE_FLAG_DRAINING    XENMESH__NODE_FLAG__FLAG_DRAINING
/* Drained and stopping (prepare-shutdown); cleared when online again. */
#define NODE_FLAG_LEAVING     XENMESH__NODE_FLAG__FLAG_LEAVING
/* Unclean because only its agent left the group; goes with the state
 * (OpNodeState agent_down), never through OpNodeFlags. */
#define NODE_FLAG_AGENT_DOWN  XENMESH__NODE_FLAG__FLAG_AGENT_DOWN
/* what an admin's OpNodeFlags may set or clear */
#define NODE_FLAGS_SETTABLE   (NODE_FLAG_MAINTENANCE | NODE_FLAG_STANDBY | \
			       NODE_FLAG_STORAGE_FENCED | NODE_FLAG_DRAINING | \
			       NODE_FLAG_LEAVING)
#define NODE_FLAGS_ALL        (NODE_FLAGS_SETTABLE | NODE_FLAG_AGENT_DOWN)
#define NODE_CPU_MAX          64
#define NODE_PEER_ADDR_MAX    64        /* "ADDR:PORT" or "[ADDR]:PORT" */
#define DRAIN_PARALLEL_MAX    64
#define NODE_NOTE_MAX         160       /* fence_note, with its NUL */

struct node_rec {
	uint32_t id;
	char name[STATE_NAME_MAX];
	enum node_role role;
	enum node_state state;
	uint32_t flags;
	uint64_t mem_total_mb;
	uint64_t mem_free_mb;
	uint32_t watchdog_s;    /* its watchdog timeout (for the deadline W), 0 none */
	char cpu[NODE_CPU_MAX]; /* CPU compatibility class, "" unknown */
	char peer_addr[NODE_PEER_ADDR_MAX];     /* its peer channel, "" none */
	uint32_t drain_parallel;        /* draining: migrations at once */
	bool drain_force;               /* draining: shut down the unplaceable */
	char fence_note[NODE_NOTE_MAX]; /* fenced on an admin's word: who;
					 * unclean and unfenceable: why
					 * (ha/confirm.c); "" otherwise */
};

/* VM states, named exactly as ARCHITECTURE.md lists them. */
enum vm_state {
	VM_STATE_STOPPED = 1,
	VM_STATE_STARTING,
	VM_STATE_RUNNING,
	VM_STATE_STOPPING,
	VM_STATE_MIGRATING,
	VM_STATE_RECOVERING,    /* its host is unclean; waits for the fence */
	VM_STATE_FAILED,        /* restart limit hit or start failed everywhere */
	VM_STATE_UNPLACEABLE,   /* no host fits; reason says why */
};

#define VM_REASON_MAX 192

struct vm_rec {
	char name[STATE_NAME_MAX];
	enum vm_state state;
	uint32_t host;          /* where it runs or is being started; 0 none */
	uint64_t generation;    /* instance counter, bumped at every start */
	bool want_running;      /* the admin's wish */
	uint32_t want_host;     /* `vm start --on`, 0 any */
	uint32_t avoid_host;    /* restart elsewhere than here, 0 none */
	uint64_t memory_mb;
	struct vm_ha ha;
	char *config;           /* xl.cfg text, malloc'd, never NULL once defined */
	/* Derived from config, set with it (vmmac_derive): the mac= of
	 * its vifs that give one, in vif order.  Neither packed nor
	 * digested: unpacking derives it again from the text. */
	uint64_t macs[VM_MAX_VIFS];
	uint8_t n_macs;
	struct restart_history restarts;
	uint32_t restarts_total;
	char reason[VM_REASON_MAX];
	uint64_t storage_gen;   /* generation its target admits (per-VM fence) */
	uint32_t storage_dest;  /* with storage_gen: the target also admits
				 * this host (a migration's destination) */
	uint32_t migrate_to;    /* migrating: the destination */
	bool migrate_offline;   /* migrating: stop here, then start there */
	uint64_t migrate_since_ms;      /* coordinator's wall clock at its start */
	uint32_t drain_skip;    /* the drain of this host leaves it there */
	/* `vm save` (agent/vmsave.c): stopping means saving the domain into
	 * the save volume VM-save; cleared when it leaves stopping */
	bool save_requested;
	/* that volume holds the image of this generation (and its length):
	 * a start resumes from it; cleared once the VM may run again from
	 * anywhere (running, recovering, migrating) */
	uint64_t saved_gen;
	uint64_t saved_bytes;
};

/* The save volume of a VM: VM-save (agent/vmsave.c). */
#define VM_SAVE_DISK    "save"


/* SAN volumes: one per VM disk (ha/voltable.c). */
#define VOL_MAX_PER_VM  15              /* LUN 1..15 of the VM's target */
#define VOL_DISK_MAX    24
#define VOL_NAME_MAX    STATE_NAME_MAX  /* VM-DISK */

enum vol_state {
	VOL_STATE_CREATING = 1,
	VOL_STATE_READY,
	VOL_STATE_FAILED,
	VOL_STATE_REMOVING,
};

struct vol_rec {
	char name[VOL_NAME_MAX];
	char vm[STATE_NAME_MAX];
	char disk[VOL_DISK_MAX];
	uint64_t size_bytes;
	uint32_t lun;
	uint32_t minor;                 /* DRBD minor, unique in the cluster */
	enum vol_state state;
	char reason[VM_REASON_MAX];
};

/* A node of corosync's nodelist (see agent/corosync_conf.h). */
#define CS_LINKS_MAX    8
#define CS_ADDR_MAX     64
struct cs_node {
	uint32_t nodeid;
	uint32_t votes;
	char name[STATE_NAME_MAX];
	unsigned n_addrs;
	char addrs[CS_LINKS_MAX][CS_ADDR_MAX];
};

struct state {
	uint64_t epoch;
	uint64_t seq;
	size_t n_nodes;
	struct node_rec nodes[STATE_MAX_NODES];  /* sorted by id */
	size_t n_vms;
	struct vm_rec *vms;                      /* sorted by name */
	size_t vms_cap;
	char *fence_config;     /* fence chains (fencing/chain.h syntax), NULL none */
	size_t n_vols;
	struct vol_rec *vols;                    /* sorted by name */
	size_t vols_cap;
	uint32_t active_san;    /* SAN node exporting the targets, 0 none */
	bool frozen;            /* cluster maintenance: no recovery, fencing
				 * or placement until it is turned off */
	/* corosync's nodelist as `node add|forget` made it (ha/nodetable.c),
	 * sorted by nodeid; version 0 (and no list): never changed */
	uint64_t nodelist_version;
	size_t n_nodelist;
	struct cs_node *nodelist;               /* malloc'd, STATE_MAX_NODES */
};

void state_init(struct state *s);
void state_free(struct state *s);          /* accepts a zeroed state */
int state_copy(struct state *dst, const struct state *src);

const struct node_rec *state_node(const struct state *s, uint32_t id);
const struct node_rec *state_node_by_name(const struct state *s, const char *name);

/*
 * Would op be accepted?  0, or a negative errno with a sentence in why
 * (e.g. -ENOENT "no node named h9").  The coordinator calls this before
 * it commits; state_apply() calls it again so that a bad op delivered by
 * a buggy or hostile peer changes nothing.
 */
int state_validate(const struct state *s, const Xenmesh__Op *op,
		   char *why, size_t whylen);

/*
 * Is (epoch, seq) the next update for s?  0 when epoch >= s->epoch and
 * seq == s->seq + 1; XM_ESTALE otherwise (replayed, reordered or from an
 * older coordinator).
 */
int state_check_order(const struct state *s, uint64_t epoch, uint64_t seq);

/* Validate, then apply op and set (epoch, seq).  On error s is unchanged. */
int state_apply(struct state *s, uint64_t epoch, uint64_t seq,
		const Xenmesh__Op *op, char *why, size_t whylen);

/* Deterministic encoding (packed Xenmesh__State).  *buf is malloc'd. */
int state_pack(const struct state *s, uint8_t **buf, size_t *len);
/* Decode and check ranges (roles, states, flags, names, sort order).
 * On error *s is left initialised and empty. */
int state_unpack(const uint8_t *buf, size_t len, struct state *s,
		 char *why, size_t whylen);

/* BLAKE2b-256 of the packed state. */
int state_digest(const struct state *s, uint8_t out[STATE_DIGEST_LEN]);

const struct vm_rec *state_vm(const struct state *s, const char *name);

const char *node_state_name(enum node_state st);   /* "online" ... */
const char *vm_state_name(enum vm_state st);       /* "stopped" ... */
int vm_state_parse(const char *name, enum vm_state *st);
const char *node_role_name(enum node_role r);      /* "dom0" | "san" */
int node_flag_parse(const char *name, uint32_t *flag);  /* "maintenance" */

const struct vol_rec *state_vol(const struct state *s, const char *name);
const char *vol_state_name(enum vol_state st);     /* "creating" ... */
/* Does the VM have volumes (so its instances wait for the SAN's per-VM
 * storage fence before they start)? */
bool state_vm_has_volumes(const struct state *s, const char *vm);

#endif
