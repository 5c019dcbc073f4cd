/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for mtufind sweep's reader of `iperf3 -c --bidir -J`
 * output (tools/mtufind/iperf.c, mf_iperf_parse): the receiving side's
 * figures come from the peer's server. Oracles: no crash, leak or
 * sanitizer report (a float-to-integer overflow included); a parsed run
 * has four finite, non-negative rates, the very numbers the document's
 * "end" sums hold, and a retransmit count that is their sum.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/mtufind/iperf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double sum(json_t *end, const char *which, const char *key)
{
	return json_number_value(json_object_get(json_object_get(end, which), key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_iperf res = { .retransmits = 7 };
	json_t *root, *end;
	char *copy;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (mf_iperf_parse(copy, size, &res) == 0) {
		double v[4] = { res.up_rcv_bps, res.up_send_bps, res.down_rcv_bps,
				res.down_send_bps };

		for (int i = 0; i < 4; i++)
			if (!isfinite(v[i]) || v[i] < 0)
				abort();
		root = json_loadb(copy, size, 0, NULL);
		end = json_object_get(root, "end");
		if (!end || v[0] != sum(end, "sum_received", "bits_per_second") ||
		    v[1] != sum(end, "sum_sent", "bits_per_second") ||
		    v[2] != sum(end, "sum_received_bidir_reverse", "bits_per_second") ||
		    v[3] != sum(end, "sum_sent_bidir_reverse", "bits_per_second"))
			abort();
		if (res.retransmits != (unsigned)(fmax(sum(end, "sum_sent", "retransmits"), 0) +
						 fmax(sum(end, "sum_sent_bidir_reverse",
							  "retransmits"), 0)))
			abort();
		json_decref(root);
	} else if (res.retransmits != 7) {
		abort();
	}
	free(copy);
	return 0;
}
