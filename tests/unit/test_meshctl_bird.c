/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of meshctl's hand-off to BIRD (tools/meshctl/bird.c, included
 * with path.c for the cost formula): rxcost units, the cost of the
 * direction towards this node, the control-socket dialogue against a
 * stand-in BIRD on a real Unix socket (greeting, multi-line replies,
 * refusals), and the hysteresis of the include file: a down tunnel
 * excluded at once, a small change never written, a large one after the
 * dwell time and the hold-down, a tunnel back up after the dwell time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "../../tools/meshctl/path.c"
#include "../../tools/meshctl/plan.c"
#include "../../tools/meshctl/bird.c"

#define MS(x) ((uint64_t)(x) * MP_NSEC_PER_MSEC)

/* ---------------------------------------------------------------- units */

static void test_rxcost_units(void **state)
{
	(void)state;
	assert_int_equal(mc_bird_rxcost_units(-5000), 1);
	assert_int_equal(mc_bird_rxcost_units(0), 1);
	assert_int_equal(mc_bird_rxcost_units(149), 1);
	assert_int_equal(mc_bird_rxcost_units(150), 2);
	assert_int_equal(mc_bird_rxcost_units(41000), 410);
	assert_int_equal(mc_bird_rxcost_units(6553400), 65534);
	assert_int_equal(mc_bird_rxcost_units(INT32_MAX), 65534);	/* never infinity */
}

static void test_in_cost(void **state)
{
	struct mc_tunnel t = { 0 };
	static const struct mc_cost_weights w = MC_COST_WEIGHTS_INIT;

	(void)state;
	t.m.valid = true;
	t.m.rtt_median_ns = MS(40);
	t.m.fwd_ns = -(int64_t)MS(500);		/* an offset: not in the cost */
	t.m.rev_ns = (int64_t)MS(540);
	t.m.jitter_fwd_ns = MS(7);		/* the other direction's */
	t.m.jitter_rev_ns = MS(2);
	t.m.loss_fwd = 0.5;
	t.m.loss_rev = 0.0;
	t.m.avail = 1.0;
	/* 20 ms + 2 ms jitter back + 1 ms per tunnel */
	assert_int_equal(mc_bird_in_cost_us(&t, &w), 23000);
	t.m.loss_rev = 0.5;			/* 50 ms at 50 % loss */
	assert_int_equal(mc_bird_in_cost_us(&t, &w), 73000);
}

/* ---------------------------------------------------------------- a BIRD */

struct fake {
	char path[108];
	int lfd;
	const char *reply;		/* to any command */
	char got[128];			/* the last command */
	atomic_int served;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int fd;
	ssize_t n;

	while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
		static const char hello[] = "0001 BIRD 2.0.12 ready.\n";

