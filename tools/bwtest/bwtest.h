/* SPDX-License-Identifier: MIT */
/*
 * bwtest: UDP loss / throughput / jitter tester. Shared by the tool's files:
 * the wire format (proto.c, docs/PROTOCOL.md "bwtest"), the per-direction
 * sender and receiver (stream.c), server.c, client.c, print.c, main.c.
 */
#ifndef BWTEST_H
#define BWTEST_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mp.h"
#include "args.h"
#include "auth.h"
#include "out.h"
#include "seq.h"
#include "sock.h"
#include "stats.h"
#include "run.h"

enum {
	BW_PORT = 5121,			/* TCP control + UDP data */
	BW_VERSION = 1,			/* control and data format version */
	BW_NONCE_BYTES = 16,		/* handshake nonces */
	BW_CTRL_HDR = 4,		/* length u16, version u8, type u8 */
	BW_CTRL_MAX = 1024,		/* largest control message, octets */
	BW_REASON_MAX = 200,		/* longest REJECT reason text */
	BW_DATA_HDR = 24,		/* data packet header, octets */
	BW_DATA_MAGIC = 0xb1,		/* first octet of a version-1 data packet */
	BW_STREAMS_MAX = 128,		/* -P */
	BW_BURST_BUCKETS = 10,		/* loss-burst histogram: 1..9, >= 10 */
	BW_PAYLOAD_MIN = BW_DATA_HDR,
	BW_PAYLOAD_MAX = 65507,
};

/* Control message types (docs/PROTOCOL.md). */
enum bw_msg_type {
	BW_MSG_HELLO = 1,	/* C->S: client nonce, requested parameters */
	BW_MSG_CHALLENGE = 2,	/* S->C: server nonce */
	BW_MSG_AUTH = 3,	/* C->S: HMAC over both nonces and the parameters */
	BW_MSG_ACCEPT = 4,	/* S->C: token, granted parameters, server's HMAC */
	BW_MSG_REJECT = 5,	/* S->C: code and reason; the server closes */
	BW_MSG_START = 6,	/* C->S: data starts now */
	BW_MSG_STOP = 7,	/* C->S: the client's senders stopped: their counts */
	BW_MSG_RESULT = 8,	/* S->C: forward receiver counts, reverse sent counts */
	BW_MSG_REPORT = 9,	/* S->C: one forward interval, as received */
};

enum bw_dir_flags {
	BW_FWD = 1U << 0,	/* client -> server data */
	BW_REV = 1U << 1,	/* server -> client data */
};

enum bw_reject_code {
	BW_REJ_PROTO = 1,	/* malformed message or version */
	BW_REJ_AUTH = 2,	/* HMAC wrong, or a key required */
	BW_REJ_BUSY = 3,	/* session cap reached */
	BW_REJ_PARAMS = 4,	/* parameters out of range */
};

enum bw_challenge_flags {
	BW_CH_NOAUTH = 1U << 0,	/* the server runs --no-auth: no MACs */
};

/* Session parameters: requested in HELLO, granted in ACCEPT. */
struct bw_params {
	uint16_t dirs;		/* enum bw_dir_flags */
	uint16_t streams;	/* streams per direction, 1..BW_STREAMS_MAX */
	uint16_t payload_bytes;	/* UDP payload per datagram */
	uint16_t udp_port;	/* client's UDP port (reverse data goes there) */
	uint64_t rate_bps;	/* per direction, payload bits/s; 0: the server's cap */
	uint64_t pps;		/* per direction, packets/s; overrides rate_bps if set */
	uint64_t duration_ns;	/* data phase length */
	uint64_t interval_ns;	/* REPORT interval for the forward direction; 0: none */
};

