/* What agentctl prints (see ctl_format.h): status, hosts, events.  The
 * VM views are in ctl_format_vm.c.
 *
 * The human views are written with open_memstream: memory only, but with
 * printf's padding, which the tables need.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_format.h"
#include "ctl_format_int.h"
#include "json.h"

#define FLAGS_TEXT_MAX 64
#define DIGEST_SHORT   16       /* hex digits of the digest in the human view */

/* Names and texts come from cmap, xl.cfg and peers: in the human views a
 * control character (an escape sequence, a newline faking a line of
 * output) is shown as '?'.  Returns s itself when it is clean. */
const char *
ctl_format_safe(const char *s, char *buf, size_t len)
{
	size_t i;

	if (s == NULL)
		return "";
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (s[i] == '\0')
		return s;
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

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
};

/* "maintenance,standby", "-" when none; unknown bits as "bitN". */
static void
fmt_flags(uint32_t flags, char *buf, size_t len)
{
	size_t used = 0;
	unsigned bit;

	buf[0] = '\0';
	for (bit = 0; bit < 32; bit++) {
		char unknown[8];
		const char *name = flag_names[bit];
		int n;

		if (!(flags & (UINT32_C(1) << bit)))
			continue;
		if (name == NULL) {
			(void)snprintf(unknown, sizeof(unknown), "bit%u", bit);
			name = unknown;
		}
		n = snprintf(buf + used, len - used, "%s%s",
			     used ? "," : "", name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		(void)snprintf(buf, len, "-");
}

const char *
ctl_format_node_name(const Xenmesh__State *st, uint32_t id, char *buf,
		     size_t len)
{
	size_t i;

	for (i = 0; st != NULL && i < st->n_nodes; i++)
		if (st->nodes[i]->id == id && st->nodes[i]->name != NULL)
			return st->nodes[i]->name;
	(void)snprintf(buf, len, "node%" PRIu32, id);
	return buf;
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

int
ctl_format_finish(FILE *f, char **mem, char **text)
{
	if (ferror(f)) {
		(void)fclose(f);
		free(*mem);
		*mem = NULL;
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(*mem);
		*mem = NULL;
		return -ENOMEM;
	}
	*text = *mem;
	return 0;
}

static void
fmt_hosts(FILE *f, const Xenmesh__CtlResponse *r, const char *indent)
{
	const Xenmesh__State *st = r->state;
	size_t n_nodes = st ? st->n_nodes : 0;
	int w_name = 4, w_id = 2, w_flags = 5;
	char flags[FLAGS_TEXT_MAX], id[16], name[24], safe[SAFE_MAX];
	size_t i;
	bool any = n_nodes > 0;

	/* column widths from the content: long names widen the table
	 * rather than being cut */
	for (i = 0; i < n_nodes; i++) {
		const Xenmesh__Node *n = st->nodes[i];
		int l;

		l = (int)strlen(ctl_format_safe(n->name, safe, sizeof(safe)));
		w_name = l > w_name ? l : w_name;
		l = snprintf(id, sizeof(id), "%" PRIu32, n->id);
		w_id = l > w_id ? l : w_id;
		fmt_flags(n->flags, flags, sizeof(flags));
		l = (int)strlen(flags);
		w_flags = l > w_flags ? l : w_flags;
	}
	for (i = 0; i < r->n_members; i++) {
		int l;

		if (!fmt_new_member(r, i))
			continue;
		any = true;
		l = snprintf(name, sizeof(name), "node%" PRIu32, r->members[i]);
		w_name = l > w_name ? l : w_name;
		l = snprintf(id, sizeof(id), "%" PRIu32, r->members[i]);
		w_id = l > w_id ? l : w_id;
		w_flags = w_flags < 10 ? 10 : w_flags;  /* "new member" */
	}
	if (!any) {
		fprintf(f, "%sno hosts known yet\n", indent);
		return;
	}

	fprintf(f, "%s%-*s  %*s  %-4s  %-7s  %-*s  %s\n", indent,
		w_name, "NAME", w_id, "ID", "ROLE", "STATE", w_flags, "FLAGS",
		"MEM(free/total MB)");
	for (i = 0; i < n_nodes; i++) {
		const Xenmesh__Node *n = st->nodes[i];
		char mem[48];

		fmt_flags(n->flags, flags, sizeof(flags));
		if (n->mem_total_mb > 0)
			(void)snprintf(mem, sizeof(mem), "%" PRIu64 "/%" PRIu64,
				       n->mem_free_mb, n->mem_total_mb);
		else
			(void)snprintf(mem, sizeof(mem), "-");
		fprintf(f, "%s%-*s  %*" PRIu32 "  %-4s  %-7s  %-*s  %s\n",
			indent, w_name, ctl_format_safe(n->name, safe, sizeof(safe)),
			w_id, n->id,
			fmt_role_name(n->role), fmt_state_name(n->state),
			w_flags, flags, mem);
	}
	for (i = 0; i < r->n_members; i++) {
		if (!fmt_new_member(r, i))
			continue;
		(void)snprintf(name, sizeof(name), "node%" PRIu32, r->members[i]);
		fprintf(f, "%s%-*s  %*" PRIu32 "  %-4s  %-7s  %-*s  %s\n",
			indent, w_name, name, w_id, r->members[i], "-", "-",
			w_flags, "new member", "-");
	}
}

/* "Failover capacity: ..." and what would not fit; nothing when the
 * agent did not say (an older one). */
static void
fmt_admission(FILE *f, const Xenmesh__ClusterView *c)
{
	char safe[SAFE_TEXT_MAX];
	size_t i;

	if (!c->has_admission_ok)
		return;
	if (c->admission_ok) {
		fprintf(f, "Failover capacity: ok (any one host can fail)\n");
		return;
	}
	fprintf(f, "Failover capacity: NOT ok\n");
	for (i = 0; i < c->n_admission; i++)
		fprintf(f, "  %s\n", ctl_format_safe(c->admission[i], safe,
						     sizeof(safe)));
}

int
ctl_format_status(const Xenmesh__CtlResponse *r, char **text)
{
	const Xenmesh__ClusterView *c = r->cluster;
	const Xenmesh__State *st = r->state;
	char *mem = NULL, buf[24], safe[SAFE_TEXT_MAX], safe_name[SAFE_MAX];
	size_t memlen = 0, i;
	FILE *f;

	*text = NULL;
	if (c == NULL)
		return -EINVAL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;

	fprintf(f, "Cluster: %s (local node %s, id %" PRIu32 ")\n",
		ctl_format_safe(c->name, safe, sizeof(safe)),
		ctl_format_safe(ctl_format_node_name(st, c->local_id, buf, sizeof(buf)),
			 safe_name, sizeof(safe_name)),
		c->local_id);
	if (c->quorate)
		fprintf(f, "Quorum: yes (%" PRIu32 " of %" PRIu32
			" votes, %" PRIu32 " needed)\n",
			c->votes, c->expected_votes, c->quorum);
	else if (c->quorum_reason != NULL && c->quorum_reason[0] != '\0')
		fprintf(f, "Quorum: no (%s)\n",
			ctl_format_safe(c->quorum_reason, safe, sizeof(safe)));
	else
		fprintf(f, "Quorum: no\n");
	if (c->ha_enabled)
		fprintf(f, "HA: enabled\n");
	else if (c->ha_reason != NULL && c->ha_reason[0] != '\0')
		fprintf(f, "HA: disabled (%s)\n",
			ctl_format_safe(c->ha_reason, safe, sizeof(safe)));
	else
		fprintf(f, "HA: disabled\n");
	fmt_admission(f, c);
	if (c->has_coordinator && c->coordinator != 0)
		fprintf(f, "Coordinator: %s (id %" PRIu32 ")\n",
			ctl_format_safe(ctl_format_node_name(st, c->coordinator, buf,
						      sizeof(buf)),
				 safe_name, sizeof(safe_name)),
			c->coordinator);
	else
		fprintf(f, "Coordinator: none\n");
	fprintf(f, "State: epoch %" PRIu64 ", seq %" PRIu64 ", sync: %s",
		c->epoch, c->seq, c->synced ? "done" : "in progress");
	if (c->digest.len > 0) {
		fprintf(f, ", digest ");
		for (i = 0; i < c->digest.len && i < DIGEST_SHORT / 2; i++)
			fprintf(f, "%02x", c->digest.data[i]);
	}
	fprintf(f, "\nMembers: %zu", r->n_members);
	if (c->ring != NULL)
		fprintf(f, " (ring %" PRIu32 "/%" PRIu64 ")", c->ring->nodeid,
			c->ring->seq);
	fprintf(f, "\n\nHosts:\n");
	fmt_hosts(f, r, "  ");
	fprintf(f, "\n");
	if (st != NULL && st->n_vms > 0)
		fprintf(f, "VMs:\n");
	ctl_format_vm_table(f, st, st != NULL && st->n_vms > 0 ? "  " : "");
	ctl_format_storage_summary(f, r);
	ctl_format_unmanaged(f, r);
	return ctl_format_finish(f, &mem, text);
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
	fmt_hosts(f, r, "");
	return ctl_format_finish(f, &mem, text);
}

void
ctl_format_json_node(struct json *j, const Xenmesh__State *st, uint32_t id)
{
	char buf[24];

	json_string(j, ctl_format_node_name(st, id, buf, sizeof(buf)));
}

static void
json_flags(struct json *j, uint32_t flags)
{
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
	json_array_end(j);
}

static void
json_nodes(struct json *j, const Xenmesh__CtlResponse *r)
{
	const Xenmesh__State *st = r->state;
	size_t i;

	json_key(j, "nodes");
	json_array_begin(j);
	for (i = 0; st != NULL && i < st->n_nodes; i++) {
		const Xenmesh__Node *n = st->nodes[i];

		json_object_begin(j);
		json_key(j, "name");
		json_string(j, n->name);
		json_key(j, "id");
		json_uint(j, n->id);
		json_key(j, "role");
		json_string(j, fmt_role_name(n->role));
		json_key(j, "state");
		json_string(j, fmt_state_name(n->state));
		json_key(j, "flags");
		json_flags(j, n->flags);
		json_key(j, "mem_total_mb");
		json_uint(j, n->mem_total_mb);
		json_key(j, "mem_free_mb");
		json_uint(j, n->mem_free_mb);
		json_key(j, "member");
		json_bool(j, fmt_is_member(r, n->id));
		json_object_end(j);
	}
	/* members not in the replicated table yet: what is known of them */
	for (i = 0; i < r->n_members; i++) {
		if (!fmt_new_member(r, i))
			continue;
		json_object_begin(j);
		json_key(j, "name");
		ctl_format_json_node(j, st, r->members[i]);
		json_key(j, "id");
		json_uint(j, r->members[i]);
		json_key(j, "role");
		json_null(j);
		json_key(j, "state");
		json_null(j);
		json_key(j, "flags");
		json_flags(j, 0);
		json_key(j, "mem_total_mb");
		json_uint(j, 0);
		json_key(j, "mem_free_mb");
		json_uint(j, 0);
		json_key(j, "member");
		json_bool(j, true);
		json_object_end(j);
	}
	json_array_end(j);
}

void
ctl_format_json_nonempty(struct json *j, const char *s)
{
	json_string(j, s != NULL && s[0] != '\0' ? s : NULL);
}

static void
json_cluster(struct json *j, const Xenmesh__CtlResponse *r)
{
	const Xenmesh__ClusterView *c = r->cluster;
	const Xenmesh__State *st = r->state;
	size_t i;

	json_key(j, "cluster");
	json_object_begin(j);
	json_key(j, "name");
	json_string(j, c->name);
	json_key(j, "quorate");
	json_bool(j, c->quorate);
	json_key(j, "quorum_reason");
	ctl_format_json_nonempty(j, c->quorate ? NULL : c->quorum_reason);
	json_key(j, "coordinator");
	if (c->has_coordinator && c->coordinator != 0)
		ctl_format_json_node(j, st, c->coordinator);
	else
		json_null(j);
	json_key(j, "coordinator_id");
	json_uint(j, c->has_coordinator ? c->coordinator : 0);
	json_key(j, "epoch");
	json_uint(j, c->epoch);
	json_key(j, "seq");
	json_uint(j, c->seq);
	json_key(j, "ha_enabled");
	json_bool(j, c->ha_enabled);
	json_key(j, "ha_reason");
	ctl_format_json_nonempty(j, c->ha_enabled ? NULL : c->ha_reason);
	json_key(j, "synced");
	json_bool(j, c->synced);
	json_key(j, "digest");
	json_hex(j, c->digest.data, c->digest.len);
	json_key(j, "local");
	ctl_format_json_node(j, st, c->local_id);
	json_key(j, "local_id");
	json_uint(j, c->local_id);
	json_key(j, "votes");
	json_uint(j, c->votes);
	json_key(j, "expected_votes");
	json_uint(j, c->expected_votes);
	json_key(j, "quorum");
	json_uint(j, c->quorum);
	json_key(j, "ring");
	if (c->ring != NULL) {
		json_object_begin(j);
		json_key(j, "nodeid");
		json_uint(j, c->ring->nodeid);
		json_key(j, "seq");
		json_uint(j, c->ring->seq);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "members");
	json_array_begin(j);
	for (i = 0; i < r->n_members; i++)
		json_uint(j, r->members[i]);
	json_array_end(j);
	json_object_end(j);
}

/* "admission":{"ok":B,"failing":[S]}, null when the agent did not say. */
static void
json_admission(struct json *j, const Xenmesh__ClusterView *c)
{
	size_t i;

	json_key(j, "admission");
	if (!c->has_admission_ok) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key(j, "ok");
	json_bool(j, c->admission_ok);
	json_key(j, "failing");
	json_array_begin(j);
	for (i = 0; i < c->n_admission; i++)
		json_string(j, c->admission[i]);
	json_array_end(j);
	json_object_end(j);
}

/* The document in j plus a newline, handed to *text. */
int
ctl_format_json_finish(struct json *j, char **text)
{
	char *doc, *line;
	size_t len;
	int err;

	*text = NULL;
	doc = json_take(j, &err);
	if (doc == NULL)
		return err;
	len = strlen(doc);
	line = realloc(doc, len + 2);
	if (line == NULL) {
		free(doc);
		return -ENOMEM;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	*text = line;
	return 0;
}

int
ctl_format_status_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	if (r->cluster == NULL)
		return -EINVAL;
	json_init(&j);
	json_object_begin(&j);
	json_cluster(&j, r);
	json_admission(&j, r->cluster);
	json_nodes(&j, r);
	ctl_format_json_vms(&j, r->state);
	ctl_format_json_unmanaged(&j, r);
	ctl_format_json_storage(&j, r);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

int
ctl_format_nodes_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	json_nodes(&j, r);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

int
ctl_format_event(const Xenmesh__Event *e, const Xenmesh__State *st,
		 char **text)
{
	time_t secs = (time_t)(e->time_ms / 1000);
	char when[32], buf[24], safe_kind[SAFE_MAX], safe_who[SAFE_MAX];
	char safe_text[SAFE_TEXT_MAX];
	const char *who = "cluster";
	struct tm tm;

	*text = NULL;
	if (localtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -EINVAL;
	if (e->node != 0)
		who = ctl_format_node_name(st, e->node, buf, sizeof(buf));
	if (asprintf(text, "%s.%03u  [%s] e%" PRIu64 "/s%" PRIu64 " %s: %s\n",
		     when, (unsigned)(e->time_ms % 1000),
		     ctl_format_safe(e->kind, safe_kind, sizeof(safe_kind)), e->epoch,
		     e->seq, ctl_format_safe(who, safe_who, sizeof(safe_who)),
		     ctl_format_safe(e->text, safe_text, sizeof(safe_text))) < 0) {
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ISO 8601 UTC of a wall-clock time in ms: 0 or -EINVAL. */
static int
fmt_iso_time(uint64_t time_ms, char *iso, size_t len)
{
	time_t secs = (time_t)(time_ms / 1000);
	char when[40];
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -EINVAL;
	(void)snprintf(iso, len, "%s.%03uZ", when, (unsigned)(time_ms % 1000));
	return 0;
}

static void
json_event(struct json *j, const Xenmesh__Event *e, const Xenmesh__State *st,
	   const char *iso)
{
	json_object_begin(j);
	json_key(j, "id");
	json_uint(j, e->id);
	json_key(j, "time");
	json_string(j, iso);
	json_key(j, "time_ms");
	json_uint(j, e->time_ms);
	json_key(j, "epoch");
	json_uint(j, e->epoch);
	json_key(j, "seq");
	json_uint(j, e->seq);
	json_key(j, "node");
	if (e->node != 0)
		ctl_format_json_node(j, st, e->node);
	else
		json_null(j);
	json_key(j, "node_id");
	json_uint(j, e->node);
	json_key(j, "kind");
	json_string(j, e->kind);
	json_key(j, "text");
	json_string(j, e->text);
	json_object_end(j);
}

int
ctl_format_event_json(const Xenmesh__Event *e, const Xenmesh__State *st,
		      char **text)
{
	char iso[48];
	struct json j;

	*text = NULL;
	if (fmt_iso_time(e->time_ms, iso, sizeof(iso)) < 0)
		return -EINVAL;
	json_init(&j);
	json_event(&j, e, st, iso);
	return ctl_format_json_finish(&j, text);
}

int
ctl_format_result_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "result");
	json_int(&j, r->result);
	json_key(&j, "message");
	ctl_format_json_nonempty(&j, r->message);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

/* ---- fence history, fence config ---------------------------------------- */

int
ctl_format_fence_history_here(const Xenmesh__CtlResponse *r)
{
	const Xenmesh__ClusterView *c = r->cluster;

	return c != NULL && c->has_coordinator && c->coordinator != 0 &&
	       c->coordinator == c->local_id;
}

int
ctl_format_fence_history(const Xenmesh__CtlResponse *r, char **text)
{
	const Xenmesh__ClusterView *c = r->cluster;
	const Xenmesh__State *st = r->state;
	char *mem = NULL, buf[24], safe[SAFE_TEXT_MAX], safe_name[SAFE_MAX];
	size_t memlen = 0, i;
	FILE *f;
	int rc;

	*text = NULL;
	if (c == NULL)
		return -EINVAL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	if (ctl_format_fence_history_here(r)) {
		fprintf(f, "Fence steps of the hosts being fenced now "
			"(coordinator %s):\n",
			ctl_format_safe(ctl_format_node_name(st, c->local_id, buf,
							     sizeof(buf)),
					safe_name, sizeof(safe_name)));
		if (r->n_fence_history == 0)
			fprintf(f, "  none: no host is being fenced\n");
		for (i = 0; i < r->n_fence_history; i++)
			fprintf(f, "  %s\n", ctl_format_safe(r->fence_history[i],
							     safe, sizeof(safe)));
		fprintf(f, "\n");
	}
	fprintf(f, "Fence events in the log of %s:\n",
		ctl_format_safe(ctl_format_node_name(st, c->local_id, buf,
						     sizeof(buf)),
				safe_name, sizeof(safe_name)));
	if (r->n_events == 0)
		fprintf(f, "  none\n");
	for (i = 0; i < r->n_events; i++) {
		char *line = NULL;

		rc = ctl_format_event(r->events[i], st, &line);
		if (rc < 0) {
			(void)fclose(f);
			free(mem);
			return rc;
		}
		fprintf(f, "  %s", line);
		free(line);
	}
	return ctl_format_finish(f, &mem, text);
}

int
ctl_format_fence_history_json(const Xenmesh__CtlResponse *r, char **text)
{
	const Xenmesh__ClusterView *c = r->cluster;
	struct json j;
	char iso[48];
	size_t i;

	*text = NULL;
	if (c == NULL)
		return -EINVAL;
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "coordinator");
	if (c->has_coordinator && c->coordinator != 0)
		ctl_format_json_node(&j, r->state, c->coordinator);
	else
		json_null(&j);
	json_key(&j, "local");
	ctl_format_json_node(&j, r->state, c->local_id);
	json_key(&j, "steps");
	if (ctl_format_fence_history_here(r)) {
		json_array_begin(&j);
		for (i = 0; i < r->n_fence_history; i++)
			json_string(&j, r->fence_history[i]);
		json_array_end(&j);
	} else {
		json_null(&j);
	}
	json_key(&j, "events");
	json_array_begin(&j);
	for (i = 0; i < r->n_events; i++) {
		if (fmt_iso_time(r->events[i]->time_ms, iso, sizeof(iso)) < 0) {
			json_free(&j);
			return -EINVAL;
		}
		json_event(&j, r->events[i], r->state, iso);
	}
	json_array_end(&j);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

int
ctl_format_fence_config(const Xenmesh__CtlResponse *r, char **text)
{
	const char *t = r->fence_config;
	size_t len = t != NULL ? strlen(t) : 0;

	*text = NULL;
	if (len == 0) {
		*text = strdup("# no fence configuration: every host uses the "
			       "default chain\n");
		return *text != NULL ? 0 : -ENOMEM;
	}
	if (asprintf(text, "%s%s", t, t[len - 1] == '\n' ? "" : "\n") < 0) {
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
ctl_format_fence_config_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "config");
	ctl_format_json_nonempty(&j, r->fence_config);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}
