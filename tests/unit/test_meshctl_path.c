/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of meshctl's cost formula, best paths and hysteresis
 * (tools/meshctl/path.c, included here since it is tool code outside
 * libmeshperf). Expected costs are worked by hand from the formula in
 * meshctl.h; path costs are checked against a Floyd-Warshall written here
 * on the same (cost, hops) key, over random meshes whose raw edges carry
 * random per-site clock offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/meshctl/path.c"

#define SEC(s) ((uint64_t)llround((s) * 1e3) * MP_NSEC_PER_MSEC)

/* A mesh under construction: true delays and clock offsets kept apart. */
struct mesh {
	unsigned nsites;
	size_t n;
	struct mc_edge *e;			/* MC_EDGES_MAX of them */
	int64_t off_us[MC_SITES];		/* each site's clock offset */
};

/* Floyd-Warshall on (cost, hops), the reference. */
struct ref {
	bool reach[MC_SITES][MC_SITES];
	int64_t d[MC_SITES][MC_SITES];
	unsigned h[MC_SITES][MC_SITES];
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd(uint64_t *st, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(splitmix64(st) % (uint64_t)(hi - lo + 1));
}

static struct mesh *mesh_new(unsigned nsites)
{
	struct mesh *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->e = calloc(MC_EDGES_MAX, sizeof(*m->e));
	assert_non_null(m->e);
	m->nsites = nsites;
	return m;
}

static void mesh_free(struct mesh *m)
{
	if (m)
		free(m->e);
	free(m);
}

/* Add X -> Y with true one-way delay true_us; raw cost gets the offsets. */
static size_t mesh_add(struct mesh *m, unsigned from, unsigned to, unsigned family,
		       int64_t true_us)
{
	struct mc_edge *e = &m->e[m->n];

	assert_true(m->n < MC_EDGES_MAX);
	e->from = (uint8_t)from;
	e->to = (uint8_t)to;
	e->family = (uint8_t)family;
	e->up = true;
	e->base_us = true_us;
	e->cost_us = true_us + m->off_us[to] - m->off_us[from];
	return m->n++;
}

/* Index of (from, to, family), which must exist. */
static struct mc_edge *mesh_edge(struct mesh *m, unsigned from, unsigned to, unsigned family)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].from == from && m->e[i].to == to && m->e[i].family == family)
			return &m->e[i];
	fail_msg("no edge %u -> %u v%u", from, to, family);
	return NULL;
}

/* Change the true delay of an edge, keeping the offsets. */
static void mesh_set(struct mesh *m, unsigned from, unsigned to, unsigned family,
		     int64_t true_us)
{
	struct mc_edge *e = mesh_edge(m, from, to, family);

	e->base_us = true_us;
	e->cost_us = true_us + m->off_us[to] - m->off_us[from];
}

/*
 * A full mesh of nsites with both families, true delays in [1, 50000] µs
 * (asymmetric, family 6 a little slower or faster), a fraction down_pm per
 * mille of tunnels down, and per-site offsets in [-off_max, off_max].
 */
static struct mesh *mesh_random(unsigned nsites, uint64_t seed, int64_t off_max, unsigned down_pm)
{
	struct mesh *m = mesh_new(nsites);
	uint64_t st = seed;
	unsigned x, y, f;

	for (x = 0; x < nsites; x++)
		m->off_us[x] = off_max ? rnd(&st, -off_max, off_max) : 0;
	for (x = 0; x < nsites; x++)
		for (y = 0; y < nsites; y++) {
			int64_t t;

			if (x == y)
				continue;
			t = rnd(&st, 1000, 50000);
			for (f = 4; f <= 6; f += 2) {
				size_t i = mesh_add(m, x, y, f, t + rnd(&st, 0, 3000));

				m->e[i].up = (unsigned)rnd(&st, 0, 999) >= down_pm;
			}
		}
	return m;
}

static void shuffle(struct mc_edge *e, size_t n, uint64_t seed)
{
	uint64_t st = seed;
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = splitmix64(&st) % i;
		struct mc_edge t = e[i - 1];

		e[i - 1] = e[j];
		e[j] = t;
	}
}

static struct ref *ref_fw(const struct mc_edge *e, size_t n, unsigned nsites)
{
	struct ref *r = calloc(1, sizeof(*r));
	unsigned i, j, k;
	size_t x;

	assert_non_null(r);
	for (i = 0; i < nsites; i++)
		r->reach[i][i] = true;
	for (x = 0; x < n; x++) {
		unsigned a = e[x].from, b = e[x].to;

		if (!e[x].up || a == b)
			continue;
		if (!r->reach[a][b] || e[x].cost_us < r->d[a][b]) {
			r->reach[a][b] = true;
			r->d[a][b] = e[x].cost_us;
			r->h[a][b] = 1;
		}
	}
	for (k = 0; k < nsites; k++)
		for (i = 0; i < nsites; i++) {
			if (!r->reach[i][k])
				continue;
			for (j = 0; j < nsites; j++) {
				int64_t d;
				unsigned h;

				if (!r->reach[k][j])
					continue;
				d = r->d[i][k] + r->d[k][j];
				h = r->h[i][k] + r->h[k][j];
				if (!r->reach[i][j] || d < r->d[i][j] ||
				    (d == r->d[i][j] && h < r->h[i][j])) {
					r->reach[i][j] = true;
					r->d[i][j] = d;
					r->h[i][j] = h;
				}
			}
		}
	return r;
}

/*
 * p against the reference, and p's tree against its own contract: the via
 * edge of every site lies on an optimal path and is the lowest-indexed one
 * that does; base and walk follow the tree.
 */
