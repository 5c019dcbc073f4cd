/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/cap.c over the 120-packet lab capture
 * tests/unit/fixtures/tcprtt_lab.pcap (Ethernet, 128-octet snap): every
 * packet read with its stamp, a filter applied, errors for a bad filter, a
 * missing file and a wrong choice of source.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cap.h"
#include "prtt.h"

#define PCAP "tests/unit/fixtures/tcprtt_lab.pcap"

static int count(const char *filter, uint64_t *first_ns, uint64_t *last_ns)
{
	struct mp_cap_opts o = { .file = PCAP, .filter = filter };
	struct mp_cap_pkt pk;
	struct mp_cap *c;
	char err[256];
	int n = 0, r;

	assert_int_equal(mp_cap_open(&c, &o, err, sizeof(err)), 0);
	assert_int_equal(mp_cap_linktype(c), MP_PRTT_LINK_EN10MB);
	assert_int_equal(mp_cap_fd(c), -1);
	while ((r = mp_cap_next(c, &pk)) == 1) {
		assert_true(pk.caplen <= pk.len);
		assert_true(pk.caplen <= 128);
		if (!n)
			*first_ns = pk.t_ns;
		assert_true(pk.t_ns >= *first_ns);
		*last_ns = pk.t_ns;
		n++;
	}
	assert_int_equal(r, -ENODATA);
	mp_cap_close(c);
	return n;
}

static void test_read(void **state)
{
	uint64_t a = 0, b = 0;
	int n;

	(void)state;
	assert_int_equal(count(NULL, &a, &b), 120);
	/* a 2025 or later capture, in ns, spanning under a minute */
	assert_true(a > 1735689600ULL * MP_NSEC_PER_SEC);
	assert_true(b - a < 60 * MP_NSEC_PER_SEC);
	/* the ACKs from s only: fewer, not none */
	n = count("src host 10.200.3.2", &a, &b);
	assert_true(n > 0 && n < 120);
	assert_int_equal(count("udp", &a, &b), 0);
}

static void test_errors(void **state)
{
	struct mp_cap_opts o = { .file = PCAP, .filter = "tcp port 99999" };
	struct mp_cap *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(mp_cap_open(&c, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "99999"));
	o = (struct mp_cap_opts){ .file = "/nonexistent.pcap" };
	assert_int_equal(mp_cap_open(&c, &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nonexistent"));
	o = (struct mp_cap_opts){ .file = PCAP, .ifname = "lo" };
	assert_int_equal(mp_cap_open(&c, &o, err, sizeof(err)), -EINVAL);
	o = (struct mp_cap_opts){ 0 };
	assert_int_equal(mp_cap_open(&c, &o, err, sizeof(err)), -EINVAL);
	assert_null(c);
	mp_cap_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
