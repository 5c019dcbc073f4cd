/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the wg-quick config parser of lib/wg.c
 * (mp_wg_conf_parse). Properties: it returns 0 or -EINVAL (-EFBIG past
 * MP_WG_CONF_MAX); on -EINVAL the reason names a line ("line N: ...") that
 * exists in the input and is printable; on success every prefix has a
 * family and a length within it, every peer endpoint is a literal or a name
 * with a port, and the keys re-encode to 44 base64 characters.
 */
#include <ctype.h>

#include "args.c"
#include "wg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const struct mp_wg_prefix *p)
{
	if (!(p->family == AF_INET && p->plen <= 32) && !(p->family == AF_INET6 && p->plen <= 128))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_wg_device *d = NULL;
	char err[160], b64[MP_WG_KEY_B64_LEN + 1];
	unsigned long line, lines = 1;
	size_t i, k;
	int r;

	r = mp_wg_conf_parse((const char *)data, size, &d, err, sizeof(err));
	if (r == -EINVAL) {
		if (d || strncmp(err, "line ", 5))
			abort();
		line = strtoul(err + 5, NULL, 10);
		for (i = 0; i < size; i++)
			lines += data[i] == '\n';
		if (line < 1 || line > lines)
			abort();
		for (i = 0; err[i]; i++)
			if (!isprint((unsigned char)err[i]))
				abort();
		return 0;
	}
	if (r != 0 || !d)
		abort();
	for (i = 0; i < d->n_addresses; i++)
		check_prefix(&d->addresses[i]);
	for (i = 0; i < d->n_peers; i++) {
		const struct mp_wg_peer *p = &d->peers[i];

		for (k = 0; k < p->n_allowed_ips; k++)
			check_prefix(&p->allowed_ips[k]);
		if ((p->endpoint_len || p->endpoint_host[0]) && !p->endpoint_port)
			abort();
		if (mp_wg_key_to_base64(p->public_key, b64, sizeof(b64)) != MP_WG_KEY_B64_LEN)
			abort();
	}
	mp_wg_device_free(d);
	return 0;
}
