// SPDX-License-Identifier: GPL-2.0-only
/*
 * strerror.c - klog_strerror(): the words for what libklog's client and
 * server opens return, where strerror() would mislead: a FULL answer is
 * -ENOSPC, yet no disk is full on this side; a name that did not resolve
 * is -ENXIO, which strerror() calls "No such device or address".
 */
#include <errno.h>
#include <string.h>

#include <klog/klog.h>

#include "udp.h"

const char *klog_strerror(int err)
{
	switch (err) {
	case -ENOSPC: return "log full (klogd behind or stopped)";
	case -ENXIO: return klog_udp_resolve_error();
	case -EBUSY: return "server busy (BUSY)";
	case -EAGAIN: return "server not ready (NOTREADY)";
	case -ETIMEDOUT: return "no answer from the server";
	case -EEXIST: return "request id used before for another record (CONFLICT)";
	case -ESTALE: return "request id below the server's dedup window (STALE)";
	case -EMSGSIZE: return "record larger than the server takes (TOOBIG)";
	case -EILSEQ:
		return "the server's check of the bytes failed (CORRUPT): damaged on the way";
	default: return strerror(err < 0 ? -err : err);
	}
}
