/* SPDX-License-Identifier: MIT */
/*
 * out: the text and csv renderers.
 *
 * Text: records are rows of a table whose header (the field keys) is printed
 * before the first row of each record type. Rows stream: a column is as wide
 * as the widest cell printed so far, so a cell wider than its column widens
 * it (with room for two more characters, so that it seldom happens twice)
 * and the header is printed again above that row, in step with the rows
 * that follow; no row is ever shifted against the header above it. A batch
 * writer holds a table's first rows to size it and drop its empty columns
 * (struct out_text_table). Rows are rendered into the writer's buffer.
 * Colour (a terminal, --color; out.h): titles and table headers bold,
 * alert cells red, added around the padded text so that widths stay as
 * they are. The document is a block: its title, a line
 * of its own fields, then one line per nested object ("title: a, b, c"),
 * indented by depth; an array of objects is a table, aligned over all rows.
 *
 * Csv: one table per stream (see out.h); nested keys are joined with '.';
 * strings are quoted by libcsv when they need it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "out_int.h"

#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[31m"
#define SGR_OFF "\033[0m"

enum {
	TEXT_INDENT = 2,
	TEXT_HOLD_ROWS = 1024,	/* rows a batch writer holds to size its columns */
};

struct cell {
	const char *hdr;	/* column header (field key or title) */
	const char *s;		/* formatted cell; "-" when empty */
	size_t len;		/* of s */
	size_t width;		/* terminal columns of s */
	bool left;		/* left-aligned (strings) */
	bool alert;		/* red in colour (mp_writer_alert) */
	bool str, textonly;	/* the field's: a direct row made into nodes again */
	bool empty;		/* no value, "-" or blank: the column may be dropped */
	char *owned;		/* a joined scalar-array cell, freed with the row */
};

struct row {
	struct cell *c;
	size_t left_cols;	/* text-only cells left-aligned in columns below this */
	size_t n, cap;
};

/*
 * The table of streamed records being printed. A batch writer (not live)
 * holds its first TEXT_HOLD_ROWS rows, then prints them under columns as
 * wide as they need, leaving out the columns that are empty in all of them;
 * a later row that has a value in such a column brings the column back,
 * with the header printed again above that row, as when a column widens.
 */
struct out_text_table {
	char *type;		/* record type; NULL: no table yet */
	size_t ncols;
	char **hdr;		/* column headers (copies) */
	bool *left;		/* column left-aligned */
	bool *shown;		/* column printed */
	size_t *widths;
	bool header_due;	/* no header printed yet */
	bool holding;		/* rows held in held, not printed yet */
	struct out_buf held;	/* held rows: ncols cells each, an alert byte
				 * ('0'/'1') and the NUL-terminated text */
	size_t held_rows;
	struct row row;		/* the record being printed, reused */
};

static void row_clear(struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->c[i].owned);
	r->n = 0;
}

static void row_done(struct row *r)
{
	row_clear(r);
	free(r->c);
	memset(r, 0, sizeof(*r));
}

/* Joins the shown texts of an array of scalars with spaces. */
static char *join_texts(const struct out_node *arr)
{
	size_t len = 1;
	char *s;

	for (const struct out_node *k = arr->child; k; k = k->next)
		len += (k->text ? strlen(k->text) : 0) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (const struct out_node *k = arr->child; k; k = k->next) {
		if (!k->text)
			continue;
		if (*s)
			strcat(s, " ");
		strcat(s, k->text);
	}
	return s;
}

static bool is_shown(const struct out_node *n)
{
	if (n->kind != OUT_ARR)
		return n->shown;
	for (const struct out_node *k = n->child; k; k = k->next)
		if (k->shown)
			return true;
	return false;
}

/* Columns s takes on a terminal: its UTF-8 characters ("µs" is 2). */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* c's length, width, and whether it is empty: "-" (none) or blank; one pass. */
static void cell_measure(struct cell *c)
{
	const unsigned char *p = (const unsigned char *)c->s;
	size_t width = 0;
	bool blank = true;

	for (; *p; p++) {
		width += (*p & 0xc0) != 0x80;
		blank &= *p == ' ';
	}
	c->len = (size_t)((const char *)p - c->s);
	c->width = width;
	c->empty = blank || (c->len == 1 && c->s[0] == '-');
}

