/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for meshctl's exchange message decoder
 * (tools/meshctl/exchange.c), with a fixed key.
 *
 * Input: octet 0 bit 0 set: the harness signs the rest first (writes the
 * HMAC of all but its last 32 octets into them), so the fuzzer can reach
 * the field checks behind the MAC; clear: the rest is decoded as it came
 * (it must carry a right MAC, as the seeds do). Properties: the decoder
 * returns 0, -EMSGSIZE, -EBADMSG or -EPROTO, and -EBADMSG whenever the
 * input's MAC was not made with the key; a message that decodes encodes
 * again to exactly its own octets, and does not fit one octet shorter.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/auth.c"
#include "../../tools/meshctl/exchange.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[MP_AUTH_KEY_BYTES] = "meshperf fuzz key, 32 octets...";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_auth_key key;
	static struct mc_x_msg m;
	static uint8_t out[MC_X_MAX_LEN];
	uint8_t *msg;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	if (!key.set && mp_auth_key_set(&key, fuzz_key, sizeof(fuzz_key)) < 0)
		abort();
	/* an exact-size copy: ASan flags any read past len */
	len = size - 1;
	msg = malloc(len ? len : 1);
	if (!msg)
		return 0;
	memcpy(msg, data + 1, len);
	if ((data[0] & 1) && len >= MC_X_MAC_LEN &&
	    mp_auth_hmac(&key, msg, len - MC_X_MAC_LEN, msg + len - MC_X_MAC_LEN) < 0)
		abort();
	r = mc_x_decode(msg, len, &key, &m);
	if (r != 0 && r != -EMSGSIZE && r != -EBADMSG && r != -EPROTO)
		abort();
	if (r == 0) {
		if (mc_x_encode(&m, &key, out, sizeof(out)) != (int)len ||
		    memcmp(out, msg, len) != 0 ||
		    mc_x_encode(&m, &key, out, len - 1) != -EMSGSIZE)
			abort();
	}
	free(msg);
	return 0;
}
