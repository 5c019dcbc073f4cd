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
 * `mtufind sweep --restore` after a kill -9; a sweep that finds a state
 * file for its interface puts that MTU back first (it is the original).
 * A running sweep holds the file's lock (state.c), so neither a second
 * sweep nor --restore takes a live sweep's file for a dead one's; a
 * corrupt file stops everything before any change. Every step is bounded:
 * iperf3 is killed after --step-timeout, probes wait at most 100 ms each.
 *
 * With --peer-key the peer's MTU is swept too (nr-wg-mtu-finder's grid):
 * `mtufind -s` on the peer sets it on signed requests (remote.c), and
 * every local MTU is measured at every peer MTU. Both MTUs are reported as
 * the kernels read them back. Without it peer_mtu is 0. The peer's
 * session is taken before anything changes; one a killed sweep still
 * holds is waited out (the peer restores its original when it ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtufind.h"
#include "cli.h"
#include "ctl.h"
#include "clock.h"
#include "nl.h"
#include "plot.h"


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
	OPT_PEER_KEY,
	OPT_PEER_PORT,
	SWEEP_POINTS_MAX = 1024,	/* per axis; the grid holds at most 4096 */
	GRID_POINTS_MAX = 4096,
	BURST_COUNT = 10,
	IPERF_ATTEMPTS = 3,		/* runs tried per repeat when iperf3 fails */
	OUT_MAX = 16 << 20,		/* iperf3 JSON read at most (1 s intervals
					 * of a run up to --step-timeout 1 h) */
};

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
	const char *peer_key;		/* --peer-key: sweep the peer's MTU too */
	uint16_t peer_port;		/* --peer-port: its mtufind -s */
	bool quiet;			/* -q */
	enum mp_format format;
};

struct point {
	unsigned mtu;			/* local MTU, bytes, as read back */
	unsigned peer_mtu;		/* the peer's, as its kernel read it back; 0: not set */
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
	{ "peer-key", required_argument, NULL, OPT_PEER_KEY },	/* 2-D: peer's mtufind -s */
	{ "peer-port", required_argument, NULL, OPT_PEER_PORT }, /* its port */
	{ "quiet", no_argument, NULL, 'q' },			/* summary only */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ "version", no_argument, NULL, 'V' },			/* version */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: mtufind sweep --wg IFACE --peer ADDR [options]\n"
	      "       mtufind sweep --restore [--wg IFACE | --state FILE]\n"
	      "      --min BYTES, --max BYTES, --step BYTES  MTUs (1280, 1440, 8)\n"
	      "      --peer-key FILE    sweep the peer's MTU too (its mtufind -s -k FILE)\n"
	      "      --peer-port PORT   the peer's mtufind -s port (default 5122)\n"
	      "      --bytes SIZE       iperf3 transfer per run (default 4M, both ways)\n"
	      "      --repeat N         runs per MTU (default 1)\n"
	      "      --iperf-port PORT  the peer's iperf3 -s port (default 5201)\n"
	      "      --step-timeout DUR  bound of one run (default 10s)\n"
	      "      --plot FILE.png    heatmap of throughput by MTU and direction\n"
	      "                         (--peer-key: FILE-upload.png, FILE-download.png)\n"
	      "      --state FILE       state file (default /run/meshperf/mtufind-sweep-IFACE)\n"
	      "  -f, --format FMT       text, csv, json, ndjson, prom (-j: json)\n"
	      "  -q, --quiet            summary only (no points, no progress line)\n"
	      "  -h, --help             this text;  -V, --version  version\n", f);
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
		return mp_opt_size("size", arg, 1024, 1ULL << 34, &o->bytes);
	case OPT_REPEAT:
		if (mp_parse_u64(arg, 1, 100, &u) < 0)
			return mp_warn_invalid("repeat", arg, 0);
		o->repeat = (unsigned)u;
		return 0;
	case OPT_IPERF_PORT:
		return mp_parse_port(arg, &o->iperf_port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case OPT_STEP_TIMEOUT:
		return mp_opt_duration("timeout", arg, 100 * MP_NSEC_PER_MSEC,
				       3600 * MP_NSEC_PER_SEC,
					 &o->step_timeout_ns);
	case OPT_PLOT: o->plot = arg; return 0;
	case OPT_STATE: o->state = arg; return 0;
	case OPT_RESTORE: o->restore = true; return 0;
	case OPT_PEER_KEY: o->peer_key = arg; return 0;
	case OPT_PEER_PORT:
		return mp_parse_port(arg, &o->peer_port) < 0 ? mp_warn_invalid("port", arg, 0) : 0;
	case 'q': o->quiet = true; return 0;
	case 'f': return mp_opt_format(arg, &o->format);
	case 'j': o->format = MP_FMT_JSON; return 0;
	case 'h': return MP_ARGS_HELP;
	case 'V':
		printf("mtufind meshperf %s\n", MP_VERSION);
		return MP_ARGS_HELP + 1;
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
	if (o->min_mtu > o->max_mtu || (o->max_mtu - o->min_mtu) / o->step >= SWEEP_POINTS_MAX ||
	    (o->peer_key && ((o->max_mtu - o->min_mtu) / o->step + 1) *
			    ((o->max_mtu - o->min_mtu) / o->step + 1) > GRID_POINTS_MAX)) {
		mp_warnx("--min %u is above --max %u, or too many points", o->min_mtu, o->max_mtu);
		return -EINVAL;
	}
	if (o->restore && o->peer_key) {
		mp_warnx("--restore and --peer-key are incompatible (the peer restores itself)");
		return -EINVAL;
	}
	if (!o->state) {
		snprintf(state, len, "%s/mtufind-sweep-%s", MF_STATE_DIR, o->ifname);
		o->state = state;
	}
	return 0;
}

