/* SPDX-License-Identifier: MIT */
/*
 * bwtest: the sender and the receiver of one direction, shared by client and
 * server.
 *
 * Sender: packet k of the direction (all streams, round robin) is due at
 * start + k * 1e9 / pps on CLOCK_MONOTONIC. Deadlines are absolute, so a late
 * wake-up never shifts the schedule: the next run sends everything due. At
 * low rates that is one packet per wake-up; at high rates it is a batch, sent
 * with sendmmsg() and, where the kernel takes it, UDP GSO.
 *
 * Receiver: lib/seq per stream (exact, separate counters), RFC 3550 jitter per
 * stream, raw one-way delay (receiver's kernel RX stamp minus the sender's
 * CLOCK_REALTIME: includes the clocks' offset). Interval losses are final:
 * half an interval before each interval's end the receiver notes NextExp
 * (bw_rx_mark); at the end it makes every sequence number below that mark
 * final (mp_seq_expire) and reports the holes among them. So a reordered
 * packet never shows as an interval loss that a later interval takes back
 * (the packets of an interval's last half are judged one interval later),
 * and interval losses add up exactly to the summary's.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bwtest.h"
#include "clock.h"

enum {
	TX_BATCH = MP_SOCK_BATCH_MAX,	/* datagrams (or GSO buffers) per sendmmsg */
	TX_BUDGET = 1024,		/* datagrams per bw_tx_run call, so RX is served */
	GSO_BYTES = 65000,		/* largest GSO send */
	GSO_SEGS = 64,			/* most segments per GSO send */
	OWD_EXACT_CAP = 200000,		/* exact delay quantiles up to this many samples */
};

#define TX_RETRY_NS (50ULL * MP_NSEC_PER_USEC)	/* after EAGAIN/ENOBUFS */

struct bw_tx {
	struct mp_sock *s;		/* not owned */
	struct sockaddr_storage dst;	/* destination */
	socklen_t dst_len;
	uint8_t dir;			/* BW_FWD or BW_REV */
	uint64_t token;
	unsigned n;			/* streams */
	unsigned payload;		/* bytes per datagram */
	double ns_per_pkt;		/* 0: unpaced */
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC */
	uint64_t limit;			/* packets with a deadline before end_ns */
	uint64_t total;			/* packets sent, all streams */
	uint64_t errors;		/* failed send calls */
	uint64_t first_ns, last_ns;	/* first and last send, monotonic */
	bool started, done;
	unsigned gso_segs;		/* segments per GSO buffer, 0: no GSO */
	uint32_t *next_seq;		/* per stream */
	uint8_t *buf;			/* TX_BATCH buffers of GSO_BYTES or payload */
	size_t slot;			/* bytes per buffer */
	struct mp_txmsg msgs[TX_BATCH];
};

struct rx_stream {
	struct mp_seq *seq;
	struct mp_jitter jit;
	uint32_t next_exp;	/* highest received + 1 */
	uint32_t final_to;	/* every number below is final */
	uint32_t mark;		/* [final_to, mark) becomes final at the interval end */
	uint64_t cnt_below;	/* unique packets in [final_to, mark) */
	uint64_t cnt_above;	/* unique packets at or above mark */
};

struct bw_rx {
	uint8_t dir;
	uint64_t token;
	unsigned n;
	struct rx_stream *st;
	struct mp_stats *owd;		/* raw one-way delays, ns */
	uint64_t received, duplicates, reordered, late, bytes, dropped;
	uint64_t lost_final;		/* holes in finalised epochs */
	uint64_t first_ns, last_ns;	/* first and last unique arrival, realtime */
	bool finished;
	struct bw_interval snap;	/* cumulative values at the last interval end */
};

