// SPDX-License-Identifier: GPL-2.0-only
/* kern.c - userspace side of the in-kernel log maps (see kern.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kern.h"

/* The bytes of a const volatile global of the object's .rodata, found by name in its BTF. */
static void *rodata_var(struct bpf_object *obj, const char *var, size_t size)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map = NULL, *m;
	size_t rsize;
	char *data;
	int id;

	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);

		if (len >= 7 && !strcmp(n + len - 7, ".rodata"))
			map = m;
	}
	if (!btf || !map)
		return NULL;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return NULL;
	data = (char *)bpf_map__initial_value(map, &rsize);
	const struct btf_type *sec = btf__type_by_id(btf, id);
	const struct btf_var_secinfo *vi = btf_var_secinfos(sec);

	for (int i = 0; data && i < btf_vlen(sec); i++, vi++) {
		const struct btf_type *t = btf__type_by_id(btf, vi->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		if (vi->size != size || vi->offset + size > rsize)
			return NULL;
		return data + vi->offset;
	}
	return NULL;
}

static int set_rodata(struct bpf_object *obj, const char *var, const void *val, size_t size)
{
	void *p = rodata_var(obj, var, size);

	if (!p)
		return -ENOENT;
	memcpy(p, val, size);
	return 0;
}

/* Read back what klog_kern_configure set: the loaded programs' settings, not a guess. */
static int get_rodata(struct bpf_object *obj, const char *var, void *val, size_t size)
{
	const void *p = rodata_var(obj, var, size);

	if (!p)
		return -ENOENT;
	memcpy(val, p, size);
	return 0;
}

static int set_entries(struct bpf_object *obj, const char *name, uint32_t n)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__set_max_entries(m, n) : -ENOENT;
}

/* For the maps of the protocol's extras, which objects of the allocator alone lack. */
static int set_entries_opt(struct bpf_object *obj, const char *name, uint32_t n)
{
	return bpf_object__find_map_by_name(obj, name) ? set_entries(obj, name, n) : 0;
}

