/* SPDX-License-Identifier: MIT */
/*
 * prtt: passive RTT and retransmissions of TCP flows (see prtt.h).
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "prtt.h"

enum { NONE = UINT32_MAX };

/* What is kept of one direction to time it. */
struct dir_state {
	bool seq_init, ack_init, fin, ts_seen;
	uint32_t snd_nxt;		/* highest sequence end sent */
	uint32_t hi_ack;		/* highest ACK sent */
	uint32_t last_tsval;		/* newest TSval seen, stored or not */
	uint32_t max_seg;		/* largest payload seen */
	uint8_t ts_head, ts_n;		/* ring of TSvals awaiting their echo */
	uint8_t seq_head, seq_n;	/* ring of segments awaiting their ACK */
	uint32_t ts_val[MP_PRTT_TS_KEEP];
	uint64_t ts_t[MP_PRTT_TS_KEEP];
	uint32_t seq_end[MP_PRTT_SEQ_KEEP];
	uint64_t seq_t[MP_PRTT_SEQ_KEEP];	/* first seen; 0: sent twice (Karn) */
};

struct flow {
	struct mp_prtt_flow_info info;
	struct dir_state st[2];
	uint32_t hnext;			/* hash chain */
	uint32_t prev, next;		/* LRU list: head least recent */
	uint32_t bucket;
};

struct mp_prtt {
	struct mp_prtt_opts o;
	struct mp_prtt_cb cb;
	struct mp_prtt_counters c;
	struct flow *flows;
	uint32_t *buckets;
	uint32_t nbuckets;		/* power of two */
	uint32_t free_head;		/* free list through hnext */
	uint32_t lru_head, lru_tail;
	uint64_t seed;			/* hash seed: no chosen collisions */
};

/* Sequence arithmetic, RFC 1982 style. */
static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int decode_tcp(const uint8_t *p, size_t cap, size_t l4len, struct mp_prtt_pkt *k)
{
	size_t hl, i;

	if (cap < 20)
		return MP_PRTT_TRUNCATED;
	if (l4len < 20)
		return MP_PRTT_MALFORMED;
	hl = (size_t)(p[12] >> 4) * 4;
	if (hl < 20 || hl > l4len)
		return MP_PRTT_MALFORMED;
	if (cap < hl)
		return MP_PRTT_TRUNCATED;
	k->sport = rd16(p);
	k->dport = rd16(p + 2);
	k->seq = rd32(p + 4);
	k->ack = rd32(p + 8);
	k->flags = p[13];
	k->payload = (uint32_t)(l4len - hl);
	k->has_ts = false;
	k->sack_n = 0;
	for (i = 20; i < hl;) {
		uint8_t kind = p[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl)
			return MP_PRTT_MALFORMED;
		len = p[i + 1];
		if (len < 2 || i + len > hl)
			return MP_PRTT_MALFORMED;
		if (kind == 8) {
			if (len != 10)
				return MP_PRTT_MALFORMED;
			k->has_ts = true;
			k->tsval = rd32(p + i + 2);
			k->tsecr = rd32(p + i + 6);
		}
		if (kind == 5) {
			unsigned b;

			if ((len - 2) % 8 || len < 10 || len > 34)
				return MP_PRTT_MALFORMED;
			k->sack_n = (uint8_t)((len - 2) / 8);
			for (b = 0; b < 2 && b < k->sack_n; b++) {
				k->sack[b][0] = rd32(p + i + 2 + 8 * b);
				k->sack[b][1] = rd32(p + i + 6 + 8 * b);
			}
		}
		i += len;
	}
	return MP_PRTT_TCP;
}

/* A length field of 0 (TSO super-packets over 64 kB, jumbograms): what
 * was captured is all there is to go by. */
static size_t ip_len(size_t field, size_t cap)
{
	return field ? field : cap;
}

