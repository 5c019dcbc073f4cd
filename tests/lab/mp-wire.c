/* SPDX-License-Identifier: MIT */
/*
 * mp-wire: the lab's user-space delay wire (this kernel has no netem).
 *
 * Runs in a wire namespace holding two unbridged veth ends and copies every
 * Ethernet frame between them over AF_PACKET sockets, holding each direction
 * for its own delay (plus optional jitter). It is a wire, not a router: no
 * hop, no TTL or MAC change; GSO and partial-checksum frames pass intact
 * (PACKET_VNET_HDR), so TCP still runs at Gbit/s through it.
 *
 * Timing: a frame's due time is its kernel receive stamp (SO_TIMESTAMPNS,
 * CLOCK_REALTIME) converted to CLOCK_MONOTONIC, plus the delay. The kernel
 * stamps the frame as it enters the wire, so the time it then waits in the
 * socket while this process sleeps or is busy (tens of us idle, ms under
 * load) is not added to the delay. The monotonic time read right after
 * recv() is only a fallback, counted in the stats. One timerfd is armed at the
 * absolute CLOCK_MONOTONIC due time of the earliest frame, and a frame goes out
 * only once a fresh clock read has passed its due time: never early.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "mp.h"

enum {
	VNET_HDR_LEN = sizeof(struct virtio_net_hdr),
	FRAME_MAX = VNET_HDR_LEN + 65536 + 256,	/* a 64 KiB GSO frame and its headers */
	FRAME_MIN = VNET_HDR_LEN + ETH_HLEN,
	RX_BURST = 64,				/* frames read per socket per wake-up */
	SOCK_BUF_BYTES = 8 << 20,		/* absorbs bursts while the wire is busy */
	QUEUE_DEFAULT = 100000,
	QUEUE_MAX = 10000000,
};

#define DUR_MAX_NS (3600ULL * MP_NSEC_PER_SEC)
#define STAMP_MAX_AGE_NS (1ULL * MP_NSEC_PER_SEC)	/* older kernel stamps are not trusted */

enum { AB, BA, NDIR };	/* directions; also the index of the port they enter by */

enum {
	OPT_DELAY_AB = 0x100,
	OPT_DELAY_BA,
	OPT_JITTER_AB,
	OPT_JITTER_BA,
	OPT_REORDER,
	OPT_SEED,
	OPT_READY_FILE,
	OPT_STATS_FILE,
	OPT_QUEUE,
	OPT_RT_PRIO,
};

static const struct option long_opts[] = {
	{ "delay-ab", required_argument, NULL, OPT_DELAY_AB },		/* fixed delay A->B */
	{ "delay-ba", required_argument, NULL, OPT_DELAY_BA },		/* fixed delay B->A */
	{ "jitter-ab", required_argument, NULL, OPT_JITTER_AB },	/* extra U[0, DUR] A->B */
	{ "jitter-ba", required_argument, NULL, OPT_JITTER_BA },	/* extra U[0, DUR] B->A */
	{ "reorder", no_argument, NULL, OPT_REORDER },			/* release by due time */
	{ "seed", required_argument, NULL, OPT_SEED },			/* jitter PRNG seed */
	{ "ready-file", required_argument, NULL, OPT_READY_FILE },	/* created when running */
	{ "stats-file", required_argument, NULL, OPT_STATS_FILE },	/* counters on TERM/USR1 */
	{ "queue", required_argument, NULL, OPT_QUEUE },		/* frames per direction */
	{ "rt-prio", required_argument, NULL, OPT_RT_PRIO },		/* SCHED_FIFO priority */
	{ "help", no_argument, NULL, 'h' },				/* this text */
	{ NULL, 0, NULL, 0 },
};

struct frame {
	uint64_t due_ns;	/* CLOCK_MONOTONIC release time */
	uint64_t seq;		/* arrival order: breaks ties between equal due times */
	unsigned char *data;	/* vnet header + Ethernet frame, malloc'd */
	uint32_t len;		/* bytes in data */
};

