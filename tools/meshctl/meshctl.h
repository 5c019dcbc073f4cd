/* SPDX-License-Identifier: MIT */
/*
 * meshctl: the WireGuard full-mesh orchestrator. It measures every tunnel
 * with STAMP, shares the tunnel tables with the other sites over an
 * authenticated exchange, computes the best path to every site over one-way
 * costs, and installs routes of protocol 201. Shared by the tool's files:
 *
 *   main.c      subcommands, options, exit codes
 *   plan.c      the interface-name pattern and the address plan (untrusted:
 *               fuzzed)
 *   discover.c  tunnels from /etc/wireguard/\*.conf, the kernel and UAPI
 *   probe.c     STAMP probing inside every tunnel (prints nothing)
 *   path.c      the cost formula, best paths over one-way costs, hysteresis
 *   exchange.c  the exchange message codec (untrusted: fuzzed)
 *   route.c     the kernel table: install, adopt, re-align (netlink)
 *   daemon.c    the event loop of `run` and `once`, the exchange socket
 *   ctl.c       the control socket, in a thread
 *   http.c      /metrics, /v1/links, /v1/routes, /v1/paths, /v1/status
 *               (libmicrohttpd, in its thread)
 *   print.c     links, routes, paths and status through lib/out
 *   bird.c      the hand-off to BIRD 2's Babel: tunnel costs as rxcost
 *   tune.c      `tune`: the kernel settings of a mesh node, saved and restored
 */
#ifndef MESHCTL_H
#define MESHCTL_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ctl.h"
#include "mp.h"
#include "auth.h"
#include "nl.h"
#include "out.h"
#include "wg.h"

#define MC_SCHEMA "meshctl/2"
#define MC_CONF_DIR "/etc/wireguard"
#define MC_CTL_PATH MP_CTL_PATH	/* lib/ctl.h */
#define MC_PATTERN_DEFAULT "wg%L.%R_v%F"
#define MC_PLAN4_DEFAULT "10.201.%d.0/24"
#define MC_PLAN6_DEFAULT "fdac:c9:%x::/64"
#define MC_BIRD_INCLUDE "/run/meshperf/bird-babel.conf"

enum {
	MC_SITES = 256,			/* site numbers 0..255 */
	MC_NO_SITE = -1,
	MC_TUNNELS_MAX = 1024,		/* tunnels of one node */
	MC_EDGES_MAX = 2 * MC_SITES * MC_SITES,	/* directed tunnels of a mesh */
	MC_PATH_MAX = MC_SITES,		/* sites on one path, both ends included */
	MC_PORT = 5120,			/* exchange (UDP) and HTTP (TCP) */
	MC_LOSS_WINDOW = 100,		/* probes the loss and availability cover */
	MC_PATTERN_MAX = 64,		/* pattern text, with the NUL */
	MC_PLAN_MAX = 64,		/* plan template, with the NUL */
	MC_DOWN_MISSES = 3,		/* consecutive misses: the tunnel is down */
	MC_UP_REPLIES = 3,		/* consecutive replies: a down tunnel is up */
	MC_WANT_UNREACHABLE = -1,	/* want[]: a site without a path */
};

/* ---- plan.c: interface-name pattern and address plan ---- */

/*
 * A pattern is literal text with exactly one each of %L (local site),
 * %R (remote site), %F (outer family: 4 or 6); %% is a '%'. Sites are
 * decimal 0..255 without leading zeros. Default "wg%L.%R_v%F".
 */
struct mc_pattern {
	char text[MC_PATTERN_MAX];	/* as given */
};

/* Returns 0, or -EINVAL (errbuf, errlen: why, quoting the pattern). */
int mc_pattern_parse(const char *text, struct mc_pattern *ret, char *errbuf, size_t errlen);
/* Decode name with p. Returns 0 (*ret set), -EINVAL (no match), -ERANGE. */
int mc_pattern_match(const struct mc_pattern *p, const char *name, struct mp_wg_ifname *ret);
/* Write the name of n into buf. Returns its length, or -ENOSPC, -EINVAL. */
int mc_pattern_format(const struct mc_pattern *p, const struct mp_wg_ifname *n, char *buf,
		      size_t len);

