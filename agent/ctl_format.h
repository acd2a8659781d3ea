/* What agentctl prints: the human views and the JSON of a CtlResponse.
 *
 * Pure: every function returns a malloc'd NUL-terminated text in *text
 * (the caller prints and frees it).  0, -EINVAL when the response lacks
 * what the view needs (e.g. no cluster view for status), -ENOMEM.
 * Names of states, roles and flags are those of ARCHITECTURE.md.
 */
#ifndef XM_CTL_FORMAT_H
#define XM_CTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenmesh.pb-c.h"

/* "agentctl status": like crm_mon -1, fits 80 columns; first, in cluster
 * maintenance (State.frozen), the banner "CLUSTER MAINTENANCE: no
 * recovery, fencing or placement until 'agentctl cluster maintenance
 * off'"; "Failover capacity: ok (any one host can fail)" or "Failover
 * capacity: NOT ok" and the hosts whose failure would leave VMs down, when
 * the agent says; the hosts with their flags ("maintenance,draining
 * (parallel 2)"); the VMs table as ctl_format_vms() and "Unmanaged domains
 * on this host: a, b" when the answer lists any.  now_ms: wall clock. */
int ctl_format_status(const Xenmesh__CtlResponse *r, uint64_t now_ms,
		      char **text);
/* {"cluster":{...},"maintenance":B,"admission":{"ok":B,"failing":[S]}|null,
 * "nodes":[...],"vms":[...],"unmanaged":[...],"storage":{...}} and a
 * newline; nodes {"name","id","role","state","flags":[S],"cpu" (S|null),
 * "drain_parallel" (N, null unless draining),"drain_force","mem_total_mb",
 * "mem_free_mb","member"}; VMs as ctl_format_vms_json(). */
int ctl_format_status_json(const Xenmesh__CtlResponse *r, char **text);

/* "agentctl node list": the hosts table alone, with their CPU class /
 * {"nodes":[...]}. */
