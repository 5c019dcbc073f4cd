/* SPDX-License-Identifier: MIT */
/*
 * mtufind: rendering through lib/out (docs/FORMATS.md, schema mtufind/2).
 * Measures nothing.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mtufind.h"

const char *mf_method_name(enum mf_method m)
{
	switch (m) {
	case MF_METHOD_STAMP:
		return "stamp";
	case MF_METHOD_ICMP:
		return "icmp";
	default:
		return "auto";
	}
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == 0 || mp_addr_to_str((const struct sockaddr *)ss, buf, len) < 0)
		snprintf(buf, len, "%s", "");
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static const char *err_str(int err)
{
	switch (err) {
	case 0:
		return "";
	case -ECONNREFUSED:
		return "no reflector (port unreachable)";
	case -ETIMEDOUT:
		return "no answer";
	case -EHOSTUNREACH:
		return "unreachable";
	default:
		return strerror(-err);
	}
}

/*
 * A text format: the bare value in a record (a cell under its key in the
 * text table), the labelled one in the summary document (a line of its own).
 * Both are literals, so the compiler still checks them against the value.
 */
#define TXT(rec, bare, label) ((rec) ? (bare) : (label))

/* The fields of one path, inside the current unit (document or record rec). */
static void path_fields(struct mp_writer *w, const struct mf_path *p, bool with_hops, bool rec)
{
	char a[MP_ADDR_STRLEN];
	unsigned i;

	mp_put_label(w, "dst", TXT(rec, "%s", "target %s"), p->target);
	addr_str(&p->addr, a, sizeof(a));
	mp_put_str(w, "addr", TXT(rec, "%s", "(%s)"), a);
	mp_put_u64(w, "ip_version", TXT(rec, "%" PRIu64, "IPv%" PRIu64),
		   p->family == AF_INET6 ? 6 : 4);
	mp_put_str(w, "method", TXT(rec, "%s", "by %s"), mf_method_name(p->method));
	mp_put_bool(w, "reached", TXT(rec, "%s", "reachable %s"), p->reachable);
	/* a record keeps every column, or rows with and without one misalign */
	if (p->error || rec)
		mp_put_str(w, "error", TXT(rec, "%s", "error: %s"), err_str(p->error));
	else
		mp_put_str_notext(w, "error", "");
	mp_put_u64(w, "pmtu_bytes", TXT(rec, "%" PRIu64, "path MTU %" PRIu64 " bytes"),
		   p->pmtu_bytes);
	mp_put_u64(w, "first_fail_bytes",
		   TXT(rec, "%" PRIu64, "smallest failing %" PRIu64 " bytes"), p->first_fail_bytes);
	mp_put_u64(w, "local_mtu_bytes", TXT(rec, "%" PRIu64, "link MTU %" PRIu64 " bytes"),
		   p->local_mtu_bytes);
	mp_put_u64(w, "kernel_pmtu_bytes",
		   TXT(rec, "%" PRIu64, "kernel cached PMTU %" PRIu64 " bytes"),
		   p->kernel_pmtu_bytes);
	mp_put_bool(w, "blackhole", TXT(rec, "%s", "black hole %s"), p->blackhole);
	if (rec || p->blackhole)
		mp_put_bool(w, "blackhole_confirmed",
			    TXT(rec, "%s", "(confirmed by ICMP echo: %s)"), p->blackhole_confirmed);
	else
		mp_put_bool_notext(w, "blackhole_confirmed", p->blackhole_confirmed);
	if (rec || p->reflector_max_bytes)
		mp_put_u64(w, "reflector_max_bytes",
			   TXT(rec, "%" PRIu64, "reflector answers up to %" PRIu64 " bytes"),
			   p->reflector_max_bytes);
	else
		mp_put_u64_notext(w, "reflector_max_bytes", 0);
	mp_put_u64(w, "blackhole_hop", TXT(rec, "%" PRIu64, "black hole hop %" PRIu64),
		   p->blackhole_hop);
	mp_put_u64(w, "bottleneck_hop", TXT(rec, "%" PRIu64, "bottleneck hop %" PRIu64),
		   p->bottleneck_hop);
	addr_str(&p->bottleneck_addr, a, sizeof(a));
	mp_put_str(w, "bottleneck_addr", TXT(rec, "%s", "(%s)"), a);
	mp_put_u64(w, "probes", TXT(rec, "%" PRIu64, "%" PRIu64 " probes"), p->probes);
	mp_put_u64(w, "search_probes", TXT(rec, "%" PRIu64, "(%" PRIu64 " for the size search)"),
		   p->search_probes);
	mp_put_u64(w, "toobig_msgs", TXT(rec, "%" PRIu64, "%" PRIu64 " too-big messages"),
		   p->toobig_msgs);
	mp_put_u64(w, "lost_tries", TXT(rec, "%" PRIu64, "%" PRIu64 " unanswered tries"),
		   p->lost_tries);
	mp_put_f64(w, "rtt_ms", TXT(rec, "%.3f", "rtt %.3f ms"), ms(p->rtt_ns));
	mp_put_f64(w, "duration_ms", TXT(rec, "%.1f", "took %.1f ms"), ms(p->duration_ns));
	mp_put_u64(w, "wg_overhead_bytes",
		   TXT(rec, "%" PRIu64, "WireGuard overhead %" PRIu64 " bytes"),
		   p->wg_overhead_bytes);
	mp_put_u64(w, "wg_mtu_bytes", TXT(rec, "%" PRIu64, "WireGuard MTU %" PRIu64 " bytes"),
		   p->wg_mtu_bytes);
	mp_put_bool(w, "wg_mtu_raised", TXT(rec, "%s", "raised to the IPv6 minimum %s"),
		    p->wg_mtu_raised);
	if (!with_hops)
		return;
	mp_arr_begin(w, "hops", "hops");
	for (i = 0; i < p->n_hops; i++) {
		const struct mf_hop *h = &p->hops[i];

		mp_obj_begin(w, NULL, NULL);
		mp_put_u64(w, "ttl", "%" PRIu64, h->ttl);
		addr_str(&h->addr, a, sizeof(a));
		mp_put_str(w, "addr", "%s", h->answered ? a : "*");
		mp_put_u64(w, "mtu_bytes", "%" PRIu64, h->mtu_bytes);
		mp_obj_end(w);
	}
	mp_arr_end(w);
}

