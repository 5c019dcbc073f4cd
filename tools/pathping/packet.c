/* SPDX-License-Identifier: MIT */
/*
 * pathping's wire: probes with a constant flow identifier (Paris
 * traceroute) and the parser of what comes back. Pure functions over
 * bytes, no sockets and no lib/ calls (be.h is header-only), so the fuzz
 * harness can include this file alone.
 *
 * Flow identifier and probe id (docs/FORMATS.md, man page):
 *  - ICMP echo: identifier constant; the sequence number is the probe id;
 *    the first payload word is ~id, so the ICMP checksum is the same for
 *    every probe (one's-complement sum: id + ~id = 0xffff adds nothing).
 *  - UDP: ports constant; payload words 0 and 1 are id and ~id, so the UDP
 *    checksum is constant too; raw IPv4 probes also carry the id as IP ID,
 *    for routers that quote only 8 bytes of UDP (RFC 792).
 *  - TCP SYN: ports constant; the sequence number is seq0 + id (a SYN-ACK or
 *    RST acknowledges seq0 + id + 1).
 * Ports, addresses, protocol and (IPv6) flow label are what load balancers
 * hash; none of them changes within a run.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "be.h"
#include "pathping.h"

enum {
	IP4_HDR = 20,
	IP6_HDR = 40,
	ICMP_HDR = 8,
	UDP_HDR = 8,
	TCP_HDR = 24,		/* 20 + the MSS option */
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_ACK = 0x10,
	ICMP4_ECHO_REPLY = 0,
	ICMP4_UNREACH = 3,
	ICMP4_ECHO = 8,
	ICMP4_TIME_EXCEEDED = 11,
	ICMP4_PARAM_PROB = 12,
	ICMP6_UNREACH = 1,
	ICMP6_TOO_BIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_PARAM_PROB = 4,
	ICMP6_ECHO = 128,
	ICMP6_ECHO_REPLY = 129,
	RFC4884_MIN_ORIG = 128,	/* the original datagram field is padded to this */
	EXT_VERSION = 2,	/* RFC 4884 extension header version */
	EXT_HDR = 4,		/* version, reserved, checksum */
	OBJ_HDR = 4,		/* length, class-num, c-type */
	OBJ_MPLS = 1,		/* RFC 4950 class: MPLS label stack, c-type 1 */
	OBJ_IFINFO = 2,		/* RFC 5837 class: interface information */
	IF_HAS_INDEX = 0x08,	/* RFC 5837 c-type bits after the role */
	IF_HAS_ADDR = 0x04,
	IF_HAS_NAME = 0x02,
	IF_HAS_MTU = 0x01,
	AFI_IP = 1,		/* address family numbers of the address sub-object */
	AFI_IP6 = 2,
};

/* Constant payload after the id words: recognisable in captures. */
static const char pp_magic[] = "meshperf pathping probe payload..";

uint32_t pp_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += mp_be16_get(buf + i);
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t pp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Pseudo-header sum (RFC 768 / RFC 8200 section 8.1). */
static uint32_t pseudo_sum(const struct pp_flow *f, uint8_t proto, size_t len)
{
	uint8_t b[8] = { 0 };
	uint32_t sum = 0;

	sum = pp_csum_add(sum, (const uint8_t *)&f->src, addr_len(f->family));
	sum = pp_csum_add(sum, (const uint8_t *)&f->dst, addr_len(f->family));
	if (f->family == AF_INET) {
		b[1] = proto;
		mp_be16_put(b + 2, (uint16_t)len);
		return pp_csum_add(sum, b, 4);
	}
	mp_be32_put(b, (uint32_t)len);
	b[7] = proto;
	return pp_csum_add(sum, b, 8);
}

static void payload_fill(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)pp_magic[i % (sizeof(pp_magic) - 1)];
}

