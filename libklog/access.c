// SPDX-License-Identifier: GPL-2.0-only
/*
 * access.c - the access maps from userspace (see kern.h): this server's
 * addresses (klog_local) and the allowed sources (klog_allow), as klogd
 * fills them and klogctl changes them live through their pins.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kern.h"

void klog_addr_v4(struct klog_addr *a, const void *v4)
{
	memset(a->a, 0, 10);
	a->a[10] = a->a[11] = 0xff;
	memcpy(a->a + 12, v4, 4);
}

void klog_addr_v6(struct klog_addr *a, const void *v6)
{
	memcpy(a->a, v6, 16);
}

/* One of the two maps: its descriptor and key size, and how its keys sort. */
struct amap {
	int fd;
	size_t key_size;
	int (*cmp)(const void *, const void *);
};

static int cmp_addr(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct klog_addr));
}

/* By address, then the shorter prefix first: how a listing reads best. */
static int cmp_prefix(const void *x, const void *y)
{
	const struct klog_allow_key *a = x, *b = y;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return c ? c : a->prefixlen < b->prefixlen ? -1 : a->prefixlen > b->prefixlen;
}

static struct amap local_map(const struct klog_kern *k)
{
	return (struct amap){ k->local_fd, sizeof(struct klog_addr), cmp_addr };
}

static struct amap allow_map(const struct klog_kern *k)
{
	return (struct amap){ k->allow_fd, sizeof(struct klog_allow_key), cmp_prefix };
}

static int map_add(struct amap m, const void *key)
{
	__u32 one = 1;

	if (m.fd < 0)
		return -ENOENT;
	return bpf_map_update_elem(m.fd, key, &one, BPF_ANY) ? -errno : 0;
}

static int map_del(struct amap m, const void *key)
{
	if (m.fd < 0)
		return -ENOENT;
	return bpf_map_delete_elem(m.fd, key) ? -errno : 0;
}

/* Every key, sorted, into out (cap keys).  RETURN VALUE: how many there are, or -errno. */
static int map_list(struct amap m, void *out, size_t cap)
{
	char key[sizeof(struct klog_allow_key)], prev[sizeof(key)];
	size_t n = 0;
	int err;

	if (m.fd < 0)
		return -ENOENT;
	for (void *p = NULL; !(err = bpf_map_get_next_key(m.fd, p, key)); p = prev) {
		if (n < cap)
			memcpy((char *)out + n * m.key_size, key, m.key_size);
		n++;
		memcpy(prev, key, m.key_size);
	}
	if (errno != ENOENT)
		return -errno;
	if (out && cap)
		qsort(out, n < cap ? n : cap, m.key_size, m.cmp);
	return (int)n;
}

/*
 * Make the map hold exactly keys[0..n): the new ones go in before the old
 * ones go, so that no moment in between refuses what both lists allow.
 */
static int map_set(struct amap m, const void *keys, size_t n, size_t max)
{
	void *want = NULL, *old = malloc(max * m.key_size);
	int err = 0, nold;

	if (!old || (n && !(want = malloc(n * m.key_size)))) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = map_add(m, (const char *)keys + i * m.key_size);
	if (err || (err = nold = map_list(m, old, max)) < 0)
		goto out;
	err = 0;
	if (n) {
		memcpy(want, keys, n * m.key_size);
		qsort(want, n, m.key_size, m.cmp);
	}
	for (int i = 0; i < nold && (size_t)i < max && !err; i++) {
		const void *key = (char *)old + (size_t)i * m.key_size;

		if (!n || !bsearch(key, want, n, m.key_size, m.cmp))
			err = map_del(m, key);
	}
out:
	free(want);
	free(old);
	return err == -ENOENT ? 0 : err; /* gone meanwhile: as wanted */
}

int klog_kern_local_add(struct klog_kern *k, const struct klog_addr *a)
{
	return map_add(local_map(k), a);
}

int klog_kern_local_del(struct klog_kern *k, const struct klog_addr *a)
{
	return map_del(local_map(k), a);
}

int klog_kern_local_set(struct klog_kern *k, const struct klog_addr *a, size_t n)
{
	return map_set(local_map(k), a, n, KLOG_MAX_LOCAL_ADDRS);
}

int klog_kern_local_list(const struct klog_kern *k, struct klog_addr *out, size_t cap)
{
	return map_list(local_map(k), out, cap);
}

bool klog_kern_is_local(const struct klog_kern *k, const struct klog_addr *a)
{
	__u32 v;

	return k->local_fd >= 0 && !bpf_map_lookup_elem(k->local_fd, a, &v);
}

int klog_kern_allow_add(struct klog_kern *k, const struct klog_allow_key *key)
{
	if (key->prefixlen > 128)
		return -EINVAL;
	return map_add(allow_map(k), key);
}

int klog_kern_allow_del(struct klog_kern *k, const struct klog_allow_key *key)
{
	if (key->prefixlen > 128)
		return -EINVAL;
	return map_del(allow_map(k), key);
}

int klog_kern_allow_set(struct klog_kern *k, const struct klog_allow_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].prefixlen > 128)
			return -EINVAL;
	return map_set(allow_map(k), keys, n, KLOG_MAX_ALLOW);
}

int klog_kern_allow_list(const struct klog_kern *k, struct klog_allow_key *out, size_t cap)
{
	return map_list(allow_map(k), out, cap);
}

bool klog_kern_allowed(const struct klog_kern *k, const struct klog_addr *src)
{
	struct klog_allow_key key = { .prefixlen = 128, .addr = *src };
	__u32 v;

	return k->allow_fd >= 0 && !bpf_map_lookup_elem(k->allow_fd, &key, &v);
}

int klog_kern_access_open(struct klog_kern *k, const char *name)
{
	char path[256];

	memset(k, 0, sizeof(*k));
	k->local_fd = k->allow_fd = k->corrupt_fd = -1;
	snprintf(path, sizeof(path), KLOG_PIN_ROOT "/%s/klog_local", name);
	if ((k->local_fd = bpf_obj_get(path)) < 0)
		return -errno;
	snprintf(path, sizeof(path), KLOG_PIN_ROOT "/%s/klog_allow", name);
	if ((k->allow_fd = bpf_obj_get(path)) < 0) {
		int err = -errno;

		close(k->local_fd);
		k->local_fd = -1;
		return err;
	}
	return 0;
}

void klog_kern_access_close(struct klog_kern *k)
{
	if (k->local_fd >= 0)
		close(k->local_fd);
	if (k->allow_fd >= 0)
		close(k->allow_fd);
	k->local_fd = k->allow_fd = -1;
}
