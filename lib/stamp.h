/* SPDX-License-Identifier: MIT */
/*
 * stamp: STAMP test packets (RFC 8762), the Session-Sender's and the
 * Session-Reflector's, in unauthenticated and authenticated mode, with the
 * STAMP Session Identifier of RFC 8972 section 3. docs/PROTOCOL.md has the
 * layouts with their offsets.
 *
 * Everything is big-endian on the wire. Decoders read only the len bytes
 * they are given, accept packets longer than the base size (senders pad for
 * symmetric size, RFC 8762 section 4.2.1; RFC 8972 puts TLVs there) and say
 * how long the padding was. MBZ fields are written as zeros and ignored on
 * receipt, as RFC 8762 sections 4.2.1 and 4.3.1 ask. Timestamps are kept as
 * the raw 64-bit field: NTP format (clock.h converts) unless the Z bit of
 * the Error Estimate that goes with them says PTPv2 truncated (RFC 8186).
 *
 * Authenticated mode (RFC 8762 sections 4.2.2, 4.3.2, 4.4): HMAC-SHA-256
 * with the pre-shared key, truncated to 16 octets, over the first 96 octets
 * of the packet; the padding after octet 112 is not covered.
 */
#ifndef MP_STAMP_H
#define MP_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

enum {
	MP_STAMP_PORT = 862,		/* RFC 8762 section 4.1 */
	MP_STAMP_BASE_LEN = 44,		/* unauthenticated packet, both directions */
	MP_STAMP_AUTH_BASE_LEN = 112,	/* authenticated packet, both directions */
	MP_STAMP_HMAC_LEN = 16,		/* truncated HMAC-SHA-256 (section 4.4) */
	MP_STAMP_HMAC_COVERED = 96,	/* octets before the HMAC, all covered by it */
	MP_STAMP_MAX_LEN = 65535,	/* largest packet encoded or decoded */
};

/* Bits of the raw Error Estimate field (RFC 4656 section 4.1.2):
 * S | Z | Scale (6 bits) | Multiplier (8 bits). */
enum {
	MP_STAMP_ERREST_S = 1U << 15,		/* synchronised to UTC externally */
	MP_STAMP_ERREST_Z = 1U << 14,		/* timestamp in PTPv2 truncated format */
	MP_STAMP_ERREST_SCALE_SHIFT = 8,
	MP_STAMP_ERREST_SCALE_MASK = 0x3fU,
	MP_STAMP_ERREST_MULT_MASK = 0xffU,
};

/* error_ns of an Error Estimate that gives no usable bound: Multiplier 0, or
 * more than UINT64_MAX ns (Scale and Multiplier reach 255 * 2^31 s). */
#define MP_STAMP_ERROR_UNKNOWN UINT64_MAX

/* An Error Estimate, decoded. */
struct mp_stamp_errest {
	bool synced;		/* S bit: clock synchronised to UTC by an external source */
	uint64_t error_ns;	/* error bound, ns; MP_STAMP_ERROR_UNKNOWN if unknown */
};

/* A Session-Sender test packet (RFC 8762 sections 4.2.1 and 4.2.2). */
struct mp_stamp_test {
	uint32_t seq;		/* Sequence Number, per session from 0 */
	uint64_t ts;		/* Timestamp: T1, when sent; raw (NTP unless Z) */
	uint16_t errest;	/* Error Estimate of ts, raw (mp_stamp_errest_*) */
	uint16_t ssid;		/* STAMP Session Identifier (RFC 8972), 0 if none */
};

/* A Session-Reflector test packet (RFC 8762 sections 4.3.1 and 4.3.2). */
struct mp_stamp_reply {
	uint32_t seq;		/* Sequence Number: the reflector's own (stateful)
				 * or the sender's (stateless) */
	uint64_t ts;		/* Timestamp: T3, when reflected; raw */
	uint16_t errest;	/* Error Estimate of ts and rx_ts, raw */
	uint16_t ssid;		/* STAMP Session Identifier, copied; 0 if none */
	uint64_t rx_ts;		/* Receive Timestamp: T2, when the test packet arrived */
	uint32_t sender_seq;	/* Session-Sender Sequence Number, copied */
	uint64_t sender_ts;	/* Session-Sender Timestamp: T1, copied */
	uint16_t sender_errest;	/* Session-Sender Error Estimate, copied */
	uint8_t sender_ttl;	/* Session-Sender TTL: IPv4 TTL / IPv6 hop limit of the
				 * test packet as it arrived */
};

