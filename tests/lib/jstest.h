/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jstest.h - a real nats-server for a test, and klog streams written in it
 * by hand the way klogd writes them (libklog/jstream.h): stream sequence =
 * LSN, each message one sealed record, the log id in the description.
 * Used by test_jsreader and by mkstream (tests/unit/test-klogctl-nats.sh).
 * Functions return 0 or a negative errno value (no Check in them).
 */
#ifndef KLOG_TEST_JSTEST_H
#define KLOG_TEST_JSTEST_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "jstream.h"

struct jsserver {
	pid_t pid;
	char dir[PATH_MAX]; /* its store (-sd), removed by jsserver_stop() */
	char url[64];       /* nats://127.0.0.1:PORT */
	int port;
};

/*
 * Start nats-server (from PATH) with JetStream on 127.0.0.1 at a free port,
 * its store in a new directory under /var/tmp, and wait until it answers.
 * It is killed with this process if that dies first (PR_SET_PDEATHSIG).
 */
int jsserver_start(struct jsserver *s);

/* Stop it (SIGTERM, then SIGKILL after 5 s), wait for it, remove its store. */
void jsserver_stop(struct jsserver *s);

/* Stop it as jsserver_stop() does, but keep its store: jsserver_up() starts it again. */
void jsserver_down(struct jsserver *s);

/*
 * Start it again after jsserver_down(): the same port, the same store;
 * without JetStream if !jetstream (a server that answers no publish).
 */
int jsserver_up(struct jsserver *s, bool jetstream);

/* Create stream c->stream on subject c->subject, description desc (NULL: none). */
int jstest_create(struct klog_js *c, const char *desc);

/* Create it with cfg's settings (its name and subject are set here). */
int jstest_create_cfg(struct klog_js *c, jsStreamConfig *cfg);

/* Create it with the description of log_id: a klog stream. */
int jstest_create_log(struct klog_js *c, uint64_t log_id);

/* The payload of lsn's record: len bytes into p. */
void jstest_fill(uint8_t *p, uint64_t lsn, uint32_t len);

/*
 * Publish the record of lsn (txid lsn + 1000, len bytes of jstest_fill()
 * sealed with salt) as sequence lsn (expected-last-sequence lsn - 1, as
 * klogd does); flip: XOR that byte of the message with 0x01 first (-1: none).
 */
int jstest_publish(struct klog_js *c, uint64_t lsn, uint32_t len, uint64_t salt, long flip);

/* Publish records first..last of logbuild_len() bytes each, sealed with salt. */
int jstest_publish_range(struct klog_js *c, uint64_t first, uint64_t last, uint64_t salt);

/* Purge the messages below sequence seq (trim the head). */
int jstest_purge(struct klog_js *c, uint64_t seq);

#endif
