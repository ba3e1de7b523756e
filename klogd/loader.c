// SPDX-License-Identifier: GPL-2.0-only
/* loader.c - programs, pinned maps and attachment for klogd (see loader.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "klog.skel.h"
#include "loader.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define BPFFS "/sys/fs/bpf"

/* The maps that hold the log; everything else is per-load scratch. */
static const char *const pinned_maps[] = {
	"klog_ctl", "klog_stats", "kerby_index", "kerby_ring", "kerby_hash", "kerby_alloc",
	"klog_waiters", "klog_clients",
};
#define N_PINNED (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

const char *klogd_mode_name(enum klogd_mode m)
{
	return m == KLOGD_MODE_XDP ? "xdp" : m == KLOGD_MODE_XDPGENERIC ? "xdpgeneric" : "tc";
}

int klogd_mode_parse(const char *s, enum klogd_mode *m)
{
	for (int i = KLOGD_MODE_XDP; i <= KLOGD_MODE_TC; i++) {
		if (!strcmp(s, klogd_mode_name(i))) {
			*m = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (!statfs(BPFFS, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void pin_path(const struct klogd_loader *l, char *buf, size_t n, const char *what)
{
	snprintf(buf, n, "%s/%s", l->pin_dir, what);
}

/* max_entries of the map pinned as name, or -ENOENT. */
static int pinned_entries(const struct klogd_loader *l, const char *name, uint32_t *n)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[320];
	int fd, err = 0;

	pin_path(l, path, sizeof(path), name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	*n = info.max_entries;
	return err;
}

/* Read the sizes of pinned maps, so the programs are loaded to match them. */
static int adopt_opts(struct klogd_loader *l, struct klog_kern_opts *o)
{
	uint32_t ring, hash;
	int err = pinned_entries(l, "kerby_alloc", &o->window);

	if (err)
		return err == -ENOENT ? 0 : err;
	if ((err = pinned_entries(l, "klog_clients", &o->clients)) ||
	    (err = pinned_entries(l, "kerby_ring", &ring)) ||
	    (err = pinned_entries(l, "kerby_hash", &hash)))
		return err;
	/* The kind in use is the one sized above a single entry. */
	o->pool = ring > 1 ? KERBY_POOL_RING : KERBY_POOL_HASH;
	o->pool_blocks = ring > 1 ? ring : hash;
	l->adopted = true;
	return 0;
}

int klogd_load(struct klogd_loader *l, const struct klogd_loader_opts *opts, const char **why)
{
	char path[320];
	int err;

	memset(l, 0, sizeof(*l));
	l->mode = opts->mode;
	l->kern = opts->kern;
	l->ifindex = if_nametoindex(opts->iface);
	if (!l->ifindex) {
		*why = "no such interface";
		return -ENODEV;
	}
	if ((err = ensure_bpffs())) {
		*why = "mounting bpffs on " BPFFS;
		return err;
	}
	snprintf(l->pin_dir, sizeof(l->pin_dir), BPFFS "/klog");
	if ((err = mkdir_p(l->pin_dir))) {
		*why = "creating " BPFFS "/klog";
		return err;
	}
	snprintf(l->pin_dir, sizeof(l->pin_dir), BPFFS "/klog/%s", opts->name);
	if ((err = mkdir_p(l->pin_dir))) {
		*why = "creating the pin directory";
		return err;
	}
	if ((err = adopt_opts(l, &l->kern))) {
		*why = "reading the pinned maps";
		return err;
	}
	l->kern.port = opts->kern.port;
	l->skel = klog__open();
	if (!l->skel) {
		*why = "opening the BPF object";
		return -errno;
	}
	if ((err = klog_kern_configure(l->skel->obj, &l->kern))) {
		*why = "configuring the maps";
		return err;
	}
	for (size_t i = 0; i < N_PINNED; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(l->skel->obj, pinned_maps[i]);

		pin_path(l, path, sizeof(path), pinned_maps[i]);
		if (!m || (err = bpf_map__set_pin_path(m, path))) {
			*why = "setting pin paths";
			return m ? err : -ENOENT;
		}
	}
	if ((err = klog__load(l->skel))) {
		*why = "loading the BPF programs (the verifier log is above)";
		return err;
	}
	if ((err = klog_kern_open(&l->k, l->skel->obj))) {
		*why = "mapping the control map and pool";
		return err;
	}
	return 0;
}

static struct bpf_program *prog_of(struct klogd_loader *l)
{
	return l->mode == KLOGD_MODE_TC ? l->skel->progs.klog_tc_append
					: l->skel->progs.klog_xdp_append;
}

/*
 * XDP goes through a pinned bpf_link, so the program stays attached if klogd
 * dies and appends go on into the pinned maps; a new klogd swaps its own
 * program into that link atomically.
 */
static int attach_xdp(struct klogd_loader *l, const char **why)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int prog = bpf_program__fd(prog_of(l)), fd, err;
	char path[320];
	struct bpf_link *old;

	pin_path(l, path, sizeof(path), "link");
	old = bpf_link__open(path);
	if (old) {
		err = bpf_link__update_program(old, prog_of(l));
		bpf_link__disconnect(old);
		bpf_link__destroy(old);
		if (err)
			*why = "replacing the program in the pinned link";
		return err;
	}
	lo.flags = l->mode == KLOGD_MODE_XDPGENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog, l->ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		*why = l->mode == KLOGD_MODE_XDP ? "attaching XDP in native mode (try --mode xdpgeneric)"
						 : "attaching XDP in generic mode";
		return -errno;
	}
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	if (err)
		*why = "pinning the XDP link";
	return err;
}

/* A TC filter belongs to the interface's clsact qdisc, so it outlives klogd by itself. */
static int attach_tc(struct klogd_loader *l, const char **why)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(prog_of(l)));
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		*why = "creating the clsact qdisc";
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		*why = "attaching the TC ingress filter";
	return err;
}

int klogd_attach(struct klogd_loader *l, const char **why)
{
	return l->mode == KLOGD_MODE_TC ? attach_tc(l, why) : attach_xdp(l, why);
}

int klogd_detach(struct klogd_loader *l)
{
	char path[320];

	if (l->mode == KLOGD_MODE_TC) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

		return bpf_tc_detach(&hook, &opts);
	}
	/* Unpinning the link's last reference detaches the program. */
	pin_path(l, path, sizeof(path), "link");
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

void klogd_unload(struct klogd_loader *l, bool unpin)
{
	if (unpin && l->skel) {
		char path[320];

		for (size_t i = 0; i < N_PINNED; i++) {
			pin_path(l, path, sizeof(path), pinned_maps[i]);
			unlink(path);
		}
		rmdir(l->pin_dir);
	}
	klog_kern_close(&l->k);
	klog__destroy(l->skel);
	l->skel = NULL;
}
