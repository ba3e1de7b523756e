// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: klogd's jetstream store (klogd/jetstream.h) driven directly,
 * as the drain drives it, against real nats-servers (needs nats-server in
 * PATH): one shared by most cases, and one of their own for the cases that
 * stop and restart it (same port, same store).  Each case has its own
 * streams, never re-created.  A missing stream is created and records
 * become durable in order, byte for byte in the stream; a reopened stream
 * goes on gap-free; records a crashed klogd left are adopted, even one
 * landing after the next klogd opened, and no LSN can be stored twice, long
 * after the duplicate window; refusals at open (settings, log id, acked
 * LSN, refuse_empty, description, last message); a server unreachable at
 * open is retryable; a server down mid-run (then back without JetStream)
 * holds records back and takes them all once back; a foreign message, last
 * or followed by klogd's records, fails the store for good; reserve says
 * -EAGAIN once inflight records wait (with publishes timed out after 1 ms,
 * even while they are being made).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "check_run.h"
#include "format.h"
#include "jetstream.h"
#include "jstest.h"
#include "logbuild.h"

#define LOG_ID 0x5707e1dull
#define OTHER_ID 0xa11e4ull
#define WAIT_MS 15000 /* longest wait for records to become durable: past the store's backoff */

static struct jsserver server; /* shared by the cases */
/*
 * A case's own, stopped when that case's process exits (its server with it);
 * shared with main, which removes its store if a failed case could not.
 */
static struct jsserver *own;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stop_own(void)
{
	jsserver_stop(own);
}

/* Remove the store of the server of a case that is over (the server died with it). */
static void forget_own(void)
{
	own->pid = 0;
	jsserver_stop(own);
}

/* A server for this case alone, which it may stop and restart. */
static void own_server(void)
{
	forget_own();
	ck_assert_int_eq(jsserver_start(own), 0);
	atexit(stop_own);
}

/* The options of a store of stream name-PID (written into stream) at url, as klogd's. */
static struct klogd_js_opts options(const char *url, const char *name, char *stream)
{
	snprintf(stream, KLOG_JS_STREAM_MAX, "%s-%d", name, (int)getpid());
	return (struct klogd_js_opts){ .urls = url, .stream = stream, .replicas = 1,
				       .max_record = KLOG_MAX_RECORD, .inflight = 64,
				       .ack_wait_ms = 1000 };
}

static struct klogd_store *open_ok(const struct klogd_js_opts *o, struct klogd_store_info *info)
{
	struct klogd_store *s = NULL;
	char err[512] = "";
	int ret = klogd_js_open(&s, o, info, err, sizeof(err));

	ck_assert_msg(!ret, "opening %s: %s (%s)", o->stream, strerror(-ret), err);
	ck_assert_uint_eq(klogd_store_next(s), info->next_lsn);
	ck_assert_uint_eq(klogd_store_durable(s), info->next_lsn);
	return s;
}

/* Opening fails with want, and the message says what. */
static void open_fails(const struct klogd_js_opts *o, int want, const char *what)
{
	struct klogd_store *s = NULL;
	struct klogd_store_info info;
	char err[512] = "";
	int ret = klogd_js_open(&s, o, &info, err, sizeof(err));

	ck_assert_msg(ret == want, "opening %s: %d (%s), want %d", o->stream, ret, err, want);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, what), "'%s' does not say '%s'", err, what);
}

/* Open and close at once: the stream is found as info says. */
static void open_close(const struct klogd_js_opts *o, struct klogd_store_info *info)
{
	klogd_store_close(open_ok(o, info));
}

/* Append records first..last as the drain does (logbuild_len() bytes of jstest_fill()). */
static void append(struct klogd_store *s, uint64_t first, uint64_t last)
{
	for (uint64_t lsn = first; lsn <= last; lsn++) {
		uint32_t len = logbuild_len(lsn);
		int err;
		uint8_t *p = klogd_store_reserve(s, len, &err);

		ck_assert_msg(p, "reserving LSN %llu: %d", (unsigned long long)lsn, err);
		jstest_fill(p, lsn, len);
		ck_assert_int_eq(klogd_store_append(s, lsn, lsn + 1000, len, 0), 0);
		ck_assert_int_eq(klogd_store_commit_start(s), 0);
	}
}

/*
 * commit_wait(wait) until it returns something but -EAGAIN, or ms pass:
 * what it returned last.  Durable never goes back nor past next meanwhile.
 */
