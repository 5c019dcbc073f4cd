/* SPDX-License-Identifier: MIT */
/*
 * The STAMP Session-Reflector (responder.h). Sockets come from sock.h; the
 * packets from stamp.h. Two fixed-size tables, both hashed with SipHash
 * (crypto_shorthash) under a random key so that nobody can aim collisions,
 * and both kept in LRU order: per-source token buckets (GCRA) and per-session
 * sequence counters.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "mp.h"
#include "args.h"
#include "auth.h"
#include "clock.h"
#include "responder.h"
#include "sock.h"
#include "stamp.h"

#define NIL UINT32_MAX

enum {
	BATCH = 32,			/* datagrams per recvmmsg() */
	BATCHES_PER_CALL = 8,		/* per socket per process() call */
	RCVBUF_BYTES = 4 << 20,		/* room for bursts at 10,000+ packets/s */
	REPLY_TTL = 255,		/* lets a sender count the hops back */
	TABLE_MAX = 1 << 20,		/* most entries of one table (72 MiB) */
};

/* How often the Error Estimate is refreshed from the kernel's NTP state. */
#define ERREST_REFRESH_NS MP_NSEC_PER_SEC

/* Reflecting services a forged source could point us at (echo, daytime,
 * qotd, chargen, time, STAMP): replying would start an endless ping-pong. */
static const uint16_t loop_ports[] = { 0, 7, 13, 17, 19, 37, MP_STAMP_PORT };

/* A table key, compared with memcmp: every octet is set. */
struct flow_key {
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint16_t port;		/* sessions: source port; sources: 0 */
	uint16_t ssid;		/* sessions: SSID; sources: 0 */
	uint16_t sock;		/* sessions: socket index; sources: 0 */
	uint8_t src[16];	/* source address (IPv4 in the first 4 octets) */
	uint8_t dst[16];	/* sessions: local address, zeros if unknown */
};

struct flow {
	struct flow_key key;
	uint32_t chain;		/* next entry of the same bucket, NIL at the end */
	uint32_t prev, next;	/* LRU neighbours: prev is more recently used */
	uint64_t last_ns;	/* last packet, CLOCK_MONOTONIC ns */
	uint64_t val;		/* sources: GCRA theoretical arrival time, ns;
				 * sessions: the next reflector Sequence Number */
};

struct table {
	struct flow *e;		/* cap entries */
	uint32_t *bucket;	/* mask + 1 chain heads */
	uint32_t mask;		/* number of buckets - 1 */
	uint32_t cap;		/* entries */
	uint32_t used;		/* entries in use */
	uint32_t free;		/* free list, linked through chain */
	uint32_t head, tail;	/* most and least recently used */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

struct rsock {
	struct mp_sock *sock;
	int fd;				/* mp_sock_fd(sock) */
	uint16_t port;			/* bound port, host order */
	struct sockaddr_storage addr;	/* bound address */
	socklen_t addr_len;
};

struct mp_responder {
	struct rsock socks[MP_RESPONDER_BIND_MAX];
	unsigned n_socks;
	int epfd;			/* epoll set of the sockets */
	struct mp_auth_key key;		/* copy of opts->key */
	bool auth;			/* authenticated mode */
	bool stateless;
	bool no_loop_check;
	uint64_t gcra_t_ns;		/* ns per packet at rate_pps; 0: no limit */
	uint64_t gcra_tau_ns;		/* burst tolerance, ns */
	uint64_t global_t_ns;		/* ns per packet at global_pps; 0: no limit */
	uint64_t global_tau_ns;		/* its burst tolerance, ns */
	uint64_t global_tat_ns;		/* its theoretical arrival time */
	uint64_t session_idle_ns;
	uint32_t max_len;
	int64_t clock_offset_ns;	/* opts->clock_offset_ns */
	struct table sources, sessions;
	uint16_t errest;		/* our Error Estimate, raw */
	uint64_t errest_mono_ns;	/* when errest was read, 0: never */
	struct mp_msg msgs[BATCH];
	uint8_t *rxbuf;			/* BATCH * max_len */
	uint8_t *txbuf;			/* max_len */
	struct mp_responder_counters cnt;
};

/* ---- tables ---- */

static int table_init(struct table *t, uint32_t cap)
{
	uint32_t i, n = 16;

	memset(t, 0, sizeof(*t));
	t->head = t->tail = t->free = NIL;
	if (!cap)
		return 0;
	while (n < cap)
		n <<= 1;
	t->e = calloc(cap, sizeof(*t->e));
	t->bucket = malloc(n * sizeof(*t->bucket));
	if (!t->e || !t->bucket)
		return -ENOMEM;
	t->mask = n - 1;
	t->cap = cap;
	for (i = 0; i < n; i++)
		t->bucket[i] = NIL;
	for (i = 0; i < cap; i++)
		t->e[i].chain = i + 1 < cap ? i + 1 : NIL;
	t->free = 0;
	return mp_auth_nonce(t->hkey, sizeof(t->hkey));
}

static void table_done(struct table *t)
{
	free(t->e);
	free(t->bucket);
	t->e = NULL;
	t->bucket = NULL;
}

static uint32_t table_hash(const struct table *t, const struct flow_key *k)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const unsigned char *)k, sizeof(*k), t->hkey);
	memcpy(&v, h, sizeof(v));
	return v & t->mask;
}