/* The next cell of r (grown as needed), or NULL. */
static struct cell *row_next(struct row *r)
{
	struct cell *c;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		c = realloc(r->c, cap * sizeof(*c));
		if (!c)
			return NULL;
		r->c = c;
		r->cap = cap;
	}
	c = &r->c[r->n++];
	c->owned = NULL;
	return c;
}

/* c, a cell of r, for the field n: headed hdr, reading s ("-" when none). */
static void cell_set(const struct row *r, struct cell *c, const struct out_node *n,
		     const char *hdr, const char *s)
{
	c->hdr = hdr;
	c->s = s && *s ? s : "-";
	cell_measure(c);
	c->str = n->kind == OUT_STR;
	c->textonly = n->textonly;
	c->alert = n->alert;
	/* a text-only table is the tool's layout: label, then figures */
	c->left = (n->kind == OUT_STR || n->kind == OUT_ARR) &&
		  (!n->textonly || (size_t)(c - r->c) < r->left_cols);
}

static int row_add(const struct out_node *n, const char *path, void *ctx)
{
	struct row *r = ctx;
	struct cell *c;

	(void)path;
	if (!is_shown(n))
		return 0;
	if (!(c = row_next(r)))
		return -ENOMEM;
	if (n->kind == OUT_ARR && !(c->owned = join_texts(n)))
		return -ENOMEM;
	cell_set(r, c, n, n->title ? n->title : n->key, c->owned ? c->owned : n->text);
	return 0;
}

static int row_build(struct row *r, const struct out_node *n)
{
	r->left_cols = n->parent ? n->parent->text_left : n->text_left;
	return out_node_visit_text(n, row_add, r);
}

/*
 * Prints n cells (or their headers) padded to widths, strings left-aligned
 * and numbers right-aligned, the last column printed unpadded; columns
 * whose shown is false are left out (shown NULL: all are shown). In
 * colour, headers are bold and alert cells red.
 */
static int row_print(struct out_buf *b, unsigned indent, const struct cell *c, size_t n,
		     bool hdr, const size_t *widths, size_t nw, const bool *shown, bool color)
{
	size_t last = n;
	bool first = true;
	int e = out_pad(b, indent);

	while (last > 0 && shown && !shown[last - 1])
		last--;
	for (size_t i = 0; i < last && e == 0; i++) {
		const char *s = hdr ? c[i].hdr : c[i].s;
		size_t len = hdr ? strlen(s) : c[i].len, cols = hdr ? text_width(s) : c[i].width;
		size_t wd = i < nw ? widths[i] : 0, fill = wd > cols ? wd - cols : 0;

		if (shown && !shown[i])
			continue;
		if (!first)
			e = out_put(b, "  ", 2);
		first = false;
		const char *sgr = !color ? NULL : hdr ? SGR_BOLD : c[i].alert ? SGR_RED : NULL;

		if (e == 0 && !c[i].left)
			e = out_pad(b, fill);
		if (e == 0 && sgr)
			e = out_puts(b, sgr);
		if (e == 0)
			e = out_put(b, s, len);
		if (e == 0 && sgr)
			e = out_puts(b, SGR_OFF);
		if (e == 0 && c[i].left && i + 1 < last)
			e = out_pad(b, fill);
	}
	return e ? e : out_putc(b, '\n');
}

/* Frees the columns of t (its rows and buffers stay). */
static void table_columns_free(struct out_text_table *t)
{
	for (size_t i = 0; t->hdr && i < t->ncols; i++)
		free(t->hdr[i]);
	free(t->type);
	free(t->hdr);
	free(t->left);
	free(t->shown);
	free(t->widths);
	t->type = NULL;
	t->hdr = NULL;
	t->left = t->shown = NULL;
	t->widths = NULL;
	t->ncols = 0;
}