/* ---------------------------------------------------------------- iperf3 */

/* iperf3 (argv) with stdout on fd and stdin /dev/null, killed by the
 * kernel when this process dies (PR_SET_PDEATHSIG): a SIGKILLed sweep
 * leaves no client behind to hold the peer's one-client server. 127: it
 * could not be run. Returns 0 (*ret: its pid), or -errno. */
static int iperf_spawn(char *const argv[], int fd, pid_t *ret)
{
	pid_t parent = getpid(), pid = fork();
	int nul;

	if (pid < 0)
		return -errno;
	if (pid > 0) {
		*ret = pid;
		return 0;
	}
	/* the child: async-signal-safe calls only */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

/* iperf3's JSON from the file at fd, at most OUT_MAX octets. Returns 0, or
 * -EIO (unreadable, too long, or not the figures of a run). */
static int iperf_read(int fd, struct mf_iperf *ret)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int r;

	if (fstat(fd, &st) < 0 || st.st_size > OUT_MAX)
		return -EIO;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	n = pread(fd, buf, (size_t)st.st_size, 0);
	r = n == st.st_size ? mf_iperf_parse(buf, (size_t)n, ret) : -EIO;
	free(buf);
	return r < 0 ? -EIO : 0;
}

/* One iperf3 --bidir run; adds its figures to pt; keeps the peer's
 * session alive meanwhile (rc, may be NULL). Returns 0, or -errno
 * (-ETIMEDOUT when killed, -EIO when it failed or said nothing usable, the
 * peer's error when its session was lost). */
