/* SPDX-License-Identifier: MIT */
/*
 * bwtest wire format (docs/PROTOCOL.md, "bwtest"): control messages on TCP,
 * length-prefixed, versioned, big-endian; the 24-octet data packet header.
 * The decoders read untrusted bytes: every length is checked before use
 * (tests/fuzz/fuzz_bwtest_ctrl.c, fuzz_bwtest_data.c).
 */
#include <errno.h>
#include <string.h>

#include "be.h"
#include "bwtest.h"

enum {
	PARAMS_LEN = 40,
	RX_LEN = 28 * 8,
	IV_LEN = 9 * 8,
};

struct wbuf {
	uint8_t *p;
	size_t len;
	size_t at;
	bool over;	/* ran out of room */
};

/* Reserves n octets at the cursor, or marks b over and returns NULL. */
static uint8_t *wtake(struct wbuf *b, size_t n)
{
	uint8_t *p;

	if (b->over || b->at + n > b->len) {
		b->over = true;
		return NULL;
	}
	p = b->p + b->at;
	b->at += n;
	return p;
}

static void put8(struct wbuf *b, uint8_t v)
{
	uint8_t *p = wtake(b, 1);

	if (p)
		*p = v;
}

static void put16(struct wbuf *b, uint16_t v)
{
	uint8_t *p = wtake(b, 2);

	if (p)
		mp_be16_put(p, v);
}

static void put32(struct wbuf *b, uint32_t v)
{
	uint8_t *p = wtake(b, 4);

	if (p)
		mp_be32_put(p, v);
}

static void put64(struct wbuf *b, uint64_t v)
{
	uint8_t *p = wtake(b, 8);

	if (p)
		mp_be64_put(p, v);
}

static void putn(struct wbuf *b, const void *v, size_t n)
{
	if (b->at + n > b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->at, v, n);
	b->at += n;
}

struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t at;
	bool under;	/* read past the end */
};

/* Takes n octets at the cursor, or marks b under and returns NULL. */
static const uint8_t *rtake(struct rbuf *b, size_t n)
{
	const uint8_t *p;

	if (b->under || b->at + n > b->len) {
		b->under = true;
		return NULL;
	}
	p = b->p + b->at;
	b->at += n;
	return p;
}

static uint8_t get8(struct rbuf *b)
{
	const uint8_t *p = rtake(b, 1);

	return p ? *p : 0;
}

static uint16_t get16(struct rbuf *b)
{
	const uint8_t *p = rtake(b, 2);

	return p ? mp_be16_get(p) : 0;
}

static uint32_t get32(struct rbuf *b)
{
	const uint8_t *p = rtake(b, 4);

	return p ? mp_be32_get(p) : 0;
}

static uint64_t get64(struct rbuf *b)
{
	const uint8_t *p = rtake(b, 8);

	return p ? mp_be64_get(p) : 0;
}

static void getn(struct rbuf *b, void *v, size_t n)
{
	if (b->at + n > b->len) {
		b->under = true;
		memset(v, 0, n);
		return;
	}
	memcpy(v, b->p + b->at, n);
	b->at += n;
}

static void put_params(struct wbuf *b, const struct bw_params *p)
{
	put16(b, p->dirs);
	put16(b, p->streams);
	put16(b, p->payload_bytes);
	put16(b, p->udp_port);
	put64(b, p->rate_bps);
	put64(b, p->pps);
	put64(b, p->duration_ns);
	put64(b, p->interval_ns);
}

static void get_params(struct rbuf *b, struct bw_params *p)
{
	p->dirs = get16(b);
	p->streams = get16(b);
	p->payload_bytes = get16(b);
	p->udp_port = get16(b);
	p->rate_bps = get64(b);
	p->pps = get64(b);
	p->duration_ns = get64(b);
	p->interval_ns = get64(b);
}

