/* SPDX-License-Identifier: MIT */
/*
 * cap: packets from an interface or a pcap file, through libpcap (the only
 * module that includes pcap.h). Live capture uses immediate mode (every
 * packet handed on at once, no batching delay in the timestamps) and a
 * kernel ring of buf_bytes: on Linux, libpcap maps a TPACKET_V3 ring, so
 * packets are read in place, without a copy per packet.
 */
#ifndef MP_CAP_H
#define MP_CAP_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

struct mp_cap;

struct mp_cap_opts {
	const char *ifname;		/* live capture on this interface, or */
	const char *file;		/* read this pcap / pcapng file ("-": stdin) */
	const char *filter;		/* BPF filter expression, or NULL */
	uint32_t snaplen;		/* octets kept of each packet */
	uint32_t buf_bytes;		/* live: kernel ring size */
};

/* Whole-packet limits and the defaults: headers only are needed. */
#define MP_CAP_SNAPLEN_DEFAULT 128
#define MP_CAP_BUF_DEFAULT (32U << 20)

/* A packet, valid until the next mp_cap_next(). */
struct mp_cap_pkt {
	uint64_t t_ns;			/* capture time, CLOCK_REALTIME */
	const uint8_t *data;
	uint32_t caplen, len;		/* captured, on the wire */
};

/*
 * Opens the capture. On failure err (errlen octets) says why in words
 * (libpcap's message: "eth9: No such device exists", a filter's syntax
 * error). Returns 0, -EINVAL (bad filter, neither or both of ifname and
 * file), -EPERM, -ENODEV, -ENOENT, -ENOMEM, or -EIO; *ret set on success.
 */
int mp_cap_open(struct mp_cap **ret, const struct mp_cap_opts *o, char *err, size_t errlen);
void mp_cap_close(struct mp_cap *c);

/* The link type of the packets (a DLT_ value, as lib/prtt.h takes). */
int mp_cap_linktype(const struct mp_cap *c);

/* A descriptor to poll() for a live capture (-1 for a file). */
int mp_cap_fd(const struct mp_cap *c);

/*
 * The next packet: 1 and *ret set, 0 when none is waiting (live; poll the
 * fd), -ENODATA at the end of a file, -EIO on a read error.
 */
int mp_cap_next(struct mp_cap *c, struct mp_cap_pkt *ret);

/* libpcap's words for the last error (after -EIO), "" if none. */
const char *mp_cap_error(struct mp_cap *c);

/* Live: packets the kernel dropped (ring full) and the interface dropped,
 * as libpcap's stats give them. Returns 0, or -EIO (not live, failed). */
int mp_cap_drops(struct mp_cap *c, uint64_t *ret_kernel, uint64_t *ret_ifdrop);


#endif
