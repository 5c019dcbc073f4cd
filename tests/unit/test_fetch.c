/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/fetch.c: files, and real libcurl transfers against a
 * one-shot HTTP server on 127.0.0.1 in a thread (canned answers), a port
 * nobody listens on, and a socket that is listening but never accepts.
 * TLS is proved in the lab (tests/netns/perfc.sh https).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fetch.h"
#include "mp.h"

struct srv {
	int fd;			/* listening socket on 127.0.0.1 */
	unsigned port;
	const char *resp;	/* answer written after the request's header */
	size_t resp_len;
	char req[4096];		/* the request's header as received */
	pthread_t thread;
};

static const struct mp_fetch_opts opts = {
	.timeout_ns = 5 * MP_NSEC_PER_SEC,
	.max_bytes = 1024,
	.user_agent = "test_fetch/1",
};

static void listen_local(struct srv *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
}

static void *serve(void *arg)
{
	struct srv *s = arg;
	size_t got = 0, off = 0;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (got < sizeof(s->req) - 1 && !strstr(s->req, "\r\n\r\n")) {
		ssize_t n = recv(c, s->req + got, sizeof(s->req) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		s->req[got] = '\0';
	}
	while (off < s->resp_len) {
		ssize_t n = send(c, s->resp + off, s->resp_len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* the client stopped reading: the cap */
		off += (size_t)n;
	}
	close(c);
	return NULL;
}

/* Serves resp once; returns the URL of path on it. */
static void srv_start(struct srv *s, const char *resp, size_t len, char *url, size_t url_len)
{
	memset(s, 0, sizeof(*s));
	listen_local(s);
	s->resp = resp;
	s->resp_len = len;
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	snprintf(url, url_len, "http://127.0.0.1:%u/v1/routes", s->port);
}

static void srv_stop(struct srv *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static int fetch(const char *url, const struct mp_fetch_opts *o, char **body, size_t *len,
		 char *err, size_t errlen)
{
	*body = NULL;
	*len = 0;
	return mp_fetch(url, o, body, len, err, errlen);
}

/* One fetch from a server that answers resp. */
static int serve_fetch(struct srv *s, const char *resp, size_t resp_len, char **body,
		       size_t *len, char *err, size_t errlen)
{
	char url[64];
	int r;

	srv_start(s, resp, resp_len, url, sizeof(url));
	r = fetch(url, &opts, body, len, err, errlen);
	srv_stop(s);
	return r;
}

static void test_file(void **state)
{
	char path[] = "/tmp/test_fetch.XXXXXX", err[256], *body;
	char big[2000];
	size_t len;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"a\":1}", 7), 7);
	assert_int_equal(fetch(path, &opts, &body, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 7);
	assert_string_equal(body, "{\"a\":1}");
	free(body);
	memset(big, ' ', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(fetch(path, &opts, &body, &len, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "larger than 1024 bytes");
	assert_null(body);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(fetch(path, &opts, &body, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_string_equal(body, "");
	free(body);
	close(fd);
	unlink(path);
	assert_int_equal(fetch(path, &opts, &body, &len, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "No such file or directory");
	/* only http and https are URLs: anything else is a file name */
	assert_false(mp_fetch_is_url("ftp://127.0.0.1/x"));
	assert_false(mp_fetch_is_url("file:///etc/passwd"));
	assert_true(mp_fetch_is_url("https://127.0.0.1/x"));
	assert_int_equal(fetch("file:///etc/hostname", &opts, &body, &len, err, sizeof(err)),
			 -ENOENT);
}

static void test_ok(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
				   "Content-Type: application/json\r\n\r\n{\"a\":1}";
	char err[256], *body;
	struct srv s;
	size_t len;

	(void)state;
	assert_int_equal(serve_fetch(&s, resp, sizeof(resp) - 1, &body, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 7);
	assert_string_equal(body, "{\"a\":1}");
	assert_non_null(strstr(s.req, "GET /v1/routes HTTP/1.1\r\n"));
	assert_non_null(strstr(s.req, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(s.req, "\r\nUser-Agent: test_fetch/1\r\n"));
	free(body);
}

/* Over the cap: stopped by the declared length, or in the write callback
 * when there is none (HTTP/1.0, body until close). */
static void test_cap(void **state)
{
	char err[256], *body, resp[8192];
	size_t len, n;
	struct srv s;

	(void)state;
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
	memset(resp + n, 'x', 5000);
	assert_int_equal(serve_fetch(&s, resp, n + 5000, &body, &len, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "larger than 1024 bytes");
	assert_null(body);

	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\n\r\n");
	memset(resp + n, 'x', 5000);
	assert_int_equal(serve_fetch(&s, resp, n + 5000, &body, &len, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "larger than 1024 bytes");
	/* exactly the cap is accepted */
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\n\r\n");
	memset(resp + n, 'x', 1024);
	assert_int_equal(serve_fetch(&s, resp, n + 1024, &body, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 1024);
	free(body);
}

static void test_status(void **state)
{
	static const char r404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
	static const char r301[] = "HTTP/1.1 301 Moved\r\nLocation: http://10.9.9.9/x\r\n"
				   "Content-Length: 0\r\n\r\n";
	static const char r301esc[] = "HTTP/1.1 302 Found\r\nLocation: http://10.9.9.9/\033[2J\r\n"
				      "Content-Length: 0\r\n\r\n";
	char err[256], *body;
	struct srv s;
	size_t len;

	(void)state;
	assert_int_equal(serve_fetch(&s, r404, sizeof(r404) - 1, &body, &len, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "HTTP status 404");
	assert_int_equal(serve_fetch(&s, r301, sizeof(r301) - 1, &body, &len, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "HTTP status 301 (redirect to http://10.9.9.9/x not followed)");
	/* what the server says reaches no terminal raw */
	assert_int_equal(serve_fetch(&s, r301esc, sizeof(r301esc) - 1, &body, &len, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "HTTP status 302 (redirect to http://10.9.9.9/?[2J not followed)");
	/* not HTTP at all */
	assert_int_equal(serve_fetch(&s, "SSH-2.0-x\r\n", 11, &body, &len, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "Received HTTP/0.9 when not allowed");
}

static void test_connect(void **state)
{
	struct mp_fetch_opts o = opts;
	char url[64], err[256], *body;
	struct srv s = { 0 };
	size_t len;

	(void)state;
	/* a port bound but not listening: refused */
	listen_local(&s);
	close(s.fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", s.port);
	assert_int_equal(fetch(url, &opts, &body, &len, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "(Connection refused)"));
	/* listening, never answering: the whole-transfer timeout */
	listen_local(&s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", s.port);
	o.timeout_ns = 200 * MP_NSEC_PER_MSEC;
	assert_int_equal(fetch(url, &o, &body, &len, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "timed out"));
	close(s.fd);
	/* bad URLs */
	assert_int_equal(fetch("http://[::1/x", &opts, &body, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad URL"));
	assert_int_equal(fetch("http://127.0.0.1:99999/x", &opts, &body, &len, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(fetch("http://a.invalid/x", &opts, &body, &len, err, sizeof(err)),
			 -EHOSTUNREACH);
	assert_null(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
