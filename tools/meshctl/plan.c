/* SPDX-License-Identifier: MIT */
/*
 * plan: the interface-name pattern ("wg%L.%R_v%F") and the address plan
 * (a template of a site's net: see below). Both
 * come from the command line or a configuration file, so they are
 * untrusted: every function here reads only what it is given, prints
 * nothing and calls no lib/ function (the fuzz harness includes this file
 * alone). Reasons go into errbuf, the offending text quoted with every
 * byte that is not printable ASCII escaped as \xHH, so a reason is always
 * safe to print.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

enum {
	/* pattern elements other than literal octets (0..255) */
	PAT_END = 256,		/* the pattern's NUL */
	PAT_L,			/* %L: local site */
	PAT_R,			/* %R: remote site */
	PAT_F,			/* %F: outer family */
	PAT_BAD,		/* '%' followed by anything else */
	QUOTE_MAX = 64,		/* input octets quoted in a reason, then "..." */
	QUOTE_LEN = 4 * QUOTE_MAX + 4,	/* every octet as \xHH, "...", NUL */
	NAME_MAX_LEN = IF_NAMESIZE - 1,	/* characters of an interface name */
};

/* The tokens' letters and what they stand for, indexed by PAT_x - PAT_L. */
static const char tok_letter[] = "LRF";
static const char *const tok_what[] = { "local site", "remote site", "outer family" };

static int err_set(char *errbuf, size_t errlen, const char *fmt, ...) MP_PRINTF(3, 4);

/* Write the reason into errbuf (may be NULL). Returns -EINVAL. */
static int err_set(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* s as printable ASCII: quotes, backslashes and all else escaped as \xHH,
 * cut after QUOTE_MAX octets. out: QUOTE_LEN bytes. */
static void quote(char out[QUOTE_LEN], const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, k = 0;

	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
			out[k++] = (char)c;
			continue;
		}
		out[k++] = '\\';
		out[k++] = 'x';
		out[k++] = hex[c >> 4];
		out[k++] = hex[c & 15];
	}
	if (s[i])
		k += (size_t)snprintf(out + k, QUOTE_LEN - k, "...");
	out[k] = '\0';
}

/* The next element of pattern text at *pp (literal octet or PAT_*); *pp
 * advanced past it, except at the end. */
static int pat_next(const char **pp)
{
	const char *p = *pp;

	if (*p == '\0')
		return PAT_END;
	if (*p != '%') {
		*pp = p + 1;
		return (unsigned char)*p;
	}
	if (p[1] == '\0') {
		*pp = p + 1;
		return PAT_BAD;
	}
	*pp = p + 2;
	switch (p[1]) {
	case '%':
		return '%';
	case 'L':
		return PAT_L;
	case 'R':
		return PAT_R;
	case 'F':
		return PAT_F;
	default:
		return PAT_BAD;
	}
}

static bool is_tok(int e)
{
	return e == PAT_L || e == PAT_R || e == PAT_F;
}

/* What `ip link` accepts in a name (the kernel's dev_valid_name()), kept
 * to printable ASCII: no whitespace, '/' or ':'. */
static bool name_char_ok(int c)
{
	return c > 0x20 && c < 0x7f && c != '/' && c != ':';
}

static bool is_dec(int c)
{
	return c >= '0' && c <= '9';
}

/* The pattern text of p, or NULL if it is not NUL-terminated. */
static const char *pat_text(const struct mc_pattern *p)
{
	return memchr(p->text, '\0', sizeof(p->text)) ? p->text : NULL;
}

/* Quote one octet c. */
static void quote_char(char out[QUOTE_LEN], int c)
{
	char one[2] = { (char)c, '\0' };

	quote(out, one);
}

/* The reason for a '%' sequence that is no token; p: just past it. */
static int bad_seq(const char *q, const char *p, char *errbuf, size_t errlen)
{
	char c[QUOTE_LEN];

	if (p[-1] == '%')
		return err_set(errbuf, errlen,
			       "pattern '%s' ends with a lone '%%' (write %%%% for a '%%')", q);
	quote_char(c, p[-1]);
	return err_set(errbuf, errlen,
		       "pattern '%s' has '%%%s': only %%L, %%R, %%F and %%%% are known", q, c);
}

