/* SPDX-License-Identifier: MIT */
/*
 * perfc: rendering through lib/out. A route is one record whose keys mirror
 * `ip -j route` (docs/FORMATS.md). A listing's text cells are unpadded:
 * lib/out sizes the table's columns from its first rows and leaves out
 * empty columns; --watch's rows come one by one and are padded to the
 * usual widths, so that the header seldom has to be printed again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfc.h"

static bool structured(const struct mp_writer *w)
{
	enum mp_format f = mp_writer_format(w);

	return f == MP_FMT_JSON || f == MP_FMT_NDJSON;
}

/*
 * Flags: an array in json/ndjson (as ip -j writes them); in text and csv one
 * comma-joined string, so that every row has the same columns even when a
 * route has no flags.
 */
static int put_flags(struct mp_writer *w, const char *key, unsigned n,
		     const char (*flags)[PC_NAME_LEN], bool padded)
{
	char s[PC_FLAGS_MAX * PC_NAME_LEN];
	int r;

	s[0] = '\0';
	if (!structured(w)) {
		for (unsigned i = 0; i < n; i++) {
			if (i)
				strcat(s, ",");
			strcat(s, flags[i]);
		}
		return mp_put_str(w, key, padded ? "%-6s" : "%s", s);
	}
	r = mp_arr_begin(w, key, NULL);
	for (unsigned i = 0; i < n && r == 0; i++)
		r = mp_put_str(w, NULL, "%s", flags[i]);
	return r ? r : mp_arr_end(w);
}

/*
 * Multipath nexthops: objects in json/ndjson (as ip -j writes them); in text
 * and csv, whose rows hold scalars only, one string of space-separated
 * "gateway@dev*weight" items ("" for a single path).
 */
static int put_nexthops(struct mp_writer *w, const struct pc_route *rt)
{
	char s[1024];
	size_t off = 0;
	int r;

	s[0] = '\0';
	if (!structured(w)) {
		for (unsigned i = 0; rt->multipath && i < rt->n_nh && off < sizeof(s); i++) {
			const struct pc_nh *nh = &rt->nh[i];
			int n = snprintf(s + off, sizeof(s) - off, "%s%s@%s*%u", i ? " " : "",
					 nh->gateway[0] ? nh->gateway : "-",
					 nh->dev[0] ? nh->dev : "-", nh->weight);

			off += n > 0 ? (size_t)n : 0;
		}
		return mp_put_str(w, "nexthops", "%s", s);
	}
	r = mp_arr_begin(w, "nexthops", NULL);
	for (unsigned i = 0; rt->multipath && i < rt->n_nh && r == 0; i++) {
		const struct pc_nh *nh = &rt->nh[i];

		r = mp_obj_begin(w, NULL, NULL);
		if (r == 0)
			r = mp_put_str(w, "gateway", "%s", nh->gateway);
		if (r == 0)
			r = mp_put_str(w, "dev", "%s", nh->dev);
		if (r == 0)
			r = mp_put_u64(w, "weight", "%" PRIu64, nh->weight);
		if (r == 0)
			r = put_flags(w, "flags", nh->n_flags, nh->flags, false);
		if (r == 0)
			r = mp_obj_end(w);
	}
	return r ? r : mp_arr_end(w);
}

/*
 * Text shows a host route's destination as ip(8) does, without "/32" or
 * "/128": the link-local /128 routes of every IPv6 interface would widen
 * the column by 4 for nothing. The machine formats always have "addr/len".
 */
static const char *text_dst(struct mp_writer *w, const struct pc_route *rt,
			    char (*buf)[PC_PREFIX_LEN])
{
	char *slash;

	if (mp_writer_format(w) != MP_FMT_TEXT ||
	    rt->dst_len != (rt->family == AF_INET ? 32U : 128U))
		return rt->dst;
	memcpy(*buf, rt->dst, sizeof(*buf));
	if ((slash = strchr(*buf, '/')))
		*slash = '\0';
	return *buf;
}

/*
 * A route's row for people (ip route's words, aligned): the destination,
 * via and dev of its first path, protocol, metric, then notes: a type
 * other than unicast, a scope other than the type's usual one, a table
 * other than main, the preferred source, flags, and a multipath route's
 * other paths. What is empty in
 * every row of a listing is left out by lib/out. The machine formats have
 * every field under its own key.
 */
/* A route's notes for people: words joined by spaces, cut at the end. */
struct notes {
	char s[512];
	size_t len;
};

