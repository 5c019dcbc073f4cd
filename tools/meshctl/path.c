/* SPDX-License-Identifier: MIT */
/*
 * path: the cost of a tunnel, the best path from this site to every other
 * over one-way costs, and the hysteresis that decides when a route moves.
 *
 * Raw one-way delays carry the clock offset between the two ends, so an
 * edge may cost less than zero. Along any path between the same two sites
 * the offsets telescope to the same sum, so comparing such paths is exact;
 * a cycle's offsets cancel, so a negative cycle means inconsistent data.
 * Hence Bellman-Ford, not Dijkstra.
 *
 * Every node must pick the same paths from the same edges. The distances,
 * ordered by (cost, hops), have one optimum whatever the order of the
 * relaxations; the tree through them is then fixed afterwards by taking, for
 * each site, the lowest-indexed edge that lies on an optimal path. So the
 * relaxation order is free (it only changes the speed), and the result
 * depends only on the edge array.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "meshctl.h"

/* An up edge as the relaxation loop sees it, grouped by its from site. */
struct arc {
	int32_t cost_us;	/* raw cost, range-checked to fit */
	uint32_t idx_to;	/* index in edges[] << 8 | head site */
};

/* The working state of one computation (about 4 KiB: on the stack). */
struct relax {
	int64_t d[MC_SITES];		/* best raw cost so far; DIST_NONE: unreached */
	uint32_t h[MC_SITES];		/* its hops */
	bool dirty[MC_SITES];		/* d changed since the site's arcs were scanned */
	uint32_t first[MC_SITES + 1];	/* site u's arcs: arcs[first[u] .. first[u + 1]) */
};

#define DIST_NONE INT64_MAX

static double clamp01(double v)
{
	/* NaN and negatives count as 0 */
	if (!(v > 0.0))
		return 0.0;
	return v > 1.0 ? 1.0 : v;
}

/*
 * Rounded to the nearest µs (halves away from zero) and clamped to the
 * int32 range, since costs travel as int32 in the exchange. w NULL: the
 * default weights. An invalid metric (nothing answered yet) has no delay:
 * fwd counts as 0, the other terms as given.
 */
int64_t mc_cost_us(const struct mc_metrics *m, const struct mc_cost_weights *w)
{
	static const struct mc_cost_weights defaults = MC_COST_WEIGHTS_INIT;
	double fwd_us, p, cost;

	if (!w)
		w = &defaults;
	fwd_us = m->valid ? (double)m->fwd_ns / 1e3 : 0.0;
	p = clamp01(m->loss_fwd);
	cost = fwd_us + w->jitter * ((double)m->jitter_fwd_ns / 1e3) +
	       w->loss_us * p / (1.0 - MP_MIN(p, 0.99)) + w->avail_us * (1.0 - clamp01(m->avail)) +
	       w->hop_us;
	if (isnan(cost) || cost >= (double)INT32_MAX)
		return INT32_MAX;
	if (cost <= (double)INT32_MIN)
		return INT32_MIN;
	return llround(cost);
}

static int edge_cmp(const void *a, const void *b)
{
	const struct mc_edge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	/* duplicates of one tunnel: order by every field, so that qsort's
	 * instability cannot make two nodes see different arrays */
	if (x->up != y->up)
		return x->up ? 1 : -1;
	if (x->cost_us != y->cost_us)
		return x->cost_us < y->cost_us ? -1 : 1;
	if (x->base_us != y->base_us)
		return x->base_us < y->base_us ? -1 : 1;
	return 0;
}

void mc_edges_sort(struct mc_edge *edges, size_t n)
{
	if (edges && n > 1)
		qsort(edges, n, sizeof(*edges), edge_cmp);
}

static bool fits_i32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* Usable in a path: up, not a loop onto itself (never a tunnel, and no
 * shortest path uses one). */
static bool edge_usable(const struct mc_edge *e)
{
	return e->up && e->from != e->to;
}

/*
 * Group the usable edges by from site into *ret_arcs (free()), in index
 * order within a group, and count the sites they touch (src included). One
 * pass over edges[] when they are in the canonical order (the common case:
 * the array is large, the arcs a third of its size); otherwise a counting
 * sort follows. Returns 0, or -EINVAL (a cost outside int32), -ENOMEM.
 */
