/* SPDX-License-Identifier: MIT */
/*
 * tune: `meshctl tune --check | --apply | --restore`, the kernel settings a
 * mesh node needs: forwarding, loose reverse-path filtering on the tunnels,
 * UDP buffer ceilings, ICMP error rate limits that would hide loss from
 * probes, the conntrack ceiling, and each tunnel's MTU from the underlay
 * route to its peer's endpoint (the WireGuard overhead taken off as mtufind
 * does: lib/wg). A setting already better than the recommendation is left
 * alone ("at least" / "at most"). --apply saves the old values to a state
 * file before it changes anything, and undoes its own writes when one
 * fails; --restore writes the saved values back. Net sysctls are per
 * network namespace; those the kernel keeps global (mode 0444 outside the
 * initial namespace) are reported "readonly" and never fail a run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "file.h"
#include "meshctl.h"

#define TUNE_STATE_HEADER "# meshctl tune: values before --apply; --restore writes them back\n"

enum {
	OPT_CHECK = 256,
	OPT_APPLY,
	OPT_RESTORE,
	OPT_STATE,
	OPT_CONF_DIR,
	OPT_UAPI_DIR,
	OPT_PATTERN,
	OPT_SITE,
	TUNE_KEY_MAX = 96,		/* "net.ipv4.conf.<15>.rp_filter", with room */
	TUNE_WHY_MAX = 64,
	TUNE_ITEMS_MAX = 16 + 2 * MC_TUNNELS_MAX,
	TUNE_STATE_MAX = 1 << 20,	/* largest state file read */
	TUNE_BUF_BYTES = 7 << 20,	/* wireguard-go's UDP socket buffers */
	TUNE_CONNTRACK_MIN = 262144,	/* flows before a full table drops new ones */
};

enum tune_action { TUNE_CHECK, TUNE_APPLY, TUNE_RESTORE };

/* How the current value is judged against the recommendation. */
enum tune_rule {
	TR_EQ,		/* exactly */
	TR_MIN,		/* at least */
	TR_MAX,		/* at most */
	TR_LOOSE,	/* rp_filter: max(all, interface) must not be 1 (strict) */
	TR_MTU,		/* at most the recommendation, at least 1280 */
};

enum tune_status {
	TS_OK,		/* as recommended, or better */
	TS_CHANGE,	/* needs changing (--check) */
	TS_CHANGED,	/* --apply changed it */
	TS_READONLY,	/* needs changing, but is not settable here */
	TS_UNKNOWN,	/* no recommendation (MTU: no endpoint or route) */
};

struct tune_opts {
	enum tune_action action;
	int nactions;			/* --check, --apply, --restore given */
	const char *state;		/* --state FILE */
	const char *conf_dir;		/* --conf-dir */
	const char *uapi_dir;		/* --uapi-dir */
	struct mc_pattern pattern;	/* --pattern */
	int site;			/* --site */
	enum mp_format format;		/* -f */
};

struct tune_item {
	char key[TUNE_KEY_MAX];		/* sysctl(8) name, or "mtu:IFNAME" */
	char ifname[IF_NAMESIZE];	/* the tunnel, "" for a node-wide setting */
	enum tune_rule rule;
	int64_t cur;			/* as read */
	int64_t want;			/* recommended (0 with TS_UNKNOWN) */
	bool readonly;			/* the kernel refuses writes here (mode 0444) */
	enum tune_status st;
	char why[TUNE_WHY_MAX];		/* one short reason */
};

/* A saved value of the state file. */
struct tune_saved {
	char key[TUNE_KEY_MAX];
	int64_t value;
	enum tune_status st;		/* --restore: TS_CHANGED restored, TS_UNKNOWN gone,
					 * TS_READONLY failed */
	int64_t before;			/* --restore: the value it replaced */
};

struct tune_def {
	const char *path;		/* under /proc/sys */
	enum tune_rule rule;
	int64_t want;
	const char *why;
};

