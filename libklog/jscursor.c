// SPDX-License-Identifier: GPL-2.0-only
/* jscursor.c - a stream read in sequence order by an ordered consumer (jscursor.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jscursor.h"

int klog_jscur_open(struct klog_jscur *cur, struct klog_js *c, uint64_t from, char *err,
		    size_t errn)
{
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	memset(cur, 0, sizeof(*cur));
	jsSubOptions_Init(&so);
	so.Stream = c->stream;
	/* Ordered: ephemeral, no acks, flow control; the library recreates it where it
	 * misses a delivery, from the last stream sequence it delivered. */
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = from;
	s = js_SubscribeSync(&cur->sub, c->js, c->subject, NULL, &so, &jerr);
	if (s != NATS_OK) {
		char what[128];

		snprintf(what, sizeof(what), "stream %s: consumer from sequence %" PRIu64,
			 c->stream, from);
		klog_js_strerror(s, jerr, what, err, errn);
		cur->sub = NULL;
		return klog_js_errno(s, jerr);
	}
	cur->next = from;
	return 0;
}

int klog_jscur_next(struct klog_jscur *cur, natsMsg **msg, uint64_t *seq, int64_t timeout_ms,
		    char *err, size_t errn)
{
	jsMsgMetaData *md = NULL;
	natsStatus s;

	*msg = NULL;
	s = natsSubscription_NextMsg(msg, cur->sub, timeout_ms);

	if (s == NATS_TIMEOUT) {
		snprintf(err, errn, "no message from the stream in %" PRId64 " ms (sequence %"
			 PRIu64 " expected)", timeout_ms, cur->next);
		return -ETIMEDOUT;
	}
	if (s == NATS_OK && (s = natsMsg_GetMetaData(&md, *msg)) == NATS_OK) {
		*seq = md->Sequence.Stream;
		jsMsgMetaData_Destroy(md);
		if (*seq >= cur->next) {
			cur->next = *seq + 1;
			return 0;
		}
		snprintf(err, errn, "sequence %" PRIu64 " delivered after %" PRIu64, *seq,
			 cur->next - 1);
		natsMsg_Destroy(*msg);
		*msg = NULL;
		return -EPROTO;
	}
	if (*msg)
		natsMsg_Destroy(*msg);
	*msg = NULL;
	klog_js_strerror(s, 0, "stream consumer", err, errn);
	return klog_js_errno(s, 0);
}

void klog_jscur_close(struct klog_jscur *cur)
{
	if (cur->sub) {
		natsSubscription_Unsubscribe(cur->sub);
		natsSubscription_Destroy(cur->sub);
	}
	cur->sub = NULL;
}
