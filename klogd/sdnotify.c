// SPDX-License-Identifier: GPL-2.0-only
/* sdnotify.c - see sdnotify.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "sdnotify.h"

void klogd_sd_notify(const char *state, const char *fmt, ...)
{
	char status[256];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	/* A newline would end STATUS= and start a bogus assignment. */
	for (char *p = status; (p = strchr(p, '\n'));)
		*p = ' ';
	err = sd_notifyf(0, "%s%sSTATUS=%s", state ? state : "", state ? "\n" : "", status);
	if (err < 0)
		klogd_warn("telling systemd %s (NOTIFY_SOCKET): %s", state ? state : "the status",
			   strerror(-err));
}

void klogd_sd_health(const struct klogd_health *h, enum klogd_health_state *told,
		     const char *ok_status)
{
	if (h->state == *told)
		return;
	*told = h->state;
	klogd_sd_notify(NULL, "%s", h->state == KLOGD_HEALTH_OK || !*h->why ? ok_status : h->why);
}
