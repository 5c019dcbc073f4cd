/* SPDX-License-Identifier: MIT */
/*
 * The writer: a unit (record or document) is built as a small tree of nodes,
 * then rendered in the writer's format when the unit ends. Building first
 * lets every format see the whole unit (csv headers, text table widths,
 * Prometheus label inheritance) while each field is still written only once
 * by the tool. The json and prom renderers live here; text, csv and the
 * tree itself in out_tree.c / out_text.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "file.h"
#include "out.h"
#include "out_int.h"

static const char *const format_names[] = {
	[MP_FMT_TEXT] = "text",
	[MP_FMT_CSV] = "csv",
	[MP_FMT_JSON] = "json",
	[MP_FMT_NDJSON] = "ndjson",
	[MP_FMT_PROM] = "prom",
};

int mp_format_parse(const char *s, enum mp_format *ret)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(format_names); i++) {
		if (s && !strcmp(s, format_names[i])) {
			*ret = (enum mp_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

int mp_writer_new(struct mp_writer **ret, enum mp_format fmt, FILE *f, const char *tool,
		  const char *schema)
{
	struct mp_writer *w;

	if (!f || !tool || !schema || (unsigned)fmt >= MP_ARRAY_SIZE(format_names))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fmt = fmt;
	w->f = f;
	w->live = true;
	w->color = fmt == MP_FMT_TEXT && mp_color_for(f);
	w->text_left = 1;
	w->tool = strdup(tool);
	w->schema = strdup(schema);
	if (!w->tool || !w->schema) {
		mp_writer_close(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

void mp_writer_set_live(struct mp_writer *w, bool live)
{
	w->live = live;
}

void mp_writer_set_color(struct mp_writer *w, bool color)
{
	w->color = w->fmt == MP_FMT_TEXT && color;
}

enum mp_format mp_writer_format(const struct mp_writer *w)
{
	return w->fmt;
}

int mp_writer_set_table(struct mp_writer *w, const char *type)
{
	char *t;

	if (w->fwd)
		return out_fwd_unit(w, 'T', type, NULL);
	if (!(t = strdup(type)))
		return -ENOMEM;
	free(w->table_type);
	w->table_type = t;
	return 0;
}

static int fail(struct mp_writer *w, int r)
{
	if (!w->err)
		w->err = r;
	return w->err;
}

/* When the unit being rendered was written: now, or when a replayed one was. */
static uint64_t unit_time(const struct mp_writer *w)
{
	return w->unit_time_ns ? w->unit_time_ns : mp_clock_real_ns();
}

