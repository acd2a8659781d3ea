/* Placement at scale: ha/placement.c's placement_plan on a cluster of
 * many VMs and hosts (bench/population.h), timed.
 *
 *   xm-placement [--vms N] [--hosts N] [--repeat N] [--admission-repeat N]
 *
 * Three cases, each p50 and max over repeats:
 *   full plan     every VM placed from scratch in one call
 *   host lost     the VMs of the plan above run where it put them; the
 *                 host holding about vms/hosts of them fails and those
 *                 are placed again, the others counting where they run
 *                 (what ha_schedule asks after a fence)
 *   admission     placement_admission on the running cluster: one plan
 *                 per host (what every `agentctl status` answer runs,
 *                 agent/ctl_fence.c)
 * Built twice (bench/bench.am): xm-placement links the project's
 * placement as it is, PLACEMENT_MAX_VMS included, and says when the call
 * is refused; xm-placement-nocap links the same ha/placement.c with only
 * that limit raised (bench/placement_nocap.c), to time the algorithm
 * beyond it.  Prints figures; asserts nothing about them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "placement.h"
#include "population.h"
#include "xm_error.h"

#ifdef BENCH_NOCAP
#define BUILD_NOTE "ha/placement.c with PLACEMENT_MAX_VMS raised (bench/placement_nocap.c)"
#else
#define BUILD_NOTE "the project's placement as built (PLACEMENT_MAX_VMS " \
		   XM_STR(PLACEMENT_MAX_VMS) ")"
#endif
#define XM_STR2(x) #x
#define XM_STR(x) XM_STR2(x)

struct input {
	size_t nh, nv;
	struct placement_host *hosts;
	struct placement_vm *vms;
	struct vm_ha *ha;
	struct placement_choice *out;
};

static void
input_free(struct input *in)
{
	free(in->hosts);
	free(in->vms);
	free(in->ha);
	free(in->out);
	memset(in, 0, sizeof(*in));
}

/* Every VM to place, every host empty. */
static int
input_make(struct input *in, size_t nh, size_t nv)
{
	struct bench_host bh;
	struct bench_vm bv;
	size_t i;

	memset(in, 0, sizeof(*in));
	in->nh = nh;
	in->nv = nv;
	in->hosts = calloc(nh + 1, sizeof(*in->hosts));
	in->vms = calloc(nv + 1, sizeof(*in->vms));
	in->ha = calloc(nv + 1, sizeof(*in->ha));
	in->out = calloc(nv + 1, sizeof(*in->out));
	if (in->hosts == NULL || in->vms == NULL || in->ha == NULL ||
	    in->out == NULL) {
		input_free(in);
		return -ENOMEM;
	}
	for (i = 0; i < nh; i++) {
		bench_host_make(i, &bh);
		in->hosts[i].id = bh.id;
		memcpy(in->hosts[i].name, bh.name, sizeof(bh.name));
		in->hosts[i].eligible = true;
		in->hosts[i].mem_free_mb = bh.mem_mb;
	}
	for (i = 0; i < nv; i++) {
		bench_vm_make(i, nv, nh, &bv);
		in->ha[i] = bv.ha;
		memcpy(in->vms[i].name, bv.name, sizeof(bv.name));
		in->vms[i].memory_mb = bv.memory_mb;
		in->vms[i].ha = &in->ha[i];
		in->vms[i].needs_place = true;
	}
	return 0;
}

static const char *
reason_class(const char *r)
{
	if (strncmp(r, "needs ", 6) == 0)
		return "memory";
	if (strncmp(r, "anti-affinity", 13) == 0)
		return "anti-affinity";
	if (strncmp(r, "no eligible", 11) == 0)
		return "no eligible host";
	if (strncmp(r, "start order", 11) == 0)
		return "start order cycle";
	return "other";
}

/* "placed P of N (unplaceable: U memory, ...)" */
static void
print_outcome(const struct input *in, const char *what)
{
	static const char *const classes[] = {
		"memory", "anti-affinity", "no eligible host",
		"start order cycle", "other",
	};
	size_t cnt[5] = { 0 }, placed = 0, asked = 0, i, k;
	const char *example = NULL;

	for (i = 0; i < in->nv; i++) {
		if (!in->vms[i].needs_place)
			continue;
		asked++;
		if (in->out[i].host != 0) {
			placed++;
			continue;
		}
		for (k = 0; k < 5; k++)
			if (strcmp(reason_class(in->out[i].reason), classes[k]) == 0)
				cnt[k]++;
		if (example == NULL)
			example = in->out[i].reason;
	}
	printf("  %s: placed %zu of %zu", what, placed, asked);
	if (placed < asked) {
		printf(" (unplaceable:");
		for (k = 0; k < 5; k++)
			if (cnt[k] > 0)
				printf(" %zu %s", cnt[k], classes[k]);
		printf(")\n    e.g. \"%s\"", example);
	}
	printf("\n");
}

