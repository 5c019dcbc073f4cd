/* SPDX-License-Identifier: MIT */
/*
 * pathping: options and exit codes (STYLE.md section 3).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "mp.h"
#include "out.h"
#include "pathping.h"
#include "run.h"

enum {
	PP_ARGS_VERSION = 2,	/* parse result: -V was given */
	OPT_MAX_TTL = 256,	/* long-only options */
	OPT_DPORT,
	OPT_TIMEOUT,
	OPT_PLOT,
	OPT_WIDE,
	OPT_TOS,
	OPT_DSCP,
	OPT_LIVE,
	OPT_ALL_PATHS,
	OPT_FLOW,
	OPT_VIA,
	OPT_CTL,
};

static const struct option options[] = {
	{ "ipv4", no_argument, NULL, '4' },		/* IPv4 only */
	{ "ipv6", no_argument, NULL, '6' },		/* IPv6 only */
	{ "probe", required_argument, NULL, 'P' },	/* icmp | udp | tcp */
	{ "port", required_argument, NULL, 'p' },	/* UDP/TCP destination port */
	{ "dport", required_argument, NULL, OPT_DPORT },	/* the same as --port */
	{ "count", required_argument, NULL, 'c' },	/* probes per hop, 0 = until stopped */
	{ "interval", required_argument, NULL, 'i' },	/* between probe rounds */
	{ "duration", required_argument, NULL, 't' },	/* run length, 0 = by count */
	{ "max-ttl", required_argument, NULL, OPT_MAX_TTL },	/* last TTL probed */
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },	/* reply timeout */
	{ "interface", required_argument, NULL, 'I' },	/* bind to an interface */
	{ "numeric", no_argument, NULL, 'n' },		/* no reverse DNS */
	{ "tos", required_argument, NULL, OPT_TOS },	/* TOS / traffic class byte */
	{ "dscp", required_argument, NULL, OPT_DSCP },	/* DSCP, ECN 0 */
	{ "format", required_argument, NULL, 'f' },	/* output format */
	{ "json", no_argument, NULL, 'j' },		/* -f json */
	{ "plot", required_argument, NULL, OPT_PLOT },	/* PNG of RTT per hop */
	{ "wide", no_argument, NULL, OPT_WIDE },		/* every column in text */
	{ "live", no_argument, NULL, OPT_LIVE },		/* redraw in place */
	{ "all-paths", optional_argument, NULL, OPT_ALL_PATHS },	/* MDA */
	{ "flow", required_argument, NULL, OPT_FLOW },	/* source port / ICMP identifier */
	{ "via", required_argument, NULL, OPT_VIA },	/* meshctl's path to SITE */
	{ "ctl", required_argument, NULL, OPT_CTL },	/* meshctl's control socket */
	MP_RUN_OPTIONS,						/* HOST..., --textfile */
	MP_RUN_OPTION_PARALLEL,
	{ "quiet", no_argument, NULL, 'q' },		/* summary only */
	{ "verbose", no_argument, NULL, 'v' },		/* run diagnostics on stderr */
	{ "help", no_argument, NULL, 'h' },		/* this text */
	{ "version", no_argument, NULL, 'V' },		/* program version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pathping [options] HOST...\n"
		"Hop-by-hop latency and loss to HOST; loss split into node and link loss.\n"
		"  -, --targets FILE    hosts from stdin or FILE: a list, csv or ndjson\n"
		"      --target-key K   the hosts' key (default dst, addr, peer)\n"
		"      --parallel N     measure up to N targets at once (default 8)\n"
		"  -4, -6               IPv4 / IPv6 only\n"
		"  -P, --probe TYPE     icmp (default), udp or tcp (SYN)\n"
		"  -p, --port PORT      UDP/TCP destination port (udp 33434, tcp 80)\n"
		"  -c, --count N        probes per hop (default 10); 0: until interrupted, the\n"
		"                       live view on a terminal, else streaming every round\n"
		"      --live           the live view also with a count (q or Ctrl-C ends it)\n"
		"      --all-paths[=C]  every ECMP path (MDA), C%% confidence (default 95):\n"
		"                       one flow per round, udp or tcp, raw sockets\n"
		"      --flow N         the flow: source port, ICMP id (default random per run)\n"
		"      --via SITE       per segment of meshctl's path to SITE (HOST: its net's\n"
		"                       first address); --ctl PATH: meshctl's socket\n"
		"  -i, --interval DUR   between probe rounds (default 50ms)\n"
		"  -t, --duration DUR   stop after DUR (default: by count)\n"
		"      --max-ttl N      last hop probed (default 30, at most %d)\n"
		"      --timeout DUR    reply timeout (default: 3 x largest RTT, 100ms..2s)\n"
		"  -I, --interface IF   send through IF\n"
		"  -n, --numeric        addresses only: no reverse DNS names\n"
		"      --dscp DSCP      mark probes: 0..63 or a name (ef, af41, cs1, ...)\n"
		"      --tos N          the whole TOS / traffic class byte, 0..255 (DSCP, ECN)\n"
		"  -f, --format FMT     %s (default text)\n"
		"      --color[=WHEN]   auto (a terminal, no NO_COLOR), always, never\n"
		"  -j, --json           -f json\n"
		"      --wide           text: every column (responders, p95, jitter, ...)\n"
		"      --plot FILE.png  plot RTT per hop with gnuplot\n"
		"      --textfile DIR   also DIR/pathping-JOB.prom for node_exporter (--job JOB)\n"
		"  -q, --quiet          summary only: no round lines (-c 0), no diagnostics\n"
		"  -v, --verbose        sockets, unmatched packets, kernel stamps on stderr\n"
		"  -h, --help           this help\n"
		"  -V, --version        program version\n"
		"Raw sockets when permitted (root: probes of every type); otherwise ICMP\n"
		"datagram sockets (net.ipv4.ping_group_range) or UDP with IP_RECVERR.\n"
		"Exit: 0 target reached, 1 not reached, 2 usage or setup error.\n",
		PP_MAX_TTL, MP_FORMATS);
}

static int parse_proto(const char *s, enum pp_proto *ret)
{
	static const char *const names[] = { [PP_ICMP] = "icmp", [PP_UDP] = "udp",
					      [PP_TCP] = "tcp" };
	size_t i;

	for (i = 0; i < MP_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*ret = (enum pp_proto)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* One option; returns 0 or -EINVAL after saying what was wrong. */
