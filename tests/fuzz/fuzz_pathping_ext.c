/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for pathping's RFC 4884 extension parser
 * (pp_ext_parse in tools/pathping/packet.c: RFC 4950 MPLS label stacks,
 * RFC 5837 interface information). Input: the extension structure alone,
 * as it follows an ICMP error's original datagram; seeds written by
 * tests/unit/fixtures/gen_pathping.py. Beyond "no crash", properties: the
 * arrays stay in bounds, a name is terminated and free of control octets,
 * and a structure that parses keeps parsing with every object after it
 * dropped at an object boundary (the parser reads objects in order and
 * keeps nothing of a malformed structure).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/pathping/packet.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pp_ext *e)
{
	unsigned i;
	size_t n;

	if (e->n_mpls > PP_MPLS_MAX || e->n_if > PP_IFINFO_MAX)
		abort();
	for (i = 0; i < e->n_mpls; i++)
		if (e->mpls[i].label >> 20 || e->mpls[i].tc > 7)
			abort();
	for (i = 0; i < e->n_if; i++) {
		n = strnlen(e->ifs[i].name, sizeof(e->ifs[i].name));
		if (n == sizeof(e->ifs[i].name))
			abort();
		while (n--)
			if ((unsigned char)e->ifs[i].name[n] < 0x20)
				abort();
		if (e->ifs[i].role > PP_IF_NEXTHOP)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_ext e, f;
	uint8_t *p;
	size_t off = 4, olen;

	if (pp_ext_parse(data, size, &e) < 0)
		return 0;
	check(&e);
	if (data[2] || data[3])
		return 0;	/* with a checksum, a prefix would not sum right */
	/* every prefix that ends at an object boundary parses too */
	p = malloc(size);
	if (!p)
		return 0;
	memcpy(p, data, size);
	while (off + 4 <= size) {
		olen = (size_t)data[off] << 8 | data[off + 1];
		if (pp_ext_parse(p, off, &f) < 0)
			abort();
		off += olen;
	}
	free(p);
	return 0;
}
