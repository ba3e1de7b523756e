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
 * klog_encode_append - write an APPEND datagram (header + payload) to buf,
 * with KLOG_F_CRC and the payload's CRC-32C in the lsn field.
 * RETURN VALUE: the datagram's length; -EINVAL if len is 0 or above
 * KLOG_MAX_RECORD, -ENOSPC if cap is too small.
 */
KLOG_API int klog_encode_append(void *buf, size_t cap, uint32_t client_id,
				uint64_t request_id, uint64_t txid,
				const void *payload, size_t len);

/*
 * klog_encode - write any datagram: the header m (host byte order; the magic
 * is added, version 0 means 1) followed by m->len bytes of payload (may be
 * NULL when m->len is 0).  Used for QUERY and flagged APPENDs, and by tests
 * that answer as a server.  RETURN VALUE: the datagram's length; -EINVAL if
 * m->len is above KLOG_MAX_RECORD or payload is NULL with m->len > 0;
 * -ENOSPC if cap is too small.
 */
KLOG_API int klog_encode(void *buf, size_t cap, const struct klog_msg *m, const void *payload);

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
/* Reader: records back by LSN from a log directory, a JetStream       */
/* stream (doc/format.md), a klog server or an export file             */

struct klog_reader;

/* A record's metadata. */
struct klog_record {
	uint64_t lsn;
	uint64_t txid;
	uint32_t len;   /* payload bytes; 0 for a tombstone */
	uint32_t crc;   /* CRC-32C of the on-disk record (doc/format.md) */
	uint32_t flags; /* KLOG_RECORD_CORRUPT or 0 */
	uint32_t pad;
};

/*
 * A tombstone (doc/format.md, "Tombstones"): the LSN was given out, but the
 * bytes the client sent were damaged on the way (they failed the request's
 * CRC-32C, KLOG_F_CRC, or the kernel saw the damage), so the log keeps the
 * LSN with no payload and this flag, and never the bytes.  klog_read() of
 * it returns -EILSEQ with rec filled in (len 0, this flag); klog_iterate()
 * passes it to fn with this flag and payload NULL and goes on.  A remote
 * reader gets it as the server's CORRUPT answer (doc/protocol.md).
 */
#define KLOG_RECORD_CORRUPT 0x1u

/*
 * A reader never skips what it cannot read.  Segment files are opened when
 * first read, at most 16 at a time (the least recently used are closed), so
 * a log of any number of segments needs about 35 descriptors.  Its errors:
 *   -ENOENT    the LSN is below the first segment kept (trimmed)
 *   -EAGAIN    the LSN is past the log's durable end (not durable yet)
 *   -ENOLINK   a segment or index that should hold the LSN is missing or
 *              cannot be opened or read (a hole in the sequence of
 *              segments; a file removed, not a regular file, or failing
 *              with EIO): the log has lost it, or must be recovered
 *   -EBADMSG   the bytes are there but damaged (record CRC, LSN or salt; a
 *              segment header; an index entry past the end of the file)
 *   -EMFILE, -ENFILE, -ENOMEM   out of resources even with other segments
 *              closed; nothing is wrong with the log
 *   -EILSEQ    (klog_read()) the LSN holds a tombstone (KLOG_RECORD_CORRUPT):
 *              not an error of the log; every source answers it so
 * After any of them klog_reader_strerror() names the file, the offset and
 * the LSNs.
 */

/*
 * The same reader reads a log that klogd replicates into a NATS JetStream
 * stream (doc/format.md, "A log in a JetStream stream"): stream sequence N
 * holds the record of LSN N.  Every call below works on it as on a
 * directory, with these meanings of the errors:
 *   -ENOENT    the LSN is below the stream's first sequence (purged: trimmed)
 *   -EAGAIN    the LSN is past its last sequence (not durable yet: only
 *              JetStream's ack makes a record durable, and klogd publishes
 *              nothing else)
 *   -EBADMSG   the message is not that LSN's record sealed with the log id
 *              (CRC, LSN, salt, length, or bytes after the record)
 *   -ENOLINK   the stream does not exist, or has no message at a sequence
 *              inside its range (deleted): the log has lost it
 *   -EHOSTUNREACH  no server of the cluster, or no leader of the stream,
 *              answers within 5 s (refused, timed out, no quorum): nothing
 *              is known to be wrong with the log; try again later
 *   -EPROTO    the stream is not a klog log (its description is not
 *              "klog log <16 hex digits>"); or, iterating, the consumer
 *              delivered a sequence below one it delivered before
 * klog_reader_bounds() is -ENODATA for a stream with no message (new, or
 * all purged).  klog_reader_strerror() names the stream and the sequence
 * (and the URLs where the cluster did not answer).  klog_read() is one request to the
 * stream's leader for a record that is there (the first call also reads
 * the stream's description); klog_iterate() reads a range through one
 * ordered consumer, checking that the sequences come without a gap.
 */

