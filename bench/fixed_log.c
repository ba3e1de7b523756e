// SPDX-License-Identifier: GPL-2.0-only
/*
 * fixed_log - attach the fixed-slot baseline (fixed_log.bpf.c) to an
 * interface in native XDP mode, and on SIGINT or SIGTERM detach it and print
 * its counters.  The records it spills (XDP_PASS) are for bench/udp_server,
 * listening on the same port.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <klog/klog_abi.h>

#include "fixed_load.h"
#include "parse.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fixed_log --iface IF [--slot 128|1024] [--slots N] [--port N] [--json]\n"
		"Attach the fixed-slot in-kernel log (DINT style: one array slot per record,\n"
		"LSN from an atomic counter, ACK built in place and sent with XDP_TX) to IF in\n"
		"native XDP mode.  APPENDs larger than the slot, and malformed requests, are\n"
		"passed up the stack (XDP_PASS) to bench/udp_server on the same port.  The log\n"
		"wraps: record LSN goes to slot LSN %% N, nothing is drained.  On SIGINT or\n"
		"SIGTERM it detaches and prints its counters, summed over CPUs: appends (kept\n"
		"and ACKed), spilled, refused, reply_errors.\n\n"
		"  --iface IF   interface to attach to (required)\n"
		"  --slot N     slot payload bytes: 128 (default) or 1024\n"
		"  --slots N    slots in the log (default %d)\n"
		"  --port N     UDP port of the protocol (default %d)\n"
		"  --json       the counters as one JSON object\n"
		"  --help       this text\n", FIXED_SLOTS_DEFAULT, KLOG_DEFAULT_PORT);
}

struct args {
	const char *iface;
	unsigned int slot;
	uint32_t slots;
	uint16_t port;
	bool json;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' }, { "slot", required_argument, NULL, 's' },
		{ "slots", required_argument, NULL, 'n' }, { "port", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },        { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int o;

	*a = (struct args){ .slot = 128, .slots = FIXED_SLOTS_DEFAULT, .port = KLOG_DEFAULT_PORT };
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'i': a->iface = optarg; continue;
		case 'j': a->json = true; continue;
		case 'h': usage(stdout); return 1;
		case 's':
			if (klog_parse_u64(optarg, &v, false) || (v != 128 && v != 1024))
				break;
			a->slot = (unsigned int)v;
			continue;
		case 'n':
			if (klog_parse_u64(optarg, &v, true) || !v || v > (1u << 26))
				break;
			a->slots = (uint32_t)v;
			continue;
		case 'p':
			if (klog_parse_u64(optarg, &v, false) || !v || v > 65535)
				break;
			a->port = (uint16_t)v;
			continue;
		default:
			usage(stderr);
			return 2;
		}
		fprintf(stderr, "fixed_log: invalid value '%s' (see --help)\n", optarg);
		return 2;
	}
	if (!a->iface || optind < argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fixed_log *skel = NULL;
	struct fixed_stats st;
	unsigned int ifindex;
	struct args a;
	sigset_t set;
	int err, sig, fd;

	if ((err = parse_args(argc, argv, &a)))
		return err == 1 ? 0 : err;
	ifindex = if_nametoindex(a.iface);
	if (!ifindex) {
		fprintf(stderr, "fixed_log: %s: %s\n", a.iface, strerror(errno));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((err = fixed_load(&skel, a.slot, a.slots, a.port))) {
		fprintf(stderr, "fixed_log: loading: %s\n", strerror(-err));
		return 1;
	}
	fd = bpf_program__fd(fixed_prog(skel, a.slot));
	if ((err = bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_DRV_MODE, NULL))) {
		fprintf(stderr, "fixed_log: attaching to %s: %s\n", a.iface, strerror(-err));
		fixed_log__destroy(skel);
		return 1;
	}
	fprintf(stderr, "fixed_log: ready: xdp on %s port %u, %u slots of %u bytes\n", a.iface,
		a.port, a.slots, a.slot);
	sigwait(&set, &sig);
	bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);
	err = fixed_stats_sum(skel, &st);
	fixed_log__destroy(skel);
	if (err) {
		fprintf(stderr, "fixed_log: reading the counters: %s\n", strerror(-err));
		return 1;
	}
	printf(a.json ? "{\"appends\": %llu, \"spilled\": %llu, \"refused\": %llu, "
			"\"reply_errors\": %llu}\n"
		      : "fixed_log: appends %llu spilled %llu refused %llu reply_errors %llu\n",
	       (unsigned long long)st.appends, (unsigned long long)st.spilled,
	       (unsigned long long)st.refused, (unsigned long long)st.reply_errors);
	return 0;
}
