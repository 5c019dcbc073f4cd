/* SPDX-License-Identifier: MIT */
/*
 * mtufind -s -k KEYFILE --wg IFACE: the peer side of a 2-D MTU sweep. Sets
 * IFACE's MTU (and only IFACE's) on signed requests of one controller at a
 * time (ctl.h, docs/PROTOCOL.md) and puts the original back when the
 * controller says END, falls silent for --idle-timeout, or on SIGINT /
 * SIGTERM. While a session holds the interface its original MTU is in a
 * state file, so that after a SIGKILL the next start (or --restore) puts
 * it back before it reads anything as the original.
 *
 * Checks in order, each dropping what fails and counting it: a per-source
 * rate limit (before any work), the message's structure, its HMAC, then
 * the session and its sequence number. Replies are as long as requests
 * and go only to the source of a request that passed the HMAC.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "mtufind.h"
#include "nl.h"
#include "sock.h"

enum {
	RL_SLOTS = 256,			/* sources rate-limited at once */
	RL_RATE = 50,			/* requests/s per source */
	RL_BURST = 100,
	RL_FRESH = 5,			/* requests a source new to its slot may send at once */
	OFFERS = 8,			/* sessions offered (HELLO answered), not yet used */
	RX_BUF = 512,			/* longer datagrams are malformed anyway */
};

#define OFFER_NS (5 * MP_NSEC_PER_SEC)		/* an offer unused this long is dropped */
#define RL_T_NS (MP_NSEC_PER_SEC / RL_RATE)	/* GCRA emission interval */

/* A source's rate limit (GCRA: one theoretical arrival time). */
struct rl_slot {
	int family;			/* 0 = unused */
	uint8_t addr[16];
	uint64_t tat_ns;		/* CLOCK_MONOTONIC */
};

struct offer {
	bool used;
	uint8_t nonce[MF_CTL_NONCE_LEN];	/* the controller's */
	uint8_t session[MF_CTL_NONCE_LEN];	/* ours */
	struct sockaddr_storage src;		/* who asked */
	uint64_t expires_ns;
};

struct holder {
	bool active;
	uint8_t nonce[MF_CTL_NONCE_LEN];
	uint8_t session[MF_CTL_NONCE_LEN];
	struct sockaddr_storage src;		/* requests only from here */
	socklen_t src_len;
	uint64_t last_seq;			/* highest accepted */
	uint64_t heard_ns;			/* CLOCK_MONOTONIC of the last accepted */
};

struct srv {
	const struct mf_opts *o;
	struct mf_srv_result *res;
	mf_srv_event_fn fn;
	void *fn_arg;
	struct mp_auth_key key;
	struct mp_nl *nl;
	int ifindex;
	bool has_v6;			/* refuse MTUs below 1280 */
	const char *state;
	int lock_fd;			/* the state file's lock, held; -1 */
	struct mp_sock *s[2];
	struct rl_slot rl[RL_SLOTS];
	struct offer offers[OFFERS];
	struct holder h;
};

