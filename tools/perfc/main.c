/* SPDX-License-Identifier: MIT */
/*
 * perfc: route tables of this host and of every mesh node. Options and exit
 * codes; run.c runs the modes, route.c reads the kernel, print.c renders.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "out.h"
#include "perfc.h"

enum {
	OPT_TABLE = 256,
	OPT_PROTO,
	OPT_DEV,
	OPT_DIFF,
	OPT_NODES,
	OPT_NODE,
	OPT_SITE,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_CACERT,
	OPT_MAX_BYTES,
	OPT_MAX_TOTAL,
	OPT_TEXTFILE,
	OPT_JOB,
};

static const struct option options[] = {
	{ "ipv4", no_argument, NULL, '4' },			/* IPv4 routes only */
	{ "ipv6", no_argument, NULL, '6' },			/* IPv6 routes only */
	{ "table", required_argument, NULL, OPT_TABLE },	/* one table, name or id */
	{ "proto", required_argument, NULL, OPT_PROTO },	/* one protocol, name or id */
	{ "dev", required_argument, NULL, OPT_DEV },		/* routes with a nexthop on IF */
	{ "watch", no_argument, NULL, 'w' },			/* print changes as they happen */
	{ "duration", required_argument, NULL, 't' },		/* --watch run length; 0: ever */
	{ "diff", required_argument, NULL, OPT_DIFF },		/* compare with a snapshot */
	{ "nodes", no_argument, NULL, OPT_NODES },		/* operands are node documents */
	{ "node", required_argument, NULL, OPT_NODE },		/* this host's node name */
	{ "site", required_argument, NULL, OPT_SITE },		/* this host's site id */
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },	/* per URL fetch */
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT }, /* its connect */
	{ "cacert", required_argument, NULL, OPT_CACERT },	/* CAs for https:// */
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES }, /* cap per document */
	{ "max-total", required_argument, NULL, OPT_MAX_TOTAL }, /* cap on all --nodes documents */
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },	/* Prometheus textfile DIR */
	{ "job", required_argument, NULL, OPT_JOB },		/* its job label */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "quiet", no_argument, NULL, 'q' },			/* summary only */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: perfc [options] [PREFIX]        this host's routes (every table)\n"
	      "       perfc -w [options] [PREFIX]     route changes as they happen\n"
	      "       perfc --diff SNAPSHOT.json      changes since a `perfc -j` snapshot\n"
	      "       perfc --nodes FILE_OR_URL...    mesh paths from node route documents\n"
	      "  PREFIX                  routes inside it or covering it (10.201.0.0/16)\n"
	      "  -4, -6                  IPv4 / IPv6 routes only\n"
	      "      --table T           table name or id (main, local, 100)\n"
	      "      --proto P           protocol name or id (kernel, bird, meshctl, 201)\n"
	      "      --dev IF            routes with a nexthop on interface IF\n"
	      "  -w, --watch             netlink route events, one record per change\n"
	      "  -t, --duration DUR      stop watching after DUR (0: at SIGINT)\n"
	      "      --node NAME         this host's node name (default: host name)\n"
	      "      --site ID           this host's site id in the document\n"
	      "      --timeout DUR       per URL fetch, connect to last byte (default 5s)\n"
	      "      --connect-timeout DUR\n"
	      "                          its connect and TLS handshake (default: --timeout)\n"
	      "      --cacert FILE       trust the CAs of this PEM file for https://\n"
	      "      --max-bytes SIZE    largest document read (default 64M)\n"
	      "      --max-total SIZE    most bytes of all --nodes documents (default 256M)\n"
	      "  -f, --format FMT        text, csv, json, ndjson, prom (-j: json)\n"
	      "      --textfile DIR      also DIR/perfc-JOB.prom for node_exporter (--job JOB)\n"
	      "  -q, --quiet             summary only: no route or change records\n"
	      "  -h, --help              this help;  -V, --version  version\n", f);
}