/*
 * klog_reader_open_nats - a reader of the log in JetStream stream stream
 * through the servers in urls ("nats://host:port,nats://host2:port" or
 * "host:port").  It connects at the first call that needs it (and again
 * at the next one if that failed), so that an unreachable cluster is an
 * error of that call, with its detail.
 * RETURN VALUE: 0; -EINVAL if stream is not 1..64 of [A-Za-z0-9_-];
 * -ENOMEM.
 */
KLOG_API int klog_reader_open_nats(struct klog_reader **r, const char *urls, const char *stream);

/*
 * klog_reader_open_file - a reader of the export file at path (doc/format.md,
 * "Export files"; klog_export_open()).  The first call walks the frames
 * once and keeps their offsets (8 bytes a record); a read is one pread,
 * checked again.  A file without a trailer may still be growing: a read past what
 * was walked walks on.  The errors of the calls below on a file:
 *   -ENOENT    the LSN is below the header's first
 *   -EAGAIN    past the last LSN: the header's last, or the trailer's; or,
 *              open-ended with no trailer yet, past the last whole frame
 *   -EBADMSG   damaged: the header (every call fails), a frame (magic,
 *              length, CRC, padding, cut short at the end of the file, an
 *              LSN out of order or past the header's last), the trailer
 *              (against the frames or the header, bytes after it); and,
 *              for a header with a last LSN, the file ends before it
 *   -ENOLINK   a gap: the frame after LSN N carries a later LSN than N + 1;
 *              or the file cannot be read (EIO)
 *   -EPROTO    the header is of another export format version
 * Nothing after the first problem is returned, whatever it looks like.
 * klog_reader_bounds() gives the header's range, or for an open-ended one
 * the trailer's (or the frames' so far), including a damaged frame so that
 * reading to the end stops at it; -ENODATA if there is no frame.
 * klog_reader_strerror() says "PATH offset O LSN N: what".
 * RETURN VALUE: 0; -ENOENT; -EINVAL if path is not a regular file (a pipe
 * cannot be read by LSN); -ENOMEM; -errno of open.
 */
KLOG_API int klog_reader_open_file(struct klog_reader **r, const char *path);

/*
 * klog_reader_open - open the log in dir for reading; safe while klogd
 * writes it.  Files in dir that are not segments (indexes, NAME.tmp,
 * klog.meta, klogd.lock) are not looked at.
 * RETURN VALUE: 0; -ENOENT if dir does not exist; -ENOMEM; -errno of
 * opening or listing dir.
 */
KLOG_API int klog_reader_open(struct klog_reader **r, const char *dir);
KLOG_API void klog_reader_close(struct klog_reader *r);

/*
 * klog_reader_strerror - the detail of the last error a call on r returned,
 * e.g. "DIR/00000000000000000001.klog offset 4096 LSN 17: CRC 0x1c2d3e4f
 * expected 0x5a6b7c8d (segment of LSNs 1..500)": the file, the offset in it,
 * the LSN and what is wrong, and the LSNs the file holds.  "" if the last
 * call succeeded or its error has no more to say (-ENOSPC).  Valid until the
 * next call on r.
 * RETURN VALUE: the message, never NULL.
 */
KLOG_API const char *klog_reader_strerror(struct klog_reader *r);

/*
 * klog_reader_bounds - the first and last durable LSN.
 * RETURN VALUE: 0; -ENODATA if no record is durable yet; -ENOLINK if the
 * newest segments' indexes are missing or unreadable; -EMFILE, -ENFILE,
 * -ENOMEM.
 */
