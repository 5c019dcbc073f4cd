/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of meshctl's untrusted-input codecs: the exchange message
 * (tools/meshctl/exchange.c) and the name pattern and address plan
 * (tools/meshctl/plan.c), included here as the fuzz harnesses do, since
 * they are tool code outside libmeshperf.
 *
 * Expected values: the message vector is typed in octet by octet from the
 * layout in docs/PROTOCOL.md, and its MAC is computed here with libsodium's
 * crypto_auth_hmacsha256() directly, not through lib/auth. The default
 * pattern is judged against lib/wg.c's mp_wg_ifname_parse() on every name
 * wgX.Y_vZ for X, Y in 0..299 and on mutations of them. Plan nets are
 * worked by hand from "site Y's net = base + Y * 2^(32 - plen)" (IPv4)
 * and "base + Y * 2^(128 - plen + 16)" (IPv6: fdac:c9:Y::/64, as the lab
 * and tests/netns/meshctl.sh number the sites).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../tools/meshctl/exchange.c"
#include "../../tools/meshctl/plan.c"

static const uint8_t test_key[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f,
};

/* Origin 3, ttl 2, seq 0x0123456789abcdef, two entries. */
static const uint8_t vector_body[16 + 2 * 32] = {
	0x4d, 0x58, 0x01, 0x01,		/* 'M' 'X', version 1, type 1 */
	0x03, 0x02, 0x00, 0x02,		/* origin 3, ttl 2, n 2 */
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,	/* seq */
	/* site 1 over IPv4, up */
	0x01, 0x04, 0x01, 0x00,
	0xff, 0xff, 0xfa, 0x24,		/* cost -1500 */
	0x00, 0x00, 0x09, 0xc4,		/* base 2500 */
	0x00, 0x00, 0x13, 0x88,		/* rtt 5000 */
	0xff, 0xff, 0xfb, 0x50,		/* fwd -1200 */
	0x00, 0x00, 0x18, 0x38,		/* rev 6200 */
	0x00, 0xfa, 0x27, 0x10,		/* loss 250, avail 10000 */
	0x00, 0x00, 0x00, 0x00,
	/* site 7 over IPv6, down */
	0x07, 0x06, 0x02, 0x00,
	0x7f, 0xff, 0xff, 0xff,		/* cost INT32_MAX */
	0x00, 0x00, 0x00, 0x00,		/* base 0 */
	0xff, 0xff, 0xff, 0xff,		/* rtt UINT32_MAX */
	0x80, 0x00, 0x00, 0x00,		/* fwd INT32_MIN */
	0x00, 0x00, 0x00, 0x00,		/* rev 0 */
	0x27, 0x10, 0x00, 0x00,		/* loss 10000, avail 0 */
	0x00, 0x00, 0x00, 0x00,
};

static struct mp_auth_key key, other_key;

/* The message of vector_body, as a struct. */
static void vector_msg(struct mc_x_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->origin = 3;
	m->ttl = 2;
	m->seq = 0x0123456789abcdefULL;
	m->n = 2;
	m->e[0] = (struct mc_x_entry){ .remote_site = 1, .family = 4, .state = MC_ST_UP,
		.cost_us = -1500, .base_us = 2500, .rtt_us = 5000, .fwd_us = -1200,
		.rev_us = 6200, .loss_fwd_pm = 250, .avail_pm = 10000 };
	m->e[1] = (struct mc_x_entry){ .remote_site = 7, .family = 6, .state = MC_ST_DOWN,
		.cost_us = INT32_MAX, .base_us = 0, .rtt_us = UINT32_MAX, .fwd_us = INT32_MIN,
		.rev_us = 0, .loss_fwd_pm = 10000, .avail_pm = 0 };
}

/* Sign buf (len octets, MAC last) with test_key, independently of lib/auth. */
static void sign(uint8_t *buf, size_t len)
{
	assert_int_equal(crypto_auth_hmacsha256(buf + len - 32, buf, len - 32, test_key), 0);
}

static void assert_entry_equal(const struct mc_x_entry *a, const struct mc_x_entry *b)
{
	assert_int_equal(a->remote_site, b->remote_site);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->cost_us, b->cost_us);
	assert_int_equal(a->base_us, b->base_us);
	assert_int_equal(a->rtt_us, b->rtt_us);
	assert_int_equal(a->fwd_us, b->fwd_us);
	assert_int_equal(a->rev_us, b->rev_us);
	assert_int_equal(a->loss_fwd_pm, b->loss_fwd_pm);
	assert_int_equal(a->avail_pm, b->avail_pm);
}

static void assert_msg_equal(const struct mc_x_msg *a, const struct mc_x_msg *b)
{
	size_t i;

	assert_int_equal(a->origin, b->origin);
	assert_int_equal(a->ttl, b->ttl);
	assert_true(a->seq == b->seq);
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++)
		assert_entry_equal(&a->e[i], &b->e[i]);
}

/*
 * Decode buf into a struct filled with 0xa5 first; on failure the struct
 * must still hold only 0xa5 (*ret set on success only).
 */
static int decode_checked(const uint8_t *buf, size_t len, const struct mp_auth_key *k,
			  struct mc_x_msg *out)
{
	static struct mc_x_msg m, canary;
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, buf, len);		/* exact size: ASan catches over-reads */
	memset(&m, 0xa5, sizeof(m));
	memset(&canary, 0xa5, sizeof(canary));
	r = mc_x_decode(copy, len, k, &m);
	free(copy);
	if (r < 0)
		assert_memory_equal(&m, &canary, sizeof(m));
	else if (out)
		*out = m;
	return r;
}

