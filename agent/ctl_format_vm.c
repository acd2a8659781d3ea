/* What agentctl prints about VMs (see ctl_format.h): the VMs table of
 * status and vm list, vm show, and their JSON.  Pure, like ctl_format.c,
 * whose helpers it shares through ctl_format_int.h.
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
#include "macaddr.h"
#include "vmconf.h"

#define REASON_MIN_COLS 20      /* of the VMs table, however wide the rest */
#define TABLE_COLS      80

/* Display columns of UTF-8 text, roughly: one per code point. */
static size_t
fmt_columns(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* s cut to cols columns with "..." at the end when longer; never splits
 * a UTF-8 sequence.  Returns s itself when it fits.  len >= 4. */
static const char *
fmt_cut(const char *s, size_t cols, char *buf, size_t len)
{
	size_t keep = cols > 3 ? cols - 3 : 0, seen = 0, end;

	if (fmt_columns(s) <= cols)
		return s;
	/* end: the first byte of the first code point left out */
	for (end = 0; s[end] != '\0'; end++) {
		if (((unsigned char)s[end] & 0xc0) == 0x80)
			continue;
		if (seen == keep)
			break;
		seen++;
	}
	if (end + 4 > len) {
		end = len - 4;
		while (end > 0 && ((unsigned char)s[end] & 0xc0) == 0x80)
			end--;
	}
	memcpy(buf, s, end);
	memcpy(buf + end, "...", 4);
	return buf;
}

static uint32_t
fmt_vm_priority(const Xenmesh__Vm *vm)
{
	return vm->ha != NULL ? vm->ha->priority : 0;
}

static const char *
fmt_vm_desired(const Xenmesh__Vm *vm)
{
	return vm->has_want_running && vm->want_running ? "running" : "stopped";
}

static const char *
fmt_vm_host(const Xenmesh__State *st, const Xenmesh__Vm *vm, char *buf,
	    size_t len)
{
	if (!vm->has_host || vm->host == 0)
		return "-";
	return ctl_format_node_name(st, vm->host, buf, len);
}

void
ctl_format_age(uint64_t since_ms, uint64_t now_ms, char *buf, size_t len)
{
	uint64_t s = now_ms > since_ms ? (now_ms - since_ms) / 1000 : 0;

	if (s < 120)
		(void)snprintf(buf, len, "%" PRIu64 " s", s);
	else if (s < 2 * 3600)
		(void)snprintf(buf, len, "%" PRIu64 " min", s / 60);
	else
		(void)snprintf(buf, len, "%" PRIu64 " h", s / 3600);
}

/* The state as the table says it: a save under way or kept shows. */
static const char *
fmt_vm_state(const Xenmesh__Vm *vm)
{
	bool saved = vm->has_saved_gen && vm->saved_gen != 0;

	if (vm->state != NULL && strcmp(vm->state, "stopped") == 0 && saved)
		return "saved";
	if (vm->state != NULL && strcmp(vm->state, "stopping") == 0 &&
	    vm->has_save_requested && vm->save_requested)
		return "saving";
	return vm->state;
}

/* "save_requested", "saved_generation" (0 none), "saved_bytes". */
static void
fmt_json_save(struct json *j, const Xenmesh__Vm *vm)
{
	bool saved = vm->has_saved_gen && vm->saved_gen != 0;

	json_key(j, "save_requested");
	json_bool(j, vm->has_save_requested && vm->save_requested);
	json_key(j, "saved_generation");
	json_uint(j, saved ? vm->saved_gen : 0);
	json_key(j, "saved_bytes");
	json_uint(j, saved && vm->has_saved_bytes ? vm->saved_bytes : 0);
}

bool
ctl_format_vm_migrating(const Xenmesh__Vm *vm)
{
	return vm->has_migrate_to && vm->migrate_to != 0;
}

/* "h1 -> h2 (offline), 12 s" of a migrating VM (no age when now_ms or
 * its start is not known); names cleaned. */
static void
fmt_migration(const Xenmesh__State *st, const Xenmesh__Vm *vm, uint64_t now_ms,
	      char *out, size_t len)
{
	char buf[24], buf2[24], safe[SAFE_MAX], safe2[SAFE_MAX], age[24] = "";

	if (now_ms != 0 && vm->has_migrate_since_ms && vm->migrate_since_ms != 0)
		ctl_format_age(vm->migrate_since_ms, now_ms, age, sizeof(age));
	(void)snprintf(out, len, "%s -> %s%s%s%s",
		       ctl_format_safe(fmt_vm_host(st, vm, buf, sizeof(buf)),
				       safe, sizeof(safe)),
		       ctl_format_safe(ctl_format_node_name(st, vm->migrate_to, buf2,
							    sizeof(buf2)),
				       safe2, sizeof(safe2)),
		       vm->has_migrate_offline && vm->migrate_offline ?
		       " (offline)" : "", age[0] ? ", " : "", age);
}

/* What the REASON column says: "migrating h1 -> h2, 12 s" and the reason,
 * cleaned, in buf. */
static const char *
fmt_vm_reason(const Xenmesh__State *st, const Xenmesh__Vm *vm, uint64_t now_ms,
	      char *buf, size_t len)
{
	char mig[2 * SAFE_MAX + 48], safe[SAFE_TEXT_MAX];
	bool has_reason = vm->reason != NULL && vm->reason[0] != '\0';

	if (!ctl_format_vm_migrating(vm))
		return has_reason ? ctl_format_safe(vm->reason, buf, len) : "-";
	fmt_migration(st, vm, now_ms, mig, sizeof(mig));
	(void)snprintf(buf, len, "migrating %s%s%s", mig, has_reason ? ": " : "",
		       has_reason ? ctl_format_safe(vm->reason, safe, sizeof(safe)) : "");
	return buf;
}

/*
 * NAME STATE HOST PRI RESTARTS REASON.  The reason takes what is left of
 * 80 columns (at least REASON_MIN_COLS) and is cut with "..." here only:
 * `vm show` and the JSON carry it whole.  A migrating VM's reason says
 * where it goes and since when (now_ms).
 */
void
ctl_format_vm_table(FILE *f, const Xenmesh__State *st, const char *indent,
		    uint64_t now_ms)
{
	size_t n_vms = st ? st->n_vms : 0, i, used;
	int w_name = 4, w_state = 5, w_host = 4, w_pri = 3, l;
	char buf[24], num[16], safe[SAFE_MAX], safe_st[SAFE_MAX];
	char safe_host[SAFE_MAX], safe_reason[SAFE_TEXT_MAX], cut[SAFE_TEXT_MAX];
	int w_reason;

	if (n_vms == 0) {
		fprintf(f, "%sno VMs defined\n", indent);
		return;
	}
	for (i = 0; i < n_vms; i++) {
		const Xenmesh__Vm *vm = st->vms[i];

		l = (int)fmt_columns(ctl_format_safe(vm->name, safe, sizeof(safe)));
		w_name = l > w_name ? l : w_name;
		l = (int)fmt_columns(ctl_format_safe(fmt_vm_state(vm), safe, sizeof(safe)));
		w_state = l > w_state ? l : w_state;
		l = (int)fmt_columns(ctl_format_safe(fmt_vm_host(st, vm, buf, sizeof(buf)),
					      safe, sizeof(safe)));
		w_host = l > w_host ? l : w_host;
		l = snprintf(num, sizeof(num), "%" PRIu32, fmt_vm_priority(vm));
		w_pri = l > w_pri ? l : w_pri;
	}
	used = strlen(indent) + (size_t)(w_name + w_state + w_host + w_pri) +
		8 + 5 * 2;
	w_reason = used + REASON_MIN_COLS < TABLE_COLS ? (int)(TABLE_COLS - used) :
		REASON_MIN_COLS;
	fprintf(f, "%s%-*s  %-*s  %-*s  %*s  %8s  %s\n", indent, w_name, "NAME",
		w_state, "STATE", w_host, "HOST", w_pri, "PRI", "RESTARTS",
		"REASON");
	for (i = 0; i < n_vms; i++) {
		const Xenmesh__Vm *vm = st->vms[i];
		const char *name = ctl_format_safe(vm->name, safe, sizeof(safe));
		const char *state = ctl_format_safe(fmt_vm_state(vm), safe_st,
						    sizeof(safe_st));
		const char *host = ctl_format_safe(fmt_vm_host(st, vm, buf, sizeof(buf)),
					    safe_host, sizeof(safe_host));
		const char *reason;

		reason = fmt_cut(fmt_vm_reason(st, vm, now_ms, safe_reason,
					       sizeof(safe_reason)),
				 (size_t)w_reason, cut, sizeof(cut));
		/* printf pads bytes: pad by columns for UTF-8 names */
		fprintf(f, "%s%s%*s  %s%*s  %s%*s  %*" PRIu32 "  %8" PRIu32 "  %s\n",
			indent, name, w_name - (int)fmt_columns(name), "",
			state, w_state - (int)fmt_columns(state), "",
			host, w_host - (int)fmt_columns(host), "",
			w_pri, fmt_vm_priority(vm),
			vm->has_restarts_total ? vm->restarts_total : 0, reason);
	}
}

/* "Unmanaged domains on this host: a, b" when the agent reported any. */
void
ctl_format_unmanaged(FILE *f, const Xenmesh__CtlResponse *r)
{
	char safe[SAFE_MAX];
	size_t i;

	if (r->n_unmanaged == 0)
		return;
	fprintf(f, "\nUnmanaged domains on this host: ");
	for (i = 0; i < r->n_unmanaged; i++)
		fprintf(f, "%s%s", i ? ", " : "",
			ctl_format_safe(r->unmanaged[i], safe, sizeof(safe)));
	fprintf(f, "\n");
}

static void json_vm_node(struct json *j, const Xenmesh__State *st, bool has,
			 uint32_t id);

/* "migrate_to" (name|null), "migrate_offline", "migrate_since_ms"
 * (coordinator's wall clock|null), "drain_skip" (name|null). */
static void
fmt_json_migration(struct json *j, const Xenmesh__State *st,
		   const Xenmesh__Vm *vm)
{
	bool migrating = ctl_format_vm_migrating(vm);

	json_key(j, "migrate_to");
	json_vm_node(j, st, migrating, vm->migrate_to);
	json_key(j, "migrate_offline");
	json_bool(j, migrating && vm->has_migrate_offline && vm->migrate_offline);
	json_key(j, "migrate_since_ms");
	if (migrating && vm->has_migrate_since_ms && vm->migrate_since_ms != 0)
		json_uint(j, vm->migrate_since_ms);
	else
		json_null(j);
	json_key(j, "drain_skip");
	json_vm_node(j, st, vm->has_drain_skip, vm->drain_skip);
}

void
ctl_format_json_vms(struct json *j, const Xenmesh__State *st)
{
	size_t i;

	json_key(j, "vms");
	json_array_begin(j);
	for (i = 0; st != NULL && i < st->n_vms; i++) {
		const Xenmesh__Vm *vm = st->vms[i];

		json_object_begin(j);
		json_key(j, "name");
		json_string(j, vm->name);
		json_key(j, "state");
		json_string(j, vm->state);
		json_key(j, "host");
		if (vm->has_host && vm->host != 0)
			ctl_format_json_node(j, st, vm->host);
		else
			json_null(j);
		json_key(j, "priority");
		json_uint(j, fmt_vm_priority(vm));
		json_key(j, "restarts");
		json_uint(j, vm->has_restarts_total ? vm->restarts_total : 0);
		json_key(j, "generation");
		json_uint(j, vm->has_generation ? vm->generation : 0);
		fmt_json_save(j, vm);
		json_key(j, "reason");
		ctl_format_json_nonempty(j, vm->reason);
		json_key(j, "memory_mb");
		json_uint(j, vm->has_memory_mb ? vm->memory_mb : 0);
		json_key(j, "desired");
		json_string(j, fmt_vm_desired(vm));
		fmt_json_migration(j, st, vm);
		json_object_end(j);
	}
	json_array_end(j);
}

/* Always there, empty when the agent reported none. */
void
ctl_format_json_unmanaged(struct json *j, const Xenmesh__CtlResponse *r)
{
	size_t i;

	json_key(j, "unmanaged");
	json_array_begin(j);
	for (i = 0; i < r->n_unmanaged; i++)
		json_string(j, r->unmanaged[i]);
	json_array_end(j);
}

/* ---- vm list, vm show ---------------------------------------------------- */

int
ctl_format_vms(const Xenmesh__CtlResponse *r, uint64_t now_ms, char **text)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	*text = NULL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	ctl_format_vm_table(f, r->state, "", now_ms);
	ctl_format_unmanaged(f, r);
	return ctl_format_finish(f, &mem, text);
}

