/* SPDX-License-Identifier: MIT */
/*
 * meshctl: subcommands, options and exit codes. daemon.c runs the loop,
 * print.c renders; `show` and `status` ask a running daemon over the
 * control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "meshctl.h"

enum {
	OPT_CONF_DIR = 256,
	OPT_UAPI_DIR,
	OPT_PATTERN,
	OPT_PLAN4,
	OPT_PLAN6,
	OPT_SITE,
	OPT_NO_EXCHANGE,
	OPT_FAST_INTERVAL,
	OPT_TIMEOUT,
	OPT_STAMP_PORT,
	OPT_DWELL,
	OPT_HOLD_DOWN,
	OPT_THRESHOLD,
	OPT_ABS_THRESHOLD,
	OPT_TABLE,
	OPT_METRIC,
	OPT_NO_ROUTES,
	OPT_HTTP,
	OPT_CTL,
	OPT_WARMUP,
	OPT_CLOCK_OFFSET,
	OPT_BIRD,
	OPT_BIRD_INCLUDE,
};

static const struct option options[] = {
	{ "key-file", required_argument, NULL, 'k' },		/* the mesh's pre-shared key */
	{ "conf-dir", required_argument, NULL, OPT_CONF_DIR },	/* wg-quick files */
	{ "uapi-dir", required_argument, NULL, OPT_UAPI_DIR },	/* wireguard-go sockets */
	{ "pattern", required_argument, NULL, OPT_PATTERN },	/* interface names */
	{ "plan4", required_argument, NULL, OPT_PLAN4 },		/* IPv4 site net template */
	{ "plan6", required_argument, NULL, OPT_PLAN6 },		/* IPv6 site net template */
	{ "site", required_argument, NULL, OPT_SITE },		/* this node's site */
	{ "no-exchange", no_argument, NULL, OPT_NO_EXCHANGE },	/* direct routes only */
	{ "interval", required_argument, NULL, 'i' },		/* probe interval */
	{ "fast-interval", required_argument, NULL, OPT_FAST_INTERVAL }, /* after a miss */
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },	/* shortest miss timeout */
	{ "stamp-port", required_argument, NULL, OPT_STAMP_PORT }, /* reflector port */
	{ "dwell", required_argument, NULL, OPT_DWELL },		/* better for this long */
	{ "hold-down", required_argument, NULL, OPT_HOLD_DOWN },	/* between switches */
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },	/* relative, percent */
	{ "abs-threshold", required_argument, NULL, OPT_ABS_THRESHOLD }, /* absolute */
	{ "table", required_argument, NULL, OPT_TABLE },		/* routing table */
	{ "metric", required_argument, NULL, OPT_METRIC },	/* route metric */
	{ "no-routes", no_argument, NULL, OPT_NO_ROUTES },	/* decide, install nothing */
	{ "port", required_argument, NULL, 'p' },		/* exchange UDP port */
	{ "http", required_argument, NULL, OPT_HTTP },		/* metrics address */
	{ "ctl", required_argument, NULL, OPT_CTL },		/* control socket */
	{ "warmup", required_argument, NULL, OPT_WARMUP },	/* measure before deciding */
	{ "duration", required_argument, NULL, 't' },		/* run length */
	{ "clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET }, /* tests */
	{ "bird", required_argument, NULL, OPT_BIRD },		/* BIRD's control socket */
	{ "bird-include", required_argument, NULL, OPT_BIRD_INCLUDE }, /* Babel costs */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "quiet", no_argument, NULL, 'q' },			/* no event log */
	{ "verbose", no_argument, NULL, 'v' },			/* more log */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: meshctl run|once [options]    orchestrate this node's WireGuard mesh\n"
	      "       meshctl show links|routes|paths [-f FMT]   ask the running daemon\n"
	      "       meshctl status [-f FMT]; meshctl gen bird   a bird.conf for this node\n"
	      "       meshctl tune [--check|--apply|--restore]   kernel settings (tune -h)\n"
	      "  -k, --key-file FILE     the mesh's pre-shared key (exchange)\n"
	      "      --conf-dir DIR      wg-quick files (default /etc/wireguard)\n"
	      "      --pattern PAT       tunnel names (default wg%L.%R_v%F)\n"
	      "      --plan4, --plan6 T  site nets (10.201.%d.0/24, fdac:c9:%x::/64; none)\n"
	      "      --site N            this node's site (default: from the names)\n"
	      "  -i, --interval DUR      probe interval (1s); --fast-interval DUR (100ms)\n"
	      "      --timeout DUR       a probe is missed after max(RTO, DUR) (100ms)\n"
	      "      --stamp-port PORT   STAMP port of the reflectors (862)\n"
	      "      --dwell DUR         a better path waits this long (5s)\n"
	      "      --hold-down DUR     between two switches (20s)\n"
	      "      --threshold PCT, --abs-threshold DUR   better by (10, 2ms)\n"
	      "      --table N, --metric N   where routes go (main, 20); --no-routes\n"
	      "  -p, --port PORT         exchange UDP port (5120); --no-exchange\n"
	      "      --http ADDR[:PORT]  metrics and /v1 (127.0.0.1:5120; none)\n"
	      "      --ctl PATH          control socket (/run/meshperf/meshctl.sock)\n"
	      "      --bird SOCKET       BIRD's Babel routes; costs to --bird-include FILE\n"
	      "                          (" MC_BIRD_INCLUDE ")\n"
	      "  -t, --duration DUR      stop after DUR (run); --warmup DUR (3s)\n"
	      "  -f, --format FMT        text, csv, json, ndjson, prom (-j: json)\n"
	      "  -q, -v                  quiet (no event log), more; -h help; -V version\n", f);
}

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct mc_opts *o = ctx;
	char why[160];
	uint64_t u;
	double d;

	switch (c) {
	case 'k': o->key_file = arg; return 0;
	case OPT_CONF_DIR: o->conf_dir = arg; return 0;
	case OPT_UAPI_DIR: o->uapi_dir = arg; return 0;
	case OPT_PATTERN:
		if (mc_pattern_parse(arg, &o->pattern, why, sizeof(why)) < 0) {
			mp_warnx("%s", why);
			return -EINVAL;
		}
		return 0;
	case OPT_PLAN4:
	case OPT_PLAN6:
		if (!strcmp(arg, "none")) {
			*(c == OPT_PLAN4 ? &o->no_v4 : &o->no_v6) = true;
			return 0;
		}
		if (mc_plan_parse(arg, c == OPT_PLAN4 ? AF_INET : AF_INET6,
				  c == OPT_PLAN4 ? &o->plan4 : &o->plan6, why, sizeof(why)) < 0) {
			mp_warnx("%s", why);
			return -EINVAL;
		}
		return 0;
	case OPT_SITE:
		if (mp_parse_u64(arg, 0, MC_SITES - 1, &u) < 0)
			return mp_warn_invalid("site", arg, -ERANGE);
		o->site = (int)u;
		return 0;
	case OPT_NO_EXCHANGE: o->no_exchange = true; return 0;
	case 'i':
		return mp_opt_duration("interval", arg, 10 * MP_NSEC_PER_MSEC, 3600 * MP_NSEC_PER_SEC,
				 &o->probe.interval_ns);
	case OPT_FAST_INTERVAL:
		return mp_opt_duration("fast interval", arg, 10 * MP_NSEC_PER_MSEC, 60 * MP_NSEC_PER_SEC,
				 &o->probe.fast_interval_ns);
	case OPT_TIMEOUT:
		return mp_opt_duration("timeout", arg, MP_NSEC_PER_MSEC, 60 * MP_NSEC_PER_SEC,
				 &o->probe.min_timeout_ns);
	case OPT_STAMP_PORT:
		return mp_parse_port(arg, &o->probe.port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case OPT_DWELL:
		return mp_opt_duration("dwell time", arg, 0, 86400 * MP_NSEC_PER_SEC, &o->hyst.dwell_ns);
	case OPT_HOLD_DOWN:
		return mp_opt_duration("hold-down", arg, 0, 86400 * MP_NSEC_PER_SEC,
				 &o->hyst.holddown_ns);
	case OPT_THRESHOLD:
		if (mp_parse_double(arg, 0, 1000, &d) < 0)
			return mp_warn_invalid("threshold", arg, 0);
		o->hyst.rel = d / 100;
		return 0;
	case OPT_ABS_THRESHOLD:
		if (mp_opt_duration("absolute threshold", arg, 0, 60 * MP_NSEC_PER_SEC, &u) < 0)
			return -EINVAL;
		o->hyst.abs_us = u / 1000;
		return 0;
	case OPT_TABLE:
		if (mp_parse_u64(arg, 1, UINT32_MAX, &u) < 0 || u == 255)
			return mp_warn_invalid("table", arg, 0);
		o->route.table = (uint32_t)u;
		return 0;
	case OPT_METRIC:
		if (mp_parse_u64(arg, 0, UINT32_MAX, &u) < 0)
			return mp_warn_invalid("metric", arg, 0);
		o->route.metric = (uint32_t)u;
		return 0;
	case OPT_NO_ROUTES: o->no_routes = true; return 0;
	case 'p': return mp_parse_port(arg, &o->port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case OPT_HTTP: o->http = arg; return 0;
	case OPT_CTL: o->ctl_path = arg; return 0;
	case OPT_WARMUP:
		return mp_opt_duration("warm-up", arg, 0, 3600 * MP_NSEC_PER_SEC, &o->warmup_ns);
	case 't':
		return mp_opt_duration("duration", arg, 0, UINT64_MAX / 2, &o->duration_ns);
	case OPT_CLOCK_OFFSET:
		if (mp_opt_duration("clock offset", arg[0] == '-' ? arg + 1 : arg, 0, 86400 * MP_NSEC_PER_SEC,
				      &u) < 0)
			return -EINVAL;
		o->probe.clock_offset_ns = arg[0] == '-' ? -(int64_t)u : (int64_t)u;
		return 0;
	case OPT_BIRD: o->bird = arg; return 0;
	case OPT_BIRD_INCLUDE: o->bird_include = arg; return 0;
	case 'f': return mp_opt_format(arg, &o->format);
	case 'j': o->format = MP_FMT_JSON; return 0;
	case 'q': o->quiet = true; return 0;
	case 'v': o->verbose = true; return 0;
	case 'h': return MP_ARGS_HELP;
	case 'V':
		printf("meshctl meshperf %s\n", MP_VERSION);
		return MP_ARGS_HELP + 1;
	default: return -EINVAL;
	}
}

static void opts_init(struct mc_opts *o)
{
	static const struct mc_cost_weights w = MC_COST_WEIGHTS_INIT;
	static const struct mc_hyst_opts h = MC_HYST_OPTS_INIT;
	char why[8];

	memset(o, 0, sizeof(*o));
	mc_pattern_parse(MC_PATTERN_DEFAULT, &o->pattern, why, sizeof(why));
	mc_plan_parse(MC_PLAN4_DEFAULT, AF_INET, &o->plan4, why, sizeof(why));
	mc_plan_parse(MC_PLAN6_DEFAULT, AF_INET6, &o->plan6, why, sizeof(why));
	o->site = MC_NO_SITE;
	o->probe = (struct mc_probe_opts){
		.interval_ns = MP_NSEC_PER_SEC,
		.fast_interval_ns = 100 * MP_NSEC_PER_MSEC,
		.min_timeout_ns = 100 * MP_NSEC_PER_MSEC,
		.port = 862,
	};
	o->weights = w;
	o->hyst = h;
	o->route.table = 254;
	o->route.metric = 20;
	o->port = MC_PORT;
	o->http = "127.0.0.1:5120";
	o->ctl_path = MC_CTL_PATH;
	o->warmup_ns = 3 * MP_NSEC_PER_SEC;
	o->sync_ns = MP_NSEC_PER_SEC;
	o->format = MP_FMT_TEXT;
}

/* Options, then the operands left for the subcommand (argv[optind..]). */
static int parse(int argc, char **argv, struct mc_opts *o)
{
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	o->route.plan[0] = o->no_v4 ? NULL : &o->plan4;
	o->route.plan[1] = o->no_v6 ? NULL : &o->plan6;
	if (o->no_v4 && o->no_v6) {
		mp_warnx("--plan4 none and --plan6 none: no site nets to route");
		return -EINVAL;
	}
	if (o->bird)
		o->no_exchange = true;	/* Babel carries the tables */
	if (!o->key_file && !o->no_exchange) {
		mp_warnx("a key file is needed for the exchange (-k FILE), or --no-exchange");
		return -EINVAL;
	}
	if (o->probe.fast_interval_ns > o->probe.interval_ns) {
		mp_warnx("the fast interval must not be longer than the interval");
		return -EINVAL;
	}
	return 0;
}

/* Options of a subcommand, which takes no operand. Returns -1 to go on, or
 * the exit status (help, version, a usage error). */
static int parse_cmd(int argc, char **argv, struct mc_opts *o)
{
	int r = parse(argc, argv, o);

	if (r > 0) {
		if (r == MP_ARGS_HELP)
			usage(stdout);
		return MP_EXIT_OK;
	}
	if (r == 0 && optind != argc)
		mp_warnx("unexpected operand '%s'", argv[optind]);
	if (r < 0 || optind != argc) {
		mp_usage_try();
		return MP_EXIT_USAGE;
	}
	return -1;
}

static int cmd_run(int argc, char **argv, bool once)
{
	struct mp_auth_key key = { 0 };
	struct mc_opts o;
	int r;

	opts_init(&o);
	o.once = once;
	r = parse_cmd(argc, argv, &o);
	if (r >= 0)
		return r;
	if (o.key_file && mp_opt_key(o.key_file, &key) < 0)
		return MP_EXIT_USAGE;
	r = mc_daemon_run(&o, o.key_file ? &key : NULL);
	mp_auth_key_done(&key);
	if (r < 0)
		return r == -EIO ? MP_EXIT_FAIL : MP_EXIT_USAGE;
	return r > 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
}

/* Ask the daemon; copy its answer to stdout. */
static int ask(const char *path, const char *what, enum mp_format f)
{
	static const char *const names[] = { "text", "csv", "json", "ndjson", "prom" };
	char req[64], *buf = NULL;
	size_t len = 0;
	int r;

	snprintf(req, sizeof(req), "%s %s", what, names[f]);
	r = mp_ctl_ask(path, req, 0, &buf, &len);
	if (r == -EPROTO) {
		mp_warnx("daemon: %.*s", (int)strcspn(buf + 7, "\n"), buf + 7);
	} else if (r == -ENOENT || r == -ECONNREFUSED) {
		mp_warn(-r, "no meshctl daemon at %s (start `meshctl run`, or use "
			"`meshctl once`)", path);
	} else if (r < 0) {
		mp_warn(-r, "asking the daemon at %s", path);
	} else if (fwrite(buf, 1, len, stdout) != len) {
		r = -EIO;
	}
	free(buf);
	return r < 0 ? MP_EXIT_USAGE : MP_EXIT_OK;
}

static int cmd_query(int argc, char **argv, const char *what)
{
	struct mc_opts o;
	int r;

	opts_init(&o);
	o.no_exchange = true;
	r = parse_cmd(argc, argv, &o);
	return r >= 0 ? r : ask(o.ctl_path, what, o.format);
}

static int run_main(int argc, char **argv) { return cmd_run(argc, argv, false); }
static int once_main(int argc, char **argv) { return cmd_run(argc, argv, true); }
static int status_main(int argc, char **argv) { return cmd_query(argc, argv, "status"); }

static int show_main(int argc, char **argv)
{
	static const char *const what[] = { "links", "routes", "paths" };

	for (size_t i = 0; argc >= 2 && i < MP_ARRAY_SIZE(what); i++)
		if (!strcmp(argv[1], what[i]))
			return cmd_query(argc - 1, argv + 1, what[i]);
	mp_warnx(argc >= 2 ? "show what? 'links', 'routes' or 'paths', not '%s'" :
		 "show what? 'links', 'routes' or 'paths'%s", argc >= 2 ? argv[1] : "");
	return MP_EXIT_USAGE;
}

/* `meshctl gen bird`: the tunnels of this node, as bird.conf. */
static int gen_main(int argc, char **argv)
{
	struct mc_discover_opts d = { 0 };
	struct mc_state s = { 0 };
	struct mc_opts o;
	char why[256];
	int r;

	if (argc < 2 || strcmp(argv[1], "bird")) {
		mp_warnx(argc >= 2 ? "gen what? 'bird', not '%s'" : "gen what? 'bird'%s",
			 argc >= 2 ? argv[1] : "");
		return MP_EXIT_USAGE;
	}
	opts_init(&o);
	o.no_exchange = true;
	r = parse_cmd(argc - 1, argv + 1, &o);
	if (r >= 0)
		return r;
	d = (struct mc_discover_opts){ .conf_dir = o.conf_dir, .uapi_dir = o.uapi_dir,
				       .pattern = &o.pattern, .site = o.site };
	s.o = &o;
	r = mp_nl_new(&s.nl);
	if (r < 0) {
		mp_warn(r, "netlink");
		return MP_EXIT_FAIL;
	}
	r = mc_discover(&d, s.nl, &s.t, &s.nt, why, sizeof(why));
	mp_nl_free(s.nl);
	if (r < 0) {
		if (r == -EINVAL || r == -ENOENT)
			mp_warnx("%s", why);
		else
			mp_warn(r, "reading %s", why);
		return MP_EXIT_USAGE;
	}
	s.self = s.t[0].local_site;
	r = mc_bird_gen(stdout, &s, o.bird_include ? o.bird_include : MC_BIRD_INCLUDE);
	free(s.t);
	return r < 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *description;
} commands[] = {
	{ "run", run_main, "the daemon: probe, exchange, decide, route" },
	{ "once", once_main, "one round (warm-up, decide, routes), then print" },
	{ "show", show_main, "links, routes or paths of the running daemon" },
	{ "status", status_main, "the running daemon's summary" },
	{ "gen", gen_main, "configuration for others: `gen bird`" },
	{ "tune", mc_tune_main, "kernel settings of a mesh node: check, apply, restore" },
};

int main(int argc, char **argv)
{
	size_t i;

	atexit(mp_close_stdout);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "help"))) {
		usage(stdout);
		return MP_EXIT_OK;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("meshctl meshperf %s\n", MP_VERSION);
		return MP_EXIT_OK;
	}
	for (i = 0; argc >= 2 && i < MP_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (argc < 2)
		mp_warnx("a command is needed:");
	else
		mp_warnx("unknown command '%s':", argv[1]);
	for (i = 0; i < MP_ARRAY_SIZE(commands); i++)
		fprintf(stderr, "  %-8s %s\n", commands[i].name, commands[i].description);
	mp_usage_try();
	return MP_EXIT_USAGE;
}
