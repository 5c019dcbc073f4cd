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

/* n bytes, not zeroed. */
static void *arena_take(struct out_arena *a, size_t n)
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
	return p;
}

void *out_arena_alloc(struct out_arena *a, size_t n)
{
	void *p = arena_take(a, n);

	return p ? memset(p, 0, n) : NULL;
}

char *out_arena_strdup(struct out_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = arena_take(a, n);

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
		size_t kl, m;
		int r = 0;

		if (text ? k->notext : k->textonly && !n->textonly)
			continue;
		if (text) {	/* text rows are headed by keys, not paths */
			if (out_node_is_scalar(k) || is_scalar_array(k))
				r = fn(k, "", ctx);
			else if (k->kind == OUT_OBJ)
				r = visit(k, path, len, at, text, fn, ctx);
			if (r < 0)
				return r;
			continue;
		}
		/* by hand: this runs for every field of every record */
		kl = k->key ? strlen(k->key) : 0;
		m = kl + (at ? 1 : 0);
		if (m >= len - at)
			return -ENAMETOOLONG;
		if (at)
			path[at] = '.';
		memcpy(path + at + (at ? 1 : 0), k->key ? k->key : "", kl);
		path[at + m] = '\0';
		if (out_node_is_scalar(k) || is_scalar_array(k))
			r = fn(k, path, ctx);
		else if (k->kind == OUT_OBJ)
			r = visit(k, path, len, at + m, text, fn, ctx);
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

/* Does key end in suffix (a unit: "_ms")? */
static bool key_unit(const char *key, const char *suffix)
{
	size_t kl = key ? strlen(key) : 0, sl = strlen(suffix);

	return kl > sl && !memcmp(key + kl - sl, suffix, sl);
}

/* Drops trailing zeros after a decimal point, and the point; "-0" is "0". */
static int strip_zeros(char *buf, int n)
{
	if (memchr(buf, '.', (size_t)n) && !memchr(buf, 'e', (size_t)n)) {
		while (buf[n - 1] == '0')
			n--;
		if (buf[n - 1] == '.')
			n--;
		buf[n] = '\0';
	}
	if (!strcmp(buf, "-0")) {
		buf[0] = '0';
		buf[1] = '\0';
		n = 1;
	}
	return n;
}

int out_csv_double(const char *key, double v, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		int decimals;
	} units[] = { { "_ms", 6 }, { "_us", 3 }, { "_ns", -1 }, { "_s", 9 } };
	int n = -1, decimals = 0;
	double a = fabs(v);

	if (!isfinite(v))
		return len ? (buf[0] = '\0', 0) : -ENOSPC;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (key_unit(key, units[i].suffix)) {
			if (units[i].decimals < 0)	/* ns: as ever */
				n = snprintf(buf, len, "%.15g", v);
			else
				n = snprintf(buf, len, "%.*f", units[i].decimals, v);
			goto out;
		}
	}
	/* 6 significant digits, written out in full between 1e-6 and 1e15 */
	if (a == 0) {
		n = snprintf(buf, len, "0");
	} else if (a < 1e-6 || a >= 1e15) {
		n = snprintf(buf, len, "%.6g", v);
	} else {
		int e = (int)floor(log10(a));

		if (e >= 5) {
			double step = pow(10, e - 5);

			n = snprintf(buf, len, "%.0f", round(v / step) * step);
		} else {
			decimals = 5 - e;
			n = snprintf(buf, len, "%.*f", decimals, v);
		}
	}
out:
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return strip_zeros(buf, n);
}

/* The key whose unit a number has: its own, else that of the nearest
 * object around it that has one (owd's forward.owd_ms.mean is in ms). */
static const char *unit_key(const struct out_node *n)
{
	static const char *const suffixes[] = { "_ms", "_us", "_ns", "_s" };

	for (const struct out_node *p = n; p; p = p->parent)
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
			if (key_unit(p->key, suffixes[i]))
				return p->key;
	return n->key;
}

static int scalar_value(const struct out_node *n, const char *key, char *buf, size_t len)
{
	switch (n->kind) {
	case OUT_U64:
		return snprintf(buf, len, "%" PRIu64, n->v.u);
	case OUT_I64:
		return snprintf(buf, len, "%" PRId64, n->v.i);
	case OUT_F64:
		return out_csv_double(key, n->v.f, buf, len);
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
		int m = scalar_value(n, unit_key(n), buf, len);

		return m < 0 || (size_t)m >= len ? -ENOSPC : m;
	}
	buf[0] = '\0';
	for (const struct out_node *k = n->child; k; k = k->next) {
		int m = snprintf(buf + at, len - at, "%s", at ? " " : "");

		if (m < 0 || (size_t)m >= len - at)
			return -ENOSPC;
		at += (size_t)m;
		m = scalar_value(k, unit_key(n), buf + at, len - at);	/* the array's unit */
		if (m < 0 || (size_t)m >= len - at)
			return -ENOSPC;
		at += (size_t)m;
	}
	return (int)at;
}

/* The writer's output buffer. */
int out_buf_grow(struct out_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap - b->len < n)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int out_pad(struct out_buf *b, size_t n)
{
	if (!n)
		return 0;	/* b->p may be NULL yet */
	if (b->cap - b->len < n && out_buf_grow(b, n) < 0)
		return -ENOMEM;
	memset(b->p + b->len, ' ', n);
	b->len += n;
	return 0;
}

size_t out_u64_text(char *buf, uint64_t v)
{
	char t[24];
	size_t n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	return n;
}

int out_flush(struct mp_writer *w)
{
	size_t n = w->obuf.len;

	w->obuf.len = w->obuf_done = 0;
	if (n && fwrite(w->obuf.p, 1, n, w->f) != n)
		return errno ? -errno : -EIO;
	return 0;
}
