/* SPDX-License-Identifier: MIT */
/*
 * perfc --nodes: walks, for every ordered pair of node documents (S, D),
 * the path a packet from S to D's first address would take, hop by hop
 * through the documents, the way each node's kernel would forward it:
 * longest prefix match over the tables "local", "main", "default" in that
 * order (the default rules; policy rules are not in the documents), lowest
 * metric among equal prefixes, the first nexthop of a multipath route. A
 * next hop is the node whose addresses[] holds the gateway (or, on a
 * directly connected route, the destination itself).
 *
 * Verdicts: ok (reached D), loop (a node seen twice), blackhole (a node has
 * no route, or a blackhole/unreachable/prohibit/throw route, or a local route
 * that is not D's), unknown (the next hop is no known node: the path leaves
 * the documents). A pair is asymmetric when both directions are ok and the
 * node sequence S..D is not the reverse of D..S.
 *
 * The lookup is by hash (struct lpm): one probe per prefix length present
 * in a table, not a scan of every route, so 200 nodes of 5,000 routes each
 * cost milliseconds, not seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfc.h"

enum {
	MESH_MAX_HOPS = 64,
	MESH_MAX_NODES = 512,
};

struct path {
	int hop[MESH_MAX_HOPS + 1];	/* node indexes, hop[0] = source */
	int n;				/* entries in hop[] */
	const char *status;		/* "ok", "loop", "blackhole", "unknown", "no-address" */
	char reason[160];		/* why it ended there */
	bool asymmetric;
};

static const char *const tables[] = { "local", "main", "default" };

/* A document's routes of the tables above by (table, prefix): the route a
 * lookup picks among equal prefixes (lowest metric, then the first). */
struct lpm {
	uint32_t *slot;		/* route index + 1, 0 = empty */
	size_t n_slots;		/* a power of two */
	int64_t table[MP_ARRAY_SIZE(tables)];	/* string ids, -1 = no such table */
	bool len[MP_ARRAY_SIZE(tables)][2][129];	/* [table][v6][prefix length] present */
};

struct mesh {
	struct pc_doc *docs;
	struct lpm *lpm;
	size_t n;
	char (*label)[PC_NODE_LEN];	/* row/column names */
	struct mp_nl_addr *target;	/* each node's first address; family 0 = none */
	struct path *paths;		/* n x n */
};

static int owner(const struct mesh *m, const char *addr)
{
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->docs[i].n_addresses; k++)
			if (!strcmp(m->docs[i].addresses[k], addr))
				return (int)i;
	return -1;
}

static size_t lpm_hash(int k, const struct mp_nl_addr *a, unsigned len)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(k * 131 + len);

	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->bytes[i]) * 1099511628211ULL;
	return (size_t)(h ^ h >> 29);
}

static int table_of(const struct lpm *l, const struct pc_droute *o)
{
	for (size_t k = 0; k < MP_ARRAY_SIZE(tables); k++)
		if (l->table[k] == o->table)
			return (int)k;
	return -1;
}

/* The slot of (table k, prefix a/len) in l: its route or the empty one. */
static uint32_t *lpm_slot(const struct lpm *l, const struct pc_doc *d, int k,
			  const struct mp_nl_addr *a, unsigned len)
{
	size_t mask = l->n_slots - 1;

	for (size_t i = lpm_hash(k, a, len) & mask;; i = (i + 1) & mask) {
		const struct pc_droute *o;

		if (!l->slot[i])
			return &l->slot[i];
		o = &d->routes[l->slot[i] - 1];
		if (o->table == l->table[k] && o->dst_len == len &&
		    o->dst_addr.family == a->family && !memcmp(o->dst_addr.bytes, a->bytes, 16))
			return &l->slot[i];
	}
}

static int lpm_build(struct lpm *l, const struct pc_doc *d)
{
	l->n_slots = 64;
	while (l->n_slots < 2 * d->n_routes)
		l->n_slots *= 2;
	l->slot = calloc(l->n_slots, sizeof(*l->slot));
	if (!l->slot)
		return -ENOMEM;
	for (size_t k = 0; k < MP_ARRAY_SIZE(tables); k++)
		l->table[k] = pc_strs_find(&d->strs, tables[k], strlen(tables[k]));
	for (size_t i = 0; i < d->n_routes; i++) {
		const struct pc_droute *o = &d->routes[i];
		int k = table_of(l, o);
		uint32_t *slot;

		if (k < 0 || (o->dst_addr.family != AF_INET && o->dst_addr.family != AF_INET6))
			continue;
		slot = lpm_slot(l, d, k, &o->dst_addr, o->dst_len);
		if (!*slot || o->metric < d->routes[*slot - 1].metric)
			*slot = (uint32_t)i + 1;
		l->len[k][o->dst_addr.family == AF_INET6][o->dst_len] = true;
	}
	return 0;
}