/* Modes chosen, to refuse two at once after the loop (STYLE.md O3). */
static unsigned modes_seen;

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct pc_opts *o = ctx;

	if (c == 'w' || c == OPT_DIFF || c == OPT_NODES)
		modes_seen |= 1U << (c == 'w' ? 0 : c == OPT_DIFF ? 1 : 2);
	switch (c) {
	case '4': o->family = AF_INET; return 0;
	case '6': o->family = AF_INET6; return 0;
	case OPT_TABLE: o->table_arg = arg; return 0;
	case OPT_PROTO: o->proto_arg = arg; return 0;
	case OPT_DEV: return strlen(arg) >= PC_NAME_LEN ? mp_warn_invalid("device", arg, 0) : (o->dev = arg, 0);
	case 'w': o->mode = PC_WATCH; return 0;
	case 't':
		return mp_opt_duration("duration", arg, 0, UINT64_MAX / 2, &o->duration_ns);
	case OPT_DIFF: o->mode = PC_DIFF; o->diff_file = arg; return 0;
	case OPT_NODES: o->mode = PC_NODES; return 0;
	case OPT_NODE:
		return strlen(arg) >= PC_NODE_LEN ? mp_warn_invalid("node name", arg, 0) : (o->node_name = arg, 0);
	case OPT_SITE:
		return strlen(arg) >= PC_NODE_LEN ? mp_warn_invalid("site", arg, 0) : (o->site = arg, 0);
	case OPT_TIMEOUT:
		return mp_opt_duration("timeout", arg, MP_NSEC_PER_MSEC, 3600 * MP_NSEC_PER_SEC,
					 &o->timeout_ns);
	case OPT_CONNECT_TIMEOUT:
		return mp_opt_duration("connect timeout", arg, MP_NSEC_PER_MSEC,
					 3600 * MP_NSEC_PER_SEC, &o->connect_timeout_ns);
	case OPT_CACERT:
		if (access(arg, R_OK) < 0) {
			mp_warn(errno, "--cacert '%s'", arg);
			return -EINVAL;
		}
		o->cacert = arg;
		return 0;
	case OPT_MAX_BYTES:
		return mp_opt_size("size", arg, 1024, 1ULL << 34, &o->max_bytes);
	case OPT_MAX_TOTAL:
		return mp_opt_size("total size", arg, 1024, 1ULL << 40, &o->max_total);
	case OPT_TEXTFILE:
		o->textfile = arg;
		return 0;
	case OPT_JOB:
		o->job = arg;
		return mp_textfile_job_valid(arg) ? 0 : mp_warn_invalid("job", arg, 0);
	case 'f':
		return mp_opt_format(arg, &o->format) < 0 ? -EINVAL : 0;
	case 'j': o->format = MP_FMT_JSON; return 0;
	case 'q': o->quiet = true; return 0;
	case 'h': return MP_ARGS_HELP;
	case 'V':
		printf("perfc meshperf %s\n", MP_VERSION);
		return MP_ARGS_HELP + 1;
	default: return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct pc_opts *o)
{
	char canon[PC_PREFIX_LEN];
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (modes_seen & (modes_seen - 1)) {
		mp_warnx("--watch, --diff and --nodes are incompatible");
		return -EINVAL;
	}
	if (o->mode == PC_NODES) {
		if (optind == argc) {
			mp_warnx("--nodes needs at least one FILE_OR_URL");
			return -EINVAL;
		}
		o->nodes = argv + optind;
		o->n_nodes = argc - optind;
		return 0;
	}
	if (argc - optind > 1) {
		mp_warnx("one PREFIX at most ('%s')", argv[optind + 1]);
		return -EINVAL;
	}
	if (optind < argc) {
		o->prefix = argv[optind];
		if (pc_prefix_canon(o->prefix, canon, sizeof(canon), &o->prefix_addr,
				    &o->prefix_len) < 0)
			return mp_warn_invalid("prefix", o->prefix, 0);
		if (o->family && o->family != o->prefix_addr.family) {
			mp_warnx("prefix '%s' is not of the -4/-6 family", o->prefix);
			return -EINVAL;
		}
	}
	if (o->duration_ns && o->mode != PC_WATCH) {
		mp_warnx("-t only applies to --watch");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pc_opts opts = PC_OPTS_INIT;
	struct pc_result res = { 0 };
	struct mp_writer *w = NULL;
	int r, ret = MP_EXIT_USAGE;

	atexit(mp_close_stdout);
	r = parse_args(argc, argv, &opts);
	if (r == MP_ARGS_HELP) {
		usage(stdout);
		return MP_EXIT_OK;
	}
	if (r > MP_ARGS_HELP)
		return MP_EXIT_OK;	/* --version */
	if (r < 0) {
		mp_usage_try();
		return MP_EXIT_USAGE;
	}
	r = mp_writer_new(&w, opts.format, stdout, "perfc", PC_SCHEMA);
	if (r < 0) {
		mp_warn(r, "output");
		goto out;
	}
	mp_writer_prom_help(w, pc_prom_help);
	/* --watch shows each change at once; the other modes write in bulk */
	mp_writer_set_live(w, opts.mode == PC_WATCH);
	if (opts.textfile)
		mp_writer_keep_prom(w);
	r = pc_run(&opts, w, &res);	/* streams records through w */
	if (r < 0)
		goto out;
	ret = mp_textfile_finish(w, opts.textfile, opts.job,
				 res.failed ? MP_EXIT_FAIL : MP_EXIT_OK);
out:
	r = mp_writer_close(w);
	if (r < 0 && ret != MP_EXIT_USAGE) {
		mp_warn(r, "writing the output");
		ret = MP_EXIT_USAGE;
	}
	return ret;
}
