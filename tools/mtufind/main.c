/* SPDX-License-Identifier: MIT */
/*
 * mtufind: exact path MTU, also through ICMP black holes, and WireGuard MTU
 * tuning. Options and exit codes; probe.c measures, wgmode.c handles --wg,
 * server.c -s, sweep.c the sweep subcommand, print.c renders.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mtufind.h"
#include "auth.h"
#include "cli.h"
#include "run.h"

enum {
	OPT_TIMEOUT = 256,
	OPT_MAX_HOPS,
	OPT_NO_HOPS,
	OPT_MAX_SIZE,
	OPT_WG,
	OPT_APPLY,
	OPT_UAPI_DIR,
	OPT_IDLE_TIMEOUT,
	OPT_STATE,
	OPT_RESTORE,
};

volatile sig_atomic_t mf_stop;

static const struct option options[] = {
	{ "ipv4", no_argument, NULL, '4' },			/* IPv4 only */
	{ "ipv6", no_argument, NULL, '6' },			/* IPv6 only */
	{ "port", required_argument, NULL, 'p' },		/* STAMP reflector port */
	{ "method", required_argument, NULL, 'm' },		/* auto, stamp, icmp */
	{ "count", required_argument, NULL, 'c' },		/* tries per size */
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },	/* per try */
	{ "max-hops", required_argument, NULL, OPT_MAX_HOPS },	/* hop walk TTL limit */
	{ "no-hops", no_argument, NULL, OPT_NO_HOPS },		/* skip the hop walk */
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },	/* largest size tried */
	{ "interface", required_argument, NULL, 'I' },		/* SO_BINDTODEVICE */
	MP_RUN_OPTIONS,						/* HOST..., --textfile */
	MP_RUN_OPTION_PARALLEL,
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "wg", required_argument, NULL, OPT_WG },		/* WireGuard interface mode */
	{ "apply", no_argument, NULL, OPT_APPLY },		/* --wg: set the MTU */
	{ "uapi-dir", required_argument, NULL, OPT_UAPI_DIR },	/* --wg: UAPI socket folder */
	{ "server", no_argument, NULL, 's' },			/* peer side of a 2-D sweep */
	{ "key-file", required_argument, NULL, 'k' },		/* -s: pre-shared key */
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT }, /* -s: controller lost */
	{ "state", required_argument, NULL, OPT_STATE },	/* -s: state file */
	{ "restore", no_argument, NULL, OPT_RESTORE },		/* -s: restore and exit */
	{ "quiet", no_argument, NULL, 'q' },			/* summary only */
	{ "verbose", no_argument, NULL, 'v' },			/* (reserved) */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: mtufind [options] HOST...      path MTU to HOST (DF probes)\n"
	      "       mtufind [options] --wg IFACE [--apply]  MTU for a WireGuard interface\n"
	      "       mtufind sweep --wg IFACE --peer ADDR [...]  throughput by MTU (-h)\n"
	      "       mtufind -s -k KEYFILE --wg IFACE [--restore]  peer side of sweep --peer-key\n"
	      "  -, --targets FILE    hosts from stdin or FILE: a list, csv or ndjson\n"
	      "      --target-key KEY the hosts' key (default dst, addr, peer)\n"
	      "      --parallel N     measure up to N targets at once\n"
	      "  -4, -6                IPv4 / IPv6 only\n"
	      "  -m, --method M        auto (default), stamp (reflector), icmp (echo)\n"
	      "  -p, --port PORT       STAMP reflector UDP port (default 862)\n"
	      "  -c, --count N         tries per size before it counts as lost (default 3)\n"
	      "      --timeout DUR     wait per try (default 4 RTT, 50ms..1s)\n"
	      "      --max-size BYTES  largest size tried (default: the link MTU)\n"
	      "      --max-hops N      TTL limit of the hop walk (default 30)\n"
	      "      --no-hops         do not walk the hops to name the bottleneck\n"
	      "  -I, --interface IF    send through interface IF\n"
	      "      --wg IFACE        probe every peer endpoint of IFACE (UAPI socket)\n"
	      "      --apply           --wg: set the recommended MTU (netlink)\n"
	      "      --uapi-dir DIR    --wg: UAPI sockets in DIR (default /run/wireguard)\n"
	      "  -s, --server          set IFACE's MTU for a signed sweep (UDP 5122, -p)\n"
	      "  -k, --key-file FILE   -s: pre-shared key (as bwtest -k)\n"
	      "      --idle-timeout DUR  -s: restore after DUR of silence (default 10s)\n"
	      "      --state FILE      -s: state file (/run/meshperf/mtufind-peer-IFACE)\n"
	      "      --restore         -s: put the saved MTU back and exit\n"
	      "  -f, --format FMT      text, csv, json, ndjson, prom (-j: json)\n"
	      "      --color[=WHEN]    auto (a terminal, no NO_COLOR), always, never\n"
	      "      --textfile DIR    also DIR/mtufind-JOB.prom for node_exporter (--job JOB)\n"
	      "  -q, -v                quiet (summary only: no events, no progress), verbose\n"
	      "  -h, --help            this help;  -V, --version  version\n", f);
}

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct mf_opts *o = ctx;
	uint64_t u;

	switch (c) {
	case '4': o->family = AF_INET; return 0;
	case '6': o->family = AF_INET6; return 0;
	case 'p':
		o->port_set = true;
		return mp_parse_port(arg, &o->port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case 'm':
		if (!strcmp(arg, "auto"))
			o->method = MF_METHOD_AUTO;
		else if (!strcmp(arg, "stamp"))
			o->method = MF_METHOD_STAMP;
		else if (!strcmp(arg, "icmp"))
			o->method = MF_METHOD_ICMP;
		else
			return mp_warn_invalid("method", arg, 0);
		return 0;
	case 'c':
		if (mp_parse_u64(arg, 1, 16, &u) < 0)
			return mp_warn_invalid("count", arg, 0);
		o->retries = (unsigned)u;
		return 0;
	case OPT_TIMEOUT:
		return mp_opt_duration("timeout", arg, MP_NSEC_PER_MSEC, 60 * MP_NSEC_PER_SEC,
					 &o->timeout_ns);
	case OPT_MAX_HOPS:
		if (mp_parse_u64(arg, 1, MF_HOPS_MAX, &u) < 0)
			return mp_warn_invalid("max-hops", arg, 0);
		o->max_hops = (unsigned)u;
		return 0;
	case OPT_NO_HOPS: o->no_hops = true; return 0;
	case OPT_MAX_SIZE:
		if (mp_opt_size("size", arg, MF_IPV4_MIN_MTU, 65535, &u) < 0)
			return -EINVAL;
		o->max_bytes = (unsigned)u;
		return 0;
	case 'I': o->ifname = arg; return 0;
	case 'f': return mp_opt_format(arg, &o->format);
	case 'j': o->format = MP_FMT_JSON; return 0;
	case OPT_WG: o->wg_ifname = arg; return 0;
	case OPT_APPLY: o->apply = true; return 0;
	case OPT_UAPI_DIR: o->uapi_dir = arg; return 0;
	case 's': o->server = true; return 0;
	case 'k': o->key_file = arg; return 0;
	case OPT_IDLE_TIMEOUT:
		return mp_opt_duration("idle timeout", arg, MP_NSEC_PER_SEC, 3600 * MP_NSEC_PER_SEC,
					 &o->idle_ns);
	case OPT_STATE: o->state = arg; return 0;
	case MP_OPT_TARGETS:
	case MP_OPT_TARGET_KEY:
	case MP_OPT_TEXTFILE:
	case MP_OPT_JOB:
	case MP_OPT_PARALLEL:
	case MP_OPT_COLOR:
		return mp_run_opt(&o->run, c, arg);
	case OPT_RESTORE: o->restore = true; return 0;
	case 'q': o->quiet = true; return 0;
	case 'v': o->verbose = true; return 0;
	case 'h': return MP_ARGS_HELP;
	case 'V':
		printf("mtufind meshperf %s\n", MP_VERSION);
		return MP_ARGS_HELP + 1;
	default: return -EINVAL;
	}
}

