/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/stamp.c. The unauthenticated packets below are written
 * out octet by octet from the figures of RFC 8762 sections 4.2.1 and 4.3.1
 * (SSID per RFC 8972 section 3). The authenticated packets, their HMACs and
 * the Error Estimate values come from tests/unit/fixtures/gen_stamp.py
 * (Python's hmac/hashlib and exact Fractions): stamp_vectors.txt.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mp.h"
#include "auth.h"
#include "stamp.h"

#define VECTORS "tests/unit/fixtures/stamp_vectors.txt"

/* Section 4.2.1, Session-Sender, unauthenticated: seq 0x01020304,
 * T1 0xe8a1b2c3.80000000, Error Estimate S=1 Scale 10 Multiplier 100,
 * SSID 0xbeef. */
static const uint8_t test_unauth[MP_STAMP_BASE_LEN] = {
	0x01, 0x02, 0x03, 0x04,				/* Sequence Number */
	0xe8, 0xa1, 0xb2, 0xc3, 0x80, 0x00, 0x00, 0x00,	/* Timestamp */
	0x8a, 0x64,					/* Error Estimate */
	0xbe, 0xef,					/* SSID (RFC 8972) */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* MBZ (28 octets) */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Section 4.3.1, Session-Reflector, unauthenticated. */
static const uint8_t reply_unauth[MP_STAMP_BASE_LEN] = {
	0x00, 0x00, 0x00, 0x07,				/* Sequence Number */
	0xe8, 0xa1, 0xb2, 0xc3, 0x80, 0x00, 0x10, 0x00,	/* Timestamp (T3) */
	0x80, 0x20,					/* Error Estimate */
	0xbe, 0xef,					/* SSID (was MBZ) */
	0xe8, 0xa1, 0xb2, 0xc3, 0x80, 0x00, 0x08, 0x00,	/* Receive Timestamp (T2) */
	0x01, 0x02, 0x03, 0x04,				/* Session-Sender Sequence Number */
	0xe8, 0xa1, 0xb2, 0xc3, 0x80, 0x00, 0x00, 0x00,	/* Session-Sender Timestamp */
	0x8a, 0x64,					/* Session-Sender Error Estimate */
	0x00, 0x00,					/* MBZ */
	0x40,						/* Ses-Sender TTL */
	0x00, 0x00, 0x00,				/* MBZ */
};

static const struct mp_stamp_test test_fields = {
	.seq = 0x01020304, .ts = 0xe8a1b2c380000000ULL, .errest = 0x8a64, .ssid = 0xbeef,
};

static const struct mp_stamp_reply reply_fields = {
	.seq = 7, .ts = 0xe8a1b2c380001000ULL, .errest = 0x8020, .ssid = 0xbeef,
	.rx_ts = 0xe8a1b2c380000800ULL, .sender_seq = 0x01020304,
	.sender_ts = 0xe8a1b2c380000000ULL, .sender_errest = 0x8a64, .sender_ttl = 64,
};

/* ---- fixture file ---- */

/* Find the line "name VALUE" and copy VALUE (up to len - 1 characters). */
static int vector_get(const char *name, char *val, size_t len)
{
	char line[1024];
	size_t n = strlen(name);
	FILE *f = fopen(VECTORS, "r");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) || line[n] != ' ')
			continue;
		snprintf(val, len, "%s", line + n + 1);
		val[strcspn(val, "\n")] = '\0';
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

/* A hex vector into buf; fails the test unless it has exactly len octets. */
static void vector_hex(const char *name, uint8_t *buf, size_t len)
{
	char hex[1024];
	size_t i;

	assert_int_equal(vector_get(name, hex, sizeof(hex)), 0);
	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		buf[i] = (uint8_t)v;
	}
}

static void vector_key(struct mp_auth_key *k)
{
	uint8_t raw[MP_AUTH_KEY_BYTES];

	vector_hex("key", raw, sizeof(raw));
	assert_int_equal(mp_auth_key_set(k, raw, sizeof(raw)), 0);
}