/* Longest prefix match over the tables local, main, default in that order. */
static const struct pc_droute *lookup(const struct pc_doc *d, const struct lpm *l,
				      const struct mp_nl_addr *t)
{
	unsigned full = t->family == AF_INET ? 32 : 128;

	for (size_t k = 0; k < MP_ARRAY_SIZE(tables); k++) {
		if (l->table[k] < 0)
			continue;
		for (int len = (int)full; len >= 0; len--) {
			struct mp_nl_addr a = { .family = t->family };
			uint32_t *slot;

			if (!l->len[k][t->family == AF_INET6][len])
				continue;
			memcpy(a.bytes, t->bytes, (size_t)len / 8);
			if (len % 8)
				a.bytes[len / 8] =
					(uint8_t)(t->bytes[len / 8] & (0xff << (8 - len % 8)));
			slot = lpm_slot(l, d, (int)k, &a, (unsigned)len);
			if (*slot)
				return &d->routes[*slot - 1];
		}
	}
	return NULL;
}

static bool is_blackhole_type(const char *type)
{
	return !strcmp(type, "blackhole") || !strcmp(type, "unreachable") ||
	       !strcmp(type, "prohibit") || !strcmp(type, "throw");
}

static bool owns(const struct pc_doc *d, const char *addr)
{
	for (size_t k = 0; k < d->n_addresses; k++)
		if (!strcmp(d->addresses[k], addr))
			return true;
	return false;
}

static void trace(const struct mesh *m, int s, int dst, struct path *p)
{
	char taddr[PC_ADDR_LEN];
	int cur = s;

	p->n = 1;
	p->hop[0] = s;
	p->status = "ok";
	p->reason[0] = '\0';
	if (!m->target[dst].family) {
		p->status = "no-address";
		snprintf(p->reason, sizeof(p->reason), "%s lists no address", m->label[dst]);
		return;
	}
	snprintf(taddr, sizeof(taddr), "%s", m->docs[dst].addresses[0]);
	while (!owns(&m->docs[cur], taddr)) {
		const struct pc_doc *d = &m->docs[cur];
		const struct pc_droute *rt = lookup(d, &m->lpm[cur], &m->target[dst]);
		char gw[PC_ADDR_LEN], pfx[PC_PREFIX_LEN];
		const char *next_addr, *type;
		size_t n;
		int next;

		if (!rt) {
			p->status = "blackhole";
			snprintf(p->reason, sizeof(p->reason), "no route to %s at %s", taddr,
				 m->label[cur]);
			return;
		}
		type = pc_strs_get(&d->strs, rt->type);
		if (is_blackhole_type(type) || !strcmp(type, "local")) {
			n = pc_addr_text(&rt->dst_addr, pfx, sizeof(pfx) - 5);
			snprintf(pfx + n, sizeof(pfx) - n, "/%u", rt->dst_len);
			p->status = "blackhole";
			snprintf(p->reason, sizeof(p->reason), "%s route %s at %s", type, pfx,
				 m->label[cur]);
			return;
		}
		gw[0] = '\0';
		if (rt->n_nh)
			pc_addr_text(&d->nhs[rt->nh].gateway, gw, sizeof(gw));
		next_addr = gw[0] ? gw : taddr;
		next = owner(m, next_addr);
		if (next < 0) {
			p->status = "unknown";
			snprintf(p->reason, sizeof(p->reason), "next hop %s of %s is no known node",
				 next_addr, m->label[cur]);
			return;
		}
		for (int i = 0; i < p->n; i++) {
			if (p->hop[i] == next) {
				p->hop[p->n++] = next;
				p->status = "loop";
				snprintf(p->reason, sizeof(p->reason), "%s is reached twice",
					 m->label[next]);
				return;
			}
		}
		if (p->n > MESH_MAX_HOPS) {
			p->status = "loop";
			snprintf(p->reason, sizeof(p->reason), "more than %d hops", MESH_MAX_HOPS);
			return;
		}
		p->hop[p->n++] = next;
		cur = next;
	}
}

static bool reverse_equal(const struct path *a, const struct path *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (a->hop[i] != b->hop[b->n - 1 - i])
			return false;
	return true;
}

static void cell_text(const struct mesh *m, const struct path *p, char *buf, size_t len)
{
	const char *next = p->n > 1 ? m->label[p->hop[1]] : "-";

	if (!strcmp(p->status, "ok"))
		snprintf(buf, len, "%s%s", next, p->asymmetric ? " (asym)" : "");
	else
		snprintf(buf, len, "%s (%s)", next, p->status);
}

static int print_path(struct mp_writer *w, const struct mesh *m, int s, int d,
		      const struct path *p)
{
	mp_record_begin(w, "path");
	mp_put_str(w, "src", "%s", m->label[s]);
	mp_put_str_notext(w, "src_node", m->docs[s].node);
	mp_put_str(w, "dst", "%s", m->label[d]);
	mp_put_str_notext(w, "dst_node", m->docs[d].node);
	mp_put_str(w, "addr", "%s",
		   m->docs[d].n_addresses ? m->docs[d].addresses[0] : "");
	mp_put_str(w, "next_hop", "%s", p->n > 1 ? m->label[p->hop[1]] : "");
	mp_put_str(w, "status", "%s", p->status);
	mp_put_bool(w, "asymmetric", "%s", p->asymmetric);
	mp_put_u64(w, "hops", "%" PRIu64 "", p->n - 1);
	mp_arr_begin(w, "path", NULL);
	for (int i = 0; i < p->n; i++)
		mp_put_str(w, NULL, "%s", m->label[p->hop[i]]);
	mp_arr_end(w);
	mp_put_str(w, "reason", "%s", p->reason);
	return mp_record_end(w);
}