int klog_kern_configure(struct bpf_object *obj, const struct klog_kern_opts *o)
{
	bool ring = o->pool == KERBY_POOL_RING;
	/* Masks for sizes that are powers of two (the defaults), else 0: divide. */
	uint32_t kind = o->pool, window_mask = o->window & (o->window - 1) ? 0 : o->window - 1;
	uint64_t pool_mask = o->pool_blocks & (o->pool_blocks - 1) ? 0 : o->pool_blocks - 1;
	int err;

	if (!o->window || o->window > KLOG_MAX_WINDOW || !o->pool_blocks ||
	    o->pool_blocks > KLOG_MAX_POOL_BLOCKS || !o->clients ||
	    (o->pool != KERBY_POOL_RING && o->pool != KERBY_POOL_HASH))
		return -EINVAL;
	/*
	 * The append programs (the object with the dedup table) take a record's
	 * blocks all at once: a pool smaller than one largest record would
	 * refuse such a record forever.  The allocator alone has no records.
	 */
	if (bpf_object__find_map_by_name(obj, "klog_clients") &&
	    (o->pool_blocks < KLOG_MIN_POOL_BLOCKS || o->clients > KLOG_MAX_CLIENTS))
		return -ERANGE;
	/* The pool kind not in use keeps a single entry. */
	if ((err = set_entries(obj, "kerby_alloc", o->window)) ||
	    (err = set_entries_opt(obj, "klog_waiters", o->window)) ||
	    (err = set_entries_opt(obj, "klog_clients", o->clients)) ||
	    (err = set_entries(obj, "kerby_ring", ring ? (uint32_t)o->pool_blocks : 1)) ||
	    (err = set_entries(obj, "kerby_hash", ring ? 1 : (uint32_t)o->pool_blocks)) ||
	    (err = set_rodata(obj, "klog_window", &o->window, sizeof(o->window))) ||
	    (err = set_rodata(obj, "kerby_pool_blocks", &o->pool_blocks,
			      sizeof(o->pool_blocks))) ||
	    (err = set_rodata(obj, "kerby_pool_kind", &kind, sizeof(kind))) ||
	    (err = set_rodata(obj, "klog_window_mask", &window_mask, sizeof(window_mask))) ||
	    (err = set_rodata(obj, "kerby_pool_mask", &pool_mask, sizeof(pool_mask))))
		return err;
	if (rodata_var(obj, "klog_verify_udp", 1) &&
	    (err = set_rodata(obj, "klog_verify_udp", &(uint8_t){ o->verify_udp }, 1)))
		return err;
	return set_rodata(obj, "klog_port", &o->port, sizeof(o->port));
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

int klog_kern_open(struct klog_kern *k, struct bpf_object *obj)
{
	struct bpf_map_info clients;
	uint32_t kind;
	int err;

	memset(k, 0, sizeof(*k));
	k->ctl_fd = map_fd(obj, "klog_ctl");
	k->index_fd = map_fd(obj, "kerby_index");
	k->alloc_fd = map_fd(obj, "kerby_alloc");
	k->stats_fd = map_fd(obj, "klog_stats");
	k->waiters_fd = map_fd(obj, "klog_waiters");
	k->clients_fd = map_fd(obj, "klog_clients");
	k->wake_fd = map_fd(obj, "klog_wake");
	k->local_fd = map_fd(obj, "klog_local");
	k->allow_fd = map_fd(obj, "klog_allow");
	k->corrupt_fd = map_fd(obj, "klog_corrupt");
	int ring_fd = map_fd(obj, "kerby_ring"), hash_fd = map_fd(obj, "kerby_hash");

	if (k->ctl_fd < 0 || k->index_fd < 0 || k->alloc_fd < 0 || k->stats_fd < 0 ||
	    ring_fd < 0 || hash_fd < 0)
		return -ENOENT;
	if ((err = get_rodata(obj, "kerby_pool_kind", &kind, sizeof(kind))) ||
	    (err = get_rodata(obj, "kerby_pool_blocks", &k->pool_blocks, sizeof(k->pool_blocks))) ||
	    (err = get_rodata(obj, "klog_window", &k->window, sizeof(k->window))))
		return err;
	k->pool = kind;
	k->pool_fd = kind == KERBY_POOL_RING ? ring_fd : hash_fd;
	if (k->clients_fd >= 0) {
		if ((err = map_info(k->clients_fd, &clients)))
			return err;
		k->clients = clients.max_entries;
	}
	k->ncpus = libbpf_num_possible_cpus();
	if (k->ncpus <= 0)
		return k->ncpus < 0 ? k->ncpus : -EINVAL;
	k->entry_stride = (sizeof(struct klog_alloc_entry) + 7) & ~(size_t)7;
	k->cpu_entries = calloc(k->ncpus, k->entry_stride);
	if (!k->cpu_entries)
		return -ENOMEM;
	k->ctl = mmap(NULL, sizeof(*k->ctl), PROT_READ | PROT_WRITE, MAP_SHARED, k->ctl_fd, 0);
	if (k->ctl == MAP_FAILED) {
		err = -errno;
		k->ctl = NULL;
		klog_kern_close(k);
		return err;
	}
	/* Durable waiters exist in the append programs' object, not the allocator's. */
	k->waiters = k->waiters_fd < 0 ? NULL :
		     mmap(NULL, k->window * sizeof(*k->waiters), PROT_READ, MAP_SHARED,
			  k->waiters_fd, 0);
	if (k->waiters == MAP_FAILED) {
		err = -errno;
		k->waiters = NULL;
		klog_kern_close(k);
		return err;
	}
	if (k->pool == KERBY_POOL_RING) {
		size_t sz = k->pool_blocks * sizeof(struct kerby_block);
		void *p = mmap(NULL, sz, PROT_READ, MAP_SHARED, k->pool_fd, 0);

		if (p == MAP_FAILED) {
			err = -errno;
			klog_kern_close(k);
			return err;
		}
		k->ring = p;
	}
	return 0;
}

void klog_kern_close(struct klog_kern *k)
{
	if (k->ctl)
		munmap(k->ctl, sizeof(*k->ctl));
	if (k->ring)
		munmap((void *)k->ring, k->pool_blocks * sizeof(struct kerby_block));
	if (k->waiters)
		munmap(k->waiters, k->window * sizeof(*k->waiters));
	k->waiters = NULL;
	free(k->cpu_entries);
	klog_kern_chunk_free(k->own);
	free(k->own);
	k->own = NULL;
	k->chunk = NULL;
	k->ctl = NULL;
	k->ring = NULL;
	k->cpu_entries = NULL;
}

int klog_kern_init(struct klog_kern *k, uint64_t first_lsn, uint64_t log_id)
{
	struct kerby_index ix = {
		.next_block = KERBY_FIRST_BLOCK,
		.reserved = kerby_reserved_pack(first_lsn, KERBY_FIRST_BLOCK),
	};
	__u32 zero = 0;

	if (__atomic_load_n(&k->ctl->next_lsn, __ATOMIC_ACQUIRE) >= KLOG_FIRST_LSN)
		return 0;
	if (first_lsn < KLOG_FIRST_LSN || !log_id)
		return -EINVAL;
	if (bpf_map_update_elem(k->index_fd, &zero, &ix, 0))
		return -errno;
	k->ctl->truncated_lsn = first_lsn;
	k->ctl->durable_lsn = first_lsn;
	k->ctl->pool_watermark = KERBY_FIRST_BLOCK;
	k->ctl->log_id = log_id;
	k->ctl->pool_blocks = k->pool_blocks;
	k->ctl->pool_kind = k->pool;
	k->ctl->window = k->window;
	k->ctl->clients = k->clients;
	k->ctl->block_size = KLOG_BLOCK_SIZE;
	k->ctl->max_record = KLOG_MAX_RECORD;
	/* next_lsn last: the programs answer NOTREADY until it is set. */
	__atomic_store_n(&k->ctl->next_lsn, first_lsn, __ATOMIC_RELEASE);
	return 0;
}

/* The copy of lsn's entry among a slot's per-CPU values that is whole, or NULL. */
static const struct klog_alloc_entry *published(const struct klog_kern *k, const void *values,
						uint64_t lsn)
{
	for (int c = 0; c < k->ncpus; c++) {
		const struct klog_alloc_entry *e =
			(const void *)((const char *)values + c * k->entry_stride);

		/* Written last, after a barrier: both markers say the copy is whole. */
		if (e->lsn == lsn && e->lsn_tail == klog_lsn_tail(lsn))
			return e;
	}
	return NULL;
}

/* lsn's published entry: from the chunk in use, else from the map. */
static const struct klog_alloc_entry *find_entry(struct klog_kern *k, uint64_t lsn)
{
	const struct klog_alloc_entry *e = klog_kern_chunk_entry(k, lsn);
	__u32 slot = lsn % k->window;

	if (e)
		return e;
	if (bpf_map_lookup_elem(k->alloc_fd, &slot, k->cpu_entries))
		return NULL;
	return published(k, k->cpu_entries, lsn);
}

/* Look up the n consecutive slots from slot into values; returns how many came. */
static int lookup_slots(const struct klog_kern *k, __u32 slot, __u32 n, uint32_t *keys,
			uint8_t *values)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 prev = slot - 1, out, count = n;
	/* A batch starts after the key in_batch names; NULL starts at slot 0. */
	int err = bpf_map_lookup_batch(k->alloc_fd, slot ? &prev : NULL, &out, keys, values,
				       &count, &opts);

	if (err && errno != ENOENT)
		return -errno;
	return (int)count;
}

