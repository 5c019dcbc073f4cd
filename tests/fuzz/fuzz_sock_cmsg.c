/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the ancillary-data and error-queue parsers of
 * lib/sock.c: cmsg_parse() (timestamps, TTL / hop limit, TOS / traffic
 * class, PKTINFO, GRO, RXQ_OVFL, sock_extended_err with its offender) as
 * rx_finish() runs it for mp_sock_recv() and mp_sock_recv_batch(), and
 * errq_finish() / errq_batch_finish() as mp_sock_errqueue_read() and
 * mp_sock_errqueue_read_batch() run them.
 *
 * Input: up to MP_SOCK_BATCH_MAX records, each as recorded by
 * build/lab/mp-fuzzrec (tests/fuzz/record.sh): u8 flags (1 error queue,
 * 2 MSG_TRUNC, 4 MSG_CTRUNC), u8 name bytes, u16 control bytes, u16 payload
 * bytes (little endian), then the name, the control data and the payload.
 * Every record goes through both paths whatever its flag 1; control data and
 * payload each sit in a buffer of exactly their size.
 *
 * Properties: received-datagram fields hold their documented ranges (TTL and
 * TOS -1..255, dst AF_UNSPEC/INET/INET6 with the ifindex); error-queue
 * entries are TSTAMP or ERROR with a known origin, an offender of a known
 * family or none, payload_len within buf_len; and the batch reader stores
 * exactly the entries the one-at-a-time reader reports, in order, each with
 * the first bytes of its own quoted payload.
 */
#include "sock.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
	struct sockaddr_storage name;
	void *ctrl;
	uint8_t *payload;
	const uint8_t *src;	/* the payload in the input: never moved */
};

static void check_ss(const struct sockaddr_storage *ss)
{
	if (ss->ss_family != AF_UNSPEC && ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		abort();
}

static void check_msg(const struct mp_msg *m)
{
	if (m->ttl < -1 || m->ttl > 255 || m->tos < -1 || m->tos > 255)
		abort();
	if (m->dst.ss_family != AF_UNSPEC && m->dst.ss_family != AF_INET &&
	    m->dst.ss_family != AF_INET6)
		abort();
	if (m->dst.ss_family == AF_UNSPEC && m->ifindex)
		abort();
	if (m->rx_hw && !m->rx_ns)
		abort();
}

static void check_errq(const struct mp_errq *e)
{
	if (e->kind == MP_ERRQ_TSTAMP) {
		if (!e->ts_ns)
			abort();
		return;
	}
	if (e->kind != MP_ERRQ_ERROR ||
	    (e->origin != MP_EE_LOCAL && e->origin != MP_EE_ICMP && e->origin != MP_EE_ICMP6) ||
	    e->payload_len > e->buf_len || e->ttl < -1 || e->ttl > 255)
		abort();
	check_ss(&e->offender);
}

/* Everything but the buffer and its use, which the caller compares. */
static bool errq_same(const struct mp_errq *a, const struct mp_errq *b)
{
	return a->kind == b->kind && a->tx_id == b->tx_id && a->ts_ns == b->ts_ns &&
	       a->hw == b->hw && a->ee_errno == b->ee_errno && a->origin == b->origin &&
	       a->ee_type == b->ee_type && a->ee_code == b->ee_code && a->ee_info == b->ee_info &&
	       !memcmp(&a->offender, &b->offender, sizeof(a->offender)) &&
	       !memcmp(&a->dst, &b->dst, sizeof(a->dst)) && a->ttl == b->ttl;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mmsghdr mm[MP_SOCK_BATCH_MAX];
	static struct rec rec[MP_SOCK_BATCH_MAX];
	static struct mp_errq e[MP_SOCK_BATCH_MAX], one[MP_SOCK_BATCH_MAX];
	static struct iovec iov[MP_SOCK_BATCH_MAX];
	static unsigned from[MP_SOCK_BATCH_MAX];
	unsigned n = 0, n_one = 0, k, i;
	size_t off = 0;

	while (n < MP_SOCK_BATCH_MAX && size - off >= 6) {
		const uint8_t *h = data + off;
		size_t name_len = h[1], ctrl_len = get16(h + 2), pl = get16(h + 4);
		struct msghdr *mh = &mm[n].msg_hdr;
		struct rec *r = &rec[n];

		off += 6;
		if (size - off < name_len + ctrl_len + pl)
			break;
		memset(&r->name, 0, sizeof(r->name));
		memcpy(&r->name, data + off, MP_MIN(name_len, sizeof(r->name)));
		off += name_len;
		r->ctrl = malloc(ctrl_len ? ctrl_len : 1);
		r->payload = malloc(pl ? pl : 1);
		if (!r->ctrl || !r->payload)
			abort();
		memcpy(r->ctrl, data + off, ctrl_len);
		off += ctrl_len;
		memcpy(r->payload, data + off, pl);
		r->src = data + off;
		off += pl;
		iov[n] = (struct iovec){ .iov_base = r->payload, .iov_len = pl };
		/* the kernel reports the address's whole length, however long */
		*mh = (struct msghdr){
			.msg_name = &r->name, .msg_namelen = (socklen_t)name_len,
			.msg_iov = &iov[n], .msg_iovlen = 1,
			.msg_control = ctrl_len ? r->ctrl : NULL, .msg_controllen = ctrl_len,
			.msg_flags = (h[0] & 2 ? MSG_TRUNC : 0) | (h[0] & 4 ? MSG_CTRUNC : 0),
		};
		mm[n].msg_len = (unsigned)pl;
		n++;
	}

	for (i = 0; i < n; i++) {
		struct mp_msg m = { .buf = rec[i].payload, .buf_len = iov[i].iov_len };
		struct mp_errq x = { .buf = rec[i].payload, .buf_len = iov[i].iov_len };

		rx_finish(&mm[i].msg_hdr, &m, mm[i].msg_len);
		check_msg(&m);
		if (m.len != mm[i].msg_len || m.src_len != mm[i].msg_hdr.msg_namelen)
			abort();
		if (errq_finish(&mm[i].msg_hdr, &x, mm[i].msg_len)) {
			check_errq(&x);
			from[n_one] = i;
			one[n_one++] = x;
		}
	}

	/* The batch reader: same entries, each slot with its own buffer. */
	for (i = 0; i < n; i++)
		e[i] = (struct mp_errq){ .buf = rec[i].payload, .buf_len = iov[i].iov_len };
	k = errq_batch_finish(mm, e, n);
	if (k != n_one)
		abort();
	for (i = 0; i < k; i++) {
		check_errq(&e[i]);
		if (!errq_same(&e[i], &one[i]))
			abort();
		if (e[i].kind != MP_ERRQ_ERROR)
			continue;
		/* slot i holds the first bytes its entry quoted */
		if (e[i].payload_len != MP_MIN(one[i].payload_len, e[i].buf_len) ||
		    e[i].truncated != (one[i].truncated || one[i].payload_len > e[i].buf_len) ||
		    memcmp(e[i].buf, rec[from[i]].src, e[i].payload_len))
			abort();
	}
	for (i = 0; i < n; i++) {
		free(rec[i].ctrl);
		free(rec[i].payload);
	}
	return 0;
}
