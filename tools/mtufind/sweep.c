/* SPDX-License-Identifier: MIT */
/*
 * mtufind sweep: throughput, loss and RTT through a WireGuard tunnel for a
 * range of local interface MTUs — nr-wg-mtu-finder's job without tearing
 * the interface down: each MTU is set over netlink (lib/nl), then
 *  - a burst of full-size DF ICMP echoes to the peer's inner address gives
 *    loss and RTT at that MTU (probe.c),
 *  - one iperf3 --bidir transfer of --bytes gives the throughput both ways
 *    (iperf3 is the measuring engine; an `iperf3 -s` must run on the peer),
 * --repeat times. The original MTU is written to a state file before the
 * first change and restored at the end, on SIGINT / SIGTERM, and by
 * `mtufind sweep --restore` after a kill -9. Every step is bounded: iperf3
 * is killed after --step-timeout, probes wait at most 100 ms each.
 *
 * The peer's MTU is not changed (that needs the responder's authenticated
 * control, not written yet): peer_mtu is reported as 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtufind.h"
#include "cli.h"
#include "clock.h"
#include "nl.h"
#include "plot.h"

extern char **environ;

enum {
	OPT_MIN = 256,
	OPT_MAX,
	OPT_STEP,
	OPT_BYTES,
	OPT_REPEAT,
	OPT_PEER,
	OPT_IPERF_PORT,
	OPT_PLOT,
	OPT_STATE,
	OPT_RESTORE,
	OPT_STEP_TIMEOUT,
	OPT_WG,
	SWEEP_POINTS_MAX = 1024,
	BURST_COUNT = 10,
	IPERF_ATTEMPTS = 3,		/* runs tried per repeat when iperf3 fails */
	OUT_MAX = 1 << 20,		/* iperf3 JSON read at most */
};

#define STATE_DIR "/run/meshperf"
#define STEP_TIMEOUT_NS (10 * MP_NSEC_PER_SEC)

struct sweep_opts {
	const char *ifname;		/* --wg */
	const char *peer;		/* --peer: inner address of the peer */
	unsigned min_mtu, max_mtu, step;	/* the local MTUs, bytes */
	uint64_t bytes;			/* iperf3 -n per repeat */
	unsigned repeat;		/* repeats per point */
	uint16_t iperf_port;		/* iperf3 server port */
	const char *plot;		/* --plot FILE.png */
	const char *state;		/* state file */
	bool restore;			/* --restore */
	uint64_t step_timeout_ns;	/* bound of one iperf3 run */
	enum mp_format format;
};

struct point {
	unsigned mtu;			/* local MTU, bytes */
	double up_rcv_bps, up_send_bps, down_rcv_bps, down_send_bps;	/* sums over repeats */
	unsigned sent, received;	/* full-size echo probes */
	uint64_t rtt_sum_ns;
	unsigned repeats;		/* iperf3 runs that gave a result */
	unsigned retransmits;		/* TCP retransmissions, both ways */
};

static const struct option options[] = {
	{ "wg", required_argument, NULL, OPT_WG },		/* the tunnel interface */
	{ "peer", required_argument, NULL, OPT_PEER },		/* peer's inner address */
	{ "min", required_argument, NULL, OPT_MIN },		/* first local MTU */
	{ "max", required_argument, NULL, OPT_MAX },		/* last local MTU */
	{ "step", required_argument, NULL, OPT_STEP },		/* MTU step */
	{ "bytes", required_argument, NULL, OPT_BYTES },	/* iperf3 -n per run */
	{ "repeat", required_argument, NULL, OPT_REPEAT },	/* runs per point */
	{ "iperf-port", required_argument, NULL, OPT_IPERF_PORT }, /* iperf3 -p */
	{ "step-timeout", required_argument, NULL, OPT_STEP_TIMEOUT }, /* iperf3 bound */
	{ "plot", required_argument, NULL, OPT_PLOT },		/* heatmap PNG */
	{ "state", required_argument, NULL, OPT_STATE },	/* state file */
	{ "restore", no_argument, NULL, OPT_RESTORE },		/* restore and exit */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: mtufind sweep --wg IFACE --peer ADDR [options]\n"
	      "       mtufind sweep --restore [--wg IFACE | --state FILE]\n"
	      "      --min BYTES, --max BYTES, --step BYTES  local MTUs (1280, 1440, 8)\n"
	      "      --bytes SIZE       iperf3 transfer per run (default 4M, both ways)\n"
	      "      --repeat N         runs per MTU (default 1)\n"
	      "      --iperf-port PORT  the peer's iperf3 -s port (default 5201)\n"
	      "      --step-timeout DUR  bound of one run (default 10s)\n"
	      "      --plot FILE.png    heatmap of throughput by MTU and direction\n"
	      "      --state FILE       state file (default /run/meshperf/mtufind-sweep-IFACE)\n"
	      "  -f, --format FMT       text, csv, json, ndjson (-j: json)\n", f);
}

