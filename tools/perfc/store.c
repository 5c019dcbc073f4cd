/* SPDX-License-Identifier: MIT */
/*
 * perfc: the lean in-memory form of a document's routes. A snapshot or a
 * node document of 200,000 routes held as struct pc_route (700 bytes, and
 * a nexthop array of 350 each) takes 200 MB; here a route is about 80
 * bytes: the few distinct names (tables, protocols, types, scopes,
 * devices) and flag lists are interned once per document and referred to
 * by id, addresses are kept binary and written out again only for the
 * routes that are printed. libc only (the fuzz harness includes it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfc.h"

char *pc_put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* IPv4 by hand: glibc's inet_ntop formats it with sprintf, a tenth of a
 * route listing's time. */
size_t pc_addr_text(const struct mp_nl_addr *a, char *buf, size_t len)
{
	if (a->family == AF_INET && len >= INET_ADDRSTRLEN) {
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			p = pc_put_dec(p, a->bytes[i]);
			*p++ = '.';
		}
		p[-1] = '\0';
		return (size_t)(p - 1 - buf);
	}
	if (!a->family || !inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		buf[0] = '\0';
	return strlen(buf);
}

static uint32_t hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

int64_t pc_strs_find(const struct pc_strs *s, const char *p, size_t len)
{
	uint32_t mask = s->n_slots - 1;

	if (!s->n_slots)
		return len ? -1 : 0;
	for (uint32_t i = hash(p, len) & mask;; i = (i + 1) & mask) {
		uint32_t id = s->slot[i];

		if (!id)
			return -1;
		id--;
		if (s->blen[id] == len && !memcmp(s->data + s->off[id], p, len))
			return id;
	}
}

