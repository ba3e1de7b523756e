/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loadgen_net.h - bench/loadgen's view of the client interface: its
 * addresses, the server's MAC address, and putting the reply counter in
 * place of the interface's XDP program for the run.  Functions return 0 or
 * -errno.
 */
#ifndef KLOG_LOADGEN_NET_H
#define KLOG_LOADGEN_NET_H

#include <netinet/in.h>
#include <stdint.h>

/* Interface name's index, MAC address and (first) IPv4 address. */
int loadgen_iface(const char *name, int *ifindex, uint8_t mac[6], struct in_addr *addr);

/* The complete ARP entry of ip on interface name (/proc/net/arp); -ENOENT if none. */
int loadgen_arp(const char *name, struct in_addr ip, uint8_t mac[6]);

/* "02:00:00:00:00:01" into mac; -EINVAL unless six hex bytes. */
int loadgen_parse_mac(const char *s, uint8_t mac[6]);

/* What ran at the interface's XDP hook (native mode) before the counter. */
struct loadgen_xdp {
	int ifindex;
	int old_fd; /* -1: nothing */
};

/* Attach prog_fd to ifindex in native mode in place of its program, kept in x. */
int loadgen_xdp_swap(struct loadgen_xdp *x, int ifindex, int prog_fd);
/* Put back the program loadgen_xdp_swap() replaced (or detach, if none). */
int loadgen_xdp_restore(struct loadgen_xdp *x);

#endif /* KLOG_LOADGEN_NET_H */