static int parse_mtu(const char *arg, unsigned *ret)
{
	uint64_t u;

	if (mp_parse_u64(arg, MF_IPV4_MIN_MTU, 65535, &u) < 0)
		return mp_warn_invalid("MTU", arg, 0);
	*ret = (unsigned)u;
	return 0;
}

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct sweep_opts *o = ctx;
	uint64_t u;

	switch (c) {
	case OPT_WG: o->ifname = arg; return 0;
	case OPT_PEER: o->peer = arg; return 0;
	case OPT_MIN: return parse_mtu(arg, &o->min_mtu);
	case OPT_MAX: return parse_mtu(arg, &o->max_mtu);
	case OPT_STEP:
		if (mp_parse_u64(arg, 1, 65535, &u) < 0)
			return mp_warn_invalid("step", arg, 0);
		o->step = (unsigned)u;
		return 0;
	case OPT_BYTES:
		return mp_parse_size(arg, 1024, 1ULL << 34, &o->bytes) < 0 ? mp_warn_invalid("size", arg, 0) : 0;
	case OPT_REPEAT:
		if (mp_parse_u64(arg, 1, 100, &u) < 0)
			return mp_warn_invalid("repeat", arg, 0);
		o->repeat = (unsigned)u;
		return 0;
	case OPT_IPERF_PORT: return mp_parse_port(arg, &o->iperf_port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case OPT_STEP_TIMEOUT:
		return mp_parse_duration(arg, 100 * MP_NSEC_PER_MSEC, 3600 * MP_NSEC_PER_SEC,
					 &o->step_timeout_ns) < 0 ? mp_warn_invalid("timeout", arg, 0) : 0;
	case OPT_PLOT: o->plot = arg; return 0;
	case OPT_STATE: o->state = arg; return 0;
	case OPT_RESTORE: o->restore = true; return 0;
	case 'f': return mp_format_parse(arg, &o->format) < 0 ? mp_warn_invalid("format", arg, 0) : 0;
	case 'j': o->format = MP_FMT_JSON; return 0;
	case 'h': return MP_ARGS_HELP;
	default: return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct sweep_opts *o, char *state, size_t len)
{
	char err[128];
	int r;

	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (optind != argc) {
		mp_warnx("sweep takes no HOST ('%s')", argv[optind]);
		return -EINVAL;
	}
	if (!o->state && !o->ifname) {
		mp_warnx(o->restore ? "--restore needs --wg IFACE or --state FILE" :
			 "sweep needs --wg IFACE");
		return -EINVAL;
	}
	if (!o->restore && (!o->ifname || !o->peer)) {
		mp_warnx("sweep needs --wg IFACE and --peer ADDR");
		return -EINVAL;
	}
	if (o->min_mtu > o->max_mtu || (o->max_mtu - o->min_mtu) / o->step >= SWEEP_POINTS_MAX) {
		mp_warnx("--min %u is above --max %u, or too many points", o->min_mtu, o->max_mtu);
		return -EINVAL;
	}
	if (!o->state) {
		snprintf(state, len, "%s/mtufind-sweep-%s", STATE_DIR, o->ifname);
		o->state = state;
	}
	return 0;
}

/* ---------------------------------------------------------------- state */

/* The original MTU, on disk before the first change (rename: never half). */
static int state_write(const char *path, const char *ifname, unsigned mtu)
{
	char tmp[PATH_MAX];
	FILE *f;
	int r = 0;

	if (!strncmp(path, STATE_DIR "/", sizeof(STATE_DIR)))
		mkdir(STATE_DIR, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s %u\n", ifname, mtu);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int state_restore(const char *path, unsigned *ret_mtu, char *ifname, size_t len)
{
	struct mp_nl *nl = NULL;
	char name[IF_NAMESIZE + 1], line[64];
	unsigned mtu;
	FILE *f;
	int r;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	r = fgets(line, sizeof(line), f) && sscanf(line, "%16s %u", name, &mtu) == 2 &&
	    strlen(name) < IF_NAMESIZE && mtu >= MF_IPV4_MIN_MTU && mtu <= 65535 ? 0 : -EBADMSG;
	fclose(f);
	if (r < 0)
		return r;
	r = mp_nl_new(&nl);
	if (r == 0)
		r = mp_nl_link_set_mtu(nl, 0, name, mtu);
	mp_nl_free(nl);
	if (r == 0) {
		unlink(path);
		*ret_mtu = mtu;
		snprintf(ifname, len, "%s", name);
	}
	return r;
}

/* ---------------------------------------------------------------- iperf3 */

static double jnum(json_t *root, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(root, a), b);

	return json_is_number(v) ? json_number_value(v) : -1;
}

/* One iperf3 --bidir run; adds its figures to pt. Returns 0, or -errno
 * (-ETIMEDOUT when killed, -EIO when it failed or said nothing usable). */
static int iperf_run(const struct sweep_opts *o, struct point *pt)
{
	char bytes[32], port[8], peer[256], out[] = "/tmp/mtufind-iperf.XXXXXX";
	char *argv[] = { "iperf3", "-c", peer, "-p", port, "-n", bytes, "--bidir",
			 "-J", "--connect-timeout", "1000", NULL };
	posix_spawn_file_actions_t fa;
	uint64_t deadline = mp_clock_mono_ns() + o->step_timeout_ns;
	json_t *root = NULL, *end;
	int fd, r, status = 0;
	pid_t pid, w;
	double v[4];

	snprintf(peer, sizeof(peer), "%s", o->peer);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, o->bytes);
	snprintf(port, sizeof(port), "%u", o->iperf_port);
	fd = mkstemp(out);
	if (fd < 0)
		return -errno;
	unlink(out);
	r = posix_spawn_file_actions_init(&fa);
	if (r)
		goto out;
	r = posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	if (!r)
		r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawnp(&pid, "iperf3", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		r = -r;
		goto out;
	}
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		if (mp_clock_mono_ns() >= deadline || mf_stop) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			r = mf_stop ? -EINTR : -ETIMEDOUT;
			goto out;
		}
		mp_clock_sleep_until(mp_clock_mono_ns() + 5 * MP_NSEC_PER_MSEC);
	}
	if (w < 0) {
		r = -errno;
		goto out;
	}
	lseek(fd, 0, SEEK_SET);
	root = json_loadfd(fd, 0, NULL);
	end = json_object_get(root, "end");
	v[0] = jnum(end, "sum_received", "bits_per_second");
	v[1] = jnum(end, "sum_sent", "bits_per_second");
	v[2] = jnum(end, "sum_received_bidir_reverse", "bits_per_second");
	v[3] = jnum(end, "sum_sent_bidir_reverse", "bits_per_second");
	if (!WIFEXITED(status) || WEXITSTATUS(status) || v[0] < 0 || v[1] < 0 || v[2] < 0 ||
	    v[3] < 0) {
		r = -EIO;
		goto out;
	}
	pt->up_rcv_bps += v[0];
	pt->up_send_bps += v[1];
	pt->down_rcv_bps += v[2];
	pt->down_send_bps += v[3];
	v[0] = jnum(end, "sum_sent", "retransmits");
	v[1] = jnum(end, "sum_sent_bidir_reverse", "retransmits");
	pt->retransmits += (unsigned)(MP_MAX(v[0], 0.0) + MP_MAX(v[1], 0.0));
	pt->repeats++;
	r = 0;