/* Starts the table of type for rows like r. */
static int table_start(struct mp_writer *w, struct out_text_table *t, const struct row *r,
		       const char *type)
{
	table_columns_free(t);
	t->ncols = r->n;
	t->type = strdup(type);
	t->hdr = calloc(r->n + 1, sizeof(*t->hdr));
	t->left = calloc(r->n + 1, sizeof(*t->left));
	t->shown = calloc(r->n + 1, sizeof(*t->shown));
	t->widths = calloc(r->n + 1, sizeof(*t->widths));
	if (!t->type || !t->hdr || !t->left || !t->shown || !t->widths)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		if (!(t->hdr[i] = strdup(r->c[i].hdr)))
			return -ENOMEM;
		t->left[i] = r->c[i].left;
		t->shown[i] = w->live;	/* live: every column, from the first row */
		if (w->live)
			t->widths[i] = text_width(r->c[i].hdr);
	}
	t->header_due = true;
	t->holding = !w->live;
	t->held.len = 0;
	t->held_rows = 0;
	return 0;
}

/* The header row of t, in t's columns. */
static int table_header(struct mp_writer *w, struct out_text_table *t)
{
	struct cell *v = calloc(t->ncols + 1, sizeof(*v));
	int e;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->ncols; i++)
		v[i] = (struct cell){ .hdr = t->hdr[i], .left = t->left[i] };
	e = row_print(&w->obuf, 0, v, t->ncols, true, t->widths, t->ncols, t->shown, w->color);
	free(v);
	t->header_due = false;
	return e;
}

/* Prints the held rows under their header; the table streams from now on. */
static int table_release(struct mp_writer *w, struct out_text_table *t)
{
	const char *p = t->held.p;
	struct cell *c;
	bool any = false;
	int e = 0;

	if (!t->holding)
		return 0;
	t->holding = false;
	if (!t->held_rows)
		return 0;
	c = calloc(t->ncols + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < t->ncols; i++)
		any |= t->shown[i];
	for (size_t i = 0; i < t->ncols; i++) {
		size_t hw = text_width(t->hdr[i]);

		t->shown[i] |= !any;	/* every cell empty: show them all the same */
		if (t->shown[i] && hw > t->widths[i])
			t->widths[i] = hw;
	}
	e = table_header(w, t);
	for (size_t k = 0; k < t->held_rows && e == 0; k++) {
		for (size_t i = 0; i < t->ncols; i++) {
			c[i] = (struct cell){ .s = p + 1, .left = t->left[i], .alert = *p == '1' };
			cell_measure(&c[i]);
			p += c[i].len + 2;
		}
		e = row_print(&w->obuf, 0, c, t->ncols, false, t->widths, t->ncols, t->shown,
			      w->color);
		if (e == 0 && w->obuf.len >= OUT_FLUSH_BYTES)
			e = out_flush(w);
	}
	free(c);
	t->held.len = 0;
	t->held_rows = 0;
	return e;
}

/* Holds r back (a batch writer's first rows). */
static int table_hold(struct out_text_table *t, const struct row *r)
{
	int e = 0;

	for (size_t i = 0; i < r->n && e == 0; i++) {
		if (!r->c[i].empty) {
			t->shown[i] = true;
			if (r->c[i].width > t->widths[i])
				t->widths[i] = r->c[i].width;
		}
		e = out_putc(&t->held, r->c[i].alert ? '1' : '0');
		if (e == 0)
			e = out_put(&t->held, r->c[i].s, r->c[i].len + 1);
	}
	t->held_rows++;
	return e;
}

/*
 * A streamed row: a column it is the first to fill is shown, a cell wider
 * than its column widens it (with room for two more characters, so that it
 * seldom happens twice); either way the header is printed again above it.
 */
