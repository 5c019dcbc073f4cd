/* SPDX-License-Identifier: MIT */
/*
 * out: the text and csv renderers.
 *
 * Text: records are rows of a table whose header (the field keys) is printed
 * before the first row of each record type. Rows stream: a column is as wide
 * as the widest cell printed so far, so a cell wider than its column widens
 * it (with room for two more characters, so that it seldom happens twice)
 * and the header is printed again above that row, in step with the rows
 * that follow; no row is ever shifted against the header above it.
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

enum { TEXT_INDENT = 2 };

#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[31m"
#define SGR_OFF "\033[0m"

struct row {
	const char **hdr;	/* column headers (field keys) */
	const char **cell;	/* formatted cells; "-" when a scalar array is empty */
	bool *left;		/* left-aligned (strings) */
	bool *alert;		/* red in colour (mp_writer_alert) */
	size_t left_cols;	/* text-only cells left-aligned in columns below this */
	char **owned;		/* joined scalar-array cells, freed with the row */
	size_t n, cap;
};

static void row_done(struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->owned[i]);
	free(r->hdr);
	free(r->cell);
	free(r->left);
	free(r->alert);
	free(r->owned);
	memset(r, 0, sizeof(*r));
}

static int row_grow(struct row *r)
{
	size_t cap = r->cap ? 2 * r->cap : 16;
	const char **h = realloc(r->hdr, cap * sizeof(*h));
	const char **c;
	char **o;
	bool *l;

	if (!h)
		return -ENOMEM;
	r->hdr = h;
	if (!(c = realloc(r->cell, cap * sizeof(*c))))
		return -ENOMEM;
	r->cell = c;
	if (!(l = realloc(r->left, cap * sizeof(*l))))
		return -ENOMEM;
	r->left = l;
	if (!(l = realloc(r->alert, cap * sizeof(*l))))
		return -ENOMEM;
	r->alert = l;
	if (!(o = realloc(r->owned, cap * sizeof(*o))))
		return -ENOMEM;
	r->owned = o;
	r->cap = cap;
	return 0;
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

static int row_add(const struct out_node *n, const char *path, void *ctx)
{
	struct row *r = ctx;
	int e;

	(void)path;
	if (!is_shown(n))
		return 0;
	if (r->n == r->cap && (e = row_grow(r)) < 0)
		return e;
	r->owned[r->n] = NULL;
	if (n->kind == OUT_ARR) {
		r->owned[r->n] = join_texts(n);
		if (!r->owned[r->n])
			return -ENOMEM;
	}
	r->hdr[r->n] = n->title ? n->title : n->key;
	r->cell[r->n] = r->owned[r->n] ? r->owned[r->n] : n->text;
	if (!r->cell[r->n] || !*r->cell[r->n])
		r->cell[r->n] = "-";
	/* a text-only table is the tool's layout: label, then figures */
	r->left[r->n] = (n->kind == OUT_STR || n->kind == OUT_ARR) &&
			(!n->textonly || r->n < r->left_cols);
	r->alert[r->n] = n->alert;
	r->n++;
	return 0;
}

static int row_build(struct row *r, const struct out_node *n)
{
	int e;

	r->left_cols = n->parent ? n->parent->text_left : n->text_left;
	e = out_node_visit_text(n, row_add, r);

	if (e < 0)
		row_done(r);
	return e;
}

/* Columns s takes on a terminal: its UTF-8 characters ("µs" is 2). */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void pad(FILE *f, size_t n)
{
	static const char spaces[] = "                                ";

	for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
		fwrite(spaces, 1, sizeof(spaces) - 1, f);
	fwrite(spaces, 1, n, f);
}

/*
 * Prints cells (or headers) padded to widths, strings left-aligned and
 * numbers right-aligned; the last column unpadded. Padding by hand: this
 * runs for every row of a million-route table, where fprintf dominated.
 * sgr: NULL, or per cell the colour to wrap it in (NULL: none).
 */
static int row_print(FILE *f, unsigned indent, const char *const *s, const bool *left,
		     const size_t *widths, size_t n, size_t nw, const char *const *sgr)
{
	pad(f, indent);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(s[i]), wd = i < nw ? widths[i] : 0, cols = text_width(s[i]);
		size_t fill = wd > cols ? wd - cols : 0;

		if (i)
			fwrite("  ", 1, 2, f);
		if (!left[i])
			pad(f, fill);
		if (sgr && sgr[i])
			fputs(sgr[i], f);
		fwrite(s[i], 1, len, f);
		if (sgr && sgr[i])
			fputs(SGR_OFF, f);
		if (left[i] && i + 1 < n)
			pad(f, fill);
	}
	return fputc('\n', f) == EOF ? -EIO : 0;
}

/* The colours of a row's cells (alerts red) or of its header (bold), for
 * row_print; NULL when the writer has no colour or nothing to colour. */
static const char **row_sgr(const struct mp_writer *w, const struct row *r, bool header)
{
	const char **sgr;
	bool any = false;

	if (!w->color)
		return NULL;
	for (size_t i = 0; i < r->n && !header; i++)
		any |= r->alert[i];
	if (!header && !any)
		return NULL;
	sgr = calloc(r->n + 1, sizeof(*sgr));
	for (size_t i = 0; sgr && i < r->n; i++)
		sgr[i] = header ? SGR_BOLD : r->alert[i] ? SGR_RED : NULL;
	return sgr;
}

