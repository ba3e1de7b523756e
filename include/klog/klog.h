/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * klog.h - libklog, the public API.
 *
 * Every function returns 0 (or a byte count) on success and a negative errno
 * value on failure; none reports through errno.
 */
#ifndef KLOG_H
#define KLOG_H

#include <stddef.h>
#include <stdint.h>

#include <klog/klog_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KLOG_API __attribute__((visibility("default")))

/* The fields of a request or reply header, in host byte order. */
struct klog_msg {
	uint8_t version;
	uint8_t opcode;
	uint16_t flags;
	uint32_t client_id;
	uint16_t status;
	uint16_t len;
	uint64_t request_id;
	uint64_t txid;
	uint64_t lsn;
};

/*
 * klog_encode_append - write an APPEND datagram (header + payload) to buf.
 * RETURN VALUE: the datagram's length; -EINVAL if len is 0 or above
 * KLOG_MAX_RECORD, -ENOSPC if cap is too small.
 */
KLOG_API int klog_encode_append(void *buf, size_t cap, uint32_t client_id,
				uint64_t request_id, uint64_t txid,
				const void *payload, size_t len);

/*
 * klog_decode - parse the header of a klog datagram of n bytes into msg.
 * RETURN VALUE: 0; -EBADMSG if it is shorter than a header or has the wrong
 * magic; -EPROTO if its version is not 1.
 */
KLOG_API int klog_decode(const void *buf, size_t n, struct klog_msg *msg);

/* klog_status_str - a short name for a reply status ("ok", "full", ...). */
KLOG_API const char *klog_status_str(unsigned int status);

/* klog_stat_name - the field name of statistics counter id, or NULL. */
KLOG_API const char *klog_stat_name(unsigned int id);

#ifdef __cplusplus
}
#endif

#endif /* KLOG_H */