out:
	json_decref(root);
	close(fd);
	return r;
}

/* ---------------------------------------------------------------- run */

static int measure(const struct sweep_opts *o, const struct mf_opts *mo,
		   const struct sockaddr_storage *peer, socklen_t peer_len, struct point *pt)
{
	struct mf_burst_result b;
	unsigned i, k;
	int r;

	for (i = 0; i < o->repeat && !mf_stop; i++) {
		r = mf_burst(mo, peer, peer_len, pt->mtu, BURST_COUNT, &b);
		if (r < 0)
			return r;
		pt->sent += b.sent;
		pt->received += b.received;
		pt->rtt_sum_ns += b.rtt_sum_ns;
		/* iperf3 -s serves one client at a time and may still be busy
		 * closing the last one ("server is busy"): try again shortly */
		for (k = 0, r = -EIO; k < IPERF_ATTEMPTS && r == -EIO && !mf_stop; k++) {
			if (k)
				mp_clock_sleep_until(mp_clock_mono_ns() + 50 * MP_NSEC_PER_MSEC);
			r = iperf_run(o, pt);
		}
		if (r < 0 && r != -EIO && r != -ETIMEDOUT && r != -EINTR)
			return r;
	}
	return 0;
}

static void put_point(struct mp_writer *w, const struct point *pt)
{
	double n = pt->repeats ? pt->repeats : 1;

	mp_record_begin(w, "point");
	mp_put_u64(w, "server_mtu", "%" PRIu64, pt->mtu);
	mp_put_u64(w, "peer_mtu", "%" PRIu64, 0);
	mp_put_f64(w, "upload_rcv_mbps", "%.1f", pt->up_rcv_bps / n / 1e6);
	mp_put_f64(w, "upload_send_mbps", "%.1f", pt->up_send_bps / n / 1e6);
	mp_put_f64(w, "download_rcv_mbps", "%.1f", pt->down_rcv_bps / n / 1e6);
	mp_put_f64(w, "download_send_mbps", "%.1f", pt->down_send_bps / n / 1e6);
	mp_put_f64(w, "loss_pct", "%.1f",
		   pt->sent ? 100.0 * (pt->sent - pt->received) / pt->sent : 100.0);
	mp_put_f64(w, "rtt_ms", "%.3f",
		   pt->received ? (double)pt->rtt_sum_ns / pt->received / 1e6 : 0.0);
	mp_put_u64(w, "repeats", "%" PRIu64, pt->repeats);
	mp_put_u64(w, "retransmits", "%" PRIu64, pt->retransmits);
	mp_record_end(w);
}

