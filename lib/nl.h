/* SPDX-License-Identifier: MIT */
/*
 * nl: rtnetlink through libnl-3 — routes (list, add, replace, delete), links
 * (list, MTU get/set), addresses (list) and route/link/address events with a
 * pollable fd.
 *
 * Dumps are streamed: every object is decoded into one plain struct, reused,
 * and handed to a callback, so listing a million routes holds one route at a
 * time. A callback returning a negative
 * value stops the walk (the rest of the dump is read and dropped so the
 * socket stays usable) and that value is returned.
 *
 * Addresses are held as 16 raw bytes plus a family (AF_INET uses the first
 * 4). Kernel errors come back as the kernel's negative errno (-EEXIST,
 * -ESRCH, -ENODEV...), not as libnl NLE_* codes.
 */
#ifndef MP_NL_H
#define MP_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* meshctl's route protocol (DESIGN.md): the only routes meshctl changes. */
#define MP_NL_PROTO_MESHCTL 201

enum {
	MP_NL_NH_MAX = 64,	/* nexthops decoded per route; more are counted only */
};

/* An IPv4 or IPv6 address; family 0 = none. */
struct mp_nl_addr {
	int family;		/* AF_INET, AF_INET6, or 0 when absent */
	uint8_t bytes[16];	/* network order; AF_INET uses bytes[0..3] */
};

struct mp_nl_nexthop {
	struct mp_nl_addr gw;	/* gateway (family may differ from the route's: RTA_VIA) */
	int ifindex;		/* output interface, 0 = none */
	unsigned weight;	/* multipath weight 1..256 (rtnh_hops + 1); 1 for one path */
	unsigned flags;		/* RTNH_F_* (onlink, dead, linkdown...) */
};

struct mp_nl_route {
	int family;		/* AF_INET or AF_INET6 */
	struct mp_nl_addr dst;	/* destination prefix (family set even for default) */
	unsigned dst_len;	/* prefix length in bits */
	struct mp_nl_addr src;	/* source prefix (policy routing), family 0 = none */
	unsigned src_len;	/* its length in bits */
	unsigned type;		/* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint32_t table;		/* RT_TABLE_MAIN = 254, RT_TABLE_LOCAL = 255, ... */
	unsigned protocol;	/* RTPROT_* (kernel 2, boot 3, static 4, bird 12, meshctl 201) */
	unsigned scope;		/* RT_SCOPE_* (universe 0, link 253, host 254) */
	unsigned tos;		/* IPv4 TOS / DS field */
	unsigned flags;		/* rtm_flags: RTM_F_* and RTNH_F_* of a single path */
	bool has_priority;	/* RTA_PRIORITY present */
	uint32_t priority;	/* metric */
	struct mp_nl_addr prefsrc;	/* preferred source, family 0 = none */
	uint32_t mtu_bytes;	/* RTAX_MTU lock or not, 0 = unset */
	uint32_t nhid;		/* nexthop object id (RTA_NH_ID), 0 = none */
	int pref;		/* IPv6 router preference (RTA_PREF), -1 = absent */
	bool multipath;		/* came with RTA_MULTIPATH */
	unsigned nh_total;	/* nexthops the kernel sent (may exceed nh_count) */
	unsigned nh_count;	/* nexthops decoded into nh[] */
	struct mp_nl_nexthop nh[MP_NL_NH_MAX];	/* nh[0] is the single path */
};

struct mp_nl_link {
	int ifindex;		/* interface index */
	char name[IF_NAMESIZE];	/* interface name */
	uint32_t mtu_bytes;	/* link MTU */
	unsigned flags;		/* IFF_* */
	unsigned oper_state;	/* IF_OPER_* */
	int master;		/* ifindex of the master (bridge, vrf), 0 = none */
};

struct mp_nl_ifaddr {
	int ifindex;		/* interface index */
	struct mp_nl_addr addr;	/* the address (IFA_LOCAL, else IFA_ADDRESS) */
	struct mp_nl_addr peer;	/* point-to-point peer (IFA_ADDRESS when it differs
				 * from IFA_LOCAL), family 0 = none */
	unsigned prefix_len;	/* in bits */
	unsigned scope;		/* RT_SCOPE_* */
	unsigned flags;		/* IFA_F_* */
};

