/* SPDX-License-Identifier: MIT */
/*
 * tcprtt's text for fixed results (tests/golden/run.sh), rendered by
 * tr_print_summary() and the interval and sample records of
 * tr_printer_sink(): a live capture with an IPv4 bulk flow (retransmissions
 * both ways), an IPv6 flow of the lab's short addresses, a flow without
 * samples, kernel drops and evictions; its interval rows; its sample lines.
 * A flow between two full-length IPv6 addresses does not fit 100 columns
 * in the table (the machine formats carry it whole).
 */
#include <math.h>
#include <stdlib.h>

#include "tcprtt.h"
#include "golden.h"

static void rtt(struct mp_prtt_rtt *r, uint64_t base_ns, uint64_t step_ns, int n)
{
	for (int i = 0; i < n; i++)
		mp_prtt_rtt_add(r, base_ns + (uint64_t)(i % 7) * step_ns);
}

static void flow(struct mp_prtt_flow_info *f, const char *a, uint16_t pa, const char *b,
		 uint16_t pb)
{
	memset(f, 0, sizeof(*f));
	f->family = strchr(a, ':') ? AF_INET6 : AF_INET;
	inet_pton(f->family, a, f->addr[0]);
	inet_pton(f->family, b, f->addr[1]);
	f->port[0] = pa;
	f->port[1] = pb;
	f->syn_seen = true;
	f->timestamps = true;
	f->first_ns = 1764770000ULL * MP_NSEC_PER_SEC;
	f->last_ns = f->first_ns + 5 * MP_NSEC_PER_SEC;
}

static struct mp_prtt_flow_info flows[3];

static void build(void)
{
	flow(&flows[0], "10.200.1.1", 53208, "10.200.3.2", 5201);
	flows[0].dir[0] = (struct mp_prtt_dir){ .packets = 8152, .bytes = 36600000, .retrans = 135,
						 .retrans_bytes = 195480, .dsack = 4, .dsack_bytes = 5792,
						 .ts_samples = 3311 };
	flows[0].dir[1] = (struct mp_prtt_dir){ .packets = 4071, .retrans = 2, .ts_samples = 3572 };
	rtt(&flows[0].dir[0].rtt, 10300 * MP_NSEC_PER_USEC, 20 * MP_NSEC_PER_USEC, 3311);
	rtt(&flows[0].dir[1].rtt, 80 * MP_NSEC_PER_USEC, 5 * MP_NSEC_PER_USEC, 3572);
	flow(&flows[1], "fdac:c8:1::1", 40112, "fdac:c8:3::2", 443);
	flows[1].dir[0] = (struct mp_prtt_dir){ .packets = 310, .bytes = 2210, .ts_samples = 40 };
	flows[1].dir[1] = (struct mp_prtt_dir){ .packets = 402, .bytes = 520000, .ts_samples = 150 };
	rtt(&flows[1].dir[0].rtt, 30200 * MP_NSEC_PER_USEC, 30 * MP_NSEC_PER_USEC, 40);
	rtt(&flows[1].dir[1].rtt, 1200 * MP_NSEC_PER_USEC, 400 * MP_NSEC_PER_USEC, 150);
	flow(&flows[2], "10.200.1.1", 1, "10.200.3.2", 80);
	flows[2].timestamps = false;
	flows[2].dir[0].packets = 1;
}

static const struct tr_opts opts = TR_OPTS_INIT;

static int c_summary(struct mp_writer *w, bool flag)
{
	struct tr_result res = {
		.source = "eth0", .live = true, .have_drops = true, .kernel_drops = 12,
		.c = { .packets = 12971, .tcp = 12936, .other = 33, .truncated = 1, .malformed = 1,
		       .flows_created = 1003, .flows_evicted = 1000, .flows_active = 3,
		       .samples = 7073, .retrans = 137, .dsack = 4 },
		.first_ns = 1764770000ULL * MP_NSEC_PER_SEC, .elapsed_ns = 6 * MP_NSEC_PER_SEC,
		.flows = flows, .nflows = MP_ARRAY_SIZE(flows),
	};
	struct tr_printer *p;
	int r;

	(void)flag;
	build();
	res.last_ns = res.first_ns + 5 * MP_NSEC_PER_SEC;
	r = tr_printer_new(&p, &opts, w);
	if (r < 0)
		return r;
	r = tr_print_summary(p, &res);
	tr_printer_free(p);
	return r;
}

static int c_intervals(struct mp_writer *w, bool flag)
{
	struct tr_opts o = opts;
	struct tr_printer *p;
	struct tr_sink sink;
	int r;

	(void)flag;
	build();
	o.report_ns = MP_NSEC_PER_SEC;
	r = tr_printer_new(&p, &o, w);
	if (r < 0)
		return r;
	tr_printer_sink(p, &sink);
	for (size_t i = 0; i < MP_ARRAY_SIZE(flows); i++) {
		memcpy(flows[i].ivl, flows[i].dir, sizeof(flows[i].ivl));
		sink.interval(sink.ctx, &(struct tr_interval){
			.start_ns = flows[0].first_ns + MP_NSEC_PER_SEC, .len_ns = MP_NSEC_PER_SEC,
			.first_ns = flows[0].first_ns, .f = &flows[i] });
	}
	tr_printer_free(p);
	return 0;
}

static int c_samples(struct mp_writer *w, bool flag)
{
	struct tr_opts o = opts;
	struct tr_printer *p;
	struct tr_sink sink;
	int r;

	(void)flag;
	build();
	o.samples = true;
	r = tr_printer_new(&p, &o, w);
	if (r < 0)
		return r;
	tr_printer_sink(p, &sink);
	sink.sample(sink.ctx, &flows[0], &(struct mp_prtt_sample){
		.t_ns = flows[0].first_ns, .rtt_ns = 10312345, .dir = 0, .ts = true });
	sink.sample(sink.ctx, &flows[0], &(struct mp_prtt_sample){
		.t_ns = flows[0].first_ns, .rtt_ns = 81000, .dir = 1, .ts = true });
	sink.sample(sink.ctx, &flows[1], &(struct mp_prtt_sample){
		.t_ns = flows[0].first_ns, .rtt_ns = 30250000, .dir = 0, .ts = false });
	tr_printer_free(p);
	return 0;
}

static const struct golden_case cases[] = {
	{ "summary", NULL, c_summary },
	{ "intervals", NULL, c_intervals },
	{ "samples", NULL, c_samples },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "tcprtt", "tcprtt/1");
}
