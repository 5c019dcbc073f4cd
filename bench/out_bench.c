/* SPDX-License-Identifier: MIT */
/*
 * lib/out's speed: N synthetic route-like records of 8 fields (6 strings,
 * one formatted with padding, an integer), as perfc writes them, through
 * mp_writer in text, csv, json and ndjson to /dev/null (a batch writer:
 * mp_writer_set_live(false)). Prints, per format, the best of ROUNDS runs
 * as fields per second. No root, no network. Run by bench/out.sh.
 *
 *   out_bench [RECORDS [ROUNDS]]        (defaults 1000000, 3)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "out.h"

enum { FIELDS = 8 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One run: n records in fmt. Returns the elapsed ns, or 0 on an error. */
static uint64_t run(enum mp_format fmt, long n)
{
	static const char *const devs[] = { "eth0", "wg0.1_v4", "veth-big", "lo" };
	struct mp_writer *w = NULL;
	FILE *f = fopen("/dev/null", "we");
	uint64_t t0;
	int r = 0;

	if (!f || mp_writer_new(&w, fmt, f, "perfc", "perfc/2") < 0)
		return 0;
	mp_writer_set_live(w, false);
	t0 = now_ns();
	for (long i = 0; i < n && r == 0; i++) {
		char dst[32], gw[16];

		snprintf(dst, sizeof(dst), "10.%ld.%ld.%ld/32", i >> 16 & 255, i >> 8 & 255,
			 i & 255);
		snprintf(gw, sizeof(gw), "192.168.0.%ld", 1 + (i & 63));
		mp_record_begin(w, "route");
		mp_put_str(w, "route_type", "%-11s", "unicast");
		mp_put_str(w, "dst", "%-20s", dst);
		mp_put_str(w, "table", "%s", "main");
		mp_put_str(w, "protocol", "%s", i & 1 ? "201" : "kernel");
		mp_put_str(w, "scope", "%s", "global");
		mp_put_u64(w, "metric", "%6" PRIu64, (uint64_t)(i & 1023));
		mp_put_str(w, "gateway", "%s", gw);
		mp_put_str(w, "dev", "%s", devs[i & 3]);
		r = mp_record_end(w);
	}
	if (mp_writer_close(w) < 0 || r < 0)
		t0 = 0;
	fclose(f);
	return t0 ? now_ns() - t0 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		enum mp_format fmt;
		const char *name;
	} fmts[] = { { MP_FMT_TEXT, "text" }, { MP_FMT_CSV, "csv" },
		     { MP_FMT_JSON, "json" }, { MP_FMT_NDJSON, "ndjson" } };
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;

	if (n <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: out_bench [RECORDS [ROUNDS]]\n");
		return 2;
	}
	printf("| format | records | fields | best wall (s) | fields/s |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		uint64_t best = 0;

		for (int k = 0; k < rounds; k++) {
			uint64_t t = run(fmts[i].fmt, n);

			if (!t) {
				fprintf(stderr, "out_bench: %s: write error\n", fmts[i].name);
				return 1;
			}
			if (!best || t < best)
				best = t;
		}
		printf("| %s | %ld | %ld | %.3f | %.3g |\n", fmts[i].name, n, n * FIELDS,
		       (double)best / 1e9, (double)n * FIELDS / ((double)best / 1e9));
	}
	return 0;
}
