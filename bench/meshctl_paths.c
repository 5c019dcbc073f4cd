/* SPDX-License-Identifier: MIT */
/*
 * meshctl's best-path computation at full size, against an all-pairs
 * Floyd-Warshall over the same costs in the same run (built and run by
 * bench/meshctl.sh).
 *
 * The mesh: 256 sites, a tunnel per outer family (4 and 6) per ordered
 * pair, 130,560 directed tunnels. Each ordered pair has a true one-way delay
 * drawn in [1, 50] ms (the two directions independently), each tunnel a
 * penalty in [0, 2] ms (jitter and loss terms), and each site a clock offset
 * in [-100, +100] ms, so a raw cost is true + penalty + off[to] - off[from]
 * and many are negative. Fixed seed: every run sees the same mesh.
 *
 * Timed: mc_paths_compute() from each of the 256 sources (ROUNDS rounds;
 * mean, median and max of one computation), and one Floyd-Warshall over
 * the 256 x 256 matrix of the cheaper family per pair. Every distance of
 * every source must equal Floyd-Warshall's exactly.
 *
 *   meshctl_paths [ROUNDS]        (default 5)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tools/meshctl/path.c"

enum {
	NSITES = MC_SITES,
	NEDGES = 2 * NSITES * (NSITES - 1),
	ROUNDS_DEFAULT = 5,
	ROUNDS_MAX = 1000,
};

#define SEED 0x6d657368637432ULL	/* "meshct2" */
#define FW_NONE INT64_MAX

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t rnd(uint64_t *st, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(splitmix64(st) % (uint64_t)(hi - lo + 1));
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The mesh, in the canonical order; *ret_neg: raw costs below zero. */
static void mesh_build(struct mc_edge *e, size_t *ret_neg)
{
	int64_t off_us[NSITES];
	uint64_t st = SEED;
	size_t n = 0, neg = 0;
	unsigned x, y, f;

	for (x = 0; x < NSITES; x++)
		off_us[x] = rnd(&st, -100000, 100000);
	for (x = 0; x < NSITES; x++)
		for (y = 0; y < NSITES; y++) {
			int64_t true_us;

			if (x == y)
				continue;
			true_us = rnd(&st, 1000, 50000);
			for (f = 4; f <= 6; f += 2) {
				struct mc_edge *t = &e[n++];

				t->from = (uint8_t)x;
				t->to = (uint8_t)y;
				t->family = (uint8_t)f;
				t->up = true;
				t->base_us = true_us + rnd(&st, 0, 2000);
				t->cost_us = t->base_us + off_us[y] - off_us[x];
				neg += t->cost_us < 0;
			}
		}
	mc_edges_sort(e, n);
	*ret_neg = neg;
}

/* All pairs over d (NSITES x NSITES, FW_NONE: no edge), in place. */
static void floyd_warshall(int64_t *d)
{
	unsigned i, j, k;

	for (k = 0; k < NSITES; k++) {
		const int64_t *dk = d + (size_t)k * NSITES;

		for (i = 0; i < NSITES; i++) {
			int64_t *di = d + (size_t)i * NSITES, dik = di[k];

			if (dik == FW_NONE)
				continue;
			for (j = 0; j < NSITES; j++)
				if (dk[j] != FW_NONE && dik + dk[j] < di[j])
					di[j] = dik + dk[j];
		}
	}
}

int main(int argc, char **argv)
{
	struct mc_edge *e = calloc(NEDGES, sizeof(*e));
	int64_t *fw = malloc(sizeof(*fw) * NSITES * NSITES);
	uint64_t *t_ns = NULL, fw_ns, t0, sum_ns = 0, best_round_ns = UINT64_MAX;
	struct mc_paths p;
	unsigned rounds = ROUNDS_DEFAULT, r, s, v, bad = 0, nt = 0, relayed = 0, max_hops = 0;
	size_t i, neg;
	int err, ret = 1;

	if (argc > 1) {
		rounds = (unsigned)strtoul(argv[1], NULL, 10);
		if (rounds < 1 || rounds > ROUNDS_MAX) {
			fprintf(stderr, "meshctl_paths: invalid rounds '%s'\n", argv[1]);
			return 2;
		}
	}
	t_ns = calloc((size_t)rounds * NSITES, sizeof(*t_ns));
	if (!e || !fw || !t_ns) {
		fprintf(stderr, "meshctl_paths: out of memory\n");
		goto out;
	}
	mesh_build(e, &neg);

	for (i = 0; i < (size_t)NSITES * NSITES; i++)
		fw[i] = i / NSITES == i % NSITES ? 0 : FW_NONE;
	for (i = 0; i < NEDGES; i++) {
		int64_t *c = &fw[(size_t)e[i].from * NSITES + e[i].to];

		*c = MP_MIN(*c, e[i].cost_us);
	}
	t0 = mono_ns();
	floyd_warshall(fw);
	fw_ns = mono_ns() - t0;

	err = mc_paths_compute(e, NEDGES, 0, &p);	/* warm-up */
	for (r = 0; r < rounds && err == 0; r++) {
		uint64_t round_ns = 0;

		for (s = 0; s < NSITES; s++) {
			t0 = mono_ns();
			err = mc_paths_compute(e, NEDGES, s, &p);
			t_ns[nt] = mono_ns() - t0;
			if (err < 0)
				break;
			round_ns += t_ns[nt];
			sum_ns += t_ns[nt++];
			if (r)
				continue;
			for (v = 0; v < NSITES; v++) {
				bad += !p.reach[v] || p.cost_us[v] != fw[(size_t)s * NSITES + v];
				relayed += p.hops[v] > 1;
				max_hops = MP_MAX(max_hops, p.hops[v]);
			}
		}
		best_round_ns = MP_MIN(best_round_ns, round_ns);
	}
	if (err < 0) {
		fprintf(stderr, "meshctl_paths: mc_paths_compute: %s\n", strerror(-err));
		goto out;
	}
	qsort(t_ns, nt, sizeof(*t_ns), cmp_u64);

	printf("mesh: %d sites, %d directed tunnels (v4 + v6 per ordered pair), "
	       "%zu raw costs negative (%.0f %%)\n", NSITES, NEDGES, neg, 100.0 * neg / NEDGES);
	printf("best paths: %u of %d through relays (%.0f %%), up to %u hops\n", relayed,
	       NSITES * (NSITES - 1), 100.0 * relayed / (NSITES * (NSITES - 1)), max_hops);
	printf("%-40s %10s %10s %10s\n", "", "mean_ms", "median_ms", "max_ms");
	printf("%-40s %10.3f %10.3f %10.3f\n", "mc_paths_compute, one source",
	       sum_ns / 1e6 / nt, t_ns[nt / 2] / 1e6, t_ns[nt - 1] / 1e6);
	printf("%-40s %10.3f\n", "mc_paths_compute, all 256 (best round)", best_round_ns / 1e6);
	printf("%-40s %10.3f\n", "Floyd-Warshall, all pairs", fw_ns / 1e6);
	printf("ratio: Floyd-Warshall / 256 x mc_paths_compute = %.2f; "
	       "Floyd-Warshall / one mc_paths_compute = %.0f\n",
	       (double)fw_ns / (double)best_round_ns, (double)fw_ns / (sum_ns / (double)nt));
	printf("distances: %u of %d differ from Floyd-Warshall (%u rounds of 256 timed)\n", bad,
	       NSITES * NSITES, rounds);
	ret = bad ? 1 : 0;
out:
	free(t_ns);
	free(fw);
	free(e);
	return ret;
}
