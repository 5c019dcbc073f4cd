/* SPDX-License-Identifier: MIT */
/*
 * stats: streaming summaries (exact or sketch quantiles), RFC 3550 jitter,
 * RFC 3393 IPDV. Definitions and error bounds are in stats.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

enum {
	/*
	 * Log buckets per sign. With SKETCH_ALPHA below, bucket k holds
	 * magnitudes in (gamma^(k-1), gamma^k]; 2^63 falls in bucket 2206.
	 */
	SKETCH_BUCKETS = 2208,
	SAMPLES_MIN_CAP = 64,
	IPDV_WINDOW_DEFAULT = 1024,
	IPDV_WINDOW_MAX = 1 << 20,
};

/*
 * Design accuracy, a little under the documented 1 % so that the rounding
 * of log() at bucket edges can never push an estimate past the bound.
 */
#define SKETCH_ALPHA 0.0099

struct sketch {
	uint64_t neg[SKETCH_BUCKETS];	/* counts of v < 0 by bucket of |v| */
	uint64_t pos[SKETCH_BUCKETS];	/* counts of v > 0 by bucket of v */
	uint64_t zero;			/* counts of v == 0 */
};

struct mp_stats {
	size_t exact_cap;	/* keep samples while count <= exact_cap */
	bool sketch_mode;	/* quantiles come from *sk */
	bool sorted;		/* samples[] is sorted ascending */
	bool sum_overflow;	/* sum left the int64_t range */
	uint64_t count;		/* samples since reset */
	int64_t min_ns, max_ns;
	int64_t sum_ns;
	int64_t shift_ns;	/* first sample: Welford runs on v - shift */
	double mean_d;		/* Welford mean of v - shift, ns */
	double m2;		/* Welford sum of squared deviations, ns^2 */
	int64_t *samples;	/* exact mode: the samples, count of them */
	size_t samples_cap;	/* allocated entries of samples[] */
	struct sketch *sk;	/* sketch mode (kept allocated across resets) */
	double ln_gamma;	/* log(gamma), gamma = (1 + alpha) / (1 - alpha) */
	double rep_scale;	/* 2 / (gamma + 1): bucket centre = gamma^k * this */
};

struct ipdv_slot {
	int64_t owd_ns;		/* one-way delay of packet seq */
	uint32_t seq;		/* sequence number held in this slot */
	bool used;		/* slot holds a packet */
};

struct mp_ipdv {
	struct mp_stats *stats;	/* signed IPDV values */
	struct ipdv_slot *ring;	/* window slots, slot = seq % window */
	uint32_t window;	/* slots in ring */
	uint64_t pairs;		/* IPDV values produced */
	double sum_abs_ns;	/* sum of |ipdv| */
};

