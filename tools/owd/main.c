/* SPDX-License-Identifier: MIT */
/*
 * owd: one-way delay, loss and delay variation per direction over STAMP
 * (RFC 8762). Options and exit codes; probe.c measures, server.c reflects,
 * print.c renders.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "owd.h"
#include "args.h"
#include "auth.h"
#include "cli.h"
#include "out.h"
#include "run.h"

enum {
	OPT_INTERVAL_REPORT = 256,
	OPT_PLOT,
	OPT_POISSON,
	OPT_SEED,
	OPT_TIMEOUT,
	OPT_CLOCK_OFFSET,
	OPT_MAX_PPS,
};

static const struct option options[] = {
	{ "ipv4", no_argument, NULL, '4' },			/* IPv4 only */
	{ "ipv6", no_argument, NULL, '6' },			/* IPv6 only */
	{ "server", no_argument, NULL, 's' },			/* run the reflector */
	{ "port", required_argument, NULL, 'p' },		/* reflector port */
	{ "count", required_argument, NULL, 'c' },		/* probes */
	{ "interval", required_argument, NULL, 'i' },		/* mean time between probes */
	{ "duration", required_argument, NULL, 't' },		/* send for this long; 0: ever */
	{ "length", required_argument, NULL, 'l' },		/* test packet octets */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "interval-report", required_argument, NULL, OPT_INTERVAL_REPORT }, /* records */
	{ "key-file", required_argument, NULL, 'k' },		/* authenticated mode */
	{ "interface", required_argument, NULL, 'I' },		/* SO_BINDTODEVICE */
	{ "plot", required_argument, NULL, OPT_PLOT },		/* PNG of per-packet delays */
	{ "poisson", no_argument, NULL, OPT_POISSON },		/* exponential gaps */
	{ "seed", required_argument, NULL, OPT_SEED },		/* Poisson seed */
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },	/* per-probe loss timeout */
	{ "clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET }, /* -s: shift T2/T3 */
	{ "max-pps", required_argument, NULL, OPT_MAX_PPS },	/* -s: all sources, pps */
	MP_RUN_OPTIONS,						/* HOST..., --textfile */
	MP_RUN_OPTION_PARALLEL,
	{ "quiet", no_argument, NULL, 'q' },			/* summary only */
	{ "verbose", no_argument, NULL, 'v' },			/* more detail */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: owd [options] HOST...     one-way delay to STAMP reflectors\n"
	      "       owd -s [options]          run the STAMP reflector\n"
	      "  -, --targets FILE      hosts from stdin or FILE: a list, csv or ndjson\n"
	      "      --target-key KEY   the hosts' key (default dst, addr, peer)\n"
	      "      --parallel N       measure up to N targets at once\n"
	      "  -4, -6                  IPv4 / IPv6 only\n"
	      "  -p, --port PORT         reflector UDP port (default 862)\n"
	      "  -c, --count N           probes to send (default 10 without -t)\n"
	      "  -i, --interval DUR      time between probes (default 1s, >= 100us)\n"
	      "  -t, --duration DUR      send for DUR (0: until stopped)\n"
	      "      --poisson           exponential gaps of mean DUR (--seed N)\n"
	      "      --timeout DUR       a probe is lost after DUR (default max(3 RTT, 1s))\n"
	      "  -l, --length BYTES      test packet length (default 44; 112 with -k)\n"
	      "  -f, --format FMT        text, csv, json, ndjson, prom (-j: json)\n"
	      "      --color[=WHEN]      auto (a terminal, no NO_COLOR), always, never\n"
	      "      --interval-report DUR  a record every DUR while running\n"
	      "  -k, --key-file FILE     authenticated mode (RFC 8762 4.2.2, HMAC-SHA-256)\n"
	      "  -I, --interface IF      bind to interface IF\n"
	      "      --plot FILE.png     plot per-packet forward/reverse delays\n"
	      "      --textfile DIR      also DIR/owd-JOB.prom for node_exporter (--job JOB)\n"
	      "      --clock-offset DUR  -s: add DUR (may be negative) to T2/T3, for tests\n"
	      "      --max-pps N         -s: requests/s of all sources together (100000;\n"
	      "                          0: none; each source: 10000, burst 1000)\n"
	      "  -q, -v                  quiet (summary only), verbose\n"
	      "  -h, --help              this help;  -V, --version  version\n", f);
}

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct owd_opts *o = ctx;
	uint64_t u;

	switch (c) {
	case '4': o->family = AF_INET; return 0;
	case '6': o->family = AF_INET6; return 0;
	case 's': o->server = true; return 0;
	case 'p': return mp_parse_port(arg, &o->port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case 'c':
		o->count_set = true;
		return mp_parse_u64(arg, 1, UINT32_MAX, &o->count) < 0 ? mp_warn_invalid("count", arg, 0) : 0;
	case 'i':
		return mp_opt_duration("interval", arg, 100 * MP_NSEC_PER_USEC, 3600 * MP_NSEC_PER_SEC,
					 &o->interval_ns);
	case 't':
		o->duration_set = true;
		return mp_opt_duration("duration", arg, 0, UINT64_MAX / 2, &o->duration_ns);
	case 'l':
		if (mp_opt_size("length", arg, MP_STAMP_BASE_LEN, 1472 * 6, &u) < 0)
			return -EINVAL;
		o->length = (uint32_t)u;
		return 0;
	case 'f': return mp_opt_format(arg, &o->format);
	case 'j': o->format = MP_FMT_JSON; return 0;
	case OPT_INTERVAL_REPORT:
		return mp_opt_duration("interval-report", arg, MP_NSEC_PER_MSEC, 86400 * MP_NSEC_PER_SEC,
					 &o->report_ns);
	case 'k': o->key_file = arg; return 0;
	case 'I': o->ifname = arg; return 0;
	case OPT_PLOT: o->plot = o->run.plot = arg; return 0;
	case OPT_POISSON: o->poisson = true; return 0;
	case OPT_SEED: return mp_parse_u64(arg, 1, UINT64_MAX, &o->seed) < 0 ? mp_warn_invalid("seed", arg, 0) : 0;
	case OPT_TIMEOUT:
		return mp_opt_duration("timeout", arg, MP_NSEC_PER_MSEC, 3600 * MP_NSEC_PER_SEC,
					 &o->timeout_ns);
	case OPT_CLOCK_OFFSET:
		if (mp_opt_duration("clock offset", arg[0] == '-' ? arg + 1 : arg, 0, 86400 * MP_NSEC_PER_SEC,
				      &u) < 0)
			return -EINVAL;
		o->clock_offset_ns = arg[0] == '-' ? -(int64_t)u : (int64_t)u;
		return 0;
	case OPT_MAX_PPS:
		o->max_pps_set = true;
		return mp_parse_u64(arg, 0, 100000000, &o->max_pps) < 0 ?
		       mp_warn_invalid("packet rate", arg, 0) : 0;
	case MP_OPT_TARGETS:
	case MP_OPT_TARGET_KEY:
	case MP_OPT_TEXTFILE:
	case MP_OPT_JOB:
	case MP_OPT_PARALLEL:
	case MP_OPT_COLOR:
		return mp_run_opt(&o->run, c, arg);
	case 'q': o->quiet = true; return 0;
	case 'v': o->verbose = true; return 0;
	case 'h': return MP_ARGS_HELP;
	case 'V':
		printf("owd meshperf %s\n", MP_VERSION);
		return MP_ARGS_HELP + 1;
	default: return -EINVAL;
	}
}