static int decode_ip4(const uint8_t *p, size_t cap, struct mp_prtt_pkt *k)
{
	size_t hl, tot;

	if (cap < 20)
		return MP_PRTT_TRUNCATED;
	if (p[0] >> 4 != 4)
		return MP_PRTT_MALFORMED;
	hl = (size_t)(p[0] & 0xf) * 4;
	tot = ip_len(rd16(p + 2), cap);
	if (hl < 20 || tot < hl)
		return MP_PRTT_MALFORMED;
	if (cap < hl)
		return MP_PRTT_TRUNCATED;
	if (p[9] != IPPROTO_TCP || (rd16(p + 6) & 0x3fff))	/* MF or an offset */
		return MP_PRTT_OTHER;
	k->family = AF_INET;
	memset(k->src, 0, sizeof(k->src));
	memset(k->dst, 0, sizeof(k->dst));
	memcpy(k->src, p + 12, 4);
	memcpy(k->dst, p + 16, 4);
	return decode_tcp(p + hl, cap - hl, tot - hl, k);
}

static int decode_ip6(const uint8_t *p, size_t cap, struct mp_prtt_pkt *k)
{
	size_t off = 40, len;
	uint8_t nh;
	int n;

	if (cap < 40)
		return MP_PRTT_TRUNCATED;
	if (p[0] >> 4 != 6)
		return MP_PRTT_MALFORMED;
	len = 40 + ip_len(rd16(p + 4), cap - 40);
	nh = p[6];
	for (n = 0; nh != IPPROTO_TCP; n++) {
		size_t el;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
			return MP_PRTT_OTHER;	/* fragment, no next header, ... */
		if (n == MP_PRTT_MAX_EXT)
			return MP_PRTT_OTHER;
		if (off + 2 > len)
			return MP_PRTT_MALFORMED;
		if (off + 2 > cap)
			return MP_PRTT_TRUNCATED;
		el = nh == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
		if (off + el > len)
			return MP_PRTT_MALFORMED;
		if (off + el > cap)
			return MP_PRTT_TRUNCATED;
		nh = p[off];
		off += el;
	}
	k->family = AF_INET6;
	memcpy(k->src, p + 8, 16);
	memcpy(k->dst, p + 24, 16);
	return decode_tcp(p + off, cap - off, len - off, k);
}

static int decode_l3(uint16_t proto, const uint8_t *p, size_t cap, struct mp_prtt_pkt *k)
{
	if (proto == 0x0800)
		return decode_ip4(p, cap, k);
	if (proto == 0x86dd)
		return decode_ip6(p, cap, k);
	return MP_PRTT_OTHER;
}

int mp_prtt_decode(int linktype, const uint8_t *p, size_t cap, struct mp_prtt_pkt *ret)
{
	uint16_t et;
	size_t off;
	int n;

	switch (linktype) {
	case MP_PRTT_LINK_EN10MB:
		if (cap < 14)
			return MP_PRTT_TRUNCATED;
		et = rd16(p + 12);
		off = 14;
		for (n = 0; n < 2 && (et == 0x8100 || et == 0x88a8); n++) {
			if (cap < off + 4)
				return MP_PRTT_TRUNCATED;
			et = rd16(p + off + 2);
			off += 4;
		}
		return decode_l3(et, p + off, cap - off, ret);
	case MP_PRTT_LINK_SLL:
		if (cap < 16)
			return MP_PRTT_TRUNCATED;
		return decode_l3(rd16(p + 14), p + 16, cap - 16, ret);
	case MP_PRTT_LINK_SLL2:
		if (cap < 20)
			return MP_PRTT_TRUNCATED;
		return decode_l3(rd16(p), p + 20, cap - 20, ret);
	case MP_PRTT_LINK_RAW:
	case MP_PRTT_LINK_RAW_LINUX:
	case 14:		/* DLT_RAW on the BSDs */
		if (cap < 1)
			return MP_PRTT_TRUNCATED;
		return decode_l3(p[0] >> 4 == 6 ? 0x86dd : 0x0800, p, cap, ret);
	case MP_PRTT_LINK_IPV4:
		return decode_ip4(p, cap, ret);
	case MP_PRTT_LINK_IPV6:
		return decode_ip6(p, cap, ret);
	default:
		return MP_PRTT_UNSUPPORTED;
	}
}

