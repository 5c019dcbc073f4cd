/* SPDX-License-Identifier: MIT */
/*
 * STAMP test packets (stamp.h). Field offsets come from the figures of
 * RFC 8762 sections 4.2.1, 4.2.2, 4.3.1 and 4.3.2, with the SSID of RFC 8972
 * section 3 in the two octets after the Error Estimate, which RFC 8762
 * had as MBZ. A packet is first built in a local buffer of its base size,
 * so a failure (of the HMAC) leaves the caller's buffer untouched.
 */
#include <errno.h>
#include <string.h>

#include "mp.h"
#include "auth.h"
#include "be.h"
#include "stamp.h"

/* Where each field of a Session-Sender packet starts, octets from 0. */
struct test_layout {
	size_t base;	/* base packet length */
	size_t seq, ts, errest, ssid;
};

/* Where each field of a Session-Reflector packet starts. */
struct reply_layout {
	size_t base;
	size_t seq, ts, errest, ssid, rx_ts, sender_seq, sender_ts, sender_errest, sender_ttl;
};

/* [0]: unauthenticated, [1]: authenticated. */
static const struct test_layout test_layouts[2] = {
	/* RFC 8762 section 4.2.1: Seq 4, Timestamp 8, Error Estimate 2,
	 * MBZ 30 (of which RFC 8972 takes 2 for the SSID) */
	{ .base = MP_STAMP_BASE_LEN, .seq = 0, .ts = 4, .errest = 12, .ssid = 14 },
	/* section 4.2.2: Seq 4, MBZ 12, Timestamp 8, Error Estimate 2,
	 * MBZ 70 (SSID in its first 2), HMAC 16 */
	{ .base = MP_STAMP_AUTH_BASE_LEN, .seq = 0, .ts = 16, .errest = 24, .ssid = 26 },
};

static const struct reply_layout reply_layouts[2] = {
	/* section 4.3.1: Seq 4, Timestamp 8, Error Estimate 2, MBZ 2 (SSID),
	 * Receive Timestamp 8, Sender Seq 4, Sender Timestamp 8, Sender Error
	 * Estimate 2, MBZ 2, Sender TTL 1, MBZ 3 */
	{ .base = MP_STAMP_BASE_LEN, .seq = 0, .ts = 4, .errest = 12, .ssid = 14,
	  .rx_ts = 16, .sender_seq = 24, .sender_ts = 28, .sender_errest = 36,
	  .sender_ttl = 40 },
	/* section 4.3.2: Seq 4, MBZ 12, Timestamp 8, Error Estimate 2, MBZ 6
	 * (SSID in its first 2), Receive Timestamp 8, MBZ 8, Sender Seq 4,
	 * MBZ 12, Sender Timestamp 8, Sender Error Estimate 2, MBZ 6, Sender
	 * TTL 1, MBZ 15, HMAC 16 */
	{ .base = MP_STAMP_AUTH_BASE_LEN, .seq = 0, .ts = 16, .errest = 24, .ssid = 26,
	  .rx_ts = 32, .sender_seq = 48, .sender_ts = 64, .sender_errest = 72,
	  .sender_ttl = 80 },
};

uint16_t mp_stamp_errest_encode(const struct mp_stamp_errest *e)
{
	/* error in units of 2^-32 s, rounded up; error_ns < 2^64, so this
	 * is below 2^64 * 2^32 / 10^9 < 2^67 */
	unsigned __int128 units, mult;
	unsigned scale = 0;
	uint16_t raw = e->synced ? MP_STAMP_ERREST_S : 0;

	if (e->error_ns == MP_STAMP_ERROR_UNKNOWN)
		return raw | MP_STAMP_ERREST_SCALE_MASK << MP_STAMP_ERREST_SCALE_SHIFT |
		       MP_STAMP_ERREST_MULT_MASK;
	units = (((unsigned __int128)e->error_ns << 32) + MP_NSEC_PER_SEC - 1) / MP_NSEC_PER_SEC;
	mult = units;
	/* ceil(ceil(a / 2^s) / 2) == ceil(a / 2^(s+1)): round up at each step
	 * and the final Multiplier is still the exact ceiling */
	while (mult > MP_STAMP_ERREST_MULT_MASK) {
		mult = (mult + 1) >> 1;
		scale++;
	}
	if (mult == 0)
		mult = 1;
	return (uint16_t)(raw | scale << MP_STAMP_ERREST_SCALE_SHIFT | (unsigned)mult);
}

void mp_stamp_errest_decode(uint16_t raw, struct mp_stamp_errest *ret)
{
	unsigned scale = raw >> MP_STAMP_ERREST_SCALE_SHIFT & MP_STAMP_ERREST_SCALE_MASK;
	unsigned mult = raw & MP_STAMP_ERREST_MULT_MASK;
	/* mult * 10^9 < 2^38, shifted by at most 63: below 2^101 */
	unsigned __int128 ns = (unsigned __int128)mult * MP_NSEC_PER_SEC << scale;

	ret->synced = raw & MP_STAMP_ERREST_S;
	ns = (ns + ((unsigned __int128)1 << 31)) >> 32;
	if (mult == 0 || ns >= MP_STAMP_ERROR_UNKNOWN)
		ret->error_ns = MP_STAMP_ERROR_UNKNOWN;
	else
		ret->error_ns = (uint64_t)ns;
}

/* Common checks of the encoders. Returns the layout index (0, 1) or -errno. */
static int encode_check(const void *p, const struct mp_auth_key *key, size_t len, void *buf,
			size_t buf_len)
{
	size_t base = key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN;

	if (!p || !buf || len < base || (key && !key->set))
		return -EINVAL;
	if (len > buf_len || len > MP_STAMP_MAX_LEN)
		return -EMSGSIZE;
	return key ? 1 : 0;
}

