/* SPDX-License-Identifier: MIT */
/*
 * Datagram sockets with kernel timestamps, the error queue and batches
 * (sock.h). Every ancillary message the kernel hands back, on the data path
 * and on the error queue, goes through cmsg_parse().
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>

#include "mp.h"
#include "sock.h"

/*
 * SCM_TS_OPT_ID (Linux 6.13) lets each send carry its own timestamp key.
 * Without it the key is a kernel counter that a send failing inside the stack
 * may or may not have advanced, so ids cannot be predicted after an error.
 * Older headers lack it; only the asm-generic value is known here.
 */
#if !defined(SCM_TS_OPT_ID) && !defined(__alpha__) && !defined(__hppa__) && \
	!defined(__mips__) && !defined(__sparc__)
#define SCM_TS_OPT_ID 81
#endif

enum {
	/* Every cmsg we enable at once: SCM_TIMESTAMPING 64, PKTINFO <= 40,
	 * TTL, TOS, GRO, RXQ_OVFL 24 each, RECVERR + offender 64. */
	CTRL_RX_BYTES = 384,
	TS_FLAGS_COMMON = SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY |
			  SOF_TIMESTAMPING_OPT_CMSG,
	TS_FLAGS_SW = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_TX_SOFTWARE |
		      SOF_TIMESTAMPING_SOFTWARE,
	TS_FLAGS_HW = SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_TX_HARDWARE |
		      SOF_TIMESTAMPING_RAW_HARDWARE,
	TS_FLAGS_RX = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE,
	SOCK_FLAGS_ALL = MP_SOCK_TS_SW | MP_SOCK_TS_HW | MP_SOCK_RECVERR | MP_SOCK_NONBLOCK |
			 MP_SOCK_PKTINFO | MP_SOCK_RECV_TTL | MP_SOCK_RECV_TOS |
			 MP_SOCK_RXQ_OVFL | MP_SOCK_TS_RX,
};

union ctrl_rx {
	char buf[CTRL_RX_BYTES];
	struct cmsghdr align;
};

/* The TX id (SCM_TS_OPT_ID) and the source (IP(V6)_PKTINFO) of one send. */
union ctrl_tx {
	char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

/* Where a datagram leaves from: a local address and/or interface. */
struct tx_src {
	const struct sockaddr *addr;	/* sockaddr_in/in6, NULL: the kernel's choice */
	int ifindex;			/* 0: any */
};

struct rx_batch {
	struct mmsghdr mm[MP_SOCK_BATCH_MAX];
	struct iovec iov[MP_SOCK_BATCH_MAX];
	union ctrl_rx ctrl[MP_SOCK_BATCH_MAX];
};

struct tx_batch {
	struct mmsghdr mm[MP_SOCK_BATCH_MAX];
	struct iovec iov[MP_SOCK_BATCH_MAX];
	union ctrl_tx ctrl[MP_SOCK_BATCH_MAX];
};

struct errq_batch {
	struct mmsghdr mm[MP_SOCK_BATCH_MAX];
	struct iovec iov[MP_SOCK_BATCH_MAX];
	union ctrl_rx ctrl[MP_SOCK_BATCH_MAX];
	struct sockaddr_storage name[MP_SOCK_BATCH_MAX];
};

enum opt_id_cmsg {
	OPT_ID_CMSG_UNKNOWN,	/* no send has told yet */
	OPT_ID_CMSG_YES,	/* the kernel takes SCM_TS_OPT_ID */
	OPT_ID_CMSG_NO,		/* it refused it: ids follow the kernel's counter */
};

struct mp_sock {
	int fd;				/* the socket, -1 until created */
	int family;			/* AF_INET or AF_INET6 */
	unsigned flags;			/* enum mp_sock_flags */
	uint32_t tx_next;		/* TX id of the next datagram */
	enum opt_id_cmsg opt_id_cmsg;	/* whether sends carry SCM_TS_OPT_ID */
	struct rx_batch *rx;		/* recvmmsg arrays, allocated on first use */
	struct tx_batch *tx;		/* sendmmsg arrays, allocated on first use */
	struct errq_batch *eq;		/* error-queue recvmmsg arrays, ditto */
};

/* A sock_extended_err and its offender, copied out of the control buffer. */
struct ee_copy {
	bool found;				/* an IP(V6)_RECVERR cmsg was there */
	struct sock_extended_err ee;
	struct sockaddr_storage offender;	/* AF_UNSPEC if none */
};

/* Receive-side options switched on by a flag: IPv4 and IPv6 names. */
static const struct {
	unsigned flag;
	int v4;
	int v6;
} flag_opts[] = {
	{ MP_SOCK_RECVERR, IP_RECVERR, IPV6_RECVERR },
	{ MP_SOCK_PKTINFO, IP_PKTINFO, IPV6_RECVPKTINFO },
	{ MP_SOCK_RECV_TTL, IP_RECVTTL, IPV6_RECVHOPLIMIT },
	{ MP_SOCK_RECV_TOS, IP_RECVTOS, IPV6_RECVTCLASS },
};

static const int pmtu_v4[] = {
	[MP_PMTU_DONT] = IP_PMTUDISC_DONT,
	[MP_PMTU_WANT] = IP_PMTUDISC_WANT,
	[MP_PMTU_DO] = IP_PMTUDISC_DO,
	[MP_PMTU_PROBE] = IP_PMTUDISC_PROBE,
};

static const int pmtu_v6[] = {
	[MP_PMTU_DONT] = IPV6_PMTUDISC_DONT,
	[MP_PMTU_WANT] = IPV6_PMTUDISC_WANT,
	[MP_PMTU_DO] = IPV6_PMTUDISC_DO,
	[MP_PMTU_PROBE] = IPV6_PMTUDISC_PROBE,
};

static int sso(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) < 0 ? -errno : 0;
}

