/* SPDX-License-Identifier: MIT */
/*
 * meshperf: pre-shared keys, HMAC-SHA-256 (libsodium), nonces and an
 * anti-replay window.
 *
 * A key file holds one 32-byte key, as 44 characters of base64 (what
 * `wg genkey` / `wg genpsk` print) or as 64 hex digits, optionally followed
 * by one newline ("\n" or "\r\n"), nothing else.
 */
#ifndef MP_AUTH_H
#define MP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

enum {
	MP_AUTH_KEY_BYTES = 32,		/* a key file's key */
	MP_AUTH_MAC_BYTES = 32,		/* HMAC-SHA-256 output */
	MP_AUTH_MAC_MIN_BYTES = 16,	/* shortest truncated MAC accepted (RFC 8762: 16) */
	MP_REPLAY_BITS = 1024,		/* bitmap size of struct mp_replay */
	MP_REPLAY_WINDOW = MP_REPLAY_BITS - 64,	/* counters this far below the highest
						 * one seen are still judged */
};

/*
 * A key, held as the keyed HMAC state (inner and outer pads already hashed:
 * two SHA-256 blocks saved on every MAC). It is secret like the key itself:
 * mp_auth_key_done() wipes it.
 */
struct mp_auth_key {
	crypto_auth_hmacsha256_state st;	/* keyed state, copied for each MAC */
	bool set;				/* st holds a key */
};

/* Anti-replay window (RFC 6479): a ring of MP_REPLAY_BITS bits below the
 * highest counter accepted. Zero it, or mp_replay_init(), before use. */
struct mp_replay {
	uint64_t top;				/* highest counter accepted */
	bool started;				/* top is valid */
	uint64_t bits[MP_REPLAY_BITS / 64];	/* bit (c % MP_REPLAY_BITS) set: c seen */
};

/*
 * Read a key file. The mode check uses fstat() on the opened file, so it
 * judges the file actually read, without a race. Symlinks are followed (so
 * that keys provisioned as links, e.g. Kubernetes secret volumes, work); the
 * check applies to the target. *ret set on success; wipe it with
 * mp_auth_key_done().
 * Returns 0, or -errno:
 *   -EPERM   the file grants any permission to group or others: the caller
 *            should say "key file X must not be readable by group or others
 *            (mode 0644); chmod 600 X" (stat() it for the mode);
 *   -EINVAL  not a regular file, or contents not one key as above;
 *   -EISDIR, -ENOENT, -EACCES, ... from open()/read().
 */
int mp_auth_key_load(const char *path, struct mp_auth_key *ret);

/*
 * For a tool's -k FILE (lib/out_diag.c): mp_auth_key_load(), and on error
 * one line on stderr naming the file and what to do ("key file K is
 * readable by group or others (mode 0644); chmod 600 K", "key file K: not
 * one key (...)", "key file K: No such file or directory"). Returns its
 * result. mp_opt_key_check() loads into a key of its own and wipes it: a
 * check before a run, for tools that load the key later.
 */
int mp_opt_key(const char *path, struct mp_auth_key *key);
int mp_opt_key_check(const char *path);

/* Parse key file contents: buf of len bytes (not NUL-terminated), format as
 * above. *ret set on success. Returns 0, or -EINVAL. */
int mp_auth_key_parse(const char *buf, size_t len, struct mp_auth_key *ret);

/* Use the len raw bytes at key (any length >= 1; longer than 64 bytes is
 * hashed first, as HMAC does). *ret set on success. Returns 0, or -EINVAL. */
int mp_auth_key_set(struct mp_auth_key *ret, const void *key, size_t len);

/* Wipe a key (sodium_memzero). Accepts NULL and an unset key. */
void mp_auth_key_done(struct mp_auth_key *k);

/* out = HMAC-SHA-256(k, data[0..len)). Returns 0, or -EINVAL (k unset), -EIO
 * (libsodium failed to initialise). */
int mp_auth_hmac(const struct mp_auth_key *k, const void *data, size_t len,
		 uint8_t out[MP_AUTH_MAC_BYTES]);

/* Check a full 32-byte MAC, in constant time.
 * Returns 0 if it matches, or -EBADMSG, -EINVAL, -EIO. */
int mp_auth_verify(const struct mp_auth_key *k, const void *data, size_t len,
		   const uint8_t mac[MP_AUTH_MAC_BYTES]);

/* Check a MAC truncated to its first mac_len bytes (MP_AUTH_MAC_MIN_BYTES to
 * MP_AUTH_MAC_BYTES; RFC 8762 authenticated mode sends 16), in constant time.
 * Returns 0 if it matches, or -EBADMSG, -EINVAL (bad mac_len), -EIO. */
int mp_auth_verify_trunc(const struct mp_auth_key *k, const void *data, size_t len,
			 const uint8_t *mac, size_t mac_len);

/* Fill buf with len unpredictable bytes (randombytes_buf).
 * Returns 0, or -EINVAL, -EIO. */
int mp_auth_nonce(void *buf, size_t len);

/* Reset a replay window: the next counter of any value is accepted. */
void mp_replay_init(struct mp_replay *r);

/*
 * Judge counter without recording it (e.g. before the MAC is checked).
 * Returns 0 if new, -EALREADY if already seen, -ESTALE if more than
 * MP_REPLAY_WINDOW below the highest counter accepted.
 */
int mp_replay_check(const struct mp_replay *r, uint64_t counter);

/*
 * Judge counter and, if new, record it and slide the window up to it. Call
 * it only for packets whose MAC verified, or a forger can move the window.
 * Returns 0 (accepted), -EALREADY (replayed) or -ESTALE (too old).
 */
int mp_replay_check_and_update(struct mp_replay *r, uint64_t counter);

#endif
