/* SPDX-License-Identifier: MIT */
/*
 * pathping's analysis: the rate-limit detector fed one outcome at a time,
 * and the loss split of the final report.
 *
 * Loss split (Windows pathping's idea, made exact). For hops h = 1..H
 * (H = the target, or the last hop that answered):
 *
 *	loss(h)    = 100 * (sent(h) - received(h)) / sent(h)
 *	carried(h) = min { loss(k) : h <= k <= H },   carried(0) = 0
 *	node_loss(h) = loss(h) - carried(h)
 *	link_loss(h) = carried(h) - carried(h - 1)
 *
 * carried(h) is the loss that every later hop shows as well: traffic lost
 * on the way to h and not only h's own replies. It never decreases with h,
 * so link_loss >= 0, and the link losses add up to the loss at the target.
 * What a hop loses beyond that is its own (no reply, rate limiting) and is
 * not charged to any link.
 *
 * Rate limiting (a token bucket in the router: a burst answered, then at
 * most its refill rate). A hop is flagged when it answered at least
 * PP_RL_BURST probes before its first node loss (the bucket starts full)
 * and at least PP_RL_NODE_LOST of its last PP_RL_WINDOW probes were node
 * losses (unanswered while a deeper probe of the same round was answered:
 * the path works, the router is silent). Random path loss is carried
 * onward and seldom looks like that; a router that never answers has no
 * burst. A flagged hop is then probed at most every PP_RL_GAP_NS (Linux's
 * default icmp_ratelimit), and the run no longer waits for its count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pathping.h"

void pp_hop_outcome(struct pp_hop *h, enum pp_outcome o)
{
	const uint64_t mask = (1ULL << (2 * PP_RL_WINDOW)) - 1;
	unsigned i, node = 0;

	if (o == PP_OUT_ANSWERED && !h->node_lost_seen)
		h->answered_first++;
	if (o == PP_OUT_NODE_LOST) {
		h->node_lost_seen = true;
		h->node_lost_rounds++;
	}
	h->history = ((h->history << 2) | (uint64_t)o) & mask;
	if (h->history_n < PP_RL_WINDOW)
		h->history_n++;
	if (h->ratelimited || h->answered_first < PP_RL_BURST || h->history_n < PP_RL_WINDOW)
		return;
	for (i = 0; i < PP_RL_WINDOW; i++)
		node += ((h->history >> (2 * i)) & 3) == PP_OUT_NODE_LOST;
	if (node >= PP_RL_NODE_LOST) {
		h->ratelimited = true;
		h->gap_ns = PP_RL_GAP_NS;
	}
}

void pp_analyze(struct pp_result *res)
{
	double carried[PP_MAX_TTL + 2], prev = 0;
	unsigned ttl, last = 0;

	for (ttl = 1; ttl <= PP_MAX_TTL; ttl++)
		if (res->hops[ttl].received)
			last = ttl;
	res->reached = res->dest_ttl != 0;
	res->n_hops = res->reached ? res->dest_ttl : MP_MAX(last, 1U);
	for (ttl = 1; ttl <= res->n_hops; ttl++) {
		struct pp_hop *h = &res->hops[ttl];

		h->loss_pct = h->sent ? 100.0 * (double)(h->sent - h->received) / (double)h->sent
				      : NAN;
	}
	carried[res->n_hops + 1] = INFINITY;
	for (ttl = res->n_hops; ttl >= 1; ttl--) {
		double l = res->hops[ttl].loss_pct;

		carried[ttl] = isnan(l) ? carried[ttl + 1] : fmin(l, carried[ttl + 1]);
	}
	for (ttl = 1; ttl <= res->n_hops; ttl++) {
		struct pp_hop *h = &res->hops[ttl];
		double c = isinf(carried[ttl]) ? prev : carried[ttl];

		if (isnan(h->loss_pct)) {
			h->node_loss_pct = h->link_loss_pct = NAN;
			continue;
		}
		h->node_loss_pct = h->loss_pct - c;
		h->link_loss_pct = c - prev;
		prev = c;
		if (h->node_loss_pct <= 0)
			h->ratelimited = false;	/* nothing of its own was lost */
	}
}

int pp_exit_status(const struct pp_result *res)
{
	if (!res->reached || !res->hops[res->dest_ttl].received)
		return MP_EXIT_FAIL;
	return MP_EXIT_OK;
}