static void check_paths(const struct mc_paths *p, const struct mc_edge *e, size_t n,
			const struct ref *r, unsigned nsites)
{
	uint8_t sites[MC_PATH_MAX];
	int32_t idx[MC_PATH_MAX];
	unsigned s = p->src, v;
	size_t i;

	for (v = 0; v < MC_SITES; v++) {
		bool want = v < nsites && r->reach[s][v];
		int64_t cost = 0, base = 0;
		int k, j;

		assert_int_equal(p->reach[v], want);
		if (!want) {
			assert_int_equal(p->via_edge[v], -1);
			assert_int_equal(mc_paths_walk(p, e, v, sites, idx, MC_PATH_MAX), -ENOENT);
			continue;
		}
		assert_int_equal(p->cost_us[v], r->d[s][v]);
		assert_int_equal(p->hops[v], r->h[s][v]);
		if (v == s) {
			assert_int_equal(p->via_edge[v], -1);
			assert_int_equal(p->cost_us[v], 0);
			assert_int_equal(p->base_us[v], 0);
			continue;
		}
		for (i = 0; i < n; i++) {
			const struct mc_edge *x = &e[i];

			if (x->up && x->from != x->to && x->to == v && p->reach[x->from] &&
			    p->cost_us[x->from] + x->cost_us == p->cost_us[v] &&
			    p->hops[x->from] + 1 == p->hops[v])
				break;
		}
		assert_int_equal(p->via_edge[v], (int32_t)i);
		assert_int_equal(p->base_us[v], p->base_us[e[i].from] + e[i].base_us);
		k = mc_paths_walk(p, e, v, sites, idx, MC_PATH_MAX);
		assert_int_equal(k, (int)p->hops[v] + 1);
		assert_int_equal(sites[0], s);
		assert_int_equal(sites[k - 1], v);
		for (j = 0; j + 1 < k; j++) {
			assert_int_equal(e[idx[j]].from, sites[j]);
			assert_int_equal(e[idx[j]].to, sites[j + 1]);
			cost += e[idx[j]].cost_us;
			base += e[idx[j]].base_us;
		}
		assert_int_equal(cost, p->cost_us[v]);
		assert_int_equal(base, p->base_us[v]);
	}
}

static void check_all_sources(const struct mc_edge *e, size_t n, unsigned nsites, unsigned step)
{
	struct ref *r = ref_fw(e, n, nsites);
	struct mc_paths p;
	unsigned s;

	for (s = 0; s < nsites; s += step) {
		assert_int_equal(mc_paths_compute(e, n, s, &p), 0);
		check_paths(&p, e, n, r, nsites);
	}
	free(r);
}

static void cost_formula(void **state)
{
	const struct mc_cost_weights defaults = MC_COST_WEIGHTS_INIT;
	struct mc_cost_weights w = MC_COST_WEIGHTS_INIT;
	const struct mc_cost_weights w2 = { .jitter = 2.0, .loss_us = 10000.0, .avail_us = 0.0 };
	struct mc_metrics m = { .valid = true, .avail = 1.0 };

	(void)state;
	/* the default hop cost, 1000 µs, comes on top of everything else */
	m.fwd_ns = 12345678;
	assert_int_equal(mc_cost_us(&m, &defaults), 13346);
	w.hop_us = 0;
	/* a clean tunnel: the delay alone, 12345.678 µs rounds to 12346 */
	assert_int_equal(mc_cost_us(&m, &w), 12346);
	/* + jitter 1500 µs + loss 50000 * 0.5 / (1 - 0.5) = 50000
	 * + avail 100000 * (1 - 0.9) = 10000: 12345.678 + 71500 = 73845.678 */
	m.jitter_fwd_ns = 1500000;
	m.loss_fwd = 0.5;
	m.avail = 0.9;
	assert_int_equal(mc_cost_us(&m, &w), 73846);
	/* NULL weights are the defaults, with the hop cost */
	assert_int_equal(mc_cost_us(&m, NULL), 74846);
	/* jitter weight 2: 3000; loss 10000 * 0.2 / 0.8 = 2500; no avail term:
	 * 12345.678 + 3000 + 2500 = 17845.678 */
	m.loss_fwd = 0.2;
	assert_int_equal(mc_cost_us(&m, &w2), 17846);
	/* a negative raw delay (clock offset): -80000.4 µs rounds to -80000 */
	memset(&m, 0, sizeof(m));
	m.valid = true;
	m.avail = 1.0;
	m.fwd_ns = -80000400;
	assert_int_equal(mc_cost_us(&m, &w), -80000);
	/* halves round away from zero: 2.5 -> 3, -2.5 -> -3 */
	m.fwd_ns = 2500;
	assert_int_equal(mc_cost_us(&m, &w), 3);
	m.fwd_ns = -2500;
	assert_int_equal(mc_cost_us(&m, &w), -3);
	/* total loss: the denominator stops at 0.01: 50000 / 0.01 = 5e6, plus
	 * a tunnel never up, 100000: 5,100,000 */
	m.fwd_ns = 0;
	m.loss_fwd = 1.0;
	m.avail = 0.0;
	assert_int_equal(mc_cost_us(&m, &w), 5100000);
	/* nothing answered yet: the delay does not count, the rest does */
	m.valid = false;
	m.fwd_ns = 999999999;
	assert_int_equal(mc_cost_us(&m, &w), 5100000);
	/* out of range for the wire's int32: clamped */
	memset(&m, 0, sizeof(m));
	m.valid = true;
	m.avail = 1.0;
	m.fwd_ns = 3000000000000LL;
	assert_int_equal(mc_cost_us(&m, &w), INT32_MAX);
	m.fwd_ns = -3000000000000LL;
	assert_int_equal(mc_cost_us(&m, &w), INT32_MIN);
	/* nonsense fractions count as their nearest sane value */
	m.fwd_ns = 0;
	m.loss_fwd = -0.5;
	m.avail = 2.0;
	assert_int_equal(mc_cost_us(&m, &w), 0);
}