/*
 * The address plan of one inner family: a template of site Y's net with
 * one %d (Y in decimal) or %x (Y in hex), e.g. "10.201.%d.0/24" and
 * "fdac:c9:%x::/64" (10.201.Y.0/24, fdac:c9:Y::/64). All 256 nets are
 * made when it is parsed.
 */
struct mc_plan {
	int family;			/* AF_INET or AF_INET6 */
	unsigned plen;			/* length of every site net, bits */
	uint8_t nets[MC_SITES][16];	/* site Y's net, host bits zero */
	char text[MC_PLAN_MAX];		/* the template, as given */
};

/* Parse a template for family (AF_INET or AF_INET6). Returns 0, or
 * -EINVAL (errbuf: why, quoting the value), -ENOMEM. */
int mc_plan_parse(const char *text, int family, struct mc_plan *ret, char *errbuf,
		  size_t errlen);
/* Site's net into *ret_addr. Returns 0, or -ERANGE (site does not fit). */
int mc_plan_site_net(const struct mc_plan *p, unsigned site, struct mp_nl_addr *ret_addr);
/* The site whose net contains addr/len (len >= plen), or -ENOENT. */
int mc_plan_site_of(const struct mc_plan *p, const struct mp_nl_addr *addr, unsigned len);

/* ---- discover.c ---- */

enum mc_tunnel_state {
	MC_ST_UNKNOWN,		/* no verdict yet (just started) */
	MC_ST_UP,		/* answering */
	MC_ST_DOWN,		/* silent, stale handshake, interface gone */
};

/* Per-tunnel measurement, kept by probe.c (all times in ns). */
struct mc_metrics {
	bool valid;			/* at least one answered probe */
	uint64_t rtt_ns;		/* smoothed RTT (RFC 6298 SRTT), for timeouts */
	uint64_t rtt_median_ns;		/* median RTT of the last 5 replies */
	uint64_t rttvar_ns;		/* RTT variation (RFC 6298 RTTVAR) */
	uint64_t last_rtt_ns;		/* the last answered probe's RTT */
	int64_t fwd_ns;			/* raw one-way delay out (T2 - T1), median of
					 * the last 5 replies */
	int64_t rev_ns;			/* raw one-way delay back (T4 - T3), median */
	int64_t last_fwd_ns;		/* the last probe's raw one-way delays */
	int64_t last_rev_ns;
	uint64_t jitter_fwd_ns;		/* RFC 3550 interarrival jitter, out */
	uint64_t jitter_rev_ns;		/* ... back */
	double loss_fwd;		/* lost out, fraction over the last window */
	double loss_rev;		/* lost back, fraction */
	double loss;			/* lost either way, fraction */
	double avail;			/* fraction of the window the tunnel was up */
	uint64_t sent;			/* probes sent, since start */
	uint64_t received;		/* replies received */
	uint64_t last_reply_mono_ns;	/* CLOCK_MONOTONIC of the last reply, 0 = never */
	uint64_t handshake_age_ns;	/* now - last WireGuard handshake; UINT64_MAX =
					 * never or unknown */
	uint64_t clock_steps;		/* steps of either clock seen in the delays */
};