static int arcs_build(const struct mc_edge *edges, size_t n, unsigned src, struct relax *r,
		      struct arc **ret_arcs, unsigned *ret_nsites)
{
	uint32_t count[MC_SITES] = { 0 };
	bool seen[MC_SITES] = { false };
	struct arc *arcs, *sorted;
	unsigned u, nsites = 0, prev = 0;
	bool in_order = true;
	size_t i, k = 0;

	arcs = malloc(MP_MAX(n, 1) * sizeof(*arcs));
	if (!arcs)
		return -ENOMEM;
	seen[src] = true;
	for (i = 0; i < n; i++) {
		const struct mc_edge *e = &edges[i];

		if (!edge_usable(e))
			continue;
		/* the wire's range: keeps every sum, even of a diverging
		 * negative cycle, far from int64 overflow */
		if (!fits_i32(e->cost_us) || !fits_i32(e->base_us)) {
			free(arcs);
			return -EINVAL;
		}
		arcs[k++] = (struct arc){ .cost_us = (int32_t)e->cost_us,
					  .idx_to = (uint32_t)i << 8 | e->to };
		count[e->from]++;
		seen[e->from] = seen[e->to] = true;
		in_order &= e->from >= prev;
		prev = e->from;
	}
	r->first[0] = 0;
	for (u = 0; u < MC_SITES; u++) {
		r->first[u + 1] = r->first[u] + count[u];
		nsites += seen[u];
	}
	if (!in_order) {
		sorted = malloc(MP_MAX(k, 1) * sizeof(*sorted));
		if (!sorted) {
			free(arcs);
			return -ENOMEM;
		}
		memcpy(count, r->first, sizeof(count));
		for (i = 0; i < k; i++)
			sorted[count[edges[arcs[i].idx_to >> 8].from]++] = arcs[i];
		free(arcs);
		arcs = sorted;
	}
	*ret_arcs = arcs;
	*ret_nsites = nsites;
	return 0;
}

/*
 * Bellman-Ford on the key (cost, hops), strictly better only. A pass scans
 * the sites in order and, of each, only the arcs of a site whose distance
 * changed since its last scan (the others cannot improve anything). With no
 * negative cycle the keys are final after nsites - 1 changing passes, and
 * no tentative path is longer than nsites - 1 hops: a longer one repeats a
 * site, and reached it the second time more cheaply. Either symptom means
 * a negative cycle. Returns 0 or -ELOOP.
 */
static int relax_run(struct relax *r, const struct arc *arcs, unsigned src, unsigned nsites)
{
	unsigned pass, u;
	bool changed = true;

	for (u = 0; u < MC_SITES; u++) {
		r->d[u] = DIST_NONE;
		r->h[u] = 0;
		r->dirty[u] = false;
	}
	r->d[src] = 0;
	r->dirty[src] = true;
	for (pass = 1; changed; pass++) {
		if (pass > nsites)
			return -ELOOP;
		changed = false;
		for (u = 0; u < MC_SITES; u++) {
			const struct arc *a = arcs + r->first[u], *end = arcs + r->first[u + 1];
			int64_t du = r->d[u];
			uint32_t hu = r->h[u] + 1;

			if (!r->dirty[u])
				continue;
			r->dirty[u] = false;
			for (; a < end; a++) {
				int64_t nd = du + a->cost_us;
				unsigned v = a->idx_to & 0xff;

				if (nd > r->d[v] || (nd == r->d[v] && hu >= r->h[v]))
					continue;
				if (hu >= nsites)
					return -ELOOP;
				r->d[v] = nd;
				r->h[v] = hu;
				r->dirty[v] = true;
				changed = true;
			}
		}
	}
	return 0;
}

/*
 * The tree: for each reached site, the lowest-indexed usable edge whose
 * tail's key plus the edge gives the site's key. Its tail has one hop
 * fewer, so the parent pointers always lead back to src. Then the
 * offset-free costs along the tree, parents before children (by hops).
 */