static int
time_plan(struct input *in, const char *what, int repeat)
{
	struct bench_series s;
	int rc = 0;

	if (bench_series_init(&s, what, (size_t)repeat) < 0)
		return -ENOMEM;
	for (int r = 0; r < repeat && rc == 0; r++) {
		double t0 = bench_now_ms();

		rc = placement_plan(in->hosts, in->nh, in->vms, in->nv, in->out);
		bench_series_add(&s, bench_now_ms() - t0);
	}
	if (rc < 0)
		printf("  %-44s refused: %s (%zu VMs in the call)\n", what,
		       xm_strerror(rc), in->nv);
	else
		bench_series_print(&s);
	bench_series_free(&s);
	return rc;
}

/* The plan's choices become where the VMs run: placed ones stay (their
 * memory taken off their host), unplaced ones leave the input.  Returns
 * the host holding the number of VMs closest to nv / nh. */
static uint32_t
input_run_plan(struct input *in)
{
	size_t i, k, n = 0, best = 0, target = in->nv / (in->nh ? in->nh : 1);
	size_t *count = calloc(in->nh + 1, sizeof(*count));
	uint32_t victim = 0;

	if (count == NULL)
		return 0;
	for (i = 0; i < in->nv; i++) {
		if (in->out[i].host == 0)
			continue;
		in->vms[n] = in->vms[i];
		in->vms[n].current_host = in->out[i].host;
		in->vms[n].needs_place = false;
		for (k = 0; k < in->nh; k++)
			if (in->hosts[k].id == in->out[i].host) {
				in->hosts[k].mem_free_mb -= in->vms[n].memory_mb;
				count[k]++;
			}
		n++;
	}
	in->nv = n;
	for (k = 0; k < in->nh; k++) {
		size_t d = count[k] > target ? count[k] - target : target - count[k];
		size_t bd = count[best] > target ? count[best] - target :
			    target - count[best];

		if (d < bd)
			best = k;
	}
	if (in->nh > 0)
		victim = in->hosts[best].id;
	free(count);
	return victim;
}

static void
input_fail_host(struct input *in, uint32_t victim, size_t *moved)
{
	size_t i, k;

	*moved = 0;
	for (k = 0; k < in->nh; k++)
		if (in->hosts[k].id == victim) {
			in->hosts[k].eligible = false;
			in->hosts[k].why_not = "failed";
		}
	for (i = 0; i < in->nv; i++)
		if (in->vms[i].current_host == victim) {
			in->vms[i].current_host = 0;
			in->vms[i].needs_place = true;
			(*moved)++;
		}
}

static void
input_describe(const struct input *in)
{
	uint64_t host_mb = 0, vm_mb = 0, min_h = UINT64_MAX, max_h = 0;
	size_t i, groups = 0, pref = 0, after = 0;

	for (i = 0; i < in->nh; i++) {
		host_mb += in->hosts[i].mem_free_mb;
		if (in->hosts[i].mem_free_mb < min_h)
			min_h = in->hosts[i].mem_free_mb;
		if (in->hosts[i].mem_free_mb > max_h)
			max_h = in->hosts[i].mem_free_mb;
	}
	for (i = 0; i < in->nv; i++) {
		vm_mb += in->vms[i].memory_mb;
		groups += in->ha[i].anti_affinity[0] != '\0';
		pref += in->ha[i].n_hosts > 0;
		after += in->ha[i].n_after > 0;
	}
	printf("cluster: %zu hosts with %" PRIu64 "..%" PRIu64 " GiB free each "
	       "(%" PRIu64 " GiB), %zu VMs asking %" PRIu64 " GiB (%.0f%%)\n",
	       in->nh, min_h / 1024, max_h / 1024, host_mb / 1024, in->nv,
	       vm_mb / 1024, host_mb ? 100.0 * (double)vm_mb / (double)host_mb : 0);
	printf("  VMs: 5 priorities (0..100), %zu in anti-affinity groups, "
	       "%zu with preferred hosts, %zu with ha_start_after\n",
	       groups, pref, after);
}