static uint32_t table_find(const struct table *t, const struct flow_key *k, uint32_t b)
{
	uint32_t i;

	for (i = t->bucket[b]; i != NIL; i = t->e[i].chain)
		if (!memcmp(&t->e[i].key, k, sizeof(*k)))
			return i;
	return NIL;
}

static void lru_unlink(struct table *t, uint32_t i)
{
	struct flow *f = &t->e[i];

	if (f->prev != NIL)
		t->e[f->prev].next = f->next;
	else
		t->head = f->next;
	if (f->next != NIL)
		t->e[f->next].prev = f->prev;
	else
		t->tail = f->prev;
}

static void lru_push(struct table *t, uint32_t i)
{
	t->e[i].prev = NIL;
	t->e[i].next = t->head;
	if (t->head != NIL)
		t->e[t->head].prev = i;
	t->head = i;
	if (t->tail == NIL)
		t->tail = i;
}

static void table_touch(struct table *t, uint32_t i, uint64_t now_ns)
{
	if (t->head != i) {
		lru_unlink(t, i);
		lru_push(t, i);
	}
	t->e[i].last_ns = now_ns;
}

static void table_remove(struct table *t, uint32_t i)
{
	uint32_t *p = &t->bucket[table_hash(t, &t->e[i].key)];

	while (*p != i)
		p = &t->e[*p].chain;
	*p = t->e[i].chain;
	lru_unlink(t, i);
	t->e[i].chain = t->free;
	t->free = i;
	t->used--;
}

/* Insert k into bucket b; the caller made sure there is a free entry. */
static uint32_t table_insert(struct table *t, const struct flow_key *k, uint32_t b,
			     uint64_t now_ns)
{
	uint32_t i = t->free;

	t->free = t->e[i].chain;
	t->e[i].key = *k;
	t->e[i].chain = t->bucket[b];
	t->e[i].last_ns = now_ns;
	t->e[i].val = 0;
	t->bucket[b] = i;
	lru_push(t, i);
	t->used++;
	return i;
}

static bool idle(const struct flow *f, uint64_t now_ns, uint64_t idle_ns)
{
	return now_ns > f->last_ns && now_ns - f->last_ns >= idle_ns;
}

/* ---- addresses ---- */

/* Address octets (into 16) and port (host order) of a sockaddr_in/in6. */
static void addr_split(const struct sockaddr_storage *ss, uint8_t out[16], uint16_t *ret_port)
{
	memset(out, 0, 16);
	*ret_port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(out, &sin->sin_addr, 4);
		*ret_port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(out, &sin6->sin6_addr, 16);
		*ret_port = ntohs(sin6->sin6_port);
	}
}

/* Not a unicast address: unspecified, limited broadcast, multicast. */
static bool addr_bad(int family, const uint8_t a[16])
{
	static const uint8_t zero[16];
	uint32_t v4;

	if (family == AF_INET) {
		memcpy(&v4, a, 4);
		v4 = ntohl(v4);
		return v4 == 0 || v4 == 0xffffffffU || (v4 >> 28) == 0xe;
	}
	return !memcmp(a, zero, 16) || a[0] == 0xff;
}

