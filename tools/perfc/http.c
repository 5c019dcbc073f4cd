/* SPDX-License-Identifier: MIT */
/*
 * perfc: route documents from files and http:// or https:// URLs, through
 * lib/fetch (libcurl): perfc's options to the fetch's, and the hint a user
 * needs when a private CA signed a node's certificate.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "perfc.h"

int pc_fetch(const struct pc_opts *opts, const char *src, uint64_t max_bytes, char **ret,
	     size_t *ret_len, char *err, size_t errlen)
{
	const struct mp_fetch_opts fo = {
		.timeout_ns = opts->timeout_ns,
		.connect_timeout_ns = opts->connect_timeout_ns,
		.max_bytes = max_bytes,
		.cacert = opts->cacert,
		.user_agent = "perfc/" MP_VERSION,
	};
	int r;

	r = mp_fetch(src, &fo, ret, ret_len, err, errlen);
	if (r == -EKEYREJECTED && !opts->cacert) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (a private CA: --cacert FILE)");
	}
	return r;
}
