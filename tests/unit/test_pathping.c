/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of pathping's wire and analysis (tools/pathping/packet.c,
 * analyze.c; included here, as the fuzz harness does, since they are tool
 * code outside libmeshperf). Expected values: replies built by
 * tests/unit/fixtures/gen_pathping.py from the RFC layouts, checksums
 * verified by summing the packet as a receiver would, loss splits and the
 * rate-limit detector worked by hand from the formulas in analyze.c. The
 * receive filter (pp_flow_filter) runs in the kernel: on a datagram
 * socket pair, over the same replies.
 */
#include <arpa/inet.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../tools/pathping/analyze.c"
#include "../../tools/pathping/packet.c"

static void flow_init(struct pp_flow *f, uint8_t sel)
{
	static const uint8_t s6[16] = { 0xfd, 0xac, 0, 0xc8, 0, 1, [15] = 1 };
	static const uint8_t d6[16] = { 0xfd, 0xac, 0, 0xc8, 0, 3, [15] = 2 };
	static const uint8_t s4[4] = { 10, 200, 1, 1 }, d4[4] = { 10, 200, 3, 2 };

	memset(f, 0, sizeof(*f));
	f->family = sel & 1 ? AF_INET6 : AF_INET;
	f->proto = (enum pp_proto)((sel >> 1) & 3) % 3;
	f->raw = !(sel & 8);
	memcpy(&f->src, f->family == AF_INET ? s4 : s6, f->family == AF_INET ? 4 : 16);
	memcpy(&f->dst, f->family == AF_INET ? d4 : d6, f->family == AF_INET ? 4 : 16);
	f->ident = 0x1234;
	f->sport = 20001;
	f->dport = f->proto == PP_TCP ? 80 : 33434;
	f->tcp_seq0 = 0x89abcdefU;
}

static size_t unhex(const char *s, uint8_t *out, size_t len)
{
	size_t n = 0;
	unsigned v;

	while (n < len && sscanf(s + 2 * n, "%2x", &v) == 1)
		out[n++] = (uint8_t)v;
	return n;
}

/* One case of tests/unit/fixtures/pathping_replies.txt. */
struct fixture {
	char name[64];
	unsigned sel, kind, id, ext;
	uint8_t pkt[4000];
	size_t n;
};

/* The next case of f into *x; false at the end. */
static bool fixture_next(FILE *f, struct fixture *x)
{
	char line[8192], hex[8000];

	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%63s %u %u %u %u %7999s", x->name, &x->sel,
					&x->kind, &x->id, &x->ext, hex), 6);
		x->n = unhex(hex, x->pkt, sizeof(x->pkt));
		return true;
	}
	return false;
}

static void replies_parse(void **state)
{
	static struct fixture x;
	unsigned sel, kind, id, ext, cases = 0;
	uint8_t *pkt = x.pkt;
	FILE *f = fopen("tests/unit/fixtures/pathping_replies.txt", "r");

	(void)state;
	assert_non_null(f);
	while (fixture_next(f, &x)) {
		struct pp_reply r = { 0 };
		struct pp_flow fl;
		uint16_t got = 0;
		size_t n = x.n;
		int e;

		sel = x.sel, kind = x.kind, id = x.id, ext = x.ext;
		flow_init(&fl, (uint8_t)sel);
		if (!fl.raw) {
			e = pp_dgram_id(&fl, sel & 32, pkt, n, &got);
			assert_int_equal(e, 0);
			assert_int_equal(got, id);
		} else {
			e = pp_reply_parse(&fl, sel & 16, pkt, n, &r);
			if (!kind) {
				assert_true(e < 0);
			} else {
				assert_int_equal(e, 0);
				assert_int_equal(r.kind, kind);
				assert_int_equal(r.id, id);
				assert_int_equal(r.ext_offset, ext);
			}
		}
		cases++;
	}
	fclose(f);
	assert_true(cases >= 20);
}

/* A reply's quote and extensions as tests/unit/fixtures/gen_pathping.py
 * writes them ("|" for spaces). */
