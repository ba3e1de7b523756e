// SPDX-License-Identifier: GPL-2.0-only
/*
 * rremote.c - a reader's records from a klog server over UDP (klog.h; the
 * server source of rsrc.h; the protocol is doc/protocol.md, "Reading").
 *
 * One READ asks for a range; the server answers with one RECORD per record
 * and flags the last.  The records received are kept in a cache of one
 * answer's size, by their place after the LSN asked for, so that a resend
 * (after the timeout, or at once when the last RECORD shows that one before
 * it was lost) asks only from the first LSN still missing and the records
 * already received after it are not waited for twice.  Only the run of
 * records without a gap from the LSN asked for is ever handed out: nothing
 * is skipped, and everything comes in order.  Each resend is a new request
 * id, so RECORDs answering an older request, lost in the network for a
 * while, are ignored.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "parse.h"
#include "rsrc.h"
#include "udp.h"

#define DEFAULT_TIMEOUT_MS 200
#define DEFAULT_RETRIES 10
#define DEFAULT_MAX_BYTES (64u * 1024)
/*
 * A long poll's wait, at most: the server holds it up to 30 s, but a lost
 * long poll is resent only after its wait plus the timeout, so klog_reader_wait()
 * asks for a shorter one, again and again.
 */
#define LONG_POLL_TIMEOUTS 25
/* A lookup at most this far past the records held reads ahead. */
#define READAHEAD_GAP 64

/* One record of the cache. */
struct slot {
	uint64_t txid;
	uint32_t len;
	uint32_t crc; /* rec_crc: the stored record's */
	uint32_t flags; /* KLOG_REC_F_TOMBSTONE: the server answered CORRUPT */
	uint8_t bytes[KLOG_MAX_RECORD];
};

struct klog_rremote {
	int fd;
	struct klog_remote_opts o;
	uint32_t client_id;
	uint64_t request_id;   /* the request whose answers are taken */
	uint64_t first;        /* the LSN of cache[0] */
	size_t n;              /* records held from first without a gap */
	bool bad_crc;          /* a RECORD of the last try failed its CRC-32C */
	bool have[KLOG_READ_MAX_RECORDS];
	struct slot *cache;    /* KLOG_READ_MAX_RECORDS */
	char *server;          /* as given, for messages */
	char *msg;             /* the reader's: the last error's detail */
	uint8_t dgram[sizeof(struct klog_hdr) + sizeof(struct klog_read_rec) + KLOG_MAX_RECORD];
};

/* Set the detail of err in the reader's message, and return err. */
#define failf(s, err, ...) klog_rsrc_fail((s)->msg, err, __VA_ARGS__)

static void rremote_close(void *src)
{
	struct klog_rremote *s = src;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->cache);
	free(s->server);
	free(s);
}

static int rremote_open(void **out, const char *server, const void *arg, char *msg)
{
	const struct klog_remote_opts *o = arg;
	struct klog_rremote *s = calloc(1, sizeof(*s));
	char *host, *port, *split;
	int err;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->msg = msg;
	s->o = o ? *o : (struct klog_remote_opts){ 0 };
	if (!s->o.timeout_ms)
		s->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (s->o.timeout_ms > KLOG_READ_MAX_WAIT_MS)
		s->o.timeout_ms = KLOG_READ_MAX_WAIT_MS;
	if (!s->o.retries)
		s->o.retries = DEFAULT_RETRIES;
	if (!s->o.max_bytes)
		s->o.max_bytes = DEFAULT_MAX_BYTES;
	if (s->o.max_bytes < KLOG_MAX_RECORD)
		s->o.max_bytes = KLOG_MAX_RECORD;
	s->request_id = klog_udp_first_request();
	s->server = strdup(server);
	s->cache = malloc(KLOG_READ_MAX_RECORDS * sizeof(*s->cache));
	split = strdup(server);
	if (!s->server || !s->cache || !split) {
		free(split);
		rremote_close(s);
		return -ENOMEM;
	}
	klog_split_server(split, &host, &port);
	err = klog_udp_connect(host, port, &s->fd);
	if (!err && getrandom(&s->client_id, sizeof(s->client_id), 0) < 0)
		err = -errno;
	free(split);
	if (err) {
		rremote_close(s);
		return klog_rsrc_fail(msg, err, "server %s: %s", server, klog_strerror(err));
	}
	/* A whole answer may arrive before the reader looks. */
	klog_udp_size_buffer(s->fd, SO_RCVBUF, SO_RCVBUFFORCE,
			     KLOG_READ_MAX_RECORDS * KLOG_UDP_TRUESIZE);
	*out = s;
	return 0;
}

