/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * klog_abi.h - every structure that both the BPF programs and userspace see:
 * the wire protocol, the map values and the statistics counters.
 *
 * Included from BPF code (after vmlinux.h) and from userspace; the build's
 * geometry comes from the generated klog/klog_config.h, installed beside it.
 * Wire fields are big-endian; map values are in host byte order.
 */
#ifndef KLOG_ABI_H
#define KLOG_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include <klog/klog_config.h>

/* C++ (a consumer of klog.h) spells C11's _Static_assert static_assert. */
#ifdef __cplusplus
#define KLOG_STATIC_ASSERT(e, msg) static_assert(e, msg)
extern "C" {
#else
#define KLOG_STATIC_ASSERT(e, msg) _Static_assert(e, msg)
#endif

/* ------------------------------------------------------------------ */
/* Build-time geometry (meson options block_size and max_record)       */

#define KLOG_DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

/* Blocks a record of the largest size needs; bounds every block loop. */
#define KLOG_MAX_BLOCKS KLOG_DIV_ROUND_UP(KLOG_MAX_RECORD, KLOG_BLOCK_SIZE)

KLOG_STATIC_ASSERT(KLOG_BLOCK_SIZE == 64 || KLOG_BLOCK_SIZE == 128 ||
	       KLOG_BLOCK_SIZE == 256 || KLOG_BLOCK_SIZE == 512,
	       "block size must be 64, 128, 256 or 512");
KLOG_STATIC_ASSERT(KLOG_MAX_RECORD >= 1 && KLOG_MAX_RECORD <= 9000,
	       "max record must be 1..9000");

/* ------------------------------------------------------------------ */
/* Wire protocol v1 (doc/protocol.md)                                   */

#define KLOG_MAGIC 0x4b4c4f47u /* "KLOG" */
#define KLOG_VERSION_1 1
#define KLOG_DEFAULT_PORT 7070

enum klog_opcode {
	KLOG_OP_APPEND = 1,  /* client -> server: payload follows the header */
	KLOG_OP_ACK = 2,     /* server -> client: appended, lsn set */
	KLOG_OP_NACK = 3,    /* server -> client: refused, status says why */
	KLOG_OP_QUERY = 4,   /* client -> server: is record lsn durable yet? */
	KLOG_OP_DURABLE = 5, /* server -> client: record lsn is durable on disk */
	/* Reads: the programs pass these to klogd's socket, which answers them. */
	KLOG_OP_READ = 6,       /* client -> server: durable records from lsn */
	KLOG_OP_RECORD = 7,     /* server -> client: one record answering a READ */
	KLOG_OP_INFO = 8,       /* client -> server: what are your limits? */
	KLOG_OP_INFO_REPLY = 9, /* server -> client: struct klog_info */
};

/* Request flag: acknowledge with DURABLE once the record is on disk. */
#define KLOG_F_DURABLE 0x0001u
/* Reply flag on an ACK: appended, not durable yet; a DURABLE will follow. */
#define KLOG_F_PENDING 0x0002u
/* RECORD flag: the last datagram of the answer to one READ. */
#define KLOG_F_LAST 0x0004u
/*
 * APPEND flag: the header's lsn field carries the CRC-32C (Castagnoli, as
 * klog_crc32c()) of the payload in its low 32 bits.  The server keeps it
 * with the record and klogd checks it before the record may become durable
 * (doc/security.md); libklog and the Python client always set it.
 */
#define KLOG_F_CRC 0x0008u
/* Flags an APPEND may carry; any other bit is refused (QUERY: none). */
#define KLOG_FLAGS_KNOWN (KLOG_F_DURABLE | KLOG_F_CRC)

/*
 * Idempotent appends: the server remembers each client's last
 * KLOG_DEDUP_WINDOW request ids (requests ids grow per client), so a client
 * keeps at most that many requests outstanding.
 */
#define KLOG_DEDUP_WINDOW 64

enum klog_status {
	KLOG_ST_OK = 0,
	KLOG_ST_FULL = 1,     /* window or pool full: retry after the log drains */
	KLOG_ST_BADLEN = 2,   /* payload length is zero or disagrees with the packet */
	KLOG_ST_TOOBIG = 3,   /* payload length exceeds the server's maximum */
	KLOG_ST_VERSION = 4,  /* unsupported protocol version */
	KLOG_ST_OPCODE = 5,   /* opcode is not a request the server accepts */
	KLOG_ST_FLAGS = 6,    /* unknown request flag */
	KLOG_ST_BUSY = 7,     /* transient contention or allocation failure: retry */
	KLOG_ST_NOTREADY = 8, /* the daemon has not initialised the log yet */
	KLOG_ST_CONFLICT = 9, /* request id already used for a different record */
	KLOG_ST_STALE = 10,   /* request id older than the dedup window: not appended */
	KLOG_ST_NOLSN = 11,   /* QUERY for an LSN the log never gave out */
	KLOG_ST_NOTYET = 12,  /* READ: not durable yet; lsn = the first LSN that is not */
	KLOG_ST_TRIMMED = 13, /* READ: below the first record kept; lsn = that record's */
	KLOG_ST_LOST = 14,    /* READ: the server's copy is missing or corrupt */
	KLOG_ST_UNAVAIL = 15, /* READ, INFO: the server cannot read its log now: retry */
	/*
	 * The record's bytes were damaged before they were stored (they failed
	 * the request's CRC-32C): its LSN holds a tombstone, never the bytes.
	 * Answers a durable wait, a QUERY and a READ of that LSN.
	 */
	KLOG_ST_CORRUPT = 16,
	KLOG_ST_BADFIELD = 17, /* a request field that must be zero is not */
	KLOG_ST__MAX,
};

/*
 * Every datagram, request and reply, starts with this 40-byte header.  A
 * reply is the header alone, so it is never longer than the request it
 * answers and the kernel can build it in place.
 */
struct klog_hdr {
	__be32 magic;      /* KLOG_MAGIC */
	__u8 version;      /* KLOG_VERSION_1 */
	__u8 opcode;       /* enum klog_opcode */
	__be16 flags;      /* request flags */
	__be32 client_id;  /* chosen by the client, echoed */
	__be16 status;     /* reply: enum klog_status; request: 0 (else it is a reply: dropped) */
	__be16 len;        /* request: payload bytes after the header; reply: 0 */
	__be64 request_id; /* chosen by the client, echoed */
	__be64 txid;       /* transaction id, stored with the record, echoed */
	__be64 lsn;        /* reply: the record's LSN; QUERY: the LSN asked about; */
			   /* APPEND: 0, or with KLOG_F_CRC the payload's CRC-32C */
};
KLOG_STATIC_ASSERT(sizeof(struct klog_hdr) == 40, "klog_hdr is 40 bytes on the wire");

/*
 * A reply: an opcode only a server sends, or a status set.  Never answered
 * (by the programs or by klogd), so that two servers cannot bounce one.
 */
static inline __attribute__((always_inline)) int klog_hdr_is_reply(const struct klog_hdr *h)
{
	switch (h->opcode) {
	case KLOG_OP_ACK:
	case KLOG_OP_NACK:
	case KLOG_OP_DURABLE:
	case KLOG_OP_RECORD:
	case KLOG_OP_INFO_REPLY:
		return 1;
	}
	return h->status != 0;
}

/*
 * READ's optional payload (len 0 or 16; doc/protocol.md, "Reading").
 * Without it a READ asks for record lsn alone and does not wait.
 */
struct klog_read_req {
	__be64 to_lsn;    /* the last LSN wanted, inclusive; 0: no limit */
	__be32 max_bytes; /* payload bytes of records the answer may carry; 0: one record */
	__be32 wait_ms;   /* lsn not durable yet: wait this long for it (long poll) */
};
KLOG_STATIC_ASSERT(sizeof(struct klog_read_req) == 16, "klog_read_req is 16 bytes on the wire");

/* A RECORD's payload: this, then the record's bytes (len = 8 + their count). */
struct klog_read_rec {
	__be32 crc;     /* CRC-32C of the record's bytes: the client checks it */
	__be32 rec_crc; /* the stored record's CRC (doc/format.md, klog_record.crc) */
};
KLOG_STATIC_ASSERT(sizeof(struct klog_read_rec) == 8, "klog_read_rec is 8 bytes on the wire");

/* Server limits on one READ's answer, whatever it asks. */
#define KLOG_READ_MAX_BYTES (256u * 1024) /* record bytes per answer */
#define KLOG_READ_MAX_RECORDS 256         /* datagrams per answer */
#define KLOG_READ_MAX_WAIT_MS 30000       /* a long poll's longest wait */

/* INFO_REPLY's payload: what a client needs to know before it sends. */
struct klog_info {
	__u8 version;        /* highest protocol version the server speaks (1) */
	__u8 backend;        /* enum klog_info_backend */
	__be16 port;         /* the service port */
	__be32 max_record;   /* largest record the server takes, bytes */
	__be32 block_size;   /* bytes per memory pool block */
	__be32 max_read_bytes; /* KLOG_READ_MAX_BYTES */
	__be64 log_id;       /* the log's identity (doc/format.md) */
	__be64 first_lsn;    /* the first record kept; 0 if none is durable yet */
	__be64 durable_lsn;  /* every LSN below is durable */
	__be64 next_lsn;     /* the LSN the next append will get */
};
KLOG_STATIC_ASSERT(sizeof(struct klog_info) == 48, "klog_info is 48 bytes on the wire");

enum klog_info_backend {
	KLOG_INFO_DIR = 0,       /* a log directory on the server */
	KLOG_INFO_JETSTREAM = 1, /* a NATS JetStream stream */
};

/* ------------------------------------------------------------------ */
/* Maps                                                                 */

/*
 * LSNs and block indices start at 1: 0 is the null index (Kerby), and an
 * allocation entry whose lsn is 0 has never been written.
 */
#define KLOG_FIRST_LSN 1
#define KERBY_FIRST_BLOCK 1

enum kerby_pool_kind {
	KERBY_POOL_RING = 0, /* preallocated mmap-able array, index mod size */
	KERBY_POOL_HASH = 1, /* the paper's BPF_F_NO_PREALLOC hash map */
};

/* One fixed-size block of the memory pool. */
struct kerby_block {
	__u8 data[KLOG_BLOCK_SIZE];
};

/*
 * Kerby index allocator (single-entry array).  The ring pool takes an LSN
 * and its blocks together with one compare-and-swap of `reserved`, which
 * packs the low bits of both counters (doc/design.md); the hash pool takes
 * block indices from `next_block` by fetch-and-add, as in the paper.
 */
struct kerby_index {
	__u64 next_block; /* hash pool: the next block index */
	__u64 reserved;   /* next LSN << KERBY_RESERVED_BLOCK_BITS | next ring block, truncated */
};

/*
 * The packed counters stay exact while the window is below 2^LSN_BITS and
 * the pool below 2^BLOCK_BITS: a full value is recovered from the packed one
 * and any lower bound less than that far below it (truncated_lsn,
 * pool_watermark).
 */
#define KERBY_RESERVED_BLOCK_BITS 40
#define KERBY_RESERVED_LSN_BITS 24
#define KLOG_MAX_WINDOW (1u << (KERBY_RESERVED_LSN_BITS - 1))

static inline __attribute__((always_inline)) __u64 kerby_reserved_pack(__u64 lsn, __u64 block)
{
	return lsn << KERBY_RESERVED_BLOCK_BITS |
	       (block & ((1ull << KERBY_RESERVED_BLOCK_BITS) - 1));
}

/* The full next LSN of packed, given floor <= it (e.g. truncated_lsn). */
static inline __attribute__((always_inline)) __u64 kerby_reserved_lsn(__u64 packed, __u64 floor)
{
	return floor + (((packed >> KERBY_RESERVED_BLOCK_BITS) - floor) &
			((1ull << KERBY_RESERVED_LSN_BITS) - 1));
}

/* The full next ring block of packed, given floor <= it (e.g. pool_watermark). */
static inline __attribute__((always_inline)) __u64 kerby_reserved_block(__u64 packed,
								       __u64 floor)
{
	return floor + ((packed - floor) & ((1ull << KERBY_RESERVED_BLOCK_BITS) - 1));
}

/*
 * Allocation map value (per-CPU array, key = lsn % window).  The entry is
 * published by writing lsn_tail and then lsn last (see doc/design.md): a
 * reader accepts a copy only if both equal the LSN it wants.  A record's
 * blocks are consecutive indices (both pools take a record's indices with
 * one step of their counter), so the first index and the length name them
 * all: the map is per-CPU, and every byte here is paid once per CPU per LSN
 * of the window.
 */
struct klog_alloc_entry {
	__u64 lsn;
	__u64 txid;
	__u64 request_id;
	__u64 first_block; /* blocks first_block .. first_block + nblocks(len) - 1 */
	__u32 client_id;
	__u16 len;
	__u16 flags;       /* KLOG_AF_* */
	__u32 crc;         /* KLOG_AF_CRC: the CRC-32C the client sent with the payload */
	__u32 lsn_tail;    /* the low 32 bits of lsn, written before it */
};

/* The request carried a CRC-32C (KLOG_F_CRC): klogd checks the bytes against crc. */
#define KLOG_AF_CRC 0x0001u
/*
 * The kernel found the bytes damaged after the LSN was taken (the UDP
 * checksum failed, or the copy did): the LSN must be stored as a tombstone.
 */
#define KLOG_AF_DAMAGED 0x0002u

/* What a reader compares lsn_tail with: the low 32 bits of the LSN. */
static inline __attribute__((always_inline)) __u32 klog_lsn_tail(__u64 lsn)
{
	return (__u32)lsn;
}
KLOG_STATIC_ASSERT(sizeof(struct klog_alloc_entry) == 48, "klog_alloc_entry layout");

/*
 * Control map value (single-entry mmap-able array), shared without syscalls.
 * BPF writes next_lsn; the daemon writes the rest.  The log's identity and
 * the settings it was created with are written once, before next_lsn, and
 * read back by a klogd that adopts the pinned log: they are facts about the
 * maps, never guessed from their sizes.
 */
struct klog_ctl {
	__u64 next_lsn;       /* every LSN below is reserved and will commit */
	__u64 truncated_lsn;  /* first LSN still held in the kernel */
	__u64 durable_lsn;    /* every LSN below is durable on disk */
	__u64 pool_watermark; /* every block index below is free again */
	__u64 drain_sleeping; /* klogd waits on klog_wake: a new record must wake it */
	__u64 log_id;         /* random, non-zero, chosen when the log was created */
	__u64 pool_blocks;    /* settings at creation: memory pool blocks, */
	__u32 pool_kind;      /* enum kerby_pool_kind, */
	__u32 window;         /* allocation map entries, */
	__u32 clients;        /* dedup table entries, */
	__u32 block_size;     /* KLOG_BLOCK_SIZE and */
	__u32 max_record;     /* KLOG_MAX_RECORD of the build that created it */
	__u32 pad;
	/*
	 * klogd: records stored as tombstones because their bytes were damaged
	 * (KLOG_AF_DAMAGED, or the CRC-32C did not match).  While it is 0 the
	 * programs skip the lookup in klog_corrupt.
	 */
	__u64 corrupt_records;
};
KLOG_STATIC_ASSERT(sizeof(struct klog_ctl) == 88, "klog_ctl layout");

/*
 * An address as the access maps hold it: IPv6, or IPv4 mapped into it
 * (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so one map serves both families.
 */
struct klog_addr {
	__u8 a[16];
};

/* Key of klog_allow (LPM trie): an IPv4 prefix /n is stored as /(96 + n) of its mapped form. */
struct klog_allow_key {
	__u32 prefixlen;
	struct klog_addr addr;
};
KLOG_STATIC_ASSERT(sizeof(struct klog_allow_key) == 20, "klog_allow_key layout");

/* Entries of the access maps (klogd's --bind and --allow lists). */
#define KLOG_MAX_LOCAL_ADDRS 256
#define KLOG_MAX_ALLOW 4096
/* LSNs of tombstones the programs remember, to answer QUERY and retransmissions CORRUPT. */
#define KLOG_MAX_CORRUPT 1024

/*
 * Where to send the DURABLE notice of a record appended with KLOG_F_DURABLE
 * (mmap-able array, key = lsn % window).  Written before the record's entry
 * is published; valid only while lsn matches.
 */
struct klog_waiter {
	__u64 lsn;
	__u8 client_addr[16]; /* IPv4 in the first 4 bytes */
	__u8 server_addr[16];
	__be16 client_port;
	__be16 server_port;
	__u8 ipv6;
	__u8 pad[3];
};
KLOG_STATIC_ASSERT(sizeof(struct klog_waiter) == 48, "klog_waiter layout");

/*
 * One remembered request of a client (idempotent appends).  seq is a
 * sequence lock taken by compare-and-swap: odd while one CPU rewrites the
 * slot, and a reader trusts the fields only if seq was even and unchanged
 * around its reads (bpf/dedup.bpf.h).
 */
struct klog_dedup_slot {
	__u64 seq;
	__u64 request_id;
	__u64 lsn;   /* 0 while the original is still being appended */
	__u32 fp;    /* fingerprint: payload checksum, length and txid */
	__u32 used;
};

/* Per client (hash map keyed by client_id): its last KLOG_DEDUP_WINDOW requests. */
struct klog_client_state {
	__u64 max_request; /* largest request id seen (may lag under races: bpf/dedup.bpf.h) */
	__u64 last_seen;   /* CLOCK_MONOTONIC ns of its last request: klogd expires idle ones */
	struct klog_dedup_slot slot[KLOG_DEDUP_WINDOW]; /* by request_id % window */
};

/* ------------------------------------------------------------------ */
/* Statistics (per-CPU array, one entry)                                */

/*
 * One list names every counter: it makes the enum of counter ids, the
 * struct whose field names `bpftool map dump` prints, and userspace's
 * table of names, so they cannot drift apart.
 */
#define KLOG_STATS(X)                                                           \
	X(appends)          /* records appended and ACKed */                    \
	X(bytes)            /* payload bytes appended */                        \
	X(passed)           /* packets not for klog, passed on untouched */     \
	X(drop_short)       /* klog port, shorter than a header or its UDP length */       \
	X(drop_magic)       /* klog port, wrong magic */                        \
	X(nack_full_window) /* NACK FULL: allocation window full */             \
	X(nack_full_pool)   /* NACK FULL: memory pool full */                   \
	X(nack_badlen)      /* NACK BADLEN */                                   \
	X(nack_toobig)      /* NACK TOOBIG */                                   \
	X(nack_version)     /* NACK VERSION */                                  \
	X(nack_opcode)      /* NACK OPCODE */                                   \
	X(nack_flags)       /* NACK FLAGS */                                    \
	X(nack_busy)        /* NACK BUSY */                                     \
	X(nack_notready)    /* NACK NOTREADY */                                 \
	X(reply_errors)     /* a reply could not be built; packet dropped */     \
	X(retransmits)      /* repeated requests answered from the dedup state */\
	X(queries)          /* QUERY requests answered */                        \
	X(nack_conflict)    /* NACK CONFLICT */                                  \
	X(nack_stale)       /* NACK STALE */                                     \
	X(nack_nolsn)       /* NACK NOLSN */                                     \
	X(wakeups)          /* notifications that woke a sleeping klogd */          \
	X(pass_foreign)     /* klog port, not addressed to this server: passed on */ \
	X(drop_refused)     /* source not in the allow-list: dropped unanswered */ \
	X(drop_reply)       /* a reply, or from the service port: never answered */ \
	X(drop_csum)        /* IPv4 header or UDP checksum wrong: dropped unanswered */ \
	X(nack_badfield)    /* NACK BADFIELD */                                 \
	X(nack_corrupt)     /* NACK CORRUPT: a QUERY or retransmission of a tombstone */ \
	X(client_evictions) /* clients forgotten to make room in a full client table */

#define KLOG_STAT_ID(name) KLOG_STAT_##name,
enum klog_stat_id { KLOG_STATS(KLOG_STAT_ID) KLOG_STAT__MAX };
#undef KLOG_STAT_ID

#define KLOG_STAT_FIELD(name) __u64 name;
struct klog_stats {
	KLOG_STATS(KLOG_STAT_FIELD)
};
#undef KLOG_STAT_FIELD
KLOG_STATIC_ASSERT(sizeof(struct klog_stats) == KLOG_STAT__MAX * sizeof(__u64),
	       "klog_stats is an array of counters indexed by klog_stat_id");

#ifdef __cplusplus
}
#endif

#endif /* KLOG_ABI_H */