struct dir {
	const char *name;		/* "ab" or "ba", the stats prefix */
	int rx_fd;			/* port the frames come in by */
	int tx_fd;			/* port they leave by */
	uint64_t delay_ns;		/* fixed delay */
	uint64_t jitter_ns;		/* max extra delay, uniform */
	uint64_t rng;			/* splitmix64 state */
	bool reorder;			/* --reorder: no FIFO clamp on due times */
	bool tx_blocked;		/* tx socket full: waiting for POLLOUT */
	struct frame *q;		/* min-heap by (due_ns, seq) */
	size_t len;			/* frames in q */
	size_t cap;			/* entries allocated in q */
	size_t max;			/* --queue */
	uint64_t seq;			/* next arrival number */
	uint64_t last_due_ns;		/* due time of the previous frame, for FIFO order */
	uint64_t frames;		/* frames sent on */
	uint64_t bytes;			/* Ethernet bytes sent on (a GSO frame whole) */
	uint64_t dropped_queue_full;	/* --queue exceeded (or out of memory) */
	uint64_t dropped_rx;		/* kernel receive drops, PACKET_STATISTICS */
	uint64_t dropped_tx;		/* refused by the outgoing port (ENOBUFS...) */
	uint64_t dropped_bad;		/* truncated or runt frames */
	uint64_t stamp_fallback;	/* frames timed by the clock after recv() */
	uint64_t late_sum_ns;		/* sum over sent frames of (sent - due) */
	uint64_t late_max_ns;		/* max of (sent - due) */
};

struct wire {
	const char *ifname[NDIR];	/* IF_A, IF_B */
	const char *ready_file;		/* --ready-file, NULL: none */
	const char *stats_file;		/* --stats-file, NULL: none */
	uint64_t rt_prio;		/* --rt-prio, 0: normal scheduling */
	struct dir dir[NDIR];		/* AB, BA */
	int fd[NDIR];			/* port sockets on IF_A, IF_B */
	int tfd;			/* timerfd, absolute CLOCK_MONOTONIC */
	uint64_t armed_ns;		/* timerfd expiry, 0 when disarmed */
	int64_t real_minus_mono_ns;	/* for converting kernel stamps */
	unsigned char *rxbuf;		/* FRAME_MAX bytes */
};

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_usr1;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mp-wire [options] IF_A IF_B\n"
		"Copy Ethernet frames between IF_A and IF_B, delaying each direction.\n"
		"  --delay-ab DUR      fixed one-way delay A->B (default 0)\n"
		"  --delay-ba DUR      fixed one-way delay B->A (default 0)\n"
		"  --jitter-ab DUR     extra delay per frame A->B, uniform in [0, DUR]\n"
		"  --jitter-ba DUR     extra delay per frame B->A, uniform in [0, DUR]\n"
		"  --reorder           jittered frames may overtake (default: keep order)\n"
		"  --seed N            jitter PRNG seed (default 1)\n"
		"  --ready-file PATH   created once both ports run, removed at exit\n"
		"  --stats-file PATH   counters, written on SIGTERM, SIGINT and SIGUSR1\n"
		"  --queue N           max frames queued per direction (default %d)\n"
		"  --rt-prio N         run SCHED_FIFO at priority N (1-99; default 0: no)\n"
		"  -h, --help          this text\n"
		"DUR is a number and a unit: ns, us, ms, s (e.g. 20ms, 1.5ms, 300us).\n",
		QUEUE_DEFAULT);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_stop = 1;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * MP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* splitmix64: tiny, seedable, good enough for jitter. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end) {
		fprintf(stderr, "mp-wire: %s: not a number: '%s'\n", opt, s);
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		fprintf(stderr, "mp-wire: %s: out of range (%" PRIu64 "..%" PRIu64 "): '%s'\n",
			opt, min, max, s);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

/* Fixed point on purpose: "1.1ms" must be exactly 1100000 ns. */
static int parse_duration(const char *opt, const char *s, uint64_t *ret_ns)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", MP_NSEC_PER_USEC }, { "ms", MP_NSEC_PER_MSEC },
		{ "s", MP_NSEC_PER_SEC },
	};
	uint64_t whole = 0, frac = 0, frac_div = 1, unit = 0;
	const char *p = s;
	size_t i;

	if (*p < '0' || *p > '9')
		goto invalid;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > DUR_MAX_NS)
			goto range;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			goto invalid;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (frac_div < MP_NSEC_PER_SEC) {	/* below 1 ns: ignored */
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
		}
	}
	for (i = 0; i < MP_ARRAY_SIZE(units); i++)
		if (!strcmp(p, units[i].name))
			unit = units[i].ns;
	if (!unit && (*p || whole || frac))	/* a bare "0" needs no unit */
		goto invalid;
	if (unit && whole > DUR_MAX_NS / unit)
		goto range;
	whole = whole * unit + frac * unit / frac_div;
	if (whole > DUR_MAX_NS)
		goto range;
	*ret_ns = whole;
	return 0;
