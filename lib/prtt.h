/* SPDX-License-Identifier: MIT */
/*
 * prtt: passive RTT and retransmissions of TCP traffic seen on a link
 * (the engine of tcprtt; meshctl can feed it the packets of a tunnel).
 * Prints nothing; captures nothing (lib/cap.h reads packets).
 *
 * Decode. Link types Ethernet (with up to two VLAN tags), Linux cooked
 * (SLL, SLL2) and raw IP; IPv4 (options skipped) and IPv6 (up to
 * MP_PRTT_MAX_EXT extension headers: hop-by-hop, routing, destination
 * options; a fragment is not TCP-decoded), TCP with its options
 * (timestamps and the first two SACK blocks read, the others skipped).
 * Every length is checked against what was captured; a packet cut short
 * is counted as truncated, one whose headers contradict themselves as
 * malformed, and neither is used.
 *
 * Flows. A flow is a TCP connection, both directions, keyed by its
 * addresses and ports. Side "a" sent the first packet seen (the client when
 * the SYN was seen), side "b" the other. The table holds at most max_flows;
 * a flow idle for idle_ns (packet time) expires, and a new flow when the
 * table is full evicts the least recently seen one; both are counted, and
 * the flow's figures are handed to the end callback before it goes. A
 * flow closed (RST, or FIN both ways) leaves MP_PRTT_CLOSED_NS after its
 * last packet, or when a new SYN reuses its ports.
 *
 * RTT, as pping does: the first time a TSval is seen in one direction is
 * kept, and when the other direction echoes it in TSecr the time between
 * is one sample. A TSval from side a echoed by side b measures the path
 * from the capture point to b and back ("half b"); on a host that is the
 * whole RTT of its connection, on a router in the middle the RTT of the
 * connection is half a + half b. Without timestamps: the time from a data
 * segment's first sight to the first ACK that ends exactly at its end
 * (Karn: never from a segment sent twice; a sample only when the ACK
 * advances). Each direction keeps MP_PRTT_TS_KEEP TSvals and
 * MP_PRTT_SEQ_KEEP segments awaiting their echo; a full ring takes no new
 * one until an echo frees it, so that long RTTs are sampled less often,
 * never left out.
 *
 * Retransmissions: a data segment that starts below the highest sequence
 * number already seen in its direction (retransmitted, or, seen after the
 * loss point, a reordered segment). A pure keep-alive or window probe of
 * one octet below is counted too: what the sender put twice on the link.
 * Some of them were never lost: a tail loss probe, a timeout that fired
 * early, a segment reordered. The receiver says so with a D-SACK
 * (RFC 2883: a first SACK block below its cumulative ACK, or inside its
 * second block), counted as dsack on the direction of the data, in
 * segments: one block reports several when the receiver merged them (GRO,
 * one ACK for a run), so a block counts as many as it spans in the largest
 * segment seen that way, rounded up. What was lost on the path is then
 * retrans - dsack (mp_prtt_lost()). A receiver that sends no D-SACK
 * (net.ipv4.tcp_dsack=0) leaves it at retrans.
 *
 * For a daemon (meshctl watching the traffic in a tunnel): open the
 * tunnel with lib/cap (a WireGuard interface is raw IP), feed every packet
 * to mp_prtt_add() from its poll loop, and call mp_prtt_interval() once a
 * period: each flow with packets in the period, its ivl[] figures (packets,
 * retransmissions, the RTT halves' medians). Memory is fixed at
 * mp_prtt_new(); nothing is allocated per packet.
 */
#ifndef MP_PRTT_H
#define MP_PRTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp.h"

/* Link types (the pcap DLT_ values of the same names). */
enum {
	MP_PRTT_LINK_RAW = 12,		/* DLT_RAW (Linux's value) */
	MP_PRTT_LINK_EN10MB = 1,
	MP_PRTT_LINK_SLL = 113,
	MP_PRTT_LINK_SLL2 = 276,
	MP_PRTT_LINK_IPV4 = 228,
	MP_PRTT_LINK_IPV6 = 229,
	MP_PRTT_LINK_RAW_LINUX = 101,	/* LINKTYPE_RAW in files */
};

