// SPDX-License-Identifier: GPL-2.0-only
/* loadgen_load.c - load the load generator and read its counters (loadgen_load.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frame.h"
#include "loadgen_load.h"

/* The request with a payload of len bytes into buf; returns its length, or 0. */
static size_t loadgen_frame(const struct loadgen_req *r, unsigned int len, uint8_t *buf,
			    size_t cap)
{
	static uint8_t payload[KLOG_MAX_RECORD];
	struct frame fr;
	size_t n;

	fill_payload(payload, len, len);
	frame_default(&fr, IP4, payload, len);
	memcpy(fr.smac, r->smac, 6);
	memcpy(fr.dmac, r->dmac, 6);
	memset(&fr.saddr, 0, sizeof(fr.saddr));
	memset(&fr.daddr, 0, sizeof(fr.daddr));
	memcpy(&fr.saddr, &r->saddr, 4);
	memcpy(&fr.daddr, &r->daddr, 4);
	fr.sport = r->sport;
	fr.dport = r->dport;
	fr.hdr.client_id = 0;
	fr.hdr.request_id = 0;
	fr.hdr.txid = 0;
	n = frame_build(&fr, buf, cap);
	/* No UDP checksum: the generator changes the header without updating one. */
	if (n)
		buf[LOADGEN_KLOG_OFF - 2] = buf[LOADGEN_KLOG_OFF - 1] = 0;
	return n;
}

static int loadgen_tmpl_of(const struct loadgen_req *r, unsigned int len,
			   volatile struct loadgen_tmpl *t)
{
	uint8_t buf[LOADGEN_HDRS_LEN + KLOG_MAX_RECORD + 64];
	size_t n = loadgen_frame(r, len, buf, sizeof(buf));

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < LOADGEN_HDRS_LEN; i++)
		t->bytes[i] = buf[i];
	t->frame_len = (__u16)n;
	return 0;
}

int loadgen_load(struct loadgen **out, const struct loadgen_req *r, uint8_t *frame, size_t cap,
		 size_t *len)
{
	int ncpus = libbpf_num_possible_cpus(), err;
	struct loadgen *skel;

	if (ncpus < 0)
		return ncpus;
	if (!r->large || r->large > KLOG_MAX_RECORD || r->small > r->large)
		return -EINVAL;
	*len = loadgen_frame(r, r->large, frame, cap);
	if (!*len || *len + LOADGEN_INPUT_PAD > cap)
		return -ENOSPC;
	memset(frame + *len, 0, LOADGEN_INPUT_PAD);
	*len += LOADGEN_INPUT_PAD;
	skel = loadgen__open();
	if (!skel)
		return -errno;
	skel->rodata->loadgen_client_id = r->client_id;
	skel->rodata->loadgen_clients = (__u32)ncpus;
	skel->rodata->loadgen_sport = r->sport;
	skel->rodata->loadgen_mix = r->small != 0;
	err = loadgen_tmpl_of(r, r->large, &skel->rodata->loadgen_tmpl[LOADGEN_LARGE]);
	if (!err)
		err = loadgen_tmpl_of(r, r->small ? r->small : r->large,
				      &skel->rodata->loadgen_tmpl[LOADGEN_SMALL]);
	if (!err)
		err = loadgen__load(skel);
	if (err) {
		loadgen__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* The per-CPU values of map's one entry, each of size bytes, into a new array. */
static int loadgen_percpu(struct bpf_map *map, size_t size, void **out)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 zero = 0;
	void *v;

	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, size);
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, v)) {
		free(v);
		return -errno;
	}
	*out = v;
	return ncpus;
}

int loadgen_pace_set(struct loadgen *skel, int cpu, uint64_t quota, uint64_t gap_ns)
{
	struct loadgen_pace *v;
	__u32 zero = 0;
	int n = loadgen_percpu(skel->maps.loadgen_pace, sizeof(*v), (void **)&v), err = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (cpu < 0 || i == cpu)
			v[i] = (struct loadgen_pace){ .quota = quota, .gap_ns = gap_ns };
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.loadgen_pace), &zero, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}

/* Add the n 64-bit counters at src to those at dst. */
static void loadgen_add(__u64 *dst, const __u64 *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += src[i];
}

int loadgen_counts_sum(struct loadgen *skel, struct loadgen_counts *sum)
{
	struct loadgen_counts *v;
	__u64 last = 0;
	int n = loadgen_percpu(skel->maps.loadgen_counts, sizeof(*v), (void **)&v);

	if (n < 0)
		return n;
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < n; i++) {
		loadgen_add((__u64 *)sum, (const __u64 *)&v[i], sizeof(*sum) / sizeof(__u64));
		if (v[i].last_reply_ns > last)
			last = v[i].last_reply_ns;
	}
	sum->last_reply_ns = last;
	free(v);
	return 0;
}

int loadgen_hist_sum(struct loadgen *skel, struct loadgen_hist *sum)
{
	struct loadgen_hist *v;
	int n = loadgen_percpu(skel->maps.loadgen_hist, sizeof(*v), (void **)&v);

	if (n < 0)
		return n;
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < n; i++)
		loadgen_add(sum->n, v[i].n, LOADGEN_BUCKETS);
	free(v);
	return 0;
}

double loadgen_quantile(const struct loadgen_hist *h, double p)
{
	__u64 total = 0, seen = 0, rank;

	for (__u32 b = 0; b < LOADGEN_BUCKETS; b++)
		total += h->n[b];
	if (!total)
		return 0;
	/* The smallest value with at least p of them at or below it. */
	rank = (__u64)(p * (double)total);
	if ((double)rank < p * (double)total || !rank)
		rank++;
	for (__u32 b = 0; b < LOADGEN_BUCKETS; b++) {
		seen += h->n[b];
		if (seen >= rank)
			return (double)loadgen_bucket_low(b) + (double)(loadgen_bucket_width(b) - 1) / 2;
	}
	return 0;
}
