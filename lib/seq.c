/* SPDX-License-Identifier: MIT */
/*
 * seq: sequence accounting with a sliding bitmap window. Definitions are
 * in seq.h.
 *
 * Sequence numbers are handled as 64-bit "extended" numbers: first maps to
 * 2^32 + first_seq, and every later number is unwrapped relative to
 * NextExp, so the window arithmetic never wraps. Below the horizon
 * (frontier) every number is final: as the frontier advances, each number
 * leaving the window is either received (ending the open loss run) or lost
 * (lengthening it), which builds the burst histogram in O(1) amortised per
 * sequence number and bounded memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"

struct burst_hist {
	uint64_t run;		/* open run of lost numbers ending just below the frontier */
	uint64_t bursts;	/* closed runs */
	uint64_t max;		/* longest closed run */
	uint64_t hist[MP_SEQ_BURST_BUCKETS_MAX];	/* closed runs by length */
};

struct mp_seq {
	uint32_t window;	/* numbers remembered below NextExp */
	unsigned int buckets;	/* burst histogram buckets */
	bool started;		/* first is known */
	uint64_t first;		/* extended first expected number */
	uint64_t next_exp;	/* NextExp, extended */
	uint64_t frontier;	/* horizon: numbers below are final */
	uint64_t end;		/* latest expire/finish point, at least first */
	uint64_t *bits;		/* received flags for [frontier, next_exp), slot = x % window */
	uint32_t *jump_pos;	/* per missing slot: position of the packet that skipped it */
	uint32_t pos;		/* next arrival position (received packets, modulo 2^32) */
	uint64_t received, duplicates, reordered, late;
	uint64_t max_extent;	/* largest reordering extent */
	struct burst_hist bh;	/* runs finalised so far */
};

int mp_seq_new(struct mp_seq **ret, uint32_t first_seq, uint32_t window,
	       unsigned int burst_buckets, unsigned int flags)
{
	struct mp_seq *s = NULL;
	int r = -EINVAL;

	if (!ret || (flags & ~(unsigned int)MP_SEQ_FIRST_FROM_PACKET))
		goto out;
	if (window == 0)
		window = MP_SEQ_WINDOW_DEFAULT;
	if (burst_buckets == 0)
		burst_buckets = MP_SEQ_BURST_BUCKETS_DEFAULT;
	if (window > MP_SEQ_WINDOW_MAX || burst_buckets > MP_SEQ_BURST_BUCKETS_MAX)
		goto out;
	r = -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->window = window;
	s->buckets = burst_buckets;
	s->bits = calloc((window + 63) / 64, sizeof(*s->bits));
	s->jump_pos = calloc(window, sizeof(*s->jump_pos));
	if (!s->bits || !s->jump_pos)
		goto out;
	if (!(flags & MP_SEQ_FIRST_FROM_PACKET)) {
		s->started = true;
		s->first = (1ULL << 32) + first_seq;
		s->next_exp = s->frontier = s->end = s->first;
	}
	*ret = s;
	s = NULL;
	r = 0;
out:
	mp_seq_free(s);
	return r;
}

void mp_seq_free(struct mp_seq *s)
{
	if (!s)
		return;
	free(s->bits);
	free(s->jump_pos);
	free(s);
}

static uint32_t slot(const struct mp_seq *s, uint64_t x)
{
	return (uint32_t)(x % s->window);
}

static bool bit_get(const struct mp_seq *s, uint64_t x)
{
	uint32_t i = slot(s, x);

	return s->bits[i / 64] >> (i % 64) & 1;
}

static void bit_put(struct mp_seq *s, uint64_t x, bool v)
{
	uint32_t i = slot(s, x);

	if (v)
		s->bits[i / 64] |= 1ULL << (i % 64);
	else
		s->bits[i / 64] &= ~(1ULL << (i % 64));
}

/* Extend seq to 64 bits, within -2^31 ... 2^31 - 1 of NextExp. */
static uint64_t unwrap(const struct mp_seq *s, uint32_t seq)
{
	uint32_t d = seq - (uint32_t)s->next_exp;

	if (d < 1U << 31)
		return s->next_exp + d;
	return s->next_exp - (uint32_t)(0U - d);
}