int owd_parse_args(int argc, char **argv, struct owd_opts *o)
{
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (o->server ? optind < argc || o->run.targets_file :
			optind == argc && !o->run.targets_file) {
		mp_warnx(o->server ? "-s takes no HOST" : "a HOST is needed (or -s)");
		return -EINVAL;
	}
	o->run.ops = argv + optind;
	o->run.nops = argc - optind;
	if (o->server && (o->count_set || o->duration_set || o->poisson || o->plot || o->length)) {
		mp_warnx("-s is incompatible with -c, -t, -l, --poisson and --plot");
		return -EINVAL;
	}
	if (!o->server && (o->clock_offset_ns || o->max_pps_set)) {
		mp_warnx("--clock-offset and --max-pps need -s");
		return -EINVAL;
	}
	if (o->key_file && o->length && o->length < MP_STAMP_AUTH_BASE_LEN) {
		mp_warnx("with -k, the length must be at least %d", MP_STAMP_AUTH_BASE_LEN);
		return -EINVAL;
	}
	if (!o->count_set && !o->duration_set)
		o->count = OWD_COUNT_DEFAULT;
	if (!o->seed)
		o->seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)time(NULL);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	if (owd_stop < 2)
		owd_stop++;
}

/* Not one probe answered: why, in one line. */
static void no_reply(const struct owd_result *res)
{
	if (res->icmp_last_errno == ECONNREFUSED)
		mp_warnx("no reply from %s (port unreachable: is 'owd -s' running there?)",
			 res->peer);
	else if (res->icmp_last_errno)
		mp_warnx("no reply from %s (%s)", res->peer, strerror(res->icmp_last_errno));
	else
		mp_warnx("no reply from %s (%" PRIu64 " probes unanswered)", res->peer, res->sent);
}

