/* SPDX-License-Identifier: MIT */
/*
 * Bounded parsing of command-line values. Numbers are scanned by hand, not
 * with strtoull(), because strtoull() accepts leading blanks, a sign on
 * unsigned values, hex and octal, and depends on nothing telling us where
 * a unit starts; fractions are scaled with exact integer arithmetic so that
 * "0.1s" is 100000000 ns and not 99999999.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mp.h"
#include "args.h"

/* DSCP names (RFC 2474 class selectors, 2597 AF, 3246 EF, 5865 VA, 8622 LE) */
static const struct {
	const char *name;
	uint8_t dscp;
} dscp_names[] = {
	{ "cs0", 0 }, { "le", 1 }, { "cs1", 8 }, { "af11", 10 }, { "af12", 12 },
	{ "af13", 14 }, { "cs2", 16 }, { "af21", 18 }, { "af22", 20 }, { "af23", 22 },
	{ "cs3", 24 }, { "af31", 26 }, { "af32", 28 }, { "af33", 30 }, { "cs4", 32 },
	{ "af41", 34 }, { "af42", 36 }, { "af43", 38 }, { "cs5", 40 }, { "va", 44 },
	{ "ef", 46 }, { "cs6", 48 }, { "cs7", 56 },
};

enum {
	HOST_NAME_MAX_LEN = 253,	/* RFC 1035 limit on a name in text form */
	HOST_LABEL_MAX_LEN = 63,
};

/* A decimal number as written: digits, optional ".digits", then the rest. */
struct dec {
	const char *int_p;	/* integer digits */
	size_t int_n;
	const char *frac_p;	/* fraction digits, after the point */
	size_t frac_n;
	const char *unit;	/* everything after the number, maybe "" */
};

struct unit {
	const char *name;
	uint64_t mult;		/* value of one unit in the result's unit */
};

static const struct unit duration_units[] = {
	{ "ns", 1 },
	{ "us", MP_NSEC_PER_USEC },
	{ "\xc2\xb5s", MP_NSEC_PER_USEC },	/* U+00B5 MICRO SIGN, UTF-8 */
	{ "ms", MP_NSEC_PER_MSEC },
	{ "s", MP_NSEC_PER_SEC },
	{ "m", 60 * (uint64_t)MP_NSEC_PER_SEC },
	{ "min", 60 * (uint64_t)MP_NSEC_PER_SEC },
	{ "h", 3600 * (uint64_t)MP_NSEC_PER_SEC },
	{ "d", 86400 * (uint64_t)MP_NSEC_PER_SEC },
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "B", 1 },
	{ "k", 1ULL << 10 },
	{ "K", 1ULL << 10 },
	{ "KiB", 1ULL << 10 },
	{ "M", 1ULL << 20 },
	{ "MiB", 1ULL << 20 },
	{ "G", 1ULL << 30 },
	{ "GiB", 1ULL << 30 },
	{ "T", 1ULL << 40 },
	{ "TiB", 1ULL << 40 },
};

/* SI prefixes of a rate; the empty prefix must stay first (see parse_rate). */
static const struct unit rate_prefixes[] = {
	{ "", 1 },
	{ "k", 1000ULL },
	{ "K", 1000ULL },
	{ "M", 1000000ULL },
	{ "G", 1000000000ULL },
	{ "T", 1000000000000ULL },
};

static const char *const rate_suffixes[] = { "", "bit", "bit/s", "bps" };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Split s into integer digits, an optional fraction and the unit text.
 * At least one integer digit is required, and a point must be followed by a
 * digit, so "", ".5", "5." and "s" are all -EINVAL.
 */
static int scan_dec(const char *s, bool allow_frac, struct dec *d)
{
	const char *p = s;

	d->int_p = p;
	while (is_digit(*p))
		p++;
	d->int_n = (size_t)(p - d->int_p);
	d->frac_p = p;
	d->frac_n = 0;
	if (d->int_n == 0)
		return -EINVAL;
	if (allow_frac && *p == '.') {
		d->frac_p = ++p;
		while (is_digit(*p))
			p++;
		d->frac_n = (size_t)(p - d->frac_p);
		if (d->frac_n == 0)
			return -EINVAL;
	}
	d->unit = p;
	return 0;
}

