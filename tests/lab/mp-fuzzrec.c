/* SPDX-License-Identifier: MIT */
/*
 * mp-fuzzrec: records what the kernel really hands lib/nl.c and lib/sock.c,
 * as seed files for their libFuzzer harnesses (tests/fuzz/record.sh runs it
 * in the lab). Nothing is decoded here: the bytes are saved as read.
 *
 *   mp-fuzzrec nl-dump DIR         each recv() of RTM_GETROUTE (v4, v6),
 *                                  RTM_GETLINK and RTM_GETADDR dumps
 *   mp-fuzzrec nl-monitor DIR MS   each recv() of route/link/address events
 *                                  for MS milliseconds
 *   mp-fuzzrec sock-rx DIR FAM PORT N
 *                                  N datagrams on a socket of lib/sock.c with
 *                                  every receive option (stamps, PKTINFO,
 *                                  TTL, TOS, RXQ_OVFL) as fuzz_sock_cmsg records
 *   mp-fuzzrec sock-send ADDR PORT TOS TTL
 *                                  one datagram (to be recorded by sock-rx)
 *   mp-fuzzrec sock-err DIR NAME ADDR PORT TTL BYTES
 *                                  one datagram with DF, TX stamps and
 *                                  RECVERR; every error-queue entry that
 *                                  comes back within 1 s, as records
 *
 * A fuzz_sock_cmsg record: u8 flags (1 error queue, 2 MSG_TRUNC, 4
 * MSG_CTRUNC), u8 name bytes, u16 control bytes, u16 payload bytes (little
 * endian), then the name, the control data and the payload.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "mp.h"
#include "sock.h"

enum {
	BUF_BYTES = 64 * 1024,
	CTRL_BYTES = 384,	/* as lib/sock.c's CTRL_RX_BYTES */
	REC_FLAG_ERRQ = 1,
	REC_FLAG_TRUNC = 2,
	REC_FLAG_CTRUNC = 4,
};

static uint8_t buf[BUF_BYTES];

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void save(const char *dir, const char *name, int n, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%d", dir, name, n);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

static int nl_open(unsigned groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("netlink");
	return fd;
}

static void nl_dump(int fd, const char *dir, const char *name, int type, int family)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		uint8_t pad[16];	/* room for the largest header asked with */
	} req = {
		.h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		       .nlmsg_type = (uint16_t)type, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.g = { .rtgen_family = (unsigned char)family },
	};
	int n = 0, done = 0;

	if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
		die("send");
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		int rem = (int)len;

		if (len < 0)
			die("recv");
		save(dir, name, n++, buf, (size_t)len);
		for (; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem))
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				done = 1;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nl_monitor(const char *dir, int ms)
{
	int fd = nl_open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
			 RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE);
	uint64_t end = now_ms() + (uint64_t)ms;
	int n = 0;

	/* tell the caller we listen: it makes its changes after this line */
	printf("ready\n");
	fflush(stdout);
	for (uint64_t t; (t = now_ms()) < end;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t len;

		if (poll(&p, 1, (int)(end - t)) <= 0)
			continue;
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			die("recv");
		save(dir, "event", n++, buf, (size_t)len);
	}
	fprintf(stderr, "mp-fuzzrec: %d event batches\n", n);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* One record as fuzz_sock_cmsg reads it. */
static void save_rec(const char *dir, const char *name, int n, const struct msghdr *mh,
		     size_t payload, unsigned flags)
{
	static uint8_t rec[6 + 255 + CTRL_BYTES + BUF_BYTES];
	size_t off = 6;

	rec[0] = (uint8_t)(flags | (mh->msg_flags & MSG_TRUNC ? REC_FLAG_TRUNC : 0) |
			   (mh->msg_flags & MSG_CTRUNC ? REC_FLAG_CTRUNC : 0));
	rec[1] = (uint8_t)mh->msg_namelen;
	put16(rec + 2, mh->msg_controllen);
	put16(rec + 4, payload);
	memcpy(rec + off, mh->msg_name, mh->msg_namelen);
	off += mh->msg_namelen;
	memcpy(rec + off, mh->msg_control, mh->msg_controllen);
	off += mh->msg_controllen;
	memcpy(rec + off, buf, payload);
	save(dir, name, n, rec, off + payload);
}

