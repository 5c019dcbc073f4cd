/* SPDX-License-Identifier: MIT */
/*
 * mtufind: the state files that keep an interface's original MTU on disk
 * while a sweep (sweep.c) or a peer session (server.c) has changed it, so
 * that `--restore`, or the next run, can put it back after a SIGKILL. One
 * line, "IFNAME MTU\n", replaced whole (lib/file.c): never half a file.
 * Prints nothing.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mtufind.h"
#include "nl.h"

enum { LINE_MAX_LEN = 64 };

int mf_state_write(const char *path, const char *ifname, unsigned mtu)
{
	char line[LINE_MAX_LEN];
	int n;

	if (!strncmp(path, MF_STATE_DIR "/", sizeof(MF_STATE_DIR)))
		mkdir(MF_STATE_DIR, 0755);
	n = snprintf(line, sizeof(line), "%s %u\n", ifname, mtu);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return mp_file_replace(path, line, (size_t)n, 0644);
}

/* The interface and MTU a state file names. Returns 0, or -errno
 * (-ENOENT: no file; -EBADMSG: not one line "IFNAME MTU"). */
static int state_read(const char *path, char name[IF_NAMESIZE], unsigned *ret_mtu)
{
	char line[LINE_MAX_LEN], n[IF_NAMESIZE + 1];
	unsigned mtu;
	FILE *f;
	int r;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	r = fgets(line, sizeof(line), f) && sscanf(line, "%16s %u", n, &mtu) == 2 &&
	    strlen(n) < IF_NAMESIZE && mtu >= MF_IPV4_MIN_MTU && mtu <= 65535 ? 0 : -EBADMSG;
	fclose(f);
	if (r == 0) {
		memcpy(name, n, IF_NAMESIZE);
		*ret_mtu = mtu;
	}
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