int mc_pattern_parse(const char *text, struct mc_pattern *ret, char *errbuf, size_t errlen)
{
	char q[QUOTE_LEN], c[QUOTE_LEN];
	const char *p;
	unsigned seen = 0, nlit = 0, i;
	size_t len;
	int e, prev = PAT_END;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!text || !ret)
		return err_set(errbuf, errlen, "no pattern");
	len = strnlen(text, MC_PATTERN_MAX);
	if (len == 0)
		return err_set(errbuf, errlen, "empty pattern");
	quote(q, text);
	if (len >= MC_PATTERN_MAX)
		return err_set(errbuf, errlen, "pattern '%s' is longer than %d characters", q,
			       MC_PATTERN_MAX - 1);
	for (p = text; (e = pat_next(&p)) != PAT_END; prev = e) {
		if (e == PAT_BAD)
			return bad_seq(q, p, errbuf, errlen);
		if (is_tok(e)) {
			i = (unsigned)(e - PAT_L);
			if (seen & 1U << i)
				return err_set(errbuf, errlen, "pattern '%s' has %%%c (%s) twice",
					       q, tok_letter[i], tok_what[i]);
			if (is_tok(prev))
				return err_set(errbuf, errlen,
					       "pattern '%s' has %%%c%%%c: fields side by side are "
					       "ambiguous (where does a site number end?); put a "
					       "literal character between them",
					       q, tok_letter[prev - PAT_L], tok_letter[i]);
			seen |= 1U << i;
			continue;
		}
		if (!name_char_ok(e)) {
			quote_char(c, e);
			return err_set(errbuf, errlen,
				       "pattern '%s' has '%s', which an interface name cannot hold "
				       "(printable ASCII only, no space, '/' or ':')", q, c);
		}
		if (is_dec(e) && (prev == PAT_L || prev == PAT_R))
			return err_set(errbuf, errlen,
				       "pattern '%s' has a digit right after %%%c: where the site "
				       "number ends would be ambiguous",
				       q, tok_letter[prev - PAT_L]);
		nlit++;
	}
	for (i = 0; i < 3; i++)
		if (!(seen & 1U << i))
			return err_set(errbuf, errlen, "pattern '%s' has no %%%c (%s)", q,
				       tok_letter[i], tok_what[i]);
	/* the shortest name: one-digit sites and the family's digit */
	if (nlit + 3 > NAME_MAX_LEN)
		return err_set(errbuf, errlen,
			       "pattern '%s' makes names of %u characters or more; an interface "
			       "name has at most %d", q, nlit + 3, NAME_MAX_LEN);
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->text, text, len + 1);
	return 0;
}

/* A site number: decimal, no leading zero; *pp advanced past it. The same
 * rules, in the same order, as lib/wg.c, so that the default pattern
 * decides every name as mp_wg_ifname_parse() does. */
