/* SPDX-License-Identifier: MIT */
/*
 * out: the one writer. Every tool renders through it; measurement code never
 * prints. Formats: text (people), csv (libcsv), json and ndjson (jansson),
 * prom (Prometheus text exposition). docs/FORMATS.md is the user-facing
 * description of what each format looks like.
 *
 * Model. A tool writes two kinds of units:
 *
 *  - records (mp_record_begin/end): streamed units such as an interval
 *    report, a packet or a route. ndjson: one line each, as it happens;
 *    csv: one row each (header row first); text: one table row each (header
 *    before the first); json: an array "<type>s" of the document — the
 *    records of the first type are streamed into it as they end (memory
 *    stays flat for a million routes), those of later types are kept until
 *    the document is closed; prom: ignored (a snapshot of the summary).
 *  - the summary document (mp_doc_begin/end), at most one per writer
 *    (one per target after mp_writer_set_multi).
 *    json: the top-level object, written when the writer is closed; ndjson:
 *    one line of type "summary"; text: a block of lines; csv: one row, but
 *    only when no record rows were written (a CSV stream holds one table);
 *    prom: every numeric field becomes a gauge.
 *
 * Inside a unit, objects (mp_obj_begin/end) and arrays (mp_arr_begin/end)
 * nest. Each field is written once, with its key (the machine name, carrying
 * its unit: rtt_ms, rate_bps) and its text format (a printf format for the
 * value, checked by the compiler), e.g.
 *
 *	mp_put_f64(w, "rtt_ms", "rtt %.3f ms", rtt_ms);
 *
 * The *_notext variants write a field that text output does not show.
 * Labels (mp_put_label) are identifying strings: Prometheus labels for every
 * gauge in their object and below; an ordinary string field elsewhere.
 *
 * JSON documents and NDJSON records start with "tool", "version", "schema"
 * and "time" (UTC RFC 3339); NDJSON records also carry "type". NaN doubles
 * are written as null (json), empty (csv), "-" (text) and are skipped
 * (prom).
 *
 * Errors are sticky: after the first failure every call returns it, and
 * mp_writer_close() reports it. Misnesting returns -EINVAL.
 */
#ifndef MP_OUT_H
#define MP_OUT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mp.h"

enum mp_format {
	MP_FMT_TEXT,
	MP_FMT_CSV,
	MP_FMT_JSON,
	MP_FMT_NDJSON,
	MP_FMT_PROM,
};

/* The list for usage texts and error messages. */
#define MP_FORMATS "text, csv, json, ndjson, prom"

/* Parses "text", "csv", "json", "ndjson" or "prom". Returns 0, or -EINVAL. */
int mp_format_parse(const char *s, enum mp_format *ret);
/* -f FORMAT for a tool (lib/out_diag.c): parsed, or reported ("invalid
 * format 'xml': one of text, csv, ...") and -EINVAL. */
int mp_opt_format(const char *arg, enum mp_format *ret);

struct mp_writer;

/*
 * Colour in text (headings bold, alerts red), as --color=WHEN sets it for
 * the process: WHEN auto (the default: on a terminal, unless NO_COLOR is
 * set and not empty, or TERM is dumb), always (also for a NULL WHEN, the
 * bare --color) or never. mp_opt_color() returns 0, or -EINVAL after
 * saying why. mp_color_for(): whether text written to f is coloured; a
 * text writer decides when it is made. Never in the other formats.
 */
int mp_opt_color(const char *arg);
bool mp_color_for(FILE *f);

/*
 * Creates a writer for fmt on f (not owned: never closed by the writer).
 * tool and schema (e.g. "owd", "owd/1") are copied. Returns 0, or -errno;
 * *ret set on success.
 */
int mp_writer_new(struct mp_writer **ret, enum mp_format fmt, FILE *f, const char *tool,
		  const char *schema);

/*
 * Writes what is pending (the json document, prom gauges), flushes f and
 * frees w. Accepts NULL. Returns 0, or the first error of the writer's life
 * (a write error on f is -EIO, or its errno).
 */
int mp_writer_close(struct mp_writer *w);

/*
 * Several summary documents, one per target (a tool given more than one):
 * mp_doc_begin/end may then be called again. text: one block each; csv: one
 * row each (the first one's header) when no record rows were written;
 * ndjson: one "summary" line each; json: the array key (e.g. "targets") of
 * the one document, an element per summary, in order (empty if none);
 * prom: the gauges of all of them, grouped by metric (a label such as dst
 * tells them apart). key is copied. Returns 0, or -ENOMEM.
 */
int mp_writer_set_multi(struct mp_writer *w, const char *key);

