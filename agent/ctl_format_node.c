/* What agentctl prints about the hosts (see ctl_format.h): the hosts
 * table of status and node list, with their flags (a draining host with
 * its drain settings), and the "nodes" JSON.  Pure, like ctl_format.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_format.h"
#include "ctl_format_int.h"
#include "json.h"

#define FLAGS_TEXT_MAX 96

/* Wire enums to the names of ARCHITECTURE.md.  Kept here rather than
 * taken from ha/state.c: the client shows what it receives, including
 * values a newer agent may send. */
static const char *
fmt_state_name(Xenmesh__NodeState st)
{
	switch (st) {
	case XENMESH__NODE_STATE__NODE_ONLINE:  return "online";
	case XENMESH__NODE_STATE__NODE_OFFLINE: return "offline";
	case XENMESH__NODE_STATE__NODE_UNCLEAN: return "unclean";
	case XENMESH__NODE_STATE__NODE_FENCED:  return "fenced";
	default:                                return "unknown";
	}
}

static const char *
fmt_role_name(Xenmesh__NodeRole role)
{
	switch (role) {
	case XENMESH__NODE_ROLE__ROLE_DOM0: return "dom0";
	case XENMESH__NODE_ROLE__ROLE_SAN:  return "san";
	default:                            return "unknown";
	}
}

static const char *const flag_names[32] = {
	[0] = "maintenance",    /* FLAG_MAINTENANCE = 1 << 0 */
	[1] = "standby",        /* FLAG_STANDBY = 1 << 1 */
	[2] = "storage-fenced", /* FLAG_STORAGE_FENCED = 1 << 2 */
	[3] = "draining",       /* FLAG_DRAINING = 1 << 3 */
	[4] = "leaving",        /* FLAG_LEAVING = 1 << 4 */
	[5] = "agent-down",     /* FLAG_AGENT_DOWN = 1 << 5 */
};

/* Why an online dom0 takes no VMs though no flag says so, shown as if it
 * were a flag, so that the host list says why: "no-hypervisor" (its agent
 * has no hypervisor driver open, and reports no memory), "no-watchdog" (no
 * usable watchdog: no HA VMs).  NULL after the last. */
static const char *
fmt_pseudo_flag(const Xenmesh__Node *node, unsigned i)
{
	const char *found[2];
	unsigned n = 0;

	if (node->role != XENMESH__NODE_ROLE__ROLE_DOM0 ||
	    node->state != XENMESH__NODE_STATE__NODE_ONLINE)
		return NULL;
	if (node->mem_total_mb == 0)
		found[n++] = "no-hypervisor";
	if (!node->has_watchdog_s || node->watchdog_s == 0)
		found[n++] = "no-watchdog";
	return i < n ? found[i] : NULL;
}

/* "maintenance,standby", "-" when none; unknown bits as "bitN"; a
 * draining host with its settings: "maintenance,draining (parallel 2,
 * force)"; "no-hypervisor" and "no-watchdog" last. */
