/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/responder.c over loopback (IPv4 and IPv6): a plain UDP
 * client socket sends STAMP test packets to a responder driven from this
 * thread and checks what comes back, and what the counters say. The packet
 * codec itself is tested against RFC vectors in test_stamp.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "mp.h"
#include "auth.h"
#include "clock.h"
#include "responder.h"
#include "stamp.h"

enum {
	WAIT_MS = 2000,		/* longest wait for anything on loopback */
	QUIET_MS = 200,		/* how long "no reply" is waited for */
};

static const uint8_t key_raw[MP_AUTH_KEY_BYTES] = "0123456789abcdef0123456789abcde";

/* ---- helpers ---- */

static void sa_make(struct sockaddr_storage *ss, socklen_t *len, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		*len = sizeof(*s4);
	}
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void sa_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	assert_non_null(inet_ntop(ss->ss_family, a, buf, (socklen_t)len));
}

/* A responder on one local address (port picked by the kernel), or NULL
 * if that family is not available here. */
static struct mp_responder *responder_on(const char *ip, struct mp_responder_opts *o,
					 struct sockaddr_storage *ret_addr, socklen_t *ret_len)
{
	struct mp_responder *r = NULL;
	socklen_t len;
	int rc;

	o->port = 0;
	o->n_bind = 1;
	sa_make(&o->bind[0], &len, ip, 0);
	rc = mp_responder_new(&r, o);
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT)
		return NULL;
	assert_int_equal(rc, 0);
	assert_int_equal(mp_responder_addr_get(r, 0, ret_addr, ret_len), 0);
	assert_int_not_equal(sa_port(ret_addr), 0);
	assert_int_equal(mp_responder_addr_get(r, 1, ret_addr + 1, ret_len), -ENOENT);
	return r;
}

