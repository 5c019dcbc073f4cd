/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/stats.c. Expected values come from
 * tests/unit/fixtures/gen_stats.py (Python's statistics module on exact
 * Fractions) or are worked by hand in the comments; the sketch is checked
 * against exact order statistics that this file computes with qsort().
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

#define FIX_DIR "tests/unit/fixtures/"
#define MS 1000000LL

enum {
	SKETCH_SAMPLES = 2000000,
	MAX_DATASET = 4096,
};

/* ---- helpers ---- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double unif(uint64_t *st)
{
	return (double)(splitmix64(st) >> 11) * 0x1.0p-53;
}

static double gauss(uint64_t *st)
{
	double u = unif(st), v = unif(st);

	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void assert_close(double got, double exp, double tol, const char *what)
{
	if (!(fabs(got - exp) <= tol)) {
		print_error("%s: got %.17g, expected %.17g (tolerance %g)\n", what, got, exp, tol);
		fail();
	}
}

/*
 * The exact quantile for q = k/cuts is the fraction num/den; the result
 * must be its nearest integer. The library gets q as a double, a little
 * off k/cuts: that moves the interpolation by up to |q - k/cuts| * (n - 1)
 * * span, allowed on top (it matters only for samples spanning ~2^52 ns or
 * more), and a value exactly half-way may round either way (stats.h).
 */
static void assert_quantile_q(int64_t got, long double num, long double den, long double qerr_span,
			      const char *what)
{
	long double exp = num / den;

	if (!(fabsl((long double)got - exp) <= 0.5L + 1e-9L + qerr_span)) {
		print_error("%s: got %lld, expected %.0Lf/%.0Lf = %.3Lf\n", what, (long long)got,
			    num, den, exp);
		fail();
	}
}

static void assert_quantile(int64_t got, long double num, long double den, const char *what)
{
	assert_quantile_q(got, num, den, 0.0L, what);
}

/*
 * Sketch bound from stats.h: r within 1 % + 1 ns of [x_lo, x_hi], the
 * order statistics the exact method interpolates between.
 */
static void assert_sketch_bound(int64_t r, const int64_t *sorted, size_t n, double q,
				double *max_rel)
{
	long double h = (long double)(n - 1) * (long double)q;
	size_t lo = (size_t)floorl(h), hi = (size_t)ceill(h);
	long double xl, xh, exact, tl, th;

	if (hi > n - 1)
		hi = n - 1;
	xl = (long double)sorted[lo];
	xh = (long double)sorted[hi];
	tl = MP_STATS_SKETCH_REL_ERR * fabsl(xl) + MP_STATS_SKETCH_ABS_ERR_NS;
	th = MP_STATS_SKETCH_REL_ERR * fabsl(xh) + MP_STATS_SKETCH_ABS_ERR_NS;
	if (!((long double)r >= xl - tl && (long double)r <= xh + th)) {
		print_error("sketch q=%g: got %lld, x_lo %lld, x_hi %lld\n", q, (long long)r,
			    (long long)sorted[lo], (long long)sorted[hi]);
		fail();
	}
	exact = xl + (h - (long double)lo) * (xh - xl);
	if (max_rel && fabsl(exact) >= 1000.0L) {
		long double rel = fabsl((long double)r - exact) / fabsl(exact);

		if (rel > *max_rel)
			*max_rel = (double)rel;
	}
}

static FILE *fixture_open(const char *name)
{
	FILE *f = fopen(name, "r");

	if (!f)
		print_message("cannot open %s (run from the repository root)\n", name);
	return f;
}

/* Skip '#' comment lines, then read one whitespace-separated token. */
static int token(FILE *f, char *buf)
{
	int c;

	for (;;) {
		c = fgetc(f);
		if (c == '#') {
			while (c != EOF && c != '\n')
				c = fgetc(f);
			continue;
		}
		if (c == EOF)
			return 0;
		if (c != ' ' && c != '\n' && c != '\t')
			break;
	}
	ungetc(c, f);
	return fscanf(f, "%127s", buf) == 1;
}

