/* SPDX-License-Identifier: MIT */
/*
 * bwtest -s: one epoll loop, non-blocking sockets, per-session state.
 *
 * Every client gets a session: its TCP control connection, its token, its
 * forward receiver and reverse sender. UDP data arrives on one socket per
 * family (port 5121) and is matched to a session by token AND source address
 * (the address that completed the handshake); everything else is dropped and
 * counted. Reverse data goes only to that address, at the UDP port the
 * client named in its authenticated HELLO. Waits use epoll_pwait2() with a
 * nanosecond timeout computed from absolute CLOCK_MONOTONIC deadlines.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bwtest.h"
#include "admit.h"
#include "clock.h"

enum {
	RX_MSGS = 32,			/* datagrams per recvmmsg */
	RX_BUF = 65536,			/* per datagram: GRO may coalesce */
	RX_ROUNDS = 16,			/* recvmmsg calls per wake-up per socket */
	ACCEPTS = 32,			/* accept4 calls per wake-up per socket: a source
					 * that reconnects as fast as it is dropped would
					 * keep the loop (and the dropped, not yet freed
					 * sessions) growing for ever */
	OUT_MAX = 8192,			/* control bytes queued per session */
	SOCK_BUF = 8 << 20,		/* UDP socket buffers */
};

#define START_NS (5ULL * MP_NSEC_PER_SEC)	/* ACCEPT to START, and RESULT to close */
#define OVERRUN_NS (10ULL * MP_NSEC_PER_SEC)	/* past the end without STOP */

enum sess_state {
	S_HELLO,	/* waiting for HELLO */
	S_AUTH,		/* CHALLENGE sent, waiting for AUTH */
	S_READY,	/* ACCEPT sent, waiting for START */
	S_RUN,		/* data phase */
	S_GRACE,	/* STOP received: in-flight packets may still come */
	S_DONE,		/* RESULT queued; closing */
};

enum { TAG_LISTEN = 1, TAG_UDP, TAG_SESS };

struct tag {
	int kind;	/* TAG_* */
	int idx;	/* listen/udp socket index */
	struct sess *s;
};

struct sess {
	struct tag tag;
	int fd;				/* TCP control */
	unsigned id;			/* session number, from 1 */
	enum sess_state st;
	struct sockaddr_storage peer;	/* TCP peer */
	socklen_t peer_len;
	struct sockaddr_storage udp_dst;	/* peer address, client's UDP port */
	int fam;			/* 0: IPv4, 1: IPv6 (which UDP socket) */
	uint8_t nonce_c[BW_NONCE_BYTES], nonce_s[BW_NONCE_BYTES];
	struct bw_params req, granted;
	uint64_t token;
	struct bw_tx *tx;		/* reverse sender, or NULL */
	struct bw_rx *rx;		/* forward receiver, or NULL */
	uint64_t deadline_ns;		/* handshake / overrun / grace end */
	uint64_t start_ns, end_ns, stop_ns;
	uint64_t iv_next_ns;		/* next REPORT, 0: none */
	uint64_t mark_next_ns;		/* next bw_rx_mark(), half an interval earlier */
	uint64_t iv_start_ns;		/* since start_ns */
	uint16_t n_fwd_seq;
	uint32_t fwd_seq[BW_STREAMS_MAX];	/* from STOP */
	uint8_t in[2 * BW_CTRL_MAX];
	size_t in_len;
	uint8_t out[OUT_MAX];
	size_t out_len;
	bool closing;			/* close once out is flushed */
	bool reported;			/* its record was written */
	bool accepted;			/* authenticated and admitted: a session */
	uint32_t adm;			/* its admission slot, MP_ADMIT_NONE: none */
	struct sess *next;
};

struct server {
	const struct bw_opts *o;
	struct mp_writer *w;
	struct mp_auth_key key;
	bool auth;
	struct mp_admit *adm;		/* pending pool and session slots */
	uint64_t now;			/* CLOCK_MONOTONIC of this turn of the loop */
	uint64_t next_status_ns;	/* --interval-report: the next status record is due */
	int ep;
	int lfd[2];
	struct tag ltag[2];
	struct mp_sock *udp[2];
	struct tag utag[2];
	struct sess *sessions;
	unsigned n_sessions, next_id;
	struct sess *last_hit;		/* token cache */
	struct sess *spare;		/* freed sessions kept for reuse (linked by next) */
	unsigned n_spare;
	struct mp_msg *msgs;
	uint8_t *rxbuf;
	/* counters for the summary */
	uint64_t accepted, rejected_busy, rejected_auth, rejected_proto, completed;
	uint64_t rejects_written;
	uint64_t udp_received, udp_dropped_token, udp_dropped_addr, udp_dropped_malformed;
};

volatile sig_atomic_t bw_stop_flag;