double mp_prtt_rtt_mean_ns(const struct mp_prtt_rtt *r)
{
	return r->count ? r->sum_ns / (double)r->count : NAN;
}

double mp_prtt_rtt_stddev_ns(const struct mp_prtt_rtt *r)
{
	double m, v;

	if (r->count < 2)
		return r->count ? 0 : NAN;
	m = r->sum_ns / (double)r->count;
	v = (r->sumsq_ns - (double)r->count * m * m) / (double)(r->count - 1);
	return v > 0 ? sqrt(v) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A P-square marker moved d (+-1) positions: its new height. */
static double p2_height(const struct mp_prtt_rtt *r, int i, int d)
{
	double ni = (double)r->n[i], nl = (double)r->n[i - 1], nr = (double)r->n[i + 1];
	double q = r->q[i] + d / (nr - nl) * ((ni - nl + d) * (r->q[i + 1] - r->q[i]) / (nr - ni) +
					     (nr - ni - d) * (r->q[i] - r->q[i - 1]) / (ni - nl));

	if (r->q[i - 1] < q && q < r->q[i + 1])
		return q;
	return r->q[i] + d * (r->q[i + d] - r->q[i]) / (double)(r->n[i + d] - r->n[i]);
}

void mp_prtt_rtt_add(struct mp_prtt_rtt *r, uint64_t rtt_ns)
{
	static const double dn[5] = { 0, 0.25, 0.5, 0.75, 1 };
	double x = (double)rtt_ns;
	int i, k;

	if (!r->count || rtt_ns < r->min_ns)
		r->min_ns = rtt_ns;
	if (rtt_ns > r->max_ns)
		r->max_ns = rtt_ns;
	r->count++;
	r->sum_ns += x;
	r->sumsq_ns += x * x;
	if (r->count <= 5) {
		r->q[r->count - 1] = x;
		qsort(r->q, r->count, sizeof(r->q[0]), cmp_double);
		for (i = 0; i < 5; i++) {
			r->n[i] = i;
			r->np[i] = 4 * dn[i];
		}
		return;
	}
	if (x < r->q[0]) {
		r->q[0] = x;
		k = 0;
	} else if (x >= r->q[4]) {
		r->q[4] = x;
		k = 3;
	} else {
		for (k = 0; k < 3 && x >= r->q[k + 1]; k++)
			;
	}
	for (i = k + 1; i < 5; i++)
		r->n[i]++;
	for (i = 0; i < 5; i++)
		r->np[i] += dn[i];
	for (i = 1; i < 4; i++) {
		double d = r->np[i] - (double)r->n[i];

		if ((d >= 1 && r->n[i + 1] - r->n[i] > 1) ||
		    (d <= -1 && r->n[i - 1] - r->n[i] < -1)) {
			int s = d > 0 ? 1 : -1;

			r->q[i] = p2_height(r, i, s);
			r->n[i] += s;
		}
	}
}

double mp_prtt_rtt_median_ns(const struct mp_prtt_rtt *r)
{
	if (!r->count)
		return NAN;
	if (r->count < 5)	/* q[0..count) sorted */
		return r->count % 2 ? r->q[r->count / 2] :
				      (r->q[r->count / 2 - 1] + r->q[r->count / 2]) / 2;
	return r->q[2];
}

/* The flow table. */

static uint32_t hash_key(const struct mp_prtt *p, const struct mp_prtt_pkt *k)
{
	/* symmetric: both directions of a flow land in one bucket */
	uint64_t h = p->seed ^ k->family, a = 0, b = 0;
	size_t i, n = k->family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i += 4) {
		uint32_t x, y;

		memcpy(&x, k->src + i, 4);
		memcpy(&y, k->dst + i, 4);
		a = (a ^ x) * 0x9E3779B97F4A7C15ULL;
		b = (b ^ y) * 0x9E3779B97F4A7C15ULL;
	}
	a ^= k->sport;
	b ^= k->dport;
	h ^= (a * 0xC2B2AE3D27D4EB4FULL) + (b * 0xC2B2AE3D27D4EB4FULL);
	h ^= (a ^ b) * 0x165667B19E3779F9ULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	return (uint32_t)h & (p->nbuckets - 1);
}

