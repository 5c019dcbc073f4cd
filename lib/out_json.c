/* SPDX-License-Identifier: MIT */
/*
 * out: json and ndjson records, serialized by hand into the writer's
 * buffer. A route listing writes a million records, and building a jansson
 * object per record cost more than the kernel's dump of the routes. The
 * text is what jansson writes with JSON_COMPACT | JSON_ENSURE_ASCII |
 * JSON_REAL_PRECISION(15) (tests/unit/test_out.c compares the two), with
 * one difference: a string that is not valid UTF-8, which jansson refuses
 * (the record failed), has each invalid byte written as \ufffd.
 * The document itself (once per run) is still built with jansson (out.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out_int.h"

static char *u_escape(char *d, unsigned cp)
{
	static const char hex[] = "0123456789ABCDEF";	/* jansson: "\\u%04X" */

	d[0] = '\\';
	d[1] = 'u';
	d[2] = hex[cp >> 12 & 15];
	d[3] = hex[cp >> 8 & 15];
	d[4] = hex[cp >> 4 & 15];
	d[5] = hex[cp & 15];
	return d + 6;
}

/*
 * The UTF-8 sequence at s: its length and code point, or 0 when it is not
 * a valid one (overlong, a surrogate, past U+10FFFF, cut short: the NUL
 * ends it as any other non-continuation byte would).
 */
static size_t utf8_decode(const unsigned char *s, unsigned *ret_cp)
{
	unsigned c = s[0], cp;
	size_t len;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	cp = c & (0x3fU >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fU);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

char *out_utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *d = malloc(3 * strlen(s) + 1), *o = d;	/* a bad byte: 3 bytes of U+FFFD */
	unsigned cp;

	if (!d)
		return NULL;
	while (*p) {
		size_t len = *p < 0x80 ? 1 : utf8_decode(p, &cp);

		if (len) {
			memcpy(o, p, len);
			o += len;
			p += len;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	return d;
}

/* Written straight into the buffer, sized first: an input byte is at most
 * 6 output bytes (a 4-byte sequence is a 12-byte surrogate pair). */
int out_json_str(struct out_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t need = 6 * strlen(str) + 2;
	char *d;

	if (b->cap - b->len < need && out_buf_grow(b, need) < 0)
		return -ENOMEM;
	d = b->p + b->len;
	*d++ = '"';
	while (*s) {
		unsigned char c = *s;
		unsigned cp;
		size_t len;
		char esc;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*d++ = (char)c;
			s++;
			continue;
		}
		esc = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f' :
		      c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
		if (esc) {
			*d++ = '\\';
			*d++ = esc;
			s++;
		} else if (c < 0x20) {
			d = u_escape(d, c);
			s++;
		} else if ((len = utf8_decode(s, &cp)) == 0) {
			d = u_escape(d, 0xfffd);
			s++;
		} else {
			if (cp >= 0x10000) {	/* a surrogate pair */
				cp -= 0x10000;
				d = u_escape(d, 0xd800 | cp >> 10);
				cp = 0xdc00 | (cp & 0x3ff);
			}
			d = u_escape(d, cp);
			s += len;
		}
	}
	*d++ = '"';
	b->len = (size_t)(d - b->p);
	return 0;
}

/*
 * jansson's real: "%.15g", ".0" added when that reads as an integer, the
 * exponent without '+' and leading zeros ("1e20", "1e-5").
 */
static int put_real(struct out_buf *b, double v)
{
	char buf[40], *p;
	int n = snprintf(buf, sizeof(buf) - 2, "%.15g", v);

	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		return -ENOSPC;
	if (!strchr(buf, '.') && !strchr(buf, 'e')) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	if ((p = strchr(buf, 'e'))) {
		char *start = p + 1, *end;

		if (*start == '-')
			start++;
		end = start;
		while (*end == '+' || *end == '0')
			end++;
		if (end != start) {
			memmove(start, end, strlen(end) + 1);
			n = (int)strlen(buf);
		}
	}
	return out_put(b, buf, (size_t)n);
}

int out_json_value(struct out_buf *b, const struct out_node *n)
{
	char d[24];
	int e;

	switch (n->kind) {
	case OUT_OBJ:
	case OUT_ARR:
		e = out_putc(b, n->kind == OUT_OBJ ? '{' : '[');
		if (e == 0)
			e = out_json_members(b, n, false);
		return e ? e : out_putc(b, n->kind == OUT_OBJ ? '}' : ']');
	case OUT_U64:
		/* jansson holds json_int_t (long long): larger values as reals */
		if (n->v.u > (uint64_t)INT64_MAX)
			return put_real(b, (double)n->v.u);
		return out_put(b, d, out_u64_text(d, n->v.u));
	case OUT_I64:
		if (n->v.i >= 0)
			return out_put(b, d, out_u64_text(d, (uint64_t)n->v.i));
		d[0] = '-';
		return out_put(b, d, 1 + out_u64_text(d + 1, -(uint64_t)n->v.i));
	case OUT_F64:
		return isfinite(n->v.f) ? put_real(b, n->v.f) : out_put(b, "null", 4);
	case OUT_STR:
		return out_json_str(b, n->v.s);
	case OUT_BOOL:
		return n->v.b ? out_put(b, "true", 4) : out_put(b, "false", 5);
	}
	return -EINVAL;
}

int out_json_members(struct out_buf *b, const struct out_node *n, bool comma)
{
	int e = 0;

	for (const struct out_node *k = n->child; k && e == 0; k = k->next) {
		if (k->textonly && !n->textonly)
			continue;
		if (comma)
			e = out_putc(b, ',');
		comma = true;
		if (e == 0 && n->kind == OUT_OBJ) {
			e = out_json_str(b, k->key ? k->key : "");
			if (e == 0)
				e = out_putc(b, ':');
		}
		if (e == 0)
			e = out_json_value(b, k);
	}
	return e;
}
