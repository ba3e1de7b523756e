// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the smallest pool klog accepts (KLOG_MIN_POOL_BLOCKS, one
 * record of the largest size) holds any record, wraps at every offset and
 * never hands out a block still in use: largest and odd-sized records go
 * through it, each read back byte-exact before it is truncated; a record
 * that does not fit is refused (FULL), never written over another.  A pool
 * one block smaller is refused by klog_kern_configure.  The settings the
 * log was made with are in klog_ctl.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "check_run.h"
#include "harness.h"

#define POOL_RECORDS 400
#define N_POOLS 2

static const size_t sizes[] = {
	KLOG_MAX_RECORD, 1, KLOG_MAX_RECORD, KLOG_BLOCK_SIZE + 1, KLOG_MAX_RECORD - 1,
	KLOG_BLOCK_SIZE, KLOG_MAX_RECORD, 3 * KLOG_BLOCK_SIZE - 1,
};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static size_t size_of(uint64_t i)
{
	size_t len = sizes[i % N_SIZES];

	return len < 1 ? 1 : len > KLOG_MAX_RECORD ? KLOG_MAX_RECORD : len;
}

static void check_record(struct fixture *f, uint64_t lsn, uint64_t i)
{
	static uint8_t got[KLOG_MAX_RECORD], want[KLOG_MAX_RECORD];
	int n = klog_kern_read(&f->k, lsn, NULL, got, sizeof(got));

	ck_assert_msg(n == (int)size_of(i), "lsn %llu: read %d, appended %zu",
		      (unsigned long long)lsn, n, size_of(i));
	fill_payload(want, n, i);
	ck_assert_msg(!memcmp(got, want, n), "lsn %llu reads back other bytes than were acked",
		      (unsigned long long)lsn);
}

/* smallest: _i = hook * N_POOLS + pool kind */
START_TEST(smallest)
{
	enum hook h = _i / N_POOLS;
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	static uint8_t payload[KLOG_MAX_RECORD];
	uint64_t drained = KLOG_FIRST_LSN, used, full = 0;
	struct frame req;
	struct fixture f;

	o.pool = _i % N_POOLS;
	o.window = 16;
	o.clients = 8;
	o.pool_blocks = KLOG_MIN_POOL_BLOCKS;
	fixture_load(&f, &o, true);
	ck_assert_uint_eq(f.k.ctl->pool_blocks, KLOG_MIN_POOL_BLOCKS);
	ck_assert_uint_eq(f.k.ctl->pool_kind, o.pool);
	ck_assert_uint_eq(f.k.ctl->window, 16);
	ck_assert_uint_eq(f.k.ctl->clients, 8);
	ck_assert_uint_eq(f.k.ctl->block_size, KLOG_BLOCK_SIZE);
	ck_assert_uint_eq(f.k.ctl->max_record, KLOG_MAX_RECORD);
	for (uint64_t i = 0; i < POOL_RECORDS; i++) {
		size_t len = size_of(i);
		uint64_t lsn = KLOG_FIRST_LSN + i;

		fill_payload(payload, len, i);
		frame_default(&req, IP4, payload, len);
		req.hdr.request_id = htobe64(i + 1);
		req.hdr.txid = htobe64(i);
		ck_assert_int_eq(klog_kern_pool_used(&f.k, &used), 0);
		if (used + KLOG_DIV_ROUND_UP(len, KLOG_BLOCK_SIZE) > KLOG_MIN_POOL_BLOCKS) {
			/* Refused whole, then appended once the records before are drained. */
			expect_reply(&f, h, &req, KLOG_OP_NACK, 0, KLOG_ST_FULL, 0);
			for (; drained < lsn; drained++)
				check_record(&f, drained, drained - KLOG_FIRST_LSN);
			ck_assert_int_eq(klog_kern_truncate(&f.k, lsn), 0);
			req.hdr.request_id = htobe64(i + 1);
			full++;
		}
		expect_reply(&f, h, &req, KLOG_OP_ACK, 0, KLOG_ST_OK, lsn);
	}
	for (; drained < KLOG_FIRST_LSN + POOL_RECORDS; drained++)
		check_record(&f, drained, drained - KLOG_FIRST_LSN);
	/* Every largest record filled the pool: the ring wrapped at many offsets. */
	ck_assert_uint_ge(full, POOL_RECORDS / N_SIZES * 3);
	fixture_destroy(&f);
}
END_TEST

/* too_small: _i = pool kind.  One block short of a largest record: refused before load. */
START_TEST(too_small)
{
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	struct klog *skel = klog__open();

	ck_assert_ptr_nonnull(skel);
	o.pool = _i;
	o.pool_blocks = KLOG_MIN_POOL_BLOCKS - 1;
	ck_assert_int_eq(klog_kern_configure(skel->obj, &o), KLOG_MIN_POOL_BLOCKS > 1 ? -ERANGE
											: -EINVAL);
	o.pool_blocks = KLOG_MIN_POOL_BLOCKS;
	ck_assert_int_eq(klog_kern_configure(skel->obj, &o), 0);
	klog__destroy(skel);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, smallest, 0, 2 * N_POOLS);
	tcase_add_loop_test(tc, too_small, 0, N_POOLS);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
