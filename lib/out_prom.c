/* SPDX-License-Identifier: MIT */
/*
 * out: the Prometheus text exposition renderer (format 0.0.4).
 *
 * Every number and boolean of the summary document becomes a gauge named
 * meshperf_<tool>_<path>, the path being the keys from the document root
 * joined with '_'. Unit suffixes in keys are turned into Prometheus base
 * units at the end of the name: _s/_ms/_us/_ns -> _seconds (value scaled),
 * _pct -> _ratio (/100), _bps -> _bytes_per_second (/8), _pps ->
 * _packets_per_second, _bytes stays. Label fields (mp_put_label) label
 * every gauge of their object and below; the elements of an array of
 * objects are told apart by their labels. Text-only nodes (layouts for
 * people) are left out. In an object, the quantile fields "median" and
 * "pNN" (p95, p999) make one summary named after the object (its unit
 * included), a sample each with quantile="0.5", "0.95", "0.999"; the other
 * fields of the object (min, mean, max, stddev) stay gauges. HELP is the
 * tool's words for the series (mp_writer_prom_help): its entry for the
 * path, or for a statistic (min, max, mean, stddev, last, mean_abs) the
 * statistic's name before the entry of its object; the key path when the
 * tool has none. Samples of one metric are
 * grouped under one HELP/TYPE pair, metrics in the order first seen, over
 * every document of the writer (one per target). A textfile (--textfile)
 * is the same exposition with a job label on every sample and the run's
 * own gauges after it.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "out_int.h"

enum { NAME_MAX_LEN = 200, LABELS_MAX_LEN = 1024 };

enum { HELP_MAX_LEN = 400 };

struct sample {
	char name[NAME_MAX_LEN];
	char labels[LABELS_MAX_LEN];	/* "a=\"x\",b=\"y\"" */
	char help[HELP_MAX_LEN];
	bool summary;			/* a quantile of a summary */
	double value;
};

struct out_samples {
	struct sample *v;
	size_t n, cap;
};

static const struct unit {
	const char *suffix;	/* in our keys */
	const char *base;	/* Prometheus base unit */
	double scale;
} units[] = {
	{ "_s", "_seconds", 1 },
	{ "_ms", "_seconds", 1e-3 },
	{ "_us", "_seconds", 1e-6 },
	{ "_ns", "_seconds", 1e-9 },
	{ "_pct", "_ratio", 1e-2 },
	{ "_bps", "_bytes_per_second", 1.0 / 8 },	/* Prometheus: bytes, never bits */
	{ "_pps", "_packets_per_second", 1 },
	{ "_bytes", "_bytes", 1 },
};

/*
 * Appends key to name with '_', stripping a unit suffix into *unit. A key
 * "X_count" is the gauge "Xs" (route_count: routes): promtool reserves the
 * "_count" suffix for summaries and histograms.
 */
static int name_add(char *name, size_t len, const char *key, const struct unit **unit)
{
	size_t at = strlen(name), kl = strlen(key);
	bool count = kl > 6 && !strcmp(key + kl - 6, "_count");

	for (size_t i = 0; i < MP_ARRAY_SIZE(units); i++) {
		size_t sl = strlen(units[i].suffix);

		if (kl > sl && !strcmp(key + kl - sl, units[i].suffix)) {
			*unit = &units[i];
			kl -= sl;
			break;
		}
	}
	if (count)
		kl -= 6;
	if (at + 2 + kl >= len)
		return -ENAMETOOLONG;
	name[at++] = '_';
	for (size_t i = 0; i < kl; i++) {
		char c = key[i];

		name[at++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') ? c : '_';
	}
	if (count)
		name[at++] = 's';
	name[at] = '\0';
	return 0;
}

static int label_add(char *labels, size_t len, const char *key, const char *value)
{
	size_t at = strlen(labels);

	if (at + strlen(key) + 4 >= len)
		return -ENAMETOOLONG;
	at += (size_t)snprintf(labels + at, len - at, "%s%s=\"", at ? "," : "", key);
	for (const char *p = value; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;

		if (at + 3 >= len)
			return -ENAMETOOLONG;
		if (esc) {
			memcpy(labels + at, esc, 2);
			at += 2;
		} else {
			labels[at++] = *p;
		}
	}
	if (at + 2 >= len)
		return -ENAMETOOLONG;
	labels[at++] = '"';
	labels[at] = '\0';
	return 0;
}

static int sample_add(struct out_samples *s, const struct sample *in)
{
	struct sample *x;

	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, in->name) && !strcmp(s->v[i].labels, in->labels))
			return 0;	/* one series once: the first value wins */
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;

		x = realloc(s->v, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		s->v = x;
		s->cap = cap;
	}
	s->v[s->n++] = *in;
	return 0;
}