static void test_x_vector(void **state)
{
	static struct mc_x_msg m, d;
	uint8_t expect[sizeof(vector_body) + 32], buf[MC_X_MAX_LEN];

	(void)state;
	memcpy(expect, vector_body, sizeof(vector_body));
	sign(expect, sizeof(expect));
	vector_msg(&m);
	assert_int_equal(mc_x_encode(&m, &key, buf, sizeof(buf)), sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_int_equal(decode_checked(expect, sizeof(expect), &key, &d), 0);
	assert_msg_equal(&d, &m);
	/* exactly the room needed is enough, one octet less is not */
	assert_int_equal(mc_x_encode(&m, &key, buf, sizeof(expect)), sizeof(expect));
	assert_int_equal(mc_x_encode(&m, &key, buf, sizeof(expect) - 1), -EMSGSIZE);
	assert_int_equal(mc_x_encode(&m, &key, NULL, 0), -EMSGSIZE);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64: a reproducible sequence */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* n valid entries for origin, in random order of (site, family). */
static void random_msg(struct mc_x_msg *m, uint8_t origin, unsigned n)
{
	unsigned pairs[MC_X_ENTRIES_MAX], np = 0, i, j, t;

	memset(m, 0, sizeof(*m));
	m->origin = origin;
	m->ttl = (uint8_t)rnd();
	m->seq = rnd();
	m->n = (uint16_t)n;
	for (i = 0; i < 2 * MC_SITES; i++)
		if (i / 2 != origin)
			pairs[np++] = i;
	for (i = np - 1; i > 0; i--) {
		j = (unsigned)(rnd() % (i + 1));
		t = pairs[i];
		pairs[i] = pairs[j];
		pairs[j] = t;
	}
	for (i = 0; i < n; i++) {
		struct mc_x_entry *e = &m->e[i];

		e->remote_site = (uint8_t)(pairs[i] / 2);
		e->family = pairs[i] % 2 ? 6 : 4;
		e->state = (uint8_t)(rnd() % 3);
		e->cost_us = (int32_t)(uint32_t)rnd();
		e->base_us = (int32_t)(rnd() % ((uint64_t)INT32_MAX + 1));
		e->rtt_us = (uint32_t)rnd();
		e->fwd_us = (int32_t)(uint32_t)rnd();
		e->rev_us = (int32_t)(uint32_t)rnd();
		e->loss_fwd_pm = (uint16_t)(rnd() % 10001);
		e->avail_pm = (uint16_t)(rnd() % 10001);
	}
}

static void test_x_roundtrip(void **state)
{
	static const unsigned sizes[] = { 0, 1, 2, 17, MC_X_ENTRIES_MAX - 1, MC_X_ENTRIES_MAX };
	static struct mc_x_msg m, d;
	static uint8_t buf[MC_X_MAX_LEN + 1];
	size_t i, len;
	int round;

	(void)state;
	assert_int_equal(MC_X_MAX_LEN, 16 + 510 * 32 + 32);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < MP_ARRAY_SIZE(sizes); i++) {
			random_msg(&m, (uint8_t)rnd(), sizes[i]);
			len = MC_X_HDR_LEN + sizes[i] * MC_X_ENTRY_LEN + MC_X_MAC_LEN;
			assert_int_equal(mc_x_encode(&m, &key, buf, sizeof(buf)), (int)len);
			assert_int_equal(decode_checked(buf, len, &key, &d), 0);
			assert_msg_equal(&d, &m);
			assert_int_equal(decode_checked(buf, len, &other_key, NULL), -EBADMSG);
		}
	}
	/* the same remote site over both families is two tunnels, not a duplicate;
	 * sites 0 and 255, ttl 0 and seq 0 are all valid */
	vector_msg(&m);
	m.origin = 255;
	m.ttl = 0;
	m.seq = 0;
	m.e[0].remote_site = 0;
	m.e[1].remote_site = 0;
	len = (size_t)mc_x_encode(&m, &key, buf, sizeof(buf));
	assert_int_equal(len, 16 + 2 * 32 + 32);
	assert_int_equal(decode_checked(buf, len, &key, &d), 0);
	assert_msg_equal(&d, &m);
}

static void test_x_encode_invalid(void **state)
{
	static struct mc_x_msg m;
	static uint8_t buf[MC_X_MAX_LEN];
	struct mp_auth_key unset = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 12; i++) {
		vector_msg(&m);
		switch (i) {
		case 0:
			m.e[1].family = 5;
			break;
		case 1:
			m.e[0].family = 0;
			break;
		case 2:
			m.e[0].state = 3;
			break;
		case 3:
			m.e[1].remote_site = m.origin;
			break;
		case 4:
			m.e[0].loss_fwd_pm = 10001;
			break;
		case 5:
			m.e[1].avail_pm = 10001;
			break;
		case 6:
			m.e[0].base_us = -1;
			break;
		case 7: /* duplicate */
			m.e[1].family = 4;
			m.e[1].remote_site = 1;
			break;
		case 8:
			m.n = MC_X_ENTRIES_MAX + 1;
			break;
		case 9: /* 2, not 4 */
			m.e[0].family = AF_INET;
			break;
		case 10:
			m.e[1].state = 255;
			break;
		case 11:
			m.e[0].base_us = INT32_MIN;
			break;
		}
		assert_int_equal(mc_x_encode(&m, &key, buf, sizeof(buf)), -EINVAL);
	}
	vector_msg(&m);
	assert_int_equal(mc_x_encode(&m, &unset, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mc_x_encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mc_x_encode(NULL, &key, buf, sizeof(buf)), -EINVAL);
	/* validity is judged before the room */
	m.e[0].family = 5;
	assert_int_equal(mc_x_encode(&m, &key, buf, 10), -EINVAL);
}

