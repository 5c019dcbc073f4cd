/* SPDX-License-Identifier: MIT */
/*
 * mtufind: the control messages between `mtufind sweep --peer-key` (the
 * controller) and `mtufind -s` (the peer side that sets its own tunnel's
 * MTU). UDP port 5122, one 88-octet datagram per message in both
 * directions, HMAC-SHA-256 (lib/auth) over a label and octets 0..55.
 * docs/PROTOCOL.md ("mtufind peer control") is the specification. Pure
 * functions, fuzzed by tests/fuzz/fuzz_mtufind_ctl.c.
 */
#ifndef MTUFIND_CTL_H
#define MTUFIND_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

enum {
	MF_CTL_PORT = 5122,		/* default UDP port of mtufind -s */
	MF_CTL_VERSION = 1,
	MF_CTL_LEN = 88,		/* every message, request or reply */
	MF_CTL_NONCE_LEN = 16,		/* client nonce, session id */
	MF_CTL_MAC_OFF = 56,		/* the HMAC covers the label and 0..55 */
	MF_CTL_MTU_MIN = 68,		/* RFC 791 */
	MF_CTL_MTU_MAX = 65535,
};

enum mf_ctl_type {
	MF_CTL_HELLO = 1,		/* C->S: offer me a session */
	MF_CTL_SET = 2,			/* C->S: set the tunnel's MTU */
	MF_CTL_END = 3,			/* C->S: restore the original, end the session */
	MF_CTL_PING = 4,		/* C->S: keep the session alive */
	MF_CTL_REPLY = 0x80,		/* S->C: reply to type (t | MF_CTL_REPLY) */
};

enum mf_ctl_status {
	MF_CTL_OK = 0,
	MF_CTL_BUSY = 1,		/* another controller holds the tunnel */
	MF_CTL_FAILED = 2,		/* the kernel refused (errno in arg) */
	MF_CTL_NO_SESSION = 3,		/* no such session (ended, expired, never offered) */
	MF_CTL_REFUSED = 4,		/* an MTU the server does not allow */
	MF_CTL_STATUS_MAX = MF_CTL_REFUSED,
};

/* One message, decoded. */
struct mf_ctl_msg {
	uint8_t type;				/* enum mf_ctl_type, replies | 0x80 */
	uint16_t status;			/* replies: enum mf_ctl_status; requests 0 */
	uint32_t mtu;				/* SET: asked for; replies: read back, bytes */
	uint32_t arg;				/* CHALLENGE: idle timeout, ms; FAILED: errno */
	uint64_t seq;				/* the request's number, echoed in its reply */
	uint8_t nonce[MF_CTL_NONCE_LEN];	/* the controller's nonce, in every message */
	uint8_t session[MF_CTL_NONCE_LEN];	/* the server's session id; zeros in HELLO */
};

/*
 * Encode m and sign it with k into out (MF_CTL_LEN octets).
 * Returns MF_CTL_LEN, or -EINVAL (k unset), -EIO.
 */
int mf_ctl_encode(const struct mf_ctl_msg *m, const struct mp_auth_key *k,
		  uint8_t out[MF_CTL_LEN]);

/*
 * Check the structure of len octets at buf (length, magic, version, type,
 * reserved octets, field rules of docs/PROTOCOL.md), not the MAC.
 * Returns 0 with *ret set, or -EBADMSG. Reads only buf[0..len).
 */
int mf_ctl_parse(const uint8_t *buf, size_t len, struct mf_ctl_msg *ret);

/* Check the HMAC of an MF_CTL_LEN-octet message in constant time.
 * Returns 0, or -EBADMSG (wrong), -EINVAL (k unset), -EIO. */
int mf_ctl_verify(const struct mp_auth_key *k, const uint8_t buf[MF_CTL_LEN]);

/* A name for a request or reply type ("set", "end", ...). */
const char *mf_ctl_type_name(uint8_t type);

#endif
