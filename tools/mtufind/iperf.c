/* SPDX-License-Identifier: MIT */
/*
 * mtufind sweep: what one `iperf3 -c --bidir -J` run said. Its JSON is
 * outside input (the peer's server contributes the receiving side), so it
 * is bounded and checked: the four "end" sums must be there, finite and
 * not negative, the retransmit counts whole numbers. Prints nothing.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>

#include "mtufind.h"

/* root.a.b as a number, or -1 when missing, not a number, or not finite. */
static double jnum(json_t *root, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(root, a), b);
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	return isfinite(d) ? d : -1;
}

int mf_iperf_parse(const char *buf, size_t len, struct mf_iperf *ret)
{
	static const char *const sums[] = { "sum_received", "sum_sent",
		"sum_received_bidir_reverse", "sum_sent_bidir_reverse" };
	json_t *root = json_loadb(buf, len, 0, NULL);
	json_t *end = json_object_get(root, "end");
	double v[4], rt[2];
	int r = -EBADMSG;

	for (size_t i = 0; i < 4; i++) {
		v[i] = jnum(end, sums[i], "bits_per_second");
		if (v[i] < 0)
			goto out;
	}
	/* retransmits: the sender's side only; absent (0) on a receiver */
	rt[0] = jnum(end, "sum_sent", "retransmits");
	rt[1] = jnum(end, "sum_sent_bidir_reverse", "retransmits");
	for (size_t i = 0; i < 2; i++) {
		if (rt[i] < 0)
			rt[i] = 0;
		if (rt[i] != floor(rt[i]) || rt[i] > UINT32_MAX / 2)
			goto out;
	}
	*ret = (struct mf_iperf){
		.up_rcv_bps = v[0], .up_send_bps = v[1], .down_rcv_bps = v[2],
		.down_send_bps = v[3], .retransmits = (unsigned)rt[0] + (unsigned)rt[1],
	};
	r = 0;
out:
	json_decref(root);
	return r;
}