int
ctl_format_vms_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	ctl_format_json_vms(&j, r->state);
	ctl_format_json_unmanaged(&j, r);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

const Xenmesh__Vm *
ctl_format_find_vm(const Xenmesh__State *st, const char *name)
{
	size_t i;

	for (i = 0; st != NULL && name != NULL && i < st->n_vms; i++)
		if (st->vms[i]->name != NULL && strcmp(st->vms[i]->name, name) == 0)
			return st->vms[i];
	return NULL;
}

/* Restarts less than the window old at now_ms (as ha/restart.c counts). */
static uint32_t
fmt_restarts_in_window(const Xenmesh__Vm *vm, uint64_t now_ms)
{
	uint64_t window_ms = vm->ha ? (uint64_t)vm->ha->restart_window_s * 1000 : 0;
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < vm->n_restart_at_ms; i++) {
		uint64_t at = vm->restart_at_ms[i];

		n += (at > now_ms ? 0 : now_ms - at) < window_ms;
	}
	return n;
}

/* "a, b" of a list of names, "-" when empty. */
static void
fmt_list(FILE *f, char *const *names, size_t n)
{
	char safe[SAFE_MAX];
	size_t i;

	if (n == 0)
		fprintf(f, "-");
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "",
			ctl_format_safe(names[i], safe, sizeof(safe)));
	fprintf(f, "\n");
}