static bool dec_is_zero(const struct dec *d)
{
	size_t i;

	for (i = 0; i < d->int_n; i++)
		if (d->int_p[i] != '0')
			return false;
	for (i = 0; i < d->frac_n; i++)
		if (d->frac_p[i] != '0')
			return false;
	return true;
}

/*
 * d * mult, rounded to the nearest integer (ties up), exactly.
 * The fraction is multiplied digit by digit from its end, as on paper: what
 * carries out of the first fraction digit is floor(fraction * mult) and the
 * digit left there decides the rounding. carry < mult holds throughout, so
 * nothing overflows while mult < 2^64 / 10.
 */
static int dec_scale(const struct dec *d, uint64_t mult, uint64_t *ret)
{
	uint64_t v = 0, carry = 0, first = 0;
	size_t i;

	for (i = 0; i < d->int_n; i++) {
		uint64_t digit = (uint64_t)(d->int_p[i] - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	if (mult != 0 && v > UINT64_MAX / mult)
		return -ERANGE;
	v *= mult;

	for (i = d->frac_n; i-- > 0;) {
		uint64_t t = (uint64_t)(d->frac_p[i] - '0') * mult + carry;

		first = t % 10;
		carry = t / 10;
	}
	if (d->frac_n > 0 && first >= 5)
		carry++;
	if (v > UINT64_MAX - carry)
		return -ERANGE;
	*ret = v + carry;
	return 0;
}

static const struct unit *find_unit(const struct unit *tab, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(tab[i].name, name) == 0)
			return &tab[i];
	return NULL;
}

static int check_range_u64(uint64_t v, uint64_t min, uint64_t max, uint64_t *ret)
{
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int mp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	struct dec d;
	uint64_t v;
	int r;

	if (!s || !ret)
		return -EINVAL;
	r = scan_dec(s, false, &d);
	if (r < 0)
		return r;
	if (*d.unit != '\0')
		return -EINVAL;
	r = dec_scale(&d, 1, &v);
	if (r < 0)
		return r;
	return check_range_u64(v, min, max, ret);
}

int mp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	bool neg = false;
	uint64_t mag;
	int64_t v;
	int r;

	if (!s || !ret)
		return -EINVAL;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	r = mp_parse_u64(s, 0, UINT64_MAX, &mag);
	if (r < 0)
		return r;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		/* negate in unsigned arithmetic: -INT64_MIN does not exist */
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* [+-]digits[.digits][(e|E)[+-]digits], and nothing else. */
static bool is_plain_float(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	if (!is_digit(*p))
		return false;
	while (is_digit(*p))
		p++;
	if (*p == '.') {
		if (!is_digit(*++p))
			return false;
		while (is_digit(*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
	}
	return *p == '\0';
}

int mp_parse_double(const char *s, double min, double max, double *ret)
{
	locale_t c_locale;
	char *end;
	double v;
	int r = 0;

	if (!s || !ret || !is_plain_float(s))
		return -EINVAL;
	/* the decimal point must not follow the user's LC_NUMERIC */
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return -errno;
	/* overflow gives HUGE_VAL; underflow gives 0 or a subnormal, kept */
	v = strtod_l(s, &end, c_locale);
	if (*end != '\0')
		r = -EINVAL;
	else if (!isfinite(v) || !(v >= min && v <= max))
		r = -ERANGE;
	freelocale(c_locale);
	if (r == 0)
		*ret = v;
	return r;
}

int mp_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *ret_ns)
{
	const struct unit *u;
	struct dec d;
	uint64_t v;
	int r;

	if (!s || !ret_ns)
		return -EINVAL;
	r = scan_dec(s, true, &d);
	if (r < 0)
		return r;
	if (*d.unit == '\0') {
		/* "0" needs no unit: it means the same in all of them */
		if (!dec_is_zero(&d))
			return -EINVAL;
		return check_range_u64(0, min_ns, max_ns, ret_ns);
	}
	u = find_unit(duration_units, MP_ARRAY_SIZE(duration_units), d.unit);
	if (!u)
		return -EINVAL;
	r = dec_scale(&d, u->mult, &v);
	if (r < 0)
		return r;
	return check_range_u64(v, min_ns, max_ns, ret_ns);
}

int mp_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret_bytes)
{
	const struct unit *u;
	struct dec d;
	uint64_t v;
	int r;

	if (!s || !ret_bytes)
		return -EINVAL;
	r = scan_dec(s, true, &d);
	if (r < 0)
		return r;
	u = find_unit(size_units, MP_ARRAY_SIZE(size_units), d.unit);
	/* half a byte is a typo, not a size */
	if (!u || (u->mult == 1 && d.frac_n > 0))
		return -EINVAL;
	r = dec_scale(&d, u->mult, &v);
	if (r < 0)
		return r;
	return check_range_u64(v, min, max, ret_bytes);
}

int mp_parse_rate(const char *s, uint64_t min, uint64_t max, uint64_t *ret_bps)
{
	const struct unit *prefix = &rate_prefixes[0];
	const char *rest;
	struct dec d;
	bool known = false;
	uint64_t v;
	size_t i;
	int r;

	if (!s || !ret_bps)
		return -EINVAL;
	r = scan_dec(s, true, &d);
	if (r < 0)
		return r;
	rest = d.unit;
	for (i = 1; i < MP_ARRAY_SIZE(rate_prefixes); i++) {
		if (*rest == rate_prefixes[i].name[0]) {
			prefix = &rate_prefixes[i];
			rest++;
			break;
		}
	}
	for (i = 0; i < MP_ARRAY_SIZE(rate_suffixes); i++)
		if (strcmp(rest, rate_suffixes[i]) == 0)
			known = true;
	if (!known || (prefix->mult == 1 && d.frac_n > 0))
		return -EINVAL;
	r = dec_scale(&d, prefix->mult, &v);
	if (r < 0)
		return r;
	return check_range_u64(v, min, max, ret_bps);
}

int mp_parse_port(const char *s, uint16_t *ret)
{
	uint64_t v;
	int r;

	if (!ret)
		return -EINVAL;
	r = mp_parse_u64(s, 1, UINT16_MAX, &v);
	if (r < 0)
		return r;
	*ret = (uint16_t)v;
	return 0;
}

int mp_parse_dscp(const char *s, uint8_t *ret)
{
	uint64_t v;
	size_t i;
	int r;

	if (!s || !ret)
		return -EINVAL;
	for (i = 0; i < MP_ARRAY_SIZE(dscp_names); i++) {
		if (!strcasecmp(s, dscp_names[i].name)) {
			*ret = dscp_names[i].dscp;
			return 0;
		}
	}
	r = mp_parse_u64(s, 0, 63, &v);
	if (r == 0)
		*ret = (uint8_t)v;
	return r;
}

const char *mp_dscp_name(uint8_t dscp)
{
	size_t i;

	for (i = 0; i < MP_ARRAY_SIZE(dscp_names); i++)
		if (dscp_names[i].dscp == dscp)
			return dscp_names[i].name;
	return NULL;
}

/*
 * A DNS name in text form (letters, digits, '-', '_', dots between
 * non-empty labels, one optional trailing dot) whose last label is not all
 * digits: no top-level domain is numeric (RFC 3696 section 2), so "1.2.3"
 * or "999.1.1.1" is a mistyped address and must not be sent to DNS.
 */
static bool is_host_name(const char *s)
{
	size_t len = strlen(s), label = 0, i;
	bool numeric = true;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			numeric = true;
			continue;
		}
		if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    c != '-' && c != '_')
			return false;
		if (!is_digit(c))
			numeric = false;
		if (++label > HOST_LABEL_MAX_LEN)
			return false;
	}
	return !numeric;
}