static long long ll_tok(FILE *f)
{
	char buf[128];

	assert_true(token(f, buf));
	return strtoll(buf, NULL, 10);
}

static unsigned long long ull_tok(FILE *f)
{
	char buf[128];

	assert_true(token(f, buf));
	return strtoull(buf, NULL, 10);
}

static long double ld_tok(FILE *f)
{
	char buf[128];

	assert_true(token(f, buf));
	return strtold(buf, NULL);
}

static double dbl_tok(FILE *f)
{
	char buf[128];

	assert_true(token(f, buf));
	return strtod(buf, NULL);
}

static void expect_tok(FILE *f, const char *want)
{
	char buf[128];

	assert_true(token(f, buf));
	assert_string_equal(buf, want);
}

/* ---- basic contract ---- */

static void test_empty_and_errors(void **state)
{
	struct mp_stats *s = NULL;
	struct mp_stats_summary sum;
	int64_t v = 77;
	double d = 77.0;

	(void)state;
	assert_int_equal(mp_stats_new(NULL, 10), -EINVAL);
	assert_int_equal(mp_stats_new(&s, 10), 0);
	assert_int_equal(mp_stats_count(s), 0);
	assert_true(mp_stats_is_exact(s));
	assert_int_equal(mp_stats_min(s, &v), -ENODATA);
	assert_int_equal(mp_stats_max(s, &v), -ENODATA);
	assert_int_equal(mp_stats_sum(s, &v), -ENODATA);
	assert_int_equal(mp_stats_mean(s, &d), -ENODATA);
	assert_int_equal(mp_stats_stddev(s, &d), -ENODATA);
	assert_int_equal(mp_stats_quantile(s, 0.5, &v), -ENODATA);
	assert_int_equal(mp_stats_summary_get(s, &sum), -ENODATA);
	assert_int_equal(v, 77);	/* untouched on failure */
	assert_true(d == 77.0);
	assert_int_equal(mp_stats_add(s, 1), 0);
	assert_int_equal(mp_stats_quantile(s, NAN, &v), -EINVAL);
	assert_int_equal(mp_stats_quantile(s, -0.01, &v), -EINVAL);
	assert_int_equal(mp_stats_quantile(s, 1.01, &v), -EINVAL);
	assert_int_equal(mp_stats_quantile(s, 0.5, NULL), -EINVAL);
	assert_int_equal(mp_stats_add(NULL, 1), -EINVAL);
	assert_int_equal(mp_stats_count(NULL), 0);
	mp_stats_free(s);
	mp_stats_free(NULL);
	mp_stats_reset(NULL);
}

