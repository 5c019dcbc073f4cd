/* SPDX-License-Identifier: MIT */
/*
 * daemon: the event loop of `meshctl run` and `meshctl once`.
 *
 * One thread does everything but HTTP: it probes the tunnels, reflects the
 * peers' probes (lib/responder), sends and takes the exchange messages,
 * computes the paths, decides with hysteresis, and keeps the kernel table in
 * line (on netlink events and every sync period). The HTTP thread only reads
 * the state, under the same mutex the loop holds while it works.
 *
 * Order of one round: read what arrived, settle probe timeouts and send the
 * probes that are due, rebuild the edges when something changed, decide,
 * sync the routes, send the exchange. A tunnel going down skips the
 * 100 ms compute pacing: failover is never delayed by it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <netinet/in.h>

#include "args.h"
#include "clock.h"
#include "file.h"
#include "responder.h"
#include "sock.h"
#include "meshctl.h"

enum {
	RL_BUCKETS = 256,		/* exchange sources rate-limited at once */
	RL_RATE = 50,			/* messages/s per source */
	RL_BURST = 100,
	RL_FRESH = 5,			/* tokens of a source new to its bucket */
	POLL_MAX = MC_TUNNELS_MAX + 8,
	XBUF = MC_X_MAX_LEN + 64,
};

#define EXCHANGE_NS (2 * MP_NSEC_PER_SEC)
#define EXCHANGE_MIN_NS (200 * MP_NSEC_PER_MSEC)
#define PEER_EXPIRE_NS (10 * MP_NSEC_PER_SEC)
#define FIRST_SEQ_WINDOW_NS (60 * MP_NSEC_PER_SEC)
#define COMPUTE_MIN_NS (100 * MP_NSEC_PER_MSEC)
#define HANDSHAKE_CHECK_NS (5 * MP_NSEC_PER_SEC)
#define HANDSHAKE_STALE_NS (180 * MP_NSEC_PER_SEC)

/* A source address's token bucket (exchange messages, before the HMAC). */
struct bucket {
	int family;			/* AF_INET, AF_INET6; 0 = unused */
	uint8_t addr[16];		/* the source address */
	double tokens;			/* messages it may send now */
	uint64_t last_ns;		/* CLOCK_MONOTONIC of the last refill */
};

