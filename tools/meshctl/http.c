/* SPDX-License-Identifier: MIT */
/*
 * http: /metrics (Prometheus text), /v1/links, /v1/routes and /v1/paths
 * (JSON) with libmicrohttpd, in its own thread. Each request renders the
 * state under the loop's mutex into memory, then answers from there.
 * Loopback by default; connections are capped in all and per address, and
 * a slow client is dropped after 5 s. GET and HEAD only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "args.h"
#include "meshctl.h"

enum {
	CONN_MAX = 32,
	CONN_PER_IP = 4,
	CONN_TIMEOUT_S = 5,
};

struct mc_http {
	struct MHD_Daemon *d;
	struct mc_state *s;
	pthread_mutex_t *lock;
};

static const struct page {
	const char *path;
	enum mp_format fmt;
	const char *type;
} pages[] = {
	{ "/metrics", MP_FMT_PROM, "text/plain; version=0.0.4; charset=utf-8" },
	{ "/v1/links", MP_FMT_JSON, "application/json" },
	{ "/v1/routes", MP_FMT_JSON, "application/json" },
	{ "/v1/paths", MP_FMT_JSON, "application/json" },
	{ "/v1/status", MP_FMT_JSON, "application/json" },
};

static int render(const struct page *pg, struct mc_state *s, struct mp_writer *w)
{
	if (!strcmp(pg->path, "/v1/routes"))
		return mc_print_route_doc(w, s);
	if (!strcmp(pg->path, "/metrics"))
		return mc_print_metrics(w, s);
	if (!strcmp(pg->path, "/v1/links"))
		return mc_print_links(w, s);
	if (!strcmp(pg->path, "/v1/paths"))
		return mc_print_paths(w, s);
	return mc_print_status(w, s);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *data_len, void **con_cls)
{
	struct mc_http *h = cls;
	const struct page *pg = NULL;
	struct mp_writer *w = NULL;
	char *body = NULL;
	size_t len = 0, i;
	FILE *f;
	int r;

	(void)version;
	(void)data;
	(void)data_len;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     strdup("GET or HEAD only\n"), 17);
	for (i = 0; i < MP_ARRAY_SIZE(pages); i++)
		if (!strcmp(url, pages[i].path))
			pg = &pages[i];
	if (!pg) {
		body = strdup("not found: /metrics, /v1/links, /v1/routes, /v1/paths, "
			      "/v1/status\n");
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", body, body ? strlen(body) : 0);
	}
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pthread_mutex_lock(h->lock);
	/* /v1/routes is a perfc/1 route document: perfc --nodes reads it */
	r = mp_writer_new(&w, pg->fmt, f, "meshctl",
			  !strcmp(pg->path, "/v1/routes") ? "perfc/1" : MC_SCHEMA);
	if (r == 0) {
		mp_writer_prom_help(w, mc_prom_help);
		r = render(pg, h->s, w);
	}
	if (mp_writer_close(w) < 0 && r == 0)
		r = -EIO;
	pthread_mutex_unlock(h->lock);
	fclose(f);
	if (r < 0) {
		free(body);
		body = strdup("internal error\n");
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", body,
			     body ? strlen(body) : 0);
	}
	return reply(c, MHD_HTTP_OK, pg->type, body, len);
}

int mc_http_start(struct mc_http **ret, const char *addr, struct mc_state *s,
		  pthread_mutex_t *lock)
{
	struct sockaddr_storage sa;
	socklen_t sa_len;
	char host[128];
	uint16_t port = MC_PORT;
	const char *colon;
	struct mc_http *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	int r;

	/* ADDR, ADDR:PORT, [V6]:PORT, V6 */
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || (size_t)(end - addr - 1) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(end - addr - 1), addr + 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return -EINVAL;
	} else {
		colon = strchr(addr, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* a bare IPv6 address */
		snprintf(host, sizeof(host), "%.*s",
			 colon ? (int)(colon - addr) : (int)strlen(addr), addr);
	}
	if (colon && mp_parse_port(colon + 1, &port) < 0)
		return -EINVAL;
	r = mp_parse_addr(host, AF_UNSPEC, port, &sa, &sa_len);
	if (r < 0)
		return r;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->s = s;
	h->lock = lock;
	errno = 0;
	h->d = MHD_start_daemon(flags, port, NULL, NULL, handle, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		r = errno ? -errno : -EIO;
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void mc_http_stop(struct mc_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
