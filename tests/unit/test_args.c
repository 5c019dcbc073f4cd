/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/args.c. Expected values are worked by hand from the
 * definitions (SI and binary multiples, 2^64 - 1 = 18446744073709551615,
 * 2^63 = 9223372036854775808). getaddrinfo() is wrapped (test_args.ldflags)
 * so resolver failures can be injected without touching DNS.
 */
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <cmocka.h>

#include "mp.h"
#include "args.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL
#define U64_MAX_STR "18446744073709551615"

struct u64_case {
	const char *s;
	int want_r;
	uint64_t want;
};

/* ---- getaddrinfo() wrapper ---- */

enum gai_mode {
	GAI_REAL,		/* call the real resolver */
	GAI_FAIL,		/* return gai_code, errno = gai_errno */
	GAI_NUMERIC_ONLY,	/* fail the test if a name lookup is attempted */
	GAI_V4_ONLY,		/* real resolver, but only IPv4 answers */
	GAI_FAKE,		/* answer with fake_list: 2001:db8::7, then 192.0.2.7 */
};

static enum gai_mode gai_mode;
static int gai_code, gai_errno, gai_calls;
static struct sockaddr_in fake_sin;
static struct sockaddr_in6 fake_sin6;
static struct addrinfo fake_ai[2];

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
void __real_freeaddrinfo(struct addrinfo *res);

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct addrinfo h = *hints;

	gai_calls++;
	switch (gai_mode) {
	case GAI_FAIL:
		errno = gai_errno;
		return gai_code;
	case GAI_NUMERIC_ONLY:
		assert_true(hints->ai_flags & AI_NUMERICHOST);
		break;
	case GAI_V4_ONLY:
		h.ai_family = AF_INET;
		return __real_getaddrinfo(node, service, &h, res);
	case GAI_FAKE:
		fake_sin = (struct sockaddr_in){ .sin_family = AF_INET };
		inet_pton(AF_INET, "192.0.2.7", &fake_sin.sin_addr);
		fake_sin6 = (struct sockaddr_in6){ .sin6_family = AF_INET6 };
		inet_pton(AF_INET6, "2001:db8::7", &fake_sin6.sin6_addr);
		fake_ai[0] = (struct addrinfo){ .ai_family = AF_INET6, .ai_addr =
			(struct sockaddr *)&fake_sin6, .ai_addrlen = sizeof(fake_sin6),
			.ai_next = &fake_ai[1] };
		fake_ai[1] = (struct addrinfo){ .ai_family = AF_INET, .ai_addr =
			(struct sockaddr *)&fake_sin, .ai_addrlen = sizeof(fake_sin) };
		*res = fake_ai;
		return 0;
	case GAI_REAL:
		break;
	}
	return __real_getaddrinfo(node, service, hints, res);
}

void __wrap_freeaddrinfo(struct addrinfo *res)
{
	if (res != fake_ai)
		__real_freeaddrinfo(res);
}

static int reset_gai(void **state)
{
	(void)state;
	gai_mode = GAI_REAL;
	gai_calls = 0;
	return 0;
}

/* ---- integers ---- */

static void check_u64_cases(const struct u64_case *c, size_t n, uint64_t min, uint64_t max,
			    int (*parse)(const char *, uint64_t, uint64_t, uint64_t *))
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v = SENTINEL;
		int r = parse(c[i].s, min, max, &v);

		if (r != c[i].want_r || (r == 0 && v != c[i].want))
			fail_msg("\"%s\": got r=%d v=%llu, want r=%d v=%llu", c[i].s, r,
				 (unsigned long long)v, c[i].want_r,
				 (unsigned long long)c[i].want);
		/* the output is set only on success */
		if (r != 0 && v != SENTINEL)
			fail_msg("\"%s\": output written on failure", c[i].s);
	}
}

