// SPDX-License-Identifier: GPL-2.0-only
/*
 * xfile.c - an export file, part by part (xfile.h).
 *
 * Each step looks at the file's size again, so a file still being written
 * (klogctl export or tail --raw into it) reads as far as it has gone; a
 * part cut short at the end is damage only to whoever decides the file
 * should be whole by now.  Every frame is read whole into the buffer and
 * checked there, so what a caller gets is what was checked.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klog/klog.h>

#include "xfile.h"

/* Up to n bytes at off; RETURN VALUE: the bytes read (fewer at the end of the file), -errno. */
static ssize_t read_at(const struct klog_xfile *f, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(f->fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int klog_xfile_open(struct klog_xfile *f, const char *path)
{
	uint8_t hdr[KLOG_XHDR_SIZE];
	struct stat st;
	ssize_t n = 0;
	int err = 0;

	*f = (struct klog_xfile){ .fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) };
	if (f->fd < 0)
		return -errno;
	if (fstat(f->fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (!(f->buf = malloc(klog_xframe_size(KLOG_MAX_RECORD))))
		err = -ENOMEM;
	else if ((n = read_at(f, hdr, sizeof(hdr), 0)) < 0)
		err = (int)n;
	if (err) {
		klog_xfile_close(f);
		return err;
	}
	f->hdr_err = klog_xhdr_decode(hdr, (size_t)n, &f->h, f->hdr_why, sizeof(f->hdr_why));
	return 0;
}

void klog_xfile_close(struct klog_xfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	f->fd = -1;
	f->buf = NULL;
}

static void bad(struct klog_xstep *s, int err, bool final, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* s a problem; final: nothing after it can be read in sequence. */
static void bad(struct klog_xstep *s, int err, bool final, const char *fmt, ...)
{
	va_list ap;

	s->kind = KLOG_XK_BAD;
	s->err = err;
	s->final = final;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* The header's range in words, for messages about the end of the file. */
static const char *range_of(const struct klog_xfile *f, char *out, size_t n)
{
	if (f->h.last_lsn)
		snprintf(out, n, " (its header names LSNs %" PRIu64 "..%" PRIu64 ")",
			 f->h.first_lsn, f->h.last_lsn);
	else
		snprintf(out, n, " (open-ended, from LSN %" PRIu64 ")", f->h.first_lsn);
	return out;
}

/* The trailer whose first n bytes are head, avail bytes before the end of the file. */
static void trailer(struct klog_xfile *f, struct klog_xstep *s, const uint8_t *head, size_t n,
		    uint64_t avail, uint64_t expect)
{
	struct klog_xend t;
	char why[sizeof(s->why) - 32], range[64];

	if (n < KLOG_XEND_SIZE)
		bad(s, -EBADMSG, true, "trailer cut short: %zu of %d bytes", n, KLOG_XEND_SIZE);
	else if (klog_xend_decode(head, &t, why, sizeof(why)))
		bad(s, -EBADMSG, true, "%s", why);
	else if (t.hdr_crc != f->h.crc)
		bad(s, -EBADMSG, true, "trailer of another header: CRC 0x%08" PRIx32
		    " expected 0x%08" PRIx32, t.hdr_crc, f->h.crc);
	else if (t.count != expect - f->h.first_lsn || t.last_lsn != expect - 1)
		bad(s, -EBADMSG, true, "trailer: %" PRIu64 " records up to LSN %" PRIu64
		    ", the file holds %" PRIu64 " up to LSN %" PRIu64, t.count, t.last_lsn,
		    expect - f->h.first_lsn, expect - 1);
	else if (f->h.last_lsn && t.last_lsn != f->h.last_lsn)
		bad(s, -EBADMSG, true, "trailer after LSN %" PRIu64 "%s", t.last_lsn,
		    range_of(f, range, sizeof(range)));
	else if (avail > KLOG_XEND_SIZE) {
		s->off += KLOG_XEND_SIZE;
		bad(s, -EBADMSG, true, "%" PRIu64 " bytes after the trailer",
		    avail - KLOG_XEND_SIZE);
	} else {
		s->kind = KLOG_XK_TRAILER;
		s->next = s->off + KLOG_XEND_SIZE;
	}
}

/* The frame whose first n bytes are head, avail bytes before the end of the file. */
static int frame(struct klog_xfile *f, struct klog_xstep *s, const uint8_t *head, size_t n,
		 uint64_t avail, uint64_t expect)
{
	char why[sizeof(s->why)];
	int64_t len;
	size_t size;
	ssize_t got;

	if (n < KLOG_XFRAME_HDR_SIZE) {
		bad(s, -EBADMSG, true, "frame cut short: %zu of %d header bytes, then the end "
		    "of the file", n, KLOG_XFRAME_HDR_SIZE);
		return 0;
	}
	if ((len = klog_xframe_len(head, KLOG_MAX_RECORD, why, sizeof(why))) < 0) {
		bad(s, -EBADMSG, false, "%s", why);
		return 0;
	}
	size = klog_xframe_size((uint32_t)len);
	if (size > avail) {
		bad(s, -EBADMSG, true, "frame cut short: %zu bytes, the file ends after %" PRIu64,
		    size, avail);
		return 0;
	}
	if ((got = read_at(f, f->buf, size, s->off)) < 0)
		return (int)got;
	if (klog_xframe_decode(f->buf, (size_t)got, KLOG_MAX_RECORD, &s->rec, why, sizeof(why))) {
		bad(s, -EBADMSG, false, "%s", why);
		return 0;
	}
	s->next = s->off + size;
	if (f->h.last_lsn && s->rec.lsn > f->h.last_lsn)
		bad(s, -EBADMSG, true, "frame of LSN %" PRIu64 " past the header's last, %" PRIu64,
		    s->rec.lsn, f->h.last_lsn);
	else if (s->rec.lsn > expect)
		bad(s, -ENOLINK, false, "gap: no frame for LSNs %" PRIu64 "..%" PRIu64
		    " (the next carries LSN %" PRIu64 ")", expect, s->rec.lsn - 1, s->rec.lsn);
	else if (s->rec.lsn < expect)
		bad(s, -EBADMSG, false, "frame of LSN %" PRIu64 " out of order", s->rec.lsn);
	else
		s->kind = KLOG_XK_FRAME;
	s->whole = true;
	return 0;
}

int klog_xfile_step(struct klog_xfile *f, uint64_t off, uint64_t expect, struct klog_xstep *s)
{
	uint8_t head[KLOG_XFRAME_HDR_SIZE];
	char range[64];
	struct stat st;
	uint64_t avail;
	uint32_t magic;
	ssize_t n;

	*s = (struct klog_xstep){ .off = off };
	if (fstat(f->fd, &st))
		return -errno;
	avail = (uint64_t)st.st_size > off ? (uint64_t)st.st_size - off : 0;
	if (!avail) {
		s->kind = KLOG_XK_END;
		snprintf(s->why, sizeof(s->why), "no trailer: the export was cut short at LSN %"
			 PRIu64 "%s", expect, range_of(f, range, sizeof(range)));
		return 0;
	}
	if ((n = read_at(f, head, sizeof(head), off)) < 0)
		return (int)n;
	memcpy(&magic, head, sizeof(magic));
	if (n >= (ssize_t)sizeof(magic) && le32toh(magic) == KLOG_XEND_MAGIC) {
		trailer(f, s, head, (size_t)n, avail, expect);
		return 0;
	}
	return frame(f, s, head, (size_t)n, avail, expect);
}

/* Whether a whole frame (of any LSN) or a good trailer of this header starts at off. */
static bool whole_at(struct klog_xfile *f, uint64_t off)
{
	uint8_t head[KLOG_XEND_SIZE];
	struct klog_xstep s;
	struct klog_xend t;
	char why[8];

	if (read_at(f, head, sizeof(head), off) == sizeof(head) &&
	    !klog_xend_decode(head, &t, why, sizeof(why)) && t.hdr_crc == f->h.crc)
		return true;
	return !klog_xfile_step(f, off, 0, &s) && s.whole;
}

int klog_xfile_resync(struct klog_xfile *f, uint64_t off, uint64_t *found)
{
	uint8_t chunk[4096];

	for (uint64_t base = (off + KLOG_REC_ALIGN) & ~(uint64_t)(KLOG_REC_ALIGN - 1);;
	     base += sizeof(chunk)) {
		ssize_t n = read_at(f, chunk, sizeof(chunk), base);

		if (n < 0)
			return (int)n;
		for (size_t i = 0; i + 4 <= (size_t)n; i += KLOG_REC_ALIGN) {
			uint32_t magic;

			memcpy(&magic, chunk + i, sizeof(magic));
			magic = le32toh(magic);
			if ((magic == KLOG_XFRAME_MAGIC || magic == KLOG_XEND_MAGIC) &&
			    whole_at(f, base + i)) {
				*found = base + i;
				return 0;
			}
		}
		if ((size_t)n < sizeof(chunk))
			return -ENOENT;
	}
}
