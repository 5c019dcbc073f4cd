/* SPDX-License-Identifier: MIT */
/*
 * perfc: the perfc/1 document parser. Its input comes from other hosts
 * (--nodes URLs) and from files (--diff), so it trusts nothing: every string
 * is length-checked, every address and prefix is parsed and re-written in
 * canonical form, numbers are range-checked, and counts are capped.
 *
 * It reads the text in one pass, without a JSON tree (jansson's tree of a
 * 200,000-route document took 600 MB and most of 5 s), and keeps each route
 * in the lean form of store.c as soon as its object ends. It accepts what
 * jansson's json_loadb(JSON_REJECT_DUPLICATES) accepts, strictly (RFC 8259,
 * UTF-8 checked, no duplicate key in any object, integers within long long,
 * reals finite, at most 2,048 levels deep), and reports the error the tree
 * reader's checks would have found first whatever the order of the keys:
 * tests/fuzz/fuzz_perfc_doc.c checks both, document by document, against
 * the jansson reader it replaced (tests/fuzz/perfc_doc_jansson.c).
 * libc only (the fuzz harness includes this file and store.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfc.h"

enum {
	DOC_MAX_ROUTES = 4 * 1000 * 1000,	/* more than any table we expect */
	DOC_MAX_ADDRESSES = 4096,
	DOC_MAX_NH = PC_NH_MAX,			/* the kernel's multipath limit is lower */
	DOC_MAX_DEPTH = 2048,			/* jansson's: a value deeper is refused */
	VAL_LEN = 64,				/* string bytes kept of a member (node: 63) */
};

static int fail(char *err, size_t errlen, const char *fmt, ...) MP_PRINTF(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int pc_addr_canon(const char *s, char *buf, size_t len, struct mp_nl_addr *ret)
{
	struct mp_nl_addr a = { 0 };

	if (!s || strlen(s) >= PC_ADDR_LEN)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.bytes) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	if (len < INET6_ADDRSTRLEN || !pc_addr_text(&a, buf, len))
		return -ENOSPC;
	if (ret)
		*ret = a;
	return 0;
}