/* The vector, signed, into buf; returns its length. */
static size_t vector_signed(uint8_t *buf)
{
	memcpy(buf, vector_body, sizeof(vector_body));
	sign(buf, sizeof(vector_body) + 32);
	return sizeof(vector_body) + 32;
}

static void test_x_decode_tamper(void **state)
{
	uint8_t good[sizeof(vector_body) + 32], buf[sizeof(good)];
	size_t len = vector_signed(good), i;
	unsigned bit;

	(void)state;
	assert_int_equal(decode_checked(good, len, &key, NULL), 0);
	/* any bit flipped anywhere: the MAC fails, except in n, where the
	 * length no longer matches (checked first) */
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, good, len);
			buf[i] ^= (uint8_t)(1U << bit);
			assert_int_equal(decode_checked(buf, len, &key, NULL),
					 i == 6 || i == 7 ? -EMSGSIZE : -EBADMSG);
		}
	}
	/* a whole octet replaced, and the MAC's octets zeroed */
	for (i = 0; i < len; i++) {
		memcpy(buf, good, len);
		buf[i] = (uint8_t)~buf[i];
		assert_true(decode_checked(buf, len, &key, NULL) < 0);
	}
	memcpy(buf, good, len);
	memset(buf + len - 32, 0, 32);
	assert_int_equal(decode_checked(buf, len, &key, NULL), -EBADMSG);
	assert_int_equal(decode_checked(good, len, &other_key, NULL), -EBADMSG);
}

static void test_x_decode_length(void **state)
{
	static uint8_t buf[MC_X_MAX_LEN + 64];
	uint8_t good[sizeof(vector_body) + 32];
	struct mp_auth_key unset = { 0 };
	size_t len = vector_signed(good), l;
	static struct mc_x_msg m;

	(void)state;
	/* truncated anywhere, header included (n not even readable below 8) */
	for (l = 0; l < len; l++)
		assert_int_equal(decode_checked(good, l, &key, NULL), -EMSGSIZE);
	/* one trailing octet, or a whole extra entry without n saying so */
	memcpy(buf, good, len);
	buf[len] = 0;
	assert_int_equal(decode_checked(buf, len + 1, &key, NULL), -EMSGSIZE);
	assert_int_equal(decode_checked(buf, len + 32, &key, NULL), -EMSGSIZE);
	/* n too large: larger than any valid message, signed or not */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, good, 16);
	mp_be16_put(buf + 6, MC_X_ENTRIES_MAX + 1);
	l = 16 + (MC_X_ENTRIES_MAX + 1) * 32 + 32;
	assert_true(l <= sizeof(buf));
	sign(buf, l);
	assert_int_equal(decode_checked(buf, l, &key, NULL), -EMSGSIZE);
	mp_be16_put(buf + 6, 0xffff);
	assert_int_equal(decode_checked(buf, sizeof(buf), &key, NULL), -EMSGSIZE);
	/* n = 0: the shortest message */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, good, 16);
	mp_be16_put(buf + 6, 0);
	sign(buf, 48);
	assert_int_equal(decode_checked(buf, 48, &key, &m), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.origin, 3);
	/* the largest: n = MC_X_ENTRIES_MAX is accepted by length (and here
	 * refused by its duplicate entries, after the MAC) */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, good, 16);
	mp_be16_put(buf + 6, MC_X_ENTRIES_MAX);
	for (l = 0; l < MC_X_ENTRIES_MAX; l++)
		buf[16 + l * 32 + 1] = 4;
	sign(buf, MC_X_MAX_LEN);
	assert_int_equal(decode_checked(buf, MC_X_MAX_LEN, &key, NULL), -EPROTO);
	/* arguments */
	assert_int_equal(mc_x_decode(NULL, len, &key, &m), -EINVAL);
	assert_int_equal(mc_x_decode(good, len, NULL, &m), -EINVAL);
	assert_int_equal(mc_x_decode(good, len, &key, NULL), -EINVAL);
	assert_int_equal(mc_x_decode(good, len, &unset, &m), -EINVAL);
}

/* The vector with octet off set to v (header: 0..15; entry k at 16 + 32 k),
 * re-signed: the MAC is right, the field is not. */
static int decode_field(size_t off, uint8_t v)
{
	uint8_t buf[sizeof(vector_body) + 32];
	size_t len = vector_signed(buf);

	buf[off] = v;
	sign(buf, len);
	return decode_checked(buf, len, &key, NULL);
}