/* A copy of len octets in a buffer of exactly that size, so that ASan
 * catches any read past len. */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	assert_non_null(b);
	memcpy(b, p, len);
	return b;
}

/* ---- Error Estimate ---- */

static void test_errest_vectors(void **state)
{
	char line[256], s[32];
	unsigned raw, n_dec = 0, n_enc = 0;
	unsigned long long ns;
	FILE *f = fopen(VECTORS, "r");

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct mp_stamp_errest e;

		if (sscanf(line, "errest_decode %x %31s", &raw, s) == 2) {
			mp_stamp_errest_decode((uint16_t)raw, &e);
			if (!strcmp(s, "unknown"))
				assert_true(e.error_ns == MP_STAMP_ERROR_UNKNOWN);
			else
				assert_true(e.error_ns == strtoull(s, NULL, 10));
			assert_int_equal(e.synced, !!(raw & 0x8000));
			n_dec++;
		} else if (sscanf(line, "errest_encode %llu %x", &ns, &raw) == 2) {
			e = (struct mp_stamp_errest){ .synced = false, .error_ns = ns };
			assert_int_equal(mp_stamp_errest_encode(&e), raw);
			e.synced = true;
			assert_int_equal(mp_stamp_errest_encode(&e), raw | 0x8000);
			n_enc++;
		}
	}
	fclose(f);
	assert_true(n_dec >= 10 && n_enc >= 10);
}

/* RFC 4656 section 4.1.2 by hand: Scale 32, Multiplier 1 is exactly 1 s;
 * Scale 0, Multiplier 255 is 255 * 2^-32 s = 59.37 ns. */
static void test_errest_by_hand(void **state)
{
	struct mp_stamp_errest e;

	(void)state;
	mp_stamp_errest_decode(0x2001, &e);
	assert_false(e.synced);
	assert_true(e.error_ns == 1000000000ULL);
	mp_stamp_errest_decode(0x80ff, &e);
	assert_true(e.synced);
	assert_true(e.error_ns == 59);
	e = (struct mp_stamp_errest){ .synced = true, .error_ns = 1000000000ULL };
	assert_int_equal(mp_stamp_errest_encode(&e), 0x8000 | 25 << 8 | 0x80);
	e.error_ns = MP_STAMP_ERROR_UNKNOWN;
	assert_int_equal(mp_stamp_errest_encode(&e), 0x8000 | 0x3fff);
}

/* decode(encode(x)) never understates x and overstates it by less than
 * x/128 + 1 ns (Multiplier >= 128 once Scale > 0; rounding adds 0.5 ns). */
static void check_round_trip(uint64_t x, bool synced)
{
	struct mp_stamp_errest in = { .synced = synced, .error_ns = x }, out;

	mp_stamp_errest_decode(mp_stamp_errest_encode(&in), &out);
	assert_int_equal(out.synced, synced);
	assert_true(out.error_ns >= x);
	if (out.error_ns != MP_STAMP_ERROR_UNKNOWN)
		assert_true(out.error_ns - x <= x / 128 + 1);
}

static void test_errest_round_trip(void **state)
{
	uint64_t x, next;

	(void)state;
	for (x = 0; x < 100000; x++)
		check_round_trip(x, x & 1);
	for (x = 100000;; x = next) {
		check_round_trip(x, false);
		next = x + x / 97 + 13;
		if (next < x)	/* wrapped past 2^64 */
			break;
	}
	check_round_trip(UINT64_MAX - 1, true);
	check_round_trip(UINT64_MAX, true);
}

/* ---- unauthenticated ---- */