/*
 * Every record begun from now on starts with the label key = value (e.g.
 * "dst", the target being measured), so that the records of several
 * targets say whose they are; value NULL stops it. Both are copied.
 * Returns 0, or -ENOMEM.
 */
int mp_writer_set_label(struct mp_writer *w, const char *key, const char *value);

/*
 * --textfile: the summary documents also become Prometheus gauges (in any
 * format), and mp_writer_textfile() writes them, each with the label
 * job="JOB", for node_exporter's textfile collector as DIR/TOOL-JOB.prom,
 * replaced atomically (mp_file_replace: a reader sees the last run or this
 * one, never part of one), with meshperf_TOOL_last_run_timestamp_seconds,
 * meshperf_TOOL_success (status == 0) and meshperf_TOOL_exit_code. JOB:
 * letters, digits, '_', '.', ':', '-'. Call mp_writer_keep_prom() before
 * the first document, mp_writer_textfile() after the last, before the
 * close. Returns 0, or -EINVAL (job), or -errno.
 */
void mp_writer_keep_prom(struct mp_writer *w);
bool mp_textfile_job_valid(const char *job);
int mp_writer_textfile(struct mp_writer *w, const char *dir, const char *job, int status);
/* A tool's end of run: with dir (--textfile; NULL: nothing to do), the file
 * for job (NULL: "default"); an error is reported and makes the status 2.
 * Returns the exit status. */
int mp_textfile_finish(struct mp_writer *w, const char *dir, const char *job, int status);

/*
 * Prometheus HELP in words: help is a table, ended by { NULL, NULL }, of a
 * series' key path in the document ("forward.owd_ms", "sent"; array
 * elements add no key; "*" stands for any one key; the first match counts)
 * and what it measures ("one-way delay from this host
 * to the reflector, raw: it includes the clock offset"). A statistic of an
 * object (min, max, mean, stddev, last, mean_abs) without its own entry
 * reads "smallest <the object's words>", and the object's summary (its
 * median and pNN quantiles) takes the object's words. Not copied: keep it
 * for the writer's life.
 */
struct mp_prom_help {
	const char *path;
	const char *help;
};
void mp_writer_prom_help(struct mp_writer *w, const struct mp_prom_help *help);

/*
 * A measurement run in a child process (a fork of the writer's owner):
 * mp_writer_forward() makes the child's copy of w send every unit it ends
 * (records, documents, mp_writer_set_table) over fd instead of rendering it;
 * nothing is ever written to w's FILE, and mp_writer_close() only frees it
 * and reports the first error. The owner then calls mp_writer_replay(w, fd)
 * with fd read from its start (a memfd, a file): each unit is rendered as if
 * it had been written through w. Returns 0, or -EINVAL (a unit open,
 * replaying into a forwarding writer), -EBADMSG (not a unit stream), or
 * another -errno.
 */
int mp_writer_forward(struct mp_writer *w, int fd);
int mp_writer_replay(struct mp_writer *w, int fd);

/* The writer's format, for tools that choose what to emit (e.g. csv tables). */
enum mp_format mp_writer_format(const struct mp_writer *w);

/*
 * In csv, only records of this type become rows (default: the type of the
 * first record). type is copied. Returns 0, or -errno.
 */
int mp_writer_set_table(struct mp_writer *w, const char *type);

/*
 * Live writers (the default) flush every record as it ends, so a pipe or a
 * terminal sees each interval or event at once. A tool that writes many
 * records in one burst (a route listing) turns this off: the writer then
 * hands its output on in 64 KiB writes, and in text holds a table's first
 * 1,024 rows to size its columns and leave out the empty ones
 * (docs/FORMATS.md); mp_doc_end() and mp_writer_close() flush. Such a tool
 * prints nothing to the FILE itself between its records.
 */
void mp_writer_set_live(struct mp_writer *w, bool live);

/* Colour decided by the caller, not by the FILE (text only): a screen drawn
 * through a buffer for a terminal (pathping's live view). */
void mp_writer_set_color(struct mp_writer *w, bool color);

/* Begins/ends a streamed record of the given type ("interval", "packet"). */
int mp_record_begin(struct mp_writer *w, const char *type);
int mp_record_end(struct mp_writer *w);

/* Begins/ends the summary document; title heads it in text (may be NULL). */
int mp_doc_begin(struct mp_writer *w, const char *title);
int mp_doc_end(struct mp_writer *w);

/*
 * Nested object / array under key (NULL inside an array). title names it in
 * text (NULL: the key). In text, an array of objects is a table; an array of
 * scalars is one line.
 */
int mp_obj_begin(struct mp_writer *w, const char *key, const char *title);
int mp_obj_end(struct mp_writer *w);
int mp_arr_begin(struct mp_writer *w, const char *key, const char *title);
int mp_arr_end(struct mp_writer *w);

