/* SPDX-License-Identifier: MIT */
/*
 * responder: the server side shared by the tools. Today: the STAMP
 * Session-Reflector (RFC 8762) behind `owd -s`, also used by pathping
 * relays, mtufind and meshctl.
 *
 * One struct mp_responder serves UDP on one or more local addresses (by
 * default the IPv4 and the IPv6 wildcard: two sockets, since AF_INET6
 * sockets are IPv6-only, see sock.h). It offers one file descriptor for
 * poll(); when it is readable, mp_responder_process() drains the sockets
 * in recvmmsg() batches and reflects every acceptable test packet.
 *
 * Reflection (docs/PROTOCOL.md, "STAMP"):
 *  - T2 is the kernel's RX timestamp; T3 is read right before sendmsg().
 *  - Stateful by default (RFC 8762 section 4): the reply's Sequence Number
 *    is the reflector's own counter for the session (source address and
 *    port, local address, SSID), from 0, so a sender can tell forward from
 *    reverse loss. Stateless mode copies the sender's number.
 *  - The reply has exactly the length of the request and leaves from the
 *    address the request was sent to (IP_PKTINFO), so it is never larger
 *    than the request. Requests below the base size (44 octets; 112 in
 *    authenticated mode) are dropped.
 *  - Authenticated mode when a key is given: a request whose HMAC is wrong
 *    or missing gets no reply.
 *  - No loops: requests from reflecting ports (echo, chargen, STAMP, ...) and
 *    requests carrying a Receive Timestamp where a sender has MBZ (i.e.
 *    another reflector's reply) are dropped.
 *  - Each source address has a token bucket (rate_pps, burst), in a table of
 *    max_sources entries; beside it one bucket for all sources together
 *    (global_pps, global_burst) caps what the reflector sends in all;
 *    sessions live in a table of max_sessions entries.
 *    Both tables are allocated once: memory does not grow with traffic.
 *
 * Not thread-safe: one thread calls process() for a given responder.
 */
#ifndef MP_RESPONDER_H
#define MP_RESPONDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mp.h"
#include "auth.h"
#include "stamp.h"

struct mp_responder;

enum {
	MP_RESPONDER_BIND_MAX = 8,		/* addresses in mp_responder_opts.bind */
	MP_RESPONDER_RATE_PPS = 10000,		/* default per-source rate */
	MP_RESPONDER_BURST = 1000,		/* default per-source burst, packets */
	MP_RESPONDER_GLOBAL_PPS = 100000,	/* default rate of all sources together */
	MP_RESPONDER_GLOBAL_BURST = 10000,	/* default burst of all sources, packets */
	MP_RESPONDER_MAX_SOURCES = 8192,	/* default rate-limit table size */
	MP_RESPONDER_MAX_SESSIONS = 4096,	/* default session table size */
	MP_RESPONDER_MAX_LEN = MP_STAMP_MAX_LEN, /* default largest request, octets:
						 * any datagram, so that mtufind finds
						 * the path's limit, not the reflector's */
};

/* Default time after which an idle session may be forgotten. */
#define MP_RESPONDER_SESSION_IDLE_NS (300ULL * MP_NSEC_PER_SEC)

struct mp_responder_opts {
	struct sockaddr_storage bind[MP_RESPONDER_BIND_MAX]; /* local addresses
					 * (sockaddr_in/in6; their port is ignored) */
	unsigned n_bind;		/* entries used in bind; 0: the wildcard of
					 * each family allowed by family */
	int family;			/* with n_bind 0: AF_UNSPEC (both), AF_INET or
					 * AF_INET6 only */
	uint16_t port;			/* UDP port; 0 picks one per socket (tests) */
	const char *ifname;		/* SO_BINDTODEVICE interface, NULL for none */
	const struct mp_auth_key *key;	/* authenticated mode if set; copied */
	bool stateless;			/* copy the sender's Sequence Number */
	bool no_loop_check;		/* also answer requests whose octets 16..23
					 * (32..39 authenticated) are not zero:
					 * TWAMP-Light senders with random padding */
	uint32_t rate_pps;		/* per source address, packets/s; 0: no limit */
	uint32_t burst;			/* packets a source may send at once (>= 1) */
	uint32_t max_sources;		/* sources rate-limited at once (LRU beyond) */
	uint32_t global_pps;		/* all sources together, packets/s; 0: no limit */
	uint32_t global_burst;		/* packets all sources may send at once (>= 1) */
	uint32_t max_sessions;		/* stateful sessions at once (>= 1) */
	uint64_t session_idle_ns;	/* idle time before a session may be reused */
	uint32_t max_len;		/* largest request reflected, octets (44..65535) */
	int64_t clock_offset_ns;	/* added to T2 and T3 as sent: a known clock
					 * error, to test how senders handle offsets
					 * (owd -s --clock-offset); 0 normally */
};

