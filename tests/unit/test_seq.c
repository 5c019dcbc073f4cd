/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/seq.c. Expected counts are worked by hand in the
 * comments, or come from the set-based reference model in
 * tests/unit/fixtures/gen_seq.py (tests/unit/fixtures/seq_cases.txt).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seq.h"

#define FIX_DIR "tests/unit/fixtures/"

/* ---- helpers ---- */

struct want {
	uint64_t expected, received, lost, duplicates, reordered, late, max_extent;
	uint64_t bursts, max_burst;
	uint64_t hist[MP_SEQ_BURST_BUCKETS_MAX];
};

static void check_counts(const struct mp_seq *s, const struct want *w, unsigned int buckets)
{
	struct mp_seq_counts c;
	unsigned int i;

	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(c.expected, w->expected);
	assert_int_equal(c.received, w->received);
	assert_int_equal(c.lost, w->lost);
	assert_int_equal(c.duplicates, w->duplicates);
	assert_int_equal(c.reordered, w->reordered);
	assert_int_equal(c.late, w->late);
	assert_int_equal(c.max_reorder_extent, w->max_extent);
	assert_int_equal(c.loss_bursts, w->bursts);
	assert_int_equal(c.max_loss_burst, w->max_burst);
	assert_int_equal(c.burst_buckets, buckets);
	for (i = 0; i < buckets; i++)
		assert_int_equal(c.burst_hist[i], w->hist[i]);
}

static void add_all(struct mp_seq *s, uint32_t base, const int64_t *off, const int *cls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(mp_seq_add(s, base + (uint32_t)off[i]), cls[i]);
}

enum { N_ = MP_SEQ_NEW, R_ = MP_SEQ_REORDERED, D_ = MP_SEQ_DUP, L_ = MP_SEQ_LATE };

/* ---- API ---- */

static void test_api(void **state)
{
	struct mp_seq *s = NULL;
	struct mp_seq_counts c;

	(void)state;
	assert_int_equal(mp_seq_new(NULL, 0, 0, 0, 0), -EINVAL);
	assert_int_equal(mp_seq_new(&s, 0, MP_SEQ_WINDOW_MAX + 1, 0, 0), -EINVAL);
	assert_int_equal(mp_seq_new(&s, 0, 0, MP_SEQ_BURST_BUCKETS_MAX + 1, 0), -EINVAL);
	assert_int_equal(mp_seq_new(&s, 0, 0, 0, 1U << 7), -EINVAL);
	assert_null(s);
	assert_int_equal(mp_seq_add(NULL, 1), -EINVAL);
	assert_int_equal(mp_seq_expire(NULL, 1), -EINVAL);
	assert_int_equal(mp_seq_finish(NULL, 1), -EINVAL);
	assert_int_equal(mp_seq_counts_get(NULL, &c), -EINVAL);
	mp_seq_free(NULL);

	/* Defaults; nothing received, nothing expected. */
	assert_int_equal(mp_seq_new(&s, 7, 0, 0, 0), 0);
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(c.expected, 0);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.burst_buckets, MP_SEQ_BURST_BUCKETS_DEFAULT);
	assert_int_equal(mp_seq_counts_get(s, NULL), -EINVAL);
	/* The sender sent 7..9 and nothing arrived: 3 lost in one burst. */
	assert_int_equal(mp_seq_finish(s, 10), 0);
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(c.expected, 3);
	assert_int_equal(c.lost, 3);
	assert_int_equal(c.loss_bursts, 1);
	assert_int_equal(c.burst_hist[2], 1);
	mp_seq_free(s);
}

/*
 * MP_SEQ_FIRST_FROM_PACKET: first is the first arrival's number; nothing
 * to anchor an expire point on before it.
 */