/* All three cases on a population of nv VMs. */
static int
run_cases(size_t nh, size_t nv, int repeat, int adm_repeat)
{
	struct admission_report *rep = NULL;
	struct bench_series s;
	struct input in;
	uint32_t victim;
	size_t moved = 0;
	char what[96];
	int rc;

	rc = input_make(&in, nh, nv);
	if (rc < 0)
		return rc;
	input_describe(&in);
	(void)snprintf(what, sizeof(what), "full plan (%zu VMs from scratch)", nv);
	rc = time_plan(&in, what, repeat);
	if (rc == 0)
		print_outcome(&in, "full plan");

	victim = 0;
	if (rc == 0)
		victim = input_run_plan(&in);
	else {
		/* the same cluster as if every VM had been placed round robin:
		 * only to show whether the call is accepted at this size */
		for (size_t i = 0; i < in.nv; i++) {
			in.out[i].host = in.hosts[i % nh].id;
			in.hosts[i % nh].mem_free_mb += in.vms[i].memory_mb;
		}
		victim = input_run_plan(&in);
	}
	input_fail_host(&in, victim, &moved);
	(void)snprintf(what, sizeof(what), "host lost (h%" PRIu32 ": %zu VMs, %zu in call)",
		       victim, moved, in.nv);
	if (time_plan(&in, what, repeat) == 0)
		print_outcome(&in, "host lost");

	/* back to the running cluster for the admission check */
	for (size_t i = 0; i < in.nv; i++)
		if (in.vms[i].needs_place) {
			in.vms[i].current_host = in.out[i].host;
			in.vms[i].needs_place = false;
		}
	for (size_t k = 0; k < in.nh; k++)
		if (in.hosts[k].id == victim) {
			in.hosts[k].eligible = true;
			in.hosts[k].why_not = NULL;
		}
	rep = calloc(1, sizeof(*rep));
	if (rep == NULL || bench_series_init(&s, "admission (one plan per host)",
					     (size_t)adm_repeat) < 0) {
		free(rep);
		input_free(&in);
		return -ENOMEM;
	}
	rc = 0;
	for (int r = 0; r < adm_repeat && rc == 0; r++) {
		double t0 = bench_now_ms();

		rc = placement_admission(in.hosts, in.nh, in.vms, in.nv, rep);
		bench_series_add(&s, bench_now_ms() - t0);
	}
	if (rc < 0)
		printf("  %-44s refused: %s (%zu VMs in the call)\n",
		       "admission (one plan per host)", xm_strerror(rc), in.nv);
	else {
		bench_series_print(&s);
		printf("  admission: %s, %" PRIu32 " hosts whose VMs would not all "
		       "fit elsewhere\n", rep->ok ? "ok" : "not ok", rep->n_failing);
	}
	bench_series_free(&s);
	free(rep);
	input_free(&in);
	return 0;
}

int
main(int argc, char **argv)
{
	long nv = 10000, nh = 64, repeat = 20, adm_repeat = 5;

	for (int i = 1; i < argc; i++) {
		long *dst = NULL;

		if (i + 1 < argc && strcmp(argv[i], "--vms") == 0)
			dst = &nv;
		else if (i + 1 < argc && strcmp(argv[i], "--hosts") == 0)
			dst = &nh;
		else if (i + 1 < argc && strcmp(argv[i], "--repeat") == 0)
			dst = &repeat;
		else if (i + 1 < argc && strcmp(argv[i], "--admission-repeat") == 0)
			dst = &adm_repeat;
		if (dst == NULL || (*dst = strtol(argv[++i], NULL, 10)) <= 0) {
			fprintf(stderr, "usage: xm-placement [--vms N] [--hosts N] "
				"[--repeat N] [--admission-repeat N]\n");
			return 2;
		}
	}
	printf("placement_plan: %s\n", BUILD_NOTE);
	if (run_cases((size_t)nh, (size_t)nv, (int)repeat, (int)adm_repeat) < 0)
		return EXIT_FAILURE;
#ifndef BENCH_NOCAP
	if (nv > PLACEMENT_MAX_VMS) {
		printf("-- the same at the limit, %d VMs:\n", PLACEMENT_MAX_VMS);
		if (run_cases((size_t)nh, PLACEMENT_MAX_VMS, (int)repeat,
			      (int)adm_repeat) < 0)
			return EXIT_FAILURE;
	}
#endif
	return EXIT_SUCCESS;
}