#define MP_PRTT_MAX_EXT 8	/* IPv6 extension headers followed */
#define MP_PRTT_TS_KEEP 16	/* TSvals awaiting their echo, per direction */
#define MP_PRTT_SEQ_KEEP 32	/* data segments awaiting their ACK, per direction */

/* What mp_prtt_decode() returns for a packet (negative: counted kinds). */
enum mp_prtt_verdict {
	MP_PRTT_TCP = 0,		/* a TCP segment, decoded */
	MP_PRTT_OTHER = 1,		/* well-formed, not TCP (or a fragment) */
	MP_PRTT_TRUNCATED = -1,		/* shorter than its headers say */
	MP_PRTT_MALFORMED = -2,		/* headers that cannot be true */
	MP_PRTT_UNSUPPORTED = -3,	/* link type not decoded */
};

/* A decoded TCP segment (pointers-free, for the flow table and the fuzzer). */
struct mp_prtt_pkt {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];	/* addresses (IPv4 in the first 4) */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;			/* TCP flags octet (FIN 0x01 ... ACK 0x10) */
	uint32_t payload;		/* TCP payload octets (from the IP length) */
	bool has_ts;			/* timestamps option present */
	uint32_t tsval, tsecr;
	uint8_t sack_n;			/* SACK blocks (0 to 4), the first two in sack[] */
	uint32_t sack[2][2];		/* left edge, right edge */
};

enum { MP_PRTT_FIN = 0x01, MP_PRTT_SYN = 0x02, MP_PRTT_RST = 0x04, MP_PRTT_ACK = 0x10 };

/*
 * Decodes one captured frame: linktype (MP_PRTT_LINK_*), the caplen octets
 * captured (wire length not needed: IP lengths say what was sent; a
 * payload cut by the snap length still counts in full). Returns an
 * enum mp_prtt_verdict; *ret filled for MP_PRTT_TCP only.
 */
int mp_prtt_decode(int linktype, const uint8_t *p, size_t caplen, struct mp_prtt_pkt *ret);

/*
 * RTT samples of one half: count, min, max, mean, stddev, and the median
 * estimated in constant memory by the P-square algorithm (Jain and
 * Chlamtac, CACM 28(10), 1985): exact up to 5 samples, then five markers
 * adjusted by piecewise-parabolic interpolation. Robust to the rare late
 * echo (a delayed ACK) that moves the mean.
 */
struct mp_prtt_rtt {
	uint64_t count;
	uint64_t min_ns, max_ns;
	double sum_ns, sumsq_ns;	/* for the mean and the deviation */
	double q[5];			/* P-square marker heights, ns */
	double np[5];			/* desired marker positions */
	int64_t n[5];			/* marker positions */
};

/* Adds a sample to r. */
void mp_prtt_rtt_add(struct mp_prtt_rtt *r, uint64_t rtt_ns);
/* Mean, sample standard deviation, median estimate; NaN without samples. */
double mp_prtt_rtt_mean_ns(const struct mp_prtt_rtt *r);
double mp_prtt_rtt_stddev_ns(const struct mp_prtt_rtt *r);
double mp_prtt_rtt_median_ns(const struct mp_prtt_rtt *r);

/* One direction of a flow: what side X sent. */
struct mp_prtt_dir {
	uint64_t packets, bytes;	/* segments, TCP payload octets */
	uint64_t retrans;		/* data segments below the highest seen */
	uint64_t retrans_bytes;
	uint64_t dsack;			/* of those, reported received twice (D-SACK) */
	uint64_t dsack_bytes;		/* the octets the D-SACKs cover */
	/* RTT of the path from the capture point to the *other* side and back,
	 * timed on what this side sent (its TSvals, its data) */
	struct mp_prtt_rtt rtt;
	uint64_t ts_samples, seq_samples;	/* of rtt.count, by method */
};

/* A flow's figures, as the callbacks and mp_prtt_flows() give them. */
struct mp_prtt_flow_info {
	uint8_t family;
	uint8_t addr[2][16];		/* side a, side b */
	uint16_t port[2];
	bool syn_seen;			/* side a is the client for sure */
	bool timestamps;		/* TSvals seen */
	uint64_t first_ns, last_ns;	/* packet times */
	struct mp_prtt_dir dir[2];	/* [0]: a to b, [1]: b to a */
	struct mp_prtt_dir ivl[2];	/* the same since the last mp_prtt_interval() */
	bool closed;			/* RST seen, or FIN both ways */
};