/* Set the option of the socket's own family. */
static int ip_sso(const struct mp_sock *s, int v4, int v6, int val)
{
	if (s->family == AF_INET)
		return sso(s->fd, IPPROTO_IP, v4, val);
	return sso(s->fd, IPPROTO_IPV6, v6, val);
}

static int ts_flags(unsigned flags)
{
	int f = TS_FLAGS_COMMON;

	/* RX only: no OPT_ID, nothing is ever queued for a send. */
	if (!(flags & (MP_SOCK_TS_SW | MP_SOCK_TS_HW)))
		return TS_FLAGS_RX;

	if (flags & MP_SOCK_TS_SW)
		f |= TS_FLAGS_SW;
	if (flags & MP_SOCK_TS_HW)
		f |= TS_FLAGS_HW;
	/* Without OPT_TX_SWHW a pending hardware TX stamp suppresses the
	 * software one. */
	if ((flags & MP_SOCK_TS_SW) && (flags & MP_SOCK_TS_HW))
		f |= SOF_TIMESTAMPING_OPT_TX_SWHW;
	return f;
}

int mp_sock_open(struct mp_sock **ret, int family, int type, int protocol, unsigned flags)
{
	struct mp_sock *s = NULL;
	size_t i;
	int r;

	if (!ret || (family != AF_INET && family != AF_INET6) ||
	    (type != SOCK_DGRAM && type != SOCK_RAW) || (flags & ~(unsigned)SOCK_FLAGS_ALL))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->family = family;
	s->flags = flags;

	s->fd = socket(family, type | SOCK_CLOEXEC |
		       (flags & MP_SOCK_NONBLOCK ? SOCK_NONBLOCK : 0), protocol);
	if (s->fd < 0) {
		r = -errno;
		goto out;
	}
	/* Raw IPv6 sockets see only IPv6 and refuse the option (EINVAL). */
	if (family == AF_INET6 && type == SOCK_DGRAM) {
		r = sso(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
		if (r < 0)
			goto out;
	}
	for (i = 0; i < MP_ARRAY_SIZE(flag_opts); i++) {
		if (!(flags & flag_opts[i].flag))
			continue;
		r = ip_sso(s, flag_opts[i].v4, flag_opts[i].v6, 1);
		if (r < 0)
			goto out;
	}
	if (flags & MP_SOCK_RXQ_OVFL) {
		r = sso(s->fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
		if (r < 0)
			goto out;
	}
	if (flags & (MP_SOCK_TS_SW | MP_SOCK_TS_HW | MP_SOCK_TS_RX)) {
		r = sso(s->fd, SOL_SOCKET, SO_TIMESTAMPING, ts_flags(flags));
		if (r < 0)
			goto out;
	}
	*ret = s;
	s = NULL;
	r = 0;
out:
	mp_sock_free(s);
	return r;
}

void mp_sock_free(struct mp_sock *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->rx);
	free(s->tx);
	free(s->eq);
	free(s);
}

int mp_sock_fd(const struct mp_sock *s)
{
	return s ? s->fd : -EBADF;
}

/* Check that ifname stamps in hardware and make it stamp every packet. */
static int hwts_enable(struct mp_sock *s, const char *ifname)
{
	const unsigned need = TS_FLAGS_HW;
	struct ethtool_ts_info info = { .cmd = ETHTOOL_GET_TS_INFO };
	struct hwtstamp_config cfg = { 0 };
	struct ifreq ifr = { 0 };
	int filter;

	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	ifr.ifr_data = (char *)&info;
	if (ioctl(s->fd, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	if ((info.so_timestamping & need) != need || info.phc_index < 0 ||
	    !(info.tx_types & (1U << HWTSTAMP_TX_ON)))
		return -EOPNOTSUPP;
	if (info.rx_filters & (1U << HWTSTAMP_FILTER_ALL))
		filter = HWTSTAMP_FILTER_ALL;
	else if (info.rx_filters & (1U << HWTSTAMP_FILTER_NTP_ALL))
		filter = HWTSTAMP_FILTER_NTP_ALL;
	else
		return -EOPNOTSUPP;

	/* A NIC that already stamps everything (ptp4l, another of our tools)
	 * is left alone: no privilege needed, nobody else disturbed. */
	ifr.ifr_data = (char *)&cfg;
	if (ioctl(s->fd, SIOCGHWTSTAMP, &ifr) == 0 && cfg.tx_type == HWTSTAMP_TX_ON &&
	    (cfg.rx_filter == HWTSTAMP_FILTER_ALL || cfg.rx_filter == filter))
		return 0;
	cfg = (struct hwtstamp_config){ .tx_type = HWTSTAMP_TX_ON, .rx_filter = filter };
	if (ioctl(s->fd, SIOCSHWTSTAMP, &ifr) < 0)
		return errno == ERANGE ? -EOPNOTSUPP : -errno;
	/* The driver writes back what it set; it may only widen the filter. */
	if (cfg.tx_type != HWTSTAMP_TX_ON || cfg.rx_filter == HWTSTAMP_FILTER_NONE)
		return -EOPNOTSUPP;
	return 0;
}

int mp_sock_bind(struct mp_sock *s, const struct sockaddr *addr, socklen_t addr_len,
		 const char *ifname)
{
	int r;

	if (!s || (ifname && (!*ifname || strnlen(ifname, IFNAMSIZ) >= IFNAMSIZ)) ||
	    ((s->flags & MP_SOCK_TS_HW) && !ifname))
		return -EINVAL;
	/* Hardware first: a NIC that cannot stamp fails before any change. */
	if (s->flags & MP_SOCK_TS_HW) {
		r = hwts_enable(s, ifname);
		if (r < 0)
			return r;
	}
	if (ifname && setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
				 (socklen_t)strlen(ifname)) < 0)
		return -errno;
	if (addr && bind(s->fd, addr, addr_len) < 0)
		return -errno;
	return 0;
}

int mp_sock_connect(struct mp_sock *s, const struct sockaddr *addr, socklen_t addr_len)
{
	if (!s || !addr)
		return -EINVAL;
	return connect(s->fd, addr, addr_len) < 0 ? -errno : 0;
}

int mp_sock_name_get(const struct mp_sock *s, struct sockaddr_storage *ret_addr,
		     socklen_t *ret_len)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!s || !ret_addr || !ret_len)
		return -EINVAL;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	*ret_addr = ss;
	*ret_len = len;
	return 0;
}