static void test_first_from_packet(void **state)
{
	struct mp_seq *s;
	struct mp_seq_counts c;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 0, 64, 4, MP_SEQ_FIRST_FROM_PACKET), 0);
	assert_int_equal(mp_seq_expire(s, 10), -ENODATA);
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(c.expected, 0);
	assert_int_equal(mp_seq_add(s, 500), MP_SEQ_NEW);
	assert_int_equal(mp_seq_add(s, 499), MP_SEQ_LATE);	/* before first */
	assert_int_equal(mp_seq_add(s, 502), MP_SEQ_NEW);
	assert_int_equal(mp_seq_finish(s, 504), 0);
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	/* 500..503 expected, 501 and 503 lost: two bursts of 1 */
	assert_int_equal(c.expected, 4);
	assert_int_equal(c.received, 2);
	assert_int_equal(c.lost, 2);
	assert_int_equal(c.late, 1);
	assert_int_equal(c.loss_bursts, 2);
	assert_int_equal(c.burst_hist[0], 2);
	mp_seq_free(s);
}

/* ---- hand-worked sequences (also in seq_cases.txt, via the model) ---- */

/*
 * Loss only. first 1, arrivals 1 2 4 5 8 9 10: expected 10 (1..10),
 * received 7, lost 3 = {3} and {6, 7}: bursts of 1 and 2.
 */
static void test_loss(void **state)
{
	static const int64_t off[] = { 1, 2, 4, 5, 8, 9, 10 };
	static const int cls[] = { N_, N_, N_, N_, N_, N_, N_ };
	const struct want w = { .expected = 10, .received = 7, .lost = 3, .bursts = 2,
				.max_burst = 2, .hist = { 1, 1, 0, 0 } };
	struct mp_seq *s;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 1, 64, 4, 0), 0);
	add_all(s, 0, off, cls, MP_ARRAY_SIZE(off));
	check_counts(s, &w, 4);
	mp_seq_free(s);
}

/*
 * Duplicates and reordering. first 1, arrivals 1 2 4 5 3 3 5 6 1.
 * 3 arrives after 5 (NextExp 6): reordered; its position is 4 (positions
 * 0..3 are 1 2 4 5) and the earliest larger number, 4, came at position 2:
 * extent 2 (RFC 4737 4.2). The second 3, second 5 and second 1 are
 * duplicates (RFC 5560). Nothing is lost: the reordered 3 filled its hole.
 */
static void test_dup_reorder(void **state)
{
	static const int64_t off[] = { 1, 2, 4, 5, 3, 3, 5, 6, 1 };
	static const int cls[] = { N_, N_, N_, N_, R_, D_, D_, N_, D_ };
	const struct want w = { .expected = 6, .received = 6, .lost = 0, .duplicates = 3,
				.reordered = 1, .max_extent = 2 };
	struct mp_seq *s;
	struct mp_seq_counts c;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 1, 64, 4, 0), 0);
	add_all(s, 0, off, cls, 4);
	/* Before 3 arrives it counts as lost (a hole in the window). */
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(c.lost, 1);
	assert_int_equal(c.loss_bursts, 1);
	add_all(s, 0, off + 4, cls + 4, MP_ARRAY_SIZE(off) - 4);
	check_counts(s, &w, 4);
	mp_seq_free(s);
}

/*
 * Late. first 100, window 4, arrivals 100 101 103 104 105 106 102 99 107
 * 106. After 106, NextExp = 107 and the horizon is 107 - 4 = 103: 102 is
 * late (and stays lost), 99 is before first: late. After 107 the horizon
 * is 104 and 106 is a duplicate. expected 8 (100..107), received 7, lost
 * 1, one burst of 1.
 */
static void test_late(void **state)
{
	static const int64_t off[] = { 100, 101, 103, 104, 105, 106, 102, 99, 107, 106 };
	static const int cls[] = { N_, N_, N_, N_, N_, N_, L_, L_, N_, D_ };
	const struct want w = { .expected = 8, .received = 7, .lost = 1, .duplicates = 1,
				.late = 2, .bursts = 1, .max_burst = 1, .hist = { 1 } };
	struct mp_seq *s;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 100, 4, 4, 0), 0);
	add_all(s, 0, off, cls, MP_ARRAY_SIZE(off));
	check_counts(s, &w, 4);
	mp_seq_free(s);
}