struct mc_tunnel {
	char ifname[IF_NAMESIZE];	/* wgX.Y_vZ */
	unsigned local_site;		/* X */
	unsigned remote_site;		/* Y */
	int outer_family;		/* Z: AF_INET or AF_INET6 */
	int ifindex;			/* 0 = the interface does not exist */
	struct mp_nl_addr local_addr;	/* inner address probes leave from */
	struct mp_nl_addr peer_addr;	/* the peer's inner address (probe target) */
	struct mp_nl_addr peer_inner[2];	/* the peer's inner IPv4 [0] and IPv6 [1]
					 * address, family 0 = none: the gateways
					 * of the routes through this tunnel */
	uint32_t mtu_bytes;		/* link MTU */
	enum mc_tunnel_state state;	/* the probes' verdict */
	uint64_t state_since_mono_ns;	/* when state last changed */
	unsigned changes;		/* state changes since start */
	char why[64];			/* why it is down ("silent", "no interface"...) */
	struct mc_metrics m;
	int64_t cost_us;		/* cost of the edge X -> Y (path.c), when up */
	struct mc_probe *probe;		/* probe.c state, NULL when not probing */
};

struct mc_discover_opts {
	const char *conf_dir;		/* NULL: MC_CONF_DIR */
	const char *uapi_dir;		/* NULL: MP_WG_UAPI_DIR */
	const struct mc_pattern *pattern;
	int site;			/* local site, MC_NO_SITE: from the names */
};

/*
 * Read conf_dir/\*.conf (only files whose name matches the pattern), check
 * each with mp_wg_conf_load(), find the interfaces and their inner
 * addresses in the kernel. *ret_tunnels (free()) holds *ret_n tunnels,
 * sorted by remote site, then outer family. errbuf gets a one-line reason
 * on failure (the file and line of a bad conf, two local sites, ...).
 * Returns 0, or -errno: -ENOENT (no tunnel), -EINVAL (bad conf or name).
 */
int mc_discover(const struct mc_discover_opts *o, struct mp_nl *nl,
		struct mc_tunnel **ret_tunnels, size_t *ret_n, char *errbuf, size_t errlen);
/* Refresh ifindex, addresses and MTU of every tunnel from the kernel. */
int mc_discover_refresh(struct mp_nl *nl, struct mc_tunnel *t, size_t n);
/* Read the last handshake of t over UAPI (wireguard-go) into t->m. */
int mc_discover_handshake(const char *uapi_dir, struct mc_tunnel *t);

/* ---- probe.c ---- */

struct mc_probe_opts {
	uint64_t interval_ns;		/* steady probe interval (1 s) */
	uint64_t fast_interval_ns;	/* after a miss (100 ms) */
	uint64_t min_timeout_ns;	/* a reply later than max(this, RTO) is a miss */
	uint16_t port;			/* reflector port (862) */
	int64_t clock_offset_ns;	/* added to this node's stamps (tests) */
};

struct mc_probe;

/* Open t's probe socket (bound to the interface and its inner address).
 * Returns 0, or -errno. */
int mc_probe_open(struct mc_tunnel *t, const struct mc_probe_opts *o);
void mc_probe_close(struct mc_tunnel *t);
int mc_probe_fd(const struct mc_tunnel *t);
/* Whether t's socket was opened for t's present interface and addresses. */
bool mc_probe_current(const struct mc_tunnel *t);
/* Send when due, settle timeouts, update state. Returns 1 when the tunnel's
 * state or metrics changed, 0 if not, -errno. next_ns gets the next wake-up
 * (CLOCK_MONOTONIC) if earlier than its value. */
int mc_probe_tick(struct mc_tunnel *t, uint64_t now_mono_ns, uint64_t *next_ns);
/* Read replies. Returns 1 when something changed, 0, or -errno. */
int mc_probe_read(struct mc_tunnel *t, uint64_t now_mono_ns);
/* A probe of t went unanswered and the verdict is pending. */
bool mc_probe_suspect(const struct mc_tunnel *t);
/* Probe t now, unless it is already probing fast: its sibling (the other
 * outer family to the same site, over the same underlay) is suspect. */
void mc_probe_hurry(struct mc_tunnel *t, uint64_t now_mono_ns);
/* Mark t down now (interface gone, handshake stale) with the reason. */
void mc_tunnel_set_state(struct mc_tunnel *t, enum mc_tunnel_state st, const char *why,
			 uint64_t now_mono_ns);

/* ---- path.c ---- */

