/* SPDX-License-Identifier: MIT */
/*
 * seq: sequence accounting for one received packet stream: loss,
 * duplicates (RFC 5560), reordering (RFC 4737), late packets and loss-burst
 * lengths. Every counter is kept on its own and none is netted against
 * another: a duplicate never hides a loss, a late packet never counts as
 * received.
 *
 * Sequence numbers are 32-bit and wrap (0xffffffff is followed by 0).
 * Internally they are extended to 64 bits relative to NextExp: a number
 * up to 2^31 - 1 ahead of NextExp is ahead, anything else is behind.
 *
 * Definitions (quoted in docs/FORMATS.md). "first" is the first expected
 * sequence number (given to mp_seq_new(), or the first packet's with
 * MP_SEQ_FIRST_FROM_PACKET); NextExp = highest sequence number received
 * + 1 (first before any packet), as in RFC 4737 section 3.3; the window
 * holds the last `window` sequence numbers below NextExp; the horizon is
 * max(first, NextExp - window, the latest mp_seq_expire() point). Each
 * packet given to mp_seq_add() is exactly one of:
 *
 *  - late (MP_SEQ_LATE): seq < horizon, i.e. older than the window, older
 *    than an expired point, or before first. Counted in `late` only: not
 *    received, not a duplicate, not reordered, and it does not reduce
 *    `lost` (as in RFC 7680, a packet that arrives after its loss horizon
 *    is lost). Whether it was also a duplicate cannot be known: the
 *    window no longer remembers that far back.
 *  - duplicate (MP_SEQ_DUP, RFC 5560): horizon <= seq and seq was already
 *    received. Counted in `duplicates` only.
 *  - reordered (MP_SEQ_REORDERED, RFC 4737 section 3.3): horizon <= seq <
 *    NextExp and not yet received. Counted in `received` and `reordered`.
 *    Its reordering extent (RFC 4737 section 4.2) is j - i, where j is
 *    its arrival position and i the arrival position of the earliest
 *    packet with a larger sequence number; positions count received
 *    (new or reordered) packets only, so duplicates and late packets
 *    take no position. `max_reorder_extent` is the largest extent seen.
 *  - new (MP_SEQ_NEW): seq >= NextExp (in order, possibly after a gap).
 *    Counted in `received`; NextExp becomes seq + 1.
 *
 * expected = end - first, where end = max(NextExp, the latest expire or
 * finish point): every sequence number from first up to the highest
 * received, or up to what the sender said it sent. lost = expected -
 * received: the numbers in [first, end) never received (as new or
 * reordered). A hole inside the window is counted as lost until a
 * reordered packet fills it, so a reordered packet is never lost; a
 * duplicate never changes lost. Trailing losses (after the highest
 * received packet) count only once mp_seq_finish() or mp_seq_expire()
 * says they were sent.
 *
 * Loss bursts: maximal runs of consecutive lost sequence numbers in
 * [first, end); a run of length L counts in bucket min(L, buckets) - 1 of
 * burst_hist: lengths 1, 2, ..., buckets - 1 and ">= buckets" last.
 *
 * Memory: window / 8 + 4 * window bytes, whatever the stream length.
 * Not thread-safe.
 */
#ifndef MP_SEQ_H
#define MP_SEQ_H

#include <stdint.h>

#include "mp.h"

enum {
	MP_SEQ_WINDOW_DEFAULT = 65536,
	MP_SEQ_WINDOW_MAX = 1 << 22,
	MP_SEQ_BURST_BUCKETS_DEFAULT = 10,
	MP_SEQ_BURST_BUCKETS_MAX = 32,
};

/* Classification of a packet by mp_seq_add() (see above). */
enum mp_seq_class {
	MP_SEQ_NEW = 0,
	MP_SEQ_REORDERED = 1,
	MP_SEQ_DUP = 2,
	MP_SEQ_LATE = 3,
};

enum mp_seq_flags {
	/* first is the first packet's sequence number, not first_seq */
	MP_SEQ_FIRST_FROM_PACKET = 1U << 0,
};

struct mp_seq;

struct mp_seq_counts {
	uint64_t expected;		/* sequence numbers in [first, end) */
	uint64_t received;		/* unique packets: new + reordered */
	uint64_t lost;			/* expected - received */
	uint64_t duplicates;		/* RFC 5560 duplicates */
	uint64_t reordered;		/* RFC 4737 reordered packets */
	uint64_t late;			/* packets older than the horizon */
	uint64_t max_reorder_extent;	/* RFC 4737 extent, arrival positions */
	uint64_t loss_bursts;		/* runs of consecutive lost numbers */
	uint64_t max_loss_burst;	/* longest run, sequence numbers */
	unsigned int burst_buckets;	/* entries used in burst_hist */
	uint64_t burst_hist[MP_SEQ_BURST_BUCKETS_MAX];	/* runs by length 1, 2, .., >= buckets */
};

/*
 * Create the accounting for one stream. first_seq: first sequence number
 * the sender sends (ignored with MP_SEQ_FIRST_FROM_PACKET, then a packet
 * reordered before the first arrival is late). window: sequence numbers
 * remembered below NextExp, 1 ... MP_SEQ_WINDOW_MAX (0: the default).
 * burst_buckets: histogram buckets, 1 ... MP_SEQ_BURST_BUCKETS_MAX (0:
 * the default). flags: enum mp_seq_flags. Returns 0, -EINVAL or -ENOMEM;
 * *ret set on success, freed with mp_seq_free().
 */
int mp_seq_new(struct mp_seq **ret, uint32_t first_seq, uint32_t window,
	       unsigned int burst_buckets, unsigned int flags);

/* Free s. NULL is fine. */
void mp_seq_free(struct mp_seq *s);

/*
 * Account one received packet. Returns its enum mp_seq_class (>= 0), or
 * -EINVAL (s NULL).
 */
int mp_seq_add(struct mp_seq *s, uint32_t seq);

/*
 * Move the horizon: every sequence number before seq is final from now
 * on. Numbers in it never received are lost for good, later arrivals of
 * them are late, and numbers beyond the highest received up to seq count
 * as expected (and so lost). For an explicit loss threshold, e.g. "a
 * probe unanswered after 3 s is lost" (RFC 7680 Tmax). A point at or
 * behind the current horizon changes nothing. Returns 0, -EINVAL, or
 * -ENODATA (MP_SEQ_FIRST_FROM_PACKET and no packet yet: nothing to
 * anchor on).
 */
int mp_seq_expire(struct mp_seq *s, uint32_t seq);

/*
 * End of the stream: the sender's next sequence number not sent, so that
 * losses after the last received packet count. Same as
 * mp_seq_expire(s, next_seq_not_sent); packets added afterwards are
 * still accounted. Returns 0, -EINVAL or -ENODATA as mp_seq_expire().
 */
int mp_seq_finish(struct mp_seq *s, uint32_t next_seq_not_sent);

/*
 * Current counts (a snapshot: holes still in the window count as lost
 * and in the burst histogram). Takes O(window) time. Returns 0, or
 * -EINVAL; *ret set on success.
 */
int mp_seq_counts_get(const struct mp_seq *s, struct mp_seq_counts *ret);

#endif
