/* SPDX-License-Identifier: MIT */
/*
 * meshperf: datagram sockets for the measuring tools (UDP, ICMP, raw) with
 * kernel timestamps, the IP_RECVERR error queue, PMTU modes, TTL/TOS,
 * sendmmsg/recvmmsg batches and UDP GSO/GRO.
 *
 * One struct mp_sock wraps one socket of one family. AF_INET6 UDP sockets
 * are IPv6-only (IPV6_V6ONLY): every option and ancillary datum then applies
 * to all of their traffic, which is not true of v4-mapped traffic on a
 * dual-stack socket. Serve both families with two sockets.
 *
 * Times: software stamps are CLOCK_REALTIME ns, taken by the kernel (TX when
 * the driver got the packet, RX when the stack got it). Hardware stamps are
 * the NIC's PHC time in ns, which is only CLOCK_REALTIME if something (ptp4l,
 * phc2sys) keeps it so.
 *
 * Threads: a struct mp_sock is not thread-safe, except that one thread may
 * send (mp_sock_send*), one receive (mp_sock_recv*) and one read the error
 * queue (mp_sock_errqueue_read*) at the same time: they share no buffers.
 */
#ifndef MP_SOCK_H
#define MP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct mp_sock;

enum mp_sock_flags {
	MP_SOCK_TS_SW = 1U << 0,	/* software RX and TX kernel timestamps */
	MP_SOCK_TS_HW = 1U << 1,	/* hardware RX and TX stamps; see mp_sock_bind() */
	MP_SOCK_RECVERR = 1U << 2,	/* IP_RECVERR / IPV6_RECVERR: ICMP errors queued */
	MP_SOCK_NONBLOCK = 1U << 3,	/* O_NONBLOCK: receive returns -EAGAIN */
	MP_SOCK_PKTINFO = 1U << 4,	/* local address and ifindex of received datagrams */
	MP_SOCK_RECV_TTL = 1U << 5,	/* TTL / hop limit of received datagrams */
	MP_SOCK_RECV_TOS = 1U << 6,	/* TOS / traffic class of received datagrams */
	MP_SOCK_RXQ_OVFL = 1U << 7,	/* count datagrams dropped on a full receive buffer */
	MP_SOCK_TS_RX = 1U << 8,	/* software RX stamps only, no TX stamps (reflectors:
					 * nothing queued on the error queue per reply) */
};

/* Path MTU discovery mode: what the kernel does with DF and its PMTU cache. */
enum mp_pmtu {
	MP_PMTU_DONT,	/* no DF; the kernel fragments */
	MP_PMTU_WANT,	/* DF while the cached PMTU allows, else fragment (Linux default) */
	MP_PMTU_DO,	/* DF always; larger than the cached PMTU -> -EMSGSIZE */
	MP_PMTU_PROBE,	/* DF always; the cached PMTU is ignored (probing for MTU) */
};

enum {
	MP_SOCK_BATCH_MAX = 64,	/* most datagrams one send/recv batch call moves */
};

/* One received datagram. The caller sets buf and buf_len; the rest is output. */
struct mp_msg {
	void *buf;			/* in: where the payload goes */
	size_t buf_len;			/* in: size of buf in bytes */
	size_t len;			/* payload bytes stored (all GRO segments) */
	bool truncated;			/* the datagram was longer than buf_len */
	struct sockaddr_storage src;	/* sender */
	socklen_t src_len;		/* length of src */
	struct sockaddr_storage dst;	/* local address it was sent to (PKTINFO); port 0;
					 * ss_family AF_UNSPEC if unknown */
	int ifindex;			/* arriving interface (PKTINFO), 0 if unknown */
	/*
	 * Kernel RX stamp, ns (see top), 0 if none. Expect 0 for the first
	 * packets after the first stamping socket of an otherwise idle system
	 * opens: the kernel switches RX stamping on from a workqueue (a
	 * static key), a few ms later. Callers fall back to a clock read.
	 */
	uint64_t rx_ns;
	bool rx_hw;			/* rx_ns is a hardware stamp */
	int ttl;			/* IP TTL / IPv6 hop limit, -1 if absent */
	int tos;			/* IP TOS / IPv6 traffic class, -1 if absent */
	uint16_t gro_size;		/* GRO segment size in bytes, 0 if not coalesced */
	uint32_t drops;			/* datagrams this socket dropped so far on a full
					 * receive buffer (MP_SOCK_RXQ_OVFL), 0 if none */
};