static int table_stream(struct mp_writer *w, struct out_text_table *t, const struct row *r)
{
	bool hdr = t->header_due;
	size_t last = r->n;
	int e = 0;

	while (last > 0 && !t->shown[last - 1] && r->c[last - 1].empty)
		last--;
	for (size_t i = 0; i < r->n; i++) {
		size_t c = r->c[i].width;

		if (!t->shown[i] && !r->c[i].empty) {
			size_t hw = text_width(t->hdr[i]);

			t->shown[i] = hdr = true;
			t->widths[i] = hw > c ? hw : c;
		} else if (t->shown[i] && c > t->widths[i]) {
			t->widths[i] = c + (t->header_due ? 0 : 2);
			/* the last column is padded only when right-aligned */
			hdr |= i + 1 < last || !r->c[i].left;
		}
	}
	if (hdr)
		e = table_header(w, t);
	return e ? e : row_print(&w->obuf, 0, r->c, r->n, false, t->widths, t->ncols, t->shown,
				 w->color);
}

/* The row in t->row, into its table. */
static int table_row(struct mp_writer *w, struct out_text_table *t, const char *type)
{
	int e = 0;

	if (!t->type || strcmp(t->type, type) || t->ncols != t->row.n) {
		e = table_release(w, t);
		if (e == 0)
			e = table_start(w, t, &t->row, type);
	}
	if (e < 0)
		return e;
	if (!t->holding)
		return table_stream(w, t, &t->row);
	e = table_hold(t, &t->row);
	return e == 0 && t->held_rows >= TEXT_HOLD_ROWS ? table_release(w, t) : e;
}

int out_text_record(struct mp_writer *w, const struct out_node *root, const char *type)
{
	struct out_text_table *t = w->text;
	int e;

	if (!t && !(t = w->text = calloc(1, sizeof(*t))))
		return -ENOMEM;
	row_clear(&t->row);
	e = row_build(&t->row, root);
	return e < 0 ? e : table_row(w, t, type);
}

/*
 * Direct records (out.c): the cells of a flat record are taken as its
 * fields are put, with no node tree; the texts and keys live in the unit's
 * arena.
 */
int out_text_direct_begin(struct mp_writer *w)
{
	if (!w->text && !(w->text = calloc(1, sizeof(*w->text))))
		return -ENOMEM;
	row_clear(&w->text->row);
	w->text->row.left_cols = w->root->text_left;
	return 0;
}

int out_text_direct_cell(struct mp_writer *w, const struct out_node *n)
{
	struct row *r = &w->text->row;
	struct cell *c;
	char *hdr;

	if (!n->shown)
		return 0;
	if (!(hdr = out_arena_strdup(&w->arena, n->key)) || !(c = row_next(r)))
		return -ENOMEM;
	cell_set(r, c, n, hdr, n->text);
	return 0;
}

int out_text_direct_end(struct mp_writer *w, const char *type)
{
	return table_row(w, w->text, type);
}

/* A direct record that turns out not to be flat: its cells become nodes. */
int out_text_direct_tree(struct mp_writer *w)
{
	struct row *r = &w->text->row;

	for (size_t i = 0; i < r->n; i++) {
		struct cell *c = &r->c[i];
		struct out_node *n = out_node_new(&w->arena, c->str ? OUT_STR : OUT_U64, c->hdr,
						  NULL);

		if (!n)
			return -ENOMEM;
		n->text = c->empty && !strcmp(c->s, "-") ? NULL : (char *)(uintptr_t)c->s;
		if (c->str)
			n->v.s = n->text ? n->text : (char *)"";
		n->shown = true;
		n->textonly = c->textonly;
		n->alert = c->alert;
		out_node_add(w->root, n);
	}
	row_clear(r);
	return 0;
}

int out_text_flush(struct mp_writer *w)
{
	int e = w->text ? table_release(w, w->text) : 0;

	return e ? e : out_flush(w);
}

void out_text_done(struct mp_writer *w)
{
	struct out_text_table *t = w->text;

	if (!t)
		return;
	table_columns_free(t);
	free(t->held.p);
	row_done(&t->row);
	free(t);
	w->text = NULL;
}

