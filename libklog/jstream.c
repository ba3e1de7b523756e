// SPDX-License-Identifier: GPL-2.0-only
/* jstream.c - a klog log in a NATS JetStream stream: what both sides share (jstream.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "explain.h"
#include "jstream.h"

#define DESC_PREFIX "klog log "
#define MAX_URLS 16

int klog_js_check_name(const char *name, char *err, size_t errn)
{
	size_t n = strlen(name);

	if (n && n <= KLOG_JS_STREAM_MAX && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
					       "nopqrstuvwxyz0123456789_-") == n)
		return 0;
	snprintf(err, errn, "stream name '%s': 1..%d letters, digits, '_' or '-'", name,
		 KLOG_JS_STREAM_MAX);
	return -EINVAL;
}

int klog_js_errno(natsStatus s, jsErrCode jerr)
{
	switch (jerr) {
	case JSStreamNotFoundErr:
	case JSNoMessageFoundErr:
		return -ENOENT;
	case JSClusterNotAvailErr:
	case JSClusterNoPeersErr:
		return -EAGAIN;
	default:
		break;
	}
	switch (s) {
	case NATS_OK: return 0;
	case NATS_NO_MEMORY: return -ENOMEM;
	case NATS_TIMEOUT: return -ETIMEDOUT;
	case NATS_NO_SERVER: return -ECONNREFUSED;
	case NATS_NOT_FOUND: return -ENOENT;
	case NATS_NO_RESPONDERS: return -EHOSTUNREACH;
	case NATS_CONNECTION_CLOSED:
	case NATS_CONNECTION_DISCONNECTED:
	case NATS_STALE_CONNECTION: return -ENOTCONN;
	case NATS_INVALID_ARG:
	case NATS_ADDRESS_MISSING: return -EINVAL;
	default: return -EIO;
	}
}

void klog_js_strerror(natsStatus s, jsErrCode jerr, const char *what, char *err, size_t errn)
{
	const char *last = nats_GetLastError(NULL);

	if (jerr)
		snprintf(err, errn, "%s: %s (JetStream error %d)", what,
			 last && *last ? last : natsStatus_GetText(s), (int)jerr);
	else
		snprintf(err, errn, "%s: %s", what, last && *last ? last : natsStatus_GetText(s));
}

/* Split urls at commas into list (strings in copy, which the caller frees). */
static int split_urls(const char *urls, char **copy, const char **list, int *n)
{
	char *save = NULL, *tok;

	*n = 0;
	if (!(*copy = strdup(urls)))
		return -ENOMEM;
	for (tok = strtok_r(*copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!*tok)
			continue;
		if (*n == MAX_URLS)
			return -E2BIG;
		list[(*n)++] = tok;
	}
	return *n ? 0 : -EINVAL;
}

static int connect_to(struct klog_js *c, const char *urls, const char *stream,
		      int64_t timeout_ms, int reconnect_buf, bool asap, char *err, size_t errn)
{
	const char *list[MAX_URLS];
	natsOptions *o = NULL;
	jsOptions jo;
	natsStatus s;
	char *copy = NULL;
	int n, ret;

	memset(c, 0, sizeof(*c));
	if ((ret = klog_js_check_name(stream, err, errn)))
		return ret;
	snprintf(c->stream, sizeof(c->stream), "%s", stream);
	snprintf(c->subject, sizeof(c->subject), "klog.%s", stream);
	if ((ret = split_urls(urls, &copy, list, &n))) {
		snprintf(err, errn, "--nats '%s': %s", urls, ret == -E2BIG ?
			 "more than 16 URLs" : "no URL");
		goto out;
	}
	if ((s = natsOptions_Create(&o)) != NATS_OK ||
	    (s = natsOptions_SetServers(o, list, n)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(o, timeout_ms)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(o, 100)) != NATS_OK ||
	    (s = natsOptions_SetNoRandomize(o, false)) != NATS_OK ||
	    (s = natsOptions_SetSendAsap(o, asap)) != NATS_OK ||
	    (reconnect_buf && (s = natsOptions_SetReconnectBufSize(o, reconnect_buf)) != NATS_OK)) {
		klog_js_strerror(s, 0, "NATS options", err, errn);
		ret = klog_js_errno(s, 0);
		goto out;
	}
	if ((s = natsConnection_Connect(&c->nc, o)) != NATS_OK) {
		klog_js_strerror(s, 0, urls, err, errn);
		ret = klog_js_errno(s, 0);
		goto out;
	}
	jsOptions_Init(&jo);
	jo.Wait = timeout_ms;
	if ((s = natsConnection_JetStream(&c->js, c->nc, &jo)) != NATS_OK) {
		klog_js_strerror(s, 0, "JetStream context", err, errn);
		ret = klog_js_errno(s, 0);
		goto out;
	}
	ret = 0;
out:
	natsOptions_Destroy(o);
	free(copy);
	if (ret)
		klog_js_close(c);
	return ret;
}

