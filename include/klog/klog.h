/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * klog.h - libklog, the public API.
 *
 * Every function returns 0 (or a byte count) on success and a negative errno
 * value on failure; none reports through errno.
 */
#ifndef KLOG_H
#define KLOG_H

#include <stddef.h>
#include <stdint.h>

#include <klog/klog_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KLOG_API __attribute__((visibility("default")))

/* The fields of a request or reply header, in host byte order. */
struct klog_msg {
	uint8_t version;
	uint8_t opcode;
	uint16_t flags;
	uint32_t client_id;
	uint16_t status;
	uint16_t len;
	uint64_t request_id;
	uint64_t txid;
	uint64_t lsn;
};

/*
 * klog_encode_append - write an APPEND datagram (header + payload) to buf.
 * RETURN VALUE: the datagram's length; -EINVAL if len is 0 or above
 * KLOG_MAX_RECORD, -ENOSPC if cap is too small.
 */
KLOG_API int klog_encode_append(void *buf, size_t cap, uint32_t client_id,
				uint64_t request_id, uint64_t txid,
				const void *payload, size_t len);

/*
 * klog_decode - parse the header of a klog datagram of n bytes into msg.
 * RETURN VALUE: 0; -EBADMSG if it is shorter than a header or has the wrong
 * magic; -EPROTO if its version is not 1.
 */
KLOG_API int klog_decode(const void *buf, size_t n, struct klog_msg *msg);

/* klog_status_str - a short name for a reply status ("ok", "full", ...). */
KLOG_API const char *klog_status_str(unsigned int status);

/* klog_stat_name - the field name of statistics counter id, or NULL. */
KLOG_API const char *klog_stat_name(unsigned int id);

/* ------------------------------------------------------------------ */
/* Reader: records back from a log directory by LSN (doc/format.md)     */

struct klog_reader;

/* A record's metadata. */
struct klog_record {
	uint64_t lsn;
	uint64_t txid;
	uint32_t len; /* payload bytes */
	uint32_t crc; /* CRC-32C of the on-disk record (doc/format.md) */
};

/*
 * klog_reader_open - open the log in dir for reading; safe while klogd
 * writes it.  RETURN VALUE: 0; -ENOENT if dir does not exist.
 */
KLOG_API int klog_reader_open(struct klog_reader **r, const char *dir);
KLOG_API void klog_reader_close(struct klog_reader *r);

/*
 * klog_reader_bounds - the first and last durable LSN.
 * RETURN VALUE: 0; -ENODATA if no record is durable yet.
 */
KLOG_API int klog_reader_bounds(struct klog_reader *r, uint64_t *first, uint64_t *last);

/*
 * klog_read - read record lsn: up to cap payload bytes into buf, its metadata
 * into rec (may be NULL).  Never returns a record past the durable point or
 * one that fails its CRC.  RETURN VALUE: the payload length; -ENOENT if lsn
 * is below the first record kept (truncated); -EAGAIN if it is not durable
 * yet; -EBADMSG if it is corrupt on disk; -ENOSPC if cap is too small
 * (rec->len then says how much is needed).
 */
KLOG_API int klog_read(struct klog_reader *r, uint64_t lsn, void *buf, size_t cap,
		       struct klog_record *rec);

/* Called by klog_iterate for each record; a non-zero return stops it and is returned. */
typedef int (*klog_iter_fn)(const struct klog_record *rec, const void *payload, void *ctx);

/*
 * klog_iterate - call fn for every durable record from LSN from to LSN to,
 * inclusive, in order.  RETURN VALUE: 0, fn's non-zero return, or the first
 * error of klog_read (-EAGAIN is not an error: it ends the range early).
 */
KLOG_API int klog_iterate(struct klog_reader *r, uint64_t from, uint64_t to, klog_iter_fn fn,
			  void *ctx);

/* ------------------------------------------------------------------ */
/* Client: append records to a klog server over UDP                     */

struct klog_client;

struct klog_client_opts {
	unsigned int timeout_ms; /* wait for a reply this long before resending; 0: 200 */
	unsigned int retries;    /* resends and FULL/BUSY retries before giving up */
	uint32_t client_id;      /* 0: a random one */
};

/*
 * klog_client_open - a client of the server at host (name or address) and
 * port (NULL: 7070); opts NULL means 200 ms and 10 retries.
 * RETURN VALUE: 0; -EHOSTUNREACH if host does not resolve; -errno.
 */
KLOG_API int klog_client_open(struct klog_client **c, const char *host, const char *port,
			      const struct klog_client_opts *opts);
KLOG_API void klog_client_close(struct klog_client *c);

/*
 * klog_client_append - append one record and wait for its LSN.  A request
 * that gets no reply in time is sent again with the same request id; FULL,
 * BUSY and NOTREADY answers are retried after a pause.  Until the server
 * deduplicates retransmissions, a resend after a lost ACK may append the
 * record twice.  RETURN VALUE: 0 with *lsn set; -ETIMEDOUT after the last
 * try; -ENOSPC (log full), -EBUSY, -EAGAIN (not ready) when retries ran out;
 * -EMSGSIZE (too big), -EINVAL (bad length), -EPROTO (refused as malformed).
 */
KLOG_API int klog_client_append(struct klog_client *c, const void *payload, size_t len,
				uint64_t txid, uint64_t *lsn);

#ifdef __cplusplus
}
#endif

#endif /* KLOG_H */
