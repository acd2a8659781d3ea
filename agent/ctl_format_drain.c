/* What agentctl prints about planned maintenance (see ctl_format.h): the
 * cluster maintenance banner of status, the plan of `node drain`, what
 * `node drain --wait` follows from one status answer to the next, and
 * how a `vm migrate --wait` ended.  Pure, like ctl_format.c: the caller
 * polls and prints.
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

#define BAR_WIDTH   20          /* of the progress bar, in characters */
#define STATE_TEXT  24          /* "unplaceable" and then some */

void
ctl_format_banner(FILE *f, const Xenmesh__State *st)
{
	if (st != NULL && st->has_frozen && st->frozen)
		fprintf(f, "CLUSTER MAINTENANCE: no recovery, fencing or placement "
			"until 'agentctl cluster maintenance off'\n\n");
}

const Xenmesh__Node *
ctl_format_find_node(const Xenmesh__State *st, const char *name)
{
	for (size_t i = 0; st != NULL && name != NULL && i < st->n_nodes; i++)
		if (st->nodes[i]->name != NULL &&
		    strcmp(st->nodes[i]->name, name) == 0)
			return st->nodes[i];
	return NULL;
}

/* ---- the plan ------------------------------------------------------------ */

static bool
item_is(const Xenmesh__DrainItem *it, const char *action)
{
	return it->action != NULL && strcmp(it->action, action) == 0;
}

static bool
item_live(const Xenmesh__DrainItem *it)
{
	return item_is(it, "migrate") || item_is(it, "moving");
}

bool
ctl_format_drain_plan_ok(const Xenmesh__CtlResponse *r)
{
	size_t live = 0;

	if (r->has_drain_ok)
		return r->drain_ok;
	for (size_t i = 0; i < r->n_drain_plan; i++)
		live += item_live(r->drain_plan[i]);
	return live == r->n_drain_plan;
}

/* The names of the items of action: "a, b". */
static void
plan_names(FILE *f, const Xenmesh__CtlResponse *r, const char *action)
{
	char safe[SAFE_MAX];
	size_t n = 0;

	for (size_t i = 0; i < r->n_drain_plan; i++) {
		if (!item_is(r->drain_plan[i], action))
			continue;
		fprintf(f, "%s%s", n ? ", " : "",
			ctl_format_safe(r->drain_plan[i]->vm, safe, sizeof(safe)));
		n++;
	}
}

static size_t
plan_count(const Xenmesh__CtlResponse *r, const char *action)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_drain_plan; i++)
		n += item_is(r->drain_plan[i], action);
	return n;
}

/*
 * "all 12 VMs can move live", or what cannot and what --force does about
 * it: "refused: 2 VMs cannot move live; --force would shut down db2, web3
 * and move app1 offline".  Nothing when the agent refused a plan it
 * found good (the reason is its message).
 */
static void
plan_verdict(FILE *f, const Xenmesh__CtlResponse *r, const char *host,
	     bool force)
{
	size_t live = 0, n = r->n_drain_plan, down, offline, stay, wait;
	char safe[SAFE_MAX];

	for (size_t i = 0; i < n; i++)
		live += item_live(r->drain_plan[i]);
	if (ctl_format_drain_plan_ok(r)) {
		if (r->result == 0 && n == 1)
			fputs("its VM can move live\n", f);
		else if (r->result == 0)
			fprintf(f, "all %zu VMs can move live\n", n);
		return;
	}
	down = plan_count(r, "shutdown");
	offline = plan_count(r, "offline");
	stay = plan_count(r, "stay");
	wait = plan_count(r, "wait");
	fprintf(f, "%s%zu VM%s cannot move live", r->result < 0 ? "refused: " : "",
		n - live, n - live == 1 ? "" : "s");
	if (down + offline > 0)
		fprintf(f, "; --force %s", force ? "" : "would ");
	if (down > 0) {
		fputs(force ? "shuts down " : "shut down ", f);
		plan_names(f, r, "shutdown");
	}
	if (offline > 0) {
		fputs(down > 0 ? " and " : "", f);
		fputs(force ? "moves " : "move ", f);
		plan_names(f, r, "offline");
		fputs(" offline", f);
	}
	if (stay > 0) {
		fputs("; ", f);
		plan_names(f, r, "stay");
		fprintf(f, " %s on %s (%s move failed)", stay == 1 ? "stays" : "stay",
			ctl_format_safe(host, safe, sizeof(safe)),
			stay == 1 ? "its" : "their");
	}
	if (wait > 0) {
		fputs("; ", f);
		plan_names(f, r, "wait");
		fprintf(f, " %s (starting or stopping)", wait == 1 ? "waits" : "wait");
	}
	fprintf(f, "\n");
}