/* A client socket bound to ip:port (port 0: any), or -1 if that fails. */
static int client_open(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	sa_make(&ss, &len, ip, port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_test(int fd, const struct sockaddr_storage *to, socklen_t to_len,
		      const struct mp_stamp_test *t, const struct mp_auth_key *key, size_t len)
{
	uint8_t buf[2048];

	assert_int_equal(mp_stamp_test_encode(t, key, len, buf, sizeof(buf)), (int)len);
	assert_int_equal(sendto(fd, buf, len, 0, (const struct sockaddr *)to, to_len),
			 (ssize_t)len);
}

static void send_raw(int fd, const struct sockaddr_storage *to, socklen_t to_len,
		     const void *buf, size_t len)
{
	assert_int_equal(sendto(fd, buf, len, 0, (const struct sockaddr *)to, to_len),
			 (ssize_t)len);
}

/* Run the responder until it has received `want` datagrams in all. */
static void pump(struct mp_responder *r, uint64_t now_ns, uint64_t want)
{
	struct pollfd p = { .fd = mp_responder_fd(r), .events = POLLIN };
	struct mp_responder_counters c;
	uint64_t end = mp_clock_mono_ns() + WAIT_MS * MP_NSEC_PER_MSEC;

	for (;;) {
		assert_true(mp_responder_process(r, now_ns) >= 0);
		mp_responder_counters_get(r, &c);
		if (c.received >= want)
			break;
		assert_true(mp_clock_mono_ns() < end);
		poll(&p, 1, 50);
	}
	assert_true(c.received == want);
}

/* One datagram, or -1 after timeout_ms of silence. */
static ssize_t recv_reply(int fd, uint8_t *buf, size_t len, int timeout_ms,
			  struct sockaddr_storage *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t flen = sizeof(*from);

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &flen);
}

static void counters_balance(struct mp_responder *r)
{
	struct mp_responder_counters c;

	mp_responder_counters_get(r, &c);
	assert_true(c.received == c.reflected + c.dropped_malformed + c.dropped_auth +
		    c.dropped_ratelimit + c.dropped_global + c.dropped_size + c.dropped_sessions +
		    c.send_errors);
}

/* ---- reflection ---- */

/*
 * n packets of different lengths from one client: each reply is as long as
 * its request, copies the sender's fields, carries the reflector's own
 * sequence number from 0, comes from the address the request went to, and
 * T1 <= T2 <= T3 <= T4 on this one CLOCK_REALTIME.
 */
static void reflect_basic(const char *ip)
{
	static const size_t lens[] = { 44, 45, 60, 200, 1000, 1472 };
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct sockaddr_storage ra[2], from;
	struct mp_responder *r;
	socklen_t rlen;
	char want_ip[64], got_ip[64];
	uint8_t buf[2048];
	size_t i, j;
	int fd;

	r = responder_on(ip, &o, ra, &rlen);
	if (!r) {
		skip();
		return;
	}
	fd = client_open(ip, 0);
	assert_true(fd >= 0);
	for (i = 0; i < MP_ARRAY_SIZE(lens); i++) {
		struct mp_stamp_errest e = { .synced = true, .error_ns = 1000 + i };
		struct mp_stamp_test t = {
			.seq = 1000 + (uint32_t)i,
			.errest = mp_stamp_errest_encode(&e),
			.ssid = 0x1234,
		};
		struct mp_stamp_reply p;
		uint64_t t1, t2, t3, t4;
		ssize_t n;

		t1 = mp_clock_real_ns();
		t.ts = mp_ntp_from_real_ns(t1);
		send_test(fd, &ra[0], rlen, &t, NULL, lens[i]);
		pump(r, mp_clock_mono_ns(), i + 1);
		n = recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from);
		t4 = mp_clock_real_ns();
		assert_int_equal(n, (ssize_t)lens[i]);
		assert_int_equal(mp_stamp_reply_decode(buf, (size_t)n, NULL, &p),
				 (int)(lens[i] - MP_STAMP_BASE_LEN));
		assert_true(p.seq == i);		/* stateful: 0, 1, 2, ... */
		assert_true(p.sender_seq == t.seq);
		assert_true(p.sender_ts == t.ts);
		assert_int_equal(p.sender_errest, t.errest);
		assert_int_equal(p.ssid, 0x1234);
		assert_true(p.sender_ttl > 0);
		assert_false(p.errest & MP_STAMP_ERREST_Z);
		t2 = mp_real_ns_from_ntp(p.rx_ts);
		t3 = mp_real_ns_from_ntp(p.ts);
		/* +1: an NTP fraction unit is 0.23 ns, rounding moves by 1 ns */
		assert_true(t1 <= t2 + 1);
		assert_true(t2 <= t3);
		assert_true(t3 <= t4 + 1);
		assert_true(t4 - t1 < WAIT_MS * MP_NSEC_PER_MSEC);
		for (j = MP_STAMP_BASE_LEN; j < (size_t)n; j++)
			assert_int_equal(buf[j], 0);	/* padding: zeros, never echoed */
		/* from the address and port the request was sent to */
		sa_text(&ra[0], want_ip, sizeof(want_ip));
		sa_text(&from, got_ip, sizeof(got_ip));
		assert_string_equal(got_ip, want_ip);
		assert_int_equal(sa_port(&from), sa_port(&ra[0]));
	}
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == MP_ARRAY_SIZE(lens));
	assert_true(c.sessions == 1);
	counters_balance(r);
	close(fd);
	mp_responder_free(r);
}

static void test_reflect_v4(void **state)
{
	(void)state;
	reflect_basic("127.0.0.1");
}

static void test_reflect_v6(void **state)
{
	(void)state;
	reflect_basic("::1");
}

/* Default options: both wildcards. Requests to 127.0.0.2 and ::1 are
 * answered from exactly those addresses (IP_PKTINFO / IPV6_PKTINFO). */
