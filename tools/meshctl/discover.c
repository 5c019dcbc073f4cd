/* SPDX-License-Identifier: MIT */
/*
 * discover: the node's tunnels. Names come from the wg-quick files in
 * /etc/wireguard that match the pattern (every one is parsed, so a broken
 * file is reported, not skipped); the interface index, MTU and inner
 * addresses come from the kernel; the last handshake from the UAPI socket.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "meshctl.h"

struct addr_pick {
	struct mc_tunnel *t;
	size_t n;
};

static int cmp_tunnel(const void *a, const void *b)
{
	const struct mc_tunnel *x = a, *y = b;

	if (x->remote_site != y->remote_site)
		return x->remote_site < y->remote_site ? -1 : 1;
	return x->outer_family == y->outer_family ? 0 : x->outer_family == AF_INET ? -1 : 1;
}

static int add_tunnel(struct mc_tunnel **v, size_t *n, const char *name,
		      const struct mp_wg_ifname *in)
{
	struct mc_tunnel *t;

	if (*n >= MC_TUNNELS_MAX)
		return -E2BIG;
	t = realloc(*v, (*n + 1) * sizeof(**v));
	if (!t)
		return -ENOMEM;
	*v = t;
	t = &t[(*n)++];
	memset(t, 0, sizeof(*t));
	snprintf(t->ifname, sizeof(t->ifname), "%s", name);
	t->local_site = in->local_site;
	t->remote_site = in->remote_site;
	t->outer_family = in->family;
	t->m.handshake_age_ns = UINT64_MAX;
	return 0;
}

int mc_discover(const struct mc_discover_opts *o, struct mp_nl *nl,
		struct mc_tunnel **ret_tunnels, size_t *ret_n, char *errbuf, size_t errlen)
{
	const char *dir = o->conf_dir ? o->conf_dir : MC_CONF_DIR;
	struct mc_tunnel *v = NULL;
	size_t n = 0, i;
	int site = o->site, r = 0;
	char first[IF_NAMESIZE] = "";
	struct dirent *de;
	DIR *d;

	errbuf[0] = '\0';
	d = opendir(dir);
	if (!d) {
		r = -errno;
		snprintf(errbuf, errlen, "%s", dir);
		return r;
	}
	while ((de = readdir(d))) {
		char name[IF_NAMESIZE], path[4096], why[160];
		size_t len = strlen(de->d_name);
		struct mp_wg_device *dev = NULL;
		struct mp_wg_ifname in;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") || len - 5 >= IF_NAMESIZE)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (mc_pattern_match(o->pattern, name, &in) < 0)
			continue;
		if (o->site != MC_NO_SITE && in.local_site != (unsigned)o->site)
			continue;
		if (site == MC_NO_SITE) {
			site = (int)in.local_site;
			snprintf(first, sizeof(first), "%s", name);
		} else if (in.local_site != (unsigned)site) {
			snprintf(errbuf, errlen, "tunnels of two local sites, %s and %s: "
				 "choose one with --site", first, name);
			r = -EINVAL;
			break;
		}
		if (in.remote_site == in.local_site) {
			snprintf(errbuf, errlen, "%s: a tunnel from site %u to itself", name,
				 in.local_site);
			r = -EINVAL;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = mp_wg_conf_load(path, &dev, why, sizeof(why));
		mp_wg_device_free(dev);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: %s", path, r == -EINVAL ? why : strerror(-r));
			break;
		}
		r = add_tunnel(&v, &n, name, &in);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r == 0 && n == 0) {
		snprintf(errbuf, errlen, "no tunnel in %s matches '%s'", dir, o->pattern->text);
		r = -ENOENT;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	qsort(v, n, sizeof(*v), cmp_tunnel);
	for (i = 1; i < n; i++)
		if (!cmp_tunnel(&v[i - 1], &v[i])) {
			snprintf(errbuf, errlen, "%s and %s are the same tunnel", v[i - 1].ifname,
				 v[i].ifname);
			free(v);
			return -EINVAL;
		}
	if (nl)
		mc_discover_refresh(nl, v, n);
	*ret_tunnels = v;
	*ret_n = n;
	return 0;
}

/* Inner addresses: an IPv4 point-to-point address is preferred (smaller
 * probes), else IPv6; link-local IPv6 is never used. */
static int addr_fn(const struct mp_nl_ifaddr *a, void *arg)
{
	struct addr_pick *p = arg;
	size_t i;

	if (!a->peer.family || a->scope >= 253)
		return 0;
	for (i = 0; i < p->n; i++) {
		struct mc_tunnel *t = &p->t[i];

		if (t->ifindex != a->ifindex)
			continue;
		if (!t->peer_inner[a->peer.family == AF_INET6].family)
			t->peer_inner[a->peer.family == AF_INET6] = a->peer;
		if (t->peer_addr.family == AF_INET)
			continue;	/* already the preferred kind */
		t->local_addr = a->addr;
		t->peer_addr = a->peer;
	}
	return 0;
}

int mc_discover_refresh(struct mp_nl *nl, struct mc_tunnel *t, size_t n)
{
	struct mc_tunnel *old;
	struct addr_pick p = { t, n };
	size_t i;
	int r;

	/* a failed dump keeps what was known: a netlink hiccup is no reason
	 * to take every tunnel down */
	old = malloc(n * sizeof(*old));
	if (!old)
		return -ENOMEM;
	memcpy(old, t, n * sizeof(*old));
	for (i = 0; i < n; i++) {
		struct mp_nl_link l;

		memset(&t[i].local_addr, 0, sizeof(t[i].local_addr));
		memset(&t[i].peer_addr, 0, sizeof(t[i].peer_addr));
		memset(t[i].peer_inner, 0, sizeof(t[i].peer_inner));
		r = mp_nl_link_get(nl, 0, t[i].ifname, &l);
		if (r == -ENODEV) {
			t[i].ifindex = 0;
		} else if (r == 0) {
			t[i].ifindex = l.ifindex;
			t[i].mtu_bytes = l.mtu_bytes;
		}
	}
	r = mp_nl_ifaddr_list(nl, AF_UNSPEC, addr_fn, &p);
	if (r < 0)
		for (i = 0; i < n; i++) {
			t[i].local_addr = old[i].local_addr;
			t[i].peer_addr = old[i].peer_addr;
			memcpy(t[i].peer_inner, old[i].peer_inner, sizeof(t[i].peer_inner));
		}
	free(old);
	return r < 0 ? r : 0;
}

int mc_discover_handshake(const char *uapi_dir, struct mc_tunnel *t)
{
	struct mp_wg_device *d = NULL;
	uint64_t hs = 0, now = mp_clock_real_ns();
	size_t i;
	int r;

	r = mp_wg_uapi_get(t->ifname, uapi_dir, 100 * MP_NSEC_PER_MSEC, &d);
	if (r < 0)
		return r;
	for (i = 0; i < d->n_peers; i++)
		hs = MP_MAX(hs, d->peers[i].last_handshake_ns);
	mp_wg_device_free(d);
	t->m.handshake_age_ns = hs == 0 ? UINT64_MAX : now > hs ? now - hs : 0;
	return 0;
}
