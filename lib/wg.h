/* SPDX-License-Identifier: MIT */
/*
 * wg: WireGuard configuration and runtime state, without the wg(8) binary.
 *
 *  - wg-quick `*.conf` files: [Interface] (PrivateKey, ListenPort, FwMark,
 *    Address, DNS, MTU, Table, PreUp/PostUp/PreDown/PostDown, SaveConfig)
 *    and [Peer] (PublicKey, PresharedKey, Endpoint, AllowedIPs,
 *    PersistentKeepalive). Strict: an unknown section or key, a bad value or
 *    a duplicate single-valued key is an error that names the line and
 *    quotes the value. Keys are case-insensitive, as in wg(8).
 *  - interface names of the mesh plan, "wgX.Y_vZ" (DESIGN.md): X the local
 *    site, Y the remote site (decimal 0..255, no leading zeros), Z the outer
 *    address family, 4 or 6.
 *  - runtime state over the cross-platform UAPI socket
 *    /run/wireguard/<ifname>.sock (wireguard-go; the text protocol `wg`
 *    speaks: "get=1"). The kernel module's generic netlink interface is not
 *    implemented: the build and CI machines have no WireGuard module, so it
 *    could not be tested (LAB-NOTES.md).
 *
 * Keys are held as 32 raw bytes; mp_wg_device_free() wipes them.
 */
#ifndef MP_WG_H
#define MP_WG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	MP_WG_KEY_LEN = 32,		/* Curve25519 key, bytes */
	MP_WG_KEY_B64_LEN = 44,		/* base64 of a key, characters */
	MP_WG_HOST_MAX = 256,		/* host name of an Endpoint, with the NUL */
	MP_WG_CONF_MAX = 1 << 20,	/* largest config file read, bytes */
	MP_WG_UAPI_MAX = 16 << 20,	/* largest UAPI answer read, bytes */
	MP_WG_SITE_MAX = 255,		/* largest site number in a "wgX.Y_vZ" name */
	MP_WG_OVERHEAD4 = 60,		/* WireGuard over IPv4: IP 20 + UDP 8 + WG 32 */
	MP_WG_OVERHEAD6 = 80,		/* WireGuard over IPv6: IP 40 + UDP 8 + WG 32 */
	MP_WG_IPV6_MIN_MTU = 1280,	/* RFC 8200: a tunnel carrying IPv6 needs this */
};

/* The default directory of the UAPI sockets. */
#define MP_WG_UAPI_DIR "/run/wireguard"

/* An IPv4 or IPv6 prefix (Address, AllowedIPs). */
struct mp_wg_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; AF_INET uses addr[0..3] */
	unsigned plen;		/* prefix length in bits (default 32 / 128) */
};

struct mp_wg_peer {
	uint8_t public_key[MP_WG_KEY_LEN];	/* the peer's public key */
	bool has_preshared_key;			/* a PresharedKey is set (non-zero) */
	uint8_t preshared_key[MP_WG_KEY_LEN];	/* wiped on free */
	struct sockaddr_storage endpoint;	/* address and port; ss_family 0 = none
						 * or a host name not resolved */
	socklen_t endpoint_len;			/* length of endpoint, 0 = none */
	char endpoint_host[MP_WG_HOST_MAX];	/* conf only: Endpoint host as written
						 * when it is a name, else "" */
	uint16_t endpoint_port;			/* Endpoint port, 0 = none */
	unsigned keepalive_s;			/* PersistentKeepalive, s; 0 = off */
	struct mp_wg_prefix *allowed_ips;	/* AllowedIPs, n_allowed_ips of them */
	size_t n_allowed_ips;
	/* runtime state (UAPI only; 0 from a conf file) */
	uint64_t last_handshake_ns;		/* CLOCK_REALTIME ns of the last
						 * handshake, 0 = never */
	uint64_t rx_bytes;			/* bytes received from the peer */
	uint64_t tx_bytes;			/* bytes sent to the peer */
	unsigned protocol_version;		/* UAPI protocol_version, 0 = not given */
};

struct mp_wg_device {
	char ifname[IF_NAMESIZE];		/* interface name ("" from a conf text) */
	bool has_private_key;			/* private_key is set */
	uint8_t private_key[MP_WG_KEY_LEN];	/* wiped on free */
	uint8_t public_key[MP_WG_KEY_LEN];	/* derived from private_key when set */
	uint16_t listen_port;			/* UDP port, 0 = not set / random */
	uint32_t fwmark;			/* 0 = off */
	/* wg-quick keys (conf only) */
	struct mp_wg_prefix *addresses;		/* Address, n_addresses of them */
	size_t n_addresses;
	uint32_t mtu_bytes;			/* MTU, 0 = not set (wg-quick decides) */
	unsigned n_dns;				/* DNS entries seen (not kept) */
	bool save_config;			/* SaveConfig = true */
	/* peers, in file / socket order */
	struct mp_wg_peer *peers;		/* n_peers of them */
	size_t n_peers;
};

