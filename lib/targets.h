/* SPDX-License-Identifier: MIT */
/*
 * targets: the hosts a tool measures when it is given "-" (or --targets
 * FILE) instead of HOST: one host per line, or the CSV or NDJSON records
 * another meshperf tool wrote, the host taken from a key.
 *
 * The stream's form is told by its first line that is not blank or a
 * comment ('#'): '{' starts NDJSON (one JSON object per line); a CSV header
 * naming the key (one comma at least) starts CSV (one record per line,
 * libcsv quoting); anything else is a list, one host per line. The key is
 * the one given, or the first of "dst", "addr", "peer" that a record (or
 * the header) has. An NDJSON record without the key names no target and is
 * passed over (another tool's other record types); the values "", "*", "-"
 * and "default" name no host either (a hop that did not answer, a default
 * route). A prefix (10.201.1.0/24) names its first address (10.201.1.1), a
 * host prefix its address. A host is kept once, at its first line.
 */
#ifndef MP_TARGETS_H
#define MP_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* At most this many targets in one stream. */
#define MP_TARGETS_MAX 65536

struct mp_target {
	char *host;		/* a host name or a numeric address */
	unsigned line;		/* the line it came from (1-based) */
};

struct mp_targets {
	struct mp_target *v;
	size_t n, cap;
	uint32_t *seen;		/* hash set of the hosts: index + 1 into v, 0 free */
};

/* A line that names no valid target: its number and why (quoting it). */
typedef void (*mp_targets_err_fn)(unsigned line, const char *why, void *ctx);

/*
 * One value as a target host into buf (len octets): a host name (letters,
 * digits, '.', '-', '_', not starting with '-'), an IPv4 or IPv6 address
 * (with %scope), or a prefix. Returns 0, 1 when the value names no host
 * ("", "*", "-", "default"), or -EINVAL.
 */
int mp_target_parse(const char *value, char *buf, size_t len);

/*
 * Reads f to its end, appending targets to t. key: NULL for dst, addr,
 * peer. err (may be NULL) is called for every bad line, and reading goes
 * on. Returns the number of bad lines (0 or more), or -errno: -EIO (read
 * error), -ENOMEM, -E2BIG (more than MP_TARGETS_MAX), -EINVAL (a CSV
 * header without the key; reported through err as line 1).
 */
int mp_targets_read(FILE *f, const char *key, struct mp_targets *t, mp_targets_err_fn err,
		    void *ctx);

/* Appends host (already a valid target) unless present; 0 or -errno. */
int mp_targets_add(struct mp_targets *t, const char *host, unsigned line);

void mp_targets_free(struct mp_targets *t);

#endif
