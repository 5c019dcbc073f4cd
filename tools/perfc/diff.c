/* SPDX-License-Identifier: MIT */
/*
 * perfc --diff: this host's routes against a saved `perfc -j` snapshot.
 * A route is identified as the kernel identifies it within a table:
 * (family, table, dst, metric). Same identity, different forwarding (type,
 * protocol, scope, preferred source, nexthops) is "changed"; flags are
 * state, not configuration, and are not compared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfc.h"

/* A route of one of the two documents, for the merge. */
struct side {
	const struct pc_doc *doc;
	uint32_t *order;	/* route indexes in key order */
	size_t n;
};

static const char *str(const struct pc_doc *d, uint32_t id)
{
	return pc_strs_get(&d->strs, id);
}

static int route_key_cmp(const struct pc_doc *da, const struct pc_droute *a,
			 const struct pc_doc *db, const struct pc_droute *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = da == db && a->table == b->table ? 0 : strcmp(str(da, a->table), str(db, b->table));
	if (c)
		return c;
	c = memcmp(a->dst_addr.bytes, b->dst_addr.bytes, sizeof(a->dst_addr.bytes));
	if (c)
		return c;
	if (a->dst_len != b->dst_len)
		return a->dst_len < b->dst_len ? -1 : 1;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	return 0;
}

/* Key order, then document order: the same key twice keeps its order. */
static int order_cmp(const void *pa, const void *pb, void *arg)
{
	const struct pc_doc *d = arg;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int c = route_key_cmp(d, &d->routes[a], d, &d->routes[b]);

	return c ? c : a < b ? -1 : a > b;
}

static bool addr_eq(const struct mp_nl_addr *a, const struct mp_nl_addr *b)
{
	return a->family == b->family &&
	       !memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : a->family ? 16 : 0);
}

static bool route_same(const struct pc_doc *da, const struct pc_droute *a,
		       const struct pc_doc *db, const struct pc_droute *b)
{
	if (strcmp(str(da, a->type), str(db, b->type)) ||
	    strcmp(str(da, a->protocol), str(db, b->protocol)) ||
	    strcmp(str(da, a->scope), str(db, b->scope)) || !addr_eq(&a->prefsrc, &b->prefsrc) ||
	    a->n_nh != b->n_nh || a->multipath != b->multipath)
		return false;
	for (unsigned i = 0; i < a->n_nh; i++) {
		const struct pc_dnh *x = &da->nhs[a->nh + i], *y = &db->nhs[b->nh + i];

		if (!addr_eq(&x->gateway, &y->gateway) ||
		    strcmp(str(da, x->dev), str(db, y->dev)) || x->weight != y->weight)
			return false;
	}
	return true;
}

/* The snapshot gets the filters the kernel dump got. */
static bool snap_filter(const struct pc_opts *opts, struct pc_names *names,
			const struct pc_doc *d, size_t i, struct pc_route *rt, struct pc_nh *nh)
{
	const struct pc_droute *o = &d->routes[i];
	char name[PC_NAME_LEN];

	if (opts->family && o->family != opts->family)
		return false;
	if (opts->table >= 0) {
		pc_names_table(names, (uint32_t)opts->table, name, sizeof(name));
		if (strcmp(name, str(d, o->table)))
			return false;
	}
	if (opts->protocol >= 0) {
		pc_names_proto(names, (unsigned)opts->protocol, name, sizeof(name));
		if (strcmp(name, str(d, o->protocol)))
			return false;
	}
	if (!opts->dev && !opts->prefix)
		return true;
	pc_doc_route(d, i, rt, nh);
	return pc_route_filter(opts, rt);
}

/* A change record; none with -q (the summary only). */
static int emit(struct mp_writer *w, const struct pc_opts *opts, const char *change,
		const struct pc_doc *d, uint32_t i, const struct pc_doc *old_doc, uint32_t old)
{
	static struct pc_nh nh[PC_NH_MAX];
	struct pc_route rt;
	char was[512] = "";

	if (opts->quiet)
		return 0;
	if (old_doc) {
		pc_doc_route(old_doc, old, &rt, nh);
		if (pc_route_summary(&rt, was, sizeof(was)) < 0)
			was[sizeof(was) - 1] = '\0';
	}
	pc_doc_route(d, i, &rt, nh);
	pc_route_filter(opts, &rt);	/* passed already: sets the match */
	return pc_print_route(w, "change", &rt, change, was, false);
}

