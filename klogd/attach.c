// SPDX-License-Identifier: GPL-2.0-only
/*
 * attach.c - put klogd's program on the interface, after finding every klog
 * program an earlier klogd left there, in whatever mode (see loader.h).
 *
 * A klogd killed in one mode and restarted in another used to leave its
 * program attached beside the new one: two appenders, one of them answering
 * from maps the next clean stop unpinned.  So: the program in the mode asked
 * for is swapped atomically (no packet goes unanswered), every other one is
 * detached before the new one is attached.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "klog.skel.h"
#include "loader.h"
#include "log.h"

static struct bpf_program *prog_of(struct klogd_loader *l)
{
	return l->mode == KLOGD_MODE_TC ? l->skel->progs.klog_tc_append
					: l->skel->progs.klog_xdp_append;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * Whether program id is one of klog's append programs (by its name, as any
 * build names it): 1 or 0; -errno if it cannot be looked at.  Looking a
 * program up by id needs CAP_SYS_ADMIN: without it a klog program left
 * attached would stay beside ours and append too, so that is an error, not
 * a "no".
 */
static int klog_prog(__u32 id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = id ? bpf_prog_get_fd_by_id(id) : -ENOENT;
	int yes;

	if (fd < 0)
		return id && errno != ENOENT ? -errno : 0; /* none, or gone meanwhile */
	memset(&info, 0, sizeof(info));
	yes = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno
	      : !strcmp(info.name, "klog_xdp_append") || !strcmp(info.name, "klog_tc_append");
	close(fd);
	return yes;
}

#define NO_LOOKUP_WHY "looking at the program attached (CAP_SYS_ADMIN is needed to tell " \
		      "whether it is a klog program left attached, which would append too)"

/* The XDP mode program prog_id runs in on ifindex; -ENOENT if it is not attached there. */
static int xdp_mode_of(int ifindex, __u32 prog_id, enum klogd_mode *m)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	if (prog_id && q.drv_prog_id == prog_id)
		*m = KLOGD_MODE_XDP;
	else if (prog_id && q.skb_prog_id == prog_id)
		*m = KLOGD_MODE_XDPGENERIC;
	else
		return -ENOENT;
	return 0;
}

/* The link that holds XDP program prog_id, as an fd, or -ENOENT. */
static int xdp_link_of(__u32 prog_id)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
		    info.prog_id == prog_id)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

static void told_detached(struct klogd_loader *l, enum klogd_mode m)
{
	klogd_log("detached the klog program left attached in %s mode", klogd_mode_name(m));
	l->detached++;
}

/* Detach XDP program prog_id, running in mode m: through its link if one holds it. */
static int xdp_detach_prog(struct klogd_loader *l, __u32 prog_id, enum klogd_mode m)
{
	int fd = xdp_link_of(prog_id), err;

	if (fd >= 0) {
		err = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
	} else {
		err = bpf_xdp_detach(l->ifindex, m == KLOGD_MODE_XDPGENERIC ? XDP_FLAGS_SKB_MODE
									  : XDP_FLAGS_DRV_MODE,
				     NULL);
	}
	if (!err)
		told_detached(l, m);
	return err;
}

/*
 * The pinned link of an earlier klogd: swap the program in when the link is
 * on this interface in the mode asked for; otherwise detach it (its mode is
 * what the kernel says, not what the earlier klogd was asked) and unpin it.
 */
static int adopt_link(struct klogd_loader *l, const char **why)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	enum klogd_mode m;
	char path[320];
	int fd, err = 0;

	klogd_pin_path(l, path, sizeof(path), "link");
	fd = bpf_obj_get(path);
	if (fd < 0) {
		*why = "opening the pinned XDP link";
		return errno == ENOENT ? 0 : -errno;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		*why = "reading the pinned XDP link";
	} else if (info.xdp.ifindex == (__u32)l->ifindex &&
		   !xdp_mode_of(l->ifindex, info.prog_id, &m) && m == l->mode) {
		err = bpf_link_update(fd, bpf_program__fd(prog_of(l)), NULL) ? -errno : 0;
		l->swapped = !err;
		*why = "replacing the program in the pinned link";
	} else if (info.xdp.ifindex) {
		/* Another mode or another interface: the new program gets its own link. */
		if (xdp_mode_of(info.xdp.ifindex, info.prog_id, &m))
			m = KLOGD_MODE_XDP;
		if (!(err = bpf_link_detach(fd) ? -errno : 0))
			told_detached(l, m);
		*why = "detaching the pinned XDP link";
	}
	close(fd);
	if (!err && !l->swapped && unlink(path) && errno != ENOENT) {
		err = -errno;
		*why = "unpinning the detached XDP link";
	}
	return err;
}

