// SPDX-License-Identifier: GPL-2.0-only
/*
 * answer.c - answers to READ and INFO from the durable log (serve_int.h):
 * a READ's records are read into one buffer and sent with one sendmmsg, the
 * last flagged LAST, from the address the request went to.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "log.h"
#include "serve_int.h"

/* A RECORD's fixed part: the header and the CRCs before the bytes. */
struct serve_rhead {
	struct klog_hdr h;
	struct klog_read_rec r;
};

/* One answer's record bytes: the budget, and a first record that may exceed it. */
#define DATA_CAP (KLOG_READ_MAX_BYTES + KLOG_MAX_RECORD)
/* Errors of one kind logged in full before they are only counted. */
#define LOG_LIMIT 10

union pktinfo_cmsg {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

int serve_answer_init(struct klogd_serve *s)
{
	s->data = malloc(DATA_CAP);
	s->heads = calloc(KLOG_READ_MAX_RECORDS, sizeof(*s->heads));
	s->iov = calloc(2 * KLOG_READ_MAX_RECORDS, sizeof(*s->iov));
	s->msgs = calloc(KLOG_READ_MAX_RECORDS, sizeof(*s->msgs));
	return s->data && s->heads && s->iov && s->msgs ? 0 : -ENOMEM;
}

void serve_answer_free(struct klogd_serve *s)
{
	free(s->data);
	free(s->heads);
	free(s->iov);
	free(s->msgs);
}

static struct klog_hdr reply_hdr(const struct serve_req *q, uint8_t opcode, uint16_t status,
				 uint64_t txid, uint64_t lsn, size_t len)
{
	return (struct klog_hdr){
		.magic = htobe32(KLOG_MAGIC), .version = KLOG_VERSION_1, .opcode = opcode,
		.client_id = q->hdr.client_id, .status = htobe16(status),
		.len = htobe16((uint16_t)len), .request_id = q->hdr.request_id,
		.txid = htobe64(txid), .lsn = htobe64(lsn),
	};
}

/* Send s->msgs[0..n) (their iovecs set) to q's client from the address q went to. */
static void send_msgs(struct klogd_serve *s, const struct serve_req *q, unsigned int n)
{
	const struct serve_peer *p = &q->peer;
	union pktinfo_cmsg ctl = { 0 };
	struct cmsghdr *c = &ctl.align;
	size_t info = p->v6 ? sizeof(p->dst.v6) : sizeof(p->dst.v4);
	unsigned int sent = 0;

	c->cmsg_level = p->v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	c->cmsg_type = p->v6 ? IPV6_PKTINFO : IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(info);
	memcpy(CMSG_DATA(c), &p->dst, info);
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *m = &s->msgs[i].msg_hdr;

		m->msg_name = (void *)&p->addr;
		m->msg_namelen = p->addr_len;
		m->msg_control = ctl.buf;
		m->msg_controllen = c->cmsg_len;
	}
	/*
	 * Never blocking: the drain sends DURABLE notices on this socket, and
	 * an answer stuck behind a slow route must not hold them.  What does
	 * not fit the send buffer is lost, as on the wire: the client asks again.
	 */
	while (sent < n) {
		int r = sendmmsg(p->fd, s->msgs + sent, n - sent, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		sent += (unsigned int)r;
	}
}

/* Send one datagram: hdr and len bytes of payload. */
static void send_one(struct klogd_serve *s, const struct serve_req *q, struct klog_hdr *hdr,
		     const void *payload, size_t len)
{
	s->iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(*hdr) };
	s->iov[1] = (struct iovec){ .iov_base = (void *)payload, .iov_len = len };
	s->msgs[0].msg_hdr = (struct msghdr){ .msg_iov = s->iov, .msg_iovlen = len ? 2 : 1 };
	send_msgs(s, q, 1);
}

void serve_nack(struct klogd_serve *s, const struct serve_req *q, uint16_t status, uint64_t lsn)
{
	struct klog_hdr h = reply_hdr(q, KLOG_OP_NACK, status, be64toh(q->hdr.txid), lsn, 0);

	s->nacks++;
	send_one(s, q, &h, NULL, 0);
}

/*
 * The log's first kept LSN and the first not durable, as the reader sees
 * them.  RETURN VALUE: 0, with both 0..durable for an empty log; the
 * reader's error.
 */
static int log_bounds(struct klogd_serve *s, uint64_t *first, uint64_t *end)
{
	uint64_t last;
	int err = klog_reader_bounds(s->r, first, &last);

	if (err == -ENODATA) {
		*first = 0;
		*end = __atomic_load_n(&s->cfg.ctl->durable_lsn, __ATOMIC_ACQUIRE);
		return 0;
	}
	if (!err)
		*end = last + 1;
	return err;
}

/* NACK READ q whose first record cannot be sent (err: klog_read's, -EMSGSIZE: budget). */
static void refuse(struct klogd_serve *s, const struct serve_req *q, int err)
{
	uint64_t first = 0, end = q->from;

	switch (err) {
	case -EAGAIN:
		log_bounds(s, &first, &end);
		serve_nack(s, q, KLOG_ST_NOTYET, end < q->from ? end : q->from);
		return;
	case -ENOENT:
		log_bounds(s, &first, &end);
		serve_nack(s, q, KLOG_ST_TRIMMED, first);
		return;
	case -EMSGSIZE:
		serve_nack(s, q, KLOG_ST_TOOBIG, q->from);
		return;
	}
	/* The operator must hear of a lost record; a client only learns that it is. */
	if (s->lost_logged++ < LOG_LIMIT)
		klogd_warn("READ of LSN %llu: %s: %s%s", (unsigned long long)q->from,
			  strerror(-err), klog_reader_strerror(s->r),
			  s->lost_logged == LOG_LIMIT ? " (further read errors are only counted)"
						      : "");
	serve_nack(s, q, err == -ENOLINK || err == -EBADMSG ? KLOG_ST_LOST : KLOG_ST_UNAVAIL,
		   q->from);
}

