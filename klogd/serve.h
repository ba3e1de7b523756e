/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * serve.h - klogd's answers to READ and INFO (doc/protocol.md, "Reading").
 * The programs pass those requests to the stack; a thread of klogd receives
 * them on the service port's sockets (the ones DURABLE notices leave from)
 * and answers, under the programs' rules (only requests to this server's
 * addresses, from allowed sources, never a reply), from the durable log through libklog's reader, the same code
 * that reads the log on the server.  An APPEND or QUERY reaching it was not
 * taken by the programs (fragmented, or headers they do not parse): it gets
 * NACK TOOBIG or OPCODE, so the client learns that it never will be.  It never touches the drain's state:
 * the drain only kicks it when the durable LSN moves, so that long polls
 * are answered at once.
 */
#ifndef KLOGD_SERVE_H
#define KLOGD_SERVE_H

#include <stdint.h>

#include <klog/klog_abi.h>

struct klogd_serve;
struct klog_kern;

struct klogd_serve_cfg {
	int fd4, fd6;              /* the service port's sockets; -1: none of that family */
	const char *dir;           /* the log directory, or */
	const char *nats, *stream; /* the JetStream stream */
	const struct klog_ctl *ctl; /* durable_lsn, next_lsn and log_id, as published */
	const struct klog_kern *k;  /* its access maps: whom to answer (access.c) */
	uint16_t port;
};

/* Start the thread.  RETURN VALUE: 0; -ENOMEM; -errno of the reader or the thread. */
int klogd_serve_start(struct klogd_serve **s, const struct klogd_serve_cfg *cfg);

/* The durable LSN moved: answer the long polls it satisfies.  Cheap without any. */
void klogd_serve_kick(struct klogd_serve *s);

/* Stop the thread, log what it served, free s (NULL is fine). */
void klogd_serve_stop(struct klogd_serve *s);

#endif