static void test_wildcard_pktinfo(void **state)
{
	static const char *const dsts[] = { "127.0.0.2", "127.0.0.1", "::1" };
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder *r;
	struct sockaddr_storage a, to, from;
	socklen_t alen, tolen;
	uint16_t port4 = 0, port6 = 0;
	uint64_t got = 0;
	unsigned i;

	(void)state;
	o.port = 0;
	assert_int_equal(mp_responder_new(&r, &o), 0);
	for (i = 0; mp_responder_addr_get(r, i, &a, &alen) == 0; i++) {
		if (a.ss_family == AF_INET)
			port4 = sa_port(&a);
		else
			port6 = sa_port(&a);
	}
	assert_int_not_equal(port4, 0);
	for (i = 0; i < MP_ARRAY_SIZE(dsts); i++) {
		bool v6 = strchr(dsts[i], ':');
		struct mp_stamp_test t = { .seq = i };
		uint8_t buf[128];
		char got_ip[64];
		int fd;

		if (v6 && !port6)
			continue;	/* no IPv6 on this host */
		fd = client_open(v6 ? "::1" : "127.0.0.1", 0);
		assert_true(fd >= 0);
		sa_make(&to, &tolen, dsts[i], v6 ? port6 : port4);
		send_test(fd, &to, tolen, &t, NULL, 64);
		pump(r, mp_clock_mono_ns(), ++got);
		assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), 64);
		sa_text(&from, got_ip, sizeof(got_ip));
		assert_string_equal(got_ip, dsts[i]);
		close(fd);
	}
	counters_balance(r);
	mp_responder_free(r);
}

/* Stateful: one counter per session (source address and port, SSID);
 * stateless: the sender's own number comes back. */
static void test_sessions(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct sockaddr_storage ra[2], from;
	socklen_t rlen;
	uint8_t buf[128];
	int fd[2], k;
	uint32_t i;

	(void)state;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	fd[0] = client_open("127.0.0.1", 0);
	fd[1] = client_open("127.0.0.1", 0);
	for (i = 0; i < 4; i++) {
		for (k = 0; k < 2; k++) {
			/* client 0 skips sender numbers: forward "loss" the
			 * reflector's own numbering does not show */
			struct mp_stamp_test t = { .seq = k ? i : 10 * i, .ssid = 7 };
			struct mp_stamp_reply p;

			send_test(fd[k], &ra[0], rlen, &t, NULL, 44);
			pump(r, mp_clock_mono_ns(), 2 * i + (uint32_t)k + 1);
			assert_int_equal(recv_reply(fd[k], buf, sizeof(buf), WAIT_MS, &from), 44);
			assert_int_equal(mp_stamp_reply_decode(buf, 44, NULL, &p), 0);
			assert_true(p.seq == i);
			assert_true(p.sender_seq == t.seq);
		}
	}
	/* another SSID from the same socket is another session */
	{
		struct mp_stamp_test t = { .seq = 99, .ssid = 8 };
		struct mp_stamp_reply p;

		send_test(fd[0], &ra[0], rlen, &t, NULL, 44);
		pump(r, mp_clock_mono_ns(), 9);
		assert_int_equal(recv_reply(fd[0], buf, sizeof(buf), WAIT_MS, &from), 44);
		assert_int_equal(mp_stamp_reply_decode(buf, 44, NULL, &p), 0);
		assert_true(p.seq == 0 && p.ssid == 8);
	}
	mp_responder_counters_get(r, &c);
	assert_true(c.sessions == 3);
	/* idle sessions are forgotten after session_idle_ns */
	assert_true(mp_responder_process(r, mp_clock_mono_ns() + 2 * o.session_idle_ns) >= 0);
	mp_responder_counters_get(r, &c);
	assert_true(c.sessions == 0);
	mp_responder_free(r);

	o = (struct mp_responder_opts)MP_RESPONDER_OPTS_INIT;
	o.stateless = true;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	for (i = 0; i < 3; i++) {
		struct mp_stamp_test t = { .seq = 500 + 3 * i };
		struct mp_stamp_reply p;

		send_test(fd[0], &ra[0], rlen, &t, NULL, 44);
		pump(r, mp_clock_mono_ns(), i + 1);
		assert_int_equal(recv_reply(fd[0], buf, sizeof(buf), WAIT_MS, &from), 44);
		assert_int_equal(mp_stamp_reply_decode(buf, 44, NULL, &p), 0);
		assert_true(p.seq == t.seq && p.sender_seq == t.seq);
	}
	mp_responder_counters_get(r, &c);
	assert_true(c.sessions == 0);
	mp_responder_free(r);
	close(fd[0]);
	close(fd[1]);
}

