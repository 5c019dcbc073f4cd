/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for perfc's perfc/1 document parser (tools/perfc/doc.c),
 * which reads route documents of other nodes (--nodes URLs) and snapshots
 * (--diff). Oracles: the parser returns only 0, -EINVAL, -E2BIG or -ENOMEM;
 * on success every prefix it produced is canonical (parsing it again gives
 * the same text, address family and length), every address listed parses,
 * every nexthop weight is 1..256 and the counts are within the caps. The
 * prefix parser is also fed the raw input as one string: what it accepts it
 * must accept again unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "../../tools/perfc/doc.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_route(const struct pc_route *rt)
{
	char again[PC_PREFIX_LEN];
	struct mp_nl_addr a;
	unsigned len;

	if (pc_prefix_canon(rt->dst, again, sizeof(again), &a, &len) != 0 ||
	    strcmp(again, rt->dst) || len != rt->dst_len || a.family != rt->family ||
	    memcmp(a.bytes, rt->dst_addr.bytes, sizeof(a.bytes)))
		abort();
	if (rt->n_nh > DOC_MAX_NH || (rt->n_nh && !rt->nh) || rt->n_flags > PC_FLAGS_MAX)
		abort();
	for (unsigned i = 0; i < rt->n_nh; i++) {
		if (rt->nh[i].weight < 1 || rt->nh[i].weight > 256)
			abort();
		if (rt->nh[i].gateway[0] &&
		    pc_addr_canon(rt->nh[i].gateway, again, sizeof(again), NULL) != 0)
			abort();
	}
	if (rt->prefsrc[0] && pc_addr_canon(rt->prefsrc, again, sizeof(again), &a) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_doc doc;
	char err[256], *s, canon[PC_PREFIX_LEN], again[PC_PREFIX_LEN];
	int r;

	memset(&doc, 0x5a, sizeof(doc));
	r = pc_doc_parse((const char *)data, size, &doc, err, sizeof(err));
	if (r != 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM)
		abort();
	if (r == 0) {
		if (doc.n_routes > DOC_MAX_ROUTES || doc.n_addresses > DOC_MAX_ADDRESSES)
			abort();
		for (size_t i = 0; i < doc.n_addresses; i++)
			if (pc_addr_canon(doc.addresses[i], canon, sizeof(canon), NULL) != 0 ||
			    strcmp(canon, doc.addresses[i]))
				abort();
		for (size_t i = 0; i < doc.n_routes; i++)
			check_route(&doc.routes[i]);
		pc_doc_done(&doc);
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pc_prefix_canon(s, canon, sizeof(canon), NULL, NULL) == 0 &&
	    (pc_prefix_canon(canon, again, sizeof(again), NULL, NULL) != 0 || strcmp(canon, again)))
		abort();
	free(s);
	return 0;
}