/* Which side of f sent k: 0 (a), 1 (b), or -1 (not f's). */
static int side_of(const struct flow *f, const struct mp_prtt_pkt *k)
{
	const struct mp_prtt_flow_info *i = &f->info;

	if (i->family != k->family)
		return -1;
	if (i->port[0] == k->sport && i->port[1] == k->dport &&
	    !memcmp(i->addr[0], k->src, 16) && !memcmp(i->addr[1], k->dst, 16))
		return 0;
	if (i->port[1] == k->sport && i->port[0] == k->dport &&
	    !memcmp(i->addr[1], k->src, 16) && !memcmp(i->addr[0], k->dst, 16))
		return 1;
	return -1;
}

static void lru_unlink(struct mp_prtt *p, uint32_t i)
{
	struct flow *f = &p->flows[i];

	if (f->prev != NONE)
		p->flows[f->prev].next = f->next;
	else
		p->lru_head = f->next;
	if (f->next != NONE)
		p->flows[f->next].prev = f->prev;
	else
		p->lru_tail = f->prev;
}

static void lru_append(struct mp_prtt *p, uint32_t i)
{
	struct flow *f = &p->flows[i];

	f->prev = p->lru_tail;
	f->next = NONE;
	if (p->lru_tail != NONE)
		p->flows[p->lru_tail].next = i;
	else
		p->lru_head = i;
	p->lru_tail = i;
}

/* A closed flow goes to the head: the first evicted when the table is
 * full, ahead of every open one, and the first looked at by expiry. */
static void lru_prepend(struct mp_prtt *p, uint32_t i)
{
	struct flow *f = &p->flows[i];

	f->prev = NONE;
	f->next = p->lru_head;
	if (p->lru_head != NONE)
		p->flows[p->lru_head].prev = i;
	else
		p->lru_tail = i;
	p->lru_head = i;
}

static void flow_remove(struct mp_prtt *p, uint32_t i, enum mp_prtt_end why)
{
	struct flow *f = &p->flows[i];
	uint32_t *pp = &p->buckets[f->bucket];

	if (p->cb.end)
		p->cb.end(p->cb.ctx, &f->info, why);
	while (*pp != i)
		pp = &p->flows[*pp].hnext;
	*pp = f->hnext;
	lru_unlink(p, i);
	f->hnext = p->free_head;
	p->free_head = i;
	p->c.flows_active--;
	if (why == MP_PRTT_END_IDLE)
		p->c.flows_expired++;
	else if (why == MP_PRTT_END_EVICTED)
		p->c.flows_evicted++;
	else
		p->c.flows_closed++;
}

void mp_prtt_expire(struct mp_prtt *p, uint64_t now_ns)
{
	while (p->lru_head != NONE) {
		const struct mp_prtt_flow_info *f = &p->flows[p->lru_head].info;

		if (f->closed && f->last_ns + MP_PRTT_CLOSED_NS < now_ns)
			flow_remove(p, p->lru_head, MP_PRTT_END_CLOSE);
		else if (p->o.idle_ns && f->last_ns + p->o.idle_ns < now_ns)
			flow_remove(p, p->lru_head, MP_PRTT_END_IDLE);
		else
			break;
	}
}

static uint32_t flow_new(struct mp_prtt *p, uint32_t bucket, const struct mp_prtt_pkt *k,
			 uint64_t t_ns)
{
	struct flow *f;
	uint32_t i;

	if (p->free_head == NONE)
		flow_remove(p, p->lru_head, MP_PRTT_END_EVICTED);
	i = p->free_head;
	f = &p->flows[i];
	p->free_head = f->hnext;
	memset(f, 0, sizeof(*f));
	f->info.family = k->family;
	memcpy(f->info.addr[0], k->src, 16);
	memcpy(f->info.addr[1], k->dst, 16);
	f->info.port[0] = k->sport;
	f->info.port[1] = k->dport;
	f->info.first_ns = t_ns;
	f->bucket = bucket;
	f->hnext = p->buckets[bucket];
	p->buckets[bucket] = i;
	lru_append(p, i);
	p->c.flows_created++;
	p->c.flows_active++;
	return i;
}

