/* agentctl's storage output: volumes, the active SAN node, fenced
 * initiators and, from a SAN node, its target daemon's view.  Pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_format.h"
#include "ctl_format_int.h"
#include "state.h"

static bool
has_storage(const Xenmesh__State *st)
{
	return st != NULL && (st->n_volumes > 0 || (st->has_active_san && st->active_san));
}

static void
fenced_list(FILE *f, const Xenmesh__State *st)
{
	char safe[SAFE_MAX];
	bool any = false;

	for (size_t i = 0; st != NULL && i < st->n_nodes; i++) {
		if (!(st->nodes[i]->flags & NODE_FLAG_STORAGE_FENCED))
			continue;
		fprintf(f, "%s%s", any ? ", " : "",
			ctl_format_safe(st->nodes[i]->name, safe, sizeof(safe)));
		any = true;
	}
	if (!any)
		fprintf(f, "none");
}

static const char *
active_name(const Xenmesh__State *st, char *buf, size_t len)
{
	if (st == NULL || !st->has_active_san || st->active_san == 0)
		return "none";
	return ctl_format_node_name(st, st->active_san, buf, len);
}

void
ctl_format_storage_summary(FILE *f, const Xenmesh__CtlResponse *r)
{
	const Xenmesh__State *st = r->state;
	char buf[24], safe[SAFE_MAX];

	if (!has_storage(st))
		return;
	fprintf(f, "\nStorage: active SAN %s, %zu volume%s, storage-fenced: ",
		ctl_format_safe(active_name(st, buf, sizeof(buf)), safe, sizeof(safe)),
		st->n_volumes, st->n_volumes == 1 ? "" : "s");
	fenced_list(f, st);
	fprintf(f, "\n");
}

static void
volume_table(FILE *f, const Xenmesh__State *st, const char *indent)
{
	char safe[SAFE_MAX], safe_vm[SAFE_MAX], safe_reason[SAFE_TEXT_MAX];

	if (st == NULL || st->n_volumes == 0) {
		fprintf(f, "%sno volumes\n", indent);
		return;
	}
	fprintf(f, "%s%-24s %-16s %-8s %4s %14s  %s\n", indent, "VOLUME", "VM",
		"DISK", "LUN", "SIZE", "STATE");
	for (size_t i = 0; i < st->n_volumes; i++) {
		const Xenmesh__Volume *v = st->volumes[i];

		fprintf(f, "%s%-24s %-16s %-8s %4" PRIu32 " %14" PRIu64 "  %s%s%s\n",
			indent, ctl_format_safe(v->name, safe, sizeof(safe)),
			ctl_format_safe(v->vm, safe_vm, sizeof(safe_vm)), v->disk,
			v->lun, v->size_bytes, v->state, v->reason ? ": " : "",
			v->reason ? ctl_format_safe(v->reason, safe_reason,
						    sizeof(safe_reason)) : "");
	}
}

int
ctl_format_volumes(const Xenmesh__CtlResponse *r, char **text)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	*text = NULL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	volume_table(f, r->state, "");
	return ctl_format_finish(f, &mem, text);
}

static void
json_volumes(struct json *j, const Xenmesh__State *st)
{
	json_key(j, "volumes");
	json_array_begin(j);
	for (size_t i = 0; st != NULL && i < st->n_volumes; i++) {
		const Xenmesh__Volume *v = st->volumes[i];

		json_object_begin(j);
		json_key(j, "name");
		json_string(j, v->name);
		json_key(j, "vm");
		json_string(j, v->vm);
		json_key(j, "disk");
		json_string(j, v->disk);
		json_key(j, "lun");
		json_uint(j, v->lun);
		json_key(j, "size_bytes");
		json_uint(j, v->size_bytes);
		json_key(j, "state");
		json_string(j, v->state);
		json_key(j, "reason");
		ctl_format_json_nonempty(j, v->reason);
		json_object_end(j);
	}
	json_array_end(j);
}

int
ctl_format_volumes_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	json_volumes(&j, r->state);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

static void
json_daemon(struct json *j, const Xenmesh__StorageView *sv)
{
	json_key(j, "node");
	json_string(j, sv->node);
	json_key(j, "exporting");
	json_bool(j, sv->exporting);
	json_key(j, "portal");
	ctl_format_json_nonempty(j, sv->portal);
	json_key(j, "backend");
	ctl_format_json_nonempty(j, sv->backend);
	json_key(j, "mirror");
	ctl_format_json_nonempty(j, sv->mirror);
	json_key(j, "error");
	ctl_format_json_nonempty(j, sv->error);
	json_key(j, "resources");
	json_array_begin(j);
	for (size_t i = 0; i < sv->n_resources; i++) {
		const Xenmesh__StorageResource *r = sv->resources[i];

		json_object_begin(j);
		json_key(j, "name");
		json_string(j, r->name);
		json_key(j, "role");
		ctl_format_json_nonempty(j, r->role);
		json_key(j, "peer_role");
		ctl_format_json_nonempty(j, r->peer_role);
		json_key(j, "disk");
		ctl_format_json_nonempty(j, r->disk);
		json_key(j, "peer_disk");
		ctl_format_json_nonempty(j, r->peer_disk);
		json_key(j, "connection");
		ctl_format_json_nonempty(j, r->connection);
		json_key(j, "split_brain");
		json_bool(j, r->has_split_brain && r->split_brain);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "targets");
	json_array_begin(j);
	for (size_t i = 0; i < sv->n_targets; i++) {
		const Xenmesh__StorageTarget *t = sv->targets[i];

		json_object_begin(j);
		json_key(j, "tid");
		json_uint(j, t->tid);
		json_key(j, "iqn");
		json_string(j, t->iqn);
		json_key(j, "ready");
		json_bool(j, t->ready);
		json_key(j, "luns");
		json_array_begin(j);
		for (size_t k = 0; k < t->n_luns; k++) {
			json_object_begin(j);
			json_key(j, "lun");
			json_uint(j, t->luns[k]->lun);
			json_key(j, "path");
			json_string(j, t->luns[k]->path);
			json_object_end(j);
		}
		json_array_end(j);
		json_key(j, "acl");
		json_array_begin(j);
		for (size_t k = 0; k < t->n_acl; k++)
			json_string(j, t->acl[k]);
		json_array_end(j);
		json_key(j, "sessions");
		json_array_begin(j);
		for (size_t k = 0; k < t->n_sessions; k++) {
			json_object_begin(j);
			json_key(j, "sid");
			json_uint(j, t->sessions[k]->sid);
			json_key(j, "initiator");
			json_string(j, t->sessions[k]->initiator);
			json_key(j, "address");
			ctl_format_json_nonempty(j, t->sessions[k]->address);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

void
ctl_format_json_storage(struct json *j, const Xenmesh__CtlResponse *r)
{
	const Xenmesh__State *st = r->state;

	json_key(j, "storage");
	json_object_begin(j);
	json_key(j, "active_san");
	if (st != NULL && st->has_active_san && st->active_san != 0)
		ctl_format_json_node(j, st, st->active_san);
	else
		json_null(j);
	json_key(j, "fenced");
	json_array_begin(j);
	for (size_t i = 0; st != NULL && i < st->n_nodes; i++)
		if (st->nodes[i]->flags & NODE_FLAG_STORAGE_FENCED)
			json_string(j, st->nodes[i]->name);
	json_array_end(j);
	json_key(j, "vm_storage");
	json_object_begin(j);
	for (size_t i = 0; st != NULL && i < st->n_vms; i++) {
		if (!st->vms[i]->has_storage_gen)
			continue;
		json_key(j, st->vms[i]->name);
		json_uint(j, st->vms[i]->storage_gen);
	}
	json_object_end(j);
	json_volumes(j, st);
	if (r->storage != NULL) {
		json_key(j, "daemon");
		json_object_begin(j);
		json_daemon(j, r->storage);
		json_object_end(j);
	}
	json_object_end(j);
}

int
ctl_format_storage_json(const Xenmesh__CtlResponse *r, char **text)
{
	struct json j;

	*text = NULL;
	json_init(&j);
	json_object_begin(&j);
	ctl_format_json_storage(&j, r);
	json_object_end(&j);
	return ctl_format_json_finish(&j, text);
}

int
ctl_format_storage(const Xenmesh__CtlResponse *r, char **text)
{
	const Xenmesh__State *st = r->state;
	const Xenmesh__StorageView *sv = r->storage;
	char *mem = NULL, buf[24], safe[SAFE_MAX], safe2[SAFE_MAX];
	size_t memlen = 0;
	FILE *f;

	*text = NULL;
	f = open_memstream(&mem, &memlen);
	if (f == NULL)
		return -ENOMEM;
	fprintf(f, "Active SAN node: %s\nStorage-fenced hosts: ",
		ctl_format_safe(active_name(st, buf, sizeof(buf)), safe, sizeof(safe)));
	fenced_list(f, st);
	fprintf(f, "\n\nVolumes:\n");
	volume_table(f, st, "  ");
	if (sv == NULL) {
		fprintf(f, "\n(this node is not a SAN node: ask a SAN node for its "
			"targets, ACLs and sessions)\n");
		return ctl_format_finish(f, &mem, text);
	}
	fprintf(f, "\nTarget daemon of %s: %s%s%s (backend %s, mirror %s)\n",
		ctl_format_safe(sv->node, safe, sizeof(safe)),
		sv->exporting ? "exporting on portal " : "not exporting",
		sv->exporting && sv->portal ? ctl_format_safe(sv->portal, safe2,
							      sizeof(safe2)) : "",
		"", sv->backend ? sv->backend : "-", sv->mirror ? sv->mirror : "-");
	if (sv->error != NULL)
		fprintf(f, "  error: %s\n", ctl_format_safe(sv->error, safe, sizeof(safe)));
	for (size_t i = 0; i < sv->n_resources; i++) {
		const Xenmesh__StorageResource *res = sv->resources[i];

		if (res->role == NULL)
			fprintf(f, "  DRBD %s: not up\n",
				ctl_format_safe(res->name, safe, sizeof(safe)));
		else
			fprintf(f, "  DRBD %s: %s/%s %s/%s %s%s\n",
				ctl_format_safe(res->name, safe, sizeof(safe)), res->role,
				res->peer_role ? res->peer_role : "-",
				res->disk ? res->disk : "-",
				res->peer_disk ? res->peer_disk : "-",
				res->connection ? res->connection : "-",
				res->split_brain ? "  SPLIT BRAIN: a person must decide" : "");
	}
	if (sv->n_targets == 0)
		fprintf(f, "  no targets\n");
	for (size_t i = 0; i < sv->n_targets; i++) {
		const Xenmesh__StorageTarget *t = sv->targets[i];

		fprintf(f, "  target %" PRIu32 " %s (%s)\n", t->tid,
			ctl_format_safe(t->iqn, safe, sizeof(safe)),
			t->ready ? "ready" : "offline");
		for (size_t k = 0; k < t->n_luns; k++)
			fprintf(f, "    LUN %" PRIu32 ": %s\n", t->luns[k]->lun,
				ctl_format_safe(t->luns[k]->path, safe, sizeof(safe)));
		fprintf(f, "    ACL:");
		for (size_t k = 0; k < t->n_acl; k++)
			fprintf(f, " %s", ctl_format_safe(t->acl[k], safe, sizeof(safe)));
		fprintf(f, "%s\n", t->n_acl ? "" : " (nobody)");
		for (size_t k = 0; k < t->n_sessions; k++)
			fprintf(f, "    session %" PRIu32 ": %s%s%s\n", t->sessions[k]->sid,
				ctl_format_safe(t->sessions[k]->initiator, safe, sizeof(safe)),
				t->sessions[k]->address ? " from " : "",
				t->sessions[k]->address ? ctl_format_safe(t->sessions[k]->address,
									  safe2, sizeof(safe2)) : "");
	}
	return ctl_format_finish(f, &mem, text);
}
