/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sdnotify.h - tell systemd how klogd is (sd_notify, for a Type=notify
 * unit): READY=1 once attached, STATUS= when the drain's health changes,
 * STOPPING=1 when a signal starts the stop.  Without NOTIFY_SOCKET (not
 * started by systemd) nothing is sent.
 */
#ifndef KLOGD_SDNOTIFY_H
#define KLOGD_SDNOTIFY_H

#include "health.h"

/* Send state ("READY=1", "STOPPING=1" or NULL) with STATUS= the formatted line. */
__attribute__((format(printf, 2, 3))) void klogd_sd_notify(const char *state, const char *fmt,
							    ...);

/*
 * STATUS= for h when its state differs from *told (which is then h's):
 * its why line, or ok_status once healthy again.
 */
void klogd_sd_health(const struct klogd_health *h, enum klogd_health_state *told,
		     const char *ok_status);

#endif
