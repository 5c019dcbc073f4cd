/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the parser of mtufind's state files
 * (tools/mtufind/state.c, mf_state_parse), which `mtufind sweep` and
 * `mtufind -s` read at start and on --restore: a file in /run/meshperf, or
 * any file given by --state. Oracles: no crash or sanitizer report, no
 * read past the input; what parses is exactly the line mf_state_write
 * writes for the name and MTU it gave (one encoding per state), with a
 * name the kernel would take and an MTU of 68..65535; what does not parse
 * leaves the outputs untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "file.c"
#include "nl.c"
#include "../../tools/mtufind/state.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[IF_NAMESIZE], line[LINE_MAX_LEN], *copy;
	unsigned mtu = 1;
	int r, n;

	/* an exact-size heap copy: ASan sees any read past the input */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memset(name, 0x5a, sizeof(name));
	r = mf_state_parse(copy, size, name, &mtu);
	if (r == 0) {
		if (!memchr(name, '\0', sizeof(name)) || !valid_ifname(name, strlen(name)) ||
		    mtu < MF_IPV4_MIN_MTU || mtu > 65535)
			abort();
		n = state_format(line, name, mtu);
		if (n < 0 || (size_t)n != size || memcmp(line, copy, size))
			abort();
	} else if (r != -EBADMSG || mtu != 1 || name[0] != 0x5a) {
		abort();
	}
	free(copy);
	return 0;
}
