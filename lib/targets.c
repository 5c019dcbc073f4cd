/* SPDX-License-Identifier: MIT */
/* targets: hosts from a list, or from another tool's CSV / NDJSON records. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <jansson.h>

#include "mp.h"
#include "targets.h"

enum { HOST_MAX = 256, LINE_MAX_LEN = 65536 };

static const char *const default_keys[] = { "dst", "addr", "peer" };

static bool no_host(const char *v)
{
	return !*v || !strcmp(v, "*") || !strcmp(v, "-") || !strcmp(v, "default");
}

/* A prefix's first address (network + 1), or the address of a host prefix. */
static int prefix_first(const char *v, char *buf, size_t len)
{
	unsigned char a[16];
	char addr[INET6_ADDRSTRLEN], *end;
	const char *slash = strchr(v, '/');
	size_t alen = (size_t)(slash - v);
	int fam, bits;
	long plen;

	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = fam == AF_INET6 ? 128 : 32;
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (inet_pton(fam, addr, a) != 1 || !slash[1] || *end || errno || plen < 0 || plen > bits)
		return -EINVAL;
	if (plen < bits) {
		for (int i = (int)plen; i < bits; i++)
			a[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
		for (int i = bits / 8 - 1; i >= 0 && ++a[i] == 0; i--)
			;
	}
	if (!inet_ntop(fam, a, addr, sizeof(addr)) || strlen(addr) >= len)
		return -EINVAL;
	strcpy(buf, addr);
	return 0;
}

int mp_target_parse(const char *v, char *buf, size_t len)
{
	unsigned char a[16];
	size_t n = strlen(v);

	if (no_host(v))
		return 1;
	if (strchr(v, '/'))
		return prefix_first(v, buf, len);
	if (n >= len || n >= HOST_MAX || v[0] == '-')
		return -EINVAL;
	if (strchr(v, ':')) {
		char addr[INET6_ADDRSTRLEN];
		const char *pct = strchr(v, '%');
		size_t alen = pct ? (size_t)(pct - v) : n;

		if (alen >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, v, alen);
		addr[alen] = '\0';
		if (inet_pton(AF_INET6, addr, a) != 1 || (pct && (!pct[1] ||
		    strspn(pct + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._-") != strlen(pct + 1))))
			return -EINVAL;
	} else if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
		   n) {
		return -EINVAL;
	}
	memcpy(buf, v, n + 1);
	return 0;
}

/* FNV-1a, for the set of hosts seen. */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

enum { SEEN_SLOTS = 2 * MP_TARGETS_MAX };	/* a power of two, never full */

static bool seen_has(const struct mp_targets *t, const char *host)
{
	for (size_t i = hash(host) & (SEEN_SLOTS - 1); t->seen[i]; i = (i + 1) & (SEEN_SLOTS - 1))
		if (!strcmp(t->v[t->seen[i] - 1].host, host))
			return true;
	return false;
}

static void seen_put(struct mp_targets *t, const char *host, size_t idx)
{
	size_t i = hash(host) & (SEEN_SLOTS - 1);

	while (t->seen[i])
		i = (i + 1) & (SEEN_SLOTS - 1);
	t->seen[i] = (uint32_t)idx + 1;
}

int mp_targets_add(struct mp_targets *t, const char *host, unsigned line)
{
	char *h;

	if (!t->seen && !(t->seen = calloc(SEEN_SLOTS, sizeof(*t->seen))))
		return -ENOMEM;
	if (seen_has(t, host))
		return 0;
	if (t->n >= MP_TARGETS_MAX)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct mp_target *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	if (!(h = strdup(host)))
		return -ENOMEM;
	t->v[t->n] = (struct mp_target){ .host = h, .line = line };
	seen_put(t, h, t->n++);
	return 0;
}

void mp_targets_free(struct mp_targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].host);
	free(t->v);
	free(t->seen);
	*t = (struct mp_targets){ 0 };
}

/* One CSV line's fields, through libcsv. */
struct fields {
	char **v;
	size_t n, cap;
	bool oom;
};

static void field_cb(void *s, size_t len, void *ctx)
{
	struct fields *f = ctx;
	char *c;

	if (f->oom)
		return;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		char **v = realloc(f->v, cap * sizeof(*v));

		if (!v) {
			f->oom = true;
			return;
		}
		f->v = v;
		f->cap = cap;
	}
	if (!(c = strndup(s ? s : "", len))) {
		f->oom = true;
		return;
	}
	f->v[f->n++] = c;
}

static void fields_clear(struct fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	f->n = 0;
}

static int csv_split(const char *line, struct fields *f)
{
	struct csv_parser p;
	int r = 0;

	fields_clear(f);
	if (csv_init(&p, CSV_APPEND_NULL) != 0)
		return -ENOMEM;
	if (csv_parse(&p, line, strlen(line), field_cb, NULL, f) != strlen(line) ||
	    csv_fini(&p, field_cb, NULL, f) != 0)
		r = -EINVAL;
	csv_free(&p);
	return f->oom ? -ENOMEM : r;
}

enum form { FORM_UNKNOWN, FORM_LIST, FORM_CSV, FORM_NDJSON };

struct reader {
	const char *key;		/* given, or NULL */
	enum form form;
	long col;			/* csv: the key's column */
	struct fields f;
	struct mp_targets *t;
	mp_targets_err_fn err;
	void *ctx;
	int bad;
};

static void bad(struct reader *r, unsigned line, const char *fmt, ...) MP_PRINTF(3, 4);

static void bad(struct reader *r, unsigned line, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->bad++;
	if (r->err)
		r->err(line, why, r->ctx);
}

/* A value read from the line: kept when it names a target. */
static int take(struct reader *r, unsigned line, const char *v)
{
	char host[HOST_MAX];
	int e = mp_target_parse(v, host, sizeof(host));

	if (e == 1)
		return 0;
	if (e < 0) {
		bad(r, line, "'%.120s' is not a host, an address or a prefix", v);
		return 0;
	}
	return mp_targets_add(r->t, host, line);
}

static int csv_header(struct reader *r, unsigned line)
{
	for (size_t k = 0; k < MP_ARRAY_SIZE(default_keys) && !r->key; k++)
		for (size_t i = 0; i < r->f.n && !r->key; i++)
			if (!strcmp(r->f.v[i], default_keys[k]))
				r->key = default_keys[k];
	for (size_t i = 0; r->key && i < r->f.n; i++)
		if (!strcmp(r->f.v[i], r->key)) {
			r->col = (long)i;
			return 0;
		}
	bad(r, line, "the CSV header has no column %s", r->key ? r->key : "dst, addr or peer");
	return -EINVAL;
}

static int ndjson_line(struct reader *r, unsigned line, const char *s)
{
	json_error_t je;
	json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &je), *v = NULL;
	int e = 0;

	if (!json_is_object(o)) {
		bad(r, line, "not a JSON object: '%.80s'", s);
		json_decref(o);
		return 0;
	}
	if (r->key) {
		v = json_object_get(o, r->key);
	} else {
		for (size_t k = 0; k < MP_ARRAY_SIZE(default_keys) && !v; k++)
			v = json_object_get(o, default_keys[k]);
	}
	if (json_is_string(v))
		e = take(r, line, json_string_value(v));
	else if (v)
		bad(r, line, "the target key holds no string: '%.80s'", s);
	json_decref(o);
	return e;
}

