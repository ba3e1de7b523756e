// SPDX-License-Identifier: GPL-2.0-only
/*
 * args.c - what every klogctl command does with its arguments the same
 * way: numbers (decimal only: segment names are zero-padded LSNs, which
 * base 0 read as octal), servers and their ports, and the messages and exit
 * status (2) of a usage error, each naming the argument and what it may be.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "klogctl.h"
#include "parse.h"

int ctl_num(const char *cmd, const char *opt, const char *arg, uint64_t lo, uint64_t hi,
	    uint64_t *v)
{
	uint64_t x;
	bool bad = klog_parse_u64(arg, &x, false) != 0;

	if (!bad && x >= lo && x <= hi) {
		*v = x;
		return 0;
	}
	fprintf(stderr, "klogctl %s: %s '%s': %s: %" PRIu64 "..%" PRIu64 "\n", cmd, opt, arg,
		bad ? "not a decimal number" : "out of range", lo, hi);
	return 2;
}

int ctl_server_check(const char *cmd, const char *opt, const char *server)
{
	char *copy = strdup(server), *host, *port;
	uint16_t p;
	int ret = 0;

	if (!copy)
		return ctl_fail(cmd, -ENOMEM);
	klog_split_server(copy, &host, &port);
	if (!*host) {
		fprintf(stderr, "klogctl %s: %s '%s': no host: HOST[:PORT] or [V6ADDR]:PORT\n",
			cmd, opt, server);
		ret = 2;
	} else if (port && klog_parse_port(port, &p)) {
		fprintf(stderr, "klogctl %s: %s '%s': port '%s': a decimal number "
			KLOG_PORT_RANGE "\n", cmd, opt, server, port);
		ret = 2;
	}
	free(copy);
	return ret;
}

int ctl_usage_error(const char *cmd)
{
	ctl_cmd_usage(stderr, cmd, false);
	return 2;
}

int ctl_client_fail(const char *what, int err)
{
	/* klog_strerror() names the host that did not resolve itself. */
	if (err == -ENXIO)
		fprintf(stderr, "klogctl: %s\n", klog_strerror(err));
	else
		fprintf(stderr, "klogctl: %s: %s\n", what, klog_strerror(err));
	return 1;
}