/* A full session table drops new sessions while the old ones are live and
 * takes them once the oldest has been idle for session_idle_ns. */
static void test_session_cap(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct sockaddr_storage ra[2], from;
	socklen_t rlen;
	uint8_t buf[64];
	uint64_t now = mp_clock_mono_ns();
	int fd = client_open("127.0.0.1", 0);
	uint16_t ssid;

	(void)state;
	o.max_sessions = 2;
	o.session_idle_ns = 10 * MP_NSEC_PER_SEC;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	for (ssid = 1; ssid <= 3; ssid++) {
		struct mp_stamp_test t = { .ssid = ssid };

		send_test(fd, &ra[0], rlen, &t, NULL, 44);
	}
	pump(r, now, 3);
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 2 && c.dropped_sessions == 1 && c.sessions == 2);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), 44);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), 44);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), QUIET_MS, &from), -1);
	{
		struct mp_stamp_test t = { .ssid = 3 };

		send_test(fd, &ra[0], rlen, &t, NULL, 44);
		pump(r, now + 11 * MP_NSEC_PER_SEC, 4);
	}
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 3 && c.dropped_sessions == 1);
	counters_balance(r);
	mp_responder_free(r);
	close(fd);
}

/* ---- limits ---- */

/* rate 10/s, burst 5, with the clock held still: exactly 5 of 20 pass;
 * 1 s later the bucket is full again (5 more); 300 ms after that 3 fit
 * (GCRA: T = 100 ms, tau = 400 ms). A second source has its own bucket. */
static void test_rate_limit(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct sockaddr_storage ra[2], from;
	socklen_t rlen;
	uint8_t buf[64];
	uint64_t now = mp_clock_mono_ns(), want = 0;
	static const struct {
		uint64_t dt_ns;
		int pass;
	} rounds[] = { { 0, 5 }, { MP_NSEC_PER_SEC, 5 }, { 300 * MP_NSEC_PER_MSEC, 3 } };
	int fd, fd2, i, k, n;

	(void)state;
	o.rate_pps = 10;
	o.burst = 5;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	fd = client_open("127.0.0.1", 0);
	fd2 = client_open("127.0.0.3", 0);
	for (k = 0; k < (int)MP_ARRAY_SIZE(rounds); k++) {
		now += rounds[k].dt_ns;
		for (i = 0; i < 20; i++) {
			struct mp_stamp_test t = { .seq = (uint32_t)i };

			send_test(fd, &ra[0], rlen, &t, NULL, 44);
		}
		want += 20;
		pump(r, now, want);
		for (n = 0;; n++) {
			int wait_ms = n < rounds[k].pass ? WAIT_MS : QUIET_MS;

			if (recv_reply(fd, buf, sizeof(buf), wait_ms, &from) != 44)
				break;
		}
		assert_int_equal(n, rounds[k].pass);
	}
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 13 && c.dropped_ratelimit == 47);

	for (i = 0; i < 8; i++) {
		struct mp_stamp_test t = { .seq = (uint32_t)i };

		send_test(fd2, &ra[0], rlen, &t, NULL, 44);
	}
	pump(r, now, want + 8);
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 18 && c.dropped_ratelimit == 50);
	counters_balance(r);
	mp_responder_free(r);
	close(fd);
	close(fd2);
}

