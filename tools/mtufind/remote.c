/* SPDX-License-Identifier: MIT */
/*
 * mtufind sweep --peer-key: the controller of the peer's MTU. Talks to
 * `mtufind -s` (server.c) with the signed messages of ctl.h: HELLO for a
 * session, SET per peer MTU (answered once the MTU is in place, with the
 * MTU the peer's kernel reports), PING to keep the session while iperf3
 * runs, END to put the peer's original back. Each request is sent again
 * with a new sequence number every 250 ms until its reply comes, for at
 * most 3 s. Prints nothing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "mtufind.h"
#include "sock.h"

#define RETRY_NS (250 * MP_NSEC_PER_MSEC)	/* a request is sent again after */
#define GIVE_UP_NS (3 * MP_NSEC_PER_SEC)	/* no reply at all this long: lost */
#define PING_MIN_NS (200 * MP_NSEC_PER_MSEC)

struct mf_remote {
	struct mp_auth_key key;
	struct mp_sock *s;			/* connected to the server */
	uint8_t nonce[MF_CTL_NONCE_LEN];	/* ours, for the whole run */
	uint8_t session[MF_CTL_NONCE_LEN];	/* the server's, from its CHALLENGE */
	uint64_t seq;				/* last sent */
	uint64_t idle_ns;			/* the server's idle timeout */
	uint64_t ping_ns;			/* keep-alive interval: a third of it */
	uint64_t sent_ns;			/* CLOCK_MONOTONIC of the last request */
	bool lost;				/* the server no longer knows the session */
};

int mf_remote_open(struct mf_remote **ret, const char *key_file,
		   const struct sockaddr_storage *addr, socklen_t addr_len)
{
	struct mf_remote *rc;
	int r;

	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	r = mp_auth_key_load(key_file, &rc->key);
	if (r == 0)
		r = mp_auth_nonce(rc->nonce, sizeof(rc->nonce));
	if (r == 0)
		r = mp_sock_open(&rc->s, addr->ss_family, SOCK_DGRAM, 0, MP_SOCK_NONBLOCK);
	if (r == 0)
		r = mp_sock_connect(rc->s, (const struct sockaddr *)addr, addr_len);
	if (r < 0) {
		mf_remote_free(rc);
		return r;
	}
	*ret = rc;
	return 0;
}

void mf_remote_free(struct mf_remote *rc)
{
	if (!rc)
		return;
	mp_sock_free(rc->s);
	mp_auth_key_done(&rc->key);
	free(rc);
}

static int send_req(struct mf_remote *rc, uint8_t type, unsigned mtu)
{
	struct mf_ctl_msg m = { .type = type, .mtu = mtu, .seq = ++rc->seq };
	uint8_t buf[MF_CTL_LEN];
	int r;

	memcpy(m.nonce, rc->nonce, sizeof(m.nonce));
	if (type != MF_CTL_HELLO)
		memcpy(m.session, rc->session, sizeof(m.session));
	r = mf_ctl_encode(&m, &rc->key, buf);
	if (r >= 0)
		r = mp_sock_send(rc->s, buf, sizeof(buf), NULL, 0, NULL);
	rc->sent_ns = mp_clock_mono_ns();
	return r < 0 ? r : 0;
}

/* The next signed reply for us, or -EAGAIN when none is waiting. */
static int recv_reply(struct mf_remote *rc, struct mf_ctl_msg *ret)
{
	uint8_t buf[MF_CTL_LEN + 1];
	struct mp_msg m;
	struct mf_ctl_msg rp;
	int r;

	for (;;) {
		m = (struct mp_msg){ .buf = buf, .buf_len = sizeof(buf) };
		r = mp_sock_recv(rc->s, &m);
		if (r < 0)
			return r;
		if (mf_ctl_parse(buf, m.len, &rp) < 0 || !(rp.type & MF_CTL_REPLY) ||
		    mf_ctl_verify(&rc->key, buf) < 0 || memcmp(rp.nonce, rc->nonce, sizeof(rp.nonce)))
			continue;	/* not for us, or forged: ignored */
		if (rp.type != (MF_CTL_HELLO | MF_CTL_REPLY) &&
		    memcmp(rp.session, rc->session, sizeof(rp.session)))
			continue;
		*ret = rp;
		return 0;
	}
}