invalid:
	fprintf(stderr, "mp-wire: %s: invalid duration '%s' (a number and a unit: ns, us, ms, s)\n",
		opt, s);
	return -EINVAL;
range:
	fprintf(stderr, "mp-wire: %s: duration too large (max 3600s): '%s'\n", opt, s);
	return -ERANGE;
}

static int parse_args(int argc, char **argv, struct wire *w)
{
	char shortopts[2 * MP_ARRAY_SIZE(long_opts) + 2] = ":", name[32] = "";
	uint64_t seed = 1, queue = QUEUE_DEFAULT;
	size_t n = 1, i;
	int c, idx, r = 0;

	for (i = 0; long_opts[i].name; i++) {
		if (long_opts[i].val >= 0x100)
			continue;
		shortopts[n++] = (char)long_opts[i].val;
		if (long_opts[i].has_arg)
			shortopts[n++] = ':';
	}
	shortopts[n] = '\0';

	while (r == 0 && (c = getopt_long(argc, argv, shortopts, long_opts, &idx)) != -1) {
		if (c >= 0x100)
			snprintf(name, sizeof(name), "--%s", long_opts[idx].name);
		switch (c) {
		case OPT_DELAY_AB:
		case OPT_DELAY_BA:
			r = parse_duration(name, optarg, &w->dir[c - OPT_DELAY_AB].delay_ns);
			break;
		case OPT_JITTER_AB:
		case OPT_JITTER_BA:
			r = parse_duration(name, optarg, &w->dir[c - OPT_JITTER_AB].jitter_ns);
			break;
		case OPT_REORDER:
			w->dir[AB].reorder = w->dir[BA].reorder = true;
			break;
		case OPT_SEED:
			r = parse_u64(name, optarg, 0, UINT64_MAX, &seed);
			break;
		case OPT_READY_FILE:
			w->ready_file = optarg;
			break;
		case OPT_STATS_FILE:
			w->stats_file = optarg;
			break;
		case OPT_QUEUE:
			r = parse_u64(name, optarg, 1, QUEUE_MAX, &queue);
			break;
		case OPT_RT_PRIO:
			r = parse_u64(name, optarg, 0, 99, &w->rt_prio);
			break;
		case 'h':
			return MP_ARGS_HELP;
		case ':':
			fprintf(stderr, "mp-wire: option needs a value: '%s'\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "mp-wire: unknown option: '%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (argc - optind != 2) {
		fprintf(stderr, "mp-wire: need exactly two interfaces, IF_A and IF_B\n");
		return -EINVAL;
	}
	w->ifname[AB] = argv[optind];
	w->ifname[BA] = argv[optind + 1];
	if (!strcmp(w->ifname[AB], w->ifname[BA])) {
		fprintf(stderr, "mp-wire: IF_A and IF_B are the same: '%s'\n", w->ifname[AB]);
		return -EINVAL;
	}
	for (i = 0; i < NDIR; i++) {
		w->dir[i].name = i == AB ? "ab" : "ba";
		w->dir[i].max = queue;
		/* One stream per direction: its jitter does not depend on the other's traffic. */
		w->dir[i].rng = seed ^ (i == AB ? 0 : 0x5851f42d4c957f2dULL);
	}
	return 0;
}

static bool frame_before(const struct frame *a, const struct frame *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static int heap_push(struct dir *d, const struct frame *f)
{
	size_t i, parent;

	if (d->len == d->cap) {
		size_t cap = MP_MIN(MP_MAX(d->cap * 2, (size_t)64), d->max);
		struct frame *q = realloc(d->q, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		d->q = q;
		d->cap = cap;
	}
	for (i = d->len++; i > 0; i = parent) {
		parent = (i - 1) / 2;
		if (!frame_before(f, &d->q[parent]))
			break;
		d->q[i] = d->q[parent];
	}
	d->q[i] = *f;
	return 0;
}

/* Frees the head frame and removes it. */
static void heap_pop(struct dir *d)
{
	struct frame last = d->q[--d->len];
	size_t i = 0, child;

	free(d->q[0].data);
	for (; (child = 2 * i + 1) < d->len; i = child) {
		if (child + 1 < d->len && frame_before(&d->q[child + 1], &d->q[child]))
			child++;
		if (!frame_before(&d->q[child], &last))
			break;
		d->q[i] = d->q[child];
	}
	if (d->len)
		d->q[i] = last;
}

static int setopt_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) < 0 ? -errno : 0;
}

/* A port: a raw packet socket bound to one interface, in promiscuous mode. */
static int port_open(const char *ifname, int *ret_fd)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int fd = -1, r;

	sll.sll_ifindex = mr.mr_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "mp-wire: no interface '%s'\n", ifname);
		return -ENODEV;
	}
	/* Protocol 0 until bind(), or it reads every interface meanwhile. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : 0;
	if (r == 0)
		r = setopt_int(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
	if (r == 0)
		r = setopt_int(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
	if (r == 0)
		r = setopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	if (r == 0 && setopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCK_BUF_BYTES) < 0)
		r = setopt_int(fd, SOL_SOCKET, SO_RCVBUF, SOCK_BUF_BYTES);
	if (r == 0 && setopt_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCK_BUF_BYTES) < 0)
		r = setopt_int(fd, SOL_SOCKET, SO_SNDBUF, SOCK_BUF_BYTES);
	if (r == 0 && setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		r = -errno;
	if (r == 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "mp-wire: opening a port on '%s': %s\n", ifname, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Sends the head frame of d if it is due; false if none is (or d is blocked). */
