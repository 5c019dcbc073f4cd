/* SPDX-License-Identifier: MIT */
/*
 * The Session-Sender: sends STAMP test packets on an absolute
 * CLOCK_MONOTONIC schedule, matches replies and kernel TX stamps to probes,
 * and tells forward from reverse loss by the reflector's own sequence
 * numbers. Prints nothing: results go to struct owd_result, per-packet and
 * per-interval events to the sink.
 *
 * The four timestamps. T1 is the kernel's TX stamp of the test packet (the
 * error queue, matched by TX id); the packet itself carries a userspace T1
 * read just before sending, since the kernel stamp exists only afterwards.
 * Delays use the kernel stamp, so that neither the HMAC nor the syscall
 * counts as path delay. T4 is the kernel's RX stamp of the reply; T2 and T3
 * come from the reflector.
 *
 * Loss per direction (stateful reflector, RFC 8762 section 4): the
 * reflector numbers the requests it received 0, 1, 2, ... So with R = the
 * highest reflector number seen + 1 and S' = the highest sender number
 * answered + 1, S' - R (+ forward duplicates) requests never reached it,
 * and every reflector number below R that never came back is a lost reply.
 * Probes sent after the last answered one cannot be placed: lost_unknown.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "owd.h"
#include "args.h"
#include "clock.h"
#include "seq.h"
#include "sock.h"
#include "stamp.h"
#include "stats.h"

enum {
	BATCH = 64,			/* datagrams / error-queue entries per call */
	RING_MIN = 1024,		/* probes remembered at least */
	RING_MAX = 1 << 21,		/* at most (about 130 MB) */
	EXACT_CAP = 1 << 20,		/* exact percentiles up to this many samples */
	IPDV_WINDOW = 4096,		/* reordering the IPDV pairing survives */
	SOCK_BUF_BYTES = 4 << 20,	/* room for 10,000 packets/s bursts */
	RX_BUF_BYTES = 2048,		/* replies are as long as requests (<= length) */
};

enum slot_state {
	SLOT_FREE,
	SLOT_SENT,		/* waiting for the reply */
	SLOT_REPLIED,		/* reply in, waiting for the TX stamp */
	SLOT_ANSWERED,		/* counted as received */
	SLOT_LOST,		/* timed out */
};

struct slot {
	uint32_t seq;			/* sender sequence number */
	uint8_t state;			/* enum slot_state */
	bool have_tx;			/* t1_ns is the kernel TX stamp */
	uint64_t ts_field;		/* the Timestamp field sent (userspace T1, NTP) */
	uint64_t sent_mono_ns;		/* when sent, CLOCK_MONOTONIC */
	uint64_t t1_ns, t2_ns, t3_ns, t4_ns;
	uint32_t refl_seq;
};

/* reflector sequence number -> sender sequence number, for reordering */
struct rmap {
	uint32_t refl_seq;
	uint32_t seq;
	bool used;
};

struct txmap {
	uint32_t tx_id;
	uint32_t seq;
	bool used;
};

struct run {
	const struct owd_opts *o;
	const struct mp_auth_key *key;
	struct owd_result *res;
	const struct owd_sink *sink;
	struct mp_sock *sock;
	uint32_t length;		/* packet octets */
	uint16_t ssid;
	uint16_t errest;		/* our Error Estimate, raw */
	uint64_t rng;			/* xorshift64* state (Poisson) */

	struct slot *ring;
	struct rmap *rmap;
	struct txmap *txmap;
	uint32_t mask;			/* ring entries - 1 */
	uint64_t next_seq;		/* probes sent */
	uint64_t oldest;		/* first probe not yet answered or lost */

	struct mp_seq *refl;		/* reflector sequence numbers received */
	bool any_reply;
	uint32_t max_refl;		/* highest reflector number (valid if any_reply) */
	uint32_t max_seq_answered;	/* highest sender number answered */
	uint64_t max_rtt_ns;