int bw_tx_new(struct bw_tx **ret, struct mp_sock *s, const struct sockaddr *dst,
	      socklen_t dst_len, uint8_t dir, uint64_t token, unsigned streams,
	      unsigned payload_bytes, double pps_total, bool gso)
{
	struct bw_tx *t;
	int r = -ENOMEM;

	if (!streams || streams > BW_STREAMS_MAX || payload_bytes < BW_PAYLOAD_MIN ||
	    payload_bytes > BW_PAYLOAD_MAX || dst_len > sizeof(t->dst))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->s = s;
	memcpy(&t->dst, dst, dst_len);
	t->dst_len = dst_len;
	t->dir = dir;
	t->token = token;
	t->n = streams;
	t->payload = payload_bytes;
	t->ns_per_pkt = pps_total > 0 ? 1e9 / pps_total : 0;
	/* GSO only at high rates: below, every packet keeps its own deadline
	 * (and is its own skb on the way, as a middlebox counts it). */
	if (gso && (pps_total <= 0 || pps_total >= BW_GSO_MIN_PPS) && payload_bytes * 2 <= GSO_BYTES && mp_sock_gso_set(s, payload_bytes) == 0)
		t->gso_segs = MP_MIN(GSO_SEGS, GSO_BYTES / payload_bytes);
	t->slot = t->gso_segs ? (size_t)t->gso_segs * payload_bytes : payload_bytes;
	t->next_seq = calloc(streams, sizeof(*t->next_seq));
	t->buf = calloc(TX_BATCH, t->slot);
	if (!t->next_seq || !t->buf)
		goto out;
	*ret = t;
	t = NULL;
	r = 0;
out:
	bw_tx_free(t);
	return r;
}

void bw_tx_free(struct bw_tx *t)
{
	if (!t)
		return;
	free(t->next_seq);
	free(t->buf);
	free(t);
}

void bw_tx_start(struct bw_tx *t, uint64_t start_ns, uint64_t end_ns)
{
	t->start_ns = start_ns;
	t->end_ns = end_ns;
	t->started = true;
	if (t->ns_per_pkt > 0)
		t->limit = (uint64_t)ceil((double)(end_ns - start_ns) / t->ns_per_pkt);
	else
		t->limit = UINT64_MAX;
}

void bw_tx_stop(struct bw_tx *t, uint64_t now_ns)
{
	(void)now_ns;
	t->done = true;
}

/* Packets due by now_ns (all streams), capped at the schedule's end. */
static uint64_t tx_due(const struct bw_tx *t, uint64_t now_ns)
{
	uint64_t due;

	if (now_ns < t->start_ns)
		return 0;
	if (t->ns_per_pkt <= 0)
		return now_ns < t->end_ns ? UINT64_MAX : t->total;
	due = (uint64_t)floor((double)(now_ns - t->start_ns) / t->ns_per_pkt) + 1;
	return MP_MIN(due, t->limit);
}

/* Write the header of the next packet into p. */
static void tx_fill(struct bw_tx *t, uint8_t *p, uint64_t tx_ns)
{
	unsigned stream = (unsigned)(t->total % t->n);
	struct bw_data_hdr h = {
		.dir = t->dir, .stream = (uint16_t)stream, .seq = t->next_seq[stream],
		.token = t->token, .tx_ns = tx_ns,
	};

	bw_data_encode(&h, p);
	t->next_seq[stream]++;
	t->total++;
}

/* Undo the last n tx_fill()s: those packets were not sent. */
static void tx_unfill(struct bw_tx *t, uint64_t n)
{
	while (n--) {
		t->total--;
		t->next_seq[t->total % t->n]--;
	}
}

int64_t bw_tx_run(struct bw_tx *t, uint64_t now_ns)
{
	uint64_t due, want, sent_now = 0;
	int r;

	if (t->done || !t->started)
		return t->done ? INT64_MAX : (int64_t)t->start_ns;
	due = tx_due(t, now_ns);
	while (t->total < due && sent_now < TX_BUDGET) {
		uint64_t tx_ns = mp_clock_real_ns(), filled = 0;
		unsigned m = 0;

		want = MP_MIN(due - t->total, TX_BUDGET - sent_now);
		while (m < TX_BATCH && filled < want) {
			uint8_t *p = t->buf + (size_t)m * t->slot;
			unsigned k = 0, segs = t->gso_segs ? t->gso_segs : 1;

			while (k < segs && filled < want) {
				tx_fill(t, p + (size_t)k * t->payload, tx_ns);
				k++;
				filled++;
			}
			t->msgs[m] = (struct mp_txmsg){
				.buf = p, .len = (size_t)k * t->payload,
				.dst = (const struct sockaddr *)&t->dst, .dst_len = t->dst_len,
			};
			m++;
		}
		r = mp_sock_send_batch(t->s, t->msgs, m);
		if (r < 0 && t->gso_segs && (r == -EIO || r == -EINVAL)) {
			/* No GSO on this path after all: go on without. */
			tx_unfill(t, filled);
			t->gso_segs = 0;
			t->slot = t->payload;
			mp_sock_gso_set(t->s, 0);
			continue;
		}
		if (r < 0) {
			tx_unfill(t, filled);
			t->errors++;
			if (r == -EAGAIN || r == -ENOBUFS)
				return (int64_t)(now_ns + TX_RETRY_NS);
			if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH)
				return (int64_t)now_ns;	/* ICMP for an earlier packet */
			return r;
		}
		if ((unsigned)r < m) {
			uint64_t unsent = 0;

			for (unsigned i = (unsigned)r; i < m; i++)
				unsent += t->msgs[i].len / t->payload;
			tx_unfill(t, unsent);
			filled -= unsent;
		}
		if (!t->first_ns && filled)
			t->first_ns = now_ns;
		if (filled)
			t->last_ns = now_ns;
		sent_now += filled;
		if ((unsigned)r < m)
			return (int64_t)(now_ns + TX_RETRY_NS);
	}
	if (t->ns_per_pkt <= 0 ? now_ns >= t->end_ns : t->total >= t->limit) {
		t->done = true;
		return INT64_MAX;
	}
	if (t->total < due || t->ns_per_pkt <= 0)
		return (int64_t)now_ns;
	return (int64_t)(t->start_ns + (uint64_t)ceil((double)t->total * t->ns_per_pkt));
}