/* A "wgX.Y_vZ" interface name, decoded. */
struct mp_wg_ifname {
	unsigned local_site;	/* X */
	unsigned remote_site;	/* Y */
	int family;		/* Z as AF_INET (4) or AF_INET6 (6): the outer family */
};

/*
 * Parse the wg-quick configuration in text (len bytes, need not be
 * NUL-terminated; NUL bytes inside are an error). errbuf (may be NULL, errlen
 * bytes) gets a one-line reason on -EINVAL, naming the line and quoting the
 * value: "line 7: invalid ListenPort '70000'". *ret (free with
 * mp_wg_device_free()) set on success.
 * Returns 0, or -EINVAL (syntax or value), -EFBIG (over MP_WG_CONF_MAX),
 * -ENOMEM.
 */
int mp_wg_conf_parse(const char *text, size_t len, struct mp_wg_device **ret, char *errbuf,
		     size_t errlen);

/*
 * As mp_wg_conf_parse(), reading the file at path; the device's ifname is
 * the file's base name without ".conf" when that is a valid name.
 * Returns 0, or -errno from open/read, or as mp_wg_conf_parse().
 */
int mp_wg_conf_load(const char *path, struct mp_wg_device **ret, char *errbuf, size_t errlen);

/* Wipe the keys and free d with everything it holds. Accepts NULL. */
void mp_wg_device_free(struct mp_wg_device *d);

/*
 * Decode an interface name of the form "wgX.Y_vZ" (at most IF_NAMESIZE - 1
 * characters). *ret set on success.
 * Returns 0, or -EINVAL when name does not follow the pattern, -ERANGE for a
 * site above MP_WG_SITE_MAX.
 */
int mp_wg_ifname_parse(const char *name, struct mp_wg_ifname *ret);

/*
 * Write "wgX.Y_vZ" for n into buf (len bytes). Returns the length, or
 * -EINVAL (bad site or family), -ENOSPC.
 */
int mp_wg_ifname_format(const struct mp_wg_ifname *n, char *buf, size_t len);

/*
 * Parse the answer to a UAPI "get=1" request (text, len bytes; up to and
 * including the empty line that ends it, or the whole text). Unknown keys
 * are skipped (the protocol may grow); known keys must have valid values.
 * *ret (free with mp_wg_device_free()) set on success.
 * Returns 0, -EINVAL (malformed), -ENOMEM, or the negated errno the daemon
 * sent ("errno=N" with N != 0).
 */
int mp_wg_uapi_parse(const char *text, size_t len, struct mp_wg_device **ret);

/*
 * Read the runtime state of ifname from its UAPI socket <dir>/<ifname>.sock
 * (dir NULL: MP_WG_UAPI_DIR), waiting at most timeout_ns (0: 2 s) for the
 * answer. *ret (free with mp_wg_device_free()) set on success, with ifname.
 * Returns 0, or -ENOENT (no such socket: not a wireguard-go interface),
 * -ECONNREFUSED, -ETIMEDOUT, -EINVAL (bad ifname or answer), -errno.
 */
int mp_wg_uapi_get(const char *ifname, const char *dir, uint64_t timeout_ns,
		   struct mp_wg_device **ret);

/*
 * The MTU of a WireGuard interface whose outer packets cross a path of
 * pmtu_bytes over outer_family (AF_INET or AF_INET6): the path MTU less
 * MP_WG_OVERHEAD4 / MP_WG_OVERHEAD6. When the tunnel carries IPv6 and that
 * is below MP_WG_IPV6_MIN_MTU, the MTU is raised to it (the outer packets
 * then fragment) and *ret_raised says so. *ret_mtu, *ret_raised set on
 * success. Returns 0, or -EAFNOSUPPORT.
 */
int mp_wg_mtu_recommend(unsigned pmtu_bytes, int outer_family, bool carries_ipv6,
			unsigned *ret_mtu, bool *ret_raised);

/*
 * Base64 text of a key (MP_WG_KEY_B64_LEN characters and a NUL) into buf.
 * Returns the length, or -ENOSPC.
 */
int mp_wg_key_to_base64(const uint8_t key[MP_WG_KEY_LEN], char *buf, size_t len);

#endif