/* Send a request (READ with req, or INFO) with a new request id. */
static int send_req(struct klog_rremote *s, uint8_t opcode, uint64_t lsn,
		    const struct klog_read_req *req)
{
	struct klog_msg m = {
		.opcode = opcode,
		.client_id = s->client_id,
		.len = req ? sizeof(*req) : 0,
		.request_id = ++s->request_id,
		.lsn = lsn,
	};
	uint8_t buf[sizeof(struct klog_hdr) + sizeof(*req)];
	int n = klog_encode(buf, sizeof(buf), &m, req);

	if (n < 0)
		return failf(s, n, "server %s: cannot encode the request", s->server);
	if (send(s->fd, buf, (size_t)n, MSG_NOSIGNAL) < 0 && !klog_udp_lost(errno))
		return failf(s, -errno, "server %s: %s", s->server, strerror(errno));
	return 0;
}

/*
 * The next datagram answering the current request, into m and s->dgram
 * (its length, as sent, in *len): 1; 0 at deadline; -errno.  Others'
 * datagrams, older requests' and malformed ones are dropped.
 */
static int next_answer(struct klog_rremote *s, uint64_t deadline, struct klog_msg *m,
		       size_t *len)
{
	for (;;) {
		ssize_t n = recv(s->fd, s->dgram, sizeof(s->dgram), MSG_DONTWAIT | MSG_TRUNC);
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int left;

		if (n >= 0) {
			size_t got = (size_t)n < sizeof(s->dgram) ? (size_t)n : sizeof(s->dgram);

			if (!klog_decode(s->dgram, got, m) && m->client_id == s->client_id &&
			    m->request_id == s->request_id &&
			    (size_t)n == sizeof(struct klog_hdr) + m->len) {
				*len = (size_t)n;
				return 1;
			}
			continue;
		}
		if (errno != EAGAIN) {
			if (klog_udp_lost(errno))
				continue;
			return failf(s, -errno, "server %s: %s", s->server, strerror(errno));
		}
		if (!(left = klog_rsrc_left_ms(deadline)))
			return 0;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return failf(s, -errno, "server %s: %s", s->server, strerror(errno));
	}
}

/* The reader's error for a NACK of status st about lsn; its detail names the server. */
static int nack(struct klog_rremote *s, uint64_t lsn, const struct klog_msg *m)
{
	const char *srv = s->server;

	switch (m->status) {
	case KLOG_ST_NOTYET:
		return failf(s, -EAGAIN, "server %s: LSN %" PRIu64 ": the durable log ends before "
			     "LSN %" PRIu64, srv, lsn, m->lsn);
	case KLOG_ST_TRIMMED:
		return failf(s, -ENOENT, "server %s: LSN %" PRIu64 ": the first record kept is LSN %"
			     PRIu64, srv, lsn, m->lsn);
	case KLOG_ST_LOST:
		return failf(s, -ENOLINK, "server %s: LSN %" PRIu64 ": the server's copy is missing "
			     "or damaged (its klogd logs the file and offset)", srv, lsn);
	case KLOG_ST_UNAVAIL:
		return failf(s, -EHOSTUNREACH, "server %s: LSN %" PRIu64 ": the server cannot read "
			     "its log now", srv, lsn);
	case KLOG_ST_TOOBIG:
		return failf(s, -EMSGSIZE, "server %s: LSN %" PRIu64 ": the record is larger than "
			     "max_bytes, %" PRIu32, srv, lsn, s->o.max_bytes);
	default:
		return failf(s, -EPROTO, "server %s: LSN %" PRIu64 ": refused: %s (status %u)", srv,
			     lsn, klog_status_str(m->status), m->status);
	}
}

