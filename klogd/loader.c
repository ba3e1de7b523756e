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
#include "log.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define BPFFS "/sys/fs/bpf"

/* The maps that hold the log; everything else is per-load scratch. */
static const char *const pinned_maps[] = {
	"klog_ctl", "klog_stats", "kerby_index", "kerby_ring", "kerby_hash", "kerby_alloc",
	"klog_waiters", "klog_clients",
	/* the tombstones QUERY answers CORRUPT for, once they left the kernel log */
	"klog_corrupt",
	/* kept across restarts only so that klogctl allow can change them live */
	"klog_local", "klog_allow",
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

void klogd_pin_path(const struct klogd_loader *l, char *buf, size_t n, const char *what)
{
	snprintf(buf, n, "%s/%s", l->pin_dir, what);
}

static void unpin_maps(const struct klogd_loader *l)
{
	char path[320];

	for (size_t i = 0; i < N_PINNED; i++) {
		klogd_pin_path(l, path, sizeof(path), pinned_maps[i]);
		unlink(path);
	}
}

/* The pinned control map's value, or -ENOENT when there is none. */
static int pinned_ctl(struct klogd_loader *l, struct klog_ctl *ctl, const char **why)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), zero = 0;
	char path[320];
	int fd, err = 0;

	klogd_pin_path(l, path, sizeof(path), "klog_ctl");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
	} else if (info.value_size != sizeof(*ctl)) {
		snprintf(l->msg, sizeof(l->msg), "the pinned maps under %s were made by an older "
			 "klog; drain them with that version or remove them", l->pin_dir);
		err = -EPROTO;
	} else if (bpf_map_lookup_elem(fd, &zero, ctl)) {
		err = -errno;
	}
	close(fd);
	if (err)
		*why = err == -EPROTO ? l->msg : "reading the pinned klog_ctl";
	return err;
}

/* max_entries of the map pinned as name. */
static int pinned_entries(const struct klogd_loader *l, const char *name, uint32_t *n)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[320];
	int fd, err = 0;

	klogd_pin_path(l, path, sizeof(path), name);
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

/* Say in one line that an option given differs from the pinned log's setting. */
static void note_pinned(const struct klogd_loader_opts *opts, unsigned int opt,
			const char *name, uint64_t asked, uint64_t pinned)
{
	if ((opts->given & opt) && asked != pinned)
		klogd_warn("--%s %llu differs from the pinned log's %llu: using %llu", name,
			  (unsigned long long)asked, (unsigned long long)pinned,
			  (unsigned long long)pinned);
}

/*
 * Take the settings of a pinned log from its control map, where
 * klog_kern_init wrote them when it was made: map sizes cannot tell a ring
 * pool from a hash pool of one entry, and the programs must be loaded to
 * match the maps they reuse.
 */
static int adopt_opts(struct klogd_loader *l, const struct klogd_loader_opts *opts,
		      const char **why)
{
	struct klog_kern_opts *o = &l->kern;
	struct klog_ctl ctl;
	int err = pinned_ctl(l, &ctl, why);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	/*
	 * Never initialised: klogd died between load and init, before any
	 * program was attached, so nothing was acknowledged into these maps.
	 */
	if (ctl.next_lsn < KLOG_FIRST_LSN) {
		unpin_maps(l);
		return 0;
	}
	if (ctl.block_size != KLOG_BLOCK_SIZE || ctl.max_record != KLOG_MAX_RECORD) {
		snprintf(l->msg, sizeof(l->msg), "the pinned log under %s was made by a klog built "
			 "with %u-byte blocks and records of up to %u bytes; this klogd has %u and "
			 "%u: drain it with that build", l->pin_dir, ctl.block_size,
			 ctl.max_record, KLOG_BLOCK_SIZE, KLOG_MAX_RECORD);
		*why = l->msg;
		return -EPROTO;
	}
	if (!ctl.window || !ctl.pool_blocks) {
		snprintf(l->msg, sizeof(l->msg), "the pinned log under %s has no stored settings "
			 "(made by a development build): drain it with that build or remove it",
			 l->pin_dir);
		*why = l->msg;
		return -EPROTO;
	}
	/* Logs made before klog_kern_init stored it: the table's own size. */
	if (!ctl.clients && (err = pinned_entries(l, "klog_clients", &ctl.clients))) {
		*why = "reading the pinned klog_clients";
		return err;
	}
	note_pinned(opts, KLOGD_GIVEN_WINDOW, "window", o->window, ctl.window);
	note_pinned(opts, KLOGD_GIVEN_POOL_BLOCKS, "pool-blocks", o->pool_blocks, ctl.pool_blocks);
	note_pinned(opts, KLOGD_GIVEN_CLIENTS, "clients", o->clients, ctl.clients);
	if ((opts->given & KLOGD_GIVEN_POOL) && o->pool != ctl.pool_kind)
		klogd_warn("--pool %s differs from the pinned log's: using %s",
			  o->pool == KERBY_POOL_RING ? "ring" : "hash",
			  ctl.pool_kind == KERBY_POOL_RING ? "ring" : "hash");
	o->window = ctl.window;
	o->pool = ctl.pool_kind;
	o->pool_blocks = ctl.pool_blocks;
	o->clients = ctl.clients;
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
	snprintf(l->pin_dir, sizeof(l->pin_dir), KLOG_PIN_ROOT);
	if ((err = mkdir_p(l->pin_dir))) {
		*why = "creating " KLOG_PIN_ROOT;
		return err;
	}
	snprintf(l->pin_dir, sizeof(l->pin_dir), KLOG_PIN_ROOT "/%s", opts->name);
	if ((err = mkdir_p(l->pin_dir))) {
		*why = "creating the pin directory";
		return err;
	}
	if ((err = adopt_opts(l, opts, why)))
		return err;
	l->kern.port = opts->kern.port;
	l->skel = klog__open();
	if (!l->skel) {
		*why = "opening the BPF object";
		return -errno;
	}
	if ((err = klog_kern_configure(l->skel->obj, &l->kern))) {
		*why = err == -ERANGE ? "configuring the maps (pool or client table out of range)"
				      : "configuring the maps";
		return err;
	}
	for (size_t i = 0; i < N_PINNED; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(l->skel->obj, pinned_maps[i]);

		klogd_pin_path(l, path, sizeof(path), pinned_maps[i]);
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

void klogd_unload(struct klogd_loader *l, bool unpin)
{
	if (unpin && l->skel) {
		/* Never a pinless program: it would acknowledge into maps no one drains. */
		if (l->attached)
			klogd_detach(l);
		unpin_maps(l);
		rmdir(l->pin_dir);
	}
	klog_kern_close(&l->k);
	klog__destroy(l->skel);
	l->skel = NULL;
}
