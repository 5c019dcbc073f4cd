/* SPDX-License-Identifier: MIT */
/* out: internals shared by the writer's files (not part of the API). */
#ifndef MP_OUT_INT_H
#define MP_OUT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "out.h"

enum out_kind { OUT_OBJ, OUT_ARR, OUT_U64, OUT_I64, OUT_F64, OUT_STR, OUT_BOOL };

struct out_node {
	enum out_kind kind;
	char *key;		/* NULL inside arrays */
	char *title;		/* containers: name in text output */
	char *text;		/* scalars: formatted text (text format only) */
	bool shown;		/* scalars: appear in text output */
	bool label;		/* strings: a Prometheus label */
	bool textonly;		/* shown in text, left out of the other formats */
	bool notext;		/* containers: not shown in text (scalars: !shown) */
	bool alert;		/* scalars: red in colour text (mp_writer_alert) */
	unsigned char text_left;	/* arrays, unit roots: their rows' text-only
					 * columns left-aligned, from the first */
	union {
		uint64_t u;
		int64_t i;
		double f;
		char *s;
		bool b;
	} v;
	struct out_node *parent, *child, *last, *next;
};

/*
 * A unit's nodes and strings come from an arena that is reset when the unit
 * has been rendered: no malloc/free per field (a route listing writes tens
 * of millions of fields).
 */
/*
 * Records are rendered into the writer's buffer and handed to the FILE in
 * large writes (out_flush): a route listing is tens of millions of cells,
 * and a stdio call per cell cost more than the formatting.
 */
struct out_buf {
	char *p;
	size_t len, cap;
};

int out_buf_grow(struct out_buf *b, size_t n);	/* room for n more; -ENOMEM */

