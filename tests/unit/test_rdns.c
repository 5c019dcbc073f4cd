/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/rdns: names come from the resolver thread, once per
 * address, and only for addresses asked for; NULL objects are no-ops; the
 * object can be freed with lookups pending. Only loopback is looked up
 * (from /etc/hosts): no test sends a DNS query.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mp.h"
#include "rdns.h"

static struct sockaddr_storage v4(const char *s)
{
	struct sockaddr_storage ss = { .ss_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr), 1);
	return ss;
}

static void test_loopback(void **state)
{
	struct sockaddr_storage lo = v4("127.0.0.1"), other = v4("127.0.0.2");
	struct mp_rdns *r = NULL;
	const char *n;

	(void)state;
	assert_int_equal(mp_rdns_new(&r), 0);
	assert_null(mp_rdns_name(r, &lo));	/* never asked for */
	mp_rdns_want(r, &lo);
	mp_rdns_want(r, &lo);			/* once per address */
	assert_int_equal(mp_rdns_wait(r, 5 * MP_NSEC_PER_SEC), 0);
	n = mp_rdns_name(r, &lo);
	assert_non_null(n);
	assert_true(strlen(n) > 0);
	assert_null(mp_rdns_name(r, &other));
	mp_rdns_free(r);
}

static void test_null(void **state)
{
	struct sockaddr_storage lo = v4("127.0.0.1");

	(void)state;
	mp_rdns_want(NULL, &lo);
	assert_null(mp_rdns_name(NULL, &lo));
	assert_int_equal(mp_rdns_wait(NULL, 1), 0);
	mp_rdns_free(NULL);
}

/* Freed at once, the thread still has work: it finishes and frees (ASan
 * sees no use after free; a thread still running at exit holds its object). */
static void test_free_pending(void **state)
{
	struct sockaddr_storage lo = v4("127.0.0.1");
	struct mp_rdns *r = NULL;

	(void)state;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(mp_rdns_new(&r), 0);
		mp_rdns_want(r, &lo);
		mp_rdns_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_free_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