static int parse_opt(int c, const char *arg, struct pp_opts *o)
{
	uint64_t v;
	uint8_t d;

	switch (c) {
	case '4':
	case '6':
		o->family = c == '4' ? AF_INET : AF_INET6;
		return 0;
	case 'P':
		if (parse_proto(arg, &o->proto) == 0)
			return 0;
		mp_warnx("invalid probe type '%s' (icmp, udp or tcp)", arg);
		return -EINVAL;
	case 'p':
	case OPT_DPORT:
		if (mp_parse_port(arg, &o->dport) == 0)
			return 0;
		mp_warnx("invalid port '%s'", arg);
		return -EINVAL;
	case OPT_FLOW:
		if (mp_parse_port(arg, &o->flow) == 0)
			return 0;
		mp_warnx("invalid flow '%s': a source port or ICMP identifier, 1..65535", arg);
		return -EINVAL;
	case OPT_VIA:
		if (mp_parse_u64(arg, 0, 255, &v) == 0) {
			o->via = (int)v;
			return 0;
		}
		mp_warnx("invalid site '%s': 0..255", arg);
		return -EINVAL;
	case OPT_CTL:
		o->ctl = arg;
		return 0;
	case 'c':
		if (mp_parse_u64(arg, 0, 1000000, &o->count) == 0)
			return 0;
		mp_warnx("invalid count '%s'", arg);
		return -EINVAL;
	case 'i':
		return mp_opt_duration("interval", arg, MP_NSEC_PER_MSEC, 60 * MP_NSEC_PER_SEC, &o->interval_ns);
	case 't':
		return mp_opt_duration("duration", arg, 0, 365 * 86400 * MP_NSEC_PER_SEC,
				       &o->duration_ns);
	case OPT_MAX_TTL:
		if (mp_parse_u64(arg, 1, PP_MAX_TTL, &v) == 0) {
			o->max_ttl = (unsigned)v;
			return 0;
		}
		mp_warnx("invalid max-ttl '%s' (1 to %d)", arg, PP_MAX_TTL);
		return -EINVAL;
	case OPT_TIMEOUT:
		return mp_opt_duration("timeout", arg, MP_NSEC_PER_MSEC, 60 * MP_NSEC_PER_SEC, &o->timeout_ns);
	case 'I':
		o->ifname = arg;
		return 0;
	case 'n':
		o->numeric = true;
		return 0;
	case OPT_TOS:
		if (mp_parse_u64(arg, 0, 255, &v) == 0) {
			o->tos = (int)v;
			return 0;
		}
		mp_warnx("invalid tos '%s' (0 to 255)", arg);
		return -EINVAL;
	case OPT_DSCP:
		if (mp_parse_dscp(arg, &d) == 0) {
			o->tos = d << 2;
			return 0;
		}
		mp_warnx("invalid dscp '%s' (0 to 63, or a name: ef, af11..af43, cs0..cs7, va, le)",
			 arg);
		return -EINVAL;
	case 'f':
	case 'j':
		return mp_opt_format(c == 'j' ? "json" : arg, &o->format);
	case MP_OPT_TARGETS:
	case MP_OPT_TARGET_KEY:
	case MP_OPT_TEXTFILE:
	case MP_OPT_JOB:
	case MP_OPT_PARALLEL:
	case MP_OPT_COLOR:
		return mp_run_opt(&o->run, c, arg);
	case OPT_WIDE:
		o->wide = true;
		return 0;
	case OPT_LIVE:
		o->live = true;
		return 0;
	case OPT_ALL_PATHS:
		if (!arg) {
			o->all_paths = 95;
			return 0;
		}
		if (mp_parse_u64(arg, 50, 99, &v) == 0) {
			o->all_paths = (unsigned)v;
			return 0;
		}
		mp_warnx("invalid confidence '%s' (a percentage, 50 to 99)", arg);
		return -EINVAL;
	case OPT_PLOT:
		o->plot = o->run.plot = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	}
	return -EINVAL;
}