static int tree_build(const struct relax *r, const struct arc *arcs, const struct mc_edge *edges,
		      unsigned src, struct mc_paths *p)
{
	unsigned u, v, hop, reached = 0, linked = 0, max_hops = 0;

	memset(p, 0, sizeof(*p));
	p->src = src;
	for (v = 0; v < MC_SITES; v++) {
		p->via_edge[v] = -1;
		if (r->d[v] == DIST_NONE)
			continue;
		p->reach[v] = true;
		p->cost_us[v] = r->d[v];
		p->hops[v] = r->h[v];
		max_hops = MP_MAX(max_hops, r->h[v]);
		reached++;
	}
	for (u = 0; u < MC_SITES; u++) {
		const struct arc *a = arcs + r->first[u], *end = arcs + r->first[u + 1];

		if (!p->reach[u])
			continue;
		for (; a < end; a++) {
			unsigned w = a->idx_to & 0xff;
			int32_t idx = (int32_t)(a->idx_to >> 8);

			if (r->h[w] != r->h[u] + 1 || r->d[u] + a->cost_us != r->d[w])
				continue;
			if (p->via_edge[w] < 0)
				linked++;
			else if (p->via_edge[w] < idx)
				continue;
			p->via_edge[w] = idx;
		}
	}
	/* a converged run leaves every reached site an optimal last edge */
	if (linked + 1 != reached)
		return -ELOOP;
	for (hop = 1; hop <= max_hops; hop++)
		for (v = 0; v < MC_SITES; v++)
			if (p->reach[v] && p->hops[v] == hop) {
				const struct mc_edge *e = &edges[p->via_edge[v]];

				p->base_us[v] = p->base_us[e->from] + e->base_us;
				p->jitter_us[v] = p->jitter_us[e->from] + e->jitter_us;
			}
	return 0;
}

/*
 * Ties between paths of equal cost go to fewer hops, then to the one whose
 * last edge comes first in edges[]; the path to that edge's tail was chosen
 * by the same rule.
 */
int mc_paths_compute(const struct mc_edge *edges, size_t n, unsigned src,
		     struct mc_paths *ret)
{
	struct mc_paths p;
	struct relax r;
	struct arc *arcs = NULL;
	unsigned nsites;
	int err;

	if (!ret || (!edges && n) || src >= MC_SITES || n > MC_EDGES_MAX)
		return -EINVAL;
	err = arcs_build(edges, n, src, &r, &arcs, &nsites);
	if (err < 0)
		goto out;
	err = relax_run(&r, arcs, src, nsites);
	if (err < 0)
		goto out;
	err = tree_build(&r, arcs, edges, src, &p);
	if (err < 0)
		goto out;
	*ret = p;
out:
	free(arcs);
	return err;
}

int mc_paths_walk(const struct mc_paths *p, const struct mc_edge *edges, unsigned dst,
		  uint8_t *sites, int32_t *edge_idx, size_t max)
{
	uint8_t rsites[MC_PATH_MAX];
	int32_t redges[MC_PATH_MAX];
	unsigned cur = dst;
	size_t k = 0, i;

	if (!p || p->src >= MC_SITES || dst >= MC_SITES)
		return -EINVAL;
	if (!p->reach[dst])
		return -ENOENT;
	rsites[k++] = (uint8_t)dst;
	/* bounded: a corrupted via_edge chain must not loop forever */
	while (cur != p->src) {
		int32_t e = p->via_edge[cur];

		if (k >= MC_PATH_MAX)
			return -ELOOP;
		if (e < 0 || !edges || edges[e].to != cur)
			return -EINVAL;
		redges[k - 1] = e;
		cur = edges[e].from;
		rsites[k++] = (uint8_t)cur;
	}
	if (k > max)
		return -ENOSPC;
	for (i = 0; i < k; i++) {
		if (sites)
			sites[i] = rsites[k - 1 - i];
		if (edge_idx && i + 1 < k)
			edge_idx[i] = redges[k - 2 - i];
	}
	return (int)k;
}

static int key_cmp(const struct mc_edge *e, uint8_t from, uint8_t to, uint8_t family)
{
	if (e->from != from)
		return e->from < from ? -1 : 1;
	if (e->to != to)
		return e->to < to ? -1 : 1;
	if (e->family != family)
		return e->family < family ? -1 : 1;
	return 0;
}

