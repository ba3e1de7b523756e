/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - klogd --metrics ADDR:PORT: GET /metrics answers the status
 * figures and the drain's counters in Prometheus text exposition format
 * 0.0.4 (libmicrohttpd, its own polling thread).
 */
#ifndef KLOGD_METRICS_H
#define KLOGD_METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "logstatus.h"
#include "stats.h"

struct klogd_status;
struct klogd_metrics;

/*
 * --metrics's argument: IPV4:PORT or [IPV6]:PORT, port 1..65535, into sa
 * (NULL: only check it).
 * RETURN VALUE: 0; -EINVAL after a message that names the argument.
 */
int klogd_metrics_addr(const char *arg, struct sockaddr_storage *sa, socklen_t *len);

/* Listen on addr (klogd_metrics_addr's) and serve st's figures.  RETURN VALUE: 0 or -errno (logged). */
int klogd_metrics_start(struct klogd_metrics **m, const char *addr, struct klogd_status *st);
void klogd_metrics_stop(struct klogd_metrics *m); /* NULL: nothing */

/* Everything one scrape shows. */
struct klogd_metrics_view {
	const struct klog_status_kern *kern;  /* NULL: the maps could not be read */
	const struct klog_daemon_state *daemon;
	bool dir;                             /* a log directory: segments counted */
	uint64_t segments, segment_bytes;
	struct klogd_hist commit;
};

/* Write v as the exposition text to f.  RETURN VALUE: 0; -EIO if f failed. */
int klogd_metrics_format(FILE *f, const struct klogd_metrics_view *v);

#endif
