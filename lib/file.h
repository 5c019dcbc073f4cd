/* SPDX-License-Identifier: MIT */
/*
 * Files a tool writes for others to read, or for itself to find again after
 * a crash (state files, includes for another daemon): replaced whole, never
 * seen half written.
 */
#ifndef MP_FILE_H
#define MP_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with len bytes of data: written to a temporary file in the
 * same folder (mode), fsync()ed, renamed over path, the folder fsync()ed.
 * A reader sees the old content or the new one, and after a crash the new
 * one is on disk once this returned 0. Returns 0, or -errno (path is then
 * unchanged and no temporary file is left).
 */
int mp_file_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif
