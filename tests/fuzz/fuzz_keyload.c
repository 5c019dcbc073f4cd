/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for key-file loading in lib/auth.c and lib/out_diag.c
 * beyond the parser (fuzz_keyfile): mp_auth_key_load() on a real file —
 * open, fstat, kind, mode, bounded read — and mp_opt_key(), the message a
 * tool prints for -k FILE.
 *
 * Input: u16 mode (little endian, & 07777), u8 kind (% 6: regular file,
 * symlink to a regular file, directory, FIFO, dangling symlink, nothing),
 * u8 sparse (a regular file is extended by 2^(sparse % 32) - 1 bytes of
 * zeros past its contents when sparse >= 32: "sizes" up to 2 GiB cost
 * nothing), then the contents. Files live in a private directory under
 * $TMPDIR (default /tmp), removed at exit.
 *
 * Oracle, from auth.h's contract: nothing there -> -ENOENT; a directory
 * -> -EISDIR; a FIFO -> -EINVAL; a regular file (symlinks followed) with any
 * group/other bit -> -EPERM; else over 66 bytes -> -EINVAL; else exactly
 * what mp_auth_key_parse() makes of the contents, the same key (compared by
 * HMAC). As root the owner's bits cannot refuse a read; as another user,
 * -EACCES is what the owner's bits decide. mp_opt_key() returns the same and
 * prints nothing on success, else exactly one line naming the file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.c"
#include "out_diag.c"

enum { KIND_FILE, KIND_LINK, KIND_DIR, KIND_FIFO, KIND_DANGLING, KIND_NONE, KIND_COUNT };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], key_path[4200], target_path[4200];
static int err_fd = -1;	/* a memfd standing in for stderr around mp_opt_key() */

static void clean(void)
{
	unlink(key_path);
	rmdir(key_path);
	unlink(target_path);
}

static void clean_all(void)
{
	clean();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz_keyload.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(key_path, sizeof(key_path), "%s/key", dir);
	snprintf(target_path, sizeof(target_path), "%s/target", dir);
	err_fd = memfd_create("fuzz_keyload_stderr", MFD_CLOEXEC);
	if (err_fd < 0)
		abort();
	atexit(clean_all);
	return 0;
}

static void make_file(const char *path, mode_t mode, const uint8_t *data, size_t size,
		      unsigned sparse)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	if (sparse >= 32 && ftruncate(fd, (off_t)(size + (1ULL << (sparse % 32)) - 1)) < 0)
		abort();
	if (fchmod(fd, mode) < 0 || close(fd) < 0)
		abort();
}

/* The file's bytes, when it is small: data and then zeros up to total. */
static const char *contents(const uint8_t *data, size_t size, size_t total)
{
	static char buf[KEYFILE_MAX];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, data, size);
	return total > size ? buf : (const char *)data;
}

/* What the contract says mp_auth_key_load() returns (key compared apart). */
static int expected(unsigned kind, mode_t mode, const uint8_t *data, size_t size,
		    size_t total)
{
	struct mp_auth_key k;
	int r;

	if (kind == KIND_NONE || kind == KIND_DANGLING)
		return -ENOENT;
	if (geteuid() != 0 && !(mode & S_IRUSR))
		return -EACCES;
	if (kind == KIND_DIR)
		return -EISDIR;
	if (kind == KIND_FIFO)
		return -EINVAL;
	if (mode & (S_IRWXG | S_IRWXO))
		return -EPERM;
	if (total > KEYFILE_MAX)
		return -EINVAL;
	r = mp_auth_key_parse(contents(data, size, total), total, &k);
	mp_auth_key_done(&k);
	return r;
}

static bool same_key(const struct mp_auth_key *a, const char *file, size_t size)
{
	uint8_t ma[32], mb[32];
	struct mp_auth_key b;
	bool same;

	if (mp_auth_key_parse(file, size, &b) != 0 ||
	    mp_auth_hmac(a, "fuzz", 4, ma) != 0 || mp_auth_hmac(&b, "fuzz", 4, mb) != 0)
		return false;
	same = !memcmp(ma, mb, sizeof(ma));
	mp_auth_key_done(&b);
	return same;
}

/* mp_opt_key() with stderr caught: its result and what it printed. */
static int opt_key(struct mp_auth_key *k, char *msg, size_t msg_size, ssize_t *msg_len)
{
	int saved = dup(STDERR_FILENO), r;

	if (saved < 0 || ftruncate(err_fd, 0) < 0 || lseek(err_fd, 0, SEEK_SET) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		abort();
	r = mp_opt_key(key_path, k);
	fflush(stderr);
	if (dup2(saved, STDERR_FILENO) < 0 || close(saved) < 0)
		abort();
	*msg_len = pread(err_fd, msg, msg_size - 1, 0);
	if (*msg_len < 0)
		abort();
	msg[*msg_len] = 0;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_auth_key k = { .set = false };
	unsigned kind, sparse;
	size_t total;
	char msg[8192];
	ssize_t msg_len;
	mode_t mode;
	int want, r;

	if (size < 4)
		return 0;
	mode = (mode_t)((data[0] | data[1] << 8) & 07777);
	kind = data[2] % KIND_COUNT;
	sparse = data[3];
	data += 4;
	size -= 4;

	clean();
	switch (kind) {
	case KIND_FILE:
		make_file(key_path, mode, data, size, sparse);
		break;
	case KIND_LINK:
		make_file(target_path, mode, data, size, sparse);
		if (symlink(target_path, key_path) < 0)
			abort();
		break;
	case KIND_DIR:
		if (mkdir(key_path, 0700) < 0 || chmod(key_path, mode) < 0)
			abort();
		break;
	case KIND_FIFO:
		if (mkfifo(key_path, 0600) < 0 || chmod(key_path, mode) < 0)
			abort();
		break;
	case KIND_DANGLING:
		if (symlink(target_path, key_path) < 0)
			abort();
		break;
	}

	total = size + (sparse >= 32 ? (1ULL << (sparse % 32)) - 1 : 0);
	want = expected(kind, mode, data, size, total);
	r = mp_auth_key_load(key_path, &k);
	/* a key only comes from a file of at most KEYFILE_MAX bytes */
	if (r != want || (r == 0 && (!k.set || !same_key(&k, contents(data, size, total), total))))
		abort();
	mp_auth_key_done(&k);

	r = opt_key(&k, msg, sizeof(msg), &msg_len);
	if (r != want)
		abort();
	if (r == 0 ? msg_len != 0 || !same_key(&k, contents(data, size, total), total)
		   : msg_len < 2 || msg[msg_len - 1] != '\n' ||
			     memchr(msg, '\n', (size_t)msg_len - 1) || !strstr(msg, key_path))
		abort();
	mp_auth_key_done(&k);
	return 0;
}
