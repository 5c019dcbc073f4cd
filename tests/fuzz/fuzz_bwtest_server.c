/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the bwtest server's control state machine and its
 * admission control (tools/bwtest/server.c over lib/admit.c); the message
 * decoder alone is fuzz_bwtest_ctrl.c. The server runs for real on
 * loopback (TCP control, UDP data) with a clock the input moves; clients
 * connect from 127.0.0.1 to 127.0.0.4 (four sources). The first octet picks
 * key mode or --no-auth; then operations, each an opcode octet and its
 * arguments:
 *
 *   0 S        connect a client from 127.0.0.(1 + S % 4)
 *   1 C L D..  write L octets D to client C's control connection
 *   2 C        write a correct AUTH for client C's session (its MAC
 *              computed with the key from the session's nonces): the
 *              fuzzer cannot forge HMACs, the harness lends it this one
 *   3 T        advance the clock by T * 16 ms
 *   4 C S Q Q  a forward data packet with client C's session token,
 *              stream S, sequence number Q Q
 *   5 C        close client C
 *
 * FZ_DEBUG=1 in the environment prints the server's counters of a run (to
 * check what a seed reaches). After each turn of the loop: the admission pools hold exactly the live
 * connections, no source exceeds its caps, and only admitted connections
 * are past the handshake.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/admit.c"
#include "../../lib/args.c"
#include "../../lib/auth.c"
#include "../../lib/clock.c"
#include "../../lib/seq.c"
#include "../../lib/sock.c"
#include "../../lib/stats.c"
#include "../../tools/bwtest/proto.c"
#include "../../tools/bwtest/stream.c"
#include "../../tools/bwtest/server.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The writer (lib/out*.c, one static namespace per file, so not #included
 * here) is not under test: records go nowhere. */
int mp_record_begin(struct mp_writer *w, const char *type) { (void)w; (void)type; return 0; }
int mp_record_end(struct mp_writer *w) { (void)w; return 0; }
int mp_doc_begin(struct mp_writer *w, const char *title) { (void)w; (void)title; return 0; }
int mp_doc_end(struct mp_writer *w) { (void)w; return 0; }
int mp_obj_begin(struct mp_writer *w, const char *key, const char *title)
{
	(void)w; (void)key; (void)title;
	return 0;
}
int mp_obj_end(struct mp_writer *w) { (void)w; return 0; }
#define STUB_PUT(name) \
	int name(struct mp_writer *w, const char *key, const char *fmt, ...) \
	{ (void)w; (void)key; (void)fmt; return 0; }
STUB_PUT(mp_put_u64_)
STUB_PUT(mp_put_f64_)
STUB_PUT(mp_put_str_)
int mp_put_bool_(struct mp_writer *w, const char *key, bool v, const char *fmt, ...)
{
	(void)w; (void)key; (void)v; (void)fmt;
	return 0;
}

enum { CLIENTS = 8, SOURCES = 4 };

struct fz {
	struct server sv;
	struct bw_opts o;
	int fd[CLIENTS];		/* client ends, -1: none */
	uint16_t lport[CLIENTS];	/* their local ports */
	uint16_t port;			/* the server's TCP port */
	uint64_t now;
};

static struct sess *sess_of(struct fz *f, unsigned c)
{
	struct sess *s;

	if (f->fd[c] < 0)
		return NULL;
	for (s = f->sv.sessions; s; s = s->next)
		if (ntohs(((struct sockaddr_in *)&s->peer)->sin_port) == f->lport[c] && !s->closing)
			return s;
	return NULL;
}

static void client_connect(struct fz *f, uint8_t src)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	unsigned c;
	int fd, one = 1;

	for (c = 0; c < CLIENTS && f->fd[c] >= 0; c++)
		;
	if (c == CLIENTS)
		return;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	a.sin_addr.s_addr = htonl(0x7f000001U + src % SOURCES);
	/* no Nagle: a message held for an ACK would reach the server only
	 * after the input is over */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	a.sin_addr.s_addr = htonl(0x7f000001U);
	a.sin_port = htons(f->port);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		goto fail;
	f->fd[c] = fd;
	f->lport[c] = ntohs(a.sin_port);
	return;
fail:
	close(fd);
}

