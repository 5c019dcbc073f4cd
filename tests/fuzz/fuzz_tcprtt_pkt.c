/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for tcprtt's packet decoder and flow engine
 * (lib/prtt.c). The input is a sequence of frames, each
 *
 *	octet 0   link type (an index into link[] below)
 *	octet 1   time step in ms since the previous frame
 *	octets 2-3  frame length L, big-endian (cut to what is left)
 *	L octets  the frame
 *
 * fed to an engine of 4 flows that expire after 50 ms, so that lookups,
 * eviction, expiry and closing all run. Beyond "no crash": every frame
 * gets exactly one verdict counted, a decoded segment's TCP payload fits
 * the IP length it came from, the table never holds more than its cap,
 * and every flow handed out has sane figures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/prtt.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link[] = {
	MP_PRTT_LINK_EN10MB, MP_PRTT_LINK_SLL, MP_PRTT_LINK_SLL2, MP_PRTT_LINK_RAW,
	MP_PRTT_LINK_IPV4, MP_PRTT_LINK_IPV6, MP_PRTT_LINK_RAW_LINUX, 9999,
};

static void check_flow(void *ctx, const struct mp_prtt_flow_info *f)
{
	int d;

	(void)ctx;
	for (d = 0; d < 2; d++) {
		const struct mp_prtt_dir *x = &f->dir[d];

		if (x->rtt.count != x->ts_samples + x->seq_samples || x->retrans > x->packets)
			abort();
		if (x->rtt.count && (x->rtt.min_ns > x->rtt.max_ns ||
				     mp_prtt_rtt_median_ns(&x->rtt) < (double)x->rtt.min_ns - 1 ||
				     mp_prtt_rtt_median_ns(&x->rtt) > (double)x->rtt.max_ns + 1))
			abort();
	}
	if (f->last_ns < f->first_ns)
		abort();
}

static void check_end(void *ctx, const struct mp_prtt_flow_info *f, enum mp_prtt_end why)
{
	(void)why;
	check_flow(ctx, f);
}

static void check_sample(void *ctx, const struct mp_prtt_flow_info *f,
			 const struct mp_prtt_sample *s)
{
	(void)f;
	(void)ctx;
	if (s->dir > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_prtt_opts o = { .max_flows = 4, .idle_ns = 50 * MP_NSEC_PER_MSEC };
	struct mp_prtt_cb cb = { .sample = check_sample, .end = check_end };
	struct mp_prtt_counters c;
	struct mp_prtt *p;
	uint64_t t = MP_NSEC_PER_SEC, n = 0;
	size_t off = 0;

	if (mp_prtt_new(&p, &o, &cb) < 0)
		return 0;
	while (off + 4 <= size) {
		int lt = link[data[off] % MP_ARRAY_SIZE(link)];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		struct mp_prtt_pkt k;
		uint8_t *frame;
		int r;

		t += data[off + 1] * MP_NSEC_PER_MSEC;
		off += 4;
		len = MP_MIN(len, size - off);
		/* a copy of exactly len octets: ASan sees any read past it */
		frame = malloc(len ? len : 1);
		if (!frame)
			break;
		memcpy(frame, data + off, len);
		r = mp_prtt_decode(lt, frame, len, &k);
		if (r == MP_PRTT_TCP && k.payload > 65535 + 262144)
			abort();
		if (mp_prtt_add(p, t, lt, frame, len) != r)
			abort();
		free(frame);
		off += len;
		n++;
		mp_prtt_counters(p, &c);
		if (c.flows_active > o.max_flows)
			abort();
	}
	mp_prtt_counters(p, &c);
	if (c.packets != n || c.tcp + c.other + c.truncated + c.malformed + c.unsupported != n)
		abort();
	if (mp_prtt_flows(p, check_flow, NULL) != c.flows_active)
		abort();
	mp_prtt_interval(p, check_flow, NULL);
	mp_prtt_free(p);
	return 0;
}
