/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the bwtest data packet decoder
 * (tools/bwtest/proto.c) and the receiver's accounting behind it
 * (tools/bwtest/stream.c with lib/seq and lib/stats). The input is a run of
 * datagrams, each prefixed by one length octet. A header that decodes must
 * encode to the same 24 octets; the receiver's counters must stay
 * consistent: received + lost == expected, and every datagram is counted
 * exactly once (received, duplicate, late or dropped).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/clock.c"
#include "../../lib/seq.c"
#include "../../lib/sock.c"
#include "../../lib/stats.c"
#include "../../tools/bwtest/proto.c"
#include "../../tools/bwtest/stream.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_TOKEN = 0x0102030405060708ULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_rx *rx = NULL;
	struct bw_rx_counts c;
	struct bw_interval iv;
	uint64_t n = 0, ivs = 0;
	uint32_t next[2] = { 0, 0 };

	if (bw_rx_new(&rx, BW_FWD, FUZZ_TOKEN, 2) < 0)
		return 0;
	while (size > 0) {
		size_t len = MP_MIN((size_t)data[0], size - 1);
		const uint8_t *p = data + 1;
		struct bw_data_hdr h;
		uint8_t back[BW_DATA_HDR];

		if (bw_data_decode(p, len, &h) == 0) {
			bw_data_encode(&h, back);
			if (memcmp(back, p, BW_DATA_HDR) != 0)
				abort();
			if (h.stream < 2 && (int32_t)(h.seq + 1 - next[h.stream]) > 0)
				next[h.stream] = h.seq + 1;
		}
		bw_rx_add(rx, p, len, 1000000 + n);
		n++;
		if (len && p[len - 1] == 0x42) {	/* close an interval now and then */
			bw_rx_interval(rx, ivs, ivs + 1, &iv);
			ivs++;
		}
		data += len + 1;
		size -= len + 1;
	}
	bw_rx_finish(rx, next, 2);
	if (bw_rx_counts(rx, &c) == 0) {
		if (c.received + c.lost != c.expected)
			abort();
		if (c.received + c.duplicates + c.late + c.dropped != n)
			abort();
	}
	bw_rx_free(rx);
	return 0;
}