/*
 * The cost of a directed tunnel X -> Y, in microseconds (docs/FORMATS.md
 * and meshctl(8), "Cost"):
 *
 *   cost = fwd + jitter_weight * jitter_fwd
 *        + loss_us * loss_fwd / (1 - min(loss_fwd, 0.99))
 *        + avail_us * (1 - avail) + hop_us
 *
 * fwd is the raw one-way delay (clock offset included, may be negative);
 * the other terms are offset-free and never negative. hop_us makes a relay
 * pay for the extra forwarding: on a near tie the direct tunnel wins.
 */
struct mc_cost_weights {
	double jitter;			/* times jitter_fwd (default 1) */
	double loss_us;			/* µs at 50 % loss (default 50000) */
	double avail_us;		/* µs for a tunnel never up (default 100000) */
	double hop_us;			/* µs per tunnel (default 1000) */
};

#define MC_COST_WEIGHTS_INIT { .jitter = 1.0, .loss_us = 50000.0, .avail_us = 100000.0, \
	.hop_us = 1000.0 }

int64_t mc_cost_us(const struct mc_metrics *m, const struct mc_cost_weights *w);

/* One directed tunnel of the mesh, as the computation sees it. */
struct mc_edge {
	uint8_t from;			/* site X */
	uint8_t to;			/* site Y */
	uint8_t family;			/* outer family: 4 or 6 */
	bool up;			/* usable */
	int64_t cost_us;		/* one-way cost, raw (may be negative) */
	int64_t base_us;		/* offset-free cost: rtt/2 + penalties, >= 0 */
	int64_t jitter_us;		/* RFC 3550 jitter of the direction, >= 0 */
};

/* The best path from one site to every other (single source). */
struct mc_paths {
	unsigned src;				/* the source site */
	bool reach[MC_SITES];			/* a path exists */
	int64_t cost_us[MC_SITES];		/* its raw cost */
	int64_t base_us[MC_SITES];		/* its offset-free cost */
	int64_t jitter_us[MC_SITES];		/* its edges' jitter, summed */
	unsigned hops[MC_SITES];		/* tunnels on it */
	int32_t via_edge[MC_SITES];		/* index of the last edge into the site, -1 */
};

/*
 * Shortest paths from src over edges[0..n) (only those up), with negative
 * edges allowed (Bellman-Ford, stopping when a pass changes nothing). Ties
 * are broken by fewer hops, then by the edge order, so every node that holds
 * the same edges in the same order gets the same paths: sort them with
 * mc_edges_sort() first. Returns 0, -ELOOP (a negative cycle: inconsistent
 * data; *ret is not usable), -EINVAL.
 */
int mc_paths_compute(const struct mc_edge *edges, size_t n, unsigned src,
		     struct mc_paths *ret);
/* Sort edges by (from, to, family): the canonical order. */
void mc_edges_sort(struct mc_edge *edges, size_t n);
/*
 * The sites of the path from src to dst into sites[] (src first, dst last),
 * and the index of each edge into edges[] (one less). Returns the number of
 * sites, or -ENOENT (unreachable), -ENOSPC.
 */
int mc_paths_walk(const struct mc_paths *p, const struct mc_edge *edges, unsigned dst,
		  uint8_t *sites, int32_t *edge_idx, size_t max);

/* Hysteresis: one decision per destination site. */
struct mc_hyst_opts {
	double rel;			/* relative threshold (0.10) */
	uint64_t abs_us;		/* absolute threshold, µs (2000) */
	uint64_t dwell_ns;		/* a better path must stay better this long (5 s) */
	uint64_t holddown_ns;		/* no second non-failure switch before (20 s) */
};

#define MC_HYST_OPTS_INIT { .rel = 0.10, .abs_us = 2000, \
	.dwell_ns = 5 * MP_NSEC_PER_SEC, .holddown_ns = 20 * MP_NSEC_PER_SEC }