/* What one RECORD did to the cache. */
enum took { TOOK_NOTHING, TOOK_RECORD, TOOK_LAST };

/*
 * Keep a RECORD of len bytes (header m, in s->dgram) in the cache; one
 * that fails its CRC-32C is dropped as lost.  TOOK_LAST if it closes the
 * answer (LAST flag), TOOK_RECORD if only kept; -EMSGSIZE if it is larger
 * than this build can hold.
 */
static int take(struct klog_rremote *s, const struct klog_msg *m, size_t len)
{
	const uint8_t *p = s->dgram + sizeof(struct klog_hdr);
	size_t bytes = len - sizeof(struct klog_hdr) - sizeof(struct klog_read_rec);
	uint64_t at = m->lsn - s->first;
	struct klog_read_rec rr;
	struct slot *sl;

	if ((m->status != KLOG_ST_OK && m->status != KLOG_ST_CORRUPT) ||
	    len < sizeof(struct klog_hdr) + sizeof(rr))
		return TOOK_NOTHING;
	/* A tombstone carries no bytes; one that does is out of protocol: as if lost. */
	if (m->status == KLOG_ST_CORRUPT && bytes)
		return TOOK_NOTHING;
	if (bytes > KLOG_MAX_RECORD)
		return failf(s, -EMSGSIZE, "server %s: LSN %" PRIu64 ": a record of %zu bytes, "
			     "above this libklog's largest (%d)", s->server, m->lsn, bytes,
			     KLOG_MAX_RECORD);
	memcpy(&rr, p, sizeof(rr));
	if (m->lsn < s->first || at >= KLOG_READ_MAX_RECORDS)
		return TOOK_NOTHING;
	if (klog_crc32c(0, p + sizeof(rr), bytes) != be32toh(rr.crc)) {
		s->bad_crc = true; /* as if lost: asked for again */
		return m->flags & KLOG_F_LAST ? TOOK_LAST : TOOK_NOTHING;
	}
	sl = &s->cache[at];
	sl->txid = m->txid;
	sl->len = (uint32_t)bytes;
	sl->crc = be32toh(rr.rec_crc);
	sl->flags = m->status == KLOG_ST_CORRUPT ? KLOG_REC_F_TOMBSTONE : 0;
	memcpy(sl->bytes, p + sizeof(rr), bytes);
	s->have[at] = true;
	while (s->n < KLOG_READ_MAX_RECORDS && s->have[s->n])
		s->n++;
	return m->flags & KLOG_F_LAST ? TOOK_LAST : TOOK_RECORD;
}

/*
 * READ from..to (to 0: no limit) into the cache, waiting up to wait_ms for
 * from to be durable.  A request is sent again, from the first LSN still
 * missing, when its answer ends with one missing or none comes within the
 * timeout (plus the wait); retries such resends in a row without a new
 * record give up.  RETURN VALUE: 0 with s->n >= 1 records from `from`; the
 * error of a NACK about from; -ETIMEDOUT; -errno.
 */
static int fetch(struct klog_rremote *s, uint64_t from, uint64_t to, uint32_t wait_ms)
{
	unsigned int tries = 0;

	s->first = from;
	s->n = 0;
	memset(s->have, 0, sizeof(s->have));
	for (;;) {
		uint64_t want = from + s->n, last = UINT64_MAX;
		uint32_t wait = s->n ? 0 : wait_ms;
		struct klog_read_req q = {
			.to_lsn = htobe64(to),
			.max_bytes = htobe32(s->o.max_bytes),
			.wait_ms = htobe32(wait),
		};
		uint64_t deadline = klog_now_ns() + (uint64_t)(s->o.timeout_ms + wait) *
					   KLOG_NS_PER_MS;
		size_t before = s->n, len;
		struct klog_msg m;
		int ret;

		if (s->n == KLOG_READ_MAX_RECORDS || (to && want > to))
			return 0;
		if ((ret = send_req(s, KLOG_OP_READ, want, &q)))
			return ret;
		s->bad_crc = false;
		while ((ret = next_answer(s, deadline, &m, &len)) > 0) {
			if (m.opcode == KLOG_OP_NACK) {
				if (s->n)
					return 0; /* the next call from s->first + s->n asks again */
				return nack(s, from, &m);
			}
			if (m.opcode != KLOG_OP_RECORD)
				continue;
			if ((ret = take(s, &m, len)) < 0)
				return ret;
			if (ret == TOOK_LAST) {
				last = m.lsn;
				break;
			}
		}
		/* What came is handed out; the error is the next call's, from there. */
		if (ret < 0)
			return s->n ? 0 : ret;
		if (last != UINT64_MAX && s->n && from + s->n > last)
			return 0; /* the whole answer */
		tries = s->n > before ? 0 : tries + 1;
		if (tries > s->o.retries && s->n)
			return 0;
		if (tries > s->o.retries)
			return failf(s, -ETIMEDOUT, "server %s: LSN %" PRIu64 ": no answer after %u "
				     "resends, %u ms apart%s", s->server, from + s->n, s->o.retries,
				     s->o.timeout_ms, s->bad_crc ? " (a RECORD failed its CRC-32C)" :
				     "");
	}
}

