/* SPDX-License-Identifier: MIT */
/*
 * pathping --via SITE: the mesh path meshctl chose to SITE, from its
 * control socket (lib/ctl), and the trace read against it: the site each
 * hop belongs to (the site nets of meshctl's routes), whether the probes
 * met exactly the path's sites, and per segment (a tunnel from one site to
 * the next) the hop's loss and the RTT it adds. Prints nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pathping.h"

/* "0>2>1": site numbers 0..255 joined by '>'. */
static int path_parse(struct pp_via *v, const char *s)
{
	v->n_sites = 0;
	while (*s) {
		char *end;
		unsigned long n;

		if (*s < '0' || *s > '9' || v->n_sites == PP_VIA_SITES)
			return -EINVAL;
		n = strtoul(s, &end, 10);
		if (n > 255 || end - s > 3)
			return -EINVAL;
		v->sites[v->n_sites++] = (unsigned)n;
		s = end;
		if (*s == '>' && s[1])
			s++;
		else if (*s)
			return -EINVAL;
	}
	return v->n_sites >= 2 ? 0 : -EINVAL;
}

/* "10.201.1.0/24" */
static int prefix_parse(const char *s, struct mp_nl_addr *a, unsigned *plen)
{
	char buf[64], *slash, *end;
	unsigned long n;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	memset(a, 0, sizeof(*a));
	a->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, buf, a->bytes) != 1)
		return -EINVAL;
	n = strtoul(slash + 1, &end, 10);
	if (*end || n > (a->family == AF_INET ? 32U : 128U))
		return -EINVAL;
	*plen = (unsigned)n;
	return 0;
}