static int strs_grow_slots(struct pc_strs *s)
{
	uint32_t n = s->n_slots ? 2 * s->n_slots : 64, *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (uint32_t id = 0; id < s->n; id++) {
		uint32_t i = hash(s->data + s->off[id], s->blen[id]) & (n - 1);

		while (slot[i])
			i = (i + 1) & (n - 1);
		slot[i] = id + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->n_slots = n;
	return 0;
}

static int strs_put(struct pc_strs *s, const char *p, size_t len, uint32_t *id)
{
	uint32_t i;

	if (s->n == UINT32_MAX - 1 || len > UINT32_MAX - 1)
		return -ENOMEM;
	if (2 * (s->n + 1) > s->n_slots && strs_grow_slots(s) < 0)
		return -ENOMEM;
	if (s->n == s->n_cap) {
		uint32_t n = s->n_cap ? 2 * s->n_cap : 16;
		size_t *off = realloc(s->off, n * sizeof(*off));
		uint32_t *blen;

		if (!off)
			return -ENOMEM;
		s->off = off;
		blen = realloc(s->blen, n * sizeof(*blen));
		if (!blen)
			return -ENOMEM;
		s->blen = blen;
		s->n_cap = n;
	}
	if (s->cap - s->len < len + 1) {
		size_t n = s->cap ? 2 * s->cap : 256;
		char *d;

		while (n - s->len < len + 1)
			n *= 2;
		d = realloc(s->data, n);
		if (!d)
			return -ENOMEM;
		s->data = d;
		s->cap = n;
	}
	memcpy(s->data + s->len, p, len);
	s->data[s->len + len] = '\0';
	s->off[s->n] = s->len;
	s->blen[s->n] = (uint32_t)len;
	s->len += len + 1;
	for (i = hash(p, len) & (s->n_slots - 1); s->slot[i]; i = (i + 1) & (s->n_slots - 1))
		;
	s->slot[i] = s->n + 1;
	*id = s->n++;
	return 0;
}

int pc_strs_add(struct pc_strs *s, const char *p, size_t len, uint32_t *id)
{
	uint32_t *recent;
	int64_t found;

	if (!s->n && strs_put(s, "", 0, id) < 0)	/* id 0 is "" */
		return -ENOMEM;
	*id = 0;
	if (!len)
		return 0;
	recent = &s->recent[(len + (uint8_t)p[0]) & 15];
	if (*recent && s->blen[*recent - 1] == len &&
	    !memcmp(s->data + s->off[*recent - 1], p, len)) {
		*id = *recent - 1;
		return 0;
	}
	found = pc_strs_find(s, p, len);
	if (found >= 0)
		*id = (uint32_t)found;
	else if (strs_put(s, p, len, id) < 0)
		return -ENOMEM;
	*recent = *id + 1;
	return 0;
}

static void strs_done(struct pc_strs *s)
{
	free(s->data);
	free(s->off);
	free(s->blen);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

static int str_add(struct pc_doc *d, const char *s, uint32_t *id)
{
	return pc_strs_add(&d->strs, s, strlen(s), id);
}

/* A flag list as one string: the names, each NUL-terminated. */
static int flags_add(struct pc_doc *d, const char (*flags)[PC_NAME_LEN], unsigned n,
		     uint32_t *id)
{
	char buf[PC_FLAGS_MAX * PC_NAME_LEN];
	size_t len = 0;

	for (unsigned i = 0; i < n && i < PC_FLAGS_MAX; i++) {
		size_t l = strlen(flags[i]);

		memcpy(buf + len, flags[i], l + 1);
		len += l + 1;
	}
	return pc_strs_add(&d->strs, buf, len, id);
}

static unsigned flags_get(const struct pc_doc *d, uint32_t id, char (*flags)[PC_NAME_LEN])
{
	const char *p = pc_strs_get(&d->strs, id), *end = p + (d->strs.n ? d->strs.blen[id] : 0);
	unsigned n = 0;

	for (; p < end && n < PC_FLAGS_MAX; p += strlen(p) + 1)
		memcpy(flags[n++], p, strlen(p) + 1);
	return n;
}

/* An address's text (as pc_addr_text writes it) back into binary. */
static int addr_bin(const char *s, struct mp_nl_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	return inet_pton(a->family, s, a->bytes) == 1 ? 0 : -EINVAL;
}

static int arr_grow(void *pv, size_t *cap, size_t n, size_t size)
{
	void **p = pv, *v;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : 64;
	v = realloc(*p, c * size);
	if (!v)
		return -ENOMEM;
	*p = v;
	*cap = c;
	return 0;
}

int pc_doc_add(struct pc_doc *d, const struct pc_route *rt)
{
	struct pc_droute *o;

	if (rt->n_nh > UINT16_MAX || d->n_nhs + rt->n_nh > UINT32_MAX ||
	    arr_grow(&d->routes, &d->cap_routes, d->n_routes, sizeof(*d->routes)) < 0)
		return -ENOMEM;
	o = &d->routes[d->n_routes];
	memset(o, 0, sizeof(*o));
	o->family = (uint8_t)rt->family;
	o->dst_addr = rt->dst_addr;
	o->dst_len = (uint8_t)rt->dst_len;
	o->metric = (uint32_t)rt->metric;
	o->multipath = rt->multipath;
	if (rt->prefsrc[0] && addr_bin(rt->prefsrc, &o->prefsrc) < 0)
		return -EINVAL;
	if (str_add(d, rt->type, &o->type) < 0 || str_add(d, rt->table, &o->table) < 0 ||
	    str_add(d, rt->protocol, &o->protocol) < 0 || str_add(d, rt->scope, &o->scope) < 0 ||
	    flags_add(d, rt->flags, rt->n_flags, &o->flags) < 0)
		return -ENOMEM;
	o->nh = (uint32_t)d->n_nhs;
	for (unsigned i = 0; i < rt->n_nh; i++) {
		const struct pc_nh *in = &rt->nh[i];
		struct pc_dnh *nh;

		if (arr_grow(&d->nhs, &d->cap_nhs, d->n_nhs, sizeof(*d->nhs)) < 0)
			return -ENOMEM;
		nh = &d->nhs[d->n_nhs];
		memset(nh, 0, sizeof(*nh));
		if (in->gateway[0] && addr_bin(in->gateway, &nh->gateway) < 0)
			return -EINVAL;
		nh->weight = in->weight;
		if (str_add(d, in->dev, &nh->dev) < 0 ||
		    flags_add(d, in->flags, in->n_flags, &nh->flags) < 0)
			return -ENOMEM;
		d->n_nhs++;
	}
	o->n_nh = (uint16_t)rt->n_nh;
	d->n_routes++;
	return 0;
}

void pc_doc_route(const struct pc_doc *d, size_t i, struct pc_route *rt, struct pc_nh *nh)
{
	const struct pc_droute *o = &d->routes[i];
	size_t n;

	memset(rt, 0, sizeof(*rt));
	rt->family = o->family;
	snprintf(rt->type, sizeof(rt->type), "%s", pc_strs_get(&d->strs, o->type));
	rt->dst_addr = o->dst_addr;
	rt->dst_len = o->dst_len;
	n = pc_addr_text(&o->dst_addr, rt->dst, sizeof(rt->dst) - 5);
	rt->dst[n] = '/';
	*pc_put_dec(rt->dst + n + 1, o->dst_len) = '\0';
	snprintf(rt->table, sizeof(rt->table), "%s", pc_strs_get(&d->strs, o->table));
	snprintf(rt->protocol, sizeof(rt->protocol), "%s", pc_strs_get(&d->strs, o->protocol));
	snprintf(rt->scope, sizeof(rt->scope), "%s", pc_strs_get(&d->strs, o->scope));
	rt->metric = o->metric;
	pc_addr_text(&o->prefsrc, rt->prefsrc, sizeof(rt->prefsrc));
	rt->n_flags = flags_get(d, o->flags, rt->flags);
	rt->multipath = o->multipath;
	rt->n_nh = o->n_nh;
	rt->nh = o->n_nh ? nh : NULL;
	for (unsigned k = 0; k < o->n_nh; k++) {
		const struct pc_dnh *in = &d->nhs[o->nh + k];

		memset(&nh[k], 0, sizeof(nh[k]));
		pc_addr_text(&in->gateway, nh[k].gateway, sizeof(nh[k].gateway));
		snprintf(nh[k].dev, sizeof(nh[k].dev), "%s", pc_strs_get(&d->strs, in->dev));
		nh[k].weight = in->weight;
		nh[k].n_flags = flags_get(d, in->flags, nh[k].flags);
	}
	/* a single path is the route's gateway and dev too, as both readers fill it */
	if (!o->multipath && o->n_nh == 1) {
		memcpy(rt->gateway, nh[0].gateway, sizeof(rt->gateway));
		memcpy(rt->dev, nh[0].dev, sizeof(rt->dev));
	}
}

void pc_doc_done(struct pc_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_addresses; i++)
		free(doc->addresses[i]);
	free(doc->addresses);
	free(doc->routes);
	free(doc->nhs);
	strs_done(&doc->strs);
	memset(doc, 0, sizeof(*doc));
}
