/* SPDX-License-Identifier: MIT */
/*
 * out: a writer's finished units sent over a file descriptor by the process
 * that built them (mp_writer_forward) and rendered by the one that owns the
 * output (mp_writer_replay). Both are the same program (a fork), so numbers
 * travel in host byte order. A unit:
 *
 *	u8 'R' u64 time str type node	a record
 *	u8 'D' u64 time node		a summary document (its title on the root)
 *	u8 'T' str type			mp_writer_set_table
 *
 * time: when the unit was written (CLOCK_REALTIME ns), for its "time" key.
 *
 * node: u8 kind, u8 flags (1 shown, 2 label, 4 text-only, 8 not text), u8 text_left, str key, str title, str text,
 * then the value (u64/i64/f64: 8 bytes; str: str; bool: u8) or, for a
 * container, u32 n and its n children. str: u32 length (0xffffffff: NULL)
 * and the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "out_int.h"

enum { NO_STR = 0xffffffffu, MAX_DEPTH = 64 };

struct fbuf {
	char *p;
	size_t n, cap;
	int err;
};

static void put(struct fbuf *b, const void *v, size_t n)
{
	if (b->err || !n)	/* v may be NULL then (an empty string) */
		return;
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap - b->n < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, v, n);
	b->n += n;
}

static void put_u8(struct fbuf *b, uint8_t v) { put(b, &v, 1); }
static void put_u32(struct fbuf *b, uint32_t v) { put(b, &v, 4); }

static void put_str(struct fbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	put_u32(b, s ? (uint32_t)n : NO_STR);
	put(b, s, n);
}

static void put_node(struct fbuf *b, const struct out_node *n)
{
	uint32_t k = 0;

	put_u8(b, (uint8_t)n->kind);
	put_u8(b, (uint8_t)(n->shown | n->label << 1 | n->textonly << 2 | n->notext << 3 |
			    n->alert << 4));
	put_u8(b, n->text_left);
	put_str(b, n->key);
	put_str(b, n->title);
	put_str(b, n->text);
	switch (n->kind) {
	case OUT_U64: case OUT_I64: case OUT_F64:
		put(b, &n->v, 8);
		break;
	case OUT_STR:
		put_str(b, n->v.s);
		break;
	case OUT_BOOL:
		put_u8(b, n->v.b);
		break;
	case OUT_OBJ: case OUT_ARR:
		for (const struct out_node *c = n->child; c; c = c->next)
			k++;
		put_u32(b, k);
		for (const struct out_node *c = n->child; c; c = c->next)
			put_node(b, c);
		break;
	}
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int out_fwd_unit(struct mp_writer *w, char tag, const char *type, const struct out_node *root)
{
	struct fbuf b = { 0 };
	int r;

	put_u8(&b, (uint8_t)tag);
	if (tag != 'T') {
		uint64_t now = mp_clock_real_ns();

		put(&b, &now, 8);
	}
	if (tag != 'D')
		put_str(&b, type);
	if (root)
		put_node(&b, root);
	r = b.err ? b.err : send_all(w->fwd_fd, b.p, b.n);
	free(b.p);
	return r;
}

int mp_writer_forward(struct mp_writer *w, int fd)
{
	if (fd < 0 || w->root)
		return -EINVAL;
	w->fwd_fd = fd;
	w->fwd = true;
	return 0;
}

/* Replay. */
struct cursor {
	const char *p;
	size_t n;
	bool bad;
};

static const void *get(struct cursor *c, size_t n)
{
	const char *p = c->p;

	if (c->bad || c->n < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->n -= n;
	return p;
}

static uint8_t get_u8(struct cursor *c)
{
	const uint8_t *p = get(c, 1);

	return p ? *p : 0;
}

static uint32_t get_u32(struct cursor *c)
{
	const void *p = get(c, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

/* A string copied into the unit's arena; *s NULL for a NULL string. */
static void get_str(struct cursor *c, struct out_arena *a, char **s)
{
	uint32_t n = get_u32(c);
	const char *p;

	*s = NULL;
	if (c->bad || n == NO_STR)
		return;
	p = get(c, n);
	if (p && (*s = out_arena_alloc(a, (size_t)n + 1)))
		memcpy(*s, p, n);
	else
		c->bad = true;
}

static struct out_node *get_node(struct cursor *c, struct out_arena *a, unsigned depth)
{
	struct out_node *n = out_arena_alloc(a, sizeof(*n));
	uint8_t kind = get_u8(c), flags = get_u8(c), left = get_u8(c);
	uint32_t k;

	if (!n || kind > OUT_BOOL || depth > MAX_DEPTH) {
		c->bad = true;
		return NULL;
	}
	n->kind = kind;
	n->shown = flags & 1;
	n->label = flags >> 1 & 1;
	n->textonly = flags >> 2 & 1;
	n->alert = flags >> 4 & 1;
	n->notext = flags >> 3 & 1;
	n->text_left = left;
	get_str(c, a, &n->key);
	get_str(c, a, &n->title);
	get_str(c, a, &n->text);
	switch (n->kind) {
	case OUT_U64: case OUT_I64: case OUT_F64: {
		const void *p = get(c, 8);

		if (p)
			memcpy(&n->v, p, 8);
		break;
	}
	case OUT_STR:
		get_str(c, a, &n->v.s);
		if (!n->v.s)
			c->bad = true;
		break;
	case OUT_BOOL:
		n->v.b = get_u8(c) != 0;
		break;
	case OUT_OBJ: case OUT_ARR:
		k = get_u32(c);
		for (uint32_t i = 0; i < k && !c->bad; i++) {
			struct out_node *ch = get_node(c, a, depth + 1);

			if (ch)
				out_node_add(n, ch);
		}
		break;
	}
	return c->bad ? NULL : n;
}

/* One unit of c rendered through w. */
static int replay_unit(struct mp_writer *w, struct cursor *c)
{
	uint8_t tag = get_u8(c);
	char *type = NULL;
	const void *p;
	int r;

	if (tag == 'T') {
		get_str(c, &w->arena, &type);
		return c->bad || !type ? -EBADMSG : mp_writer_set_table(w, type);
	}
	if (tag != 'R' && tag != 'D')
		return -EBADMSG;
	p = get(c, 8);
	if (p)
		memcpy(&w->unit_time_ns, p, 8);
	out_arena_reset(&w->arena);
	if (tag == 'R')
		get_str(c, &w->arena, &type);
	w->root = get_node(c, &w->arena, 0);
	if (!w->root || w->root->kind != OUT_OBJ || (tag == 'R') != (type != NULL)) {
		w->root = NULL;
		return -EBADMSG;
	}
	w->cur = w->root;
	w->unit_type = type;
	r = tag == 'R' ? mp_record_end(w) : mp_doc_end(w);
	w->unit_time_ns = 0;
	return r;
}

int mp_writer_replay(struct mp_writer *w, int fd)
{
	struct stat st;
	struct cursor c;
	void *m;
	int r = 0;

	if (w->err)
		return w->err;
	if (w->root || w->fwd)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	c = (struct cursor){ m, (size_t)st.st_size, false };
	while (r == 0 && c.n)
		r = replay_unit(w, &c);
	munmap(m, (size_t)st.st_size);
	return r;
}
