/* SPDX-License-Identifier: MIT */
/*
 * A client of meshctl's control socket (see ctl.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "mp.h"

/* Waits for fd to be ready for ev until deadline (monotonic ns). */
static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mp_clock_mono_ns();
		struct pollfd p = { .fd = fd, .events = ev };
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)MP_MIN((deadline - now) / MP_NSEC_PER_MSEC + 1, 60000));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int ask(int fd, const char *req, uint64_t deadline, char **buf, size_t *len)
{
	char line[256];
	size_t cap = 0, reqlen = (size_t)snprintf(line, sizeof(line), "%s\n", req), sent = 0;
	char *p = NULL;
	int r;

	if (reqlen >= sizeof(line))
		return -EINVAL;
	/* one write: the daemon may answer and close on its first read */
	while (sent < reqlen) {
		ssize_t w;

		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		w = send(fd, line + sent, reqlen - sent, MSG_NOSIGNAL);
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w > 0)
			sent += (size_t)w;
	}
	*len = 0;
	for (;;) {
		ssize_t n;

		if (cap - *len < 4096 + 1) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *np;

			if (ncap > MP_CTL_MAX + 1)
				ncap = MP_CTL_MAX + 1;
			if (ncap - *len < 2) {
				free(p);
				return -EFBIG;
			}
			np = realloc(p, ncap);
			if (!np) {
				free(p);
				return -ENOMEM;
			}
			p = np;
			cap = ncap;
		}
		r = wait_fd(fd, POLLIN, deadline);
		if (r == 0) {
			n = read(fd, p + *len, cap - *len - 1);
			if (n == 0)
				break;
			if (n < 0 && errno != EINTR)
				r = -errno;
			if (n > 0)
				*len += (size_t)n;
		}
		if (r < 0) {
			free(p);
			return r;
		}
	}
	p[*len] = '\0';
	*buf = p;
	return 0;
}

int mp_ctl_ask(const char *path, const char *req, uint64_t timeout_ns, char **ret,
	       size_t *ret_len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint64_t deadline = mp_clock_mono_ns() + (timeout_ns ? timeout_ns : 5 * MP_NSEC_PER_SEC);
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a UNIX socket connects at once, or fails (EAGAIN: its queue is full) */
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	if (r == 0)
		r = ask(fd, req, deadline, &buf, &len);
	close(fd);
	if (r < 0)
		return r;
	*ret = buf;
	*ret_len = len;
	return strncmp(buf, "error: ", 7) ? 0 : -EPROTO;
}