static void ext_render(const struct pp_reply *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t n;
	unsigned i;

	if (!r->ext_offset) {
		snprintf(buf, len, "none");
		return;
	}
	if (r->ext_bad) {
		snprintf(buf, len, "bad=1");
		return;
	}
	n = (size_t)snprintf(buf, len, "bad=0|mpls=");
	for (i = 0; i < r->ext.n_mpls; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u/%u/%u/%u", i ? "," : "",
				      r->ext.mpls[i].label, r->ext.mpls[i].tc, r->ext.mpls[i].s,
				      r->ext.mpls[i].ttl);
	n += (size_t)snprintf(buf + n, len - n, "|if=");
	for (i = 0; i < r->ext.n_if; i++) {
		const struct pp_ifinfo *fi = &r->ext.ifs[i];
		char idx[16] = "-", mtu[16] = "-";

		if (fi->has_index)
			snprintf(idx, sizeof(idx), "%u", fi->ifindex);
		if (fi->has_mtu)
			snprintf(mtu, sizeof(mtu), "%u", fi->mtu);
		if (!fi->has_addr || !inet_ntop(fi->family, &fi->addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "-");
		n += (size_t)snprintf(buf + n, len - n, "%s%u:%s:%s:%s:%s", i ? "," : "", fi->role,
				      idx, a, fi->has_name ? fi->name : "-", mtu);
	}
	snprintf(buf + n, len - n, "|skipped=%u", r->ext.skipped);
}

/* RFC 4884 extensions and the quoted TOS, from the generator's packets:
 * well-formed ones parsed in full, malformed ones flagged with nothing
 * kept, the reply itself still matched to its probe either way. */
static void extensions_parse(void **state)
{
	char line[8192], name[64], hex[8000], want[512], got[512];
	unsigned sel, tos, cases = 0;
	uint8_t pkt[4000];
	FILE *f = fopen("tests/unit/fixtures/pathping_ext.txt", "r");

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct pp_reply r = { 0 };
		struct pp_flow fl;
		size_t n;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%63s %u %u %511s %7999s", name, &sel, &tos, want, hex),
				 5);
		n = unhex(hex, pkt, sizeof(pkt));
		flow_init(&fl, (uint8_t)sel);
		assert_int_equal(pp_reply_parse(&fl, false, pkt, n, &r), 0);
		assert_true(r.quoted);
		assert_int_equal(r.quoted_tos, tos);
		ext_render(&r, got, sizeof(got));
		if (strcmp(got, want))
			fail_msg("%s: parsed %s, want %s", name, got, want);
		cases++;
	}
	fclose(f);
	assert_true(cases >= 14);
}

/* pp_ext_parse on its own: every truncation of a good structure is
 * refused or parses a prefix of its objects, never reads past the end. */
static void extensions_truncated(void **state)
{
	static const uint8_t good[] = {
		0x20, 0, 0, 0,				/* version 2, no checksum */
		0, 12, 1, 1, 0x05, 0xdc, 0x10, 0x01,	/* MPLS 24001 s=0 ttl 1, 16 s=1 */
		0, 0x01, 0x01, 0x01,
		0, 8, 2, 0x01, 0, 0, 0x23, 0x28,	/* in, MTU 9000 */
	};
	struct pp_ext e;
	uint8_t *p;
	size_t n;

	(void)state;
	assert_int_equal(pp_ext_parse(good, sizeof(good), &e), 0);
	assert_int_equal(e.n_mpls, 2);
	assert_int_equal(e.mpls[0].label, 24001);
	assert_int_equal(e.mpls[1].label, 16);
	assert_true(e.mpls[1].s);
	assert_int_equal(e.n_if, 1);
	assert_true(e.ifs[0].has_mtu && e.ifs[0].mtu == 9000);
	for (n = 0; n < sizeof(good); n++) {
		p = malloc(n ? n : 1);	/* ASan: a read past n is caught */
		assert_non_null(p);
		memcpy(p, good, n);
		/* cut at an object boundary the rest parses; elsewhere refused */
		if (n == 4 || n == 16)
			assert_int_equal(pp_ext_parse(p, n, &e), 0);
		else
			assert_int_equal(pp_ext_parse(p, n, &e), -EINVAL);
		free(p);
	}
}

