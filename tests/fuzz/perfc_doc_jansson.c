/* SPDX-License-Identifier: MIT */
/*
 * The perfc/1 document reader perfc had before its one-pass reader
 * (tools/perfc/doc.c): jansson's tree, then the checks. Kept only as the
 * reference fuzz_perfc_doc.c compares the one-pass reader against,
 * document by document. #included by the harness after doc.c (whose
 * fail, addr_member, pc_addr_canon, pc_prefix_canon and DOC_MAX_* it uses).
 */
#include <jansson.h>

/* The document as the old reader held it: each route in full. */
struct ref_doc {
	char node[PC_NODE_LEN];
	char site[PC_NODE_LEN];
	char **addresses;
	size_t n_addresses;
	struct pc_route *routes;	/* each with its own nh array */
	size_t n_routes;
};

/* An optional string member into buf; -EINVAL when not a string or too long. */
static int ref_get_str(json_t *o, const char *key, char *buf, size_t len, const char *dflt)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v || json_is_null(v)) {
		snprintf(buf, len, "%s", dflt);
		return 0;
	}
	s = json_string_value(v);
	if (!s || json_string_length(v) >= len || strlen(s) != json_string_length(v))
		return -EINVAL;
	memcpy(buf, s, json_string_length(v) + 1);
	return 0;
}

/* A name: printable ASCII without spaces (tables, protocols, devices, types). */
static int ref_get_name(json_t *o, const char *key, char *buf, size_t len, const char *dflt)
{
	int r = ref_get_str(o, key, buf, len, dflt);

	for (const char *p = buf; r == 0 && *p; p++)
		if (*p <= ' ' || *p > '~')
			r = -EINVAL;
	return r;
}

/* An optional address member, canonical in buf ("" when absent or empty). */
static int ref_get_addr(json_t *o, const char *key, char *buf, size_t len, int family)
{
	char s[PC_ADDR_LEN];

	if (ref_get_str(o, key, s, sizeof(s), "") < 0)
		return -EINVAL;
	return addr_member(s, buf, len, family);
}

static int ref_get_flags(json_t *o, char (*flags)[PC_NAME_LEN], unsigned *n)
{
	json_t *arr = json_object_get(o, "flags"), *v;
	size_t i;

	*n = 0;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return -EINVAL;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || json_string_length(v) >= PC_NAME_LEN)
			return -EINVAL;
		if (*n < PC_FLAGS_MAX)
			snprintf(flags[(*n)++], PC_NAME_LEN, "%s", s);
	}
	return 0;
}

static int ref_parse_nh(json_t *o, struct pc_nh *nh, int family, char *err, size_t errlen,
		    size_t ri, size_t ni)
{
	json_t *w = json_object_get(o, "weight");

	memset(nh, 0, sizeof(*nh));
	if (!json_is_object(o))
		return fail(err, errlen, "routes[%zu].nexthops[%zu]: not an object", ri, ni);
	/* a v4 route may have a v6 gateway (RTA_VIA): any family */
	(void)family;
	if (ref_get_addr(o, "gateway", nh->gateway, sizeof(nh->gateway), 0) < 0)
		return fail(err, errlen, "routes[%zu].nexthops[%zu].gateway: not an address",
			    ri, ni);
	if (ref_get_name(o, "dev", nh->dev, sizeof(nh->dev), "") < 0)
		return fail(err, errlen, "routes[%zu].nexthops[%zu].dev: bad name", ri, ni);
	nh->weight = 1;
	if (w && !json_is_null(w)) {
		if (!json_is_integer(w) || json_integer_value(w) < 1 ||
		    json_integer_value(w) > 256)
			return fail(err, errlen, "routes[%zu].nexthops[%zu].weight: not 1..256",
				    ri, ni);
		nh->weight = (unsigned)json_integer_value(w);
	}
	if (ref_get_flags(o, nh->flags, &nh->n_flags) < 0)
		return fail(err, errlen, "routes[%zu].nexthops[%zu].flags: bad", ri, ni);
	return 0;
}