/*
 * Trailing loss. 0..3 received; the sender says it sent 0..9: 4..9 are
 * lost, one burst of 6 (bucket ">= 4"). A later 12 extends the expected
 * range to 0..12 and the same burst to 4..11 (8).
 */
static void test_trailing(void **state)
{
	static const int64_t off[] = { 0, 1, 2, 3 };
	static const int cls[] = { N_, N_, N_, N_ };
	struct want w = { .expected = 4, .received = 4 };
	struct mp_seq *s;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 0, 16, 4, 0), 0);
	add_all(s, 0, off, cls, MP_ARRAY_SIZE(off));
	check_counts(s, &w, 4);
	assert_int_equal(mp_seq_finish(s, 10), 0);
	w = (struct want){ .expected = 10, .received = 4, .lost = 6, .bursts = 1,
			   .max_burst = 6, .hist = { 0, 0, 0, 1 } };
	check_counts(s, &w, 4);
	assert_int_equal(mp_seq_finish(s, 8), 0);	/* behind: no change */
	check_counts(s, &w, 4);
	assert_int_equal(mp_seq_add(s, 9), MP_SEQ_LATE);
	assert_int_equal(mp_seq_add(s, 12), MP_SEQ_NEW);
	w = (struct want){ .expected = 13, .received = 5, .lost = 8, .late = 1, .bursts = 1,
			   .max_burst = 8, .hist = { 0, 0, 0, 1 } };
	check_counts(s, &w, 4);
	mp_seq_free(s);
}

/*
 * Wrap-around, everything combined. first 0xfffffff0 (offset 0), window
 * 32, 5 buckets; offsets 0 1 2 5 4 6 7 7 8 15 16 17 20 19 24 25 26 27 (0
 * is 0xfffffff0, 16 is 0). Received 17 of 0..27; 4 and 19 reordered (each
 * extent 1), one duplicate 7. Lost {3} {9..14} {18} {21..23}: bursts of
 * 1, 6, 1, 3 -> hist 2 0 1 0 1. finish(offset 30) adds {28, 29}: one
 * more burst of 2.
 */
static void test_wrap(void **state)
{
	static const int64_t off[] = { 0, 1, 2, 5, 4, 6, 7, 7, 8, 15, 16, 17, 20, 19, 24, 25, 26,
				       27 };
	static const int cls[] = { N_, N_, N_, N_, R_, N_, N_, D_, N_, N_, N_, N_, N_, R_, N_,
				   N_, N_, N_ };
	struct want w = { .expected = 28, .received = 17, .lost = 11, .duplicates = 1,
			  .reordered = 2, .max_extent = 1, .bursts = 4, .max_burst = 6,
			  .hist = { 2, 0, 1, 0, 1 } };
	struct mp_seq *s;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 0xfffffff0U, 32, 5, 0), 0);
	add_all(s, 0xfffffff0U, off, cls, MP_ARRAY_SIZE(off));
	check_counts(s, &w, 5);
	assert_int_equal(mp_seq_finish(s, 0xfffffff0U + 30), 0);	/* = 14 */
	w.expected = 30;
	w.lost = 13;
	w.bursts = 5;
	w.hist[1] = 1;
	check_counts(s, &w, 5);
	mp_seq_free(s);
}

/*
 * An explicit horizon (expire) between arrivals. first 1000, window 1000,
 * 3 buckets. 1000 1001 1005; expire(1003): 1002 is final. 1002 late;
 * 1004 reordered (position 3, earliest larger 1005 at 2: extent 1); 1003
 * reordered (position 4: extent 2); 1010 new; 1008 reordered (extent 1);
 * expire(1020): 1011..1019 count as expected now. 1009 late; 1025 new;
 * 1019 late; 1021 reordered (extent 1).
 * expected 1000..1025 = 26, received 9, lost 17: {1002} {1006, 1007}
 * {1009} {1011..1020} {1022..1024} -> hist (1, 2, >= 3) = 2 1 2, max 10.
 */
