// SPDX-License-Identifier: GPL-2.0-only
/*
 * jsverify.c - klog_verify_nats(): a whole JetStream stream against its
 * format (jstream.h).  One ordered consumer delivers every message from the
 * first sequence to the last the stream held when the check began; each
 * must be its LSN's record sealed with the log id of the description, and
 * the sequences must come without a gap.  Unlike the reader, it goes on
 * past a bad message when asked to keep going.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <klog/klog.h>

#include "format.h"
#include "jscursor.h"
#include "jstream.h"
#include "rstream.h"
#include "vrep.h"

/* Check each message of the stream in st. RETURN VALUE: 0, or the error that stopped it. */
static int walk(struct klog_js *c, const struct klog_js_state *st, struct klog_vrep *v)
{
	struct klog_jscur cur;
	char why[256];
	uint64_t lsn = st->first, seq;
	int err = klog_jscur_open(&cur, c, st->first, why, sizeof(why));

	while (!err && lsn <= st->last && !v->stop) {
		struct klog_rec rec;
		natsMsg *m;

		if ((err = klog_jscur_next(&cur, &m, &seq, KLOG_RSTREAM_TIMEOUT_MS, why,
					   sizeof(why))))
			break;
		if (seq != lsn &&
		    klog_vreport(v, -ENOLINK, NULL, UINT64_MAX, lsn, "gap: no message at "
				 "sequences %" PRIu64 "..%" PRIu64, lsn,
				 seq <= st->last ? seq - 1 : st->last)) {
			natsMsg_Destroy(m);
			break;
		}
		if (seq <= st->last) {
			v->sum->records++;
			v->sum->last_lsn = seq;
		}
		if (seq <= st->last &&
		    klog_js_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
				   st->log_id, seq, &rec, why, sizeof(why)))
			klog_vreport(v, -EBADMSG, NULL, UINT64_MAX, seq, "%s", why);
		else if (seq <= st->last && (rec.flags & KLOG_REC_F_TOMBSTONE))
			klog_vtombstone(v, NULL, UINT64_MAX, seq);
		natsMsg_Destroy(m);
		lsn = seq + 1;
	}
	klog_jscur_close(&cur);
	return err ? klog_rstream_errno(err) : 0;
}

int klog_verify_nats(const char *urls, const char *stream, unsigned int flags,
		     klog_verify_fn fn, void *ctx, struct klog_verify_summary *sum)
{
	struct klog_verify_summary dummy;
	struct klog_vrep v = { .flags = flags, .fn = fn, .ctx = ctx, .sum = sum ? sum : &dummy };
	struct klog_js_state st;
	struct klog_js c;
	char why[256];
	int err;

	*v.sum = (struct klog_verify_summary){ 0 };
	if ((err = klog_js_connect(&c, urls, stream, KLOG_RSTREAM_TIMEOUT_MS, 0, why,
				   sizeof(why))))
		return klog_rstream_errno(err);
	err = klog_js_state(&c, &st, why, sizeof(why));
	if (err == -EPROTO) {
		klog_vreport(&v, -EPROTO, NULL, UINT64_MAX, UINT64_MAX, "%s", why);
		err = 0;
	} else if (!err) {
		v.sum->log_id = st.log_id;
		v.sum->first_lsn = st.first;
		v.sum->last_lsn = st.first - 1;
		if (st.msgs)
			err = walk(&c, &st, &v);
	}
	klog_js_close(&c);
	return err ? klog_rstream_errno(err) : v.ret;
}
