/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the bwtest control message decoder
 * (tools/bwtest/proto.c). The input is a byte stream as read from the TCP
 * control connection: it is framed and decoded message by message, as the
 * server and client do. Every message that decodes must encode again to the
 * very same bytes (the format has one encoding per message), and the MAC
 * input built from a decoded HELLO must stay within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/bwtest/proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[BW_CTRL_MAX], mac_in[128];
	struct bw_msg m;
	int len, n;

	while ((len = bw_msg_frame(data, size)) > 0) {
		if ((size_t)len > size || len > BW_CTRL_MAX)
			abort();
		if (bw_msg_decode(data, (size_t)len, &m) == 0) {
			n = bw_msg_encode(&m, out, sizeof(out));
			if (n != len || memcmp(out, data, (size_t)len) != 0)
				abort();
			if (bw_mac_input(true, m.nonce, m.nonce, m.token, &m.params, mac_in) >
			    sizeof(mac_in))
				abort();
		}
		data += len;
		size -= (size_t)len;
	}
	return 0;
}