/* One datagram to send in a batch. */
struct mp_txmsg {
	const void *buf;		/* payload */
	size_t len;			/* payload bytes */
	const struct sockaddr *dst;	/* destination, NULL on a connected socket */
	socklen_t dst_len;		/* length of *dst */
	uint32_t tx_id;			/* out: TX id (see mp_sock_send) */
};

enum mp_errq_kind {
	MP_ERRQ_TSTAMP = 1,	/* a TX timestamp of a datagram we sent */
	MP_ERRQ_ERROR,		/* an error: ICMP from the path, or local */
};

enum mp_ee_origin {
	MP_EE_LOCAL = 1,	/* raised by this host, e.g. EMSGSIZE over the PMTU */
	MP_EE_ICMP,		/* an ICMP (v4) message */
	MP_EE_ICMP6,		/* an ICMPv6 message */
};

/* One error-queue entry. The caller sets buf and buf_len; the rest is output. */
struct mp_errq {
	void *buf;			/* in: buffer for the quoted bytes, may be NULL */
	size_t buf_len;			/* in: size of buf in bytes */
	enum mp_errq_kind kind;		/* what this entry is */
	uint32_t tx_id;			/* TSTAMP: TX id of the datagram */
	uint64_t ts_ns;			/* TSTAMP: when the datagram left; ERROR: when the
					 * ICMP error arrived (MP_SOCK_TS_*); ns, 0 if none */
	bool hw;			/* ts_ns is a hardware stamp */
	int ee_errno;			/* ERROR: positive errno (ECONNREFUSED, EHOSTUNREACH,
					 * EMSGSIZE, ...) */
	enum mp_ee_origin origin;	/* ERROR: who raised it */
	uint8_t ee_type;		/* ERROR: ICMP / ICMPv6 type, 0 if local */
	uint8_t ee_code;		/* ERROR: ICMP / ICMPv6 code, 0 if local */
	uint32_t ee_info;		/* ERROR: MTU in bytes for frag-needed, packet-too-big
					 * and local EMSGSIZE; else as the kernel gives it
					 * (parameter-problem pointer, mostly 0) */
	struct sockaddr_storage offender; /* ERROR: sender of the ICMP message;
					   * ss_family AF_UNSPEC if none */
	struct sockaddr_storage dst;	/* ERROR: destination of the original datagram;
					 * ss_family AF_UNSPEC if unknown */
	int ttl;			/* ERROR: TTL / hop limit of the ICMP message as it
					 * arrived (MP_SOCK_RECV_TTL), -1 if absent */
	size_t payload_len;		/* ERROR: quoted bytes stored in buf */
	bool truncated;			/* more quoted bytes than buf_len */
};

/*
 * Open a socket. family: AF_INET or AF_INET6; type: SOCK_DGRAM or SOCK_RAW
 * (protocol e.g. 0/IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6); flags: any of
 * enum mp_sock_flags. The socket is close-on-exec.
 *
 * MP_SOCK_TS_SW and MP_SOCK_TS_HW turn on SO_TIMESTAMPING with OPT_ID,
 * OPT_TSONLY and OPT_CMSG: every received datagram carries its stamp and every
 * sent one queues a TX stamp, without payload, on the error queue. Those
 * count against the receive buffer: drain the queue (mp_sock_errqueue_read)
 * as fast as you send, or stamps are lost. With MP_SOCK_TS_HW the NIC itself
 * is set up by mp_sock_bind().
 *
 * *ret is set on success; free it with mp_sock_free().
 * Returns 0, or -errno (-EINVAL for an unknown family, type or flag).
 */
int mp_sock_open(struct mp_sock **ret, int family, int type, int protocol, unsigned flags);

/* Close the socket and free it. Accepts NULL. */
void mp_sock_free(struct mp_sock *s);

/* The file descriptor, for poll(): POLLIN for data, POLLERR for the error
 * queue. It stays owned by s. */
int mp_sock_fd(const struct mp_sock *s);