/* The receiver's check: the one's-complement sum over pseudo-header and
 * message is 0xffff. */
static void verify_sum(const struct pp_flow *f, const uint8_t *p, size_t len, uint8_t proto)
{
	uint32_t sum = pseudo_sum(f, proto, len);

	assert_int_equal(pp_csum_fold(pp_csum_add(sum, p, len)), 0);
}

static void probes_constant_flow(void **state)
{
	uint8_t sel, buf[PP_PKT_MAX];
	unsigned id;

	(void)state;
	for (sel = 0; sel < 6; sel++) {
		struct pp_flow f;
		uint8_t first[64];
		size_t ip, flow_len;
		int n0 = 0, n;

		flow_init(&f, sel);
		ip = f.family == AF_INET ? IP4_HDR : 0;
		/* what must not change: ports or type/code/checksum/identifier,
		 * and the UDP length and checksum */
		flow_len = f.proto == PP_TCP ? 4 : f.proto == PP_ICMP ? 6 : 8;
		for (id = 1; id < 3000; id += 7) {
			n = pp_probe_build(&f, (uint16_t)id, 5, buf, sizeof(buf));
			assert_true(n > 0);
			if (id == 1) {
				memcpy(first, buf + ip, flow_len);
				n0 = n;
			}
			assert_int_equal(n, n0);
			assert_memory_equal(buf + ip, first, flow_len);
			if (f.proto == PP_ICMP)
				assert_int_equal(mp_be16_get(buf + ip + 6), id);
			if (f.proto == PP_TCP)
				assert_int_equal(mp_be32_get(buf + ip + 4), f.tcp_seq0 + id);
			if (ip) {
				assert_int_equal(mp_be16_get(buf + 4), id);	/* IP ID */
				assert_int_equal(buf[8], 5);		/* TTL */
				assert_int_equal(pp_csum_fold(pp_csum_add(0, buf, IP4_HDR)), 0);
			}
			if (f.proto != PP_ICMP || f.family == AF_INET6)
				verify_sum(&f, buf + ip, (size_t)n - ip, ip_proto(&f));
			else
				assert_int_equal(pp_csum_fold(pp_csum_add(0, buf + ip,
									  (size_t)n - ip)), 0);
		}
	}
}

/* cmocka 1.1 has no double assertion */
#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

static void hop_set(struct pp_result *res, unsigned ttl, uint64_t sent, uint64_t received)
{
	res->hops[ttl].ttl = ttl;
	res->hops[ttl].sent = sent;
	res->hops[ttl].received = received;
}

static void loss_split(void **state)
{
	struct pp_result res;

	(void)state;
	/* losses 0, 30, 20, 25 %: carried 0, 20, 20, 25 */
	memset(&res, 0, sizeof(res));
	res.dest_ttl = 4;
	hop_set(&res, 1, 100, 100);
	hop_set(&res, 2, 100, 70);
	hop_set(&res, 3, 100, 80);
	hop_set(&res, 4, 100, 75);
	pp_analyze(&res);
	assert_true(res.reached);
	assert_int_equal(res.n_hops, 4);
	assert_near(res.hops[2].loss_pct, 30);
	assert_near(res.hops[1].node_loss_pct, 0);
	assert_near(res.hops[1].link_loss_pct, 0);
	assert_near(res.hops[2].node_loss_pct, 10);
	assert_near(res.hops[2].link_loss_pct, 20);
	assert_near(res.hops[3].node_loss_pct, 0);
	assert_near(res.hops[3].link_loss_pct, 0);
	assert_near(res.hops[4].node_loss_pct, 0);
	assert_near(res.hops[4].link_loss_pct, 5);

	/* a silent router at hop 1: all node loss */
	memset(&res, 0, sizeof(res));
	res.dest_ttl = 3;
	hop_set(&res, 1, 50, 0);
	hop_set(&res, 2, 50, 50);
	hop_set(&res, 3, 50, 50);
	pp_analyze(&res);
	assert_near(res.hops[1].node_loss_pct, 100);
	assert_near(res.hops[1].link_loss_pct, 0);
	assert_near(res.hops[3].link_loss_pct, 0);
	assert_int_equal(pp_exit_status(&res), MP_EXIT_OK);

	/* not reached: hops up to the last that answered; exit 1 */
	memset(&res, 0, sizeof(res));
	hop_set(&res, 1, 10, 10);
	hop_set(&res, 2, 10, 4);
	hop_set(&res, 3, 10, 0);
	pp_analyze(&res);
	assert_false(res.reached);
	assert_int_equal(res.n_hops, 2);
	assert_near(res.hops[2].link_loss_pct, 60);
	assert_int_equal(pp_exit_status(&res), MP_EXIT_FAIL);
}

