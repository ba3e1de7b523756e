// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: command-line numbers (klog_parse_u64): decimal only, suffixes,
 * refusals; addresses and prefixes (klog_parse_addr, klog_parse_cidr) and
 * their text (klog_format_*).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_run.h"
#include "parse.h"

START_TEST(numbers)
{
	uint64_t v;

	ck_assert_int_eq(klog_parse_u64("0", &v, false), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(klog_parse_u64("7070", &v, false), 0);
	ck_assert_uint_eq(v, 7070);
	ck_assert_int_eq(klog_parse_u64("18446744073709551615", &v, false), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

/*
 * Leading zeros are decimal: segment files are named by their zero-padded
 * first LSN, and `klogctl dump --from 00000000000000005264` read as octal
 * (base 0) started at LSN 2740.  No other base is taken.
 */
START_TEST(decimal_only)
{
	static const char *const bad[] = { "0x10", "0X10", "0b1", "0o7", "+1", " 1", "1 ", "\t1",
					   "1_000", "1.0", "1e3", "0x", "٣" };
	uint64_t v;

	ck_assert_int_eq(klog_parse_u64("00000000000000005264", &v, false), 0);
	ck_assert_uint_eq(v, 5264);
	ck_assert_int_eq(klog_parse_u64("010", &v, false), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(klog_parse_u64("08", &v, false), 0); /* not a bad octal digit */
	ck_assert_uint_eq(v, 8);
	ck_assert_int_eq(klog_parse_u64("010k", &v, true), 0);
	ck_assert_uint_eq(v, 10240);
	ck_assert_int_eq(klog_parse_u64("0000000000000000000000018446744073709551615", &v, false),
			 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	v = 42;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(klog_parse_u64(bad[i], &v, true) == -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_uint_eq(v, 42);
}
END_TEST

/* Ports are 1..65535, decimal. */
START_TEST(ports)
{
	static const char *const bad[] = { "0", "65536", "70000", "-1", "0x1f90", "", "http",
					   "99999999999999999999999" };
	uint16_t p = 42;

	ck_assert_int_eq(klog_parse_port("1", &p), 0);
	ck_assert_uint_eq(p, 1);
	ck_assert_int_eq(klog_parse_port("65535", &p), 0);
	ck_assert_uint_eq(p, 65535);
	ck_assert_int_eq(klog_parse_port("07070", &p), 0);
	ck_assert_uint_eq(p, 7070);
	p = 42;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(klog_parse_port(bad[i], &p) == -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_uint_eq(p, 42);
}
END_TEST

START_TEST(suffixes)
{
	uint64_t v;

	ck_assert_int_eq(klog_parse_u64("4k", &v, true), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(klog_parse_u64("64M", &v, true), 0);
	ck_assert_uint_eq(v, 64ull << 20);
	ck_assert_int_eq(klog_parse_u64("2G", &v, true), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	/* Without suffixes allowed, a suffix is trailing garbage. */
	ck_assert_int_eq(klog_parse_u64("4k", &v, false), -EINVAL);
}
END_TEST

START_TEST(refusals)
{
	static const char *const bad[] = { "", "-1", "+-1", "12x", "x12", "1kk", "1T", " ",
					   "18446744073709551616", "17179869184G" };
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(klog_parse_u64(bad[i], &v, true) == -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_uint_eq(v, 42); /* untouched */
}
END_TEST

/* s parses to a prefix that prints as want (NULL: as s). */
static void cidr_round_trip(const char *s, unsigned int prefixlen, const char *want)
{
	char buf[KLOG_CIDR_STRLEN];
	struct klog_allow_key k;

	ck_assert_msg(klog_parse_cidr(s, &k) == 0, "'%s' refused", s);
	ck_assert_msg(k.prefixlen == prefixlen, "'%s': prefixlen %u, want %u", s, k.prefixlen,
		      prefixlen);
	ck_assert_str_eq(klog_format_cidr(&k, buf, sizeof(buf)), want ? want : s);
}

START_TEST(cidrs)
{
	static const uint8_t ten[16] = { [10] = 0xff, [11] = 0xff, [12] = 10 };
	struct klog_allow_key k;

	cidr_round_trip("10.0.0.0/8", 96 + 8, NULL);
	ck_assert_int_eq(klog_parse_cidr("10.0.0.0/8", &k), 0);
	ck_assert_mem_eq(k.addr.a, ten, 16); /* mapped: ::ffff:10.0.0.0 */
	cidr_round_trip("2001:db8::/32", 32, NULL);
	cidr_round_trip("192.0.2.7", 128, "192.0.2.7/32");
	cidr_round_trip("fd00::1", 128, "fd00::1/128");
	cidr_round_trip("0.0.0.0/0", 96, NULL);
	cidr_round_trip("::/0", 0, NULL);
	cidr_round_trip("192.0.2.7/32", 128, NULL);
	cidr_round_trip("fd00::1/128", 128, NULL);
	/* The mapped form is the same prefix as the IPv4 one. */
	cidr_round_trip("::ffff:10.0.0.0/104", 104, "10.0.0.0/8");
}
END_TEST

START_TEST(cidr_refusals)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0/8",
		"10.0.0.256", "010.0.0.0/8", "10.0.0.0/0x8", "10.0.0.0/0008", "[fd00::1]",
		"fd00::1%eth0", "fd00:::1", "host.example", "10.0.0.0/8x",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	};
	struct klog_allow_key k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(klog_parse_cidr(bad[i], &k) == -EINVAL, "'%s' accepted", bad[i]);
	/* Host bits beyond the prefix: refused with their own error, not masked. */
	ck_assert_int_eq(klog_parse_cidr("10.1.2.3/8", &k), -EDOM);
	ck_assert_int_eq(klog_parse_cidr("2001:db8::1/32", &k), -EDOM);
	ck_assert_int_eq(klog_parse_cidr("::1/0", &k), -EDOM);
	ck_assert_int_eq(klog_parse_cidr("0.0.0.1/0", &k), -EDOM);
}
END_TEST

START_TEST(addrs)
{
	char buf[KLOG_CIDR_STRLEN];
	struct klog_addr a;
	bool v4;

	ck_assert_int_eq(klog_parse_addr("10.0.0.1", &a, &v4), 0);
	ck_assert(v4);
	ck_assert_str_eq(klog_format_addr(&a, buf, sizeof(buf)), "10.0.0.1");
	ck_assert_int_eq(klog_parse_addr("fd00::1", &a, &v4), 0);
	ck_assert(!v4);
	ck_assert_str_eq(klog_format_addr(&a, buf, sizeof(buf)), "fd00::1");
	/* Written mapped, it is the IPv4 address: the maps cannot tell them apart. */
	ck_assert_int_eq(klog_parse_addr("::ffff:10.0.0.1", &a, &v4), 0);
	ck_assert_str_eq(klog_format_addr(&a, buf, sizeof(buf)), "10.0.0.1");
	ck_assert_int_eq(klog_parse_addr("10.0.0.0/8", &a, &v4), -EINVAL);
	ck_assert_int_eq(klog_parse_addr("", &a, &v4), -EINVAL);
	ck_assert_int_eq(klog_parse_addr("[fd00::1]", &a, &v4), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, numbers);
	tcase_add_test(tc, decimal_only);
	tcase_add_test(tc, ports);
	tcase_add_test(tc, suffixes);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, cidrs);
	tcase_add_test(tc, cidr_refusals);
	tcase_add_test(tc, addrs);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