int
ctl_format_drain_plan(const Xenmesh__CtlResponse *r, const char *host,
		      bool force, char **text)
{
	int w_vm = 2, w_action = 6, w_dest = 11, w_pri = 3, l;
	char *mem = NULL, safe[SAFE_MAX], safe2[SAFE_MAX], safe3[SAFE_MAX];
	char safe_reason[SAFE_TEXT_MAX], num[16];
	size_t memlen = 0, i;
	FILE *f;

	*text = NULL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	if (r->n_drain_plan == 0) {
		fprintf(f, "%s runs no VMs: nothing to move\n",
			ctl_format_safe(host, safe, sizeof(safe)));
		return ctl_format_finish(f, &mem, text);
	}
	for (i = 0; i < r->n_drain_plan; i++) {
		const Xenmesh__DrainItem *it = r->drain_plan[i];

		l = (int)strlen(ctl_format_safe(it->vm, safe, sizeof(safe)));
		w_vm = l > w_vm ? l : w_vm;
		l = (int)strlen(ctl_format_safe(it->action, safe, sizeof(safe)));
		w_action = l > w_action ? l : w_action;
		l = (int)strlen(ctl_format_safe(it->dest, safe, sizeof(safe)));
		w_dest = l > w_dest ? l : w_dest;
		l = snprintf(num, sizeof(num), "%" PRIu32, it->priority);
		w_pri = l > w_pri ? l : w_pri;
	}
	fprintf(f, "Drain plan of %s, in the order the VMs move:\n",
		ctl_format_safe(host, safe, sizeof(safe)));
	fprintf(f, "  %-*s  %-*s  %-*s  %*s  %s\n", w_vm, "VM", w_action, "ACTION",
		w_dest, "DESTINATION", w_pri, "PRI", "REASON");
	for (i = 0; i < r->n_drain_plan; i++) {
		const Xenmesh__DrainItem *it = r->drain_plan[i];
		const char *dest = it->dest != NULL && it->dest[0] != '\0' ?
			ctl_format_safe(it->dest, safe2, sizeof(safe2)) : "-";
		const char *reason = it->reason != NULL && it->reason[0] != '\0' ?
			ctl_format_safe(it->reason, safe_reason,
					sizeof(safe_reason)) : "-";

		fprintf(f, "  %-*s  %-*s  %-*s  %*" PRIu32 "  %s\n", w_vm,
			ctl_format_safe(it->vm, safe, sizeof(safe)), w_action,
			ctl_format_safe(it->action, safe3, sizeof(safe3)), w_dest, dest,
			w_pri, it->priority, reason);
	}
	plan_verdict(f, r, host, force);
	return ctl_format_finish(f, &mem, text);
}