/* What one receiver counted for one direction (sum over its streams). */
struct bw_rx_counts {
	uint64_t expected;		/* sequence numbers the sender sent */
	uint64_t received;		/* unique packets */
	uint64_t lost;			/* expected - received */
	uint64_t duplicates;		/* RFC 5560 */
	uint64_t reordered;		/* RFC 4737 */
	uint64_t late;			/* after their loss horizon */
	uint64_t bytes;			/* payload bytes of unique packets */
	uint64_t loss_bursts;		/* runs of consecutive losses */
	uint64_t max_loss_burst;	/* longest run */
	uint64_t burst_hist[BW_BURST_BUCKETS]; /* runs of length 1..9, >= 10 */
	uint64_t jitter_ns;		/* RFC 3550 J, mean over streams, ns */
	uint64_t span_ns;		/* first to last unique arrival, ns */
	uint64_t owd_count;		/* one-way delay samples (raw) */
	int64_t owd_min_ns;		/* raw: includes the clock offset */
	int64_t owd_mean_ns;
	int64_t owd_max_ns;
	int64_t owd_p50_ns;
	int64_t owd_p99_ns;
	uint64_t dropped;		/* datagrams refused: bad token, size, address */
};

/* One interval of one direction as the receiver saw it. */
struct bw_interval {
	uint64_t start_ns;	/* since the data phase began */
	uint64_t end_ns;
	uint64_t received;	/* unique packets that arrived in the interval */
	uint64_t lost;		/* losses made final in the interval (see FORMATS.md) */
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t late;
	uint64_t bytes;		/* payload bytes of those unique packets */
	uint64_t jitter_ns;	/* J at the interval's end */
};

/* ---- proto.c: wire format; decoders check every bound. ---- */

struct bw_msg {
	uint8_t type;				/* enum bw_msg_type */
	uint8_t nonce[BW_NONCE_BYTES];		/* HELLO, CHALLENGE */
	uint16_t flags;				/* CHALLENGE */
	struct bw_params params;		/* HELLO, ACCEPT */
	uint8_t mac[MP_AUTH_MAC_BYTES];		/* AUTH, ACCEPT */
	uint64_t token;				/* ACCEPT */
	uint16_t code;				/* REJECT */
	char reason[BW_REASON_MAX + 1];		/* REJECT, NUL-terminated */
	uint16_t n_seq;				/* STOP, RESULT: entries in next_seq */
	uint32_t next_seq[BW_STREAMS_MAX];	/* per stream: sequence numbers sent */
	struct bw_rx_counts rx;			/* RESULT */
	struct bw_interval iv;			/* REPORT */
};

/* Encode m into buf (len bytes). Returns the length, or -EINVAL, -ENOSPC. */
int bw_msg_encode(const struct bw_msg *m, uint8_t *buf, size_t len);
/* Bytes of the message at the start of buf (len available): 0 while the
 * header is incomplete, -EBADMSG for a bad length or version. */
int bw_msg_frame(const uint8_t *buf, size_t len);
/* Decode one whole message (as framed by bw_msg_frame). Returns 0, or
 * -EBADMSG. */
int bw_msg_decode(const uint8_t *buf, size_t len, struct bw_msg *ret);
/* The bytes the MACs cover: label, both nonces, token (server) and the
 * parameters. Returns the length written into out (>= 128 bytes). */
size_t bw_mac_input(bool server, const uint8_t *nonce_c, const uint8_t *nonce_s,
		    uint64_t token, const struct bw_params *p, uint8_t *out);

struct bw_data_hdr {
	uint8_t dir;		/* enum bw_dir_flags: BW_FWD or BW_REV */
	uint16_t stream;	/* 0 .. streams - 1 */
	uint32_t seq;		/* from 0 */
	uint64_t token;		/* session token */
	uint64_t tx_ns;		/* sender's CLOCK_REALTIME at send */
};

void bw_data_encode(const struct bw_data_hdr *h, uint8_t *buf);
/* Returns 0, or -EBADMSG (short, wrong magic or direction). */
int bw_data_decode(const uint8_t *buf, size_t len, struct bw_data_hdr *ret);

/* ---- stream.c: pacing sender and accounting receiver of one direction. ---- */

struct bw_tx;
struct bw_rx;

/* Sender of `streams` streams on s towards dst. pps 0: as fast as possible. */
int bw_tx_new(struct bw_tx **ret, struct mp_sock *s, const struct sockaddr *dst,
	      socklen_t dst_len, uint8_t dir, uint64_t token, unsigned streams,
	      unsigned payload_bytes, double pps_total, bool gso);
