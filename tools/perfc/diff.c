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

static int route_key_cmp(const void *pa, const void *pb)
{
	const struct pc_route *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = strcmp(a->table, b->table);
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

static bool route_same(const struct pc_route *a, const struct pc_route *b)
{
	if (strcmp(a->type, b->type) || strcmp(a->protocol, b->protocol) ||
	    strcmp(a->scope, b->scope) || strcmp(a->prefsrc, b->prefsrc) ||
	    a->n_nh != b->n_nh || a->multipath != b->multipath)
		return false;
	for (unsigned i = 0; i < a->n_nh; i++)
		if (strcmp(a->nh[i].gateway, b->nh[i].gateway) ||
		    strcmp(a->nh[i].dev, b->nh[i].dev) || a->nh[i].weight != b->nh[i].weight)
			return false;
	return true;
}

/* The snapshot gets the filters the kernel dump got. */
static bool snap_filter(const struct pc_opts *opts, struct pc_names *names,
			struct pc_route *rt)
{
	char name[PC_NAME_LEN];

	if (opts->family && rt->family != opts->family)
		return false;
	if (opts->table >= 0) {
		pc_names_table(names, (uint32_t)opts->table, name, sizeof(name));
		if (strcmp(name, rt->table))
			return false;
	}
	if (opts->protocol >= 0) {
		pc_names_proto(names, (unsigned)opts->protocol, name, sizeof(name));
		if (strcmp(name, rt->protocol))
			return false;
	}
	return pc_route_filter(opts, rt);
}

/* A change record; none with -q (the summary only). */
static int emit(struct mp_writer *w, const struct pc_opts *opts, const char *change,
		const struct pc_route *rt, const struct pc_route *old)
{
	char was[512] = "";

	if (opts->quiet)
		return 0;
	if (old && pc_route_summary(old, was, sizeof(was)) < 0)
		was[sizeof(was) - 1] = '\0';
	return pc_print_route(w, "change", rt, change, was, false);
}

int pc_diff(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
	    struct mp_writer *w, struct pc_diff_result *res)
{
	struct pc_doc snap = { 0 }, live = { 0 };
	char err[256] = "", *buf = NULL;
	size_t len = 0, i = 0, j = 0, n = 0;
	int r;

	r = pc_fetch(opts, opts->diff_file, opts->max_bytes, &buf, &len, err, sizeof(err));
	if (r < 0) {
		mp_warnx("%s: %s", opts->diff_file, err);
		goto out;
	}
	r = pc_doc_parse(buf, len, &snap, err, sizeof(err));
	if (r < 0) {
		mp_warnx("%s: %s", opts->diff_file, err);
		goto out;
	}
	/* drop what the filters exclude, keeping the array compact */
	for (i = 0; i < snap.n_routes; i++) {
		if (snap_filter(opts, names, &snap.routes[i])) {
			struct pc_route t = snap.routes[n];

			snap.routes[n++] = snap.routes[i];
			snap.routes[i] = t;
		}
	}
	for (i = n; i < snap.n_routes; i++)
		free(snap.routes[i].nh);
	snap.n_routes = n;
	r = pc_list_doc(opts, nl, names, &live);
	if (r < 0) {
		mp_warn(r, "reading the routes");
		goto out;
	}
	qsort(snap.routes, snap.n_routes, sizeof(*snap.routes), route_key_cmp);
	qsort(live.routes, live.n_routes, sizeof(*live.routes), route_key_cmp);
	r = 0;
	for (i = 0, j = 0; r == 0 && (i < snap.n_routes || j < live.n_routes);) {
		int c = i == snap.n_routes ? 1 : j == live.n_routes ? -1 :
			route_key_cmp(&snap.routes[i], &live.routes[j]);

		if (c < 0) {
			r = emit(w, opts, "removed", &snap.routes[i++], NULL);
			res->removed++;
		} else if (c > 0) {
			r = emit(w, opts, "added", &live.routes[j++], NULL);
			res->added++;
		} else {
			if (!route_same(&snap.routes[i], &live.routes[j])) {
				r = emit(w, opts, "changed", &live.routes[j], &snap.routes[i]);
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
	pc_doc_done(&snap);
	pc_doc_done(&live);
	return r;
}
