/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/clock.c. NTP values are worked by hand from RFC 5905
 * (2208988800 s from 1900 to 1970; the fraction is a 32-bit binary
 * fraction, so 0.5 s = 0x80000000) or come from the fixtures written by
 * tests/unit/fixtures/gen_clock.py (Python datetime and fractions).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <cmocka.h>

#include "mp.h"
#include "clock.h"

#define FIXTURES "tests/unit/fixtures/"
#define NTP_EPOCH_UNIX (MP_NTP_UNIX_OFFSET_S << 32)	/* NTP timestamp of 1970-01-01 */
#define SEC ((uint64_t)MP_NSEC_PER_SEC)

static FILE *open_fixture(const char *name)
{
	FILE *f = fopen(name, "r");

	if (!f)
		fail_msg("cannot open %s (run from the repository root): %s", name,
			 strerror(errno));
	return f;
}

/* Next non-comment line of f into buf; false at the end. */
static bool next_line(FILE *f, char *buf, size_t len)
{
	while (fgets(buf, (int)len, f))
		if (buf[0] != '#' && buf[0] != '\n')
			return true;
	return false;
}

static void test_ntp_hand_worked(void **state)
{
	(void)state;
	/* the Unix epoch, and fractions of a second that are exact in binary */
	assert_true(mp_ntp_from_real_ns(0) == NTP_EPOCH_UNIX);
	assert_true(mp_ntp_from_real_ns(SEC / 2) == (NTP_EPOCH_UNIX | 0x80000000U));
	assert_true(mp_ntp_from_real_ns(SEC / 4) == (NTP_EPOCH_UNIX | 0x40000000U));
	assert_true(mp_ntp_from_real_ns(SEC) == NTP_EPOCH_UNIX + (1ULL << 32));
	/* 1 ns = 4.294967296 units -> 4; 999999999 ns = 4294967291.70 -> 0xfffffffc */
	assert_true(mp_ntp_from_real_ns(1) == (NTP_EPOCH_UNIX | 4));
	assert_true(mp_ntp_from_real_ns(999999999) == (NTP_EPOCH_UNIX | 0xfffffffcU));
	/* 2036-02-07 06:28:16 UTC = 2^32 - 2208988800 s: NTP seconds wrap to 0 */
	assert_true(mp_ntp_from_real_ns(((1ULL << 32) - MP_NTP_UNIX_OFFSET_S) * SEC) == 0);

	assert_true(mp_real_ns_from_ntp(NTP_EPOCH_UNIX) == 0);
	assert_true(mp_real_ns_from_ntp(NTP_EPOCH_UNIX | 0x80000000U) == SEC / 2);
	/* (2^32 - 1) / 2^32 s = 999999999.767 ns rounds up into the next second */
	assert_true(mp_real_ns_from_ntp(NTP_EPOCH_UNIX | 0xffffffffU) == SEC);
	/* 2^22 / 2^32 s = 976562.5 ns exactly: a tie, rounded up */
	assert_true(mp_real_ns_from_ntp(NTP_EPOCH_UNIX | 0x00400000U) == 976563);
	/* seconds below the pivot are era 1: NTP 0 is 2036-02-07 06:28:16 */
	assert_true(mp_real_ns_from_ntp(0) == ((1ULL << 32) - MP_NTP_UNIX_OFFSET_S) * SEC);
}

static void test_ntp_fixtures(void **state)
{
	char line[256];
	uint64_t ns, ntp;
	FILE *f;
	int n = 0;

	(void)state;
	f = open_fixture(FIXTURES "clock_ntp.txt");
	while (next_line(f, line, sizeof(line))) {
		assert_int_equal(sscanf(line, "%" SCNu64 " %" SCNx64, &ns, &ntp), 2);
		if (mp_ntp_from_real_ns(ns) != ntp)
			fail_msg("ntp(%" PRIu64 ") = %016" PRIx64 ", want %016" PRIx64, ns,
				 mp_ntp_from_real_ns(ns), ntp);
		n++;
	}
	fclose(f);
	f = open_fixture(FIXTURES "clock_ntp_ns.txt");
	while (next_line(f, line, sizeof(line))) {
		assert_int_equal(sscanf(line, "%" SCNx64 " %" SCNu64, &ntp, &ns), 2);
		if (mp_real_ns_from_ntp(ntp) != ns)
			fail_msg("ns(%016" PRIx64 ") = %" PRIu64 ", want %" PRIu64, ntp,
				 mp_real_ns_from_ntp(ntp), ns);
		n++;
	}
	fclose(f);
	assert_true(n > 100);
}

static void test_ntp_short(void **state)
{
	char line[256], kind;
	uint64_t ns;
	uint32_t v;
	FILE *f;
	int n = 0;

	(void)state;
	assert_int_equal(mp_ntp_short_from_ns(SEC), 0x00010000U);
	assert_int_equal(mp_ntp_short_from_ns(SEC / 2), 0x00008000U);
	assert_int_equal(mp_ntp_short_from_ns(65536 * SEC), 0xffffffffU);
	assert_int_equal(mp_ns_from_ntp_short(0x00010000U), SEC);
	/* 1e9 / 65536 = 15258.789 ns */
	assert_int_equal(mp_ns_from_ntp_short(1), 15259);

	f = open_fixture(FIXTURES "clock_ntp_short.txt");
	while (next_line(f, line, sizeof(line))) {
		kind = line[0];
		if (kind == 'n') {
			assert_int_equal(sscanf(line, "n %" SCNu64 " %" SCNx32, &ns, &v), 2);
			if (mp_ntp_short_from_ns(ns) != v)
				fail_msg("short(%" PRIu64 ") = %08x, want %08x", ns,
					 mp_ntp_short_from_ns(ns), v);
		} else {
			assert_int_equal(sscanf(line, "s %" SCNx32 " %" SCNu64, &v, &ns), 2);
			if (mp_ns_from_ntp_short(v) != ns)
				fail_msg("ns(%08x) = %" PRIu64 ", want %" PRIu64, v,
					 mp_ns_from_ntp_short(v), ns);
		}
		n++;
	}
	fclose(f);
	assert_true(n > 40);
}