#define MP_RESPONDER_OPTS_INIT {					\
	.family = AF_UNSPEC,						\
	.port = MP_STAMP_PORT,						\
	.rate_pps = MP_RESPONDER_RATE_PPS,				\
	.burst = MP_RESPONDER_BURST,					\
	.global_pps = MP_RESPONDER_GLOBAL_PPS,				\
	.global_burst = MP_RESPONDER_GLOBAL_BURST,			\
	.max_sources = MP_RESPONDER_MAX_SOURCES,			\
	.max_sessions = MP_RESPONDER_MAX_SESSIONS,			\
	.session_idle_ns = MP_RESPONDER_SESSION_IDLE_NS,		\
	.max_len = MP_RESPONDER_MAX_LEN,				\
}

/* What happened to the datagrams received; each is counted once in
 * received and, unless reflected, in exactly one dropped_* counter. */
struct mp_responder_counters {
	uint64_t received;		/* datagrams read from the sockets */
	uint64_t reflected;		/* replies sent */
	uint64_t dropped_malformed;	/* unusable source (port 0 or a reflecting
					 * service port, non-unicast address),
					 * non-unicast destination, or a request
					 * that looks reflected (loop check) */
	uint64_t dropped_auth;		/* authenticated mode: HMAC wrong or missing
					 * (44 <= length < 112) */
	uint64_t dropped_ratelimit;	/* over the source's token bucket */
	uint64_t dropped_global;	/* within its source's bucket, over the
					 * bucket of all sources (global_pps) */
	uint64_t dropped_size;		/* below 44 octets, or above max_len */
	uint64_t dropped_sessions;	/* session table full of live sessions */
	uint64_t send_errors;		/* sendmsg() failed (buffer full, no route) */
	uint64_t sessions;		/* sessions in the table now (gauge) */
};

/*
 * Open the sockets and allocate the tables. opts as above (start from
 * MP_RESPONDER_OPTS_INIT); opts->key is copied, so the caller may wipe its
 * own. *ret set on success; free it with mp_responder_free().
 * Returns 0, or -errno: -EINVAL for bad options, -EADDRINUSE, -EACCES
 * (port below 1024 without privilege), -EAFNOSUPPORT (family not available;
 * with n_bind 0 and family AF_UNSPEC, one missing family is skipped), ...
 */
int mp_responder_new(struct mp_responder **ret, const struct mp_responder_opts *opts);

/* Close the sockets, wipe the key, free r. Accepts NULL. */
void mp_responder_free(struct mp_responder *r);

/* The one descriptor to poll() for POLLIN (an epoll set of the sockets). It
 * stays owned by r. */
int mp_responder_fd(const struct mp_responder *r);

/*
 * Read what the sockets hold (at most a few hundred datagrams per socket
 * per call, so one busy socket cannot starve the caller) and reflect it.
 * now_mono_ns is CLOCK_MONOTONIC in ns (mp_clock_mono_ns()), for the rate
 * limits and session ages. Never blocks.
 * Returns the number of replies sent, or -errno on a socket error other than
 * "nothing to read" (the counters stay valid; the caller may go on).
 */
int mp_responder_process(struct mp_responder *r, uint64_t now_mono_ns);

/* Copy the counters into *ret. */
void mp_responder_counters_get(const struct mp_responder *r,
			       struct mp_responder_counters *ret);

/*
 * The local address of socket i (0 .. number of sockets - 1), with the port
 * actually bound. *ret_addr and *ret_len set on success.
 * Returns 0, -ENOENT when there is no socket i, or -errno.
 */
int mp_responder_addr_get(const struct mp_responder *r, unsigned i,
			  struct sockaddr_storage *ret_addr, socklen_t *ret_len);

#endif
