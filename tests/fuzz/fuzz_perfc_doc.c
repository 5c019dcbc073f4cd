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
 *
 * Differential: the one-pass reader must agree with the jansson tree reader
 * it replaced (perfc_doc_jansson.c) on every input: the same return value;
 * for a document that is JSON but not a valid one, the same error text; for
 * a valid one, the same node, site, addresses and routes, field by field
 * (each route of the lean form written out in full again by pc_doc_route).
 * One difference is allowed: a NUL byte after a word or number, which
 * jansson skips and the one-pass reader refuses (see differential()).
 */
#include <stdlib.h>
#include <string.h>

#include "../../tools/perfc/doc.c"
#include "../../tools/perfc/store.c"
#include "perfc_doc_jansson.c"

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

static void same_flags(unsigned na, const char (*a)[PC_NAME_LEN], unsigned nb,
		       const char (*b)[PC_NAME_LEN])
{
	if (na != nb)
		abort();
	for (unsigned i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			abort();
}

static void same_route(const struct pc_route *a, const struct pc_route *b)
{
	if (a->family != b->family || strcmp(a->type, b->type) || strcmp(a->dst, b->dst) ||
	    a->dst_addr.family != b->dst_addr.family ||
	    memcmp(a->dst_addr.bytes, b->dst_addr.bytes, 16) || a->dst_len != b->dst_len ||
	    strcmp(a->table, b->table) || strcmp(a->protocol, b->protocol) ||
	    strcmp(a->scope, b->scope) || a->metric != b->metric ||
	    strcmp(a->prefsrc, b->prefsrc) || strcmp(a->gateway, b->gateway) ||
	    strcmp(a->dev, b->dev) || a->multipath != b->multipath || a->n_nh != b->n_nh)
		abort();
	same_flags(a->n_flags, a->flags, b->n_flags, b->flags);
	for (unsigned i = 0; i < a->n_nh; i++) {
		if (strcmp(a->nh[i].gateway, b->nh[i].gateway) || strcmp(a->nh[i].dev, b->nh[i].dev) ||
		    a->nh[i].weight != b->nh[i].weight)
			abort();
		same_flags(a->nh[i].n_flags, a->nh[i].flags, b->nh[i].n_flags, b->nh[i].flags);
	}
}

/* Both readers on one input: the same verdict, error and document. */
static void differential(const uint8_t *data, size_t size, int r, const char *err,
			 const struct pc_doc *doc)
{
	static struct pc_nh nh[PC_NH_MAX];
	struct ref_doc ref;
	struct pc_route rt;
	char ref_err[256] = "";
	int q;

	memset(&ref, 0x5a, sizeof(ref));
	q = ref_doc_parse((const char *)data, size, &ref, ref_err, sizeof(ref_err));
	/* jansson's quirk: a NUL byte right after a word or number is skipped
	 * (its unget leaves a 0 that reads as "buffer empty"), so it accepts
	 * `null\0,`; the one-pass reader refuses every NUL outside a string as
	 * JSON does, the only difference allowed */
	if (q == -ENOMEM || r == -ENOMEM ||
	    (memchr(data, 0, size) && r == -EINVAL && !strncmp(err, "not JSON", 8))) {
		if (q == 0)
			ref_doc_done(&ref);
		return;
	}
	if (q != r)
		abort();
	if (r == -EINVAL && strncmp(ref_err, "not JSON", 8) ? strcmp(ref_err, err) != 0 :
	    r == -EINVAL && strncmp(err, "not JSON", 8) != 0)
		abort();
	if (r != 0)
		return;
	if (strcmp(ref.node, doc->node) || strcmp(ref.site, doc->site) ||
	    ref.n_addresses != doc->n_addresses || ref.n_routes != doc->n_routes)
		abort();
	for (size_t i = 0; i < ref.n_addresses; i++)
		if (strcmp(ref.addresses[i], doc->addresses[i]))
			abort();
	for (size_t i = 0; i < ref.n_routes; i++) {
		pc_doc_route(doc, i, &rt, nh);
		same_route(&ref.routes[i], &rt);
	}
	ref_doc_done(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_nh nh[PC_NH_MAX];
	struct pc_doc doc;
	struct pc_route rt;
	char err[256] = "", *s, canon[PC_PREFIX_LEN], again[PC_PREFIX_LEN];
	int r;

	memset(&doc, 0x5a, sizeof(doc));
	r = pc_doc_parse((const char *)data, size, &doc, err, sizeof(err));
	if (r != 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM)
		abort();
	differential(data, size, r, err, &doc);
	if (r == 0) {
		if (doc.n_routes > DOC_MAX_ROUTES || doc.n_addresses > DOC_MAX_ADDRESSES)
			abort();
		for (size_t i = 0; i < doc.n_addresses; i++)
			if (pc_addr_canon(doc.addresses[i], canon, sizeof(canon), NULL) != 0 ||
			    strcmp(canon, doc.addresses[i]))
				abort();
		for (size_t i = 0; i < doc.n_routes; i++) {
			pc_doc_route(&doc, i, &rt, nh);
			check_route(&rt);
		}
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