static double num_or_nan(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int paths_take(struct pp_via *v, json_t *doc, unsigned site, char *err, size_t errlen)
{
	json_t *paths = json_object_get(doc, "paths"), *p;
	size_t i;

	if (!json_is_array(paths)) {
		snprintf(err, errlen, "meshctl's paths: no \"paths\" array");
		return -EINVAL;
	}
	json_array_foreach(paths, i, p) {
		json_t *s = json_object_get(p, "site"), *path = json_object_get(p, "path"),
		       *kind = json_object_get(p, "kind");

		if (!json_is_integer(s) || json_integer_value(s) != (json_int_t)site)
			continue;
		if (!json_is_string(path) || !json_is_string(kind)) {
			snprintf(err, errlen, "meshctl's path to site %u: no path or kind", site);
			return -EINVAL;
		}
		snprintf(v->kind, sizeof(v->kind), "%s", json_string_value(kind));
		if (!*json_string_value(path)) {
			snprintf(err, errlen, "meshctl has no path to site %u now (%s)", site,
				 v->kind);
			return -EINVAL;
		}
		if (strlen(json_string_value(path)) >= sizeof(v->path) ||
		    path_parse(v, json_string_value(path)) < 0 ||
		    v->sites[v->n_sites - 1] != site) {
			snprintf(err, errlen, "meshctl's path to site %u: bad path '%.40s'", site,
				 json_string_value(path));
			return -EINVAL;
		}
		strcpy(v->path, json_string_value(path));
		v->cost_ms = num_or_nan(p, "cost_ms");
		v->est_ms = num_or_nan(p, "est_ms");
		return 0;
	}
	snprintf(err, errlen, "meshctl knows no site %u", site);
	return -EINVAL;
}

/* The site nets, and the default target: SITE's net + 1. */
static int routes_take(struct pp_via *v, json_t *doc, int family, char *err, size_t errlen)
{
	json_t *routes = json_object_get(doc, "routes"), *r;
	struct pp_via_net *mine = NULL;
	size_t i;

	if (!json_is_array(routes)) {
		snprintf(err, errlen, "meshctl's routes: no \"routes\" array");
		return -EINVAL;
	}
	json_array_foreach(routes, i, r) {
		json_t *dst = json_object_get(r, "dst"), *site = json_object_get(r, "site");
		struct pp_via_net *n = &v->nets[v->n_nets];

		if (!json_is_string(dst) || !json_is_integer(site) ||
		    json_integer_value(site) < 0 || json_integer_value(site) > 255)
			continue;	/* a prefix outside the plan: site -1 */
		if (v->n_nets == PP_VIA_NETS ||
		    prefix_parse(json_string_value(dst), &n->net, &n->plen) < 0) {
			snprintf(err, errlen, "meshctl's routes: bad dst '%.60s'",
				 json_string_value(dst));
			return -EINVAL;
		}
		n->site = (unsigned)json_integer_value(site);
		v->n_nets++;
		if (n->site == v->site && (family == AF_UNSPEC || family == n->net.family) &&
		    (!mine || (mine->net.family == AF_INET6 && n->net.family == AF_INET)))
			mine = n;
	}
	if (!mine) {
		snprintf(err, errlen, "meshctl routes no net of site %u%s", v->site,
			 family == AF_INET ? " over IPv4" : family == AF_INET6 ? " over IPv6" : "");
		return -EINVAL;
	}
	{
		struct mp_nl_addr a = mine->net;
		unsigned bits = a.family == AF_INET ? 32 : 128;

		if (mine->plen + 1 < bits)
			a.bytes[bits / 8 - 1] |= 1;	/* the net's first address */
		inet_ntop(a.family, a.bytes, v->target, sizeof(v->target));
	}
	return 0;
}

int pp_via_parse(struct pp_via *v, const char *paths, size_t paths_len, const char *routes,
		 size_t routes_len, unsigned site, int family, char *err, size_t errlen)
{
	json_t *pd = json_loadb(paths, paths_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *rd = json_loadb(routes, routes_len, JSON_REJECT_DUPLICATES, NULL);
	int r = -EINVAL;

	memset(v, 0, sizeof(*v));
	v->site = site;
	v->cost_ms = v->est_ms = NAN;
	if (!pd || !rd)
		snprintf(err, errlen, "meshctl's %s: not JSON", pd ? "routes" : "paths");
	else if ((r = paths_take(v, pd, site, err, errlen)) == 0)
		r = routes_take(v, rd, family, err, errlen);
	json_decref(pd);
	json_decref(rd);
	return r;
}

int pp_via_load(struct pp_via *v, const char *ctl, unsigned site, int family)
{
	char *paths = NULL, *routes = NULL, err[160];
	size_t pl = 0, rl = 0;
	int r;

	r = mp_ctl_ask(ctl, "paths json", 0, &paths, &pl);
	if (r == 0)
		r = mp_ctl_ask(ctl, "routes json", 0, &routes, &rl);
	if (r == -ENOENT || r == -ECONNREFUSED)
		mp_warnx("--via: no meshctl daemon at %s (`meshctl run`, or --ctl PATH)", ctl);
	else if (r == -EPROTO)
		mp_warnx("--via: meshctl at %s: %.*s", ctl,
			 (int)strcspn((routes ? routes : paths) + 7, "\n"),
			 (routes ? routes : paths) + 7);
	else if (r < 0)
		mp_warn(-r, "--via: asking meshctl at %s", ctl);
	if (r == 0 && (r = pp_via_parse(v, paths, pl, routes, rl, site, family, err,
					sizeof(err))) < 0)
		mp_warnx("--via: %s", err);
	free(paths);
	free(routes);
	return r;
}

static int site_of(const struct pp_via *v, const struct sockaddr_storage *ss)
{
	struct mp_nl_addr a = { .family = ss->ss_family };
	unsigned bits = ss->ss_family == AF_INET ? 32 : 128, best = 0;
	int site = -1;

	if (ss->ss_family == AF_INET)
		memcpy(a.bytes, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(a.bytes, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else
		return -1;
	/* the longest net that holds it */
	for (unsigned i = 0; i < v->n_nets; i++)
		if (mp_nl_prefix_contains(&v->nets[i].net, v->nets[i].plen, &a, bits) &&
		    (site < 0 || v->nets[i].plen > best)) {
			site = (int)v->nets[i].site;
			best = v->nets[i].plen;
		}
	return site;
}

void pp_via_analyze(struct pp_via *v, const struct pp_result *res)
{
	size_t at;
	unsigned ttl;

	at = (size_t)snprintf(v->traced, sizeof(v->traced), "%u", v->sites[0]);
	v->follows = res->reached && res->dest_ttl == v->n_sites - 1;
	for (ttl = 1; ttl <= res->n_hops && ttl <= PP_MAX_TTL; ttl++) {
		const struct pp_hop *h = &res->hops[ttl];
		int s = h->n_addrs ? site_of(v, &h->addrs[0].addr) : -1;

		v->hop_site[ttl] = s;
		if (ttl < v->n_sites && s != (int)v->sites[ttl])
			v->follows = false;
		if (at < sizeof(v->traced))
			at += (size_t)(s >= 0 ? snprintf(v->traced + at, sizeof(v->traced) - at,
							  ">%d", s) :
				       snprintf(v->traced + at, sizeof(v->traced) - at, ">?"));
	}
}