static int plot(const struct sweep_opts *o, const struct point *pts, size_t n)
{
	struct mp_plot_series s = { .x_col = 1, .y_col = 2, .z_col = 3 };
	struct mp_plot pl = {
		.png_path = o->plot, .title = "mtufind sweep: received throughput",
		.xlabel = "local MTU (bytes)", .ylabel = "0 = upload, 1 = download",
		.zlabel = "Mbit/s", .series = &s, .n_series = 1, .heatmap = true,
	};
	char path[] = "/tmp/mtufind-sweep.XXXXXX", err[160];
	FILE *f;
	size_t i;
	int fd, r;

	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -errno;
	fprintf(f, "mtu,direction,rcv_mbps\n");
	for (i = 0; i < n; i++) {
		double k = pts[i].repeats ? pts[i].repeats : 1;

		fprintf(f, "%u,0,%.1f\n%u,1,%.1f\n", pts[i].mtu, pts[i].up_rcv_bps / k / 1e6,
			pts[i].mtu, pts[i].down_rcv_bps / k / 1e6);
	}
	r = fclose(f) ? -errno : 0;
	pl.csv_path = path;
	if (r == 0)
		r = mp_plot_render(&pl, err, sizeof(err));
	if (r < 0)
		mp_warnx("plot %s: %s", o->plot, err);
	unlink(path);
	return r;
}

