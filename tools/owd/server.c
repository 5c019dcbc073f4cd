/* SPDX-License-Identifier: MIT */
/*
 * owd -s: the STAMP Session-Reflector of lib/responder, run until SIGINT or
 * SIGTERM; its counters go through the writer at exit and, with
 * --interval-report, periodically.
 */
#include <errno.h>
#include <poll.h>

#include "owd.h"
#include "clock.h"
#include "responder.h"

int owd_serve(const struct owd_opts *o, const struct mp_auth_key *key, struct mp_writer *w)
{
	struct mp_responder_opts ro = MP_RESPONDER_OPTS_INIT;
	struct mp_responder_counters c;
	struct mp_responder *r = NULL;
	struct pollfd pfd = { .events = POLLIN };
	uint64_t now, next_report;
	int rc, ms;

	ro.family = o->family;
	ro.port = o->port;
	ro.ifname = o->ifname;
	ro.key = key;
	ro.clock_offset_ns = o->clock_offset_ns;
	ro.global_pps = (uint32_t)o->max_pps;
	/* a tenth of a second of the cap at once, at least the per-source burst */
	ro.global_burst = (uint32_t)MP_MAX(o->max_pps / 10, (uint64_t)ro.burst);
	rc = mp_responder_new(&r, &ro);
	if (rc < 0)
		return rc;
	pfd.fd = mp_responder_fd(r);
	next_report = mp_clock_mono_ns() + o->report_ns;
	while (!owd_stop) {
		now = mp_clock_mono_ns();
		rc = mp_responder_process(r, now);
		if (rc < 0 && rc != -EINTR && rc != -ECONNREFUSED && rc != -EHOSTUNREACH &&
		    rc != -ENETUNREACH)
			break;
		rc = 0;
		if (o->report_ns && now >= next_report) {
			mp_responder_counters_get(r, &c);
			owd_print_counters(w, "interval", &c);
			next_report += o->report_ns;
		}
		/* wake at least once a second: sessions age, reports are due */
		ms = 1000;
		if (o->report_ns)
			ms = next_report > now ? (int)MP_MIN((next_report - now) / MP_NSEC_PER_MSEC + 1,
							    1000ULL) : 0;
		poll(&pfd, 1, ms);
	}
	mp_responder_counters_get(r, &c);
	owd_print_counters(w, NULL, &c);
	mp_responder_free(r);
	return rc;
}