static void test_expire(void **state)
{
	static const int64_t a1[] = { 1000, 1001, 1005 };
	static const int c1[] = { N_, N_, N_ };
	static const int64_t a2[] = { 1002, 1004, 1003, 1010, 1008 };
	static const int c2[] = { L_, R_, R_, N_, R_ };
	static const int64_t a3[] = { 1009, 1025, 1019, 1021 };
	static const int c3[] = { L_, N_, L_, R_ };
	const struct want w = { .expected = 26, .received = 9, .lost = 17, .reordered = 4,
				.late = 3, .max_extent = 2, .bursts = 5, .max_burst = 10,
				.hist = { 2, 1, 2 } };
	struct mp_seq *s;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 1000, 1000, 3, 0), 0);
	add_all(s, 0, a1, c1, MP_ARRAY_SIZE(a1));
	assert_int_equal(mp_seq_expire(s, 1003), 0);
	add_all(s, 0, a2, c2, MP_ARRAY_SIZE(a2));
	assert_int_equal(mp_seq_expire(s, 1020), 0);
	add_all(s, 0, a3, c3, MP_ARRAY_SIZE(a3));
	check_counts(s, &w, 3);
	mp_seq_free(s);
}

/*
 * A jump of 2^31 - 1 ahead is new (O(window) work, not O(jump)); exactly
 * 2^31 ahead of NextExp reads as behind, i.e. late. first 0, window 1024:
 * 0 and 0x7fffffff are new, the horizon is 0x80000000 - 1024 = 0x7ffffc00,
 * so 0x7ffffc00 is reordered and 0x7ffffbff late; 5 is late; 0 is NextExp
 * + 2^31: late. Lost: 1 .. 0x7ffffbff and 0x7ffffc01 .. 0x7ffffffe (1022).
 */
static void test_big_jump(void **state)
{
	struct mp_seq *s;
	struct mp_seq_counts c;

	(void)state;
	assert_int_equal(mp_seq_new(&s, 0, 1024, 4, 0), 0);
	assert_int_equal(mp_seq_add(s, 0), MP_SEQ_NEW);
	assert_int_equal(mp_seq_add(s, 0x7fffffffU), MP_SEQ_NEW);
	assert_int_equal(mp_seq_add(s, 0x7fffffffU - 1023), MP_SEQ_REORDERED);
	assert_int_equal(mp_seq_add(s, 0x7fffffffU - 1024), MP_SEQ_LATE);
	assert_int_equal(mp_seq_add(s, 5), MP_SEQ_LATE);
	assert_int_equal(mp_seq_add(s, 0), MP_SEQ_LATE);
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(c.expected, 0x80000000ULL);
	assert_int_equal(c.received, 3);
	assert_int_equal(c.lost, 0x80000000ULL - 3);
	assert_int_equal(c.late, 3);
	assert_int_equal(c.loss_bursts, 2);
	assert_int_equal(c.max_loss_burst, 0x7ffffbffULL);
	assert_int_equal(c.burst_hist[3], 2);
	mp_seq_free(s);
}

/*
 * Eight million packets from 0xfffffff0 with the default window (65536):
 * every i % 1000 == 999 is dropped, every i % 5000 == 10 is held back
 * until after i + 3 (reordered, extent 3: i+1, i+2, i+3 came first; none
 * of those is ever dropped), every other i % 777 == 5 arrives twice.
 * By hand: lost 8000, all bursts of 1; reordered 1600. Duplicates are the
 * injected count.
 */
