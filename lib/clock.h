/* SPDX-License-Identifier: MIT */
/*
 * Time in nanoseconds: clock reads, NTP timestamps (RFC 5905, as carried by
 * STAMP, RFC 8762), the kernel's clock synchronisation state, RFC 3339 text.
 */
#ifndef MP_CLOCK_H
#define MP_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
#define MP_NTP_UNIX_OFFSET_S 2208988800ULL

enum {
	MP_RFC3339_LEN = 27,	/* length of mp_clock_rfc3339()'s text, without NUL */
};

/* Kernel clock discipline state, from ntp_adjtime(2). */
struct mp_clock_sync {
	bool synced;		/* STA_UNSYNC clear and state not TIME_ERROR */
	uint64_t est_error_ns;	/* estimated error of CLOCK_REALTIME (timex.esterror) */
	uint64_t max_error_ns;	/* maximum error of CLOCK_REALTIME (timex.maxerror) */
	int64_t offset_ns;	/* last offset the NTP daemon fed in (timex.offset) */
	int64_t freq_ppb;	/* frequency correction, parts per billion */
	int status;		/* STA_* bits (timex.status) */
	int state;		/* TIME_OK, TIME_INS, ..., TIME_ERROR (return value) */
	int tai_offset_s;	/* TAI - UTC in seconds, 0 when nobody set it */
};

/* CLOCK_MONOTONIC in ns: for intervals and deadlines. Cannot fail. */
uint64_t mp_clock_mono_ns(void);

/* CLOCK_REALTIME in ns since the Unix epoch: for timestamps. Cannot fail. */
uint64_t mp_clock_real_ns(void);

/*
 * Unix time in ns to a 64-bit NTP timestamp: seconds since 1900 in the high
 * 32 bits, binary fraction of a second in the low 32 bits (one unit is
 * 2^-32 s, about 0.233 ns). The fraction is rounded to the nearest unit.
 * As on the wire, only the seconds modulo 2^32 are kept: from 2036-02-07
 * 06:28:16 UTC on, the result is in NTP era 1.
 */
uint64_t mp_ntp_from_real_ns(uint64_t unix_ns);

/*
 * A 64-bit NTP timestamp to Unix time in ns, rounded to the nearest ns
 * (ties up). The era is inferred as RFC 4330 section 3 suggests, with the
 * pivot at the Unix epoch: seconds >= 2208988800 are era 0 (1970-2036),
 * smaller ones era 1 (2036-2106). So every timestamp maps into
 * [1970, 2106), and mp_real_ns_from_ntp(mp_ntp_from_real_ns(t)) == t
 * for every t in that range.
 */
uint64_t mp_real_ns_from_ntp(uint64_t ntp);

/*
 * A duration in ns to the NTP short format (16.16 fixed-point seconds, one
 * unit about 15.3 us), rounded to the nearest unit; saturates at 0xffffffff
 * for 65536 s and more.
 */
uint32_t mp_ntp_short_from_ns(uint64_t ns);

/* The NTP short format to ns, rounded to the nearest ns (ties up). */
uint64_t mp_ns_from_ntp_short(uint32_t ntp_short);

/*
 * Read the kernel's synchronisation state with ntp_adjtime() (modes 0: reads
 * only, needs no privilege). Returns 0, or -errno; *ret set on success.
 */
int mp_clock_sync_get(struct mp_clock_sync *ret);

/*
 * Format real_ns (ns since the Unix epoch) as UTC RFC 3339 with microseconds,
 * "2026-11-23T15:02:03.123456Z" (MP_RFC3339_LEN characters). The sub-
 * microsecond part is truncated, not rounded, so a time never moves into the
 * next second. Returns the number of characters written (without the NUL),
 * or -ENOSPC when len is too small (buf then holds "" if len > 0), -EINVAL
 * when buf is NULL.
 */
int mp_clock_rfc3339(uint64_t real_ns, char *buf, size_t len);

/*
 * Sleep until CLOCK_MONOTONIC reaches mono_ns (returns at once if it has).
 * Returns 0, -EINTR when a signal handler ran (callers check their flags and
 * call again), or another -errno.
 */
int mp_clock_sleep_until(uint64_t mono_ns);

/*
 * GCRA, the token bucket as one timestamp: each event moves the theoretical
 * arrival time *tat_ns on by t_ns (1/rate); an event is over the limit when
 * that time runs more than tau_ns ((burst - 1) t_ns) ahead of now_ns.
 * Returns whether the event at now_ns conforms (and then takes it).
 */
static inline bool mp_gcra_take(uint64_t *tat_ns, uint64_t t_ns, uint64_t tau_ns,
				uint64_t now_ns)
{
	uint64_t tat = *tat_ns > now_ns ? *tat_ns : now_ns;

	if (tat - now_ns > tau_ns)
		return false;
	*tat_ns = tat + t_ns;
	return true;
}

#endif
