// SPDX-License-Identifier: GPL-2.0-only
/* frame_kern.c - make a loaded log take the frames of frame_default() (see frame_kern.h). */
#include "frame_kern.h"

int frame_kern_serve(struct klog_kern *k, bool allow_all)
{
	struct klog_allow_key all = { .prefixlen = 0 };
	struct klog_addr a;
	struct frame fr;
	int err;

	frame_default(&fr, IP4, NULL, 0);
	klog_addr_v4(&a, &fr.daddr);
	if ((err = klog_kern_local_add(k, &a)))
		return err;
	frame_default(&fr, IP6, NULL, 0);
	klog_addr_v6(&a, &fr.daddr);
	if ((err = klog_kern_local_add(k, &a)))
		return err;
	return allow_all ? klog_kern_allow_add(k, &all) : 0;
}
