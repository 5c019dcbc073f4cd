/* SPDX-License-Identifier: MIT */
/*
 * perfc: the modes. Names are resolved once, then each mode streams its
 * records through the writer as it finds them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfc.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);	/* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int setup_names(struct pc_opts *opts, struct mp_nl *nl, struct pc_names **ret)
{
	struct pc_names *names = NULL;
	uint32_t table;
	unsigned proto;
	int r;

	r = pc_names_new(&names);
	if (r < 0)
		return r;
	/* the distribution's defaults first, the administrator's file wins */
	pc_names_load_dir(names, "/usr/share/iproute2");
	pc_names_load_dir(names, "/etc/iproute2");
	if (nl && (r = pc_names_links(names, nl)) < 0) {
		mp_warn(r, "reading the links");
		goto fail;
	}
	r = -EINVAL;
	if (opts->table_arg) {
		if (pc_names_table_id(names, opts->table_arg, &table) < 0) {
			mp_warnx("invalid table '%s'", opts->table_arg);
			goto fail;
		}
		opts->table = table;
	}
	if (opts->proto_arg) {
		if (pc_names_proto_id(names, opts->proto_arg, &proto) < 0) {
			mp_warnx("invalid protocol '%s'", opts->proto_arg);
			goto fail;
		}
		opts->protocol = (int)proto;
	}
	if (opts->dev && nl && pc_names_dev_index(names, opts->dev) < 0) {
		mp_warnx("no device '%s'", opts->dev);
		goto fail;
	}
	*ret = names;
	return 0;
fail:
	pc_names_free(names);
	return r;
}

/* Routes per table, protocol and family: the summary's "tables". */
struct group {
	char table[PC_NAME_LEN];
	char protocol[PC_NAME_LEN];
	int family;
	uint64_t routes;
};

struct emit_ctx {
	struct mp_writer *w;
	bool print;		/* a record per route or change (not: -q, prom) */
	long count;
	struct group *groups;
	size_t n_groups;
	size_t last;		/* the group of the route before: most runs are long */
};