/* Node-wide settings, applied in this order. */
static const struct tune_def defs[] = {
	{ "net/ipv4/ip_forward", TR_EQ, 1, "a mesh node relays for others" },
	{ "net/ipv6/conf/all/forwarding", TR_EQ, 1, "relays IPv6; RAs need accept_ra=2" },
	{ "net/ipv4/conf/all/rp_filter", TR_LOOSE, 2, "strict drops relayed packets" },
	{ "net/core/rmem_max", TR_MIN, TUNE_BUF_BYTES, "wireguard-go's 7 MiB UDP buffers" },
	{ "net/core/wmem_max", TR_MIN, TUNE_BUF_BYTES, "wireguard-go's 7 MiB UDP buffers" },
	{ "net/ipv4/icmp_ratelimit", TR_MAX, 0, "per-host limit hides hops, PMTU" },
	{ "net/ipv6/icmp/ratelimit", TR_MAX, 0, "per-host limit hides hops, PMTU" },
	{ "net/ipv4/icmp_msgs_per_sec", TR_MIN, 1000, "a lower global cap hides loss" },
	{ "net/ipv4/icmp_msgs_burst", TR_MIN, 50, "a lower global cap hides loss" },
	{ "net/netfilter/nf_conntrack_max", TR_MIN, TUNE_CONNTRACK_MIN,
	  "a full table drops flows silently" },
};

static const struct option options[] = {
	{ "check", no_argument, NULL, OPT_CHECK },		/* report; exit 1 if to change */
	{ "apply", no_argument, NULL, OPT_APPLY },		/* save, then change */
	{ "restore", no_argument, NULL, OPT_RESTORE },		/* write the saved values back */
	{ "state", required_argument, NULL, OPT_STATE },	/* the state file */
	{ "conf-dir", required_argument, NULL, OPT_CONF_DIR },	/* wg-quick files */
	{ "uapi-dir", required_argument, NULL, OPT_UAPI_DIR },	/* wireguard-go sockets */
	{ "pattern", required_argument, NULL, OPT_PATTERN },	/* interface names */
	{ "site", required_argument, NULL, OPT_SITE },		/* this node's site */
	{ "format", required_argument, NULL, 'f' },		/* output format */
	{ "json", no_argument, NULL, 'j' },			/* = -f json */
	{ "help", no_argument, NULL, 'h' },			/* this text */
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: meshctl tune [--check | --apply | --restore] [options]\n"
	      "  kernel settings of a mesh node: forwarding, rp_filter, UDP buffers,\n"
	      "  ICMP rate limits, conntrack, tunnel MTUs (default --check)\n"
	      "      --check             report; exit 1 when something needs changing\n"
	      "      --apply             save the old values, then change what needs it\n"
	      "      --restore           write the saved values back, remove the state\n"
	      "      --state FILE        saved values (default " MC_TUNE_STATE ")\n"
	      "      --conf-dir DIR      wg-quick files (default /etc/wireguard)\n"
	      "      --pattern PAT       tunnel names (default wg%L.%R_v%F)\n"
	      "      --uapi-dir DIR      wireguard-go sockets (default /run/wireguard)\n"
	      "      --site N            this node's site (default: from the names)\n"
	      "  -f, --format FMT        text, csv, json, ndjson, prom (-j: json)\n", f);
}

static int parse_opt(int c, const char *arg, void *ctx)
{
	struct tune_opts *o = ctx;
	char why[160];
	uint64_t u;

	switch (c) {
	case OPT_CHECK:
	case OPT_APPLY:
	case OPT_RESTORE:
		o->action = c == OPT_CHECK ? TUNE_CHECK :
			    c == OPT_APPLY ? TUNE_APPLY : TUNE_RESTORE;
		o->nactions++;
		return 0;
	case OPT_STATE:
		if (!*arg)
			return mp_warn_invalid("state file", arg, 0);
		o->state = arg;
		return 0;
	case OPT_CONF_DIR: o->conf_dir = arg; return 0;
	case OPT_UAPI_DIR: o->uapi_dir = arg; return 0;
	case OPT_PATTERN:
		if (mc_pattern_parse(arg, &o->pattern, why, sizeof(why)) < 0) {
			mp_warnx("%s", why);
			return -EINVAL;
		}
		return 0;
	case OPT_SITE:
		if (mp_parse_u64(arg, 0, MC_SITES - 1, &u) < 0)
			return mp_warn_invalid("site", arg, -ERANGE);
		o->site = (int)u;
		return 0;
	case 'f': return mp_opt_format(arg, &o->format);
	case 'j': o->format = MP_FMT_JSON; return 0;
	case 'h': return MP_ARGS_HELP;
	default: return -EINVAL;
	}
}

