/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for pathping --via's reader of meshctl's paths and
 * routes documents (pp_via_parse in tools/pathping/mesh.c). Input: a site
 * octet, a family octet (0 any, 1 IPv4, 2 IPv6), the paths document, a NUL,
 * the routes document. Beyond "no crash": a path that parses runs from
 * this node to the site asked for, within bounds, and the default target
 * is an address of that family.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/pathping/mesh.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[] = { AF_UNSPEC, AF_INET, AF_INET6 };
	static struct pp_via v;
	const char *paths, *routes, *nul;
	uint8_t buf[16];
	char err[160];
	int family;

	if (size < 2 || size > 65536)
		return 0;
	family = families[data[1] % 3];
	paths = (const char *)data + 2;
	nul = memchr(paths, '\0', size - 2);
	if (!nul)
		return 0;
	routes = nul + 1;
	if (pp_via_parse(&v, paths, (size_t)(nul - paths), routes,
			 size - 2 - (size_t)(nul - paths) - 1, data[0], family, err,
			 sizeof(err)) < 0) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (v.n_sites < 2 || v.n_sites > PP_VIA_SITES || v.sites[v.n_sites - 1] != data[0] ||
	    v.n_nets > PP_VIA_NETS || !memchr(v.path, '\0', sizeof(v.path)))
		abort();
	for (unsigned i = 0; i < v.n_sites; i++)
		if (v.sites[i] > 255)
			abort();
	if (inet_pton(family == AF_UNSPEC ? (strchr(v.target, ':') ? AF_INET6 : AF_INET) :
		      family, v.target, buf) != 1)
		abort();
	return 0;
}
