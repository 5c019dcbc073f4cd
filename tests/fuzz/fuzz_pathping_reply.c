/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for pathping's reply parser (tools/pathping/packet.c):
 * IPv4 packets with their IP header and ICMPv6 messages / TCP segments as
 * raw sockets return them, ICMP errors with quoted headers and RFC 4884
 * extensions, and what datagram sockets hand back.
 *
 * Input: octet 0 picks the flow (bit 0: IPv6, bits 1-2: icmp/udp/tcp,
 * bit 3: datagram sockets, bit 4: read from the TCP socket, bit 5: an echo
 * reply on a ping socket); the rest is the packet. Beyond "no crash", a
 * property: a time-exceeded message built around one of our probes
 * (id from octets 1-2, quote cut to octet 3 bytes) names that probe exactly
 * when the quote holds the headers the id lives in, and is refused otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/pathping/packet.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void flow_init(struct pp_flow *f, uint8_t sel)
{
	static const uint8_t s6[16] = { 0xfd, 0xac, 0, 0xc8, 0, 1, [15] = 1 };
	static const uint8_t d6[16] = { 0xfd, 0xac, 0, 0xc8, 0, 3, [15] = 2 };
	static const uint8_t s4[4] = { 10, 200, 1, 1 }, d4[4] = { 10, 200, 3, 2 };

	memset(f, 0, sizeof(*f));
	f->family = sel & 1 ? AF_INET6 : AF_INET;
	f->proto = (enum pp_proto)((sel >> 1) & 3) % 3;
	f->raw = !(sel & 8);
	memcpy(&f->src, f->family == AF_INET ? s4 : s6, f->family == AF_INET ? 4 : 16);
	memcpy(&f->dst, f->family == AF_INET ? d4 : d6, f->family == AF_INET ? 4 : 16);
	f->ident = 0x1234;
	f->sport = 20001;
	f->dport = f->proto == PP_TCP ? 80 : 33434;
	f->tcp_seq0 = 0x89abcdefU;
}

/* The headers a quote must hold for the probe id to be read from it. */
static size_t quote_needed(const struct pp_flow *f)
{
	if (f->family == AF_INET)
		return IP4_HDR + 8;
	return IP6_HDR + 8 + (f->proto == PP_UDP ? 4 : 0);
}

static void roundtrip(const struct pp_flow *f, uint16_t id, size_t cut)
{
	uint8_t probe[PP_PKT_MAX], msg[PP_PKT_MAX], *q;
	struct pp_reply r;
	size_t hdr, plen;
	int n, e;

	n = pp_probe_build(f, id, 3, probe, sizeof(probe));
	if (n <= 0)
		abort();
	memset(msg, 0, sizeof(msg));
	if (f->family == AF_INET) {
		/* outer IPv4 from a router, ICMP time exceeded, the probe quoted */
		msg[0] = 0x45;
		msg[9] = IPPROTO_ICMP;
		msg[12] = 10;
		msg[15] = 9;
		hdr = IP4_HDR;
		q = msg + hdr + ICMP_HDR;
		msg[hdr] = ICMP4_TIME_EXCEEDED;
		plen = (size_t)n;
		memcpy(q, probe, plen);
	} else {
		/* ICMPv6 time exceeded: the quote starts with the probe's IPv6
		 * header, which the raw socket had the kernel write */
		hdr = 0;
		q = msg + ICMP_HDR;
		msg[0] = ICMP6_TIME_EXCEEDED;
		q[0] = 0x60;
		mp_be16_put(q + 4, (uint16_t)n);
		q[6] = ip_proto(f);
		q[7] = 3;
		memcpy(q + 8, &f->src, 16);
		memcpy(q + 24, &f->dst, 16);
		memcpy(q + IP6_HDR, probe, (size_t)n);
		plen = IP6_HDR + (size_t)n;
	}
	if (cut < plen)
		plen = cut;
	if (f->family == AF_INET)
		mp_be16_put(msg + 2, (uint16_t)(hdr + ICMP_HDR + plen));
	e = pp_reply_parse(f, false, msg, hdr + ICMP_HDR + plen, &r);
	if (plen >= quote_needed(f)) {
		if (e != 0 || r.id != id || r.kind != PP_REPLY_TTL)
			abort();
	} else if (e == 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_reply r;
	struct pp_flow f;
	uint16_t id;

	if (size < 1)
		return 0;
	flow_init(&f, data[0]);
	if (pp_reply_parse(&f, data[0] & 16, data + 1, size - 1, &r) == 0) {
		if (r.kind < PP_REPLY_TTL || r.kind > PP_REPLY_OTHER ||
		    r.ext_offset >= size - 1)
			abort();
	}
	pp_dgram_id(&f, data[0] & 32, data + 1, size - 1, &id);
	if (size >= 4 && f.raw) {
		id = (uint16_t)(data[1] << 8 | data[2]);
		roundtrip(&f, id ? id : 1, data[3]);
	}
	return 0;
}