static void rtt_one(struct mp_prtt_dir *d, uint64_t rtt_ns, bool ts)
{
	mp_prtt_rtt_add(&d->rtt, rtt_ns);
	if (ts)
		d->ts_samples++;
	else
		d->seq_samples++;
}

static void rtt_add(struct mp_prtt *p, struct flow *f, int dir, uint64_t t_ns, uint64_t rtt_ns,
		    bool ts)
{
	struct mp_prtt_sample s = { .t_ns = t_ns, .rtt_ns = rtt_ns, .dir = (uint8_t)dir, .ts = ts };

	rtt_one(&f->info.dir[dir], rtt_ns, ts);
	rtt_one(&f->info.ivl[dir], rtt_ns, ts);
	p->c.samples++;
	if (p->cb.sample)
		p->cb.sample(p->cb.ctx, &f->info, &s);
}

/* Timestamps: keep this side's new TSval, match the other side's TSval
 * that this segment echoes. */
static void track_ts(struct mp_prtt *p, struct flow *f, int side, const struct mp_prtt_pkt *k,
		     uint64_t t_ns)
{
	struct dir_state *me = &f->st[side], *peer = &f->st[!side];

	f->info.timestamps = true;
	/* A TSval is timed from its first sight only (pping): one seen before,
	 * even while the ring was empty or full, is never stored again, or an
	 * echo would be matched to a later packet and read short. A full ring
	 * takes no new TSval until an echo frees it: dropping the oldest
	 * instead would lose exactly the samples of the longest RTTs. */
	if (!me->ts_seen || seq_lt(me->last_tsval, k->tsval)) {
		me->ts_seen = true;
		me->last_tsval = k->tsval;
		if (me->ts_n < MP_PRTT_TS_KEEP) {
			unsigned at = (me->ts_head + me->ts_n) % MP_PRTT_TS_KEEP;

			me->ts_val[at] = k->tsval;
			me->ts_t[at] = t_ns;
			me->ts_n++;
		}
	}
	if (!(k->flags & MP_PRTT_ACK) || !k->tsecr)
		return;
	/* Echoes only move forward: a TSval older than this echo will never
	 * be echoed (it may have been skipped while the ring was full), and
	 * the one echoed is matched once. */
	while (peer->ts_n && seq_le(peer->ts_val[peer->ts_head], k->tsecr)) {
		unsigned at = peer->ts_head;

		if (peer->ts_val[at] == k->tsecr && t_ns >= peer->ts_t[at])
			rtt_add(p, f, !side, t_ns, t_ns - peer->ts_t[at], true);
		peer->ts_head = (uint8_t)((at + 1) % MP_PRTT_TS_KEEP);
		peer->ts_n--;
	}
}