static int sweep(const struct sweep_opts *o, struct mp_writer *w)
{
	struct mf_opts mo = MF_OPTS_INIT;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct mp_nl *nl = NULL;
	struct mp_nl_link link = { 0 };
	struct point *pts;
	size_t n = 0;
	unsigned mtu;
	uint64_t t0 = mp_clock_mono_ns();
	int r, rr;

	pts = calloc((o->max_mtu - o->min_mtu) / o->step + 1, sizeof(*pts));
	if (!pts)
		return -ENOMEM;
	r = mp_parse_addr(o->peer, AF_UNSPEC, 0, &peer, &peer_len);
	if (r < 0) {
		mp_warn(-r, "peer '%s'", o->peer);
		goto out;
	}
	r = mp_nl_new(&nl);
	if (r == 0)
		r = mp_nl_link_get(nl, 0, o->ifname, &link);
	if (r < 0) {
		mp_warn(-r, "interface %s", o->ifname);
		goto out;
	}
	r = state_write(o->state, link.name, link.mtu_bytes);
	if (r < 0) {
		mp_warn(-r, "state file %s", o->state);
		goto out;
	}
	for (mtu = o->min_mtu; mtu <= o->max_mtu && !mf_stop; mtu += o->step) {
		struct point *pt = &pts[n];

		pt->mtu = mtu;
		r = mp_nl_link_set_mtu(nl, link.ifindex, NULL, mtu);
		if (r < 0) {
			mp_warn(-r, "setting MTU %u on %s", mtu, link.name);
			break;
		}
		r = measure(o, &mo, &peer, peer_len, pt);
		if (r < 0 && r != -EINTR) {
			mp_warn(-r, "measuring at MTU %u", mtu);
			break;
		}
		if (mf_stop)
			break;
		put_point(w, pt);
		n++;
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\rmtufind sweep: MTU %u done", mtu);
		r = 0;
	}
	if (n && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	/* always put the interface back as it was */
	rr = mp_nl_link_set_mtu(nl, link.ifindex, NULL, link.mtu_bytes);
	if (rr < 0)
		mp_warn(-rr, "restoring MTU %u on %s (state kept in %s)", link.mtu_bytes,
			link.name, o->state);
	else
		unlink(o->state);
	mp_doc_begin(w, "mtufind sweep");
	mp_put_str(w, "ifname", "interface %s", link.name);
	mp_put_u64(w, "points", "%" PRIu64 " points", n);
	mp_put_u64(w, "restored_mtu_bytes", "MTU restored to %" PRIu64 " bytes", link.mtu_bytes);
	mp_put_bool(w, "interrupted", "interrupted %s", mf_stop);
	mp_put_f64(w, "duration_ms", "took %.0f ms", (double)(mp_clock_mono_ns() - t0) / 1e6);
	mp_doc_end(w);
	if (r == 0 && rr < 0)
		r = rr;
	if (r == 0 && o->plot && n)
		r = plot(o, pts, n);
out:
	mp_nl_free(nl);
	free(pts);
	return r;
}

int mf_sweep_main(int argc, char **argv)
{
	struct sweep_opts o = {
		.min_mtu = 1280, .max_mtu = 1440, .step = 8, .bytes = 4 << 20, .repeat = 1,
		.iperf_port = 5201, .step_timeout_ns = STEP_TIMEOUT_NS, .format = MP_FMT_TEXT,
	};
	struct mp_writer *w = NULL;
	char state[PATH_MAX], name[IF_NAMESIZE] = "";
	unsigned mtu = 0;
	int r, ret;

	r = parse_args(argc, argv, &o, state, sizeof(state));
	if (r == MP_ARGS_HELP) {
		usage(stdout);
		return MP_EXIT_OK;
	}
	if (r < 0) {
		usage(stderr);
		return MP_EXIT_USAGE;
	}
	if (o.restore) {
		r = state_restore(o.state, &mtu, name, sizeof(name));
		if (r < 0) {
			mp_warn(-r, "restoring from %s", o.state);
			return MP_EXIT_USAGE;
		}
	}
	r = mp_writer_new(&w, o.format, stdout, "mtufind", "mtufind/1");
	if (r < 0) {
		mp_warn(-r, "output");
		return MP_EXIT_USAGE;
	}
	if (o.restore) {
		mp_doc_begin(w, "mtufind sweep --restore");
		mp_put_str(w, "ifname", "interface %s", name);
		mp_put_u64(w, "restored_mtu_bytes", "MTU restored to %" PRIu64 " bytes", mtu);
		r = mp_doc_end(w);
	} else {
		r = sweep(&o, w);
	}
	ret = r < 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
	if (mp_writer_close(w) < 0)
		ret = MP_EXIT_FAIL;
	return ret;
}
