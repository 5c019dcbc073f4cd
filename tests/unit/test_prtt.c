/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/prtt.c: the decoder on hand-built frames of every
 * link type, RTT from timestamps both ways, RTT from SEQ/ACK with Karn's
 * rule, retransmissions and D-SACKs, the flow table's cap, expiry and closing, and the
 * P-square median against the exact one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "prtt.h"

#define MS MP_NSEC_PER_MSEC
#define US MP_NSEC_PER_USEC

/* ---- helpers ---- */

struct seg {
	int v6;
	uint8_t a, b;			/* last octet of src / dst: 1 or 2 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t len;			/* payload */
	int ts;				/* with a timestamps option */
	uint32_t tsval, tsecr;
	int nsack;			/* SACK blocks (0 to 4) */
	uint32_t sack[4][2];
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An Ethernet frame of s (headers only: the payload is not captured). */
static size_t frame(const struct seg *s, uint8_t *f)
{
	size_t ip = 14, thl = (s->ts ? 32 : 20) + (s->nsack ? 4 + 8 * (size_t)s->nsack : 0), iphl = s->v6 ? 40 : 20, tcp = ip + iphl;

	memset(f, 0, tcp + thl);
	put16(f + 12, s->v6 ? 0x86dd : 0x0800);
	if (s->v6) {
		f[ip] = 0x60;
		put16(f + ip + 4, (uint16_t)(thl + s->len));
		f[ip + 6] = 6;
		f[ip + 7] = 64;
		f[ip + 8] = 0xfd;
		f[ip + 23] = s->a;
		f[ip + 24] = 0xfd;
		f[ip + 39] = s->b;
	} else {
		f[ip] = 0x45;
		put16(f + ip + 2, (uint16_t)(iphl + thl + s->len));
		f[ip + 8] = 64;
		f[ip + 9] = 6;
		f[ip + 12] = 10;
		f[ip + 15] = s->a;
		f[ip + 16] = 10;
		f[ip + 19] = s->b;
	}
	put16(f + tcp, s->sport);
	put16(f + tcp + 2, s->dport);
	put32(f + tcp + 4, s->seq);
	put32(f + tcp + 8, s->ack);
	f[tcp + 12] = (uint8_t)(thl / 4 << 4);
	f[tcp + 13] = s->flags;
	if (s->ts) {
		f[tcp + 20] = 1;
		f[tcp + 21] = 1;
		f[tcp + 22] = 8;
		f[tcp + 23] = 10;
		put32(f + tcp + 24, s->tsval);
		put32(f + tcp + 28, s->tsecr);
	}
	if (s->nsack) {
		uint8_t *o = f + tcp + (s->ts ? 32 : 20);

		o[0] = 1;
		o[1] = 1;
		o[2] = 5;
		o[3] = (uint8_t)(2 + 8 * s->nsack);
		for (int i = 0; i < s->nsack; i++) {
			put32(o + 4 + 8 * i, s->sack[i][0]);
			put32(o + 8 + 8 * i, s->sack[i][1]);
		}
	}
	return tcp + thl;
}

struct got {
	int samples;
	struct mp_prtt_sample last;
	int ends[3];
};

static void on_sample(void *ctx, const struct mp_prtt_flow_info *f, const struct mp_prtt_sample *s)
{
	struct got *g = ctx;

	(void)f;
	g->samples++;
	g->last = *s;
}

static void on_end(void *ctx, const struct mp_prtt_flow_info *f, enum mp_prtt_end why)
{
	struct got *g = ctx;

	(void)f;
	g->ends[why]++;
}

static struct mp_prtt *engine(struct got *g, uint32_t max, uint64_t idle)
{
	struct mp_prtt_opts o = { .max_flows = max, .idle_ns = idle };
	struct mp_prtt_cb cb = { .sample = on_sample, .end = on_end, .ctx = g };
	struct mp_prtt *p = NULL;

