/* SPDX-License-Identifier: MIT */
/*
 * A client of meshctl's control socket (a UNIX stream socket; meshctl's
 * tools/meshctl/ctl.c serves it): one request per connection,
 * "links|routes|paths|status|metrics FORMAT\n", answered with the rendered
 * output or one line "error: ...". `meshctl show` and `pathping --via`
 * ask through it.
 */
#ifndef MP_CTL_H
#define MP_CTL_H

#include <stddef.h>
#include <stdint.h>

#define MP_CTL_PATH "/run/meshperf/meshctl.sock"	/* meshctl's default */
#define MP_CTL_MAX (16U << 20)				/* largest answer taken */

/*
 * Sends req (without its newline) to the daemon at path and reads the whole
 * answer within timeout_ns (0: 5 s) into *ret (NUL-terminated after
 * *ret_len bytes; free() it). req is at most 254 bytes. Returns 0; -EPROTO when the daemon answered
 * "error: ...", its words in *ret; -EFBIG past MP_CTL_MAX; -ETIMEDOUT; or
 * -EINVAL (req too long); the -errno of socket(), connect() (-ENOENT, -ECONNREFUSED: no daemon
 * there), write() and read().
 */
int mp_ctl_ask(const char *path, const char *req, uint64_t timeout_ns, char **ret,
	       size_t *ret_len);

#endif