static bool dir_send_one(struct dir *d)
{
	struct frame *f;
	uint64_t now_ns;

	if (!d->len || d->tx_blocked)
		return false;
	f = &d->q[0];
	/* The never-early guarantee: a fresh clock read for every frame. */
	now_ns = clock_ns(CLOCK_MONOTONIC);
	if (f->due_ns > now_ns)
		return false;
	if (send(d->tx_fd, f->data, f->len, MSG_DONTWAIT) < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			d->tx_blocked = errno == EAGAIN;
			return true;
		}
		d->dropped_tx++;	/* the peer's backlog is full: a real link drops too */
	} else {
		d->frames++;
		d->bytes += f->len - VNET_HDR_LEN;
		d->late_sum_ns += now_ns - f->due_ns;
		d->late_max_ns = MP_MAX(d->late_max_ns, now_ns - f->due_ns);
	}
	heap_pop(d);
	return true;
}

/*
 * One frame per direction in turn: the two directions are independent links,
 * and a backlog of big GSO frames one way must not hold back ACKs the other.
 */
static void release_due(struct wire *w)
{
	bool ab, ba;

	do {
		ab = dir_send_one(&w->dir[AB]);
		ba = dir_send_one(&w->dir[BA]);
	} while (ab || ba);
}

/* The kernel's receive stamp as CLOCK_MONOTONIC; now_ns if absent or implausible. */
static uint64_t frame_stamp(struct wire *w, struct dir *d, struct msghdr *msg, uint64_t now_ns)
{
	struct cmsghdr *c;
	struct timespec ts;
	int64_t stamp_ns;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		stamp_ns = (int64_t)ts.tv_sec * (int64_t)MP_NSEC_PER_SEC + ts.tv_nsec -
			   w->real_minus_mono_ns;
		if (stamp_ns > (int64_t)now_ns)	/* conversion noise: clamping only delays */
			return now_ns;
		if ((uint64_t)((int64_t)now_ns - stamp_ns) <= STAMP_MAX_AGE_NS)
			return (uint64_t)stamp_ns;
	}
	d->stamp_fallback++;
	return now_ns;
}