static inline int out_put(struct out_buf *b, const char *s, size_t n)
{
	if (!n)
		return 0;	/* b->p may be NULL yet */
	if (b->cap - b->len < n && out_buf_grow(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static inline int out_puts(struct out_buf *b, const char *s)
{
	return out_put(b, s, strlen(s));
}

static inline int out_putc(struct out_buf *b, char c)
{
	if (b->cap == b->len && out_buf_grow(b, 1) < 0)
		return -ENOMEM;
	b->p[b->len++] = c;
	return 0;
}

/* n spaces. */
int out_pad(struct out_buf *b, size_t n);
/* Decimal digits of v into buf (at least 21 bytes, not terminated); the count. */
size_t out_u64_text(char *buf, uint64_t v);
/* Hands w->obuf to w->f. Returns 0, or -EIO (-errno). */
int out_flush(struct mp_writer *w);
/* When the records rendered so far should be handed on: live, or a lot. */
enum { OUT_FLUSH_BYTES = 64 * 1024 };

struct out_block;
struct out_samples;
struct out_text_table;
struct out_arena {
	struct out_block *head;		/* block being filled; older ones follow */
};

enum { OUT_DIRECT_DEPTH = 32 };	/* nesting in a directly written record */

struct mp_writer {
	enum mp_format fmt;
	FILE *f;			/* not owned */
	char *tool, *schema;
	int err;			/* first error, sticky */
	struct out_arena arena;		/* the unit being built */
	struct out_arena doc_arena;	/* the finished document */
	struct out_node *root;		/* unit being built */
	struct out_node *cur;		/* open container in root */
	const char *unit_type;		/* record type, NULL for the document */
	struct out_node *doc;		/* finished summary document */
	bool doc_done;
	json_t *json_records;		/* json: type + "s" -> array of records */
	char *json_stream_type;		/* json: the record type being streamed */
	bool json_open;			/* json: the document's '{' is written */
	bool json_first;		/* json: no record streamed yet */
	bool live;			/* flush each record */
	char *prefix;			/* json/ndjson: escaped header fields */
	char *jbuf;			/* json: dump buffer, reused */
	size_t jbuf_len;
	struct out_buf obuf;		/* rendered records not yet handed to f */
	size_t obuf_done;		/* obuf's length at the last whole record */
	uint64_t time_sec;		/* json/ndjson: the second time_head is of */
	char time_head[32];		/* "YYYY-MM-DDTHH:MM:SS." of time_sec */
	char *table_type;		/* csv: set by mp_writer_set_table */
	char *csv_type;			/* csv: type whose rows are written */
	bool csv_rows;			/* csv: the header row was written */
	bool csv_records;		/* csv: a record row was written */
	char *multi_key;		/* several documents (mp_writer_set_multi) */
	json_t *json_docs;		/* json: those documents, in order */
	struct out_samples *prom;	/* prom: gauges of the documents */
	const struct mp_prom_help *prom_help;	/* prom: HELP in words */
	char *rec_label_key, *rec_label;	/* first field of every record */
	bool keep_prom;			/* gauges kept for a textfile in any format */
	struct out_text_table *text;	/* text: the table being streamed */
	bool fwd;			/* units go to fwd_fd (mp_writer_forward) */
	int fwd_fd;
	uint64_t unit_time_ns;		/* replay: when the unit was written; 0: now */
	/*
	 * json/ndjson records are written as their fields come (out.c,
	 * "direct"), with no node tree: the open containers' kinds, and
	 * whether one has a member yet, from the record (depth 0) in.
	 */
	bool direct;
	unsigned ddepth;		/* containers open in the record */
	unsigned dskip;			/* of those, text-only ones (not written) */
	enum out_kind dkind[OUT_DIRECT_DEPTH];
	bool dany[OUT_DIRECT_DEPTH];
	struct out_node dnode;		/* the scalar being written */
	enum mp_audience audience;	/* of the nodes begun now (mp_writer_audience) */
	bool alert;			/* the scalars put now are alerts */
	bool color;			/* text: SGR colour (a terminal, --color) */
	unsigned char text_left;	/* mp_writer_text_left, for the containers begun now */
};

void *out_arena_alloc(struct out_arena *a, size_t n);	/* zeroed */
char *out_arena_strdup(struct out_arena *a, const char *s);
/* Keeps the first block for the next unit, frees the rest. */
void out_arena_reset(struct out_arena *a);
void out_arena_done(struct out_arena *a);

struct out_node *out_node_new(struct out_arena *a, enum out_kind kind, const char *key,
			      const char *title);
void out_node_add(struct out_node *parent, struct out_node *n);
bool out_node_is_scalar(const struct out_node *n);
/* Visits the scalars under n depth-first (text-only nodes under a node that
 * is not are left out); arrays of scalars are one visit
 * (with the array node), arrays of objects are skipped. path holds the keys
 * from n (exclusive) joined with '.' (text: ""). Stops at the first
 * negative return. */
typedef int (*out_visit_fn)(const struct out_node *n, const char *path, void *ctx);
int out_node_visit(const struct out_node *n, out_visit_fn fn, void *ctx);
/* The same for text: text-only nodes in, machine-only containers out. */
int out_node_visit_text(const struct out_node *n, out_visit_fn fn, void *ctx);
/*
 * The value of a scalar (or array of scalars, space-joined) as csv text:
 * integers in decimal; doubles in the shortest text that keeps what the
 * key's unit says was measured (out_csv_double); NaN as "".
 */
int out_node_value(const struct out_node *n, char *buf, size_t len);
/*
 * A double for csv, by the unit of its key: _ms at most 6 decimals, _us 3,
 * _s 9 (each measured to the nanosecond), trailing zeros dropped; _ns and
 * whole values as integers; anything else 6 significant digits. NaN and
 * infinities: "". Returns the length, or -ENOSPC.
 */
int out_csv_double(const char *key, double v, char *buf, size_t len);

/* forward mode: a unit ('R' record of type, 'D' document, 'T' table type)
 * written to w->fwd_fd. Returns 0, or -errno. */
int out_fwd_unit(struct mp_writer *w, char tag, const char *type, const struct out_node *root);

int out_text_record(struct mp_writer *w, const struct out_node *root, const char *type);
int out_text_doc(struct mp_writer *w, const struct out_node *doc);
/* Prints the rows a batch writer holds back to size its table's columns
 * (before anything else is written). Returns 0, or -errno. */
int out_text_flush(struct mp_writer *w);
void out_text_done(struct mp_writer *w);
/* Direct text records (out.c): the row begun, a scalar's cell, the row
 * ended into its table; out_text_direct_tree() turns the cells so far into
 * nodes under w->root when the record turns out not to be flat. */
int out_text_direct_begin(struct mp_writer *w);
int out_text_direct_cell(struct mp_writer *w, const struct out_node *n);
int out_text_direct_end(struct mp_writer *w, const char *type);
int out_text_direct_tree(struct mp_writer *w);
/* json/ndjson by hand (out_json.c): a string, quoted and escaped as
 * jansson's JSON_ENSURE_ASCII does; the members (elements) of an object
 * (array) node, each preceded by ',' when comma or after the first. */
int out_json_str(struct out_buf *b, const char *s);
/* s with each byte that is not part of valid UTF-8 replaced by U+FFFD, as
 * out_json_str writes it (malloc'd; NULL: no memory). */
char *out_utf8_clean(const char *s);
int out_json_members(struct out_buf *b, const struct out_node *n, bool comma);
/* A scalar's (or a whole container node's) json value. */
int out_json_value(struct out_buf *b, const struct out_node *n);
int out_csv_record(struct mp_writer *w, const struct out_node *root, const char *type);
/* prom: a document's gauges join the writer's samples; printed at the close,
 * grouped by metric, so several documents (one per target) make one valid
 * exposition. */
int out_prom_add(struct mp_writer *w, const struct out_node *doc);
int out_prom_print(struct mp_writer *w);
/* The textfile: every sample with job="JOB" first, then the run's gauges. */
int out_prom_textfile(struct mp_writer *w, FILE *f, const char *job, double now_s, int status);
void out_prom_done(struct mp_writer *w);

#endif