static void test_u64(void **state)
{
	static const struct u64_case full[] = {
		{ "0", 0, 0 },
		{ "1500", 0, 1500 },
		{ "007", 0, 7 },
		{ U64_MAX_STR, 0, UINT64_MAX },
		{ "000000000000000000000000018446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "18446744073709551620", -ERANGE, 0 },
		{ "99999999999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ " 5", -EINVAL, 0 },
		{ "5 ", -EINVAL, 0 },
		{ "\t5", -EINVAL, 0 },
		{ "5\n", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "-0", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "1.0", -EINVAL, 0 },
		{ "5k", -EINVAL, 0 },
		{ "abc", -EINVAL, 0 },
		{ "12abc", -EINVAL, 0 },
		{ "1 2", -EINVAL, 0 },
		{ "99999999999999999999999x", -EINVAL, 0 },
	};
	static const struct u64_case bounded[] = {
		{ "9", -ERANGE, 0 },
		{ "10", 0, 10 },
		{ "20", 0, 20 },
		{ "21", -ERANGE, 0 },
		{ "0", -ERANGE, 0 },
	};
	uint64_t v = SENTINEL;

	(void)state;
	check_u64_cases(full, MP_ARRAY_SIZE(full), 0, UINT64_MAX, mp_parse_u64);
	check_u64_cases(bounded, MP_ARRAY_SIZE(bounded), 10, 20, mp_parse_u64);
	assert_int_equal(mp_parse_u64(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(mp_parse_u64("1", 0, 1, NULL), -EINVAL);
	assert_int_equal(mp_parse_u64(U64_MAX_STR, UINT64_MAX, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_i64(void **state)
{
	static const struct {
		const char *s;
		int want_r;
		int64_t want;
	} c[] = {
		{ "0", 0, 0 },
		{ "-0", 0, 0 },
		{ "+5", 0, 5 },
		{ "-5", 0, -5 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "9223372036854775808", -ERANGE, 0 },
		{ "-9223372036854775809", -ERANGE, 0 },
		{ "-18446744073709551616", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "-", -EINVAL, 0 },
		{ "+", -EINVAL, 0 },
		{ "--5", -EINVAL, 0 },
		{ "+-5", -EINVAL, 0 },
		{ " -5", -EINVAL, 0 },
		{ "- 5", -EINVAL, 0 },
		{ "-5 ", -EINVAL, 0 },
		{ "-1e3", -EINVAL, 0 },
		{ "-0x5", -EINVAL, 0 },
	};
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(c); i++) {
		int r;

		v = (int64_t)SENTINEL;
		r = mp_parse_i64(c[i].s, INT64_MIN, INT64_MAX, &v);
		if (r != c[i].want_r || (r == 0 && v != c[i].want) ||
		    (r != 0 && v != (int64_t)SENTINEL))
			fail_msg("\"%s\": got r=%d v=%lld", c[i].s, r, (long long)v);
	}
	assert_int_equal(mp_parse_i64("-10", -10, 10, &v), 0);
	assert_true(v == -10);
	assert_int_equal(mp_parse_i64("10", -10, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(mp_parse_i64("-11", -10, 10, &v), -ERANGE);
	assert_int_equal(mp_parse_i64("11", -10, 10, &v), -ERANGE);
	assert_int_equal(mp_parse_i64(NULL, -10, 10, &v), -EINVAL);
}

static void test_double(void **state)
{
	static const struct {
		const char *s;
		int want_r;
		double want;
	} c[] = {
		{ "0", 0, 0.0 },
		{ "2.5", 0, 2.5 },
		{ "-1e-3", 0, -1e-3 },
		{ "1E3", 0, 1000.0 },
		{ "+7", 0, 7.0 },
		{ "0.1", 0, 0.1 },	/* the double nearest 0.1, as the compiler rounds it */
		{ "1e308", 0, 1e308 },
		{ "1e-400", 0, 0.0 },	/* underflow to zero */
		{ "1e309", -ERANGE, 0 },
		{ "-1e309", -ERANGE, 0 },
		{ "nan", -EINVAL, 0 },
		{ "NaN", -EINVAL, 0 },
		{ "inf", -EINVAL, 0 },
		{ "-inf", -EINVAL, 0 },
		{ "infinity", -EINVAL, 0 },
		{ "0x1p3", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 },
		{ ".5", -EINVAL, 0 },
		{ "1e", -EINVAL, 0 },
		{ "1e+", -EINVAL, 0 },
		{ "1,5", -EINVAL, 0 },
		{ "1.5ms", -EINVAL, 0 },
	};
	double v;
	size_t i;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(c); i++) {
		int r;

		v = -42.0;
		r = mp_parse_double(c[i].s, -DBL_MAX, DBL_MAX, &v);
		if (r != c[i].want_r || (r == 0 && v != c[i].want) ||
		    (r != 0 && v != -42.0))
			fail_msg("\"%s\": got r=%d v=%.17g", c[i].s, r, v);
	}
	assert_int_equal(mp_parse_double("1", 0.0, 1.0, &v), 0);
	assert_int_equal(mp_parse_double("0", 0.0, 1.0, &v), 0);
	assert_int_equal(mp_parse_double("1.0000001", 0.0, 1.0, &v), -ERANGE);
	assert_int_equal(mp_parse_double("-0.0000001", 0.0, 1.0, &v), -ERANGE);
}

/*
 * No decimal-comma locale installed: compile de_DE from the glibc sources
 * (package locales) into a private directory and point LOCPATH at it.
 */
static const char *compile_de_locale(void)
{
	static char dir[] = "/tmp/test_args_locale.XXXXXX";
	char cmd[256];
	const char *set = NULL;

	if (!mkdtemp(dir))
		return NULL;
	snprintf(cmd, sizeof(cmd),
		 "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
	if (system(cmd) == 0 && setenv("LOCPATH", dir, 1) == 0)
		set = setlocale(LC_NUMERIC, "de_DE.UTF-8");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		set = NULL;
	return set;
}

/* The decimal point is '.' whatever LC_NUMERIC says. */
static void test_double_locale(void **state)
{
	static const char *const locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8" };
	const char *set = NULL;
	double v = 0;
	size_t i;
	int r1, r2;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(locales) && !set; i++)
		set = setlocale(LC_NUMERIC, locales[i]);
	if (!set)
		set = compile_de_locale();
	if (!set) {
		print_message("skipped: no locale with a decimal comma (de_DE, fr_FR) installed\n");
		skip();
	}
	assert_string_equal(localeconv()->decimal_point, ",");
	r1 = mp_parse_double("2.5", 0, 10, &v);
	r2 = mp_parse_double("2,5", 0, 10, &v);
	setlocale(LC_NUMERIC, "C");
	assert_int_equal(r1, 0);
	assert_int_equal(r2, -EINVAL);
}

/* ---- durations, sizes, rates ---- */

static void test_duration(void **state)
{
	static const struct u64_case c[] = {
		{ "250ms", 0, 250000000ULL },
		{ "1.5s", 0, 1500000000ULL },
		{ "10us", 0, 10000ULL },
		{ "10\xc2\xb5s", 0, 10000ULL },	/* micro sign */
		{ "500ns", 0, 500ULL },
		{ "2m", 0, 120000000000ULL },
		{ "2min", 0, 120000000000ULL },
		{ "1h", 0, 3600000000000ULL },
		{ "1d", 0, 86400000000000ULL },
		{ "0", 0, 0 },
		{ "00", 0, 0 },
		{ "0.0", 0, 0 },
		{ "0s", 0, 0 },
		/* exact decimal scaling: no 99999999 */
		{ "0.1s", 0, 100000000ULL },
		{ "0.3s", 0, 300000000ULL },
		{ "0.1h", 0, 360000000000ULL },
		{ "2.0000000001m", 0, 120000000006ULL },
		{ "0.000000001s", 0, 1 },
		/* round to the nearest ns, ties up */
		{ "0.0000000005s", 0, 1 },
		{ "0.0000000004999s", 0, 0 },
		{ "1.5ns", 0, 2 },
		{ "1.4999ns", 0, 1 },
		{ "0.3333333333333333333333333333333s", 0, 333333333ULL },
		{ "0.6666666666666666666666666666666s", 0, 666666667ULL },
		{ "0.00000000049999999999999999999999999999s", 0, 0 },
		{ "0.00000000050000000000000000000000000001s", 0, 1 },
		/* 2^64 - 1 ns and just above */
		{ "18446744073.709551615s", 0, UINT64_MAX },
		{ "18446744073709551615ns", 0, UINT64_MAX },
		{ "18446744073.7095516155s", -ERANGE, 0 },
		{ "18446744074s", -ERANGE, 0 },
		{ "18446744073709551616ns", -ERANGE, 0 },
		{ "5124095577h", -ERANGE, 0 },
		/* a unit is required except for zero */
		{ "250", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ " 1s", -EINVAL, 0 },
		{ "1s ", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "+1s", -EINVAL, 0 },
		{ "1S", -EINVAL, 0 },
		{ "1sec", -EINVAL, 0 },
		{ "1ms5", -EINVAL, 0 },
		{ "1s1ms", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "1.s", -EINVAL, 0 },
		{ ".5s", -EINVAL, 0 },
		{ "1..5s", -EINVAL, 0 },
		{ "1,5s", -EINVAL, 0 },
		{ "1e3ms", -EINVAL, 0 },
		{ "0x10s", -EINVAL, 0 },
	};
	static const struct u64_case bounded[] = {
		{ "0", -ERANGE, 0 },
		{ "999us", -ERANGE, 0 },
		{ "999999ns", -ERANGE, 0 },
		{ "1ms", 0, 1000000ULL },
		{ "0.001s", 0, 1000000ULL },
		{ "60m", 0, 3600000000000ULL },
		{ "1h", 0, 3600000000000ULL },
		{ "3600.000000001s", -ERANGE, 0 },
	};
	uint64_t v;

	(void)state;
	check_u64_cases(c, MP_ARRAY_SIZE(c), 0, UINT64_MAX, mp_parse_duration);
	check_u64_cases(bounded, MP_ARRAY_SIZE(bounded), MP_NSEC_PER_MSEC,
			3600ULL * MP_NSEC_PER_SEC, mp_parse_duration);
	assert_int_equal(mp_parse_duration(NULL, 0, 1, &v), -EINVAL);
}

static void test_size(void **state)
{
	static const struct u64_case c[] = {
		{ "1500", 0, 1500 },
		{ "1500B", 0, 1500 },
		{ "4K", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "4KiB", 0, 4096 },
		{ "1M", 0, 1048576 },
		{ "1MiB", 0, 1048576 },
		{ "1G", 0, 1073741824ULL },
		{ "1GiB", 0, 1073741824ULL },
		{ "1T", 0, 1099511627776ULL },
		{ "1TiB", 0, 1099511627776ULL },
		{ "1.5K", 0, 1536 },
		{ "0.5M", 0, 524288 },
		{ "1.0001K", 0, 1024 },		/* 1024.1024 */
		{ "0.0005K", 0, 1 },		/* 0.512 */
		{ "0.00048828125K", 0, 1 },	/* exactly 0.5: ties up */
		{ "0", 0, 0 },
		{ U64_MAX_STR, 0, UINT64_MAX },
		{ "16777215T", 0, 18446742974197923840ULL },	/* 2^64 - 2^40 */
		{ "16777216T", -ERANGE, 0 },			/* 2^64 */
		{ "18446744073709551616", -ERANGE, 0 },
		{ "1.5", -EINVAL, 0 },
		{ "1.5B", -EINVAL, 0 },
		{ "1KB", -EINVAL, 0 },
		{ "1MB", -EINVAL, 0 },
		{ "1GB", -EINVAL, 0 },
		{ "1kb", -EINVAL, 0 },
		{ "1Ki", -EINVAL, 0 },
		{ "1 K", -EINVAL, 0 },
		{ "-1K", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "1KK", -EINVAL, 0 },
	};
	static const struct u64_case bounded[] = {
		{ "63", -ERANGE, 0 },
		{ "64", 0, 64 },
		{ "64K", 0, 65536 },
		{ "65537", -ERANGE, 0 },
	};

	(void)state;
	check_u64_cases(c, MP_ARRAY_SIZE(c), 0, UINT64_MAX, mp_parse_size);
	check_u64_cases(bounded, MP_ARRAY_SIZE(bounded), 64, 65536, mp_parse_size);
}

static void test_rate(void **state)
{
	static const struct u64_case c[] = {
		{ "2500", 0, 2500 },
		{ "2500bit", 0, 2500 },
		{ "2500bit/s", 0, 2500 },
		{ "500k", 0, 500000 },
		{ "500K", 0, 500000 },
		{ "100M", 0, 100000000ULL },
		{ "1.5G", 0, 1500000000ULL },
		{ "10Mbit", 0, 10000000ULL },
		{ "1.5Gbit", 0, 1500000000ULL },
		{ "10Mbit/s", 0, 10000000ULL },
		{ "10Mbps", 0, 10000000ULL },
		{ "1T", 0, 1000000000000ULL },
		{ "0.0000000001G", 0, 0 },		/* 0.1 bit/s */
		{ "1.0000000005G", 0, 1000000001ULL },	/* .5 ties up */
		{ "0", 0, 0 },
		{ U64_MAX_STR, 0, UINT64_MAX },
		{ "18446744073709551.615k", 0, UINT64_MAX },
		{ "18446744073709552k", -ERANGE, 0 },
		{ "1MB", -EINVAL, 0 },
		{ "1MB/s", -EINVAL, 0 },
		{ "1Mb", -EINVAL, 0 },
		{ "1Mb/s", -EINVAL, 0 },
		{ "1MiB", -EINVAL, 0 },
		{ "1Mibit", -EINVAL, 0 },
		{ "100m", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 },
		{ "1.5bit", -EINVAL, 0 },
		{ "10Mbit/", -EINVAL, 0 },
		{ "10Mbits", -EINVAL, 0 },
		{ "10 M", -EINVAL, 0 },
		{ "-1M", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "1e9", -EINVAL, 0 },
		{ "1MM", -EINVAL, 0 },
	};
	static const struct u64_case bounded[] = {
		{ "999", -ERANGE, 0 },
		{ "1k", 0, 1000 },
		{ "10G", 0, 10000000000ULL },
		{ "10.000000001G", -ERANGE, 0 },
	};

	(void)state;
	check_u64_cases(c, MP_ARRAY_SIZE(c), 0, UINT64_MAX, mp_parse_rate);
	check_u64_cases(bounded, MP_ARRAY_SIZE(bounded), 1000, 10000000000ULL, mp_parse_rate);
}

static void test_port(void **state)
{
	uint16_t p = 4242;

	(void)state;
	assert_int_equal(mp_parse_port("1", &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(mp_parse_port("862", &p), 0);
	assert_int_equal(p, 862);
	assert_int_equal(mp_parse_port("65535", &p), 0);
	assert_int_equal(p, 65535);
	p = 4242;
	assert_int_equal(mp_parse_port("0", &p), -ERANGE);
	assert_int_equal(mp_parse_port("65536", &p), -ERANGE);
	assert_int_equal(mp_parse_port("4294967297", &p), -ERANGE);
	assert_int_equal(mp_parse_port("-1", &p), -EINVAL);
	assert_int_equal(mp_parse_port("http", &p), -EINVAL);
	assert_int_equal(mp_parse_port("", &p), -EINVAL);
	assert_int_equal(mp_parse_port(" 80", &p), -EINVAL);
	assert_int_equal(mp_parse_port(NULL, &p), -EINVAL);
	assert_int_equal(p, 4242);
}

/* DSCP names from the RFCs' tables (RFC 2474 4.2.2.1, 2597 6, 3246 2.4,
 * 5865 5, 8622 4), numbers 0..63, nothing else. */
static void test_dscp(void **state)
{
	uint8_t d = 99;

	(void)state;
	assert_int_equal(mp_parse_dscp("ef", &d), 0);
	assert_int_equal(d, 46);
	assert_int_equal(mp_parse_dscp("AF41", &d), 0);
	assert_int_equal(d, 34);
	assert_int_equal(mp_parse_dscp("af13", &d), 0);
	assert_int_equal(d, 14);
	assert_int_equal(mp_parse_dscp("cs7", &d), 0);
	assert_int_equal(d, 56);
	assert_int_equal(mp_parse_dscp("le", &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(mp_parse_dscp("va", &d), 0);
	assert_int_equal(d, 44);
	assert_int_equal(mp_parse_dscp("63", &d), 0);
	assert_int_equal(d, 63);
	assert_int_equal(mp_parse_dscp("0", &d), 0);
	assert_int_equal(d, 0);
	d = 99;
	assert_int_equal(mp_parse_dscp("64", &d), -ERANGE);
	assert_int_equal(mp_parse_dscp("af44", &d), -EINVAL);
	assert_int_equal(mp_parse_dscp("e", &d), -EINVAL);
	assert_int_equal(mp_parse_dscp("", &d), -EINVAL);
	assert_int_equal(mp_parse_dscp(NULL, &d), -EINVAL);
	assert_int_equal(d, 99);
	assert_string_equal(mp_dscp_name(46), "ef");
	assert_string_equal(mp_dscp_name(0), "cs0");
	assert_string_equal(mp_dscp_name(26), "af31");
	assert_null(mp_dscp_name(47));
}

/* ---- addresses ---- */

/* The same address whatever the ports; families never mix. */
static void test_addr_same(void **state)
{
	struct sockaddr_storage a, b, c, d;
	socklen_t n;

	(void)state;
	assert_int_equal(mp_parse_addr("192.0.2.1", AF_UNSPEC, 862, &a, &n), 0);
	assert_int_equal(mp_parse_addr("192.0.2.1", AF_UNSPEC, 1, &b, &n), 0);
	assert_int_equal(mp_parse_addr("192.0.2.2", AF_UNSPEC, 862, &c, &n), 0);
	assert_true(mp_addr_same(&a, &b));
	assert_false(mp_addr_same(&a, &c));
	assert_int_equal(mp_parse_addr("2001:db8::1", AF_UNSPEC, 862, &c, &n), 0);
	assert_int_equal(mp_parse_addr("2001:db8::1", AF_UNSPEC, 7, &d, &n), 0);
	assert_true(mp_addr_same(&c, &d));
	assert_false(mp_addr_same(&a, &c));
	assert_int_equal(mp_parse_addr("2001:db8::2", AF_UNSPEC, 7, &d, &n), 0);
	assert_false(mp_addr_same(&c, &d));
}

static void parse_ok(const char *host, int family, uint16_t port, int want_family,
		     const char *want_str, const char *want_str_port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char buf[MP_ADDR_PORT_STRLEN];
	int r;

	r = mp_parse_addr(host, family, port, &ss, &len);
	if (r != 0)
		fail_msg("\"%s\": %d", host, r);
	assert_int_equal(ss.ss_family, want_family);
	assert_int_equal(len, want_family == AF_INET ? sizeof(struct sockaddr_in) :
			 sizeof(struct sockaddr_in6));
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)),
			 strlen(want_str));
	assert_string_equal(buf, want_str);
	assert_int_equal(mp_addr_to_str_port((struct sockaddr *)&ss, buf, sizeof(buf)),
			 strlen(want_str_port));
	assert_string_equal(buf, want_str_port);
}

static void test_addr_literals(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	unsigned int lo = if_nametoindex("lo");
	char host[64];

	(void)state;
	/* a literal never reaches the resolver as a name */
	gai_mode = GAI_NUMERIC_ONLY;
	parse_ok("192.0.2.1", AF_UNSPEC, 862, AF_INET, "192.0.2.1", "192.0.2.1:862");
	parse_ok("192.0.2.1", AF_INET, 0, AF_INET, "192.0.2.1", "192.0.2.1:0");
	parse_ok("2001:db8::1", AF_UNSPEC, 862, AF_INET6, "2001:db8::1", "[2001:db8::1]:862");
	parse_ok("[2001:db8::1]", AF_INET6, 5121, AF_INET6, "2001:db8::1",
		 "[2001:db8::1]:5121");
	parse_ok("::ffff:192.0.2.1", AF_INET6, 1, AF_INET6, "::ffff:192.0.2.1",
		 "[::ffff:192.0.2.1]:1");
	parse_ok("255.255.255.255", AF_INET, 65535, AF_INET, "255.255.255.255",
		 "255.255.255.255:65535");

	assert_int_equal(mp_parse_addr("192.0.2.1", AF_UNSPEC, 862, &ss, &len), 0);
	assert_int_equal(sin->sin_port, htons(862));
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201U);

	if (lo == 0) {
		print_message("skipped: no interface \"lo\" to use as an IPv6 scope\n");
		skip();
	}
	assert_int_equal(mp_parse_addr("fe80::1%lo", AF_INET6, 862, &ss, &len), 0);
	assert_int_equal(sin6->sin6_scope_id, lo);
	assert_int_equal(sin6->sin6_port, htons(862));
	parse_ok("fe80::1%lo", AF_UNSPEC, 862, AF_INET6, "fe80::1%lo", "[fe80::1%lo]:862");
	snprintf(host, sizeof(host), "[fe80::1%%%u]", lo);
	parse_ok(host, AF_UNSPEC, 7, AF_INET6, "fe80::1%lo", "[fe80::1%lo]:7");
}

static void test_addr_rejects(void **state)
{
	static const char *const bad[] = {
		"", "999.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "0x7f.0.0.1", "1",
		"192.0.2.1 ", " 192.0.2.1", "a b", "a/b", "host..name", ".host",
		"2001:db8::g", "2001:db8:::1", "fe80::1%nosuchif0", "[192.0.2.1]",
		"[", "[]", "[::1", "::1]", "192.0.2.1:80",
	};
	struct sockaddr_storage ss = { .ss_family = 12345 };
	socklen_t len = 4242;
	char longname[300];
	size_t i;

	(void)state;
	gai_mode = GAI_NUMERIC_ONLY;
	for (i = 0; i < MP_ARRAY_SIZE(bad); i++) {
		int r = mp_parse_addr(bad[i], AF_UNSPEC, 1, &ss, &len);

		if (r != -EINVAL)
			fail_msg("\"%s\": got %d, want -EINVAL", bad[i], r);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mp_parse_addr(longname, AF_UNSPEC, 1, &ss, &len), -EINVAL);
	assert_int_equal(mp_parse_addr(NULL, AF_UNSPEC, 1, &ss, &len), -EINVAL);

	/* family mismatch */
	assert_int_equal(mp_parse_addr("192.0.2.1", AF_INET6, 1, &ss, &len), -EAFNOSUPPORT);
	assert_int_equal(mp_parse_addr("::1", AF_INET, 1, &ss, &len), -EAFNOSUPPORT);
	assert_int_equal(mp_parse_addr("::1", AF_UNIX, 1, &ss, &len), -EAFNOSUPPORT);
	/* nothing was written */
	assert_int_equal(ss.ss_family, 12345);
	assert_int_equal(len, 4242);
}

static void test_addr_names(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[MP_ADDR_STRLEN];

	(void)state;
	/* localhost comes from /etc/hosts (files before dns), never from DNS */
	gai_mode = GAI_REAL;
	assert_int_equal(mp_parse_addr("localhost", AF_INET, 80, &ss, &len), 0);
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "127.0.0.1");

	gai_mode = GAI_V4_ONLY;
	assert_int_equal(mp_parse_addr("localhost", AF_INET6, 80, &ss, &len), -EAFNOSUPPORT);

	/* first address of the wanted family, in the resolver's order */
	gai_mode = GAI_FAKE;
	assert_int_equal(mp_parse_addr("example.test", AF_UNSPEC, 80, &ss, &len), 0);
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "2001:db8::7");
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(mp_parse_addr("example.test.", AF_INET, 80, &ss, &len), 0);
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "192.0.2.7");
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, htons(80));
}

static void test_addr_resolver_errors(void **state)
{
	static const struct {
		int code, err, want;
	} c[] = {
		{ EAI_NONAME, 0, -ENOENT },
		{ EAI_NODATA, 0, -ENOENT },
		{ EAI_FAIL, 0, -ENOENT },
		{ EAI_AGAIN, 0, -EAGAIN },
		{ EAI_MEMORY, 0, -ENOMEM },
		{ EAI_ADDRFAMILY, 0, -EAFNOSUPPORT },
		{ EAI_SYSTEM, ECONNREFUSED, -ECONNREFUSED },
		{ EAI_SERVICE, 0, -EIO },
	};
	struct sockaddr_storage ss = { .ss_family = 12345 };
	socklen_t len = 4242;
	size_t i;

	(void)state;
	gai_mode = GAI_FAIL;
	for (i = 0; i < MP_ARRAY_SIZE(c); i++) {
		gai_code = c[i].code;
		gai_errno = c[i].err;
		assert_int_equal(mp_parse_addr("no-such-host.invalid", AF_UNSPEC, 1, &ss, &len),
				 c[i].want);
	}
	assert_int_equal(gai_calls, MP_ARRAY_SIZE(c));
	assert_int_equal(ss.ss_family, 12345);
	assert_int_equal(len, 4242);
}

static void test_addr_to_str(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(862) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(65535),
				     .sin6_scope_id = 4000000000U };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	char buf[MP_ADDR_PORT_STRLEN];

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	/* "192.0.2.1" is 9 characters: 10 bytes with the NUL */
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&sin, buf, 10), 9);
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&sin, buf, 9), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(mp_addr_to_str((struct sockaddr *)&sin, buf, 0), -ENOSPC);
	/* "192.0.2.1:862" is 13 */
	assert_int_equal(mp_addr_to_str_port((struct sockaddr *)&sin, buf, 14), 13);
	assert_string_equal(buf, "192.0.2.1:862");
	assert_int_equal(mp_addr_to_str_port((struct sockaddr *)&sin, buf, 13), -ENOSPC);

	/* the longest text: eight full groups, a 10-digit scope, a 5-digit port */
	memset(&sin6.sin6_addr, 0xff, sizeof(sin6.sin6_addr));
	assert_int_equal(mp_addr_to_str_port((struct sockaddr *)&sin6, buf, sizeof(buf)),
			 strlen("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4000000000]:65535"));
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4000000000]:65535");

	assert_int_equal(mp_addr_to_str(&sa, buf, sizeof(buf)), -EAFNOSUPPORT);
	assert_int_equal(mp_addr_to_str_port(&sa, buf, sizeof(buf)), -EAFNOSUPPORT);
	assert_int_equal(mp_addr_to_str(NULL, buf, sizeof(buf)), -EINVAL);
}