int mp_stats_new(struct mp_stats **ret, size_t exact_cap)
{
	struct mp_stats *s;
	double gamma;

	if (!ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->exact_cap = exact_cap;
	gamma = (1.0 + SKETCH_ALPHA) / (1.0 - SKETCH_ALPHA);
	s->ln_gamma = log(gamma);
	s->rep_scale = 2.0 / (gamma + 1.0);
	mp_stats_reset(s);
	*ret = s;
	return 0;
}

void mp_stats_free(struct mp_stats *s)
{
	if (!s)
		return;
	free(s->samples);
	free(s->sk);
	free(s);
}

void mp_stats_reset(struct mp_stats *s)
{
	if (!s)
		return;
	s->sketch_mode = false;
	s->sorted = true;
	s->sum_overflow = false;
	s->count = 0;
	s->min_ns = INT64_MAX;
	s->max_ns = INT64_MIN;
	s->sum_ns = 0;
	s->shift_ns = 0;
	s->mean_d = 0.0;
	s->m2 = 0.0;
	if (s->sk)
		memset(s->sk, 0, sizeof(*s->sk));
}

/* |v| without overflow for INT64_MIN. */
static uint64_t mag_u64(int64_t v)
{
	return v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v;
}

static unsigned int sketch_index(const struct mp_stats *s, uint64_t mag)
{
	double k;

	if (mag <= 1)
		return 0;
	k = ceil(log((double)mag) / s->ln_gamma);
	if (k < 0.0)
		return 0;
	if (k > SKETCH_BUCKETS - 1)
		return SKETCH_BUCKETS - 1;
	return (unsigned int)k;
}

static void sketch_add(struct mp_stats *s, int64_t v)
{
	if (v == 0)
		s->sk->zero++;
	else if (v > 0)
		s->sk->pos[sketch_index(s, mag_u64(v))]++;
	else
		s->sk->neg[sketch_index(s, mag_u64(v))]++;
}

/* Move to sketch mode: fold the kept samples in, release them. */
static int sketch_start(struct mp_stats *s)
{
	size_t i;

	if (!s->sk) {
		s->sk = calloc(1, sizeof(*s->sk));
		if (!s->sk)
			return -ENOMEM;
	}
	for (i = 0; i < s->count; i++)
		sketch_add(s, s->samples[i]);
	free(s->samples);
	s->samples = NULL;
	s->samples_cap = 0;
	s->sketch_mode = true;
	return 0;
}

static int samples_reserve(struct mp_stats *s, size_t need)
{
	size_t cap = s->samples_cap ? s->samples_cap : SAMPLES_MIN_CAP;
	int64_t *p;

	if (need <= s->samples_cap)
		return 0;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap > s->exact_cap)
		cap = s->exact_cap;
	if (cap > SIZE_MAX / sizeof(*p))
		return -ENOMEM;
	p = realloc(s->samples, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->samples = p;
	s->samples_cap = cap;
	return 0;
}

int mp_stats_add(struct mp_stats *s, int64_t v_ns)
{
	double d, delta;
	int64_t di;
	int r;

	if (!s)
		return -EINVAL;
	if (!s->sketch_mode) {
		if (s->count < s->exact_cap) {
			r = samples_reserve(s, (size_t)s->count + 1);
			if (r < 0)
				return r;
			s->samples[s->count] = v_ns;
			s->sorted = s->sorted && (s->count == 0 ||
						  s->samples[s->count - 1] <= v_ns);
		} else {
			r = sketch_start(s);
			if (r < 0)
				return r;
		}
	}
	if (s->sketch_mode)
		sketch_add(s, v_ns);

	if (s->count == 0)
		s->shift_ns = v_ns;
	s->count++;
	s->min_ns = MP_MIN(s->min_ns, v_ns);
	s->max_ns = MP_MAX(s->max_ns, v_ns);
	if (!s->sum_overflow && __builtin_add_overflow(s->sum_ns, v_ns, &s->sum_ns))
		s->sum_overflow = true;

	/* Welford on shifted data: exact differences, then one rounding. */
	if (__builtin_sub_overflow(v_ns, s->shift_ns, &di))
		d = (double)v_ns - (double)s->shift_ns;
	else
		d = (double)di;
	delta = d - s->mean_d;
	s->mean_d += delta / (double)s->count;
	s->m2 += delta * (d - s->mean_d);
	return 0;
}

uint64_t mp_stats_count(const struct mp_stats *s)
{
	return s ? s->count : 0;
}

bool mp_stats_is_exact(const struct mp_stats *s)
{
	return s && !s->sketch_mode;
}

int mp_stats_min(const struct mp_stats *s, int64_t *ret_ns)
{
	if (!s || !ret_ns)
		return -EINVAL;
	if (!s->count)
		return -ENODATA;
	*ret_ns = s->min_ns;
	return 0;
}

int mp_stats_max(const struct mp_stats *s, int64_t *ret_ns)
{
	if (!s || !ret_ns)
		return -EINVAL;
	if (!s->count)
		return -ENODATA;
	*ret_ns = s->max_ns;
	return 0;
}

int mp_stats_sum(const struct mp_stats *s, int64_t *ret_ns)
{
	if (!s || !ret_ns)
		return -EINVAL;
	if (!s->count)
		return -ENODATA;
	if (s->sum_overflow)
		return -EOVERFLOW;
	*ret_ns = s->sum_ns;
	return 0;
}

int mp_stats_mean(const struct mp_stats *s, double *ret_ns)
{
	if (!s || !ret_ns)
		return -EINVAL;
	if (!s->count)
		return -ENODATA;
	*ret_ns = (double)s->shift_ns + s->mean_d;
	return 0;
}

int mp_stats_stddev(const struct mp_stats *s, double *ret_ns)
{
	if (!s || !ret_ns)
		return -EINVAL;
	if (s->count < 2)
		return -ENODATA;
	*ret_ns = sqrt(s->m2 / (double)(s->count - 1));
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Round to the nearest integer, halves away from zero, into [lo, hi]. */
static int64_t round_clamp(long double v, int64_t lo, int64_t hi)
{
	if (v <= (long double)lo)
		return lo;
	if (v >= (long double)hi)
		return hi;
	return (int64_t)llroundl(v);
}

static int64_t exact_quantile(struct mp_stats *s, long double h)
{
	size_t n = (size_t)s->count, i;
	long double frac;
	int64_t a, b;

	if (!s->sorted) {
		qsort(s->samples, n, sizeof(*s->samples), cmp_i64);
		s->sorted = true;
	}
	i = (size_t)floorl(h);
	if (i >= n - 1)
		return s->samples[n - 1];
	frac = h - (long double)i;
	a = s->samples[i];
	b = s->samples[i + 1];
	return round_clamp((long double)a + frac * ((long double)b - (long double)a), a, b);
}

/* Centre of a bucket: within alpha of every magnitude in it. */
static long double sketch_centre(const struct mp_stats *s, unsigned int k)
{
	return (long double)(exp((double)k * s->ln_gamma) * s->rep_scale);
}

/* Estimate of the order statistic of 0-based rank r (r < count). */
static long double sketch_rank(const struct mp_stats *s, uint64_t r)
{
	const struct sketch *sk = s->sk;
	uint64_t cum = 0;
	unsigned int k;

	for (k = SKETCH_BUCKETS; k-- > 0;) {
		cum += sk->neg[k];
		if (cum > r)
			return -sketch_centre(s, k);
	}
	cum += sk->zero;
	if (cum > r)
		return 0.0L;
	for (k = 0; k < SKETCH_BUCKETS; k++) {
		cum += sk->pos[k];
		if (cum > r)
			break;
	}
	return sketch_centre(s, k < SKETCH_BUCKETS ? k : SKETCH_BUCKETS - 1);
}

static int64_t sketch_quantile(const struct mp_stats *s, long double h)
{
	uint64_t lo = (uint64_t)floorl(h), hi = (uint64_t)ceill(h);
	long double a, b;

	if (hi > s->count - 1)
		hi = s->count - 1;
	if (lo > hi)
		lo = hi;
	a = sketch_rank(s, lo);
	b = hi == lo ? a : sketch_rank(s, hi);
	return round_clamp(a + (h - (long double)lo) * (b - a), s->min_ns, s->max_ns);
}

int mp_stats_quantile(struct mp_stats *s, double q, int64_t *ret_ns)
{
	long double h;

	if (!s || !ret_ns || !(q >= 0.0 && q <= 1.0))
		return -EINVAL;
	if (!s->count)
		return -ENODATA;
	h = (long double)(s->count - 1) * (long double)q;
	if (s->sketch_mode)
		*ret_ns = sketch_quantile(s, h);
	else
		*ret_ns = exact_quantile(s, h);
	return 0;
}

int mp_stats_summary_get(struct mp_stats *s, struct mp_stats_summary *ret)
{
	struct mp_stats_summary sum = { 0 };
	int r;

	if (!s || !ret)
		return -EINVAL;
	if (!s->count)
		return -ENODATA;
	sum.count = s->count;
	sum.min_ns = s->min_ns;
	sum.max_ns = s->max_ns;
	sum.exact = !s->sketch_mode;
	r = mp_stats_mean(s, &sum.mean_ns);
	if (r < 0)
		return r;
	if (mp_stats_stddev(s, &sum.stddev_ns) < 0)
		sum.stddev_ns = 0.0;
	r = mp_stats_quantile(s, 0.5, &sum.median_ns);
	if (r >= 0)
		r = mp_stats_quantile(s, 0.95, &sum.p95_ns);
	if (r >= 0)
		r = mp_stats_quantile(s, 0.99, &sum.p99_ns);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}

size_t mp_stats_mem_bytes(const struct mp_stats *s)
{
	if (!s)
		return 0;
	return sizeof(*s) + s->samples_cap * sizeof(*s->samples) + (s->sk ? sizeof(*s->sk) : 0);
}

/* Two's-complement reading of a modulo-2^64 difference. */
static int64_t u64_to_i64(uint64_t u)
{
	return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

void mp_jitter_init(struct mp_jitter *j)
{
	if (j)
		*j = (struct mp_jitter){ 0 };
}

int mp_jitter_add(struct mp_jitter *j, uint64_t send_ns, uint64_t recv_ns)
{
	double d;

	if (!j)
		return -EINVAL;
	if (j->packets > 0) {
		d = (double)u64_to_i64((recv_ns - j->prev_recv_ns) - (send_ns - j->prev_send_ns));
		j->jitter_ns += (fabs(d) - j->jitter_ns) / 16.0;
	}
	j->prev_send_ns = send_ns;
	j->prev_recv_ns = recv_ns;
	j->packets++;
	return 0;
}

int mp_jitter_get(const struct mp_jitter *j, double *ret_ns)
{
	if (!j || !ret_ns)
		return -EINVAL;
	if (j->packets < 2)
		return -ENODATA;
	*ret_ns = j->jitter_ns;
	return 0;
}

int mp_ipdv_new(struct mp_ipdv **ret, size_t exact_cap, uint32_t window)
{
	struct mp_ipdv *d = NULL;
	int r = -EINVAL;

	if (!ret)
		goto out;
	if (window == 0)
		window = IPDV_WINDOW_DEFAULT;
	if (window < 2 || window > IPDV_WINDOW_MAX)
		goto out;
	r = -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	d->window = window;
	d->ring = calloc(window, sizeof(*d->ring));
	if (!d->ring)
		goto out;
	r = mp_stats_new(&d->stats, exact_cap);
	if (r < 0)
		goto out;
	*ret = d;
	d = NULL;
out:
	mp_ipdv_free(d);
	return r;
}

void mp_ipdv_free(struct mp_ipdv *d)
{
	if (!d)
		return;
	mp_stats_free(d->stats);
	free(d->ring);
	free(d);
}

static const struct ipdv_slot *ipdv_find(const struct mp_ipdv *d, uint32_t seq)
{
	const struct ipdv_slot *e = &d->ring[seq % d->window];

	return e->used && e->seq == seq ? e : NULL;
}

int mp_ipdv_add(struct mp_ipdv *d, uint32_t seq, int64_t owd_ns)
{
	const struct ipdv_slot *prev, *next;
	int64_t v[2];
	int n = 0, i, r;

	if (!d)
		return -EINVAL;
	if (ipdv_find(d, seq))
		return 0;
	prev = ipdv_find(d, seq - 1);
	next = ipdv_find(d, seq + 1);
	/* Compute both before recording anything, so -ERANGE changes nothing. */
	if (prev && __builtin_sub_overflow(owd_ns, prev->owd_ns, &v[n++]))
		return -ERANGE;
	if (next && __builtin_sub_overflow(next->owd_ns, owd_ns, &v[n++]))
		return -ERANGE;
	for (i = 0; i < n; i++) {
		r = mp_stats_add(d->stats, v[i]);
		if (r < 0)
			return r;
		d->pairs++;
		d->sum_abs_ns += (double)mag_u64(v[i]);
	}
	d->ring[seq % d->window] = (struct ipdv_slot){ .owd_ns = owd_ns, .seq = seq, .used = true };
	return n;
}

int mp_ipdv_summary_get(struct mp_ipdv *d, struct mp_ipdv_summary *ret)
{
	struct mp_ipdv_summary sum = { 0 };
	int r;

	if (!d || !ret)
		return -EINVAL;
	r = mp_stats_summary_get(d->stats, &sum.ipdv);
	if (r < 0)
		return r;
	sum.pairs = d->pairs;
	sum.mean_abs_ns = d->sum_abs_ns / (double)d->pairs;
	*ret = sum;
	return 0;
}

struct mp_stats *mp_ipdv_stats(struct mp_ipdv *d)
{
	return d ? d->stats : NULL;
}