static int chunk_reserve(struct klog_kern_chunk *c, uint32_t n, size_t per)
{
	uint8_t *v;
	uint32_t *keys;
	struct klog_alloc_entry *e;

	if (n <= c->cap)
		return 0;
	if ((v = realloc(c->values, n * per)))
		c->values = v;
	if ((keys = realloc(c->keys, n * sizeof(*keys))))
		c->keys = keys;
	if ((e = realloc(c->entries, n * sizeof(*e))))
		c->entries = e;
	if (!v || !keys || !e)
		return -ENOMEM;
	c->cap = n;
	return 0;
}

int klog_kern_fetch(const struct klog_kern *k, struct klog_kern_chunk *c, uint64_t lsn,
		    uint32_t n)
{
	uint64_t next = __atomic_load_n(&k->ctl->next_lsn, __ATOMIC_ACQUIRE);
	__u32 slot = lsn % k->window, first_run;
	size_t per = (size_t)k->ncpus * k->entry_stride;
	int got, more = 0, err;

	c->n = 0;
	c->lsn = lsn;
	/* Only reserved LSNs: a slot beyond holds an older lap's entry, or none. */
	if (lsn >= next)
		return 0;
	if (n > next - lsn)
		n = (uint32_t)(next - lsn);
	if (n > k->window)
		n = k->window;
	if ((err = chunk_reserve(c, n, per)))
		return err;
	first_run = n < k->window - slot ? n : k->window - slot;
	got = lookup_slots(k, slot, first_run, c->keys, c->values);
	if (got == (int)first_run && n > first_run)
		more = lookup_slots(k, 0, n - first_run, c->keys, c->values + first_run * per);
	if (got < 0 || more < 0)
		return got < 0 ? got : more;
	for (uint32_t i = 0; i < (uint32_t)(got + more); i++) {
		const struct klog_alloc_entry *e = published(k, c->values + i * per, lsn + i);

		if (e)
			c->entries[i] = *e;
		else
			c->entries[i].lsn = 0;
	}
	c->n = (uint32_t)(got + more);
	return 0;
}