/*
 * Fields. key is NULL inside arrays. fmt is a printf format for exactly one
 * argument of the field's type; the macros below convert the value so that
 * the compiler checks fmt against the real type. Returns 0, or -errno.
 */
int mp_put_u64_(struct mp_writer *w, const char *key, const char *fmt, ...) MP_PRINTF(3, 4);
int mp_put_i64_(struct mp_writer *w, const char *key, const char *fmt, ...) MP_PRINTF(3, 4);
int mp_put_f64_(struct mp_writer *w, const char *key, const char *fmt, ...) MP_PRINTF(3, 4);
int mp_put_str_(struct mp_writer *w, const char *key, const char *fmt, ...) MP_PRINTF(3, 4);
int mp_put_label_(struct mp_writer *w, const char *key, const char *fmt, ...) MP_PRINTF(3, 4);
/* A number in json, ndjson and csv that labels its object's samples in prom. */
int mp_put_u64_label_(struct mp_writer *w, const char *key, const char *fmt, ...) MP_PRINTF(3, 4);
/* fmt formats the string "yes" or "no". */
int mp_put_bool_(struct mp_writer *w, const char *key, bool v, const char *fmt, ...)
	MP_PRINTF(4, 5);

#define mp_put_u64(w, key, fmt, v) mp_put_u64_((w), (key), (fmt), (uint64_t)(v))
#define mp_put_i64(w, key, fmt, v) mp_put_i64_((w), (key), (fmt), (int64_t)(v))
#define mp_put_f64(w, key, fmt, v) mp_put_f64_((w), (key), (fmt), (double)(v))
#define mp_put_str(w, key, fmt, v) mp_put_str_((w), (key), (fmt), (const char *)(v))
#define mp_put_label(w, key, fmt, v) mp_put_label_((w), (key), (fmt), (const char *)(v))
#define mp_put_u64_label(w, key, fmt, v) mp_put_u64_label_((w), (key), (fmt), (uint64_t)(v))
/* v is evaluated twice. */
#define mp_put_bool(w, key, fmt, v) mp_put_bool_((w), (key), !!(v), (fmt), (v) ? "yes" : "no")

/*
 * Who the fields and containers begun from now on are for: everyone (the
 * default), text only, or the machine formats only (not shown in text, as
 * the *_notext calls). A tool lays out its text for people with the first
 * (a table of the figures that the machine formats carry in their own
 * shape, written for the machines): text-only nodes are left out of json,
 * ndjson, csv, prom and the textfile's gauges; in a table (or a text
 * record) text-only strings are right-aligned (cells such as "35.1ms")
 * except in its first mp_writer_text_left() columns (labels, hosts;
 * default 1, taken when the table or record begins); a text-only table
 * with an empty title has no title line.
 */
enum mp_audience { MP_FOR_ALL, MP_FOR_TEXT, MP_FOR_MACHINES };
/* The fields put while on are alerts (loss, a black hole, a tunnel down):
 * red in colour text; nothing changes elsewhere. */
void mp_writer_alert(struct mp_writer *w, bool on);
void mp_writer_audience(struct mp_writer *w, enum mp_audience a);
void mp_writer_text_left(struct mp_writer *w, unsigned n);

/* Fields that text output does not show. */
int mp_put_u64_notext(struct mp_writer *w, const char *key, uint64_t v);
int mp_put_i64_notext(struct mp_writer *w, const char *key, int64_t v);
int mp_put_f64_notext(struct mp_writer *w, const char *key, double v);
int mp_put_str_notext(struct mp_writer *w, const char *key, const char *v);
int mp_put_bool_notext(struct mp_writer *w, const char *key, bool v);

/*
 * A CLOCK_REALTIME instant in ns as a UTC RFC 3339 string; fmt formats the
 * string.
 */
int mp_put_time_(struct mp_writer *w, const char *key, uint64_t real_ns, const char *fmt, ...)
	MP_PRINTF(4, 5);
#define mp_put_time(w, key, fmt, ns) mp_put_time_((w), (key), (ns), (fmt), "")

/*
 * Figures for people (text layouts), each with its own scaled unit and 3
 * significant digits: "782ns", "4.53µs", "35.1ms", "1.20s"; "9.87 Mbit/s";
 * "5.40 Mpps". NaN: "-". buf of MP_FMT_LEN; returns buf.
 */
#define MP_FMT_LEN 24
const char *mp_fmt_ns(char *buf, size_t len, double ns);
const char *mp_fmt_bps(char *buf, size_t len, double bps);
const char *mp_fmt_pps(char *buf, size_t len, double pps);

/* Nanoseconds as milliseconds, for *_ms keys. */
#define MP_NS_TO_MS(ns) ((double)(ns) / 1e6)

#endif