/* Whether a request may be answered at all: a unicast source on a port
 * that does not reflect, sent to a unicast address. A subnet-directed
 * broadcast is not caught here, but the reply would have to leave from that
 * address, which is not ours, and the kernel refuses it. */
static bool msg_ok(const struct mp_msg *m, const struct rsock *s)
{
	uint8_t a[16];
	uint16_t port;
	size_t i;

	if (m->src.ss_family != s->addr.ss_family)
		return false;
	addr_split(&m->src, a, &port);
	if (addr_bad(m->src.ss_family, a) || port == s->port)
		return false;
	for (i = 0; i < MP_ARRAY_SIZE(loop_ports); i++)
		if (port == loop_ports[i])
			return false;
	if (m->dst.ss_family == AF_UNSPEC)
		return true;
	addr_split(&m->dst, a, &port);
	return !addr_bad(m->dst.ss_family, a);
}

/* A sender's MBZ octets where a reflector puts its Receive Timestamp (RFC
 * 8762 sections 4.2.1 and 4.3.1: octets 16..23; 4.2.2 and 4.3.2: 32..39)
 * are not zero: this is most likely another reflector's reply, sent here
 * by a forged source address. Answering it would start a ping-pong between
 * two reflectors that never ends; the ports alone cannot rule that out when
 * both run on ports of their own. */
static bool looks_reflected(const struct mp_msg *m, bool auth)
{
	static const uint8_t zero[8];
	const uint8_t *b = m->buf;

	return memcmp(b + (auth ? 32 : 16), zero, sizeof(zero)) != 0;
}

/* ---- limits ---- */

/* The source's GCRA bucket (clock.h), found or made in the sources table. */
static bool rate_ok(struct mp_responder *r, const struct mp_msg *m, uint64_t now_ns)
{
	struct table *t = &r->sources;
	struct flow_key k;
	uint32_t b, i;
	uint16_t port;

	if (!r->gcra_t_ns)
		return true;
	memset(&k, 0, sizeof(k));
	k.family = m->src.ss_family;
	addr_split(&m->src, k.src, &port);
	b = table_hash(t, &k);
	i = table_find(t, &k, b);
	if (i == NIL) {
		if (t->free == NIL)
			table_remove(t, t->tail);	/* forget the quietest source */
		i = table_insert(t, &k, b, now_ns);
		t->e[i].val = now_ns;
	}
	table_touch(t, i, now_ns);
	return mp_gcra_take(&t->e[i].val, r->gcra_t_ns, r->gcra_tau_ns, now_ns);
}

/* The same over every source at once. */
static bool global_ok(struct mp_responder *r, uint64_t now_ns)
{
	return !r->global_t_ns ||
	       mp_gcra_take(&r->global_tat_ns, r->global_t_ns, r->global_tau_ns, now_ns);
}

/* The reflector's Sequence Number for this packet's session (RFC 8762
 * section 4, stateful mode). Returns 0 and sets *ret_seq, or -ENOSPC when
 * the table is full of sessions younger than session_idle_ns. */
static int session_seq(struct mp_responder *r, const struct mp_msg *m, unsigned sock,
		       uint16_t ssid, uint64_t now_ns, uint32_t *ret_seq)
{
	struct table *t = &r->sessions;
	struct flow_key k;
	uint32_t b, i;
	uint16_t port;

	memset(&k, 0, sizeof(k));
	k.family = m->src.ss_family;
	addr_split(&m->src, k.src, &k.port);
	addr_split(&m->dst, k.dst, &port);
	k.ssid = ssid;
	k.sock = (uint16_t)sock;
	b = table_hash(t, &k);
	i = table_find(t, &k, b);
	if (i == NIL) {
		if (t->free == NIL) {
			if (!idle(&t->e[t->tail], now_ns, r->session_idle_ns))
				return -ENOSPC;
			table_remove(t, t->tail);
		}
		i = table_insert(t, &k, b, now_ns);
	}
	table_touch(t, i, now_ns);
	*ret_seq = (uint32_t)t->e[i].val++;
	return 0;
}

