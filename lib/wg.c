/* SPDX-License-Identifier: MIT */
/*
 * wg: wg-quick config files, "wgX.Y_vZ" names, runtime state over the UAPI
 * socket. See wg.h for the contract.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "mp.h"
#include "wg.h"

enum {
	VALUE_SHOWN_MAX = 64,	/* characters of a bad value quoted in an error */
	UAPI_TIMEOUT_MS = 2000,	/* default wait for a UAPI answer */
};

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER,
};

/* Parser state of one config text. */
struct conf_ctx {
	struct mp_wg_device *dev;	/* being filled */
	enum section sec;		/* current section */
	unsigned line;			/* 1-based line number */
	unsigned sec_line;		/* line of the current [Peer] header */
	unsigned seen;			/* SEEN_* of the current section */
	char *err;			/* errbuf, may be NULL */
	size_t errlen;
};

/* Single-valued keys seen in the current section (duplicates are errors). */
enum {
	SEEN_PRIVATE_KEY = 1U << 0,
	SEEN_LISTEN_PORT = 1U << 1,
	SEEN_FWMARK = 1U << 2,
	SEEN_MTU = 1U << 3,
	SEEN_TABLE = 1U << 4,
	SEEN_SAVE_CONFIG = 1U << 5,
	SEEN_PUBLIC_KEY = 1U << 6,
	SEEN_PRESHARED_KEY = 1U << 7,
	SEEN_ENDPOINT = 1U << 8,
	SEEN_KEEPALIVE = 1U << 9,
};

/* ---------------------------------------------------------------- helpers */

static void wipe_device_keys(struct mp_wg_device *d)
{
	size_t i;

	sodium_memzero(d->private_key, sizeof(d->private_key));
	for (i = 0; i < d->n_peers; i++)
		sodium_memzero(d->peers[i].preshared_key, sizeof(d->peers[i].preshared_key));
}

void mp_wg_device_free(struct mp_wg_device *d)
{
	size_t i;

	if (!d)
		return;
	wipe_device_keys(d);
	for (i = 0; i < d->n_peers; i++)
		free(d->peers[i].allowed_ips);
	free(d->peers);
	free(d->addresses);
	free(d);
}