/* The text a person reads (tracepath is the model): the hops, each with
 * the largest size known to reach it, then one resume line. */
static void text_path(struct mp_writer *w, const struct mf_path *p)
{
	char a[MP_ADDR_STRLEN], t[160], d[MP_FMT_LEN];
	int n;

	mp_put_str(w, "how", "IPv%s", p->family == AF_INET6 ? "6" : "4");
	mp_put_str(w, "method", "%s probes", mf_method_name(p->method));
	if (p->error) {
		mp_writer_alert(w, true);
		mp_put_str(w, "error", "%s", err_str(p->error));
		mp_writer_alert(w, false);
		return;
	}
	if (p->n_hops) {
		mp_arr_begin(w, "hops", "");
		for (unsigned i = 0; i < p->n_hops; i++) {
			const struct mf_hop *h = &p->hops[i];

			addr_str(&h->addr, a, sizeof(a));
			mp_obj_begin(w, NULL, NULL);
			snprintf(t, sizeof(t), "%3u: %s", h->ttl, h->answered ? a : "*");
			mp_put_str(w, "hop", "%s", t);
			if (h->mtu_bytes)
				snprintf(t, sizeof(t), "%u", h->mtu_bytes);
			mp_put_str(w, "reaches", "%s", h->mtu_bytes ? t : "-");
			mp_obj_end(w);
		}
		mp_arr_end(w);
	}
	if (p->reflector_max_bytes)
		mp_put_u64(w, "reflector",
			   "the reflector answers up to %" PRIu64 " bytes; larger sizes by echo",
			   p->reflector_max_bytes);
	mp_obj_begin(w, "resume", "resume");
	mp_put_u64(w, "pmtu", "pmtu %" PRIu64, p->pmtu_bytes);
	addr_str(&p->bottleneck_addr, a, sizeof(a));
	if (p->bottleneck_hop) {
		n = snprintf(t, sizeof(t), "limited at hop %u", p->bottleneck_hop);
		if (*a)
			snprintf(t + n, sizeof(t) - (size_t)n, " (%s)", a);
		mp_put_str(w, "limit", "%s", t);
	}
	mp_writer_alert(w, p->blackhole);
	if (p->blackhole)
		mp_put_str(w, "blackhole", "black hole%s", p->blackhole_confirmed ? "" :
			   " (unconfirmed: the target answers no echo to tell)");
	else if (p->first_fail_bytes)
		mp_put_str(w, "blackhole", "%s", "no black hole");
	mp_writer_alert(w, false);
	mp_obj_end(w);
	mp_obj_begin(w, "cost", "wireguard");
	snprintf(t, sizeof(t), "%u%s", p->wg_mtu_bytes, p->wg_mtu_raised ? " (raised to 1280)" : "");
	mp_put_str(w, "wg", "MTU %s", t);
	snprintf(t, sizeof(t), "%u probes in %s", p->probes,
		 mp_fmt_ns(d, sizeof(d), (double)p->duration_ns));
	mp_put_str(w, "probes", "%s", t);
	mp_obj_end(w);
}

