/* SPDX-License-Identifier: GPL-2.0-only */
/* klogctl.h - the subcommands of klogctl, one file each. */
#ifndef KLOGCTL_H
#define KLOGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct klog_reader;

/*
 * Where a command reads a log: --dir DIR, --nats URL[,URL...] --stream
 * NAME, --server HOST[:PORT], or --file FILE, an export (source.c).
 */
struct ctl_src {
	const char *dir, *nats, *stream, *server, *file;
	unsigned int timeout_ms, retries; /* --server: resends (klog_remote_opts; 0: default) */
	char name[96]; /* for messages: DIR, "stream NAME", "server HOST" or FILE */
};

/* Their entries in a getopt_long table: 'd', 'N', 'T', and --file alone (no short one). */
#define CTL_SRC_FILE 0x100
#define CTL_SRC_OPTIONS \
	{ "dir", required_argument, NULL, 'd' }, \
	{ "nats", required_argument, NULL, 'N' }, \
	{ "stream", required_argument, NULL, 'T' }, \
	{ "file", required_argument, NULL, CTL_SRC_FILE }
#define CTL_SRC_SHORT "d:N:T:"
/*
 * --server as a source: apart, because bench's --server is where it
 * appends (verify, which shares bench's options, turns it into this).
 */
#define CTL_SRC_SERVER 'R'
#define CTL_SRC_SERVER_OPTION { "server", required_argument, NULL, CTL_SRC_SERVER }

/* Take option o (with arg) if it is one of the source's; true if it was. */
bool ctl_src_opt(struct ctl_src *s, int o, const char *arg);
/* At most one source, given whole (and one if required); 0, or 2 after a usage message. */
int ctl_src_check(struct ctl_src *s, const char *cmd, bool required);
bool ctl_src_given(const struct ctl_src *s);
int ctl_src_open(const struct ctl_src *s, struct klog_reader **r);
/* Say why ctl_src_open() failed with err, naming the source; returns 1. */
int ctl_src_open_fail(const struct ctl_src *s, int err);
/* What a reader's error means, in words (its detail follows). */
const char *ctl_src_err_str(const struct ctl_src *s, int err);

/* Each is main's argc - 1, argv + 1 with argv[0] "klogctl CMD", getopt's messages' lead. */
int cmd_bench(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_allow(int argc, char **argv);
int cmd_trim(int argc, char **argv);
int cmd_status(int argc, char **argv);
/* Seconds without progress before klogctl status calls the drain stalled (--stall). */
#define CTL_STALL_S_DEFAULT 5

/* How records are printed (output.c): dump's line, or a JSON line. */
struct ctl_out {
	bool json;
	bool payload;     /* with the payload, base64 */
	uint64_t next;    /* the LSN after the last one printed */
	uint64_t printed;
	uint64_t tombstones; /* of those printed */
};

/* What klogctl says of a tombstone (KLOG_RECORD_CORRUPT, klog_read()'s -EILSEQ). */
#define CTL_TOMBSTONE \
	"a tombstone: the record's bytes were damaged before they were stored (corrupt)"

/*
 * Print one record as out (ctx) says, a klog_iter_fn: text "LSN LEN TXID
 * CRC [BASE64]", or {"lsn":N,"txid":N,"len":N,"crc":"0x...","payload":"..."}.
 * A tombstone is "LSN 0 TXID CRC CORRUPT", or {...,"len":0,"crc":"0x...",
 * "corrupt":true} with no payload, and counted in out->tombstones.
 * RETURN VALUE: 0; -EIO if standard output fails.
 */
int ctl_print_record(const struct klog_record *rec, const void *payload, void *ctx);

/*
 * Parse SOURCE and the options of read (from NULL: none), dump (--from,
 * --to; out not NULL: --payload, --json) and export (output not NULL:
 * --output); -h exits.  Returns 0, or 2 after a usage message.
 */
int ctl_src_args(int argc, char **argv, struct ctl_src *src, uint64_t *from, uint64_t *to,
		 struct ctl_out *out, const char **output);

/* Print after lead why r could not read on (source and detail); returns 1, the exit status. */
int ctl_read_fail(const struct ctl_src *src, struct klog_reader *r, const char *lead, int err);

/*
 * Check the log of src with klog_verify() or klog_verify_nats(): each
 * problem on its own line and a summary line on standard output.  Returns
 * the exit status: 0 clean, 1.
 */
int ctl_verify_log(const struct ctl_src *src, bool keep_going);

/* Shared by the subcommands. */
void ctl_usage(FILE *f);
int ctl_fail(const char *what, int err);

/*
 * Command cmd's synopsis, and with full its text, the SOURCE it reads and
 * the exit statuses: what `klogctl CMD --help` prints (klogctl.c).
 */
void ctl_cmd_usage(FILE *f, const char *cmd, bool full);

/*
 * Exit statuses, the same in every command (but status, a health check):
 * 0 done; 1 the operation failed; 2 a usage error.
 * A usage error of cmd: its synopsis on standard error; returns 2.
 */
int ctl_usage_error(const char *cmd);

/*
 * *v = arg, a decimal number lo..hi; else say so, naming cmd, opt (an
 * option or an argument's name) and the range, and return 2.
 */
int ctl_num(const char *cmd, const char *opt, const char *arg, uint64_t lo, uint64_t hi,
	    uint64_t *v);

/* server (of option opt) is HOST[:PORT] with PORT 1..65535: 0, or 2 after a message. */
int ctl_server_check(const char *cmd, const char *opt, const char *server);

/* A client's or a server open's err, in klog_strerror()'s words, after what; returns 1. */
int ctl_client_fail(const char *what, int err);

#endif
