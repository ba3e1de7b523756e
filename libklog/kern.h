/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kern.h - access to the in-kernel log from userspace (klogd, tests, bench):
 * size the maps before load, initialise them, read committed records by LSN
 * and truncate.  Internal to klog; functions return 0 or -errno.
 */
#ifndef KLOG_KERN_H
#define KLOG_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <klog/klog_abi.h>

struct bpf_object;

/* Load-time settings of the append programs. */
struct klog_kern_opts {
	uint32_t window;      /* allocation map entries: LSNs held before FULL */
	uint64_t pool_blocks; /* memory pool blocks */
	enum kerby_pool_kind pool;
	uint16_t port;
	uint32_t clients;     /* clients whose requests are deduplicated */
	bool verify_udp;      /* check request UDP checksums (not where a peer offloads them) */
};

#define KLOG_KERN_OPTS_DEFAULT                                                  \
	((struct klog_kern_opts){ .window = 65536, .pool_blocks = 262144,       \
				  .pool = KERBY_POOL_RING, .port = KLOG_DEFAULT_PORT,    \
				  .clients = 4096 })

/*
 * Accepted pool sizes.  A record's blocks are reserved all at once (the ring
 * takes consecutive indices, mod its size), so one record of the largest
 * size must fit in an empty pool; with that, wrap-around is harmless (a block
 * is reused only after the watermark passed it).  The ring's array map is
 * indexed by 32 bits.
 */
#define KLOG_MIN_POOL_BLOCKS KLOG_MAX_BLOCKS
#define KLOG_MAX_POOL_BLOCKS 0xffffffffull
/* Dedup table entries (a hash map of KLOG_DEDUP_WINDOW-slot values). */
#define KLOG_MAX_CLIENTS (1u << 24)

/*
 * Size the maps and set the programs' read-only settings of an opened,
 * not yet loaded klog BPF object.  RETURN VALUE: 0; -EINVAL for a setting
 * no object accepts; -ERANGE for a pool smaller than KLOG_MIN_POOL_BLOCKS or
 * more than KLOG_MAX_CLIENTS clients in the append programs' object.
 */
int klog_kern_configure(struct bpf_object *obj, const struct klog_kern_opts *opts);

/*
 * The allocation entries of LSNs [lsn, lsn + n) as one batched lookup found
 * them: entries[i] is the published copy of LSN lsn + i, or has lsn 0 if
 * none of the CPUs' copies was published then.
 */
struct klog_kern_chunk {
	uint64_t lsn;
	uint32_t n, cap;
	struct klog_alloc_entry *entries;
	uint8_t *values; /* the lookup's buffers: every CPU's copy of each slot, */
	uint32_t *keys;  /* and the keys */
};

/* The maps of a loaded object, and mmap views of the control map and ring. */
struct klog_kern {
	int ctl_fd, index_fd, alloc_fd, pool_fd, stats_fd;
	struct klog_ctl *ctl;          /* mmap of the control map */
	struct klog_waiter *waiters;   /* mmap of the durable waiters, window entries */
	int waiters_fd, clients_fd, wake_fd;
	int local_fd, allow_fd, corrupt_fd; /* access maps (bpf/access.bpf.h) */
	const uint8_t *ring;           /* mmap of the ring pool, NULL for hash */
	enum kerby_pool_kind pool;
	uint32_t window;
	uint64_t pool_blocks;
	uint32_t clients;              /* dedup table entries, 0: no table */
	int ncpus;
	size_t entry_stride;           /* per-CPU value stride of the alloc map */
	struct klog_alloc_entry *cpu_entries; /* ncpus entries, read buffer */
	const struct klog_kern_chunk *chunk; /* klog_kern_read's entries, NULL: none */
	struct klog_kern_chunk *own;   /* klog_kern_prefetch's */
};

/* A committed record's metadata. */
struct klog_kern_rec {
	uint64_t lsn;
	uint64_t txid;
	uint64_t request_id;
	uint32_t client_id;
	uint32_t len;
	uint32_t nblocks;
	uint64_t first_block;
	uint64_t last_block;
	uint16_t flags; /* KLOG_AF_*: CRC-32C sent, or bytes damaged (a tombstone) */
	uint32_t crc;   /* with KLOG_AF_CRC: the payload's CRC-32C as the client sent it */
};

/* Map the maps of a loaded object; sizes and pool kind are those it was configured with. */
int klog_kern_open(struct klog_kern *k, struct bpf_object *obj);
void klog_kern_close(struct klog_kern *k);

/*
 * Initialise a fresh log so that its first record gets first_lsn (1 for a
 * new log; the disk's next LSN when the maps are new but the log is not).
 * log_id (non-zero) is the log's identity, kept in the control map with the
 * settings the maps were made with.  Leaves an initialised log alone.
 */
int klog_kern_init(struct klog_kern *k, uint64_t first_lsn, uint64_t log_id);

/*
 * Fetch into c the allocation entries of LSNs [lsn, lsn + n), or of those
 * below next_lsn, with one batched map lookup (two where the window wraps).
 * Reads only k's map descriptors and sizes: a second thread may call it
 * while the first reads records.  A chunk may be filled again and again.
 */
