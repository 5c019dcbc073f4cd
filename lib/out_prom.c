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
 * objects are told apart by their labels. Samples of one metric are
 * grouped under one HELP/TYPE pair, metrics in the order first seen, over
 * every document of the writer (one per target). A textfile (--textfile)
 * is the same exposition with a job label on every sample and the run's
 * own gauges after it.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "out_int.h"

enum { NAME_MAX_LEN = 200, LABELS_MAX_LEN = 1024 };

struct sample {
	char name[NAME_MAX_LEN];
	char labels[LABELS_MAX_LEN];	/* "a=\"x\",b=\"y\"" */
	char help[NAME_MAX_LEN];	/* the json path and unit */
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

/* Appends key to name with '_', stripping a unit suffix into *unit. */
static int name_add(char *name, size_t len, const char *key, const struct unit **unit)
{
	size_t at = strlen(name), kl = strlen(key);

	for (size_t i = 0; i < MP_ARRAY_SIZE(units); i++) {
		size_t sl = strlen(units[i].suffix);

		if (kl > sl && !strcmp(key + kl - sl, units[i].suffix)) {
			*unit = &units[i];
			kl -= sl;
			break;
		}
	}
	if (at + 1 + kl >= len)
		return -ENAMETOOLONG;
	name[at++] = '_';
	for (size_t i = 0; i < kl; i++) {
		char c = key[i];

		name[at++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') ? c : '_';
	}
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

static int sample_add(struct out_samples *s, const char *name, const char *labels,
		      const char *help, double v)
{
	struct sample *x;

	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name) && !strcmp(s->v[i].labels, labels))
			return 0;	/* one series once: the first value wins */
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;

		x = realloc(s->v, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		s->v = x;
		s->cap = cap;
	}
	x = &s->v[s->n++];
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->labels, sizeof(x->labels), "%s", labels);
	snprintf(x->help, sizeof(x->help), "%s", help);
	x->value = v;
	return 0;
}

struct walk {
	struct out_samples *s;
	const char *prefix;	/* meshperf_<tool> */
};

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
	for (const struct out_node *k = n->child; k && e == 0; k = k->next)
		if (k->kind == OUT_STR && k->label)
			e = label_add(labels, sizeof(labels), k->key ? k->key : "value", k->v.s);
	if (depth >= 16)
		return -E2BIG;
	for (const struct out_node *k = n->child; k && e == 0; k = k->next) {
		char name[NAME_MAX_LEN], help[NAME_MAX_LEN] = "";
		const struct unit *unit = NULL;
		double v;

		keys[depth] = k->key;
		if (k->kind == OUT_OBJ) {
			e = walk_obj(wk, k, keys, depth + 1, labels);
			continue;
		}
		if (k->kind == OUT_ARR) {
			/* elements share the array's name; labels tell them apart */
			for (const struct out_node *el = k->child; el && e == 0; el = el->next)
				if (el->kind == OUT_OBJ)
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
		snprintf(name, sizeof(name), "%s", wk->prefix);
		for (size_t i = 0; i <= depth && e == 0; i++) {
			if (!keys[i])
				continue;
			e = name_add(name, sizeof(name), keys[i], &unit);
			snprintf(help + strlen(help), sizeof(help) - strlen(help), "%s%s",
				 *help ? "." : "", keys[i]);
		}
		if (e < 0)
			break;
		if (unit) {
			if (strlen(name) + strlen(unit->base) >= sizeof(name))
				return -ENAMETOOLONG;
			strcat(name, unit->base);
			v *= unit->scale;
		}
		e = sample_add(wk->s, name, labels, help, v);
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
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", s->v[i].name, s->v[i].help,
			s->v[i].name);
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
	struct walk wk = { .prefix = prefix };
	int e;

	if (!w->prom && !(w->prom = calloc(1, sizeof(*w->prom))))
		return -ENOMEM;
	wk.s = w->prom;
	e = name_add(prefix, sizeof(prefix), w->tool, &none);
	return e < 0 ? e : walk_obj(&wk, doc, keys, 0, "");
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