struct mc_choice {
	bool set;			/* a path is chosen */
	uint8_t nsites;			/* sites on the path, >= 2 */
	uint8_t sites[MC_PATH_MAX];	/* src ... dst */
	uint8_t families[MC_PATH_MAX];	/* outer family of each tunnel (4/6) */
	int64_t cost_us;		/* raw cost, last evaluation */
	int64_t base_us;		/* offset-free cost, last evaluation */
	int64_t jitter_us;		/* jitter of its edges, summed */
	uint64_t since_mono_ns;		/* chosen at */
	/* the challenger, while it waits out the dwell time */
	bool cand_set;
	uint8_t cand_hop;		/* its first hop site */
	uint8_t cand_family;		/* its first tunnel's family */
	uint64_t cand_since_mono_ns;
	unsigned switches;		/* changes of the first hop */
	char reason[32];		/* why the last switch ("failure", "better", "initial") */
};

/*
 * Decide for dst: keep c's path, or switch to the best one in p. A path
 * whose edges are not all up (or missing) is a hard failure: switch at
 * once. Otherwise switch when the best beats the current one by more than
 * max(abs_us, rel * current base cost) plus the jitter of both paths,
 * continuously (by any challenger) for dwell_ns, and the last switch is
 * older than holddown_ns; back to a path of fewer tunnels, any gain will
 * do. With a direct tunnel up, the initial choice is the best direct one.
 * A better path with the same first tunnel is taken at once (the route
 * does not change).
 * Returns 1 when the first hop changed (install the route), 0, or -errno.
 */
int mc_hyst_decide(struct mc_choice *c, const struct mc_paths *p, const struct mc_edge *edges,
		   size_t n, unsigned dst, const struct mc_hyst_opts *o, uint64_t now_mono_ns);

/* Whether every tunnel of c's path is in edges[0..n) and up. */
bool mc_choice_ok(const struct mc_choice *c, const struct mc_edge *edges, size_t n);

/* The sites of c's path as "0>3>1" into buf ("" when none). Returns the
 * length, or -ENOSPC. */
int mc_choice_format(const struct mc_choice *c, char *buf, size_t len);

/* ---- exchange.c: the authenticated tunnel-table message ---- */

enum {
	MC_X_VERSION = 1,
	MC_X_HDR_LEN = 16,		/* magic .. seq */
	MC_X_ENTRY_LEN = 32,
	MC_X_MAC_LEN = 32,		/* HMAC-SHA-256, full */
	MC_X_ENTRIES_MAX = 2 * (MC_SITES - 1),
	MC_X_MAX_LEN = MC_X_HDR_LEN + MC_X_ENTRIES_MAX * MC_X_ENTRY_LEN + MC_X_MAC_LEN,
};

/* One tunnel of the origin, as sent. */
struct mc_x_entry {
	uint8_t remote_site;		/* Y */
	uint8_t family;			/* outer: 4 or 6 */
	uint8_t state;			/* enum mc_tunnel_state */
	int32_t cost_us;		/* origin's cost of origin -> Y (raw) */
	int32_t base_us;		/* its offset-free part (>= 0) */
	uint32_t rtt_us;		/* smoothed RTT */
	int32_t fwd_us;			/* raw one-way delays */
	int32_t rev_us;
	uint16_t loss_fwd_pm;		/* per 10,000 (not per mille) over the window */
	uint16_t avail_pm;		/* per 10,000 (not per mille) */
	uint32_t jitter_us;		/* RFC 3550 jitter of origin -> Y */
};

struct mc_x_msg {
	uint8_t origin;			/* the site whose tunnels these are */
	uint8_t ttl;			/* 0: never relay; covered by the HMAC, so
					 * relays cannot lower it: one level of
					 * relaying is the receivers' rule */
	uint64_t seq;			/* origin's counter: CLOCK_REALTIME ns at creation */
	uint16_t n;			/* entries */
	struct mc_x_entry e[MC_X_ENTRIES_MAX];
};

/* Encode m into buf (len bytes) with the HMAC of key. Returns the length, or
 * -EMSGSIZE, -EINVAL. */
