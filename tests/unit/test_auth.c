/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/auth.c. HMAC expectations are the RFC 4231 test vectors,
 * typed in from the RFC (section 4). The key 00 01 .. 1f is written in
 * base64 as Python's base64.b64encode(bytes(range(32))) prints it. Replay
 * window expectations are worked by hand from its definition: a counter is
 * too old when it is more than MP_REPLAY_WINDOW = 1024 - 64 = 960 below the
 * highest one accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mp.h"
#include "auth.h"

#define KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_HEX_UC "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

struct rfc4231_case {
	int tc;			/* test case number in RFC 4231 */
	uint8_t key_byte;	/* key is key_len times this byte, unless key_seq */
	size_t key_len;
	bool key_seq;		/* key is 01 02 .. key_len */
	const char *data;	/* data as text, unless data_byte */
	uint8_t data_byte;	/* data is data_len times this byte */
	size_t data_len;
	const char *mac_hex;	/* HMAC-SHA-256 */
};

static const struct rfc4231_case rfc4231[] = {
	{ 1, 0x0b, 20, false, "Hi There", 0, 0,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 2, 0, 0, false, "what do ya want for nothing?", 0, 0,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 4, 0, 25, true, NULL, 0xcd, 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 6, 0xaa, 131, false, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 7, 0xaa, 131, false,
	  "This is a test using a larger than block-size key and a larger than block-size "
	  "data. The key needs to be hashed before being used by the HMAC algorithm.", 0, 0,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static char tmpdir[64];

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	unsigned v;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Build the key and data of an RFC 4231 case; returns the data length. */
static size_t case_setup(const struct rfc4231_case *c, struct mp_auth_key *k, uint8_t *data,
			 size_t data_max)
{
	uint8_t key[131];
	size_t i, len;

	if (c->tc == 2) {
		assert_int_equal(mp_auth_key_set(k, "Jefe", 4), 0);
	} else {
		for (i = 0; i < c->key_len; i++)
			key[i] = c->key_seq ? (uint8_t)(i + 1) : c->key_byte;
		assert_int_equal(mp_auth_key_set(k, key, c->key_len), 0);
	}
	if (c->data) {
		len = strlen(c->data);
		assert_true(len <= data_max);
		memcpy(data, c->data, len);
	} else {
		len = c->data_len;
		memset(data, c->data_byte, len);
	}
	return len;
}

static void test_rfc4231_vectors(void **state)
{
	uint8_t data[256], want[32], mac[32];
	struct mp_auth_key k;
	size_t i, len;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(rfc4231); i++) {
		len = case_setup(&rfc4231[i], &k, data, sizeof(data));
		unhex(rfc4231[i].mac_hex, want, sizeof(want));
		assert_int_equal(mp_auth_hmac(&k, data, len, mac), 0);
		assert_memory_equal(mac, want, sizeof(want));
		assert_int_equal(mp_auth_verify(&k, data, len, want), 0);
		want[31] ^= 0x01;
		assert_int_equal(mp_auth_verify(&k, data, len, want), -EBADMSG);
		want[31] ^= 0x01;
		data[0] ^= 0x80;
		assert_int_equal(mp_auth_verify(&k, data, len, want), -EBADMSG);
		mp_auth_key_done(&k);
	}
}

/* RFC 4231 test case 5: truncation to 128 bits. */
static void test_rfc4231_truncated(void **state)
{
	const char *data = "Test With Truncation";
	uint8_t key[20], mac[16], full[32];
	struct mp_auth_key k;

	(void)state;
	memset(key, 0x0c, sizeof(key));
	unhex("a3b6167473100ee06e0c796c2955552b", mac, sizeof(mac));
	assert_int_equal(mp_auth_key_set(&k, key, sizeof(key)), 0);
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), mac, 16), 0);
	/* the first 16 bytes of the full MAC are the truncated one */
	assert_int_equal(mp_auth_hmac(&k, data, strlen(data), full), 0);
	assert_memory_equal(full, mac, sizeof(mac));
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), full, 24), 0);
	mac[15] ^= 0x40;
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), mac, 16), -EBADMSG);
	mac[15] ^= 0x40;
	mac[0] ^= 0x01;
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), mac, 16), -EBADMSG);
	/* too short to be safe, or longer than the hash */
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), full, 15), -EINVAL);
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), full, 33), -EINVAL);
	assert_int_equal(mp_auth_verify_trunc(&k, data, strlen(data), NULL, 16), -EINVAL);
	mp_auth_key_done(&k);
}