static int settle(struct klogd_store *s, uint64_t ms)
{
	uint64_t durable = klogd_store_durable(s), end = now_ms() + ms;
	int err = -EAGAIN;

	while (err == -EAGAIN && now_ms() < end) {
		err = klogd_store_commit_wait(s, true);
		ck_assert_uint_ge(klogd_store_durable(s), durable);
		durable = klogd_store_durable(s);
		ck_assert_uint_le(durable, klogd_store_next(s));
	}
	return err;
}

static void all_durable(struct klogd_store *s)
{
	int err = settle(s, WAIT_MS);

	ck_assert_msg(!err, "commit_wait: %d (%s)", err, klogd_store_error(s));
	ck_assert_uint_eq(klogd_store_durable(s), klogd_store_next(s));
}

/* Nothing more becomes durable than below durable, for ms. */
static void not_durable(struct klogd_store *s, uint64_t durable, uint64_t ms)
{
	ck_assert_int_eq(settle(s, ms), -EAGAIN);
	ck_assert_uint_eq(klogd_store_durable(s), durable);
}

/* A connection of the test's own to the stream. */
static void connect_to(struct klog_js *c, const char *url, const char *stream)
{
	char err[256];

	ck_assert_msg(!klog_js_connect(c, url, stream, 5000, 0, err, sizeof(err)), "%s", err);
}

