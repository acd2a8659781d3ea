/* Prometheus text exposition of xenmeshd's counters and state (metrics.h).
 *
 * Every family is written with # HELP and # TYPE, and every label value
 * that has a fixed set (node and VM states, fence methods and results)
 * is always written, zeros included, so that a series never appears out
 * of nowhere and rate() and absent() behave.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "metrics.h"
#include "state.h"

const double metrics_failover_bounds[METRICS_FAILOVER_BUCKETS] = {
	1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300,
};

void
metrics_init(struct metrics *m, uint64_t start_time_ms)
{
	memset(m, 0, sizeof(*m));
	m->start_time_ms = start_time_ms;
}

void
metrics_cpg_sent(struct metrics *m, size_t bytes)
{
	m->cpg_sent++;
	m->cpg_sent_bytes += bytes;
}

void
metrics_cpg_received(struct metrics *m, size_t bytes)
{
	m->cpg_received++;
	m->cpg_received_bytes += bytes;
}

void
metrics_restart(struct metrics *m)
{
	m->restarts++;
}

void
metrics_fence(struct metrics *m, int kind, int result)
{
	if (kind <= 0 || kind >= METRICS_FENCE_KINDS || result <= 0 ||
	    result >= METRICS_FENCE_RESULTS)
		return;
	m->fences[kind][result]++;
}

void
metrics_failover(struct metrics *m, uint64_t ms)
{
	size_t i;

	for (i = 0; i < METRICS_FAILOVER_BUCKETS; i++)
		if ((double)ms <= metrics_failover_bounds[i] * 1000.0)
			break;
	m->failover[i]++;
	m->failover_count++;
	m->failover_sum_ms += ms;
}

/* ---- formatting --------------------------------------------------------- */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: \ " and newline escaped, as the format wants. */
static void
label_value(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void
counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void
format_state(FILE *f, const struct state *st)
{
	static const enum node_state nstates[] = {
		NODE_STATE_ONLINE, NODE_STATE_OFFLINE, NODE_STATE_UNCLEAN,
		NODE_STATE_FENCED,
	};
	static const enum vm_state vstates[] = {
		VM_STATE_STOPPED, VM_STATE_STARTING, VM_STATE_RUNNING,
		VM_STATE_STOPPING, VM_STATE_MIGRATING, VM_STATE_RECOVERING,
		VM_STATE_FAILED, VM_STATE_UNPLACEABLE,
	};
	static const struct { uint32_t flag; const char *name; } flags[] = {
		{ NODE_FLAG_MAINTENANCE, "maintenance" },
		{ NODE_FLAG_STANDBY, "standby" },
	};
	size_t i, k;

	family(f, "xenmesh_nodes", "gauge",
	       "Nodes in the replicated table, by state.");
	for (i = 0; i < sizeof(nstates) / sizeof(nstates[0]); i++) {
		uint64_t n = 0;

		for (k = 0; st != NULL && k < st->n_nodes; k++)
			n += st->nodes[k].state == nstates[i];
		fprintf(f, "xenmesh_nodes{state=\"%s\"} %" PRIu64 "\n",
			node_state_name(nstates[i]), n);
	}
	family(f, "xenmesh_nodes_flagged", "gauge",
	       "Nodes with the maintenance or standby flag set.");
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint64_t n = 0;

		for (k = 0; st != NULL && k < st->n_nodes; k++)
			n += (st->nodes[k].flags & flags[i].flag) != 0;
		fprintf(f, "xenmesh_nodes_flagged{flag=\"%s\"} %" PRIu64 "\n",
			flags[i].name, n);
	}
	family(f, "xenmesh_vms", "gauge",
	       "VMs defined in the cluster, by state.");
	for (i = 0; i < sizeof(vstates) / sizeof(vstates[0]); i++) {
		uint64_t n = 0;

		for (k = 0; st != NULL && k < st->n_vms; k++)
			n += st->vms[k].state == vstates[i];
		fprintf(f, "xenmesh_vms{state=\"%s\"} %" PRIu64 "\n",
			vm_state_name(vstates[i]), n);
	}
}

static void
format_fences(FILE *f, const struct metrics *m)
{
	/* label values: one word each (fence_result_name says "timed out") */
	static const char *const results[METRICS_FENCE_RESULTS] = {
		[FENCE_RESULT_OK] = "ok",
		[FENCE_RESULT_FAILED] = "failed",
		[FENCE_RESULT_TIMEOUT] = "timeout",
	};
	int k, r;

	family(f, "xenmesh_fence_methods_total", "counter",
	       "Fence methods run by this agent as coordinator, by method "
	       "and result.");
	for (k = 1; k < METRICS_FENCE_KINDS; k++) {
		for (r = 1; r < METRICS_FENCE_RESULTS; r++)
			fprintf(f, "xenmesh_fence_methods_total{method=\"%s\","
				"result=\"%s\"} %" PRIu64 "\n",
				fence_kind_name((enum fence_kind)k),
				results[r],
				m->fences[k][r]);
	}
}