static void edges_sort_canonical(void **state)
{
	struct mesh *m = mesh_random(8, 7, 1000, 100);
	size_t i;

	(void)state;
	shuffle(m->e, m->n, 1);
	mc_edges_sort(m->e, m->n);
	for (i = 1; i < m->n; i++) {
		const struct mc_edge *a = &m->e[i - 1], *b = &m->e[i];

		assert_true(a->from < b->from || (a->from == b->from && (a->to < b->to ||
			    (a->to == b->to && a->family < b->family))));
	}
	mesh_free(m);
}

/*
 * Four sites, true delays (ms), src 0:
 *   0 -> 3: 100 (slow direct)     3 -> 0: 5 (fast direct, the other way)
 *   0 -> 1: 10, 1 -> 3: 20        1 -> 0: 40, 3 -> 1: 40
 *   0 -> 2: 30, 2 -> 3: 30        2 -> 0: 40, 3 -> 2: 40, 1 <-> 2: 50
 * 0 -> 3 goes through 1 (30 ms, 2 hops); 3 -> 0 direct (5 ms).
 */
static struct mesh *mesh_four(const int64_t *off_us)
{
	struct mesh *m = mesh_new(4);

	if (off_us)
		memcpy(m->off_us, off_us, 4 * sizeof(*off_us));
	mesh_add(m, 0, 1, 4, 10000);
	mesh_add(m, 0, 2, 4, 30000);
	mesh_add(m, 0, 3, 4, 100000);
	mesh_add(m, 1, 0, 4, 40000);
	mesh_add(m, 1, 2, 4, 50000);
	mesh_add(m, 1, 3, 4, 20000);
	mesh_add(m, 2, 0, 4, 40000);
	mesh_add(m, 2, 1, 4, 50000);
	mesh_add(m, 2, 3, 4, 30000);
	mesh_add(m, 3, 0, 4, 5000);
	mesh_add(m, 3, 1, 4, 40000);
	mesh_add(m, 3, 2, 4, 40000);
	return m;
}

static void relay_and_asymmetry(void **state)
{
	struct mesh *m = mesh_four(NULL);
	uint8_t sites[MC_PATH_MAX];
	int32_t idx[MC_PATH_MAX];
	struct mc_paths p;

	(void)state;
	mc_edges_sort(m->e, m->n);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	assert_true(p.reach[3]);
	assert_int_equal(p.cost_us[3], 30000);		/* 10 + 20 ms, not 100 */
	assert_int_equal(p.hops[3], 2);
	assert_int_equal(mc_paths_walk(&p, m->e, 3, sites, idx, MC_PATH_MAX), 3);
	assert_memory_equal(sites, ((uint8_t[]){ 0, 1, 3 }), 3);
	assert_int_equal(p.cost_us[1], 10000);
	assert_int_equal(p.cost_us[2], 30000);		/* direct, not 0 -> 1 -> 2 (60 ms) */
	assert_int_equal(p.hops[2], 1);
	/* the other way: 3 -> 0 is fast directly, 3 -> 1 via 0 (5 + 10 = 15) */
	assert_int_equal(mc_paths_compute(m->e, m->n, 3, &p), 0);
	assert_int_equal(p.cost_us[0], 5000);
	assert_int_equal(p.hops[0], 1);
	assert_int_equal(p.cost_us[1], 15000);
	assert_int_equal(mc_paths_walk(&p, m->e, 1, sites, idx, MC_PATH_MAX), 3);
	assert_memory_equal(sites, ((uint8_t[]){ 3, 0, 1 }), 3);
	assert_int_equal(m->e[idx[0]].from, 3);
	assert_int_equal(m->e[idx[0]].to, 0);
	assert_int_equal(m->e[idx[1]].to, 1);
	/* the base cost follows the tree */
	assert_int_equal(p.base_us[1], 15000);
	check_all_sources(m->e, m->n, 4, 1);
	mesh_free(m);
}

/* Same paths with and without clock offsets; costs move by off[dst] - off[src]. */
static void check_offset_free(const struct mesh *a, const struct mesh *b)
{
	struct mc_paths pa, pb;
	unsigned s, v;

	assert_int_equal(a->n, b->n);
	for (s = 0; s < a->nsites; s++) {
		assert_int_equal(mc_paths_compute(a->e, a->n, s, &pa), 0);
		assert_int_equal(mc_paths_compute(b->e, b->n, s, &pb), 0);
		assert_memory_equal(pa.reach, pb.reach, sizeof(pa.reach));
		assert_memory_equal(pa.via_edge, pb.via_edge, sizeof(pa.via_edge));
		assert_memory_equal(pa.hops, pb.hops, sizeof(pa.hops));
		assert_memory_equal(pa.base_us, pb.base_us, sizeof(pa.base_us));
		for (v = 0; v < a->nsites; v++)
			if (pa.reach[v])
				assert_int_equal(pb.cost_us[v] - pa.cost_us[v],
						 (b->off_us[v] - b->off_us[s]) -
						 (a->off_us[v] - a->off_us[s]));
	}
}