static void note(struct notes *n, const char *fmt, ...) MP_PRINTF(2, 3);
static void note(struct notes *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n->len && n->len + 1 < sizeof(n->s))
		n->s[n->len++] = ' ';
	va_start(ap, fmt);
	r = vsnprintf(n->s + n->len, sizeof(n->s) - n->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		n->len += (size_t)r < sizeof(n->s) - n->len ? (size_t)r : sizeof(n->s) - 1 - n->len;
	n->s[n->len] = '\0';
}

/* The scope the kernel gives a route of this type by default (ip route add
 * without "scope"): IPv6 routes are all global; IPv4 host for local, link
 * for broadcast and multicast and for a unicast route without a gateway,
 * global otherwise. */
static const char *usual_scope(const struct pc_route *rt)
{
	if (rt->family == AF_INET6)
		return "global";
	if (!strcmp(rt->type, "local") || !strcmp(rt->type, "nat"))
		return "host";
	if (!strcmp(rt->type, "broadcast") || !strcmp(rt->type, "multicast") ||
	    !strcmp(rt->type, "anycast") ||
	    (!strcmp(rt->type, "unicast") && !rt->gateway[0] && !rt->multipath))
		return "link";
	return "global";
}

static bool flags_down(unsigned n, const char (*flags)[PC_NAME_LEN])
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(flags[i], "dead") || !strcmp(flags[i], "linkdown"))
			return true;
	return false;
}

/* A route, or one of its paths, is dead or its link down (red in text). */
static bool route_down(const struct pc_route *rt)
{
	bool down = flags_down(rt->n_flags, rt->flags);

	for (unsigned i = 0; rt->multipath && i < rt->n_nh; i++)
		down |= flags_down(rt->nh[i].n_flags, rt->nh[i].flags);
	return down;
}

static int text_route(struct mp_writer *w, const char *type, const struct pc_route *rt,
		      const char *change, const char *was, bool padded)
{
	const struct pc_nh *nh = rt->multipath && rt->n_nh ? &rt->nh[0] : NULL;
	struct notes notes = { .len = 0 };
	char dst[PC_PREFIX_LEN];

	if (strcmp(rt->type, "unicast"))
		note(&notes, "%s", rt->type);
	if (strcmp(rt->scope, usual_scope(rt)))
		note(&notes, "scope %s", rt->scope);
	if (strcmp(rt->table, "main"))
		note(&notes, "table %s", rt->table);
	if (rt->prefsrc[0])
		note(&notes, "src %s", rt->prefsrc);
	for (unsigned i = 0; i < rt->n_flags; i++)
		note(&notes, "%s", rt->flags[i]);
	for (unsigned i = 0; nh && i < rt->n_nh; i++) {
		if (i)
			note(&notes, "+%s@%s", rt->nh[i].gateway[0] ? rt->nh[i].gateway : "-",
			     rt->nh[i].dev[0] ? rt->nh[i].dev : "-");
		for (unsigned k = 0; k < rt->nh[i].n_flags; k++)	/* the path's own */
			note(&notes, "%s", rt->nh[i].flags[k]);
	}
	if (was && *was)
		note(&notes, "was: %s", was);
	mp_writer_text_left(w, 255);	/* strings left, the metric right */
	mp_record_begin(w, type);
	mp_writer_text_left(w, 1);
	mp_writer_audience(w, MP_FOR_TEXT);
	if (change)
		mp_put_str(w, "change", padded ? "%-7s" : "%s", change);
	mp_put_str(w, "dst", padded ? "%-18s" : "%s", text_dst(w, rt, &dst));
	mp_put_str(w, "via", padded ? "%-15s" : "%s", nh ? nh->gateway : rt->gateway);
	mp_put_str(w, "dev", padded ? "%-8s" : "%s", nh ? nh->dev : rt->dev);
	mp_put_str(w, "proto", padded ? "%-7s" : "%s", rt->protocol);
	mp_put_u64(w, "metric", padded ? "%6" PRIu64 : "%" PRIu64, rt->metric);
	mp_writer_alert(w, route_down(rt));
	mp_put_str(w, "notes", "%s", notes.s);
	mp_writer_alert(w, false);
	mp_writer_audience(w, MP_FOR_ALL);
	return mp_record_end(w);
}