/* The stream holds records 1..last and nothing else, byte for byte as append() made them. */
static void holds(struct klog_js *c, uint64_t last, uint64_t log_id)
{
	static uint8_t payload[KLOG_MAX_RECORD], want[KLOG_MAX_RECORD + 64];
	struct klog_js_state st;
	char err[256];

	ck_assert_msg(!klog_js_state(c, &st, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(st.last, last);
	ck_assert_uint_eq(st.msgs, last);
	ck_assert_uint_eq(st.log_id, log_id);
	for (uint64_t lsn = 1; lsn <= last; lsn++) {
		uint32_t len = logbuild_len(lsn);
		natsMsg *m;
		int n;

		ck_assert_msg(!klog_js_get(c, lsn, &m, err, sizeof(err)), "%s", err);
		jstest_fill(payload, lsn, len);
		n = (int)klog_rec_encode(want, lsn, lsn + 1000, 0, log_id, payload, len);
		ck_assert_int_eq(natsMsg_GetDataLength(m), n);
		ck_assert_msg(!memcmp(natsMsg_GetData(m), want, (size_t)n), "LSN %llu differs",
			      (unsigned long long)lsn);
		natsMsg_Destroy(m);
	}
}


/* Close the store, then the stream must hold 1..last of log_id, and no more. */
static void closed_holding(struct klogd_store *s, const char *url, const char *stream,
			   uint64_t last, uint64_t log_id)
{
	struct klog_js c;

	klogd_store_close(s);
	connect_to(&c, url, stream);
	holds(&c, last, log_id);
	klog_js_close(&c);
}
/* Create c's stream by hand with klogd's settings (jsopen.c), described as desc. */
static void klog_stream(struct klog_js *c, const char *desc, int64_t duplicates_ms)
{
	jsStreamConfig cfg;

	jsStreamConfig_Init(&cfg);
	cfg.Description = desc;
	cfg.Storage = js_FileStorage;
	cfg.Retention = js_LimitsPolicy;
	cfg.Discard = js_DiscardNew;
	cfg.Replicas = 1;
	cfg.DenyDelete = true;
	cfg.Duplicates = duplicates_ms * 1000000;
	ck_assert_int_eq(jstest_create_cfg(c, &cfg), 0);
}

static void klog_stream_of(struct klog_js *c, uint64_t log_id, int64_t duplicates_ms)
{
	char desc[64];

	klog_js_describe(desc, sizeof(desc), log_id);
	klog_stream(c, desc, duplicates_ms);
}

/* A store of o (opened or created) with records 1..n appended and durable. */
static struct klogd_store *log_of(struct klogd_js_opts *o, uint64_t n)
{
	struct klogd_store_info info;
	struct klogd_store *s = open_ok(o, &info);

	append(s, 1, n);
	all_durable(s);
	return s;
}

START_TEST(created)
{
	char stream[KLOG_JS_STREAM_MAX], other[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options(server.url, "created", stream);
	struct klogd_store_info info;
	struct klogd_store *s;
	struct klog_js c, d;

	o.log_id = LOG_ID;
	s = open_ok(&o, &info);
	ck_assert(info.created);
	ck_assert_uint_eq(info.next_lsn, 1);
	ck_assert_uint_eq(info.log_id, LOG_ID);
	/* In batches, as the drain does: each becomes durable before the next is appended. */
	for (uint64_t lsn = 1; lsn <= 200; lsn += 50) {
		append(s, lsn, lsn + 49);
		all_durable(s);
		ck_assert_uint_eq(klogd_store_durable(s), lsn + 50);
	}
	klogd_store_close(s);
	connect_to(&c, server.url, stream);
	holds(&c, 200, LOG_ID);
	/* Without a log id: a new one, not 0, in the description. */
	o = options(server.url, "created-new", other);
	open_close(&o, &info);
	ck_assert(info.created);
	ck_assert_uint_eq(info.next_lsn, 1);
	ck_assert_uint_ne(info.log_id, 0);
	connect_to(&d, server.url, other);
	holds(&d, 0, info.log_id);
	klog_js_close(&c);
	klog_js_close(&d);
}
END_TEST

START_TEST(reopened)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options(server.url, "reopened", stream);
	struct klogd_store_info info;
	struct klogd_store *s = log_of(&o, 10);
	struct klog_js c;
	uint64_t id;

	klogd_store_close(s);
	connect_to(&c, server.url, stream);
	s = open_ok(&o, &info);
	ck_assert(!info.created);
	ck_assert_uint_eq(info.next_lsn, 11);
	id = info.log_id;
	ck_assert_uint_ne(id, 0);
	append(s, 11, 20);
	all_durable(s);
	klogd_store_close(s);
	/* Pinned to that log, as klogd restarted on the same kernel log. */
	o.log_id = id;
	o.acked_lsn = 21;
	s = open_ok(&o, &info);
	ck_assert(!info.created);
	ck_assert_uint_eq(info.next_lsn, 21);
	ck_assert_uint_eq(info.log_id, id);
	append(s, 21, 30);
	all_durable(s);
	klogd_store_close(s);
	holds(&c, 30, id);
	klog_js_close(&c);
}
END_TEST

START_TEST(crashed)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options(server.url, "crashed", stream);
	struct klogd_store_info info;
	struct klogd_store *s;
	struct klog_js c;

	/* klogd's settings but a duplicate window of 100 ms, to be well past it. */
	connect_to(&c, server.url, stream);
	klog_stream_of(&c, LOG_ID, 100);
	o.log_id = LOG_ID;
	klogd_store_close(log_of(&o, 5));
	/* klogd published LSNs 6 and 7 and died before the kernel heard of their acknowledgement. */
	ck_assert_int_eq(jstest_publish(&c, 6, logbuild_len(6), LOG_ID, -1), 0);
	s = open_ok(&o, &info);
	ck_assert(!info.created);
	ck_assert_uint_eq(info.next_lsn, 7);
	/* 7 landed only after the next klogd opened the stream: its own 7 is refused, and adopted. */
	ck_assert_int_eq(jstest_publish(&c, 7, logbuild_len(7), LOG_ID, -1), 0);
	append(s, 7, 9);
	all_durable(s);
	klogd_store_close(s);
	holds(&c, 9, LOG_ID);
	usleep(300000);
	/* Published again with the header, as a resync does: refused, whatever the window. */
	ck_assert_int_ne(jstest_publish(&c, 9, logbuild_len(9), LOG_ID, -1), 0);
	ck_assert_int_ne(jstest_publish(&c, 6, logbuild_len(6), LOG_ID, -1), 0);
	holds(&c, 9, LOG_ID);
	klog_js_close(&c);
}
END_TEST

START_TEST(refused)
{
	char stream[KLOG_JS_STREAM_MAX], s2[KLOG_JS_STREAM_MAX], s3[KLOG_JS_STREAM_MAX],
		s4[KLOG_JS_STREAM_MAX], s5[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options(server.url, "refused", stream), p;
	struct klogd_store_info info;
	struct klog_js c, old, plain, foreign;
	char err[256];
	uint64_t id;

	klogd_store_close(log_of(&o, 5));
	connect_to(&c, server.url, stream);
	p = o;
	p.replicas = 3;
	open_fails(&p, -EINVAL, "replicas");
	p = o;
	open_close(&p, &info);
	id = info.log_id;
	p.log_id = id ^ OTHER_ID;
	open_fails(&p, -EXDEV, "is log");
	/* Every LSN below 6 is in the stream; one below 7 is not. */
	p = o;
	p.log_id = id;
	p.acked_lsn = 6;
	open_close(&p, &info);
	p.acked_lsn = 7;
	open_fails(&p, -ESTALE, "ends before LSN 6");
	/* Missing, with refuse_empty: refused, and not created. */
	p = options(server.url, "refused-missing", s2);
	p.refuse_empty = true;
	open_fails(&p, -ESTALE, s2);
	connect_to(&foreign, server.url, s2);
	ck_assert_int_eq(klog_js_state(&foreign, &(struct klog_js_state){ 0 }, err, sizeof(err)),
			 -ENOENT);
	klog_js_close(&foreign);
	/* Made with the server's defaults: discard old, deletes allowed. */
	p = options(server.url, "refused-old", s3);
	connect_to(&old, server.url, s3);
	ck_assert_int_eq(jstest_create_log(&old, LOG_ID), 0);
	open_fails(&p, -EINVAL, "discard old");
	open_fails(&p, -EINVAL, "deleted");
	/* klogd's settings, someone else's description. */
	p = options(server.url, "refused-plain", s4);
	connect_to(&plain, server.url, s4);
	klog_stream(&plain, "orders of the day", 0);
	open_fails(&p, -EPROTO, "not a klog log");
	/* A klog stream whose last message is sealed for another log. */
	p = options(server.url, "refused-salt", s5);
	connect_to(&foreign, server.url, s5);
	klog_stream_of(&foreign, LOG_ID, 0);
	ck_assert_int_eq(jstest_publish_range(&foreign, 1, 3, LOG_ID), 0);
	ck_assert_int_eq(jstest_publish(&foreign, 4, 20, OTHER_ID, -1), 0);
	open_fails(&p, -EPROTO, "sequence 4 is not LSN 4");
	klog_js_close(&c);
	klog_js_close(&old);
	klog_js_close(&plain);
	klog_js_close(&foreign);
}
END_TEST

START_TEST(unreachable)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options("nats://127.0.0.1:1", "unreachable", stream);
	struct klogd_store_info info;
	struct klogd_store *s = NULL;
	char err[512] = "";
	int ret = klogd_js_open(&s, &o, &info, err, sizeof(err));

	ck_assert_msg(ret < 0 && klogd_js_retryable(ret), "%d (%s)", ret, err);
	ck_assert_ptr_null(s);
	ck_assert_msg(*err, "no message");
}
END_TEST

START_TEST(restarted)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o;
	struct klogd_store_info info;
	struct klogd_store *s;

	own_server();
	o = options(own->url, "restarted", stream);
	s = log_of(&o, 10);
	jsserver_down(own);
	append(s, 11, 30);
	not_durable(s, 11, 3 * o.ack_wait_ms);
	/* Back without JetStream: what was held back is refused (no responders), so lost. */
	ck_assert_int_eq(jsserver_up(own, false), 0);
	not_durable(s, 11, 3 * o.ack_wait_ms);
	jsserver_down(own);
	ck_assert_int_eq(jsserver_up(own, true), 0);
	all_durable(s);
	ck_assert_uint_eq(klogd_store_next(s), 31);
	/* And it goes on. */
	append(s, 31, 40);
	all_durable(s);
	open_close(&o, &info); /* a second connection reads the log id */
	closed_holding(s, own->url, stream, 40, info.log_id);
}
END_TEST