int mp_sock_ttl_set(struct mp_sock *s, int ttl)
{
	if (!s || ttl < 1 || ttl > 255)
		return -EINVAL;
	return ip_sso(s, IP_TTL, IPV6_UNICAST_HOPS, ttl);
}

int mp_sock_tos_set(struct mp_sock *s, int tos)
{
	if (!s || tos < 0 || tos > 255)
		return -EINVAL;
	return ip_sso(s, IP_TOS, IPV6_TCLASS, tos);
}

int mp_sock_pmtu_set(struct mp_sock *s, enum mp_pmtu mode)
{
	if (!s || (unsigned)mode >= MP_ARRAY_SIZE(pmtu_v4))
		return -EINVAL;
	return ip_sso(s, IP_MTU_DISCOVER, IPV6_MTU_DISCOVER,
		      s->family == AF_INET ? pmtu_v4[mode] : pmtu_v6[mode]);
}

int mp_sock_mtu_get(const struct mp_sock *s, unsigned *ret_mtu)
{
	socklen_t len;
	int mtu, r;

	if (!s || !ret_mtu)
		return -EINVAL;
	len = sizeof(mtu);
	if (s->family == AF_INET)
		r = getsockopt(s->fd, IPPROTO_IP, IP_MTU, &mtu, &len);
	else
		r = getsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len);
	if (r < 0)
		return -errno;
	if (mtu <= 0)
		return -EIO;
	*ret_mtu = (unsigned)mtu;
	return 0;
}

int mp_sock_gso_set(struct mp_sock *s, unsigned segment_bytes)
{
	if (!s || segment_bytes > UINT16_MAX)
		return -EINVAL;
	return sso(s->fd, SOL_UDP, UDP_SEGMENT, (int)segment_bytes);
}

int mp_sock_gro_set(struct mp_sock *s, bool on)
{
	if (!s)
		return -EINVAL;
	return sso(s->fd, SOL_UDP, UDP_GRO, on);
}