/* Global cap 10/s, burst 6, per source 10/s, burst 4, the clock held
 * still: the first source's 10 requests give 4 replies (its own bucket),
 * the second's 10 give 2 (the global bucket has 6 - 4 left) and 2 more
 * over the global cap; the rest are over their own bucket. */
static void test_global_limit(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct sockaddr_storage ra[2];
	socklen_t rlen;
	uint64_t now = mp_clock_mono_ns();
	int fd[2], i, k;

	(void)state;
	o.rate_pps = 10;
	o.burst = 4;
	o.global_pps = 10;
	o.global_burst = 6;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	fd[0] = client_open("127.0.0.1", 0);
	fd[1] = client_open("127.0.0.3", 0);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 10; i++) {
			struct mp_stamp_test t = { .seq = (uint32_t)i };

			send_test(fd[k], &ra[0], rlen, &t, NULL, 44);
		}
		pump(r, now, 10 * (uint64_t)(k + 1));
	}
	mp_responder_counters_get(r, &c);
	assert_int_equal(c.reflected, 6);
	assert_int_equal(c.dropped_global, 2);
	assert_int_equal(c.dropped_ratelimit, 12);
	counters_balance(r);
	mp_responder_free(r);
	close(fd[0]);
	close(fd[1]);
}

/* Short, oversized and unanswerable datagrams are counted and never get a
 * reply; the responder goes on serving afterwards. */
static void test_malformed(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct sockaddr_storage ra[2], from;
	socklen_t rlen;
	uint8_t buf[256] = { 0 };
	uint64_t want = 0;
	static const uint16_t bad_ports[] = { 7, 19, MP_STAMP_PORT };
	int fd, bad;
	size_t i;

	(void)state;
	o.max_len = 100;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	fd = client_open("127.0.0.1", 0);
	send_raw(fd, &ra[0], rlen, buf, 0);
	send_raw(fd, &ra[0], rlen, buf, 1);
	send_raw(fd, &ra[0], rlen, buf, 43);
	send_raw(fd, &ra[0], rlen, buf, 101);
	send_raw(fd, &ra[0], rlen, buf, 256);
	want += 5;
	pump(r, mp_clock_mono_ns(), want);
	mp_responder_counters_get(r, &c);
	assert_true(c.dropped_size == 5 && c.reflected == 0);
	/* loop protection: requests from reflecting service ports (root only) */
	for (i = 0; i < MP_ARRAY_SIZE(bad_ports); i++) {
		bad = client_open("127.0.0.1", bad_ports[i]);
		if (bad < 0)
			continue;
		send_raw(bad, &ra[0], rlen, buf, 44);
		pump(r, mp_clock_mono_ns(), ++want);
		assert_int_equal(recv_reply(bad, buf, sizeof(buf), QUIET_MS, &from), -1);
		close(bad);
		mp_responder_counters_get(r, &c);
		assert_true(c.dropped_malformed >= 1);
	}
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), QUIET_MS, &from), -1);
	/* still serving */
	memset(buf, 0, sizeof(buf));
	send_raw(fd, &ra[0], rlen, buf, 100);
	pump(r, mp_clock_mono_ns(), ++want);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), 100);
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 1);
	counters_balance(r);
	mp_responder_free(r);
	close(fd);
}

/* Another reflector's reply, arriving as a request, is not answered (no
 * ping-pong); nor are non-zero octets at 16..23 unless no_loop_check. */
