/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/admit.c: the pending pool's per-source cap and
 * oldest-first eviction, the refusal of a full pool, session slots only
 * after authentication with their per-source cap and the budget, the
 * counters, and the rate limit of rejection log lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct mp_admit *mk(uint32_t pend, uint32_t pps, uint32_t sess, uint32_t sps,
			   uint64_t budget)
{
	struct mp_admit_opts o = MP_ADMIT_OPTS_INIT;
	struct mp_admit *a = NULL;

	o.max_pending = pend;
	o.pending_per_source = pps;
	o.max_sessions = sess;
	o.sessions_per_source = sps;
	o.budget_bps = budget;
	assert_int_equal(mp_admit_new(&a, &o), 0);
	return a;
}

static void test_opts(void **state)
{
	struct mp_admit_opts o = MP_ADMIT_OPTS_INIT;
	struct mp_admit *a = NULL;

	(void)state;
	o.pending_per_source = o.max_pending + 1;
	assert_int_equal(mp_admit_new(&a, &o), -EINVAL);
	o = (struct mp_admit_opts)MP_ADMIT_OPTS_INIT;
	o.sessions_per_source = 0;
	assert_int_equal(mp_admit_new(&a, &o), -EINVAL);
	o = (struct mp_admit_opts)MP_ADMIT_OPTS_INIT;
	o.v6_prefix_len = 129;
	assert_int_equal(mp_admit_new(&a, &o), -EINVAL);
	o = (struct mp_admit_opts)MP_ADMIT_OPTS_INIT;
	o.max_pending = MP_ADMIT_PENDING_MAX + 1;
	o.pending_per_source = 1;
	assert_int_equal(mp_admit_new(&a, &o), -EINVAL);
	assert_null(a);
	mp_admit_free(NULL);
}

/* A source at its cap loses its own oldest, never another source's. */
static void test_per_source_evicts_own_oldest(void **state)
{
	struct mp_admit *a = mk(8, 3, 4, 4, 0);
	struct sockaddr_storage f = v4("10.0.0.1"), g = v4("10.0.0.2");
	struct mp_admit_counters c;
	uint32_t h, hg;
	uint64_t ev;
	uint32_t np, ns;

	(void)state;
	assert_int_equal(mp_admit_open(a, SA(g), 100, &hg, &ev), MP_ADMIT_OK);
	assert_int_equal(ev, UINT64_MAX);
	for (uint64_t i = 0; i < 3; i++) {
		assert_int_equal(mp_admit_open(a, SA(f), i, &h, &ev), MP_ADMIT_OK);
		assert_int_equal(ev, UINT64_MAX);
	}
	/* the 4th, 5th ... of f push out f's oldest: 0, then 1, ... */
	for (uint64_t i = 3; i < 10; i++) {
		assert_int_equal(mp_admit_open(a, SA(f), i, &h, &ev), MP_ADMIT_OK);
		assert_int_equal(ev, i - 3);
	}
	mp_admit_source_count(a, SA(f), &np, &ns);
	assert_int_equal(np, 3);
	mp_admit_source_count(a, SA(g), &np, &ns);
	assert_int_equal(np, 1);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.pending, 4);
	assert_int_equal(c.pending_admitted, 11);
	assert_int_equal(c.refused[MP_ADMIT_EVICTED], 7);
	/* g's connection still authenticates */
	assert_int_equal(mp_admit_auth(a, &hg, 0), MP_ADMIT_OK);
	mp_admit_free(a);
}

/* A full pool: the largest holder loses its oldest when it holds more than
 * the newcomer's source would; else the newcomer is refused and nothing
 * changes (no ping-pong between two sources). */