static void
json_plan_items(struct json *j, const Xenmesh__CtlResponse *r)
{
	json_key(j, "plan");
	json_array_begin(j);
	for (size_t i = 0; i < r->n_drain_plan; i++) {
		const Xenmesh__DrainItem *it = r->drain_plan[i];

		json_object_begin(j);
		json_key(j, "vm");
		json_string(j, it->vm);
		json_key(j, "action");
		json_string(j, it->action);
		json_key(j, "dest");
		ctl_format_json_nonempty(j, it->dest);
		json_key(j, "reason");
		ctl_format_json_nonempty(j, it->reason);
		json_key(j, "priority");
		json_uint(j, it->priority);
		json_object_end(j);
	}
	json_array_end(j);
}

int
ctl_format_drain_plan_json(const Xenmesh__CtlResponse *r, const char *host,
			   char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "event");
	json_string(&j, "plan");
	json_key(&j, "host");
	json_string(&j, host);
	json_key(&j, "result");
	json_int(&j, r->result);
	json_key(&j, "message");
	ctl_format_json_nonempty(&j, r->message);
	json_key(&j, "ok");
	json_bool(&j, ctl_format_drain_plan_ok(r));
	json_plan_items(&j, r);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

/* ---- following a drain ------------------------------------------------------ */

/* Where a VM of the draining host is, as seen in one status answer. */
enum phase {
	PH_PENDING = 0,         /* on the host, not moving yet */
	PH_MIGRATING,           /* on its way to where */
	PH_STOPPING,            /* being shut down on the host (--force) */
	PH_STAYS,               /* its move failed: the drain leaves it */
	PH_ELSEWHERE,           /* on another host (where), in state */
	PH_DOWN,                /* on no host: stopped, failed ... */
	PH_GONE,                /* no longer defined */
};

struct watch_vm {
	char *name;
	bool seen;              /* phase, where and state are of a status */
	enum phase phase;
	uint32_t where;
	char state[STATE_TEXT];
};

struct ctl_drain_watch {
	char *host;
	size_t n;
	struct watch_vm *vms;
};

void
ctl_format_drain_watch_free(struct ctl_drain_watch *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->vms[i].name);
	free(w->vms);
	free(w->host);
	free(w);
}

