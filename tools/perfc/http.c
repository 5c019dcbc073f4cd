/* SPDX-License-Identifier: MIT */
/*
 * perfc: reading route documents from files and http:// URLs. The client is
 * deliberately tiny: HTTP/1.0 GET, "Connection: close", body until EOF, no
 * redirects, no chunked encoding, no TLS (https:// is refused: put a TLS
 * proxy in front or fetch with curl into a file). One deadline bounds the
 * whole exchange and max_bytes bounds the answer, so a slow or hostile peer
 * can cost at most timeout and memory of max_bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "perfc.h"

struct buf {
	char *p;
	size_t len, cap, max;
};

static int buf_add(struct buf *b, const char *data, size_t n)
{
	if (b->len + n > b->max)
		return -EFBIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int read_file(const char *path, struct buf *b)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		r = buf_add(b, chunk, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	return r;
}

/* Milliseconds left until deadline (ns, monotonic); 0 when passed. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = mp_clock_mono_ns();

	if (now >= deadline)
		return 0;
	return (int)MP_MIN((deadline - now) / MP_NSEC_PER_MSEC + 1, 60000U);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int ms = ms_left(deadline), r;

		if (ms == 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* http://host[:port][/path] -> parts; IPv6 literals in brackets. */
static int url_split(const char *url, char *host, size_t hlen, char *port, size_t plen,
		     const char **path)
{
	const char *h = url + strlen("http://"), *end, *colon = NULL;
	size_t n;

	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return -EINVAL;
		n = (size_t)(end - h - 1);
		if (n == 0 || n >= hlen)
			return -EINVAL;
		memcpy(host, h + 1, n);
		host[n] = '\0';
		end++;
		if (*end == ':')
			colon = end;
		else if (*end && *end != '/')
			return -EINVAL;
	} else {
		end = h + strcspn(h, ":/");
		n = (size_t)(end - h);
		if (n == 0 || n >= hlen)
			return -EINVAL;
		memcpy(host, h, n);
		host[n] = '\0';
		if (*end == ':')
			colon = end;
	}
	if (colon) {
		const char *p = colon + 1;

		n = strspn(p, "0123456789");
		if (n == 0 || n > 5 || n >= plen || (p[n] && p[n] != '/'))
			return -EINVAL;
		memcpy(port, p, n);
		port[n] = '\0';
		end = p + n;
	} else {
		snprintf(port, plen, "80");
	}
	*path = *end == '/' ? end : "/";
	return 0;
}

static int http_connect(const char *host, const char *port, uint64_t deadline, int *ret_fd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int r, fd = -1;

	r = getaddrinfo(host, port, &hints, &res);
	if (r)
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	r = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && (r = wait_fd(fd, POLLOUT, deadline)) == 0 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)) {
			r = 0;
			break;
		}
		if (soerr)
			r = -soerr;
		else if (r == 0 || r == -EHOSTUNREACH)
			r = -errno;
		close(fd);
		fd = -1;
		if (r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (r == 0)
		*ret_fd = fd;
	return r;
}

static int http_get(const char *url, uint64_t timeout_ns, struct buf *b, char *err,
		    size_t errlen)
{
	uint64_t deadline = mp_clock_mono_ns() + timeout_ns;
	char host[256], port[8], req[1024], chunk[65536];
	struct buf raw = { .max = b->max + 16384 };	/* body cap plus headers */
	const char *path, *body;
	int r, fd = -1, status;
	size_t off = 0, reqlen;

	if (url_split(url, host, sizeof(host), port, sizeof(port), &path) < 0) {
		snprintf(err, errlen, "bad URL");
		return -EINVAL;
	}
	reqlen = (size_t)snprintf(req, sizeof(req),
				  "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: perfc/%s\r\n"
				  "Accept: application/json\r\nConnection: close\r\n\r\n",
				  path, host, MP_VERSION);
	if (reqlen >= sizeof(req) || strpbrk(path, " \r\n")) {
		snprintf(err, errlen, "bad URL path");
		return -EINVAL;
	}
	r = http_connect(host, port, deadline, &fd);
	while (r == 0 && off < reqlen) {
		ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			r = wait_fd(fd, POLLOUT, deadline);
		else if (n < 0 && errno != EINTR)
			r = -errno;
	}
	while (r == 0) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

		if (n == 0)
			break;
		if (n > 0)
			r = buf_add(&raw, chunk, (size_t)n);
		else if (errno == EAGAIN)
			r = wait_fd(fd, POLLIN, deadline);
		else if (errno != EINTR)
			r = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (!raw.p || sscanf(raw.p, "HTTP/1.%*1[01] %3d", &status) != 1) {
		snprintf(err, errlen, "not an HTTP response");
		goto out;
	}
	if (status != 200) {
		snprintf(err, errlen, "HTTP status %d", status);
		goto out;
	}
	body = strstr(raw.p, "\r\n\r\n");
	if (!body) {
		snprintf(err, errlen, "truncated HTTP header");
		goto out;
	}
	body += 4;
	r = buf_add(b, body, raw.len - (size_t)(body - raw.p));
out:
	free(raw.p);
	return r;
}

int pc_fetch(const char *src, uint64_t timeout_ns, uint64_t max_bytes, char **ret,
	     size_t *ret_len, char *err, size_t errlen)
{
	struct buf b = { .max = max_bytes };
	int r;

	err[0] = '\0';
	if (!strncmp(src, "https://", 8)) {
		snprintf(err, errlen, "https is not supported (fetch it into a file)");
		return -EPROTONOSUPPORT;
	}
	if (!strncmp(src, "http://", 7))
		r = http_get(src, timeout_ns, &b, err, errlen);
	else
		r = read_file(src, &b);
	if (r == -EFBIG && !err[0])
		snprintf(err, errlen, "larger than %llu bytes", (unsigned long long)max_bytes);
	if (r == 0 && !b.p)
		r = buf_add(&b, "", 0);
	if (r < 0) {
		free(b.p);
		return r;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}