/*
 * Error Estimate from e: S from e->synced, Z = 0 (NTP timestamps), and the
 * smallest Scale whose Multiplier (1..255) times 2^(Scale-32) s is at least
 * e->error_ns, so the bound is never understated (it is overstated by less
 * than 1/128 plus 0.24 ns). An error_ns of 0 becomes Multiplier 1, Scale 0,
 * since a Multiplier of 0 gives no bound; MP_STAMP_ERROR_UNKNOWN becomes the
 * largest estimate, Scale 63, Multiplier 255.
 */
uint16_t mp_stamp_errest_encode(const struct mp_stamp_errest *e);

/*
 * Decode a raw Error Estimate into *ret: error = Multiplier * 2^-32 *
 * 2^Scale seconds, rounded to the nearest ns; MP_STAMP_ERROR_UNKNOWN for
 * Multiplier 0 or a bound of UINT64_MAX ns or more. The Z bit is not part of
 * the result (test raw & MP_STAMP_ERREST_Z).
 */
void mp_stamp_errest_decode(uint16_t raw, struct mp_stamp_errest *ret);

/*
 * Encode a Session-Sender test packet of len octets into buf (buf_len
 * octets). key NULL: unauthenticated mode (section 4.2.1), len >=
 * MP_STAMP_BASE_LEN; else authenticated mode (section 4.2.2), len >=
 * MP_STAMP_AUTH_BASE_LEN, HMAC computed with key. Octets past the base
 * packet are zero. Nothing is written on failure.
 * Returns len, or -EINVAL (p or buf NULL, len below the base size, key not
 * set), -EMSGSIZE (len > buf_len or > MP_STAMP_MAX_LEN), -EIO (libsodium).
 */
int mp_stamp_test_encode(const struct mp_stamp_test *p, const struct mp_auth_key *key,
			 size_t len, void *buf, size_t buf_len);

/*
 * Decode a Session-Sender test packet of len octets at buf. key NULL:
 * unauthenticated mode; else authenticated mode, and the HMAC is checked
 * (in constant time) before any field is believed. *ret set on success.
 * Returns the number of octets after the base packet (padding, TLVs), or
 * -EINVAL (NULL pointer), -EMSGSIZE (shorter than the base size, or longer
 * than MP_STAMP_MAX_LEN), -EBADMSG (HMAC wrong), -EIO (libsodium).
 */
int mp_stamp_test_decode(const void *buf, size_t len, const struct mp_auth_key *key,
			 struct mp_stamp_test *ret);

/*
 * Encode a Session-Reflector test packet, as mp_stamp_test_encode(): key
 * NULL for section 4.3.1, else section 4.3.2. Returns len, or -errno as
 * there.
 */
int mp_stamp_reply_encode(const struct mp_stamp_reply *p, const struct mp_auth_key *key,
			  size_t len, void *buf, size_t buf_len);

/*
 * Decode a Session-Reflector test packet, as mp_stamp_test_decode().
 * Returns the number of octets after the base packet, or -errno as there.
 */
int mp_stamp_reply_decode(const void *buf, size_t len, const struct mp_auth_key *key,
			  struct mp_stamp_reply *ret);

/*
 * Overwrite the Timestamp field (T3) of an encoded Session-Reflector packet
 * of len octets and, with key, recompute its HMAC. A reflector encodes the
 * reply first and stamps it with this right before sending, so that T3 is
 * as late as it can be. Returns 0, or -EINVAL (NULL buf, len below the base
 * size of the mode), -EIO.
 */
int mp_stamp_reply_ts_set(void *buf, size_t len, const struct mp_auth_key *key, uint64_t ts);

#endif
