/* SPDX-License-Identifier: MIT */
/*
 * bwtest client: the handshake on TCP, then one poll loop that paces the
 * forward sender, receives reverse data (recvmmsg, GRO, kernel RX stamps),
 * closes intervals and reads the server's REPORT and RESULT messages.
 *
 * End of a run: at the end of the granted duration (or on SIGINT) the client
 * stops its senders and sends STOP with each forward stream's count; the
 * server stops its reverse senders at once, waits BW_GRACE_NS for packets in
 * flight and answers RESULT: its forward receiver counts and its reverse sent
 * counts. The client drains its socket once more and finishes its own
 * reverse accounting with those counts, so trailing losses count exactly.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bwtest.h"
#include "clock.h"

enum {
	RX_MSGS = 32,
	RX_BUF = 65536,
	SOCK_BUF = 8 << 20,
};

#define CONNECT_NS (5ULL * MP_NSEC_PER_SEC)
#define RESULT_WAIT_NS (10ULL * MP_NSEC_PER_SEC)

struct client {
	const struct bw_opts *o;
	struct bw_result *res;
	BW_INTERVAL_FN(fn);
	void *ctx;
	int tcp;
	struct mp_sock *udp;
	struct sockaddr_storage srv;
	socklen_t srv_len;
	struct bw_tx *tx;	/* forward */
	struct bw_rx *rx;	/* reverse */
	uint8_t in[2 * BW_CTRL_MAX];
	size_t in_len;
	struct mp_msg *msgs;
	uint8_t *rxbuf;
	uint64_t fwd_sent_at_report;	/* sent when the last REPORT came */
	uint64_t iv_start_ns;		/* reverse: the open interval's start */
};

static int tcp_connect(struct client *c)
{
	struct pollfd p;
	int fd, r, one = 1, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(c->srv.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (c->o->ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->o->ifname,
				       (socklen_t)strlen(c->o->ifname)) < 0) {
		r = -errno;
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&c->srv, c->srv_len) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	r = poll(&p, 1, (int)(CONNECT_NS / MP_NSEC_PER_MSEC));
	if (r == 0) {
		r = -ETIMEDOUT;
		goto fail;
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		r = -errno;
		goto fail;
	}
	if (err) {
		r = -err;
		goto fail;
	}
	c->tcp = fd;
	return 0;
fail:
	close(fd);
	return r;
}

static int ctrl_send(struct client *c, const struct bw_msg *m)
{
	uint8_t buf[BW_CTRL_MAX];
	int n = bw_msg_encode(m, buf, sizeof(buf));
	size_t at = 0;

	if (n < 0)
		return n;
	while (at < (size_t)n) {
		ssize_t k = send(c->tcp, buf + at, (size_t)n - at, MSG_NOSIGNAL);

		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { .fd = c->tcp, .events = POLLOUT };

			poll(&p, 1, 100);
			continue;
		}
		if (k < 0)
			return -errno;
		at += (size_t)k;
	}
	return 0;
}

/* One message if a whole one is buffered (1), none (0), or -errno. Reads
 * what the socket holds first when read_more. */
static int ctrl_next(struct client *c, struct bw_msg *m, bool read_more)
{
	int len;

	if (read_more) {
		ssize_t n = recv(c->tcp, c->in + c->in_len, sizeof(c->in) - c->in_len,
				 MSG_DONTWAIT);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			c->in_len += (size_t)n;
	}
	len = bw_msg_frame(c->in, c->in_len);
	if (len <= 0)
		return len < 0 ? -EBADMSG : 0;
	if (bw_msg_decode(c->in, (size_t)len, m) < 0)
		return -EBADMSG;
	memmove(c->in, c->in + len, c->in_len - (size_t)len);
	c->in_len -= (size_t)len;
	return 1;
}

/* Wait for the next control message, at most until deadline. */
static int ctrl_wait(struct client *c, struct bw_msg *m, uint64_t deadline)
{
	int r = ctrl_next(c, m, false);

	while (r == 0) {
		uint64_t now = mp_clock_mono_ns();
		struct pollfd p = { .fd = c->tcp, .events = POLLIN };

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline - now) / MP_NSEC_PER_MSEC) + 1);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (bw_stop_flag)
			return -EINTR;
		r = ctrl_next(c, m, true);
	}
	if (r > 0 && m->type == BW_MSG_REJECT) {
		snprintf(c->res->reject, sizeof(c->res->reject), "%s", m->reason);
		return m->code == BW_REJ_AUTH ? -EACCES : m->code == BW_REJ_BUSY ? -EBUSY :
		       -ECONNREFUSED;
	}
	return r < 0 ? r : 0;
}

