/* SPDX-License-Identifier: MIT */
/*
 * rdns: reverse DNS names from a resolver thread (rdns.h). The entries
 * never move and a looked-up name never changes, so a name handed out stays
 * valid without the lock. The thread and the owner each hold a reference;
 * the last one to let go frees the object, so mp_rdns_free never joins a
 * thread that may be waiting on a DNS server.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "mp.h"
#include "rdns.h"

enum entry_state { ENTRY_PENDING, ENTRY_DONE };

struct entry {
	struct sockaddr_storage addr;
	enum entry_state state;
	char *name;			/* NULL: none */
};

struct mp_rdns {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* an entry was added, or looked up; stop */
	struct entry e[MP_RDNS_MAX];
	size_t n;			/* entries used */
	size_t next;			/* the next entry to look up (FIFO) */
	bool stop;
	unsigned refs;			/* owner and thread */
};

static socklen_t sa_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static struct entry *find(struct mp_rdns *r, const struct sockaddr_storage *addr)
{
	for (size_t i = 0; i < r->n; i++)
		if (mp_addr_same(&r->e[i].addr, addr))
			return &r->e[i];
	return NULL;
}

/* Drops one reference with the lock held; frees on the last. */
static void unref_locked(struct mp_rdns *r)
{
	if (--r->refs) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < r->n; i++)
		free(r->e[i].name);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static char *lookup(const struct sockaddr_storage *addr)
{
	char host[NI_MAXHOST], *p;

	if (getnameinfo((const struct sockaddr *)addr, sa_len(addr), host, sizeof(host), NULL, 0,
			NI_NAMEREQD) != 0)
		return NULL;
	for (p = host; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return strdup(host);
}

static void *resolver(void *arg)
{
	struct mp_rdns *r = arg;
	struct sockaddr_storage addr;
	size_t i;
	char *name;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->next == r->n && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		i = r->next;
		addr = r->e[i].addr;
		pthread_mutex_unlock(&r->mu);
		name = lookup(&addr);
		pthread_mutex_lock(&r->mu);
		r->e[i].name = name;
		r->e[i].state = ENTRY_DONE;
		r->next++;
		pthread_cond_broadcast(&r->cv);
	}
	unref_locked(r);
	return NULL;
}

int mp_rdns_new(struct mp_rdns **ret)
{
	struct mp_rdns *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	sigset_t all, old;
	pthread_t th;
	int e;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	r->refs = 2;
	/* the thread takes no signal: SIGINT must interrupt the caller's poll */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&th, NULL, resolver, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return -e;
	}
	pthread_detach(th);
	*ret = r;
	return 0;
}

void mp_rdns_want(struct mp_rdns *r, const struct sockaddr_storage *addr)
{
	if (!r || !addr || (addr->ss_family != AF_INET && addr->ss_family != AF_INET6))
		return;
	pthread_mutex_lock(&r->mu);
	if (!find(r, addr) && r->n < MP_RDNS_MAX) {
		r->e[r->n] = (struct entry){ .addr = *addr, .state = ENTRY_PENDING };
		r->n++;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

const char *mp_rdns_name(struct mp_rdns *r, const struct sockaddr_storage *addr)
{
	const struct entry *x;
	const char *name = NULL;

	if (!r || !addr)
		return NULL;
	pthread_mutex_lock(&r->mu);
	x = find(r, addr);
	if (x && x->state == ENTRY_DONE)
		name = x->name;
	pthread_mutex_unlock(&r->mu);
	return name;
}

int mp_rdns_wait(struct mp_rdns *r, uint64_t timeout_ns)
{
	struct timespec ts;
	uint64_t until;
	int e = 0;

	if (!r)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = (uint64_t)ts.tv_sec * MP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec + timeout_ns;
	ts.tv_sec = (time_t)(until / MP_NSEC_PER_SEC);
	ts.tv_nsec = (long)(until % MP_NSEC_PER_SEC);
	pthread_mutex_lock(&r->mu);
	while (r->next < r->n && e == 0)
		e = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	e = r->next < r->n ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&r->mu);
	return e;
}

void mp_rdns_free(struct mp_rdns *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv);
	unref_locked(r);
}