bool bw_tx_done(const struct bw_tx *t)
{
	return !t || t->done;
}

unsigned bw_tx_streams(const struct bw_tx *t)
{
	return t->n;
}

uint32_t bw_tx_next_seq(const struct bw_tx *t, unsigned stream)
{
	return stream < t->n ? t->next_seq[stream] : 0;
}

uint64_t bw_tx_sent(const struct bw_tx *t)
{
	return t ? t->total : 0;
}

uint64_t bw_tx_errors(const struct bw_tx *t)
{
	return t ? t->errors : 0;
}

uint64_t bw_tx_span_ns(const struct bw_tx *t)
{
	return t && t->last_ns > t->first_ns ? t->last_ns - t->first_ns : 0;
}

int bw_rx_new(struct bw_rx **ret, uint8_t dir, uint64_t token, unsigned streams)
{
	struct bw_rx *r;
	int e = -ENOMEM;

	if (!streams || streams > BW_STREAMS_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dir = dir;
	r->token = token;
	r->n = streams;
	r->st = calloc(streams, sizeof(*r->st));
	if (!r->st)
		goto out;
	for (unsigned i = 0; i < streams; i++) {
		/* The first sequence number is 0 by protocol: accounting starts
		 * where the sender starts, not at the first packet seen. */
		e = mp_seq_new(&r->st[i].seq, 0, 0, BW_BURST_BUCKETS, 0);
		if (e < 0)
			goto out;
		mp_jitter_init(&r->st[i].jit);
	}
	e = mp_stats_new(&r->owd, OWD_EXACT_CAP);
	if (e < 0)
		goto out;
	*ret = r;
	r = NULL;
	e = 0;
out:
	bw_rx_free(r);
	return e;
}

void bw_rx_free(struct bw_rx *r)
{
	if (!r)
		return;
	for (unsigned i = 0; r->st && i < r->n; i++)
		mp_seq_free(r->st[i].seq);
	free(r->st);
	mp_stats_free(r->owd);
	free(r);
}

void bw_rx_drop(struct bw_rx *r)
{
	r->dropped++;
}

void bw_rx_add(struct bw_rx *r, const uint8_t *buf, size_t len, uint64_t rx_ns)
{
	struct bw_data_hdr h;
	struct rx_stream *st;
	int c;

	if (bw_data_decode(buf, len, &h) < 0 || h.token != r->token || h.dir != r->dir ||
	    h.stream >= r->n) {
		r->dropped++;
		return;
	}
	st = &r->st[h.stream];
	c = mp_seq_add(st->seq, h.seq);
	switch (c) {
	case MP_SEQ_NEW:
		st->next_exp = h.seq + 1;
		/* fall through */
	case MP_SEQ_REORDERED:
		r->received++;
		r->bytes += len;
		if ((int32_t)(h.seq - st->mark) >= 0)
			st->cnt_above++;
		else
			st->cnt_below++;
		mp_jitter_add(&st->jit, h.tx_ns, rx_ns);
		mp_stats_add(r->owd, (int64_t)(rx_ns - h.tx_ns));
		if (!r->first_ns)
			r->first_ns = rx_ns;
		r->last_ns = rx_ns;
		if (c == MP_SEQ_REORDERED)
			r->reordered++;
		break;
	case MP_SEQ_DUP:
		r->duplicates++;
		break;
	case MP_SEQ_LATE:
		r->late++;
		break;
	default:
		r->dropped++;
		break;
	}
}

static uint64_t rx_jitter_ns(const struct bw_rx *r)
{
	double sum = 0, j;
	unsigned n = 0;

	for (unsigned i = 0; i < r->n; i++) {
		if (mp_jitter_get(&r->st[i].jit, &j) == 0) {
			sum += j;
			n++;
		}
	}
	return n ? (uint64_t)llround(sum / n) : 0;
}

static int rx_lost_total(const struct bw_rx *r, uint64_t *ret)
{
	struct mp_seq_counts c;
	uint64_t lost = 0;
	int e;

	for (unsigned i = 0; i < r->n; i++) {
		e = mp_seq_counts_get(r->st[i].seq, &c);
		if (e < 0)
			return e;
		lost += c.lost;
	}
	*ret = lost;
	return 0;
}

void bw_rx_mark(struct bw_rx *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		struct rx_stream *st = &r->st[i];

		/* Every unique packet so far is below NextExp, so below the mark. */
		st->cnt_below += st->cnt_above;
		st->cnt_above = 0;
		st->mark = st->next_exp;
	}
}

