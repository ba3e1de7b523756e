// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the access maps from userspace (libklog/access.c) on a
 * loaded object: klog_kern_local_set and klog_kern_allow_set make the maps
 * hold exactly the list given, the listings come back sorted, del says
 * -ENOENT for what is not there, klog_kern_allowed follows the longest
 * prefix (IPv4 held mapped: 0.0.0.0/0 is not ::/0), and the maps opened
 * through their pins (klog_kern_access_open, as klogctl does) are the same.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "check_run.h"
#include "harness.h"
#include "parse.h"

static struct klog_addr addr(const char *s)
{
	struct klog_addr a;
	bool v4;

	ck_assert_msg(klog_parse_addr(s, &a, &v4) == 0, "%s", s);
	return a;
}

static struct klog_allow_key cidr(const char *s)
{
	struct klog_allow_key k;

	ck_assert_msg(klog_parse_cidr(s, &k) == 0, "%s", s);
	return k;
}

/* The allow-list as text, "a b c". */
static const char *allow_text(const struct klog_kern *k)
{
	static char out[512];
	struct klog_allow_key keys[16];
	char one[KLOG_CIDR_STRLEN];
	int n = klog_kern_allow_list(k, keys, 16);
	size_t used = 0;

	ck_assert_int_ge(n, 0);
	out[0] = 0;
	for (int i = 0; i < n && i < 16; i++)
		used += snprintf(out + used, sizeof(out) - used, "%s%s", i ? " " : "",
				 klog_format_cidr(&keys[i], one, sizeof(one)));
	return out;
}

static const char *local_text(const struct klog_kern *k)
{
	static char out[512];
	struct klog_addr a[16];
	char one[KLOG_CIDR_STRLEN];
	int n = klog_kern_local_list(k, a, 16);
	size_t used = 0;

	ck_assert_int_ge(n, 0);
	out[0] = 0;
	for (int i = 0; i < n && i < 16; i++)
		used += snprintf(out + used, sizeof(out) - used, "%s%s", i ? " " : "",
				 klog_format_addr(&a[i], one, sizeof(one)));
	return out;
}

static bool allowed(const struct klog_kern *k, const char *s)
{
	struct klog_addr a = addr(s);

	return klog_kern_allowed(k, &a);
}

START_TEST(local_set_list_del)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct klog_addr three[3] = { addr("fd00::1"), addr("10.0.0.2"), addr("10.0.0.1") };
	struct klog_addr a;
	struct fixture f;

	fixture_load(&f, &o, true);
	ck_assert_int_eq(klog_kern_local_set(&f.k, three, 3), 0);
	ck_assert_str_eq(local_text(&f.k), "10.0.0.1 10.0.0.2 fd00::1"); /* replaced, sorted */
	ck_assert(klog_kern_is_local(&f.k, &three[1]));
	ck_assert_int_eq(klog_kern_local_set(&f.k, &three[0], 1), 0);
	ck_assert_str_eq(local_text(&f.k), "fd00::1");
	ck_assert(!klog_kern_is_local(&f.k, &three[1]));
	a = addr("10.0.0.9");
	ck_assert_int_eq(klog_kern_local_del(&f.k, &a), -ENOENT);
	ck_assert_int_eq(klog_kern_local_add(&f.k, &a), 0);
	ck_assert_int_eq(klog_kern_local_list(&f.k, &a, 1), 2); /* the count, past cap */
	ck_assert_int_eq(klog_kern_local_set(&f.k, NULL, 0), 0);
	ck_assert_str_eq(local_text(&f.k), "");
	fixture_destroy(&f);
}
END_TEST

START_TEST(allow_prefixes)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct klog_allow_key two[2] = { cidr("fd00::/8"), cidr("10.0.0.0/8") }, k;
	struct fixture f;

	fixture_load(&f, &o, true);
	ck_assert_str_eq(allow_text(&f.k), "::/0"); /* the harness allows every source */
	ck_assert_int_eq(klog_kern_allow_set(&f.k, two, 2), 0);
	ck_assert_str_eq(allow_text(&f.k), "10.0.0.0/8 fd00::/8");
	ck_assert(allowed(&f.k, "10.1.2.3"));
	ck_assert(!allowed(&f.k, "11.0.0.1"));
	ck_assert(allowed(&f.k, "fd12::5"));
	ck_assert(!allowed(&f.k, "fe80::1"));
	k = cidr("10.0.0.0/8");
	ck_assert_int_eq(klog_kern_allow_del(&f.k, &k), 0);
	ck_assert_int_eq(klog_kern_allow_del(&f.k, &k), -ENOENT);
	ck_assert(!allowed(&f.k, "10.1.2.3"));
	/* A longer prefix inside a shorter one; each del leaves the other. */
	k = cidr("0.0.0.0/0");
	ck_assert_int_eq(klog_kern_allow_add(&f.k, &k), 0);
	ck_assert(allowed(&f.k, "192.0.2.1"));
	ck_assert(!allowed(&f.k, "2001:db8::1")); /* every IPv4 source, no IPv6 one */
	k.prefixlen = 129;
	ck_assert_int_eq(klog_kern_allow_add(&f.k, &k), -EINVAL);
	ck_assert_int_eq(klog_kern_allow_set(&f.k, &k, 1), -EINVAL);
	ck_assert_str_eq(allow_text(&f.k), "0.0.0.0/0 fd00::/8"); /* untouched by the refusal */
	fixture_destroy(&f);
}
END_TEST

START_TEST(through_pins)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct klog_allow_key k = cidr("192.0.2.0/24");
	char dir[128], path[192];
	struct klog_kern pinned;
	struct fixture f;

	snprintf(dir, sizeof(dir), KLOG_PIN_ROOT "/klogt-accessmaps-%d", getpid());
	fixture_load(&f, &o, true);
	ck_assert_int_eq(klog_kern_access_open(&pinned, dir + strlen(KLOG_PIN_ROOT) + 1),
			 -ENOENT);
	mkdir(KLOG_PIN_ROOT, 0700);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/klog_local", dir);
	ck_assert_int_eq(bpf_obj_pin(f.k.local_fd, path), 0);
	snprintf(path, sizeof(path), "%s/klog_allow", dir);
	ck_assert_int_eq(bpf_obj_pin(f.k.allow_fd, path), 0);

	ck_assert_int_eq(klog_kern_access_open(&pinned, dir + strlen(KLOG_PIN_ROOT) + 1), 0);
	ck_assert_int_eq(klog_kern_allow_add(&pinned, &k), 0);
	ck_assert(allowed(&f.k, "192.0.2.77")); /* the loader's view sees it */
	ck_assert_str_eq(local_text(&pinned), local_text(&f.k));
	klog_kern_access_close(&pinned);

	unlink(path);
	snprintf(path, sizeof(path), "%s/klog_local", dir);
	unlink(path);
	rmdir(dir);
	fixture_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("accessmaps");
	TCase *tc = tcase_create("accessmaps");

	tcase_add_test(tc, local_set_list_del);
	tcase_add_test(tc, allow_prefixes);
	tcase_add_test(tc, through_pins);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