/* ---------------------------------------------------------------- keys, values */

/* "net/ipv4/conf/wg0.1_v4/rp_filter" <-> "net.ipv4.conf.wg0/1_v4.rp_filter",
 * as sysctl(8) shows it: the two separators swap. */
static void key_swap(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = in[i] == '/' ? '.' : in[i] == '.' ? '/' : in[i];
	out[i] = '\0';
}

static bool key_is_mtu(const char *key)
{
	return !strncmp(key, "mtu:", 4);
}

/* A key of the state file must be one tune writes: a net sysctl (no way
 * out of /proc/sys/net) or a tunnel MTU. */
static bool key_valid(const char *key)
{
	if (key_is_mtu(key))
		return key[4] && strlen(key + 4) < IF_NAMESIZE && !strchr(key + 4, '/');
	return !strncmp(key, "net.", 4) && !strstr(key, "//") && !strstr(key, "..") &&
	       !strchr(key, ' ') && key[strlen(key) - 1] != '.';
}

static void key_path(const char *key, char *buf, size_t len)
{
	char p[TUNE_KEY_MAX];

	key_swap(key, p, sizeof(p));
	snprintf(buf, len, "/proc/sys/%s", p);
}

/* Read an integer sysctl. Returns 0, or -errno (-ENOENT: absent here). */
static int sysctl_read(const char *key, int64_t *ret, bool *ret_readonly)
{
	char path[160], buf[64];
	struct stat st;
	ssize_t n;
	int fd, r;

	key_path(key, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	r = n < 0 ? -errno : 0;
	/* the kernel marks what a namespace may not change 0444 (net.core.rmem_max
	 * outside the initial namespace): for root too */
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (mp_parse_i64(buf, INT64_MIN, INT64_MAX, ret) < 0)
		return -EINVAL;
	if (ret_readonly)
		*ret_readonly = !(st.st_mode & S_IWUSR);
	return 0;
}

static int sysctl_write(const char *key, int64_t v)
{
	char path[160], buf[32];
	int fd, n, r = 0;
	ssize_t k;

	key_path(key, path, sizeof(path));
	n = snprintf(buf, sizeof(buf), "%lld\n", (long long)v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	k = write(fd, buf, (size_t)n);
	if (k < 0)
		r = -errno;
	else if (k != n)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Write v to key (a sysctl or a tunnel MTU). Returns 0, or -errno. */
static int value_write(struct mp_nl *nl, const char *key, int64_t v)
{
	if (!key_is_mtu(key))
		return sysctl_write(key, v);
	if (v < 68 || v > 65535)
		return -ERANGE;
	return mp_nl_link_set_mtu(nl, 0, key + 4, (uint32_t)v);
}

static int value_read(struct mp_nl *nl, const char *key, int64_t *ret)
{
	struct mp_nl_link l;
	int r;

	if (!key_is_mtu(key))
		return sysctl_read(key, ret, NULL);
	r = mp_nl_link_get(nl, 0, key + 4, &l);
	if (r == 0)
		*ret = l.mtu_bytes;
	return r;
}

/* ---------------------------------------------------------------- what to change */

static enum tune_status judge(enum tune_rule rule, int64_t cur, int64_t want)
{
	switch (rule) {
	case TR_EQ: return cur == want ? TS_OK : TS_CHANGE;
	case TR_MIN: return cur >= want ? TS_OK : TS_CHANGE;
	case TR_MAX: return cur <= want ? TS_OK : TS_CHANGE;
	case TR_LOOSE: return cur == 1 ? TS_CHANGE : TS_OK;
	case TR_MTU:
		return cur <= want && cur >= MP_WG_IPV6_MIN_MTU ? TS_OK : TS_CHANGE;
	}
	return TS_CHANGE;
}

static struct tune_item *item_add(struct tune_item *v, size_t *n, const char *key,
				  const char *ifname, enum tune_rule rule, int64_t want,
				  const char *why)
{
	struct tune_item *it;

	if (*n >= TUNE_ITEMS_MAX)
		return NULL;
	it = &v[(*n)++];
	memset(it, 0, sizeof(*it));
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->ifname, sizeof(it->ifname), "%s", ifname);
	it->rule = rule;
	it->want = want;
	snprintf(it->why, sizeof(it->why), "%s", why);
	return it;
}

/* Judge it; a setting that needs changing but cannot be changed here is
 * TS_READONLY. */
static void item_judge(struct tune_item *it)
{
	it->st = judge(it->rule, it->cur, it->want);
	if (it->st == TS_CHANGE && it->readonly)
		it->st = TS_READONLY;
}

/* The lowest recommendation over t's peers' endpoints. why: the underlay
 * that decided it. Returns 0, or -ENOENT (no endpoint), -errno. */
static int tunnel_mtu(const struct tune_opts *o, struct mp_nl *nl, const struct mc_tunnel *t,
		      unsigned *ret, char *why, size_t whylen)
{
	const char *dir = o->conf_dir ? o->conf_dir : MC_CONF_DIR;
	struct mp_wg_device *d = NULL;
	unsigned best = 0;
	char path[4096];
	size_t i;
	int r;

	/* the runtime endpoint (it roams) first, the file's otherwise */
	if (mp_wg_uapi_get(t->ifname, o->uapi_dir, 200 * MP_NSEC_PER_MSEC, &d) < 0) {
		snprintf(path, sizeof(path), "%s/%s.conf", dir, t->ifname);
		r = mp_wg_conf_load(path, &d, NULL, 0);
		if (r < 0)
			return r;
	}
	r = -ENOENT;
	snprintf(why, whylen, "no peer endpoint");
	for (i = 0; i < d->n_peers; i++) {
		const struct mp_wg_peer *p = &d->peers[i];
		struct mp_nl_addr a = { .family = p->endpoint.ss_family };
		struct mp_nl_route rt;
		struct mp_nl_link l;
		unsigned pmtu, m;
		bool raised;

		if (!p->endpoint_len || (a.family != AF_INET && a.family != AF_INET6))
			continue;
		if (a.family == AF_INET)
			memcpy(a.bytes, &((const struct sockaddr_in *)&p->endpoint)->sin_addr, 4);
		else
			memcpy(a.bytes, &((const struct sockaddr_in6 *)&p->endpoint)->sin6_addr,
			       16);
		r = mp_nl_route_get(nl, &a, &rt);
		if (r == 0 && (!rt.nh_count || !rt.nh[0].ifindex))
			r = -ENETUNREACH;
		if (r == 0 && rt.nh[0].ifindex == t->ifindex)
			r = -ELOOP;	/* routed into itself: a fwmark rule decides */
		if (r == 0)
			r = mp_nl_link_get(nl, rt.nh[0].ifindex, NULL, &l);
		if (r < 0) {
			snprintf(why, whylen, "endpoint: %s", r == -ELOOP ?
				 "routed into the tunnel" : strerror(-r));
			continue;
		}
		/* a route MTU or a learned path MTU is narrower than the device */
		pmtu = rt.mtu_bytes ? MP_MIN(rt.mtu_bytes, l.mtu_bytes) : l.mtu_bytes;
		/* mesh tunnels carry IPv6 (DESIGN.md): 1280 at least */
		r = mp_wg_mtu_recommend(pmtu, a.family, true, &m, &raised);
		if (r < 0)
			break;
		if (!best || m < best) {
			best = m;
			snprintf(why, whylen, "%s mtu %u - %u%s", l.name, pmtu,
				 a.family == AF_INET ? MP_WG_OVERHEAD4 : MP_WG_OVERHEAD6,
				 raised ? ", raised to 1280" : "");
		}
	}
	mp_wg_device_free(d);
	if (!best)
		return r < 0 ? r : -ENOENT;
	*ret = best;
	return 0;
}

/* Read every setting and judge it; tunnels' settings after the node's. */
static int collect(const struct tune_opts *o, struct mp_nl *nl, struct tune_item *v,
		   size_t *ret_n)
{
	struct mc_discover_opts dopt = {
		.conf_dir = o->conf_dir, .uapi_dir = o->uapi_dir, .pattern = &o->pattern,
		.site = o->site,
	};
	struct mc_tunnel *t = NULL;
	size_t n = 0, nt = 0, i;
	int64_t all_rp = 0;
	char err[256], key[TUNE_KEY_MAX];
	int r;

	for (i = 0; i < MP_ARRAY_SIZE(defs); i++) {
		struct tune_item *it;

		key_swap(defs[i].path, key, sizeof(key));
		it = item_add(v, &n, key, "", defs[i].rule, defs[i].want, defs[i].why);
		r = sysctl_read(key, &it->cur, &it->readonly);
		if (r == -ENOENT) {	/* no IPv6, no conntrack here */
			n--;
			continue;
		}
		if (r < 0) {
			mp_warn(r, "reading %s", key);
			return r;
		}
		item_judge(it);
		if (!strcmp(defs[i].path, "net/ipv4/conf/all/rp_filter"))
			all_rp = it->st == TS_CHANGE ? it->want : it->cur;
	}
	r = mc_discover(&dopt, nl, &t, &nt, err, sizeof(err));
	if (r == -ENOENT) {
		/* a node without tunnels yet still gets its node-wide settings */
		mp_warnx("%s%s; node-wide settings only", err,
			 strchr(err, ' ') ? "" : ": no such folder");
		r = 0;
	} else if (r < 0) {
		mp_warnx("%s", err);
		return r;
	}
	for (i = 0; i < nt; i++) {
		struct tune_item *it;
		char path[64], why[TUNE_WHY_MAX];
		unsigned mtu;
		int64_t ifv;

		if (!t[i].ifindex) {
			mp_warnx("%s: no such interface", t[i].ifname);
			continue;
		}
		snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", t[i].ifname);
		key_swap(path, key, sizeof(key));
		it = item_add(v, &n, key, t[i].ifname, TR_LOOSE, 2,
			      "loose: kernel uses max(all, if)");
		if (!it || (r = sysctl_read(key, &ifv, &it->readonly)) < 0) {
			r = it ? r : -E2BIG;
			mp_warn(r, "reading %s", key);
			goto out;
		}
		/* the kernel filters with max(all, interface), all as --apply
		 * leaves it: strict only when that is 1 */
		it->cur = ifv;
		it->st = MP_MAX(all_rp, ifv) != 1 ? TS_OK : it->readonly ? TS_READONLY : TS_CHANGE;
		snprintf(key, sizeof(key), "mtu:%s", t[i].ifname);
		it = item_add(v, &n, key, t[i].ifname, TR_MTU, 0, "");
		if (!it) {
			r = -E2BIG;
			goto out;
		}
		it->cur = t[i].mtu_bytes;
		r = tunnel_mtu(o, nl, &t[i], &mtu, why, sizeof(why));
		snprintf(it->why, sizeof(it->why), "%s", why);
		if (r < 0) {
			it->st = TS_UNKNOWN;
			continue;
		}
		it->want = mtu;
		item_judge(it);
	}
	r = 0;
	*ret_n = n;
out:
	free(t);
	return r;
}

/* ---------------------------------------------------------------- the state file */

static void saved_done(struct tune_saved **v)
{
	free(*v);
	*v = NULL;
}

static struct tune_saved *saved_find(struct tune_saved *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return &v[i];
	return NULL;
}

/* Load path into *ret (free()), *ret_n entries. Returns 0, -ENOENT (no
 * file), -EINVAL (a bad line: reported), -errno. */
static int state_load(const char *path, struct tune_saved **ret, size_t *ret_n)
{
	struct tune_saved *v = NULL;
	size_t n = 0, cap = 0;
	char line[256];
	unsigned lineno = 0;
	int r = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char key[TUNE_KEY_MAX + 1], val[32], extra[2];
		int64_t x;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%96s %31s %1s", key, val, extra) != 2 ||
		    strlen(key) >= TUNE_KEY_MAX || !key_valid(key) ||
		    mp_parse_i64(val, INT64_MIN, INT64_MAX, &x) < 0 || saved_find(v, n, key) ||
		    ftell(f) > TUNE_STATE_MAX) {
			line[strcspn(line, "\n")] = '\0';
			mp_warnx("state file %s, line %u: invalid '%s'", path, lineno, line);
			r = -EINVAL;
			break;
		}
		if (n == cap) {
			struct tune_saved *nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].key, sizeof(v[n].key), "%s", key);
		v[n++].value = x;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The folder of path, made if missing (one level: /run/meshperf). */
static int state_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int state_save(const char *path, const struct tune_saved *v, size_t n)
{
	size_t len = strlen(TUNE_STATE_HEADER), cap = len + n * (TUNE_KEY_MAX + 24) + 1;
	char *buf = malloc(cap);
	int r;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, TUNE_STATE_HEADER, len);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s %lld\n", v[i].key,
					(long long)v[i].value);
	r = state_dir(path);
	if (r == 0)
		r = mp_file_replace(path, buf, len, 0600);
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- output */