static int gai_to_errno(int e, int saved_errno)
{
	switch (e) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
	case EAI_FAIL:
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
	case EAI_FAMILY:
		return -EAFNOSUPPORT;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return saved_errno > 0 ? -saved_errno : -EIO;
	default:
		return -EIO;
	}
}

bool mp_addr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	       !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

int mp_addr_port_set(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return sizeof(struct sockaddr_in);
	}
	if (ss->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return sizeof(struct sockaddr_in6);
	}
	return -EAFNOSUPPORT;
}

int mp_addr_any(int family, uint16_t port, struct sockaddr_storage *ret)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	int len = mp_addr_port_set(&ss, port);	/* the rest is zero: any */

	if (len >= 0)
		*ret = ss;
	return len;
}

int mp_parse_addr(const char *host, int family, uint16_t port,
		  struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL, *ai;
	struct sockaddr_storage ss = { 0 };
	char name[HOST_NAME_MAX_LEN + 2];
	socklen_t ss_len = 0;
	size_t len;
	int r;

	if (!host || !ret || !ret_len)
		return -EINVAL;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
		/* brackets are for IPv6 literals only */
		if (!memchr(host, ':', len))
			return -EINVAL;
	}
	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	memcpy(name, host, len);
	name[len] = '\0';

	if (strchr(name, ':')) {
		/* getaddrinfo() rather than inet_pton(): it understands "%scope" */
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_NUMERICHOST;
		errno = 0;
		r = getaddrinfo(name, NULL, &hints, &res);
		if (r == EAI_NONAME)
			return -EINVAL;
		if (r != 0)
			return gai_to_errno(r, errno);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		/* inet_pton(), not inet_aton(): "1.2" or "0x7f.1" is a typo */
		if (inet_pton(AF_INET, name, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			ss_len = sizeof(*sin);
			goto found;
		}
		if (!is_host_name(name))
			return -EINVAL;
		/* ask for both families, so that a mismatch is told from no name */
		hints.ai_family = AF_UNSPEC;
		errno = 0;
		r = getaddrinfo(name, NULL, &hints, &res);
		if (r != 0)
			return gai_to_errno(r, errno);
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (family != AF_UNSPEC && ai->ai_family != family)
			continue;
		if (ai->ai_addrlen > sizeof(ss))
			continue;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		ss_len = ai->ai_addrlen;
		break;
	}
	freeaddrinfo(res);
	if (ss_len == 0)
		return -EAFNOSUPPORT;
found:
	if (family != AF_UNSPEC && ss.ss_family != family)
		return -EAFNOSUPPORT;
	if (mp_addr_port_set(&ss, port) < 0)
		return -EAFNOSUPPORT;
	*ret = ss;
	*ret_len = ss_len;
	return 0;
}