static void put_rx(struct wbuf *b, const struct bw_rx_counts *c)
{
	put64(b, c->expected);
	put64(b, c->received);
	put64(b, c->lost);
	put64(b, c->duplicates);
	put64(b, c->reordered);
	put64(b, c->late);
	put64(b, c->bytes);
	put64(b, c->loss_bursts);
	put64(b, c->max_loss_burst);
	for (unsigned i = 0; i < BW_BURST_BUCKETS; i++)
		put64(b, c->burst_hist[i]);
	put64(b, c->jitter_ns);
	put64(b, c->span_ns);
	put64(b, c->owd_count);
	put64(b, (uint64_t)c->owd_min_ns);
	put64(b, (uint64_t)c->owd_mean_ns);
	put64(b, (uint64_t)c->owd_max_ns);
	put64(b, (uint64_t)c->owd_p50_ns);
	put64(b, (uint64_t)c->owd_p99_ns);
	put64(b, c->dropped);
}

static void get_rx(struct rbuf *b, struct bw_rx_counts *c)
{
	c->expected = get64(b);
	c->received = get64(b);
	c->lost = get64(b);
	c->duplicates = get64(b);
	c->reordered = get64(b);
	c->late = get64(b);
	c->bytes = get64(b);
	c->loss_bursts = get64(b);
	c->max_loss_burst = get64(b);
	for (unsigned i = 0; i < BW_BURST_BUCKETS; i++)
		c->burst_hist[i] = get64(b);
	c->jitter_ns = get64(b);
	c->span_ns = get64(b);
	c->owd_count = get64(b);
	c->owd_min_ns = (int64_t)get64(b);
	c->owd_mean_ns = (int64_t)get64(b);
	c->owd_max_ns = (int64_t)get64(b);
	c->owd_p50_ns = (int64_t)get64(b);
	c->owd_p99_ns = (int64_t)get64(b);
	c->dropped = get64(b);
}

static void put_iv(struct wbuf *b, const struct bw_interval *iv)
{
	put64(b, iv->start_ns);
	put64(b, iv->end_ns);
	put64(b, iv->received);
	put64(b, iv->lost);
	put64(b, iv->duplicates);
	put64(b, iv->reordered);
	put64(b, iv->late);
	put64(b, iv->bytes);
	put64(b, iv->jitter_ns);
}

static void get_iv(struct rbuf *b, struct bw_interval *iv)
{
	iv->start_ns = get64(b);
	iv->end_ns = get64(b);
	iv->received = get64(b);
	iv->lost = get64(b);
	iv->duplicates = get64(b);
	iv->reordered = get64(b);
	iv->late = get64(b);
	iv->bytes = get64(b);
	iv->jitter_ns = get64(b);
}

int bw_msg_encode(const struct bw_msg *m, uint8_t *buf, size_t len)
{
	struct wbuf b = { .p = buf, .len = len };
	size_t n;

	put16(&b, 0);	/* length, filled in below */
	put8(&b, BW_VERSION);
	put8(&b, m->type);
	switch (m->type) {
	case BW_MSG_HELLO:
		putn(&b, m->nonce, BW_NONCE_BYTES);
		put_params(&b, &m->params);
		break;
	case BW_MSG_CHALLENGE:
		putn(&b, m->nonce, BW_NONCE_BYTES);
		put16(&b, m->flags);
		break;
	case BW_MSG_AUTH:
		putn(&b, m->mac, MP_AUTH_MAC_BYTES);
		break;
	case BW_MSG_ACCEPT:
		put64(&b, m->token);
		put_params(&b, &m->params);
		putn(&b, m->mac, MP_AUTH_MAC_BYTES);
		break;
	case BW_MSG_REJECT:
		n = strnlen(m->reason, BW_REASON_MAX);
		put16(&b, m->code);
		putn(&b, m->reason, n);
		break;
	case BW_MSG_START:
		break;
	case BW_MSG_STOP:
	case BW_MSG_RESULT:
		if (m->n_seq > BW_STREAMS_MAX)
			return -EINVAL;
		if (m->type == BW_MSG_RESULT)
			put_rx(&b, &m->rx);
		put16(&b, m->n_seq);
		for (unsigned i = 0; i < m->n_seq; i++)
			put32(&b, m->next_seq[i]);
		break;
	case BW_MSG_REPORT:
		put_iv(&b, &m->iv);
		break;
	default:
		return -EINVAL;
	}
	if (b.over || b.at > BW_CTRL_MAX)
		return -ENOSPC;
	buf[0] = (uint8_t)(b.at >> 8);
	buf[1] = (uint8_t)b.at;
	return (int)b.at;
}