static int handle_opt(int c, const char *arg, void *ctx)
{
	int r;

	if (c == 'h')
		return MP_ARGS_HELP;
	if (c == 'V')
		return PP_ARGS_VERSION;
	r = parse_opt(c, arg, ctx);
	return r < 0 ? r : 0;
}

int pp_parse_args(int argc, char **argv, struct pp_opts *o)
{
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, handle_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (o->via >= 0 && (argc - optind > 1 || o->run.targets_file)) {
		mp_warnx("--via takes one HOST (default: the site's first address)");
		return -EINVAL;
	}
	if (optind == argc && !o->run.targets_file && o->via < 0) {
		mp_warnx("no HOST given");
		return -EINVAL;
	}
	o->run.ops = argv + optind;
	o->run.nops = argc - optind;
	o->multi = mp_run_multi(&o->run);
	/* several hosts at once: each run is paced by its interval, not by
	 * the machine, so they finish together (a raw socket each) */
	if (o->multi && !o->run.parallel)
		o->run.parallel = PP_PARALLEL_DEFAULT;
	if (o->multi && !o->count) {
		mp_warnx("-c 0 takes one HOST");
		return -EINVAL;
	}
	if (o->all_paths && o->flow) {
		mp_warnx("--all-paths varies the flow: no --flow");
		return -EINVAL;
	}
	if (o->all_paths && o->proto == PP_ICMP) {
		mp_warnx("--all-paths varies the source port: -P udp or -P tcp");
		return -EINVAL;
	}
	if (o->proto == PP_ICMP && o->dport) {
		mp_warnx("--port applies to udp and tcp probes only");
		return -EINVAL;
	}
	if (o->live && (o->multi || o->format != MP_FMT_TEXT || !isatty(STDOUT_FILENO))) {
		mp_warnx("--live draws one HOST's text report on a terminal");
		return -EINVAL;
	}
	if (!o->count && o->format == MP_FMT_PROM) {
		mp_warnx("-c 0 streams rounds; -f prom is a snapshot: give a count");
		return -EINVAL;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	pp_stop = 1;
}

static int signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/* The report drawn in place: asked for, or -c 0 with text on a terminal. */
static bool live_view(const struct pp_opts *o)
{
	return o->live || (!o->count && !o->quiet && !o->multi && o->format == MP_FMT_TEXT &&
			   isatty(STDOUT_FILENO));
}

/* One target: trace, print, plot; its exit status. */
static int trace_one(const struct mp_run_target *t, void *ctx)
{
	struct pp_opts *opts = ctx;
	static struct pp_result res;
	struct pp_live lv;
	bool live = live_view(opts);
	int r;

	opts->target = t->host;
	pp_result_done(&res);
	memset(&res, 0, sizeof(res));
	if (live && (r = pp_live_begin(&lv, &res, opts)) < 0) {
		mp_warn(-r, "live view");
		pp_live_end(&lv);
		return MP_EXIT_FAIL;
	}
	if (live)
		r = pp_run(opts, &res, pp_live_event, &lv);
	else
		r = pp_run(opts, &res, opts->count || opts->quiet ? NULL : pp_print_event,
			   opts->w);
	if (live)
		pp_live_end(&lv);
	if (r == -EPERM && (opts->proto == PP_TCP || opts->all_paths))
		mp_warnx("%s: %s need raw sockets (root or CAP_NET_RAW)", opts->target,
			 opts->all_paths ? "--all-paths' flows" : "tcp probes");
	else if (r < 0)
		mp_warn_target(opts->target, r);
	if (r < 0)
		return MP_EXIT_USAGE;
	if (opts->verbose && !opts->quiet)
		mp_warnx("%s sockets; %" PRIu64 " unmatched, %" PRIu64 " late; kernel stamps: %"
			 PRIu64 " sent, %" PRIu64 " received", res.raw ? "raw" : "datagram",
			 res.unmatched, res.late, res.tx_kernel_stamps, res.rx_kernel_stamps);
	res.via = opts->mesh;
	if (res.via)
		pp_via_analyze(res.via, &res);
	r = pp_print(&res, opts->w, opts->wide);
	if (r == 0 && t->plot_csv)
		r = pp_plot_csv(&res, t->plot_csv);
	else if (r == 0 && opts->plot && !opts->multi && pp_plot(&res, opts->plot) < 0)
		return MP_EXIT_USAGE;
	if (r == 0 && res.via && !res.via->follows)
		return MP_EXIT_FAIL;	/* not the path meshctl chose */
	return r < 0 ? MP_EXIT_FAIL : pp_exit_status(&res);
}

/* --via: meshctl's path, read once; HOST by default its site's first address. */
static int via_begin(struct pp_opts *o)
{
	static struct pp_via via;
	static char *host[1];

	if (pp_via_load(&via, o->ctl, (unsigned)o->via, o->family) < 0)
		return -EINVAL;
	o->mesh = &via;
	if (!o->run.nops) {
		host[0] = via.target;
		o->run.ops = host;
		o->run.nops = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pp_opts opts = PP_OPTS_INIT;
	int r, ret = MP_EXIT_USAGE;

	atexit(mp_close_stdout);
	r = pp_parse_args(argc, argv, &opts);
	if (r == MP_ARGS_HELP || r == PP_ARGS_VERSION) {
		if (r == MP_ARGS_HELP)
			usage(stdout);
		else
			printf("pathping meshperf %s\n", MP_VERSION);
		return MP_EXIT_OK;
	}
	if (r < 0) {
		mp_usage_try();
		return MP_EXIT_USAGE;
	}
	r = signals_init();
	if (r == 0 && opts.via >= 0)
		r = via_begin(&opts);
	if (r == 0)
		r = mp_writer_new(&opts.w, opts.format, stdout, "pathping", "pathping/3");
	if (r == 0) {
		mp_writer_prom_help(opts.w, pp_prom_help);
		ret = mp_targets_run(&opts.run, opts.w, &(struct mp_run_fns){
			.one = trace_one, .plot = pp_plot_targets, .ctx = &opts, .stop = &pp_stop });
	}
	if (mp_writer_close(opts.w) < 0 && ret == MP_EXIT_OK)
		ret = MP_EXIT_FAIL;
	return ret;
}