	assert_int_equal(mp_prtt_new(&p, &o, &cb), 0);
	return p;
}

static int feed(struct mp_prtt *p, uint64_t t, const struct seg *s)
{
	uint8_t f[128];

	return mp_prtt_add(p, t, MP_PRTT_LINK_EN10MB, f, frame(s, f));
}

static void first_flow(void *ctx, const struct mp_prtt_flow_info *f)
{
	struct mp_prtt_flow_info *ret = ctx;

	*ret = *f;
}

/* ---- tests ---- */

static void test_decode(void **state)
{
	struct seg s = { .a = 1, .b = 2, .sport = 40000, .dport = 443, .seq = 7, .ack = 9,
			 .flags = MP_PRTT_ACK, .len = 1000, .ts = 1, .tsval = 11, .tsecr = 12 };
	struct mp_prtt_pkt k;
	uint8_t f[128], g[128];
	size_t n;

	(void)state;
	n = frame(&s, f);
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_TCP);
	assert_int_equal(k.family, AF_INET);
	assert_int_equal(k.src[3], 1);
	assert_int_equal(k.sport, 40000);
	assert_int_equal(k.dport, 443);
	assert_int_equal(k.seq, 7);
	assert_int_equal(k.payload, 1000);
	assert_true(k.has_ts);
	assert_int_equal(k.tsval, 11);
	assert_int_equal(k.tsecr, 12);
	/* raw IP, SLL, SLL2 and a VLAN tag around the same packet */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_RAW, f + 14, n - 14, &k), MP_PRTT_TCP);
	memset(g, 0, 16);
	put16(g + 14, 0x0800);
	memcpy(g + 16, f + 14, n - 14);
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_SLL, g, n + 2, &k), MP_PRTT_TCP);
	memset(g, 0, 20);
	put16(g, 0x0800);
	memcpy(g + 20, f + 14, n - 14);
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_SLL2, g, n + 6, &k), MP_PRTT_TCP);
	memcpy(g, f, 12);
	put16(g + 12, 0x8100);
	put16(g + 14, 5);
	memcpy(g + 16, f + 12, n - 12);
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, g, n + 4, &k), MP_PRTT_TCP);
	/* IPv6 with a hop-by-hop header in front of TCP */
	s.v6 = 1;
	n = frame(&s, f);
	memcpy(g, f, 54);
	g[20] = 0;				/* next header: hop-by-hop */
	put16(g + 18, (uint16_t)(32 + 1000 + 8));
	memset(g + 54, 0, 8);
	g[54] = 6;				/* then TCP */
	memcpy(g + 62, f + 54, n - 54);
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, g, n + 8, &k), MP_PRTT_TCP);
	assert_int_equal(k.family, AF_INET6);
	assert_int_equal(k.payload, 1000);
	assert_int_equal(k.tsval, 11);
	/* every cut of the IPv4 frame short of its TCP header is truncated */
	s.v6 = 0;
	n = frame(&s, f);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, cut, &k),
				 MP_PRTT_TRUNCATED);
	/* headers that cannot be true */
	f[14] = 0x44;				/* IHL 4 */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_MALFORMED);
	f[14] = 0x45;
	f[34 + 12] = 0x40;			/* data offset 4 */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_MALFORMED);
	f[34 + 12] = 0x80;
	f[34 + 23] = 40;			/* option running past the header */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_MALFORMED);
	f[34 + 23] = 10;
	put16(f + 16, 30);			/* IP length shorter than the TCP header */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_MALFORMED);
	put16(f + 12, 0x0806);			/* ARP */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_OTHER);
	assert_int_equal(mp_prtt_decode(9999, f, n, &k), MP_PRTT_UNSUPPORTED);
}

/* a's TSval 100 at 0, echoed by b at 10 ms: 10 ms towards b; b's TSval
 * 500 at 10 ms echoed by a at 10.2 ms: 0.2 ms towards a. */
static void test_ts(void **state)
{
	struct seg ab = { .a = 1, .b = 2, .sport = 1000, .dport = 80, .seq = 1, .ack = 1,
			  .flags = MP_PRTT_ACK, .len = 100, .ts = 1, .tsval = 100, .tsecr = 400 };
	struct seg ba = { .a = 2, .b = 1, .sport = 80, .dport = 1000, .seq = 1, .ack = 101,
			  .flags = MP_PRTT_ACK, .ts = 1, .tsval = 500, .tsecr = 100 };
	struct mp_prtt_flow_info fi;
	struct got g = { 0 };
	struct mp_prtt *p = engine(&g, 16, 0);

	(void)state;
	assert_int_equal(feed(p, 1000 * MS, &ab), 0);
	ab.seq = 101;				/* same TSval again: first sight kept */
	feed(p, 1000 * MS + MS / 2, &ab);
	feed(p, 1010 * MS, &ba);
	assert_int_equal(g.samples, 1);
	assert_int_equal(g.last.rtt_ns, 10 * MS);
	assert_int_equal(g.last.dir, 0);
	assert_true(g.last.ts);
	feed(p, 1010 * MS + MS / 5, &(struct seg){ .a = 1, .b = 2, .sport = 1000, .dport = 80,
		.seq = 201, .ack = 1, .flags = MP_PRTT_ACK, .len = 100, .ts = 1, .tsval = 111,
		.tsecr = 500 });
	assert_int_equal(g.samples, 2);
	assert_int_equal(g.last.rtt_ns, MS / 5);
	assert_int_equal(g.last.dir, 1);
	/* an echo of the same TSval again takes no sample */
	ba.ack = 201;
	feed(p, 1011 * MS, &ba);
	assert_int_equal(g.samples, 2);
	mp_prtt_flows(p, first_flow, &fi);
	assert_true(fi.timestamps);
	assert_int_equal(fi.dir[0].rtt.count, 1);
	assert_int_equal(fi.dir[1].rtt.count, 1);
	assert_int_equal(fi.dir[0].packets, 3);
	assert_int_equal(fi.dir[1].packets, 2);
	assert_int_equal(fi.dir[0].retrans, 0);
	mp_prtt_free(p);
}

