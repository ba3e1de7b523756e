// SPDX-License-Identifier: GPL-2.0-only
/* open.c - open the store --backend names (see open.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "jetstream.h"
#include "log.h"
#include "open.h"
#include "writer.h"

#define INFLIGHT 4096     /* records a stream store holds until acknowledged */
#define ACK_WAIT_MS 3000  /* a publish not acknowledged by then is made again */

bool klogd_backend_is_dir(const char *name)
{
	return klog_backend_find(name) != NULL;
}

bool klogd_backend_known(const char *name)
{
	return klogd_backend_is_dir(name) || !strcmp(name, "jetstream");
}

/*
 * A pinned kernel log names the log the store must be, and what it already
 * acknowledged as durable: the store must hold all of that, and may be
 * empty only if the log never made anything durable.
 */
static void pinned_log(const struct klog_ctl *ctl, uint64_t *log_id, uint64_t *first,
		       uint64_t *acked, bool *refuse_empty)
{
	uint64_t trunc = __atomic_load_n(&ctl->truncated_lsn, __ATOMIC_ACQUIRE);
	uint64_t durable = __atomic_load_n(&ctl->durable_lsn, __ATOMIC_ACQUIRE);

	*first = trunc;
	*log_id = ctl->log_id;
	*acked = durable > trunc ? durable : trunc;
	*refuse_empty = *acked > KLOG_FIRST_LSN;
}

static int open_backend(const char *name, struct klog_backend **b)
{
	struct klog_backend_opts bo = { .queue_depth = 64, .buf_size = 4u << 20 };
	const struct klog_backend_ops *ops = klog_backend_find(name);
	int err = ops->open(b, &bo);

	if (err && ops == &klog_backend_uring) {
		klogd_warn("io_uring is unavailable (%s): using the psync backend",
			  strerror(-err));
		ops = &klog_backend_psync;
		err = ops->open(b, &bo);
	}
	if (err)
		klogd_err("cannot set up the %s backend: %s", ops->name, strerror(-err));
	return err;
}

static int open_dir(const struct klogd_store_cfg *c, const struct klog_ctl *pinned,
		    struct klogd_store **s, struct klogd_store_info *info,
		    struct klog_backend **b)
{
	struct klog_writer_opts wo = { .dir = c->dir, .seg_size = c->seg_size,
				       .max_record = KLOG_MAX_RECORD, .first_lsn = KLOG_FIRST_LSN };
	struct klog_writer_recovery rec;
	struct klog_writer *w;
	int err;

	if (pinned)
		pinned_log(pinned, &wo.log_id, &wo.first_lsn, &wo.acked_lsn, &wo.refuse_empty);
	if ((err = open_backend(c->backend, b)))
		return err;
	if ((err = klog_writer_open(&w, &wo, *b, &rec))) {
		if (rec.fault.msg[0])
			klogd_err("%s", rec.fault.msg); /* it names the directory */
		else
			klogd_err("opening the log in %s: %s", c->dir, strerror(-err));
		return err;
	}
	if (rec.cut_bytes)
		klogd_log("cut a torn tail of %llu bytes after LSN %llu",
			  (unsigned long long)rec.cut_bytes, (unsigned long long)rec.next_lsn - 1);
	*info = (struct klogd_store_info){ rec.next_lsn, rec.log_id, rec.created, rec.direct };
	*s = klog_writer_store(w);
	return 0;
}

/* Sleep ms milliseconds unless a signal comes on sfd. RETURN VALUE: 0, or -EINTR. */
static int nap(int sfd, int ms)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };

	return poll(&p, 1, ms) > 0 ? -EINTR : 0;
}

static int open_stream(const struct klogd_store_cfg *c, const struct klog_ctl *pinned, int sfd,
		       struct klogd_store **s, struct klogd_store_info *info)
{
	struct klogd_js_opts o = { .urls = c->nats, .stream = c->stream, .replicas = c->replicas,
				   .max_record = KLOG_MAX_RECORD, .inflight = INFLIGHT,
				   .ack_wait_ms = ACK_WAIT_MS };
	uint64_t first;
	char err[768];
	int ret, ms = 100;

	if (pinned)
		pinned_log(pinned, &o.log_id, &first, &o.acked_lsn, &o.refuse_empty);
	/*
	 * A new log starts where the stream ends: nothing can be attached
	 * before it answers.  A pinned one goes on from its own LSNs, and the
	 * kernel holds its records until the stream answers.
	 */
	for (int tries = 0;; tries++) {
		if (!(ret = klogd_js_open(s, &o, info, err, sizeof(err))))
			return 0;
		if (!klogd_js_retryable(ret)) {
			klogd_err("%s", err);
			return ret;
		}
		if (pinned) {
			klogd_warn("NATS at %s: %s; attaching the pinned log now, its records stay in "
				  "the kernel until stream %s answers", c->nats, err, c->stream);
			*info = (struct klogd_store_info){ .next_lsn = o.acked_lsn, .log_id = o.log_id };
			return klogd_js_open_later(s, &o);
		}
		if (!tries || !(tries % 10))
			klogd_warn("waiting for NATS at %s: %s; retrying", c->nats, err);
		if (nap(sfd, ms))
			return -EINTR;
		ms = ms < 2000 ? 2 * ms : 2000;
	}
}

int klogd_store_open(const struct klogd_store_cfg *c, const struct klog_ctl *pinned, int sfd,
		     struct klogd_store **s, struct klogd_store_info *info,
		     struct klog_backend **b)
{
	*s = NULL;
	*b = NULL;
	if (klogd_backend_is_dir(c->backend))
		return open_dir(c, pinned, s, info, b);
	return open_stream(c, pinned, sfd, s, info);
}