	struct mp_stats *fwd, *rev, *rtt;
	struct mp_stats *ifwd, *irev, *irtt;	/* this interval */
	struct mp_ipdv *fwd_ipdv, *rev_ipdv;
	uint64_t isent, ireceived;
	bool have_offset;
	uint64_t best_rtt_ns;
	uint64_t negatives;		/* raw one-way delays below 0 */
	uint8_t *txbuf, *rxbuf;
	struct mp_msg msgs[BATCH];
	struct mp_errq errq[BATCH];
};

volatile sig_atomic_t owd_stop;

/* ---- schedule ---- */

static uint64_t rng_next(struct run *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545F4914F6CDD1DULL;
}

/* Time to the next probe: the interval, or with --poisson an exponential
 * draw of that mean (a Poisson process, RFC 2330 section 11.1.1). */
static uint64_t gap_ns(struct run *r)
{
	double u;

	if (!r->o->poisson)
		return r->o->interval_ns;
	/* 53 random bits, in (0, 1] so the log is finite */
	u = ((double)(rng_next(r) >> 11) + 1.0) / 9007199254740992.0;
	return (uint64_t)(-log(u) * (double)r->o->interval_ns);
}

static uint64_t timeout_ns(const struct run *r)
{
	if (r->o->timeout_ns)
		return r->o->timeout_ns;
	return MP_MAX(OWD_TIMEOUT_RTTS * r->max_rtt_ns, OWD_MIN_TIMEOUT_S * MP_NSEC_PER_SEC);
}

/* After the last probe, once every probe is answered or lost, the wait for
 * stragglers (duplicates, a reordered reply): 3 times the largest RTT seen,
 * at least OWD_LINGER_MIN_MS. An unanswered probe is waited for until its
 * timeout. */
static uint64_t linger_ns(const struct run *r)
{
	return MP_MAX(OWD_TIMEOUT_RTTS * r->max_rtt_ns, OWD_LINGER_MIN_MS * MP_NSEC_PER_MSEC);
}

/* ---- accounting ---- */

static void finalize(struct run *r, struct slot *s)
{
	struct owd_result *res = r->res;
	struct owd_packet p = {
		.seq = s->seq,
		.refl_seq = s->refl_seq,
		.t1_ns = s->t1_ns,
		.t2_ns = s->t2_ns,
		.t3_ns = s->t3_ns,
		.t4_ns = s->t4_ns,
		.t1_user = !s->have_tx,
	};
	int64_t off;

	p.fwd_ns = (int64_t)(s->t2_ns - s->t1_ns);
	p.rev_ns = (int64_t)(s->t4_ns - s->t3_ns);
	p.rtt_ns = (int64_t)((s->t4_ns - s->t1_ns) - (s->t3_ns - s->t2_ns));
	s->state = SLOT_ANSWERED;
	res->received++;
	r->ireceived++;
	if (!s->have_tx)
		res->tx_stamp_missing++;
	mp_stats_add(r->fwd, p.fwd_ns);
	mp_stats_add(r->rev, p.rev_ns);
	mp_stats_add(r->rtt, p.rtt_ns);
	mp_stats_add(r->ifwd, p.fwd_ns);
	mp_stats_add(r->irev, p.rev_ns);
	mp_stats_add(r->irtt, p.rtt_ns);
	mp_ipdv_add(r->fwd_ipdv, p.seq, p.fwd_ns);
	mp_ipdv_add(r->rev_ipdv, p.seq, p.rev_ns);
	if (p.fwd_ns < 0 || p.rev_ns < 0)
		r->negatives++;
	if (p.rtt_ns > 0 && (uint64_t)p.rtt_ns > r->max_rtt_ns)
		r->max_rtt_ns = (uint64_t)p.rtt_ns;
	/* NTP's on-wire offset (RFC 5905 section 8): ((T2 - T1) + (T3 - T4)) / 2,
	 * off by at most half the RTT, so the min-RTT sample bounds it best */
	off = (p.fwd_ns - p.rev_ns) / 2;
	if (!r->have_offset || off < res->offset_min_ns)
		res->offset_min_ns = off;
	if (!r->have_offset || off > res->offset_max_ns)
		res->offset_max_ns = off;
	if (p.rtt_ns >= 0 && (!r->have_offset || (uint64_t)p.rtt_ns < r->best_rtt_ns)) {
		r->best_rtt_ns = (uint64_t)p.rtt_ns;
		res->offset_ns = off;
		res->offset_err_ns = (uint64_t)p.rtt_ns / 2;
	}
	r->have_offset = true;
	if (r->sink && r->sink->packet)
		r->sink->packet(r->sink->ctx, &p);
}