int klog_js_connect(struct klog_js *c, const char *urls, const char *stream,
		    int64_t timeout_ms, int reconnect_buf, char *err, size_t errn)
{
	/* Buffered, a publish or request would wait up to 1 ms for the library's flusher. */
	return connect_to(c, urls, stream, timeout_ms, reconnect_buf, true, err, errn);
}

int klog_js_connect_buffered(struct klog_js *c, const char *urls, const char *stream,
			     int64_t timeout_ms, int reconnect_buf, char *err, size_t errn)
{
	return connect_to(c, urls, stream, timeout_ms, reconnect_buf, false, err, errn);
}

void klog_js_close(struct klog_js *c)
{
	if (c->js)
		jsCtx_Destroy(c->js);
	if (c->nc) {
		natsConnection_Close(c->nc);
		natsConnection_Destroy(c->nc);
	}
	c->js = NULL;
	c->nc = NULL;
}

void klog_js_describe(char *buf, size_t n, uint64_t log_id)
{
	snprintf(buf, n, DESC_PREFIX "%016" PRIx64, log_id);
}

int klog_js_parse_description(const char *desc, uint64_t *log_id)
{
	char *end;

	if (!desc || strncmp(desc, DESC_PREFIX, strlen(DESC_PREFIX)))
		return -EPROTO;
	desc += strlen(DESC_PREFIX);
	if (strlen(desc) != 16 || strspn(desc, "0123456789abcdef") != 16)
		return -EPROTO;
	*log_id = strtoull(desc, &end, 16);
	return *log_id ? 0 : -EPROTO;
}

int klog_js_state(struct klog_js *c, struct klog_js_state *st, char *err, size_t errn)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, c->js, c->stream, NULL, &jerr);
	int ret = 0;

	if (s != NATS_OK) {
		klog_js_strerror(s, jerr, c->stream, err, errn);
		return klog_js_errno(s, jerr);
	}
	memset(st, 0, sizeof(*st));
	st->first = si->State.FirstSeq;
	st->last = si->State.LastSeq;
	st->msgs = si->State.Msgs;
	st->replicas = si->Config->Replicas;
	if (klog_js_parse_description(si->Config->Description, &st->log_id)) {
		snprintf(err, errn, "stream %s is not a klog log (its description is '%s', "
			 "not '" DESC_PREFIX "<id>')", c->stream,
			 si->Config->Description ? si->Config->Description : "");
		ret = -EPROTO;
	}
	jsStreamInfo_Destroy(si);
	return ret;
}

int klog_js_get(struct klog_js *c, uint64_t lsn, natsMsg **msg, char *err, size_t errn)
{
	jsErrCode jerr = 0;
	natsStatus s = js_GetMsg(msg, c->js, c->stream, lsn, NULL, &jerr);
	char what[96];

	if (s == NATS_OK)
		return 0;
	*msg = NULL;
	snprintf(what, sizeof(what), "stream %s sequence %" PRIu64, c->stream, lsn);
	klog_js_strerror(s, jerr, what, err, errn);
	return klog_js_errno(s, jerr);
}

int klog_js_decode(const void *data, size_t n, uint64_t log_id, uint64_t lsn,
		   struct klog_rec *rec, char *why, size_t wn)
{
	if (!n) {
		snprintf(why, wn, "an empty message");
		return -EBADMSG;
	}
	if (klog_rec_explain(data, n, log_id, lsn, KLOG_MAX_RECORD, rec, why, wn))
		return -EBADMSG;
	/* Bytes after the record would be something klogd never sends: not this record. */
	if (n != klog_rec_size(rec->len)) {
		snprintf(why, wn, "a message of %zu bytes, its record of %" PRIu32
			 " payload bytes takes %zu", n, rec->len, klog_rec_size(rec->len));
		return -EBADMSG;
	}
	return 0;
}