/* The FORCE variant ignores rmem_max/wmem_max but needs CAP_NET_ADMIN. */
static int buf_set(int fd, int force, int plain, unsigned bytes)
{
	int r;

	if (!bytes)
		return 0;
	if (bytes > INT_MAX / 2)
		return -EINVAL;
	r = sso(fd, SOL_SOCKET, force, (int)bytes);
	if (r == -EPERM)
		r = sso(fd, SOL_SOCKET, plain, (int)bytes);
	return r;
}

int mp_sock_buf_set(struct mp_sock *s, unsigned rcv_bytes, unsigned snd_bytes)
{
	int r;

	if (!s)
		return -EINVAL;
	r = buf_set(s->fd, SO_RCVBUFFORCE, SO_RCVBUF, rcv_bytes);
	if (r < 0)
		return r;
	return buf_set(s->fd, SO_SNDBUFFORCE, SO_SNDBUF, snd_bytes);
}

/* Sends carry their id when TX stamps are on and the kernel takes it. */
static bool tx_id_cmsg(const struct mp_sock *s)
{
#ifdef SCM_TS_OPT_ID
	return (s->flags & (MP_SOCK_TS_SW | MP_SOCK_TS_HW)) &&
	       s->opt_id_cmsg != OPT_ID_CMSG_NO;
#else
	(void)s;
	return false;
#endif
}

/* Append one cmsg of len bytes to mh's control buffer (msg_control points
 * to a union ctrl_tx, msg_controllen counts what is used). */
static void cmsg_append(struct msghdr *mh, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *cm = (struct cmsghdr *)(void *)((char *)mh->msg_control +
							 mh->msg_controllen);

	memset(cm, 0, CMSG_SPACE(len));
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	mh->msg_controllen += CMSG_SPACE(len);
}

/* Check a source for the socket's family. Returns 0, or -EINVAL. */
static int tx_src_check(const struct mp_sock *s, const struct tx_src *src)
{
	if (src->ifindex < 0)
		return -EINVAL;
	if (src->addr && src->addr->sa_family != s->family)
		return -EINVAL;
	return 0;
}

/* Build mh's ancillary data in c: the TX id (if with_id) and the source (if
 * any); no control at all when neither. */