static void dir_receive(struct wire *w, struct dir *d)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct timespec)) * 2];
	} cbuf;
	struct iovec iov = { .iov_base = w->rxbuf, .iov_len = FRAME_MAX };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct frame f;
	ssize_t n;
	int i;

	for (i = 0; i < RX_BURST; i++) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		n = recvmsg(d->rx_fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				fprintf(stderr, "mp-wire: receiving (%s): %s\n", d->name,
					strerror(errno));
			return;
		}
		if ((msg.msg_flags & MSG_TRUNC) || n > FRAME_MAX || n < FRAME_MIN) {
			d->dropped_bad++;
			continue;
		}
		f.due_ns = frame_stamp(w, d, &msg, clock_ns(CLOCK_MONOTONIC)) + d->delay_ns;
		if (d->jitter_ns)
			f.due_ns += rng_next(&d->rng) % (d->jitter_ns + 1);
		if (!d->reorder)
			f.due_ns = MP_MAX(f.due_ns, d->last_due_ns);
		f.seq = d->seq++;
		f.len = (uint32_t)n;
		f.data = d->len < d->max ? malloc((size_t)n) : NULL;
		if (!f.data || heap_push(d, &f) < 0) {
			free(f.data);
			d->dropped_queue_full++;
			continue;
		}
		memcpy(f.data, w->rxbuf, (size_t)n);
		d->last_due_ns = f.due_ns;
		/* Sending beats reading: a frame waiting in the socket keeps its stamp. */
		release_due(w);
	}
}

static int timer_update(struct wire *w)
{
	struct itimerspec its = { 0 };
	uint64_t due_ns = UINT64_MAX;
	int i;

	for (i = 0; i < NDIR; i++)
		if (w->dir[i].len && !w->dir[i].tx_blocked)
			due_ns = MP_MIN(due_ns, w->dir[i].q[0].due_ns);
	if (due_ns == UINT64_MAX)
		due_ns = 0;	/* disarm */
	if (due_ns == w->armed_ns)
		return 0;
	/* Absolute: a relative timeout would add the time spent computing it. */
	its.it_value.tv_sec = (time_t)(due_ns / MP_NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(due_ns % MP_NSEC_PER_SEC);
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	w->armed_ns = due_ns;
	return 0;
}

/* Written to PATH.tmp and renamed, so a reader never sees half a file. */
static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	char tmp[PATH_MAX];
	int fd, r = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n != (ssize_t)len)
		r = n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int write_stats(struct wire *w)
{
	static const char *const keys[] = {
		"frames", "bytes", "dropped_queue_full", "dropped_rx", "dropped_tx",
		"dropped_bad", "stamp_fallback", "queued", "late_mean_ns", "late_max_ns", "late_sum_ns",
	};
	struct tpacket_stats ps;
	socklen_t sl;
	char text[2048];
	size_t len = 0, k;
	int i, r;

	for (i = 0; i < NDIR; i++) {
		sl = sizeof(ps);
		/* Reading PACKET_STATISTICS resets the kernel's counters: accumulate. */
		if (getsockopt(w->dir[i].rx_fd, SOL_PACKET, PACKET_STATISTICS, &ps, &sl) == 0)
			w->dir[i].dropped_rx += ps.tp_drops;
	}
	/* ab_frames, ba_frames, ab_bytes, ...: the headline counters first. */
	for (k = 0; k < MP_ARRAY_SIZE(keys); k++) {
		for (i = 0; i < NDIR; i++) {
			const struct dir *d = &w->dir[i];
			const uint64_t v[] = {
				d->frames, d->bytes, d->dropped_queue_full, d->dropped_rx,
				d->dropped_tx, d->dropped_bad, d->stamp_fallback, d->len,
				d->frames ? d->late_sum_ns / d->frames : 0, d->late_max_ns,
				d->late_sum_ns,
			};

			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s_%s %" PRIu64 "\n", d->name, keys[k], v[k]);
		}
	}
	r = write_file(w->stats_file, text);
	if (r < 0)
		fprintf(stderr, "mp-wire: writing %s: %s\n", w->stats_file, strerror(-r));
	return r;
}