static void test_millions(void **state)
{
	const uint64_t n = 8000000;
	const uint32_t first = 0xfffffff0U;
	uint64_t i, lost = 0, dups = 0, reord = 0;
	struct mp_seq *s;
	struct mp_seq_counts c;
	int held = -1;

	(void)state;
	assert_int_equal(mp_seq_new(&s, first, 0, 4, 0), 0);
	for (i = 0; i < n; i++) {
		uint32_t seq = first + (uint32_t)i;

		if (i % 1000 == 999) {
			lost++;
		} else if (i % 5000 == 10) {
			held = (int)i;
		} else {
			assert_int_equal(mp_seq_add(s, seq), MP_SEQ_NEW);
			if (i % 777 == 5) {
				assert_int_equal(mp_seq_add(s, seq), MP_SEQ_DUP);
				dups++;
			}
		}
		if (held >= 0 && i == (uint64_t)held + 3) {
			assert_int_equal(mp_seq_add(s, first + (uint32_t)held), MP_SEQ_REORDERED);
			reord++;
			held = -1;
		}
	}
	assert_int_equal(mp_seq_finish(s, first + (uint32_t)n), 0);
	assert_int_equal(mp_seq_counts_get(s, &c), 0);
	assert_int_equal(lost, 8000);
	assert_int_equal(reord, 1600);
	assert_int_equal(c.expected, n);
	assert_int_equal(c.received, n - 8000);
	assert_int_equal(c.lost, 8000);
	assert_int_equal(c.duplicates, dups);
	assert_int_equal(c.reordered, 1600);
	assert_int_equal(c.late, 0);
	/* 10+5000k held over i+1..i+3: positions i+1, i+2, i+3 come first */
	assert_int_equal(c.max_reorder_extent, 3);
	assert_int_equal(c.loss_bursts, 8000);
	assert_int_equal(c.max_loss_burst, 1);
	assert_int_equal(c.burst_hist[0], 8000);
	mp_seq_free(s);
}

/* ---- fixtures from the Python reference model ---- */

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

static unsigned long long u_tok(FILE *f)
{
	char buf[128];

	assert_true(token(f, buf));
	return strtoull(buf, NULL, 10);
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

struct held {
	uint64_t release;
	uint32_t seq;
};

struct stream {
	uint32_t *seq;
	size_t n, cap;
};

static void stream_push(struct stream *st, uint32_t seq)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4096;
		st->seq = realloc(st->seq, st->cap * sizeof(*st->seq));
		assert_non_null(st->seq);
	}
	st->seq[st->n++] = seq;
}

/* Mirror of gen_stream() in gen_seq.py; see its comment for the algorithm. */
static void gen_stream(struct stream *out, uint32_t first, const uint64_t p[11])
{
	uint64_t st = p[0], n = p[1], loss = p[2], dup = p[3], reord = p[4], reord_max = p[5];
	uint64_t late = p[6], late_min = p[7], late_max = p[8], burst = p[9], burst_max = p[10];
	struct held *held = NULL;
	size_t nheld = 0, cap = 0, j, k;
	uint64_t burst_left = 0, i, r;

	for (i = 0; i < n || nheld; i++) {
		if (i < n) {
			uint32_t x = first + (uint32_t)i;
			uint64_t rel = 0;

			if (burst_left) {
				burst_left--;
			} else {
				r = splitmix64(&st) % 1000000;
				if (r < burst) {
					burst_left = splitmix64(&st) % burst_max;
				} else if (r < burst + loss) {
					/* lost */
				} else if (r < burst + loss + dup) {
					stream_push(out, x);
					stream_push(out, x);
				} else if (r < burst + loss + dup + reord) {
					rel = i + 1 + splitmix64(&st) % reord_max;
				} else if (r < burst + loss + dup + reord + late) {
					rel = i + late_min +
					      splitmix64(&st) % (late_max - late_min + 1);
				} else {
					stream_push(out, x);
				}
			}
			if (rel) {
				if (nheld == cap) {
					cap = cap ? cap * 2 : 64;
					held = realloc(held, cap * sizeof(*held));
					assert_non_null(held);
				}
				held[nheld++] = (struct held){ .release = rel, .seq = x };
			}
		}
		for (j = k = 0; j < nheld; j++) {
			if (held[j].release <= i)
				stream_push(out, held[j].seq);
			else
				held[k++] = held[j];
		}
		nheld = k;
	}
	free(held);
}