/* -s: --wg names the one interface it may change; a key is a must. */
static int check_server(int argc, const struct mf_opts *o)
{
	if (optind != argc || o->run.targets_file) {
		mp_warnx("-s takes no HOST");
		return -EINVAL;
	}
	if (!o->wg_ifname || (!o->key_file && !o->restore)) {
		mp_warnx("-s needs --wg IFACE and -k KEYFILE");
		return -EINVAL;
	}
	if (o->apply || o->uapi_dir || o->ifname || o->method != MF_METHOD_AUTO) {
		mp_warnx("-s is incompatible with --apply, --uapi-dir, -I and -m");
		return -EINVAL;
	}
	return 0;
}

static int mf_parse_args(int argc, char **argv, struct mf_opts *o)
{
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (o->server)
		return check_server(argc, o);
	if (o->key_file || o->restore || o->state || o->idle_ns != MF_IDLE_DEFAULT_NS) {
		mp_warnx("-k, --idle-timeout, --state and --restore need -s");
		return -EINVAL;
	}
	if (o->wg_ifname && (optind != argc || o->run.targets_file)) {
		mp_warnx("--wg takes no HOST");
		return -EINVAL;
	}
	if (!o->wg_ifname && optind == argc && !o->run.targets_file) {
		mp_warnx("a HOST is needed (or --wg IFACE)");
		return -EINVAL;
	}
	if (!o->wg_ifname && (o->apply || o->uapi_dir)) {
		mp_warnx("--apply and --uapi-dir need --wg");
		return -EINVAL;
	}
	if (o->wg_ifname && (o->family != AF_UNSPEC || o->ifname)) {
		mp_warnx("--wg is incompatible with -4, -6 and -I (endpoints decide)");
		return -EINVAL;
	}
	o->run.ops = argv + optind;
	o->run.nops = argc - optind;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	mf_stop = 1;
}

struct host_ctx {
	struct mf_opts *o;
	struct mp_writer *w;
};

