// SPDX-License-Identifier: GPL-2.0-only
/*
 * source.c - where read, dump, tail, verify, export (and bench's durable
 * lag) read a log: a directory (--dir DIR), a JetStream stream (--nats
 * URL[,URL...] --stream NAME), a klog server (--server HOST[:PORT]) or an
 * export file (--file FILE).  libklog reads all through one reader API, so
 * only the options, the names in messages and the words of a few errors
 * differ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <klog/klog.h>

#include "klogctl.h"

bool ctl_src_opt(struct ctl_src *s, int o, const char *arg)
{
	switch (o) {
	case 'd': s->dir = arg; return true;
	case 'N': s->nats = arg; return true;
	case 'T': s->stream = arg; return true;
	case CTL_SRC_FILE: s->file = arg; return true;
	case CTL_SRC_SERVER: s->server = arg; return true;
	default: return false;
	}
}

int ctl_src_check(struct ctl_src *s, const char *cmd, bool required)
{
	const char *why = NULL;

	if (!!s->dir + !!(s->nats || s->stream) + !!s->server + !!s->file > 1)
		why = "one source: --dir, --nats with --stream, --server, or --file";
	else if (!s->nats != !s->stream)
		why = "--nats and --stream go together";
	else if (required && !ctl_src_given(s))
		why = "a source is required: --dir DIR, --nats URL[,URL...] --stream NAME, "
		      "--server HOST[:PORT], or --file FILE";
	if (why) {
		fprintf(stderr, "klogctl %s: %s\n", cmd, why);
		return 2;
	}
	if (s->server && ctl_server_check(cmd, "--server", s->server))
		return 2;
	if (s->dir)
		snprintf(s->name, sizeof(s->name), "%s", s->dir);
	else if (s->nats)
		snprintf(s->name, sizeof(s->name), "stream %s", s->stream);
	else if (s->file)
		snprintf(s->name, sizeof(s->name), "%s", s->file);
	else if (s->server)
		snprintf(s->name, sizeof(s->name), "server %s", s->server);
	return 0;
}

bool ctl_src_given(const struct ctl_src *s)
{
	return s->dir || s->nats || s->server || s->file;
}

int ctl_src_open(const struct ctl_src *s, struct klog_reader **r)
{
	if (s->file)
		return klog_reader_open_file(r, s->file);
	if (s->server) {
		struct klog_remote_opts o = { .timeout_ms = s->timeout_ms, .retries = s->retries };

		return klog_reader_open_server(r, s->server, &o);
	}
	return s->dir ? klog_reader_open(r, s->dir) : klog_reader_open_nats(r, s->nats, s->stream);
}

int ctl_src_open_fail(const struct ctl_src *s, int err)
{
	/* A server's name that did not resolve, or no such file or directory. */
	return s->server ? ctl_client_fail(s->name, err) : ctl_fail(s->name, err);
}

/* An export file's words: it is one file, read front to back. */
static const char *file_err_str(int err)
{
	switch (err) {
	case -ENOENT: return "below the export's first LSN";
	case -EAGAIN: return "past the export's last LSN";
	case -ENOLINK: return "missing from the export (a gap between its frames, or unreadable)";
	case -EBADMSG: return "corrupt in the export file";
	case -EPROTO: return "an export of another format version";
	case -EILSEQ: return CTL_TOMBSTONE;
	default: return strerror(-err);
	}
}

const char *ctl_src_err_str(const struct ctl_src *s, int err)
{
	if (s->file)
		return file_err_str(err);
	switch (err) {
	case -ENOENT: return "trimmed (below the first record kept)";
	case -EAGAIN: return "not durable yet";
	case -ENOLINK:
		return s->dir ? "missing from the log (a segment or index is missing or unreadable)"
		       : s->server ? "missing from the log (the server's copy is missing or damaged)"
				   : "missing from the log (no such stream, or its message was deleted)";
	case -EBADMSG: return s->dir ? "corrupt on disk" : "corrupt in the stream";
	case -EHOSTUNREACH:
		return s->server ? "the server cannot read its log now"
				 : "the NATS cluster does not answer";
	case -ENXIO: return klog_strerror(err);
	case -ETIMEDOUT:
		return s->server ? "the server does not answer" : strerror(ETIMEDOUT);
	case -EPROTO: return "not a klog log";
	case -EILSEQ: return CTL_TOMBSTONE;
	default: return strerror(-err);
	}
}

int ctl_read_fail(const struct ctl_src *src, struct klog_reader *r, const char *lead, int err)
{
	const char *detail = klog_reader_strerror(r);

	fprintf(stderr, "%s: %s%s%s\n", lead, ctl_src_err_str(src, err), *detail ? ": " : "",
		detail);
	return 1;
}