static void test_unauth_test_packet(void **state)
{
	uint8_t buf[64], *b;
	struct mp_stamp_test t;

	(void)state;
	b = exact_copy(test_unauth, sizeof(test_unauth));
	assert_int_equal(mp_stamp_test_decode(b, sizeof(test_unauth), NULL, &t), 0);
	assert_true(t.seq == 0x01020304);
	assert_true(t.ts == 0xe8a1b2c380000000ULL);
	assert_int_equal(t.errest, 0x8a64);
	assert_int_equal(t.ssid, 0xbeef);
	free(b);

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(mp_stamp_test_encode(&test_fields, NULL, MP_STAMP_BASE_LEN, buf,
					      sizeof(buf)), MP_STAMP_BASE_LEN);
	assert_memory_equal(buf, test_unauth, MP_STAMP_BASE_LEN);
	assert_int_equal(buf[MP_STAMP_BASE_LEN], 0xee);	/* nothing past len */
}

static void test_unauth_reply_packet(void **state)
{
	uint8_t buf[MP_STAMP_BASE_LEN], *b;
	struct mp_stamp_reply p;

	(void)state;
	b = exact_copy(reply_unauth, sizeof(reply_unauth));
	assert_int_equal(mp_stamp_reply_decode(b, sizeof(reply_unauth), NULL, &p), 0);
	assert_true(p.seq == 7);
	assert_true(p.ts == 0xe8a1b2c380001000ULL);
	assert_int_equal(p.errest, 0x8020);
	assert_int_equal(p.ssid, 0xbeef);
	assert_true(p.rx_ts == 0xe8a1b2c380000800ULL);
	assert_true(p.sender_seq == 0x01020304);
	assert_true(p.sender_ts == 0xe8a1b2c380000000ULL);
	assert_int_equal(p.sender_errest, 0x8a64);
	assert_int_equal(p.sender_ttl, 64);
	free(b);

	assert_int_equal(mp_stamp_reply_encode(&reply_fields, NULL, sizeof(buf), buf,
					       sizeof(buf)), MP_STAMP_BASE_LEN);
	assert_memory_equal(buf, reply_unauth, MP_STAMP_BASE_LEN);

	/* T3 restamped in place: octets 4..12 only */
	assert_int_equal(mp_stamp_reply_ts_set(buf, sizeof(buf), NULL, 0x0102030405060708ULL), 0);
	assert_memory_equal(buf + 4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_memory_equal(buf + 12, reply_unauth + 12, MP_STAMP_BASE_LEN - 12);
	assert_memory_equal(buf, reply_unauth, 4);
}

/* MBZ octets that are not zero are ignored (RFC 8762 section 4.2.1). */
static void test_unauth_mbz_ignored(void **state)
{
	uint8_t b[MP_STAMP_BASE_LEN];
	struct mp_stamp_test t;

	(void)state;
	memcpy(b, test_unauth, sizeof(b));
	memset(b + 16, 0xa5, sizeof(b) - 16);
	assert_int_equal(mp_stamp_test_decode(b, sizeof(b), NULL, &t), 0);
	assert_true(t.seq == 0x01020304 && t.ssid == 0xbeef);
}

/* Padding is accepted and reported; an encoder pads with zeros. */
static void test_padding(void **state)
{
	uint8_t pkt[1472], out[1472], *b;
	struct mp_stamp_test t;
	struct mp_stamp_reply p;

	(void)state;
	memset(pkt, 0x5c, sizeof(pkt));
	memcpy(pkt, test_unauth, sizeof(test_unauth));
	b = exact_copy(pkt, 60);
	assert_int_equal(mp_stamp_test_decode(b, 60, NULL, &t), 16);
	assert_true(t.seq == 0x01020304);
	free(b);
	b = exact_copy(pkt, sizeof(pkt));
	assert_int_equal(mp_stamp_test_decode(b, sizeof(pkt), NULL, &t), 1472 - 44);
	free(b);

	memset(out, 0xee, sizeof(out));
	assert_int_equal(mp_stamp_test_encode(&test_fields, NULL, 1000, out, sizeof(out)), 1000);
	assert_memory_equal(out, test_unauth, 44);
	for (size_t i = 44; i < 1000; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(out[1000], 0xee);

	memcpy(pkt, reply_unauth, sizeof(reply_unauth));
	b = exact_copy(pkt, 45);
	assert_int_equal(mp_stamp_reply_decode(b, 45, NULL, &p), 1);
	assert_int_equal(p.sender_ttl, 64);
	free(b);
}

/* ---- authenticated ---- */

static void test_auth_test_packet(void **state)
{
	uint8_t want[MP_STAMP_AUTH_BASE_LEN], buf[MP_STAMP_AUTH_BASE_LEN + 8];
	uint8_t hand[MP_STAMP_AUTH_BASE_LEN] = { 0 }, *b;
	struct mp_auth_key k;
	struct mp_stamp_test t;

	(void)state;
	vector_key(&k);
	vector_hex("test_auth", want, sizeof(want));
	/* Section 4.2.2 by hand: Seq at 0, MBZ 12, Timestamp at 16, Error
	 * Estimate at 24, SSID at 26, MBZ to 96, HMAC at 96..112. */
	memcpy(hand + 0, "\x01\x02\x03\x04", 4);
	memcpy(hand + 16, "\xe8\xa1\xb2\xc3\x80\x00\x00\x00", 8);
	memcpy(hand + 24, "\x8a\x64\xbe\xef", 4);
	memcpy(hand + 96, want + 96, 16);
	assert_memory_equal(hand, want, sizeof(want));

	b = exact_copy(want, sizeof(want));
	assert_int_equal(mp_stamp_test_decode(b, sizeof(want), &k, &t), 0);
	assert_true(t.seq == 0x01020304);
	assert_true(t.ts == 0xe8a1b2c380000000ULL);
	assert_int_equal(t.errest, 0x8a64);
	assert_int_equal(t.ssid, 0xbeef);
	free(b);

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(mp_stamp_test_encode(&test_fields, &k, sizeof(want), buf, sizeof(buf)),
			 MP_STAMP_AUTH_BASE_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[MP_STAMP_AUTH_BASE_LEN], 0xee);
	mp_auth_key_done(&k);
}

static void test_auth_reply_packet(void **state)
{
	uint8_t want[MP_STAMP_AUTH_BASE_LEN], want_t3[MP_STAMP_AUTH_BASE_LEN];
	uint8_t buf[MP_STAMP_AUTH_BASE_LEN], hand[MP_STAMP_AUTH_BASE_LEN] = { 0 }, *b;
	struct mp_auth_key k;
	struct mp_stamp_reply p;

	(void)state;
	vector_key(&k);
	vector_hex("reply_auth", want, sizeof(want));
	vector_hex("reply_auth_t3", want_t3, sizeof(want_t3));
	/* Section 4.3.2 by hand: Seq 0, Timestamp 16, Error Estimate 24, SSID
	 * 26, Receive Timestamp 32, Sender Seq 48, Sender Timestamp 64, Sender
	 * Error Estimate 72, Sender TTL 80, HMAC 96. */
	memcpy(hand + 0, "\x00\x00\x00\x07", 4);
	memcpy(hand + 16, "\xe8\xa1\xb2\xc3\x80\x00\x10\x00", 8);
	memcpy(hand + 24, "\x80\x20\xbe\xef", 4);
	memcpy(hand + 32, "\xe8\xa1\xb2\xc3\x80\x00\x08\x00", 8);
	memcpy(hand + 48, "\x01\x02\x03\x04", 4);
	memcpy(hand + 64, "\xe8\xa1\xb2\xc3\x80\x00\x00\x00", 8);
	memcpy(hand + 72, "\x8a\x64", 2);
	hand[80] = 0x40;
	memcpy(hand + 96, want + 96, 16);
	assert_memory_equal(hand, want, sizeof(want));

	b = exact_copy(want, sizeof(want));
	assert_int_equal(mp_stamp_reply_decode(b, sizeof(want), &k, &p), 0);
	assert_true(p.seq == 7 && p.ts == 0xe8a1b2c380001000ULL && p.errest == 0x8020);
	assert_true(p.ssid == 0xbeef && p.rx_ts == 0xe8a1b2c380000800ULL);
	assert_true(p.sender_seq == 0x01020304 && p.sender_ts == 0xe8a1b2c380000000ULL);
	assert_true(p.sender_errest == 0x8a64 && p.sender_ttl == 64);
	free(b);

	assert_int_equal(mp_stamp_reply_encode(&reply_fields, &k, sizeof(buf), buf, sizeof(buf)),
			 MP_STAMP_AUTH_BASE_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	/* restamping T3 re-signs: the result is gen_stamp.py's reply_auth_t3 */
	assert_int_equal(mp_stamp_reply_ts_set(buf, sizeof(buf), &k, 0xe8a1b2c4000000ffULL), 0);
	assert_memory_equal(buf, want_t3, sizeof(want_t3));
	mp_auth_key_done(&k);
}

/* The HMAC covers octets 0..96 exactly: any change there (or in the HMAC)
 * is refused, any change in padding after octet 112 is not. */
static void test_auth_hmac_coverage(void **state)
{
	uint8_t want[MP_STAMP_AUTH_BASE_LEN], pkt[200];
	struct mp_auth_key k, wrong;
	struct mp_stamp_test t;
	struct mp_stamp_reply p;
	size_t i;

	(void)state;
	vector_key(&k);
	assert_int_equal(mp_auth_key_set(&wrong, "not the key", 11), 0);
	vector_hex("test_auth", want, sizeof(want));
	for (i = 0; i < sizeof(want); i++) {
		memcpy(pkt, want, sizeof(want));
		pkt[i] ^= 0x01;
		assert_int_equal(mp_stamp_test_decode(pkt, sizeof(want), &k, &t), -EBADMSG);
	}
	memcpy(pkt, want, sizeof(want));
	memset(pkt + sizeof(want), 0x77, sizeof(pkt) - sizeof(want));
	assert_int_equal(mp_stamp_test_decode(pkt, sizeof(pkt), &k, &t),
			 (int)(sizeof(pkt) - sizeof(want)));
	assert_int_equal(mp_stamp_test_decode(pkt, sizeof(want), &wrong, &t), -EBADMSG);
	/* an unauthenticated reflector reads the same octets differently */
	assert_int_equal(mp_stamp_test_decode(pkt, sizeof(want), NULL, &t), 112 - 44);
	assert_true(t.seq == 0x01020304 && t.ts == 0);

	vector_hex("reply_auth", want, sizeof(want));
	for (i = 0; i < sizeof(want); i++) {
		memcpy(pkt, want, sizeof(want));
		pkt[i] ^= 0x80;
		assert_int_equal(mp_stamp_reply_decode(pkt, sizeof(want), &k, &p), -EBADMSG);
	}
	/* the key as a key file holds it (base64) signs the same */
	{
		char b64[64];
		struct mp_auth_key fk;

		assert_int_equal(vector_get("key_b64", b64, sizeof(b64)), 0);
		assert_int_equal(mp_auth_key_parse(b64, strlen(b64), &fk), 0);
		assert_int_equal(mp_stamp_reply_decode(want, sizeof(want), &fk, &p), 0);
		mp_auth_key_done(&fk);
	}
	mp_auth_key_done(&k);
	mp_auth_key_done(&wrong);
}

/* ---- rejects ---- */

static void test_truncated(void **state)
{
	uint8_t pkt[MP_STAMP_AUTH_BASE_LEN], *b;
	struct mp_auth_key k;
	struct mp_stamp_test t;
	struct mp_stamp_reply p;
	size_t len;

	(void)state;
	vector_key(&k);
	vector_hex("test_auth", pkt, sizeof(pkt));
	for (len = 0; len < MP_STAMP_BASE_LEN; len++) {
		b = exact_copy(test_unauth, len);
		assert_int_equal(mp_stamp_test_decode(b, len, NULL, &t), -EMSGSIZE);
		assert_int_equal(mp_stamp_reply_decode(b, len, NULL, &p), -EMSGSIZE);
		free(b);
	}
	for (len = 0; len < MP_STAMP_AUTH_BASE_LEN; len++) {
		b = exact_copy(pkt, len);
		assert_int_equal(mp_stamp_test_decode(b, len, &k, &t), -EMSGSIZE);
		assert_int_equal(mp_stamp_reply_decode(b, len, &k, &p), -EMSGSIZE);
		free(b);
	}
	assert_int_equal(mp_stamp_test_decode(pkt, MP_STAMP_MAX_LEN + 1, NULL, &t), -EMSGSIZE);
	assert_int_equal(mp_stamp_test_decode(NULL, 44, NULL, &t), -EINVAL);
	assert_int_equal(mp_stamp_test_decode(pkt, 44, NULL, NULL), -EINVAL);
	assert_int_equal(mp_stamp_reply_decode(NULL, 44, NULL, &p), -EINVAL);
	mp_auth_key_done(&k);
}

static void test_encode_errors(void **state)
{
	uint8_t buf[200];
	struct mp_auth_key k, unset = { 0 };

	(void)state;
	vector_key(&k);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(mp_stamp_test_encode(&test_fields, NULL, 43, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mp_stamp_test_encode(&test_fields, &k, 111, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mp_stamp_test_encode(&test_fields, &unset, 112, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(mp_stamp_test_encode(NULL, NULL, 44, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mp_stamp_test_encode(&test_fields, NULL, 44, NULL, 44), -EINVAL);
	assert_int_equal(mp_stamp_test_encode(&test_fields, NULL, 45, buf, 44), -EMSGSIZE);
	assert_int_equal(mp_stamp_test_encode(&test_fields, NULL, MP_STAMP_MAX_LEN + 1, buf,
					      SIZE_MAX), -EMSGSIZE);
	assert_int_equal(mp_stamp_reply_encode(&reply_fields, NULL, 43, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mp_stamp_reply_encode(&reply_fields, &k, 113, buf, 112), -EMSGSIZE);
	assert_int_equal(mp_stamp_reply_ts_set(buf, 43, NULL, 1), -EINVAL);
	assert_int_equal(mp_stamp_reply_ts_set(buf, 111, &k, 1), -EINVAL);
	assert_int_equal(mp_stamp_reply_ts_set(NULL, 44, NULL, 1), -EINVAL);
	for (size_t i = 0; i < sizeof(buf); i++)	/* failures wrote nothing */
		assert_int_equal(buf[i], 0xee);
	mp_auth_key_done(&k);
}

/* Random octets never pass the HMAC. */
static void test_garbage_auth(void **state)
{
	uint8_t pkt[300];
	struct mp_auth_key k;
	struct mp_stamp_test t;
	struct mp_stamp_reply p;
	unsigned i, seed = 12345;

	(void)state;
	vector_key(&k);
	for (i = 0; i < 2000; i++) {
		size_t len = MP_STAMP_AUTH_BASE_LEN + i % (sizeof(pkt) - MP_STAMP_AUTH_BASE_LEN);

		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245U + 12345U;
			pkt[j] = (uint8_t)(seed >> 16);
		}
		assert_int_equal(mp_stamp_test_decode(pkt, len, &k, &t), -EBADMSG);
		assert_int_equal(mp_stamp_reply_decode(pkt, len, &k, &p), -EBADMSG);
	}
	mp_auth_key_done(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errest_vectors),
		cmocka_unit_test(test_errest_by_hand),
		cmocka_unit_test(test_errest_round_trip),
		cmocka_unit_test(test_unauth_test_packet),
		cmocka_unit_test(test_unauth_reply_packet),
		cmocka_unit_test(test_unauth_mbz_ignored),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_auth_test_packet),
		cmocka_unit_test(test_auth_reply_packet),
		cmocka_unit_test(test_auth_hmac_coverage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_garbage_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
