/* SPDX-License-Identifier: MIT */
/*
 * tcprtt: passive RTT and retransmissions of live TCP traffic, from an
 * interface or a pcap file. Options and exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcprtt.h"
#include "args.h"
#include "cli.h"
#include "run.h"

enum {
	OPT_INTERVAL_REPORT = 256,
	OPT_SAMPLES,
	OPT_MAX_FLOWS,
	OPT_IDLE,
	OPT_SNAPLEN,
	OPT_BUFFER,
	OPT_PLOT,
};

static const struct option options[] = {
	{ "interface", required_argument, NULL, 'I' },		/* capture on IF */
	{ "read", required_argument, NULL, 'r' },		/* read a pcap file */
	{ "duration", required_argument, NULL, 't' },		/* capture this long */
	{ "count", required_argument, NULL, 'c' },		/* stop after N packets */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "interval-report", required_argument, NULL, OPT_INTERVAL_REPORT }, /* records */
	{ "samples", no_argument, NULL, OPT_SAMPLES },		/* a record per sample */
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },	/* flow table cap */
	{ "idle", required_argument, NULL, OPT_IDLE },		/* flow expiry */
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },	/* octets kept */
	{ "buffer", required_argument, NULL, OPT_BUFFER },	/* kernel ring */
	{ "plot", required_argument, NULL, OPT_PLOT },		/* PNG of the samples */
	{ "textfile", required_argument, NULL, MP_OPT_TEXTFILE },	/* node_exporter file */
	{ "job", required_argument, NULL, MP_OPT_JOB },		/* its job label */
	{ "color", optional_argument, NULL, MP_OPT_COLOR },	/* colour text */
	{ "colour", optional_argument, NULL, MP_OPT_COLOR },
	{ "quiet", no_argument, NULL, 'q' },			/* summary only */
	{ "verbose", no_argument, NULL, 'v' },			/* every flow in text */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: tcprtt -I IF [options] [FILTER...]   RTT of the TCP traffic on IF\n"
	      "       tcprtt -r FILE [options] [FILTER...] RTT of the TCP traffic in a pcap file\n"
	      "  FILTER                  a BPF filter (pcap-filter(7)), e.g. tcp port 443\n"
	      "  -I, --interface IF      capture on interface IF (live, immediate mode)\n"
	      "  -r, --read FILE         read FILE (pcap or pcapng; - for stdin)\n"
	      "  -t, --duration DUR      capture for DUR (default: until stopped)\n"
	      "  -c, --count N           stop after N packets\n"
	      "  -f, --format FMT        text, csv, json, ndjson, prom (-j: json)\n"
	      "      --color[=WHEN]      auto (a terminal, no NO_COLOR), always, never\n"
	      "      --interval-report DUR  a record every DUR of packet time\n"
	      "      --samples           a record per RTT sample (csv, ndjson, text)\n"
	      "      --max-flows N       flow table cap (default 16384; least recent evicted)\n"
	      "      --idle DUR          a flow idle for DUR ends (default 120s; 0: never)\n"
	      "      --snaplen BYTES     octets kept of each packet (default 128)\n"
	      "      --buffer BYTES      kernel capture ring (default 32M)\n"
	      "      --plot FILE.png     plot every RTT sample over time (gnuplot)\n"
	      "      --textfile DIR      also DIR/tcprtt-JOB.prom for node_exporter (--job JOB)\n"
	      "  -q, -v                  quiet (summary only), verbose (every flow)\n"
	      "  -h, --help              this help;  -V, --version  version\n", f);
}

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct tr_opts *o = ctx;
	uint64_t u;
	int r;

	switch (c) {
	case 'I': o->ifname = arg; return 0;
	case 'r': o->file = arg; return 0;
	case 't':
		return mp_opt_duration("duration", arg, 0, UINT64_MAX / 4, &o->duration_ns);
	case 'c':
		return mp_parse_u64(arg, 1, UINT64_MAX, &o->count) < 0 ?
			mp_warn_invalid("count", arg, 0) : 0;
	case 'f': return mp_opt_format(arg, &o->format);
	case 'j': o->format = MP_FMT_JSON; return 0;
	case OPT_INTERVAL_REPORT:
		return mp_opt_duration("interval-report", arg, MP_NSEC_PER_MSEC,
				       86400 * MP_NSEC_PER_SEC, &o->report_ns);
	case OPT_SAMPLES: o->samples = true; return 0;
	case OPT_MAX_FLOWS:
		r = mp_parse_u64(arg, 1, MP_PRTT_FLOWS_MAX, &u);
		if (r < 0)
			return mp_warn_invalid("max-flows", arg, r);
		o->prtt.max_flows = (uint32_t)u;
		return 0;
	case OPT_IDLE:
		return mp_opt_duration("idle", arg, 0, 86400 * MP_NSEC_PER_SEC, &o->prtt.idle_ns);
	case OPT_SNAPLEN:
		return mp_opt_size("snaplen", arg, 64, 262144, &o->snaplen);
	case OPT_BUFFER:
		return mp_opt_size("buffer", arg, 1 << 16, 1U << 30, &o->buf_bytes);
	case OPT_PLOT: o->plot = arg; return 0;
	case MP_OPT_TEXTFILE: o->textfile = arg; return 0;
	case MP_OPT_JOB:
		if (!mp_textfile_job_valid(arg))
			return mp_warn_invalid("job", arg, 0);
		o->job = arg;
		return 0;
	case MP_OPT_COLOR: return mp_opt_color(arg);
	case 'q': o->quiet = true; return 0;
	case 'v': o->verbose = true; return 0;
	case 'h': return MP_ARGS_HELP;
	case 'V':
		printf("tcprtt meshperf %s\n", MP_VERSION);
		return MP_ARGS_HELP + 1;
	default: return -EINVAL;
	}
}