int mf_print_path(struct mp_writer *w, const struct mf_path *p)
{
	char a[MP_ADDR_STRLEN], title[sizeof(p->target) + MP_ADDR_STRLEN + 24];

	addr_str(&p->addr, a, sizeof(a));
	snprintf(title, sizeof(title), "mtufind to %s%s%s%s", p->target, *a ? " (" : "", a,
		 *a ? ")" : "");
	mp_doc_begin(w, title);
	mp_writer_audience(w, MP_FOR_TEXT);
	text_path(w, p);
	mp_writer_audience(w, MP_FOR_MACHINES);
	/* csv: one row of scalars (a csv stream holds one table: hops are in
	 * json and text only) */
	path_fields(w, p, mp_writer_format(w) != MP_FMT_CSV, false);
	mp_writer_audience(w, MP_FOR_ALL);
	return mp_doc_end(w);
}

/* A peer's row for people (`wg show` is the model): the key as wg shortens
 * it, the endpoint, the path MTU, where it is limited, the MTU it allows. */
static void text_peer(struct mp_writer *w, const char *key, double hs_age_s,
		      const struct mf_path *p)
{
	char t[64];

	mp_obj_begin(w, NULL, NULL);
	snprintf(t, sizeof(t), "%.8s\xe2\x80\xa6", key);
	mp_put_str(w, "peer", "%s", t);
	mp_put_str(w, "endpoint", "%s", p->target);
	if (isnan(hs_age_s))
		snprintf(t, sizeof(t), "-");
	else
		snprintf(t, sizeof(t), "%.0f s", hs_age_s);
	mp_put_str(w, "handshake", "%s", t);
	mp_put_str(w, "by", "%s", mf_method_name(p->method));
	mp_writer_alert(w, p->error);
	if (p->error)
		snprintf(t, sizeof(t), "%s", err_str(p->error));
	else
		snprintf(t, sizeof(t), "%u", p->pmtu_bytes);
	mp_put_str(w, "path MTU", "%s", t);
	mp_writer_alert(w, p->blackhole);
	mp_put_str(w, "black hole", "%s", p->blackhole ? "yes" : "no");
	mp_writer_alert(w, false);
	snprintf(t, sizeof(t), "%u%s", p->wg_mtu_bytes, p->wg_mtu_raised ? " (raised)" : "");
	mp_put_str(w, "wg MTU", "%s", t);
	mp_obj_end(w);
}

/* Seconds since peer i's latest handshake (NaN: none), clamped at 0: the
 * peer's clock may be ahead of ours. */
static double hs_age(const struct mf_wg_result *res, unsigned i)
{
	uint64_t hs = res->last_handshake_ns[i];

	return !hs ? NAN : res->read_real_ns > hs ? (double)(res->read_real_ns - hs) / 1e9 : 0.0;
}