static void tx_ctrl_build(const struct mp_sock *s, struct msghdr *mh, union ctrl_tx *c,
			  bool with_id, uint32_t id, const struct tx_src *src)
{
	mh->msg_control = c->buf;
	mh->msg_controllen = 0;
#ifdef SCM_TS_OPT_ID
	if (with_id)
		cmsg_append(mh, SOL_SOCKET, SCM_TS_OPT_ID, &id, sizeof(id));
#else
	(void)with_id;
	(void)id;
#endif
	if (src && (src->addr || src->ifindex)) {
		if (s->family == AF_INET) {
			struct in_pktinfo pi = { .ipi_ifindex = src->ifindex };

			if (src->addr)
				pi.ipi_spec_dst = ((const struct sockaddr_in *)(const void *)
						   src->addr)->sin_addr;
			cmsg_append(mh, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi = { .ipi6_ifindex = (unsigned)src->ifindex };

			if (src->addr)
				pi.ipi6_addr = ((const struct sockaddr_in6 *)(const void *)
						src->addr)->sin6_addr;
			cmsg_append(mh, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
	}
	if (!mh->msg_controllen)
		mh->msg_control = NULL;
}

/* sendmsg() one datagram with the next TX id and the source src (may be
 * NULL), its cmsgs built in c (which mh then points to).
 * Returns bytes, or -errno. */
static ssize_t send_one(struct mp_sock *s, struct msghdr *mh, union ctrl_tx *c,
			const struct tx_src *src)
{
	bool with_id = tx_id_cmsg(s);
	ssize_t n;

	tx_ctrl_build(s, mh, c, with_id, s->tx_next, src);
	n = sendmsg(s->fd, mh, 0);
	if (with_id && s->opt_id_cmsg == OPT_ID_CMSG_UNKNOWN) {
		if (n >= 0) {
			s->opt_id_cmsg = OPT_ID_CMSG_YES;
		} else if (errno == EINVAL) {
			/* Kernels before 6.13 refuse the unknown cmsg. If the send
			 * goes through without it, the kernel counts: nothing was
			 * sent before, so its counter and ours both stand at 0. */
			tx_ctrl_build(s, mh, c, false, 0, src);
			n = sendmsg(s->fd, mh, 0);
			if (n >= 0)
				s->opt_id_cmsg = OPT_ID_CMSG_NO;
		}
	}
	if (n < 0)
		return -errno;
	s->tx_next++;
	return n;
}

static int send_src(struct mp_sock *s, const void *buf, size_t len, const struct sockaddr *dst,
		    socklen_t dst_len, const struct tx_src *src, uint32_t *ret_tx_id)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = (void *)(uintptr_t)dst,
		.msg_namelen = dst ? dst_len : 0,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	union ctrl_tx c;
	uint32_t id;
	ssize_t n;

	if (!s || (!buf && len))
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;
	id = s->tx_next;
	n = send_one(s, &mh, &c, src);
	if (n < 0)
		return (int)n;
	if (ret_tx_id)
		*ret_tx_id = id;
	return (int)n;
}

int mp_sock_send(struct mp_sock *s, const void *buf, size_t len, const struct sockaddr *dst,
		 socklen_t dst_len, uint32_t *ret_tx_id)
{
	return send_src(s, buf, len, dst, dst_len, NULL, ret_tx_id);
}

int mp_sock_send_from(struct mp_sock *s, const void *buf, size_t len, const struct sockaddr *dst,
		      socklen_t dst_len, const struct sockaddr *src, int ifindex,
		      uint32_t *ret_tx_id)
{
	struct tx_src from = { .addr = src, .ifindex = ifindex };
	int r;

	if (!s)
		return -EINVAL;
	r = tx_src_check(s, &from);
	if (r < 0)
		return r;
	return send_src(s, buf, len, dst, dst_len, &from, ret_tx_id);
}

int mp_sock_send_batch(struct mp_sock *s, struct mp_txmsg *msgs, unsigned n)
{
	struct tx_batch *b;
	unsigned i, done = 0;
	bool with_id;
	int r;

	if (!s || (!msgs && n))
		return -EINVAL;
	n = MP_MIN(n, (unsigned)MP_SOCK_BATCH_MAX);
	if (!n)
		return 0;
	/* The first send finds out whether the kernel takes SCM_TS_OPT_ID;
	 * an EINVAL from sendmmsg() would not say which message it was. */
	if (tx_id_cmsg(s) && s->opt_id_cmsg == OPT_ID_CMSG_UNKNOWN) {
		r = mp_sock_send(s, msgs[0].buf, msgs[0].len, msgs[0].dst, msgs[0].dst_len,
				 &msgs[0].tx_id);
		if (r < 0 || n == 1)
			return r < 0 ? r : 1;
		done = 1;
	}
	if (!s->tx) {
		s->tx = malloc(sizeof(*s->tx));
		if (!s->tx)
			return done ? (int)done : -ENOMEM;
	}
	b = s->tx;
	with_id = tx_id_cmsg(s);
	for (i = 0; i < n - done; i++) {
		const struct mp_txmsg *t = &msgs[done + i];

		b->iov[i] = (struct iovec){ .iov_base = (void *)(uintptr_t)t->buf,
					    .iov_len = t->len };
		b->mm[i].msg_hdr = (struct msghdr){
			.msg_name = (void *)(uintptr_t)t->dst,
			.msg_namelen = t->dst ? t->dst_len : 0,
			.msg_iov = &b->iov[i],
			.msg_iovlen = 1,
		};
		b->mm[i].msg_len = 0;
		tx_ctrl_build(s, &b->mm[i].msg_hdr, &b->ctrl[i], with_id, s->tx_next + i, NULL);
	}
	r = sendmmsg(s->fd, b->mm, n - done, 0);
	if (r < 0)
		return done ? (int)done : -errno;
	for (i = 0; i < (unsigned)r; i++)
		msgs[done + i].tx_id = s->tx_next++;
	return (int)done + r;
}

static uint64_t ts_ns(int64_t sec, int64_t nsec)
{
	return (uint64_t)sec * MP_NSEC_PER_SEC + (uint64_t)nsec;
}

/* A stamp that is there (not 0) and is a time in ns after 1970 that fits 64 bits
 * (a negative or out-of-range one made a wrapped rx_ns, even 0, before: found
 * by fuzz_sock_cmsg). */
static bool ts_ok(int64_t sec, int64_t nsec)
{
	return (sec || nsec) && sec >= 0 && nsec >= 0 && nsec < (int64_t)MP_NSEC_PER_SEC &&
	       (uint64_t)sec < UINT64_MAX / MP_NSEC_PER_SEC;
}

/* Copy a cmsg's payload of exactly-known size; false if it is short. */
static bool cm_get(const struct cmsghdr *cm, void *out, size_t len)
{
	if (cm->cmsg_len < CMSG_LEN(len))
		return false;
	memcpy(out, CMSG_DATA(cm), len);
	return true;
}

/* A TTL, hop limit or traffic class: an int the kernel keeps in 0..255 (one
 * outside went out as is before: found by fuzz_sock_cmsg). */
static bool cm_get_u8_int(const struct cmsghdr *cm, int *out)
{
	int v;

	if (!cm_get(cm, &v, sizeof(v)) || v < 0 || v > 255)
		return false;
	*out = v;
	return true;
}

/* SCM_TIMESTAMPING: ts[0] software, ts[2] raw hardware; hardware wins. */
static void stamp_parse(const struct cmsghdr *cm, struct mp_msg *m)
{
	int64_t sec[3], nsec[3];
	int i;

	if (cm->cmsg_type == SO_TIMESTAMPING_NEW) {
		struct scm_timestamping64 t;

		if (!cm_get(cm, &t, sizeof(t)))
			return;
		for (i = 0; i < 3; i++) {
			sec[i] = t.ts[i].tv_sec;
			nsec[i] = t.ts[i].tv_nsec;
		}
	} else {
		struct scm_timestamping t;

		if (!cm_get(cm, &t, sizeof(t)))
			return;
		for (i = 0; i < 3; i++) {
			sec[i] = t.ts[i].tv_sec;
			nsec[i] = t.ts[i].tv_nsec;
		}
	}
	if (ts_ok(sec[2], nsec[2])) {
		m->rx_ns = ts_ns(sec[2], nsec[2]);
		m->rx_hw = true;
	} else if (ts_ok(sec[0], nsec[0])) {
		m->rx_ns = ts_ns(sec[0], nsec[0]);
		m->rx_hw = false;
	}
}

static void ee_parse(const struct cmsghdr *cm, struct ee_copy *ee)
{
	size_t dlen = cm->cmsg_len - CMSG_LEN(0), off;

	if (!ee || dlen < sizeof(ee->ee))
		return;
	memcpy(&ee->ee, CMSG_DATA(cm), sizeof(ee->ee));
	ee->found = true;
	/* SO_EE_OFFENDER: a sockaddr right after the struct, family 0 if none. */
	off = dlen - sizeof(ee->ee);
	memset(&ee->offender, 0, sizeof(ee->offender));
	memcpy(&ee->offender, CMSG_DATA(cm) + sizeof(ee->ee), MP_MIN(off, sizeof(ee->offender)));
	if ((ee->offender.ss_family == AF_INET && off < sizeof(struct sockaddr_in)) ||
	    (ee->offender.ss_family == AF_INET6 && off < sizeof(struct sockaddr_in6)) ||
	    (ee->offender.ss_family != AF_INET && ee->offender.ss_family != AF_INET6))
		ee->offender.ss_family = AF_UNSPEC;
}

static void pktinfo4_parse(const struct cmsghdr *cm, struct mp_msg *m)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&m->dst;
	struct in_pktinfo pi;

	if (!cm_get(cm, &pi, sizeof(pi)))
		return;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = pi.ipi_addr;
	m->ifindex = pi.ipi_ifindex;
}

static void pktinfo6_parse(const struct cmsghdr *cm, struct mp_msg *m)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&m->dst;
	struct in6_pktinfo pi;

	if (!cm_get(cm, &pi, sizeof(pi)))
		return;
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = pi.ipi6_addr;
	if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
		sin6->sin6_scope_id = pi.ipi6_ifindex;
	m->ifindex = (int)pi.ipi6_ifindex;
}