static void test_key_done_and_unset(void **state)
{
	static const uint8_t zero[sizeof(struct mp_auth_key)];
	struct mp_auth_key k = { .set = false };
	uint8_t mac[32] = { 0 };

	(void)state;
	assert_int_equal(mp_auth_hmac(&k, "x", 1, mac), -EINVAL);
	assert_int_equal(mp_auth_verify(&k, "x", 1, mac), -EINVAL);
	assert_int_equal(mp_auth_hmac(NULL, "x", 1, mac), -EINVAL);
	assert_int_equal(mp_auth_key_set(&k, "", 0), -EINVAL);
	assert_int_equal(mp_auth_key_set(&k, "k", 1), 0);
	assert_int_equal(mp_auth_hmac(&k, NULL, 0, mac), 0);
	mp_auth_key_done(&k);
	assert_memory_equal(&k, zero, sizeof(k));
	assert_int_equal(mp_auth_hmac(&k, "x", 1, mac), -EINVAL);
	mp_auth_key_done(NULL);
}

/* The MAC of a fixed message under the key 00 01 .. 1f, set from raw bytes. */
static void reference_mac(uint8_t out[32])
{
	struct mp_auth_key k;
	uint8_t key[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	assert_int_equal(mp_auth_key_set(&k, key, sizeof(key)), 0);
	assert_int_equal(mp_auth_hmac(&k, "meshperf", 8, out), 0);
	mp_auth_key_done(&k);
}

/* Parse text and check it is the key 00 01 .. 1f. */
static void assert_parses_to_reference(const char *text, size_t len)
{
	uint8_t want[32], mac[32];
	struct mp_auth_key k;

	reference_mac(want);
	assert_int_equal(mp_auth_key_parse(text, len, &k), 0);
	assert_int_equal(mp_auth_hmac(&k, "meshperf", 8, mac), 0);
	assert_memory_equal(mac, want, sizeof(want));
	mp_auth_key_done(&k);
}

static void test_key_parse_valid(void **state)
{
	static const char *const ok[] = {
		KEY_B64, KEY_B64 "\n", KEY_B64 "\r\n",
		KEY_HEX, KEY_HEX "\n", KEY_HEX "\r\n", KEY_HEX_UC "\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(ok); i++)
		assert_parses_to_reference(ok[i], strlen(ok[i]));
}

static void test_key_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"\r\n",
		/* base64: short, long, bad character, URL-safe alphabet, no
		 * padding, stray bits before '=' (…Hh8= is canonical) */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",
		/* two line ends, leading or trailing blank, a bare CR */
		KEY_B64 "\n\n",
		" " KEY_B64,
		KEY_B64 " ",
		KEY_B64 "\r",
		/* hex: short, long, bad digit, embedded blank */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
		"000102030405060708090a0b0c0d0e0f 01112131415161718191a1b1c1d1e1f",
		/* the same key twice */
		KEY_B64 "\n" KEY_B64 "\n",
	};
	static const char high[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka\257\207\210\233Hh8=\r\n";
	struct mp_auth_key k = { .set = false };
	char nul[45];
	size_t i;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(bad); i++) {
		assert_int_equal(mp_auth_key_parse(bad[i], strlen(bad[i]), &k), -EINVAL);
		assert_false(k.set);
	}
	/* bytes >= 0x80 among base64 digits (libsodium 1.0.18 took these) */
	assert_int_equal(mp_auth_key_parse(high, strlen(high), &k), -EINVAL);
	/* an embedded NUL */
	memcpy(nul, KEY_B64, 44);
	nul[10] = '\0';
	assert_int_equal(mp_auth_key_parse(nul, 44, &k), -EINVAL);
	assert_int_equal(mp_auth_key_parse(NULL, 0, &k), -EINVAL);
	assert_int_equal(mp_auth_key_parse(KEY_B64, 44, NULL), -EINVAL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void path_of(char *buf, size_t len, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", tmpdir, name) < len);
}

static void test_key_load_modes(void **state)
{
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
		{ 0600, 0 }, { 0400, 0 }, { 0700, 0 }, { 0640, -EPERM }, { 0644, -EPERM },
		{ 0604, -EPERM }, { 0620, -EPERM },
		{ 0601, -EPERM }, { 0610, -EPERM }, { 0666, -EPERM },
	};
	uint8_t want[32], mac[32];
	struct mp_auth_key k;
	char path[128];
	size_t i;
	int r;

	(void)state;
	reference_mac(want);
	path_of(path, sizeof(path), "key");
	for (i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		write_file(path, KEY_B64 "\n", cases[i].mode);
		k.set = false;
		r = mp_auth_key_load(path, &k);
		assert_int_equal(r, cases[i].want);
		if (r == 0) {
			assert_int_equal(mp_auth_hmac(&k, "meshperf", 8, mac), 0);
			assert_memory_equal(mac, want, sizeof(want));
		} else {
			assert_false(k.set);
		}
		mp_auth_key_done(&k);
	}
	unlink(path);
}

static void test_key_load_paths(void **state)
{
	char path[128], link[128], dir[128], fifo[128];
	struct mp_auth_key k;

	(void)state;
	path_of(path, sizeof(path), "target");
	path_of(link, sizeof(link), "link");
	path_of(dir, sizeof(dir), "dir");
	path_of(fifo, sizeof(fifo), "fifo");

	/* symlinks are followed; the target's mode is what counts */
	write_file(path, KEY_HEX "\n", 0600);
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(mp_auth_key_load(link, &k), 0);
	mp_auth_key_done(&k);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(mp_auth_key_load(link, &k), -EPERM);

	assert_int_equal(mp_auth_key_load("/nonexistent/meshperf/key", &k), -ENOENT);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mp_auth_key_load(dir, &k), -EISDIR);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mp_auth_key_load(fifo, &k), -EINVAL);
	assert_int_equal(mp_auth_key_load(NULL, &k), -EINVAL);

	unlink(fifo);
	rmdir(dir);
	unlink(link);
	unlink(path);
}