/* The sender: measure, streaming packets and intervals, then the summary. */
static int sender(const struct owd_opts *o, const struct mp_auth_key *key, struct mp_writer *w,
		  const char *plot_csv)
{
	struct owd_result res = { 0 };
	struct owd_printer *p = NULL;
	struct owd_sink sink;
	int r;

	r = owd_printer_new(&p, o, w, plot_csv);
	if (r < 0) {
		mp_warn(-r, "output");
		return MP_EXIT_USAGE;
	}
	owd_printer_sink(p, &sink);
	r = owd_run(o, key, &res, &sink);
	if (r < 0) {
		mp_warn_target(o->target, r);
		owd_printer_free(p);
		return r == -ENOMEM || r == -EIO ? MP_EXIT_FAIL : MP_EXIT_USAGE;
	}
	if (!res.received)
		no_reply(&res);
	r = owd_printer_finish(p, &res);
	owd_printer_free(p);
	return r < 0 ? MP_EXIT_FAIL : owd_exit_status(&res);
}

struct sender_ctx {
	struct owd_opts *o;
	const struct mp_auth_key *key;
	struct mp_writer *w;
};

static int sender_one(const struct mp_run_target *t, void *ctx)
{
	struct sender_ctx *c = ctx;

	c->o->target = t->host;
	return sender(c->o, c->key, c->w, t->plot_csv);
}

int main(int argc, char **argv)
{
	struct owd_opts opts = OWD_OPTS_INIT;
	struct sigaction sa = { .sa_handler = on_signal };
	struct mp_auth_key key = { 0 };
	struct mp_writer *w = NULL;
	int r, ret = MP_EXIT_USAGE;

	atexit(mp_close_stdout);
	r = owd_parse_args(argc, argv, &opts);
	if (r == MP_ARGS_HELP)
		usage(stdout);
	if (r > 0)
		return MP_EXIT_OK;
	if (r < 0) {
		mp_usage_try();
		return MP_EXIT_USAGE;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (opts.key_file && mp_opt_key(opts.key_file, &key) < 0)
		goto out;
	r = mp_writer_new(&w, opts.format, stdout, "owd", "owd/2");
	if (r < 0) {
		mp_warn(-r, "output");
		goto out;
	}
	mp_writer_prom_help(w, opts.server ? owd_srv_prom_help : owd_prom_help);
	if (opts.server) {
		r = owd_serve(&opts, opts.key_file ? &key : NULL, w);
		if (r < 0)
			mp_warn(-r, "reflector on port %u", opts.port);
		ret = r < 0 ? MP_EXIT_USAGE : MP_EXIT_OK;
	} else {
		struct sender_ctx c = { &opts, opts.key_file ? &key : NULL, w };

		ret = mp_targets_run(&opts.run, w, &(struct mp_run_fns){
			.one = sender_one, .plot = owd_plot_targets, .ctx = &c, .stop = &owd_stop });
	}
	if (mp_writer_close(w) < 0 && ret == MP_EXIT_OK)
		ret = MP_EXIT_FAIL;
	w = NULL;
out:
	mp_writer_close(w);
	mp_auth_key_done(&key);
	return ret;
}