/*
 * The one parser of ancillary data, for mp_sock_recv(), mp_sock_recv_batch()
 * and mp_sock_errqueue_read(): fills m's cmsg fields (absent ones get their
 * "none" values) and, when ee is given, the extended error.
 */
static void cmsg_parse(struct msghdr *mh, struct mp_msg *m, struct ee_copy *ee)
{
	struct cmsghdr *cm;
	uint8_t u8;
	int v;

	m->rx_ns = 0;
	m->rx_hw = false;
	m->ttl = -1;
	m->tos = -1;
	m->ifindex = 0;
	m->dst.ss_family = AF_UNSPEC;
	m->gro_size = 0;
	m->drops = 0;
	if (ee)
		ee->found = false;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		/* CMSG_FIRSTHDR() does not check the first one's length
		 * against the buffer (found by fuzz_sock_cmsg) */
		if (cm->cmsg_len < CMSG_LEN(0) ||
		    cm->cmsg_len > mh->msg_controllen - (size_t)((char *)cm -
								 (char *)mh->msg_control))
			break;
		switch (cm->cmsg_level) {
		case SOL_SOCKET:
			if (cm->cmsg_type == SO_TIMESTAMPING_OLD ||
			    cm->cmsg_type == SO_TIMESTAMPING_NEW)
				stamp_parse(cm, m);
			else if (cm->cmsg_type == SO_RXQ_OVFL)
				cm_get(cm, &m->drops, sizeof(m->drops));
			break;
		case IPPROTO_IP:
			if (cm->cmsg_type == IP_TTL && cm_get_u8_int(cm, &v))
				m->ttl = v;
			else if (cm->cmsg_type == IP_TOS && cm_get(cm, &u8, sizeof(u8)))
				m->tos = u8;
			else if (cm->cmsg_type == IP_PKTINFO)
				pktinfo4_parse(cm, m);
			else if (cm->cmsg_type == IP_RECVERR)
				ee_parse(cm, ee);
			break;
		case IPPROTO_IPV6:
			if (cm->cmsg_type == IPV6_HOPLIMIT && cm_get_u8_int(cm, &v))
				m->ttl = v;
			else if (cm->cmsg_type == IPV6_TCLASS && cm_get_u8_int(cm, &v))
				m->tos = v;
			else if (cm->cmsg_type == IPV6_PKTINFO)
				pktinfo6_parse(cm, m);
			else if (cm->cmsg_type == IPV6_RECVERR)
				ee_parse(cm, ee);
			break;
		case SOL_UDP:
			if (cm->cmsg_type == UDP_GRO && cm_get(cm, &v, sizeof(v)))
				m->gro_size = (uint16_t)v;
			break;
		}
	}
}