static const char *status_name(enum tune_status st)
{
	static const char *const names[] = { "ok", "change", "changed", "readonly", "unknown" };

	return names[st];
}

static const char *rule_name(enum tune_rule r)
{
	static const char *const names[] = { "eq", "min", "max", "loose", "max" };

	return names[r];
}

/* The recommendation, with its rule in text: ">=7340032", "<=1440", "1". */
static int put_want(struct mp_writer *w, const struct tune_item *it)
{
	if (it->st == TS_UNKNOWN)	/* 0, printed as blanks */
		return mp_put_i64(w, "recommended", "%-11.0" PRIi64, it->want);
	switch (it->rule) {
	case TR_MIN:
		return mp_put_i64(w, "recommended", ">=%-9" PRIi64, it->want);
	case TR_MAX:
	case TR_MTU:
		return mp_put_i64(w, "recommended", "<=%-9" PRIi64, it->want);
	default:
		return mp_put_i64(w, "recommended", "%-11" PRIi64, it->want);
	}
}

static int print_items(struct mp_writer *w, const struct tune_item *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		const struct tune_item *it = &v[i];

		r |= mp_record_begin(w, "setting");
		r |= mp_put_str(w, "setting", "%-32s", it->key);
		r |= mp_put_str_notext(w, "kind", key_is_mtu(it->key) ? "mtu" : "sysctl");
		r |= mp_put_str_notext(w, "tunnel", it->ifname);
		r |= mp_put_i64(w, "current", "%8" PRIi64, it->cur);
		r |= put_want(w, it);
		r |= mp_put_str_notext(w, "rule", rule_name(it->rule));
		r |= mp_put_str(w, "status", "%-8s", status_name(it->st));
		r |= mp_put_str(w, "why", "%s", it->why);
		r |= mp_record_end(w);
	}
	return r;
}