static int sock_new(int family, unsigned flags)
{
	struct mp_sock *s;
	int r = mp_sock_open(&s, family, SOCK_DGRAM, 0, flags);

	if (r < 0) {
		errno = -r;
		die("mp_sock_open");
	}
	return mp_sock_fd(s);	/* lives until exit */
}

static void addr_parse(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		fprintf(stderr, "mp-fuzzrec: bad address %s\n", host);
		exit(2);
	}
}

static void sock_rx(const char *dir, int family, int port, int count)
{
	int fd = sock_new(family, MP_SOCK_TS_SW | MP_SOCK_PKTINFO | MP_SOCK_RECV_TTL |
			  MP_SOCK_RECV_TOS | MP_SOCK_RXQ_OVFL | MP_SOCK_RECVERR);
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in)
					  : sizeof(struct sockaddr_in6);
	int on = 1;

	/* sin_port and sin6_port sit at the same offset */
	((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("bind");
	setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		union {
			char b[CTRL_BYTES];
			struct cmsghdr align;
		} ctrl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = ctrl.b,
				     .msg_controllen = sizeof(ctrl.b) };
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0)
			die("recvmsg");
		save_rec(dir, family == AF_INET ? "rx4" : "rx6", i, &mh, (size_t)n, 0);
	}
}

static void sock_send(const char *host, int port, int tos, int ttl)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	addr_parse(host, port, &ss, &len);
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (ss.ss_family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	}
	if (sendto(fd, "meshperf fuzz seed", 18, 0, (struct sockaddr *)&ss, len) < 0)
		die("sendto");
}

static void sock_err(const char *dir, const char *name, const char *host, int port, int ttl,
		     int bytes)
{
	struct sockaddr_storage ss, from;
	socklen_t len;
	uint64_t end;
	int fd, n = 0, pmtu;

	addr_parse(host, port, &ss, &len);
	fd = sock_new(ss.ss_family, MP_SOCK_TS_SW | MP_SOCK_RECVERR | MP_SOCK_RECV_TTL |
		      MP_SOCK_PKTINFO);
	if (ss.ss_family == AF_INET) {
		pmtu = IP_PMTUDISC_PROBE;
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	} else {
		pmtu = IPV6_PMTUDISC_PROBE;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	}
	memset(buf, 0x5a, (size_t)bytes);
	memcpy(buf, "meshperf fuzz seed", 18);
	/* over the local MTU it fails (EMSGSIZE) and queues a local error */
	if (sendto(fd, buf, (size_t)bytes, 0, (struct sockaddr *)&ss, len) < 0)
		perror("mp-fuzzrec: sendto");
	for (end = now_ms() + 1000; now_ms() < end;) {
		union {
			char b[CTRL_BYTES];
			struct cmsghdr align;
		} ctrl;
		struct iovec iov = { .iov_base = buf, .iov_len = 256 };	/* quoted bytes */
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.b,
				     .msg_controllen = sizeof(ctrl.b) };
		struct pollfd p = { .fd = fd, .events = 0 };
		ssize_t r;

		if (poll(&p, 1, 100) <= 0 || !(p.revents & POLLERR))
			continue;
		r = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (r < 0)
			continue;
		save_rec(dir, name, n++, &mh, (size_t)r, REC_FLAG_ERRQ);
	}
	fprintf(stderr, "mp-fuzzrec: %s: %d error-queue entries\n", name, n);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "nl-dump") && argc == 3) {
		int fd = nl_open(0);

		nl_dump(fd, argv[2], "route4", RTM_GETROUTE, AF_INET);
		nl_dump(fd, argv[2], "route6", RTM_GETROUTE, AF_INET6);
		nl_dump(fd, argv[2], "link", RTM_GETLINK, AF_UNSPEC);
		nl_dump(fd, argv[2], "addr", RTM_GETADDR, AF_UNSPEC);
	} else if (!strcmp(mode, "nl-monitor") && argc == 4) {
		nl_monitor(argv[2], atoi(argv[3]));
	} else if (!strcmp(mode, "sock-rx") && argc == 6) {
		sock_rx(argv[2], atoi(argv[3]) == 6 ? AF_INET6 : AF_INET, atoi(argv[4]),
			atoi(argv[5]));
	} else if (!strcmp(mode, "sock-send") && argc == 6) {
		sock_send(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	} else if (!strcmp(mode, "sock-err") && argc == 8) {
		sock_err(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
	} else {
		fprintf(stderr, "usage: see tests/lab/mp-fuzzrec.c\n");
		return 2;
	}
	return 0;
}