static int group_add(struct emit_ctx *c, const struct pc_route *rt)
{
	struct group *g = c->n_groups ? &c->groups[c->last] : NULL;

	if (g && g->family == rt->family && !strcmp(g->table, rt->table) &&
	    !strcmp(g->protocol, rt->protocol)) {
		g->routes++;
		return 0;
	}
	for (size_t i = 0; i < c->n_groups; i++) {
		g = &c->groups[i];
		if (g->family == rt->family && !strcmp(g->table, rt->table) &&
		    !strcmp(g->protocol, rt->protocol)) {
			g->routes++;
			c->last = i;
			return 0;
		}
	}
	g = realloc(c->groups, (c->n_groups + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	c->groups = g;
	g = &g[c->n_groups];
	memcpy(g->table, rt->table, sizeof(g->table));
	memcpy(g->protocol, rt->protocol, sizeof(g->protocol));
	g->family = rt->family;
	g->routes = 1;
	c->last = c->n_groups++;
	return 0;
}

static int emit_route(const struct pc_route *rt, void *arg)
{
	struct emit_ctx *c = arg;
	int r = group_add(c, rt);

	c->count++;
	return r < 0 || !c->print ? r : pc_print_route(c->w, "route", rt, NULL, NULL, false);
}

/* The groups for machines (a Prometheus gauge each: table, protocol and
 * family are its labels), in the order first seen. */
static int put_groups(struct mp_writer *w, const void *arg)
{
	const struct emit_ctx *c = arg;
	int r;

	mp_writer_audience(w, MP_FOR_MACHINES);
	r = mp_arr_begin(w, "tables", NULL);
	for (size_t i = 0; i < c->n_groups && r == 0; i++) {
		const struct group *g = &c->groups[i];

		r = mp_obj_begin(w, NULL, NULL);
		if (r == 0)
			r = mp_put_label(w, "table", "%s", g->table);
		if (r == 0)
			r = mp_put_label(w, "protocol", "%s", g->protocol);
		if (r == 0)
			r = mp_put_label(w, "family", "%s",
					 g->family == AF_INET ? "inet" : "inet6");
		if (r == 0)
			r = mp_put_u64_notext(w, "routes", g->routes);
		if (r == 0)
			r = mp_obj_end(w);
	}
	if (r == 0)
		r = mp_arr_end(w);
	mp_writer_audience(w, MP_FOR_ALL);
	return r;
}

static int emit_change(const char *change, const struct pc_route *rt, void *arg)
{
	struct emit_ctx *c = arg;

	c->count++;
	return c->print ? pc_print_route(c->w, "change", rt, change, NULL, true) : 0;
}

static int run_list(struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
		    struct mp_writer *w, struct pc_result *res)
{
	enum mp_format f = mp_writer_format(w);
	struct emit_ctx c = { .w = w };
	char **addrs = NULL;
	size_t n_addrs = 0;
	int r;

	/* -q: the summary only; prom is the summary's gauges only */
	c.print = !opts->quiet && f != MP_FMT_PROM;
	r = pc_list(opts, nl, names, emit_route, &c);
	if (r < 0) {
		mp_warn(r, "listing the routes");
		goto out;
	}
	res->routes = c.count;
	res->failed = opts->prefix && c.count == 0;
	r = pc_self_addresses(nl, &addrs, &n_addrs);
	if (r < 0) {
		mp_warn(r, "reading the addresses");
		goto out;
	}
	r = pc_print_list_doc(w, opts, c.count, addrs, n_addrs, put_groups, &c);
	for (size_t i = 0; i < n_addrs; i++)
		free(addrs[i]);
	free(addrs);
	if (r < 0)
		mp_warn(r, "writing");
out:
	free(c.groups);
	return r;
}

static int run_watch(struct pc_opts *opts, struct pc_names *names, struct mp_writer *w,
		     struct pc_result *res)
{
	struct emit_ctx c = { .w = w, .print = !opts->quiet };
	int r;

	catch_signals();
	r = pc_watch(opts, names, emit_change, &c, &stop_flag);
	if (r < 0) {
		mp_warn(r, "watching the routes");
		return r;
	}
	res->routes = c.count;
	r = mp_doc_begin(w, NULL);
	if (r == 0)
		r = mp_put_u64(w, "change_count", "%" PRIu64 " changes", c.count);
	return r ? r : mp_doc_end(w);
}

static int run_nodes(struct pc_opts *opts, struct mp_writer *w, struct pc_result *res)
{
	struct pc_doc *docs = calloc((size_t)opts->n_nodes, sizeof(*docs));
	struct pc_mesh_result mr = { 0 };
	uint64_t total = 0;
	int r = 0, n = 0;

	if (!docs)
		return -ENOMEM;
	for (; n < opts->n_nodes; n++) {
		char err[256] = "", *buf = NULL;
		/* no document read past the total cap either */
		uint64_t cap = opts->max_total - total < opts->max_bytes ?
			       opts->max_total - total : opts->max_bytes;
		size_t len = 0;

		r = pc_fetch(opts, opts->nodes[n], cap, &buf, &len, err, sizeof(err));
		if (r == -EFBIG && cap < opts->max_bytes) {
			mp_warnx("%s: the documents total more than %" PRIu64
				 " bytes (--max-total)",
				 opts->nodes[n], opts->max_total);
			goto out;
		}
		total += len;
		if (r < 0) {
			mp_warnx("%s: %s", opts->nodes[n], err);
			goto out;
		}
		r = pc_doc_parse(buf, len, &docs[n], err, sizeof(err));
		free(buf);
		if (r < 0) {
			mp_warnx("%s: %s", opts->nodes[n], err);
			goto out;
		}
		if (!docs[n].node[0])
			snprintf(docs[n].node, sizeof(docs[n].node), "%s", opts->nodes[n]);
	}
	r = pc_mesh(opts, docs, (size_t)n, w, &mr);
	if (r < 0) {
		mp_warn(r, "mesh paths");
		goto out;
	}
	res->routes = mr.paths;
	res->failed = mr.loops || mr.blackholes;
out:
	for (int i = 0; i < n; i++)
		pc_doc_done(&docs[i]);
	free(docs);
	return r;
}

int pc_run(struct pc_opts *opts, struct mp_writer *w, struct pc_result *res)
{
	struct pc_names *names = NULL;
	struct mp_nl *nl = NULL;
	struct pc_diff_result dr = { 0 };
	int r;

	if (opts->mode == PC_NODES)
		return run_nodes(opts, w, res);
	r = mp_nl_new(&nl);
	if (r < 0) {
		mp_warn(r, "netlink");
		return r;
	}
	r = setup_names(opts, nl, &names);
	if (r < 0)
		goto out;
	switch (opts->mode) {
	case PC_LIST:
		r = run_list(opts, nl, names, w, res);
		break;
	case PC_WATCH:
		r = run_watch(opts, names, w, res);
		break;
	case PC_DIFF:
		r = pc_diff(opts, nl, names, w, &dr);
		res->routes = dr.added + dr.removed + dr.changed;
		res->failed = res->routes > 0;
		break;
	case PC_NODES:
		break;
	}
out:
	pc_names_free(names);
	mp_nl_free(nl);
	return r;
}
