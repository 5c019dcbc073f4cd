/* SPDX-License-Identifier: MIT */
/*
 * tcprtt: passive RTT and retransmissions of the TCP traffic on a link
 * (lib/prtt.c does the work). main.c: options and exit codes; capture.c:
 * the capture loop; print.c: rendering.
 */
#ifndef TCPRTT_H
#define TCPRTT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cap.h"
#include "out.h"
#include "prtt.h"

struct tr_opts {
	const char *ifname;		/* -I: live capture */
	const char *file;		/* -r: pcap file */
	char *filter;			/* operands joined (owned), or NULL */
	uint64_t duration_ns;		/* -t: 0 = until stopped (live) */
	uint64_t count;			/* -c: packets; 0 = no limit */
	uint64_t report_ns;		/* --interval-report */
	bool samples;			/* --samples: a record per RTT sample */
	uint64_t snaplen, buf_bytes;
	struct mp_prtt_opts prtt;
	enum mp_format format;
	const char *textfile, *job;
	const char *plot;		/* --plot PNG */
	bool quiet, verbose;
};

#define TR_OPTS_INIT { .snaplen = MP_CAP_SNAPLEN_DEFAULT, .buf_bytes = MP_CAP_BUF_DEFAULT, \
		       .prtt = MP_PRTT_OPTS_INIT, .format = MP_FMT_TEXT }

/* A flow's interval (--interval-report): its ivl[] figures. */
struct tr_interval {
	uint64_t start_ns, len_ns;	/* packet time, CLOCK_REALTIME */
	uint64_t first_ns;		/* the capture's first packet */
	const struct mp_prtt_flow_info *f;
};

/* What the rendering is told as the capture runs. */
struct tr_sink {
	void (*sample)(void *ctx, const struct mp_prtt_flow_info *f,
		       const struct mp_prtt_sample *s);
	void (*interval)(void *ctx, const struct tr_interval *iv);
	void *ctx;
};

struct tr_result {
	const char *source;		/* interface or file */
	bool live, interrupted;
	struct mp_prtt_counters c;
	bool have_drops;
	uint64_t kernel_drops, if_drops;
	uint64_t first_ns, last_ns;	/* packet times */
	uint64_t elapsed_ns;		/* CLOCK_MONOTONIC, the whole run */
	struct mp_prtt_flow_info *flows;	/* ended and active, sorted by bytes */
	size_t nflows;
	uint64_t flows_unkept;		/* ended beyond the cap: counted only */
};

extern volatile sig_atomic_t tr_stop;

int tr_run(const struct tr_opts *o, struct tr_result *res, const struct tr_sink *sink);
void tr_result_done(struct tr_result *res);

struct tr_printer;
int tr_printer_new(struct tr_printer **ret, const struct tr_opts *o, struct mp_writer *w);
void tr_printer_sink(struct tr_printer *p, struct tr_sink *ret);
int tr_print_summary(struct tr_printer *p, const struct tr_result *res);
/* --plot: draws the samples; 0, or -errno after saying why. */
int tr_printer_plot(struct tr_printer *p);
void tr_printer_free(struct tr_printer *p);
extern const struct mp_prom_help tr_prom_help[];

#endif
