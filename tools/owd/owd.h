/* SPDX-License-Identifier: MIT */
/*
 * owd: one-way delay, loss and delay variation per direction, against a
 * STAMP (RFC 8762) Session-Reflector. Options and results shared by the
 * tool's files: main.c (options, exit codes), probe.c (the sender),
 * server.c (the reflector), print.c (rendering through lib/out).
 */
#ifndef OWD_H
#define OWD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mp.h"
#include "args.h"
#include "auth.h"
#include "out.h"
#include "responder.h"
#include "stamp.h"
#include "stats.h"
#include "run.h"

enum {
	OWD_COUNT_DEFAULT = 10,		/* probes without -c or -t */
	OWD_MIN_TIMEOUT_S = 1,		/* the automatic timeout is never shorter */
	OWD_TIMEOUT_RTTS = 3,		/* ... and is this many times the largest RTT */
	OWD_LINGER_MIN_MS = 10,		/* the end-of-run wait for stragglers, at least */
};

struct owd_opts {
	bool server;			/* -s: run the reflector */
	int family;			/* AF_UNSPEC, AF_INET (-4), AF_INET6 (-6) */
	uint16_t port;			/* reflector UDP port */
	uint64_t count;			/* probes to send, 0: no limit */
	uint64_t interval_ns;		/* mean time between probes */
	uint64_t duration_ns;		/* send for this long, 0: no limit */
	bool duration_set;		/* -t given (0 = until stopped) */
	bool count_set;			/* -c given */
	bool poisson;			/* exponential inter-send times */
	uint64_t seed;			/* Poisson schedule seed */
	uint64_t timeout_ns;		/* per-probe loss timeout, 0: automatic */
	uint32_t length;		/* test packet length, octets, 0: the base size */
	enum mp_format format;		/* -f */
	uint64_t report_ns;		/* --interval-report, 0: none */
	const char *key_file;		/* -k */
	const char *ifname;		/* -I */
	const char *plot;		/* --plot FILE.png */
	bool quiet;			/* -q */
	bool verbose;			/* -v */
	int64_t clock_offset_ns;	/* -s --clock-offset: shift T2/T3 (tests) */
	uint64_t max_pps;		/* -s --max-pps: all sources together, 0: none */
	bool max_pps_set;
	const char *target;		/* the HOST being measured */
	struct mp_run_opts run;		/* HOST..., --targets, --textfile */
};

#define OWD_OPTS_INIT {							\
	.family = AF_UNSPEC,						\
	.port = MP_STAMP_PORT,						\
	.interval_ns = MP_NSEC_PER_SEC,					\
	.format = MP_FMT_TEXT,						\
	.max_pps = MP_RESPONDER_GLOBAL_PPS,				\
}

/* One answered probe, as rendered per packet (csv, text lines, plot). */
struct owd_packet {
	uint32_t seq;			/* sender sequence number */
	uint32_t refl_seq;		/* reflector sequence number */
	uint64_t t1_ns;			/* kernel TX stamp, CLOCK_REALTIME ns */
	uint64_t t2_ns;			/* reflector RX stamp (its clock) */
	uint64_t t3_ns;			/* reflector TX (its clock) */
	uint64_t t4_ns;			/* kernel RX stamp */
	int64_t fwd_ns;			/* T2 - T1, raw (clock offset included) */
	int64_t rev_ns;			/* T4 - T3, raw */
	int64_t rtt_ns;			/* (T4 - T1) - (T3 - T2) */
	bool t1_user;			/* no kernel TX stamp: T1 is the userspace one */
};

/* Loss, duplicates, reordering of one direction. */
struct owd_dir {
	uint64_t lost;			/* probes (forward) / replies (reverse) lost */
	uint64_t duplicates;		/* extra copies arrived */
	uint64_t reordered;		/* arrived after a later-sent one */
	uint64_t late;			/* reverse: replies after the probe's timeout */
};