static void test_loop_check(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct sockaddr_storage ra[2], from;
	struct mp_stamp_test t = { .seq = 1 };
	socklen_t rlen;
	uint8_t buf[128], twamp[64];
	int fd, i;

	(void)state;
	for (i = 0; i < (int)sizeof(twamp); i++)	/* TWAMP-Light: random padding */
		twamp[i] = (uint8_t)(i * 37 + 11);
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	fd = client_open("127.0.0.1", 0);
	send_test(fd, &ra[0], rlen, &t, NULL, 64);
	pump(r, mp_clock_mono_ns(), 1);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), 64);
	send_raw(fd, &ra[0], rlen, buf, 64);		/* the reply, bounced back */
	send_raw(fd, &ra[0], rlen, twamp, sizeof(twamp));
	pump(r, mp_clock_mono_ns(), 3);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), QUIET_MS, &from), -1);
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 1 && c.dropped_malformed == 2);
	mp_responder_free(r);

	o.no_loop_check = true;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	send_raw(fd, &ra[0], rlen, twamp, sizeof(twamp));
	pump(r, mp_clock_mono_ns(), 1);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), sizeof(twamp));
	mp_responder_free(r);
	close(fd);
}

/* ---- authenticated mode ---- */

static void test_auth(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r;
	struct mp_auth_key key, wrong;
	struct sockaddr_storage ra[2], from;
	struct mp_stamp_test t = { .seq = 42, .ts = 0x0123456789abcdefULL, .ssid = 5 };
	struct mp_stamp_reply p;
	socklen_t rlen;
	uint8_t buf[512];
	int fd;

	(void)state;
	assert_int_equal(mp_auth_key_set(&key, key_raw, sizeof(key_raw)), 0);
	assert_int_equal(mp_auth_key_set(&wrong, "some other key", 14), 0);
	o.key = &key;
	r = responder_on("127.0.0.1", &o, ra, &rlen);
	fd = client_open("127.0.0.1", 0);

	/* right key: a signed reply of the request's length */
	send_test(fd, &ra[0], rlen, &t, &key, MP_STAMP_AUTH_BASE_LEN);
	pump(r, mp_clock_mono_ns(), 1);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), MP_STAMP_AUTH_BASE_LEN);
	assert_int_equal(mp_stamp_reply_decode(buf, MP_STAMP_AUTH_BASE_LEN, &key, &p), 0);
	assert_true(p.sender_seq == 42 && p.sender_ts == t.ts && p.seq == 0 && p.ssid == 5);
	assert_int_equal(mp_stamp_reply_decode(buf, MP_STAMP_AUTH_BASE_LEN, &wrong, &p),
			 -EBADMSG);
	send_test(fd, &ra[0], rlen, &t, &key, 300);
	pump(r, mp_clock_mono_ns(), 2);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), 300);
	assert_int_equal(mp_stamp_reply_decode(buf, 300, &key, &p), 300 - MP_STAMP_AUTH_BASE_LEN);
	assert_true(p.seq == 1);

	/* wrong key, tampered packet, missing HMAC: silence and a counter */
	send_test(fd, &ra[0], rlen, &t, &wrong, MP_STAMP_AUTH_BASE_LEN);
	assert_int_equal(mp_stamp_test_encode(&t, &key, 112, buf, sizeof(buf)), 112);
	buf[3] ^= 1;
	send_raw(fd, &ra[0], rlen, buf, 112);
	send_test(fd, &ra[0], rlen, &t, NULL, MP_STAMP_BASE_LEN);
	send_test(fd, &ra[0], rlen, &t, NULL, 111);
	pump(r, mp_clock_mono_ns(), 6);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), QUIET_MS, &from), -1);
	mp_responder_counters_get(r, &c);
	assert_true(c.reflected == 2 && c.dropped_auth == 4);
	/* forgeries moved no session counter */
	send_test(fd, &ra[0], rlen, &t, &key, MP_STAMP_AUTH_BASE_LEN);
	pump(r, mp_clock_mono_ns(), 7);
	assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from), MP_STAMP_AUTH_BASE_LEN);
	assert_int_equal(mp_stamp_reply_decode(buf, MP_STAMP_AUTH_BASE_LEN, &key, &p), 0);
	assert_true(p.seq == 2);
	counters_balance(r);

	mp_responder_free(r);
	close(fd);
	mp_auth_key_done(&key);
	mp_auth_key_done(&wrong);
}