/* One answer being built: its records so far, in s's buffers. */
struct answer {
	struct klogd_serve *s;
	const struct serve_req *q;
	size_t used;    /* bytes of s->data */
	unsigned int n; /* records */
	int err;        /* why the first record could not go: -EMSGSIZE */
};

#define ANSWER_FULL 1 /* an add_record() return: the answer holds what it may */

/*
 * Take record rec (payload) into the answer, a klog_iter_fn; ANSWER_FULL
 * once no more fits.  A tombstone goes as a RECORD of status CORRUPT with
 * no bytes (doc/protocol.md, "Reading"): the answer goes on past it.
 */
static int add_record(const struct klog_record *rec, const void *payload, void *ctx)
{
	struct answer *a = ctx;
	struct klogd_serve *s = a->s;
	struct serve_rhead *hd = &s->heads[a->n];
	char *at = s->data + a->used;

	if (a->q->budget && a->used + rec->len > a->q->budget) {
		a->err = a->n ? 0 : -EMSGSIZE;
		return ANSWER_FULL;
	}
	if (payload && payload != at) /* klog_read() put it there already */
		memcpy(at, payload, rec->len);
	hd->h = reply_hdr(a->q, KLOG_OP_RECORD,
			  rec->flags & KLOG_RECORD_CORRUPT ? KLOG_ST_CORRUPT : KLOG_ST_OK,
			  rec->txid, rec->lsn, sizeof(hd->r) + rec->len);
	hd->r = (struct klog_read_rec){
		.crc = htobe32(klog_crc32c(0, at, rec->len)),
		.rec_crc = htobe32(rec->crc),
	};
	s->iov[2 * a->n] = (struct iovec){ .iov_base = hd, .iov_len = sizeof(*hd) };
	s->iov[2 * a->n + 1] = (struct iovec){ .iov_base = at, .iov_len = rec->len };
	s->msgs[a->n].msg_hdr = (struct msghdr){ .msg_iov = &s->iov[2 * a->n], .msg_iovlen = 2 };
	a->used += rec->len;
	return ++a->n == KLOG_READ_MAX_RECORDS ? ANSWER_FULL : 0;
}

/*
 * Read q's records into an answer: one klog_read() for one record, else a
 * klog_iterate(), which a stream serves through one consumer rather than a
 * request per record.  RETURN VALUE: why the first record cannot go, or 0.
 */
static int gather(struct klogd_serve *s, const struct serve_req *q, struct answer *a)
{
	struct klog_record rec;
	int ret;

	*a = (struct answer){ .s = s, .q = q };
	if (q->to == q->from) {
		ret = klog_read(s->r, q->from, s->data, DATA_CAP, &rec);
		if (ret == -EILSEQ) /* a tombstone: answered as one */
			ret = 0;
		return ret < 0 ? ret : add_record(&rec, s->data, a) == ANSWER_FULL ? a->err : 0;
	}
	ret = klog_iterate(s->r, q->from, q->to, add_record, a);
	if (ret == ANSWER_FULL)
		return a->err;
	/* The durable end (0) before any record: not durable yet. */
	return a->n ? 0 : ret ? ret : -EAGAIN;
}

int serve_read(struct klogd_serve *s, const struct serve_req *q, bool park)
{
	struct answer a;
	int err = gather(s, q, &a);

	if (!a.n) {
		if (err == -EAGAIN && park)
			return -EAGAIN;
		refuse(s, q, err);
		return 0;
	}
	s->heads[a.n - 1].h.flags = htobe16(KLOG_F_LAST);
	send_msgs(s, q, a.n);
	s->reads++;
	s->records += a.n;
	s->bytes += a.used;
	return 0;
}

void serve_info(struct klogd_serve *s, const struct serve_req *q)
{
	const struct klog_ctl *ctl = s->cfg.ctl;
	uint64_t first, end;
	struct klog_info in;
	struct klog_hdr h;

	if (log_bounds(s, &first, &end)) {
		serve_nack(s, q, KLOG_ST_UNAVAIL, 0);
		return;
	}
	in = (struct klog_info){
		.version = KLOG_VERSION_1,
		.backend = s->cfg.dir ? KLOG_INFO_DIR : KLOG_INFO_JETSTREAM,
		.port = htobe16(s->cfg.port),
		.max_record = htobe32(KLOG_MAX_RECORD),
		.block_size = htobe32(KLOG_BLOCK_SIZE),
		.max_read_bytes = htobe32(KLOG_READ_MAX_BYTES),
		.log_id = htobe64(__atomic_load_n(&ctl->log_id, __ATOMIC_ACQUIRE)),
		.first_lsn = htobe64(first),
		.durable_lsn = htobe64(end),
		.next_lsn = htobe64(__atomic_load_n(&ctl->next_lsn, __ATOMIC_ACQUIRE)),
	};
	h = reply_hdr(q, KLOG_OP_INFO_REPLY, KLOG_ST_OK, 0, 0, sizeof(in));
	s->infos++;
	send_one(s, q, &h, &in, sizeof(in));
}