/* Settle the oldest probe: lost, or answered with the userspace T1. */
static void settle(struct run *r, struct slot *s)
{
	if (s->state == SLOT_SENT)
		s->state = SLOT_LOST;
	else if (s->state == SLOT_REPLIED)
		finalize(r, s);
}

/* Walk from the oldest probe on, settling those past their timeout. */
static void expire(struct run *r, uint64_t now_ns)
{
	uint64_t to = timeout_ns(r);

	while (r->oldest < r->next_seq) {
		struct slot *s = &r->ring[r->oldest & r->mask];

		if ((s->state == SLOT_SENT || s->state == SLOT_REPLIED) &&
		    now_ns - s->sent_mono_ns < to)
			break;
		settle(r, s);
		r->oldest++;
	}
}

/* A pair of requests the reflector received one after the other (reflector
 * numbers a, a + 1) but that were sent the other way round. */
static void fwd_reorder_check(struct run *r, uint32_t refl_seq, uint32_t seq)
{
	const struct rmap *prev = &r->rmap[(refl_seq - 1) & r->mask];
	const struct rmap *next = &r->rmap[(refl_seq + 1) & r->mask];

	if (prev->used && prev->refl_seq == refl_seq - 1 && prev->seq > seq)
		r->res->fwd.reordered++;
	if (next->used && next->refl_seq == refl_seq + 1 && next->seq < seq)
		r->res->fwd.reordered++;
	r->rmap[refl_seq & r->mask] = (struct rmap){ refl_seq, seq, true };
}

static void on_reply(struct run *r, const struct mp_msg *m)
{
	struct owd_result *res = r->res;
	struct mp_stamp_reply p;
	struct slot *s;
	int cls;

	if (mp_stamp_reply_decode(m->buf, m->len, r->key, &p) < 0)
		return;
	s = &r->ring[p.sender_seq & r->mask];
	/* a reflector without RFC 8972 leaves the SSID zero */
	if (s->state == SLOT_FREE || s->seq != p.sender_seq || s->ts_field != p.sender_ts ||
	    (p.ssid != r->ssid && p.ssid != 0) || r->next_seq <= p.sender_seq)
		return;		/* not one of ours, or too old to judge */
	cls = mp_seq_add(r->refl, p.seq);
	if (cls == MP_SEQ_DUP) {
		res->rev.duplicates++;	/* the same reply twice */
		return;
	}
	if (cls == MP_SEQ_REORDERED)
		res->rev.reordered++;
	if (!r->any_reply || (int32_t)(p.seq - r->max_refl) > 0)
		r->max_refl = p.seq;
	if (s->state == SLOT_REPLIED || s->state == SLOT_ANSWERED) {
		res->fwd.duplicates++;	/* the reflector got the request twice */
		return;
	}
	if (s->state == SLOT_LOST) {
		res->rev.late++;	/* reached the reflector; the reply came too late */
		return;
	}
	fwd_reorder_check(r, p.seq, p.sender_seq);
	if (!r->any_reply || (int32_t)(p.sender_seq - r->max_seq_answered) > 0)
		r->max_seq_answered = p.sender_seq;
	r->any_reply = true;
	s->t2_ns = mp_real_ns_from_ntp(p.rx_ts);
	s->t3_ns = mp_real_ns_from_ntp(p.ts);
	s->t4_ns = m->rx_ns ? m->rx_ns : mp_clock_real_ns();
	s->refl_seq = p.seq;
	s->state = SLOT_REPLIED;
	res->refl_synced = p.errest & MP_STAMP_ERREST_S;
	{
		struct mp_stamp_errest e;

		mp_stamp_errest_decode(p.errest, &e);
		res->refl_error_ns = e.error_ns;
	}
	if (s->have_tx)
		finalize(r, s);
}

