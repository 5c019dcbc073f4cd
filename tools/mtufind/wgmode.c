/* SPDX-License-Identifier: MIT */
/*
 * mtufind --wg IFACE [--apply]: the outer path MTU to every peer endpoint of
 * a WireGuard interface (runtime state over UAPI, lib/wg), the MTU that fits
 * all of them, and with --apply that MTU set on the interface (netlink,
 * lib/nl). Prints nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mtufind.h"
#include "nl.h"
#include "wg.h"

struct v6_ctx {
	int ifindex;
	bool found;
};

static int v6_addr_cb(const struct mp_nl_ifaddr *a, void *arg)
{
	struct v6_ctx *c = arg;

	/* a link-local address alone does not make a tunnel carry IPv6 */
	if (a->ifindex == c->ifindex && a->addr.family == AF_INET6 && a->scope == 0)
		c->found = true;
	return 0;
}

int mf_if_has_ipv6(struct mp_nl *nl, int ifindex, bool *ret)
{
	struct v6_ctx v6 = { .ifindex = ifindex };
	int r;

	r = mp_nl_ifaddr_list(nl, AF_INET6, v6_addr_cb, &v6);
	if (r < 0)
		return r;
	*ret = v6.found;
	return 0;
}

static bool peers_route_v6(const struct mp_wg_device *d)
{
	size_t i, k;

	for (i = 0; i < d->n_peers; i++)
		for (k = 0; k < d->peers[i].n_allowed_ips; k++)
			if (d->peers[i].allowed_ips[k].family == AF_INET6)
				return true;
	return false;
}

void mf_wg_result_done(struct mf_wg_result *res)
{
	free(res->paths);
	free(res->peer_keys);
	free(res->last_handshake_ns);
	memset(res, 0, sizeof(*res));
}

static int probe_peers(const struct mf_opts *o, const struct mp_wg_device *d,
		       struct mf_wg_result *res)
{
	size_t i, n = MP_MIN(d->n_peers, (size_t)MF_PEERS_MAX);
	unsigned best = 0;
	bool any_raised = false;
	int r;

	res->paths = calloc(n ? n : 1, sizeof(*res->paths));
	res->peer_keys = calloc(n ? n : 1, sizeof(*res->peer_keys));
	res->last_handshake_ns = calloc(n ? n : 1, sizeof(*res->last_handshake_ns));
	if (!res->paths || !res->peer_keys || !res->last_handshake_ns)
		return -ENOMEM;
	for (i = 0; i < n && !mf_stop; i++) {
		const struct mp_wg_peer *pe = &d->peers[i];
		struct mf_path *p = &res->paths[res->n_probed];
		struct mf_opts po = *o;

		if (!pe->endpoint_len)
			continue;
		mp_wg_key_to_base64(pe->public_key, res->peer_keys[res->n_probed],
				    sizeof(res->peer_keys[0]));
		res->last_handshake_ns[res->n_probed] = pe->last_handshake_ns;
		p->addr = pe->endpoint;
		p->addr_len = pe->endpoint_len;
		mp_addr_to_str((const struct sockaddr *)&p->addr, p->target, sizeof(p->target));
		po.family = p->addr.ss_family;
		po.ifname = NULL;	/* the endpoint is reached over the underlay */
		res->n_probed++;
		r = mf_path_run(&po, p);
		if (r < 0)
			return r;
		if (p->error || !p->reachable)
			continue;
		r = mp_wg_mtu_recommend(p->pmtu_bytes, p->family, res->carries_ipv6,
					&p->wg_mtu_bytes, &p->wg_mtu_raised);
		if (r < 0)
			return r;
		if (!best || p->wg_mtu_bytes < best) {
			best = p->wg_mtu_bytes;
			any_raised = p->wg_mtu_raised;
		}
	}
	res->wg_mtu_bytes = best;
	res->wg_mtu_raised = any_raised;
	return mf_stop ? -EINTR : 0;
}

int mf_wg_run(const struct mf_opts *o, struct mf_wg_result *res)
{
	struct mp_wg_device *d = NULL;
	struct mp_nl *nl = NULL;
	struct mp_nl_link link;
	bool v6 = false;
	int r;

	snprintf(res->ifname, sizeof(res->ifname), "%s", o->wg_ifname);
	r = mp_wg_uapi_get(o->wg_ifname, o->uapi_dir, 0, &d);
	if (r < 0)
		goto out;
	/* handshake ages are as of this read, not of the end of the probes */
	res->read_real_ns = mp_clock_real_ns();
	r = mp_nl_new(&nl);
	if (r < 0)
		goto out;
	r = mp_nl_link_get(nl, 0, o->wg_ifname, &link);
	if (r < 0)
		goto out;
	res->old_mtu_bytes = res->new_mtu_bytes = link.mtu_bytes;
	r = mf_if_has_ipv6(nl, link.ifindex, &v6);
	if (r < 0)
		goto out;
	res->carries_ipv6 = v6 || peers_route_v6(d);
	res->n_peers = (unsigned)d->n_peers;
	r = probe_peers(o, d, res);
	if (r < 0)
		goto out;
	if (o->apply && res->wg_mtu_bytes && res->wg_mtu_bytes != link.mtu_bytes) {
		r = mp_nl_link_set_mtu(nl, link.ifindex, NULL, res->wg_mtu_bytes);
		if (r < 0)
			goto out;
		r = mp_nl_link_get(nl, link.ifindex, NULL, &link);
		if (r < 0)
			goto out;
		res->new_mtu_bytes = link.mtu_bytes;
		res->applied = true;
	}
out:
	mp_nl_free(nl);
	mp_wg_device_free(d);
	return r;
}