static int print_doc(struct mp_writer *w, const struct mesh *m,
		     const struct pc_mesh_result *res)
{
	char cell[PC_NODE_LEN + 32];
	mp_doc_begin(w, NULL);
	mp_put_u64(w, "nodes", "%" PRIu64 " nodes", m->n);
	mp_put_u64(w, "path_count", "%" PRIu64 " paths", res->paths);
	mp_put_u64(w, "loops", "%" PRIu64 " loops", res->loops);
	mp_put_u64(w, "blackholes", "%" PRIu64 " black holes", res->blackholes);
	mp_put_u64(w, "asymmetric", "%" PRIu64 " asymmetric", res->asymmetric);
	mp_arr_begin(w, "matrix", "next hop from (row) to (column)");
	for (size_t s = 0; s < m->n; s++) {
		mp_obj_begin(w, NULL, NULL);
		mp_put_str(w, "from", "%s", m->label[s]);
		for (size_t d = 0; d < m->n; d++) {
			if (s == d)
				snprintf(cell, sizeof(cell), "-");
			else
				cell_text(m, &m->paths[s * m->n + d], cell, sizeof(cell));
			mp_put_str(w, m->label[d], "%s", cell);
		}
		mp_obj_end(w);
	}
	mp_arr_end(w);
	return mp_doc_end(w);
}

/* Row and column names: sites when every node has a distinct one, else nodes. */
static void make_labels(struct mesh *m)
{
	bool sites = true;

	for (size_t i = 0; i < m->n && sites; i++) {
		sites = m->docs[i].site[0] != '\0';
		for (size_t k = 0; k < i && sites; k++)
			sites = strcmp(m->docs[i].site, m->docs[k].site) != 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *s = sites ? m->docs[i].site : m->docs[i].node;

		if (s[0])
			snprintf(m->label[i], PC_NODE_LEN, "%s", s);
		else
			snprintf(m->label[i], PC_NODE_LEN, "node%zu", i);
		for (size_t k = 0; k < i; k++)	/* still a clash: number it */
			if (!strcmp(m->label[i], m->label[k]))
				snprintf(m->label[i], PC_NODE_LEN, "node%zu", i);
	}
}

int pc_mesh(const struct pc_opts *opts, struct pc_doc *docs, size_t n_docs,
	    struct mp_writer *w, struct pc_mesh_result *res)
{
	struct mesh m = { .docs = docs, .n = n_docs };
	int r = -ENOMEM;

	(void)opts;
	if (n_docs > MESH_MAX_NODES)
		return -E2BIG;
	m.label = calloc(n_docs, sizeof(*m.label));
	m.target = calloc(n_docs, sizeof(*m.target));
	m.paths = calloc(n_docs * n_docs, sizeof(*m.paths));
	m.lpm = calloc(n_docs, sizeof(*m.lpm));
	if (!m.label || !m.target || !m.paths || !m.lpm)
		goto out;
	for (size_t i = 0; i < n_docs; i++)
		if (lpm_build(&m.lpm[i], &docs[i]) < 0)
			goto out;
	make_labels(&m);
	for (size_t i = 0; i < n_docs; i++)
		if (docs[i].n_addresses)
			pc_addr_canon(docs[i].addresses[0], (char[PC_ADDR_LEN]){ 0 }, PC_ADDR_LEN,
				      &m.target[i]);
	for (size_t s = 0; s < n_docs; s++)
		for (size_t d = 0; d < n_docs; d++)
			if (s != d)
				trace(&m, (int)s, (int)d, &m.paths[s * n_docs + d]);
	for (size_t s = 0; s < n_docs; s++) {
		for (size_t d = 0; d < n_docs; d++) {
			struct path *p = &m.paths[s * n_docs + d], *q = &m.paths[d * n_docs + s];

			if (s == d)
				continue;
			res->paths++;
			res->loops += !strcmp(p->status, "loop");
			res->blackholes += !strcmp(p->status, "blackhole");
			p->asymmetric = !strcmp(p->status, "ok") && !strcmp(q->status, "ok") &&
					!reverse_equal(p, q);
			if (p->asymmetric && s < d)
				res->asymmetric++;	/* counted once per pair */
		}
	}
	r = 0;
	for (size_t s = 0; s < n_docs && r == 0; s++)
		for (size_t d = 0; d < n_docs && r == 0; d++)
			if (s != d)
				r = print_path(w, &m, (int)s, (int)d, &m.paths[s * n_docs + d]);
	if (r == 0)
		r = print_doc(w, &m, res);
out:
	for (size_t i = 0; m.lpm && i < n_docs; i++)
		free(m.lpm[i].slot);
	free(m.lpm);
	free(m.label);
	free(m.target);
	free(m.paths);
	return r;
}
