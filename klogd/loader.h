/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loader.h - load the append programs, pin or adopt their maps under
 * /sys/fs/bpf/klog/NAME, and attach them to an interface.
 */
#ifndef KLOGD_LOADER_H
#define KLOGD_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "kern.h"

enum klogd_mode { KLOGD_MODE_XDP, KLOGD_MODE_XDPGENERIC, KLOGD_MODE_TC };

struct klogd_loader_opts {
	const char *name;   /* pin directory name under /sys/fs/bpf/klog */
	const char *iface;
	enum klogd_mode mode;
	struct klog_kern_opts kern; /* ignored where pinned maps are adopted */
};

struct klog;

struct klogd_loader {
	struct klog *skel;
	struct klog_kern k;
	char pin_dir[256];
	int ifindex;
	enum klogd_mode mode;
	bool adopted;      /* the maps were pinned by an earlier klogd */
	struct klog_kern_opts kern; /* the settings in force */
};

/*
 * Load the programs with their maps pinned under pin_dir, reusing maps an
 * earlier klogd left there (their sizes then win over opts->kern).
 * RETURN VALUE: 0 or -errno; *why names what failed.
 */
int klogd_load(struct klogd_loader *l, const struct klogd_loader_opts *opts, const char **why);

/* Attach (or atomically replace a program left attached by an earlier klogd). */
int klogd_attach(struct klogd_loader *l, const char **why);

/* Detach the program from the interface. */
int klogd_detach(struct klogd_loader *l);

/* Close everything; with unpin, also remove the pins (the log was drained). */
void klogd_unload(struct klogd_loader *l, bool unpin);

const char *klogd_mode_name(enum klogd_mode m);
int klogd_mode_parse(const char *s, enum klogd_mode *m);

#endif
