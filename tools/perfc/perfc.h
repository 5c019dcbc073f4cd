/* SPDX-License-Identifier: MIT */
/*
 * perfc: route tables of this host (netlink, lib/nl) and of every mesh node
 * (perfc/1 route documents). Shared between the tool's files:
 *   main.c   options, exit codes
 *   names.c  table / protocol / type / scope / flag / device names
 *   route.c  kernel route -> struct pc_route, filters, listing and --watch
 *   print.c  rendering of routes, changes and paths through lib/out
 *   doc.c    the perfc/1 document parser (untrusted input: fuzzed)
 *   store.c  the lean in-memory form of a document's routes
 *   diff.c   --diff against a snapshot
 *   mesh.c   --nodes: paths, loops, black holes, asymmetry
 *   http.c   documents from files and http(s):// URLs (lib/fetch, libcurl)
 */
#ifndef PERFC_H
#define PERFC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nl.h"
#include "out.h"

#define PC_SCHEMA "perfc/2"
/* perfc/2 renamed a key of the --nodes path records only: route documents
 * are the same in both, and either is read (meshctl serves perfc/1) */
#define PC_SCHEMA_1 "perfc/1"

enum {
	PC_ADDR_LEN = 48,	/* an IPv6 address text and NUL */
	PC_PREFIX_LEN = 52,	/* address/len */
	PC_NAME_LEN = 32,	/* table, protocol, device, type, scope names */
	PC_NODE_LEN = 64,	/* node and site names */
	PC_FLAGS_MAX = 8,	/* flag names kept per route or nexthop */
	PC_NH_MAX = 256,	/* nexthops of a route in a document */
	PC_HTTP_MAX_BYTES_DEFAULT = 64 << 20,
	PC_MAX_TOTAL_DEFAULT = 256 << 20,	/* all --nodes documents together */
};

enum pc_mode {
	PC_LIST,	/* print the routes (default) */
	PC_WATCH,	/* print route changes as they happen */
	PC_DIFF,	/* compare with a snapshot */
	PC_NODES,	/* mesh overview from route documents */
};

struct pc_opts {
	enum mp_format format;	/* output format */
	enum pc_mode mode;
	int family;		/* AF_INET, AF_INET6, or 0 for both */
	int64_t table;		/* -1 = every table */
	int protocol;		/* -1 = every protocol */
	const char *dev;	/* --dev filter, NULL = any */
	const char *prefix;	/* prefix argument as given, NULL = none */
	struct mp_nl_addr prefix_addr;	/* ... parsed */
	unsigned prefix_len;
	const char *diff_file;	/* --diff SNAPSHOT.json */
	char **nodes;		/* --nodes operands (files, http:// URLs) */
	int n_nodes;
	const char *node_name;	/* --node: this host's name in documents */
	const char *site;	/* --site: this host's site id */
	uint64_t duration_ns;	/* --watch run length, 0 = until SIGINT */
	uint64_t timeout_ns;	/* per URL fetch, connect to last byte */
	uint64_t connect_timeout_ns;	/* per URL connect and TLS handshake; 0 = timeout_ns */
	const char *cacert;	/* --cacert: PEM CAs trusted for https://; NULL = system's */
	uint64_t max_bytes;	/* cap on a fetched or read document */
	uint64_t max_total;	/* cap on all --nodes documents together */
	const char *textfile;	/* --textfile DIR */
	const char *job;	/* --job NAME */
	const char *table_arg;	/* --table as given (name or number) */
	const char *proto_arg;	/* --proto as given */
	bool quiet;		/* -q: the summary only, no route or change records */
};

/* What a run found, for the exit status. */
struct pc_result {
	long routes;		/* routes printed (list) or changes (watch, diff) */
	bool failed;		/* exit 1: nothing matched the prefix, a difference, a loop... */
};

#define PC_OPTS_INIT { .format = MP_FMT_TEXT, .mode = PC_LIST, .table = -1, .protocol = -1, \
		       .timeout_ns = 5000000000ULL, .max_bytes = PC_HTTP_MAX_BYTES_DEFAULT, \
		       .max_total = PC_MAX_TOTAL_DEFAULT }

struct pc_nh {
	char gateway[PC_ADDR_LEN];	/* "" = none (directly connected) */
	char dev[PC_NAME_LEN];		/* "" = none */
	unsigned weight;		/* 1..256 */
	unsigned n_flags;
	char flags[PC_FLAGS_MAX][PC_NAME_LEN];	/* "onlink", "dead", ... */
};