static void negative_edges(void **state)
{
	static const int64_t off4[4] = { 0, 0, 50000, 0 };	/* site 2 runs 50 ms ahead */
	struct mesh *a = mesh_four(NULL), *b = mesh_four(off4), *c, *d;
	size_t i, neg = 0;

	(void)state;
	/* into 2: +50000; out of 2: -50000, so 2 -> 0 costs -10000 */
	assert_int_equal(mesh_edge(b, 2, 0, 4)->cost_us, -10000);
	assert_int_equal(mesh_edge(b, 0, 2, 4)->cost_us, 80000);
	mc_edges_sort(a->e, a->n);
	mc_edges_sort(b->e, b->n);
	check_offset_free(a, b);
	check_all_sources(b->e, b->n, 4, 1);
	/* 32 sites: same true delays, offsets of +-100 ms on every site */
	c = mesh_random(32, 42, 0, 50);
	d = mesh_random(32, 42, 0, 50);
	for (i = 0; i < 32; i++)
		d->off_us[i] = (int64_t)((i * 7919) % 200001) - 100000;
	for (i = 0; i < d->n; i++) {
		d->e[i].cost_us += d->off_us[d->e[i].to] - d->off_us[d->e[i].from];
		neg += d->e[i].cost_us < 0;
	}
	assert_true(neg > d->n / 4);
	mc_edges_sort(c->e, c->n);
	mc_edges_sort(d->e, d->n);
	check_offset_free(c, d);
	check_all_sources(d->e, d->n, 32, 1);
	mesh_free(a);
	mesh_free(b);
	mesh_free(c);
	mesh_free(d);
}

static void unreachable(void **state)
{
	struct mesh *m = mesh_four(NULL);
	uint8_t sites[4];
	struct mc_paths p;
	unsigned v;

	(void)state;
	/* nothing up into 3; 2 has only a tunnel that is down out of 0 */
	for (v = 0; v < 3; v++)
		mesh_edge(m, v, 3, 4)->up = false;
	mesh_edge(m, 0, 2, 4)->up = false;
	mesh_edge(m, 1, 2, 4)->up = false;
	mc_edges_sort(m->e, m->n);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	assert_true(p.reach[0]);
	assert_true(p.reach[1]);
	assert_false(p.reach[2]);
	assert_false(p.reach[3]);
	assert_int_equal(p.via_edge[3], -1);
	assert_int_equal(mc_paths_walk(&p, m->e, 3, sites, NULL, 4), -ENOENT);
	/* a site no edge mentions is simply unreached */
	assert_false(p.reach[200]);
	/* no edges at all: only src */
	assert_int_equal(mc_paths_compute(NULL, 0, 7, &p), 0);
	assert_true(p.reach[7]);
	assert_int_equal(p.hops[7], 0);
	assert_int_equal(mc_paths_walk(&p, NULL, 7, sites, NULL, 4), 1);
	assert_int_equal(sites[0], 7);
	check_all_sources(m->e, m->n, 4, 1);
	mesh_free(m);
}

static void negative_cycle(void **state)
{
	struct mesh *m = mesh_four(NULL);
	struct mc_paths p, before;

	(void)state;
	/* 1 -> 2 -> 1 sums to -10 ms: inconsistent, whatever the offsets */
	mesh_set(m, 1, 2, 4, -30000);
	mesh_set(m, 2, 1, 4, 20000);
	mc_edges_sort(m->e, m->n);
	memset(&p, 0x5a, sizeof(p));
	memcpy(&before, &p, sizeof(p));
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), -ELOOP);
	assert_memory_equal(&p, &before, sizeof(p));	/* not written on failure */
	/* unreachable from src (only 0 -> x removed): not seen, not an error */
	mesh_edge(m, 0, 1, 4)->up = false;
	mesh_edge(m, 0, 2, 4)->up = false;
	mesh_edge(m, 0, 3, 4)->up = false;
	mc_edges_sort(m->e, m->n);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	assert_false(p.reach[1]);
	/* a zero-cost cycle is fine: fewer hops wins */
	mesh_free(m);
	m = mesh_four(NULL);
	mesh_set(m, 1, 2, 4, -20000);
	mesh_set(m, 2, 1, 4, 20000);
	mc_edges_sort(m->e, m->n);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	assert_int_equal(p.cost_us[2], -10000);		/* 0 -> 1 -> 2 */
	assert_int_equal(p.hops[2], 2);
	assert_int_equal(p.cost_us[1], 10000);
	assert_int_equal(p.hops[1], 1);
	check_all_sources(m->e, m->n, 4, 1);
	/* a self-loop is never part of a path, negative or not */
	mesh_add(m, 1, 1, 4, -99999);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	/* bad arguments */
	assert_int_equal(mc_paths_compute(m->e, m->n, MC_SITES, &p), -EINVAL);
	assert_int_equal(mc_paths_compute(NULL, 3, 0, &p), -EINVAL);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, NULL), -EINVAL);
	mesh_edge(m, 0, 1, 4)->cost_us = (int64_t)INT32_MAX + 1;
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), -EINVAL);
	mesh_free(m);
}