static void test_pool_full(void **state)
{
	struct mp_admit *a = mk(4, 3, 4, 4, 0);
	struct sockaddr_storage f = v4("10.0.0.1"), g = v4("10.0.0.2"), x = v4("10.0.0.3");
	struct sockaddr_storage y = v4("10.0.0.4"), z = v4("10.0.0.5");
	struct mp_admit_counters c;
	uint32_t h;
	uint64_t ev;

	(void)state;
	assert_int_equal(mp_admit_open(a, SA(f), 1, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_open(a, SA(f), 2, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_open(a, SA(f), 3, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_open(a, SA(g), 4, &h, &ev), MP_ADMIT_OK);
	/* full: x (0 held) takes f's oldest */
	assert_int_equal(mp_admit_open(a, SA(x), 5, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(ev, 1);
	/* f 2, g 1, x 1: g would hold 2, as many as f: refused, nothing moves */
	ev = 42;
	assert_int_equal(mp_admit_open(a, SA(g), 6, &h, &ev), MP_ADMIT_PENDING_FULL);
	assert_int_equal(ev, 42);
	/* a new source y takes f's next oldest */
	assert_int_equal(mp_admit_open(a, SA(y), 7, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(ev, 2);
	/* one each: nobody gives way */
	assert_int_equal(mp_admit_open(a, SA(z), 8, &h, &ev), MP_ADMIT_PENDING_FULL);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.pending, 4);
	assert_int_equal(c.refused[MP_ADMIT_PENDING_FULL], 2);
	assert_int_equal(c.refused[MP_ADMIT_EVICTED], 2);
	mp_admit_free(a);
}

/* Session slots only after auth; the pending slot is freed by it. */
static void test_sessions(void **state)
{
	struct mp_admit *a = mk(4, 4, 3, 2, 0);
	struct sockaddr_storage f = v4("10.0.0.1"), g = v4("10.0.0.2");
	struct mp_admit_counters c;
	uint32_t h[4], hg, bad;
	uint64_t ev;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(mp_admit_open(a, SA(f), (uint64_t)i, &h[i], &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[0], 0), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[1], 0), MP_ADMIT_OK);
	/* f's third is over its session cap: refused, its pending slot freed */
	assert_int_equal(mp_admit_auth(a, &h[2], 0), MP_ADMIT_SESSIONS_SOURCE);
	assert_int_equal(h[2], MP_ADMIT_NONE);
	bad = h[0];
	assert_int_equal(mp_admit_auth(a, &bad, 0), -EINVAL);	/* not pending */
	assert_int_equal(mp_admit_open(a, SA(g), 9, &hg, &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &hg, 0), MP_ADMIT_OK);
	/* 3 sessions: full for everyone */
	assert_int_equal(mp_admit_open(a, SA(g), 10, &h[3], &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[3], 0), MP_ADMIT_SESSIONS_FULL);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.sessions, 3);
	assert_int_equal(c.pending, 0);
	assert_int_equal(c.sessions_admitted, 3);
	assert_int_equal(c.refused[MP_ADMIT_SESSIONS_SOURCE], 1);
	assert_int_equal(c.refused[MP_ADMIT_SESSIONS_FULL], 1);
	mp_admit_close(a, h[0]);
	mp_admit_close(a, h[0]);	/* twice: harmless */
	mp_admit_close(a, MP_ADMIT_NONE);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.sessions, 2);
	assert_int_equal(mp_admit_open(a, SA(f), 11, &h[0], &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[0], 0), MP_ADMIT_OK);
	mp_admit_free(a);
}

static void test_budget(void **state)
{
	struct mp_admit *a = mk(8, 8, 8, 8, 3000000);
	struct sockaddr_storage s[4] = { v4("10.0.0.1"), v4("10.0.0.2"), v4("10.0.0.3"),
					 v4("10.0.0.4") };
	struct mp_admit_counters c;
	uint32_t h[4];
	uint64_t ev;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(mp_admit_open(a, SA(s[i]), (uint64_t)i, &h[i], &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[0], 1000000), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[1], 2000000), MP_ADMIT_OK);
	assert_int_equal(mp_admit_auth(a, &h[2], 1), MP_ADMIT_BUDGET);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.budget_used_bps, 3000000);
	mp_admit_close(a, h[1]);
	assert_int_equal(mp_admit_auth(a, &h[3], UINT64_MAX), MP_ADMIT_BUDGET);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.budget_used_bps, 1000000);
	assert_int_equal(c.refused[MP_ADMIT_BUDGET], 2);
	mp_admit_free(a);
}

static void test_expire(void **state)
{
	struct mp_admit *a = mk(2, 2, 2, 2, 0);
	struct sockaddr_storage f = v4("10.0.0.1");
	struct mp_admit_counters c;
	uint32_t h;
	uint64_t ev;

	(void)state;
	assert_int_equal(mp_admit_open(a, SA(f), 1, &h, &ev), MP_ADMIT_OK);
	mp_admit_expire(a, h);
	mp_admit_counters_get(a, &c);
	assert_int_equal(c.pending, 0);
	assert_int_equal(c.refused[MP_ADMIT_HANDSHAKE_TIMEOUT], 1);
	assert_string_equal(mp_admit_reason_name(MP_ADMIT_HANDSHAKE_TIMEOUT),
			    "handshake_timeout");
	assert_string_equal(mp_admit_reason_name(99), "unknown");
	mp_admit_free(a);
}

/* One /64 is one source; another /64 is another. */
static void test_v6_prefix(void **state)
{
	struct mp_admit *a = mk(8, 2, 2, 2, 0);
	struct sockaddr_storage p1 = v6("2001:db8:0:1::1"), p2 = v6("2001:db8:0:1:ffff::2"),
				q = v6("2001:db8:0:2::1");
	uint32_t h, np, ns;
	uint64_t ev;

	(void)state;
	assert_int_equal(mp_admit_open(a, SA(p1), 1, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_open(a, SA(p2), 2, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(mp_admit_open(a, SA(p2), 3, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(ev, 1);
	assert_int_equal(mp_admit_open(a, SA(q), 4, &h, &ev), MP_ADMIT_OK);
	assert_int_equal(ev, UINT64_MAX);
	mp_admit_source_count(a, SA(p1), &np, &ns);
	assert_int_equal(np, 2);
	mp_admit_free(a);
}

static void test_log_rate(void **state)
{
	struct mp_admit *a = mk(2, 2, 2, 2, 0);
	uint64_t now = 1000 * MP_NSEC_PER_SEC, sup = 99;
	int ok = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		ok += mp_admit_log_ok(a, now, &sup);
	assert_int_equal(ok, MP_ADMIT_LOG_BURST);
	/* a second later: 10 more, the first of them says 80 were suppressed */
	now += MP_NSEC_PER_SEC;
	assert_true(mp_admit_log_ok(a, now, &sup));
	assert_int_equal(sup, 80);
	ok = 1;
	for (int i = 0; i < 100; i++)
		ok += mp_admit_log_ok(a, now, &sup);
	assert_int_equal(ok, MP_ADMIT_LOG_RATE);
	mp_admit_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_per_source_evicts_own_oldest),
		cmocka_unit_test(test_pool_full),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_v6_prefix),
		cmocka_unit_test(test_log_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