int mf_print_wg(struct mp_writer *w, const struct mf_wg_result *res)
{
	bool text = mp_writer_format(w) == MP_FMT_TEXT;
	unsigned i;
	char t[96];

	/* text: the peers are a table of the document, aligned over all rows;
	 * the machine formats have a record each */
	for (i = 0; i < res->n_probed && !text; i++) {
		mp_record_begin(w, "peer");
		mp_put_str(w, "public_key", "%s", res->peer_keys[i]);
		mp_put_f64(w, "handshake_age_s", "%.0f", hs_age(res, i));
		/* a csv row has one cell per key: no hop table in it */
		path_fields(w, &res->paths[i], mp_writer_format(w) != MP_FMT_CSV, true);
		mp_record_end(w);
	}
	mp_doc_begin(w, "mtufind --wg");
	mp_writer_audience(w, MP_FOR_TEXT);
	snprintf(t, sizeof(t), "%u peers, %u probed%s", res->n_peers, res->n_probed,
		 res->carries_ipv6 ? ", carries IPv6" : "");
	mp_put_str(w, "interface", "interface %s", res->ifname);
	mp_put_str(w, "peers", "%s", t);
	if (res->n_probed) {
		mp_writer_text_left(w, 2);	/* peer, endpoint */
		mp_arr_begin(w, "peers", "");
		mp_writer_text_left(w, 1);
		for (i = 0; i < res->n_probed; i++)
			text_peer(w, res->peer_keys[i], hs_age(res, i), &res->paths[i]);
		mp_arr_end(w);
	}
	mp_obj_begin(w, "mtu", "MTU");
	snprintf(t, sizeof(t), "%u bytes%s", res->wg_mtu_bytes,
		 res->wg_mtu_raised ? " (raised to the IPv6 minimum)" : "");
	mp_put_str(w, "recommended", "recommended %s", t);
	if (res->applied)
		snprintf(t, sizeof(t), "set: %u -> %u bytes", res->old_mtu_bytes,
			 res->new_mtu_bytes);
	else
		snprintf(t, sizeof(t), "now %u bytes (--apply sets it)", res->old_mtu_bytes);
	mp_put_str(w, "now", "%s", t);
	mp_obj_end(w);
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_str(w, "ifname", "interface %s", res->ifname);
	mp_put_u64(w, "peer_count", "%" PRIu64 " peers", res->n_peers);
	mp_put_u64(w, "peers_probed", "%" PRIu64 " probed", res->n_probed);
	mp_put_bool(w, "carries_ipv6", "carries IPv6 %s", res->carries_ipv6);
	mp_put_u64(w, "wg_mtu_bytes", "recommended MTU %" PRIu64 " bytes", res->wg_mtu_bytes);
	mp_put_bool(w, "wg_mtu_raised", "raised to the IPv6 minimum %s", res->wg_mtu_raised);
	mp_put_u64(w, "old_mtu_bytes", "MTU was %" PRIu64 " bytes", res->old_mtu_bytes);
	mp_put_u64(w, "mtu_bytes", "MTU now %" PRIu64 " bytes", res->new_mtu_bytes);
	mp_put_bool(w, "applied", "applied %s", res->applied);
	mp_writer_audience(w, MP_FOR_ALL);
	return mp_doc_end(w);
}

int mf_print_srv_event(struct mp_writer *w, const struct mf_srv_event *ev)
{
	mp_record_begin(w, "event");
	mp_put_str(w, "event", "%s", ev->event);
	mp_put_str(w, "peer", "%s", ev->peer[0] ? ev->peer : "-");
	mp_put_str(w, "session", "%s", ev->session[0] ? ev->session : "-");
	mp_put_u64(w, "mtu_bytes", "%" PRIu64, ev->mtu_bytes);
	mp_put_str(w, "error", "%s", ev->error ? strerror(-ev->error) : "-");
	return mp_record_end(w);
}