static void rx_prepare(struct msghdr *mh, struct iovec *iov, struct mp_msg *m, union ctrl_rx *c)
{
	iov->iov_base = m->buf;
	iov->iov_len = m->buf_len;
	*mh = (struct msghdr){
		.msg_name = &m->src,
		.msg_namelen = sizeof(m->src),
		.msg_iov = iov,
		.msg_iovlen = 1,
		.msg_control = c->buf,
		.msg_controllen = sizeof(c->buf),
	};
}

static void rx_finish(struct msghdr *mh, struct mp_msg *m, size_t n)
{
	m->len = n;
	m->truncated = mh->msg_flags & MSG_TRUNC;
	m->src_len = mh->msg_namelen;
	cmsg_parse(mh, m, NULL);
}

int mp_sock_recv(struct mp_sock *s, struct mp_msg *m)
{
	union ctrl_rx c;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	if (!s || !m || (!m->buf && m->buf_len))
		return -EINVAL;
	rx_prepare(&mh, &iov, m, &c);
	n = recvmsg(s->fd, &mh, 0);
	if (n < 0)
		return -errno;
	rx_finish(&mh, m, (size_t)n);
	return (int)n;
}

int mp_sock_recv_batch(struct mp_sock *s, struct mp_msg *msgs, unsigned n)
{
	struct rx_batch *b;
	unsigned i;
	int r;

	if (!s || (!msgs && n))
		return -EINVAL;
	n = MP_MIN(n, (unsigned)MP_SOCK_BATCH_MAX);
	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!msgs[i].buf && msgs[i].buf_len)
			return -EINVAL;
	if (!s->rx) {
		s->rx = malloc(sizeof(*s->rx));
		if (!s->rx)
			return -ENOMEM;
	}
	b = s->rx;
	for (i = 0; i < n; i++) {
		rx_prepare(&b->mm[i].msg_hdr, &b->iov[i], &msgs[i], &b->ctrl[i]);
		b->mm[i].msg_len = 0;
	}
	r = recvmmsg(s->fd, b->mm, n, MSG_WAITFORONE, NULL);
	if (r < 0)
		return -errno;
	for (i = 0; i < (unsigned)r; i++)
		rx_finish(&b->mm[i].msg_hdr, &msgs[i], b->mm[i].msg_len);
	return r;
}

static bool errq_fill(struct mp_errq *e, const struct ee_copy *ee, const struct mp_msg *m,
		      const struct msghdr *mh, size_t n)
{
	struct mp_errq out = { .buf = e->buf, .buf_len = e->buf_len, .ttl = -1 };

	out.offender.ss_family = AF_UNSPEC;
	out.dst.ss_family = AF_UNSPEC;
	switch (ee->ee.ee_origin) {
	case SO_EE_ORIGIN_TIMESTAMPING:
		/* Only the "left the host" stamp; TX_SCHED/ACK are not asked for. */
		if (ee->ee.ee_info != SCM_TSTAMP_SND || !m->rx_ns)
			return false;
		out.kind = MP_ERRQ_TSTAMP;
		out.tx_id = ee->ee.ee_data;
		out.ts_ns = m->rx_ns;
		out.hw = m->rx_hw;
		break;
	case SO_EE_ORIGIN_LOCAL:
	case SO_EE_ORIGIN_ICMP:
	case SO_EE_ORIGIN_ICMP6:
		out.kind = MP_ERRQ_ERROR;
		out.origin = ee->ee.ee_origin == SO_EE_ORIGIN_LOCAL ? MP_EE_LOCAL :
			     ee->ee.ee_origin == SO_EE_ORIGIN_ICMP ? MP_EE_ICMP : MP_EE_ICMP6;
		out.ee_errno = (int)ee->ee.ee_errno;
		out.ee_type = ee->ee.ee_type;
		out.ee_code = ee->ee.ee_code;
		out.ee_info = ee->ee.ee_info;
		out.ts_ns = m->rx_ns;
		out.hw = m->rx_hw;
		out.ttl = m->ttl;
		out.offender = ee->offender;
		if (mh->msg_namelen >= sizeof(sa_family_t))
			memcpy(&out.dst, mh->msg_name, MP_MIN(mh->msg_namelen, sizeof(out.dst)));
		out.payload_len = n;
		out.truncated = mh->msg_flags & MSG_TRUNC;
		break;
	default:
		return false;
	}
	*e = out;
	return true;
}