static void
format_failover(FILE *f, const struct metrics *m)
{
	uint64_t cum = 0;
	size_t i;

	family(f, "xenmesh_failover_duration_seconds", "histogram",
	       "From the coordinator beginning to fence a lost host to its "
	       "fence confirmed (its VMs are placed again from then on).");
	for (i = 0; i < METRICS_FAILOVER_BUCKETS; i++) {
		cum += m->failover[i];
		fprintf(f, "xenmesh_failover_duration_seconds_bucket{le=\"%g\"} %"
			PRIu64 "\n", metrics_failover_bounds[i], cum);
	}
	cum += m->failover[METRICS_FAILOVER_BUCKETS];
	fprintf(f, "xenmesh_failover_duration_seconds_bucket{le=\"+Inf\"} %"
		PRIu64 "\n", cum);
	fprintf(f, "xenmesh_failover_duration_seconds_sum %" PRIu64 ".%03u\n",
		m->failover_sum_ms / 1000, (unsigned)(m->failover_sum_ms % 1000));
	fprintf(f, "xenmesh_failover_duration_seconds_count %" PRIu64 "\n",
		m->failover_count);
}

int
metrics_format(const struct metrics *m, const struct metrics_view *v,
	       char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	*out = NULL;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return -ENOMEM;

	family(f, "xenmesh_info", "gauge",
	       "Always 1; the labels say which agent this is.");
	fputs("xenmesh_info{version=\"", f);
	label_value(f, v->version);
	fprintf(f, "\",protocol=\"%u.%u\",cluster=\"", v->proto_major,
		v->proto_minor);
	label_value(f, v->cluster);
	fputs("\",node=\"", f);
	label_value(f, v->node);
	fprintf(f, "\",node_id=\"%" PRIu32 "\"} 1\n", v->local_id);
	family(f, "xenmesh_start_time_seconds", "gauge",
	       "When this agent started, in seconds since the epoch.");
	fprintf(f, "xenmesh_start_time_seconds %" PRIu64 ".%03u\n",
		m->start_time_ms / 1000, (unsigned)(m->start_time_ms % 1000));

	gauge(f, "xenmesh_corosync_connected",
	      "1 when the agent is connected to corosync.", v->connected);
	gauge(f, "xenmesh_quorate",
	      "1 when this node is in the quorate partition.", v->quorate);
	gauge(f, "xenmesh_synced",
	      "1 when the last sync round ended (the state is current).",
	      v->synced);
	gauge(f, "xenmesh_ha_enabled",
	      "1 when the quorum rules allow HA VMs.", v->ha_enabled);
	gauge(f, "xenmesh_votes", "Votes in this partition.", v->votes);
	gauge(f, "xenmesh_expected_votes", "Expected votes.", v->expected_votes);
	gauge(f, "xenmesh_quorum_votes", "Votes needed for quorum.", v->quorum);
	gauge(f, "xenmesh_coordinator_node_id",
	      "Node id of the coordinator, 0 when there is none.",
	      v->coordinator);
	gauge(f, "xenmesh_is_coordinator",
	      "1 when this node is the coordinator.",
	      v->coordinator != 0 && v->coordinator == v->local_id);
	gauge(f, "xenmesh_state_epoch",
	      "Epoch of the replicated state held here.", v->epoch);
	gauge(f, "xenmesh_state_seq",
	      "Sequence number of the replicated state held here.", v->seq);

	format_state(f, v->st);
	gauge(f, "xenmesh_unmanaged_domains",
	      "Domains on this host not defined in xenmesh.", v->unmanaged);

	counter(f, "xenmesh_vm_restarts_total",
		"VM restarts committed by this agent as coordinator.",
		m->restarts);
	format_fences(f, m);
	format_failover(f, m);
	counter(f, "xenmesh_cpg_messages_sent_total",
		"CPG messages multicast by this agent.", m->cpg_sent);
	counter(f, "xenmesh_cpg_sent_bytes_total",
		"Bytes of the CPG messages multicast by this agent.",
		m->cpg_sent_bytes);
	counter(f, "xenmesh_cpg_messages_received_total",
		"CPG messages delivered to this agent.", m->cpg_received);
	counter(f, "xenmesh_cpg_received_bytes_total",
		"Bytes of the CPG messages delivered to this agent.",
		m->cpg_received_bytes);

	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}
