/* What agentctl prints: the human views and the JSON of a CtlResponse.
 *
 * Pure: every function returns a malloc'd NUL-terminated text in *text
 * (the caller prints and frees it).  0, -EINVAL when the response lacks
 * what the view needs (e.g. no cluster view for status), -ENOMEM.
 * Names of states, roles and flags are those of ARCHITECTURE.md.
 */
#ifndef XM_CTL_FORMAT_H
#define XM_CTL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "xenmesh.pb-c.h"

/* "agentctl status": like crm_mon -1, fits 80 columns; "Failover
 * capacity: ok (any one host can fail)" or "Failover capacity: NOT ok"
 * and the hosts whose failure would leave VMs down, when the agent says;
 * the VMs table as ctl_format_vms() and "Unmanaged domains on this host:
 * a, b" when the answer lists any. */
int ctl_format_status(const Xenmesh__CtlResponse *r, char **text);
/* {"cluster":{...},"admission":{"ok":B,"failing":[S]}|null,"nodes":[...],
 * "vms":[...],"unmanaged":[...]} and a newline; VMs as
 * ctl_format_vms_json(). */
int ctl_format_status_json(const Xenmesh__CtlResponse *r, char **text);

/* "agentctl node list": the hosts table alone / {"nodes":[...]}. */
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
 * REASON, the reason cut to fit 80 columns) and the unmanaged domains /
 * {"vms":[...],"unmanaged":[...]}, VMs as in the status JSON:
 * {"name","state","host" (name|null),"priority","restarts" (in total),
 * "generation","reason" (string|null),"memory_mb","desired"
 * ("running"|"stopped")}. */
int ctl_format_vms(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_vms_json(const Xenmesh__CtlResponse *r, char **text);

/*
 * "agentctl vm show VM": everything in the record of the VM named, with
 * its xl.cfg text when the answer carries it.  now_ms (wall clock) counts
 * the restarts still in the window.  -ENOENT when there is no such VM.
 * JSON: {"name","state","host","generation","desired","want_host",
 * "avoid_host","memory_mb","priority","restart","max_restarts",
 * "restart_window_s","hosts","anti_affinity","start_after","restarts",
 * "restarts_in_window","restart_history":[{"time_ms","host"}],"reason",
 * "config"}.
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

/* Name of node id in st, else "node<id>".  Returns buf or the name. */
const char *ctl_format_node_name(const Xenmesh__State *st, uint32_t id,
				 char *buf, size_t len);

/* agentctl volume list, storage status: text and JSON. */
int ctl_format_volumes(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_volumes_json(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_storage(const Xenmesh__CtlResponse *r, char **text);
int ctl_format_storage_json(const Xenmesh__CtlResponse *r, char **text);

#endif