static int listen_open(struct server *sv, int idx, int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1, r;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (sv->o->ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sv->o->ifname,
					(socklen_t)strlen(sv->o->ifname)) < 0) {
		r = -errno;
		goto fail;
	}
	len = (socklen_t)mp_addr_any(family, sv->o->port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		goto fail;
	}
	sv->lfd[idx] = fd;
	return 0;
fail:
	close(fd);
	return r;
}

static int udp_open(struct server *sv, int idx, int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int r;

	r = mp_sock_open(&sv->udp[idx], family, SOCK_DGRAM, 0,
			 MP_SOCK_NONBLOCK | MP_SOCK_TS_RX);
	if (r < 0)
		return r;
	len = (socklen_t)mp_addr_any(family, sv->o->port, &ss);
	r = mp_sock_bind(sv->udp[idx], (struct sockaddr *)&ss, len, sv->o->ifname);
	if (r < 0)
		return r;
	mp_sock_buf_set(sv->udp[idx], SOCK_BUF, SOCK_BUF);
	mp_sock_gro_set(sv->udp[idx], true);
	return 0;
}

static int ep_add(struct server *sv, int fd, uint32_t events, struct tag *t)
{
	struct epoll_event ev = { .events = events, .data.ptr = t };

	return epoll_ctl(sv->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void sess_flush(struct server *sv, struct sess *s)
{
	ssize_t n;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->tag };

	while (s->out_len) {
		n = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			s->out_len = 0;
			s->closing = true;
			return;
		}
		memmove(s->out, s->out + n, s->out_len - (size_t)n);
		s->out_len -= (size_t)n;
	}
	if (s->out_len)
		ev.events |= EPOLLOUT;
	epoll_ctl(sv->ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void sess_send(struct server *sv, struct sess *s, const struct bw_msg *m)
{
	int n;

	if (s->out_len + BW_CTRL_MAX > sizeof(s->out)) {
		s->closing = true;	/* the client does not read its control channel */
		return;
	}
	n = bw_msg_encode(m, s->out + s->out_len, sizeof(s->out) - s->out_len);
	if (n > 0)
		s->out_len += (size_t)n;
	sess_flush(sv, s);
}

/* A `reject` record: a connection refused or dropped before it became a
 * session. Rate-limited (a flood must not flood the log too); each record
 * says how many were left out before it. */
static void reject_record(struct server *sv, const struct sockaddr_storage *peer,
			  const char *reason)
{
	char addr[MP_ADDR_PORT_STRLEN];
	struct mp_writer *w = sv->w;
	uint64_t suppressed;

	if (!mp_admit_log_ok(sv->adm, sv->now, &suppressed))
		return;
	if (mp_addr_to_str_port((const struct sockaddr *)peer, addr, sizeof(addr)) < 0)
		addr[0] = '\0';
	sv->rejects_written++;
	mp_record_begin(w, "reject");
	mp_put_str(w, "peer", "%s", addr);
	mp_put_str(w, "reason", "%s", reason);
	mp_put_u64(w, "suppressed", "(%" PRIu64 " not written before)", suppressed);
	mp_record_end(w);
}

static const char *const rej_names[] = {
	[BW_REJ_PROTO] = "protocol", [BW_REJ_AUTH] = "auth", [BW_REJ_BUSY] = "busy",
	[BW_REJ_PARAMS] = "params",
};

/* Send REJECT and close. Before ACCEPT it is a `reject` record (why: the
 * admission reason if any, else the code's name); after, the session's
 * record says it did not complete. */
static void sess_reject_why(struct server *sv, struct sess *s, uint16_t code, const char *why,
			    const char *reason)
{
	struct bw_msg m = { .type = BW_MSG_REJECT, .code = code };

	snprintf(m.reason, sizeof(m.reason), "%s", why);
	sess_send(sv, s, &m);
	if (!s->out_len && s->fd >= 0) {
		/* REJECT is out: the connection goes now, not after this epoll
		 * batch, so that a flooding source never holds more than its
		 * caps (the struct lives on until service() frees it) */
		close(s->fd);
		s->fd = -1;
	}
	if (!s->accepted)
		reject_record(sv, &s->peer, reason ? reason : rej_names[code]);
	s->st = S_DONE;
	s->closing = true;
	s->deadline_ns = sv->now + MP_NSEC_PER_SEC;	/* to flush REJECT */
	if (code == BW_REJ_AUTH)
		sv->rejected_auth++;
	else if (code == BW_REJ_BUSY)
		sv->rejected_busy++;
	else
		sv->rejected_proto++;
}

static void sess_reject(struct server *sv, struct sess *s, uint16_t code, const char *why)
{
	sess_reject_why(sv, s, code, why, NULL);
}

/* Clamp the request to the server's caps. */
static int grant(const struct server *sv, const struct bw_params *q, struct bw_params *g)
{
	uint64_t cap_bps = sv->o->max_rate_bps, cap_ns = sv->o->max_duration_ns;
	uint64_t bits = (uint64_t)q->payload_bytes * 8, bps;

	if (!sv->auth) {
		cap_bps = MP_MIN(cap_bps, BW_NOAUTH_RATE_BPS);
		cap_ns = MP_MIN(cap_ns, BW_NOAUTH_DURATION_NS);
		if (q->streams > BW_NOAUTH_STREAMS)
			return -EINVAL;	/* each stream costs ~270 KiB of state */
	}
	if (!q->dirs || (q->dirs & ~(BW_FWD | BW_REV)) || !q->streams ||
	    q->streams > BW_STREAMS_MAX || q->payload_bytes < BW_PAYLOAD_MIN ||
	    !q->udp_port || !q->duration_ns ||
	    (q->interval_ns && q->interval_ns < 10 * MP_NSEC_PER_MSEC))
		return -EINVAL;
	*g = *q;
	bps = q->pps ? (q->pps > UINT64_MAX / bits ? UINT64_MAX : q->pps * bits) : q->rate_bps;
	if (!bps || bps > cap_bps)
		bps = cap_bps;
	g->rate_bps = bps;
	g->pps = q->pps && q->pps * bits <= bps ? q->pps : 0;
	g->duration_ns = MP_MIN(q->duration_ns, cap_ns);
	return 0;
}

static double pps_of(const struct bw_params *p)
{
	return p->pps ? (double)p->pps : (double)p->rate_bps / (p->payload_bytes * 8.0);
}

static void on_hello(struct server *sv, struct sess *s, const struct bw_msg *m)
{
	struct bw_msg c = { .type = BW_MSG_CHALLENGE, .flags = sv->auth ? 0 : BW_CH_NOAUTH };

	memcpy(s->nonce_c, m->nonce, BW_NONCE_BYTES);
	s->req = m->params;
	if (mp_auth_nonce(s->nonce_s, BW_NONCE_BYTES) < 0)
		return sess_reject(sv, s, BW_REJ_PROTO, "server error: no randomness");
	memcpy(c.nonce, s->nonce_s, BW_NONCE_BYTES);
	s->st = S_AUTH;
	sess_send(sv, s, &c);
}

static void on_auth(struct server *sv, struct sess *s, const struct bw_msg *m)
{
	uint8_t in[128];
	struct bw_msg a = { .type = BW_MSG_ACCEPT };
	size_t n;
	int r;

	if (sv->auth) {
		n = bw_mac_input(false, s->nonce_c, s->nonce_s, 0, &s->req, in);
		if (mp_auth_verify(&sv->key, in, n, m->mac) < 0)
			return sess_reject(sv, s, BW_REJ_AUTH,
					   "authentication failed: wrong key");
	}
	if (grant(sv, &s->req, &s->granted) < 0)
		return sess_reject(sv, s, BW_REJ_PARAMS, "invalid session parameters");
	/* Only now, authenticated, does it take a session slot. */
	r = mp_admit_auth(sv->adm, &s->adm, s->granted.rate_bps *
			  (unsigned)__builtin_popcount(s->granted.dirs));
	if (r != MP_ADMIT_OK)
		return sess_reject_why(sv, s, BW_REJ_BUSY,
				       r == MP_ADMIT_SESSIONS_SOURCE ?
				       "server busy: session limit per source reached" :
				       r == MP_ADMIT_BUDGET ?
				       "server busy: open-mode bandwidth budget used up" :
				       "server busy: session limit reached",
				       mp_admit_reason_name(r));
	do {
		if (mp_auth_nonce(&s->token, sizeof(s->token)) < 0)
			return sess_reject(sv, s, BW_REJ_PROTO, "server error: no randomness");
	} while (!s->token);
	s->udp_dst = s->peer;
	mp_addr_port_set(&s->udp_dst, s->granted.udp_port);
	r = 0;
	if (s->granted.dirs & BW_FWD)
		r = bw_rx_new(&s->rx, BW_FWD, s->token, s->granted.streams);
	if (r == 0 && (s->granted.dirs & BW_REV))
		r = bw_tx_new(&s->tx, sv->udp[s->fam], (struct sockaddr *)&s->udp_dst,
			      s->peer_len, BW_REV, s->token, s->granted.streams,
			      s->granted.payload_bytes, pps_of(&s->granted), false);
	if (r < 0)
		return sess_reject(sv, s, BW_REJ_PARAMS, "cannot set up the session");
	a.token = s->token;
	a.params = s->granted;
	if (sv->auth) {
		n = bw_mac_input(true, s->nonce_c, s->nonce_s, s->token, &s->granted, in);
		mp_auth_hmac(&sv->key, in, n, a.mac);
	}
	s->st = S_READY;
	s->accepted = true;
	s->deadline_ns = sv->now + START_NS;
	sv->accepted++;
	sess_send(sv, s, &a);
}

static void on_start(struct sess *s, uint64_t now)
{
	s->st = S_RUN;
	s->start_ns = now;
	s->end_ns = now + s->granted.duration_ns;
	s->deadline_ns = s->end_ns + OVERRUN_NS;
	if (s->tx)
		bw_tx_start(s->tx, now, s->end_ns);
	if (s->rx && s->granted.interval_ns) {
		s->iv_next_ns = now + s->granted.interval_ns;
		s->mark_next_ns = s->iv_next_ns - s->granted.interval_ns / 2;
	}
}

static void on_stop(struct server *sv, struct sess *s, const struct bw_msg *m, uint64_t now)
{
	if (m->n_seq != (s->rx ? s->granted.streams : 0))
		return sess_reject(sv, s, BW_REJ_PROTO, "STOP: wrong number of streams");
	s->n_fwd_seq = m->n_seq;
	memcpy(s->fwd_seq, m->next_seq, sizeof(uint32_t) * m->n_seq);
	if (s->tx)
		bw_tx_stop(s->tx, now);
	s->stop_ns = now;
	s->st = S_GRACE;
	s->deadline_ns = now + BW_GRACE_NS;
}

static void send_report(struct server *sv, struct sess *s, uint64_t now)
{
	struct bw_msg m = { .type = BW_MSG_REPORT };
	uint64_t end = now - s->start_ns;

	/* An empty last interval (STOP right at a boundary) is not worth a line. */
	if (bw_rx_interval(s->rx, s->iv_start_ns, end, &m.iv) == 0 &&
	    (s->st == S_RUN || m.iv.received || m.iv.lost || m.iv.duplicates || m.iv.late ||
	     2 * (end - s->iv_start_ns) >= s->granted.interval_ns))
		sess_send(sv, s, &m);
	s->iv_start_ns = end;
}

static void sess_record(struct server *sv, struct sess *s, const struct bw_rx_counts *c,
			bool complete)
{
	char addr[MP_ADDR_PORT_STRLEN];
	struct mp_writer *w = sv->w;
	uint64_t span = s->stop_ns > s->start_ns ? s->stop_ns - s->start_ns : 0;

	if (s->reported || !s->accepted)
		return;
	s->reported = true;
	if (mp_addr_to_str_port((struct sockaddr *)&s->peer, addr, sizeof(addr)) < 0)
		addr[0] = '\0';
	mp_record_begin(w, "session");
	mp_put_u64(w, "id", "%" PRIu64, s->id);
	mp_put_str(w, "peer", "%s", addr);
	mp_put_bool(w, "complete", "%s", complete);
	mp_put_str(w, "mode", "%s", s->granted.dirs == (BW_FWD | BW_REV) ? "bidir" :
		   s->granted.dirs == BW_REV ? "reverse" : "forward");
	mp_put_u64(w, "streams", "%" PRIu64, s->granted.streams);
	mp_put_u64(w, "granted_rate_bps", "%" PRIu64, s->granted.rate_bps);
	mp_put_f64(w, "duration_ms", "%.0f", MP_NS_TO_MS(span));
	mp_put_u64(w, "rx_expected", "%" PRIu64, c ? c->expected : 0);
	mp_put_u64(w, "rx_received", "%" PRIu64, c ? c->received : 0);
	mp_put_u64(w, "rx_lost", "%" PRIu64, c ? c->lost : 0);
	mp_put_u64(w, "rx_duplicates", "%" PRIu64, c ? c->duplicates : 0);
	mp_put_u64(w, "rx_reordered", "%" PRIu64, c ? c->reordered : 0);
	mp_put_u64(w, "tx_sent", "%" PRIu64, bw_tx_sent(s->tx));
	mp_record_end(w);
}

static void finish(struct server *sv, struct sess *s)
{
	struct bw_msg m = { .type = BW_MSG_RESULT };
	int r = 0;

	if (s->rx) {
		r = bw_rx_finish(s->rx, s->fwd_seq, s->n_fwd_seq);
		if (r == 0 && s->granted.interval_ns)
			send_report(sv, s, s->stop_ns);	/* the last, partial interval */
		if (r == 0)
			r = bw_rx_counts(s->rx, &m.rx);
	}
	if (r < 0)
		return sess_reject(sv, s, BW_REJ_PROTO, "STOP: bad sequence numbers");
	if (s->tx) {
		m.n_seq = (uint16_t)bw_tx_streams(s->tx);
		for (unsigned i = 0; i < m.n_seq; i++)
			m.next_seq[i] = bw_tx_next_seq(s->tx, i);
	}
	sess_send(sv, s, &m);
	sv->completed++;
	sess_record(sv, s, s->rx ? &m.rx : NULL, true);
	s->st = S_DONE;
	s->deadline_ns = sv->now + START_NS;	/* for the client to close */
}

static void on_msg(struct server *sv, struct sess *s, const struct bw_msg *m, uint64_t now)
{
	if (m->type == BW_MSG_HELLO && s->st == S_HELLO)
		on_hello(sv, s, m);
	else if (m->type == BW_MSG_AUTH && s->st == S_AUTH)
		on_auth(sv, s, m);
	else if (m->type == BW_MSG_START && s->st == S_READY)
		on_start(s, now);
	else if (m->type == BW_MSG_STOP && s->st == S_RUN)
		on_stop(sv, s, m, now);
	else
		sess_reject(sv, s, BW_REJ_PROTO, "unexpected message");
}

static void sess_read(struct server *sv, struct sess *s, uint64_t now)
{
	struct bw_msg m;
	ssize_t n;
	int len;

	for (;;) {
		n = recv(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			s->closing = true;
			s->out_len = 0;
			return;
		}
		s->in_len += (size_t)n;
		while ((len = bw_msg_frame(s->in, s->in_len)) > 0 && !s->closing) {
			if (bw_msg_decode(s->in, (size_t)len, &m) < 0) {
				sess_reject(sv, s, BW_REJ_PROTO, "malformed message");
				return;
			}
			on_msg(sv, s, &m, now);
			if (s->closing)
				return;
			memmove(s->in, s->in + len, s->in_len - (size_t)len);
			s->in_len -= (size_t)len;
		}
		if (len < 0) {
			sess_reject(sv, s, BW_REJ_PROTO, "bad message length or version");
			return;
		}
	}
}

static void sess_free(struct server *sv, struct sess *s)
{
	struct sess **pp;

	if (s->accepted && s->st >= S_RUN && !s->reported) {
		struct bw_rx_counts c;

		if (s->rx && bw_rx_counts(s->rx, &c) == 0)
			sess_record(sv, s, &c, false);
		else
			sess_record(sv, s, NULL, false);
	}
	for (pp = &sv->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (sv->last_hit == s)
		sv->last_hit = NULL;
	sv->n_sessions--;
	mp_admit_close(sv->adm, s->adm);
	if (s->fd >= 0)
		close(s->fd);
	bw_tx_free(s->tx);
	bw_rx_free(s->rx);
	/* Kept for the next connection, up to the pools' size: a flood of
	 * connections then reuses the same memory instead of churning the
	 * heap under the sessions' large receiver state. */
	if (sv->n_spare < sv->o->max_pending + sv->o->max_sessions) {
		s->next = sv->spare;
		sv->spare = s;
		sv->n_spare++;
	} else {
		free(s);
	}
}

/* Drop the pending connection the pool gave up for a newer one (the oldest
 * of its source): it is freed by service(), after this epoll batch. */
static void evict(struct server *sv, uint64_t id)
{
	struct sess *s;

	for (s = sv->sessions; s && s->id != id; s = s->next)
		;
	if (!s)
		return;
	s->adm = MP_ADMIT_NONE;	/* its slot is taken already */
	if (s->closing)
		return;		/* on its way out anyway */
	sess_reject_why(sv, s, BW_REJ_BUSY, "server busy: dropped for a newer connection "
			"from the same source", mp_admit_reason_name(MP_ADMIT_EVICTED));
}

/* The pending pool is full: refuse at once, before any state is kept. */
static void refuse(struct server *sv, int fd, const struct sockaddr_storage *peer)
{
	struct bw_msg m = { .type = BW_MSG_REJECT, .code = BW_REJ_BUSY };
	uint8_t buf[BW_CTRL_MAX];
	int n;

	snprintf(m.reason, sizeof(m.reason), "server busy: too many unauthenticated connections");
	n = bw_msg_encode(&m, buf, sizeof(buf));
	if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		n = 0;	/* best effort: the client sees the connection close */
	close(fd);
	sv->rejected_busy++;
	reject_record(sv, peer, mp_admit_reason_name(MP_ADMIT_PENDING_FULL));
}

static void on_accept(struct server *sv, int idx, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct sess *s;
	uint64_t evicted;
	socklen_t plen;
	uint32_t h;
	int fd, one = 1, n = 0;

	while (n++ < ACCEPTS && (fd = accept4(sv->lfd[idx], (struct sockaddr *)&ss, &len,
					      SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		plen = len;
		len = sizeof(ss);
		if (mp_admit_open(sv->adm, (struct sockaddr *)&ss, sv->next_id + 1U, &h,
				  &evicted) != MP_ADMIT_OK) {
			refuse(sv, fd, &ss);
			continue;
		}
		if (evicted != UINT64_MAX)
			evict(sv, evicted);
		s = sv->spare;
		if (s) {
			sv->spare = s->next;
			sv->n_spare--;
			memset(s, 0, sizeof(*s));
		} else {
			s = calloc(1, sizeof(*s));
		}
		if (!s) {
			mp_admit_close(sv->adm, h);
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->fd = fd;
		s->adm = h;
		s->id = ++sv->next_id;
		s->peer = ss;
		s->peer_len = plen;
		s->fam = idx;
		s->tag = (struct tag){ .kind = TAG_SESS, .s = s };
		s->deadline_ns = now + sv->o->handshake_ns;
		s->next = sv->sessions;
		sv->sessions = s;
		sv->n_sessions++;
		if (ep_add(sv, fd, EPOLLIN, &s->tag) < 0)
			s->closing = true;
	}
}

static struct sess *find_token(struct server *sv, uint64_t token)
{
	struct sess *s = sv->last_hit;

	if (s && s->token == token)
		return s;
	for (s = sv->sessions; s; s = s->next)
		if (s->token == token && s->st >= S_READY)
			return sv->last_hit = s;
	return NULL;
}

static void on_datagram(struct server *sv, const uint8_t *p, size_t len,
			const struct sockaddr_storage *src, uint64_t rx_ns)
{
	struct bw_data_hdr h;
	struct sess *s;

	sv->udp_received++;
	if (bw_data_decode(p, len, &h) < 0 || h.dir != BW_FWD) {
		sv->udp_dropped_malformed++;
		return;
	}
	s = find_token(sv, h.token);
	/* S_READY too: the first packets may be read before START, which
	 * travels on the other socket. */
	if (!s || !s->rx || s->st < S_READY || s->st > S_GRACE) {
		sv->udp_dropped_token++;
		return;
	}
	if (!mp_addr_same(src, &s->peer)) {
		sv->udp_dropped_addr++;
		return;
	}
	bw_rx_add(s->rx, p, len, rx_ns);
}

static void on_udp(struct server *sv, int idx)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		int n;

		for (unsigned i = 0; i < RX_MSGS; i++) {
			sv->msgs[i].buf = sv->rxbuf + (size_t)i * RX_BUF;
			sv->msgs[i].buf_len = RX_BUF;
		}
		n = mp_sock_recv_batch(sv->udp[idx], sv->msgs, RX_MSGS);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct mp_msg *m = &sv->msgs[i];
			uint64_t rx_ns = m->rx_ns ? m->rx_ns : mp_clock_real_ns();
			size_t seg = m->gro_size ? m->gro_size : m->len;

			if (m->truncated || !seg) {
				sv->udp_received++;
				sv->udp_dropped_malformed++;
				continue;
			}
			for (size_t off = 0; off < m->len; off += seg)
				on_datagram(sv, (uint8_t *)m->buf + off, MP_MIN(seg, m->len - off),
					    &m->src, rx_ns);
		}
		if (n < (int)RX_MSGS)
			return;
	}
}

/* Timers and senders of every session; returns the earliest deadline. */
static uint64_t service(struct server *sv, uint64_t now)
{
	uint64_t next = now + MP_NSEC_PER_SEC;
	struct sess *s, *nx;

	for (s = sv->sessions; s; s = nx) {
		nx = s->next;
		if (!s->closing && s->tx && (s->st == S_RUN)) {
			int64_t d = bw_tx_run(s->tx, now);

			if (d >= 0)
				next = MP_MIN(next, (uint64_t)d);
		}
		if (!s->closing && s->rx && s->mark_next_ns && s->st == S_RUN &&
		    now >= s->mark_next_ns) {
			bw_rx_mark(s->rx);
			s->mark_next_ns += s->granted.interval_ns;
		}
		if (!s->closing && s->rx && s->iv_next_ns && s->st == S_RUN &&
		    now >= s->iv_next_ns) {
			send_report(sv, s, now);
			s->iv_next_ns += s->granted.interval_ns;
		}
		if (!s->closing && now >= s->deadline_ns) {
			if (s->st == S_GRACE) {
				/* Packets that arrived in time but were not read yet
				 * (a busy server) must not count as lost. */
				for (int i = 0; i < 2; i++)
					if (sv->udp[i])
						on_udp(sv, i);
				finish(sv, s);
			}
			else if (s->st <= S_AUTH) {
				mp_admit_expire(sv->adm, s->adm);	/* counted there */
				s->adm = MP_ADMIT_NONE;
				reject_record(sv, &s->peer,
					      mp_admit_reason_name(MP_ADMIT_HANDSHAKE_TIMEOUT));
				s->closing = true;
			} else {
				s->closing = true;	/* timed out */
			}
		}
		/* A client that reads nothing cannot hold its session open. */
		if (s->closing && (!s->out_len || now >= s->deadline_ns)) {
			sess_free(sv, s);
			continue;
		}
		if (s->iv_next_ns && s->st == S_RUN)
			next = MP_MIN(next, MP_MIN(s->iv_next_ns, s->mark_next_ns));
		next = MP_MIN(next, s->deadline_ns);
	}
	return next;
}

/* The limits and what they did (summary; admit.h): three objects, each a
 * line of text within 100 columns; and the reject records. */
static void put_admission(struct server *sv)
{
	const struct bw_opts *o = sv->o;
	struct mp_writer *w = sv->w;
	struct mp_admit_counters c;

	mp_admit_counters_get(sv->adm, &c);
	mp_obj_begin(w, "limits", "limits");
	mp_put_u64(w, "max_pending", "pending %" PRIu64, o->max_pending);
	mp_put_u64(w, "max_pending_per_source", "per source %" PRIu64, o->pending_per_source);
	mp_put_f64(w, "handshake_timeout_ms", "deadline %.0f ms", MP_NS_TO_MS(o->handshake_ns));
	mp_put_u64(w, "max_sessions", "sessions %" PRIu64, o->max_sessions);
	mp_put_u64(w, "max_sessions_per_source", "per source %" PRIu64, o->sessions_per_source);
	mp_put_u64(w, "open_budget_bps", "budget %" PRIu64 " bit/s",
		   sv->auth ? 0 : o->open_budget_bps);
	mp_obj_end(w);
	mp_obj_begin(w, "admission", "admission");
	mp_put_u64(w, "pending", "pending %" PRIu64, c.pending);
	mp_put_u64(w, "sessions", "sessions %" PRIu64, c.sessions);
	mp_put_u64(w, "budget_used_bps", "budget used %" PRIu64 " bit/s", c.budget_used_bps);
	mp_put_u64(w, "pending_admitted", "admitted: pending %" PRIu64, c.pending_admitted);
	mp_put_u64(w, "sessions_admitted", "sessions %" PRIu64, c.sessions_admitted);
	mp_obj_end(w);
	mp_obj_begin(w, "refused", "refused");
	/* keys: the reasons of the reject records */
	mp_put_u64(w, "pending_full", "pool full %" PRIu64, c.refused[MP_ADMIT_PENDING_FULL]);
	mp_put_u64(w, "evicted", "evicted %" PRIu64, c.refused[MP_ADMIT_EVICTED]);
	mp_put_u64(w, "handshake_timeout", "timeout %" PRIu64,
		   c.refused[MP_ADMIT_HANDSHAKE_TIMEOUT]);
	mp_put_u64(w, "sessions_full", "sessions full %" PRIu64, c.refused[MP_ADMIT_SESSIONS_FULL]);
	mp_put_u64(w, "sessions_source", "per source %" PRIu64,
		   c.refused[MP_ADMIT_SESSIONS_SOURCE]);
	mp_put_u64(w, "budget", "budget %" PRIu64, c.refused[MP_ADMIT_BUDGET]);
	mp_obj_end(w);
	mp_obj_begin(w, "reject_records", "reject records");
	mp_put_u64(w, "written", "written %" PRIu64, sv->rejects_written);
	mp_put_u64(w, "suppressed", "not written (rate limit) %" PRIu64, c.log_suppressed);
	mp_obj_end(w);
}

/* A `status` record: the admission gauges and counters so far. */
static void status_record(struct server *sv)
{
	struct mp_writer *w = sv->w;
	struct mp_admit_counters c;
	uint64_t refused = 0;

	mp_admit_counters_get(sv->adm, &c);
	for (int i = MP_ADMIT_OK + 1; i < MP_ADMIT_REASONS; i++)
		refused += c.refused[i];
	mp_record_begin(w, "status");
	mp_put_u64(w, "pending", "%" PRIu64, c.pending);
	mp_put_u64(w, "sessions", "%" PRIu64, c.sessions);
	mp_put_u64(w, "budget_used_bps", "%" PRIu64, c.budget_used_bps);
	mp_put_u64(w, "pending_admitted", "%" PRIu64, c.pending_admitted);
	mp_put_u64(w, "sessions_admitted", "%" PRIu64, c.sessions_admitted);
	mp_put_u64(w, "refused", "%" PRIu64, refused);
	mp_put_u64(w, "rejects_suppressed", "%" PRIu64, c.log_suppressed);
	mp_record_end(w);
}

static void summary(struct server *sv)
{
	struct mp_writer *w = sv->w;

	mp_doc_begin(w, "bwtest server");
	mp_put_bool(w, "authenticated", "authenticated %s", sv->auth);
	mp_put_u64(w, "sessions_accepted", "accepted %" PRIu64, sv->accepted);
	mp_put_u64(w, "sessions_completed", "completed %" PRIu64, sv->completed);
	mp_put_u64(w, "rejected_auth", "rejected: auth %" PRIu64, sv->rejected_auth);
	mp_put_u64(w, "rejected_busy", "busy %" PRIu64, sv->rejected_busy);
	mp_put_u64(w, "rejected_protocol", "protocol %" PRIu64, sv->rejected_proto);
	put_admission(sv);
	mp_obj_begin(w, "udp", "udp datagrams");
	mp_put_u64(w, "received", "received %" PRIu64, sv->udp_received);
	mp_put_u64(w, "dropped_token", "dropped: no session token %" PRIu64,
		   sv->udp_dropped_token);
	mp_put_u64(w, "dropped_address", "wrong source %" PRIu64, sv->udp_dropped_addr);
	mp_put_u64(w, "dropped_malformed", "malformed %" PRIu64, sv->udp_dropped_malformed);
	mp_obj_end(w);
	mp_doc_end(w);
}

/* One turn of the loop: timers and senders at now, then what the sockets
 * hold; with wait, sleeping until the earliest deadline at most (and now is
 * read again after it; without, the fuzz harness's clock stands). Returns 0,
 * or -errno from epoll. */
static int turn(struct server *sv, uint64_t now, bool wait)
{
	struct epoll_event evs[64];
	uint64_t next;
	struct timespec ts = { 0 };
	int n;

	sv->now = now;
	next = service(sv, now);
	if (sv->o->status_ns)	/* wake for the status records too */
		next = MP_MIN(next, sv->next_status_ns);
	if (wait && next > now) {
		ts.tv_sec = (time_t)((next - now) / MP_NSEC_PER_SEC);
		ts.tv_nsec = (long)((next - now) % MP_NSEC_PER_SEC);
	}
	n = epoll_pwait2(sv->ep, evs, (int)MP_ARRAY_SIZE(evs), &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (wait)
		sv->now = now = mp_clock_mono_ns();
	for (int i = 0; i < n; i++) {
		struct tag *t = evs[i].data.ptr;

		if (t->kind == TAG_LISTEN)
			on_accept(sv, t->idx, now);
		else if (t->kind == TAG_UDP)
			on_udp(sv, t->idx);
		else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			sess_read(sv, t->s, now);
		if (t->kind == TAG_SESS && (evs[i].events & EPOLLOUT))
			sess_flush(sv, t->s);
	}
	return 0;
}

static int admit_open(struct server *sv)
{
	const struct bw_opts *o = sv->o;
	struct mp_admit_opts ao = MP_ADMIT_OPTS_INIT;

	ao.max_pending = o->max_pending;
	ao.pending_per_source = o->pending_per_source;
	ao.handshake_ns = o->handshake_ns;
	ao.max_sessions = o->max_sessions;
	ao.sessions_per_source = o->sessions_per_source;
	ao.budget_bps = sv->auth ? 0 : o->open_budget_bps;
	return mp_admit_new(&sv->adm, &ao);
}

/* Sockets, pools and buffers of sv (o, w, key and auth set by the caller).
 * Returns 0, or -errno; server_close() undoes it either way. */
static int server_open(struct server *sv)
{
	const struct bw_opts *o = sv->o;
	int r, nfam = 0;

	r = admit_open(sv);
	if (r < 0)
		return r;
	sv->msgs = calloc(RX_MSGS, sizeof(*sv->msgs));
	sv->rxbuf = malloc((size_t)RX_MSGS * RX_BUF);
	sv->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!sv->msgs || !sv->rxbuf || sv->ep < 0)
		return sv->ep < 0 ? -errno : -ENOMEM;
	for (int i = 0; i < 2; i++) {
		int fam = i ? AF_INET6 : AF_INET;

		if (o->family != AF_UNSPEC && o->family != fam)
			continue;
		r = listen_open(sv, i, fam);
		if (r == 0)
			r = udp_open(sv, i, fam);
		if (r == -EAFNOSUPPORT && o->family == AF_UNSPEC)
			continue;
		if (r < 0)
			return r;
		sv->ltag[i] = (struct tag){ .kind = TAG_LISTEN, .idx = i };
		sv->utag[i] = (struct tag){ .kind = TAG_UDP, .idx = i };
		if ((r = ep_add(sv, sv->lfd[i], EPOLLIN, &sv->ltag[i])) < 0 ||
		    (r = ep_add(sv, mp_sock_fd(sv->udp[i]), EPOLLIN, &sv->utag[i])) < 0)
			return r;
		nfam++;
	}
	return nfam ? 0 : -EAFNOSUPPORT;
}

/* Every session ends (its record written); then the summary if wanted. */
static void server_close(struct server *sv, bool with_summary)
{
	while (sv->sessions)
		sess_free(sv, sv->sessions);
	while (sv->spare) {
		struct sess *nx = sv->spare->next;

		free(sv->spare);
		sv->spare = nx;
	}
	if (with_summary)
		summary(sv);
	for (int i = 0; i < 2; i++) {
		if (sv->lfd[i] >= 0)
			close(sv->lfd[i]);
		mp_sock_free(sv->udp[i]);
	}
	if (sv->ep >= 0)
		close(sv->ep);
	free(sv->msgs);
	free(sv->rxbuf);
	mp_admit_free(sv->adm);
	mp_auth_key_done(&sv->key);
}

int bw_server_run(const struct bw_opts *o, struct mp_writer *w)
{
	struct server sv = { .o = o, .w = w, .ep = -1, .lfd = { -1, -1 } };
	int r;

	if (o->key_file) {
		r = mp_auth_key_load(o->key_file, &sv.key);
		if (r < 0)
			return r;
		sv.auth = true;
	}
	r = server_open(&sv);
	sv.next_status_ns = mp_clock_mono_ns() + o->status_ns;
	while (r == 0 && !bw_stop_flag) {
		r = turn(&sv, mp_clock_mono_ns(), true);
		if (o->status_ns && sv.now >= sv.next_status_ns) {
			status_record(&sv);
			sv.next_status_ns += o->status_ns;
		}
	}
	server_close(&sv, r == 0);
	return r;
}