/* An array of objects in the document: a table aligned over all its rows. */
static int text_table(struct mp_writer *w, const struct out_node *arr, unsigned indent)
{
	size_t nrows = 0, ncols = 0, *widths = NULL;
	unsigned rindent = indent + TEXT_INDENT;
	struct row *rows;
	int e = 0;

	for (const struct out_node *k = arr->child; k; k = k->next)
		nrows++;
	rows = calloc(nrows + 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	nrows = 0;
	for (const struct out_node *k = arr->child; k && e == 0; k = k->next) {
		e = row_build(&rows[nrows], k);
		if (e == 0 && rows[nrows].n > ncols)
			ncols = rows[nrows].n;
		nrows++;
	}
	if (e == 0 && nrows && !(widths = calloc(ncols, sizeof(*widths))))
		e = -ENOMEM;
	for (size_t i = 0; i < nrows && e == 0; i++) {
		for (size_t j = 0; j < rows[i].n; j++) {
			size_t c = rows[i].c[j].width, h = text_width(rows[i].c[j].hdr);

			c = h > c ? h : c;
			if (c > widths[j])
				widths[j] = c;
		}
	}
	if (e == 0 && nrows && arr->title && !*arr->title) {
		rindent = indent;	/* no title line, no indent under it */
	} else if (e == 0 && nrows) {
		fprintf(w->f, "%*s%s%s:%s\n", (int)indent, "", w->color ? SGR_BOLD : "",
			arr->title ? arr->title : arr->key, w->color ? SGR_OFF : "");
	}
	if (e == 0 && nrows) {
		/* the header of the widest row names every column */
		size_t wide = 0;

		for (size_t i = 0; i < nrows; i++)
			if (rows[i].n > rows[wide].n)
				wide = i;
		e = row_print(&w->obuf, rindent, rows[wide].c, rows[wide].n, true, widths, ncols,
			      NULL, w->color);
	}
	for (size_t i = 0; i < nrows && e == 0; i++)
		e = row_print(&w->obuf, rindent, rows[i].c, rows[i].n, false, widths, ncols, NULL,
			      w->color);
	for (size_t i = 0; i < nrows; i++)
		row_done(&rows[i]);
	free(rows);
	free(widths);
	return e ? e : out_flush(w);
}

static bool is_table(const struct out_node *n)
{
	return n->kind == OUT_ARR && n->child && n->child->kind == OUT_OBJ;
}

/*
 * One object: a line with its own scalars (arrays of scalars inline as
 * "title: a b"), then its objects and tables below it, one level deeper.
 * The document root has no label and its children stay at depth 0.
 */
static int text_obj(struct mp_writer *w, const struct out_node *n, unsigned indent, bool root)
{
	const char *label = root ? NULL : (n->title ? n->title : n->key);
	unsigned sub = root ? indent : indent + TEXT_INDENT;
	FILE *f = w->f;
	bool any = false, bold = label && w->color;
	int e = 0;

	fprintf(f, "%*s%s%s%s%s", (int)indent, "", bold ? SGR_BOLD : "", label ? label : "",
		label ? ":" : "", bold ? SGR_OFF : "");
	for (const struct out_node *k = n->child; k; k = k->next) {
		if (k->kind == OUT_OBJ || is_table(k) || !is_shown(k))
			continue;
		fprintf(f, "%s", any ? ", " : (label ? " " : ""));
		if (k->kind == OUT_ARR) {
			char *s = join_texts(k);

			if (!s)
				return -ENOMEM;
			fprintf(f, "%s: %s", k->title ? k->title : k->key, s);
			free(s);
		} else {
			bool red = k->alert && w->color;

			fprintf(f, "%s%s%s", red ? SGR_RED : "", k->text ? k->text : "-",
				red ? SGR_OFF : "");
		}
		any = true;
	}
	if ((any || label) && fputc('\n', f) == EOF)
		return -EIO;
	for (const struct out_node *k = n->child; k && e == 0; k = k->next) {
		if (k->notext)
			continue;
		if (k->kind == OUT_OBJ)
			e = text_obj(w, k, sub, false);
		else if (is_table(k))
			e = text_table(w, k, sub);
	}
	return e;
}

int out_text_doc(struct mp_writer *w, const struct out_node *doc)
{
	int e = out_text_flush(w);	/* the records before it */

	if (e < 0)
		return e;
	if (doc->title)
		fprintf(w->f, "%s%s%s\n", w->color ? SGR_BOLD : "", doc->title,
			w->color ? SGR_OFF : "");
	return text_obj(w, doc, 0, true);
}

/* Csv, rendered into the writer's buffer. */
static int csv_field(struct out_buf *b, const char *s, size_t len, bool first)
{
	char *q;
	size_t n;

	if (!first && out_putc(b, ',') < 0)
		return -ENOMEM;
	/* quote only what needs it, so numbers stay numbers for gnuplot */
	if (!len || (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
		     !memchr(s, '\r', len) && s[0] != ' ' && s[len - 1] != ' '))
		return out_put(b, s, len);
	if (out_buf_grow(b, 2 * len + 2) < 0)
		return -ENOMEM;
	q = b->p + b->len;
	n = csv_write(q, 2 * len + 2, s, len);	/* libcsv's quoting */
	b->len += n;
	return 0;
}

struct csv_ctx {
	struct out_buf *b;
	bool header;	/* write keys instead of values */
	bool first;
};

static int csv_visit(const struct out_node *n, const char *path, void *ctx)
{
	struct csv_ctx *c = ctx;
	char buf[4096];
	int e;

	if (c->header)
		e = csv_field(c->b, path, strlen(path), c->first);
	else if (n->kind == OUT_STR)
		e = csv_field(c->b, n->v.s, strlen(n->v.s), c->first);
	else if (n->kind == OUT_U64)
		e = csv_field(c->b, buf, out_u64_text(buf, n->v.u), c->first);
	else if ((e = out_node_value(n, buf, sizeof(buf))) >= 0)
		e = csv_field(c->b, buf, (size_t)e, c->first);
	c->first = false;
	return e;
}

static int csv_line(struct out_buf *b, const struct out_node *root, bool header)
{
	struct csv_ctx c = { .b = b, .header = header, .first = true };
	int e = out_node_visit(root, csv_visit, &c);

	return e ? e : out_putc(b, '\n');
}

int out_csv_record(struct mp_writer *w, const struct out_node *root, const char *type)
{
	int e = 0;

	if (type) {
		if (!w->csv_type && !(w->csv_type = strdup(w->table_type ? w->table_type : type)))
			return -ENOMEM;
		if (strcmp(w->csv_type, type))
			return 0;	/* one table per csv stream */
	}
	if (!w->csv_rows)
		e = csv_line(&w->obuf, root, true);
	w->csv_rows = true;
	w->csv_records |= type != NULL;
	return e < 0 ? e : csv_line(&w->obuf, root, false);
}

/* A figure with its own scaled unit: 3 significant digits, at most 2 decimals. */
static const char *scaled(char *buf, size_t len, double v, const char *const *units,
			  const double *steps, size_t n)
{
	size_t i = 0;
	double a = fabs(v);

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	while (i + 1 < n && a >= steps[i + 1] * 0.9995)
		i++;
	a = v / steps[i];
	snprintf(buf, len, fabs(a) >= 99.95 || i == 0 ? "%.0f%s" : fabs(a) >= 9.995 ? "%.1f%s" :
		 "%.2f%s", a, units[i]);
	return buf;
}

const char *mp_fmt_ns(char *buf, size_t len, double ns)
{
	static const char *const u[] = { "ns", "\xc2\xb5s", "ms", "s" };
	static const double st[] = { 1, 1e3, 1e6, 1e9 };

	return scaled(buf, len, ns, u, st, 4);
}

const char *mp_fmt_bps(char *buf, size_t len, double bps)
{
	static const char *const u[] = { " bit/s", " kbit/s", " Mbit/s", " Gbit/s", " Tbit/s" };
	static const double st[] = { 1, 1e3, 1e6, 1e9, 1e12 };

	return scaled(buf, len, bps, u, st, 5);
}

const char *mp_fmt_pps(char *buf, size_t len, double pps)
{
	static const char *const u[] = { " pps", " kpps", " Mpps" };
	static const double st[] = { 1, 1e3, 1e6 };

	return scaled(buf, len, pps, u, st, 3);
}
