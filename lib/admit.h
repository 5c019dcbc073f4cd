/* SPDX-License-Identifier: MIT */
/*
 * admit: admission control for servers, the way sshd's MaxStartups and
 * nginx's limit_conn work (bwtest -s today; usable by any server that has
 * an unauthenticated phase before a session).
 *
 * Two fixed pools, allocated once (memory does not grow with traffic):
 *  - pending: connections not yet authenticated. At most max_pending at
 *    once, at most pending_per_source from one source. A source at its cap
 *    loses its own oldest pending connection to its newest one; when the
 *    pool is full, the source holding the most pending connections loses
 *    its oldest if it holds more than the newcomer's source would with it;
 *    else the newcomer is refused. So a flooding source churns its own connections
 *    and never those of other sources. The caller closes a pending
 *    connection after handshake_ns (mp_admit_expire()).
 *  - sessions: a slot is taken only after authentication
 *    (mp_admit_auth()): at most max_sessions, at most sessions_per_source
 *    from one source, and, when budget_bps is set, the granted rates of all
 *    sessions together stay within it.
 *
 * A source is an IPv4 address, or the first v6_prefix_len bits of an IPv6
 * address (one host usually holds a whole /64). Pools are scanned
 * linearly: they are small (tens to a few thousand entries) and touched
 * once per connection, never per packet.
 *
 * Rejection log lines are rate-limited by mp_admit_log_ok().
 * Not thread-safe.
 */
#ifndef MP_ADMIT_H
#define MP_ADMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mp.h"

struct mp_admit;

enum {
	MP_ADMIT_MAX_PENDING = 32,		/* default pending pool */
	MP_ADMIT_PENDING_PER_SOURCE = 4,	/* default per-source pending cap */
	MP_ADMIT_V6_PREFIX = 64,		/* default IPv6 source prefix, bits */
	MP_ADMIT_PENDING_MAX = 1024,		/* largest pending pool (scanned squared when
						 * full) */
	MP_ADMIT_POOL_MAX = 1000000,		/* largest session pool */
	MP_ADMIT_LOG_RATE = 10,			/* rejection log lines per second */
	MP_ADMIT_LOG_BURST = 20,		/* ... at once */
};

/* Default handshake deadline of a pending connection. */
#define MP_ADMIT_HANDSHAKE_NS MP_NSEC_PER_SEC

/* Why a connection was refused or dropped; MP_ADMIT_OK is 0. */
enum mp_admit_reason {
	MP_ADMIT_OK = 0,
	MP_ADMIT_PENDING_FULL,		/* pending pool full, newcomer's source the largest */
	MP_ADMIT_EVICTED,		/* pending, dropped for a newer one (oldest first) */
	MP_ADMIT_HANDSHAKE_TIMEOUT,	/* pending past handshake_ns */
	MP_ADMIT_SESSIONS_FULL,		/* max_sessions reached */
	MP_ADMIT_SESSIONS_SOURCE,	/* sessions_per_source reached */
	MP_ADMIT_BUDGET,		/* budget_bps would be exceeded */
	MP_ADMIT_REASONS		/* number of reasons */
};

struct mp_admit_opts {
	uint32_t max_pending;		/* unauthenticated connections at once (>= 1) */
	uint32_t pending_per_source;	/* of them from one source (1..max_pending) */
	uint64_t handshake_ns;		/* deadline of a pending connection (> 0) */
	uint32_t max_sessions;		/* authenticated sessions at once (>= 1) */
	uint32_t sessions_per_source;	/* of them from one source (1..max_sessions) */
	uint64_t budget_bps;		/* sum of granted rates, bit/s; 0: none */
	unsigned v6_prefix_len;		/* IPv6 source prefix, 1..128 bits */
};

#define MP_ADMIT_OPTS_INIT {						\
	.max_pending = MP_ADMIT_MAX_PENDING,				\
	.pending_per_source = MP_ADMIT_PENDING_PER_SOURCE,		\
	.handshake_ns = MP_ADMIT_HANDSHAKE_NS,				\
	.max_sessions = 64,						\
	.sessions_per_source = 64,					\
	.v6_prefix_len = MP_ADMIT_V6_PREFIX,				\
}

struct mp_admit_counters {
	uint64_t pending;		/* gauge: pending connections now */
	uint64_t sessions;		/* gauge: sessions now */
	uint64_t budget_used_bps;	/* gauge: granted rates of the sessions now */
	uint64_t pending_admitted;	/* connections let into the pending pool */
	uint64_t sessions_admitted;	/* sessions that got a slot */
	uint64_t refused[MP_ADMIT_REASONS]; /* by reason; [MP_ADMIT_OK] unused */
	uint64_t log_suppressed;	/* rejection log lines not written */
};

/* Handles (uint32_t) name an admitted connection, pending or session. */
#define MP_ADMIT_NONE UINT32_MAX

/*
 * Allocate both pools. *ret set on success; free with mp_admit_free().
 * Returns 0, -EINVAL for bad options, -ENOMEM.
 */
int mp_admit_new(struct mp_admit **ret, const struct mp_admit_opts *opts);
/* Accepts NULL. */
void mp_admit_free(struct mp_admit *a);

/*
 * A new unauthenticated connection from src; cookie is the caller's name
 * for it (returned on eviction). Returns MP_ADMIT_OK and sets *ret_h, or
 * MP_ADMIT_PENDING_FULL (nothing taken: refuse it), or -EINVAL (src not
 * IPv4/IPv6). When another pending connection had to go for it,
 * *ret_evicted is its cookie (its slot is free already: the caller closes
 * it), else *ret_evicted is UINT64_MAX.
 */
int mp_admit_open(struct mp_admit *a, const struct sockaddr *src, uint64_t cookie,
		  uint32_t *ret_h, uint64_t *ret_evicted);

/*
 * Pending connection *h authenticated; it asks for rate_bps of the budget.
 * Returns MP_ADMIT_OK and moves *h to a session slot, or a reason
 * (MP_ADMIT_SESSIONS_FULL, _SESSIONS_SOURCE, _BUDGET: *h is released and
 * set to MP_ADMIT_NONE), or -EINVAL (*h not pending).
 */
int mp_admit_auth(struct mp_admit *a, uint32_t *h, uint64_t rate_bps);

/* Release h (pending or session; MP_ADMIT_NONE is ignored). */
void mp_admit_close(struct mp_admit *a, uint32_t h);
/* Release a pending h whose handshake deadline passed; counted. */
void mp_admit_expire(struct mp_admit *a, uint32_t h);

/* Whether a rejection may be logged now (token bucket MP_ADMIT_LOG_RATE/s,
 * burst MP_ADMIT_LOG_BURST). *ret_suppressed: lines suppressed since the
 * last one allowed (set when true is returned). */
bool mp_admit_log_ok(struct mp_admit *a, uint64_t now_ns, uint64_t *ret_suppressed);

void mp_admit_counters_get(const struct mp_admit *a, struct mp_admit_counters *ret);
/* Short name of a reason ("pending_full", "evicted", ...). */
const char *mp_admit_reason_name(int reason);
/* Pending and sessions of src now (tests, status). */
void mp_admit_source_count(const struct mp_admit *a, const struct sockaddr *src,
			   uint32_t *ret_pending, uint32_t *ret_sessions);

#endif
