// SPDX-License-Identifier: GPL-2.0-only
/*
 * fault.c - a backend that wraps another and makes the calls its rules pick
 * fail or come up short, so that tests can drive every error path of the
 * code above a backend with real files underneath.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

struct fault {
	struct klog_backend b; /* first, with inner's buffer: callers stage data through it */
	struct klog_backend *inner;
	struct klog_fault_rule *rules;
	unsigned int n_rules;
	unsigned int calls[KLOG_FAULT_SYNC + 1]; /* per kind, so far */
	bool lag;          /* a started write is not done at the first look */
	bool looked;       /* the started write was looked at once */
	ssize_t started;   /* its result: the write is made at start */
};

static const struct klog_backend_ops fault_ops;

static struct fault *to_fault(struct klog_backend *b)
{
	return (struct fault *)b;
}

/* Count a call of kind; the first rule that picks it, or NULL to pass it on. */
static const struct klog_fault_rule *fault_call(struct fault *f, enum klog_fault_kind kind)
{
	unsigned int nth = ++f->calls[kind];

	for (unsigned int i = 0; i < f->n_rules; i++) {
		const struct klog_fault_rule *r = &f->rules[i];

		if (r->kind == kind && (r->nth == nth || (r->and_after && nth > r->nth)))
			return r;
	}
	return NULL;
}

static int fault_sync(struct klog_backend *b, unsigned int slot)
{
	struct fault *f = to_fault(b);
	const struct klog_fault_rule *r = fault_call(f, KLOG_FAULT_SYNC);

	return r ? r->err : f->inner->ops->sync(f->inner, slot);
}

static ssize_t fault_submit(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
			    off_t off, bool datasync)
{
	struct fault *f = to_fault(b);
	const struct klog_fault_rule *r = fault_call(f, KLOG_FAULT_SUBMIT);
	struct klog_backend *in = f->inner;
	ssize_t n;
	int err;

	/* One byte cannot be cut short: passing it on is the honest answer. */
	if (r && r->short_write && len >= 2)
		return in->ops->submit(in, slot, buf_off, len / 2, off, false);
	if (r && !r->short_write)
		return r->err;
	/*
	 * The datasync is made a sync call of its own, so that sync rules
	 * reach it and the counts show it.
	 */
	n = in->ops->submit(in, slot, buf_off, len, off, false);
	if (n < 0 || (size_t)n < len || !datasync)
		return n;
	err = fault_sync(b, slot);
	return err ? err : n;
}

/* The write is made now, through the rules; only its result waits for the reap. */
static int fault_start(struct klog_backend *b, unsigned int slot, size_t buf_off, size_t len,
		       off_t off, bool datasync)
{
	struct fault *f = to_fault(b);

	f->started = fault_submit(b, slot, buf_off, len, off, datasync);
	f->looked = false;
	return 0;
}

static ssize_t fault_reap(struct klog_backend *b, bool wait)
{
	struct fault *f = to_fault(b);

	if (f->lag && !wait && !f->looked) {
		f->looked = true;
		return -EAGAIN;
	}
	return f->started;
}

static int fault_set_file(struct klog_backend *b, unsigned int slot, int fd)
{
	struct klog_backend *in = to_fault(b)->inner;

	return in->ops->set_file(in, slot, fd);
}

static void fault_close(struct klog_backend *b)
{
	struct fault *f = to_fault(b);

	if (!b)
		return;
	f->inner->ops->close(f->inner);
	free(f->rules);
	free(f);
}

/* Wrappers are made by klog_backend_fault_open() around an open backend only. */
static int fault_open(struct klog_backend **out, const struct klog_backend_opts *opts)
{
	(void)out;
	(void)opts;
	return -EOPNOTSUPP;
}

static const struct klog_backend_ops fault_ops = {
	.name = "fault",
	.open = fault_open,
	.close = fault_close,
	.set_file = fault_set_file,
	.submit = fault_submit,
	.sync = fault_sync,
	.start = fault_start,
	.reap = fault_reap,
};

/* A rule that fails with an error, or cuts a submit short: anything else is a test bug. */
static bool rule_valid(const struct klog_fault_rule *r)
{
	if ((r->kind != KLOG_FAULT_SUBMIT && r->kind != KLOG_FAULT_SYNC) || !r->nth)
		return false;
	if (r->short_write)
		return r->kind == KLOG_FAULT_SUBMIT && !r->err;
	return r->err < 0;
}

/* On error inner stays the caller's, to close. */
int klog_backend_fault_open(struct klog_backend **out, struct klog_backend *inner,
			    const struct klog_fault_rule *rules, unsigned int n)
{
	struct fault *f;

	if (!inner || (n && !rules))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if (!rule_valid(&rules[i]))
			return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (n) {
		f->rules = calloc(n, sizeof(*rules));
		if (!f->rules) {
			free(f);
			return -ENOMEM;
		}
		memcpy(f->rules, rules, n * sizeof(*rules));
	}
	f->b.ops = &fault_ops;
	f->b.buf = inner->buf;
	f->b.buf_size = inner->buf_size;
	f->inner = inner;
	f->n_rules = n;
	*out = &f->b;
	return 0;
}

void klog_backend_fault_set_lag(struct klog_backend *b, bool lag)
{
	if (b && b->ops == &fault_ops)
		to_fault(b)->lag = lag;
}

void klog_backend_fault_counts(struct klog_backend *b, unsigned int *submits,
			       unsigned int *syncs)
{
	bool fault = b && b->ops == &fault_ops;

	if (submits)
		*submits = fault ? to_fault(b)->calls[KLOG_FAULT_SUBMIT] : 0;
	if (syncs)
		*syncs = fault ? to_fault(b)->calls[KLOG_FAULT_SYNC] : 0;
}