static void walk(void **state)
{
	struct mesh *m = mesh_new(6);
	uint8_t sites[8];
	int32_t idx[8];
	struct mc_paths p;
	unsigned v;

	(void)state;
	/* a line 0 - 1 - 2 - 3 - 4, both ways, 5 isolated */
	for (v = 0; v < 4; v++) {
		mesh_add(m, v, v + 1, 4, 1000);
		mesh_add(m, v + 1, v, 4, 1000);
	}
	mc_edges_sort(m->e, m->n);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	assert_int_equal(mc_paths_walk(&p, m->e, 4, sites, idx, 8), 5);
	assert_memory_equal(sites, ((uint8_t[]){ 0, 1, 2, 3, 4 }), 5);
	for (v = 0; v < 4; v++) {
		assert_int_equal(m->e[idx[v]].from, v);
		assert_int_equal(m->e[idx[v]].to, v + 1);
	}
	assert_int_equal(mc_paths_walk(&p, m->e, 4, sites, idx, 5), 5);
	assert_int_equal(mc_paths_walk(&p, m->e, 4, sites, idx, 4), -ENOSPC);
	assert_int_equal(mc_paths_walk(&p, m->e, 0, sites, idx, 1), 1);
	assert_int_equal(sites[0], 0);
	assert_int_equal(mc_paths_walk(&p, m->e, 5, sites, idx, 8), -ENOENT);
	assert_int_equal(mc_paths_walk(&p, m->e, MC_SITES, sites, idx, 8), -EINVAL);
	/* a corrupted tree (2 -> 1 -> 2 ...) ends, it does not spin */
	p.via_edge[1] = (int32_t)(mesh_edge(m, 2, 1, 4) - m->e);
	p.via_edge[2] = (int32_t)(mesh_edge(m, 1, 2, 4) - m->e);
	assert_int_equal(mc_paths_walk(&p, m->e, 2, sites, idx, 8), -ELOOP);
	/* a via edge that does not lead to the site */
	p.via_edge[2] = (int32_t)(mesh_edge(m, 3, 4, 4) - m->e);
	assert_int_equal(mc_paths_walk(&p, m->e, 2, sites, idx, 8), -EINVAL);
	mesh_free(m);
}

/* Many equal costs: the result depends on the edge set only, once sorted. */
static void tie_break_determinism(void **state)
{
	struct mesh *m = mesh_new(24);
	struct mc_paths want[24], got;
	uint64_t st = 99;
	unsigned x, y, s, round;

	(void)state;
	for (x = 0; x < 24; x++)
		for (y = 0; y < 24; y++)
			if (x != y) {
				int64_t c = rnd(&st, 1, 3) * 1000;

				mesh_add(m, x, y, 4, c);
				mesh_add(m, x, y, 6, c);	/* equal twin */
			}
	mc_edges_sort(m->e, m->n);
	for (s = 0; s < 24; s++)
		assert_int_equal(mc_paths_compute(m->e, m->n, s, &want[s]), 0);
	check_all_sources(m->e, m->n, 24, 1);
	for (round = 0; round < 5; round++) {
		shuffle(m->e, m->n, round + 1);
		/* unsorted: the same costs and hops (the tree may differ) */
		for (s = 0; s < 24; s += 5) {
			assert_int_equal(mc_paths_compute(m->e, m->n, s, &got), 0);
			assert_memory_equal(got.cost_us, want[s].cost_us, sizeof(got.cost_us));
			assert_memory_equal(got.hops, want[s].hops, sizeof(got.hops));
		}
		check_all_sources(m->e, m->n, 24, 7);
		mc_edges_sort(m->e, m->n);
		for (s = 0; s < 24; s++) {
			assert_int_equal(mc_paths_compute(m->e, m->n, s, &got), 0);
			assert_memory_equal(&got, &want[s], sizeof(got));
		}
	}
	mesh_free(m);
}

static void reference_random(void **state)
{
	static const struct {
		unsigned nsites;
		int64_t off_max;
		unsigned down_pm;
	} cases[] = {
		{ 2, 100000, 0 },
		{ 5, 100000, 300 },
		{ 17, 100000, 100 },
		{ 32, 100000, 0 },
		{ 48, 100000, 700 },	/* sparse: relays of many hops */
		{ 64, 100000, 900 },	/* very sparse: some sites unreachable */
	};
	unsigned i, seed;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(cases); i++)
		for (seed = 1; seed <= 3; seed++) {
			struct mesh *m = mesh_random(cases[i].nsites, seed * 1000 + i,
						     cases[i].off_max, cases[i].down_pm);

			/* checked unsorted too: correctness must not need the order */
			shuffle(m->e, m->n, seed);
			check_all_sources(m->e, m->n, m->nsites, 1);
			mc_edges_sort(m->e, m->n);
			check_all_sources(m->e, m->n, m->nsites, 1);
			mesh_free(m);
		}
}

/* The full size: 256 sites, both families, all 130,560 tunnels. */
static void reference_full_mesh(void **state)
{
	struct mesh *m = mesh_random(MC_SITES, 256, 100000, 0);

	(void)state;
	assert_int_equal(m->n, 2 * MC_SITES * (MC_SITES - 1));
	mc_edges_sort(m->e, m->n);
	check_all_sources(m->e, m->n, MC_SITES, 51);
	mesh_free(m);
}

/* ---- hysteresis ---- */

/*
 * Paths from 0 to 3 with a choice of first hops, true delays:
 *   0 -> 3 v4: 30 ms, v6: 40 ms
 *   0 -> 1 -> 3: 20 + 20 ms
 *   0 -> 2 -> 3: 25 + 25 ms
 * plus the tunnels back and between 1 and 2 (slow), so that every site
 * reaches every other.
 */
static struct mesh *mesh_hyst(const int64_t *off_us)
{
	struct mesh *m = mesh_new(4);
	unsigned x, y;

	if (off_us)
		memcpy(m->off_us, off_us, 4 * sizeof(*off_us));
	for (x = 0; x < 4; x++)
		for (y = 0; y < 4; y++)
			if (x != y)
				mesh_add(m, x, y, 4, 90000);
	mesh_add(m, 0, 3, 6, 40000);
	mesh_set(m, 0, 3, 4, 30000);
	mesh_set(m, 0, 1, 4, 20000);
	mesh_set(m, 1, 3, 4, 20000);
	mesh_set(m, 0, 2, 4, 25000);
	mesh_set(m, 2, 3, 4, 25000);
	return m;
}

