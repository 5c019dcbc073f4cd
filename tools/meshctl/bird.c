/* SPDX-License-Identifier: MIT */
/*
 * bird: the hand-off to BIRD 2 (`meshctl run --bird SOCKET`, `meshctl gen
 * bird`). meshctl keeps measuring every tunnel; BIRD's Babel distributes
 * and computes the paths.
 *
 * The mechanism BIRD 2.0.12 supports: Babel's per-interface `rxcost`, the
 * cost a node announces (in its IHUs) for traffic it receives on a link.
 * For a wired link a Babel node takes its neighbour's rxcost as the link's
 * cost (RFC 8966 A.2.1), so site X sets the rxcost of wgX.Y_vZ to the cost
 * of the direction Y -> X that it measures. Babel's metrics cannot be
 * negative, so the delay in it is half the RTT (offset-free), not the raw
 * one-way delay; loss, jitter and availability are those of the direction;
 * plus the absolute threshold (--abs-threshold, 2 ms), since Babel switches
 * paths on any gain. One unit is 100 µs.
 *
 * meshctl writes the interfaces into a file that the operator's `protocol
 * babel` includes, and asks BIRD to re-read its configuration over the
 * control socket (`configure`: Babel takes a new rxcost without a restart).
 *
 * A tunnel found down gets `limit 16`: Babel's k-out-of-j rule for wired
 * links then calls the link bad as soon as one of the last 16 hellos is
 * missing (by default 12 of 16 must arrive: some 5 s of silence), so at the
 * neighbour's next hello expiry its cost turns infinite and Babel asks the
 * origin for a new sequence number (RFC 8966 3.8.2.1) to take a feasible
 * route through another site. Excluding the interface instead would not do:
 * BIRD 2.0.12 then drops the routes without that request, and the site
 * stays unreachable until the feasibility distance expires. A tunnel not
 * measured yet is left out (`interface -"NAME"`). Hysteresis with
 * meshctl's thresholds: a new cost is written once it differs by more than
 * max(abs / 2, rel * written) for the dwell time and the last change is
 * older than the hold-down; a tunnel back up loses `limit 16` after the
 * dwell time. Prints nothing.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "clock.h"
#include "file.h"
#include "meshctl.h"

enum {
	RXCOST_MAX = 0xfffe,		/* 0xffff is Babel's infinity */
	REPLY_TIMEOUT_MS = 2000,	/* BIRD's answer to `configure` */
	DOC_MAX = 256 + MC_TUNNELS_MAX * 160,
};

/* One tunnel as BIRD was last told. */
struct bird_tun {
	bool included;			/* in the file, with rxcost */
	bool down;			/* ... with limit 16: the link is bad */
	uint16_t rxcost;		/* as written */
	bool cand_set;			/* a new cost waits out the dwell time */
	uint64_t cand_since_ns;
	uint64_t changed_ns;		/* last change of rxcost or inclusion */
	uint64_t up_since_ns;		/* up without a break since, 0 = not up */
};

struct mc_bird {
	const char *socket;		/* BIRD's control socket */
	const char *include;		/* the file protocol babel includes */
	struct bird_tun *t;		/* per tunnel of the state, same order */
	size_t nt;
	bool pending;			/* written, not yet taken by BIRD */
	uint64_t next_try_ns;		/* retry of a failed configure */
	struct mc_bird_counters c;
	char *doc;			/* the file's text */
};

uint16_t mc_bird_rxcost_units(int64_t cost_us)
{
	int64_t u = (cost_us + 50) / 100;

	return (uint16_t)MP_MAX(1, MP_MIN(u, RXCOST_MAX));
}

int64_t mc_bird_in_cost_us(const struct mc_tunnel *t, const struct mc_cost_weights *w)
{
	struct mc_metrics m = t->m;
	double c;

	/* the reverse direction's penalties, as mc_cost_us() counts them for
	 * the forward one, and half the RTT for the delay */
	m.valid = false;
	m.jitter_fwd_ns = t->m.jitter_rev_ns;
	m.loss_fwd = t->m.loss_rev;
	c = (double)mc_cost_us(&m, w) + (double)t->m.rtt_median_ns / 2000.0;
	return (int64_t)MP_MIN(c, (double)INT32_MAX);
}

int mc_bird_new(struct mc_bird **ret, const char *path, const char *include, size_t nt)
{
	struct mc_bird *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->t = calloc(nt ? nt : 1, sizeof(*b->t));
	b->doc = malloc(DOC_MAX);
	if (!b->t || !b->doc) {
		mc_bird_free(b);
		return -ENOMEM;
	}
	b->socket = path;
	b->include = include;
	b->nt = nt;
	b->pending = true;	/* the first file, even with nothing up yet */
	*ret = b;
	return 0;
}

void mc_bird_free(struct mc_bird *b)
{
	if (!b)
		return;
	free(b->t);
	free(b->doc);
	free(b);
}