/* The first line that is neither blank nor a comment tells the form. */
static enum form form_of(struct reader *r, const char *s)
{
	if (s[0] == '{')
		return FORM_NDJSON;
	if (!strchr(s, ','))
		return FORM_LIST;
	if (csv_split(s, &r->f) < 0)
		return FORM_LIST;	/* reported as a bad target */
	return FORM_CSV;
}

static int line_do(struct reader *r, unsigned line, char *s)
{
	size_t n = strlen(s);
	int e;

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	s += strspn(s, " \t");
	if (!*s || *s == '#')
		return 0;
	if (r->form == FORM_UNKNOWN) {
		r->form = form_of(r, s);
		if (r->form == FORM_CSV)
			return csv_header(r, line);
	}
	switch (r->form) {
	case FORM_NDJSON:
		return ndjson_line(r, line, s);
	case FORM_CSV:
		e = csv_split(s, &r->f);
		if (e == -ENOMEM)
			return e;
		if (e < 0 || (size_t)r->col >= r->f.n) {
			bad(r, line, "not a CSV record with the target column: '%.80s'", s);
			return 0;
		}
		return take(r, line, r->f.v[r->col]);
	default:
		return take(r, line, s);
	}
}

int mp_targets_read(FILE *f, const char *key, struct mp_targets *t, mp_targets_err_fn err,
		    void *ctx)
{
	struct reader r = { .key = key, .t = t, .err = err, .ctx = ctx };
	char *buf = NULL;
	size_t cap = 0;
	unsigned line = 0;
	ssize_t n;
	int e = 0;

	while (e == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (n > LINE_MAX_LEN || memchr(buf, '\0', (size_t)n)) {
			bad(&r, line, "%s", n > LINE_MAX_LEN ? "line too long" : "a NUL byte in the line");
			continue;
		}
		e = line_do(&r, line, buf);
	}
	if (e == 0 && ferror(f))
		e = -EIO;
	free(buf);
	fields_clear(&r.f);
	free(r.f.v);
	return e < 0 ? e : r.bad;
}
