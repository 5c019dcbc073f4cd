/* SPDX-License-Identifier: MIT */
/*
 * mtufind: recognising what comes back from the path — replies to probes
 * (STAMP reflector, ICMP echo) and the probes quoted by ICMP errors — from
 * untrusted bytes. Pure functions, fuzzed by tests/fuzz/fuzz_mtufind_reply.c.
 */
#ifndef MTUFIND_REPLY_H
#define MTUFIND_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MF_ICMP_HDR = 8,	/* ICMP / ICMPv6 echo header */
	MF_UDP_HDR = 8,
	MF_IP4_HDR = 20,	/* without options: we send none */
	MF_IP6_HDR = 40,
};

/* What an ICMP error says about a probe. */
enum mf_icmp_kind {
	MF_ICMP_OTHER,		/* nothing we act on */
	MF_ICMP_TOOBIG,		/* frag-needed / Packet Too Big (or local EMSGSIZE) */
	MF_ICMP_TTL,		/* time exceeded in transit */
	MF_ICMP_PORT,		/* port unreachable: no reflector */
	MF_ICMP_UNREACH,	/* another destination unreachable */
};

/*
 * Classify an ICMP (family AF_INET) or ICMPv6 (AF_INET6) error by type and
 * code.
 */
enum mf_icmp_kind mf_icmp_classify(int family, uint8_t type, uint8_t code);

/*
 * A datagram received on a STAMP probe socket: *ret_seq is the
 * Session-Sender Sequence Number the reflector copied. Returns 0, or
 * -EBADMSG when buf is not a STAMP reflector packet.
 */
int mf_reply_stamp(const void *buf, size_t len, uint32_t *ret_seq);

/*
 * A datagram received on an ICMP probe socket (raw IPv4: with its IP
 * header; ping sockets and IPv6: from the ICMP header): an echo reply of
 * family with identifier id (ignored when !check_id: ping sockets, where
 * the kernel matches it). *ret_seq is its sequence number and *ret_len the
 * length of the ICMP message. Returns 0, or -EBADMSG when it is not such a
 * reply (another type, a short or inconsistent packet).
 */
int mf_reply_icmp(int family, bool check_id, uint16_t id, const void *buf, size_t len,
		  uint16_t *ret_seq, size_t *ret_len);

/*
 * The probe quoted by an ICMP error, as the error queue gives it: for STAMP
 * probes the UDP payload (stamp true), for ICMP probes the echo request from
 * its ICMP header on, possibly after an IPv4 header. *ret_seq is the
 * probe's sequence number (32 bits for STAMP, 16 for ICMP). Returns 0, or
 * -EBADMSG when too little was quoted or it is not one of our probes.
 */
int mf_quote_seq(int family, bool stamp, bool check_id, uint16_t id, const void *buf,
		 size_t len, uint32_t *ret_seq);

/* RFC 1071 Internet checksum of len bytes. */
uint16_t mf_inet_csum(const void *buf, size_t len);

#endif
