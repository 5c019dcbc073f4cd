/* SPDX-License-Identifier: MIT */
/*
 * Bounded parsing of command-line values: integers, durations, sizes, rates,
 * ports and addresses (STYLE.md O2).
 *
 * Every parser returns 0 on success, -EINVAL when the text is not a value of
 * the expected kind, or -ERANGE when it is one but lies outside [min, max] or
 * does not fit the result type. The result is stored only on success.
 *
 * Common syntax, deliberately strict so that a typo never becomes a value:
 *  - decimal digits only: no hex or octal, no exponent ("1e3" is -EINVAL for
 *    every parser except mp_parse_double), leading zeros are fine;
 *  - no whitespace anywhere, not even between a number and its unit
 *    (" 5", "5 ", "250 ms" are -EINVAL), and the empty string is -EINVAL;
 *  - a fraction needs digits on both sides of the point ("0.5s", not ".5s"
 *    or "5.s"); units are case-sensitive as listed;
 *  - a sign is accepted only by mp_parse_i64 and mp_parse_double: "-1" and
 *    "+1" are -EINVAL for every unsigned parser.
 */
#ifndef MP_ARGS_H
#define MP_ARGS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	/* "v6-literal%ifname" and the NUL: mp_addr_to_str() never needs more */
	MP_ADDR_STRLEN = INET6_ADDRSTRLEN + IF_NAMESIZE,
	/* the above plus "[", "]:" and five port digits */
	MP_ADDR_PORT_STRLEN = MP_ADDR_STRLEN + 8,
};

/*
 * Parse an unsigned decimal integer in [min, max], e.g. "0", "1500",
 * "18446744073709551615". Values above 2^64-1 are -ERANGE.
 * Returns 0, -EINVAL or -ERANGE; *ret set on success.
 */
int mp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * Parse a signed decimal integer in [min, max] with an optional leading '-'
 * or '+' ("-5", "+5", "-0"). Returns 0, -EINVAL or -ERANGE; *ret set on
 * success.
 */
int mp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);

/*
 * Parse a decimal floating-point number in [min, max]: optional sign,
 * digits, optional ".digits", optional exponent ("2.5", "-1e-3", "1E3").
 * Independent of the process locale. nan, inf, hex floats and values that
 * overflow a double are rejected (-EINVAL, -EINVAL, -EINVAL, -ERANGE);
 * values below the smallest subnormal become 0. Returns 0, -EINVAL or
 * -ERANGE; *ret set on success.
 */
int mp_parse_double(const char *s, double min, double max, double *ret);

/*
 * Parse a duration into nanoseconds, e.g. "250ms", "1.5s", "10us", "500ns",
 * "2m", "1h". Units: ns, us (also with the micro sign U+00B5 in UTF-8), ms,
 * s, m or min, h, d. A unit is required, except for the value zero ("0"),
 * which callers use for "until stopped". Fractions are exact and rounded to
 * the nearest nanosecond, ties up ("0.1s" = 100000000, "1.5ns" = 2).
 * Returns 0, -EINVAL or -ERANGE; *ret_ns set on success.
 */
int mp_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *ret_ns);

/*
 * Parse a size in bytes: plain ("1500", "1500B") or binary multiples
 * K = k = KiB = 1024, M = MiB, G = GiB, T = TiB. A fraction needs a
 * multiple ("1.5K" = 1536, rounded to the nearest byte). "KB", "MB", "GB"
 * are -EINVAL: they mean 1000 to some readers and 1024 to others.
 * Returns 0, -EINVAL or -ERANGE; *ret_bytes set on success.
 */
int mp_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret_bytes);

