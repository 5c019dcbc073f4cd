/* SPDX-License-Identifier: MIT */
/*
 * perfc: names of routing tables and protocols (built-in, then iproute2's
 * rt_tables / rt_protos files: a file entry overrides a built-in one),
 * route types, scopes and devices. Looked up once per route, so tables and
 * protocols below 256 are direct-indexed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <net/if.h>

#include "args.h"
#include "perfc.h"

struct pc_name {
	uint32_t id;
	char name[PC_NAME_LEN];
};

struct pc_dev {
	int ifindex;
	char name[IF_NAMESIZE];
};

struct pc_names {
	char *table_small[256];		/* ids < 256, NULL = unnamed */
	struct pc_name *table_big;	/* ids >= 256 */
	size_t n_table_big;
	char *proto[256];
	struct pc_dev *devs;		/* sorted by ifindex (a link dump is) */
	size_t n_devs;
	struct mp_nl *nl;		/* for refreshing devs, not owned */
	int last_miss;			/* ifindex a refresh did not find: no second dump */
};

static const struct {
	unsigned id;
	const char *name;
} builtin_protos[] = {
	{ RTPROT_UNSPEC, "unspec" }, { RTPROT_REDIRECT, "redirect" },
	{ RTPROT_KERNEL, "kernel" }, { RTPROT_BOOT, "boot" }, { RTPROT_STATIC, "static" },
	{ 8, "gated" }, { 9, "ra" }, { 10, "mrt" }, { 11, "zebra" }, { 12, "bird" },
	{ 13, "dnrouted" }, { 14, "xorp" }, { 15, "ntk" }, { 16, "dhcp" }, { 17, "mrouted" },
	{ 18, "keepalived" }, { 42, "babel" }, { 99, "openr" }, { 186, "bgp" }, { 187, "isis" },
	{ 188, "ospf" }, { 189, "rip" }, { 192, "eigrp" },
	{ MP_NL_PROTO_MESHCTL, "meshctl" },
};

/* snprintf(buf, len, "%s", s) without printf: it runs several times per route. */
static void copy_name(char *buf, size_t len, const char *s)
{
	size_t n = strnlen(s, len - 1);

	memcpy(buf, s, n);
	buf[n] = '\0';
}