/* ---- options ---- */

static void test_opts(void **state)
{
	struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
	struct mp_auth_key unset = { 0 };
	struct mp_responder *r = NULL;

	(void)state;
	mp_responder_free(NULL);
	assert_int_equal(mp_responder_new(&r, NULL), -EINVAL);
	assert_int_equal(mp_responder_new(NULL, &o), -EINVAL);
	o.max_len = 43;
	assert_int_equal(mp_responder_new(&r, &o), -EINVAL);
	o = (struct mp_responder_opts)MP_RESPONDER_OPTS_INIT;
	o.key = &unset;
	assert_int_equal(mp_responder_new(&r, &o), -EINVAL);
	o = (struct mp_responder_opts)MP_RESPONDER_OPTS_INIT;
	o.max_sessions = 0;
	assert_int_equal(mp_responder_new(&r, &o), -EINVAL);
	o = (struct mp_responder_opts)MP_RESPONDER_OPTS_INIT;
	o.family = AF_UNIX;
	assert_int_equal(mp_responder_new(&r, &o), -EINVAL);
	o = (struct mp_responder_opts)MP_RESPONDER_OPTS_INIT;
	o.n_bind = MP_RESPONDER_BIND_MAX + 1;
	assert_int_equal(mp_responder_new(&r, &o), -EINVAL);
	assert_null(r);
	assert_int_equal(mp_responder_process(NULL, 0), -EINVAL);
}

/* clock_offset_ns shifts T2 and T3 by exactly that much: with the offset
 * removed they lie between T1 and T4 read here, as in reflect_basic(). */
static void test_clock_offset(void **state)
{
	static const int64_t offs[] = { 5 * (int64_t)MP_NSEC_PER_MSEC,
					-3 * (int64_t)MP_NSEC_PER_SEC };
	struct sockaddr_storage ra[2], from;
	struct mp_responder *r;
	socklen_t rlen;
	uint8_t buf[128];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < MP_ARRAY_SIZE(offs); i++) {
		struct mp_responder_opts o = MP_RESPONDER_OPTS_INIT;
		struct mp_stamp_test t = { .seq = 7 };
		struct mp_stamp_reply p;
		uint64_t t1, t2, t3, t4;

		o.clock_offset_ns = offs[i];
		r = responder_on("127.0.0.1", &o, ra, &rlen);
		assert_non_null(r);
		fd = client_open("127.0.0.1", 0);
		assert_true(fd >= 0);
		t1 = mp_clock_real_ns();
		t.ts = mp_ntp_from_real_ns(t1);
		send_test(fd, &ra[0], rlen, &t, NULL, MP_STAMP_BASE_LEN);
		pump(r, mp_clock_mono_ns(), 1);
		assert_int_equal(recv_reply(fd, buf, sizeof(buf), WAIT_MS, &from),
				 MP_STAMP_BASE_LEN);
		t4 = mp_clock_real_ns();
		assert_true(mp_stamp_reply_decode(buf, MP_STAMP_BASE_LEN, NULL, &p) == 0);
		t2 = mp_real_ns_from_ntp(p.rx_ts) - (uint64_t)offs[i];
		t3 = mp_real_ns_from_ntp(p.ts) - (uint64_t)offs[i];
		assert_true(t1 <= t2 + 1);
		assert_true(t2 <= t3);
		assert_true(t3 <= t4 + 1);
		close(fd);
		mp_responder_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reflect_v4),
		cmocka_unit_test(test_reflect_v6),
		cmocka_unit_test(test_wildcard_pktinfo),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_session_cap),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_global_limit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_loop_check),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_clock_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