/* Why a flow left the table. */
enum mp_prtt_end { MP_PRTT_END_IDLE, MP_PRTT_END_EVICTED, MP_PRTT_END_CLOSE };

/* One RTT sample. */
struct mp_prtt_sample {
	uint64_t t_ns;			/* packet time of the echo / ACK */
	uint64_t rtt_ns;
	uint8_t dir;			/* 0: timed on a's TSval or data, echoed by b:
					 * the half to b (dir[0].rtt); 1: the half to a */
	bool ts;			/* from timestamps (else SEQ/ACK) */
};

struct mp_prtt_cb {
	/* each sample as it is taken (may be NULL) */
	void (*sample)(void *ctx, const struct mp_prtt_flow_info *f,
		       const struct mp_prtt_sample *s);
	/* a flow leaving the table (may be NULL); not called by mp_prtt_free */
	void (*end)(void *ctx, const struct mp_prtt_flow_info *f, enum mp_prtt_end why);
	void *ctx;
};

struct mp_prtt_opts {
	uint32_t max_flows;		/* table cap (1 to MP_PRTT_FLOWS_MAX) */
	uint64_t idle_ns;		/* a flow idle this long expires (0: never) */
};
#define MP_PRTT_FLOWS_MAX (1U << 24)
#define MP_PRTT_OPTS_INIT { .max_flows = 16384, .idle_ns = 120 * MP_NSEC_PER_SEC }

/* The engine's counters. */
struct mp_prtt_counters {
	uint64_t packets;		/* frames given */
	uint64_t tcp;			/* decoded TCP segments */
	uint64_t other;			/* well-formed, not TCP */
	uint64_t truncated, malformed, unsupported;
	uint64_t flows_created;
	uint64_t flows_expired;		/* idle */
	uint64_t flows_evicted;		/* pushed out by a full table */
	uint64_t flows_closed;		/* ended by RST, or FIN both ways */
	uint64_t flows_active;
	uint64_t samples;
	uint64_t retrans;		/* of every flow, ended ones too */
	uint64_t dsack;			/* of those, reported received twice */
};

/* Segments lost on the path: retransmitted, less those the receiver
 * reported as received twice (never below 0). */
static inline uint64_t mp_prtt_lost(uint64_t retrans, uint64_t dsack)
{
	return retrans > dsack ? retrans - dsack : 0;
}

struct mp_prtt;

/*
 * A new engine: o (copied; max_flows 1 to MP_PRTT_FLOWS_MAX), cb (copied,
 * may be NULL). The table is allocated once, sized for max_flows
 * (about 1 kB a flow). Returns 0, -EINVAL or -ENOMEM; *ret set on success.
 */
int mp_prtt_new(struct mp_prtt **ret, const struct mp_prtt_opts *o, const struct mp_prtt_cb *cb);
void mp_prtt_free(struct mp_prtt *p);

/*
 * One captured frame at packet time t_ns (times must not go backwards by
 * much: a sample that would be negative is dropped). Returns the verdict
 * of mp_prtt_decode(), counted; the callbacks run from here.
 */
int mp_prtt_add(struct mp_prtt *p, uint64_t t_ns, int linktype, const uint8_t *data,
		size_t caplen);

/*
 * Calls fn for every flow with packets since the last call (least recently
 * seen first), then starts a new interval: the flows' ivl[] are zeroed.
 * Returns the number of flows fn was called for.
 */
size_t mp_prtt_interval(struct mp_prtt *p,
			void (*fn)(void *ctx, const struct mp_prtt_flow_info *f), void *ctx);

/* A closed flow stays this long (packet time) for its last ACKs. */
#define MP_PRTT_CLOSED_NS MP_NSEC_PER_SEC

/* Expire flows idle at now_ns (packet time), as a packet would. */
void mp_prtt_expire(struct mp_prtt *p, uint64_t now_ns);

void mp_prtt_counters(const struct mp_prtt *p, struct mp_prtt_counters *ret);

/*
 * Calls fn for every flow in the table, least recently seen first.
 * Returns the number of flows.
 */
size_t mp_prtt_flows(const struct mp_prtt *p,
		     void (*fn)(void *ctx, const struct mp_prtt_flow_info *f), void *ctx);

#endif