struct loop {
	struct mc_state s;			/* what the threads read under lock */
	const struct mp_auth_key *key;		/* the mesh's key (exchange) */
	pthread_mutex_t lock;			/* held by the loop but around poll() */
	struct mp_responder *resp;		/* the STAMP reflector; NULL: another */
	struct mp_sock *xs[2];			/* exchange sockets, v4 and v6 */
	struct mp_nl_events *ev;		/* route, link, address events */
	struct mc_ctl *ctl;			/* the control socket's thread */
	struct mc_http *http;			/* the HTTP server's thread */
	struct bucket rl[RL_BUCKETS];		/* exchange sources' token buckets */
	uint64_t x_seq;				/* last seq sent */
	uint64_t next_x_ns, last_x_ns;		/* next and last table sent */
	bool x_urgent;				/* a state changed: send soon */
	bool dirty, urgent;			/* recompute; without pacing */
	uint64_t last_compute_ns;		/* CLOCK_MONOTONIC of the last */
	uint64_t next_sync_ns, next_hs_ns;	/* kernel table, tunnels re-read */
	bool sync_now;				/* re-read the table this round */
	int bird_err;				/* BIRD's last failure, 0: none */
	uint8_t xbuf[XBUF];			/* an exchange message */
	struct mc_x_msg xmsg;			/* ... decoded, or to encode */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void logf_(const struct mc_opts *o, const char *fmt, ...) MP_PRINTF(2, 3);
static void logf_(const struct mc_opts *o, const char *fmt, ...)
{
	char ts[40];
	va_list ap;

	if (o->quiet)
		return;
	mp_clock_rfc3339(mp_clock_real_ns(), ts, sizeof(ts));
	va_start(ap, fmt);
	fprintf(stderr, "meshctl: %s ", ts);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int mc_state_tunnel_by_ifindex(const struct mc_state *s, int ifindex)
{
	size_t i;

	for (i = 0; ifindex > 0 && i < s->nt; i++)
		if (s->t[i].ifindex == ifindex)
			return (int)i;
	return -1;
}

static struct mc_tunnel *tunnel_to(struct mc_state *s, unsigned site, unsigned fam)
{
	size_t i;

	for (i = 0; i < s->nt; i++)
		if (s->t[i].remote_site == site &&
		    (s->t[i].outer_family == AF_INET ? 4U : 6U) == fam)
			return &s->t[i];
	return NULL;
}

/* ---------------------------------------------------------------- edges */


/* The offset-free part of an edge: half the RTT plus the penalties. */
static int64_t tunnel_base(const struct mc_state *s, const struct mc_tunnel *t)
{
	struct mc_metrics m = t->m;
	int64_t base;

	m.valid = false;	/* mc_cost_us() then leaves the delay out */
	base = (int64_t)(t->m.rtt_median_ns / 2000) + mc_cost_us(&m, &s->o->weights);
	return MP_MIN(base, INT32_MAX);
}

/* Raw one-way delays beyond a minute mean clocks that disagree too much
 * for the costs (int32 µs on the wire) to cancel: such a tunnel is no
 * edge until they agree. */
static bool tunnel_usable(const struct mc_tunnel *t)
{
	return t->state == MC_ST_UP && llabs(t->m.fwd_ns) < 60 * (int64_t)MP_NSEC_PER_SEC &&
	       llabs(t->m.rev_ns) < 60 * (int64_t)MP_NSEC_PER_SEC;
}

/* The mesh's edges: this node's tunnels and, unless own_only, the tunnels
 * of every table not expired. */
static void edges_build(struct loop *l, uint64_t now, bool own_only)
{
	struct mc_state *s = &l->s;
	size_t n = 0, i;
	unsigned o;

	for (i = 0; i < s->nt; i++) {
		struct mc_tunnel *t = &s->t[i];

		s->site_known[t->remote_site] = true;
		if (!t->m.valid)
			continue;
		t->cost_us = mc_cost_us(&t->m, &s->o->weights);
		s->edges[n++] = (struct mc_edge){
			.from = (uint8_t)s->self,
			.to = (uint8_t)t->remote_site,
			.family = t->outer_family == AF_INET ? 4 : 6,
			.up = tunnel_usable(t),
			.cost_us = t->cost_us,
			.base_us = tunnel_base(s, t),
			.jitter_us = (int64_t)(t->m.jitter_fwd_ns / 1000),
		};
	}
	for (o = 0; !own_only && o < MC_SITES; o++) {
		struct mc_peer *p = s->peers[o];

		if (!p || !p->have || o == s->self)
			continue;
		if (now - p->rx_mono_ns > PEER_EXPIRE_NS)
			continue;	/* expired: its edges are not used */
		for (i = 0; i < p->msg.n; i++) {
			const struct mc_x_entry *e = &p->msg.e[i];

			s->site_known[e->remote_site] = true;
			if (n >= MC_EDGES_MAX)
				break;
			s->edges[n++] = (struct mc_edge){
				.from = (uint8_t)o,
				.to = e->remote_site,
				.family = e->family,
				.up = e->state == MC_ST_UP,
				.cost_us = e->cost_us,
				.base_us = e->base_us,
				.jitter_us = e->jitter_us,
			};
		}
	}
	mc_edges_sort(s->edges, n);
	s->ne = n;
}

/* ---------------------------------------------------------------- decisions */

static int first_ifindex(struct mc_state *s, const struct mc_choice *c)
{
	struct mc_tunnel *t;

	if (!c->set || c->nsites < 2)
		return 0;
	t = tunnel_to(s, c->sites[1], c->families[0]);
	return t ? t->ifindex : 0;
}

/* One site: hysteresis, then the route it wants. */
static void decide_site(struct loop *l, unsigned site, uint64_t now)
{
	struct mc_state *s = &l->s;
	struct mc_choice *c = &s->choice[site];
	bool waiting = c->cand_set;
	int old = s->want[site], r, i;
	char path[MC_PATH_MAX * 4];

	r = mc_hyst_decide(c, &s->paths, s->edges, s->ne, site, &s->o->hyst, now);
	if (r < 0)
		return;
	if (s->o->verbose && c->cand_set && !waiting)
		logf_(s->o, "site %u: a better path by %.3f ms, first hop site %u: waiting %.1f s",
		      site, (double)(c->cost_us - s->paths.cost_us[site]) / 1e3, c->cand_hop,
		      (double)s->o->hyst.dwell_ns / 1e9);
	/* a site known but with no path gets an unreachable route: its
	 * traffic must not leave by another route, outside the tunnels */
	s->want[site] = c->set ? first_ifindex(s, c) : MC_WANT_UNREACHABLE;
	if (s->want[site] == old)
		return;
	/* the first route of a site is no change */
	if (old)
		s->route_changes++;
	i = mc_state_tunnel_by_ifindex(s, s->want[site]);
	mc_choice_format(c, path, sizeof(path));
	logf_(s->o, "site %u: %s (%s%s%s)", site, i >= 0 ? s->t[i].ifname : "no route", path,
	      *path ? ", " : "", c->set ? c->reason : "unreachable");
	l->sync_now = true;
}

static void decide(struct loop *l, uint64_t now)
{
	struct mc_state *s = &l->s;
	bool broken[MC_SITES];
	unsigned site;
	int r;

	l->last_compute_ns = now;
	l->dirty = l->urgent = false;
	edges_build(l, now, false);
	r = mc_paths_compute(s->edges, s->ne, s->self, &s->paths);
	if (r < 0 && r != s->paths_error)
		logf_(s->o, "the mesh's tables do not add up (%s): paths kept, failures "
		      "over direct tunnels only", strerror(-r));
	s->paths_error = r;
	if (r == 0) {
		for (site = 0; site < MC_SITES; site++)
			if (site != s->self && s->site_known[site])
				decide_site(l, site, now);
		return;
	}
	/* inconsistent tables: a negative cycle, for the few probes after a
	 * clock stepped, or from a key holder that lies. Paths that work
	 * stay; a broken one fails over to this node's own tunnels. */
	for (site = 0; site < MC_SITES; site++)
		broken[site] = site != s->self && s->site_known[site] &&
			       !mc_choice_ok(&s->choice[site], s->edges, s->ne);
	edges_build(l, now, true);
	if (mc_paths_compute(s->edges, s->ne, s->self, &s->paths) < 0)
		return;
	for (site = 0; site < MC_SITES; site++)
		if (broken[site])
			decide_site(l, site, now);
}

/* ---------------------------------------------------------------- exchange */

static int xsock_open(struct loop *l, int family, uint16_t port)
{
	struct sockaddr_storage a;
	struct mp_sock *sk;
	int r, len;

	len = mp_addr_any(family, port, &a);
	if (len < 0)
		return len;
	r = mp_sock_open(&sk, family, SOCK_DGRAM, 0, MP_SOCK_NONBLOCK);
	if (r < 0)
		return r;
	r = mp_sock_bind(sk, (struct sockaddr *)&a, (socklen_t)len, NULL);
	if (r < 0) {
		mp_sock_free(sk);
		return r;
	}
	l->xs[family == AF_INET6] = sk;
	return 0;
}

/* Send buf to site over its first up tunnel. */
static int x_send_to(struct loop *l, unsigned site, const uint8_t *buf, size_t len)
{
	struct mc_state *s = &l->s;
	struct sockaddr_storage dst;
	socklen_t dlen;
	size_t i;
	int r;

	for (i = 0; i < s->nt; i++) {
		struct mc_tunnel *t = &s->t[i];
		struct mp_sock *sk;

		if (t->remote_site != site || t->state != MC_ST_UP || !t->peer_addr.family)
			continue;
		sk = l->xs[t->peer_addr.family == AF_INET6];
		if (!sk)
			continue;
		mp_nl_addr_to_sockaddr(&t->peer_addr, s->o->port, &dst, &dlen);
		r = mp_sock_send(sk, buf, len, (struct sockaddr *)&dst, dlen, NULL);
		if (r < 0) {
			s->xc.send_errors++;
			continue;
		}
		s->xc.tx++;
		return 0;
	}
	return -EHOSTUNREACH;
}

static void x_send_own(struct loop *l, uint64_t now)
{
	struct mc_state *s = &l->s;
	struct mc_x_msg *m = &l->xmsg;
	bool sent_to[MC_SITES] = { false };
	size_t i;
	int len;

	memset(m, 0, offsetof(struct mc_x_msg, e));
	l->x_seq = MP_MAX(mp_clock_real_ns() + (uint64_t)s->o->probe.clock_offset_ns,
			  l->x_seq + 1);
	m->origin = (uint8_t)s->self;
	m->ttl = 1;
	m->seq = l->x_seq;
	for (i = 0; i < s->nt && m->n < MC_X_ENTRIES_MAX; i++) {
		const struct mc_tunnel *t = &s->t[i];
		struct mc_x_entry *e = &m->e[m->n];

		if (!t->m.valid && t->state != MC_ST_DOWN)
			continue;
		if (t->m.valid)
			s->t[i].cost_us = mc_cost_us(&t->m, &s->o->weights);
		*e = (struct mc_x_entry){
			.remote_site = (uint8_t)t->remote_site,
			.family = t->outer_family == AF_INET ? 4 : 6,
			.state = (uint8_t)(t->state == MC_ST_UP && !tunnel_usable(t) ? MC_ST_DOWN
										: t->state),
			.cost_us = (int32_t)t->cost_us,
			.base_us = (int32_t)MP_MAX(tunnel_base(s, t), 0),
			.rtt_us = (uint32_t)MP_MIN(t->m.rtt_median_ns / 1000, UINT32_MAX),
			.fwd_us = (int32_t)MP_MAX(MP_MIN(t->m.fwd_ns / 1000, INT32_MAX), INT32_MIN),
			.rev_us = (int32_t)MP_MAX(MP_MIN(t->m.rev_ns / 1000, INT32_MAX), INT32_MIN),
			.loss_fwd_pm = (uint16_t)(t->m.loss_fwd * 10000 + 0.5),
			.avail_pm = (uint16_t)(t->m.avail * 10000 + 0.5),
			.jitter_us = (uint32_t)MP_MIN(t->m.jitter_fwd_ns / 1000, UINT32_MAX),
		};
		if (!t->m.valid)
			e->state = MC_ST_DOWN;
		m->n++;
	}
	len = mc_x_encode(m, l->key, l->xbuf, sizeof(l->xbuf));
	if (len < 0)
		return;
	for (i = 0; i < s->nt; i++) {
		unsigned site = s->t[i].remote_site;

		if (sent_to[site])
			continue;
		if (x_send_to(l, site, l->xbuf, (size_t)len) == 0)
			sent_to[site] = true;
	}
	l->last_x_ns = now;
	l->next_x_ns = now + EXCHANGE_NS;
	l->x_urgent = false;
}

static bool rate_ok(struct loop *l, const struct sockaddr_storage *src, uint64_t now)
{
	const uint8_t *a = src->ss_family == AF_INET6 ?
		(const uint8_t *)&((const struct sockaddr_in6 *)src)->sin6_addr :
		(const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr;
	size_t i, n = src->ss_family == AF_INET6 ? 16 : 4;
	uint32_t h = 2166136261u;
	struct bucket *b;

	/* FNV-1a over the address only: another port is the same source */
	for (i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	b = &l->rl[h % RL_BUCKETS];
	if (b->family != src->ss_family || memcmp(b->addr, a, n)) {
		/* a source new to the bucket starts with a few tokens, not a
		 * full burst: taking a bucket over must not pay */
		b->family = src->ss_family;
		memcpy(b->addr, a, n);
		b->tokens = RL_FRESH;
		b->last_ns = now;
	}
	b->tokens = MP_MIN((double)RL_BURST,
			   b->tokens + (double)(now - b->last_ns) * RL_RATE / 1e9);
	b->last_ns = now;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

static bool from_origin(const struct mc_state *s, unsigned origin,
			const struct sockaddr_storage *src)
{
	size_t i;

	for (i = 0; i < s->nt; i++) {
		const struct mc_tunnel *t = &s->t[i];
		const void *a = src->ss_family == AF_INET ?
			(const void *)&((const struct sockaddr_in *)src)->sin_addr :
			(const void *)&((const struct sockaddr_in6 *)src)->sin6_addr;

		if (t->remote_site == origin && t->peer_addr.family == src->ss_family &&
		    !memcmp(t->peer_addr.bytes, a, src->ss_family == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

/* One level of relaying: a table that came straight from its origin goes on
 * to the sites the origin cannot reach directly. */
static void x_forward(struct loop *l, const struct mc_x_msg *m, const uint8_t *buf, size_t len)
{
	struct mc_state *s = &l->s;
	bool up_to[MC_SITES] = { false }, done[MC_SITES] = { false };
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].state == MC_ST_UP)
			up_to[m->e[i].remote_site] = true;
	for (i = 0; i < s->nt; i++) {
		unsigned z = s->t[i].remote_site;

		if (z == m->origin || up_to[z] || done[z])
			continue;
		done[z] = true;
		if (x_send_to(l, z, buf, len) == 0)
			s->xc.forwarded++;
	}
}

static void x_receive(struct loop *l, struct mp_sock *sk, uint64_t now)
{
	struct mc_state *s = &l->s;
	struct mc_x_msg *m = &l->xmsg;
	struct mp_msg msg = { .buf = l->xbuf, .buf_len = sizeof(l->xbuf) };
	int n, r, budget = 64;

	while (budget-- > 0) {
		struct mc_peer *p;

		n = mp_sock_recv(sk, &msg);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			continue;
		s->xc.rx++;
		if (!rate_ok(l, &msg.src, now)) {
			s->xc.drop_ratelimit++;
			continue;
		}
		if (msg.truncated) {
			s->xc.drop_malformed++;
			continue;
		}
		r = mc_x_decode(l->xbuf, msg.len, l->key, m);
		if (r == -EBADMSG) {
			s->xc.drop_auth++;
			continue;
		}
		if (r < 0) {
			s->xc.drop_malformed++;
			continue;
		}
		if (m->origin == s->self) {
			s->xc.drop_self++;
			continue;
		}
		p = s->peers[m->origin];
		if (p && p->have && m->seq <= p->seq) {
			s->xc.drop_replay++;
			continue;
		}
		if (!p || !p->have) {
			uint64_t us = mp_clock_real_ns();
			uint64_t d = m->seq > us ? m->seq - us : us - m->seq;

			if (d > FIRST_SEQ_WINDOW_NS) {
				s->xc.drop_stale++;
				continue;
			}
		}
		if (!p) {
			p = calloc(1, sizeof(*p));
			if (!p)
				continue;
			s->peers[m->origin] = p;
		}
		p->have = true;
		p->seq = m->seq;
		p->rx_mono_ns = now;
		p->msg = *m;
		s->xc.accepted++;
		s->site_known[m->origin] = true;
		l->dirty = true;
		if (m->ttl && from_origin(s, m->origin, &msg.src))
			x_forward(l, m, l->xbuf, msg.len);
	}
}

/* ---------------------------------------------------------------- netlink events */

static int ev_fn(const struct mp_nl_event *e, void *arg)
{
	struct loop *l = arg;

	switch (e->type) {
	case MP_NL_EV_ROUTE_ADDED:
	case MP_NL_EV_ROUTE_DELETED:
		if (e->route.table == l->s.o->route.table)
			l->sync_now = true;
		break;
	case MP_NL_EV_LINK_CHANGED:
	case MP_NL_EV_LINK_DELETED:
	case MP_NL_EV_ADDR_ADDED:
	case MP_NL_EV_ADDR_DELETED:
		l->next_hs_ns = 0;	/* re-read the tunnels now */
		break;
	}
	return 0;
}

/* ---------------------------------------------------------------- set-up */

static void adopt(struct loop *l, uint64_t now)
{
	struct mc_state *s = &l->s;
	int ifx[MC_SITES];
	unsigned site;

	if (mc_route_adopt(s->nl, &s->o->route, s->self, ifx) <= 0)
		return;
	for (site = 0; site < MC_SITES; site++) {
		struct mc_choice *c = &s->choice[site];
		int i = mc_state_tunnel_by_ifindex(s, ifx[site]);
		const struct mc_tunnel *t;

		if (i < 0 || site == s->self)
			continue;
		t = &s->t[i];
		c->set = true;
		c->sites[0] = (uint8_t)s->self;
		c->sites[1] = (uint8_t)t->remote_site;
		c->families[0] = t->outer_family == AF_INET ? 4 : 6;
		c->nsites = 2;
		if (t->remote_site != site) {
			/* a relay: assume the relay goes direct; the first
			 * computation corrects the rest of the path */
			c->sites[2] = (uint8_t)site;
			c->families[1] = c->families[0];
			c->nsites = 3;
		}
		c->since_mono_ns = now > s->o->hyst.holddown_ns ? now - s->o->hyst.holddown_ns : 0;
		snprintf(c->reason, sizeof(c->reason), "adopted");
		s->want[site] = ifx[site];
		s->site_known[site] = true;
		logf_(s->o, "site %u: %s (adopted)", site, t->ifname);
	}
}

/* ---------------------------------------------------------------- BIRD */

static const char *bird_include(const struct mc_opts *o)
{
	return o->bird_include ? o->bird_include : MC_BIRD_INCLUDE;
}

static int bird_setup(struct loop *l)
{
	struct mc_state *s = &l->s;
	const char *inc = bird_include(s->o);
	const char *slash = strrchr(inc, '/');
	char dir[256];
	int r;

	r = mc_bird_new(&s->bird, s->o->bird, inc, s->nt);
	if (r < 0)
		return r;
	/* /run/meshperf/ may be new, as for the control socket */
	if (slash && slash != inc && (size_t)(slash - inc) < sizeof(dir)) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - inc), inc);
		mkdir(dir, 0755);
	}
	/* bird cannot start without the file: an empty one until the first
	 * verdicts; one left by an earlier meshctl stays until then, so that
	 * a restart moves no route */
	if (access(inc, F_OK) < 0) {
		static const char empty[] = "# meshctl: no tunnel measured yet\n";

		r = mp_file_replace(inc, empty, sizeof(empty) - 1, 0644);
		if (r < 0) {
			mp_warn(r, "BIRD include %s", inc);
			return r;
		}
	}
	logf_(s->o, "BIRD at %s computes the paths; tunnel costs go to %s", s->o->bird, inc);
	return 0;
}

/* After the warm-up: the tunnels' costs to BIRD, when they changed. A
 * failure is logged once, and its end. */
static void bird_round(struct loop *l, uint64_t now)
{
	struct mc_state *s = &l->s;
	char msg[256];
	int r;

	for (size_t i = 0; i < s->nt; i++)	/* for show links: no path computation */
		s->t[i].cost_us = s->t[i].m.valid ? mc_cost_us(&s->t[i].m, &s->o->weights) : 0;
	r = mc_bird_step(s->bird, s, now, msg, sizeof(msg));
	if (r < 0 && r != l->bird_err)
		logf_(s->o, "BIRD: %s (retrying every second)", msg);
	else if (r > 0 && (l->bird_err || s->o->verbose))
		logf_(s->o, "BIRD: new tunnel costs taken (%s)", msg);
	if (r != 0)
		l->bird_err = r < 0 ? r : 0;
}

/* The control socket's and the HTTP server's threads. SIGINT and SIGTERM
 * stay with the loop: the threads start with them blocked. */
static int threads_start(struct loop *l)
{
	const struct mc_opts *o = l->s.o;
	sigset_t set, old;
	int r = 0;

	if (o->once)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (o->ctl_path && *o->ctl_path) {
		r = mc_ctl_start(&l->ctl, o->ctl_path, &l->s, &l->lock);
		if (r < 0)
			mp_warn(r, "control socket %s", o->ctl_path);
	}
	if (r >= 0 && o->http && strcmp(o->http, "none")) {
		r = mc_http_start(&l->http, o->http, &l->s, &l->lock);
		if (r < 0)
			mp_warn(r, "HTTP server on %s", o->http);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int setup(struct loop *l, const struct mc_opts *o)
{
	struct mc_state *s = &l->s;
	struct mc_discover_opts d = {
		.conf_dir = o->conf_dir, .uapi_dir = o->uapi_dir,
		.pattern = &o->pattern, .site = o->site,
	};
	struct mp_responder_opts ro = MP_RESPONDER_OPTS_INIT;
	char why[256];
	size_t i;
	int r;

	s->o = o;
	s->start_mono_ns = mp_clock_mono_ns();
	s->start_real_ns = mp_clock_real_ns();
	r = mp_nl_new(&s->nl);
	if (r < 0) {
		mp_warn(r, "netlink");
		return r;
	}
	r = mc_discover(&d, s->nl, &s->t, &s->nt, why, sizeof(why));
	if (r < 0) {
		if (r == -EINVAL || r == -ENOENT)
			mp_warnx("%s", why);
		else
			mp_warn(r, "reading %s", why);
		return r;
	}
	s->self = s->t[0].local_site;
	s->edges = calloc(MC_EDGES_MAX, sizeof(*s->edges));
	if (!s->edges)
		return -ENOMEM;
	for (i = 0; i < s->nt; i++) {
		struct mc_tunnel *t = &s->t[i];

		s->site_known[t->remote_site] = true;
		if (!t->ifindex) {
			mc_tunnel_set_state(t, MC_ST_DOWN, "no interface", s->start_mono_ns);
			logf_(o, "%s: no such interface (down until it appears)", t->ifname);
			continue;
		}
		r = mc_probe_open(t, &o->probe);
		if (r < 0) {
			mc_tunnel_set_state(t, MC_ST_DOWN, "no inner address", s->start_mono_ns);
			logf_(o, "%s: cannot probe: %s", t->ifname,
			      r == -EADDRNOTAVAIL ? "no point-to-point inner address"
						  : strerror(-r));
		}
	}
	ro.port = o->probe.port;
	ro.clock_offset_ns = o->probe.clock_offset_ns;
	r = mp_responder_new(&l->resp, &ro);
	if (r == -EADDRINUSE) {
		/* owd -s (or another reflector) serves the port: the peers'
		 * probes are answered all the same */
		logf_(o, "UDP port %u is taken: the STAMP reflector there answers the peers",
		      o->probe.port);
	} else if (r < 0) {
		mp_warn(r, "STAMP reflector on port %u", o->probe.port);
		return r;
	}
	if (!o->no_exchange) {
		r = xsock_open(l, AF_INET, o->port);
		if (r >= 0)
			r = xsock_open(l, AF_INET6, o->port);
		if (r < 0) {
			mp_warn(r, "exchange socket on UDP port %u", o->port);
			return r;
		}
	}
	r = mp_nl_events_new(&l->ev, MP_NL_EV_ROUTE4 | MP_NL_EV_ROUTE6 | MP_NL_EV_LINK |
				     MP_NL_EV_ADDR);
	if (r < 0) {
		mp_warn(r, "netlink events");
		return r;
	}
	if (o->bird) {
		r = bird_setup(l);
		if (r < 0)
			return r;
	}
	r = threads_start(l);
	if (r < 0)
		return r;
	/* with BIRD, this node's proto-201 routes are left over: they go */
	if (!o->no_routes && !o->bird)
		adopt(l, s->start_mono_ns);
	return 0;
}

static void teardown(struct loop *l)
{
	struct mc_state *s = &l->s;
	size_t i;

	mc_http_stop(l->http);
	mc_ctl_stop(l->ctl);
	for (i = 0; i < s->nt; i++)
		mc_probe_close(&s->t[i]);
	for (i = 0; i < MC_SITES; i++)
		free(s->peers[i]);
	mp_sock_free(l->xs[0]);
	mp_sock_free(l->xs[1]);
	mp_responder_free(l->resp);
	mp_nl_events_free(l->ev);
	mp_nl_free(s->nl);
	mc_bird_free(s->bird);
	free(s->edges);
	free(s->t);
}

/* ---------------------------------------------------------------- the loop */

/* Interfaces that came or went, addresses, and the WireGuard handshakes. */
static void tunnels_check(struct loop *l, uint64_t now)
{
	struct mc_state *s = &l->s;
	size_t i;

	mc_discover_refresh(s->nl, s->t, s->nt);
	for (i = 0; i < s->nt; i++) {
		struct mc_tunnel *t = &s->t[i];
		enum mc_tunnel_state st = t->state;

		if (!t->ifindex || !t->peer_addr.family) {
			mc_probe_close(t);
			mc_tunnel_set_state(t, MC_ST_DOWN, t->ifindex ? "no inner address" :
					    "no interface", now);
		} else {
			/* a new interface or new addresses: a new socket */
			if ((!t->probe || !mc_probe_current(t)) &&
			    mc_probe_open(t, &s->o->probe) == 0 && t->state == MC_ST_DOWN)
				mc_tunnel_set_state(t, MC_ST_UNKNOWN, "starting", now);
			if (mc_discover_handshake(s->o->uapi_dir, t) == 0 && t->m.valid &&
			    t->m.handshake_age_ns != UINT64_MAX &&
			    t->m.handshake_age_ns > HANDSHAKE_STALE_NS)
				mc_tunnel_set_state(t, MC_ST_DOWN, "handshake stale", now);
		}
		if (st != t->state) {
			logf_(s->o, "%s: %s%s%s", t->ifname, t->state == MC_ST_UP ? "up" : "down",
			      *t->why ? ": " : "", t->why);
			l->urgent = l->dirty = l->x_urgent = true;
		}
	}
	l->next_hs_ns = now + HANDSHAKE_CHECK_NS;
}

/* Every tunnel's replies, timeouts and due probes. */
static void probes_round(struct loop *l, uint64_t now, uint64_t *next)
{
	struct mc_state *s = &l->s;
	size_t i;
	int r;

	for (i = 0; i < s->nt; i++) {
		struct mc_tunnel *t = &s->t[i];
		enum mc_tunnel_state st = t->state;
		uint64_t steps = t->m.clock_steps;

		if (mc_probe_read(t, now) > 0)
			l->dirty = true;
		/* a clock stepped: the other sites should see the new costs
		 * as soon as this node's own */
		if (t->m.clock_steps != steps)
			l->x_urgent = true;
		if (mc_probe_tick(t, now, next) > 0)
			l->dirty = true;
		if (st != t->state) {
			logf_(s->o, "%s: %s%s%s", t->ifname, t->state == MC_ST_UP ? "up" : "down",
			      *t->why ? ": " : "", t->why);
			l->urgent = l->x_urgent = true;
		}
	}
	/* a silent tunnel's siblings share its underlay: ask them at once,
	 * so that both outer families of a failed pair go down together */
	for (i = 0; i < s->nt; i++) {
		size_t j;

		if (!mc_probe_suspect(&s->t[i]))
			continue;
		for (j = 0; j < s->nt; j++)
			if (j != i && s->t[j].remote_site == s->t[i].remote_site) {
				mc_probe_hurry(&s->t[j], now);
				r = mc_probe_tick(&s->t[j], now, next);
				l->dirty |= r > 0;
			}
	}
}

static int round_(struct loop *l, uint64_t now, uint64_t *next)
{
	struct mc_state *s = &l->s;
	size_t i;
	int r;

	if (l->resp)
		mp_responder_process(l->resp, now);
	for (i = 0; i < 2; i++)
		if (l->xs[i])
			x_receive(l, l->xs[i], now);
	if (mp_nl_events_read(l->ev, ev_fn, l) == -ENOBUFS)
		l->sync_now = true;
	if (now >= l->next_hs_ns)
		tunnels_check(l, now);
	probes_round(l, now, next);
	if (!s->decided && now - s->start_mono_ns >= s->o->warmup_ns) {
		s->decided = true;
		l->urgent = l->dirty = true;
	}
	if (s->bird && s->decided)
		bird_round(l, now);
	else if (s->decided && l->dirty &&
		 (l->urgent || now - l->last_compute_ns >= COMPUTE_MIN_NS))
		decide(l, now);
	else if (s->decided && l->dirty && l->last_compute_ns + COMPUTE_MIN_NS < *next)
		*next = l->last_compute_ns + COMPUTE_MIN_NS;
	if (s->decided && !s->o->no_routes && (l->sync_now || now >= l->next_sync_ns)) {
		r = mc_route_sync(s->nl, &s->o->route, s->self, s->want, s->t, s->nt, s->rs,
				  &s->rc);
		if (r < 0)
			s->rc.last_error = r;
		l->sync_now = false;
		l->next_sync_ns = now + s->o->sync_ns;
	}
	if (!s->o->no_exchange &&
	    (now >= l->next_x_ns || (l->x_urgent && now - l->last_x_ns >= EXCHANGE_MIN_NS)))
		x_send_own(l, now);
	if (!s->o->no_exchange) {
		if (l->x_urgent && l->last_x_ns + EXCHANGE_MIN_NS < *next)
			*next = l->last_x_ns + EXCHANGE_MIN_NS;
		*next = MP_MIN(*next, l->next_x_ns);
	}
	*next = MP_MIN(*next, l->next_hs_ns);
	if (s->decided && !s->o->no_routes)
		*next = MP_MIN(*next, l->next_sync_ns);
	else if (!s->decided)
		*next = MP_MIN(*next, s->start_mono_ns + s->o->warmup_ns);
	return 0;
}

static int poll_fds(struct loop *l, struct pollfd *pfd)
{
	struct mc_state *s = &l->s;
	size_t i;
	int n = 0;

	if (l->resp)
		pfd[n++] = (struct pollfd){ .fd = mp_responder_fd(l->resp), .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = mp_nl_events_fd(l->ev), .events = POLLIN };
	for (i = 0; i < 2; i++)
		if (l->xs[i])
			pfd[n++] = (struct pollfd){ .fd = mp_sock_fd(l->xs[i]), .events = POLLIN };
	for (i = 0; i < s->nt; i++)
		if (s->t[i].probe)
			pfd[n++] = (struct pollfd){ .fd = mc_probe_fd(&s->t[i]), .events = POLLIN };
	return n;
}

/* Sites named by a tunnel or a table that have no route. */
static unsigned unreachable(const struct mc_state *s)
{
	unsigned site, n = 0;

	for (site = 0; site < MC_SITES; site++)
		n += site != s->self && s->site_known[site] && s->want[site] <= 0;
	return n;
}

static int print_once(struct loop *l)
{
	struct mp_writer *w = NULL;
	int r;

	r = mp_writer_new(&w, l->s.o->format, stdout, "meshctl", MC_SCHEMA);
	if (r < 0)
		return r;
	mp_writer_prom_help(w, mc_prom_help);
	mp_writer_set_live(w, false);	/* a listing at once (ctl.c) */
	r = mc_print_once(w, &l->s);
	return mp_writer_close(w) < 0 ? -EIO : r;
}

int mc_daemon_run(const struct mc_opts *o, const struct mp_auth_key *key)
{
	static struct pollfd pfd[POLL_MAX];
	struct sigaction sa = { .sa_handler = on_signal };
	struct loop *l;
	uint64_t now, end;
	int r, n;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->key = key;
	pthread_mutex_init(&l->lock, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_lock(&l->lock);
	r = setup(l, o);
	if (r < 0)
		goto out;
	now = mp_clock_mono_ns();
	end = o->duration_ns ? now + o->duration_ns : UINT64_MAX;
	l->next_hs_ns = now + HANDSHAKE_CHECK_NS;
	while (!stop) {
		uint64_t next = now + MP_NSEC_PER_SEC;
		int timeout_ms;

		round_(l, now, &next);
		if (o->once && l->s.decided && !l->dirty)
			break;
		if (now >= end)
			break;
		n = poll_fds(l, pfd);
		now = mp_clock_mono_ns();
		next = MP_MIN(next, end);
		timeout_ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		pthread_mutex_unlock(&l->lock);
		r = poll(pfd, (nfds_t)n, timeout_ms);
		r = r < 0 ? -errno : r;
		pthread_mutex_lock(&l->lock);
		if (r < 0 && r != -EINTR) {
			mp_warn(r, "poll");
			goto out;
		}
		now = mp_clock_mono_ns();
	}
	r = 0;
	if (o->once) {
		if (!o->no_routes) {
			r = mc_route_sync(l->s.nl, &o->route, l->s.self, l->s.want, l->s.t,
					  l->s.nt, l->s.rs, &l->s.rc);
			if (r < 0)
				mp_warn(r, "installing routes");
		}
		r = print_once(l);
		if (r == 0)
			r = unreachable(&l->s) ? 1 : 0;
	}
out:
	/* the threads may wait for the lock: let go before stopping them */
	pthread_mutex_unlock(&l->lock);
	teardown(l);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return r;
}