int pc_prefix_canon(const char *s, char *buf, size_t len, struct mp_nl_addr *ret_addr,
		    unsigned *ret_len)
{
	char a[PC_ADDR_LEN], canon[PC_ADDR_LEN];
	const char *slash;
	struct mp_nl_addr addr;
	unsigned plen, max;
	size_t alen;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (pc_addr_canon(a, canon, sizeof(canon), &addr) < 0)
		return -EINVAL;
	max = addr.family == AF_INET ? 32 : 128;
	plen = max;
	if (slash) {
		char *end;
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return -EINVAL;
		v = strtoul(slash + 1, &end, 10);
		if (*end || v > max)
			return -EINVAL;
		plen = (unsigned)v;
	}
	/* host bits must be clear, as the kernel keeps them */
	for (unsigned bit = plen; bit < max; bit++)
		if (addr.bytes[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	alen = strlen(canon);
	if (alen + 5 > len)
		return -ENOSPC;
	memcpy(buf, canon, alen);
	buf[alen] = '/';
	*pc_put_dec(buf + alen + 1, plen) = '\0';
	if (ret_addr)
		*ret_addr = addr;
	if (ret_len)
		*ret_len = plen;
	return 0;
}

/*
 * Which check fails first, in the order the tree reader made them
 * (whatever the order of the keys in the text): a lower rank's error wins,
 * and within a rank the first one. A syntax error ends the reading at once.
 */
enum rank {
	R_SYNTAX,
	R_ROOT,			/* not an object */
	R_SCHEMA,
	R_NODE,			/* node, site */
	R_ADDR_TYPE,
	R_ADDR_COUNT,
	R_ADDR,			/* addresses[i] */
	R_ROUTES_TYPE,
	R_ROUTES_COUNT,
	R_ROUTE,		/* routes[i] */
	R_NONE,
};

enum vkind { V_ABSENT, V_NULL, V_STR, V_INT, V_ARRAY, V_OTHER };

/* A member's value as far as the checks need it. */
struct val {
	enum vkind kind;
	size_t len;		/* V_STR: its whole decoded length */
	long long i;		/* V_INT */
	char s[VAL_LEN];	/* V_STR: its first VAL_LEN - 1 bytes */
};

struct flagv {
	enum vkind kind;	/* V_ABSENT, V_NULL, V_ARRAY, V_OTHER */
	bool bad;		/* an element that is no name of < PC_NAME_LEN bytes */
	unsigned n;
	char name[PC_FLAGS_MAX][PC_NAME_LEN];
};

struct nhv {
	bool object;
	struct val gateway, dev, weight;
	struct flagv flags;
};

struct routev {
	struct val dst, type, table, protocol, scope, dev, gateway, prefsrc, metric;
	struct flagv flags;
	enum vkind nexthops;	/* V_ABSENT, V_NULL, V_ARRAY, V_OTHER */
	size_t n_nh;		/* its elements (the first DOC_MAX_NH in reader.nh) */
};

struct keyref {
	size_t off, len;	/* in reader.keys */
};

struct reader {
	const char *start, *p, *end;
	int depth;
	enum rank rank;		/* of the error in err, R_NONE: none yet */
	int code;		/* what it returns */
	char *err;
	size_t errlen;
	char *kbuf;		/* the key being read */
	size_t kbuf_len, kbuf_cap;
	char *keys;		/* unknown keys of the objects being read */
	size_t keys_len, keys_cap;
	struct keyref *refs;
	size_t n_refs, refs_cap;
	struct routev rv;
	struct nhv *nh;		/* DOC_MAX_NH */
	struct pc_nh *pnh;	/* DOC_MAX_NH */
	struct pc_doc *doc;
	size_t n_routes, n_addresses;
	bool schema_ok;
};

typedef int (*member_fn)(struct reader *rd, int key, void *ctx);
typedef int (*elem_fn)(struct reader *rd, size_t i, void *ctx);

static int skip_value(struct reader *rd);

static int syntax(struct reader *rd, const char *what)
{
	unsigned line = 1;

	for (const char *q = rd->start; q < rd->p; q++)
		line += *q == '\n';
	rd->rank = R_SYNTAX;
	return fail(rd->err, rd->errlen, "not JSON: line %u: %s", line, what);
}

static void note(struct reader *rd, enum rank rank, int code, const char *fmt, ...)
	MP_PRINTF(4, 5);
static void note(struct reader *rd, enum rank rank, int code, const char *fmt, ...)
{
	va_list ap;

	if (rank >= rd->rank)
		return;
	va_start(ap, fmt);
	vsnprintf(rd->err, rd->errlen, fmt, ap);
	va_end(ap);
	rd->rank = rank;
	rd->code = code;
}

static void ws(struct reader *rd)
{
	while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\n' || *rd->p == '\r' ||
				   *rd->p == '\t'))
		rd->p++;
}

static int peek(struct reader *rd)
{
	ws(rd);
	return rd->p < rd->end ? (unsigned char)*rd->p : -1;
}

static int enter(struct reader *rd)
{
	if (++rd->depth > DOC_MAX_DEPTH)
		return syntax(rd, "maximum parsing depth reached");
	return 0;
}

static int buf_grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 64;
	char *b;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	b = realloc(*buf, n);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

/* Where the decoded bytes of a string go: the first cap - 1 into out, or
 * all of them into rd->kbuf (out NULL, cap 1), or nowhere (out NULL, cap 0). */
struct sink {
	char *out;
	size_t cap, len;
};