static void burst_close(struct burst_hist *bh, unsigned int buckets)
{
	if (!bh->run)
		return;
	bh->bursts++;
	bh->max = MP_MAX(bh->max, bh->run);
	bh->hist[MP_MIN(bh->run, (uint64_t)buckets) - 1]++;
	bh->run = 0;
}

/*
 * Walk the numbers [from, to) in order into bh: below next_exp the window
 * says whether each was received; at or above it none was.
 */
static void burst_walk(const struct mp_seq *s, struct burst_hist *bh, uint64_t from, uint64_t to)
{
	uint64_t x, stop = MP_MIN(to, s->next_exp);

	for (x = from; x < stop; x++) {
		if (bit_get(s, x))
			burst_close(bh, s->buckets);
		else
			bh->run++;
	}
	if (to > MP_MAX(from, s->next_exp))
		bh->run += to - MP_MAX(from, s->next_exp);
}

/* Make every number below f final. Must run before next_exp moves. */
static void frontier_advance(struct mp_seq *s, uint64_t f)
{
	if (f <= s->frontier)
		return;
	burst_walk(s, &s->bh, s->frontier, f);
	s->frontier = f;
}

static int add_new(struct mp_seq *s, uint64_t x)
{
	uint64_t y, from;

	if (x + 1 - s->window > s->frontier)
		frontier_advance(s, x + 1 - s->window);
	/* Numbers skipped by x stay in the window as holes, tagged with x's position. */
	for (from = MP_MAX(s->next_exp, s->frontier), y = from; y < x; y++) {
		bit_put(s, y, false);
		s->jump_pos[slot(s, y)] = s->pos;
	}
	bit_put(s, x, true);
	s->next_exp = x + 1;
	s->received++;
	s->pos++;
	return MP_SEQ_NEW;
}

static int add_reordered(struct mp_seq *s, uint64_t x)
{
	uint32_t extent = s->pos - s->jump_pos[slot(s, x)];

	bit_put(s, x, true);
	s->max_extent = MP_MAX(s->max_extent, (uint64_t)extent);
	s->received++;
	s->reordered++;
	s->pos++;
	return MP_SEQ_REORDERED;
}

int mp_seq_add(struct mp_seq *s, uint32_t seq)
{
	uint64_t x;

	if (!s)
		return -EINVAL;
	if (!s->started) {
		s->started = true;
		s->first = (1ULL << 32) + seq;
		s->next_exp = s->frontier = s->end = s->first;
	}
	x = unwrap(s, seq);
	if (x < s->frontier) {
		s->late++;
		return MP_SEQ_LATE;
	}
	if (x >= s->next_exp)
		return add_new(s, x);
	if (bit_get(s, x)) {
		s->duplicates++;
		return MP_SEQ_DUP;
	}
	return add_reordered(s, x);
}

int mp_seq_expire(struct mp_seq *s, uint32_t seq)
{
	uint64_t x;

	if (!s)
		return -EINVAL;
	if (!s->started)
		return -ENODATA;
	x = unwrap(s, seq);
	if (x <= s->frontier)
		return 0;
	frontier_advance(s, x);
	s->end = MP_MAX(s->end, x);
	return 0;
}

int mp_seq_finish(struct mp_seq *s, uint32_t next_seq_not_sent)
{
	return mp_seq_expire(s, next_seq_not_sent);
}

int mp_seq_counts_get(const struct mp_seq *s, struct mp_seq_counts *ret)
{
	struct mp_seq_counts c = { 0 };
	struct burst_hist bh;
	uint64_t end;

	if (!s || !ret)
		return -EINVAL;
	end = MP_MAX(s->next_exp, s->end);
	c.expected = end - s->first;
	c.received = s->received;
	c.lost = c.expected - c.received;
	c.duplicates = s->duplicates;
	c.reordered = s->reordered;
	c.late = s->late;
	c.max_reorder_extent = s->max_extent;

	/* Finish the walk on a copy: holes still in the window count as lost now. */
	bh = s->bh;
	if (s->started)
		burst_walk(s, &bh, s->frontier, end);
	burst_close(&bh, s->buckets);
	c.loss_bursts = bh.bursts;
	c.max_loss_burst = bh.max;
	c.burst_buckets = s->buckets;
	memcpy(c.burst_hist, bh.hist, sizeof(c.burst_hist));
	*ret = c;
	return 0;
}