static int print_summary(struct mp_writer *w, const char *action, const char *state,
			 const struct tune_item *v, size_t n)
{
	unsigned cnt[TS_UNKNOWN + 1] = { 0 };
	int r = 0;

	for (size_t i = 0; i < n; i++)
		cnt[v[i].st]++;
	r |= mp_doc_begin(w, NULL);
	r |= mp_put_str(w, "action", "tune --%s", action);
	r |= mp_put_u64(w, "checked", "%" PRIu64 " settings", n);
	r |= mp_put_u64(w, "to_change", "%" PRIu64 " to change", cnt[TS_CHANGE]);
	r |= mp_put_u64(w, "changed", "%" PRIu64 " changed", cnt[TS_CHANGED]);
	r |= mp_put_u64(w, "readonly", "%" PRIu64 " not settable here", cnt[TS_READONLY]);
	r |= mp_put_u64(w, "unknown", "%" PRIu64 " unknown", cnt[TS_UNKNOWN]);
	r |= mp_put_str_notext(w, "state_file", state);
	r |= mp_doc_end(w);
	return r;
}

/* ---------------------------------------------------------------- actions */

/* Undo writes [0, upto) of v (the changed ones), newest first. */
static void rollback(struct mp_nl *nl, struct tune_item *v, size_t upto)
{
	while (upto--) {
		int r;

		if (v[upto].st != TS_CHANGED)
			continue;
		r = value_write(nl, v[upto].key, v[upto].cur);
		if (r < 0)
			mp_warn(r, "undoing %s (back to %lld)", v[upto].key,
				(long long)v[upto].cur);
		else
			v[upto].st = TS_CHANGE;
	}
}

