/* SPDX-License-Identifier: MIT */
/* out: the node tree a unit is built in before it is rendered, and its arena. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "out_int.h"

enum { BLOCK_BYTES = 16384 };

struct out_block {
	struct out_block *next;
	size_t used, cap;
	max_align_t data[];
};

void *out_arena_alloc(struct out_arena *a, size_t n)
{
	struct out_block *b = a->head;
	char *p;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!b || b->cap - b->used < n) {
		size_t cap = n > BLOCK_BYTES ? n : BLOCK_BYTES;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		/* a big one-off block goes behind the current one */
		if (a->head && n > BLOCK_BYTES) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return memset(p, 0, n);
}

char *out_arena_strdup(struct out_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = out_arena_alloc(a, n);

	return d ? memcpy(d, s, n) : NULL;
}

void out_arena_reset(struct out_arena *a)
{
	struct out_block *keep = a->head;

	if (!keep)
		return;
	for (struct out_block *b = keep->next, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	keep->next = NULL;
	keep->used = 0;
}

void out_arena_done(struct out_arena *a)
{
	out_arena_reset(a);
	free(a->head);
	a->head = NULL;
}

struct out_node *out_node_new(struct out_arena *a, enum out_kind kind, const char *key,
			      const char *title)
{
	struct out_node *n = out_arena_alloc(a, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	if ((key && !(n->key = out_arena_strdup(a, key))) ||
	    (title && !(n->title = out_arena_strdup(a, title))))
		return NULL;
	return n;
}

void out_node_add(struct out_node *parent, struct out_node *n)
{
	n->parent = parent;
	if (parent->last)
		parent->last->next = n;
	else
		parent->child = n;
	parent->last = n;
}

bool out_node_is_scalar(const struct out_node *n)
{
	return n->kind != OUT_OBJ && n->kind != OUT_ARR;
}

static bool is_scalar_array(const struct out_node *n)
{
	if (n->kind != OUT_ARR)
		return false;
	for (const struct out_node *k = n->child; k; k = k->next)
		if (!out_node_is_scalar(k))
			return false;
	return true;
}

static int visit(const struct out_node *n, char *path, size_t len, size_t at, bool text,
		 out_visit_fn fn, void *ctx)
{
	for (const struct out_node *k = n->child; k; k = k->next) {
		int m, r = 0;

		if (text ? k->notext : k->textonly && !n->textonly)
			continue;
		m = snprintf(path + at, len - at, "%s%s", at ? "." : "", k->key ? k->key : "");
		if (m < 0 || (size_t)m >= len - at)
			return -ENAMETOOLONG;
		if (out_node_is_scalar(k) || is_scalar_array(k))
			r = fn(k, path, ctx);
		else if (k->kind == OUT_OBJ)
			r = visit(k, path, len, at + (size_t)m, text, fn, ctx);
		path[at] = '\0';
		if (r < 0)
			return r;
	}
	return 0;
}

int out_node_visit(const struct out_node *n, out_visit_fn fn, void *ctx)
{
	char path[512] = "";

	return visit(n, path, sizeof(path), 0, false, fn, ctx);
}

int out_node_visit_text(const struct out_node *n, out_visit_fn fn, void *ctx)
{
	char path[512] = "";

	return visit(n, path, sizeof(path), 0, true, fn, ctx);
}

static int scalar_value(const struct out_node *n, char *buf, size_t len)
{
	switch (n->kind) {
	case OUT_U64:
		return snprintf(buf, len, "%" PRIu64, n->v.u);
	case OUT_I64:
		return snprintf(buf, len, "%" PRId64, n->v.i);
	case OUT_F64:
		return isfinite(n->v.f) ? snprintf(buf, len, "%.15g", n->v.f)
					: snprintf(buf, len, "%s", "");
	case OUT_BOOL:
		return snprintf(buf, len, "%s", n->v.b ? "true" : "false");
	case OUT_STR:
		return snprintf(buf, len, "%s", n->v.s);
	default:
		return snprintf(buf, len, "%s", "");
	}
}

int out_node_value(const struct out_node *n, char *buf, size_t len)
{
	size_t at = 0;

	if (out_node_is_scalar(n)) {
		int m = scalar_value(n, buf, len);

		return m < 0 || (size_t)m >= len ? -ENOSPC : m;
	}
	buf[0] = '\0';
	for (const struct out_node *k = n->child; k; k = k->next) {
		int m = snprintf(buf + at, len - at, "%s", at ? " " : "");

		if (m < 0 || (size_t)m >= len - at)
			return -ENOSPC;
		at += (size_t)m;
		m = scalar_value(k, buf + at, len - at);
		if (m < 0 || (size_t)m >= len - at)
			return -ENOSPC;
		at += (size_t)m;
	}
	return (int)at;
}
