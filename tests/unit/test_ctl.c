/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/ctl.c against a server thread on a UNIX socket: the
 * request as sent, an answer of several reads, a daemon's "error: ..."
 * answer, no daemon, and a daemon that never answers (the timeout).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "mp.h"

struct server {
	int fd;
	const char *answer;	/* NULL: read the request, never answer */
	size_t repeat;		/* answer written this many times */
	char got[128];		/* the request read */
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	ssize_t n;

	if (c < 0)
		return NULL;
	n = read(c, s->got, sizeof(s->got) - 1);
	s->got[n > 0 ? n : 0] = '\0';
	if (!s->answer) {
		char b;

		while (read(c, &b, 1) > 0) {
			/* until the client gives up */
		}
	} else {
		for (size_t i = 0; i < s->repeat; i++)
			if (write(c, s->answer, strlen(s->answer)) < 0)
				break;
	}
	close(c);
	return NULL;
}

static char path[108];

static int listen_at(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "/tmp/mp-test-ctl.%d", (int)getpid());
	unlink(path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static int run(struct server *s, uint64_t timeout_ns, char **buf, size_t *len)
{
	pthread_t t;
	int r;

	s->fd = listen_at();
	assert_int_equal(pthread_create(&t, NULL, serve, s), 0);
	r = mp_ctl_ask(path, "paths json", timeout_ns, buf, len);
	pthread_join(t, NULL);
	close(s->fd);
	unlink(path);
	return r;
}

static void test_answer(void **state)
{
	struct server s = { .answer = "{\"paths\":[]}\n", .repeat = 3000 };
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(run(&s, 0, &buf, &len), 0);
	assert_string_equal(s.got, "paths json\n");
	assert_int_equal(len, 3000 * strlen(s.answer));
	assert_int_equal(strlen(buf), len);
	assert_memory_equal(buf + len - strlen(s.answer), s.answer, strlen(s.answer));
	free(buf);
}

static void test_error(void **state)
{
	struct server s = { .answer = "error: bad request 'paths xml'\n", .repeat = 1 };
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(run(&s, 0, &buf, &len), -EPROTO);
	assert_string_equal(buf, s.answer);
	free(buf);
}

static void test_no_daemon(void **state)
{
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(mp_ctl_ask("/nonexistent/meshctl.sock", "paths json", 0, &buf, &len),
			 -ENOENT);
	assert_null(buf);
}

static void test_timeout(void **state)
{
	struct server s = { .answer = NULL };
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(run(&s, 100 * MP_NSEC_PER_MSEC, &buf, &len), -ETIMEDOUT);
	assert_null(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_no_daemon),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