static int
watch_add(struct ctl_drain_watch *w, const char *name)
{
	struct watch_vm *v;

	if (name == NULL)
		return 0;
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->vms[i].name, name) == 0)
			return 0;
	v = realloc(w->vms, (w->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	w->vms = v;
	v = &w->vms[w->n];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (v->name == NULL)
		return -ENOMEM;
	w->n++;
	return 0;
}

int
ctl_format_drain_watch_new(const char *host, const Xenmesh__CtlResponse *plan,
			   const Xenmesh__State *st, struct ctl_drain_watch **out)
{
	const Xenmesh__Node *node = ctl_format_find_node(st, host);
	struct ctl_drain_watch *w;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->host = strdup(host);
	if (w->host == NULL)
		goto out_free;
	for (size_t i = 0; plan != NULL && i < plan->n_drain_plan; i++)
		if (watch_add(w, plan->drain_plan[i]->vm) < 0)
			goto out_free;
	/* and whatever else is on the host now (an older agent: no plan) */
	for (size_t i = 0; node != NULL && i < st->n_vms; i++)
		if (st->vms[i]->has_host && st->vms[i]->host == node->id &&
		    watch_add(w, st->vms[i]->name) < 0)
			goto out_free;
	*out = w;
	return 0;
out_free:
	ctl_format_drain_watch_free(w);
	return -ENOMEM;
}

static bool
state_is(const Xenmesh__Vm *vm, const char *state)
{
	return vm->state != NULL && strcmp(vm->state, state) == 0;
}

/* Where VM vm (NULL: undefined) is relative to host; *where: the host it
 * moves to or is on. */
static enum phase
watch_phase(const Xenmesh__Vm *vm, uint32_t host, uint32_t *where)
{
	uint32_t on = vm != NULL && vm->has_host ? vm->host : 0;

	*where = 0;
	if (vm == NULL)
		return PH_GONE;
	if (ctl_format_vm_migrating(vm) && on == host) {
		*where = vm->migrate_to;
		return PH_MIGRATING;
	}
	if (on == 0)
		return PH_DOWN;
	*where = on;
	if (on != host)
		return PH_ELSEWHERE;
	if (vm->has_drain_skip && vm->drain_skip == host)
		return PH_STAYS;
	if (state_is(vm, "stopping"))
		return PH_STOPPING;
	return PH_PENDING;
}

/* A VM nothing more happens to in this drain. */
static bool
phase_final(enum phase ph, const char *state)
{
	switch (ph) {
	case PH_ELSEWHERE:
		return strcmp(state, "starting") != 0 && strcmp(state, "stopping") != 0 &&
		       strcmp(state, "migrating") != 0;
	case PH_STAYS:
	case PH_DOWN:
	case PH_GONE:
		return true;
	default:
		return false;
	}
}

static const char *const phase_event[] = {
	[PH_PENDING] = "back", [PH_MIGRATING] = "migrating",
	[PH_STOPPING] = "stopping", [PH_STAYS] = "stays",
	[PH_ELSEWHERE] = "moved", [PH_DOWN] = "down", [PH_GONE] = "gone",
};

static void
watch_json(FILE *f, const struct ctl_drain_watch *w, const Xenmesh__State *st,
	   const struct watch_vm *v, const Xenmesh__Vm *vm)
{
	struct json j;
	char *line = NULL;
	bool at = v->phase != PH_MIGRATING && v->where != 0;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "event");
	json_string(&j, phase_event[v->phase]);
	json_key(&j, "vm");
	json_string(&j, v->name);
	json_key(&j, "host");
	if (at)
		ctl_format_json_node(&j, st, v->where);
	else if (v->phase == PH_MIGRATING)
		json_string(&j, w->host);
	else
		json_null(&j);
	json_key(&j, "dest");
	if (v->phase == PH_MIGRATING)
		ctl_format_json_node(&j, st, v->where);
	else
		json_null(&j);
	json_key(&j, "offline");
	json_bool(&j, v->phase == PH_MIGRATING && vm->has_migrate_offline &&
		  vm->migrate_offline);
	json_key(&j, "state");
	json_string(&j, vm != NULL ? vm->state : NULL);
	json_key(&j, "reason");
	ctl_format_json_nonempty(&j, vm != NULL ? vm->reason : NULL);
	json_object_end(&j);
	if (ctl_format_json_finish(&j, &line) == 0)
		fputs(line, f);
	else
		fputs("{\"event\":\"error\"}\n", f);
	free(line);
}

/* "web1: migrating to h2", "web3: stays on h1: migration to h2 failed". */
static void
watch_line(FILE *f, const Xenmesh__State *st, const struct watch_vm *v,
	   const Xenmesh__Vm *vm)
{
	char buf[24], safe[SAFE_MAX], safe_where[SAFE_MAX], safe_st[SAFE_MAX];
	char safe_r[SAFE_TEXT_MAX];
	const char *where = ctl_format_safe(ctl_format_node_name(st, v->where, buf,
								 sizeof(buf)),
					    safe_where, sizeof(safe_where));
	const char *reason = vm != NULL && vm->reason != NULL && vm->reason[0] ?
		ctl_format_safe(vm->reason, safe_r, sizeof(safe_r)) : NULL;
	const char *state = ctl_format_safe(v->state, safe_st, sizeof(safe_st));

	fprintf(f, "%s: ", ctl_format_safe(v->name, safe, sizeof(safe)));
	switch (v->phase) {
	case PH_MIGRATING:
		fprintf(f, "migrating to %s%s", where,
			vm->has_migrate_offline && vm->migrate_offline ?
			" (offline)" : "");
		reason = NULL;
		break;
	case PH_ELSEWHERE:
		fprintf(f, "%s on %s", state, where);
		if (strcmp(v->state, "running") == 0)
			reason = NULL;
		break;
	case PH_STAYS:
		fprintf(f, "stays on %s", where);
		if (reason == NULL)
			reason = "its move failed";
		break;
	case PH_STOPPING:
		fprintf(f, "stopping on %s", where);
		break;
	case PH_PENDING:
		fprintf(f, "back on %s", where);
		break;
	case PH_DOWN:
		fprintf(f, "%s", state);
		break;
	case PH_GONE:
		fprintf(f, "no longer defined");
		break;
	}
	if (reason != NULL)
		fprintf(f, ": %s", reason);
	fprintf(f, "\n");
}