/* A filter for dumps; zero fields match everything. */
struct mp_nl_route_filter {
	int family;		/* AF_INET, AF_INET6, or AF_UNSPEC (0) for both */
	uint32_t table;		/* 0 = every table */
	int protocol;		/* -1 or 0..255; set to -1 for every protocol */
	int ifindex;		/* 0 = any; else a route with a nexthop on it */
};

#define MP_NL_ROUTE_FILTER_ALL { .family = 0, .table = 0, .protocol = -1, .ifindex = 0 }

struct mp_nl;

/*
 * Opens an rtnetlink socket (libnl). Returns 0, or -errno; *ret set on
 * success, freed with mp_nl_free().
 */
int mp_nl_new(struct mp_nl **ret);
/* Closes and frees; accepts NULL. */
void mp_nl_free(struct mp_nl *nl);

/* Called per object of a dump; obj is valid for the call only. Return 0 to go on,
 * negative to stop the walk with that value. */
typedef int (*mp_nl_route_fn)(const struct mp_nl_route *rt, void *arg);
typedef int (*mp_nl_link_fn)(const struct mp_nl_link *link, void *arg);
typedef int (*mp_nl_ifaddr_fn)(const struct mp_nl_ifaddr *a, void *arg);

/*
 * Dumps the routes matching filter (NULL: all routes of every table and
 * both families) in one request per family, calling fn for each, as the
 * kernel sends them. Cached (RTM_F_CLONED) routes are not included.
 * Returns the number of routes passed to fn, fn's negative value, or -errno.
 */
int mp_nl_route_list(struct mp_nl *nl, const struct mp_nl_route_filter *filter,
		     mp_nl_route_fn fn, void *arg);

/*
 * As mp_nl_route_list(), into a new array: *ret_routes (free() it) holds
 * *ret_count routes. Returns the count, or -errno; outputs set on success.
 */
int mp_nl_route_list_array(struct mp_nl *nl, const struct mp_nl_route_filter *filter,
			   struct mp_nl_route **ret_routes, size_t *ret_count);

/*
 * The route the kernel would take to dst, as `ip route get` shows it (a FIB
 * lookup, policy rules included): nh[0].ifindex is the output interface,
 * mtu_bytes the route's MTU or a path MTU learned for dst (0: the device's
 * MTU applies). Returns 0, or the kernel's -errno (-ENETUNREACH, -EHOSTUNREACH
 * when there is no route); *ret set on success.
 */
int mp_nl_route_get(struct mp_nl *nl, const struct mp_nl_addr *dst, struct mp_nl_route *ret);

enum mp_nl_route_op {
	MP_NL_ROUTE_ADD,	/* create; -EEXIST if the route is there */
	MP_NL_ROUTE_REPLACE,	/* create or replace atomically */
	MP_NL_ROUTE_DELETE,	/* remove; -ESRCH if absent */
};

/*
 * Adds, replaces or deletes rt (family, dst/dst_len, type, table, protocol,
 * scope, priority, prefsrc, nexthops: nh_count 0 for blackhole/unreachable/
 * prohibit, 1 for one path, more for multipath with weights; mtu_bytes).
 * A table above 255 is sent as RTA_TABLE. For DELETE, the kernel matches the
 * fields that are set (a protocol of 0 matches any protocol). Waits for the
 * kernel's answer. Returns 0, or the kernel's -errno.
 */
int mp_nl_route_change(struct mp_nl *nl, enum mp_nl_route_op op, const struct mp_nl_route *rt);

/*
 * Initialises all of rt (nexthops zeroed) as a unicast route in the main
 * table, universe scope, boot protocol, no metric, no nexthops, for family.
 * Fill in the rest.
 */
void mp_nl_route_init(struct mp_nl_route *rt, int family);

