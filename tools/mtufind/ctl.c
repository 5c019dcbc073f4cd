/* SPDX-License-Identifier: MIT */
/*
 * mtufind: encoding, decoding and signing of the peer control messages
 * (ctl.h, docs/PROTOCOL.md). Prints nothing, keeps no state.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ctl.h"
#include "mp.h"

enum {
	MAGIC0 = 0x4d,		/* 'M' */
	MAGIC1 = 0x46,		/* 'F' */
	LABEL_LEN = 16,
};

/* Domain separation: a MAC made for another meshperf protocol with the
 * same key never verifies here. */
static const uint8_t label[LABEL_LEN] = "mtufind/1 ctl";

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The MAC input: the label, then octets 0..55 of the message. */
static void mac_input(const uint8_t *buf, uint8_t in[LABEL_LEN + MF_CTL_MAC_OFF])
{
	memcpy(in, label, LABEL_LEN);
	memcpy(in + LABEL_LEN, buf, MF_CTL_MAC_OFF);
}

int mf_ctl_encode(const struct mf_ctl_msg *m, const struct mp_auth_key *k,
		  uint8_t out[MF_CTL_LEN])
{
	uint8_t in[LABEL_LEN + MF_CTL_MAC_OFF];
	int r;

	memset(out, 0, MF_CTL_LEN);
	out[0] = MAGIC0;
	out[1] = MAGIC1;
	out[2] = MF_CTL_VERSION;
	out[3] = m->type;
	put16(out + 4, m->status);
	put32(out + 8, m->mtu);
	put32(out + 12, m->arg);
	put64(out + 16, m->seq);
	memcpy(out + 24, m->nonce, MF_CTL_NONCE_LEN);
	memcpy(out + 40, m->session, MF_CTL_NONCE_LEN);
	mac_input(out, in);
	r = mp_auth_hmac(k, in, sizeof(in), out + MF_CTL_MAC_OFF);
	return r < 0 ? r : MF_CTL_LEN;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

int mf_ctl_parse(const uint8_t *buf, size_t len, struct mf_ctl_msg *ret)
{
	struct mf_ctl_msg m;
	uint8_t req;
	bool reply;

	if (len != MF_CTL_LEN || buf[0] != MAGIC0 || buf[1] != MAGIC1 ||
	    buf[2] != MF_CTL_VERSION || get16(buf + 6) != 0)
		return -EBADMSG;
	m.type = buf[3];
	m.status = get16(buf + 4);
	m.mtu = get32(buf + 8);
	m.arg = get32(buf + 12);
	m.seq = get64(buf + 16);
	memcpy(m.nonce, buf + 24, MF_CTL_NONCE_LEN);
	memcpy(m.session, buf + 40, MF_CTL_NONCE_LEN);
	reply = m.type & MF_CTL_REPLY;
	req = m.type & (uint8_t)~MF_CTL_REPLY;
	if (req < MF_CTL_HELLO || req > MF_CTL_PING || m.status > MF_CTL_STATUS_MAX)
		return -EBADMSG;
	/* a request carries no status and no argument; only SET an MTU */
	if (!reply && (m.status || m.arg || (req == MF_CTL_SET) !=
		       (m.mtu >= MF_CTL_MTU_MIN && m.mtu <= MF_CTL_MTU_MAX)))
		return -EBADMSG;
	/* HELLO comes before any session; everything after it names one */
	if (req == MF_CTL_HELLO && !reply && !is_zero(m.session, MF_CTL_NONCE_LEN))
		return -EBADMSG;
	if (m.mtu > MF_CTL_MTU_MAX)
		return -EBADMSG;
	*ret = m;
	return 0;
}

int mf_ctl_verify(const struct mp_auth_key *k, const uint8_t buf[MF_CTL_LEN])
{
	uint8_t in[LABEL_LEN + MF_CTL_MAC_OFF];

	mac_input(buf, in);
	return mp_auth_verify(k, in, sizeof(in), buf + MF_CTL_MAC_OFF);
}

const char *mf_ctl_type_name(uint8_t type)
{
	static const char *const names[] = { "?", "hello", "set", "end", "ping" };
	uint8_t t = type & (uint8_t)~MF_CTL_REPLY;

	return t < MP_ARRAY_SIZE(names) ? names[t] : "?";
}