static void on_tx_stamp(struct run *r, uint32_t tx_id, uint64_t ts_ns)
{
	const struct txmap *t = &r->txmap[tx_id & r->mask];
	struct slot *s;

	if (!t->used || t->tx_id != tx_id)
		return;
	s = &r->ring[t->seq & r->mask];
	if (s->seq != t->seq || s->have_tx || s->state == SLOT_FREE)
		return;
	s->t1_ns = ts_ns;
	s->have_tx = true;
	if (s->state == SLOT_REPLIED)
		finalize(r, s);
}

static int drain(struct run *r)
{
	int n, i;

	for (;;) {
		n = mp_sock_errqueue_read_batch(r->sock, r->errq, BATCH);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			if (r->errq[i].kind == MP_ERRQ_TSTAMP)
				on_tx_stamp(r, r->errq[i].tx_id, r->errq[i].ts_ns);
			else if (++r->res->icmp_errors)
				r->res->icmp_last_errno = r->errq[i].ee_errno;
		}
	}
	for (;;) {
		n = mp_sock_recv_batch(r->sock, r->msgs, BATCH);
		if (n == -EAGAIN)
			break;
		if (n == -EINTR)
			continue;
		if (n < 0) {
			/* an ICMP error (port unreachable, ...): counted from the
			 * error queue; receiving goes on */
			continue;
		}
		for (i = 0; i < n; i++)
			if (!r->msgs[i].truncated)
				on_reply(r, &r->msgs[i]);
		if (n < BATCH)
			break;
	}
	return 0;
}

/* ---- sending ---- */

static int send_probe(struct run *r, uint64_t now_mono_ns)
{
	uint32_t seq = (uint32_t)r->next_seq, tx_id;
	struct slot *s = &r->ring[seq & r->mask];
	struct mp_stamp_test t = { .seq = seq, .errest = r->errest, .ssid = r->ssid };
	uint64_t t1;
	int n;

	/* the ring is full: the oldest probe is settled early */
	while (r->oldest + r->mask + 1 <= r->next_seq) {
		settle(r, &r->ring[r->oldest & r->mask]);
		r->oldest++;
	}
	t1 = mp_clock_real_ns();
	t.ts = mp_ntp_from_real_ns(t1);
	n = mp_stamp_test_encode(&t, r->key, r->length, r->txbuf, r->length);
	if (n < 0)
		return n;
	n = mp_sock_send(r->sock, r->txbuf, r->length, NULL, 0, &tx_id);
	/* a pending ICMP error fails one send; the next one goes through */
	if (n < 0 && n != -EAGAIN && n != -ENOBUFS && n != -EMSGSIZE)
		n = mp_sock_send(r->sock, r->txbuf, r->length, NULL, 0, &tx_id);
	if (n < 0)
		return n;
	*s = (struct slot){
		.seq = seq,
		.state = SLOT_SENT,
		.ts_field = t.ts,
		.sent_mono_ns = now_mono_ns,
		.t1_ns = t1,
	};
	r->txmap[tx_id & r->mask] = (struct txmap){ tx_id, seq, true };
	if (!r->next_seq)
		r->res->start_real_ns = t1;
	r->next_seq++;
	r->res->sent++;
	r->isent++;
	return 0;
}

/* ---- results ---- */

