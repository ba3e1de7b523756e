/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * health.h - whether klogd's drain keeps up, as one state with its reason:
 * set by the drain loop (main.c, drain.c), read by the status file, the
 * metrics endpoint, the stats line and sd_notify STATUS=.
 */
#ifndef KLOGD_HEALTH_H
#define KLOGD_HEALTH_H

#include <stdint.h>

enum klogd_health_state {
	KLOGD_HEALTH_OK = 0,
	KLOGD_HEALTH_NOSPACE,    /* the disk is full: records wait in the kernel */
	KLOGD_HEALTH_STORE_WAIT, /* the stream cannot take records: they wait in the kernel */
	KLOGD_HEALTH_STOPPING,   /* a signal came: detaching and draining */
};

struct klogd_health {
	enum klogd_health_state state;
	uint64_t since_ns; /* CLOCK_MONOTONIC when state was entered */
	char why[160];     /* one line for the state; "" when OK */
};

#endif