/* A route as perfc/1 spells it: the same for the kernel's and a document's. */
struct pc_route {
	int family;			/* AF_INET or AF_INET6 */
	char type[PC_NAME_LEN];		/* "unicast", "blackhole", ... */
	char dst[PC_PREFIX_LEN];	/* always "addr/len" */
	struct mp_nl_addr dst_addr;	/* dst parsed */
	unsigned dst_len;
	char table[PC_NAME_LEN];	/* "main", "local", "100" */
	char protocol[PC_NAME_LEN];	/* "kernel", "bird", "meshctl", "77" */
	char scope[PC_NAME_LEN];	/* "global", "link", "host", ... */
	uint64_t metric;		/* priority, 0 when the kernel has none */
	char prefsrc[PC_ADDR_LEN];	/* "" = none */
	char gateway[PC_ADDR_LEN];	/* single path; "" for none or multipath */
	char dev[PC_NAME_LEN];		/* single path; "" for none or multipath */
	unsigned n_flags;
	char flags[PC_FLAGS_MAX][PC_NAME_LEN];
	bool multipath;			/* nh[] lists the paths */
	unsigned n_nh;			/* entries in nh (a single path is nh[0] too) */
	struct pc_nh *nh;		/* owned by whoever filled the route */
	const char *match;		/* prefix argument: "exact", "inside", "covers" */
};

/* Interned strings: each distinct byte string once, by a small id (0 = ""). */
struct pc_strs {
	char *data;		/* the strings, each NUL-terminated */
	size_t len, cap;
	size_t *off;		/* id -> offset in data */
	uint32_t *blen;		/* id -> length */
	uint32_t n, n_cap;
	uint32_t *slot;		/* hash slots: id + 1, 0 = empty */
	uint32_t n_slots;	/* a power of two */
	uint32_t recent[16];	/* id + 1 of the string last seen of its length and
				 * first byte: routes repeat their names */
};

/* A route as a document holds it (about 80 bytes, a struct pc_route is
 * 700): names and flag lists interned, addresses binary. */
struct pc_droute {
	struct mp_nl_addr dst_addr;
	struct mp_nl_addr prefsrc;	/* family 0: none */
	uint32_t metric;
	uint32_t type, table, protocol, scope, flags;	/* ids in the doc's strs */
	uint32_t nh;			/* first of n_nh in the doc's nhs */
	uint16_t n_nh;
	uint8_t family;
	uint8_t dst_len;
	bool multipath;
};

struct pc_dnh {
	struct mp_nl_addr gateway;	/* family 0: none */
	uint32_t dev, flags;		/* ids in the doc's strs */
	uint32_t weight;
};

/* A perfc/1 document: a node's routes and the addresses it owns. */
struct pc_doc {
	char node[PC_NODE_LEN];		/* node name ("" when absent) */
	char site[PC_NODE_LEN];		/* site id ("" when absent) */
	char **addresses;		/* the node's own addresses (canonical text) */
	size_t n_addresses;
	struct pc_droute *routes;
	size_t n_routes, cap_routes;
	struct pc_dnh *nhs;		/* the routes' nexthops */
	size_t n_nhs, cap_nhs;
	struct pc_strs strs;		/* names, flag lists */
};

/* names.c */
struct pc_names;
int pc_names_new(struct pc_names **ret);
void pc_names_free(struct pc_names *n);
/* Loads the rt_tables / rt_protos files under dir ("/etc/iproute2"); missing is fine. */
void pc_names_load_dir(struct pc_names *n, const char *dir);
void pc_names_table(const struct pc_names *n, uint32_t id, char *buf, size_t len);
void pc_names_proto(const struct pc_names *n, unsigned id, char *buf, size_t len);
int pc_names_table_id(const struct pc_names *n, const char *s, uint32_t *ret);
int pc_names_proto_id(const struct pc_names *n, const char *s, unsigned *ret);
const char *pc_type_name(unsigned type, char *buf, size_t len);
const char *pc_scope_name(unsigned scope, char *buf, size_t len);
/* Interface names by ifindex, from one link dump (refreshed on a miss). */
int pc_names_links(struct pc_names *n, struct mp_nl *nl);
void pc_names_dev(struct pc_names *n, int ifindex, char *buf, size_t len);
int pc_names_dev_index(const struct pc_names *n, const char *name);

/* route.c */
typedef int (*pc_route_fn)(const struct pc_route *rt, void *arg);
typedef int (*pc_change_fn)(const char *change, const struct pc_route *rt, void *arg);
int pc_route_from_nl(struct pc_names *names, const struct mp_nl_route *k, struct pc_route *rt,
		     struct pc_nh *nh_buf);
/* Streams this host's routes through the filters of opts. Returns the count or -errno. */
int pc_list(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
	    pc_route_fn fn, void *arg);
/* The routes into a doc (for --diff); doc->routes and their nh are owned by doc. */
int pc_list_doc(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
		struct pc_doc *doc);