static void outcomes(struct pp_hop *h, const char *s)
{
	for (; *s; s++)
		pp_hop_outcome(h, *s == 'A' ? PP_OUT_ANSWERED :
				  *s == 'N' ? PP_OUT_NODE_LOST : PP_OUT_LOST);
}

static void ratelimit_detector(void **state)
{
	struct pp_hop h;

	(void)state;
	/* a bucket: a burst answered, then mostly silent while deeper hops answer */
	memset(&h, 0, sizeof(h));
	outcomes(&h, "AAAAAANNNNNNNNNNNNN");
	assert_false(h.ratelimited);	/* 13 node losses in the last 16 */
	outcomes(&h, "N");
	assert_true(h.ratelimited);	/* 14 of 16 */
	assert_int_equal(h.gap_ns, PP_RL_GAP_NS);
	/* never answered: no burst, a silent router, not rate limiting */
	memset(&h, 0, sizeof(h));
	outcomes(&h, "NNNNNNNNNNNNNNNNNNNN");
	assert_false(h.ratelimited);
	/* path loss (nothing deeper answered either) is not node loss */
	memset(&h, 0, sizeof(h));
	outcomes(&h, "AAALLLLLLLLLLLLLLLLL");
	assert_false(h.ratelimited);
	/* random path loss: 6 of the last 8 (the old rule's false positive in
	 * CI), 13 of the last 16 at most */
	memset(&h, 0, sizeof(h));
	outcomes(&h, "AANNANNNANNNNANNAN");
	assert_false(h.ratelimited);
	outcomes(&h, "NNANNNNANNNNANNANN");
	assert_false(h.ratelimited);
}

/* --all-paths: a reply quoting any port of the run's span is ours, also
 * one of an earlier round (below the current port); outside it, not. */
static void sport_span(void **state)
{
	char line[8192], name[64], hex[8000];
	unsigned sel, kind, id, ext;
	uint8_t pkt[4000];
	struct pp_reply r;
	struct pp_flow fl;
	size_t n = 0;
	FILE *f = fopen("tests/unit/fixtures/pathping_replies.txt", "r");

	(void)state;
	assert_non_null(f);
	while (!n && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %u %u %u %u %7999s", name, &sel, &kind, &id, &ext, hex) == 6 &&
		    !strcmp(name, "v6_ttl_udp"))
			n = unhex(hex, pkt, sizeof(pkt));
	fclose(f);
	assert_true(n > 0);
	flow_init(&fl, (uint8_t)sel);	/* the quote's source port is 20001 */
	fl.sport = 20001 + 7;		/* a later round's */
	assert_int_equal(pp_reply_parse(&fl, false, pkt, n, &r), -ENOENT);
	fl.sport_base = 20001 - 3;
	fl.sport_span = 512;
	assert_int_equal(pp_reply_parse(&fl, false, pkt, n, &r), 0);
	assert_int_equal(r.id, id);
	fl.sport_base = 20002;		/* the quote's port is below the span */
	assert_int_equal(pp_reply_parse(&fl, false, pkt, n, &r), -ENOENT);
}

