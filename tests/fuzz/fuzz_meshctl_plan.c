/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for meshctl's name pattern and address plan
 * (tools/meshctl/plan.c).
 *
 * Input: octet 0 selects, modulo 3:
 *  0: pattern and name: the rest split at its first NUL (pattern before,
 *     name after; no NUL: the whole rest is the pattern, matched against
 *     itself). The pattern is parsed; the name is matched against it and
 *     against the default pattern. Properties: a rejected pattern has a
 *     printable reason; a match formats back to exactly the name; the
 *     default pattern decides every name as lib/wg.c's
 *     mp_wg_ifname_parse() does; every name a pattern formats matches
 *     back to the same sites and family.
 *  1, 2: the rest as an IPv4 (1) or IPv6 (2) address plan. Properties: a
 *     rejection has a printable reason; an accepted plan gives every site
 *     a net whose site is that site, at the plan's length and at full
 *     length, and no net to site 256.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.c"
#include "wg.c"
#include "../../tools/meshctl/plan.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reason(const char *err)
{
	size_t i;

	if (!err[0])
		abort();
	for (i = 0; err[i]; i++)
		if (!isprint((unsigned char)err[i]))
			abort();
}

static void fuzz_name(const struct mc_pattern *p, const char *name)
{
	struct mp_wg_ifname n;
	char buf[IF_NAMESIZE];
	int r;

	r = mc_pattern_match(p, name, &n);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		abort();
	if (r == 0 && (mc_pattern_format(p, &n, buf, sizeof(buf)) != (int)strlen(name) ||
		       strcmp(buf, name) != 0))
		abort();
}

/* Every name p formats is an interface name that p matches back. */
static void fuzz_format(const struct mc_pattern *p)
{
	static const struct mp_wg_ifname ns[] = {
		{ 0, 0, AF_INET }, { 1, 23, AF_INET6 }, { 45, 255, AF_INET },
		{ 255, 199, AF_INET6 },
	};
	struct mp_wg_ifname back;
	char buf[IF_NAMESIZE];
	size_t i;
	int k;

	for (i = 0; i < MP_ARRAY_SIZE(ns); i++) {
		k = mc_pattern_format(p, &ns[i], buf, sizeof(buf));
		if (k == -EINVAL)
			continue;
		if (k < 0 || (size_t)k != strlen(buf) || mc_pattern_match(p, buf, &back) != 0 ||
		    memcmp(&back, &ns[i], sizeof(back)) != 0)
			abort();
	}
}

static void fuzz_pattern(const char *text, const char *name)
{
	static struct mc_pattern def;
	struct mc_pattern p;
	struct mp_wg_ifname n = { 0 }, w = { 0 };
	char err[512];
	int r, rw;

	if (!def.text[0] && mc_pattern_parse(MC_PATTERN_DEFAULT, &def, NULL, 0) < 0)
		abort();
	r = mc_pattern_parse(text, &p, err, sizeof(err));
	if (r == 0) {
		if (strcmp(p.text, text) != 0)
			abort();
		fuzz_name(&p, name);
		fuzz_format(&p);
	} else if (r == -EINVAL) {
		check_reason(err);
	} else {
		abort();
	}
	fuzz_name(&def, name);
	r = mc_pattern_match(&def, name, &n);
	rw = mp_wg_ifname_parse(name, &w);
	if (r != rw || (r == 0 && (n.local_site != w.local_site ||
				   n.remote_site != w.remote_site || n.family != w.family)))
		abort();
}

static void fuzz_plan(const char *text, int family)
{
	static struct mc_plan p;
	struct mp_nl_addr a;
	char err[512];
	unsigned site;
	int r;

	r = mc_plan_parse(text, family, &p, err, sizeof(err));
	if (r == -EINVAL) {
		check_reason(err);
		return;
	}
	if (r == -ENOMEM)
		return;
	if (r != 0 || p.family != family || p.plen > (family == AF_INET ? 32U : 128U))
		abort();
	for (site = 0; site < MC_SITES; site++) {
		if (mc_plan_site_net(&p, site, &a) != 0 ||
		    mc_plan_site_of(&p, &a, p.plen) != (int)site ||
		    mc_plan_site_of(&p, &a, family == AF_INET ? 32 : 128) != (int)site)
			abort();
	}
	if (mc_plan_site_net(&p, MC_SITES, &a) != -ERANGE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *name;
	size_t len;

	if (size < 1)
		return 0;
	/* NUL-terminated copies, exactly as long as needed (ASan) */
	len = size - 1;
	text = malloc(len + 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, len);
	text[len] = '\0';
	switch (data[0] % 3) {
	case 0:
		name = memchr(text, '\0', len) ? text + strlen(text) + 1 : text;
		fuzz_pattern(text, name);
		break;
	case 1:
		fuzz_plan(text, AF_INET);
		break;
	default:
		fuzz_plan(text, AF_INET6);
		break;
	}
	free(text);
	return 0;
}