KLOG_API int klog_reader_bounds(struct klog_reader *r, uint64_t *first, uint64_t *last);

/*
 * klog_reader_log_id - the log's id: of the first segment header that
 * decodes, the stream's description, the server's INFO, the export file's
 * header.
 * RETURN VALUE: 0; -ENODATA if a directory has no segment; -EOPNOTSUPP if
 * the source cannot tell; the errors of klog_reader_bounds().
 */
KLOG_API int klog_reader_log_id(struct klog_reader *r, uint64_t *log_id);

/*
 * klog_read - read record lsn: up to cap payload bytes into buf, its metadata
 * into rec (may be NULL).  Never returns a record past the durable point or
 * one that fails its CRC.
 * RETURN VALUE: the payload length; -ENOENT if lsn is below the first record
 * kept (trimmed); -EAGAIN if it is not durable yet (past the end of the
 * newest segment's index: never for a record in an earlier segment that
 * the reader could not open or find); -ENOLINK if
 * the segment or index holding it is missing or unreadable, or no segment
 * holds it though later ones exist (a hole); -EBADMSG if it is corrupt on
 * disk; -EILSEQ if the LSN holds a tombstone (KLOG_RECORD_CORRUPT: rec is
 * filled in, with len 0, and nothing is copied to buf); -EMFILE, -ENFILE,
 * -ENOMEM; -ENOSPC if cap is too small (rec->len then says how much is
 * needed).  klog_reader_strerror() tells more.
 */
KLOG_API int klog_read(struct klog_reader *r, uint64_t lsn, void *buf, size_t cap,
		       struct klog_record *rec);

/*
 * Called by klog_iterate for each record; a non-zero return stops it and is
 * returned.  For a tombstone rec->flags has KLOG_RECORD_CORRUPT, rec->len is
 * 0 and payload is NULL.
 */
typedef int (*klog_iter_fn)(const struct klog_record *rec, const void *payload, void *ctx);

/*
 * klog_iterate - call fn for every durable record from LSN from to LSN to,
 * inclusive, in order.  Stops at the first LSN it cannot read, never skips
 * one; a tombstone is not an error: fn gets it (KLOG_RECORD_CORRUPT) and the
 * iteration goes on.  RETURN VALUE: 0 once the range or the durable log ends (-EAGAIN is
 * not an error: it ends the range early), fn's non-zero return, or the
 * first error of klog_read (-ENOENT, -ENOLINK, -EBADMSG, ...), with
 * klog_reader_strerror() saying where.
 */
KLOG_API int klog_iterate(struct klog_reader *r, uint64_t from, uint64_t to, klog_iter_fn fn,
			  void *ctx);

/*
 * klog_reader_wait - wait until record lsn is durable (klog_read() of it
 * would find it), up to timeout_ms (-1: no limit; 0: look once).  A
 * directory is watched with inotify (klogd indexes a record once it is
 * durable) and looked at again on each change; a server is asked with
 * long-polling READs (doc/protocol.md, "Reading") of at most 25 timeouts
 * each (5 s by default: a lost one costs no more), whose records are kept
 * for the klog_read() and klog_iterate() calls that follow; a JetStream
 * stream is looked at every 100 ms (JetStream tells no one of a new message
 * short of a consumer per waiter), and so is an export file that has no
 * trailer yet (one being written: klogctl export, tail --raw).
 * RETURN VALUE: 0 once it is durable; -ETIMEDOUT if it is not by the
 * timeout; the errors of klog_read() other than -EAGAIN (-ENOENT if it is
 * trimmed, ...); for a directory, -errno if inotify cannot watch it.
 */