/* Sequence numbers: retransmissions, and the data awaiting its ACK. */
static void track_seq(struct mp_prtt *p, struct flow *f, int side, const struct mp_prtt_pkt *k,
		      uint64_t t_ns)
{
	struct dir_state *me = &f->st[side], *peer = &f->st[!side];
	uint32_t len = k->payload + !!(k->flags & MP_PRTT_SYN) + !!(k->flags & MP_PRTT_FIN);
	uint32_t end = k->seq + len;
	struct mp_prtt_dir *d = &f->info.dir[side], *iv = &f->info.ivl[side];
	uint64_t sent = 0;
	bool any = false;
	unsigned j;

	if (k->payload > me->max_seg)
		me->max_seg = k->payload;
	if (len) {
		bool again = me->seq_init && seq_lt(k->seq, me->snd_nxt);

		if (again) {
			d->retrans++;
			p->c.retrans++;
			d->retrans_bytes += k->payload;
			iv->retrans++;
			iv->retrans_bytes += k->payload;
			/* Karn: what this covers can no longer be timed */
			for (j = 0; j < me->seq_n; j++) {
				unsigned at = (me->seq_head + j) % MP_PRTT_SEQ_KEEP;

				if (seq_lt(k->seq, me->seq_end[at]))
					me->seq_t[at] = 0;
			}
		}
		/* a full ring times no new segment (as for TSvals) */
		if ((!me->seq_init || seq_lt(me->snd_nxt, end)) && me->seq_n < MP_PRTT_SEQ_KEEP) {
			unsigned at = (me->seq_head + me->seq_n) % MP_PRTT_SEQ_KEEP;

			me->seq_end[at] = end;
			me->seq_t[at] = again ? 0 : t_ns;
			me->seq_n++;
		}
		if (!me->seq_init || seq_lt(me->snd_nxt, end)) {
			me->snd_nxt = end;
			me->seq_init = true;
		}
	}
	if (!(k->flags & MP_PRTT_ACK))
		return;
	if (me->ack_init && seq_le(k->ack, me->hi_ack))
		return;		/* no advance: a duplicate ACK times nothing */
	me->ack_init = true;
	me->hi_ack = k->ack;
	/* the older segments go; the one this ACK ends at exactly is timed
	 * (an ACK beyond every segment kept was sent for one not kept) */
	while (peer->seq_n && seq_le(peer->seq_end[peer->seq_head], k->ack)) {
		sent = peer->seq_t[peer->seq_head];
		any = peer->seq_end[peer->seq_head] == k->ack;
		peer->seq_head = (uint8_t)((peer->seq_head + 1) % MP_PRTT_SEQ_KEEP);
		peer->seq_n--;
	}
	if (any && sent && !f->info.timestamps && t_ns >= sent)
		rtt_add(p, f, !side, t_ns, t_ns - sent, false);
}

/* A D-SACK (RFC 2883 section 4) in what side sends reports data of the
 * other side received twice: its first block lies below the ACK, or inside
 * the second block. */
static void track_dsack(struct mp_prtt *p, struct flow *f, int side, const struct mp_prtt_pkt *k)
{
	uint32_t len, mss, segs;

	if (!(k->flags & MP_PRTT_ACK) || !k->sack_n)
		return;
	if (!seq_lt(k->sack[0][0], k->ack) &&
	    !(k->sack_n > 1 && seq_le(k->sack[1][0], k->sack[0][0]) &&
	      seq_le(k->sack[0][1], k->sack[1][1])))
		return;
	len = k->sack[0][1] - k->sack[0][0];
	if (len > 1U << 30)
		return;		/* right edge before left: not a block */
	/* the receiver merges adjacent duplicates (GRO, one ACK for several):
	 * a block is as many segments as it spans */
	mss = f->st[!side].max_seg;
	segs = mss && len > mss ? (len + mss - 1) / mss : 1;
	f->info.dir[!side].dsack += segs;
	f->info.ivl[!side].dsack += segs;
	f->info.dir[!side].dsack_bytes += len;
	f->info.ivl[!side].dsack_bytes += len;
	p->c.dsack += segs;
}

