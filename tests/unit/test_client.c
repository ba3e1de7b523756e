// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: libklog's pipelined client against a real UDP peer on
 * 127.0.0.1 in the same process, which decodes the client's datagrams and
 * answers as doc/protocol.md says a server does (or, on purpose, does not):
 * completions in any order, a lost reply resent with the same request id, a
 * duplicated reply completing once, the bound on outstanding requests,
 * durable appends (PENDING then DURABLE; PENDING, silence, QUERY, DURABLE),
 * every NACK status and its error, transient NACKs retried, stray replies
 * ignored, timeouts, ECONNREFUSED as a loss, the blocking calls, flush, the
 * callback rules, socket buffers that hold the replies of a full window, and
 * klog_strerror's words for FULL and a name that does not resolve, ports
 * 1..65535 only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <klog/klog.h>

#include "check_run.h"

#define CLIENT_ID 0x1234abcdu
#define HDR ((int)sizeof(struct klog_hdr))

/* ------------------------------------------------------------------ */
/* The peer: a UDP socket on 127.0.0.1 that reads real datagrams        */

struct peer {
	int fd;
	uint16_t port;
	char port_str[8];
	struct sockaddr_in client; /* where the last datagram came from */
};

static void peer_bind(struct peer *p, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(p->fd, 0);
	ck_assert_int_eq(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(p->fd, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	snprintf(p->port_str, sizeof(p->port_str), "%u", p->port);
}

/*
 * The next datagram within timeout_ms: its length, its header in m and its
 * payload in payload (may be NULL); -ETIMEDOUT if none came.
 */
static int peer_recv(struct peer *p, struct klog_msg *m, uint8_t *payload, int timeout_ms)
{
	uint8_t buf[HDR + KLOG_MAX_RECORD];
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };
	socklen_t len = sizeof(p->client);
	ssize_t n;

	if (poll(&pf, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = recvfrom(p->fd, buf, sizeof(buf), 0, (struct sockaddr *)&p->client, &len);
	ck_assert_int_ge(n, HDR);
	ck_assert_int_eq(klog_decode(buf, (size_t)n, m), 0);
	ck_assert_int_eq(n, HDR + m->len); /* exactly len payload bytes follow */
	if (payload)
		memcpy(payload, buf + HDR, m->len);
	return (int)n;
}

/* The raw bytes of the next datagram, for comparing resends. */
static int peer_recv_raw(struct peer *p, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };
	socklen_t len = sizeof(p->client);

	if (poll(&pf, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	return (int)recvfrom(p->fd, buf, cap, 0, (struct sockaddr *)&p->client, &len);
}

static void peer_send_raw(struct peer *p, const void *buf, size_t n)
{
	ck_assert_int_eq(sendto(p->fd, buf, n, 0, (struct sockaddr *)&p->client,
				sizeof(p->client)), (ssize_t)n);
}

/* Answer request req: a header echoing client_id, request_id and txid. */
static void peer_reply(struct peer *p, const struct klog_msg *req, uint8_t opcode,
		       uint16_t flags, uint16_t status, uint64_t lsn)
{
	struct klog_msg m = {
		.opcode = opcode,
		.flags = flags,
		.client_id = req->client_id,
		.status = status,
		.request_id = req->request_id,
		.txid = req->txid,
		.lsn = lsn,
	};
	uint8_t buf[HDR];

	ck_assert_int_eq(klog_encode(buf, sizeof(buf), &m, NULL), HDR);
	peer_send_raw(p, buf, sizeof(buf));
}

static void ack(struct peer *p, const struct klog_msg *req, uint64_t lsn)
{
	peer_reply(p, req, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn);
}

static void nack(struct peer *p, const struct klog_msg *req, uint16_t status)
{
	peer_reply(p, req, KLOG_OP_NACK, 0, status, 0);
}

/* ------------------------------------------------------------------ */
/* The client and its completions                                       */

static struct {
	int n;
	int tag[256];
	int err[256];
	uint64_t lsn[256];
} got;

static void on_done(void *arg, int err, uint64_t lsn)
{
	ck_assert_int_lt(got.n, 256);
	got.tag[got.n] = (int)(intptr_t)arg;
	got.err[got.n] = err;
	got.lsn[got.n] = lsn;
	got.n++;
}

static struct klog_client *client(struct peer *p, unsigned int timeout_ms, unsigned int retries,
				  unsigned int max_outstanding)
{
	struct klog_client_opts o = {
		.timeout_ms = timeout_ms,
		.retries = retries,
		.client_id = CLIENT_ID,
		.max_outstanding = max_outstanding,
	};
	struct klog_client *c;

	ck_assert_int_eq(klog_client_open(&c, "127.0.0.1", p->port_str, &o), 0);
	memset(&got, 0, sizeof(got));
	return c;
}

static int submit(struct klog_client *c, int tag, uint64_t txid, unsigned int flags)
{
	char payload[32];
	int len = snprintf(payload, sizeof(payload), "record %d", tag);

	return klog_client_submit(c, payload, (size_t)len, txid, flags, on_done,
				  (void *)(intptr_t)tag);
}

/* Poll until n requests have completed in all, or timeout_ms have passed. */
static void poll_until(struct klog_client *c, int n, int timeout_ms)
{
	for (int waited = 0; got.n < n && waited < timeout_ms; waited += 10)
		ck_assert_int_ge(klog_client_poll(c, 10), 0);
	ck_assert_int_eq(got.n, n);
}

/* ------------------------------------------------------------------ */

START_TEST(argument_checks)
{
	struct klog_client_opts o = { .max_outstanding = KLOG_DEDUP_WINDOW + 1 };
	uint8_t big[KLOG_MAX_RECORD + 1] = { 0 };
	struct klog_client *c;
	struct peer p;
	int ms;

	peer_bind(&p, 0);
	ck_assert_int_eq(klog_client_open(&c, "127.0.0.1", p.port_str, &o), -EINVAL);
	c = client(&p, 0, 0, 0);
	ck_assert_int_ge(klog_client_fd(c), 0);
	ck_assert_int_eq(klog_client_submit(c, big, 0, 0, 0, on_done, NULL), -EINVAL);
	ck_assert_int_eq(klog_client_submit(c, NULL, 1, 0, 0, on_done, NULL), -EINVAL);
	ck_assert_int_eq(klog_client_submit(c, big, 1, 0, 0x2, on_done, NULL), -EINVAL);
	ck_assert_int_eq(klog_client_submit(c, big, sizeof(big), 0, 0, on_done, NULL), -EMSGSIZE);
	ck_assert_int_eq(klog_client_outstanding(c, &ms), 0);
	ck_assert_int_eq(ms, -1);
	/* Nothing outstanding: poll and flush return at once. */
	ck_assert_int_eq(klog_client_poll(c, -1), 0);
	ck_assert_int_eq(klog_client_flush(c, -1), 0);
	ck_assert_int_eq(got.n, 0);
	klog_client_close(c);
	klog_client_close(NULL);
	close(p.fd);
}
END_TEST

/*
 * A reply built in place by XDP_TX is charged as the request's whole frame:
 * measured over veth, 4352 bytes for a 1400-byte record.  With every request
 * in flight answered and a second datagram (DURABLE, or the answer to a
 * resend) on the way, the socket must hold two per request, and send one
 * full request per slot.
 */
#define REPLY_TRUESIZE 4352

static int sockopt_int(int fd, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, opt, &v, &len), 0);
	return v;
}

START_TEST(buffers_sized_for_the_window)
{
	static const unsigned int windows[] = { 1, 16, KLOG_DEDUP_WINDOW };
	struct peer p;

	peer_bind(&p, 0);
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		struct klog_client *c = client(&p, 0, 0, windows[i]);
		int fd = klog_client_fd(c);

		ck_assert_int_ge(sockopt_int(fd, SO_RCVBUF), (int)windows[i] * 2 * REPLY_TRUESIZE);
		ck_assert_int_ge(sockopt_int(fd, SO_SNDBUF), (int)windows[i] * REPLY_TRUESIZE);
		klog_client_close(c);
	}
	close(p.fd);
}
END_TEST

START_TEST(request_on_the_wire)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m, m2;
	uint8_t payload[64];
	int ms;

	peer_bind(&p, 0);
	c = client(&p, 200, 0, 0);
	ck_assert_int_eq(submit(c, 5, 0x1122334455667788ull, 0), 0);
	ck_assert_int_eq(klog_client_outstanding(c, &ms), 1);
	ck_assert_int_gt(ms, 0);
	ck_assert_int_le(ms, 200);
	ck_assert_int_eq(peer_recv(&p, &m, payload, 1000), HDR + 8);
	ck_assert_uint_eq(m.opcode, KLOG_OP_APPEND);
	ck_assert_uint_eq(m.flags, KLOG_F_CRC);
	ck_assert_uint_eq(m.client_id, CLIENT_ID);
	ck_assert_uint_eq(m.status, 0);
	ck_assert_uint_eq(m.len, 8);
	ck_assert_uint_eq(m.txid, 0x1122334455667788ull);
	ck_assert_uint_eq(m.lsn, 0x116b663d); /* CRC-32C of "record 5" */
	ck_assert_mem_eq(payload, "record 5", 8);
	/* The next request has the next id, and a durable one the DURABLE flag. */
	ck_assert_int_eq(submit(c, 6, 1, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m2, NULL, 1000), 0);
	ck_assert_uint_eq(m2.request_id, m.request_id + 1);
	ck_assert_uint_eq(m2.flags, KLOG_F_DURABLE | KLOG_F_CRC);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 2);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(out_of_order_completions)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m[3];

	peer_bind(&p, 0);
	c = client(&p, 1000, 0, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(submit(c, i, 100 + i, 0), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_gt(peer_recv(&p, &m[i], NULL, 1000), 0);
		ck_assert_uint_eq(m[i].txid, 100 + i);
	}
	ack(&p, &m[2], 12);
	ack(&p, &m[0], 10);
	ack(&p, &m[1], 11);
	poll_until(c, 3, 1000);
	ck_assert_int_eq(got.tag[0], 2);
	ck_assert_int_eq(got.tag[1], 0);
	ck_assert_int_eq(got.tag[2], 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(got.err[i], 0);
		ck_assert_uint_eq(got.lsn[i], 10 + got.tag[i]);
	}
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 0);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(lost_reply_resent_with_same_id)
{
	uint8_t first[HDR + 64], again[HDR + 64];
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;
	int n;

	peer_bind(&p, 0);
	c = client(&p, 30, 3, 0);
	ck_assert_int_eq(submit(c, 1, 7, 0), 0);
	n = peer_recv_raw(&p, first, sizeof(first), 1000);
	ck_assert_int_gt(n, HDR);
	/* No answer: after 30 ms the client sends it again, byte for byte. */
	ck_assert_int_eq(klog_client_poll(c, 60), 0);
	ck_assert_int_eq(peer_recv_raw(&p, again, sizeof(again), 1000), n);
	ck_assert_mem_eq(first, again, (size_t)n);
	ck_assert_int_eq(klog_decode(again, (size_t)n, &m), 0);
	ack(&p, &m, 42);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 42);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(duplicate_reply_completes_once)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m0, m1;

	peer_bind(&p, 0);
	c = client(&p, 1000, 0, 0);
	ck_assert_int_eq(submit(c, 0, 0, 0), 0);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	ck_assert_int_gt(peer_recv(&p, &m0, NULL, 1000), 0);
	ck_assert_int_gt(peer_recv(&p, &m1, NULL, 1000), 0);
	ack(&p, &m0, 5);
	ack(&p, &m0, 5); /* a duplicate, e.g. the answer to a resend */
	peer_reply(&p, &m0, KLOG_OP_DURABLE, 0, KLOG_ST_OK, 5);
	nack(&p, &m0, KLOG_ST_CONFLICT);
	ack(&p, &m1, 6);
	poll_until(c, 2, 1000);
	ck_assert_int_eq(klog_client_poll(c, 50), 0);
	ck_assert_int_eq(got.n, 2);
	ck_assert_int_eq(got.tag[0], 0);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 5);
	ck_assert_int_eq(got.tag[1], 1);
	ck_assert_uint_eq(got.lsn[1], 6);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(outstanding_bound)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m[6];

	peer_bind(&p, 0);
	c = client(&p, 2000, 0, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(submit(c, i, i, 0), 0);
	ck_assert_int_eq(submit(c, 4, 4, 0), -EAGAIN);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_gt(peer_recv(&p, &m[i], NULL, 1000), 0);
	/* The second completes; the first, 4 submissions back, still blocks. */
	ack(&p, &m[1], 2);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 3);
	ck_assert_int_eq(submit(c, 4, 4, 0), -EAGAIN);
	ack(&p, &m[0], 1);
	poll_until(c, 2, 1000);
	ck_assert_int_eq(submit(c, 4, 4, 0), 0);
	ck_assert_int_eq(submit(c, 5, 5, 0), 0);
	ck_assert_int_eq(submit(c, 6, 6, 0), -EAGAIN);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 4);
	/* Ids stay consecutive, whatever was refused in between. */
	ck_assert_int_gt(peer_recv(&p, &m[4], NULL, 1000), 0);
	ck_assert_int_gt(peer_recv(&p, &m[5], NULL, 1000), 0);
	ck_assert_uint_eq(m[4].request_id, m[0].request_id + 4);
	ck_assert_uint_eq(m[5].request_id, m[0].request_id + 5);
	ck_assert_uint_eq(m[4].txid, 4);
	klog_client_close(c);

	/* The default, and the most: KLOG_DEDUP_WINDOW. */
	c = client(&p, 2000, 0, 0);
	for (int i = 0; i < KLOG_DEDUP_WINDOW; i++)
		ck_assert_int_eq(submit(c, i, i, 0), 0);
	ck_assert_int_eq(submit(c, 99, 99, 0), -EAGAIN);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(durable_pending_then_durable)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m, q;

	peer_bind(&p, 0);
	c = client(&p, 200, 2, 0);
	ck_assert_int_eq(submit(c, 1, 77, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	ck_assert_uint_eq(m.flags, KLOG_F_DURABLE | KLOG_F_CRC);
	peer_reply(&p, &m, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, 7);
	/* In memory is not durable: it waits on. */
	ck_assert_int_eq(klog_client_poll(c, 30), 0);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 1);
	/* A DURABLE for another LSN is not ours. */
	peer_reply(&p, &m, KLOG_OP_DURABLE, 0, KLOG_ST_OK, 8);
	ck_assert_int_eq(klog_client_poll(c, 30), 0);
	peer_reply(&p, &m, KLOG_OP_DURABLE, 0, KLOG_ST_OK, 7);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 7);
	/* No QUERY was needed, and nothing was resent. */
	ck_assert_int_eq(peer_recv(&p, &q, NULL, 0), -ETIMEDOUT);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(durable_query_after_silence)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m, q;

	peer_bind(&p, 0);
	c = client(&p, 30, 10, 0);
	ck_assert_int_eq(submit(c, 1, 55, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	peer_reply(&p, &m, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, 9);
	/* No DURABLE within 30 ms: QUERY for LSN 9, same ids, no payload. */
	ck_assert_int_eq(klog_client_poll(c, 60), 0);
	ck_assert_int_eq(peer_recv(&p, &q, NULL, 1000), HDR);
	ck_assert_uint_eq(q.opcode, KLOG_OP_QUERY);
	ck_assert_uint_eq(q.flags, 0);
	ck_assert_uint_eq(q.client_id, CLIENT_ID);
	ck_assert_uint_eq(q.request_id, m.request_id);
	ck_assert_uint_eq(q.txid, 55);
	ck_assert_uint_eq(q.lsn, 9);
	ck_assert_uint_eq(q.len, 0);
	/* Still pending: it asks again later. */
	peer_reply(&p, &q, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, 9);
	ck_assert_int_eq(klog_client_poll(c, 60), 0);
	ck_assert_int_eq(peer_recv(&p, &q, NULL, 1000), HDR);
	ck_assert_uint_eq(q.opcode, KLOG_OP_QUERY);
	peer_reply(&p, &q, KLOG_OP_DURABLE, 0, KLOG_ST_OK, 9);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 9);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(durable_query_nolsn)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m, q;

	peer_bind(&p, 0);
	c = client(&p, 30, 10, 0);
	ck_assert_int_eq(submit(c, 1, 1, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	peer_reply(&p, &m, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, 9);
	/* A transient NACK while pending (a late answer to a resend) changes nothing. */
	nack(&p, &m, KLOG_ST_BUSY);
	ck_assert_int_eq(klog_client_poll(c, 60), 0);
	ck_assert_int_eq(peer_recv(&p, &q, NULL, 1000), HDR);
	ck_assert_uint_eq(q.opcode, KLOG_OP_QUERY);
	nack(&p, &q, KLOG_ST_NOLSN);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], -ENOENT);
	ck_assert_uint_eq(got.lsn[0], 9);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(durable_never_confirmed)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m, q;
	int queries = 0;

	peer_bind(&p, 0);
	c = client(&p, 20, 2, 0);
	ck_assert_int_eq(submit(c, 1, 1, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	peer_reply(&p, &m, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, 4);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], -ETIMEDOUT);
	ck_assert_uint_eq(got.lsn[0], 4); /* appended there, durability unconfirmed */
	while (peer_recv(&p, &q, NULL, 0) > 0) {
		ck_assert_uint_eq(q.opcode, KLOG_OP_QUERY);
		queries++;
	}
	ck_assert_int_eq(queries, 2);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(durable_without_pending)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;

	peer_bind(&p, 0);
	c = client(&p, 200, 0, 0);
	/* A retransmission of a record durable by now is answered DURABLE at once. */
	ck_assert_int_eq(submit(c, 1, 1, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	peer_reply(&p, &m, KLOG_OP_DURABLE, 0, KLOG_ST_OK, 31);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 31);
	/* A plain ACK (no PENDING) never makes a durable append durable. */
	ck_assert_int_eq(submit(c, 2, 2, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	ack(&p, &m, 32);
	ck_assert_int_eq(klog_client_poll(c, 30), 0);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 1);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

/*
 * The server's check of the bytes failed: a NACK CORRUPT naming the LSN ends
 * the durable wait with -EILSEQ and that LSN; one naming another LSN (a
 * stray) does not.  Without a PENDING first (a retransmission of a record
 * tombstoned by now), the same.
 */
START_TEST(durable_corrupt)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;

	peer_bind(&p, 0);
	c = client(&p, 500, 3, 0);
	ck_assert_int_eq(submit(c, 1, 1, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	peer_reply(&p, &m, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, 40);
	peer_reply(&p, &m, KLOG_OP_NACK, 0, KLOG_ST_CORRUPT, 41);
	ck_assert_int_eq(klog_client_poll(c, 50), 0);
	peer_reply(&p, &m, KLOG_OP_NACK, 0, KLOG_ST_CORRUPT, 40);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], -EILSEQ);
	ck_assert_uint_eq(got.lsn[0], 40);
	ck_assert_int_eq(submit(c, 2, 2, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	peer_reply(&p, &m, KLOG_OP_NACK, 0, KLOG_ST_CORRUPT, 42);
	poll_until(c, 2, 1000);
	ck_assert_int_eq(got.err[1], -EILSEQ);
	ck_assert_uint_eq(got.lsn[1], 42);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

static const struct {
	uint16_t status;
	int err;
} final_nacks[] = {
	{ KLOG_ST_CONFLICT, -EEXIST }, { KLOG_ST_STALE, -ESTALE },  { KLOG_ST_TOOBIG, -EMSGSIZE },
	{ KLOG_ST_BADLEN, -EINVAL },   { KLOG_ST_VERSION, -EPROTO }, { KLOG_ST_OPCODE, -EPROTO },
	{ KLOG_ST_FLAGS, -EPROTO },    { KLOG_ST_NOLSN, -ENOENT },  { KLOG_ST_OK, -EPROTO },
	{ 999, -EPROTO },
};

START_TEST(nack_final)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;

	peer_bind(&p, 0);
	c = client(&p, 20, 5, 0);
	ck_assert_int_eq(submit(c, _i, 1, 0), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	nack(&p, &m, final_nacks[_i].status);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], final_nacks[_i].err);
	ck_assert_uint_eq(got.lsn[0], 0);
	/* Not retried. */
	ck_assert_int_eq(peer_recv(&p, &m, NULL, 60), -ETIMEDOUT);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

static const struct {
	uint16_t status;
	int err;
} transient_nacks[] = {
	{ KLOG_ST_FULL, -ENOSPC }, { KLOG_ST_BUSY, -EBUSY }, { KLOG_ST_NOTREADY, -EAGAIN },
};

START_TEST(nack_transient_retried)
{
	uint8_t first[HDR + 64], again[HDR + 64];
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;
	int n;

	peer_bind(&p, 0);
	c = client(&p, 500, 3, 0);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	n = peer_recv_raw(&p, first, sizeof(first), 1000);
	ck_assert_int_eq(klog_decode(first, (size_t)n, &m), 0);
	nack(&p, &m, transient_nacks[_i].status);
	/* Retried after a pause far shorter than the timeout, byte for byte. */
	ck_assert_int_eq(klog_client_poll(c, 50), 0);
	ck_assert_int_eq(peer_recv_raw(&p, again, sizeof(again), 0), n);
	ck_assert_mem_eq(first, again, (size_t)n);
	ack(&p, &m, 3);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 3);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(nack_transient_exhausted)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;
	int tries = 0;

	peer_bind(&p, 0);
	c = client(&p, 500, 2, 0);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	while (!got.n) {
		if (peer_recv(&p, &m, NULL, 0) > 0) {
			tries++;
			nack(&p, &m, transient_nacks[_i].status);
		}
		ck_assert_int_ge(klog_client_poll(c, 20), 0);
		ck_assert_int_le(tries, 3);
	}
	ck_assert_int_eq(tries, 3); /* the first try and 2 retries */
	ck_assert_int_eq(got.err[0], transient_nacks[_i].err);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(stray_replies_ignored)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m, other;
	uint8_t buf[HDR];

	peer_bind(&p, 0);
	c = client(&p, 1000, 0, 0);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);

	other = m;
	other.client_id ^= 1; /* another client's */
	ack(&p, &other, 100);
	other = m;
	other.request_id -= 1; /* an id not outstanding */
	ack(&p, &other, 101);
	other.request_id = m.request_id + KLOG_DEDUP_WINDOW; /* same slot, other id */
	ack(&p, &other, 102);
	other = m;
	other.len = 0;
	other.opcode = KLOG_OP_APPEND; /* a request, not a reply */
	ck_assert_int_eq(klog_encode(buf, sizeof(buf), &other, NULL), HDR);
	peer_send_raw(&p, buf, sizeof(buf));
	other.opcode = KLOG_OP_ACK;
	other.lsn = 103;
	ck_assert_int_eq(klog_encode(buf, sizeof(buf), &other, NULL), HDR);
	peer_send_raw(&p, buf, HDR - 1); /* short */
	buf[4] = 2;                        /* version 2 */
	peer_send_raw(&p, buf, sizeof(buf));
	buf[4] = 1;
	buf[0] ^= 0xff; /* bad magic */
	peer_send_raw(&p, buf, sizeof(buf));
	peer_send_raw(&p, "", 0);

	ck_assert_int_eq(klog_client_poll(c, 50), 0);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 1);
	ack(&p, &m, 104);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_uint_eq(got.lsn[0], 104);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(timeout_after_retries)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;
	uint64_t id = 0;
	int sent = 0;

	peer_bind(&p, 0);
	c = client(&p, 20, 2, 0);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	poll_until(c, 1, 1000);
	ck_assert_int_eq(got.err[0], -ETIMEDOUT);
	while (peer_recv(&p, &m, NULL, 0) > 0) {
		if (sent++)
			ck_assert_uint_eq(m.request_id, id);
		id = m.request_id;
	}
	ck_assert_int_eq(sent, 3); /* the first send and 2 resends */
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(connection_refused_is_a_loss)
{
	struct peer p;
	struct klog_client *c;
	struct klog_msg m;
	uint16_t port;

	/* Nothing listens on the port (a server restarting): ICMP port unreachable. */
	peer_bind(&p, 0);
	port = p.port;
	c = client(&p, 20, 20, 0);
	close(p.fd);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	ck_assert_int_eq(klog_client_poll(c, 70), 0);
	ck_assert_int_eq(submit(c, 2, 2, 0), 0);
	ck_assert_int_eq(klog_client_poll(c, 30), 0);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 2);
	/* The server is back: the resends get through. */
	peer_bind(&p, port);
	for (int i = 0; i < 100 && got.n < 2; i++) {
		while (peer_recv(&p, &m, NULL, 0) > 0)
			ack(&p, &m, m.txid); /* resends too, answered as the original */
		ck_assert_int_ge(klog_client_poll(c, 10), 0);
	}
	poll_until(c, 2, 1000);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_int_eq(got.err[1], 0);
	ck_assert_uint_eq(got.lsn[0], (uint64_t)got.tag[0]);
	ck_assert_uint_eq(got.lsn[1], (uint64_t)got.tag[1]);
	ck_assert_int_eq(got.tag[0] + got.tag[1], 3);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

/* A server in a thread, for the blocking calls: ACKs with LSNs 1, 2, ... */
struct responder {
	struct peer p;
	volatile bool stop;
	bool pending_first; /* durable: ACK+PENDING, then DURABLE */
	uint64_t next_lsn;
	pthread_t thread;
};

static void *respond(void *arg)
{
	struct responder *r = arg;
	struct klog_msg m;

	while (!r->stop) {
		if (peer_recv(&r->p, &m, NULL, 10) <= 0 || m.opcode != KLOG_OP_APPEND)
			continue;
		if (!(m.flags & KLOG_F_DURABLE)) {
			ack(&r->p, &m, r->next_lsn++);
			continue;
		}
		if (r->pending_first)
			peer_reply(&r->p, &m, KLOG_OP_ACK, KLOG_F_PENDING, KLOG_ST_OK, r->next_lsn);
		peer_reply(&r->p, &m, KLOG_OP_DURABLE, 0, KLOG_ST_OK, r->next_lsn++);
	}
	return NULL;
}

static void responder_start(struct responder *r, bool pending_first)
{
	r->stop = false;
	r->pending_first = pending_first;
	r->next_lsn = 1;
	peer_bind(&r->p, 0);
	ck_assert_int_eq(pthread_create(&r->thread, NULL, respond, r), 0);
}

static void responder_stop(struct responder *r)
{
	r->stop = true;
	pthread_join(r->thread, NULL);
	close(r->p.fd);
}

START_TEST(blocking_append)
{
	struct responder r;
	struct klog_client *c;
	uint64_t lsn;

	responder_start(&r, true);
	c = client(&r.p, 500, 2, 0);
	ck_assert_int_eq(klog_client_append(c, "a", 1, 0, &lsn), 0);
	ck_assert_uint_eq(lsn, 1);
	ck_assert_int_eq(klog_client_append(c, "b", 1, 1, &lsn), 0);
	ck_assert_uint_eq(lsn, 2);
	ck_assert_int_eq(klog_client_append_durable(c, "c", 1, 2, &lsn), 0);
	ck_assert_uint_eq(lsn, 3);
	ck_assert_int_eq(klog_client_append(c, "", 0, 3, &lsn), -EINVAL);
	/* With the window full, append waits for a slot; the others complete meanwhile. */
	klog_client_close(c);
	c = client(&r.p, 500, 2, 2);
	ck_assert_int_eq(submit(c, 10, 10, 0), 0);
	ck_assert_int_eq(submit(c, 11, 11, KLOG_APPEND_DURABLE), 0);
	ck_assert_int_eq(klog_client_append_durable(c, "d", 1, 12, &lsn), 0);
	ck_assert_int_ge(got.n, 1);
	ck_assert_int_eq(klog_client_flush(c, 1000), 0);
	ck_assert_int_eq(got.n, 2);
	ck_assert_int_eq(got.err[0], 0);
	ck_assert_int_eq(got.err[1], 0);
	ck_assert_uint_eq(got.lsn[0] + got.lsn[1] + lsn, 4 + 5 + 6);
	klog_client_close(c);
	responder_stop(&r);
}
END_TEST

START_TEST(blocking_append_times_out)
{
	struct peer p;
	struct klog_client *c;
	uint64_t lsn = 99;

	peer_bind(&p, 0);
	c = client(&p, 10, 1, 0);
	ck_assert_int_eq(klog_client_append(c, "x", 1, 0, &lsn), -ETIMEDOUT);
	ck_assert_uint_eq(lsn, 0);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 0);
	klog_client_close(c);
	close(p.fd);
}
END_TEST

START_TEST(flush_many)
{
	struct responder r;
	struct klog_client *c;
	int ok = 0;

	responder_start(&r, true);
	c = client(&r.p, 500, 2, 8);
	for (int i = 0; i < 100; i++) {
		int err;

		while ((err = submit(c, i, (uint64_t)i, i % 2 ? KLOG_APPEND_DURABLE : 0)) == -EAGAIN)
			ck_assert_int_ge(klog_client_poll(c, -1), 0);
		ck_assert_int_eq(err, 0);
		ck_assert_int_le(klog_client_outstanding(c, NULL), 8);
	}
	ck_assert_int_eq(klog_client_flush(c, 2000), 0);
	ck_assert_int_eq(got.n, 100);
	for (int i = 0; i < 100; i++)
		ok += !got.err[i] && got.lsn[i] >= 1 && got.lsn[i] <= 100;
	ck_assert_int_eq(ok, 100);
	klog_client_close(c);
	responder_stop(&r);
}
END_TEST

START_TEST(flush_timeout)
{
	struct peer p;
	struct klog_client *c;

	peer_bind(&p, 0);
	c = client(&p, 1000, 0, 0);
	ck_assert_int_eq(submit(c, 1, 1, 0), 0);
	ck_assert_int_eq(klog_client_flush(c, 30), -ETIMEDOUT);
	ck_assert_int_eq(klog_client_outstanding(c, NULL), 1);
	ck_assert_int_eq(got.n, 0);
	klog_client_close(c); /* drops it without a callback */
	ck_assert_int_eq(got.n, 0);
	close(p.fd);
}
END_TEST

/* A callback may submit, but not poll, flush or append. */
static struct klog_client *reenter_c;
static int reenter_poll, reenter_flush, reenter_append, reenter_submit;

static void reenter(void *arg, int err, uint64_t lsn)
{
	uint64_t l;

	on_done(arg, err, lsn);
	if ((intptr_t)arg != 1)
		return;
	reenter_poll = klog_client_poll(reenter_c, 0);
	reenter_flush = klog_client_flush(reenter_c, 0);
	reenter_append = klog_client_append(reenter_c, "y", 1, 0, &l);
	reenter_submit = klog_client_submit(reenter_c, "z", 1, 2, 0, on_done, (void *)2);
}

START_TEST(callback_rules)
{
	struct peer p;
	struct klog_msg m;

	peer_bind(&p, 0);
	reenter_c = client(&p, 1000, 0, 1);
	ck_assert_int_eq(klog_client_submit(reenter_c, "x", 1, 1, 0, reenter, (void *)1), 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	ack(&p, &m, 1);
	poll_until(reenter_c, 1, 1000);
	ck_assert_int_eq(reenter_poll, -EDEADLK);
	ck_assert_int_eq(reenter_flush, -EDEADLK);
	ck_assert_int_eq(reenter_append, -EDEADLK);
	/* With one slot: the callback's slot is already free for the next request. */
	ck_assert_int_eq(reenter_submit, 0);
	ck_assert_int_gt(peer_recv(&p, &m, NULL, 1000), 0);
	ck_assert_uint_eq(m.txid, 2);
	ack(&p, &m, 2);
	poll_until(reenter_c, 2, 1000);
	ck_assert_int_eq(got.tag[1], 2);
	ck_assert_uint_eq(got.lsn[1], 2);
	klog_client_close(reenter_c);
	close(p.fd);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(klog_status_str(KLOG_ST_CONFLICT), "conflict");
	ck_assert_str_eq(klog_status_str(KLOG_ST_STALE), "stale");
	ck_assert_str_eq(klog_status_str(KLOG_ST_NOLSN), "no such lsn");
}
END_TEST

/*
 * klog_strerror: FULL (-ENOSPC once its retries run out) is no full disk of
 * the client's; a name that does not resolve is -ENXIO, said with the name
 * and the resolver's reason, by the client and the remote reader alike.
 */
START_TEST(error_words)
{
	struct klog_reader *r = NULL;
	struct klog_client *c = NULL;
	struct klog_server_info in;

	ck_assert_str_eq(klog_strerror(transient_nacks[0].err), "log full (klogd behind or stopped)");
	ck_assert_str_eq(klog_strerror(-EIO), strerror(EIO));
	ck_assert_int_eq(klog_client_open(&c, "nonexistent.invalid", NULL, NULL), -ENXIO);
	ck_assert_ptr_null(c);
	ck_assert_msg(!strncmp(klog_strerror(-ENXIO), "cannot resolve nonexistent.invalid: ", 36),
		      "%s", klog_strerror(-ENXIO));
	ck_assert_int_eq(klog_reader_open_server(&r, "other.invalid:7070", NULL), -ENXIO);
	ck_assert_msg(!strncmp(klog_strerror(-ENXIO), "cannot resolve other.invalid: ", 30), "%s",
		      klog_strerror(-ENXIO));
	ck_assert_int_eq(klog_server_info("nonexistent.invalid", NULL, &in), -ENXIO);
}
END_TEST

/* A port is 1..65535 in decimal: getaddrinfo() alone takes "70000" as 4464. */
START_TEST(port_range)
{
	static const char *const bad[] = { "0", "65536", "70000", "0x1f90", "-1", "", "klog" };
	struct klog_reader *r = NULL;
	struct klog_client *c = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(klog_client_open(&c, "127.0.0.1", bad[i], NULL) == -EINVAL,
			      "port '%s' taken", bad[i]);
	ck_assert_int_eq(klog_reader_open_server(&r, "127.0.0.1:65536", NULL), -EINVAL);
	ck_assert_int_eq(klog_reader_open_server(&r, "[::1]:0", NULL), -EINVAL);
	ck_assert_int_eq(klog_client_open(&c, "127.0.0.1", "65535", NULL), 0);
	klog_client_close(c);
	ck_assert_int_eq(klog_reader_open_server(&r, "127.0.0.1:07070", NULL), 0);
	klog_reader_close(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("client");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, argument_checks);
	tcase_add_test(tc, buffers_sized_for_the_window);
	tcase_add_test(tc, request_on_the_wire);
	tcase_add_test(tc, out_of_order_completions);
	tcase_add_test(tc, lost_reply_resent_with_same_id);
	tcase_add_test(tc, duplicate_reply_completes_once);
	tcase_add_test(tc, outstanding_bound);
	tcase_add_test(tc, durable_pending_then_durable);
	tcase_add_test(tc, durable_query_after_silence);
	tcase_add_test(tc, durable_query_nolsn);
	tcase_add_test(tc, durable_never_confirmed);
	tcase_add_test(tc, durable_without_pending);
	tcase_add_test(tc, durable_corrupt);
	tcase_add_loop_test(tc, nack_final, 0, sizeof(final_nacks) / sizeof(final_nacks[0]));
	tcase_add_loop_test(tc, nack_transient_retried, 0,
			    sizeof(transient_nacks) / sizeof(transient_nacks[0]));
	tcase_add_loop_test(tc, nack_transient_exhausted, 0,
			    sizeof(transient_nacks) / sizeof(transient_nacks[0]));
	tcase_add_test(tc, stray_replies_ignored);
	tcase_add_test(tc, timeout_after_retries);
	tcase_add_test(tc, connection_refused_is_a_loss);
	tcase_add_test(tc, blocking_append);
	tcase_add_test(tc, blocking_append_times_out);
	tcase_add_test(tc, flush_many);
	tcase_add_test(tc, flush_timeout);
	tcase_add_test(tc, callback_rules);
	tcase_add_test(tc, status_names);
	tcase_add_test(tc, error_words);
	tcase_add_test(tc, port_range);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
