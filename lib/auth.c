/* SPDX-License-Identifier: MIT */
/*
 * Pre-shared keys, HMAC-SHA-256, nonces and the replay window (auth.h).
 * All cryptography is libsodium's; this file only checks files, formats and
 * counters, and wipes every copy of key material it makes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp.h"
#include "auth.h"

enum {
	KEY_B64_CHARS = 44,		/* 32 bytes in base64 with its one '=' */
	KEY_HEX_CHARS = 64,
	KEYFILE_MAX = KEY_HEX_CHARS + 2,	/* longest valid file: hex + "\r\n" */
	REPLAY_BLOCKS = MP_REPLAY_BITS / 64,
};

static atomic_bool sodium_ready;

/* sodium_init() takes a lock on every call; after the first success one
 * atomic load is all the per-packet paths pay. Racing first callers are
 * fine: sodium_init() is thread-safe and idempotent. */
static int sodium_once(void)
{
	if (atomic_load_explicit(&sodium_ready, memory_order_acquire))
		return 0;
	if (sodium_init() < 0)
		return -EIO;
	atomic_store_explicit(&sodium_ready, true, memory_order_release);
	return 0;
}

int mp_auth_key_set(struct mp_auth_key *ret, const void *key, size_t len)
{
	struct mp_auth_key k;
	int r;

	if (!ret || !key || !len)
		return -EINVAL;
	r = sodium_once();
	if (r < 0)
		return r;
	crypto_auth_hmacsha256_init(&k.st, key, len);
	k.set = true;
	*ret = k;
	sodium_memzero(&k, sizeof(k));
	return 0;
}

static bool b64_digit(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static bool hex_digit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_of(const char *buf, size_t len, bool (*ok)(unsigned char))
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!ok((unsigned char)buf[i]))
			return false;
	return true;
}

int mp_auth_key_parse(const char *buf, size_t len, struct mp_auth_key *ret)
{
	uint8_t key[MP_AUTH_KEY_BYTES];
	const char *end = NULL;
	size_t bin_len = 0;
	int r = -EINVAL;

	if (!buf || !ret)
		return -EINVAL;
	if (len && buf[len - 1] == '\n') {
		len--;
		if (len && buf[len - 1] == '\r')
			len--;
	}
	/* The alphabet is checked here: libsodium 1.0.18 (Debian 12) decodes
	 * some bytes >= 0x80 as base64 digits (found by fuzz_keyfile). It
	 * still rejects non-canonical base64 (stray bits before the '='); end
	 * and bin_len catch a decode that stopped short. */
	if (len == KEY_B64_CHARS) {
		if (!all_of(buf, len - 1, b64_digit) || buf[len - 1] != '=' ||
		    sodium_base642bin(key, sizeof(key), buf, len, NULL, &bin_len, &end,
				      sodium_base64_VARIANT_ORIGINAL) != 0)
			goto out;
	} else if (len == KEY_HEX_CHARS) {
		if (!all_of(buf, len, hex_digit) ||
		    sodium_hex2bin(key, sizeof(key), buf, len, NULL, &bin_len, &end) != 0)
			goto out;
	} else {
		goto out;
	}
	if (bin_len != sizeof(key) || end != buf + len)
		goto out;
	r = mp_auth_key_set(ret, key, sizeof(key));
out:
	sodium_memzero(key, sizeof(key));
	return r;
}

int mp_auth_key_load(const char *path, struct mp_auth_key *ret)
{
	char buf[KEYFILE_MAX + 1];
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd, r;

	if (!path || !ret)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO in the key's place must not hang us before
	 * fstat() turns it away. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		goto out;
	}
	/* One byte more than the longest valid file tells "too long" apart. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = len > KEYFILE_MAX ? -EINVAL : mp_auth_key_parse(buf, len, ret);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

void mp_auth_key_done(struct mp_auth_key *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}

int mp_auth_hmac(const struct mp_auth_key *k, const void *data, size_t len,
		 uint8_t out[MP_AUTH_MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;
	int r;

	if (!k || !k->set || !out || (!data && len))
		return -EINVAL;
	r = sodium_once();
	if (r < 0)
		return r;
	st = k->st;
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int mp_auth_verify_trunc(const struct mp_auth_key *k, const void *data, size_t len,
			 const uint8_t *mac, size_t mac_len)
{
	uint8_t want[MP_AUTH_MAC_BYTES];
	int r;

	if (!mac || mac_len < MP_AUTH_MAC_MIN_BYTES || mac_len > MP_AUTH_MAC_BYTES)
		return -EINVAL;
	r = mp_auth_hmac(k, data, len, want);
	if (r == 0 && sodium_memcmp(want, mac, mac_len) != 0)
		r = -EBADMSG;
	sodium_memzero(want, sizeof(want));
	return r;
}

int mp_auth_verify(const struct mp_auth_key *k, const void *data, size_t len,
		   const uint8_t mac[MP_AUTH_MAC_BYTES])
{
	return mp_auth_verify_trunc(k, data, len, mac, MP_AUTH_MAC_BYTES);
}

int mp_auth_nonce(void *buf, size_t len)
{
	int r;

	if (!len)
		return 0;
	if (!buf)
		return -EINVAL;
	r = sodium_once();
	if (r < 0)
		return r;
	randombytes_buf(buf, len);
	return 0;
}

void mp_replay_init(struct mp_replay *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int mp_replay_check(const struct mp_replay *r, uint64_t counter)
{
	if (!r)
		return -EINVAL;
	if (!r->started || counter > r->top)
		return 0;
	if (r->top - counter > MP_REPLAY_WINDOW)
		return -ESTALE;
	if (r->bits[(counter / 64) % REPLAY_BLOCKS] & (1ULL << (counter % 64)))
		return -EALREADY;
	return 0;
}

int mp_replay_check_and_update(struct mp_replay *r, uint64_t counter)
{
	uint64_t cur, n, i;
	int ret;

	ret = mp_replay_check(r, counter);
	if (ret < 0)
		return ret;
	if (!r->started) {
		memset(r->bits, 0, sizeof(r->bits));
		r->top = counter;
		r->started = true;
	} else if (counter > r->top) {
		/* Blocks the top moves into held counters a whole ring ago:
		 * clear them (all of them after a jump of a ring or more).
		 * The window stops one block short of the ring, so the
		 * block being refilled is never one still judged. */
		cur = r->top / 64;
		n = MP_MIN(counter / 64 - cur, (uint64_t)REPLAY_BLOCKS);
		for (i = 1; i <= n; i++)
			r->bits[(cur + i) % REPLAY_BLOCKS] = 0;
		r->top = counter;
	}
	r->bits[(counter / 64) % REPLAY_BLOCKS] |= 1ULL << (counter % 64);
	return 0;
}
