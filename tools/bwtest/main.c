/* SPDX-License-Identifier: MIT */
/*
 * bwtest: UDP loss / throughput / jitter, forward, reverse, both; options
 * and exit codes only (STYLE.md section 3).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bwtest.h"
#include "admit.h"
#include "args.h"
#include "cli.h"
#include "run.h"

enum {
	OPT_PPS = 256,
	OPT_BIDIR,
	OPT_INTERVAL_REPORT,
	OPT_FIND_MAX,
	OPT_NO_AUTH,
	OPT_MAX_SESSIONS,
	OPT_MAX_SESSIONS_SOURCE,
	OPT_MAX_PENDING,
	OPT_MAX_PENDING_SOURCE,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_OPEN_BUDGET,
	OPT_MAX_RATE,
	OPT_MAX_DURATION,
	OPT_NO_GSO,
	OPT_PLOT,
};

static const struct option options[] = {
	{ "server", no_argument, NULL, 's' },			/* run the server */
	{ "port", required_argument, NULL, 'p' },		/* TCP+UDP port */
	{ "rate", required_argument, NULL, 'b' },		/* payload bit/s per direction */
	{ "pps", required_argument, NULL, OPT_PPS },		/* packets/s per direction */
	{ "length", required_argument, NULL, 'l' },		/* UDP payload bytes */
	{ "duration", required_argument, NULL, 't' },		/* test length */
	{ "reverse", no_argument, NULL, 'R' },			/* server sends */
	{ "bidir", no_argument, NULL, OPT_BIDIR },		/* both directions */
	{ "parallel", required_argument, NULL, 'P' },		/* streams per direction */
	{ "interval-report", required_argument, NULL, OPT_INTERVAL_REPORT }, /* records */
	{ "find-max", required_argument, NULL, OPT_FIND_MAX },	/* loss threshold, % */
	{ "key-file", required_argument, NULL, 'k' },		/* pre-shared key */
	{ "no-auth", no_argument, NULL, OPT_NO_AUTH },		/* server without a key */
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },	/* server cap */
	{ "max-sessions-per-source", required_argument, NULL, OPT_MAX_SESSIONS_SOURCE },
								/* key mode: per source */
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },	/* unauthenticated */
	{ "max-pending-per-source", required_argument, NULL, OPT_MAX_PENDING_SOURCE },
								/* ... per source */
	{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
								/* accept to AUTH */
	{ "open-budget", required_argument, NULL, OPT_OPEN_BUDGET },	/* --no-auth total */
	{ "max-rate", required_argument, NULL, OPT_MAX_RATE },	/* server cap */
	{ "max-duration", required_argument, NULL, OPT_MAX_DURATION },	/* server cap */
	{ "no-gso", no_argument, NULL, OPT_NO_GSO },		/* plain sendmmsg */
	{ "ipv4", no_argument, NULL, '4' },			/* IPv4 only */
	{ "ipv6", no_argument, NULL, '6' },			/* IPv6 only */
	{ "interface", required_argument, NULL, 'I' },		/* SO_BINDTODEVICE */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* -f json */
	{ "plot", required_argument, NULL, OPT_PLOT },		/* PNG of rate and loss */
	MP_RUN_OPTIONS,						/* HOST..., --textfile */
	{ "quiet", no_argument, NULL, 'q' },			/* summary only */
	{ "verbose", no_argument, NULL, 'v' },			/* more detail */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ 0 },
};

static void usage(FILE *f)
{
	fputs("usage: bwtest [options] HOST...         client\n"
	      "       bwtest -s [-k FILE | --no-auth]  server\n"
	      "  -, --targets FILE     hosts from stdin or FILE: a list, csv or ndjson\n"
	      "      --target-key KEY  the hosts' key (default dst, addr, peer)\n"
	      "      --parallel-targets N  measure up to N targets at once\n"
	      "  -b, --rate RATE        payload bit/s per direction (1M; 0: server cap)\n"
	      "      --pps N            packets/s per direction instead of -b\n"
	      "  -l, --length BYTES     UDP payload (1472 IPv4, 1452 IPv6; >= 24)\n"
	      "  -t, --duration DUR     test length (10s; --find-max trials: 1s)\n"
	      "  -R, --reverse          the server sends; --bidir: both directions\n"
	      "  -P, --parallel N       streams per direction (1)\n"
	      "      --interval-report DUR  interval records (1s; 0: none); server: status\n"
	      "                         records (none by default)\n"
	      "      --find-max LOSS%   highest rate whose loss stays <= LOSS %\n"
	      "  -k, --key-file FILE    pre-shared key (mode 0600)\n"
	      "      --no-auth          server without a key (caps 1 Mbit/s, 10 s)\n"
	      "      --max-sessions N   server: sessions at once (64)\n"
	      "      --max-sessions-per-source N  server: per source (--max-sessions;\n"
	      "                         --no-auth: 1)\n"
	      "      --max-pending N    server: unauthenticated connections at once (32)\n"
	      "      --max-pending-per-source N  server: of them per source (4)\n"
	      "      --handshake-timeout DUR  server: connect to authenticated (1s)\n"
	      "      --open-budget RATE server --no-auth: all sessions together (10M)\n"
	      "      --max-rate RATE    server: per session and direction (10G)\n"
	      "      --max-duration DUR server: per session (300s)\n"
	      "      --no-gso           send without UDP GSO\n"
	      "  -p, --port PORT        TCP and UDP port (5121)\n"
	      "  -4, -6                 address family    -I, --interface IF  bind\n"
	      "  -f, --format FMT       " MP_FORMATS " (-j: json)\n"
	      "      --color[=WHEN]     auto (a terminal, no NO_COLOR), always, never\n"
	      "      --plot FILE.png    rate and loss over time (gnuplot)\n"
	      "      --textfile DIR     also DIR/bwtest-JOB.prom for node_exporter (--job JOB)\n"
	      "  -q, -v, -h, -V         quiet (summary only), verbose, help, version\n", f);
}