struct walk {
	struct out_samples *s;
	const char *prefix;	/* meshperf_<tool> */
	const struct mp_prom_help *help;
};

/* "median" -> "0.5", "p95" -> "0.95", "p999" -> "0.999"; NULL: not a quantile. */
static const char *quantile(const char *key, char *buf, size_t len)
{
	size_t n;

	if (!key)
		return NULL;
	if (!strcmp(key, "median"))
		return "0.5";
	n = strlen(key);
	if (n < 3 || key[0] != 'p' || strspn(key + 1, "0123456789") != n - 1 || n - 1 + 3 > len)
		return NULL;
	if (!strcmp(key + 1, "50"))
		return "0.5";
	if (!strcmp(key + 1, "100"))
		return "1";
	snprintf(buf, len, "0.%s", key + 1);
	return buf;
}

/* pattern: keys joined with '.', "*" for any one key. */
static bool path_match(const char *pattern, const char *path)
{
	while (*pattern && *path) {
		size_t pl = strcspn(pattern, "."), kl = strcspn(path, ".");

		if (!(pl == 1 && *pattern == '*') && (pl != kl || strncmp(pattern, path, pl)))
			return false;
		pattern += pl + (pattern[pl] == '.');
		path += kl + (path[kl] == '.');
	}
	return !*pattern && !*path;
}

static const char *help_find(const struct mp_prom_help *h, const char *path)
{
	for (; h && h->path; h++)
		if (path_match(h->path, path))
			return h->help;
	return NULL;
}

/*
 * The HELP text of the field at path (keys joined with '.'), its last key
 * being key; quantile: the field is a quantile of its object's summary.
 */
static void help_for(const struct walk *wk, const char *path, const char *key, bool quantile,
		     char *buf, size_t len)
{
	static const struct { const char *key, *words; } stats[] = {
		{ "min", "smallest" }, { "max", "largest" }, { "mean", "mean" },
		{ "stddev", "standard deviation of the" }, { "last", "last" },
		{ "mean_abs", "mean absolute" },
	};
	const char *h = help_find(wk->help, path), *dot = strrchr(path, '.');
	char parent[HELP_MAX_LEN];

	if (h) {
		snprintf(buf, len, "%s", h);
		return;
	}
	if (dot) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path), path);
		h = help_find(wk->help, parent);
	}
	if (h && quantile) {
		snprintf(buf, len, "%s", h);
		return;
	}
	for (size_t i = 0; h && key && i < MP_ARRAY_SIZE(stats); i++) {
		if (!strcmp(key, stats[i].key)) {
			snprintf(buf, len, "%s %s", stats[i].words, h);
			return;
		}
	}
	/* the tool has no words for it: the key path (of the summary) */
	snprintf(buf, len, "%s", quantile && dot ? parent : path);
}

/*
 * keys: the key path from the root (NULL entries for array elements),
 * depth entries. labels: inherited labels.
 */
static int walk_obj(struct walk *wk, const struct out_node *n, const char **keys,
		    size_t depth, const char *inherited)
{
	char labels[LABELS_MAX_LEN];
	int e = 0;

	snprintf(labels, sizeof(labels), "%s", inherited);
	for (const struct out_node *k = n->child; k && e == 0; k = k->next) {
		char num[24];

		if (!k->label || k->textonly)
			continue;
		if (k->kind == OUT_U64)
			snprintf(num, sizeof(num), "%" PRIu64, k->v.u);
		if (k->kind == OUT_STR || k->kind == OUT_U64)
			e = label_add(labels, sizeof(labels), k->key ? k->key : "value",
				      k->kind == OUT_STR ? k->v.s : num);
	}
	if (depth >= 16)
		return -E2BIG;
	for (const struct out_node *k = n->child; k && e == 0; k = k->next) {
		struct sample x = { .labels = "" };
		char path[HELP_MAX_LEN] = "", qbuf[16];
		const char *q;
		const struct unit *unit = NULL;
		size_t name_keys;
		double v;

		if (k->textonly || k->label)
			continue;	/* a layout for people; a label, not a sample */
		keys[depth] = k->key;
		if (k->kind == OUT_OBJ) {
			e = walk_obj(wk, k, keys, depth + 1, labels);
			continue;
		}
		if (k->kind == OUT_ARR) {
			/* elements share the array's name; labels tell them apart */
			for (const struct out_node *el = k->child; el && e == 0; el = el->next)
				if (el->kind == OUT_OBJ && !el->textonly)
					e = walk_obj(wk, el, keys, depth + 1, labels);
			continue;
		}
		switch (k->kind) {
		case OUT_U64:
			v = (double)k->v.u;
			break;
		case OUT_I64:
			v = (double)k->v.i;
			break;
		case OUT_F64:
			v = k->v.f;
			break;
		case OUT_BOOL:
			v = k->v.b;
			break;
		default:
			continue;	/* strings: labels or nothing */
		}
		if (!isfinite(v))
			continue;
		/* a quantile is named after its object: the summary's name */
		q = depth ? quantile(k->key, qbuf, sizeof(qbuf)) : NULL;
		name_keys = q ? depth : depth + 1;
		snprintf(x.name, sizeof(x.name), "%s", wk->prefix);
		for (size_t i = 0; i <= depth && e == 0; i++) {
			if (!keys[i])
				continue;
			if (i < name_keys)
				e = name_add(x.name, sizeof(x.name), keys[i], &unit);
			snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s",
				 *path ? "." : "", keys[i]);
		}
		if (e < 0)
			break;
		if (unit) {
			if (strlen(x.name) + strlen(unit->base) >= sizeof(x.name))
				return -ENAMETOOLONG;
			strcat(x.name, unit->base);
			v *= unit->scale;
		}
		snprintf(x.labels, sizeof(x.labels), "%s", labels);
		if (q && (e = label_add(x.labels, sizeof(x.labels), "quantile", q)) < 0)
			break;
		help_for(wk, path, k->key, q, x.help, sizeof(x.help));
		x.summary = q;
		x.value = v;
		e = sample_add(wk->s, &x);
	}
	return e;
}