int pc_print_route(struct mp_writer *w, const char *type, const struct pc_route *rt,
		   const char *change, const char *was, bool padded)
{
	char dst[PC_PREFIX_LEN];

	if (mp_writer_format(w) == MP_FMT_TEXT)
		return text_route(w, type, rt, change, was, padded);
	mp_record_begin(w, type);
	if (change)
		mp_put_str(w, "change", padded ? "%-7s" : "%s", change);
	mp_put_str_notext(w, "family", rt->family == AF_INET ? "inet" : "inet6");
	mp_put_str(w, "route_type", padded ? "%-11s" : "%s", rt->type);
	mp_put_str(w, "dst", padded ? "%-20s" : "%s", text_dst(w, rt, &dst));
	if (rt->match)
		mp_put_str(w, "match", padded ? "%-6s" : "%s", rt->match);
	mp_put_str(w, "table", padded ? "%-7s" : "%s", rt->table);
	mp_put_str(w, "protocol", padded ? "%-8s" : "%s", rt->protocol);
	mp_put_str(w, "scope", padded ? "%-6s" : "%s", rt->scope);
	mp_put_u64(w, "metric", padded ? "%6" PRIu64 : "%" PRIu64, rt->metric);
	mp_put_str(w, "gateway", padded ? "%-15s" : "%s", rt->gateway);
	mp_put_str(w, "dev", padded ? "%-8s" : "%s", rt->dev);
	mp_put_str(w, "prefsrc", padded ? "%-15s" : "%s", rt->prefsrc);
	put_flags(w, "flags", rt->n_flags, rt->flags, padded);
	put_nexthops(w, rt);
	if (was)
		mp_put_str(w, "was", "%s", was);
	return mp_record_end(w);
}

/* Prometheus HELP of every mode's series (-f prom, --textfile). */
const struct mp_prom_help pc_prom_help[] = {
	{ "tables.routes", "routes of this protocol and family in this table" },
	{ "route_count", "routes listed" },
	{ "change_count", "route changes seen" },
	{ "added", "routes in the table, not in the snapshot" },
	{ "removed", "routes in the snapshot, not in the table" },
	{ "changed", "routes in both whose type, protocol, scope, source or paths differ" },
	{ "unchanged", "routes the same in both" },
	{ "nodes", "node documents read" },
	{ "path_count", "paths followed between the nodes" },
	{ "loops", "paths that loop" },
	{ "blackholes", "paths that end without a route" },
	{ "asymmetric", "node pairs whose path back is not the reverse of the path there" },
	{ NULL, NULL }
};

/* One line for a route's forwarding part: "unicast via 10.0.0.1 dev eth0 proto static". */
int pc_route_summary(const struct pc_route *rt, char *buf, size_t len)
{
	size_t off = 0;

#define ADD(...)                                                                             \
	do {                                                                                 \
		int n_ = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__);        \
		if (n_ > 0)                                                                  \
			off += (size_t)n_;                                                   \
	} while (0)
	ADD("%s", rt->type);
	for (unsigned i = 0; i < rt->n_nh; i++) {
		if (rt->nh[i].gateway[0])
			ADD(" via %s", rt->nh[i].gateway);
		if (rt->nh[i].dev[0])
			ADD(" dev %s", rt->nh[i].dev);
		if (rt->multipath)
			ADD(" weight %u", rt->nh[i].weight);
	}
	ADD(" proto %s scope %s", rt->protocol, rt->scope);
	if (rt->prefsrc[0])
		ADD(" src %s", rt->prefsrc);
#undef ADD
	return off < len ? 0 : -ENOSPC;
}

int pc_print_list_doc(struct mp_writer *w, const struct pc_opts *opts, long count,
		      char **addresses, size_t n_addresses,
		      int (*more)(struct mp_writer *w, const void *arg), const void *arg)
{
	char host[PC_NODE_LEN] = "";
	int r;

	if (opts->node_name)
		snprintf(host, sizeof(host), "%s", opts->node_name);
	else if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	r = mp_doc_begin(w, NULL);
	if (r == 0)
		r = mp_put_str_notext(w, "node", host);
	if (r == 0)
		r = mp_put_str_notext(w, "site", opts->site ? opts->site : "");
	if (r == 0)
		r = mp_arr_begin(w, "addresses", NULL);
	for (size_t i = 0; i < n_addresses && r == 0; i++)
		r = mp_put_str_notext(w, NULL, addresses[i]);
	if (r == 0)
		r = mp_arr_end(w);
	if (r == 0 && opts->prefix)
		r = mp_put_str(w, "prefix", "prefix %s", opts->prefix);
	/* prom: the gauge meshperf_perfc_routes (lib/out's "_count" rule) */
	if (r == 0)
		r = mp_put_u64(w, "route_count", "%" PRIu64 " routes", count);
	if (r == 0 && more)
		r = more(w, arg);
	return r ? r : mp_doc_end(w);
}