static int run(struct wire *w, const sigset_t *run_mask)
{
	struct pollfd pfd[NDIR + 1];
	uint64_t expiries, real_ns;
	int i, r = 0;

	while (!got_stop) {
		if (got_usr1) {
			got_usr1 = 0;
			if (w->stats_file)
				write_stats(w);
		}
		release_due(w);
		r = timer_update(w);
		if (r < 0) {
			fprintf(stderr, "mp-wire: arming the timer: %s\n", strerror(-r));
			break;
		}
		for (i = 0; i < NDIR; i++) {
			pfd[i].fd = w->fd[i];
			/* Port A transmits direction BA and port B direction AB. */
			pfd[i].events = POLLIN | (w->dir[!i].tx_blocked ? POLLOUT : 0);
		}
		pfd[NDIR].fd = w->tfd;
		pfd[NDIR].events = POLLIN;
		/* The signals are unblocked only inside ppoll(): none is lost. */
		if (ppoll(pfd, NDIR + 1, NULL, run_mask) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			fprintf(stderr, "mp-wire: poll: %s\n", strerror(errno));
			break;
		}
		if ((pfd[NDIR].revents & POLLIN) && read(w->tfd, &expiries, sizeof(expiries)) > 0)
			w->armed_ns = 0;
		/*
		 * Sampled per wake-up: it moves only when CLOCK_REALTIME is set.
		 * REALTIME first: the offset comes out a little small, so converted
		 * stamps err late, never early.
		 */
		real_ns = clock_ns(CLOCK_REALTIME);
		w->real_minus_mono_ns = (int64_t)(real_ns - clock_ns(CLOCK_MONOTONIC));
		for (i = 0; i < NDIR; i++) {
			if (pfd[i].revents & POLLOUT)
				w->dir[!i].tx_blocked = false;
			if (pfd[i].revents & (POLLIN | POLLERR))
				dir_receive(w, &w->dir[i]);
		}
	}
	return r;
}

static int setup(struct wire *w)
{
	int i, r;

	w->rxbuf = malloc(FRAME_MAX);
	if (!w->rxbuf)
		return -ENOMEM;
	for (i = 0; i < NDIR; i++) {
		r = port_open(w->ifname[i], &w->fd[i]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < NDIR; i++) {
		w->dir[i].rx_fd = w->fd[i];
		w->dir[i].tx_fd = w->fd[!i];
	}
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->tfd < 0) {
		r = -errno;
		fprintf(stderr, "mp-wire: timerfd: %s\n", strerror(errno));
		return r;
	}
	/* The default 50 us of slack would be added to every release. */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0)
		fprintf(stderr, "mp-wire: PR_SET_TIMERSLACK: %s\n", strerror(errno));
	/* Preempts the lab's other processes on wake-up: ms outliers go (netem is a softirq). */
	if (w->rt_prio) {
		struct sched_param sp = { .sched_priority = (int)w->rt_prio };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
			r = -errno;
			fprintf(stderr, "mp-wire: SCHED_FIFO priority %d: %s\n",
				sp.sched_priority, strerror(errno));
			return r;
		}
	}
	return 0;
}

static void teardown(struct wire *w)
{
	int i;

	for (i = 0; i < NDIR; i++) {
		while (w->dir[i].len)
			heap_pop(&w->dir[i]);
		free(w->dir[i].q);
		if (w->fd[i] >= 0)
			close(w->fd[i]);
	}
	if (w->tfd >= 0)
		close(w->tfd);
	free(w->rxbuf);
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	struct wire w = { .fd = { -1, -1 }, .tfd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, run_mask;
	int r, ret = MP_EXIT_USAGE;
	char pid[32];
	size_t i;

	r = parse_args(argc, argv, &w);
	if (r == MP_ARGS_HELP) {
		usage(stdout);
		return MP_EXIT_OK;
	}
	if (r < 0) {
		usage(stderr);
		return MP_EXIT_USAGE;
	}
	/* Blocked except inside ppoll(), where they interrupt the wait. */
	sigemptyset(&block);
	for (i = 0; i < MP_ARRAY_SIZE(sigs); i++) {
		sigaddset(&block, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &block, &run_mask);
	for (i = 0; i < MP_ARRAY_SIZE(sigs); i++)
		sigdelset(&run_mask, sigs[i]);

	if (setup(&w) < 0)
		goto out;
	if (w.ready_file) {
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		r = write_file(w.ready_file, pid);
		if (r < 0) {
			fprintf(stderr, "mp-wire: writing %s: %s\n", w.ready_file, strerror(-r));
			goto out;
		}
	}
	ret = run(&w, &run_mask) < 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
	if (w.stats_file && write_stats(&w) < 0)
		ret = MP_EXIT_FAIL;
	if (w.ready_file)
		unlink(w.ready_file);
out:
	teardown(&w);
	return ret;
}
