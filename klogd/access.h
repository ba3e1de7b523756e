/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * access.h - klogd's side of the access maps: at start, klog_local gets the
 * --bind addresses (or the interface's, then followed through rtnetlink as
 * they come and go) and klog_allow the --allow prefixes (or ::/0, with a
 * warning).  The pinned maps outlive klogd; each start re-applies its
 * command line, replacing what klogctl allow changed meanwhile.
 */
#ifndef KLOGD_ACCESS_H
#define KLOGD_ACCESS_H

#include <stddef.h>

#include "kern.h"

struct klogd_access_cfg {
	const char *iface;
	const struct klog_addr *bind;     /* --bind, nbind of them; 0: follow the interface */
	size_t nbind;
	const struct klog_allow_key *allow; /* --allow, nallow of them; 0: every source */
	size_t nallow;
};

struct klogd_access;

/*
 * Fill the maps of k as cfg says, log the lists in force, and without
 * --bind start the thread that follows the interface's addresses.
 * RETURN VALUE: 0 or -errno (logged).
 */
int klogd_access_start(struct klogd_access **a, struct klog_kern *k,
		       const struct klogd_access_cfg *cfg);

/* Stop following (NULL is fine); the maps keep what they hold. */
void klogd_access_stop(struct klogd_access *a);

#endif
