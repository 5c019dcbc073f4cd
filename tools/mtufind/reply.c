/* SPDX-License-Identifier: MIT */
/*
 * mtufind: replies and quoted probes, from untrusted bytes (see reply.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "be.h"
#include "reply.h"
#include "stamp.h"

enum {
	ICMP4_ECHO_REPLY = 0,
	ICMP4_UNREACH = 3,
	ICMP4_ECHO = 8,
	ICMP4_TIME_EXCEEDED = 11,
	ICMP4_CODE_PORT = 3,
	ICMP4_CODE_FRAG_NEEDED = 4,
	ICMP6_UNREACH = 1,
	ICMP6_TOOBIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_ECHO = 128,
	ICMP6_ECHO_REPLY = 129,
	ICMP6_CODE_PORT = 4,
};

enum mf_icmp_kind mf_icmp_classify(int family, uint8_t type, uint8_t code)
{
	if (family == AF_INET) {
		if (type == ICMP4_TIME_EXCEEDED)
			return MF_ICMP_TTL;
		if (type != ICMP4_UNREACH)
			return MF_ICMP_OTHER;
		if (code == ICMP4_CODE_FRAG_NEEDED)
			return MF_ICMP_TOOBIG;
		return code == ICMP4_CODE_PORT ? MF_ICMP_PORT : MF_ICMP_UNREACH;
	}
	if (family != AF_INET6)
		return MF_ICMP_OTHER;
	switch (type) {
	case ICMP6_TOOBIG:
		return MF_ICMP_TOOBIG;
	case ICMP6_TIME_EXCEEDED:
		return MF_ICMP_TTL;
	case ICMP6_UNREACH:
		return code == ICMP6_CODE_PORT ? MF_ICMP_PORT : MF_ICMP_UNREACH;
	default:
		return MF_ICMP_OTHER;
	}
}

int mf_reply_stamp(const void *buf, size_t len, uint32_t *ret_seq)
{
	struct mp_stamp_reply rep;

	if (!buf || mp_stamp_reply_decode(buf, len, NULL, &rep) < 0)
		return -EBADMSG;
	*ret_seq = rep.sender_seq;
	return 0;
}

/*
 * Skip an IPv4 header at p (n bytes) when there is one: raw IPv4 sockets
 * deliver it, ping sockets do not. An ICMP message never starts with 0x4_
 * in the types we look at (0, 8), so the first nibble tells. The header
 * must be consistent: IHL >= 5, within n, protocol ICMP.
 */
static int skip_ip4(const uint8_t **p, size_t *n, bool *had)
{
	size_t ihl;

	*had = false;
	if (*n == 0 || (**p >> 4) != 4)
		return 0;
	ihl = (size_t)(**p & 0x0f) * 4;
	if (ihl < MF_IP4_HDR || ihl > *n || (*p)[9] != IPPROTO_ICMP)
		return -EBADMSG;
	*p += ihl;
	*n -= ihl;
	*had = true;
	return 0;
}

int mf_reply_icmp(int family, bool check_id, uint16_t id, const void *buf, size_t len,
		  uint16_t *ret_seq, size_t *ret_len)
{
	const uint8_t *p = buf;
	size_t n = len;
	bool had_ip = false;
	uint8_t want = family == AF_INET ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY;

	if (!buf || (family != AF_INET && family != AF_INET6))
		return -EBADMSG;
	if (family == AF_INET) {
		if (skip_ip4(&p, &n, &had_ip) < 0)
			return -EBADMSG;
		/* the IP total length must agree with what was received */
		if (had_ip && mp_be16_get((const uint8_t *)buf + 2) != len)
			return -EBADMSG;
	}
	if (n < MF_ICMP_HDR || p[0] != want || p[1] != 0)
		return -EBADMSG;
	if (check_id && mp_be16_get(p + 4) != id)
		return -EBADMSG;
	*ret_seq = mp_be16_get(p + 6);
	*ret_len = n;
	return 0;
}

int mf_quote_seq(int family, bool stamp, bool check_id, uint16_t id, const void *buf,
		 size_t len, uint32_t *ret_seq)
{
	const uint8_t *p = buf;
	size_t n = len;
	bool had_ip = false;
	uint8_t want = family == AF_INET ? ICMP4_ECHO : ICMP6_ECHO;

	if (!buf)
		return -EBADMSG;
	if (stamp) {
		/* the Sequence Number leads a Session-Sender test packet */
		if (n < 4)
			return -EBADMSG;
		*ret_seq = mp_be32_get(p);
		return 0;
	}
	if (family != AF_INET && family != AF_INET6)
		return -EBADMSG;
	if (family == AF_INET && skip_ip4(&p, &n, &had_ip) < 0)
		return -EBADMSG;
	if (n < MF_ICMP_HDR || p[0] != want || p[1] != 0)
		return -EBADMSG;
	if (check_id && mp_be16_get(p + 4) != id)
		return -EBADMSG;
	*ret_seq = mp_be16_get(p + 6);
	return 0;
}

uint16_t mf_inet_csum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += mp_be16_get(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