static void sessions_expire(struct mp_responder *r, uint64_t now_ns)
{
	struct table *t = &r->sessions;

	while (t->tail != NIL && idle(&t->e[t->tail], now_ns, r->session_idle_ns))
		table_remove(t, t->tail);
}

/* Our Error Estimate (RFC 4656 section 4.1.2) from the kernel's NTP state:
 * its estimated error when synchronised, else its maximum error. */
static void errest_refresh(struct mp_responder *r, uint64_t now_ns)
{
	struct mp_clock_sync cs;
	struct mp_stamp_errest e = { .synced = false, .error_ns = MP_STAMP_ERROR_UNKNOWN };

	if (r->errest_mono_ns && now_ns - r->errest_mono_ns < ERREST_REFRESH_NS)
		return;
	if (mp_clock_sync_get(&cs) == 0) {
		e.synced = cs.synced;
		e.error_ns = cs.synced ? cs.est_error_ns : cs.max_error_ns;
	}
	r->errest = mp_stamp_errest_encode(&e);
	r->errest_mono_ns = now_ns ? now_ns : 1;
}

/* ---- reflecting ---- */

/* Send the reply from the address the request was sent to (IP_PKTINFO,
 * IPV6_PKTINFO), so that the sender sees the address it talked to. */
static int reply_send(struct rsock *s, const uint8_t *buf, size_t len, const struct mp_msg *m)
{
	const struct sockaddr *src = NULL;
	int ifindex = 0, n;

	if (m->dst.ss_family == s->addr.ss_family) {
		src = (const struct sockaddr *)&m->dst;
		/* a link-local address means nothing without its link */
		if (m->dst.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)&m->dst)->sin6_addr))
			ifindex = m->ifindex;
	}
	do
		n = mp_sock_send_from(s->sock, buf, len, (const struct sockaddr *)&m->src,
				      m->src_len, src, ifindex, NULL);
	while (n == -EINTR);
	return n < 0 ? n : 0;
}

/* Judge one datagram and reflect it. Returns 1 if a reply was sent, else 0
 * (and one dropped_* counter or send_errors went up). */
static int reflect(struct mp_responder *r, unsigned si, struct mp_msg *m, uint64_t now_ns,
		   uint64_t rx_fallback_ns)
{
	const struct mp_auth_key *key = r->auth ? &r->key : NULL;
	struct rsock *s = &r->socks[si];
	struct mp_stamp_test req;
	struct mp_stamp_reply rep;
	uint32_t seq;
	int rc;

	r->cnt.received++;
	if (m->truncated || m->len < MP_STAMP_BASE_LEN || m->len > r->max_len) {
		r->cnt.dropped_size++;
		return 0;
	}
	if (!msg_ok(m, s) || (!r->no_loop_check && looks_reflected(m, key != NULL))) {
		r->cnt.dropped_malformed++;
		return 0;
	}
	if (key && m->len < MP_STAMP_AUTH_BASE_LEN) {
		r->cnt.dropped_auth++;
		return 0;
	}
	/* the limit comes before the HMAC: it is there to protect the CPU too */
	if (!rate_ok(r, m, now_ns)) {
		r->cnt.dropped_ratelimit++;
		return 0;
	}
	/* after the source's own limit, so a flooding source is cut by its
	 * own bucket first and spends little of everyone's */
	if (!global_ok(r, now_ns)) {
		r->cnt.dropped_global++;
		return 0;
	}
	rc = mp_stamp_test_decode(m->buf, m->len, key, &req);
	if (rc < 0) {
		if (rc == -EBADMSG)
			r->cnt.dropped_auth++;
		else
			r->cnt.dropped_malformed++;
		return 0;
	}
	/* only authentic packets may create sessions or move their counters */
	if (r->stateless) {
		seq = req.seq;
	} else if (session_seq(r, m, si, req.ssid, now_ns, &seq) < 0) {
		r->cnt.dropped_sessions++;
		return 0;
	}
	rep = (struct mp_stamp_reply){
		.seq = seq,
		.errest = r->errest,
		.ssid = req.ssid,
		.rx_ts = mp_ntp_from_real_ns((m->rx_ns ? m->rx_ns : rx_fallback_ns) +
					     (uint64_t)r->clock_offset_ns),
		.sender_seq = req.seq,
		.sender_ts = req.ts,
		.sender_errest = req.errest,
		.sender_ttl = m->ttl < 0 ? 0 : (uint8_t)m->ttl,
	};
	/* the reply is exactly as long as the request: never an amplifier */
	rc = mp_stamp_reply_encode(&rep, key, m->len, r->txbuf, r->max_len);
	/* T3 as late as possible: after it only the HMAC and sendmsg() */
	if (rc >= 0)
		rc = mp_stamp_reply_ts_set(r->txbuf, m->len, key,
					   mp_ntp_from_real_ns(mp_clock_real_ns() +
							       (uint64_t)r->clock_offset_ns));
	if (rc >= 0)
		rc = reply_send(s, r->txbuf, m->len, m);
	if (rc < 0) {
		r->cnt.send_errors++;
		return 0;
	}
	r->cnt.reflected++;
	return 1;
}

