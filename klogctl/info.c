// SPDX-License-Identifier: GPL-2.0-only
/* info.c - `klogctl info --server`: what a klog server says of itself (INFO). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <klog/klog.h>

#include "klogctl.h"

/* What info's failures mean; ctl_src_err_str()'s words are a reader's. */
static const char *info_err_str(int err)
{
	switch (err) {
	case -ETIMEDOUT: return "no answer (is klogd serving on that port?)";
	case -EHOSTUNREACH: return "it cannot read its log now";
	case -EPROTO: return "it refused INFO (a server without reads?)";
	default: return klog_strerror(err);
	}
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct klog_server_info in;
	const char *server = NULL, *backend;
	bool json = false;
	int o, err;

	while ((o = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'j': json = true; break;
		case 'h': ctl_cmd_usage(stdout, "info", true); return 0;
		default: return ctl_usage_error("info");
		}
	}
	if (!server || optind != argc) {
		fprintf(stderr, "klogctl info: --server HOST[:PORT] is required, and nothing else\n");
		return ctl_usage_error("info");
	}
	if (ctl_server_check("info", "--server", server))
		return 2;
	if ((err = klog_server_info(server, NULL, &in))) {
		if (err == -ENXIO) /* it names the host */
			fprintf(stderr, "klogctl info: %s\n", klog_strerror(err));
		else
			fprintf(stderr, "klogctl info: server %s: %s\n", server, info_err_str(err));
		return 1;
	}
	backend = in.backend == KLOG_INFO_DIR ? "dir" :
		  in.backend == KLOG_INFO_JETSTREAM ? "jetstream" : "unknown";
	if (json)
		printf("{\"version\":%u,\"backend\":\"%s\",\"port\":%u,\"max_record\":%" PRIu32
		       ",\"block_size\":%" PRIu32 ",\"max_read_bytes\":%" PRIu32
		       ",\"log_id\":\"0x%016" PRIx64 "\",\"first_lsn\":%" PRIu64
		       ",\"durable_lsn\":%" PRIu64 ",\"next_lsn\":%" PRIu64 "}\n",
		       in.version, backend, in.port, in.max_record, in.block_size,
		       in.max_read_bytes, in.log_id, in.first_lsn, in.durable_lsn, in.next_lsn);
	else
		printf("version %u\nbackend %s\nport %u\nmax_record %" PRIu32 "\nblock_size %"
		       PRIu32 "\nmax_read_bytes %" PRIu32 "\nlog_id 0x%016" PRIx64
		       "\nfirst_lsn %" PRIu64 "\ndurable_lsn %" PRIu64 "\nnext_lsn %" PRIu64 "\n",
		       in.version, backend, in.port, in.max_record, in.block_size,
		       in.max_read_bytes, in.log_id, in.first_lsn, in.durable_lsn, in.next_lsn);
	return fflush(stdout) ? 1 : 0;
}
