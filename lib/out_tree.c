/* SPDX-License-Identifier: MIT */
/* out: the node tree a unit is built in before it is rendered. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "out_int.h"

struct out_node *out_node_new(enum out_kind kind, const char *key, const char *title)
{
	struct out_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	if ((key && !(n->key = strdup(key))) || (title && !(n->title = strdup(title)))) {
		out_node_free(n);
		return NULL;
	}
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

void out_node_free(struct out_node *n)
{
	while (n) {
		struct out_node *next = n->next;

		out_node_free(n->child);
		if (n->kind == OUT_STR)
			free(n->v.s);
		free(n->key);
		free(n->title);
		free(n->text);
		free(n);
		n = next;
	}
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

static int visit(const struct out_node *n, char *path, size_t len, size_t at,
		 out_visit_fn fn, void *ctx)
{
	for (const struct out_node *k = n->child; k; k = k->next) {
		int m = snprintf(path + at, len - at, "%s%s", at ? "." : "", k->key ? k->key : "");
		int r = 0;

		if (m < 0 || (size_t)m >= len - at)
			return -ENAMETOOLONG;
		if (out_node_is_scalar(k) || is_scalar_array(k))
			r = fn(k, path, ctx);
		else if (k->kind == OUT_OBJ)
			r = visit(k, path, len, at + (size_t)m, fn, ctx);
		path[at] = '\0';
		if (r < 0)
			return r;
	}
	return 0;
}

int out_node_visit(const struct out_node *n, out_visit_fn fn, void *ctx)
{
	char path[512] = "";

	return visit(n, path, sizeof(path), 0, fn, ctx);
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