static void losses(struct run *r)
{
	struct owd_result *res = r->res;
	struct mp_seq_counts c;
	uint64_t seen_refl, answered_span;

	res->lost = res->sent - res->received;
	if (!r->any_reply) {
		res->fwd.lost = 0;
		res->rev.lost = 0;
		res->lost_unknown = res->lost;
		return;
	}
	/* reflector numbers 0 .. max_refl were all given out; the snapshot
	 * counts the holes below the highest received as lost, and a reply
	 * still filling one later counts as reordered, not late */
	mp_seq_counts_get(r->refl, &c);
	seen_refl = (uint64_t)r->max_refl + 1;
	answered_span = (uint64_t)r->max_seq_answered + 1;
	res->rev.lost = c.lost + res->rev.late;
	res->fwd.lost = answered_span + res->fwd.duplicates > seen_refl ?
			answered_span + res->fwd.duplicates - seen_refl : 0;
	res->lost_unknown = res->sent - answered_span;
}

static void summarize(struct run *r)
{
	struct owd_result *res = r->res;
	struct mp_clock_sync cs;

	losses(r);
	res->have_delay = mp_stats_summary_get(r->fwd, &res->fwd_s) == 0 &&
			  mp_stats_summary_get(r->rev, &res->rev_s) == 0 &&
			  mp_stats_summary_get(r->rtt, &res->rtt_s) == 0;
	res->have_fwd_ipdv = mp_ipdv_summary_get(r->fwd_ipdv, &res->fwd_ipdv) == 0;
	res->have_rev_ipdv = mp_ipdv_summary_get(r->rev_ipdv, &res->rev_ipdv) == 0;
	res->timeout_ns = timeout_ns(r);
	if (mp_clock_sync_get(&cs) == 0) {
		res->local_sync_ok = true;
		res->local_synced = cs.synced;
		res->local_est_error_ns = cs.est_error_ns;
		res->local_max_error_ns = cs.max_error_ns;
	}
	/* synchronised clocks give no negative one-way delay, and an offset
	 * estimate within its own error bound */
	res->suspect = r->negatives > 0 ||
		       (r->have_offset && (uint64_t)llabs(res->offset_ns) > res->offset_err_ns);
}

static void interval_emit(struct run *r, uint64_t start_ns, uint64_t len_ns)
{
	struct owd_interval iv = {
		.start_ns = start_ns,
		.len_ns = len_ns,
		.sent = r->isent,
		.received = r->ireceived,
	};

	mp_stats_summary_get(r->ifwd, &iv.fwd);
	mp_stats_summary_get(r->irev, &iv.rev);
	mp_stats_summary_get(r->irtt, &iv.rtt);
	losses(r);
	iv.fwd_lost = r->res->fwd.lost;
	iv.rev_lost = r->res->rev.lost;
	if (r->sink && r->sink->interval)
		r->sink->interval(r->sink->ctx, &iv);
	mp_stats_reset(r->ifwd);
	mp_stats_reset(r->irev);
	mp_stats_reset(r->irtt);
	r->isent = r->ireceived = 0;
}

/* ---- set-up ---- */

static uint32_t ring_size(const struct owd_opts *o)
{
	uint64_t to = o->timeout_ns ? o->timeout_ns : 10 * MP_NSEC_PER_SEC;
	uint64_t want = 4 * (to / MP_MAX(o->interval_ns, 1) + 1);
	uint32_t n = RING_MIN;

	if (o->count && o->count < want)
		want = o->count;
	while (n < want && n < RING_MAX)
		n <<= 1;
	return n;
}

