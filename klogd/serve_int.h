/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * serve_int.h - what the read thread's two halves share: serve.c receives
 * and parks requests, answer.c reads the log and sends the answers.
 */
#ifndef KLOGD_SERVE_INT_H
#define KLOGD_SERVE_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <klog/klog.h>

#include "serve.h"

/* Where a request came from and went to: its answer goes back the same way. */
struct serve_peer {
	int fd;
	bool v6;
	socklen_t addr_len;
	struct sockaddr_storage addr; /* the client */
	union {
		struct in_pktinfo v4;  /* ipi_spec_dst: the address the request went to */
		struct in6_pktinfo v6; /* ipi6_addr: likewise */
	} dst;
};

/* One READ or INFO, decoded. */
struct serve_req {
	struct serve_peer peer;
	struct klog_hdr hdr; /* as received: ids echoed */
	uint64_t from, to;   /* READ: the LSNs wanted, inclusive */
	uint32_t budget;     /* record bytes the answer may carry; 0: one record */
	uint64_t deadline;   /* a long poll's end, CLOCK_MONOTONIC ms; 0: no wait */
};

struct klogd_serve {
	struct klogd_serve_cfg cfg;
	struct klog_reader *r;
	pthread_t thread;
	int efd;   /* kicks and the stop */
	bool stop;
	uint32_t nwait;         /* parked long polls, read by the drain's kick */
	struct serve_req *wait; /* MAX_WAITERS of them */
	/* answer.c's buffers: one answer's records, headers and messages */
	char *data;
	struct serve_rhead *heads;
	struct iovec *iov;
	struct mmsghdr *msgs;
	/* for the line at stop */
	uint64_t reads, records, bytes, long_polls, infos, nacks, ignored, lost_logged;
	/* requests not answered: to another address, from a refused source, replies */
	uint64_t foreign, refused, replies;
	/* requests the programs should have taken: APPEND (TOOBIG), QUERY (OPCODE) */
	uint64_t appends, queries;
};

/*
 * The two steps of klogd's parse of a request that need no server (the
 * admission to the access maps comes between them); not static for
 * tests/fuzz/fuzz_wire.c.  serve_header: whether the n bytes at buf are a
 * klog v1 datagram; its header into q->hdr.  RETURN VALUE: 0; -1 to ignore
 * it.  serve_decode: a READ or INFO of it (after serve_header) into q's
 * LSN range, budget and deadline.  RETURN VALUE: 0 to answer it; a status
 * to NACK it with; -1 to ignore it (not READ or INFO).
 */
int serve_header(const void *buf, size_t n, struct serve_req *q);
int serve_decode(const void *buf, size_t n, struct serve_req *q);

int serve_answer_init(struct klogd_serve *s);
void serve_answer_free(struct klogd_serve *s);

/*
 * Answer READ q with its records, or a NACK.  With park, a READ whose first
 * LSN is not durable yet is not answered: -EAGAIN.  RETURN VALUE: 0 once
 * answered (or the answer could not be sent: the client asks again), -EAGAIN.
 */
int serve_read(struct klogd_serve *s, const struct serve_req *q, bool park);

void serve_info(struct klogd_serve *s, const struct serve_req *q);

/* NACK q with status and lsn. */
void serve_nack(struct klogd_serve *s, const struct serve_req *q, uint16_t status, uint64_t lsn);

#endif
