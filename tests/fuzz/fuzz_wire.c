// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_wire - the protocol's header codec (libklog/wire.c) and klogd's
 * parse of a READ or INFO request (klogd/serve.c: serve_header() and
 * serve_decode(), the steps before and after the access check), on the
 * input as one datagram.  A finding: a crash; a header klog_decode() takes
 * that klog_encode() does not give back byte for byte; a request
 * klogd answers whose length, range or budget break its contract.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <string.h>

#include <klog/klog.h>

#include "fuzz.h"
#include "serve_int.h"

static void round_trip(const uint8_t *data, size_t size)
{
	static uint8_t buf[sizeof(struct klog_hdr) + KLOG_MAX_RECORD];
	struct klog_msg m;
	int n;

	if (klog_decode(data, size, &m))
		return;
	klog_status_str(m.status);
	if (m.len > KLOG_MAX_RECORD || size < sizeof(struct klog_hdr) + m.len)
		return;
	n = klog_encode(buf, sizeof(buf), &m, data + sizeof(struct klog_hdr));
	FUZZ_CHECK(n == (int)(sizeof(struct klog_hdr) + m.len), "encode gave %d", n);
	FUZZ_CHECK(!memcmp(buf, data, (size_t)n), "a header does not encode back as it came");
}

static void request(const uint8_t *data, size_t size)
{
	struct serve_req q;
	int st;

	memset(&q, 0, sizeof(q));
	if (serve_header(data, size, &q))
		return;
	FUZZ_CHECK(size >= sizeof(struct klog_hdr) && !memcmp(&q.hdr, data, sizeof(q.hdr)),
		   "a header taken from a short datagram, or not as sent");
	if ((st = serve_decode(data, size, &q)) < 0)
		return;
	FUZZ_CHECK(q.hdr.opcode == KLOG_OP_READ || q.hdr.opcode == KLOG_OP_INFO,
		   "opcode %u answered", q.hdr.opcode);
	if (st) {
		FUZZ_CHECK(st == KLOG_ST_FLAGS || st == KLOG_ST_BADLEN, "status %d", st);
		return;
	}
	FUZZ_CHECK(q.hdr.flags == 0, "flags answered");
	FUZZ_CHECK(size == sizeof(struct klog_hdr) + be16toh(q.hdr.len), "length %zu", size);
	FUZZ_CHECK(q.from <= q.to, "a range that ends before it starts");
	FUZZ_CHECK(q.budget <= KLOG_READ_MAX_BYTES, "budget %u", q.budget);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size);
	request(data, size);
	return 0;
}