static void test_x_decode_fields(void **state)
{
	uint8_t buf[sizeof(vector_body) + 32];
	size_t len, i;

	(void)state;
	/* header */
	assert_int_equal(decode_field(0, 'm'), -EPROTO);	/* magic */
	assert_int_equal(decode_field(1, 'x'), -EPROTO);
	assert_int_equal(decode_field(2, 0), -EPROTO);		/* version */
	assert_int_equal(decode_field(2, 2), -EPROTO);
	assert_int_equal(decode_field(3, 0), -EPROTO);		/* type */
	assert_int_equal(decode_field(3, 2), -EPROTO);
	assert_int_equal(decode_field(4, 1), -EPROTO);		/* origin = entry 0's site */
	assert_int_equal(decode_field(4, 7), -EPROTO);		/* ... entry 1's */
	assert_int_equal(decode_field(4, 0), 0);
	assert_int_equal(decode_field(5, 0), 0);		/* any ttl */
	assert_int_equal(decode_field(5, 255), 0);
	/* entry 1 (offset 48) */
	assert_int_equal(decode_field(48 + 1, 5), -EPROTO);	/* family */
	assert_int_equal(decode_field(48 + 1, 0), -EPROTO);
	assert_int_equal(decode_field(48 + 1, 10), -EPROTO);	/* AF_INET6, not 6 */
	assert_int_equal(decode_field(48 + 2, 3), -EPROTO);	/* state */
	assert_int_equal(decode_field(48 + 2, 0), 0);
	assert_int_equal(decode_field(48 + 3, 1), -EPROTO);	/* reserved u8 */
	assert_int_equal(decode_field(48 + 8, 0x80), -EPROTO);	/* base < 0 */
	assert_int_equal(decode_field(48 + 8, 0x7f), 0);
	assert_int_equal(decode_field(48 + 24, 0x28), -EPROTO);	/* loss 0x2810 > 10000 */
	assert_int_equal(decode_field(48 + 25, 0x11), -EPROTO);	/* loss 10001 */
	assert_int_equal(decode_field(48 + 26, 0x27), 0);	/* avail 0x2700 */
	assert_int_equal(decode_field(48 + 27, 0x01), 0);	/* avail 1 */
	for (i = 28; i < 32; i++)				/* jitter: any value */
		assert_int_equal(decode_field(48 + i, 0xff), 0);
	/* entry 0's avail is 10000: one more is refused */
	assert_int_equal(decode_field(16 + 27, 0x11), -EPROTO);
	/* duplicates: entry 1 made (1, IPv4) like entry 0 */
	len = vector_signed(buf);
	buf[48] = 1;
	buf[49] = 4;
	sign(buf, len);
	assert_int_equal(decode_checked(buf, len, &key, NULL), -EPROTO);
	buf[49] = 6;		/* (1, IPv6): another tunnel */
	sign(buf, len);
	assert_int_equal(decode_checked(buf, len, &key, NULL), 0);
	/* the MAC is judged before the fields: bad magic, stale MAC */
	len = vector_signed(buf);
	buf[0] = 0;
	assert_int_equal(decode_checked(buf, len, &key, NULL), -EBADMSG);
	/* and the length before the MAC */
	assert_int_equal(decode_checked(buf, len - 1, &key, NULL), -EMSGSIZE);
}

/* ---------------------------------------------------------------- pattern */

