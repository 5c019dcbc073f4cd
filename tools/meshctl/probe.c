/* SPDX-License-Identifier: MIT */
/*
 * probe: STAMP (RFC 8762, lib/stamp) inside every tunnel, from the tunnel's
 * inner address to the peer's reflector. One probe per interval; after a
 * miss, probes follow every fast interval until the verdict is in, so a
 * silent tunnel is declared down MC_DOWN_MISSES fast probes after the first
 * miss. A down tunnel is probed at the normal interval and comes back up
 * after MC_UP_REPLIES replies in a row.
 *
 * Per tunnel: smoothed RTT and RTT variation (RFC 6298, for the miss
 * timeout), the median RTT and median raw one-way delays of the last
 * MEDIAN replies (T2 - T1 and T4 - T3 hold the clock offset, which path.c
 * lets cancel), RFC 3550 jitter per direction, loss over the
 * last MC_LOSS_WINDOW probes split by direction with the stateful
 * reflector's sequence numbers, and availability over the same window.
 * Prints nothing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sock.h"
#include "stamp.h"
#include "meshctl.h"

enum {
	RING = 16,		/* probes in flight, a power of two */
	MEDIAN = 5,		/* delays are the median of this many replies */
	BATCH = 8,
	BUF_LEN = 512,
};

struct slot {
	uint32_t seq;
	bool pending;
	uint64_t sent_mono_ns;	/* for the timeout */
	uint64_t t1_ns;		/* CLOCK_REALTIME (+ offset) at send */
	uint64_t ts_field;	/* the NTP timestamp sent: matches the reply */
};

struct outcome {
	bool answered;
	bool up;		/* the tunnel was up when it settled */
	uint32_t seq;
	uint32_t refl_seq;
};

struct mc_probe {
	struct mp_sock *sock;
	int ifindex;			/* what the socket was opened for */
	struct mp_nl_addr local, peer;
	struct mc_probe_opts o;
	uint32_t next_seq;
	uint64_t next_send_ns;
	uint64_t last_send_ns;
	struct slot ring[RING];
	struct outcome win[MC_LOSS_WINDOW];
	unsigned win_n, win_next;
	unsigned misses;	/* in a row */
	unsigned replies;	/* in a row */
	bool have_prev;
	int64_t prev_fwd_ns, prev_rev_ns;
	int64_t hist[3][MEDIAN];	/* the last replies' fwd, rev, rtt */
	unsigned hist_n, hist_next;
	uint8_t bufs[BATCH][BUF_LEN];
	struct mp_msg msgs[BATCH];
};

int mc_probe_open(struct mc_tunnel *t, const struct mc_probe_opts *o)
{
	struct sockaddr_storage src, dst;
	socklen_t src_len, dst_len;
	struct mc_probe *p;
	int r, i;

	mc_probe_close(t);
	if (!t->ifindex || !t->peer_addr.family)
		return -EADDRNOTAVAIL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = *o;
	r = mp_sock_open(&p->sock, t->peer_addr.family, SOCK_DGRAM, IPPROTO_UDP,
			 MP_SOCK_TS_RX | MP_SOCK_NONBLOCK);
	if (r < 0)
		goto fail;
	mp_nl_addr_to_sockaddr(&t->local_addr, 0, &src, &src_len);
	mp_nl_addr_to_sockaddr(&t->peer_addr, o->port, &dst, &dst_len);
	r = mp_sock_bind(p->sock, (struct sockaddr *)&src, src_len, t->ifname);
	if (r < 0)
		goto fail;
	r = mp_sock_connect(p->sock, (struct sockaddr *)&dst, dst_len);
	if (r < 0)
		goto fail;
	for (i = 0; i < BATCH; i++) {
		p->msgs[i].buf = p->bufs[i];
		p->msgs[i].buf_len = BUF_LEN;
	}
	p->ifindex = t->ifindex;
	p->local = t->local_addr;
	p->peer = t->peer_addr;
	t->probe = p;
	return 0;
fail:
	mp_sock_free(p->sock);
	free(p);
	return r;
}

void mc_probe_close(struct mc_tunnel *t)
{
	if (!t->probe)
		return;
	mp_sock_free(t->probe->sock);
	free(t->probe);
	t->probe = NULL;
}

bool mc_probe_current(const struct mc_tunnel *t)
{
	const struct mc_probe *p = t->probe;

	return p && p->ifindex == t->ifindex && !memcmp(&p->local, &t->local_addr,
							 sizeof(p->local)) &&
	       !memcmp(&p->peer, &t->peer_addr, sizeof(p->peer));
}