		if (write(fd, hello, sizeof(hello) - 1) < 0)
			break;
		n = read(fd, f->got, sizeof(f->got) - 1);
		f->got[n > 0 ? n : 0] = '\0';
		/* counted before the reply: the client, once answered, sees it */
		atomic_fetch_add(&f->served, 1);
		if (write(fd, f->reply, strlen(f->reply)) < 0)
			break;
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, pthread_t *th, const char *reply)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(f->path, sizeof(f->path), "/tmp/mp-fake-bird.%d", (int)getpid());
	unlink(f->path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->reply = reply;
	assert_int_equal(pthread_create(th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f, pthread_t th)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(th, NULL);
	unlink(f->path);
}

static void test_command(void **state)
{
	struct fake f = { 0 };
	pthread_t th;
	char msg[128];

	(void)state;
	fake_start(&f, &th, "0002-Reading configuration from /etc/bird.conf\n0003 Reconfigured\n");
	assert_int_equal(mc_bird_command(f.path, "configure", msg, sizeof(msg)), 3);
	assert_string_equal(msg, "Reconfigured");
	assert_string_equal(f.got, "configure\n");
	f.reply = "0002-Reading configuration from /etc/bird.conf\n"
		  "8002 /run/x.conf:3:1 syntax error, unexpected CF_SYM_UNDEFINED\n";
	assert_int_equal(mc_bird_command(f.path, "configure", msg, sizeof(msg)), 8002);
	assert_non_null(strstr(msg, "syntax error"));
	fake_stop(&f, th);
	/* nobody there */
	assert_int_equal(mc_bird_command(f.path, "configure", msg, sizeof(msg)), -ENOENT);
}

/* ---------------------------------------------------------------- steps */

struct rig {
	struct fake f;
	pthread_t th;
	struct mc_opts o;
	struct mc_state s;
	struct mc_tunnel t[2];
	struct mc_bird *b;
	char inc[128];
};

static void rig_up(struct rig *r)
{
	static const struct mc_cost_weights w = MC_COST_WEIGHTS_INIT;
	static const struct mc_hyst_opts h = MC_HYST_OPTS_INIT;
	size_t i;

	memset(r, 0, sizeof(*r));
	fake_start(&r->f, &r->th, "0003 Reconfigured\n");
	snprintf(r->inc, sizeof(r->inc), "/tmp/mp-babel.%d.conf", (int)getpid());
	r->o.weights = w;
	r->o.hyst = h;			/* 10 %, 2 ms, dwell 5 s, hold-down 20 s */
	r->s.o = &r->o;
	r->s.self = 1;
	r->s.t = r->t;
	r->s.nt = 2;
	for (i = 0; i < 2; i++) {
		snprintf(r->t[i].ifname, sizeof(r->t[i].ifname), "wg1.%zu_v4", 2 + i);
		r->t[i].state = MC_ST_UP;
		r->t[i].m.valid = true;
		r->t[i].m.avail = 1.0;
		r->t[i].m.rtt_median_ns = MS(10);	/* 5 + 1 + 2 ms: rxcost 80 */
	}
	assert_int_equal(mc_bird_new(&r->b, r->f.path, r->inc, 2), 0);
}

static void rig_down(struct rig *r)
{
	mc_bird_free(r->b);
	fake_stop(&r->f, r->th);
	unlink(r->inc);
}

static int step(struct rig *r, uint64_t now)
{
	char msg[128];

	return mc_bird_step(r->b, &r->s, now, msg, sizeof(msg));
}

static bool file_has(const struct rig *r, const char *needle)
{
	char buf[4096];
	FILE *f = fopen(r->inc, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void test_step(void **state)
{
	struct rig r;
	uint64_t t = 1000 * MP_NSEC_PER_SEC;

	(void)state;
	rig_up(&r);
	r.t[1].state = MC_ST_UNKNOWN;			/* not measured yet: left out */
	r.t[1].m.valid = false;
	assert_int_equal(step(&r, t), 1);
	assert_true(file_has(&r, "interface -\"wg1.3_v4\";"));
	r.t[1].state = MC_ST_UP;
	r.t[1].m.valid = true;
	assert_int_equal(step(&r, t + MS(10)), 1);	/* both in, at once */
	assert_true(file_has(&r, "interface \"wg1.2_v4\" { type wired; rxcost 80;"));
	assert_true(file_has(&r, "interface \"wg1.3_v4\" { type wired; rxcost 80;"));
	assert_int_equal(r.f.served, 2);
	assert_int_equal(step(&r, t + MS(100)), 0);	/* nothing changed */

	/* 1 ms more: not over half the absolute threshold (1 ms), never written */
	r.t[0].m.rtt_median_ns = MS(12);
	assert_int_equal(step(&r, t + 30 * MP_NSEC_PER_SEC), 0);
	assert_int_equal(mc_bird_tunnel_rxcost(r.b, 0), 80);

	/* 20 ms more: after the dwell time (5 s), the hold-down being over */
	r.t[0].m.rtt_median_ns = MS(50);
	t += 40 * MP_NSEC_PER_SEC;
	assert_int_equal(step(&r, t), 0);
	assert_int_equal(step(&r, t + MS(4900)), 0);
	assert_int_equal(step(&r, t + MS(5000)), 1);
	assert_int_equal(mc_bird_tunnel_rxcost(r.b, 0), 280);
	assert_true(file_has(&r, "rxcost 280;"));

	/* back down at once? no: the hold-down (20 s) since that change */
	r.t[0].m.rtt_median_ns = MS(10);
	assert_int_equal(step(&r, t + MS(6000)), 0);
	assert_int_equal(step(&r, t + MS(24000)), 0);
	assert_int_equal(step(&r, t + MS(25000)), 1);
	assert_int_equal(mc_bird_tunnel_rxcost(r.b, 0), 80);

	/* down: the link is bad at Babel's next missed hello, at once */
	t += 60 * MP_NSEC_PER_SEC;
	r.t[1].state = MC_ST_DOWN;
	assert_int_equal(step(&r, t), 1);
	assert_true(file_has(&r, "interface \"wg1.3_v4\" { type wired; rxcost 80; limit 16;"));
	assert_int_equal(mc_bird_tunnel_rxcost(r.b, 1), 0);
	assert_int_equal(step(&r, t + MS(100)), 0);
	/* up again: back after the dwell time */
	r.t[1].state = MC_ST_UP;
	assert_int_equal(step(&r, t + MS(1000)), 0);
	assert_int_equal(step(&r, t + MS(5999)), 0);
	assert_int_equal(step(&r, t + MS(6000)), 1);
	assert_true(file_has(&r, "interface \"wg1.3_v4\" { type wired; rxcost 80;"));
	rig_down(&r);
}

static void test_step_refused(void **state)
{
	struct rig r;
	char msg[128];
	uint64_t t = 1000 * MP_NSEC_PER_SEC;

	(void)state;
	rig_up(&r);
	r.f.reply = "8002 bird.conf:9:1 syntax error\n";
	assert_int_equal(mc_bird_step(r.b, &r.s, t, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "syntax error"));
	assert_int_equal(mc_bird_counters(r.b)->errors, 1);
	/* retried a second later, not before */
	assert_int_equal(step(&r, t + MS(500)), 0);
	r.f.reply = "0003 Reconfigured\n";
	assert_int_equal(step(&r, t + MS(1000)), 1);
	assert_int_equal(mc_bird_counters(r.b)->reloads, 1);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rxcost_units),
		cmocka_unit_test(test_in_cost),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_step_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
