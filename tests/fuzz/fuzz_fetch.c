/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for what lib/fetch.c does with a server's answer: the
 * input is everything an http:// server on loopback sends, from the moment
 * libcurl connects, then end of stream. No HTTP is parsed by meshperf any
 * more (libcurl parses it, and libcurl is fuzzed by OSS-Fuzz, not here: it
 * is not instrumented); this covers our side of it: the write callback and
 * its cap, the status and redirect handling, the mapping of curl's errors.
 * Oracles: the result is 0, -EFBIG, -EPROTO or -ENOMEM (a timeout would be
 * a hang: the stream always ends); on success the body is within the cap and
 * NUL-terminated; on failure err is one line of printable text, whatever
 * the server sent; nothing leaks (ASan).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fetch.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	INPUT_MAX = 65536,	/* fits loopback TCP's buffers: written before curl runs */
	CAP = 4096,		/* max_bytes of the fetch */
};

struct peer {
	const uint8_t *data;	/* what the server sends */
	size_t size;
};

static int listen_fd = -1;
static char url[64];

static void listen_once(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(listen_fd, 4) || getsockname(listen_fd, (struct sockaddr *)&a, &len))
		abort();
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/routes", ntohs(a.sin_port));
}

/* The server: the input, end of stream, then the request read to its end
 * (closing with unread bytes would reset the connection: a race). */
static void *serve(void *arg)
{
	const struct peer *p = arg;
	char sink[4096];
	size_t off = 0;
	int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		abort();
	while (off < p->size) {
		ssize_t n = send(c, p->data + off, p->size - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* curl stopped early: the cap, or an error */
		off += (size_t)n;
	}
	shutdown(c, SHUT_WR);
	while (recv(c, sink, sizeof(sink), 0) > 0)
		;
	close(c);
	return NULL;
}

static void check_err(const char *err)
{
	if (!err[0])
		abort();
	for (; *err; err++)
		if ((unsigned char)*err < 0x20 || *err == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mp_fetch_opts o = { .timeout_ns = 10 * MP_NSEC_PER_SEC, .max_bytes = CAP };
	char errbuf[CURL_ERROR_SIZE] = "", err[256] = "";
	struct peer p = { .data = data, .size = size };
	struct buf b = { .max = CAP };
	struct curl_slist *hdrs;
	pthread_t server;
	CURL *c;
	int r;

	if (size > INPUT_MAX)
		return 0;
	if (listen_fd < 0)
		listen_once();
	pthread_once(&curl_once, curl_init);
	if (curl_load_err[0])
		abort();
	c = cu.easy_init();
	hdrs = cu.slist_append(NULL, "Accept: application/json");
	if (!c || !hdrs || set_opts(c, url, &o, &b, hdrs, errbuf) ||
	    pthread_create(&server, NULL, serve, &p))
		abort();
	r = fetch_perform(c, &b, errbuf, err, sizeof(err));
	if (r == 0) {
		if (b.len > CAP || (b.p && b.p[b.len]) || (!b.p && b.len))
			abort();
	} else if (r == -EFBIG || r == -EPROTO) {
		check_err(err);
	} else if (r != -ENOMEM) {
		fprintf(stderr, "r=%d err=%s\n", r, err);
		abort();
	}
	cu.slist_free_all(hdrs);
	cu.easy_cleanup(c);	/* closes the connection: the server ends */
	pthread_join(server, NULL);
	free(b.p);
	return 0;
}