static void test_key_load_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		KEY_B64 "A\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh%=\n",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1x\n",
		KEY_HEX "00\n",
		/* longer than any valid file: must not be read as a prefix */
		KEY_HEX "\r\n" KEY_HEX "\n",
	};
	struct mp_auth_key k;
	char path[128];
	size_t i;

	(void)state;
	path_of(path, sizeof(path), "bad");
	for (i = 0; i < MP_ARRAY_SIZE(bad); i++) {
		write_file(path, bad[i], 0600);
		k.set = false;
		assert_int_equal(mp_auth_key_load(path, &k), -EINVAL);
		assert_false(k.set);
	}
	unlink(path);
}

static void test_nonce(void **state)
{
	static const uint8_t zero[32];
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_int_equal(mp_auth_nonce(a, sizeof(a)), 0);
	assert_int_equal(mp_auth_nonce(b, sizeof(b)), 0);
	/* 2^-256 chance of a false failure */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(mp_auth_nonce(NULL, 0), 0);
	assert_int_equal(mp_auth_nonce(NULL, 1), -EINVAL);
}

static void test_replay_in_order(void **state)
{
	struct mp_replay r;
	uint64_t c;

	(void)state;
	mp_replay_init(&r);
	for (c = 0; c < 5000; c++)
		assert_int_equal(mp_replay_check_and_update(&r, c), 0);
	/* everything still in the window is a duplicate, below it stale */
	assert_int_equal(mp_replay_check_and_update(&r, 4999), -EALREADY);
	assert_int_equal(mp_replay_check_and_update(&r, 4999 - 960), -EALREADY);
	assert_int_equal(mp_replay_check_and_update(&r, 4999 - 961), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 0), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 5000), 0);
}