void bw_tx_free(struct bw_tx *t);
/* Data starts at start_ns and stops at end_ns (CLOCK_MONOTONIC). */
void bw_tx_start(struct bw_tx *t, uint64_t start_ns, uint64_t end_ns);
/* Stop now (packets not yet sent are never sent). */
void bw_tx_stop(struct bw_tx *t, uint64_t now_ns);
/* Send what is due at now_ns (at most a bounded batch). Returns the next
 * CLOCK_MONOTONIC deadline (now_ns or earlier: call again at once; INT64_MAX:
 * done), or -errno from the socket other than EAGAIN/ENOBUFS. */
int64_t bw_tx_run(struct bw_tx *t, uint64_t now_ns);
bool bw_tx_done(const struct bw_tx *t);
unsigned bw_tx_streams(const struct bw_tx *t);
uint32_t bw_tx_next_seq(const struct bw_tx *t, unsigned stream);
uint64_t bw_tx_sent(const struct bw_tx *t);		/* packets, all streams */
uint64_t bw_tx_errors(const struct bw_tx *t);		/* send calls that failed */
uint64_t bw_tx_span_ns(const struct bw_tx *t);		/* first to last send */

int bw_rx_new(struct bw_rx **ret, uint8_t dir, uint64_t token, unsigned streams);
void bw_rx_free(struct bw_rx *r);
/* Account one datagram's payload (after the token was matched by the
 * caller or here: a wrong token counts as dropped). rx_ns: CLOCK_REALTIME. */
void bw_rx_add(struct bw_rx *r, const uint8_t *buf, size_t len, uint64_t rx_ns);
void bw_rx_drop(struct bw_rx *r);
/* Note NextExp: bw_rx_interval() makes what is below it final. Called half
 * an interval before each interval's end. */
void bw_rx_mark(struct bw_rx *r);
/* Close the interval [start_ns, end_ns) (data-phase clock) into *ret. */
int bw_rx_interval(struct bw_rx *r, uint64_t start_ns, uint64_t end_ns,
		   struct bw_interval *ret);
/* The sender's final counts arrived: next_seq[i] per stream. */
int bw_rx_finish(struct bw_rx *r, const uint32_t *next_seq, unsigned n);
int bw_rx_counts(struct bw_rx *r, struct bw_rx_counts *ret);

/* ---- server.c / client.c ---- */

struct bw_opts {
	bool server;
	const char *host;		/* client: server host */
	struct mp_run_opts run;		/* HOST..., --targets, --textfile */
	int family;			/* AF_UNSPEC, AF_INET, AF_INET6 */
	uint16_t port;
	const char *ifname;
	const char *key_file;
	bool no_auth;			/* server: accept clients without a key */
	struct bw_params req;		/* client: what to ask for */
	bool rate_set;			/* -b given */
	double find_max_pct;		/* --find-max threshold; < 0: off */
	uint64_t trial_ns;		/* --find-max trial length */
	enum mp_format format;
	const char *plot;
	bool quiet;
	int verbose;
	unsigned max_sessions;		/* server caps */
	unsigned sessions_per_source;	/* 0: max_sessions (key mode); 1 with no_auth */
	unsigned max_pending;		/* unauthenticated connections at once */
	unsigned pending_per_source;	/* of them from one source */
	uint64_t handshake_ns;		/* accept to AUTH */
	uint64_t open_budget_bps;	/* --no-auth: granted bit/s of all sessions */
	uint64_t status_ns;		/* server: status records every, 0: none */
	uint64_t max_rate_bps;
	uint64_t max_duration_ns;
	bool no_gso;
};