/* Copy s (n bytes) into a printable, bounded form for error messages. */
static void shown(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 4 < outlen && i < VALUE_SHOWN_MAX; i++)
		out[k++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (i < n && k + 4 <= outlen) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static int conf_err(struct conf_ctx *c, const char *what, const char *val, size_t n)
{
	char v[VALUE_SHOWN_MAX + 8];

	if (c->err && c->errlen) {
		if (val) {
			shown(val, n, v, sizeof(v));
			snprintf(c->err, c->errlen, "line %u: invalid %s '%s'", c->line, what, v);
		} else {
			snprintf(c->err, c->errlen, "line %u: %s", c->line, what);
		}
	}
	return -EINVAL;
}

/* A 44-character base64 key ending in '=' into 32 bytes. */
static int key_from_b64(const char *s, size_t n, uint8_t out[MP_WG_KEY_LEN])
{
	uint8_t tmp[MP_WG_KEY_LEN + 2];
	size_t got = 0;
	const char *end = NULL;

	if (n != MP_WG_KEY_B64_LEN || s[n - 1] != '=' || s[n - 2] == '=')
		return -EINVAL;
	if (sodium_base642bin(tmp, sizeof(tmp), s, n, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + n ||
	    got != MP_WG_KEY_LEN)
		return -EINVAL;
	memcpy(out, tmp, MP_WG_KEY_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	return 0;
}

/* A 64-character hex key (UAPI) into 32 bytes. */
static int key_from_hex(const char *s, size_t n, uint8_t out[MP_WG_KEY_LEN])
{
	size_t i;

	if (n != 2 * MP_WG_KEY_LEN)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
	if (sodium_hex2bin(out, MP_WG_KEY_LEN, s, n, NULL, NULL, NULL) != 0)
		return -EINVAL;
	return 0;
}

int mp_wg_key_to_base64(const uint8_t key[MP_WG_KEY_LEN], char *buf, size_t len)
{
	if (len < MP_WG_KEY_B64_LEN + 1)
		return -ENOSPC;
	sodium_bin2base64(buf, len, key, MP_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
	return MP_WG_KEY_B64_LEN;
}

static bool key_is_zero(const uint8_t k[MP_WG_KEY_LEN])
{
	return sodium_is_zero(k, MP_WG_KEY_LEN);
}

static void derive_public(struct mp_wg_device *d)
{
	if (sodium_init() < 0 || crypto_scalarmult_base(d->public_key, d->private_key) != 0)
		memset(d->public_key, 0, sizeof(d->public_key));
}

/* Copy s[0..n) into a NUL-terminated buf; false if it does not fit. */
static bool copy_str(char *buf, size_t len, const char *s, size_t n)
{
	if (n >= len)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

/* Decimal in [min, max] from s[0..n). */
static int parse_uint(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *ret)
{
	char tmp[24];

	if (!copy_str(tmp, sizeof(tmp), s, n))
		return -ERANGE;
	return mp_parse_u64(tmp, min, max, ret);
}

/* "addr" or "addr/plen" from s[0..n). */
static int parse_prefix(const char *s, size_t n, struct mp_wg_prefix *ret)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	struct mp_wg_prefix p = { 0 };
	const char *slash;
	uint64_t plen;
	unsigned max;

	if (!copy_str(tmp, sizeof(tmp), s, n) || n == 0)
		return -EINVAL;
	slash = memchr(tmp, '/', n);
	if (slash)
		tmp[slash - tmp] = '\0';
	if (inet_pton(AF_INET, tmp, p.addr) == 1) {
		p.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, p.addr) == 1) {
		p.family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	p.plen = max;
	if (slash) {
		if (mp_parse_u64(slash + 1, 0, max, &plen) < 0)
			return -EINVAL;
		p.plen = (unsigned)plen;
	}
	*ret = p;
	return 0;
}

/* Append one prefix to *arr (*n entries). */
static int prefix_push(struct mp_wg_prefix **arr, size_t *n, const struct mp_wg_prefix *p)
{
	struct mp_wg_prefix *a;

	if (*n >= (1U << 20))
		return -E2BIG;
	a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	a[(*n)++] = *p;
	*arr = a;
	return 0;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Trim spaces around s[0..*n); returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && is_space(*s)) {
		s++;
		(*n)--;
	}
	while (*n && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

/*
 * Split a comma list and call fn per element (trimmed, non-empty).
 * Returns 0, or the first error.
 */
static int for_each_item(const char *v, size_t n, int (*fn)(const char *, size_t, void *),
			 void *arg)
{
	size_t start = 0, i, k;
	const char *e;
	int r;

	for (i = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		k = i - start;
		e = trim(v + start, &k);
		if (k == 0)
			return -EINVAL;
		r = fn(e, k, arg);
		if (r < 0)
			return r;
		start = i + 1;
	}
	return 0;
}

/* Endpoint "host:port", "v4:port" or "[v6]:port" (v6 may carry %scope). */
static int parse_endpoint(const char *s, size_t n, struct mp_wg_peer *peer, bool resolve_names)
{
	char host[MP_WG_HOST_MAX];
	const char *colon, *hs;
	size_t hn;
	uint64_t port;
	struct sockaddr_storage ss;
	socklen_t sl;
	int r;

	if (n == 0)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb || rb + 1 >= s + n || rb[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hn = (size_t)(rb - hs);
		colon = rb + 1;
		if (hn == 0 || !memchr(hs, ':', hn))
			return -EINVAL;
	} else {
		colon = NULL;
		for (hs = s; hs < s + n; hs++)
			if (*hs == ':')
				colon = hs;
		hs = s;
		if (!colon)
			return -EINVAL;
		hn = (size_t)(colon - s);
		if (hn == 0 || memchr(s, ':', hn))
			return -EINVAL;
	}
	if (parse_uint(colon + 1, (size_t)(s + n - colon - 1), 1, 65535, &port) < 0)
		return -EINVAL;
	if (!copy_str(host, sizeof(host), hs, hn))
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	/* literals are parsed here; a name is kept as written, unresolved:
	 * parsing a file must not block on DNS */
	peer->endpoint_host[0] = '\0';
	peer->endpoint_len = 0;
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	if (s[0] == '[' || strspn(host, "0123456789.") == hn) {
		r = mp_parse_addr(host, s[0] == '[' ? AF_INET6 : AF_INET, (uint16_t)port, &ss, &sl);
		if (r < 0)
			return -EINVAL;
		peer->endpoint = ss;
		peer->endpoint_len = sl;
	} else {
		size_t i;

		if (!resolve_names)
			return -EINVAL;
		for (i = 0; i < hn; i++)
			if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.')
				return -EINVAL;
		memcpy(peer->endpoint_host, host, hn + 1);
	}
	peer->endpoint_port = (uint16_t)port;
	return 0;
}

/* ---------------------------------------------------------------- config */

static int add_address(const char *s, size_t n, void *arg)
{
	struct mp_wg_device *d = arg;
	struct mp_wg_prefix p;
	int r = parse_prefix(s, n, &p);

	return r < 0 ? r : prefix_push(&d->addresses, &d->n_addresses, &p);
}

static int add_allowed(const char *s, size_t n, void *arg)
{
	struct mp_wg_peer *peer = arg;
	struct mp_wg_prefix p;
	int r = parse_prefix(s, n, &p);

	return r < 0 ? r : prefix_push(&peer->allowed_ips, &peer->n_allowed_ips, &p);
}

static int check_dns(const char *s, size_t n, void *arg)
{
	struct mp_wg_device *d = arg;
	size_t i;

	/* wg-quick takes addresses and search domains: names of safe characters */
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-:_%", s[i]))
			return -EINVAL;
	d->n_dns++;
	return 0;
}

static bool key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

/* Mark a single-valued key seen; false if it was already. */
static bool first_time(struct conf_ctx *c, unsigned bit)
{
	if (c->seen & bit)
		return false;
	c->seen |= bit;
	return true;
}

static int interface_kv(struct conf_ctx *c, const char *k, size_t kn, const char *v, size_t vn)
{
	struct mp_wg_device *d = c->dev;
	uint64_t u;
	char tmp[32];

	if (key_is(k, kn, "PrivateKey")) {
		if (!first_time(c, SEEN_PRIVATE_KEY))
			return conf_err(c, "duplicate PrivateKey", NULL, 0);
		if (key_from_b64(v, vn, d->private_key) < 0)
			return conf_err(c, "PrivateKey", v, vn);
		d->has_private_key = true;
		derive_public(d);
	} else if (key_is(k, kn, "ListenPort")) {
		if (!first_time(c, SEEN_LISTEN_PORT))
			return conf_err(c, "duplicate ListenPort", NULL, 0);
		if (parse_uint(v, vn, 0, 65535, &u) < 0)
			return conf_err(c, "ListenPort", v, vn);
		d->listen_port = (uint16_t)u;
	} else if (key_is(k, kn, "FwMark")) {
		if (!first_time(c, SEEN_FWMARK))
			return conf_err(c, "duplicate FwMark", NULL, 0);
		if (key_is(v, vn, "off")) {
			d->fwmark = 0;
		} else if (vn > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
			char *end;
			unsigned long x;

			if (!copy_str(tmp, sizeof(tmp), v, vn) || !isxdigit((unsigned char)tmp[2]))
				return conf_err(c, "FwMark", v, vn);
			errno = 0;
			x = strtoul(tmp + 2, &end, 16);
			if (errno || *end || x > UINT32_MAX)
				return conf_err(c, "FwMark", v, vn);
			d->fwmark = (uint32_t)x;
		} else if (parse_uint(v, vn, 0, UINT32_MAX, &u) == 0) {
			d->fwmark = (uint32_t)u;
		} else {
			return conf_err(c, "FwMark", v, vn);
		}
	} else if (key_is(k, kn, "Address")) {
		if (for_each_item(v, vn, add_address, d) < 0)
			return conf_err(c, "Address", v, vn);
	} else if (key_is(k, kn, "DNS")) {
		if (for_each_item(v, vn, check_dns, d) < 0)
			return conf_err(c, "DNS", v, vn);
	} else if (key_is(k, kn, "MTU")) {
		if (!first_time(c, SEEN_MTU))
			return conf_err(c, "duplicate MTU", NULL, 0);
		if (parse_uint(v, vn, 68, 65535, &u) < 0)
			return conf_err(c, "MTU", v, vn);
		d->mtu_bytes = (uint32_t)u;
	} else if (key_is(k, kn, "Table")) {
		if (!first_time(c, SEEN_TABLE))
			return conf_err(c, "duplicate Table", NULL, 0);
		if (!key_is(v, vn, "off") && !key_is(v, vn, "auto") &&
		    parse_uint(v, vn, 0, UINT32_MAX, &u) < 0)
			return conf_err(c, "Table", v, vn);
	} else if (key_is(k, kn, "SaveConfig")) {
		if (!first_time(c, SEEN_SAVE_CONFIG))
			return conf_err(c, "duplicate SaveConfig", NULL, 0);
		if (key_is(v, vn, "true"))
			d->save_config = true;
		else if (!key_is(v, vn, "false"))
			return conf_err(c, "SaveConfig", v, vn);
	} else if (key_is(k, kn, "PreUp") || key_is(k, kn, "PostUp") ||
		   key_is(k, kn, "PreDown") || key_is(k, kn, "PostDown")) {
		/* shell commands for wg-quick: accepted, never run, not kept */
	} else {
		return conf_err(c, "key in [Interface]", k, kn);
	}
	return 0;
}

static int peer_kv(struct conf_ctx *c, const char *k, size_t kn, const char *v, size_t vn)
{
	struct mp_wg_peer *p = &c->dev->peers[c->dev->n_peers - 1];
	uint64_t u;

	if (key_is(k, kn, "PublicKey")) {
		if (!first_time(c, SEEN_PUBLIC_KEY))
			return conf_err(c, "duplicate PublicKey", NULL, 0);
		if (key_from_b64(v, vn, p->public_key) < 0)
			return conf_err(c, "PublicKey", v, vn);
	} else if (key_is(k, kn, "PresharedKey")) {
		if (!first_time(c, SEEN_PRESHARED_KEY))
			return conf_err(c, "duplicate PresharedKey", NULL, 0);
		if (key_from_b64(v, vn, p->preshared_key) < 0)
			return conf_err(c, "PresharedKey", v, vn);
		p->has_preshared_key = !key_is_zero(p->preshared_key);
	} else if (key_is(k, kn, "Endpoint")) {
		if (!first_time(c, SEEN_ENDPOINT))
			return conf_err(c, "duplicate Endpoint", NULL, 0);
		if (parse_endpoint(v, vn, p, true) < 0)
			return conf_err(c, "Endpoint", v, vn);
	} else if (key_is(k, kn, "AllowedIPs")) {
		if (for_each_item(v, vn, add_allowed, p) < 0)
			return conf_err(c, "AllowedIPs", v, vn);
	} else if (key_is(k, kn, "PersistentKeepalive")) {
		if (!first_time(c, SEEN_KEEPALIVE))
			return conf_err(c, "duplicate PersistentKeepalive", NULL, 0);
		if (key_is(v, vn, "off"))
			p->keepalive_s = 0;
		else if (parse_uint(v, vn, 0, 65535, &u) == 0)
			p->keepalive_s = (unsigned)u;
		else
			return conf_err(c, "PersistentKeepalive", v, vn);
	} else {
		return conf_err(c, "key in [Peer]", k, kn);
	}
	return 0;
}

/* The section just ended: check what it must hold. */
static int section_end(struct conf_ctx *c)
{
	if (c->sec == SEC_PEER && !(c->seen & SEEN_PUBLIC_KEY)) {
		c->line = c->sec_line;
		return conf_err(c, "[Peer] without PublicKey", NULL, 0);
	}
	return 0;
}

static int section_begin(struct conf_ctx *c, const char *name, size_t n)
{
	struct mp_wg_device *d = c->dev;
	struct mp_wg_peer *peers;
	int r = section_end(c);

	if (r < 0)
		return r;
	c->seen = 0;
	c->sec_line = c->line;
	if (key_is(name, n, "Interface")) {
		if (d->has_private_key || d->n_addresses || c->sec == SEC_INTERFACE)
			return conf_err(c, "second [Interface]", NULL, 0);
		c->sec = SEC_INTERFACE;
		return 0;
	}
	if (!key_is(name, n, "Peer"))
		return conf_err(c, "section", name, n);
	if (d->n_peers >= (1U << 16))
		return conf_err(c, "too many peers", NULL, 0);
	peers = realloc(d->peers, (d->n_peers + 1) * sizeof(*peers));
	if (!peers)
		return -ENOMEM;
	memset(&peers[d->n_peers], 0, sizeof(*peers));
	d->peers = peers;
	d->n_peers++;
	c->sec = SEC_PEER;
	return 0;
}

static int conf_line(struct conf_ctx *c, const char *s, size_t n)
{
	const char *hash = memchr(s, '#', n), *eq, *k, *v;
	size_t kn, vn;

	if (hash)
		n = (size_t)(hash - s);
	s = trim(s, &n);
	if (n == 0)
		return 0;
	if (s[0] == '[') {
		if (s[n - 1] != ']')
			return conf_err(c, "section header", s, n);
		kn = n - 2;
		k = trim(s + 1, &kn);
		return section_begin(c, k, kn);
	}
	eq = memchr(s, '=', n);
	if (!eq)
		return conf_err(c, "line (no '=')", s, n);
	kn = (size_t)(eq - s);
	k = trim(s, &kn);
	vn = (size_t)(s + n - eq - 1);
	v = trim(eq + 1, &vn);
	if (kn == 0)
		return conf_err(c, "empty key", NULL, 0);
	if (vn == 0)
		return conf_err(c, "value (empty) of key", k, kn);
	switch (c->sec) {
	case SEC_INTERFACE:
		return interface_kv(c, k, kn, v, vn);
	case SEC_PEER:
		return peer_kv(c, k, kn, v, vn);
	default:
		return conf_err(c, "key outside a section", k, kn);
	}
}

int mp_wg_conf_parse(const char *text, size_t len, struct mp_wg_device **ret, char *errbuf,
		     size_t errlen)
{
	struct conf_ctx c = { .err = errbuf, .errlen = errlen };
	size_t start = 0, i;
	int r = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!text && len)
		return -EINVAL;
	if (len > MP_WG_CONF_MAX)
		return -EFBIG;
	c.dev = calloc(1, sizeof(*c.dev));
	if (!c.dev)
		return -ENOMEM;
	for (i = 0; i <= len && r == 0; i++) {
		if (i < len && text[i] != '\n') {
			if (text[i] == '\0') {
				c.line++;
				r = conf_err(&c, "NUL byte in line", NULL, 0);
			}
			continue;
		}
		c.line++;
		r = conf_line(&c, text + start, i - start);
		start = i + 1;
	}
	if (r == 0)
		r = section_end(&c);
	if (r == 0 && !c.dev->has_private_key && c.sec == SEC_NONE && c.dev->n_peers == 0) {
		c.line = 1;
		r = conf_err(&c, "no [Interface] section", NULL, 0);
	}
	if (r < 0) {
		mp_wg_device_free(c.dev);
		return r;
	}
	*ret = c.dev;
	return 0;
}

int mp_wg_conf_load(const char *path, struct mp_wg_device **ret, char *errbuf, size_t errlen)
{
	struct mp_wg_device *d = NULL;
	char *buf = NULL;
	const char *base;
	size_t n = 0, bl;
	ssize_t k;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(MP_WG_CONF_MAX + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		k = read(fd, buf + n, MP_WG_CONF_MAX + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > MP_WG_CONF_MAX) {
			r = -EFBIG;
			goto out;
		}
	}
	r = mp_wg_conf_parse(buf, n, &d, errbuf, errlen);
	if (r < 0)
		goto out;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	bl = strlen(base);
	/* interface names of any pattern are kept; only the length is checked */
	if (bl > 5 && bl - 5 < IF_NAMESIZE && strcmp(base + bl - 5, ".conf") == 0) {
		memcpy(d->ifname, base, bl - 5);
		d->ifname[bl - 5] = '\0';
	}
	*ret = d;
	d = NULL;
out:
	if (buf) {
		sodium_memzero(buf, MP_WG_CONF_MAX + 1);
		free(buf);
	}
	close(fd);
	mp_wg_device_free(d);
	return r;
}

/* ---------------------------------------------------------------- names */

/* A site number: decimal, no leading zero; *pp advanced past it. */
static int parse_site(const char **pp, unsigned *ret)
{
	const char *p = *pp;
	unsigned v = 0;
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9') {
		if (n >= 3)
			return -ERANGE;
		v = v * 10 + (unsigned)(p[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && p[0] == '0'))
		return -EINVAL;
	*pp = p + n;
	*ret = v;
	return v > MP_WG_SITE_MAX ? -ERANGE : 0;
}

int mp_wg_ifname_parse(const char *name, struct mp_wg_ifname *ret)
{
	struct mp_wg_ifname n;
	const char *p;
	int r;

	if (!name || !ret || strnlen(name, IF_NAMESIZE) >= IF_NAMESIZE ||
	    strncmp(name, "wg", 2) != 0)
		return -EINVAL;
	p = name + 2;
	r = parse_site(&p, &n.local_site);
	if (r < 0)
		return r;
	if (*p++ != '.')
		return -EINVAL;
	r = parse_site(&p, &n.remote_site);
	if (r < 0)
		return r;
	if (p[0] != '_' || p[1] != 'v' || (p[2] != '4' && p[2] != '6') || p[3] != '\0')
		return -EINVAL;
	n.family = p[2] == '4' ? AF_INET : AF_INET6;
	*ret = n;
	return 0;
}

int mp_wg_ifname_format(const struct mp_wg_ifname *n, char *buf, size_t len)
{
	int k;

	if (!n || n->local_site > MP_WG_SITE_MAX || n->remote_site > MP_WG_SITE_MAX ||
	    (n->family != AF_INET && n->family != AF_INET6))
		return -EINVAL;
	k = snprintf(buf, len, "wg%u.%u_v%c", n->local_site, n->remote_site,
		     n->family == AF_INET ? '4' : '6');
	if (k < 0 || (size_t)k >= len)
		return -ENOSPC;
	return k;
}

/* ---------------------------------------------------------------- UAPI */

static int uapi_peer_kv(struct mp_wg_peer *p, const char *k, size_t kn, const char *v, size_t vn,
			uint64_t *hs_sec, uint64_t *hs_nsec)
{
	uint64_t u;

	if (key_is(k, kn, "preshared_key")) {
		if (key_from_hex(v, vn, p->preshared_key) < 0)
			return -EINVAL;
		p->has_preshared_key = !key_is_zero(p->preshared_key);
	} else if (key_is(k, kn, "endpoint")) {
		if (parse_endpoint(v, vn, p, false) < 0)
			return -EINVAL;
	} else if (key_is(k, kn, "last_handshake_time_sec")) {
		if (parse_uint(v, vn, 0, UINT64_MAX / MP_NSEC_PER_SEC - 1, hs_sec) < 0)
			return -EINVAL;
	} else if (key_is(k, kn, "last_handshake_time_nsec")) {
		if (parse_uint(v, vn, 0, MP_NSEC_PER_SEC - 1, hs_nsec) < 0)
			return -EINVAL;
	} else if (key_is(k, kn, "rx_bytes")) {
		if (parse_uint(v, vn, 0, UINT64_MAX, &p->rx_bytes) < 0)
			return -EINVAL;
	} else if (key_is(k, kn, "tx_bytes")) {
		if (parse_uint(v, vn, 0, UINT64_MAX, &p->tx_bytes) < 0)
			return -EINVAL;
	} else if (key_is(k, kn, "persistent_keepalive_interval")) {
		if (parse_uint(v, vn, 0, 65535, &u) < 0)
			return -EINVAL;
		p->keepalive_s = (unsigned)u;
	} else if (key_is(k, kn, "protocol_version")) {
		if (parse_uint(v, vn, 0, UINT32_MAX, &u) < 0)
			return -EINVAL;
		p->protocol_version = (unsigned)u;
	} else if (key_is(k, kn, "allowed_ip")) {
		return add_allowed(v, vn, p);
	}
	return 0;
}

static int uapi_dev_kv(struct mp_wg_device *d, const char *k, size_t kn, const char *v, size_t vn)
{
	uint64_t u;

	if (key_is(k, kn, "private_key")) {
		if (key_from_hex(v, vn, d->private_key) < 0)
			return -EINVAL;
		d->has_private_key = !key_is_zero(d->private_key);
		if (d->has_private_key)
			derive_public(d);
	} else if (key_is(k, kn, "listen_port")) {
		if (parse_uint(v, vn, 0, 65535, &u) < 0)
			return -EINVAL;
		d->listen_port = (uint16_t)u;
	} else if (key_is(k, kn, "fwmark")) {
		if (parse_uint(v, vn, 0, UINT32_MAX, &u) < 0)
			return -EINVAL;
		d->fwmark = (uint32_t)u;
	}
	return 0;
}

/* Close the current peer: its handshake time from the two fields. */
static void uapi_peer_done(struct mp_wg_device *d, uint64_t sec, uint64_t nsec)
{
	if (d->n_peers)
		d->peers[d->n_peers - 1].last_handshake_ns = sec * MP_NSEC_PER_SEC + nsec;
}

int mp_wg_uapi_parse(const char *text, size_t len, struct mp_wg_device **ret)
{
	struct mp_wg_device *d;
	uint64_t hs_sec = 0, hs_nsec = 0, err = 0;
	size_t start = 0, i, kn, vn;
	bool have_errno = false;
	const char *s, *eq;
	int r = 0;

	if (!text && len)
		return -EINVAL;
	if (len > MP_WG_UAPI_MAX)
		return -EFBIG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < len && r == 0; i++) {
		if (text[i] != '\n')
			continue;
		s = text + start;
		kn = i - start;
		start = i + 1;
		if (kn == 0)
			break;	/* the empty line that ends an answer */
		eq = memchr(s, '=', kn);
		if (!eq || eq == s || memchr(s, '\0', kn)) {
			r = -EINVAL;
			break;
		}
		vn = (size_t)(s + kn - eq - 1);
		kn = (size_t)(eq - s);
		if (key_is(s, kn, "errno")) {
			if (parse_uint(eq + 1, vn, 0, 4095, &err) < 0)
				r = -EINVAL;
			have_errno = true;
		} else if (key_is(s, kn, "public_key")) {
			struct mp_wg_peer *peers;

			uapi_peer_done(d, hs_sec, hs_nsec);
			hs_sec = hs_nsec = 0;
			if (d->n_peers >= (1U << 20)) {
				r = -E2BIG;
				break;
			}
			peers = realloc(d->peers, (d->n_peers + 1) * sizeof(*peers));
			if (!peers) {
				r = -ENOMEM;
				break;
			}
			d->peers = peers;
			memset(&peers[d->n_peers], 0, sizeof(*peers));
			d->n_peers++;
			r = key_from_hex(eq + 1, vn, peers[d->n_peers - 1].public_key);
		} else if (d->n_peers) {
			r = uapi_peer_kv(&d->peers[d->n_peers - 1], s, kn, eq + 1, vn, &hs_sec,
					 &hs_nsec);
		} else {
			r = uapi_dev_kv(d, s, kn, eq + 1, vn);
		}
	}
	if (r == 0 && have_errno && err != 0)
		r = -(int)err;
	else if (r == 0 && !have_errno)
		r = -EINVAL;	/* a truncated answer: every answer ends with errno= */
	if (r < 0) {
		mp_wg_device_free(d);
		return r;
	}
	uapi_peer_done(d, hs_sec, hs_nsec);
	*ret = d;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Wait for fd to be ready for events before deadline_ns. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now = mono_ns();
	int k;

	if (now >= deadline_ns)
		return -ETIMEDOUT;
	k = poll(&pfd, 1, (int)((deadline_ns - now + 999999) / 1000000));
	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	return k == 0 ? -ETIMEDOUT : 0;
}

int mp_wg_uapi_get(const char *ifname, const char *dir, uint64_t timeout_ns,
		   struct mp_wg_device **ret)
{
	static const char req[] = "get=1\n\n";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct mp_wg_device *d = NULL;
	uint64_t deadline;
	char *buf = NULL;
	size_t n = 0, cap = 0, off = 0;
	ssize_t k;
	int fd = -1, r, len;

	if (!ifname || !ret || !*ifname || strnlen(ifname, IF_NAMESIZE) >= IF_NAMESIZE ||
	    strchr(ifname, '/') || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return -EINVAL;
	len = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", dir ? dir : MP_WG_UAPI_DIR,
		       ifname);
	if (len < 0 || (size_t)len >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	deadline = mono_ns() + (timeout_ns ? timeout_ns : UAPI_TIMEOUT_MS * MP_NSEC_PER_MSEC);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	while (off < sizeof(req) - 1) {
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			goto out;
		k = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		off += (size_t)k;
	}
	/* the answer ends with an empty line ("errno=0\n\n") */
	while (n < 2 || buf[n - 1] != '\n' || buf[n - 2] != '\n') {
		if (n == cap) {
			char *nb;

			if (cap >= MP_WG_UAPI_MAX) {
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			goto out;
		k = recv(fd, buf + n, cap - n, 0);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0) {
			r = -EINVAL;	/* closed before the end of the answer */
			goto out;
		}
		n += (size_t)k;
	}
	r = mp_wg_uapi_parse(buf, n, &d);
	if (r < 0)
		goto out;
	memcpy(d->ifname, ifname, strlen(ifname) + 1);
	*ret = d;
out:
	if (buf) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return r;
}

int mp_wg_mtu_recommend(unsigned pmtu_bytes, int outer_family, bool carries_ipv6,
			unsigned *ret_mtu, bool *ret_raised)
{
	unsigned oh, m;
	bool raised = false;

	if (outer_family != AF_INET && outer_family != AF_INET6)
		return -EAFNOSUPPORT;
	oh = outer_family == AF_INET6 ? MP_WG_OVERHEAD6 : MP_WG_OVERHEAD4;
	m = pmtu_bytes > oh ? pmtu_bytes - oh : 0;
	if (carries_ipv6 && m < MP_WG_IPV6_MIN_MTU) {
		m = MP_WG_IPV6_MIN_MTU;
		raised = true;
	}
	*ret_mtu = m;
	*ret_raised = raised;
	return 0;
}