static void
fmt_flags(const Xenmesh__Node *node, char *buf, size_t len)
{
	uint32_t flags = node->flags;
	const char *name_p;
	size_t used = 0;
	unsigned bit;
	int n;

	buf[0] = '\0';
	for (bit = 0; bit < 32; bit++) {
		char unknown[8];
		const char *name = flag_names[bit];

		if (!(flags & (UINT32_C(1) << bit)))
			continue;
		if (name == NULL) {
			(void)snprintf(unknown, sizeof(unknown), "bit%u", bit);
			name = unknown;
		}
		n = snprintf(buf + used, len - used, "%s%s",
			     used ? "," : "", name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	for (unsigned i = 0; (name_p = fmt_pseudo_flag(node, i)) != NULL; i++) {
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", name_p);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (used == 0) {
		(void)snprintf(buf, len, "-");
		return;
	}
	if (flags & XENMESH__NODE_FLAG__FLAG_DRAINING)
		(void)snprintf(buf + used, len - used, " (parallel %" PRIu32 "%s)",
			       node->has_drain_parallel ? node->drain_parallel : 1,
			       node->has_drain_force && node->drain_force ?
			       ", force" : "");
}

static bool
fmt_in_state(const Xenmesh__State *st, uint32_t id)
{
	size_t i;

	for (i = 0; st != NULL && i < st->n_nodes; i++)
		if (st->nodes[i]->id == id)
			return true;
	return false;
}

static bool
fmt_is_member(const Xenmesh__CtlResponse *r, uint32_t id)
{
	size_t i;

	for (i = 0; i < r->n_members; i++)
		if (r->members[i] == id)
			return true;
	return false;
}

/* Members the replicated node table does not hold yet, each once. */
static bool
fmt_new_member(const Xenmesh__CtlResponse *r, size_t i)
{
	size_t k;

	if (fmt_in_state(r->state, r->members[i]))
		return false;
	for (k = 0; k < i; k++)
		if (r->members[k] == r->members[i])
			return false;
	return true;
}

/* Widens *w to the length of s. */
static void
fmt_widen(int *w, const char *s)
{
	int l = (int)strlen(s);

	*w = l > *w ? l : *w;
}

static const char *
fmt_cpu(const Xenmesh__Node *n)
{
	return n->cpu != NULL && n->cpu[0] != '\0' ? n->cpu : "-";
}

/* NAME ID ROLE STATE FLAGS [CPU] MEM: the column widths from the content,
 * so that long names widen the table rather than being cut. */
void
ctl_format_hosts(FILE *f, const Xenmesh__CtlResponse *r, const char *indent,
		 bool cpu)
{
	const Xenmesh__State *st = r->state;
	size_t n_nodes = st ? st->n_nodes : 0, i;
	int w_name = 4, w_id = 2, w_flags = 5, w_cpu = cpu ? 3 : -2;
	char flags[FLAGS_TEXT_MAX], id[16], name[24], safe[SAFE_MAX];
	char safe_cpu[SAFE_MAX];
	bool any = n_nodes > 0;

	for (i = 0; i < n_nodes; i++) {
		const Xenmesh__Node *n = st->nodes[i];

		fmt_widen(&w_name, ctl_format_safe(n->name, safe, sizeof(safe)));
		(void)snprintf(id, sizeof(id), "%" PRIu32, n->id);
		fmt_widen(&w_id, id);
		fmt_flags(n, flags, sizeof(flags));
		fmt_widen(&w_flags, flags);
		if (cpu)
			fmt_widen(&w_cpu, ctl_format_safe(fmt_cpu(n), safe_cpu,
							  sizeof(safe_cpu)));
	}
	for (i = 0; i < r->n_members; i++) {
		if (!fmt_new_member(r, i))
			continue;
		any = true;
		(void)snprintf(name, sizeof(name), "node%" PRIu32, r->members[i]);
		fmt_widen(&w_name, name);
		(void)snprintf(id, sizeof(id), "%" PRIu32, r->members[i]);
		fmt_widen(&w_id, id);
		fmt_widen(&w_flags, "new member");
	}
	if (!any) {
		fprintf(f, "%sno hosts known yet\n", indent);
		return;
	}

	/* without the CPU column, w_cpu -2 takes back its two spaces */
	fprintf(f, "%s%-*s  %*s  %-4s  %-7s  %-*s  %-*s%s\n", indent,
		w_name, "NAME", w_id, "ID", "ROLE", "STATE", w_flags, "FLAGS",
		w_cpu + 2, cpu ? "CPU" : "", "MEM(free/total MB)");
	for (i = 0; i < n_nodes; i++) {
		const Xenmesh__Node *n = st->nodes[i];
		char mem[48];

		fmt_flags(n, flags, sizeof(flags));
		if (n->mem_total_mb > 0)
			(void)snprintf(mem, sizeof(mem), "%" PRIu64 "/%" PRIu64,
				       n->mem_free_mb, n->mem_total_mb);
		else
			(void)snprintf(mem, sizeof(mem), "-");
		fprintf(f, "%s%-*s  %*" PRIu32 "  %-4s  %-7s  %-*s  %-*s%s\n",
			indent, w_name, ctl_format_safe(n->name, safe, sizeof(safe)),
			w_id, n->id, fmt_role_name(n->role),
			fmt_state_name(n->state), w_flags, flags, w_cpu + 2,
			cpu ? ctl_format_safe(fmt_cpu(n), safe_cpu,
					      sizeof(safe_cpu)) : "", mem);
	}
	for (i = 0; i < r->n_members; i++) {
		if (!fmt_new_member(r, i))
			continue;
		(void)snprintf(name, sizeof(name), "node%" PRIu32, r->members[i]);
		fprintf(f, "%s%-*s  %*" PRIu32 "  %-4s  %-7s  %-*s  %-*s%s\n",
			indent, w_name, name, w_id, r->members[i], "-", "-",
			w_flags, "new member", w_cpu + 2, cpu ? "-" : "", "-");
	}
	/* fenced on an admin's word (node confirm-down): who said so */
	for (i = 0; i < n_nodes; i++) {
		const Xenmesh__Node *n = st->nodes[i];

		if (n->fence_note == NULL || n->fence_note[0] == '\0')
			continue;
		fprintf(f, "%s%s: %s, %s\n", indent,
			ctl_format_safe(n->name, safe, sizeof(safe)),
			fmt_state_name(n->state),
			ctl_format_safe(n->fence_note, safe_cpu, sizeof(safe_cpu)));
	}
}

int
ctl_format_nodes(const Xenmesh__CtlResponse *r, char **text)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	*text = NULL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	ctl_format_hosts(f, r, "", true);
	return ctl_format_finish(f, &mem, text);
}

static void
json_flags(struct json *j, const Xenmesh__Node *n)
{
	uint32_t flags = n != NULL ? n->flags : 0;
	unsigned bit;

	json_array_begin(j);
	for (bit = 0; bit < 32; bit++) {
		char unknown[8];

		if (!(flags & (UINT32_C(1) << bit)))
			continue;
		if (flag_names[bit] != NULL) {
			json_string(j, flag_names[bit]);
		} else {
			(void)snprintf(unknown, sizeof(unknown), "bit%u", bit);
			json_string(j, unknown);
		}
	}
	for (unsigned i = 0; n != NULL && fmt_pseudo_flag(n, i) != NULL; i++)
		json_string(j, fmt_pseudo_flag(n, i));
	json_array_end(j);
}

/* One host; n NULL: a member not in the replicated table yet (id). */
static void
json_node(struct json *j, const Xenmesh__CtlResponse *r,
	  const Xenmesh__Node *n, uint32_t id)
{
	json_object_begin(j);
	json_key(j, "name");
	if (n != NULL)
		json_string(j, n->name);
	else
		ctl_format_json_node(j, r->state, id);
	json_key(j, "id");
	json_uint(j, id);
	json_key(j, "role");
	json_string(j, n != NULL ? fmt_role_name(n->role) : NULL);
	json_key(j, "state");
	json_string(j, n != NULL ? fmt_state_name(n->state) : NULL);
	json_key(j, "flags");
	json_flags(j, n);
	json_key(j, "cpu");
	ctl_format_json_nonempty(j, n != NULL ? n->cpu : NULL);
	json_key(j, "drain_parallel");
	if (n != NULL && (n->flags & XENMESH__NODE_FLAG__FLAG_DRAINING))
		json_uint(j, n->has_drain_parallel ? n->drain_parallel : 1);
	else
		json_null(j);
	json_key(j, "drain_force");
	json_bool(j, n != NULL && n->has_drain_force && n->drain_force);
	json_key(j, "mem_total_mb");
	json_uint(j, n != NULL ? n->mem_total_mb : 0);
	json_key(j, "mem_free_mb");
	json_uint(j, n != NULL ? n->mem_free_mb : 0);
	json_key(j, "member");
	json_bool(j, fmt_is_member(r, id));
	json_key(j, "fence_note");
	ctl_format_json_nonempty(j, n != NULL ? n->fence_note : NULL);
	json_object_end(j);
}

void
ctl_format_json_nodes(struct json *j, const Xenmesh__CtlResponse *r)
{
	const Xenmesh__State *st = r->state;
	size_t i;

	json_key(j, "nodes");
	json_array_begin(j);
	for (i = 0; st != NULL && i < st->n_nodes; i++)
		json_node(j, r, st->nodes[i], st->nodes[i]->id);
	/* members not in the replicated table yet: what is known of them */
	for (i = 0; i < r->n_members; i++)
		if (fmt_new_member(r, i))
			json_node(j, r, NULL, r->members[i]);
	json_array_end(j);
}

int
ctl_format_nodes_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	ctl_format_json_nodes(&j, r);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}
