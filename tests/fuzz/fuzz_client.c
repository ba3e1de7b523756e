// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_client - what libklog's client (libklog/client.c) does with any
 * datagram as an answer.  The target is the server, on a loopback socket
 * the client is connected to: it receives the client's APPENDs (as many as
 * the input's first byte says, durable as its second byte's bits say) and
 * sends each datagram of the input back (chunks of a control byte and
 * fuzz_chunk()), with the client id and a request id of the APPENDs
 * written in where the control byte says so (a fuzzer cannot guess them),
 * polling the client after each.  A finding: a crash, a leak, a callback
 * called twice or with an error the API does not list, or a count of
 * requests in flight that disagrees with the callbacks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <klog/klog.h>

#include "fuzz.h"

#define MAX_REQ 8
#define CLIENT_ID 0x0c11e470u

static int srv = -1;
static char port[8];

struct req {
	uint64_t request_id;
	unsigned int calls;
	int err;
};

static void server_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(srv >= 0 && !bind(srv, (struct sockaddr *)&a, sizeof(a)) &&
		   !getsockname(srv, (struct sockaddr *)&a, &len), "loopback socket");
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
}

static void done(void *arg, int err, uint64_t lsn)
{
	struct req *r = arg;

	r->calls++;
	r->err = err;
	FUZZ_CHECK(r->calls == 1, "a callback called %u times", r->calls);
	FUZZ_CHECK(err == 0 || err == -ETIMEDOUT || err == -ENOSPC || err == -EBUSY ||
		   err == -EAGAIN || err == -EEXIST || err == -ESTALE || err == -EMSGSIZE ||
		   err == -EINVAL || err == -EPROTO || err == -ENOENT ||
		   err == -EILSEQ /* NACK CORRUPT: a tombstone holds the LSN */,
		   "callback error %d", err);
}

/* Drain what the client sent; the APPENDs' request ids into reqs. */
static void receive(struct req *reqs, unsigned int *got, struct sockaddr_in *peer)
{
	uint8_t buf[sizeof(struct klog_hdr) + KLOG_MAX_RECORD];
	socklen_t len = sizeof(*peer);
	struct klog_msg m;
	ssize_t n;

	while ((n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)peer,
			     &len)) >= 0)
		if (!klog_decode(buf, (size_t)n, &m) && m.opcode == KLOG_OP_APPEND &&
		    *got < MAX_REQ)
			reqs[(*got)++].request_id = m.request_id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct klog_client_opts o = { .timeout_ms = 60000, .retries = 3,
				      .client_id = CLIENT_ID, .max_outstanding = MAX_REQ };
	struct fuzz_in in = { data, size };
	struct req reqs[MAX_REQ] = { 0 };
	unsigned int want, durable, got = 0, calls;
	struct sockaddr_in peer;
	struct klog_client *c;

	if (srv < 0)
		server_open();
	receive(reqs, &got, &peer); /* a previous input's leftovers */
	got = 0;
	FUZZ_CHECK(!klog_client_open(&c, "127.0.0.1", port, &o), "client");
	want = fuzz_u8(&in) % MAX_REQ + 1;
	durable = fuzz_u8(&in);
	for (unsigned int i = 0; i < want; i++)
		FUZZ_CHECK(!klog_client_submit(c, "fuzz", 4, i, durable & 1u << i ?
					       KLOG_APPEND_DURABLE : 0, done, &reqs[i]),
			   "submit");
	receive(reqs, &got, &peer);
	FUZZ_CHECK(got == want, "%u APPENDs sent, %u received", want, got);
	while (in.n) {
		uint8_t ctl = fuzz_u8(&in), buf[sizeof(struct klog_hdr) + KLOG_MAX_RECORD + 64];
		size_t len;
		const uint8_t *p = fuzz_chunk(&in, &len);
		struct klog_hdr h;

		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, p, len);
		if (len >= sizeof(h)) {
			memcpy(&h, buf, sizeof(h));
			if (ctl & 1)
				h.client_id = htobe32(CLIENT_ID);
			if (ctl & 2)
				h.request_id = htobe64(reqs[(ctl >> 2) % want].request_id);
			memcpy(buf, &h, sizeof(h));
		}
		sendto(srv, buf, len, 0, (struct sockaddr *)&peer, sizeof(peer));
		FUZZ_CHECK(klog_client_poll(c, 0) >= 0, "poll");
	}
	calls = 0;
	for (unsigned int i = 0; i < want; i++)
		calls += reqs[i].calls;
	FUZZ_CHECK(klog_client_outstanding(c, NULL) == (int)(want - calls),
		   "%d in flight, %u of %u completed", klog_client_outstanding(c, NULL), calls,
		   want);
	klog_client_close(c);
	return 0;
}
