/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the key-file parser of lib/auth.c
 * (mp_auth_key_parse, what mp_auth_key_load runs on the file's bytes).
 * Oracle: a deliberately plain decoder written here from the format's
 * definition (64 hex digits, or 43 base64 characters whose last 2 bits are
 * zero plus '=', then at most one "\n" or "\r\n"). The parser must accept
 * exactly what it accepts, yield the same key (compared by HMAC), return
 * only 0 or -EINVAL and leave *ret alone on failure.
 */
#include "auth.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool ref_decode(const uint8_t *d, size_t n, uint8_t key[32])
{
	uint32_t acc = 0;
	size_t i, bits = 0, out = 0;
	int v, w;

	if (n && d[n - 1] == '\n') {
		n--;
		if (n && d[n - 1] == '\r')
			n--;
	}
	if (n == 64) {
		for (i = 0; i < 32; i++) {
			v = hex_val(d[2 * i]);
			w = hex_val(d[2 * i + 1]);
			if (v < 0 || w < 0)
				return false;
			key[i] = (uint8_t)(v << 4 | w);
		}
		return true;
	}
	if (n != 44 || d[43] != '=')
		return false;
	for (i = 0; i < 43; i++) {
		v = b64_val(d[i]);
		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			key[out++] = (uint8_t)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	return out == 32 && bits == 2 && acc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_auth_key k, ref, before;
	uint8_t key[32], mac[32], ref_mac[32];
	bool ok;
	int r;

	memset(&k, 0x5a, sizeof(k));
	k.set = false;
	before = k;
	ok = ref_decode(data, size, key);
	r = mp_auth_key_parse((const char *)data, size, &k);
	if (r != 0 && r != -EINVAL)
		__builtin_trap();
	if ((r == 0) != ok)
		__builtin_trap();
	if (r != 0) {
		if (memcmp(&k, &before, sizeof(k)) != 0)
			__builtin_trap();
		return 0;
	}
	if (mp_auth_key_set(&ref, key, sizeof(key)) != 0 ||
	    mp_auth_hmac(&k, "fuzz", 4, mac) != 0 || mp_auth_hmac(&ref, "fuzz", 4, ref_mac) != 0 ||
	    memcmp(mac, ref_mac, sizeof(mac)) != 0)
		__builtin_trap();
	mp_auth_key_done(&k);
	mp_auth_key_done(&ref);
	return 0;
}