/*
 * The index of the tunnel (from, to, family) in edges[], the first up copy
 * if the array holds duplicates, or -1. Binary search on the canonical
 * order; if that finds nothing, a linear search, so that an array not in
 * that order gives the same answer, only slower.
 */
static ssize_t edge_find(const struct mc_edge *edges, size_t n, uint8_t from, uint8_t to,
			 uint8_t family)
{
	size_t lo = 0, hi = n, i;
	ssize_t found = -1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(&edges[mid], from, to, family) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < n && key_cmp(&edges[i], from, to, family) == 0; i++) {
		if (edges[i].up)
			return (ssize_t)i;
		if (found < 0)
			found = (ssize_t)i;
	}
	if (found >= 0)
		return found;
	for (i = 0; i < n; i++) {
		if (key_cmp(&edges[i], from, to, family) != 0)
			continue;
		if (edges[i].up)
			return (ssize_t)i;
		if (found < 0)
			found = (ssize_t)i;
	}
	return found;
}

/* The best path to dst, walked into bsites/bfam. Returns its number of
 * sites, 0 if dst is unreachable, or -errno (-ENOSPC: over 255 sites, more
 * than struct mc_choice can count). */
static int best_path(const struct mc_paths *p, const struct mc_edge *edges, unsigned dst,
		     uint8_t *bsites, uint8_t *bfam)
{
	int32_t idx[MC_PATH_MAX];
	int k, i;

	k = mc_paths_walk(p, edges, dst, bsites, idx, UINT8_MAX);
	if (k == -ENOENT)
		return 0;
	if (k < 0)
		return k;
	for (i = 0; i + 1 < k; i++)
		bfam[i] = edges[idx[i]].family;
	return k;
}

static void choice_take(struct mc_choice *c, const struct mc_paths *p, unsigned dst,
			const uint8_t *bsites, const uint8_t *bfam, int k)
{
	c->set = true;
	c->nsites = (uint8_t)k;
	memcpy(c->sites, bsites, (size_t)k);
	memcpy(c->families, bfam, (size_t)k - 1);
	c->cost_us = p->cost_us[dst];
	c->base_us = p->base_us[dst];
	c->jitter_us = p->jitter_us[dst];
	c->cand_set = false;
}

/* Make c the cheapest up tunnel from src straight to dst, if there is one. */
static void choice_direct(struct mc_choice *c, const struct mc_edge *edges, size_t n,
			  unsigned src, unsigned dst)
{
	const struct mc_edge *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct mc_edge *e = &edges[i];

		if (e->from == src && e->to == dst && e->up && (!best || e->cost_us < best->cost_us))
			best = e;
	}
	if (!best)
		return;
	c->nsites = 2;
	c->sites[1] = (uint8_t)dst;
	c->families[0] = best->family;
	c->cost_us = best->cost_us;
	c->base_us = best->base_us;
	c->jitter_us = best->jitter_us;
}