static int apply(const struct tune_opts *o, struct mp_nl *nl, struct tune_item *v, size_t n)
{
	struct tune_saved *s = NULL;
	size_t ns = 0, ns0, i, k;
	bool had;
	int r;

	r = state_load(o->state, &s, &ns);
	if (r < 0 && r != -ENOENT) {
		if (r != -EINVAL)
			mp_warn(r, "state file %s", o->state);
		return r;
	}
	had = r == 0;
	ns0 = ns;
	/* the original values stay: a second --apply adds only new keys */
	for (i = 0; i < n; i++) {
		struct tune_saved *nv;

		if (v[i].st != TS_CHANGE || saved_find(s, ns, v[i].key))
			continue;
		nv = realloc(s, (ns + 1) * sizeof(*s));
		if (!nv) {
			saved_done(&s);
			return -ENOMEM;
		}
		s = nv;
		memset(&s[ns], 0, sizeof(s[ns]));
		snprintf(s[ns].key, sizeof(s[ns].key), "%s", v[i].key);
		s[ns++].value = v[i].cur;
	}
	if (ns > ns0 && (r = state_save(o->state, s, ns)) < 0) {
		mp_warn(r, "saving the old values to %s (nothing changed)", o->state);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (v[i].st != TS_CHANGE)
			continue;
		r = value_write(nl, v[i].key, v[i].want);
		if (r < 0)
			break;
		v[i].st = TS_CHANGED;
	}
	if (r < 0) {
		mp_warn(r, "setting %s to %lld", v[i].key, (long long)v[i].want);
		rollback(nl, v, i);
		for (k = 0; k < i && v[k].st != TS_CHANGED; k++)
			;
		/* the state file as it was: this run changed nothing */
		if (ns > ns0) {
			int e = had ? state_save(o->state, s, ns0) :
				unlink(o->state) < 0 ? -errno : 0;

			if (e < 0)
				mp_warn(e, "putting back %s", o->state);
		}
		if (k == i)
			mp_warnx("tune --apply failed: the settings it had changed are back as "
				 "they were");
		else
			mp_warnx("tune --apply failed, and could not undo everything: see above");
		goto out;
	}
	/* what the kernel holds now (it may round) */
	for (i = 0; i < n; i++)
		if (v[i].st == TS_CHANGED && value_read(nl, v[i].key, &v[i].cur) < 0)
			v[i].cur = v[i].want;
	r = 0;
out:
	saved_done(&s);
	return r;
}