/* The operands, joined by spaces, are the filter (as tcpdump takes it). */
static int join_filter(int argc, char **argv, char **ret)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	*ret = s;
	return 0;
}

static int tr_parse_args(int argc, char **argv, struct tr_opts *o)
{
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (!o->ifname == !o->file) {
		mp_warnx(o->ifname ? "-I and -r are incompatible" : "-I IF or -r FILE is needed");
		return -EINVAL;
	}
	if (o->job && !o->textfile) {
		mp_warnx("--job needs --textfile");
		return -EINVAL;
	}
	if (optind < argc && join_filter(argc - optind, argv + optind, &o->filter) < 0) {
		mp_warn(ENOMEM, "filter");
		return -ENOMEM;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	tr_stop = 1;
}

int main(int argc, char **argv)
{
	struct tr_opts opts = TR_OPTS_INIT;
	struct sigaction sa = { .sa_handler = on_signal };
	struct tr_result res = { 0 };
	struct tr_printer *p = NULL;
	struct mp_writer *w = NULL;
	struct tr_sink sink;
	int r, ret = MP_EXIT_USAGE;

	atexit(mp_close_stdout);
	r = tr_parse_args(argc, argv, &opts);
	if (r == MP_ARGS_HELP)
		usage(stdout);
	if (r > 0)
		return MP_EXIT_OK;
	if (r < 0) {
		mp_usage_try();
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = mp_writer_new(&w, opts.format, stdout, "tcprtt", "tcprtt/1");
	if (r >= 0 && opts.textfile)
		mp_writer_keep_prom(w);
	if (r >= 0)
		r = tr_printer_new(&p, &opts, w);
	if (r < 0) {
		mp_warn(-r, "output");
		goto out;
	}
	mp_writer_prom_help(w, tr_prom_help);
	tr_printer_sink(p, &sink);
	r = tr_run(&opts, &res, &sink);
	if (r < 0)
		goto out;	/* tr_run said why */
	ret = tr_print_summary(p, &res) < 0 ? MP_EXIT_FAIL :
	      res.c.tcp ? MP_EXIT_OK : MP_EXIT_FAIL;
	if (opts.plot && tr_printer_plot(p) < 0)
		ret = MP_EXIT_USAGE;
	ret = mp_textfile_finish(w, opts.textfile, opts.job, ret);
	tr_printer_free(p);
	p = NULL;
	if (mp_writer_close(w) < 0 && ret == MP_EXIT_OK)
		ret = MP_EXIT_FAIL;
	w = NULL;
out:
	tr_printer_free(p);
	mp_writer_close(w);
	tr_result_done(&res);
	free(opts.filter);
	return ret;
}