static int iperf_run(const struct sweep_opts *o, struct mf_remote *rc, struct point *pt)
{
	char bytes[32], port[8], peer[256], out[] = "/tmp/mtufind-iperf.XXXXXX";
	char *argv[] = { "iperf3", "-c", peer, "-p", port, "-n", bytes, "--bidir",
			 "-J", "--connect-timeout", "1000", NULL };
	uint64_t deadline = mp_clock_mono_ns() + o->step_timeout_ns;
	struct mf_iperf res;
	int fd, r, status = 0;
	pid_t pid = 0, w;

	snprintf(peer, sizeof(peer), "%s", o->peer);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, o->bytes);
	snprintf(port, sizeof(port), "%u", o->iperf_port);
	fd = mkstemp(out);
	if (fd < 0)
		return -errno;
	unlink(out);
	r = iperf_spawn(argv, fd, &pid);
	if (r < 0)
		goto out;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		int t = mf_remote_tick(rc);

		if (mp_clock_mono_ns() >= deadline || mf_stop || t < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			r = t < 0 ? t : mf_stop ? -EINTR : -ETIMEDOUT;
			goto out;
		}
		mp_clock_sleep_until(mp_clock_mono_ns() + 5 * MP_NSEC_PER_MSEC);
	}
	if (w < 0) {
		r = -errno;
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		r = -EIO;
		goto out;
	}
	r = iperf_read(fd, &res);
	if (r < 0)
		goto out;
	pt->up_rcv_bps += res.up_rcv_bps;
	pt->up_send_bps += res.up_send_bps;
	pt->down_rcv_bps += res.down_rcv_bps;
	pt->down_send_bps += res.down_send_bps;
	pt->retransmits += res.retransmits;
	pt->repeats++;
	r = 0;
out:
	close(fd);
	return r;
}


/* ---------------------------------------------------------------- run */

struct run {
	const struct sweep_opts *o;
	struct mf_opts mo;			/* for the echo bursts */
	struct sockaddr_storage peer;		/* the peer's inner address */
	socklen_t peer_len;
	struct mp_nl *nl;
	struct mp_nl_link link;			/* the local interface, as it was */
	int lock_fd;				/* the state file's lock, held; -1 */
	unsigned recovered_mtu;			/* put back from a state file, 0 */
	struct mf_remote *rc;			/* the peer's mtufind -s; NULL: 1-D */
	unsigned peer_orig_mtu;			/* the peer's MTU before the sweep */
	unsigned peer_end_mtu;			/* and after it (its END reply) */
	unsigned n_axis;			/* MTUs per axis */
	unsigned n_peer;			/* peer MTUs: n_axis, or 1 without a peer */
	struct point *pts;			/* n_peer rows of n_axis, by peer MTU */
	size_t n;				/* points measured, in that order */
};

static int measure(const struct run *u, struct point *pt)
{
	const struct sweep_opts *o = u->o;
	struct mf_burst_result b;
	unsigned i, k;
	int r;

	for (i = 0; i < o->repeat && !mf_stop; i++) {
		r = mf_burst(&u->mo, &u->peer, u->peer_len, pt->mtu, BURST_COUNT, &b);
		if (r == 0)
			r = mf_remote_tick(u->rc);
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
			r = iperf_run(o, u->rc, pt);
		}
		if (r < 0 && r != -EIO && r != -ETIMEDOUT && r != -EINTR)
			return r;
	}
	return 0;
}

static double mean_mbps(double sum_bps, unsigned repeats)
{
	return sum_bps / (repeats ? repeats : 1) / 1e6;
}

static void put_point(struct mp_writer *w, const struct point *pt)
{
	mp_record_begin(w, "point");
	mp_put_u64(w, "server_mtu", "%" PRIu64, pt->mtu);
	mp_put_u64(w, "peer_mtu", "%" PRIu64, pt->peer_mtu);
	mp_put_f64(w, "upload_rcv_mbps", "%.1f", mean_mbps(pt->up_rcv_bps, pt->repeats));
	mp_put_f64(w, "upload_send_mbps", "%.1f", mean_mbps(pt->up_send_bps, pt->repeats));
	mp_put_f64(w, "download_rcv_mbps", "%.1f", mean_mbps(pt->down_rcv_bps, pt->repeats));
	mp_put_f64(w, "download_send_mbps", "%.1f", mean_mbps(pt->down_send_bps, pt->repeats));
	mp_put_f64(w, "loss_pct", "%.1f",
		   pt->sent ? 100.0 * (pt->sent - pt->received) / pt->sent : 100.0);
	mp_put_f64(w, "rtt_ms", "%.3f",
		   pt->received ? (double)pt->rtt_sum_ns / pt->received / 1e6 : 0.0);
	mp_put_u64(w, "repeats", "%" PRIu64, pt->repeats);
	mp_put_u64(w, "retransmits", "%" PRIu64, pt->retransmits);
	mp_record_end(w);
}

