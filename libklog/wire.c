// SPDX-License-Identifier: GPL-2.0-only
/* wire.c - encoding and decoding of protocol v1 headers (doc/protocol.md). */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <klog/klog.h>

#include "format.h"

int klog_encode(void *buf, size_t cap, const struct klog_msg *m, const void *payload)
{
	struct klog_hdr h = {
		.magic = htobe32(KLOG_MAGIC),
		.version = m->version ? m->version : KLOG_VERSION_1,
		.opcode = m->opcode,
		.flags = htobe16(m->flags),
		.client_id = htobe32(m->client_id),
		.status = htobe16(m->status),
		.len = htobe16(m->len),
		.request_id = htobe64(m->request_id),
		.txid = htobe64(m->txid),
		.lsn = htobe64(m->lsn),
	};

	if (m->len > KLOG_MAX_RECORD || (m->len && !payload))
		return -EINVAL;
	if (cap < sizeof(h) + m->len)
		return -ENOSPC;
	memcpy(buf, &h, sizeof(h));
	if (m->len)
		memcpy((char *)buf + sizeof(h), payload, m->len);
	return (int)(sizeof(h) + m->len);
}

int klog_encode_append(void *buf, size_t cap, uint32_t client_id, uint64_t request_id,
		       uint64_t txid, const void *payload, size_t len)
{
	struct klog_msg m = {
		.opcode = KLOG_OP_APPEND,
		.flags = KLOG_F_CRC,
		.client_id = client_id,
		.len = (uint16_t)len,
		.request_id = request_id,
		.txid = txid,
	};

	if (len == 0 || len > KLOG_MAX_RECORD)
		return -EINVAL;
	m.lsn = klog_crc32c(0, payload, len);
	return klog_encode(buf, cap, &m, payload);
}

int klog_decode(const void *buf, size_t n, struct klog_msg *msg)
{
	struct klog_hdr h;

	if (n < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (be32toh(h.magic) != KLOG_MAGIC)
		return -EBADMSG;
	if (h.version != KLOG_VERSION_1)
		return -EPROTO;
	*msg = (struct klog_msg){
		.version = h.version,
		.opcode = h.opcode,
		.flags = be16toh(h.flags),
		.client_id = be32toh(h.client_id),
		.status = be16toh(h.status),
		.len = be16toh(h.len),
		.request_id = be64toh(h.request_id),
		.txid = be64toh(h.txid),
		.lsn = be64toh(h.lsn),
	};
	return 0;
}

const char *klog_status_str(unsigned int status)
{
	static const char *const names[KLOG_ST__MAX] = {
		[KLOG_ST_OK] = "ok",
		[KLOG_ST_FULL] = "full",
		[KLOG_ST_BADLEN] = "bad length",
		[KLOG_ST_TOOBIG] = "too big",
		[KLOG_ST_VERSION] = "bad version",
		[KLOG_ST_OPCODE] = "bad opcode",
		[KLOG_ST_FLAGS] = "bad flags",
		[KLOG_ST_BUSY] = "busy",
		[KLOG_ST_NOTREADY] = "not ready",
		[KLOG_ST_CONFLICT] = "conflict",
		[KLOG_ST_STALE] = "stale",
		[KLOG_ST_NOLSN] = "no such lsn",
		[KLOG_ST_NOTYET] = "not durable yet",
		[KLOG_ST_TRIMMED] = "trimmed",
		[KLOG_ST_LOST] = "lost by the server",
		[KLOG_ST_UNAVAIL] = "unavailable",
		[KLOG_ST_CORRUPT] = "corrupt (stored as a tombstone)",
		[KLOG_ST_BADFIELD] = "a field that must be zero is not",
	};

	return status < KLOG_ST__MAX && names[status] ? names[status] : "unknown";
}

const char *klog_stat_name(unsigned int id)
{
#define KLOG_STAT_NAME(name) #name,
	static const char *const names[] = { KLOG_STATS(KLOG_STAT_NAME) };
#undef KLOG_STAT_NAME

	return id < KLOG_STAT__MAX ? names[id] : NULL;
}