/* klog XDP programs attached without the pinned link (or by another tool): detach. */
static int detach_xdp_others(struct klogd_loader *l, const char **why)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 mine = l->swapped ? prog_id_of(bpf_program__fd(prog_of(l))) : 0;
	int err = bpf_xdp_query(l->ifindex, 0, &q), k = 0;

	if (!err && q.drv_prog_id != mine && (err = k = klog_prog(q.drv_prog_id)) > 0)
		err = xdp_detach_prog(l, q.drv_prog_id, KLOGD_MODE_XDP);
	if (!err && q.skb_prog_id != mine && (err = k = klog_prog(q.skb_prog_id)) > 0)
		err = xdp_detach_prog(l, q.skb_prog_id, KLOGD_MODE_XDPGENERIC);
	if (err)
		*why = k < 0 ? NO_LOOKUP_WHY : "detaching a klog XDP program left attached";
	return err;
}

#define TC_HOOK(l) LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (l)->ifindex, \
			       .attach_point = BPF_TC_INGRESS)

/* klogd's TC filter (ingress, handle 1, priority 1): replaced in TC mode, else detached. */
static int adopt_tc(struct klogd_loader *l, const char **why)
{
	TC_HOOK(l);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = 1, .priority = 1);
	libbpf_print_fn_t print;
	int err;

	/*
	 * A probe: most interfaces have no clsact qdisc, and then the kernel
	 * says so ("Parent Qdisc doesn't exists"), which libbpf prints as a
	 * warning on every fresh start.  Its answer is all we need: libbpf is
	 * quiet for this one call.
	 */
	print = libbpf_set_print(NULL);
	err = bpf_tc_query(&hook, &q);
	libbpf_set_print(print);
	if (err || !(err = klog_prog(q.prog_id)))
		return 0;
	if (err < 0) {
		*why = NO_LOOKUP_WHY;
		return err;
	}
	if (l->mode == KLOGD_MODE_TC) {
		l->swapped = true; /* attach_tc replaces it in one step */
		return 0;
	}
	err = klogd_detach_tc(l);
	if (err)
		*why = "detaching the klog TC filter left attached";
	else
		told_detached(l, KLOGD_MODE_TC);
	return err;
}

/* A pinned link, so that the program stays attached and appending if klogd dies. */
static int attach_xdp(struct klogd_loader *l, const char **why)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int prog = bpf_program__fd(prog_of(l)), fd, err;
	char path[320];

	lo.flags = l->mode == KLOGD_MODE_XDPGENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog, l->ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		*why = l->mode == KLOGD_MODE_XDP ? "attaching XDP in native mode (try --mode xdpgeneric)"
						 : "attaching XDP in generic mode";
		return -errno;
	}
	klogd_pin_path(l, path, sizeof(path), "link");
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	if (err)
		*why = "pinning the XDP link";
	return err;
}

/* A TC filter belongs to the interface's clsact qdisc, so it outlives klogd by itself. */
static int attach_tc(struct klogd_loader *l, const char **why)
{
	TC_HOOK(l);
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

/* The mode the kernel really runs our program in must be the one asked for. */
static int check_attached(struct klogd_loader *l, const char **why)
{
	enum klogd_mode m;

	if (l->mode == KLOGD_MODE_TC)
		return 0;
	if (xdp_mode_of(l->ifindex, prog_id_of(bpf_program__fd(prog_of(l))), &m) ||
	    m != l->mode) {
		*why = "checking the XDP mode the program runs in";
		return -EPROTO;
	}
	return 0;
}

int klogd_attach(struct klogd_loader *l, const char **why)
{
	int err;

	l->attached = true;
	l->swapped = false;
	l->detached = 0;
	if ((err = adopt_link(l, why)) || (err = detach_xdp_others(l, why)) ||
	    (err = adopt_tc(l, why)))
		return err;
	if (l->mode == KLOGD_MODE_TC)
		err = attach_tc(l, why);
	else if (!l->swapped)
		err = attach_xdp(l, why);
	return err ? err : check_attached(l, why);
}

int klogd_detach_tc(struct klogd_loader *l)
{
	TC_HOOK(l);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

	return bpf_tc_detach(&hook, &opts);
}

int klogd_detach(struct klogd_loader *l)
{
	char path[320];

	if (l->mode == KLOGD_MODE_TC)
		return klogd_detach_tc(l);
	/* Unpinning the link's last reference detaches the program. */
	klogd_pin_path(l, path, sizeof(path), "link");
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
