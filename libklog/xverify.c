// SPDX-License-Identifier: GPL-2.0-only
/*
 * xverify.c - klog_verify_file(): an export file against its format
 * (xformat.h, doc/format.md "Export files").
 *
 * The same walk as the file reader's (xfile.c), but it goes on where the
 * reader stops, when asked to keep going: past a gap to the frame after
 * it, and past a damaged frame to the next whole one (its length cannot be
 * trusted, so every aligned offset after it is tried), which should carry
 * the next LSN.  A file that ends without a trailer is a problem: an export
 * is complete only with one.
 */
#include <errno.h>
#include <stdint.h>

#include <klog/klog.h>

#include "vrep.h"
#include "xfile.h"

/* Check every part of f after its header. RETURN VALUE: 0, or -errno of reading. */
static int walk(struct klog_xfile *f, struct klog_vrep *v)
{
	uint64_t off = KLOG_XHDR_SIZE, expect = f->h.first_lsn;
	struct klog_xstep s;
	int err;

	while (!v->stop) {
		if ((err = klog_xfile_step(f, off, expect, &s)))
			return err;
		if (s.kind == KLOG_XK_TRAILER)
			return 0;
		if (s.kind == KLOG_XK_END) {
			klog_vreport(v, -EPROTO, NULL, off, expect, "%s", s.why);
			return 0;
		}
		if (s.kind == KLOG_XK_FRAME || s.whole) {
			v->sum->records++;
			if (s.rec.lsn > v->sum->last_lsn)
				v->sum->last_lsn = s.rec.lsn;
		}
		if (s.kind == KLOG_XK_FRAME && (s.rec.flags & KLOG_REC_F_TOMBSTONE) &&
		    klog_vtombstone(v, NULL, off, s.rec.lsn))
			return 0;
		if (s.kind == KLOG_XK_BAD &&
		    (klog_vreport(v, s.err, NULL, s.off, expect, "%s", s.why) || s.final))
			return 0;
		if (s.kind == KLOG_XK_FRAME || s.whole) {
			off = s.next;
			expect = s.rec.lsn + 1;
		} else if (klog_xfile_resync(f, off, &off)) {
			return 0; /* nothing whole after the damage: it was reported */
		} else {
			expect++; /* the damaged frame was that LSN's */
		}
	}
	return 0;
}

int klog_verify_file(const char *path, unsigned int flags, klog_verify_fn fn, void *ctx,
		     struct klog_verify_summary *sum)
{
	struct klog_verify_summary dummy;
	struct klog_vrep v = { .flags = flags, .fn = fn, .ctx = ctx, .sum = sum ? sum : &dummy };
	struct klog_xfile f;
	int err;

	*v.sum = (struct klog_verify_summary){ 0 };
	if ((err = klog_xfile_open(&f, path)))
		return err;
	if (f.hdr_err) {
		klog_vreport(&v, f.hdr_err, NULL, 0, UINT64_MAX, "%s", f.hdr_why);
	} else {
		v.sum->log_id = f.h.log_id;
		v.sum->first_lsn = f.h.first_lsn;
		v.sum->last_lsn = f.h.first_lsn - 1;
		err = walk(&f, &v);
	}
	klog_xfile_close(&f);
	return err ? err : v.ret;
}