static int decide(struct mc_choice *c, struct mesh *m, uint64_t now_ns)
{
	const struct mc_hyst_opts o = MC_HYST_OPTS_INIT;
	struct mc_paths p;

	mc_edges_sort(m->e, m->n);
	assert_int_equal(mc_paths_compute(m->e, m->n, 0, &p), 0);
	return mc_hyst_decide(c, &p, m->e, m->n, 3, &o, now_ns);
}

static void assert_path(const struct mc_choice *c, const uint8_t *sites, unsigned nsites,
			unsigned family0)
{
	assert_true(c->set);
	assert_int_equal(c->nsites, nsites);
	assert_memory_equal(c->sites, sites, nsites);
	assert_int_equal(c->families[0], family0);
}

/*
 * Dwell then hold-down, the same with clock offsets: the thresholds work on
 * offset-free quantities (a gain between two paths joining the same sites,
 * and the base cost), so the decisions must not change.
 */
static void hyst_dwell_holddown_run(const int64_t *off_us)
{
	struct mesh *m = mesh_hyst(off_us);
	struct mc_choice c = { 0 };

	assert_int_equal(decide(&c, m, SEC(0)), 1);
	assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 4);
	assert_string_equal(c.reason, "initial");
	assert_int_equal(c.switches, 0);
	assert_int_equal(c.since_mono_ns, SEC(0));
	assert_int_equal(c.base_us, 30000);
	assert_int_equal(c.cost_us, 30000 + m->off_us[3] - m->off_us[0]);
	/* steady: nothing to do */
	assert_int_equal(decide(&c, m, SEC(10)), 0);
	assert_false(c.cand_set);
	/* at 30 s, via 1 drops to 2 + 3 = 5 ms: gain 25 ms > max(2, 3) ms */
	mesh_set(m, 0, 1, 4, 2000);
	mesh_set(m, 1, 3, 4, 3000);
	assert_int_equal(decide(&c, m, SEC(30)), 0);
	assert_true(c.cand_set);
	assert_int_equal(c.cand_hop, 1);
	assert_int_equal(c.cand_family, 4);
	assert_int_equal(c.cand_since_mono_ns, SEC(30));
	assert_int_equal(decide(&c, m, SEC(34.999)), 0);
	assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 4);
	/* dwell of 5 s done, hold-down long over */
	assert_int_equal(decide(&c, m, SEC(35)), 1);
	assert_path(&c, (uint8_t[]){ 0, 1, 3 }, 3, 4);
	assert_string_equal(c.reason, "better");
	assert_int_equal(c.switches, 1);
	assert_int_equal(c.since_mono_ns, SEC(35));
	assert_false(c.cand_set);
	assert_int_equal(c.base_us, 5000);
	/* at 36 s, via 2 drops to 0.5 + 0.5 ms: gain 4 ms > max(2, 0.5) ms;
	 * dwell done at 41 s, but hold-down of 20 s holds until 55 s */
	mesh_set(m, 0, 2, 4, 500);
	mesh_set(m, 2, 3, 4, 500);
	assert_int_equal(decide(&c, m, SEC(36)), 0);
	assert_int_equal(c.cand_hop, 2);
	assert_int_equal(decide(&c, m, SEC(41)), 0);
	assert_int_equal(decide(&c, m, SEC(54.999)), 0);
	assert_path(&c, (uint8_t[]){ 0, 1, 3 }, 3, 4);
	assert_int_equal(decide(&c, m, SEC(55)), 1);
	assert_path(&c, (uint8_t[]){ 0, 2, 3 }, 3, 4);
	assert_int_equal(c.switches, 2);
	/* back to fewer tunnels a gain is enough (0.99 ms < the threshold) */
	mesh_set(m, 0, 3, 6, 10);
	assert_int_equal(decide(&c, m, SEC(100)), 0);
	assert_true(c.cand_set);
	assert_int_equal(c.cand_hop, 3);
	assert_int_equal(c.cand_family, 6);
	/* a challenger that drops out restarts its dwell when it returns */
	mesh_set(m, 0, 3, 6, 1100);	/* no gain at 101 s */
	assert_int_equal(decide(&c, m, SEC(101)), 0);
	assert_false(c.cand_set);
	mesh_set(m, 0, 3, 6, 10);	/* back at 105 s: a new dwell to 110 s */
	assert_int_equal(decide(&c, m, SEC(105)), 0);
	assert_int_equal(decide(&c, m, SEC(109.9)), 0);
	assert_int_equal(decide(&c, m, SEC(110)), 1);
	assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 6);	/* same site, other family */
	assert_int_equal(c.switches, 3);
	mesh_free(m);
}

static void hyst_dwell_holddown(void **state)
{
	static const int64_t off[4] = { 30000, -70000, 45000, -99000 };

	(void)state;
	hyst_dwell_holddown_run(NULL);
	hyst_dwell_holddown_run(off);
}

