/* SPDX-License-Identifier: MIT */
/*
 * mtufind: the state files that keep an interface's original MTU on disk
 * while a sweep (sweep.c) or a peer session (server.c) has changed it, so
 * that `--restore`, or the next run, can put it back after a SIGKILL. One
 * line, "IFNAME MTU\n", replaced whole (lib/file.c): never half a file.
 * Prints nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mtufind.h"
#include "nl.h"

enum { LINE_MAX_LEN = 64 };

/* The one line of a state file; the parser accepts exactly what this
 * writes. Returns its length, or -EINVAL. */
static int state_format(char line[LINE_MAX_LEN], const char *ifname, unsigned mtu)
{
	int n = snprintf(line, LINE_MAX_LEN, "%s %u\n", ifname, mtu);

	return n < 0 || n >= LINE_MAX_LEN ? -EINVAL : n;
}

int mf_state_write(const char *path, const char *ifname, unsigned mtu)
{
	char line[LINE_MAX_LEN];
	int n;

	if (!strncmp(path, MF_STATE_DIR "/", sizeof(MF_STATE_DIR)))
		mkdir(MF_STATE_DIR, 0755);
	n = state_format(line, ifname, mtu);
	if (n < 0)
		return n;
	return mp_file_replace(path, line, (size_t)n, 0644);
}

/* A name the kernel takes for an interface (dev_valid_name): 1 to 15
 * octets, not "." or "..", no '/', ':', blank or control character. */
static bool valid_ifname(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= IF_NAMESIZE || (len <= 2 && !strncmp(s, "..", len)))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

int mf_state_parse(const char *buf, size_t len, char name[IF_NAMESIZE], unsigned *ret_mtu)
{
	const char *sp = memchr(buf, ' ', len);
	size_t nlen = sp ? (size_t)(sp - buf) : 0, i, digits;
	unsigned long mtu = 0;

	/* "IFNAME MTU\n": one space, 1 to 5 digits without a leading zero,
	 * a newline, nothing after it */
	if (!sp || !valid_ifname(buf, nlen) || len < nlen + 3 || buf[len - 1] != '\n')
		return -EBADMSG;
	digits = len - nlen - 2;
	if (digits > 5 || buf[nlen + 1] == '0')
		return -EBADMSG;
	for (i = nlen + 1; i < len - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
		mtu = mtu * 10 + (unsigned long)(buf[i] - '0');
	}
	if (mtu < MF_IPV4_MIN_MTU || mtu > 65535)
		return -EBADMSG;
	memcpy(name, buf, nlen);
	name[nlen] = '\0';
	*ret_mtu = (unsigned)mtu;
	return 0;
}

int mf_state_lock(const char *path, int *ret_fd)
{
	char lock[PATH_MAX];
	int fd, r = 0;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock))
		return -ENAMETOOLONG;
	if (!strncmp(path, MF_STATE_DIR "/", sizeof(MF_STATE_DIR)))
		mkdir(MF_STATE_DIR, 0755);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* never removed: unlinking a lock file races with its next taker */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

const char *mf_state_strerror(int r)
{
	switch (r) {
	case -EBUSY:
		return "in use by another mtufind running for the interface (nothing changed)";
	case -EBADMSG:
		return "corrupt: not one line 'IFNAME MTU' (nothing changed; fix or remove it)";
	case -EEXIST:
		return "names another interface (nothing changed)";
	default:
		return strerror(-r);
	}
}

/* The interface and MTU a state file names. Returns 0, or -errno
 * (-ENOENT: no file; -EBADMSG: not one line "IFNAME MTU"). */
static int state_read(const char *path, char name[IF_NAMESIZE], unsigned *ret_mtu)
{
	char line[LINE_MAX_LEN + 1];
	size_t n;
	FILE *f;
	int r;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(line, 1, sizeof(line), f);
	r = ferror(f) ? -EIO : n > LINE_MAX_LEN ? -EBADMSG : mf_state_parse(line, n, name, ret_mtu);
	fclose(f);
	return r;
}

/* Set the MTU the file names on its interface, then remove the file. */
static int state_apply(const char *path, const char *name, unsigned mtu)
{
	struct mp_nl *nl = NULL;
	int r;

	r = mp_nl_new(&nl);
	if (r == 0)
		r = mp_nl_link_set_mtu(nl, 0, name, mtu);
	mp_nl_free(nl);
	if (r == 0 && unlink(path) != 0)
		r = -errno;
	return r;
}

int mf_state_restore(const char *path, unsigned *ret_mtu, char *ifname, size_t len)
{
	char name[IF_NAMESIZE];
	unsigned mtu;
	int r;

	r = state_read(path, name, &mtu);
	if (r == 0)
		r = state_apply(path, name, mtu);
	if (r == 0) {
		*ret_mtu = mtu;
		snprintf(ifname, len, "%s", name);
	}
	return r;
}

int mf_state_recover(const char *path, const char *ifname, unsigned *ret_mtu)
{
	char name[IF_NAMESIZE];
	unsigned mtu;
	int r;

	r = state_read(path, name, &mtu);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* a file of another interface is not ours to apply (--state given) */
	if (strcmp(name, ifname))
		return -EEXIST;
	r = state_apply(path, name, mtu);
	if (r < 0)
		return r;
	*ret_mtu = mtu;
	return 1;
}