const struct mc_bird_counters *mc_bird_counters(const struct mc_bird *b) { return &b->c; }

uint16_t mc_bird_tunnel_rxcost(const struct mc_bird *b, size_t i)
{
	return i < b->nt && b->t[i].included && !b->t[i].down ? b->t[i].rxcost : 0;
}

/* ---------------------------------------------------------------- decisions */

/* Whether tunnel i's entry in the file changes now. */
static bool tun_step(struct bird_tun *bt, const struct mc_tunnel *t, const struct mc_opts *o,
		     uint64_t now)
{
	const struct mc_hyst_opts *h = &o->hyst;
	uint16_t want;
	double gap, thr;

	if (t->state != MC_ST_UP || !t->m.valid) {
		bt->up_since_ns = 0;
		bt->cand_set = false;
		if (!bt->included || bt->down)
			return false;
		bt->down = true;	/* hard failure: at once */
		bt->changed_ns = now;
		return true;
	}
	if (!bt->up_since_ns)
		bt->up_since_ns = now;
	/* Babel takes the best metric at once, with no hysteresis between
	 * paths: every tunnel carries the absolute threshold once more, so
	 * that a relay (two tunnels) must beat the direct one by that much */
	want = mc_bird_rxcost_units(mc_bird_in_cost_us(t, &o->weights) + (int64_t)h->abs_us);
	if (!bt->included || bt->down) {
		/* the first time at once; back after a failure once it has
		 * stayed up for the dwell time */
		if (bt->down && now - bt->up_since_ns < h->dwell_ns)
			return false;
		bt->included = true;
		bt->down = false;
		bt->rxcost = want;
		bt->cand_set = false;
		bt->changed_ns = now;
		return true;
	}
	/* A written cost lags the measured one by up to this threshold; kept
	 * under the bias above (half of it), a lagging cost cannot hand a
	 * relay the win, e.g. a tunnel back from a delay whose cost came
	 * down less than the threshold. The jitter is in the cost already. */
	gap = fabs((double)want - (double)bt->rxcost) * 100.0;	/* µs */
	thr = MP_MAX((double)h->abs_us / 2, h->rel * (double)bt->rxcost * 100.0);
	if (gap <= thr) {
		bt->cand_set = false;
		return false;
	}
	if (!bt->cand_set) {
		bt->cand_set = true;
		bt->cand_since_ns = now;
	}
	if (now - bt->cand_since_ns < h->dwell_ns || now - bt->changed_ns < h->holddown_ns)
		return false;
	bt->rxcost = want;
	bt->cand_set = false;
	bt->changed_ns = now;
	return true;
}

/* ---------------------------------------------------------------- the file */

static size_t doc_build(const struct mc_bird *b, const struct mc_state *s)
{
	size_t len = 0, i;

#define PUT(...) (len += (size_t)snprintf(b->doc + len, len < DOC_MAX ? DOC_MAX - len : 0, \
					   __VA_ARGS__))
	PUT("# Babel interfaces of site %u, written by meshctl (meshperf %s): do not edit.\n"
	    "# rxcost: the cost of traffic arriving on the tunnel, measured, 1 = 100 us.\n",
	    s->self, MP_VERSION);
	for (i = 0; i < s->nt && len < DOC_MAX; i++) {
		const struct bird_tun *bt = &b->t[i];
		const struct mc_tunnel *t = &s->t[i];

		if (bt->included)
			PUT("interface \"%s\" { type wired; rxcost %u;%s hello interval 1 s; "
			    "update interval 4 s; };%s\n", t->ifname, bt->rxcost,
			    bt->down ? " limit 16;" : "", bt->down ? "\t# down" : "");
		else
			PUT("interface -\"%s\";\t# %s\n", t->ifname,
			    t->state == MC_ST_DOWN ? "down" : "not measured yet");
	}
#undef PUT
	return MP_MIN(len, (size_t)DOC_MAX - 1);
}

/* ---------------------------------------------------------------- BIRD */

/*
 * Read BIRD's reply lines until the last one ("DDDD text"; "DDDD-text" and
 * " text" continue). Returns its code, or -errno. The text of the last line
 * goes into msg.
 */
static int bird_reply(int fd, char *buf, size_t cap, char *msg, size_t msglen)
{
	size_t have = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *line = buf, *nl;
		ssize_t n;

		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			if (strlen(line) >= 5 && line[4] == ' ' && line[0] >= '0' && line[0] <= '9') {
				snprintf(msg, msglen, "%s", line + 5);
				return (int)strtol(line, NULL, 10);
			}
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have + 1 >= cap)
			have = 0;	/* an endless continuation line: drop it */
		n = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0)
			return errno == EINTR ? -ETIMEDOUT : -errno;
		n = read(fd, buf + have, cap - have - 1);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return -errno;
		have += (size_t)n;
	}
}