static void hyst_failure(void **state)
{
	struct mesh *m = mesh_hyst(NULL);
	struct mc_choice c = { 0 };
	struct mc_edge *d;

	(void)state;
	assert_int_equal(decide(&c, m, SEC(0)), 1);
	/* the direct tunnel goes down within the hold-down: switch at once, to
	 * v6 direct (40 ms, one hop) rather than 0 -> 1 -> 3 (40 ms, two) */
	mesh_edge(m, 0, 3, 4)->up = false;
	assert_int_equal(decide(&c, m, SEC(1)), 1);
	assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 6);
	assert_string_equal(c.reason, "failure");
	assert_int_equal(c.switches, 1);
	assert_int_equal(c.since_mono_ns, SEC(1));
	/* and a missing tunnel counts as down: to 0 -> 1 -> 3 */
	d = mesh_edge(m, 0, 3, 6);
	*d = m->e[--m->n];
	assert_int_equal(decide(&c, m, SEC(2)), 1);
	assert_path(&c, (uint8_t[]){ 0, 1, 3 }, 3, 4);
	assert_int_equal(c.switches, 2);
	/* the path's second tunnel fails: to 0 -> 2 -> 3 (50 ms; through 1,
	 * 0 -> 1 -> 2 -> 3 is 20 + 90 + 25 ms) */
	mesh_edge(m, 1, 3, 4)->up = false;
	assert_int_equal(decide(&c, m, SEC(3)), 1);
	assert_path(&c, (uint8_t[]){ 0, 2, 3 }, 3, 4);
	assert_int_equal(c.switches, 3);
	/* with the first tunnel kept, a repair behind it is silent */
	mesh_set(m, 0, 2, 4, 1000);
	mesh_set(m, 2, 1, 4, 1000);
	mesh_edge(m, 1, 3, 4)->up = true;
	mesh_set(m, 1, 3, 4, 1000);
	mesh_edge(m, 2, 3, 4)->up = false;
	assert_int_equal(decide(&c, m, SEC(4)), 0);
	assert_path(&c, (uint8_t[]){ 0, 2, 1, 3 }, 4, 4);
	assert_int_equal(c.families[1], 4);
	assert_int_equal(c.families[2], 4);
	assert_int_equal(c.switches, 3);
	assert_string_equal(c.reason, "failure");
	assert_int_equal(c.since_mono_ns, SEC(3));
	/* nothing left into 3: the route goes */
	mesh_edge(m, 1, 3, 4)->up = false;
	assert_int_equal(decide(&c, m, SEC(5)), 1);
	assert_false(c.set);
	assert_string_equal(c.reason, "unreachable");
	assert_int_equal(c.switches, 3);
	assert_int_equal(decide(&c, m, SEC(6)), 0);
	assert_false(c.set);
	/* back: an initial choice, not counted */
	mesh_edge(m, 2, 3, 4)->up = true;
	assert_int_equal(decide(&c, m, SEC(7)), 1);
	assert_path(&c, (uint8_t[]){ 0, 2, 3 }, 3, 4);
	assert_string_equal(c.reason, "initial");
	assert_int_equal(c.switches, 3);
	mesh_free(m);
}

static void hyst_below_threshold(void **state)
{
	struct mesh *m = mesh_hyst(NULL);
	struct mc_choice c = { 0 };
	uint64_t st = 5;
	unsigned t;

	(void)state;
	assert_int_equal(decide(&c, m, SEC(0)), 1);
	/* direct at 15 ms: the threshold is max(2 ms, 1.5 ms). Jitter: via 1
	 * wobbles between 0 and 2 ms better than direct, never more, for 10
	 * minutes */
	mesh_set(m, 0, 3, 4, 15000);
	assert_int_equal(decide(&c, m, SEC(0.5)), 0);
	for (t = 1; t <= 600; t++) {
		mesh_set(m, 0, 1, 4, 6000 + rnd(&st, 0, 2000));
		mesh_set(m, 1, 3, 4, 7000);
		assert_int_equal(decide(&c, m, SEC(t)), 0);
		assert_false(c.cand_set);
		assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 4);
	}
	/* the relative threshold: on a 100 ms path, 9 ms better is not enough */
	mesh_set(m, 0, 3, 4, 100000);
	mesh_set(m, 0, 1, 4, 45500);
	mesh_set(m, 1, 3, 4, 45500);
	mesh_set(m, 0, 3, 6, 200000);
	mesh_set(m, 0, 2, 4, 200000);
	for (t = 601; t <= 700; t++) {
		assert_int_equal(decide(&c, m, SEC(t)), 0);
		assert_false(c.cand_set);
	}
	assert_int_equal(c.cost_us, 100000);
	assert_int_equal(c.base_us, 100000);
	/* exactly 10 ms is not either: better by more than the threshold */
	mesh_set(m, 1, 3, 4, 44500);
	assert_int_equal(decide(&c, m, SEC(700.5)), 0);
	assert_false(c.cand_set);
	/* 10.001 ms is */
	mesh_set(m, 1, 3, 4, 44499);
	assert_int_equal(decide(&c, m, SEC(701)), 0);
	assert_true(c.cand_set);
	assert_int_equal(decide(&c, m, SEC(706)), 1);
	assert_int_equal(c.switches, 1);
	mesh_free(m);
}