int
ctl_format_drain_watch_update(struct ctl_drain_watch *w, const Xenmesh__State *st,
			      enum ctl_drain_style style, char **text)
{
	const Xenmesh__Node *node = ctl_format_find_node(st, w->host);
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	*text = NULL;
	if (node == NULL)
		return -ENOENT;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < w->n; i++) {
		struct watch_vm *v = &w->vms[i];
		const Xenmesh__Vm *vm = ctl_format_find_vm(st, v->name);
		char state[STATE_TEXT];
		uint32_t where;
		enum phase ph = watch_phase(vm, node->id, &where);
		bool quiet = !v->seen && ph == PH_PENDING;

		(void)snprintf(state, sizeof(state), "%s",
			       vm != NULL && vm->state != NULL ? vm->state : "");
		/* a state change matters where the VM is not waiting */
		if (v->seen && ph == v->phase && where == v->where &&
		    ((ph != PH_ELSEWHERE && ph != PH_DOWN) ||
		     strcmp(state, v->state) == 0))
			continue;
		v->seen = true;
		v->phase = ph;
		v->where = where;
		memcpy(v->state, state, sizeof(state));
		if (quiet)
			continue;       /* where it was when the drain began */
		if (style == CTL_DRAIN_JSON)
			watch_json(f, w, st, v, vm);
		else if (style == CTL_DRAIN_LINES || phase_final(ph, state))
			watch_line(f, st, v, vm);
	}
	return ctl_format_finish(f, &mem, text);
}