/* One heatmap: x, y, z from the CSV written here. */
static int plot_one(const char *png, const char *title, const char *xlabel, const char *ylabel,
		    const struct point *pts, size_t n, int what)
{
	struct mp_plot_series s = { .x_col = 1, .y_col = 2, .z_col = 3 };
	struct mp_plot pl = {
		.png_path = png, .title = title, .xlabel = xlabel, .ylabel = ylabel,
		.zlabel = "Mbit/s", .series = &s, .n_series = 1, .heatmap = true,
	};
	char path[] = "/tmp/mtufind-sweep.XXXXXX", err[160];
	FILE *f;
	size_t i;
	int fd, r;

	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -errno;
	fprintf(f, "mtu,y,rcv_mbps\n");
	for (i = 0; i < n; i++) {
		const struct point *p = &pts[i];

		/* what: 0 upload, 1 download (the y axis is the direction);
		 * 2 upload, 3 download (the y axis is the peer's MTU) */
		if (what < 2)
			fprintf(f, "%u,0,%.1f\n%u,1,%.1f\n", p->mtu,
				mean_mbps(p->up_rcv_bps, p->repeats),
				p->mtu, mean_mbps(p->down_rcv_bps, p->repeats));
		else
			fprintf(f, "%u,%u,%.1f\n", p->mtu, p->peer_mtu,
				mean_mbps(what == 2 ? p->up_rcv_bps : p->down_rcv_bps, p->repeats));
	}
	r = fclose(f) ? -errno : 0;
	pl.csv_path = path;
	if (r == 0)
		r = mp_plot_render(&pl, err, sizeof(err));
	if (r < 0)
		mp_warnx("plot %s: %s", png, err);
	unlink(path);
	return r;
}

/* 1-D: one PNG, MTU by direction. 2-D: one PNG per direction, local MTU by
 * peer MTU, of the complete rows (gnuplot's image needs a full grid). */
static int plot(const struct run *u)
{
	const char *p = u->o->plot;
	size_t len = strlen(p), rows = u->n / u->n_axis;
	char png[PATH_MAX];
	int r;

	if (!u->rc)
		return plot_one(p, "mtufind sweep: received throughput", "local MTU (bytes)",
				"0 = upload, 1 = download", u->pts, u->n, 0);
	if (!rows)
		return 0;
	if (len >= 4 && !strcmp(p + len - 4, ".png"))
		len -= 4;
	snprintf(png, sizeof(png), "%.*s-upload.png", (int)len, p);
	r = plot_one(png, "mtufind sweep: upload (local to peer), received", "local MTU (bytes)",
		     "peer MTU (bytes)", u->pts, rows * u->n_axis, 2);
	if (r < 0)
		return r;
	snprintf(png, sizeof(png), "%.*s-download.png", (int)len, p);
	return plot_one(png, "mtufind sweep: download (peer to local), received",
			"local MTU (bytes)", "peer MTU (bytes)", u->pts, rows * u->n_axis, 3);
}

/* The summary's grid: a row per peer MTU, a cell per local MTU. */
static void put_grid(struct mp_writer *w, const struct run *u)
{
	unsigned i, k;

	mp_arr_begin(w, "local_mtus", "local MTUs");
	for (k = 0; k < u->n_axis; k++)
		mp_put_u64(w, NULL, "%" PRIu64, u->o->min_mtu + k * u->o->step);
	mp_arr_end(w);
	mp_arr_begin(w, "grid", "received Mbit/s by peer MTU, one column per local MTU");
	for (i = 0; i * u->n_axis < u->n; i++) {
		const struct point *row = &u->pts[i * u->n_axis];

		mp_obj_begin(w, NULL, NULL);
		mp_put_u64(w, "peer_mtu", "%" PRIu64, row[0].peer_mtu);
		mp_arr_begin(w, "upload_rcv_mbps", NULL);
		for (k = 0; k < u->n_axis; k++)
			mp_put_f64(w, NULL, "%.1f", i * u->n_axis + k < u->n ?
				   mean_mbps(row[k].up_rcv_bps, row[k].repeats) : NAN);
		mp_arr_end(w);
		mp_arr_begin(w, "download_rcv_mbps", NULL);
		for (k = 0; k < u->n_axis; k++)
			mp_put_f64(w, NULL, "%.1f", i * u->n_axis + k < u->n ?
				   mean_mbps(row[k].down_rcv_bps, row[k].repeats) : NAN);
		mp_arr_end(w);
		mp_obj_end(w);
	}
	mp_arr_end(w);
}