static void test_replay_out_of_order(void **state)
{
	static const uint64_t seq[] = { 1000, 998, 1003, 999, 1001, 60, 1002, 500, 1004 };
	struct mp_replay r;
	size_t i;

	(void)state;
	mp_replay_init(&r);
	/* the first counter may be anything; later ones below it still count
	 * (60 is 943 below the top of 1003 when it comes) */
	for (i = 0; i < MP_ARRAY_SIZE(seq); i++)
		assert_int_equal(mp_replay_check_and_update(&r, seq[i]), 0);
	for (i = 0; i < MP_ARRAY_SIZE(seq); i++)
		assert_int_equal(mp_replay_check_and_update(&r, seq[i]), -EALREADY);
	assert_int_equal(mp_replay_check_and_update(&r, 40), -ESTALE);
	/* top 1500: 540 is 960 below (still judged), 539 is 961 below */
	assert_int_equal(mp_replay_check_and_update(&r, 1500), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 540), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 539), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 60), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 997), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 997), -EALREADY);
}

static void test_replay_jumps(void **state)
{
	struct mp_replay r;
	uint64_t c;

	(void)state;
	mp_replay_init(&r);
	assert_int_equal(mp_replay_check_and_update(&r, 5), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 1000000), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 5), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 6), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 999100), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 999040), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 999039), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 1000000), -EALREADY);

	/* A jump of exactly one ring (1024) lands in the slot of the block
	 * 64..127: its old bits must not make 1089 look replayed. */
	mp_replay_init(&r);
	for (c = 64; c < 128; c++)
		assert_int_equal(mp_replay_check_and_update(&r, c), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 64 + 1024), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 65 + 1024), 0);
	/* top 1089: 128 is 961 below; 129 the oldest still judged, unseen */
	assert_int_equal(mp_replay_check_and_update(&r, 128), -ESTALE);
	assert_int_equal(mp_replay_check_and_update(&r, 129), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 127 + 1024), 0);

	/* a jump of less than a ring keeps what it still covers */
	mp_replay_init(&r);
	assert_int_equal(mp_replay_check_and_update(&r, 100), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 900), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 100), -EALREADY);
	assert_int_equal(mp_replay_check_and_update(&r, 101), 0);

	/* the top of the counter space */
	mp_replay_init(&r);
	assert_int_equal(mp_replay_check_and_update(&r, UINT64_MAX - 1), 0);
	assert_int_equal(mp_replay_check_and_update(&r, UINT64_MAX), 0);
	assert_int_equal(mp_replay_check_and_update(&r, UINT64_MAX), -EALREADY);
	assert_int_equal(mp_replay_check_and_update(&r, UINT64_MAX - 2), 0);
	assert_int_equal(mp_replay_check_and_update(&r, UINT64_MAX - 961), -ESTALE);
}

static void test_replay_check_only(void **state)
{
	struct mp_replay r = { 0 };

	(void)state;
	assert_int_equal(mp_replay_check(&r, 5), 0);
	assert_int_equal(mp_replay_check(&r, 5), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 5), 0);
	assert_int_equal(mp_replay_check(&r, 5), -EALREADY);
	assert_int_equal(mp_replay_check(&r, 4), 0);
	assert_int_equal(mp_replay_check(&r, 2000), 0);
	assert_int_equal(mp_replay_check_and_update(&r, 2000), 0);
	assert_int_equal(mp_replay_check(&r, 5), -ESTALE);
	assert_int_equal(mp_replay_check(NULL, 5), -EINVAL);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mp-test-auth-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_vectors),
		cmocka_unit_test(test_rfc4231_truncated),
		cmocka_unit_test(test_key_done_and_unset),
		cmocka_unit_test(test_key_parse_valid),
		cmocka_unit_test(test_key_parse_malformed),
		cmocka_unit_test(test_key_load_modes),
		cmocka_unit_test(test_key_load_paths),
		cmocka_unit_test(test_key_load_malformed),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_replay_in_order),
		cmocka_unit_test(test_replay_out_of_order),
		cmocka_unit_test(test_replay_jumps),
		cmocka_unit_test(test_replay_check_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