/*
 * Records 1..5 durable, then a foreign message at sequence 6, then records
 * 6..last appended: the store fails for good, 6 never durable.
 */
static void foreign_at_6(const char *name, uint64_t last)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options(server.url, name, stream);
	struct klogd_store *s = log_of(&o, 5);
	struct klog_js c;
	int err;

	connect_to(&c, server.url, stream);
	ck_assert_int_eq(js_Publish(NULL, c.js, c.subject, "not a record", 12, NULL, NULL),
			 NATS_OK);
	append(s, 6, last);
	err = settle(s, WAIT_MS);
	ck_assert_msg(err < 0 && err != -EAGAIN, "commit_wait: %d, durable %llu", err,
		      (unsigned long long)klogd_store_durable(s));
	ck_assert_msg(strstr(klogd_store_error(s), "something else publishes"), "%s",
		      klogd_store_error(s));
	ck_assert_uint_eq(klogd_store_durable(s), 6);
	/* For good. */
	ck_assert_int_eq(klogd_store_commit_wait(s, true), err);
	ck_assert_uint_eq(klogd_store_durable(s), 6);
	klogd_store_close(s);
	klog_js_close(&c);
}

/* The stream's last message is the foreign one. */
START_TEST(foreign_last)
{
	foreign_at_6("foreign-last", 6);
}
END_TEST