/* Parse state beyond bw_opts: flags whose conflicts are checked after the loop. */
struct parse_state {
	struct bw_opts *o;
	bool reverse, bidir, dur_set, budget_set, iv_set;
};

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct parse_state *a = ctx;
	struct bw_opts *o = a->o;
	uint64_t v;
	int r;

	switch (c) {
	case 's': o->server = true; break;
	case 'p':
		if ((r = mp_parse_port(arg, &o->port)) < 0)
			return mp_warn_invalid("port", arg, r);
		break;
	case 'b':
		if ((r = mp_opt_rate("rate", arg, 0, 1000000000000ULL, &o->req.rate_bps)) < 0)
			return r;
		o->rate_set = true;
		break;
	case OPT_PPS:
		if ((r = mp_parse_u64(arg, 1, 100000000, &o->req.pps)) < 0)
			return mp_warn_invalid("packet rate", arg, r);
		break;
	case 'l':
		if ((r = mp_opt_size("length", arg, BW_PAYLOAD_MIN, BW_PAYLOAD_MAX, &v)) < 0)
			return r;
		o->req.payload_bytes = (uint16_t)v;
		break;
	case 't':
		/* A bare number is seconds, as iperf3's -t. */
		if (mp_parse_u64(arg, 1, 86400, &v) == 0)
			o->req.duration_ns = v * MP_NSEC_PER_SEC;
		else if ((r = mp_opt_duration("duration", arg, MP_NSEC_PER_MSEC,
						86400 * MP_NSEC_PER_SEC,
						&o->req.duration_ns)) < 0)
			return r;
		a->dur_set = true;
		break;
	case 'R': a->reverse = true; break;
	case OPT_BIDIR: a->bidir = true; break;
	case 'P':
		if ((r = mp_parse_u64(arg, 1, BW_STREAMS_MAX, &v)) < 0)
			return mp_warn_invalid("stream count", arg, r);
		o->req.streams = (uint16_t)v;
		break;
	case OPT_INTERVAL_REPORT:
		if (!strcmp(arg, "0"))
			o->req.interval_ns = 0;
		else if ((r = mp_opt_duration("interval", arg, 10 * MP_NSEC_PER_MSEC,
					      3600 * MP_NSEC_PER_SEC, &o->req.interval_ns)) < 0)
			return r;
		a->iv_set = true;
		break;
	case OPT_FIND_MAX:
		if ((r = mp_parse_double(arg, 0, 100, &o->find_max_pct)) < 0)
			return mp_warn_invalid("loss threshold", arg, r);
		break;
	case 'k': o->key_file = arg; break;
	case OPT_NO_AUTH: o->no_auth = true; break;
	case OPT_MAX_SESSIONS:
		if ((r = mp_parse_u64(arg, 1, 100000, &v)) < 0)
			return mp_warn_invalid("session count", arg, r);
		o->max_sessions = (unsigned)v;
		break;
	case OPT_MAX_SESSIONS_SOURCE:
		if ((r = mp_parse_u64(arg, 1, 100000, &v)) < 0)
			return mp_warn_invalid("session count per source", arg, r);
		o->sessions_per_source = (unsigned)v;
		break;
	case OPT_MAX_PENDING:
		if ((r = mp_parse_u64(arg, 1, MP_ADMIT_PENDING_MAX, &v)) < 0)
			return mp_warn_invalid("pending connection count", arg, r);
		o->max_pending = (unsigned)v;
		break;
	case OPT_MAX_PENDING_SOURCE:
		if ((r = mp_parse_u64(arg, 1, MP_ADMIT_PENDING_MAX, &v)) < 0)
			return mp_warn_invalid("pending connection count per source", arg, r);
		o->pending_per_source = (unsigned)v;
		break;
	case OPT_HANDSHAKE_TIMEOUT:
		if ((r = mp_opt_duration("handshake timeout", arg, 10 * MP_NSEC_PER_MSEC,
					 60 * MP_NSEC_PER_SEC, &o->handshake_ns)) < 0)
			return r;
		break;
	case OPT_OPEN_BUDGET:
		if ((r = mp_opt_rate("open budget", arg, 1000, 1000000000000ULL,
				     &o->open_budget_bps)) < 0)
			return r;
		a->budget_set = true;
		break;
	case OPT_MAX_RATE:
		if ((r = mp_opt_rate("rate", arg, 1000, 1000000000000ULL, &o->max_rate_bps)) < 0)
			return r;
		break;
	case OPT_MAX_DURATION:
		if ((r = mp_opt_duration("duration", arg, MP_NSEC_PER_SEC, 86400 * MP_NSEC_PER_SEC,
					   &o->max_duration_ns)) < 0)
			return r;
		break;
	case OPT_NO_GSO: o->no_gso = true; break;
	case '4': o->family = AF_INET; break;
	case '6': o->family = AF_INET6; break;
	case 'I': o->ifname = arg; break;
	case 'f':
		if (mp_opt_format(arg, &o->format) < 0)
			return -EINVAL;
		break;
	case 'j': o->format = MP_FMT_JSON; break;
	case MP_OPT_TARGETS:
	case MP_OPT_TARGET_KEY:
	case MP_OPT_TEXTFILE:
	case MP_OPT_JOB:
	case MP_OPT_PARALLEL:
	case MP_OPT_COLOR:
		return mp_run_opt(&o->run, c, arg);
	case OPT_PLOT: o->plot = o->run.plot = arg; break;
	case 'q': o->quiet = true; break;
	case 'v': o->verbose++; break;
	case 'h': return MP_ARGS_HELP;
	case 'V': return MP_ARGS_HELP + 1;
	default:
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct bw_opts *o)
{
	struct parse_state a = { .o = o };
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, &a, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	/* Conflicts, checked once. */
	if (o->server ? optind != argc || o->run.targets_file :
			optind == argc && !o->run.targets_file) {
		mp_warnx(o->server ? "the server takes no HOST" : "a HOST is needed");
		return -EINVAL;
	}
	o->run.ops = argv + optind;
	o->run.nops = argc - optind;
	if (o->server && !o->key_file && !o->no_auth) {
		mp_warnx("the server needs a key (-k FILE), or --no-auth for an open server");
		return -EINVAL;
	}
	if (o->key_file && o->no_auth) {
		mp_warnx("-k and --no-auth are incompatible");
		return -EINVAL;
	}
	if (!o->server && (o->sessions_per_source || a.budget_set)) {
		mp_warnx("--max-sessions-per-source and --open-budget are server options");
		return -EINVAL;
	}
	if (o->no_auth && o->sessions_per_source > 1) {
		mp_warnx("--no-auth allows one session per source: "
			 "invalid --max-sessions-per-source '%u'", o->sessions_per_source);
		return -EINVAL;
	}
	if (!o->no_auth && a.budget_set) {
		mp_warnx("--open-budget is for --no-auth servers");
		return -EINVAL;
	}
	if (o->sessions_per_source > o->max_sessions) {
		mp_warnx("invalid --max-sessions-per-source '%u': above --max-sessions %u",
			 o->sessions_per_source, o->max_sessions);
		return -EINVAL;
	}
	if (o->server && a.iv_set)
		o->status_ns = o->req.interval_ns;
	if (o->no_auth)
		o->sessions_per_source = 1;
	else if (!o->sessions_per_source)
		o->sessions_per_source = o->max_sessions;
	if (o->pending_per_source > o->max_pending) {
		mp_warnx("invalid --max-pending-per-source '%u': above --max-pending %u",
			 o->pending_per_source, o->max_pending);
		return -EINVAL;
	}
	/* not given: the default, within a smaller --max-pending */
	if (!o->pending_per_source)
		o->pending_per_source = MP_MIN(MP_ADMIT_PENDING_PER_SOURCE, o->max_pending);
	if (a.reverse && a.bidir) {
		mp_warnx("-R and --bidir are incompatible");
		return -EINVAL;
	}
	if (o->rate_set && o->req.pps) {
		mp_warnx("-b and --pps are incompatible");
		return -EINVAL;
	}
	o->req.dirs = a.bidir ? BW_FWD | BW_REV : a.reverse ? BW_REV : BW_FWD;
	if (o->find_max_pct >= 0) {
		o->trial_ns = a.dur_set ? o->req.duration_ns : MP_NSEC_PER_SEC;
		if (o->plot) {
			mp_warnx("--plot and --find-max are incompatible");
			return -EINVAL;
		}
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	bw_stop_flag = 1;
}

struct client {
	struct bw_opts *o;
	struct bw_result *res;
	struct bw_print *pr;
	struct mp_writer *w;
};

/* One HOST: the test (or --find-max), the report, the plot; exit status. */
static int client_one(const struct mp_run_target *t, void *ctx)
{
	const char *host = t->host;
	struct client *c = ctx;
	struct bw_opts *o = c->o;
	struct bw_result *res = c->res;
	char err[256] = "";
	int r, ret;

	o->host = host;
	memset(res, 0, sizeof(*res));
	c->pr->w = c->w;
	c->pr->quiet = o->quiet;
	c->pr->n_points = 0;
	r = o->find_max_pct >= 0 ? bw_find_max(o, res) :
				   bw_client_run(o, res, bw_print_interval, c->pr);
	if (r < 0) {
		if (res->reject[0])
			mp_warnx("%s refused: %s", host, res->reject);
		else
			mp_warn_target(host, r);
		if (!res->find_max || !res->n_trials)
			return MP_EXIT_USAGE;
	}
	r = bw_print_result(c->w, res);
	ret = r < 0 ? MP_EXIT_FAIL : bw_exit_status(res);
	if (t->plot_csv && bw_print_plot_csv(c->pr, t->plot_csv) < 0) {
		ret = MP_EXIT_USAGE;
	} else if (o->plot && !mp_run_multi(&o->run) &&
		   bw_print_plot(c->pr, o->plot, err, sizeof(err)) < 0) {
		mp_warnx("plot %s: %s", o->plot, err);
		ret = MP_EXIT_USAGE;
	}
	return ret;
}

static int plot_targets(const struct mp_run_target *t, size_t n, const char *png, void *ctx)
{
	return bw_plot_targets(t, n, png, ((struct client *)ctx)->o);
}

int main(int argc, char **argv)
{
	struct bw_opts o = {
		.port = BW_PORT, .family = AF_UNSPEC, .find_max_pct = -1,
		.req = { .streams = 1, .rate_bps = 1000000, .duration_ns = 10 * MP_NSEC_PER_SEC,
			 .interval_ns = MP_NSEC_PER_SEC },
		.max_sessions = BW_MAX_SESSIONS, .max_rate_bps = BW_MAX_RATE_BPS,
		.max_duration_ns = BW_MAX_DURATION_NS,
		.max_pending = MP_ADMIT_MAX_PENDING,	/* pending_per_source 0: default */
		.handshake_ns = MP_ADMIT_HANDSHAKE_NS, .open_budget_bps = BW_OPEN_BUDGET_BPS,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct bw_result *res = calloc(1, sizeof(*res));
	struct bw_print pr = { 0 };
	struct mp_writer *w = NULL;
	int r, ret = MP_EXIT_USAGE;

	atexit(mp_close_stdout);
	r = parse_args(argc, argv, &o);
	if (r == MP_ARGS_HELP || r == MP_ARGS_HELP + 1) {
		if (r == MP_ARGS_HELP)
			usage(stdout);
		else
			printf("bwtest meshperf %s\n", MP_VERSION);
		free(res);
		return MP_EXIT_OK;
	}
	if (r < 0 || !res) {
		mp_usage_try();
		free(res);
		return MP_EXIT_USAGE;
	}
	if (o.key_file && mp_opt_key_check(o.key_file) < 0) {
		free(res);
		return MP_EXIT_USAGE;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = mp_writer_new(&w, o.format, stdout, "bwtest", "bwtest/2");
	if (r < 0) {
		mp_warn(-r, "output");
		goto out;
	}
	mp_writer_prom_help(w, o.server ? bw_srv_prom_help : bw_prom_help);
	if (o.format == MP_FMT_CSV)
		mp_writer_set_table(w, o.server ? "session" : "interval");
	if (o.server) {
		r = bw_server_run(&o, w);
		if (r < 0)
			mp_warn(-r, "server");
		ret = r < 0 ? MP_EXIT_USAGE : MP_EXIT_OK;
	} else {
		struct client c = { &o, res, &pr, w };

		ret = mp_targets_run(&o.run, w, &(struct mp_run_fns){
			.one = client_one, .plot = plot_targets, .ctx = &c,
			.stop = &bw_stop_flag });
	}
out:
	if (mp_writer_close(w) < 0 && ret == MP_EXIT_OK)
		ret = MP_EXIT_FAIL;
	free(pr.points);
	free(res);
	return ret;
}
