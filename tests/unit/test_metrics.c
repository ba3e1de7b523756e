// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: klogd's Prometheus text (klogd_metrics_format): families,
 * labels by reason, the commit histogram's cumulative buckets; --metrics
 * addresses (klogd_metrics_addr); the state file written and read back
 * (klog_state_write, klog_state_read).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "metrics.h"

/* The text of v, malloc'd. */
static char *format(const struct klogd_metrics_view *v)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(klogd_metrics_format(f, v), 0);
	fclose(f);
	return buf;
}

/* line is one whole line of text. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define ck_line(text, line) ck_assert_msg(has_line(text, line), "no line \"%s\" in:\n%s", line, text)

START_TEST(families)
{
	struct klog_status_kern k = { .next_lsn = 101, .durable_lsn = 90, .truncated_lsn = 90,
				      .lag_records = 11, .lag_bytes = 1408, .window_fill = 0.25 };
	struct klog_daemon_state d = { .commits = 7, .records = 89, .started = 1.5e9 };
	struct klogd_metrics_view v = { .kern = &k, .daemon = &d, .dir = true, .segments = 3,
					.segment_bytes = 4096 };
	char *t;

	strcpy(d.health, "nospace");
	k.stats.appends = 100;
	k.stats.bytes = 5000;
	k.stats.nack_full_window = 2;
	k.stats.drop_csum = 3;
	t = format(&v);
	ck_line(t, "# TYPE klog_appends_total counter");
	ck_line(t, "klog_appends_total 100");
	ck_line(t, "klog_appended_bytes_total 5000");
	ck_line(t, "klog_nacks_total{reason=\"full_window\"} 2");
	ck_line(t, "klog_nacks_total{reason=\"busy\"} 0");
	ck_line(t, "klog_drops_total{reason=\"csum\"} 3");
	ck_line(t, "klog_next_lsn 101");
	ck_line(t, "klog_drain_lag_records 11");
	ck_line(t, "klog_drain_lag_bytes 1408");
	ck_line(t, "klog_window_fill_ratio 0.25");
	ck_line(t, "klog_commits_total 7");
	ck_line(t, "klog_drained_records_total 89");
	ck_line(t, "klog_health{state=\"nospace\"} 1");
	ck_line(t, "klog_health{state=\"ok\"} 0");
	ck_line(t, "klog_segments 3");
	ck_line(t, "klog_segment_bytes 4096");
	/* A nack or drop counter is only ever a label of its family. */
	ck_assert_ptr_null(strstr(t, "klog_nack_"));
	ck_assert_ptr_null(strstr(t, "klog_drop_"));
	free(t);

	/* Without the maps and the directory: those families are left out, not zero. */
	v.kern = NULL;
	v.dir = false;
	t = format(&v);
	ck_assert_ptr_null(strstr(t, "klog_next_lsn"));
	ck_assert_ptr_null(strstr(t, "klog_segments"));
	ck_line(t, "klog_up 1");
	free(t);
}
END_TEST

START_TEST(histogram)
{
	struct klog_daemon_state d = { .health = "ok" };
	struct klogd_metrics_view v = { .daemon = &d };
	char *t;

	klogd_hist_observe(&v.commit, 50000);      /* 50 us: the first bucket */
	klogd_hist_observe(&v.commit, 300000);     /* 300 us: le 0.0005 */
	klogd_hist_observe(&v.commit, 2000000000); /* 2 s: +Inf only */
	t = format(&v);
	ck_line(t, "# TYPE klog_commit_seconds histogram");
	ck_line(t, "klog_commit_seconds_bucket{le=\"0.0001\"} 1");
	ck_line(t, "klog_commit_seconds_bucket{le=\"0.00025\"} 1");
	ck_line(t, "klog_commit_seconds_bucket{le=\"0.0005\"} 2");
	ck_line(t, "klog_commit_seconds_bucket{le=\"1\"} 2");
	ck_line(t, "klog_commit_seconds_bucket{le=\"+Inf\"} 3");
	ck_line(t, "klog_commit_seconds_count 3");
	ck_line(t, "klog_commit_seconds_sum 2.000350000");
	free(t);

	/* Read while the drain counts: a bucket ahead of count never passes +Inf. */
	v.commit.count = 1;
	t = format(&v);
	ck_line(t, "klog_commit_seconds_bucket{le=\"0.0005\"} 1");
	ck_line(t, "klog_commit_seconds_bucket{le=\"+Inf\"} 1");
	free(t);
}
END_TEST

START_TEST(addresses)
{
	struct sockaddr_storage sa;
	socklen_t len;

	ck_assert_int_eq(klogd_metrics_addr("127.0.0.1:9100", &sa, &len), 0);
	ck_assert_int_eq(sa.ss_family, AF_INET);
	ck_assert_int_eq(klogd_metrics_addr("[::1]:9100", &sa, &len), 0);
	ck_assert_int_eq(sa.ss_family, AF_INET6);
	ck_assert_int_eq(klogd_metrics_addr("0.0.0.0:65535", &sa, &len), 0);
	ck_assert_int_eq(klogd_metrics_addr("127.0.0.1:0", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("127.0.0.1:65536", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("127.0.0.1", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("localhost:9100", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("::1:9100", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("[::1]9100", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("[]:9100", &sa, &len), -EINVAL);
	ck_assert_int_eq(klogd_metrics_addr("127.0.0.1:-1", &sa, &len), -EINVAL);
}
END_TEST

START_TEST(state_file)
{
	struct klog_daemon_state w = { .pid = 4242, .started = 1700000000.125, .durable_lsn = 77,
				       .records = 76, .retain_bytes = 1ull << 30, .retain_age_s = 86400,
				       .stats_interval_s = 60 }, r;
	char path[] = "/tmp/klog-test-state-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	strcpy(w.backend, "uring");
	strcpy(w.dir, "/var/log/klog");
	strcpy(w.health, "nospace");
	strcpy(w.why, "the disk is full: writing LSN 77");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(klog_state_write(f, &w), 0);
	fclose(f);
	ck_assert_int_eq(klog_state_read(path, &r), 0);
	ck_assert_uint_eq(r.pid, 4242);
	ck_assert_double_eq_tol(r.started, 1700000000.125, 0.0005);
	ck_assert_uint_eq(r.durable_lsn, 77);
	ck_assert_uint_eq(r.records, 76);
	ck_assert_uint_eq(r.retain_bytes, 1ull << 30);
	ck_assert_uint_eq(r.retain_age_s, 86400);
	ck_assert_uint_eq(r.stats_interval_s, 60);
	ck_assert_str_eq(r.backend, "uring");
	ck_assert_str_eq(r.dir, "/var/log/klog");
	ck_assert_str_eq(r.health, "nospace");
	ck_assert_str_eq(r.why, "the disk is full: writing LSN 77");
	/* Without a pid it is not klogd's. */
	f = fopen(path, "w");
	fputs("health=ok\n", f);
	fclose(f);
	ck_assert_int_eq(klog_state_read(path, &r), -EBADMSG);
	unlink(path);
	ck_assert_int_eq(klog_state_read(path, &r), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, families);
	tcase_add_test(tc, histogram);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, state_file);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