void klog_kern_chunk_free(struct klog_kern_chunk *c)
{
	if (!c)
		return;
	free(c->values);
	free(c->keys);
	free(c->entries);
	*c = (struct klog_kern_chunk){ 0 };
}

int klog_kern_prefetch(struct klog_kern *k, uint64_t lsn, uint32_t n)
{
	int err;

	if (!k->own && !(k->own = calloc(1, sizeof(*k->own))))
		return -ENOMEM;
	err = klog_kern_fetch(k, k->own, lsn, n);
	klog_kern_use(k, k->own);
	return err;
}

static const struct klog_alloc_entry *committed_entry(struct klog_kern *k, uint64_t lsn,
						      int *err)
{
	const struct klog_alloc_entry *e;

	*err = 0;
	if (lsn < __atomic_load_n(&k->ctl->truncated_lsn, __ATOMIC_ACQUIRE) ||
	    lsn < KLOG_FIRST_LSN) {
		*err = -ENOENT;
		return NULL;
	}
	if (lsn >= __atomic_load_n(&k->ctl->next_lsn, __ATOMIC_ACQUIRE)) {
		*err = -EAGAIN;
		return NULL;
	}
	e = find_entry(k, lsn);
	if (!e)
		*err = -EAGAIN; /* reserved, its program is still writing it */
	else if (e->len == 0 || e->len > KLOG_MAX_RECORD)
		*err = -EIO;
	return *err ? NULL : e;
}

static int copy_block(struct klog_kern *k, uint64_t idx, void *dst, size_t n)
{
	struct kerby_block b;

	if (k->ring) {
		memcpy(dst, k->ring + (idx % k->pool_blocks) * sizeof(b), n);
		return 0;
	}
	if (bpf_map_lookup_elem(k->pool_fd, &idx, &b))
		return -EIO;
	memcpy(dst, b.data, n);
	return 0;
}

int klog_kern_read(struct klog_kern *k, uint64_t lsn, struct klog_kern_rec *rec, void *buf,
		   size_t cap)
{
	const struct klog_alloc_entry *e;
	uint32_t nb;
	int err;

	e = committed_entry(k, lsn, &err);
	if (!e)
		return err;
	nb = KLOG_DIV_ROUND_UP(e->len, KLOG_BLOCK_SIZE);
	if (rec)
		*rec = (struct klog_kern_rec){
			.lsn = lsn, .txid = e->txid, .request_id = e->request_id,
			.client_id = e->client_id, .len = e->len, .nblocks = nb,
			.first_block = e->first_block, .last_block = e->first_block + nb - 1,
			.flags = e->flags, .crc = e->crc,
		};
	if (!buf)
		return (int)e->len;
	if (cap < e->len)
		return -ENOSPC;
	for (uint32_t i = 0; i < nb; i++) {
		size_t off = (size_t)i * KLOG_BLOCK_SIZE;
		size_t n = e->len - off < KLOG_BLOCK_SIZE ? e->len - off : KLOG_BLOCK_SIZE;

		err = copy_block(k, e->first_block + i, (char *)buf + off, n);
		if (err)
			return err;
	}
	return (int)e->len;
}

