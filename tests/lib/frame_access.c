// SPDX-License-Identifier: GPL-2.0-only
/* frame_access.c - frame_open_access(): the maps that let frame_default()'s requests in. */
#include "frame.h"
#include "kern.h"

int frame_open_access(struct klog_kern *k)
{
	static const struct klog_allow_key all = { .prefixlen = 0 };
	struct klog_addr a[2];
	struct frame fr;
	int err;

	frame_default(&fr, IP4, NULL, 0);
	klog_addr_v4(&a[0], &fr.daddr);
	frame_default(&fr, IP6, NULL, 0);
	klog_addr_v6(&a[1], &fr.daddr);
	if ((err = klog_kern_local_set(k, a, 2)))
		return err;
	return klog_kern_allow_set(k, &all, 1);
}