static void parse_ok(const char *text, struct mc_pattern *p)
{
	char err[256] = "untouched";

	assert_int_equal(mc_pattern_parse(text, p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(p->text, text);
}

/* Parsing text fails with -EINVAL and a reason that contains want. */
static void parse_bad(const char *text, const char *want)
{
	struct mc_pattern p;
	char err[256] = "";

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(mc_pattern_parse(text, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("pattern '%s': reason \"%s\" lacks \"%s\"", text, err, want);
	assert_int_equal((unsigned char)p.text[0], 0x5a);	/* *ret untouched */
	assert_int_equal(mc_pattern_parse(text, &p, NULL, 0), -EINVAL);
}

static void test_pattern_parse(void **state)
{
	struct mc_pattern p;
	char long_pat[MC_PATTERN_MAX + 1], err[8];

	(void)state;
	parse_ok(MC_PATTERN_DEFAULT, &p);
	parse_ok("%L-%R-%F", &p);
	parse_ok("%F.%L.%R", &p);
	parse_ok("m%%%L.%R.%F", &p);
	parse_ok("x1%L.%R_%F", &p);		/* digits before a site: unambiguous */
	parse_ok("%L.%R.%F1", &p);		/* %F is one character: a digit after it is fine */
	parse_ok("abcdefghij%L.%R.%F", &p);	/* names of 15 characters or more */
	/* the reasons quote the pattern */
	parse_bad("wg%L.%R", "pattern 'wg%L.%R' has no %F (outer family)");
	parse_bad("wg%R_v%F", "pattern 'wg%R_v%F' has no %L (local site)");
	parse_bad("wg%L_v%F", "pattern 'wg%L_v%F' has no %R (remote site)");
	parse_bad("", "empty pattern");
	parse_bad("%L%R_v%F", "pattern '%L%R_v%F' has %L%R: fields side by side are ambiguous");
	parse_bad("wg%L.%R%F", "has %R%F: fields side by side");
	parse_bad("wg%F%L.%R", "has %F%L: fields side by side");
	parse_bad("wg%L.%L_v%F", "has %L (local site) twice");
	parse_bad("wg%L.%R_v%F%R", "has %R (remote site) twice");
	parse_bad("wg%L.%R_v%F.%F", "has %F (outer family) twice");
	parse_bad("wg%L.%R_v%x%F", "has '%x': only %L, %R, %F and %% are known");
	parse_bad("wg%l.%R_v%F", "has '%l'");
	parse_bad("wg%L.%R_v%F%", "ends with a lone '%'");
	parse_bad("wg%L.%R v%F", "has ' ', which an interface name cannot hold");
	parse_bad("wg%L/%R_v%F", "has '/'");
	parse_bad("wg%L:%R_v%F", "has ':'");
	parse_bad("wg%L\t%R_v%F", "pattern 'wg%L\\x09%R_v%F' has '\\x09'");
	parse_bad("wg%L\x01%R_v%F", "has '\\x01'");
	parse_bad("wg%L\x7f%R_v%F", "has '\\x7f'");
	parse_bad("wg%L\xc3\xa9%R_v%F", "has '\\xc3'");
	parse_bad("wg%L0.%R_v%F", "has a digit right after %L");
	parse_bad("wg%L.%R1_v%F", "has a digit right after %R");
	parse_bad("abcdefghijklm%L.%R%F", "side by side");
	parse_bad("abcdefghijk%L.%R.%F", "makes names of 16 characters or more");
	parse_bad("abcdefghijklm%L.%R.%F", "makes names of 18 characters or more");
	parse_bad("it's%L.%R", "pattern 'it\\x27s%L.%R' has no %F");
	parse_ok("it's%L.%R.%F", &p);
	memset(long_pat, 'a', sizeof(long_pat));
	long_pat[MC_PATTERN_MAX] = '\0';
	parse_bad(long_pat, "is longer than 63 characters");
	long_pat[MC_PATTERN_MAX - 1] = '\0';	/* 63: not too long, but no tokens */
	parse_bad(long_pat, "has no %L");
	/* a reason is cut to fit, NUL-terminated */
	assert_int_equal(mc_pattern_parse("wg%L.%R", &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "pattern");
	assert_int_equal(mc_pattern_parse(NULL, &p, NULL, 0), -EINVAL);
	assert_int_equal(mc_pattern_parse(MC_PATTERN_DEFAULT, NULL, NULL, 0), -EINVAL);
}

/* The default pattern decides name as mp_wg_ifname_parse() does. */
static void same_as_wg(const struct mc_pattern *p, const char *name)
{
	struct mp_wg_ifname a = { 7, 7, 7 }, b = { 7, 7, 7 };
	int ra = mc_pattern_match(p, name, &a), rb = mp_wg_ifname_parse(name, &b);

	if (ra != rb || a.local_site != b.local_site || a.remote_site != b.remote_site ||
	    a.family != b.family)
		fail_msg("'%s': pattern %d (%u %u %d), lib/wg.c %d (%u %u %d)", name, ra,
			 a.local_site, a.remote_site, a.family, rb, b.local_site, b.remote_site,
			 b.family);
}

static void test_pattern_default_like_wg(void **state)
{
	static const char *const odd[] = {
		"", "w", "wg", "wg1", "wg1.", "wg1.2", "wg1.2_", "wg1.2_v", "wg1.2_v5",
		"wg1.2_v44", "wg1.2_v4 ", " wg1.2_v4", "Wg1.2_v4", "wg.1_v4", "wg1._v4",
		"wg01.2_v4", "wg1.02_v4", "wg00.2_v4", "wg0.0_v6", "wg-1.2_v4", "wg+1.2_v4",
		"wg1..2_v4", "wg1.2.3_v4", "wg1000.2_v4", "wg0001.2_v4", "wg0256.1_v4",
		"wg1.2_v4\n", "wg1.2_V4", "wg1.2-v4", "wg256.1_v5", "wg1.256_vx", "wg01.256_v4",
		"wg255.255_v6", "wg1.2_v4xxxxxxx", "wg1.2_v4xxxxxxxx", "wg12345678901234",
		"wg1.2_v4%", "wg%L.%R_v%F", "wg9999.9999_v4", "wg1.9999_v4", "wg 1.2_v4",
		"wg\xff.2_v4", "wg1.2_v\xb4",
	};
	static const char alphabet[] = "wg0123456789._v46x%";
	struct mc_pattern p;
	char name[64];
	unsigned x, y, i, k, edits;
	size_t len;

	(void)state;
	parse_ok(MC_PATTERN_DEFAULT, &p);
	for (x = 0; x < 300; x++)
		for (y = 0; y < 300; y++)
			for (i = 0; i < 4; i++) {
				snprintf(name, sizeof(name), "wg%u.%u_v%c", x, y, "4605"[i]);
				same_as_wg(&p, name);
			}
	for (x = 0; x < 300; x += 7) {
		snprintf(name, sizeof(name), "wg0%u.1_v4", x);
		same_as_wg(&p, name);
		snprintf(name, sizeof(name), "wg1.00%u_v6", x);
		same_as_wg(&p, name);
	}
	for (i = 0; i < MP_ARRAY_SIZE(odd); i++)
		same_as_wg(&p, odd[i]);
	/* random edits of valid names */
	for (i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "wg%u.%u_v%c", (unsigned)(rnd() % 260),
			 (unsigned)(rnd() % 260), rnd() % 2 ? '4' : '6');
		edits = 1 + (unsigned)(rnd() % 3);
		for (k = 0; k < edits; k++) {
			len = strlen(name);
			x = (unsigned)(rnd() % (len + 1));
			switch (rnd() % 3) {
			case 0:		/* replace */
				if (x < len)
					name[x] = alphabet[rnd() % (sizeof(alphabet) - 1)];
				break;
			case 1:		/* delete */
				if (x < len)
					memmove(name + x, name + x + 1, len - x);
				break;
			default:	/* insert */
				if (len + 2 < sizeof(name)) {
					memmove(name + x + 1, name + x, len - x + 1);
					name[x] = alphabet[rnd() % (sizeof(alphabet) - 1)];
				}
				break;
			}
		}
		same_as_wg(&p, name);
	}
}

static void test_pattern_match(void **state)
{
	struct mc_pattern p;
	struct mp_wg_ifname n = { 0 }, keep = { 9, 9, 9 };

	(void)state;
	parse_ok(MC_PATTERN_DEFAULT, &p);
	assert_int_equal(mc_pattern_match(&p, "wg0.255_v6", &n), 0);
	assert_int_equal(n.local_site, 0);
	assert_int_equal(n.remote_site, 255);
	assert_int_equal(n.family, AF_INET6);
	n = keep;
	assert_int_equal(mc_pattern_match(&p, "wg256.1_v4", &n), -ERANGE);
	assert_int_equal(mc_pattern_match(&p, "wg1.300_v4", &n), -ERANGE);
	assert_int_equal(mc_pattern_match(&p, "wg1000.1_v4", &n), -ERANGE);
	assert_int_equal(mc_pattern_match(&p, "wg01.1_v4", &n), -EINVAL);
	assert_int_equal(n.local_site, 9);		/* *ret set on success only */
	/* longer than an interface name, though the pattern would match */
	parse_ok("%L.%R.%Fxxxxxxxxxx", &p);
	assert_int_equal(mc_pattern_match(&p, "1.2.4xxxxxxxxxx", &n), 0);
	assert_int_equal(mc_pattern_match(&p, "10.2.4xxxxxxxxxx", &n), -EINVAL);
	assert_int_equal(mc_pattern_match(&p, "100.200.4xxxxxxxxxx", &n), -EINVAL);
	parse_bad("%L.%R.%Fxxxxxxxxxxx", "makes names of 16 characters or more");
	/* other orders, a literal '%', digits before a site */
	parse_ok("%R-%L-%F", &p);
	assert_int_equal(mc_pattern_match(&p, "3-1-4", &n), 0);
	assert_int_equal(n.local_site, 1);
	assert_int_equal(n.remote_site, 3);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(mc_pattern_match(&p, "3-1-4-", &n), -EINVAL);
	assert_int_equal(mc_pattern_match(&p, "3-1-", &n), -EINVAL);
	assert_int_equal(mc_pattern_match(&p, "3--1-4", &n), -EINVAL);
	parse_ok("m%%%L.%R.%F", &p);
	assert_int_equal(mc_pattern_match(&p, "m%12.0.6", &n), 0);
	assert_int_equal(n.local_site, 12);
	assert_int_equal(n.remote_site, 0);
	assert_int_equal(mc_pattern_match(&p, "m12.0.6", &n), -EINVAL);
	assert_int_equal(mc_pattern_match(&p, "m%%12.0.6", &n), -EINVAL);
	parse_ok("x1%L.%R_%F", &p);
	assert_int_equal(mc_pattern_match(&p, "x12.3_4", &n), 0);
	assert_int_equal(n.local_site, 2);
	assert_int_equal(mc_pattern_match(&p, "x2.3_4", &n), -EINVAL);
	parse_ok("%L.%R.%F1", &p);
	assert_int_equal(mc_pattern_match(&p, "7.4.61", &n), 0);
	assert_int_equal(n.local_site, 7);
	assert_int_equal(n.remote_site, 4);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(mc_pattern_match(&p, "7.4.6", &n), -EINVAL);
	assert_int_equal(mc_pattern_match(&p, "7.4.1", &n), -EINVAL);
	/* arguments */
	assert_int_equal(mc_pattern_match(&p, NULL, &n), -EINVAL);
	assert_int_equal(mc_pattern_match(NULL, "7.4.61", &n), -EINVAL);
	assert_int_equal(mc_pattern_match(&p, "7.4.61", NULL), -EINVAL);
	memset(p.text, 'a', sizeof(p.text));	/* not NUL-terminated */
	assert_int_equal(mc_pattern_match(&p, "aaaa", &n), -EINVAL);
}

static void test_pattern_format(void **state)
{
	struct mc_pattern p;
	struct mp_wg_ifname n, back;
	char buf[IF_NAMESIZE], want[IF_NAMESIZE];
	unsigned x, y, f;
	int k;

	(void)state;
	parse_ok(MC_PATTERN_DEFAULT, &p);
	for (x = 0; x < MC_SITES; x++)
		for (y = 0; y < MC_SITES; y += 5)
			for (f = 0; f < 2; f++) {
				n = (struct mp_wg_ifname){ x, y, f ? AF_INET6 : AF_INET };
				k = mc_pattern_format(&p, &n, buf, sizeof(buf));
				assert_int_equal(k, mp_wg_ifname_format(&n, want, sizeof(want)));
				assert_string_equal(buf, want);
				assert_int_equal(mc_pattern_match(&p, buf, &back), 0);
				assert_memory_equal(&back, &n, sizeof(n));
			}
	n = (struct mp_wg_ifname){ 1, 2, AF_INET };
	assert_int_equal(mc_pattern_format(&p, &n, buf, 9), 8);
	assert_string_equal(buf, "wg1.2_v4");
	assert_int_equal(mc_pattern_format(&p, &n, buf, 8), -ENOSPC);
	assert_int_equal(mc_pattern_format(&p, &n, NULL, 0), -ENOSPC);
	n.local_site = 256;
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), -EINVAL);
	n = (struct mp_wg_ifname){ 1, 256, AF_INET };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), -EINVAL);
	n = (struct mp_wg_ifname){ 1, 2, 0 };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), -EINVAL);
	n = (struct mp_wg_ifname){ 1, 2, 4 };		/* 4, not AF_INET */
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), -EINVAL);
	/* a literal '%'; a name that would be too long for an interface */
	parse_ok("m%%%L.%R.%F", &p);
	n = (struct mp_wg_ifname){ 255, 0, AF_INET6 };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "m%255.0.6");
	parse_ok("abcdefgh%L.%R.%F", &p);
	n = (struct mp_wg_ifname){ 1, 1, AF_INET };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "abcdefgh1.1.4");
	n = (struct mp_wg_ifname){ 100, 1, AF_INET };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "abcdefgh100.1.4");
	n = (struct mp_wg_ifname){ 100, 10, AF_INET };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), -EINVAL);
	/* too long by the literal after the last field */
	parse_ok("ab%L.%R.%Fcdefghi", &p);
	n = (struct mp_wg_ifname){ 1, 1, AF_INET6 };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "ab1.1.6cdefghi");
	n = (struct mp_wg_ifname){ 10, 1, AF_INET6 };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "ab10.1.6cdefghi");
	n = (struct mp_wg_ifname){ 10, 10, AF_INET6 };
	assert_int_equal(mc_pattern_format(&p, &n, buf, sizeof(buf)), -EINVAL);
}

