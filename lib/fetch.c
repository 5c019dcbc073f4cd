/* SPDX-License-Identifier: MIT */
/*
 * Documents from files and URLs. URLs go through libcurl (DESIGN.md: never a
 * hand-written HTTP client): http and https only, no redirects, TLS peer and
 * host name verified, no proxy, one deadline for the whole transfer and another for
 * the connection, and the size cap enforced in the write callback, so that a
 * slow or hostile server costs at most the timeout and max_bytes of memory.
 *
 * libcurl is opened (dlopen) at the first URL, not linked: with its thirty
 * libraries (TLS, Kerberos, LDAP, ...) every perfc run started 17 ms later
 * and 6 MiB larger, for the few that fetch.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetch.h"
#include "mp.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or later is needed (CURLOPT_PROTOCOLS_STR)"
#endif

enum {
	BUF_FIRST = 16384,	/* first allocation of a document buffer (bytes) */
	FILE_CHUNK = 65536,	/* read() size for files (bytes) */
};

struct buf {
	char *p;		/* NUL-terminated after len bytes, once anything was added */
	size_t len, cap;	/* bytes held, bytes allocated */
	uint64_t max;		/* cap on len */
	int r;			/* the write callback's error, 0 = none */
};

#define CURL_SONAME "libcurl.so.4"

/* libcurl's functions, from dlopen (CURL_SONAME) */
static struct curl_fns {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode e);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} cu;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code = CURLE_FAILED_INIT;
static char curl_load_err[256];		/* why libcurl could not be opened */

/* Room for n more bytes and the NUL; -EFBIG past the cap. */
static int buf_reserve(struct buf *b, size_t n)
{
	if (n > b->max - b->len)
		return -EFBIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : BUF_FIRST;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
		b->p[b->len] = '\0';
	}
	return 0;
}

static int buf_add(struct buf *b, const char *data, size_t n)
{
	int r = buf_reserve(b, n);

	if (r < 0)
		return r;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Reads straight into the buffer: a regular file's size is reserved at
 * once (one allocation, no copy), anything else grows as it comes. */
static int read_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		r = buf_reserve(b, (size_t)MP_MIN((uint64_t)st.st_size, b->max));
	while (r == 0) {
		ssize_t n;
		char probe;

		if (b->len == b->max) {
			/* at the cap: only the end of the file may follow */
			n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			r = n < 0 ? -errno : n > 0 ? -EFBIG : 0;
			break;
		}
		if (b->len + 1 >= b->cap)
			r = buf_reserve(b, (size_t)MP_MIN((uint64_t)FILE_CHUNK, b->max - b->len));
		if (r < 0)
			break;
		n = read(fd, b->p + b->len, MP_MIN(b->cap - b->len - 1, b->max - b->len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->p[b->len] = '\0';
	}
	close(fd);
	return r;
}

/* libcurl's write callback: a return short of the bytes given aborts the
 * transfer (CURLE_WRITE_ERROR), here as soon as the cap is passed. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	b->r = buf_add(b, data, size * nmemb);
	return b->r < 0 ? 0 : size * nmemb;
}

/* Opens libcurl and finds its functions; 0, or -1 with curl_load_err set. */
static int curl_load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} fns[] = {
#define FN(f) { "curl_" #f, offsetof(struct curl_fns, f) }
		FN(global_init), FN(easy_init), FN(easy_setopt), FN(easy_perform),
		FN(easy_getinfo), FN(easy_strerror), FN(easy_cleanup), FN(slist_append),
		FN(slist_free_all),
#undef FN
	};
	void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		snprintf(curl_load_err, sizeof(curl_load_err), "URLs need libcurl: %s", dlerror());
		return -1;
	}
	for (i = 0; i < MP_ARRAY_SIZE(fns); i++) {
		void *f = dlsym(h, fns[i].name);

		if (!f) {
			snprintf(curl_load_err, sizeof(curl_load_err), "%s has no %s",
				 CURL_SONAME, fns[i].name);
			dlclose(h);
			return -1;
		}
		memcpy((char *)&cu + fns[i].off, &f, sizeof(f));
	}
	return 0;
}

/* curl_global_init() is not safe to race: once per process. */
static void curl_init(void)
{
	if (curl_load() == 0)
		curl_init_code = cu.global_init(CURL_GLOBAL_DEFAULT);
}

static long ns_to_ms(uint64_t ns)
{
	uint64_t ms = (ns + MP_NSEC_PER_MSEC - 1) / MP_NSEC_PER_MSEC;

	return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

static int set_opts(CURL *c, const char *url, const struct mp_fetch_opts *o, struct buf *b,
		    struct curl_slist *hdrs, char *errbuf)
{
	CURLcode e = CURLE_OK;

#define SET(opt, val) do { if (e == CURLE_OK) e = cu.easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	/* straight to the node: no http_proxy from the environment */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_FAILONERROR, 1L);	/* >= 400: stop at the header, no body read */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert) {
		/* the CAs of the file, and no others */
		SET(CURLOPT_CAINFO, o->cacert);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (o->timeout_ns)
		SET(CURLOPT_TIMEOUT_MS, ns_to_ms(o->timeout_ns));
	if (o->connect_timeout_ns)
		SET(CURLOPT_CONNECTTIMEOUT_MS, ns_to_ms(o->connect_timeout_ns));
	else if (o->timeout_ns)
		SET(CURLOPT_CONNECTTIMEOUT_MS, ns_to_ms(o->timeout_ns));
	/* a declared length over the cap fails before any byte is read */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MP_MIN(o->max_bytes, (uint64_t)INT64_MAX));
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, b);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (o->user_agent)
		SET(CURLOPT_USERAGENT, o->user_agent);