static int setup(struct run *r, const struct owd_opts *o)
{
	struct sockaddr_storage dst;
	struct mp_clock_sync cs;
	struct mp_stamp_errest e = { .error_ns = MP_STAMP_ERROR_UNKNOWN };
	socklen_t dst_len;
	uint32_t n = ring_size(o), i;
	int rc;

	rc = mp_parse_addr(o->target, o->family, o->port, &dst, &dst_len);
	if (rc < 0)
		return rc;
	mp_addr_to_str_port((struct sockaddr *)&dst, r->res->peer, sizeof(r->res->peer));
	mp_addr_to_str((struct sockaddr *)&dst, r->res->addr, sizeof(r->res->addr));
	rc = mp_sock_open(&r->sock, dst.ss_family, SOCK_DGRAM, IPPROTO_UDP,
			  MP_SOCK_TS_SW | MP_SOCK_NONBLOCK | MP_SOCK_RECVERR);
	if (rc < 0)
		return rc;
	mp_sock_buf_set(r->sock, SOCK_BUF_BYTES, SOCK_BUF_BYTES);
	if (o->ifname) {
		rc = mp_sock_bind(r->sock, NULL, 0, o->ifname);
		if (rc < 0)
			return rc;
	}
	rc = mp_sock_connect(r->sock, (struct sockaddr *)&dst, dst_len);
	if (rc < 0)
		return rc;
	r->mask = n - 1;
	r->ring = calloc(n, sizeof(*r->ring));
	r->rmap = calloc(n, sizeof(*r->rmap));
	r->txmap = calloc(n, sizeof(*r->txmap));
	r->txbuf = malloc(r->length);
	r->rxbuf = malloc((size_t)BATCH * RX_BUF_BYTES);
	if (!r->ring || !r->rmap || !r->txmap || !r->txbuf || !r->rxbuf)
		return -ENOMEM;
	for (i = 0; i < BATCH; i++) {
		r->msgs[i].buf = r->rxbuf + (size_t)i * RX_BUF_BYTES;
		r->msgs[i].buf_len = RX_BUF_BYTES;
	}
	if ((rc = mp_seq_new(&r->refl, 0, 0, 0, 0)) < 0 ||
	    (rc = mp_stats_new(&r->fwd, EXACT_CAP)) < 0 ||
	    (rc = mp_stats_new(&r->rev, EXACT_CAP)) < 0 ||
	    (rc = mp_stats_new(&r->rtt, EXACT_CAP)) < 0 ||
	    (rc = mp_stats_new(&r->ifwd, EXACT_CAP)) < 0 ||
	    (rc = mp_stats_new(&r->irev, EXACT_CAP)) < 0 ||
	    (rc = mp_stats_new(&r->irtt, EXACT_CAP)) < 0 ||
	    (rc = mp_ipdv_new(&r->fwd_ipdv, EXACT_CAP, IPDV_WINDOW)) < 0 ||
	    (rc = mp_ipdv_new(&r->rev_ipdv, EXACT_CAP, IPDV_WINDOW)) < 0)
		return rc;
	/* a fresh session at the reflector, whatever ran before on this port */
	rc = mp_auth_nonce(&r->ssid, sizeof(r->ssid));
	if (rc < 0)
		return rc;
	r->ssid |= 1;
	if (mp_clock_sync_get(&cs) == 0) {
		e.synced = cs.synced;
		e.error_ns = cs.synced ? cs.est_error_ns : cs.max_error_ns;
	}
	r->errest = mp_stamp_errest_encode(&e);
	r->rng = o->seed ? o->seed : 0x9E3779B97F4A7C15ULL;
	return 0;
}

static void teardown(struct run *r)
{
	mp_sock_free(r->sock);
	free(r->ring);
	free(r->rmap);
	free(r->txmap);
	free(r->txbuf);
	free(r->rxbuf);
	mp_seq_free(r->refl);
	mp_stats_free(r->fwd);
	mp_stats_free(r->rev);
	mp_stats_free(r->rtt);
	mp_stats_free(r->ifwd);
	mp_stats_free(r->irev);
	mp_stats_free(r->irtt);
	mp_ipdv_free(r->fwd_ipdv);
	mp_ipdv_free(r->rev_ipdv);
}

/* The earliest of: next send, oldest probe's timeout, next report, the
 * end of the run. */