KLOG_API int klog_reader_wait(struct klog_reader *r, uint64_t lsn, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Remote reader: the records of a klog server, over UDP                */

/*
 * The server (klogd) answers READ and INFO on its service port from its log
 * (doc/protocol.md, "Reading"), so a remote reader sees the same durable
 * records as a reader of the log itself.  Datagrams are lost: a request
 * with no complete answer within timeout_ms is sent again, from the first
 * LSN not received, with a new request id (answers to older requests and
 * to other clients are ignored); a RECORD whose CRC-32C does not match its
 * bytes counts as lost.  Every call works as on a directory, with these
 * meanings of the errors:
 *   -EAGAIN    the LSN is not durable yet (NOTYET)
 *   -ENOENT    the LSN is below the first record kept (TRIMMED)
 *   -ENOLINK   the server's copy is missing or damaged (LOST)
 *   -EHOSTUNREACH  the server cannot read its log now (UNAVAIL)
 *   -ETIMEDOUT no answer after retries resends
 *   -EMSGSIZE  the record is larger than max_bytes (TOOBIG)
 *   -EPROTO    the server refused the request (VERSION, OPCODE, BADLEN,
 *              FLAGS: it does not serve reads) or answered out of protocol
 * klog_reader_bounds() is -ENODATA when the server holds no durable
 * record.  klog_reader_strerror() names the server and the LSN.  A reader
 * is not thread-safe.  The records of the last answer are kept: a
 * klog_read() of one of them costs no request, and a klog_read() just past
 * them (at most 64 LSNs on) asks for a range, so reading the log in LSN
 * order costs what klog_iterate() does.
 */
struct klog_remote_opts {
	unsigned int timeout_ms; /* wait for an answer this long before resending; 0: 200 */
	unsigned int retries;    /* resends before giving up; 0: 10 */
	uint32_t max_bytes;      /* record bytes per READ answer, 0: 64 KiB; at least the
				  * largest record (KLOG_MAX_RECORD) */
};

/*
 * klog_reader_open_server - a reader of the log of the klog server at
 * server: HOST[:PORT] or [V6ADDR]:PORT (port 7070 if none), as
 * klog_client_open() takes it.  o NULL means the defaults.  The socket's
 * receive buffer is made large enough for a whole READ answer (256
 * records; SO_RCVBUFFORCE where allowed, else a warning on stderr: the
 * reader works, with resends).  Nothing is sent before the first call.
 * RETURN VALUE: 0; -EINVAL if PORT is not a decimal 1..65535; -ENXIO if HOST
 * does not resolve (klog_strerror() says why); -ENOMEM; -errno.
 */
KLOG_API int klog_reader_open_server(struct klog_reader **r, const char *server,
				     const struct klog_remote_opts *o);

/* What a server says of itself: struct klog_info (doc/protocol.md) in host byte order. */
struct klog_server_info {
	uint8_t version;         /* highest protocol version the server speaks */
	uint8_t backend;         /* enum klog_info_backend */
	uint16_t port;           /* the service port */
	uint32_t max_record;     /* largest record the server takes, bytes */
	uint32_t block_size;     /* bytes per memory pool block */
	uint32_t max_read_bytes; /* record bytes of one READ answer at most */
	uint64_t log_id;         /* the log's identity */
	uint64_t first_lsn;      /* the first record kept; 0 if none is durable yet */
	uint64_t durable_lsn;    /* every LSN below is durable */
	uint64_t next_lsn;       /* the LSN the next append will get */
};

/*
 * klog_server_info - ask the server at server (as klog_reader_open_server())
 * with INFO, resent as o says (may be NULL).
 * RETURN VALUE: 0 with *out filled in; -ETIMEDOUT if no answer came;
 * -EHOSTUNREACH if it cannot read its log now; -EINVAL if PORT is not a
 * decimal 1..65535; -ENXIO if HOST does not resolve (klog_strerror() says
 * why);
 * -EPROTO if it does not answer INFO; -errno.
 */
KLOG_API int klog_server_info(const char *server, const struct klog_remote_opts *o,
			      struct klog_server_info *out);

/* ------------------------------------------------------------------ */
/* The library itself                                                   */

/* klog_version - the version of this libklog ("0.1.0"): the meson project's. */
KLOG_API const char *klog_version(void);

/* klog_max_record - the largest record this libklog was built for (KLOG_MAX_RECORD). */
KLOG_API size_t klog_max_record(void);

/*
 * klog_strerror - err, returned by a klog_client_* call, a completion
 * callback, klog_reader_open_server() or klog_server_info(), in words for
 * an operator.  Where strerror() would mislead: -ENOSPC (FULL) is "log full
 * (klogd behind or stopped)", not a full disk here; -ENXIO is "cannot
 * resolve HOST: WHY" with the resolver's reason (gai_strerror) of this
 * thread's last failed lookup.  Any other err is strerror(-err).  The text
 * is static or thread-local: valid until this thread's next lookup.
 */
KLOG_API const char *klog_strerror(int err);

/* ------------------------------------------------------------------ */
/* Verify: check a whole log directory against the format               */

/*
 * One problem klog_verify() found; or, with err -EILSEQ, a tombstone it
 * passed (KLOG_RECORD_CORRUPT: a record whose bytes were damaged before
 * they were stored), which is not a problem of the log: it is not counted
 * in problems, does not make the check fail and does not stop it.
 */
struct klog_verify_problem {
	int err;          /* -EBADMSG damaged, -ENOLINK missing or unreadable, -EPROTO other
			   * format; -EILSEQ a tombstone */
	const char *file; /* the file's name in the directory; NULL: the directory */
	uint64_t offset;  /* in file; UINT64_MAX: none */
	uint64_t lsn;     /* the LSN concerned (the first of a range); UINT64_MAX: none */
	const char *what; /* what is wrong, in words, with what was found and expected */
};

/* What klog_verify() looked at. */
struct klog_verify_summary {
	uint64_t segments;  /* segment files */
	uint64_t records;   /* records the indexes name */
	uint64_t first_lsn; /* the first segment's first LSN */
	uint64_t last_lsn;  /* the last record indexed; first_lsn - 1 if none */
	uint64_t log_id;    /* of the first segment whose header decodes; 0 if none */
	uint64_t problems;  /* reported to the callback (tombstones are not problems) */
	uint64_t tombstones; /* records that are tombstones (KLOG_RECORD_CORRUPT), each
			      * also passed to the callback, err -EILSEQ */
};

/* Called for each problem; its strings live until it returns; non-zero stops klog_verify(). */
typedef int (*klog_verify_fn)(const struct klog_verify_problem *p, void *ctx);

/* klog_verify() flag: report every problem, not only the first. */
#define KLOG_VERIFY_KEEP_GOING 0x1u

/*
 * klog_verify - check the log in dir (doc/format.md): each segment's header,
 * the same log id in all, every record's CRC, salt and LSN sequence, each
 * index entry naming its LSN's record and no more records than the segment
 * holds, each segment starting where the one before ends, and every file
 * readable.  Each problem goes to fn (may be NULL) as it is found; without
 * KLOG_VERIFY_KEEP_GOING the check stops at the first.  Files that are not
 * segments or indexes are ignored.  Records past the last segment's index
 * are not yet durable and not checked.  sum (may be NULL) is filled in
 * either way, with what was checked before a stop.  Reads only; safe while
 * klogd writes (a segment it creates meanwhile is not looked at).
 * RETURN VALUE: 0 if the log is clean; -EBADMSG if a problem was found;
 * fn's non-zero return; -ENOENT if dir does not exist; -ENOMEM; -errno of
 * opening or listing dir.
 */
KLOG_API int klog_verify(const char *dir, unsigned int flags, klog_verify_fn fn, void *ctx,
			 struct klog_verify_summary *sum);

/*
 * klog_verify_nats - klog_verify() of the log in JetStream stream stream,
 * through the servers in urls (as klog_reader_open_nats()): its description
 * names a log id (else one problem, err -EPROTO), and every message from
 * its first sequence to the last it held when the check began is the
 * record of that LSN sealed with the log id (err -EBADMSG), with no
 * sequence missing (-ENOLINK, "gap").  Problems carry file NULL, offset
 * UINT64_MAX and the LSN (the stream sequence).  sum: segments 0, records
 * the messages checked, first_lsn and last_lsn the stream's first sequence
 * and the last checked, log_id from the description.
 * RETURN VALUE: as klog_verify(); -ENOLINK if there is no such stream;
 * -EHOSTUNREACH if the cluster or the stream's leader does not answer
 * (klog_reader_open_nats()); -EINVAL for a bad stream name or URL list.
 */
KLOG_API int klog_verify_nats(const char *urls, const char *stream, unsigned int flags,
			      klog_verify_fn fn, void *ctx, struct klog_verify_summary *sum);

/*
 * klog_verify_file - klog_verify() of the export file at path: its header,
 * then every frame (CRC, padding, LSNs from the header's first in order
 * without a gap, none past its last), then the trailer (the header's, the
 * frames' count and last LSN, the header's last, nothing after it).  A file
 * that ends without a trailer is incomplete: one problem, err -EPROTO,
 * "no trailer: the export was cut short at LSN N" (N the first LSN
 * missing), at the end of the file.  Problems carry file NULL (the file
 * given), the offset in it and the LSN expected there (UINT64_MAX for the
 * header).  With KLOG_VERIFY_KEEP_GOING it goes on past a gap, and past a
 * damaged frame to the next whole one.  sum: segments 0, records the whole
 * frames, first_lsn the header's, last_lsn the last frame's, log_id the
 * header's.
 * RETURN VALUE: as klog_verify(); -ENOENT if there is no such file; -EINVAL
 * if it is not a regular file; -errno of reading it.
 */
KLOG_API int klog_verify_file(const char *path, unsigned int flags, klog_verify_fn fn, void *ctx,
			      struct klog_verify_summary *sum);

/* ------------------------------------------------------------------ */
/* Export: a range of records as one file (doc/format.md)               */

struct klog_export;

/*
 * klog_export_open - start an export of the log log_id's LSNs from..to
 * (to 0: open-ended, a stream whose end is not known) on fd: the header is
 * written at once.  Nothing is buffered: klog_export_add() writes each
 * record's frame before it returns, so a reader at the other end of a pipe
 * sees it at once.  fd stays the caller's: never closed, nor synced.
 * RETURN VALUE: 0; -EINVAL if from is 0 or to is below it; -ENOMEM; -errno
 * of write.
 */
KLOG_API int klog_export_open(struct klog_export **x, int fd, uint64_t log_id, uint64_t from,
			      uint64_t to);

/*
 * klog_export_add - write record rec (its LSN, txid, length and stored CRC)
 * with its rec->len bytes of payload; a tombstone (rec->flags
 * KLOG_RECORD_CORRUPT, len 0, payload may be NULL) is kept as one.  Records come in LSN order without a
 * gap: the first is from, each the one before + 1, none past to.
 * RETURN VALUE: 0; -EINVAL for another LSN, a length above KLOG_MAX_RECORD,
 * a NULL payload, an unknown flag or a tombstone with a length; -errno of write (then the file is torn and every call
 * after fails with it, klog_export_close() too).
 */
KLOG_API int klog_export_add(struct klog_export *x, const struct klog_record *rec,
			     const void *payload);

/*
 * klog_export_close - write the trailer, which makes the file complete,
 * and free x.
 * RETURN VALUE: 0; -EINVAL, with no trailer written, if the range has a
 * last LSN that was not added; the error of an earlier write; -errno of
 * write.
 */
KLOG_API int klog_export_close(struct klog_export *x);

/*
 * klog_export_abort - free x without writing a trailer: a stream cut short
 * (klogctl tail --raw stopped), which klog_verify_file() reports as such.
 * x may be NULL.
 */
KLOG_API void klog_export_abort(struct klog_export *x);

/* ------------------------------------------------------------------ */
/* Client: append records to a klog server over UDP                     */

struct klog_client;

/*
 * The client is pipelined: klog_client_submit() sends an APPEND and returns
 * at once; klog_client_poll() receives the replies, resends what timed out
 * and completes requests, in whatever order the server answers, by calling
 * each one's callback exactly once.  klog_client_append() and
 * klog_client_append_durable() are blocking calls built on top.  A client is
 * not thread-safe: use it from one thread at a time.
 *
 * Request ids: each client numbers its APPENDs with consecutive request ids,
 * starting at the wall clock in nanoseconds (so that they also grow across
 * restarts of a program that sets a fixed client_id).  A retransmission -
 * after a timeout, or after a FULL, BUSY or NOTREADY answer - repeats the
 * request byte for byte with the same client_id and request_id, which the
 * server deduplicates (doc/protocol.md, "Idempotent appends").
 *
 * Durable appends (KLOG_APPEND_DURABLE) complete only on a DURABLE for their
 * request and LSN.  An ACK+PENDING records the LSN and keeps the request
 * waiting; if no DURABLE follows within timeout_ms, the client sends QUERY
 * for that LSN with the same client_id and the same request_id as the APPEND
 * (and its txid), and keeps waiting; either a DURABLE for the APPEND or one
 * answering the QUERY completes it.
 *
 * Replies that match no outstanding request (another client_id, a request
 * already completed, a duplicate, a DURABLE for another LSN, a malformed
 * datagram) are ignored.  ICMP errors (ECONNREFUSED while nothing listens,
 * e.g. during a server restart, and unreachable host or network) and full
 * socket buffers count as lost datagrams: the timeout resends them.
 */
struct klog_client_opts {
	unsigned int timeout_ms; /* wait for a reply this long before resending; 0: 200 */
	unsigned int retries;    /* resends and FULL/BUSY/NOTREADY retries before giving up */
	uint32_t client_id;      /* 0: a random one */
	unsigned int max_outstanding; /* requests in flight, 1..KLOG_DEDUP_WINDOW; 0: the maximum */
};

/* klog_client_submit() flag: complete only once the record is durable on disk. */
#define KLOG_APPEND_DURABLE 0x1u

/*
 * Called once per submitted request, from klog_client_poll() (or a call
 * that polls: klog_client_flush(), klog_client_append*()).  err is 0 with
 * the record's LSN, or a negative errno value:
 *   -ETIMEDOUT  no reply after the last resend (for a durable append: no
 *               DURABLE after the last QUERY)
 *   -ENOSPC, -EBUSY, -EAGAIN  the last try was answered FULL, BUSY or
 *               NOTREADY and the retries ran out
 *   -EEXIST     CONFLICT: the request id was used before for another record
 *   -ESTALE     STALE: the request id is below the server's dedup window
 *   -EMSGSIZE   TOOBIG: larger than the server's maximum record
 *   -EINVAL     BADLEN
 *   -EPROTO     VERSION, OPCODE or FLAGS (e.g. a server without durable
 *               acknowledgements), or an unknown status
 *   -ENOENT     NOLSN: the server answered a QUERY that it never gave out
 *               that LSN (the log the record was appended to is gone)
 *   -EILSEQ     CORRUPT: the server's check of the bytes against the
 *               CRC-32C the client sent (KLOG_F_CRC, always set) failed:
 *               they were damaged on the way and the LSN holds a tombstone
 *               (doc/protocol.md, "Integrity"); lsn is that LSN.  A durable
 *               append learns it; a plain one completed on its ACK before.
 *   -errno      sending failed for a reason other than a lost datagram
 * On an error, lsn is 0, except for a durable append that got its
 * ACK+PENDING: then it is the LSN the record was appended at, durability
 * unconfirmed; and for -EILSEQ, the tombstone's LSN.  The callback may call klog_client_submit(); it must not call
 * klog_client_poll(), klog_client_flush(), klog_client_append*() or
 * klog_client_close() (the first three return -EDEADLK if it does).
 */
typedef void (*klog_append_cb)(void *arg, int err, uint64_t lsn);

/*
 * klog_client_open - a client of the server at host (name or address) and
 * port (NULL: 7070).  opts NULL means 200 ms, 10 retries, a random client id
 * and KLOG_DEDUP_WINDOW requests in flight.  The socket's receive and send
 * buffers are made large enough for two full-frame replies per request in
 * flight (SO_RCVBUFFORCE where net.core.rmem_max is lower and the caller
 * may; otherwise a warning on stderr: the client works, with resends).
 * RETURN VALUE: 0; -EINVAL if opts->max_outstanding is above
 * KLOG_DEDUP_WINDOW or port is not a decimal 1..65535; -ENXIO if host does
 * not resolve (klog_strerror() says why); -errno.
 */
KLOG_API int klog_client_open(struct klog_client **c, const char *host, const char *port,
			      const struct klog_client_opts *opts);

/*
 * klog_client_close - close the socket and free the client.  Requests still
 * outstanding are dropped without their callbacks being called.  c may be
 * NULL.
 */
KLOG_API void klog_client_close(struct klog_client *c);

/*
 * klog_client_fd - the client's UDP socket (non-blocking), for the caller's
 * own poll()/epoll: when it is readable, or when the timeout given by
 * klog_client_outstanding() has passed, call klog_client_poll(c, 0).
 * RETURN VALUE: the file descriptor.
 */
KLOG_API int klog_client_fd(struct klog_client *c);

/*
 * klog_client_submit - send one APPEND of len payload bytes with txid, and
 * their CRC-32C (KLOG_F_CRC), and return without waiting; cb(arg, err, lsn) is called when it completes (cb
 * may be NULL).  flags: 0 (complete on ACK: the record is in kernel memory)
 * or KLOG_APPEND_DURABLE (complete on DURABLE: on disk).  At most
 * max_outstanding requests are in flight, and the one submitted
 * max_outstanding submissions earlier must have completed, so that the
 * request ids in flight stay inside the server's dedup window.
 * RETURN VALUE: 0 (cb will be called exactly once); -EAGAIN if that bound
 * is reached (call klog_client_poll() and submit again); -EINVAL if len is 0,
 * payload is NULL or flags has an unknown bit; -EMSGSIZE if len is above
 * KLOG_MAX_RECORD; -errno if sending failed for a reason other than a lost
 * datagram.  On an error cb is never called.
 */
KLOG_API int klog_client_submit(struct klog_client *c, const void *payload, size_t len,
				uint64_t txid, unsigned int flags, klog_append_cb cb, void *arg);

/*
 * klog_client_poll - receive the replies that have arrived, complete the
 * requests they answer (calling their callbacks), and resend, retry or
 * QUERY the requests whose time has come.  Waits up to timeout_ms (-1: with
 * no limit) for at least one request to complete; 0 never waits.  Returns
 * at once when nothing is outstanding.
 * RETURN VALUE: the number of requests completed (0 if none by the
 * timeout); -EDEADLK if called from a callback; -errno if receiving failed.
 */
KLOG_API int klog_client_poll(struct klog_client *c, int timeout_ms);

/*
 * klog_client_flush - poll until no request is outstanding, or timeout_ms
 * (-1: no limit; every request ends within about (retries + 1) * timeout_ms,
 * twice that for a durable one).
 * RETURN VALUE: 0 once every request has completed, whatever its result;
 * -ETIMEDOUT if some are still outstanding at the timeout; -EDEADLK if
 * called from a callback; -errno as klog_client_poll().
 */
KLOG_API int klog_client_flush(struct klog_client *c, int timeout_ms);

/*
 * klog_client_outstanding - how many requests are in flight, and, if
 * timeout_ms is not NULL, in how many milliseconds klog_client_poll() has a
 * resend, retry or QUERY to do (-1 when nothing is outstanding).
 * RETURN VALUE: the number of requests in flight.
 */
KLOG_API int klog_client_outstanding(struct klog_client *c, int *timeout_ms);

/*
 * klog_client_append - append one record and wait for its LSN (the record
 * is in the server's kernel memory): klog_client_submit() then
 * klog_client_poll() until it completes; waits for a free slot first if
 * max_outstanding requests are in flight (their callbacks run meanwhile).
 * RETURN VALUE: 0 with *lsn set; -EDEADLK if called from a callback; the
 * errors of klog_client_submit() (except -EAGAIN) and of klog_append_cb.
 */
KLOG_API int klog_client_append(struct klog_client *c, const void *payload, size_t len,
				uint64_t txid, uint64_t *lsn);

/*
 * klog_client_append_durable - as klog_client_append(), but return only once
 * the server says the record is durable on disk (KLOG_APPEND_DURABLE).
 * RETURN VALUE: 0 with *lsn set; the errors of klog_client_append().  After
 * -ETIMEDOUT or -ENOENT, *lsn is the LSN the record was appended at if it
 * was (durability unconfirmed), else 0; after -EILSEQ (CORRUPT), the LSN
 * that holds the tombstone.
 */
KLOG_API int klog_client_append_durable(struct klog_client *c, const void *payload, size_t len,
					uint64_t txid, uint64_t *lsn);

#ifdef __cplusplus
}
#endif

#endif /* KLOG_H */
