/* SPDX-License-Identifier: MIT */
/*
 * rdns: reverse DNS names of addresses, looked up by a thread of its own
 * (getnameinfo, NI_NAMEREQD) so that a measurement loop never waits for a
 * resolver: it asks for a name once (mp_rdns_want, never blocking) and
 * reads what is known when it prints (mp_rdns_name). Names are cached for
 * the life of the object, at most MP_RDNS_MAX addresses; a name is made
 * safe to print (octets below 0x20 and 0x7f and above become '?': a PTR
 * record is outside input, and must not drive a terminal).
 */
#ifndef MP_RDNS_H
#define MP_RDNS_H

#include <stdint.h>
#include <sys/socket.h>

#define MP_RDNS_MAX 1024

struct mp_rdns;

/* A resolver with its thread. Returns 0 or -errno. */
int mp_rdns_new(struct mp_rdns **ret);

/* Asks for addr's name, once per address; returns at once. Addresses
 * beyond MP_RDNS_MAX are not looked up. NULL r: nothing. */
void mp_rdns_want(struct mp_rdns *r, const struct sockaddr_storage *addr);

/* addr's name, or NULL while it is looked up, when it has none, or for an
 * address never asked for (and for a NULL r). Valid until mp_rdns_free. */
const char *mp_rdns_name(struct mp_rdns *r, const struct sockaddr_storage *addr);

/* Waits until every name asked for is looked up, at most timeout_ns.
 * Returns 0, or -ETIMEDOUT with some still pending. */
int mp_rdns_wait(struct mp_rdns *r, uint64_t timeout_ns);

/* Ends the object. A lookup still in the resolver (a DNS server that does
 * not answer) is left to finish in the detached thread, which frees what
 * remains; the caller never waits for it. */
void mp_rdns_free(struct mp_rdns *r);

#endif