int mc_probe_fd(const struct mc_tunnel *t)
{
	return t->probe ? mp_sock_fd(t->probe->sock) : -1;
}

void mc_tunnel_set_state(struct mc_tunnel *t, enum mc_tunnel_state st, const char *why,
			 uint64_t now_mono_ns)
{
	snprintf(t->why, sizeof(t->why), "%s", st == MC_ST_UP ? "" : why);
	if (t->state == st)
		return;
	t->state = st;
	t->state_since_mono_ns = now_mono_ns;
	t->changes++;
}

static uint64_t timeout_ns(const struct mc_tunnel *t, const struct mc_probe *p)
{
	uint64_t rto;

	if (!t->m.valid)
		return MP_MAX(p->o.min_timeout_ns, p->o.interval_ns);
	/* never longer than an interval: a wild RTT sample must not make a
	 * dead tunnel wait for its verdict */
	rto = MP_MIN(t->m.rtt_ns + 4 * t->m.rttvar_ns, p->o.interval_ns);
	return MP_MAX(rto, p->o.min_timeout_ns);
}

/* Loss per direction and availability over the window. Losses between
 * two answered probes are split by the reflector's counter: requests it
 * never numbered were lost on the way out. Losses before the first or
 * after the last answer cannot be placed and count in both directions,
 * so that loss is never hidden. */
static void window_stats(struct mc_tunnel *t, const struct mc_probe *p)
{
	unsigned start = (p->win_next + MC_LOSS_WINDOW - p->win_n) % MC_LOSS_WINDOW;
	unsigned i, lost = 0, up = 0, lead = 0, trail = 0, fwd = 0, rev = 0, unplaced;
	const struct outcome *first = NULL, *last = NULL;

	if (!p->win_n)
		return;
	for (i = 0; i < p->win_n; i++) {
		const struct outcome *o = &p->win[(start + i) % MC_LOSS_WINDOW];

		up += o->up;
		if (!o->answered) {
			lost++;
			lead += !first;
			trail++;
			continue;
		}
		if (!first)
			first = o;
		last = o;
		trail = 0;
	}
	unplaced = lost;
	if (first) {
		unsigned between = lost - lead - trail;
		uint32_t sent = last->seq - first->seq, got = last->refl_seq - first->refl_seq;

		unplaced = lead + trail;
		/* a restarted reflector counts from 0 again: no split */
		if (got <= sent && sent - got <= between) {
			fwd = sent - got;
			rev = between - fwd;
		} else {
			unplaced += between;
		}
	}
	t->m.loss = (double)lost / p->win_n;
	t->m.loss_fwd = (double)(fwd + unplaced) / p->win_n;
	t->m.loss_rev = (double)(rev + unplaced) / p->win_n;
	t->m.avail = (double)up / p->win_n;
}

static void settle(struct mc_tunnel *t, struct mc_probe *p, bool answered, uint32_t seq,
		   uint32_t refl_seq)
{
	/* a tunnel that never answered yet is starting (the WireGuard
	 * handshake holds the first probes, wireguard-go's first one may be
	 * lost and retried 5 s later): nothing to count, even once its
	 * misses made it down */
	if (!t->m.valid && !answered)
		return;
	p->win[p->win_next] = (struct outcome){
		.answered = answered,
		/* the replies of a starting tunnel, before its verdict, are
		 * uptime too: otherwise a new tunnel would pay for it in
		 * availability for the whole window */
		.up = t->state == MC_ST_UP || (answered && t->state == MC_ST_UNKNOWN),
		.seq = seq,
		.refl_seq = refl_seq,
	};
	p->win_next = (p->win_next + 1) % MC_LOSS_WINDOW;
	if (p->win_n < MC_LOSS_WINDOW)
		p->win_n++;
	window_stats(t, p);
}

static void on_miss(struct mc_tunnel *t, struct mc_probe *p, struct slot *s, uint64_t now)
{
	s->pending = false;
	p->misses++;
	p->replies = 0;
	if (p->misses >= MC_DOWN_MISSES && t->state != MC_ST_DOWN)
		mc_tunnel_set_state(t, MC_ST_DOWN, "silent", now);
	settle(t, p, false, s->seq, 0);
	/* find out at once: the next probe goes now */
	if (t->state != MC_ST_DOWN)
		p->next_send_ns = MP_MIN(p->next_send_ns, now);
}