static int ref_parse_route(json_t *o, struct pc_route *rt, char *err, size_t errlen, size_t i)
{
	char dst[PC_PREFIX_LEN];
	json_t *m, *nhs;
	int r;

	memset(rt, 0, sizeof(*rt));
	if (!json_is_object(o))
		return fail(err, errlen, "routes[%zu]: not an object", i);
	if (ref_get_str(o, "dst", dst, sizeof(dst), "") < 0 ||
	    pc_prefix_canon(!strcmp(dst, "default") ? "0.0.0.0/0" : dst, rt->dst,
			    sizeof(rt->dst), &rt->dst_addr, &rt->dst_len) < 0)
		return fail(err, errlen, "routes[%zu].dst: not a prefix", i);
	rt->family = rt->dst_addr.family;
	if (ref_get_name(o, "route_type", rt->type, sizeof(rt->type), "unicast") < 0 ||
	    ref_get_name(o, "table", rt->table, sizeof(rt->table), "main") < 0 ||
	    ref_get_name(o, "protocol", rt->protocol, sizeof(rt->protocol), "boot") < 0 ||
	    ref_get_name(o, "scope", rt->scope, sizeof(rt->scope), "global") < 0 ||
	    ref_get_name(o, "dev", rt->dev, sizeof(rt->dev), "") < 0)
		return fail(err, errlen, "routes[%zu]: a name is not a string of 1..%d "
			    "printable characters", i, PC_NAME_LEN - 1);
	if (ref_get_addr(o, "gateway", rt->gateway, sizeof(rt->gateway), 0) < 0)
		return fail(err, errlen, "routes[%zu].gateway: not an address", i);
	if (ref_get_addr(o, "prefsrc", rt->prefsrc, sizeof(rt->prefsrc), rt->family) < 0)
		return fail(err, errlen, "routes[%zu].prefsrc: not an address", i);
	m = json_object_get(o, "metric");
	if (m && !json_is_null(m)) {
		if (!json_is_integer(m) || json_integer_value(m) < 0 ||
		    json_integer_value(m) > UINT32_MAX)
			return fail(err, errlen, "routes[%zu].metric: not 0..2^32-1", i);
		rt->metric = (uint64_t)json_integer_value(m);
	}
	if (ref_get_flags(o, rt->flags, &rt->n_flags) < 0)
		return fail(err, errlen, "routes[%zu].flags: bad", i);
	nhs = json_object_get(o, "nexthops");
	if (nhs && !json_is_null(nhs) && !json_is_array(nhs))
		return fail(err, errlen, "routes[%zu].nexthops: not an array", i);
	if (nhs && json_array_size(nhs) > DOC_MAX_NH)
		return fail(err, errlen, "routes[%zu].nexthops: more than %d", i, DOC_MAX_NH);
	if (nhs && json_array_size(nhs) > 0) {
		size_t k;
		json_t *v;

		if (rt->gateway[0] || rt->dev[0])
			return fail(err, errlen, "routes[%zu]: gateway/dev and nexthops", i);
		rt->nh = calloc(json_array_size(nhs), sizeof(*rt->nh));
		if (!rt->nh)
			return -ENOMEM;
		rt->multipath = true;
		json_array_foreach(nhs, k, v) {
			r = ref_parse_nh(v, &rt->nh[k], rt->family, err, errlen, i, k);
			if (r < 0)
				return r;
			rt->n_nh++;
		}
	} else if (rt->gateway[0] || rt->dev[0]) {
		rt->nh = calloc(1, sizeof(*rt->nh));
		if (!rt->nh)
			return -ENOMEM;
		memcpy(rt->nh[0].gateway, rt->gateway, sizeof(rt->gateway));
		memcpy(rt->nh[0].dev, rt->dev, sizeof(rt->dev));
		rt->nh[0].weight = 1;
		rt->n_nh = 1;
	}
	return 0;
}

