/* What agentctl prints (see ctl_format.h): status, events, fence history
 * and config.  The hosts table is in ctl_format_node.c, the VM views in
 * ctl_format_vm.c, the drain plan and its progress in ctl_format_drain.c.
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
ctl_format_status(const Xenmesh__CtlResponse *r, uint64_t now_ms, char **text)
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

	ctl_format_banner(f, st);
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
	if (c->state_save_error != NULL)
		fprintf(f, "State file: NOT SAVED (%s)\n",
			ctl_format_safe(c->state_save_error, safe, sizeof(safe)));
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
	ctl_format_hosts(f, r, "  ", false);
	fprintf(f, "\n");
	if (st != NULL && st->n_vms > 0)
		fprintf(f, "VMs:\n");
	ctl_format_vm_table(f, st, st != NULL && st->n_vms > 0 ? "  " : "", now_ms);
	ctl_format_storage_summary(f, r);
	ctl_format_unmanaged(f, r);
	return ctl_format_finish(f, &mem, text);
}

void
ctl_format_json_node(struct json *j, const Xenmesh__State *st, uint32_t id)
{
	char buf[24];

	json_string(j, ctl_format_node_name(st, id, buf, sizeof(buf)));
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
	json_key(j, "state_save_error");
	ctl_format_json_nonempty(j, c->state_save_error);
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
	json_key(&j, "maintenance");
	json_bool(&j, r->state != NULL && r->state->has_frozen && r->state->frozen);
	json_admission(&j, r->cluster);
	ctl_format_json_nodes(&j, r);
	ctl_format_json_vms(&j, r->state);
	ctl_format_json_unmanaged(&j, r);
	ctl_format_json_storage(&j, r);
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