static int status_err(const struct mf_ctl_msg *rp)
{
	switch (rp->status) {
	case MF_CTL_OK:
		return 0;
	case MF_CTL_BUSY:
		return -EBUSY;
	case MF_CTL_FAILED:
		return rp->arg && rp->arg < 4096 ? -(int)rp->arg : -EIO;
	case MF_CTL_REFUSED:
		return -ERANGE;
	default:
		return -ENOLINK;
	}
}

/* Send type until its reply comes. stop: give up on SIGINT/SIGTERM. */
static int transact(struct mf_remote *rc, uint8_t type, unsigned mtu, bool stop,
		    struct mf_ctl_msg *ret)
{
	uint64_t first = rc->seq + 1, give_up = mp_clock_mono_ns() + GIVE_UP_NS, resend = 0;
	struct mf_ctl_msg rp;
	struct pollfd pfd = { .fd = mp_sock_fd(rc->s), .events = POLLIN };
	int r;

	for (;;) {
		uint64_t now = mp_clock_mono_ns();

		if (stop && mf_stop)
			return -EINTR;
		if (now >= give_up)
			return -ETIMEDOUT;
		if (now >= resend) {
			r = send_req(rc, type, mtu);
			/* a refusal (ICMP port unreachable) of an earlier try
			 * shows up on this send: the server is not there */
			if (r < 0)
				return r;
			resend = now + RETRY_NS;
		}
		r = poll(&pfd, 1, (int)((MP_MIN(resend, give_up) - now) / MP_NSEC_PER_MSEC) + 1);
		if (r < 0 && errno != EINTR)
			return -errno;
		while ((r = recv_reply(rc, &rp)) == 0) {
			if (rp.type == (type | MF_CTL_REPLY) && rp.seq >= first && rp.seq <= rc->seq) {
				*ret = rp;
				if (rp.status == MF_CTL_NO_SESSION)
					rc->lost = true;
				return status_err(&rp);
			}
			if (rp.status == MF_CTL_NO_SESSION && type != MF_CTL_HELLO)
				rc->lost = true;
		}
		if (r != -EAGAIN)
			return r;
	}
}

int mf_remote_hello(struct mf_remote *rc, unsigned *ret_mtu)
{
	struct mf_ctl_msg rp;
	int r;

	r = transact(rc, MF_CTL_HELLO, 0, true, &rp);
	if (r < 0)
		return r;
	memcpy(rc->session, rp.session, sizeof(rc->session));
	rc->idle_ns = rp.arg * MP_NSEC_PER_MSEC;
	rc->ping_ns = MP_MAX(rc->idle_ns / 3, PING_MIN_NS);
	rc->lost = false;
	*ret_mtu = rp.mtu;
	return 0;
}

/* A request of the session; *ret_mtu: the MTU its reply reports. */
static int ask(struct mf_remote *rc, uint8_t type, unsigned mtu, bool stop, unsigned *ret_mtu)
{
	struct mf_ctl_msg rp;
	int r;

	r = transact(rc, type, mtu, stop, &rp);
	if (r == 0)
		*ret_mtu = rp.mtu;
	return r;
}

int mf_remote_claim(struct mf_remote *rc, unsigned *ret_mtu)
{
	/* the first signed request of an offered session claims the interface */
	return ask(rc, MF_CTL_PING, 0, true, ret_mtu);
}

uint64_t mf_remote_idle_ns(const struct mf_remote *rc)
{
	return rc->idle_ns;
}

int mf_remote_set(struct mf_remote *rc, unsigned mtu, unsigned *ret_mtu)
{
	return ask(rc, MF_CTL_SET, mtu, true, ret_mtu);
}

int mf_remote_end(struct mf_remote *rc, unsigned *ret_mtu)
{
	/* the end is sent even when a signal ended the sweep */
	return ask(rc, MF_CTL_END, 0, false, ret_mtu);
}

int mf_remote_tick(struct mf_remote *rc)
{
	struct mf_ctl_msg rp;
	int r;

	if (!rc)
		return 0;
	while ((r = recv_reply(rc, &rp)) == 0)
		if (rp.status == MF_CTL_NO_SESSION)
			rc->lost = true;
	if (rc->lost)
		return -ENOLINK;
	/* -ECONNREFUSED: the server is gone (its port is closed) */
	if (r != -EAGAIN)
		return r;
	if (mp_clock_mono_ns() - rc->sent_ns < rc->ping_ns)
		return 0;
	return send_req(rc, MF_CTL_PING, 0);
}