int mp_addr_to_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char tmp[MP_ADDR_STRLEN];
	size_t n;

	if (!sa || !buf)
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (!inet_ntop(AF_INET, &sin->sin_addr, tmp, sizeof(tmp)))
			return -errno;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		char ifname[IF_NAMESIZE];

		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, tmp, sizeof(tmp)))
			return -errno;
		if (sin6->sin6_scope_id != 0) {
			n = strlen(tmp);
			if (if_indextoname(sin6->sin6_scope_id, ifname))
				snprintf(tmp + n, sizeof(tmp) - n, "%%%s", ifname);
			else
				snprintf(tmp + n, sizeof(tmp) - n, "%%%u",
					 (unsigned)sin6->sin6_scope_id);
		}
	} else {
		return -EAFNOSUPPORT;
	}
	n = strlen(tmp);
	if (n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, tmp, n + 1);
	return (int)n;
}

int mp_addr_to_str_port(const struct sockaddr *sa, char *buf, size_t len)
{
	char addr[MP_ADDR_STRLEN], tmp[MP_ADDR_PORT_STRLEN];
	uint16_t port;
	int n;

	n = mp_addr_to_str(sa, addr, sizeof(addr));
	if (n < 0)
		return n;
	if (sa->sa_family == AF_INET) {
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		n = snprintf(tmp, sizeof(tmp), "%s:%u", addr, (unsigned)port);
	} else {
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		n = snprintf(tmp, sizeof(tmp), "[%s]:%u", addr, (unsigned)port);
	}
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}