/* HELLO, CHALLENGE, AUTH, ACCEPT. *ret_token set on success. */
static int handshake(struct client *c, const struct mp_auth_key *key, uint64_t *ret_token)
{
	struct bw_msg m = { .type = BW_MSG_HELLO }, in;
	uint8_t nonce_c[BW_NONCE_BYTES], nonce_s[BW_NONCE_BYTES], mac_in[128];
	uint64_t deadline = mp_clock_mono_ns() + CONNECT_NS;
	const struct bw_params *q = &c->o->req;
	size_t n;
	int r;

	r = mp_auth_nonce(nonce_c, sizeof(nonce_c));
	if (r < 0)
		return r;
	memcpy(m.nonce, nonce_c, sizeof(nonce_c));
	m.params = *q;
	if ((r = ctrl_send(c, &m)) < 0 || (r = ctrl_wait(c, &in, deadline)) < 0)
		return r;
	if (in.type != BW_MSG_CHALLENGE)
		return -EPROTO;
	if (!(in.flags & BW_CH_NOAUTH) && !key) {
		snprintf(c->res->reject, sizeof(c->res->reject),
			 "the server requires a key (-k FILE)");
		return -EACCES;
	}
	if (key && (in.flags & BW_CH_NOAUTH)) {
		snprintf(c->res->reject, sizeof(c->res->reject),
			 "a key was given, but the server runs without (--no-auth)");
		return -EACCES;
	}
	memcpy(nonce_s, in.nonce, sizeof(nonce_s));
	m = (struct bw_msg){ .type = BW_MSG_AUTH };
	if (key) {
		n = bw_mac_input(false, nonce_c, nonce_s, 0, q, mac_in);
		r = mp_auth_hmac(key, mac_in, n, m.mac);
		if (r < 0)
			return r;
	}
	if ((r = ctrl_send(c, &m)) < 0 || (r = ctrl_wait(c, &in, deadline)) < 0)
		return r;
	if (in.type != BW_MSG_ACCEPT || !in.token)
		return -EPROTO;
	if (key) {
		/* The server proves it knows the key too: no impostor server. */
		n = bw_mac_input(true, nonce_c, nonce_s, in.token, &in.params, mac_in);
		if (mp_auth_verify(key, mac_in, n, in.mac) < 0) {
			snprintf(c->res->reject, sizeof(c->res->reject),
				 "the server's proof of the key is wrong");
			return -EACCES;
		}
	}
	if (in.params.dirs != q->dirs || in.params.streams != q->streams ||
	    in.params.payload_bytes != q->payload_bytes || !in.params.duration_ns)
		return -EPROTO;
	c->res->granted = in.params;
	*ret_token = in.token;
	return 0;
}

static int udp_setup(struct client *c)
{
	struct sockaddr_storage ss = { .ss_family = c->srv.ss_family };
	socklen_t len = c->srv.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						       sizeof(struct sockaddr_in6);
	int r;

	r = mp_sock_open(&c->udp, c->srv.ss_family, SOCK_DGRAM, 0,
			 MP_SOCK_NONBLOCK | MP_SOCK_TS_RX);
	if (r < 0)
		return r;
	r = mp_sock_bind(c->udp, (struct sockaddr *)&ss, len, c->o->ifname);
	if (r < 0)
		return r;
	mp_sock_buf_set(c->udp, SOCK_BUF, SOCK_BUF);
	mp_sock_gro_set(c->udp, true);
	r = mp_sock_name_get(c->udp, &ss, &len);
	if (r < 0)
		return r;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void udp_drain(struct client *c)
{
	for (int round = 0; round < 16; round++) {
		int n;

		for (unsigned i = 0; i < RX_MSGS; i++) {
			c->msgs[i].buf = c->rxbuf + (size_t)i * RX_BUF;
			c->msgs[i].buf_len = RX_BUF;
		}
		n = mp_sock_recv_batch(c->udp, c->msgs, RX_MSGS);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct mp_msg *m = &c->msgs[i];
			uint64_t rx_ns = m->rx_ns ? m->rx_ns : mp_clock_real_ns();
			size_t seg = m->gro_size ? m->gro_size : m->len;

			if (!c->rx || m->truncated || !seg) {
				if (c->rx)
					bw_rx_drop(c->rx);
				continue;
			}
			for (size_t off = 0; off < m->len; off += seg)
				bw_rx_add(c->rx, (uint8_t *)m->buf + off,
					  MP_MIN(seg, m->len - off), rx_ns);
		}
		if (n < RX_MSGS)
			return;
	}
}

