// SPDX-License-Identifier: GPL-2.0-only
/* jsopen.c - find, check or create a jetstream store's stream (see jsopen.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "explain.h"
#include <klog/klog_abi.h>
#include "format.h"
#include "jsopen.h"

/* Append ", what" to buf (n bytes) as one more difference. */
static void differ(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void differ(char *buf, size_t n, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 2 >= n)
		return;
	if (used)
		used += (size_t)snprintf(buf + used, n - used, "; ");
	va_start(ap, fmt);
	vsnprintf(buf + used, n - used, fmt, ap);
	va_end(ap);
}

/*
 * Are the stream's settings the ones klogd creates it with?  A stream that
 * could drop, delete or take other messages is no log: it is refused, and
 * never changed, for what it holds may be someone's.
 */
static int check_settings(const struct klog_js *c, const jsStreamConfig *cfg,
			  const struct klogd_js_opts *o, char *err, size_t errn)
{
	char d[384] = "";

	if (cfg->Replicas != o->replicas)
		differ(d, sizeof(d), "%" PRId64 " replicas (--replicas %d)", cfg->Replicas,
		       o->replicas);
	if (cfg->SubjectsLen != 1 || strcmp(cfg->Subjects[0], c->subject))
		differ(d, sizeof(d), "subjects %s%s (klogd's: %s)",
		       cfg->SubjectsLen ? cfg->Subjects[0] : "none",
		       cfg->SubjectsLen > 1 ? ", ..." : "", c->subject);
	if (cfg->Storage != js_FileStorage)
		differ(d, sizeof(d), "memory storage (klogd's: file)");
	if (cfg->Retention != js_LimitsPolicy)
		differ(d, sizeof(d), "a retention policy other than limits");
	if (cfg->Discard != js_DiscardNew)
		differ(d, sizeof(d), "discard old (klogd's: new, so a full stream refuses records)");
	if (cfg->MaxMsgs > 0 || cfg->MaxBytes > 0 || cfg->MaxAge > 0 || cfg->MaxMsgsPerSubject > 0)
		differ(d, sizeof(d), "limits on messages, bytes or age (klogd's: none)");
	if (!cfg->DenyDelete)
		differ(d, sizeof(d), "messages may be deleted (klogd's: deny delete)");
	if (!*d)
		return 0;
	snprintf(err, errn, "stream %s exists with other settings than klogd's: %s. klogd never "
		 "changes or re-creates a stream: use its settings or another --stream", c->stream,
		 d);
	return -EINVAL;
}

/* Create the stream, as log_id (0: a new random one). RETURN VALUE: 0; -EEXIST if it now exists. */
static int create(struct klog_js *c, const struct klogd_js_opts *o, struct klogd_store_info *info,
		  char *err, size_t errn)
{
	const char *subjects[] = { c->subject };
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	uint64_t id = o->log_id;
	char desc[64];
	natsStatus st;

	while (!id)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			return -errno;
	klog_js_describe(desc, sizeof(desc), id);
	jsStreamConfig_Init(&cfg);
	cfg.Name = c->stream;
	cfg.Description = desc;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Retention = js_LimitsPolicy;
	cfg.Discard = js_DiscardNew;
	cfg.Replicas = o->replicas;
	cfg.DenyDelete = true;
	st = js_AddStream(&si, c->js, &cfg, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (jerr == JSStreamNameExistErr)
		return -EEXIST;
	if (st != NATS_OK) {
		klog_js_strerror(st, jerr, "creating the stream", err, errn);
		return klog_js_errno(st, jerr);
	}
	*info = (struct klogd_store_info){ .next_lsn = KLOG_FIRST_LSN, .log_id = id, .created = true };
	return 0;
}

/* Is the stream's message at sequence last the record of LSN last of its log? */
static int check_last(struct klog_js *c, const struct klogd_js_opts *o, uint64_t last,
		      uint64_t log_id, char *err, size_t errn)
{
	struct klog_rec rec;
	natsMsg *m;
	char why[256];
	int ret = klog_js_get(c, last, &m, err, errn);

	if (ret)
		return ret == -ENOENT ? -EAGAIN : ret;
	if (klog_rec_explain(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), log_id, last,
			     o->max_record, &rec, why, sizeof(why))) {
		snprintf(err, errn, "stream %s sequence %" PRIu64 " is not LSN %" PRIu64 " of log "
			 "%016" PRIx64 ": %s", c->stream, last, last, log_id, why);
		ret = -EPROTO;
	}
	natsMsg_Destroy(m);
	return ret;
}

/* Does the stream found agree with the pinned kernel log? */
static int pair(struct klog_js *c, const struct klogd_js_opts *o, struct klogd_store_info *info,
		char *err, size_t errn)
{
	if (o->log_id && info->log_id != o->log_id) {
		snprintf(err, errn, "stream %s is log %016" PRIx64 " but the pinned kernel log is "
			 "%016" PRIx64 ": wrong --stream for --name?", c->stream, info->log_id,
			 o->log_id);
		return -EXDEV;
	}
	if ((info->created && o->refuse_empty) || info->next_lsn < o->acked_lsn) {
		snprintf(err, errn, "stream %s ends before LSN %" PRIu64 " but the pinned kernel log "
			 "acknowledged every LSN below %" PRIu64 " as durable: it lost records "
			 "(a stream of one replica whose server lost its data?), or wrong --stream",
			 c->stream, info->next_lsn, o->acked_lsn);
		return -ESTALE;
	}
	return 0;
}

int js_find_stream(struct klog_js *c, const struct klogd_js_opts *o,
		   struct klogd_store_info *info, char *err, size_t errn)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	uint64_t from;
	natsStatus st;
	int ret;

	while ((st = js_GetStreamInfo(&si, c->js, c->stream, NULL, &jerr)) != NATS_OK) {
		if (jerr != JSStreamNotFoundErr) {
			klog_js_strerror(st, jerr, c->stream, err, errn);
			return klog_js_errno(st, jerr);
		}
		if (o->refuse_empty) {
			*info = (struct klogd_store_info){ .next_lsn = KLOG_FIRST_LSN, .created = true,
							   .log_id = o->log_id };
			return pair(c, o, info, err, errn);
		}
		if ((ret = create(c, o, info, err, errn)) != -EEXIST)
			return ret; /* one made meanwhile is looked up again */
		jerr = 0;
	}
	if ((ret = check_settings(c, si->Config, o, err, errn)))
		goto out;
	if (klog_js_parse_description(si->Config->Description, &info->log_id)) {
		snprintf(err, errn, "stream %s is not a klog log (its description is '%s')",
			 c->stream, si->Config->Description ? si->Config->Description : "");
		ret = -EPROTO;
		goto out;
	}
	info->next_lsn = si->State.LastSeq + 1;
	info->created = si->State.LastSeq == 0;
	if ((ret = pair(c, o, info, err, errn)) || !si->State.Msgs)
		goto out;
	/*
	 * What the pinned log did not see acknowledged becomes durable now: each
	 * of those must be its record (an expectation says the sequence before
	 * was taken, not by whom).  Without a pinned log, the last one.
	 */
	from = si->State.LastSeq;
	if (o->log_id)
		from = o->acked_lsn > si->State.FirstSeq ? o->acked_lsn : si->State.FirstSeq;
	for (uint64_t lsn = from; !ret && lsn <= si->State.LastSeq; lsn++)
		ret = check_last(c, o, lsn, info->log_id, err, errn);
out:
	jsStreamInfo_Destroy(si);
	return ret;
}