int klog_kern_truncate(struct klog_kern *k, uint64_t upto)
{
	uint64_t lsn = __atomic_load_n(&k->ctl->truncated_lsn, __ATOMIC_ACQUIRE);
	const struct klog_alloc_entry *e;
	int err;

	if (upto <= lsn)
		return 0;
	if (k->pool == KERBY_POOL_RING) {
		/* Ring blocks are in LSN order: the last record's end frees them all. */
		e = committed_entry(k, upto - 1, &err);
		if (!e)
			return err;
		__atomic_store_n(&k->ctl->pool_watermark,
				 e->first_block + KLOG_DIV_ROUND_UP(e->len, KLOG_BLOCK_SIZE),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&k->ctl->truncated_lsn, upto, __ATOMIC_RELEASE);
		return 0;
	}
	for (; lsn < upto; lsn++) {
		e = committed_entry(k, lsn, &err);
		if (!e)
			return err;
		for (uint32_t i = 0; i < KLOG_DIV_ROUND_UP((uint32_t)e->len, KLOG_BLOCK_SIZE); i++) {
			__u64 idx = e->first_block + i;

			bpf_map_delete_elem(k->pool_fd, &idx);
		}
		/* Blocks first, then the window: a slot is reused only once both say so. */
		__atomic_store_n(&k->ctl->truncated_lsn, lsn + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

int klog_kern_stats(struct klog_kern *k, struct klog_stats *out)
{
	size_t stride = (sizeof(*out) + 7) & ~(size_t)7;
	char *buf = calloc(k->ncpus, stride);
	__u32 zero = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(k->stats_fd, &zero, buf)) {
		err = -errno;
	} else {
		for (int c = 0; c < k->ncpus; c++) {
			const __u64 *v = (const __u64 *)(buf + c * stride);

			for (int i = 0; i < KLOG_STAT__MAX; i++)
				((__u64 *)out)[i] += v[i];
		}
	}
	free(buf);
	return err;
}

int klog_kern_expire_clients(struct klog_kern *k, uint64_t cutoff)
{
	struct klog_client_state st;
	__u32 key, *prev = NULL, *old = NULL;
	size_t n = 0, cap = 0;
	int removed = 0;

	if (k->clients_fd < 0)
		return 0;
	/* Collect first: deleting while walking would restart the walk. */
	while (!bpf_map_get_next_key(k->clients_fd, prev, &key)) {
		if (!bpf_map_lookup_elem(k->clients_fd, &key, &st) && st.last_seen < cutoff) {
			if (n == cap) {
				__u32 *p = realloc(old, (cap = cap ? 2 * cap : 64) * sizeof(*p));

				if (!p) {
					free(old);
					return -ENOMEM;
				}
				old = p;
			}
			old[n++] = key;
		}
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		removed += !bpf_map_delete_elem(k->clients_fd, &old[i]);
	free(old);
	return removed;
}

int klog_kern_next_block(struct klog_kern *k, uint64_t *next)
{
	struct kerby_index ix;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(k->index_fd, &zero, &ix))
		return -errno;
	/* The ring's counter is packed with the LSN's; the watermark bounds it below. */
	*next = k->pool == KERBY_POOL_RING
			? kerby_reserved_block(ix.reserved, __atomic_load_n(&k->ctl->pool_watermark,
									    __ATOMIC_ACQUIRE))
			: ix.next_block;
	return 0;
}

int klog_kern_pool_used(struct klog_kern *k, uint64_t *used)
{
	uint64_t key, *prev = NULL, n = 0;
	int err;

	if (k->pool == KERBY_POOL_RING) {
		err = klog_kern_next_block(k, &key);
		if (err)
			return err;
		*used = key - __atomic_load_n(&k->ctl->pool_watermark, __ATOMIC_ACQUIRE);
		return 0;
	}
	while (!bpf_map_get_next_key(k->pool_fd, prev, &key)) {
		n++;
		prev = &key;
	}
	*used = n;
	return 0;
}
