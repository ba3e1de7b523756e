// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: libklog's protocol v1 codec and the ABI's layout: encode and
 * decode round trip, every refusal, byte order on the wire, and names.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "check_run.h"
#include "format.h"

START_TEST(abi_layout)
{
	/* Offsets are part of the wire protocol (doc/protocol.md). */
	ck_assert_uint_eq(offsetof(struct klog_hdr, magic), 0);
	ck_assert_uint_eq(offsetof(struct klog_hdr, version), 4);
	ck_assert_uint_eq(offsetof(struct klog_hdr, opcode), 5);
	ck_assert_uint_eq(offsetof(struct klog_hdr, flags), 6);
	ck_assert_uint_eq(offsetof(struct klog_hdr, client_id), 8);
	ck_assert_uint_eq(offsetof(struct klog_hdr, status), 12);
	ck_assert_uint_eq(offsetof(struct klog_hdr, len), 14);
	ck_assert_uint_eq(offsetof(struct klog_hdr, request_id), 16);
	ck_assert_uint_eq(offsetof(struct klog_hdr, txid), 24);
	ck_assert_uint_eq(offsetof(struct klog_hdr, lsn), 32);
	ck_assert_uint_eq(KLOG_MAX_BLOCKS * KLOG_BLOCK_SIZE >= KLOG_MAX_RECORD, 1);
	ck_assert_uint_eq((KLOG_MAX_BLOCKS - 1) * KLOG_BLOCK_SIZE < KLOG_MAX_RECORD, 1);
}
END_TEST

START_TEST(encode_bytes)
{
	uint8_t buf[64], payload[3] = { 'a', 'b', 'c' };
	static const uint8_t want[] = {
		'K', 'L', 'O', 'G', 1, KLOG_OP_APPEND, 0, 8,  /* magic, version, op, flags: CRC */
		0x01, 0x02, 0x03, 0x04, 0, 0, 0, 3,           /* client id, status, len */
		0, 0, 0, 0, 0, 0, 0, 9,                       /* request id */
		0x10, 0, 0, 0, 0, 0, 0, 0x20,                 /* txid */
		0, 0, 0, 0, 0x36, 0x4b, 0x3f, 0xb7,           /* lsn: CRC-32C of "abc" */
		'a', 'b', 'c',
	};

	ck_assert_int_eq(klog_encode_append(buf, sizeof(buf), 0x01020304, 9,
					    0x1000000000000020ull, payload, 3),
			 (int)sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(round_trip)
{
	uint8_t buf[KLOG_MAX_RECORD + sizeof(struct klog_hdr)], payload[KLOG_MAX_RECORD];
	struct klog_msg m;
	int n;

	memset(payload, 0x5a, sizeof(payload));
	n = klog_encode_append(buf, sizeof(buf), 7, 8, 9, payload, KLOG_MAX_RECORD);
	ck_assert_int_eq(n, (int)sizeof(buf));
	ck_assert_int_eq(klog_decode(buf, n, &m), 0);
	ck_assert_uint_eq(m.opcode, KLOG_OP_APPEND);
	ck_assert_uint_eq(m.client_id, 7);
	ck_assert_uint_eq(m.request_id, 8);
	ck_assert_uint_eq(m.txid, 9);
	ck_assert_uint_eq(m.len, KLOG_MAX_RECORD);
	ck_assert_uint_eq(m.flags, KLOG_F_CRC);
	ck_assert_uint_eq(m.lsn, klog_crc32c_sw(0, payload, KLOG_MAX_RECORD));
	ck_assert_mem_eq(buf + sizeof(struct klog_hdr), payload, KLOG_MAX_RECORD);
}
END_TEST

START_TEST(encode_refuses)
{
	uint8_t buf[KLOG_MAX_RECORD + 64], payload[KLOG_MAX_RECORD + 1] = { 0 };

	ck_assert_int_eq(klog_encode_append(buf, sizeof(buf), 0, 0, 0, payload, 0), -EINVAL);
	ck_assert_int_eq(klog_encode_append(buf, sizeof(buf), 0, 0, 0, payload,
					    KLOG_MAX_RECORD + 1), -EINVAL);
	ck_assert_int_eq(klog_encode_append(buf, sizeof(struct klog_hdr), 0, 0, 0, payload, 1),
			 -ENOSPC);
}
END_TEST

START_TEST(decode_refuses)
{
	uint8_t buf[64];
	struct klog_msg m;

	ck_assert_int_eq(klog_encode_append(buf, sizeof(buf), 1, 2, 3, "x", 1), 41);
	ck_assert_int_eq(klog_decode(buf, sizeof(struct klog_hdr) - 1, &m), -EBADMSG);
	buf[4] = 2;
	ck_assert_int_eq(klog_decode(buf, 41, &m), -EPROTO);
	buf[4] = 1;
	buf[0] ^= 1;
	ck_assert_int_eq(klog_decode(buf, 41, &m), -EBADMSG);
}
END_TEST

START_TEST(decode_reply)
{
	struct klog_hdr h = {
		.magic = htobe32(KLOG_MAGIC), .version = 1, .opcode = KLOG_OP_NACK,
		.status = htobe16(KLOG_ST_FULL), .lsn = htobe64(0x0102030405060708ull),
	};
	struct klog_msg m;

	ck_assert_int_eq(klog_decode(&h, sizeof(h), &m), 0);
	ck_assert_uint_eq(m.opcode, KLOG_OP_NACK);
	ck_assert_uint_eq(m.status, KLOG_ST_FULL);
	ck_assert_uint_eq(m.lsn, 0x0102030405060708ull);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(klog_status_str(KLOG_ST_OK), "ok");
	ck_assert_str_eq(klog_status_str(KLOG_ST_FULL), "full");
	ck_assert_str_eq(klog_status_str(999), "unknown");
	for (unsigned int s = 0; s < KLOG_ST__MAX; s++)
		ck_assert_ptr_nonnull(klog_status_str(s));
	ck_assert_str_eq(klog_stat_name(KLOG_STAT_appends), "appends");
	ck_assert_str_eq(klog_stat_name(KLOG_STAT_nack_full_pool), "nack_full_pool");
	ck_assert_str_eq(klog_stat_name(KLOG_STAT__MAX - 1), "client_evictions");
	ck_assert_ptr_null(klog_stat_name(KLOG_STAT__MAX));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_add_test(tc, abi_layout);
	tcase_add_test(tc, encode_bytes);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, encode_refuses);
	tcase_add_test(tc, decode_refuses);
	tcase_add_test(tc, decode_reply);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