static double pps_of(const struct bw_params *p)
{
	return p->pps ? (double)p->pps : (double)p->rate_bps / (p->payload_bytes * 8.0);
}

static int on_result(struct client *c, const struct bw_msg *m)
{
	struct bw_result *res = c->res;
	int r = 0;

	udp_drain(c);	/* reverse packets sent before STOP are in by now */
	if (c->tx) {
		res->fwd.rx = m->rx;
		if (m->rx.expected != bw_tx_sent(c->tx))
			return -EPROTO;	/* the views must reconcile */
	}
	if (c->rx) {
		uint64_t sent = 0;

		if (m->n_seq != res->granted.streams)
			return -EPROTO;
		for (unsigned i = 0; i < m->n_seq; i++)
			sent += m->next_seq[i];
		res->rev.sent = sent;
		r = bw_rx_finish(c->rx, m->next_seq, m->n_seq);
		if (r == 0 && c->fn && res->granted.interval_ns) {
			struct bw_interval iv;
			uint64_t t = res->duration_ns, t0 = c->iv_start_ns;

			if (bw_rx_interval(c->rx, t0, t, &iv) == 0 &&
			    (iv.lost || iv.duplicates || iv.late || iv.received ||
			     2 * (t - t0) >= res->granted.interval_ns))
				r = c->fn(c->ctx, BW_REV, UINT64_MAX, &iv);
		}
		if (r == 0)
			r = bw_rx_counts(c->rx, &res->rev.rx);
	}
	return r;
}

/* The data phase, after START. */
static int run_loop(struct client *c)
{
	struct bw_result *res = c->res;
	uint64_t start = mp_clock_mono_ns(), end = start + res->granted.duration_ns;
	uint64_t iv_ns = res->granted.interval_ns, iv_next = iv_ns ? start + iv_ns : 0;
	uint64_t mark_next = iv_next ? iv_next - iv_ns / 2 : 0, stop_at = 0;
	struct bw_msg m;
	int r;

	if (c->tx)
		bw_tx_start(c->tx, start, end);
	for (;;) {
		uint64_t now = mp_clock_mono_ns(), next = now + MP_NSEC_PER_SEC;
		struct pollfd p[2] = {
			{ .fd = c->tcp, .events = POLLIN },
			{ .fd = mp_sock_fd(c->udp), .events = POLLIN },
		};
		struct timespec ts = { 0 };

		if (mark_next && !stop_at && now >= mark_next && c->rx) {
			udp_drain(c);
			bw_rx_mark(c->rx);
			mark_next += iv_ns;
		}
		if (iv_next && !stop_at && now >= iv_next && c->rx) {
			struct bw_interval iv;

			udp_drain(c);
			r = bw_rx_interval(c->rx, c->iv_start_ns, now - start, &iv);
			if (r == 0 && c->fn)
				r = c->fn(c->ctx, BW_REV, UINT64_MAX, &iv);
			if (r < 0)
				return r;
			c->iv_start_ns = now - start;
			iv_next += iv_ns;
		}
		if (!stop_at && (now >= end || bw_stop_flag)) {
			m = (struct bw_msg){ .type = BW_MSG_STOP };
			if (c->tx) {
				/* What was due before the end still goes out. */
				if (!bw_stop_flag && bw_tx_run(c->tx, now) < 0)
					return -EIO;
				bw_tx_stop(c->tx, now);
				m.n_seq = (uint16_t)bw_tx_streams(c->tx);
				for (unsigned i = 0; i < m.n_seq; i++)
					m.next_seq[i] = bw_tx_next_seq(c->tx, i);
			}
			res->interrupted = bw_stop_flag && now < end;
			res->duration_ns = now - start;
			stop_at = now;
			r = ctrl_send(c, &m);
			if (r < 0)
				return r;
		}
		if (stop_at && now >= stop_at + RESULT_WAIT_NS)
			return -ETIMEDOUT;
		if (c->tx && !stop_at) {
			int64_t d = bw_tx_run(c->tx, now);

			if (d < 0)
				return (int)d;
			next = MP_MIN(next, (uint64_t)d);
		}
		if (iv_next && !stop_at && c->rx)
			next = MP_MIN(next, MP_MIN(iv_next, mark_next));
		if (!stop_at)
			next = MP_MIN(next, end);
		now = mp_clock_mono_ns();
		if (next > now) {
			ts.tv_sec = (time_t)((next - now) / MP_NSEC_PER_SEC);
			ts.tv_nsec = (long)((next - now) % MP_NSEC_PER_SEC);
		}
		r = ppoll(p, 2, &ts, NULL);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (p[1].revents & POLLIN)
			udp_drain(c);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = ctrl_next(c, &m, true);
		while (r > 0) {
			if (m.type == BW_MSG_REPORT && c->tx) {
				uint64_t sent = bw_tx_sent(c->tx);

				if (c->fn)
					r = c->fn(c->ctx, BW_FWD, sent - c->fwd_sent_at_report, &m.iv);
				c->fwd_sent_at_report = sent;
				if (r < 0)
					return r;
			} else if (m.type == BW_MSG_RESULT && stop_at) {
				return on_result(c, &m);
			} else if (m.type == BW_MSG_REJECT) {
				snprintf(res->reject, sizeof(res->reject), "%s", m.reason);
				return -ECONNABORTED;
			} else {
				return -EPROTO;
			}
			r = ctrl_next(c, &m, false);
		}
		if (r < 0)
			return r;
	}
}