/* Records after it were stored: they expected sequence 6, and the foreign message is it. */
START_TEST(foreign_gap)
{
	foreign_at_6("foreign-gap", 8);
}
END_TEST

START_TEST(full)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o;
	struct klogd_store *s;
	int err = 0;

	own_server();
	o = options(own->url, "full", stream);
	o.inflight = 8;
	/*
	 * Every publish times out before its acknowledgement can come (the
	 * resyncs find the records stored).
	 */
	o.ack_wait_ms = 1;
	o.log_id = LOG_ID;
	s = log_of(&o, 3);
	jsserver_down(own);
	append(s, 4, 11);
	ck_assert_ptr_null(klogd_store_reserve(s, 10, &err));
	ck_assert_int_eq(err, -EAGAIN);
	not_durable(s, 4, 500);
	ck_assert_ptr_null(klogd_store_reserve(s, 10, &err));
	ck_assert_int_eq(err, -EAGAIN);
	ck_assert_int_eq(jsserver_up(own, true), 0);
	all_durable(s);
	append(s, 12, 19);
	all_durable(s);
	closed_holding(s, own->url, stream, 19, LOG_ID);
}
END_TEST

/*
 * A foreign message past what the pinned log saw acknowledged, followed by
 * a record of the log (it expected the sequence before, whoever took it):
 * opening refuses it, not only when the last message is foreign.
 */
START_TEST(foreign_start)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o = options(server.url, "foreign_start", stream);
	struct klog_js c;

	o.log_id = LOG_ID;
	klogd_store_close(log_of(&o, 3));
	connect_to(&c, server.url, stream);
	ck_assert_int_eq(jstest_publish(&c, 4, 10, OTHER_ID, -1), 0);
	ck_assert_int_eq(jstest_publish(&c, 5, 10, LOG_ID, -1), 0);
	klog_js_close(&c);
	o.acked_lsn = 4;
	open_fails(&o, -EPROTO, "sequence 4 is not LSN 4");
}
END_TEST

/*
 * A pinned log whose stream cannot be reached when klogd starts: the store
 * is opened at once (klogd_js_open_later) from the LSN the kernel
 * acknowledged durable, stages nothing meanwhile, and once the server is
 * back goes on from where the stream ends (past that LSN: a klogd that
 * died between the acknowledgement and the truncation).
 */
START_TEST(later)
{
	char stream[KLOG_JS_STREAM_MAX];
	struct klogd_js_opts o;
	struct klogd_store *s;
	int err = 0;

	own_server();
	o = options(own->url, "later", stream);
	o.log_id = LOG_ID;
	klogd_store_close(log_of(&o, 5));
	jsserver_down(own);
	o.acked_lsn = 4;
	ck_assert_int_eq(klogd_js_open_later(&s, &o), 0);
	ck_assert_uint_eq(klogd_store_next(s), 4);
	ck_assert_ptr_null(klogd_store_reserve(s, 10, &err));
	ck_assert_int_eq(err, -EAGAIN);
	not_durable(s, 4, 500);
	ck_assert_int_eq(jsserver_up(own, true), 0);
	ck_assert_int_eq(settle(s, WAIT_MS), 0);
	ck_assert_uint_eq(klogd_store_next(s), 6);
	ck_assert_uint_eq(klogd_store_durable(s), 6);
	append(s, 6, 20);
	all_durable(s);
	closed_holding(s, own->url, stream, 20, LOG_ID);
}
END_TEST

int main(void)
{
	const TTest *cases[] = { created, reopened, crashed, refused, unreachable, restarted,
				 foreign_last, foreign_gap, foreign_start, full, later };
	Suite *s = suite_create("jsstore");
	TCase *tc = tcase_create("jsstore");
	int ret;

	own = mmap(NULL, sizeof(*own), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/* Shared by most cases: started here, so that it outlives each case's process. */
	ret = own == MAP_FAILED ? -errno : jsserver_start(&server);
	if (ret) {
		fprintf(stderr, "Bail out! nats-server does not start: %s\n", strerror(-ret));
		jsserver_stop(&server);
		return 99;
	}
	tcase_set_timeout(tc, 60);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tcase_add_test(tc, cases[i]);
	suite_add_tcase(s, tc);
	ret = run_suite(s);
	jsserver_stop(&server);
	forget_own();
	return ret;
}