/* The cached record of lsn, or NULL. */
static const struct slot *cached(const struct klog_rremote *s, uint64_t lsn)
{
	return lsn >= s->first && lsn - s->first < s->n ? &s->cache[lsn - s->first] : NULL;
}

static struct klog_rec rec_of(const struct slot *sl, uint64_t lsn)
{
	return (struct klog_rec){ .lsn = lsn, .txid = sl->txid, .len = sl->len, .crc = sl->crc,
				  .flags = sl->flags, .payload = sl->bytes };
}

static int rremote_lookup(void *src, uint64_t lsn, struct klog_rec *rec)
{
	struct klog_rremote *s = src;
	const struct slot *sl;
	int err;

	s->msg[0] = 0;
	/*
	 * Just past the records held, a reader goes through the log in order:
	 * ask for a range (readahead), so that klog_read() LSN by LSN costs
	 * what klog_iterate() does; anywhere else, for the one record.
	 */
	if (!(sl = cached(s, lsn)) &&
	    (err = fetch(s, lsn, s->n && lsn >= s->first + s->n &&
			 lsn - (s->first + s->n) < READAHEAD_GAP ? 0 : lsn, 0)))
		return err;
	*rec = rec_of(cached(s, lsn), lsn);
	return 0;
}

static int rremote_iterate(void *src, uint64_t from, uint64_t to, klog_iter_fn fn, void *ctx)
{
	struct klog_rremote *s = src;

	s->msg[0] = 0;
	for (uint64_t lsn = from; lsn <= to && lsn >= from; lsn++) {
		struct klog_record meta;
		struct klog_rec rec;
		int ret;

		if (!cached(s, lsn) && (ret = fetch(s, lsn, to == UINT64_MAX ? 0 : to, 0))) {
			if (ret == -EAGAIN)
				s->msg[0] = 0;
			return ret == -EAGAIN ? 0 : ret;
		}
		rec = rec_of(cached(s, lsn), lsn);
		meta = klog_rec_meta(&rec, lsn);
		if ((ret = fn(&meta, klog_rec_payload(&rec), ctx)))
			return ret;
	}
	return 0;
}