/* extra: a label first in every sample ("" for none). */
static int print_samples(FILE *f, const struct out_samples *s, const char *extra)
{
	bool *done = calloc(s->n + 1, sizeof(*done));

	if (!done)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		if (done[i])
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", s->v[i].name, s->v[i].help,
			s->v[i].name, s->v[i].summary ? "summary" : "gauge");
		for (size_t j = i; j < s->n; j++) {
			bool any = *s->v[j].labels || *extra;

			if (done[j] || strcmp(s->v[i].name, s->v[j].name))
				continue;
			done[j] = true;
			fprintf(f, "%s%s%s%s%s%s %.15g\n", s->v[j].name, any ? "{" : "", extra,
				*extra && *s->v[j].labels ? "," : "", s->v[j].labels, any ? "}" : "",
				s->v[j].value);
		}
	}
	free(done);
	return ferror(f) ? -EIO : 0;
}

int out_prom_add(struct mp_writer *w, const struct out_node *doc)
{
	const char *keys[16];
	char prefix[NAME_MAX_LEN] = "meshperf";
	const struct unit *none = NULL;
	struct walk wk = { .prefix = prefix, .help = w->prom_help };
	int e;

	if (!w->prom && !(w->prom = calloc(1, sizeof(*w->prom))))
		return -ENOMEM;
	wk.s = w->prom;
	e = name_add(prefix, sizeof(prefix), w->tool, &none);
	return e < 0 ? e : walk_obj(&wk, doc, keys, 0, "");
}

void mp_writer_prom_help(struct mp_writer *w, const struct mp_prom_help *help)
{
	w->prom_help = help;
}

int out_prom_print(struct mp_writer *w)
{
	return w->prom ? print_samples(w->f, w->prom, "") : 0;
}

int out_prom_textfile(struct mp_writer *w, FILE *f, const char *job, double now_s, int status)
{
	static const struct out_samples none;
	char job_label[LABELS_MAX_LEN] = "", name[NAME_MAX_LEN] = "meshperf";
	const struct unit *u = NULL;
	int e = label_add(job_label, sizeof(job_label), "job", job);

	if (e == 0)
		e = name_add(name, sizeof(name), w->tool, &u);
	if (e == 0)
		e = print_samples(f, w->prom ? w->prom : &none, job_label);
	if (e < 0)
		return e;
	fprintf(f, "# HELP %s_last_run_timestamp_seconds when the job's last run ended\n"
		   "# TYPE %s_last_run_timestamp_seconds gauge\n"
		   "%s_last_run_timestamp_seconds{%s} %.3f\n"
		   "# HELP %s_success 1 when the job's last run exited 0, else 0\n"
		   "# TYPE %s_success gauge\n"
		   "%s_success{%s} %d\n"
		   "# HELP %s_exit_code the exit status of the job's last run\n"
		   "# TYPE %s_exit_code gauge\n"
		   "%s_exit_code{%s} %d\n",
		name, name, name, job_label, now_s, name, name, name, job_label, status == 0,
		name, name, name, job_label, status);
	return ferror(f) ? -EIO : 0;
}

void out_prom_done(struct mp_writer *w)
{
	if (w->prom)
		free(w->prom->v);
	free(w->prom);
	w->prom = NULL;
}
