/* SPDX-License-Identifier: MIT */
/*
 * exchange: the codec of the tunnel-table message (docs/PROTOCOL.md,
 * "meshctl exchange"). Big-endian, fixed layout:
 *
 *   header (16): 'M' 'X', version, type 1, origin site, ttl, n (u16),
 *                seq (u64: the origin's CLOCK_REALTIME ns at creation)
 *   n entries (32 each): remote site, family 4/6, state 0..2, reserved 0,
 *                cost_us i32, base_us i32, rtt_us u32, fwd_us i32, rev_us i32,
 *                loss_fwd_pm u16, avail_pm u16, jitter_us u32
 *   HMAC-SHA-256 (32) of every octet before it, with the pre-shared key.
 *
 * The MAC covers everything, ttl included, so a relay cannot change a
 * message: relays forward the exact bytes they received, and the receivers
 * keep the bookkeeping (whom they got it from, the origin's last seq).
 *
 * Decoding reads only the len octets given, checks the length against n
 * before the MAC (so the MAC covers a known span) and the MAC before it
 * believes any other field. Untrusted input: fuzzed by
 * tests/fuzz/fuzz_meshctl_x.c.
 */
#include <errno.h>
#include <string.h>

#include "be.h"
#include "meshctl.h"

enum {
	X_MAGIC0 = 0x4d,		/* 'M' */
	X_MAGIC1 = 0x58,		/* 'X' */
	X_TYPE_TABLE = 1,		/* a tunnel table: the only type */
	X_PM_MAX = 10000,		/* per 10,000 */
	X_STATE_MAX = MC_ST_DOWN,
	X_SEEN_WORDS = 2 * MC_SITES / 64,	/* one bit per (remote site, family) */
};

/* Whether e may be sent by origin: the rules both directions apply. seen
 * (X_SEEN_WORDS words) marks the (remote site, family) pairs met so far. */
static bool entry_ok(const struct mc_x_entry *e, uint8_t origin, uint64_t *seen)
{
	unsigned bit;

	if ((e->family != 4 && e->family != 6) || e->state > X_STATE_MAX ||
	    e->remote_site == origin || e->loss_fwd_pm > X_PM_MAX || e->avail_pm > X_PM_MAX ||
	    e->base_us < 0)
		return false;
	bit = 2U * e->remote_site + (e->family == 6);
	if (seen[bit / 64] & 1ULL << (bit % 64))
		return false;
	seen[bit / 64] |= 1ULL << (bit % 64);
	return true;
}

static void entry_put(uint8_t *p, const struct mc_x_entry *e)
{
	p[0] = e->remote_site;
	p[1] = e->family;
	p[2] = e->state;
	p[3] = 0;
	mp_be32_put(p + 4, (uint32_t)e->cost_us);
	mp_be32_put(p + 8, (uint32_t)e->base_us);
	mp_be32_put(p + 12, e->rtt_us);
	mp_be32_put(p + 16, (uint32_t)e->fwd_us);
	mp_be32_put(p + 20, (uint32_t)e->rev_us);
	mp_be16_put(p + 24, e->loss_fwd_pm);
	mp_be16_put(p + 26, e->avail_pm);
	mp_be32_put(p + 28, e->jitter_us);
}

/* Decode the entry at p (MC_X_ENTRY_LEN octets). Returns false if the
 * reserved octet is not zero. */
static bool entry_get(const uint8_t *p, struct mc_x_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->remote_site = p[0];
	e->family = p[1];
	e->state = p[2];
	e->cost_us = (int32_t)mp_be32_get(p + 4);
	e->base_us = (int32_t)mp_be32_get(p + 8);
	e->rtt_us = mp_be32_get(p + 12);
	e->fwd_us = (int32_t)mp_be32_get(p + 16);
	e->rev_us = (int32_t)mp_be32_get(p + 20);
	e->loss_fwd_pm = mp_be16_get(p + 24);
	e->avail_pm = mp_be16_get(p + 26);
	e->jitter_us = mp_be32_get(p + 28);
	return p[3] == 0;
}

int mc_x_encode(const struct mc_x_msg *m, const struct mp_auth_key *key, uint8_t *buf,
		size_t len)
{
	uint64_t seen[X_SEEN_WORDS] = { 0 };
	size_t need, i;
	uint8_t *p;
	int r;

	if (!m || !key || !key->set || m->n > MC_X_ENTRIES_MAX)
		return -EINVAL;
	for (i = 0; i < m->n; i++)
		if (!entry_ok(&m->e[i], m->origin, seen))
			return -EINVAL;
	need = MC_X_HDR_LEN + (size_t)m->n * MC_X_ENTRY_LEN + MC_X_MAC_LEN;
	if (!buf || len < need)
		return -EMSGSIZE;
	buf[0] = X_MAGIC0;
	buf[1] = X_MAGIC1;
	buf[2] = MC_X_VERSION;
	buf[3] = X_TYPE_TABLE;
	buf[4] = m->origin;
	buf[5] = m->ttl;
	mp_be16_put(buf + 6, m->n);
	mp_be64_put(buf + 8, m->seq);
	for (i = 0, p = buf + MC_X_HDR_LEN; i < m->n; i++, p += MC_X_ENTRY_LEN)
		entry_put(p, &m->e[i]);
	r = mp_auth_hmac(key, buf, need - MC_X_MAC_LEN, buf + need - MC_X_MAC_LEN);
	return r < 0 ? r : (int)need;
}

int mc_x_decode(const uint8_t *buf, size_t len, const struct mp_auth_key *key,
		struct mc_x_msg *ret)
{
	uint64_t seen[X_SEEN_WORDS] = { 0 };
	struct mc_x_entry e;
	size_t n, body, i;
	int r;

	if (!buf || !key || !ret)
		return -EINVAL;
	/* the length first, n read only inside it, so the MAC covers a known
	 * span; a message longer than the largest valid one costs no MAC */
	if (len < MC_X_HDR_LEN + MC_X_MAC_LEN || len > MC_X_MAX_LEN)
		return -EMSGSIZE;
	n = mp_be16_get(buf + 6);
	if (len != MC_X_HDR_LEN + n * MC_X_ENTRY_LEN + MC_X_MAC_LEN)
		return -EMSGSIZE;
	body = len - MC_X_MAC_LEN;
	r = mp_auth_verify(key, buf, body, buf + body);
	if (r < 0)
		return r;
	if (buf[0] != X_MAGIC0 || buf[1] != X_MAGIC1 || buf[2] != MC_X_VERSION ||
	    buf[3] != X_TYPE_TABLE)
		return -EPROTO;
	for (i = 0; i < n; i++)
		if (!entry_get(buf + MC_X_HDR_LEN + i * MC_X_ENTRY_LEN, &e) ||
		    !entry_ok(&e, buf[4], seen))
			return -EPROTO;
	/* valid: only now is *ret written */
	ret->origin = buf[4];
	ret->ttl = buf[5];
	ret->n = (uint16_t)n;
	ret->seq = mp_be64_get(buf + 8);
	for (i = 0; i < n; i++)
		entry_get(buf + MC_X_HDR_LEN + i * MC_X_ENTRY_LEN, &ret->e[i]);
	return 0;
}
