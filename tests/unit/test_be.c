/* SPDX-License-Identifier: MIT */
/*
 * be.h: the expected octets are written out by hand from the definition of
 * network byte order (RFC 1700, "Data Notations": most significant octet
 * first), e.g. 0x0102 is 01 02 and 0xfedcba98 is fe dc ba 98.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "be.h"

static void test_put(void **state)
{
	/* 0xaa guard octets around each field: no store may spill over */
	uint8_t b[10];
	static const uint8_t want16[] = { 0xaa, 0x01, 0x02, 0xaa };
	static const uint8_t want32[] = { 0xaa, 0xfe, 0xdc, 0xba, 0x98, 0xaa };
	static const uint8_t want64[] = { 0xaa, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
					  0xcd, 0xef, 0xaa };

	(void)state;
	memset(b, 0xaa, sizeof(b));
	mp_be16_put(b + 1, 0x0102);
	assert_memory_equal(b, want16, sizeof(want16));

	memset(b, 0xaa, sizeof(b));
	mp_be32_put(b + 1, 0xfedcba98U);
	assert_memory_equal(b, want32, sizeof(want32));

	memset(b, 0xaa, sizeof(b));
	mp_be64_put(b + 1, 0x0123456789abcdefULL);
	assert_memory_equal(b, want64, sizeof(want64));
}

static void test_get(void **state)
{
	/* odd offset: the loads must not assume alignment */
	static const uint8_t b[] = { 0x00, 0x80, 0x01, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01 };

	(void)state;
	assert_int_equal(mp_be16_get(b + 1), 0x8001);
	/* 0x80 in the top octet: no sign extension through int promotion */
	assert_true(mp_be32_get(b + 1) == 0x8001ff00U);
	assert_true(mp_be64_get(b + 1) == 0x8001ff0000000001ULL);
	assert_int_equal(mp_be16_get(b + 7), 0x0001);
}

static void test_extremes(void **state)
{
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zeros[8] = { 0 };
	uint8_t b[8];

	(void)state;
	assert_int_equal(mp_be16_get(ones), 0xffff);
	assert_true(mp_be32_get(ones) == 0xffffffffU);
	assert_true(mp_be64_get(ones) == UINT64_MAX);
	assert_true(mp_be64_get(zeros) == 0);

	memset(b, 0, sizeof(b));
	mp_be64_put(b, UINT64_MAX);
	assert_memory_equal(b, ones, sizeof(ones));
	mp_be32_put(b + 4, 0);
	mp_be16_put(b, 0);
	mp_be16_put(b + 2, 0);
	assert_memory_equal(b, zeros, sizeof(zeros));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