/* Dumps every link. Returns the number passed to fn, fn's value, or -errno. */
int mp_nl_link_list(struct mp_nl *nl, mp_nl_link_fn fn, void *arg);

/*
 * Reads one link by ifindex (> 0) or, when ifindex is 0, by name.
 * Returns 0, -ENODEV when there is no such link, or -errno; *ret set on success.
 */
int mp_nl_link_get(struct mp_nl *nl, int ifindex, const char *name, struct mp_nl_link *ret);

/*
 * Sets the MTU of a link given by ifindex (> 0) or by name (ifindex 0).
 * Returns 0, or the kernel's -errno (-EINVAL for an MTU the device refuses,
 * -ENODEV, -EPERM).
 */
int mp_nl_link_set_mtu(struct mp_nl *nl, int ifindex, const char *name, uint32_t mtu_bytes);

/*
 * Dumps the addresses of family (AF_UNSPEC for both). Returns the number
 * passed to fn, fn's value, or -errno.
 */
int mp_nl_ifaddr_list(struct mp_nl *nl, int family, mp_nl_ifaddr_fn fn, void *arg);

/* Event subscription. */
enum mp_nl_ev_group {
	MP_NL_EV_ROUTE4 = 1U << 0,	/* IPv4 route changes */
	MP_NL_EV_ROUTE6 = 1U << 1,	/* IPv6 route changes */
	MP_NL_EV_LINK = 1U << 2,	/* link changes */
	MP_NL_EV_ADDR = 1U << 3,	/* IPv4 and IPv6 address changes */
};

enum mp_nl_ev_type {
	MP_NL_EV_ROUTE_ADDED,	/* ev->route valid */
	MP_NL_EV_ROUTE_DELETED,	/* ev->route valid */
	MP_NL_EV_LINK_CHANGED,	/* ev->link valid (new or changed) */
	MP_NL_EV_LINK_DELETED,	/* ev->link valid */
	MP_NL_EV_ADDR_ADDED,	/* ev->addr valid */
	MP_NL_EV_ADDR_DELETED,	/* ev->addr valid */
};

struct mp_nl_event {
	enum mp_nl_ev_type type;	/* what happened */
	bool replace;			/* ROUTE_ADDED with NLM_F_REPLACE: changed in place */
	union {
		struct mp_nl_route route;
		struct mp_nl_link link;
		struct mp_nl_ifaddr addr;
	};
};

typedef int (*mp_nl_event_fn)(const struct mp_nl_event *ev, void *arg);

struct mp_nl_events;

/*
 * Subscribes to the groups (MP_NL_EV_* ORed) on a non-blocking socket of its
 * own. Returns 0, or -errno; *ret set on success.
 */
int mp_nl_events_new(struct mp_nl_events **ret, unsigned groups);
/* Closes and frees; accepts NULL. */
void mp_nl_events_free(struct mp_nl_events *ev);
/* The fd to poll() for POLLIN. */
int mp_nl_events_fd(const struct mp_nl_events *ev);

/*
 * Reads what is queued without blocking and calls fn per event (route events
 * of cached clones are skipped). Returns the number of events passed to fn
 * (0 when nothing was queued), fn's negative value, or -errno: -ENOBUFS
 * means the kernel dropped events (socket overrun): re-read the state.
 */
int mp_nl_events_read(struct mp_nl_events *ev, mp_nl_event_fn fn, void *arg);

/*
 * Whether prefix a/a_len contains b/b_len (same family, a_len <= b_len and
 * the first a_len bits equal). Returns true or false.
 */
bool mp_nl_prefix_contains(const struct mp_nl_addr *a, unsigned a_len,
			   const struct mp_nl_addr *b, unsigned b_len);

/*
 * a as a socket address with port (host order) into *ret (sockaddr_in or
 * sockaddr_in6) and its length into *ret_len.
 * Returns 0, or -EAFNOSUPPORT (family not AF_INET / AF_INET6).
 */
int mp_nl_addr_to_sockaddr(const struct mp_nl_addr *a, uint16_t port,
			   struct sockaddr_storage *ret, socklen_t *ret_len);

#endif
