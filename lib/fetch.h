/* SPDX-License-Identifier: MIT */
/*
 * Documents from files and from http:// and https:// URLs (libcurl), bounded
 * in time and size: what perfc --nodes reads, and what meshctl's HTTP reads
 * are to use. Only http and https are spoken; redirects are not followed;
 * TLS peers are verified (certificate chain and host name), against the
 * system's CAs or a given PEM file. Safe to call from several threads at
 * once (libcurl is initialised once; each call has its own handle).
 */
#ifndef MP_FETCH_H
#define MP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_fetch_opts {
	uint64_t timeout_ns;		/* whole transfer, connect to last byte; 0 = none */
	uint64_t connect_timeout_ns;	/* TCP connect and TLS handshake; 0 = timeout_ns */
	uint64_t max_bytes;		/* largest document accepted (bytes) */
	const char *cacert;		/* PEM file of the CAs trusted; NULL = the system's */
	const char *user_agent;		/* User-Agent header; NULL = none */
};

/* True when src names a URL that mp_fetch() fetches (http:// or https://). */
bool mp_fetch_is_url(const char *src);

/*
 * Reads src, a file path or an http:// or https:// URL, into a new buffer
 * (*ret, NUL-terminated after *ret_len bytes; free() it). A URL answered
 * with any status but 2xx is an error; a body larger than max_bytes is
 * aborted as soon as it passes the cap.
 *
 * Returns 0, or -errno with a one-line reason in err (without src, which
 * the caller names): -EINVAL (a bad URL), -EFBIG (over max_bytes),
 * -ETIMEDOUT, -ECONNREFUSED and the other errnos of connect() and open(),
 * -EHOSTUNREACH (name not resolved), -EKEYREJECTED (the peer's certificate
 * was not verified, or the CA file could not be used), -EPROTO (an HTTP
 * status that is not 2xx, a TLS or HTTP protocol error), -ENOPKG (a URL,
 * and libcurl.so.4 cannot be opened), -ENOMEM.
 */
int mp_fetch(const char *src, const struct mp_fetch_opts *opts, char **ret, size_t *ret_len,
	     char *err, size_t errlen);

#endif
