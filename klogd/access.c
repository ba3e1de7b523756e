// SPDX-License-Identifier: GPL-2.0-only
/* access.c - this server's addresses and the allowed sources in the maps (see access.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "parse.h"

struct klogd_access {
	struct klog_kern *k;
	char iface[IF_NAMESIZE];
	unsigned int ifindex;
	int nl;  /* rtnetlink, subscribed to address changes */
	int efd; /* the stop */
	pthread_t thread;
};

/* The addresses of the interface now, into out (cap).  RETURN VALUE: how many, or -errno. */
static int iface_addrs(const char *iface, struct klog_addr *out, size_t cap)
{
	struct ifaddrs *all;
	size_t n = 0;

	if (getifaddrs(&all))
		return -errno;
	for (struct ifaddrs *i = all; i && n < cap; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, iface))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			klog_addr_v4(&out[n++], &((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			klog_addr_v6(&out[n++], &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
	}
	freeifaddrs(all);
	return (int)n;
}

/* "what: a, b, c" in one log line (addresses or prefixes, n of them). */
static void log_list(const char *what, const struct klog_addr *addrs,
		     const struct klog_allow_key *keys, size_t n)
{
	char line[1024], one[KLOG_CIDR_STRLEN];
	size_t used = 0;

	line[0] = 0;
	for (size_t i = 0; i < n && used < sizeof(line); i++) {
		if (addrs)
			klog_format_addr(&addrs[i], one, sizeof(one));
		else
			klog_format_cidr(&keys[i], one, sizeof(one));
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", i ? ", " : "",
					 one);
	}
	klogd_log("%s: %s%s", what, n ? line : "none",
		  used >= sizeof(line) ? "..." : "");
}

/* klog_local := the interface's addresses now. */
static int sync_iface(struct klogd_access *a, bool quiet)
{
	struct klog_addr now[KLOG_MAX_LOCAL_ADDRS], was[KLOG_MAX_LOCAL_ADDRS];
	int n = iface_addrs(a->iface, now, KLOG_MAX_LOCAL_ADDRS), nwas, err;

	if (n < 0) {
		klogd_log("reading the addresses of %s: %s", a->iface, strerror(-n));
		return n;
	}
	nwas = klog_kern_local_list(a->k, was, KLOG_MAX_LOCAL_ADDRS);
	if ((err = klog_kern_local_set(a->k, now, (size_t)n))) {
		klogd_log("setting this server's addresses: %s", strerror(-err));
		return err;
	}
	/* Told only when they changed (a flag or lifetime change is an event too). */
	if (!quiet && nwas >= 0 && klog_kern_local_list(a->k, now, KLOG_MAX_LOCAL_ADDRS) == n &&
	    nwas == n && !memcmp(was, now, (size_t)n * sizeof(*now)))
		return 0;
	log_list(quiet ? "appends accepted at the addresses of the interface (followed)"
		       : "the interface's addresses changed; appends accepted at",
		 now, NULL, (size_t)n);
	return 0;
}

/* Did the messages in buf say an address of our interface came or went? */
static bool ours(const struct klogd_access *a, const char *buf, size_t len)
{
	for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		const struct ifaddrmsg *ifa = NLMSG_DATA(h);

		if ((h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifa)) && ifa->ifa_index == a->ifindex)
			return true;
	}
	return false;
}