static const uint8_t *addr_bytes(const struct sockaddr_storage *ss, size_t *ret_len)
{
	if (ss->ss_family == AF_INET6) {
		*ret_len = 16;
		return (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	}
	*ret_len = 4;
	return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	size_t la, lb;
	const uint8_t *pa = addr_bytes(a, &la), *pb = addr_bytes(b, &lb);

	return a->ss_family == b->ss_family && la == lb && !memcmp(pa, pb, la);
}

/* Per source address (any port), before the message is even parsed. */
static bool rate_ok(struct srv *sv, const struct sockaddr_storage *src, uint64_t now)
{
	size_t i, n;
	const uint8_t *a = addr_bytes(src, &n);
	uint32_t h = 2166136261u;
	struct rl_slot *s;

	for (i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	s = &sv->rl[h % RL_SLOTS];
	if (s->family != src->ss_family || memcmp(s->addr, a, n)) {
		/* a newcomer to a slot gets a few requests, not a whole burst:
		 * pushing another source out of its slot gains nothing */
		s->family = src->ss_family;
		memcpy(s->addr, a, n);
		s->tat_ns = now + (RL_BURST - RL_FRESH) * RL_T_NS;
	}
	if (s->tat_ns < now)
		s->tat_ns = now;
	if (s->tat_ns - now > (RL_BURST - 1) * RL_T_NS)
		return false;
	s->tat_ns += RL_T_NS;
	return true;
}

static void hex8(const uint8_t *p, char out[17])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void report(struct srv *sv, const char *what, const struct sockaddr_storage *src,
		   const uint8_t *session, int error)
{
	struct mf_srv_event ev = { .event = what, .mtu_bytes = sv->res->mtu_bytes, .error = error };

	if (src && src->ss_family)
		mp_addr_to_str_port((const struct sockaddr *)src, ev.peer, sizeof(ev.peer));
	if (session)
		hex8(session, ev.session);
	if (sv->fn)
		sv->fn(&ev, sv->fn_arg);
}

/* Set the MTU and read it back from the kernel. */
static int mtu_set(struct srv *sv, unsigned mtu)
{
	struct mp_nl_link link;
	int r;

	r = mp_nl_link_set_mtu(sv->nl, sv->ifindex, NULL, mtu);
	if (r == 0)
		r = mp_nl_link_get(sv->nl, sv->ifindex, NULL, &link);
	if (r == 0) {
		sv->res->mtu_bytes = link.mtu_bytes;
		sv->res->changes++;
	}
	return r;
}

/* End the session: the original MTU back, the state file gone. */
static int release(struct srv *sv, const char *why)
{
	int r = 0;

	if (!sv->h.active)
		return 0;
	if (sv->res->mtu_bytes != sv->res->original_mtu_bytes)
		r = mtu_set(sv, sv->res->original_mtu_bytes);
	if (r == 0)
		unlink(sv->state);
	report(sv, why, &sv->h.src, sv->h.session, r);
	memset(&sv->h, 0, sizeof(sv->h));
	return r;
}

static void reply(struct srv *sv, int i, const struct mp_msg *m, const struct mf_ctl_msg *req,
		  uint16_t status, uint32_t arg)
{
	struct mf_ctl_msg out = *req;
	uint8_t buf[MF_CTL_LEN];

	out.type = req->type | MF_CTL_REPLY;
	out.status = status;
	out.mtu = sv->res->mtu_bytes;
	out.arg = arg;
	if (mf_ctl_encode(&out, &sv->key, buf) < 0 ||
	    mp_sock_send_from(sv->s[i], buf, sizeof(buf), (const struct sockaddr *)&m->src,
			      m->src_len, m->dst.ss_family ? (const struct sockaddr *)&m->dst : NULL,
			      m->ifindex, NULL) < 0)
		sv->res->send_errors++;
}

static void hello(struct srv *sv, int i, const struct mp_msg *m, struct mf_ctl_msg *req,
		  uint64_t now)
{
	struct offer *o = NULL;
	size_t k;

	/* a HELLO sent again (its CHALLENGE lost) gets the same session */
	for (k = 0; k < OFFERS && !o; k++)
		if (sv->offers[k].used && !memcmp(sv->offers[k].nonce, req->nonce, MF_CTL_NONCE_LEN) &&
		    same_addr(&sv->offers[k].src, &m->src))
			o = &sv->offers[k];
	for (k = 0; k < OFFERS && !o; k++)
		if (!sv->offers[k].used || sv->offers[k].expires_ns <= now)
			o = &sv->offers[k];
	if (!o) {	/* all fresh: the oldest goes */
		o = &sv->offers[0];
		for (k = 1; k < OFFERS; k++)
			if (sv->offers[k].expires_ns < o->expires_ns)
				o = &sv->offers[k];
	}
	if (!o->used || memcmp(o->nonce, req->nonce, MF_CTL_NONCE_LEN)) {
		if (mp_auth_nonce(o->session, sizeof(o->session)) < 0)
			return;
		memcpy(o->nonce, req->nonce, MF_CTL_NONCE_LEN);
		o->src = m->src;
		o->used = true;
	}
	o->expires_ns = now + OFFER_NS;
	memcpy(req->session, o->session, MF_CTL_NONCE_LEN);
	reply(sv, i, m, req, MF_CTL_OK, (uint32_t)(sv->o->idle_ns / MP_NSEC_PER_MSEC));
}

/* An offered session claims the interface: the original goes to disk first. */
static int claim(struct srv *sv, const struct mp_msg *m, const struct mf_ctl_msg *req,
		 uint64_t now)
{
	int r;

	r = mf_state_write(sv->state, sv->res->ifname, sv->res->original_mtu_bytes);
	if (r < 0)
		return r;
	sv->h.active = true;
	memcpy(sv->h.nonce, req->nonce, MF_CTL_NONCE_LEN);
	memcpy(sv->h.session, req->session, MF_CTL_NONCE_LEN);
	sv->h.src = m->src;
	sv->h.src_len = m->src_len;
	sv->h.last_seq = 0;
	sv->h.heard_ns = now;
	sv->res->sessions++;
	return 0;
}

static struct offer *offer_find(struct srv *sv, const struct mp_msg *m,
				const struct mf_ctl_msg *req, uint64_t now)
{
	for (size_t k = 0; k < OFFERS; k++) {
		struct offer *o = &sv->offers[k];

		if (o->used && o->expires_ns > now &&
		    !memcmp(o->session, req->session, MF_CTL_NONCE_LEN) &&
		    !memcmp(o->nonce, req->nonce, MF_CTL_NONCE_LEN) && same_addr(&o->src, &m->src))
			return o;
	}
	return NULL;
}

/* SET of a session that holds the interface. */
static void set(struct srv *sv, int i, const struct mp_msg *m, const struct mf_ctl_msg *req)
{
	unsigned min = sv->has_v6 ? MF_IPV6_MIN_MTU : MF_IPV4_MIN_MTU;
	int r;

	if (req->mtu < min) {
		reply(sv, i, m, req, MF_CTL_REFUSED, min);
		report(sv, "refused", &m->src, req->session, -EINVAL);
		return;
	}
	/* a SET sent again (its reply lost) changes nothing: no record */
	if (req->mtu == sv->res->mtu_bytes) {
		reply(sv, i, m, req, MF_CTL_OK, 0);
		return;
	}
	r = mtu_set(sv, req->mtu);
	reply(sv, i, m, req, r ? MF_CTL_FAILED : MF_CTL_OK, r ? (uint32_t)-r : 0);
	report(sv, r ? "failed" : "set", &m->src, req->session, r);
}

static void request(struct srv *sv, int i, const struct mp_msg *m, struct mf_ctl_msg *req,
		    uint64_t now)
{
	bool ours = sv->h.active && !memcmp(sv->h.session, req->session, MF_CTL_NONCE_LEN) &&
		    !memcmp(sv->h.nonce, req->nonce, MF_CTL_NONCE_LEN) &&
		    same_addr(&sv->h.src, &m->src);
	struct offer *o = ours ? NULL : offer_find(sv, m, req, now);
	int r;

	if (!ours && !o) {
		sv->res->no_session++;
		reply(sv, i, m, req, MF_CTL_NO_SESSION, 0);
		return;
	}
	if (o && sv->h.active) {
		sv->res->busy++;
		o->used = false;
		reply(sv, i, m, req, MF_CTL_BUSY, 0);
		report(sv, "busy", &m->src, req->session, -EBUSY);
		return;
	}
	if (o) {
		r = claim(sv, m, req, now);
		if (r < 0) {
			reply(sv, i, m, req, MF_CTL_FAILED, (uint32_t)-r);
			report(sv, "failed", &m->src, req->session, r);
			return;
		}
		o->used = false;
	} else if (req->seq <= sv->h.last_seq) {
		sv->res->dropped_replay++;
		return;
	}
	sv->h.last_seq = req->seq;
	sv->h.heard_ns = now;
	switch (req->type) {
	case MF_CTL_SET:
		set(sv, i, m, req);
		break;
	case MF_CTL_END:
		r = release(sv, "end");
		reply(sv, i, m, req, r ? MF_CTL_FAILED : MF_CTL_OK, r ? (uint32_t)-r : 0);
		break;
	default:
		reply(sv, i, m, req, MF_CTL_OK, 0);
		break;
	}
}

/* One datagram from socket i. */
static void handle(struct srv *sv, int i, const struct mp_msg *m, uint64_t now)
{
	struct mf_ctl_msg req;

	sv->res->received++;
	if (!rate_ok(sv, &m->src, now)) {
		sv->res->dropped_ratelimit++;
		return;
	}
	if (m->truncated || mf_ctl_parse(m->buf, m->len, &req) < 0 ||
	    (req.type & MF_CTL_REPLY)) {
		sv->res->dropped_malformed++;
		return;
	}
	if (mf_ctl_verify(&sv->key, m->buf) < 0) {
		sv->res->dropped_auth++;
		return;
	}
	if (req.type == MF_CTL_HELLO)
		hello(sv, i, m, &req, now);
	else
		request(sv, i, m, &req, now);
}

static int sock_open(struct srv *sv, int i, int family)
{
	struct sockaddr_storage any;
	int r, len;

	r = mp_sock_open(&sv->s[i], family, SOCK_DGRAM, 0, MP_SOCK_NONBLOCK | MP_SOCK_PKTINFO);
	if (r < 0)
		return r;
	len = mp_addr_any(family, sv->res->port, &any);
	if (len < 0)
		return len;
	/* requests come through the tunnel itself, nowhere else */
	return mp_sock_bind(sv->s[i], (struct sockaddr *)&any, (socklen_t)len, sv->o->wg_ifname);
}

/* Setup: key, interface, a state file left by a killed run, sockets. */
static int setup(struct srv *sv, char *state, size_t len)
{
	struct mp_nl_link link;
	unsigned mtu;
	int r, k, nfam = 0;

	if (!sv->o->restore) {
		r = mp_auth_key_load(sv->o->key_file, &sv->key);
		if (r < 0)
			return r;
	}
	r = mp_nl_new(&sv->nl);
	if (r == 0)
		r = mp_nl_link_get(sv->nl, 0, sv->o->wg_ifname, &link);
	if (r < 0)
		return r;
	sv->ifindex = link.ifindex;
	snprintf(sv->res->ifname, sizeof(sv->res->ifname), "%s", link.name);
	if (sv->o->state)
		sv->state = sv->o->state;
	else if (snprintf(state, len, "%s/mtufind-peer-%s", MF_STATE_DIR, link.name) < (int)len)
		sv->state = state;
	else
		return -ENAMETOOLONG;
	/* the state file's MTU is the true original: the current one may be
	 * what a killed run left behind, unless a live one holds its lock
	 * (a second -s on another port); --restore leaves no lock file where
	 * there is nothing to restore */
	r = sv->o->restore && access(sv->state, F_OK) < 0 ? -errno :
	    mf_state_lock(sv->state, &sv->lock_fd);
	if (r == 0)
		r = mf_state_recover(sv->state, link.name, &mtu);
	if (r < 0)
		return r;
	if (r > 0) {
		sv->res->recovered_mtu_bytes = mtu;
		sv->res->original_mtu_bytes = sv->res->mtu_bytes = mtu;
		report(sv, "recovered", NULL, NULL, 0);
	}
	if (sv->o->restore)
		return r > 0 ? 0 : -ENOENT;
	r = mp_nl_link_get(sv->nl, sv->ifindex, NULL, &link);
	if (r == 0)
		r = mf_if_has_ipv6(sv->nl, sv->ifindex, &sv->has_v6);
	if (r < 0)
		return r;
	sv->res->original_mtu_bytes = sv->res->mtu_bytes = link.mtu_bytes;
	for (k = 0; k < 2; k++) {
		int fam = k ? AF_INET6 : AF_INET;

		if (sv->o->family != AF_UNSPEC && sv->o->family != fam)
			continue;
		r = sock_open(sv, k, fam);
		if (r == -EAFNOSUPPORT && sv->o->family == AF_UNSPEC) {
			mp_sock_free(sv->s[k]);
			sv->s[k] = NULL;
			continue;
		}
		if (r < 0)
			return r;
		nfam++;
	}
	return nfam ? 0 : -EAFNOSUPPORT;
}

static int serve(struct srv *sv)
{
	uint8_t buf[RX_BUF];
	struct pollfd pfd[2];
	int r, k, n = 0, idx[2];

	for (k = 0; k < 2; k++) {
		if (!sv->s[k])
			continue;
		pfd[n] = (struct pollfd){ .fd = mp_sock_fd(sv->s[k]), .events = POLLIN };
		idx[n++] = k;
	}
	while (!mf_stop) {
		uint64_t now = mp_clock_mono_ns();
		int wait_ms = 1000;

		if (sv->h.active) {
			uint64_t end = sv->h.heard_ns + sv->o->idle_ns;

			if (now >= end) {
				release(sv, "timeout");
				continue;
			}
			wait_ms = (int)MP_MIN((end - now) / MP_NSEC_PER_MSEC + 1, 1000);
		}
		r = poll(pfd, (nfds_t)n, wait_ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		for (k = 0; r > 0 && k < n; k++) {
			struct mp_msg m = { .buf = buf, .buf_len = sizeof(buf) };
			int got;

			if (!(pfd[k].revents & POLLIN))
				continue;
			/* a bounded batch per wake-up: the idle timer stays honest */
			for (int b = 0; b < 64 && (got = mp_sock_recv(sv->s[idx[k]], &m)) >= 0; b++) {
				handle(sv, idx[k], &m, mp_clock_mono_ns());
				m = (struct mp_msg){ .buf = buf, .buf_len = sizeof(buf) };
			}
		}
	}
	return 0;
}

int mf_server_run(const struct mf_opts *o, mf_srv_event_fn fn, void *arg,
		  struct mf_srv_result *res)
{
	static struct srv sv;	/* 5 KiB of tables: not on the stack */
	char state[PATH_MAX];
	uint64_t t0 = mp_clock_mono_ns();
	int r;

	memset(&sv, 0, sizeof(sv));
	sv.lock_fd = -1;
	sv.o = o;
	sv.res = res;
	sv.fn = fn;
	sv.fn_arg = arg;
	res->port = o->port_set ? o->port : MF_CTL_PORT;
	r = setup(&sv, state, sizeof(state));
	if (r == 0 && !o->restore)
		r = serve(&sv);
	if (sv.h.active)
		release(&sv, mf_stop ? "signal" : "failed");
	res->restored = res->mtu_bytes == res->original_mtu_bytes;
	res->duration_ns = mp_clock_mono_ns() - t0;
	for (int k = 0; k < 2; k++)
		mp_sock_free(sv.s[k]);
	mp_nl_free(sv.nl);
	mp_auth_key_done(&sv.key);
	if (sv.lock_fd >= 0)
		close(sv.lock_fd);
	return r;
}