static void choice_switch(struct mc_choice *c, const char *reason, uint64_t now_mono_ns)
{
	c->since_mono_ns = now_mono_ns;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

static uint64_t elapsed_ns(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/*
 * Sum the current edges along c's path into c's cost, base and jitter.
 * Returns true if every tunnel of it is there and up (c untouched if not).
 */
static bool choice_eval(struct mc_choice *c, const struct mc_edge *edges, size_t n)
{
	int64_t cost = 0, base = 0, jitter = 0;
	unsigned i;

	for (i = 0; i + 1 < c->nsites; i++) {
		ssize_t e = edge_find(edges, n, c->sites[i], c->sites[i + 1], c->families[i]);

		if (e < 0 || !edges[e].up)
			return false;
		cost += edges[e].cost_us;
		base += edges[e].base_us;
		jitter += edges[e].jitter_us;
	}
	c->cost_us = cost;
	c->base_us = base;
	c->jitter_us = jitter;
	return true;
}

/*
 * Switches (and the initial choice) restart the hold-down; a hard failure
 * ignores it. Adopting a path with the same first tunnel is silent: no
 * switch counted, no reason, the hold-down runs on.
 */
int mc_hyst_decide(struct mc_choice *c, const struct mc_paths *p, const struct mc_edge *edges,
		   size_t n, unsigned dst, const struct mc_hyst_opts *o, uint64_t now_mono_ns)
{
	uint8_t bsites[MC_PATH_MAX] = { 0 }, bfam[MC_PATH_MAX] = { 0 };
	int64_t gain;
	double threshold;
	bool same_hop;
	int k;

	if (!c || !p || !o || (!edges && n) || dst >= MC_SITES || p->src >= MC_SITES ||
	    dst == p->src)
		return -EINVAL;
	if (c->set && (c->nsites < 2 || c->sites[0] != p->src || c->sites[c->nsites - 1] != dst))
		return -EINVAL;
	k = best_path(p, edges, dst, bsites, bfam);
	if (k < 0)
		return k;
	if (!c->set) {
		if (!k)
			return 0;
		choice_take(c, p, dst, bsites, bfam, k);
		/* a relay must earn its place: start from the best direct
		 * tunnel, when one is up, and let the relay beat it by the
		 * threshold for the dwell time like any other challenger */
		if (k > 2)
			choice_direct(c, edges, n, p->src, dst);
		choice_switch(c, "initial", now_mono_ns);
		return 1;
	}
	same_hop = k && bsites[1] == c->sites[1] && bfam[0] == c->families[0];
	if (!choice_eval(c, edges, n)) {
		if (!k) {
			unsigned switches = c->switches;

			memset(c, 0, sizeof(*c));
			c->switches = switches;
			choice_switch(c, "unreachable", now_mono_ns);
			return 1;
		}
		choice_take(c, p, dst, bsites, bfam, k);
		if (same_hop)
			return 0;
		c->switches++;
		choice_switch(c, "failure", now_mono_ns);
		return 1;
	}
	/* up but unreachable: p is not from these edges; keep what works */
	if (!k)
		return 0;
	if (same_hop) {
		choice_take(c, p, dst, bsites, bfam, k);
		return 0;
	}
	/* both paths join the same two sites: the clock offsets cancel */
	gain = c->cost_us - p->cost_us[dst];
	/* back to fewer tunnels (a relay no longer needed) a gain is enough:
	 * the threshold keeps only the way out, so the two cannot flap. The
	 * way out must also clear the jitter of both paths: the delays are
	 * medians of a few probes, and they scatter by about that much */
	threshold = k < c->nsites ? 0 :
		    MP_MAX((double)o->abs_us, o->rel * (double)c->base_us) +
		    (double)(c->jitter_us + p->jitter_us[dst]);
	if (!((double)gain > threshold)) {
		c->cand_set = false;
		return 0;
	}
	/* the dwell time runs while the current path is beaten, by whichever
	 * challenger: two relays of about the same cost that take turns as
	 * the best must not restart it */
	if (!c->cand_set)
		c->cand_since_mono_ns = now_mono_ns;
	c->cand_set = true;
	c->cand_hop = bsites[1];
	c->cand_family = bfam[0];
	/* the hold-down follows a switch; an initial or adopted choice has
	 * none behind it */
	/* nor before fewer tunnels: a relay kept through a hold-down while
	 * the relay itself turned back to us would be a loop */
	if (elapsed_ns(now_mono_ns, c->cand_since_mono_ns) < o->dwell_ns ||
	    (c->switches && k >= c->nsites &&
	     elapsed_ns(now_mono_ns, c->since_mono_ns) < o->holddown_ns))
		return 0;
	choice_take(c, p, dst, bsites, bfam, k);
	c->switches++;
	choice_switch(c, "better", now_mono_ns);
	return 1;
}

int mc_choice_format(const struct mc_choice *c, char *buf, size_t len)
{
	size_t off = 0;
	unsigned i;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; c->set && i < c->nsites; i++) {
		int n = snprintf(buf + off, len - off, "%s%u", i ? ">" : "", c->sites[i]);

		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

bool mc_choice_ok(const struct mc_choice *c, const struct mc_edge *edges, size_t n)
{
	unsigned i;

	if (!c->set)
		return false;
	for (i = 0; i + 1 < c->nsites; i++) {
		ssize_t e = edge_find(edges, n, c->sites[i], c->sites[i + 1], c->families[i]);

		if (e < 0 || !edges[e].up)
			return false;
	}
	return true;
}