int mc_x_encode(const struct mc_x_msg *m, const struct mp_auth_key *key, uint8_t *buf,
		size_t len);
/* Decode and verify (HMAC first, in constant time). Returns 0, -EBADMSG
 * (HMAC), -EPROTO (magic, version, bad field), -EMSGSIZE (length). */
int mc_x_decode(const uint8_t *buf, size_t len, const struct mp_auth_key *key,
		struct mc_x_msg *ret);

/* ---- route.c ---- */

struct mc_route_cfg {
	uint32_t table;			/* routing table (254 = main) */
	uint32_t metric;		/* priority of every route meshctl installs */
	const struct mc_plan *plan[2];	/* [0] IPv4, [1] IPv6; NULL = that family off */
};

/* What the kernel holds for one site net, as the last sync found it. */
struct mc_route_state {
	int ifindex;			/* our route's device, 0 = none installed */
	bool conflict;			/* a route of another protocol holds the prefix
					 * (same table and metric): left alone */
	uint64_t changes;		/* replaces and deletes done */
};

struct mc_route_counters {
	uint64_t syncs;			/* kernel table re-reads */
	uint64_t replaced;		/* routes written (netlink replace) */
	uint64_t deleted;		/* routes removed (no path left) */
	uint64_t restored;		/* of the replaced: found missing or changed by hand */
	uint64_t conflicts;		/* prefixes held by another protocol, per sync */
	uint64_t shadowed;		/* prefixes where another protocol's route has
					 * a lower metric than ours, per sync */
	uint64_t errors;		/* netlink requests refused (table full...) */
	int last_error;			/* the last one's -errno */
};

/*
 * Make the kernel table agree with want[site] (the ifindex of the first
 * tunnel towards each site; MC_WANT_UNREACHABLE: an unreachable route, so
 * that the site's traffic never leaves outside the tunnels; 0: none) for
 * every site but self: one dump of the table, then a replace for every
 * net whose proto-201 route is missing or different, a delete for a
 * proto-201 route of a site meshctl knows nothing of. A route goes via the peer's inner address of its family
 * on that tunnel (t[]: the tunnels, nt of them), so that a reader of the
 * table (perfc --nodes) sees the next site; a device route where there is
 * none. Routes of other protocols are never changed. st[site][fam] is
 * updated. Returns the number of changes, or -errno (the dump failed).
 */
int mc_route_sync(struct mp_nl *nl, const struct mc_route_cfg *cfg, unsigned self,
		  const int want[MC_SITES], const struct mc_tunnel *t, size_t nt,
		  struct mc_route_state st[MC_SITES][2], struct mc_route_counters *c);
/*
 * The proto-201 routes of the plan's site nets already in the table (left
 * by an earlier meshctl): ret_ifindex[site] gets the device of the IPv4
 * route (else the IPv6 one), 0 for none. Returns the count, or -errno.
 */
int mc_route_adopt(struct mp_nl *nl, const struct mc_route_cfg *cfg, unsigned self,
		   int ret_ifindex[MC_SITES]);

/* ---- daemon.c ---- */

struct mc_opts {
	const char *conf_dir;		/* --conf-dir */
	const char *uapi_dir;		/* --uapi-dir (tests) */
	struct mc_pattern pattern;	/* --pattern */
	struct mc_plan plan4, plan6;	/* --plan4, --plan6 */
	bool no_v4, no_v6;		/* --plan4 none / --plan6 none */
	int site;			/* --site, MC_NO_SITE: from the names */
	const char *key_file;		/* -k: the mesh's pre-shared key */
	bool no_exchange;		/* --no-exchange: direct routes only */
	struct mc_probe_opts probe;	/* -i, --fast-interval, --timeout, --stamp-port */
	struct mc_cost_weights weights;
	struct mc_hyst_opts hyst;	/* --dwell, --hold-down, --threshold */
	struct mc_route_cfg route;	/* --table, --metric */
	bool no_routes;			/* --no-routes: measure and decide only */
	uint16_t port;			/* -p: exchange port (UDP) */
	const char *http;		/* --http ADDR[:PORT], "none" = off */
	const char *ctl_path;		/* --ctl */
	uint64_t warmup_ns;		/* --warmup: measure before the first decision */
	uint64_t duration_ns;		/* -t: run length, 0 = until stopped */
	uint64_t sync_ns;		/* kernel re-read period (1 s) */
	enum mp_format format;		/* -f */
	bool quiet, verbose;		/* -q, -v */
	bool once;			/* `once`: one round, then print */
	const char *bird;		/* --bird SOCKET: BIRD computes, NULL = meshctl */
	const char *bird_include;	/* --bird-include FILE (MC_BIRD_INCLUDE) */
};

