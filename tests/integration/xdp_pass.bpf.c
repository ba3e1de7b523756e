// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_pass.bpf.c - passes every packet.  Attached to the client's end of the
 * test veth pair: a veth receives XDP_TX frames from its peer only when it
 * runs NAPI, and on Linux 6.18 turning GRO on did not deliver them, while an
 * XDP program does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