/* The xl.cfg text indented, tabs kept, other control characters '?'. */
static void
fmt_config(FILE *f, const char *cfg)
{
	bool bol = true;

	for (; *cfg != '\0'; cfg++) {
		unsigned char ch = (unsigned char)*cfg;

		if (bol && ch != '\n')
			fputs("  ", f);
		bol = ch == '\n';
		if (ch == '\n' || ch == '\t')
			fputc(ch, f);
		else
			fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
	}
	if (!bol)
		fputc('\n', f);
}

#define SHOW_LABEL "%-17s"

/* The bridge of vif v of cfg, "" when none, NULL when the spec does not
 * read. */
static const char *
fmt_vif_bridge(const char *cfg, const struct mac_vif *v, struct vm_vif *out)
{
	char spec[sizeof(out->spec)];
	size_t len = v->close - v->open - 1;

	if (len >= sizeof(spec))
		return NULL;
	memcpy(spec, cfg + v->open + 1, len);
	spec[len] = '\0';
	return vm_vif_parse(spec, out, NULL, 0) == 0 ? out->bridge : NULL;
}

/* "Vif N:" lines: the MAC each vif has for good (written into the
 * stored xl.cfg when it was defined) and its bridge. */
static void
fmt_vifs(FILE *f, const char *cfg)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX];
	char why[160], label[32], m[MAC_STR_LEN], safe[SAFE_MAX];
	struct vm_vif vv;
	const char *bridge;
	size_t i, n;

	if (mac_cfg_vifs(cfg, vifs, MAC_CFG_VIFS_MAX, &n, why, sizeof(why)) < 0) {
		fprintf(f, SHOW_LABEL "? (%s)\n", "Vifs:",
			ctl_format_safe(why, safe, sizeof(safe)));
		return;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(label, sizeof(label), "Vif %zu:", i);
		if (vifs[i].has_mac)
			mac_format(vifs[i].mac, m);
		bridge = fmt_vif_bridge(cfg, &vifs[i], &vv);
		fprintf(f, SHOW_LABEL "%s%s, bridge %s\n", label,
			vifs[i].has_mac ? "mac " : "",
			vifs[i].has_mac ? m : "no MAC (xl picks one at each start)",
			bridge == NULL ? "?" : bridge[0] == '\0' ? "-" :
			ctl_format_safe(bridge, safe, sizeof(safe)));
	}
}