static size_t icmp_build(const struct pp_flow *f, uint16_t id, uint8_t *p)
{
	size_t len = ICMP_HDR + PP_PAYLOAD_BYTES;

	p[0] = f->family == AF_INET ? ICMP4_ECHO : ICMP6_ECHO;
	p[1] = 0;
	mp_be16_put(p + 2, 0);
	mp_be16_put(p + 4, f->ident);
	mp_be16_put(p + 6, id);
	payload_fill(p + ICMP_HDR, PP_PAYLOAD_BYTES);
	mp_be16_put(p + ICMP_HDR, (uint16_t)~id);
	/* ICMPv6 sums a pseudo-header; a ping socket recomputes both anyway */
	mp_be16_put(p + 2, pp_csum_fold(pp_csum_add(f->family == AF_INET6 ?
					      pseudo_sum(f, IPPROTO_ICMPV6, len) : 0, p, len)));
	return len;
}

static size_t udp_build(const struct pp_flow *f, uint16_t id, uint8_t *p)
{
	size_t len = UDP_HDR + PP_PAYLOAD_BYTES;
	uint16_t c;

	mp_be16_put(p, f->sport);
	mp_be16_put(p + 2, f->dport);
	mp_be16_put(p + 4, (uint16_t)len);
	mp_be16_put(p + 6, 0);
	payload_fill(p + UDP_HDR, PP_PAYLOAD_BYTES);
	mp_be16_put(p + UDP_HDR, id);
	mp_be16_put(p + UDP_HDR + 2, (uint16_t)~id);
	c = pp_csum_fold(pp_csum_add(pseudo_sum(f, IPPROTO_UDP, len), p, len));
	mp_be16_put(p + 6, c ? c : 0xffff);
	return len;
}

static size_t tcp_build(const struct pp_flow *f, uint16_t id, uint8_t *p)
{
	memset(p, 0, TCP_HDR);
	mp_be16_put(p, f->sport);
	mp_be16_put(p + 2, f->dport);
	mp_be32_put(p + 4, f->tcp_seq0 + id);
	p[12] = (TCP_HDR / 4) << 4;
	p[13] = TCP_SYN;
	mp_be16_put(p + 14, 64240);
	p[20] = 2;	/* MSS 1460: a SYN without it looks forged to some firewalls */
	p[21] = 4;
	mp_be16_put(p + 22, 1460);
	mp_be16_put(p + 16, pp_csum_fold(pp_csum_add(pseudo_sum(f, IPPROTO_TCP, TCP_HDR), p, TCP_HDR)));
	return TCP_HDR;
}