static void read_want(FILE *f, struct want *w, unsigned int buckets)
{
	unsigned int i;

	*w = (struct want){ 0 };
	w->expected = u_tok(f);
	w->received = u_tok(f);
	w->lost = u_tok(f);
	w->duplicates = u_tok(f);
	w->reordered = u_tok(f);
	w->late = u_tok(f);
	w->max_extent = u_tok(f);
	w->bursts = u_tok(f);
	w->max_burst = u_tok(f);
	for (i = 0; i < buckets; i++)
		w->hist[i] = u_tok(f);
}

static void run_case(FILE *f, const char *name)
{
	struct stream st = { 0 };
	struct mp_seq *s;
	struct want w;
	uint64_t fnv = 0xcbf29ce484222325ULL;
	unsigned int buckets;
	uint32_t first, window;
	size_t pos = 0, k;
	char tok[128];
	int r;

	first = (uint32_t)u_tok(f);
	window = (uint32_t)u_tok(f);
	buckets = (unsigned int)u_tok(f);
	assert_int_equal(mp_seq_new(&s, first, window, buckets, 0), 0);
	while (token(f, tok) && strcmp(tok, "end") != 0) {
		if (strcmp(tok, "a") == 0) {
			uint32_t seq = (uint32_t)u_tok(f);
			int cls = (int)u_tok(f);

			r = mp_seq_add(s, seq);
			if (r != cls)
				print_error("%s: seq %u: class %d, model %d\n", name, seq, r, cls);
			assert_int_equal(r, cls);
		} else if (strcmp(tok, "e") == 0) {
			assert_int_equal(mp_seq_expire(s, (uint32_t)u_tok(f)), 0);
		} else if (strcmp(tok, "f") == 0) {
			assert_int_equal(mp_seq_finish(s, (uint32_t)u_tok(f)), 0);
		} else if (strcmp(tok, "g") == 0) {
			uint64_t p[11];

			for (k = 0; k < MP_ARRAY_SIZE(p); k++)
				p[k] = u_tok(f);
			gen_stream(&st, first, p);
		} else if (strcmp(tok, "n") == 0) {
			k = (size_t)u_tok(f);
			assert_true(pos + k <= st.n);
			for (; k > 0; k--, pos++) {
				r = mp_seq_add(s, st.seq[pos]);
				assert_in_range(r, MP_SEQ_NEW, MP_SEQ_LATE);
				fnv = (fnv ^ (uint64_t)r) * 0x100000001b3ULL;
			}
		} else if (strcmp(tok, "h") == 0) {
			assert_int_equal(fnv, u_tok(f));
		} else if (strcmp(tok, "k") == 0) {
			read_want(f, &w, buckets);
			check_counts(s, &w, buckets);
		} else {
			print_error("%s: bad token '%s'\n", name, tok);
			fail();
		}
	}
	if (st.n)
		print_message("%-18s %zu arrivals, window %u\n", name, st.n, window);
	free(st.seq);
	mp_seq_free(s);
}

static void test_fixture_model(void **state)
{
	FILE *f = fopen(FIX_DIR "seq_cases.txt", "r");
	char tok[128], name[128];
	int cases = 0;

	(void)state;
	if (!f) {
		print_message("cannot open " FIX_DIR "seq_cases.txt (run from the repo root)\n");
		skip();
	}
	while (token(f, tok)) {
		assert_string_equal(tok, "case");
		assert_true(token(f, name));
		run_case(f, name);
		cases++;
	}
	assert_int_equal(cases, 10);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_first_from_packet),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_dup_reorder),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_big_jump),
		cmocka_unit_test(test_millions),
		cmocka_unit_test(test_fixture_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
