/* SPDX-License-Identifier: MIT */
/*
 * Admission control (admit.h): two fixed arrays, pending slots first
 * (handles 0 .. max_pending - 1), then session slots. Every decision scans
 * one pool; a pool is small and scanned once per connection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "clock.h"

struct slot {
	bool used;
	uint16_t family;	/* AF_INET, AF_INET6 */
	uint8_t src[16];	/* the source, masked to its prefix */
	uint64_t seq;		/* admission order: oldest first */
	uint64_t rate_bps;	/* sessions: its share of the budget */
	uint64_t cookie;	/* the caller's name for it */
};

struct mp_admit {
	struct mp_admit_opts o;
	struct slot *s;		/* max_pending + max_sessions */
	uint64_t next_seq;
	uint64_t log_tat_ns;	/* GCRA theoretical arrival time of the log bucket */
	uint64_t log_suppressed;	/* since the last allowed line */
	struct mp_admit_counters cnt;
};

static const char *const reason_names[MP_ADMIT_REASONS] = {
	[MP_ADMIT_OK] = "ok",
	[MP_ADMIT_PENDING_FULL] = "pending_full",
	[MP_ADMIT_EVICTED] = "evicted",
	[MP_ADMIT_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[MP_ADMIT_SESSIONS_FULL] = "sessions_full",
	[MP_ADMIT_SESSIONS_SOURCE] = "sessions_source",
	[MP_ADMIT_BUDGET] = "budget",
};

/* The source key of sa: family and masked address. */
static int src_key(const struct mp_admit *a, const struct sockaddr *sa, struct slot *k)
{
	unsigned bits, i;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		memcpy(k->src, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(k->src, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		bits = a->o.v6_prefix_len;
		for (i = 0; i < 16; i++, bits = bits > 8 ? bits - 8 : 0)
			if (bits < 8)
				k->src[i] &= (uint8_t)(0xff00U >> bits);
	} else {
		return -EINVAL;
	}
	k->family = sa->sa_family;
	return 0;
}

static bool same_src(const struct slot *x, const struct slot *y)
{
	return x->family == y->family && !memcmp(x->src, y->src, sizeof(x->src));
}

static uint32_t n_pending(const struct mp_admit *a)
{
	return a->o.max_pending;
}

/* Used slots of k's source in [lo, hi); its oldest in *ret_oldest. */
static uint32_t count_src(const struct mp_admit *a, const struct slot *k, uint32_t lo,
			  uint32_t hi, uint32_t *ret_oldest)
{
	uint32_t i, n = 0, old = MP_ADMIT_NONE;

	for (i = lo; i < hi; i++) {
		if (!a->s[i].used || !same_src(&a->s[i], k))
			continue;
		n++;
		if (old == MP_ADMIT_NONE || a->s[i].seq < a->s[old].seq)
			old = i;
	}
	if (ret_oldest)
		*ret_oldest = old;
	return n;
}

static void slot_free(struct mp_admit *a, uint32_t i)
{
	if (i < n_pending(a)) {
		a->cnt.pending--;
	} else {
		a->cnt.sessions--;
		a->cnt.budget_used_bps -= a->s[i].rate_bps;
	}
	memset(&a->s[i], 0, sizeof(a->s[i]));
}

int mp_admit_new(struct mp_admit **ret, const struct mp_admit_opts *o)
{
	struct mp_admit *a;

	if (!ret || !o || !o->max_pending || o->max_pending > MP_ADMIT_PENDING_MAX ||
	    !o->pending_per_source || o->pending_per_source > o->max_pending ||
	    !o->handshake_ns || !o->max_sessions || o->max_sessions > MP_ADMIT_POOL_MAX ||
	    !o->sessions_per_source || o->sessions_per_source > o->max_sessions ||
	    !o->v6_prefix_len || o->v6_prefix_len > 128)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->s = calloc((size_t)o->max_pending + o->max_sessions, sizeof(*a->s));
	if (!a->s) {
		free(a);
		return -ENOMEM;
	}
	a->o = *o;
	*ret = a;
	return 0;
}

void mp_admit_free(struct mp_admit *a)
{
	if (!a)
		return;
	free(a->s);
	free(a);
}

/* The pending slot to give up for a newcomer of source k (which holds
 * `mine`), or MP_ADMIT_NONE: the oldest of the source holding the most. */
static uint32_t victim(const struct mp_admit *a, uint32_t mine)
{
	uint32_t i, n, old, best = MP_ADMIT_NONE, best_n = 0;

	for (i = 0; i < n_pending(a); i++) {
		if (!a->s[i].used)
			continue;
		n = count_src(a, &a->s[i], 0, n_pending(a), &old);
		if (n > best_n || (n == best_n && best != MP_ADMIT_NONE &&
				   a->s[old].seq < a->s[best].seq)) {
			best_n = n;
			best = old;
		}
	}
	return best_n > mine ? best : MP_ADMIT_NONE;
}

int mp_admit_open(struct mp_admit *a, const struct sockaddr *src, uint64_t cookie,
		  uint32_t *ret_h, uint64_t *ret_evicted)
{
	struct slot k;
	uint32_t i, mine, old, drop = MP_ADMIT_NONE;

	if (!a || !src || !ret_h || !ret_evicted || src_key(a, src, &k) < 0)
		return -EINVAL;
	mine = count_src(a, &k, 0, n_pending(a), &old);
	if (mine >= a->o.pending_per_source) {
		drop = old;	/* the source loses its own oldest */
	} else if (a->cnt.pending >= a->o.max_pending) {
		drop = victim(a, mine + 1);
		if (drop == MP_ADMIT_NONE) {
			a->cnt.refused[MP_ADMIT_PENDING_FULL]++;
			return MP_ADMIT_PENDING_FULL;
		}
	}
	*ret_evicted = UINT64_MAX;
	if (drop != MP_ADMIT_NONE) {
		*ret_evicted = a->s[drop].cookie;
		slot_free(a, drop);
		a->cnt.refused[MP_ADMIT_EVICTED]++;
	}
	for (i = 0; a->s[i].used; i++)
		;	/* a free one exists: pending < max_pending now */
	k.used = true;
	k.seq = a->next_seq++;
	k.cookie = cookie;
	a->s[i] = k;
	a->cnt.pending++;
	a->cnt.pending_admitted++;
	*ret_h = i;
	return MP_ADMIT_OK;
}

int mp_admit_auth(struct mp_admit *a, uint32_t *h, uint64_t rate_bps)
{
	uint32_t i, lo, hi, reason = MP_ADMIT_OK;

	if (!a || !h || *h >= n_pending(a) || !a->s[*h].used)
		return -EINVAL;
	lo = n_pending(a);
	hi = lo + a->o.max_sessions;
	if (a->cnt.sessions >= a->o.max_sessions)
		reason = MP_ADMIT_SESSIONS_FULL;
	else if (count_src(a, &a->s[*h], lo, hi, NULL) >= a->o.sessions_per_source)
		reason = MP_ADMIT_SESSIONS_SOURCE;
	else if (a->o.budget_bps && (rate_bps > a->o.budget_bps ||
				     a->cnt.budget_used_bps > a->o.budget_bps - rate_bps))
		reason = MP_ADMIT_BUDGET;
	if (reason != MP_ADMIT_OK) {
		slot_free(a, *h);
		*h = MP_ADMIT_NONE;
		a->cnt.refused[reason]++;
		return (int)reason;
	}
	for (i = lo; a->s[i].used; i++)
		;	/* sessions < max_sessions: a free one exists */
	a->s[i] = a->s[*h];
	a->s[i].rate_bps = a->o.budget_bps ? rate_bps : 0;
	slot_free(a, *h);
	a->cnt.sessions++;
	a->cnt.sessions_admitted++;
	a->cnt.budget_used_bps += a->s[i].rate_bps;
	*h = i;
	return MP_ADMIT_OK;
}

void mp_admit_close(struct mp_admit *a, uint32_t h)
{
	if (!a || h >= n_pending(a) + a->o.max_sessions || !a->s[h].used)
		return;
	slot_free(a, h);
}

void mp_admit_expire(struct mp_admit *a, uint32_t h)
{
	if (!a || h >= n_pending(a) || !a->s[h].used)
		return;
	slot_free(a, h);
	a->cnt.refused[MP_ADMIT_HANDSHAKE_TIMEOUT]++;
}

bool mp_admit_log_ok(struct mp_admit *a, uint64_t now_ns, uint64_t *ret_suppressed)
{
	const uint64_t t = MP_NSEC_PER_SEC / MP_ADMIT_LOG_RATE;

	if (!mp_gcra_take(&a->log_tat_ns, t, t * (MP_ADMIT_LOG_BURST - 1), now_ns)) {
		a->log_suppressed++;
		a->cnt.log_suppressed++;
		return false;
	}
	if (ret_suppressed)
		*ret_suppressed = a->log_suppressed;
	a->log_suppressed = 0;
	return true;
}

void mp_admit_counters_get(const struct mp_admit *a, struct mp_admit_counters *ret)
{
	*ret = a->cnt;
}

const char *mp_admit_reason_name(int reason)
{
	return reason >= 0 && reason < MP_ADMIT_REASONS ? reason_names[reason] : "unknown";
}

void mp_admit_source_count(const struct mp_admit *a, const struct sockaddr *src,
			   uint32_t *ret_pending, uint32_t *ret_sessions)
{
	struct slot k;

	*ret_pending = *ret_sessions = 0;
	if (src_key(a, src, &k) < 0)
		return;
	*ret_pending = count_src(a, &k, 0, n_pending(a), NULL);
	*ret_sessions = count_src(a, &k, n_pending(a), n_pending(a) + a->o.max_sessions, NULL);
}
