/* SPDX-License-Identifier: MIT */
/*
 * bwtest's text for fixed results (tests/golden/run.sh): interval records
 * through bw_print_interval() as the client streams them, the summary
 * through bw_print_result(). Cases: 10 s both ways at 50 Mbit/s with
 * 1-second intervals and some loss, reordering and a duplicate; a forward
 * run without interval reports; --find-max.
 */
#include <stdlib.h>

#include "bwtest.h"
#include "golden.h"

enum {
	PAYLOAD = 1200,			/* bytes per datagram */
	SECONDS = 10,
	PPS = 5208,			/* 50 Mbit/s of 1200-byte payloads */
};

/* One direction's interval i: a fixed loss pattern per direction. */
static void interval_at(uint8_t dir, unsigned i, struct bw_interval *iv)
{
	uint64_t lost = dir == BW_FWD ? (i == 3 ? 41 : i % 4) : (i == 7 ? 260 : 0);

	*iv = (struct bw_interval){
		.start_ns = i * MP_NSEC_PER_SEC,
		.end_ns = (i + 1) * MP_NSEC_PER_SEC,
		.received = PPS - lost,
		.lost = lost,
		.duplicates = dir == BW_REV && i == 5,
		.reordered = dir == BW_FWD && i == 2 ? 3 : 0,
		.bytes = (PPS - lost) * PAYLOAD,
		.jitter_ns = 38000 + 1700 * i + (dir == BW_REV ? 21000 : 0),
	};
}

/* The totals a receiver would count over the intervals. */
static void dir_result(uint8_t dir, struct bw_dir_result *d)
{
	struct bw_interval iv;

	*d = (struct bw_dir_result){ .on = true, .sent = SECONDS * PPS,
				     .tx_span_ns = SECONDS * MP_NSEC_PER_SEC - 192000 };
	for (unsigned i = 0; i < SECONDS; i++) {
		interval_at(dir, i, &iv);
		d->rx.received += iv.received;
		d->rx.lost += iv.lost;
		d->rx.duplicates += iv.duplicates;
		d->rx.reordered += iv.reordered;
		d->rx.bytes += iv.bytes;
		d->rx.jitter_ns = iv.jitter_ns;
		d->rx.loss_bursts += iv.lost ? 1 : 0;
		d->rx.max_loss_burst = MP_MAX(d->rx.max_loss_burst, iv.lost);
	}
	d->rx.expected = d->sent;
	d->rx.span_ns = SECONDS * MP_NSEC_PER_SEC - 95000;
	d->rx.owd_count = d->rx.received;
	d->rx.owd_min_ns = dir == BW_FWD ? 10900000 : 8600000;
	d->rx.owd_mean_ns = d->rx.owd_min_ns + 700000;
	d->rx.owd_p50_ns = d->rx.owd_min_ns + 650000;
	d->rx.owd_p99_ns = d->rx.owd_min_ns + 1900000;
	d->rx.owd_max_ns = d->rx.owd_min_ns + 4100000;
}

static void result_init(struct bw_result *res, uint16_t dirs)
{
	*res = (struct bw_result){
		.server = "192.0.2.10:5121",
		.dst = "bw.example.net",
		.addr = "192.0.2.10",
		.granted = { .dirs = dirs, .streams = 1, .payload_bytes = PAYLOAD,
			     .rate_bps = 50000000, .duration_ns = SECONDS * MP_NSEC_PER_SEC,
			     .interval_ns = MP_NSEC_PER_SEC },
		.duration_ns = SECONDS * MP_NSEC_PER_SEC,
	};
	if (dirs & BW_FWD)
		dir_result(BW_FWD, &res->fwd);
	if (dirs & BW_REV)
		dir_result(BW_REV, &res->rev);
}

/* --bidir --interval-report 1s: the client prints both directions'
 * records of an interval as they come (forward from the server's REPORT). */
static int c_bidir(struct mp_writer *w, bool flag)
{
	struct bw_print pr = { .w = w };
	struct bw_interval iv;
	struct bw_result res;
	int r = 0;

	(void)flag;
	result_init(&res, BW_FWD | BW_REV);
	for (unsigned i = 0; r == 0 && i < SECONDS; i++) {
		interval_at(BW_FWD, i, &iv);
		r = bw_print_interval(&pr, BW_FWD, UINT64_MAX, &iv);
		interval_at(BW_REV, i, &iv);
		if (r == 0)
			r = bw_print_interval(&pr, BW_REV, PPS, &iv);
	}
	if (r == 0)
		r = bw_print_result(w, &res);
	free(pr.points);
	return r;
}

static int c_forward(struct mp_writer *w, bool flag)
{
	struct bw_result res;

	(void)flag;
	result_init(&res, BW_FWD);
	res.granted.interval_ns = 0;
	return bw_print_result(w, &res);
}

/* --find-max 1: the rate doubled, then halved back, until within 2 %. */
static int c_findmax(struct mp_writer *w, bool flag)
{
	static const struct bw_trial trials[] = {
		{ 100000000, 10416, 0.0, 10416, 10416 },
		{ 200000000, 20833, 0.1, 20833, 20812 },
		{ 400000000, 41666, 0.4, 41666, 41499 },
		{ 800000000, 83333, 12.8, 80212, 72666 },
		{ 600000000, 62500, 3.1, 62500, 60562 },
		{ 500000000, 52083, 0.8, 52083, 51666 },
		{ 550000000, 57291, 1.6, 57291, 56374 },
	};
	struct bw_result res;

	(void)flag;
	result_init(&res, BW_FWD);
	res.fwd.on = false;
	res.duration_ns = MP_ARRAY_SIZE(trials) * 2 * MP_NSEC_PER_SEC;
	res.find_max = true;
	res.find_max_pct = 1;
	res.max_rate_bps = 500000000;
	res.max_pps = 52083;
	res.n_trials = MP_ARRAY_SIZE(trials);
	memcpy(res.trials, trials, sizeof(trials));
	return bw_print_result(w, &res);
}

static const struct golden_case cases[] = {
	{ "bidir", NULL, c_bidir },
	{ "forward", NULL, c_forward },
	{ "findmax", NULL, c_findmax },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "bwtest", "bwtest/2");
}
