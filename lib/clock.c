/* SPDX-License-Identifier: MIT */
/*
 * Clock reads, NTP timestamp conversion, kernel sync state, RFC 3339 text.
 * The NTP conversions use integer arithmetic only: a double has 53 bits, too
 * few for ns since 1970 plus a 32-bit fraction.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "mp.h"
#include "clock.h"

enum {
	NTP_SHORT_MAX_S = 65535,	/* largest whole second of the 16.16 format */
};

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	/* cannot fail for these two clocks with a valid pointer */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * MP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t mp_clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t mp_clock_real_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

uint64_t mp_ntp_from_real_ns(uint64_t unix_ns)
{
	uint64_t sec = unix_ns / MP_NSEC_PER_SEC + MP_NTP_UNIX_OFFSET_S;
	uint64_t rem = unix_ns % MP_NSEC_PER_SEC;
	/* rem < 10^9, so rem << 32 < 2^62: no overflow */
	uint64_t frac = ((rem << 32) + MP_NSEC_PER_SEC / 2) / MP_NSEC_PER_SEC;

	/*
	 * A fraction rounded up to 2^32 carries into the seconds; the shift
	 * drops the era bits, as the wire format does.
	 */
	return (sec << 32) + frac;
}

uint64_t mp_real_ns_from_ntp(uint64_t ntp)
{
	uint64_t sec = ntp >> 32, frac = ntp & 0xffffffffULL;
	uint64_t unix_s;

	if (sec >= MP_NTP_UNIX_OFFSET_S)
		unix_s = sec - MP_NTP_UNIX_OFFSET_S;
	else
		unix_s = sec + (1ULL << 32) - MP_NTP_UNIX_OFFSET_S;
	/* frac * 10^9 < 2^62 */
	return unix_s * MP_NSEC_PER_SEC + ((frac * MP_NSEC_PER_SEC + (1ULL << 31)) >> 32);
}

uint32_t mp_ntp_short_from_ns(uint64_t ns)
{
	uint64_t sec = ns / MP_NSEC_PER_SEC, rem = ns % MP_NSEC_PER_SEC;
	uint64_t v;

	if (sec > NTP_SHORT_MAX_S)
		return UINT32_MAX;
	v = (sec << 16) + ((rem << 16) + MP_NSEC_PER_SEC / 2) / MP_NSEC_PER_SEC;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint64_t mp_ns_from_ntp_short(uint32_t ntp_short)
{
	uint64_t sec = ntp_short >> 16, frac = ntp_short & 0xffffU;

	return sec * MP_NSEC_PER_SEC + ((frac * MP_NSEC_PER_SEC + (1U << 15)) >> 16);
}

int mp_clock_sync_get(struct mp_clock_sync *ret)
{
	struct timex tx = { .modes = 0 };
	int state;

	if (!ret)
		return -EINVAL;
	state = ntp_adjtime(&tx);
	if (state < 0)
		return -errno;
	*ret = (struct mp_clock_sync){
		.synced = !(tx.status & STA_UNSYNC) && state != TIME_ERROR,
		.est_error_ns = (uint64_t)(tx.esterror > 0 ? tx.esterror : 0) * MP_NSEC_PER_USEC,
		.max_error_ns = (uint64_t)(tx.maxerror > 0 ? tx.maxerror : 0) * MP_NSEC_PER_USEC,
		/* offset is in us unless the daemon switched the kernel to ns */
		.offset_ns = (int64_t)tx.offset *
			     ((tx.status & STA_NANO) ? 1 : (int64_t)MP_NSEC_PER_USEC),
		/* freq is ppm with a 16-bit binary fraction */
		.freq_ppb = (int64_t)tx.freq * 1000 / 65536,
		.status = tx.status,
		.state = state,
		.tai_offset_s = tx.tai,
	};
	return 0;
}

int mp_clock_rfc3339(uint64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / MP_NSEC_PER_SEC);
	unsigned int usec = (unsigned int)(real_ns % MP_NSEC_PER_SEC / MP_NSEC_PER_USEC);
	char tmp[64];
	struct tm tm;
	int n;

	if (!buf)
		return -EINVAL;
	if (!gmtime_r(&sec, &tm))
		return -EOVERFLOW;
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

int mp_clock_sleep_until(uint64_t mono_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(mono_ns / MP_NSEC_PER_SEC),
		.tv_nsec = (long)(mono_ns % MP_NSEC_PER_SEC),
	};

	/* clock_nanosleep() returns the error instead of setting errno */
	return -clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}