int
ctl_format_drain_watch_progress(const struct ctl_drain_watch *w, char **text)
{
	size_t moved = 0, migrating = 0, stays = 0, down = 0, bar;
	char fill[BAR_WIDTH + 1], more[64] = "", safe[SAFE_MAX];
	int n = 0;

	*text = NULL;
	for (size_t i = 0; i < w->n; i++) {
		const struct watch_vm *v = &w->vms[i];

		moved += v->phase == PH_ELSEWHERE;
		migrating += v->phase == PH_MIGRATING;
		stays += v->phase == PH_STAYS;
		down += v->phase == PH_DOWN || v->phase == PH_GONE;
	}
	bar = w->n > 0 ? (moved + stays + down) * BAR_WIDTH / w->n : BAR_WIDTH;
	memset(fill, '#', bar);
	memset(fill + bar, '-', BAR_WIDTH - bar);
	fill[BAR_WIDTH] = '\0';
	if (stays > 0)
		n = snprintf(more, sizeof(more), ", %zu stay%s", stays,
			     stays == 1 ? "s" : "");
	if (down > 0 && n >= 0 && (size_t)n < sizeof(more))
		(void)snprintf(more + n, sizeof(more) - (size_t)n,
			       ", %zu stopped", down);
	if (asprintf(text, "draining %s [%s] %zu/%zu moved, %zu migrating%s",
		     ctl_format_safe(w->host, safe, sizeof(safe)), fill, moved,
		     w->n, migrating, more) < 0) {
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The VMs of st on host: "    web3 (running): reason" lines to f, or
 * objects to j, or (both NULL) only their number. */
static size_t
summary_left(FILE *f, struct json *j, const Xenmesh__State *st, uint32_t host)
{
	char buf[24], safe[SAFE_MAX], safe_st[SAFE_MAX], safe_r[SAFE_TEXT_MAX];
	size_t n = 0;

	for (size_t i = 0; i < st->n_vms; i++) {
		const Xenmesh__Vm *vm = st->vms[i];

		if (!vm->has_host || vm->host != host)
			continue;
		n++;
		if (f == NULL && j == NULL)
			continue;
		if (j != NULL) {
			json_object_begin(j);
			json_key(j, "vm");
			json_string(j, vm->name);
			json_key(j, "state");
			json_string(j, vm->state);
			json_key(j, "reason");
			ctl_format_json_nonempty(j, vm->reason);
			json_object_end(j);
			continue;
		}
		fprintf(f, "    %s (%s): ",
			ctl_format_safe(vm->name, safe, sizeof(safe)),
			ctl_format_safe(vm->state, safe_st, sizeof(safe_st)));
		if (vm->reason != NULL && vm->reason[0])
			fprintf(f, "%s\n", ctl_format_safe(vm->reason, safe_r,
							    sizeof(safe_r)));
		else if (ctl_format_vm_migrating(vm))
			fprintf(f, "migrating to %s\n", ctl_format_safe(
				ctl_format_node_name(st, vm->migrate_to, buf,
						     sizeof(buf)),
				safe_r, sizeof(safe_r)));
		else
			fprintf(f, "no reason given\n");
	}
	return n;
}

static int
summary_json(const struct ctl_drain_watch *w, const Xenmesh__State *st,
	     uint32_t host, bool done, char **text, size_t *left)
{
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "event");
	json_string(&j, "summary");
	json_key(&j, "host");
	json_string(&j, w->host);
	json_key(&j, "done");
	json_bool(&j, done);
	json_key(&j, "moved");
	json_array_begin(&j);
	for (size_t i = 0; i < w->n; i++) {
		if (w->vms[i].phase != PH_ELSEWHERE)
			continue;
		json_object_begin(&j);
		json_key(&j, "vm");
		json_string(&j, w->vms[i].name);
		json_key(&j, "host");
		ctl_format_json_node(&j, st, w->vms[i].where);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "stopped");
	json_array_begin(&j);
	for (size_t i = 0; i < w->n; i++)
		if (w->vms[i].phase == PH_DOWN)
			json_string(&j, w->vms[i].name);
	json_array_end(&j);
	json_key(&j, "left");
	json_array_begin(&j);
	*left = summary_left(NULL, &j, st, host);
	json_array_end(&j);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

/* "web1 -> h2, web2 -> h3" / "db2, web4 (failed)" of the VMs in phase ph,
 * after label; nothing when there are none. */
static void
summary_list(FILE *f, const struct ctl_drain_watch *w, const Xenmesh__State *st,
	     enum phase ph, const char *label)
{
	char buf[24], safe[SAFE_MAX], safe_h[SAFE_MAX];
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++) {
		const struct watch_vm *v = &w->vms[i];

		if (v->phase != ph)
			continue;
		fprintf(f, "%s%s", n ? ", " : label,
			ctl_format_safe(v->name, safe, sizeof(safe)));
		if (ph == PH_ELSEWHERE)
			fprintf(f, " -> %s", ctl_format_safe(ctl_format_node_name(
				st, v->where, buf, sizeof(buf)), safe_h, sizeof(safe_h)));
		else if (strcmp(v->state, "stopped") != 0)
			fprintf(f, " (%s)", ctl_format_safe(v->state, safe_h,
							    sizeof(safe_h)));
		n++;
	}
	if (n > 0)
		fputs("\n", f);
}

int
ctl_format_drain_watch_summary(const struct ctl_drain_watch *w,
			       const Xenmesh__State *st, bool done, bool json,
			       char **text, size_t *left)
{
	const Xenmesh__Node *node = ctl_format_find_node(st, w->host);
	char *mem = NULL, safe[SAFE_MAX];
	const char *host = ctl_format_safe(w->host, safe, sizeof(safe));
	size_t memlen = 0, moved = 0, down = 0;
	FILE *f;

	*text = NULL;
	*left = 0;
	if (node == NULL)
		return -ENOENT;
	if (json)
		return summary_json(w, st, node->id, done, text, left);
	for (size_t i = 0; i < w->n; i++) {
		moved += w->vms[i].phase == PH_ELSEWHERE;
		down += w->vms[i].phase == PH_DOWN;
	}
	*left = summary_left(NULL, NULL, st, node->id);
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	fprintf(f, "drain of %s %s: %zu of %zu VM%s moved", host,
		done ? "done" : "still running", moved, w->n, w->n == 1 ? "" : "s");
	if (down > 0)
		fprintf(f, ", %zu stopped", down);
	if (*left > 0)
		fprintf(f, ", %zu left on %s\n", *left, host);
	else
		fprintf(f, "; nothing is left on %s\n", host);
	summary_list(f, w, st, PH_ELSEWHERE, "  moved: ");
	summary_list(f, w, st, PH_DOWN, "  stopped: ");
	if (*left > 0) {
		fprintf(f, "  left on %s:\n", host);
		(void)summary_left(f, NULL, st, node->id);
	}
	if (done)
		fprintf(f, "%s stays in maintenance until agentctl node undrain %s\n",
			host, host);
	return ctl_format_finish(f, &mem, text);
}

/* ---- vm migrate --wait ------------------------------------------------------- */

enum ctl_migrate_outcome
ctl_format_migrate_outcome(const Xenmesh__State *st, const char *name,
			   const char *host, char *why, size_t len)
{
	const Xenmesh__Vm *vm = ctl_format_find_vm(st, name);
	const Xenmesh__Node *dest = ctl_format_find_node(st, host);
	char buf[24], safe[SAFE_MAX], safe_on[SAFE_MAX], safe_st[SAFE_MAX];
	char safe_host[SAFE_MAX], safe_r[SAFE_TEXT_MAX];
	const char *vname = ctl_format_safe(name, safe, sizeof(safe));
	bool on_dest;

	if (len > 0)
		why[0] = '\0';
	if (vm == NULL) {
		(void)snprintf(why, len, "VM %s is no longer defined", vname);
		return CTL_MIGRATE_ENDED;
	}
	if (ctl_format_vm_migrating(vm))
		return CTL_MIGRATE_MOVING;
	on_dest = dest != NULL && vm->has_host && vm->host == dest->id;
	if (on_dest && state_is(vm, "running"))
		return CTL_MIGRATE_DONE;
	if (on_dest && state_is(vm, "starting"))
		return CTL_MIGRATE_MOVING;      /* offline: started there */
	(void)snprintf(why, len, "VM %s is %s%s%s, not on %s: %s", vname,
		       ctl_format_safe(vm->state, safe_st, sizeof(safe_st)),
		       vm->has_host && vm->host != 0 ? " on " : "",
		       vm->has_host && vm->host != 0 ?
		       ctl_format_safe(ctl_format_node_name(st, vm->host, buf,
							    sizeof(buf)),
				       safe_on, sizeof(safe_on)) : "",
		       ctl_format_safe(host, safe_host, sizeof(safe_host)),
		       vm->reason != NULL && vm->reason[0] ?
		       ctl_format_safe(vm->reason, safe_r, sizeof(safe_r)) :
		       "no reason given");
	return CTL_MIGRATE_ENDED;
}

int
ctl_format_migrate_json(const char *vm, const char *host, bool done,
			uint64_t elapsed_ms, const char *why, char **text)
{
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "vm");
	json_string(&j, vm);
	json_key(&j, "host");
	json_string(&j, host);
	json_key(&j, "migrated");
	json_bool(&j, done);
	json_key(&j, "elapsed_ms");
	json_uint(&j, elapsed_ms);
	json_key(&j, "why");
	json_string(&j, done ? NULL : why);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}