/* Addresses this host owns (global and site scope, not loopback, not link-local). */
int pc_self_addresses(struct mp_nl *nl, char ***ret, size_t *ret_n);
/* --watch: calls fn per change until SIGINT/SIGTERM or duration. Returns changes or -errno. */
int pc_watch(const struct pc_opts *opts, struct pc_names *names, pc_change_fn fn, void *arg,
	     volatile sig_atomic_t *stop);
bool pc_route_filter(const struct pc_opts *opts, struct pc_route *rt);

/* doc.c */
/*
 * Parses a perfc/1 document of len bytes (need not be NUL-terminated) in
 * one pass, without a JSON tree. On failure writes a reason into err.
 * Returns 0, -EINVAL (not a perfc/1 document, with err set), -E2BIG or
 * -ENOMEM; *ret filled on success, to be released with pc_doc_done().
 */
int pc_doc_parse(const char *buf, size_t len, struct pc_doc *ret, char *err, size_t errlen);
/* Canonical text of an address ("10.0.0.1", "2001:db8::1"); -EINVAL if it is none. */
int pc_addr_canon(const char *s, char *buf, size_t len, struct mp_nl_addr *ret);
/* Parses "addr/len" or "addr" (full length) into the canonical "addr/len". */
int pc_prefix_canon(const char *s, char *buf, size_t len, struct mp_nl_addr *ret_addr,
		    unsigned *ret_len);

/* store.c */
/* Decimal digits of v (< 1000) at p; returns the end. */
char *pc_put_dec(char *p, unsigned v);
/* Text of an address, "" for family 0 (IPv4 without sprintf). Returns the length. */
size_t pc_addr_text(const struct mp_nl_addr *a, char *buf, size_t len);
/* Interns len bytes (no NUL among them); *id is its id. 0 or -ENOMEM. */
int pc_strs_add(struct pc_strs *s, const char *p, size_t len, uint32_t *id);
/* The id of a string already interned, or -1. */
int64_t pc_strs_find(const struct pc_strs *s, const char *p, size_t len);
static inline const char *pc_strs_get(const struct pc_strs *s, uint32_t id)
{
	return s->n ? s->data + s->off[id] : "";
}
/* Appends a copy of rt (and its nexthops) to doc in the lean form. */
int pc_doc_add(struct pc_doc *doc, const struct pc_route *rt);
/* Route i of doc in full; nh must have room for doc->routes[i].n_nh entries. */
void pc_doc_route(const struct pc_doc *doc, size_t i, struct pc_route *rt, struct pc_nh *nh);
void pc_doc_done(struct pc_doc *doc);

/* print.c */
/* padded: cells of the usual widths, for rows that come one by one
 * (--watch): a batch listing is sized from its rows by lib/out. */
int pc_print_route(struct mp_writer *w, const char *type, const struct pc_route *rt,
		   const char *change, const char *was, bool padded);
int pc_route_summary(const struct pc_route *rt, char *buf, size_t len);
/* Prometheus HELP of perfc's series. */
extern const struct mp_prom_help pc_prom_help[];
/* The list's summary document; more (may be NULL) adds fields to it. */
int pc_print_list_doc(struct mp_writer *w, const struct pc_opts *opts, long count,
		      char **addresses, size_t n_addresses,
		      int (*more)(struct mp_writer *w, const void *arg), const void *arg);


/* diff.c */
struct pc_diff_result {
	long added, removed, changed, unchanged;	/* route counts */
};
int pc_diff(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
	    struct mp_writer *w, struct pc_diff_result *res);

/* http.c / file reading */
/*
 * Reads a document from a file or an http:// or https:// URL into a new
 * buffer (*ret, free()), at most max_bytes; URLs bounded by opts' timeouts
 * and verified against opts->cacert. On failure err holds the whole reason
 * in one line (print it after the source: "SRC: err"). Returns 0, or -errno.
 */
int pc_fetch(const struct pc_opts *opts, const char *src, uint64_t max_bytes, char **ret,
	     size_t *ret_len, char *err, size_t errlen);

/* run.c: resolves names, runs the mode; prints only through w and mp_warn. */
int pc_run(struct pc_opts *opts, struct mp_writer *w, struct pc_result *res);

/* mesh.c */
struct pc_mesh_result {
	long paths;		/* node pairs traced */
	long loops;		/* paths that loop */
	long blackholes;	/* paths that end in a black hole */
	long asymmetric;	/* pairs whose forward path is not the reverse path */
};
int pc_mesh(const struct pc_opts *opts, struct pc_doc *docs, size_t n_docs,
	    struct mp_writer *w, struct pc_mesh_result *res);

#endif