/* Another site's table, as last accepted. */
struct mc_peer {
	bool have;			/* a table was accepted */
	uint64_t seq;			/* its seq */
	uint64_t rx_mono_ns;		/* when */
	struct mc_x_msg msg;
};

struct mc_x_counters {
	uint64_t tx;			/* messages sent (own and forwarded) */
	uint64_t forwarded;		/* of those, forwarded for another origin */
	uint64_t rx;			/* datagrams received */
	uint64_t accepted;		/* tables taken */
	uint64_t drop_malformed;	/* length, magic, version, fields */
	uint64_t drop_auth;		/* HMAC wrong: forged or another key */
	uint64_t drop_replay;		/* seq not newer than the last accepted (also
					 * a relayed copy of a table already had) */
	uint64_t drop_stale;		/* first seq of an origin too far from our clock */
	uint64_t drop_ratelimit;	/* over the source's budget */
	uint64_t drop_self;		/* claims to be from this site */
	uint64_t send_errors;		/* sends that failed (no route, buffer full) */
};

struct mc_state {
	const struct mc_opts *o;
	unsigned self;			/* local site */
	struct mc_tunnel *t;		/* this node's tunnels */
	size_t nt;
	struct mc_peer *peers[MC_SITES];	/* NULL until a table arrives */
	bool site_known[MC_SITES];	/* a tunnel or a table names it */
	struct mc_edge *edges;		/* the mesh, canonical order */
	size_t ne;
	int paths_error;		/* last mc_paths_compute() result */
	struct mc_paths paths;		/* from self */
	struct mc_choice choice[MC_SITES];
	int want[MC_SITES];		/* first tunnel's ifindex per site; 0 no
					 * route, MC_WANT_UNREACHABLE known but
					 * no path */
	struct mc_route_state rs[MC_SITES][2];
	struct mc_route_counters rc;
	struct mc_x_counters xc;
	uint64_t route_changes;		/* first-hop switches of all sites */
	uint64_t start_mono_ns;
	uint64_t start_real_ns;
	bool decided;			/* past the warm-up: routes are ours to set */
	struct mp_nl *nl;
	struct mc_bird *bird;		/* --bird: the hand-off, else NULL */
};

/* The daemon (`run`) or one round (`once`). Returns 0, 1 (`once`: a known
 * site has no route), or -errno after reporting it. */
int mc_daemon_run(const struct mc_opts *o, const struct mp_auth_key *key);
/* The index of t's tunnel with this ifindex, or -1. */
int mc_state_tunnel_by_ifindex(const struct mc_state *s, int ifindex);

/* ---- bird.c: the hand-off to BIRD 2 (Babel rxcost) ---- */

struct mc_bird;

struct mc_bird_counters {
	uint64_t writes;		/* include files written */
	uint64_t reloads;		/* `configure` BIRD took */
	uint64_t errors;		/* writes or reloads that failed */
	int last_error;			/* the last one's -errno (-EINVAL: BIRD refused) */
	uint64_t last_reload_real_ns;	/* CLOCK_REALTIME of the last reload, 0 = none */
};

/* The cost of traffic arriving on t, µs: half the RTT plus the penalties of
 * the direction towards this node (mc_cost_us()), never negative. */
