/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * frame_kern.h - for tests and benchmarks that run frames through the real
 * programs with BPF_PROG_TEST_RUN: the programs append only datagrams to
 * the server's addresses from allowed sources (bpf/access.bpf.h).
 */
#ifndef KLOG_TEST_FRAME_KERN_H
#define KLOG_TEST_FRAME_KERN_H

#include <stdbool.h>

#include "frame.h"
#include "kern.h"

/*
 * Put the addresses frame_default() sends to in klog_local and, with
 * allow_all, every source (::/0) in klog_allow.  RETURN VALUE: 0 or -errno.
 */
int frame_kern_serve(struct klog_kern *k, bool allow_all);

#endif