static int set_name(char **slot, const char *name)
{
	char *s = strdup(name);

	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

static int table_set(struct pc_names *n, uint32_t id, const char *name)
{
	struct pc_name *v;

	if (id < 256)
		return set_name(&n->table_small[id], name);
	for (size_t i = 0; i < n->n_table_big; i++) {
		if (n->table_big[i].id == id) {
			snprintf(n->table_big[i].name, PC_NAME_LEN, "%s", name);
			return 0;
		}
	}
	v = realloc(n->table_big, (n->n_table_big + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	n->table_big = v;
	v[n->n_table_big].id = id;
	snprintf(v[n->n_table_big].name, PC_NAME_LEN, "%s", name);
	n->n_table_big++;
	return 0;
}

int pc_names_new(struct pc_names **ret)
{
	struct pc_names *n = calloc(1, sizeof(*n));
	int r = 0;

	if (!n)
		return -ENOMEM;
	r |= table_set(n, RT_TABLE_UNSPEC, "unspec");
	r |= table_set(n, RT_TABLE_DEFAULT, "default");
	r |= table_set(n, RT_TABLE_MAIN, "main");
	r |= table_set(n, RT_TABLE_LOCAL, "local");
	for (size_t i = 0; i < MP_ARRAY_SIZE(builtin_protos); i++)
		r |= set_name(&n->proto[builtin_protos[i].id], builtin_protos[i].name);
	if (r) {
		pc_names_free(n);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

void pc_names_free(struct pc_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < 256; i++) {
		free(n->table_small[i]);
		free(n->proto[i]);
	}
	free(n->table_big);
	free(n->devs);
	free(n);
}

/* iproute2's format: "ID NAME" per line, '#' comments; ID decimal or 0x
 * hex (tests/fuzz/fuzz_perfc_names.c feeds it anything). */
static void load_stream(struct pc_names *n, FILE *f, bool tables)
{
	char line[256];

	while (fgets(line, sizeof(line), f)) {
		char name[PC_NAME_LEN], *end;
		unsigned long id;
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		id = strtoul(p, &end, 0);
		if (end == p || (*end != ' ' && *end != '\t'))
			continue;
		if (sscanf(end, "%31s", name) != 1 || name[0] == '#')
			continue;
		if (tables && id <= UINT32_MAX)
			table_set(n, (uint32_t)id, name);
		else if (!tables && id < 256)
			set_name(&n->proto[id], name);
	}
}

static void load_file(struct pc_names *n, const char *path, bool tables)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	load_stream(n, f, tables);
	fclose(f);
}

void pc_names_load_dir(struct pc_names *n, const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/rt_tables", dir);
	load_file(n, path, true);
	snprintf(path, sizeof(path), "%s/rt_protos", dir);
	load_file(n, path, false);
}

void pc_names_table(const struct pc_names *n, uint32_t id, char *buf, size_t len)
{
	if (id < 256 && n->table_small[id]) {
		copy_name(buf, len, n->table_small[id]);
		return;
	}
	for (size_t i = 0; id >= 256 && i < n->n_table_big; i++) {
		if (n->table_big[i].id == id) {
			copy_name(buf, len, n->table_big[i].name);
			return;
		}
	}
	snprintf(buf, len, "%u", id);
}

void pc_names_proto(const struct pc_names *n, unsigned id, char *buf, size_t len)
{
	if (id < 256 && n->proto[id])
		copy_name(buf, len, n->proto[id]);
	else
		snprintf(buf, len, "%u", id);
}

int pc_names_table_id(const struct pc_names *n, const char *s, uint32_t *ret)
{
	uint64_t v;

	if (mp_parse_u64(s, 0, UINT32_MAX, &v) == 0) {
		*ret = (uint32_t)v;
		return 0;
	}
	for (uint32_t i = 0; i < 256; i++) {
		if (n->table_small[i] && !strcmp(n->table_small[i], s)) {
			*ret = i;
			return 0;
		}
	}
	for (size_t i = 0; i < n->n_table_big; i++) {
		if (!strcmp(n->table_big[i].name, s)) {
			*ret = n->table_big[i].id;
			return 0;
		}
	}
	return -EINVAL;
}

int pc_names_proto_id(const struct pc_names *n, const char *s, unsigned *ret)
{
	uint64_t v;

	if (mp_parse_u64(s, 0, 255, &v) == 0) {
		*ret = (unsigned)v;
		return 0;
	}
	for (unsigned i = 0; i < 256; i++) {
		if (n->proto[i] && !strcmp(n->proto[i], s)) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *pc_type_name(unsigned type, char *buf, size_t len)
{
	static const char *const names[] = {
		[RTN_UNSPEC] = "unspec", [RTN_UNICAST] = "unicast", [RTN_LOCAL] = "local",
		[RTN_BROADCAST] = "broadcast", [RTN_ANYCAST] = "anycast",
		[RTN_MULTICAST] = "multicast", [RTN_BLACKHOLE] = "blackhole",
		[RTN_UNREACHABLE] = "unreachable", [RTN_PROHIBIT] = "prohibit",
		[RTN_THROW] = "throw", [RTN_NAT] = "nat", [RTN_XRESOLVE] = "xresolve",
	};

	if (type < MP_ARRAY_SIZE(names) && names[type])
		copy_name(buf, len, names[type]);
	else
		snprintf(buf, len, "%u", type);
	return buf;
}

const char *pc_scope_name(unsigned scope, char *buf, size_t len)
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE:
		copy_name(buf, len, "global");
		break;
	case RT_SCOPE_SITE:
		copy_name(buf, len, "site");
		break;
	case RT_SCOPE_LINK:
		copy_name(buf, len, "link");
		break;
	case RT_SCOPE_HOST:
		copy_name(buf, len, "host");
		break;
	case RT_SCOPE_NOWHERE:
		copy_name(buf, len, "nowhere");
		break;
	default:
		snprintf(buf, len, "%u", scope);
	}
	return buf;
}

struct dev_collect {
	struct pc_dev *v;
	size_t n, cap;
};

static int dev_fn(const struct mp_nl_link *l, void *arg)
{
	struct dev_collect *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct pc_dev *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].ifindex = l->ifindex;
	snprintf(c->v[c->n].name, sizeof(c->v[c->n].name), "%s", l->name);
	c->n++;
	return 0;
}

int pc_names_links(struct pc_names *n, struct mp_nl *nl)
{
	struct dev_collect c = { 0 };
	int r = mp_nl_link_list(nl, dev_fn, &c);

	if (r < 0) {
		free(c.v);
		return r;
	}
	free(n->devs);
	n->devs = c.v;
	n->n_devs = c.n;
	n->nl = nl;
	return 0;
}

static const char *dev_find(const struct pc_names *n, int ifindex)
{
	size_t lo = 0, hi = n->n_devs;

	/* a link dump comes in ifindex order; fall back to a scan if not */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (n->devs[mid].ifindex == ifindex)
			return n->devs[mid].name;
		if (n->devs[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < n->n_devs; i++)
		if (n->devs[i].ifindex == ifindex)
			return n->devs[i].name;
	return NULL;
}

void pc_names_dev(struct pc_names *n, int ifindex, char *buf, size_t len)
{
	const char *s;

	if (ifindex <= 0) {
		buf[0] = '\0';
		return;
	}
	s = dev_find(n, ifindex);
	if (!s && n->nl && ifindex != n->last_miss && pc_names_links(n, n->nl) == 0) {
		s = dev_find(n, ifindex);	/* a link that appeared since */
		if (!s)
			n->last_miss = ifindex;
	}
	if (s)
		copy_name(buf, len, s);
	else
		snprintf(buf, len, "if%d", ifindex);
}

int pc_names_dev_index(const struct pc_names *n, const char *name)
{
	for (size_t i = 0; i < n->n_devs; i++)
		if (!strcmp(n->devs[i].name, name))
			return n->devs[i].ifindex;
	return -ENODEV;
}