/* The peer's session, taken. A sweep killed a moment ago still holds the
 * peer until its idle timeout, with the peer's MTU changed: wait for the
 * peer to end it and put its original back (one timeout and a second at
 * most); the MTU read when the session is taken is the original. */
static int peer_claim(struct run *u, const char *a)
{
	uint64_t deadline = 0, now;
	unsigned mtu;
	int r;

	for (;;) {
		r = mf_remote_hello(u->rc, &mtu);
		if (r == 0)
			r = mf_remote_claim(u->rc, &u->peer_orig_mtu);
		now = mp_clock_mono_ns();
		if (r == -EBUSY && mf_stop)
			return -EINTR;
		if (r != -EBUSY || (deadline && now >= deadline))
			return r;
		if (!deadline) {
			deadline = now + mf_remote_idle_ns(u->rc) + MP_NSEC_PER_SEC;
			mp_warnx("peer %s: held by another session (MTU %u; a killed sweep?): "
				 "waiting up to %.0f s for it to end", a, mtu,
				 (double)(deadline - now) / 1e9);
		}
		mp_clock_sleep_until(now + 250 * MP_NSEC_PER_MSEC);
	}
}

/* Everything before the first change; a failure here is a setup error. */
static int sweep_setup(struct run *u)
{
	const struct sweep_opts *o = u->o;
	struct sockaddr_storage ctl;
	char a[MP_ADDR_PORT_STRLEN];
	int r;

	r = mp_parse_addr(o->peer, AF_UNSPEC, 0, &u->peer, &u->peer_len);
	if (r < 0) {
		mp_warn(-r, "peer '%s'", o->peer);
		return r;
	}
	r = mp_nl_new(&u->nl);
	if (r == 0)
		r = mp_nl_link_get(u->nl, 0, o->ifname, &u->link);
	if (r < 0) {
		mp_warn(-r, "interface %s", o->ifname);
		return r;
	}
	/* a state file left by a killed sweep holds the true original; one
	 * whose lock is held is a live sweep's, not ours to apply */
	r = mf_state_lock(o->state, &u->lock_fd);
	if (r == 0)
		r = mf_state_recover(o->state, u->link.name, &u->recovered_mtu);
	if (r > 0) {
		mp_warnx("%s: MTU %u put back from %s (left by a sweep that did not end)",
			 u->link.name, u->recovered_mtu, o->state);
		r = mp_nl_link_get(u->nl, u->link.ifindex, NULL, &u->link);
	}
	if (r < 0) {
		mp_warnx("state file %s: %s", o->state, mf_state_strerror(r));
		return r;
	}
	if (o->peer_key) {
		ctl = u->peer;
		mp_addr_port_set(&ctl, o->peer_port);
		mp_addr_to_str_port((struct sockaddr *)&ctl, a, sizeof(a));
		/* the key was checked before: what fails here is the socket */
		r = mf_remote_open(&u->rc, o->peer_key, &ctl, u->peer_len);
		if (r < 0) {
			mp_warn(-r, "peer %s", a);
			return r;
		}
		r = peer_claim(u, a);
		if (r == -ETIMEDOUT)
			mp_warnx("peer %s: no signed answer (no mtufind -s there, or another key)",
				 a);
		else if (r == -EBUSY)
			mp_warnx("peer %s: still held by another session", a);
		else if (r < 0 && r != -EINTR)
			mp_warn(-r, "peer %s", a);
		if (r < 0)
			return r;
	}
	r = mf_state_write(o->state, u->link.name, u->link.mtu_bytes);
	if (r < 0) {
		mp_warn(-r, "state file %s", o->state);
		if (u->rc)
			mf_remote_end(u->rc, &u->peer_end_mtu);
	}
	return r;
}

