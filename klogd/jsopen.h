/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jsopen.h - finding the stream of a jetstream store (jetstream.h): adopted
 * if it has klogd's settings and is opts's log, created if missing (and
 * allowed), never changed, deleted or re-created.  Internal to klogd.
 */
#ifndef KLOGD_JSOPEN_H
#define KLOGD_JSOPEN_H

#include "jetstream.h"
#include "jstream.h"

/*
 * Find c's stream for opts: *info gets where it ends and its log id.
 * RETURN VALUE and err: as klogd_js_open.
 */
int js_find_stream(struct klog_js *c, const struct klogd_js_opts *o,
		   struct klogd_store_info *info, char *err, size_t errn);

#endif