static int send_probe(struct mc_tunnel *t, struct mc_probe *p, uint64_t now)
{
	struct mp_stamp_test q = { .seq = p->next_seq };
	struct slot *s = &p->ring[p->next_seq % RING];
	uint8_t buf[MP_STAMP_BASE_LEN];
	uint64_t t1;
	int n;

	if (s->pending)
		on_miss(t, p, s, now);
	t1 = (uint64_t)((int64_t)mp_clock_real_ns() + p->o.clock_offset_ns);
	q.ts = mp_ntp_from_real_ns(t1);
	q.errest = mp_stamp_errest_encode(&(struct mp_stamp_errest){
		.error_ns = MP_STAMP_ERROR_UNKNOWN });
	n = mp_stamp_test_encode(&q, NULL, sizeof(buf), buf, sizeof(buf));
	if (n < 0)
		return n;
	n = mp_sock_send(p->sock, buf, (size_t)n, NULL, 0, NULL);
	/* a pending ICMP error fails one send; the next one goes through */
	if (n < 0 && n != -EAGAIN && n != -ENOBUFS)
		n = mp_sock_send(p->sock, buf, sizeof(buf), NULL, 0, NULL);
	*s = (struct slot){
		.seq = p->next_seq,
		.pending = true,
		.sent_mono_ns = now,
		.t1_ns = t1,
		.ts_field = q.ts,
	};
	/* a failed send is a probe lost: it times out like one */
	p->last_send_ns = now;
	p->next_seq++;
	t->m.sent++;
	return 0;
}

