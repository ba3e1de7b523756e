// SPDX-License-Identifier: GPL-2.0-only
/* loadgen_net.c - the client interface of bench/loadgen (loadgen_net.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loadgen_net.h"

int loadgen_iface(const char *name, int *ifindex, uint8_t mac[6], struct in_addr *addr)
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	*ifindex = (int)if_nametoindex(name);
	if (!*ifindex)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!err && ioctl(fd, SIOCGIFADDR, &ifr))
		err = -errno;
	else if (!err)
		*addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	close(fd);
	return err;
}

int loadgen_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int loadgen_arp(const char *name, struct in_addr ip, uint8_t mac[6])
{
	char line[256], addr[64], hw[64], dev[IF_NAMESIZE + 1];
	unsigned int type, flags;
	struct in_addr a;
	int err = -ENOENT;
	FILE *f = fopen("/proc/net/arp", "re");

	if (!f)
		return -errno;
	/* "IP address  HW type  Flags  HW address  Mask  Device", a header line first. */
	while (err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %63s %*s %16s", addr, &type, &flags, hw, dev) != 5 ||
		    inet_pton(AF_INET, addr, &a) != 1)
			continue;
		if (a.s_addr == ip.s_addr && !strcmp(dev, name) && (flags & 0x2 /* ATF_COM */))
			err = loadgen_parse_mac(hw, mac);
	}
	fclose(f);
	return err;
}

int loadgen_xdp_swap(struct loadgen_xdp *x, int ifindex, int prog_fd)
{
	__u32 old_id = 0;
	int err;

	x->ifindex = ifindex;
	x->old_fd = -1;
	err = bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &old_id);
	if (err)
		return err;
	/* Hold the old program: once replaced, nothing else may keep it loaded. */
	if (old_id) {
		x->old_fd = bpf_prog_get_fd_by_id(old_id);
		if (x->old_fd < 0) {
			err = x->old_fd; /* libbpf 1.x: -errno */
			x->old_fd = -1;
			return err;
		}
	}
	err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err && x->old_fd >= 0) {
		close(x->old_fd);
		x->old_fd = -1;
	}
	return err;
}

int loadgen_xdp_restore(struct loadgen_xdp *x)
{
	int err;

	if (x->old_fd < 0)
		return bpf_xdp_detach(x->ifindex, XDP_FLAGS_DRV_MODE, NULL);
	err = bpf_xdp_attach(x->ifindex, x->old_fd, XDP_FLAGS_DRV_MODE, NULL);
	close(x->old_fd);
	x->old_fd = -1;
	return err;
}
