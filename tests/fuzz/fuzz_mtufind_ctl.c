/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the mtufind peer control messages
 * (tools/mtufind/ctl.c), as `mtufind -s` and `mtufind sweep --peer-key`
 * receive them from the network. Properties: no crash or sanitizer report;
 * the parser reads nothing past the input and accepts only 88-octet
 * messages; a message that parses encodes again to the very same octets
 * 0..55 (one encoding per message), its re-encoding verifies under the
 * key, and the input itself verifies only if its MAC octets equal the
 * re-encoding's (the MAC is a function of octets 0..55 alone).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.c"
#include "../../tools/mtufind/ctl.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_auth_key key;
	uint8_t *copy, out[MF_CTL_LEN];
	struct mf_ctl_msg m;
	int r;

	if (!key.set && mp_auth_key_set(&key, "fuzz key: not secret", 20) < 0)
		abort();
	/* an exact-size heap copy: ASan sees any read past the input */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = mf_ctl_parse(copy, size, &m);
	if (r == 0) {
		if (size != MF_CTL_LEN)
			abort();
		if (mf_ctl_encode(&m, &key, out) != MF_CTL_LEN ||
		    memcmp(out, copy, MF_CTL_MAC_OFF) != 0)
			abort();
		if (mf_ctl_verify(&key, out) != 0)
			abort();
		if ((mf_ctl_verify(&key, copy) == 0) !=
		    (memcmp(out + MF_CTL_MAC_OFF, copy + MF_CTL_MAC_OFF, MP_AUTH_MAC_BYTES) == 0))
			abort();
		(void)mf_ctl_type_name(m.type);
	} else if (r != -EBADMSG) {
		abort();
	}
	free(copy);
	return 0;
}
