// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: a program of libklog's users, written in the subset of C that
 * is also C++: built in the tree as C++ (test cxx) and, by the install test,
 * with g++ and with cc against the installed headers, the second with
 * libklog.a.  It checks the library it runs with against the version it is
 * given and the headers it was built with.  TAP output; argument: the
 * expected klog_version().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <klog/klog.h>

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	failed |= !ok;
}

int main(int argc, char **argv)
{
	static const char rec[] = "a record from a consumer";
	unsigned char buf[sizeof(struct klog_hdr) + KLOG_MAX_RECORD];
	struct klog_reader *r;
	struct klog_msg m;
	int len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s VERSION\n", argv[0]);
		return 2;
	}
	check(!strcmp(klog_version(), argv[1]), "klog_version() is the project's version");
	check(!strcmp(KLOG_VERSION, argv[1]), "klog_config.h's KLOG_VERSION too");
	check(klog_max_record() == KLOG_MAX_RECORD, "klog_max_record() is klog_config.h's");
	len = klog_encode_append(buf, sizeof(buf), 7, 1, 42, rec, sizeof(rec));
	check(len == (int)(sizeof(struct klog_hdr) + sizeof(rec)), "klog_encode_append");
	check(len > 0 && !klog_decode(buf, (size_t)len, &m) && m.opcode == KLOG_OP_APPEND &&
	      m.client_id == 7 && m.request_id == 1 && m.txid == 42 && m.len == sizeof(rec),
	      "klog_decode reads it back");
	check(!strcmp(klog_status_str(KLOG_ST_FULL), "full"), "klog_status_str");
	check(klog_reader_open(&r, "/nonexistent/klog-consumer") == -ENOENT,
	      "klog_reader_open of a missing directory: -ENOENT");
	printf("1..%d\n", n);
	return failed;
}
