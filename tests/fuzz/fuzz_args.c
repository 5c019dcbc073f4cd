/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the value parsers of lib/args.c (not mp_parse_addr:
 * a host name would go to DNS). Checks the contract on every input: the
 * result is 0, -EINVAL or -ERANGE, the output is written only on success and
 * lies in [min, max], and a parsed value parses back to itself.
 */
#include "args.c"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, uint64_t v, uint64_t min, uint64_t max)
{
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		__builtin_trap();
	if (r != 0 && v != SENTINEL)
		__builtin_trap();
	if (r == 0 && (v < min || v > max))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const parsers[])(const char *, uint64_t, uint64_t, uint64_t *) = {
		mp_parse_u64, mp_parse_duration, mp_parse_size, mp_parse_rate,
	};
	char s[128], back[32];
	uint64_t v, w, min = 0, max = UINT64_MAX;
	int64_t iv;
	double d;
	uint16_t port = 0;
	size_t i;
	int r;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* the first byte, when it is not a digit, narrows the range */
	if (size > 0 && !is_digit(s[0])) {
		min = (uint64_t)(unsigned char)s[0] * 1000;
		max = min * 1000000;
	}
	for (i = 0; i < MP_ARRAY_SIZE(parsers); i++) {
		v = SENTINEL;
		r = parsers[i](s, min, max, &v);
		check(r, v, min, max);
		/* the value is exact: the same text parses to it with min = max = v */
		w = SENTINEL;
		if (r == 0 && (parsers[i](s, v, v, &w) != 0 || w != v))
			__builtin_trap();
	}
	v = SENTINEL;
	r = mp_parse_u64(s, 0, UINT64_MAX, &v);
	if (r == 0) {
		snprintf(back, sizeof(back), "%llu", (unsigned long long)v);
		if (mp_parse_u64(back, 0, UINT64_MAX, &w) != 0 || w != v)
			__builtin_trap();
	}
	r = mp_parse_i64(s, INT64_MIN, INT64_MAX, &iv);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		__builtin_trap();
	r = mp_parse_double(s, -1e300, 1e300, &d);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		__builtin_trap();
	if (r == 0 && !(d >= -1e300 && d <= 1e300))
		__builtin_trap();
	r = mp_parse_port(s, &port);
	if (r == 0 && port == 0)
		__builtin_trap();
	return 0;
}