static void errq_prepare(struct msghdr *mh, struct iovec *iov, struct mp_errq *e,
			 struct sockaddr_storage *name, union ctrl_rx *c)
{
	iov->iov_base = e->buf;
	iov->iov_len = e->buf_len;
	*mh = (struct msghdr){
		.msg_name = name,
		.msg_namelen = sizeof(*name),
		.msg_iov = iov,
		.msg_iovlen = 1,
		.msg_control = c->buf,
		.msg_controllen = sizeof(c->buf),
	};
}

/* Fill e from one error-queue message; false for a kind we do not report. */
static bool errq_finish(struct msghdr *mh, struct mp_errq *e, size_t n)
{
	struct ee_copy ee;
	struct mp_msg m;

	cmsg_parse(mh, &m, &ee);
	return ee.found && errq_fill(e, &ee, &m, mh, n);
}

int mp_sock_errqueue_read(struct mp_sock *s, struct mp_errq *e)
{
	struct sockaddr_storage name;
	union ctrl_rx c;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	if (!s || !e || (!e->buf && e->buf_len))
		return -EINVAL;
	/* Entries we do not report are consumed; the queue is finite and a
	 * read of an empty one returns EAGAIN at once. */
	do {
		errq_prepare(&mh, &iov, e, &name, &c);
		n = recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0)
			return -errno;
	} while (!errq_finish(&mh, e, (size_t)n));
	return 0;
}

/*
 * Fill e[0..] from the n messages in mm (each received into the buffer of
 * e[i]), reported entries only: close the gap an unreported entry leaves,
 * moving its successor's quoted bytes to the buffer of the slot they now
 * fill. Returns how many entries were stored.
 */
static unsigned errq_batch_finish(struct mmsghdr *mm, struct mp_errq *e, unsigned n)
{
	unsigned i, k;

	for (i = k = 0; i < n; i++) {
		if (!errq_finish(&mm[i].msg_hdr, &e[k], mm[i].msg_len))
			continue;
		if (k != i && e[k].payload_len) {
			e[k].truncated |= e[k].payload_len > e[k].buf_len;
			e[k].payload_len = MP_MIN(e[k].payload_len, e[k].buf_len);
			memmove(e[k].buf, e[i].buf, e[k].payload_len);
		}
		k++;
	}
	return k;
}

int mp_sock_errqueue_read_batch(struct mp_sock *s, struct mp_errq *e, unsigned n)
{
	struct errq_batch *b;
	unsigned i, k;
	int r;

	if (!s || (!e && n))
		return -EINVAL;
	n = MP_MIN(n, (unsigned)MP_SOCK_BATCH_MAX);
	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!e[i].buf && e[i].buf_len)
			return -EINVAL;
	if (!s->eq) {
		s->eq = malloc(sizeof(*s->eq));
		if (!s->eq)
			return -ENOMEM;
	}
	b = s->eq;
	do {
		for (i = 0; i < n; i++) {
			errq_prepare(&b->mm[i].msg_hdr, &b->iov[i], &e[i], &b->name[i],
				     &b->ctrl[i]);
			b->mm[i].msg_len = 0;
		}
		r = recvmmsg(s->fd, b->mm, n, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
		if (r < 0)
			return -errno;
		k = errq_batch_finish(b->mm, e, (unsigned)r);
	} while (!k);
	return (int)k;
}

int mp_sock_privileges_drop(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (geteuid() != uid || getegid() != gid) {
		if (geteuid() == 0 && setgroups(0, NULL) < 0)
			return -errno;
		if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			return -errno;
		if (uid != 0 && setuid(0) == 0)
			return -EPERM;
	}
	/* file capabilities (setcap cap_net_raw+ep) leave the ids alone:
	 * clear every set, for good; root itself keeps what it is */
	if (uid != 0 && syscall(SYS_capset, &h, none) < 0)
		return -errno;
	return 0;
}
