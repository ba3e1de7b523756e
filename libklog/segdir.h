/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * segdir.h - a log directory's segment files, for the reader,
 * klog_verify() and klogd's recovery: the segments there are, and opening
 * one of their files.  Internal to klog; functions return 0 (or a
 * descriptor) or a negative errno value.
 */
#ifndef KLOG_SEGDIR_H
#define KLOG_SEGDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Open name in dirfd read-only, refusing anything but a regular file (a FIFO
 * would block a reader, a directory fails at the first read).  why (wn
 * bytes) says what is wrong on failure.
 * RETURN VALUE: the descriptor; -ENOENT if there is no such file (the
 * caller knows whether that is a hole or a file not created yet); -ENOLINK
 * if it is not a regular file or does not open (EACCES, EIO, ...); -EMFILE,
 * -ENFILE, -ENOMEM.
 */
int klog_open_regular(int dirfd, const char *name, char *why, size_t wn);

/*
 * The first LSNs of the segments in directory dirfd, sorted, into *firsts
 * (malloc'd, NULL when there are none): names klog_seg_parse_name() takes,
 * nothing else (indexes, NAME.tmp, klog.meta, klogd.lock).  With
 * unlink_tmp (klogd's recovery, the only writer), NAME.tmp files, segments
 * that were never born, are removed on the way.
 * RETURN VALUE: 0; -ENOMEM; -errno of reading the directory.
 */
int klog_seg_list(int dirfd, bool unlink_tmp, uint64_t **firsts, size_t *n);

#endif /* KLOG_SEGDIR_H */