/* Below the TSval clock's tick (a LAN): every segment carries the same
 * TSval; it is timed from its first sight only, so an echo that comes
 * after the ring emptied and the TSval was seen again takes no sample
 * (it would read 10 us for a 100 us RTT). */
static void test_ts_first_sight(void **state)
{
	struct seg d = { .a = 1, .b = 2, .sport = 3, .dport = 4, .seq = 1, .ack = 1,
			 .flags = MP_PRTT_ACK, .len = 10, .ts = 1, .tsval = 77 };
	struct seg e = { .a = 2, .b = 1, .sport = 4, .dport = 3, .seq = 1,
			 .flags = MP_PRTT_ACK, .ts = 1, .tsval = 5, .tsecr = 77 };
	struct got g = { 0 };
	struct mp_prtt *p = engine(&g, 4, 0);

	(void)state;
	feed(p, 1000 * MS, &d);
	e.ack = 11;
	feed(p, 1000 * MS + 100 * US, &e);
	assert_int_equal(g.samples, 1);
	assert_int_equal(g.last.rtt_ns, 100 * US);
	d.seq = 11;
	feed(p, 1000 * MS + 110 * US, &d);	/* TSval 77 once more */
	e.ack = 21;
	feed(p, 1000 * MS + 120 * US, &e);	/* an echo of 77 again */
	assert_int_equal(g.samples, 1);
	mp_prtt_free(p);
}

/* More TSvals in flight than the ring keeps (a long, fast path): the ring
 * takes no new TSval while full, an echo of one it skipped clears the older
 * ones, and timing goes on: every sample is exact, none is lost for good. */
static void test_ts_ring_full(void **state)
{
	struct seg d = { .a = 1, .b = 2, .sport = 1, .dport = 2, .seq = 1, .ack = 1,
			 .flags = MP_PRTT_ACK, .len = 10, .ts = 1 };
	struct seg e = { .a = 2, .b = 1, .sport = 2, .dport = 1, .seq = 1,
			 .flags = MP_PRTT_ACK, .ts = 1, .tsval = 7 };
	struct got g = { 0 };
	struct mp_prtt *p = engine(&g, 4, 0);
	uint32_t i;

	(void)state;
	/* TSval i at i ms, for 40 ms; the echoes come 25 ms later */
	for (i = 1; i <= 40; i++) {
		d.tsval = i;
		d.seq = i * 10;
		feed(p, i * MS, &d);
	}
	/* echo of 30: never kept (the ring was full from 17 on): no sample,
	 * and 1..29 go */
	e.tsecr = 30;
	e.ack = 310;
	feed(p, 55 * MS, &e);
	assert_int_equal(g.samples, 0);
	d.tsval = 41;
	d.seq = 410;
	feed(p, 56 * MS, &d);
	e.tsecr = 41;
	e.ack = 420;
	feed(p, 81 * MS, &e);
	assert_int_equal(g.samples, 1);
	assert_int_equal(g.last.rtt_ns, 25 * MS);
	mp_prtt_free(p);
}

/* No timestamps: segment 1000..1100 sent twice is not timed (Karn);
 * 1100..1200 is, from its first sight to the ACK that covers it. */
static void test_seq_karn(void **state)
{
	struct seg d = { .a = 1, .b = 2, .sport = 5, .dport = 6, .seq = 1000, .ack = 1,
			 .flags = MP_PRTT_ACK, .len = 100 };
	struct seg a = { .a = 2, .b = 1, .sport = 6, .dport = 5, .seq = 1, .ack = 1100,
			 .flags = MP_PRTT_ACK };
	struct mp_prtt_flow_info fi;
	struct got g = { 0 };
	struct mp_prtt *p = engine(&g, 16, 0);

	(void)state;
	feed(p, 0, &d);
	feed(p, 200 * MS, &d);			/* retransmitted */
	feed(p, 230 * MS, &a);
	assert_int_equal(g.samples, 0);
	d.seq = 1100;
	feed(p, 240 * MS, &d);
	d.seq = 1200;
	feed(p, 241 * MS, &d);
	a.ack = 1200;
	feed(p, 270 * MS, &a);
	assert_int_equal(g.samples, 1);
	assert_int_equal(g.last.rtt_ns, 30 * MS);
	assert_false(g.last.ts);
	feed(p, 271 * MS, &a);			/* duplicate ACK: nothing */
	a.ack = 1300;
	feed(p, 272 * MS, &a);
	assert_int_equal(g.samples, 2);
	assert_int_equal(g.last.rtt_ns, 31 * MS);
	mp_prtt_flows(p, first_flow, &fi);
	assert_int_equal(fi.dir[0].retrans, 1);
	assert_int_equal(fi.dir[0].retrans_bytes, 100);
	assert_int_equal(fi.dir[0].seq_samples, 2);
	mp_prtt_free(p);
}

/* D-SACK (RFC 2883): a first block below the ACK, or inside the second
 * block, reports data of the other side received twice, as many segments
 * as it spans; an ordinary SACK does not. A SACK option of a length no block count gives is
 * malformed. */
static void test_dsack(void **state)
{
	struct seg d = { .a = 1, .b = 2, .sport = 5, .dport = 6, .seq = 1000, .ack = 1,
			 .flags = MP_PRTT_ACK, .len = 100 };
	struct seg a = { .a = 2, .b = 1, .sport = 6, .dport = 5, .seq = 1, .ack = 1100,
			 .flags = MP_PRTT_ACK, .ts = 1, .tsval = 1, .nsack = 1,
			 .sack = { { 1200, 1300 } } };
	struct mp_prtt_flow_info fi;
	struct mp_prtt_counters c;
	struct mp_prtt_pkt k;
	struct got g = { 0 };
	struct mp_prtt *p = engine(&g, 16, 0);
	uint8_t f[128];
	size_t n;

	(void)state;
	n = frame(&a, f);
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_TCP);
	assert_int_equal(k.sack_n, 1);
	assert_int_equal(k.sack[0][0], 1200);
	assert_int_equal(k.sack[0][1], 1300);
	assert_true(k.has_ts);
	f[n - 9] = 6;				/* a length of no whole block */
	assert_int_equal(mp_prtt_decode(MP_PRTT_LINK_EN10MB, f, n, &k), MP_PRTT_MALFORMED);
	for (d.seq = 1000; d.seq < 1400; d.seq += 100)
		feed(p, 0, &d);
	feed(p, 10 * MS, &a);			/* 1100-1200 lost: SACK, no D-SACK */
	d.seq = 1100;
	feed(p, 20 * MS, &d);			/* its retransmission */
	d.seq = 1000;
	feed(p, 21 * MS, &d);			/* a spurious one */
	a.ack = 1400;
	a.sack[0][0] = 1000;
	a.sack[0][1] = 1100;
	feed(p, 30 * MS, &a);			/* D-SACK below the ACK */
	a.ack = 1000;
	a.nsack = 2;
	a.sack[0][0] = 1200;
	a.sack[0][1] = 1300;
	a.sack[1][0] = 1100;
	a.sack[1][1] = 1400;
	feed(p, 31 * MS, &a);			/* D-SACK inside the second block */
	a.sack[0][0] = 1500;
	a.sack[0][1] = 1600;
	feed(p, 32 * MS, &a);			/* two ordinary blocks */
	for (d.seq = 1000; d.seq < 1300; d.seq += 100)
		feed(p, 40 * MS, &d);		/* three sent again, early */
	a.ack = 1400;
	a.nsack = 1;
	a.sack[0][0] = 1000;
	a.sack[0][1] = 1300;
	feed(p, 50 * MS, &a);			/* one block for the three */
	a.sack[0][0] = 1300;
	a.sack[0][1] = 1000;
	feed(p, 51 * MS, &a);			/* edges reversed: no block */
	mp_prtt_flows(p, first_flow, &fi);
	assert_int_equal(fi.dir[0].retrans, 5);
	assert_int_equal(fi.dir[0].dsack, 5);
	assert_int_equal(fi.dir[0].dsack_bytes, 500);
	assert_int_equal(fi.dir[1].dsack, 0);
	assert_int_equal(mp_prtt_lost(fi.dir[0].retrans, fi.dir[0].dsack), 0);
	assert_int_equal(mp_prtt_lost(1, 3), 0);
	assert_int_equal(mp_prtt_lost(5, 3), 2);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.dsack, 5);
	mp_prtt_free(p);
}