int bw_client_run(const struct bw_opts *o, struct bw_result *res, BW_INTERVAL_FN(fn),
		  void *ctx)
{
	struct client c = { .o = o, .res = res, .fn = fn, .ctx = ctx, .tcp = -1 };
	struct bw_opts oo = *o;
	struct mp_auth_key key = { 0 };
	uint64_t token = 0;
	int r, port;

	c.o = &oo;
	r = mp_parse_addr(o->host, o->family, o->port, &c.srv, &c.srv_len);
	if (r < 0)
		return r;
	if (mp_addr_to_str_port((struct sockaddr *)&c.srv, res->server, sizeof(res->server)) < 0)
		res->server[0] = '\0';
	if (mp_addr_to_str((struct sockaddr *)&c.srv, res->addr, sizeof(res->addr)) < 0)
		res->addr[0] = '\0';
	res->dst = o->host;
	if (o->key_file) {
		r = mp_auth_key_load(o->key_file, &key);
		if (r < 0)
			return r;
	}
	c.msgs = calloc(RX_MSGS, sizeof(*c.msgs));
	c.rxbuf = malloc((size_t)RX_MSGS * RX_BUF);
	if (!c.msgs || !c.rxbuf) {
		r = -ENOMEM;
		goto out;
	}
	port = udp_setup(&c);
	if (port < 0) {
		r = port;
		goto out;
	}
	oo.req.udp_port = (uint16_t)port;
	if (!oo.req.payload_bytes)
		oo.req.payload_bytes = c.srv.ss_family == AF_INET ? 1472 : 1452;
	r = tcp_connect(&c);
	if (r < 0)
		goto out;
	r = handshake(&c, o->key_file ? &key : NULL, &token);
	if (r < 0)
		goto out;
	res->fwd.on = res->granted.dirs & BW_FWD;
	res->rev.on = res->granted.dirs & BW_REV;
	if (res->fwd.on)
		r = bw_tx_new(&c.tx, c.udp, (struct sockaddr *)&c.srv, c.srv_len, BW_FWD, token,
			      res->granted.streams, res->granted.payload_bytes,
			      pps_of(&res->granted), !o->no_gso);
	if (r == 0 && res->rev.on)
		r = bw_rx_new(&c.rx, BW_REV, token, res->granted.streams);
	if (r < 0)
		goto out;
	r = ctrl_send(&c, &(struct bw_msg){ .type = BW_MSG_START });
	if (r == 0)
		r = run_loop(&c);
	if (r == 0 && c.tx) {
		res->fwd.sent = bw_tx_sent(c.tx);
		res->fwd.tx_span_ns = bw_tx_span_ns(c.tx);
		res->fwd.tx_errors = bw_tx_errors(c.tx);
	}
out:
	if (c.tcp >= 0)
		close(c.tcp);
	bw_tx_free(c.tx);
	bw_rx_free(c.rx);
	mp_sock_free(c.udp);
	free(c.msgs);
	free(c.rxbuf);
	mp_auth_key_done(&key);
	return r;
}

/* Loss of a trial: the worse direction, in percent. */
static double trial_loss_pct(const struct bw_result *r)
{
	double worst = 0;
	const struct bw_dir_result *d[2] = { &r->fwd, &r->rev };

	for (int i = 0; i < 2; i++)
		if (d[i]->on && d[i]->rx.expected)
			worst = fmax(worst, 100.0 * (double)d[i]->rx.lost /
						  (double)d[i]->rx.expected);
	return worst;
}

/* Packets/s a run was granted (the server may cap the rate). */
static double granted_pps(const struct bw_params *g)
{
	return g->pps ? (double)g->pps : (double)g->rate_bps / (g->payload_bytes * 8.0);
}