/* ---------------------------------------------------------------- plan */

static struct mp_nl_addr addr(const char *s)
{
	struct mp_nl_addr a = { 0 };

	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.bytes), 1);
	return a;
}

static void assert_net(const struct mc_plan *p, unsigned site, const char *want)
{
	struct mp_nl_addr a, w = addr(want);

	assert_int_equal(mc_plan_site_net(p, site, &a), 0);
	assert_int_equal(a.family, w.family);
	if (memcmp(a.bytes, w.bytes, sizeof(a.bytes))) {
		char got[INET6_ADDRSTRLEN];

		inet_ntop(a.family, a.bytes, got, sizeof(got));
		fail_msg("site %u: %s, want %s", site, got, want);
	}
	/* and back: the site of its own net, and of any address in it */
	assert_int_equal(mc_plan_site_of(p, &a, p->plen), (int)site);
	assert_int_equal(mc_plan_site_of(p, &a, a.family == AF_INET ? 32 : 128), (int)site);
}

static void plan_parse_ok(const char *text, int family, struct mc_plan *p, unsigned plen)
{
	char err[256] = "untouched";

	assert_int_equal(mc_plan_parse(text, family, p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(p->family, family);
	assert_int_equal(p->plen, plen);
	assert_string_equal(p->text, text);
}

static void plan_parse_bad(const char *text, int family, const char *want)
{
	static struct mc_plan p;
	char err[256] = "";

	p.plen = 12345;
	assert_int_equal(mc_plan_parse(text, family, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("plan '%s': reason \"%s\" lacks \"%s\"", text, err, want);
	assert_int_equal(p.plen, 12345);	/* *ret untouched */
	assert_int_equal(mc_plan_parse(text, family, &p, NULL, 0), -EINVAL);
}

static void test_plan_defaults(void **state)
{
	static struct mc_plan p4, p6;
	struct mp_nl_addr a;

	(void)state;
	plan_parse_ok(MC_PLAN4_DEFAULT, AF_INET, &p4, 24);
	assert_net(&p4, 0, "10.201.0.0");
	assert_net(&p4, 1, "10.201.1.0");
	assert_net(&p4, 10, "10.201.10.0");
	assert_net(&p4, 255, "10.201.255.0");
	assert_int_equal(mc_plan_site_net(&p4, 256, &a), -ERANGE);
	a = addr("10.201.10.77");
	assert_int_equal(mc_plan_site_of(&p4, &a, 32), 10);
	assert_int_equal(mc_plan_site_of(&p4, &a, 24), 10);
	assert_int_equal(mc_plan_site_of(&p4, &a, 23), -ENOENT);	/* wider than a site */
	assert_int_equal(mc_plan_site_of(&p4, &a, 33), -EINVAL);
	a = addr("10.202.10.77");
	assert_int_equal(mc_plan_site_of(&p4, &a, 32), -ENOENT);
	a = addr("fdac:c9:a::1");
	assert_int_equal(mc_plan_site_of(&p4, &a, 128), -ENOENT);	/* other family */

	/* Y in hex as the third group: the lab's and net-perf's plan */
	plan_parse_ok(MC_PLAN6_DEFAULT, AF_INET6, &p6, 64);
	assert_net(&p6, 0, "fdac:c9::");
	assert_net(&p6, 10, "fdac:c9:a::");
	assert_net(&p6, 255, "fdac:c9:ff::");
	assert_int_equal(mc_plan_site_net(&p6, 256, &a), -ERANGE);
	a = addr("fdac:c9:3::4:1");			/* a lab tunnel address of site 3 */
	assert_int_equal(mc_plan_site_of(&p6, &a, 128), 3);
	a = addr("fdac:c9:a::");
	assert_int_equal(mc_plan_site_of(&p6, &a, 64), 10);
	assert_int_equal(mc_plan_site_of(&p6, &a, 48), -ENOENT);	/* wider than a site */
	a = addr("fdac:c9:a:1::1");			/* another /64 */
	assert_int_equal(mc_plan_site_of(&p6, &a, 128), -ENOENT);
	a = addr("fdac:c9:a::1");
	assert_int_equal(mc_plan_site_of(&p6, &a, 129), -EINVAL);
	a = addr("10.201.10.77");
	assert_int_equal(mc_plan_site_of(&p6, &a, 32), -ENOENT);
	assert_int_equal(mc_plan_site_of(NULL, &a, 32), -EINVAL);
	assert_int_equal(mc_plan_site_of(&p6, NULL, 32), -EINVAL);
	assert_int_equal(mc_plan_site_net(&p6, 1, NULL), -EINVAL);
}

static void test_plan_other(void **state)
{
	static struct mc_plan p;
	struct mp_nl_addr a;

	(void)state;
	plan_parse_ok("fd00:%x::/32", AF_INET6, &p, 32);
	assert_net(&p, 0xab, "fd00:ab::");
	plan_parse_ok("fd00:0:0:%x00::/56", AF_INET6, &p, 56);
	assert_net(&p, 0xab, "fd00:0:0:ab00::");
	plan_parse_ok("%d.0.0.0/8", AF_INET, &p, 8);
	assert_net(&p, 10, "10.0.0.0");
	a = addr("192.0.2.1");
	assert_int_equal(mc_plan_site_of(&p, &a, 32), 192);
	plan_parse_ok("10.201.0.%d/32", AF_INET, &p, 32);
	assert_net(&p, 7, "10.201.0.7");
	plan_parse_ok("fdac::%x:0/128", AF_INET6, &p, 128);
	assert_net(&p, 5, "fdac::5:0");
	plan_parse_ok("::ffff:%d.0.0.0/104", AF_INET6, &p, 104);
	assert_net(&p, 9, "::ffff:9.0.0.0");
}

static void test_plan_parse_bad(void **state)
{
	static struct mc_plan p;
	char err[256];

	(void)state;
	plan_parse_bad("10.201.%d.1/24", AF_INET,
		       "plan '10.201.%d.1/24': site 0 gives 10.201.0.1/24, which has host bits set");
	plan_parse_bad("fdac:c9:%x::1/64", AF_INET6, "which has host bits set");
	plan_parse_bad("10.201.%x.0/24", AF_INET,
		       "plan '10.201.%x.0/24': site 10 gives '10.201.a.0', not an IPv4 address");
	plan_parse_bad("10.201.%d.0/16", AF_INET, "which has host bits set");
	plan_parse_bad("10.201.1%d.0/24", AF_INET, "site 100 gives '10.201.1100.0', not an IPv4");
	plan_parse_bad("10.201.0.0/24", AF_INET,
		       "plan '10.201.0.0/24' has no %d or %x for the site number "
		       "(e.g. '10.201.%d.0/24')");
	plan_parse_bad("10.%d.%d.0/24", AF_INET, "needs exactly one %d or %x");
	plan_parse_bad("10.201.%s.0/24", AF_INET, "needs exactly one %d or %x");
	plan_parse_bad("10.201.%", AF_INET, "needs exactly one");
	plan_parse_bad("10.201.%d.0", AF_INET, "has no prefix length (e.g. '10.201.%d.0/24')");
	plan_parse_bad("10.201.%d.0/", AF_INET, "has no prefix length");
	plan_parse_bad("10.201.%d.0/024", AF_INET, "the prefix length must be a number 0..32");
	plan_parse_bad("10.201.%d.0/33", AF_INET, "0..32");
	plan_parse_bad("fdac:c9:%x::/129", AF_INET6, "0..128");
	plan_parse_bad("10.201.%d.0/24x", AF_INET, "prefix length");
	plan_parse_bad("10.201.%d.0/24/24", AF_INET, "prefix length");
	plan_parse_bad("fdac:c9:%x::/24", AF_INET, "not an IPv4 address");
	plan_parse_bad("10.201.%d.0/24", AF_INET6, "not an IPv6 address");
	plan_parse_bad("10.201.%d.0/24\n", AF_INET, "plan '10.201.%d.0/24\\x0a'");
	plan_parse_bad("10.201.%d.0/24..........................................................",
		       AF_INET, "is too long");
	plan_parse_bad("", AF_INET, "has no %d or %x");
	assert_int_equal(mc_plan_parse(MC_PLAN4_DEFAULT, AF_UNIX, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "address plan: unsupported family 1");
	assert_int_equal(mc_plan_parse(NULL, AF_INET, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(mc_plan_parse(MC_PLAN4_DEFAULT, AF_INET, NULL, err, sizeof(err)),
			 -EINVAL);
}

static int setup(void **state)
{
	uint8_t k2[32];

	(void)state;
	memset(k2, 0x42, sizeof(k2));
	if (sodium_init() < 0 || mp_auth_key_set(&key, test_key, sizeof(test_key)) < 0 ||
	    mp_auth_key_set(&other_key, k2, sizeof(k2)) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mp_auth_key_done(&key);
	mp_auth_key_done(&other_key);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x_vector),
		cmocka_unit_test(test_x_roundtrip),
		cmocka_unit_test(test_x_encode_invalid),
		cmocka_unit_test(test_x_decode_tamper),
		cmocka_unit_test(test_x_decode_length),
		cmocka_unit_test(test_x_decode_fields),
		cmocka_unit_test(test_pattern_parse),
		cmocka_unit_test(test_pattern_default_like_wg),
		cmocka_unit_test(test_pattern_match),
		cmocka_unit_test(test_pattern_format),
		cmocka_unit_test(test_plan_defaults),
		cmocka_unit_test(test_plan_other),
		cmocka_unit_test(test_plan_parse_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