int mp_responder_process(struct mp_responder *r, uint64_t now_mono_ns)
{
	int n, sent = 0, err = 0;
	unsigned i, b, j;

	if (!r)
		return -EINVAL;
	errest_refresh(r, now_mono_ns);
	sessions_expire(r, now_mono_ns);
	for (i = 0; i < r->n_socks; i++) {
		for (b = 0; b < BATCHES_PER_CALL; b++) {
			uint64_t rx_fallback_ns;

			n = mp_sock_recv_batch(r->socks[i].sock, r->msgs, BATCH);
			if (n == -EINTR)
				continue;
			if (n == -EAGAIN)
				break;
			if (n < 0) {
				err = err ? err : n;
				break;
			}
			/* only if the kernel gave no RX stamp (it always should) */
			rx_fallback_ns = mp_clock_real_ns();
			for (j = 0; j < (unsigned)n; j++)
				sent += reflect(r, i, &r->msgs[j], now_mono_ns, rx_fallback_ns);
			if (n < BATCH)
				break;
		}
	}
	r->cnt.sessions = r->sessions.used;
	return err < 0 ? err : sent;
}

/* ---- set-up ---- */

static int sock_add(struct mp_responder *r, const struct sockaddr_storage *addr,
		    const struct mp_responder_opts *o)
{
	struct rsock *s = &r->socks[r->n_socks];
	struct sockaddr_storage a = *addr;
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t len;
	uint8_t ignored[16];
	int rc;

	rc = mp_addr_port_set(&a, o->port);
	if (rc < 0)
		return -EINVAL;
	len = (socklen_t)rc;
	rc = mp_sock_open(&s->sock, a.ss_family, SOCK_DGRAM, IPPROTO_UDP,
			  /* TX stamps would be queued for every reply, taking the
			   * receive buffer that requests need: RX only */
			  MP_SOCK_TS_RX | MP_SOCK_NONBLOCK | MP_SOCK_PKTINFO | MP_SOCK_RECV_TTL);
	if (rc < 0)
		return rc;
	s->fd = mp_sock_fd(s->sock);
	rc = mp_sock_ttl_set(s->sock, REPLY_TTL);
	if (rc >= 0) {
		/* best effort: a smaller buffer only drops bursts earlier */
		mp_sock_buf_set(s->sock, RCVBUF_BYTES, 0);
		rc = mp_sock_bind(s->sock, (struct sockaddr *)&a, len, o->ifname);
	}
	if (rc >= 0)
		rc = mp_sock_name_get(s->sock, &s->addr, &s->addr_len);
	if (rc >= 0) {
		addr_split(&s->addr, ignored, &s->port);
		ev.data.u32 = r->n_socks;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
			rc = -errno;
	}
	if (rc < 0) {
		mp_sock_free(s->sock);
		s->sock = NULL;
		return rc;
	}
	r->n_socks++;
	return 0;
}

static int socks_open(struct mp_responder *r, const struct mp_responder_opts *o)
{
	struct sockaddr_storage any[2];
	unsigned i, n = 0;
	int rc = 0;

	if (o->n_bind) {
		for (i = 0; i < o->n_bind; i++) {
			rc = sock_add(r, &o->bind[i], o);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	memset(any, 0, sizeof(any));
	if (o->family != AF_INET) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&any[n++];

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
	}
	if (o->family != AF_INET6) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&any[n++];

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	}
	for (i = 0; i < n; i++) {
		rc = sock_add(r, &any[i], o);
		/* a host without IPv6 (or IPv4) still serves the other one */
		if (rc < 0 && o->family == AF_UNSPEC &&
		    (rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL))
			continue;
		if (rc < 0)
			return rc;
	}
	return r->n_socks ? 0 : rc;
}