static int print_restored(struct mp_writer *w, const struct tune_saved *s, size_t n)
{
	static const char *const names[] = {
		[TS_CHANGED] = "restored", [TS_UNKNOWN] = "gone", [TS_READONLY] = "failed",
		[TS_OK] = "ok", [TS_CHANGE] = "failed",
	};
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		r |= mp_record_begin(w, "restored");
		r |= mp_put_str(w, "setting", "%-32s", s[i].key);
		r |= mp_put_str_notext(w, "kind", key_is_mtu(s[i].key) ? "mtu" : "sysctl");
		r |= mp_put_i64(w, "before", "%8" PRIi64, s[i].before);
		r |= mp_put_i64(w, "restored", "%8" PRIi64, s[i].value);
		r |= mp_put_str(w, "status", "%-8s", names[s[i].st]);
		r |= mp_record_end(w);
	}
	return r;
}

/* Write back every saved value; the state file goes when all are back (or
 * gone with their interface), else it keeps the ones that failed. */
static int restore(const struct tune_opts *o, struct mp_nl *nl, struct mp_writer **w)
{
	struct tune_saved *s = NULL, *left = NULL;
	size_t ns = 0, nleft = 0, i;
	int r, ret = MP_EXIT_OK;

	r = state_load(o->state, &s, &ns);
	if (r == -ENOENT) {
		mp_warnx("nothing to restore: no state file %s", o->state);
		return MP_EXIT_OK;
	}
	if (r < 0) {
		if (r != -EINVAL)
			mp_warn(r, "state file %s", o->state);
		return MP_EXIT_USAGE;
	}
	left = calloc(ns ? ns : 1, sizeof(*left));
	if (!left) {
		free(s);
		return MP_EXIT_USAGE;
	}
	for (i = 0; i < ns; i++) {
		r = value_read(nl, s[i].key, &s[i].before);
		if (r == 0 && s[i].before != s[i].value)
			r = value_write(nl, s[i].key, s[i].value);
		if (r == 0) {
			s[i].st = TS_CHANGED;
		} else if (r == -ENOENT || r == -ENODEV) {
			s[i].st = TS_UNKNOWN;	/* its interface is gone, and the value with it */
		} else {
			mp_warn(r, "restoring %s to %lld", s[i].key, (long long)s[i].value);
			s[i].st = TS_READONLY;
			left[nleft++] = s[i];
			ret = MP_EXIT_USAGE;
		}
	}
	r = nleft ? state_save(o->state, left, nleft) : unlink(o->state) < 0 ? -errno : 0;
	if (r < 0) {
		mp_warn(r, nleft ? "keeping the values not restored in %s" : "removing %s",
			o->state);
		ret = MP_EXIT_USAGE;
	}
	r = mp_writer_new(w, o->format, stdout, "meshctl", MC_SCHEMA);
	if (r == 0)
		r = print_restored(*w, s, ns);
	if (r < 0)
		ret = MP_EXIT_USAGE;
	free(left);
	free(s);
	return ret;
}