static void client_auth(struct fz *f, unsigned c)
{
	struct bw_msg m = { .type = BW_MSG_AUTH };
	struct sess *s = sess_of(f, c);
	uint8_t in[128], buf[BW_CTRL_MAX];
	int n;

	if (!s || s->st != S_AUTH)
		return;
	if (f->sv.auth)
		mp_auth_hmac(&f->sv.key, in, bw_mac_input(false, s->nonce_c, s->nonce_s, 0,
							  &s->req, in), m.mac);
	n = bw_msg_encode(&m, buf, sizeof(buf));
	if (n > 0 && send(f->fd[c], buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return;
}

static void client_data(struct fz *f, unsigned c, uint8_t stream, uint16_t seq)
{
	struct sess *s = sess_of(f, c);
	struct bw_data_hdr h = { .dir = BW_FWD, .stream = stream, .seq = seq };
	uint8_t buf[BW_PAYLOAD_MAX];

	if (!s || !s->token)
		return;
	h.token = s->token;
	h.tx_ns = mp_clock_real_ns();
	memset(buf, 0, sizeof(buf));
	bw_data_encode(&h, buf);
	on_datagram(&f->sv, buf, MP_MAX(s->granted.payload_bytes, BW_DATA_HDR), &s->peer,
		    mp_clock_real_ns());
}

/* Read and drop what the server sent: its control channel must not fill. */
static void drain(struct fz *f)
{
	uint8_t buf[4096];

	for (unsigned c = 0; c < CLIENTS; c++)
		while (f->fd[c] >= 0 && recv(f->fd[c], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
}

static void check(struct fz *f)
{
	struct mp_admit_counters ac;
	uint64_t held = 0;
	struct sess *s;

	mp_admit_counters_get(f->sv.adm, &ac);
	for (s = f->sv.sessions; s; s = s->next) {
		held += s->adm != MP_ADMIT_NONE;
		/* past the handshake only with a session slot */
		if (!s->closing && s->st >= S_READY && (!s->accepted || s->adm < f->o.max_pending))
			abort();
	}
	if (held != ac.pending + ac.sessions || ac.sessions > f->o.max_sessions ||
	    ac.pending > f->o.max_pending)
		abort();
	if (!f->sv.auth && ac.budget_used_bps > f->o.open_budget_bps)
		abort();
	for (unsigned i = 0; i < SOURCES; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(0x7f000001U + i) };
		uint32_t np, ns;

		mp_admit_source_count(f->sv.adm, (struct sockaddr *)&a, &np, &ns);
		if (np > f->o.pending_per_source || ns > f->o.sessions_per_source)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	size_t i = 1;
	int r;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	f.o = (struct bw_opts){
		.server = true, .family = AF_INET, .port = 0, .format = MP_FMT_NDJSON,
		.max_sessions = 3, .sessions_per_source = data[0] & 1 ? 2 : 1,
		.max_pending = 4, .pending_per_source = 2, .handshake_ns = MP_NSEC_PER_SEC,
		.open_budget_bps = 2000000, .max_rate_bps = 10000000,
		.max_duration_ns = 2 * MP_NSEC_PER_SEC, .no_auth = !(data[0] & 1),
	};
	f.sv = (struct server){ .o = &f.o, .ep = -1, .lfd = { -1, -1 } };
	for (unsigned c = 0; c < CLIENTS; c++)
		f.fd[c] = -1;
	if (data[0] & 1) {
		static const uint8_t key[32] = { 0x5a };

		if (mp_auth_key_set(&f.sv.key, key, sizeof(key)) < 0)
			return 0;
		f.sv.auth = true;
	}
	r = server_open(&f.sv);
	if (r == 0 && getsockname(f.sv.lfd[0], (struct sockaddr *)&a, &len) == 0)
		f.port = ntohs(a.sin_port);
	f.now = mp_clock_mono_ns();
	while (r == 0 && f.port && i < size) {
		uint8_t op = data[i++] % 6, c = i < size ? data[i] % CLIENTS : 0;

		switch (op) {
		case 0:
			if (i < size)
				client_connect(&f, data[i++]);
			break;
		case 1:
			if (i + 1 < size && f.fd[c] >= 0) {
				size_t l = MP_MIN((size_t)data[i + 1], size - i - 2);

				if (send(f.fd[c], data + i + 2, l, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
					l = 0;
				i += 2 + l;
			} else {
				i = size;
			}
			break;
		case 2:
			client_auth(&f, c);
			i++;
			break;
		case 3:
			if (i < size)
				f.now += data[i++] * 16 * MP_NSEC_PER_MSEC;
			break;
		case 4:
			if (i + 3 < size)
				client_data(&f, c, data[i + 1], (uint16_t)(data[i + 2] << 8 | data[i + 3]));
			i += 4;
			break;
		default:
			if (f.fd[c] >= 0) {
				close(f.fd[c]);
				f.fd[c] = -1;
			}
			i++;
			break;
		}
		/* twice: what a turn sends, the next one's epoll may see answered */
		for (int k = 0; k < 2 && r == 0; k++) {
			r = turn(&f.sv, f.now, false);
			drain(&f);
			check(&f);
		}
	}
	for (unsigned c = 0; c < CLIENTS; c++)
		if (f.fd[c] >= 0)
			close(f.fd[c]);
	if (getenv("FZ_DEBUG"))
		fprintf(stderr, "accepted %" PRIu64 " completed %" PRIu64 " busy %" PRIu64
			" auth %" PRIu64 " protocol %" PRIu64 "\n", f.sv.accepted, f.sv.completed,
			f.sv.rejected_busy, f.sv.rejected_auth, f.sv.rejected_proto);
	server_close(&f.sv, false);
	return 0;
}
