/* SPDX-License-Identifier: MIT */
/*
 * stats: streaming summaries of signed nanosecond samples, RFC 3550
 * interarrival jitter and RFC 3393 IP packet delay variation (IPDV).
 *
 * Samples are int64_t nanoseconds because delays may be negative: a raw
 * one-way delay includes the offset between the two hosts' clocks.
 *
 * Definitions (quoted in docs/FORMATS.md):
 *
 *  - count, min, max, sum: of every sample added since the last reset.
 *  - mean: arithmetic mean. stddev: sample standard deviation,
 *    sqrt(sum((x - mean)^2) / (count - 1)), computed in one pass with
 *    Welford's algorithm on samples shifted by the first sample, so a
 *    large common offset (e.g. 1e15 ns) costs no precision. stddev is 0 for
 *    a single sample.
 *  - quantile q, 0 <= q <= 1, exact mode: with the n samples sorted
 *    ascending as x[0] <= ... <= x[n-1], h = (n - 1) * q, i = floor(h):
 *    Q(q) = x[i] + (h - i) * (x[i+1] - x[i]) (x[i] when i = n - 1), i.e.
 *    linear interpolation between closest ranks. This is Hyndman & Fan
 *    type 7, numpy's default 'linear' and Python's
 *    statistics.quantiles(method='inclusive'): Q(0) = min, Q(1) = max,
 *    Q(0.5) = the median. It is computed for the double q as given (in
 *    long double) and rounded to the nearest ns, halves away from zero.
 *    A decimal q such as 0.1 is not exactly representable, so the result
 *    may differ from the decimal definition by |q - 0.1| * (n - 1) *
 *    (x[i+1] - x[i]), under 1 ns unless samples span ~2^52 ns, and a
 *    position that is exactly half-way in decimal may round either way.
 *  - exact mode holds while count <= exact_cap (every sample is kept, 8
 *    bytes each). The sample that makes count exceed exact_cap moves the
 *    summary to sketch mode for good (until reset): the kept samples are
 *    folded into a fixed-size log-bucket histogram (DDSketch-style, over
 *    |v| with a separate histogram per sign and a zero bucket) and freed.
 *  - quantile, sketch mode: the same h; the two order statistics x[floor(h)]
 *    and x[ceil(h)] are each estimated by the centre of their bucket and
 *    interpolated as above, then clamped to [min, max]. Bound: with
 *    x_lo = x[floor(h)] and x_hi = x[ceil(h)] of the true sorted samples,
 *    the result r satisfies
 *	x_lo - (0.01 * |x_lo| + 1 ns) <= r <= x_hi + (0.01 * |x_hi| + 1 ns),
 *    so where x_lo = x_hi = x (always when h is whole, and in practice
 *    with many samples from a continuous distribution) |r - x| <= 1 % of
 *    |x| plus 1 ns, for every int64 value including values near 0 (the
 *    buckets reach down to 1 ns; there is no coarser absolute floor).
 *    The sketch takes 35 kB (2 x 2208 counters) whatever the count; min,
 *    max, mean, stddev and sum stay exact in both modes.
 *
 * Not thread-safe; one object per thread or a lock around it.
 */
#ifndef MP_STATS_H
#define MP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp.h"

/* Relative accuracy of sketch-mode quantiles (see above), and the floor. */
#define MP_STATS_SKETCH_REL_ERR 0.01
#define MP_STATS_SKETCH_ABS_ERR_NS 1

struct mp_stats;

struct mp_stats_summary {
	uint64_t count;		/* samples */
	int64_t min_ns;		/* smallest sample */
	int64_t max_ns;		/* largest sample */
	double mean_ns;		/* arithmetic mean */
	double stddev_ns;	/* sample standard deviation (n - 1); 0 if count is 1 */
	int64_t median_ns;	/* quantile 0.5 */
	int64_t p95_ns;		/* quantile 0.95 */
	int64_t p99_ns;		/* quantile 0.99 */
	bool exact;		/* quantiles exact (true) or from the sketch (false) */
};

/*
 * Create an empty summary that keeps up to exact_cap samples for exact
 * quantiles (0: sketch from the first sample). Samples are stored in an
 * array grown on demand, so a large exact_cap costs nothing until used.
 * Returns 0, -EINVAL (ret NULL) or -ENOMEM; *ret set on success, owned by
 * the caller, freed with mp_stats_free().
 */
int mp_stats_new(struct mp_stats **ret, size_t exact_cap);

/* Free s and everything it holds. NULL is fine. */
void mp_stats_free(struct mp_stats *s);

/*
 * Forget every sample; the summary returns to exact mode with the same
 * exact_cap. Memory is kept for reuse. NULL is fine.
 */
void mp_stats_reset(struct mp_stats *s);

/*
 * Add one sample, in ns. Returns 0, -EINVAL (s NULL) or -ENOMEM (growing
 * the sample array or creating the sketch failed; the sample is then not
 * counted and s is unchanged).
 */
int mp_stats_add(struct mp_stats *s, int64_t v_ns);

/* Number of samples added since creation or the last reset; 0 for NULL. */
uint64_t mp_stats_count(const struct mp_stats *s);

/* True while quantiles are exact (count <= exact_cap); false for NULL. */
bool mp_stats_is_exact(const struct mp_stats *s);

/*
 * Smallest / largest sample. Returns 0, -EINVAL (NULL argument) or
 * -ENODATA (no samples); *ret_ns set on success.
 */
int mp_stats_min(const struct mp_stats *s, int64_t *ret_ns);
int mp_stats_max(const struct mp_stats *s, int64_t *ret_ns);