/* The MDA's flows per responder: at 95 % the union bound gives the table
 * of the MDA papers for k = 1..6 (6, 11, 16, 21, 27, 33); more flows for a
 * higher confidence, fewer for a lower one. */
static void mda_needed(void **state)
{
	static const unsigned want95[] = { 6, 11, 16, 21, 27, 33 };

	(void)state;
	for (unsigned k = 1; k <= MP_ARRAY_SIZE(want95); k++)
		assert_int_equal(pp_mda_needed(k, 95), want95[k - 1]);
	assert_int_equal(pp_mda_needed(0, 95), 6);
	assert_true(pp_mda_needed(2, 99) > pp_mda_needed(2, 95));
	assert_true(pp_mda_needed(2, 50) < pp_mda_needed(2, 95));
}

/* Whether the kernel, running pp_flow_filter's program for f, lets pkt
 * through (a UNIX datagram pair: the program sees the bytes as sent). */
static bool filter_passes(const struct pp_flow *f, bool tcp, const uint8_t *pkt, size_t n)
{
	struct sock_filter code[PP_FILTER_MAX];
	int len = pp_flow_filter(f, tcp, code), sv[2];
	struct sock_fprog prog = { .len = (unsigned short)len, .filter = code };
	uint8_t b[4000];
	ssize_t got;

	assert_true(len > 0 && len <= PP_FILTER_MAX);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)), 0);
	assert_int_equal(send(sv[0], pkt, n, 0), (ssize_t)n);
	got = recv(sv[1], b, sizeof(b), MSG_DONTWAIT);
	close(sv[0]);
	close(sv[1]);
	return got == (ssize_t)n;
}

/* The filter keeps every reply the parser takes as f's (the fixtures of
 * replies_parse), and drops each of them for a flow with another
 * identifier and source port (another run's); an --all-paths range takes
 * its ports. */
static void receive_filter(void **state)
{
	static struct fixture x;
	unsigned kept = 0;
	FILE *f = fopen("tests/unit/fixtures/pathping_replies.txt", "r");

	(void)state;
	assert_non_null(f);
	while (fixture_next(f, &x)) {
		const char *name = x.name;
		const uint8_t *pkt = x.pkt;
		unsigned sel = x.sel;
		struct pp_reply r = { 0 };
		struct pp_flow fl, other;
		size_t n = x.n;

		flow_init(&fl, (uint8_t)sel);
		if (!fl.raw || pp_reply_parse(&fl, sel & 16, pkt, n, &r) < 0)
			continue;
		if (!filter_passes(&fl, sel & 16, pkt, n))
			fail_msg("%s: a reply of the flow dropped", name);
		other = fl;
		other.ident++;
		other.sport++;
		if (filter_passes(&other, sel & 16, pkt, n))
			fail_msg("%s: another flow's reply kept", name);
		if (fl.proto != PP_ICMP) {
			other.sport_base = (uint16_t)(fl.sport - 5);
			other.sport_span = 6;
			if (!filter_passes(&other, sel & 16, pkt, n))
				fail_msg("%s: a reply within the --all-paths range dropped", name);
			other.sport_base = (uint16_t)(fl.sport + 1);
			if (filter_passes(&other, sel & 16, pkt, n))
				fail_msg("%s: a reply outside the --all-paths range kept", name);
		}
		kept++;
	}
	fclose(f);
	assert_true(kept >= 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replies_parse),
		cmocka_unit_test(extensions_parse),
		cmocka_unit_test(extensions_truncated),
		cmocka_unit_test(probes_constant_flow),
		cmocka_unit_test(loss_split),
		cmocka_unit_test(ratelimit_detector),
		cmocka_unit_test(mda_needed),
		cmocka_unit_test(sport_span),
		cmocka_unit_test(receive_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