static int put(struct reader *rd, struct sink *k, const char *b, size_t n)
{
	if (k->out) {
		size_t room = k->len < k->cap - 1 ? k->cap - 1 - k->len : 0;

		memcpy(k->out + k->len, b, n < room ? n : room);
		k->len += n;
		k->out[k->len < k->cap - 1 ? k->len : k->cap - 1] = '\0';
		return 0;
	}
	if (k->cap) {
		if (buf_grow(&rd->kbuf, &rd->kbuf_cap, k->len + n + 1) < 0)
			return -ENOMEM;
		memcpy(rd->kbuf + k->len, b, n);
	}
	k->len += n;
	return 0;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* A UTF-8 sequence at p (first byte >= 0x80), as jansson checks it: its
 * length, or 0 when it is not one (overlong, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], v;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

/* An escape at p (after the backslash) into k; returns the bytes read or < 0. */
static int escape(struct reader *rd, struct sink *k)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *p = rd->p, *e;
	char u[4];
	long v, lo;
	size_t n;

	if (p >= rd->end)
		return syntax(rd, "premature end of input");
	if (*p != 'u') {
		e = memchr(from, *p, sizeof(from) - 1);
		if (!*p || !e)
			return syntax(rd, "invalid escape");
		return put(rd, k, &to[e - from], 1) < 0 ? -ENOMEM : 1;
	}
	if (rd->end - p < 5 || (v = hex4(p + 1)) < 0)
		return syntax(rd, "invalid escape");
	n = 5;
	if (v >= 0xd800 && v <= 0xdbff) {
		if (rd->end - p < 11 || p[5] != '\\' || p[6] != 'u' || (lo = hex4(p + 7)) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return syntax(rd, "invalid Unicode escape");
		v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
		n = 11;
	} else if (v >= 0xdc00 && v <= 0xdfff) {
		return syntax(rd, "invalid Unicode escape");
	} else if (v == 0) {
		return syntax(rd, "\\u0000 is not allowed");
	}
	if (v < 0x80) {
		u[0] = (char)v;
		e = u + 1;
	} else if (v < 0x800) {
		u[0] = (char)(0xc0 | v >> 6);
		u[1] = (char)(0x80 | (v & 0x3f));
		e = u + 2;
	} else if (v < 0x10000) {
		u[0] = (char)(0xe0 | v >> 12);
		u[1] = (char)(0x80 | (v >> 6 & 0x3f));
		u[2] = (char)(0x80 | (v & 0x3f));
		e = u + 3;
	} else {
		u[0] = (char)(0xf0 | v >> 18);
		u[1] = (char)(0x80 | (v >> 12 & 0x3f));
		u[2] = (char)(0x80 | (v >> 6 & 0x3f));
		u[3] = (char)(0x80 | (v & 0x3f));
		e = u + 4;
	}
	return put(rd, k, u, (size_t)(e - u)) < 0 ? -ENOMEM : (int)n;
}

/* A string at rd->p ('"'), checked whole, decoded into k. */
static int lex_string(struct reader *rd, struct sink *k)
{
	const unsigned char *p = (const unsigned char *)++rd->p, *end;
	int r;

	end = (const unsigned char *)rd->end;
	for (;;) {
		const unsigned char *run = p;
		size_t n;

		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p > run && put(rd, k, (const char *)run, (size_t)(p - run)) < 0)
			return -ENOMEM;
		rd->p = (const char *)p;
		if (p == end)
			return syntax(rd, "premature end of input");
		if (*p == '"')
			break;
		if (*p < 0x20)
			return syntax(rd, "control character in string");
		if (*p == '\\') {
			rd->p++;
			r = escape(rd, k);
			if (r < 0)
				return r;
			p = (const unsigned char *)rd->p + r;
			continue;
		}
		n = utf8_len(p, end);
		if (!n)
			return syntax(rd, "invalid UTF-8");
		if (put(rd, k, (const char *)p, n) < 0)
			return -ENOMEM;
		p += n;
	}
	rd->p++;
	return 0;
}

/* A number at rd->p, into v (V_INT or, a real, V_OTHER) when v. */
static int lex_number(struct reader *rd, struct val *v)
{
	const char *p = rd->p, *e = rd->end;
	bool real = false;
	char tmp[64], *s = tmp, *end;
	size_t n;
	int r = 0;

#define DIGIT(q) ((q) < e && *(q) >= '0' && *(q) <= '9')
	if (p < e && *p == '-')
		p++;
	if (!DIGIT(p))
		return syntax(rd, "invalid token");
	if (*p == '0') {
		if (DIGIT(p + 1))
			return syntax(rd, "invalid token");
		p++;
	} else {
		while (DIGIT(p))
			p++;
	}
	if (p < e && *p == '.') {
		real = true;
		p++;
		if (!DIGIT(p))
			return syntax(rd, "invalid token");
		while (DIGIT(p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!DIGIT(p))
			return syntax(rd, "invalid token");
		while (DIGIT(p))
			p++;
	}
#undef DIGIT
	n = (size_t)(p - rd->p);
	if (n >= sizeof(tmp) && !(s = malloc(n + 1)))
		return -ENOMEM;
	memcpy(s, rd->p, n);
	s[n] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(s, &end);

		if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
			r = syntax(rd, "real number overflow");
		if (v)
			v->kind = V_OTHER;
	} else {
		long long i = strtoll(s, &end, 10);

		if (errno == ERANGE)
			r = syntax(rd, "too big integer");
		if (v) {
			v->kind = V_INT;
			v->i = i;
		}
	}
	if (s != tmp)
		free(s);
	rd->p = p;
	return r;
}