int klog_kern_fetch(const struct klog_kern *k, struct klog_kern_chunk *c, uint64_t lsn,
		    uint32_t n);
void klog_kern_chunk_free(struct klog_kern_chunk *c);

/*
 * klog_kern_read takes the entries of the LSNs c holds from c (NULL: none),
 * so that reading them costs no syscall; an entry that was not published
 * when c was fetched is looked up again.  c must stay until replaced.
 */
static inline void klog_kern_use(struct klog_kern *k, const struct klog_kern_chunk *c)
{
	k->chunk = c;
}

/* lsn's published entry in the chunk in use, or NULL. */
static inline const struct klog_alloc_entry *klog_kern_chunk_entry(const struct klog_kern *k,
								   uint64_t lsn)
{
	const struct klog_kern_chunk *c = k->chunk;

	if (!c || lsn < c->lsn || lsn - c->lsn >= c->n || c->entries[lsn - c->lsn].lsn != lsn)
		return NULL;
	return &c->entries[lsn - c->lsn];
}

/* klog_kern_fetch into a chunk of k's own, then klog_kern_use of it. */
int klog_kern_prefetch(struct klog_kern *k, uint64_t lsn, uint32_t n);

/*
 * Read record lsn: metadata into rec, payload into buf (cap bytes).
 * RETURN VALUE: the payload length; -ENOENT if already truncated, -EAGAIN if
 * not committed yet, -ENOSPC if cap is too small, -EIO if a block is missing.
 */
int klog_kern_read(struct klog_kern *k, uint64_t lsn, struct klog_kern_rec *rec,
		   void *buf, size_t cap);

/*
 * Free every record below upto (blocks, then allocation entries) and advance
 * truncated_lsn.  The caller must have read every one of them (they are
 * committed): for the ring only the last record is looked at.
 * RETURN VALUE: 0; -EAGAIN if record upto - 1 is not committed.
 */
int klog_kern_truncate(struct klog_kern *k, uint64_t upto);

/*
 * Forget the dedup state of clients whose last request came before cutoff
 * (CLOCK_MONOTONIC ns).  RETURN VALUE: clients removed, or -errno.
 */
int klog_kern_expire_clients(struct klog_kern *k, uint64_t cutoff);

/* Sum the per-CPU statistics. */
int klog_kern_stats(struct klog_kern *k, struct klog_stats *out);

/* The block index allocator's next index (blocks ever handed out + 1). */
int klog_kern_next_block(struct klog_kern *k, uint64_t *next);

/* Number of blocks currently in the pool map (hash: live elements). */
int klog_kern_pool_used(struct klog_kern *k, uint64_t *used);

/*
 * The access maps (access.c, bpf/access.bpf.h): klog_local, this server's
 * addresses (datagrams to any other are passed on untouched), and
 * klog_allow, the source prefixes that may send requests.  klogd pins both
 * under KLOG_PIN_ROOT/NAME, where klogctl changes them while it runs.
 */
#define KLOG_PIN_ROOT "/sys/fs/bpf/klog"

/* An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order, as the access maps hold it. */
void klog_addr_v4(struct klog_addr *a, const void *v4);
void klog_addr_v6(struct klog_addr *a, const void *v6);

/*
 * Add, remove one of this server's addresses; make klog_local hold exactly
 * a[0..n) (the new ones are added before the old ones go: no moment in
 * between refuses an address both lists hold).  RETURN VALUE: 0; -ENOENT
 * (del) if it was not there, or no such map; -E2BIG once the map is full.
 */
int klog_kern_local_add(struct klog_kern *k, const struct klog_addr *a);
int klog_kern_local_del(struct klog_kern *k, const struct klog_addr *a);
int klog_kern_local_set(struct klog_kern *k, const struct klog_addr *a, size_t n);

/* As the local ones, for klog_allow's prefixes; -EINVAL for a prefixlen over 128. */
int klog_kern_allow_add(struct klog_kern *k, const struct klog_allow_key *key);
int klog_kern_allow_del(struct klog_kern *k, const struct klog_allow_key *key);
int klog_kern_allow_set(struct klog_kern *k, const struct klog_allow_key *keys, size_t n);

/*
 * The map's entries, sorted by address (then prefix length), into out (cap
 * of them).  RETURN VALUE: how many the map holds (more than cap: only cap
 * written), or -errno.
 */
int klog_kern_local_list(const struct klog_kern *k, struct klog_addr *out, size_t cap);
int klog_kern_allow_list(const struct klog_kern *k, struct klog_allow_key *out, size_t cap);

/* Is a one of this server's addresses; is a source at a allowed (the programs' lookups)? */
bool klog_kern_is_local(const struct klog_kern *k, const struct klog_addr *a);
bool klog_kern_allowed(const struct klog_kern *k, const struct klog_addr *src);

/*
 * Open only the access maps that the klogd of log name pinned (klogctl);
 * the other descriptors of k are unset.  RETURN VALUE: 0; -ENOENT if the
 * log has no such pins (no such --name, or a klogd older than them).
 */
int klog_kern_access_open(struct klog_kern *k, const char *name);
void klog_kern_access_close(struct klog_kern *k);

#endif /* KLOG_KERN_H */