/* Three flows in a table of two: the least recent is evicted; an idle flow
 * expires; a RST closes one, which leaves a second after its last packet. */
static void test_table(void **state)
{
	struct mp_prtt_counters c;
	struct got g = { 0 };
	struct mp_prtt *p = engine(&g, 2, 5 * MP_NSEC_PER_SEC);
	struct seg s = { .a = 1, .b = 2, .dport = 80, .flags = MP_PRTT_SYN };

	(void)state;
	for (s.sport = 1; s.sport <= 3; s.sport++)
		feed(p, s.sport * MS, &s);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.flows_created, 3);
	assert_int_equal(c.flows_evicted, 1);
	assert_int_equal(c.flows_active, 2);
	assert_int_equal(g.ends[MP_PRTT_END_EVICTED], 1);
	s.sport = 3;
	s.flags = MP_PRTT_RST;
	feed(p, 10 * MS, &s);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.flows_active, 2);
	/* the closed flow 3 goes first, 1 s after its RST, though flow 2
	 * (open, idle for less than 5 s) was seen before it */
	mp_prtt_expire(p, 2 * MP_NSEC_PER_SEC);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.flows_active, 1);
	assert_int_equal(c.flows_closed, 1);
	mp_prtt_expire(p, 6 * MP_NSEC_PER_SEC);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.flows_active, 0);
	assert_int_equal(c.flows_expired, 1);
	/* a full table evicts a closed flow before an open one, even one
	 * seen earlier: 10 open, 11 closed, 12 new: 11 goes */
	s.flags = MP_PRTT_SYN;
	for (s.sport = 10; s.sport <= 11; s.sport++)
		feed(p, 7 * MP_NSEC_PER_SEC + s.sport * MS, &s);
	s.sport = 11;
	s.flags = MP_PRTT_RST;
	feed(p, 7 * MP_NSEC_PER_SEC + 20 * MS, &s);
	s.sport = 12;
	s.flags = MP_PRTT_SYN;
	feed(p, 7 * MP_NSEC_PER_SEC + 30 * MS, &s);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.flows_evicted, 2);
	assert_int_equal(c.flows_active, 2);
	s.sport = 10;
	s.flags = MP_PRTT_ACK;
	s.seq = 1;
	feed(p, 7 * MP_NSEC_PER_SEC + 40 * MS, &s);
	mp_prtt_counters(p, &c);
	assert_int_equal(c.flows_created, 6);	/* 10 was still there */
	mp_prtt_free(p);
	assert_int_equal(mp_prtt_new(&p, &(struct mp_prtt_opts){ .max_flows = 0 }, NULL), -EINVAL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* P-square's median of 10,000 samples (a bulk around 30 ms and 2 % late
 * ones) within 0.5 % of the exact median; exact up to 5 samples. */
static void test_median(void **state)
{
	static uint64_t v[10000];
	struct mp_prtt_rtt r = { 0 };
	uint64_t x = 12345;
	size_t i;
	double m;

	(void)state;
	for (i = 0; i < 3; i++)
		mp_prtt_rtt_add(&r, (i + 1) * MS);
	assert_true(fabs(mp_prtt_rtt_median_ns(&r) - 2 * MS) < 1);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < MP_ARRAY_SIZE(v); i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		v[i] = 30 * MS + (x >> 33) % (2 * MS) + (i % 50 == 0 ? 20 * MS : 0);
		mp_prtt_rtt_add(&r, v[i]);
	}
	qsort(v, MP_ARRAY_SIZE(v), sizeof(v[0]), cmp_u64);
	m = (double)(v[4999] + v[5000]) / 2;
	assert_true(fabs(mp_prtt_rtt_median_ns(&r) - m) < 0.005 * m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_ts),
		cmocka_unit_test(test_ts_first_sight),
		cmocka_unit_test(test_ts_ring_full),
		cmocka_unit_test(test_seq_karn),
		cmocka_unit_test(test_dsack),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_median),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