/* INFO, resent as a READ is; its answer into out. */
static int info(struct klog_rremote *s, struct klog_server_info *out)
{
	for (unsigned int tries = 0; tries <= s->o.retries; tries++) {
		uint64_t deadline = klog_now_ns() + s->o.timeout_ms * KLOG_NS_PER_MS;
		struct klog_info in;
		struct klog_msg m;
		size_t len;
		int ret;

		if ((ret = send_req(s, KLOG_OP_INFO, 0, NULL)))
			return ret;
		while ((ret = next_answer(s, deadline, &m, &len)) > 0) {
			if (m.opcode == KLOG_OP_NACK && m.status == KLOG_ST_UNAVAIL)
				return failf(s, -EHOSTUNREACH, "server %s: cannot read its log now",
					     s->server);
			if (m.opcode == KLOG_OP_NACK)
				return failf(s, -EPROTO, "server %s: INFO refused: %s", s->server,
					     klog_status_str(m.status));
			if (m.opcode != KLOG_OP_INFO_REPLY || m.status != KLOG_ST_OK ||
			    m.len < sizeof(in))
				continue;
			memcpy(&in, s->dgram + sizeof(struct klog_hdr), sizeof(in));
			*out = (struct klog_server_info){
				.version = in.version,
				.backend = in.backend,
				.port = be16toh(in.port),
				.max_record = be32toh(in.max_record),
				.block_size = be32toh(in.block_size),
				.max_read_bytes = be32toh(in.max_read_bytes),
				.log_id = be64toh(in.log_id),
				.first_lsn = be64toh(in.first_lsn),
				.durable_lsn = be64toh(in.durable_lsn),
				.next_lsn = be64toh(in.next_lsn),
			};
			return 0;
		}
		if (ret < 0)
			return ret;
	}
	return failf(s, -ETIMEDOUT, "server %s: no answer to INFO after %u resends, %u ms apart",
		     s->server, s->o.retries, s->o.timeout_ms);
}

static int rremote_bounds(void *src, uint64_t *first, uint64_t *last)
{
	struct klog_rremote *s = src;
	struct klog_server_info in;
	int err;

	s->msg[0] = 0;
	if ((err = info(s, &in)))
		return err;
	if (!in.first_lsn || in.durable_lsn <= in.first_lsn)
		return failf(s, -ENODATA, "server %s: no durable record yet", s->server);
	*first = in.first_lsn;
	*last = in.durable_lsn - 1;
	return 0;
}

/* Long polls, each as long as what is left and LONG_POLL_TIMEOUTS timeouts at most. */
static int rremote_wait(void *src, uint64_t lsn, int timeout_ms)
{
	uint64_t deadline = klog_rsrc_deadline(timeout_ms);
	struct klog_rremote *s = src;
	uint32_t most = s->o.timeout_ms * LONG_POLL_TIMEOUTS;
	int err, left;

	s->msg[0] = 0;
	if (most > KLOG_READ_MAX_WAIT_MS)
		most = KLOG_READ_MAX_WAIT_MS;
	if (cached(s, lsn))
		return 0;
	for (;;) {
		uint64_t asked = klog_now_ns();
		uint32_t wait;

		left = klog_rsrc_left_ms(deadline);
		wait = left < 0 || (uint32_t)left > most ? most : (uint32_t)left;
		err = fetch(s, lsn, 0, wait);
		if (err != -EAGAIN)
			return err;
		if (!(left = klog_rsrc_left_ms(deadline)))
			return failf(s, -ETIMEDOUT, "server %s: LSN %" PRIu64 " not durable after "
				     "%d ms", s->server, lsn, timeout_ms);
		/* NOTYET long before the wait was over: the server holds no more polls now. */
		if (klog_now_ns() - asked < wait / 2 * KLOG_NS_PER_MS)
			usleep(1000u * (left < 0 || (unsigned int)left > s->o.timeout_ms ?
					s->o.timeout_ms : (unsigned int)left));
	}
}

/* The id the server's INFO gives. */
static int rremote_log_id(void *src, uint64_t *id)
{
	struct klog_rremote *s = src;
	struct klog_server_info in;
	int err = info(s, &in);

	if (!err)
		*id = in.log_id;
	return err;
}

static const struct klog_rsrc_ops rremote_ops = {
	.open = rremote_open,
	.close = rremote_close,
	.bounds = rremote_bounds,
	.lookup = rremote_lookup,
	.iterate = rremote_iterate,
	.wait = rremote_wait,
	.log_id = rremote_log_id,
};

int klog_reader_open_server(struct klog_reader **r, const char *server,
			    const struct klog_remote_opts *o)
{
	return klog_reader_start(r, &rremote_ops, server, o);
}

int klog_server_info(const char *server, const struct klog_remote_opts *o,
		     struct klog_server_info *out)
{
	char msg[KLOG_READER_MSG];
	void *s;
	int err = rremote_open(&s, server, o, msg);

	if (err)
		return err;
	err = info(s, out);
	rremote_close(s);
	return err;
}