/* One --interval-report period. */
struct owd_interval {
	uint64_t start_ns;		/* from the run's start, ns */
	uint64_t len_ns;		/* length, ns */
	uint64_t sent;			/* probes sent in it */
	uint64_t received;		/* replies (first copies) received in it */
	struct mp_stats_summary fwd;	/* raw forward OWD of those replies */
	struct mp_stats_summary rev;	/* raw reverse OWD */
	struct mp_stats_summary rtt;	/* RTT */
	uint64_t fwd_lost;		/* cumulative forward loss */
	uint64_t rev_lost;		/* cumulative reverse loss */
};

struct owd_result {
	char peer[MP_ADDR_PORT_STRLEN];	/* reflector address:port */
	char addr[MP_ADDR_STRLEN];	/* reflector address, without the port */
	uint64_t start_real_ns;		/* CLOCK_REALTIME at the first probe */
	uint64_t elapsed_ns;		/* first send to end of the run */
	uint64_t sent;			/* probes sent */
	uint64_t received;		/* probes answered (first copies, in time) */
	uint64_t lost;			/* sent - received */
	uint64_t lost_unknown;		/* unanswered after the last answered probe:
					 * the direction cannot be told */
	uint64_t tx_stamp_missing;	/* replies used with the userspace T1 */
	uint64_t icmp_errors;		/* ICMP errors from the path */
	int icmp_last_errno;		/* the last one's errno (ECONNREFUSED: port
					 * unreachable), 0 if none */
	uint64_t timeout_ns;		/* loss timeout used at the end */
	struct owd_dir fwd, rev;
	bool have_delay;		/* fwd_s, rev_s, rtt_s below hold samples */
	struct mp_stats_summary fwd_s, rev_s, rtt_s;
	bool have_fwd_ipdv, have_rev_ipdv;
	struct mp_ipdv_summary fwd_ipdv, rev_ipdv; /* RFC 3393, consecutive packets */
	/* clock section */
	int64_t offset_ns;		/* offset of the min-RTT sample: reflector - us */
	uint64_t offset_err_ns;		/* its bound: min RTT / 2 */
	int64_t offset_min_ns;		/* spread of every sample's offset */
	int64_t offset_max_ns;
	bool suspect;			/* offsets look unsynchronised */
	bool local_sync_ok;		/* ntp_adjtime() could be read */
	bool local_synced;		/* this host's kernel says synchronised */
	uint64_t local_est_error_ns;	/* its estimated error */
	uint64_t local_max_error_ns;	/* its maximum error */
	bool refl_synced;		/* the reflector's Error Estimate S bit */
	uint64_t refl_error_ns;		/* its Error Estimate, MP_STAMP_ERROR_UNKNOWN */
	bool interrupted;		/* stopped by a signal */
};

/* Called by owd_run() as things happen (print.c renders them). */
struct owd_sink {
	void (*packet)(void *ctx, const struct owd_packet *p);
	void (*interval)(void *ctx, const struct owd_interval *iv);
	void *ctx;
};

extern volatile sig_atomic_t owd_stop;	/* SIGINT/SIGTERM count */

int owd_parse_args(int argc, char **argv, struct owd_opts *o);
int owd_run(const struct owd_opts *o, const struct mp_auth_key *key, struct owd_result *res,
	    const struct owd_sink *sink);
int owd_serve(const struct owd_opts *o, const struct mp_auth_key *key, struct mp_writer *w);

/* print.c */
struct owd_printer;
/* plot_csv: with several targets and --plot, the file for this one's rows
 * (drawn later by owd_plot_targets); NULL: --plot draws this run. */
int owd_printer_new(struct owd_printer **ret, const struct owd_opts *o, struct mp_writer *w,
		    const char *plot_csv);
void owd_printer_sink(struct owd_printer *p, struct owd_sink *ret);
int owd_printer_finish(struct owd_printer *p, const struct owd_result *res);
void owd_printer_free(struct owd_printer *p);
void owd_print_counters(struct mp_writer *w, const char *type,
			const struct mp_responder_counters *c);
struct mp_run_target;
int owd_plot_targets(const struct mp_run_target *t, size_t n, const char *png, void *ctx);
int owd_exit_status(const struct owd_result *res);
/* Prometheus HELP of the client's and the reflector's series. */
extern const struct mp_prom_help owd_prom_help[], owd_srv_prom_help[];

#endif