int mp_prtt_add(struct mp_prtt *p, uint64_t t_ns, int linktype, const uint8_t *data,
		size_t caplen)
{
	struct mp_prtt_pkt k;
	struct flow *f;
	uint32_t b, i;
	int r, side = -1;

	p->c.packets++;
	mp_prtt_expire(p, t_ns);
	r = mp_prtt_decode(linktype, data, caplen, &k);
	switch (r) {
	case MP_PRTT_TCP: p->c.tcp++; break;
	case MP_PRTT_OTHER: p->c.other++; return r;
	case MP_PRTT_TRUNCATED: p->c.truncated++; return r;
	case MP_PRTT_MALFORMED: p->c.malformed++; return r;
	default: p->c.unsupported++; return r;
	}
	b = hash_key(p, &k);
	for (i = p->buckets[b]; i != NONE; i = p->flows[i].hnext) {
		side = side_of(&p->flows[i], &k);
		if (side >= 0)
			break;
	}
	/* a new connection on the ports of one that closed */
	if (i != NONE && (k.flags & (MP_PRTT_SYN | MP_PRTT_ACK)) == MP_PRTT_SYN &&
	    p->flows[i].info.closed) {
		flow_remove(p, i, MP_PRTT_END_CLOSE);
		i = NONE;
	}
	if (i == NONE) {
		i = flow_new(p, b, &k, t_ns);
		side = 0;
	}
	f = &p->flows[i];
	lru_unlink(p, i);
	if ((k.flags & (MP_PRTT_SYN | MP_PRTT_ACK)) == MP_PRTT_SYN && side == 0)
		f->info.syn_seen = true;
	f->info.last_ns = t_ns;
	f->info.dir[side].packets++;
	f->info.dir[side].bytes += k.payload;
	f->info.ivl[side].packets++;
	f->info.ivl[side].bytes += k.payload;
	if (k.has_ts)
		track_ts(p, f, side, &k, t_ns);
	track_seq(p, f, side, &k, t_ns);
	track_dsack(p, f, side, &k);
	if (k.flags & MP_PRTT_FIN)
		f->st[side].fin = true;
	if ((k.flags & MP_PRTT_RST) || (f->st[0].fin && f->st[1].fin))
		f->info.closed = true;
	if (f->info.closed)
		lru_prepend(p, i);
	else
		lru_append(p, i);
	return r;
}

int mp_prtt_new(struct mp_prtt **ret, const struct mp_prtt_opts *o, const struct mp_prtt_cb *cb)
{
	struct mp_prtt *p;
	uint32_t i;

	if (!o || !o->max_flows || o->max_flows > MP_PRTT_FLOWS_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = *o;
	if (cb)
		p->cb = *cb;
	for (p->nbuckets = 16; p->nbuckets < o->max_flows; p->nbuckets <<= 1)
		;
	p->flows = calloc(o->max_flows, sizeof(*p->flows));
	p->buckets = malloc(p->nbuckets * sizeof(*p->buckets));
	if (!p->flows || !p->buckets) {
		mp_prtt_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < p->nbuckets; i++)
		p->buckets[i] = NONE;
	for (i = 0; i < o->max_flows; i++)
		p->flows[i].hnext = i + 1 < o->max_flows ? i + 1 : NONE;
	p->free_head = 0;
	p->lru_head = p->lru_tail = NONE;
	if (getrandom(&p->seed, sizeof(p->seed), GRND_NONBLOCK) != sizeof(p->seed))
		p->seed = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
	*ret = p;
	return 0;
}

void mp_prtt_free(struct mp_prtt *p)
{
	if (!p)
		return;
	free(p->flows);
	free(p->buckets);
	free(p);
}

void mp_prtt_counters(const struct mp_prtt *p, struct mp_prtt_counters *ret)
{
	*ret = p->c;
}

size_t mp_prtt_interval(struct mp_prtt *p,
			void (*fn)(void *ctx, const struct mp_prtt_flow_info *f), void *ctx)
{
	size_t n = 0;
	uint32_t i;

	for (i = p->lru_head; i != NONE; i = p->flows[i].next) {
		struct mp_prtt_flow_info *f = &p->flows[i].info;

		if (!f->ivl[0].packets && !f->ivl[1].packets)
			continue;
		if (fn)
			fn(ctx, f);
		memset(f->ivl, 0, sizeof(f->ivl));
		n++;
	}
	return n;
}

size_t mp_prtt_flows(const struct mp_prtt *p,
		     void (*fn)(void *ctx, const struct mp_prtt_flow_info *f), void *ctx)
{
	size_t n = 0;
	uint32_t i;

	for (i = p->lru_head; i != NONE; i = p->flows[i].next, n++)
		if (fn)
			fn(ctx, &p->flows[i].info);
	return n;
}