int mc_probe_tick(struct mc_tunnel *t, uint64_t now, uint64_t *next_ns)
{
	struct mc_probe *p = t->probe;
	enum mc_tunnel_state st = t->state;
	uint64_t to, fast;
	int i, changed = 0, r;

	if (!p)
		return 0;
	to = timeout_ns(t, p);
	for (i = 0; i < RING; i++) {
		struct slot *s = &p->ring[i];

		if (!s->pending)
			continue;
		if (now - s->sent_mono_ns >= to) {
			on_miss(t, p, s, now);
			changed = 1;
		} else if (s->sent_mono_ns + to < *next_ns) {
			*next_ns = s->sent_mono_ns + to;
		}
	}
	if (now >= p->next_send_ns) {
		r = send_probe(t, p, now);
		if (r < 0)
			return r;
		/* fast while a verdict is pending: after a miss, or a down
		 * tunnel that has started answering */
		fast = (p->misses && t->state != MC_ST_DOWN) ||
		       (t->state != MC_ST_UP && p->replies);
		p->next_send_ns = now + (fast ? p->o.fast_interval_ns : p->o.interval_ns);
		if (now + to < *next_ns)
			*next_ns = now + to;
	}
	if (p->next_send_ns < *next_ns)
		*next_ns = p->next_send_ns;
	return changed || st != t->state;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t median(const int64_t *v, unsigned n)
{
	int64_t c[MEDIAN];

	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_i64);
	return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

/*
 * A step of one of the two clocks: the raw one-way delays move by +d and
 * -d against their medians while their sum, the RTT, stays. A change of
 * the path moves the RTT too.
 */
static bool clock_step(const struct mc_metrics *x, const struct mc_probe *p, int64_t fwd,
		       int64_t rev)
{
	int64_t df = fwd - x->fwd_ns, dr = rev - x->rev_ns;
	int64_t noise = MP_MAX((int64_t)(2 * MP_NSEC_PER_MSEC), 4 * (int64_t)x->rttvar_ns);

	return x->valid && p->hist_n && llabs(df + dr) < noise && llabs(df - dr) > 4 * noise;
}

static void on_reply(struct mc_tunnel *t, struct mc_probe *p, const struct mp_msg *m,
		     uint64_t now)
{
	struct mp_stamp_reply r;
	struct mc_metrics *x = &t->m;
	struct slot *s;
	uint64_t t4;
	int64_t fwd, rev, rtt;
	bool first = !x->valid;

	if (mp_stamp_reply_decode(m->buf, m->len, NULL, &r) < 0)
		return;
	s = &p->ring[r.sender_seq % RING];
	if (!s->pending || s->seq != r.sender_seq || s->ts_field != r.sender_ts)
		return;		/* not ours, a duplicate, or already timed out */
	s->pending = false;
	t4 = (uint64_t)((int64_t)(m->rx_ns ? m->rx_ns : mp_clock_real_ns()) +
			p->o.clock_offset_ns);
	fwd = (int64_t)(mp_real_ns_from_ntp(r.rx_ts) - s->t1_ns);
	rev = (int64_t)(t4 - mp_real_ns_from_ntp(r.ts));
	rtt = (int64_t)(t4 - s->t1_ns) - (int64_t)(mp_real_ns_from_ntp(r.ts) -
						    mp_real_ns_from_ntp(r.rx_ts));
	if (rtt < 0)
		rtt = 0;
	/* the RTT by the monotonic clock, with the reflector's hold: a
	 * CLOCK_REALTIME step between T1 and T4 makes the two disagree, and
	 * such a sample is no measurement */
	if (llabs(rtt - ((int64_t)(mp_clock_mono_ns() - s->sent_mono_ns) -
			 (int64_t)(mp_real_ns_from_ntp(r.ts) - mp_real_ns_from_ntp(r.rx_ts)))) >
	    (int64_t)(100 * MP_NSEC_PER_MSEC))
		return;
	/* RFC 6298 section 2 */
	if (first) {
		x->rtt_ns = (uint64_t)rtt;
		x->rttvar_ns = (uint64_t)rtt / 2;
	} else {
		uint64_t d = (uint64_t)llabs((int64_t)x->rtt_ns - rtt);

		x->rttvar_ns = x->rttvar_ns - x->rttvar_ns / 4 + d / 4;
		x->rtt_ns = x->rtt_ns - x->rtt_ns / 8 + (uint64_t)rtt / 8;
	}
	if (clock_step(x, p, fwd, rev)) {
		/* the raw delays of every tunnel into or out of that site
		 * jump at once; medians that followed at their own pace
		 * would make one path look better for a few probes */
		p->hist_n = 0;
		x->clock_steps++;
	}
	/* the median of the last replies: a real change shows after half of
	 * them, a spike (a scheduling stall in wireguard-go, a handshake
	 * held in the first probe) never */
	p->hist[0][p->hist_next] = fwd;
	p->hist[1][p->hist_next] = rev;
	p->hist[2][p->hist_next] = rtt;
	p->hist_next = (p->hist_next + 1) % MEDIAN;
	p->hist_n += p->hist_n < MEDIAN;
	x->fwd_ns = median(p->hist[0], p->hist_n);
	x->rev_ns = median(p->hist[1], p->hist_n);
	x->rtt_median_ns = (uint64_t)median(p->hist[2], p->hist_n);
	/* RFC 3550 section 6.4.1: J += (|D| - J) / 16 */
	if (p->have_prev) {
		uint64_t df = (uint64_t)llabs(fwd - p->prev_fwd_ns);
		uint64_t dr = (uint64_t)llabs(rev - p->prev_rev_ns);

		x->jitter_fwd_ns = (uint64_t)((int64_t)x->jitter_fwd_ns +
					      ((int64_t)df - (int64_t)x->jitter_fwd_ns) / 16);
		x->jitter_rev_ns = (uint64_t)((int64_t)x->jitter_rev_ns +
					      ((int64_t)dr - (int64_t)x->jitter_rev_ns) / 16);
	}
	p->have_prev = true;
	p->prev_fwd_ns = fwd;
	p->prev_rev_ns = rev;
	x->last_rtt_ns = (uint64_t)rtt;
	x->last_fwd_ns = fwd;
	x->last_rev_ns = rev;
	x->valid = true;
	x->received++;
	x->last_reply_mono_ns = now;
	p->misses = 0;
	p->replies++;
	/* a tunnel's first reply ever makes it up at once, even if the
	 * handshake's wait made it down: it never was up to fail */
	if (t->state == MC_ST_UNKNOWN || first ||
	    (t->state == MC_ST_DOWN && p->replies >= MC_UP_REPLIES))
		mc_tunnel_set_state(t, MC_ST_UP, "", now);
	settle(t, p, true, r.sender_seq, r.seq);
	if (t->state != MC_ST_UP)
		p->next_send_ns = MP_MIN(p->next_send_ns, now + p->o.fast_interval_ns);
}

int mc_probe_read(struct mc_tunnel *t, uint64_t now)
{
	struct mc_probe *p = t->probe;
	int n, i, got = 0;

	if (!p)
		return 0;
	for (;;) {
		n = mp_sock_recv_batch(p->sock, p->msgs, BATCH);
		if (n == -EAGAIN)
			break;
		if (n == -EINTR)
			continue;
		if (n < 0)
			break;	/* an ICMP error (the probe times out), or worse */
		for (i = 0; i < n; i++)
			if (!p->msgs[i].truncated) {
				on_reply(t, p, &p->msgs[i], now);
				got = 1;
			}
		if (n < BATCH)
			break;
	}
	return got;
}

bool mc_probe_suspect(const struct mc_tunnel *t)
{
	return t->probe && t->probe->misses && t->state != MC_ST_DOWN;
}

void mc_probe_hurry(struct mc_tunnel *t, uint64_t now)
{
	struct mc_probe *p = t->probe;

	if (p && !p->misses && now - p->last_send_ns >= p->o.fast_interval_ns)
		p->next_send_ns = MP_MIN(p->next_send_ns, now);
}