static void test_addr_port(void **state)
{
	struct sockaddr_storage ss = { 0 };
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
	static const uint8_t any6[16] = { 0 };

	(void)state;
	assert_int_equal(mp_addr_any(AF_INET6, 862, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 862);
	assert_memory_equal(&a6->sin6_addr, any6, 16);
	assert_int_equal(mp_addr_any(AF_INET, 5121, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 5121);
	assert_int_equal(a4->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(mp_addr_port_set(&ss, 80), sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(a4->sin_port), 80);
	assert_int_equal(mp_addr_any(AF_UNIX, 1, &ss), -EAFNOSUPPORT);
	assert_int_equal(a4->sin_family, AF_INET);	/* untouched on failure */
	ss.ss_family = AF_UNIX;
	assert_int_equal(mp_addr_port_set(&ss, 1), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_i64),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_double_locale),
		cmocka_unit_test(test_addr_port),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_dscp),
		cmocka_unit_test(test_addr_same),
		cmocka_unit_test_setup(test_addr_literals, reset_gai),
		cmocka_unit_test_setup(test_addr_rejects, reset_gai),
		cmocka_unit_test_setup(test_addr_names, reset_gai),
		cmocka_unit_test_setup(test_addr_resolver_errors, reset_gai),
		cmocka_unit_test_setup(test_addr_to_str, reset_gai),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
