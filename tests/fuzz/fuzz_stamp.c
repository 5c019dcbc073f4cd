/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the STAMP decoders (lib/stamp.c). The first input
 * octet picks the packet kind (bit 0: reflector, bit 1: authenticated); the
 * rest is the packet. Every packet that decodes is encoded again at the same
 * length and must decode to the same fields; every Error Estimate must
 * survive decode -> encode -> decode without its bound shrinking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/auth.c"
#include "../../lib/stamp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[MP_AUTH_KEY_BYTES] = "meshperf fuzz key, 32 octets...";

static void check_errest(uint16_t raw)
{
	struct mp_stamp_errest e, e2;

	mp_stamp_errest_decode(raw, &e);
	mp_stamp_errest_decode(mp_stamp_errest_encode(&e), &e2);
	if (e2.error_ns < e.error_ns || e2.synced != e.synced)
		abort();
}

static void fuzz_test(const uint8_t *p, size_t len, const struct mp_auth_key *key)
{
	struct mp_stamp_test t, t2;
	uint8_t *out;
	int r;

	r = mp_stamp_test_decode(p, len, key, &t);
	if (r < 0)
		return;
	if ((size_t)r != len - (key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN))
		abort();
	check_errest(t.errest);
	out = malloc(len);
	if (!out)
		return;
	if (mp_stamp_test_encode(&t, key, len, out, len) != (int)len ||
	    mp_stamp_test_decode(out, len, key, &t2) != r || t.seq != t2.seq || t.ts != t2.ts ||
	    t.errest != t2.errest || t.ssid != t2.ssid)
		abort();
	free(out);
}

static void fuzz_reply(const uint8_t *p, size_t len, const struct mp_auth_key *key)
{
	struct mp_stamp_reply q, q2;
	uint8_t *out;
	int r;

	r = mp_stamp_reply_decode(p, len, key, &q);
	if (r < 0)
		return;
	if ((size_t)r != len - (key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN))
		abort();
	check_errest(q.errest);
	check_errest(q.sender_errest);
	out = malloc(len);
	if (!out)
		return;
	memset(&q2, 0, sizeof(q2));
	if (mp_stamp_reply_encode(&q, key, len, out, len) != (int)len ||
	    mp_stamp_reply_ts_set(out, len, key, q.ts) < 0 ||
	    mp_stamp_reply_decode(out, len, key, &q2) != r ||
	    q.seq != q2.seq || q.ts != q2.ts || q.errest != q2.errest || q.ssid != q2.ssid ||
	    q.rx_ts != q2.rx_ts || q.sender_seq != q2.sender_seq ||
	    q.sender_ts != q2.sender_ts || q.sender_errest != q2.sender_errest ||
	    q.sender_ttl != q2.sender_ttl)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_auth_key key;
	const struct mp_auth_key *k = NULL;
	uint8_t *pkt;
	size_t len;

	if (size < 1)
		return 0;
	if (!key.set && mp_auth_key_set(&key, fuzz_key, sizeof(fuzz_key)) < 0)
		abort();
	if (data[0] & 2)
		k = &key;
	/* an exact-size copy: ASan flags any read past len */
	len = size - 1;
	pkt = malloc(len ? len : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data + 1, len);
	if (data[0] & 1)
		fuzz_reply(pkt, len, k);
	else
		fuzz_test(pkt, len, k);
	free(pkt);
	return 0;
}