static void ref_routes_free(struct pc_route *routes, size_t n)
{
	for (size_t i = 0; routes && i < n; i++)
		free(routes[i].nh);
	free(routes);
}

static void ref_doc_done(struct ref_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_addresses; i++)
		free(doc->addresses[i]);
	free(doc->addresses);
	ref_routes_free(doc->routes, doc->n_routes);
	memset(doc, 0, sizeof(*doc));
}

static int ref_parse_addresses(json_t *arr, struct ref_doc *d, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return fail(err, errlen, "addresses: not an array");
	if (json_array_size(arr) > DOC_MAX_ADDRESSES)
		return fail(err, errlen, "addresses: more than %d", DOC_MAX_ADDRESSES);
	d->addresses = calloc(json_array_size(arr) + 1, sizeof(*d->addresses));
	if (!d->addresses)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		char buf[PC_ADDR_LEN], s[PC_ADDR_LEN];
		const char *p = json_string_value(v);
		const char *slash = p ? strchr(p, '/') : NULL;
		size_t n = p ? (slash ? (size_t)(slash - p) : strlen(p)) : 0;

		/* "10.0.0.1" or "10.0.0.1/24" (the prefix length is ignored) */
		if (!p || n == 0 || n >= sizeof(s))
			return fail(err, errlen, "addresses[%zu]: not an address", i);
		memcpy(s, p, n);
		s[n] = '\0';
		if (pc_addr_canon(s, buf, sizeof(buf), NULL) < 0)
			return fail(err, errlen, "addresses[%zu]: not an address", i);
		if (!(d->addresses[d->n_addresses] = strdup(buf)))
			return -ENOMEM;
		d->n_addresses++;
	}
	return 0;
}

static int ref_doc_parse(const char *buf, size_t len, struct ref_doc *ret, char *err, size_t errlen)
{
	struct ref_doc d = { 0 };
	json_error_t jerr;
	json_t *root, *routes, *v;
	const char *schema;
	size_t i;
	int r;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, "not JSON: line %d: %s", jerr.line, jerr.text);
	r = -EINVAL;
	if (!json_is_object(root)) {
		fail(err, errlen, "not a JSON object");
		goto out;
	}
	schema = json_string_value(json_object_get(root, "schema"));
	if (!schema || (strcmp(schema, PC_SCHEMA) && strcmp(schema, PC_SCHEMA_1))) {
		fail(err, errlen, "schema is not \"%s\" or \"%s\"", PC_SCHEMA, PC_SCHEMA_1);
		goto out;
	}
	if (ref_get_str(root, "node", d.node, sizeof(d.node), "") < 0 ||
	    ref_get_str(root, "site", d.site, sizeof(d.site), "") < 0) {
		fail(err, errlen, "node/site: not a string of at most %d bytes", PC_NODE_LEN - 1);
		goto out;
	}
	r = ref_parse_addresses(json_object_get(root, "addresses"), &d, err, errlen);
	if (r < 0)
		goto out;
	r = -EINVAL;
	routes = json_object_get(root, "routes");
	if (routes && !json_is_array(routes)) {
		fail(err, errlen, "routes: not an array");
		goto out;
	}
	if (routes && json_array_size(routes) > DOC_MAX_ROUTES) {
		r = -E2BIG;
		fail(err, errlen, "routes: more than %d", DOC_MAX_ROUTES);
		goto out;
	}
	if (routes && json_array_size(routes)) {
		d.routes = calloc(json_array_size(routes), sizeof(*d.routes));
		if (!d.routes) {
			r = -ENOMEM;
			goto out;
		}
		json_array_foreach(routes, i, v) {
			d.n_routes++;	/* counted first: a half-parsed route is freed too */
			r = ref_parse_route(v, &d.routes[i], err, errlen, i);
			if (r < 0)
				goto out;
		}
	}
	r = 0;
	*ret = d;
out:
	if (r < 0)
		ref_doc_done(&d);
	json_decref(root);
	return r;
}
