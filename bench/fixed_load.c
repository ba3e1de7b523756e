// SPDX-License-Identifier: GPL-2.0-only
/* fixed_load.c - load the fixed-slot baseline and read its counters (fixed_load.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixed_load.h"

struct bpf_program *fixed_prog(struct fixed_log *skel, unsigned int slot)
{
	return slot == 128 ? skel->progs.fixed_xdp_128 : skel->progs.fixed_xdp_1024;
}

struct bpf_map *fixed_map(struct fixed_log *skel, unsigned int slot)
{
	return slot == 128 ? skel->maps.fixed_log_128 : skel->maps.fixed_log_1024;
}

int fixed_load(struct fixed_log **out, unsigned int slot, uint32_t slots, uint16_t port)
{
	unsigned int other = slot == 128 ? 1024 : 128;
	struct fixed_log *skel;
	int err;

	if ((slot != 128 && slot != 1024) || !slots)
		return -EINVAL;
	skel = fixed_log__open();
	if (!skel)
		return -errno;
	skel->rodata->fixed_slots = slots;
	skel->rodata->klog_port = port;
	/* Only the program of this size is loaded, and only its log has slots. */
	err = bpf_map__set_max_entries(fixed_map(skel, slot), slots);
	if (!err)
		err = bpf_map__set_max_entries(fixed_map(skel, other), 1);
	if (!err)
		err = bpf_program__set_autoload(fixed_prog(skel, other), false);
	if (!err)
		err = fixed_log__load(skel);
	if (err) {
		fixed_log__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int fixed_stats_sum(struct fixed_log *skel, struct fixed_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus(), err;
	struct fixed_stats *v;
	__u32 zero = 0;

	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.fixed_stats), &zero, v) ? -errno : 0;
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; !err && i < ncpus; i++) {
		sum->appends += v[i].appends;
		sum->spilled += v[i].spilled;
		sum->refused += v[i].refused;
		sum->reply_errors += v[i].reply_errors;
	}
	free(v);
	return err;
}