static int opts_check(const struct mp_responder_opts *o)
{
	uint32_t min_len = o->key ? MP_STAMP_AUTH_BASE_LEN : MP_STAMP_BASE_LEN;

	if (o->n_bind > MP_RESPONDER_BIND_MAX ||
	    (o->family != AF_UNSPEC && o->family != AF_INET && o->family != AF_INET6) ||
	    (o->key && !o->key->set) || o->max_len < min_len || o->max_len > MP_STAMP_MAX_LEN)
		return -EINVAL;
	if (o->rate_pps && (!o->burst || !o->max_sources || o->max_sources > TABLE_MAX))
		return -EINVAL;
	if (o->global_pps && !o->global_burst)
		return -EINVAL;
	if (!o->stateless && (!o->max_sessions || o->max_sessions > TABLE_MAX))
		return -EINVAL;
	return 0;
}

int mp_responder_new(struct mp_responder **ret, const struct mp_responder_opts *o)
{
	struct mp_responder *r;
	unsigned i;
	int rc;

	if (!ret || !o)
		return -EINVAL;
	rc = opts_check(o);
	if (rc < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->epfd = -1;
	r->stateless = o->stateless;
	r->no_loop_check = o->no_loop_check;
	r->session_idle_ns = o->session_idle_ns;
	r->max_len = o->max_len;
	r->clock_offset_ns = o->clock_offset_ns;
	if (o->key) {
		r->key = *o->key;
		r->auth = true;
	}
	if (o->rate_pps) {
		r->gcra_t_ns = MP_MAX(MP_NSEC_PER_SEC / o->rate_pps, 1);
		r->gcra_tau_ns = r->gcra_t_ns * (o->burst - 1);
	}
	if (o->global_pps) {
		r->global_t_ns = MP_MAX(MP_NSEC_PER_SEC / o->global_pps, 1);
		r->global_tau_ns = r->global_t_ns * (o->global_burst - 1);
	}
	rc = table_init(&r->sources, o->rate_pps ? o->max_sources : 0);
	if (rc >= 0)
		rc = table_init(&r->sessions, o->stateless ? 0 : o->max_sessions);
	if (rc < 0)
		goto out;
	r->rxbuf = malloc((size_t)BATCH * o->max_len);
	r->txbuf = malloc(o->max_len);
	if (!r->rxbuf || !r->txbuf) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < BATCH; i++) {
		r->msgs[i].buf = r->rxbuf + (size_t)i * o->max_len;
		r->msgs[i].buf_len = o->max_len;
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0) {
		rc = -errno;
		goto out;
	}
	rc = socks_open(r, o);
out:
	if (rc < 0) {
		mp_responder_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void mp_responder_free(struct mp_responder *r)
{
	unsigned i;

	if (!r)
		return;
	for (i = 0; i < r->n_socks; i++)
		mp_sock_free(r->socks[i].sock);
	if (r->epfd >= 0)
		close(r->epfd);
	table_done(&r->sources);
	table_done(&r->sessions);
	free(r->rxbuf);
	free(r->txbuf);
	mp_auth_key_done(&r->key);
	free(r);
}

int mp_responder_fd(const struct mp_responder *r)
{
	return r ? r->epfd : -EINVAL;
}

void mp_responder_counters_get(const struct mp_responder *r, struct mp_responder_counters *ret)
{
	*ret = r->cnt;
	ret->sessions = r->sessions.used;
}

int mp_responder_addr_get(const struct mp_responder *r, unsigned i,
			  struct sockaddr_storage *ret_addr, socklen_t *ret_len)
{
	if (!r || !ret_addr || !ret_len)
		return -EINVAL;
	if (i >= r->n_socks)
		return -ENOENT;
	*ret_addr = r->socks[i].addr;
	*ret_len = r->socks[i].addr_len;
	return 0;
}