/* Sign the base packet in hdr (section 4.4: HMAC-SHA-256 truncated to 16
 * octets, over the 96 octets before it), then copy it into buf and zero the
 * rest up to len. Returns len, or -errno. */
static int encode_finish(uint8_t *hdr, size_t base, const struct mp_auth_key *key, size_t len,
			 uint8_t *buf)
{
	uint8_t mac[MP_AUTH_MAC_BYTES];
	int r;

	if (key) {
		r = mp_auth_hmac(key, hdr, MP_STAMP_HMAC_COVERED, mac);
		if (r < 0)
			return r;
		memcpy(hdr + MP_STAMP_HMAC_COVERED, mac, MP_STAMP_HMAC_LEN);
	}
	memcpy(buf, hdr, base);
	memset(buf + base, 0, len - base);
	return (int)len;
}

/* Common checks of the decoders, HMAC first. Returns the layout index or
 * -errno. */
static int decode_check(const void *buf, size_t len, const struct mp_auth_key *key,
			const void *ret)
{
	size_t base = key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN;
	int r;

	if (!buf || !ret)
		return -EINVAL;
	if (len < base || len > MP_STAMP_MAX_LEN)
		return -EMSGSIZE;
	if (!key)
		return 0;
	r = mp_auth_verify_trunc(key, buf, MP_STAMP_HMAC_COVERED,
				 (const uint8_t *)buf + MP_STAMP_HMAC_COVERED, MP_STAMP_HMAC_LEN);
	return r < 0 ? r : 1;
}

int mp_stamp_test_encode(const struct mp_stamp_test *p, const struct mp_auth_key *key,
			 size_t len, void *buf, size_t buf_len)
{
	uint8_t hdr[MP_STAMP_AUTH_BASE_LEN] = { 0 };
	const struct test_layout *l;
	int r;

	r = encode_check(p, key, len, buf, buf_len);
	if (r < 0)
		return r;
	l = &test_layouts[r];
	mp_be32_put(hdr + l->seq, p->seq);
	mp_be64_put(hdr + l->ts, p->ts);
	mp_be16_put(hdr + l->errest, p->errest);
	mp_be16_put(hdr + l->ssid, p->ssid);
	return encode_finish(hdr, l->base, key, len, buf);
}

int mp_stamp_test_decode(const void *buf, size_t len, const struct mp_auth_key *key,
			 struct mp_stamp_test *ret)
{
	const struct test_layout *l;
	const uint8_t *b = buf;
	int r;

	r = decode_check(buf, len, key, ret);
	if (r < 0)
		return r;
	l = &test_layouts[r];
	ret->seq = mp_be32_get(b + l->seq);
	ret->ts = mp_be64_get(b + l->ts);
	ret->errest = mp_be16_get(b + l->errest);
	ret->ssid = mp_be16_get(b + l->ssid);
	return (int)(len - l->base);
}

int mp_stamp_reply_encode(const struct mp_stamp_reply *p, const struct mp_auth_key *key,
			  size_t len, void *buf, size_t buf_len)
{
	uint8_t hdr[MP_STAMP_AUTH_BASE_LEN] = { 0 };
	const struct reply_layout *l;
	int r;

	r = encode_check(p, key, len, buf, buf_len);
	if (r < 0)
		return r;
	l = &reply_layouts[r];
	mp_be32_put(hdr + l->seq, p->seq);
	mp_be64_put(hdr + l->ts, p->ts);
	mp_be16_put(hdr + l->errest, p->errest);
	mp_be16_put(hdr + l->ssid, p->ssid);
	mp_be64_put(hdr + l->rx_ts, p->rx_ts);
	mp_be32_put(hdr + l->sender_seq, p->sender_seq);
	mp_be64_put(hdr + l->sender_ts, p->sender_ts);
	mp_be16_put(hdr + l->sender_errest, p->sender_errest);
	hdr[l->sender_ttl] = p->sender_ttl;
	return encode_finish(hdr, l->base, key, len, buf);
}

int mp_stamp_reply_decode(const void *buf, size_t len, const struct mp_auth_key *key,
			  struct mp_stamp_reply *ret)
{
	const struct reply_layout *l;
	const uint8_t *b = buf;
	int r;

	r = decode_check(buf, len, key, ret);
	if (r < 0)
		return r;
	l = &reply_layouts[r];
	ret->seq = mp_be32_get(b + l->seq);
	ret->ts = mp_be64_get(b + l->ts);
	ret->errest = mp_be16_get(b + l->errest);
	ret->ssid = mp_be16_get(b + l->ssid);
	ret->rx_ts = mp_be64_get(b + l->rx_ts);
	ret->sender_seq = mp_be32_get(b + l->sender_seq);
	ret->sender_ts = mp_be64_get(b + l->sender_ts);
	ret->sender_errest = mp_be16_get(b + l->sender_errest);
	ret->sender_ttl = b[l->sender_ttl];
	return (int)(len - l->base);
}

int mp_stamp_reply_ts_set(void *buf, size_t len, const struct mp_auth_key *key, uint64_t ts)
{
	uint8_t mac[MP_AUTH_MAC_BYTES];
	uint8_t *b = buf;
	int r;

	if (!b || len < (key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN))
		return -EINVAL;
	mp_be64_put(b + reply_layouts[key ? 1 : 0].ts, ts);
	if (!key)
		return 0;
	r = mp_auth_hmac(key, b, MP_STAMP_HMAC_COVERED, mac);
	if (r < 0)
		return r;
	memcpy(b + MP_STAMP_HMAC_COVERED, mac, MP_STAMP_HMAC_LEN);
	return 0;
}