static void hyst_same_first_hop(void **state)
{
	struct mesh *m = mesh_hyst(NULL);
	struct mc_choice c = { 0 };

	(void)state;
	/* no direct tunnel: the initial choice is the best relay */
	mesh_edge(m, 0, 3, 4)->up = false;
	mesh_edge(m, 0, 3, 6)->up = false;
	assert_int_equal(decide(&c, m, SEC(0)), 1);
	assert_path(&c, (uint8_t[]){ 0, 1, 3 }, 3, 4);
	/* 0 -> 1 -> 2 -> 3 becomes much better: same first tunnel, taken at
	 * once, inside the hold-down, without a switch */
	mesh_set(m, 1, 2, 4, 1000);
	mesh_set(m, 2, 3, 4, 1000);
	assert_int_equal(decide(&c, m, SEC(1)), 0);
	assert_path(&c, (uint8_t[]){ 0, 1, 2, 3 }, 4, 4);
	assert_int_equal(c.cost_us, 22000);
	assert_int_equal(c.switches, 0);
	assert_string_equal(c.reason, "initial");
	assert_int_equal(c.since_mono_ns, SEC(0));
	assert_false(c.cand_set);
	/* a candidate is dropped when the best comes back to our first hop */
	mesh_set(m, 0, 2, 4, 1000);
	assert_int_equal(decide(&c, m, SEC(2)), 0);
	assert_true(c.cand_set);
	mesh_set(m, 0, 2, 4, 25000);
	assert_int_equal(decide(&c, m, SEC(3)), 0);
	assert_false(c.cand_set);
	/* a stale down copy of our first tunnel beside the up one is no
	 * failure: a better path elsewhere still waits out its dwell */
	mesh_edge(m, 0, 1, 4)->up = true;
	mesh_add(m, 0, 1, 4, 20000);
	m->e[m->n - 1].up = false;
	mesh_set(m, 0, 2, 4, 1000);
	assert_int_equal(decide(&c, m, SEC(30)), 0);
	assert_true(c.cand_set);
	assert_path(&c, (uint8_t[]){ 0, 1, 2, 3 }, 4, 4);
	assert_int_equal(decide(&c, m, SEC(35)), 1);
	assert_string_equal(c.reason, "better");
	/* bad arguments */
	assert_int_equal(mc_hyst_decide(&c, NULL, m->e, m->n, 3, NULL, 0), -EINVAL);
	mesh_free(m);
}

/* With a direct tunnel up, the initial choice is the direct tunnel and a
 * better relay waits out its dwell time like any challenger. */
static void hyst_initial_direct(void **state)
{
	struct mesh *m = mesh_hyst(NULL);
	struct mc_choice c = { 0 };

	(void)state;
	mesh_set(m, 0, 3, 4, 80000);
	mesh_set(m, 0, 3, 6, 70000);
	assert_int_equal(decide(&c, m, SEC(100)), 1);
	assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 6);	/* the cheaper direct one */
	assert_string_equal(c.reason, "initial");
	assert_int_equal(c.cost_us, 70000);
	assert_int_equal(decide(&c, m, SEC(101)), 0);
	assert_true(c.cand_set);
	/* no hold-down after an initial choice: the dwell time alone */
	assert_int_equal(decide(&c, m, SEC(106)), 1);
	assert_path(&c, (uint8_t[]){ 0, 1, 3 }, 3, 4);
	assert_string_equal(c.reason, "better");
	assert_int_equal(c.switches, 1);
	/* the direct tunnel recovers to 1 ms less than the relay, within the
	 * 2 ms threshold: back to fewer tunnels a gain is enough, after the
	 * dwell time (5 s) but inside the hold-down (20 s after 106 s): a
	 * relay held on would loop if the relay turned back to us */
	mesh_set(m, 0, 3, 6, 39000);
	assert_int_equal(decide(&c, m, SEC(110)), 0);
	assert_true(c.cand_set);
	assert_int_equal(decide(&c, m, SEC(114.9)), 0);	/* dwell */
	assert_int_equal(decide(&c, m, SEC(115)), 1);
	assert_path(&c, (uint8_t[]){ 0, 3 }, 2, 6);
	/* and the way out again needs the full threshold */
	mesh_set(m, 0, 3, 6, 41500);
	assert_int_equal(decide(&c, m, SEC(200)), 0);
	assert_false(c.cand_set);
	mesh_free(m);
}

/* Two relays that take turns as the best keep one dwell time running. */
static void hyst_alternating(void **state)
{
	struct mesh *m = mesh_hyst(NULL);
	struct mc_choice c = { 0 };

	(void)state;
	mesh_set(m, 0, 3, 4, 80000);
	mesh_set(m, 0, 3, 6, 80000);
	assert_int_equal(decide(&c, m, SEC(100)), 1);		/* direct, 80 ms */
	assert_int_equal(decide(&c, m, SEC(101)), 0);		/* via 1: 40 ms */
	assert_int_equal(c.cand_hop, 1);
	mesh_set(m, 0, 2, 4, 15000);				/* via 2: 40 -> 40, 39 ms */
	mesh_set(m, 2, 3, 4, 24000);
	assert_int_equal(decide(&c, m, SEC(103)), 0);
	assert_int_equal(c.cand_hop, 2);
	assert_int_equal(c.cand_since_mono_ns, SEC(101));
	mesh_set(m, 0, 2, 4, 25000);				/* via 1 again */
	assert_int_equal(decide(&c, m, SEC(105)), 0);
	assert_int_equal(c.cand_hop, 1);
	assert_int_equal(decide(&c, m, SEC(106)), 1);		/* 5 s after 101 s */
	assert_path(&c, (uint8_t[]){ 0, 1, 3 }, 3, 4);
	mesh_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cost_formula),
		cmocka_unit_test(edges_sort_canonical),
		cmocka_unit_test(relay_and_asymmetry),
		cmocka_unit_test(negative_edges),
		cmocka_unit_test(unreachable),
		cmocka_unit_test(negative_cycle),
		cmocka_unit_test(walk),
		cmocka_unit_test(tie_break_determinism),
		cmocka_unit_test(reference_random),
		cmocka_unit_test(reference_full_mesh),
		cmocka_unit_test(hyst_dwell_holddown),
		cmocka_unit_test(hyst_failure),
		cmocka_unit_test(hyst_below_threshold),
		cmocka_unit_test(hyst_same_first_hop),
		cmocka_unit_test(hyst_initial_direct),
		cmocka_unit_test(hyst_alternating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