int64_t mc_bird_in_cost_us(const struct mc_tunnel *t, const struct mc_cost_weights *w);
/* µs to Babel units (100 µs), within 1 .. 0xfffe. */
uint16_t mc_bird_rxcost_units(int64_t cost_us);
/* For nt tunnels (the state's, same order), BIRD's control socket at path,
 * the Babel include at include. Returns 0, -ENOMEM. */
int mc_bird_new(struct mc_bird **ret, const char *path, const char *include, size_t nt);
void mc_bird_free(struct mc_bird *b);
/*
 * One round: hysteresis per tunnel, then, when an entry changed (or a
 * write or reload is still due), write the include and `configure` BIRD.
 * Returns 1 when BIRD took a new file, 0 when nothing was due, -errno
 * (msg: a one-line reason; retried a second later).
 */
int mc_bird_step(struct mc_bird *b, const struct mc_state *s, uint64_t now, char *msg,
		 size_t msglen);
/* The rxcost written for tunnel i, 0 when excluded. */
uint16_t mc_bird_tunnel_rxcost(const struct mc_bird *b, size_t i);
const struct mc_bird_counters *mc_bird_counters(const struct mc_bird *b);
/* One command on BIRD's control socket. Returns the reply's code (< 1000:
 * done, 8xxx/9xxx: refused), or -errno; msg gets the reply's last line. */
int mc_bird_command(const char *path, const char *cmd, char *msg, size_t msglen);
/* `meshctl gen bird`: a bird.conf for this node (s: tunnels and plans). */
int mc_bird_gen(FILE *f, const struct mc_state *s, const char *include);

/* ---- print.c ---- */

int mc_print_links(struct mp_writer *w, const struct mc_state *s);
int mc_print_routes(struct mp_writer *w, struct mc_state *s);
/* The routes as a perfc/1 document (open w with that schema): the node's
 * name, site and addresses (its own site net's first) around the routes,
 * so that perfc --nodes walks the mesh over meshctl's routes. */
int mc_print_route_doc(struct mp_writer *w, struct mc_state *s);
int mc_print_paths(struct mp_writer *w, const struct mc_state *s);
int mc_print_status(struct mp_writer *w, const struct mc_state *s);
/* Prometheus: links, paths and counters as gauges. */
int mc_print_metrics(struct mp_writer *w, const struct mc_state *s);
/* Prometheus HELP of meshctl's series. */
extern const struct mp_prom_help mc_prom_help[];
/* What `once` prints: links, then paths. */
int mc_print_once(struct mp_writer *w, struct mc_state *s);

/* ---- http.c, ctl.c: threads that read the state under the loop's lock ---- */

struct mc_http;
struct mc_ctl;

/* Serve /metrics, /v1/links, /v1/routes, /v1/paths, /v1/status on addr
 * ("ADDR" or "ADDR:PORT", "[v6]:PORT"), locking *lock around every read of
 * s. Returns 0, or -errno. */
int mc_http_start(struct mc_http **ret, const char *addr, struct mc_state *s,
		  pthread_mutex_t *lock);
void mc_http_stop(struct mc_http *h);

/* Serve the control socket at path (its folder is made), locking *lock
 * while rendering. Returns 0, -EADDRINUSE (a daemon answers there), or
 * -errno. */
int mc_ctl_start(struct mc_ctl **ret, const char *path, struct mc_state *s,
		 pthread_mutex_t *lock);
/* Stop the thread, close and unlink the socket. Accepts NULL. */
void mc_ctl_stop(struct mc_ctl *c);

/* ---- tune.c ---- */

/* Where `tune --apply` keeps the values it replaced: in /run, since the
 * changes do not outlive a reboot either. */
#define MC_TUNE_STATE "/run/meshperf/tune.state"

/* `meshctl tune ...` (argv[0] is "tune"), with options of its own.
 * Returns the exit status. */
int mc_tune_main(int argc, char **argv);

#endif