int mc_bird_command(const char *path, const char *cmd, char *msg, size_t msglen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096], req[128];
	int fd, r;

	msg[0] = '\0';
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = bird_reply(fd, buf, sizeof(buf), msg, msglen);	/* 0001 BIRD x.y ready. */
	if (r >= 0 && r != 1)
		r = -EPROTO;
	snprintf(req, sizeof(req), "%s\n", cmd);
	if (r >= 0 && write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		r = -EIO;
	if (r >= 0)
		r = bird_reply(fd, buf, sizeof(buf), msg, msglen);
	close(fd);
	return r;
}

/* ---------------------------------------------------------------- a round */

int mc_bird_step(struct mc_bird *b, const struct mc_state *s, uint64_t now, char *msg,
		 size_t msglen)
{
	bool changed = false;
	size_t i, len;
	int r;

	msg[0] = '\0';
	for (i = 0; i < b->nt && i < s->nt; i++)
		changed |= tun_step(&b->t[i], &s->t[i], s->o, now);
	if (changed) {
		b->pending = true;
		b->next_try_ns = 0;
	}
	if (!b->pending || now < b->next_try_ns)
		return 0;
	len = doc_build(b, s);
	r = mp_file_replace(b->include, b->doc, len, 0644);
	if (r < 0) {
		snprintf(msg, msglen, "writing %s: %s", b->include, strerror(-r));
	} else {
		b->c.writes++;
		r = mc_bird_command(b->socket, "configure", msg, msglen);
		if (r >= 1000)
			r = -EINVAL;	/* 8xxx, 9xxx: BIRD refused (msg says why) */
		else if (r < 0 && !msg[0])
			snprintf(msg, msglen, "%s: %s", b->socket, strerror(-r));
	}
	if (r < 0) {
		b->c.errors++;
		b->c.last_error = r;
		b->next_try_ns = now + MP_NSEC_PER_SEC;
		return r;
	}
	b->c.reloads++;
	b->c.last_reload_real_ns = mp_clock_real_ns();
	b->pending = false;
	return 1;
}

/* ---------------------------------------------------------------- gen bird */

int mc_bird_gen(FILE *f, const struct mc_state *s, const char *include)
{
	struct mp_nl_addr net;
	char a[INET6_ADDRSTRLEN];
	const struct mc_plan *p4 = s->o->route.plan[0], *p6 = s->o->route.plan[1];
	size_t i;

	fprintf(f, "# bird.conf for site %u, from `meshctl gen bird` (meshperf %s).\n"
		"# meshctl measures every tunnel and writes their Babel costs into\n"
		"# %s (start `meshctl run --bird SOCKET` before bird: the file must exist);\n"
		"# Babel carries the site nets. Babel needs an IPv6 link-local address on\n"
		"# every tunnel, and AllowedIPs covering fe80::/64 and ff02::1:6/128:\n",
		s->self, MP_VERSION, include);
	for (i = 0; i < s->nt; i++) {
		const struct mc_tunnel *t = &s->t[i];

		fprintf(f, "#   %-16s Address = fe80::%x:%x:%d/64\n", t->ifname, t->local_site,
			t->remote_site, t->outer_family == AF_INET ? 4 : 6);
	}
	if (p4 && mc_plan_site_net(p4, s->self, &net) == 0) {
		net.bytes[3] |= 1;
		fprintf(f, "router id %s;\n", inet_ntop(AF_INET, net.bytes, a, sizeof(a)));
	}
	fputs("protocol device { scan time 10; }\n", f);
	if (p4 && mc_plan_site_net(p4, s->self, &net) == 0)
		fprintf(f, "protocol static meshperf_own4 { ipv4; route %s/%u unreachable; }\n",
			inet_ntop(AF_INET, net.bytes, a, sizeof(a)), p4->plen);
	if (p6 && mc_plan_site_net(p6, s->self, &net) == 0)
		fprintf(f, "protocol static meshperf_own6 { ipv6; route %s/%u unreachable; }\n",
			inet_ntop(AF_INET6, net.bytes, a, sizeof(a)), p6->plen);
	fputs("# one kernel protocol per table: with kernel protocols of your own, export\n"
	      "# `source = RTS_BABEL` there instead of these two\n", f);
	for (i = 0; i < 2; i++)
		if (s->o->route.plan[i])
			fprintf(f, "protocol kernel meshperf_k%c {\n"
				"\tmetric %u;\n"
				"\tipv%c { import none; export where source = RTS_BABEL; };\n"
				"}\n", i ? '6' : '4', s->o->route.metric, i ? '6' : '4');
	fputs("protocol babel meshperf {\n", f);
	for (i = 0; i < 2; i++)
		if (s->o->route.plan[i])
			/* Babel's own routes must pass too: it re-announces them
			 * (relaying) only through its export filter */
			fprintf(f, "\tipv%c { import all; export where source = RTS_BABEL || "
				"proto = \"meshperf_own%c\"; };\n", i ? '6' : '4', i ? '6' : '4');
	fprintf(f, "\tinclude \"%s\";\n}\n", include);
	return ferror(f) ? -EIO : 0;
}