int bw_rx_interval(struct bw_rx *r, uint64_t start_ns, uint64_t end_ns, struct bw_interval *ret)
{
	struct bw_interval cum = { 0 }, iv;
	int e;

	if (r->finished) {
		e = rx_lost_total(r, &cum.lost);
		if (e < 0)
			return e;
	} else {
		for (unsigned i = 0; i < r->n; i++) {
			struct rx_stream *st = &r->st[i];

			e = mp_seq_expire(st->seq, st->mark);
			if (e < 0 && e != -ENODATA)
				return e;
			r->lost_final += (uint32_t)(st->mark - st->final_to) - st->cnt_below;
			st->final_to = st->mark;
			st->cnt_below = 0;
		}
		cum.lost = r->lost_final;
	}
	cum.received = r->received;
	cum.duplicates = r->duplicates;
	cum.reordered = r->reordered;
	cum.late = r->late;
	cum.bytes = r->bytes;
	iv = (struct bw_interval){
		.start_ns = start_ns, .end_ns = end_ns,
		.received = cum.received - r->snap.received,
		.lost = cum.lost >= r->snap.lost ? cum.lost - r->snap.lost : 0,
		.duplicates = cum.duplicates - r->snap.duplicates,
		.reordered = cum.reordered - r->snap.reordered,
		.late = cum.late - r->snap.late,
		.bytes = cum.bytes - r->snap.bytes,
		.jitter_ns = rx_jitter_ns(r),
	};
	r->snap = cum;
	*ret = iv;
	return 0;
}

int bw_rx_finish(struct bw_rx *r, const uint32_t *next_seq, unsigned n)
{
	int e;

	if (n != r->n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		e = mp_seq_finish(r->st[i].seq, next_seq[i]);
		if (e < 0)
			return e;
	}
	r->finished = true;
	return 0;
}

int bw_rx_counts(struct bw_rx *r, struct bw_rx_counts *ret)
{
	struct bw_rx_counts t = { 0 };
	struct mp_stats_summary s;
	struct mp_seq_counts c;
	int e;

	for (unsigned i = 0; i < r->n; i++) {
		e = mp_seq_counts_get(r->st[i].seq, &c);
		if (e < 0)
			return e;
		t.expected += c.expected;
		t.received += c.received;
		t.lost += c.lost;
		t.duplicates += c.duplicates;
		t.reordered += c.reordered;
		t.late += c.late;
		t.loss_bursts += c.loss_bursts;
		t.max_loss_burst = MP_MAX(t.max_loss_burst, c.max_loss_burst);
		for (unsigned b = 0; b < BW_BURST_BUCKETS && b < c.burst_buckets; b++)
			t.burst_hist[b] += c.burst_hist[b];
	}
	t.bytes = r->bytes;
	t.jitter_ns = rx_jitter_ns(r);
	t.span_ns = r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0;
	t.dropped = r->dropped;
	if (mp_stats_summary_get(r->owd, &s) == 0) {
		t.owd_count = s.count;
		t.owd_min_ns = s.min_ns;
		t.owd_max_ns = s.max_ns;
		t.owd_mean_ns = (int64_t)llround(s.mean_ns);
		t.owd_p50_ns = s.median_ns;
		t.owd_p99_ns = s.p99_ns;
	}
	*ret = t;
	return 0;
}