/* The routes of d that pass the filters, in key order. */
static int side_sort(const struct pc_opts *opts, struct pc_names *names, struct pc_doc *d,
		     bool filter, struct side *s)
{
	static struct pc_nh nh[PC_NH_MAX];
	struct pc_route rt;

	s->doc = d;
	s->n = 0;
	s->order = malloc((d->n_routes ? d->n_routes : 1) * sizeof(*s->order));
	if (!s->order)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_routes; i++)
		if (!filter || snap_filter(opts, names, d, i, &rt, nh))
			s->order[s->n++] = (uint32_t)i;
	qsort_r(s->order, s->n, sizeof(*s->order), order_cmp, d);
	return 0;
}

int pc_diff(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
	    struct mp_writer *w, struct pc_diff_result *res)
{
	struct pc_doc snap = { 0 }, live = { 0 };
	struct side a = { 0 }, b = { 0 };
	char err[256] = "", *buf = NULL;
	size_t len = 0, i = 0, j = 0;
	int r;

	r = pc_fetch(opts, opts->diff_file, opts->max_bytes, &buf, &len, err, sizeof(err));
	if (r < 0) {
		mp_warnx("%s: %s", opts->diff_file, err);
		goto out;
	}
	r = pc_doc_parse(buf, len, &snap, err, sizeof(err));
	free(buf);	/* the document is in snap now */
	buf = NULL;
	if (r < 0) {
		mp_warnx("%s: %s", opts->diff_file, err);
		goto out;
	}
	r = pc_list_doc(opts, nl, names, &live);
	if (r < 0) {
		mp_warn(r, "reading the routes");
		goto out;
	}
	r = side_sort(opts, names, &snap, true, &a);
	if (r == 0)
		r = side_sort(opts, names, &live, false, &b);
	if (r < 0) {
		mp_warn(r, "comparing");
		goto out;
	}
	for (i = 0, j = 0; r == 0 && (i < a.n || j < b.n);) {
		const struct pc_droute *x = i < a.n ? &snap.routes[a.order[i]] : NULL;
		const struct pc_droute *y = j < b.n ? &live.routes[b.order[j]] : NULL;
		int c = !x ? 1 : !y ? -1 : route_key_cmp(&snap, x, &live, y);

		if (c < 0) {
			r = emit(w, opts, "removed", &snap, a.order[i++], NULL, 0);
			res->removed++;
		} else if (c > 0) {
			r = emit(w, opts, "added", &live, b.order[j++], NULL, 0);
			res->added++;
		} else {
			if (!route_same(&snap, x, &live, y)) {
				r = emit(w, opts, "changed", &live, b.order[j], &snap, a.order[i]);
				res->changed++;
			} else {
				res->unchanged++;
			}
			i++;
			j++;
		}
	}
	if (r < 0)
		mp_warn(r, "writing");
	if (r == 0) {
		r = mp_doc_begin(w, NULL);
		if (r == 0)
			r = mp_put_str_notext(w, "snapshot", opts->diff_file);
		if (r == 0)
			r = mp_put_u64(w, "added", "%" PRIu64 " added", res->added);
		if (r == 0)
			r = mp_put_u64(w, "removed", "%" PRIu64 " removed", res->removed);
		if (r == 0)
			r = mp_put_u64(w, "changed", "%" PRIu64 " changed", res->changed);
		if (r == 0)
			r = mp_put_u64(w, "unchanged", "%" PRIu64 " unchanged", res->unchanged);
		if (r == 0)
			r = mp_doc_end(w);
	}
out:
	free(buf);
	free(a.order);
	free(b.order);
	pc_doc_done(&snap);
	pc_doc_done(&live);
	return r;
}