int ctl_format_nodes(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_nodes_json(const Xenmesh__CtlResponse *r, char **text);

/*
 * One event, one line ending in a newline.  Human, in local time:
 *   "2026-11-22 18:40:01.123  [membership] e1/s5 h2: text"
 * JSON: {"id","time" (ISO 8601 UTC),"time_ms","epoch","seq","node" (name
 * or null for the cluster),"node_id","kind","text"}.  st (may be NULL)
 * gives node names.
 */
int ctl_format_event(const Xenmesh__Event *e, const Xenmesh__State *st,
		     char **text);
int ctl_format_event_json(const Xenmesh__Event *e, const Xenmesh__State *st,
			  char **text);

/* "agentctl vm list": the VMs table (NAME STATE HOST PRI RESTARTS
 * REASON, the reason cut to fit 80 columns; a migrating VM's reason is
 * "migrating h1 -> h2 (offline), 12 s", its age from now_ms) and the
 * unmanaged domains / {"vms":[...],"unmanaged":[...]}, VMs as in the
 * status JSON: {"name","state","host" (name|null),"priority","restarts"
 * (in total),"generation","reason" (string|null),"memory_mb","desired"
 * ("running"|"stopped"),"migrate_to" (name|null),"migrate_offline",
 * "migrate_since_ms" (coordinator's wall clock|null),"drain_skip" (the
 * host whose drain leaves it, name|null)}. */
int ctl_format_vms(const Xenmesh__CtlResponse *r, uint64_t now_ms, char **text);
int ctl_format_vms_json(const Xenmesh__CtlResponse *r, char **text);

/*
 * "agentctl vm show VM": everything in the record of the VM named, with
 * its xl.cfg text when the answer carries it.  now_ms (wall clock) counts
 * the restarts still in the window.  -ENOENT when there is no such VM.
 * JSON: {"name","state","host","generation","desired","want_host",
 * "avoid_host","memory_mb","priority","restart","max_restarts",
 * "restart_window_s","hosts","anti_affinity","start_after","restarts",
 * "restarts_in_window","restart_history":[{"time_ms","host"}],
 * "migrate_to","migrate_offline","migrate_since_ms","drain_skip" (as in
 * the VM list),"reason","config"}.  The human view has "Migrating: h1 ->
 * h2, 12 s" and "Drain: stays on h1 (its move failed)" when so.
 */
int ctl_format_vm(const Xenmesh__CtlResponse *r, const char *name,
		  uint64_t now_ms, char **text);
int ctl_format_vm_json(const Xenmesh__CtlResponse *r, const char *name,
		       uint64_t now_ms, char **text);

/* Outcome of a mutation: {"result":N,"message":S|null} and a newline. */
int ctl_format_result_json(const Xenmesh__CtlResponse *r, char **text);

/*
 * "agentctl fence history": the coordinator's fence steps when the node
 * that answered is the coordinator (ctl_format_fence_history_here), then
 * the "fence" events of that node's log, as ctl_format_event, indented.
 * JSON: {"coordinator" (name|null),"local","steps" ([S], null when not
 * kept by the node that answered),"events":[as ctl_format_event_json]}.
 */
int ctl_format_fence_history(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_fence_history_json(const Xenmesh__CtlResponse *r, char **text);
/* 1 when the node that answered is the coordinator, else 0. */
int ctl_format_fence_history_here(const Xenmesh__CtlResponse *r);

/* "agentctl fence config": the text with a final newline, or a comment
 * saying there is none / {"config":S|null}. */
int ctl_format_fence_config(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_fence_config_json(const Xenmesh__CtlResponse *r, char **text);

/* The VM and the node of that name in st, or NULL. */
const Xenmesh__Vm *ctl_format_find_vm(const Xenmesh__State *st, const char *name);
const Xenmesh__Node *ctl_format_find_node(const Xenmesh__State *st,
					  const char *name);

/* Name of node id in st, else "node<id>".  Returns buf or the name. */
const char *ctl_format_node_name(const Xenmesh__State *st, uint32_t id,
				 char *buf, size_t len);

/* agentctl volume list, storage status: text and JSON. */
int ctl_format_volumes(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_volumes_json(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_storage(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_storage_json(const Xenmesh__CtlResponse *r, char **text);

/* ---- planned maintenance (ctl_format_drain.c) ---- */

/*
 * The answer to `node drain HOST` (r->drain_plan, drain_ok, result):
 * "Drain plan of h1, in the order the VMs move:", a table VM ACTION
 * DESTINATION PRI REASON, then the verdict: "all 12 VMs can move live",
 * or "[refused: ]2 VMs cannot move live; --force would shut down db2,
 * web3 and move app1 offline" (force: "--force shuts down ... and moves
 * ... offline"), VMs that stay or wait named too.  "h1 runs no VMs:
 * nothing to move" for an empty plan.
 * JSON: {"event":"plan","host","result","message","ok","plan":[{"vm",
 * "action","dest","reason","priority"}]}.
 */
int ctl_format_drain_plan(const Xenmesh__CtlResponse *r, const char *host,
			  bool force, char **text);
int ctl_format_drain_plan_json(const Xenmesh__CtlResponse *r, const char *host,
			       char **text);
/* The plan moves every VM live (drain_ok; an older agent: every item is
 * migrate or moving). */
bool ctl_format_drain_plan_ok(const Xenmesh__CtlResponse *r);

/*
 * Following a drain (node drain --wait): the VMs of the plan (and any on
 * the host when it starts), compared from one status answer to the next.
 */
struct ctl_drain_watch;

enum ctl_drain_style {
	CTL_DRAIN_LINES = 1,    /* a line per change: "web1: migrating to h2",
				 * "web1: running on h2", "web3: stays on h1:
				 * REASON", "db2: stopped: REASON" */
	CTL_DRAIN_FINISHED,     /* the same, for the VMs done with only (a
				 * terminal, where the progress bar says the
				 * rest) */
	CTL_DRAIN_JSON,         /* an object per change: {"event":"migrating"|
				 * "moved"|"stays"|"stopping"|"down"|"back"|
				 * "gone","vm","host","dest","offline","state",
				 * "reason"} */
};

/* 0, -ENOMEM.  plan may be NULL (then: the VMs on host in st). */
int ctl_format_drain_watch_new(const char *host, const Xenmesh__CtlResponse *plan,
			       const Xenmesh__State *st,
			       struct ctl_drain_watch **out);
void ctl_format_drain_watch_free(struct ctl_drain_watch *w);   /* NULL ok */
/* What changed since the last call, as lines ("" when nothing); -ENOENT
 * when st has no such host. */
int ctl_format_drain_watch_update(struct ctl_drain_watch *w,
				  const Xenmesh__State *st,
				  enum ctl_drain_style style, char **text);
/* "draining h1 [#####---------------] 5/20 moved, 2 migrating, 1 stays"
 * (no newline), as of the last update. */
int ctl_format_drain_watch_progress(const struct ctl_drain_watch *w,
				    char **text);
/*
 * The end: "drain of h1 done: 10 of 12 VMs moved, 1 stopped, 1 left on h1",
 * the VMs moved (web1 -> h2), stopped, and those left on the host with
 * their state and reason (every VM of st on it); done false: "still
 * running".  *left: how many are left.  JSON: {"event":"summary","host",
 * "done","moved":[{"vm","host"}],"stopped":[S],"left":[{"vm","state",
 * "reason"}]}.
 */
int ctl_format_drain_watch_summary(const struct ctl_drain_watch *w,
				   const Xenmesh__State *st, bool done, bool json,
				   char **text, size_t *left);

/* Where `vm migrate VM HOST --wait` stands in st. */
enum ctl_migrate_outcome {
	CTL_MIGRATE_MOVING = 1, /* migrating, or started on HOST (offline) */
	CTL_MIGRATE_DONE,       /* runs on HOST */
	CTL_MIGRATE_ENDED,      /* neither: why says where it is and why */
};
enum ctl_migrate_outcome ctl_format_migrate_outcome(const Xenmesh__State *st,
						    const char *vm,
						    const char *host, char *why,
						    size_t len);
/* How the wait ended, with --json: {"vm","host","migrated":B,"elapsed_ms",
 * "why":S|null}. */
int ctl_format_migrate_json(const char *vm, const char *host, bool done,
			    uint64_t elapsed_ms, const char *why, char **text);

#endif