/*
 * Multipath Detection Algorithm (Augustin et al., "Multipath tracing with
 * Paris traceroute", 2007; the bound of Veitch et al., "Failure control in
 * multipath route tracing", 2009). A responder with k next hops seen might
 * have k + 1, each taken by a flow with probability 1 / (k + 1): after n
 * flows through it, the chance that one of the k + 1 was never taken is at
 * most (k + 1) (k / (k + 1))^n. The smallest n that brings this under
 * 1 - confidence: 6, 11, 16, 21, 27 ... flows for k = 1, 2, 3, 4, 5 at 95 %.
 */
unsigned pp_mda_needed(unsigned k, unsigned confidence_pct)
{
	double alpha = 1.0 - confidence_pct / 100.0;

	if (k < 1)
		k = 1;
	return (unsigned)ceil(log((k + 1) / alpha) / log((k + 1.0) / k));
}

bool pp_mda_flow_done(struct pp_result *res, const struct pp_mda_flow *f, unsigned last)
{
	struct pp_mda *m = res->mda;
	unsigned ttl, v, k, need;
	bool silent = false;
	int next;

	if (m->n_flows < PP_MDA_FLOWS_MAX)
		m->flows[m->n_flows++] = *f;
	for (ttl = 1; ttl < last; ttl++) {
		struct pp_hop *h = &res->hops[ttl];

		if (f->at[ttl] < 0)
			continue;
		v = (unsigned)f->at[ttl];
		next = f->at[ttl + 1];
		if (next >= 0)
			h->succ[v] |= (uint8_t)(1U << next);
		if (next == -1)
			h->next_lost[v]++;
		else
			h->next_probed[v]++;
	}
	/* the source's own next hops: every flow goes through it */
	if (m->n_flows < pp_mda_needed(res->hops[1].n_addrs, m->confidence_pct))
		return false;
	/* a responder is done when enough flows through it were answered one
	 * TTL on; only when none ever was (a silent next hop) do unanswered
	 * flows end it, and then nothing is known beyond it */
	for (ttl = 1; ttl < last; ttl++) {
		const struct pp_hop *h = &res->hops[ttl];

		for (v = 0; v < h->n_addrs; v++) {
			k = (unsigned)__builtin_popcount(h->succ[v]);
			need = pp_mda_needed(k, m->confidence_pct);
			if (k && h->next_probed[v] < need)
				return false;
			if (!k && h->next_lost[v] < need)
				return false;
			silent |= !k;
		}
	}
	m->complete = !silent;
	m->silent = silent;
	return true;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The flow goes the path's way: the same responder wherever both answered. */
static bool on_path(const struct pp_mda_path *p, const struct pp_mda_flow *f, unsigned n)
{
	for (unsigned ttl = 1; ttl <= n; ttl++)
		if (p->at[ttl] != -1 && f->at[ttl] != -1 && p->at[ttl] != f->at[ttl])
			return false;
	return true;
}

unsigned pp_mda_paths(const struct pp_result *res, struct pp_mda_path *out, unsigned max)
{
	const struct pp_mda *m = res->mda;
	int64_t rtts[PP_MDA_FLOWS_MAX];
	unsigned group[PP_MDA_FLOWS_MAX], n = 0, i, j, k, nr, ttl;

	if (!m)
		return 0;
	for (i = 0; i < m->n_flows; i++) {
		const struct pp_mda_flow *f = &m->flows[i];

		for (j = 0; j < n; j++)
			if (on_path(&out[j], f, res->n_hops))
				break;
		if (j == n) {
			if (n == max) {
				group[i] = max;
				continue;
			}
			out[n] = (struct pp_mda_path){ .rtt_ns = -1 };
			memset(out[n].at, -1, sizeof(out[n].at));
			n++;
		}
		group[i] = j;
		for (ttl = 1; ttl <= res->n_hops; ttl++)
			if (out[j].at[ttl] == -1)
				out[j].at[ttl] = f->at[ttl];
		out[j].last_ttl = MP_MAX(out[j].last_ttl, f->last_ttl);
		out[j].flows++;
		out[j].sent += f->sent;
		out[j].received += f->received;
	}
	/* RTT at the path's end: the median over its flows that got there */
	for (j = 0; j < n; j++) {
		for (i = 0, nr = 0; i < m->n_flows; i++)
			if (group[i] == j && m->flows[i].last_ttl &&
			    m->flows[i].last_ttl == out[j].last_ttl)
				rtts[nr++] = m->flows[i].rtt_ns;
		if (!nr)
			continue;
		qsort(rtts, nr, sizeof(rtts[0]), cmp_i64);
		k = nr / 2;
		out[j].rtt_ns = nr % 2 ? rtts[k] : (rtts[k - 1] + rtts[k]) / 2;
	}
	return n;
}