/* One sample: every quantile is it, stddev is undefined (0 in the summary). */
static void test_single(void **state)
{
	struct mp_stats *s;
	struct mp_stats_summary sum;
	double d;
	int64_t v;

	(void)state;
	assert_int_equal(mp_stats_new(&s, 4), 0);
	assert_int_equal(mp_stats_add(s, -42), 0);
	assert_int_equal(mp_stats_stddev(s, &d), -ENODATA);
	assert_int_equal(mp_stats_quantile(s, 0.0, &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(mp_stats_quantile(s, 0.37, &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(mp_stats_summary_get(s, &sum), 0);
	assert_int_equal(sum.count, 1);
	assert_int_equal(sum.min_ns, -42);
	assert_int_equal(sum.max_ns, -42);
	assert_true(sum.mean_ns == -42.0);
	assert_true(sum.stddev_ns == 0.0);
	assert_int_equal(sum.median_ns, -42);
	assert_int_equal(sum.p95_ns, -42);
	assert_int_equal(sum.p99_ns, -42);
	assert_true(sum.exact);
	mp_stats_free(s);
}

/* Hand-worked: sum overflow is reported, not wrapped; reset clears it. */
static void test_sum_overflow_reset(void **state)
{
	struct mp_stats *s;
	int64_t v;

	(void)state;
	assert_int_equal(mp_stats_new(&s, 2), 0);
	assert_int_equal(mp_stats_add(s, INT64_MAX), 0);
	assert_int_equal(mp_stats_sum(s, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(mp_stats_add(s, 1), 0);
	assert_int_equal(mp_stats_sum(s, &v), -EOVERFLOW);
	assert_int_equal(mp_stats_add(s, -2), 0);	/* back in range: still reported */
	assert_int_equal(mp_stats_sum(s, &v), -EOVERFLOW);
	assert_int_equal(mp_stats_add(s, 5), 0);	/* 4 > exact_cap 2: sketch */
	assert_false(mp_stats_is_exact(s));
	mp_stats_reset(s);
	assert_int_equal(mp_stats_count(s), 0);
	assert_true(mp_stats_is_exact(s));
	assert_int_equal(mp_stats_add(s, -3), 0);
	assert_int_equal(mp_stats_add(s, 9), 0);
	assert_int_equal(mp_stats_sum(s, &v), 0);
	assert_int_equal(v, 6);
	/* {-3, 9}: median 3, p95 = -3 + 0.95 * 12 = 8.4 -> 8 */
	assert_int_equal(mp_stats_quantile(s, 0.5, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(mp_stats_quantile(s, 0.95, &v), 0);
	assert_int_equal(v, 8);
	assert_true(mp_stats_is_exact(s));
	mp_stats_free(s);
}

/* Exact while count <= exact_cap, sketch after; memory stays bounded. */
static void test_mode_switch(void **state)
{
	struct mp_stats *s;
	struct mp_stats_summary sum;
	size_t mem;
	int i;

	(void)state;
	assert_int_equal(mp_stats_new(&s, 100), 0);
	for (i = 1; i <= 100; i++)
		assert_int_equal(mp_stats_add(s, i * 1000), 0);
	assert_true(mp_stats_is_exact(s));
	assert_int_equal(mp_stats_summary_get(s, &sum), 0);
	assert_true(sum.exact);
	/* 1000..100000: h = 99 * 0.5 = 49.5 -> 50500; p95: h = 94.05 -> 95050 */
	assert_int_equal(sum.median_ns, 50500);
	assert_int_equal(sum.p95_ns, 95050);
	assert_int_equal(mp_stats_add(s, 101000), 0);
	assert_false(mp_stats_is_exact(s));
	assert_int_equal(mp_stats_summary_get(s, &sum), 0);
	assert_false(sum.exact);
	assert_int_equal(sum.count, 101);
	assert_int_equal(sum.min_ns, 1000);
	assert_int_equal(sum.max_ns, 101000);
	/* 51000 +- 1 %; 96000 +- 1 % */
	assert_in_range(sum.median_ns, 50490, 51510);
	assert_in_range(sum.p95_ns, 95040, 96960);
	mem = mp_stats_mem_bytes(s);
	for (i = 0; i < 100000; i++)
		assert_int_equal(mp_stats_add(s, (int64_t)i * 7919 - 300000000), 0);
	assert_int_equal(mp_stats_mem_bytes(s), mem);
	assert_true(mem < 40 * 1024);
	print_message("sketch memory: %zu bytes\n", mem);
	mp_stats_free(s);
}

/* ---- fixtures from Python's statistics ---- */

static void check_dataset(const char *name, const int64_t *vals, size_t n, FILE *f)
{
	struct mp_stats *s, *sk;
	struct mp_stats_summary sum;
	int64_t *sorted, v, want_min = INT64_MAX, want_max = INT64_MIN;
	double d, exp, mag = 0.0;
	char tok[128], what[160];
	size_t i;

	sorted = malloc(n * sizeof(*sorted));
	assert_non_null(sorted);
	assert_int_equal(mp_stats_new(&s, n), 0);
	assert_int_equal(mp_stats_new(&sk, n - 1), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(mp_stats_add(s, vals[i]), 0);
		assert_int_equal(mp_stats_add(sk, vals[i]), 0);
		want_min = MP_MIN(want_min, vals[i]);
		want_max = MP_MAX(want_max, vals[i]);
		mag = fmax(mag, fabs((double)vals[i]));
		sorted[i] = vals[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_i64);
	assert_true(mp_stats_is_exact(s));
	assert_false(mp_stats_is_exact(sk));
	assert_int_equal(mp_stats_count(s), n);
	assert_int_equal(mp_stats_min(s, &v), 0);
	assert_int_equal(v, want_min);
	assert_int_equal(mp_stats_max(s, &v), 0);
	assert_int_equal(v, want_max);
	assert_int_equal(mp_stats_quantile(s, 0.0, &v), 0);
	assert_int_equal(v, want_min);
	assert_int_equal(mp_stats_quantile(s, 1.0, &v), 0);
	assert_int_equal(v, want_max);

	expect_tok(f, "sum");
	assert_true(token(f, tok));
	if (strcmp(tok, "overflow") == 0) {
		assert_int_equal(mp_stats_sum(s, &v), -EOVERFLOW);
	} else {
		assert_int_equal(mp_stats_sum(s, &v), 0);
		assert_int_equal(v, strtoll(tok, NULL, 10));
	}
	/* A double mean is good to a few ulps of the largest sample. */
	expect_tok(f, "mean");
	exp = dbl_tok(f);
	assert_int_equal(mp_stats_mean(s, &d), 0);
	snprintf(what, sizeof(what), "%s mean", name);
	assert_close(d, exp, 4 * DBL_EPSILON * (fabs(exp) + mag), what);
	expect_tok(f, "stdev");
	exp = dbl_tok(f);
	assert_int_equal(mp_stats_stddev(s, &d), 0);
	snprintf(what, sizeof(what), "%s stdev", name);
	assert_close(d, exp, 1e-9 * exp, what);
	assert_int_equal(mp_stats_summary_get(s, &sum), 0);
	assert_true(sum.stddev_ns == d);

	expect_tok(f, "median");
	{
		long double num = ld_tok(f), den = ld_tok(f);

		snprintf(what, sizeof(what), "%s median", name);
		assert_int_equal(mp_stats_quantile(s, 0.5, &v), 0);
		assert_quantile(v, num, den, what);
		assert_quantile(sum.median_ns, num, den, what);
	}
	for (;;) {
		long double num, den, qerr;
		long long k, cuts;
		double q;

		assert_true(token(f, tok));
		if (strcmp(tok, "end") == 0)
			break;
		assert_string_equal(tok, "q");
		k = ll_tok(f);
		cuts = ll_tok(f);
		num = ld_tok(f);
		den = ld_tok(f);
		q = (double)k / (double)cuts;
		qerr = fabsl((long double)q - (long double)k / (long double)cuts) *
		       (long double)(n - 1) * ((long double)want_max - (long double)want_min);
		snprintf(what, sizeof(what), "%s q=%lld/%lld", name, k, cuts);
		assert_int_equal(mp_stats_quantile(s, q, &v), 0);
		assert_quantile_q(v, num, den, qerr, what);
		if (k * 20 == cuts * 19)
			assert_quantile_q(sum.p95_ns, num, den, qerr, what);
		if (k * 100 == cuts * 99)
			assert_quantile_q(sum.p99_ns, num, den, qerr, what);
		/* The same data one past exact_cap: within the sketch's bound. */
		assert_int_equal(mp_stats_quantile(sk, q, &v), 0);
		assert_sketch_bound(v, sorted, n, q, NULL);
	}
	mp_stats_free(s);
	mp_stats_free(sk);
	free(sorted);
}

static void test_fixture_quantiles(void **state)
{
	FILE *f = fixture_open(FIX_DIR "stats_quantiles.txt");
	char tok[128], name[128];
	int64_t *vals;
	int datasets = 0;
	size_t n, i;

	(void)state;
	if (!f)
		skip();
	vals = malloc(MAX_DATASET * sizeof(*vals));
	assert_non_null(vals);
	while (token(f, tok)) {
		assert_string_equal(tok, "dataset");
		assert_true(token(f, name));
		n = (size_t)ll_tok(f);
		assert_in_range(n, 2, MAX_DATASET);
		for (i = 0; i < n; i++)
			vals[i] = ll_tok(f);
		check_dataset(name, vals, n, f);
		datasets++;
	}
	assert_true(datasets >= 10);
	free(vals);
	fclose(f);
}

/* ---- sketch accuracy over millions of samples ---- */

enum dist { D_UNIFORM, D_EXPO, D_BIMODAL, D_SIGNED, D_LOGNORMAL, D_COUNT };

static const char *const dist_name[D_COUNT] = {
	"uniform 0..100 ms", "exponential mean 2 ms", "bimodal 5 ms / 40 ms",
	"signed owd N(0.5 ms, 2 ms)", "lognormal (heavy tail)",
};

static int64_t draw(enum dist d, uint64_t *st)
{
	switch (d) {
	case D_UNIFORM:
		return (int64_t)(unif(st) * 100.0 * MS);
	case D_EXPO:
		return (int64_t)(-log(1.0 - unif(st)) * 2.0 * MS);
	case D_BIMODAL:
		if (unif(st) < 0.5)
			return (int64_t)(5.0 * MS + gauss(st) * 0.2 * MS);
		return (int64_t)(40.0 * MS + gauss(st) * 2.0 * MS);
	case D_SIGNED:
		return (int64_t)(0.5 * MS + gauss(st) * 2.0 * MS);
	default:
		return (int64_t)exp(14.0 + 2.0 * gauss(st));
	}
}

static void test_sketch_accuracy(void **state)
{
	static const double qs[] = { 0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5,
				     0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0 };
	int64_t *x = malloc(SKETCH_SAMPLES * sizeof(*x)), v;
	struct mp_stats *s;
	uint64_t st = 4737;
	size_t i, mem;
	int d, k;

	(void)state;
	assert_non_null(x);
	assert_int_equal(mp_stats_new(&s, 10000), 0);
	for (d = 0; d < D_COUNT; d++) {
		double max_rel = 0.0;

		mp_stats_reset(s);
		for (i = 0; i < SKETCH_SAMPLES; i++) {
			x[i] = draw((enum dist)d, &st);
			assert_int_equal(mp_stats_add(s, x[i]), 0);
		}
		assert_false(mp_stats_is_exact(s));
		qsort(x, SKETCH_SAMPLES, sizeof(*x), cmp_i64);
		for (k = 0; k < (int)MP_ARRAY_SIZE(qs); k++) {
			assert_int_equal(mp_stats_quantile(s, qs[k], &v), 0);
			assert_sketch_bound(v, x, SKETCH_SAMPLES, qs[k], &max_rel);
		}
		for (k = 0; k <= 1000; k++) {
			assert_int_equal(mp_stats_quantile(s, k / 1000.0, &v), 0);
			assert_sketch_bound(v, x, SKETCH_SAMPLES, k / 1000.0, &max_rel);
		}
		mem = mp_stats_mem_bytes(s);
		assert_true(mem < 40 * 1024);
		print_message("%-28s %d samples: max rel. error %.4f %% (bound 1 %%), %zu bytes\n",
			      dist_name[d], SKETCH_SAMPLES, max_rel * 100.0, mem);
	}
	mp_stats_free(s);
	free(x);
}

/* Extremes of int64 and values near zero go through the sketch too. */
static void test_sketch_extremes(void **state)
{
	static const int64_t vals[] = { INT64_MIN, INT64_MIN + 1, -1000000007, -1, 0, 0, 1, 2,
					3, 49, 50, 51, 99, 100, 101, 1000, INT64_MAX - 1,
					INT64_MAX };
	int64_t sorted[MP_ARRAY_SIZE(vals)], v;
	struct mp_stats *s;
	size_t i;
	int k;

	(void)state;
	assert_int_equal(mp_stats_new(&s, 0), 0);
	for (i = 0; i < MP_ARRAY_SIZE(vals); i++) {
		assert_int_equal(mp_stats_add(s, vals[i]), 0);
		sorted[i] = vals[i];
	}
	assert_false(mp_stats_is_exact(s));
	qsort(sorted, MP_ARRAY_SIZE(vals), sizeof(*sorted), cmp_i64);
	for (k = 0; k <= 1000; k++) {
		assert_int_equal(mp_stats_quantile(s, k / 1000.0, &v), 0);
		assert_sketch_bound(v, sorted, MP_ARRAY_SIZE(vals), k / 1000.0, NULL);
	}
	/* |v| <= 49: 0.99 % of it is under 0.5 ns, so the estimate rounds to v. */
	for (i = 0; i < MP_ARRAY_SIZE(vals); i++) {
		double q = (double)i / (double)(MP_ARRAY_SIZE(vals) - 1);

		assert_int_equal(mp_stats_quantile(s, q, &v), 0);
		if (sorted[i] >= -49 && sorted[i] <= 49)
			assert_int_equal(v, sorted[i]);
	}
	mp_stats_free(s);
}

/* ---- RFC 3550 jitter ---- */

/*
 * Hand-worked, RFC 3550 6.4.1. Sent every 20 ms, transit 10, 12, 11, 15,
 * 15 ms. D = +2, -1, +4, 0 ms.
 *   J1 = 0 + (2 - 0) / 16                     = 0.125 ms
 *   J2 = 0.125 + (1 - 0.125) / 16             = 0.1796875 ms
 *   J3 = 0.1796875 + (4 - 0.1796875) / 16     = 0.41845703125 ms
 *   J4 = 0.41845703125 + (0 - J3) / 16        = 0.392303466796875 ms
 * Every step is a dyadic fraction of ns, so the double is exact.
 */
static void jitter_hand(uint64_t s_base, uint64_t r_base)
{
	static const int64_t transit_ms[] = { 10, 12, 11, 15, 15 };
	static const double want_ms[] = { 0.125, 0.1796875, 0.41845703125, 0.392303466796875 };
	struct mp_jitter j;
	double got;
	size_t i;

	mp_jitter_init(&j);
	for (i = 0; i < MP_ARRAY_SIZE(transit_ms); i++) {
		uint64_t snd = s_base + i * 20 * MS;
		uint64_t rcv = r_base + i * 20 * MS + (uint64_t)(transit_ms[i] * MS);

		assert_int_equal(mp_jitter_add(&j, snd, rcv), 0);
		if (i == 0) {
			assert_int_equal(mp_jitter_get(&j, &got), -ENODATA);
			continue;
		}
		assert_int_equal(mp_jitter_get(&j, &got), 0);
		assert_true(got == want_ms[i - 1] * MS);
	}
}

static void test_jitter_hand(void **state)
{
	(void)state;
	jitter_hand(0, 0);
	/* Clock offset cancels, and timestamps may wrap modulo 2^64. */
	jitter_hand(UINT64_MAX - 30 * MS, 1700000000000000000ULL);
	jitter_hand(1700000000000000000ULL, 5);
	assert_int_equal(mp_jitter_add(NULL, 1, 2), -EINVAL);
	mp_jitter_init(NULL);
}

static void test_jitter_fixture(void **state)
{
	FILE *f = fixture_open(FIX_DIR "stats_jitter.txt");
	char tok[128], name[128], what[160];
	struct mp_jitter j;
	int cases = 0;
	long long n, i;
	double got, exp;

	(void)state;
	if (!f)
		skip();
	while (token(f, tok)) {
		assert_string_equal(tok, "jitter");
		assert_true(token(f, name));
		n = ll_tok(f);
		mp_jitter_init(&j);
		for (i = 0; i < n; i++) {
			uint64_t snd = ull_tok(f);
			uint64_t rcv = ull_tok(f);

			assert_int_equal(mp_jitter_add(&j, snd, rcv), 0);
		}
		expect_tok(f, "J");
		exp = dbl_tok(f);
		expect_tok(f, "end");
		assert_int_equal(mp_jitter_get(&j, &got), 0);
		snprintf(what, sizeof(what), "jitter %s", name);
		assert_close(got, exp, 1e-9 * exp, what);
		cases++;
	}
	assert_int_equal(cases, 2);
	fclose(f);
}

/* ---- RFC 3393 IPDV ---- */

/*
 * Hand-worked: seq 1..6 with one-way delays 10, 12, 11, (4 lost), 15, 14
 * ms. Pairs (1,2) = +2, (2,3) = -1, (5,6) = -1 ms; 3-4 and 4-5 have no
 * value. min -1, max +2, mean |ipdv| = 4/3 ms. Sorted -1, -1, 2: median
 * -1; p95 h = 1.9: -1 + 0.9 * 3 = 1.7 ms; p99 h = 1.98: 1.94 ms.
 */
static void test_ipdv_hand(void **state)
{
	struct mp_ipdv *d;
	struct mp_ipdv_summary sum;
	int64_t v;

	(void)state;
	assert_int_equal(mp_ipdv_new(&d, 100, 0), 0);
	assert_int_equal(mp_ipdv_summary_get(d, &sum), -ENODATA);
	assert_int_equal(mp_ipdv_add(d, 1, 10 * MS), 0);
	assert_int_equal(mp_ipdv_add(d, 2, 12 * MS), 1);
	assert_int_equal(mp_ipdv_add(d, 3, 11 * MS), 1);
	assert_int_equal(mp_ipdv_add(d, 5, 15 * MS), 0);
	assert_int_equal(mp_ipdv_add(d, 6, 14 * MS), 1);
	assert_int_equal(mp_ipdv_add(d, 6, 99 * MS), 0);	/* duplicate: ignored */
	assert_int_equal(mp_ipdv_summary_get(d, &sum), 0);
	assert_int_equal(sum.pairs, 3);
	assert_int_equal(sum.ipdv.count, 3);
	assert_int_equal(sum.ipdv.min_ns, -1 * MS);
	assert_int_equal(sum.ipdv.max_ns, 2 * MS);
	assert_close(sum.mean_abs_ns, 4.0 * MS / 3.0, 1e-6, "mean |ipdv|");
	assert_close(sum.ipdv.mean_ns, 0.0, 1e-6, "mean ipdv");
	assert_int_equal(sum.ipdv.median_ns, -1 * MS);
	assert_int_equal(sum.ipdv.p95_ns, 1700000);
	assert_int_equal(sum.ipdv.p99_ns, 1940000);
	assert_int_equal(mp_stats_quantile(mp_ipdv_stats(d), 0.25, &v), 0);
	assert_int_equal(v, -1 * MS);
	mp_ipdv_free(d);
}

/*
 * Reordered arrival 101, 103, 102: 102 completes both pairs, (101,102) =
 * 12 - 10 = +2 ms and (102,103) = 11 - 12 = -1 ms. Across the wrap,
 * 0xffffffff then 0 are consecutive; raw negative delays are fine.
 */
static void test_ipdv_reorder_wrap(void **state)
{
	struct mp_ipdv *d = NULL;
	struct mp_ipdv_summary sum;

	(void)state;
	assert_int_equal(mp_ipdv_new(NULL, 0, 0), -EINVAL);
	assert_int_equal(mp_ipdv_new(&d, 0, 1), -EINVAL);
	assert_null(d);
	assert_int_equal(mp_ipdv_new(&d, 100, 16), 0);
	assert_int_equal(mp_ipdv_add(d, 101, 10 * MS), 0);
	assert_int_equal(mp_ipdv_add(d, 103, 11 * MS), 0);
	assert_int_equal(mp_ipdv_add(d, 102, 12 * MS), 2);
	assert_int_equal(mp_ipdv_add(d, 0xffffffffU, -3 * MS), 0);
	assert_int_equal(mp_ipdv_add(d, 0, -1 * MS), 1);
	assert_int_equal(mp_ipdv_summary_get(d, &sum), 0);
	assert_int_equal(sum.pairs, 3);
	assert_int_equal(sum.ipdv.min_ns, -1 * MS);
	assert_int_equal(sum.ipdv.max_ns, 2 * MS);
	/* {+2, -1, +2}: mean |.| = 5/3 ms */
	assert_close(sum.mean_abs_ns, 5.0 * MS / 3.0, 1e-6, "mean |ipdv|");
	assert_int_equal(mp_ipdv_add(d, 104, INT64_MIN), -ERANGE);
	mp_ipdv_free(d);
	mp_ipdv_free(NULL);
}

static void test_ipdv_fixture(void **state)
{
	FILE *f = fixture_open(FIX_DIR "stats_ipdv.txt");
	char tok[128], name[128], what[160];
	struct mp_ipdv_summary sum;
	struct mp_ipdv *d;
	long long n, i, window, pairs = 0;
	int64_t v;
	int r;

	(void)state;
	if (!f)
		skip();
	expect_tok(f, "ipdv");
	assert_true(token(f, name));
	window = ll_tok(f);
	n = ll_tok(f);
	assert_int_equal(mp_ipdv_new(&d, 100000, (uint32_t)window), 0);
	for (i = 0; i < n; i++) {
		uint32_t seq = (uint32_t)ll_tok(f);
		int64_t owd = ll_tok(f);

		r = mp_ipdv_add(d, seq, owd);
		assert_in_range(r, 0, 2);
		pairs += r;
	}
	assert_int_equal(mp_ipdv_summary_get(d, &sum), 0);
	expect_tok(f, "pairs");
	assert_int_equal(sum.pairs, ll_tok(f));
	assert_int_equal(sum.pairs, pairs);
	expect_tok(f, "min");
	assert_int_equal(sum.ipdv.min_ns, ll_tok(f));
	expect_tok(f, "max");
	assert_int_equal(sum.ipdv.max_ns, ll_tok(f));
	expect_tok(f, "mean_abs");
	{
		double exp = dbl_tok(f);

		assert_close(sum.mean_abs_ns, exp, 1e-9 * exp, "mean |ipdv|");
	}
	while (token(f, tok) && strcmp(tok, "end") != 0) {
		long long k = ll_tok(f), cuts = ll_tok(f);
		long double num = ld_tok(f), den = ld_tok(f);

		assert_string_equal(tok, "q");
		snprintf(what, sizeof(what), "%s ipdv q=%lld/%lld", name, k, cuts);
		assert_int_equal(mp_stats_quantile(mp_ipdv_stats(d), (double)k / (double)cuts, &v),
				 0);
		assert_quantile(v, num, den, what);
	}
	print_message("ipdv fixture: %lld arrivals, %lld pairs\n", n, pairs);
	mp_ipdv_free(d);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_errors),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_sum_overflow_reset),
		cmocka_unit_test(test_mode_switch),
		cmocka_unit_test(test_fixture_quantiles),
		cmocka_unit_test(test_sketch_accuracy),
		cmocka_unit_test(test_sketch_extremes),
		cmocka_unit_test(test_jitter_hand),
		cmocka_unit_test(test_jitter_fixture),
		cmocka_unit_test(test_ipdv_hand),
		cmocka_unit_test(test_ipdv_reorder_wrap),
		cmocka_unit_test(test_ipdv_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