static void *follow(void *arg)
{
	struct klogd_access *a = arg;
	struct pollfd p[2] = { { .fd = a->efd, .events = POLLIN }, { .fd = a->nl, .events = POLLIN } };
	static char buf[16384];

	for (;;) {
		bool changed = false;
		ssize_t r;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		while ((r = recv(a->nl, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
			if (r < 0) {
				/* ENOBUFS: events were lost, so read the interface afresh. */
				changed |= errno == ENOBUFS;
				if (errno == EINTR || errno == ENOBUFS)
					continue;
				break;
			}
			changed |= ours(a, buf, (size_t)r);
		}
		if (changed)
			sync_iface(a, false);
	}
	return NULL;
}

/* Subscribe to address changes, then read the addresses: none is missed in between. */
static int start_follow(struct klogd_access *a)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int err;

	a->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (a->nl < 0 || bind(a->nl, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		klogd_err("cannot follow the addresses of %s (rtnetlink): %s", a->iface,
			  strerror(-err));
		return err;
	}
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0)
		return -errno;
	if ((err = sync_iface(a, true)))
		return err;
	if ((err = -pthread_create(&a->thread, NULL, follow, a))) {
		klogd_err("cannot start following addresses: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* --bind: exactly these; one not on the interface is bound anyway (a VIP may come later). */
static int set_bind(struct klogd_access *a, const struct klogd_access_cfg *cfg)
{
	struct klog_addr have[KLOG_MAX_LOCAL_ADDRS];
	int n = iface_addrs(a->iface, have, KLOG_MAX_LOCAL_ADDRS), err;
	char s[KLOG_CIDR_STRLEN];

	for (size_t i = 0; n >= 0 && i < cfg->nbind; i++) {
		bool found = false;

		for (int j = 0; j < n && !found; j++)
			found = !memcmp(&have[j], &cfg->bind[i], sizeof(have[j]));
		if (!found)
			klogd_warn("--bind %s is not an address of %s (yet): appends to it "
				  "are taken once it arrives there",
				  klog_format_addr(&cfg->bind[i], s, sizeof(s)), a->iface);
	}
	if ((err = klog_kern_local_set(a->k, cfg->bind, cfg->nbind))) {
		klogd_log("setting the --bind addresses: %s", strerror(-err));
		return err;
	}
	log_list("appends accepted at (--bind)", cfg->bind, NULL, cfg->nbind);
	return 0;
}

static int set_allow(struct klogd_access *a, const struct klogd_access_cfg *cfg)
{
	static const struct klog_allow_key all = { .prefixlen = 0 };
	int err;

	if (!cfg->nallow) {
		if ((err = klog_kern_allow_set(a->k, &all, 1)))
			goto fail;
		klogd_warn("no --allow: every source may append and read (::/0); "
			  "netfilter does not filter what the programs take (doc/klogd.md)");
		return 0;
	}
	if ((err = klog_kern_allow_set(a->k, cfg->allow, cfg->nallow)))
		goto fail;
	log_list("sources allowed (--allow)", NULL, cfg->allow, cfg->nallow);
	return 0;
fail:
	klogd_log("setting the allowed sources: %s", strerror(-err));
	return err;
}

int klogd_access_start(struct klogd_access **out, struct klog_kern *k,
		       const struct klogd_access_cfg *cfg)
{
	struct klogd_access *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	a->k = k;
	a->nl = a->efd = -1;
	snprintf(a->iface, sizeof(a->iface), "%s", cfg->iface);
	a->ifindex = if_nametoindex(cfg->iface);
	if (!a->ifindex) {
		err = -ENODEV;
		klogd_err("%s: %s", cfg->iface, strerror(ENODEV));
		goto fail;
	}
	if ((err = set_allow(a, cfg)) ||
	    (err = cfg->nbind ? set_bind(a, cfg) : start_follow(a)))
		goto fail;
	*out = a;
	return 0;
fail:
	if (a->nl >= 0)
		close(a->nl);
	if (a->efd >= 0)
		close(a->efd);
	free(a);
	return err;
}

void klogd_access_stop(struct klogd_access *a)
{
	if (!a)
		return;
	if (a->efd >= 0 && a->nl >= 0 && eventfd_write(a->efd, 1) == 0)
		pthread_join(a->thread, NULL);
	if (a->nl >= 0)
		close(a->nl);
	if (a->efd >= 0)
		close(a->efd);
	free(a);
}

bool klogd_udp_csum_auto(const char *iface)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool veth;

	if (fd < 0)
		return true;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	veth = !ioctl(fd, SIOCETHTOOL, &ifr) && !strcmp(info.driver, "veth");
	close(fd);
	return !veth;
}
