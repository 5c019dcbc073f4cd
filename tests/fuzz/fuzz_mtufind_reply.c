/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for mtufind's reply parsing (tools/mtufind/reply.c):
 * replies from a STAMP reflector or to an ICMP echo, and the probes quoted
 * by ICMP errors, all from untrusted bytes. The first input octet picks
 * the family (bit 0), whether the identifier is checked (bit 1) and the
 * ICMP type/code to classify (the next two octets); the rest is the packet.
 * Properties: no crash or sanitizer report; a recognised echo reply is at
 * least an ICMP header long, lies within the input and has the identifier
 * asked for; classification of a type/code is a known kind.
 */
#include "auth.c"
#include "stamp.c"
#include "../../tools/mtufind/reply.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int family;
	bool check_id;
	uint16_t id = 0x1234, seq16;
	uint32_t seq;
	size_t len;
	const uint8_t *p;
	enum mf_icmp_kind k;

	if (size < 3)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	check_id = data[0] & 2;
	k = mf_icmp_classify(family, data[1], data[2]);
	if (k > MF_ICMP_UNREACH)
		abort();
	p = data + 3;
	size -= 3;
	if (mf_reply_icmp(family, check_id, id, p, size, &seq16, &len) == 0) {
		if (len < MF_ICMP_HDR || len > size)
			abort();
		if (check_id && (p[size - len + 4] << 8 | p[size - len + 5]) != id)
			abort();
		if ((p[size - len + 6] << 8 | p[size - len + 7]) != seq16)
			abort();
	}
	if (mf_reply_stamp(p, size, &seq) == 0 && size < MP_STAMP_BASE_LEN)
		abort();
	mf_quote_seq(family, false, check_id, id, p, size, &seq);
	if (mf_quote_seq(family, true, check_id, id, p, size, &seq) == 0 && size < 4)
		abort();
	(void)mf_inet_csum(p, size);
	return 0;
}