/* The grid, row by row (one peer MTU per row). Returns 0, or -errno. */
static int sweep_grid(struct run *u, struct mp_writer *w)
{
	const struct sweep_opts *o = u->o;
	struct mp_nl_link now;
	unsigned i, k, pm = 0;
	int r = 0;

	for (i = 0; i < u->n_peer && !mf_stop; i++) {
		if (u->rc) {
			r = mf_remote_set(u->rc, o->min_mtu + i * o->step, &pm);
			if (r < 0) {
				mp_warn(-r, "setting the peer's MTU to %u",
					o->min_mtu + i * o->step);
				return r;
			}
		}
		for (k = 0; k < u->n_axis && !mf_stop; k++) {
			struct point *pt = &u->pts[u->n];
			unsigned mtu = o->min_mtu + k * o->step;

			r = mp_nl_link_set_mtu(u->nl, u->link.ifindex, NULL, mtu);
			if (r == 0)
				r = mp_nl_link_get(u->nl, u->link.ifindex, NULL, &now);
			if (r < 0) {
				mp_warn(-r, "setting MTU %u on %s", mtu, u->link.name);
				return r;
			}
			pt->mtu = now.mtu_bytes;
			pt->peer_mtu = pm;
			r = measure(u, pt);
			if (r < 0 && r != -EINTR) {
				mp_warn(-r, "measuring at MTU %u, peer MTU %u", mtu, pm);
				return r;
			}
			if (mf_stop)
				break;
			if (!o->quiet)
				put_point(w, pt);
			u->n++;
			if (!o->quiet && isatty(STDERR_FILENO))
				fprintf(stderr, "\rmtufind sweep: MTU %u, peer %u done", mtu, pm);
		}
	}
	if (u->n && !o->quiet && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	return 0;
}

/* Both ends back as they were. Returns 0, or the first -errno. */
static int sweep_end(struct run *u)
{
	int r = 0, rr;

	if (u->rc) {
		r = mf_remote_end(u->rc, &u->peer_end_mtu);
		if (r < 0)
			mp_warn(-r, "ending the peer's session (it restores its MTU %u itself "
				"when it hears nothing)", u->peer_orig_mtu);
	}
	rr = mp_nl_link_set_mtu(u->nl, u->link.ifindex, NULL, u->link.mtu_bytes);
	if (rr < 0)
		mp_warn(-rr, "restoring MTU %u on %s (state kept in %s)", u->link.mtu_bytes,
			u->link.name, u->o->state);
	else
		unlink(u->o->state);
	return r < 0 ? r : rr;
}

/* Returns 0, or -errno; *ret_setup: the failure came before any change. */
static int sweep(const struct sweep_opts *o, struct mp_writer *w, bool *ret_setup)
{
	struct run u = { .o = o, .mo = MF_OPTS_INIT, .lock_fd = -1 };
	uint64_t t0 = mp_clock_mono_ns();
	int r, rr;

	u.n_axis = (o->max_mtu - o->min_mtu) / o->step + 1;
	u.n_peer = o->peer_key ? u.n_axis : 1;
	u.pts = calloc((size_t)u.n_axis * u.n_peer, sizeof(*u.pts));
	if (!u.pts)
		return -ENOMEM;
	r = sweep_setup(&u);
	*ret_setup = r < 0;
	if (r < 0)
		goto out;
	r = sweep_grid(&u, w);
	rr = sweep_end(&u);
	if (r == 0)
		r = rr;
	mp_doc_begin(w, "mtufind sweep");
	mp_put_str(w, "ifname", "interface %s", u.link.name);
	mp_put_u64(w, "points", "%" PRIu64 " points", u.n);
	mp_put_u64(w, "restored_mtu_bytes", "MTU restored to %" PRIu64 " bytes",
		   u.link.mtu_bytes);
	mp_put_u64(w, "recovered_mtu_bytes", "(%" PRIu64 " put back from a state file)",
		   u.recovered_mtu);
	mp_put_u64(w, "peer_original_mtu_bytes", "peer MTU was %" PRIu64 " bytes",
		   u.peer_orig_mtu);
	mp_put_u64(w, "peer_restored_mtu_bytes", "peer MTU restored to %" PRIu64 " bytes",
		   u.peer_end_mtu);
	mp_put_bool(w, "interrupted", "interrupted %s", mf_stop);
	mp_put_f64(w, "duration_ms", "took %.0f ms", (double)(mp_clock_mono_ns() - t0) / 1e6);
	put_grid(w, &u);
	mp_doc_end(w);
	if (r == 0 && o->plot && u.n)
		r = plot(&u);
out:
	if (u.lock_fd >= 0)
		close(u.lock_fd);
	mf_remote_free(u.rc);
	mp_nl_free(u.nl);
	free(u.pts);
	return r;
}

/* --restore: the state file's MTU back on its interface (which must be
 * --wg's when given). Returns 0, or -errno (said on stderr). */
static int restore(const struct sweep_opts *o, unsigned *ret_mtu, char *name, size_t len)
{
	int r, fd = -1;

	/* no lock file is left where there is nothing to restore */
	r = access(o->state, F_OK) < 0 ? -errno : mf_state_lock(o->state, &fd);
	if (r == 0 && o->ifname) {
		r = mf_state_recover(o->state, o->ifname, ret_mtu);
		if (r > 0)
			snprintf(name, len, "%s", o->ifname);
		r = r == 0 ? -ENOENT : r;
	} else if (r == 0) {
		r = mf_state_restore(o->state, ret_mtu, name, len);
	}
	if (fd >= 0)
		close(fd);
	if (r == -ENOENT)
		mp_warnx("--restore: no state file %s (nothing to restore)", o->state);
	else if (r < 0)
		mp_warnx("--restore: state file %s: %s", o->state, mf_state_strerror(r));
	return r < 0 ? r : 0;
}

int mf_sweep_main(int argc, char **argv)
{
	struct sweep_opts o = {
		.min_mtu = 1280, .max_mtu = 1440, .step = 8, .bytes = 4 << 20, .repeat = 1,
		.iperf_port = 5201, .step_timeout_ns = STEP_TIMEOUT_NS, .format = MP_FMT_TEXT,
		.peer_port = MF_CTL_PORT,
	};
	struct mp_writer *w = NULL;
	char state[PATH_MAX], name[IF_NAMESIZE] = "";
	unsigned mtu = 0;
	bool setup = false;
	int r, ret;

	r = parse_args(argc, argv, &o, state, sizeof(state));
	if (r == MP_ARGS_HELP)
		usage(stdout);
	if (r > 0)
		return MP_EXIT_OK;
	if (r < 0) {
		fputs("Try 'mtufind sweep --help'.\n", stderr);
		return MP_EXIT_USAGE;
	}
	if (o.peer_key && mp_opt_key_check(o.peer_key) < 0)
		return MP_EXIT_USAGE;
	if (o.restore) {
		r = restore(&o, &mtu, name, sizeof(name));
		if (r < 0)
			return MP_EXIT_USAGE;
	}
	r = mp_writer_new(&w, o.format, stdout, "mtufind", "mtufind/2");
	if (r < 0) {
		mp_warn(-r, "output");
		return MP_EXIT_USAGE;
	}
	mp_writer_prom_help(w, mf_prom_help);
	if (o.restore) {
		mp_doc_begin(w, "mtufind sweep --restore");
		mp_put_str(w, "ifname", "interface %s", name);
		mp_put_u64(w, "restored_mtu_bytes", "MTU restored to %" PRIu64 " bytes", mtu);
		r = mp_doc_end(w);
	} else {
		r = sweep(&o, w, &setup);
	}
	ret = r < 0 ? (setup ? MP_EXIT_USAGE : MP_EXIT_FAIL) : MP_EXIT_OK;
	if (mp_writer_close(w) < 0 && ret == MP_EXIT_OK)
		ret = MP_EXIT_FAIL;
	return ret;
}