/*
 * Bind to a local address and/or an interface. addr (may be NULL: no bind())
 * is a sockaddr_in or sockaddr_in6 of addr_len bytes; ifname (may be NULL)
 * binds with SO_BINDTODEVICE (needs CAP_NET_RAW).
 *
 * On a socket opened with MP_SOCK_TS_HW, ifname is required and its NIC is
 * checked (ETHTOOL_GET_TS_INFO) and, unless already so, set to stamp all
 * packets (SIOCSHWTSTAMP: TX on, RX filter ALL or NTP_ALL; needs
 * CAP_NET_ADMIN, and changes the NIC for every user of it).
 * Returns 0, or -errno: -EOPNOTSUPP if the NIC cannot stamp in hardware (no
 * PHC, as on lo and veth), -EINVAL for MP_SOCK_TS_HW without ifname or a name
 * of IFNAMSIZ bytes or more, -EADDRINUSE, -ENODEV, ...
 */
int mp_sock_bind(struct mp_sock *s, const struct sockaddr *addr, socklen_t addr_len,
		 const char *ifname);

/* Connect to addr (addr_len bytes): the default destination and the only
 * source accepted. Returns 0, or -errno. */
int mp_sock_connect(struct mp_sock *s, const struct sockaddr *addr, socklen_t addr_len);

/* The local address (getsockname). *ret_addr and *ret_len set on success.
 * Returns 0, or -errno. */
int mp_sock_name_get(const struct mp_sock *s, struct sockaddr_storage *ret_addr,
		     socklen_t *ret_len);

/* TTL / unicast hop limit of sent datagrams, 1..255. Returns 0, or -errno. */
int mp_sock_ttl_set(struct mp_sock *s, int ttl);

/* TOS / traffic class byte of sent datagrams (DSCP << 2 | ECN), 0..255.
 * Returns 0, or -errno. */
int mp_sock_tos_set(struct mp_sock *s, int tos);

/* Path MTU discovery mode (IP_MTU_DISCOVER / IPV6_MTU_DISCOVER).
 * Returns 0, or -errno. */
int mp_sock_pmtu_set(struct mp_sock *s, enum mp_pmtu mode);

/* The kernel's current path MTU in bytes towards the connected peer
 * (IP_MTU / IPV6_MTU). *ret_mtu set on success.
 * Returns 0, or -errno (-ENOTCONN if not connected). */
int mp_sock_mtu_get(const struct mp_sock *s, unsigned *ret_mtu);

/* UDP GSO: each send of up to 64 segments is cut by the kernel into datagrams
 * of segment_bytes (the last may be shorter); 0 turns it off. One send is one
 * TX id and, with timestamps, one TX stamp. Returns 0, or -errno. */
int mp_sock_gso_set(struct mp_sock *s, unsigned segment_bytes);

/* UDP GRO: back-to-back datagrams of one flow may arrive as one mp_msg of
 * several segments of mp_msg.gro_size bytes (give it a 64 KiB buffer).
 * Returns 0, or -errno. */
int mp_sock_gro_set(struct mp_sock *s, bool on);

/* Socket buffer sizes in bytes (0 leaves one unchanged). Uses the *FORCE
 * variants when privileged, so rmem_max/wmem_max do not cap them.
 * Returns 0, or -errno. */
int mp_sock_buf_set(struct mp_sock *s, unsigned rcv_bytes, unsigned snd_bytes);

/*
 * Send one datagram of len bytes to dst (dst_len bytes; NULL when connected).
 * *ret_tx_id (may be NULL) gets its TX id, the key its TX stamp will carry on
 * the error queue: a per-socket counter of datagrams sent, from 0, wrapping at
 * 2^32 (SOF_TIMESTAMPING_OPT_ID semantics). Where the kernel has
 * SCM_TS_OPT_ID (Linux 6.13+), the id travels with each send, so a failed
 * send never shifts the ids; on older kernels the ids follow the kernel's own
 * counter, which may also count a send that failed inside the stack.
 *
 * Returns the bytes sent, or -errno: -EAGAIN (non-blocking, buffer full),
 * -EMSGSIZE (over the PMTU with MP_PMTU_DO/PROBE: the MTU is on the error
 * queue with MP_SOCK_RECVERR), or once after an ICMP error with
 * MP_SOCK_RECVERR its errno (-ECONNREFUSED, ...).
 */