/* true, false or null (a V_NULL in v), as a whole word. */
static int lex_word(struct reader *rd, struct val *v)
{
	const char *p = rd->p;
	size_t n;

	while (p < rd->end && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
		p++;
	n = (size_t)(p - rd->p);
	if (!((n == 4 && !memcmp(rd->p, "true", 4)) || (n == 5 && !memcmp(rd->p, "false", 5)) ||
	      (n == 4 && !memcmp(rd->p, "null", 4))))
		return syntax(rd, "invalid token");
	if (v)
		v->kind = rd->p[0] == 'n' ? V_NULL : V_OTHER;
	rd->p = p;
	return 0;
}

static int keyref_cmp(const void *pa, const void *pb, void *arg)
{
	const struct keyref *a = pa, *b = pb;
	const char *keys = arg;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(keys + a->off, keys + b->off, a->len);
}

/* An unknown key, kept until its object ends to find a duplicate. */
static int push_key(struct reader *rd, size_t len)
{
	struct keyref *v;

	if (buf_grow(&rd->keys, &rd->keys_cap, rd->keys_len + len + 1) < 0)
		return -ENOMEM;
	if (rd->n_refs == rd->refs_cap) {
		size_t n = rd->refs_cap ? 2 * rd->refs_cap : 64;

		v = realloc(rd->refs, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rd->refs = v;
		rd->refs_cap = n;
	}
	if (len)
		memcpy(rd->keys + rd->keys_len, rd->kbuf, len);
	rd->refs[rd->n_refs++] = (struct keyref){ rd->keys_len, len };
	rd->keys_len += len;
	return 0;
}

/*
 * An object at rd->p: each member's key is looked up in known[] and its
 * value read by fn (key: the index, or -1 when unknown) or skipped.
 */
static int parse_object(struct reader *rd, const char *const *known, int n_known, member_fn fn,
			void *ctx)
{
	size_t ref0 = rd->n_refs, key0 = rd->keys_len;
	uint32_t seen = 0;
	int c, r = 0;

	rd->p++;
	if (peek(rd) == '}') {
		rd->p++;
		return 0;
	}
	for (;;) {
		struct sink k = { .cap = 1 };
		int key = -1;

		if (peek(rd) != '"')
			return syntax(rd, "string or '}' expected");
		r = lex_string(rd, &k);
		if (r < 0)
			return r;
		for (int i = 0; i < n_known && key < 0; i++)
			if (strlen(known[i]) == k.len && !memcmp(known[i], rd->kbuf, k.len))
				key = i;
		if (key >= 0 && (seen & 1U << key))
			return syntax(rd, "duplicate object key");
		seen |= key >= 0 ? 1U << key : 0;
		if (key < 0 && push_key(rd, k.len) < 0)
			return -ENOMEM;
		if (peek(rd) != ':')
			return syntax(rd, "':' expected");
		rd->p++;
		ws(rd);
		r = fn && key >= 0 ? fn(rd, key, ctx) : skip_value(rd);
		if (r < 0)
			return r;
		c = peek(rd);
		if (c == '}')
			break;
		if (c != ',')
			return syntax(rd, "'}' expected");
		rd->p++;
	}
	rd->p++;
	if (rd->n_refs - ref0 > 1) {
		qsort_r(rd->refs + ref0, rd->n_refs - ref0, sizeof(*rd->refs), keyref_cmp,
			rd->keys);
		for (size_t i = ref0 + 1; i < rd->n_refs; i++)
			if (!keyref_cmp(&rd->refs[i - 1], &rd->refs[i], rd->keys))
				return syntax(rd, "duplicate object key");
	}
	rd->n_refs = ref0;
	rd->keys_len = key0;
	return 0;
}

/* An array at rd->p, each element read by fn or skipped; *n its length. */
static int parse_array(struct reader *rd, elem_fn fn, void *ctx, size_t *n)
{
	int c, r;

	*n = 0;
	rd->p++;
	if (peek(rd) == ']') {
		rd->p++;
		return 0;
	}
	for (;;) {
		ws(rd);
		r = fn ? fn(rd, *n, ctx) : skip_value(rd);
		if (r < 0)
			return r;
		++*n;
		c = peek(rd);
		if (c == ']')
			break;
		if (c != ',')
			return syntax(rd, "']' expected");
		rd->p++;
	}
	rd->p++;
	return 0;
}

/* Any value at rd->p into v (strings: the first VAL_LEN - 1 bytes). */
static int read_val(struct reader *rd, struct val *v)
{
	size_t n;
	int c = rd->p < rd->end ? (unsigned char)*rd->p : -1, r;

	memset(v, 0, offsetof(struct val, s));
	v->s[0] = '\0';
	r = enter(rd);
	if (r < 0)
		return r;
	if (c == '"') {
		struct sink k = { .out = v->s, .cap = sizeof(v->s) };

		v->kind = V_STR;
		r = lex_string(rd, &k);
		v->len = k.len;
	} else if (c == '{') {
		v->kind = V_OTHER;
		r = parse_object(rd, NULL, 0, NULL, NULL);
	} else if (c == '[') {
		v->kind = V_ARRAY;
		r = parse_array(rd, NULL, NULL, &n);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		r = lex_number(rd, v);
	} else if (c >= 'a' && c <= 'z') {
		r = lex_word(rd, v);
	} else {
		r = syntax(rd, c < 0 ? "premature end of input" : "invalid token");
	}
	rd->depth--;
	return r;
}

static int skip_value(struct reader *rd)
{
	struct val v;

	return read_val(rd, &v);
}

/* An element of a "flags" array. */
static int flag_elem(struct reader *rd, size_t i, void *ctx)
{
	struct flagv *f = ctx;
	struct val v;
	int r = read_val(rd, &v);

	(void)i;
	if (r < 0)
		return r;
	if (v.kind != V_STR || v.len >= PC_NAME_LEN)
		f->bad = true;
	else if (f->n < PC_FLAGS_MAX)
		memcpy(f->name[f->n++], v.s, v.len + 1);
	return 0;
}

/* An array, its elements read by fn; else the value skipped, its kind in *kind. */
static int read_array(struct reader *rd, elem_fn fn, void *ctx, enum vkind *kind, size_t *n)
{
	struct val v;
	int r;

	*n = 0;
	if (rd->p < rd->end && *rd->p == '[') {
		*kind = V_ARRAY;
		r = enter(rd);
		if (r == 0)
			r = parse_array(rd, fn, ctx, n);
		rd->depth--;
		return r;
	}
	r = read_val(rd, &v);
	*kind = v.kind == V_NULL ? V_NULL : V_OTHER;
	return r;
}

static int read_flags(struct reader *rd, struct flagv *f)
{
	size_t n;

	f->bad = false;
	f->n = 0;
	return read_array(rd, flag_elem, f, &f->kind, &n);
}

static const char *const nh_keys[] = { "gateway", "dev", "weight", "flags" };

static int nh_member(struct reader *rd, int key, void *ctx)
{
	struct nhv *v = ctx;

	switch (key) {
	case 0: return read_val(rd, &v->gateway);
	case 1: return read_val(rd, &v->dev);
	case 2: return read_val(rd, &v->weight);
	default: return read_flags(rd, &v->flags);
	}
}

/* An object at rd->p read by fn, else the value skipped; whether it was one. */
static int read_object(struct reader *rd, const char *const *known, int n_known, member_fn fn,
		       void *ctx, bool *object)
{
	int r;

	*object = rd->p < rd->end && *rd->p == '{';
	if (!*object)
		return skip_value(rd);
	r = enter(rd);
	if (r == 0)
		r = parse_object(rd, known, n_known, fn, ctx);
	rd->depth--;
	return r;
}

static int nh_elem(struct reader *rd, size_t i, void *ctx)
{
	struct nhv *v, spare;

	(void)ctx;
	v = i < DOC_MAX_NH ? &rd->nh[i] : &spare;
	memset(v, 0, sizeof(*v));
	return read_object(rd, nh_keys, (int)MP_ARRAY_SIZE(nh_keys), nh_member, v, &v->object);
}

static const char *const route_keys[] = {
	"dst", "route_type", "table", "protocol", "scope", "dev", "gateway", "prefsrc",
	"metric", "flags", "nexthops",
};

static int route_member(struct reader *rd, int key, void *ctx)
{
	struct routev *v = ctx;
	struct val *vals[] = { &v->dst, &v->type, &v->table, &v->protocol, &v->scope, &v->dev,
			       &v->gateway, &v->prefsrc, &v->metric };

	if (key < (int)MP_ARRAY_SIZE(vals))
		return read_val(rd, vals[key]);
	if (key == 9)
		return read_flags(rd, &v->flags);
	return read_array(rd, nh_elem, NULL, &v->nexthops, &v->n_nh);
}

/* The checks of a member, as the tree reader made them. */
static int val_str(const struct val *v, char *buf, size_t len, const char *dflt)
{
	if (v->kind == V_ABSENT || v->kind == V_NULL) {
		snprintf(buf, len, "%s", dflt);
		return 0;
	}
	if (v->kind != V_STR || v->len >= len)
		return -EINVAL;
	memcpy(buf, v->s, v->len + 1);
	return 0;
}

/* A name: printable ASCII without spaces (tables, protocols, devices, types). */
static int val_name(const struct val *v, char *buf, size_t len, const char *dflt)
{
	int r = val_str(v, buf, len, dflt);

	for (const char *p = buf; r == 0 && *p; p++)
		if (*p <= ' ' || *p > '~')
			r = -EINVAL;
	return r;
}

/* An address member's text s, canonical in buf ("" when empty); family 0: any. */
static int addr_member(const char *s, char *buf, size_t len, int family)
{
	struct mp_nl_addr a;

	buf[0] = '\0';
	if (!s[0])
		return 0;
	if (pc_addr_canon(s, buf, len, &a) < 0 || (family && a.family != family))
		return -EINVAL;
	return 0;
}

/* An optional address, canonical in buf ("" when absent or empty). */
static int val_addr(const struct val *v, char *buf, size_t len, int family)
{
	char s[PC_ADDR_LEN];

	if (val_str(v, s, sizeof(s), "") < 0)
		return -EINVAL;
	return addr_member(s, buf, len, family);
}

static int val_flags(const struct flagv *f, char (*flags)[PC_NAME_LEN], unsigned *n)
{
	*n = 0;
	if (f->kind == V_ABSENT || f->kind == V_NULL)
		return 0;
	if (f->kind != V_ARRAY || f->bad)
		return -EINVAL;
	for (unsigned i = 0; i < f->n; i++)
		memcpy(flags[i], f->name[i], PC_NAME_LEN);
	*n = f->n;
	return 0;
}

static int nh_check(const struct nhv *v, struct pc_nh *nh, char *err, size_t errlen, size_t ri,
		    size_t ni)
{
	memset(nh, 0, sizeof(*nh));
	if (!v->object)
		return fail(err, errlen, "routes[%zu].nexthops[%zu]: not an object", ri, ni);
	/* a v4 route may have a v6 gateway (RTA_VIA): any family */
	if (val_addr(&v->gateway, nh->gateway, sizeof(nh->gateway), 0) < 0)
		return fail(err, errlen, "routes[%zu].nexthops[%zu].gateway: not an address",
			    ri, ni);
	if (val_name(&v->dev, nh->dev, sizeof(nh->dev), "") < 0)
		return fail(err, errlen, "routes[%zu].nexthops[%zu].dev: bad name", ri, ni);
	nh->weight = 1;
	if (v->weight.kind != V_ABSENT && v->weight.kind != V_NULL) {
		if (v->weight.kind != V_INT || v->weight.i < 1 || v->weight.i > 256)
			return fail(err, errlen, "routes[%zu].nexthops[%zu].weight: not 1..256",
				    ri, ni);
		nh->weight = (unsigned)v->weight.i;
	}
	if (val_flags(&v->flags, nh->flags, &nh->n_flags) < 0)
		return fail(err, errlen, "routes[%zu].nexthops[%zu].flags: bad", ri, ni);
	return 0;
}

static int route_check(struct reader *rd, const struct routev *v, struct pc_route *rt,
		       char *err, size_t errlen, size_t i)
{
	char dst[PC_PREFIX_LEN];
	int r;

	memset(rt, 0, sizeof(*rt));
	if (val_str(&v->dst, dst, sizeof(dst), "") < 0 ||
	    pc_prefix_canon(!strcmp(dst, "default") ? "0.0.0.0/0" : dst, rt->dst,
			    sizeof(rt->dst), &rt->dst_addr, &rt->dst_len) < 0)
		return fail(err, errlen, "routes[%zu].dst: not a prefix", i);
	rt->family = rt->dst_addr.family;
	if (val_name(&v->type, rt->type, sizeof(rt->type), "unicast") < 0 ||
	    val_name(&v->table, rt->table, sizeof(rt->table), "main") < 0 ||
	    val_name(&v->protocol, rt->protocol, sizeof(rt->protocol), "boot") < 0 ||
	    val_name(&v->scope, rt->scope, sizeof(rt->scope), "global") < 0 ||
	    val_name(&v->dev, rt->dev, sizeof(rt->dev), "") < 0)
		return fail(err, errlen, "routes[%zu]: a name is not a string of 1..%d "
			    "printable characters", i, PC_NAME_LEN - 1);
	if (val_addr(&v->gateway, rt->gateway, sizeof(rt->gateway), 0) < 0)
		return fail(err, errlen, "routes[%zu].gateway: not an address", i);
	if (val_addr(&v->prefsrc, rt->prefsrc, sizeof(rt->prefsrc), rt->family) < 0)
		return fail(err, errlen, "routes[%zu].prefsrc: not an address", i);
	if (v->metric.kind != V_ABSENT && v->metric.kind != V_NULL) {
		if (v->metric.kind != V_INT || v->metric.i < 0 || v->metric.i > UINT32_MAX)
			return fail(err, errlen, "routes[%zu].metric: not 0..2^32-1", i);
		rt->metric = (uint64_t)v->metric.i;
	}
	if (val_flags(&v->flags, rt->flags, &rt->n_flags) < 0)
		return fail(err, errlen, "routes[%zu].flags: bad", i);
	if (v->nexthops == V_OTHER)
		return fail(err, errlen, "routes[%zu].nexthops: not an array", i);
	if (v->n_nh > DOC_MAX_NH)
		return fail(err, errlen, "routes[%zu].nexthops: more than %d", i, DOC_MAX_NH);
	rt->nh = rd->pnh;
	if (v->n_nh > 0) {
		if (rt->gateway[0] || rt->dev[0])
			return fail(err, errlen, "routes[%zu]: gateway/dev and nexthops", i);
		rt->multipath = true;
		for (size_t k = 0; k < v->n_nh; k++) {
			r = nh_check(&rd->nh[k], &rt->nh[k], err, errlen, i, k);
			if (r < 0)
				return r;
			rt->n_nh++;
		}
	} else if (rt->gateway[0] || rt->dev[0]) {
		memset(&rt->nh[0], 0, sizeof(rt->nh[0]));
		memcpy(rt->nh[0].gateway, rt->gateway, sizeof(rt->gateway));
		memcpy(rt->nh[0].dev, rt->dev, sizeof(rt->dev));
		rt->nh[0].weight = 1;
		rt->n_nh = 1;
	}
	return 0;
}

/* routes[i]: read, checked and kept as soon as its object ends. */
static int route_elem(struct reader *rd, size_t i, void *ctx)
{
	struct pc_route rt;
	char err[256];
	bool object;
	int r;

	(void)ctx;
	rd->n_routes++;
	/* after an error in a route or before, the rest is only checked as JSON */
	if (rd->rank <= R_ROUTE || i >= DOC_MAX_ROUTES)
		return skip_value(rd);
	memset(&rd->rv, 0, sizeof(rd->rv));
	r = read_object(rd, route_keys, (int)MP_ARRAY_SIZE(route_keys), route_member, &rd->rv,
			&object);
	if (r < 0)
		return r;
	if (!object) {
		note(rd, R_ROUTE, -EINVAL, "routes[%zu]: not an object", i);
		return 0;
	}
	if (route_check(rd, &rd->rv, &rt, err, sizeof(err), i) < 0) {
		note(rd, R_ROUTE, -EINVAL, "%s", err);
		return 0;
	}
	return pc_doc_add(rd->doc, &rt) < 0 ? -ENOMEM : 0;
}

/* addresses[i]: "10.0.0.1" or "10.0.0.1/24" (the prefix length is ignored). */
static int addr_elem(struct reader *rd, size_t i, void *ctx)
{
	struct pc_doc *d = rd->doc;
	char buf[PC_ADDR_LEN], s[PC_ADDR_LEN];
	const char *slash;
	struct val v;
	size_t n;
	int r;

	(void)ctx;
	r = read_val(rd, &v);
	if (r < 0 || i >= DOC_MAX_ADDRESSES)
		return r;
	slash = v.kind == V_STR ? strchr(v.s, '/') : NULL;
	n = v.kind == V_STR ? (slash ? (size_t)(slash - v.s) : v.len) : 0;
	if (n == 0 || n >= sizeof(s)) {
		note(rd, R_ADDR, -EINVAL, "addresses[%zu]: not an address", i);
		return 0;
	}
	memcpy(s, v.s, n);
	s[n] = '\0';
	if (pc_addr_canon(s, buf, sizeof(buf), NULL) < 0) {
		note(rd, R_ADDR, -EINVAL, "addresses[%zu]: not an address", i);
		return 0;
	}
	if (d->n_addresses % 16 == 0) {
		char **a = realloc(d->addresses, (d->n_addresses + 16) * sizeof(*a));

		if (!a)
			return -ENOMEM;
		d->addresses = a;
	}
	if (!(d->addresses[d->n_addresses] = strdup(buf)))
		return -ENOMEM;
	d->n_addresses++;
	return 0;
}

static const char *const root_keys[] = { "schema", "node", "site", "addresses", "routes" };

static int root_member(struct reader *rd, int key, void *ctx)
{
	struct pc_doc *d = rd->doc;
	enum vkind kind;
	struct val v;
	size_t n;
	int r;

	(void)ctx;
	switch (key) {
	case 0:
		r = read_val(rd, &v);
		rd->schema_ok = v.kind == V_STR && v.len == strlen(v.s) &&
				(!strcmp(v.s, PC_SCHEMA) || !strcmp(v.s, PC_SCHEMA_1));
		return r;
	case 1:
	case 2:
		r = read_val(rd, &v);
		if (r == 0 && val_str(&v, key == 1 ? d->node : d->site, PC_NODE_LEN, "") < 0)
			note(rd, R_NODE, -EINVAL, "node/site: not a string of at most %d bytes",
			     PC_NODE_LEN - 1);
		return r;
	case 3:
		r = read_array(rd, addr_elem, NULL, &kind, &n);
		if (r == 0 && kind == V_OTHER)
			note(rd, R_ADDR_TYPE, -EINVAL, "addresses: not an array");
		if (r == 0 && n > DOC_MAX_ADDRESSES)
			note(rd, R_ADDR_COUNT, -EINVAL, "addresses: more than %d",
			     DOC_MAX_ADDRESSES);
		return r;
	default:
		r = read_array(rd, route_elem, NULL, &kind, &n);
		if (r == 0 && kind != V_ARRAY)
			note(rd, R_ROUTES_TYPE, -EINVAL, "routes: not an array");
		if (r == 0 && n > DOC_MAX_ROUTES)
			note(rd, R_ROUTES_COUNT, -E2BIG, "routes: more than %d", DOC_MAX_ROUTES);
		return r;
	}
}

int pc_doc_parse(const char *buf, size_t len, struct pc_doc *ret, char *err, size_t errlen)
{
	struct pc_doc d = { 0 };
	struct reader rd = {
		.start = buf, .p = buf, .end = buf + len, .rank = R_NONE, .err = err,
		.errlen = errlen, .doc = &d,
	};
	bool object = false;
	int c, r = -ENOMEM;

	rd.nh = malloc(DOC_MAX_NH * sizeof(*rd.nh));
	rd.pnh = malloc(DOC_MAX_NH * sizeof(*rd.pnh));
	if (!rd.nh || !rd.pnh)
		goto out;
	c = peek(&rd);
	if (c != '{' && c != '[') {
		r = syntax(&rd, "'[' or '{' expected");
		goto out;
	}
	r = read_object(&rd, root_keys, (int)MP_ARRAY_SIZE(root_keys), root_member, NULL,
			&object);
	if (r == 0 && peek(&rd) >= 0)
		r = syntax(&rd, "end of file expected");
	if (r < 0)
		goto out;
	if (!object)
		note(&rd, R_ROOT, -EINVAL, "not a JSON object");
	if (!rd.schema_ok)
		note(&rd, R_SCHEMA, -EINVAL, "schema is not \"%s\" or \"%s\"", PC_SCHEMA,
		     PC_SCHEMA_1);
	r = rd.rank == R_NONE ? 0 : rd.code;
	if (r == 0)
		*ret = d;
out:
	if (r < 0)
		pc_doc_done(&d);
	free(rd.nh);
	free(rd.pnh);
	free(rd.kbuf);
	free(rd.keys);
	free(rd.refs);
	return r;
}