#undef SET
	if (e == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return e == CURLE_OK ? 0 : -EINVAL;
}

/* curl's errors told apart by errno; all others are -EPROTO, curl's words. */
static const struct {
	CURLcode code;
	int err;
} curl_errnos[] = {
	{ CURLE_OPERATION_TIMEDOUT, ETIMEDOUT },
	{ CURLE_COULDNT_RESOLVE_HOST, EHOSTUNREACH },
	{ CURLE_PEER_FAILED_VERIFICATION, EKEYREJECTED },
	{ CURLE_SSL_CACERT_BADFILE, EKEYREJECTED },
};

/* A failed transfer as -errno and one line in err. */
static int curl_error(CURL *c, CURLcode e, const struct buf *b, const char *errbuf, char *err,
		      size_t errlen)
{
	const char *why = errbuf[0] ? errbuf : cu.easy_strerror(e);
	long status = 0, os_errno = 0;
	size_t i;

	switch (e) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		/* our callback stopped it: out of memory, or the cap passed */
		if (b->r == -ENOMEM)
			return -ENOMEM;
		snprintf(err, errlen, "larger than %llu bytes", (unsigned long long)b->max);
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_HTTP_RETURNED_ERROR:
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		snprintf(err, errlen, "HTTP status %ld", status);
		return -EPROTO;
	case CURLE_COULDNT_CONNECT:
		/* curl says "Couldn't connect to server": name the reason */
		cu.easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno <= 0)
			os_errno = ECONNREFUSED;
		snprintf(err, errlen, "%s (%s)", why, strerror((int)os_errno));
		return -(int)os_errno;
	case CURLE_URL_MALFORMAT:
		snprintf(err, errlen, "bad URL: %s", why);
		return -EINVAL;
	default:
		snprintf(err, errlen, "%s", why);
		for (i = 0; i < MP_ARRAY_SIZE(curl_errnos); i++)
			if (curl_errnos[i].code == e)
				return -curl_errnos[i].err;
		return -EPROTO;
	}
}

/* err quotes what a server sent (a Location, curl's words about a reply):
 * no control character of it reaches a terminal. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Runs the transfer set up on c: 0, or -errno with err set. */
static int fetch_perform(CURL *c, const struct buf *b, const char *errbuf, char *err,
			 size_t errlen)
{
	CURLcode e = cu.easy_perform(c);
	long status = 0;
	char *to = NULL;
	int r = -EPROTO;

	if (e != CURLE_OK) {
		r = curl_error(c, e, b, errbuf, err, errlen);
		goto out;
	}
	/* 1xx and 3xx: FAILONERROR only stops >= 400 */
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299)
		return 0;
	cu.easy_getinfo(c, CURLINFO_REDIRECT_URL, &to);
	snprintf(err, errlen, "HTTP status %ld%s%s%s", status, to ? " (redirect to " : "",
		 to ? to : "", to ? " not followed)" : "");
out:
	printable(err);
	return r;
}

static int fetch_url(const char *url, const struct mp_fetch_opts *o, struct buf *b, char *err,
		     size_t errlen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	CURL *c = NULL;
	int r;

	pthread_once(&curl_once, curl_init);
	if (curl_load_err[0]) {
		snprintf(err, errlen, "%s", curl_load_err);
		return -ENOPKG;
	}
	if (curl_init_code != CURLE_OK)
		return -ENOMEM;
	c = cu.easy_init();
	hdrs = cu.slist_append(NULL, "Accept: application/json");
	r = c && hdrs ? set_opts(c, url, o, b, hdrs, errbuf) : -ENOMEM;
	if (r == 0)
		r = fetch_perform(c, b, errbuf, err, errlen);
	cu.slist_free_all(hdrs);
	cu.easy_cleanup(c);
	return r;
}

bool mp_fetch_is_url(const char *src)
{
	return !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
}

int mp_fetch(const char *src, const struct mp_fetch_opts *opts, char **ret, size_t *ret_len,
	     char *err, size_t errlen)
{
	struct buf b = { .max = opts->max_bytes };
	int r;

	err[0] = '\0';
	if (mp_fetch_is_url(src))
		r = fetch_url(src, opts, &b, err, errlen);
	else
		r = read_file(src, &b);
	if (r == 0 && !b.p)
		r = buf_add(&b, "", 0);
	if (r == -EFBIG && !err[0])
		snprintf(err, errlen, "larger than %llu bytes", (unsigned long long)b.max);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-r));
		free(b.p);
		return r;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}