static int site_scan(const char **pp, unsigned *ret)
{
	const char *p = *pp;
	unsigned v = 0;
	size_t n = 0;

	while (is_dec(p[n])) {
		if (n >= 3)
			return -ERANGE;
		v = v * 10 + (unsigned)(p[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && p[0] == '0'))
		return -EINVAL;
	*pp = p + n;
	*ret = v;
	return v >= MC_SITES ? -ERANGE : 0;
}

int mc_pattern_match(const struct mc_pattern *p, const char *name, struct mp_wg_ifname *ret)
{
	struct mp_wg_ifname n = { 0 };
	const char *t, *s = name;
	unsigned seen = 0;
	int e, r = 0;

	if (!p || !name || !ret || strnlen(name, IF_NAMESIZE) > NAME_MAX_LEN)
		return -EINVAL;
	t = pat_text(p);
	if (!t)
		return -EINVAL;
	/* left to right, the first mismatch decides (as lib/wg.c) */
	while ((e = pat_next(&t)) != PAT_END) {
		switch (e) {
		case PAT_L:
			r = site_scan(&s, &n.local_site);
			break;
		case PAT_R:
			r = site_scan(&s, &n.remote_site);
			break;
		case PAT_F:
			if (*s != '4' && *s != '6')
				return -EINVAL;
			n.family = *s++ == '4' ? AF_INET : AF_INET6;
			break;
		case PAT_BAD:
			return -EINVAL;
		default:
			if ((unsigned char)*s != e)
				return -EINVAL;
			s++;
			continue;
		}
		if (r < 0)
			return r;
		seen |= 1U << (e - PAT_L);
	}
	if (*s != '\0' || seen != 7)
		return -EINVAL;
	*ret = n;
	return 0;
}

/* Append len octets of s to out (*k used so far), within an interface
 * name's length. */
static int put(char out[IF_NAMESIZE], size_t *k, const char *s, size_t len)
{
	if (*k + len > NAME_MAX_LEN)
		return -EINVAL;
	memcpy(out + *k, s, len);
	*k += len;
	return 0;
}

int mc_pattern_format(const struct mc_pattern *p, const struct mp_wg_ifname *n, char *buf,
		      size_t len)
{
	char out[IF_NAMESIZE], num[4];
	const char *t;
	size_t k = 0;
	unsigned seen = 0;
	int e, r;

	if (!p || !n || n->local_site >= MC_SITES || n->remote_site >= MC_SITES ||
	    (n->family != AF_INET && n->family != AF_INET6))
		return -EINVAL;
	t = pat_text(p);
	if (!t)
		return -EINVAL;
	while ((e = pat_next(&t)) != PAT_END) {
		switch (e) {
		case PAT_L:
		case PAT_R:
			r = snprintf(num, sizeof(num), "%u",
				     e == PAT_L ? n->local_site : n->remote_site);
			r = put(out, &k, num, (size_t)r);
			break;
		case PAT_F:
			r = put(out, &k, n->family == AF_INET ? "4" : "6", 1);
			break;
		case PAT_BAD:
			return -EINVAL;
		default:
			num[0] = (char)e;
			r = put(out, &k, num, 1);
			break;
		}
		if (r < 0)
			return r;
		if (is_tok(e))
			seen |= 1U << (e - PAT_L);
	}
	/* a name too long for an interface is no name of this pattern: -EINVAL
	 * above; a buffer too short for a valid name: -ENOSPC */
	if (seen != 7)
		return -EINVAL;
	if (!buf || k >= len)
		return -ENOSPC;
	memcpy(buf, out, k);
	buf[k] = '\0';
	return (int)k;
}

/* ---------------------------------------------------------------- plan */

/*
 * The address plan is a template of site Y's net with one %d (Y in
 * decimal) or %x (Y in lowercase hex) where the number goes:
 * "10.201.%d.0/24" gives 10.201.Y.0/24, "fdac:c9:%x::/64" gives
 * fdac:c9:Y::/64 (the lab's and net-perf's plan). Every one of the 256
 * nets is made and checked when the plan is parsed: an address of the
 * family, a length, no host bits, no two sites in one net.
 */
static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

/* Bit i of an address, 0 being the most significant of bytes[0]. */
static unsigned bit_get(const uint8_t *b, unsigned i)
{
	return b[i / 8] >> (7 - i % 8) & 1U;
}

/* Whether a and b agree on their first len bits. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned full = len / 8;

	if (memcmp(a, b, full))
		return false;
	return len % 8 == 0 || !((a[full] ^ b[full]) & (uint8_t)(0xff00U >> (len % 8)));
}

static bool plan_ok(const struct mc_plan *p)
{
	unsigned bits = family_bits(p->family);

	return bits && p->plen <= bits;
}

int mc_plan_parse(const char *text, int family, struct mc_plan *ret, char *errbuf,
		  size_t errlen)
{
	const char *what = family == AF_INET ? "IPv4" : "IPv6";
	const char *example = family == AF_INET ? MC_PLAN4_DEFAULT : MC_PLAN6_DEFAULT;
	char q[QUOTE_LEN], qn[QUOTE_LEN], net[MC_PLAN_MAX + 8], *slash;
	struct mc_plan *pl;
	const char *tok = NULL, *c;
	unsigned bits = family_bits(family), site, i, plen = 0;
	size_t llen;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!ret || (family != AF_INET && family != AF_INET6))
		return err_set(errbuf, errlen, "address plan: unsupported family %d", family);
	if (!text)
		return err_set(errbuf, errlen, "no %s address plan", what);
	quote(q, text);
	if (strlen(text) >= MC_PLAN_MAX)
		return err_set(errbuf, errlen, "plan '%s' is too long", q);
	for (c = text; *c; c++) {
		if (*c != '%')
			continue;
		if ((c[1] != 'd' && c[1] != 'x') || tok)
			return err_set(errbuf, errlen, "plan '%s' needs exactly one %%d or %%x "
				       "where the site number goes (e.g. '%s')", q, example);
		tok = c++;
	}
	if (!tok)
		return err_set(errbuf, errlen, "plan '%s' has no %%d or %%x for the site number "
			       "(e.g. '%s')", q, example);
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->family = family;
	snprintf(pl->text, sizeof(pl->text), "%s", text);
	for (site = 0; site < MC_SITES; site++) {
		snprintf(net, sizeof(net), "%.*s", (int)(tok - text), text);
		snprintf(net + strlen(net), sizeof(net) - strlen(net), tok[1] == 'd' ? "%u" : "%x",
			 site);
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "%s", tok + 2);
		slash = strchr(net, '/');
		if (!slash || slash[1] == '\0') {
			free(pl);
			return err_set(errbuf, errlen, "plan '%s' has no prefix length (e.g. '%s')",
				       q, example);
		}
		*slash = '\0';
		llen = strspn(slash + 1, "0123456789");
		plen = 0;
		for (i = 0; i < llen && i < 4; i++)
			plen = plen * 10 + (unsigned)(slash[1 + i] - '0');
		if (llen == 0 || llen > 3 || slash[1 + llen] || (llen > 1 && slash[1] == '0') ||
		    plen > bits) {
			free(pl);
			return err_set(errbuf, errlen, "plan '%s': the prefix length must be a "
				       "number 0..%u", q, bits);
		}
		if (inet_pton(family, net, pl->nets[site]) != 1) {
			quote(qn, net);
			err_set(errbuf, errlen, "plan '%s': site %u gives '%s', not an %s address",
				q, site, qn, what);
			free(pl);
			return -EINVAL;
		}
		for (i = plen; i < bits; i++)
			if (bit_get(pl->nets[site], i)) {
				err_set(errbuf, errlen, "plan '%s': site %u gives %s/%u, which has "
					"host bits set", q, site, net, plen);
				free(pl);
				return -EINVAL;
			}
		if (site && prefix_eq(pl->nets[site], pl->nets[0], plen)) {
			free(pl);
			return err_set(errbuf, errlen, "plan '%s': sites 0 and %u get the same net",
				       q, site);
		}
	}
	pl->plen = plen;
	*ret = *pl;
	free(pl);
	return 0;
}

int mc_plan_site_net(const struct mc_plan *p, unsigned site, struct mp_nl_addr *ret_addr)
{
	if (!p || !ret_addr || !plan_ok(p))
		return -EINVAL;
	if (site >= MC_SITES)
		return -ERANGE;
	memset(ret_addr, 0, sizeof(*ret_addr));
	ret_addr->family = p->family;
	memcpy(ret_addr->bytes, p->nets[site], sizeof(p->nets[site]));
	return 0;
}

int mc_plan_site_of(const struct mc_plan *p, const struct mp_nl_addr *addr, unsigned len)
{
	unsigned site;

	if (!p || !addr || !plan_ok(p))
		return -EINVAL;
	if (addr->family != p->family || len < p->plen)
		return -ENOENT;
	if (len > family_bits(addr->family))
		return -EINVAL;
	for (site = 0; site < MC_SITES; site++)
		if (prefix_eq(addr->bytes, p->nets[site], p->plen))
			return (int)site;
	return -ENOENT;
}
