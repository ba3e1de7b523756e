// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_remote - libklog's remote reader (libklog/rremote.c) against a
 * server that answers with anything: the RECORD and INFO_REPLY handling.
 * A thread is the server, on a loopback socket: to each request the reader
 * sends it answers with the next set of datagrams of the input (a count
 * byte, then per datagram a control byte and fuzz_chunk()), with the
 * request's client and request ids and an LSN near the one asked for
 * written in unless the control byte says not to (a fuzzer cannot guess
 * them), then a NACK UNAVAIL, so that no call waits for a timeout.  The
 * reader asks for the bounds (INFO), reads LSN 1 and iterates 1..64.
 * A finding: a crash, a leak, an error the API does not list, LSNs out of
 * order, or a record handed out that is not the payload of a RECORD the
 * server sent with a CRC-32C that matches it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "fuzz.h"

#define DGRAM_MAX (sizeof(struct klog_hdr) + sizeof(struct klog_read_rec) + KLOG_MAX_RECORD)
#define MAX_SENT 64

static int srv = -1;
static char server[32];

/* The server thread's input, and the RECORDs it sent with a good CRC. */
struct serve {
	struct fuzz_in in;
	uint8_t *sent[MAX_SENT];
	size_t sent_len[MAX_SENT];
	unsigned int nsent;
};

static void server_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(srv >= 0 && !bind(srv, (struct sockaddr *)&a, sizeof(a)) &&
		   !getsockname(srv, (struct sockaddr *)&a, &len), "loopback socket");
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(a.sin_port));
}

/* Keep a RECORD whose CRC-32C matches its bytes: what the reader may hand out. */
static void keep(struct serve *s, const uint8_t *d, size_t n)
{
	struct klog_read_rec rr;
	struct klog_msg m;

	if (s->nsent == MAX_SENT || klog_decode(d, n, &m) || m.opcode != KLOG_OP_RECORD ||
	    n < sizeof(struct klog_hdr) + sizeof(rr))
		return;
	memcpy(&rr, d + sizeof(struct klog_hdr), sizeof(rr));
	if (klog_crc32c(0, d + sizeof(struct klog_hdr) + sizeof(rr),
			n - sizeof(struct klog_hdr) - sizeof(rr)) != be32toh(rr.crc))
		return;
	s->sent[s->nsent] = malloc(n);
	FUZZ_CHECK(s->sent[s->nsent], "out of memory");
	memcpy(s->sent[s->nsent], d, n);
	s->sent_len[s->nsent++] = n;
}

/* Answer the request q (from peer) with the input's next set, then NACK UNAVAIL. */
static void answer(struct serve *s, const struct klog_hdr *q, const struct sockaddr_in *peer)
{
	unsigned int count = s->in.n ? fuzz_u8(&s->in) % 8 : 0;
	struct klog_hdr nack = *q;

	for (unsigned int i = 0; i < count && s->in.n; i++) {
		uint8_t ctl = fuzz_u8(&s->in), buf[DGRAM_MAX + 64];
		size_t len;
		const uint8_t *p = fuzz_chunk(&s->in, &len);
		struct klog_hdr h;

		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, p, len);
		if (len >= sizeof(h)) {
			memcpy(&h, buf, sizeof(h));
			if (!(ctl & 1))
				h.client_id = q->client_id;
			if (!(ctl & 2))
				h.request_id = q->request_id;
			if (!(ctl & 4))
				h.lsn = htobe64(be64toh(q->lsn) + (ctl >> 3));
			memcpy(buf, &h, sizeof(h));
		}
		keep(s, buf, len);
		sendto(srv, buf, len, 0, (const struct sockaddr *)peer, sizeof(*peer));
	}
	nack.opcode = KLOG_OP_NACK;
	nack.status = htobe16(KLOG_ST_UNAVAIL);
	nack.len = 0;
	sendto(srv, &nack, sizeof(nack), 0, (const struct sockaddr *)peer, sizeof(*peer));
}

/* The server: answers every request until a datagram of one byte (the stop). */
static void *serve(void *arg)
{
	struct serve *s = arg;

	for (;;) {
		uint8_t buf[DGRAM_MAX];
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
		struct klog_hdr q;

		if (n == 1)
			return NULL;
		if (n < (ssize_t)sizeof(q))
			continue;
		memcpy(&q, buf, sizeof(q));
		answer(s, &q, &peer);
	}
}

static int each(const struct klog_record *rec, const void *payload, void *arg)
{
	const struct serve *s = arg;
	static uint64_t next;

	if (!payload) {
		next = rec->lsn; /* reset: the first LSN wanted */
		return 0;
	}
	FUZZ_CHECK(rec->lsn == next, "LSN %" PRIu64 " after %" PRIu64, rec->lsn, next - 1);
	next++;
	for (unsigned int i = 0; i < s->nsent; i++) {
		const size_t off = sizeof(struct klog_hdr) + sizeof(struct klog_read_rec);
		struct klog_msg m;

		klog_decode(s->sent[i], s->sent_len[i], &m);
		if (m.lsn == rec->lsn && s->sent_len[i] - off == rec->len &&
		    !memcmp(s->sent[i] + off, payload, rec->len))
			return 0;
	}
	FUZZ_CHECK(0, "LSN %" PRIu64 ": a record the server never sent with a good CRC",
		   rec->lsn);
	return 0;
}

static void check_err(int err)
{
	FUZZ_CHECK(err >= 0 || err == -EAGAIN || err == -ENOENT || err == -ENOLINK ||
		   err == -EHOSTUNREACH || err == -ETIMEDOUT || err == -EMSGSIZE ||
		   err == -EPROTO || err == -ENODATA || err == -ENOSPC,
		   "error %d", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_remote_opts o = { .timeout_ms = 1000, .retries = 1 };
	struct serve s = { .in = { data, size } };
	struct klog_server_info info;
	struct klog_record rec;
	struct klog_reader *r;
	uint64_t first, last;
	pthread_t t;
	int n;

	if (srv < 0)
		server_open();
	while (recv(srv, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		; /* a previous input's requests */
	FUZZ_CHECK(!pthread_create(&t, NULL, serve, &s), "thread");
	FUZZ_CHECK(!klog_reader_open_server(&r, server, &o), "reader");
	check_err(klog_reader_bounds(r, &first, &last));
	n = klog_read(r, 1, buf, sizeof(buf), &rec);
	check_err(n);
	each(&(struct klog_record){ .lsn = 1 }, NULL, &s);
	if (n >= 0) {
		FUZZ_CHECK(rec.lsn == 1 && rec.len == (uint32_t)n, "read LSN 1");
		each(&rec, buf, &s);
	}
	each(&(struct klog_record){ .lsn = 1 }, NULL, &s);
	check_err(klog_iterate(r, 1, 64, each, &s));
	klog_reader_close(r);
	check_err(klog_server_info(server, &o, &info));
	/* The stop, from a socket of our own. */
	n = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(n >= 0 && connect(n, (struct sockaddr *)&(struct sockaddr_in){
			.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
			.sin_port = htons((uint16_t)atoi(strchr(server, ':') + 1)) },
			sizeof(struct sockaddr_in)) == 0 && send(n, "", 1, 0) == 1, "stop");
	close(n);
	pthread_join(t, NULL);
	for (unsigned int i = 0; i < s.nsent; i++)
		free(s.sent[i]);
	return 0;
}