/*
 * ns -> NTP -> ns is exact: an NTP unit (0.233 ns) is finer than a ns, so
 * the first rounding moves the value by at most 0.117 ns. NTP -> ns -> NTP
 * moves it by at most 0.5 ns + 0.5 unit = 2.65 units, so by 2 at most.
 */
static void test_ntp_round_trip(void **state)
{
	uint64_t x = 88172645463325252ULL, end = (1ULL << 32) * SEC;
	int i;

	(void)state;
	for (i = 0; i < 1000000; i++) {
		uint64_t ns, ntp, back;
		int64_t d;

		/* xorshift64: cheap, reproducible coverage of the whole range */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ns = x % end;
		if (mp_real_ns_from_ntp(mp_ntp_from_real_ns(ns)) != ns)
			fail_msg("round trip of %" PRIu64 " ns", ns);
		ntp = x;
		back = mp_ntp_from_real_ns(mp_real_ns_from_ntp(ntp));
		d = (int64_t)(back - ntp);
		if (d < -2 || d > 2)
			fail_msg("round trip of ntp %016" PRIx64 ": %016" PRIx64, ntp, back);
	}
	/* both ends of the range */
	assert_true(mp_real_ns_from_ntp(mp_ntp_from_real_ns(0)) == 0);
	assert_true(mp_real_ns_from_ntp(mp_ntp_from_real_ns(end - 1)) == end - 1);
}

static void test_rfc3339_fixtures(void **state)
{
	char line[256], want[64], buf[64];
	uint64_t ns;
	FILE *f;
	int n = 0;

	(void)state;
	f = open_fixture(FIXTURES "clock_rfc3339.txt");
	while (next_line(f, line, sizeof(line))) {
		assert_int_equal(sscanf(line, "%" SCNu64 " %63s", &ns, want), 2);
		assert_int_equal(mp_clock_rfc3339(ns, buf, sizeof(buf)), strlen(want));
		if (strcmp(buf, want) != 0)
			fail_msg("rfc3339(%" PRIu64 ") = %s, want %s", ns, buf, want);
		n++;
	}
	fclose(f);
	assert_true(n > 50);
}

static void test_rfc3339_buffer(void **state)
{
	char buf[MP_RFC3339_LEN + 1];

	(void)state;
	/* hand-worked: 86400 s after the epoch is the next day */
	assert_int_equal(mp_clock_rfc3339(86400 * SEC + 1500, buf, sizeof(buf)), MP_RFC3339_LEN);
	assert_string_equal(buf, "1970-01-02T00:00:00.000001Z");
	assert_int_equal(mp_clock_rfc3339(0, buf, MP_RFC3339_LEN), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(mp_clock_rfc3339(0, buf, 0), -ENOSPC);
	assert_int_equal(mp_clock_rfc3339(0, NULL, 64), -EINVAL);
}

static void test_clocks(void **state)
{
	uint64_t prev = mp_clock_mono_ns(), now, real;
	struct timespec ts;
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		now = mp_clock_mono_ns();
		if (now < prev)
			fail_msg("CLOCK_MONOTONIC went back: %" PRIu64 " < %" PRIu64, now, prev);
		prev = now;
	}
	/* CLOCK_REALTIME agrees with time(2) to within a second */
	clock_gettime(CLOCK_REALTIME, &ts);
	real = mp_clock_real_ns();
	assert_true(real / SEC >= (uint64_t)ts.tv_sec && real / SEC <= (uint64_t)ts.tv_sec + 1);
}

static void test_sync_get(void **state)
{
	struct mp_clock_sync s = { .status = -1 };
	struct timex tx = { .modes = 0 };
	int state_now;

	(void)state;
	assert_int_equal(mp_clock_sync_get(&s), 0);
	assert_int_not_equal(s.status, -1);
	/* the flag is derived from the kernel's answer as documented */
	state_now = ntp_adjtime(&tx);
	assert_true(state_now >= 0);
	if (tx.status == s.status && state_now == s.state)
		assert_int_equal(s.synced, !(tx.status & STA_UNSYNC) && state_now != TIME_ERROR);
	assert_int_equal(mp_clock_sync_get(NULL), -EINVAL);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_sleep_until(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { .tv_usec = 20000 } }, off = { 0 };
	uint64_t t0, target;

	(void)state;
	/* the deadline is met, never early */
	target = mp_clock_mono_ns() + 2 * MP_NSEC_PER_MSEC;
	assert_int_equal(mp_clock_sleep_until(target), 0);
	assert_true(mp_clock_mono_ns() >= target);
	/* a deadline in the past returns at once */
	assert_int_equal(mp_clock_sleep_until(0), 0);

	/* a signal handler (no SA_RESTART) interrupts the sleep with -EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	t0 = mp_clock_mono_ns();
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(mp_clock_sleep_until(t0 + 5 * SEC), -EINTR);
	assert_true(mp_clock_mono_ns() - t0 < 4 * SEC);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntp_hand_worked),
		cmocka_unit_test(test_ntp_fixtures),
		cmocka_unit_test(test_ntp_short),
		cmocka_unit_test(test_ntp_round_trip),
		cmocka_unit_test(test_rfc3339_fixtures),
		cmocka_unit_test(test_rfc3339_buffer),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_sync_get),
		cmocka_unit_test(test_sleep_until),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
