/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loader.h - load the append programs, pin or adopt their maps under
 * /sys/fs/bpf/klog/NAME, and attach them to an interface.
 */
#ifndef KLOGD_LOADER_H
#define KLOGD_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern.h"

enum klogd_mode { KLOGD_MODE_XDP, KLOGD_MODE_XDPGENERIC, KLOGD_MODE_TC };

/* Options given on the command line, so that a pinned log's differing setting is told. */
enum {
	KLOGD_GIVEN_WINDOW = 1 << 0,
	KLOGD_GIVEN_POOL_BLOCKS = 1 << 1,
	KLOGD_GIVEN_POOL = 1 << 2,
	KLOGD_GIVEN_CLIENTS = 1 << 3,
};

struct klogd_loader_opts {
	const char *name;   /* pin directory name under /sys/fs/bpf/klog */
	const char *iface;
	enum klogd_mode mode;
	struct klog_kern_opts kern; /* ignored where pinned maps are adopted */
	unsigned int given; /* KLOGD_GIVEN_* */
};

struct klog;

struct klogd_loader {
	struct klog *skel;
	struct klog_kern k;
	char pin_dir[256];
	int ifindex;
	enum klogd_mode mode;
	bool adopted;      /* the maps were pinned by an earlier klogd */
	bool attached;     /* klogd_attach was called: a program may be attached */
	bool swapped;      /* the program replaced one attached in the same mode */
	int detached;      /* klog programs of other modes taken off the interface */
	struct klog_kern_opts kern; /* the settings in force */
	char msg[512];     /* a *why that needs more than a constant */
};

/*
 * Load the programs with their maps pinned under pin_dir, reusing maps an
 * earlier klogd left there (the settings stored in their klog_ctl then win
 * over opts->kern; a given option that differs is told in one line).
 * RETURN VALUE: 0 or -errno; *why names what failed.
 */
int klogd_load(struct klogd_loader *l, const struct klogd_loader_opts *opts, const char **why);

/*
 * Attach, after dealing with every klog program an earlier klogd left on the
 * interface, in any mode: one in l->mode is replaced atomically (swapped),
 * any other (XDP link or not, native or generic, TC ingress filter) is
 * detached first, so exactly one klog program is attached on return.
 */
int klogd_attach(struct klogd_loader *l, const char **why);

/* Detach the program from the interface. */
int klogd_detach(struct klogd_loader *l);
/* Detach klogd's TC ingress filter (handle 1, priority 1) whatever its mode. */
int klogd_detach_tc(struct klogd_loader *l);

/*
 * Close everything; with unpin, also remove the pins.  Only for a log no
 * program was ever attached to: the pins hold the acknowledged records and
 * the dedup state, which a clean stop keeps for the next klogd.
 */
void klogd_unload(struct klogd_loader *l, bool unpin);

const char *klogd_mode_name(enum klogd_mode m);
void klogd_pin_path(const struct klogd_loader *l, char *buf, size_t n, const char *what);
int klogd_mode_parse(const char *s, enum klogd_mode *m);

#endif