/* "vifs": [{"mac": M|null, "bridge": B|null}, ...], [] without a config. */
static void
json_vifs(struct json *j, const char *cfg)
{
	struct mac_vif vifs[MAC_CFG_VIFS_MAX];
	char m[MAC_STR_LEN];
	struct vm_vif vv;
	size_t i, n = 0;

	if (cfg != NULL &&
	    mac_cfg_vifs(cfg, vifs, MAC_CFG_VIFS_MAX, &n, NULL, 0) < 0)
		n = 0;
	json_array_begin(j);
	for (i = 0; i < n; i++) {
		json_object_begin(j);
		json_key(j, "mac");
		if (vifs[i].has_mac) {
			mac_format(vifs[i].mac, m);
			json_string(j, m);
		} else {
			json_null(j);
		}
		json_key(j, "bridge");
		ctl_format_json_nonempty(j, fmt_vif_bridge(cfg, &vifs[i], &vv));
		json_object_end(j);
	}
	json_array_end(j);
}

int
ctl_format_vm(const Xenmesh__CtlResponse *r, const char *name, uint64_t now_ms,
	      char **text)
{
	const Xenmesh__State *st = r->state;
	const Xenmesh__Vm *vm = ctl_format_find_vm(st, name);
	const Xenmesh__VmHa *ha;
	char *mem = NULL, buf[24], safe[SAFE_MAX], safe_reason[SAFE_TEXT_MAX];
	char when[32], mig[2 * SAFE_MAX + 48];
	size_t memlen = 0, i;
	FILE *f;

	*text = NULL;
	if (vm == NULL)
		return -ENOENT;
	ha = vm->ha;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	fprintf(f, SHOW_LABEL "%s\n", "VM:", ctl_format_safe(vm->name, safe, sizeof(safe)));
	fprintf(f, SHOW_LABEL "%s\n", "State:",
		ctl_format_safe(fmt_vm_state(vm), safe, sizeof(safe)));
	if (vm->has_saved_gen && vm->saved_gen != 0)
		fprintf(f, SHOW_LABEL "of generation %" PRIu64 ", %" PRIu64 " MB on "
			"volume %s-save (vm resume, or vm start --fresh to boot)\n",
			"Save image:", vm->saved_gen,
			vm->has_saved_bytes ? (vm->saved_bytes + (1 << 20) - 1) >> 20 : 0,
			ctl_format_safe(vm->name, safe, sizeof(safe)));
	fprintf(f, SHOW_LABEL "%s\n", "Host:",
		ctl_format_safe(fmt_vm_host(st, vm, buf, sizeof(buf)), safe, sizeof(safe)));
	fprintf(f, SHOW_LABEL "%" PRIu64 "\n", "Generation:",
		vm->has_generation ? vm->generation : 0);
	fprintf(f, SHOW_LABEL "%s", "Desired:", fmt_vm_desired(vm));
	if (vm->has_want_running && vm->want_running && vm->has_want_host &&
	    vm->want_host != 0)
		fprintf(f, " on %s", ctl_format_safe(ctl_format_node_name(st,
			vm->want_host, buf, sizeof(buf)), safe, sizeof(safe)));
	fprintf(f, "\n");
	if (vm->has_avoid_host && vm->avoid_host != 0)
		fprintf(f, SHOW_LABEL "%s\n", "Avoid host:",
			ctl_format_safe(ctl_format_node_name(st, vm->avoid_host, buf,
						      sizeof(buf)),
				 safe, sizeof(safe)));
	fprintf(f, SHOW_LABEL "%" PRIu64 " MB\n", "Memory:",
		vm->has_memory_mb ? vm->memory_mb : 0);
	fprintf(f, SHOW_LABEL "%" PRIu32 "\n", "Priority:", fmt_vm_priority(vm));
	if (ha != NULL) {
		fprintf(f, SHOW_LABEL "%s, at most %" PRIu32 " restarts in %"
			PRIu32 " s\n", "Restart policy:",
			ctl_format_safe(ha->restart, safe, sizeof(safe)),
			ha->max_restarts, ha->restart_window_s);
		fprintf(f, SHOW_LABEL, "Preferred hosts:");
		fmt_list(f, ha->hosts, ha->n_hosts);
		fprintf(f, SHOW_LABEL "%s\n", "Anti-affinity:",
			ha->anti_affinity && ha->anti_affinity[0] ?
			ctl_format_safe(ha->anti_affinity, safe, sizeof(safe)) : "-");
		fprintf(f, SHOW_LABEL, "Start after:");
		fmt_list(f, ha->start_after, ha->n_start_after);
	}
	fprintf(f, SHOW_LABEL "%" PRIu32 " in the last %" PRIu32 " s, %" PRIu32
		" in total\n", "Restarts:", fmt_restarts_in_window(vm, now_ms),
		ha ? ha->restart_window_s : 0,
		vm->has_restarts_total ? vm->restarts_total : 0);
	for (i = 0; i < vm->n_restart_at_ms; i++) {
		time_t secs = (time_t)(vm->restart_at_ms[i] / 1000);
		struct tm tm;

		if (localtime_r(&secs, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			(void)snprintf(when, sizeof(when), "?");
		fprintf(f, "  %s  after it died on %s\n", when,
			i < vm->n_restart_host ?
			ctl_format_safe(ctl_format_node_name(st, vm->restart_host[i],
						      buf, sizeof(buf)),
				 safe, sizeof(safe)) : "?");
	}
	if (ctl_format_vm_migrating(vm)) {
		fmt_migration(st, vm, now_ms, mig, sizeof(mig));
		fprintf(f, SHOW_LABEL "%s\n", "Migrating:", mig);
	}
	if (vm->has_drain_skip && vm->drain_skip != 0)
		fprintf(f, SHOW_LABEL "stays on %s (its move failed)\n", "Drain:",
			ctl_format_safe(ctl_format_node_name(st, vm->drain_skip, buf,
							     sizeof(buf)),
					safe, sizeof(safe)));
	fprintf(f, SHOW_LABEL "%s\n", "Reason:",
		vm->reason && vm->reason[0] ?
		ctl_format_safe(vm->reason, safe_reason, sizeof(safe_reason)) : "-");
	if (vm->config != NULL) {
		fmt_vifs(f, vm->config);
		fprintf(f, "Config:\n");
		fmt_config(f, vm->config);
	} else {
		fprintf(f, SHOW_LABEL "%s\n", "Config:", "(not sent by xenmeshd)");
	}
	return ctl_format_finish(f, &mem, text);
}

static void
json_names(struct json *j, char *const *names, size_t n)
{
	size_t i;

	json_array_begin(j);
	for (i = 0; i < n; i++)
		json_string(j, names[i]);
	json_array_end(j);
}

static void
json_vm_node(struct json *j, const Xenmesh__State *st, bool has, uint32_t id)
{
	if (has && id != 0)
		ctl_format_json_node(j, st, id);
	else
		json_null(j);
}

int
ctl_format_vm_json(const Xenmesh__CtlResponse *r, const char *name,
		   uint64_t now_ms, char **text)
{
	const Xenmesh__State *st = r->state;
	const Xenmesh__Vm *vm = ctl_format_find_vm(st, name);
	const Xenmesh__VmHa *ha;
	struct json j;
	size_t i;

	*text = NULL;
	if (vm == NULL)
		return -ENOENT;
	ha = vm->ha;
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "name");
	json_string(&j, vm->name);
	json_key(&j, "state");
	json_string(&j, vm->state);
	json_key(&j, "host");
	json_vm_node(&j, st, vm->has_host, vm->host);
	json_key(&j, "generation");
	json_uint(&j, vm->has_generation ? vm->generation : 0);
	fmt_json_save(&j, vm);
	json_key(&j, "desired");
	json_string(&j, fmt_vm_desired(vm));
	json_key(&j, "want_host");
	json_vm_node(&j, st, vm->has_want_host, vm->want_host);
	json_key(&j, "avoid_host");
	json_vm_node(&j, st, vm->has_avoid_host, vm->avoid_host);
	json_key(&j, "memory_mb");
	json_uint(&j, vm->has_memory_mb ? vm->memory_mb : 0);
	json_key(&j, "priority");
	json_uint(&j, fmt_vm_priority(vm));
	json_key(&j, "restart");
	json_string(&j, ha ? ha->restart : NULL);
	json_key(&j, "max_restarts");
	json_uint(&j, ha ? ha->max_restarts : 0);
	json_key(&j, "restart_window_s");
	json_uint(&j, ha ? ha->restart_window_s : 0);
	json_key(&j, "hosts");
	json_names(&j, ha ? ha->hosts : NULL, ha ? ha->n_hosts : 0);
	json_key(&j, "anti_affinity");
	ctl_format_json_nonempty(&j, ha ? ha->anti_affinity : NULL);
	json_key(&j, "start_after");
	json_names(&j, ha ? ha->start_after : NULL, ha ? ha->n_start_after : 0);
	json_key(&j, "restarts");
	json_uint(&j, vm->has_restarts_total ? vm->restarts_total : 0);
	json_key(&j, "restarts_in_window");
	json_uint(&j, fmt_restarts_in_window(vm, now_ms));
	json_key(&j, "restart_history");
	json_array_begin(&j);
	for (i = 0; i < vm->n_restart_at_ms; i++) {
		json_object_begin(&j);
		json_key(&j, "time_ms");
		json_uint(&j, vm->restart_at_ms[i]);
		json_key(&j, "host");
		json_vm_node(&j, st, i < vm->n_restart_host,
			     i < vm->n_restart_host ? vm->restart_host[i] : 0);
		json_object_end(&j);
	}
	json_array_end(&j);
	fmt_json_migration(&j, st, vm);
	json_key(&j, "reason");
	ctl_format_json_nonempty(&j, vm->reason);
	json_key(&j, "vifs");
	json_vifs(&j, vm->config);
	json_key(&j, "config");
	json_string(&j, vm->config);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}