/*
 * Parse a rate in bits per second with decimal SI multiples: k = K = 10^3,
 * M = 10^6, G = 10^9, T = 10^12, optionally followed by "bit", "bit/s" or
 * "bps": "2500", "500k", "100M", "1.5G", "10Mbit", "1.5Gbit", "10Mbit/s".
 * Byte rates and the ambiguous "MB", "Mb", "MB/s", "m" are -EINVAL. A
 * fraction needs a multiple; it is rounded to the nearest bit/s.
 * Returns 0, -EINVAL or -ERANGE; *ret_bps set on success.
 */
int mp_parse_rate(const char *s, uint64_t min, uint64_t max, uint64_t *ret_bps);

/*
 * Parse a port number, 1..65535 ("0" is -ERANGE).
 * Returns 0, -EINVAL or -ERANGE; *ret set on success.
 */
int mp_parse_port(const char *s, uint16_t *ret);

/*
 * Parse a DSCP: a number 0..63 or a name of RFC 2474 / 2597 / 3246 /
 * 5865 / 8622 (cs0..cs7, af11..af43, ef, va, le), case-insensitive.
 * Returns 0, -EINVAL or -ERANGE; *ret (the 6-bit code point) set on success.
 */
int mp_parse_dscp(const char *s, uint8_t *ret);

/* The name of a DSCP (as mp_parse_dscp takes it), or NULL if it has none. */
const char *mp_dscp_name(uint8_t dscp);

/*
 * Turn host into a socket address with the given port (0 allowed).
 * host is an IPv4 dotted quad (strict: no "1.2", "0x7f.1" or leading zeros),
 * an IPv6 literal, optionally with "%scope" (interface name or index) and
 * optionally in brackets ("[fe80::1%eth0]"), or a host name, which is
 * resolved with getaddrinfo() (this may block on DNS). The first address of
 * the requested family is taken, in the resolver's order.
 * family: AF_UNSPEC, AF_INET or AF_INET6.
 * Returns 0 or
 *   -EINVAL        host is neither a literal nor a syntactically valid name
 *                  ("999.1.1.1", "1.2.3", "fe80::1%nosuchif", "a b");
 *   -EAFNOSUPPORT  family is not one of the above, or host is (or resolves
 *                  only to) addresses of the other family;
 *   -ENOENT        the name does not exist;
 *   -EAGAIN        temporary resolver failure (e.g. no DNS server reachable);
 *   -ENOMEM, -EIO, or another -errno from the resolver.
 * *ret and *ret_len are set on success only.
 */
int mp_parse_addr(const char *host, int family, uint16_t port,
		  struct sockaddr_storage *ret, socklen_t *ret_len);

/*
 * Write the address of sa (AF_INET or AF_INET6, no port) as text into buf:
 * "192.0.2.1", "2001:db8::1", "fe80::1%eth0" (scope as interface name, or
 * as a number when no interface has that index). MP_ADDR_STRLEN always
 * suffices. Returns the length written (without the NUL), -EINVAL for NULL
 * arguments, -EAFNOSUPPORT for another family, or -ENOSPC when len is too
 * small (buf then holds an empty string if len > 0).
 */
int mp_addr_to_str(const struct sockaddr *sa, char *buf, size_t len);

/* The same IPv4 or IPv6 address (ports and scope aside). */
bool mp_addr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/*
 * Sets the port of an AF_INET or AF_INET6 address. Returns the address's
 * length (sizeof struct sockaddr_in or _in6), or -EAFNOSUPPORT.
 */
int mp_addr_port_set(struct sockaddr_storage *ss, uint16_t port);

/*
 * The wildcard address of family (0.0.0.0 or ::) with port, for binding to
 * every address. Returns its length, or -EAFNOSUPPORT; *ret set on success.
 */
int mp_addr_any(int family, uint16_t port, struct sockaddr_storage *ret);

/*
 * As mp_addr_to_str(), with the port: "192.0.2.1:862", "[2001:db8::1]:862".
 * MP_ADDR_PORT_STRLEN always suffices.
 */
int mp_addr_to_str_port(const struct sockaddr *sa, char *buf, size_t len);

#endif