int mp_sock_send(struct mp_sock *s, const void *buf, size_t len, const struct sockaddr *dst,
		 socklen_t dst_len, uint32_t *ret_tx_id);

/*
 * As mp_sock_send(), from a chosen local address and/or interface
 * (IP_PKTINFO / IPV6_PKTINFO): src (may be NULL: the kernel's choice) is a
 * sockaddr_in or sockaddr_in6 of the socket's family whose port is ignored;
 * ifindex (0: any) is the interface to send by. A server bound to a
 * wildcard address answers from the address a request was sent to (mp_msg
 * dst and ifindex), so the client sees the address it talked to.
 * Returns the bytes sent, or -errno as mp_sock_send(), -EINVAL for a src of
 * the wrong family or a negative ifindex; a src that is not an address of
 * this host is refused by the kernel (-EINVAL, -ENETUNREACH, ...).
 */
int mp_sock_send_from(struct mp_sock *s, const void *buf, size_t len, const struct sockaddr *dst,
		      socklen_t dst_len, const struct sockaddr *src, int ifindex,
		      uint32_t *ret_tx_id);

/*
 * Send up to n datagrams (at most MP_SOCK_BATCH_MAX per call) with one
 * sendmmsg(); msgs[i].tx_id is set for each one sent.
 * Returns how many were sent (from msgs[0] on; fewer than n when the buffer
 * filled or the (n+1)th failed: call again with the rest), or -errno if the
 * first failed.
 */
int mp_sock_send_batch(struct mp_sock *s, struct mp_txmsg *msgs, unsigned n);

/*
 * Receive one datagram into m (m->buf, m->buf_len set by the caller); fills
 * every other field of m. Blocks unless MP_SOCK_NONBLOCK.
 * Returns the payload bytes stored, or -errno: -EAGAIN (non-blocking, none
 * there), or with MP_SOCK_RECVERR once the errno of an ICMP error that
 * arrived (-ECONNREFUSED, -EHOSTUNREACH, ...): its details are on the error
 * queue, and the next call receives normally.
 */
int mp_sock_recv(struct mp_sock *s, struct mp_msg *m);

/*
 * Receive up to n datagrams (at most MP_SOCK_BATCH_MAX per call) with one
 * recvmmsg(); waits only for the first (MSG_WAITFORONE). msgs[i] as for
 * mp_sock_recv().
 * Returns how many were received (>= 1), or -errno as mp_sock_recv().
 */
int mp_sock_recv_batch(struct mp_sock *s, struct mp_msg *msgs, unsigned n);

/*
 * Read one entry of the error queue into e (e->buf, e->buf_len set by the
 * caller): a TX stamp or an error. Never blocks; poll() for POLLERR.
 * For ERROR entries buf gets the bytes the ICMP message quoted, as the kernel
 * returns them: for UDP the original UDP payload (as much as was quoted), for
 * ICMP sockets from the ICMP header on, for raw IPv4 from the IP header on;
 * none for local errors. Entries of other kinds (TX_SCHED, zerocopy) are
 * skipped. Returns 0, or -errno: -EAGAIN when the queue is empty.
 */
int mp_sock_errqueue_read(struct mp_sock *s, struct mp_errq *e);

/*
 * Read up to n error-queue entries (at most MP_SOCK_BATCH_MAX per call) with
 * one recvmmsg(); e[i] as for mp_sock_errqueue_read(), each with its own
 * buf (or none). At high rates with TX stamps this saves a syscall per
 * stamp. Never blocks. Returns how many entries were stored in e[0..]
 * (>= 1), or -errno: -EAGAIN when the queue is empty.
 */
int mp_sock_errqueue_read_batch(struct mp_sock *s, struct mp_errq *e, unsigned n);

/*
 * STYLE.md M3, once the raw sockets (or a capture) are open: a set-uid (or
 * set-gid) process returns to its caller's ids for good, and a process
 * that is not root (a set-uid one after that, or one given file
 * capabilities) clears its capability sets; run by root itself there is no
 * one else to become and nothing changes. Returns 0, or -errno (a failed
 * drop, or privilege that could be regained: -EPERM), which is fatal.
 */
int mp_sock_privileges_drop(void);

#endif