static int parse(int argc, char **argv, struct tune_opts *o)
{
	char err[128], why[8];
	int r;

	memset(o, 0, sizeof(*o));
	o->state = MC_TUNE_STATE;
	o->site = MC_NO_SITE;
	o->format = MP_FMT_TEXT;
	mc_pattern_parse(MC_PATTERN_DEFAULT, &o->pattern, why, sizeof(why));
	r = mp_cli_getopt(argc, argv, options, parse_opt, o, err, sizeof(err));
	if (r < 0 && err[0])
		mp_warnx("%s", err);
	if (r != 0)
		return r;
	if (optind != argc) {
		mp_warnx("unexpected operand '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->nactions > 1) {
		mp_warnx("--check, --apply and --restore are exclusive");
		return -EINVAL;
	}
	return 0;
}

int mc_tune_main(int argc, char **argv)
{
	struct tune_item *v = NULL;
	struct mp_writer *w = NULL;
	struct mp_nl *nl = NULL;
	struct tune_opts o;
	size_t n = 0, i;
	int r, ret = MP_EXIT_USAGE;

	r = parse(argc, argv, &o);
	if (r == MP_ARGS_HELP) {
		usage(stdout);
		return MP_EXIT_OK;
	}
	if (r < 0) {
		fputs("Try 'meshctl tune --help'.\n", stderr);
		return MP_EXIT_USAGE;
	}
	r = mp_nl_new(&nl);
	if (r < 0) {
		mp_warn(r, "netlink");
		return MP_EXIT_USAGE;
	}
	if (o.action == TUNE_RESTORE) {
		ret = restore(&o, nl, &w);
		goto out;
	}
	v = calloc(TUNE_ITEMS_MAX, sizeof(*v));
	if (!v || collect(&o, nl, v, &n) < 0)
		goto out;
	if (o.action == TUNE_APPLY && apply(&o, nl, v, n) < 0)
		goto out;
	r = mp_writer_new(&w, o.format, stdout, "meshctl", MC_SCHEMA);
	if (r == 0)
		r = print_items(w, v, n);
	if (r == 0)
		r = print_summary(w, o.action == TUNE_APPLY ? "apply" : "check", o.state, v, n);
	if (r < 0)
		goto out;
	ret = MP_EXIT_OK;
	for (i = 0; i < n; i++)
		if (v[i].st == TS_CHANGE)
			ret = MP_EXIT_FAIL;
out:
	if (mp_writer_close(w) < 0 && ret != MP_EXIT_USAGE)
		ret = MP_EXIT_USAGE;
	mp_nl_free(nl);
	free(v);
	return ret;
}