/*
 * One trial offering pps; appends it to res->trials. A trial passes when
 * its loss stays within the threshold AND the sender kept its schedule (at
 * least 98 % of the packets offered went out): a sender that cannot keep
 * up loses nothing on the path, but it did not run at that rate.
 * Returns 1 if it passed, 0 if not, 2 if it passed at a rate the server
 * capped (no higher rate to try), or -errno.
 */
static int trial(const struct bw_opts *o, uint64_t pps, struct bw_result *res,
		 struct bw_result *tmp)
{
	struct bw_opts t = *o;
	struct bw_trial *tr;
	double offered, sent;
	int r;

	if (res->n_trials >= BW_TRIALS_MAX)
		return -E2BIG;
	t.req.pps = pps;
	t.req.rate_bps = 0;
	t.req.interval_ns = 0;
	t.req.duration_ns = o->trial_ns;
	memset(tmp, 0, sizeof(*tmp));
	r = bw_client_run(&t, tmp, NULL, NULL);
	if (r < 0) {
		memcpy(res->reject, tmp->reject, sizeof(res->reject));
		return r;
	}
	offered = granted_pps(&tmp->granted);
	sent = (double)(tmp->fwd.on ? tmp->fwd.sent : tmp->rev.sent) * 1e9 /
	       (double)MP_MAX(tmp->duration_ns, 1);
	tr = &res->trials[res->n_trials++];
	tr->pps = (uint64_t)offered;
	tr->rate_bps = (uint64_t)(offered * tmp->granted.payload_bytes * 8);
	tr->loss_pct = trial_loss_pct(tmp);
	tr->sent_pps = (uint64_t)sent;
	tr->rx_pps = (uint64_t)((double)(tmp->fwd.on ? tmp->fwd.rx.received :
					  tmp->rev.rx.received) * 1e9 /
				(double)MP_MAX(tmp->duration_ns, 1));
	if (tr->loss_pct > o->find_max_pct || sent < 0.98 * offered)
		return 0;
	return offered < 0.999 * (double)pps ? 2 : 1;
}

/* A failed trial is run once more: one hiccup of a busy host must not end
 * the search. Returns as trial(), the second result if there was one. */
static int trial_twice(const struct bw_opts *o, uint64_t pps, struct bw_result *res,
		       struct bw_result *tmp)
{
	int r = trial(o, pps, res, tmp);

	return r == 0 ? trial(o, pps, res, tmp) : r;
}

/* The passing trial at the highest rate is the one reported in full. */
static void keep_best(struct bw_result *res, const struct bw_result *t)
{
	memcpy(res->server, t->server, sizeof(res->server));
	res->granted = t->granted;
	res->duration_ns = t->duration_ns;
	res->fwd = t->fwd;
	res->rev = t->rev;
}

int bw_find_max(const struct bw_opts *o, struct bw_result *res)
{
	struct bw_result *tmp = calloc(1, sizeof(*tmp));
	uint64_t payload = o->req.payload_bytes ? o->req.payload_bytes : 1472;
	uint64_t lo = 0, hi = 0, pps;
	int r = 0;

	if (!tmp)
		return -ENOMEM;
	res->interrupted = false;
	pps = o->req.pps ? o->req.pps : o->rate_set ? o->req.rate_bps / (payload * 8) : 1000;
	pps = MP_MAX(pps, 1);
	res->find_max = true;
	res->find_max_pct = o->find_max_pct;
	/* Exponential phase: double until a trial fails. */
	while (!bw_stop_flag && !hi) {
		r = trial_twice(o, pps, res, tmp);
		if (r < 0)
			goto out;
		if (r == 0) {
			hi = pps;
			break;
		}
		lo = res->trials[res->n_trials - 1].pps;
		keep_best(res, tmp);
		if (r == 2)
			break;	/* the server's cap: nothing higher to try */
		pps *= 2;
	}
	/* Binary phase: to within 2 % or 8 trials. */
	for (int i = 0; i < 8 && hi && !bw_stop_flag && hi - lo > MP_MAX(lo / 50, 1); i++) {
		pps = lo + (hi - lo) / 2;
		r = trial_twice(o, pps, res, tmp);
		if (r < 0)
			goto out;
		if (r) {
			lo = pps;
			keep_best(res, tmp);
		} else {
			hi = pps;
		}
	}
	r = 0;
out:
	res->max_pps = lo;
	res->max_rate_bps = lo * (res->granted.payload_bytes ? res->granted.payload_bytes : payload) * 8;
	free(tmp);
	return r;
}