/*
 * Exact sum of the samples. Returns 0, -EINVAL, -ENODATA, or -EOVERFLOW
 * when the sum left the int64_t range at any point (it stays -EOVERFLOW
 * until reset); *ret_ns set on success.
 */
int mp_stats_sum(const struct mp_stats *s, int64_t *ret_ns);

/* Mean. Returns 0, -EINVAL or -ENODATA; *ret_ns set on success. */
int mp_stats_mean(const struct mp_stats *s, double *ret_ns);

/*
 * Sample standard deviation (divisor count - 1). Returns 0, -EINVAL, or
 * -ENODATA when count < 2; *ret_ns set on success.
 */
int mp_stats_stddev(const struct mp_stats *s, double *ret_ns);

/*
 * Quantile q in [0, 1] as defined at the top of this file. s is not const:
 * in exact mode the kept samples are sorted in place (once, until the next
 * add). Returns 0, -EINVAL (NULL argument, q NaN or outside [0, 1]) or
 * -ENODATA (no samples); *ret_ns set on success.
 */
int mp_stats_quantile(struct mp_stats *s, double q, int64_t *ret_ns);

/*
 * Fill *ret with count, min, max, mean, stddev, median, p95, p99 and the
 * mode. Returns 0, -EINVAL or -ENODATA (no samples); *ret set on success.
 */
int mp_stats_summary_get(struct mp_stats *s, struct mp_stats_summary *ret);

/* Heap bytes held by s (the object, kept samples, sketch); 0 for NULL. */
size_t mp_stats_mem_bytes(const struct mp_stats *s);

/*
 * RFC 3550 section 6.4.1 interarrival jitter, for packets fed in arrival
 * order with their send and receive timestamps:
 *
 *	D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1})
 *	J(i) = J(i-1) + (|D(i-1, i)| - J(i-1)) / 16,  J = 0 before the 2nd packet
 *
 * RFC 3550 works in RTP timestamp units and appendix A.8 keeps J scaled by
 * 16 in an integer; here S and R are ns and J is a double in ns, so nothing
 * is rounded. The two clocks need not agree: their offset cancels in D.
 * This is a plain value (no resources): embed it, set it up with
 * mp_jitter_init(); the fields are read through mp_jitter_get().
 */
struct mp_jitter {
	uint64_t packets;	/* packets added */
	uint64_t prev_send_ns;	/* S of the previous packet */
	uint64_t prev_recv_ns;	/* R of the previous packet */
	double jitter_ns;	/* J, ns */
};

/* Set j to "no packets". NULL is fine. */
void mp_jitter_init(struct mp_jitter *j);

/*
 * Add the packet that arrived next: its sender timestamp send_ns and
 * receive timestamp recv_ns (any epoch each; differences are taken modulo
 * 2^64 and read as signed). Returns 0, or -EINVAL (j NULL).
 */
int mp_jitter_add(struct mp_jitter *j, uint64_t send_ns, uint64_t recv_ns);

/*
 * Current J in ns. Returns 0, -EINVAL, or -ENODATA (fewer than 2 packets);
 * *ret_ns set on success.
 */
int mp_jitter_get(const struct mp_jitter *j, double *ret_ns);

/*
 * RFC 3393 IPDV with the selection function "consecutive packets": for
 * every pair of packets with sequence numbers s and s + 1 (modulo 2^32)
 * that were both received, in any arrival order,
 *
 *	ipdv(s + 1) = owd(s + 1) - owd(s)
 *
 * (the later packet's one-way delay minus the earlier one's; the clock
 * offset cancels, so raw one-way delays are fine). A lost packet s + 1
 * yields no pair (s, s + 1) nor (s + 1, s + 2): loss never shows up as
 * delay variation. Only the first copy of a duplicated packet is used.
 * Each packet's delay is remembered in a ring of `window` slots
 * (slot = seq mod window): a reordered packet still pairs with its
 * neighbours if it arrives before their slots are reused.
 */
struct mp_ipdv;

struct mp_ipdv_summary {
	uint64_t pairs;			/* IPDV values (pairs found) */
	double mean_abs_ns;		/* mean of |ipdv| */
	struct mp_stats_summary ipdv;	/* of the signed values: min, max, median, ... */
};

/*
 * Create an IPDV accumulator. exact_cap is passed to the mp_stats of the
 * signed IPDV values; window is the ring size (2 ... 2^20; 0 = 1024).
 * Returns 0, -EINVAL or -ENOMEM; *ret set on success, freed with
 * mp_ipdv_free().
 */
int mp_ipdv_new(struct mp_ipdv **ret, size_t exact_cap, uint32_t window);

/* Free d. NULL is fine. */
void mp_ipdv_free(struct mp_ipdv *d);

/*
 * Add a received packet: sequence number and one-way delay (raw, may be
 * negative). Returns the number of IPDV values this packet completed
 * (0, 1 or 2; 0 also for a duplicate), -EINVAL, -ERANGE (a difference
 * outside int64_t; nothing recorded) or -ENOMEM (the packet is not
 * remembered; a first of two values may already be counted).
 */
int mp_ipdv_add(struct mp_ipdv *d, uint32_t seq, int64_t owd_ns);

/*
 * Summary of the IPDV values. Returns 0, -EINVAL or -ENODATA (no pair
 * yet); *ret set on success.
 */
int mp_ipdv_summary_get(struct mp_ipdv *d, struct mp_ipdv_summary *ret);

/*
 * The mp_stats of the signed IPDV values, for other quantiles. Borrowed:
 * owned by d, valid until mp_ipdv_free(d); do not add to it. NULL if d is.
 */
struct mp_stats *mp_ipdv_stats(struct mp_ipdv *d);

#endif