/* HOST mode: measure, render, exit status. */
static int host(const struct mp_run_target *t, void *ctx)
{
	const char *target = t->host;
	struct host_ctx *c = ctx;
	const struct mf_opts *o = c->o;
	struct mp_writer *w = c->w;
	struct mf_path p = { 0 };
	int r;

	c->o->target = target;
	snprintf(p.target, sizeof(p.target), "%s", o->target);
	r = mf_path_run(o, &p);
	if (r < 0 && r != -EINTR) {
		mp_warn_target(o->target, r);
		return MP_EXIT_USAGE;
	}
	if (mf_print_path(w, &p) < 0)
		return MP_EXIT_FAIL;
	return p.error || !p.reachable || r < 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
}

static void srv_event(const struct mf_srv_event *ev, void *arg)
{
	mf_print_srv_event(arg, ev);
}

/* -s: key file errors as owd and bwtest say them; setup errors exit 2. */
static int server(const struct mf_opts *o, struct mp_writer *w)
{
	struct mf_srv_result res = { 0 };
	struct stat st;
	int r, ret;

	r = mf_server_run(o, o->quiet ? NULL : srv_event, w, &res);
	if (r == -EPERM && o->key_file && stat(o->key_file, &st) == 0 && (st.st_mode & 077))
		mp_warnx("key file %s must not be readable by group or others (mode %04o); "
			 "chmod 600 %s", o->key_file, (unsigned)(st.st_mode & 07777), o->key_file);
	else if (r == -ENOENT && o->restore)
		mp_warnx("--restore: no state file for %s (nothing to restore)", o->wg_ifname);
	else if (r == -EEXIST || r == -EBADMSG || r == -EBUSY)
		mp_warnx("-s --wg %s: its state file %s", o->wg_ifname, mf_state_strerror(r));
	else if (r < 0)
		mp_warn(-r, "-s --wg %s", o->wg_ifname);
	ret = r < 0 ? MP_EXIT_USAGE : res.restored ? MP_EXIT_OK : MP_EXIT_FAIL;
	if ((r == 0 || res.recovered_mtu_bytes) && mf_print_srv(w, &res) < 0)
		ret = MP_EXIT_FAIL;
	return ret;
}

static int wg(const struct mf_opts *o, struct mp_writer *w)
{
	struct mf_wg_result res = { 0 };
	int r, ret;

	r = mf_wg_run(o, &res);
	if (r == -ENOENT)
		mp_warnx("--wg %s: no UAPI socket %s/%s.sock: not a wireguard-go interface "
			 "(kernel WireGuard over netlink is not supported yet)", o->wg_ifname,
			 o->uapi_dir ? o->uapi_dir : "/run/wireguard", o->wg_ifname);
	else if (r < 0 && r != -EINTR)
		mp_warn(-r, "--wg %s", o->wg_ifname);
	/* mtufind.1: 1 only when no peer endpoint answered; what kept it
	 * from reading, probing or setting (a dead wireguard-go's socket,
	 * EACCES, a malformed UAPI answer, netlink) is a setup error */
	if (r < 0 && r != -EINTR) {
		ret = MP_EXIT_USAGE;
		goto out;
	}
	ret = res.wg_mtu_bytes && r == 0 ? MP_EXIT_OK : MP_EXIT_FAIL;
	if (mf_print_wg(w, &res) < 0)
		ret = MP_EXIT_FAIL;
out:
	mf_wg_result_done(&res);
	return ret;
}

int main(int argc, char **argv)
{
	struct mf_opts opts = MF_OPTS_INIT;
	struct sigaction sa = { .sa_handler = on_signal };
	struct mp_writer *w = NULL;
	int r, ret;

	atexit(mp_close_stdout);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc > 1 && !strcmp(argv[1], "sweep"))	/* the one subcommand */
		return mf_sweep_main(argc - 1, argv + 1);
	r = mf_parse_args(argc, argv, &opts);
	if (r == MP_ARGS_HELP)
		usage(stdout);
	if (r > 0)
		return MP_EXIT_OK;
	if (r < 0) {
		mp_usage_try();
		return MP_EXIT_USAGE;
	}
	if (opts.server && !opts.restore && opts.key_file && mp_opt_key_check(opts.key_file) < 0)
		return MP_EXIT_USAGE;
	r = mp_writer_new(&w, opts.format, stdout, "mtufind", "mtufind/2");
	if (r < 0) {
		mp_warn(-r, "output");
		return MP_EXIT_USAGE;
	}
	mp_writer_prom_help(w, mf_prom_help);
	if (opts.run.textfile && (opts.server || opts.wg_ifname))
		mp_writer_keep_prom(w);
	if (opts.server) {
		ret = server(&opts, w);
	} else if (opts.wg_ifname) {
		ret = wg(&opts, w);
	} else {
		struct host_ctx c = { &opts, w };

		ret = mp_targets_run(&opts.run, w, &(struct mp_run_fns){
			.one = host, .ctx = &c, .stop = &mf_stop });
	}
	if (opts.server || opts.wg_ifname)
		ret = mp_textfile_finish(w, opts.run.textfile, opts.run.job, ret);
	if (mp_writer_close(w) < 0 && ret == MP_EXIT_OK)
		ret = MP_EXIT_FAIL;
	return ret;
}