static int row_print_sgr(const struct mp_writer *w, FILE *f, unsigned indent,
			 const struct row *r, bool header, const size_t *widths, size_t nw)
{
	const char **sgr = row_sgr(w, r, header);
	int e = row_print(f, indent, header ? r->hdr : r->cell, r->left, widths, r->n, nw, sgr);

	free(sgr);
	return e;
}

/* Widens widths to r's cells (and headers); true when a column grew. */
static bool widths_update(size_t *widths, const struct row *r, bool with_hdr, size_t slack)
{
	bool grew = false;

	for (size_t i = 0; i < r->n; i++) {
		size_t c = text_width(r->cell[i]);

		if (with_hdr && text_width(r->hdr[i]) > c)
			c = text_width(r->hdr[i]);
		if (c > widths[i]) {
			widths[i] = c + slack;
			grew |= i + 1 < r->n;	/* the last column is never padded */
		}
	}
	return grew;
}

int out_text_record(struct mp_writer *w, const struct out_node *root, const char *type)
{
	struct row r = { 0 };
	int e = row_build(&r, root);

	if (e < 0)
		return e;
	if (!w->text_type || strcmp(w->text_type, type) || w->text_ncols != r.n) {
		free(w->text_type);
		free(w->text_widths);
		w->text_type = strdup(type);
		w->text_widths = calloc(r.n + 1, sizeof(size_t));
		w->text_ncols = r.n;
		if (!w->text_type || !w->text_widths) {
			e = -ENOMEM;
			goto out;
		}
		widths_update(w->text_widths, &r, true, 0);
		e = row_print_sgr(w, w->f, 0, &r, true, w->text_widths, r.n);
	} else if (widths_update(w->text_widths, &r, false, 2)) {
		e = row_print_sgr(w, w->f, 0, &r, true, w->text_widths, r.n);
	}
	if (e == 0)
		e = row_print_sgr(w, w->f, 0, &r, false, w->text_widths, w->text_ncols);
out:
	row_done(&r);
	return e;
}

void out_text_done(struct mp_writer *w)
{
	free(w->text_type);
	free(w->text_widths);
}

/* An array of objects in the document: a table aligned over all its rows. */
static int text_table(const struct mp_writer *w, FILE *f, const struct out_node *arr,
		      unsigned indent)
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
	for (size_t i = 0; i < nrows && e == 0; i++)
		widths_update(widths, &rows[i], true, 0);
	if (e == 0 && nrows && arr->title && !*arr->title) {
		rindent = indent;	/* no title line, no indent under it */
	} else if (e == 0 && nrows) {
		fprintf(f, "%*s%s%s:%s\n", (int)indent, "", w->color ? SGR_BOLD : "",
			arr->title ? arr->title : arr->key, w->color ? SGR_OFF : "");
	}
	if (e == 0 && nrows) {
		/* the header of the widest row names every column */
		size_t wide = 0;

		for (size_t i = 0; i < nrows; i++)
			if (rows[i].n > rows[wide].n)
				wide = i;
		e = row_print_sgr(w, f, rindent, &rows[wide], true, widths, ncols);
	}
	for (size_t i = 0; i < nrows && e == 0; i++)
		e = row_print_sgr(w, f, rindent, &rows[i], false, widths, ncols);
	for (size_t i = 0; i < nrows; i++)
		row_done(&rows[i]);
	free(rows);
	free(widths);
	return e;
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
static int text_obj(const struct mp_writer *w, const struct out_node *n, unsigned indent,
		    bool root)
{
	const char *label = root ? NULL : (n->title ? n->title : n->key);
	unsigned sub = root ? indent : indent + TEXT_INDENT;
	bool any = false, bold = label && w->color;
	FILE *f = w->f;
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
			e = text_table(w, f, k, sub);
	}
	return e;
}

int out_text_doc(struct mp_writer *w, const struct out_node *doc)
{
	if (doc->title)
		fprintf(w->f, "%s%s%s\n", w->color ? SGR_BOLD : "", doc->title,
			w->color ? SGR_OFF : "");
	return text_obj(w, doc, 0, true);
}

/* Csv. */
static int csv_field(FILE *f, const char *s, bool first)
{
	if (!first && fputc(',', f) == EOF)
		return -EIO;
	/* quote only what needs it, so numbers stay numbers for gnuplot */
	if (strpbrk(s, ",\"\r\n") || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' ')))
		return csv_fwrite(f, s, strlen(s)) < 0 ? -EIO : 0;
	return fputs(s, f) == EOF ? -EIO : 0;
}

struct csv_ctx {
	FILE *f;
	bool header;	/* write keys instead of values */
	bool first;
};

static int csv_visit(const struct out_node *n, const char *path, void *ctx)
{
	struct csv_ctx *c = ctx;
	char buf[4096];
	int e;

	if (c->header) {
		e = csv_field(c->f, path, c->first);
	} else {
		e = out_node_value(n, buf, sizeof(buf));
		if (e >= 0)
			e = csv_field(c->f, buf, c->first);
	}
	c->first = false;
	return e;
}

static int csv_line(FILE *f, const struct out_node *root, bool header)
{
	struct csv_ctx c = { .f = f, .header = header, .first = true };
	int e = out_node_visit(root, csv_visit, &c);

	if (e == 0 && fputc('\n', f) == EOF)
		e = -EIO;
	return e;
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
		e = csv_line(w->f, root, true);
	w->csv_rows = true;
	w->csv_records |= type != NULL;
	return e < 0 ? e : csv_line(w->f, root, false);
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