static uint8_t ip_proto(const struct pp_flow *f)
{
	if (f->proto == PP_UDP)
		return IPPROTO_UDP;
	if (f->proto == PP_TCP)
		return IPPROTO_TCP;
	return f->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

int pp_probe_build(const struct pp_flow *f, uint16_t id, uint8_t ttl, uint8_t *buf, size_t len)
{
	size_t ip = f->raw && f->family == AF_INET ? IP4_HDR : 0, n;
	uint8_t *p = buf + ip;

	if (len < ip + ICMP_HDR + PP_PAYLOAD_BYTES || len < ip + TCP_HDR)
		return -ENOSPC;
	if (f->proto == PP_ICMP)
		n = icmp_build(f, id, p);
	else if (f->proto == PP_UDP)
		n = udp_build(f, id, p);
	else
		n = tcp_build(f, id, p);
	if (!f->raw && f->proto == PP_UDP) {
		/* a UDP socket takes the payload only */
		memmove(buf, p + UDP_HDR, PP_PAYLOAD_BYTES);
		return PP_PAYLOAD_BYTES;
	}
	if (ip) {
		/* IP_HDRINCL: the kernel fills the header checksum (and the
		 * length); a zero IP ID would be replaced, so ids start at 1 */
		memset(buf, 0, IP4_HDR);
		buf[0] = 0x45;
		buf[1] = f->tos;
		mp_be16_put(buf + 2, (uint16_t)(IP4_HDR + n));
		mp_be16_put(buf + 4, id);
		buf[8] = ttl;
		buf[9] = ip_proto(f);
		memcpy(buf + 12, &f->src, 4);
		memcpy(buf + 16, &f->dst, 4);
		mp_be16_put(buf + 10, pp_csum_fold(pp_csum_add(0, buf, IP4_HDR)));
	}
	return (int)(ip + n);
}

/* ---- replies ---- */

/* A source port of the run: the flow's, or one of its span (--all-paths). */
static bool sport_ours(const struct pp_flow *f, uint16_t port)
{
	return port == f->sport || (uint16_t)(port - f->sport_base) < f->sport_span;
}

/* The transport header the router quoted: which probe it was. */
static int quoted_transport(const struct pp_flow *f, const uint8_t *t, size_t len,
			    bool have_ipid, uint16_t ipid, uint16_t *ret_id)
{
	uint32_t d;

	if (len < 8)
		return -EINVAL;
	switch (f->proto) {
	case PP_ICMP:
		if (t[0] != (f->family == AF_INET ? ICMP4_ECHO : ICMP6_ECHO) ||
		    mp_be16_get(t + 4) != f->ident)
			return -ENOENT;
		*ret_id = mp_be16_get(t + 6);
		return 0;
	case PP_UDP:
		if (!sport_ours(f, mp_be16_get(t)) || mp_be16_get(t + 2) != f->dport)
			return -ENOENT;
		if (len >= UDP_HDR + 4 &&
		    (uint16_t)(mp_be16_get(t + UDP_HDR) ^ mp_be16_get(t + UDP_HDR + 2)) == 0xffff) {
			*ret_id = mp_be16_get(t + UDP_HDR);
			return 0;
		}
		if (!have_ipid)
			return -ENOENT;
		*ret_id = ipid;
		return 0;
	case PP_TCP:
		if (!sport_ours(f, mp_be16_get(t)) || mp_be16_get(t + 2) != f->dport)
			return -ENOENT;
		d = mp_be32_get(t + 4) - f->tcp_seq0;
		if (d > UINT16_MAX)
			return -ENOENT;
		*ret_id = (uint16_t)d;
		return 0;
	}
	return -ENOENT;
}

/* RFC 4950: label stack entries, 4 octets each. */
static int ext_mpls(const uint8_t *p, size_t len, struct pp_ext *e)
{
	uint32_t v;

	if (len % 4)
		return -EINVAL;
	for (; len; p += 4, len -= 4) {
		if (e->n_mpls == PP_MPLS_MAX) {
			e->skipped++;
			return 0;
		}
		v = mp_be32_get(p);
		e->mpls[e->n_mpls++] = (struct pp_mpls){ .label = v >> 12, .tc = (v >> 9) & 7,
							 .s = (v >> 8) & 1, .ttl = v & 0xff };
	}
	return 0;
}

/* RFC 5837 interface name sub-object: a length octet (counting itself, a
 * multiple of 4, at most 64) and the name, padded with zeros. */
static int ext_ifname(const uint8_t *p, size_t len, struct pp_ifinfo *fi)
{
	size_t n, i, k = 0;

	if (len < 1 || p[0] < 4 || p[0] % 4 || p[0] > PP_IFNAME_MAX || p[0] > len)
		return -EINVAL;
	n = p[0];
	for (i = 1; i < n && p[i]; i++)
		fi->name[k++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	fi->name[k] = '\0';
	fi->has_name = true;
	return (int)n;
}

/* RFC 5837: the sub-objects the c-type announces, in this order: ifIndex,
 * IP address, name, MTU; nothing may be left over. */
static int ext_ifinfo(uint8_t ctype, const uint8_t *p, size_t len, struct pp_ext *e)
{
	struct pp_ifinfo fi = { .role = ctype >> 6 };
	size_t alen;
	int n;

	if (ctype & IF_HAS_INDEX) {
		if (len < 4)
			return -EINVAL;
		fi.has_index = true;
		fi.ifindex = mp_be32_get(p);
		p += 4, len -= 4;
	}
	if (ctype & IF_HAS_ADDR) {
		if (len < 4)
			return -EINVAL;
		if (mp_be16_get(p) == AFI_IP)
			fi.family = AF_INET, alen = 4;
		else if (mp_be16_get(p) == AFI_IP6)
			fi.family = AF_INET6, alen = 16;
		else
			return -EINVAL;
		if (len < 4 + alen)
			return -EINVAL;
		memcpy(&fi.addr, p + 4, alen);
		fi.has_addr = true;
		p += 4 + alen, len -= 4 + alen;
	}
	if (ctype & IF_HAS_NAME) {
		if ((n = ext_ifname(p, len, &fi)) < 0)
			return n;
		p += n, len -= (size_t)n;
	}
	if (ctype & IF_HAS_MTU) {
		if (len < 4)
			return -EINVAL;
		fi.has_mtu = true;
		fi.mtu = mp_be32_get(p);
		len -= 4;
	}
	if (len)
		return -EINVAL;
	if (e->n_if == PP_IFINFO_MAX)
		e->skipped++;
	else
		e->ifs[e->n_if++] = fi;
	return 0;
}

int pp_ext_parse(const uint8_t *buf, size_t len, struct pp_ext *ret)
{
	struct pp_ext e = { 0 };
	size_t olen;
	int r = 0;

	if (!buf || !ret || len < EXT_HDR || buf[0] >> 4 != EXT_VERSION)
		return -EINVAL;
	/* a zero checksum was not computed (RFC 4884 section 7) */
	if (mp_be16_get(buf + 2) && pp_csum_fold(pp_csum_add(0, buf, len)))
		return -EINVAL;
	for (buf += EXT_HDR, len -= EXT_HDR; len && r == 0; buf += olen, len -= olen) {
		if (len < OBJ_HDR)
			return -EINVAL;
		olen = mp_be16_get(buf);
		if (olen < OBJ_HDR || olen % 4 || olen > len)
			return -EINVAL;
		if (buf[2] == OBJ_MPLS && buf[3] == 1)
			r = ext_mpls(buf + OBJ_HDR, olen - OBJ_HDR, &e);
		else if (buf[2] == OBJ_IFINFO)
			r = ext_ifinfo(buf[3], buf + OBJ_HDR, olen - OBJ_HDR, &e);
		else
			e.skipped++;
	}
	if (r < 0)
		return r;
	*ret = e;
	return 0;
}

/* An extension structure where a router that predates RFC 4884 puts it
 * (RFC 4950 section 5): right after a 128-octet original datagram, with
 * the length field zero. Taken only with a checksum that holds. */
static bool legacy_ext(const uint8_t *icmp, size_t len)
{
	const uint8_t *x = icmp + ICMP_HDR + RFC4884_MIN_ORIG;

	return len >= ICMP_HDR + RFC4884_MIN_ORIG + EXT_HDR + OBJ_HDR && x[0] >> 4 == EXT_VERSION &&
	       mp_be16_get(x + 2) &&
	       !pp_csum_fold(pp_csum_add(0, x, len - ICMP_HDR - RFC4884_MIN_ORIG));
}

/*
 * The original datagram of an ICMP error (RFC 4884): when the length field
 * is set, only that many bytes are the datagram and an extension structure
 * may follow; otherwise (RFC 792 / 4443) all the rest is the datagram,
 * unless a pre-RFC 4884 router's extension follows 128 octets of it.
 */
static size_t orig_len(const struct pp_flow *f, const uint8_t *icmp, size_t len,
		       struct pp_reply *r)
{
	size_t n = len - ICMP_HDR, words;

	words = f->family == AF_INET ? (size_t)icmp[5] * 4 : (size_t)icmp[4] * 8;
	if (!words && legacy_ext(icmp, len))
		words = RFC4884_MIN_ORIG;
	if (!words)
		return n;
	if (words < RFC4884_MIN_ORIG || words > n)
		return n;	/* not a valid RFC 4884 length: treat as legacy */
	if (n - words >= 4) {
		r->ext_offset = ICMP_HDR + words;
		r->ext_bad = pp_ext_parse(icmp + r->ext_offset, len - r->ext_offset, &r->ext) < 0;
	}
	return words;
}

static int icmp_error(const struct pp_flow *f, const uint8_t *icmp, size_t len,
		      struct pp_reply *r)
{
	const uint8_t *q = icmp + ICMP_HDR;
	size_t qlen = orig_len(f, icmp, len, r), hl;
	uint8_t proto = ip_proto(f);
	uint16_t id;
	int e;

	if (f->family == AF_INET) {
		if (qlen < IP4_HDR || (q[0] >> 4) != 4)
			return -EINVAL;
		hl = (size_t)(q[0] & 0x0f) * 4;
		if (hl < IP4_HDR || hl > qlen)
			return -EINVAL;
		if (q[9] != proto || memcmp(q + 16, &f->dst, 4))
			return -ENOENT;
		/* a first fragment only: later ones carry no transport header */
		if (mp_be16_get(q + 6) & 0x1fff)
			return -ENOENT;
		r->quoted_tos = q[1];
		e = quoted_transport(f, q + hl, qlen - hl, f->raw, mp_be16_get(q + 4), &id);
	} else {
		if (qlen < IP6_HDR || (q[0] >> 4) != 6)
			return -EINVAL;
		if (q[6] != proto || memcmp(q + 24, &f->dst, 16))
			return -ENOENT;
		r->quoted_tos = (uint8_t)((q[0] & 0x0f) << 4 | q[1] >> 4);
		e = quoted_transport(f, q + IP6_HDR, qlen - IP6_HDR, false, 0, &id);
	}
	if (e < 0)
		return e;
	r->quoted = true;
	r->id = id;
	return 0;
}

static int icmp_parse(const struct pp_flow *f, const uint8_t *icmp, size_t len,
		      struct pp_reply *r)
{
	bool v4 = f->family == AF_INET;
	uint8_t t;

	if (len < ICMP_HDR)
		return -EINVAL;
	t = icmp[0];
	r->type = t;
	r->code = icmp[1];
	if (t == (v4 ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY)) {
		if (f->proto != PP_ICMP || mp_be16_get(icmp + 4) != f->ident)
			return -ENOENT;
		r->kind = PP_REPLY_ECHO;
		r->id = mp_be16_get(icmp + 6);
		return 0;
	}
	if (t == (v4 ? ICMP4_TIME_EXCEEDED : ICMP6_TIME_EXCEEDED))
		r->kind = PP_REPLY_TTL;
	else if (t == (v4 ? ICMP4_UNREACH : ICMP6_UNREACH))
		r->kind = PP_REPLY_UNREACH;
	else if (t == (v4 ? ICMP4_PARAM_PROB : ICMP6_PARAM_PROB) || (!v4 && t == ICMP6_TOO_BIG))
		r->kind = PP_REPLY_OTHER;
	else
		return -ENOENT;
	return icmp_error(f, icmp, len, r);
}

static int tcp_parse(const struct pp_flow *f, const uint8_t *t, size_t len, struct pp_reply *r)
{
	uint32_t d;

	if (len < 20)
		return -EINVAL;
	if (f->proto != PP_TCP || mp_be16_get(t) != f->dport || !sport_ours(f, mp_be16_get(t + 2)))
		return -ENOENT;
	if (!(t[13] & TCP_RST) && (t[13] & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK))
		return -ENOENT;
	if (!(t[13] & TCP_ACK))
		return -ENOENT;	/* an RST without ACK acknowledges nothing */
	d = mp_be32_get(t + 8) - 1 - f->tcp_seq0;
	if (d > UINT16_MAX)
		return -ENOENT;
	r->kind = PP_REPLY_TCP;
	r->type = 0;
	r->code = t[13];
	r->id = (uint16_t)d;
	return 0;
}

int pp_reply_parse(const struct pp_flow *f, bool is_tcp, const uint8_t *buf, size_t len,
		   struct pp_reply *ret)
{
	struct pp_reply r = { 0 };
	size_t hl = 0;
	int e;

	if (!f || !buf || !ret)
		return -EINVAL;
	if (f->family == AF_INET) {
		if (len < IP4_HDR || (buf[0] >> 4) != 4)
			return -EINVAL;
		hl = (size_t)(buf[0] & 0x0f) * 4;
		if (hl < IP4_HDR || hl > len)
			return -EINVAL;
		if (mp_be16_get(buf + 6) & 0x1fff)
			return -ENOENT;	/* a later fragment */
		if (buf[9] != (is_tcp ? IPPROTO_TCP : IPPROTO_ICMP))
			return -ENOENT;
		memcpy(&r.from, buf + 12, 4);
		r.from_src_known = true;
		/* the IP length bounds the message: ignore link-layer padding */
		if (mp_be16_get(buf + 2) >= hl && mp_be16_get(buf + 2) < len)
			len = mp_be16_get(buf + 2);
	}
	if (is_tcp) {
		if (r.from_src_known && memcmp(&r.from, &f->dst, 4))
			return -ENOENT;
		e = tcp_parse(f, buf + hl, len - hl, &r);
	} else {
		e = icmp_parse(f, buf + hl, len - hl, &r);
	}
	if (e < 0)
		return e;
	*ret = r;
	return 0;
}

int pp_dgram_id(const struct pp_flow *f, bool echo_reply, const uint8_t *buf, size_t len,
		uint16_t *ret_id)
{
	bool v4;

	if (!f || !buf || !ret_id)
		return -EINVAL;
	v4 = f->family == AF_INET;
	if (f->proto == PP_ICMP) {
		if (len < ICMP_HDR)
			return -EINVAL;
		if (buf[0] != (echo_reply ? (v4 ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY) :
					    (v4 ? ICMP4_ECHO : ICMP6_ECHO)))
			return -ENOENT;
		/* replies to a ping socket are matched on the identifier by
		 * the kernel, which also rewrote it on the way out */
		*ret_id = mp_be16_get(buf + 6);
		return 0;
	}
	if (f->proto != PP_UDP || echo_reply)
		return -ENOENT;
	if (len < 4)
		return -EINVAL;
	if ((uint16_t)(mp_be16_get(buf) ^ mp_be16_get(buf + 2)) != 0xffff)
		return -ENOENT;
	*ret_id = mp_be16_get(buf);
	return 0;
}

/* ---- the receive filter ---- */

enum { L_NEXT, L_ACCEPT, L_DROP, L_ECHO, L_ERR, L_LABELS };

struct bpf_asm {
	struct sock_filter *p;
	unsigned n;
	unsigned at[L_LABELS];		/* where each label is */
	struct { unsigned insn; uint8_t jt, jf; } fix[PP_FILTER_MAX];
	unsigned nfix;
};

static void op(struct bpf_asm *a, uint16_t code, uint32_t k)
{
	if (a->n < PP_FILTER_MAX)
		a->p[a->n] = (struct sock_filter)BPF_STMT(code, k);
	a->n++;
}

/* A conditional jump to labels jt / jf (L_NEXT: the next instruction). */
static void jmp(struct bpf_asm *a, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (a->n < PP_FILTER_MAX && a->nfix < PP_FILTER_MAX) {
		a->p[a->n] = (struct sock_filter)BPF_JUMP(BPF_JMP | code | BPF_K, k, 0, 0);
		a->fix[a->nfix].insn = a->n;
		a->fix[a->nfix].jt = jt;
		a->fix[a->nfix].jf = jf;
		a->nfix++;
	}
	a->n++;
}

static void label(struct bpf_asm *a, unsigned l)
{
	a->at[l] = a->n;
}

/* The 16-bit field at k (plus X with ind) within lo..hi, else drop. */
static void match16(struct bpf_asm *a, bool ind, uint32_t k, uint16_t lo, uint16_t hi)
{
	op(a, BPF_LD | BPF_H | (ind ? BPF_IND : BPF_ABS), k);
	if (lo == hi) {
		jmp(a, BPF_JEQ, lo, L_ACCEPT, L_DROP);
		return;
	}
	jmp(a, BPF_JGE, lo, L_NEXT, L_DROP);
	jmp(a, BPF_JGT, hi, L_DROP, L_ACCEPT);
}

/* L_ECHO: an echo reply is ours by its identifier at 4 (+ X with ind); a
 * UDP or TCP run has none. L_ERR follows. */
static void echo_block(struct bpf_asm *a, bool icmp, bool ind, uint16_t ident)
{
	label(a, L_ECHO);
	if (icmp)
		match16(a, ind, 4, ident, ident);
	else
		op(a, BPF_RET | BPF_K, 0);
	label(a, L_ERR);
}

int pp_flow_filter(const struct pp_flow *f, bool tcp_sock, struct sock_filter *prog)
{
	bool v4 = f->family == AF_INET, icmp = f->proto == PP_ICMP;
	uint16_t lo = f->sport_span ? f->sport_base : f->sport;
	uint32_t hi32 = f->sport_span ? (uint32_t)f->sport_base + f->sport_span - 1 : f->sport;
	uint16_t hi = (uint16_t)(hi32 > 0xffff ? 0xffff : hi32);
	uint8_t inner = f->proto == PP_ICMP ? (v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) :
			f->proto == PP_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	struct bpf_asm a = { .p = prog };
	unsigned i;

	if (f->family != AF_INET && f->family != AF_INET6)
		return -EINVAL;
	if (tcp_sock) {
		/* a SYN-ACK or RST to our port: IPv4 from its IP header, IPv6 from TCP's */
		if (v4)
			op(&a, BPF_LDX | BPF_B | BPF_MSH, 0);
		match16(&a, v4, 2, lo, hi);
	} else if (v4) {
		/* X: the IP header's length; ICMP from there */
		op(&a, BPF_LDX | BPF_B | BPF_MSH, 0);
		op(&a, BPF_LD | BPF_B | BPF_IND, 0);
		jmp(&a, BPF_JEQ, ICMP4_ECHO_REPLY, L_ECHO, L_NEXT);
		jmp(&a, BPF_JEQ, ICMP4_UNREACH, L_ERR, L_NEXT);
		jmp(&a, BPF_JEQ, ICMP4_TIME_EXCEEDED, L_ERR, L_NEXT);
		jmp(&a, BPF_JEQ, ICMP4_PARAM_PROB, L_ERR, L_DROP);
		echo_block(&a, icmp, true, f->ident);
		/* the quoted IP header's protocol, then X past it too */
		op(&a, BPF_LD | BPF_B | BPF_IND, ICMP_HDR + 9);
		jmp(&a, BPF_JEQ, inner, L_NEXT, L_DROP);
		op(&a, BPF_LD | BPF_B | BPF_IND, ICMP_HDR);
		op(&a, BPF_ALU | BPF_AND | BPF_K, 0xf);
		op(&a, BPF_ALU | BPF_LSH | BPF_K, 2);
		op(&a, BPF_ALU | BPF_ADD | BPF_X, 0);
		op(&a, BPF_MISC | BPF_TAX, 0);
		if (icmp)
			match16(&a, true, ICMP_HDR + 4, f->ident, f->ident);
		else
			match16(&a, true, ICMP_HDR, lo, hi);
	} else {
		/* ICMPv6 from its header; the quoted IPv6 header is 40 octets */
		op(&a, BPF_LD | BPF_B | BPF_ABS, 0);
		jmp(&a, BPF_JEQ, ICMP6_ECHO_REPLY, L_ECHO, L_NEXT);
		jmp(&a, BPF_JGE, ICMP6_UNREACH, L_NEXT, L_DROP);	/* the errors */
		jmp(&a, BPF_JGT, ICMP6_PARAM_PROB, L_DROP, L_ERR);
		echo_block(&a, icmp, false, f->ident);
		op(&a, BPF_LD | BPF_B | BPF_ABS, ICMP_HDR + 6);	/* next header */
		jmp(&a, BPF_JEQ, inner, L_NEXT, L_DROP);
		match16(&a, false, ICMP_HDR + IP6_HDR + (icmp ? 4 : 0), icmp ? f->ident : lo,
			icmp ? f->ident : hi);
	}
	label(&a, L_ACCEPT);
	op(&a, BPF_RET | BPF_K, 0x40000);
	label(&a, L_DROP);
	op(&a, BPF_RET | BPF_K, 0);
	if (a.n > PP_FILTER_MAX)
		return -EINVAL;
	for (i = 0; i < a.nfix; i++) {
		unsigned at = a.fix[i].insn, t = a.fix[i].jt, e = a.fix[i].jf;
		unsigned dt = t == L_NEXT ? 0 : a.at[t] - at - 1;
		unsigned de = e == L_NEXT ? 0 : a.at[e] - at - 1;

		if (dt > 255 || de > 255)
			return -EINVAL;
		prog[at].jt = (uint8_t)dt;
		prog[at].jf = (uint8_t)de;
	}
	return (int)a.n;
}