#define BW_NOAUTH_RATE_BPS 1000000ULL			/* --no-auth cap: 1 Mbit/s */
#define BW_NOAUTH_DURATION_NS (10ULL * MP_NSEC_PER_SEC)	/* --no-auth cap: 10 s */
#define BW_NOAUTH_STREAMS 8U				/* --no-auth cap: -P 8 */
#define BW_MAX_RATE_BPS 10000000000ULL			/* default cap: 10 Gbit/s */
#define BW_MAX_DURATION_NS (300ULL * MP_NSEC_PER_SEC)	/* default cap: 300 s */
#define BW_MAX_SESSIONS 64U				/* default cap */
#define BW_OPEN_BUDGET_BPS 10000000ULL			/* --no-auth: all sessions, 10 Mbit/s */
#define BW_GRACE_NS (300ULL * MP_NSEC_PER_MSEC)		/* in-flight wait after STOP */
#define BW_GSO_MIN_PPS 50000.0				/* GSO at this rate and above */

/* One direction of a finished run, both views. */
struct bw_dir_result {
	bool on;			/* this direction ran */
	uint64_t sent;			/* sender's view: packets */
	uint64_t tx_span_ns;		/* sender: first to last send */
	uint64_t tx_errors;
	struct bw_rx_counts rx;		/* receiver's view */
};

struct bw_trial {
	uint64_t rate_bps;	/* offered, payload bits/s */
	uint64_t pps;		/* offered */
	double loss_pct;	/* measured, the worse direction */
	uint64_t sent_pps;	/* the sender's achieved rate */
	uint64_t rx_pps;	/* received */
};

enum { BW_TRIALS_MAX = 40 };

struct bw_result {
	char server[MP_ADDR_PORT_STRLEN];	/* peer, text */
	const char *dst;			/* the host as given (opts: not owned) */
	char addr[MP_ADDR_STRLEN];		/* its address, without the port */
	struct bw_params granted;		/* as the server granted */
	uint64_t duration_ns;			/* data phase, measured */
	struct bw_dir_result fwd, rev;
	bool find_max;				/* --find-max ran */
	double find_max_pct;
	uint64_t max_rate_bps;			/* highest rate under the threshold */
	uint64_t max_pps;
	unsigned n_trials;
	struct bw_trial trials[BW_TRIALS_MAX];
	bool interrupted;			/* SIGINT ended it */
	char reject[BW_REASON_MAX + 1];		/* why the server refused, if it did */
};

/* Interval callback: one record per direction per interval; sent is the
 * sender's count for the interval when known here (else UINT64_MAX). */
#define BW_INTERVAL_FN(name) int (*name)(void *ctx, uint8_t dir, uint64_t sent, \
					 const struct bw_interval *iv)

extern volatile sig_atomic_t bw_stop_flag;

int bw_client_run(const struct bw_opts *o, struct bw_result *res, BW_INTERVAL_FN(fn),
		  void *ctx);
int bw_find_max(const struct bw_opts *o, struct bw_result *res);
int bw_server_run(const struct bw_opts *o, struct mp_writer *w);

/* ---- print.c ---- */

struct bw_point {
	uint8_t dir;		/* BW_FWD or BW_REV */
	double end_s;		/* interval end, s since the data phase began */
	double rate_bps;	/* received goodput */
	double loss_pct;	/* interval loss */
};

struct bw_print {
	struct mp_writer *w;	/* not owned */
	bool quiet;		/* keep points, write no interval records */
	struct bw_point *points;	/* for --plot */
	size_t n_points, cap_points;
};

/* ctx is a struct bw_print. */
int bw_print_interval(void *ctx, uint8_t dir, uint64_t sent, const struct bw_interval *iv);
int bw_print_result(struct mp_writer *w, const struct bw_result *res);
int bw_exit_status(const struct bw_result *res);
/* Prometheus HELP of the client's and the server's series. */
extern const struct mp_prom_help bw_prom_help[], bw_srv_prom_help[];
int bw_print_plot(const struct bw_print *p, const char *png, char *err, size_t errlen);
/* Several targets and --plot: p's rows into path (none without points);
 * bw_plot_targets draws them (struct mp_run_fns.plot). */
int bw_print_plot_csv(const struct bw_print *p, const char *path);
struct mp_run_target;
int bw_plot_targets(const struct mp_run_target *t, size_t n, const char *png,
		    const struct bw_opts *o);

#endif