static uint64_t wake_at(const struct run *r, bool sending, uint64_t next_send,
			uint64_t next_report, uint64_t last_send)
{
	uint64_t w = UINT64_MAX;

	if (sending)
		w = next_send;
	else
		w = last_send + linger_ns(r);
	if (r->oldest < r->next_seq)
		w = MP_MIN(w, r->ring[r->oldest & r->mask].sent_mono_ns + timeout_ns(r));
	if (r->o->report_ns)
		w = MP_MIN(w, next_report);
	return w;
}

static int loop(struct run *r)
{
	const struct owd_opts *o = r->o;
	struct pollfd pfd = { .fd = mp_sock_fd(r->sock), .events = POLLIN };
	uint64_t start = mp_clock_mono_ns(), next_send = start, next_report, last_report = start;
	uint64_t now, wake, last_send = start;
	bool sending = true;
	int rc;

	next_report = start + o->report_ns;
	for (;;) {
		now = mp_clock_mono_ns();
		if (owd_stop >= 2)
			break;
		if (sending && (owd_stop || (o->count && r->next_seq >= o->count) ||
				(o->duration_ns && now - start >= o->duration_ns)))
			sending = false;
		/* absolute deadlines: a late wake-up sends what is due, so the
		 * mean rate holds; after a long stall (> 1 s) the schedule
		 * restarts rather than bursting */
		if (sending && now - next_send < (uint64_t)INT64_MAX && now - next_send > MP_NSEC_PER_SEC)
			next_send = now;
		while (sending && now >= next_send &&
		       (!o->duration_ns || next_send - start < o->duration_ns) &&
		       (!o->count || r->next_seq < o->count)) {
			rc = send_probe(r, now);
			last_send = now;
			if (rc < 0 && rc != -EAGAIN && rc != -ENOBUFS && rc != -ECONNREFUSED &&
			    rc != -EHOSTUNREACH && rc != -ENETUNREACH)
				return rc;
			next_send += gap_ns(r);
		}
		rc = drain(r);
		if (rc < 0)
			return rc;
		now = mp_clock_mono_ns();
		expire(r, now);
		if (o->report_ns && now >= next_report) {
			interval_emit(r, last_report - start, now - last_report);
			last_report = now;
			next_report += o->report_ns;
			if (next_report <= now)
				next_report = now + o->report_ns;
		}
		/* the run ends when every probe is answered or lost, and
		 * stragglers have had their time (linger_ns) */
		if (!sending && r->oldest >= r->next_seq && now - last_send >= linger_ns(r))
			break;
		wake = wake_at(r, sending, next_send, next_report, last_send);
		if (wake > now) {
			uint64_t d = wake - now;
			struct timespec ts = { .tv_sec = (time_t)(d / MP_NSEC_PER_SEC),
					       .tv_nsec = (long)(d % MP_NSEC_PER_SEC) };

			ppoll(&pfd, 1, &ts, NULL);
		}
	}
	now = mp_clock_mono_ns();
	/* a second signal: what is still in flight counts as lost */
	while (r->oldest < r->next_seq) {
		settle(r, &r->ring[r->oldest & r->mask]);
		r->oldest++;
	}
	if (o->report_ns && (r->isent || r->ireceived))
		interval_emit(r, last_report - start, now - last_report);
	r->res->elapsed_ns = now - start;
	return 0;
}

int owd_run(const struct owd_opts *o, const struct mp_auth_key *key, struct owd_result *res,
	    const struct owd_sink *sink)
{
	struct run r = { .o = o, .key = key, .res = res, .sink = sink };
	int rc;

	r.length = o->length ? o->length : key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN;
	res->refl_error_ns = MP_STAMP_ERROR_UNKNOWN;
	/* wake-ups at 100 us intervals need a tighter slack than 50 us */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	rc = setup(&r, o);
	if (rc >= 0)
		rc = loop(&r);
	if (rc >= 0) {
		summarize(&r);
		res->interrupted = owd_stop > 0;
	}
	teardown(&r);
	return rc;
}