/* Header fields of every json document and ndjson record. */
static json_t *json_header(const struct mp_writer *w, const char *type)
{
	char t[64];
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (mp_clock_rfc3339(unit_time(w), t, sizeof(t)) < 0)
		t[0] = '\0';
	if (json_object_set_new(o, "tool", json_string(w->tool)) ||
	    json_object_set_new(o, "version", json_string(MP_VERSION)) ||
	    json_object_set_new(o, "schema", json_string(w->schema)) ||
	    json_object_set_new(o, "time", json_string(t)) ||
	    (type && json_object_set_new(o, "type", json_string(type)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *json_from_node(const struct out_node *n);

/* Adds the children of n (an object or array node) to the container c. */
static int json_add_children(json_t *c, const struct out_node *n)
{
	for (const struct out_node *k = n->child; k; k = k->next) {
		json_t *v;

		if (k->textonly && !n->textonly)
			continue;
		if (!(v = json_from_node(k)))
			return -ENOMEM;
		if (json_is_array(c) ? json_array_append_new(c, v)
				     : json_object_set_new(c, k->key, v))
			return -ENOMEM;
	}
	return 0;
}

static json_t *json_from_node(const struct out_node *n)
{
	json_t *v = NULL;

	switch (n->kind) {
	case OUT_OBJ:
	case OUT_ARR:
		v = n->kind == OUT_OBJ ? json_object() : json_array();
		if (v && json_add_children(v, n) < 0) {
			json_decref(v);
			v = NULL;
		}
		return v;
	case OUT_U64:
		/* jansson holds json_int_t (long long): larger values as reals */
		if (n->v.u > (uint64_t)INT64_MAX)
			return json_real((double)n->v.u);
		return json_integer((json_int_t)n->v.u);
	case OUT_I64:
		return json_integer(n->v.i);
	case OUT_F64:
		return isfinite(n->v.f) ? json_real(n->v.f) : json_null();
	case OUT_STR: {
		/* not UTF-8 (a Latin-1 table name): as the streamed records have it */
		char *clean;

		v = json_string(n->v.s);
		if (v || !(clean = out_utf8_clean(n->v.s)))
			return v;
		v = json_string(clean);
		free(clean);
		return v;
	}
	case OUT_BOOL:
		return json_boolean(n->v.b);
	}
	return NULL;
}

/* 15 significant digits: doubles print as the decimals they were meant as. */
enum { JSON_FLAGS = JSON_REAL_PRECISION(15) | JSON_ENSURE_ASCII };

/*
 * Writes o and a newline. jansson's own json_dumpf() writes token by token,
 * one fwrite each; dumping into the writer's buffer first makes one fwrite.
 */
static int json_write(struct mp_writer *w, json_t *o, size_t flags)
{
	size_t n = json_dumpb(o, w->jbuf, w->jbuf_len, flags | JSON_FLAGS);

	if (n > w->jbuf_len) {
		char *b = realloc(w->jbuf, n);

		if (!b)
			return -ENOMEM;
		w->jbuf = b;
		w->jbuf_len = n;
		n = json_dumpb(o, w->jbuf, w->jbuf_len, flags | JSON_FLAGS);
	}
	if (n == 0)
		return -ENOMEM;
	if (fwrite(w->jbuf, 1, n, w->f) != n || fputc('\n', w->f) == EOF)
		return -EIO;
	return 0;
}

/* The unit's time as RFC 3339 into t (40 bytes): the date and second once
 * a second, the microseconds by hand (an ndjson line per route). */
static void unit_time_text(struct mp_writer *w, char *t)
{
	uint64_t ns = unit_time(w), sec = ns / MP_NSEC_PER_SEC;
	uint64_t usec = ns % MP_NSEC_PER_SEC / MP_NSEC_PER_USEC + 1000000;
	size_t n;

	if (sec != w->time_sec || !w->time_head[0]) {
		char full[64], *dot;

		if (mp_clock_rfc3339(sec * MP_NSEC_PER_SEC, full, sizeof(full)) < 0 ||
		    !(dot = strchr(full, '.')) || (size_t)(dot - full) + 2 > sizeof(w->time_head)) {
			t[0] = '\0';
			return;
		}
		memcpy(w->time_head, full, (size_t)(dot - full) + 1);
		w->time_head[dot - full + 1] = '\0';
		w->time_sec = sec;
	}
	n = strlen(w->time_head);
	memcpy(t, w->time_head, n);
	out_u64_text(t + n - 1, usec);	/* "1uuuuuu" over the '.', which comes back */
	t[n - 1] = '.';
	memcpy(t + n + 6, "Z", 2);
}

/*
 * The escaped {"tool":…,"version":…,"schema":… prefix of every streamed
 * line (made once), then time and type (digits, [a-z0-9_]: no escaping).
 */
static int stream_head(struct mp_writer *w, const char *type)
{
	struct out_buf *b = &w->obuf;
	char t[40];
	int e;

	if (!w->prefix) {
		json_t *h = json_pack("{s:s, s:s, s:s}", "tool", w->tool, "version", MP_VERSION,
				      "schema", w->schema);

		w->prefix = h ? json_dumps(h, JSON_FLAGS | JSON_COMPACT) : NULL;
		json_decref(h);
		if (!w->prefix)
			return -ENOMEM;
		w->prefix[strlen(w->prefix) - 1] = '\0';	/* the closing brace */
	}
	unit_time_text(w, t);
	e = out_puts(b, w->prefix);
	if (e == 0)
		e = out_puts(b, ",\"time\":\"");
	if (e == 0)
		e = out_puts(b, t);
	if (e == 0)
		e = out_putc(b, '"');
	if (e == 0 && type) {
		e = out_puts(b, ",\"type\":\"");
		if (e == 0)
			e = out_puts(b, type);
		if (e == 0)
			e = out_putc(b, '"');
	}
	return e;
}

/* One line: the header fields, then the unit's (out_json.c). */
static int ndjson_unit(struct mp_writer *w, const struct out_node *root, const char *type)
{
	int e = stream_head(w, type);

	if (e == 0)
		e = out_json_members(&w->obuf, root, true);
	return e ? e : out_put(&w->obuf, "}\n", 2);
}

/*
 * json: the records of the first type are streamed, one compact object per
 * line, into an array opened after the header fields; the document's other
 * fields and any other record types follow it when the writer is closed.
 */
static int json_stream_open(struct mp_writer *w, const char *type)
{
	struct out_buf *b = &w->obuf;
	int e = 0;

	if (!w->json_open) {
		e = stream_head(w, NULL);
		if (e == 0)
			e = out_put(b, ",\"", 2);
		if (e == 0)
			e = out_puts(b, type);
		if (e == 0)
			e = out_put(b, "s\":[", 4);
		if (e < 0)
			return e;
		w->json_open = true;
		w->json_first = true;
	}
	e = w->json_first ? out_put(b, "\n{", 2) : out_put(b, ",\n{", 3);
	w->json_first = false;
	return e;
}

static int json_stream_record(struct mp_writer *w, const struct out_node *root,
			      const char *type)
{
	int e = json_stream_open(w, type);

	if (e == 0)
		e = out_json_members(&w->obuf, root, false);
	return e ? e : out_putc(&w->obuf, '}');
}

/* json: records of other types are kept, by type, until the close. */
static int json_keep_record(struct mp_writer *w, const struct out_node *root, const char *type)
{
	char key[128];
	json_t *arr, *o;

	if (!w->json_stream_type && !(w->json_stream_type = strdup(type)))
		return -ENOMEM;
	if (!strcmp(type, w->json_stream_type))
		return json_stream_record(w, root, type);
	if (!w->json_records && !(w->json_records = json_object()))
		return -ENOMEM;
	snprintf(key, sizeof(key), "%ss", type);
	arr = json_object_get(w->json_records, key);
	if (!arr) {
		arr = json_array();
		if (!arr || json_object_set_new(w->json_records, key, arr))
			return -ENOMEM;
	}
	o = json_object();
	if (!o || json_array_append_new(arr, o) || json_add_children(o, root) < 0)
		return -ENOMEM;
	return 0;
}

/* Writes the document, or, after streamed records, the rest of it. */
static int json_document(struct mp_writer *w)
{
	json_t *o = w->json_open ? json_object() : json_header(w, NULL);
	const char *k;
	char *s = NULL;
	json_t *v;
	int r = -ENOMEM;

	if (!o || (r = out_flush(w)) < 0)
		goto out;
	r = -ENOMEM;
	if (w->doc && json_add_children(o, w->doc) < 0)
		goto out;
	if (w->json_docs && json_object_set(o, w->multi_key, w->json_docs))
		goto out;
	json_object_foreach(w->json_records, k, v)
		if (json_object_set(o, k, v))
			goto out;
	if (!w->json_open) {
		r = json_write(w, o, JSON_INDENT(2));
		goto out;
	}
	s = json_dumps(o, JSON_FLAGS | JSON_INDENT(2));
	if (!s)
		goto out;
	/* "{}" or "{\n  fields\n}": continue the open object after the array */
	r = fprintf(w->f, "\n]%s%s\n", json_object_size(o) ? "," : "",
		    json_object_size(o) ? s + 1 : "}") < 0 ? -EIO : 0;
out:
	free(s);
	json_decref(o);
	return r;
}

int mp_writer_set_multi(struct mp_writer *w, const char *key)
{
	free(w->multi_key);
	json_decref(w->json_docs);
	w->json_docs = NULL;
	if (!(w->multi_key = strdup(key)))
		return fail(w, -ENOMEM);
	if (w->fmt == MP_FMT_JSON && !(w->json_docs = json_array()))
		return fail(w, -ENOMEM);
	return 0;
}

void mp_writer_keep_prom(struct mp_writer *w)
{
	w->keep_prom = true;
}

bool mp_textfile_job_valid(const char *job)
{
	return *job && strlen(job) <= 64 &&
	       strspn(job, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") ==
	       strlen(job);
}

int mp_writer_textfile(struct mp_writer *w, const char *dir, const char *job, int status)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (w->err)
		return w->err;
	if (!mp_textfile_job_valid(job) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s-%s.prom", dir, w->tool, job) >=
	    sizeof(path))
		return -EINVAL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	r = out_prom_textfile(w, f, job, (double)mp_clock_real_ns() / 1e9, status);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == 0)
		r = mp_file_replace(path, buf, len, 0644);
	free(buf);
	return r;
}

int mp_textfile_finish(struct mp_writer *w, const char *dir, const char *job, int status)
{
	int r;

	if (!dir)
		return status;
	r = mp_writer_textfile(w, dir, job ? job : "default", status);
	if (r < 0) {
		mp_warn(-r, "--textfile %s", dir);
		return MP_EXIT_USAGE;
	}
	return status;
}

/* Unit handling shared by records and the document. */
static int unit_begin(struct mp_writer *w, const char *type, const char *title)
{
	if (w->err)
		return w->err;
	if (w->root)
		return fail(w, -EINVAL);
	out_arena_reset(&w->arena);
	w->root = out_node_new(&w->arena, OUT_OBJ, NULL, title);
	if (!w->root)
		return fail(w, -ENOMEM);
	w->root->text_left = w->text_left;
	w->cur = w->root;
	w->unit_type = type;
	return 0;
}

/*
 * Direct records. A json/ndjson record needs nothing from fields to come,
 * so each field is written as it is put, with no node, no copy of key or
 * value and no tree walk at the end: a route listing puts tens of millions
 * of fields. A text record takes each field as a cell of its row (out_text.c)
 * until it opens a container, which turns it into a tree. Csv, prom, json
 * records kept for the end and forwarded units build the unit's tree.
 */
static int direct_begin(struct mp_writer *w, const char *type)
{
	int e;

	if (w->fwd || w->fmt == MP_FMT_CSV || w->fmt == MP_FMT_PROM)
		return 0;
	if (w->fmt == MP_FMT_TEXT) {
		e = out_text_direct_begin(w);
		w->direct = e == 0;
		w->ddepth = w->dskip = 0;
		return e < 0 ? fail(w, e) : 0;
	}
	if (w->fmt == MP_FMT_JSON) {
		if (!w->json_stream_type && !(w->json_stream_type = strdup(type)))
			return fail(w, -ENOMEM);
		if (strcmp(type, w->json_stream_type))
			return 0;	/* kept in a tree until the close */
	}
	w->direct = true;
	w->ddepth = w->dskip = 0;
	w->dkind[0] = OUT_OBJ;
	if (w->fmt == MP_FMT_NDJSON) {
		e = stream_head(w, type);
		w->dany[0] = true;	/* after the header fields */
	} else {
		e = json_stream_open(w, type);
		w->dany[0] = false;
	}
	return e < 0 ? fail(w, e) : 0;
}

/* The ',' and "key": before a member of the open container. */
static int direct_member(struct mp_writer *w, const char *key)
{
	struct out_buf *b = &w->obuf;
	int e = 0;

	if (w->dany[w->ddepth])
		e = out_putc(b, ',');
	w->dany[w->ddepth] = true;
	if (e == 0 && w->dkind[w->ddepth] == OUT_OBJ) {
		e = out_json_str(b, key);
		if (e == 0)
			e = out_putc(b, ':');
	}
	return e;
}

static int direct_scalar(struct mp_writer *w, const struct out_node *n)
{
	int e;

	if (w->fmt == MP_FMT_TEXT) {
		if (n->key == NULL)	/* in the record itself: containers make a tree */
			return fail(w, -EINVAL);
		e = out_text_direct_cell(w, n);
		return e < 0 ? fail(w, e) : 0;
	}
	if ((w->dkind[w->ddepth] == OUT_ARR) != (n->key == NULL))
		return fail(w, -EINVAL);
	if (w->dskip || n->textonly)
		return 0;
	e = direct_member(w, n->key);
	if (e == 0)
		e = out_json_value(&w->obuf, n);
	return e < 0 ? fail(w, e) : 0;
}

static int direct_open(struct mp_writer *w, enum out_kind kind, const char *key)
{
	int e = 0;

	if ((w->dkind[w->ddepth] == OUT_ARR) != (key == NULL) ||
	    w->ddepth + 1 >= OUT_DIRECT_DEPTH)
		return fail(w, -EINVAL);
	if (w->dskip || w->audience == MP_FOR_TEXT) {
		w->dskip++;
	} else {
		e = direct_member(w, key);
		if (e == 0)
			e = out_putc(&w->obuf, kind == OUT_OBJ ? '{' : '[');
	}
	w->ddepth++;
	w->dkind[w->ddepth] = kind;
	w->dany[w->ddepth] = false;
	return e < 0 ? fail(w, e) : 0;
}

static int direct_close(struct mp_writer *w, enum out_kind kind)
{
	int e = 0;

	if (!w->ddepth || w->dkind[w->ddepth] != kind)
		return fail(w, -EINVAL);
	w->ddepth--;
	if (w->dskip)
		w->dskip--;
	else
		e = out_putc(&w->obuf, kind == OUT_OBJ ? '}' : ']');
	return e < 0 ? fail(w, e) : 0;
}

int mp_writer_set_label(struct mp_writer *w, const char *key, const char *value)
{
	free(w->rec_label_key);
	free(w->rec_label);
	w->rec_label_key = w->rec_label = NULL;
	if (!value)
		return 0;
	if (!(w->rec_label_key = strdup(key)) || !(w->rec_label = strdup(value)))
		return fail(w, -ENOMEM);
	return 0;
}

int mp_record_begin(struct mp_writer *w, const char *type)
{
	int r;

	/* the type names a json key and an ndjson value: [a-z0-9_] only */
	if (!type || !*type || strlen(type) > 60)
		return fail(w, -EINVAL);
	for (const char *p = type; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return fail(w, -EINVAL);
	r = unit_begin(w, type, NULL);
	if (r == 0)
		r = direct_begin(w, type);
	if (r == 0 && w->rec_label)
		r = mp_put_label(w, w->rec_label_key, "%s", w->rec_label);
	return r;
}

int mp_doc_begin(struct mp_writer *w, const char *title)
{
	if ((w->doc || w->doc_done) && !w->multi_key)
		return fail(w, -EINVAL);
	return unit_begin(w, NULL, title);
}

static int unit_end_check(struct mp_writer *w, bool doc)
{
	if (w->err)
		return w->err;
	if (!w->root || w->cur != w->root || (w->unit_type == NULL) != doc || w->ddepth)
		return fail(w, -EINVAL);
	return 0;
}

/* A record rendered in w's format. */
static int record_render(struct mp_writer *w, const struct out_node *root, const char *type)
{
	switch (w->fmt) {
	case MP_FMT_TEXT:
		return out_text_record(w, root, type);
	case MP_FMT_CSV:
		return out_csv_record(w, root, type);
	case MP_FMT_JSON:
		return json_keep_record(w, root, type);
	case MP_FMT_NDJSON:
		return ndjson_unit(w, root, type);
	case MP_FMT_PROM:
		break;
	}
	return 0;
}

int mp_record_end(struct mp_writer *w)
{
	struct out_node *root = w->root;
	int r = unit_end_check(w, false);

	if (r < 0)
		return r;
	if (w->direct && w->fmt == MP_FMT_TEXT)
		r = out_text_direct_end(w, w->unit_type);
	else if (w->direct)	/* its fields are written: only the end is left */
		r = w->fmt == MP_FMT_NDJSON ? out_put(&w->obuf, "}\n", 2) : out_putc(&w->obuf, '}');
	else if (w->fwd)
		r = out_fwd_unit(w, 'R', w->unit_type, root);
	else
		r = record_render(w, root, w->unit_type);
	w->direct = false;
	if (r == 0)
		w->obuf_done = w->obuf.len;
	if (r == 0 && (w->live || w->obuf.len >= OUT_FLUSH_BYTES))
		r = out_flush(w);
	if (r == 0 && w->live && !w->fwd && fflush(w->f) == EOF)
		r = -errno;
	out_arena_reset(&w->arena);
	w->root = w->cur = NULL;
	return r < 0 ? fail(w, r) : 0;
}

/* One of several documents: rendered now (text, csv, ndjson) or kept in
 * the json array and the prom samples; its arena is reused. */
static int doc_end_multi(struct mp_writer *w)
{
	struct out_node *doc = w->root;
	json_t *o;
	int r = 0;

	switch (w->fmt) {
	case MP_FMT_TEXT:
		r = out_text_doc(w, doc);
		break;
	case MP_FMT_CSV:
		if (!w->csv_records)
			r = out_csv_record(w, doc, NULL);
		break;
	case MP_FMT_NDJSON:
		r = ndjson_unit(w, doc, "summary");
		break;
	case MP_FMT_PROM:
		break;
	case MP_FMT_JSON:
		o = json_object();
		r = !o || json_array_append_new(w->json_docs, o) ||
		    json_add_children(o, doc) < 0 ? -ENOMEM : 0;
		break;
	}
	if (r == 0 && (w->fmt == MP_FMT_PROM || w->keep_prom))
		r = out_prom_add(w, doc);
	if (r == 0)
		r = out_flush(w);
	if (r == 0 && w->live && fflush(w->f) == EOF)
		r = -errno;
	out_arena_reset(&w->arena);
	w->root = w->cur = NULL;
	return r < 0 ? fail(w, r) : 0;
}

int mp_doc_end(struct mp_writer *w)
{
	int r = unit_end_check(w, true);

	if (r < 0)
		return r;
	if (w->fwd) {
		r = out_fwd_unit(w, 'D', NULL, w->root);
		out_arena_reset(&w->arena);
		w->root = w->cur = NULL;
		return r < 0 ? fail(w, r) : 0;
	}
	if (w->multi_key)
		return doc_end_multi(w);
	/* the document outlives this unit: its arena moves aside */
	w->doc = w->root;
	w->doc_arena = w->arena;
	w->arena = (struct out_arena){ 0 };
	w->root = w->cur = NULL;
	w->doc_done = true;
	switch (w->fmt) {
	case MP_FMT_TEXT:
		r = out_text_doc(w, w->doc);
		break;
	case MP_FMT_CSV:
		if (!w->csv_records)
			r = out_csv_record(w, w->doc, NULL);
		break;
	case MP_FMT_NDJSON:
		r = ndjson_unit(w, w->doc, "summary");
		break;
	case MP_FMT_PROM:
	case MP_FMT_JSON:
		break;	/* written at close, after any later records */
	}
	if (r == 0 && (w->fmt == MP_FMT_PROM || w->keep_prom))
		r = out_prom_add(w, w->doc);
	if (r == 0)
		r = out_flush(w);	/* in order with what the tool prints itself */
	return r < 0 ? fail(w, r) : 0;
}

int mp_writer_close(struct mp_writer *w)
{
	int r;

	if (!w)
		return 0;
	r = w->err;
	if (!r && w->root)
		r = -EINVAL;	/* a unit was left open */
	if (r && !w->fwd) {
		/* the whole records before the error still go out, as they did
		 * through stdio: not a direct record's beginning */
		w->obuf.len = w->obuf_done;
		if (w->fmt == MP_FMT_TEXT)
			out_text_flush(w);
		out_flush(w);
	}
	if (!r && !w->fwd && w->fmt == MP_FMT_TEXT)
		r = out_text_flush(w);
	if (!r && !w->fwd && w->fmt == MP_FMT_JSON &&
	    (w->doc || w->json_records || w->json_open || w->json_docs))
		r = json_document(w);
	if (!r && !w->fwd)
		r = out_flush(w);
	if (!r && !w->fwd && w->fmt == MP_FMT_PROM)
		r = out_prom_print(w);
	if (!w->fwd && fflush(w->f) == EOF && !r)
		r = -errno;
	if (!w->fwd && ferror(w->f) && !r)
		r = -EIO;
	out_arena_done(&w->arena);
	out_arena_done(&w->doc_arena);
	json_decref(w->json_records);
	json_decref(w->json_docs);
	free(w->multi_key);
	free(w->rec_label_key);
	free(w->rec_label);
	out_prom_done(w);
	free(w->json_stream_type);
	free(w->jbuf);
	free(w->obuf.p);
	free(w->prefix);
	out_text_done(w);
	free(w->csv_type);
	free(w->table_type);
	free(w->tool);
	free(w->schema);
	free(w);
	return r;
}

/* Containers. */
static int container_begin(struct mp_writer *w, enum out_kind kind, const char *key,
			   const char *title)
{
	struct out_node *n;

	if (w->err)
		return w->err;
	if (w->direct && w->fmt == MP_FMT_TEXT) {
		/* text rows hold scalars: a record with containers is a tree */
		int e = out_text_direct_tree(w);

		w->direct = false;
		if (e < 0)
			return fail(w, e);
	} else if (w->direct) {
		return direct_open(w, kind, key);
	}
	if (!w->cur || (w->cur->kind == OUT_ARR) != (key == NULL))
		return fail(w, -EINVAL);
	n = out_node_new(&w->arena, kind, key, title);
	if (!n)
		return fail(w, -ENOMEM);
	n->textonly = w->audience == MP_FOR_TEXT;
	n->notext = w->audience == MP_FOR_MACHINES;
	n->text_left = w->text_left;
	out_node_add(w->cur, n);
	w->cur = n;
	return 0;
}

static int container_end(struct mp_writer *w, enum out_kind kind)
{
	if (w->err)
		return w->err;
	if (w->direct)
		return direct_close(w, kind);
	if (!w->cur || w->cur == w->root || w->cur->kind != kind)
		return fail(w, -EINVAL);
	w->cur = w->cur->parent;
	return 0;
}

int mp_obj_begin(struct mp_writer *w, const char *key, const char *title)
{
	return container_begin(w, OUT_OBJ, key, title);
}

int mp_obj_end(struct mp_writer *w)
{
	return container_end(w, OUT_OBJ);
}

int mp_arr_begin(struct mp_writer *w, const char *key, const char *title)
{
	return container_begin(w, OUT_ARR, key, title);
}

int mp_arr_end(struct mp_writer *w)
{
	return container_end(w, OUT_ARR);
}

/* Adds a finished scalar n to the open container; takes ownership of n. */
static int put_node(struct mp_writer *w, struct out_node *n)
{
	if (!n)
		return fail(w, -ENOMEM);
	if (w->err)
		return w->err;
	if (w->direct)
		return direct_scalar(w, n);
	if (!w->cur || (w->cur->kind == OUT_ARR) != (n->key == NULL))
		return fail(w, -EINVAL);
	out_node_add(w->cur, n);
	return 0;
}

/* Formats n's text (only the text format keeps it), then adds n. */
/* A figure that could not be computed reads "-" in text, never "nan". */
static void no_nan(char *s)
{
	static const char *const words[] = { "-nan", "nan", "-inf", "inf" };

	for (size_t i = 0; i < MP_ARRAY_SIZE(words); i++) {
		char *p = strstr(s, words[i]);

		if (p) {
			*p = '-';
			memmove(p + 1, p + strlen(words[i]), strlen(p + strlen(words[i])) + 1);
			return;
		}
	}
}

/*
 * The formats of nearly every field ("%s", "%-8s", "%6" PRIu64, "%" PRId64:
 * a conversion for n's kind, an optional '-' and width, nothing else) are
 * formatted here: vsnprintf per field was most of a route listing's text.
 * Returns 1 when n->text is set, 0 for any other format, or -ENOMEM.
 */
static int fast_text(struct mp_writer *w, struct out_node *n, const char *fmt)
{
	const char *p = fmt + 1, *s;
	char digits[24];
	bool left = false;
	size_t width = 0, len;
	char *t;

	if (fmt[0] != '%')
		return 0;
	if (*p == '-') {
		left = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9' && width < 1000; p++)
		width = width * 10 + (size_t)(*p - '0');
	if (n->kind == OUT_STR && !strcmp(p, "s")) {
		if (!width) {
			n->text = n->v.s;	/* the arena's copy, shared */
			return 1;
		}
		s = n->v.s;
		len = strlen(s);
	} else if (n->kind == OUT_U64 && !strcmp(p, PRIu64)) {
		s = digits;
		len = out_u64_text(digits, n->v.u);
	} else if (n->kind == OUT_I64 && !strcmp(p, PRId64)) {
		s = digits;
		digits[0] = '-';
		len = n->v.i < 0 ? 1 + out_u64_text(digits + 1, -(uint64_t)n->v.i)
				 : out_u64_text(digits, (uint64_t)n->v.i);
	} else {
		return 0;
	}
	if (len >= width && s == n->v.s) {
		n->text = n->v.s;	/* the arena's copy, shared */
		return 1;
	}
	t = out_arena_alloc(&w->arena, (len > width ? len : width) + 1);
	if (!t)
		return -ENOMEM;
	if (len >= width) {
		memcpy(t, s, len);
	} else if (left) {
		memcpy(t, s, len);
		memset(t + len, ' ', width - len);
	} else {
		memset(t, ' ', width - len);
		memcpy(t + width - len, s, len);
	}
	n->text = t;	/* zeroed: terminated */
	return 1;
}

static int put_shown(struct mp_writer *w, struct out_node *n, const char *fmt, va_list ap)
{
	char buf[512];
	int r;

	n->shown = fmt != NULL && w->audience != MP_FOR_MACHINES;
	if (fmt && w->fmt == MP_FMT_TEXT && (r = fast_text(w, n, fmt)) != 0) {
		if (r < 0)
			return fail(w, r);
	} else if (fmt && w->fmt == MP_FMT_TEXT) {
		vsnprintf(buf, sizeof(buf), fmt, ap);
		if (n->kind == OUT_F64 && !isfinite(n->v.f))
			no_nan(buf);
		n->text = out_arena_strdup(&w->arena, buf);
		if (!n->text)
			return fail(w, -ENOMEM);
	}
	return put_node(w, n);
}

/* A new scalar node; in a direct record the writer's one, key not copied. */
static struct out_node *scalar(struct mp_writer *w, enum out_kind kind, const char *key)
{
	struct out_node *n = &w->dnode;

	if (w->direct) {
		memset(n, 0, sizeof(*n));
		n->kind = kind;
		n->key = (char *)(uintptr_t)key;	/* written before the put returns */
		n->textonly = w->audience == MP_FOR_TEXT;
		n->alert = w->alert;
		return n;
	}
	n = out_node_new(&w->arena, kind, key, NULL);

	if (n) {
		n->textonly = w->audience == MP_FOR_TEXT;
		n->alert = w->alert;
	}
	return n;
}

void mp_writer_audience(struct mp_writer *w, enum mp_audience a)
{
	w->audience = a;
}

void mp_writer_alert(struct mp_writer *w, bool on)
{
	w->alert = on;
}

void mp_writer_text_left(struct mp_writer *w, unsigned n)
{
	w->text_left = (unsigned char)(n < 255 ? n : 255);
}

/*
 * The typed entry points read their value as the first variadic argument
 * (va_copy keeps the list intact for vsnprintf, which formats the same
 * value for text).
 */
#define PUT_TYPED(name, kind, ctype, field, is_label)                               \
	int name(struct mp_writer *w, const char *key, const char *fmt, ...)        \
	{                                                                           \
		struct out_node *n = scalar(w, kind, key);                             \
		va_list ap, cp;                                                     \
		int r;                                                              \
		if (!n)                                                             \
			return fail(w, -ENOMEM);                                    \
		n->label = is_label;                                                \
		va_start(ap, fmt);                                                  \
		va_copy(cp, ap);                                                    \
		n->v.field = va_arg(cp, ctype);                                     \
		va_end(cp);                                                         \
		r = put_shown(w, n, fmt, ap);                                       \
		va_end(ap);                                                         \
		return r;                                                           \
	}

PUT_TYPED(mp_put_u64_, OUT_U64, uint64_t, u, false)
PUT_TYPED(mp_put_u64_label_, OUT_U64, uint64_t, u, true)
PUT_TYPED(mp_put_i64_, OUT_I64, int64_t, i, false)
PUT_TYPED(mp_put_f64_, OUT_F64, double, f, false)

static int put_string(struct mp_writer *w, const char *key, bool label, const char *s,
		      const char *fmt, va_list ap)
{
	struct out_node *n = scalar(w, OUT_STR, key);

	if (!n)
		return fail(w, -ENOMEM);
	n->label = label;
	if (w->direct && w->fmt != MP_FMT_TEXT)	/* json: written before we return */
		n->v.s = (char *)(uintptr_t)(s ? s : "");
	else if (!(n->v.s = out_arena_strdup(&w->arena, s ? s : "")))
		return fail(w, -ENOMEM);
	return put_shown(w, n, fmt, ap);
}

#define PUT_STRING(name, label)                                                     \
	int name(struct mp_writer *w, const char *key, const char *fmt, ...)        \
	{                                                                           \
		va_list ap, cp;                                                     \
		const char *s;                                                      \
		int r;                                                              \
		va_start(ap, fmt);                                                  \
		va_copy(cp, ap);                                                    \
		s = va_arg(cp, const char *);                                       \
		va_end(cp);                                                         \
		r = put_string(w, key, label, s, fmt, ap);                          \
		va_end(ap);                                                         \
		return r;                                                           \
	}

PUT_STRING(mp_put_str_, false)
PUT_STRING(mp_put_label_, true)

int mp_put_bool_(struct mp_writer *w, const char *key, bool v, const char *fmt, ...)
{
	struct out_node *n = scalar(w, OUT_BOOL, key);
	va_list ap;
	int r;

	if (!n)
		return fail(w, -ENOMEM);
	n->v.b = v;
	va_start(ap, fmt);
	r = put_shown(w, n, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * The placeholder argument only lets the compiler check that fmt takes one
 * string; the text is formatted from the RFC 3339 string made here.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
int mp_put_time_(struct mp_writer *w, const char *key, uint64_t real_ns, const char *fmt, ...)
{
	char t[64], text[256];
	struct out_node *n;
	int r = mp_clock_rfc3339(real_ns, t, sizeof(t));

	if (r < 0)
		return fail(w, r);
	n = scalar(w, OUT_STR, key);
	if (!n || !(n->v.s = out_arena_strdup(&w->arena, t)))
		goto nomem;
	n->shown = true;
	if (w->fmt == MP_FMT_TEXT) {
		snprintf(text, sizeof(text), fmt, t);
		if (!(n->text = out_arena_strdup(&w->arena, text)))
			goto nomem;
	}
	return put_node(w, n);
nomem:
	return fail(w, -ENOMEM);
}
#pragma GCC diagnostic pop

/* Text-less fields. */
int mp_put_u64_notext(struct mp_writer *w, const char *key, uint64_t v)
{
	struct out_node *n = scalar(w, OUT_U64, key);

	if (n)
		n->v.u = v;
	return put_node(w, n);
}

int mp_put_i64_notext(struct mp_writer *w, const char *key, int64_t v)
{
	struct out_node *n = scalar(w, OUT_I64, key);

	if (n)
		n->v.i = v;
	return put_node(w, n);
}

int mp_put_f64_notext(struct mp_writer *w, const char *key, double v)
{
	struct out_node *n = scalar(w, OUT_F64, key);

	if (n)
		n->v.f = v;
	return put_node(w, n);
}

int mp_put_bool_notext(struct mp_writer *w, const char *key, bool v)
{
	struct out_node *n = scalar(w, OUT_BOOL, key);

	if (n)
		n->v.b = v;
	return put_node(w, n);
}

int mp_put_str_notext(struct mp_writer *w, const char *key, const char *v)
{
	struct out_node *n = scalar(w, OUT_STR, key);

	if (n && !(n->v.s = out_arena_strdup(&w->arena, v ? v : "")))
		n = NULL;
	return put_node(w, n);
}
