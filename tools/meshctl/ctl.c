/* SPDX-License-Identifier: MIT */
/*
 * ctl: the control socket (/run/meshperf/meshctl.sock) of `meshctl run`,
 * in a thread of its own, so that a client that sends nothing or reads
 * nothing never stalls the loop that probes and reflects: the request is
 * read with a timeout, the answer rendered into memory under the loop's
 * mutex, and written out without it.
 *
 * One request per connection: "links|routes|paths|status|metrics FORMAT\n".
 * The answer is the rendered output, or one line "error: ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "meshctl.h"

enum {
	IO_TIMEOUT_S = 1,	/* a client's time to send its request, and to read */
};

struct mc_ctl {
	int fd;			/* the listening socket */
	int stop[2];		/* a pipe: written to stop the thread */
	char path[108];		/* the socket's path, unlinked at stop */
	pthread_t thread;
	struct mc_state *s;
	pthread_mutex_t *lock;	/* the loop's: held while rendering */
};

static int render(struct mc_ctl *c, const char *req, char **ret, size_t *ret_len)
{
	char what[16], fmt[16];
	struct mp_writer *w = NULL;
	enum mp_format f;
	FILE *out;
	int r;

	out = open_memstream(ret, ret_len);
	if (!out)
		return -ENOMEM;
	if (sscanf(req, "%15s %15s", what, fmt) != 2 || mp_format_parse(fmt, &f) < 0) {
		fprintf(out, "error: bad request '%.*s'\n", (int)strcspn(req, "\n"), req);
		goto out;
	}
	pthread_mutex_lock(c->lock);
	r = mp_writer_new(&w, f, out, "meshctl", MC_SCHEMA);
	if (r == 0) {
		mp_writer_prom_help(w, mc_prom_help);
		/* a listing at once: lib/out sizes its text columns from the rows */
		mp_writer_set_live(w, false);
	}
	if (r < 0)
		;
	else if (!strcmp(what, "links"))
		r = mc_print_links(w, c->s);
	else if (!strcmp(what, "routes"))
		r = mc_print_routes(w, c->s);
	else if (!strcmp(what, "paths"))
		r = mc_print_paths(w, c->s);
	else if (!strcmp(what, "status"))
		r = mc_print_status(w, c->s);
	else if (!strcmp(what, "metrics"))
		r = mc_print_metrics(w, c->s);
	else
		fprintf(out, "error: unknown request '%s'\n", what);
	mp_writer_close(w);
	pthread_mutex_unlock(c->lock);
out:
	return fclose(out) ? -errno : 0;
}

static void serve(struct mc_ctl *c, int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	char req[64] = "", *body = NULL;
	size_t len = 0, off = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = read(fd, req, sizeof(req) - 1);
	req[n > 0 ? n : 0] = '\0';
	if (render(c, req, &body, &len) == 0)
		while (off < len && (n = send(fd, body + off, len - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)n;
	free(body);
}

static void *run(void *arg)
{
	struct mc_ctl *c = arg;
	struct pollfd pfd[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = c->stop[0], .events = POLLIN },
	};

	while (poll(pfd, 2, -1) >= 0 || errno == EINTR) {
		int fd;

		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(c, fd);
		close(fd);
	}
	return NULL;
}

/* Bind path, refusing to take it from a daemon that still answers there. */
static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[sizeof(a.sun_path)], *slash;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		close(fd);
		return -EADDRINUSE;	/* another meshctl run answers there */
	}
	unlink(path);
	/* owner and group only, from the moment it exists */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int mc_ctl_start(struct mc_ctl **ret, const char *path, struct mc_state *s,
		 pthread_mutex_t *lock)
{
	struct mc_ctl *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->lock = lock;
	c->stop[0] = c->stop[1] = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = listen_on(path);
	if (c->fd < 0) {
		r = c->fd;
		free(c);
		return r;
	}
	if (pipe2(c->stop, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&c->thread, NULL, run, c);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	close(c->fd);
	if (c->stop[0] >= 0) {
		close(c->stop[0]);
		close(c->stop[1]);
	}
	unlink(c->path);
	free(c);
	return r;
}

void mc_ctl_stop(struct mc_ctl *c)
{
	if (!c)
		return;
	if (write(c->stop[1], "", 1) == 1)
		pthread_join(c->thread, NULL);
	close(c->fd);
	close(c->stop[0]);
	close(c->stop[1]);
	unlink(c->path);
	free(c);
}