int bw_msg_frame(const uint8_t *buf, size_t len)
{
	size_t n;

	if (len < BW_CTRL_HDR)
		return 0;
	n = (size_t)buf[0] << 8 | buf[1];
	if (n < BW_CTRL_HDR || n > BW_CTRL_MAX || buf[2] != BW_VERSION)
		return -EBADMSG;
	return len < n ? 0 : (int)n;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~')
			return false;
	return true;
}

int bw_msg_decode(const uint8_t *buf, size_t len, struct bw_msg *ret)
{
	struct rbuf b = { .p = buf, .len = len };
	struct bw_msg m;
	size_t n;

	memset(&m, 0, sizeof(m));
	if (bw_msg_frame(buf, len) != (int)len || len == 0)
		return -EBADMSG;
	b.at = 3;
	m.type = get8(&b);
	switch (m.type) {
	case BW_MSG_HELLO:
		getn(&b, m.nonce, BW_NONCE_BYTES);
		get_params(&b, &m.params);
		break;
	case BW_MSG_CHALLENGE:
		getn(&b, m.nonce, BW_NONCE_BYTES);
		m.flags = get16(&b);
		break;
	case BW_MSG_AUTH:
		getn(&b, m.mac, MP_AUTH_MAC_BYTES);
		break;
	case BW_MSG_ACCEPT:
		m.token = get64(&b);
		get_params(&b, &m.params);
		getn(&b, m.mac, MP_AUTH_MAC_BYTES);
		break;
	case BW_MSG_REJECT:
		m.code = get16(&b);
		n = b.under ? 0 : len - b.at;
		if (n > BW_REASON_MAX)
			return -EBADMSG;
		getn(&b, m.reason, n);
		m.reason[n] = '\0';
		if (!printable(m.reason, n))
			return -EBADMSG;
		break;
	case BW_MSG_START:
		break;
	case BW_MSG_STOP:
	case BW_MSG_RESULT:
		if (m.type == BW_MSG_RESULT)
			get_rx(&b, &m.rx);
		m.n_seq = get16(&b);
		if (m.n_seq > BW_STREAMS_MAX)
			return -EBADMSG;
		for (unsigned i = 0; i < m.n_seq; i++)
			m.next_seq[i] = get32(&b);
		break;
	case BW_MSG_REPORT:
		get_iv(&b, &m.iv);
		break;
	default:
		return -EBADMSG;
	}
	if (b.under || b.at != len)
		return -EBADMSG;
	*ret = m;
	return 0;
}

size_t bw_mac_input(bool server, const uint8_t *nonce_c, const uint8_t *nonce_s,
		    uint64_t token, const struct bw_params *p, uint8_t *out)
{
	static const char label_c[16] = "bwtest/1 client";
	static const char label_s[16] = "bwtest/1 server";
	struct wbuf b = { .p = out, .len = 16 + 2 * BW_NONCE_BYTES + 8 + PARAMS_LEN };

	putn(&b, server ? label_s : label_c, 16);
	putn(&b, nonce_c, BW_NONCE_BYTES);
	putn(&b, nonce_s, BW_NONCE_BYTES);
	put64(&b, token);
	put_params(&b, p);
	return b.at;
}

void bw_data_encode(const struct bw_data_hdr *h, uint8_t *buf)
{
	struct wbuf b = { .p = buf, .len = BW_DATA_HDR };

	put8(&b, BW_DATA_MAGIC);
	put8(&b, h->dir);
	put16(&b, h->stream);
	put32(&b, h->seq);
	put64(&b, h->token);
	put64(&b, h->tx_ns);
}

int bw_data_decode(const uint8_t *buf, size_t len, struct bw_data_hdr *ret)
{
	struct rbuf b = { .p = buf, .len = len };
	struct bw_data_hdr h;

	if (len < BW_DATA_HDR || get8(&b) != BW_DATA_MAGIC)
		return -EBADMSG;
	h.dir = get8(&b);
	if (h.dir != BW_FWD && h.dir != BW_REV)
		return -EBADMSG;
	h.stream = get16(&b);
	h.seq = get32(&b);
	h.token = get64(&b);
	h.tx_ns = get64(&b);
	*ret = h;
	return 0;
}