int mf_print_srv(struct mp_writer *w, const struct mf_srv_result *res)
{
	mp_doc_begin(w, "mtufind -s");
	mp_put_str(w, "ifname", "interface %s", res->ifname);
	mp_put_u64(w, "port", "UDP port %" PRIu64, res->port);
	mp_put_u64(w, "original_mtu_bytes", "original MTU %" PRIu64 " bytes",
		   res->original_mtu_bytes);
	mp_put_u64(w, "mtu_bytes", "MTU now %" PRIu64 " bytes", res->mtu_bytes);
	mp_put_bool(w, "restored", "restored %s", res->restored);
	mp_put_u64(w, "recovered_mtu_bytes", "put back from a state file: %" PRIu64 " bytes",
		   res->recovered_mtu_bytes);
	mp_put_u64(w, "sessions", "%" PRIu64 " sessions", res->sessions);
	mp_put_u64(w, "changes", "%" PRIu64 " MTU changes", res->changes);
	mp_put_u64(w, "received", "received %" PRIu64, res->received);
	mp_put_u64(w, "dropped_ratelimit", "rate-limited %" PRIu64, res->dropped_ratelimit);
	mp_put_u64(w, "dropped_malformed", "malformed %" PRIu64, res->dropped_malformed);
	mp_put_u64(w, "dropped_auth", "bad HMAC %" PRIu64, res->dropped_auth);
	mp_put_u64(w, "dropped_replay", "replayed %" PRIu64, res->dropped_replay);
	mp_put_u64(w, "no_session", "no session %" PRIu64, res->no_session);
	mp_put_u64(w, "busy", "busy %" PRIu64, res->busy);
	mp_put_u64(w, "send_errors", "send errors %" PRIu64, res->send_errors);
	mp_put_f64(w, "duration_ms", "ran %.0f ms", (double)res->duration_ns / 1e6);
	return mp_doc_end(w);
}

/* Prometheus HELP of every mode (docs/FORMATS.md has the same words, longer). */
const struct mp_prom_help mf_prom_help[] = {
	{ "ip_version", "IP version of the probes (4 or 6)" },
	{ "reached", "1 when the target answered" },
	{ "pmtu_bytes", "path MTU found: the largest packet that crossed the path" },
	{ "first_fail_bytes", "smallest packet size that did not cross the path" },
	{ "local_mtu_bytes", "MTU of the outgoing interface" },
	{ "kernel_pmtu_bytes", "path MTU the kernel has cached for the target" },
	{ "blackhole", "1 when packets above the path MTU vanish without an ICMP error" },
	{ "blackhole_confirmed", "1 when a second probe method saw the same black hole" },
	{ "reflector_max_bytes", "largest packet the STAMP reflector answered (its own limit)" },
	{ "blackhole_hop", "hop after which big packets vanish (0: unknown)" },
	{ "bottleneck_hop", "hop whose link limits the path MTU (0: unknown)" },
	{ "probes", "probe packets sent" },
	{ "search_probes", "probe packets sent by the size search" },
	{ "toobig_msgs", "ICMP packet-too-big / fragmentation-needed messages received" },
	{ "lost_tries", "probe sizes tried again after a loss" },
	{ "rtt_ms", "smallest round-trip time of the probes" },
	{ "duration_ms", "wall time of the run" },
	{ "wg_overhead_bytes", "WireGuard encapsulation overhead on this path" },
	{ "wg_mtu_bytes", "recommended WireGuard interface MTU for this path" },
	{ "wg_mtu_raised", "1 when the WireGuard MTU was raised to IPv6's minimum of 1280" },
	/* --wg */
	{ "peer_count", "peers of the WireGuard interface" },
	{ "peers_probed", "peers whose endpoint was probed" },
	{ "carries_ipv6", "1 when the interface carries IPv6" },
	{ "old_mtu_bytes", "interface MTU before the run" },
	{ "mtu_bytes", "interface MTU now" },
	{ "applied", "1 when the recommended MTU was set on the interface" },
	/* -s */
	{ "port", "UDP port of the MTU control server" },
	{ "original_mtu_bytes", "interface MTU when the server started" },
	{ "restored", "1 when the original MTU was put back" },
	{ "recovered_mtu_bytes", "MTU put back from a state file left by a killed run" },
	{ "sessions", "sweep sessions served" },
	{ "changes", "MTU changes made on request" },
	{ "received", "control datagrams received" },
	{ "dropped_ratelimit", "datagrams dropped over the per-source rate limit" },
	{ "dropped_malformed", "datagrams dropped as malformed" },
	{ "dropped_auth", "datagrams dropped for a wrong HMAC" },
	{ "dropped_replay", "datagrams dropped as replays" },
	{ "no_session", "requests for a session that does not exist" },
	{ "busy", "requests refused while another session ran" },
	{ "send_errors", "answers whose send failed" },
	{ NULL, NULL }
};
